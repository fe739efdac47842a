//! Webhooks of accounts: a signed webhook runs the function or TwiML bin it targets, directly
//! or through a SIP domain's `voice_url`, falling back to `voice_fallback_url` as the SIP engine
//! would, and every call lands in the call log.

use std::{
    sync::Arc,
    time::{Instant, SystemTime, UNIX_EPOCH},
};
use twiml_edge_bins::CompiledBin;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Response, StatusCode, http::request::Parts};

use crate::{
    calls::CallLog,
    error::{Error, Result},
    http::{PublicUrl, checked, twiml_response},
    signature,
    tenants::Tenants,
    webhook::{BodyKind, Webhook, body_kind},
};
use twiml_edge_sandbox::{CompiledFunction, GuestLog, Services};
use twiml_edge_store::{Account, CallRecord, Domain, LogLine};
use twiml_edge_twiml::{Document, Policy, Rules};

/// What an account webhook asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry<'a> {
    /// `/voice/functions/ZH...`: the function, signed by its owner.
    Function(&'a str),
    /// `/voice/bins/EH...`: the TwiML bin, signed by its owner.
    Bin(&'a str),
    /// `/voice` (domain found by `SipDomain`) or `/voice/domains/{sid or name}`.
    Domain(Option<&'a str>),
    /// The same, `/status`: a status callback for the domain's `voice_status_callback_url`.
    DomainStatus(Option<&'a str>),
}

/// A function or bin of an account, found from a URL; a function is looked up once, here.
#[derive(Debug, Clone)]
enum Target {
    Function {
        sid: String,
        function: CompiledFunction,
    },
    Bin {
        sid: String,
        bin: Arc<CompiledBin>,
    },
}

/// What running one target produced.
struct Run {
    answer: Result<Document>,
    logs: Vec<GuestLog>,
    label: String,
    function_sid: Option<String>,
    /// The function's variables, whose secrets the call log must not show.
    variables: Option<Arc<twiml_edge_sandbox::Variables>>,
}

/// What the voice path works with: the accounts' content, what calls may ask of the world,
/// the call log, and how the engine names this server.
#[derive(Debug)]
pub(crate) struct Voice {
    pub(crate) tenants: Arc<Tenants>,
    pub(crate) services: Arc<dyn Services>,
    pub(crate) calls: CallLog,
    pub(crate) public_url: PublicUrl,
}

impl Voice {
    /// Answers an account webhook; `body` is the raw body `webhook` was read from.
    pub(crate) async fn account_webhook(
        &self,
        entry: Entry<'_>,
        parts: &Parts,
        body: &[u8],
        webhook: Webhook,
    ) -> Result<Response<Full<Bytes>>> {
        let started = Instant::now();
        match entry {
            Entry::Function(sid) | Entry::Bin(sid) => {
                let found = self.owned_target(matches!(entry, Entry::Function(_)), sid);
                let owner = found.as_ref().map(|(owner, _)| owner.as_str());
                let account = self.signed_by_owner(owner, parts, body).await?;
                let (_, target) = found.expect("a signed webhook has a target");
                let run = self.run(&account, &target, &webhook).await;
                let record = call_record(&webhook, &account, None, &run, started);
                self.calls.record(record);
                let answer = run.answer;
                answer.map(|document| twiml_response(document.text, None))
            }
            Entry::Domain(key) => {
                let domain = self.domain(key, &webhook);
                let owner = domain.as_ref().map(|d| d.account_sid.clone());
                let account = self.signed_by_owner(owner.as_deref(), parts, body).await?;
                let domain = domain.expect("a signed domain webhook has a domain");
                self.domain_webhook(&domain, &account, webhook, started)
                    .await
            }
            Entry::DomainStatus(key) => {
                let domain = self.domain(key, &webhook);
                let owner = domain.as_ref().map(|d| d.account_sid.clone());
                let account = self.signed_by_owner(owner.as_deref(), parts, body).await?;
                let domain = domain.expect("a signed domain webhook has a domain");
                self.status_callback(&domain, &account, &webhook, started)
                    .await;
                Ok(Response::builder()
                    .status(StatusCode::NO_CONTENT)
                    .body(Full::new(Bytes::new()))
                    .expect("static parts are valid"))
            }
        }
    }

    /// Runs the domain's `voice_url`, and its `voice_fallback_url` when that fails.
    async fn domain_webhook(
        &self,
        domain: &Domain,
        account: &Account,
        webhook: Webhook,
        started: Instant,
    ) -> Result<Response<Full<Bytes>>> {
        let fields = &domain.fields;
        let primary = match fields.voice_url.as_deref().filter(|u| !u.is_empty()) {
            Some(url) => {
                let webhook = target_webhook(&webhook, &fields.voice_method, url, &[]);
                match self.resolve(&account.sid, url) {
                    Ok(target) => self.run(account, &target, &webhook).await,
                    Err(err) => failed(url, err),
                }
            }
            None => failed(
                "voice_url",
                Error::Unroutable(format!(
                    "the SIP domain {:?} has no voice_url: set one to a function or TwiML bin",
                    fields.domain_name
                )),
            ),
        };
        let mut record = call_record(&webhook, account, Some(&domain.sid), &primary, started);
        let Err(primary_error) = primary.answer else {
            let document = primary.answer.expect("checked above");
            record.elapsed_us = elapsed_us(started);
            self.calls.record(record);
            return Ok(twiml_response(document.text, None));
        };
        let Some(fallback_url) = fields
            .voice_fallback_url
            .as_deref()
            .filter(|u| !u.is_empty())
        else {
            record.elapsed_us = elapsed_us(started);
            self.calls.record(record);
            return Err(primary_error);
        };
        // As the engine does: the same parameters, plus what went wrong and where.
        let code = primary_error.twilio_code().to_string();
        let error_url = fields.voice_url.clone().unwrap_or_default();
        let extra = [
            ("ErrorCode", code.as_str()),
            ("ErrorUrl", error_url.as_str()),
        ];
        let fallback_webhook = target_webhook(
            &webhook,
            &fields.voice_fallback_method,
            fallback_url,
            &extra,
        );
        tracing::warn!(
            error_code = %code,
            "voice_url failed ({primary_error}): running voice_fallback_url"
        );
        let fallback = match self.resolve(&account.sid, fallback_url) {
            Ok(target) => self.run(account, &target, &fallback_webhook).await,
            Err(err) => failed(fallback_url, err),
        };
        record.logs.extend(fallback.logs.iter().map(log_line));
        record.elapsed_us = elapsed_us(started);
        let result = match fallback.answer {
            Ok(document) => {
                record.fallback = Some(format!("{} ok", fallback.label));
                record.twiml = Some(truncated(&document.text));
                Ok(twiml_response(document.text, Some(&code)))
            }
            Err(fallback_error) => {
                record.fallback = Some(format!("{} {}", fallback.label, fallback_error.code()));
                Err(Error::Fallback {
                    primary: Box::new(primary_error),
                    fallback: Box::new(fallback_error),
                })
            }
        };
        self.calls.record(record);
        result
    }

    /// Runs the domain's `voice_status_callback_url`, if any; its answer is not used.
    async fn status_callback(
        &self,
        domain: &Domain,
        account: &Account,
        webhook: &Webhook,
        started: Instant,
    ) {
        let fields = &domain.fields;
        let Some(url) = fields
            .voice_status_callback_url
            .as_deref()
            .filter(|u| !u.is_empty())
        else {
            return;
        };
        let webhook = target_webhook(webhook, &fields.voice_status_callback_method, url, &[]);
        let mut run = match self.resolve(&account.sid, url) {
            // The engine ignores what a status callback answers, so its TwiML is not checked.
            Ok(target) => self.run_unchecked(&account.sid, &target, &webhook).await,
            Err(err) => failed(url, err),
        };
        run.label = format!("status callback: {}", run.label);
        let mut record = call_record(&webhook, account, Some(&domain.sid), &run, started);
        record.twiml = None;
        if let Err(err) = &run.answer {
            tracing::warn!("status callback failed: {err}");
        }
        self.calls.record(record);
    }

    /// The account that owns what the webhook targets, once its signature checks out. A
    /// missing target and a bad signature get the same answer, so a caller without the token
    /// learns nothing about what exists.
    async fn signed_by_owner(
        &self,
        owner: Option<&str>,
        parts: &Parts,
        body: &[u8],
    ) -> Result<Account> {
        let url = self.public_url.of(parts);
        let refused = || {
            Error::Forbidden(format!(
                "nothing here accepts this webhook: check the URL, and that X-Twilio-Signature \
                 is made with the auth token of the account that owns it, for the URL {url:?} \
                 (behind a proxy, start twiml-edge with --public-url)"
            ))
        };
        let account = match owner {
            Some(sid) => self
                .tenants
                .find_account(sid)
                .await
                .map_err(|e| Error::Internal(format!("cannot read account {sid}: {e:#}")))?
                .ok_or_else(refused)?,
            None => {
                // Check a signature anyway, so no target answers faster than one that exists.
                let token = "0".repeat(32);
                signature::is_valid(&token, &url, signature::Body::Form(body), "");
                return Err(refused());
            }
        };
        if !account.validate_signatures {
            return Ok(account);
        }
        let Some(signature) = parts
            .headers
            .get(signature::HEADER)
            .and_then(|v| v.to_str().ok())
        else {
            return Err(refused());
        };
        let signed_body = if parts.method != Method::POST {
            signature::Body::None
        } else if let Ok(BodyKind::Json) = body_kind(parts, body) {
            signature::Body::Json(body)
        } else {
            signature::Body::Form(body)
        };
        if signature::is_valid(&account.auth_token, &url, signed_body, signature) {
            Ok(account)
        } else {
            Err(refused())
        }
    }

    fn domain(&self, key: Option<&str>, webhook: &Webhook) -> Option<Domain> {
        let tenants = &self.tenants;
        match key {
            Some(key) => tenants
                .domain_by_sid(key)
                .or_else(|| tenants.domain_by_name(key)),
            None => tenants.domain_by_name(webhook.sip_domain()?),
        }
    }

    /// The function or bin of `account_sid` that `url` names: `.../voice/functions/ZH...` or
    /// `.../voice/bins/EH...`, on any host (a proxy may front several names).
    fn resolve(&self, account_sid: &str, url: &str) -> Result<Target> {
        let path = path_of(url).split('?').next().unwrap_or_default();
        let not_here = || {
            Error::Unroutable(format!(
                "{url:?} is not a function or TwiML bin of this account served here: twiml-edge \
                 runs /voice/functions/ZH... and /voice/bins/EH... URLs and fetches no others"
            ))
        };
        let mut segments = path.trim_start_matches('/').split('/');
        let (Some("voice"), Some(kind), Some(sid), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(not_here());
        };
        let found = match kind {
            "functions" => self.owned_target(true, sid),
            "bins" => self.owned_target(false, sid),
            _ => None,
        };
        match found {
            Some((owner, target)) if owner == account_sid => Ok(target),
            _ => Err(not_here()),
        }
    }

    /// The function (`function` true) or bin `sid`, with the sid of the account that owns it.
    fn owned_target(&self, function: bool, sid: &str) -> Option<(String, Target)> {
        if function {
            let hosted = self.tenants.function(sid)?;
            let target = Target::Function {
                sid: sid.to_owned(),
                function: hosted.item,
            };
            return Some((hosted.account_sid, target));
        }
        let hosted = self.tenants.bin(sid)?;
        let target = Target::Bin {
            sid: sid.to_owned(),
            bin: hosted.item,
        };
        Some((hosted.account_sid, target))
    }

    /// Runs `target` of `account`, its answer checked against the account's rules.
    async fn run(&self, account: &Account, target: &Target, webhook: &Webhook) -> Run {
        let mut run = self.run_unchecked(&account.sid, target, webhook).await;
        let policy = policy(account);
        run.answer = run
            .answer
            .and_then(|document| checked(&document.text, &policy));
        run
    }

    /// Runs `target` of account `account_sid`, its answer as it came (not yet a checked
    /// document). A function runs in one of the account's call slots, so no account can take
    /// every slot of the server.
    async fn run_unchecked(&self, account_sid: &str, target: &Target, webhook: &Webhook) -> Run {
        let unchecked = |text: String| Document {
            text,
            warnings: Vec::new(),
        };
        match target {
            Target::Function { sid, function } => {
                let name = function.name().to_owned();
                let label = format!("function {sid} {name:?}");
                let Some(_slot) = self.tenants.call_slot(account_sid) else {
                    let limit = self.tenants.calls_per_account();
                    let mut run = failed(&label, Error::AccountBusy { limit });
                    run.function_sid = Some(sid.clone());
                    return run;
                };
                let context = self.tenants.call_context(account_sid, sid, &self.services);
                let call = self
                    .tenants
                    .sandbox()
                    .call(function, webhook, &context)
                    .await;
                Run {
                    answer: call
                        .answer
                        .map(unchecked)
                        .map_err(|failure| Error::Function {
                            name: name.clone(),
                            failure,
                        }),
                    logs: call.logs,
                    label,
                    function_sid: Some(sid.clone()),
                    variables: Some(context.variables.clone()),
                }
            }
            Target::Bin { sid, bin } => Run {
                answer: self
                    .tenants
                    .renderer()
                    .render(bin, webhook)
                    .map_err(Error::from)
                    .map(unchecked),
                logs: Vec::new(),
                label: format!("bin {sid}"),
                function_sid: None,
                variables: None,
            },
        }
    }
}

/// A run that failed before anything ran.
fn failed(label: &str, error: Error) -> Run {
    Run {
        answer: Err(error),
        logs: Vec::new(),
        label: label.to_owned(),
        function_sid: None,
        variables: None,
    }
}

/// The rules an account's answers are checked against.
fn policy(account: &Account) -> Policy {
    Policy {
        rules: Rules {
            enhanced_sip: account.enhanced_sip,
            ..Rules::default()
        },
        warnings_only: account.twiml_warnings_only,
    }
}

/// The webhook a domain's target receives: `url`'s own query parameters first (as on a bin
/// URL), then the engine's, then `extra`; with `method` GET they travel in the URL.
fn target_webhook(original: &Webhook, method: &str, url: &str, extra: &[(&str, &str)]) -> Webhook {
    let path = path_of(url);
    let (path_only, query) = path.split_once('?').unwrap_or((path, ""));
    let mut params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    params.extend(original.params().map(|(n, v)| (n.to_owned(), v.to_owned())));
    params.extend(
        extra
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
    );
    let method = if method.eq_ignore_ascii_case("GET") {
        "GET"
    } else {
        "POST"
    };
    let mut webhook = Webhook::from_params(method, path, params);
    if method == "GET" {
        let url = format!("{path_only}?{}", webhook.form());
        let (text, ends) = webhook.decoded();
        webhook = Webhook::from_decoded(
            method,
            url,
            webhook.form().to_owned(),
            text.to_owned(),
            ends.to_vec(),
        )
        .expect("offsets of a webhook fit its own text");
    }
    webhook
}

/// The path and query of an absolute or relative URL.
fn path_of(url: &str) -> &str {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => url,
    }
}

fn call_record(
    webhook: &Webhook,
    account: &Account,
    domain_sid: Option<&str>,
    run: &Run,
    started: Instant,
) -> CallRecord {
    // A function may put a secret in its answer or error; the log shows where, not what.
    let redact = |text: &str| match &run.variables {
        Some(variables) => variables.redact(text).into_owned(),
        None => text.to_owned(),
    };
    let (outcome, error, twiml) = match &run.answer {
        Ok(document) => (
            "ok".to_owned(),
            None,
            Some(truncated(&redact(&document.text))),
        ),
        Err(err) => (err.code().to_owned(), Some(redact(&err.to_string())), None),
    };
    CallRecord {
        call_sid: webhook.call_sid().unwrap_or_default().to_owned(),
        account_sid: account.sid.clone(),
        domain_sid: domain_sid.map(str::to_owned),
        target: run.label.clone(),
        function_sid: run.function_sid.clone(),
        outcome,
        error,
        fallback: None,
        logs: run.logs.iter().map(log_line).collect(),
        twiml,
        elapsed_us: elapsed_us(started),
        date_created: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
    }
}

/// A guest's log line as the call log keeps it.
fn log_line(line: &GuestLog) -> LogLine {
    LogLine {
        level: line.level.clone(),
        message: line.message.clone(),
        fields: line.fields.clone(),
    }
}

/// The call log keeps the start of long answers.
fn truncated(text: &str) -> String {
    const MAX: usize = 4096;
    if text.len() <= MAX {
        return text.to_owned();
    }
    format!("{}...", &text[..text.floor_char_boundary(MAX)])
}

fn elapsed_us(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_webhooks_carry_the_url_query_the_params_and_the_error() {
        let original = Webhook::from_params("POST", "/voice", [("From", "+1"), ("To", "+2")]);
        let w = target_webhook(
            &original,
            "POST",
            "https://edge.example.com/voice/bins/EH1?Lang=fr",
            &[("ErrorCode", "11200")],
        );
        assert_eq!(w.method(), "POST");
        assert_eq!(w.url(), "/voice/bins/EH1?Lang=fr");
        assert_eq!(
            w.params().collect::<Vec<_>>(),
            [
                ("Lang", "fr"),
                ("From", "+1"),
                ("To", "+2"),
                ("ErrorCode", "11200")
            ]
        );
        let w = target_webhook(&original, "get", "/voice/functions/ZH1", &[]);
        assert_eq!(w.method(), "GET");
        assert_eq!(w.url(), "/voice/functions/ZH1?From=%2B1&To=%2B2");
    }

    #[test]
    fn paths_come_from_absolute_and_relative_urls() {
        assert_eq!(
            path_of("https://a.example.com/voice/bins/EH1?x=1"),
            "/voice/bins/EH1?x=1"
        );
        assert_eq!(path_of("https://a.example.com"), "/");
        assert_eq!(path_of("/voice/functions/ZH1"), "/voice/functions/ZH1");
    }
}
