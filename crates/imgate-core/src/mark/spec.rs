//! The `mark` rule as an operator writes it in a route of `conf/imgate.toml`.
//!
//! ```toml
//! [routes.mark]
//! select = ["posts[*].author"]    # which JSON objects are accounts
//! id_field = "id"                 # the account id is this member of each selected object
//! field = "verified_publisher"    # the marker member
//! approved_value = true           # its value for approved accounts (default true)
//! others = "false"                # "false" (default) or "remove"
//! header = "X-Verified-Publisher" # optional single-account response header
//! max_body = "1MiB"               # parsed by the config layer
//! ```
//!
//! The spec is plain data with serde derives and `deny_unknown_fields`, so a typo is a
//! config error rather than a silently ignored rule. Everything that can be checked
//! without I/O is checked by [`MarkRule::compile`](super::MarkRule::compile).
//!
//! `max_body` is generic: the config layer deserialises it with its own human-readable
//! size type (`MarkSpec<ByteSize>`), then hands the core a byte count with
//! [`MarkSpec::map_max_body`]. The core never parses `"1MiB"` itself.

use serde::{Deserialize, Serialize};

use super::selector::SelectorError;

/// The marking limit when a spec gives none: large enough for a 200-post timeline,
/// small enough that buffering it cannot hurt the gateway.
pub const DEFAULT_MAX_BODY: u64 = 1024 * 1024;

/// The largest `max_body`: each marked response is held in memory whole, so a limit beyond this would let a few
/// large answers exhaust the gateway's memory.
pub const MAX_MAX_BODY: u64 = 256 * 1024 * 1024;

/// A route's `mark` rule as written in the config, before compilation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkSpec<S = u64> {
    /// One or more selectors (see [`Selector`](super::Selector)) naming the account
    /// objects in the response, e.g. `["posts[*].author"]`. Every object they select is
    /// marked; selectors that match nothing (an error body) are fine.
    pub select: Vec<String>,
    /// The account id is this member of each selected object (its string value, with
    /// JSON escapes decoded). An object without it, or with a non-string id, is marked
    /// as not approved. Exactly one of `id_field` and `id_from_path` is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_field: Option<String>,
    /// The account id is this parameter of the route's path pattern, e.g. `id` for
    /// `/api/v1/accounts/{id}`; every selected object is taken to be that account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_from_path: Option<String>,
    /// The marker member's key, e.g. `verified_publisher`. The gateway owns it on every
    /// selected object: whatever the upstream put there is overwritten or removed.
    pub field: String,
    /// The JSON value the marker gets for approved accounts. Defaults to `true`.
    #[serde(default = "default_approved_value")]
    pub approved_value: serde_json::Value,
    /// What the others get: `"false"` (the marker set to `false`, the default) or
    /// `"remove"` (no marker member at all).
    #[serde(default)]
    pub others: Others,
    /// Optional response header name. When the response shows exactly one account the
    /// gateway sets it to `true` or `false` (and it should drop any copy the upstream
    /// sent, whatever the response shows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// Largest response body, in bytes once compiled, that is buffered and marked.
    /// A larger body is an error (fail closed), never passed through unmarked.
    /// Defaults to [`DEFAULT_MAX_BODY`].
    #[serde(default = "Option::default", skip_serializing_if = "Option::is_none")]
    pub max_body: Option<S>,
}

fn default_approved_value() -> serde_json::Value {
    serde_json::Value::Bool(true)
}

/// What the marker says for accounts that are not approved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Others {
    /// Set the marker to `false`, so clients see an explicit "not approved".
    #[default]
    #[serde(rename = "false")]
    False,
    /// Remove the marker member, for clients that only test its presence.
    #[serde(rename = "remove")]
    Remove,
}

impl<S> MarkSpec<S> {
    /// Converts `max_body` from the config layer's size type into another one, usually
    /// a byte count: `spec.map_max_body(|size| size.as_u64())`.
    pub fn map_max_body<T>(self, f: impl FnOnce(S) -> T) -> MarkSpec<T> {
        MarkSpec {
            select: self.select,
            id_field: self.id_field,
            id_from_path: self.id_from_path,
            field: self.field,
            approved_value: self.approved_value,
            others: self.others,
            header: self.header,
            max_body: self.max_body.map(f),
        }
    }
}

/// Why a mark spec does not compile. Field names are the TOML keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkSpecError {
    #[error("`select` needs at least one selector")]
    NoSelectors,
    #[error("`select[{index}]` (`{selector}`): {source}")]
    Selector {
        /// Index into `select`, so the config layer can point at the right string.
        index: usize,
        selector: String,
        #[source]
        source: SelectorError,
    },
    #[error("the selectors in `select` combine into more than {limit} paths to follow; use fewer or more specific selectors")]
    TooComplex { limit: usize },
    #[error("exactly one of `id_field` and `id_from_path` is required")]
    IdSource,
    #[error("`{key}` must not be empty")]
    Empty { key: &'static str },
    #[error("`max_body` must be at most {limit} bytes (256 MiB): each marked response is held in memory whole")]
    MaxBodyTooLarge { limit: u64 },
    #[error("`field` and `id_field` must differ: the marker would overwrite the id")]
    FieldIsIdField,
    #[error("`approved_value` must differ from `false` when `others = \"false\"`: approved accounts would look like the others")]
    IndistinguishableValues,
    #[error("`header` (`{name}`) is not a valid HTTP header name")]
    InvalidHeaderName { name: String },
    #[error("`header` must not be `{name}`: the gateway owns that header")]
    ReservedHeaderName { name: String },
    #[error("`max_body` must be more than zero")]
    ZeroMaxBody,
    #[error("`field` or `approved_value` cannot be rendered as JSON")]
    Unrenderable,
}

/// RFC 9110 `token` characters.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Checks a header name: a valid token that is not a framing or hop-by-hop header the
/// proxy must control itself.
pub(crate) fn check_header_name(name: &str) -> Result<(), MarkSpecError> {
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return Err(MarkSpecError::InvalidHeaderName {
            name: name.to_owned(),
        });
    }
    const RESERVED: &[&str] = &[
        "connection",
        "content-length",
        "content-encoding",
        "content-type",
        "host",
        "keep-alive",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ];
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(MarkSpecError::ReservedHeaderName {
            name: name.to_owned(),
        });
    }
    Ok(())
}
