//! The request side of enforced routes: media type, encoding, the whole body read and
//! strictly parsed, then the route's rules. Whatever cannot be fully inspected is
//! refused, never forwarded.

use super::body;
use super::events::CategoryScore;
use crate::config::{DecodeLimits, EnforcedRules, Policy};
use crate::lookups::{IdentityError, IdentityErrorKind};
use bytes::Bytes;
use chrono::{Datelike, TimeDelta, Utc};
use imgate_core::body::{parse_strict_object, FormFields, InspectedBody};
use imgate_core::decision::Rejection;
use imgate_core::publish::{not_approved, PublishRule};
use imgate_core::register::{BodyKind, ForwardBody, MaskedField};
use imgate_core::validate::Date;
use pingora::proxy::Session;
use std::borrow::Cow;

/// What inspection concluded for a request that may go upstream.
#[derive(Debug, Default)]
pub struct Inspection {
    /// Bytes to forward instead of the received body (a rule rewrote it).
    pub replacement: Option<Bytes>,
    /// Set once the replacement went upstream: any later body chunk is dropped.
    pub replaced: bool,
    /// Masked personal fields, for the audit trail.
    pub masked: Vec<MaskedField>,
    /// The authenticated poster on publish routes.
    pub account: Option<String>,
    /// Classification results (kept on rejection too, for the audit log).
    pub scores: Vec<CategoryScore>,
    /// Bytes of the inspected body.
    pub body_bytes: Option<usize>,
    /// The body as received (what the gateway's own exchange forwards when no rule
    /// replaced it); `None` when the route's rules did not read the body.
    pub forward_body: Option<Bytes>,
    /// The body arrived compressed and was decoded for inspection.
    pub decoded: bool,
}

/// Inspects the request against `rules`.
pub async fn inspect_request(
    session: &mut Session,
    policy: &Policy,
    rules: &EnforcedRules,
    inspection: &mut Inspection,
) -> Result<(), Rejection> {
    let Some(kind) = rules.request_body() else {
        return Ok(());
    };
    check_head(session, rules)?;
    // Who is posting comes first: without an identity there is nothing to decide.
    if rules.publish.is_some() {
        inspection.account = Some(identify(session, policy).await?);
    }
    let encoding = content_encoding(session, rules.decode)?;
    check_media_type(session, kind)?;
    let received = body::read_whole(session, policy.max_body, policy.body_timeout).await?;
    inspection.body_bytes = Some(received.len());
    inspection.forward_body = Some(received.clone());
    let raw = match (encoding, rules.decode) {
        (Some(encoding), Some(limits)) => {
            inspection.decoded = true;
            decode(encoding, &received, limits)?
        }
        _ => received,
    };
    let parsed = parse(kind, &raw)?;
    if let Some(register) = &rules.register {
        let outcome = register.check(&parsed, &raw, today()?)?;
        if let ForwardBody::Replaced(bytes) = outcome.body {
            inspection.replacement = Some(Bytes::from(bytes));
        }
        inspection.masked = outcome.masked;
    }
    if let (Some(publish), InspectedBody::Json(body), Some(account)) =
        (&rules.publish, &parsed, inspection.account.as_deref())
    {
        decide_publish(policy, publish, body, account, &mut inspection.scores).await?;
    }
    Ok(())
}

/// Headers a `Connection` header may not name on an inspected route: the proxy drops every header `Connection`
/// lists (hop-by-hop), so `Connection: Content-Type` would forward the checked body without the media type it
/// was checked as, and naming the credential or the framing would change what the upstream reads.
const CHECKED_HEADERS: [&str; 6] = [
    "content-type",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "authorization",
    "cookie",
];

/// What the request head must not carry on an inspected route: a `Connection` header dropping a header the
/// check relies on, or a query parameter shadowing a checked body field (`imgate_core::query`).
fn check_head(session: &Session, rules: &EnforcedRules) -> Result<(), Rejection> {
    let head = session.req_header();
    let dropped = super::headers::connection_tokens(&head.headers).find(|t| {
        CHECKED_HEADERS
            .iter()
            .any(|h| t.eq_ignore_ascii_case(h.as_bytes()))
    });
    if let Some(name) = dropped {
        return Err(Rejection::new(
            400,
            "request.connection_header",
            format!(
                "the Connection header lists {}, which the gateway checks and must forward; list only keep-alive, close or upgrade",
                String::from_utf8_lossy(name)
            ),
        ));
    }
    // A transfer coding besides `chunked` (`gzip, chunked`) would have the body inspected still compressed:
    // refused with what to send instead, as a compressed Content-Encoding is on a route that does not decode.
    let mut codings = head
        .headers
        .get_all(http::header::TRANSFER_ENCODING)
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b','))
        .map(<[u8]>::trim_ascii)
        .filter(|c| !c.eq_ignore_ascii_case(b"chunked"));
    if let Some(coding) = codings.next() {
        let shown: String = String::from_utf8_lossy(coding).chars().take(32).collect();
        return Err(Rejection::new(
            415,
            "body.encoding_unsupported",
            format!(
                "the transfer coding `{}` is not accepted on this route; send the body uncompressed, chunked or with a Content-Length",
                imgate_core::mask::mask_digits_in(&shown)
            ),
        ));
    }
    if let Some(query) = head.uri.query() {
        if let Some(name) = imgate_core::query::shadowing_parameter(query, &rules.query_roots) {
            let shown: String = name.chars().take(64).collect();
            let shown = imgate_core::mask::mask_digits_in(&shown);
            return Err(Rejection::new(
                400,
                "request.query_field",
                format!(
                    "the query parameter `{shown}` has the name of a body field the gateway checks; send that field in the body only"
                ),
            ));
        }
    }
    Ok(())
}

async fn identify(session: &Session, policy: &Policy) -> Result<String, Rejection> {
    let Some(identity) = &policy.identity else {
        return Err(Rejection::new(
            500,
            "gateway.internal",
            "no identity source is configured",
        ));
    };
    let peer = session
        .client_addr()
        .and_then(|a| a.as_inet())
        .map(|a| a.ip());
    identity
        .identify(session.req_header(), peer)
        .await
        .map(|id| id.account_id)
        .map_err(|e| {
            let hint = identity.credential_hint();
            let message: Cow<'static, str> = match (&e, e.kind()) {
                (IdentityError::Malformed(reason), _) => format!(
                    "the credential is malformed ({reason}); send exactly one {hint} header"
                )
                .into(),
                (_, IdentityErrorKind::Missing) => {
                    format!("sign in first: this route needs {hint}").into()
                }
                (_, IdentityErrorKind::Invalid) => {
                    "the credential is not valid or has expired; sign in again".into()
                }
                (_, IdentityErrorKind::Unavailable) => {
                    "the gateway cannot verify who you are right now; try again later".into()
                }
            };
            Rejection::new(e.status().as_u16(), e.code(), message)
        })
}

/// Classifies the post and checks the poster's approval for every restricted category
/// it falls in. Returns those categories (all approved).
async fn decide_publish(
    policy: &Policy,
    rule: &PublishRule,
    body: &serde_json::Value,
    account: &str,
    scores: &mut Vec<CategoryScore>,
) -> Result<(), Rejection> {
    let extracted = rule.extract(body)?;
    rule.check_author(&extracted, account)?;
    let classification = extracted.classify(&policy.classifier);
    let restricted: Vec<String> = rule
        .restricted_matches(&classification)
        .into_iter()
        .map(str::to_owned)
        .collect();
    scores.extend(classification.verdicts.iter().map(|v| {
        CategoryScore {
            category: v.category.clone(),
            score: v.score,
            threshold: v.threshold,
            matched: v.matched,
            terms: v
                .evidence
                .terms
                .iter()
                .take(8)
                .map(|t| t.term.clone())
                .collect(),
            domain: v.evidence.domain.as_ref().map(|d| d.entry.clone()),
            declared: v.evidence.declared.as_ref().map(|d| d.value.clone()),
        }
    }));
    if restricted.is_empty() {
        return Ok(());
    }
    let Some(approval) = &policy.approval else {
        return Err(Rejection::new(
            500,
            "gateway.internal",
            "no approval source is configured",
        ));
    };
    let approved = approval.categories(account).await.map_err(|e| {
        Rejection::new(
            e.status().as_u16(),
            e.code(),
            "the gateway cannot check publishing approval right now; try again later",
        )
    })?;
    if let Some(category) = restricted.iter().find(|c| !approved.allows(c)) {
        return Err(not_approved(category));
    }
    Ok(())
}

fn parse(kind: BodyKind, raw: &[u8]) -> Result<InspectedBody, Rejection> {
    match kind {
        BodyKind::Json => parse_strict_object(raw)
            .map(InspectedBody::Json)
            .map_err(|e| {
                Rejection::new(
                    400,
                    e.code(),
                    format!("{e}; send one JSON object with unique keys"),
                )
            }),
        BodyKind::Form => FormFields::parse(raw)
            .map(InspectedBody::Form)
            .map_err(|e| Rejection::new(400, e.code(), e.to_string())),
    }
}

/// A request body encoding the gateway can decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Gzip,
    Deflate,
}

/// Compressed request bodies are refused unless the route enables decoding: otherwise
/// the gateway would inspect something other than what the upstream will read.
fn content_encoding(
    session: &Session,
    decode: Option<DecodeLimits>,
) -> Result<Option<Encoding>, Rejection> {
    let mut values = session
        .req_header()
        .headers
        .get_all(http::header::CONTENT_ENCODING)
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("\u{0}").split(','))
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| v != "identity");
    let first = values.next();
    let refuse = |what: &str| {
        Rejection::new(
            415,
            "body.encoding_unsupported",
            format!("{what}; send the body without Content-Encoding"),
        )
    };
    match (first, values.next(), decode) {
        (None, _, _) => Ok(None),
        (Some(_), _, None) => Err(refuse(
            "compressed request bodies are not accepted on this route",
        )),
        (Some(_), Some(_), Some(_)) => Err(refuse("only one content encoding is accepted")),
        (Some(one), None, Some(_)) => match one.as_str() {
            "gzip" | "x-gzip" => Ok(Some(Encoding::Gzip)),
            "deflate" => Ok(Some(Encoding::Deflate)),
            _ => Err(refuse("only gzip and deflate are accepted")),
        },
    }
}

/// Decodes within the route's size and ratio bounds (a decompression bomb is a 413).
fn decode(encoding: Encoding, body: &[u8], limits: DecodeLimits) -> Result<Bytes, Rejection> {
    use std::io::Read;
    let ratio_cap = body
        .len()
        .saturating_mul(limits.max_ratio as usize)
        .max(1024);
    let cap = limits.max_size.min(ratio_cap);
    let reader: Box<dyn Read> = match encoding {
        Encoding::Gzip => Box::new(flate2::read::GzDecoder::new(body)),
        Encoding::Deflate => Box::new(flate2::read::ZlibDecoder::new(body)),
    };
    let mut out = Vec::new();
    let read = reader
        .take(cap as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| {
            Rejection::new(
                400,
                "body.undecodable",
                "the compressed request body could not be decoded",
            )
        })?;
    if read > cap {
        return Err(Rejection::new(
            413,
            "body.too_large",
            format!("the decoded request body is larger than the {cap} bytes this route accepts"),
        ));
    }
    Ok(Bytes::from(out))
}

/// The route's allow-list: `application/json` for JSON rules, form encoding for form rules;
/// a `charset` parameter, if any, must be UTF-8.
fn check_media_type(session: &Session, kind: BodyKind) -> Result<(), Rejection> {
    let expected = match kind {
        BodyKind::Json => "application/json",
        BodyKind::Form => "application/x-www-form-urlencoded",
    };
    let headers = &session.req_header().headers;
    let mut values = headers.get_all(http::header::CONTENT_TYPE).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(unsupported(expected));
    };
    let value = value.to_str().map_err(|_| unsupported(expected))?;
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case(expected) {
        return Err(unsupported(expected));
    }
    for param in parts {
        let Some((name, val)) = param.split_once('=') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("charset") {
            let charset = val.trim().trim_matches('"');
            if !charset.eq_ignore_ascii_case("utf-8") && !charset.eq_ignore_ascii_case("utf8") {
                return Err(unsupported(expected));
            }
        }
    }
    Ok(())
}

fn unsupported(expected: &str) -> Rejection {
    Rejection::new(
        415,
        "body.unsupported_media_type",
        format!("this route accepts `Content-Type: {expected}` (UTF-8) only"),
    )
}

/// Today's date in China Standard Time (UTC+8, no daylight saving): resident ID birth
/// dates are Chinese calendar dates.
fn today() -> Result<Date, Rejection> {
    let now = Utc::now() + TimeDelta::hours(8);
    Date::new(now.year(), now.month(), now.day()).ok_or_else(|| {
        Rejection::new(
            500,
            "gateway.internal",
            "the gateway could not read its clock",
        )
    })
}
