//! `/SIP/Domains`: Twilio's SipDomain resource (SPEC §6), field for field.

use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use super::{
    ApiError, ApiResult, Call, PageOf, json_response, list, method_not_allowed, no_content, param,
    parse_bool, rfc2822,
};
use twiml_edge_store::{Domain, DomainFields};

/// `FriendlyName` at most this long.
const MAX_FRIENDLY_NAME: usize = 64;

pub(super) async fn collection(call: &Call<'_>, method: &Method) -> ApiResult {
    match *method {
        Method::GET => {
            let to_json = |d: &Domain| domain_json(call, d);
            let page_of: PageOf<_> = |s, a, p| s.domains(a, p);
            list(call, "/SIP/Domains.json", "domains", page_of, None, to_json).await
        }
        Method::POST => {
            let fields = fields(&call.form(), None)?;
            let account = call.account.sid.clone();
            let domain = call
                .blocking(move |tenants| tenants.create_domain(&account, &fields))
                .await??;
            Ok(json_response(
                StatusCode::CREATED,
                &domain_json(call, &domain),
            ))
        }
        _ => Err(method_not_allowed(method, "GET, POST")),
    }
}

pub(super) async fn item(call: &Call<'_>, method: &Method, sid: &str) -> ApiResult {
    let account = call.account.sid.clone();
    let owned = sid.to_owned();
    let existing = call
        .blocking(move |tenants| tenants.store().domain(&account, &owned))
        .await??
        .ok_or_else(|| ApiError::not_found(call.parts.uri.path()))?;
    match *method {
        Method::GET => Ok(json_response(StatusCode::OK, &domain_json(call, &existing))),
        Method::POST => {
            // Refuse a bad form before taking the write turn; then merge it into the fields as
            // they are under that turn, so two updates at once cannot undo each other.
            let form = call.form();
            fields(&form, Some(&existing.fields))?;
            let (account, sid) = (call.account.sid.clone(), sid.to_owned());
            let domain = call
                .blocking(move |tenants| {
                    tenants.update_domain(&account, &sid, |current| fields(&form, Some(current)))
                })
                .await??
                .ok_or_else(|| ApiError::not_found(call.parts.uri.path()))?;
            Ok(json_response(StatusCode::OK, &domain_json(call, &domain)))
        }
        Method::DELETE => {
            let (account, sid) = (call.account.sid.clone(), sid.to_owned());
            let removed = call
                .blocking(move |tenants| tenants.delete_domain(&account, &sid))
                .await??;
            if !removed {
                return Err(ApiError::not_found(call.parts.uri.path()));
            }
            Ok(no_content())
        }
        _ => Err(method_not_allowed(method, "GET, POST, DELETE")),
    }
}

/// The new state of a domain from a create (`existing` is `None`) or update form, validated
/// as Twilio validates it. Parameters a Twilio client may send that twiml-edge does not act on
/// (`Secure`, `EmergencyCallingEnabled`, ...) are kept and answered back.
fn fields(form: &[(String, String)], existing: Option<&DomainFields>) -> ApiResult<DomainFields> {
    let mut fields = existing.cloned().unwrap_or_else(|| DomainFields {
        voice_method: "POST".into(),
        voice_fallback_method: "POST".into(),
        voice_status_callback_method: "POST".into(),
        ..DomainFields::default()
    });
    match param(form, "DomainName") {
        Some(name) => fields.domain_name = domain_name(name)?,
        None if existing.is_none() => {
            return Err(ApiError::bad_request(
                "DomainName is required: a host name such as acme.sip.twilio.com",
            ));
        }
        None => {}
    }
    if let Some(name) = param(form, "FriendlyName") {
        if name.chars().count() > MAX_FRIENDLY_NAME {
            return Err(ApiError::bad_request(format!(
                "FriendlyName is {} characters: use at most {MAX_FRIENDLY_NAME}",
                name.chars().count()
            )));
        }
        fields.friendly_name = Some(name.to_owned()).filter(|n| !n.is_empty());
    }
    for (name, slot) in [
        ("VoiceUrl", &mut fields.voice_url),
        ("VoiceFallbackUrl", &mut fields.voice_fallback_url),
        (
            "VoiceStatusCallbackUrl",
            &mut fields.voice_status_callback_url,
        ),
    ] {
        if let Some(value) = param(form, name) {
            *slot = url(name, value)?;
        }
    }
    for (name, slot) in [
        ("VoiceMethod", &mut fields.voice_method),
        ("VoiceFallbackMethod", &mut fields.voice_fallback_method),
        (
            "VoiceStatusCallbackMethod",
            &mut fields.voice_status_callback_method,
        ),
    ] {
        if let Some(value) = param(form, name) {
            *slot = http_method(name, value)?;
        }
    }
    for (name, slot) in [
        ("SipRegistration", &mut fields.sip_registration),
        ("Secure", &mut fields.secure),
        (
            "EmergencyCallingEnabled",
            &mut fields.emergency_calling_enabled,
        ),
    ] {
        if let Some(value) = param(form, name) {
            *slot = parse_bool(name, value)?;
        }
    }
    for (name, slot) in [
        ("ByocTrunkSid", &mut fields.byoc_trunk_sid),
        ("EmergencyCallerSid", &mut fields.emergency_caller_sid),
    ] {
        if let Some(value) = param(form, name) {
            *slot = Some(value.to_owned()).filter(|v| !v.is_empty());
        }
    }
    Ok(fields)
}

/// A full host name whose labels are letters, digits and `-`; kept lowercase.
fn domain_name(name: &str) -> ApiResult<String> {
    let refused = |why: &str| {
        ApiError::bad_request(format!(
            "DomainName {name:?} {why}: use a host name such as acme-sf.sip.twilio.com, each \
             label letters, digits and '-'"
        ))
    };
    let labels: Vec<&str> = name.split('.').collect();
    if name.len() > 253 {
        return Err(refused("is over 253 characters"));
    }
    if labels.len() < 2 {
        return Err(refused("is not a full host name"));
    }
    for label in labels {
        if label.is_empty() || label.len() > 63 {
            return Err(refused("has an empty label or one over 63 characters"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(refused(
                "has a character other than letters, digits, '-' and '.'",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(refused("has a label that starts or ends with '-'"));
        }
    }
    Ok(name.to_ascii_lowercase())
}

/// An absolute http(s) URL, or nothing (an empty value clears the field).
fn url(name: &str, value: &str) -> ApiResult<Option<String>> {
    if value.is_empty() {
        return Ok(None);
    }
    match url::Url::parse(value) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {
            Ok(Some(value.to_owned()))
        }
        _ => Err(ApiError::bad_request(format!(
            "{name} {value:?} is not an absolute http or https URL"
        ))),
    }
}

fn http_method(name: &str, value: &str) -> ApiResult<String> {
    let upper = value.to_ascii_uppercase();
    match upper.as_str() {
        "GET" | "POST" => Ok(upper),
        _ => Err(ApiError::bad_request(format!(
            "{name} {value:?} is not an HTTP method twiml-edge calls with: use GET or POST"
        ))),
    }
}

fn domain_json(call: &Call<'_>, domain: &Domain) -> Value {
    let f = &domain.fields;
    let uri = format!("{}/SIP/Domains/{}", call.account_uri(), domain.sid);
    json!({
        "account_sid": domain.account_sid,
        "api_version": "2010-04-01",
        "auth_type": f.auth_type,
        "byoc_trunk_sid": f.byoc_trunk_sid,
        "date_created": rfc2822(domain.date_created),
        "date_updated": rfc2822(domain.date_updated),
        "domain_name": f.domain_name,
        "emergency_caller_sid": f.emergency_caller_sid,
        "emergency_calling_enabled": f.emergency_calling_enabled,
        "friendly_name": f.friendly_name,
        "secure": f.secure,
        "sid": domain.sid,
        "sip_registration": f.sip_registration,
        "subresource_uris": {
            "ip_access_control_list_mappings": format!("{uri}/IpAccessControlListMappings.json"),
            "credential_list_mappings": format!("{uri}/CredentialListMappings.json"),
            "auth": format!("{uri}/Auth.json"),
        },
        "uri": format!("{uri}.json"),
        "voice_fallback_method": f.voice_fallback_method,
        "voice_fallback_url": f.voice_fallback_url,
        "voice_method": f.voice_method,
        "voice_status_callback_method": f.voice_status_callback_method,
        "voice_status_callback_url": f.voice_status_callback_url,
        "voice_url": f.voice_url,
        // twiml-edge: the URL to give the SIP engine for this domain.
        "webhook_url": format!("{}/voice/domains/{}", call.public_base(), domain.sid),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_create_form_becomes_fields_with_twilio_defaults() {
        let f = fields(
            &form(&[
                ("DomainName", "Acme-SF.sip.twilio.com"),
                ("FriendlyName", "Acme SF"),
                ("VoiceUrl", "https://edge.example.com/voice/functions/ZH1"),
                ("VoiceMethod", "get"),
                ("SipRegistration", "True"),
                ("Secure", "true"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(f.domain_name, "acme-sf.sip.twilio.com");
        assert_eq!(f.friendly_name.as_deref(), Some("Acme SF"));
        assert_eq!(f.voice_method, "GET");
        assert_eq!(f.voice_fallback_method, "POST");
        assert!(f.sip_registration);
    }

    #[test]
    fn an_update_changes_only_what_it_names() {
        let before = fields(
            &form(&[
                ("DomainName", "a.sip.twilio.com"),
                ("VoiceUrl", "https://x.example/v"),
            ]),
            None,
        )
        .unwrap();
        let after = fields(&form(&[("VoiceUrl", "")]), Some(&before)).unwrap();
        assert_eq!(after.domain_name, "a.sip.twilio.com");
        assert_eq!(after.voice_url, None);
    }

    #[test]
    fn bad_values_are_refused_with_what_to_fix() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "DomainName is required"),
            (&[("DomainName", "acme")], "not a full host name"),
            (&[("DomainName", "ac_me.sip.twilio.com")], "letters, digits"),
            (
                &[("DomainName", "-acme.sip.twilio.com")],
                "starts or ends with '-'",
            ),
            (
                &[("DomainName", "a.b"), ("FriendlyName", &"x".repeat(65))],
                "at most 64",
            ),
            (
                &[("DomainName", "a.b"), ("VoiceUrl", "ftp://x.example")],
                "http or https",
            ),
            (
                &[("DomainName", "a.b"), ("VoiceMethod", "PUT")],
                "GET or POST",
            ),
            (
                &[("DomainName", "a.b"), ("SipRegistration", "yes")],
                "true or false",
            ),
        ];
        for (pairs, want) in cases {
            let err = fields(&form(pairs), None).unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST);
            assert!(err.message.contains(want), "{pairs:?}: {}", err.message);
        }
    }
}
