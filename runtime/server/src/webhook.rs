//! Reading the SIP engine's HTTP request into a [`Webhook`].

use hyper::{Method, header::CONTENT_TYPE, http::request::Parts};
pub(crate) use twiml_edge_sdk::webhook::Webhook;

use crate::error::Error;

/// Builds the webhook from the request head and its (already size-limited) body.
///
/// URL query parameters come first, then the body's, each in the order sent, so a bin URL such
/// as `/bins/greet?Name=Jane` exposes `Name` next to the engine's own parameters. The body is a
/// form, or a JSON object whose members become parameters (an array repeats its name).
pub(crate) fn from_request(parts: &Parts, body: &[u8]) -> Result<Webhook, Error> {
    let url = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let query = parts.uri.query().unwrap_or_default();
    let mut webhook = Webhook::from_form(parts.method.as_str(), url, query)
        .map_err(|e| Error::BadRequest(format!("the URL's query string {e}")))?;
    if parts.method == Method::POST {
        if body_kind(parts, body)? == BodyKind::Json {
            for (name, value) in json_params(body)? {
                webhook.push(&name, &value);
            }
            return Ok(webhook);
        }
        let body = std::str::from_utf8(body).map_err(|_| {
            Error::BadRequest(
                "the form body is not valid UTF-8: percent-encode every byte that is not ASCII"
                    .into(),
            )
        })?;
        webhook
            .append_form(body)
            .map_err(|e| Error::BadRequest(format!("the form body {e}")))?;
    }
    Ok(webhook)
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BodyKind {
    Form,
    Json,
}

pub(crate) fn body_kind(parts: &Parts, body: &[u8]) -> Result<BodyKind, Error> {
    let Some(value) = parts.headers.get(CONTENT_TYPE) else {
        // The engine always sends a content type; tolerate its absence only when there is no body.
        return if body.is_empty() {
            Ok(BodyKind::Form)
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
        Ok(BodyKind::Form)
    } else if essence.eq_ignore_ascii_case("application/json") {
        Ok(BodyKind::Json)
    } else {
        Err(Error::UnsupportedMediaType(format!(
            "Content-Type {essence:?} is not supported: send the parameters as \
             application/x-www-form-urlencoded (or a JSON object)"
        )))
    }
}

/// The members of a JSON object body as parameters, in order: strings as they are, numbers
/// and booleans as written, `null` empty, an array once per element, an object as its JSON.
fn json_params(body: &[u8]) -> Result<Vec<(String, String)>, Error> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Error::BadRequest(format!("the JSON body does not parse: {e}")))?;
    let serde_json::Value::Object(members) = value else {
        return Err(Error::BadRequest(
            "the JSON body must be an object of parameters".into(),
        ));
    };
    let text = |value: serde_json::Value| match value {
        serde_json::Value::String(s) => s,
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    let mut params = Vec::new();
    for (name, value) in members {
        match value {
            serde_json::Value::Array(items) => {
                params.extend(items.into_iter().map(|item| (name.clone(), text(item))));
            }
            value => params.push((name, text(value))),
        }
    }
    Ok(params)
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
            w.params().collect::<Vec<_>>(),
            [
                ("Name", "Jane"),
                ("Dest[]", "1"),
                ("Dest[]", "2"),
                ("From", "sip:+1555@a.b"),
                ("Empty", ""),
                ("Flag", ""),
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
    fn json_objects_become_parameters() {
        let p = parts("POST", "/bins/x?Q=1", Some("application/json"));
        let w = from_request(&p, br#"{"From":"+1","Dest":["a","b"],"N":3,"Nil":null}"#).unwrap();
        assert_eq!(
            w.params().collect::<Vec<_>>(),
            [
                ("Q", "1"),
                ("From", "+1"),
                ("Dest", "a"),
                ("Dest", "b"),
                ("N", "3"),
                ("Nil", "")
            ]
        );
        for bad in [&b"[1]"[..], b"{"] {
            assert!(matches!(from_request(&p, bad), Err(Error::BadRequest(_))));
        }
    }

    #[test]
    fn other_content_types_are_unsupported() {
        let p = parts("POST", "/bins/x", Some("text/plain"));
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
