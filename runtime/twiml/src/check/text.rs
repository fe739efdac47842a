//! Text, references, the prolog and what quick-xml refuses: the document's syntax.

use super::*;

impl Checker<'_> {
    // ---- text ----

    pub(super) fn text(&mut self, t: &BytesText<'_>, off: usize) -> Flow {
        let raw: &str = t;
        self.character_data(raw, off)
    }

    pub(super) fn cdata(&mut self, c: &BytesCData<'_>, off: usize) -> Flow {
        // Content starts after "<![CDATA[".
        let raw: &str = c;
        self.character_data(raw, self.offset_of(raw).unwrap_or(off))
    }

    pub(super) fn character_data(&mut self, raw: &str, off: usize) -> Flow {
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
        if let Some(tree) = &mut self.tree {
            tree.text(raw);
        }
        if let Some(i) = first {
            self.saw_text(off + i, &raw[i..]);
        }
        Ok(())
    }

    pub(super) fn general_ref(&mut self, r: &BytesRef<'_>, off: usize) -> Flow {
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
        if let Some(tree) = &mut self.tree {
            tree.text(ch.encode_utf8(&mut [0u8; 4]));
        }
        if !is_xml_space(ch) {
            let mut buf = [0u8; 4];
            self.saw_text(off, ch.encode_utf8(&mut buf));
        }
        Ok(())
    }

    pub(super) fn collecting(&self) -> bool {
        self.stack
            .last()
            .and_then(|f| f.el)
            .is_some_and(is_uri_element)
    }

    pub(super) fn saw_text(&mut self, off: usize, text: &str) {
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

    pub(super) fn text_outside_root(&mut self, off: usize, text: &str) -> Stop {
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

    pub(super) fn decl(&mut self, d: &BytesDecl<'_>, off: usize) -> Flow {
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

    pub(super) fn pi(&mut self, p: &BytesPI<'_>, off: usize) -> Flow {
        if p.target().eq_ignore_ascii_case("xml") {
            return Err(self.misplaced_declaration(off));
        }
        Ok(())
    }

    pub(super) fn misplaced_declaration(&mut self, off: usize) -> Stop {
        self.syntax(
            off,
            "declaration-not-first",
            "an <?xml ...?> declaration appears after the start of the document; keep only one, \
             as the very first thing (the runtime already writes it)"
                .into(),
        )
    }

    pub(super) fn eof(&mut self) {
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

    pub(super) fn xml_error(&mut self, err: &XmlError, off: usize) {
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
}
