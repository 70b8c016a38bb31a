//! The first bytes of a client connection, read under a deadline.
//!
//! With h2c on, pingora tells HTTP/2 (prior knowledge) from HTTP/1.1 by waiting for the first 24 bytes of a new
//! connection (`try_peek`, a `read_exact` with no deadline) and comparing them with the HTTP/2 preface. A
//! connection that sends nothing, or fewer than 24 bytes, was held forever: a valid `GET / HTTP/1.0` with no
//! headers (18 bytes) got no answer, and idle connections piled up past `[listen] idle_timeout` until the
//! process ran out of file descriptors. [`FirstBytes`] wraps the proxy's server app: it reads a new cleartext
//! connection's first bytes itself, under the deadline, only until they either are the preface or cannot be
//! (an HTTP/1 request differs at its first byte), and hands pingora the connection with those bytes put back
//! ([`Replayed`]), whose `try_peek` answers at once. A connection that sends nothing conclusive in time is
//! closed.
//!
//! The wrapper also sees every response head the proxy writes: given the live error envelope
//! ([`FirstBytes::with_error_bodies`]), it answers pingora's own bare error responses (a request head pingora
//! cannot parse, `CONNECT`) with the gateway's JSON errors instead (see [`super::canned`]), over TLS too.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use pingora::apps::ServerApp;
use pingora::protocols::raw_connect::ProxyDigest;
use pingora::protocols::tls::{SslDigest, TlsRef};
use pingora::protocols::{
    GetProxyDigest, GetSocketDigest, GetTimingDigest, Peek, Shutdown, SocketDigest, Ssl, Stream,
    TimingDigest, UniqueID, UniqueIDType, ALPN,
};
use pingora::server::ShutdownWatch;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

use super::canned::{self, ErrorBodies};

/// What an HTTP/2 client with prior knowledge sends first (RFC 9113, section 3.4).
pub const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// A server app whose new cleartext connections must show their first bytes within `deadline`.
pub struct FirstBytes<A> {
    inner: Arc<A>,
    deadline: Duration,
    errors: Option<ErrorBodies>,
}

impl<A> FirstBytes<A> {
    pub fn new(inner: A, deadline: Duration) -> Self {
        FirstBytes {
            inner: Arc::new(inner),
            deadline,
            errors: None,
        }
    }

    /// Answers pingora's own bare error responses with JSON bodies rendered by `errors`.
    pub fn with_error_bodies(mut self, errors: ErrorBodies) -> Self {
        self.errors = Some(errors);
        self
    }

    /// The wrapped app (to set its options before the service starts).
    pub fn inner_mut(&mut self) -> Option<&mut A> {
        Arc::get_mut(&mut self.inner)
    }
}

/// Whether `seen` settles the protocol: all of the preface, or bytes the preface does not start with.
fn conclusive(seen: &[u8]) -> bool {
    seen.len() >= H2_PREFACE.len() || !H2_PREFACE.starts_with(seen)
}

/// Reads from `stream` until [`conclusive`]. `Ok(None)`: the client closed the connection first.
async fn read_first_bytes(stream: &mut Stream) -> io::Result<Option<Vec<u8>>> {
    let mut seen = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !conclusive(&seen) {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        seen.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
    Ok(Some(seen))
}

#[async_trait]
impl<A: ServerApp + Send + Sync + 'static> ServerApp for FirstBytes<A> {
    async fn process_new(
        self: &Arc<Self>,
        mut stream: Stream,
        shutdown: &ShutdownWatch,
    ) -> Option<Stream> {
        // Over TLS the protocol comes from ALPN, and pingora never peeks.
        if stream.get_ssl_digest().is_some() {
            let stream: Stream = match &self.errors {
                Some(errors) => {
                    Box::new(Replayed::new(Vec::new(), stream).with_error_bodies(errors.clone()))
                }
                None => stream,
            };
            return self.inner.process_new(stream, shutdown).await;
        }
        let seen = match tokio::time::timeout(self.deadline, read_first_bytes(&mut stream)).await {
            Ok(Ok(Some(seen))) => seen,
            Ok(Ok(None)) => return None,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "client connection failed before its first request");
                return None;
            }
            Err(_) => {
                tracing::debug!(
                    deadline = ?self.deadline,
                    "client connection sent no request in time: closed"
                );
                return None;
            }
        };
        let mut replayed = Replayed::new(seen, stream);
        if let Some(errors) = &self.errors {
            replayed = replayed.with_error_bodies(errors.clone());
        }
        self.inner.process_new(Box::new(replayed), shutdown).await
    }

    async fn cleanup(&self) {
        self.inner.cleanup().await
    }
}

/// A connection whose first bytes were already read: they are read again first, then the connection itself.
pub struct Replayed {
    head: Vec<u8>,
    /// How much of `head` has been read again.
    at: usize,
    inner: Stream,
    errors: Option<ErrorBodies>,
    /// A JSON error being written in place of pingora's bare one.
    rewrite: Option<Rewrite>,
}

/// The response written instead of a pingora error head of `replaces` bytes; `sent` of it are out.
struct Rewrite {
    bytes: Vec<u8>,
    sent: usize,
    replaces: usize,
}

impl Replayed {
    pub fn new(head: Vec<u8>, inner: Stream) -> Self {
        Replayed {
            head,
            at: 0,
            inner,
            errors: None,
            rewrite: None,
        }
    }

    /// Writes pingora's own bare error responses as JSON errors rendered by `errors` ([`super::canned`]).
    pub fn with_error_bodies(mut self, errors: ErrorBodies) -> Self {
        self.errors = Some(errors);
        self
    }

    /// The JSON error that replaces `written` when it is a pingora error head.
    fn replacement(&self, written: &[u8]) -> Option<Rewrite> {
        let errors = self.errors.as_ref()?;
        let canned = canned::recognise(written)?;
        let rejection = canned::rejection(canned.status);
        let request_id = uuid::Uuid::new_v4().to_string();
        let body = errors(&rejection, &request_id);
        tracing::info!(
            target: "imgate::access",
            status = canned.status,
            decision = %rejection.code,
            request_id = %request_id,
            "request refused by pingora before routing"
        );
        Some(Rewrite {
            bytes: canned::response(&canned, &body, &request_id),
            sent: 0,
            replaces: written.len(),
        })
    }

    fn pending(&self) -> &[u8] {
        self.head.get(self.at..).unwrap_or_default()
    }
}

impl fmt::Debug for Replayed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replayed")
            .field("pending", &self.pending().len())
            .field("inner", &self.inner)
            .finish()
    }
}

impl AsyncRead for Replayed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let pending = self.pending();
        if !pending.is_empty() {
            let n = pending.len().min(buf.remaining());
            buf.put_slice(pending.get(..n).unwrap_or_default());
            self.at += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Replayed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.rewrite.is_none() {
            this.rewrite = this.replacement(buf);
        }
        let Some(rewrite) = this.rewrite.as_mut() else {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        };
        // The caller sees its head written only once all of the replacement is out; until then it retries
        // the same write (the `AsyncWrite` contract after `Pending`).
        while let Some(rest) = rewrite.bytes.get(rewrite.sent..).filter(|r| !r.is_empty()) {
            match Pin::new(&mut this.inner).poll_write(cx, rest) {
                Poll::Ready(Ok(0)) => {
                    this.rewrite = None;
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => rewrite.sent += n,
                Poll::Ready(Err(e)) => {
                    this.rewrite = None;
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
        let replaced = rewrite.replaces;
        this.rewrite = None;
        Poll::Ready(Ok(replaced))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        // A response head is written on its own: the first slice goes through `poll_write`'s check.
        if self.errors.is_some() {
            if let Some(first) = bufs.iter().find(|b| !b.is_empty()) {
                if self.rewrite.is_some() || first.starts_with(b"HTTP/1.") {
                    return self.poll_write(cx, first);
                }
            }
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[async_trait]
impl Shutdown for Replayed {
    async fn shutdown(&mut self) {
        self.inner.shutdown().await
    }
}

impl UniqueID for Replayed {
    fn id(&self) -> UniqueIDType {
        self.inner.id()
    }
}

impl Ssl for Replayed {
    fn get_ssl(&self) -> Option<&TlsRef> {
        self.inner.get_ssl()
    }

    fn get_ssl_digest(&self) -> Option<Arc<SslDigest>> {
        self.inner.get_ssl_digest()
    }

    fn selected_alpn_proto(&self) -> Option<ALPN> {
        self.inner.selected_alpn_proto()
    }
}

impl GetTimingDigest for Replayed {
    fn get_timing_digest(&self) -> Vec<Option<TimingDigest>> {
        self.inner.get_timing_digest()
    }

    fn get_read_pending_time(&self) -> Duration {
        self.inner.get_read_pending_time()
    }

    fn get_write_pending_time(&self) -> Duration {
        self.inner.get_write_pending_time()
    }
}

impl GetProxyDigest for Replayed {
    fn get_proxy_digest(&self) -> Option<Arc<ProxyDigest>> {
        self.inner.get_proxy_digest()
    }

    fn set_proxy_digest(&mut self, digest: ProxyDigest) {
        self.inner.set_proxy_digest(digest)
    }
}

impl GetSocketDigest for Replayed {
    fn get_socket_digest(&self) -> Option<Arc<SocketDigest>> {
        self.inner.get_socket_digest()
    }

    fn set_socket_digest(&mut self, socket_digest: SocketDigest) {
        self.inner.set_socket_digest(socket_digest)
    }
}

#[async_trait]
impl Peek for Replayed {
    /// Answers from the bytes already read. They are either the whole preface or bytes that cannot begin it
    /// ([`conclusive`]), so whatever follows them cannot change what a peek for the preface decides; that part
    /// of `buf` is zeroed. Never blocks.
    async fn try_peek(&mut self, buf: &mut [u8]) -> io::Result<bool> {
        let pending = self.pending();
        let n = pending.len().min(buf.len());
        let (known, rest) = buf.split_at_mut(n);
        known.copy_from_slice(pending.get(..n).unwrap_or_default());
        rest.fill(0);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncWriteExt, DuplexStream};

    fn pair() -> (Stream, DuplexStream) {
        let (server, client) = tokio::io::duplex(4096);
        (Box::new(server), client)
    }

    #[test]
    fn conclusive_once_the_preface_is_whole_or_impossible() {
        assert!(!conclusive(b""));
        assert!(!conclusive(b"PRI * HTTP/2"));
        assert!(conclusive(H2_PREFACE));
        assert!(conclusive(b"G"));
        // `POST` and `PUT` share the preface's first letter only.
        assert!(!conclusive(b"P"));
        assert!(conclusive(b"PO"));
        assert!(conclusive(b"PU"));
    }

    #[tokio::test]
    async fn a_short_http1_request_is_settled_at_its_first_bytes() {
        let (mut server, mut client) = pair();
        client.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
        let seen = read_first_bytes(&mut server).await.unwrap().unwrap();
        assert_eq!(seen, b"GET / HTTP/1.0\r\n\r\n");
        // Put back: read again whole, then what the client sends next.
        let mut replayed = Replayed::new(seen, server);
        let mut peek = [1u8; 24];
        assert!(replayed.try_peek(&mut peek).await.unwrap());
        assert_ne!(&peek[..], H2_PREFACE);
        assert_eq!(&peek[..18], b"GET / HTTP/1.0\r\n\r\n");
        client.write_all(b"more").await.unwrap();
        let mut got = vec![0u8; 22];
        replayed.read_exact(&mut got).await.unwrap();
        assert_eq!(got, b"GET / HTTP/1.0\r\n\r\nmore");
    }

    #[tokio::test]
    async fn the_preface_is_read_whole_and_peeked_again() {
        let (mut server, mut client) = pair();
        // Sent in pieces, as a slow client might.
        client.write_all(&H2_PREFACE[..5]).await.unwrap();
        let reading = tokio::spawn(async move {
            let seen = read_first_bytes(&mut server).await;
            (seen, server)
        });
        tokio::task::yield_now().await;
        client.write_all(&H2_PREFACE[5..]).await.unwrap();
        let (seen, server) = reading.await.unwrap();
        let seen = seen.unwrap().unwrap();
        assert_eq!(seen, H2_PREFACE);
        let mut replayed = Replayed::new(seen, server);
        let mut peek = [0u8; 24];
        assert!(replayed.try_peek(&mut peek).await.unwrap());
        assert_eq!(&peek[..], H2_PREFACE);
        let mut got = [0u8; 24];
        replayed.read_exact(&mut got).await.unwrap();
        assert_eq!(&got[..], H2_PREFACE);
    }

    #[tokio::test]
    async fn a_silent_client_is_not_waited_for_past_the_deadline() {
        let (mut server, _client) = pair();
        let waited =
            tokio::time::timeout(Duration::from_millis(50), read_first_bytes(&mut server)).await;
        assert!(
            waited.is_err(),
            "nothing was sent, so the read must still be pending"
        );
    }

    /// pingora's bare error head goes out as the JSON error, whole, even through a pipe too small for it (so
    /// the write is `Pending` part-way and retried); everything else passes as written.
    #[tokio::test]
    async fn pingoras_bare_error_is_written_as_the_json_error_and_nothing_else_changes() {
        use tokio::io::AsyncReadExt;
        let (server, mut client) = tokio::io::duplex(64);
        let errors: ErrorBodies =
            Arc::new(|rejection: &imgate_core::decision::Rejection, id: &str| {
                format!("{{\"code\":\"{}\",\"id\":\"{id}\"}}", rejection.code).into_bytes()
            });
        let mut replayed = Replayed::new(Vec::new(), Box::new(server)).with_error_bodies(errors);
        let normal = b"HTTP/1.1 404 Not Found\r\nServer: Pingora\r\nContent-Length: 2\r\nX-Request-Id: r\r\n\r\n{}";
        let bare = b"HTTP/1.1 400 Bad Request\r\nServer: Pingora\r\nDate: Sun, 06 Dec 2026 14:31:31 GMT\r\n\
                     Content-Length: 0\r\nCache-Control: private, no-store\r\nConnection: close\r\n\r\n";
        let writer = tokio::spawn(async move {
            replayed.write_all(normal).await.unwrap();
            replayed.write_all(bare).await.unwrap();
            AsyncWriteExt::shutdown(&mut replayed).await.unwrap();
        });
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        writer.await.unwrap();
        let (first, second) = got.split_at(normal.len());
        assert_eq!(first, &normal[..]);
        let text = String::from_utf8_lossy(second);
        assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{text}");
        assert!(
            text.contains("\r\nDate: Sun, 06 Dec 2026 14:31:31 GMT\r\n"),
            "{text}"
        );
        assert!(
            text.contains("\r\nContent-Type: application/json\r\n"),
            "{text}"
        );
        assert!(!text.contains("Pingora"), "{text}");
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            body.starts_with("{\"code\":\"request.malformed\",\"id\":\""),
            "{body}"
        );
        assert!(
            head.contains(&format!("\r\nContent-Length: {}\r\n", body.len())),
            "{head}"
        );
    }

    /// Without error bodies (an embedder's choice), nothing is rewritten.
    #[tokio::test]
    async fn without_error_bodies_pingoras_answer_passes_unchanged() {
        use tokio::io::AsyncReadExt;
        let (server, mut client) = tokio::io::duplex(4096);
        let mut replayed = Replayed::new(Vec::new(), Box::new(server));
        let bare = b"HTTP/1.1 400 Bad Request\r\nServer: Pingora\r\nContent-Length: 0\r\n\r\n";
        replayed.write_all(bare).await.unwrap();
        AsyncWriteExt::shutdown(&mut replayed).await.unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, bare);
    }

    #[tokio::test]
    async fn a_client_that_closes_first_is_reported_as_closed() {
        let (mut server, client) = pair();
        drop(client);
        assert!(read_first_bytes(&mut server).await.unwrap().is_none());
    }
}
