//! What the runtime offers a function: logging into the call's log and E.164 normalisation.

use crate::__bindings::twiml::edge::host;

pub use host::Level;

/// Writes `message` and `fields` to the runtime's log, tagged with the call and the function.
pub fn log(level: Level, message: &str, fields: &[(&str, &str)]) {
    host::log(level, message, fields);
}

/// `input` (a SIP URI, `tel:` URI or dialled string) as E.164, national numbers read in the
/// runtime's default region; `None` when it is not a phone number.
pub fn e164(input: &str) -> Option<String> {
    host::e164(input, None)
}

/// Like [`e164`], reading national numbers in `region` (ISO 3166-1 alpha-2, such as `GB`).
pub fn e164_in(input: &str, region: &str) -> Option<String> {
    host::e164(input, Some(region))
}
