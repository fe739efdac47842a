//! Write TwiML voice functions for twiml-edge in Rust.
//!
//! A function takes the call's [`Webhook`] and returns a [`VoiceResponse`]:
//!
//! ```no_run
//! use twiml_edge_sdk::{Error, VoiceResponse, Webhook, e164, twiml::Dial};
//!
//! fn handle(webhook: Webhook) -> Result<VoiceResponse, Error> {
//!     let to = webhook.to().ok_or(Error::bad_request("the webhook has no To"))?;
//!     let number = e164(to).ok_or(Error::bad_request(format!("{to:?} is not a phone number")))?;
//!     Ok(VoiceResponse::new().dial(Dial::new().number(number)))
//! }
//!
//! twiml_edge_sdk::export!(handle);
//! ```
//!
//! Build it for `wasm32-unknown-unknown` as a `cdylib`; twiml-edge accepts the module as it is
//! or as a component.
//!
//! Beyond its webhook, a function reads its variables and secrets with [`config`], calls the
//! hosts its owner allowed with [`http`], and keeps its account's state with [`state`].
#![deny(missing_docs)]

#[cfg(feature = "guest")]
mod answer;
#[cfg(feature = "guest")]
pub mod config;
#[cfg(feature = "guest")]
mod host;
#[cfg(feature = "guest")]
pub mod http;
#[cfg(feature = "guest")]
pub mod state;
pub mod twiml;
pub mod webhook;

#[cfg(feature = "guest")]
pub use answer::{Error, IntoAnswer};
#[cfg(feature = "guest")]
pub use host::{Level, e164, e164_in, log};
pub use twiml::VoiceResponse;
pub use webhook::Webhook;

/// Bindings generated from `wit/`; use the documented API instead.
#[cfg(feature = "guest")]
#[doc(hidden)]
pub mod __bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "twiml:edge/voice-function",
        // The world's WASI imports (config, http with io and clocks, keyvalue) are generated here
        // too: the SDK wraps them, and wit-component drops those a guest never calls.
        generate_all,
        pub_export_macro: true,
        export_macro_name: "__export_voice_function",
        default_bindings_module: "twiml_edge_sdk::__bindings",
        // Host calls borrow the guest's strings instead of copying them into owned ones first.
        ownership: Borrowing { duplicate_if_necessary: false },
    });
}

#[cfg(feature = "guest")]
/// Exports `handler` (a `fn(Webhook) -> R` where `R:` [`IntoAnswer`]) as the function's
/// webhook handler.
#[macro_export]
macro_rules! export {
    ($handler:path) => {
        struct __TwimlEdgeHandler;

        impl $crate::__bindings::exports::twiml::edge::handler::Guest for __TwimlEdgeHandler {
            fn handle(
                webhook: $crate::__bindings::exports::twiml::edge::handler::Webhook,
            ) -> ::core::result::Result<
                ::std::string::String,
                $crate::__bindings::exports::twiml::edge::handler::Error,
            > {
                $crate::__private::handle(webhook, $handler)
            }
        }

        $crate::__bindings::__export_voice_function!(
            __TwimlEdgeHandler with_types_in $crate::__bindings
        );
    };
}

/// Used by [`export!`]; not part of the API.
#[cfg(feature = "guest")]
#[doc(hidden)]
pub mod __private {
    use crate::{__bindings::exports::twiml::edge::handler as wit, IntoAnswer, Webhook};

    /// Converts the WIT webhook, runs the handler and converts its answer back.
    pub fn handle<R: IntoAnswer>(
        webhook: wit::Webhook,
        handler: impl FnOnce(Webhook) -> R,
    ) -> Result<String, wit::Error> {
        // The parameters arrive decoded, so nothing is parsed here; this fails only when a host
        // that is not twiml-edge sends offsets that do not fit the text.
        let webhook = Webhook::from_decoded(
            webhook.method,
            webhook.url,
            webhook.form,
            webhook.params.text,
            webhook.params.ends,
        )
        .map_err(|e| wit::Error::BadRequest(format!("the webhook's parameters are broken: {e}")))?;
        handler(webhook).into_answer().map_err(Into::into)
    }
}
