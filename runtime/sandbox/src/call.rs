//! Running a call: a fresh instance per webhook, first straight on the request's thread, and
//! in the slow lane on a fiber when it runs long; a function that does I/O runs in the slow lane
//! from its first instruction, bounded in wall-clock time too.

use std::{fmt, sync::atomic::Ordering, time::Duration};

use twiml_edge_sdk::webhook::Webhook;
use wasmtime::{PoolConcurrencyLimitError, Store, Trap, UpdateDeadline};

use crate::{
    CallContext, CompiledFunction, GuestLog, MAX_CALL_LOG_BYTES, MAX_ERROR_BYTES, MAX_LOG_LINES,
    Sandbox,
    bindings::wit,
    compile::Entry,
    engine::{ticks, ticks_at_most},
    host::{CallState, bounded, trace_guest_logs},
};

/// Deepest wasm stack a call may run with on the request's thread: tokio's workers have 2 MiB,
/// and the host's own frames need the rest. A deeper `--stack-kib` runs every call on a fiber,
/// whose stack is sized for it.
const MAX_INLINE_STACK: usize = 1 << 20;

/// Why a call produced no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The guest ran past its CPU deadline.
    Deadline(Duration),
    /// The call ran past its wall-clock limit, waiting on I/O included.
    WallClock(Duration),
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
            Self::WallClock(limit) => write!(
                f,
                "did not answer within its {} ms wall-clock limit (waiting on requests included)",
                limit.as_millis()
            ),
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

impl Failure {
    /// The failure with every secret value of `variables` hidden in its message.
    fn redacted(self, variables: &crate::Variables) -> Self {
        let hide = |message: String| variables.redact(&message).into_owned();
        match self {
            Self::Trap(message) => Self::Trap(hide(message)),
            Self::BadRequest(message) => Self::BadRequest(hide(message)),
            Self::Internal(message) => Self::Internal(hide(message)),
            other => other,
        }
    }
}

/// What one call produced.
#[derive(Debug)]
pub struct CallOutcome {
    /// The TwiML the guest answered, or why it did not.
    pub answer: Result<String, Failure>,
    /// What the guest logged, in order, within [`MAX_LOG_LINES`] and [`MAX_CALL_LOG_BYTES`]; a
    /// last `warn` line says how many were dropped.
    pub logs: Vec<GuestLog>,
}

impl Sandbox {
    /// Runs `function` for one webhook in a fresh instance, returning what it answered and
    /// logged.
    pub async fn call(
        &self,
        function: &CompiledFunction,
        webhook: &Webhook,
        context: &CallContext,
    ) -> CallOutcome {
        // Refuse at once rather than queue: the engine gives up on a webhook after 15 s, and a
        // full server is better told now so the domain falls back.
        let Some(slots) = self.slots(function) else {
            return CallOutcome {
                answer: Err(Failure::Busy),
                logs: Vec::new(),
            };
        };
        let max_ticks = ticks(self.limits.cpu_time);
        // A function that does I/O is never run twice (the second run would repeat its
        // requests and writes), so it starts on a fiber.
        let inline_ticks = if function.io || self.limits.stack > MAX_INLINE_STACK {
            0
        } else {
            ticks_at_most(self.limits.inline_time).min(max_ticks)
        };
        if inline_ticks > 0 {
            // Every call starts inline, even of a function that ran long before: the epoch
            // measures wall time, so a call stopped here may only have been descheduled.
            let mut store = self.store(function, context.clone());
            store.set_epoch_deadline(inline_ticks);
            store.epoch_deadline_trap();
            let outcome = run_inline(function, &mut store, &wit_webhook(webhook));
            let interrupted = matches!(&outcome, Err(err) if is_interrupt(err));
            if !interrupted || inline_ticks == max_ticks || store.data().memory_exceeded {
                return self.finish(store, outcome);
            }
            tracing::debug!(function = %function.name, "the call runs long: running it again on a fiber");
            self.fiber_runs.fetch_add(1, Ordering::Relaxed);
        }
        // At least this many ticks passed; the rest of the deadline goes to this run.
        let spent = inline_ticks.saturating_sub(1);
        let run = self.run_on_fiber(function.clone(), webhook.clone(), context.clone(), spent);
        let slow_lane = self
            .slow_lane
            .as_ref()
            .expect("the slow lane lives as long as the sandbox");
        let mut running = AbortOnDrop(slow_lane.spawn(run));
        let call = match (&mut running.0).await {
            Ok(call) => call,
            Err(err) => CallOutcome {
                answer: Err(Failure::Trap(format!("the call's task failed: {err}"))),
                logs: Vec::new(),
            },
        };
        drop(slots);
        call
    }

    /// A run of `function` on a fiber that yields every tick, charged `spent` ticks already,
    /// within the wall-clock limit.
    fn run_on_fiber(
        &self,
        function: CompiledFunction,
        webhook: Webhook,
        context: CallContext,
        spent: u64,
    ) -> impl Future<Output = CallOutcome> + Send + 'static {
        let mut store = self.store(&function, context);
        store.data_mut().ticks = spent;
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|mut context| {
            let state = context.data_mut();
            // While the guest waits on I/O no tick reaches it, so this counts its CPU time.
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
        let wall_time = self.limits.wall_time;
        async move {
            let run = run_async(&function, &mut store, &webhook);
            let outcome = match tokio::time::timeout(wall_time, run).await {
                Ok(outcome) => outcome,
                // Dropping the run unwinds the guest; what it logged so far stays.
                Err(_) => Err(wasmtime::Error::new(WallClockExceeded(wall_time))),
            };
            finisher.finish(store, outcome)
        }
    }

    /// What a run produced, its logs sent on to the runtime's log.
    fn finish(
        &self,
        store: Store<CallState>,
        outcome: wasmtime::Result<Result<String, wit::Error>>,
    ) -> CallOutcome {
        Finisher {
            memory: self.limits.memory,
            cpu_time: self.limits.cpu_time,
        }
        .finish(store, outcome)
    }
}

/// The webhook as the handler takes it, borrowed from `webhook`.
fn wit_webhook(webhook: &Webhook) -> wit::Webhook<'_> {
    let (text, ends) = webhook.decoded();
    wit::Webhook {
        method: webhook.method(),
        url: webhook.url(),
        form: webhook.form(),
        params: wit::Params { text, ends },
    }
}

/// The handler's signature, for a `twiml:edge@0.1.0` component reached by name.
type LegacyHandle<'a> =
    wasmtime::component::TypedFunc<(wit::Webhook<'a>,), (Result<String, wit::Error>,)>;

/// Instantiates `function` and calls its handler, on the caller's thread.
fn run_inline(
    function: &CompiledFunction,
    store: &mut Store<CallState>,
    request: &wit::Webhook<'_>,
) -> wasmtime::Result<Result<String, wit::Error>> {
    match &function.entry {
        Entry::Current(pre) => pre
            .instantiate(&mut *store)?
            .twiml_edge_handler()
            .call_handle(&mut *store, request.clone()),
        Entry::Legacy { pre, handle } => {
            let instance = pre.instantiate(&mut *store)?;
            let handle: LegacyHandle<'_> = instance.get_typed_func(&mut *store, handle)?;
            Ok(handle.call(&mut *store, (request.clone(),))?.0)
        }
    }
}

/// Instantiates `function` and calls its handler, on a fiber.
async fn run_async(
    function: &CompiledFunction,
    store: &mut Store<CallState>,
    webhook: &Webhook,
) -> wasmtime::Result<Result<String, wit::Error>> {
    let request = wit_webhook(webhook);
    match &function.entry {
        Entry::Current(pre) => {
            let instance = pre.instantiate_async(&mut *store).await?;
            let (answer,) = instance
                .twiml_edge_handler()
                .func_handle()
                .call_async(&mut *store, (request,))
                .await?;
            Ok(answer)
        }
        Entry::Legacy { pre, handle } => {
            let instance = pre.instantiate_async(&mut *store).await?;
            let handle: LegacyHandle<'_> = instance.get_typed_func(&mut *store, handle)?;
            Ok(handle.call_async(&mut *store, (request,)).await?.0)
        }
    }
}

/// A call stopped at its wall-clock limit.
#[derive(Debug, thiserror::Error)]
#[error("the call ran past its {0:?} wall-clock limit")]
struct WallClockExceeded(Duration);

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
    ) -> CallOutcome {
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
        state.absorb_output(true);
        // What a call logs or says failed is shown to people: no secret value in it.
        let variables = state.context.variables.clone();
        let answer = answer.map_err(|failure| failure.redacted(&variables));
        if variables.has_secrets() {
            for line in &mut state.logs {
                line.message = variables.redact(&line.message).into_owned();
                for (_, value) in &mut line.fields {
                    *value = variables.redact(value).into_owned();
                }
            }
        }
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
        CallOutcome {
            answer,
            logs: state.logs,
        }
    }

    fn classify(&self, store: &Store<CallState>, err: wasmtime::Error) -> Failure {
        let state = store.data();
        if state.memory_exceeded {
            return Failure::Memory(self.memory);
        }
        if let Some(WallClockExceeded(limit)) = err.downcast_ref() {
            return Failure::WallClock(*limit);
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

/// Aborts the slow-lane task of a call whose request went away, so it stops at its next tick.
struct AbortOnDrop(tokio::task::JoinHandle<CallOutcome>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn is_interrupt(err: &wasmtime::Error) -> bool {
    err.downcast_ref::<Trap>() == Some(&Trap::Interrupt)
}
