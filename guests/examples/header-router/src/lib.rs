//! Routes on a custom SIP header: the PBX tags the INVITE with `X-Department`, which arrives as
//! `SipHeader_X-Department`; each department is a SIP target in its own region and transport,
//! and the caller's `X-Customer` travels on as an `x-customer` header.
//!
//! `curl -d SipHeader_X-Department=support -d SipHeader_X-Customer=42 http://127.0.0.1:8080/functions/header-router`

use twiml_edge_sdk::{
    Level, VoiceResponse, Webhook, log,
    twiml::{Dial, Region, Say, Sip, SipUri, Transport},
};

/// Department -> (SIP target, region, transport).
const ROUTES: &[(&str, &str, Region, Transport)] = &[
    ("sales", "sales@pbx-us.example.com", Region::Us1, Transport::Tls),
    ("support", "support@pbx-eu.example.com", Region::Ie1, Transport::Tls),
    ("billing", "billing@pbx-jp.example.com", Region::Jp1, Transport::Tcp),
];

fn handle(webhook: Webhook) -> VoiceResponse {
    let department = webhook.sip_header("X-Department").unwrap_or_default();
    let Some((_, target, region, transport)) = ROUTES.iter().find(|(name, ..)| *name == department)
    else {
        log(Level::Warn, "unknown department", &[("department", department)]);
        return VoiceResponse::new()
            .say(Say::new("Sorry, we could not route your call."))
            .hangup();
    };
    log(Level::Info, "routing", &[("department", department), ("target", target)]);
    let mut uri = SipUri::new(*target).region(*region).transport(*transport);
    if let Some(customer) = webhook.sip_header("X-Customer") {
        uri = uri.header("x-customer", customer);
    }
    VoiceResponse::new().dial(Dial::new().answer_on_bridge(true).sip(Sip::new(uri)))
}

twiml_edge_sdk::export!(handle);
