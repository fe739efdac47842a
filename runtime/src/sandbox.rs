//! The wasmtime sandbox: voice functions compiled once, each webhook run in a fresh instance.
//!
//! One [`Engine`] serves the process. A function is compiled once into an [`InstancePre`]
//! (imports resolved, types checked), and every call gets a new [`Store`] and instance, so
//! callers never share state. Instances come from the pooling allocator with copy-on-write
//! memory images when the machine can reserve the address space, which keeps a fresh instance
//! in the microseconds.
//!
//! A guest sees only the `twiml:edge` world: no filesystem, network, environment or clock. Each
//! call is bounded in linear memory, CPU time (epoch interruption, ticked by its own thread),
//! wasm stack, what it may hand the host in one call (hostcall fuel) and what it logs; what it
//! answers is bounded by the TwiML check after it.
//!
//! A call first runs straight on the request's thread, which is the cheapest way into wasm. One
//! still running after a millisecond or two is stopped and run again from the start on a fiber,
//! in a runtime of its own (the slow lane) that gives its threads back to other long calls every
//! tick: a long or looping guest never holds a thread that answers quick calls. Running it again
//! changes nothing but the cost: a guest sees only its webhook, so the second run computes what
//! the first would have.
//!
//! Uploads compile in a small pool with a wall-clock limit, and nothing reaches the compiled-code
//! cache before the component has passed the world check and a probe instantiation.

use std::{
    collections::HashSet,
    fmt, fs,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    thread,
    time::Duration,
};

use anyhow::{Context as _, bail};
use sha2::{Digest, Sha256};
use tokio::sync::{Semaphore, SemaphorePermit};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolConcurrencyLimitError,
    PoolingAllocationConfig, ResourceLimiter, Store, Trap, UpdateDeadline,
    component::{Component, HasSelf, Linker},
};

use crate::{
    DEFAULT_CPU_TIME, DEFAULT_MAX_CONCURRENT_CALLS, DEFAULT_MEMORY_LIMIT, DEFAULT_STACK_LIMIT,
    e164::Region, webhook::Webhook,
};

wasmtime::component::bindgen!({
    path: "../wit",
    world: "twiml:edge/voice-function",
    // The webhook goes to the guest straight from the request's buffers, not from copies.
    ownership: Borrowing { duplicate_if_necessary: false },
    // Exports are called synchronously first, then with `call_async` on a fiber (see `call`).
});

use exports::twiml::edge::handler as wit;
use twiml::edge::host::{self, Level};

/// How often the epoch advances: the granularity of the CPU deadline, and how often a running
/// guest yields to let other requests on its thread proceed.
const EPOCH_TICK: Duration = Duration::from_millis(1);
/// How long a call may run on the request's thread before it is moved to the slow lane, unless
/// [`Limits::inline_time`] says otherwise: one to two ticks, against the few microseconds a
/// typical call takes.
pub(crate) const DEFAULT_INLINE_TIME: Duration = Duration::from_millis(2);
/// Deepest wasm stack a call may run with on the request's thread: tokio's workers have 2 MiB,
/// and the host's own frames need the rest. A deeper `--stack-kib` runs every call on a fiber,
/// whose stack is sized for it.
const MAX_INLINE_STACK: usize = 1 << 20;
/// Lines a call may log before further lines are dropped.
pub(crate) const MAX_LOG_LINES: usize = 100;
/// Fields one log line keeps; the rest are dropped.
pub(crate) const MAX_LOG_FIELDS: usize = 16;
/// Longest log message, field name or field value, in bytes.
pub(crate) const MAX_LOG_BYTES: usize = 4096;
/// Bytes a call may log in all (messages, field names and values); lines past it are dropped.
pub(crate) const MAX_CALL_LOG_BYTES: usize = 16 << 10;
/// Longest error message a guest's `bad-request` or `internal` keeps, in bytes.
pub(crate) const MAX_ERROR_BYTES: usize = 4096;
/// What a guest may hand the host in one call (strings and lists lifted out of its memory), its
/// answer included: twice the largest TwiML answer a server may allow (1 MiB), so an oversized
/// answer is still read and refused by its size, while no log call makes the host allocate more.
const HOSTCALL_FUEL: usize = 2 << 20;
/// Core instances a component may have; `wit-component` makes three or four, language toolchains
/// a few more.
pub(crate) const MAX_CORE_INSTANCES: u32 = 32;
/// Core instances the pool holds per call slot, on average over what runs at once.
const CORE_INSTANCES_PER_SLOT: u32 = 4;
/// Threads of the slow lane, where calls that outlast the inline budget run.
const SLOW_LANE_THREADS: usize = 2;

/// Per-call limits, and the limits of compiling uploads.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Linear memory per call, in bytes.
    pub memory: usize,
    /// CPU time per call (rounded up to the 1 ms epoch tick).
    pub cpu_time: Duration,
    /// Wasm stack per call, in bytes.
    pub stack: usize,
    /// Calls running at once.
    pub max_concurrent_calls: u32,
    /// How long a call runs on the request's thread before it moves to the slow lane; zero
    /// sends every call there, a value at `cpu_time` or over keeps every call inline.
    pub inline_time: Duration,
    /// Uploads compiling at once; others wait their turn.
    pub max_concurrent_compiles: u32,
    /// Longest an upload may take to get its turn and compile.
    pub compile_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory: DEFAULT_MEMORY_LIMIT,
            cpu_time: DEFAULT_CPU_TIME,
            stack: DEFAULT_STACK_LIMIT,
            max_concurrent_calls: DEFAULT_MAX_CONCURRENT_CALLS,
            inline_time: DEFAULT_INLINE_TIME,
            max_concurrent_compiles: 1,
            compile_timeout: crate::DEFAULT_COMPILE_TIMEOUT,
        }
    }
}

/// Why a call produced no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The guest ran past its CPU deadline.
    Deadline(Duration),
    /// The guest asked for more linear memory than its limit.
    Memory(usize),
    /// The guest overflowed its wasm stack.
    StackOverflow,
    /// The guest trapped (a panic, `unreachable`, an out-of-bounds access, ...).
    Trap(String),
    /// The guest returned `bad-request`.
    BadRequest(String),
    /// The guest returned `internal`.
    Internal(String),
    /// Every instance slot is in use.
    Busy,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Deadline(limit) => {
                write!(f, "exceeded its {} ms CPU deadline", limit.as_millis())
            }
            Self::Memory(limit) => {
                write!(f, "exceeded its {} MiB memory limit", limit >> 20)
            }
            Self::StackOverflow => f.write_str("overflowed its wasm stack"),
            Self::Trap(message) => write!(f, "trapped: {message}"),
            Self::BadRequest(message) => write!(f, "refused the webhook: {message}"),
            Self::Internal(message) => write!(f, "failed: {message}"),
            Self::Busy => f.write_str(
                "could not start: every instance slot is in use (--max-concurrent-calls); try again",
            ),
        }
    }
}

/// What one call produced.
#[derive(Debug)]
pub struct Call {
    /// The TwiML the guest answered, or why it did not.
    pub answer: Result<String, Failure>,
    /// What the guest logged, in order, within [`MAX_LOG_LINES`] and [`MAX_CALL_LOG_BYTES`]; a
    /// last `warn` line says how many were dropped.
    pub logs: Vec<GuestLog>,
}

/// One line a guest logged through the `host.log` import.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GuestLog {
    /// `trace`, `debug`, `info`, `warn` or `error`.
    pub level: String,
    /// The message, truncated to 4 KiB.
    pub message: String,
    /// The structured fields, in order.
    pub fields: Vec<(String, String)>,
}

/// Why an upload did not become a function.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The wasm is not a voice function this runtime can run; the chain says why.
    #[error("{0:#}")]
    Refused(anyhow::Error),
    /// Waiting for a turn and compiling took longer than the limit.
    #[error(
        "it did not compile within {0:?} (--compile-timeout-secs): upload a smaller component, \
         or try again when the server is less busy"
    )]
    Timeout(Duration),
    /// Every call slot was in use, so the probe could not run.
    #[error("every instance slot is in use, so it could not be tried: upload it again shortly")]
    Busy,
}

/// A compiled voice function, ready to instantiate.
#[derive(Clone)]
pub struct Function {
    name: Arc<str>,
    digest: String,
    pre: VoiceFunctionPre<CallState>,
    /// Core instances (so pooled memories and tables too) one instance of it takes.
    core_instances: u32,
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Function")
            .field("name", &self.name)
            .field("digest", &self.digest)
            .field("core_instances", &self.core_instances)
            .finish_non_exhaustive()
    }
}

impl Function {
    /// The function's name (its URL segment).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Hex SHA-256 of the wasm it was compiled from.
    pub fn digest(&self) -> &str {
        &self.digest
    }
}

/// The engine, its linker and limits: compiles functions and runs calls.
pub struct Sandbox {
    engine: Engine,
    linker: Linker<CallState>,
    limits: Limits,
    pooling: bool,
    cache_dir: Option<PathBuf>,
    ticker: Ticker,
    /// Where calls that outlast their inline budget run; `None` once dropped.
    slow_lane: Option<tokio::runtime::Runtime>,
    compiled: AtomicUsize,
    loaded_from_cache: AtomicUsize,
    fiber_runs: AtomicUsize,
    /// One per call that may run at once, whichever allocator is in use.
    slots: Semaphore,
    /// One per pooled core instance (each with at most one memory and one table): a call takes
    /// as many as its component has, so a component of many instances cannot exhaust the pool
    /// for everyone else's.
    core_slots: Semaphore,
    /// One per upload that may compile at once.
    compiles: Arc<Semaphore>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("limits", &self.limits)
            .field("pooling", &self.pooling)
            .field("cache_dir", &self.cache_dir)
            .finish_non_exhaustive()
    }
}

/// The slots one call holds while it runs.
struct Slots<'a> {
    _call: SemaphorePermit<'a>,
    _core: SemaphorePermit<'a>,
}

impl Sandbox {
    /// An engine with `limits`, caching compiled code under `cache_dir` when given.
    pub fn new(limits: Limits, cache_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let (engine, pooling) = engine(&limits)?;
        let mut linker = Linker::new(&engine);
        VoiceFunction::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |state| state)
            .map_err(anyhow::Error::from)?;
        if let Some(dir) = &cache_dir {
            crate::store::create_private_dir(dir)
                .with_context(|| format!("failed to create the compiled-code cache {dir:?}"))?;
        }
        let slow_lane = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(SLOW_LANE_THREADS)
            .thread_name("twiml-edge-slow")
            .enable_time()
            .build()
            .context("failed to start the slow lane's threads")?;
        let ticker = Ticker::start(engine.clone());
        tracing::info!(pooling, ?limits, "sandbox ready");
        Ok(Self {
            engine,
            linker,
            limits,
            pooling,
            cache_dir,
            ticker,
            slow_lane: Some(slow_lane),
            compiled: AtomicUsize::new(0),
            loaded_from_cache: AtomicUsize::new(0),
            fiber_runs: AtomicUsize::new(0),
            slots: Semaphore::new(limits.max_concurrent_calls as usize),
            core_slots: Semaphore::new(total_core_instances(&limits) as usize),
            compiles: Arc::new(Semaphore::new(
                limits.max_concurrent_compiles.max(1) as usize
            )),
        })
    }

    /// Whether instances come from the pooling allocator.
    pub fn pooling(&self) -> bool {
        self.pooling
    }

    /// The per-call limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// How many components were compiled, and how many were loaded from the on-disk cache
    /// instead, since start.
    pub fn compile_counts(&self) -> (usize, usize) {
        (
            self.compiled.load(Ordering::Relaxed),
            self.loaded_from_cache.load(Ordering::Relaxed),
        )
    }

    /// How many calls since start outlasted their first run on the request's thread and ran
    /// again on a fiber.
    pub fn fiber_runs(&self) -> usize {
        self.fiber_runs.load(Ordering::Relaxed)
    }

    /// How many calls are running now.
    pub fn calls_in_flight(&self) -> usize {
        self.limits.max_concurrent_calls as usize - self.slots.available_permits()
    }

    /// Checks and compiles `wasm` (a component, or a wit-bindgen core module to componentize)
    /// into a function that targets the `twiml:edge/voice-function` world, tries an instance of
    /// it, and only then caches its compiled code. Blocking: off the async threads, call
    /// [`Sandbox::compile_bounded`].
    pub fn compile(&self, name: &str, wasm: &[u8]) -> anyhow::Result<Function> {
        let digest = hex::encode(Sha256::digest(wasm));
        let cached = self.cache_path(&digest);
        let (component, core_instances, from_cache) =
            match cached.as_deref().and_then(|path| self.load_cached(path)) {
                Some((component, core_instances)) => (component, core_instances, true),
                None => {
                    let bytes = componentize(wasm)?;
                    let core_instances = core_instances(&bytes);
                    if core_instances > MAX_CORE_INSTANCES {
                        bail!(
                            "it has {core_instances} core instances, over the \
                             {MAX_CORE_INSTANCES} a component may have here"
                        );
                    }
                    let component = Component::new(&self.engine, &bytes)
                        .map_err(|e| anyhow::Error::from(e).context("it does not compile"))?;
                    self.compiled.fetch_add(1, Ordering::Relaxed);
                    (component, core_instances, false)
                }
            };
        let instance_pre = self.linker.instantiate_pre(&component).map_err(|e| {
            anyhow::Error::from(e).context("it does not target the twiml:edge/voice-function world")
        })?;
        let pre = VoiceFunctionPre::new(instance_pre).map_err(|e| {
            anyhow::Error::from(e)
                .context("it does not export the twiml:edge/handler interface of twiml:edge@0.1.0")
        })?;
        let function = Function {
            name: name.into(),
            digest,
            pre,
            core_instances,
        };
        self.probe(&function)?;
        if from_cache {
            self.loaded_from_cache.fetch_add(1, Ordering::Relaxed);
        } else if let Some(path) = cached
            && let Err(err) = store_in_cache(&component, core_instances, &path)
        {
            tracing::warn!(?path, error = %err, "failed to cache compiled code");
        }
        Ok(function)
    }

    /// [`Sandbox::compile`] in the upload pool: at most `max_concurrent_compiles` at once, and
    /// an answer by `deadline` (see [`Sandbox::compile_deadline`]), waiting included. A compile
    /// that runs past it finishes in the background, holding its turn, so the pool stays bounded.
    pub async fn compile_bounded(
        self: &Arc<Self>,
        name: String,
        wasm: bytes::Bytes,
        deadline: tokio::time::Instant,
    ) -> Result<Function, CompileError> {
        let limit = self.limits.compile_timeout;
        let turn = tokio::time::timeout_at(deadline, self.compiles.clone().acquire_owned())
            .await
            .map_err(|_| CompileError::Timeout(limit))?
            .expect("the compile pool is never closed");
        let sandbox = self.clone();
        let compiling = tokio::task::spawn_blocking(move || {
            let _turn = turn;
            sandbox.compile(&name, &wasm)
        });
        match tokio::time::timeout_at(deadline, compiling).await {
            Err(_) => Err(CompileError::Timeout(limit)),
            Ok(Err(join)) => Err(CompileError::Refused(anyhow::anyhow!(
                "compiling it failed: {join}"
            ))),
            Ok(Ok(Err(err))) if err.is::<ProbeBusy>() => Err(CompileError::Busy),
            Ok(Ok(result)) => result.map_err(CompileError::Refused),
        }
    }

    /// When an upload that starts waiting now must have compiled: `compile_timeout` from now.
    pub fn compile_deadline(&self) -> tokio::time::Instant {
        tokio::time::Instant::now() + self.limits.compile_timeout
    }

    /// Instantiates `function` once, within its limits and in a call slot. wasmtime checks the
    /// types of what a component exports only when an instance is made, so a component built
    /// against another version of the WIT would otherwise be accepted and then fail every call.
    fn probe(&self, function: &Function) -> anyhow::Result<()> {
        let Some(_slots) = self.slots(function) else {
            return Err(anyhow::Error::new(ProbeBusy));
        };
        let mut store = self.store(function, Region::default());
        store.set_epoch_deadline(ticks(self.limits.cpu_time));
        store.epoch_deadline_trap();
        let instance = function
            .pre
            .instance_pre()
            .instantiate(&mut store)
            .map_err(|e| anyhow::Error::from(e).context("it fails to start"))?;
        VoiceFunction::new(&mut store, &instance).map_err(|e| {
            anyhow::Error::from(e).context(
                "its twiml:edge/handler does not have the types of twiml:edge@0.1.0: rebuild it \
                 against this runtime's wit/",
            )
        })?;
        Ok(())
    }

    /// A call slot and the core instances `function` takes, or `None` when the pool is full.
    fn slots(&self, function: &Function) -> Option<Slots<'_>> {
        let call = self.slots.try_acquire().ok()?;
        let core = self
            .core_slots
            .try_acquire_many(function.core_instances.max(1))
            .ok()?;
        Some(Slots {
            _call: call,
            _core: core,
        })
    }

    fn call_state(&self, function: &Function, region: Region) -> CallState {
        CallState {
            function: function.name.clone(),
            region,
            memory_limit: self.limits.memory,
            memory_exceeded: false,
            ticks: 0,
            max_ticks: ticks(self.limits.cpu_time),
            logs: Vec::new(),
            logged_bytes: 0,
            dropped_logs: 0,
        }
    }

    /// A fresh store for one run of `function`, its memory limit and hostcall fuel enforced.
    fn store(&self, function: &Function, region: Region) -> Store<CallState> {
        let mut store = Store::new(&self.engine, self.call_state(function, region));
        store.limiter(|state| state);
        store.set_hostcall_fuel(HOSTCALL_FUEL);
        store
    }

    /// The component cached at `path` and its count of core instances, when its checksum
    /// holds; anything else is ignored (and compiled again), since deserializing trusts the bytes.
    fn load_cached(&self, path: &Path) -> Option<(Component, u32)> {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
            Err(err) => {
                tracing::warn!(?path, error = %err, "cannot read a cache entry: compiling");
                return None;
            }
        };
        let Some((core_instances, payload)) = verified(&bytes) else {
            tracing::warn!(?path, "a cache entry fails its checksum: compiling");
            return None;
        };
        // SAFETY: the payload was written by `store_in_cache` from `Component::serialize` of an
        // engine with this configuration (its hash is in the file name), and its SHA-256 matches
        // what was written, so it is not torn or altered.
        #[expect(
            unsafe_code,
            reason = "deserializing our own verified compiled-code cache"
        )]
        match unsafe { Component::deserialize(&self.engine, payload) } {
            Ok(component) => Some((component, core_instances)),
            Err(err) => {
                tracing::warn!(?path, error = %err, "ignoring an unusable cache entry");
                None
            }
        }
    }

    fn cache_path(&self, digest: &str) -> Option<PathBuf> {
        let dir = self.cache_dir.as_ref()?;
        Some(dir.join(format!("{digest}-{}.cwasm", self.engine_hash())))
    }

    /// What tells compiled code of this engine configuration from any other's.
    fn engine_hash(&self) -> String {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.engine
            .precompile_compatibility_hash()
            .hash(&mut hasher);
        format!("{:016x}", hasher.finish())
    }

    /// Removes every cache entry that no function in `in_use` (wasm digests) was compiled from,
    /// entries of other engine configurations, and leftovers of interrupted writes. Returns how
    /// many files went.
    pub fn retain_cache(&self, in_use: &HashSet<String>) -> usize {
        let Some(dir) = &self.cache_dir else { return 0 };
        let Ok(entries) = fs::read_dir(dir) else {
            return 0;
        };
        let suffix = format!("-{}.cwasm", self.engine_hash());
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let keep = name
                .strip_suffix(&suffix)
                .is_some_and(|digest| in_use.contains(digest));
            if !keep && fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        if removed > 0 {
            tracing::debug!(removed, "compiled-code cache trimmed");
        }
        removed
    }

    /// Runs `function` for one webhook in a fresh instance, returning what it answered and
    /// logged.
    pub async fn call(&self, function: &Function, webhook: &Webhook, region: Region) -> Call {
        // Refuse at once rather than queue: the engine gives up on a webhook after 15 s, and a
        // full server is better told now so the domain falls back.
        let Some(slots) = self.slots(function) else {
            return Call {
                answer: Err(Failure::Busy),
                logs: Vec::new(),
            };
        };
        let max_ticks = ticks(self.limits.cpu_time);
        let inline_ticks = if self.limits.stack > MAX_INLINE_STACK {
            0
        } else {
            ticks_at_most(self.limits.inline_time).min(max_ticks)
        };
        if inline_ticks > 0 {
            // Every call starts inline, even of a function that ran long before: the epoch
            // measures wall time, so a call stopped here may only have been descheduled.
            let (text, ends) = webhook.decoded();
            let request = wit::Webhook {
                method: webhook.method(),
                url: webhook.url(),
                form: webhook.form(),
                params: wit::Params { text, ends },
            };
            let mut store = self.store(function, region);
            store.set_epoch_deadline(inline_ticks);
            store.epoch_deadline_trap();
            let outcome = function.pre.instantiate(&mut store).and_then(|instance| {
                instance
                    .twiml_edge_handler()
                    .call_handle(&mut store, request)
            });
            let interrupted = matches!(&outcome, Err(err) if is_interrupt(err));
            if !interrupted || inline_ticks == max_ticks || store.data().memory_exceeded {
                return self.finish(store, outcome);
            }
            tracing::debug!(function = %function.name, "the call runs long: running it again on a fiber");
        }
        self.fiber_runs.fetch_add(1, Ordering::Relaxed);
        // At least this many ticks passed; the rest of the deadline goes to this run.
        let spent = inline_ticks.saturating_sub(1);
        let run = self.run_on_fiber(function.clone(), webhook.clone(), region, spent);
        let slow_lane = self
            .slow_lane
            .as_ref()
            .expect("the slow lane lives as long as the sandbox");
        let mut running = AbortOnDrop(slow_lane.spawn(run));
        let call = match (&mut running.0).await {
            Ok(call) => call,
            Err(err) => Call {
                answer: Err(Failure::Trap(format!("the call's task failed: {err}"))),
                logs: Vec::new(),
            },
        };
        drop(slots);
        call
    }

    /// A run of `function` on a fiber that yields every tick, charged `spent` ticks already.
    fn run_on_fiber(
        &self,
        function: Function,
        webhook: Webhook,
        region: Region,
        spent: u64,
    ) -> impl Future<Output = Call> + Send + 'static {
        let mut store = self.store(&function, region);
        store.data_mut().ticks = spent;
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|mut context| {
            let state = context.data_mut();
            state.ticks += 1;
            if state.ticks >= state.max_ticks {
                Ok(UpdateDeadline::Interrupt)
            } else {
                // Give the thread back to other long calls between ticks, to the back of
                // tokio's queue: a plain wake would run this task again first.
                Ok(UpdateDeadline::YieldCustom(
                    1,
                    Box::pin(tokio::task::yield_now()),
                ))
            }
        });
        let finisher = Finisher {
            memory: self.limits.memory,
            cpu_time: self.limits.cpu_time,
        };
        async move {
            let outcome = async {
                let (text, ends) = webhook.decoded();
                let request = wit::Webhook {
                    method: webhook.method(),
                    url: webhook.url(),
                    form: webhook.form(),
                    params: wit::Params { text, ends },
                };
                let instance = function.pre.instantiate_async(&mut store).await?;
                let (answer,) = instance
                    .twiml_edge_handler()
                    .func_handle()
                    .call_async(&mut store, (request,))
                    .await?;
                Ok(answer)
            }
            .await;
            finisher.finish(store, outcome)
        }
    }

    /// What a run produced, its logs sent on to the runtime's log.
    fn finish(
        &self,
        store: Store<CallState>,
        outcome: wasmtime::Result<Result<String, wit::Error>>,
    ) -> Call {
        Finisher {
            memory: self.limits.memory,
            cpu_time: self.limits.cpu_time,
        }
        .finish(store, outcome)
    }
}

/// The limits a finished run's failure is told against.
struct Finisher {
    memory: usize,
    cpu_time: Duration,
}

impl Finisher {
    fn finish(
        &self,
        store: Store<CallState>,
        outcome: wasmtime::Result<Result<String, wit::Error>>,
    ) -> Call {
        let answer = match outcome {
            Ok(Ok(twiml)) => Ok(twiml),
            Ok(Err(wit::Error::BadRequest(message))) => {
                Err(Failure::BadRequest(bounded(message, MAX_ERROR_BYTES)))
            }
            Ok(Err(wit::Error::Internal(message))) => {
                Err(Failure::Internal(bounded(message, MAX_ERROR_BYTES)))
            }
            Err(err) => Err(self.classify(&store, err)),
        };
        let mut state = store.into_data();
        trace_guest_logs(&state);
        if state.dropped_logs > 0 {
            state.logs.push(GuestLog {
                level: "warn".into(),
                message: format!(
                    "{} more lines dropped: a call keeps {MAX_LOG_LINES} lines and \
                     {MAX_CALL_LOG_BYTES} bytes of log",
                    state.dropped_logs
                ),
                fields: Vec::new(),
            });
        }
        Call {
            answer,
            logs: state.logs,
        }
    }

    fn classify(&self, store: &Store<CallState>, err: wasmtime::Error) -> Failure {
        let state = store.data();
        if state.memory_exceeded {
            return Failure::Memory(self.memory);
        }
        match err.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => Failure::Deadline(self.cpu_time),
            Some(Trap::StackOverflow) => Failure::StackOverflow,
            Some(trap) => Failure::Trap(trap.to_string()),
            None if err.downcast_ref::<PoolConcurrencyLimitError>().is_some() => Failure::Busy,
            None => Failure::Trap(bounded(format!("{err:#}"), MAX_ERROR_BYTES)),
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.ticker.stop();
        // Dropping a runtime blocks until its tasks end, which an async context forbids; the
        // tasks left are calls whose requests are gone.
        if let Some(slow_lane) = self.slow_lane.take() {
            slow_lane.shutdown_background();
        }
    }
}

/// Aborts the slow-lane task of a call whose request went away, so it stops at its next tick.
struct AbortOnDrop(tokio::task::JoinHandle<Call>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The probe found every call slot taken.
#[derive(Debug, thiserror::Error)]
#[error("every instance slot is in use")]
struct ProbeBusy;

fn is_interrupt(err: &wasmtime::Error) -> bool {
    err.downcast_ref::<Trap>() == Some(&Trap::Interrupt)
}

fn ticks(cpu_time: Duration) -> u64 {
    cpu_time.as_micros().div_ceil(EPOCH_TICK.as_micros()).max(1) as u64
}

/// Whole ticks within `time`; zero for under a tick.
fn ticks_at_most(time: Duration) -> u64 {
    (time.as_micros() / EPOCH_TICK.as_micros()) as u64
}

fn total_core_instances(limits: &Limits) -> u32 {
    limits
        .max_concurrent_calls
        .saturating_mul(CORE_INSTANCES_PER_SLOT)
}

/// Builds the engine: pooling allocator when its address space can be reserved, else on demand.
///
/// Tuned so a fresh instance costs no system call in the steady state (measured with
/// `cargo bench --bench sandbox`):
/// - bounds checks are explicit (no signal-based traps, no guard pages), so a slot that a guest
///   grew stays read/write when it is reused, instead of one `mprotect` to shrink it at
///   instantiation and another when the guest grows its heap again;
/// - up to 1 MiB of each linear memory stays resident, and with `PAGEMAP_SCAN` (Linux 6.7+) only
///   the pages a call dirtied are reset, so the next call takes no page faults and no `madvise`.
///
/// The pool holds as many memories and tables as core instances (a core module has at most one
/// of each here), and [`Sandbox::slots`] reserves a call's real count of core instances, so the
/// pool never runs out under a call that was let in.
fn engine(limits: &Limits) -> anyhow::Result<(Engine, bool)> {
    let mut config = Config::new();
    config
        .epoch_interruption(true)
        .max_wasm_stack(limits.stack)
        // The fiber stack holds the wasm stack plus host frames.
        .async_stack_size(limits.stack + (1 << 20))
        .signals_based_traps(false)
        .memory_guard_size(0)
        .memory_init_cow(true);
    let core_instances = total_core_instances(limits);
    let mut pooling = PoolingAllocationConfig::new();
    pooling
        .total_component_instances(limits.max_concurrent_calls)
        .total_core_instances(core_instances)
        .total_memories(core_instances)
        .total_tables(core_instances)
        .total_stacks(limits.max_concurrent_calls)
        .max_memory_size(limits.memory)
        .max_core_instances_per_component(MAX_CORE_INSTANCES)
        .max_memories_per_component(MAX_CORE_INSTANCES)
        .max_tables_per_component(MAX_CORE_INSTANCES)
        .linear_memory_keep_resident(1 << 20)
        .table_keep_resident(4 << 10)
        .pagemap_scan(Enabled::Auto);
    let mut pooled = config.clone();
    pooled.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    // Like `wasmtime serve`, try the pool and fall back: a restricted address space
    // (ulimit -v, some containers) cannot reserve it.
    match Engine::new(&pooled) {
        Ok(engine) => Ok((engine, true)),
        Err(err) => {
            tracing::warn!(error = %err, "pooling allocator unavailable: allocating instances on demand");
            let engine = Engine::new(&config).map_err(anyhow::Error::from)?;
            Ok((engine, false))
        }
    }
}

/// A component from `wasm`: as it is when already one, componentized when it is a wit-bindgen
/// core module (which carries its WIT in a `component-type` custom section).
pub fn componentize(wasm: &[u8]) -> anyhow::Result<Vec<u8>> {
    if wasmparser::Parser::is_component(wasm) {
        return Ok(wasm.to_vec());
    }
    if !wasmparser::Parser::is_core_wasm(wasm) {
        bail!("it is not WebAssembly: expected a component or a core module (\\0asm header)");
    }
    wit_component::ComponentEncoder::default()
        .module(wasm)
        .context(
            "it is a core module without usable component metadata: build it with wit-bindgen",
        )?
        .validate(true)
        .encode()
        .context("it is a core module that cannot become a component")
}

/// How many core modules a component instantiates, nested components included; what it cannot
/// read counts as the most a component may have, so it is refused rather than undercounted.
fn core_instances(component: &[u8]) -> u32 {
    let mut count = 0u32;
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        match payload {
            Ok(wasmparser::Payload::InstanceSection(reader)) => {
                for instance in reader {
                    match instance {
                        Ok(wasmparser::Instance::Instantiate { .. }) => count += 1,
                        Ok(_) => {}
                        Err(_) => return MAX_CORE_INSTANCES + 1,
                    }
                }
            }
            Ok(_) => {}
            Err(_) => return MAX_CORE_INSTANCES + 1,
        }
    }
    count
}

/// The core-instance count and compiled code of a cache file, when its checksum holds. A file
/// is the SHA-256 of what follows it, the count (4 bytes, little-endian), then the code.
fn verified(file: &[u8]) -> Option<(u32, &[u8])> {
    let (sum, checked) = file.split_at_checked(32)?;
    let (count, payload) = checked.split_at_checked(4)?;
    (Sha256::digest(checked).as_slice() == sum).then(|| {
        (
            u32::from_le_bytes(count.try_into().expect("four bytes")),
            payload,
        )
    })
}

fn store_in_cache(component: &Component, core_instances: u32, path: &Path) -> anyhow::Result<()> {
    let payload = component.serialize().map_err(anyhow::Error::from)?;
    let mut checked = Vec::with_capacity(4 + payload.len());
    checked.extend_from_slice(&core_instances.to_le_bytes());
    checked.extend_from_slice(&payload);
    let mut file = Vec::with_capacity(32 + checked.len());
    file.extend_from_slice(&Sha256::digest(&checked));
    file.extend_from_slice(&checked);
    let dir = path.parent().context("a cache entry has a folder")?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .context("a cache entry has a name")?;
    // A unique temporary name, synced, then renamed: two processes (a server and `call --data`)
    // or two uploads of one wasm never write the same file.
    crate::store::write_atomic(dir, name, &file)?;
    Ok(())
}

/// What one call's store holds.
struct CallState {
    function: Arc<str>,
    region: Region,
    memory_limit: usize,
    memory_exceeded: bool,
    ticks: u64,
    max_ticks: u64,
    logs: Vec<GuestLog>,
    /// Bytes of messages, field names and values kept in `logs`.
    logged_bytes: usize,
    dropped_logs: usize,
}

impl ResourceLimiter for CallState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_limit {
            // Refuse the growth (the guest sees -1) and remember why, so the trap that usually
            // follows is reported as the memory limit rather than as a bare `unreachable`.
            self.memory_exceeded = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

impl host::Host for CallState {
    fn log(&mut self, level: Level, message: String, fields: Vec<(String, String)>) {
        let fields: Vec<(String, String)> = fields
            .iter()
            .take(MAX_LOG_FIELDS)
            .map(|(n, v)| (truncate(n).to_owned(), truncate(v).to_owned()))
            .collect();
        let message = truncate(&message);
        let bytes = message.len() + fields.iter().map(|(n, v)| n.len() + v.len()).sum::<usize>();
        if self.logs.len() >= MAX_LOG_LINES || self.logged_bytes + bytes > MAX_CALL_LOG_BYTES {
            self.dropped_logs += 1;
            return;
        }
        self.logged_bytes += bytes;
        self.logs.push(GuestLog {
            level: level_name(level).to_owned(),
            message: message.to_owned(),
            fields,
        });
    }

    fn e164(&mut self, input: String, region: Option<String>) -> Option<String> {
        let region = match region {
            Some(code) => code.parse().ok()?,
            None => self.region,
        };
        crate::e164::normalize(&input, region)
    }
}

/// Sends what a call logged on to the runtime's log, once the call is over: a call stopped to
/// run again on a fiber logs only its second run.
fn trace_guest_logs(state: &CallState) {
    let function = &*state.function;
    for line in &state.logs {
        let fields = line
            .fields
            .iter()
            .map(|(n, v)| format!("{n}={v:?}"))
            .collect::<Vec<_>>()
            .join(" ");
        let message = &line.message;
        match line.level.as_str() {
            "trace" => tracing::trace!(target: "guest", function, fields, "{message}"),
            "debug" => tracing::debug!(target: "guest", function, fields, "{message}"),
            "info" => tracing::info!(target: "guest", function, fields, "{message}"),
            "warn" => tracing::warn!(target: "guest", function, fields, "{message}"),
            // "error", the only level left.
            _ => tracing::error!(target: "guest", function, fields, "{message}"),
        }
    }
    if state.dropped_logs > 0 {
        tracing::warn!(
            function,
            dropped = state.dropped_logs,
            "guest logged over {MAX_LOG_LINES} lines or {MAX_CALL_LOG_BYTES} bytes: dropped the rest"
        );
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Trace => "trace",
        Level::Debug => "debug",
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Error => "error",
    }
}

fn truncate(s: &str) -> &str {
    &s[..s.floor_char_boundary(MAX_LOG_BYTES)]
}

/// `text` cut to at most `max` bytes on a character boundary, marked when cut.
fn bounded(mut text: String, max: usize) -> String {
    if text.len() > max {
        let cut = text.floor_char_boundary(max);
        text.truncate(cut);
        text.push_str("...");
    }
    text
}

/// The thread that advances the engine's epoch every [`EPOCH_TICK`].
struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Ticker {
    fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        thread::Builder::new()
            .name("twiml-edge-epoch".into())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("spawning the epoch thread");
        Self { stop }
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_ticks_round_up() {
        assert_eq!(ticks(Duration::from_millis(100)), 100);
        assert_eq!(ticks(Duration::from_micros(1500)), 2);
        assert_eq!(ticks(Duration::ZERO), 1);
        assert_eq!(ticks_at_most(Duration::from_micros(1500)), 1);
        assert_eq!(ticks_at_most(Duration::ZERO), 0);
    }

    #[test]
    fn non_wasm_is_refused_with_a_reason() {
        let err = componentize(b"hello").unwrap_err().to_string();
        assert!(err.contains("not WebAssembly"), "{err}");
        let sandbox = Sandbox::new(Limits::default(), None).unwrap();
        let empty_module = b"\0asm\x01\0\0\0";
        let err = format!("{:#}", sandbox.compile("empty", empty_module).unwrap_err());
        assert!(err.contains("twiml:edge/handler"), "{err}");
    }

    #[test]
    fn log_values_are_truncated_on_a_char_boundary() {
        let long = "é".repeat(MAX_LOG_BYTES);
        assert!(truncate(&long).len() <= MAX_LOG_BYTES);
        assert_eq!(truncate("short"), "short");
        let cut = bounded("é".repeat(MAX_ERROR_BYTES), MAX_ERROR_BYTES);
        assert!(
            cut.len() <= MAX_ERROR_BYTES + 3 && cut.ends_with("..."),
            "{cut}"
        );
        assert_eq!(bounded("short".into(), 10), "short");
    }

    #[test]
    fn cache_entries_are_verified_before_use() {
        let checked = b"\x03\0\0\0compiled code";
        let mut file = Sha256::digest(checked).to_vec();
        file.extend_from_slice(checked);
        assert_eq!(verified(&file), Some((3, &b"compiled code"[..])));
        let last = file.len() - 1;
        file[last] ^= 1;
        assert_eq!(verified(&file), None);
        assert_eq!(verified(b"short"), None);
    }

    #[test]
    fn a_call_keeps_bounded_logs() {
        let mut state = CallState {
            function: "f".into(),
            region: Region::default(),
            memory_limit: 0,
            memory_exceeded: false,
            ticks: 0,
            max_ticks: 1,
            logs: Vec::new(),
            logged_bytes: 0,
            dropped_logs: 0,
        };
        let value = "v".repeat(MAX_LOG_BYTES * 2);
        let fields = (0..100).map(|_| ("name".into(), value.clone())).collect();
        host::Host::log(&mut state, Level::Info, "wide".into(), fields);
        assert_eq!(state.logs.len(), 0, "over the bytes of a call: dropped");
        assert_eq!(state.dropped_logs, 1);
        for _ in 0..1000 {
            let fields = vec![("k".into(), "v".into()); 40];
            host::Host::log(&mut state, Level::Info, "line".into(), fields);
        }
        assert_eq!(state.logs.len(), MAX_LOG_LINES);
        assert!(state.logs.iter().all(|l| l.fields.len() == MAX_LOG_FIELDS));
        assert!(state.logged_bytes <= MAX_CALL_LOG_BYTES);
    }
}
