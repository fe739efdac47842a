//! SIP domains: Twilio's SipDomain resource, each name unique across accounts in every regional
//! form.

use rusqlite::{Row, params};
use twiml_edge_twiml::{EDGES, REGIONS};

use crate::{
    Result, SqliteStore, StoreError,
    sqlite::{
        Listing, Page, Record, conflict, count, delete, find, find_all, listing, new_sid, now,
    },
};

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

/// SIP domains in a store.
pub trait DomainStore: Send + Sync {
    /// Creates a SIP domain; `Conflict` if the domain name is taken (in any account).
    fn create_domain(&self, account_sid: &str, fields: &DomainFields) -> Result<Domain>;

    /// Replaces every field of a domain; `None` if missing, `Conflict` if the name is taken.
    fn update_domain(
        &self,
        account_sid: &str,
        sid: &str,
        fields: &DomainFields,
    ) -> Result<Option<Domain>>;

    /// The account's domain with this sid.
    fn domain(&self, account_sid: &str, sid: &str) -> Result<Option<Domain>>;

    /// The domain with this sid in any account (for routing).
    fn domain_by_sid(&self, sid: &str) -> Result<Option<Domain>>;

    /// The domain with this host name, ignoring ASCII case and a regional label (for routing).
    fn domain_by_name(&self, domain_name: &str) -> Result<Option<Domain>>;

    /// One page of the account's domains, oldest first (date_created, then creation order).
    fn domains(&self, account_sid: &str, page: Page) -> Result<Listing<Domain>>;

    /// Every domain of every account (for routing from memory).
    fn all_domains(&self) -> Result<Vec<Domain>>;

    /// Deletes the account's domain.
    fn delete_domain(&self, account_sid: &str, sid: &str) -> Result<bool>;
}

impl DomainStore for SqliteStore {
    fn create_domain(&self, account_sid: &str, fields: &DomainFields) -> Result<Domain> {
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

    fn update_domain(
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

    fn domain(&self, account_sid: &str, sid: &str) -> Result<Option<Domain>> {
        find(
            &self.lock(),
            "x.account_sid = ?1 AND x.sid = ?2",
            (account_sid, sid),
        )
    }

    fn domain_by_sid(&self, sid: &str) -> Result<Option<Domain>> {
        find(&self.lock(), "x.sid = ?1", [sid])
    }

    fn domain_by_name(&self, domain_name: &str) -> Result<Option<Domain>> {
        find(&self.lock(), "x.base_name = ?1", [domain_base(domain_name)])
    }

    fn domains(&self, account_sid: &str, page: Page) -> Result<Listing<Domain>> {
        listing(&mut self.lock(), account_sid, page)
    }

    fn all_domains(&self) -> Result<Vec<Domain>> {
        find_all(&self.lock(), "ORDER BY x.date_created, x.rowid", [])
    }

    fn delete_domain(&self, account_sid: &str, sid: &str) -> Result<bool> {
        delete::<Domain>(&self.lock(), account_sid, sid)
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

/// The name a domain is known by whatever edge the engine names: lowercase, without a regional
/// label (`acme.sip.us1.twilio.com` is `acme.sip.twilio.com`). Two domains may not share it, so
/// no account can claim another's domain in its regional form.
pub fn domain_base(domain_name: &str) -> String {
    let name = domain_name.to_ascii_lowercase();
    if let Some((label, rest)) = name.split_once(".sip.")
        && let Some((edge, base)) = rest.split_once('.')
        && (REGIONS.contains(&edge) || EDGES.contains(&edge))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{testing::*, *};

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
}
