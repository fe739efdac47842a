//! A dial plan as a person reads it: one line a party, every value printable.

use std::{borrow::Cow, fmt};

use super::{DialMode, DialPlan, DialTarget, Step};

impl fmt::Display for DialPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.verbs {
            match step {
                Step::Dial {
                    mode,
                    caller_id,
                    timeout,
                    action,
                    answer_on_bridge,
                    record,
                    targets,
                } => {
                    let mut options = vec![match mode {
                        DialMode::Parallel => "parallel".to_owned(),
                        DialMode::Sequential => "sequential".to_owned(),
                    }];
                    if let Some(caller_id) = caller_id {
                        options.push(format!("callerId {}", printable(caller_id)));
                    }
                    if let Some(timeout) = timeout {
                        options.push(format!("timeout {timeout}s"));
                    }
                    if let Some(action) = action {
                        options.push(format!("action {}", printable(action)));
                    }
                    if *answer_on_bridge {
                        options.push("answerOnBridge".to_owned());
                    }
                    if let Some(record) = record {
                        options.push(format!("record {}", printable(record)));
                    }
                    writeln!(f, "Dial ({})", options.join(", "))?;
                    for (i, target) in targets.iter().enumerate() {
                        let number = format!("  {}. ", i + 1);
                        let indent = " ".repeat(number.len());
                        let (first, more) = describe(target);
                        writeln!(f, "{number}{first}")?;
                        for line in more {
                            writeln!(f, "{indent}{line}")?;
                        }
                    }
                }
                Step::Other {
                    name,
                    attributes,
                    text,
                } => {
                    write!(f, "{}", printable(name))?;
                    if !attributes.is_empty() {
                        let attributes: Vec<_> = attributes
                            .iter()
                            .map(|(k, v)| format!("{} {}", printable(k), printable(v)))
                            .collect();
                        write!(f, " ({})", attributes.join(", "))?;
                    }
                    if let Some(text) = text {
                        write!(f, " {text:?}")?;
                    }
                    writeln!(f)?;
                }
            }
        }
        Ok(())
    }
}

/// A target's first line, then any detail lines.
fn describe(target: &DialTarget) -> (String, Vec<String>) {
    let pairs = |pairs: &[(String, String)]| {
        pairs
            .iter()
            .map(|(k, v)| match v.as_str() {
                "" => printable(k).into_owned(),
                _ => format!("{}={}", printable(k), printable(v)),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    match target {
        DialTarget::Sip {
            uri,
            user,
            host,
            port,
            transport,
            region,
            params,
            headers,
            username,
            status_callback,
            status_callback_events,
            codecs,
        } => {
            // The headers are listed decoded below, so the URI is shown without them.
            let address = uri.split_once('?').map_or(uri.as_str(), |(a, _)| a);
            let mut first = vec![printable(address).into_owned()];
            if let Some(user) = user {
                first.push(format!("user {}", printable(user)));
            }
            first.push(format!("host {host}"));
            if let Some(port) = port {
                first.push(format!("port {port}"));
            }
            first.push(format!("transport {transport}"));
            first.push(format!("region {region}"));
            let mut more = Vec::new();
            if !params.is_empty() {
                more.push(format!("params: {}", pairs(params)));
            }
            if !headers.is_empty() {
                more.push(format!("headers: {}", pairs(headers)));
            }
            if let Some(username) = username {
                more.push(format!("username {}", printable(username)));
            }
            if let Some(callback) = status_callback {
                let events = match status_callback_events.as_slice() {
                    [] => "completed".to_owned(),
                    events => events.join(" "),
                };
                more.push(format!("statusCallback {} ({events})", printable(callback)));
            }
            if !codecs.is_empty() {
                more.push(format!("codecs {}", codecs.join(", ")));
            }
            (first.join("  "), more)
        }
        DialTarget::Number {
            number,
            send_digits,
            status_callback,
        } => {
            let mut first = vec![format!("number {}", printable(number))];
            if let Some(digits) = send_digits {
                first.push(format!("sendDigits {}", printable(digits)));
            }
            if let Some(callback) = status_callback {
                first.push(format!("statusCallback {}", printable(callback)));
            }
            (first.join("  "), Vec::new())
        }
        DialTarget::Client { identity } => (format!("client {}", printable(identity)), Vec::new()),
        DialTarget::Conference { name } => (format!("conference {}", printable(name)), Vec::new()),
        DialTarget::Queue { name } => (format!("queue {}", printable(name)), Vec::new()),
        DialTarget::Sim { sid } => (format!("sim {}", printable(sid)), Vec::new()),
        DialTarget::Application { sid } => (format!("application {}", printable(sid)), Vec::new()),
        DialTarget::WhatsApp { number } => (format!("whatsapp {}", printable(number)), Vec::new()),
    }
}

/// Values come from the caller's TwiML; escape control characters so they cannot break the layout
/// or drive the terminal.
fn printable(value: &str) -> Cow<'_, str> {
    if value.chars().any(char::is_control) {
        Cow::Owned(
            value
                .chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(value)
    }
}

#[cfg(test)]
mod tests {
    use crate::simulate::{Step, dial_plan};

    #[test]
    fn plan_reads_well_for_people() {
        let twiml = r#"<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Dial callerId="+14155550100" timeout="15" sequential="true">
    <Sip>sip:alice@acme.sip.twilio.com?x-customer=42&amp;User-to-User=56a3%3Bencoding%3Dhex</Sip>
    <Sip username="pbx" statusCallback="https://example.com/status" statusCallbackEvent="ringing answered">sip:bob@pbx.example.com:5061;transport=tls;region=ie1;lr</Sip>
    <Number sendDigits="ww12">+12025550100</Number>
    <Client>support</Client>
  </Dial>
  <Say voice="alice">Sorry, we could not route your call.</Say>
  <Hangup/>
</Response>"#;
        let want = "\
Dial (sequential, callerId +14155550100, timeout 15s)
  1. sip:alice@acme.sip.twilio.com  user alice  host acme.sip.twilio.com  transport udp  region us1
     headers: x-customer=42, User-to-User=56a3;encoding=hex
  2. sip:bob@pbx.example.com:5061;transport=tls;region=ie1;lr  user bob  host pbx.example.com  port 5061  transport tls  region ie1
     params: lr
     username pbx
     statusCallback https://example.com/status (ringing answered)
  3. number +12025550100  sendDigits ww12
  4. client support
Say (voice alice) \"Sorry, we could not route your call.\"
Hangup
";
        assert_eq!(dial_plan(twiml).unwrap().to_string(), want);
    }

    #[test]
    fn display_escapes_control_characters() {
        // XML cannot carry an escape character, but a caller's value can reach a plan another
        // way: whatever it holds is shown escaped.
        let mut plan = dial_plan(
            "<Response><Say>line one\nline two</Say><Dial callerId=\"a\">+1</Dial></Response>",
        )
        .unwrap();
        if let Step::Dial { caller_id, .. } = &mut plan.verbs[1] {
            *caller_id = Some("a\u{1b}[31m".into());
        }
        let text = plan.to_string();
        assert!(text.contains(r#"Say "line one\nline two""#), "{text}");
        assert!(text.contains(r"callerId a\u{1b}[31m"), "{text}");
        assert!(!text.contains('\u{1b}'));
    }
}
