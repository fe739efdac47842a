//! What one call's store holds, and the `twiml:edge/host` import (in both versions of the
//! package), bounded per call in what the guest may hand over and what it may log.

use wasmtime::{
    ResourceLimiter, StoreContextMut,
    component::{Linker, ResourceTable},
};

use wasmtime_wasi::{WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtxView, WasiHttpView};

use crate::{
    CallContext, Services,
    bindings::{
        twiml::edge::host::{self, Level},
        wasi::config::store as config,
    },
    wasi::{Notes, WasiState},
};

/// Lines a call may log before further lines are dropped.
pub const MAX_LOG_LINES: usize = 100;
/// Fields one log line keeps; the rest are dropped.
pub const MAX_LOG_FIELDS: usize = 16;
/// Longest log message, field name or field value, in bytes.
pub const MAX_LOG_BYTES: usize = 4096;
/// Bytes a call may log in all (messages, field names and values); lines past it are dropped.
pub const MAX_CALL_LOG_BYTES: usize = 16 << 10;
/// Longest error message a guest's `bad-request` or `internal` keeps, in bytes.
pub const MAX_ERROR_BYTES: usize = 4096;
/// What a guest may hand the host in one call (strings and lists lifted out of its memory), its
/// answer included: twice the largest TwiML answer a server may allow (1 MiB), so an oversized
/// answer is still read and refused by its size, while no log call makes the host allocate more.
pub(crate) const HOSTCALL_FUEL: usize = 2 << 20;

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

/// What a probe instance may ask of the world: nothing answers.
#[derive(Debug)]
pub(crate) struct NoServices;

impl Services for NoServices {
    fn e164(&self, _: &str, _: Option<&str>) -> Option<String> {
        None
    }
}

/// What one call's store holds.
pub(crate) struct CallState {
    pub(crate) function: std::sync::Arc<str>,
    pub(crate) context: CallContext,
    pub(crate) memory_limit: usize,
    pub(crate) memory_exceeded: bool,
    pub(crate) ticks: u64,
    pub(crate) max_ticks: u64,
    pub(crate) logs: Vec<GuestLog>,
    /// Bytes of messages, field names and values kept in `logs`.
    pub(crate) logged_bytes: usize,
    pub(crate) dropped_logs: usize,
    /// Handles the guest holds: WASI streams, requests, buckets.
    pub(crate) table: ResourceTable,
    /// Built the first time the guest reaches for WASI.
    pub(crate) wasi: Option<Box<WasiState>>,
    /// Why outbound requests failed, for the call's log.
    pub(crate) notes: Notes,
    pub(crate) state_operations: u32,
}

impl CallState {
    pub(crate) fn new(
        function: std::sync::Arc<str>,
        context: CallContext,
        memory_limit: usize,
        max_ticks: u64,
    ) -> Self {
        Self {
            function,
            context,
            memory_limit,
            memory_exceeded: false,
            ticks: 0,
            max_ticks,
            logs: Vec::new(),
            logged_bytes: 0,
            dropped_logs: 0,
            table: ResourceTable::new(),
            wasi: None,
            notes: Notes::default(),
            state_operations: 0,
        }
    }

    /// Keeps one log line within the call's bounds, or counts it as dropped.
    fn keep_log(&mut self, level: &str, message: &str, fields: Vec<(String, String)>) {
        let fields: Vec<(String, String)> = fields
            .into_iter()
            .take(MAX_LOG_FIELDS)
            .map(|(n, v)| (truncate(&n).to_owned(), truncate(&v).to_owned()))
            .collect();
        let message = truncate(message);
        let bytes = message.len() + fields.iter().map(|(n, v)| n.len() + v.len()).sum::<usize>();
        if self.logs.len() >= MAX_LOG_LINES || self.logged_bytes + bytes > MAX_CALL_LOG_BYTES {
            self.dropped_logs += 1;
            return;
        }
        self.logged_bytes += bytes;
        self.logs.push(GuestLog {
            level: level.to_owned(),
            message: message.to_owned(),
            fields,
        });
    }

    /// Moves what the guest wrote to stdout and stderr (whole lines, or everything when `all`)
    /// and the host's notes into the log, in order with the guest's `log` calls.
    pub(crate) fn absorb_output(&mut self, all: bool) {
        let notes = std::mem::take(&mut *self.notes.lock().expect("notes are never poisoned"));
        for note in notes {
            self.keep_log("warn", &note, Vec::new());
        }
        let Some(wasi) = &self.wasi else { return };
        let lines = wasi.take_output(all);
        let dropped = if all { wasi.dropped_output() } else { 0 };
        for (stream, line) in lines {
            let level = if stream == "stdout" { "info" } else { "error" };
            self.keep_log(level, &line, vec![("stream".into(), stream.into())]);
        }
        if dropped > 0 {
            self.dropped_logs += 1;
        }
    }
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
        self.absorb_output(false);
        self.keep_log(level_name(level), &message, fields);
    }

    fn e164(&mut self, input: String, region: Option<String>) -> Option<String> {
        self.context.services.e164(&input, region.as_deref())
    }
}

/// The package version whose components this runtime runs besides the current one.
pub(crate) const LEGACY_HOST: &str = "twiml:edge/host@0.1.0";

/// Defines `twiml:edge/host@0.1.0`, whose functions have the same types as the current
/// version's, so components built against it run unchanged.
pub(crate) fn add_legacy_host(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    let mut host = linker.instance(LEGACY_HOST)?;
    host.func_wrap(
        "log",
        |mut store: StoreContextMut<'_, CallState>,
         (level, message, fields): (Level, String, Vec<(String, String)>)| {
            host::Host::log(store.data_mut(), level, message, fields);
            Ok(())
        },
    )?;
    host.func_wrap(
        "e164",
        |mut store: StoreContextMut<'_, CallState>, (input, region): (String, Option<String>)| {
            Ok((host::Host::e164(store.data_mut(), input, region),))
        },
    )?;
    Ok(())
}

/// Sends what a call logged on to the runtime's log, once the call is over: a call stopped to
/// run again on a fiber logs only its second run.
pub(crate) fn trace_guest_logs(state: &CallState) {
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
pub(crate) fn bounded(mut text: String, max: usize) -> String {
    if text.len() > max {
        let cut = text.floor_char_boundary(max);
        text.truncate(cut);
        text.push_str("...");
    }
    text
}

// WASI, built the first time the guest reaches for it (see `wasi`).
impl CallState {
    /// The WASI state, built on first use.
    fn wasi(&mut self) -> &mut WasiState {
        let (outbound, notes) = (&self.context.outbound, &self.notes);
        self.wasi
            .get_or_insert_with(|| WasiState::new(outbound.clone(), notes.clone()))
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.wasi();
        let wasi = self.wasi.as_deref_mut().expect("built above");
        WasiCtxView {
            ctx: wasi.ctx(),
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for CallState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        self.wasi();
        let wasi = self.wasi.as_deref_mut().expect("built above");
        let (ctx, hooks) = wasi.http();
        WasiHttpCtxView {
            ctx,
            table: &mut self.table,
            hooks,
        }
    }
}

impl config::Host for CallState {
    fn get(&mut self, key: String) -> Result<Option<String>, config::Error> {
        Ok(self.context.variables.get(&key).map(str::to_owned))
    }

    fn get_all(&mut self) -> Result<Vec<(String, String)>, config::Error> {
        let mut all: Vec<_> = self
            .context
            .variables
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        all.sort();
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_call_keeps_bounded_logs() {
        let context = CallContext::new(std::sync::Arc::new(NoServices));
        let mut state = CallState::new("f".into(), context, 0, 1);
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
