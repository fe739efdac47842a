//! The TwiML check every answer passes before it leaves the runtime.
//!
//! One pass of quick-xml over the document, no tree: a stack of open elements, each pointing
//! at its entry in the static [`schema`] table. The happy path allocates the element stack and
//! two reusable buffers (attribute names, the SIP URI text); messages, line numbers and
//! did-you-means are only worked out for a finding.

use std::fmt;
use std::ptr;

use quick_xml::XmlVersion;
use quick_xml::errors::{Error as XmlError, IllFormedError};
use quick_xml::events::attributes::AttrError;
use quick_xml::events::{BytesCData, BytesDecl, BytesPI, BytesRef, BytesStart, BytesText, Event};
use quick_xml::reader::Reader;

use crate::schema::{self, Element, Kind, Text};
use crate::sip;

/// Largest TwiML body the SIP engine accepts (SPEC §3: "a response over 64 kB is an error").
pub const DEFAULT_MAX_TWIML_BYTES: usize = 64_000;

/// A `<Dial>` may ring at most this many parties at once or in turn (seeds 002, 003).
pub const MAX_DIAL_PARTIES: u32 = 10;

/// What an account allows.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// "Enhanced Programmable SIP Features": several nouns next to a `<Sip>` in one `<Dial>`.
    pub enhanced_sip: bool,
    /// Largest body, in bytes; [`DEFAULT_MAX_TWIML_BYTES`] by default.
    pub max_bytes: usize,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            enhanced_sip: false,
            max_bytes: DEFAULT_MAX_TWIML_BYTES,
        }
    }
}

/// How the SIP engine would fail on a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The engine cannot parse the document (Twilio error 12100; 11750 for size).
    Syntax,
    /// It parses, but breaks the TwiML schema or the `<Dial>`/`<Sip>` rules (12200).
    Schema,
}

/// One thing the SIP engine would refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// Stable kebab-case id, one of [`RULES`].
    pub rule: &'static str,
    /// 1-based line of the offending element, attribute or text.
    pub line: usize,
    /// What is wrong and how to fix it, starting in lower case.
    pub message: String,
}

impl Finding {
    /// The error code the SIP engine would log for this finding.
    pub fn error_code(&self) -> u32 {
        match (self.severity, self.rule) {
            (_, "too-large") => 11750,
            (Severity::Syntax, _) => 12100,
            (Severity::Schema, _) => 12200,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}: {} (rule {})",
            self.line, self.message, self.rule
        )
    }
}

/// Every rule id, its severity and what it refuses.
#[rustfmt::skip]
pub const RULES: &[(&str, Severity, &str)] = &[
    ("too-large", Severity::Syntax, "the body is over Rules::max_bytes (11750)"),
    ("content-before-declaration", Severity::Syntax, "a BOM, whitespace or text before <?xml"),
    ("declaration-not-first", Severity::Syntax, "an XML declaration after the start"),
    ("bad-declaration", Severity::Syntax, "a declaration without version 1.0 or not UTF-8"),
    ("doctype", Severity::Syntax, "a <!DOCTYPE>"),
    ("root-not-response", Severity::Syntax, "no root, or a root other than <Response>"),
    ("multiple-roots", Severity::Syntax, "an element after </Response>"),
    ("text-outside-root", Severity::Syntax, "text before or after <Response>"),
    ("unclosed-element", Severity::Syntax, "an element never closed"),
    ("mismatched-end-tag", Severity::Syntax, "an end tag that closes another or no element"),
    ("unescaped-lt", Severity::Syntax, "a raw '<' in text or an attribute value"),
    ("unescaped-amp", Severity::Syntax, "a raw '&' not starting an entity"),
    ("bad-entity", Severity::Syntax, "an unknown entity or an invalid character reference"),
    ("invalid-char", Severity::Syntax, "a control character XML forbids"),
    ("malformed-tag", Severity::Syntax, "a tag whose name is not an XML name"),
    ("malformed-attribute", Severity::Syntax, "an attribute without '=' or quotes"),
    ("duplicate-attribute", Severity::Syntax, "the same attribute twice on one element"),
    ("malformed-xml", Severity::Syntax, "any other parse failure (unclosed tag, comment...)"),
    ("unknown-element", Severity::Schema, "an element not in the voice vocabulary"),
    ("misplaced-element", Severity::Schema, "a known element where it may not stand"),
    ("unknown-attribute", Severity::Schema, "an attribute the element does not have"),
    ("invalid-attribute-value", Severity::Schema, "a value outside the attribute's fixed set"),
    ("unexpected-text", Severity::Schema, "text in an element that takes none"),
    ("missing-text", Severity::Schema, "an empty element that needs text"),
    ("dial-too-many-nouns", Severity::Schema, "more than 10 parties in one <Dial>"),
    ("dial-exclusive-noun", Severity::Schema, "<Conference> or <Queue> next to other nouns"),
    ("dial-text-and-nouns", Severity::Schema, "a <Dial> with both a number as text and nouns"),
    ("enhanced-sip-required", Severity::Schema, "<Sip> next to other nouns without enhanced SIP"),
    ("dial-caller-id", Severity::Schema, "a callerId the <Dial> cannot use"),
    ("sip-uri-invalid", Severity::Schema, "<Sip> text that is not a sip:/sips: URI"),
    ("sip-uri-too-long", Severity::Schema, "a SIP URI over 255 characters before '?'"),
    ("sip-headers-too-long", Severity::Schema, "SIP headers of 1024 characters or more"),
    ("sip-transport", Severity::Schema, ";transport= other than udp, tcp, tls"),
    ("sip-region", Severity::Schema, ";region= other than the SIP-out regions"),
    ("sip-header-syntax", Severity::Schema, "a SIP header that is not name=value"),
    ("sip-header-name", Severity::Schema, "a SIP header not x- and not a standard one"),
    ("sip-header-value", Severity::Schema, "an unescaped or line-breaking SIP header value"),
];

/// Checks a whole TwiML document, with or without its `<?xml?>` declaration.
///
/// Returns every finding in document order, and stops at the first [`Severity::Syntax`]
/// finding: after a parse error nothing else is reliable.
pub fn check(doc: &str, rules: &Rules) -> Vec<Finding> {
    Checker::new(doc, rules).run()
}

/// Processing stops after a syntax finding.
struct Stop;
type Flow = Result<(), Stop>;

struct Checker<'a> {
    doc: &'a str,
    rules: &'a Rules,
    /// Findings with the byte offset they point at, sorted at the end.
    findings: Vec<(usize, Finding)>,
    stack: Vec<Frame>,
    root_seen: bool,
    root_closed: bool,
    decl_seen: bool,
    /// Text of the SIP URI element being read.
    uri: String,
    /// Attribute names of the current tag, as byte ranges of `doc`, for duplicate detection.
    keys: Vec<(usize, usize)>,
}

struct Frame {
    el: Option<&'static Element>,
    /// Offset of the `<` and the name of the element.
    off: usize,
    name: (usize, usize),
    /// Offset of the first non-blank text directly inside.
    text_off: Option<usize>,
    text_reported: bool,
    /// `Text::OrAttr` attribute present.
    text_waived: bool,
    /// `Text::OrChild` child present.
    key_child: bool,
    dial: DialState,
}

#[derive(Default)]
struct DialState {
    nouns: u32,
    parties: u32,
    sips: u32,
    exclusive: Option<&'static str>,
    caller_id: Option<CallerId>,
}

struct CallerId {
    off: usize,
    value: (usize, usize),
    fits_sip: bool,
    fits_any: bool,
}

impl<'a> Checker<'a> {
    fn new(doc: &'a str, rules: &'a Rules) -> Self {
        Self {
            doc,
            rules,
            findings: Vec::new(),
            stack: Vec::with_capacity(8),
            root_seen: false,
            root_closed: false,
            decl_seen: false,
            uri: String::new(),
            keys: Vec::new(),
        }
    }

    fn run(mut self) -> Vec<Finding> {
        if self.doc.len() > self.rules.max_bytes {
            let _ = self.syntax(
                0,
                "too-large",
                format!(
                    "the TwiML is {} bytes; the SIP engine refuses answers over {} bytes, so \
                     answer with less (move long prompts into <Play> audio files)",
                    self.doc.len(),
                    self.rules.max_bytes
                ),
            );
            return self.finish();
        }
        if self.prolog().is_ok() {
            self.parse();
        }
        self.finish()
    }

    /// Nothing, not even a BOM or a blank line, may precede the declaration.
    fn prolog(&mut self) -> Flow {
        if self.doc.starts_with('\u{feff}') {
            return Err(self.syntax(
                0,
                "content-before-declaration",
                "the document starts with a byte order mark (U+FEFF); remove it: nothing may \
                 come before <?xml"
                    .into(),
            ));
        }
        let start = self.doc.len() - self.doc.trim_start_matches(is_xml_space).len();
        let rest = &self.doc[start..];
        if start > 0
            && rest.starts_with("<?xml")
            && rest[5..].starts_with(|c| is_xml_space(c) || c == '?')
        {
            return Err(self.syntax(
                0,
                "content-before-declaration",
                format!(
                    "{} before the <?xml declaration; it must be the very first thing in the \
                     document",
                    describe_blank(&self.doc[..start])
                ),
            ));
        }
        Ok(())
    }

    fn parse(&mut self) {
        let mut reader = Reader::from_str(self.doc);
        reader.config_mut().check_comments = true;
        loop {
            let pos = reader.buffer_position() as usize;
            let event = match reader.read_event() {
                Ok(event) => event,
                Err(err) => {
                    self.xml_error(&err, reader.error_position() as usize);
                    return;
                }
            };
            let flow = match &event {
                Event::Start(e) => self.start(e, pos, false),
                Event::Empty(e) => self.start(e, pos, true),
                Event::End(_) => {
                    self.end();
                    Ok(())
                }
                Event::Text(t) => self.text(t, pos),
                Event::CData(c) => self.cdata(c, pos),
                Event::GeneralRef(r) => self.general_ref(r, pos),
                Event::Decl(d) => self.decl(d, pos),
                Event::PI(p) => self.pi(p, pos),
                Event::DocType(_) => Err(self.syntax(
                    pos,
                    "doctype",
                    "<!DOCTYPE> is not allowed in TwiML; remove it".into(),
                )),
                Event::Comment(_) => Ok(()),
                Event::Eof => {
                    self.eof();
                    return;
                }
            };
            if flow.is_err() {
                return;
            }
        }
    }

    // ---- elements ----

    fn start(&mut self, e: &BytesStart<'_>, off: usize, empty: bool) -> Flow {
        let name = e.name().0;
        let name_off = self.offset_of(name).unwrap_or(off + 1);
        self.check_name(name, off)?;

        let el = if self.stack.is_empty() {
            self.root(name, off)?
        } else {
            self.child(name, off)
        };
        let mut frame = Frame {
            el,
            off,
            name: (name_off, name.len()),
            text_off: None,
            text_reported: false,
            text_waived: false,
            key_child: false,
            dial: DialState::default(),
        };
        self.attributes(e, off, &mut frame)?;
        if el.is_some_and(is_uri_element) {
            self.uri.clear();
        }
        self.stack.push(frame);
        if empty {
            self.end();
        }
        Ok(())
    }

    fn root(&mut self, name: &str, off: usize) -> Result<Option<&'static Element>, Stop> {
        if self.root_closed {
            return Err(self.syntax(
                off,
                "multiple-roots",
                format!(
                    "<{name}> comes after </Response>; a TwiML document has exactly one root, \
                     so move it inside <Response>"
                ),
            ));
        }
        if name != schema::RESPONSE.name {
            let hint = if name.eq_ignore_ascii_case("Response") {
                " (did you mean <Response>? names are case-sensitive)"
            } else {
                ""
            };
            return Err(self.syntax(
                off,
                "root-not-response",
                format!(
                    "the root element is <{name}>{hint}; TwiML must be wrapped in a single \
                     <Response> element"
                ),
            ));
        }
        self.root_seen = true;
        Ok(Some(&schema::RESPONSE))
    }

    /// Places `name` under the open element and does the parent's bookkeeping.
    fn child(&mut self, name: &str, off: usize) -> Option<&'static Element> {
        let parent = self.stack.last()?.el?;
        let Some(el) = parent.child(name) else {
            self.placement(name, parent, off);
            return None;
        };
        let frame = self.stack.last_mut()?;
        if parent.text == Text::OrChild(el.name) {
            frame.key_child = true;
        }
        if ptr::eq(parent, &schema::DIAL) {
            let dial = &mut frame.dial;
            dial.nouns += 1;
            if ptr::eq(el, &schema::CONFERENCE) || ptr::eq(el, &schema::QUEUE) {
                dial.exclusive.get_or_insert(el.name);
            } else {
                dial.parties += 1;
            }
            if ptr::eq(el, &schema::SIP) {
                dial.sips += 1;
            }
            if dial.parties == MAX_DIAL_PARTIES + 1 {
                self.schema(
                    off,
                    "dial-too-many-nouns",
                    format!(
                        "this <{name}> is noun number {} in its <Dial>; a <Dial> rings at most \
                         {MAX_DIAL_PARTIES} <Number>, <Client> or <Sip> nouns, so split it \
                         into several <Dial>s",
                        MAX_DIAL_PARTIES + 1
                    ),
                );
            }
        }
        Some(el)
    }

    fn placement(&mut self, name: &str, parent: &'static Element, off: usize) {
        let exact = schema::ALL.iter().any(|e| e.name == name);
        if exact {
            let mut homes: Vec<&str> = schema::ALL
                .iter()
                .filter(|p| p.child(name).is_some())
                .map(|p| p.name)
                .collect();
            homes.dedup();
            if homes.is_empty() {
                self.schema(
                    off,
                    "misplaced-element",
                    format!(
                        "<{name}> is the document root and cannot be nested; remove the inner one"
                    ),
                );
                return;
            }
            self.schema(
                off,
                "misplaced-element",
                format!(
                    "<{name}> cannot stand inside <{}>; it belongs inside <{}>{}",
                    parent.name,
                    homes.join("> or <"),
                    accepts(parent)
                ),
            );
            return;
        }
        let guess = parent
            .children
            .iter()
            .chain(schema::ALL.iter())
            .find(|e| e.name.eq_ignore_ascii_case(name));
        let message = match guess {
            Some(g) => format!(
                "unknown element <{name}>; did you mean <{}>? TwiML names are case-sensitive",
                g.name
            ),
            None => format!(
                "unknown element <{name}> is not part of TwiML for voice{}",
                accepts(parent)
            ),
        };
        self.schema(off, "unknown-element", message);
    }

    fn end(&mut self) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        if self.stack.is_empty() {
            self.root_closed = true;
        }
        let Some(el) = frame.el else {
            return;
        };
        let needs_text = match el.text {
            Text::Required => true,
            Text::OrChild(_) => !frame.key_child,
            Text::OrAttr(_) => !frame.text_waived,
            Text::None | Text::Optional => false,
        };
        if needs_text && frame.text_off.is_none() {
            self.schema(frame.off, "missing-text", missing_text(el));
        }
        if let Some(text_off) = frame.text_off
            && is_uri_element(el)
            && !frame.key_child
        {
            let uri = std::mem::take(&mut self.uri);
            let element = format!("<{}>", el.name);
            sip::check_uri(
                uri.trim_matches(is_xml_space),
                &element,
                &mut |rule, message| self.schema(text_off, rule, message),
            );
            self.uri = uri;
        }
        if ptr::eq(el, &schema::DIAL) {
            self.dial_end(&frame);
        }
    }

    fn dial_end(&mut self, frame: &Frame) {
        let dial = &frame.dial;
        if let Some(text_off) = frame.text_off
            && dial.nouns > 0
        {
            self.schema(
                text_off,
                "dial-text-and-nouns",
                "<Dial> holds both a number as text and nested nouns; put the number in its \
                 own <Number> noun"
                    .into(),
            );
        }
        if let Some(name) = dial.exclusive
            && dial.nouns > 1
        {
            self.schema(
                frame.off,
                "dial-exclusive-noun",
                format!(
                    "<{name}> must be the only noun in its <Dial>, but this <Dial> holds {} \
                     nouns; give <{name}> a <Dial> of its own",
                    dial.nouns
                ),
            );
        }
        if dial.sips > 0 && dial.nouns > 1 && !self.rules.enhanced_sip {
            let others = dial.nouns - 1;
            self.schema(
                frame.off,
                "enhanced-sip-required",
                format!(
                    "this <Dial> holds a <Sip> and {others} other noun{}; without Enhanced \
                     Programmable SIP Features a <Dial> with <Sip> may hold that single <Sip> \
                     only: enable enhanced SIP on the account, or split it into one <Dial> per \
                     noun (chained through the action URL)",
                    if others == 1 { "" } else { "s" }
                ),
            );
        }
        if let Some(caller) = &dial.caller_id {
            let value = &self.doc[caller.value.0..caller.value.1];
            if dial.sips > 0 && !caller.fits_sip {
                self.schema(
                    caller.off,
                    "dial-caller-id",
                    format!(
                        "callerId={value:?} on a <Dial> with <Sip> may only hold letters, \
                         digits and + - _ . (no spaces)"
                    ),
                );
            } else if !caller.fits_any {
                self.schema(
                    caller.off,
                    "dial-caller-id",
                    format!(
                        "callerId={value:?} must be a phone number in E.164 (+14155550100) or a \
                         client:name, without spaces"
                    ),
                );
            }
        }
    }

    // ---- attributes ----

    /// Checks the syntax of every attribute, then its schema. Stops at a syntax finding.
    fn attributes(&mut self, e: &BytesStart<'_>, off: usize, frame: &mut Frame) -> Flow {
        let tag_off = self.offset_of(e).unwrap_or(off + 1);
        self.keys.clear();
        let mut attrs = e.attributes();
        attrs.with_checks(false);
        for attr in attrs {
            let attr = match attr {
                Ok(attr) => attr,
                Err(err) => return Err(self.attr_error(err, e, tag_off)),
            };
            let key = attr.key.0;
            let key_off = self.offset_of(key).unwrap_or(tag_off);
            if !is_xml_name(key) {
                return Err(self.syntax(
                    key_off,
                    "malformed-attribute",
                    format!("{key:?} is not a valid attribute name"),
                ));
            }
            if self.keys.iter().any(|&(s, l)| &self.doc[s..s + l] == key) {
                return Err(self.syntax(
                    key_off,
                    "duplicate-attribute",
                    format!(
                        "attribute {key} on <{}> appears twice; keep one",
                        e.name().0
                    ),
                ));
            }
            self.keys.push((key_off, key.len()));
            let raw_off = self.offset_of(&attr.value).unwrap_or(key_off);
            self.check_raw_value(key, &attr.value, raw_off)?;

            let Some(el) = frame.el else {
                continue;
            };
            let Some(spec) = el.attr(key) else {
                self.unknown_attribute(el, key, key_off);
                continue;
            };
            // Syntax is checked above, so normalizing cannot fail.
            let value = attr
                .normalized_value(XmlVersion::Implicit1_0)
                .unwrap_or_default();
            if el.text == Text::OrAttr(spec.name) {
                frame.text_waived = true;
            }
            if ptr::eq(el, &schema::DIAL) && key == "callerId" {
                let value_range = self
                    .offset_of(&attr.value)
                    .map_or((0, 0), |s| (s, s + attr.value.len()));
                frame.dial.caller_id = Some(CallerId {
                    off: key_off,
                    value: value_range,
                    fits_sip: !value.is_empty()
                        && value
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"+-_.".contains(&b)),
                    fits_any: !value.is_empty() && !value.contains(char::is_whitespace),
                });
            }
            if let Some(problem) = value_problem(spec.kind, &value) {
                self.schema(
                    key_off,
                    "invalid-attribute-value",
                    format!("{key}={value:?} on <{}> {problem}", el.name),
                );
            }
        }
        Ok(())
    }

    fn attr_error(&mut self, err: AttrError, e: &BytesStart<'_>, tag_off: usize) -> Stop {
        let buf: &str = e;
        let name = e.name().0;
        let (pos, rule, what) = match err {
            AttrError::Duplicated(pos, _) => {
                (pos, "duplicate-attribute", "appears twice; keep one")
            }
            AttrError::ExpectedEq(pos) => (
                pos,
                "malformed-attribute",
                "follows an attribute without '=\"value\"'",
            ),
            AttrError::ExpectedValue(pos) => (
                pos,
                "malformed-attribute",
                "has '=' but no value; write name=\"value\"",
            ),
            AttrError::UnquotedValue(pos) => (
                pos,
                "malformed-attribute",
                "is an unquoted value; put attribute values in double quotes",
            ),
            AttrError::ExpectedQuote(pos, _) => (
                pos,
                "malformed-attribute",
                "is a value without its closing quote",
            ),
        };
        let rest = buf.get(pos..).unwrap_or("");
        let word = &rest[..rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len())];
        let message = if rule == "duplicate-attribute" {
            format!("attribute {word} on <{name}> {what}")
        } else {
            format!("{:?} on <{name}> {what}", sip::shorten(word))
        };
        self.syntax(tag_off + pos, rule, message)
    }

    fn unknown_attribute(&mut self, el: &'static Element, key: &str, key_off: usize) {
        let message = if let Some(a) = el.attrs.iter().find(|a| a.name.eq_ignore_ascii_case(key)) {
            format!(
                "<{}> has no attribute {key}; did you mean {}? attribute names are case-sensitive",
                el.name, a.name
            )
        } else if el.attrs.is_empty() {
            format!("<{}> takes no attributes; remove {key}", el.name)
        } else if el.attrs.len() <= 12 {
            let names: Vec<&str> = el.attrs.iter().map(|a| a.name).collect();
            format!(
                "<{}> has no attribute {key}; it accepts {}",
                el.name,
                names.join(", ")
            )
        } else {
            format!("<{}> has no attribute {key}", el.name)
        };
        self.schema(key_off, "unknown-attribute", message);
    }

    /// A raw attribute value: no `<`, every `&` starts a known entity, no control characters.
    fn check_raw_value(&mut self, key: &str, raw: &str, off: usize) -> Flow {
        let bytes = raw.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'<' => {
                    return Err(self.syntax(
                        off + i,
                        "unescaped-lt",
                        format!("attribute {key} contains a raw '<'; write &lt; instead"),
                    ));
                }
                b'&' => match reference_len(&raw[i + 1..]) {
                    Ok(len) => {
                        i += len + 2;
                        continue;
                    }
                    Err(rule) => {
                        return Err(self.syntax(off + i, rule, amp_message(&raw[i..], rule)));
                    }
                },
                b if is_forbidden_control(b) => {
                    return Err(self.syntax(
                        off + i,
                        "invalid-char",
                        format!(
                            "attribute {key} contains the control character U+{b:04X}, which \
                             XML does not allow; remove it"
                        ),
                    ));
                }
                _ => {}
            }
            i += 1;
        }
        Ok(())
    }

    // ---- text ----

    fn text(&mut self, t: &BytesText<'_>, off: usize) -> Flow {
        let raw: &str = t;
        self.character_data(raw, off)
    }

    fn cdata(&mut self, c: &BytesCData<'_>, off: usize) -> Flow {
        // Content starts after "<![CDATA[".
        let raw: &str = c;
        self.character_data(raw, self.offset_of(raw).unwrap_or(off))
    }

    fn character_data(&mut self, raw: &str, off: usize) -> Flow {
        if let Some(i) = raw.bytes().position(is_forbidden_control) {
            return Err(self.syntax(
                off + i,
                "invalid-char",
                format!(
                    "text contains the control character U+{:04X}, which XML does not allow; \
                     remove it",
                    raw.as_bytes()[i]
                ),
            ));
        }
        if let Some(i) = raw.find("]]>") {
            return Err(self.syntax(
                off + i,
                "malformed-xml",
                "text contains \"]]>\", which XML does not allow; write ]]&gt;".into(),
            ));
        }
        let first = raw.find(|c| !is_xml_space(c));
        if self.stack.is_empty() {
            if let Some(i) = first {
                return Err(self.text_outside_root(off + i, &raw[i..]));
            }
            return Ok(());
        }
        if self.collecting() {
            self.uri.push_str(raw);
        }
        if let Some(i) = first {
            self.saw_text(off + i, &raw[i..]);
        }
        Ok(())
    }

    fn general_ref(&mut self, r: &BytesRef<'_>, off: usize) -> Flow {
        let name: &str = r;
        let ch = match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "apos" => '\'',
            "quot" => '"',
            _ => match r.resolve_char_ref() {
                Ok(Some(c)) if is_xml_char(c) => c,
                Ok(None) => {
                    return Err(self.syntax(
                        off,
                        "bad-entity",
                        format!(
                            "unknown entity &{name}; (XML knows only &lt; &gt; &amp; &apos; \
                             &quot;); for a literal '&' write &amp;"
                        ),
                    ));
                }
                _ => {
                    return Err(self.syntax(
                        off,
                        "bad-entity",
                        format!("&{name}; is not a character XML allows; remove it"),
                    ));
                }
            },
        };
        if self.stack.is_empty() {
            if is_xml_space(ch) {
                return Ok(());
            }
            return Err(self.text_outside_root(off, name));
        }
        if self.collecting() {
            self.uri.push(ch);
        }
        if !is_xml_space(ch) {
            let mut buf = [0u8; 4];
            self.saw_text(off, ch.encode_utf8(&mut buf));
        }
        Ok(())
    }

    fn collecting(&self) -> bool {
        self.stack
            .last()
            .and_then(|f| f.el)
            .is_some_and(is_uri_element)
    }

    fn saw_text(&mut self, off: usize, text: &str) {
        let Some(frame) = self.stack.last_mut() else {
            return;
        };
        frame.text_off.get_or_insert(off);
        let Some(el) = frame.el else {
            return;
        };
        if el.text != Text::None || frame.text_reported {
            return;
        }
        frame.text_reported = true;
        let hint = if ptr::eq(el, &schema::RESPONSE)
            || ptr::eq(el, &schema::GATHER)
            || ptr::eq(el, &schema::PROMPT)
        {
            "put words to speak inside <Say>"
        } else {
            "remove it"
        };
        self.schema(
            off,
            "unexpected-text",
            format!(
                "<{}> takes no text but holds {:?}; {hint}",
                el.name,
                sip::shorten(text.trim_end())
            ),
        );
    }

    fn text_outside_root(&mut self, off: usize, text: &str) -> Stop {
        let place = if self.root_seen {
            "after </Response>"
        } else {
            "before <Response>"
        };
        self.syntax(
            off,
            "text-outside-root",
            format!(
                "text {:?} {place}; everything must be inside the <Response> element",
                sip::shorten(text.trim_end())
            ),
        )
    }

    // ---- prolog and errors ----

    fn decl(&mut self, d: &BytesDecl<'_>, off: usize) -> Flow {
        if off != 0 || self.decl_seen {
            return Err(self.misplaced_declaration(off));
        }
        self.decl_seen = true;
        match d.version() {
            Ok(v) if v == "1.0" => {}
            Ok(v) => {
                return Err(self.syntax(
                    off,
                    "bad-declaration",
                    format!("the declaration says version={v:?}; write version=\"1.0\""),
                ));
            }
            Err(_) => {
                return Err(self.syntax(
                    off,
                    "bad-declaration",
                    "the declaration has no version; write <?xml version=\"1.0\" \
                     encoding=\"UTF-8\"?>"
                        .into(),
                ));
            }
        }
        match d.encoding() {
            None => Ok(()),
            Some(Ok(enc))
                if enc.eq_ignore_ascii_case("UTF-8") || enc.eq_ignore_ascii_case("UTF8") =>
            {
                Ok(())
            }
            Some(Ok(enc)) => Err(self.syntax(
                off,
                "bad-declaration",
                format!(
                    "the declaration says encoding={enc:?} but the body is sent as UTF-8; write \
                     encoding=\"UTF-8\""
                ),
            )),
            Some(Err(_)) => Err(self.syntax(
                off,
                "bad-declaration",
                "the declaration's encoding is malformed; write encoding=\"UTF-8\"".into(),
            )),
        }
    }

    fn pi(&mut self, p: &BytesPI<'_>, off: usize) -> Flow {
        if p.target().eq_ignore_ascii_case("xml") {
            return Err(self.misplaced_declaration(off));
        }
        Ok(())
    }

    fn misplaced_declaration(&mut self, off: usize) -> Stop {
        self.syntax(
            off,
            "declaration-not-first",
            "an <?xml ...?> declaration appears after the start of the document; keep only one, \
             as the very first thing (the runtime already writes it)"
                .into(),
        )
    }

    fn eof(&mut self) {
        if let Some(frame) = self.stack.last() {
            let (s, l) = frame.name;
            let name = &self.doc[s..s + l];
            let off = frame.off;
            let _ = self.syntax(
                off,
                "unclosed-element",
                format!("<{name}> is never closed; add </{name}> (or write <{name}/>)"),
            );
        } else if !self.root_seen {
            let _ = self.syntax(
                self.doc.len(),
                "root-not-response",
                "the document has no root element; TwiML must be wrapped in a <Response> element"
                    .into(),
            );
        }
    }

    fn xml_error(&mut self, err: &XmlError, off: usize) {
        let (rule, message) = match err {
            XmlError::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => {
                let opened = self
                    .stack
                    .last()
                    .map(|f| format!(" opened on line {}", line_of(self.doc, f.off)))
                    .unwrap_or_default();
                (
                    "mismatched-end-tag",
                    format!(
                        "</{found}> does not close <{expected}>{opened}; close <{expected}> first"
                    ),
                )
            }
            XmlError::IllFormed(IllFormedError::UnmatchedEndTag(tag)) => (
                "mismatched-end-tag",
                format!("</{tag}> closes nothing: no <{tag}> is open here"),
            ),
            XmlError::IllFormed(IllFormedError::UnclosedReference) => (
                "unescaped-amp",
                amp_message(&self.doc[off.min(self.doc.len())..], "unescaped-amp"),
            ),
            XmlError::IllFormed(
                IllFormedError::MissingDeclVersion(_) | IllFormedError::UnknownVersion,
            ) => (
                "bad-declaration",
                "the declaration needs version=\"1.0\" first: write <?xml version=\"1.0\" \
                 encoding=\"UTF-8\"?>"
                    .into(),
            ),
            other => ("malformed-xml", format!("the XML does not parse: {other}")),
        };
        let _ = self.syntax(off, rule, message);
    }

    // ---- helpers ----

    /// Element names must be XML names; a bad one is most often a raw `<` in text.
    fn check_name(&mut self, name: &str, off: usize) -> Flow {
        if is_xml_name(name) {
            return Ok(());
        }
        let starts_badly = !name.starts_with(is_name_start);
        if starts_badly || name.contains('<') {
            return Err(self.syntax(
                off,
                "unescaped-lt",
                "text contains a raw '<'; write &lt; instead (for example \"1 &lt; 2\")".into(),
            ));
        }
        Err(self.syntax(
            off,
            "malformed-tag",
            format!("<{name}> is not a well-formed tag; an element name holds letters, digits, - _ . only"),
        ))
    }

    /// Byte offset of `s` in the document, if `s` borrows from it.
    fn offset_of(&self, s: &str) -> Option<usize> {
        let start = self.doc.as_ptr() as usize;
        let p = s.as_ptr() as usize;
        (p >= start && p + s.len() <= start + self.doc.len()).then(|| p - start)
    }

    fn syntax(&mut self, off: usize, rule: &'static str, message: String) -> Stop {
        self.push(off, Severity::Syntax, rule, message);
        Stop
    }

    fn schema(&mut self, off: usize, rule: &'static str, message: String) {
        self.push(off, Severity::Schema, rule, message);
    }

    fn push(&mut self, off: usize, severity: Severity, rule: &'static str, message: String) {
        debug_assert!(
            RULES.iter().any(|r| r.0 == rule && r.1 == severity),
            "{rule}"
        );
        let line = 0; // filled in by finish(), only for documents with findings
        self.findings.push((
            off,
            Finding {
                severity,
                rule,
                line,
                message,
            },
        ));
    }

    fn finish(mut self) -> Vec<Finding> {
        self.findings.sort_by_key(|(off, _)| *off);
        let doc = self.doc;
        self.findings
            .into_iter()
            .map(|(off, mut f)| {
                f.line = line_of(doc, off);
                f
            })
            .collect()
    }
}

fn is_uri_element(el: &'static Element) -> bool {
    ptr::eq(el, &schema::SIP) || ptr::eq(el, &schema::SIP_URI) || ptr::eq(el, &schema::REFER_SIP)
}

fn line_of(doc: &str, off: usize) -> usize {
    let end = off.min(doc.len());
    1 + doc.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// Why `value` is not acceptable for `kind`, or `None`.
pub(crate) fn value_problem(kind: Kind, value: &str) -> Option<String> {
    let one_of = |allowed: &[&str], v: &str| -> Option<String> {
        if allowed.contains(&v) {
            return None;
        }
        Some(match allowed.iter().find(|a| a.eq_ignore_ascii_case(v)) {
            Some(a) => format!("must be {}; did you mean {a:?}?", list(allowed)),
            None => format!("must be {}", list(allowed)),
        })
    };
    match kind {
        Kind::Any => None,
        Kind::Bool => one_of(&["true", "false"], value),
        Kind::Method => one_of(&["GET", "POST"], value),
        Kind::OneOf(allowed) => one_of(allowed, value),
        Kind::Int => {
            let ok =
                !value.is_empty() && value.len() <= 9 && value.bytes().all(|b| b.is_ascii_digit());
            (!ok).then(|| "must be a whole number (0 or more, digits only)".to_owned())
        }
        Kind::SpaceSet(allowed) => {
            if value.trim().is_empty() {
                return Some(format!("must list one or more of {}", list(allowed)));
            }
            value.split_ascii_whitespace().find_map(|item| {
                let comma = if item.contains(',') {
                    "; separate values with spaces, not commas"
                } else {
                    ""
                };
                one_of(allowed, item).map(|p| format!("has {item:?}, which {p}{comma}"))
            })
        }
        Kind::CommaSet(allowed) => value.split(',').find_map(|item| {
            let item = item.trim();
            let space = if item.contains(' ') {
                "; separate values with commas"
            } else {
                ""
            };
            if item.is_empty() {
                return Some(format!(
                    "has an empty item; list {} separated by commas",
                    list(allowed)
                ));
            }
            one_of(allowed, item).map(|p| format!("has {item:?}, which {p}{space}"))
        }),
    }
}

fn list(items: &[&str]) -> String {
    match items {
        [a, b] => format!("{a} or {b}"),
        _ => format!("one of {}", items.join(", ")),
    }
}

fn accepts(parent: &Element) -> String {
    match parent.children.len() {
        0 => format!(" (<{}> holds no elements)", parent.name),
        1..=10 => {
            let names: Vec<String> = parent
                .children
                .iter()
                .map(|c| format!("<{}>", c.name))
                .collect();
            format!(" (<{}> accepts {})", parent.name, names.join(", "))
        }
        _ => String::new(),
    }
}

fn missing_text(el: &Element) -> String {
    let what = match el.name {
        "Number" => "the phone number to dial, e.g. <Number>+14155550100</Number>",
        "Sip" => "the SIP URI to dial, e.g. <Sip>sip:alice@example.com</Sip>",
        "Uri" => "a SIP URI, e.g. <Uri>sip:alice@example.com</Uri>",
        "Client" => "the client identity (or an <Identity> child)",
        "Application" => "the application SID (or an <ApplicationSid> child)",
        "Redirect" => {
            "the URL of the next TwiML, e.g. <Redirect>https://example.com/next</Redirect>"
        }
        "Play" => "the URL of the audio to play (or a digits attribute)",
        "Conference" => "the conference room name",
        "Queue" => "the queue name",
        "Sms" => "the message body",
        _ => "its value",
    };
    format!("<{}> is empty; it needs {what}", el.name)
}

fn amp_message(from_amp: &str, rule: &str) -> String {
    if rule == "bad-entity" {
        let name = from_amp[1..].split(';').next().unwrap_or("");
        return format!(
            "unknown entity &{name}; (XML knows only &lt; &gt; &amp; &apos; &quot;); for a \
             literal '&' write &amp;"
        );
    }
    "a raw '&' must be written &amp; (for example \"Fish &amp; Chips\")".into()
}

/// Length of the reference name after a `&` (up to its `;`), or the rule it breaks.
fn reference_len(after_amp: &str) -> Result<usize, &'static str> {
    let Some(end) = after_amp.find(';').filter(|&e| e > 0 && e <= 32) else {
        return Err("unescaped-amp");
    };
    let name = &after_amp[..end];
    if matches!(name, "lt" | "gt" | "amp" | "apos" | "quot") {
        return Ok(end);
    }
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix('x') {
            Some(hex) => u32::from_str_radix(hex, 16),
            None => num.parse(),
        };
        return match code.ok().and_then(char::from_u32) {
            Some(c) if is_xml_char(c) => Ok(end),
            _ => Err("bad-entity"),
        };
    }
    if is_xml_name(name) {
        Err("bad-entity")
    } else {
        Err("unescaped-amp")
    }
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn is_forbidden_control(b: u8) -> bool {
    b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}')
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':' || !c.is_ascii()
}

fn is_xml_name(name: &str) -> bool {
    name.starts_with(is_name_start)
        && name
            .chars()
            .all(|c| is_name_start(c) || c.is_ascii_digit() || c == '-' || c == '.')
}

fn describe_blank(s: &str) -> String {
    if s.bytes().all(|b| b == b' ' || b == b'\t') {
        format!("{} space(s)", s.len())
    } else {
        format!(
            "{} blank line(s)",
            s.bytes().filter(|&b| b == b'\n').count().max(1)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

    /// The declaration the runtime prepends, then `body`.
    fn doc(body: &str) -> String {
        format!("{DECL}{body}")
    }

    struct Case {
        rule: &'static str,
        doc: String,
        rules: Rules,
        /// `None`: no finding at all. `Some`: a finding of `rule` on this line with this fragment.
        expect: Option<(usize, &'static str)>,
    }

    fn ok(rule: &'static str, doc: String) -> Case {
        Case {
            rule,
            doc,
            rules: Rules::default(),
            expect: None,
        }
    }

    fn bad(rule: &'static str, doc: String, line: usize, fragment: &'static str) -> Case {
        Case {
            rule,
            doc,
            rules: Rules::default(),
            expect: Some((line, fragment)),
        }
    }

    fn enhanced(mut case: Case) -> Case {
        case.rules.enhanced_sip = true;
        case
    }

    fn max_bytes(mut case: Case, max: usize) -> Case {
        case.rules.max_bytes = max;
        case
    }

    fn dial_with(nouns: usize, noun: &str) -> String {
        doc(&format!(
            "<Response><Dial>\n{}</Dial></Response>",
            noun.repeat(nouns)
        ))
    }

    #[rustfmt::skip]
    fn cases() -> Vec<Case> {
        let small = doc("<Response><Hangup/></Response>");
        let n = small.len();
        vec![
            // ---- syntax ----
            max_bytes(ok("too-large", small.clone()), n),
            max_bytes(bad("too-large", small.clone(), 1, "refuses answers over"), n - 1),
            ok("content-before-declaration", doc("<Response/>")),
            ok("content-before-declaration", "\n  <Response/>".into()),
            bad("content-before-declaration", format!("\n{DECL}<Response/>"), 1, "1 blank line(s) before"),
            bad("content-before-declaration", format!("  {DECL}<Response/>"), 1, "2 space(s)"),
            bad("content-before-declaration", format!("\u{feff}{DECL}<Response/>"), 1, "byte order mark"),
            ok("declaration-not-first", doc("<Response><?tts lexicon?></Response>")),
            bad("declaration-not-first", doc(&format!("\n{DECL}\n<Response/>")), 2, "keep only one"),
            bad("declaration-not-first", doc("<Response>\n<?xml version=\"1.0\"?></Response>"), 2, "after the start"),
            ok("bad-declaration", "<?xml version=\"1.0\" encoding=\"utf-8\"?><Response/>".into()),
            ok("bad-declaration", "<?xml version=\"1.0\"?><Response/>".into()),
            bad("bad-declaration", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Response/>".into(), 1, "encoding=\"UTF-8\""),
            bad("bad-declaration", "<?xml encoding=\"UTF-8\"?><Response/>".into(), 1, "version"),
            ok("doctype", doc("<!-- greeting --><Response><!-- a comment --></Response><!-- end -->")),
            bad("doctype", doc("\n<!DOCTYPE Response>\n<Response/>"), 2, "<!DOCTYPE> is not allowed"),
            ok("root-not-response", doc("\n<Response>\n</Response>\n")),
            bad("root-not-response", doc("\n<response/>"), 2, "did you mean <Response>?"),
            bad("root-not-response", doc("<Say>Hello</Say>"), 1, "the root element is <Say>"),
            bad("root-not-response", doc("\n"), 2, "no root element"),
            ok("multiple-roots", doc("<Response/>\n\n")),
            bad("multiple-roots", doc("<Response/>\n<Response/>"), 2, "exactly one root"),
            ok("text-outside-root", doc("\n<Response/>\n&#10;")),
            bad("text-outside-root", doc("<Response/>\nThanks"), 2, "\"Thanks\" after </Response>"),
            bad("text-outside-root", doc("Hello<Response/>"), 1, "before <Response>"),
            ok("unclosed-element", doc("<Response><Say>Hi</Say></Response>")),
            bad("unclosed-element", doc("<Response>\n<Say>Hi\n"), 2, "<Say> is never closed"),
            ok("mismatched-end-tag", doc("<Response><Gather><Say>Hi</Say></Gather></Response>")),
            bad("mismatched-end-tag", doc("<Response>\n<Say>Hi</Play>\n</Response>"), 2, "</Play> does not close <Say> opened on line 2"),
            bad("mismatched-end-tag", doc("<Response></Response>\n</Say>"), 2, "</Say> closes nothing"),
            ok("unescaped-lt", doc("<Response><Say>1 &lt; 2</Say><Play loop=\"1\">https://x/a.mp3?a=1&amp;b=&#60;</Play></Response>")),
            bad("unescaped-lt", doc("<Response>\n<Say>1 < 2</Say></Response>"), 2, "write &lt;"),
            bad("unescaped-lt", doc("<Response>\n<Redirect method=\"<POST>\">/next</Redirect></Response>"), 2, "attribute method contains a raw '<'"),
            ok("unescaped-amp", doc("<Response><Say>Fish &amp; Chips</Say></Response>")),
            bad("unescaped-amp", doc("<Response>\n<Say>Fish & Chips</Say></Response>"), 2, "written &amp;"),
            bad("unescaped-amp", doc("<Response><Redirect\n method=\"POST\"\n  >https://x/next?a=1&b=2</Redirect></Response>"), 3, "written &amp;"),
            bad("unescaped-amp", doc("<Response>\n<Gather action=\"/g?a=1&b=2\"/></Response>"), 2, "written &amp;"),
            ok("bad-entity", doc("<Response><Say>&#x41;&#66;&apos;&quot;&gt;</Say></Response>")),
            bad("bad-entity", doc("<Response>\n<Say>caf&eacute;</Say></Response>"), 2, "unknown entity &eacute;"),
            bad("bad-entity", doc("<Response><Say>\n&#1;</Say></Response>"), 2, "not a character XML allows"),
            bad("bad-entity", doc("<Response>\n<Play digits=\"&nbsp;1\"/></Response>"), 2, "unknown entity &nbsp;"),
            ok("invalid-char", doc("<Response><Say>\tHello\r\n</Say></Response>")),
            bad("invalid-char", doc("<Response>\n<Say>Hello\u{1}</Say></Response>"), 2, "U+0001"),
            bad("invalid-char", doc("<Response>\n<Say voice=\"a\u{7}\">Hi</Say></Response>"), 2, "attribute voice contains the control character U+0007"),
            ok("malformed-tag", doc("<Response><Say><say-as interpret-as=\"digits\">12</say-as></Say></Response>")),
            bad("malformed-tag", doc("<Response>\n<Say/ ></Response>"), 2, "not a well-formed tag"),
            ok("malformed-attribute", doc("<Response><Say voice='alice' loop = \"2\">Hi</Say></Response>")),
            bad("malformed-attribute", doc("<Response>\n<Say loop=2>Hi</Say></Response>"), 2, "unquoted value"),
            bad("malformed-attribute", doc("<Response>\n<Say loop voice=\"alice\">Hi</Say></Response>"), 2, "without '=\"value\"'"),
            ok("duplicate-attribute", doc("<Response><Say loop=\"2\" voice=\"alice\">Hi</Say></Response>")),
            bad("duplicate-attribute", doc("<Response>\n<Say loop=\"1\"\n loop=\"2\">Hi</Say></Response>"), 3, "attribute loop on <Say> appears twice"),
            ok("malformed-xml", doc("<Response><![CDATA[]]></Response>")),
            bad("malformed-xml", doc("<Response>\n<!-- a -- b --></Response>"), 2, "does not parse"),
            bad("malformed-xml", doc("<Response>\n<Say"), 2, "tag not closed"),
            bad("malformed-xml", doc("<Response><Say>\na ]]> b</Say></Response>"), 2, "]]&gt;"),
            // ---- schema ----
            ok("unknown-element", doc("<Response><Say>Hi <break time=\"1s\"/><say-as interpret-as=\"digits\">123</say-as></Say></Response>")),
            bad("unknown-element", doc("<Response>\n<dial>+15125551212</dial></Response>"), 2, "unknown element <dial>; did you mean <Dial>?"),
            bad("unknown-element", doc("<Response><Dial>\n<SIP>sip:a@b</SIP></Dial></Response>"), 2, "did you mean <Sip>?"),
            bad("unknown-element", doc("<Response>\n<Say><amazon:effect name=\"whispered\">hi</amazon:effect></Say></Response>"), 2, "<amazon:effect> is not part of TwiML"),
            bad("unknown-element", doc("<Response>\n<Speak>Hi</Speak></Response>"), 2, "unknown element <Speak>"),
            ok("misplaced-element", doc("<Response><Gather><Say>Press 1</Say><Pause/><Play>https://x/a.mp3</Play></Gather></Response>")),
            bad("misplaced-element", doc("<Response>\n<Number>+15125551212</Number></Response>"), 2, "<Number> cannot stand inside <Response>; it belongs inside <Dial>"),
            bad("misplaced-element", doc("<Response><Dial>\n<Play>https://x/a.mp3</Play></Dial></Response>"), 2, "<Play> cannot stand inside <Dial>"),
            bad("misplaced-element", doc("<Response><Gather>\n<Dial>+15125551212</Dial></Gather></Response>"), 2, "(<Gather> accepts <Pause>, <Play>, <Say>)"),
            bad("misplaced-element", doc("<Response><Refer>\n<Number>+1</Number></Refer></Response>"), 2, "<Number> cannot stand inside <Refer>"),
            bad("misplaced-element", doc("<Response>\n<Response/></Response>"), 2, "cannot be nested"),
            ok("unknown-attribute", doc("<Response><Dial callerId=\"+14155550100\" answerOnBridge=\"true\" ringTone=\"uk\">+15125551212</Dial></Response>")),
            bad("unknown-attribute", doc("<Response>\n<Dial callerid=\"+14155550100\">+15125551212</Dial></Response>"), 2, "did you mean callerId?"),
            bad("unknown-attribute", doc("<Response>\n<Hangup reason=\"busy\"/></Response>"), 2, "<Hangup> takes no attributes"),
            bad("unknown-attribute", doc("<Response>\n<Pause seconds=\"2\"/></Response>"), 2, "it accepts length"),
            ok("invalid-attribute-value", doc("<Response><Gather input=\"dtmf speech\" method=\"GET\" timeout=\"0\" actionOnEmptyResult=\"false\"/><Dial><Sip codecs=\"OPUS, PCMU\" sessionTimeout=\"0\">sip:a@b</Sip></Dial></Response>")),
            bad("invalid-attribute-value", doc("<Response>\n<Redirect method=\"get\">/next</Redirect></Response>"), 2, "must be GET or POST; did you mean \"GET\"?"),
            bad("invalid-attribute-value", doc("<Response>\n<Dial answerOnBridge=\"yes\">+1</Dial></Response>"), 2, "answerOnBridge=\"yes\" on <Dial> must be true or false"),
            bad("invalid-attribute-value", doc("<Response>\n<Dial timeout=\"-5\">+1</Dial></Response>"), 2, "must be a whole number"),
            bad("invalid-attribute-value", doc("<Response><Dial>\n<Number statusCallbackEvent=\"initiated,ringing\">+1</Number></Dial></Response>"), 2, "separate values with spaces"),
            bad("invalid-attribute-value", doc("<Response><Dial>\n<Sip statusCallbackEvent=\"initiated ended\">sip:a@b</Sip></Dial></Response>"), 2, "has \"ended\", which must be one of initiated, ringing, answered, completed"),
            bad("invalid-attribute-value", doc("<Response><Dial>\n<Client statusCallbackEvent=\"\">alice</Client></Dial></Response>"), 2, "must list one or more"),
            bad("invalid-attribute-value", doc("<Response><Dial>\n<Sip codecs=\"pcmu,OPUS\">sip:a@b</Sip></Dial></Response>"), 2, "did you mean \"PCMU\"?"),
            bad("invalid-attribute-value", doc("<Response><Dial>\n<Sip codecs=\"PCMU OPUS\">sip:a@b</Sip></Dial></Response>"), 2, "separate values with commas"),
            bad("invalid-attribute-value", doc("<Response><Dial>\n<Sip codecs=\"G711\">sip:a@b</Sip></Dial></Response>"), 2, "one of PCMU, PCMA, G722, G729, OPUS"),
            bad("invalid-attribute-value", doc("<Response><Dial>\n<Sip sessionTimeout=\"1.5\">sip:a@b</Sip></Dial></Response>"), 2, "sessionTimeout=\"1.5\" on <Sip> must be a whole number"),
            bad("invalid-attribute-value", doc("<Response><Dial>\n<Sip statusCallbackMethod=\"PUT\">sip:a@b</Sip></Dial></Response>"), 2, "must be GET or POST"),
            bad("invalid-attribute-value", doc("<Response>\n<Reject reason=\"declined\"/></Response>"), 2, "must be rejected or busy"),
            ok("unexpected-text", doc("<Response>\n  <Say>Hi</Say>\n  <Hangup> </Hangup>\n</Response>")),
            bad("unexpected-text", doc("<Response>\n<Hangup>now</Hangup></Response>"), 2, "<Hangup> takes no text but holds \"now\""),
            bad("unexpected-text", doc("<Response>\n  Hello there\n</Response>"), 2, "put words to speak inside <Say>"),
            bad("unexpected-text", doc("<Response><Gather>\nPress one</Gather></Response>"), 2, "<Gather> takes no text"),
            ok("missing-text", doc("<Response><Play digits=\"1w2\"/><Dial><Client><Identity>alice</Identity></Client></Dial><Say/></Response>")),
            bad("missing-text", doc("<Response><Dial>\n<Number/></Dial></Response>"), 2, "<Number> is empty; it needs the phone number"),
            bad("missing-text", doc("<Response><Dial>\n<Sip>  \n </Sip></Dial></Response>"), 2, "<Sip> is empty; it needs the SIP URI"),
            bad("missing-text", doc("<Response>\n<Redirect method=\"POST\"></Redirect></Response>"), 2, "<Redirect> is empty"),
            bad("missing-text", doc("<Response>\n<Play loop=\"2\"/></Response>"), 2, "or a digits attribute"),
            bad("missing-text", doc("<Response><Dial>\n<Client><Parameter name=\"a\" value=\"b\"/></Client></Dial></Response>"), 2, "<Client> is empty"),
            ok("dial-too-many-nouns", dial_with(10, "<Number>+15125551212</Number>\n")),
            bad("dial-too-many-nouns", dial_with(11, "<Number>+15125551212</Number>\n"), 12, "noun number 11"),
            ok("dial-exclusive-noun", doc("<Response><Dial><Conference beep=\"onEnter\">room-42</Conference></Dial><Dial><Queue>support</Queue></Dial></Response>")),
            bad("dial-exclusive-noun", doc("<Response>\n<Dial><Conference>room</Conference><Number>+1</Number></Dial></Response>"), 2, "<Conference> must be the only noun"),
            bad("dial-exclusive-noun", doc("<Response>\n<Dial><Queue>a</Queue><Queue>b</Queue></Dial></Response>"), 2, "<Queue> must be the only noun"),
            ok("dial-text-and-nouns", doc("<Response><Dial>\n  <Number>+1</Number>\n</Dial></Response>")),
            bad("dial-text-and-nouns", doc("<Response><Dial>\n+15125551212<Number>+14155550100</Number></Dial></Response>"), 2, "own <Number> noun"),
            ok("enhanced-sip-required", doc("<Response><Dial><Sip>sip:a@b</Sip></Dial><Dial><Number>+1</Number><Client>bob</Client></Dial></Response>")),
            enhanced(ok("enhanced-sip-required", doc("<Response><Dial><Sip>sip:a@b</Sip><Number>+1</Number></Dial></Response>"))),
            bad("enhanced-sip-required", doc("<Response>\n<Dial><Sip>sip:a@b</Sip><Sip>sip:c@d</Sip></Dial></Response>"), 2, "enable enhanced SIP on the account, or split"),
            bad("enhanced-sip-required", doc("<Response>\n<Dial><Number>+1</Number><Sip>sip:a@b</Sip></Dial></Response>"), 2, "a <Sip> and 1 other noun"),
            ok("dial-caller-id", doc("<Response><Dial callerId=\"alice_01.x-y+z\"><Sip>sip:a@b</Sip></Dial><Dial callerId=\"client:alice\"><Client>bob</Client></Dial></Response>")),
            bad("dial-caller-id", doc("<Response><Dial\n callerId=\"Alice Smith\"><Sip>sip:a@b</Sip></Dial></Response>"), 2, "may only hold letters, digits and + - _ ."),
            bad("dial-caller-id", doc("<Response><Dial callerId=\"sip:alice@x.com\">\n<Sip>sip:a@b</Sip></Dial></Response>"), 1, "callerId=\"sip:alice@x.com\""),
            bad("dial-caller-id", doc("<Response>\n<Dial callerId=\"\">+15125551212</Dial></Response>"), 2, "E.164"),
            ok("sip-uri-invalid", doc("<Response><Dial><Sip>\n   sips:alice@example.com:5061\n</Sip></Dial></Response>")),
            bad("sip-uri-invalid", doc("<Response><Dial><Sip>\n tel:+15125551212</Sip></Dial></Response>"), 2, "must start with sip: or sips:"),
            bad("sip-uri-invalid", doc("<Response><Refer><Sip>\nsip:alice @example.com</Sip></Refer></Response>"), 2, "contains a space"),
            ok("sip-uri-too-long", doc(&format!("<Response><Dial><Sip>sip:a@{}</Sip></Dial></Response>", "h".repeat(249)))),
            bad("sip-uri-too-long", doc(&format!("<Response><Dial>\n<Sip>sip:a@{}</Sip></Dial></Response>", "h".repeat(250))), 2, "256 characters long"),
            ok("sip-headers-too-long", doc(&format!("<Response><Dial><Sip>sip:a@b?x-a={}</Sip></Dial></Response>", "v".repeat(1019)))),
            bad("sip-headers-too-long", doc(&format!("<Response><Dial>\n<Sip>sip:a@b?x-a={}</Sip></Dial></Response>", "v".repeat(1020))), 2, "1024 characters long"),
            ok("sip-transport", doc("<Response><Dial><Sip>sip:a@b;transport=TCP</Sip></Dial></Response>")),
            bad("sip-transport", doc("<Response><Dial>\n<Sip>sip:a@b;transport=sctp</Sip></Dial></Response>"), 2, "only transport=udp, tcp or tls"),
            ok("sip-region", doc("<Response><Dial><Sip>sip:a@b;region=jp1;transport=udp</Sip></Dial></Response>")),
            bad("sip-region", doc("<Response><Dial>\n<Sip>sip:a@b;region=eu1</Sip></Dial></Response>"), 2, "us1, us2, ie1, de1, sg1, jp1, br1, au1"),
            ok("sip-header-syntax", doc("<Response><Dial><Sip>sip:a@b?x-a=&amp;x-b=2</Sip></Dial></Response>")),
            bad("sip-header-syntax", doc("<Response><Dial>\n<Sip>sip:a@b?x-flag&amp;x-b=2</Sip></Dial></Response>"), 2, "header \"x-flag\" has no '='"),
            ok("sip-header-name", doc("<Response><Dial><Sip>sip:a@b?X-Tenant=7&amp;user-to-user=1&amp;Remote-Party-ID=%3Csip%3Aa%40b%3E&amp;P-Preferred-Identity=x&amp;P-Called-Party-ID=y&amp;P-Asserted-Identity=z</Sip></Dial></Response>")),
            bad("sip-header-name", doc("<Response><Dial>\n<Sip>sip:a@b?Customer=42</Sip></Dial></Response>"), 2, "must start with x- (write x-Customer)"),
            ok("sip-header-value", doc("<Response><Dial><Sip>sip:a@b?x-a=%2B1(415)%20555~*</Sip></Dial></Response>")),
            bad("sip-header-value", doc("<Response><Dial>\n<Sip>sip:a@b?x-name=Jane Doe</Sip></Dial></Response>"), 2, "a space which must be URL-escaped as %20"),
            bad("sip-header-value", doc("<Response><Dial>\n<Sip>sip:a@b?x-q=&lt;b&gt;</Sip></Dial></Response>"), 2, "'<' which must be URL-escaped as %3C"),
            bad("sip-header-value", doc("<Response><Dial>\n<Sip>sip:a@b?x-q=say &quot;hi&quot;</Sip></Dial></Response>"), 2, "a space"),
            bad("sip-header-value", doc("<Response><Dial>\n<Sip>sip:a@b?x-q=%zz</Sip></Dial></Response>"), 2, "%XX escape"),
            // An escaped line break would end the header and start another one.
            bad("sip-header-value", doc("<Response><Dial>\n<Sip>sip:a@b?x-q=1%0D%0AVia:%20evil</Sip></Dial></Response>"), 2, "a line break escaped"),
        ]
    }

    #[test]
    fn every_rule_has_a_passing_and_a_failing_case() {
        let cases = cases();
        for (rule, _, _) in RULES {
            assert!(
                cases.iter().any(|c| c.rule == *rule && c.expect.is_none()),
                "no passing case for {rule}"
            );
            assert!(
                cases.iter().any(|c| c.rule == *rule && c.expect.is_some()),
                "no failing case for {rule}"
            );
        }
        for case in &cases {
            assert!(
                RULES.iter().any(|r| r.0 == case.rule),
                "unknown rule {} in a case",
                case.rule
            );
        }
    }

    #[test]
    fn table() {
        let mut failures = Vec::new();
        for case in cases() {
            let findings = check(&case.doc, &case.rules);
            let shown: Vec<String> = findings.iter().map(ToString::to_string).collect();
            match case.expect {
                None if findings.is_empty() => {}
                None => failures.push(format!(
                    "[{}] expected no finding in\n{}\ngot {shown:#?}",
                    case.rule, case.doc
                )),
                Some((line, fragment)) => {
                    let hit = findings.iter().any(|f| {
                        f.rule == case.rule && f.line == line && f.message.contains(fragment)
                    });
                    if !hit {
                        failures.push(format!(
                            "[{}] expected line {line} with {fragment:?} in\n{}\ngot {shown:#?}",
                            case.rule, case.doc
                        ));
                    }
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} case(s) failed:\n\n{}",
            failures.len(),
            failures.join("\n\n")
        );
    }

    #[test]
    fn findings_know_their_severity_and_code() {
        for case in cases().into_iter().filter(|c| c.expect.is_some()) {
            for f in check(&case.doc, &case.rules) {
                let (_, severity, _) = RULES.iter().find(|r| r.0 == f.rule).expect("listed rule");
                assert_eq!(f.severity, *severity, "{f}");
                let code = match (f.rule, f.severity) {
                    ("too-large", _) => 11750,
                    (_, Severity::Syntax) => 12100,
                    (_, Severity::Schema) => 12200,
                };
                assert_eq!(f.error_code(), code);
                assert!(f.message.starts_with(|c: char| !c.is_uppercase()), "{f}");
            }
        }
    }

    #[test]
    fn stops_at_the_first_syntax_finding_and_keeps_document_order() {
        let findings = check(
            &doc(
                "<Response>\n<Hangup>now</Hangup>\n<Dial callerid=\"x\">+1</Dial>\n<Say>a & b</Say>\n<Pause>x</Pause></Response>",
            ),
            &Rules::default(),
        );
        let got: Vec<(&str, usize)> = findings.iter().map(|f| (f.rule, f.line)).collect();
        assert_eq!(
            got,
            [
                ("unexpected-text", 2),
                ("unknown-attribute", 3),
                ("unescaped-amp", 4)
            ]
        );
        assert_eq!(findings[2].severity, Severity::Syntax);
    }

    #[test]
    fn dial_findings_are_sorted_into_document_order() {
        let findings = check(
            &doc(
                "<Response>\n<Dial callerId=\"A B\">\n<Sip>tel:1</Sip>\n<Sip>sip:a@b</Sip></Dial></Response>",
            ),
            &Rules::default(),
        );
        let got: Vec<(&str, usize)> = findings.iter().map(|f| (f.rule, f.line)).collect();
        assert_eq!(
            got,
            [
                ("enhanced-sip-required", 2),
                ("dial-caller-id", 2),
                ("sip-uri-invalid", 3)
            ]
        );
    }

    #[test]
    fn display_names_line_message_and_rule() {
        let f = &check(
            &doc("<Response>\n<Dial><Sip>tel:1</Sip></Dial></Response>"),
            &Rules::default(),
        )[0];
        assert_eq!(
            f.to_string(),
            "line 2: <Sip> text \"tel:1\" is not a SIP URI: it must start with sip: or sips: \
             (for example sip:alice@example.com) (rule sip-uri-invalid)"
        );
        assert_eq!(f.error_code(), 12200);
    }

    #[test]
    fn default_rules_allow_64_kb_without_enhanced_sip() {
        let rules = Rules::default();
        assert_eq!(rules.max_bytes, DEFAULT_MAX_TWIML_BYTES);
        assert!(!rules.enhanced_sip);
        let big = doc(&format!(
            "<Response><Say>{}</Say></Response>",
            "a".repeat(DEFAULT_MAX_TWIML_BYTES)
        ));
        let f = &check(&big, &rules)[0];
        assert_eq!((f.rule, f.error_code(), f.line), ("too-large", 11750, 1));
    }

    #[test]
    fn briefed_answers_pass() {
        let docs = [
            r#"<Response><Dial callerId="+14155550100">+15125551212</Dial></Response>"#,
            r#"<Response><Dial answerOnBridge="true"><Sip>sip:alice@acme.sip.us1.twilio.com</Sip></Dial></Response>"#,
            r#"<Response><Dial><Sip>sip:+15125551212@pbx.example.com?User-to-User=56a390f3d2b7310023a2%3Bencoding%3Dhex&amp;x-customer=42%20%26%20co</Sip></Dial></Response>"#,
            r#"<Response><Dial callerId="+14155550100" timeout="20"><Number>+12025550100</Number><Number>+14155550100</Number></Dial></Response>"#,
            r#"<Response><Say>Connecting a gold customer.</Say><Dial><Sip>sip:sales@pbx.example.com;transport=tls;region=ie1</Sip></Dial><Hangup /></Response>"#,
        ];
        for body in docs {
            assert_eq!(check(&doc(body), &Rules::default()), vec![], "{body}");
            assert_eq!(
                check(body, &Rules::default()),
                vec![],
                "without declaration: {body}"
            );
        }
    }

    #[test]
    fn sequential_sip_dial_needs_enhanced_sip() {
        let sip = |user: &str| {
            format!(
                "  <Sip statusCallback=\"https://example.com/events\" statusCallbackMethod=\"POST\" \
                 statusCallbackEvent=\"initiated ringing answered completed\">sip:{user}@example.com</Sip>\n"
            )
        };
        let body = format!(
            "\n<Response>\n<Dial sequential=\"true\">\n{}{}{}</Dial>\n</Response>\n",
            sip("alice"),
            sip("bob"),
            sip("charlie")
        );
        let enhanced = Rules {
            enhanced_sip: true,
            ..Rules::default()
        };
        assert_eq!(check(&doc(&body), &enhanced), vec![]);
        let plain = check(&doc(&body), &Rules::default());
        assert_eq!(plain.len(), 1);
        assert_eq!((plain[0].rule, plain[0].line), ("enhanced-sip-required", 3));
        assert!(
            plain[0].message.contains("a <Sip> and 2 other nouns"),
            "{}",
            plain[0]
        );
    }

    /// Seed 002's examples. Its header examples show a raw `&` between headers: that is the web
    /// page's rendering of `&amp;` (a raw `&` does not parse as XML), so they are written escaped.
    #[test]
    fn seed_002_examples_pass() {
        let docs = [
            "\n<Response>\n<Dial>\n<Sip>sip:alice@example.com;region=ie1</Sip>\n</Dial>\n</Response>",
            "\n<Response>\n<Dial>\n<Sip>sip:jack@example.com?x-customname=Madhu%2CMathiyalagan%3BTitle%3DManager&amp;x-myotherheader=bar</Sip>\n</Dial>\n</Response>",
            "\n<Response>\n<Dial>\n<Sip>sip:jack@example.com?User-to-User=123456789%3Bencoding%3Dhex&amp;x-myotherheader=bar</Sip>\n</Dial>\n</Response>",
        ];
        for body in docs {
            assert_eq!(check(&doc(body), &Rules::default()), vec![], "{body}");
        }
        // As rendered on the page, with a raw '&': not XML.
        let raw = "\n<Response>\n<Dial>\n<Sip>sip:jack@example.com?User-to-User=123456789%3Bencoding%3Dhex&x-myotherheader=bar</Sip>\n</Dial>\n</Response>";
        let f = check(&doc(raw), &Rules::default());
        assert_eq!((f[0].rule, f[0].line), ("unescaped-amp", 4));
    }

    /// Seed 003 (the compatible platform): codecs, sessionTimeout, the Dial-attributes example.
    #[test]
    fn seed_003_examples_pass() {
        let docs = [
            "\n<Response>\n<Dial>\n<Sip>sip:alice@example.com</Sip>\n</Dial>\n</Response>",
            "\n<Response>\n<Dial>\n<Sip username=\"admin\" password=\"1234\">sip:bob@example.com</Sip>\n</Dial>\n</Response>",
            "\n<Response>\n<Dial>\n<Sip codecs=\"PCMU,PCMA\" sessionTimeout=\"600\">sip:alice@example.com;transport=udp</Sip>\n</Dial>\n</Response>",
            "\n<Response>\n  <Dial\n    record=\"record-from-answer\"\n    callerId=\"alice\"\n    method=\"GET\"\n    action=\"https://www.example.com/after_dial\">\n    <Sip\n      url=\"https://www.example.com/whisper_audio\"\n      statusCallbackEvent='ringing answered'\n      statusCallback='https://www.example.com/dial_events'>\n      sip:dan@example.com?x-customheader=foo\n    </Sip>\n  </Dial>\n</Response>",
        ];
        for body in docs {
            assert_eq!(check(&doc(body), &Rules::default()), vec![], "{body}");
        }
        // Verbatim, the page's custom-header example names headers without x-, which SPEC §5
        // refuses for the SIP engine this runtime answers: that is the only finding.
        let verbatim = "\n<Response>\n  <Dial\n    record=\"record-from-answer\"\n    callerId=\"alice\"\n    method=\"GET\"\n    action=\"https://www.example.com/after_dial\">\n    <Sip\n      url=\"https://www.example.com/whisper_audio\"\n      statusCallbackEvent='ringing answered'\n      statusCallback='https://www.example.com/dial_events'>\n      sip:dan@example.com?customheader=foo\n    </Sip>\n  </Dial>\n</Response>";
        let got: Vec<(&str, usize)> = check(&doc(verbatim), &Rules::default())
            .iter()
            .map(|f| (f.rule, f.line))
            .collect();
        assert_eq!(got, [("sip-header-name", 12)]);
    }

    /// Every element of the vocabulary, used as its library builds it.
    const EVERY_VERB: &str = r##"
<Response>
  <Say voice="Polly.Joanna" language="en-US" loop="1">Hello <break strength="medium" time="500ms"/>
    <emphasis level="strong">there</emphasis> <lang xml:lang="fr-FR">bonjour</lang>
    <p>A paragraph. <s>A sentence.</s></p> <phoneme alphabet="ipa" ph="təmei̥ɾou̥">tomato</phoneme>
    <prosody pitch="high" rate="90%" volume="loud">loud</prosody>
    <say-as interpret-as="date" format="ymd">2024-01-02</say-as> <sub alias="World Wide Web">WWW</sub>
    <w role="amazon:VBD">read</w></Say>
  <Play loop="2">https://example.com/hello.mp3</Play>
  <Play digits="wwww3"/>
  <Pause length="2"/>
  <Gather input="dtmf speech" action="/gather" method="POST" timeout="5" numDigits="1" finishOnKey="#" speechTimeout="auto" bargeIn="true">
    <Say>Press 1</Say><Play>https://example.com/menu.mp3</Play><Pause/>
  </Gather>
  <Record action="/recorded" maxLength="30" playBeep="true" trim="trim-silence" recordingStatusCallbackEvent="in-progress completed" transcribe="false"/>
  <Dial action="/dialed" callerId="+14155550100" record="record-from-ringing-dual" ringTone="us" timeLimit="600" trim="do-not-trim">
    <Number sendDigits="ww1" statusCallbackEvent="initiated completed" machineDetection="Enable">+15125551212</Number>
    <Client><Identity>alice</Identity><Parameter name="ticket" value="42"/></Client>
    <Application copyParentTo="true"><ApplicationSid>AP0123456789abcdef0123456789abcdef</ApplicationSid><Parameter name="a" value="b"/></Application>
    <Sim>DE0123456789abcdef0123456789abcdef</Sim>
    <WhatsApp>+15125551213</WhatsApp>
  </Dial>
  <Dial><Sip username="admin" password="1234" codecs="OPUS,PCMU" sessionTimeout="600">sip:bob@example.com</Sip></Dial>
  <Dial><Sip><Headers><Header name="X-Tenant" value="7"/></Headers><Uri priority="1" weight="10" username="u" password="p">sip:primary@example.com</Uri><Uri>sip:backup@example.com</Uri></Sip></Dial>
  <Dial><Conference beep="onExit" startConferenceOnEnter="true" endConferenceOnExit="false" statusCallbackEvent="start end join leave" region="ie1" jitterBufferSize="small">room-42</Conference></Dial>
  <Dial><Queue url="/about-to-connect" reservationSid="WR0123">support</Queue></Dial>
  <Enqueue waitUrl="/wait" workflowSid="WW0123"><Task priority="5" timeout="200">{"account":"gold"}</Task></Enqueue>
  <Enqueue action="/left" maxQueueSize="10">support</Enqueue>
  <Leave/>
  <Start action="/started"><Stream name="s1" url="wss://example.com/stream" track="both_tracks"><Parameter name="a" value="b"/></Stream><Siprec connectorName="SR1" track="inbound_track"><Parameter name="c" value="d"/></Siprec><Transcription languageCode="en-US" partialResults="true" track="both_tracks"><Config name="x" value="y"/><Parameter name="e" value="f"/></Transcription><Recording channels="dual" track="both" trim="trim-silence"/></Start>
  <Stop><Stream name="s1"/><Siprec name="SR1"/><Transcription name="t1"/></Stop>
  <Connect action="/connected" method="POST"><Stream url="wss://example.com/stream"/><Room participantIdentity="alice">DailyStandup</Room><ConversationRelay url="wss://example.com/relay" dtmfDetection="true" welcomeGreeting="Hi"><Language code="sv-SE" ttsProvider="amazon" voice="Elin-Neural"/><Parameter name="a" value="b"/></ConversationRelay><VirtualAgent connectorName="project" sentimentAnalysis="true"><Config name="x" value="y"/><Parameter name="a" value="b"/></VirtualAgent><Conversation serviceInstanceSid="IS0123" inboundAutocreation="true" statusCallbackEvent="call-initiated call-completed"/><Assistant id="aia_asst_1" partialPrompts="false"><Language code="en-US"/><Parameter name="a" value="b"/></Assistant><AiSession aiConnector="c" aiSessionConfiguration="s"/><ConversationRelaySession connector="c" sessionConfiguration="s"/><Autopilot>UA0123</Autopilot></Connect>
  <Pay input="dtmf" paymentConnector="Stripe" chargeAmount="10.00" currency="usd" validCardTypes="visa amex" tokenType="one-time" securityCode="true"><Prompt for="payment-card-number" attempt="1 2" errorType="timeout invalid-card-number" cardType="visa"><Say>Card number</Say><Play>https://example.com/card.mp3</Play><Pause length="1"/></Prompt><Parameter name="a" value="b"/></Pay>
  <Prompt for="expiration-date"><Say>Expiry</Say></Prompt>
  <Queue>direct-queue</Queue>
  <Echo/>
  <Sms to="+15125551212" from="+14155550100" action="/sms" method="POST">Thanks for calling</Sms>
  <Refer action="/referred" method="POST"><Sip>sip:transfer@example.com?x-reason=busy</Sip></Refer>
  <Redirect method="POST">https://example.com/next</Redirect>
  <Reject reason="busy"><Parameter name="a" value="b"/></Reject>
  <Hangup><Parameter name="a" value="b"/></Hangup>
</Response>
"##;

    #[test]
    fn every_verb_used_correctly_passes() {
        let findings = check(&doc(EVERY_VERB), &Rules::default());
        assert_eq!(findings, vec![], "{findings:#?}");
    }

    #[test]
    fn the_every_verb_document_uses_every_element() {
        for el in schema::ALL {
            assert!(
                EVERY_VERB.contains(&format!("<{}", el.name)),
                "<{}> is missing from EVERY_VERB",
                el.name
            );
        }
    }
}
