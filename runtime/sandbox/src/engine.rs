//! The engine and what it holds: one wasmtime engine per process, its pooling allocator sized
//! for the call slots, the epoch thread that bounds CPU time, and the slow lane where long calls
//! run on threads of their own.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    thread,
    time::Duration,
};

use anyhow::Context as _;
use tokio::sync::{Semaphore, SemaphorePermit};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store,
    component::{HasSelf, Linker},
};

use crate::{
    CallContext, CodeCache, CompiledFunction, DEFAULT_COMPILE_TIMEOUT, DEFAULT_CPU_TIME,
    DEFAULT_INLINE_TIME, DEFAULT_MAX_CONCURRENT_CALLS, DEFAULT_MEMORY_LIMIT, DEFAULT_STACK_LIMIT,
    DEFAULT_WALL_TIME,
    bindings::{twiml::edge::host as twiml_host, wasi},
    host::{CallState, HOSTCALL_FUEL, add_legacy_host},
};

/// How often the epoch advances: the granularity of the CPU deadline, and how often a running
/// guest yields to let other requests on its thread proceed.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(1);
/// Core instances a component may have; `wit-component` makes three or four, language toolchains
/// a few more.
pub const MAX_CORE_INSTANCES: u32 = 32;
/// Core instances the pool holds per call slot, on average over what runs at once.
const CORE_INSTANCES_PER_SLOT: u32 = 4;
/// Threads of the slow lane, where calls that outlast the inline budget run.
const SLOW_LANE_THREADS: usize = 2;

/// Where the memory of a call's instances comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Allocator {
    /// The pooling allocator when its address space can be reserved, else on demand.
    #[default]
    Auto,
    /// The pooling allocator: slots reserved up front and reused, no system call per call in
    /// the steady state. Starting fails where the address space cannot be reserved.
    Pooling,
    /// Memory mapped for each call and unmapped after it: less address space, more system calls.
    OnDemand,
}

impl std::str::FromStr for Allocator {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "auto" => Ok(Self::Auto),
            "pooling" => Ok(Self::Pooling),
            "on-demand" => Ok(Self::OnDemand),
            _ => Err(format!(
                "{text:?} is not an allocator: use auto, pooling or on-demand"
            )),
        }
    }
}

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
    /// Where instances' memory comes from.
    pub allocator: Allocator,
    /// Wall-clock time a call may take in all, waiting on I/O included; a call that does no
    /// I/O is bounded by `cpu_time` long before.
    pub wall_time: Duration,
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
            compile_timeout: DEFAULT_COMPILE_TIMEOUT,
            allocator: Allocator::Auto,
            wall_time: DEFAULT_WALL_TIME,
        }
    }
}

/// The engine, its linker and limits: compiles functions and runs calls.
pub struct Sandbox {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<CallState>,
    pub(crate) limits: Limits,
    pub(crate) pooling: bool,
    /// Where compiled code is kept between runs, when anywhere.
    pub(crate) cache: Option<Arc<dyn CodeCache>>,
    pub(crate) ticker: Ticker,
    /// Where calls that outlast their inline budget run; `None` once dropped.
    pub(crate) slow_lane: Option<tokio::runtime::Runtime>,
    pub(crate) compiled: AtomicUsize,
    pub(crate) loaded_from_cache: AtomicUsize,
    pub(crate) fiber_runs: AtomicUsize,
    /// One per call that may run at once, whichever allocator is in use.
    pub(crate) slots: Semaphore,
    /// One per pooled core instance (each with at most one memory and one table): a call takes
    /// as many as its component has, so a component of many instances cannot exhaust the pool
    /// for everyone else's.
    pub(crate) core_slots: Semaphore,
    /// One per upload that may compile at once.
    pub(crate) compiles: Arc<Semaphore>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("limits", &self.limits)
            .field("pooling", &self.pooling)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

/// The slots one call holds while it runs.
pub(crate) struct Slots<'a> {
    _call: SemaphorePermit<'a>,
    _core: SemaphorePermit<'a>,
}

impl Sandbox {
    /// An engine with `limits`, keeping compiled code in `cache` when given.
    pub fn new(limits: Limits, cache: Option<Arc<dyn CodeCache>>) -> anyhow::Result<Self> {
        let (engine, pooling) = engine(&limits)?;
        let linker = linker(&engine).map_err(anyhow::Error::from)?;
        // Long calls and calls that do I/O run here; their requests are sent from here too.
        let slow_lane = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(SLOW_LANE_THREADS)
            .thread_name("twiml-edge-slow")
            .enable_all()
            .build()
            .context("failed to start the slow lane's threads")?;
        let ticker = Ticker::start(engine.clone());
        tracing::info!(pooling, ?limits, "sandbox ready");
        Ok(Self {
            engine,
            linker,
            limits,
            pooling,
            cache,
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

    /// A call slot and the core instances `function` takes, or `None` when the pool is full.
    pub(crate) fn slots(&self, function: &CompiledFunction) -> Option<Slots<'_>> {
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

    /// A fresh store for one run of `function`, its memory limit and hostcall fuel enforced.
    pub(crate) fn store(
        &self,
        function: &CompiledFunction,
        context: CallContext,
    ) -> Store<CallState> {
        let state = CallState::new(
            function.name.clone(),
            context,
            self.limits.memory,
            ticks(self.limits.cpu_time),
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| state);
        store.set_hostcall_fuel(HOSTCALL_FUEL);
        store
    }
}

/// Everything a voice function may import: `twiml:edge/host` in both package versions, WASI 0.2
/// (deny by default, see `wasi`), `wasi:http`'s outgoing handler, `wasi:config` and
/// `wasi:keyvalue`.
fn linker(engine: &Engine) -> wasmtime::Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    twiml_host::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |state| state)?;
    add_legacy_host(&mut linker)?;
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    wasi::config::store::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |state| state)?;
    wasi::keyvalue::store::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |state| state)?;
    wasi::keyvalue::atomics::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |state| state)?;
    wasi::keyvalue::batch::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |state| state)?;
    Ok(linker)
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

pub(crate) fn ticks(cpu_time: Duration) -> u64 {
    cpu_time.as_micros().div_ceil(EPOCH_TICK.as_micros()).max(1) as u64
}

/// Whole ticks within `time`; zero for under a tick.
pub(crate) fn ticks_at_most(time: Duration) -> u64 {
    (time.as_micros() / EPOCH_TICK.as_micros()) as u64
}

fn total_core_instances(limits: &Limits) -> u32 {
    limits
        .max_concurrent_calls
        .saturating_mul(CORE_INSTANCES_PER_SLOT)
}

/// Builds the engine with the allocator `limits` asks for; `Auto` takes the pooling allocator
/// when its address space can be reserved, else allocates on demand.
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
    match limits.allocator {
        Allocator::OnDemand => Ok((Engine::new(&config).map_err(anyhow::Error::from)?, false)),
        Allocator::Pooling => Engine::new(&pooled)
            .map(|engine| (engine, true))
            .map_err(anyhow::Error::from)
            .context(
                "the pooling allocator cannot reserve its address space (lower the concurrent \
                 calls or the memory per call, or use the on-demand allocator)",
            ),
        // Like `wasmtime serve`, try the pool and fall back: a restricted address space
        // (ulimit -v, some containers) cannot reserve it.
        Allocator::Auto => match Engine::new(&pooled) {
            Ok(engine) => Ok((engine, true)),
            Err(err) => {
                tracing::warn!(error = %err, "pooling allocator unavailable: allocating instances on demand");
                let engine = Engine::new(&config).map_err(anyhow::Error::from)?;
                Ok((engine, false))
            }
        },
    }
}

/// The thread that advances the engine's epoch every [`EPOCH_TICK`].
pub(crate) struct Ticker {
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
}
