//! TwiML Bins: logic-less templates over the webhook's parameters, compiled once at start.
//!
//! handlebars does the rendering; this module bends it to the Mustache semantics TwiML Bin
//! authors expect:
//! - `{{Param}}` interpolates, XML-escaped (`& < > " '` only, so SIP URIs keep their `=`);
//! - `{{#Param}}...{{/Param}}` renders when `Param` is present and non-empty, once per value
//!   when the parameter repeats (`{{#Dest}}<Number>{{.}}</Number>{{/Dest}}` for `Dest[]=..`);
//! - `{{^Param}}...{{/Param}}` renders when it is absent or empty; `{{! ... }}` is a comment;
//! - `{{#e164}}...{{/e164}}` turns its rendered content into an E.164 number when it is one;
//! - `{{#urlencode}}...{{/urlencode}}` percent-encodes its content, for SIP URI header values.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

use handlebars::{
    BlockContext, Context, Handlebars, Helper, HelperDef, HelperResult, JsonValue, Output,
    RenderContext, RenderErrorReason, Renderable, StringOutput, TemplateError,
};
use serde_json::Map;

use crate::{
    e164::{self, Region},
    error::{Error, Result},
    webhook::Webhook,
};

/// The file extension of TwiML Bin templates.
const TEMPLATE_EXTENSION: &str = "xml";

/// A set of compiled TwiML Bin templates, rendered by name.
#[derive(Debug)]
pub struct Bins {
    registry: Handlebars<'static>,
    /// Each bin's name and the parameters its template can read.
    names: BTreeMap<String, Reads>,
    region: Region,
}

/// The parameters a template can read: only those go into its data, since building data for
/// all forty parameters of a SIP webhook cost more than rendering.
#[derive(Debug)]
enum Reads {
    /// These names (`Dest` for `Dest[]`).
    Names(BTreeSet<String>),
    /// Any: the template walks the data (`{{#each this}}`, `lookup`, `@root`).
    All,
}

impl Bins {
    /// Compiles every `NAME.xml` in `dir` (none when `dir` does not exist); a template that does
    /// not parse fails with its file and line.
    pub fn load_dir(dir: &Path, region: Region) -> Result<Self> {
        let mut bins = Self::new(region);
        for (name, path) in files_named(dir, TEMPLATE_EXTENSION)? {
            let source = fs::read_to_string(&path)
                .map_err(|e| Error::Config(format!("cannot read template {path:?}: {e}")))?;
            bins.add(&name, &source, &path.display().to_string())?;
        }
        Ok(bins)
    }

    /// An empty set whose `e164` helper reads national numbers in `region`.
    pub fn new(region: Region) -> Self {
        let mut registry = Handlebars::new();
        registry.register_escape_fn(escape_xml);
        // Mustache looks names up through enclosing sections: `{{To}}` inside `{{#Dest}}`.
        registry.set_recursive_lookup(true);
        registry.register_helper("blockHelperMissing", Box::new(Section { each: false }));
        registry.register_helper("each", Box::new(Section { each: true }));
        registry.register_helper("e164", Box::new(E164 { region }));
        registry.register_helper("urlencode", Box::new(UrlEncode));
        Self {
            registry,
            names: BTreeMap::new(),
            region,
        }
    }

    /// The region `e164` reads national numbers in.
    pub fn region(&self) -> Region {
        self.region
    }

    /// Stops serving bin `name`.
    pub fn remove(&mut self, name: &str) {
        self.registry.unregister_template(name);
        self.names.remove(name);
    }

    /// Compiles `source` as bin `name`; `origin` (a file path) names it in errors.
    pub fn add(&mut self, name: &str, source: &str, origin: &str) -> Result<()> {
        check_name(name).map_err(|e| Error::Config(format!("template {origin}: {e}")))?;
        let rewritten = mustache_to_handlebars(source).map_err(|(offset, why)| {
            let line = source[..offset].matches('\n').count() + 1;
            Error::Config(format!(
                "template {origin} is refused at line {line}: {why}"
            ))
        })?;
        self.registry
            .register_template_string(name, rewritten)
            .map_err(|e| Error::Config(describe_template_error(origin, &e)))?;
        self.names.insert(name.to_owned(), reads(source));
        Ok(())
    }

    /// The names of the compiled bins, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.keys().map(String::as_str)
    }

    /// Whether a bin called `name` exists.
    pub fn contains(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    /// Renders bin `name` for `webhook`, returning the template's output as written.
    pub fn render(&self, name: &str, webhook: &Webhook) -> Result<String> {
        let Some(reads) = self.names.get(name) else {
            return Err(Error::NotFound(format!("no TwiML Bin named {name:?}")));
        };
        let context = Context::wraps(template_data(webhook, reads))
            .map_err(|e| Error::Internal(format!("cannot build template data: {e}")))?;
        // Bounded work per render, whatever the template and the webhook: a section over a
        // repeated parameter inside another multiplies, and an account's template runs here.
        ITERATIONS_LEFT.set(MAX_ITERATIONS);
        let mut out = Limited::default();
        let rendered = self
            .registry
            .render_with_context_to_write(name, &context, &mut out);
        if out.overflowed {
            return Err(Error::Render(format!(
                "TwiML Bin {name:?} renders over {} KiB: the SIP engine takes 64 kB at most",
                MAX_OUTPUT_BYTES >> 10
            )));
        }
        rendered.map_err(|e| Error::Render(format!("TwiML Bin {name:?} failed to render: {e}")))?;
        String::from_utf8(out.written)
            .map_err(|_| Error::Render(format!("TwiML Bin {name:?} rendered invalid UTF-8")))
    }
}

/// Most a render may write; past it, it stops (the TwiML check refuses over 64 kB anyway).
const MAX_OUTPUT_BYTES: usize = 1 << 20;
/// Most section items one render may visit.
const MAX_ITERATIONS: usize = 10_000;
/// Deepest nesting of sections a template may have (handlebars renders recursively).
const MAX_DEPTH: usize = 32;

/// A writer that refuses to grow past [`MAX_OUTPUT_BYTES`], ending the render.
#[derive(Default)]
struct Limited {
    written: Vec<u8>,
    overflowed: bool,
}

impl std::io::Write for Limited {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.written.len() + buf.len() > MAX_OUTPUT_BYTES {
            self.overflowed = true;
            return Err(std::io::Error::other("the render is too large"));
        }
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every `NAME.extension` file of `dir`, as (NAME, path); none when `dir` does not exist.
pub(crate) fn files_named(dir: &Path, extension: &str) -> Result<Vec<(String, PathBuf)>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => {
            return Err(Error::Config(format!(
                "cannot read the folder {dir:?}: {err}"
            )));
        }
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| Error::Config(format!("cannot list {dir:?}: {e}")))?
            .path();
        if path.extension().and_then(|s| s.to_str()) != Some(extension) {
            continue;
        }
        if let Some(name) = path.file_stem().and_then(|s| s.to_str()) {
            files.push((name.to_owned(), path.clone()));
        }
    }
    files.sort();
    Ok(files)
}

/// Bin names become URL path segments: keep them to a safe, unambiguous set.
pub(crate) fn check_name(name: &str) -> std::result::Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "name {name:?} must be 1 to 64 letters, digits, '-' or '_'"
        ))
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

/// Every word inside the template's tags: a superset of the parameter names it reads.
fn reads(source: &str) -> Reads {
    let mut names = BTreeSet::new();
    for tag in source.split("{{").skip(1) {
        let tag = tag.split("}}").next().unwrap_or_default();
        if tag.starts_with('!') {
            continue;
        }
        let words = tag.split(|c: char| {
            c.is_whitespace()
                || matches!(
                    c,
                    '#' | '^' | '/' | '~' | '(' | ')' | '"' | '\'' | '=' | '&' | '{' | '}'
                )
        });
        for word in words.filter(|w| !w.is_empty()) {
            if matches!(word, "this" | "." | "lookup")
                || word.starts_with('@')
                || word.contains("..")
            {
                return Reads::All;
            }
            // `Dest.[0]`, `Name.length`: the parameter is the first segment.
            let name = word.split('.').next().unwrap_or(word);
            names.insert(name.trim_end_matches("[]").to_owned());
        }
    }
    Reads::Names(names)
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

/// Rewrites the two Mustache spellings handlebars lacks: `{{^Name}}...{{/Name}}` becomes
/// `{{#unless Name}}...{{/unless}}`, and `{{.}}` (the current value) becomes `{{this}}`.
///
/// handlebars reads `{{^Name}}` only as an `else` inside another block. Each rewritten tag stays
/// a single tag, so handlebars still drops lines that hold nothing but a section tag, and no
/// newline moves, so parse errors still point at the author's line.
///
/// It also refuses, with the offset of the tag, what a bin must not do: output a value
/// unescaped (`{{{x}}}`, `{{& x}}`), which would let a caller change the TwiML's structure;
/// include partials or declare decorators, which reach other templates and recurse without
/// end; and nest sections deeper than [`MAX_DEPTH`].
fn mustache_to_handlebars(source: &str) -> std::result::Result<String, (usize, String)> {
    let mut out = String::with_capacity(source.len() + 16);
    // The open sections: name, whether opened inverted (`{{^Name}}`), where opened.
    let mut open: Vec<(&str, bool, usize)> = Vec::new();
    let line_of = |offset: usize| source[..offset].matches('\n').count() + 1;
    let mut rest = source;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let offset = source.len() - rest.len() + start;
        rest = &rest[start..];
        let tag_end = if rest.starts_with("{{!--") {
            rest.find("--}}").map(|i| i + 4)
        } else {
            rest.find("}}").map(|i| i + 2)
        };
        let Some(tag_end) = tag_end else { break };
        let (tag, after) = rest.split_at(tag_end);
        rest = after;
        let inner = tag[2..tag.len() - 2].trim_matches('~').trim();
        let refused = |why: &str| Err((offset, why.to_owned()));
        if tag.starts_with("{{{") || inner.starts_with('&') {
            return refused(
                "{{{...}}} and {{& ...}} write a value unescaped, so a caller could change the \
                 TwiML: write {{Name}}",
            );
        }
        if inner.starts_with('>') || inner.starts_with("#>") {
            return refused("partials ({{> name}}) are not supported: a TwiML Bin is one template");
        }
        if inner.starts_with('*') || inner.starts_with("#*") {
            return refused("decorators and inline partials ({{#*inline}}) are not supported");
        }
        if inner.starts_with('!') {
            out.push_str(tag);
            continue;
        }
        if inner == "." {
            out.push_str("{{this}}");
        } else if let Some(section) = inner.strip_prefix('^').filter(|s| is_name(s)) {
            open.push((section, true, offset));
            out.push_str("{{#unless ");
            out.push_str(section);
            out.push_str("}}");
        } else if let Some(block) = inner.strip_prefix('#') {
            open.push((name(block), false, offset));
            out.push_str(tag);
        } else if let Some(closing) = inner.strip_prefix('/') {
            let closing = name(closing);
            match open.pop() {
                Some((section, inverted, _)) if section == closing => {
                    out.push_str(if inverted { "{{/unless}}" } else { tag });
                }
                Some((section, inverted, opened)) => {
                    let sigil = if inverted { '^' } else { '#' };
                    return refused(&format!(
                        "{{{{/{closing}}}}} closes {{{{{sigil}{section}}}}} of line {}: close \
                         {{{{{sigil}{section}}}}} first with {{{{/{section}}}}}",
                        line_of(opened)
                    ));
                }
                None => {
                    return refused(&format!(
                        "{{{{/{closing}}}}} closes a section that was never opened"
                    ));
                }
            }
        } else {
            out.push_str(tag);
        }
        if open.len() > MAX_DEPTH {
            return refused(&format!("sections nest over {MAX_DEPTH} deep"));
        }
    }
    if let Some(&(section, inverted, opened)) = open.last() {
        let sigil = if inverted { '^' } else { '#' };
        return Err((
            opened,
            format!("{{{{{sigil}{section}}}}} is never closed: end it with {{{{/{section}}}}}"),
        ));
    }
    out.push_str(rest);
    Ok(out)
}

/// A tag's name: its first word (`each` of `#each Dest`).
fn name(tag: &str) -> &str {
    tag.split_whitespace().next().unwrap_or_default()
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '$' | ':' | '.'))
}

fn describe_template_error(origin: &str, err: &TemplateError) -> String {
    match err.pos() {
        Some((line, column)) => format!(
            "template {origin} does not parse at line {line}, column {column}: {}",
            err.reason()
        ),
        None => format!("template {origin} does not parse: {}", err.reason()),
    }
}

/// Sections: `{{#Param}}` for any name that is not a helper (Mustache), and `{{#each Param}}`
/// (handlebars), both through one loop that counts against the render's [`MAX_ITERATIONS`].
struct Section {
    /// `each` reads its first parameter; a Mustache section, the name it is called by.
    each: bool,
}

thread_local! {
    /// Section items the render on this thread may still visit. Rendering never awaits, so a
    /// render starts and ends on one thread.
    static ITERATIONS_LEFT: std::cell::Cell<usize> = const { std::cell::Cell::new(MAX_ITERATIONS) };
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
            let left = ITERATIONS_LEFT.get();
            if left == 0 {
                return Err(RenderErrorReason::Other(format!(
                    "the template repeats its sections over {MAX_ITERATIONS} times: nest fewer \
                     sections over repeated parameters"
                ))
                .into());
            }
            ITERATIONS_LEFT.set(left - 1);
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
        let mut content = StringOutput::new();
        template.render(r, ctx, rc, &mut content)?;
        let content = content.into_string()?;
        match e164::normalize(&content, self.region) {
            Some(number) => out.write(&number)?,
            None => out.write(&content)?,
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
        let mut content = StringOutput::new();
        let escaping_was_disabled = rc.is_disable_escape();
        rc.set_disable_escape(true);
        let rendered = template.render(r, ctx, rc, &mut content);
        rc.set_disable_escape(escaping_was_disabled);
        rendered?;
        let mut encoded = String::new();
        for byte in content.into_string()?.bytes() {
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
    use super::*;

    fn webhook(params: &[(&str, &str)]) -> Webhook {
        Webhook::from_params("POST", "/bins/t", params.iter().copied())
    }

    fn render(template: &str, params: &[(&str, &str)]) -> String {
        let mut bins = Bins::new(Region::default());
        bins.add("t", template, "t.xml")
            .unwrap_or_else(|e| panic!("{template:?}: {e}"));
        bins.render("t", &webhook(params)).unwrap()
    }

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
    fn templates_that_could_escape_or_recurse_are_refused_with_their_line() {
        let deep = "{{#A}}".repeat(MAX_DEPTH + 1) + &"{{/A}}".repeat(MAX_DEPTH + 1);
        let cases = [
            ("<Say>\n{{{From}}}</Say>", "line 2: {{{...}}}"),
            ("{{& From}}", "unescaped"),
            ("{{> other}}", "partials"),
            ("{{#> layout}}x{{/layout}}", "partials"),
            (
                r#"{{#*inline "p"}}{{> p}}{{/inline}}{{> p}}"#,
                "inline partials",
            ),
            ("{{*decorator}}", "decorators"),
            (deep.as_str(), "nest over 32 deep"),
            // Sections point at the tag that opened them, not at the end of the file.
            (
                "<Response>\n{{#To}}<Dial>{{To}}</Dial>\n</Response>",
                "line 2: {{#To}} is never closed: end it with {{/To}}",
            ),
            (
                "<Response>\n{{^To}}\n<Hangup/>\n</Response>",
                "line 2: {{^To}} is never closed",
            ),
            (
                "{{#To}}\n{{#From}}\n{{/To}}",
                "line 3: {{/To}} closes {{#From}} of line 2: close {{#From}} first with {{/From}}",
            ),
            (
                "<Response/>\n{{/To}}",
                "line 2: {{/To}} closes a section that was never opened",
            ),
        ];
        for (template, want) in cases {
            let err = Bins::new(Region::default())
                .add("t", template, "t.xml")
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{template:?}: {err}");
        }
        let nested = "{{#A}}".repeat(MAX_DEPTH) + &"{{/A}}".repeat(MAX_DEPTH);
        assert_eq!(render(&nested, &[("A", "1")]), "");
        assert_eq!(render("{{!-- {{{not read}}} --}}ok", &[]), "ok");
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
        assert!(err.contains("over 10000 times"), "{err}");
        // 99 + 99 * 99 items, each writing 120 bytes: within the item budget, over the output one.
        let wide = format!(
            "{{{{#D}}}}{{{{#D}}}}{}{{{{/D}}}}{{{{/D}}}}",
            "x".repeat(120)
        );
        bins.add("wide", &wide, "wide.xml").unwrap();
        let many: Vec<(&str, &str)> = (0..99).map(|_| ("D[]", "x")).collect();
        let err = bins
            .render("wide", &webhook(&many))
            .unwrap_err()
            .to_string();
        assert!(err.contains("renders over 1024 KiB"), "{err}");
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
    fn templates_get_only_the_parameters_they_can_read() {
        let names = |source: &str| match reads(source) {
            Reads::Names(names) => Some(names.into_iter().collect::<Vec<_>>()),
            Reads::All => None,
        };
        assert_eq!(
            names(
                r#"<Dial callerId="{{#e164}}{{From}}{{/e164}}">{{SipHeader_X-Id}}</Dial>{{! To }}"#
            ),
            Some(vec!["From".into(), "SipHeader_X-Id".into(), "e164".into()])
        );
        assert_eq!(
            names("{{#if Dest.[0]}}{{/if}}"),
            Some(vec!["Dest".into(), "if".into()])
        );
        for walks in [
            "{{#each this}}{{/each}}",
            "{{#A}}{{.}}{{/A}}",
            "{{@root.x}}",
            "{{lookup x 'y'}}",
        ] {
            assert_eq!(names(walks), None, "{walks}");
        }
        // Leaving the rest out changes nothing a template renders.
        assert_eq!(
            render("{{From}}|{{Other}}", &[("From", "a"), ("To", "b")]),
            "a|"
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
    fn parse_errors_name_file_and_line() {
        let mut bins = Bins::new(Region::default());
        let err = bins
            .add(
                "bad",
                "<Response>\n{{#Dest}}\n</Response>",
                "templates/bad.xml",
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("templates/bad.xml"), "{err}");
        assert!(err.contains("line "), "{err}");
        let err = bins.add("bad name", "", "x.xml").unwrap_err().to_string();
        assert!(err.contains("must be 1 to 64 letters"), "{err}");
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
