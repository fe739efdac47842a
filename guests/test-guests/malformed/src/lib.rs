//! Test guest: answers TwiML with an unclosed element and an unescaped `&`.

fn handle(_: twiml_edge_sdk::Webhook) -> &'static str {
    "<Response>\n  <Dial>\n    <Number>+15125551212 & co</Number>\n</Response>"
}

twiml_edge_sdk::export!(handle);
