//! The account itself (`/Accounts/{sid}.json`: its settings) and its call log.

use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use super::{
    ApiError, ApiResult, Call, json_response, method_not_allowed, param, parse_bool, rfc2822,
};
use twiml_edge_store::{Account, AccountUpdate, CallFilter, CallRecord};

/// Call log entries an answer holds unless `PageSize` says otherwise.
const DEFAULT_CALLS: u32 = 50;

pub(super) async fn handle(call: &Call<'_>, method: &Method) -> ApiResult {
    match *method {
        Method::GET => Ok(json_response(
            StatusCode::OK,
            &account_json(call, &call.account),
        )),
        Method::POST => {
            let form = call.form();
            let flag = |name: &str| param(&form, name).map(|v| parse_bool(name, v)).transpose();
            let update = AccountUpdate {
                friendly_name: param(&form, "FriendlyName").map(str::to_owned),
                auth_token: None,
                validate_signatures: flag("ValidateSignatures")?,
                enhanced_sip: flag("EnhancedSip")?,
                twiml_warnings_only: flag("TwimlWarningsOnly")?,
            };
            let sid = call.account.sid.clone();
            let account = call
                .blocking(move |tenants| tenants.update_account(&sid, &update))
                .await??
                .ok_or_else(|| ApiError::not_found(call.parts.uri.path()))?;
            Ok(json_response(StatusCode::OK, &account_json(call, &account)))
        }
        _ => Err(method_not_allowed(method, "GET, POST")),
    }
}

/// The newest calls of the account, or of one of its functions (`function_sid`); filter
/// further with `FunctionSid`, `DomainSid` and `PageSize`.
pub(super) async fn calls(
    call: &Call<'_>,
    method: &Method,
    function_sid: Option<&str>,
) -> ApiResult {
    if *method != Method::GET {
        return Err(method_not_allowed(method, "GET"));
    }
    let limit = match call.query("PageSize") {
        None => DEFAULT_CALLS,
        Some(v) => v
            .parse()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "PageSize {v:?} is not a whole number from 1 to 1000"
                ))
            })?,
    };
    let function_sid = match function_sid {
        Some(segment) => Some(segment.to_owned()),
        None => call.query("FunctionSid"),
    };
    if let Some(sid) = &function_sid {
        // A function of another account answers as one that does not exist.
        let (account, sid) = (call.account.sid.clone(), sid.clone());
        call.blocking(move |tenants| tenants.store().function(&account, &sid))
            .await??
            .ok_or_else(|| ApiError::not_found(call.parts.uri.path()))?;
    }
    let filter = CallFilter {
        function_sid,
        domain_sid: call.query("DomainSid"),
        limit,
    };
    let account = call.account.sid.clone();
    let calls = call
        .blocking(move |tenants| tenants.store().calls(&account, &filter))
        .await??;
    let calls: Vec<Value> = calls.iter().map(call_json).collect();
    Ok(json_response(StatusCode::OK, &json!({ "calls": calls })))
}

fn account_json(call: &Call<'_>, account: &Account) -> Value {
    json!({
        "sid": account.sid,
        "friendly_name": account.friendly_name,
        "auth_token": account.auth_token,
        "status": "active",
        "type": "Full",
        "date_created": rfc2822(account.date_created),
        "date_updated": rfc2822(account.date_updated),
        "uri": format!("{}.json", call.account_uri()),
        // twiml-edge settings.
        "validate_signatures": account.validate_signatures,
        "enhanced_sip": account.enhanced_sip,
        "twiml_warnings_only": account.twiml_warnings_only,
    })
}

fn call_json(record: &CallRecord) -> Value {
    json!({
        "call_sid": record.call_sid,
        "domain_sid": record.domain_sid,
        "target": record.target,
        "function_sid": record.function_sid,
        "outcome": record.outcome,
        "error": record.error,
        "fallback": record.fallback,
        "logs": record.logs,
        "twiml": record.twiml,
        "elapsed_us": record.elapsed_us,
        "date_created": rfc2822(record.date_created),
    })
}
