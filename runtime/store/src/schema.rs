//! The schema, as migrations run in order by `rusqlite_migration`.

use std::path::Path;

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use crate::{Result, StoreError};

/// The schema, one migration a step; a database records how many it has run in `user_version`.
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(SCHEMA_1),
        // Call records know their size, so each account's log is bounded in bytes too; blobs are
        // found by hash, so one no version names can be removed.
        M::up(
            "ALTER TABLE calls ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
             CREATE INDEX function_versions_by_blob ON function_versions(sha256);",
        ),
        M::up(SCHEMA_3),
    ])
}

// `functions.version_sid` and `function_versions.function_sid` point at each other; the first is
// deferred so a function and its first version can be inserted in one transaction.
const SCHEMA_1: &str = "
CREATE TABLE accounts (
    sid TEXT PRIMARY KEY,
    auth_token TEXT NOT NULL,
    friendly_name TEXT NOT NULL,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL,
    validate_signatures INTEGER NOT NULL DEFAULT 1,
    enhanced_sip INTEGER NOT NULL DEFAULT 0,
    twiml_warnings_only INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE functions (
    sid TEXT PRIMARY KEY,
    account_sid TEXT NOT NULL REFERENCES accounts(sid),
    friendly_name TEXT NOT NULL,
    version_sid TEXT NOT NULL REFERENCES function_versions(sid) DEFERRABLE INITIALLY DEFERRED,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX functions_by_name ON functions(account_sid, friendly_name);
CREATE INDEX functions_by_date ON functions(account_sid, date_created, sid);

CREATE TABLE function_versions (
    sid TEXT PRIMARY KEY,
    function_sid TEXT NOT NULL REFERENCES functions(sid) ON DELETE CASCADE,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    date_created INTEGER NOT NULL
) STRICT;
CREATE INDEX function_versions_by_function ON function_versions(function_sid, date_created);

CREATE TABLE bins (
    sid TEXT PRIMARY KEY,
    account_sid TEXT NOT NULL REFERENCES accounts(sid),
    friendly_name TEXT NOT NULL,
    template TEXT NOT NULL,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX bins_by_name ON bins(account_sid, friendly_name);
CREATE INDEX bins_by_date ON bins(account_sid, date_created, sid);

CREATE TABLE domains (
    sid TEXT PRIMARY KEY,
    account_sid TEXT NOT NULL REFERENCES accounts(sid),
    domain_name TEXT NOT NULL,
    friendly_name TEXT,
    voice_url TEXT,
    voice_method TEXT NOT NULL,
    voice_fallback_url TEXT,
    voice_fallback_method TEXT NOT NULL,
    voice_status_callback_url TEXT,
    voice_status_callback_method TEXT NOT NULL,
    sip_registration INTEGER NOT NULL,
    auth_type TEXT NOT NULL,
    secure INTEGER NOT NULL,
    emergency_calling_enabled INTEGER NOT NULL,
    byoc_trunk_sid TEXT,
    emergency_caller_sid TEXT,
    -- domain_base(domain_name): unique, so no domain can be another's regional form.
    base_name TEXT NOT NULL,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX domains_by_name ON domains(base_name);
CREATE INDEX domains_by_date ON domains(account_sid, date_created, sid);

-- No foreign key: the log is history and must never make a batch of records fail.
CREATE TABLE calls (
    id INTEGER PRIMARY KEY,
    call_sid TEXT NOT NULL,
    account_sid TEXT NOT NULL,
    domain_sid TEXT,
    target TEXT NOT NULL,
    function_sid TEXT,
    outcome TEXT NOT NULL,
    error TEXT,
    fallback TEXT,
    logs TEXT NOT NULL,
    twiml TEXT,
    elapsed_us INTEGER NOT NULL,
    date_created INTEGER NOT NULL
) STRICT;
CREATE INDEX calls_by_date ON calls(account_sid, date_created);
CREATE INDEX calls_by_function ON calls(account_sid, function_sid, date_created);
CREATE INDEX calls_by_domain ON calls(account_sid, domain_sid, date_created);
";

// Functions' environment variables and allowed outbound hosts, and each account's key-value
// data. Key-value keys are BLOBs so they sort bytewise and hold any string; `kv_usage` is kept in
// step with `kv` by every write, in its transaction, so quotas are checked without summing `kv`.
const SCHEMA_3: &str = "
ALTER TABLE functions ADD COLUMN allowed_hosts TEXT NOT NULL DEFAULT '[]';

CREATE TABLE variables (
    sid TEXT PRIMARY KEY,
    account_sid TEXT NOT NULL REFERENCES accounts(sid),
    function_sid TEXT NOT NULL REFERENCES functions(sid) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    secret INTEGER NOT NULL,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX variables_by_key ON variables(function_sid, key);

CREATE TABLE kv (
    account_sid TEXT NOT NULL REFERENCES accounts(sid),
    bucket TEXT NOT NULL,
    key BLOB NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (account_sid, bucket, key)
) STRICT;

CREATE TABLE kv_usage (
    account_sid TEXT PRIMARY KEY REFERENCES accounts(sid),
    bytes INTEGER NOT NULL CHECK (bytes >= 0),
    buckets INTEGER NOT NULL CHECK (buckets >= 0)
) STRICT;
";

/// Brings the schema up to date; refuses a database written by a newer build.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let migrations = migrations();
    let migrated = migrations.to_latest(conn).or_else(|first| {
        // A CLI and a server opening a fresh database together: one of them created the schema
        // while the other waited; the second attempt finds it done.
        tracing::debug!(error = %first, "migrating again");
        migrations.to_latest(conn)
    });
    migrated.map_err(|e| match e {
        rusqlite_migration::Error::RusqliteError { err, .. } => StoreError::Sqlite(err),
        other => StoreError::Corrupt(format!(
            "database {path:?} cannot be brought to this build's schema: {other}; use a newer \
             twiml-edge"
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{sqlite::DB_FILE, *};

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(SqliteStore::open(dir.path()).unwrap());
        Connection::open(dir.path().join(DB_FILE))
            .unwrap()
            .pragma_update(None, "user_version", 4)
            .unwrap();
        let err = SqliteStore::open(dir.path()).unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt(m) if m.contains("use a newer twiml-edge")),
            "{err}"
        );
    }

    #[test]
    fn functions_of_schema_2_get_no_allowed_hosts() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
        migrations().to_version(&mut conn, 2).unwrap();
        conn.execute_batch(
            "BEGIN;
             INSERT INTO accounts (sid, auth_token, friendly_name, date_created, date_updated)
                 VALUES ('AC1', 'token', 'A', 1, 1);
             INSERT INTO functions (sid, account_sid, friendly_name, version_sid, date_created,
                 date_updated) VALUES ('ZH1', 'AC1', 'f', 'ZN1', 1, 2);
             INSERT INTO function_versions (sid, function_sid, sha256, size, date_created)
                 VALUES ('ZN1', 'ZH1', 'ab', 4, 1);
             COMMIT;",
        )
        .unwrap();
        drop(conn);

        let store = SqliteStore::open(dir.path()).unwrap();
        let f = store.function("AC1", "ZH1").unwrap().unwrap();
        assert_eq!(f.allowed_hosts, Vec::<String>::new());
        assert_eq!((f.friendly_name.as_str(), f.date_updated), ("f", 2));
        assert_eq!(f.version.sid, "ZN1");
        // The new tables work on the migrated database.
        assert_eq!(store.variables("AC1", "ZH1").unwrap(), Some(Vec::new()));
        store.kv_set("AC1", "b", "k", b"v").unwrap();
        assert_eq!(store.kv_get("AC1", "b", "k").unwrap(), Some(b"v".to_vec()));
    }
}
