//! Who is the caller: an account id derived from material the client cannot forge.
//!
//! Three sources, one per deployment:
//! - [`introspect`]: ask the upstream's (or an auth service's) session endpoint about the
//!   client's credential, cached by the credential's SHA-256;
//! - [`jwt`]: verify a signed token locally (HS256, RS256, ES256);
//! - [`header`]: trust a header set by an auth layer in front of the gateway, but only
//!   from configured peer addresses (and strip it from everyone else's requests).

mod credential;
pub mod header;
pub mod introspect;
pub mod jwt;

pub use credential::CredentialSpec;
pub use header::HeaderSpec;
pub use introspect::IntrospectSpec;
pub use jwt::{JwtAlgorithm, JwtKeySpec, JwtSpec};

use super::{BuildContext, LookupConfigError};
use serde::Deserialize;
use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

/// `[identity]`: how the gateway learns who the caller is. Tagged by `kind`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IdentitySpec {
    /// Ask a session (token introspection) endpoint; see [`IntrospectSpec`].
    Introspect(IntrospectSpec),
    /// Verify a JSON Web Token; see [`JwtSpec`].
    Jwt(JwtSpec),
    /// Read a header set by a trusted auth layer; see [`HeaderSpec`].
    Header(HeaderSpec),
}

/// The caller, as established by an [`IdentitySource`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The upstream's account id, e.g. `u-alice`.
    pub account_id: String,
}

/// Establishes who sent a request.
#[async_trait::async_trait]
pub trait IdentitySource: Send + Sync + std::fmt::Debug {
    /// The caller of `request`, which arrived from `peer` (the TCP peer; `None` when
    /// unknown, e.g. a Unix socket). May do I/O (cached).
    async fn identify(
        &self,
        request: &pingora::http::RequestHeader,
        peer: Option<IpAddr>,
    ) -> Result<Identity, IdentityError>;

    /// How a client presents its credential, for the messages of `identity.missing` and a
    /// malformed `identity.invalid` (e.g. `` `Authorization: Bearer <token>` ``). The default
    /// suits sources the client does not talk to directly (the `header` source).
    fn credential_hint(&self) -> &str {
        "a signed-in session"
    }

    /// Headers to remove before forwarding a request from `peer` (the `header` source
    /// when the peer is not trusted, so the upstream never sees a forged identity).
    fn strip_headers(&self, _peer: Option<IpAddr>) -> &[http::HeaderName] {
        &[]
    }

    /// The source's counters.
    fn stats(&self) -> super::LookupStats;
}

/// The three ways identification fails, each with a stable code and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityErrorKind {
    /// No credential was presented.
    Missing,
    /// A credential was presented but is not valid (unknown, expired, forged, malformed).
    Invalid,
    /// The source could not answer (down, timed out, answered nonsense): fail closed.
    Unavailable,
}

impl IdentityErrorKind {
    /// The reason code in the JSON error envelope.
    pub fn code(self) -> &'static str {
        match self {
            IdentityErrorKind::Missing => "identity.missing",
            IdentityErrorKind::Invalid => "identity.invalid",
            IdentityErrorKind::Unavailable => "identity.unavailable",
        }
    }

    /// The HTTP status the gateway answers with.
    pub fn status(self) -> http::StatusCode {
        match self {
            IdentityErrorKind::Missing | IdentityErrorKind::Invalid => {
                http::StatusCode::UNAUTHORIZED
            }
            IdentityErrorKind::Unavailable => http::StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// Why a request has no identity. The reason is for logs; it never contains the
/// credential itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("no credential: {0}")]
    Missing(Cow<'static, str>),
    #[error("invalid credential: {0}")]
    Invalid(Cow<'static, str>),
    /// The credential is not even well-formed (two headers, wrong scheme, spaces, ...): still
    /// `identity.invalid`, but the reason says nothing secret and tells the client what to fix,
    /// so it goes into the error message.
    #[error("malformed credential: {0}")]
    Malformed(Cow<'static, str>),
    #[error("identity source unavailable: {0}")]
    Unavailable(Cow<'static, str>),
}

impl IdentityError {
    pub fn kind(&self) -> IdentityErrorKind {
        match self {
            IdentityError::Missing(_) => IdentityErrorKind::Missing,
            IdentityError::Invalid(_) | IdentityError::Malformed(_) => IdentityErrorKind::Invalid,
            IdentityError::Unavailable(_) => IdentityErrorKind::Unavailable,
        }
    }

    /// Stable reason code, e.g. `identity.invalid`.
    pub fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// HTTP status: 401 for Missing and Invalid, 503 for Unavailable.
    pub fn status(&self) -> http::StatusCode {
        self.kind().status()
    }

    /// A short message for the client (the reason stays in the logs).
    pub fn public_message(&self) -> &'static str {
        match self.kind() {
            IdentityErrorKind::Missing => "authentication is required",
            IdentityErrorKind::Invalid => "the credential is not valid",
            IdentityErrorKind::Unavailable => {
                "the identity service is unavailable; try again later"
            }
        }
    }
}

pub(crate) fn build(
    spec: &IdentitySpec,
    ctx: &BuildContext,
) -> Result<Arc<dyn IdentitySource>, LookupConfigError> {
    Ok(match spec {
        IdentitySpec::Introspect(spec) => Arc::new(introspect::Introspect::build(spec, ctx)?),
        IdentitySpec::Jwt(spec) => Arc::new(jwt::Jwt::build(spec, ctx)?),
        IdentitySpec::Header(spec) => Arc::new(header::TrustedHeader::build(spec)?),
    })
}

/// Turns a JSON value found at the account-id location into an id: strings as they are,
/// integers in decimal (some servers number accounts). Anything else is `None`.
pub(crate) fn account_id_of(value: &serde_json::Value) -> Option<String> {
    let id = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) if n.is_u64() || n.is_i64() => n.to_string(),
        _ => return None,
    };
    valid_account_id(&id).then_some(id)
}

/// Account ids are non-empty, at most 256 bytes, without control characters: anything
/// else is not an id the gateway should put in logs or lookups.
pub(crate) fn valid_account_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 256 && !id.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_stable_codes_and_statuses() {
        let missing = IdentityError::Missing("x".into());
        assert_eq!(missing.code(), "identity.missing");
        assert_eq!(missing.status(), 401);
        assert_eq!(
            IdentityError::Invalid("x".into()).code(),
            "identity.invalid"
        );
        let down = IdentityError::Unavailable("x".into());
        assert_eq!(
            (down.code(), down.status().as_u16()),
            ("identity.unavailable", 503)
        );
    }

    #[test]
    fn account_ids_from_json() {
        assert_eq!(account_id_of(&"u-a".into()), Some("u-a".into()));
        assert_eq!(account_id_of(&42.into()), Some("42".into()));
        assert_eq!(account_id_of(&"".into()), None);
        assert_eq!(account_id_of(&1.5.into()), None);
        assert_eq!(account_id_of(&"a\nb".into()), None);
        assert_eq!(account_id_of(&serde_json::Value::Null), None);
    }

    #[test]
    fn spec_is_tagged_by_kind() {
        let spec: IdentitySpec = toml::from_str(
            "kind = \"introspect\"\nurl = \"/api/v1/session\"\naccount_id_at = \"/account_id\"\n",
        )
        .unwrap();
        assert!(matches!(spec, IdentitySpec::Introspect(_)));
        let err =
            toml::from_str::<IdentitySpec>("kind = \"introspect\"\nurl = \"/s\"\nttl_x = 1\n")
                .unwrap_err();
        assert!(err.to_string().contains("ttl_x"), "{err}");
        assert!(toml::from_str::<IdentitySpec>("kind = \"magic\"\n").is_err());
    }
}
