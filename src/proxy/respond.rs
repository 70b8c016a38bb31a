//! Writing the gateway's own JSON responses.
//!
//! Uses `write_response_header` + `write_response_body` (not `respond_error_with_body`,
//! which forces `Connection: close` and sets no content type), so a rejected request
//! leaves the connection usable for the next one.

use bytes::Bytes;
use imgate_core::decision::Rejection;
use imgate_core::envelope::EnvelopeSpec;
use pingora::http::ResponseHeader;
use pingora::proxy::Session;
use pingora::Result;

/// Sends `rejection` as a complete JSON response.
pub async fn send_rejection(
    session: &mut Session,
    envelope: &EnvelopeSpec,
    rejection: &Rejection,
    request_id: &str,
) -> Result<()> {
    let body = envelope.render(rejection, Some(request_id));
    send_json(session, rejection.status, body, request_id).await
}

/// Sends a JSON body with the given status, with truthful framing headers.
pub async fn send_json(
    session: &mut Session,
    status: u16,
    body: Vec<u8>,
    request_id: &str,
) -> Result<()> {
    let mut header = ResponseHeader::build(status, Some(4))?;
    header.insert_header("content-type", "application/json")?;
    header.insert_header("content-length", body.len().to_string())?;
    header.insert_header("cache-control", "no-store")?;
    header.insert_header("x-request-id", request_id)?;
    let is_head = session.req_header().method == http::Method::HEAD;
    session
        .write_response_header(Box::new(header), is_head)
        .await?;
    if !is_head {
        session
            .write_response_body(Some(Bytes::from(body)), true)
            .await?;
    }
    Ok(())
}
