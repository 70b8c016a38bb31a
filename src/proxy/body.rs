//! Reading a whole request body in the request phase, before anything goes upstream.
//!
//! pingora replays what was read from its retry buffer (64 KiB, enabled *before* the
//! first read), so the upstream receives exactly the inspected bytes. The limit is
//! checked against `Content-Length` first (no read at all) and again while reading
//! chunked bodies; an over-limit body closes the connection instead of being drained.

use bytes::{Bytes, BytesMut};
use imgate_core::decision::Rejection;
use pingora::proxy::Session;
use std::time::Duration;

/// Reads the complete request body, at most `limit` bytes, within `deadline` of the call.
///
/// pingora times each read on its own (60 s), so without a deadline a client trickling a
/// byte a minute would hold a connection and a task for the life of a 64 KiB body.
pub async fn read_whole(
    session: &mut Session,
    limit: usize,
    deadline: Duration,
) -> Result<Bytes, Rejection> {
    let declared = declared_length(session)?;
    if declared.is_some_and(|len| len > limit) {
        session.set_keepalive(None);
        return Err(too_large(limit));
    }
    match tokio::time::timeout(deadline, receive(session, limit, declared)).await {
        Ok(received) => received,
        Err(_) => {
            // The rest of the body may still be on its way: the stream cannot be reused.
            session.set_keepalive(None);
            Err(Rejection::new(
                408,
                "body.timeout",
                format!(
                    "the request body did not arrive within {}; send the whole body without pausing",
                    humantime::format_duration(deadline)
                ),
            ))
        }
    }
}

/// Answers `Expect: 100-continue` and reads the body into one buffer.
async fn receive(
    session: &mut Session,
    limit: usize,
    declared: Option<usize>,
) -> Result<Bytes, Rejection> {
    answer_expect_continue(session).await?;
    session.as_mut().enable_retry_buffering();
    let mut body = BytesMut::with_capacity(declared.unwrap_or(1024).min(limit));
    loop {
        match session.read_request_body().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    session.set_keepalive(None);
                    return Err(too_large(limit));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => {
                session.set_keepalive(None);
                return Err(Rejection::new(
                    400,
                    "body.unreadable",
                    format!(
                        "the request body could not be read completely ({})",
                        e.etype().as_str()
                    ),
                ));
            }
        }
    }
    if session.as_ref().retry_buffer_truncated() {
        // Cannot happen with limit <= 64 KiB, but never forward what was not replayable.
        session.set_keepalive(None);
        return Err(too_large(limit));
    }
    Ok(body.freeze())
}

fn declared_length(session: &Session) -> Result<Option<usize>, Rejection> {
    let Some(value) = session
        .req_header()
        .headers
        .get(http::header::CONTENT_LENGTH)
    else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .map(Some)
        .ok_or_else(|| {
            Rejection::new(
                400,
                "body.invalid_length",
                "the Content-Length header is not a number",
            )
        })
}

/// Answers `Expect: 100-continue` so the client sends its body. pingora switches
/// keep-alive off when it writes an interim response; restore it afterwards.
async fn answer_expect_continue(session: &mut Session) -> Result<(), Rejection> {
    let expects = session
        .req_header()
        .headers
        .get(http::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if !expects || session.is_http2() {
        return Ok(());
    }
    let keepalive = session.get_keepalive();
    session.write_continue_response().await.map_err(|_| {
        Rejection::new(
            400,
            "body.unreadable",
            "could not answer `Expect: 100-continue`",
        )
    })?;
    session.set_keepalive(keepalive);
    Ok(())
}

fn too_large(limit: usize) -> Rejection {
    Rejection::new(
        413,
        "body.too_large",
        format!("the request body is larger than the {limit} bytes this route accepts"),
    )
}
