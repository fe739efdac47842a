//! The TwiML check and the tree reader: whatever a function answers.
//!
//! Run: `cargo +nightly fuzz run twiml` from `fuzz/`.
//!
//! Neither panics, and they agree: a document the check finds no syntax fault in can be read
//! into a tree, and one it cannot read has a syntax finding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twiml_edge_twiml::{Policy, Rules, Severity, check, document, read};

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = std::str::from_utf8(data) else {
        return;
    };
    let rules = Rules {
        enhanced_sip: true,
        max_bytes: usize::MAX,
    };
    let findings = check(doc, &rules);
    let syntax_ok = !findings.iter().any(|f| f.severity == Severity::Syntax);
    let tree = read(doc);
    assert_eq!(
        syntax_ok,
        tree.is_ok(),
        "check and read disagree: {findings:?}"
    );
    for finding in &findings {
        assert!(finding.line >= 1 && finding.line <= doc.lines().count().max(1) + 1);
    }
    let _ = document(doc, &Policy::default());
});
