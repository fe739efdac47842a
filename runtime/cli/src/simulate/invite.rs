//! The INVITE a developer describes becomes the form the SIP engine posts to a domain's
//! `voice_url`.

use std::net::IpAddr;

use twiml_edge_twiml::parse_sip_uri;

use super::SimulateError;

/// The source address used when an [`Invite`] names none (a documentation address, RFC 5737).
pub(crate) const DEFAULT_SOURCE_IP: &str = "203.0.113.10";

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
        .map_err(|reason| SimulateError::RequestUri {
            uri: request_uri.to_owned(),
            reason,
        })?
        .host
        .to_ascii_lowercase();

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
