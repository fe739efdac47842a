//! `/KeyValue`: the account's key-value state, which its functions reach through
//! `wasi:keyvalue`, for an operator to read and seed.
//!
//! - `GET /KeyValue.json`: the buckets, with how many keys and bytes each holds;
//! - `GET /KeyValue/{bucket}.json?PageSize=N&After=KEY`: one page of its keys, sorted;
//! - `GET|PUT|DELETE /KeyValue/{bucket}/{key}`: one value, as raw bytes (the path's key is
//!   percent-decoded; a counter that functions increment is 8 bytes, little-endian).

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Response, StatusCode, header};
use serde_json::{Value, json};

use super::{ApiError, ApiResult, Call, json_response, method_not_allowed, no_content};

/// Keys in one page unless `PageSize` says otherwise.
const DEFAULT_KEYS: usize = 100;
/// Most keys in one page.
const MAX_KEYS: usize = 1000;

pub(super) async fn buckets(call: &Call<'_>, method: &Method) -> ApiResult {
    if *method != Method::GET {
        return Err(method_not_allowed(method, "GET"));
    }
    let account = call.account.sid.clone();
    let buckets = call
        .blocking(move |tenants| tenants.store().kv_buckets(&account))
        .await??;
    let buckets: Vec<Value> = buckets
        .iter()
        .map(|b| {
            json!({
                "name": b.name,
                "keys": b.keys,
                "bytes": b.bytes,
                "url": format!("{}/KeyValue/{}.json", call.account_uri(), b.name),
            })
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "buckets": buckets }),
    ))
}

pub(super) async fn bucket(call: &Call<'_>, method: &Method, bucket: &str) -> ApiResult {
    if *method != Method::GET {
        return Err(method_not_allowed(method, "GET"));
    }
    let limit = match call.query("PageSize") {
        None => DEFAULT_KEYS,
        Some(v) => v
            .parse()
            .ok()
            .filter(|n| (1..=MAX_KEYS).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "PageSize {v:?} is not a whole number from 1 to {MAX_KEYS}"
                ))
            })?,
    };
    let after = call.query("After");
    let (account, name) = (call.account.sid.clone(), bucket.to_owned());
    let keys = call
        .blocking(move |tenants| {
            tenants
                .store()
                .kv_keys(&account, &name, after.as_deref(), limit)
        })
        .await??;
    let next = (keys.len() == limit)
        .then(|| keys.last().cloned())
        .flatten();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "bucket": bucket, "keys": keys, "next_after": next }),
    ))
}

pub(super) async fn entry(call: &Call<'_>, method: &Method, bucket: &str, key: &str) -> ApiResult {
    let key = percent_decode(key)?;
    let (account, bucket) = (call.account.sid.clone(), bucket.to_owned());
    match *method {
        Method::GET => {
            let value = call
                .blocking(move |tenants| tenants.store().kv_get(&account, &bucket, &key))
                .await??
                .ok_or_else(|| ApiError::not_found(call.parts.uri.path()))?;
            Ok(Response::builder()
                .header(header::CONTENT_TYPE, "application/octet-stream")
                .body(Full::new(Bytes::from(value)))
                .expect("static headers are valid"))
        }
        Method::PUT | Method::POST => {
            let value = call.body().clone();
            call.blocking(move |tenants| tenants.store().kv_set(&account, &bucket, &key, &value))
                .await??;
            Ok(no_content())
        }
        Method::DELETE => {
            let deleted = call
                .blocking(move |tenants| tenants.store().kv_delete(&account, &bucket, &key))
                .await??;
            if deleted {
                Ok(no_content())
            } else {
                Err(ApiError::not_found(call.parts.uri.path()))
            }
        }
        _ => Err(method_not_allowed(method, "GET, PUT, DELETE")),
    }
}

/// A path segment as the key it names (a `%` without two hex digits stays as it is).
fn percent_decode(segment: &str) -> ApiResult<String> {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .map(|key| key.into_owned())
        .map_err(|_| {
            ApiError::bad_request(format!("key {segment:?} is not UTF-8 once percent-decoded"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_paths_are_percent_decoded() {
        assert_eq!(percent_decode("next%20agent").unwrap(), "next agent");
        assert_eq!(percent_decode("a+b").unwrap(), "a+b");
        assert_eq!(percent_decode("100%").unwrap(), "100%");
        assert!(percent_decode("%ff").is_err());
    }
}
