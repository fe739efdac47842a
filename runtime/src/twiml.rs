//! The last step before an answer leaves: make it a TwiML document the SIP engine accepts.

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
    Ok(doc)
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
