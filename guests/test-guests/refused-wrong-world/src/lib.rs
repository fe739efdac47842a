//! Test guest: exports `handle` with the webhook record of an earlier draft of the WIT (a list
//! of name/value records). The names match the runtime's world, the types do not, so the
//! runtime must refuse it when it is loaded, not fail every call.
//!
//! scripts/build-guests.sh moves it to target/guests/refused/, out of the served folder.

wit_bindgen::generate!({
    inline: r#"
        package twiml:edge@0.1.0;

        interface host {
            enum level { trace, debug, info, warn, error }
            log: func(level: level, message: string, fields: list<tuple<string, string>>);
            e164: func(input: string, region: option<string>) -> option<string>;
        }

        interface handler {
            record param { name: string, value: string }
            record webhook { method: string, url: string, params: list<param> }
            variant error { bad-request(string), internal(string) }
            handle: func(webhook: webhook) -> result<string, error>;
        }

        world voice-function {
            import host;
            export handler;
        }
    "#,
});

struct Old;

impl exports::twiml::edge::handler::Guest for Old {
    fn handle(
        _: exports::twiml::edge::handler::Webhook,
    ) -> Result<String, exports::twiml::edge::handler::Error> {
        Ok("<Response><Hangup/></Response>".to_owned())
    }
}

export!(Old);
