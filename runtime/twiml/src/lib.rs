//! What the SIP engine accepts back: the TwiML check, documents, the SIP URI rules and the
//! dial plan a document describes.
#![deny(missing_docs)]

mod check;
mod document;
mod schema;
mod sip;
pub mod xml;

pub use check::{
    DEFAULT_MAX_TWIML_BYTES, Finding, MAX_DIAL_PARTIES, RULES, Rules, Severity, check, read,
};
pub use document::{Document, Policy, XML_DECLARATION, document};
pub use schema::{CALL_EVENTS, dial_attribute_problem};
pub use sip::{
    EDGES, MAX_HEADERS_CHARS, MAX_URI_CHARS, REGIONS, STANDARD_HEADERS, SipUri, TRANSPORTS,
    check_uri, parse as parse_sip_uri,
};
