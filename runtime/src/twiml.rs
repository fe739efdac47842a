//! The last step before an answer leaves: make it a TwiML document the SIP engine accepts.

use quick_xml::{Reader, events::Event};

use crate::error::{Error, Result};

/// The XML declaration every answer starts with.
pub const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// The largest TwiML document the SIP engine accepts, in bytes.
pub const DEFAULT_MAX_TWIML_BYTES: usize = 64_000;

/// Turns a rendered answer into a document: nothing before the declaration, which is added when
/// missing, and at most `max_bytes` long.
///
/// Template authors indent and comment freely, so surrounding whitespace is dropped rather than
/// refused; the engine would reject the document over it.
pub fn document(answer: &str, max_bytes: usize) -> Result<String> {
    let body = answer.trim();
    if body.is_empty() {
        return Err(Error::InvalidTwiml(
            "the answer is empty: return a <Response> document".into(),
        ));
    }
    let needs_declaration = !body.starts_with("<?xml");
    let len = body.len()
        + if needs_declaration {
            XML_DECLARATION.len()
        } else {
            0
        };
    if len > max_bytes {
        return Err(Error::InvalidTwiml(format!(
            "the answer is {len} bytes, over the SIP engine's {max_bytes}-byte limit"
        )));
    }
    let mut doc = String::with_capacity(len);
    if needs_declaration {
        doc.push_str(XML_DECLARATION);
    }
    doc.push_str(body);
    check_well_formed(&doc)?;
    Ok(doc)
}

/// Refuses what the SIP engine cannot parse: a root other than one `<Response>`, unclosed or
/// mismatched elements, unescaped `<` or `&`, malformed attributes, text outside the root.
fn check_well_formed(doc: &str) -> Result<()> {
    let mut reader = Reader::from_str(doc);
    let mut depth = 0usize;
    let mut seen_root = false;
    loop {
        let position = reader.buffer_position() as usize;
        let event = reader
            .read_event()
            .map_err(|e| malformed(doc, reader.error_position() as usize, &e.to_string()))?;
        match event {
            Event::Start(ref element) | Event::Empty(ref element) => {
                let name = element.name();
                if depth == 0 {
                    if seen_root {
                        return Err(malformed(
                            doc,
                            position,
                            "a second root element follows </Response>",
                        ));
                    }
                    let name: &str = name.as_ref();
                    if name != "Response" {
                        return Err(malformed(
                            doc,
                            position,
                            &format!(
                                "the root element is <{name}>: a TwiML document is one <Response>"
                            ),
                        ));
                    }
                    seen_root = true;
                }
                for attribute in element.attributes() {
                    let attribute =
                        attribute.map_err(|e| malformed(doc, position, &e.to_string()))?;
                    attribute
                        .normalized_value(quick_xml::XmlVersion::Explicit1_0)
                        .map_err(|e| malformed(doc, position, &e.to_string()))?;
                }
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                }
            }
            Event::End(_) => depth -= 1,
            Event::Text(ref text) if depth == 0 && !text.trim_ascii().is_empty() => {
                return Err(malformed(doc, position, "text outside <Response>"));
            }
            Event::GeneralRef(ref reference) => {
                let known = matches!(&**reference, "amp" | "lt" | "gt" | "quot" | "apos")
                    || reference.resolve_char_ref().is_ok_and(|c| c.is_some());
                if !known {
                    return Err(malformed(doc, position, "an unescaped '&': write &amp;"));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if depth > 0 {
        return Err(malformed(doc, doc.len(), "an element is not closed"));
    }
    if !seen_root {
        return Err(malformed(doc, doc.len(), "there is no <Response> element"));
    }
    Ok(())
}

fn malformed(doc: &str, offset: usize, reason: &str) -> Error {
    let offset = offset.min(doc.len());
    let line = doc.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1;
    Error::InvalidTwiml(format!(
        "the answer is not well-formed TwiML at line {line}: {reason}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declaration_is_added_once_and_first() {
        let want = format!("{XML_DECLARATION}<Response/>");
        assert_eq!(document("\n  <Response/>", 100).unwrap(), want);
        assert_eq!(document(&want, 100).unwrap(), want);
    }

    #[test]
    fn malformed_documents_are_refused_with_their_line() {
        let cases = [
            ("<Response><Dial></Response>", "line 1"),
            (
                "<Response>\n<Dial>\n<Number>1 & co</Number>\n</Dial></Response>",
                "line 3",
            ),
            ("<Response>\n<Say>a < b</Say></Response>", "line 2"),
            ("<Reponse></Reponse>", "root element is <Reponse>"),
            ("<Response/><Response/>", "second root"),
            ("<Response/>trailing", "outside"),
            ("<Response><Dial>\n", "not closed"),
            ("<Response><Say voice=alice>x</Say></Response>", "line 1"),
            ("just text", "outside"),
        ];
        for (answer, want) in cases {
            let err = document(answer, 1000).unwrap_err().to_string();
            assert!(err.contains(want), "{answer:?}: {err}");
        }
        let ok = "<Response><Say a=\"&quot;&#10;\">&amp; &lt; &#x263A;</Say><!-- c --><Hangup/></Response>";
        assert!(document(ok, 1000).is_ok());
    }

    #[test]
    fn empty_and_oversized_answers_are_refused() {
        assert!(
            document(" \n", 100)
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        let err = document(&"x".repeat(80), 100).unwrap_err().to_string();
        assert!(err.contains("118 bytes"), "{err}");
    }
}
