//! The pure core of `twiml-edge call`: the webhook the SIP engine would send for an INVITE, and
//! the dial plan a TwiML answer describes.
//!
//! Nothing here touches the network or the clock; the only side effect is drawing random ids
//! for a `CallSid` or `SipCallId` the caller left out.

use std::{borrow::Cow, fmt, net::IpAddr};

use quick_xml::{Reader, events::Event};

use twiml_edge_twiml::{MAX_DIAL_PARTIES, check_uri as check_sip_uri, dial_attribute_problem};

/// The source address used when an [`Invite`] names none (a documentation address, RFC 5737).
pub(crate) const DEFAULT_SOURCE_IP: &str = "203.0.113.10";

/// Deeper documents are refused rather than walked: TwiML nests three levels at most.
const MAX_XML_DEPTH: usize = 32;

/// Why an INVITE or a TwiML answer cannot be simulated; each message says what to fix.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SimulateError {
    /// The INVITE's request URI is not a SIP URI.
    #[error("the request URI {uri:?} is not a SIP URI: {reason}")]
    RequestUri {
        /// The URI as given.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A SIP URI (outside an INVITE's request URI) could not be read.
    #[error("{uri:?} is not a valid SIP URI: {reason}")]
    SipUri {
        /// The URI as given.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The INVITE has no From.
    #[error("the From header is empty: give the caller's SIP URI, such as sip:alice@example.com")]
    EmptyFrom,
    /// A From or To header could not be read.
    #[error("the {header} header {value:?} is malformed: {reason}")]
    Address {
        /// `From` or `To`.
        header: &'static str,
        /// The header as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A SIP header name has characters a SIP token may not hold.
    #[error(
        "the SIP header name {0:?} is not a SIP token: use only letters, digits and - . ! % * _ + ` ' ~"
    )]
    HeaderName(String),
    /// A SIP header value holds a line break or another control character.
    #[error(
        "the value of SIP header {0:?} holds a line break or control character: a header value is one line of text"
    )]
    HeaderValue(String),
    /// The INVITE's source IP is not an address.
    #[error("the source IP {0:?} is not an IPv4 or IPv6 address, such as 203.0.113.10")]
    SourceIp(String),
    /// The system could not supply randomness for a fresh id.
    #[error("failed to draw a random CallSid or SipCallId: {0}; pass them explicitly")]
    Random(#[from] std::io::Error),
    /// The TwiML is not well-formed XML.
    #[error("the TwiML is not well-formed XML: {0}")]
    Xml(String),
    /// The TwiML is well-formed but does not describe a call the engine would place.
    #[error("invalid TwiML: {0}")]
    Twiml(String),
}

// ---------------------------------------------------------------------------------------------
// Part 1: the INVITE -> the webhook parameters
// ---------------------------------------------------------------------------------------------

/// An inbound INVITE as a developer describes it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Invite {
    /// `sip:+15125551212@acme.sip.us1.twilio.com;transport=tls`; its host is the `SipDomain`.
    pub request_uri: String,
    /// The From header: a URI, or `"Alice" <sip:alice@...>;tag=x` (display name and tag dropped).
    pub from: String,
    /// The To header, read like From; the request URI when absent or empty.
    pub to: Option<String>,
    /// Extra SIP headers as sent, in order: `("X-Customer", "42")`, `("User-to-User", "56a3;encoding=hex")`.
    pub headers: Vec<(String, String)>,
    /// Where the INVITE came from; [`DEFAULT_SOURCE_IP`] when empty.
    pub source_ip: String,
    /// The account the domain belongs to (`AC` + 32 hex).
    pub account_sid: String,
    /// The SIP domain's sid (`SD` + 32 hex), sent only when given.
    pub domain_sid: Option<String>,
    /// Sent as `SipUsername` only when a credential list authenticated the call.
    pub username: Option<String>,
    /// A fresh `CA` + 32 hex when absent.
    pub call_sid: Option<String>,
    /// A fresh `<32 hex>@<source ip>` when absent.
    pub sip_call_id: Option<String>,
}

/// The form parameters the SIP engine posts to the domain's `voice_url` for `invite`, in the
/// engine's order.
///
/// Only `X-` headers and `User-to-User` become `SipHeader_*` parameters; the engine drops every
/// other header, so this does too (after checking that its name is well-formed).
pub(crate) fn webhook_params(invite: &Invite) -> Result<Vec<(String, String)>, SimulateError> {
    let request_uri = invite.request_uri.trim();
    let domain = parse_sip_uri(request_uri)
        .map_err(|e| match e {
            SimulateError::SipUri { reason, .. } => SimulateError::RequestUri {
                uri: request_uri.to_owned(),
                reason,
            },
            other => other,
        })?
        .host;

    let from = address("From", &invite.from)?;
    let to = match given(&invite.to) {
        Some(to) => address("To", to)?,
        None => request_uri.to_owned(),
    };

    let source_ip = match invite.source_ip.trim() {
        "" => DEFAULT_SOURCE_IP,
        ip => ip,
    };
    let source_ip = source_ip
        .parse::<IpAddr>()
        .map_err(|_| SimulateError::SourceIp(source_ip.to_owned()))?
        .to_string();

    // Check every header before building anything, so a bad one is reported even if dropped.
    let mut sip_headers = Vec::new();
    for (name, value) in &invite.headers {
        let name = name.trim();
        if !is_token(name) {
            return Err(SimulateError::HeaderName(name.to_owned()));
        }
        if has_control(value) {
            return Err(SimulateError::HeaderValue(name.to_owned()));
        }
        let value = value.trim();
        if name.len() >= 2 && name[..2].eq_ignore_ascii_case("x-") {
            sip_headers.push((format!("SipHeader_{name}"), value.to_owned()));
        } else if name.eq_ignore_ascii_case("User-to-User") {
            sip_headers.push(("SipHeader_User-to-User".to_owned(), value.to_owned()));
        }
    }

    let call_sid = match given(&invite.call_sid) {
        Some(sid) => sid.to_owned(),
        None => format!("CA{}", random_hex()?),
    };
    let sip_call_id = match given(&invite.sip_call_id) {
        Some(id) => id.to_owned(),
        None => format!("{}@{source_ip}", random_hex()?),
    };

    let mut params = vec![
        (
            "AccountSid".to_owned(),
            invite.account_sid.trim().to_owned(),
        ),
        ("ApiVersion".to_owned(), "2010-04-01".to_owned()),
        ("CallSid".to_owned(), call_sid),
        ("CallStatus".to_owned(), "ringing".to_owned()),
        ("Direction".to_owned(), "inbound".to_owned()),
        ("From".to_owned(), from.clone()),
        ("To".to_owned(), to.clone()),
        ("Caller".to_owned(), from),
        ("Called".to_owned(), to),
        ("SipDomain".to_owned(), domain),
    ];
    if let Some(sid) = given(&invite.domain_sid) {
        params.push(("SipDomainSid".to_owned(), sid.to_owned()));
    }
    params.push(("SipCallId".to_owned(), sip_call_id));
    params.push(("SipSourceIp".to_owned(), source_ip));
    if let Some(username) = given(&invite.username) {
        params.push(("SipUsername".to_owned(), username.to_owned()));
    }
    params.extend(sip_headers);
    Ok(params)
}

/// An optional field counts as absent when it is empty, so a CLI can pass flags through as-is.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The URI of a From or To header: `"Name" <uri>;tag=x` and `uri;tag=x` both give `uri`.
fn address(header: &'static str, value: &str) -> Result<String, SimulateError> {
    let value = value.trim();
    let malformed = |reason: &str| SimulateError::Address {
        header,
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    // A quoted display name may itself hold `<`, so skip it before looking for the URI.
    let mut rest = value;
    if let Some(quoted) = rest.strip_prefix('"') {
        let mut escaped = false;
        let end = quoted
            .char_indices()
            .find(|&(_, c)| {
                let close = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                close
            })
            .map(|(i, _)| i)
            .ok_or_else(|| malformed("the quoted display name is not closed: add the final \""))?;
        rest = &quoted[end + 1..];
    }
    let uri = if let Some(start) = rest.find('<') {
        let inner = &rest[start + 1..];
        let end = inner
            .find('>')
            .ok_or_else(|| malformed("the '<' before the URI is not closed: add '>'"))?;
        inner[..end].trim()
    } else if rest.len() < value.len() {
        return Err(malformed(
            "a display name must be followed by the URI in angle brackets: \"Alice\" <sip:alice@example.com>",
        ));
    } else {
        // Without angle brackets every `;param` belongs to the header (a tag), not the URI.
        // The user part may hold `;`, so look for them only after the `@`.
        let params_from = value.find('@').map_or(0, |at| at + 1);
        match value[params_from..].find(';') {
            Some(i) => value[..params_from + i].trim(),
            None => value,
        }
    };
    if uri.is_empty() {
        return Err(if header == "From" {
            SimulateError::EmptyFrom
        } else {
            malformed("it holds no URI")
        });
    }
    let has_scheme = uri.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    });
    if !has_scheme || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(malformed(
            "write a URI such as sip:alice@example.com, or \"Alice\" <sip:alice@example.com>",
        ));
    }
    Ok(uri.to_owned())
}

/// RFC 3261 `token`: what a header name may be made of.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
}

/// Control characters other than tab cannot appear in a one-line SIP header value.
fn has_control(value: &str) -> bool {
    value.chars().any(|c| c.is_control() && c != '\t')
}

/// 32 lowercase hex digits from the OS's random source, for a fresh id.
fn random_hex() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| std::io::Error::other(format!("failed to read the os random source: {e}")))?;
    Ok(hex::encode(bytes))
}

// ---------------------------------------------------------------------------------------------
// SIP URIs
// ---------------------------------------------------------------------------------------------

/// A SIP URI taken apart: `sip:user@host:port;params?headers`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct SipUriParts {
    /// `sip` or `sips`, lowercase.
    pub scheme: String,
    /// The user part as written, without any `:password`; absent in `sip:pbx.example.com`.
    pub user: Option<String>,
    /// Lowercase host name or IP address (an IPv6 address keeps its brackets).
    pub host: String,
    /// The port, when given.
    pub port: Option<u16>,
    /// Every `;name=value` parameter as written, in order; a flag such as `;lr` has an empty value.
    pub params: Vec<(String, String)>,
    /// Every `?name=value&...` header in order, names and values percent-decoded.
    pub headers: Vec<(String, String)>,
}

/// Takes a `sip:` or `sips:` URI apart; the error says which part is wrong.
pub(crate) fn parse_sip_uri(uri: &str) -> Result<SipUriParts, SimulateError> {
    let uri = uri.trim();
    let bad = |reason: String| SimulateError::SipUri {
        uri: uri.to_owned(),
        reason,
    };
    if uri.is_empty() {
        return Err(bad("it is empty: write sip:user@host".into()));
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad(
            "it holds whitespace or a control character: percent-encode it (a space is %20)".into(),
        ));
    }
    let scheme = match uri.split_once(':') {
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("sip") => "sip",
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("sips") => "sips",
        _ => return Err(bad("it must start with sip: or sips:".into())),
    };
    let rest = &uri[scheme.len() + 1..];
    let (main, headers) = match rest.split_once('?') {
        Some((main, headers)) => (main, Some(headers)),
        None => (rest, None),
    };

    let (user, host_part) = match main.split_once('@') {
        Some((userinfo, host_part)) => {
            // `user:password@host` is deprecated (RFC 3261 19.1.1); the password is never kept.
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            if user.is_empty() {
                return Err(bad(
                    "the user part before '@' is empty: write sip:user@host, or drop the '@'"
                        .into(),
                ));
            }
            (Some(user.to_owned()), host_part)
        }
        None => (None, main),
    };

    let (host_port, params) = match host_part.split_once(';') {
        Some((host_port, params)) => (host_port, Some(params)),
        None => (host_part, None),
    };
    let (host, port) = split_host_port(host_port).map_err(bad)?;

    let mut parts = SipUriParts {
        scheme: scheme.to_owned(),
        user,
        host,
        port,
        params: Vec::new(),
        headers: Vec::new(),
    };
    for param in params.into_iter().flat_map(|p| p.split(';')) {
        if param.is_empty() {
            continue;
        }
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        if !is_token(name) {
            return Err(bad(format!(
                "the parameter {param:?} has no valid name: write ;name=value"
            )));
        }
        parts.params.push((name.to_owned(), value.to_owned()));
    }
    for header in headers.into_iter().flat_map(|h| h.split('&')) {
        if header.is_empty() {
            continue;
        }
        let Some((name, value)) = header.split_once('=') else {
            return Err(bad(format!(
                "the header {header:?} has no value: write ?name=value, joined with &"
            )));
        };
        let name = percent_decode(name).map_err(&bad)?;
        if !is_token(&name) {
            return Err(bad(format!("the header name {name:?} is not a SIP token")));
        }
        let value = percent_decode(value).map_err(&bad)?;
        parts.headers.push((name, value));
    }
    Ok(parts)
}

fn split_host_port(host_port: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let (address, after) = v6
            .split_once(']')
            .ok_or("the IPv6 address has no closing ']'")?;
        if address.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("[{address}] is not an IPv6 address"));
        }
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| format!("unexpected {after:?} after the IPv6 address"))?,
            ),
        };
        (&host_port[..address.len() + 2], port)
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err("it has no host: write sip:user@host".into());
    }
    let valid_name = host.starts_with('[')
        || host.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !valid_name {
        return Err(format!(
            "the host {host:?} is not a host name or IP address: use letters, digits, '-' and '.'"
        ));
    }
    let port = match port {
        None => None,
        Some(port) => Some(
            port.parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| format!("the port {port:?} is not a number from 1 to 65535"))?,
        ),
    };
    Ok((host.to_ascii_lowercase(), port))
}

/// SIP URI escapes are `%XX` only: `+` stays a plus, unlike in HTML forms.
fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let byte = bytes
                .get(i + 1..i + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or_else(|| {
                    format!("{text:?} has a '%' not followed by two hex digits: write %25 for '%'")
                })?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{text:?} does not decode to UTF-8 text"))
}

// ---------------------------------------------------------------------------------------------
// Part 2: TwiML -> the dial plan
// ---------------------------------------------------------------------------------------------

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
        targets: Vec<Target>,
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
pub(crate) enum Target {
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
    let response = parse_xml(twiml)?;
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
        (false, true) => targets.push(Target::Number {
            number: bare_text.to_owned(),
            send_digits: None,
            status_callback: None,
        }),
        (true, false) => {}
    }
    // As the checker counts: every noun rings a party but a room (<Conference>, <Queue>).
    let ringing = targets
        .iter()
        .filter(|t| !matches!(t, Target::Conference { .. } | Target::Queue { .. }))
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

fn target(noun: &Element) -> Result<Target, SimulateError> {
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
        "Number" => Target::Number {
            number: text(None)?,
            send_digits: attribute("sendDigits"),
            status_callback: attribute("statusCallback"),
        },
        "Client" => Target::Client {
            identity: text(Some("Identity"))?,
        },
        "Conference" => Target::Conference { name: text(None)? },
        "Queue" => Target::Queue { name: text(None)? },
        "Sim" => Target::Sim { sid: text(None)? },
        "Application" => Target::Application {
            sid: text(Some("ApplicationSid"))?,
        },
        "WhatsApp" => Target::WhatsApp {
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

fn sip_target(noun: &Element, uri: &str) -> Result<Target, SimulateError> {
    let bad = |reason: String| SimulateError::Twiml(format!("<Sip>{uri}</Sip>: {reason}"));
    let mut refused = None;
    check_sip_uri(uri, "<Sip>", &mut |_, message| {
        refused.get_or_insert(message);
    });
    if let Some(message) = refused {
        return Err(SimulateError::Twiml(message));
    }
    let parts = parse_sip_uri(uri).map_err(|e| match e {
        SimulateError::SipUri { reason, .. } => bad(reason),
        other => other,
    })?;

    // The checker has vouched for the values; what is left is to apply the defaults.
    let mut transport = if parts.scheme == "sips" { "tls" } else { "udp" }.to_owned();
    let mut region = "us1".to_owned();
    let mut params = Vec::new();
    for (name, value) in parts.params {
        if name.eq_ignore_ascii_case("transport") {
            transport = value.to_ascii_lowercase();
        } else if name.eq_ignore_ascii_case("region") {
            region = value.to_ascii_lowercase();
        } else {
            params.push((name, value));
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

    Ok(Target::Sip {
        uri: uri.to_owned(),
        user: parts.user,
        host: parts.host,
        port: parts.port,
        transport,
        region,
        params,
        headers: parts.headers,
        username: noun.attribute("username").map(str::to_owned),
        status_callback: noun.attribute("statusCallback").map(str::to_owned),
        status_callback_events,
        codecs,
    })
}

// ---------------------------------------------------------------------------------------------
// A small element tree: TwiML answers are under 64 kB, and a tree keeps the walk above simple.
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Node>,
}

#[derive(Debug)]
enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn flag(&self, name: &str) -> bool {
        self.attribute(name)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    /// The first child element called `name`.
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find_map(|node| match node {
            Node::Element(e) if e.name == name => Some(e),
            _ => None,
        })
    }

    /// Text directly inside, trimmed.
    fn own_text(&self) -> String {
        let mut text = String::new();
        for node in &self.children {
            if let Node::Text(t) = node {
                text.push_str(t);
            }
        }
        text.trim().to_owned()
    }

    /// Text of this element and every descendant, each piece trimmed and joined by a space.
    fn all_text(&self) -> String {
        let mut pieces = Vec::new();
        let mut stack = vec![self.children.iter()];
        while let Some(nodes) = stack.last_mut() {
            match nodes.next() {
                Some(Node::Text(t)) if !t.trim().is_empty() => pieces.push(t.trim()),
                Some(Node::Text(_)) => {}
                Some(Node::Element(e)) => stack.push(e.children.iter()),
                None => {
                    stack.pop();
                }
            }
        }
        pieces.join(" ")
    }
}

/// Parses the document into its `<Response>` element, entities resolved.
fn parse_xml(twiml: &str) -> Result<Element, SimulateError> {
    let mut reader = Reader::from_str(twiml);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let at = |offset: u64, reason: String| {
        let offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(twiml.len());
        let line = twiml.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        SimulateError::Xml(format!("line {line}: {reason}"))
    };
    loop {
        let event = reader.read_event().map_err(|e| {
            let mut reason = e.to_string();
            if reason.contains("reference not closed") {
                reason.push_str(": write &amp; for a literal '&'");
            }
            at(reader.error_position(), reason)
        })?;
        let mut text = None;
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                if stack.is_empty() && root.is_some() {
                    return Err(at(
                        reader.buffer_position(),
                        "a second root element follows </Response>".into(),
                    ));
                }
                if stack.len() >= MAX_XML_DEPTH {
                    return Err(at(
                        reader.buffer_position(),
                        format!("elements nest more than {MAX_XML_DEPTH} deep"),
                    ));
                }
                let mut attributes = Vec::new();
                for attribute in start.attributes() {
                    let attribute =
                        attribute.map_err(|e| at(reader.buffer_position(), e.to_string()))?;
                    let value = attribute
                        .normalized_value(quick_xml::XmlVersion::Explicit1_0)
                        .map_err(|e| at(reader.buffer_position(), e.to_string()))?;
                    let key: &str = attribute.key.as_ref();
                    attributes.push((key.to_owned(), value.into_owned()));
                }
                let element = Element {
                    name: start.name().0.to_owned(),
                    attributes,
                    children: Vec::new(),
                };
                if matches!(event, Event::Start(_)) {
                    stack.push(element);
                } else {
                    attach(&mut stack, &mut root, element);
                }
            }
            Event::End(_) => {
                // quick-xml has already checked that the end tag matches.
                if let Some(element) = stack.pop() {
                    attach(&mut stack, &mut root, element);
                }
            }
            Event::Text(ref t) => text = Some(t.xml10_content().into_owned()),
            Event::CData(ref t) => text = Some(t.xml10_content().into_owned()),
            Event::GeneralRef(ref reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => Some(c.to_string()),
                    Ok(None) => {
                        quick_xml::escape::resolve_predefined_entity(reference).map(str::to_owned)
                    }
                    Err(_) => None,
                };
                let Some(resolved) = resolved else {
                    let name: &str = reference;
                    return Err(at(
                        reader.buffer_position(),
                        format!("unknown entity &{name};: write &amp; for a literal '&'"),
                    ));
                };
                text = Some(resolved);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
        if let Some(text) = text {
            match stack.last_mut() {
                Some(parent) => match parent.children.last_mut() {
                    // Text around an entity arrives in pieces; keep it one node.
                    Some(Node::Text(previous)) => previous.push_str(&text),
                    _ => parent.children.push(Node::Text(text)),
                },
                None if text.trim().is_empty() => {}
                None => {
                    return Err(at(
                        reader.buffer_position(),
                        "text outside <Response>".into(),
                    ));
                }
            }
        }
    }
    if let Some(open) = stack.last() {
        return Err(SimulateError::Xml(format!(
            "<{}> is not closed before the end of the document",
            open.name
        )));
    }
    let root = root.ok_or_else(|| SimulateError::Xml("there is no <Response> element".into()))?;
    if root.name != "Response" {
        return Err(SimulateError::Twiml(format!(
            "the root element is <{}>: a TwiML document is one <Response>",
            root.name
        )));
    }
    Ok(root)
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(element)),
        None => *root = Some(element),
    }
}

// ---------------------------------------------------------------------------------------------
// For people
// ---------------------------------------------------------------------------------------------

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
fn describe(target: &Target) -> (String, Vec<String>) {
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
        Target::Sip {
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
        Target::Number {
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
        Target::Client { identity } => (format!("client {}", printable(identity)), Vec::new()),
        Target::Conference { name } => (format!("conference {}", printable(name)), Vec::new()),
        Target::Queue { name } => (format!("queue {}", printable(name)), Vec::new()),
        Target::Sim { sid } => (format!("sim {}", printable(sid)), Vec::new()),
        Target::Application { sid } => (format!("application {}", printable(sid)), Vec::new()),
        Target::WhatsApp { number } => (format!("whatsapp {}", printable(number)), Vec::new()),
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
    use super::*;
    use twiml_edge_twiml::{CALL_EVENTS, MAX_URI_CHARS as MAX_SIP_URI_CHARS};

    const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";

    fn invite(request_uri: &str, from: &str) -> Invite {
        Invite {
            request_uri: request_uri.into(),
            from: from.into(),
            account_sid: ACCOUNT.into(),
            call_sid: Some("CA11111111111111111111111111111111".into()),
            sip_call_id: Some("abc@203.0.113.10".into()),
            ..Invite::default()
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|&(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn is_sid(value: &str, prefix: &str) -> bool {
        value.len() == 34
            && value.starts_with(prefix)
            && value[2..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }

    #[test]
    fn webhook_for_a_full_invite_is_in_engine_order() {
        let invite = Invite {
            to: Some("<sip:+15125551212@acme.sip.us1.twilio.com>".into()),
            headers: headers(&[
                ("X-Customer", "42"),
                ("P-Asserted-Identity", "<sip:+14155550100@carrier.example>"),
                ("user-to-user", "56a3;encoding=hex"),
                ("Contact", "<sip:alice@198.51.100.7:5060>"),
                ("x-lower", "a=1;b=2"),
            ]),
            source_ip: "198.51.100.7".into(),
            domain_sid: Some("SD0123456789abcdef0123456789abcdef".into()),
            username: Some("alice".into()),
            ..invite(
                "sip:+15125551212@ACME.sip.us1.twilio.com:5061;transport=tls",
                "\"Alice\" <sip:alice@acme.sip.twilio.com>;tag=9fxced76sl",
            )
        };
        let want = headers(&[
            ("AccountSid", ACCOUNT),
            ("ApiVersion", "2010-04-01"),
            ("CallSid", "CA11111111111111111111111111111111"),
            ("CallStatus", "ringing"),
            ("Direction", "inbound"),
            ("From", "sip:alice@acme.sip.twilio.com"),
            ("To", "sip:+15125551212@acme.sip.us1.twilio.com"),
            ("Caller", "sip:alice@acme.sip.twilio.com"),
            ("Called", "sip:+15125551212@acme.sip.us1.twilio.com"),
            ("SipDomain", "acme.sip.us1.twilio.com"),
            ("SipDomainSid", "SD0123456789abcdef0123456789abcdef"),
            ("SipCallId", "abc@203.0.113.10"),
            ("SipSourceIp", "198.51.100.7"),
            ("SipUsername", "alice"),
            ("SipHeader_X-Customer", "42"),
            ("SipHeader_User-to-User", "56a3;encoding=hex"),
            ("SipHeader_x-lower", "a=1;b=2"),
        ]);
        assert_eq!(webhook_params(&invite).unwrap(), want);
    }

    #[test]
    fn webhook_single_parameters() {
        // (invite, parameter, expected value or None when it must be absent)
        let cases: Vec<(Invite, &str, Option<&str>)> = vec![
            (
                invite(
                    "sip:bob@acme.sip.twilio.com",
                    "sip:alice@acme.sip.twilio.com",
                ),
                "To",
                Some("sip:bob@acme.sip.twilio.com"),
            ),
            (
                invite(
                    "sip:+15125551212@acme.sip.us1.twilio.com;transport=tls",
                    "sip:alice@x",
                ),
                "Called",
                Some("sip:+15125551212@acme.sip.us1.twilio.com;transport=tls"),
            ),
            (
                invite("sip:+15125551212@Acme.SIP.us1.twilio.com", "sip:alice@x"),
                "SipDomain",
                Some("acme.sip.us1.twilio.com"),
            ),
            (
                invite("sips:acme.sip.twilio.com:5061", "sip:alice@x"),
                "SipDomain",
                Some("acme.sip.twilio.com"),
            ),
            (
                invite("sip:bob@acme.sip.twilio.com", "Alice <sip:alice@x>"),
                "From",
                Some("sip:alice@x"),
            ),
            (
                invite(
                    "sip:bob@acme.sip.twilio.com",
                    "\"Smith <Sales>\" <sip:alice@x>;tag=1",
                ),
                "Caller",
                Some("sip:alice@x"),
            ),
            (
                invite("sip:bob@acme.sip.twilio.com", "sip:+1415;npdi@x;tag=abc"),
                "From",
                Some("sip:+1415;npdi@x"),
            ),
            (
                invite("sip:bob@acme.sip.twilio.com", "sip:alice@x"),
                "SipSourceIp",
                Some(DEFAULT_SOURCE_IP),
            ),
            (
                Invite {
                    source_ip: "2001:DB8::7".into(),
                    ..invite("sip:bob@acme.sip.twilio.com", "sip:alice@x")
                },
                "SipSourceIp",
                Some("2001:db8::7"),
            ),
            (
                Invite {
                    to: Some("  ".into()),
                    ..invite("sip:bob@acme.sip.twilio.com", "sip:alice@x")
                },
                "To",
                Some("sip:bob@acme.sip.twilio.com"),
            ),
            (
                invite("sip:bob@acme.sip.twilio.com", "sip:alice@x"),
                "SipUsername",
                None,
            ),
            (
                invite("sip:bob@acme.sip.twilio.com", "sip:alice@x"),
                "SipDomainSid",
                None,
            ),
            (
                Invite {
                    headers: headers(&[("USER-TO-USER", "00ff")]),
                    ..invite("sip:bob@acme.sip.twilio.com", "sip:alice@x")
                },
                "SipHeader_User-to-User",
                Some("00ff"),
            ),
            (
                Invite {
                    headers: headers(&[("P-Asserted-Identity", "<sip:+1@x>")]),
                    ..invite("sip:bob@acme.sip.twilio.com", "sip:alice@x")
                },
                "SipHeader_P-Asserted-Identity",
                None,
            ),
            (
                Invite {
                    headers: headers(&[("Xylophone", "no dash")]),
                    ..invite("sip:bob@acme.sip.twilio.com", "sip:alice@x")
                },
                "SipHeader_Xylophone",
                None,
            ),
        ];
        for (invite, name, want) in cases {
            let params = webhook_params(&invite).unwrap();
            assert_eq!(param(&params, name), want, "{name} for {invite:?}");
        }
    }

    #[test]
    fn webhook_keeps_repeated_headers_in_order_and_drops_the_rest() {
        let invite = Invite {
            headers: headers(&[("X-Tag", "one"), ("Contact", "<sip:a@b>"), ("X-Tag", "two")]),
            ..invite("sip:bob@acme.sip.twilio.com", "sip:alice@x")
        };
        let params = webhook_params(&invite).unwrap();
        let sip_headers: Vec<_> = params
            .iter()
            .filter(|(k, _)| k.starts_with("SipHeader_"))
            .collect();
        assert_eq!(
            sip_headers,
            [
                &("SipHeader_X-Tag".to_owned(), "one".to_owned()),
                &("SipHeader_X-Tag".to_owned(), "two".to_owned()),
            ]
        );
        assert!(params.iter().all(|(_, v)| !v.contains("sip:a@b")));
    }

    #[test]
    fn webhook_draws_fresh_ids() {
        let invite = Invite {
            call_sid: None,
            sip_call_id: None,
            source_ip: "198.51.100.7".into(),
            ..invite("sip:bob@acme.sip.twilio.com", "sip:alice@x")
        };
        let first = webhook_params(&invite).unwrap();
        let second = webhook_params(&invite).unwrap();
        let call_sid = param(&first, "CallSid").unwrap();
        assert!(is_sid(call_sid, "CA"), "{call_sid}");
        assert_ne!(Some(call_sid), param(&second, "CallSid"));
        let (hex, host) = param(&first, "SipCallId").unwrap().split_once('@').unwrap();
        assert!(is_sid(&format!("CA{hex}"), "CA"), "{hex}");
        assert_eq!(host, "198.51.100.7");
    }

    #[test]
    fn webhook_refuses_bad_invites() {
        let ok = || invite("sip:bob@acme.sip.twilio.com", "sip:alice@x");
        // (invite, a fragment the message must hold)
        let cases: Vec<(Invite, &str)> = vec![
            (
                Invite {
                    request_uri: "tel:+15125551212".into(),
                    ..ok()
                },
                "request URI \"tel:+15125551212\" is not a SIP URI: it must start with sip:",
            ),
            (
                Invite {
                    request_uri: "sip:bob@".into(),
                    ..ok()
                },
                "it has no host",
            ),
            (
                Invite {
                    request_uri: "".into(),
                    ..ok()
                },
                "is empty",
            ),
            (
                Invite {
                    request_uri: "sip:bob@acme_sip.example".into(),
                    ..ok()
                },
                "is not a host name",
            ),
            (
                Invite {
                    from: " ".into(),
                    ..ok()
                },
                "From header is empty",
            ),
            (
                Invite {
                    from: "\"Alice\" <>".into(),
                    ..ok()
                },
                "From header is empty",
            ),
            (
                Invite {
                    from: "Alice <sip:alice@x".into(),
                    ..ok()
                },
                "add '>'",
            ),
            (
                Invite {
                    from: "Alice sip:alice@x".into(),
                    ..ok()
                },
                "From header \"Alice sip:alice@x\" is malformed: write a URI",
            ),
            (
                Invite {
                    to: Some("alice".into()),
                    ..ok()
                },
                "To header \"alice\" is malformed",
            ),
            (
                Invite {
                    headers: headers(&[("X Customer", "42")]),
                    ..ok()
                },
                "\"X Customer\" is not a SIP token",
            ),
            (
                Invite {
                    headers: headers(&[("X-Customer:", "42")]),
                    ..ok()
                },
                "is not a SIP token",
            ),
            (
                Invite {
                    headers: headers(&[("", "42")]),
                    ..ok()
                },
                "is not a SIP token",
            ),
            (
                Invite {
                    headers: headers(&[("X-Evil", "1\r\nX-Other: 2")]),
                    ..ok()
                },
                "line break",
            ),
            (
                Invite {
                    source_ip: "203.0.113".into(),
                    ..ok()
                },
                "source IP \"203.0.113\" is not an IPv4 or IPv6 address",
            ),
            (
                Invite {
                    source_ip: "pbx.example.com".into(),
                    ..ok()
                },
                "is not an IPv4 or IPv6 address",
            ),
        ];
        for (invite, want) in cases {
            let err = webhook_params(&invite).unwrap_err().to_string();
            assert!(err.contains(want), "{invite:?}: {err}");
        }
    }

    #[test]
    fn sip_uris_come_apart() {
        let uri = |user: Option<&str>, host: &str, port: Option<u16>| SipUriParts {
            scheme: "sip".into(),
            user: user.map(str::to_owned),
            host: host.into(),
            port,
            params: Vec::new(),
            headers: Vec::new(),
        };
        let cases = [
            (
                "sip:alice@example.com",
                uri(Some("alice"), "example.com", None),
            ),
            (
                "sip:bob@pbx.example.com:5061",
                uri(Some("bob"), "pbx.example.com", Some(5061)),
            ),
            ("sip:pbx.example.com", uri(None, "pbx.example.com", None)),
            (
                "SIP:Bob:secret@PBX.example.com",
                uri(Some("Bob"), "pbx.example.com", None),
            ),
            (
                "sip:[2001:db8::1]:5080",
                uri(None, "[2001:db8::1]", Some(5080)),
            ),
            (
                "sips:alice@example.com;transport=TLS;lr?X-A=1%2B1&x-b=a+b",
                SipUriParts {
                    scheme: "sips".into(),
                    params: headers(&[("transport", "TLS"), ("lr", "")]),
                    headers: headers(&[("X-A", "1+1"), ("x-b", "a+b")]),
                    ..uri(Some("alice"), "example.com", None)
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse_sip_uri(text).unwrap(), want, "{text}");
        }
        let bad = [
            ("mailto:alice@example.com", "sip: or sips:"),
            ("sip:@example.com", "user part before '@' is empty"),
            ("sip:alice@example.com:0", "port \"0\""),
            ("sip:alice@example.com:50a", "port \"50a\""),
            ("sip:alice@[::1", "no closing ']'"),
            ("sip:alice@exa mple.com", "whitespace"),
            ("sip:alice@example..com", "not a host name"),
            ("sip:a@example.com?x-a=%zz", "two hex digits"),
            ("sip:a@example.com?x-a=%ff", "UTF-8"),
            ("sip:a@example.com?x-a", "has no value"),
        ];
        for (text, want) in bad {
            let err = parse_sip_uri(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    fn sip(uri: &str) -> Target {
        let parts = parse_sip_uri(uri).unwrap();
        Target::Sip {
            uri: uri.into(),
            user: parts.user,
            host: parts.host,
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

    fn number(number: &str) -> Target {
        Target::Number {
            number: number.into(),
            send_digits: None,
            status_callback: None,
        }
    }

    fn dial(mode: DialMode, targets: Vec<Target>) -> Step {
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
            if let Target::Sip {
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
                    vec![Target::Sip {
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
                            if let Target::Sip { codecs, .. } = &mut target {
                                *codecs = vec!["PCMU".into(), "OPUS".into()];
                            }
                            target
                        },
                        {
                            let mut target = sip("sips:carol@pbx.example.com");
                            if let Target::Sip { transport, .. } = &mut target {
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
                            Target::Number {
                                number: "+12025550100".into(),
                                send_digits: Some("wwww1928".into()),
                                status_callback: Some("/s".into()),
                            },
                            number("+14155550100"),
                            Target::Client {
                                identity: "alice".into(),
                            },
                            Target::Client {
                                identity: "bob".into(),
                            },
                        ],
                    ),
                    dial(
                        DialMode::Parallel,
                        vec![Target::Conference {
                            name: "Room 1".into(),
                        }],
                    ),
                    dial(
                        DialMode::Parallel,
                        vec![Target::Queue {
                            name: "support".into(),
                        }],
                    ),
                    dial(
                        DialMode::Parallel,
                        vec![Target::Sim {
                            sid: "DE0123".into(),
                        }],
                    ),
                    dial(
                        DialMode::Parallel,
                        vec![Target::Application {
                            sid: "AP0123".into(),
                        }],
                    ),
                    dial(
                        DialMode::Parallel,
                        vec![Target::WhatsApp {
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
            ("", "no <Response>"),
            ("<Response><Dial></Response>", "line 1"),
            ("<Reponse/>", "root element is <Reponse>"),
            ("<Response/><Response/>", "second root"),
            ("<Response>hello</Response>", "put it in a verb"),
            (
                "<Response><Say>Tom & Jerry</Say></Response>",
                "not well-formed",
            ),
            (
                "<Response><Say>&nbsp;</Say></Response>",
                "unknown entity &nbsp;",
            ),
            ("<Response><Dial>", "<Dial> is not closed"),
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

    #[test]
    fn display_escapes_control_characters() {
        let plan = dial_plan("<Response><Say>line one\nline two</Say><Dial callerId=\"a&#27;[31m\">+1</Dial></Response>").unwrap();
        let text = plan.to_string();
        assert!(text.contains(r#"Say "line one\nline two""#), "{text}");
        assert!(text.contains(r"callerId a\u{1b}[31m"), "{text}");
        assert!(!text.contains('\u{1b}'));
    }
}
