//! Test guest: answers a well-formed 1 MB document, over the SIP engine's 64 kB limit.

fn handle(_: twiml_edge_sdk::Webhook) -> String {
    let say = "<Say>All work and no play makes Jack a dull boy.</Say>";
    let mut answer = String::from("<Response>");
    while answer.len() < 1_000_000 {
        answer.push_str(say);
    }
    answer.push_str("</Response>");
    answer
}

twiml_edge_sdk::export!(handle);
