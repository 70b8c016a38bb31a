//! The route table and the request pipeline: read the body, log and count the request, dispatch
//! to a handler, apply the response extensions.
//!
//! Routing is a hand-written match on the path: the table is small and fixed, and a match
//! costs a few string comparisons.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW, SERVER};
use http::request::Parts;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;

use crate::app::App;
use crate::http::{error, Resp};
use crate::stats::Counter;
use crate::{api, hooks, internal, legacy};

/// Largest request body accepted; bigger ones get 413, as from any real server.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The request header that switches a response to chunked transfer encoding.
pub const CHUNKED_HEADER: &str = "x-demo-chunked";

const HOOK_PREFIX: &str = "/__demo/";

/// A matched endpoint with its path parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route<'a> {
    Accounts,
    Account(&'a str),
    Sessions,
    Session,
    Posts,
    Post(&'a str),
    Timeline,
    Publishers,
    Publisher(&'a str),
    LegacyRegister,
    HookStats,
    HookRequests,
    HookReset,
    HookFaults,
    HookPublishers,
    HookPublisher(&'a str),
    NotFound,
}

impl<'a> Route<'a> {
    fn of(path: &'a str) -> Self {
        match path {
            "/api/v1/accounts" => Route::Accounts,
            "/api/v1/sessions" => Route::Sessions,
            "/api/v1/session" => Route::Session,
            "/api/v1/posts" => Route::Posts,
            "/api/v1/timeline" => Route::Timeline,
            "/api/v1/internal/publishers" => Route::Publishers,
            "/legacy/register.do" => Route::LegacyRegister,
            "/__demo/stats" => Route::HookStats,
            "/__demo/requests" => Route::HookRequests,
            "/__demo/reset" => Route::HookReset,
            "/__demo/faults" => Route::HookFaults,
            "/__demo/publishers" => Route::HookPublishers,
            _ => {
                let param = |prefix: &str| {
                    path.strip_prefix(prefix)
                        .filter(|rest| !rest.is_empty() && !rest.contains('/'))
                };
                if let Some(id) = param("/api/v1/accounts/") {
                    Route::Account(id)
                } else if let Some(id) = param("/api/v1/posts/") {
                    Route::Post(id)
                } else if let Some(id) = param("/api/v1/internal/publishers/") {
                    Route::Publisher(id)
                } else if let Some(id) = param("/__demo/publishers/") {
                    Route::HookPublisher(id)
                } else {
                    Route::NotFound
                }
            }
        }
    }

    /// The methods the endpoint answers, for `405` and its `Allow` header.
    fn allow(self) -> &'static str {
        match self {
            Route::Accounts
            | Route::Sessions
            | Route::Posts
            | Route::LegacyRegister
            | Route::HookReset => "POST",
            Route::HookFaults | Route::HookPublishers => "GET, HEAD, POST",
            Route::HookPublisher(_) => "DELETE",
            _ => "GET, HEAD",
        }
    }

    /// The counter a request to this route bumps (`None`: not counted).
    fn counter(self, method: &Method) -> Option<Counter> {
        let read = *method == Method::GET || *method == Method::HEAD;
        match self {
            Route::Accounts if *method == Method::POST => Some(Counter::Register),
            Route::LegacyRegister if *method == Method::POST => Some(Counter::LegacyRegister),
            Route::Posts if *method == Method::POST => Some(Counter::Posts),
            Route::Sessions if *method == Method::POST => Some(Counter::Sessions),
            Route::Session if read => Some(Counter::Sessions),
            Route::Publishers | Route::Publisher(_) => Some(Counter::Internal),
            _ if read => Some(Counter::Reads),
            _ => None,
        }
    }
}

/// Serves one request; never fails (errors are responses).
pub async fn handle(app: Arc<App>, req: Request<Incoming>) -> Result<Resp, Infallible> {
    let (parts, incoming) = req.into_parts();
    let hook = parts.uri.path().starts_with(HOOK_PREFIX) || parts.uri.path() == "/__demo";
    let body = Limited::new(incoming, MAX_BODY_BYTES).collect().await;
    let (body, body_error) = match body {
        Ok(collected) => (collected.to_bytes(), None),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => (
            Bytes::new(),
            Some(error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large",
            )),
        ),
        Err(_) => (
            Bytes::new(),
            Some(error(
                StatusCode::BAD_REQUEST,
                "could not read request body",
            )),
        ),
    };

    let route = Route::of(parts.uri.path());
    if !hook {
        app.log.record(&parts, &body);
        if let Some(counter) = route.counter(&parts.method) {
            app.stats.count(counter);
        }
    }

    let mut resp = match body_error {
        Some(resp) => resp,
        None => dispatch(&app, route, &parts, &body).await,
    };
    finish(&parts, &mut resp);
    Ok(resp)
}

async fn dispatch(app: &App, route: Route<'_>, parts: &Parts, body: &[u8]) -> Resp {
    let method = &parts.method;
    let headers = &parts.headers;
    let query = parts.uri.query();
    let get = *method == Method::GET || *method == Method::HEAD;
    let post = *method == Method::POST;
    match route {
        Route::Accounts if post => api::register(app, body),
        Route::Account(id) if get => api::account(app, id, method, headers),
        Route::Sessions if post => api::login(app, body),
        Route::Session if get => api::session(app, headers),
        Route::Posts if post => api::create_post(app, headers, body),
        Route::Post(id) if get => api::post(app, id, method, headers),
        Route::Timeline if get => api::timeline(app, query, method, headers),
        Route::Publishers if get => internal::list(app).await,
        Route::Publisher(id) if get => internal::one(app, id).await,
        Route::LegacyRegister if post => legacy::register(app, body),
        Route::HookStats if get => hooks::stats(app),
        Route::HookRequests if get => hooks::requests(app, query),
        Route::HookReset if post => hooks::reset(app),
        Route::HookFaults if get => hooks::faults(app),
        Route::HookFaults if post => hooks::set_faults(app, body),
        Route::HookPublishers if get => hooks::publishers(app),
        Route::HookPublishers if post => hooks::approve(app, body),
        Route::HookPublisher(id) if *method == Method::DELETE => hooks::revoke(app, id),
        Route::NotFound => error(StatusCode::NOT_FOUND, "not found"),
        _ => {
            let mut resp = error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
            resp.headers_mut()
                .insert(ALLOW, HeaderValue::from_static(route.allow()));
            resp
        }
    }
}

/// Response extensions common to every endpoint.
fn finish(parts: &Parts, resp: &mut Resp) {
    resp.headers_mut()
        .insert(SERVER, HeaderValue::from_static("imgate-demo"));
    let chunked = parts
        .headers
        .get(CHUNKED_HEADER)
        .is_some_and(|v| v.as_bytes() == b"1" || v.as_bytes().eq_ignore_ascii_case(b"true"));
    if chunked {
        let body = std::mem::take(resp.body_mut());
        *resp.body_mut() = body.into_chunked();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(Route::of("/api/v1/accounts"), Route::Accounts);
        assert_eq!(Route::of("/api/v1/accounts/u-a"), Route::Account("u-a"));
        assert_eq!(Route::of("/api/v1/accounts/"), Route::NotFound);
        assert_eq!(Route::of("/api/v1/accounts/a/b"), Route::NotFound);
        assert_eq!(Route::of("/api/v1/posts/p-1"), Route::Post("p-1"));
        assert_eq!(
            Route::of("/api/v1/internal/publishers/u-x"),
            Route::Publisher("u-x")
        );
        assert_eq!(
            Route::of("/__demo/publishers/u-x"),
            Route::HookPublisher("u-x")
        );
        assert_eq!(Route::of("/"), Route::NotFound);
    }

    #[test]
    fn counters() {
        assert_eq!(
            Route::Accounts.counter(&Method::POST),
            Some(Counter::Register)
        );
        assert_eq!(Route::Accounts.counter(&Method::GET), Some(Counter::Reads));
        assert_eq!(Route::Accounts.counter(&Method::PUT), None);
        assert_eq!(
            Route::Session.counter(&Method::GET),
            Some(Counter::Sessions)
        );
        assert_eq!(
            Route::Publisher("x").counter(&Method::GET),
            Some(Counter::Internal)
        );
        assert_eq!(Route::NotFound.counter(&Method::GET), Some(Counter::Reads));
    }
}
