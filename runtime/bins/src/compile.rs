//! Compiling a TwiML Bin: the Mustache spellings handlebars lacks are rewritten, nesting is
//! bounded before handlebars' recursive parser sees the text, and what it parsed is checked
//! against what a bin may do, whatever whitespace or `~` a tag carries.

use std::collections::BTreeSet;

use handlebars::{
    TemplateError,
    template::{HelperTemplate, Parameter, Template, TemplateElement, TemplateMapping},
};

use crate::{CompiledBin, Error, MAX_TEMPLATE_BYTES, Renderer, Result, render::Reads};

/// Deepest nesting of sections a template may have (handlebars parses and renders recursively).
pub(crate) const MAX_DEPTH: usize = 32;
/// Deepest nesting of brackets inside one tag: `(`subexpressions`)`, `[`arrays`]`, `{`objects`}`.
const MAX_TAG_DEPTH: usize = 8;
/// The helpers a template may call, handlebars' own and this module's: the registry offers these
/// and no others.
pub(crate) const HELPERS: &[&str] = &[
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

impl Renderer {
    /// Compiles `source` as bin `name`; `origin` (a file path, a sid) names it in errors.
    pub fn compile(&self, name: &str, source: &str, origin: &str) -> Result<CompiledBin> {
        let refused = |offset: usize, why: &str| {
            let line = source[..offset.min(source.len())].matches('\n').count() + 1;
            Error::Refused(format!(
                "template {origin} is refused at line {line}: {why}"
            ))
        };
        if source.len() > MAX_TEMPLATE_BYTES {
            return Err(Error::Refused(format!(
                "template {origin} is {} bytes, over the {MAX_TEMPLATE_BYTES}-byte limit",
                source.len()
            )));
        }
        let rewritten = mustache_to_handlebars(source).map_err(|(at, why)| refused(at, &why))?;
        let template = Template::compile(&rewritten)
            .map_err(|e| Error::Refused(describe_template_error(origin, &e)))?;
        self.check(&template, 0).map_err(|(line, why)| {
            Error::Refused(format!(
                "template {origin} is refused at line {line}: {why}"
            ))
        })?;
        Ok(CompiledBin {
            name: name.to_owned(),
            template,
            reads: reads(source),
        })
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

#[cfg(test)]
mod tests {
    use twiml_edge_e164::Region;

    use super::*;
    use crate::{Bins, testing::render};

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
    }
}
