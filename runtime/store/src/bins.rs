//! TwiML bins: an account's templates, stored as written.

use rusqlite::Row;

use crate::{
    Result, SqliteStore, StoreError,
    sqlite::{
        Listing, Page, Record, conflict, count, delete, find, find_all, listing, new_sid, now,
    },
};

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

/// TwiML bins in a store.
pub trait BinStore: Send + Sync {
    /// Creates a bin; `Conflict` if the name is taken in the account.
    fn create_bin(&self, account_sid: &str, friendly_name: &str, template: &str) -> Result<Bin>;

    /// Changes the given fields of a bin; `None` if missing, `Conflict` if the name is taken.
    fn update_bin(
        &self,
        account_sid: &str,
        sid: &str,
        friendly_name: Option<&str>,
        template: Option<&str>,
    ) -> Result<Option<Bin>>;

    /// The account's bin with this sid.
    fn bin(&self, account_sid: &str, sid: &str) -> Result<Option<Bin>>;

    /// The bin with this sid in any account (for routing).
    fn bin_by_sid(&self, sid: &str) -> Result<Option<Bin>>;

    /// One page of the account's bins, oldest first.
    fn bins(&self, account_sid: &str, page: Page) -> Result<Listing<Bin>>;

    /// The account's bin with this friendly name.
    fn bin_by_name(&self, account_sid: &str, friendly_name: &str) -> Result<Option<Bin>>;

    /// Every bin of every account (for loading at start).
    fn all_bins(&self) -> Result<Vec<Bin>>;

    /// Deletes the account's bin.
    fn delete_bin(&self, account_sid: &str, sid: &str) -> Result<bool>;
}

impl BinStore for SqliteStore {
    fn create_bin(&self, account_sid: &str, friendly_name: &str, template: &str) -> Result<Bin> {
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

    fn update_bin(
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

    fn bin(&self, account_sid: &str, sid: &str) -> Result<Option<Bin>> {
        find(
            &self.lock(),
            "x.account_sid = ?1 AND x.sid = ?2",
            (account_sid, sid),
        )
    }

    fn bin_by_sid(&self, sid: &str) -> Result<Option<Bin>> {
        find(&self.lock(), "x.sid = ?1", [sid])
    }

    fn bins(&self, account_sid: &str, page: Page) -> Result<Listing<Bin>> {
        listing(&mut self.lock(), account_sid, page)
    }

    fn bin_by_name(&self, account_sid: &str, friendly_name: &str) -> Result<Option<Bin>> {
        find(
            &self.lock(),
            "x.account_sid = ?1 AND x.friendly_name = ?2",
            (account_sid, friendly_name),
        )
    }

    fn all_bins(&self) -> Result<Vec<Bin>> {
        find_all(&self.lock(), "ORDER BY x.date_created, x.rowid", [])
    }

    fn delete_bin(&self, account_sid: &str, sid: &str) -> Result<bool> {
        delete::<Bin>(&self.lock(), account_sid, sid)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{testing::*, *};

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
}
