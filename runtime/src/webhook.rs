//! Reading the SIP engine's HTTP request into a [`Webhook`].

use hyper::{Method, header::CONTENT_TYPE, http::request::Parts};
pub use twiml_edge_sdk::webhook::{CallStatus, Direction, Webhook};

use crate::error::Error;

/// Builds the webhook from the request head and its (already size-limited) body.
///
/// URL query parameters come first, then the form body's, each in the order sent, so a bin URL
/// such as `/bins/greet?Name=Jane` exposes `Name` next to the engine's own parameters.
pub(crate) fn from_request(parts: &Parts, body: &[u8]) -> Result<Webhook, Error> {
    let url = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let mut params = match parts.uri.query() {
        Some(query) => decode_form(query.as_bytes())
            .map_err(|e| Error::BadRequest(format!("the URL's query string {e}")))?,
        None => Vec::new(),
    };
    if parts.method == Method::POST {
        check_content_type(parts, body)?;
        let form =
            decode_form(body).map_err(|e| Error::BadRequest(format!("the form body {e}")))?;
        params.extend(form);
    }
    Ok(Webhook::new(parts.method.as_str(), url, params))
}

fn check_content_type(parts: &Parts, body: &[u8]) -> Result<(), Error> {
    let Some(value) = parts.headers.get(CONTENT_TYPE) else {
        // The engine always sends a content type; tolerate its absence only when there is no body.
        return if body.is_empty() {
            Ok(())
        } else {
            Err(Error::UnsupportedMediaType(
                "missing Content-Type: send the parameters as application/x-www-form-urlencoded"
                    .into(),
            ))
        };
    };
    let essence = value
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Ok(())
    } else {
        Err(Error::UnsupportedMediaType(format!(
            "Content-Type {essence:?} is not supported: send the parameters as \
             application/x-www-form-urlencoded"
        )))
    }
}

/// Strictly decodes `application/x-www-form-urlencoded` data.
///
/// `form_urlencoded::parse` is lenient by design: it passes `%zz` through and replaces invalid
/// UTF-8 with U+FFFD. A webhook whose parameters were silently altered would route the call
/// wrongly, so malformed input is refused with the offending parameter named instead.
pub(crate) fn decode_form(input: &[u8]) -> Result<Vec<(String, String)>, String> {
    input
        .split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &[][..]),
            };
            let name = decode_component(name)
                .map_err(|e| format!("has a parameter name that {e} (in {:?})", lossy(pair)))?;
            let value = decode_component(value)
                .map_err(|e| format!("has a value of parameter {name:?} that {e}"))?;
            Ok((name, value))
        })
        .collect()
}

fn decode_component(input: &[u8]) -> Result<String, &'static str> {
    let mut out = Vec::with_capacity(input.len());
    let mut bytes = input.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.next().and_then(|&h| (h as char).to_digit(16));
                let lo = bytes.next().and_then(|&l| (l as char).to_digit(16));
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push((hi * 16 + lo) as u8),
                    _ => return Err("has a '%' not followed by two hex digits"),
                }
            }
            _ => out.push(b),
        }
    }
    String::from_utf8(out).map_err(|_| "is not valid UTF-8 once percent-decoded")
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::Request;

    fn parts(method: &str, uri: &str, content_type: Option<&str>) -> Parts {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(ct) = content_type {
            builder = builder.header(CONTENT_TYPE, ct);
        }
        builder.body(()).unwrap().into_parts().0
    }

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded; charset=utf-8");

    #[test]
    fn query_then_body_parameters_in_order() {
        let p = parts("POST", "/bins/x?Name=Jane&Dest%5B%5D=1", FORM);
        let w = from_request(&p, b"Dest%5B%5D=2&From=sip%3A%2B1555%40a.b&Empty=&Flag").unwrap();
        assert_eq!(
            w.params(),
            [
                ("Name".to_string(), "Jane".to_string()),
                ("Dest[]".into(), "1".into()),
                ("Dest[]".into(), "2".into()),
                ("From".into(), "sip:+1555@a.b".into()),
                ("Empty".into(), String::new()),
                ("Flag".into(), String::new()),
            ]
        );
        assert_eq!(w.url(), "/bins/x?Name=Jane&Dest%5B%5D=1");
        assert_eq!(w.method(), "POST");
    }

    #[test]
    fn get_ignores_the_body_and_reads_the_query() {
        let p = parts("GET", "/bins/x?To=%2B1+2", None);
        let w = from_request(&p, b"").unwrap();
        assert_eq!(w.to(), Some("+1 2"));
    }

    #[test]
    fn malformed_input_is_refused_with_the_parameter_named() {
        let p = parts("POST", "/bins/x", FORM);
        let err = from_request(&p, b"From=%zz").unwrap_err().to_string();
        assert!(
            err.contains("\"From\"") && err.contains("two hex digits"),
            "{err}"
        );
        let err = from_request(&p, b"From=%ff%fe").unwrap_err().to_string();
        assert!(err.contains("UTF-8"), "{err}");
        let err = from_request(&parts("GET", "/b?a=%4", None), b"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("query string"), "{err}");
    }

    #[test]
    fn other_content_types_are_unsupported() {
        let p = parts("POST", "/bins/x", Some("application/json"));
        assert!(matches!(
            from_request(&p, b"{}"),
            Err(Error::UnsupportedMediaType(_))
        ));
        let p = parts("POST", "/bins/x", None);
        assert!(from_request(&p, b"").is_ok());
        assert!(matches!(
            from_request(&p, b"a=1"),
            Err(Error::UnsupportedMediaType(_))
        ));
    }
}
