//! Reading the realistic SIP webhook of `tests/cases/webhook.form` from its form body, as every
//! webhook request does before anything runs.
//!
//! Run: `cargo bench -p twiml-edge-server --bench webhook`
//!
//! `form_urlencoded` is the baseline measured in the same run: the `url` crate's decoder, which
//! yields each pair (borrowed unless it holds an escape) without keeping them.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use twiml_edge_sdk::webhook::Webhook;

#[path = "../../../benches/common.rs"]
mod common;

fn read_form(c: &mut Criterion) {
    let form = common::webhook("/functions/pstn-dial").form().to_owned();
    let mut group = c.benchmark_group(format!("webhook-form-{}-bytes", form.len()));
    group.bench_function("Webhook::from_form", |b| {
        b.iter(|| Webhook::from_form("POST", "/functions/pstn-dial", black_box(&form)).unwrap())
    });
    group.bench_function("form_urlencoded", |b| {
        b.iter(|| {
            form_urlencoded::parse(black_box(form.as_bytes()))
                .map(|(name, value)| name.len() + value.len())
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, read_form);
criterion_main!(benches);
