//! The operator's folders: every `NAME.xml` of the templates folder is a TwiML Bin served at
//! `/bins/NAME`, every `NAME.wasm` of the functions folder a voice function served at
//! `/functions/NAME`, each compiled once when the folders are loaded. A function's variables
//! are read from `NAME.env` beside it (dotenv lines, `KEY=VALUE`), and the hosts its requests
//! may reach are the server's `allowed_hosts`; folder functions have no key-value state.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    sync::Arc,
};

use twiml_edge_bins::{Bins, Renderer};

use crate::{
    config::Config,
    error::{Error, Result},
    reach::{FunctionReach, OutboundPolicy},
};
use twiml_edge_sandbox::{CompiledFunction, Sandbox};

/// The file extension of voice functions.
const WASM_EXTENSION: &str = "wasm";
/// The file extension of TwiML Bin templates.
const TEMPLATE_EXTENSION: &str = "xml";

/// The compiled content of the templates and functions folders.
#[derive(Debug)]
pub struct Folders {
    /// The TwiML Bins of the templates folder, by file name.
    pub bins: Bins,
    /// The voice functions of the functions folder, by file name.
    pub functions: Functions,
    /// What each function reaches: its `NAME.env` variables and the server's allowed hosts.
    reach: BTreeMap<String, Arc<FunctionReach>>,
}

impl Folders {
    /// Compiles both folders of `config`; fails on the first file refused.
    pub(crate) fn load(
        config: &Config,
        renderer: Arc<Renderer>,
        sandbox: &Sandbox,
        outbound: &OutboundPolicy,
    ) -> Result<Self> {
        let bins = load_bins(&config.templates, renderer)?;
        Self::load_with(bins, config, sandbox, outbound)
    }

    /// The folders with `bins` already compiled.
    pub(crate) fn load_with(
        bins: Bins,
        config: &Config,
        sandbox: &Sandbox,
        outbound: &OutboundPolicy,
    ) -> Result<Self> {
        let functions = Functions::load_dir(sandbox, &config.functions)?;
        let mut reach = BTreeMap::new();
        for name in functions.names() {
            let variables = read_env(&config.functions.join(format!("{name}.env")))?;
            let built = FunctionReach::new(&variables, &config.allowed_hosts, outbound);
            reach.insert(name.to_owned(), Arc::new(built));
        }
        Ok(Self {
            bins,
            functions,
            reach,
        })
    }

    /// What folder function `name` reaches (nothing when there is no such function).
    pub(crate) fn reach(&self, name: &str) -> Arc<FunctionReach> {
        self.reach.get(name).cloned().unwrap_or_default()
    }
}

/// The variables of a dotenv file (none when there is no such file); a line that does not parse
/// or a variable the store would refuse fails with the file named.
fn read_env(path: &Path) -> Result<Vec<twiml_edge_store::Variable>> {
    let lines = match dotenvy::from_path_iter(path) {
        Ok(lines) => lines,
        Err(dotenvy::Error::Io(err)) if err.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Vec::new());
        }
        Err(err) => return Err(Error::Config(format!("cannot read {path:?}: {err}"))),
    };
    let mut variables = Vec::new();
    for line in lines {
        let (key, value) =
            line.map_err(|err| Error::Config(format!("{}: {err}", path.display())))?;
        twiml_edge_store::check_variable(&key, &value)
            .map_err(|err| Error::Config(format!("{}: {err}", path.display())))?;
        variables.push(twiml_edge_store::Variable {
            sid: String::new(),
            account_sid: String::new(),
            function_sid: String::new(),
            key,
            value,
            secret: false,
            date_created: 0,
            date_updated: 0,
        });
    }
    Ok(variables)
}

/// Compiles every `NAME.xml` in `dir` (none when `dir` does not exist); a template that does not
/// parse fails with its file and line.
pub fn load_bins(dir: &Path, renderer: Arc<Renderer>) -> Result<Bins> {
    let mut bins = Bins::with_renderer(renderer);
    for (name, path) in files_named(dir, TEMPLATE_EXTENSION)? {
        let source = fs::read_to_string(&path)
            .map_err(|e| Error::Config(format!("cannot read template {path:?}: {e}")))?;
        let origin = path.display().to_string();
        check_name(&name).map_err(|e| Error::Config(format!("template {origin}: {e}")))?;
        bins.add(&name, &source, &origin)?;
    }
    Ok(bins)
}

/// Compiled voice functions by name.
#[derive(Debug, Default)]
pub struct Functions {
    by_name: BTreeMap<String, CompiledFunction>,
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
    pub fn get(&self, name: &str) -> Result<&CompiledFunction> {
        self.by_name
            .get(name)
            .ok_or_else(|| Error::NotFound(format!("no function named {name:?}")))
    }

    /// Every loaded function.
    pub fn all(&self) -> impl Iterator<Item = &CompiledFunction> {
        self.by_name.values()
    }

    /// The names of the loaded functions, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }
}

/// Every `NAME.extension` file of `dir`, as (NAME, path); none when `dir` does not exist.
pub fn files_named(dir: &Path, extension: &str) -> Result<Vec<(String, PathBuf)>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => {
            return Err(Error::Config(format!(
                "cannot read the folder {dir:?}: {err}"
            )));
        }
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| Error::Config(format!("cannot list {dir:?}: {e}")))?
            .path();
        if path.extension().and_then(|s| s.to_str()) != Some(extension) {
            continue;
        }
        if let Some(name) = path.file_stem().and_then(|s| s.to_str()) {
            files.push((name.to_owned(), path.clone()));
        }
    }
    files.sort();
    Ok(files)
}

/// Bin names become URL path segments: keep them to a safe, unambiguous set.
pub fn check_name(name: &str) -> std::result::Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "name {name:?} must be 1 to 64 letters, digits, '-' or '_'"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_url_segments() {
        for ok in ["pstn-dial", "a_b", "X1"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["bad name", "", "a/b", &"x".repeat(65)] {
            let err = check_name(bad).unwrap_err();
            assert!(err.contains("must be 1 to 64 letters"), "{bad:?}: {err}");
        }
    }
}
