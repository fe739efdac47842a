//! Test guest: panics, which aborts the instance with a trap.

fn handle(webhook: twiml_edge_sdk::Webhook) -> String {
    let to = std::hint::black_box(webhook.get("NoSuchParameter"));
    to.expect("the trap guest always panics").to_owned()
}

twiml_edge_sdk::export!(handle);
