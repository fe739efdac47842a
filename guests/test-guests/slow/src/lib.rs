//! Test guest: logs one line, then steps a generator `Rounds` times before answering, so tests
//! can make a call outlast the millisecond or two it may run on the request's thread, and see
//! that it still answers (and logs) once.

use twiml_edge_sdk::{Error, Level, VoiceResponse, Webhook, log, twiml::Say};

fn handle(webhook: Webhook) -> Result<VoiceResponse, Error> {
    let rounds: u64 = webhook
        .get("Rounds")
        .and_then(|r| r.parse().ok())
        .ok_or(Error::bad_request("Rounds must be a whole number"))?;
    log(Level::Info, "computing", &[("rounds", &rounds.to_string())]);
    let mut state: u64 = 1;
    for _ in 0..rounds {
        state = std::hint::black_box(
            state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407),
        );
    }
    Ok(VoiceResponse::new().say(Say::new(format!("{rounds} rounds: {state:016x}"))))
}

twiml_edge_sdk::export!(handle);
