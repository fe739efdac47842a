//! The one SIP URI grammar: what a template or a guest puts in `<Sip>`, and what a caller puts
//! in a header.
//!
//! Run: `cargo +nightly fuzz run sip_uri` from `fuzz/`.
//!
//! Nothing panics; the check calls a URI invalid exactly when the grammar cannot read it; and
//! the SDK's builder writes a URI its own check and the server's agree on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twiml_edge_sdk::twiml::SipUri;
use twiml_edge_twiml::{check_uri, parse_sip_uri};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = parse_sip_uri(text);
    if let Ok(uri) = &parsed {
        let _ = uri.decoded_headers();
    }
    let mut invalid = false;
    check_uri(text.trim(), "<Sip>", &mut |rule, _| {
        invalid |= rule == "sip-uri-invalid"
    });
    assert_eq!(invalid, parsed.is_err(), "{text:?}");
    // A caller's value in the user part never adds a host.
    if text.is_empty() {
        return;
    }
    let built = SipUri::user_at(text, "pbx.example.com").to_string();
    let reparsed = parse_sip_uri(&built).expect("a URI the builder made");
    assert_eq!(reparsed.host, "pbx.example.com");
});
