//! The webhook decoder: a query string and a form body, as a caller sends them.
//!
//! Run: `cargo +nightly fuzz run webhook` from `fuzz/`.
//!
//! Whatever the bytes, decoding never panics; what decodes survives a round trip through the
//! form the guest receives and through the decoded text and offsets.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twiml_edge_sdk::webhook::Webhook;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (query, body) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(mut webhook) = Webhook::from_form("POST", format!("/voice?{query}"), query) else {
        return;
    };
    if webhook.append_form(body).is_err() {
        return;
    }
    let params: Vec<(String, String)> = webhook
        .params()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    // The form the guest gets decodes to the same parameters, in order.
    let again = Webhook::from_form("POST", webhook.url(), webhook.form()).expect("its own form");
    let reparsed: Vec<(String, String)> = again
        .params()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(params, reparsed);
    // And the decoded text with its offsets rebuilds the same webhook.
    let (decoded, ends) = webhook.decoded();
    let rebuilt = Webhook::from_decoded(
        "POST",
        webhook.url().to_owned(),
        webhook.form().to_owned(),
        decoded.to_owned(),
        ends.to_vec(),
    )
    .expect("its own offsets");
    assert_eq!(rebuilt.params().count(), params.len());
    for ((n, v), (m, w)) in rebuilt.params().zip(&params) {
        assert_eq!((n, v), (m.as_str(), w.as_str()));
    }
});
