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
/// kept as they came, so nothing the caller sent is lost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Webhook {
    method: String,
    url: String,
    params: Vec<(String, String)>,
}

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
    /// A webhook from its method (`POST`, `GET`), URL (path and query) and ordered parameters.
    pub fn new(
        method: impl Into<String>,
        url: impl Into<String>,
        params: Vec<(String, String)>,
    ) -> Self {
        Self {
            method: method.into(),
            url: url.into(),
            params,
        }
    }

    /// The HTTP method the webhook came with.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The URL the webhook was sent to, as path and query.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every parameter, in order, repeated names included.
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    /// Consumes the webhook, returning its parameters.
    pub fn into_params(self) -> Vec<(String, String)> {
        self.params
    }

    /// Appends a parameter (for example `ErrorCode` on a fallback request).
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.params.push((name.into(), value.into()));
    }

    /// The first value of parameter `name` (exact, case-sensitive match).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of parameter `name`, in the order sent.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.params
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
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
        self.params.iter().filter_map(move |(n, v)| {
            n.strip_prefix(prefix)
                .filter(|name| !name.is_empty())
                .map(|name| (name, v.as_str()))
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
        Webhook::new(
            "POST",
            "/bins/x",
            params
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        )
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
    fn unknown_enum_values_read_as_none() {
        let w = Webhook::new("GET", "/", vec![("CallStatus".into(), "on-hold".into())]);
        assert_eq!(w.call_status(), None);
        assert_eq!(CallStatus::NoAnswer.to_string(), "no-answer");
    }
}
