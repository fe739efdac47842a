//! The voice functions served from a folder: each `NAME.wasm` compiled once at start.

use std::{collections::BTreeMap, fs, path::Path};

use crate::{
    bins::{check_name, files_named},
    error::{Error, Result},
    sandbox::{Function, Sandbox},
};

/// The file extension of voice functions.
const WASM_EXTENSION: &str = "wasm";

/// Compiled voice functions by name.
#[derive(Debug, Default)]
pub struct Functions {
    by_name: BTreeMap<String, Function>,
}

impl Functions {
    /// Compiles every `NAME.wasm` in `dir` (none when `dir` does not exist); a file that is not
    /// a voice function fails with its path and the reason.
    pub fn load_dir(sandbox: &Sandbox, dir: &Path) -> Result<Self> {
        let mut functions = Self::default();
        for (name, path) in files_named(dir, WASM_EXTENSION)? {
            let wasm = fs::read(&path)
                .map_err(|e| Error::Config(format!("cannot read function {path:?}: {e}")))?;
            functions.add(sandbox, &name, &wasm).map_err(|e| match e {
                Error::Config(message) => Error::Config(format!("{}: {message}", path.display())),
                other => other,
            })?;
        }
        Ok(functions)
    }

    /// Compiles `wasm` as function `name`, replacing any function of that name.
    pub fn add(&mut self, sandbox: &Sandbox, name: &str, wasm: &[u8]) -> Result<()> {
        check_name(name).map_err(Error::Config)?;
        let function = sandbox
            .compile(name, wasm)
            .map_err(|e| Error::Config(format!("function {name:?} is refused: {e:#}")))?;
        tracing::info!(
            function = name,
            digest = function.digest(),
            "function loaded"
        );
        self.by_name.insert(name.to_owned(), function);
        Ok(())
    }

    /// The function called `name`.
    pub fn get(&self, name: &str) -> Result<&Function> {
        self.by_name
            .get(name)
            .ok_or_else(|| Error::NotFound(format!("no function named {name:?}")))
    }

    /// Every loaded function.
    pub fn all(&self) -> impl Iterator<Item = &Function> {
        self.by_name.values()
    }

    /// The names of the loaded functions, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }
}
