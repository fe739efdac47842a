//! `/TwimlBins`: create, update, fetch, list and delete TwiML Bins (`EH` sids).
//!
//! A template is compiled before it is stored: one that does not parse is refused with its line.

use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use super::{
    ApiError, ApiResult, Call, json_response, listing, method_not_allowed, no_content, page, param,
    rfc2822,
};
use crate::store::{self, Bin, Listing};

/// `FriendlyName` at most this long.
const MAX_FRIENDLY_NAME: usize = 64;

pub(super) async fn collection(call: &Call<'_>, method: &Method) -> ApiResult {
    match *method {
        Method::GET => {
            let page = page(call)?;
            let account = call.account.sid.clone();
            let name = call.query("FriendlyName");
            let listed = call
                .blocking(move |app| {
                    let store = app.tenants().store();
                    match name {
                        // Names are unique per account: this is how `deploy` finds a bin.
                        Some(name) => store.bin_by_name(&account, &name).map(|b| Listing {
                            total: u64::from(b.is_some()),
                            items: b.into_iter().collect(),
                            has_more: false,
                        }),
                        None => store.bins(&account, page),
                    }
                })
                .await??;
            let items = listed.items.iter().map(|b| bin_json(call, b)).collect();
            let path = format!("{}/TwimlBins.json", call.account_uri());
            let body = listing(&path, "twiml_bins", page, items, listed.has_more);
            Ok(json_response(StatusCode::OK, &body))
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
                .blocking(move |app| {
                    let bin = app
                        .tenants()
                        .store()
                        .create_bin(&account, &name, &template)?;
                    app.tenants()
                        .put_bin(&bin)
                        .map_err(|e| ApiError::bad_request(e.to_string()))?;
                    Ok::<_, ApiError>(bin)
                })
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
        .blocking(move |app| app.tenants().store().bin(&account, &owned))
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
                .blocking(move |app| {
                    let store = app.tenants().store();
                    let bin = store
                        .update_bin(&account, &sid, name.as_deref(), template.as_deref())?
                        .ok_or_else(|| ApiError::bad_request(format!("bin {sid} was deleted")))?;
                    app.tenants()
                        .put_bin(&bin)
                        .map_err(|e| ApiError::bad_request(e.to_string()))?;
                    Ok::<_, ApiError>(bin)
                })
                .await??;
            Ok(json_response(StatusCode::OK, &bin_json(call, &bin)))
        }
        Method::DELETE => {
            let (account, sid) = (call.account.sid.clone(), bin.sid);
            call.blocking(move |app| {
                let deleted = app.tenants().store().delete_bin(&account, &sid)?;
                app.tenants().remove_bin(&sid);
                Ok::<_, store::StoreError>(deleted)
            })
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
    call.app
        .tenants()
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
