//! What the benchmarks of every crate share (each includes this file with `#[path]`): the
//! realistic SIP webhook of `tests/cases/webhook.form`.

use twiml_edge_sdk::webhook::Webhook;

/// The realistic SIP webhook, as posted to `url`.
pub(crate) fn webhook(url: &str) -> Webhook {
    let form = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/cases/webhook.form"
    ))
    .unwrap();
    let params = form
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_once('=').unwrap());
    Webhook::from_params("POST", url, params)
}
