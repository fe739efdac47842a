//! What the runtime serves and the limits it serves it with.

use std::path::PathBuf;

use twiml_edge_e164::Region;
use twiml_edge_outbound::Limits as OutboundLimits;
use twiml_edge_sandbox::Limits;
use twiml_edge_store::Quotas;
use twiml_edge_twiml::DEFAULT_MAX_TWIML_BYTES;

use crate::{DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_UPLOAD_BYTES};

/// What the runtime serves and the limits it serves it with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Folder of TwiML Bin templates (`NAME.xml`, served at `/bins/NAME`).
    pub templates: PathBuf,
    /// Folder of voice functions (`NAME.wasm`, served at `/functions/NAME`).
    pub functions: PathBuf,
    /// Per-call limits of voice functions.
    pub limits: Limits,
    /// Home of the embedded store and the compiled-code cache.
    pub data: PathBuf,
    /// Region for reading national numbers in `e164`.
    pub default_region: Region,
    /// Largest webhook body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest function upload accepted, in bytes.
    pub max_upload_bytes: usize,
    /// Largest TwiML answer returned, in bytes.
    pub max_twiml_bytes: usize,
    /// Whether the folders' bins and functions may use enhanced SIP (several nouns next to a
    /// `<Sip>` in one `<Dial>`).
    pub enhanced_sip: bool,
    /// Log TwiML schema findings of the folders' bins and functions instead of failing them.
    pub twiml_warnings_only: bool,
    /// The URL the SIP engine calls this server at (`https://edge.example.com`), when a proxy
    /// in front changes scheme or host; signatures are checked against it.
    pub public_url: Option<String>,
    /// Function calls one account may run at once; `None` is a quarter of
    /// `limits.max_concurrent_calls`, so no account can take every slot.
    pub max_calls_per_account: Option<u32>,
    /// What each account may keep.
    pub quotas: Quotas,
    /// Open connections held at once; the server waits for one to close before taking more.
    pub max_connections: usize,
    /// How long a connection may take to send a request's headers, or idle between requests.
    pub header_timeout: std::time::Duration,
    /// How long a write to a client may wait for the client to read before the connection is
    /// closed.
    pub write_timeout: std::time::Duration,
    /// Per-call limits of functions' outbound requests (count, bytes, timeout).
    pub outbound: OutboundLimits,
    /// Hosts the folders' functions may send requests to (`https://api.example.com`,
    /// `https://*.example.com:8443`); accounts' functions list their own.
    pub allowed_hosts: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            templates: PathBuf::from(crate::DEFAULT_TEMPLATES_DIR),
            functions: PathBuf::from(crate::DEFAULT_FUNCTIONS_DIR),
            limits: Limits::default(),
            data: PathBuf::from(crate::DEFAULT_DATA_DIR),
            default_region: Region::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            max_twiml_bytes: DEFAULT_MAX_TWIML_BYTES,
            enhanced_sip: false,
            twiml_warnings_only: false,
            public_url: None,
            max_calls_per_account: None,
            quotas: Quotas::default(),
            max_connections: crate::DEFAULT_MAX_CONNECTIONS,
            header_timeout: crate::DEFAULT_HEADER_TIMEOUT,
            write_timeout: crate::DEFAULT_WRITE_TIMEOUT,
            outbound: OutboundLimits::default(),
            allowed_hosts: Vec::new(),
        }
    }
}

impl Config {
    /// Function calls one account may run at once.
    pub fn calls_per_account(&self) -> u32 {
        self.max_calls_per_account
            .unwrap_or(self.limits.max_concurrent_calls / 4)
            .clamp(1, self.limits.max_concurrent_calls.max(1))
    }
}
