//! Durable embedded store: accounts, functions, TwiML bins, SIP domains and the call log in SQLite
//! (`DATA/twiml-edge.db`), wasm blobs content-addressed beside it (`DATA/blobs/sha256/ab/ab..`).
//!
//! Every method that takes an `account_sid` only reads or changes that account's rows, so a sid of
//! another account behaves exactly like a missing one; only the `*_by_sid`/`all_*` lookups used for
//! routing cross accounts.

use std::fmt::Display;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Params, Row, ToSql, Transaction, ffi, params};
use rusqlite_migration::{M, Migrations};
use sha2::{Digest, Sha256};

pub use crate::sandbox::GuestLog;

/// Result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique field is taken (domain_name, or a function/bin friendly_name within the account).
    #[error("{0}")]
    Conflict(String),
    /// A blob on disk does not match its hash, or the schema is newer than this build.
    #[error("{0}")]
    Corrupt(String),
    /// The account is at one of its [`Quotas`]; the message names it and what to do.
    #[error("{0}")]
    Quota(String),
    /// The database failed.
    #[error("store error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file system failed (a missing blob is `NotFound`).
    #[error("store i/o error: {0}")]
    Io(#[from] io::Error),
}

const DB_FILE: &str = "twiml-edge.db";
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Rows kept per account in the call log; older ones are trimmed.
pub const CALL_LOG_ROWS: u32 = 10_000;
/// Bytes of call records kept per account (logs, TwiML, errors); older ones are trimmed.
pub const CALL_LOG_BYTES: u64 = 16 << 20;
const MAX_PAGE_SIZE: u32 = 1000;

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

/// An account: the tenant every other resource belongs to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Account {
    /// `AC` + 32 hex.
    pub sid: String,
    /// 32 hex; the HTTP Basic password and the request-signing key.
    pub auth_token: String,
    /// Name shown to people.
    pub friendly_name: String,
    /// Creation time, unix seconds.
    pub date_created: i64,
    /// Last change, unix seconds.
    pub date_updated: i64,
    /// Whether webhooks must carry a valid `X-Twilio-Signature` (default true).
    pub validate_signatures: bool,
    /// Whether SIP calls get the enhanced SIP parameters (default false).
    pub enhanced_sip: bool,
    /// Whether TwiML check failures are only logged instead of failing the call (default false).
    pub twiml_warnings_only: bool,
}

/// Changes to an account; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct AccountUpdate {
    /// New friendly name.
    pub friendly_name: Option<String>,
    /// New auth token (rotation).
    pub auth_token: Option<String>,
    /// New `validate_signatures`.
    pub validate_signatures: Option<bool>,
    /// New `enhanced_sip`.
    pub enhanced_sip: Option<bool>,
    /// New `twiml_warnings_only`.
    pub twiml_warnings_only: Option<bool>,
}

/// A stored wasm blob, as returned by [`Store::put_blob`] plus its length.
#[derive(Debug, Clone)]
struct BlobRef {
    /// Lowercase hex SHA-256 of the blob.
    sha256: String,
    /// Length in bytes.
    size: u64,
}

/// A function and its current version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Function {
    /// `ZH` + 32 hex.
    pub sid: String,
    /// Owning account.
    pub account_sid: String,
    /// Unique within the account.
    pub friendly_name: String,
    /// The version that runs.
    pub version: FunctionVersion,
    /// Creation time, unix seconds.
    pub date_created: i64,
    /// Last change (new version), unix seconds.
    pub date_updated: i64,
}

/// One uploaded build of a function.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FunctionVersion {
    /// `ZN` + 32 hex.
    pub sid: String,
    /// The function it belongs to.
    pub function_sid: String,
    /// Hex SHA-256 of the wasm blob.
    pub sha256: String,
    /// Blob length in bytes.
    pub size: u64,
    /// Upload time, unix seconds.
    pub date_created: i64,
}

/// A TwiML bin: a TwiML template served as is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Bin {
    /// `EH` + 32 hex.
    pub sid: String,
    /// Owning account.
    pub account_sid: String,
    /// Unique within the account.
    pub friendly_name: String,
    /// The TwiML template.
    pub template: String,
    /// Creation time, unix seconds.
    pub date_created: i64,
    /// Last change, unix seconds.
    pub date_updated: i64,
}

/// The writable fields of a SIP domain (Twilio's SipDomain resource); validation is the caller's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainFields {
    /// Full host name, unique across all accounts (case-insensitive).
    pub domain_name: String,
    /// Name shown to people.
    pub friendly_name: Option<String>,
    /// Webhook called when a call arrives.
    pub voice_url: Option<String>,
    /// `GET` or `POST` (Twilio's default is `POST`).
    pub voice_method: String,
    /// Webhook called when `voice_url` fails.
    pub voice_fallback_url: Option<String>,
    /// Method for `voice_fallback_url`.
    pub voice_fallback_method: String,
    /// Webhook told when a call ends.
    pub voice_status_callback_url: Option<String>,
    /// Method for `voice_status_callback_url`.
    pub voice_status_callback_method: String,
    /// Whether SIP endpoints may register.
    pub sip_registration: bool,
    /// Authentication types in use (empty by default).
    pub auth_type: String,
    /// Whether media must be encrypted (SRTP); kept for Twilio clients, not used here.
    pub secure: bool,
    /// Whether emergency calls are enabled; kept for Twilio clients, not used here.
    pub emergency_calling_enabled: bool,
    /// The BYOC trunk of the domain; kept for Twilio clients, not used here.
    pub byoc_trunk_sid: Option<String>,
    /// The emergency caller of the domain; kept for Twilio clients, not used here.
    pub emergency_caller_sid: Option<String>,
}

/// A SIP domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// `SD` + 32 hex.
    pub sid: String,
    /// Owning account.
    pub account_sid: String,
    /// The writable fields.
    pub fields: DomainFields,
    /// Creation time, unix seconds.
    pub date_created: i64,
    /// Last change, unix seconds.
    pub date_updated: i64,
}

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

/// What happened on one webhook, for the call log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CallRecord {
    /// `CA` + 32 hex, as given by the caller (may repeat: action callbacks).
    pub call_sid: String,
    /// Account the call was routed to.
    pub account_sid: String,
    /// SIP domain the call came through.
    pub domain_sid: Option<String>,
    /// What was run, e.g. `function ZH..` or `bin EH..`.
    pub target: String,
    /// The function that ran, if any.
    pub function_sid: Option<String>,
    /// `ok` or an error code such as `function_deadline`.
    pub outcome: String,
    /// Error detail.
    pub error: Option<String>,
    /// What ran instead, with its own outcome, as text.
    pub fallback: Option<String>,
    /// What the guest logged.
    pub logs: Vec<GuestLog>,
    /// The TwiML answered.
    pub twiml: Option<String>,
    /// Time spent handling the webhook.
    pub elapsed_us: u64,
    /// When the call arrived, unix seconds.
    pub date_created: i64,
}

impl CallRecord {
    /// What the record weighs in its account's log, in bytes: its text, its log lines, and a
    /// little for the row around them.
    pub fn weight(&self) -> u64 {
        let logs: usize = self
            .logs
            .iter()
            .map(|l| {
                let fields: usize = l.fields.iter().map(|(n, v)| n.len() + v.len() + 8).sum();
                l.message.len() + fields + 32
            })
            .sum();
        let text: usize = [
            Some(&self.call_sid),
            Some(&self.target),
            Some(&self.outcome),
            self.error.as_ref(),
            self.fallback.as_ref(),
            self.twiml.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(String::len)
        .sum();
        (logs + text + 128) as u64
    }
}

/// Which call records to return.
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    /// Only calls that ran this function.
    pub function_sid: Option<String>,
    /// Only calls through this SIP domain.
    pub domain_sid: Option<String>,
    /// At most this many records (capped at the log size).
    pub limit: u32,
}

/// What one account may keep. Each is checked in the transaction that would pass it, so
/// concurrent writes cannot overshoot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Functions per account.
    pub functions: u32,
    /// Versions one function keeps; delete old ones to upload more.
    pub versions_per_function: u32,
    /// Bytes of wasm over every version of every function of the account.
    pub stored_bytes: u64,
    /// TwiML bins per account.
    pub bins: u32,
    /// SIP domains per account.
    pub domains: u32,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            functions: 100,
            versions_per_function: 50,
            stored_bytes: 512 << 20,
            bins: 1000,
            domains: 1000,
        }
    }
}

/// The store: one SQLite connection behind a mutex plus the blob directory.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
    dir: PathBuf,
    quotas: Quotas,
    /// Held from writing a blob until the row that names it commits, and from finding a blob
    /// unnamed until it is removed, so a removal never takes a blob an upload is about to name.
    blobs: Mutex<()>,
}

impl Store {
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

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-transaction rolled it back when the transaction dropped, so the connection
        // is still consistent.
        lock(&self.conn)
    }

    // ---- accounts

    /// Creates an account with a random sid and auth token.
    pub fn create_account(&self, friendly_name: &str) -> Result<Account> {
        self.import_account(&new_sid("AC")?, &random_hex()?, friendly_name)
    }

    /// Creates an account with a given sid and token; `Conflict` if the sid exists.
    pub fn import_account(
        &self,
        sid: &str,
        auth_token: &str,
        friendly_name: &str,
    ) -> Result<Account> {
        let now = now();
        self.lock()
            .execute(
                "INSERT INTO accounts (sid, auth_token, friendly_name, date_created, date_updated)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                (sid, auth_token, friendly_name, now),
            )
            .map_err(conflict(|| format!("account {sid:?} already exists")))?;
        Ok(Account {
            sid: sid.to_owned(),
            auth_token: auth_token.to_owned(),
            friendly_name: friendly_name.to_owned(),
            date_created: now,
            date_updated: now,
            validate_signatures: true,
            enhanced_sip: false,
            twiml_warnings_only: false,
        })
    }

    /// The account with this sid.
    pub fn account(&self, sid: &str) -> Result<Option<Account>> {
        find(&self.lock(), "x.sid = ?1", [sid])
    }

    /// Every account, oldest first.
    pub fn accounts(&self) -> Result<Vec<Account>> {
        find_all(&self.lock(), "ORDER BY x.date_created, x.rowid", [])
    }

    /// Applies `update` to an account; `None` when it does not exist.
    pub fn update_account(&self, sid: &str, update: &AccountUpdate) -> Result<Option<Account>> {
        let conn = self.lock();
        let changed = conn.execute(
            "UPDATE accounts SET friendly_name = coalesce(?2, friendly_name),
                 auth_token = coalesce(?3, auth_token),
                 validate_signatures = coalesce(?4, validate_signatures),
                 enhanced_sip = coalesce(?5, enhanced_sip),
                 twiml_warnings_only = coalesce(?6, twiml_warnings_only),
                 date_updated = ?7
             WHERE sid = ?1",
            params![
                sid,
                update.friendly_name,
                update.auth_token,
                update.validate_signatures,
                update.enhanced_sip,
                update.twiml_warnings_only,
                now()
            ],
        )?;
        if changed == 0 {
            return Ok(None);
        }
        find(&conn, "x.sid = ?1", [sid])
    }

    // ---- blobs

    /// Stores a wasm blob atomically and durably; returns its hex SHA-256. Call with `blobs` held
    /// until the row that names it commits.
    fn put_blob(&self, wasm: &[u8]) -> Result<String> {
        let sha256 = hex::encode(Sha256::digest(wasm));
        let path = self.blob_path(&sha256);
        match fs::read(&path) {
            Ok(existing) if existing == wasm => {
                // An upload that crashed after its rename may have left the entry unsynced:
                // make it durable before this upload is acknowledged on it.
                let (dir, blobs) = (path.parent(), path.parent().and_then(Path::parent));
                for dir in [dir, blobs].into_iter().flatten() {
                    sync_dir(dir)?;
                }
                return Ok(sha256);
            }
            Ok(_) => tracing::warn!(sha256, "blob on disk does not match its hash, rewriting it"),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(io_context(e, format_args!("failed to read blob {path:?}")).into());
            }
        }
        let dir = path.parent().expect("blob path has a parent");
        match create_dir_private(dir) {
            // The new directory entry must be durable too.
            Ok(()) => sync_dir(dir.parent().expect("blob dir has a parent"))?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_context(e, format_args!("failed to create {dir:?}")).into()),
        }
        write_atomic(dir, &sha256, wasm)?;
        tracing::debug!(sha256, size = wasm.len(), "blob stored");
        Ok(sha256)
    }

    /// Reads a blob, verifying its hash: `Corrupt` on mismatch, `Io` `NotFound` when missing.
    pub fn blob(&self, sha256: &str) -> Result<Vec<u8>> {
        if sha256.len() != 64
            || !sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            let msg = format!("blob hash {sha256:?} is not 64 lowercase hex digits");
            return Err(io::Error::new(io::ErrorKind::InvalidInput, msg).into());
        }
        let path = self.blob_path(sha256);
        let bytes = fs::read(&path)
            .map_err(|e| io_context(e, format_args!("failed to read blob {path:?}")))?;
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != sha256 {
            return Err(StoreError::Corrupt(format!(
                "blob {path:?} does not match its hash (content hashes to {actual:?}); upload the function again"
            )));
        }
        Ok(bytes)
    }

    fn blob_path(&self, sha256: &str) -> PathBuf {
        self.dir
            .join("blobs")
            .join("sha256")
            .join(&sha256[..2])
            .join(sha256)
    }

    // ---- functions

    /// Whether the account may store `size` more bytes of wasm as a new function
    /// (`function_sid` `None`) or a new version of one: `Quota` when not. Checked again when the
    /// upload is stored; this is for refusing before compiling.
    pub fn check_upload(
        &self,
        account_sid: &str,
        function_sid: Option<&str>,
        size: u64,
    ) -> Result<()> {
        let conn = self.lock();
        self.upload_fits(&conn, account_sid, function_sid, size)
    }

    fn upload_fits(
        &self,
        conn: &Connection,
        account_sid: &str,
        function_sid: Option<&str>,
        size: u64,
    ) -> Result<()> {
        let q = self.quotas;
        match function_sid {
            None => {
                let functions = count(
                    conn,
                    "SELECT count(*) FROM functions WHERE account_sid = ?1",
                    [account_sid],
                )?;
                if functions >= u64::from(q.functions) {
                    return Err(StoreError::Quota(format!(
                        "the account has {functions} functions, the most it may have \
                         (--max-functions-per-account): delete one first"
                    )));
                }
            }
            Some(sid) => {
                let versions = count(
                    conn,
                    "SELECT count(*) FROM function_versions WHERE function_sid = ?1",
                    [sid],
                )?;
                if versions >= u64::from(q.versions_per_function) {
                    return Err(StoreError::Quota(format!(
                        "function {sid} has {versions} versions, the most a function may keep \
                         (--max-versions-per-function): delete old ones with DELETE \
                         .../Functions/{sid}/Versions/ZN....json"
                    )));
                }
            }
        }
        let stored = count(
            conn,
            "SELECT total(v.size) FROM function_versions v JOIN functions f ON f.sid = v.function_sid
             WHERE f.account_sid = ?1",
            [account_sid],
        )?;
        if stored + size > q.stored_bytes {
            return Err(StoreError::Quota(format!(
                "the account stores {stored} bytes of wasm; {size} more would pass its {} \
                 (--max-stored-mib-per-account): delete functions or old versions first",
                q.stored_bytes
            )));
        }
        Ok(())
    }

    /// Creates a function whose first version is `wasm`; `Conflict` if the name is taken, `Quota`
    /// if the account may not store it. The blob is durable before the row that names it.
    pub fn create_function(
        &self,
        account_sid: &str,
        friendly_name: &str,
        wasm: &[u8],
    ) -> Result<Function> {
        let (sid, now) = (new_sid("ZH")?, now());
        let _blobs = lock(&self.blobs);
        let mut conn = self.lock();
        self.upload_fits(&conn, account_sid, None, wasm.len() as u64)?;
        let blob = BlobRef {
            sha256: self.put_blob(wasm)?,
            size: wasm.len() as u64,
        };
        let version = new_version(&sid, &blob, now)?;
        let tx = conn.transaction()?;
        self.upload_fits(&tx, account_sid, None, blob.size)?;
        tx.execute(
            "INSERT INTO functions (sid, account_sid, friendly_name, version_sid, date_created, date_updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            (&sid, account_sid, friendly_name, &version.sid, now),
        )
        .map_err(conflict(|| format!("a function named {friendly_name:?} already exists")))?;
        insert_version(&tx, &version)?;
        tx.commit()?;
        Ok(Function {
            sid,
            account_sid: account_sid.to_owned(),
            friendly_name: friendly_name.to_owned(),
            version,
            date_created: now,
            date_updated: now,
        })
    }

    /// Makes `wasm` the function's current version; `None` if the account has no such function,
    /// `Quota` if it may not store it.
    pub fn add_function_version(
        &self,
        account_sid: &str,
        function_sid: &str,
        wasm: &[u8],
    ) -> Result<Option<Function>> {
        let _blobs = lock(&self.blobs);
        let mut conn = self.lock();
        let owned = conn
            .query_row(
                "SELECT 1 FROM functions WHERE account_sid = ?1 AND sid = ?2",
                (account_sid, function_sid),
                |_| Ok(()),
            )
            .optional()?;
        if owned.is_none() {
            return Ok(None);
        }
        self.upload_fits(&conn, account_sid, Some(function_sid), wasm.len() as u64)?;
        let blob = BlobRef {
            sha256: self.put_blob(wasm)?,
            size: wasm.len() as u64,
        };
        let version = new_version(function_sid, &blob, now())?;
        let tx = conn.transaction()?;
        self.upload_fits(&tx, account_sid, Some(function_sid), blob.size)?;
        let changed = tx.execute(
            "UPDATE functions SET version_sid = ?3, date_updated = ?4 WHERE account_sid = ?1 AND sid = ?2",
            (account_sid, function_sid, &version.sid, version.date_created),
        )?;
        if changed == 0 {
            return Ok(None);
        }
        insert_version(&tx, &version)?;
        let function = find(
            &tx,
            "x.account_sid = ?1 AND x.sid = ?2",
            (account_sid, function_sid),
        )?;
        tx.commit()?;
        Ok(function)
    }

    /// The account's function with this sid.
    pub fn function(&self, account_sid: &str, sid: &str) -> Result<Option<Function>> {
        find(
            &self.lock(),
            "x.account_sid = ?1 AND x.sid = ?2",
            (account_sid, sid),
        )
    }

    /// The function with this sid in any account (for routing).
    pub fn function_by_sid(&self, sid: &str) -> Result<Option<Function>> {
        find(&self.lock(), "x.sid = ?1", [sid])
    }

    /// The account's function with this friendly name.
    pub fn function_by_name(
        &self,
        account_sid: &str,
        friendly_name: &str,
    ) -> Result<Option<Function>> {
        find(
            &self.lock(),
            "x.account_sid = ?1 AND x.friendly_name = ?2",
            (account_sid, friendly_name),
        )
    }

    /// One page of the account's functions, oldest first.
    pub fn functions(&self, account_sid: &str, page: Page) -> Result<Listing<Function>> {
        listing(&mut self.lock(), account_sid, page)
    }

    /// Every function of every account (for loading at start).
    pub fn all_functions(&self) -> Result<Vec<Function>> {
        find_all(&self.lock(), "ORDER BY x.date_created, x.rowid", [])
    }

    /// The versions of the account's function, newest first; `None` if there is no such function.
    pub fn function_versions(
        &self,
        account_sid: &str,
        function_sid: &str,
    ) -> Result<Option<Vec<FunctionVersion>>> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let exists = tx
            .query_row(
                "SELECT 1 FROM functions WHERE account_sid = ?1 AND sid = ?2",
                (account_sid, function_sid),
                |_| Ok(()),
            )
            .optional()?;
        if exists.is_none() {
            return Ok(None);
        }
        let mut stmt = tx.prepare_cached(
            "SELECT sid, function_sid, sha256, size, date_created FROM function_versions
             WHERE function_sid = ?1 ORDER BY date_created DESC, rowid DESC",
        )?;
        let versions = stmt
            .query_map([function_sid], |r| version_at(r, 0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Some(versions))
    }

    /// Deletes the account's function and its versions, and every blob no other version names.
    pub fn delete_function(&self, account_sid: &str, sid: &str) -> Result<bool> {
        self.deleting_blobs(|tx| {
            let hashes = version_hashes(tx, "v.function_sid = ?1", [sid])?;
            let deleted = delete::<Function>(tx, account_sid, sid)?;
            Ok((deleted, hashes))
        })
    }

    /// Deletes one version of the account's function, and its blob when no other version names
    /// it: `None` when there is no such version, `Conflict` when it is the one that runs.
    pub fn delete_function_version(
        &self,
        account_sid: &str,
        function_sid: &str,
        version_sid: &str,
    ) -> Result<Option<()>> {
        self.deleting_blobs(|tx| {
            let current: Option<String> = tx
                .query_row(
                    "SELECT version_sid FROM functions WHERE account_sid = ?1 AND sid = ?2",
                    (account_sid, function_sid),
                    |r| r.get(0),
                )
                .optional()?;
            let Some(current) = current else {
                return Ok((None, Vec::new()));
            };
            if current == version_sid {
                return Err(StoreError::Conflict(format!(
                    "version {version_sid} is the one function {function_sid} runs: upload \
                     another version first, or delete the function"
                )));
            }
            let hashes = version_hashes(
                tx,
                "v.function_sid = ?1 AND v.sid = ?2",
                (function_sid, version_sid),
            )?;
            let deleted = tx.execute(
                "DELETE FROM function_versions WHERE function_sid = ?1 AND sid = ?2",
                (function_sid, version_sid),
            )?;
            Ok(((deleted > 0).then_some(()), hashes))
        })
    }

    /// Runs `delete` in a transaction, then removes the blobs among those it returns that no
    /// version names any more, once the transaction is durable.
    fn deleting_blobs<T>(
        &self,
        delete: impl FnOnce(&Transaction<'_>) -> Result<(T, Vec<String>)>,
    ) -> Result<T> {
        let _blobs = lock(&self.blobs);
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let (result, hashes) = delete(&tx)?;
        let mut unnamed = Vec::new();
        for hash in hashes {
            let named = count(
                &tx,
                "SELECT count(*) FROM function_versions WHERE sha256 = ?1",
                [&hash],
            )?;
            if named == 0 {
                unnamed.push(hash);
            }
        }
        tx.commit()?;
        drop(conn);
        for hash in unnamed {
            let path = self.blob_path(&hash);
            match fs::remove_file(&path) {
                Ok(()) => tracing::debug!(sha256 = hash, "blob removed"),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                // Left behind costs disk only; the rows are what count.
                Err(e) => tracing::warn!(?path, error = %e, "failed to remove an unused blob"),
            }
        }
        Ok(result)
    }

    // ---- TwiML bins

    /// Creates a bin; `Conflict` if the name is taken in the account.
    pub fn create_bin(
        &self,
        account_sid: &str,
        friendly_name: &str,
        template: &str,
    ) -> Result<Bin> {
        let (sid, now) = (new_sid("EH")?, now());
        let conn = self.lock();
        let bins = count(
            &conn,
            "SELECT count(*) FROM bins WHERE account_sid = ?1",
            [account_sid],
        )?;
        if bins >= u64::from(self.quotas.bins) {
            return Err(StoreError::Quota(format!(
                "the account has {bins} TwiML bins, the most it may have \
                 (--max-bins-per-account): delete one first"
            )));
        }
        conn.execute(
                "INSERT INTO bins (sid, account_sid, friendly_name, template, date_created, date_updated)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                (&sid, account_sid, friendly_name, template, now),
            )
            .map_err(conflict(|| format!("a bin named {friendly_name:?} already exists")))?;
        Ok(Bin {
            sid,
            account_sid: account_sid.to_owned(),
            friendly_name: friendly_name.to_owned(),
            template: template.to_owned(),
            date_created: now,
            date_updated: now,
        })
    }

    /// Changes the given fields of a bin; `None` if missing, `Conflict` if the name is taken.
    pub fn update_bin(
        &self,
        account_sid: &str,
        sid: &str,
        friendly_name: Option<&str>,
        template: Option<&str>,
    ) -> Result<Option<Bin>> {
        let conn = self.lock();
        let changed = conn
            .execute(
                "UPDATE bins SET friendly_name = coalesce(?3, friendly_name), template = coalesce(?4, template),
                     date_updated = ?5
                 WHERE account_sid = ?1 AND sid = ?2",
                (account_sid, sid, friendly_name, template, now()),
            )
            .map_err(conflict(|| format!("a bin named {:?} already exists", friendly_name.unwrap_or_default())))?;
        if changed == 0 {
            return Ok(None);
        }
        find(
            &conn,
            "x.account_sid = ?1 AND x.sid = ?2",
            (account_sid, sid),
        )
    }

    /// The account's bin with this sid.
    pub fn bin(&self, account_sid: &str, sid: &str) -> Result<Option<Bin>> {
        find(
            &self.lock(),
            "x.account_sid = ?1 AND x.sid = ?2",
            (account_sid, sid),
        )
    }

    /// The bin with this sid in any account (for routing).
    pub fn bin_by_sid(&self, sid: &str) -> Result<Option<Bin>> {
        find(&self.lock(), "x.sid = ?1", [sid])
    }

    /// One page of the account's bins, oldest first.
    pub fn bins(&self, account_sid: &str, page: Page) -> Result<Listing<Bin>> {
        listing(&mut self.lock(), account_sid, page)
    }

    /// The account's bin with this friendly name.
    pub fn bin_by_name(&self, account_sid: &str, friendly_name: &str) -> Result<Option<Bin>> {
        find(
            &self.lock(),
            "x.account_sid = ?1 AND x.friendly_name = ?2",
            (account_sid, friendly_name),
        )
    }

    /// Every bin of every account (for loading at start).
    pub fn all_bins(&self) -> Result<Vec<Bin>> {
        find_all(&self.lock(), "ORDER BY x.date_created, x.rowid", [])
    }

    /// Deletes the account's bin.
    pub fn delete_bin(&self, account_sid: &str, sid: &str) -> Result<bool> {
        delete::<Bin>(&self.lock(), account_sid, sid)
    }

    // ---- SIP domains

    /// Creates a SIP domain; `Conflict` if the domain name is taken (in any account).
    pub fn create_domain(&self, account_sid: &str, fields: &DomainFields) -> Result<Domain> {
        let (sid, now) = (new_sid("SD")?, now());
        let f = fields;
        let conn = self.lock();
        let domains = count(
            &conn,
            "SELECT count(*) FROM domains WHERE account_sid = ?1",
            [account_sid],
        )?;
        if domains >= u64::from(self.quotas.domains) {
            return Err(StoreError::Quota(format!(
                "the account has {domains} SIP domains, the most it may have \
                 (--max-domains-per-account): delete one first"
            )));
        }
        conn.execute(
                "INSERT INTO domains (sid, account_sid, domain_name, friendly_name, voice_url, voice_method,
                     voice_fallback_url, voice_fallback_method, voice_status_callback_url,
                     voice_status_callback_method, sip_registration, auth_type, secure,
                     emergency_calling_enabled, byoc_trunk_sid, emergency_caller_sid, base_name,
                     date_created, date_updated)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                     ?18, ?18)",
                params![
                    sid,
                    account_sid,
                    f.domain_name,
                    f.friendly_name,
                    f.voice_url,
                    f.voice_method,
                    f.voice_fallback_url,
                    f.voice_fallback_method,
                    f.voice_status_callback_url,
                    f.voice_status_callback_method,
                    f.sip_registration,
                    f.auth_type,
                    f.secure,
                    f.emergency_calling_enabled,
                    f.byoc_trunk_sid,
                    f.emergency_caller_sid,
                    domain_base(&f.domain_name),
                    now
                ],
            )
            .map_err(conflict(|| domain_taken(&f.domain_name)))?;
        Ok(Domain {
            sid,
            account_sid: account_sid.to_owned(),
            fields: fields.clone(),
            date_created: now,
            date_updated: now,
        })
    }

    /// Replaces every field of a domain; `None` if missing, `Conflict` if the name is taken.
    pub fn update_domain(
        &self,
        account_sid: &str,
        sid: &str,
        fields: &DomainFields,
    ) -> Result<Option<Domain>> {
        let f = fields;
        let conn = self.lock();
        let changed = conn
            .execute(
                "UPDATE domains SET domain_name = ?3, friendly_name = ?4, voice_url = ?5, voice_method = ?6,
                     voice_fallback_url = ?7, voice_fallback_method = ?8, voice_status_callback_url = ?9,
                     voice_status_callback_method = ?10, sip_registration = ?11, auth_type = ?12,
                     secure = ?13, emergency_calling_enabled = ?14, byoc_trunk_sid = ?15,
                     emergency_caller_sid = ?16, base_name = ?17, date_updated = ?18
                 WHERE account_sid = ?1 AND sid = ?2",
                params![
                    account_sid,
                    sid,
                    f.domain_name,
                    f.friendly_name,
                    f.voice_url,
                    f.voice_method,
                    f.voice_fallback_url,
                    f.voice_fallback_method,
                    f.voice_status_callback_url,
                    f.voice_status_callback_method,
                    f.sip_registration,
                    f.auth_type,
                    f.secure,
                    f.emergency_calling_enabled,
                    f.byoc_trunk_sid,
                    f.emergency_caller_sid,
                    domain_base(&f.domain_name),
                    now()
                ],
            )
            .map_err(conflict(|| domain_taken(&f.domain_name)))?;
        if changed == 0 {
            return Ok(None);
        }
        find(
            &conn,
            "x.account_sid = ?1 AND x.sid = ?2",
            (account_sid, sid),
        )
    }

    /// The account's domain with this sid.
    pub fn domain(&self, account_sid: &str, sid: &str) -> Result<Option<Domain>> {
        find(
            &self.lock(),
            "x.account_sid = ?1 AND x.sid = ?2",
            (account_sid, sid),
        )
    }

    /// The domain with this sid in any account (for routing).
    pub fn domain_by_sid(&self, sid: &str) -> Result<Option<Domain>> {
        find(&self.lock(), "x.sid = ?1", [sid])
    }

    /// The domain with this host name, ignoring ASCII case and a regional label (for routing).
    pub fn domain_by_name(&self, domain_name: &str) -> Result<Option<Domain>> {
        find(&self.lock(), "x.base_name = ?1", [domain_base(domain_name)])
    }

    /// One page of the account's domains, oldest first (date_created, then creation order).
    pub fn domains(&self, account_sid: &str, page: Page) -> Result<Listing<Domain>> {
        listing(&mut self.lock(), account_sid, page)
    }

    /// Every domain of every account (for routing from memory).
    pub fn all_domains(&self) -> Result<Vec<Domain>> {
        find_all(&self.lock(), "ORDER BY x.date_created, x.rowid", [])
    }

    /// Deletes the account's domain.
    pub fn delete_domain(&self, account_sid: &str, sid: &str) -> Result<bool> {
        delete::<Domain>(&self.lock(), account_sid, sid)
    }

    // ---- call log

    /// Appends call records in one transaction.
    pub fn record_calls(&self, calls: &[CallRecord]) -> Result<()> {
        if calls.is_empty() {
            return Ok(());
        }
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO calls (call_sid, account_sid, domain_sid, target, function_sid, outcome, error,
                     fallback, logs, twiml, elapsed_us, date_created, size)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?;
            for c in calls {
                let logs = serde_json::to_string(&c.logs).map_err(io::Error::from)?;
                insert.execute(params![
                    c.call_sid,
                    c.account_sid,
                    c.domain_sid,
                    c.target,
                    c.function_sid,
                    c.outcome,
                    c.error,
                    c.fallback,
                    logs,
                    c.twiml,
                    sql_u64(c.elapsed_us),
                    c.date_created,
                    sql_u64(c.weight())
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The rows and bytes of the account's call log.
    pub fn call_log_usage(&self, account_sid: &str) -> Result<(u64, u64)> {
        let conn = self.lock();
        let usage = conn.query_row(
            "SELECT count(*), total(size) FROM calls WHERE account_sid = ?1",
            [account_sid],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?)),
        )?;
        Ok((u64::try_from(usage.0).unwrap_or_default(), usage.1 as u64))
    }

    /// Drops the account's oldest call records until at most `rows` rows of at most `bytes` in
    /// all are left; returns what is left.
    pub fn trim_calls(&self, account_sid: &str, rows: u64, bytes: u64) -> Result<(u64, u64)> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "DELETE FROM calls WHERE id IN (
                 SELECT id FROM (
                     SELECT id,
                         row_number() OVER newest AS n,
                         sum(size) OVER (newest ROWS UNBOUNDED PRECEDING) AS kept
                     FROM calls WHERE account_sid = ?1
                     WINDOW newest AS (ORDER BY date_created DESC, id DESC))
                 WHERE n > ?2 OR kept > ?3)",
            (account_sid, sql_u64(rows), sql_u64(bytes)),
        )?;
        let usage = tx.query_row(
            "SELECT count(*), total(size) FROM calls WHERE account_sid = ?1",
            [account_sid],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?)),
        )?;
        tx.commit()?;
        Ok((u64::try_from(usage.0).unwrap_or_default(), usage.1 as u64))
    }

    /// The account's call records matching `filter`, newest first, at most `filter.limit`.
    pub fn calls(&self, account_sid: &str, filter: &CallFilter) -> Result<Vec<CallRecord>> {
        let mut tail = String::from("WHERE x.account_sid = ?");
        let mut args: Vec<&dyn ToSql> = vec![&account_sid];
        if let Some(function_sid) = &filter.function_sid {
            tail.push_str(" AND x.function_sid = ?");
            args.push(function_sid);
        }
        if let Some(domain_sid) = &filter.domain_sid {
            tail.push_str(" AND x.domain_sid = ?");
            args.push(domain_sid);
        }
        tail.push_str(" ORDER BY x.date_created DESC, x.id DESC LIMIT ?");
        let limit = filter.limit.min(CALL_LOG_ROWS);
        args.push(&limit);
        find_all(&self.lock(), &tail, rusqlite::params_from_iter(args))
    }
}

/// Brings the schema up to date; refuses a database written by a newer build.
fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
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

/// A `count(*)`, `total(...)` or other single number.
fn count(conn: &Connection, sql: &str, params: impl Params) -> Result<u64> {
    let value: f64 = conn.query_row(sql, params, |r| r.get::<_, f64>(0))?;
    Ok(value as u64)
}

/// The blob hashes of the versions `filter` (over `function_versions v`) selects.
fn version_hashes(conn: &Connection, filter: &str, params: impl Params) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT DISTINCT v.sha256 FROM function_versions v WHERE {filter}"
    ))?;
    let hashes = stmt
        .query_map(params, |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(hashes)
}

/// A row type with a `SELECT .. FROM <TABLE> x` so lookups, listings and deletes share one path.
trait Record: Sized {
    const TABLE: &'static str;
    const SELECT: &'static str;
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self>;
}

impl Record for Account {
    const TABLE: &'static str = "accounts";
    const SELECT: &'static str =
        "SELECT x.sid, x.auth_token, x.friendly_name, x.date_created, x.date_updated,
        x.validate_signatures, x.enhanced_sip, x.twiml_warnings_only FROM accounts x";
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            sid: r.get(0)?,
            auth_token: r.get(1)?,
            friendly_name: r.get(2)?,
            date_created: r.get(3)?,
            date_updated: r.get(4)?,
            validate_signatures: r.get(5)?,
            enhanced_sip: r.get(6)?,
            twiml_warnings_only: r.get(7)?,
        })
    }
}

impl Record for Function {
    const TABLE: &'static str = "functions";
    const SELECT: &'static str =
        "SELECT x.sid, x.account_sid, x.friendly_name, x.date_created, x.date_updated,
        v.sid, v.function_sid, v.sha256, v.size, v.date_created
        FROM functions x JOIN function_versions v ON v.sid = x.version_sid";
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            sid: r.get(0)?,
            account_sid: r.get(1)?,
            friendly_name: r.get(2)?,
            date_created: r.get(3)?,
            date_updated: r.get(4)?,
            version: version_at(r, 5)?,
        })
    }
}

impl Record for Bin {
    const TABLE: &'static str = "bins";
    const SELECT: &'static str = "SELECT x.sid, x.account_sid, x.friendly_name, x.template, x.date_created, x.date_updated FROM bins x";
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            sid: r.get(0)?,
            account_sid: r.get(1)?,
            friendly_name: r.get(2)?,
            template: r.get(3)?,
            date_created: r.get(4)?,
            date_updated: r.get(5)?,
        })
    }
}

impl Record for Domain {
    const TABLE: &'static str = "domains";
    const SELECT: &'static str =
        "SELECT x.sid, x.account_sid, x.domain_name, x.friendly_name, x.voice_url,
        x.voice_method, x.voice_fallback_url, x.voice_fallback_method, x.voice_status_callback_url,
        x.voice_status_callback_method, x.sip_registration, x.auth_type, x.secure,
        x.emergency_calling_enabled, x.byoc_trunk_sid, x.emergency_caller_sid, x.date_created,
        x.date_updated FROM domains x";
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            sid: r.get(0)?,
            account_sid: r.get(1)?,
            fields: DomainFields {
                domain_name: r.get(2)?,
                friendly_name: r.get(3)?,
                voice_url: r.get(4)?,
                voice_method: r.get(5)?,
                voice_fallback_url: r.get(6)?,
                voice_fallback_method: r.get(7)?,
                voice_status_callback_url: r.get(8)?,
                voice_status_callback_method: r.get(9)?,
                sip_registration: r.get(10)?,
                auth_type: r.get(11)?,
                secure: r.get(12)?,
                emergency_calling_enabled: r.get(13)?,
                byoc_trunk_sid: r.get(14)?,
                emergency_caller_sid: r.get(15)?,
            },
            date_created: r.get(16)?,
            date_updated: r.get(17)?,
        })
    }
}

impl Record for CallRecord {
    const TABLE: &'static str = "calls";
    const SELECT: &'static str =
        "SELECT x.call_sid, x.account_sid, x.domain_sid, x.target, x.function_sid,
        x.outcome, x.error, x.fallback, x.logs, x.twiml, x.elapsed_us, x.date_created FROM calls x";
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        let logs: String = r.get(8)?;
        Ok(Self {
            call_sid: r.get(0)?,
            account_sid: r.get(1)?,
            domain_sid: r.get(2)?,
            target: r.get(3)?,
            function_sid: r.get(4)?,
            outcome: r.get(5)?,
            error: r.get(6)?,
            fallback: r.get(7)?,
            logs: serde_json::from_str(&logs).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(8, Type::Text, Box::new(e))
            })?,
            twiml: r.get(9)?,
            elapsed_us: get_u64(r, 10)?,
            date_created: r.get(11)?,
        })
    }
}

fn find<T: Record>(conn: &Connection, filter: &str, params: impl Params) -> Result<Option<T>> {
    let mut stmt = conn.prepare_cached(&format!("{} WHERE {filter}", T::SELECT))?;
    Ok(stmt.query_row(params, T::from_row).optional()?)
}

fn find_all<T: Record>(conn: &Connection, tail: &str, params: impl Params) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(&format!("{} {tail}", T::SELECT))?;
    let rows = stmt
        .query_map(params, T::from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

fn listing<T: Record>(conn: &mut Connection, account_sid: &str, page: Page) -> Result<Listing<T>> {
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

fn delete<T: Record>(conn: &Connection, account_sid: &str, sid: &str) -> Result<bool> {
    let sql = format!(
        "DELETE FROM {} WHERE account_sid = ?1 AND sid = ?2",
        T::TABLE
    );
    Ok(conn.execute(&sql, (account_sid, sid))? > 0)
}

fn version_at(r: &Row<'_>, i: usize) -> rusqlite::Result<FunctionVersion> {
    Ok(FunctionVersion {
        sid: r.get(i)?,
        function_sid: r.get(i + 1)?,
        sha256: r.get(i + 2)?,
        size: get_u64(r, i + 3)?,
        date_created: r.get(i + 4)?,
    })
}

fn new_version(function_sid: &str, blob: &BlobRef, now: i64) -> Result<FunctionVersion> {
    Ok(FunctionVersion {
        sid: new_sid("ZN")?,
        function_sid: function_sid.to_owned(),
        sha256: blob.sha256.clone(),
        size: blob.size,
        date_created: now,
    })
}

fn insert_version(conn: &Connection, v: &FunctionVersion) -> Result<()> {
    conn.execute(
        "INSERT INTO function_versions (sid, function_sid, sha256, size, date_created) VALUES (?1, ?2, ?3, ?4, ?5)",
        (&v.sid, &v.function_sid, &v.sha256, sql_u64(v.size), v.date_created),
    )?;
    Ok(())
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Maps a unique-constraint failure to `Conflict(message)`, anything else to `Sqlite`.
fn conflict(message: impl FnOnce() -> String) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| match e.sqlite_error().map(|f| f.extended_code) {
        Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => {
            StoreError::Conflict(message())
        }
        _ => e.into(),
    }
}

/// Twilio's SIP regions and edge locations, as the label after `.sip.` of a regional host name.
const SIP_EDGES: &[&str] = &[
    "us1",
    "us2",
    "ie1",
    "de1",
    "sg1",
    "jp1",
    "br1",
    "au1",
    "ashburn",
    "umatilla",
    "dublin",
    "frankfurt",
    "singapore",
    "tokyo",
    "sao-paulo",
    "sydney",
];

/// The name a domain is known by whatever edge the engine names: lowercase, without a regional
/// label (`acme.sip.us1.twilio.com` is `acme.sip.twilio.com`). Two domains may not share it, so
/// no account can claim another's domain in its regional form.
pub fn domain_base(domain_name: &str) -> String {
    let name = domain_name.to_ascii_lowercase();
    if let Some((label, rest)) = name.split_once(".sip.")
        && let Some((edge, base)) = rest.split_once('.')
        && SIP_EDGES.contains(&edge)
    {
        return format!("{label}.sip.{base}");
    }
    name
}

fn domain_taken(domain_name: &str) -> String {
    format!(
        "domain name {domain_name:?} is already in use: names are unique across accounts, and \
         {:?} stands for its regional forms too",
        domain_base(domain_name)
    )
}

fn get_u64(r: &Row<'_>, i: usize) -> rusqlite::Result<u64> {
    u64::try_from(r.get::<_, i64>(i)?)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Integer, Box::new(e)))
}

/// SQLite integers are i64; sizes and durations never come near the limit.
fn sql_u64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| sql_u64(d.as_secs()))
}

/// 32 lowercase hex digits from the OS's random source: the random part of every sid and token.
pub(crate) fn random_hex() -> io::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| io::Error::other(format!("failed to read the os random source: {e}")))?;
    Ok(hex::encode(bytes))
}

fn new_sid(prefix: &str) -> Result<String> {
    Ok(format!("{prefix}{}", random_hex()?))
}

/// Writes `dir/name` so that readers see either nothing or the whole file, even after power loss;
/// the file is readable by its owner only, and its temporary name is unique.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = dir.join(format!(".tmp-{}", random_hex()?));
    let target = dir.join(name);
    let written = (|| {
        let mut file = private_options().create_new(true).open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, &target)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io_context(e, format_args!("failed to write {target:?}")).into());
    }
    sync_dir(dir)
}

/// Files under one folder that come back only as they were written: each holds the SHA-256 of
/// its content, then the content, and is written under a unique temporary name, synced, then
/// renamed into place. What fails its checksum, or was left by an interrupted write, is never
/// returned. The compiled-code cache of the sandbox lives in one.
#[derive(Debug)]
pub struct FileCache {
    dir: PathBuf,
}

impl FileCache {
    /// The cache in `dir`, created readable by its owner only when missing.
    pub fn open(dir: &Path) -> io::Result<Self> {
        create_private_dir(dir)?;
        Ok(Self {
            dir: dir.to_owned(),
        })
    }

    /// The bytes saved under `key`, when they are whole.
    pub fn load(&self, key: &str) -> Option<Vec<u8>> {
        let path = self.path(key)?;
        let file = match fs::read(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(?path, error = %e, "cannot read a cache entry");
                return None;
            }
        };
        let verified = file
            .split_at_checked(32)
            .filter(|(sum, content)| Sha256::digest(content).as_slice() == *sum)
            .map(|(_, content)| content.to_vec());
        if verified.is_none() {
            tracing::warn!(?path, "a cache entry fails its checksum: ignoring it");
        }
        verified
    }

    /// Saves `bytes` under `key`.
    pub fn save(&self, key: &str, bytes: &[u8]) -> io::Result<()> {
        let name = self
            .path(key)
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("bad cache key {key:?}"),
                )
            })?;
        let mut file = Vec::with_capacity(32 + bytes.len());
        file.extend_from_slice(&Sha256::digest(bytes));
        file.extend_from_slice(bytes);
        write_atomic(&self.dir, &name, &file).map_err(|e| io::Error::other(e.to_string()))
    }

    /// Removes every entry whose key `keep` refuses, and leftovers of interrupted writes;
    /// returns how many files went.
    pub fn retain(&self, keep: &dyn Fn(&str) -> bool) -> usize {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return 0;
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let kept = name
                .to_str()
                .and_then(|n| n.strip_suffix(CACHE_EXTENSION))
                .is_some_and(keep);
            if !kept && fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        removed
    }

    /// Where `key` is kept; `None` for a key that is no plain file name.
    fn path(&self, key: &str) -> Option<PathBuf> {
        let plain = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        plain.then(|| self.dir.join(format!("{key}{CACHE_EXTENSION}")))
    }
}

/// The ending of a [`FileCache`] entry's file name.
const CACHE_EXTENSION: &str = ".entry";

/// Options that create a file readable and writable by its owner only.
fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Creates `path` readable by its owner only when it does not exist, and makes it so when it
/// does (it is one of the store's own files).
fn private_file(path: &Path) -> io::Result<()> {
    private_options().create(true).truncate(false).open(path)?;
    #[cfg(unix)]
    fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(())
}

/// Creates `dir` and its missing parents, each one made here readable by its owner only.
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates the single folder `dir` readable by its owner only; `AlreadyExists` when it is there.
fn create_dir_private(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Warns when others may read the data folder: it was not made here, so it is not changed.
fn warn_if_shared(dir: &Path) {
    #[cfg(unix)]
    if let Ok(meta) = fs::metadata(dir) {
        let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions());
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %dir.display(),
                mode = format_args!("{:o}", mode & 0o777),
                "the data folder holds every account's auth token and others may read it: chmod 700 it"
            );
        }
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_context(e, format_args!("failed to sync directory {dir:?}")).into())
}

/// Adds what was being done to an i/o error, keeping its kind.
fn io_context(e: io::Error, what: impl Display) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tempfile::TempDir;

    fn open() -> (TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    fn is_sid(sid: &str, prefix: &str) -> bool {
        sid.len() == 34
            && sid.starts_with(prefix)
            && sid[2..]
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }

    /// Wasm to upload, and the hash it is stored under.
    struct Wasm {
        bytes: &'static [u8],
        sha256: String,
    }

    fn blob(_store: &Store, bytes: &'static [u8]) -> Wasm {
        Wasm {
            bytes,
            sha256: hex::encode(Sha256::digest(bytes)),
        }
    }

    fn domain_fields(name: &str) -> DomainFields {
        DomainFields {
            domain_name: name.to_owned(),
            voice_url: Some("https://example.com/voice".to_owned()),
            voice_method: "POST".to_owned(),
            voice_fallback_method: "POST".to_owned(),
            voice_status_callback_method: "POST".to_owned(),
            ..DomainFields::default()
        }
    }

    fn call(
        account_sid: &str,
        n: i64,
        function_sid: Option<&str>,
        domain_sid: Option<&str>,
    ) -> CallRecord {
        CallRecord {
            call_sid: format!("CA{n:032x}"),
            account_sid: account_sid.to_owned(),
            domain_sid: domain_sid.map(str::to_owned),
            target: function_sid.map_or("bin EH0".to_owned(), |f| format!("function {f}")),
            function_sid: function_sid.map(str::to_owned),
            outcome: "ok".to_owned(),
            error: None,
            fallback: None,
            logs: vec![GuestLog {
                level: "info".to_owned(),
                message: format!("call {n}"),
                fields: vec![("n".to_owned(), n.to_string())],
            }],
            twiml: Some("<Response/>".to_owned()),
            elapsed_us: 1234,
            date_created: 1_700_000_000 + n,
        }
    }

    const ALL: Page = Page {
        page: 0,
        page_size: 1000,
    };

    #[test]
    fn store_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Store>();
    }

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
        assert_eq!(pragma("user_version"), rusqlite::types::Value::Integer(2));
    }

    #[test]
    fn accounts() {
        let (_dir, store) = open();
        let a = store.create_account("Acme").unwrap();
        assert!(is_sid(&a.sid, "AC"), "{a:?}");
        assert!(
            a.auth_token.len() == 32
                && a.auth_token
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert!(a.validate_signatures && !a.enhanced_sip && !a.twiml_warnings_only);
        assert_eq!(store.account(&a.sid).unwrap(), Some(a.clone()));

        let sid = format!("AC{}", "1".repeat(32));
        let b = store
            .import_account(&sid, &"2".repeat(32), "Imported")
            .unwrap();
        assert_eq!(store.account(&sid).unwrap(), Some(b.clone()));
        assert!(matches!(
            store.import_account(&sid, "x", "y"),
            Err(StoreError::Conflict(_))
        ));
        let mut all = store.accounts().unwrap();
        all.sort_by(|x, y| x.sid.cmp(&y.sid));
        let mut expected = vec![a.clone(), b];
        expected.sort_by(|x, y| x.sid.cmp(&y.sid));
        assert_eq!(all, expected);

        let update = AccountUpdate {
            friendly_name: Some("Acme Inc".into()),
            auth_token: Some("f".repeat(32)),
            validate_signatures: Some(false),
            enhanced_sip: Some(true),
            twiml_warnings_only: Some(true),
        };
        let updated = store.update_account(&a.sid, &update).unwrap().unwrap();
        assert_eq!(
            (updated.friendly_name.as_str(), updated.auth_token.as_str()),
            ("Acme Inc", "f".repeat(32).as_str())
        );
        assert!(
            !updated.validate_signatures && updated.enhanced_sip && updated.twiml_warnings_only
        );
        assert_eq!(updated.date_created, a.date_created);
        // An empty update changes nothing but the timestamp.
        let same = store
            .update_account(&a.sid, &AccountUpdate::default())
            .unwrap()
            .unwrap();
        assert_eq!(same.friendly_name, "Acme Inc");
        assert!(same.enhanced_sip);
        assert_eq!(store.update_account("ACmissing", &update).unwrap(), None);
        assert_eq!(store.account("ACmissing").unwrap(), None);
    }

    #[test]
    fn blobs_round_trip_are_idempotent_and_detect_corruption() {
        let (dir, store) = open();
        let wasm = b"\0asm\x01\0\0\0 some component bytes";
        let sha = store.put_blob(wasm).unwrap();
        assert_eq!(sha, hex::encode(Sha256::digest(wasm)));
        let path = dir.path().join("blobs/sha256").join(&sha[..2]).join(&sha);
        assert!(path.is_file());
        assert_eq!(store.blob(&sha).unwrap(), wasm);

        let before = fs::metadata(&path).unwrap().modified().unwrap();
        assert_eq!(store.put_blob(wasm).unwrap(), sha);
        assert_eq!(
            fs::metadata(&path).unwrap().modified().unwrap(),
            before,
            "existing blob was rewritten"
        );
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            [std::ffi::OsString::from(&sha)],
            "temp files left behind"
        );

        let mut bytes = fs::read(&path).unwrap();
        bytes[3] ^= 0xff;
        fs::write(&path, &bytes).unwrap();
        assert!(matches!(store.blob(&sha), Err(StoreError::Corrupt(_))));
        // Uploading the same content again repairs the damaged file.
        assert_eq!(store.put_blob(wasm).unwrap(), sha);
        assert_eq!(store.blob(&sha).unwrap(), wasm);

        let missing = hex::encode(Sha256::digest(b"never stored"));
        assert!(
            matches!(store.blob(&missing), Err(StoreError::Io(e)) if e.kind() == io::ErrorKind::NotFound)
        );
        assert!(
            matches!(store.blob("../../twiml-edge.db"), Err(StoreError::Io(e)) if e.kind() == io::ErrorKind::InvalidInput)
        );
    }

    #[test]
    fn functions() {
        let (_dir, store) = open();
        let a = store.create_account("A").unwrap().sid;
        let b = store.create_account("B").unwrap().sid;
        let v1 = blob(&store, b"one");
        let f = store.create_function(&a, "hello", v1.bytes).unwrap();
        assert!(
            is_sid(&f.sid, "ZH") && is_sid(&f.version.sid, "ZN"),
            "{f:?}"
        );
        assert_eq!(
            (
                f.version.function_sid.as_str(),
                f.version.sha256.as_str(),
                f.version.size
            ),
            (f.sid.as_str(), v1.sha256.as_str(), 3)
        );
        assert_eq!(store.function(&a, &f.sid).unwrap(), Some(f.clone()));
        assert_eq!(store.function_by_sid(&f.sid).unwrap(), Some(f.clone()));
        assert_eq!(
            store.function_by_name(&a, "hello").unwrap(),
            Some(f.clone())
        );
        assert_eq!(store.function_by_name(&a, "nope").unwrap(), None);

        assert!(
            matches!(store.create_function(&a, "hello", v1.bytes), Err(StoreError::Conflict(m)) if m.contains("\"hello\""))
        );
        let other = store.create_function(&b, "hello", v1.bytes).unwrap(); // names are per account

        let v2 = blob(&store, b"two");
        let g = store
            .add_function_version(&a, &f.sid, v2.bytes)
            .unwrap()
            .unwrap();
        assert_eq!(
            (g.sid.as_str(), g.version.sha256.as_str()),
            (f.sid.as_str(), v2.sha256.as_str())
        );
        assert_ne!(g.version.sid, f.version.sid);
        assert_eq!(store.function(&a, &f.sid).unwrap(), Some(g.clone()));
        let versions = store.function_versions(&a, &f.sid).unwrap().unwrap();
        assert_eq!(
            versions,
            [g.version.clone(), f.version.clone()],
            "newest first"
        );
        assert_eq!(
            store
                .add_function_version(&a, "ZHmissing", v2.bytes)
                .unwrap(),
            None
        );
        assert_eq!(store.function_versions(&a, "ZHmissing").unwrap(), None);

        let listing = store.functions(&a, ALL).unwrap();
        assert_eq!(
            (listing.items, listing.total, listing.has_more),
            (vec![g.clone()], 1, false)
        );
        let mut all = store.all_functions().unwrap();
        all.sort_by(|x, y| x.sid.cmp(&y.sid));
        let mut expected = vec![g.clone(), other];
        expected.sort_by(|x, y| x.sid.cmp(&y.sid));
        assert_eq!(all, expected);

        assert!(store.delete_function(&a, &f.sid).unwrap());
        assert!(!store.delete_function(&a, &f.sid).unwrap());
        assert_eq!(store.function(&a, &f.sid).unwrap(), None);
        assert_eq!(store.function_versions(&a, &f.sid).unwrap(), None);
        let orphans: i64 = store
            .lock()
            .query_row(
                "SELECT count(*) FROM function_versions WHERE function_sid = ?1",
                [&f.sid],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(orphans, 0);
        assert_eq!(
            store.blob(&v1.sha256).unwrap(),
            b"one",
            "blobs stay after delete"
        );
        // The name is free again.
        store.create_function(&a, "hello", v1.bytes).unwrap();
    }

    #[test]
    fn bins() {
        let (_dir, store) = open();
        let a = store.create_account("A").unwrap().sid;
        let bin = store
            .create_bin(&a, "greeting", "<Response><Say>Hi</Say></Response>")
            .unwrap();
        assert!(is_sid(&bin.sid, "EH"), "{bin:?}");
        assert_eq!(store.bin(&a, &bin.sid).unwrap(), Some(bin.clone()));
        assert_eq!(store.bin_by_sid(&bin.sid).unwrap(), Some(bin.clone()));
        assert!(matches!(
            store.create_bin(&a, "greeting", ""),
            Err(StoreError::Conflict(_))
        ));

        let renamed = store
            .update_bin(&a, &bin.sid, Some("hello"), None)
            .unwrap()
            .unwrap();
        assert_eq!(
            (renamed.friendly_name.as_str(), renamed.template.as_str()),
            ("hello", bin.template.as_str())
        );
        let retemplated = store
            .update_bin(&a, &bin.sid, None, Some("<Response/>"))
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                retemplated.friendly_name.as_str(),
                retemplated.template.as_str()
            ),
            ("hello", "<Response/>")
        );
        let second = store.create_bin(&a, "second", "<Response/>").unwrap();
        assert!(matches!(
            store.update_bin(&a, &second.sid, Some("hello"), None),
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(
            store.update_bin(&a, "EHmissing", Some("x"), None).unwrap(),
            None
        );

        let listing = store.bins(&a, ALL).unwrap();
        assert_eq!(listing.total, 2);
        assert_eq!(store.all_bins().unwrap().len(), 2);
        assert!(store.delete_bin(&a, &bin.sid).unwrap());
        assert!(!store.delete_bin(&a, &bin.sid).unwrap());
        assert_eq!(store.bin_by_sid(&bin.sid).unwrap(), None);
    }

    #[test]
    fn domains() {
        let (_dir, store) = open();
        let a = store.create_account("A").unwrap().sid;
        let b = store.create_account("B").unwrap().sid;
        let fields = DomainFields {
            friendly_name: Some("SF office".into()),
            voice_fallback_url: Some("https://example.com/fallback".into()),
            voice_status_callback_url: Some("https://example.com/status".into()),
            sip_registration: true,
            auth_type: "CREDENTIAL_LIST".into(),
            ..domain_fields("acme-sf.sip.twilio.com")
        };
        let d = store.create_domain(&a, &fields).unwrap();
        assert!(is_sid(&d.sid, "SD"), "{d:?}");
        assert_eq!(d.fields, fields);
        assert_eq!(store.domain(&a, &d.sid).unwrap(), Some(d.clone()));
        assert_eq!(store.domain_by_sid(&d.sid).unwrap(), Some(d.clone()));
        assert_eq!(
            store.domain_by_name("ACME-SF.sip.Twilio.com").unwrap(),
            Some(d.clone())
        );
        assert_eq!(store.domain_by_name("other.sip.twilio.com").unwrap(), None);

        // Unique across accounts and case.
        for account in [&a, &b] {
            let taken = store.create_domain(account, &domain_fields("Acme-SF.SIP.twilio.com"));
            assert!(
                matches!(taken, Err(StoreError::Conflict(m)) if m.contains("Acme-SF.SIP.twilio.com"))
            );
        }

        let new = DomainFields {
            voice_method: "GET".into(),
            ..domain_fields("acme-ny.sip.twilio.com")
        };
        let updated = store.update_domain(&a, &d.sid, &new).unwrap().unwrap();
        assert_eq!(
            (updated.fields.clone(), updated.date_created),
            (new.clone(), d.date_created)
        );
        assert_eq!(
            updated.fields.friendly_name, None,
            "update replaces the full state"
        );
        assert_eq!(
            store.domain_by_name("acme-sf.sip.twilio.com").unwrap(),
            None
        );
        let other = store
            .create_domain(&b, &domain_fields("acme-sf.sip.twilio.com"))
            .unwrap();
        assert!(matches!(
            store.update_domain(&b, &other.sid, &new),
            Err(StoreError::Conflict(_))
        ));
        // Changing only the case of its own name is not a conflict.
        let upper = DomainFields {
            domain_name: "ACME-NY.sip.twilio.com".into(),
            ..new
        };
        assert_eq!(
            store
                .update_domain(&a, &d.sid, &upper)
                .unwrap()
                .unwrap()
                .fields,
            upper
        );
        assert_eq!(store.update_domain(&a, "SDmissing", &upper).unwrap(), None);

        assert!(store.delete_domain(&a, &d.sid).unwrap());
        assert!(!store.delete_domain(&a, &d.sid).unwrap());
        assert_eq!(
            store.domain_by_name("acme-ny.sip.twilio.com").unwrap(),
            None
        );
        assert_eq!(store.domains(&a, ALL).unwrap().total, 0);
        assert_eq!(store.domains(&b, ALL).unwrap().items, [other]);
    }

    #[test]
    fn a_domain_is_known_by_every_regional_form_and_no_one_else_may_take_one() {
        let (_dir, store) = open();
        let a = store.create_account("a").unwrap();
        let b = store.create_account("b").unwrap();
        let domain = store
            .create_domain(&a.sid, &domain_fields("acme.sip.twilio.com"))
            .unwrap();
        for regional in [
            "acme.sip.us1.twilio.com",
            "ACME.sip.ie1.twilio.com",
            "acme.sip.sydney.twilio.com",
        ] {
            assert_eq!(
                store.domain_by_name(regional).unwrap().unwrap().sid,
                domain.sid,
                "{regional}"
            );
            let err = store
                .create_domain(&b.sid, &domain_fields(regional))
                .unwrap_err();
            assert!(matches!(err, StoreError::Conflict(_)), "{regional}: {err}");
        }
        // A label that is no region is a name of its own.
        assert!(
            store
                .domain_by_name("acme.sip.example.twilio.com")
                .unwrap()
                .is_none()
        );
        store
            .create_domain(&b.sid, &domain_fields("acme.sip.example.twilio.com"))
            .unwrap();
        assert_eq!(domain_base("x.sip.us2.twilio.com"), "x.sip.twilio.com");
        assert_eq!(domain_base("Pbx.Example.com"), "pbx.example.com");
    }

    #[test]
    fn tenancy() {
        let (_dir, store) = open();
        let a = store.create_account("A").unwrap().sid;
        let b = store.create_account("B").unwrap().sid;
        let v = blob(&store, b"wasm");
        let f = store.create_function(&a, "f", v.bytes).unwrap();
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
    fn call_log() {
        let (_dir, store) = open();
        let a = store.create_account("A").unwrap().sid;
        let (f1, f2, d1) = ("ZH1", "ZH2", "SD1");
        let records = vec![
            call(&a, 1, Some(f1), Some(d1)),
            call(&a, 2, Some(f2), None),
            call(&a, 3, None, Some(d1)),
            call(&a, 4, Some(f1), None),
        ];
        store.record_calls(&records).unwrap();
        store.record_calls(&[]).unwrap();
        let filter = |function_sid: Option<&str>, domain_sid: Option<&str>, limit| CallFilter {
            function_sid: function_sid.map(str::to_owned),
            domain_sid: domain_sid.map(str::to_owned),
            limit,
        };
        let sids = |f: CallFilter| -> Vec<String> {
            store
                .calls(&a, &f)
                .unwrap()
                .into_iter()
                .map(|c| c.call_sid)
                .collect()
        };
        let nth = |n: usize| records[n - 1].call_sid.clone();

        let all = store.calls(&a, &filter(None, None, 100)).unwrap();
        assert_eq!(
            all.first(),
            Some(&records[3]),
            "full record round trips, newest first"
        );
        assert_eq!(
            sids(filter(None, None, 100)),
            [nth(4), nth(3), nth(2), nth(1)]
        );
        assert_eq!(sids(filter(None, None, 2)), [nth(4), nth(3)]);
        assert_eq!(sids(filter(Some(f1), None, 100)), [nth(4), nth(1)]);
        assert_eq!(sids(filter(None, Some(d1), 100)), [nth(3), nth(1)]);
        assert_eq!(sids(filter(Some(f1), Some(d1), 100)), [nth(1)]);
        assert!(sids(filter(None, None, 0)).is_empty());
    }

    #[test]
    fn call_log_is_trimmed_per_account_in_rows_and_bytes() {
        let (_dir, store) = open();
        let a = store.create_account("A").unwrap().sid;
        let b = store.create_account("B").unwrap().sid;
        let limit = i64::from(CALL_LOG_ROWS);
        let batch: Vec<_> = (0..limit + 5).map(|n| call(&a, n, None, None)).collect();
        store.record_calls(&batch).unwrap();
        store
            .record_calls(&[call(&b, 0, None, None), call(&a, limit + 5, None, None)])
            .unwrap();
        let (rows, bytes) = store.call_log_usage(&a).unwrap();
        assert_eq!(rows, limit as u64 + 6);
        let (kept_rows, _) = store
            .trim_calls(&a, u64::from(CALL_LOG_ROWS), CALL_LOG_BYTES)
            .unwrap();
        assert_eq!(kept_rows, u64::from(CALL_LOG_ROWS));
        assert_eq!(
            store.call_log_usage(&b).unwrap().0,
            1,
            "another account's log stays"
        );
        let kept = store
            .calls(
                &a,
                &CallFilter {
                    limit: u32::MAX,
                    ..CallFilter::default()
                },
            )
            .unwrap();
        assert_eq!(kept.len(), CALL_LOG_ROWS as usize);
        assert_eq!(
            kept.first().unwrap().date_created,
            1_700_000_000 + limit + 5
        );
        assert_eq!(
            kept.last().unwrap().date_created,
            1_700_000_000 + 6,
            "the oldest were dropped"
        );
        // In bytes: a tenth of what is there keeps about a tenth of the newest records.
        let per_record = bytes / (limit as u64 + 6);
        let (rows, bytes) = store
            .trim_calls(&a, u64::MAX >> 1, per_record * 100)
            .unwrap();
        assert!((90..=100).contains(&rows), "{rows}");
        assert!(bytes <= per_record * 100, "{bytes}");
        let newest = store
            .calls(
                &a,
                &CallFilter {
                    limit: 1,
                    ..CallFilter::default()
                },
            )
            .unwrap();
        assert_eq!(newest[0].date_created, 1_700_000_000 + limit + 5);
    }

    #[test]
    fn quotas_are_kept_in_the_transaction_and_blobs_no_version_names_go() {
        let dir = tempfile::tempdir().unwrap();
        let quotas = Quotas {
            functions: 2,
            versions_per_function: 2,
            stored_bytes: 10,
            bins: 1,
            domains: 1,
        };
        let store = Store::open(dir.path()).unwrap().with_quotas(quotas);
        let a = store.create_account("A").unwrap().sid;
        let b = store.create_account("B").unwrap().sid;
        let f = store.create_function(&a, "f", b"1234").unwrap();
        let g = store.create_function(&a, "g", b"5678").unwrap();
        let quota = |r: Result<Function>, want: &str| match r {
            Err(StoreError::Quota(m)) => assert!(m.contains(want), "{m}"),
            other => panic!("{other:?}"),
        };
        quota(store.create_function(&a, "h", b"x"), "2 functions");
        quota(
            store
                .add_function_version(&a, &f.sid, b"abcdefgh")
                .map(Option::unwrap),
            "bytes",
        );
        store.create_function(&b, "h", b"123456").unwrap(); // quotas are per account
        let f2 = store
            .add_function_version(&a, &f.sid, b"ab")
            .unwrap()
            .unwrap();
        quota(
            store
                .add_function_version(&a, &f.sid, b"c")
                .map(Option::unwrap),
            "2 versions",
        );
        assert!(matches!(
            store.check_upload(&a, None, 1),
            Err(StoreError::Quota(_))
        ));
        // The version that runs cannot go; an old one can, and takes its blob with it.
        assert!(matches!(
            store.delete_function_version(&a, &f.sid, &f2.version.sid),
            Err(StoreError::Conflict(_))
        ));
        let old = store.blob_path(&f.version.sha256);
        assert!(old.exists());
        assert_eq!(
            store
                .delete_function_version(&a, &f.sid, &f.version.sid)
                .unwrap(),
            Some(())
        );
        assert!(!old.exists(), "a blob no version names is removed");
        assert_eq!(
            store
                .delete_function_version(&b, &f.sid, &f2.version.sid)
                .unwrap(),
            None
        );
        // A blob another account's version names stays.
        let shared = store.create_function(&b, "same", b"5678").unwrap();
        assert!(store.delete_function(&a, &g.sid).unwrap());
        assert_eq!(store.blob(&shared.version.sha256).unwrap(), b"5678");
        store.create_bin(&a, "one", "<Response/>").unwrap();
        assert!(matches!(
            store.create_bin(&a, "two", "<Response/>"),
            Err(StoreError::Quota(_))
        ));
        store
            .create_domain(&a, &domain_fields("a.sip.twilio.com"))
            .unwrap();
        assert!(matches!(
            store.create_domain(&a, &domain_fields("b.sip.twilio.com")),
            Err(StoreError::Quota(_))
        ));
    }

    #[test]
    fn a_file_cache_returns_only_what_it_was_given_whole() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FileCache::open(&dir.path().join("compiled")).unwrap();
        cache.save("abc-1", b"compiled code").unwrap();
        cache.save("def-1", b"other").unwrap();
        assert_eq!(cache.load("abc-1").unwrap(), b"compiled code");
        assert_eq!(cache.load("missing"), None);
        assert_eq!(cache.load("../escape"), None);
        assert!(cache.save("../escape", b"x").is_err());
        // A damaged entry is not returned.
        let path = dir.path().join("compiled/abc-1.entry");
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(cache.load("abc-1"), None);
        // Leftovers and refused keys go; kept ones stay.
        fs::write(dir.path().join("compiled/.tmp-123"), b"torn").unwrap();
        assert_eq!(cache.retain(&|key| key == "def-1"), 2);
        assert_eq!(cache.load("def-1").unwrap(), b"other");
        assert_eq!(
            fs::read_dir(dir.path().join("compiled")).unwrap().count(),
            1
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_store_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let store = Store::open(&data).unwrap();
        store
            .create_function(&store.create_account("A").unwrap().sid, "f", b"wasm")
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

    #[test]
    fn reopen_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        let (account, function, bin, domain) = {
            let store = Store::open(dir.path()).unwrap();
            let account = store.create_account("A").unwrap();
            let v1 = blob(&store, b"v1");
            let function = store.create_function(&account.sid, "f", v1.bytes).unwrap();
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
        let store = Store::open(dir.path()).unwrap();
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
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        Connection::open(dir.path().join(DB_FILE))
            .unwrap()
            .pragma_update(None, "user_version", 3)
            .unwrap();
        let err = Store::open(dir.path()).unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt(m) if m.contains("use a newer twiml-edge")),
            "{err}"
        );
    }

    #[test]
    fn two_handles_see_each_others_writes() {
        let dir = tempfile::tempdir().unwrap();
        let (cli, server) = (
            Store::open(dir.path()).unwrap(),
            Store::open(dir.path()).unwrap(),
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
}
