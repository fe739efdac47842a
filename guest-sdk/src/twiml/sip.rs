//! SIP: the `<Sip>` noun of `<Dial>`, its URI builder, and `<Refer>`.

use std::fmt;

use super::{CallEvent, Codec, Element, MachineDetection, Method, Region, Transport};

/// A SIP URI, as the text of `<Sip>`, `<Uri>` or `<Refer><Sip>`:
/// `sip:user@host[:port][;transport=..][;region=..][?x-header=value&...]`.
///
/// Limits (SPEC §5; not enforced, see [`SipUri::check`]): the URI may have 255 characters and
/// its header part (after `?`) under 1024; headers must start with `x-`, except `User-to-User`
/// and a few standard identity headers.
///
/// ```
/// use twiml_edge_sdk::twiml::{Region, SipUri, Transport};
///
/// let uri = SipUri::new("jack@example.com")
///     .transport(Transport::Tls)
///     .region(Region::Ie1)
///     .header("x-customname", "Madhu,Mathiyalagan;Title=Manager")
///     .header("User-to-User", "123456789;encoding=hex");
/// assert_eq!(
///     uri.to_string(),
///     "sip:jack@example.com;transport=tls;region=ie1\
///      ?x-customname=Madhu%2CMathiyalagan%3BTitle%3DManager&User-to-User=123456789%3Bencoding%3Dhex"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SipUri {
    /// `scheme:user@host`, without port.
    address: String,
    port: Option<u16>,
    /// URI parameters as written, without the leading `;`.
    params: Vec<String>,
    /// Headers as written (already escaped), without `?` or `&`.
    headers: Vec<String>,
}

impl SipUri {
    /// Most characters the URI (without headers) may have.
    pub const MAX_URI_CHARS: usize = twiml_edge_twiml::MAX_URI_CHARS;
    /// The header part (after `?`) must have fewer characters than this.
    pub const MAX_HEADER_CHARS: usize = twiml_edge_twiml::MAX_HEADERS_CHARS;

    /// Parses `uri` (`user@host`, `sip:user@host:5061;transport=tls?x-a=b`, ...), adding the
    /// `sip:` scheme when there is no `sip:` or `sips:` one. Parameters and headers already
    /// present are kept as written. An empty `uri` stays empty.
    pub fn new(uri: impl AsRef<str>) -> Self {
        let uri = uri.as_ref().trim();
        if uri.is_empty() {
            return Self::default();
        }
        let has_scheme = ["sip:", "sips:"].iter().any(|scheme| {
            uri.get(..scheme.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
        });
        let uri = if has_scheme {
            uri.to_owned()
        } else {
            format!("sip:{uri}")
        };
        // Parameters and headers follow the host; the user part may itself hold `;` or `?`.
        let host_start = uri
            .find('@')
            .map_or_else(|| uri.find(':').map_or(0, |i| i + 1), |i| i + 1);
        let (rest, headers) = match uri[host_start..].find('?') {
            Some(i) => (&uri[..host_start + i], &uri[host_start + i + 1..]),
            None => (uri.as_str(), ""),
        };
        let (address, params) = match rest[host_start..].find(';') {
            Some(i) => (&rest[..host_start + i], &rest[host_start + i + 1..]),
            None => (rest, ""),
        };
        let (address, port) = split_port(address, host_start);
        Self {
            address: address.to_owned(),
            port,
            params: split(params, ';'),
            headers: split(headers, '&'),
        }
    }

    /// `sip:user@host`, with `user` percent-encoded: the way to put a caller's value (a header,
    /// a parameter) in the user part, since an `@`, `;` or `?` in it would otherwise move the
    /// call to another host or add parameters.
    ///
    /// ```
    /// use twiml_edge_sdk::twiml::SipUri;
    /// let uri = SipUri::user_at("sales@evil.example;transport=udp", "pbx.example.com");
    /// assert_eq!(uri.to_string(), "sip:sales%40evil.example%3Btransport=udp@pbx.example.com");
    /// ```
    pub fn user_at(user: impl AsRef<str>, host: impl AsRef<str>) -> Self {
        // RFC 3261 user-unreserved, less the `;` `?` `@` `/` that change what the URI means.
        const USER_CHARS: &[u8] = b"&=+$,";
        Self::new(format!(
            "sip:{}@{}",
            percent_encode(user.as_ref(), USER_CHARS),
            host.as_ref()
        ))
    }

    /// Sets `;transport=` (default UDP; TLS uses port 5061 unless [`port`](Self::port) says
    /// otherwise).
    pub fn transport(self, transport: Transport) -> Self {
        self.param("transport", transport.as_str())
    }

    /// Sets `;region=`: the Twilio region the SIP traffic leaves from (default `us1`).
    pub fn region(self, region: Region) -> Self {
        self.param("region", region.as_str())
    }

    /// Sets the host's port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Sets URI parameter `;name=value`, replacing one of the same name in place; characters
    /// a URI parameter may not hold are percent-encoded.
    pub fn param(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        const PARAM_CHARS: &[u8] = b"[]/:&+$";
        let (name, value) = (name.as_ref(), value.as_ref());
        let param = format!(
            "{}={}",
            percent_encode(name, PARAM_CHARS),
            percent_encode(value, PARAM_CHARS)
        );
        let same_name = |p: &String| {
            p.split('=')
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        };
        match self.params.iter_mut().find(|p| same_name(p)) {
            Some(old) => *old = param,
            None => self.params.push(param),
        }
        self
    }

    /// Appends header `name=value` after `?`, the value percent-encoded (RFC 3986 unreserved
    /// characters are kept). Names should start with `x-`; `User-to-User` is also passed on.
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        self.headers.push(format!(
            "{}={}",
            percent_encode(name.as_ref(), b""),
            percent_encode(value.as_ref(), b"")
        ));
        self
    }

    /// Checks the URI as twiml-edge's TwiML check will (the same code): its structure, the
    /// SPEC §5 limits (255 characters before `?`, headers under 1024), transport and region
    /// values, and header names the engine passes on (`x-...`, `User-to-User`, standard identity
    /// headers). The error is the check's first finding.
    pub fn check(&self) -> Result<(), String> {
        let mut first = None;
        twiml_edge_twiml::check_uri(&self.to_string(), "<Sip>", &mut |_, message| {
            first.get_or_insert(message);
        });
        first.map_or(Ok(()), Err)
    }
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.address)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        for param in &self.params {
            write!(f, ";{param}")?;
        }
        for (i, header) in self.headers.iter().enumerate() {
            f.write_str(if i == 0 { "?" } else { "&" })?;
            f.write_str(header)?;
        }
        Ok(())
    }
}

impl From<&str> for SipUri {
    fn from(uri: &str) -> Self {
        Self::new(uri)
    }
}

impl From<String> for SipUri {
    fn from(uri: String) -> Self {
        Self::new(uri)
    }
}

impl From<&String> for SipUri {
    fn from(uri: &String) -> Self {
        Self::new(uri)
    }
}

/// Splits `address` into itself without a trailing `:port` and the port.
fn split_port(address: &str, host_start: usize) -> (&str, Option<u16>) {
    let host = &address[host_start..];
    if let Some(colon) = host.rfind(':') {
        let (before, digits) = (&host[..colon], &host[colon + 1..]);
        // An IPv6 host's colons sit inside brackets.
        let outside_brackets = !before.contains('[') || before.ends_with(']');
        if let (true, Ok(port)) = (outside_brackets, digits.parse()) {
            return (&address[..host_start + colon], Some(port));
        }
    }
    (address, None)
}

fn split(list: &str, separator: char) -> Vec<String> {
    list.split(separator)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Percent-encodes every byte but RFC 3986 unreserved characters and `keep`.
fn percent_encode(value: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) || keep.contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

element! {
    /// `<Sip>`: a SIP endpoint to ring, by URI text or by `<Uri>` children.
    Sip("Sip", custom) {
        /// `username`: user name for SIP authentication.
        username: String = "username",
        /// `password`: password for SIP authentication.
        password: String = "password",
        /// `url`: TwiML to run for the called party before the calls are connected.
        url: String = "url",
        /// `method`: HTTP method for `url` (default POST).
        method: Method = "method",
        /// `statusCallbackEvent`: the call progress events to report.
        status_callback_event: [CallEvent] = "statusCallbackEvent",
        /// `statusCallback`: URL told about the call's progress.
        status_callback: String = "statusCallback",
        /// `statusCallbackMethod`: HTTP method for `statusCallback` (default POST).
        status_callback_method: Method = "statusCallbackMethod",
        /// `machineDetection`: answering machine detection.
        machine_detection: MachineDetection = "machineDetection",
        /// `amdStatusCallbackMethod`: HTTP method for `amdStatusCallback`.
        amd_status_callback_method: Method = "amdStatusCallbackMethod",
        /// `amdStatusCallback`: URL told the answering machine detection result.
        amd_status_callback: String = "amdStatusCallback",
        /// `machineDetectionTimeout`: seconds to spend detecting a machine.
        machine_detection_timeout: u32 = "machineDetectionTimeout",
        /// `machineDetectionSpeechThreshold`: milliseconds of speech that mean a machine.
        machine_detection_speech_threshold: u32 = "machineDetectionSpeechThreshold",
        /// `machineDetectionSpeechEndThreshold`: milliseconds of silence that end speech.
        machine_detection_speech_end_threshold: u32 = "machineDetectionSpeechEndThreshold",
        /// `machineDetectionSilenceTimeout`: milliseconds of initial silence before giving up.
        machine_detection_silence_timeout: u32 = "machineDetectionSilenceTimeout",
        /// `sessionTimeout` (compatible platforms): seconds for the `Session-Expires` header;
        /// 0 picks the default.
        session_timeout: u32 = "sessionTimeout",
    }
}

impl Sip {
    /// A `<Sip>` ringing `uri` (a [`SipUri`] or a string, which gets the `sip:` scheme when it
    /// has none); an empty URI leaves the text out, for the `<Uri>` children form.
    pub fn new(uri: impl Into<SipUri>) -> Self {
        Self(Element::new("Sip").text(uri.into().to_string()))
    }

    /// `codecs` (compatible platforms): the codecs to offer, in order, comma-separated
    /// (default `PCMU,PCMA`).
    pub fn codecs(mut self, codecs: impl IntoIterator<Item = Codec>) -> Self {
        self.0.set("codecs", super::join(codecs, ","));
        self
    }
}

children!(Sip {
    headers: Headers,
    uri: Uri,
});

impl<T: Into<SipUri>> From<T> for Sip {
    fn from(uri: T) -> Self {
        Self::new(uri)
    }
}

element! {
    /// `<Uri>`: one of several SIP URIs a `<Sip>` tries, by priority and weight.
    Uri("Uri", custom) {
        /// `priority`: lower values are tried first.
        priority: u32 = "priority",
        /// `weight`: share of calls among URIs of the same priority.
        weight: u32 = "weight",
        /// `username`: user name for SIP authentication.
        username: String = "username",
        /// `password`: password for SIP authentication.
        password: String = "password",
    }
}

impl Uri {
    /// A `<Uri>` holding `uri`.
    pub fn new(uri: impl Into<SipUri>) -> Self {
        Self(Element::new("Uri").text(uri.into().to_string()))
    }
}

element! {
    /// `<Headers>`: custom SIP headers of a `<Sip>`, as `<Header>` children.
    Headers("Headers") {}
}

children!(Headers { header: Header });

element! {
    /// `<Header>`: one custom SIP header.
    Header("Header", custom) {
        /// `name`: the header's name.
        name: String = "name",
        /// `value`: the header's value.
        value: String = "value",
    }
}

name_value!(Header("Header"));

element! {
    /// `<Refer>`: answers a SIP REFER from the called party.
    Refer("Refer") {
        /// `action`: URL to request when the REFER completes.
        action: String = "action",
        /// `method`: HTTP method for `action`.
        method: Method = "method",
    }
}

children!(Refer { sip: ReferSip });

element! {
    /// `<Sip>` inside `<Refer>`: the SIP URI to transfer to.
    ReferSip("Sip", custom) {}
}

impl ReferSip {
    /// A `<Sip>` holding `uri`.
    pub fn new(uri: impl Into<SipUri>) -> Self {
        Self(Element::new("Sip").text(uri.into().to_string()))
    }
}

impl<T: Into<SipUri>> From<T> for ReferSip {
    fn from(uri: T) -> Self {
        Self::new(uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_uri_builds_the_documented_forms() {
        let cases = [
            (SipUri::new("alice@example.com"), "sip:alice@example.com"),
            (
                SipUri::new("sips:alice@example.com"),
                "sips:alice@example.com",
            ),
            (
                SipUri::new(" SIP:alice@example.com "),
                "SIP:alice@example.com",
            ),
            (
                SipUri::new("alice@example.com").region(Region::Ie1),
                "sip:alice@example.com;region=ie1",
            ),
            (
                SipUri::new("jack@example.com").transport(Transport::Tcp),
                "sip:jack@example.com;transport=tcp",
            ),
            (
                SipUri::new("jack@example.com")
                    .port(5061)
                    .transport(Transport::Tls),
                "sip:jack@example.com:5061;transport=tls",
            ),
            (
                SipUri::new("jack@example.com")
                    .header("x-customname", "Madhu,Mathiyalagan;Title=Manager")
                    .header("x-myotherheader", "bar"),
                "sip:jack@example.com?x-customname=Madhu%2CMathiyalagan%3BTitle%3DManager&x-myotherheader=bar",
            ),
            (
                SipUri::new("jack@example.com")
                    .header("User-to-User", "123456789;encoding=hex")
                    .header("x-myotherheader", "bar"),
                "sip:jack@example.com?User-to-User=123456789%3Bencoding%3Dhex&x-myotherheader=bar",
            ),
            (
                SipUri::new("sip:bob@10.0.0.1:5060;transport=udp?x-a=1")
                    .transport(Transport::Tls)
                    .port(5061)
                    .header("x-b", "two words/é"),
                "sip:bob@10.0.0.1:5061;transport=tls?x-a=1&x-b=two%20words%2F%C3%A9",
            ),
            (
                SipUri::new("sip:carol@[2001:db8::1]:5080").region(Region::Au1),
                "sip:carol@[2001:db8::1]:5080;region=au1",
            ),
            (
                SipUri::new("sip:carol@[2001:db8::1]").port(5062),
                "sip:carol@[2001:db8::1]:5062",
            ),
            (
                SipUri::new("+15551234567;phone-context=x@pbx.example.com").region(Region::Us2),
                "sip:+15551234567;phone-context=x@pbx.example.com;region=us2",
            ),
            (SipUri::new(""), ""),
        ];
        for (uri, expected) in cases {
            assert_eq!(uri.to_string(), expected);
        }
    }

    #[test]
    fn check_applies_the_spec_limits() {
        assert_eq!(
            SipUri::new("a@example.com")
                .header("X-Customer", "42")
                .header("User-to-User", "00ff")
                .check(),
            Ok(())
        );
        // The checker's boundary: 255 characters before '?' pass, 256 do not.
        let host = |n: usize| format!("a@{}.com", "h".repeat(n));
        let longest = SipUri::new(host(SipUri::MAX_URI_CHARS - "sip:a@.com".len()));
        assert_eq!(longest.to_string().len(), SipUri::MAX_URI_CHARS);
        assert_eq!(longest.check(), Ok(()));
        let err = SipUri::new(host(SipUri::MAX_URI_CHARS - "sip:a@.com".len() + 1))
            .check()
            .unwrap_err();
        assert!(err.contains("256 characters long"), "{err}");
        let err = SipUri::new("a@example.com")
            .header("x-big", "v".repeat(1100))
            .check()
            .unwrap_err();
        assert!(err.contains("must be under 1024"), "{err}");
        let err = SipUri::new("a@example.com")
            .header("Customer", "42")
            .check()
            .unwrap_err();
        assert!(err.contains("\"Customer\""), "{err}");
    }
}
