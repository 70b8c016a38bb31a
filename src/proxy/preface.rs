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
//! On an HTTP/1 connection the read goes on to the end of the first request head (its blank line), under the
//! same deadline: pingora times each read of a head, not the head, so a client that dribbled one header line
//! at a time ("slowloris") held its connection for as long as it kept dribbling. A first head that is not
//! whole in time is answered `408 request.timeout` and closed. (Later requests on a kept-alive connection are
//! read by pingora alone, one read at a time.)
//!
//! The wrapper also sees every response head the proxy writes: given the live error envelope
//! ([`FirstBytes::with_refusals`]), it answers pingora's own bare error responses (a request head pingora
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

use super::canned::{self, Refusals};

/// What an HTTP/2 client with prior knowledge sends first (RFC 9113, section 3.4).
pub const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// A server app whose new cleartext connections must show their first bytes within `deadline`.
pub struct FirstBytes<A> {
    inner: Arc<A>,
    deadline: Duration,
    refusals: Option<Refusals>,
}

impl<A> FirstBytes<A> {
    pub fn new(inner: A, deadline: Duration) -> Self {
        FirstBytes {
            inner: Arc::new(inner),
            deadline,
            refusals: None,
        }
    }

    /// Answers pingora's own bare error responses, and first heads not whole in time, as `refusals` says.
    pub fn with_refusals(mut self, refusals: Refusals) -> Self {
        self.refusals = Some(refusals);
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

/// How much of a first HTTP/1 request head is read ahead at most; a longer head is pingora's to judge (its own
/// limit is larger), and the deadline has then done its job.
const MAX_FIRST_HEAD: usize = 64 * 1024;

/// What a new connection has shown so far, read by [`read_first_head`].
#[derive(Debug, Default)]
struct FirstHead {
    seen: Vec<u8>,
    /// Where the search for the head's end resumes (the bytes before it hold no blank line).
    searched: usize,
    /// The whole head is there (or the HTTP/2 preface, or [`MAX_FIRST_HEAD`] bytes).
    whole: bool,
}

impl FirstHead {
    /// Takes in newly read bytes and tells whether the first head is now whole.
    fn take(&mut self, bytes: &[u8]) -> bool {
        self.seen.extend_from_slice(bytes);
        if !conclusive(&self.seen) {
            return false;
        }
        if self.seen.starts_with(H2_PREFACE) || self.seen.len() >= MAX_FIRST_HEAD {
            self.whole = true;
            return true;
        }
        // A head ends at its first empty line (CRLF CRLF; a bare LF LF is accepted as pingora's parser does).
        let from = self.searched.saturating_sub(3);
        let rest = self.seen.get(from..).unwrap_or_default();
        self.whole =
            rest.windows(2).any(|w| w == b"\n\n") || rest.windows(4).any(|w| w == b"\r\n\r\n");
        self.searched = self.seen.len();
        self.whole
    }

    /// Whether the connection began an HTTP/1 request (as opposed to nothing, or the HTTP/2 preface).
    fn is_http1(&self) -> bool {
        !self.seen.is_empty() && conclusive(&self.seen) && !self.seen.starts_with(H2_PREFACE)
    }
}

/// Reads from `stream` into `head` until its first request head is whole (see [`FirstHead::take`]).
/// `Ok(false)`: the client closed the connection first.
async fn read_first_head(stream: &mut Stream, head: &mut FirstHead) -> io::Result<bool> {
    let mut chunk = [0u8; 4096];
    while !head.whole {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(false);
        }
        head.take(chunk.get(..n).unwrap_or_default());
    }
    Ok(true)
}

/// Answers a first request head that did not arrive in time with `408 request.timeout`, as a JSON error.
async fn answer_head_timeout(stream: &mut Stream, refusals: &Refusals, deadline: Duration) {
    use tokio::io::AsyncWriteExt;
    let rejection = imgate_core::decision::Rejection::new(
        408,
        "request.timeout",
        format!(
            "The request head did not arrive within {} s: send the request line and headers at once.",
            deadline.as_secs()
        ),
    );
    let date = pingora::protocols::http::date::get_cached_date();
    let canned = canned::Canned {
        status: 408,
        reason: "Request Timeout",
        date: Some(date.as_bytes()),
    };
    let response = refusals.answer(
        &canned,
        &rejection,
        "first request head not whole in time: closed",
        deadline.as_secs_f64(),
    );
    // The client may be gone already; the connection closes either way.
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.write_all(&response)).await;
}

#[async_trait]
impl<A: ServerApp + Send + Sync + 'static> ServerApp for FirstBytes<A> {
    async fn process_new(
        self: &Arc<Self>,
        mut stream: Stream,
        shutdown: &ShutdownWatch,
    ) -> Option<Stream> {
        // Over TLS the protocol comes from ALPN, and pingora never peeks; HTTP/2 needs no head read.
        let tls = stream.get_ssl_digest().is_some();
        if tls && stream.selected_alpn_proto() == Some(ALPN::H2) {
            let stream: Stream = match &self.refusals {
                Some(refusals) => {
                    Box::new(Replayed::new(Vec::new(), stream).with_refusals(refusals.clone()))
                }
                None => stream,
            };
            return self.inner.process_new(stream, shutdown).await;
        }
        let mut head = FirstHead::default();
        match tokio::time::timeout(self.deadline, read_first_head(&mut stream, &mut head)).await {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => return None,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "client connection failed before its first request");
                return None;
            }
            Err(_) => {
                match &self.refusals {
                    Some(refusals) if head.is_http1() => {
                        answer_head_timeout(&mut stream, refusals, self.deadline).await
                    }
                    _ => tracing::debug!(
                        deadline = ?self.deadline,
                        "client connection sent no request in time: closed"
                    ),
                }
                return None;
            }
        }
        let mut replayed = Replayed::new(head.seen, stream);
        if let Some(refusals) = &self.refusals {
            replayed = replayed.with_refusals(refusals.clone());
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
    refusals: Option<Refusals>,
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
            refusals: None,
            rewrite: None,
        }
    }

    /// Writes pingora's own bare error responses as the JSON errors of `refusals` ([`super::canned`]).
    pub fn with_refusals(mut self, refusals: Refusals) -> Self {
        self.refusals = Some(refusals);
        self
    }

    /// The JSON error that replaces `written` when it is a pingora error head.
    fn replacement(&self, written: &[u8]) -> Option<Rewrite> {
        let refusals = self.refusals.as_ref()?;
        let canned = canned::recognise(written)?;
        let bytes = refusals.answer(
            &canned,
            &canned::rejection(canned.status),
            "request refused by pingora before routing",
            0.0,
        );
        Some(Rewrite {
            bytes,
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
        if self.refusals.is_some() {
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
        let mut head = FirstHead::default();
        assert!(read_first_head(&mut server, &mut head).await.unwrap());
        let seen = head.seen;
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
            let mut head = FirstHead::default();
            let whole = read_first_head(&mut server, &mut head).await;
            (whole, head.seen, server)
        });
        tokio::task::yield_now().await;
        client.write_all(&H2_PREFACE[5..]).await.unwrap();
        let (whole, seen, server) = reading.await.unwrap();
        assert!(whole.unwrap());
        assert_eq!(seen, H2_PREFACE);
        let mut replayed = Replayed::new(seen, server);
        let mut peek = [0u8; 24];
        assert!(replayed.try_peek(&mut peek).await.unwrap());
        assert_eq!(&peek[..], H2_PREFACE);
        let mut got = [0u8; 24];
        replayed.read_exact(&mut got).await.unwrap();
        assert_eq!(&got[..], H2_PREFACE);
    }

    /// A head sent a line at a time is not whole until its blank line, however long that takes.
    #[tokio::test]
    async fn a_dribbled_head_is_read_until_its_blank_line() {
        let (mut server, mut client) = pair();
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let mut head = FirstHead::default();
        let waited = tokio::time::timeout(
            Duration::from_millis(50),
            read_first_head(&mut server, &mut head),
        )
        .await;
        assert!(waited.is_err(), "the head is not whole yet");
        assert!(head.is_http1() && !head.whole);
        client.write_all(b"Accept: */*\r\n\r\nbody").await.unwrap();
        assert!(read_first_head(&mut server, &mut head).await.unwrap());
        assert_eq!(
            head.seen,
            b"GET / HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\nbody"
        );
    }

    #[test]
    fn a_head_is_whole_at_its_blank_line_wherever_the_reads_split_it() {
        let request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        for cut in 1..request.len() {
            let mut head = FirstHead::default();
            let (a, b) = request.split_at(cut);
            assert!(!head.take(a), "{cut}");
            assert!(head.take(b), "{cut}");
        }
        // One byte at a time.
        let mut head = FirstHead::default();
        let whole: Vec<bool> = request.iter().map(|b| head.take(&[*b])).collect();
        assert_eq!(whole.iter().position(|w| *w), Some(request.len() - 1));
        // Bare LF line ends, the HTTP/2 preface, and an endless head.
        assert!(FirstHead::default().take(b"GET / HTTP/1.0\n\n"));
        assert!(FirstHead::default().take(H2_PREFACE));
        let mut endless = FirstHead::default();
        assert!(!endless.take(b"GET / HTTP/1.1\r\n"));
        let line = b"X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        let mut whole_at = None;
        for i in 0..2000 {
            if endless.take(line) {
                whole_at = Some(i);
                break;
            }
        }
        assert!(whole_at.is_some() && endless.seen.len() >= MAX_FIRST_HEAD);
        assert!(!FirstHead::default().is_http1());
        let mut h2 = FirstHead::default();
        h2.take(H2_PREFACE);
        assert!(!h2.is_http1());
    }

    #[tokio::test]
    async fn a_silent_client_is_not_waited_for_past_the_deadline() {
        let (mut server, _client) = pair();
        let mut head = FirstHead::default();
        let waited = tokio::time::timeout(
            Duration::from_millis(50),
            read_first_head(&mut server, &mut head),
        )
        .await;
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
        let refusals = Refusals::new(
            |rejection: &imgate_core::decision::Rejection, id: &str| {
                format!("{{\"code\":\"{}\",\"id\":\"{id}\"}}", rejection.code).into_bytes()
            },
            Arc::new(crate::proxy::NoEvents),
        );
        let mut replayed = Replayed::new(Vec::new(), Box::new(server)).with_refusals(refusals);
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

    /// Without refusals (an embedder's choice), nothing is rewritten.
    #[tokio::test]
    async fn without_refusals_pingoras_answer_passes_unchanged() {
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
        let mut head = FirstHead::default();
        assert!(!read_first_head(&mut server, &mut head).await.unwrap());
    }
}
