//! Guest crates: creating one from `templates/function`, and building one to a core wasm module
//! with whichever Rust toolchain the machine has (rustup's wasm target, or Debian's Rust building
//! std from source where rustup cannot download the target).

use std::collections::VecDeque;
use std::fmt;
use std::fs;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use serde::Deserialize;

const TARGET: &str = "wasm32-unknown-unknown";
/// The standard WASI 0.2 target, whose cdylibs are components already.
const WASIP2_TARGET: &str = "wasm32-wasip2";
/// Forces a toolchain: `rustup` or `debian`.
const TOOLCHAIN_ENV: &str = "TWIML_EDGE_TOOLCHAIN";
const RUSTUP_ADD_TIMEOUT: Duration = Duration::from_secs(120);
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
const DEBIAN_STD_SOURCES: &str = "/usr/lib/rustlib/src/rust/library";
const INSTALL_RUSTUP_TARGET: &str = "run `rustup target add wasm32-unknown-unknown` \
     (rustup itself: https://rustup.rs)";
const INSTALL_DEBIAN: &str = "install Debian's Rust with std sources, `apt-get install rustc-web \
     cargo-web rust-web-src`, and a wasm linker (rustup's rust-lld, or `apt-get install lld`)";

/// A Rust toolchain that can build `wasm32-unknown-unknown`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Toolchain {
    /// rustup's `wasm32-unknown-unknown` target, with the active toolchain's `cargo`.
    Rustup,
    /// Debian's `rustc-web` building std from `rust-web-src` (`-Zbuild-std`), linked with `linker`.
    Debian {
        /// `rust-lld`, `wasm-ld` or `lld`.
        linker: PathBuf,
    },
    /// rustup's `wasm32-wasip2` target: plain `cargo build --target wasm32-wasip2`, for guests
    /// written against the WIT without the SDK (and std's stdout, clocks and randomness).
    Wasip2,
}

/// The toolchain [`TOOLCHAIN_ENV`] asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Forced {
    Rustup,
    Debian,
}

impl Toolchain {
    /// Finds a toolchain that can build wasm32-unknown-unknown: rustup's target if installed;
    /// else tries `rustup target add` (for at most two minutes, quietly); else Debian's rustc-web
    /// with std sources. The error says what to install, for both kinds of machine.
    pub(crate) fn detect() -> Result<Self> {
        if rustup_has_target(TARGET) || rustup_add_target(TARGET) {
            return Ok(Self::Rustup);
        }
        Self::debian().with_context(|| {
            format!(
                "no Rust toolchain here can build {TARGET:?}: with rustup, \
                 {INSTALL_RUSTUP_TARGET}; where rustup cannot download it, {INSTALL_DEBIAN}"
            )
        })
    }

    /// `TWIML_EDGE_TOOLCHAIN=rustup|debian` forces one (for tests and CI); otherwise
    /// [`detect`](Self::detect).
    pub(crate) fn from_env_or_detect() -> Result<Self> {
        let value = std::env::var_os(TOOLCHAIN_ENV);
        let value = value
            .as_deref()
            .map(|v| {
                v.to_str()
                    .ok_or_else(|| anyhow!("{TOOLCHAIN_ENV} is not UTF-8: {v:?}"))
            })
            .transpose()?;
        match forced(value)? {
            None => Self::detect(),
            Some(Forced::Rustup) => {
                ensure!(
                    rustup_has_target(TARGET) || rustup_add_target(TARGET),
                    "{TOOLCHAIN_ENV} is \"rustup\" but rustup's {TARGET:?} target is not \
                     installed and could not be added: {INSTALL_RUSTUP_TARGET}"
                );
                Ok(Self::Rustup)
            }
            Some(Forced::Debian) => Self::debian().with_context(|| {
                format!(
                    "{TOOLCHAIN_ENV} is \"debian\" but Debian's Rust cannot build wasm: \
                     {INSTALL_DEBIAN}"
                )
            }),
        }
    }

    /// rustup's `wasm32-wasip2` target, added if missing.
    pub(crate) fn wasip2() -> Result<Self> {
        ensure!(
            rustup_has_target(WASIP2_TARGET) || rustup_add_target(WASIP2_TARGET),
            "rustup's {WASIP2_TARGET:?} target is not installed and could not be added: run \
             `rustup target add {WASIP2_TARGET}` (rustup itself: https://rustup.rs)"
        );
        Ok(Self::Wasip2)
    }

    /// What builds the guests, for a person: "rustup's wasm32-unknown-unknown target" or
    /// "Debian's rustc 1.96.0 with -Zbuild-std".
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Rustup => format!("rustup's {TARGET} target"),
            Self::Wasip2 => format!("rustup's {WASIP2_TARGET} target"),
            Self::Debian { .. } => match debian_rustc_version() {
                Some(version) => format!("Debian's rustc {version} with -Zbuild-std"),
                None => "Debian's rustc with -Zbuild-std".to_owned(),
            },
        }
    }

    fn debian() -> Result<Self> {
        for program in [DEBIAN_RUSTC, DEBIAN_CARGO] {
            ensure!(
                is_executable(Path::new(program)),
                "Debian's Rust is not installed: no {program:?}"
            );
        }
        ensure!(
            Path::new(DEBIAN_STD_SOURCES).is_dir(),
            "Debian's std sources are not installed: no {DEBIAN_STD_SOURCES:?}"
        );
        let linker = wasm_linker()
            .ok_or_else(|| anyhow!("no rust-lld, wasm-ld or lld to link wasm with"))?;
        Ok(Self::Debian { linker })
    }

    /// The `cargo build` that [`build`] runs, its output piped.
    fn command(&self, manifest_dir: &Path, target_dir: &Path) -> Command {
        let mut command = Command::new(match self {
            Self::Rustup | Self::Wasip2 => "cargo",
            Self::Debian { .. } => DEBIAN_CARGO,
        });
        let target = match self {
            Self::Wasip2 => WASIP2_TARGET,
            _ => TARGET,
        };
        command
            .current_dir(manifest_dir)
            .args(["build", "--release", "--workspace", "--target", target])
            .arg("--message-format=json-render-diagnostics")
            .arg("--target-dir")
            .arg(target_dir)
            // A 128 KiB shadow stack instead of 1 MiB keeps a guest's data and heap in its first
            // pages, so a fresh instance dirties fewer pages.
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
                "-C link-arg=-zstack-size=131072",
            )
            // Cargo sets this for build scripts, and it would override the flags above when a
            // build script calls build().
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Self::Debian { linker } = self {
            command
                .arg("-Zbuild-std=std,panic_abort")
                .env("RUSTC", DEBIAN_RUSTC)
                // -Zbuild-std is unstable; Debian's stable rustc and cargo accept it with this.
                .env("RUSTC_BOOTSTRAP", "1")
                .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", linker)
                // Inherited from a parent rustup ran, it would steer any rustup proxy Debian's
                // cargo reaches through PATH to rustup's compiler instead of Debian's.
                .env_remove("RUSTUP_TOOLCHAIN");
        }
        command
    }
}

/// `TWIML_EDGE_TOOLCHAIN`'s value as a choice; unset or empty means detect.
fn forced(value: Option<&str>) -> Result<Option<Forced>> {
    match value {
        None | Some("") => Ok(None),
        Some("rustup") => Ok(Some(Forced::Rustup)),
        Some("debian") => Ok(Some(Forced::Debian)),
        Some(other) => bail!("{TOOLCHAIN_ENV} is {other:?}; expected \"rustup\" or \"debian\""),
    }
}

fn rustup_has_target(target: &str) -> bool {
    let Ok(output) = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
    else {
        return false;
    };
    output.status.success()
        && String::from_utf8_lossy(&output.stdout)
            .lines()
            .any(|l| l.trim() == target)
}

/// Runs `rustup target add`, quietly; false when rustup is missing, fails, or takes too long
/// (a machine without network can hang in the download).
fn rustup_add_target(target: &str) -> bool {
    let Ok(child) = Command::new("rustup")
        .args(["target", "add", target])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    tracing::info!("installing rustup's {target} target");
    match wait_timeout(child, RUSTUP_ADD_TIMEOUT) {
        Ok(Some(status)) => status.success(),
        Ok(None) => {
            tracing::warn!(
                timeout_s = RUSTUP_ADD_TIMEOUT.as_secs(),
                "rustup target add timed out"
            );
            false
        }
        Err(err) => {
            tracing::warn!(error = %err, "rustup target add failed");
            false
        }
    }
}

/// The child's exit status, or `None` (having killed it) after `timeout`.
fn wait_timeout(mut child: Child, timeout: Duration) -> io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            child.kill()?;
            child.wait()?;
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// "1.96.0" from `rustc 1.96.0 (ac68faa20 2026-05-25) (built from a source tarball)`.
fn debian_rustc_version() -> Option<String> {
    let output = Command::new(DEBIAN_RUSTC).arg("--version").output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    text.split_whitespace().nth(1).map(str::to_owned)
}

/// rustup's `rust-lld` (beside the active toolchain's host std), else a wasm linker on PATH.
fn wasm_linker() -> Option<PathBuf> {
    let rustc = |arg: &str| {
        let output = Command::new("rustc")
            .arg(arg)
            .stderr(Stdio::null())
            .output()
            .ok()?;
        if !output.status.success() {
            return None;
        }
        String::from_utf8(output.stdout).ok()
    };
    let rustup_lld = rustc("--print=sysroot")
        .zip(rustc("-vV"))
        .and_then(|(sysroot, info)| {
            let host = info.lines().find_map(|l| l.strip_prefix("host: "))?;
            Some(
                Path::new(sysroot.trim())
                    .join("lib/rustlib")
                    .join(host.trim())
                    .join("bin/rust-lld"),
            )
        });
    if let Some(lld) = rustup_lld.filter(|p| is_executable(p)) {
        return Some(lld);
    }
    // rustc passes `-flavor wasm` to an lld linker, so any of lld's names links wasm.
    let path = std::env::var_os("PATH")?;
    ["rust-lld", "wasm-ld", "lld"].into_iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| is_executable(p))
    })
}

/// Whether `path` is an executable file; false for a dangling symlink (Debian's
/// `/usr/bin/rust-lld` points at `lld-NN`, which may not be installed).
fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// One cdylib the build produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Artifact {
    /// The package's name, such as `pstn-dial`.
    pub name: String,
    /// The core module.
    pub module: PathBuf,
}

/// Builds every cdylib package of the crate or workspace at `manifest_dir` (release profile) for
/// wasm32-unknown-unknown into `target_dir`, calling `progress` with each line cargo prints for a
/// person (Compiling x, warnings, errors), and returns the artifacts, sorted by name.
pub(crate) fn build(
    toolchain: &Toolchain,
    manifest_dir: &Path,
    target_dir: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Artifact>> {
    ensure!(
        manifest_dir.join("Cargo.toml").is_file(),
        "no Cargo.toml in {manifest_dir:?}"
    );
    let started = Instant::now();
    let mut command = toolchain.command(manifest_dir, target_dir);
    let mut child = command
        .spawn()
        .with_context(|| format!("failed to run {:?}", command.get_program()))?;
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        unreachable!("both pipes are set up by Toolchain::command");
    };
    // JSON messages arrive on stdout, what a person reads on stderr: reading stdout on its own
    // thread keeps either pipe from filling up and stalling cargo.
    let reader = thread::spawn(move || read_artifacts(BufReader::new(stdout)));
    let mut errors = ErrorLines::default();
    let read = for_each_line(BufReader::new(stderr), |line| {
        errors.push(line);
        progress(line);
    });
    if let Err(err) = read {
        // Best effort: the read error is the one worth reporting.
        let _ = child.kill();
        let _ = child.wait();
        return Err(err).context("failed to read cargo's output");
    }
    let status = child.wait().context("failed to wait for cargo")?;
    let artifacts = reader
        .join()
        .map_err(|_| anyhow!("the thread reading cargo's messages panicked"))?
        .context("failed to read cargo's messages")?;
    ensure!(
        status.success(),
        "failed to build {manifest_dir:?} with {} ({status}):\n{errors}",
        toolchain.describe()
    );
    ensure!(
        !artifacts.is_empty(),
        "building {manifest_dir:?} produced no wasm cdylib; a function's Cargo.toml needs \
         `[lib] crate-type = [\"cdylib\"]`"
    );
    tracing::info!(
        manifest_dir = %manifest_dir.display(),
        artifacts = artifacts.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "built guests"
    );
    Ok(artifacts)
}

fn read_artifacts(reader: impl BufRead) -> io::Result<Vec<Artifact>> {
    let mut artifacts = Vec::new();
    for_each_line(reader, |line| artifacts.extend(parse_message(line)))?;
    artifacts.sort_by(|a: &Artifact, b| a.name.cmp(&b.name));
    Ok(artifacts)
}

/// Calls `f` with each line, without its line ending; invalid UTF-8 is replaced, not an error.
fn for_each_line(mut reader: impl BufRead, mut f: impl FnMut(&str)) -> io::Result<()> {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        let line = String::from_utf8_lossy(&buf);
        f(line.trim_end_matches(['\n', '\r']));
    }
}

/// The parts of a cargo JSON message this module reads.
#[derive(Debug, Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    package_id: String,
    target: Option<MessageTarget>,
    #[serde(default)]
    filenames: Vec<PathBuf>,
}

#[derive(Debug, Deserialize)]
struct MessageTarget {
    name: String,
    kind: Vec<String>,
}

/// The wasm cdylib a `compiler-artifact` message announces; `None` for any other line.
fn parse_message(line: &str) -> Option<Artifact> {
    let message: Message = match serde_json::from_str(line) {
        Ok(message) => message,
        Err(err) => {
            tracing::debug!(line, error = %err, "not a cargo message");
            return None;
        }
    };
    let target = message
        .target
        .filter(|_| message.reason == "compiler-artifact")?;
    if !target.kind.iter().any(|k| k == "cdylib") {
        return None;
    }
    let module = message
        .filenames
        .into_iter()
        .find(|f| f.extension().is_some_and(|e| e == "wasm"))?;
    let name = package_name(&message.package_id).unwrap_or(target.name);
    Some(Artifact { name, module })
}

/// The package name in a cargo package ID: `path+file:///g/pstn-dial#0.1.0`,
/// `path+file:///g/dir#pstn-dial@0.1.0`, or before cargo 1.77 `pstn-dial 0.1.0 (path+file:///g)`.
fn package_name(id: &str) -> Option<String> {
    let name = match id.split_once('#') {
        Some((url, fragment)) => match fragment.split_once('@') {
            Some((name, _version)) => name,
            None => url
                .split('?')
                .next()?
                .trim_end_matches('/')
                .rsplit('/')
                .next()?,
        },
        None => id.split(' ').next()?,
    };
    (!name.is_empty()).then(|| name.to_owned())
}

/// The end of cargo's output that explains a failure: its `error` diagnostics, or its last lines
/// when none was printed.
#[derive(Debug, Default)]
struct ErrorLines {
    errors: VecDeque<String>,
    last: VecDeque<String>,
    in_error: bool,
}

impl ErrorLines {
    const MAX_ERROR_LINES: usize = 40;
    const MAX_LAST_LINES: usize = 10;

    fn push(&mut self, line: &str) {
        if line.starts_with("error") {
            self.in_error = true;
        } else if line.is_empty() || line.starts_with("warning") {
            self.in_error = false;
        }
        if self.in_error {
            push_capped(&mut self.errors, line, Self::MAX_ERROR_LINES);
        }
        push_capped(&mut self.last, line, Self::MAX_LAST_LINES);
    }
}

fn push_capped(lines: &mut VecDeque<String>, line: &str, cap: usize) {
    if lines.len() == cap {
        lines.pop_front();
    }
    lines.push_back(line.to_owned());
}

impl fmt::Display for ErrorLines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines = if self.errors.is_empty() {
            &self.last
        } else {
            &self.errors
        };
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(line)?;
        }
        Ok(())
    }
}

/// Where a new guest crate gets the SDK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sdk {
    /// A checkout's `guest-sdk` folder; a relative path is read from the new crate's folder.
    Path(PathBuf),
    /// A registry version requirement, such as `0.1`.
    Version(String),
}

impl Sdk {
    /// The dependency's value in Cargo.toml.
    fn to_toml(&self) -> Result<String> {
        match self {
            Self::Path(path) => {
                let path = path
                    .to_str()
                    .ok_or_else(|| anyhow!("the SDK path {path:?} is not UTF-8"))?;
                Ok(format!("{{ path = {} }}", toml_string(path)))
            }
            Self::Version(version) => Ok(toml_string(version)),
        }
    }
}

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `templates/function/`, built into the binary so `new` works outside a checkout: each file
/// with the path it is written to (without `.tmpl`).
const TEMPLATE: &[(&str, &str)] = &[
    (
        ".gitignore",
        include_str!("../../../templates/function/.gitignore.tmpl"),
    ),
    (
        "Cargo.toml",
        include_str!("../../../templates/function/Cargo.toml.tmpl"),
    ),
    (
        "README.md",
        include_str!("../../../templates/function/README.md.tmpl"),
    ),
    (
        "src/lib.rs",
        include_str!("../../../templates/function/src/lib.rs.tmpl"),
    ),
];

/// Writes the template into `dir/name` (refusing an existing non-empty folder, and a name that
/// is not a valid cargo package name), substituting `{{name}}`, `{{crate_name}}` and `{{sdk}}`
/// and dropping the `.tmpl` suffix. Returns the crate's folder.
pub(crate) fn new_guest(dir: &Path, name: &str, sdk: &Sdk) -> Result<PathBuf> {
    check_name(name)?;
    let dest = dir.join(name);
    if let Ok(meta) = fs::symlink_metadata(&dest) {
        ensure!(meta.is_dir(), "{dest:?} already exists and is not a folder");
        let mut entries =
            fs::read_dir(&dest).with_context(|| format!("failed to read {dest:?}"))?;
        ensure!(
            entries.next().is_none(),
            "{dest:?} already exists and is not empty"
        );
    }
    let crate_name = name.replace('-', "_");
    let sdk = sdk.to_toml()?;
    // Every file is rendered before any is written, so a broken template leaves nothing behind.
    let mut files = Vec::new();
    for (relative, template) in TEMPLATE {
        let text = template
            .replace("{{name}}", name)
            .replace("{{crate_name}}", &crate_name)
            .replace("{{sdk}}", &sdk);
        files.push((relative, text));
    }
    for (relative, text) in files {
        let path = dest.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).with_context(|| format!("failed to create {parent:?}"))?;
        }
        fs::write(&path, text).with_context(|| format!("failed to write {path:?}"))?;
    }
    Ok(dest)
}

/// Refuses what cargo refuses as a package name, and what would clash with the build: a name of
/// Rust's standard library (std is rebuilt with -Zbuild-std) or of the SDK itself.
fn check_name(name: &str) -> Result<()> {
    const KEYWORDS: &[&str] = &[
        "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
        "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
        "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub",
        "ref", "return", "self", "static", "struct", "super", "trait", "true", "try", "type",
        "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
    ];
    const TAKEN: &[&str] = &[
        "alloc",
        "core",
        "proc_macro",
        "std",
        "test",
        "twiml_edge_sdk",
    ];
    let invalid = |why: &str| anyhow!("{name:?} is not a valid package name: {why}");
    let first = name.chars().next().ok_or_else(|| invalid("it is empty"))?;
    if !(first.is_ascii_alphabetic() || first == '_') {
        return Err(invalid("it must start with a letter or `_`"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(invalid(&format!(
            "{c:?} is not a letter, digit, `-` or `_`"
        )));
    }
    if name.len() > 64 {
        return Err(invalid("it is longer than 64 characters"));
    }
    if KEYWORDS.contains(&name) {
        return Err(invalid("it is a Rust keyword"));
    }
    if TAKEN.contains(&name.replace('-', "_").as_str()) {
        return Err(invalid("a crate the build needs has that name"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The repository's templates and guest SDK, beside the crate this module is in.
    fn repo(path: &str) -> PathBuf {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(path);
        path.canonicalize()
            .unwrap_or_else(|e| panic!("{path:?}: {e}"))
    }

    fn read(path: &Path) -> String {
        fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"))
    }

    #[test]
    fn names() {
        for ok in ["pstn-dial", "a", "my_fn2", "_private", "Dial-Out"] {
            check_name(ok).unwrap_or_else(|e| panic!("{ok:?}: {e:#}"));
        }
        let too_long = "a".repeat(65);
        for (bad, why) in [
            ("", "empty"),
            ("2fa", "start with a letter"),
            ("-x", "start with a letter"),
            ("has space", "' ' is not"),
            ("a/../b", "'/' is not"),
            ("café", "'é' is not"),
            (too_long.as_str(), "longer than 64"),
            ("fn", "keyword"),
            ("test", "crate the build needs"),
            ("std", "crate the build needs"),
            ("twiml-edge-sdk", "crate the build needs"),
        ] {
            let err = check_name(bad).expect_err(bad).to_string();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    #[test]
    fn new_guest_renders_every_template() {
        let dir = tempfile::tempdir().unwrap();
        let sdk = Sdk::Path(PathBuf::from("/opt/twiml \"edge\"/guest-sdk"));
        let root = new_guest(dir.path(), "my-dial", &sdk).unwrap();
        assert_eq!(root, dir.path().join("my-dial"));

        let mut written: Vec<_> = ["Cargo.toml", "src/lib.rs", ".gitignore", "README.md"]
            .into_iter()
            .map(|f| (f, read(&root.join(f))))
            .collect();
        for (file, text) in &written {
            assert!(!text.contains("{{"), "{file} keeps a placeholder:\n{text}");
        }
        let cargo_toml = &written[0].1;
        assert!(cargo_toml.contains("name = \"my-dial\"\n"), "{cargo_toml}");
        assert!(
            cargo_toml
                .contains("twiml-edge-sdk = { path = \"/opt/twiml \\\"edge\\\"/guest-sdk\" }\n"),
            "{cargo_toml}"
        );
        assert!(
            cargo_toml.contains("crate-type = [\"cdylib\"]"),
            "{cargo_toml}"
        );
        assert!(cargo_toml.contains("\n[workspace]\n"), "{cargo_toml}");
        assert!(written[1].1.contains("twiml_edge_sdk::export!(handle);"));
        assert!(
            written[3].1.contains("target/twiml-edge/my-dial.wasm"),
            "{}",
            written[3].1
        );
        assert!(written[3].1.lines().count() <= 15);

        // Nothing but the rendered templates, none with the suffix.
        written.clear();
        let files = files_under(&root);
        let expected: Vec<PathBuf> = [".gitignore", "Cargo.toml", "README.md", "src/lib.rs"]
            .into_iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(files, expected);
    }

    /// Every file under `root`, relative to it, sorted.
    fn files_under(root: &Path) -> Vec<PathBuf> {
        let mut files = Vec::new();
        let mut dirs = vec![root.to_path_buf()];
        while let Some(dir) = dirs.pop() {
            for entry in fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    files.push(path.strip_prefix(root).unwrap().to_owned());
                }
            }
        }
        files.sort();
        files
    }

    #[test]
    fn the_built_in_template_is_every_file_of_templates_function() {
        let on_disk: Vec<String> = files_under(&repo("templates/function"))
            .iter()
            .map(|path| {
                let relative = path.to_str().unwrap();
                relative.strip_suffix(".tmpl").unwrap().to_owned()
            })
            .collect();
        let built_in: Vec<_> = TEMPLATE
            .iter()
            .map(|(path, _)| (*path).to_owned())
            .collect();
        assert_eq!(on_disk, built_in);
    }

    #[test]
    fn new_guest_with_a_registry_version() {
        let dir = tempfile::tempdir().unwrap();
        let sdk = Sdk::Version("0.1".to_owned());
        let root = new_guest(dir.path(), "v", &sdk).unwrap();
        assert!(read(&root.join("Cargo.toml")).contains("twiml-edge-sdk = \"0.1\"\n"));
    }

    #[test]
    fn new_guest_refuses_what_it_would_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let sdk = Sdk::Version("0.1".to_owned());

        fs::create_dir(dir.path().join("empty")).unwrap();
        new_guest(dir.path(), "empty", &sdk).expect("an empty folder is fine");

        fs::create_dir(dir.path().join("taken")).unwrap();
        fs::write(dir.path().join("taken/notes.txt"), "mine").unwrap();
        let err = new_guest(dir.path(), "taken", &sdk).unwrap_err();
        assert!(err.to_string().contains("is not empty"), "{err:#}");
        assert_eq!(read(&dir.path().join("taken/notes.txt")), "mine");

        fs::write(dir.path().join("file"), "").unwrap();
        let err = new_guest(dir.path(), "file", &sdk).unwrap_err();
        assert!(err.to_string().contains("is not a folder"), "{err:#}");

        let err = new_guest(dir.path(), "9lives", &sdk).unwrap_err();
        assert!(
            err.to_string().contains("not a valid package name"),
            "{err:#}"
        );
        assert!(!dir.path().join("9lives").exists());
    }

    #[test]
    fn cargo_messages() {
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            // A cdylib of a workspace member (cargo 1.77+ package ID).
            (
                r#"{"reason":"compiler-artifact","package_id":"path+file:///g/examples/pstn-dial#0.1.0","manifest_path":"/g/examples/pstn-dial/Cargo.toml","target":{"kind":["cdylib"],"crate_types":["cdylib"],"name":"pstn_dial","src_path":"/g/examples/pstn-dial/src/lib.rs","edition":"2024","doc":true,"doctest":false,"test":true},"profile":{"opt_level":"3","debuginfo":0,"debug_assertions":false,"overflow_checks":false,"test":false},"features":[],"filenames":["/t/wasm32-unknown-unknown/release/pstn_dial.wasm"],"executable":null,"fresh":false}"#,
                Some((
                    "pstn-dial",
                    "/t/wasm32-unknown-unknown/release/pstn_dial.wasm",
                )),
            ),
            // The package name differs from its folder's.
            (
                r#"{"reason":"compiler-artifact","package_id":"path+file:///g/dial#my-dial@0.2.0","target":{"kind":["cdylib","rlib"],"name":"my_dial"},"filenames":["/t/release/libmy_dial.rlib","/t/release/my_dial.wasm"],"fresh":true}"#,
                Some(("my-dial", "/t/release/my_dial.wasm")),
            ),
            // Cargo before 1.77.
            (
                r#"{"reason":"compiler-artifact","package_id":"echo 0.1.0 (path+file:///g/echo)","target":{"kind":["cdylib"],"name":"echo"},"filenames":["/t/release/echo.wasm"]}"#,
                Some(("echo", "/t/release/echo.wasm")),
            ),
            // A dependency.
            (
                r#"{"reason":"compiler-artifact","package_id":"registry+https://github.com/rust-lang/crates.io-index#wit-bindgen@0.61.0","target":{"kind":["lib"],"name":"wit_bindgen"},"filenames":["/t/release/deps/libwit_bindgen-1.rlib"]}"#,
                None,
            ),
            // A cdylib built for the host has no .wasm.
            (
                r#"{"reason":"compiler-artifact","package_id":"path+file:///g/x#0.1.0","target":{"kind":["cdylib"],"name":"x"},"filenames":["/t/release/libx.so"]}"#,
                None,
            ),
            (
                r#"{"reason":"build-script-executed","package_id":"path+file:///g/x#0.1.0","linked_libs":[],"linked_paths":[],"cfgs":[],"env":[],"out_dir":"/t/out"}"#,
                None,
            ),
            (r#"{"reason":"build-finished","success":true}"#, None),
            ("Compiling pstn-dial v0.1.0", None),
            ("", None),
        ];
        for (line, expected) in cases {
            let expected = expected.map(|(name, module)| Artifact {
                name: name.to_owned(),
                module: PathBuf::from(module),
            });
            assert_eq!(parse_message(line), expected, "{line}");
        }
    }

    #[test]
    fn artifacts_are_read_from_a_stream_and_sorted() {
        let stream = concat!(
            r#"{"reason":"compiler-artifact","package_id":"path+file:///g/b#0.1.0","target":{"kind":["cdylib"],"name":"b"},"filenames":["/t/b.wasm"]}"#,
            "\r\n",
            r#"{"reason":"compiler-artifact","package_id":"path+file:///g/a#0.1.0","target":{"kind":["cdylib"],"name":"a"},"filenames":["/t/a.wasm"]}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        let artifacts = read_artifacts(stream.as_bytes()).unwrap();
        let names: Vec<_> = artifacts.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn a_failure_reports_cargo_errors() {
        let mut lines = ErrorLines::default();
        for line in [
            "   Compiling dial v0.1.0 (/g/dial)",
            "warning: unused variable: `x`",
            " --> src/lib.rs:2:9",
            "",
            "error[E0425]: cannot find value `nope` in this scope",
            " --> src/lib.rs:3:5",
            "  |",
            "3 |     nope",
            "  |     ^^^^ not found in this scope",
            "",
            "error: could not compile `dial` (lib) due to 1 previous error; 1 warning emitted",
        ] {
            lines.push(line);
        }
        assert_eq!(
            lines.to_string(),
            "error[E0425]: cannot find value `nope` in this scope\n --> src/lib.rs:3:5\n  |\n\
             3 |     nope\n  |     ^^^^ not found in this scope\n\
             error: could not compile `dial` (lib) due to 1 previous error; 1 warning emitted"
        );

        let mut lines = ErrorLines::default();
        lines.push("    Updating crates.io index");
        lines.push("killed");
        assert_eq!(lines.to_string(), "    Updating crates.io index\nkilled");
    }

    #[test]
    fn toolchain_env() {
        assert_eq!(forced(None).unwrap(), None);
        assert_eq!(forced(Some("")).unwrap(), None);
        assert_eq!(forced(Some("rustup")).unwrap(), Some(Forced::Rustup));
        assert_eq!(forced(Some("debian")).unwrap(), Some(Forced::Debian));
        let err = forced(Some("Debian ")).unwrap_err().to_string();
        assert_eq!(
            err,
            "TWIML_EDGE_TOOLCHAIN is \"Debian \"; expected \"rustup\" or \"debian\""
        );
    }

    #[test]
    fn commands() {
        let env = |command: &Command, key: &str| {
            command
                .get_envs()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.map(|v| v.to_str().unwrap().to_owned()))
        };
        let rustup = Toolchain::Rustup.command(Path::new("/g"), Path::new("/t"));
        let debian = Toolchain::Debian {
            linker: PathBuf::from("/bin/rust-lld"),
        }
        .command(Path::new("/g"), Path::new("/t"));
        for command in [&rustup, &debian] {
            assert_eq!(command.get_current_dir(), Some(Path::new("/g")));
            let args: Vec<_> = command.get_args().map(|a| a.to_str().unwrap()).collect();
            assert_eq!(
                args[..8],
                [
                    "build",
                    "--release",
                    "--workspace",
                    "--target",
                    "wasm32-unknown-unknown",
                    "--message-format=json-render-diagnostics",
                    "--target-dir",
                    "/t",
                ]
            );
            assert_eq!(
                env(command, "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS"),
                Some(Some("-C link-arg=-zstack-size=131072".to_owned()))
            );
        }
        assert_eq!(rustup.get_program(), "cargo");
        assert_eq!(rustup.get_args().count(), 8);
        assert_eq!(env(&rustup, "RUSTC"), None);

        assert_eq!(debian.get_program(), "/usr/bin/cargo");
        assert_eq!(
            debian.get_args().last().unwrap(),
            "-Zbuild-std=std,panic_abort"
        );
        assert_eq!(
            env(&debian, "RUSTC"),
            Some(Some("/usr/bin/rustc".to_owned()))
        );
        assert_eq!(env(&debian, "RUSTC_BOOTSTRAP"), Some(Some("1".to_owned())));
        assert_eq!(
            env(&debian, "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER"),
            Some(Some("/bin/rust-lld".to_owned()))
        );
        assert_eq!(env(&debian, "RUSTUP_TOOLCHAIN"), Some(None));
    }
}
