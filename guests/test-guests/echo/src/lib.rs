//! Test guest: says every parameter back in order, so tests see exactly what a guest receives,
//! and logs one line through the host.

use twiml_edge_sdk::{Level, VoiceResponse, Webhook, log, twiml::Say};

fn handle(webhook: Webhook) -> VoiceResponse {
    log(Level::Info, "echo called", &[("params", &webhook.params().len().to_string())]);
    let mut response = VoiceResponse::new().say(Say::new(format!("{} {}", webhook.method(), webhook.url())));
    for (name, value) in webhook.params() {
        response = response.say(Say::new(format!("{name}={value}")));
    }
    response
}

twiml_edge_sdk::export!(handle);
