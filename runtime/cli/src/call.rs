//! `twiml-edge call`: a whole inbound call without a phone. An INVITE as a developer describes
//! it becomes the webhook the SIP engine would send, goes through the runtime (a running server,
//! or a data folder in this process), and comes back as TwiML and the dial plan it makes.

use std::{io::Write as _, path::PathBuf};
use twiml_edge_store::prelude::*;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode};
use serde_json::{Value, json};

use crate::remote::{self, Reply, ServerArgs};
use twiml_edge_server::{
    App, Config, FALLBACK_HEADER,
    signature::{self, Body},
};
use twiml_edge_store::{SqliteStore, domain_base};

use crate::simulate::{self, DialPlan, Invite};

/// `twiml-edge call`.
#[derive(Debug, clap::Args)]
pub(crate) struct CallArgs {
    /// The INVITE's request URI; its host picks the SIP domain:
    /// sip:+15125551212@acme.sip.us1.twilio.com.
    #[arg(long)]
    request_uri: String,
    /// The INVITE's From: sip:alice@acme.sip.twilio.com or "Alice" <sip:alice@...>.
    #[arg(long)]
    from: String,
    /// The INVITE's To (default: the request URI).
    #[arg(long)]
    to: Option<String>,
    /// An extra SIP header as on the wire, such as 'X-Customer: 42' (repeatable). Only X-
    /// headers and User-to-User reach the webhook, as with the engine.
    #[arg(long = "header", short = 'H')]
    headers: Vec<String>,
    /// The IP address the INVITE came from.
    #[arg(long, default_value = simulate::DEFAULT_SOURCE_IP)]
    source_ip: String,
    /// The user a credential list authenticated (sent as SipUsername).
    #[arg(long)]
    username: Option<String>,
    /// Where to send the webhook: /voice (the domain of the request URI, as the engine does),
    /// or the path of a function or bin.
    #[arg(long, default_value = "/voice")]
    path: String,
    /// Run against this data folder in this process instead of a running server.
    #[arg(long, conflicts_with = "url")]
    data: Option<PathBuf>,
    #[command(flatten)]
    server: ServerArgs,
    /// Print one JSON document, for scripts.
    #[arg(long)]
    json: bool,
}

/// The outcome of a simulated call, as `--json` prints it.
struct Outcome {
    url: String,
    params: Vec<(String, String)>,
    reply: Reply,
}

pub(crate) async fn call(args: CallArgs) -> anyhow::Result<()> {
    let headers = args
        .headers
        .iter()
        .map(|h| {
            h.split_once(':')
                .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                .with_context(|| format!("--header {h:?} is not Name: value"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut invite = Invite {
        request_uri: args.request_uri.clone(),
        from: args.from.clone(),
        to: args.to.clone(),
        headers,
        source_ip: args.source_ip.clone(),
        username: args.username.clone(),
        ..Invite::default()
    };
    // Refuse a malformed INVITE before any server is asked anything.
    simulate::webhook_params(&invite)?;
    let outcome = match &args.data {
        Some(data) => call_locally(&args, &mut invite, data).await?,
        None => call_server(&args, &mut invite).await?,
    };
    let answered = outcome.reply.status == StatusCode::OK;
    let plan = answered
        .then(|| simulate::dial_plan(&outcome.reply.text()))
        .transpose()?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&outcome.to_json(plan.as_ref()))?
        )?;
    } else {
        outcome.print(&mut out, plan.as_ref())?;
    }
    if !answered {
        let hint = match outcome.reply.status {
            StatusCode::FORBIDDEN if args.data.is_none() && args.server.token.is_none() => {
                ": the server checks signatures; give the domain account's --token (or set \
                 TWILIO_AUTH_TOKEN)"
            }
            StatusCode::FORBIDDEN if args.data.is_none() => {
                ": the signature did not match; use the token of the account that owns the \
                 domain, and give --url as the server's --public-url when it has one"
            }
            _ => "",
        };
        bail!("the runtime answered {}{hint}", outcome.reply.status);
    }
    Ok(())
}

/// Sends the webhook to a running server, signed when a token is given.
async fn call_server(args: &CallArgs, invite: &mut Invite) -> anyhow::Result<Outcome> {
    let base = remote::base(&args.server.url)?;
    invite.account_sid = args
        .server
        .account
        .clone()
        .unwrap_or_else(|| format!("AC{}", "0".repeat(32)));
    if let Ok(remote) = remote::Remote::new(&args.server) {
        // The engine sends the domain's sid: look it up when the API can be asked.
        let host = request_host(invite)?;
        let domains = remote.get("/SIP/Domains.json?PageSize=1000").await?;
        invite.domain_sid = domains["domains"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| host_matches(&host, d["domain_name"].as_str().unwrap_or_default()))
            .and_then(|d| d["sid"].as_str().map(str::to_owned));
        // The server answers a webhook for no domain of the signing account as it answers a
        // bad signature, to an anonymous caller; holding the credentials, say which it is.
        if invite.domain_sid.is_none() && args.path == "/voice" {
            bail!(
                "account {} has no SIP domain {host}: create one with \
                 curl -u {}:$TOKEN {base}/2010-04-01/Accounts/{}/SIP/Domains.json \
                 -d DomainName={host} -d VoiceUrl={base}/voice/functions/NAME, \
                 or call a function or bin directly with --path /functions/NAME",
                remote.account(),
                remote.account(),
                remote.account(),
            );
        }
    }
    let params = simulate::webhook_params(invite)?;
    let url = format!("{base}{}", args.path);
    let body = form(&params);
    let mut headers = vec![(
        "content-type",
        "application/x-www-form-urlencoded".to_owned(),
    )];
    if let Some(token) = &args.server.token {
        headers.push((
            signature::HEADER,
            signature::sign(token, &url, Body::Form(body.as_bytes())),
        ));
    }
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let reply = remote::send("POST", &url, &headers, body.into()).await?;
    Ok(Outcome { url, params, reply })
}

/// Runs the webhook through an app on `data` in this process, signed with the domain owner's
/// token as the engine would sign it.
async fn call_locally(
    args: &CallArgs,
    invite: &mut Invite,
    data: &std::path::Path,
) -> anyhow::Result<Outcome> {
    let store =
        SqliteStore::open(data).with_context(|| format!("failed to open the store in {data:?}"))?;
    let host = request_host(invite)?;
    // Matched as `host_matches` does, by the store's index.
    let domain = store.domain_by_name(&host)?;
    let account = match &domain {
        Some(domain) => store.account(&domain.account_sid)?,
        None => None,
    };
    drop(store);
    invite.account_sid = account
        .as_ref()
        .map_or_else(|| format!("AC{}", "0".repeat(32)), |a| a.sid.clone());
    invite.domain_sid = domain.map(|d| d.sid);
    let params = simulate::webhook_params(invite)?;
    let config = Config {
        data: data.to_path_buf(),
        templates: data.join("templates"),
        functions: data.join("functions"),
        ..Config::default()
    };
    let app = tokio::task::spawn_blocking(move || App::new(config)).await??;
    let url = format!("http://localhost{}", args.path);
    let body = form(&params);
    let mut request = Request::post(args.path.as_str())
        .header("host", "localhost")
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(account) = &account {
        let signature = signature::sign(&account.auth_token, &url, Body::Form(body.as_bytes()));
        request = request.header(signature::HEADER, signature);
    }
    let response = app
        .handle(request.body(Full::new(Bytes::from(body)))?)
        .await;
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    let reply = Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    };
    Ok(Outcome { url, params, reply })
}

/// The request URI's host, which names the SIP domain.
fn request_host(invite: &Invite) -> anyhow::Result<String> {
    let uri = twiml_edge_twiml::parse_sip_uri(&invite.request_uri)
        .map_err(anyhow::Error::msg)
        .with_context(|| {
            format!(
                "--request-uri {:?} is not the request URI of an INVITE",
                invite.request_uri
            )
        })?;
    Ok(uri.host.to_ascii_lowercase())
}

/// The engine names `acme.sip.us1.twilio.com` for the domain `acme.sip.twilio.com`.
fn host_matches(host: &str, domain_name: &str) -> bool {
    domain_base(host) == domain_base(domain_name)
}

fn form(params: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

impl Outcome {
    fn fallback(&self) -> Option<String> {
        self.reply
            .headers
            .get(FALLBACK_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    fn to_json(&self, plan: Option<&DialPlan>) -> Value {
        let ok = self.reply.status == StatusCode::OK;
        json!({
            "webhook": {
                "method": "POST",
                "url": self.url,
                "params": self.params,
            },
            "status": self.reply.status.as_u16(),
            "fallback": self.fallback(),
            "twiml": ok.then(|| self.reply.text()),
            "error": (!ok).then(|| serde_json::from_slice::<Value>(&self.reply.body).unwrap_or_else(|_| json!(self.reply.text()))),
            "dial_plan": plan,
        })
    }

    fn print(&self, out: &mut impl std::io::Write, plan: Option<&DialPlan>) -> std::io::Result<()> {
        writeln!(out, "Webhook: POST {}", self.url)?;
        for (name, value) in &self.params {
            writeln!(out, "  {name}={value}")?;
        }
        writeln!(out)?;
        match self.fallback() {
            Some(code) => writeln!(
                out,
                "Fallback: ran, after the voice_url failed with ErrorCode {code}"
            )?,
            None => writeln!(out, "Fallback: did not run")?,
        }
        if self.reply.status != StatusCode::OK {
            writeln!(out, "Answer: {}", self.reply.status)?;
            let error: Value = serde_json::from_slice(&self.reply.body).unwrap_or_default();
            match error["message"].as_str() {
                Some(message) => writeln!(
                    out,
                    "  {} {message}",
                    error["code"].as_str().unwrap_or_default()
                )?,
                None => writeln!(out, "  {}", self.reply.text())?,
            }
            return Ok(());
        }
        writeln!(out, "TwiML:")?;
        writeln!(out, "  {}", self.reply.text())?;
        if let Some(plan) = plan {
            writeln!(out)?;
            writeln!(out, "Dial plan:")?;
            for line in plan.to_string().lines() {
                writeln!(out, "  {line}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regional_hosts_match_their_domain() {
        assert!(host_matches(
            "acme.sip.us1.twilio.com",
            "acme.sip.twilio.com"
        ));
        assert!(host_matches("ACME.sip.twilio.com", "acme.sip.twilio.com"));
        assert!(!host_matches(
            "other.sip.us1.twilio.com",
            "acme.sip.twilio.com"
        ));
    }
}
