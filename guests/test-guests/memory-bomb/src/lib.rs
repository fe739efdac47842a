//! Test guest: allocates 1 MiB blocks forever; the runtime's memory limit must stop it.

fn handle(_: twiml_edge_sdk::Webhook) -> String {
    let mut blocks = Vec::new();
    loop {
        blocks.push(std::hint::black_box(vec![1u8; 1 << 20]));
    }
}

twiml_edge_sdk::export!(handle);
