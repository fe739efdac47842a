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

use std::{
    cell::Cell,
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
    sync::Arc,
};

use handlebars::{
    BlockContext, Context, Handlebars, Helper, HelperDef, HelperResult, JsonValue, Output,
    RenderContext, RenderErrorReason, Renderable, TemplateError,
    template::{HelperTemplate, Parameter, Template, TemplateElement, TemplateMapping},
};
use serde_json::Map;

use crate::{
    e164::{self, Region},
    error::{Error, Result},
    twiml::DEFAULT_MAX_TWIML_BYTES,
    webhook::Webhook,
};

/// The file extension of TwiML Bin templates.
const TEMPLATE_EXTENSION: &str = "xml";
/// Largest template source, in bytes (the API takes a form of 64 KiB).
pub(crate) const MAX_TEMPLATE_BYTES: usize = 64 * 1024;
/// Deepest nesting of sections a template may have (handlebars parses and renders recursively).
const MAX_DEPTH: usize = 32;
/// Deepest nesting of brackets inside one tag: `(`subexpressions`)`, `[`arrays`]`, `{`objects`}`.
const MAX_TAG_DEPTH: usize = 8;
/// Steps one render may take: every element of a section's body counts once per item the
/// section visits, an `e164` conversion [`E164_STEPS`]. A shipped bin takes under a hundred.
const MAX_STEPS: usize = 50_000;
/// What one `e164` conversion costs in steps: libphonenumber takes microseconds per number.
const E164_STEPS: usize = 50;

/// The helpers a template may call, handlebars' own and this module's: the registry offers these
/// and no others.
const HELPERS: &[&str] = &[
    "if",
    "unless",
    "each",
    "with",
    "lookup",
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "and",
    "or",
    "not",
    "len",
    "e164",
    "urlencode",
];

/// The helpers and limits every TwiML Bin renders with. Immutable once made, so every render
/// shares one without a lock.
#[derive(Debug)]
pub struct Renderer {
    registry: Handlebars<'static>,
    region: Region,
    max_output: usize,
}

/// One compiled TwiML Bin.
#[derive(Debug)]
pub struct CompiledBin {
    name: String,
    template: Template,
    reads: Reads,
}

impl CompiledBin {
    /// The bin's name, as errors give it.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A set of compiled TwiML Bins, rendered by name.
#[derive(Debug)]
pub struct Bins {
    renderer: Arc<Renderer>,
    by_name: BTreeMap<String, Arc<CompiledBin>>,
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

    /// Compiles `source` as bin `name`; `origin` (a file path, a sid) names it in errors.
    pub fn compile(&self, name: &str, source: &str, origin: &str) -> Result<CompiledBin> {
        let refused = |offset: usize, why: &str| {
            let line = source[..offset.min(source.len())].matches('\n').count() + 1;
            Error::Config(format!(
                "template {origin} is refused at line {line}: {why}"
            ))
        };
        if source.len() > MAX_TEMPLATE_BYTES {
            return Err(Error::Config(format!(
                "template {origin} is {} bytes, over the {MAX_TEMPLATE_BYTES}-byte limit",
                source.len()
            )));
        }
        let rewritten = mustache_to_handlebars(source).map_err(|(at, why)| refused(at, &why))?;
        let template = Template::compile(&rewritten)
            .map_err(|e| Error::Config(describe_template_error(origin, &e)))?;
        self.check(&template, 0).map_err(|(line, why)| {
            Error::Config(format!(
                "template {origin} is refused at line {line}: {why}"
            ))
        })?;
        Ok(CompiledBin {
            name: name.to_owned(),
            template,
            reads: reads(source),
        })
    }

    /// Renders `bin` for `webhook`, returning the template's output as written.
    pub fn render(&self, bin: &CompiledBin, webhook: &Webhook) -> Result<String> {
        let name = &bin.name;
        let context = Context::wraps(template_data(webhook, &bin.reads))
            .map_err(|e| Error::Internal(format!("cannot build template data: {e}")))?;
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

    /// Refuses what a TwiML Bin must not do, with the line of the element that does it.
    fn check(&self, template: &Template, depth: usize) -> std::result::Result<(), (usize, String)> {
        if depth > MAX_DEPTH {
            return Err((
                line_of(template, 0),
                format!("sections nest over {MAX_DEPTH} deep"),
            ));
        }
        for (index, element) in template.elements.iter().enumerate() {
            let line = line_of(template, index);
            let refuse = |why: &str| Err((line, why.to_owned()));
            match element {
                TemplateElement::RawString(_) | TemplateElement::Comment(_) => {}
                TemplateElement::HtmlExpression(_) => {
                    return refuse(
                        "{{{...}}} and {{& ...}} write a value unescaped, so a caller could change \
                         the TwiML: write {{Name}}",
                    );
                }
                TemplateElement::PartialExpression(_) | TemplateElement::PartialBlock(_) => {
                    return refuse(
                        "partials ({{> name}}) are not supported: a TwiML Bin is one template",
                    );
                }
                TemplateElement::DecoratorExpression(_) | TemplateElement::DecoratorBlock(_) => {
                    return refuse(
                        "decorators and inline partials ({{#*inline}}) are not supported",
                    );
                }
                TemplateElement::Expression(helper) => {
                    self.check_call(helper, 0).map_err(|why| (line, why))?;
                }
                TemplateElement::HelperBlock(block) => {
                    self.check_call(block, 0).map_err(|why| (line, why))?;
                    for inner in [&block.template, &block.inverse].into_iter().flatten() {
                        self.check(inner, depth + 1)?;
                    }
                }
                // A kind of element a later handlebars adds is refused until it is known safe.
                _ => return refuse("this kind of tag is not supported in a TwiML Bin"),
            }
        }
        Ok(())
    }

    /// A value, section or helper call is allowed when it names no helper beyond the registry's
    /// own, and never chooses one at render time (a subexpression as the name).
    fn check_call(&self, call: &HelperTemplate, depth: usize) -> std::result::Result<(), String> {
        if depth > MAX_TAG_DEPTH {
            return Err(format!("subexpressions nest over {MAX_TAG_DEPTH} deep"));
        }
        // A subexpression or literal is no name: handlebars would render it and call the helper
        // it spells, which a caller's value could choose.
        let Some(name) = call.name.as_name() else {
            return Err(
                "a subexpression cannot name what to call: write {{Name}} or {{#helper ...}}"
                    .into(),
            );
        };
        let takes_arguments = !call.params.is_empty() || !call.hash.is_empty();
        if takes_arguments && !HELPERS.contains(&name) {
            return Err(format!(
                "{{{{{name} ...}}}} calls a helper TwiML Bins do not have: use a section \
                 ({{{{#Param}}}}), if, unless, each, with, lookup, e164, urlencode or a comparison"
            ));
        }
        for argument in call.params.iter().chain(call.hash.values()) {
            if let Parameter::Subexpression(inner) = argument {
                match inner.as_element() {
                    TemplateElement::Expression(helper) => self.check_call(helper, depth + 1)?,
                    _ => return Err("a subexpression must call a helper".into()),
                }
            }
        }
        Ok(())
    }
}

impl Bins {
    /// Compiles every `NAME.xml` in `dir` (none when `dir` does not exist); a template that does
    /// not parse fails with its file and line.
    pub fn load_dir(dir: &Path, renderer: Arc<Renderer>) -> Result<Self> {
        let mut bins = Self::with_renderer(renderer);
        for (name, path) in files_named(dir, TEMPLATE_EXTENSION)? {
            let source = fs::read_to_string(&path)
                .map_err(|e| Error::Config(format!("cannot read template {path:?}: {e}")))?;
            bins.add(&name, &source, &path.display().to_string())?;
        }
        Ok(bins)
    }

    /// An empty set whose `e164` helper reads national numbers in `region`.
    pub fn new(region: Region) -> Self {
        Self::with_renderer(Arc::new(Renderer::new(region, DEFAULT_MAX_TWIML_BYTES)))
    }

    /// An empty set rendered by `renderer`.
    pub fn with_renderer(renderer: Arc<Renderer>) -> Self {
        Self {
            renderer,
            by_name: BTreeMap::new(),
        }
    }

    /// What compiles and renders these bins.
    pub fn renderer(&self) -> &Arc<Renderer> {
        &self.renderer
    }

    /// The region `e164` reads national numbers in.
    pub fn region(&self) -> Region {
        self.renderer.region
    }

    /// Stops serving bin `name`.
    pub fn remove(&mut self, name: &str) {
        self.by_name.remove(name);
    }

    /// Compiles `source` as bin `name`; `origin` (a file path) names it in errors.
    pub fn add(&mut self, name: &str, source: &str, origin: &str) -> Result<()> {
        check_name(name).map_err(|e| Error::Config(format!("template {origin}: {e}")))?;
        let bin = self.renderer.compile(name, source, origin)?;
        self.by_name.insert(name.to_owned(), Arc::new(bin));
        Ok(())
    }

    /// The names of the compiled bins, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// Whether a bin called `name` exists.
    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// The compiled bin `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<CompiledBin>> {
        self.by_name.get(name)
    }

    /// Renders bin `name` for `webhook`, returning the template's output as written.
    pub fn render(&self, name: &str, webhook: &Webhook) -> Result<String> {
        let Some(bin) = self.by_name.get(name) else {
            return Err(Error::NotFound(format!("no TwiML Bin named {name:?}")));
        };
        self.renderer.render(bin, webhook)
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
        if tag
            .trim_start_matches(['~', ' ', '\t', '\r', '\n'])
            .starts_with('!')
        {
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

/// One tag of a template as Mustache reads it: `{{~ # name ~}}` is `~`, `#`, `name`, `~`.
struct Tag<'a> {
    /// `~` before the sigil (handlebars' whitespace control), kept as written.
    open_tilde: bool,
    /// `~` before the closing braces.
    close_tilde: bool,
    /// What is inside, trimmed of the tildes and of whitespace.
    inner: &'a str,
}

impl<'a> Tag<'a> {
    /// `tag` is the whole tag, braces included.
    fn parse(tag: &'a str) -> Self {
        let body = &tag[2..tag.len() - 2];
        let open_tilde = body.starts_with('~');
        let body = body.strip_prefix('~').unwrap_or(body);
        let close_tilde = body.ends_with('~') && !body.is_empty();
        let body = if close_tilde {
            &body[..body.len() - 1]
        } else {
            body
        };
        Self {
            open_tilde,
            close_tilde,
            inner: body.trim(),
        }
    }

    /// The tag written back with `inner` in place of what it held.
    fn with(&self, inner: &str) -> String {
        let tilde = |on: bool| if on { "~" } else { "" };
        format!(
            "{{{{{}{inner}{}}}}}",
            tilde(self.open_tilde),
            tilde(self.close_tilde)
        )
    }
}

/// Rewrites the two Mustache spellings handlebars lacks: `{{^Name}}...{{/Name}}` becomes
/// `{{#unless Name}}...{{/unless}}`, and `{{.}}` (the current value) becomes `{{this}}`, with the
/// padding Mustache allows inside tags (`{{^ Name }}`).
///
/// handlebars reads `{{^Name}}` only as an `else` inside another block. Each rewritten tag stays
/// a single tag, so handlebars still drops lines that hold nothing but a section tag, and no
/// newline moves, so parse errors still point at the author's line.
///
/// It also matches sections with their closing tags, to say which one is left open, and bounds
/// nesting before handlebars' recursive parser sees the text. What a tag may do is checked on
/// the parsed template ([`Renderer::check`]), not here.
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
        let is_long_comment = rest[2..]
            .trim_start_matches('~')
            .trim_start()
            .starts_with("!--");
        let tag_end = if is_long_comment {
            rest.find("--}}").map(|i| i + 4)
        } else {
            rest.find("}}").map(|i| i + 2)
        };
        let Some(tag_end) = tag_end else { break };
        let (text, after) = rest.split_at(tag_end);
        rest = after;
        let tag = Tag::parse(text);
        let refused = |why: String| Err((offset, why));
        if tag.inner.starts_with('!') {
            out.push_str(text);
            continue;
        }
        if bracket_depth(tag.inner) > MAX_TAG_DEPTH {
            return refused(format!(
                "brackets nest over {MAX_TAG_DEPTH} deep in one tag"
            ));
        }
        if tag.inner == "." {
            out.push_str(&tag.with("this"));
        } else if let Some(section) = tag
            .inner
            .strip_prefix('^')
            .map(str::trim)
            .filter(|s| is_name(s))
        {
            open.push((section, true, offset));
            out.push_str(&tag.with(&format!("#unless {section}")));
        } else if let Some(block) = tag.inner.strip_prefix('#') {
            // `{{#> layout}}` and `{{#*inline}}` open blocks too; their name follows the sigil.
            let block = block.trim_start().trim_start_matches(['>', '*']);
            open.push((name(block), false, offset));
            out.push_str(text);
        } else if let Some(closing) = tag.inner.strip_prefix('/') {
            let closing = name(closing);
            match open.pop() {
                Some((section, inverted, _)) if section == closing => {
                    if inverted {
                        out.push_str(&tag.with("/unless"));
                    } else {
                        out.push_str(text);
                    }
                }
                Some((section, inverted, opened)) => {
                    let sigil = if inverted { '^' } else { '#' };
                    return refused(format!(
                        "{{{{/{closing}}}}} closes {{{{{sigil}{section}}}}} of line {}: close \
                         {{{{{sigil}{section}}}}} first with {{{{/{section}}}}}",
                        line_of(opened)
                    ));
                }
                None => {
                    return refused(format!(
                        "{{{{/{closing}}}}} closes a section that was never opened"
                    ));
                }
            }
        } else {
            out.push_str(text);
        }
        if open.len() > MAX_DEPTH {
            return refused(format!("sections nest over {MAX_DEPTH} deep"));
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

/// The deepest nesting of `(`, `[` and `{` in `text`.
fn bracket_depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for byte in text.bytes() {
        match byte {
            b'(' | b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
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

/// The line of element `index` of `template`, as handlebars mapped it.
fn line_of(template: &Template, index: usize) -> usize {
    template
        .mapping
        .get(index)
        .map_or(1, |mapping: &TemplateMapping| mapping.0)
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
    fn what_a_tag_may_do_is_checked_on_the_parsed_template_whatever_its_spacing() {
        let refused = [
            ("{{ ~>EH0123}}", "partials"),
            ("{{~> other}}", "partials"),
            ("{{ > other }}", "partials"),
            ("{{ #> layout}}x{{/layout}}", "partials"),
            ("{{ {From} }}", "unescaped"),
            ("{{~{From}~}}", "unescaped"),
            ("{{ ~&From}}", "unescaped"),
            ("{{~ & From}}", "unescaped"),
            ("{{ *decorator}}", "decorators"),
            ("{{ #*inline \"p\"}}x{{/inline}}", "inline partials"),
            ("{{log From}}", "helper TwiML Bins do not have"),
            ("{{ log \"x\" }}", "helper TwiML Bins do not have"),
            (
                "{{#unknown From}}x{{/unknown}}",
                "helper TwiML Bins do not have",
            ),
            ("{{(lookup this \"From\")}}", "subexpression cannot name"),
            ("{{eq (log From) 1}}", "helper TwiML Bins do not have"),
            (
                "{{eq (((((((((((x))))))))))) 1}}",
                "brackets nest over 8 deep",
            ),
        ];
        for (template, want) in refused {
            let err = Bins::new(Region::default())
                .add("t", template, "t.xml")
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{template:?}: {err}");
        }
        // Mustache's padding inside tags is read as Mustache reads it.
        assert_eq!(render("{{^ A }}none{{/ A }}", &[]), "none");
        assert_eq!(render("{{# A }}[{{ . }}]{{/ A }}", &[("A", "x")]), "[x]");
        assert_eq!(render("{{~ From ~}}", &[("From", "<a>")]), "&lt;a&gt;");
        assert_eq!(render("{{eq To \"x\"}}", &[("To", "x")]), "true");
    }

    #[test]
    fn no_bin_can_render_another() {
        let mut bins = Bins::new(Region::default());
        bins.add("secret", "<Say>secret</Say>", "secret.xml")
            .unwrap();
        // Even a template that handlebars would read as naming another is refused before it is
        // served, and rendering never consults a registry of templates.
        let err = bins.add("thief", "{{> secret}}", "thief.xml").unwrap_err();
        assert!(err.to_string().contains("partials"), "{err}");
        assert!(!bins.contains("thief"));
    }

    #[test]
    fn deep_nesting_is_refused_before_the_parser_recurses() {
        let deep = "{{#A}}".repeat(10_000);
        let err = Bins::new(Region::default())
            .add("deep", &deep, "deep.xml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("nest over 32 deep"), "{err}");
        let parens = format!("{{{{eq {}x{} 1}}}}", "(".repeat(30_000), ")".repeat(30_000));
        let err = Bins::new(Region::default())
            .add("parens", &parens, "parens.xml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("brackets nest over 8 deep"), "{err}");
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
