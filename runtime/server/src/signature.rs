//! `X-Twilio-Signature`: proof that a webhook comes from the engine of the account it targets.
//!
//! The signature is base64(HMAC-SHA1(auth token, the full URL, then for a form body every
//! parameter name in sorted order followed by its values, sorted)); a JSON body is covered by
//! the `bodySHA256` query parameter instead, and a `GET` by its URL alone.

use std::borrow::Cow;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use url::Url;

/// The header the SIP engine signs webhooks in.
pub const HEADER: &str = "x-twilio-signature";

/// The body of a signed request, as it counts towards the signature.
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    /// `GET`, or a body that is not signed: only the URL counts.
    None,
    /// `application/x-www-form-urlencoded` parameters, as received.
    Form(&'a [u8]),
    /// A JSON body: its SHA-256 must be the URL's `bodySHA256`, and only the URL is signed.
    Json(&'a [u8]),
}

/// The signature the engine computes for `url` and `body` with `token`.
pub fn sign(token: &str, url: &str, body: Body<'_>) -> String {
    STANDARD.encode(
        mac(token, url, &signed_params(body))
            .finalize()
            .into_bytes(),
    )
}

/// Whether `signature` signs this request, comparing in constant time.
///
/// The engine may have signed the URL with or without the scheme's default port (`:443`,
/// `:80`), depending on how the URL was configured, so both forms are accepted.
pub fn is_valid(token: &str, url: &str, body: Body<'_>, signature: &str) -> bool {
    let Ok(expected) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    if let Body::Json(json) = body
        && !body_hash_matches(url, json)
    {
        return false;
    }
    // Sorted once: both URL forms sign the same parameters.
    let params = signed_params(body);
    url_forms(url)
        .iter()
        .any(|url| mac(token, url, &params).verify_slice(&expected).is_ok())
}

/// The form parameters a signature covers, in the order it covers them.
fn signed_params(body: Body<'_>) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    let Body::Form(form) = body else {
        return Vec::new();
    };
    let mut params: Vec<_> = form_urlencoded::parse(form).collect();
    params.sort();
    params
}

fn mac(token: &str, url: &str, params: &[(Cow<'_, str>, Cow<'_, str>)]) -> Hmac<Sha1> {
    let mut mac = Hmac::<Sha1>::new_from_slice(token.as_bytes()).expect("HMAC takes any key");
    mac.update(url.as_bytes());
    for (name, value) in params {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// `url` as given, plus the same URL with its scheme's default port added or removed; the rest
/// is kept byte for byte (the engine signs the host as it was configured, in any case).
fn url_forms(url: &str) -> Vec<String> {
    let mut forms = vec![url.to_owned()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return forms;
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => return forms,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    // A port follows the last ':' unless that ':' is inside an IPv6 literal.
    let has_port = authority
        .rfind(':')
        .is_some_and(|colon| !authority[colon..].contains(']'));
    if let Some(bare) = authority.strip_suffix(default_port) {
        forms.push(format!("{scheme}://{bare}{path}"));
    } else if !has_port {
        forms.push(format!("{scheme}://{authority}{default_port}{path}"));
    }
    forms
}

fn body_hash_matches(url: &str, body: &[u8]) -> bool {
    let Ok(url) = Url::parse(url) else {
        return false;
    };
    let Some((_, claimed)) = url.query_pairs().find(|(name, _)| name == "bodySHA256") else {
        return false;
    };
    claimed.eq_ignore_ascii_case(&hex::encode(Sha256::digest(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const FORM: &[u8] = b"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234\
                           &From=%2B14158675309&To=%2B18005551212";
    const VECTOR: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";

    #[test]
    fn the_public_test_vector_signs_and_validates() {
        assert_eq!(sign(TOKEN, URL, Body::Form(FORM)), VECTOR);
        assert!(is_valid(TOKEN, URL, Body::Form(FORM), VECTOR));
    }

    #[test]
    fn the_default_port_may_be_present_or_not() {
        let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        assert!(is_valid(TOKEN, with_port, Body::Form(FORM), VECTOR));
        let signed_with_port = sign(TOKEN, with_port, Body::Form(FORM));
        assert!(is_valid(TOKEN, URL, Body::Form(FORM), &signed_with_port));
        let other_port = "https://mycompany.com:8443/myapp.php?foo=1&bar=2";
        assert!(!is_valid(TOKEN, other_port, Body::Form(FORM), VECTOR));
        let http = "http://mycompany.com/x";
        let signed = sign(TOKEN, "http://mycompany.com:80/x", Body::None);
        assert!(is_valid(TOKEN, http, Body::None, &signed));
        // The host is signed as configured, case and all.
        let mixed = "http://Edge.Example.com/x";
        let signed = sign(TOKEN, "http://Edge.Example.com:80/x", Body::None);
        assert!(is_valid(TOKEN, mixed, Body::None, &signed));
        assert_eq!(
            url_forms("http://[::1]:80/x"),
            ["http://[::1]:80/x", "http://[::1]/x"]
        );
        assert_eq!(
            url_forms("https://[::1]/x"),
            ["https://[::1]/x", "https://[::1]:443/x"]
        );
    }

    #[test]
    fn tampering_breaks_the_signature() {
        let tampered: [(&str, &str, &[u8]); 4] = [
            (TOKEN, "https://mycompany.com/myapp.php?foo=1&bar=3", FORM),
            (TOKEN, "http://mycompany.com/myapp.php?foo=1&bar=2", FORM),
            (
                TOKEN,
                URL,
                b"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1235",
            ),
            ("54321", URL, FORM),
        ];
        for (token, url, form) in tampered {
            assert!(!is_valid(token, url, Body::Form(form), VECTOR), "{url}");
        }
        assert!(!is_valid(TOKEN, URL, Body::Form(FORM), "not base64!"));
        assert!(!is_valid(TOKEN, URL, Body::Form(FORM), ""));
    }

    #[test]
    fn parameters_sort_by_name_then_value() {
        let a = sign(TOKEN, URL, Body::Form(b"B=2&A=1&A=0"));
        let b = sign(TOKEN, URL, Body::Form(b"A=0&A=1&B=2"));
        assert_eq!(a, b);
    }

    #[test]
    fn json_bodies_are_covered_by_their_hash() {
        let body = br#"{"CallSid":"CA1"}"#;
        let hash = hex::encode(Sha256::digest(body));
        let url = format!("https://edge.example.com/voice?bodySHA256={hash}");
        let signature = sign(TOKEN, &url, Body::None);
        assert!(is_valid(TOKEN, &url, Body::Json(body), &signature));
        assert!(!is_valid(TOKEN, &url, Body::Json(b"{}"), &signature));
        let unhashed = "https://edge.example.com/voice";
        let signature = sign(TOKEN, unhashed, Body::None);
        assert!(!is_valid(TOKEN, unhashed, Body::Json(body), &signature));
    }

    #[test]
    fn get_requests_sign_the_url_only() {
        let url = "https://edge.example.com/voice?From=%2B1&To=%2B2";
        let signature = sign(TOKEN, url, Body::None);
        assert!(is_valid(TOKEN, url, Body::None, &signature));
    }
}
