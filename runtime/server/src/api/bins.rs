//! `/TwimlBins`: create, update, fetch, list and delete TwiML Bins (`EH` sids).
//!
//! A template is compiled before it is stored: one that does not parse is refused with its line.

use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use super::{
    ApiError, ApiResult, ByName, Call, PageOf, json_response, list, method_not_allowed, no_content,
    param, rfc2822,
};
use twiml_edge_store::{self, Bin};

/// `FriendlyName` at most this long.
const MAX_FRIENDLY_NAME: usize = 64;

pub(super) async fn collection(call: &Call<'_>, method: &Method) -> ApiResult {
    match *method {
        Method::GET => {
            let to_json = |b: &Bin| bin_json(call, b);
            let (page_of, by_name): (PageOf<_>, ByName<_>) =
                (|s, a, p| s.bins(a, p), |s, a, n| s.bin_by_name(a, n));
            list(
                call,
                "/TwimlBins.json",
                "twiml_bins",
                page_of,
                Some(by_name),
                to_json,
            )
            .await
        }
        Method::POST => {
            let form = call.form();
            let name = friendly_name(&form)?.ok_or_else(|| {
                ApiError::bad_request("FriendlyName is required: a name for the bin")
            })?;
            let template = param(&form, "Template").ok_or_else(|| {
                ApiError::bad_request("Template is required: the TwiML Bin template")
            })?;
            check(call, template)?;
            let (account, template) = (call.account.sid.clone(), template.to_owned());
            let bin = call
                .blocking(move |tenants| tenants.create_bin(&account, &name, &template))
                .await??;
            Ok(json_response(StatusCode::CREATED, &bin_json(call, &bin)))
        }
        _ => Err(method_not_allowed(method, "GET, POST")),
    }
}

pub(super) async fn item(call: &Call<'_>, method: &Method, sid: &str) -> ApiResult {
    let not_found = || ApiError::not_found(call.parts.uri.path());
    let (account, owned) = (call.account.sid.clone(), sid.to_owned());
    let bin = call
        .blocking(move |tenants| tenants.store().bin(&account, &owned))
        .await??
        .ok_or_else(not_found)?;
    match *method {
        Method::GET => Ok(json_response(StatusCode::OK, &bin_json(call, &bin))),
        Method::POST => {
            let form = call.form();
            let name = friendly_name(&form)?;
            let template = param(&form, "Template").map(str::to_owned);
            if let Some(template) = &template {
                check(call, template)?;
            }
            let (account, sid) = (call.account.sid.clone(), bin.sid);
            let bin = call
                .blocking(move |tenants| {
                    tenants.update_bin(&account, &sid, name.as_deref(), template.as_deref())
                })
                .await??
                .ok_or_else(not_found)?;
            Ok(json_response(StatusCode::OK, &bin_json(call, &bin)))
        }
        Method::DELETE => {
            let (account, sid) = (call.account.sid.clone(), bin.sid);
            call.blocking(move |tenants| tenants.delete_bin(&account, &sid))
                .await??;
            Ok(no_content())
        }
        _ => Err(method_not_allowed(method, "GET, POST, DELETE")),
    }
}

fn friendly_name(form: &[(String, String)]) -> ApiResult<Option<String>> {
    match param(form, "FriendlyName") {
        None => Ok(None),
        Some("") => Err(ApiError::bad_request("FriendlyName is empty: name the bin")),
        Some(name) if name.chars().count() > MAX_FRIENDLY_NAME => Err(ApiError::bad_request(
            format!("FriendlyName is over {MAX_FRIENDLY_NAME} characters"),
        )),
        Some(name) => Ok(Some(name.to_owned())),
    }
}

/// Refuses a template that does not parse, with its line and column.
fn check(call: &Call<'_>, template: &str) -> ApiResult<()> {
    call.api
        .tenants
        .check_template(template)
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

fn bin_json(call: &Call<'_>, bin: &Bin) -> Value {
    json!({
        "sid": bin.sid,
        "account_sid": bin.account_sid,
        "friendly_name": bin.friendly_name,
        "template": bin.template,
        "date_created": rfc2822(bin.date_created),
        "date_updated": rfc2822(bin.date_updated),
        "uri": format!("{}/TwimlBins/{}.json", call.account_uri(), bin.sid),
        "webhook_url": format!("{}/voice/bins/{}", call.public_base(), bin.sid),
    })
}
