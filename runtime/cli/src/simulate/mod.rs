//! The pure core of `twiml-edge call`: the webhook the SIP engine would send for an INVITE
//! (`invite`), the dial plan a TwiML answer describes (`plan`), and how a person reads it
//! (`show`).
//!
//! Nothing here touches the network or the clock; the only side effect is drawing random ids
//! for a `CallSid` or `SipCallId` the caller left out.

mod invite;
mod plan;
mod show;

pub(crate) use invite::{DEFAULT_SOURCE_IP, Invite, webhook_params};
pub(crate) use plan::{DialMode, DialPlan, DialTarget, Step, dial_plan};

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
    /// The TwiML cannot be read: the TwiML check's syntax finding.
    #[error("the TwiML is not well-formed XML: {0}")]
    Xml(twiml_edge_twiml::Finding),
    /// The TwiML is well-formed but does not describe a call the engine would place.
    #[error("invalid TwiML: {0}")]
    Twiml(String),
}
