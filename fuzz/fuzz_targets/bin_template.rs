//! The TwiML Bin compiler and renderer: an account's template, and a caller's parameters.
//!
//! Run: `cargo +nightly fuzz run bin_template` from `fuzz/`.
//!
//! The input is a template, a NUL, then `name=value` lines. Compiling never panics or overflows
//! the stack; a render stays within its output bound, and no value a caller sends writes a
//! `<` or `&` of its own into the TwiML.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use twiml_edge_bins::Renderer;
use twiml_edge_e164::Region;
use twiml_edge_sdk::webhook::Webhook;

const MAX_TWIML: usize = 4096;

/// One renderer for every input, as the server has one for every bin.
static RENDERER: LazyLock<Renderer> = LazyLock::new(|| Renderer::new(Region::default(), MAX_TWIML));

fuzz_target!(init: warm(), |data: &[u8]| check(data));

/// Parses libphonenumber's metadata before the first input, so the time libFuzzer measures for
/// each input (it reports slow ones) is that input's alone.
fn warm() {
    let bin = RENDERER
        .compile("warm", "{{#e164}}{{To}}{{/e164}}", "warm.xml")
        .expect("the e164 helper compiles");
    let webhook = Webhook::from_params("POST", "/bins/warm", [("To", "+15125551212")]);
    RENDERER.render(&bin, &webhook).expect("a number renders");
}

fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (template, params) = text.split_once('\0').unwrap_or((text, ""));
    let renderer = &*RENDERER;
    let Ok(bin) = renderer.compile("fuzz", template, "fuzz.xml") else {
        return;
    };
    let params: Vec<(&str, &str)> = params
        .lines()
        .map(|line| line.split_once('=').unwrap_or((line, "")))
        .collect();
    let webhook = Webhook::from_params("POST", "/bins/fuzz", params.iter().copied());
    if let Ok(out) = renderer.render(&bin, &webhook) {
        assert!(out.len() <= 2 * MAX_TWIML, "{} bytes", out.len());
        // Values are escaped: a marker a caller sends comes out only in escaped form.
        let marker = "<&>";
        let hostile = Webhook::from_params(
            "POST",
            "/bins/fuzz",
            params.iter().map(|(n, _)| (*n, marker)),
        );
        if let Ok(out) = renderer.render(&bin, &hostile) {
            assert!(
                template.contains(marker) || !out.contains(marker),
                "a caller's value was written unescaped: {out:?}"
            );
        }
    }
}
