//! The last step before an answer leaves: make it a TwiML document and check it as the SIP
//! engine would, so a broken answer fails here, visibly, instead of on a ringing call.

use crate::check::{Finding, Rules, Severity, check};

/// The XML declaration every answer starts with.
pub const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// What an account's answers are held to.
#[derive(Debug, Clone, Copy, Default)]
pub struct Policy {
    /// The rules the SIP engine applies to this account.
    pub rules: Rules,
    /// Let schema findings through as warnings (logged) instead of failing the answer; syntax
    /// findings always fail, since the engine cannot read the document at all.
    pub warnings_only: bool,
}

/// An answer ready to leave, and the schema findings let through as warnings.
#[derive(Debug)]
pub struct Document {
    /// The whole document, declaration first.
    pub text: String,
    /// Findings [`Policy::warnings_only`] let through, for the caller to log.
    pub warnings: Vec<Finding>,
}

/// Turns an answer into a document, the declaration added when missing, and checks it.
///
/// Whitespace around the answer is dropped rather than refused: template authors indent and
/// comment freely, and the engine would reject a document over a leading blank line.
pub fn document(answer: &str, policy: &Policy) -> Result<Document, Finding> {
    let body = answer.trim();
    if body.is_empty() {
        return Err(Finding {
            severity: Severity::Syntax,
            rule: "root-not-response",
            line: 1,
            message: "the answer is empty: return a <Response> document".into(),
        });
    }
    let text = if body.starts_with("<?xml") {
        body.to_owned()
    } else {
        let mut text = String::with_capacity(XML_DECLARATION.len() + body.len());
        text.push_str(XML_DECLARATION);
        text.push_str(body);
        text
    };
    let mut warnings = Vec::new();
    for finding in check(&text, &policy.rules) {
        if finding.severity == Severity::Schema && policy.warnings_only {
            warnings.push(finding);
        } else {
            return Err(finding);
        }
    }
    Ok(Document { text, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(warnings_only: bool) -> Policy {
        Policy {
            rules: Rules::default(),
            warnings_only,
        }
    }

    #[test]
    fn declaration_is_added_once_and_first() {
        let want = format!("{XML_DECLARATION}<Response />");
        assert_eq!(
            document("\n  <Response />", &policy(false)).unwrap().text,
            want
        );
        assert_eq!(document(&want, &policy(false)).unwrap().text, want);
    }

    #[test]
    fn empty_and_oversized_answers_are_refused() {
        let err = document(" \n", &policy(false)).unwrap_err();
        assert!(err.message.contains("empty"), "{err}");
        let big = format!("<Response><Say>{}</Say></Response>", "x".repeat(70_000));
        let err = document(&big, &policy(true)).unwrap_err();
        assert_eq!((err.rule, err.error_code()), ("too-large", 11750));
    }

    #[test]
    fn schema_findings_fail_or_warn_as_the_policy_says() {
        let answer = "<Response>\n<Dial><Sip>sip:a@b.com</Sip><Number>+15125551212</Number></Dial></Response>";
        let err = document(answer, &policy(false)).unwrap_err();
        assert_eq!((err.rule, err.line), ("enhanced-sip-required", 2));
        let ok = document(answer, &policy(true)).unwrap();
        assert_eq!(ok.warnings.len(), 1);
        let broken = "<Response><Dial></Response>";
        assert_eq!(
            document(broken, &policy(true)).unwrap_err().severity,
            Severity::Syntax
        );
    }
}
