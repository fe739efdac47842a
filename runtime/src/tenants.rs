//! What the accounts serve: their compiled functions and bins and their SIP domains, held in
//! memory so a webhook never waits on the database, loaded from the store at start and updated
//! after every write the API commits.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard},
};

use anyhow::Context as _;

use crate::{
    bins::Bins,
    e164::Region,
    sandbox::{Function, Sandbox},
    store::{Account, Bin, Domain, Store, domain_base},
};

/// Every account's servable content.
#[derive(Debug)]
pub(crate) struct Tenants {
    store: Arc<Store>,
    /// Held across each store write and the registry update that follows it.
    writes: Mutex<()>,
    accounts: RwLock<HashMap<String, Account>>,
    functions: RwLock<HashMap<String, Hosted<Function>>>,
    bins: RwLock<HostedBins>,
    domains: RwLock<Domains>,
}

/// A compiled function or bin and the account that owns it.
#[derive(Debug, Clone)]
pub(crate) struct Hosted<T> {
    pub(crate) account_sid: String,
    pub(crate) item: T,
}

#[derive(Debug)]
struct HostedBins {
    compiled: Bins,
    owners: HashMap<String, String>,
}

#[derive(Debug, Default)]
struct Domains {
    by_sid: HashMap<String, Domain>,
    /// `domain_base` of the domain name to sid.
    by_name: HashMap<String, String>,
}

impl Tenants {
    /// Loads and compiles everything the store holds. A function whose stored wasm no longer
    /// matches its hash, or no longer compiles, is logged and left out rather than served.
    pub(crate) fn load(
        store: Arc<Store>,
        sandbox: &Sandbox,
        region: Region,
    ) -> anyhow::Result<Self> {
        let accounts = store
            .accounts()
            .context("failed to read accounts")?
            .into_iter()
            .map(|a| (a.sid.clone(), a))
            .collect();
        let mut functions = HashMap::new();
        for function in store.all_functions().context("failed to read functions")? {
            match compile_stored(&store, sandbox, &function) {
                Ok(compiled) => {
                    functions.insert(function.sid.clone(), compiled);
                }
                Err(err) => tracing::error!(
                    function = %function.sid,
                    "not serving function {:?}: {err:#}",
                    function.friendly_name
                ),
            }
        }
        let mut bins = HostedBins {
            compiled: Bins::new(region),
            owners: HashMap::new(),
        };
        for bin in store.all_bins().context("failed to read TwiML bins")? {
            if let Err(err) = bins.add(&bin) {
                tracing::error!(bin = %bin.sid, "not serving TwiML bin: {err}");
            }
        }
        let mut domains = Domains::default();
        for domain in store.all_domains().context("failed to read SIP domains")? {
            domains.insert(domain);
        }
        tracing::info!(
            functions = functions.len(),
            bins = bins.owners.len(),
            domains = domains.by_sid.len(),
            "account content loaded"
        );
        Ok(Self {
            store,
            writes: Mutex::new(()),
            accounts: RwLock::new(accounts),
            functions: RwLock::new(functions),
            bins: RwLock::new(bins),
            domains: RwLock::new(domains),
        })
    }

    /// A turn to write: hold it across a store write and the registry update after it.
    pub(crate) fn writing(&self) -> MutexGuard<'_, ()> {
        self.writes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The store behind this registry.
    pub(crate) fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The account `sid` if it is in memory.
    pub(crate) fn cached_account(&self, sid: &str) -> Option<Account> {
        read(&self.accounts).get(sid).cloned()
    }

    /// The account `sid`; one created by the CLI while the server runs is read from the store
    /// (a blocking read: off the async threads, call [`Tenants::cached_account`] first).
    pub(crate) fn account(&self, sid: &str) -> anyhow::Result<Option<Account>> {
        if let Some(account) = self.cached_account(sid) {
            return Ok(Some(account));
        }
        let found = self.store.account(sid)?;
        if let Some(account) = &found {
            self.put_account(account.clone());
        }
        Ok(found)
    }

    /// Remembers an account written through the API.
    pub(crate) fn put_account(&self, account: Account) {
        write(&self.accounts).insert(account.sid.clone(), account);
    }

    /// The compiled function `sid` and its owner.
    pub(crate) fn function(&self, sid: &str) -> Option<Hosted<Function>> {
        read(&self.functions).get(sid).cloned()
    }

    /// Serves `function` (compiled) in place of any earlier version.
    pub(crate) fn put_function(&self, account_sid: &str, sid: &str, function: Function) {
        let hosted = Hosted {
            account_sid: account_sid.to_owned(),
            item: function,
        };
        write(&self.functions).insert(sid.to_owned(), hosted);
    }

    /// Stops serving function `sid`.
    pub(crate) fn remove_function(&self, sid: &str) {
        write(&self.functions).remove(sid);
    }

    /// The account owning bin `sid`, if it is served.
    pub(crate) fn bin_owner(&self, sid: &str) -> Option<String> {
        read(&self.bins).owners.get(sid).cloned()
    }

    /// The compiled bins, keyed by sid.
    pub(crate) fn bins(&self) -> BinsGuard<'_> {
        BinsGuard(read(&self.bins))
    }

    /// Compiles and serves `bin` in place of any earlier version; a template that does not
    /// parse is refused with its line and nothing changes.
    pub(crate) fn put_bin(&self, bin: &Bin) -> crate::Result<()> {
        write(&self.bins).add(bin)
    }

    /// Checks that `template` compiles, without serving it.
    pub(crate) fn check_template(&self, template: &str) -> crate::Result<()> {
        let region = read(&self.bins).compiled.region();
        Bins::new(region).add("check", template, "the template")
    }

    /// Stops serving bin `sid`.
    pub(crate) fn remove_bin(&self, sid: &str) {
        let mut bins = write(&self.bins);
        bins.owners.remove(sid);
        bins.compiled.remove(sid);
    }

    /// The domain named `name` (case-insensitive) in any regional form: the engine sends
    /// `acme.sip.us1.twilio.com` for the domain created as `acme.sip.twilio.com`.
    pub(crate) fn domain_by_name(&self, name: &str) -> Option<Domain> {
        let domains = read(&self.domains);
        let sid = domains.by_name.get(&domain_base(name))?;
        domains.by_sid.get(sid).cloned()
    }

    /// The domain `sid`.
    pub(crate) fn domain_by_sid(&self, sid: &str) -> Option<Domain> {
        read(&self.domains).by_sid.get(sid).cloned()
    }

    /// Routes to `domain` as the store now has it.
    pub(crate) fn put_domain(&self, domain: Domain) {
        let mut domains = write(&self.domains);
        domains.remove(&domain.sid);
        domains.insert(domain);
    }

    /// Stops routing to domain `sid`.
    pub(crate) fn remove_domain(&self, sid: &str) {
        write(&self.domains).remove(sid);
    }
}

/// Read access to the compiled bins.
pub(crate) struct BinsGuard<'a>(RwLockReadGuard<'a, HostedBins>);

impl std::ops::Deref for BinsGuard<'_> {
    type Target = Bins;

    fn deref(&self) -> &Bins {
        &self.0.compiled
    }
}

impl HostedBins {
    fn add(&mut self, bin: &Bin) -> crate::Result<()> {
        let origin = format!("TwiML bin {} ({:?})", bin.sid, bin.friendly_name);
        self.compiled.add(&bin.sid, &bin.template, &origin)?;
        self.owners.insert(bin.sid.clone(), bin.account_sid.clone());
        Ok(())
    }
}

impl Domains {
    fn insert(&mut self, domain: Domain) {
        let name = domain_base(&domain.fields.domain_name);
        self.by_name.insert(name, domain.sid.clone());
        self.by_sid.insert(domain.sid.clone(), domain);
    }

    /// Forgets domain `sid`, and its name only if the name still routes to it.
    fn remove(&mut self, sid: &str) {
        if let Some(old) = self.by_sid.remove(sid) {
            let name = domain_base(&old.fields.domain_name);
            if self.by_name.get(&name).is_some_and(|s| s == sid) {
                self.by_name.remove(&name);
            }
        }
    }
}

/// Compiles a stored function from its blob (the sandbox's cache makes this a load).
pub(crate) fn compile_stored(
    store: &Store,
    sandbox: &Sandbox,
    function: &crate::store::Function,
) -> anyhow::Result<Hosted<Function>> {
    let wasm = store
        .blob(&function.version.sha256)
        .with_context(|| format!("failed to read version {}", function.version.sid))?;
    let compiled = sandbox.compile(&function.friendly_name, &wasm)?;
    Ok(Hosted {
        account_sid: function.account_sid.clone(),
        item: compiled,
    })
}

// A panic while holding one of these locks leaves plain maps behind, still consistent: keep
// serving rather than poisoning every later webhook.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
