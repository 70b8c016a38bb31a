//! Why a response body could not be marked.
//!
//! Every error means the same thing to the gateway: the body cannot be proven to carry
//! the right marker on every account, so it must not reach the client (fail closed).
//! The variants exist for logs, metrics and tests; offsets are byte offsets into the
//! upstream body, never excerpts of it.

/// A response body that cannot be marked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkError {
    #[error("the response body is {len} bytes, over the marking limit of {limit}")]
    TooLarge { len: usize, limit: u64 },
    #[error("the response body is not valid UTF-8 (byte {offset})")]
    InvalidUtf8 { offset: usize },
    #[error("the response body is not valid JSON at byte {offset}: {what}")]
    Syntax { offset: usize, what: &'static str },
    #[error("the response body has a lone UTF-16 surrogate escape at byte {offset}")]
    LoneSurrogate { offset: usize },
    #[error("the response body nests deeper than {limit} levels (byte {offset})")]
    TooDeep { offset: usize, limit: usize },
    #[error("the response body has data after the JSON value (byte {offset})")]
    TrailingData { offset: usize },
    #[error("a selected account object has its id key more than once (byte {offset})")]
    DuplicateId { offset: usize },
    #[error("the mark rule takes the account id from a path parameter, but none was given")]
    MissingPathParam,
    /// Two planned edits overlap. The planner is built so this cannot happen; it is an
    /// error rather than a panic so that a bug fails closed instead of crashing.
    #[error("internal error: overlapping marker edits at byte {offset}")]
    OverlappingEdits { offset: usize },
}

impl MarkError {
    /// Stable code for metrics, logs and the audit trail.
    pub fn code(&self) -> &'static str {
        match self {
            MarkError::TooLarge { .. } => "mark.too_large",
            MarkError::InvalidUtf8 { .. } => "mark.invalid_utf8",
            MarkError::Syntax { .. } => "mark.malformed_json",
            MarkError::LoneSurrogate { .. } => "mark.lone_surrogate",
            MarkError::TooDeep { .. } => "mark.too_deep",
            MarkError::TrailingData { .. } => "mark.trailing_data",
            MarkError::DuplicateId { .. } => "mark.duplicate_id",
            MarkError::MissingPathParam => "mark.missing_path_param",
            MarkError::OverlappingEdits { .. } => "mark.internal",
        }
    }
}
