//! `/Functions`: upload, replace, list, fetch and delete voice functions.
//!
//! An upload is the wasm itself as the body (`Content-Type: application/wasm`), the name in
//! the query: `POST .../Functions.json?FriendlyName=pstn-dial`. It is checked and compiled
//! before anything is stored, every upload is a new version, and the previous version keeps
//! serving until the new one is stored and compiled.
//!
//! `AllowedHosts` (repeated, in the query of an upload or in a form `POST` to the function)
//! lists the hosts its requests may reach, in Spin's form: `https://api.example.com`,
//! `https://*.example.com:8443`; an empty `AllowedHosts=` allows none.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Response, StatusCode, header};
use serde_json::{Value, json};

use super::{
    ApiError, ApiResult, ByName, Call, PageOf, json_response, list, method_not_allowed, no_content,
    rfc2822,
};
use crate::folders::check_name;
use twiml_edge_outbound::AllowList;
use twiml_edge_sandbox::CompileError;

use crate::tenants::Upload;
use twiml_edge_store::{self, FunctionVersion};

pub(super) async fn collection(call: &Call<'_>, method: &Method) -> ApiResult {
    match *method {
        Method::GET => {
            let to_json = |f: &twiml_edge_store::Function| function_json(call, f);
            let (page_of, by_name): (PageOf<_>, ByName<_>) = (
                |s, a, p| s.functions(a, p),
                |s, a, n| s.function_by_name(a, n),
            );
            list(
                call,
                "/Functions.json",
                "functions",
                page_of,
                Some(by_name),
                to_json,
            )
            .await
        }
        Method::POST => {
            let name = call.query("FriendlyName").ok_or_else(|| {
                ApiError::bad_request(
                    "FriendlyName is required in the query: POST .../Functions.json?FriendlyName=NAME \
                     with the wasm as the body",
                )
            })?;
            check_name(&name).map_err(|e| ApiError::bad_request(format!("FriendlyName {e}")))?;
            let hosts = allowed_hosts(&call.query_all("AllowedHosts"))?.unwrap_or_default();
            let function = upload(call, Upload::New(name, hosts)).await?;
            Ok(json_response(
                StatusCode::CREATED,
                &function_json(call, &function),
            ))
        }
        _ => Err(method_not_allowed(method, "GET, POST")),
    }
}

pub(super) async fn item(call: &Call<'_>, method: &Method, sid: &str) -> ApiResult {
    let function = find(call, sid).await?;
    match *method {
        Method::GET => Ok(json_response(
            StatusCode::OK,
            &function_json(call, &function),
        )),
        Method::POST if is_form(call) => {
            let form = call.form();
            let given: Vec<String> = form
                .iter()
                .filter(|(n, _)| n == "AllowedHosts")
                .map(|(_, v)| v.clone())
                .collect();
            let hosts = allowed_hosts(&given)?.ok_or_else(|| {
                ApiError::bad_request(
                    "nothing to change: send AllowedHosts (repeated; empty to allow none), or \
                     the wasm as the body with Content-Type: application/wasm to upload a version",
                )
            })?;
            let (account, sid) = (call.account.sid.clone(), function.sid);
            let function = call
                .blocking(move |tenants| tenants.set_allowed_hosts(&account, &sid, &hosts))
                .await??
                .ok_or_else(|| ApiError::not_found(call.parts.uri.path()))?;
            Ok(json_response(
                StatusCode::OK,
                &function_json(call, &function),
            ))
        }
        Method::POST => {
            let hosts = allowed_hosts(&call.query_all("AllowedHosts"))?;
            let function = upload(call, Upload::Version(function.sid, hosts)).await?;
            Ok(json_response(
                StatusCode::OK,
                &function_json(call, &function),
            ))
        }
        Method::DELETE => {
            let (account, sid) = (call.account.sid.clone(), function.sid);
            call.blocking(move |tenants| tenants.delete_function(&account, &sid))
                .await??;
            Ok(no_content())
        }
        _ => Err(method_not_allowed(method, "GET, POST, DELETE")),
    }
}

/// The wasm of the function's current version.
pub(super) async fn content(call: &Call<'_>, method: &Method, sid: &str) -> ApiResult {
    if *method != Method::GET {
        return Err(method_not_allowed(method, "GET"));
    }
    let function = find(call, sid).await?;
    let sha = function.version.sha256.clone();
    let wasm = call
        .blocking(move |tenants| tenants.store().blob(&sha))
        .await??;
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, "application/wasm")
        .body(Full::new(Bytes::from(wasm)))
        .expect("static headers are valid"))
}

/// Every version of the function, newest first.
pub(super) async fn versions(call: &Call<'_>, method: &Method, sid: &str) -> ApiResult {
    if *method != Method::GET {
        return Err(method_not_allowed(method, "GET"));
    }
    let (account, owned) = (call.account.sid.clone(), sid.to_owned());
    let versions = call
        .blocking(move |tenants| tenants.store().function_versions(&account, &owned))
        .await??
        .ok_or_else(|| ApiError::not_found(call.parts.uri.path()))?;
    let versions: Vec<Value> = versions.iter().map(version_json).collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "versions": versions }),
    ))
}

/// One version: `DELETE` removes it (not the one that runs), and its wasm when no other version
/// has the same.
pub(super) async fn version(
    call: &Call<'_>,
    method: &Method,
    sid: &str,
    version_sid: &str,
) -> ApiResult {
    if *method != Method::DELETE {
        return Err(method_not_allowed(method, "DELETE"));
    }
    let (account, owned, version) = (
        call.account.sid.clone(),
        sid.to_owned(),
        version_sid.to_owned(),
    );
    call.blocking(move |tenants| tenants.delete_function_version(&account, &owned, &version))
        .await??
        .ok_or_else(|| ApiError::not_found(call.parts.uri.path()))?;
    Ok(no_content())
}

/// Whether the request is a form rather than an upload.
fn is_form(call: &Call<'_>) -> bool {
    call.parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// The `AllowedHosts` given, checked: `None` when none was given, empty for one empty value.
fn allowed_hosts(given: &[String]) -> ApiResult<Option<Vec<String>>> {
    if given.is_empty() {
        return Ok(None);
    }
    let hosts: Vec<String> = given
        .iter()
        .flat_map(|v| v.split([',', ' ', '\n']))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect();
    AllowList::parse(&hosts)
        .map_err(|err| ApiError::bad_request(format!("AllowedHosts: {err}")))?;
    Ok(Some(hosts))
}

pub(super) async fn find(call: &Call<'_>, sid: &str) -> ApiResult<twiml_edge_store::Function> {
    let (account, owned) = (call.account.sid.clone(), sid.to_owned());
    call.blocking(move |tenants| tenants.store().function(&account, &owned))
        .await??
        .ok_or_else(|| ApiError::not_found(call.parts.uri.path()))
}

/// Checks, compiles and stores the body as a function or a new version of one, then serves it.
///
/// Cheap refusals come first (type, quotas), then the compile in the bounded pool, one upload
/// of an account at a time; nothing is written until it compiled and a probe instance started.
/// Order matters for a crash at any point: the blob is durable before the database row that
/// names it, and the row commits before the answer, so an acknowledged upload is whole and a
/// half-written one is never served.
async fn upload(call: &Call<'_>, upload: Upload) -> ApiResult<twiml_edge_store::Function> {
    let content_type = call
        .parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/wasm");
    if !matches!(
        content_type.split(';').next().unwrap_or_default().trim(),
        "application/wasm" | "application/octet-stream"
    ) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "Content-Type {content_type:?} is not an upload: send the wasm as the body with \
                 Content-Type: application/wasm"
            ),
        ));
    }
    let wasm = call.body().clone();
    if wasm.is_empty() {
        return Err(ApiError::bad_request(
            "the body is empty: send the component's bytes (curl --data-binary @function.wasm)",
        ));
    }
    let account = call.account.sid.clone();
    let (checked_account, function_sid, size) = (
        account.clone(),
        match &upload {
            Upload::New(..) => None,
            Upload::Version(sid, _) => Some(sid.clone()),
        },
        wasm.len() as u64,
    );
    // Quotas first, before the compiler's time is spent; they are checked again when stored.
    call.blocking(move |tenants| {
        tenants
            .store()
            .check_upload(&checked_account, function_sid.as_deref(), size)
    })
    .await??;
    // One upload of an account compiles at a time, so its uploads queue behind each other and
    // not in front of another account's; the wait counts against the compile timeout.
    let sandbox = call.api.tenants.sandbox();
    let deadline = sandbox.compile_deadline();
    let _turn = tokio::time::timeout_at(deadline, call.api.tenants.compile_turn(&account))
        .await
        .map_err(|_| {
            ApiError::unavailable(format!(
                "the upload is not accepted now: {}",
                CompileError::Timeout(sandbox.limits().compile_timeout)
            ))
        })?;
    let name = match &upload {
        Upload::New(name, _) => name.clone(),
        Upload::Version(sid, _) => call
            .api
            .tenants
            .function(sid)
            .map_or_else(|| sid.clone(), |f| f.item.name().to_owned()),
    };
    let compiled = sandbox
        .compile_bounded(name, wasm.clone(), deadline)
        .await
        .map_err(|err| match err {
            CompileError::Refused(_) => {
                ApiError::bad_request(format!("the upload is refused: {err}"))
            }
            CompileError::Timeout(_) | CompileError::Busy => {
                ApiError::unavailable(format!("the upload is not accepted now: {err}"))
            }
        })?;
    let sid = match &upload {
        Upload::New(..) => None,
        Upload::Version(sid, _) => Some(sid.clone()),
    };
    let stored = call
        .blocking(move |tenants| tenants.store_function(&account, &upload, &wasm, compiled))
        .await??
        .ok_or_else(|| {
            let sid = sid.unwrap_or_default();
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("function {sid} was deleted while it uploaded"),
            )
        })?;
    tracing::info!(
        function = %stored.sid,
        version = %stored.version.sid,
        sha256 = %stored.version.sha256,
        "function uploaded"
    );
    Ok(stored)
}

fn function_json(call: &Call<'_>, function: &twiml_edge_store::Function) -> Value {
    let uri = format!("{}/Functions/{}", call.account_uri(), function.sid);
    json!({
        "sid": function.sid,
        "account_sid": function.account_sid,
        "friendly_name": function.friendly_name,
        "date_created": rfc2822(function.date_created),
        "date_updated": rfc2822(function.date_updated),
        "version": version_json(&function.version),
        "allowed_hosts": function.allowed_hosts,
        "uri": format!("{uri}.json"),
        "webhook_url": format!("{}/voice/functions/{}", call.public_base(), function.sid),
        "links": {
            "content": format!("{uri}/Content"),
            "versions": format!("{uri}/Versions.json"),
            "calls": format!("{uri}/Calls.json"),
            "variables": format!("{uri}/Variables.json"),
        },
    })
}

fn version_json(version: &FunctionVersion) -> Value {
    json!({
        "sid": version.sid,
        "function_sid": version.function_sid,
        "sha256": version.sha256,
        "size": version.size,
        "date_created": rfc2822(version.date_created),
    })
}
