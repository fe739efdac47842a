//! The function's variables (secrets included), as set with `twiml-edge deploy --var` and
//! `--secret` or the API; a change applies from the next call.
//!
//! ```no_run
//! use twiml_edge_sdk::{Error, VoiceResponse, Webhook, config, twiml::{Dial, Say}};
//!
//! fn handle(_: Webhook) -> Result<VoiceResponse, Error> {
//!     // Fails the call with a message saying how to set it when it is missing.
//!     let operator = config::require("OPERATOR")?;
//!     let greeting = config::get("GREETING").unwrap_or_else(|| "Hello".to_owned());
//!     Ok(VoiceResponse::new().say(Say::new(greeting)).dial(Dial::new().number(operator)))
//! }
//! # twiml_edge_sdk::export!(handle);
//! ```

use crate::{__bindings::wasi::config::store, Error};

/// The value of variable `key`; `None` when it is not set (or the runtime cannot read it).
pub fn get(key: &str) -> Option<String> {
    store::get(key).ok().flatten()
}

/// The value of variable `key`, or an error that tells the function's owner how to set it.
pub fn require(key: &str) -> Result<String, Error> {
    match store::get(key) {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(unset(key)),
        Err(err) => Err(Error::internal(format!(
            "variable {key:?} cannot be read: {}",
            describe(&err)
        ))),
    }
}

/// Every variable, as (name, value) pairs; empty when the runtime cannot read them.
pub fn all() -> Vec<(String, String)> {
    store::get_all().unwrap_or_default()
}

fn unset(key: &str) -> Error {
    Error::internal(format!(
        "variable {key:?} is not set: add it with twiml-edge deploy --var {key}=... or the API"
    ))
}

fn describe(err: &store::Error) -> &str {
    match err {
        store::Error::Upstream(message) | store::Error::Io(message) => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_variable_says_how_to_set_it() {
        assert_eq!(
            unset("CRM_URL").to_string(),
            "internal error: variable \"CRM_URL\" is not set: \
             add it with twiml-edge deploy --var CRM_URL=... or the API"
        );
    }
}
