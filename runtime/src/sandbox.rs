//! The wasmtime sandbox: voice functions compiled once, each webhook run in a fresh instance.
//!
//! One [`Engine`] serves the process. A function is compiled once into an [`InstancePre`]
//! (imports resolved, types checked), and every call gets a new [`Store`] and instance, so
//! callers never share state. Instances come from the pooling allocator with copy-on-write
//! memory images when the machine can reserve the address space, which keeps a fresh instance
//! in the microseconds.
//!
//! A guest sees only the `twiml:edge` world: no filesystem, network, environment or clock. Each
//! call is bounded in linear memory, CPU time (epoch interruption, ticked by its own thread) and
//! wasm stack; what it answers is bounded by the TwiML check after it.
//!
//! A call first runs straight on the request's thread, which is the cheapest way into wasm. One
//! still running after a millisecond or two is stopped and run again from the start on a fiber
//! that gives the thread back to other requests every tick, so a long or looping guest cannot
//! hold it. Running it again changes nothing but the cost: a guest sees only its webhook, so the
//! second run computes what the first would have.

use std::{
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
/// Epoch ticks a call may run on the request's thread before it is moved to a fiber: one to two
/// milliseconds, against the few microseconds a typical call takes.
const INLINE_TICKS: u64 = 2;
/// Lines a call may log before further lines are dropped.
pub(crate) const MAX_LOG_LINES: usize = 100;
/// Longest log message or field value, in bytes.
const MAX_LOG_BYTES: usize = 4096;

/// Per-call limits.
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
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory: DEFAULT_MEMORY_LIMIT,
            cpu_time: DEFAULT_CPU_TIME,
            stack: DEFAULT_STACK_LIMIT,
            max_concurrent_calls: DEFAULT_MAX_CONCURRENT_CALLS,
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
    /// What the guest logged, in order (at most 100 lines).
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

/// A compiled voice function, ready to instantiate.
#[derive(Clone)]
pub struct Function {
    name: Arc<str>,
    digest: String,
    pre: VoiceFunctionPre<CallState>,
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Function")
            .field("name", &self.name)
            .field("digest", &self.digest)
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
    compiled: AtomicUsize,
    loaded_from_cache: AtomicUsize,
    fiber_runs: AtomicUsize,
    /// One per call that may run at once, whichever allocator is in use.
    slots: tokio::sync::Semaphore,
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

impl Sandbox {
    /// An engine with `limits`, caching compiled code under `cache_dir` when given.
    pub fn new(limits: Limits, cache_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let (engine, pooling) = engine(&limits)?;
        let mut linker = Linker::new(&engine);
        VoiceFunction::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |state| state)
            .map_err(anyhow::Error::from)?;
        if let Some(dir) = &cache_dir {
            fs::create_dir_all(dir)
                .with_context(|| format!("failed to create the compiled-code cache {dir:?}"))?;
        }
        let ticker = Ticker::start(engine.clone());
        tracing::info!(pooling, ?limits, "sandbox ready");
        Ok(Self {
            engine,
            linker,
            limits,
            pooling,
            cache_dir,
            ticker,
            compiled: AtomicUsize::new(0),
            loaded_from_cache: AtomicUsize::new(0),
            fiber_runs: AtomicUsize::new(0),
            slots: tokio::sync::Semaphore::new(limits.max_concurrent_calls as usize),
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

    /// Checks and compiles `wasm` (a component, or a wit-bindgen core module to componentize)
    /// into a function that targets the `twiml:edge/voice-function` world.
    pub fn compile(&self, name: &str, wasm: &[u8]) -> anyhow::Result<Function> {
        let digest = hex::encode(Sha256::digest(wasm));
        let component = self.load_component(&digest, wasm)?;
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
        };
        self.probe(&function)?;
        Ok(function)
    }

    /// Instantiates `function` once, within its limits. wasmtime checks the types of what a
    /// component exports only when an instance is made, so a component built against another
    /// version of the WIT would otherwise be accepted and then fail every call.
    fn probe(&self, function: &Function) -> anyhow::Result<()> {
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

    fn call_state(&self, function: &Function, region: Region) -> CallState {
        CallState {
            function: function.name.clone(),
            region,
            memory_limit: self.limits.memory,
            memory_exceeded: false,
            ticks: 0,
            max_ticks: ticks(self.limits.cpu_time),
            logs: Vec::new(),
            dropped_logs: 0,
        }
    }

    /// A fresh store for one run of `function`, its memory limit enforced.
    fn store(&self, function: &Function, region: Region) -> Store<CallState> {
        let mut store = Store::new(&self.engine, self.call_state(function, region));
        store.limiter(|state| state);
        store
    }

    fn load_component(&self, digest: &str, wasm: &[u8]) -> anyhow::Result<Component> {
        let cached = self.cache_path(digest);
        if let Some(path) = cached.as_deref().filter(|p| p.exists()) {
            // SAFETY: the cache directory is written only by `store_in_cache` below, from
            // `Component::serialize` of this same engine configuration (its hash is in the key).
            #[expect(unsafe_code, reason = "deserializing our own compiled-code cache")]
            match unsafe { Component::deserialize_file(&self.engine, path) } {
                Ok(component) => {
                    self.loaded_from_cache.fetch_add(1, Ordering::Relaxed);
                    return Ok(component);
                }
                Err(err) => tracing::warn!(?path, error = %err, "ignoring an unusable cache entry"),
            }
        }
        let component_bytes = componentize(wasm)?;
        let component = Component::new(&self.engine, &component_bytes)
            .map_err(|e| anyhow::Error::from(e).context("it does not compile"))?;
        self.compiled.fetch_add(1, Ordering::Relaxed);
        if let Some(path) = cached
            && let Err(err) = store_in_cache(&component, &path)
        {
            tracing::warn!(?path, error = %err, "failed to cache compiled code");
        }
        Ok(component)
    }

    fn cache_path(&self, digest: &str) -> Option<PathBuf> {
        use std::hash::{Hash, Hasher};
        let dir = self.cache_dir.as_ref()?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.engine
            .precompile_compatibility_hash()
            .hash(&mut hasher);
        Some(dir.join(format!("{digest}-{:016x}.cwasm", hasher.finish())))
    }

    /// Runs `function` for one webhook in a fresh instance, returning what it answered and
    /// logged.
    pub async fn call(&self, function: &Function, webhook: &Webhook, region: Region) -> Call {
        // Refuse at once rather than queue: the engine gives up on a webhook after 15 s, and a
        // full server is better told now so the domain falls back.
        let Ok(_slot) = self.slots.try_acquire() else {
            return Call {
                answer: Err(Failure::Busy),
                logs: Vec::new(),
            };
        };
        let (text, ends) = webhook.decoded();
        let request = wit::Webhook {
            method: webhook.method(),
            url: webhook.url(),
            form: webhook.form(),
            params: wit::Params { text, ends },
        };
        let max_ticks = ticks(self.limits.cpu_time);
        let inline_ticks = INLINE_TICKS.min(max_ticks);
        // Every call starts inline, even of a function that ran long before: the epoch measures
        // wall time, so a call stopped here may only have been descheduled by a busy machine.
        let mut store = self.store(function, region);
        store.set_epoch_deadline(inline_ticks);
        store.epoch_deadline_trap();
        let outcome = function.pre.instantiate(&mut store).and_then(|instance| {
            instance
                .twiml_edge_handler()
                .call_handle(&mut store, request.clone())
        });
        let interrupted = matches!(&outcome, Err(err) if is_interrupt(err));
        if !interrupted || inline_ticks == max_ticks || store.data().memory_exceeded {
            return self.finish(store, outcome);
        }
        drop(store);
        self.fiber_runs.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(function = %function.name, "the call runs long: running it again on a fiber");
        let mut store = self.store(function, region);
        // At least this many ticks passed; the rest of the deadline goes to this run.
        store.data_mut().ticks = inline_ticks - 1;
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|mut context| {
            let state = context.data_mut();
            state.ticks += 1;
            if state.ticks >= state.max_ticks {
                Ok(UpdateDeadline::Interrupt)
            } else {
                // Give the thread back to other requests between ticks of a long call, to the
                // back of tokio's queue: a plain wake would run this task again first.
                Ok(UpdateDeadline::YieldCustom(
                    1,
                    Box::pin(tokio::task::yield_now()),
                ))
            }
        });
        let outcome = async {
            let instance = function.pre.instantiate_async(&mut store).await?;
            let (answer,) = instance
                .twiml_edge_handler()
                .func_handle()
                .call_async(&mut store, (request,))
                .await?;
            Ok(answer)
        }
        .await;
        self.finish(store, outcome)
    }

    /// What a run produced, its logs sent on to the runtime's log.
    fn finish(
        &self,
        store: Store<CallState>,
        outcome: wasmtime::Result<Result<String, wit::Error>>,
    ) -> Call {
        let answer = match outcome {
            Ok(Ok(twiml)) => Ok(twiml),
            Ok(Err(wit::Error::BadRequest(message))) => Err(Failure::BadRequest(message)),
            Ok(Err(wit::Error::Internal(message))) => Err(Failure::Internal(message)),
            Err(err) => Err(self.classify(&store, err)),
        };
        let state = store.into_data();
        trace_guest_logs(&state);
        Call {
            answer,
            logs: state.logs,
        }
    }

    fn classify(&self, store: &Store<CallState>, err: wasmtime::Error) -> Failure {
        let state = store.data();
        if state.memory_exceeded {
            return Failure::Memory(self.limits.memory);
        }
        match err.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => Failure::Deadline(self.limits.cpu_time),
            Some(Trap::StackOverflow) => Failure::StackOverflow,
            Some(trap) => Failure::Trap(trap.to_string()),
            None if err.downcast_ref::<PoolConcurrencyLimitError>().is_some() => Failure::Busy,
            None => Failure::Trap(format!("{err:#}")),
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.ticker.stop();
    }
}

fn is_interrupt(err: &wasmtime::Error) -> bool {
    err.downcast_ref::<Trap>() == Some(&Trap::Interrupt)
}

fn ticks(cpu_time: Duration) -> u64 {
    cpu_time.as_micros().div_ceil(EPOCH_TICK.as_micros()).max(1) as u64
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
    let mut pooling = PoolingAllocationConfig::new();
    pooling
        .total_component_instances(limits.max_concurrent_calls)
        .total_core_instances(limits.max_concurrent_calls * 4)
        .total_memories(limits.max_concurrent_calls * 2)
        .total_tables(limits.max_concurrent_calls * 4)
        .total_stacks(limits.max_concurrent_calls)
        .max_memory_size(limits.memory)
        .max_core_instances_per_component(8)
        .max_memories_per_component(2)
        .max_tables_per_component(4)
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

fn store_in_cache(component: &Component, path: &Path) -> anyhow::Result<()> {
    let bytes = component.serialize().map_err(anyhow::Error::from)?;
    // Write then rename, so a crash never leaves a half-written entry under the final name.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut file = fs::File::create(&tmp)?;
    std::io::Write::write_all(&mut file, &bytes)?;
    // Synced before it takes its name: an entry is loaded with `deserialize_file`, which
    // trusts its bytes, so a torn one must never be found under the final name.
    file.sync_all()?;
    fs::rename(&tmp, path)?;
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
        if self.logs.len() >= MAX_LOG_LINES {
            self.dropped_logs += 1;
            return;
        }
        self.logs.push(GuestLog {
            level: level_name(level).to_owned(),
            message: truncate(&message).to_owned(),
            fields: fields
                .iter()
                .map(|(n, v)| (truncate(n).to_owned(), truncate(v).to_owned()))
                .collect(),
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
            "guest logged over {MAX_LOG_LINES} lines: dropped the rest"
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
    }
}
