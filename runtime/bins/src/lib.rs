//! TwiML Bins: logic-less templates over the webhook's parameters, compiled once.
//!
//! handlebars does the rendering; this module bends it to the Mustache semantics TwiML Bin
//! authors expect:
//! - `{{Param}}` interpolates, XML-escaped (`& < > " '` only, so SIP URIs keep their `=`);
//! - `{{#Param}}...{{/Param}}` renders when `Param` is present and non-empty, once per value
//!   when the parameter repeats (`{{#Dest}}<Number>{{.}}</Number>{{/Dest}}` for `Dest[]=..`);
//! - `{{^Param}}...{{/Param}}` renders when it is absent or empty; `{{! ... }}` is a comment;
//! - `{{#e164}}...{{/e164}}` turns its rendered content into an E.164 number when it is one;
//! - `{{#urlencode}}...{{/urlencode}}` percent-encodes its content, for SIP URI header values.
//!
//! Every account's template is hostile to every other account, so:
//! - a template is checked on what handlebars parsed, not on its text: partials, decorators,
//!   unescaped output and helpers other than the [`Renderer`]'s own are refused whatever
//!   whitespace or `~` they carry, and nesting is bounded before the parser recurses;
//! - each bin is compiled on its own and rendered with a registry that holds no template, so no
//!   template can name another;
//! - a render is bounded in steps and in bytes written, and runs on a bin the caller holds
//!   (an `Arc`), never under a lock other accounts wait on.
#![deny(missing_docs)]

mod compile;
mod render;
mod set;

pub use render::{CompiledBin, Renderer};
pub use set::Bins;

/// Largest template source, in bytes (the API takes a form of 64 KiB).
pub const MAX_TEMPLATE_BYTES: usize = 64 * 1024;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a template is not served or a render gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The template is refused: it does not parse, or does what a TwiML Bin must not; the
    /// message names its origin, line and what to write instead.
    #[error("{0}")]
    Refused(String),
    /// The render failed, or ran past its steps or bytes.
    #[error("{0}")]
    Render(String),
    /// No bin of that name is in the set.
    #[error("{0}")]
    NotFound(String),
}

/// What the unit tests share.
#[cfg(test)]
mod testing {
    use twiml_edge_e164::Region;
    use twiml_edge_sdk::webhook::Webhook;

    use crate::Bins;

    pub(crate) fn webhook(params: &[(&str, &str)]) -> Webhook {
        Webhook::from_params("POST", "/bins/t", params.iter().copied())
    }

    /// `template` rendered for `params`, panicking on any error.
    pub(crate) fn render(template: &str, params: &[(&str, &str)]) -> String {
        let mut bins = Bins::new(Region::default());
        bins.add("t", template, "t.xml")
            .unwrap_or_else(|e| panic!("{template:?}: {e}"));
        bins.render("t", &webhook(params)).unwrap()
    }
}
