//! What the accounts serve: their compiled functions and bins and their SIP domains, held in
//! memory so a webhook never waits on the database, loaded from the store at start.
//!
//! [`Tenants`] is the one owner of that state: every write goes through one of its methods,
//! which commits to the store and updates what is served in one turn, so what the server routes
//! to is always what the last commit says; callers never hold its lock.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use twiml_edge_bins::{CompiledBin, Renderer};

use twiml_edge_e164::Region;
use twiml_edge_sandbox::{CompiledFunction, Sandbox};
use twiml_edge_store::{
    Account, AccountUpdate, Bin, Domain, DomainFields, Function, Store, StoreError, Variable,
    VariableUpdate, domain_base,
};

use crate::reach::{AccountState, FunctionReach, OutboundPolicy};
use twiml_edge_twiml::DEFAULT_MAX_TWIML_BYTES;

/// How long a sid the store did not have is answered as missing without asking it again: an
/// account the CLI creates while the server runs is found within this.
const MISSING_FOR: Duration = Duration::from_secs(1);
/// Missing sids remembered at most; beyond, the oldest are forgotten.
const MISSING_ENTRIES: usize = 4096;

/// Every account's servable content.
#[derive(Debug)]
pub(crate) struct Tenants {
    store: Arc<dyn Store>,
    /// Compiles accounts' functions, and keeps the compiled-code cache to what is served.
    sandbox: Arc<Sandbox>,
    /// Digests of the operator's folder functions, whose compiled code stays cached too.
    pinned: RwLock<std::collections::HashSet<String>>,
    /// Held across each store write and the registry update that follows it.
    writes: Mutex<()>,
    accounts: RwLock<HashMap<String, Account>>,
    /// Sids the store lacked, and when it was asked: callers choose sids, so each must not
    /// cost a database read every time.
    missing: quick_cache::sync::Cache<String, Instant>,
    /// Each account's share of the call slots, made when first needed.
    shares: Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>,
    /// Calls one account may run at once.
    calls_per_account: u32,
    /// Each account's turn to compile: one upload at a time each, so no account's uploads fill
    /// the pool while another's wait.
    compile_turns: Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>,
    functions: RwLock<HashMap<String, Hosted<CompiledFunction>>>,
    /// What each function reaches (variables, allowed hosts), by function sid; rebuilt when its
    /// settings change, so a change applies to the next call.
    reach: RwLock<HashMap<String, Arc<FunctionReach>>>,
    /// The client and per-call limits of every function's outbound requests.
    outbound: OutboundPolicy,
    /// Compiles and renders every account's bins; immutable, so renders share it without a lock.
    renderer: Arc<Renderer>,
    /// Each bin on its own: a render holds its bin, not this lock.
    bins: RwLock<HashMap<String, Hosted<Arc<CompiledBin>>>>,
    domains: RwLock<Domains>,
}

/// A compiled function or bin and the account that owns it.
#[derive(Debug, Clone)]
pub(crate) struct Hosted<T> {
    pub(crate) account_sid: String,
    pub(crate) item: T,
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
        store: Arc<dyn Store>,
        sandbox: Arc<Sandbox>,
        region: Region,
        calls_per_account: u32,
        outbound: OutboundPolicy,
    ) -> anyhow::Result<Self> {
        let accounts = store
            .accounts()
            .context("failed to read accounts")?
            .into_iter()
            .map(|a| (a.sid.clone(), a))
            .collect();
        let mut functions = HashMap::new();
        let mut variables: HashMap<String, Vec<Variable>> = HashMap::new();
        for variable in store.all_variables().context("failed to read variables")? {
            variables
                .entry(variable.function_sid.clone())
                .or_default()
                .push(variable);
        }
        let mut reach = HashMap::new();
        for function in store.all_functions().context("failed to read functions")? {
            let built = FunctionReach::new(
                variables.get(&function.sid).into_iter().flatten(),
                &function.allowed_hosts,
                &outbound,
            );
            reach.insert(function.sid.clone(), Arc::new(built));
            match compile_stored(store.as_ref(), &sandbox, &function) {
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
        let renderer = Arc::new(Renderer::new(region, DEFAULT_MAX_TWIML_BYTES));
        let mut bins = HashMap::new();
        for bin in store.all_bins().context("failed to read TwiML bins")? {
            match compile_bin(&renderer, &bin) {
                Ok(hosted) => {
                    bins.insert(bin.sid.clone(), hosted);
                }
                Err(err) => tracing::error!(bin = %bin.sid, "not serving TwiML bin: {err}"),
            }
        }
        let mut domains = Domains::default();
        for domain in store.all_domains().context("failed to read SIP domains")? {
            domains.insert(domain);
        }
        tracing::info!(
            functions = functions.len(),
            bins = bins.len(),
            domains = domains.by_sid.len(),
            "account content loaded"
        );
        Ok(Self {
            store,
            sandbox,
            pinned: RwLock::new(std::collections::HashSet::new()),
            writes: Mutex::new(()),
            accounts: RwLock::new(accounts),
            missing: quick_cache::sync::Cache::new(MISSING_ENTRIES),
            shares: Mutex::new(HashMap::new()),
            calls_per_account,
            compile_turns: Mutex::new(HashMap::new()),
            functions: RwLock::new(functions),
            reach: RwLock::new(reach),
            outbound,
            renderer,
            bins: RwLock::new(bins),
            domains: RwLock::new(domains),
        })
    }

    /// A turn to write: held across a store write and the registry update after it.
    fn writing(&self) -> MutexGuard<'_, ()> {
        self.writes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The store behind this registry, to read; writes go through the methods below.
    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The account `sid` if it is in memory.
    pub(crate) fn cached_account(&self, sid: &str) -> Option<Account> {
        read(&self.accounts).get(sid).cloned()
    }

    /// Whether `sid` was looked up in the store lately and not found.
    pub(crate) fn known_missing(&self, sid: &str) -> bool {
        self.missing
            .get(sid)
            .is_some_and(|asked| asked.elapsed() < MISSING_FOR)
    }

    /// The account `sid`; one created by the CLI while the server runs is read from the store
    /// (a blocking read: off the async threads, call [`Tenants::cached_account`] and
    /// [`Tenants::known_missing`] first).
    pub(crate) fn account(&self, sid: &str) -> anyhow::Result<Option<Account>> {
        if let Some(account) = self.cached_account(sid) {
            return Ok(Some(account));
        }
        if self.known_missing(sid) {
            return Ok(None);
        }
        let Some(found) = self.store.account(sid)? else {
            self.missing.insert(sid.to_owned(), Instant::now());
            return Ok(None);
        };
        Ok(Some(self.remember_read(found)))
    }

    /// Remembers an account read from the store, unless an update through the API landed while
    /// it was read: what is in memory then is newer, and is what it returns.
    fn remember_read(&self, found: Account) -> Account {
        write(&self.accounts)
            .entry(found.sid.clone())
            .or_insert(found)
            .clone()
    }

    /// The account `sid`, from memory or else read from the store off the async threads; what
    /// is not an account sid, and a sid the store lacked a moment ago, is answered without a
    /// read.
    pub(crate) async fn find_account(
        self: &Arc<Self>,
        sid: &str,
    ) -> anyhow::Result<Option<Account>> {
        if let Some(account) = self.cached_account(sid) {
            return Ok(Some(account));
        }
        if !is_sid(sid, "AC") || self.known_missing(sid) {
            return Ok(None);
        }
        let (tenants, sid) = (self.clone(), sid.to_owned());
        tokio::task::spawn_blocking(move || tenants.account(&sid)).await?
    }

    /// Remembers an account as the store now has it.
    fn put_account(&self, account: Account) {
        write(&self.accounts).insert(account.sid.clone(), account);
    }

    /// A slot of the account's share of the call slots, or `None` when it runs as many calls as
    /// it may.
    pub(crate) fn call_slot(&self, account_sid: &str) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let share = self
            .shares
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(account_sid.to_owned())
            .or_insert_with(|| {
                Arc::new(tokio::sync::Semaphore::new(self.calls_per_account as usize))
            })
            .clone();
        share.try_acquire_owned().ok()
    }

    /// Calls one account may run at once.
    pub(crate) fn calls_per_account(&self) -> u32 {
        self.calls_per_account
    }

    /// The account's turn to compile an upload, waited for: its uploads compile one at a time.
    pub(crate) async fn compile_turn(
        &self,
        account_sid: &str,
    ) -> tokio::sync::OwnedSemaphorePermit {
        let turn = self
            .compile_turns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(account_sid.to_owned())
            .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(1)))
            .clone();
        turn.acquire_owned()
            .await
            .expect("a compile turn is never closed")
    }

    /// The sandbox accounts' functions run in.
    pub(crate) fn sandbox(&self) -> &Arc<Sandbox> {
        &self.sandbox
    }

    /// Keeps the compiled code of `digests` (the operator's folder functions) cached, and drops
    /// what no function uses any more.
    pub(crate) fn pin_compiled(&self, digests: impl IntoIterator<Item = String>) {
        *write(&self.pinned) = digests.into_iter().collect();
        self.trim_compiled_cache();
    }

    /// Drops compiled code no served function was compiled from: after a delete or a new
    /// version, and at start for what an earlier run left.
    fn trim_compiled_cache(&self) {
        let mut in_use = read(&self.pinned).clone();
        in_use.extend(
            read(&self.functions)
                .values()
                .map(|hosted| hosted.item.digest().to_owned()),
        );
        self.sandbox.retain_cache(&in_use);
    }

    /// The compiled function `sid` and its owner.
    pub(crate) fn function(&self, sid: &str) -> Option<Hosted<CompiledFunction>> {
        read(&self.functions).get(sid).cloned()
    }

    /// The context of a call of function `sid` of `account_sid`: its variables and allowed
    /// hosts, and the account's key-value state.
    pub(crate) fn call_context(
        &self,
        account_sid: &str,
        sid: &str,
        services: &Arc<dyn twiml_edge_sandbox::Services>,
    ) -> twiml_edge_sandbox::CallContext {
        let reach = read(&self.reach).get(sid).cloned().unwrap_or_default();
        let state = AccountState {
            store: self.store.clone(),
            account_sid: account_sid.into(),
        };
        reach.context(services, Some(Arc::new(state)))
    }

    /// The client and per-call limits of outbound requests, for the operator's folder functions.
    pub(crate) fn outbound(&self) -> &OutboundPolicy {
        &self.outbound
    }

    /// Rebuilds what function `sid` reaches from the store, after a write to its settings.
    fn refresh_reach(&self, account_sid: &str, sid: &str) -> Result<(), StoreError> {
        let Some(function) = self.store.function(account_sid, sid)? else {
            write(&self.reach).remove(sid);
            return Ok(());
        };
        let variables = self.store.variables(account_sid, sid)?.unwrap_or_default();
        let built = FunctionReach::new(&variables, &function.allowed_hosts, &self.outbound);
        write(&self.reach).insert(sid.to_owned(), Arc::new(built));
        Ok(())
    }

    /// Serves `function` (compiled) in place of any earlier version.
    fn put_function(&self, account_sid: &str, sid: &str, function: CompiledFunction) {
        let hosted = Hosted {
            account_sid: account_sid.to_owned(),
            item: function,
        };
        write(&self.functions).insert(sid.to_owned(), hosted);
    }

    /// Stops serving function `sid`.
    fn remove_function(&self, sid: &str) {
        write(&self.functions).remove(sid);
        write(&self.reach).remove(sid);
    }

    /// The compiled bin `sid` and its owner.
    pub(crate) fn bin(&self, sid: &str) -> Option<Hosted<Arc<CompiledBin>>> {
        read(&self.bins).get(sid).cloned()
    }

    /// What renders every account's bins.
    pub(crate) fn renderer(&self) -> &Renderer {
        &self.renderer
    }

    /// Compiles and serves `bin` in place of any earlier version; a template that does not
    /// parse is refused with its line and nothing changes.
    fn put_bin(&self, bin: &Bin) -> crate::Result<()> {
        let hosted = compile_bin(&self.renderer, bin)?;
        write(&self.bins).insert(bin.sid.clone(), hosted);
        Ok(())
    }

    /// Checks that `template` compiles, without serving it.
    pub(crate) fn check_template(&self, template: &str) -> crate::Result<()> {
        self.renderer
            .compile("check", template, "the template")
            .map(drop)
            .map_err(crate::Error::from)
    }

    /// Stops serving bin `sid`.
    fn remove_bin(&self, sid: &str) {
        write(&self.bins).remove(sid);
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
    fn put_domain(&self, domain: Domain) {
        let mut domains = write(&self.domains);
        domains.remove(&domain.sid);
        domains.insert(domain);
    }

    /// Stops routing to domain `sid`.
    fn remove_domain(&self, sid: &str) {
        write(&self.domains).remove(sid);
    }
}

/// What an upload makes: a new function, or a new version of one.
#[derive(Debug, Clone)]
pub(crate) enum Upload {
    /// A function of this friendly name, allowed to reach these hosts.
    New(String, Vec<String>),
    /// A version of the function of this sid, and its new allowed hosts if they change.
    Version(String, Option<Vec<String>>),
}

/// Why a bin write did not land.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BinWriteError {
    /// The store refused it (a name taken, a quota).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The template does not compile.
    #[error(transparent)]
    Template(#[from] crate::Error),
}

/// Writes: each commits to the store and updates what is served in one turn. They block (the
/// store and the compiler): call them off the async threads.
impl Tenants {
    /// Applies `update` to account `sid`.
    pub(crate) fn update_account(
        &self,
        sid: &str,
        update: &AccountUpdate,
    ) -> Result<Option<Account>, StoreError> {
        let _turn = self.writing();
        let account = self.store.update_account(sid, update)?;
        if let Some(account) = &account {
            self.put_account(account.clone());
        }
        Ok(account)
    }

    /// Stores `wasm`, already compiled as `compiled`, as `upload`, and serves it; `None` when the
    /// function of a new version was deleted meanwhile.
    pub(crate) fn store_function(
        &self,
        account_sid: &str,
        upload: &Upload,
        wasm: &[u8],
        compiled: CompiledFunction,
    ) -> Result<Option<Function>, StoreError> {
        let _turn = self.writing();
        let stored = match upload {
            Upload::New(name, hosts) => {
                Some(self.store.create_function(account_sid, name, wasm, hosts)?)
            }
            Upload::Version(sid, None) => {
                self.store.add_function_version(account_sid, sid, wasm)?
            }
            Upload::Version(sid, Some(hosts)) => {
                match self.store.add_function_version(account_sid, sid, wasm)? {
                    Some(_) => self.store.set_allowed_hosts(account_sid, sid, hosts)?,
                    None => None,
                }
            }
        };
        if let Some(stored) = &stored {
            self.refresh_reach(account_sid, &stored.sid)?;
            self.put_function(account_sid, &stored.sid, compiled);
            if matches!(upload, Upload::Version(..)) {
                self.trim_compiled_cache();
            }
        }
        Ok(stored)
    }

    /// Replaces the hosts the account's function may send requests to (checked by the caller);
    /// `None` if there is no such function.
    pub(crate) fn set_allowed_hosts(
        &self,
        account_sid: &str,
        sid: &str,
        hosts: &[String],
    ) -> Result<Option<Function>, StoreError> {
        let _turn = self.writing();
        let function = self.store.set_allowed_hosts(account_sid, sid, hosts)?;
        if function.is_some() {
            self.refresh_reach(account_sid, sid)?;
        }
        Ok(function)
    }

    /// Creates a variable of the account's function; see [`VariableStore::create_variable`].
    ///
    /// [`VariableStore::create_variable`]: twiml_edge_store::VariableStore::create_variable
    pub(crate) fn create_variable(
        &self,
        account_sid: &str,
        function_sid: &str,
        key: &str,
        value: &str,
        secret: bool,
    ) -> Result<Option<Variable>, StoreError> {
        let _turn = self.writing();
        let created = self
            .store
            .create_variable(account_sid, function_sid, key, value, secret)?;
        self.refresh_reach(account_sid, function_sid)?;
        Ok(created)
    }

    /// Changes a variable of the account's function; `None` if there is no such variable.
    pub(crate) fn update_variable(
        &self,
        account_sid: &str,
        function_sid: &str,
        sid: &str,
        update: &VariableUpdate,
    ) -> Result<Option<Variable>, StoreError> {
        let _turn = self.writing();
        let updated = self
            .store
            .update_variable(account_sid, function_sid, sid, update)?;
        self.refresh_reach(account_sid, function_sid)?;
        Ok(updated)
    }

    /// Deletes a variable of the account's function; whether it existed.
    pub(crate) fn delete_variable(
        &self,
        account_sid: &str,
        function_sid: &str,
        sid: &str,
    ) -> Result<bool, StoreError> {
        let _turn = self.writing();
        let deleted = self.store.delete_variable(account_sid, function_sid, sid)?;
        self.refresh_reach(account_sid, function_sid)?;
        Ok(deleted)
    }

    /// Deletes the account's function `sid`; whether it existed.
    pub(crate) fn delete_function(&self, account_sid: &str, sid: &str) -> Result<bool, StoreError> {
        let _turn = self.writing();
        let deleted = self.store.delete_function(account_sid, sid)?;
        self.remove_function(sid);
        self.trim_compiled_cache();
        Ok(deleted)
    }

    /// Deletes an old version of the account's function (what runs is untouched).
    pub(crate) fn delete_function_version(
        &self,
        account_sid: &str,
        function_sid: &str,
        version_sid: &str,
    ) -> Result<Option<()>, StoreError> {
        let _turn = self.writing();
        self.store
            .delete_function_version(account_sid, function_sid, version_sid)
    }

    /// Creates and serves a bin; check its template first with [`Tenants::check_template`].
    pub(crate) fn create_bin(
        &self,
        account_sid: &str,
        name: &str,
        template: &str,
    ) -> Result<Bin, BinWriteError> {
        let _turn = self.writing();
        let bin = self.store.create_bin(account_sid, name, template)?;
        self.put_bin(&bin)?;
        Ok(bin)
    }

    /// Changes the given fields of a bin and serves it as it now is.
    pub(crate) fn update_bin(
        &self,
        account_sid: &str,
        sid: &str,
        name: Option<&str>,
        template: Option<&str>,
    ) -> Result<Option<Bin>, BinWriteError> {
        let _turn = self.writing();
        let Some(bin) = self.store.update_bin(account_sid, sid, name, template)? else {
            return Ok(None);
        };
        self.put_bin(&bin)?;
        Ok(Some(bin))
    }

    /// Deletes a bin; whether it existed.
    pub(crate) fn delete_bin(&self, account_sid: &str, sid: &str) -> Result<bool, StoreError> {
        let _turn = self.writing();
        let deleted = self.store.delete_bin(account_sid, sid)?;
        self.remove_bin(sid);
        Ok(deleted)
    }

    /// Creates a SIP domain and routes to it.
    pub(crate) fn create_domain(
        &self,
        account_sid: &str,
        fields: &DomainFields,
    ) -> Result<Domain, StoreError> {
        let _turn = self.writing();
        let domain = self.store.create_domain(account_sid, fields)?;
        self.put_domain(domain.clone());
        Ok(domain)
    }

    /// Updates a SIP domain with the fields `merge` makes of its current ones, read in the same
    /// turn, so two updates at once cannot undo each other; `None` when it does not exist.
    pub(crate) fn update_domain<E: From<StoreError>>(
        &self,
        account_sid: &str,
        sid: &str,
        merge: impl FnOnce(&DomainFields) -> Result<DomainFields, E>,
    ) -> Result<Option<Domain>, E> {
        let _turn = self.writing();
        let Some(current) = self.store.domain(account_sid, sid)? else {
            return Ok(None);
        };
        let fields = merge(&current.fields)?;
        let domain = self.store.update_domain(account_sid, sid, &fields)?;
        if let Some(domain) = &domain {
            self.put_domain(domain.clone());
        }
        Ok(domain)
    }

    /// Deletes a SIP domain; whether it existed.
    pub(crate) fn delete_domain(&self, account_sid: &str, sid: &str) -> Result<bool, StoreError> {
        let _turn = self.writing();
        let removed = self.store.delete_domain(account_sid, sid)?;
        self.remove_domain(sid);
        Ok(removed)
    }
}

/// Whether `value` is `prefix` and 32 hex digits, as every sid is.
pub(crate) fn is_sid(value: &str, prefix: &str) -> bool {
    value.len() == 34
        && value.starts_with(prefix)
        && value[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Compiles a stored bin, named after its sid and friendly name in errors.
fn compile_bin(renderer: &Renderer, bin: &Bin) -> crate::Result<Hosted<Arc<CompiledBin>>> {
    let origin = format!("TwiML bin {} ({:?})", bin.sid, bin.friendly_name);
    Ok(Hosted {
        account_sid: bin.account_sid.clone(),
        item: Arc::new(
            renderer
                .compile(&bin.sid, &bin.template, &origin)
                .map_err(crate::Error::from)?,
        ),
    })
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
    store: &dyn Store,
    sandbox: &Sandbox,
    function: &twiml_edge_store::Function,
) -> anyhow::Result<Hosted<CompiledFunction>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use twiml_edge_sandbox::Limits;
    use twiml_edge_store::AccountUpdate;

    fn tenants(dir: &std::path::Path) -> (Arc<dyn Store>, Tenants) {
        let store = Arc::new(twiml_edge_store::SqliteStore::open(dir).unwrap());
        let sandbox = Arc::new(Sandbox::new(Limits::default(), None).unwrap());
        let outbound = OutboundPolicy {
            client: Arc::new(twiml_edge_outbound::Client::new().unwrap()),
            limits: twiml_edge_outbound::Limits::default(),
        };
        let tenants =
            Tenants::load(store.clone(), sandbox, Region::default(), 2, outbound).unwrap();
        (store, tenants)
    }

    #[test]
    fn a_missing_account_is_not_read_again_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let (store, tenants) = tenants(dir.path());
        let sid = format!("AC{}", "0".repeat(32));
        assert_eq!(tenants.account(&sid).unwrap(), None);
        assert!(tenants.known_missing(&sid));
        // One created since (by the CLI) is found once the memory of its absence expires.
        store.import_account(&sid, &"1".repeat(32), "late").unwrap();
        assert_eq!(tenants.account(&sid).unwrap(), None);
        std::thread::sleep(MISSING_FOR);
        assert_eq!(
            tenants.account(&sid).unwrap().unwrap().friendly_name,
            "late"
        );
    }

    #[test]
    fn a_lazy_load_never_overwrites_a_newer_update() {
        let dir = tempfile::tempdir().unwrap();
        let (store, tenants) = tenants(dir.path());
        let stale = store.create_account("A").unwrap();
        // An update through the API lands in memory while a lazy load still holds the older row.
        let update = AccountUpdate {
            validate_signatures: Some(false),
            ..AccountUpdate::default()
        };
        let updated = tenants
            .update_account(&stale.sid, &update)
            .unwrap()
            .unwrap();
        assert_eq!(tenants.remember_read(stale), updated);
        assert_eq!(tenants.account(&updated.sid).unwrap(), Some(updated));
    }

    #[test]
    fn an_account_runs_at_most_its_share_of_calls() {
        let dir = tempfile::tempdir().unwrap();
        let (_store, tenants) = tenants(dir.path());
        let first = tenants.call_slot("ACa").unwrap();
        let _second = tenants.call_slot("ACa").unwrap();
        assert!(tenants.call_slot("ACa").is_none());
        assert!(tenants.call_slot("ACb").is_some(), "shares are per account");
        drop(first);
        assert!(tenants.call_slot("ACa").is_some());
    }
}
