//! Test guest: answers an empty string.

fn handle(_: twiml_edge_sdk::Webhook) -> &'static str {
    ""
}

twiml_edge_sdk::export!(handle);
