//! The admin listener (loopback by default): health, readiness, metrics, reload and the
//! active policy. With a token configured, everything but `/healthz` and `/readyz`
//! needs `Authorization: Bearer <token>`.

use super::metrics::Metrics;
use super::reload::Reloader;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// What the admin endpoints serve.
/// How long the admin listener waits for a request head (on a new connection and between keep-alive
/// requests) before closing the connection.
const ADMIN_HEAD_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Admin {
    pub reloader: Arc<Reloader>,
    pub metrics: Metrics,
    pub token: Option<String>,
    pub upstreams: Vec<String>,
}

/// Binds `addr` now (so a bad address fails the start) and serves on `runtime`.
pub fn start(
    admin: Admin,
    addr: &str,
    runtime: &tokio::runtime::Handle,
) -> std::io::Result<SocketAddr> {
    let listener = {
        let _enter = runtime.enter();
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        TcpListener::from_std(std_listener)?
    };
    let local = listener.local_addr()?;
    let admin = Arc::new(admin);
    runtime.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let admin = Arc::clone(&admin);
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let admin = Arc::clone(&admin);
                    async move { Ok::<_, std::convert::Infallible>(admin.handle(request).await) }
                });
                // A request head must arrive within ADMIN_HEAD_TIMEOUT (hyper's default waits forever, so
                // half-sent requests could hold admin connections open).
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(ADMIN_HEAD_TIMEOUT)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    tracing::info!(address = %local, "admin listener started");
    Ok(local)
}

impl Admin {
    async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = request.uri().path().to_owned();
        let method = request.method().clone();
        let open = matches!(path.as_str(), "/healthz" | "/readyz");
        if !open && !self.authorised(&request) {
            return json_response(
                StatusCode::UNAUTHORIZED,
                json!({"error": {"code": "admin.unauthorized", "message": "send `Authorization: Bearer <admin token>`"}}),
            );
        }
        // Drain any request body (bounded) so keep-alive works.
        let _ = tokio::time::timeout(Duration::from_secs(5), request.into_body().collect()).await;
        match (method, path.as_str()) {
            (Method::GET, "/healthz") => json_response(StatusCode::OK, json!({"status": "ok"})),
            (Method::GET, "/readyz") => self.readiness().await,
            (Method::GET, "/metrics") => {
                let text = self.metrics.render(&self.reloader.policy().load());
                let mut response = Response::new(Full::new(Bytes::from(text)));
                response.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("text/plain; version=0.0.4"),
                );
                response
            }
            (Method::POST, "/admin/reload") => {
                let reloader = Arc::clone(&self.reloader);
                match tokio::task::spawn_blocking(move || reloader.reload("admin")).await {
                    Ok(Ok(done)) => json_response(
                        StatusCode::OK,
                        json!({"status": "reloaded", "sha256": done.sha256, "needs_restart": done.needs_restart}),
                    ),
                    Ok(Err(error)) => json_response(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        json!({"error": {"code": "admin.reload_refused", "message": error.to_string()}}),
                    ),
                    Err(_) => json_response(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        json!({"error": {"code": "admin.reload_failed", "message": "the reload task failed"}}),
                    ),
                }
            }
            (Method::GET, "/admin/policy") => {
                let policy = self.reloader.policy().load();
                let loaded_at = policy
                    .source
                    .loaded_at
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                let routes: Vec<&str> = policy
                    .routes
                    .routes()
                    .iter()
                    .map(|r| r.name.as_str())
                    .collect();
                json_response(
                    StatusCode::OK,
                    json!({
                        "path": policy.source.path.display().to_string(),
                        "sha256": policy.source.sha256,
                        "loaded_at": loaded_at,
                        "routes": routes,
                        "categories": policy.classifier.categories().collect::<Vec<_>>(),
                    }),
                )
            }
            _ => json_response(
                StatusCode::NOT_FOUND,
                json!({"error": {"code": "admin.not_found", "message": "try /healthz, /readyz, /metrics, /admin/policy or POST /admin/reload"}}),
            ),
        }
    }

    fn authorised(&self, request: &Request<Incoming>) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let Some(value) = request.headers().get(http::header::AUTHORIZATION) else {
            return false;
        };
        let Some(given) = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) else {
            return false;
        };
        constant_time_eq(given.as_bytes(), token.as_bytes())
    }

    /// Ready when at least one upstream accepts a TCP connection.
    async fn readiness(&self) -> Response<Full<Bytes>> {
        let mut reachable = Vec::new();
        for address in &self.upstreams {
            let ok = tokio::time::timeout(
                Duration::from_secs(1),
                tokio::net::TcpStream::connect(address.as_str()),
            )
            .await
            .is_ok_and(|r| r.is_ok());
            reachable.push(json!({"address": address, "reachable": ok}));
        }
        let ready = reachable.iter().any(|r| r["reachable"] == true);
        let policy = self.reloader.policy().load();
        let lookups = json!({
            "identity": policy.identity.as_ref().map(|i| i.stats().errors),
            "approval": policy.approval.as_ref().map(|a| a.stats().snapshot_age.map(|d| d.as_secs_f64())),
        });
        let status = if ready {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        json_response(
            status,
            json!({"ready": ready, "upstreams": reachable, "lookups": lookups}),
        )
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}
