//! The SIP URI inside `<Sip>` (and `<Uri>`, `<Refer><Sip>`): scheme, length, parameters, headers.
//!
//! Follows SPEC §5 and seed 002: `sip:` or `sips:`, the URI before `?` at most 255 characters,
//! the headers after `?` under 1024, `;transport=` udp/tcp/tls, `;region=` one of the SIP-out
//! regions, header names `x-...` or one of [`STANDARD_HEADERS`], header values URL-escaped.

/// Longest URI (the part before `?`) the engine dials; seed 002 says "255文字以内", so 255 passes.
pub const MAX_URI_CHARS: usize = 255;
/// Header part (after `?`) must be "under 1024 characters".
pub const MAX_HEADERS_CHARS: usize = 1024;
/// The transports `;transport=` may name.
pub const TRANSPORTS: &[&str] = &["udp", "tcp", "tls"];
/// Twilio's SIP regions, as `;region=` names them and as the label after `.sip.` of a domain's
/// regional host name (`acme.sip.us1.twilio.com`).
pub const REGIONS: &[&str] = &["us1", "us2", "ie1", "de1", "sg1", "jp1", "br1", "au1"];
/// Twilio's edge locations, which also name a domain's regional host (`acme.sip.ashburn...`).
pub const EDGES: &[&str] = &[
    "ashburn",
    "umatilla",
    "dublin",
    "frankfurt",
    "singapore",
    "tokyo",
    "sao-paulo",
    "sydney",
];
/// Headers passed on although their name does not start with `x-`: User-to-User (seed 002)
/// and the standard caller-identity headers a PBX reads (RFC 3325, RFC 3455, the
/// Remote-Party-ID draft). Compared case-insensitively, as SIP header names are.
pub const STANDARD_HEADERS: &[&str] = &[
    "User-to-User",
    "Remote-Party-ID",
    "P-Asserted-Identity",
    "P-Preferred-Identity",
    "P-Called-Party-ID",
];

/// A SIP URI taken apart, borrowing from the text: `sip:user@host:port;params?headers`. The one
/// reading of a SIP URI: the TwiML check, the call simulator and the guest SDK's builder all go
/// through [`parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri<'a> {
    /// `sip` or `sips`, lowercase.
    pub scheme: &'static str,
    /// The user part as written, without any `:password`; absent in `sip:pbx.example.com`.
    pub user: Option<&'a str>,
    /// The host as written (an IPv6 address keeps its brackets).
    pub host: &'a str,
    /// The port, when given.
    pub port: Option<u16>,
    /// Every `;name=value` parameter as written, in order; a flag such as `;lr` has an empty
    /// value.
    pub params: Vec<(&'a str, &'a str)>,
    /// The URI before `?`: what the engine dials, and what [`MAX_URI_CHARS`] bounds.
    pub address: &'a str,
    /// The header part after `?`, as written (escaped), when there is one.
    pub headers: Option<&'a str>,
}

/// Takes a `sip:` or `sips:` URI apart, or says what is wrong with its structure (scheme, user,
/// host, port, parameter names); headers are read by [`SipUri::decoded_headers`] and checked
/// by [`check_uri`].
pub fn parse(uri: &str) -> Result<SipUri<'_>, String> {
    let uri = uri.trim();
    if uri.is_empty() {
        return Err("it is empty: write sip:user@host".into());
    }
    let Some((scheme, rest)) = split_scheme(uri) else {
        return Err("it must start with sip: or sips: (for example sip:alice@example.com)".into());
    };
    let (address, headers) = match uri.find('?') {
        Some(q) => (&uri[..q], Some(&uri[q + 1..])),
        None => (uri, None),
    };
    let rest = &rest[..rest.len() - (uri.len() - address.len())];
    if let Some(bad) = address
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "<>\"".contains(*c))
    {
        return Err(format!(
            "it contains {}; a SIP URI holds no whitespace, quotes or control characters: \
             percent-escape it (a space is %20) or remove it",
            describe(bad)
        ));
    }
    // Parameters follow the host; a user part may carry its own ';' before the '@'.
    let (user, host_and_params) = match rest.split_once('@') {
        Some((userinfo, after)) => {
            // `user:password@host` is deprecated (RFC 3261 19.1.1); the password is not kept.
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            if user.is_empty() {
                return Err(
                    "the user part before '@' is empty: write sip:user@host, or drop the '@'"
                        .into(),
                );
            }
            (Some(user), after)
        }
        None => (None, rest),
    };
    if host_and_params.contains('@') {
        // What a caller's value spliced into the user part looks like: the engine would dial
        // the first host, not the one the template wrote.
        return Err(
            "it has more than one '@'; percent-escape an '@' in the user part as %40 (in a bin, \
             wrap the value in {{#urlencode}}...{{/urlencode}})"
                .into(),
        );
    }
    let (host_port, params) = host_and_params
        .split_once(';')
        .map_or((host_and_params, None), |(h, p)| (h, Some(p)));
    let (host, port) = split_host_port(host_port)?;
    let mut parsed = SipUri {
        scheme,
        user,
        host,
        port,
        params: Vec::new(),
        address,
        headers,
    };
    for param in params.into_iter().flat_map(|p| p.split(';')) {
        if param.is_empty() {
            continue;
        }
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(format!(
                "the parameter {param:?} has no valid name: write ;name=value"
            ));
        }
        parsed.params.push((name, value));
    }
    Ok(parsed)
}

impl SipUri<'_> {
    /// Every `?name=value&...` header in order, names and values percent-decoded; the error
    /// says which one cannot be read.
    pub fn decoded_headers(&self) -> Result<Vec<(String, String)>, String> {
        let mut decoded = Vec::new();
        for header in self.headers.into_iter().flat_map(|h| h.split('&')) {
            if header.is_empty() {
                continue;
            }
            let Some((name, value)) = header.split_once('=') else {
                return Err(format!(
                    "the header {header:?} has no value: write ?name=value, joined with &"
                ));
            };
            let name = percent_decode(name)?;
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return Err(format!("the header name {name:?} is not a SIP token"));
            }
            decoded.push((name, percent_decode(value)?));
        }
        Ok(decoded)
    }
}

/// Checks one SIP URI (already unescaped from XML and trimmed), reporting `(rule, message)`:
/// its structure ([`parse`]), then the engine's rules: length, transport, region and headers.
///
/// `element` names the element in messages, e.g. `<Sip>`.
pub fn check_uri(uri: &str, element: &str, report: &mut impl FnMut(&'static str, String)) {
    let parsed = match parse(uri) {
        Ok(parsed) => parsed,
        Err(reason) => {
            report(
                "sip-uri-invalid",
                format!(
                    "{element} text {:?} is not a SIP URI: {reason}",
                    shorten(uri)
                ),
            );
            return;
        }
    };
    let len = parsed.address.chars().count();
    if len > MAX_URI_CHARS {
        report(
            "sip-uri-too-long",
            format!(
                "{element} URI is {len} characters long before the '?'; the SIP engine dials \
                 at most {MAX_URI_CHARS}: shorten it or move data into x- headers after '?'"
            ),
        );
    }
    for &(name, value) in &parsed.params {
        if name.eq_ignore_ascii_case("transport")
            && !TRANSPORTS.iter().any(|t| t.eq_ignore_ascii_case(value))
        {
            report(
                "sip-transport",
                format!(
                    "{element} URI has ;transport={value}; the SIP engine supports only \
                     transport=udp, tcp or tls"
                ),
            );
        } else if name.eq_ignore_ascii_case("region")
            && !REGIONS.iter().any(|r| r.eq_ignore_ascii_case(value))
        {
            report(
                "sip-region",
                format!(
                    "{element} URI has ;region={value}; use one of {}",
                    REGIONS.join(", ")
                ),
            );
        }
    }
    if let Some(headers) = parsed.headers {
        check_headers(headers, element, report);
    }
}

/// The host of `host_port` and its port, or what is wrong with them.
fn split_host_port(host_port: &str) -> Result<(&str, Option<u16>), String> {
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
    if !host.starts_with('[') {
        if let Some(bad) = host
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-.".contains(*c)))
        {
            return Err(format!(
                "its host {:?} is not a host name: it contains {}; a host is a name, an IPv4 \
                 address or a bracketed IPv6 address, with an optional :port",
                shorten(host),
                describe(bad)
            ));
        }
        if host.split('.').any(str::is_empty) {
            return Err(format!(
                "the host {host:?} is not a host name or IP address: use letters, digits, '-' \
                 and '.', with no empty label"
            ));
        }
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
    Ok((host, port))
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

fn check_headers(headers: &str, element: &str, report: &mut impl FnMut(&'static str, String)) {
    let len = headers.chars().count();
    if len >= MAX_HEADERS_CHARS {
        report(
            "sip-headers-too-long",
            format!(
                "{element} headers after '?' are {len} characters long; they must be under \
                 {MAX_HEADERS_CHARS}"
            ),
        );
    }
    for header in headers.split('&').filter(|h| !h.is_empty()) {
        let Some((name, value)) = header.split_once('=') else {
            report(
                "sip-header-syntax",
                format!(
                    "{element} header {:?} has no '='; write headers as name=value, \
                     joined with &amp;",
                    shorten(header)
                ),
            );
            continue;
        };
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            report(
                "sip-header-syntax",
                format!(
                    "{element} header name {:?} is not a valid SIP header name (letters, digits \
                     and - . ! % * _ + ` ' ~ only)",
                    shorten(name)
                ),
            );
            continue;
        }
        let custom = name.len() > 2 && name[..2].eq_ignore_ascii_case("x-");
        if !custom
            && !STANDARD_HEADERS
                .iter()
                .any(|s| s.eq_ignore_ascii_case(name))
        {
            report(
                "sip-header-name",
                format!(
                    "{element} header {name:?} is not passed on: custom SIP headers must start \
                     with x- (write x-{name}); only {} may go without it",
                    STANDARD_HEADERS.join(", ")
                ),
            );
        }
        if let Some(problem) = unescaped(value) {
            report(
                "sip-header-value",
                format!(
                    "{element} header {name:?} value {:?} {problem}",
                    shorten(value)
                ),
            );
        }
    }
}

/// Returns what is wrong when `value` is not URL-escaped (RFC 3261 `hvalue`), or `None`.
fn unescaped(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = value
                .get(i + 1..i + 3)
                .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()));
            if let Some(hex) = hex {
                let escaped = u8::from_str_radix(hex, 16).expect("two hex digits");
                // A header is one line: an escaped line break would end it and start another
                // (header injection), and other control characters cannot stand in it either.
                if (escaped < 0x20 && escaped != b'\t') || escaped == 0x7f {
                    return Some(format!(
                        "has %{hex}, {} escaped, which a SIP header cannot carry; remove it",
                        describe(char::from(escaped))
                    ));
                }
                i += 3;
                continue;
            }
            return Some(
                "has a '%' that does not start a %XX escape; write %25 for a literal '%'".into(),
            );
        }
        if !is_hvalue_byte(b) {
            let c = value[i..].chars().next().unwrap_or('?');
            let mut buf = [0u8; 4];
            let escaped: String = c
                .encode_utf8(&mut buf)
                .bytes()
                .map(|b| format!("%{b:02X}"))
                .collect();
            return Some(format!(
                "contains {} which must be URL-escaped as {escaped}",
                describe(c)
            ));
        }
        i += 1;
    }
    None
}

/// RFC 3261 `hnv-unreserved / unreserved`: what a header value may hold without escaping.
fn is_hvalue_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.!~*'()[]/?:+$".contains(&b)
}

/// RFC 3261 `token`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// The scheme of `uri`, lowercase, and what follows its colon.
fn split_scheme(uri: &str) -> Option<(&'static str, &str)> {
    for scheme in ["sips", "sip"] {
        let (Some(head), Some(rest)) = (uri.get(..scheme.len()), uri.get(scheme.len()..)) else {
            continue;
        };
        if head.eq_ignore_ascii_case(scheme)
            && let Some(rest) = rest.strip_prefix(':')
        {
            return Some((scheme, rest));
        }
    }
    None
}

fn describe(c: char) -> String {
    match c {
        ' ' => "a space".into(),
        '\t' => "a tab".into(),
        '\n' | '\r' => "a line break".into(),
        c if c.is_control() => format!("the control character U+{:04X}", c as u32),
        c => format!("{c:?}"),
    }
}

/// At most 60 characters of `s`, for messages.
pub(crate) fn shorten(s: &str) -> String {
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(uri: &str) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        check_uri(uri, "<Sip>", &mut |rule, msg| out.push((rule, msg)));
        out
    }

    #[test]
    fn good_uris_pass() {
        for uri in [
            "sip:alice@example.com",
            "SIP:alice@example.com",
            "sips:alice@example.com:5061;transport=TLS",
            "sip:+15125551212@pbx.example.com;transport=udp;region=au1",
            "sip:alice;phone-context=x@example.com;region=de1",
            "sip:jack@example.com?x-customname=Madhu%2CMathiyalagan%3BTitle%3DManager&x-myotherheader=bar",
            "sip:jack@example.com?User-to-User=123456789%3Bencoding%3Dhex&X-Other=bar",
            "sip:jack@example.com?P-Asserted-Identity=%3Csip%3A%2B1415%40x%3E&x-a=+1(2)",
            "sip:example.com",
            "sip:a@example.com?x-a=tab%09separated",
        ] {
            assert_eq!(findings(uri), vec![], "{uri}");
        }
    }

    #[test]
    fn uri_length_boundary_is_255() {
        let host = "a".repeat(MAX_URI_CHARS - "sip:x@".len());
        let uri = format!("sip:x@{host}");
        assert_eq!(uri.len(), MAX_URI_CHARS);
        assert_eq!(findings(&uri), vec![]);
        let longer = format!("{uri}a");
        assert_eq!(findings(&longer)[0].0, "sip-uri-too-long");
        // Headers do not count towards the 255.
        assert_eq!(findings(&format!("{uri}?x-a={}", "b".repeat(900))), vec![]);
    }

    #[test]
    fn headers_length_boundary_is_under_1024() {
        let ok = format!(
            "sip:a@b?x-a={}",
            "b".repeat(MAX_HEADERS_CHARS - 1 - "x-a=".len())
        );
        assert_eq!(findings(&ok), vec![]);
        let bad = format!("{ok}b");
        assert_eq!(findings(&bad)[0].0, "sip-headers-too-long");
    }

    #[test]
    fn each_problem_is_named() {
        let cases = [
            (
                "tel:+15125551212",
                "sip-uri-invalid",
                "must start with sip:",
            ),
            ("sip:alice @example.com", "sip-uri-invalid", "a space"),
            ("sip:alice@", "sip-uri-invalid", "no host"),
            (
                "sip:sales@evil.example;transport=udp@pbx.example.com",
                "sip-uri-invalid",
                "more than one '@'",
            ),
            (
                "sip:alice@pbx/example.com",
                "sip-uri-invalid",
                "contains '/'",
            ),
            ("sip:a@b;transport=sctp", "sip-transport", "transport=sctp"),
            ("sip:a@b;region=eu1", "sip-region", "region=eu1"),
            ("sip:a@b?x-a", "sip-header-syntax", "no '='"),
            (
                "sip:a@b?x a=1",
                "sip-header-syntax",
                "not a valid SIP header name",
            ),
            (
                "sip:a@b?customheader=foo",
                "sip-header-name",
                "write x-customheader",
            ),
            ("sip:a@b?x-a=hello world", "sip-header-value", "as %20"),
            ("sip:a@b?x-a=a;b", "sip-header-value", "as %3B"),
            ("sip:a@b?x-a=100%", "sip-header-value", "%25"),
            ("sip:a@b?x-a=caf\u{e9}", "sip-header-value", "%C3%A9"),
            (
                "sip:a@b?x-a=1%0D%0AVia:%20evil",
                "sip-header-value",
                "%0D, a line break escaped",
            ),
            (
                "sip:a@b?x-a=1%00",
                "sip-header-value",
                "the control character U+0000",
            ),
            (
                "sip:a@b?x-a=1%7f",
                "sip-header-value",
                "%7f, the control character U+007F",
            ),
        ];
        for (uri, rule, fragment) in cases {
            let got = findings(uri);
            assert!(
                got.iter().any(|(r, m)| *r == rule && m.contains(fragment)),
                "{uri}: expected {rule} with {fragment:?}, got {got:?}"
            );
        }
    }

    /// Found by `fuzz/fuzz_targets/sip_uri.rs`: a multi-byte character right after a scheme's
    /// letters was sliced through.
    #[test]
    fn a_character_across_the_scheme_boundary_is_no_scheme() {
        let text = "tel\u{c1}+15\0\u{11}55i\u{c}\u{4}\0\0\0\0\0\0\x0051212";
        assert!(parse(text).is_err());
        assert!(parse("sipé:a@b").is_err());
        assert!(parse("sipsé").is_err());
    }

    #[test]
    fn sip_uris_come_apart() {
        // (text, user, host as written, port, params, decoded headers)
        type Want<'a> = (
            Option<&'a str>,
            &'a str,
            Option<u16>,
            &'a [(&'a str, &'a str)],
            &'a [(&'a str, &'a str)],
        );
        let cases: [(&str, &str, Want<'_>); 6] = [
            (
                "sip:alice@example.com",
                "sip",
                (Some("alice"), "example.com", None, &[], &[]),
            ),
            (
                "sip:bob@pbx.example.com:5061",
                "sip",
                (Some("bob"), "pbx.example.com", Some(5061), &[], &[]),
            ),
            (
                "sip:pbx.example.com",
                "sip",
                (None, "pbx.example.com", None, &[], &[]),
            ),
            (
                "SIP:Bob:secret@PBX.example.com",
                "sip",
                (Some("Bob"), "PBX.example.com", None, &[], &[]),
            ),
            (
                "sip:[2001:db8::1]:5080",
                "sip",
                (None, "[2001:db8::1]", Some(5080), &[], &[]),
            ),
            (
                "sips:alice@example.com;transport=TLS;lr?X-A=1%2B1&x-b=a+b",
                "sips",
                (
                    Some("alice"),
                    "example.com",
                    None,
                    &[("transport", "TLS"), ("lr", "")],
                    &[("X-A", "1+1"), ("x-b", "a+b")],
                ),
            ),
        ];
        for (text, scheme, (user, host, port, params, headers)) in cases {
            let uri = parse(text).unwrap();
            assert_eq!(
                (
                    uri.scheme,
                    uri.user,
                    uri.host,
                    uri.port,
                    uri.params.as_slice()
                ),
                (scheme, user, host, port, params),
                "{text}"
            );
            let decoded = uri.decoded_headers().unwrap();
            let decoded: Vec<(&str, &str)> = decoded
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            assert_eq!(decoded, headers, "{text}");
        }
        let bad = [
            ("mailto:alice@example.com", "sip: or sips:"),
            ("sip:@example.com", "user part before '@' is empty"),
            ("sip:alice@example.com:0", "port \"0\""),
            ("sip:alice@example.com:50a", "port \"50a\""),
            ("sip:alice@[::1", "no closing ']'"),
            ("sip:alice@exa mple.com", "whitespace"),
            ("sip:alice@example..com", "not a host name"),
        ];
        for (text, want) in bad {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
        let unreadable_headers = [
            ("sip:a@example.com?x-a=%zz", "two hex digits"),
            ("sip:a@example.com?x-a=%ff", "UTF-8"),
            ("sip:a@example.com?x-a", "has no value"),
        ];
        for (text, want) in unreadable_headers {
            let err = parse(text).unwrap().decoded_headers().unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }
}
