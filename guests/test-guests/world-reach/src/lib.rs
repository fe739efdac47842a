//! Test guest: reaches outside its webhook as the webhook asks, and says what came back, so a
//! test sees each interface through the running server.
//!
//! - `Var=KEY`: says `var KEY=VALUE` (or `var KEY unset`);
//! - `Fetch=URL`: sends a GET and says `fetch STATUS BODY`, or `fetch error MESSAGE`;
//! - `Count=KEY`: increments KEY in bucket `counts` and says `count N`;
//! - `Log=TEXT`: logs TEXT at info.

use twiml_edge_sdk::{Level, VoiceResponse, Webhook, config, http::Request, log, state::Bucket, twiml::Say};

fn handle(webhook: Webhook) -> VoiceResponse {
    let mut response = VoiceResponse::new();
    if let Some(key) = webhook.get("Var") {
        response = response.say(Say::new(match config::get(key) {
            Some(value) => format!("var {key}={value}"),
            None => format!("var {key} unset"),
        }));
    }
    if let Some(url) = webhook.get("Fetch") {
        response = response.say(Say::new(match Request::get(url).send() {
            Ok(answer) => format!("fetch {} {}", answer.status, answer.text()),
            Err(err) => format!("fetch error {err}"),
        }));
    }
    if let Some(key) = webhook.get("Count") {
        let counted = Bucket::open("counts").and_then(|bucket| bucket.increment(key, 1));
        response = response.say(Say::new(match counted {
            Ok(n) => format!("count {n}"),
            Err(err) => format!("count error {err}"),
        }));
    }
    if let Some(text) = webhook.get("Log") {
        log(Level::Info, text, &[]);
    }
    response
}

twiml_edge_sdk::export!(handle);
