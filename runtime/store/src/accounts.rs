//! Accounts: the tenants every other resource belongs to, with their auth token and settings.

use rusqlite::{Row, params};

use crate::{
    Result, SqliteStore,
    files::random_hex,
    sqlite::{Record, conflict, find, find_all, new_sid, now},
};

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

/// Accounts in a store.
pub trait AccountStore: Send + Sync {
    /// Creates an account with a random sid and auth token.
    fn create_account(&self, friendly_name: &str) -> Result<Account>;

    /// Creates an account with a given sid and token; `Conflict` if the sid exists.
    fn import_account(&self, sid: &str, auth_token: &str, friendly_name: &str) -> Result<Account>;

    /// The account with this sid.
    fn account(&self, sid: &str) -> Result<Option<Account>>;

    /// Every account, oldest first.
    fn accounts(&self) -> Result<Vec<Account>>;

    /// Applies `update` to an account; `None` when it does not exist.
    fn update_account(&self, sid: &str, update: &AccountUpdate) -> Result<Option<Account>>;
}

impl AccountStore for SqliteStore {
    fn create_account(&self, friendly_name: &str) -> Result<Account> {
        self.import_account(&new_sid("AC")?, &random_hex()?, friendly_name)
    }

    fn import_account(&self, sid: &str, auth_token: &str, friendly_name: &str) -> Result<Account> {
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

    fn account(&self, sid: &str) -> Result<Option<Account>> {
        find(&self.lock(), "x.sid = ?1", [sid])
    }

    fn accounts(&self) -> Result<Vec<Account>> {
        find_all(&self.lock(), "ORDER BY x.date_created, x.rowid", [])
    }

    fn update_account(&self, sid: &str, update: &AccountUpdate) -> Result<Option<Account>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{testing::*, *};

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
}
