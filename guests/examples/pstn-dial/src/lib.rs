//! Seed 004 as a function: a registered SIP user dials a PSTN number. `From` and `To` arrive as
//! SIP URIs; the host's e164 turns their user parts into E.164.
//!
//! Build: `scripts/build-guests.sh`, then `twiml-edge serve --functions target/guests` and
//! `curl -d To=sip:%2B15125551212@acme.sip.twilio.com -d From=sip:%2B14155550100@acme.sip.twilio.com http://127.0.0.1:8080/functions/pstn-dial`

use twiml_edge_sdk::{Error, VoiceResponse, Webhook, e164, twiml::Dial};

fn handle(webhook: Webhook) -> Result<VoiceResponse, Error> {
    let to = webhook.to().ok_or(Error::bad_request("the webhook has no To"))?;
    let number = e164(to).ok_or_else(|| Error::bad_request(format!("To {to:?} is not a phone number")))?;
    let mut dial = Dial::new();
    if let Some(caller) = webhook.from().and_then(e164) {
        dial = dial.caller_id(caller);
    }
    Ok(VoiceResponse::new().dial(dial.number(number)))
}

twiml_edge_sdk::export!(handle);
