//! The runtime's public error type and its HTTP form.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode, header};
use serde::Serialize;

use twiml_edge_sandbox::Failure;

/// Result with the runtime's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while serving a webhook or starting the runtime.
///
/// Each webhook variant maps to one HTTP status and a stable `code` in the JSON error body, so the
/// SIP engine's logs and a developer's terminal show the same reason.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request cannot be read (bad percent-encoding, invalid UTF-8, ...).
    #[error("{0}")]
    BadRequest(String),
    /// Nothing is served at this path.
    #[error("{0}")]
    NotFound(String),
    /// The path exists but not for this method.
    #[error("method {method} is not allowed here: use {allow}")]
    MethodNotAllowed {
        /// The method the request used.
        method: String,
        /// The methods the path accepts, comma-separated (the `Allow` header).
        allow: &'static str,
    },
    /// The body is larger than the configured limit.
    #[error("the request body is over the {limit}-byte limit: send fewer or shorter parameters")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The request did not arrive in time.
    #[error("{0}")]
    Timeout(String),
    /// The body is not form-encoded.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A template failed while rendering.
    #[error("{0}")]
    Render(String),
    /// A voice function produced no answer.
    #[error("function {name:?} {failure}")]
    Function {
        /// The function's name.
        name: String,
        /// What went wrong.
        failure: twiml_edge_sandbox::Failure,
    },
    /// The account already runs as many function calls as its share of the server allows.
    #[error(
        "the account already runs {limit} function calls at once, its share of this server \
         (--max-calls-per-account): try again"
    )]
    AccountBusy {
        /// Calls one account may run at once.
        limit: u32,
    },
    /// The answer is not TwiML the SIP engine would accept.
    #[error("the answer is not TwiML the SIP engine accepts: {0}")]
    InvalidTwiml(twiml_edge_twiml::Finding),
    /// The webhook is not signed by the account that owns its target, or targets nothing.
    #[error("{0}")]
    Forbidden(String),
    /// A SIP domain's voice_url (or fallback) names nothing this runtime serves for its
    /// account: the request was fine, the domain's configuration is not.
    #[error("{0}")]
    Unroutable(String),
    /// A SIP domain's voice_url failed and so did its voice_fallback_url.
    #[error("the voice_url failed ({primary}) and so did the voice_fallback_url ({fallback})")]
    Fallback {
        /// Why the voice_url failed.
        primary: Box<Error>,
        /// Why the voice_fallback_url failed.
        fallback: Box<Error>,
    },
    /// The runtime could not start: bad configuration, a template that does not parse, ...
    #[error("{0}")]
    Config(String),
    /// An unexpected failure inside the runtime.
    #[error("internal error: {0}")]
    Internal(String),
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: String,
    status: u16,
    /// For refused TwiML: the rule broken and its line, so a tool can point at it.
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
}

impl From<twiml_edge_bins::Error> for Error {
    fn from(err: twiml_edge_bins::Error) -> Self {
        match err {
            twiml_edge_bins::Error::Refused(message) => Self::Config(message),
            twiml_edge_bins::Error::Render(message) => Self::Render(message),
            twiml_edge_bins::Error::NotFound(message) => Self::NotFound(message),
        }
    }
}

impl Error {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Unroutable(_) => StatusCode::BAD_GATEWAY,
            Self::AccountBusy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Fallback { primary, .. } => primary.status(),
            Self::Function { failure, .. } => match failure {
                Failure::BadRequest(_) => StatusCode::BAD_REQUEST,
                Failure::Busy => StatusCode::SERVICE_UNAVAILABLE,
                Failure::WallClock(_) => StatusCode::GATEWAY_TIMEOUT,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            Self::Render(_) | Self::InvalidTwiml(_) | Self::Config(_) | Self::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// The stable machine-readable code of the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Forbidden(_) => "forbidden",
            Self::Timeout(_) => "request_timeout",
            Self::Unroutable(_) => "no_target",
            Self::AccountBusy { .. } => "busy",
            Self::Fallback { .. } => "fallback_failed",
            Self::Function { failure, .. } => match failure {
                Failure::Deadline(_) => "function_deadline",
                Failure::WallClock(_) => "function_timeout",
                Failure::Memory(_) => "function_memory_limit",
                Failure::StackOverflow => "function_stack_overflow",
                Failure::Trap(_) => "function_trap",
                Failure::BadRequest(_) => "function_bad_request",
                Failure::Internal(_) => "function_error",
                Failure::Busy => "busy",
            },
            Self::Render(_) => "template_failed",
            Self::InvalidTwiml(finding) if finding.rule == "too-large" => "twiml_too_large",
            Self::InvalidTwiml(_) => "invalid_twiml",
            Self::Config(_) => "config",
            Self::Internal(_) => "internal",
        }
    }

    /// The `ErrorCode` the SIP engine reports to a fallback for this failure: 11200 when no
    /// TwiML could be had, 12100 when it did not parse, 12200 when it broke the schema, 11750
    /// when it was too large.
    pub fn twilio_code(&self) -> u32 {
        match self {
            Self::InvalidTwiml(finding) => finding.error_code(),
            Self::Fallback { primary, .. } => primary.twilio_code(),
            _ => 11200,
        }
    }

    /// The error as a JSON HTTP response: `{"code", "message", "status"}`.
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let status = self.status();
        let finding = match &self {
            Self::InvalidTwiml(finding) => Some(finding),
            _ => None,
        };
        let body = serde_json::to_vec(&Body {
            code: self.code(),
            message: self.to_string(),
            status: status.as_u16(),
            rule: finding.map(|f| f.rule),
            line: finding.map(|f| f.line),
        })
        .expect("error bodies always serialize");
        let mut response = Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/json");
        if let Self::MethodNotAllowed { allow, .. } = self {
            response = response.header(header::ALLOW, allow);
        }
        response
            .body(Full::new(Bytes::from(body)))
            .expect("static headers are valid")
    }
}
