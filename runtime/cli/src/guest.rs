//! The developer loop: `new`, `build`, `deploy`, `logs`.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
};

use anyhow::{Context as _, bail};
use serde_json::Value;

use twiml_edge_sandbox::componentize;

use crate::{
    remote::{Remote, ServerArgs},
    toolchain::{self, Sdk, Toolchain},
};

/// `twiml-edge new NAME`.
#[derive(Debug, clap::Args)]
pub(crate) struct NewArgs {
    /// The function's name: a cargo package name such as pstn-dial.
    name: String,
    /// Folder to create the crate in.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// The guest SDK as a path dependency (default: the SDK this binary carries, unpacked into
    /// ~/.cache/twiml-edge).
    #[arg(long, conflicts_with = "sdk_version")]
    sdk_path: Option<PathBuf>,
    /// The guest SDK as a registry version requirement, such as 0.1.
    #[arg(long)]
    sdk_version: Option<String>,
}

/// `twiml-edge build [DIR]`.
#[derive(Debug, clap::Args)]
pub(crate) struct BuildArgs {
    /// A guest crate, or a workspace of them.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Where to write the components (default: DIR/target/twiml-edge).
    #[arg(long)]
    out: Option<PathBuf>,
    /// What to build for: `unknown` (wasm32-unknown-unknown with the SDK, the default) or
    /// `wasip2` (plain `cargo build --target wasm32-wasip2`, for guests written against the WIT
    /// with wit-bindgen, std's stdout and clocks included).
    #[arg(long, default_value = "unknown", value_parser = ["unknown", "wasip2"])]
    target: String,
}

/// `twiml-edge deploy PATH`.
#[derive(Debug, clap::Args)]
pub(crate) struct DeployArgs {
    /// A guest crate (built first), a .wasm component or module, or a .xml TwiML Bin template.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// The name to deploy under (default: the crate's package or the file's name).
    #[arg(long)]
    name: Option<String>,
    /// Sets variable KEY of the function (read with `config::get` / wasi:config); repeat it
    /// for more. Variables not named are kept.
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = key_value)]
    vars: Vec<(String, String)>,
    /// Sets a secret variable: the function reads it, no API answer or log shows it again.
    #[arg(long = "secret", value_name = "KEY=VALUE", value_parser = key_value)]
    secrets: Vec<(String, String)>,
    /// A host the function may send requests to (https://api.example.com,
    /// https://*.example.com:8443); repeat it for more. Given, it replaces the function's list.
    #[arg(long = "allow-host", value_name = "URL")]
    allow_hosts: Vec<String>,
    #[command(flatten)]
    server: ServerArgs,
}

/// `KEY=VALUE`, split at the first `=`.
fn key_value(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("{arg:?} is not KEY=VALUE")),
    }
}

/// `twiml-edge logs NAME`.
#[derive(Debug, clap::Args)]
pub(crate) struct LogsArgs {
    /// The function, by name or ZH sid.
    function: String,
    /// How many recent calls to show.
    #[arg(long, default_value_t = 20)]
    limit: u32,
    /// Print the calls as JSON, for scripts.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    server: ServerArgs,
}

pub(crate) fn new(args: NewArgs) -> anyhow::Result<()> {
    let sdk = match (args.sdk_path, args.sdk_version) {
        (Some(path), _) => Sdk::Path(path),
        (None, Some(version)) => Sdk::Version(version),
        // The SDK this binary carries, unpacked into the user's cache: the project builds
        // wherever the binary runs, with no checkout and no registry.
        (None, None) => Sdk::Path(crate::sdk::guest_sdk()?),
    };
    let dir = toolchain::new_guest(&args.dir, &args.name, &sdk)?;
    println!("created {}", dir.display());
    println!(
        "next: twiml-edge build {0}  (or twiml-edge dev {0})",
        dir.display()
    );
    Ok(())
}

pub(crate) fn build(args: BuildArgs) -> anyhow::Result<()> {
    let out = args
        .out
        .unwrap_or_else(|| args.dir.join("target/twiml-edge"));
    let toolchain = match args.target.as_str() {
        "wasip2" => Some(Toolchain::wasip2()?),
        _ => None,
    };
    for component in build_components_with(&args.dir, &out, toolchain.as_ref())? {
        println!("{}", component.display());
    }
    Ok(())
}

/// The toolchain guests build with, detected once per process: `dev` builds on every change,
/// and detection runs rustup (and may try `rustup target add`) each time.
fn detected_toolchain() -> anyhow::Result<&'static Toolchain> {
    static DETECTED: std::sync::OnceLock<Toolchain> = std::sync::OnceLock::new();
    if let Some(toolchain) = DETECTED.get() {
        return Ok(toolchain);
    }
    // A failed detection is not kept: the user may install the target and save again.
    let toolchain = Toolchain::from_env_or_detect()?;
    Ok(DETECTED.get_or_init(|| toolchain))
}

/// Builds the guests at `dir` and writes each as `out/NAME.wasm`, a component; progress goes to
/// stderr, as cargo's does.
pub(crate) fn build_components(dir: &Path, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    build_components_with(dir, out, None)
}

/// [`build_components`] with `toolchain` instead of the detected one.
fn build_components_with(
    dir: &Path,
    out: &Path,
    toolchain: Option<&Toolchain>,
) -> anyhow::Result<Vec<PathBuf>> {
    // Cargo runs in the crate's folder: a relative target would land inside it twice over.
    let dir = &dir
        .canonicalize()
        .with_context(|| format!("cannot build {dir:?}"))?;
    let toolchain = match toolchain {
        Some(toolchain) => toolchain,
        None => detected_toolchain()?,
    };
    eprintln!("building {} with {}", dir.display(), toolchain.describe());
    let target = dir.join("target");
    let artifacts = toolchain::build(toolchain, dir, &target, &mut |line| {
        eprintln!("{line}");
    })?;
    std::fs::create_dir_all(out).with_context(|| format!("failed to create {out:?}"))?;
    let mut written = Vec::new();
    for artifact in artifacts {
        let module = std::fs::read(&artifact.module)
            .with_context(|| format!("failed to read {:?}", artifact.module))?;
        let component = componentize(&module)
            .with_context(|| format!("{} cannot become a component", artifact.name))?;
        if let Some(version) = world_version(&component)
            && version != twiml_edge_sandbox::WORLD_VERSION
        {
            eprintln!(
                "note: {} was built against twiml:edge@{version}, and this runtime speaks \
                 twiml:edge@{}: it still runs, without the newer interfaces (variables, HTTP, \
                 state). Update its twiml-edge-sdk: `twiml-edge new` writes the current one.",
                artifact.name,
                twiml_edge_sandbox::WORLD_VERSION
            );
        }
        let path = out.join(format!("{}.wasm", artifact.name));
        std::fs::write(&path, component).with_context(|| format!("failed to write {path:?}"))?;
        written.push(path);
    }
    Ok(written)
}

/// The `twiml:edge` version a component's handler export names (`twiml:edge/handler@0.2.0`).
fn world_version(component: &[u8]) -> Option<String> {
    const EXPORT: &[u8] = b"twiml:edge/handler@";
    let at = component
        .windows(EXPORT.len())
        .position(|window| window == EXPORT)?
        + EXPORT.len();
    let version: Vec<u8> = component[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit() || **b == b'.')
        .copied()
        .collect();
    String::from_utf8(version).ok().filter(|v| !v.is_empty())
}

pub(crate) async fn deploy(args: DeployArgs) -> anyhow::Result<()> {
    let remote = Remote::new(&args.server)?;
    let path = &args.path;
    let is = |ext: &str| path.extension().is_some_and(|e| e == ext);
    if is("xml") {
        let name = args.name.clone().unwrap_or_else(|| stem(path));
        let template =
            std::fs::read_to_string(path).with_context(|| format!("failed to read {path:?}"))?;
        let bin = deploy_bin(&remote, &name, &template).await?;
        println!(
            "deployed TwiML bin {name} ({})",
            bin["sid"].as_str().unwrap_or_default()
        );
        println!(
            "webhook: {}",
            bin["webhook_url"].as_str().unwrap_or_default()
        );
        return Ok(());
    }
    let (name, wasm) = if is("wasm") {
        let wasm = std::fs::read(path).with_context(|| format!("failed to read {path:?}"))?;
        (args.name.clone().unwrap_or_else(|| stem(path)), wasm)
    } else {
        if !path.join("Cargo.toml").is_file() {
            bail!(
                "cannot deploy {path:?}: give a guest crate (a folder with Cargo.toml), a .wasm \
                 component or module, or a .xml TwiML Bin template"
            );
        }
        let dir = path.clone();
        let out = dir.join("target/twiml-edge");
        let built = tokio::task::spawn_blocking(move || build_components(&dir, &out)).await??;
        let [component] = built.as_slice() else {
            bail!(
                "{path:?} builds {} functions: deploy one .wasm from its target/twiml-edge",
                built.len()
            );
        };
        let name = args.name.clone().unwrap_or_else(|| stem(component));
        (name, std::fs::read(component)?)
    };
    let function = deploy_function(&remote, &name, wasm, &args.allow_hosts).await?;
    let sid = function["sid"].as_str().unwrap_or_default();
    println!(
        "deployed function {name} ({sid}) version {}",
        function["version"]["sid"].as_str().unwrap_or_default()
    );
    if let Some(hosts) = function["allowed_hosts"]
        .as_array()
        .filter(|h| !h.is_empty())
    {
        let hosts: Vec<&str> = hosts.iter().filter_map(Value::as_str).collect();
        println!("allowed hosts: {}", hosts.join(" "));
    }
    let variables = args
        .vars
        .iter()
        .map(|(k, v)| (k, v, false))
        .chain(args.secrets.iter().map(|(k, v)| (k, v, true)));
    set_variables(&remote, sid, variables).await?;
    println!(
        "webhook: {}",
        function["webhook_url"].as_str().unwrap_or_default()
    );
    Ok(())
}

/// Uploads `wasm` as a new version of function `name`, creating it the first time; `hosts`,
/// when any, become its allowed hosts.
async fn deploy_function(
    remote: &Remote,
    name: &str,
    wasm: Vec<u8>,
    hosts: &[String],
) -> anyhow::Result<Value> {
    let found = remote
        .get(&format!("/Functions.json?FriendlyName={}", encode(name)))
        .await?;
    let hosts: String = hosts
        .iter()
        .map(|h| format!("&AllowedHosts={}", encode(h)))
        .collect();
    match found["functions"][0]["sid"].as_str() {
        Some(sid) => {
            let rest = match hosts.strip_prefix('&') {
                Some(query) => format!("/Functions/{sid}.json?{query}"),
                None => format!("/Functions/{sid}.json"),
            };
            remote.upload(&rest, wasm).await
        }
        None => {
            let rest = format!("/Functions.json?FriendlyName={}{hosts}", encode(name));
            remote.upload(&rest, wasm).await
        }
    }
}

/// Creates or updates each `(key, value, secret)` variable of function `sid`.
async fn set_variables<'a>(
    remote: &Remote,
    sid: &str,
    variables: impl Iterator<Item = (&'a String, &'a String, bool)>,
) -> anyhow::Result<()> {
    let mut variables = variables.peekable();
    if variables.peek().is_none() {
        return Ok(());
    }
    let collection = format!("/Functions/{sid}/Variables.json");
    let existing = remote.get(&collection).await?;
    for (key, value, secret) in variables {
        let found = existing["variables"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["key"] == key.as_str())
            .and_then(|v| v["sid"].as_str());
        let secret_flag = if secret { "true" } else { "false" };
        let mut form = vec![("Value", value.as_str())];
        match found {
            Some(variable) => {
                if secret {
                    form.push(("Secret", secret_flag));
                }
                let item = format!("/Functions/{sid}/Variables/{variable}.json");
                remote.post_form(&item, &form).await?;
            }
            None => {
                form.extend([("Key", key.as_str()), ("Secret", secret_flag)]);
                remote.post_form(&collection, &form).await?;
            }
        }
        let kind = if secret { "secret" } else { "variable" };
        println!("set {kind} {key}");
    }
    Ok(())
}

/// Sets bin `name`'s template, creating the bin the first time.
async fn deploy_bin(remote: &Remote, name: &str, template: &str) -> anyhow::Result<Value> {
    let found = remote
        .get(&format!("/TwimlBins.json?FriendlyName={}", encode(name)))
        .await?;
    match found["twiml_bins"][0]["sid"].as_str() {
        Some(sid) => {
            let rest = format!("/TwimlBins/{sid}.json");
            remote.post_form(&rest, &[("Template", template)]).await
        }
        None => {
            let form = [("FriendlyName", name), ("Template", template)];
            remote.post_form("/TwimlBins.json", &form).await
        }
    }
}

pub(crate) async fn logs(args: LogsArgs) -> anyhow::Result<()> {
    let remote = Remote::new(&args.server)?;
    let sid = if is_function_sid(&args.function) {
        args.function.clone()
    } else {
        let found = remote
            .get(&format!(
                "/Functions.json?FriendlyName={}",
                encode(&args.function)
            ))
            .await?;
        found["functions"][0]["sid"]
            .as_str()
            .with_context(|| {
                format!(
                    "account {} has no function named {:?}",
                    remote.account(),
                    args.function
                )
            })?
            .to_owned()
    };
    let calls = remote
        .get(&format!(
            "/Functions/{sid}/Calls.json?PageSize={}",
            args.limit
        ))
        .await?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&calls["calls"])?)?;
        return Ok(());
    }
    let calls = calls["calls"].as_array().cloned().unwrap_or_default();
    if calls.is_empty() {
        writeln!(out, "no calls of {} yet", args.function)?;
    }
    for call in calls.iter().rev() {
        write_call(&mut out, call)?;
    }
    Ok(())
}

/// One call log entry, for a person.
fn write_call(out: &mut impl std::io::Write, call: &Value) -> std::io::Result<()> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    writeln!(
        out,
        "{}  {}  {}  {} us",
        text(&call["date_created"]),
        text(&call["call_sid"]),
        text(&call["outcome"]),
        call["elapsed_us"]
    )?;
    writeln!(out, "  target: {}", text(&call["target"]))?;
    if let Some(error) = call["error"].as_str() {
        writeln!(out, "  error: {error}")?;
    }
    if let Some(fallback) = call["fallback"].as_str() {
        writeln!(out, "  fallback: {fallback}")?;
    }
    for line in call["logs"].as_array().into_iter().flatten() {
        let fields: Vec<String> = line["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| format!("{}={}", text(&f[0]), f[1]))
            .collect();
        writeln!(
            out,
            "  {:5} {} {}",
            text(&line["level"]),
            text(&line["message"]),
            fields.join(" ")
        )?;
    }
    Ok(())
}

fn is_function_sid(s: &str) -> bool {
    s.len() == 34 && s.starts_with("ZH") && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_world_version_is_read_from_the_handler_export() {
        assert_eq!(
            world_version(b"\0asm...\x19twiml:edge/handler@0.1.0\x01...").as_deref(),
            Some("0.1.0")
        );
        assert_eq!(world_version(b"\0asm no handler here"), None);
    }
}
