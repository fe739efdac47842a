//! Test guest: hands the host 4 MiB of fields in one log call, past the hostcall fuel the
//! runtime gives a call; the host refuses to lift it, and the call traps.

use twiml_edge_sdk::{Level, log};

fn handle(_: twiml_edge_sdk::Webhook) -> String {
    let value = "v".repeat(1 << 10);
    let fields: Vec<(&str, &str)> = (0..4096).map(|_| ("field", value.as_str())).collect();
    log(Level::Info, "one huge line", &fields);
    "<Response/>".to_owned()
}

twiml_edge_sdk::export!(handle);
