//! `/Functions/{sid}/Variables`: a function's environment variables, in the shape of Twilio's
//! Environment Variable resource (`ZV` sids, `Key` up to 128 characters, `Value` up to 450
//! bytes), plus `Secret`: a secret's value is written once and never answered again (`value`
//! is `null`), and a secret cannot be made plain. A change applies to the function's next call.

use hyper::{Method, StatusCode};
use serde_json::{Value, json};
use twiml_edge_store::{Variable, VariableUpdate};

use super::{
    ApiError, ApiResult, Call, functions::find, json_response, method_not_allowed, no_content,
    param, parse_bool, rfc2822,
};

pub(super) async fn collection(call: &Call<'_>, method: &Method, function_sid: &str) -> ApiResult {
    let function = find(call, function_sid).await?;
    let (account, function_sid) = (call.account.sid.clone(), function.sid);
    match *method {
        Method::GET => {
            let variables = call
                .blocking(move |tenants| tenants.store().variables(&account, &function_sid))
                .await??
                .ok_or_else(|| ApiError::not_found(call.parts.uri.path()))?;
            let variables: Vec<Value> = variables.iter().map(|v| variable_json(call, v)).collect();
            Ok(json_response(
                StatusCode::OK,
                &json!({ "variables": variables }),
            ))
        }
        Method::POST => {
            let form = call.form();
            let (Some(key), Some(value)) = (param(&form, "Key"), param(&form, "Value")) else {
                return Err(ApiError::bad_request(
                    "Key and Value are required (Secret=true keeps the value out of every answer)",
                ));
            };
            let secret = param(&form, "Secret")
                .map(|v| parse_bool("Secret", v))
                .transpose()?
                .unwrap_or(false);
            let (key, value) = (key.to_owned(), value.to_owned());
            let created = call
                .blocking(move |tenants| {
                    tenants.create_variable(&account, &function_sid, &key, &value, secret)
                })
                .await??
                .ok_or_else(|| ApiError::not_found(call.parts.uri.path()))?;
            Ok(json_response(
                StatusCode::CREATED,
                &variable_json(call, &created),
            ))
        }
        _ => Err(method_not_allowed(method, "GET, POST")),
    }
}

pub(super) async fn item(
    call: &Call<'_>,
    method: &Method,
    function_sid: &str,
    sid: &str,
) -> ApiResult {
    let (account, function_sid, sid) = (
        call.account.sid.clone(),
        function_sid.to_owned(),
        sid.to_owned(),
    );
    let not_found = || ApiError::not_found(call.parts.uri.path());
    match *method {
        Method::GET => {
            let variable = call
                .blocking(move |tenants| tenants.store().variable(&account, &function_sid, &sid))
                .await??
                .ok_or_else(not_found)?;
            Ok(json_response(
                StatusCode::OK,
                &variable_json(call, &variable),
            ))
        }
        Method::POST => {
            let form = call.form();
            let update = VariableUpdate {
                key: param(&form, "Key").map(str::to_owned),
                value: param(&form, "Value").map(str::to_owned),
                secret: param(&form, "Secret")
                    .map(|v| parse_bool("Secret", v))
                    .transpose()?,
            };
            if update.key.is_none() && update.value.is_none() && update.secret.is_none() {
                return Err(ApiError::bad_request(
                    "nothing to change: send Key, Value or Secret",
                ));
            }
            let variable = call
                .blocking(move |tenants| {
                    tenants.update_variable(&account, &function_sid, &sid, &update)
                })
                .await??
                .ok_or_else(not_found)?;
            Ok(json_response(
                StatusCode::OK,
                &variable_json(call, &variable),
            ))
        }
        Method::DELETE => {
            let deleted = call
                .blocking(move |tenants| tenants.delete_variable(&account, &function_sid, &sid))
                .await??;
            if deleted {
                Ok(no_content())
            } else {
                Err(not_found())
            }
        }
        _ => Err(method_not_allowed(method, "GET, POST, DELETE")),
    }
}

/// A variable as the API answers it: a secret's value is `null`.
fn variable_json(call: &Call<'_>, variable: &Variable) -> Value {
    json!({
        "sid": variable.sid,
        "account_sid": variable.account_sid,
        "function_sid": variable.function_sid,
        "key": variable.key,
        "value": (!variable.secret).then_some(&variable.value),
        "secret": variable.secret,
        "date_created": rfc2822(variable.date_created),
        "date_updated": rfc2822(variable.date_updated),
        "url": format!(
            "{}/Functions/{}/Variables/{}.json",
            call.account_uri(),
            variable.function_sid,
            variable.sid
        ),
    })
}
