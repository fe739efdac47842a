//! The voice webhook a SIP domain sends: an ordered list of parameters with typed accessors.
//!
//! The host and guests share this model, so a parameter means the same thing on both sides.

use std::fmt;

/// Prefix of the parameters that carry the INVITE's custom SIP headers.
pub const SIP_HEADER_PREFIX: &str = "SipHeader_";
/// Prefix of the parameters that carry the X- headers of a `<Dial><Sip>` final response.
pub const DIAL_SIP_HEADER_PREFIX: &str = "DialSipHeader_";

/// One voice webhook: method, URL and every parameter in the order it was sent.
///
/// Repeated parameters (`Dest[]=a&Dest[]=b`) and parameters this type has no accessor for are
/// kept as they came, so nothing the caller sent is lost. The parameters are held twice: as the
/// `application/x-www-form-urlencoded` string they travel in ([`form`](Self::form)), and decoded
/// into one buffer, so reading them allocates nothing. Both travel to a guest as they are (the
/// `webhook` record of `wit/`), so a guest parses nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Webhook {
    method: String,
    url: String,
    form: String,
    /// Every decoded name and value, back to back.
    text: String,
    /// Two byte offsets per parameter into `text`: where its name ends, then where its value
    /// ends; its name starts where the previous value ends.
    ends: Vec<u32>,
}

/// Why a decoded parameter list was refused: its offsets do not fit its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedError(String);

impl fmt::Display for DecodedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodedError {}

/// Why form-encoded parameters were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError(String);

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FormError {}

/// Generates one `Option<&str>` accessor per well-known parameter name.
macro_rules! accessors {
    ($($(#[$doc:meta])* $fn:ident => $name:literal;)*) => {
        $(
            $(#[$doc])*
            pub fn $fn(&self) -> Option<&str> {
                self.get($name)
            }
        )*
    };
}

impl Webhook {
    /// A webhook with no parameters yet, from its method (`POST`, `GET`) and URL (path and query).
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            url: url.into(),
            ..Self::default()
        }
    }

    /// A webhook whose parameters are `form` (`application/x-www-form-urlencoded`), read strictly:
    /// a `%` not followed by two hex digits, or bytes that do not decode to UTF-8, are refused
    /// with the parameter named, since a silently altered parameter would route a call wrongly.
    pub fn from_form(
        method: impl Into<String>,
        url: impl Into<String>,
        form: &str,
    ) -> Result<Self, FormError> {
        let mut webhook = Self::new(method, url);
        webhook.append_form(form)?;
        Ok(webhook)
    }

    /// A webhook from both forms of its parameters as the `webhook` record of `wit/` carries
    /// them: `form`, and `text` with its `ends` (two byte offsets per parameter: where the name
    /// ends, then where the value ends). Checks that the offsets fit `text`, not that `form`
    /// says the same: the runtime builds both from one request.
    pub fn from_decoded(
        method: impl Into<String>,
        url: impl Into<String>,
        form: String,
        text: String,
        ends: Vec<u32>,
    ) -> Result<Self, DecodedError> {
        if !ends.len().is_multiple_of(2) {
            return Err(DecodedError(format!(
                "{} offsets: two are needed per parameter",
                ends.len()
            )));
        }
        let mut previous = 0;
        for &end in &ends {
            let fits = (end as usize) <= text.len() && text.is_char_boundary(end as usize);
            if end < previous || !fits {
                return Err(DecodedError(format!(
                    "offset {end} does not end a name or value in {} bytes of text",
                    text.len()
                )));
            }
            previous = end;
        }
        Ok(Self {
            method: method.into(),
            url: url.into(),
            form,
            text,
            ends,
        })
    }

    /// A webhook from decoded `(name, value)` pairs, in order.
    pub fn from_params<N: AsRef<str>, V: AsRef<str>>(
        method: impl Into<String>,
        url: impl Into<String>,
        params: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        let mut webhook = Self::new(method, url);
        for (name, value) in params {
            webhook.push(name.as_ref(), value.as_ref());
        }
        webhook
    }

    /// Appends the parameters of `form` after those already held, as [`from_form`](Self::from_form)
    /// reads them; on error nothing is appended.
    pub fn append_form(&mut self, form: &str) -> Result<(), FormError> {
        let ends_len = self.ends.len();
        let mut text = std::mem::take(&mut self.text).into_bytes();
        let text_len = text.len();
        let escapes_valid = decode_form(form.as_bytes(), &mut text, &mut self.ends);
        // Each name and value must be UTF-8 on its own, not only the text they make together:
        // `a=%DE&b=%BA` holds one character split across two parameters.
        if escapes_valid
            && let Ok(appended) = std::str::from_utf8(&text[text_len..])
            && self.ends[ends_len..]
                .iter()
                .all(|&end| appended.is_char_boundary(end as usize - text_len))
        {
            self.text = String::from_utf8(text).expect("the appended bytes were checked");
            if !self.form.is_empty() && !form.is_empty() {
                self.form.push('&');
            }
            self.form.push_str(form);
            return Ok(());
        }
        text.truncate(text_len);
        self.ends.truncate(ends_len);
        self.text = String::from_utf8(text).expect("only checked bytes remain");
        Err(explain_form_error(form))
    }

    /// Appends a parameter (for example `ErrorCode` on a fallback request).
    pub fn push(&mut self, name: &str, value: &str) {
        self.text.push_str(name);
        self.ends.push(offset(self.text.len()));
        self.text.push_str(value);
        self.ends.push(offset(self.text.len()));
        if !self.form.is_empty() {
            self.form.push('&');
        }
        encode_into(&mut self.form, name);
        self.form.push('=');
        encode_into(&mut self.form, value);
    }

    /// The HTTP method the webhook came with.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The URL the webhook was sent to, as path and query.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every parameter as one `application/x-www-form-urlencoded` string, in order.
    pub fn form(&self) -> &str {
        &self.form
    }

    /// Every parameter as `(name, value)`, in order, repeated names included.
    pub fn params(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + Clone + '_ {
        self.ends.chunks_exact(2).enumerate().map(|(i, ends)| {
            let start = if i == 0 { 0 } else { self.ends[2 * i - 1] };
            let [name_end, value_end] = [ends[0], ends[1]].map(|e| e as usize);
            (
                &self.text[start as usize..name_end],
                &self.text[name_end..value_end],
            )
        })
    }

    /// The decoded names and values back to back, and two offsets per parameter into them
    /// (where its name ends, then where its value ends): what a guest receives.
    pub fn decoded(&self) -> (&str, &[u32]) {
        (&self.text, &self.ends)
    }

    /// How many parameters there are.
    pub fn len(&self) -> usize {
        self.ends.len() / 2
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The first value of parameter `name` (exact, case-sensitive match).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).next()
    }

    /// Every value of parameter `name`, in the order sent.
    pub fn get_all<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        // Compares bytes and slices only the matches: guests look parameters up on every call.
        let text = self.text.as_bytes();
        let mut start = 0;
        self.ends.chunks_exact(2).filter_map(move |ends| {
            let [name_end, value_end] = [ends[0] as usize, ends[1] as usize];
            let found = &text[start..name_end] == name.as_bytes();
            start = value_end;
            found.then(|| &self.text[name_end..value_end])
        })
    }

    /// The INVITE's custom headers (`X-...`, `User-to-User`), names without the `SipHeader_` prefix.
    pub fn sip_headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.prefixed(SIP_HEADER_PREFIX)
    }

    /// One custom INVITE header by name, compared case-insensitively as SIP header names are.
    pub fn sip_header(&self, name: &str) -> Option<&str> {
        find_header(self.sip_headers(), name)
    }

    /// The X- headers of a `<Dial><Sip>` final response, names without the `DialSipHeader_` prefix.
    pub fn dial_sip_headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.prefixed(DIAL_SIP_HEADER_PREFIX)
    }

    /// One header of a `<Dial><Sip>` final response by name, compared case-insensitively.
    pub fn dial_sip_header(&self, name: &str) -> Option<&str> {
        find_header(self.dial_sip_headers(), name)
    }

    /// The call's status, `None` when absent or not one of the documented values.
    pub fn call_status(&self) -> Option<CallStatus> {
        self.get("CallStatus").and_then(CallStatus::parse)
    }

    /// The call's direction, `None` when absent or not one of the documented values.
    pub fn direction(&self) -> Option<Direction> {
        self.get("Direction").and_then(Direction::parse)
    }

    fn prefixed<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.params().filter_map(move |(n, v)| {
            n.strip_prefix(prefix)
                .filter(|name| !name.is_empty())
                .map(|name| (name, v))
        })
    }

    accessors! {
        /// `AccountSid`: the account that owns the call (`AC` + 32 hex).
        account_sid => "AccountSid";
        /// `CallSid`: the call's unique id (`CA` + 32 hex).
        call_sid => "CallSid";
        /// `From`: the caller; a SIP URI for SIP domain calls.
        from => "From";
        /// `To`: the called party; a SIP URI for SIP domain calls.
        to => "To";
        /// `Caller`: duplicate of `From`.
        caller => "Caller";
        /// `Called`: duplicate of `To`.
        called => "Called";
        /// `ApiVersion`: the API version of the webhook (`2010-04-01`).
        api_version => "ApiVersion";
        /// `ForwardedFrom`: the number that forwarded the call, when known.
        forwarded_from => "ForwardedFrom";
        /// `CallerName`: the caller's CNAM, when looked up.
        caller_name => "CallerName";
        /// `ParentCallSid`: the call that created this one, for dialed legs.
        parent_call_sid => "ParentCallSid";
        /// `CallToken`: token for forwarding the caller's identity.
        call_token => "CallToken";
        /// `StirVerstat`: the STIR/SHAKEN verification status.
        stir_verstat => "StirVerstat";
        /// `FromCity`: the caller's city.
        from_city => "FromCity";
        /// `FromState`: the caller's state or province.
        from_state => "FromState";
        /// `FromZip`: the caller's postal code.
        from_zip => "FromZip";
        /// `FromCountry`: the caller's country.
        from_country => "FromCountry";
        /// `ToCity`: the called party's city.
        to_city => "ToCity";
        /// `ToState`: the called party's state or province.
        to_state => "ToState";
        /// `ToZip`: the called party's postal code.
        to_zip => "ToZip";
        /// `ToCountry`: the called party's country.
        to_country => "ToCountry";
        /// `CallerCity`: duplicate of `FromCity`.
        caller_city => "CallerCity";
        /// `CallerState`: duplicate of `FromState`.
        caller_state => "CallerState";
        /// `CallerZip`: duplicate of `FromZip`.
        caller_zip => "CallerZip";
        /// `CallerCountry`: duplicate of `FromCountry`.
        caller_country => "CallerCountry";
        /// `CalledCity`: duplicate of `ToCity`.
        called_city => "CalledCity";
        /// `CalledState`: duplicate of `ToState`.
        called_state => "CalledState";
        /// `CalledZip`: duplicate of `ToZip`.
        called_zip => "CalledZip";
        /// `CalledCountry`: duplicate of `ToCountry`.
        called_country => "CalledCountry";
        /// `SipDomain`: host part of the INVITE's request URI.
        sip_domain => "SipDomain";
        /// `SipDomainSid`: the SIP domain resource (`SD` + 32 hex).
        sip_domain_sid => "SipDomainSid";
        /// `SipCallId`: the SIP Call-ID of the INVITE.
        sip_call_id => "SipCallId";
        /// `SipSourceIp`: the IP address the INVITE came from.
        sip_source_ip => "SipSourceIp";
        /// `SipUsername`: the user a credential list authenticated, when one did.
        sip_username => "SipUsername";
        /// `DialSipCallId`: the SIP Call-ID of a completed `<Dial><Sip>` leg.
        dial_sip_call_id => "DialSipCallId";
        /// `DialSipResponseCode`: the final SIP response code of a `<Dial><Sip>` leg.
        dial_sip_response_code => "DialSipResponseCode";
    }
}

/// Decodes `form` onto `text` in one pass, pushing two offsets per parameter; false when an
/// escape is not `%` and two hex digits. UTF-8 is checked once afterwards, by the caller.
///
/// The host runs this on every webhook. Decoding never lengthens, so `text` grows by the form's
/// length once and is written by index, and plain bytes are copied and searched a word at a time
/// ([`copy_plain`]): 30% faster on a realistic SIP webhook than finding each run through a lookup
/// table and copying it whole, which beat a byte-at-a-time decoder and `memchr` in turn.
fn decode_form(form: &[u8], text: &mut Vec<u8>, ends: &mut Vec<u32>) -> bool {
    let base = text.len();
    text.resize(base + form.len(), 0);
    // Two offsets per parameter, reserved at once rather than grown push by push.
    ends.reserve(2 * (count_ampersands(form) + 1));
    let out = &mut text[base..];
    let mut valid = true;
    let (mut read, mut written) = (0, 0);
    while read < form.len() {
        if form[read] == b'&' {
            read += 1;
            continue;
        }
        let mut name_end = None;
        loop {
            let plain = copy_plain(form, read, out, written);
            read += plain;
            written += plain;
            let decoded = match form.get(read) {
                Some(b'&') | None => break,
                Some(b'=') if name_end.is_none() => {
                    name_end = Some(written);
                    None
                }
                Some(b'+') => Some(b' '),
                Some(b'%') => match (hex(form, read + 1), hex(form, read + 2)) {
                    (Some(hi), Some(lo)) => {
                        read += 2;
                        Some(hi << 4 | lo)
                    }
                    _ => {
                        valid = false;
                        None
                    }
                },
                Some(&byte) => Some(byte),
            };
            if let Some(byte) = decoded {
                out[written] = byte;
                written += 1;
            }
            read += 1;
        }
        ends.push(offset(base + name_end.unwrap_or(written)));
        ends.push(offset(base + written));
    }
    text.truncate(base + written);
    valid
}

/// Copies the plain bytes of `form` from `read` up to the next `& = % +` (or the end) onto
/// `out` at `written`, returning how many there were.
fn copy_plain(form: &[u8], read: usize, out: &mut [u8], written: usize) -> usize {
    let mut copied = 0;
    // A word at a time while one is left: `out` is as long as `form` and never ahead of it, so
    // a word always fits, and what it copies past a special byte is written over next.
    while let Some(word) = form.get(read + copied..read + copied + 8) {
        out[written + copied..written + copied + 8].copy_from_slice(word);
        let special = special_bytes(u64::from_le_bytes(word.try_into().expect("eight bytes")));
        if special != 0 {
            return copied + (special.trailing_zeros() / 8) as usize;
        }
        copied += 8;
    }
    while let Some(&byte) = form.get(read + copied)
        && !SPECIAL[usize::from(byte)]
    {
        out[written + copied] = byte;
        copied += 1;
    }
    copied
}

/// The top bit of each byte of `word` that is `& = % +`, exact for the lowest one: a byte equal
/// to `c` is zero in `word ^ c…c`, and subtracting 1 from every byte borrows out of the zero
/// bytes (a borrow can mark a byte above a zero byte too, never one below).
fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const TOPS: u64 = 0x8080_8080_8080_8080;
    let zero_bytes = |c: u8| {
        let x = word ^ (ONES * u64::from(c));
        x.wrapping_sub(ONES) & !x & TOPS
    };
    zero_bytes(b'&') | zero_bytes(b'=') | zero_bytes(b'%') | zero_bytes(b'+')
}

/// How many `&` `form` holds, counted in blocks the compiler vectorizes (a plain filter-count
/// took a fifth of the decoding).
fn count_ampersands(form: &[u8]) -> usize {
    let mut blocks = form.chunks_exact(64);
    let in_blocks: usize = (&mut blocks)
        .map(|block| usize::from(block.iter().fold(0u8, |n, &b| n + u8::from(b == b'&'))))
        .sum();
    in_blocks + blocks.remainder().iter().filter(|&&b| b == b'&').count()
}

/// The bytes that end a run of plain characters in a form.
const SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    table[b'&' as usize] = true;
    table[b'=' as usize] = true;
    table[b'%' as usize] = true;
    table[b'+' as usize] = true;
    table
};

/// A position in the decoded text as the WIT offsets carry it; webhooks are bounded far below
/// 4 GiB (the runtime refuses bodies over 64 KiB by default).
fn offset(at: usize) -> u32 {
    u32::try_from(at).expect("webhook parameters are under 4 GiB")
}

fn hex(bytes: &[u8], at: usize) -> Option<u8> {
    bytes
        .get(at)
        .and_then(|&b| (b as char).to_digit(16))
        .map(|d| d as u8)
}

/// Says which parameter of a form [`decode_form`] refused, and why.
fn explain_form_error(form: &str) -> FormError {
    for pair in form.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = match decode_checked(name) {
            Ok(name) => name,
            Err(e) => return FormError(format!("has a parameter name that {e} (in {pair:?})")),
        };
        if let Err(e) = decode_checked(value) {
            return FormError(format!("has a value of parameter {name:?} that {e}"));
        }
    }
    FormError("could not be decoded".into())
}

fn decode_checked(input: &str) -> Result<String, &'static str> {
    // `input` holds no `&`, and a name no `=`; a value's `=` may be dropped here, which does
    // not matter to an error message about escapes and UTF-8.
    let mut text = Vec::new();
    if !decode_form(input.as_bytes(), &mut text, &mut Vec::new()) {
        return Err("has a '%' not followed by two hex digits");
    }
    String::from_utf8(text).map_err(|_| "is not valid UTF-8 once percent-decoded")
}

/// Form-encodes `input` onto `out` as browsers and the SIP engine do: letters, digits and
/// `*-._` kept, space as `+`, every other byte `%XX`.
fn encode_into(out: &mut String, input: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in input.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => {
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
    }
}

fn find_header<'a>(
    mut headers: impl Iterator<Item = (&'a str, &'a str)>,
    name: &str,
) -> Option<&'a str> {
    headers
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Generates a fieldless enum of documented wire values with `parse` and `as_str`.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $ty:ident { $($(#[$vdoc:meta])* $variant:ident => $wire:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $ty {
            $($(#[$vdoc])* $variant,)*
        }

        impl $ty {
            /// Reads the wire value; `None` for anything undocumented.
            pub fn parse(value: &str) -> Option<Self> {
                match value {
                    $($wire => Some(Self::$variant),)*
                    _ => None,
                }
            }

            /// The wire value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)*
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum! {
    /// `CallStatus` values.
    CallStatus {
        /// `queued`
        Queued => "queued",
        /// `ringing`
        Ringing => "ringing",
        /// `in-progress`
        InProgress => "in-progress",
        /// `completed`
        Completed => "completed",
        /// `busy`
        Busy => "busy",
        /// `failed`
        Failed => "failed",
        /// `no-answer`
        NoAnswer => "no-answer",
    }
}

wire_enum! {
    /// `Direction` values.
    Direction {
        /// `inbound`
        Inbound => "inbound",
        /// `outbound-api`
        OutboundApi => "outbound-api",
        /// `outbound-dial`
        OutboundDial => "outbound-dial",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Webhook {
        let params = [
            ("CallSid", "CA0123456789abcdef0123456789abcdef"),
            ("From", "sip:alice@example.sip.twilio.com"),
            ("To", "sip:+15125551212@example.sip.twilio.com"),
            ("CallStatus", "ringing"),
            ("Direction", "inbound"),
            ("SipDomain", "example.sip.twilio.com"),
            ("SipHeader_X-Customer", "42"),
            (
                "SipHeader_User-to-User",
                "56a390f3d2b7310023a2;encoding=hex",
            ),
            ("Dest[]", "+12025550100"),
            ("Dest[]", "+14155550100"),
            ("Custom", "kept"),
            ("SipHeader_", "nameless"),
        ];
        Webhook::from_params("POST", "/bins/x", params)
    }

    #[test]
    fn accessors_read_documented_parameters() {
        let w = sample();
        assert_eq!(w.call_sid(), Some("CA0123456789abcdef0123456789abcdef"));
        assert_eq!(w.sip_domain(), Some("example.sip.twilio.com"));
        assert_eq!(w.call_status(), Some(CallStatus::Ringing));
        assert_eq!(w.direction(), Some(Direction::Inbound));
        assert_eq!(w.sip_username(), None);
        assert_eq!(w.get("Custom"), Some("kept"));
    }

    #[test]
    fn repeated_parameters_keep_every_value_in_order() {
        let w = sample();
        let dests: Vec<_> = w.get_all("Dest[]").collect();
        assert_eq!(dests, ["+12025550100", "+14155550100"]);
    }

    #[test]
    fn sip_headers_drop_the_prefix_and_match_names_case_insensitively() {
        let w = sample();
        let headers: Vec<_> = w.sip_headers().collect();
        assert_eq!(
            headers,
            [
                ("X-Customer", "42"),
                ("User-to-User", "56a390f3d2b7310023a2;encoding=hex")
            ]
        );
        assert_eq!(w.sip_header("x-customer"), Some("42"));
    }

    #[test]
    fn form_round_trips_and_is_read_strictly() {
        let w = sample();
        let again = Webhook::from_form("POST", "/bins/x", w.form()).unwrap();
        assert_eq!(
            again.params().collect::<Vec<_>>(),
            w.params().collect::<Vec<_>>()
        );
        assert!(w.form().starts_with("CallSid=CA0123"), "{}", w.form());
        assert!(
            w.form()
                .contains("From=sip%3Aalice%40example.sip.twilio.com")
        );

        let mut w = Webhook::from_form("POST", "/", "To=%2B1+2&Flag&Empty=&=v").unwrap();
        assert_eq!(
            w.params().collect::<Vec<_>>(),
            [("To", "+1 2"), ("Flag", ""), ("Empty", ""), ("", "v")]
        );
        w.append_form("Dest%5B%5D=%C3%A9").unwrap();
        assert_eq!(w.get("Dest[]"), Some("é"));
        assert_eq!(w.form(), "To=%2B1+2&Flag&Empty=&=v&Dest%5B%5D=%C3%A9");

        let err = w.append_form("A=1&From=%zz").unwrap_err().to_string();
        assert!(
            err.contains("\"From\"") && err.contains("two hex digits"),
            "{err}"
        );
        assert_eq!(w.len(), 5, "a refused form appends nothing");
        assert_eq!(w.form(), "To=%2B1+2&Flag&Empty=&=v&Dest%5B%5D=%C3%A9");
        let err = Webhook::from_form("GET", "/", "%ff=1")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("parameter name") && err.contains("UTF-8"),
            "{err}"
        );
        // One character split between two parameters, or between a name and its value, is
        // UTF-8 only when the parts are put together (found by the `webhook` fuzz target).
        for form in ["a=%DE&b=%BA", "%C3=%A9"] {
            let err = Webhook::from_form("POST", "/", form)
                .unwrap_err()
                .to_string();
            assert!(err.contains("UTF-8"), "{form}: {err}");
        }
    }

    /// Decodes `form` the plain way, one parameter and one byte at a time.
    fn reference_decode(form: &str) -> Option<Vec<(String, String)>> {
        let decode = |part: &str| {
            let (bytes, mut out, mut at) = (part.as_bytes(), Vec::new(), 0);
            while at < bytes.len() {
                match bytes[at] {
                    b'+' => out.push(b' '),
                    b'%' => {
                        let digit = |at: usize| char::from(*bytes.get(at)?).to_digit(16);
                        out.push((digit(at + 1)? * 16 + digit(at + 2)?) as u8);
                        at += 2;
                    }
                    byte => out.push(byte),
                }
                at += 1;
            }
            String::from_utf8(out).ok()
        };
        form.split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                Some((decode(name)?, decode(value)?))
            })
            .collect()
    }

    #[test]
    fn forms_decode_as_a_plain_decoder_reads_them() {
        // Pieces that cross the word-at-a-time copy's boundaries in every way, and bad escapes.
        let pieces = [
            "a",
            "Caller",
            "sip",
            "acme.sip.twilio.com",
            "=",
            "&",
            "&&",
            "+",
            "%3A",
            "%2b",
            "%C3%A9",
            "%",
            "%4",
            "%zz",
            "0123456789abcdef",
            ";transport=tls",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            let mut form = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut bits = seed;
            for _ in 0..(bits % 12) {
                bits = bits.rotate_right(5) ^ seed;
                form.push_str(pieces[(bits % pieces.len() as u64) as usize]);
            }
            let decoded = Webhook::from_form("POST", "/", &form).ok().map(|w| {
                w.params()
                    .map(|(n, v)| (n.to_owned(), v.to_owned()))
                    .collect::<Vec<_>>()
            });
            assert_eq!(decoded, reference_decode(&form), "{form:?}");
        }
    }

    #[test]
    fn decoded_parameters_travel_as_they_are_and_are_checked() {
        let w = sample();
        let (text, ends) = w.decoded();
        let again = Webhook::from_decoded(
            "POST",
            "/bins/x",
            w.form().to_owned(),
            text.to_owned(),
            ends.to_vec(),
        )
        .unwrap();
        assert_eq!(again, w);
        let bad = [
            ("ab", vec![1]),
            ("ab", vec![2, 1]),
            ("ab", vec![1, 3]),
            ("é", vec![1, 2]),
        ];
        for (text, ends) in bad {
            let err = Webhook::from_decoded("GET", "/", String::new(), text.into(), ends.clone());
            assert!(err.is_err(), "{text:?} {ends:?}");
        }
    }

    #[test]
    fn unknown_enum_values_read_as_none() {
        let w = Webhook::from_params("GET", "/", [("CallStatus", "on-hold")]);
        assert_eq!(w.call_status(), None);
        assert_eq!(CallStatus::NoAnswer.to_string(), "no-answer");
    }
}
