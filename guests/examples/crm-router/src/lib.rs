//! Routes a call to an agent of the caller's account manager team, as a CRM says:
//!
//! 1. `GET {CRM_URL}/agents?caller={From}` with `Authorization: Bearer {CRM_API_KEY}` answers
//!    the agents' SIP URIs, one per line (none: the caller is unknown);
//! 2. a counter in key-value state picks the next agent in turn, across every call;
//! 3. the call dials that agent's `<Sip>` URI; an unknown caller hears a message and is dialed
//!    to `FALLBACK_SIP`.
//!
//! Deploy it with its settings (the API key as a secret, so no answer or log shows it):
//!
//! ```text
//! twiml-edge deploy guests/examples/crm-router --allow-host https://crm.example.com \
//!     --var CRM_URL=https://crm.example.com --secret CRM_API_KEY=... \
//!     --var FALLBACK_SIP=sip:reception@pbx.example.com
//! ```

use twiml_edge_sdk::{
    Error, VoiceResponse, Webhook, config,
    http::{self, Request},
    state::Bucket,
    twiml::{Dial, Say},
};

fn handle(webhook: Webhook) -> Result<VoiceResponse, Error> {
    let caller = webhook
        .from()
        .ok_or_else(|| Error::bad_request("the webhook has no From"))?;
    let crm = config::require("CRM_URL")?;
    let key = config::require("CRM_API_KEY")?;
    let answer = Request::get(format!(
        "{}/agents?caller={}",
        crm.trim_end_matches('/'),
        http::encode(caller)
    ))
    .header("authorization", format!("Bearer {key}"))
    .header("accept", "text/plain")
    .send()?;
    if answer.status != 200 {
        return Err(Error::internal(format!(
            "the CRM answered {} to the agents of {caller}",
            answer.status
        )));
    }
    let text = answer.text();
    let agents: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("sip:"))
        .collect();
    if agents.is_empty() {
        let reception = config::require("FALLBACK_SIP")?;
        return Ok(VoiceResponse::new()
            .say(Say::new("Connecting you to reception."))
            .dial(Dial::new().sip(reception)));
    }
    // One counter per caller's team would spread load per team; one per caller keeps a
    // caller's successive calls going round their own agents.
    let turn = Bucket::open("crm-router")?.increment(&format!("next:{caller}"), 1)?;
    let agent = agents[(turn - 1).rem_euclid(agents.len() as i64) as usize];
    Ok(VoiceResponse::new().dial(Dial::new().sip(agent)))
}

twiml_edge_sdk::export!(handle);
