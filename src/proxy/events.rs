//! What the proxy reports about each finished request, for whoever keeps metrics and
//! the audit trail. The proxy layer only describes; the ops layer (or an embedder)
//! decides where it goes, so dependencies keep pointing down.

use imgate_core::register::MaskedField;
use serde::Serialize;
use std::sync::Arc;

/// Serialises shared strings as a plain list of strings.
fn serialize_shared_strs<S: serde::Serializer>(
    values: &[Arc<str>],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(values.iter().map(|v| &**v))
}

/// A classification result as logs keep it (lexicon terms included: never for clients).
#[derive(Debug, Clone, Serialize)]
pub struct CategoryScore {
    pub category: String,
    pub score: f64,
    pub threshold: f64,
    pub matched: bool,
    /// A few matched lexicon terms, for reviewers (shared with the classifier: no copy per request).
    #[serde(serialize_with = "serialize_shared_strs")]
    pub terms: Vec<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared: Option<String>,
}

/// One finished request.
#[derive(Debug)]
pub struct RequestEvent<'a> {
    pub request_id: &'a str,
    pub method: &'a str,
    /// Path with long digit runs masked.
    pub path: &'a str,
    /// Matched route's name, or `-`.
    pub route: &'a str,
    /// `pass`, `deny`, `default`, or the rules (`register`, `publish`, `mark`, `publish+mark`).
    pub route_kind: &'static str,
    /// Whether the route carries rules (an audit-worthy decision).
    pub enforced: bool,
    pub status: u16,
    /// `pass`, `allow`, or a rejection's reason code.
    pub decision: &'a str,
    pub account: Option<&'a str>,
    pub categories: &'a [CategoryScore],
    pub masked_fields: &'a [MaskedField],
    pub body_bytes: Option<usize>,
    /// (approved, total) account objects marked in the response.
    pub marked: Option<(usize, usize)>,
    pub upstream_error: Option<&'a str>,
    pub total_seconds: f64,
    pub upstream_seconds: Option<f64>,
}

/// Receives request events (metrics, audit log). Must not block.
pub trait EventSink: Send + Sync {
    fn request_finished(&self, event: &RequestEvent<'_>);
}

/// Discards events (an embedder without telemetry).
pub struct NoEvents;

impl EventSink for NoEvents {
    fn request_finished(&self, _event: &RequestEvent<'_>) {}
}
