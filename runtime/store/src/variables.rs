//! Environment variables of a function: Twilio Functions' Environment Variable resource, given to
//! the function when it runs. A secret's value is for the function only: once secret, a variable
//! stays secret, and `Debug` never prints its value.

use std::fmt;

use rusqlite::{Connection, OptionalExtension as _, Row};

use crate::{
    Result, SqliteStore, StoreError,
    sqlite::{Record, conflict, count, find, find_all, new_sid, now, write_tx},
};

/// The most characters a variable's key has.
pub const MAX_VARIABLE_KEY_CHARS: usize = 128;
/// The most bytes a variable's value has.
pub const MAX_VARIABLE_VALUE_BYTES: usize = 450;

/// Whether `key` and `value` make a valid variable: the key is 1 to
/// [`MAX_VARIABLE_KEY_CHARS`] characters of `A-Z`, `a-z`, `0-9` and `_` and does not start with a
/// digit, as environment variable names are; the value is at most [`MAX_VARIABLE_VALUE_BYTES`]
/// bytes. The error says which rule is broken and by what; it never quotes the value.
pub fn check_variable(key: &str, value: &str) -> Result<(), String> {
    const KEYS_ARE: &str = "keys are made of A-Z, a-z, 0-9 and _";
    let chars = key.chars().count();
    if chars == 0 {
        return Err(format!(
            "a variable key may not be empty: {KEYS_ARE}, 1 to {MAX_VARIABLE_KEY_CHARS} of them"
        ));
    }
    if chars > MAX_VARIABLE_KEY_CHARS {
        return Err(format!(
            "a variable key has at most {MAX_VARIABLE_KEY_CHARS} characters; this one has {chars}"
        ));
    }
    if let Some((i, c)) = key
        .chars()
        .enumerate()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_'))
    {
        return Err(format!(
            "variable key {key:?} has {c:?} at character {}: {KEYS_ARE}",
            i + 1
        ));
    }
    if key.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "variable key {key:?} starts with a digit: keys start with a letter or _, as \
             environment variable names do"
        ));
    }
    if value.len() > MAX_VARIABLE_VALUE_BYTES {
        return Err(format!(
            "the value of variable {key:?} has {} bytes; a value has at most \
             {MAX_VARIABLE_VALUE_BYTES}",
            value.len()
        ));
    }
    Ok(())
}

/// An environment variable of a function.
#[derive(Clone, PartialEq, Eq)]
pub struct Variable {
    /// `ZV` + 32 hex.
    pub sid: String,
    /// Owning account.
    pub account_sid: String,
    /// The function it is given to.
    pub function_sid: String,
    /// Its name, unique within the function; see [`check_variable`].
    pub key: String,
    /// Its value; see [`check_variable`].
    pub value: String,
    /// Whether the value is shown to the function only; once set, it stays set.
    pub secret: bool,
    /// Creation time, unix seconds.
    pub date_created: i64,
    /// Last change, unix seconds.
    pub date_updated: i64,
}

// By hand so that logging a secret never prints its value.
impl fmt::Debug for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value: &dyn fmt::Debug = if self.secret {
            &"<secret>"
        } else {
            &self.value
        };
        f.debug_struct("Variable")
            .field("sid", &self.sid)
            .field("account_sid", &self.account_sid)
            .field("function_sid", &self.function_sid)
            .field("key", &self.key)
            .field("value", value)
            .field("secret", &self.secret)
            .field("date_created", &self.date_created)
            .field("date_updated", &self.date_updated)
            .finish()
    }
}

/// Changes to a variable; `None` keeps the current value.
#[derive(Clone, Default)]
pub struct VariableUpdate {
    /// New key.
    pub key: Option<String>,
    /// New value.
    pub value: Option<String>,
    /// New `secret`; `Some(false)` on a secret is refused.
    pub secret: Option<bool>,
}

// By hand: the new value may be a secret's, and an update does not know.
impl fmt::Debug for VariableUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VariableUpdate")
            .field("key", &self.key)
            .field("value", &self.value.as_ref().map(|_| "<hidden>"))
            .field("secret", &self.secret)
            .finish()
    }
}

/// Functions' environment variables in a store.
pub trait VariableStore: Send + Sync {
    /// Creates a variable of the account's function: `None` if there is no such function,
    /// `Invalid` if [`check_variable`] refuses it, `Conflict` if the function has a variable with
    /// this key, `Quota` if it has as many as it may.
    fn create_variable(
        &self,
        account_sid: &str,
        function_sid: &str,
        key: &str,
        value: &str,
        secret: bool,
    ) -> Result<Option<Variable>>;

    /// The variable with this sid of the account's function.
    fn variable(
        &self,
        account_sid: &str,
        function_sid: &str,
        sid: &str,
    ) -> Result<Option<Variable>>;

    /// The variables of the account's function, oldest first; `None` if there is no such
    /// function.
    fn variables(&self, account_sid: &str, function_sid: &str) -> Result<Option<Vec<Variable>>>;

    /// Applies `update` to a variable of the account's function: `None` if there is no such
    /// variable, `Invalid` if the result breaks [`check_variable`], `Conflict` if the new key is
    /// taken in the function or the update would make a secret plain.
    fn update_variable(
        &self,
        account_sid: &str,
        function_sid: &str,
        sid: &str,
        update: &VariableUpdate,
    ) -> Result<Option<Variable>>;

    /// Deletes a variable of the account's function; whether it existed.
    fn delete_variable(&self, account_sid: &str, function_sid: &str, sid: &str) -> Result<bool>;

    /// Every variable of every account, oldest first (for loading at start).
    fn all_variables(&self) -> Result<Vec<Variable>>;
}

impl VariableStore for SqliteStore {
    fn create_variable(
        &self,
        account_sid: &str,
        function_sid: &str,
        key: &str,
        value: &str,
        secret: bool,
    ) -> Result<Option<Variable>> {
        check_variable(key, value).map_err(StoreError::Invalid)?;
        let (sid, now) = (new_sid("ZV")?, now());
        let mut conn = self.lock();
        let tx = write_tx(&mut conn)?;
        if !has_function(&tx, account_sid, function_sid)? {
            return Ok(None);
        }
        let variables = count(
            &tx,
            "SELECT count(*) FROM variables WHERE function_sid = ?1",
            [function_sid],
        )?;
        if variables >= u64::from(self.quotas.variables_per_function) {
            return Err(StoreError::Quota(format!(
                "function {function_sid} has {variables} environment variables, the most a \
                 function may have (the variables_per_function quota): delete one first"
            )));
        }
        tx.execute(
            "INSERT INTO variables (sid, account_sid, function_sid, key, value, secret,
                 date_created, date_updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            (&sid, account_sid, function_sid, key, value, secret, now),
        )
        .map_err(conflict(|| key_taken(function_sid, key)))?;
        tx.commit()?;
        Ok(Some(Variable {
            sid,
            account_sid: account_sid.to_owned(),
            function_sid: function_sid.to_owned(),
            key: key.to_owned(),
            value: value.to_owned(),
            secret,
            date_created: now,
            date_updated: now,
        }))
    }

    fn variable(
        &self,
        account_sid: &str,
        function_sid: &str,
        sid: &str,
    ) -> Result<Option<Variable>> {
        find(
            &self.lock(),
            "x.account_sid = ?1 AND x.function_sid = ?2 AND x.sid = ?3",
            (account_sid, function_sid, sid),
        )
    }

    fn variables(&self, account_sid: &str, function_sid: &str) -> Result<Option<Vec<Variable>>> {
        let mut conn = self.lock();
        // One snapshot, so a function deleted meanwhile is `None`, never an empty list.
        let tx = conn.transaction()?;
        if !has_function(&tx, account_sid, function_sid)? {
            return Ok(None);
        }
        let variables = find_all(
            &tx,
            "WHERE x.account_sid = ?1 AND x.function_sid = ?2 ORDER BY x.date_created, x.rowid",
            (account_sid, function_sid),
        )?;
        Ok(Some(variables))
    }

    fn update_variable(
        &self,
        account_sid: &str,
        function_sid: &str,
        sid: &str,
        update: &VariableUpdate,
    ) -> Result<Option<Variable>> {
        let mut conn = self.lock();
        let tx = write_tx(&mut conn)?;
        let Some(current) = find::<Variable>(
            &tx,
            "x.account_sid = ?1 AND x.function_sid = ?2 AND x.sid = ?3",
            (account_sid, function_sid, sid),
        )?
        else {
            return Ok(None);
        };
        if current.secret && update.secret == Some(false) {
            return Err(StoreError::Conflict(format!(
                "variable {:?} is a secret: secrets stay secret; delete it and create it again \
                 to make it plain",
                current.key
            )));
        }
        let updated = Variable {
            key: update.key.clone().unwrap_or(current.key),
            value: update.value.clone().unwrap_or(current.value),
            secret: update.secret.unwrap_or(current.secret),
            date_updated: now(),
            ..current
        };
        check_variable(&updated.key, &updated.value).map_err(StoreError::Invalid)?;
        tx.execute(
            "UPDATE variables SET key = ?4, value = ?5, secret = ?6, date_updated = ?7
             WHERE account_sid = ?1 AND function_sid = ?2 AND sid = ?3",
            (
                account_sid,
                function_sid,
                sid,
                &updated.key,
                &updated.value,
                updated.secret,
                updated.date_updated,
            ),
        )
        .map_err(conflict(|| key_taken(function_sid, &updated.key)))?;
        tx.commit()?;
        Ok(Some(updated))
    }

    fn delete_variable(&self, account_sid: &str, function_sid: &str, sid: &str) -> Result<bool> {
        let deleted = self.lock().execute(
            "DELETE FROM variables WHERE account_sid = ?1 AND function_sid = ?2 AND sid = ?3",
            (account_sid, function_sid, sid),
        )?;
        Ok(deleted > 0)
    }

    fn all_variables(&self) -> Result<Vec<Variable>> {
        find_all(&self.lock(), "ORDER BY x.date_created, x.rowid", [])
    }
}

fn has_function(conn: &Connection, account_sid: &str, function_sid: &str) -> Result<bool> {
    let found = conn
        .prepare_cached("SELECT 1 FROM functions WHERE account_sid = ?1 AND sid = ?2")?
        .query_row((account_sid, function_sid), |_| Ok(()))
        .optional()?;
    Ok(found.is_some())
}

fn key_taken(function_sid: &str, key: &str) -> String {
    format!("function {function_sid} already has a variable named {key:?}")
}

impl Record for Variable {
    const TABLE: &'static str = "variables";
    const SELECT: &'static str = "SELECT x.sid, x.account_sid, x.function_sid, x.key, x.value,
        x.secret, x.date_created, x.date_updated FROM variables x";
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            sid: r.get(0)?,
            account_sid: r.get(1)?,
            function_sid: r.get(2)?,
            key: r.get(3)?,
            value: r.get(4)?,
            secret: r.get(5)?,
            date_created: r.get(6)?,
            date_updated: r.get(7)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{testing::*, *};

    /// An account with a function, and a second account with one of its own.
    fn two_accounts(store: &SqliteStore) -> ((String, String), (String, String)) {
        let pair = |name: &str| {
            let account = store.create_account(name).unwrap().sid;
            let function = store
                .create_function(&account, "f", b"wasm", &[])
                .unwrap()
                .sid;
            (account, function)
        };
        (pair("A"), pair("B"))
    }

    fn invalid(r: Result<Option<Variable>>) -> String {
        match r {
            Err(StoreError::Invalid(m)) => m,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn rules() {
        let long_key = "K".repeat(MAX_VARIABLE_KEY_CHARS);
        let long_value = "v".repeat(MAX_VARIABLE_VALUE_BYTES);
        for (key, value) in [
            ("A", ""),
            ("_", "x"),
            ("api_KEY_2", "with spaces = and ünïcödé"),
            (long_key.as_str(), long_value.as_str()),
        ] {
            assert_eq!(check_variable(key, value), Ok(()), "{key:?}");
        }
        let too_long_key = "K".repeat(MAX_VARIABLE_KEY_CHARS + 1);
        // 'é' is 2 bytes: 226 of them are 452 bytes, though only 226 characters.
        let too_long_value = "é".repeat(MAX_VARIABLE_VALUE_BYTES / 2 + 1);
        for (key, value, says) in [
            ("", "v", "may not be empty"),
            (
                too_long_key.as_str(),
                "v",
                "at most 128 characters; this one has 129",
            ),
            ("API-KEY", "v", "has '-' at character 4"),
            ("PATH=", "v", "has '=' at character 5"),
            ("ÄPI", "v", "has 'Ä' at character 1"),
            ("a b", "v", "has ' ' at character 2"),
            ("1ST", "v", "\"1ST\" starts with a digit"),
            (
                "K",
                too_long_value.as_str(),
                "has 452 bytes; a value has at most 450",
            ),
        ] {
            let message = check_variable(key, value).unwrap_err();
            assert!(message.contains(says), "{key:?}: {message}");
        }
        // The value may be a secret's: its message names its size, never its content.
        let secret = format!("{}{}", "s3cr3t".repeat(75), "!");
        let message = check_variable("TOKEN", &secret).unwrap_err();
        assert!(
            message.contains("451 bytes") && !message.contains("s3cr3t"),
            "{message}"
        );
    }

    #[test]
    fn variables() {
        let (_dir, store) = open();
        let ((a, f), _) = two_accounts(&store);
        let g = store.create_function(&a, "g", b"wasm", &[]).unwrap().sid;
        let v = store
            .create_variable(&a, &f, "API_URL", "https://example.com", false)
            .unwrap()
            .unwrap();
        assert!(is_sid(&v.sid, "ZV"), "{v:?}");
        assert_eq!(
            (v.account_sid.as_str(), v.function_sid.as_str()),
            (a.as_str(), f.as_str())
        );
        assert_eq!(
            (v.key.as_str(), v.value.as_str(), v.secret),
            ("API_URL", "https://example.com", false)
        );
        assert_eq!(v.date_created, v.date_updated);
        assert_eq!(store.variable(&a, &f, &v.sid).unwrap(), Some(v.clone()));
        // Keys are per function.
        let w = store
            .create_variable(&a, &g, "API_URL", "other", false)
            .unwrap()
            .unwrap();

        let token = store
            .create_variable(&a, &f, "TOKEN", "t0", true)
            .unwrap()
            .unwrap();
        // Give them ages that disagree with creation order, so the order tested is by age.
        store
            .lock()
            .execute(
                "UPDATE variables SET date_created = 5 WHERE sid = ?1",
                [&v.sid],
            )
            .unwrap();
        store
            .lock()
            .execute(
                "UPDATE variables SET date_created = 1 WHERE sid = ?1",
                [&token.sid],
            )
            .unwrap();
        let (v, token) = (
            store.variable(&a, &f, &v.sid).unwrap().unwrap(),
            store.variable(&a, &f, &token.sid).unwrap().unwrap(),
        );
        assert_eq!(
            store.variables(&a, &f).unwrap(),
            Some(vec![token.clone(), v.clone()])
        );
        assert_eq!(store.variables(&a, &g).unwrap(), Some(vec![w.clone()]));
        assert_eq!(store.variables(&a, "ZHmissing").unwrap(), None);
        assert_eq!(
            store.all_variables().unwrap(),
            [token.clone(), v.clone(), w.clone()]
        );

        // An update changes what it names, and the validation sees the result.
        let renamed = store
            .update_variable(
                &a,
                &f,
                &v.sid,
                &VariableUpdate {
                    key: Some("BASE_URL".into()),
                    ..VariableUpdate::default()
                },
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            (renamed.key.as_str(), renamed.value.as_str()),
            ("BASE_URL", "https://example.com")
        );
        assert_eq!(
            (renamed.sid.as_str(), renamed.date_created),
            (v.sid.as_str(), 5)
        );
        assert_eq!(
            store.variable(&a, &f, &v.sid).unwrap(),
            Some(renamed.clone())
        );
        let same = store
            .update_variable(&a, &f, &v.sid, &VariableUpdate::default())
            .unwrap()
            .unwrap();
        assert_eq!(
            (same.key, same.value, same.secret),
            (renamed.key.clone(), renamed.value.clone(), false)
        );
        // Renaming to its own key is no conflict.
        let update = VariableUpdate {
            key: Some("BASE_URL".into()),
            value: Some("https://example.org".into()),
            secret: Some(true),
        };
        let secret = store
            .update_variable(&a, &f, &v.sid, &update)
            .unwrap()
            .unwrap();
        assert_eq!(
            (secret.value.as_str(), secret.secret),
            ("https://example.org", true)
        );
        assert_eq!(
            store.update_variable(&a, &f, "ZVmissing", &update).unwrap(),
            None
        );
        assert_eq!(
            store.update_variable(&a, &g, &v.sid, &update).unwrap(),
            None,
            "another function's sid"
        );

        assert!(store.delete_variable(&a, &f, &v.sid).unwrap());
        assert!(!store.delete_variable(&a, &f, &v.sid).unwrap());
        assert_eq!(store.variable(&a, &f, &v.sid).unwrap(), None);
        assert_eq!(store.variables(&a, &f).unwrap(), Some(vec![token]));
    }

    #[test]
    fn rules_are_kept_on_create_and_update() {
        let (_dir, store) = open();
        let ((a, f), _) = two_accounts(&store);
        assert!(invalid(store.create_variable(&a, &f, "BAD-KEY", "v", false)).contains("'-'"));
        let long = "v".repeat(MAX_VARIABLE_VALUE_BYTES + 1);
        assert!(invalid(store.create_variable(&a, &f, "K", &long, true)).contains("451 bytes"));
        let v = store
            .create_variable(&a, &f, "K", "v", false)
            .unwrap()
            .unwrap();
        let update = |key: Option<&str>, value: Option<&str>| VariableUpdate {
            key: key.map(str::to_owned),
            value: value.map(str::to_owned),
            secret: None,
        };
        assert!(
            invalid(store.update_variable(&a, &f, &v.sid, &update(Some("9K"), None)))
                .contains("starts with a digit")
        );
        assert!(
            invalid(store.update_variable(&a, &f, &v.sid, &update(None, Some(&long))))
                .contains("451 bytes")
        );
        assert!(
            invalid(store.update_variable(&a, &f, &v.sid, &update(Some(""), None)))
                .contains("empty")
        );
        assert_eq!(
            store.variable(&a, &f, &v.sid).unwrap(),
            Some(v),
            "nothing changed"
        );
        assert_eq!(store.variables(&a, &f).unwrap().unwrap().len(), 1);
    }

    #[test]
    fn another_accounts_function_and_variables_behave_as_missing() {
        let (_dir, store) = open();
        let ((a, f), (b, g)) = two_accounts(&store);
        let v = store
            .create_variable(&a, &f, "TOKEN", "a's secret", true)
            .unwrap()
            .unwrap();

        assert_eq!(
            store
                .create_variable(&b, &f, "INJECTED", "x", false)
                .unwrap(),
            None
        );
        assert_eq!(store.variables(&b, &f).unwrap(), None);
        assert_eq!(store.variable(&b, &f, &v.sid).unwrap(), None);
        // B's own function with A's variable sid, and B's sid with A's function.
        assert_eq!(store.variable(&b, &g, &v.sid).unwrap(), None);
        assert_eq!(store.variable(&a, &g, &v.sid).unwrap(), None);
        let steal = VariableUpdate {
            secret: Some(true),
            value: Some("overwritten".into()),
            ..VariableUpdate::default()
        };
        assert_eq!(store.update_variable(&b, &f, &v.sid, &steal).unwrap(), None);
        assert_eq!(store.update_variable(&b, &g, &v.sid, &steal).unwrap(), None);
        assert!(!store.delete_variable(&b, &f, &v.sid).unwrap());
        assert!(!store.delete_variable(&b, &g, &v.sid).unwrap());
        assert!(!store.delete_function(&b, &f).unwrap());

        assert_eq!(store.variables(&a, &f).unwrap(), Some(vec![v.clone()]));
        assert_eq!(store.variables(&b, &g).unwrap(), Some(Vec::new()));
        // A function of B may have A's key: keys are per function.
        store
            .create_variable(&b, &g, "TOKEN", "b's", true)
            .unwrap()
            .unwrap();
        assert_eq!(store.variable(&a, &f, &v.sid).unwrap(), Some(v));
    }

    #[test]
    fn conflicts_and_quota() {
        let dir = tempfile::tempdir().unwrap();
        let quotas = Quotas {
            variables_per_function: 2,
            ..Quotas::default()
        };
        let store = SqliteStore::open(dir.path()).unwrap().with_quotas(quotas);
        let ((a, f), (b, g)) = two_accounts(&store);
        let one = store
            .create_variable(&a, &f, "ONE", "1", false)
            .unwrap()
            .unwrap();
        match store.create_variable(&a, &f, "ONE", "again", true) {
            Err(StoreError::Conflict(m)) => assert!(m.contains("\"ONE\"") && m.contains(&f), "{m}"),
            other => panic!("{other:?}"),
        }
        let two = store
            .create_variable(&a, &f, "TWO", "2", false)
            .unwrap()
            .unwrap();
        let rename = VariableUpdate {
            key: Some("ONE".into()),
            ..VariableUpdate::default()
        };
        match store.update_variable(&a, &f, &two.sid, &rename) {
            Err(StoreError::Conflict(m)) => assert!(m.contains("\"ONE\""), "{m}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(store.variable(&a, &f, &two.sid).unwrap(), Some(two.clone()));

        match store.create_variable(&a, &f, "THREE", "3", false) {
            Err(StoreError::Quota(m)) => {
                assert!(
                    m.contains("2 environment variables")
                        && m.contains("variables_per_function")
                        && m.contains("delete one first"),
                    "{m}"
                );
            }
            other => panic!("{other:?}"),
        }
        // The quota is per function, so another function and another account still have room.
        store
            .create_variable(&b, &g, "THREE", "3", false)
            .unwrap()
            .unwrap();
        let h = store.create_function(&a, "h", b"wasm", &[]).unwrap().sid;
        store
            .create_variable(&a, &h, "THREE", "3", false)
            .unwrap()
            .unwrap();
        assert!(store.delete_variable(&a, &f, &one.sid).unwrap());
        store
            .create_variable(&a, &f, "THREE", "3", false)
            .unwrap()
            .unwrap();
    }

    #[test]
    fn a_secret_stays_secret_and_is_never_printed() {
        let (_dir, store) = open();
        let ((a, f), _) = two_accounts(&store);
        let v = store
            .create_variable(&a, &f, "TOKEN", "hunter2", true)
            .unwrap()
            .unwrap();
        let printed = format!("{v:?}");
        assert!(
            printed.contains(r#"value: "<secret>""#) && !printed.contains("hunter2"),
            "{printed}"
        );
        let plain = store
            .create_variable(&a, &f, "PLAIN", "shown", false)
            .unwrap()
            .unwrap();
        assert!(format!("{plain:?}").contains(r#"value: "shown""#));

        let unveil = VariableUpdate {
            secret: Some(false),
            ..VariableUpdate::default()
        };
        match store.update_variable(&a, &f, &v.sid, &unveil) {
            Err(StoreError::Conflict(m)) => assert_eq!(
                m,
                "variable \"TOKEN\" is a secret: secrets stay secret; delete it and create it again to make it plain"
            ),
            other => panic!("{other:?}"),
        }
        // A new value keeps it secret, whether or not the update says so again.
        let update = VariableUpdate {
            value: Some("hunter3".into()),
            ..VariableUpdate::default()
        };
        assert!(
            format!("{update:?}").contains("<hidden>")
                && !format!("{update:?}").contains("hunter3")
        );
        let changed = store
            .update_variable(&a, &f, &v.sid, &update)
            .unwrap()
            .unwrap();
        assert_eq!((changed.value.as_str(), changed.secret), ("hunter3", true));
        let again = VariableUpdate {
            secret: Some(true),
            ..VariableUpdate::default()
        };
        assert!(
            store
                .update_variable(&a, &f, &v.sid, &again)
                .unwrap()
                .unwrap()
                .secret
        );
        assert!(store.variable(&a, &f, &v.sid).unwrap().unwrap().secret);
        // A plain variable may become secret.
        assert!(
            store
                .update_variable(&a, &f, &plain.sid, &again)
                .unwrap()
                .unwrap()
                .secret
        );
    }

    #[test]
    fn variables_go_with_their_function() {
        let (_dir, store) = open();
        let ((a, f), (b, g)) = two_accounts(&store);
        let v = store
            .create_variable(&a, &f, "K", "v", false)
            .unwrap()
            .unwrap();
        let kept = store
            .create_variable(&b, &g, "K", "v", false)
            .unwrap()
            .unwrap();
        assert!(store.delete_function(&a, &f).unwrap());
        assert_eq!(store.variable(&a, &f, &v.sid).unwrap(), None);
        assert_eq!(store.variables(&a, &f).unwrap(), None);
        assert_eq!(store.all_variables().unwrap(), [kept]);
        let rows: i64 = store
            .lock()
            .query_row(
                "SELECT count(*) FROM variables WHERE function_sid = ?1",
                [&f],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(rows, 0);
        // A function of the same name starts with none.
        let f2 = store.create_function(&a, "f", b"wasm", &[]).unwrap().sid;
        assert_eq!(store.variables(&a, &f2).unwrap(), Some(Vec::new()));
    }
}
