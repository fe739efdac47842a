//! Rendering a compiled TwiML Bin for a webhook: Mustache sections and helpers on handlebars,
//! every render bounded in steps and in bytes written.

use std::{cell::Cell, collections::BTreeSet};

use handlebars::{
    BlockContext, Context, Handlebars, Helper, HelperDef, HelperResult, JsonValue, Output,
    RenderContext, RenderErrorReason, Renderable,
    template::{Template, TemplateElement},
};
use serde_json::Map;
use twiml_edge_e164::{self as e164, Region};
use twiml_edge_sdk::webhook::Webhook;

use crate::{Error, Result};

/// Steps one render may take: every element of a section's body counts once per item the
/// section visits, an `e164` conversion [`E164_STEPS`]. A shipped bin takes under a hundred.
const MAX_STEPS: usize = 50_000;
/// What one `e164` conversion costs in steps: libphonenumber takes microseconds per number.
const E164_STEPS: usize = 50;

/// The helpers and limits every TwiML Bin renders with. Immutable once made, so every render
/// shares one without a lock.
#[derive(Debug)]
pub struct Renderer {
    pub(crate) registry: Handlebars<'static>,
    region: Region,
    max_output: usize,
}

/// One compiled TwiML Bin.
#[derive(Debug)]
pub struct CompiledBin {
    pub(crate) name: String,
    pub(crate) template: Template,
    pub(crate) reads: Reads,
}

impl CompiledBin {
    /// The bin's name, as errors give it.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The parameters a template can read: only those go into its data, since building data for
/// all forty parameters of a SIP webhook cost more than rendering.
#[derive(Debug)]
pub(crate) enum Reads {
    /// These names (`Dest` for `Dest[]`).
    Names(BTreeSet<String>),
    /// Any: the template walks the data (`{{#each this}}`, `lookup`, `@root`).
    All,
}

impl Renderer {
    /// `e164` reads national numbers in `region`; a render writes at most `max_twiml_bytes`
    /// twice over (whitespace around the answer is trimmed before the TwiML check).
    pub fn new(region: Region, max_twiml_bytes: usize) -> Self {
        let mut registry = Handlebars::new();
        registry.register_escape_fn(escape_xml);
        // Mustache looks names up through enclosing sections: `{{To}}` inside `{{#Dest}}`.
        registry.set_recursive_lookup(true);
        // The registry's helpers are the allow-list: `log` writes to the server's log and `raw`
        // is not Mustache, so neither is offered.
        registry.unregister_helper("log");
        registry.unregister_helper("raw");
        registry.register_helper("blockHelperMissing", Box::new(Section { each: false }));
        registry.register_helper("each", Box::new(Section { each: true }));
        registry.register_helper("e164", Box::new(E164 { region }));
        registry.register_helper("urlencode", Box::new(UrlEncode));
        Self {
            registry,
            region,
            max_output: max_twiml_bytes.saturating_mul(2),
        }
    }

    /// The region `e164` reads national numbers in.
    pub fn region(&self) -> Region {
        self.region
    }

    /// Renders `bin` for `webhook`, returning the template's output as written.
    pub fn render(&self, bin: &CompiledBin, webhook: &Webhook) -> Result<String> {
        let name = &bin.name;
        let context = Context::wraps(template_data(webhook, &bin.reads))
            .map_err(|e| Error::Render(format!("cannot build template data: {e}")))?;
        let mut rc = RenderContext::new(None);
        rc.set_recursive_lookup(true);
        let mut out = Written::at_most(self.max_output);
        BUDGET.with(|b| b.start(self.max_output));
        let rendered = charge(weight(&bin.template)).and_then(|()| {
            bin.template
                .render(&self.registry, &context, &mut rc, &mut out)
        });
        match BUDGET.with(|b| b.exceeded.get()) {
            Some(Exceeded::Steps) => Err(Error::Render(format!(
                "TwiML Bin {name:?} takes over {MAX_STEPS} steps to render: repeat fewer or \
                 smaller sections over repeated parameters"
            ))),
            Some(Exceeded::Bytes) => Err(Error::Render(format!(
                "TwiML Bin {name:?} renders over {} bytes: the SIP engine takes {} bytes at most",
                self.max_output,
                self.max_output / 2
            ))),
            None => {
                rendered.map_err(|e| {
                    Error::Render(format!("TwiML Bin {name:?} failed to render: {e}"))
                })?;
                Ok(out.text)
            }
        }
    }
}

/// Template data: one key per parameter; repeated parameters and `Name[]` become a list under
/// `Name`, so a section iterates them.
fn template_data(webhook: &Webhook, reads: &Reads) -> JsonValue {
    let mut data = Map::new();
    for (name, value) in webhook.params() {
        let (key, listed) = match name.strip_suffix("[]") {
            Some(stripped) => (stripped, true),
            None => (name, false),
        };
        if let Reads::Names(names) = reads
            && !names.contains(key)
        {
            continue;
        }
        let value = JsonValue::String(value.to_owned());
        match data.get_mut(key) {
            Some(JsonValue::Array(values)) => values.push(value),
            Some(first) => *first = JsonValue::Array(vec![first.take(), value]),
            None if listed => {
                data.insert(key.to_owned(), JsonValue::Array(vec![value]));
            }
            None => {
                data.insert(key.to_owned(), value);
            }
        }
    }
    JsonValue::Object(data)
}

fn escape_xml(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// What one render may still spend. Rendering never awaits, so a render starts and ends on one
/// thread, and the budget lives in a thread-local the helpers reach.
struct Budget {
    steps: Cell<usize>,
    bytes: Cell<usize>,
    exceeded: Cell<Option<Exceeded>>,
}

#[derive(Debug, Clone, Copy)]
enum Exceeded {
    Steps,
    Bytes,
}

impl Budget {
    fn start(&self, bytes: usize) {
        self.steps.set(MAX_STEPS);
        // What the answer holds, and as much again for what helpers render inside themselves.
        self.bytes.set(bytes.saturating_mul(2));
        self.exceeded.set(None);
    }
}

thread_local! {
    static BUDGET: Budget = const {
        Budget {
            steps: Cell::new(MAX_STEPS),
            bytes: Cell::new(0),
            exceeded: Cell::new(None),
        }
    };
}

/// Spends `steps` of the render's budget; an error (which ends the render) when it runs out.
fn charge(steps: usize) -> std::result::Result<(), handlebars::RenderError> {
    BUDGET.with(|budget| match budget.steps.get().checked_sub(steps) {
        Some(left) => {
            budget.steps.set(left);
            Ok(())
        }
        None => {
            budget.exceeded.set(Some(Exceeded::Steps));
            Err(RenderErrorReason::Other("the render ran out of steps".into()).into())
        }
    })
}

/// The steps one pass over `template` may take: its elements and those of every block inside
/// it (an `e164` conversion is charged when it runs). Nesting is bounded when the template is
/// compiled, and a pass is charged before it runs, so this costs no more than the render it
/// pays for.
fn weight(template: &Template) -> usize {
    template
        .elements
        .iter()
        .map(|element| match element {
            TemplateElement::HelperBlock(block) => {
                1 + [&block.template, &block.inverse]
                    .into_iter()
                    .flatten()
                    .map(weight)
                    .sum::<usize>()
            }
            _ => 1,
        })
        .sum()
}

/// Output that counts every byte against the render's budget, and holds at most `limit`.
struct Written {
    text: String,
    limit: usize,
}

impl Written {
    fn at_most(limit: usize) -> Self {
        Self {
            text: String::new(),
            limit,
        }
    }

    /// What a helper renders inside itself: bounded by the render's budget alone.
    fn inner() -> Self {
        Self::at_most(usize::MAX)
    }
}

impl Output for Written {
    fn write(&mut self, seg: &str) -> std::io::Result<()> {
        BUDGET.with(|budget| {
            let left = budget.bytes.get().checked_sub(seg.len());
            match left.filter(|_| self.text.len() + seg.len() <= self.limit) {
                Some(left) => {
                    budget.bytes.set(left);
                    self.text.push_str(seg);
                    Ok(())
                }
                None => {
                    budget.exceeded.set(Some(Exceeded::Bytes));
                    Err(std::io::Error::other("the render is too large"))
                }
            }
        })
    }
}

/// Sections: `{{#Param}}` for any name that is not a helper (Mustache), and `{{#each Param}}`
/// (handlebars), both through one loop that charges each item's pass to the render's budget.
struct Section {
    /// `each` reads its first parameter; a Mustache section, the name it is called by.
    each: bool,
}

impl HelperDef for Section {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let (path, value) = if self.each {
            let param = h
                .param(0)
                .ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex("each", 0))?;
            (param.context_path().cloned(), param.value().clone())
        } else {
            let value = rc.evaluate(ctx, h.name())?;
            (value.context_path().cloned(), value.as_json().clone())
        };
        // Blocks point into the data by path, not by copy, so names the section's value lacks
        // (`{{To}}` inside `{{#Dest}}`) are still found in the enclosing data, as in Mustache.
        let path = path.unwrap_or_default();
        let at = |key: String| [path.as_slice(), &[key]].concat();
        let items: Vec<(Vec<String>, Option<String>)> = match &value {
            JsonValue::Array(items) => (0..items.len())
                .map(|i| (at(i.to_string()), None))
                .collect(),
            JsonValue::Object(map) if self.each => map
                .keys()
                .map(|k| (at(k.clone()), Some(k.clone())))
                .collect(),
            JsonValue::Null | JsonValue::Bool(false) => Vec::new(),
            JsonValue::String(s) if s.is_empty() => Vec::new(),
            _ => vec![(path.clone(), None)],
        };
        if items.is_empty() {
            return match h.inverse() {
                Some(inverse) => inverse.render(r, ctx, rc, out),
                None => Ok(()),
            };
        }
        let Some(template) = h.template() else {
            return Ok(());
        };
        let count = items.len();
        for (index, (item, key)) in items.into_iter().enumerate() {
            charge(1 + weight(template))?;
            let mut block = BlockContext::new();
            *block.base_path_mut() = item;
            block.set_local_var("index", JsonValue::from(index));
            block.set_local_var("first", JsonValue::from(index == 0));
            block.set_local_var("last", JsonValue::from(index + 1 == count));
            if let Some(key) = key {
                block.set_local_var("key", JsonValue::from(key));
            }
            rc.push_block(block);
            let rendered = template.render(r, ctx, rc, out);
            rc.pop_block();
            rendered?;
        }
        Ok(())
    }
}

/// `{{#e164}}...{{/e164}}`: the content, rendered (and so already escaped), as E.164 when it is
/// a phone number, else unchanged.
struct E164 {
    region: Region,
}

impl HelperDef for E164 {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let Some(template) = h.template() else {
            return Err(RenderErrorReason::Other(
                "e164 is a block helper: write {{#e164}}{{To}}{{/e164}}".into(),
            )
            .into());
        };
        let mut content = Written::inner();
        template.render(r, ctx, rc, &mut content)?;
        charge(E164_STEPS)?;
        match e164::normalize(&content.text, self.region) {
            Some(number) => out.write(&number)?,
            None => out.write(&content.text)?,
        }
        Ok(())
    }
}

/// `{{#urlencode}}...{{/urlencode}}`: the content percent-encoded (RFC 3986 unreserved kept).
///
/// The content renders unescaped, since XML-escaping first would encode `&amp;` instead of `&`;
/// the result holds only `A-Z a-z 0-9 - . _ ~ %`, so it is XML-safe as it stands.
struct UrlEncode;

impl HelperDef for UrlEncode {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let Some(template) = h.template() else {
            return Err(RenderErrorReason::Other(
                "urlencode is a block helper: write {{#urlencode}}{{SipHeader_X-Id}}{{/urlencode}}"
                    .into(),
            )
            .into());
        };
        let mut content = Written::inner();
        let escaping_was_disabled = rc.is_disable_escape();
        rc.set_disable_escape(true);
        let rendered = template.render(r, ctx, rc, &mut content);
        rc.set_disable_escape(escaping_was_disabled);
        rendered?;
        let mut encoded = String::with_capacity(content.text.len());
        for byte in content.text.bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                encoded.push(byte as char);
            } else {
                encoded.push_str(&format!("%{byte:02X}"));
            }
        }
        out.write(&encoded)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use twiml_edge_e164::Region;

    use crate::{
        Bins, Error,
        testing::{render, webhook},
    };

    /// A template, the webhook parameters, and the expected output.
    type Case = (
        &'static str,
        &'static [(&'static str, &'static str)],
        &'static str,
    );

    #[test]
    fn template_cases() {
        const SIP_TO: (&str, &str) = ("To", "sip:+15125551212@x.sip.us1.twilio.com;transport=tls");
        let cases: &[Case] = &[
            (
                "{{From}}",
                &[("From", "a&b<c>\"d'e")],
                "a&amp;b&lt;c&gt;&quot;d&apos;e",
            ),
            (
                "{{To}}",
                &[SIP_TO],
                "sip:+15125551212@x.sip.us1.twilio.com;transport=tls",
            ),
            ("{{#e164}}{{To}}{{/e164}}", &[SIP_TO], "+15125551212"),
            (
                "{{#e164}}{{To}}{{/e164}}",
                &[("To", "sip:alice@x.com")],
                "sip:alice@x.com",
            ),
            ("{{#e164}}{{To}}{{/e164}}", &[("To", "<b>")], "&lt;b&gt;"),
            (
                "{{#e164}}{{To}}{{/e164}}",
                &[("To", "5125551212")],
                "+15125551212",
            ),
            (
                "{{SipHeader_X-Customer}}",
                &[("SipHeader_X-Customer", "42")],
                "42",
            ),
            (
                "{{#SipHeader_X-Vip}}vip{{/SipHeader_X-Vip}}",
                &[("SipHeader_X-Vip", "1")],
                "vip",
            ),
            (
                "{{#SipHeader_X-Vip}}vip{{/SipHeader_X-Vip}}",
                &[("SipHeader_X-Vip", "")],
                "",
            ),
            ("{{#SipHeader_X-Vip}}vip{{/SipHeader_X-Vip}}", &[], ""),
            ("{{^SipHeader_X-Vip}}std{{/SipHeader_X-Vip}}", &[], "std"),
            (
                "{{^SipHeader_X-Vip}}std{{/SipHeader_X-Vip}}",
                &[("SipHeader_X-Vip", "1")],
                "",
            ),
            ("{{#X}}{{.}}{{/X}}", &[("X", "v")], "v"),
            (
                "{{#Dest}}<Number>{{.}}</Number>{{/Dest}}",
                &[("Dest[]", "+1"), ("Dest[]", "+2")],
                "<Number>+1</Number><Number>+2</Number>",
            ),
            (
                "{{#Dest}}[{{.}}|{{To}}]{{/Dest}}",
                &[("Dest", "a"), ("Dest", "b"), ("To", "t")],
                "[a|t][b|t]",
            ),
            ("{{#Dest}}x{{/Dest}}", &[("Dest[]", "")], "x"),
            ("a{{! comment }}b{{!-- {{To}} --}}c", &[], "abc"),
            ("{{Missing}}", &[], ""),
            ("{{#A}}x{{^B}}y{{/B}}{{/A}}", &[("A", "1")], "xy"),
            (
                "<R>\n  {{^A}}\n  <S/>\n  {{/A}}\n</R>",
                &[],
                "<R>\n  <S/>\n</R>",
            ),
            (
                "{{#urlencode}}{{U}}{{/urlencode}}",
                &[("U", "12;encoding=hex&<x> é")],
                "12%3Bencoding%3Dhex%26%3Cx%3E%20%C3%A9",
            ),
            ("{{#if To}}{{else}}none{{/if}}", &[], "none"),
        ];
        for (template, params, want) in cases {
            assert_eq!(render(template, params), *want, "template {template:?}");
        }
    }

    #[test]
    fn a_render_has_bounded_work_and_output() {
        let many: Vec<(&str, &str)> = (0..200).map(|_| ("D[]", "x")).collect();
        let mut bins = Bins::new(Region::default());
        bins.add("cube", "{{#D}}{{#D}}{{#D}}{{/D}}{{/D}}{{/D}}", "cube.xml")
            .unwrap();
        let err = bins
            .render("cube", &webhook(&many))
            .unwrap_err()
            .to_string();
        assert!(err.contains("takes over 50000 steps"), "{err}");
        // A big body repeated over many values: each item's pass is charged, not just the item.
        let body = "{{Missing}}".repeat(5_000);
        bins.add(
            "wide-body",
            &format!("{{{{#D}}}}{body}{{{{/D}}}}"),
            "wide.xml",
        )
        .unwrap();
        let err = bins
            .render("wide-body", &webhook(&many))
            .unwrap_err()
            .to_string();
        assert!(err.contains("steps"), "{err}");
        // 99 items, each writing 2 KB: within the step budget, over the output one.
        let wide = format!("{{{{#D}}}}{}{{{{/D}}}}", "x".repeat(2_000));
        bins.add("wide", &wide, "wide.xml").unwrap();
        let many: Vec<(&str, &str)> = (0..99).map(|_| ("D[]", "x")).collect();
        let err = bins
            .render("wide", &webhook(&many))
            .unwrap_err()
            .to_string();
        assert!(err.contains("renders over 128000 bytes"), "{err}");
        // What a helper renders inside itself counts too.
        bins.add(
            "inner",
            &format!("{{{{#e164}}}}{wide}{{{{/e164}}}}"),
            "inner.xml",
        )
        .unwrap();
        let err = bins
            .render("inner", &webhook(&many))
            .unwrap_err()
            .to_string();
        assert!(err.contains("renders over"), "{err}");
        // The budget is per render: the next one starts afresh.
        bins.add("ok", "{{#D}}.{{/D}}", "ok.xml").unwrap();
        assert_eq!(bins.render("ok", &webhook(&many)).unwrap().len(), 99);
    }

    #[test]
    fn each_iterates_like_a_section_with_index_and_key() {
        assert_eq!(
            render(
                "{{#each Dest}}{{@index}}:{{this}}{{#unless @last}},{{/unless}}{{/each}}",
                &[("Dest[]", "a"), ("Dest[]", "b")]
            ),
            "0:a,1:b"
        );
        assert_eq!(
            render(
                "{{#each this}}{{@key}}={{this}};{{/each}}",
                &[("From", "x"), ("To", "y")]
            ),
            "From=x;To=y;"
        );
    }

    #[test]
    fn seed_004_template_renders_verbatim() {
        let template = r#"<Response><Dial callerId="{{#e164}}{{From}}{{/e164}}">{{#e164}}{{To}}{{/e164}}</Dial></Response>"#;
        let out = render(
            template,
            &[
                ("From", "sip:+14155550100@acme.sip.twilio.com"),
                ("To", "sip:+15125551212@acme.sip.us1.twilio.com"),
            ],
        );
        assert_eq!(
            out,
            r#"<Response><Dial callerId="+14155550100">+15125551212</Dial></Response>"#
        );
    }

    #[test]
    fn hostile_values_cannot_change_structure() {
        let out = render(
            r#"<Dial callerId="{{#e164}}{{From}}{{/e164}}">{{SipHeader_X-Evil}}</Dial>"#,
            &[
                ("From", r#""/><Hangup/><Say x=""#),
                (
                    "SipHeader_X-Evil",
                    "</Dial><Redirect>http://evil</Redirect>",
                ),
            ],
        );
        assert_eq!(
            out,
            r#"<Dial callerId="&quot;/&gt;&lt;Hangup/&gt;&lt;Say x=&quot;">&lt;/Dial&gt;&lt;Redirect&gt;http://evil&lt;/Redirect&gt;</Dial>"#
        );
    }

    #[test]
    fn unknown_bin_is_not_found() {
        let bins = Bins::new(Region::default());
        assert!(matches!(
            bins.render("nope", &webhook(&[])),
            Err(Error::NotFound(_))
        ));
    }
}
