//! The words of findings and the character classes of XML: what every part of the check shares.

use super::*;

pub(super) fn is_uri_element(el: &'static Element) -> bool {
    ptr::eq(el, &schema::SIP) || ptr::eq(el, &schema::SIP_URI) || ptr::eq(el, &schema::REFER_SIP)
}

pub(super) fn line_of(doc: &str, off: usize) -> usize {
    let end = off.min(doc.len());
    1 + doc.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

pub(super) fn accepts(parent: &Element) -> String {
    match parent.children.len() {
        0 => format!(" (<{}> holds no elements)", parent.name),
        1..=10 => {
            let names: Vec<String> = parent
                .children
                .iter()
                .map(|c| format!("<{}>", c.name))
                .collect();
            format!(" (<{}> accepts {})", parent.name, names.join(", "))
        }
        _ => String::new(),
    }
}

pub(super) fn missing_text(el: &Element) -> String {
    let what = match el.name {
        "Number" => "the phone number to dial, e.g. <Number>+14155550100</Number>",
        "Sip" => "the SIP URI to dial, e.g. <Sip>sip:alice@example.com</Sip>",
        "Uri" => "a SIP URI, e.g. <Uri>sip:alice@example.com</Uri>",
        "Client" => "the client identity (or an <Identity> child)",
        "Application" => "the application SID (or an <ApplicationSid> child)",
        "Redirect" => {
            "the URL of the next TwiML, e.g. <Redirect>https://example.com/next</Redirect>"
        }
        "Play" => "the URL of the audio to play (or a digits attribute)",
        "Conference" => "the conference room name",
        "Queue" => "the queue name",
        "Sms" => "the message body",
        _ => "its value",
    };
    format!("<{}> is empty; it needs {what}", el.name)
}

pub(super) fn amp_message(from_amp: &str, rule: &str) -> String {
    if rule == "bad-entity" {
        let name = from_amp[1..].split(';').next().unwrap_or("");
        return format!(
            "unknown entity &{name}; (XML knows only &lt; &gt; &amp; &apos; &quot;); for a \
             literal '&' write &amp;"
        );
    }
    "a raw '&' must be written &amp; (for example \"Fish &amp; Chips\")".into()
}

/// Length of the reference name after a `&` (up to its `;`), or the rule it breaks.
pub(super) fn reference_len(after_amp: &str) -> Result<usize, &'static str> {
    let Some(end) = after_amp.find(';').filter(|&e| e > 0 && e <= 32) else {
        return Err("unescaped-amp");
    };
    let name = &after_amp[..end];
    if matches!(name, "lt" | "gt" | "amp" | "apos" | "quot") {
        return Ok(end);
    }
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix('x') {
            Some(hex) => u32::from_str_radix(hex, 16),
            None => num.parse(),
        };
        return match code.ok().and_then(char::from_u32) {
            Some(c) if is_xml_char(c) => Ok(end),
            _ => Err("bad-entity"),
        };
    }
    if is_xml_name(name) {
        Err("bad-entity")
    } else {
        Err("unescaped-amp")
    }
}

pub(super) fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

pub(super) fn is_forbidden_control(b: u8) -> bool {
    b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')
}

pub(super) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}')
}

pub(super) fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':' || !c.is_ascii()
}

pub(super) fn is_xml_name(name: &str) -> bool {
    name.starts_with(is_name_start)
        && name
            .chars()
            .all(|c| is_name_start(c) || c.is_ascii_digit() || c == '-' || c == '.')
}

pub(super) fn describe_blank(s: &str) -> String {
    if s.bytes().all(|b| b == b' ' || b == b'\t') {
        format!("{} space(s)", s.len())
    } else {
        format!(
            "{} blank line(s)",
            s.bytes().filter(|&b| b == b'\n').count().max(1)
        )
    }
}
