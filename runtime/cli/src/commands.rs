//! The `twiml-edge` command line: the server, accounts, and the developer loop (`new`, `build`,
//! `dev`, `deploy`, `call`, `logs`). What a command prints for a person goes to stdout; logs go
//! to stderr through `tracing`.

use std::{net::SocketAddr, path::PathBuf, time::Duration};
use twiml_edge_store::prelude::*;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use twiml_edge_e164::Region;
use twiml_edge_sandbox::{
    DEFAULT_COMPILE_TIMEOUT, DEFAULT_CPU_TIME, DEFAULT_MAX_CONCURRENT_CALLS, DEFAULT_MEMORY_LIMIT,
    DEFAULT_STACK_LIMIT, DEFAULT_WALL_TIME, componentize,
};
use twiml_edge_server::{
    self as server, Allocator, App, Config, DEFAULT_DATA_DIR, DEFAULT_FUNCTIONS_DIR,
    DEFAULT_HEADER_TIMEOUT, DEFAULT_LISTEN, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_TEMPLATES_DIR, DEFAULT_WRITE_TIMEOUT, Limits, OutboundLimits,
    Quotas,
};
use twiml_edge_twiml::DEFAULT_MAX_TWIML_BYTES;

use crate::{call, dev, guest};

/// twiml-edge: run TwiML voice webhooks for SIP domains as TwiML Bins and WebAssembly functions.
#[derive(Debug, Parser)]
#[command(version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// What a command's log is for, which decides its default level and what it prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogKind {
    /// `serve`: start-up, warnings and errors at `info` (request lines at `debug`).
    Server,
    /// `dev`: a person's lines on stdout, each request and the guest's log included; the
    /// tracing log at `warn`.
    Dev,
    /// Every other command: its own output, the tracing log at `warn`.
    Tool,
}

impl Cli {
    /// What this invocation's log is for.
    pub(crate) fn log_kind(&self) -> LogKind {
        match self.command {
            Command::Serve(_) => LogKind::Server,
            Command::Dev(_) => LogKind::Dev,
            _ => LogKind::Tool,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve webhooks over HTTP until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Manage accounts in the store (the server may be running).
    #[command(subcommand)]
    Account(AccountCommand),
    /// Create a voice function crate, ready to build.
    New(guest::NewArgs),
    /// Build a guest crate (or a workspace of them) into components.
    Build(guest::BuildArgs),
    /// Serve a folder of bins and functions, rebuilding and reloading as you edit it.
    Dev(dev::DevArgs),
    /// Upload a function or TwiML Bin to a server.
    Deploy(guest::DeployArgs),
    /// Simulate an inbound SIP call: the webhook, the TwiML and the dial plan it makes.
    Call(call::CallArgs),
    /// Show a function's recent calls, with their outcome and guest log lines.
    Logs(guest::LogsArgs),
    /// Turn a wit-bindgen core module into a component (a component is copied as it is).
    Componentize {
        /// The core module (`cargo build --target wasm32-unknown-unknown` output).
        input: PathBuf,
        /// Where to write the component.
        #[arg(long, short)]
        output: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum AccountCommand {
    /// Create an account and print its SID and auth token (shown only this once).
    Create {
        /// A name for the account.
        #[arg(long, default_value = "")]
        friendly_name: String,
        /// Take this AccountSid (AC + 32 hex) instead of a new one, for a SIP engine that
        /// already signs with an existing account's credentials; needs --auth-token.
        #[arg(long, requires = "auth_token")]
        sid: Option<String>,
        /// The existing account's auth token (32 hex), with --sid.
        #[arg(long, requires = "sid")]
        auth_token: Option<String>,
        /// Whether webhooks must carry a valid X-Twilio-Signature (turn off only for local work).
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        validate_signatures: bool,
        /// Folder of the embedded store.
        #[arg(long, env = "TWIML_EDGE_DATA", default_value = DEFAULT_DATA_DIR)]
        data: PathBuf,
    },
    /// List the accounts (SIDs and names; tokens are not shown).
    List {
        /// Folder of the embedded store.
        #[arg(long, env = "TWIML_EDGE_DATA", default_value = DEFAULT_DATA_DIR)]
        data: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TWIML_EDGE_LISTEN", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Folder of TwiML Bin templates: each NAME.xml answers at /bins/NAME.
    #[arg(long, env = "TWIML_EDGE_TEMPLATES", default_value = DEFAULT_TEMPLATES_DIR)]
    templates: PathBuf,
    /// Folder of voice functions: each NAME.wasm (component or wit-bindgen core module) answers
    /// at /functions/NAME.
    #[arg(long, env = "TWIML_EDGE_FUNCTIONS", default_value = DEFAULT_FUNCTIONS_DIR)]
    functions: PathBuf,
    /// Folder for the embedded store and compiled-code cache.
    #[arg(long, env = "TWIML_EDGE_DATA", default_value = DEFAULT_DATA_DIR)]
    data: PathBuf,
    /// Region (ISO 3166-1 alpha-2) for reading national numbers in e164.
    #[arg(long, env = "TWIML_EDGE_DEFAULT_REGION", default_value = "US")]
    default_region: Region,
    /// The URL the SIP engine calls this server at, such as https://edge.example.com, when a
    /// proxy in front changes scheme or host: webhook signatures are checked against it.
    #[arg(long, env = "TWIML_EDGE_PUBLIC_URL")]
    public_url: Option<url::Url>,
    /// Largest function upload accepted, in bytes (at most 256 MiB).
    #[arg(long, env = "TWIML_EDGE_MAX_UPLOAD_BYTES", default_value_t = DEFAULT_MAX_UPLOAD_BYTES,
        value_parser = in_range::<usize>(1024, 256 << 20))]
    max_upload_bytes: usize,
    /// Largest webhook body accepted, in bytes (at most 1 MiB).
    #[arg(long, env = "TWIML_EDGE_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES,
        value_parser = in_range::<usize>(1024, 1 << 20))]
    max_body_bytes: usize,
    /// Largest TwiML answer returned, in bytes (the SIP engine refuses more than 64 kB; at most
    /// 1 MiB).
    #[arg(long, env = "TWIML_EDGE_MAX_TWIML_BYTES", default_value_t = DEFAULT_MAX_TWIML_BYTES,
        value_parser = in_range::<usize>(1024, 1 << 20))]
    max_twiml_bytes: usize,
    /// Linear memory one function call may use, in MiB (1 to 4096).
    #[arg(long, env = "TWIML_EDGE_MEMORY_MIB", default_value_t = DEFAULT_MEMORY_LIMIT >> 20,
        value_parser = in_range::<usize>(1, 4096))]
    memory_mib: usize,
    /// CPU time one function call may use, in milliseconds (1 to 10000: the SIP engine waits
    /// 15 s for an answer).
    #[arg(long, env = "TWIML_EDGE_CPU_MS", default_value_t = DEFAULT_CPU_TIME.as_millis() as u64,
        value_parser = in_range::<u64>(1, 10_000))]
    cpu_ms: u64,
    /// Wasm stack one function call may use, in KiB (64 to 8192; over 1024, every call runs
    /// on a fiber sized for it).
    #[arg(long, env = "TWIML_EDGE_STACK_KIB", default_value_t = DEFAULT_STACK_LIMIT >> 10,
        value_parser = in_range::<usize>(64, 8192))]
    stack_kib: usize,
    /// Let the folder's bins and functions use enhanced SIP: several nouns next to a <Sip> in
    /// one <Dial> (parallel and sequential SIP dialing).
    #[arg(long, env = "TWIML_EDGE_ENHANCED_SIP")]
    enhanced_sip: bool,
    /// Log TwiML schema findings of the folder's bins and functions instead of failing them.
    #[arg(long, env = "TWIML_EDGE_TWIML_WARNINGS_ONLY")]
    twiml_warnings_only: bool,
    /// Function calls that may run at once; more are answered 503 (1 to 10000: each reserves
    /// address space for its instances).
    #[arg(long, env = "TWIML_EDGE_MAX_CONCURRENT_CALLS", default_value_t = DEFAULT_MAX_CONCURRENT_CALLS,
        value_parser = in_range::<u32>(1, 10_000))]
    max_concurrent_calls: u32,
    /// Function calls one account may run at once; more are answered 503 and its domains fall
    /// back (default: a quarter of --max-concurrent-calls).
    #[arg(long, env = "TWIML_EDGE_MAX_CALLS_PER_ACCOUNT", value_parser = in_range::<u32>(1, 10_000))]
    max_calls_per_account: Option<u32>,
    /// Open connections held at once; past it the server accepts more only as others close.
    #[arg(long, env = "TWIML_EDGE_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS,
        value_parser = in_range::<usize>(1, 1 << 20))]
    max_connections: usize,
    /// Seconds a client may take to send a request's headers, or idle between requests.
    #[arg(long, env = "TWIML_EDGE_HEADER_TIMEOUT_SECS", default_value_t = DEFAULT_HEADER_TIMEOUT.as_secs(),
        value_parser = in_range::<u64>(1, 300))]
    header_timeout_secs: u64,
    /// Seconds a write may wait for the client to read before its connection is closed.
    #[arg(long, env = "TWIML_EDGE_WRITE_TIMEOUT_SECS", default_value_t = DEFAULT_WRITE_TIMEOUT.as_secs(),
        value_parser = in_range::<u64>(1, 300))]
    write_timeout_secs: u64,
    /// Uploads compiling at once; more wait their turn (each account compiles one at a time).
    #[arg(long, env = "TWIML_EDGE_MAX_CONCURRENT_COMPILES", default_value_t = 1,
        value_parser = in_range::<u32>(1, 64))]
    max_concurrent_compiles: u32,
    /// Where the memory of function calls comes from: `pooling` (reserved up front, fastest),
    /// `on-demand` (mapped per call, for a restricted address space), or `auto` (pooling when
    /// the address space can be reserved).
    #[arg(long, env = "TWIML_EDGE_ALLOCATOR", default_value = "auto")]
    allocator: Allocator,
    /// Seconds an upload may take to get its turn and compile.
    #[arg(long, env = "TWIML_EDGE_COMPILE_TIMEOUT_SECS", default_value_t = DEFAULT_COMPILE_TIMEOUT.as_secs(),
        value_parser = in_range::<u64>(1, 3600))]
    compile_timeout_secs: u64,
    /// Functions one account may have.
    #[arg(long, env = "TWIML_EDGE_MAX_FUNCTIONS_PER_ACCOUNT", default_value_t = Quotas::default().functions)]
    max_functions_per_account: u32,
    /// Versions one function may keep (delete old ones through the API to upload more).
    #[arg(long, env = "TWIML_EDGE_MAX_VERSIONS_PER_FUNCTION", default_value_t = Quotas::default().versions_per_function)]
    max_versions_per_function: u32,
    /// MiB of wasm one account may store, every version of every function counted.
    #[arg(long, env = "TWIML_EDGE_MAX_STORED_MIB_PER_ACCOUNT", default_value_t = Quotas::default().stored_bytes >> 20)]
    max_stored_mib_per_account: u64,
    /// TwiML bins one account may have.
    #[arg(long, env = "TWIML_EDGE_MAX_BINS_PER_ACCOUNT", default_value_t = Quotas::default().bins)]
    max_bins_per_account: u32,
    /// SIP domains one account may have.
    #[arg(long, env = "TWIML_EDGE_MAX_DOMAINS_PER_ACCOUNT", default_value_t = Quotas::default().domains)]
    max_domains_per_account: u32,
    /// Variables one function may have.
    #[arg(long, env = "TWIML_EDGE_MAX_VARIABLES_PER_FUNCTION", default_value_t = Quotas::default().variables_per_function)]
    max_variables_per_function: u32,
    /// MiB of key-value state one account may keep, keys and values counted.
    #[arg(long, env = "TWIML_EDGE_MAX_STATE_MIB_PER_ACCOUNT", default_value_t = Quotas::default().kv_bytes >> 20)]
    max_state_mib_per_account: u64,
    /// Key-value buckets one account may have.
    #[arg(long, env = "TWIML_EDGE_MAX_BUCKETS_PER_ACCOUNT", default_value_t = Quotas::default().kv_buckets)]
    max_buckets_per_account: u32,
    /// Wall-clock time one function call may take, waiting on its requests included, in
    /// milliseconds (1 to 14000: the SIP engine waits 15 s for an answer).
    #[arg(long, env = "TWIML_EDGE_WALL_MS", default_value_t = DEFAULT_WALL_TIME.as_millis() as u64,
        value_parser = in_range::<u64>(1, 14_000))]
    wall_ms: u64,
    /// Outbound HTTP requests one function call may send.
    #[arg(long, env = "TWIML_EDGE_MAX_REQUESTS_PER_CALL", default_value_t = OutboundLimits::default().max_requests,
        value_parser = in_range::<u32>(0, 1000))]
    max_requests_per_call: u32,
    /// KiB of response bodies one function call may receive, all its requests together.
    #[arg(long, env = "TWIML_EDGE_MAX_RESPONSE_KIB", default_value_t = OutboundLimits::default().max_response_bytes >> 10,
        value_parser = in_range::<usize>(1, 64 << 10))]
    max_response_kib: usize,
    /// Milliseconds one outbound request may take, its response body included.
    #[arg(long, env = "TWIML_EDGE_REQUEST_TIMEOUT_MS", default_value_t = OutboundLimits::default().timeout.as_millis() as u64,
        value_parser = in_range::<u64>(1, 14_000))]
    request_timeout_ms: u64,
    /// A host the folder's functions may send requests to, in Spin's form
    /// (https://api.example.com, https://*.example.com:8443, http://127.0.0.1:8081); repeat it
    /// for more. Loopback and private addresses are reached only when listed.
    #[arg(
        long = "allow-host",
        env = "TWIML_EDGE_ALLOW_HOSTS",
        value_delimiter = ','
    )]
    allow_hosts: Vec<String>,
}

/// A clap parser of a number from `min` to `max`, saying the range when refused.
fn in_range<T>(min: T, max: T) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy + Send + Sync + 'static,
{
    move |text: &str| {
        text.parse::<T>()
            .ok()
            .filter(|n| *n >= min && *n <= max)
            .ok_or_else(|| format!("{text:?} is not a whole number from {min} to {max}"))
    }
}

impl Cli {
    /// Runs the chosen command to completion.
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Serve(args) => serve(args).await,
            Command::Account(command) => account(command),
            Command::New(args) => guest::new(args),
            Command::Build(args) => tokio::task::spawn_blocking(move || guest::build(args)).await?,
            Command::Dev(args) => dev::dev(args).await,
            Command::Deploy(args) => guest::deploy(args).await,
            Command::Call(args) => call::call(args).await,
            Command::Logs(args) => guest::logs(args).await,
            Command::Componentize { input, output } => {
                let wasm =
                    std::fs::read(&input).with_context(|| format!("failed to read {input:?}"))?;
                let component = componentize(&wasm)
                    .with_context(|| format!("{input:?} cannot become a component"))?;
                std::fs::write(&output, component)
                    .with_context(|| format!("failed to write {output:?}"))?;
                Ok(())
            }
        }
    }
}

/// The configuration `serve` runs with: every flag, in the units `Config` counts in.
fn config(args: &ServeArgs) -> Config {
    Config {
        templates: args.templates.clone(),
        functions: args.functions.clone(),
        limits: Limits {
            memory: args.memory_mib << 20,
            cpu_time: Duration::from_millis(args.cpu_ms),
            stack: args.stack_kib << 10,
            max_concurrent_calls: args.max_concurrent_calls,
            max_concurrent_compiles: args.max_concurrent_compiles,
            compile_timeout: Duration::from_secs(args.compile_timeout_secs),
            allocator: args.allocator,
            wall_time: Duration::from_millis(args.wall_ms),
            ..Limits::default()
        },
        data: args.data.clone(),
        default_region: args.default_region,
        max_body_bytes: args.max_body_bytes,
        max_twiml_bytes: args.max_twiml_bytes,
        max_upload_bytes: args.max_upload_bytes,
        public_url: args
            .public_url
            .as_ref()
            .map(|u| u.as_str().trim_end_matches('/').to_owned()),
        enhanced_sip: args.enhanced_sip,
        twiml_warnings_only: args.twiml_warnings_only,
        max_calls_per_account: args.max_calls_per_account,
        quotas: Quotas {
            functions: args.max_functions_per_account,
            versions_per_function: args.max_versions_per_function,
            stored_bytes: args.max_stored_mib_per_account << 20,
            bins: args.max_bins_per_account,
            domains: args.max_domains_per_account,
            variables_per_function: args.max_variables_per_function,
            kv_bytes: args.max_state_mib_per_account << 20,
            kv_buckets: args.max_buckets_per_account,
        },
        max_connections: args.max_connections,
        header_timeout: Duration::from_secs(args.header_timeout_secs),
        write_timeout: Duration::from_secs(args.write_timeout_secs),
        outbound: OutboundLimits {
            max_requests: args.max_requests_per_call,
            max_response_bytes: args.max_response_kib << 10,
            timeout: Duration::from_millis(args.request_timeout_ms),
            ..OutboundLimits::default()
        },
        allowed_hosts: args.allow_hosts.clone(),
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = config(&args);
    let app = App::new(config)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("failed to listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let folders = app.folders();
    let bins: Vec<_> = folders.bins.names().collect();
    let functions: Vec<_> = folders.functions.names().collect();
    tracing::info!(%addr, ?bins, ?functions, "serving");
    // A person starting the server wants the URL; logs may be filtered or sent elsewhere.
    println!("twiml-edge listening on http://{addr}");
    server::serve(listener, app, server::shutdown_signal()).await?;
    Ok(())
}

fn account(command: AccountCommand) -> anyhow::Result<()> {
    let open = |data: &std::path::Path| {
        twiml_edge_store::SqliteStore::open(data)
            .with_context(|| format!("failed to open the store in {data:?}"))
    };
    match command {
        AccountCommand::Create {
            friendly_name,
            sid,
            auth_token,
            validate_signatures,
            data,
        } => {
            let store = open(&data)?;
            let account = match (sid, auth_token) {
                (Some(sid), Some(token)) => {
                    check_hex("--sid", &sid, Some("AC"))?;
                    check_hex("--auth-token", &token, None)?;
                    store.import_account(&sid, &token, &friendly_name)?
                }
                _ => store.create_account(&friendly_name)?,
            };
            let account = if validate_signatures {
                account
            } else {
                let update = twiml_edge_store::AccountUpdate {
                    validate_signatures: Some(false),
                    ..Default::default()
                };
                store
                    .update_account(&account.sid, &update)?
                    .context("the account vanished while it was created")?
            };
            println!("AccountSid: {}", account.sid);
            println!("AuthToken:  {}", account.auth_token);
            if !account.validate_signatures {
                println!("Webhook signatures are not checked for this account.");
            }
            Ok(())
        }
        AccountCommand::List { data } => {
            for account in open(&data)?.accounts()? {
                println!("{}  {}", account.sid, account.friendly_name);
            }
            Ok(())
        }
    }
}

/// `AC` + 32 hex (a sid) or 32 hex (a token), as Twilio issues them.
fn check_hex(flag: &str, value: &str, prefix: Option<&str>) -> anyhow::Result<()> {
    let hex = prefix.map_or(Some(value), |p| value.strip_prefix(p));
    let valid = hex.is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    if !valid {
        anyhow::bail!(
            "{flag} {value:?} must be {}32 hex digits",
            prefix.map(|p| format!("{p} + ")).unwrap_or_default()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    /// Every `serve` flag, each with a value other than its default.
    const SERVE_FLAGS: &[(&str, &str)] = &[
        ("--listen", "127.0.0.1:9"),
        ("--templates", "/t"),
        ("--functions", "/f"),
        ("--data", "/d"),
        ("--default-region", "GB"),
        ("--public-url", "https://edge.example.com/"),
        ("--max-upload-bytes", "2048"),
        ("--max-body-bytes", "4096"),
        ("--max-twiml-bytes", "8192"),
        ("--memory-mib", "3"),
        ("--cpu-ms", "7"),
        ("--stack-kib", "96"),
        ("--enhanced-sip", ""),
        ("--twiml-warnings-only", ""),
        ("--max-concurrent-calls", "11"),
        ("--max-calls-per-account", "5"),
        ("--max-connections", "13"),
        ("--header-timeout-secs", "17"),
        ("--write-timeout-secs", "19"),
        ("--max-concurrent-compiles", "3"),
        ("--allocator", "on-demand"),
        ("--compile-timeout-secs", "23"),
        ("--max-functions-per-account", "29"),
        ("--max-versions-per-function", "31"),
        ("--max-stored-mib-per-account", "37"),
        ("--max-bins-per-account", "41"),
        ("--max-domains-per-account", "43"),
        ("--max-variables-per-function", "47"),
        ("--max-state-mib-per-account", "53"),
        ("--max-buckets-per-account", "59"),
        ("--wall-ms", "61"),
        ("--max-requests-per-call", "67"),
        ("--max-response-kib", "71"),
        ("--request-timeout-ms", "73"),
        ("--allow-host", "https://api.example.com"),
    ];

    fn serve_args(flags: &[(&str, &str)]) -> ServeArgs {
        let mut argv = vec!["twiml-edge", "serve"];
        for (flag, value) in flags {
            argv.push(flag);
            if !value.is_empty() {
                argv.push(value);
            }
        }
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Serve(args) => args,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_serve_flag_reaches_the_configuration_in_its_units() {
        let serve = Cli::command();
        let serve = serve.find_subcommand("serve").unwrap();
        let flags: Vec<String> = serve
            .get_arguments()
            .filter_map(|a| a.get_long())
            .map(|l| format!("--{l}"))
            .collect();
        let tested: Vec<String> = SERVE_FLAGS.iter().map(|(f, _)| f.to_string()).collect();
        assert_eq!(
            flags, tested,
            "a serve flag without a case here, or a case for none"
        );

        let args = serve_args(SERVE_FLAGS);
        assert_eq!(args.listen, "127.0.0.1:9".parse().unwrap());
        // Written out whole, so a new field of Config must be added here too.
        let expected = Config {
            templates: "/t".into(),
            functions: "/f".into(),
            limits: Limits {
                memory: 3 << 20,
                cpu_time: Duration::from_millis(7),
                stack: 96 << 10,
                max_concurrent_calls: 11,
                inline_time: twiml_edge_sandbox::DEFAULT_INLINE_TIME,
                max_concurrent_compiles: 3,
                compile_timeout: Duration::from_secs(23),
                allocator: Allocator::OnDemand,
                wall_time: Duration::from_millis(61),
            },
            data: "/d".into(),
            default_region: "GB".parse().unwrap(),
            max_body_bytes: 4096,
            max_upload_bytes: 2048,
            max_twiml_bytes: 8192,
            enhanced_sip: true,
            twiml_warnings_only: true,
            public_url: Some("https://edge.example.com".to_owned()),
            max_calls_per_account: Some(5),
            quotas: Quotas {
                functions: 29,
                versions_per_function: 31,
                stored_bytes: 37 << 20,
                bins: 41,
                domains: 43,
                variables_per_function: 47,
                kv_bytes: 53 << 20,
                kv_buckets: 59,
            },
            max_connections: 13,
            header_timeout: Duration::from_secs(17),
            write_timeout: Duration::from_secs(19),
            outbound: OutboundLimits {
                max_requests: 67,
                max_response_bytes: 71 << 10,
                max_request_bytes: OutboundLimits::default().max_request_bytes,
                timeout: Duration::from_millis(73),
            },
            allowed_hosts: vec!["https://api.example.com".to_owned()],
        };
        assert_eq!(format!("{:?}", config(&args)), format!("{expected:?}"));
    }

    #[test]
    fn serve_without_flags_takes_the_documented_defaults() {
        let defaults = Config {
            templates: DEFAULT_TEMPLATES_DIR.into(),
            functions: DEFAULT_FUNCTIONS_DIR.into(),
            data: DEFAULT_DATA_DIR.into(),
            ..Config::default()
        };
        let args = serve_args(&[]);
        assert_eq!(args.listen, DEFAULT_LISTEN.parse().unwrap());
        assert_eq!(format!("{:?}", config(&args)), format!("{defaults:?}"));
    }

    #[test]
    fn an_unknown_allocator_is_refused_with_the_choices() {
        let err = Cli::try_parse_from(["twiml-edge", "serve", "--allocator", "mmap"]).unwrap_err();
        assert!(
            err.to_string()
                .contains("\"mmap\" is not an allocator: use auto, pooling or on-demand"),
            "{err}"
        );
    }
}
