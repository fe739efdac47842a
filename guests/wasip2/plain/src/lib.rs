//! Test guest: a function as any Rust developer would write one from the WIT alone. std's
//! `println!` goes to wasi:cli/stdout, which the runtime keeps as the call's log lines; the
//! greeting comes from wasi:config.

wit_bindgen::generate!({
    path: "../../../wit",
    world: "twiml:edge/voice-function",
    generate_all,
});

use exports::twiml::edge::handler::{Error, Guest, Webhook};
use wasi::config::store;

struct Plain;

impl Guest for Plain {
    fn handle(webhook: Webhook) -> Result<String, Error> {
        if webhook.form.split('&').any(|pair| pair == "Probe=1") {
            return Ok(probe());
        }
        let count = webhook.params.ends.len() / 2;
        println!("wasip2 guest got {count} parameters by {}", webhook.method);
        eprintln!("wasip2 guest writes to stderr too");
        let greeting = store::get("GREETING")
            .map_err(|e| Error::Internal(format!("wasi:config failed: {e:?}")))?
            .unwrap_or_else(|| "Hello".to_owned());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Ok(format!(
            "<Response><Say>{greeting} from wasip2, {count} parameters, clock {}</Say></Response>",
            if now > 1_700_000_000 { "set" } else { "unset" }
        ))
    }
}

/// What std reaches of the machine: a file, the environment, a socket, each denied.
fn probe() -> String {
    let file = match std::fs::read("/etc/passwd") {
        Ok(bytes) => format!("read {} bytes", bytes.len()),
        Err(_) => "denied".to_owned(),
    };
    let dir = match std::fs::read_dir(".") {
        Ok(entries) => format!("{} entries", entries.count()),
        Err(_) => "denied".to_owned(),
    };
    let env = std::env::vars().count();
    let socket = match std::net::TcpStream::connect("127.0.0.1:22") {
        Ok(_) => "connected".to_owned(),
        Err(_) => "denied".to_owned(),
    };
    format!("<Response><Say>file {file}, dir {dir}, env {env}, socket {socket}</Say></Response>")
}

export!(Plain);
