//! A TwiML answer read into the plan the SIP engine would follow: every verb, and for `<Dial>`
//! each party with what the engine would make of it.

use twiml_edge_twiml::{
    MAX_DIAL_PARTIES, check_uri as check_sip_uri, dial_attribute_problem, parse_sip_uri,
    xml::{Element, Node},
};

use super::SimulateError;

/// What a TwiML answer would make the engine do: every top-level verb of `<Response>`, in order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct DialPlan {
    /// The verbs in document order.
    pub verbs: Vec<Step>,
}

/// One top-level verb.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "verb")]
pub(crate) enum Step {
    /// A `<Dial>` and everything it would ring.
    Dial {
        /// All targets at once, or one after another (`sequential="true"`).
        mode: DialMode,
        /// `callerId`.
        caller_id: Option<String>,
        /// `timeout`, in seconds.
        timeout: Option<u32>,
        /// `action`, the URL called when the dial ends.
        action: Option<String>,
        /// `answerOnBridge="true"`.
        answer_on_bridge: bool,
        /// `record`, as given.
        record: Option<String>,
        /// The nouns (or the bare number) in document order.
        targets: Vec<DialTarget>,
    },
    /// Any other verb (`Say`, `Play`, `Hangup`, `Redirect`, ...), summarized.
    Other {
        /// The element name as written.
        name: String,
        /// Its attributes as written, entities unescaped.
        attributes: Vec<(String, String)>,
        /// Its text (and that of nested elements), trimmed; absent when empty.
        text: Option<String>,
    },
}

/// How a `<Dial>` with several targets rings them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DialMode {
    /// Ring every target at once; the first to answer wins.
    Parallel,
    /// Ring the targets in document order until one answers.
    Sequential,
}

/// One thing a `<Dial>` rings or joins.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind")]
pub(crate) enum DialTarget {
    /// A `<Sip>` noun.
    Sip {
        /// The URI as written.
        uri: String,
        /// The user part, absent in `sip:pbx.example.com`.
        user: Option<String>,
        /// The host, lowercase.
        host: String,
        /// The port, when given.
        port: Option<u16>,
        /// `udp` unless `;transport=` says otherwise (`tls` for a `sips:` URI).
        transport: String,
        /// `us1` unless `;region=` says otherwise.
        region: String,
        /// The other `;params`, as written.
        params: Vec<(String, String)>,
        /// The headers after `?`, values percent-decoded.
        headers: Vec<(String, String)>,
        /// The `username` attribute (the password is never kept).
        username: Option<String>,
        /// `statusCallback`.
        status_callback: Option<String>,
        /// `statusCallbackEvent`, split on whitespace.
        status_callback_events: Vec<String>,
        /// `codecs`, split on commas.
        codecs: Vec<String>,
    },
    /// A `<Number>` noun, or a `<Dial>`'s bare text.
    Number {
        /// The number as written.
        number: String,
        /// `sendDigits`.
        send_digits: Option<String>,
        /// `statusCallback`.
        status_callback: Option<String>,
    },
    /// A `<Client>` noun.
    Client {
        /// The client identity (the text, or its `<Identity>`).
        identity: String,
    },
    /// A `<Conference>` noun.
    Conference {
        /// The room name.
        name: String,
    },
    /// A `<Queue>` noun.
    Queue {
        /// The queue name.
        name: String,
    },
    /// A `<Sim>` noun.
    Sim {
        /// The SIM's sid.
        sid: String,
    },
    /// A `<WhatsApp>` noun.
    WhatsApp {
        /// The WhatsApp number.
        number: String,
    },
    /// An `<Application>` noun.
    Application {
        /// The application's sid (the text, or its `<ApplicationSid>`).
        sid: String,
    },
}

/// Reads a TwiML answer into the plan the engine would follow.
///
/// Refuses what the engine would refuse while dialing (a malformed `<Sip>` URI, an unknown
/// transport or region, an attribute value out of its set, an empty `<Dial>`), in the words and
/// by the rules of the TwiML checker; other verbs are summarized, not checked.
pub(crate) fn dial_plan(twiml: &str) -> Result<DialPlan, SimulateError> {
    let response = twiml_edge_twiml::read(twiml).map_err(SimulateError::Xml)?;
    if response.name != "Response" {
        return Err(SimulateError::Twiml(format!(
            "the root element is <{}>: a TwiML document is one <Response>",
            response.name
        )));
    }
    let mut verbs = Vec::new();
    for node in &response.children {
        match node {
            Node::Text(text) if text.trim().is_empty() => {}
            Node::Text(text) => {
                return Err(SimulateError::Twiml(format!(
                    "text {:?} directly inside <Response>: put it in a verb such as <Say>",
                    text.trim()
                )));
            }
            Node::Element(element) if element.name == "Dial" => verbs.push(dial(element)?),
            Node::Element(element) => verbs.push(Step::Other {
                name: element.name.clone(),
                attributes: element.attributes.clone(),
                text: Some(element.all_text()).filter(|t| !t.is_empty()),
            }),
        }
    }
    Ok(DialPlan { verbs })
}

fn dial(element: &Element) -> Result<Step, SimulateError> {
    check_attributes(None, element)?;
    // Checked above: nine digits at most.
    let timeout = element.attribute("timeout").and_then(|t| t.parse().ok());
    let mode = if element.flag("sequential") {
        DialMode::Sequential
    } else {
        DialMode::Parallel
    };

    let mut targets = Vec::new();
    let mut bare_text = String::new();
    for node in &element.children {
        match node {
            Node::Text(text) => bare_text.push_str(text),
            Node::Element(noun) => targets.push(target(noun)?),
        }
    }
    let bare_text = bare_text.trim();
    match (bare_text.is_empty(), targets.is_empty()) {
        (true, true) => {
            return Err(SimulateError::Twiml(
                "<Dial> has nothing to dial: put a number or a noun such as <Sip> inside".into(),
            ));
        }
        (false, false) => {
            return Err(SimulateError::Twiml(format!(
                "<Dial> holds both the text {bare_text:?} and nouns: wrap the number in <Number>"
            )));
        }
        (false, true) => targets.push(DialTarget::Number {
            number: bare_text.to_owned(),
            send_digits: None,
            status_callback: None,
        }),
        (true, false) => {}
    }
    // As the checker counts: every noun rings a party but a room (<Conference>, <Queue>).
    let ringing = targets
        .iter()
        .filter(|t| !matches!(t, DialTarget::Conference { .. } | DialTarget::Queue { .. }))
        .count();
    if ringing > MAX_DIAL_PARTIES as usize {
        return Err(SimulateError::Twiml(format!(
            "<Dial> rings {ringing} nouns, over the limit of {MAX_DIAL_PARTIES}: split them into \
             several <Dial>s"
        )));
    }

    Ok(Step::Dial {
        mode,
        caller_id: element.attribute("callerId").map(str::to_owned),
        timeout,
        action: element.attribute("action").map(str::to_owned),
        answer_on_bridge: element.flag("answerOnBridge"),
        record: element.attribute("record").map(str::to_owned),
        targets,
    })
}

/// Refuses an attribute of `<Dial>` (`noun` `None`) or of one of its nouns whose value the
/// checker would refuse.
fn check_attributes(noun: Option<&str>, element: &Element) -> Result<(), SimulateError> {
    for (name, value) in &element.attributes {
        if let Some(problem) = dial_attribute_problem(noun, name, value) {
            return Err(SimulateError::Twiml(format!(
                "<{} {name}={value:?}> {problem}",
                element.name
            )));
        }
    }
    Ok(())
}

fn target(noun: &Element) -> Result<DialTarget, SimulateError> {
    check_attributes(Some(&noun.name), noun)?;
    // `<Client><Identity>alice</Identity><Parameter .../></Client>` names the target in a child.
    let text = |child: Option<&str>| -> Result<String, SimulateError> {
        let text = child
            .and_then(|child| noun.child(child))
            .map_or_else(|| noun.own_text(), Element::all_text);
        if text.is_empty() {
            return Err(SimulateError::Twiml(format!(
                "<{}> is empty: say what to dial inside it",
                noun.name
            )));
        }
        Ok(text)
    };
    let attribute = |name: &str| noun.attribute(name).map(str::to_owned);
    Ok(match noun.name.as_str() {
        "Sip" => sip_target(noun, &text(None)?)?,
        "Number" => DialTarget::Number {
            number: text(None)?,
            send_digits: attribute("sendDigits"),
            status_callback: attribute("statusCallback"),
        },
        "Client" => DialTarget::Client {
            identity: text(Some("Identity"))?,
        },
        "Conference" => DialTarget::Conference { name: text(None)? },
        "Queue" => DialTarget::Queue { name: text(None)? },
        "Sim" => DialTarget::Sim { sid: text(None)? },
        "Application" => DialTarget::Application {
            sid: text(Some("ApplicationSid"))?,
        },
        "WhatsApp" => DialTarget::WhatsApp {
            number: text(None)?,
        },
        other => {
            return Err(SimulateError::Twiml(format!(
                "<Dial> cannot hold <{other}>: use Sip, Number, Client, Conference, Queue, Sim, \
                 Application or WhatsApp"
            )));
        }
    })
}

fn sip_target(noun: &Element, uri: &str) -> Result<DialTarget, SimulateError> {
    let bad = |reason: String| SimulateError::Twiml(format!("<Sip>{uri}</Sip>: {reason}"));
    let mut refused = None;
    check_sip_uri(uri, "<Sip>", &mut |_, message| {
        refused.get_or_insert(message);
    });
    if let Some(message) = refused {
        return Err(SimulateError::Twiml(message));
    }
    let parsed = parse_sip_uri(uri).map_err(bad)?;
    let headers = parsed.decoded_headers().map_err(bad)?;

    // The checker has vouched for the values; what is left is to apply the defaults.
    let mut transport = if parsed.scheme == "sips" {
        "tls"
    } else {
        "udp"
    }
    .to_owned();
    let mut region = "us1".to_owned();
    let mut params = Vec::new();
    for &(name, value) in &parsed.params {
        if name.eq_ignore_ascii_case("transport") {
            transport = value.to_ascii_lowercase();
        } else if name.eq_ignore_ascii_case("region") {
            region = value.to_ascii_lowercase();
        } else {
            params.push((name.to_owned(), value.to_owned()));
        }
    }
    let status_callback_events = noun
        .attribute("statusCallbackEvent")
        .unwrap_or_default()
        .split_ascii_whitespace()
        .map(str::to_owned)
        .collect();
    let codecs = noun
        .attribute("codecs")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|codec| !codec.is_empty())
        .map(str::to_owned)
        .collect();

    Ok(DialTarget::Sip {
        uri: uri.to_owned(),
        user: parsed.user.map(str::to_owned),
        host: parsed.host.to_ascii_lowercase(),
        port: parsed.port,
        transport,
        region,
        params,
        headers,
        username: noun.attribute("username").map(str::to_owned),
        status_callback: noun.attribute("statusCallback").map(str::to_owned),
        status_callback_events,
        codecs,
    })
}

#[cfg(test)]
mod tests {
    use twiml_edge_twiml::{CALL_EVENTS, MAX_URI_CHARS as MAX_SIP_URI_CHARS};

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|&(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn sip(uri: &str) -> DialTarget {
        let parts = parse_sip_uri(uri).unwrap();
        DialTarget::Sip {
            uri: uri.into(),
            user: parts.user.map(str::to_owned),
            host: parts.host.to_ascii_lowercase(),
            port: parts.port,
            transport: "udp".into(),
            region: "us1".into(),
            params: Vec::new(),
            headers: Vec::new(),
            username: None,
            status_callback: None,
            status_callback_events: Vec::new(),
            codecs: Vec::new(),
        }
    }

    fn number(number: &str) -> DialTarget {
        DialTarget::Number {
            number: number.into(),
            send_digits: None,
            status_callback: None,
        }
    }

    fn dial(mode: DialMode, targets: Vec<DialTarget>) -> Step {
        Step::Dial {
            mode,
            caller_id: None,
            timeout: None,
            action: None,
            answer_on_bridge: false,
            record: None,
            targets,
        }
    }

    #[test]
    fn dial_plans() {
        let events: Vec<String> = CALL_EVENTS.iter().map(|e| (*e).to_owned()).collect();
        let watched = |uri: &str| {
            let mut target = sip(uri);
            if let DialTarget::Sip {
                status_callback,
                status_callback_events,
                ..
            } = &mut target
            {
                *status_callback = Some("https://example.com/status?a=1&b=2".into());
                *status_callback_events = events.clone();
            }
            target
        };
        let cases: Vec<(&str, Vec<Step>)> = vec![
            // Seed 004's PSTN dial: bare text is a number.
            (
                r#"<Response><Dial callerId="+14155550100">+15125551212</Dial></Response>"#,
                vec![Step::Dial {
                    mode: DialMode::Parallel,
                    caller_id: Some("+14155550100".into()),
                    timeout: None,
                    action: None,
                    answer_on_bridge: false,
                    record: None,
                    targets: vec![number("+15125551212")],
                }],
            ),
            // Transport, region and headers: values percent-decoded after XML unescaping.
            (
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response>\n  <Dial>\n    \
                 <Sip username=\"bob\">sip:alice@example.com;transport=TLS;region=ie1;lr\
                 ?x-customer=42%20%26%20co&amp;User-to-User=56a3%3Bencoding%3Dhex</Sip>\n  \
                 </Dial>\n</Response>",
                vec![dial(
                    DialMode::Parallel,
                    vec![DialTarget::Sip {
                        uri: "sip:alice@example.com;transport=TLS;region=ie1;lr\
                              ?x-customer=42%20%26%20co&User-to-User=56a3%3Bencoding%3Dhex"
                            .into(),
                        user: Some("alice".into()),
                        host: "example.com".into(),
                        port: None,
                        transport: "tls".into(),
                        region: "ie1".into(),
                        params: headers(&[("lr", "")]),
                        headers: headers(&[
                            ("x-customer", "42 & co"),
                            ("User-to-User", "56a3;encoding=hex"),
                        ]),
                        username: Some("bob".into()),
                        status_callback: None,
                        status_callback_events: Vec::new(),
                        codecs: Vec::new(),
                    }],
                )],
            ),
            // Sequential dial of three <Sip>, each with status callbacks.
            (
                r#"<Response><Dial sequential="true" timeout="15" action="/after" answerOnBridge="true" record="record-from-answer">
                     <Sip statusCallback="https://example.com/status?a=1&amp;b=2" statusCallbackEvent="initiated ringing answered completed">sip:alice@example.com</Sip>
                     <Sip statusCallback="https://example.com/status?a=1&amp;b=2" statusCallbackEvent="initiated  ringing
                       answered completed">sip:bob@example.com</Sip>
                     <Sip statusCallback="https://example.com/status?a=1&amp;b=2" statusCallbackEvent="initiated ringing answered completed">sip:charlie@example.com</Sip>
                   </Dial></Response>"#,
                vec![Step::Dial {
                    mode: DialMode::Sequential,
                    caller_id: None,
                    timeout: Some(15),
                    action: Some("/after".into()),
                    answer_on_bridge: true,
                    record: Some("record-from-answer".into()),
                    targets: vec![
                        watched("sip:alice@example.com"),
                        watched("sip:bob@example.com"),
                        watched("sip:charlie@example.com"),
                    ],
                }],
            ),
            // A port, a user-less URI, sips defaulting to TLS, codecs.
            (
                r#"<Response><Dial><Sip>sip:bob@pbx.example.com:5061</Sip><Sip codecs="PCMU, OPUS">sip:pbx.example.com</Sip><Sip>sips:carol@pbx.example.com</Sip></Dial></Response>"#,
                vec![dial(
                    DialMode::Parallel,
                    vec![
                        sip("sip:bob@pbx.example.com:5061"),
                        {
                            let mut target = sip("sip:pbx.example.com");
                            if let DialTarget::Sip { codecs, .. } = &mut target {
                                *codecs = vec!["PCMU".into(), "OPUS".into()];
                            }
                            target
                        },
                        {
                            let mut target = sip("sips:carol@pbx.example.com");
                            if let DialTarget::Sip { transport, .. } = &mut target {
                                *transport = "tls".into();
                            }
                            target
                        },
                    ],
                )],
            ),
            // Verbs other than Dial are summarized, entities unescaped, comments skipped.
            (
                r#"<Response><!-- greet --><Say voice="Polly.Joanna">Tom &amp; Jerry&#33;</Say><Pause length="1"/><Gather numDigits="1"><Say>Press 1</Say></Gather><Hangup/></Response>"#,
                vec![
                    Step::Other {
                        name: "Say".into(),
                        attributes: headers(&[("voice", "Polly.Joanna")]),
                        text: Some("Tom & Jerry!".into()),
                    },
                    Step::Other {
                        name: "Pause".into(),
                        attributes: headers(&[("length", "1")]),
                        text: None,
                    },
                    Step::Other {
                        name: "Gather".into(),
                        attributes: headers(&[("numDigits", "1")]),
                        text: Some("Press 1".into()),
                    },
                    Step::Other {
                        name: "Hangup".into(),
                        attributes: Vec::new(),
                        text: None,
                    },
                ],
            ),
            // A parallel dial of numbers, and the other nouns.
            (
                r#"<Response><Dial><Number sendDigits="wwww1928" statusCallback="/s">+12025550100</Number><Number> +14155550100 </Number><Client><Identity>alice</Identity><Parameter name="a" value="b"/></Client><Client>bob</Client></Dial><Dial><Conference>Room 1</Conference></Dial><Dial><Queue>support</Queue></Dial><Dial><Sim>DE0123</Sim></Dial><Dial><Application><ApplicationSid>AP0123</ApplicationSid></Application></Dial><Dial><WhatsApp>+15125551212</WhatsApp></Dial></Response>"#,
                vec![
                    dial(
                        DialMode::Parallel,
                        vec![
                            DialTarget::Number {
                                number: "+12025550100".into(),
                                send_digits: Some("wwww1928".into()),
                                status_callback: Some("/s".into()),
                            },
                            number("+14155550100"),
                            DialTarget::Client {
                                identity: "alice".into(),
                            },
                            DialTarget::Client {
                                identity: "bob".into(),
                            },
                        ],
                    ),
                    dial(
                        DialMode::Parallel,
                        vec![DialTarget::Conference {
                            name: "Room 1".into(),
                        }],
                    ),
                    dial(
                        DialMode::Parallel,
                        vec![DialTarget::Queue {
                            name: "support".into(),
                        }],
                    ),
                    dial(
                        DialMode::Parallel,
                        vec![DialTarget::Sim {
                            sid: "DE0123".into(),
                        }],
                    ),
                    dial(
                        DialMode::Parallel,
                        vec![DialTarget::Application {
                            sid: "AP0123".into(),
                        }],
                    ),
                    dial(
                        DialMode::Parallel,
                        vec![DialTarget::WhatsApp {
                            number: "+15125551212".into(),
                        }],
                    ),
                ],
            ),
            (r#"<Response/>"#, Vec::new()),
        ];
        for (twiml, want) in cases {
            let plan = dial_plan(twiml).unwrap_or_else(|e| panic!("{twiml}: {e}"));
            assert_eq!(plan.verbs, want, "{twiml}");
        }
    }

    #[test]
    fn dial_plans_refuse_what_the_engine_would() {
        let too_many = format!(
            "<Response><Dial>{}</Dial></Response>",
            "<Number>+12025550100</Number>".repeat(11)
        );
        // The checker counts every noun that rings a party, <Sim> included.
        let too_many_with_a_sim = format!(
            "<Response><Dial>{}<Sim>DE0123</Sim></Dial></Response>",
            "<Number>+12025550100</Number>".repeat(10)
        );
        let long_uri = format!(
            "<Response><Dial><Sip>sip:{}@example.com</Sip></Dial></Response>",
            "a".repeat(250)
        );
        let long_headers = format!(
            "<Response><Dial><Sip>sip:a@example.com?x-a={}</Sip></Dial></Response>",
            "a".repeat(1020)
        );
        let cases = [
            ("", "no root element"),
            ("<Response><Dial></Response>", "line 1"),
            ("<Reponse/>", "root element is <Reponse>"),
            ("<Response/><Response/>", "exactly one root"),
            ("<Response>hello</Response>", "put it in a verb"),
            (
                "<Response><Say>Tom & Jerry</Say></Response>",
                "not well-formed",
            ),
            (
                "<Response><Say>&nbsp;</Say></Response>",
                "unknown entity &nbsp;",
            ),
            ("<Response><Dial>", "<Dial> is never closed"),
            ("<Response><Dial/></Response>", "nothing to dial"),
            (
                "<Response><Dial>+1202<Sip>sip:a@b</Sip></Dial></Response>",
                "wrap the number in <Number>",
            ),
            (
                "<Response><Dial><Say>hi</Say></Dial></Response>",
                "cannot hold <Say>",
            ),
            (
                "<Response><Dial><Number/></Dial></Response>",
                "<Number> is empty",
            ),
            (
                "<Response><Dial timeout=\"soon\">+1202</Dial></Response>",
                "<Dial timeout=\"soon\"> must be a whole number",
            ),
            (
                "<Response><Dial><Sip>tel:+15125551212</Sip></Dial></Response>",
                "must start with sip: or sips:",
            ),
            (
                "<Response><Dial><Sip>sip:a@b;transport=sctp</Sip></Dial></Response>",
                "has ;transport=sctp; the SIP engine supports only transport=udp, tcp or tls",
            ),
            (
                "<Response><Dial><Sip>sip:a@b;region=eu1</Sip></Dial></Response>",
                "has ;region=eu1; use one of",
            ),
            (
                "<Response><Dial><Sip>sip:a@b?x-a=1%0D%0AVia:%20evil</Sip></Dial></Response>",
                "has %0D, a line break escaped",
            ),
            (
                "<Response><Dial><Sip>sip:a@b?Via=x</Sip></Dial></Response>",
                "custom SIP headers must start with x-",
            ),
            (
                "<Response><Dial><Sip statusCallbackEvent=\"answer\">sip:a@b</Sip></Dial></Response>",
                "<Sip statusCallbackEvent=\"answer\"> has \"answer\", which must be one of",
            ),
            (
                "<Response><Dial><Sip codecs=\"speex\">sip:a@b</Sip></Dial></Response>",
                "<Sip codecs=\"speex\"> has \"speex\", which must be one of PCMU",
            ),
            // Codecs as the checker reads them: upper case, separated by commas.
            (
                "<Response><Dial><Sip codecs=\"pcmu\">sip:a@b</Sip></Dial></Response>",
                "did you mean \"PCMU\"?",
            ),
            (
                "<Response><Dial><Sip codecs=\"PCMU OPUS\">sip:a@b</Sip></Dial></Response>",
                "separate values with commas",
            ),
            (&too_many, "<Dial> rings 11 nouns, over the limit of 10"),
            (&too_many_with_a_sim, "<Dial> rings 11 nouns"),
            (&long_uri, "dials at most 255"),
            (&long_headers, "must be under 1024"),
        ];
        for (twiml, want) in cases {
            let err = dial_plan(twiml).unwrap_err().to_string();
            assert!(err.contains(want), "{twiml}: {err}");
        }
        // The checker's boundary: a URI of exactly 255 characters is dialled.
        let longest = format!("sip:{}@example.com", "a".repeat(MAX_SIP_URI_CHARS - 16));
        assert_eq!(longest.len(), MAX_SIP_URI_CHARS);
        assert!(
            dial_plan(&format!(
                "<Response><Dial><Sip>{longest}</Sip></Dial></Response>"
            ))
            .is_ok()
        );
    }

    #[test]
    fn plan_json_is_stable_for_scripts() {
        let plan = dial_plan(
            r#"<Response><Dial callerId="+14155550100"><Sip>sip:bob@pbx.example.com:5061?x-a=1</Sip><Number>+12025550100</Number></Dial><Hangup/></Response>"#,
        )
        .unwrap();
        let want = serde_json::json!({"verbs": [
            {
                "verb": "Dial", "mode": "parallel", "caller_id": "+14155550100", "timeout": null,
                "action": null, "answer_on_bridge": false, "record": null,
                "targets": [
                    {
                        "kind": "Sip", "uri": "sip:bob@pbx.example.com:5061?x-a=1", "user": "bob",
                        "host": "pbx.example.com", "port": 5061, "transport": "udp", "region": "us1",
                        "params": [], "headers": [["x-a", "1"]], "username": null,
                        "status_callback": null, "status_callback_events": [], "codecs": []
                    },
                    {"kind": "Number", "number": "+12025550100", "send_digits": null, "status_callback": null}
                ]
            },
            {"verb": "Other", "name": "Hangup", "attributes": [], "text": null}
        ]});
        assert_eq!(serde_json::to_value(&plan).unwrap(), want);
    }
}
