//! Test guest: spins forever; the runtime's CPU deadline must stop it.

fn handle(_: twiml_edge_sdk::Webhook) -> String {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

twiml_edge_sdk::export!(handle);
