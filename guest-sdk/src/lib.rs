//! Write TwiML voice functions for twiml-edge in Rust.
#![deny(missing_docs)]

pub mod twiml;
pub mod webhook;

pub use twiml::VoiceResponse;
pub use webhook::Webhook;
