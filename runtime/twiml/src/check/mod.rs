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

mod elements;
mod text;
mod tree;
mod words;

pub use tree::read;

use crate::schema::{self, Element, Text, value_problem};
use crate::sip;
use words::*;

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
    /// Whether the engine could not read the document at all, or read it and refused it.
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
pub(crate) struct Stop;
pub(crate) type Flow = Result<(), Stop>;

pub(crate) struct Checker<'a> {
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
    /// The document as a tree, built as it is read when someone asked for it ([`crate::read`]).
    tree: Option<tree::TreeBuilder>,
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
    pub(super) fn new(doc: &'a str, rules: &'a Rules) -> Self {
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
            tree: None,
        }
    }

    /// A checker that also builds the document's tree as it reads.
    pub(crate) fn building_tree(doc: &'a str, rules: &'a Rules) -> Self {
        Self {
            tree: Some(tree::TreeBuilder::default()),
            ..Self::new(doc, rules)
        }
    }

    /// Checks the document, returning its findings and, when built, its tree.
    pub(crate) fn run_with_tree(mut self) -> (Vec<Finding>, Option<crate::xml::Element>) {
        if self.doc.len() <= self.rules.max_bytes && self.prolog().is_ok() {
            self.parse();
        }
        let tree = self.tree.take().and_then(tree::TreeBuilder::finish);
        (self.finish(), tree)
    }

    pub(super) fn run(mut self) -> Vec<Finding> {
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
    pub(super) fn prolog(&mut self) -> Flow {
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

    pub(super) fn parse(&mut self) {
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

    // ---- helpers ----

    /// Element names must be XML names; a bad one is most often a raw `<` in text.
    pub(super) fn check_name(&mut self, name: &str, off: usize) -> Flow {
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
    pub(super) fn offset_of(&self, s: &str) -> Option<usize> {
        let start = self.doc.as_ptr() as usize;
        let p = s.as_ptr() as usize;
        (p >= start && p + s.len() <= start + self.doc.len()).then(|| p - start)
    }

    pub(super) fn syntax(&mut self, off: usize, rule: &'static str, message: String) -> Stop {
        self.push(off, Severity::Syntax, rule, message);
        Stop
    }

    pub(super) fn schema(&mut self, off: usize, rule: &'static str, message: String) {
        self.push(off, Severity::Schema, rule, message);
    }

    pub(super) fn push(
        &mut self,
        off: usize,
        severity: Severity,
        rule: &'static str,
        message: String,
    ) {
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

    pub(super) fn finish(mut self) -> Vec<Finding> {
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
