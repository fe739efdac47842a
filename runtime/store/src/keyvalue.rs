//! Key-value state per account: what the host side of `wasi:keyvalue@0.2.0-draft2` (store,
//! atomics, batch) keeps. Buckets are named within an account, so two accounts' buckets of one
//! name are two buckets; a bucket exists while it holds keys.
//!
//! Every write is one transaction holding the database's write lock from its first read, so an
//! increment or a compare-and-swap is atomic whichever connection or process runs it. The
//! account's usage row changes in that transaction, and a quota is checked against it before
//! commit.

use rusqlite::{Connection, OptionalExtension as _, Transaction};

use crate::{
    Result, SqliteStore, StoreError,
    sqlite::{sql_u64, write_tx},
};

/// The most bytes of a key (UTF-8).
pub const KV_MAX_KEY_BYTES: usize = 256;
/// The most bytes of a value.
pub const KV_MAX_VALUE_BYTES: usize = 64 << 10;
/// The most characters of a bucket's name.
pub const KV_MAX_BUCKET_CHARS: usize = 64;

/// Whether `name` names a bucket: 1 to [`KV_MAX_BUCKET_CHARS`] characters of `A-Z`, `a-z`,
/// `0-9`, `_`, `.` and `-`. The error says which rule is broken and by what.
pub fn check_bucket(name: &str) -> Result<(), String> {
    const NAMES_ARE: &str = "bucket names are made of A-Z, a-z, 0-9, _, . and -";
    let chars = name.chars().count();
    if chars == 0 {
        return Err(format!(
            "a bucket name may not be empty: {NAMES_ARE}, 1 to {KV_MAX_BUCKET_CHARS} of them"
        ));
    }
    if chars > KV_MAX_BUCKET_CHARS {
        return Err(format!(
            "a bucket name has at most {KV_MAX_BUCKET_CHARS} characters; this one has {chars}"
        ));
    }
    if let Some((i, c)) = name
        .chars()
        .enumerate()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "bucket name {name:?} has {c:?} at character {}: {NAMES_ARE}",
            i + 1
        ));
    }
    Ok(())
}

/// A bucket of an account and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketInfo {
    /// The bucket's name.
    pub name: String,
    /// How many keys it holds (at least one).
    pub keys: u64,
    /// Bytes of its keys and values.
    pub bytes: u64,
}

/// Each account's key-value buckets in a store.
///
/// Every method refuses a bucket name [`check_bucket`] refuses, a key longer than
/// [`KV_MAX_KEY_BYTES`] and a value longer than [`KV_MAX_VALUE_BYTES`] with `Invalid`; a write that
/// would take the account past its `kv_bytes` or `kv_buckets` quota changes nothing and is
/// `Quota`.
pub trait KeyValueStore: Send + Sync {
    /// The value of `key` in the account's bucket; `None` when absent.
    fn kv_get(&self, account_sid: &str, bucket: &str, key: &str) -> Result<Option<Vec<u8>>>;

    /// Sets `key` to `value` in the account's bucket, creating the bucket if needed.
    fn kv_set(&self, account_sid: &str, bucket: &str, key: &str, value: &[u8]) -> Result<()>;

    /// Deletes `key` from the account's bucket; whether it was there.
    fn kv_delete(&self, account_sid: &str, bucket: &str, key: &str) -> Result<bool>;

    /// Whether the account's bucket holds `key`.
    fn kv_exists(&self, account_sid: &str, bucket: &str, key: &str) -> Result<bool>;

    /// At most `limit` keys of the account's bucket, sorted bytewise, each strictly after `after`
    /// when given (pass the last key of a page to get the next).
    fn kv_keys(
        &self,
        account_sid: &str,
        bucket: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>>;

    /// Adds `delta` to the counter at `key` and returns the sum. A counter is an `i64` stored as
    /// 8 bytes little-endian (as Spin's SQLite key-value store keeps them) and a missing key is a
    /// counter at 0; `Invalid` when the value is not 8 bytes or the sum overflows.
    fn kv_increment(&self, account_sid: &str, bucket: &str, key: &str, delta: i64) -> Result<i64>;

    /// Sets `key` to `new` only if its value is `expected` (`None`: only if it is absent);
    /// whether it did.
    fn kv_compare_and_swap(
        &self,
        account_sid: &str,
        bucket: &str,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool>;

    /// The values of `keys` in the account's bucket, in the order asked, read together.
    fn kv_get_many(
        &self,
        account_sid: &str,
        bucket: &str,
        keys: &[String],
    ) -> Result<Vec<(String, Option<Vec<u8>>)>>;

    /// Sets every pair in the account's bucket, or none of them (a later pair of one key wins).
    fn kv_set_many(
        &self,
        account_sid: &str,
        bucket: &str,
        pairs: &[(String, Vec<u8>)],
    ) -> Result<()>;

    /// Deletes `keys` (those present) from the account's bucket, all or none.
    fn kv_delete_many(&self, account_sid: &str, bucket: &str, keys: &[String]) -> Result<()>;

    /// The account's buckets, by name.
    fn kv_buckets(&self, account_sid: &str) -> Result<Vec<BucketInfo>>;
}

impl KeyValueStore for SqliteStore {
    fn kv_get(&self, account_sid: &str, bucket: &str, key: &str) -> Result<Option<Vec<u8>>> {
        check_bucket_key(bucket, key)?;
        value(&self.lock(), account_sid, bucket, key)
    }

    fn kv_set(&self, account_sid: &str, bucket: &str, key: &str, value: &[u8]) -> Result<()> {
        check_bucket_key(bucket, key)?;
        check_value(key, value)?;
        self.kv_write(account_sid, |tx| put(tx, account_sid, bucket, key, value))
    }

    fn kv_delete(&self, account_sid: &str, bucket: &str, key: &str) -> Result<bool> {
        check_bucket_key(bucket, key)?;
        self.kv_write(account_sid, |tx| remove(tx, account_sid, bucket, key))
    }

    fn kv_exists(&self, account_sid: &str, bucket: &str, key: &str) -> Result<bool> {
        check_bucket_key(bucket, key)?;
        let found = self
            .lock()
            .prepare_cached("SELECT 1 FROM kv WHERE account_sid = ?1 AND bucket = ?2 AND key = ?3")?
            .query_row((account_sid, bucket, key.as_bytes()), |_| Ok(()))
            .optional()?;
        Ok(found.is_some())
    }

    fn kv_keys(
        &self,
        account_sid: &str,
        bucket: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>> {
        check_bucket(bucket).map_err(StoreError::Invalid)?;
        let limit = sql_u64(limit as u64);
        let conn = self.lock();
        // Keys are BLOBs, so `>` and ORDER BY compare bytes; two statements rather than an `OR`
        // so the primary key serves both as a range.
        let rows: Vec<Vec<u8>> = match after {
            None => conn
                .prepare_cached(
                    "SELECT key FROM kv WHERE account_sid = ?1 AND bucket = ?2
                     ORDER BY key LIMIT ?3",
                )?
                .query_map((account_sid, bucket, limit), |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?,
            Some(after) => conn
                .prepare_cached(
                    "SELECT key FROM kv WHERE account_sid = ?1 AND bucket = ?2 AND key > ?3
                     ORDER BY key LIMIT ?4",
                )?
                .query_map((account_sid, bucket, after.as_bytes(), limit), |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?,
        };
        rows.into_iter().map(key_string).collect()
    }

    fn kv_increment(&self, account_sid: &str, bucket: &str, key: &str, delta: i64) -> Result<i64> {
        check_bucket_key(bucket, key)?;
        self.kv_write(account_sid, |tx| {
            let current = match value(tx, account_sid, bucket, key)? {
                None => 0,
                Some(bytes) => {
                    let counter = <[u8; 8]>::try_from(bytes.as_slice()).map_err(|_| {
                        StoreError::Invalid(format!(
                            "key {key:?} holds {} bytes, not a counter (8-byte little-endian \
                             integer)",
                            bytes.len()
                        ))
                    })?;
                    i64::from_le_bytes(counter)
                }
            };
            let sum = current.checked_add(delta).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "key {key:?} holds {current}: adding {delta} overflows a 64-bit integer"
                ))
            })?;
            put(tx, account_sid, bucket, key, &sum.to_le_bytes())?;
            Ok(sum)
        })
    }

    fn kv_compare_and_swap(
        &self,
        account_sid: &str,
        bucket: &str,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool> {
        check_bucket_key(bucket, key)?;
        check_value(key, new)?;
        self.kv_write(account_sid, |tx| {
            if value(tx, account_sid, bucket, key)?.as_deref() != expected {
                return Ok(false);
            }
            put(tx, account_sid, bucket, key, new)?;
            Ok(true)
        })
    }

    fn kv_get_many(
        &self,
        account_sid: &str,
        bucket: &str,
        keys: &[String],
    ) -> Result<Vec<(String, Option<Vec<u8>>)>> {
        check_bucket(bucket).map_err(StoreError::Invalid)?;
        keys.iter().try_for_each(|key| check_key(key))?;
        let mut conn = self.lock();
        // One snapshot, so the values are those of one moment.
        let tx = conn.transaction()?;
        keys.iter()
            .map(|key| Ok((key.clone(), value(&tx, account_sid, bucket, key)?)))
            .collect()
    }

    fn kv_set_many(
        &self,
        account_sid: &str,
        bucket: &str,
        pairs: &[(String, Vec<u8>)],
    ) -> Result<()> {
        check_bucket(bucket).map_err(StoreError::Invalid)?;
        for (key, value) in pairs {
            check_key(key)?;
            check_value(key, value)?;
        }
        self.kv_write(account_sid, |tx| {
            pairs
                .iter()
                .try_for_each(|(key, value)| put(tx, account_sid, bucket, key, value))
        })
    }

    fn kv_delete_many(&self, account_sid: &str, bucket: &str, keys: &[String]) -> Result<()> {
        check_bucket(bucket).map_err(StoreError::Invalid)?;
        keys.iter().try_for_each(|key| check_key(key))?;
        self.kv_write(account_sid, |tx| {
            keys.iter()
                .try_for_each(|key| remove(tx, account_sid, bucket, key).map(drop))
        })
    }

    fn kv_buckets(&self, account_sid: &str) -> Result<Vec<BucketInfo>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT bucket, count(*), sum(length(key) + length(value)) FROM kv
             WHERE account_sid = ?1 GROUP BY bucket ORDER BY bucket",
        )?;
        let buckets = stmt
            .query_map([account_sid], |r| {
                Ok(BucketInfo {
                    name: r.get(0)?,
                    keys: crate::sqlite::get_u64(r, 1)?,
                    bytes: crate::sqlite::get_u64(r, 2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(buckets)
    }
}

/// What an account keeps: the row of `kv_usage`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Usage {
    bytes: u64,
    buckets: u64,
}

impl SqliteStore {
    /// Runs `write` in one write transaction, and commits it unless it took the account past a
    /// quota it was within (a write that shrinks an account already past one, after the quota
    /// was lowered, still goes).
    fn kv_write<T>(
        &self,
        account_sid: &str,
        write: impl FnOnce(&Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.lock();
        let tx = write_tx(&mut conn)?;
        let before = usage(&tx, account_sid)?;
        let result = write(&tx)?;
        let after = usage(&tx, account_sid)?;
        let q = self.quotas;
        if after.bytes > q.kv_bytes && after.bytes > before.bytes {
            return Err(StoreError::Quota(format!(
                "the account keeps {} bytes of key-value data; this write would make it {}, past \
                 the {} it may keep (the kv_bytes quota): delete keys first",
                before.bytes, after.bytes, q.kv_bytes
            )));
        }
        if after.buckets > u64::from(q.kv_buckets) && after.buckets > before.buckets {
            return Err(StoreError::Quota(format!(
                "the account has {} key-value buckets, the most it may have (the kv_buckets \
                 quota): write to one of them, or delete every key of one first",
                before.buckets
            )));
        }
        tx.commit()?;
        Ok(result)
    }
}

fn check_bucket_key(bucket: &str, key: &str) -> Result<()> {
    check_bucket(bucket).map_err(StoreError::Invalid)?;
    check_key(key)
}

fn check_key(key: &str) -> Result<()> {
    if key.len() > KV_MAX_KEY_BYTES {
        return Err(StoreError::Invalid(format!(
            "a key has at most {KV_MAX_KEY_BYTES} bytes; this one has {}",
            key.len()
        )));
    }
    Ok(())
}

fn check_value(key: &str, value: &[u8]) -> Result<()> {
    if value.len() > KV_MAX_VALUE_BYTES {
        return Err(StoreError::Invalid(format!(
            "the value for key {key:?} has {} bytes; a value has at most {KV_MAX_VALUE_BYTES}",
            value.len()
        )));
    }
    Ok(())
}

fn usage(conn: &Connection, account_sid: &str) -> Result<Usage> {
    let usage = conn
        .prepare_cached("SELECT bytes, buckets FROM kv_usage WHERE account_sid = ?1")?
        .query_row([account_sid], |r| {
            Ok(Usage {
                bytes: crate::sqlite::get_u64(r, 0)?,
                buckets: crate::sqlite::get_u64(r, 1)?,
            })
        })
        .optional()?;
    Ok(usage.unwrap_or_default())
}

fn value(conn: &Connection, account_sid: &str, bucket: &str, key: &str) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached("SELECT value FROM kv WHERE account_sid = ?1 AND bucket = ?2 AND key = ?3")?
        .query_row((account_sid, bucket, key.as_bytes()), |r| r.get(0))
        .optional()?)
}

fn bucket_exists(conn: &Connection, account_sid: &str, bucket: &str) -> Result<bool> {
    let found = conn
        .prepare_cached("SELECT 1 FROM kv WHERE account_sid = ?1 AND bucket = ?2 LIMIT 1")?
        .query_row((account_sid, bucket), |_| Ok(()))
        .optional()?;
    Ok(found.is_some())
}

/// Sets one key and changes the account's usage to match.
fn put(conn: &Connection, account_sid: &str, bucket: &str, key: &str, value: &[u8]) -> Result<()> {
    let old: Option<i64> = conn
        .prepare_cached(
            "SELECT length(key) + length(value) FROM kv
             WHERE account_sid = ?1 AND bucket = ?2 AND key = ?3",
        )?
        .query_row((account_sid, bucket, key.as_bytes()), |r| r.get(0))
        .optional()?;
    let new_bucket = old.is_none() && !bucket_exists(conn, account_sid, bucket)?;
    conn.prepare_cached(
        "INSERT INTO kv (account_sid, bucket, key, value) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (account_sid, bucket, key) DO UPDATE SET value = excluded.value",
    )?
    .execute((account_sid, bucket, key.as_bytes(), value))?;
    let size = sql_u64((key.len() + value.len()) as u64);
    add_usage(
        conn,
        account_sid,
        size - old.unwrap_or(0),
        i64::from(new_bucket),
    )
}

/// Deletes one key and changes the account's usage to match; whether it was there.
fn remove(conn: &Connection, account_sid: &str, bucket: &str, key: &str) -> Result<bool> {
    let size: Option<i64> = conn
        .prepare_cached(
            "DELETE FROM kv WHERE account_sid = ?1 AND bucket = ?2 AND key = ?3
             RETURNING length(key) + length(value)",
        )?
        .query_row((account_sid, bucket, key.as_bytes()), |r| r.get(0))
        .optional()?;
    let Some(size) = size else {
        return Ok(false);
    };
    let gone = !bucket_exists(conn, account_sid, bucket)?;
    add_usage(conn, account_sid, -size, -i64::from(gone))?;
    Ok(true)
}

fn add_usage(conn: &Connection, account_sid: &str, bytes: i64, buckets: i64) -> Result<()> {
    if (bytes, buckets) == (0, 0) {
        return Ok(());
    }
    // An update, then an insert when there is no row: an upsert would check the row it inserts
    // against `bytes >= 0` before finding the one it updates.
    let updated = conn
        .prepare_cached(
            "UPDATE kv_usage SET bytes = bytes + ?2, buckets = buckets + ?3 WHERE account_sid = ?1",
        )?
        .execute((account_sid, bytes, buckets))?;
    if updated == 0 {
        conn.prepare_cached(
            "INSERT INTO kv_usage (account_sid, bytes, buckets) VALUES (?1, ?2, ?3)",
        )?
        .execute((account_sid, bytes, buckets))?;
    }
    Ok(())
}

/// A stored key: always the UTF-8 of a `&str`, since only those are written.
fn key_string(bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        StoreError::Corrupt(format!(
            "a key-value key is not UTF-8 ({e}): the database was changed outside twiml-edge"
        ))
    })
}

#[cfg(test)]
mod tests {
    use std::{sync::Arc, thread};

    use super::*;
    use crate::{testing::*, *};

    fn invalid<T: std::fmt::Debug>(r: Result<T>) -> String {
        match r {
            Err(StoreError::Invalid(m)) => m,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    fn quota<T: std::fmt::Debug>(r: Result<T>) -> String {
        match r {
            Err(StoreError::Quota(m)) => m,
            other => panic!("expected Quota, got {other:?}"),
        }
    }

    /// The usage row agrees with what the account holds.
    fn assert_usage_is_kept(store: &SqliteStore, account_sid: &str) {
        let conn = store.lock();
        let kept = usage(&conn, account_sid).unwrap();
        let summed: (i64, i64) = conn
            .query_row(
                "SELECT coalesce(sum(length(key) + length(value)), 0), count(DISTINCT bucket)
                 FROM kv WHERE account_sid = ?1",
                [account_sid],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((kept.bytes as i64, kept.buckets as i64), summed);
    }

    fn keys(names: &[&str]) -> Vec<String> {
        names.iter().map(|&k| k.to_owned()).collect()
    }

    #[test]
    fn bucket_rules() {
        let longest = "b".repeat(KV_MAX_BUCKET_CHARS);
        for ok in ["a", "default", "my-bucket.v2_x", "0", longest.as_str()] {
            assert_eq!(check_bucket(ok), Ok(()), "{ok:?}");
        }
        let too_long = "b".repeat(KV_MAX_BUCKET_CHARS + 1);
        for (name, says) in [
            ("", "may not be empty"),
            (too_long.as_str(), "at most 64 characters; this one has 65"),
            ("a/b", "has '/' at character 2"),
            ("a b", "has ' ' at character 2"),
            ("bücket", "has 'ü' at character 2"),
            ("x\0", "has '\\0' at character 2"),
        ] {
            let message = check_bucket(name).unwrap_err();
            assert!(message.contains(says), "{name:?}: {message}");
        }
    }

    #[test]
    fn key_value_and_bucket_rules_are_kept() {
        let (_dir, store) = open();
        let a = store.create_account("A").unwrap().sid;
        let key = "k".repeat(KV_MAX_KEY_BYTES);
        let value = vec![7; KV_MAX_VALUE_BYTES];
        store.kv_set(&a, "b", &key, &value).unwrap();
        assert_eq!(store.kv_get(&a, "b", &key).unwrap(), Some(value.clone()));

        let long_key = "é".repeat(KV_MAX_KEY_BYTES / 2 + 1); // 129 characters, 258 bytes
        let message = invalid(store.kv_set(&a, "b", &long_key, b"v"));
        assert!(
            message.contains("at most 256 bytes; this one has 258"),
            "{message}"
        );
        let long_value = vec![0; KV_MAX_VALUE_BYTES + 1];
        let message = invalid(store.kv_set(&a, "b", "k", &long_value));
        assert!(
            message.contains("\"k\" has 65537 bytes; a value has at most 65536"),
            "{message}"
        );
        assert!(invalid(store.kv_set(&a, "no/such", "k", b"v")).contains("'/'"));
        assert!(invalid(store.kv_set(&a, "", "k", b"v")).contains("empty"));
        // Every operation keeps them.
        invalid(store.kv_get(&a, "", "k"));
        invalid(store.kv_get(&a, "b", &long_key));
        invalid(store.kv_exists(&a, "b c", "k"));
        invalid(store.kv_delete(&a, "b", &long_key));
        invalid(store.kv_keys(&a, "b/", None, 10));
        invalid(store.kv_increment(&a, "b", &long_key, 1));
        invalid(store.kv_compare_and_swap(&a, "b", "k", None, &long_value));
        invalid(store.kv_get_many(&a, "b", std::slice::from_ref(&long_key)));
        invalid(store.kv_delete_many(&a, "b", &["k".into(), long_key.clone()]));
        invalid(store.kv_set_many(&a, "b", &[(long_key.clone(), Vec::new())]));
        assert_eq!(store.kv_keys(&a, "b", None, 10).unwrap(), [key]);
        assert_usage_is_kept(&store, &a);
    }

    #[test]
    fn store_operations() {
        let (_dir, store) = open();
        let a = store.create_account("A").unwrap().sid;
        assert_eq!(store.kv_get(&a, "b", "k").unwrap(), None);
        assert!(!store.kv_exists(&a, "b", "k").unwrap());
        store.kv_set(&a, "b", "k", b"one").unwrap();
        assert_eq!(store.kv_get(&a, "b", "k").unwrap(), Some(b"one".to_vec()));
        assert!(store.kv_exists(&a, "b", "k").unwrap());
        store.kv_set(&a, "b", "k", b"").unwrap();
        assert_eq!(
            store.kv_get(&a, "b", "k").unwrap(),
            Some(Vec::new()),
            "empty is not absent"
        );
        store.kv_set(&a, "b", "", b"empty key").unwrap();
        store.kv_set(&a, "b", "nul\0key", b"\0\xff").unwrap();
        assert_eq!(
            store.kv_get(&a, "b", "nul\0key").unwrap(),
            Some(b"\0\xff".to_vec())
        );
        assert_eq!(store.kv_get(&a, "b", "nul").unwrap(), None);
        assert_eq!(
            store.kv_get(&a, "B", "k").unwrap(),
            None,
            "bucket names are case-sensitive"
        );
        assert_usage_is_kept(&store, &a);

        assert!(store.kv_delete(&a, "b", "k").unwrap());
        assert!(!store.kv_delete(&a, "b", "k").unwrap());
        assert!(!store.kv_exists(&a, "b", "k").unwrap());
        assert!(!store.kv_delete(&a, "never", "k").unwrap());
        assert_usage_is_kept(&store, &a);

        store.kv_set(&a, "other", "x", b"12345").unwrap();
        assert_eq!(
            store.kv_buckets(&a).unwrap(),
            [
                BucketInfo {
                    name: "b".into(),
                    keys: 2,
                    bytes: 9 + 7 + 2,
                },
                BucketInfo {
                    name: "other".into(),
                    keys: 1,
                    bytes: 6,
                },
            ]
        );
        // A bucket exists while it holds keys.
        store
            .kv_delete_many(&a, "b", &keys(&["", "nul\0key", "absent"]))
            .unwrap();
        assert_eq!(store.kv_buckets(&a).unwrap().len(), 1);
        assert_eq!(
            usage(&store.lock(), &a).unwrap(),
            Usage {
                bytes: 6,
                buckets: 1
            }
        );
        assert!(store.kv_delete(&a, "other", "x").unwrap());
        assert!(store.kv_buckets(&a).unwrap().is_empty());
        assert_eq!(usage(&store.lock(), &a).unwrap(), Usage::default());
    }

    #[test]
    fn another_accounts_bucket_of_the_same_name_is_another_bucket() {
        let (_dir, store) = open();
        let a = store.create_account("A").unwrap().sid;
        let b = store.create_account("B").unwrap().sid;
        store.kv_set(&a, "shared", "secret", b"a's").unwrap();
        store
            .kv_set(&a, "shared", "counter", &5_i64.to_le_bytes())
            .unwrap();

        assert_eq!(store.kv_get(&b, "shared", "secret").unwrap(), None);
        assert!(!store.kv_exists(&b, "shared", "secret").unwrap());
        assert_eq!(
            store.kv_keys(&b, "shared", None, 100).unwrap(),
            Vec::<String>::new()
        );
        assert!(store.kv_buckets(&b).unwrap().is_empty());
        assert_eq!(
            store.kv_get_many(&b, "shared", &keys(&["secret"])).unwrap(),
            [("secret".to_owned(), None)]
        );
        assert!(!store.kv_delete(&b, "shared", "secret").unwrap());
        store
            .kv_delete_many(&b, "shared", &keys(&["secret", "counter"]))
            .unwrap();
        assert!(
            !store
                .kv_compare_and_swap(&b, "shared", "secret", Some(b"a's"), b"b's")
                .unwrap()
        );
        // B's writes go to B's bucket.
        assert_eq!(store.kv_increment(&b, "shared", "counter", 1).unwrap(), 1);
        assert!(
            store
                .kv_compare_and_swap(&b, "shared", "secret", None, b"b's")
                .unwrap()
        );
        store
            .kv_set_many(&b, "shared", &[("x".into(), b"y".to_vec())])
            .unwrap();

        assert_eq!(
            store.kv_get(&a, "shared", "secret").unwrap(),
            Some(b"a's".to_vec())
        );
        assert_eq!(
            store.kv_get(&a, "shared", "counter").unwrap(),
            Some(5_i64.to_le_bytes().to_vec())
        );
        assert_eq!(
            store.kv_keys(&a, "shared", None, 100).unwrap(),
            keys(&["counter", "secret"])
        );
        assert_eq!(
            store.kv_get(&b, "shared", "secret").unwrap(),
            Some(b"b's".to_vec())
        );
        assert_eq!(
            store.kv_keys(&b, "shared", None, 100).unwrap(),
            keys(&["counter", "secret", "x"])
        );
        assert_usage_is_kept(&store, &a);
        assert_usage_is_kept(&store, &b);
    }

    #[test]
    fn writes_need_an_existing_account() {
        let (_dir, store) = open();
        assert!(matches!(
            store.kv_set("ACmissing", "b", "k", b"v"),
            Err(StoreError::Sqlite(_))
        ));
        assert_eq!(store.kv_get("ACmissing", "b", "k").unwrap(), None);
    }

    #[test]
    fn quotas() {
        let dir = tempfile::tempdir().unwrap();
        let quotas = Quotas {
            kv_bytes: 20,
            kv_buckets: 2,
            ..Quotas::default()
        };
        let store = SqliteStore::open(dir.path()).unwrap().with_quotas(quotas);
        let a = store.create_account("A").unwrap().sid;
        let b = store.create_account("B").unwrap().sid;
        store.kv_set(&a, "one", "k", b"123456789").unwrap(); // 10 bytes
        store.kv_set(&a, "two", "k", b"12345").unwrap(); // 6 bytes
        let message = quota(store.kv_set(&a, "two", "j", b"1234"));
        assert_eq!(
            message,
            "the account keeps 16 bytes of key-value data; this write would make it 21, past the \
             20 it may keep (the kv_bytes quota): delete keys first"
        );
        assert_eq!(
            store.kv_get(&a, "two", "j").unwrap(),
            None,
            "a refused write changes nothing"
        );
        store.kv_set(&a, "two", "j", b"123").unwrap(); // exactly 20
        // Overwriting with something as large or smaller still goes; larger does not.
        store.kv_set(&a, "one", "k", b"abcdefghi").unwrap();
        store.kv_set(&a, "one", "k", b"abc").unwrap();
        quota(store.kv_set(&a, "one", "k", b"abcdefghijk"));
        assert_eq!(store.kv_get(&a, "one", "k").unwrap(), Some(b"abc".to_vec()));
        // Counters and swaps count too.
        store.kv_set(&a, "one", "k", b"abcdefghi").unwrap();
        quota(store.kv_increment(&a, "one", "n", 1));
        quota(store.kv_compare_and_swap(&a, "one", "n", None, b""));
        assert!(!store.kv_exists(&a, "one", "n").unwrap());

        // The bucket quota: a third bucket is refused until one empties.
        assert!(store.kv_delete(&a, "one", "k").unwrap()); // "one" is empty, so gone
        assert_eq!(
            usage(&store.lock(), &a).unwrap(),
            Usage {
                bytes: 10,
                buckets: 1
            }
        );
        store.kv_set(&a, "one", "k", b"v").unwrap(); // and back
        let message = quota(store.kv_set(&a, "three", "k", b"v"));
        assert_eq!(
            message,
            "the account has 2 key-value buckets, the most it may have (the kv_buckets quota): \
             write to one of them, or delete every key of one first"
        );
        assert!(!store.kv_exists(&a, "three", "k").unwrap());
        assert!(store.kv_delete(&a, "two", "j").unwrap()); // "two" still holds "k"
        quota(store.kv_set_many(&a, "three", &[("k".into(), b"v".to_vec())]));
        store.kv_delete_many(&a, "two", &keys(&["k"])).unwrap();
        store.kv_set(&a, "three", "k", b"v").unwrap();
        assert_eq!(
            store
                .kv_buckets(&a)
                .unwrap()
                .iter()
                .map(|b| b.name.as_str())
                .collect::<Vec<_>>(),
            ["one", "three"]
        );
        // Quotas are per account.
        store.kv_set(&b, "x", "k", &[0; 18]).unwrap();
        store.kv_set(&b, "y", "k", b"").unwrap();
        assert_usage_is_kept(&store, &a);
        assert_usage_is_kept(&store, &b);

        // Lowered below what an account keeps, a quota still lets it shrink.
        let store = SqliteStore::open(dir.path()).unwrap().with_quotas(Quotas {
            kv_bytes: 1,
            kv_buckets: 1,
            ..Quotas::default()
        });
        store.kv_set(&b, "x", "k", &[0; 10]).unwrap();
        quota(store.kv_set(&b, "x", "k", &[0; 11]));
        assert!(store.kv_delete(&b, "y", "k").unwrap());
        assert_usage_is_kept(&store, &b);
    }

    #[test]
    fn increment() {
        let (_dir, store) = open();
        let a = store.create_account("A").unwrap().sid;
        assert_eq!(store.kv_increment(&a, "b", "n", 5).unwrap(), 5);
        assert_eq!(store.kv_increment(&a, "b", "n", -7).unwrap(), -2);
        assert_eq!(store.kv_increment(&a, "b", "n", 0).unwrap(), -2);
        assert_eq!(
            store.kv_get(&a, "b", "n").unwrap(),
            Some((-2_i64).to_le_bytes().to_vec())
        );
        // A counter written by someone else (a guest's set) counts on.
        store.kv_set(&a, "b", "m", &41_i64.to_le_bytes()).unwrap();
        assert_eq!(store.kv_increment(&a, "b", "m", 1).unwrap(), 42);

        store.kv_set(&a, "b", "text", b"12").unwrap();
        assert_eq!(
            invalid(store.kv_increment(&a, "b", "text", 1)),
            "key \"text\" holds 2 bytes, not a counter (8-byte little-endian integer)"
        );
        assert_eq!(store.kv_get(&a, "b", "text").unwrap(), Some(b"12".to_vec()));

        store
            .kv_set(&a, "b", "max", &(i64::MAX - 1).to_le_bytes())
            .unwrap();
        assert_eq!(store.kv_increment(&a, "b", "max", 1).unwrap(), i64::MAX);
        let message = invalid(store.kv_increment(&a, "b", "max", 1));
        assert!(message.contains("overflows"), "{message}");
        assert_eq!(
            store.kv_increment(&a, "b", "min", i64::MIN).unwrap(),
            i64::MIN
        );
        invalid(store.kv_increment(&a, "b", "min", -1));
        assert_eq!(
            store.kv_get(&a, "b", "max").unwrap(),
            Some(i64::MAX.to_le_bytes().to_vec())
        );
        assert_usage_is_kept(&store, &a);
    }

    #[test]
    fn increments_from_100_threads_all_count() {
        let (_dir, store) = open();
        let store = Arc::new(store);
        let a = store.create_account("A").unwrap().sid;
        let threads: Vec<_> = (0..100)
            .map(|_| {
                let (store, a) = (Arc::clone(&store), a.clone());
                thread::spawn(move || store.kv_increment(&a, "b", "n", 1).unwrap())
            })
            .collect();
        let mut seen: Vec<i64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        seen.sort_unstable();
        assert_eq!(
            seen,
            (1..=100).collect::<Vec<_>>(),
            "each saw a count of its own"
        );
        assert_eq!(
            store.kv_get(&a, "b", "n").unwrap(),
            Some(100_i64.to_le_bytes().to_vec())
        );
    }

    #[test]
    fn increments_through_two_handles_all_count() {
        // Two handles are two connections, as a CLI and a server are: only the database keeps
        // their increments apart.
        let dir = tempfile::tempdir().unwrap();
        let handles = [
            Arc::new(SqliteStore::open(dir.path()).unwrap()),
            Arc::new(SqliteStore::open(dir.path()).unwrap()),
        ];
        let a = handles[0].create_account("A").unwrap().sid;
        let threads: Vec<_> = (0..100)
            .map(|i| {
                let (store, a) = (Arc::clone(&handles[i % 2]), a.clone());
                thread::spawn(move || store.kv_increment(&a, "b", "n", 1).unwrap())
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(
            handles[1].kv_get(&a, "b", "n").unwrap(),
            Some(100_i64.to_le_bytes().to_vec())
        );
        assert_usage_is_kept(&handles[0], &a);
    }

    #[test]
    fn compare_and_swap() {
        let (_dir, store) = open();
        let a = store.create_account("A").unwrap().sid;
        // Absent expected: only when absent.
        assert!(
            store
                .kv_compare_and_swap(&a, "b", "k", None, b"one")
                .unwrap()
        );
        assert!(
            !store
                .kv_compare_and_swap(&a, "b", "k", None, b"two")
                .unwrap()
        );
        assert_eq!(store.kv_get(&a, "b", "k").unwrap(), Some(b"one".to_vec()));
        // A matching value swaps, another does not.
        assert!(
            store
                .kv_compare_and_swap(&a, "b", "k", Some(b"one"), b"two")
                .unwrap()
        );
        assert!(
            !store
                .kv_compare_and_swap(&a, "b", "k", Some(b"one"), b"three")
                .unwrap()
        );
        assert!(
            !store
                .kv_compare_and_swap(&a, "b", "k", Some(b""), b"three")
                .unwrap()
        );
        assert_eq!(store.kv_get(&a, "b", "k").unwrap(), Some(b"two".to_vec()));
        // An expected value on an absent key fails.
        assert!(
            !store
                .kv_compare_and_swap(&a, "b", "gone", Some(b""), b"x")
                .unwrap()
        );
        assert!(!store.kv_exists(&a, "b", "gone").unwrap());
        // Empty and absent differ.
        store.kv_set(&a, "b", "empty", b"").unwrap();
        assert!(
            !store
                .kv_compare_and_swap(&a, "b", "empty", None, b"x")
                .unwrap()
        );
        assert!(
            store
                .kv_compare_and_swap(&a, "b", "empty", Some(b""), b"x")
                .unwrap()
        );
        assert_usage_is_kept(&store, &a);
    }

    #[test]
    fn compare_and_swap_lets_one_of_many_win() {
        let (_dir, store) = open();
        let store = Arc::new(store);
        let a = store.create_account("A").unwrap().sid;
        let threads: Vec<_> = (0..20)
            .map(|i: u8| {
                let (store, a) = (Arc::clone(&store), a.clone());
                thread::spawn(move || {
                    store
                        .kv_compare_and_swap(&a, "b", "lock", None, &[i])
                        .unwrap()
                })
            })
            .collect();
        let won = threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .filter(|&w| w)
            .count();
        assert_eq!(won, 1);
    }

    #[test]
    fn batches_are_all_or_nothing() {
        let (_dir, store) = open();
        let a = store.create_account("A").unwrap().sid;
        store.kv_set(&a, "b", "kept", b"old").unwrap();
        let pairs = vec![
            ("kept".to_owned(), b"new".to_vec()),
            ("x".to_owned(), b"1".to_vec()),
            ("too-big".to_owned(), vec![0; KV_MAX_VALUE_BYTES + 1]),
        ];
        let message = invalid(store.kv_set_many(&a, "b", &pairs));
        assert!(message.contains("\"too-big\""), "{message}");
        assert_eq!(
            store.kv_get(&a, "b", "kept").unwrap(),
            Some(b"old".to_vec())
        );
        assert_eq!(
            store.kv_keys(&a, "b", None, 10).unwrap(),
            ["kept"],
            "none was stored"
        );

        // Past the quota with its second pair, none is stored either.
        let dir = tempfile::tempdir().unwrap();
        let small = SqliteStore::open(dir.path()).unwrap().with_quotas(Quotas {
            kv_bytes: 9,
            ..Quotas::default()
        });
        let c = small.create_account("C").unwrap().sid;
        let pairs = vec![
            ("a".to_owned(), b"1234".to_vec()),
            ("b".to_owned(), b"1234".to_vec()),
        ];
        quota(small.kv_set_many(&c, "b", &pairs));
        assert_eq!(
            small.kv_keys(&c, "b", None, 10).unwrap(),
            Vec::<String>::new()
        );
        assert_usage_is_kept(&small, &c);

        let pairs = vec![
            ("x".to_owned(), b"1".to_vec()),
            ("y".to_owned(), b"2".to_vec()),
            ("x".to_owned(), b"3".to_vec()),
        ];
        store.kv_set_many(&a, "b", &pairs).unwrap();
        assert_eq!(
            store
                .kv_get_many(&a, "b", &keys(&["y", "missing", "x", "y"]))
                .unwrap(),
            [
                ("y".to_owned(), Some(b"2".to_vec())),
                ("missing".to_owned(), None),
                ("x".to_owned(), Some(b"3".to_vec())),
                ("y".to_owned(), Some(b"2".to_vec())),
            ],
            "in the order asked; a later pair of one key wins"
        );
        store
            .kv_delete_many(&a, "b", &keys(&["x", "missing", "x"]))
            .unwrap();
        assert_eq!(store.kv_keys(&a, "b", None, 10).unwrap(), ["kept", "y"]);
        store.kv_set_many(&a, "b", &[]).unwrap();
        assert!(store.kv_get_many(&a, "b", &[]).unwrap().is_empty());
        assert_usage_is_kept(&store, &a);
    }

    #[test]
    fn keys_page_bytewise_after_a_key() {
        let (_dir, store) = open();
        let a = store.create_account("A").unwrap().sid;
        let b = store.create_account("B").unwrap().sid;
        // Bytewise: "" < "B" < "a" < "a\0" < "ab" < "é" (0xc3 0xa9) < "\u{ffff}".
        let sorted = ["", "B", "a", "a\0", "ab", "é", "\u{ffff}"];
        for key in sorted.iter().rev() {
            store.kv_set(&a, "b", key, b"v").unwrap();
        }
        store.kv_set(&a, "other", "aa", b"v").unwrap();
        store.kv_set(&b, "b", "aa", b"v").unwrap();
        assert_eq!(store.kv_keys(&a, "b", None, 100).unwrap(), sorted);

        let mut pages = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = store.kv_keys(&a, "b", after.as_deref(), 3).unwrap();
            if page.is_empty() {
                break;
            }
            after = page.last().cloned();
            pages.push(page);
        }
        assert_eq!(
            pages,
            [
                keys(&["", "B", "a"]),
                keys(&["a\0", "ab", "é"]),
                keys(&["\u{ffff}"])
            ]
        );
        // Strictly after, whether or not `after` is a key.
        assert_eq!(store.kv_keys(&a, "b", Some("a"), 2).unwrap(), ["a\0", "ab"]);
        assert_eq!(store.kv_keys(&a, "b", Some("aa"), 2).unwrap(), ["ab", "é"]);
        assert_eq!(
            store.kv_keys(&a, "b", Some("\u{ffff}"), 2).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            store.kv_keys(&a, "b", None, 0).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            store.kv_keys(&a, "empty", None, 10).unwrap(),
            Vec::<String>::new()
        );
    }
}
