//! One fresh instance + call of the e164 example (guests/examples/pstn-dial) for a realistic SIP
//! webhook, the path every function webhook takes.
//!
//! Run: `scripts/build-guests.sh && cargo bench -p twiml-edge-sandbox --bench sandbox`
//!
//! `native` does the same job in plain Rust in the same run (two e164 normalizations and the
//! TwiML), so `instantiate+call / native` is the sandbox's cost; `instantiate` alone isolates
//! the fresh instance.

use std::{hint::black_box, path::PathBuf, sync::Arc};

use criterion::{Criterion, criterion_group, criterion_main};
use twiml_edge_e164 as e164;
use twiml_edge_sandbox::{CallContext, Limits, Sandbox, Services};

#[path = "../../../benches/common.rs"]
mod common;

fn guest(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/guests")
        .join(format!("{name}.wasm"));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{path:?}: {e}: run scripts/build-guests.sh first"))
}

fn sandbox(c: &mut Criterion) {
    let name = std::env::var("BENCH_GUEST").unwrap_or_else(|_| "pstn-dial".into());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sandbox = Sandbox::new(Limits::default(), None).unwrap();
    assert!(
        sandbox.pooling(),
        "the benchmark expects the pooling allocator"
    );
    let function = sandbox.compile(&name, &guest(&name)).unwrap();
    let webhook = common::webhook("/functions/pstn-dial");
    let region = e164::Region::default();
    let services: Arc<dyn Services> = Arc::new(PhoneNumbers(region));
    let context = CallContext::new(services);
    let answer = runtime
        .block_on(sandbox.call(&function, &webhook, &context))
        .answer;
    println!("{name} answers {answer:?}");

    let mut group = c.benchmark_group(format!("function-{name}"));
    group.bench_function("instantiate+call", |b| {
        b.iter(|| runtime.block_on(sandbox.call(&function, black_box(&webhook), &context)))
    });
    group.bench_function("native", |b| {
        b.iter(|| {
            let w = black_box(&webhook);
            let from = e164::normalize(w.from().unwrap(), region).unwrap();
            let to = e164::normalize(w.to().unwrap(), region).unwrap();
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><Response><Dial callerId="{from}"><Number>{to}</Number></Dial></Response>"#)
        })
    });
    group.finish();
}

/// E.164 numbers for the guest, as the server offers them.
#[derive(Debug)]
struct PhoneNumbers(e164::Region);

impl Services for PhoneNumbers {
    fn e164(&self, input: &str, region: Option<&str>) -> Option<String> {
        let region = match region {
            Some(code) => code.parse().ok()?,
            None => self.0,
        };
        e164::normalize(input, region)
    }
}

criterion_group!(benches, sandbox);
criterion_main!(benches);
