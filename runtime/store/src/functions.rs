//! Functions: an account's uploaded wasm, every upload a version, the blobs content-addressed on
//! disk beside the database and removed when no version names them.

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use rusqlite::{Connection, OptionalExtension as _, Params, Row, Transaction, types::Type};
use sha2::{Digest, Sha256};

use crate::{
    Result, SqliteStore, StoreError,
    files::{create_dir_private, io_context, sync_dir, write_atomic},
    sqlite::{
        Listing, Page, Record, conflict, count, delete, find, find_all, get_u64, listing, lock,
        new_sid, now, sql_u64, write_tx,
    },
};

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
    /// The hosts the function may send requests to, as written (the outbound crate parses
    /// them); empty: none.
    pub allowed_hosts: Vec<String>,
    /// Creation time, unix seconds.
    pub date_created: i64,
    /// Last change (new version or allowed hosts), unix seconds.
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

/// Functions, their versions and their wasm in a store.
pub trait FunctionStore: Send + Sync {
    /// Whether the account may store `size` more bytes of wasm as a new function
    /// (`function_sid` `None`) or a new version of one: `Quota` when not. Checked again when the
    /// upload is stored; this is for refusing before compiling.
    fn check_upload(&self, account_sid: &str, function_sid: Option<&str>, size: u64) -> Result<()>;

    /// Creates a function whose first version is `wasm` and which may send requests to
    /// `allowed_hosts`; `Conflict` if the name is taken, `Quota` if the account may not store it.
    /// The blob is durable before the row that names it.
    fn create_function(
        &self,
        account_sid: &str,
        friendly_name: &str,
        wasm: &[u8],
        allowed_hosts: &[String],
    ) -> Result<Function>;

    /// Makes `wasm` the function's current version; `None` if the account has no such function,
    /// `Quota` if it may not store it.
    fn add_function_version(
        &self,
        account_sid: &str,
        function_sid: &str,
        wasm: &[u8],
    ) -> Result<Option<Function>>;

    /// Replaces the hosts the account's function may send requests to; `None` if there is no
    /// such function.
    fn set_allowed_hosts(
        &self,
        account_sid: &str,
        sid: &str,
        hosts: &[String],
    ) -> Result<Option<Function>>;

    /// The account's function with this sid.
    fn function(&self, account_sid: &str, sid: &str) -> Result<Option<Function>>;

    /// The function with this sid in any account (for routing).
    fn function_by_sid(&self, sid: &str) -> Result<Option<Function>>;

    /// The account's function with this friendly name.
    fn function_by_name(&self, account_sid: &str, friendly_name: &str) -> Result<Option<Function>>;

    /// One page of the account's functions, oldest first.
    fn functions(&self, account_sid: &str, page: Page) -> Result<Listing<Function>>;

    /// Every function of every account (for loading at start).
    fn all_functions(&self) -> Result<Vec<Function>>;

    /// The versions of the account's function, newest first; `None` if there is no such function.
    fn function_versions(
        &self,
        account_sid: &str,
        function_sid: &str,
    ) -> Result<Option<Vec<FunctionVersion>>>;

    /// Deletes the account's function and its versions, and every blob no other version names.
    fn delete_function(&self, account_sid: &str, sid: &str) -> Result<bool>;

    /// Deletes one version of the account's function, and its blob when no other version names
    /// it: `None` when there is no such version, `Conflict` when it is the one that runs.
    fn delete_function_version(
        &self,
        account_sid: &str,
        function_sid: &str,
        version_sid: &str,
    ) -> Result<Option<()>>;

    /// Reads a blob, verifying its hash: `Corrupt` on mismatch, `Io` `NotFound` when missing.
    fn blob(&self, sha256: &str) -> Result<Vec<u8>>;
}

impl FunctionStore for SqliteStore {
    fn check_upload(&self, account_sid: &str, function_sid: Option<&str>, size: u64) -> Result<()> {
        let conn = self.lock();
        self.upload_fits(&conn, account_sid, function_sid, size)
    }

    fn create_function(
        &self,
        account_sid: &str,
        friendly_name: &str,
        wasm: &[u8],
        allowed_hosts: &[String],
    ) -> Result<Function> {
        let (sid, now) = (new_sid("ZH")?, now());
        let hosts = hosts_json(allowed_hosts)?;
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
            "INSERT INTO functions (sid, account_sid, friendly_name, version_sid, date_created,
                 date_updated, allowed_hosts)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
            (&sid, account_sid, friendly_name, &version.sid, now, &hosts),
        )
        .map_err(conflict(|| {
            format!("a function named {friendly_name:?} already exists")
        }))?;
        insert_version(&tx, &version)?;
        tx.commit()?;
        Ok(Function {
            sid,
            account_sid: account_sid.to_owned(),
            friendly_name: friendly_name.to_owned(),
            version,
            allowed_hosts: allowed_hosts.to_vec(),
            date_created: now,
            date_updated: now,
        })
    }

    fn add_function_version(
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

    fn set_allowed_hosts(
        &self,
        account_sid: &str,
        sid: &str,
        hosts: &[String],
    ) -> Result<Option<Function>> {
        let hosts = hosts_json(hosts)?;
        let mut conn = self.lock();
        let tx = write_tx(&mut conn)?;
        let changed = tx.execute(
            "UPDATE functions SET allowed_hosts = ?3, date_updated = ?4
             WHERE account_sid = ?1 AND sid = ?2",
            (account_sid, sid, &hosts, now()),
        )?;
        if changed == 0 {
            return Ok(None);
        }
        let function = find(&tx, "x.account_sid = ?1 AND x.sid = ?2", (account_sid, sid))?;
        tx.commit()?;
        Ok(function)
    }

    fn function(&self, account_sid: &str, sid: &str) -> Result<Option<Function>> {
        find(
            &self.lock(),
            "x.account_sid = ?1 AND x.sid = ?2",
            (account_sid, sid),
        )
    }

    fn function_by_sid(&self, sid: &str) -> Result<Option<Function>> {
        find(&self.lock(), "x.sid = ?1", [sid])
    }

    fn function_by_name(&self, account_sid: &str, friendly_name: &str) -> Result<Option<Function>> {
        find(
            &self.lock(),
            "x.account_sid = ?1 AND x.friendly_name = ?2",
            (account_sid, friendly_name),
        )
    }

    fn functions(&self, account_sid: &str, page: Page) -> Result<Listing<Function>> {
        listing(&mut self.lock(), account_sid, page)
    }

    fn all_functions(&self) -> Result<Vec<Function>> {
        find_all(&self.lock(), "ORDER BY x.date_created, x.rowid", [])
    }

    fn function_versions(
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

    fn delete_function(&self, account_sid: &str, sid: &str) -> Result<bool> {
        self.deleting_blobs(|tx| {
            let hashes = version_hashes(tx, "v.function_sid = ?1", [sid])?;
            let deleted = delete::<Function>(tx, account_sid, sid)?;
            Ok((deleted, hashes))
        })
    }

    fn delete_function_version(
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

    fn blob(&self, sha256: &str) -> Result<Vec<u8>> {
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
}

impl SqliteStore {
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

    /// Stores a wasm blob atomically and durably; returns its hex SHA-256. Call with `blobs` held
    /// until the row that names it commits.
    pub(crate) fn put_blob(&self, wasm: &[u8]) -> Result<String> {
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

    pub(crate) fn blob_path(&self, sha256: &str) -> PathBuf {
        self.dir
            .join("blobs")
            .join("sha256")
            .join(&sha256[..2])
            .join(sha256)
    }
}

impl Record for Function {
    const TABLE: &'static str = "functions";
    const SELECT: &'static str =
        "SELECT x.sid, x.account_sid, x.friendly_name, x.date_created, x.date_updated,
        v.sid, v.function_sid, v.sha256, v.size, v.date_created, x.allowed_hosts
        FROM functions x JOIN function_versions v ON v.sid = x.version_sid";
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            sid: r.get(0)?,
            account_sid: r.get(1)?,
            friendly_name: r.get(2)?,
            date_created: r.get(3)?,
            date_updated: r.get(4)?,
            version: version_at(r, 5)?,
            allowed_hosts: serde_json::from_str(&r.get::<_, String>(10)?).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(10, Type::Text, Box::new(e))
            })?,
        })
    }
}

/// `allowed_hosts` as stored: a JSON array of strings.
fn hosts_json(hosts: &[String]) -> Result<String> {
    Ok(serde_json::to_string(hosts).map_err(io::Error::from)?)
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

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::{testing::*, *};

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
        let f = store.create_function(&a, "hello", v1.bytes, &[]).unwrap();
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
            matches!(store.create_function(&a, "hello", v1.bytes, &[]), Err(StoreError::Conflict(m)) if m.contains("\"hello\""))
        );
        let other = store.create_function(&b, "hello", v1.bytes, &[]).unwrap(); // names are per account

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
        store.create_function(&a, "hello", v1.bytes, &[]).unwrap();
    }

    #[test]
    fn allowed_hosts() {
        let (_dir, store) = open();
        let a = store.create_account("A").unwrap().sid;
        let b = store.create_account("B").unwrap().sid;
        let hosts = [
            "api.example.com".to_owned(),
            "*.example.org:8443".to_owned(),
        ];
        let f = store.create_function(&a, "f", b"one", &hosts).unwrap();
        assert_eq!(f.allowed_hosts, hosts);
        assert_eq!(store.function(&a, &f.sid).unwrap(), Some(f.clone()));
        assert_eq!(
            store
                .create_function(&a, "g", b"one", &[])
                .unwrap()
                .allowed_hosts,
            Vec::<String>::new()
        );

        // A new version keeps them.
        let f = store
            .add_function_version(&a, &f.sid, b"two")
            .unwrap()
            .unwrap();
        assert_eq!(f.allowed_hosts, hosts);

        // Stored as written, whatever they say: the outbound crate judges them.
        let odd = ["".to_owned(), "\"quoted\" ]".to_owned(), "héllo".to_owned()];
        store
            .lock()
            .execute(
                "UPDATE functions SET date_updated = 0 WHERE sid = ?1",
                [&f.sid],
            )
            .unwrap();
        let g = store.set_allowed_hosts(&a, &f.sid, &odd).unwrap().unwrap();
        assert_eq!(g.allowed_hosts, odd);
        assert!(g.date_updated > 0, "date_updated changes");
        assert_eq!(
            (g.version.clone(), g.date_created),
            (f.version.clone(), f.date_created)
        );
        assert_eq!(store.function_by_sid(&f.sid).unwrap(), Some(g.clone()));
        assert_eq!(store.all_functions().unwrap()[0].allowed_hosts, odd);

        // Another account's sid behaves as missing, and changes nothing.
        assert_eq!(store.set_allowed_hosts(&b, &f.sid, &[]).unwrap(), None);
        assert_eq!(store.set_allowed_hosts(&a, "ZHmissing", &[]).unwrap(), None);
        assert_eq!(store.function(&a, &f.sid).unwrap(), Some(g));
        let cleared = store.set_allowed_hosts(&a, &f.sid, &[]).unwrap().unwrap();
        assert!(cleared.allowed_hosts.is_empty());
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
            ..Quotas::default()
        };
        let store = SqliteStore::open(dir.path()).unwrap().with_quotas(quotas);
        let a = store.create_account("A").unwrap().sid;
        let b = store.create_account("B").unwrap().sid;
        let f = store.create_function(&a, "f", b"1234", &[]).unwrap();
        let g = store.create_function(&a, "g", b"5678", &[]).unwrap();
        let quota = |r: Result<Function>, want: &str| match r {
            Err(StoreError::Quota(m)) => assert!(m.contains(want), "{m}"),
            other => panic!("{other:?}"),
        };
        quota(store.create_function(&a, "h", b"x", &[]), "2 functions");
        quota(
            store
                .add_function_version(&a, &f.sid, b"abcdefgh")
                .map(Option::unwrap),
            "bytes",
        );
        store.create_function(&b, "h", b"123456", &[]).unwrap(); // quotas are per account
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
        let shared = store.create_function(&b, "same", b"5678", &[]).unwrap();
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
}
