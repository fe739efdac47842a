//! Rings a list of SIP users one after another until one answers (up to 10), reporting each
//! leg's progress to a status callback. Users come as repeated `User[]` parameters, on the
//! function URL or in the body; without any, the domain's front desk is rung.
//!
//! `curl 'http://127.0.0.1:8080/functions/sequential-dial?User%5B%5D=alice&User%5B%5D=bob' -d SipDomain=acme.sip.us1.twilio.com`

use twiml_edge_sdk::{
    VoiceResponse, Webhook,
    twiml::{Dial, Method, Sip, SipEvent, SipUri},
};

const MAX_NOUNS: usize = 10;

fn handle(webhook: Webhook) -> VoiceResponse {
    let domain = webhook.sip_domain().unwrap_or("pbx.example.com");
    let mut users: Vec<&str> = webhook.get_all("User[]").take(MAX_NOUNS).collect();
    if users.is_empty() {
        users.push("frontdesk");
    }
    let mut dial = Dial::new().sequential(true).timeout(15).action("/dial-complete");
    for user in users {
        dial = dial.sip(
            Sip::new(SipUri::new(format!("{user}@{domain}")))
                .status_callback("https://status.example.com/sip")
                .status_callback_method(Method::Post)
                .status_callback_event([SipEvent::Initiated, SipEvent::Ringing, SipEvent::Answered, SipEvent::Completed]),
        );
    }
    VoiceResponse::new().dial(dial)
}

twiml_edge_sdk::export!(handle);
