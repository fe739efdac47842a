//! The HTTP service: request -> webhook -> route -> function or bin -> TwiML check -> response.
//!
//! Three kinds of request arrive: webhooks for the operator's own folders (`/bins/NAME`,
//! `/functions/NAME`), signed webhooks for accounts' content (`/voice/...`, see `voice`), and
//! the management API (`/2010-04-01/...`, see `api`). [`App::handle`] takes any request body,
//! so tests call it without a socket; `server` feeds it real connections.

use std::{
    sync::{Arc, PoisonError, RwLock},
    time::Instant,
};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, Response, body::Body};
use tracing::{Instrument, field::Empty};
use twiml_edge_bins::Renderer;
use twiml_edge_sandbox::{CodeCache, Sandbox, Services};
use twiml_edge_store::{FileCache, SqliteStore};
use twiml_edge_twiml::{self, Policy, Rules};

use crate::{
    api::Api,
    body::{self, BodyError},
    calls::CallLog,
    config::Config,
    error::{Error, Result},
    folders::{Folders, load_bins},
    host::{CompiledCode, PhoneNumbers},
    http::{PublicUrl, checked, text_response, twiml_response},
    reach::OutboundPolicy,
    tenants::Tenants,
    voice::{Entry, Voice},
    webhook::{self, Webhook},
};

/// The runtime's HTTP service. Cheap to clone: clones share one compiled state.
#[derive(Debug, Clone)]
pub struct App {
    pub(crate) state: Arc<State>,
}

#[derive(Debug)]
pub(crate) struct State {
    config: Config,
    /// What calls may ask of the world outside the sandbox.
    services: Arc<dyn Services>,
    /// The operator's folders, replaced whole by [`App::reload_folders`].
    folders: RwLock<Arc<Folders>>,
    /// The accounts' content, and the sandbox their functions and the folders' run in.
    tenants: Arc<Tenants>,
    /// Accounts' webhooks.
    voice: Voice,
    /// The management API.
    api: Api,
}

/// Where a request path leads.
#[derive(Debug, PartialEq, Eq)]
enum Route<'a> {
    Health,
    Bin(&'a str),
    Function(&'a str),
    Account(Entry<'a>),
    Api,
}

const WEBHOOK_METHODS: &str = "GET, POST";
/// How long a webhook's body may take to arrive: the engine gives up on the whole exchange
/// after 15 s.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

impl App {
    /// Compiles the folders and everything the store under `config.data` holds; fails on the
    /// first folder template or function refused.
    pub fn new(config: Config) -> Result<Self> {
        // Templates first: a broken one is refused before anything is created on disk.
        let bins = load_bins(&config.templates, renderer(&config))?;
        // The store first: it makes the data folder, private, before the cache goes inside it.
        let store = SqliteStore::open(&config.data).map_err(|e| {
            Error::Config(format!("cannot open the store in {:?}: {e}", config.data))
        })?;
        let store = Arc::new(store.with_quotas(config.quotas));
        let compiled = config.data.join("compiled");
        let cache = FileCache::open(&compiled).map_err(|e| {
            Error::Config(format!(
                "cannot open the compiled-code cache {compiled:?}: {e}"
            ))
        })?;
        let cache: Arc<dyn CodeCache> = Arc::new(CompiledCode(cache));
        let sandbox = Sandbox::new(config.limits, Some(cache))
            .map_err(|e| Error::Config(format!("cannot start the sandbox: {e:#}")))?;
        let sandbox = Arc::new(sandbox);
        twiml_edge_outbound::AllowList::parse(&config.allowed_hosts)
            .map_err(|e| Error::Config(format!("allowed hosts: {e}")))?;
        let client = twiml_edge_outbound::Client::new()
            .map_err(|e| Error::Config(format!("cannot start the outbound HTTP client: {e}")))?;
        let outbound = OutboundPolicy {
            client: Arc::new(client),
            limits: config.outbound,
        };
        let folders = Folders::load_with(bins, &config, &sandbox, &outbound)?;
        let tenants = Tenants::load(
            store.clone(),
            sandbox,
            config.default_region,
            config.calls_per_account(),
            outbound,
        )
        .map_err(|e| Error::Config(format!("cannot load the store: {e:#}")))?;
        let tenants = Arc::new(tenants);
        tenants.pin_compiled(folders.functions.all().map(|f| f.digest().to_owned()));
        let services: Arc<dyn Services> = Arc::new(PhoneNumbers(config.default_region));
        let public_url = PublicUrl(config.public_url.clone());
        let voice = Voice {
            tenants: tenants.clone(),
            services: services.clone(),
            calls: CallLog::start(store),
            public_url: public_url.clone(),
        };
        let api = Api {
            tenants: tenants.clone(),
            public_url,
            max_upload: config.max_upload_bytes,
        };
        Ok(Self {
            state: Arc::new(State {
                config,
                services,
                folders: RwLock::new(Arc::new(folders)),
                tenants,
                voice,
                api,
            }),
        })
    }

    /// The compiled content of the templates and functions folders, as now served.
    pub fn folders(&self) -> Arc<Folders> {
        self.state
            .folders
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Compiles the folders again and serves the result; when anything is refused, the
    /// folders already served stay as they were. Requests under way finish on what they
    /// started with.
    pub fn reload_folders(&self) -> Result<()> {
        let folders = Folders::load(
            &self.state.config,
            renderer(&self.state.config),
            self.sandbox(),
            self.state.tenants.outbound(),
        )?;
        self.state
            .tenants
            .pin_compiled(folders.functions.all().map(|f| f.digest().to_owned()));
        *self
            .state
            .folders
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(folders);
        Ok(())
    }

    /// The sandbox functions run in.
    pub fn sandbox(&self) -> &Arc<Sandbox> {
        self.state.tenants.sandbox()
    }

    /// What the runtime serves and the limits it serves it with.
    pub fn config(&self) -> &Config {
        &self.state.config
    }

    /// Answers one HTTP request; never fails: errors become JSON responses.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let started = Instant::now();
        // Cheap clones (a static method, a shared buffer) for the request's last lines.
        let (method, uri) = (request.method().clone(), request.uri().clone());
        // At debug only: an enabled span costs its fields' formatting on every request (12% of
        // the function path under wrk), and the default level writes no per-request line.
        let span = tracing::debug_span!(
            "request",
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
                span.in_scope(|| log_error(&err, &method, uri.path()));
                err.into_response()
            });
        let (status, elapsed_us) = (
            response.status().as_u16(),
            started.elapsed().as_micros() as u64,
        );
        span.record("status", status);
        span.record("elapsed_us", elapsed_us);
        // One line per request only when asked for (TWIML_EDGE_LOG=debug): at the default level
        // a busy server would spend its time writing them. `dev` prints it for a person.
        span.in_scope(|| {
            tracing::debug!(method = %method, path = uri.path(), status, elapsed_us, "answered");
        });
        response
    }

    async fn respond<B>(&self, request: Request<B>) -> Result<Response<Full<Bytes>>>
    where
        B: Body,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let (parts, body) = request.into_parts();
        let route = route(parts.uri.path())?;
        match route {
            Route::Health => {
                return Ok(text_response("text/plain; charset=utf-8", "ok\n".into()));
            }
            Route::Api => {
                return Ok(self.state.api.handle(parts, body).await);
            }
            _ => {}
        }
        if parts.method != Method::GET && parts.method != Method::POST {
            return Err(Error::MethodNotAllowed {
                method: parts.method.to_string(),
                allow: WEBHOOK_METHODS,
            });
        }
        let body = if parts.method == Method::POST {
            let limit = self.state.config.max_body_bytes;
            body::read(&parts, body, limit, BODY_TIMEOUT)
                .await
                .map_err(|err| match err {
                    BodyError::TooLarge(limit) => Error::PayloadTooLarge { limit },
                    BodyError::Timeout(timeout) => Error::Timeout(format!(
                        "the request body did not arrive within {} s",
                        timeout.as_secs()
                    )),
                    BodyError::Unreadable(why) => {
                        Error::BadRequest(format!("the request body could not be read: {why}"))
                    }
                })?
        } else {
            Bytes::new()
        };
        let webhook = webhook::from_request(&parts, &body)?;
        record_call(&webhook);
        let span = tracing::Span::current();
        let answer = match route {
            Route::Account(entry) => {
                return self
                    .state
                    .voice
                    .account_webhook(entry, &parts, &body, webhook)
                    .await;
            }
            Route::Bin(name) => {
                span.record("bin", name);
                self.folders().bins.render(name, &webhook)?
            }
            Route::Function(name) => {
                span.record("function", name);
                let folders = self.folders();
                let function = folders.functions.get(name)?.clone();
                let context = folders.reach(name).context(&self.state.services, None);
                self.sandbox()
                    .call(&function, &webhook, &context)
                    .await
                    .answer
                    .map_err(|failure| Error::Function {
                        name: name.to_owned(),
                        failure,
                    })?
            }
            Route::Health | Route::Api => unreachable!("answered above"),
        };
        let config = &self.state.config;
        let policy = Policy {
            rules: Rules {
                enhanced_sip: config.enhanced_sip,
                max_bytes: config.max_twiml_bytes,
            },
            warnings_only: config.twiml_warnings_only,
        };
        let document = checked(&answer, &policy)?;
        Ok(twiml_response(document.text, None))
    }
}

/// What renders the folders' bins: the configured region and TwiML size.
pub(crate) fn renderer(config: &Config) -> Arc<Renderer> {
    Arc::new(Renderer::new(config.default_region, config.max_twiml_bytes))
}

fn route(path: &str) -> Result<Route<'_>> {
    if path == "/healthz" {
        return Ok(Route::Health);
    }
    if path.starts_with(crate::api::API_PREFIX) {
        return Ok(Route::Api);
    }
    let segment = |prefix| {
        path.strip_prefix(prefix)
            .filter(|name: &&str| !name.is_empty() && !name.contains('/'))
    };
    let account = |entry| Ok(Route::Account(entry));
    if let Some(name) = segment("/bins/") {
        Ok(Route::Bin(name))
    } else if let Some(name) = segment("/functions/") {
        Ok(Route::Function(name))
    } else if let Some(sid) = segment("/voice/functions/") {
        account(Entry::Function(sid))
    } else if let Some(sid) = segment("/voice/bins/") {
        account(Entry::Bin(sid))
    } else if path == "/voice" {
        account(Entry::Domain(None))
    } else if path == "/voice/status" {
        account(Entry::DomainStatus(None))
    } else if let Some(rest) = path.strip_prefix("/voice/domains/") {
        match rest.split_once('/') {
            None if !rest.is_empty() => account(Entry::Domain(Some(rest))),
            Some((key, "status")) if !key.is_empty() => account(Entry::DomainStatus(Some(key))),
            _ => Err(not_served(path)),
        }
    } else {
        Err(not_served(path))
    }
}

fn not_served(path: &str) -> Error {
    Error::NotFound(format!(
        "nothing is served at {path:?}: TwiML Bins answer at /bins/NAME, functions at \
         /functions/NAME, accounts' content at /voice/..., the API at /2010-04-01/Accounts/..."
    ))
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

fn log_error(err: &Error, method: &Method, path: &str) {
    if err.status().is_server_error() {
        tracing::error!(code = err.code(), %method, path, "{err}");
    } else {
        tracing::warn!(code = err.code(), %method, path, "{err}");
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt as _;
    use hyper::{StatusCode, header::CONTENT_TYPE};

    use super::*;

    fn app(templates: &[(&str, &str)]) -> (App, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("templates");
        std::fs::create_dir(&folder).unwrap();
        for (name, source) in templates {
            std::fs::write(folder.join(format!("{name}.xml")), source).unwrap();
        }
        let config = Config {
            templates: folder,
            functions: dir.path().join("functions"),
            data: dir.path().join("data"),
            ..Config::default()
        };
        (App::new(config).unwrap(), dir)
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
        let (app, _dir) = app(&[("hello", "<Response><Say>{{Name}}</Say></Response>")]);
        let (status, body) = call(&app, post("/bins/hello?Name=Jane", "")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            format!(
                "{}<Response><Say>Jane</Say></Response>",
                twiml_edge_twiml::XML_DECLARATION
            )
        );
    }

    #[tokio::test]
    async fn errors_are_json_with_status_and_code() {
        let (app, _dir) = app(&[("hello", "<Response/>")]);
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
