//! The JSON API (`/api/v1/...`) of the legacy IM server.
//!
//! Deliberately lenient where old backends are lenient (no content-type check, unknown keys
//! ignored or kept as profile keys) and strict where they are strict (well-formed JSON, the
//! required fields, credentials).

use std::sync::Arc;

use http::header::{HeaderMap, HeaderValue, WWW_AUTHENTICATE};
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::app::App;
use crate::conditional;
use crate::http::{bearer_token, error, json, json_value, query_param, Resp};
use crate::store::{
    is_profile_key, Account, NewAccount, NewPost, PrivateData, RegisterError, Reprint,
    DEFAULT_TIMELINE_LIMIT, MAX_TIMELINE_LIMIT,
};

/// `POST /api/v1/accounts`
pub fn register(app: &App, body: &[u8]) -> Resp {
    let mut object = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => object,
        Ok(_) => return error(StatusCode::BAD_REQUEST, "body must be a JSON object"),
        Err(err) => return error(StatusCode::BAD_REQUEST, &format!("malformed JSON: {err}")),
    };
    let new = match new_account(&mut object) {
        Ok(new) => new,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    match app.store.register(new) {
        Ok(account) => json(StatusCode::CREATED, account.doc().body().clone()),
        Err(err @ RegisterError::UsernameTaken) => error(StatusCode::CONFLICT, &err.to_string()),
        Err(err) => error(StatusCode::BAD_REQUEST, &err.to_string()),
    }
}

fn new_account(object: &mut Map<String, Value>) -> Result<NewAccount, &'static str> {
    let username = take_string(object, "username")?.ok_or("username is required")?;
    let password = take_string(object, "password")?.ok_or("password is required")?;
    let display_name = take_string(object, "display_name")?;
    let private = PrivateData {
        real_name: take_text(object, "real_name"),
        id_number: take_text(object, "id_number"),
        phone: take_text(object, "phone"),
        agreement: object.remove("agreement"),
    };
    let profile = std::mem::take(object)
        .into_iter()
        .filter(|(key, _)| is_profile_key(key))
        .collect();
    Ok(NewAccount {
        username,
        password,
        display_name,
        private,
        profile,
    })
}

/// A string field; present with another type is an error.
fn take_string(
    object: &mut Map<String, Value>,
    key: &'static str,
) -> Result<Option<String>, &'static str> {
    match object.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(match key {
            "username" => "username must be a string",
            "password" => "password must be a string",
            _ => "display_name must be a string",
        }),
    }
}

/// Personal data is stored as text whatever its JSON type, like a legacy VARCHAR column.
fn take_text(object: &mut Map<String, Value>, key: &str) -> Option<String> {
    match object.remove(key)? {
        Value::Null => None,
        Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

/// `POST /api/v1/sessions`
pub fn login(app: &App, body: &[u8]) -> Resp {
    let credentials: Credentials = match serde_json::from_slice(body) {
        Ok(c) => c,
        Err(err) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("malformed request: {err}"),
            )
        }
    };
    match app
        .store
        .login(&credentials.username, &credentials.password)
    {
        Some((token, account)) => json_value(
            StatusCode::CREATED,
            &serde_json::json!({ "token": token, "account_id": account.id() }),
        ),
        None => error(StatusCode::UNAUTHORIZED, "invalid username or password"),
    }
}

/// `GET /api/v1/session`: token introspection.
pub fn session(app: &App, headers: &HeaderMap) -> Resp {
    match authenticate(app, headers) {
        Some(account) => json_value(
            StatusCode::OK,
            &serde_json::json!({ "account_id": account.id(), "username": account.username() }),
        ),
        None => unauthorized(),
    }
}

/// The account behind the request's bearer token.
fn authenticate(app: &App, headers: &HeaderMap) -> Option<Arc<Account>> {
    bearer_token(headers).and_then(|token| app.store.session(token))
}

fn unauthorized() -> Resp {
    let mut resp = error(StatusCode::UNAUTHORIZED, "missing or unknown token");
    resp.headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    resp
}

#[derive(Deserialize)]
struct PostIn {
    title: Option<String>,
    content: String,
    category: Option<String>,
    reprint: Option<ReprintIn>,
}

#[derive(Deserialize)]
struct ReprintIn {
    url: String,
    title: Option<String>,
    source: Option<String>,
}

/// `POST /api/v1/posts`
pub fn create_post(app: &App, headers: &HeaderMap, body: &[u8]) -> Resp {
    let Some(author) = authenticate(app, headers) else {
        return unauthorized();
    };
    let input: PostIn = match serde_json::from_slice(body) {
        Ok(input) => input,
        Err(err) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("malformed request: {err}"),
            )
        }
    };
    let new = NewPost {
        title: input.title,
        content: input.content,
        category: input.category,
        reprint: input.reprint.map(|r| Reprint {
            url: r.url,
            title: r.title,
            source: r.source,
        }),
    };
    let post = app.store.create_post(&author, &new);
    json(StatusCode::CREATED, post.doc().body().clone())
}

/// `GET /api/v1/posts/{id}`
pub fn post(app: &App, id: &str, method: &Method, headers: &HeaderMap) -> Resp {
    match app.store.post(id) {
        Some(post) => conditional::serve(post.doc(), method, headers),
        None => error(StatusCode::NOT_FOUND, "no such post"),
    }
}

/// `GET /api/v1/accounts/{id}`
pub fn account(app: &App, id: &str, method: &Method, headers: &HeaderMap) -> Resp {
    match app.store.account(id) {
        Some(account) => conditional::serve(account.doc(), method, headers),
        None => error(StatusCode::NOT_FOUND, "no such account"),
    }
}

/// `GET /api/v1/timeline?limit=N`
pub fn timeline(app: &App, query: Option<&str>, method: &Method, headers: &HeaderMap) -> Resp {
    let limit = match query_param(query, "limit") {
        None => DEFAULT_TIMELINE_LIMIT,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) => n.min(MAX_TIMELINE_LIMIT),
            // Larger than usize: still a valid "as many as allowed".
            Err(_) if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) => {
                MAX_TIMELINE_LIMIT
            }
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "limit must be a non-negative integer",
                )
            }
        },
    };
    conditional::serve(&app.store.timeline(limit), method, headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::BodyExt;

    async fn body_of(resp: Resp) -> Bytes {
        match resp.into_body().collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(never) => match never {},
        }
    }

    fn app() -> App {
        App::new(None).unwrap()
    }

    #[tokio::test]
    async fn register_validates_and_keeps_profile_keys() {
        let app = app();
        let resp = register(&app, b"{");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let resp = register(&app, br#"{"username":"bob"}"#);
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let resp = register(&app, br#"{"username":7,"password":"x"}"#);
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let resp = register(
            &app,
            br#"{"username":"bob","password":"pw","id_number":11,"phone":"1","verified_publisher":true}"#,
        );
        assert_eq!(resp.status(), StatusCode::CREATED);
        assert_eq!(
            &body_of(resp).await[..],
            br#"{"account":{"id":"u-bob","username":"bob","display_name":"bob","verified_publisher":true}}"#
        );
        let resp = register(&app, br#"{"username":"bob","password":"pw"}"#);
        assert_eq!(resp.status(), StatusCode::CONFLICT);
    }

    #[test]
    fn timeline_limit_parsing() {
        let app = app();
        let get = |q: &str| timeline(&app, Some(q), &Method::GET, &HeaderMap::new()).status();
        assert_eq!(get("limit=5"), StatusCode::OK);
        assert_eq!(get("limit=99999999999999999999999"), StatusCode::OK);
        assert_eq!(get("limit=-1"), StatusCode::BAD_REQUEST);
        assert_eq!(get("limit="), StatusCode::BAD_REQUEST);
    }
}
