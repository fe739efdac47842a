//! Rendering the seed 004 TwiML Bin for one realistic SIP webhook.
//!
//! Run: `cargo bench -p twiml-edge-bins --bench render`
//!
//! `native` does the same job in plain Rust (two e164 normalizations and a `format!`), measured in
//! the same run, so the figure to read is the ratio `bin / native`: the cost of the template engine.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use twiml_edge_bins::Bins;
use twiml_edge_e164 as e164;
use twiml_edge_twiml as twiml;

#[path = "../../../benches/common.rs"]
mod common;

const SEED_004: &str = r#"<Response><Dial callerId="{{#e164}}{{From}}{{/e164}}">{{#e164}}{{To}}{{/e164}}</Dial></Response>"#;

fn render(c: &mut Criterion) {
    let region = e164::Region::default();
    let mut bins = Bins::new(region);
    bins.add("pstn-dial", SEED_004, "pstn-dial.xml").unwrap();
    let webhook = common::webhook("/bins/pstn-dial");
    let mut group = c.benchmark_group("seed-004");
    group.bench_function("bin", |b| {
        b.iter(|| {
            let answer = bins.render("pstn-dial", black_box(&webhook)).unwrap();
            twiml::document(&answer, &twiml::Policy::default()).unwrap()
        })
    });
    group.bench_function("native", |b| {
        b.iter(|| {
            let w = black_box(&webhook);
            let from = e164::normalize(w.from().unwrap(), region).unwrap();
            let to = e164::normalize(w.to().unwrap(), region).unwrap();
            let answer = format!(r#"<Response><Dial callerId="{from}">{to}</Dial></Response>"#);
            twiml::document(&answer, &twiml::Policy::default()).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
