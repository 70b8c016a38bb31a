//! Identity by introspection: ask the upstream's (or an auth service's) session endpoint
//! who the client's credential belongs to.
//!
//! The shipped config asks the demo server: `GET /api/v1/session` with the client's
//! `Authorization` header, answered `200 {"account_id","username"}` or `401`.
//!
//! Answers are cached by the SHA-256 of the credential (raw tokens are never kept as
//! keys, so a heap dump of the cache holds no usable credential), positive answers for
//! `ttl` and unknown credentials for `negative_ttl`. Concurrent first requests with the
//! same credential make one upstream request. A revoked session keeps working through
//! the gateway for at most `ttl`: choose it with that in mind.

use super::credential::{CredentialLocation, CredentialSpec};
use super::{account_id_of, Identity, IdentityError, IdentitySource};
use crate::lookups::cache::{Answer, CacheSettings, CachedLookup, Served};
use crate::lookups::duration;
use crate::lookups::http_client::{resolve_url, FetchError, HttpClient};
use crate::lookups::stats::Counters;
use crate::lookups::{BuildContext, LookupConfigError, LookupStats};
use reqwest::header::HeaderMap;
use reqwest::Url;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// `[identity] kind = "introspect"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntrospectSpec {
    /// The session endpoint, called with `GET`. A path starting with `/` is relative to
    /// the upstream (e.g. `"/api/v1/session"`); or an absolute `http(s)://` URL.
    pub url: String,
    /// Where the client's credential is (default: `Authorization: Bearer`). The same
    /// header, as received, is sent to `url`.
    #[serde(default)]
    pub credential: CredentialSpec,
    /// JSON pointer to the account id in a `200` answer (a string or an integer).
    #[serde(default = "defaults::account_id_at")]
    pub account_id_at: String,
    /// Answer statuses that mean "unknown or expired credential" (→ 401
    /// `identity.invalid`, cached for `negative_ttl`). Any other non-2xx status, a
    /// timeout or an unreadable answer is `identity.unavailable` (503, not cached).
    #[serde(default = "defaults::invalid_statuses")]
    pub invalid_statuses: Vec<u16>,
    /// Deadline for one call, connect to last body byte. Default `"1s"`.
    #[serde(default = "defaults::timeout", deserialize_with = "duration::parse")]
    pub timeout: Duration,
    /// How long a known credential's account is cached. Default `"60s"`.
    #[serde(default = "defaults::ttl", deserialize_with = "duration::parse")]
    pub ttl: Duration,
    /// How long an unknown credential is remembered as unknown. Default `"10s"`.
    #[serde(
        default = "defaults::negative_ttl",
        deserialize_with = "duration::parse"
    )]
    pub negative_ttl: Duration,
    /// While the endpoint fails, keep using an answer this long past its TTL. Default
    /// `"0s"` (off: a session the gateway cannot check is refused with 503).
    #[serde(default = "defaults::zero", deserialize_with = "duration::parse")]
    pub stale_if_error: Duration,
    /// Most cached credentials (positive and negative). Default 100000.
    #[serde(default = "defaults::max_entries")]
    pub max_entries: u64,
}

mod defaults {
    use std::time::Duration;
    pub fn account_id_at() -> String {
        "/account_id".to_owned()
    }
    pub fn invalid_statuses() -> Vec<u16> {
        vec![401, 403]
    }
    pub fn timeout() -> Duration {
        Duration::from_secs(1)
    }
    pub fn ttl() -> Duration {
        Duration::from_secs(60)
    }
    pub fn negative_ttl() -> Duration {
        Duration::from_secs(10)
    }
    pub fn zero() -> Duration {
        Duration::ZERO
    }
    pub fn max_entries() -> u64 {
        100_000
    }
}

/// Largest session answer read.
const MAX_ANSWER: usize = 64 * 1024;

/// A cached introspection answer.
#[derive(Debug, Clone)]
enum Session {
    Known(Arc<str>),
    Unknown,
}

impl Answer for Session {
    fn is_negative(&self) -> bool {
        matches!(self, Session::Unknown)
    }
}

/// The `introspect` identity source.
pub struct Introspect {
    url: Url,
    credential: CredentialLocation,
    account_id_at: String,
    invalid_statuses: Vec<u16>,
    client: HttpClient,
    cache: CachedLookup<[u8; 32], Session>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for Introspect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Introspect")
            .field("url", &self.url.as_str())
            .field("account_id_at", &self.account_id_at)
            .field("cache", &self.cache)
            .finish()
    }
}

impl Introspect {
    pub fn build(spec: &IntrospectSpec, ctx: &BuildContext) -> Result<Self, LookupConfigError> {
        let url = resolve_url(&spec.url, &ctx.upstream_base, "url")?;
        let credential = CredentialLocation::compile(&spec.credential, "credential")?;
        if !(spec.account_id_at.is_empty() || spec.account_id_at.starts_with('/')) {
            return Err(LookupConfigError::new(
                "account_id_at",
                "must be a JSON pointer such as \"/account_id\"",
            ));
        }
        if let Some(bad) = spec
            .invalid_statuses
            .iter()
            .find(|s| !(400..=499).contains(*s))
        {
            return Err(LookupConfigError::new(
                "invalid_statuses",
                format!("{bad} is not a 4xx status"),
            ));
        }
        let settings = CacheSettings::checked(
            spec.ttl,
            spec.negative_ttl,
            spec.stale_if_error,
            spec.max_entries,
        )?;
        let counters = Arc::new(Counters::default());
        Ok(Introspect {
            url,
            credential,
            account_id_at: spec.account_id_at.clone(),
            invalid_statuses: spec.invalid_statuses.clone(),
            client: HttpClient::new(spec.timeout, "timeout")?,
            cache: CachedLookup::new(settings, counters.clone()),
            counters,
        })
    }

    /// Calls the endpoint once. Unknown credentials are an answer (cached); failures are
    /// errors (not cached).
    async fn ask(&self, header_value: &http::HeaderValue) -> Result<Session, IdentityError> {
        Counters::bump(&self.counters.misses);
        let mut headers = HeaderMap::new();
        let mut value = header_value.clone();
        value.set_sensitive(true);
        headers.insert(self.credential.header.clone(), value);
        headers.insert(
            http::header::ACCEPT,
            http::HeaderValue::from_static("application/json"),
        );
        let result = self.client.get(self.url.clone(), headers, MAX_ANSWER).await;
        let session = result.and_then(|(status, body)| {
            if self.invalid_statuses.contains(&status.as_u16()) {
                return Ok(Session::Unknown);
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            let json: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| FetchError::Malformed(format!("not JSON: {e}")))?;
            let id = json
                .pointer(&self.account_id_at)
                .and_then(account_id_of)
                .ok_or_else(|| {
                    FetchError::Malformed(format!(
                        "no account id (string or integer) at {}",
                        self.account_id_at
                    ))
                })?;
            Ok(Session::Known(id.into()))
        });
        session.map_err(|err| {
            Counters::bump(&self.counters.errors);
            tracing::warn!(url = %self.url, error = %err, "identity introspection failed");
            IdentityError::Unavailable(format!("session endpoint: {err}").into())
        })
    }
}

/// The cache key: SHA-256 of the credential.
fn credential_key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[async_trait::async_trait]
impl IdentitySource for Introspect {
    fn credential_hint(&self) -> &str {
        self.credential.hint()
    }

    async fn identify(
        &self,
        request: &pingora::http::RequestHeader,
        _peer: Option<IpAddr>,
    ) -> Result<Identity, IdentityError> {
        let result = self.lookup(request).await;
        if result
            .as_ref()
            .is_err_and(|e| e.kind() != super::IdentityErrorKind::Unavailable)
        {
            Counters::bump(&self.counters.negatives);
        }
        result
    }

    fn stats(&self) -> LookupStats {
        self.counters.snapshot(self.cache.entry_count(), None)
    }
}

impl Introspect {
    async fn lookup(
        &self,
        request: &pingora::http::RequestHeader,
    ) -> Result<Identity, IdentityError> {
        let credential = self.credential.extract(&request.headers)?;
        let key = credential_key(credential.token);
        let served = self
            .cache
            .get(key, self.ask(credential.header_value))
            .await
            .map_err(|err| (*err).clone())?;
        let session = match served {
            Served::Fresh(session) => session,
            Served::Stale(session) => {
                tracing::debug!("serving a stale introspection answer");
                session
            }
        };
        match session {
            Session::Known(account_id) => Ok(Identity {
                account_id: account_id.to_string(),
            }),
            Session::Unknown => Err(IdentityError::Invalid(
                "the session endpoint does not know this credential".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_hashes_not_tokens() {
        let key = credential_key("secret-token");
        assert_eq!(key.as_slice(), Sha256::digest(b"secret-token").as_slice());
        assert_ne!(credential_key("a"), credential_key("b"));
    }

    #[test]
    fn spec_defaults_and_validation() {
        let spec: IntrospectSpec = toml::from_str("url = \"/api/v1/session\"").unwrap();
        assert_eq!(spec.account_id_at, "/account_id");
        assert_eq!(spec.ttl, Duration::from_secs(60));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let ctx = BuildContext {
            base_dir: std::path::Path::new("."),
            upstream_base: "http://127.0.0.1:1".into(),
            runtime: rt.handle().clone(),
        };
        assert!(Introspect::build(&spec, &ctx).is_ok());
        let bad: IntrospectSpec =
            toml::from_str("url = \"/s\"\naccount_id_at = \"account_id\"").unwrap();
        assert_eq!(
            Introspect::build(&bad, &ctx).unwrap_err().key,
            "account_id_at"
        );
        let bad: IntrospectSpec = toml::from_str("url = \"/s\"\ninvalid_statuses = [500]").unwrap();
        assert_eq!(
            Introspect::build(&bad, &ctx).unwrap_err().key,
            "invalid_statuses"
        );
    }
}
