//! The HTTP service: request -> webhook -> route -> function or bin -> TwiML -> response.
//!
//! [`App::handle`] takes any request body, so tests call it without a socket; `server` feeds it
//! real connections.

use std::{path::PathBuf, sync::Arc, time::Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::{
    Method, Request, Response, StatusCode,
    body::Body,
    header::{CONTENT_LENGTH, CONTENT_TYPE},
};
use tracing::{Instrument, field::Empty};

use crate::{
    DEFAULT_MAX_BODY_BYTES,
    bins::Bins,
    e164::Region,
    error::{Error, Result},
    functions::Functions,
    sandbox::{Limits, Sandbox},
    twiml::{self, DEFAULT_MAX_TWIML_BYTES, Policy, Rules},
    webhook::{self, Webhook},
};

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
    /// Largest TwiML answer returned, in bytes.
    pub max_twiml_bytes: usize,
    /// Whether the folder's bins and functions may use enhanced SIP (several nouns next to a
    /// `<Sip>` in one `<Dial>`).
    pub enhanced_sip: bool,
    /// Log TwiML schema findings of the folder's bins and functions instead of failing them.
    pub twiml_warnings_only: bool,
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
            max_twiml_bytes: DEFAULT_MAX_TWIML_BYTES,
            enhanced_sip: false,
            twiml_warnings_only: false,
        }
    }
}

/// The runtime's HTTP service. Cheap to clone: clones share one compiled state.
#[derive(Debug, Clone)]
pub struct App {
    state: Arc<State>,
}

#[derive(Debug)]
struct State {
    config: Config,
    bins: Bins,
    sandbox: Sandbox,
    functions: Functions,
}

/// Where a request path leads.
#[derive(Debug, PartialEq, Eq)]
enum Route<'a> {
    Bin(&'a str),
    Function(&'a str),
    Health,
}

const WEBHOOK_METHODS: &str = "GET, POST";

impl App {
    /// Compiles everything `config` names; fails on the first template or function refused.
    pub fn new(config: Config) -> Result<Self> {
        let bins = Bins::load_dir(&config.templates, config.default_region)?;
        let sandbox = Sandbox::new(config.limits, Some(config.data.join("compiled")))
            .map_err(|e| Error::Config(format!("cannot start the sandbox: {e:#}")))?;
        let functions = Functions::load_dir(&sandbox, &config.functions)?;
        Ok(Self {
            state: Arc::new(State {
                config,
                bins,
                sandbox,
                functions,
            }),
        })
    }

    /// The compiled TwiML Bins.
    pub fn bins(&self) -> &Bins {
        &self.state.bins
    }

    /// The compiled voice functions.
    pub fn functions(&self) -> &Functions {
        &self.state.functions
    }

    /// The sandbox functions run in.
    pub fn sandbox(&self) -> &Sandbox {
        &self.state.sandbox
    }

    /// Answers one HTTP request; never fails: errors become JSON responses.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let started = Instant::now();
        let span = tracing::info_span!(
            "webhook",
            method = %request.method(),
            path = request.uri().path(),
            call_sid = Empty,
            sip_domain = Empty,
            bin = Empty,
            function = Empty,
            status = Empty,
            elapsed_us = Empty,
        );
        let response = self
            .respond(request)
            .instrument(span.clone())
            .await
            .unwrap_or_else(|err| {
                span.in_scope(|| log_error(&err));
                err.into_response()
            });
        span.record("status", response.status().as_u16());
        span.record("elapsed_us", started.elapsed().as_micros() as u64);
        span.in_scope(|| tracing::info!("answered"));
        response
    }

    async fn respond<B>(&self, request: Request<B>) -> Result<Response<Full<Bytes>>>
    where
        B: Body,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let (parts, body) = request.into_parts();
        let route = route(parts.uri.path())?;
        if route == Route::Health {
            return Ok(text_response("text/plain; charset=utf-8", "ok\n".into()));
        }
        if parts.method != Method::GET && parts.method != Method::POST {
            return Err(Error::MethodNotAllowed {
                method: parts.method.to_string(),
                allow: WEBHOOK_METHODS,
            });
        }
        let body = if parts.method == Method::POST {
            self.read_body(&parts, body).await?
        } else {
            Bytes::new()
        };
        let webhook = webhook::from_request(&parts, &body)?;
        record_call(&webhook);
        let answer = match route {
            Route::Bin(name) => {
                tracing::Span::current().record("bin", name);
                self.state.bins.render(name, &webhook)?
            }
            Route::Function(name) => {
                tracing::Span::current().record("function", name);
                let function = self.state.functions.get(name)?;
                self.state
                    .sandbox
                    .call(function, &webhook, self.state.config.default_region)
                    .await
                    .answer
                    .map_err(|failure| Error::Function {
                        name: name.to_owned(),
                        failure,
                    })?
            }
            Route::Health => unreachable!("answered above"),
        };
        let config = &self.state.config;
        let policy = Policy {
            rules: Rules {
                enhanced_sip: config.enhanced_sip,
                max_bytes: config.max_twiml_bytes,
            },
            warnings_only: config.twiml_warnings_only,
        };
        let document = twiml::document(&answer, &policy).map_err(Error::InvalidTwiml)?;
        for warning in &document.warnings {
            tracing::warn!(
                rule = warning.rule,
                line = warning.line,
                "TwiML schema warning: {}",
                warning.message
            );
        }
        Ok(text_response("text/xml; charset=utf-8", document.text))
    }

    async fn read_body<B>(&self, parts: &hyper::http::request::Parts, body: B) -> Result<Bytes>
    where
        B: Body,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let limit = self.state.config.max_body_bytes;
        let too_large = || Error::PayloadTooLarge { limit };
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > limit as u64) {
            return Err(too_large());
        }
        match Limited::new(body, limit).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(err) if err.is::<LengthLimitError>() => Err(too_large()),
            Err(err) => Err(Error::BadRequest(format!(
                "the request body could not be read: {err}"
            ))),
        }
    }
}

fn route(path: &str) -> Result<Route<'_>> {
    if path == "/healthz" {
        return Ok(Route::Health);
    }
    let segment = |prefix| {
        path.strip_prefix(prefix)
            .filter(|name: &&str| !name.is_empty() && !name.contains('/'))
    };
    if let Some(name) = segment("/bins/") {
        Ok(Route::Bin(name))
    } else if let Some(name) = segment("/functions/") {
        Ok(Route::Function(name))
    } else {
        Err(Error::NotFound(format!(
            "nothing is served at {path:?}: TwiML Bins answer at /bins/NAME, functions at \
             /functions/NAME"
        )))
    }
}

fn record_call(webhook: &Webhook) {
    let span = tracing::Span::current();
    if let Some(call_sid) = webhook.call_sid() {
        span.record("call_sid", call_sid);
    }
    if let Some(domain) = webhook.sip_domain() {
        span.record("sip_domain", domain);
    }
}

fn log_error(err: &Error) {
    if err.status().is_server_error() {
        tracing::error!(code = err.code(), "{err}");
    } else {
        tracing::warn!(code = err.code(), "{err}");
    }
}

fn text_response(content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("static headers are valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(templates: &[(&str, &str)]) -> App {
        let mut bins = Bins::new(Region::default());
        for (name, source) in templates {
            bins.add(name, source, name).unwrap();
        }
        let config = Config::default();
        App {
            state: Arc::new(State {
                sandbox: Sandbox::new(config.limits, None).unwrap(),
                functions: Functions::default(),
                config,
                bins,
            }),
        }
    }

    async fn call(app: &App, request: Request<Full<Bytes>>) -> (StatusCode, String) {
        let response = app.handle(request).await;
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    fn post(uri: &str, body: &'static str) -> Request<Full<Bytes>> {
        Request::post(uri)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap()
    }

    #[tokio::test]
    async fn renders_a_bin_without_a_socket() {
        let app = app(&[("hello", "<Response><Say>{{Name}}</Say></Response>")]);
        let (status, body) = call(&app, post("/bins/hello?Name=Jane", "")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            format!(
                "{}<Response><Say>Jane</Say></Response>",
                twiml::XML_DECLARATION
            )
        );
    }

    #[tokio::test]
    async fn errors_are_json_with_status_and_code() {
        let app = app(&[("hello", "<Response/>")]);
        let (status, body) = call(&app, post("/bins/missing", "")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["code"], "not_found");
        assert_eq!(json["status"], 404);
        let request = Request::put("/bins/hello")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = app.handle(request).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()["allow"], WEBHOOK_METHODS);
    }

    #[test]
    fn routes() {
        assert_eq!(route("/bins/a-b_c").unwrap(), Route::Bin("a-b_c"));
        assert_eq!(route("/functions/f").unwrap(), Route::Function("f"));
        assert_eq!(route("/healthz").unwrap(), Route::Health);
        for path in ["/", "/bins/", "/bins/a/b", "/other"] {
            assert!(route(path).is_err(), "{path}");
        }
    }
}
