//! The demo server's state before each measurement: reset, log in, seed the timeline. Every
//! target starts from the same state, so the same request costs the same on each.

use crate::conn::{Answer, Conn};
use crate::scenario::{Tokens, SEED_POSTS};
use crate::texts;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{Method, Request};
use http_body_util::Full;
use std::net::SocketAddr;

/// A small JSON request (setup traffic, not measured).
pub fn json_request(
    method: Method,
    path: &str,
    host: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> Result<Request<Full<Bytes>>, String> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(HOST, host);
    if let Some(token) = token {
        builder = builder.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some(value) => {
            builder = builder.header(CONTENT_TYPE, "application/json");
            Bytes::from(value.to_string())
        }
        None => Bytes::new(),
    };
    builder
        .body(Full::new(body))
        .map_err(|e| format!("building {path}: {e}"))
}

async fn expect_status(
    conn: &mut Conn,
    request: Request<Full<Bytes>>,
    status: u16,
) -> Result<Answer, String> {
    let what = format!("{} {}", request.method(), request.uri());
    let answer = conn.send(request).await?;
    if answer.status.as_u16() != status {
        return Err(format!(
            "{what}: status {} (expected {status}): {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        ));
    }
    Ok(answer)
}

/// `POST /__demo/reset` on the demo server itself (never reachable through imgate).
pub async fn reset(demo: SocketAddr) -> Result<(), String> {
    let mut conn = Conn::connect(demo).await?;
    let host = demo.to_string();
    expect_status(
        &mut conn,
        json_request(Method::POST, "/__demo/reset", &host, None, None)?,
        200,
    )
    .await
    .map(drop)
}

async fn login(conn: &mut Conn, host: &str, username: &str) -> Result<String, String> {
    let body = serde_json::json!({ "username": username, "password": format!("{username}-pass") });
    let request = json_request(Method::POST, "/api/v1/sessions", host, None, Some(body))?;
    let answer = expect_status(conn, request, 201).await?;
    let value: serde_json::Value =
        serde_json::from_slice(&answer.body).map_err(|e| format!("login {username}: {e}"))?;
    value
        .get("token")
        .and_then(|t| t.as_str())
        .map(str::to_owned)
        .ok_or_else(|| format!("login {username}: no token in {value}"))
}

/// Logs the seed accounts in on `addr` and, when `seed` is set, publishes the timeline's posts
/// (neutral texts by alice, xinhua and mallory in turn, so imgate lets them through too).
pub async fn prepare(addr: SocketAddr, host: &str, seed: bool) -> Result<Tokens, String> {
    let mut conn = Conn::connect(addr).await?;
    let alice = login(&mut conn, host, "alice").await?;
    let xinhua = login(&mut conn, host, "xinhua").await?;
    if seed {
        let mallory = login(&mut conn, host, "mallory").await?;
        for n in 0..SEED_POSTS {
            let token = [&alice, &xinhua, &mallory][n % 3];
            let (title, content) = texts::timeline_post(n + 1);
            let body = serde_json::json!({ "title": title, "content": content });
            let request =
                json_request(Method::POST, "/api/v1/posts", host, Some(token), Some(body))?;
            expect_status(&mut conn, request, 201).await?;
        }
    }
    Ok(Tokens { alice, xinhua })
}
