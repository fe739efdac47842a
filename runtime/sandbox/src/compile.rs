//! Compiling uploads into functions: componentized, compiled, checked against the world, tried
//! in a probe instance, and only then cached; uploads compile in a bounded pool with a deadline.

use std::{
    collections::HashSet,
    fmt,
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use anyhow::{Context as _, bail};
use sha2::{Digest, Sha256};
use wasmtime::{
    Engine,
    component::{Component, ComponentExportIndex, InstancePre},
};

use crate::{
    CallContext, Sandbox,
    bindings::{VoiceFunction, VoiceFunctionPre},
    engine::{MAX_CORE_INSTANCES, ticks},
    host::{CallState, NoServices},
};

/// The handler export of the package version this runtime still runs besides the current one.
const LEGACY_HANDLER: &str = "twiml:edge/handler@0.1.0";
/// The least wall time an upload's probe instance gets to start.
const PROBE_MIN_TIME: Duration = Duration::from_secs(1);

/// Imports that do no I/O: a function importing only these runs on the request's thread first
/// and may be run again, since a run changes nothing outside its instance.
const PURE_IMPORTS: [&str; 3] = [
    "twiml:edge/host@0.2.",
    crate::host::LEGACY_HOST,
    "wasi:config/store@",
];

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
pub struct CompiledFunction {
    pub(crate) name: Arc<str>,
    pub(crate) digest: String,
    pub(crate) entry: Entry,
    /// Core instances (so pooled memories and tables too) one instance of it takes.
    pub(crate) core_instances: u32,
    /// Whether it imports an I/O interface: its calls run on a fiber from the first instruction,
    /// bounded in wall-clock time too, and never twice.
    pub(crate) io: bool,
}

/// How a function's handler is reached, by the package version it was built against.
#[derive(Clone)]
pub(crate) enum Entry {
    /// `twiml:edge@0.2.0`.
    Current(VoiceFunctionPre<CallState>),
    /// `twiml:edge@0.1.0`, whose handler has the same types, found by name.
    Legacy {
        pre: InstancePre<CallState>,
        handle: ComponentExportIndex,
    },
}

impl fmt::Debug for CompiledFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompiledFunction")
            .field("name", &self.name)
            .field("digest", &self.digest)
            .field("core_instances", &self.core_instances)
            .field("io", &self.io)
            .finish_non_exhaustive()
    }
}

impl CompiledFunction {
    /// The function's name (its URL segment).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Hex SHA-256 of the wasm it was compiled from.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Whether it imports an I/O interface (`wasi:http`, `wasi:keyvalue`, WASI streams, ...).
    pub fn does_io(&self) -> bool {
        self.io
    }
}

/// The probe found every call slot taken.
#[derive(Debug, thiserror::Error)]
#[error("every instance slot is in use")]
struct ProbeBusy;

impl Sandbox {
    /// Checks and compiles `wasm` (a component, or a wit-bindgen core module to componentize)
    /// into a function that targets the `twiml:edge/voice-function` world, tries an instance of
    /// it, and only then caches its compiled code. Blocking: off the async threads, call
    /// [`Sandbox::compile_bounded`].
    pub fn compile(&self, name: &str, wasm: &[u8]) -> anyhow::Result<CompiledFunction> {
        let digest = hex::encode(Sha256::digest(wasm));
        let key = self.cache_key(&digest);
        let (component, core_instances, from_cache) = match self.load_cached(&key) {
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
            anyhow::Error::from(e).context(
                "it imports what a voice function cannot have here (twiml:edge/voice-function \
                 of twiml:edge@0.2.0 or 0.1.0, and WASI 0.2)",
            )
        })?;
        let entry = match VoiceFunctionPre::new(instance_pre.clone()) {
            Ok(pre) => Entry::Current(pre),
            Err(current) => match legacy_handle(&component) {
                Some(handle) => Entry::Legacy {
                    pre: instance_pre,
                    handle,
                },
                None => {
                    return Err(anyhow::Error::from(current).context(
                        "it does not export the twiml:edge/handler interface of twiml:edge@0.2.0 \
                         (or 0.1.0)",
                    ));
                }
            },
        };
        let function = CompiledFunction {
            name: name.into(),
            digest,
            entry,
            core_instances,
            io: does_io(&component, &self.engine),
        };
        self.probe(&function)?;
        if from_cache {
            self.loaded_from_cache.fetch_add(1, Ordering::Relaxed);
        } else if let Some(cache) = &self.cache
            && let Err(err) = cache_component(cache.as_ref(), &key, &component, core_instances)
        {
            tracing::warn!(key, error = %err, "failed to cache compiled code");
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
    ) -> Result<CompiledFunction, CompileError> {
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
    fn probe(&self, function: &CompiledFunction) -> anyhow::Result<()> {
        let Some(_slots) = self.slots(function) else {
            return Err(anyhow::Error::new(ProbeBusy));
        };
        let mut store = self.store(function, CallContext::new(Arc::new(NoServices)));
        // The epoch counts wall time: on a busy machine instantiating (an I/O component on a
        // thread and runtime of its own) took past the 100 ms of a call and a good upload was
        // refused as "interrupt". The deadline only has to stop a start function that loops.
        store.set_epoch_deadline(ticks(self.limits.cpu_time.max(PROBE_MIN_TIME)));
        store.epoch_deadline_trap();
        let instance_pre = match &function.entry {
            Entry::Current(pre) => pre.instance_pre().clone(),
            Entry::Legacy { pre, .. } => pre.clone(),
        };
        let instance = if function.io {
            // An I/O component instantiates only asynchronously: on a thread of its own, so
            // this works from any caller, inside a runtime or not.
            std::thread::scope(|scope| {
                scope
                    .spawn(|| {
                        tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .context("failed to start a runtime to try it")?
                            .block_on(instance_pre.instantiate_async(&mut store))
                            .map_err(anyhow::Error::from)
                    })
                    .join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("trying it panicked")))
            })
        } else {
            instance_pre
                .instantiate(&mut store)
                .map_err(anyhow::Error::from)
        }
        .context("it fails to start")?;
        let typed = match &function.entry {
            Entry::Current(_) => VoiceFunction::new(&mut store, &instance).map(drop),
            Entry::Legacy { handle, .. } => instance
                .get_typed_func::<(crate::bindings::wit::Webhook<'_>,), (Result<String, crate::bindings::wit::Error>,)>(
                    &mut store, handle,
                )
                .map(drop),
        };
        let version = match &function.entry {
            Entry::Current(_) => crate::WORLD_VERSION,
            Entry::Legacy { .. } => "0.1.0",
        };
        typed.map_err(|e| {
            anyhow::Error::from(e).context(format!(
                "its twiml:edge/handler does not have the types of twiml:edge@{version}: rebuild \
                 it against this runtime's wit/"
            ))
        })?;
        Ok(())
    }

    /// The component cached under `key` and its count of core instances; anything the cache
    /// cannot vouch for, or that does not deserialize, is compiled again.
    fn load_cached(&self, key: &str) -> Option<(Component, u32)> {
        let bytes = self.cache.as_ref()?.load(key)?;
        let Some((count, payload)) = bytes.split_at_checked(4) else {
            tracing::warn!(key, "a cache entry is too short: compiling");
            return None;
        };
        let core_instances = u32::from_le_bytes(count.try_into().expect("four bytes"));
        // SAFETY: a `CodeCache` returns only bytes it was given by `cache_component` (it checks
        // them, see its contract), which wrote `Component::serialize` of an engine with this
        // configuration (its hash is in the key).
        #[expect(
            unsafe_code,
            reason = "deserializing our own verified compiled-code cache"
        )]
        match unsafe { Component::deserialize(&self.engine, payload) } {
            Ok(component) => Some((component, core_instances)),
            Err(err) => {
                tracing::warn!(key, error = %err, "ignoring an unusable cache entry");
                None
            }
        }
    }

    /// The cache key of compiled code from the wasm of hex SHA-256 `digest`.
    fn cache_key(&self, digest: &str) -> String {
        format!("{digest}-{}", self.engine_hash())
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
    /// and entries of other engine configurations. Returns how many went.
    pub fn retain_cache(&self, in_use: &HashSet<String>) -> usize {
        let Some(cache) = &self.cache else { return 0 };
        let suffix = format!("-{}", self.engine_hash());
        let removed = cache.retain(&|key| {
            key.strip_suffix(&suffix)
                .is_some_and(|digest| in_use.contains(digest))
        });
        if removed > 0 {
            tracing::debug!(removed, "compiled-code cache trimmed");
        }
        removed
    }
}

/// The handler of a `twiml:edge@0.1.0` component.
fn legacy_handle(component: &Component) -> Option<ComponentExportIndex> {
    let (_, interface) = component.get_export(None, LEGACY_HANDLER)?;
    let (_, handle) = component.get_export(Some(&interface), "handle")?;
    Some(handle)
}

/// Whether `component` imports anything beyond [`PURE_IMPORTS`].
fn does_io(component: &Component, engine: &Engine) -> bool {
    component
        .component_type()
        .imports(engine)
        .any(|(name, _)| !PURE_IMPORTS.iter().any(|pure| name.starts_with(pure)))
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

/// Where compiled code is kept between runs. The sandbox hands it bytes under a key and asks for
/// them back; deserializing trusts those bytes, so an implementation must answer `load` only with
/// bytes it can vouch are exactly what `save` was given (a checksum, a whole-file rename).
pub trait CodeCache: Send + Sync + fmt::Debug {
    /// The bytes saved under `key`, when they are whole; `None` when missing or damaged.
    fn load(&self, key: &str) -> Option<Vec<u8>>;
    /// Saves `bytes` under `key`, replacing what was there.
    fn save(&self, key: &str, bytes: &[u8]) -> std::io::Result<()>;
    /// Removes every entry whose key `keep` refuses, and leftovers of interrupted saves;
    /// returns how many went.
    fn retain(&self, keep: &dyn Fn(&str) -> bool) -> usize;
}

/// Saves `component` under `key`: its count of core instances (4 bytes, little-endian), then its
/// compiled code.
fn cache_component(
    cache: &dyn CodeCache,
    key: &str,
    component: &Component,
    core_instances: u32,
) -> anyhow::Result<()> {
    let payload = component.serialize().map_err(anyhow::Error::from)?;
    let mut bytes = Vec::with_capacity(4 + payload.len());
    bytes.extend_from_slice(&core_instances.to_le_bytes());
    bytes.extend_from_slice(&payload);
    cache.save(key, &bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;

    #[test]
    fn non_wasm_is_refused_with_a_reason() {
        let err = componentize(b"hello").unwrap_err().to_string();
        assert!(err.contains("not WebAssembly"), "{err}");
        let sandbox = Sandbox::new(Limits::default(), None).unwrap();
        let empty_module = b"\0asm\x01\0\0\0";
        let err = format!("{:#}", sandbox.compile("empty", empty_module).unwrap_err());
        assert!(err.contains("twiml:edge/handler"), "{err}");
        assert!(!err.contains("0.1.0)") || err.contains("0.2.0"), "{err}");
    }
}
