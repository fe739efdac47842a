//! Elements and their attributes: where each may stand, what it may carry, and the `<Dial>`
//! rules checked when one closes.

use super::*;

impl Checker<'_> {
    // ---- elements ----

    pub(super) fn start(&mut self, e: &BytesStart<'_>, off: usize, empty: bool) -> Flow {
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
        if let Some(tree) = &mut self.tree {
            tree.open(name);
        }
        self.stack.push(frame);
        if empty {
            self.end();
        }
        Ok(())
    }

    pub(super) fn root(
        &mut self,
        name: &str,
        off: usize,
    ) -> Result<Option<&'static Element>, Stop> {
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
    pub(super) fn child(&mut self, name: &str, off: usize) -> Option<&'static Element> {
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

    pub(super) fn placement(&mut self, name: &str, parent: &'static Element, off: usize) {
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

    pub(super) fn end(&mut self) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        if let Some(tree) = &mut self.tree {
            tree.close();
        }
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

    pub(super) fn dial_end(&mut self, frame: &Frame) {
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
    pub(super) fn attributes(&mut self, e: &BytesStart<'_>, off: usize, frame: &mut Frame) -> Flow {
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
            if let Some(tree) = &mut self.tree {
                // Syntax is checked above, so normalizing cannot fail.
                let value = attr
                    .normalized_value(XmlVersion::Implicit1_0)
                    .unwrap_or_default();
                tree.attribute(key, &value);
            }

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

    pub(super) fn attr_error(
        &mut self,
        err: AttrError,
        e: &BytesStart<'_>,
        tag_off: usize,
    ) -> Stop {
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

    pub(super) fn unknown_attribute(&mut self, el: &'static Element, key: &str, key_off: usize) {
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
    pub(super) fn check_raw_value(&mut self, key: &str, raw: &str, off: usize) -> Flow {
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
}
