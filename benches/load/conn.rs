//! One HTTP/1.1 keep-alive client connection (hyper 1's low-level client): the generator's
//! unit of concurrency, also used for seeding and the correctness checks.
//!
//! hyper's `client::conn` has no pool, no retries and no redirects: what is measured is one
//! request on one connection, as wrk does.

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use tokio::net::TcpStream;

/// A response read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
}

pub struct Conn {
    addr: SocketAddr,
    sender: SendRequest<Full<Bytes>>,
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> Result<Conn, String> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        // Small requests: do not let Nagle delay them (wrk does the same).
        stream
            .set_nodelay(true)
            .map_err(|e| format!("set_nodelay: {e}"))?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake {addr}: {e}"))?;
        tokio::spawn(async move {
            // Ends when the sender is dropped or the peer closes; errors surface on send.
            let _ = connection.await;
        });
        Ok(Conn { addr, sender })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends one request and reads its whole body. If the server closed the connection after
    /// the previous answer (`Connection: close`), reconnects first: that is not an error.
    pub async fn send(&mut self, request: Request<Full<Bytes>>) -> Result<Answer, String> {
        if self.sender.ready().await.is_err() {
            *self = Conn::connect(self.addr).await?;
        }
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("response body: {e}"))?
            .to_bytes();
        Ok(Answer { status, body })
    }
}

/// The `code` of a JSON error envelope `{"error":{"code":..}}` (the shipped config's shape),
/// if the body is one.
pub fn error_code(body: &[u8]) -> Option<String> {
    if !body.starts_with(b"{") {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value
        .pointer("/error/code")
        .and_then(|c| c.as_str())
        .map(str::to_owned)
}
