//! Test guest: built against the frozen `wit/v0.1.0` world as functions uploaded before
//! `twiml:edge@0.2.0` were, to show they keep loading and answering unchanged.

wit_bindgen::generate!({
    path: "../../../wit/v0.1.0",
    world: "twiml:edge/voice-function",
});

use exports::twiml::edge::handler::{Error, Guest, Webhook};
use twiml::edge::host;

struct Legacy;

impl Guest for Legacy {
    fn handle(webhook: Webhook) -> Result<String, Error> {
        host::log(host::Level::Info, "legacy guest called", &[]);
        let to = param(&webhook, "To")
            .ok_or_else(|| Error::BadRequest("the webhook has no To".into()))?;
        let number = host::e164(&to, None).unwrap_or(to);
        Ok(format!("<Response><Dial><Number>{number}</Number></Dial></Response>"))
    }
}

/// The value of parameter `name`, from the decoded text and its offsets.
fn param(webhook: &Webhook, name: &str) -> Option<String> {
    let (text, ends) = (&webhook.params.text, &webhook.params.ends);
    let mut start = 0;
    for pair in ends.chunks_exact(2) {
        let (name_end, value_end) = (pair[0] as usize, pair[1] as usize);
        if &text[start..name_end] == name {
            return Some(text[name_end..value_end].to_owned());
        }
        start = value_end;
    }
    None
}

export!(Legacy);
