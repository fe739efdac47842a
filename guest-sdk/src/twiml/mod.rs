//! A TwiML voice builder that writes byte for byte what twilio's helper libraries write.
//!
//! Every verb and noun of the voice vocabulary is a consuming builder with one typed setter per
//! attribute; [`VoiceResponse::to_xml`] renders the document:
//!
//! ```
//! use twiml_edge_sdk::{VoiceResponse, twiml::{Dial, Region, Sip, SipUri, Transport}};
//!
//! let uri = SipUri::new("sales@pbx.example.com").region(Region::Ie1).transport(Transport::Tls);
//! let xml = VoiceResponse::new()
//!     .dial(Dial::new().answer_on_bridge(true).sip(Sip::new(uri)))
//!     .to_xml();
//! assert_eq!(
//!     xml,
//!     r#"<?xml version="1.0" encoding="UTF-8"?><Response><Dial answerOnBridge="true"><Sip>sip:sales@pbx.example.com;region=ie1;transport=tls</Sip></Dial></Response>"#
//! );
//! ```
//!
//! The output matches twilio-python's `VoiceResponse.to_xml()` (`tests/all/sdk_documents.rs`
//! compares the two): no whitespace between elements, attributes sorted by name, `true`/`false`
//! booleans, `& < >` escaped in text and `& < > " \n \r \t` in attribute values, raw UTF-8,
//! and childless elements written `<Hangup />`.
//! Where the builder lacks an attribute or a nesting, every builder takes `.attr(name, value)`
//! and `.child(element)`, and [`Element`] builds any node by name, as twilio's `**kwargs` and
//! `add_child` do.

use std::{borrow::Cow, fmt};

/// Generates a fieldless enum of TwiML attribute values with `as_str` and `Display`.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $ty:ident { $($variant:ident => $wire:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $ty {
            $(#[doc = concat!("`", $wire, "`")] $variant,)*
        }

        impl $ty {
            /// Every value, in the order declared.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)*];

            /// The value as TwiML writes it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)*
                }
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Declares a builder for one TwiML element: a newtype over [`Element`] with a constructor, one
/// setter per attribute (`name: Type = "xmlName"`), and the `attr`/`child` escape hatches.
///
/// Constructors: `Tag("Tag")` gives `new()` (and `Default`), `Tag("Tag", text arg)` gives
/// `new(arg)` writing `arg` as the element's text (and `From<&str>`/`From<String>`),
/// `Tag("Tag", custom)` leaves the constructor to be written by hand.
/// Setter types: `String` takes `impl Into<String>`, `[T]` takes a list written space-separated,
/// anything else (`bool`, `u32`, enums) is written with `Display`.
macro_rules! element {
    (@ctor $ty:ident $tag:literal) => {
        impl $ty {
            #[doc = concat!("An empty `<", $tag, ">`.")]
            pub fn new() -> Self {
                Self($crate::twiml::Element::new($tag))
            }
        }

        impl Default for $ty {
            fn default() -> Self {
                Self::new()
            }
        }
    };
    (@ctor $ty:ident $tag:literal text $arg:ident) => {
        impl $ty {
            #[doc = concat!(
                "A `<", $tag, ">` with `", stringify!($arg), "` as its text (left out when empty)."
            )]
            pub fn new($arg: impl Into<String>) -> Self {
                Self($crate::twiml::Element::new($tag).text($arg))
            }
        }

        impl From<&str> for $ty {
            fn from($arg: &str) -> Self {
                Self::new($arg)
            }
        }

        impl From<String> for $ty {
            fn from($arg: String) -> Self {
                Self::new($arg)
            }
        }
    };
    (@ctor $ty:ident $tag:literal custom) => {};
    (@set $(#[$doc:meta])* $setter:ident: String = $attr:literal) => {
        $(#[$doc])*
        pub fn $setter(mut self, value: impl Into<String>) -> Self {
            self.0.set($attr, value.into());
            self
        }
    };
    (@set $(#[$doc:meta])* $setter:ident: [$item:ty] = $attr:literal) => {
        $(#[$doc])*
        pub fn $setter(mut self, values: impl IntoIterator<Item = $item>) -> Self {
            self.0.set($attr, $crate::twiml::join(values, " "));
            self
        }
    };
    (@set $(#[$doc:meta])* $setter:ident: $value:ty = $attr:literal) => {
        $(#[$doc])*
        pub fn $setter(mut self, value: $value) -> Self {
            self.0.set($attr, value.to_string());
            self
        }
    };
    (
        $(#[$doc:meta])*
        $ty:ident($tag:literal $(, $ctor:ident $($arg:ident)?)?) {
            $($(#[$attr_doc:meta])* $setter:ident: $kind:tt = $attr:literal,)*
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $ty($crate::twiml::Element);

        element!(@ctor $ty $tag $($ctor $($arg)?)?);

        impl $ty {
            $(element!(@set $(#[$attr_doc])* $setter: $kind = $attr);)*

            /// Sets any attribute by its TwiML name (replacing an earlier value), for attributes
            /// this builder has no setter for.
            pub fn attr(
                mut self,
                name: impl Into<::std::borrow::Cow<'static, str>>,
                value: impl Into<String>,
            ) -> Self {
                self.0.set(name, value.into());
                self
            }

            /// Appends any element as a child, for nesting this builder has no method for.
            pub fn child(mut self, child: impl Into<$crate::twiml::Element>) -> Self {
                self.0.push(child.into());
                self
            }
        }

        impl From<$ty> for $crate::twiml::Element {
            fn from(builder: $ty) -> Self {
                builder.0
            }
        }
    };
}

/// Declares the typed child methods of a builder: `method: ChildType,` appends a `ChildType`.
macro_rules! children {
    ($ty:ident { $($method:ident: $child:ident),* $(,)? }) => {
        impl $ty {
            $(
                #[doc = concat!("Appends a [`", stringify!($child), "`].")]
                pub fn $method(mut self, child: impl Into<$child>) -> Self {
                    let child: $child = child.into();
                    self.0.push(child.into());
                    self
                }
            )*
        }
    };
}

/// Gives builders whose content may mix text and child elements a `text` method.
macro_rules! mixed_content {
    ($($ty:ident),* $(,)?) => {
        $(
            impl $ty {
                /// Appends text after the current content.
                pub fn text(mut self, text: impl Into<String>) -> Self {
                    self.0 = self.0.text(text);
                    self
                }
            }
        )*
    };
}

/// Implements `new(name, value)` and `From<(name, value)>` for name/value elements.
macro_rules! name_value {
    ($($ty:ident($tag:literal)),* $(,)?) => {
        $(
            impl $ty {
                #[doc = concat!("A `<", $tag, " name=\"...\" value=\"...\" />`.")]
                pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
                    Self($crate::twiml::Element::new($tag)).name(name).value(value)
                }
            }

            impl<N: Into<String>, V: Into<String>> From<(N, V)> for $ty {
                fn from((name, value): (N, V)) -> Self {
                    Self::new(name, value)
                }
            }
        )*
    };
}

mod connect;
mod dial;
mod say;
mod sip;
mod stream;
mod values;
mod verbs;

pub use connect::*;
pub use dial::*;
pub use say::*;
pub use sip::*;
pub use stream::*;
pub use values::*;
pub use verbs::*;

const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// Any TwiML element by name: the node every builder renders to, and the escape hatch for
/// elements the builders do not cover (twilio-python's `add_child`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    name: Cow<'static, str>,
    attrs: Vec<(Cow<'static, str>, String)>,
    children: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    /// An element named `name`, written exactly as given (`Say`, `amazon:effect`).
    pub fn new(name: impl Into<Cow<'static, str>>) -> Self {
        Self {
            name: name.into(),
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    /// The element's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets attribute `name`, replacing an earlier value.
    pub fn attr(mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) -> Self {
        self.set(name, value.into());
        self
    }

    /// Appends text after the current content; empty text adds nothing, as in twilio-python.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        let text = text.into();
        if text.is_empty() {
            return self;
        }
        match self.children.last_mut() {
            Some(Node::Text(last)) => last.push_str(&text),
            _ => self.children.push(Node::Text(text)),
        }
        self
    }

    /// Appends a child element.
    pub fn child(mut self, child: impl Into<Element>) -> Self {
        self.push(child.into());
        self
    }

    /// Sets or replaces an attribute; later setters win, as keyword arguments do in twilio.
    /// Attributes are kept sorted by name (code point order, as Python sorts), the order twilio
    /// writes them in.
    fn set(&mut self, name: impl Into<Cow<'static, str>>, value: String) {
        let name = name.into();
        match self
            .attrs
            .binary_search_by(|(n, _)| n.as_ref().cmp(name.as_ref()))
        {
            Ok(at) => self.attrs[at].1 = value,
            Err(at) => self.attrs.insert(at, (name, value)),
        }
    }

    fn push(&mut self, child: Element) {
        self.children.push(Node::Element(child));
    }

    fn write(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for (name, value) in &self.attrs {
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            escape(out, value, true);
            out.push('"');
        }
        if self.children.is_empty() {
            out.push_str(" />");
            return;
        }
        out.push('>');
        for child in &self.children {
            match child {
                Node::Element(element) => element.write(out),
                Node::Text(text) => escape(out, text, false),
            }
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }
}

/// Writes the element alone, without the XML declaration.
impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.write(&mut out);
        f.write_str(&out)
    }
}

/// Escapes as Python's ElementTree does: `& < >` in text; in attributes also `"` and the
/// whitespace an XML parser would otherwise normalise away.
fn escape(out: &mut String, value: &str, attribute: bool) {
    // Copy runs of plain characters whole: most values have nothing to escape.
    let mut rest = value;
    while let Some(at) = rest.find(|c| needs_escape(c, attribute)) {
        out.push_str(&rest[..at]);
        let c = rest[at..]
            .chars()
            .next()
            .expect("find returned a char boundary");
        out.push_str(match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\n' => "&#10;",
            '\r' => "&#13;",
            _ => "&#09;",
        });
        rest = &rest[at + c.len_utf8()..];
    }
    out.push_str(rest);
}

fn needs_escape(c: char, attribute: bool) -> bool {
    matches!(c, '&' | '<' | '>') || (attribute && matches!(c, '"' | '\n' | '\r' | '\t'))
}

/// Writes multi-valued attributes (`statusCallbackEvent="initiated ringing"`).
fn join<T: fmt::Display>(values: impl IntoIterator<Item = T>, separator: &str) -> String {
    let mut out = String::new();
    for (i, value) in values.into_iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        out.push_str(&value.to_string());
    }
    out
}

element! {
    /// A TwiML voice document: the `<Response>` root and its verbs, in order.
    VoiceResponse("Response") {}
}

children!(VoiceResponse {
    connect: Connect,
    dial: Dial,
    enqueue: Enqueue,
    gather: Gather,
    pause: Pause,
    pay: Pay,
    play: Play,
    prompt: Prompt,
    queue: Queue,
    record: Record,
    redirect: Redirect,
    refer: Refer,
    reject: Reject,
    say: Say,
    sms: Sms,
    start: Start,
    stop: Stop,
});

impl VoiceResponse {
    /// Appends `<Echo />`.
    pub fn echo(self) -> Self {
        self.child(Echo::new())
    }

    /// Appends `<Hangup />`; use `.child(Hangup::new()...)` to give it parameters.
    pub fn hangup(self) -> Self {
        self.child(Hangup::new())
    }

    /// Appends `<Leave />`.
    pub fn leave(self) -> Self {
        self.child(Leave::new())
    }

    /// The document: the XML declaration directly followed by `<Response>`.
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push_str(XML_DECLARATION);
        self.0.write(&mut out);
        out
    }
}

/// Writes [`VoiceResponse::to_xml`].
impl fmt::Display for VoiceResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_xml())
    }
}

/// Test helper: asserts each response renders to the declaration followed by its body.
#[cfg(test)]
fn assert_documents(cases: impl IntoIterator<Item = (VoiceResponse, &'static str)>) {
    for (response, body) in cases {
        assert_eq!(response.to_xml(), format!("{XML_DECLARATION}{body}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped_like_elementtree() {
        let element = Element::new("Say")
            .attr("b", "a&b<c>d\"e'f\ng\rh\ti")
            .text("x & <y> \"z\" 'w'\n\tnécessaire ☎");
        assert_eq!(
            element.to_string(),
            "<Say b=\"a&amp;b&lt;c&gt;d&quot;e'f&#10;g&#13;h&#09;i\">x &amp; &lt;y&gt; \"z\" 'w'\n\tnécessaire ☎</Say>"
        );
    }

    #[test]
    fn attributes_are_sorted_and_later_values_win() {
        let element = Element::new("X")
            .attr("timeout", "5")
            .attr("action", "/a")
            .attr("Zed", "1")
            .attr("timeout", "10");
        assert_eq!(
            element.to_string(),
            r#"<X Zed="1" action="/a" timeout="10" />"#
        );
    }

    #[test]
    fn mixed_text_and_children_keep_their_order() {
        let element = Element::new("Say")
            .text("Hello ")
            .text("there")
            .child(Element::new("break"))
            .text("")
            .text("again");
        assert_eq!(element.to_string(), "<Say>Hello there<break />again</Say>");
    }

    #[test]
    fn generic_children_and_attributes_reach_any_builder() {
        let response = VoiceResponse::new()
            .attr("custom", "yes")
            .child(Element::new("Foo").attr("bar", "baz").text("qux"))
            .child(Hangup::new().parameter(Parameter::new("reason", "done")));
        assert_documents([(
            response,
            r#"<Response custom="yes"><Foo bar="baz">qux</Foo><Hangup><Parameter name="reason" value="done" /></Hangup></Response>"#,
        )]);
    }

    /// The calls the example guests make, so the API they rely on stays put.
    #[test]
    fn guest_examples_render() {
        let (target, region, transport) =
            (&"sales@pbx-us.example.com", &Region::Us1, &Transport::Tls);
        let mut uri = SipUri::new(*target).region(*region).transport(*transport);
        uri = uri.header("x-customer", "42");
        let mut dial = Dial::new()
            .sequential(true)
            .timeout(15)
            .action("/dial-complete");
        for user in ["alice", "bob"] {
            dial = dial.sip(
                Sip::new(SipUri::new(format!("{user}@acme.example.com")))
                    .status_callback("https://status.example.com/sip")
                    .status_callback_method(Method::Post)
                    .status_callback_event([SipEvent::Initiated, SipEvent::Completed]),
            );
        }
        let number: String = "+15125551212".into();
        let caller: String = "+14155550100".into();
        assert_documents([
            (
                VoiceResponse::new().dial(Dial::new().answer_on_bridge(true).sip(Sip::new(uri))),
                r#"<Response><Dial answerOnBridge="true"><Sip>sip:sales@pbx-us.example.com;region=us1;transport=tls?x-customer=42</Sip></Dial></Response>"#,
            ),
            (
                VoiceResponse::new().dial(dial),
                r#"<Response><Dial action="/dial-complete" sequential="true" timeout="15"><Sip statusCallback="https://status.example.com/sip" statusCallbackEvent="initiated completed" statusCallbackMethod="POST">sip:alice@acme.example.com</Sip><Sip statusCallback="https://status.example.com/sip" statusCallbackEvent="initiated completed" statusCallbackMethod="POST">sip:bob@acme.example.com</Sip></Dial></Response>"#,
            ),
            (
                VoiceResponse::new().dial(Dial::new().caller_id(caller).number(number)),
                r#"<Response><Dial callerId="+14155550100"><Number>+15125551212</Number></Dial></Response>"#,
            ),
        ]);
        let mut response = VoiceResponse::new();
        for (name, value) in [("From", "sip:a&b@x"), ("To", "+1")] {
            response = response.say(Say::new(format!("{name}={value}")));
        }
        assert_documents([(
            response,
            "<Response><Say>From=sip:a&amp;b@x</Say><Say>To=+1</Say></Response>",
        )]);
    }

    #[test]
    fn display_is_to_xml() {
        let response = VoiceResponse::default().say(Say::new("hi"));
        assert_eq!(response.to_string(), response.to_xml());
        assert!(
            response
                .to_xml()
                .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>")
        );
    }
}
