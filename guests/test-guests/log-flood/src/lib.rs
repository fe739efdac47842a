//! Test guest: logs past every limit of a call (lines, fields per line, bytes in all), then fails
//! with a 1 MiB message; the runtime keeps a bounded part of each.

use twiml_edge_sdk::{Error, Level, log};

fn handle(_: twiml_edge_sdk::Webhook) -> Result<String, Error> {
    let many: Vec<(&str, &str)> = (0..40).map(|_| ("k", "v")).collect();
    for _ in 0..300 {
        log(Level::Info, "many fields", &many);
    }
    let wide = "w".repeat(10_000);
    let wide_fields: Vec<(&str, &str)> = (0..20).map(|_| ("wide", wide.as_str())).collect();
    for _ in 0..3 {
        log(Level::Warn, &wide, &wide_fields);
    }
    Err(Error::internal("x".repeat(1 << 20)))
}

twiml_edge_sdk::export!(handle);
