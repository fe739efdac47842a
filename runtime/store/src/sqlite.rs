//! The SQLite store: one connection behind a mutex, in WAL mode with `synchronous=FULL`, and the
//! helpers every entity's queries share.

use std::{
    path::{Path, PathBuf},
    sync::{Mutex, MutexGuard, PoisonError},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use rusqlite::{
    Connection, OptionalExtension as _, Params, Row, Transaction, TransactionBehavior, ffi,
    types::Type,
};

use crate::{
    Quotas, Result, StoreError,
    files::{create_private_dir, io_context, private_file, random_hex, warn_if_shared},
    schema::migrate,
};

pub(crate) const DB_FILE: &str = "twiml-edge.db";
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_PAGE_SIZE: u32 = 1000;

/// Which page of a listing to return.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// 0-based page number.
    pub page: u32,
    /// Items per page, 1..=1000 (clamped).
    pub page_size: u32,
}

/// One page of an account's resources, oldest first.
#[derive(Debug, Clone)]
pub struct Listing<T> {
    /// The page's items.
    pub items: Vec<T>,
    /// Number of such resources in the account.
    pub total: u64,
    /// Whether a later page has items.
    pub has_more: bool,
}

/// The store: one SQLite connection behind a mutex plus the blob directory.
#[derive(Debug)]
pub struct SqliteStore {
    pub(crate) conn: Mutex<Connection>,
    pub(crate) dir: PathBuf,
    pub(crate) quotas: Quotas,
    /// Held from writing a blob until the row that names it commits, and from finding a blob
    /// unnamed until it is removed, so a removal never takes a blob an upload is about to name.
    pub(crate) blobs: Mutex<()>,
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `data_dir`, migrating a fresh database.
    ///
    /// The folder is made readable by its owner only when it is created here (it holds every
    /// account's auth token), and the database and blobs always are.
    pub fn open(data_dir: &Path) -> Result<Self> {
        create_private_dir(data_dir)
            .map_err(|e| io_context(e, format_args!("failed to create {data_dir:?}")))?;
        warn_if_shared(data_dir);
        let blobs = data_dir.join("blobs").join("sha256");
        create_private_dir(&blobs)
            .map_err(|e| io_context(e, format_args!("failed to create {blobs:?}")))?;
        let path = data_dir.join(DB_FILE);
        // Created here first so SQLite, which gives its WAL and shared-memory files the
        // database's mode, never makes any of them readable by others.
        private_file(&path)
            .map_err(|e| io_context(e, format_args!("failed to create {path:?}")))?;
        let mut conn = Connection::open(&path)?;
        // First, so that the pragmas below wait for a CLI or server holding a lock.
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(path = %path.display(), mode, "database is not in WAL mode");
        }
        // FULL fsyncs the WAL on every commit: an acknowledged write survives power loss.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        migrate(&mut conn, &path)?;
        tracing::debug!(path = %path.display(), "store opened");
        Ok(Self {
            conn: Mutex::new(conn),
            dir: data_dir.to_owned(),
            quotas: Quotas::default(),
            blobs: Mutex::new(()),
        })
    }

    /// The same store, holding accounts to `quotas`.
    pub fn with_quotas(mut self, quotas: Quotas) -> Self {
        self.quotas = quotas;
        self
    }

    /// What each account may keep.
    pub fn quotas(&self) -> Quotas {
        self.quotas
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-transaction rolled it back when the transaction dropped, so the connection
        // is still consistent.
        lock(&self.conn)
    }
}

/// A `count(*)`, `total(...)` or other single number.
pub(crate) fn count(conn: &Connection, sql: &str, params: impl Params) -> Result<u64> {
    let value: f64 = conn.query_row(sql, params, |r| r.get::<_, f64>(0))?;
    Ok(value as u64)
}

/// A row type with a `SELECT .. FROM <TABLE> x` so lookups, listings and deletes share one path.
pub(crate) trait Record: Sized {
    const TABLE: &'static str;
    const SELECT: &'static str;
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self>;
}

pub(crate) fn find<T: Record>(
    conn: &Connection,
    filter: &str,
    params: impl Params,
) -> Result<Option<T>> {
    let mut stmt = conn.prepare_cached(&format!("{} WHERE {filter}", T::SELECT))?;
    Ok(stmt.query_row(params, T::from_row).optional()?)
}

pub(crate) fn find_all<T: Record>(
    conn: &Connection,
    tail: &str,
    params: impl Params,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(&format!("{} {tail}", T::SELECT))?;
    let rows = stmt
        .query_map(params, T::from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub(crate) fn listing<T: Record>(
    conn: &mut Connection,
    account_sid: &str,
    page: Page,
) -> Result<Listing<T>> {
    let size = page.page_size.clamp(1, MAX_PAGE_SIZE);
    let offset = u64::from(page.page) * u64::from(size);
    // One transaction so `total` and `items` come from the same snapshot.
    let tx = conn.transaction()?;
    let count = format!("SELECT count(*) FROM {} WHERE account_sid = ?1", T::TABLE);
    let total = u64::try_from(tx.query_row(&count, [account_sid], |r| r.get::<_, i64>(0))?)
        .unwrap_or_default();
    let items: Vec<T> = find_all(
        &tx,
        "WHERE x.account_sid = ?1 ORDER BY x.date_created, x.rowid LIMIT ?2 OFFSET ?3",
        (account_sid, size, sql_u64(offset)),
    )?;
    let has_more = offset + (items.len() as u64) < total;
    Ok(Listing {
        items,
        total,
        has_more,
    })
}

pub(crate) fn delete<T: Record>(conn: &Connection, account_sid: &str, sid: &str) -> Result<bool> {
    let sql = format!(
        "DELETE FROM {} WHERE account_sid = ?1 AND sid = ?2",
        T::TABLE
    );
    Ok(conn.execute(&sql, (account_sid, sid))? > 0)
}

/// A transaction that takes the database's write lock as it begins (waiting up to the busy
/// timeout), so nothing another connection or process writes can fall between what it reads and
/// what it writes.
pub(crate) fn write_tx(conn: &mut Connection) -> Result<Transaction<'_>> {
    Ok(conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Maps a unique-constraint failure to `Conflict(message)`, anything else to `Sqlite`.
pub(crate) fn conflict(
    message: impl FnOnce() -> String,
) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| match e.sqlite_error().map(|f| f.extended_code) {
        Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => {
            StoreError::Conflict(message())
        }
        _ => e.into(),
    }
}

pub(crate) fn get_u64(r: &Row<'_>, i: usize) -> rusqlite::Result<u64> {
    u64::try_from(r.get::<_, i64>(i)?)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Integer, Box::new(e)))
}

/// SQLite integers are i64; sizes and durations never come near the limit.
pub(crate) fn sql_u64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| sql_u64(d.as_secs()))
}

pub(crate) fn new_sid(prefix: &str) -> Result<String> {
    Ok(format!("{prefix}{}", random_hex()?))
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use sha2::{Digest, Sha256};

    use crate::{testing::*, *};

    #[test]
    fn opens_with_durable_pragmas() {
        let (dir, store) = open();
        assert!(dir.path().join(DB_FILE).is_file());
        assert!(dir.path().join("blobs/sha256").is_dir());
        let conn = store.lock();
        let pragma = |name: &str| {
            conn.pragma_query_value(None, name, |r| r.get::<_, rusqlite::types::Value>(0))
                .unwrap()
        };
        assert_eq!(
            pragma("journal_mode"),
            rusqlite::types::Value::Text("wal".into())
        );
        assert_eq!(pragma("synchronous"), rusqlite::types::Value::Integer(2)); // FULL
        assert_eq!(pragma("foreign_keys"), rusqlite::types::Value::Integer(1));
        assert_eq!(pragma("user_version"), rusqlite::types::Value::Integer(3));
    }

    #[test]
    fn tenancy() {
        let (_dir, store) = open();
        let a = store.create_account("A").unwrap().sid;
        let b = store.create_account("B").unwrap().sid;
        let v = blob(&store, b"wasm");
        let f = store.create_function(&a, "f", v.bytes, &[]).unwrap();
        let bin = store.create_bin(&a, "bin", "<Response/>").unwrap();
        let d = store
            .create_domain(&a, &domain_fields("a.sip.example.com"))
            .unwrap();

        assert_eq!(store.function(&b, &f.sid).unwrap(), None);
        assert_eq!(store.function_by_name(&b, "f").unwrap(), None);
        assert_eq!(store.function_versions(&b, &f.sid).unwrap(), None);
        assert_eq!(
            store.add_function_version(&b, &f.sid, v.bytes).unwrap(),
            None
        );
        assert_eq!(
            store.set_allowed_hosts(&b, &f.sid, &["x".into()]).unwrap(),
            None
        );
        assert!(!store.delete_function(&b, &f.sid).unwrap());
        assert_eq!(store.functions(&b, ALL).unwrap().total, 0);

        assert_eq!(store.bin(&b, &bin.sid).unwrap(), None);
        assert_eq!(
            store
                .update_bin(&b, &bin.sid, Some("stolen"), Some("x"))
                .unwrap(),
            None
        );
        assert!(!store.delete_bin(&b, &bin.sid).unwrap());
        assert_eq!(store.bins(&b, ALL).unwrap().total, 0);

        assert_eq!(store.domain(&b, &d.sid).unwrap(), None);
        assert_eq!(
            store
                .update_domain(&b, &d.sid, &domain_fields("b.sip.example.com"))
                .unwrap(),
            None
        );
        assert!(!store.delete_domain(&b, &d.sid).unwrap());
        assert_eq!(store.domains(&b, ALL).unwrap().total, 0);

        // Nothing of A's changed, and routing still finds it.
        assert_eq!(store.function_by_sid(&f.sid).unwrap(), Some(f.clone()));
        assert_eq!(
            store.function_versions(&a, &f.sid).unwrap().unwrap().len(),
            1
        );
        assert_eq!(store.bin_by_sid(&bin.sid).unwrap(), Some(bin));
        assert_eq!(store.domain_by_sid(&d.sid).unwrap(), Some(d.clone()));
        assert_eq!(store.domain_by_name("a.sip.example.com").unwrap(), Some(d));

        store
            .record_calls(&[call(&a, 1, Some(&f.sid), None)])
            .unwrap();
        assert!(
            store
                .calls(
                    &b,
                    &CallFilter {
                        limit: 10,
                        ..CallFilter::default()
                    }
                )
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .calls(
                    &a,
                    &CallFilter {
                        limit: 10,
                        ..CallFilter::default()
                    }
                )
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn rows_need_an_existing_account() {
        let (_dir, store) = open();
        assert!(matches!(
            store.create_bin("ACmissing", "x", ""),
            Err(StoreError::Sqlite(_))
        ));
    }

    #[test]
    fn paging() {
        let (_dir, store) = open();
        let a = store.create_account("A").unwrap().sid;
        let b = store.create_account("B").unwrap().sid;
        store
            .create_domain(&b, &domain_fields("b.sip.example.com"))
            .unwrap();
        let mut created: Vec<Domain> = (0..5)
            .map(|i| {
                store
                    .create_domain(&a, &domain_fields(&format!("d{i}.sip.example.com")))
                    .unwrap()
            })
            .collect();
        // Give them distinct ages that disagree with sid order, so the order tested is by age.
        created.sort_by(|x, y| y.sid.cmp(&x.sid));
        for (i, d) in created.iter_mut().enumerate() {
            d.date_created = 1_000 + i as i64;
            store
                .lock()
                .execute(
                    "UPDATE domains SET date_created = ?1 WHERE sid = ?2",
                    (d.date_created, &d.sid),
                )
                .unwrap();
        }

        let page = |page, page_size| store.domains(&a, Page { page, page_size }).unwrap();
        let mut seen = Vec::new();
        for (n, (len, more)) in [(2, true), (2, true), (1, false)].into_iter().enumerate() {
            let listing = page(n as u32, 2);
            assert_eq!(
                (listing.items.len(), listing.total, listing.has_more),
                (len, 5, more),
                "page {n}"
            );
            seen.extend(listing.items);
        }
        assert_eq!(seen, created, "oldest first across pages");
        let beyond = page(3, 2);
        assert_eq!(
            (beyond.items.len(), beyond.total, beyond.has_more),
            (0, 5, false)
        );
        let exact = page(0, 5);
        assert_eq!((exact.items.len(), exact.has_more), (5, false));
        assert_eq!(
            page(0, 0).items.len(),
            1,
            "page_size is clamped to at least 1"
        );

        for i in 0..3 {
            store.create_bin(&a, &format!("bin{i}"), "").unwrap();
        }
        let bins = store
            .bins(
                &a,
                Page {
                    page: 1,
                    page_size: 2,
                },
            )
            .unwrap();
        assert_eq!((bins.items.len(), bins.total, bins.has_more), (1, 3, false));
    }

    #[test]
    fn reopen_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        let (account, function, bin, domain) = {
            let store = SqliteStore::open(dir.path()).unwrap();
            let account = store.create_account("A").unwrap();
            let v1 = blob(&store, b"v1");
            let function = store
                .create_function(&account.sid, "f", v1.bytes, &[])
                .unwrap();
            let function = store
                .add_function_version(&account.sid, &function.sid, blob(&store, b"v2").bytes)
                .unwrap()
                .unwrap();
            let bin = store.create_bin(&account.sid, "b", "<Response/>").unwrap();
            let domain = store
                .create_domain(&account.sid, &domain_fields("x.sip.example.com"))
                .unwrap();
            store
                .record_calls(&[call(
                    &account.sid,
                    1,
                    Some(&function.sid),
                    Some(&domain.sid),
                )])
                .unwrap();
            (account, function, bin, domain)
        };
        let store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(store.account(&account.sid).unwrap(), Some(account.clone()));
        assert_eq!(
            store.function(&account.sid, &function.sid).unwrap(),
            Some(function.clone())
        );
        assert_eq!(
            store
                .function_versions(&account.sid, &function.sid)
                .unwrap()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(store.blob(&function.version.sha256).unwrap(), b"v2");
        assert_eq!(store.bin(&account.sid, &bin.sid).unwrap(), Some(bin));
        assert_eq!(
            store.domain(&account.sid, &domain.sid).unwrap(),
            Some(domain)
        );
        assert_eq!(
            store
                .calls(
                    &account.sid,
                    &CallFilter {
                        limit: 10,
                        ..CallFilter::default()
                    }
                )
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn two_handles_see_each_others_writes() {
        let dir = tempfile::tempdir().unwrap();
        let (cli, server) = (
            SqliteStore::open(dir.path()).unwrap(),
            SqliteStore::open(dir.path()).unwrap(),
        );
        let account = cli.create_account("A").unwrap();
        assert_eq!(server.account(&account.sid).unwrap(), Some(account.clone()));
        let bin = server.create_bin(&account.sid, "b", "<Response/>").unwrap();
        assert_eq!(cli.bin_by_sid(&bin.sid).unwrap(), Some(bin));
        let sha = cli.put_blob(b"shared").unwrap();
        assert_eq!(server.blob(&sha).unwrap(), b"shared");
        // Uniqueness holds across handles.
        cli.create_domain(&account.sid, &domain_fields("x.sip.example.com"))
            .unwrap();
        assert!(matches!(
            server.create_domain(&account.sid, &domain_fields("X.sip.example.com")),
            Err(StoreError::Conflict(_))
        ));
    }

    #[cfg(unix)]
    #[test]
    fn the_store_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let store = SqliteStore::open(&data).unwrap();
        store
            .create_function(&store.create_account("A").unwrap().sid, "f", b"wasm", &[])
            .unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("blobs")), 0o700);
        for entry in fs::read_dir(&data).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                assert_eq!(mode(&path), 0o600, "{path:?}");
            }
        }
        let sha = hex::encode(Sha256::digest(b"wasm"));
        assert_eq!(mode(&store.blob_path(&sha)), 0o600);
        assert_eq!(mode(store.blob_path(&sha).parent().unwrap()), 0o700);
    }
}
