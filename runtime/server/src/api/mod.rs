//! The management API, shaped like Twilio's REST API so its helper libraries work unchanged:
//! HTTP Basic `AccountSid:AuthToken`, form-encoded writes, JSON with snake_case fields, paging
//! by `Page`/`PageSize`, and errors as `{code, message, more_info, status}`.
//!
//! Under `/2010-04-01/Accounts/{AccountSid}`: `.json` (the account and its settings),
//! `/SIP/Domains` (Twilio's SipDomain resource), and twiml-edge's own `/Functions` (with
//! `/Functions/{sid}/Variables`, shaped like Twilio's Environment Variables), `/TwimlBins`,
//! `/CallLog` and `/KeyValue` (the account's key-value state).

mod account;
mod bins;
mod domains;
mod functions;
mod keyvalue;
mod variables;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use bytes::Bytes;
use http_body_util::Full;
use hyper::{
    Method, Response, StatusCode,
    body::Body,
    header::{self, HeaderValue},
    http::request::Parts,
};
use serde_json::{Value, json};

use std::sync::Arc;

use crate::{
    body::{self, BodyError},
    http::PublicUrl,
    tenants::Tenants,
};
use twiml_edge_store::{Account, Listing, Page, Store, StoreError};

/// The API version in every path.
pub(crate) const API_PREFIX: &str = "/2010-04-01/Accounts/";
/// Items per page unless `PageSize` says otherwise.
const DEFAULT_PAGE_SIZE: u32 = 50;
/// How long a request body may take to arrive.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// Largest form body a write takes.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// An API refusal in Twilio's shape.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: u32,
    message: String,
}

type ApiResult<T = Response<Full<Bytes>>> = Result<T, ApiError>;

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        // Twilio's generic codes are 20000 plus the HTTP status (20003 excepted).
        let code = match status {
            StatusCode::UNAUTHORIZED => 20003,
            StatusCode::BAD_REQUEST => 20001,
            other => 20000 + u32::from(other.as_u16()),
        };
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// The server cannot take this now; the message says when to try again.
    pub(crate) fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    pub(crate) fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("the requested resource {path} was not found"),
        )
    }

    /// A failure of the server itself: logged in full, answered without paths or SQL.
    pub(crate) fn internal(message: impl std::fmt::Display) -> Self {
        tracing::error!("management API failed: {message}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server failed to answer: its log says why; try again",
        )
    }

    fn into_response(self) -> Response<Full<Bytes>> {
        let body = json!({
            "code": self.code,
            "message": self.message,
            "more_info": format!("https://www.twilio.com/docs/errors/{}", self.code),
            "status": self.status.as_u16(),
        });
        let mut response = json_response(self.status, &body);
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Basic realm="twiml-edge""#),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(message) => Self::new(StatusCode::CONFLICT, message),
            StoreError::Quota(message) => Self::new(StatusCode::FORBIDDEN, message),
            StoreError::Invalid(message) => Self::bad_request(message),
            other => Self::internal(other),
        }
    }
}

impl From<crate::tenants::BinWriteError> for ApiError {
    fn from(err: crate::tenants::BinWriteError) -> Self {
        match err {
            crate::tenants::BinWriteError::Store(err) => err.into(),
            crate::tenants::BinWriteError::Template(err) => Self::bad_request(err.to_string()),
        }
    }
}

/// What the management API works with: the accounts' content, and how webhook URLs look.
#[derive(Debug)]
pub(crate) struct Api {
    pub(crate) tenants: Arc<Tenants>,
    pub(crate) public_url: PublicUrl,
    /// Largest function upload accepted, in bytes.
    pub(crate) max_upload: usize,
}

impl Api {
    /// Answers one management API request.
    pub(crate) async fn handle<B>(&self, parts: Parts, body: B) -> Response<Full<Bytes>>
    where
        B: Body,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        respond(self, &parts, body)
            .await
            .unwrap_or_else(ApiError::into_response)
    }
}

/// One API request, authenticated, with the pieces every resource needs.
pub(crate) struct Call<'a> {
    pub(crate) api: &'a Api,
    pub(crate) parts: &'a Parts,
    pub(crate) account: Account,
    body: Bytes,
}

impl Call<'_> {
    /// The form body's parameters, in order (the query's, for a GET).
    pub(crate) fn form(&self) -> Vec<(String, String)> {
        let source = if self.parts.method == Method::GET {
            self.parts.uri.query().unwrap_or_default().as_bytes()
        } else {
            &self.body
        };
        form_urlencoded::parse(source).into_owned().collect()
    }

    /// The raw body.
    pub(crate) fn body(&self) -> &Bytes {
        &self.body
    }

    /// Every value of one query parameter, in order.
    pub(crate) fn query_all(&self, name: &str) -> Vec<String> {
        let query = self.parts.uri.query().unwrap_or_default();
        form_urlencoded::parse(query.as_bytes())
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
            .collect()
    }

    /// One query parameter.
    pub(crate) fn query(&self, name: &str) -> Option<String> {
        let query = self.parts.uri.query()?;
        form_urlencoded::parse(query.as_bytes())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }

    /// `/2010-04-01/Accounts/{sid}`, the base of every URI in answers.
    pub(crate) fn account_uri(&self) -> String {
        format!("{API_PREFIX}{}", self.account.sid)
    }

    /// The public base URL webhooks of this server are called at.
    pub(crate) fn public_base(&self) -> String {
        let url = self.api.public_url.of(self.parts);
        let path = self.parts.uri.path();
        url.find(path)
            .map_or(url.clone(), |at| url[..at].to_owned())
    }

    /// Runs blocking store, registry or compiler work off the async threads.
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Tenants) -> T + Send + 'static,
    ) -> ApiResult<T> {
        let tenants = self.api.tenants.clone();
        tokio::task::spawn_blocking(move || work(&tenants))
            .await
            .map_err(ApiError::internal)
    }
}

async fn respond<B>(api: &Api, parts: &Parts, body: B) -> ApiResult
where
    B: Body,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let path = parts.uri.path();
    let rest = path
        .strip_prefix(API_PREFIX)
        .ok_or_else(|| ApiError::not_found(path))?;
    let (account_sid, resource) = match rest.split_once('/') {
        Some((sid, resource)) => (sid, resource),
        None => (rest.strip_suffix(".json").unwrap_or(rest), ""),
    };
    let account = authenticate(&api.tenants, parts, account_sid).await?;
    let limit = if resource.starts_with("Functions") {
        api.max_upload
    } else {
        MAX_FORM_BYTES
    };
    let body = body::read(parts, body, limit, BODY_TIMEOUT)
        .await
        .map_err(|err| match err {
            // Uploads are large; a minute is generous for 16 MiB and bounds a client that stalls.
            BodyError::Timeout(timeout) => ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s",
                    timeout.as_secs()
                ),
            ),
            BodyError::TooLarge(limit) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body is over the {limit}-byte limit"),
            ),
            BodyError::Unreadable(why) => {
                ApiError::bad_request(format!("the request body could not be read: {why}"))
            }
        })?;
    let call = Call {
        api,
        parts,
        account,
        body,
    };
    let segments: Vec<&str> = resource.split('/').filter(|s| !s.is_empty()).collect();
    let method = &parts.method;
    match segments.as_slice() {
        [] => account::handle(&call, method).await,
        ["SIP", "Domains.json"] => domains::collection(&call, method).await,
        ["SIP", "Domains", sid] => domains::item(&call, method, json_sid(sid)?).await,
        ["Functions.json"] => functions::collection(&call, method).await,
        ["Functions", sid] => functions::item(&call, method, json_sid(sid)?).await,
        ["Functions", sid, "Content"] => functions::content(&call, method, sid).await,
        ["Functions", sid, "Versions.json"] => functions::versions(&call, method, sid).await,
        ["Functions", sid, "Versions", version] => {
            functions::version(&call, method, sid, json_sid(version)?).await
        }
        ["Functions", sid, "Calls.json"] => account::calls(&call, method, Some(sid)).await,
        ["Functions", sid, "Variables.json"] => variables::collection(&call, method, sid).await,
        ["Functions", sid, "Variables", variable] => {
            variables::item(&call, method, sid, json_sid(variable)?).await
        }
        ["KeyValue.json"] => keyvalue::buckets(&call, method).await,
        ["KeyValue", bucket] => keyvalue::bucket(&call, method, json_sid(bucket)?).await,
        ["KeyValue", bucket, key] => keyvalue::entry(&call, method, bucket, key).await,
        ["TwimlBins.json"] => bins::collection(&call, method).await,
        ["TwimlBins", sid] => bins::item(&call, method, json_sid(sid)?).await,
        ["CallLog.json"] => account::calls(&call, method, None).await,
        _ => Err(ApiError::not_found(path)),
    }
}

fn json_sid(segment: &str) -> ApiResult<&str> {
    segment.strip_suffix(".json").ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("resource {segment:?} was not found: resource paths end in .json"),
        )
    })
}

/// The account the request's HTTP Basic credentials prove, which must be the path's.
async fn authenticate(tenants: &Arc<Tenants>, parts: &Parts, path_sid: &str) -> ApiResult<Account> {
    let unauthorized = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authenticate with HTTP Basic AccountSid:AuthToken (twiml-edge account create makes \
             an account)",
        )
    };
    let credentials = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| STANDARD.decode(v.trim()).ok())
        .and_then(|v| String::from_utf8(v).ok())
        .ok_or_else(unauthorized)?;
    let (sid, token) = credentials.split_once(':').ok_or_else(unauthorized)?;
    let account = tenants
        .find_account(sid)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(unauthorized)?;
    if !constant_time_eq(account.auth_token.as_bytes(), token.as_bytes()) {
        return Err(unauthorized());
    }
    if account.sid != path_sid {
        // The same answer whether or not that account exists.
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "the credentials of {} do not grant access to account {path_sid:?}",
                account.sid
            ),
        ));
    }
    Ok(account)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// A JSON answer.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("static headers are valid")
}

/// 204 No Content, as Twilio answers a delete.
pub(crate) fn no_content() -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Full::new(Bytes::new()))
        .expect("static headers are valid")
}

pub(crate) fn method_not_allowed(method: &Method, allow: &str) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method {method} is not allowed on this resource: use {allow}"),
    )
}

/// `PageSize` and `Page` (0-based) from the query, Twilio's defaults and limits applied.
pub(crate) fn page(call: &Call<'_>) -> ApiResult<Page> {
    let number = |name: &str, default: u32, min: u32, max: u32| -> ApiResult<u32> {
        match call.query(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "{name} {v:?} is not a whole number from {min} to {max}"
                    ))
                }),
        }
    };
    let page_size = number("PageSize", DEFAULT_PAGE_SIZE, 1, 1000)?;
    let page = number("Page", 0, 0, u32::MAX / 1000)?;
    Ok(Page { page, page_size })
}

/// Reads one page of a collection from the store.
pub(crate) type PageOf<T> = fn(&dyn Store, &str, Page) -> Result<Listing<T>, StoreError>;
/// Finds an account's item by friendly name.
pub(crate) type ByName<T> = fn(&dyn Store, &str, &str) -> Result<Option<T>, StoreError>;

/// A GET on a collection (`path` under the account, items under `key`): one page, or with
/// `FriendlyName` (when `by_name` is given) the one item of that name, since names are unique
/// per account; `deploy` finds what to update this way.
pub(crate) async fn list<T: Send + 'static>(
    call: &Call<'_>,
    path: &str,
    key: &str,
    page_of: PageOf<T>,
    by_name: Option<ByName<T>>,
    to_json: impl Fn(&T) -> Value,
) -> ApiResult {
    let page = page(call)?;
    let account = call.account.sid.clone();
    let name = by_name.zip(call.query("FriendlyName"));
    let listed = call
        .blocking(move |tenants| {
            let store = tenants.store();
            match name {
                Some((find, name)) => find(store.as_ref(), &account, &name).map(|item| Listing {
                    total: u64::from(item.is_some()),
                    items: item.into_iter().collect(),
                    has_more: false,
                }),
                None => page_of(store.as_ref(), &account, page),
            }
        })
        .await??;
    let items = listed.items.iter().map(to_json).collect();
    let path = format!("{}{path}", call.account_uri());
    Ok(json_response(
        StatusCode::OK,
        &listing(&path, key, page, items, listed.has_more),
    ))
}

/// A list answer: `key` holds the items, next to Twilio's paging fields.
pub(crate) fn listing(
    path: &str,
    key: &str,
    page: Page,
    items: Vec<Value>,
    has_more: bool,
) -> Value {
    let uri = |n: u32| format!("{path}?PageSize={}&Page={n}", page.page_size);
    let start = page.page * page.page_size;
    let mut body = json!({
        "first_page_uri": uri(0),
        "next_page_uri": has_more.then(|| format!("{}&PageToken=PA{}", uri(page.page + 1), page.page + 1)),
        "previous_page_uri": (page.page > 0).then(|| uri(page.page - 1)),
        "page": page.page,
        "page_size": page.page_size,
        "start": start,
        "end": (start + items.len() as u32).saturating_sub(1),
        "uri": uri(page.page),
    });
    body[key] = Value::Array(items);
    body
}

/// A date as Twilio writes it: RFC 2822 in GMT (`Mon, 16 Aug 2010 23:00:23 +0000`).
pub(crate) fn rfc2822(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc2822)
                .ok()
        })
        .unwrap_or_default()
}

/// `true`/`false` as Twilio's clients send booleans.
pub(crate) fn parse_bool(name: &str, value: &str) -> ApiResult<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ApiError::bad_request(format!(
            "{name} {value:?} is not a boolean: use true or false"
        ))),
    }
}

/// Where the form has a value for `name`, the last one.
pub(crate) fn param<'f>(form: &'f [(String, String)], name: &str) -> Option<&'f str> {
    form.iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc_2822_in_gmt() {
        assert_eq!(rfc2822(1_281_999_623), "Mon, 16 Aug 2010 23:00:23 +0000");
    }

    #[test]
    fn listings_page_like_twilio() {
        let page = Page {
            page: 1,
            page_size: 2,
        };
        let body = listing("/x.json", "things", page, vec![json!(1), json!(2)], true);
        assert_eq!(body["things"], json!([1, 2]));
        assert_eq!(body["start"], 2);
        assert_eq!(body["end"], 3);
        assert_eq!(body["first_page_uri"], "/x.json?PageSize=2&Page=0");
        assert_eq!(body["previous_page_uri"], "/x.json?PageSize=2&Page=0");
        assert_eq!(
            body["next_page_uri"],
            "/x.json?PageSize=2&Page=2&PageToken=PA2"
        );
        let last = listing("/x.json", "things", page, vec![], false);
        assert_eq!(last["next_page_uri"], Value::Null);
    }

    #[test]
    fn comparison_is_exact() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
