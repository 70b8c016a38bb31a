//! Identity from a JSON Web Token, verified locally: no network on the request path.
//!
//! Only HS256, RS256 and ES256 are accepted, each tied to its own key (so a token cannot
//! pick a weaker algorithm, and an RSA public key can never be used as an HMAC secret).
//! Several keys may be configured for rotation; a token's `kid` selects among them when
//! both sides name one. `exp` is required and `nbf` is checked when present; `iss` and
//! `aud` are required when configured. The account id is taken from a claim (`sub` by
//! default).

use super::credential::{CredentialLocation, CredentialSpec};
use super::{account_id_of, Identity, IdentityError, IdentitySource};
use crate::lookups::duration;
use crate::lookups::stats::Counters;
use crate::lookups::{BuildContext, LookupConfigError, LookupStats};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// `[identity] kind = "jwt"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtSpec {
    /// Where the token is (default: `Authorization: Bearer`).
    #[serde(default)]
    pub credential: CredentialSpec,
    /// Verification keys, at least one: `keys = [{ algorithm = "RS256", file = "jwt.pub.pem" }]`.
    pub keys: Vec<JwtKeySpec>,
    /// Required `iss` value. Unset: `iss` is not checked.
    #[serde(default)]
    pub issuer: Option<String>,
    /// Required `aud` value (the token's `aud` must contain it). Unset: `aud` is not
    /// checked. Set it whenever the issuer serves more than one audience.
    #[serde(default)]
    pub audience: Option<String>,
    /// Clock skew tolerated on `exp` and `nbf`. Default `"30s"`.
    #[serde(default = "default_leeway", deserialize_with = "duration::parse")]
    pub leeway: Duration,
    /// The claim holding the account id: a top-level claim name, or a JSON pointer
    /// starting with `/` for nested claims. Default `"sub"`.
    #[serde(default = "default_claim")]
    pub claim: String,
}

/// One verification key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtKeySpec {
    /// `"HS256"`, `"RS256"` or `"ES256"`.
    pub algorithm: JwtAlgorithm,
    /// HS256: a file holding the shared secret's bytes (at least 32; one trailing
    /// newline ignored). RS256: an RSA public key in PEM. ES256: a P-256 public key in
    /// PEM (SPKI). Relative to the config file.
    pub file: PathBuf,
    /// Key id: when set and a token names a `kid`, the two must match.
    #[serde(default)]
    pub kid: Option<String>,
}

/// The accepted signature algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum JwtAlgorithm {
    HS256,
    RS256,
    ES256,
}

impl JwtAlgorithm {
    fn algorithm(self) -> Algorithm {
        match self {
            JwtAlgorithm::HS256 => Algorithm::HS256,
            JwtAlgorithm::RS256 => Algorithm::RS256,
            JwtAlgorithm::ES256 => Algorithm::ES256,
        }
    }
}

fn default_leeway() -> Duration {
    Duration::from_secs(30)
}

fn default_claim() -> String {
    "sub".to_owned()
}

/// Shortest HS256 secret accepted (RFC 7518 §3.2: at least the hash size).
const MIN_HMAC_SECRET: usize = 32;

struct Key {
    kid: Option<String>,
    decoding: DecodingKey,
    validation: Validation,
}

/// The `jwt` identity source.
pub struct Jwt {
    credential: CredentialLocation,
    keys: Vec<Key>,
    claim: String,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for Jwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwt")
            .field("keys", &self.keys.len())
            .field("claim", &self.claim)
            .finish()
    }
}

impl Jwt {
    pub fn build(spec: &JwtSpec, ctx: &BuildContext) -> Result<Self, LookupConfigError> {
        let credential = CredentialLocation::compile(&spec.credential, "credential")?;
        if spec.keys.is_empty() {
            return Err(LookupConfigError::new(
                "keys",
                "at least one key is required",
            ));
        }
        if spec.claim.is_empty() {
            return Err(LookupConfigError::new("claim", "must not be empty"));
        }
        let keys = spec
            .keys
            .iter()
            .enumerate()
            .map(|(i, key)| load_key(key, spec, ctx, &format!("keys[{i}].file")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Jwt {
            credential,
            keys,
            claim: spec.claim.clone(),
            counters: Arc::default(),
        })
    }

    fn verify(&self, token: &str) -> Result<Identity, IdentityError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| IdentityError::Invalid("not a JWT".into()))?;
        let candidates: Vec<&Key> = self
            .keys
            .iter()
            .filter(|k| k.validation.algorithms.contains(&header.alg))
            .filter(|k| match (&header.kid, &k.kid) {
                (Some(wanted), Some(have)) => wanted == have,
                _ => true,
            })
            .collect();
        if candidates.is_empty() {
            return Err(IdentityError::Invalid(
                format!("no configured key for algorithm {:?}", header.alg).into(),
            ));
        }
        let mut last = ErrorKind::InvalidSignature;
        for key in candidates {
            match jsonwebtoken::decode::<serde_json::Value>(token, &key.decoding, &key.validation) {
                Ok(data) => return self.account_of(&data.claims),
                // Another key may have signed it; anything else (expired, wrong issuer)
                // was checked after a good signature and is final.
                Err(err) if matches!(err.kind(), ErrorKind::InvalidSignature) => {
                    last = err.into_kind();
                }
                Err(err) => return Err(invalid(err.kind())),
            }
        }
        Err(invalid(&last))
    }

    fn account_of(&self, claims: &serde_json::Value) -> Result<Identity, IdentityError> {
        let value = if self.claim.starts_with('/') {
            claims.pointer(&self.claim)
        } else {
            claims.get(&self.claim)
        };
        value
            .and_then(account_id_of)
            .map(|account_id| Identity { account_id })
            .ok_or_else(|| {
                IdentityError::Invalid(format!("no account id in claim {}", self.claim).into())
            })
    }
}

/// A short reason without token contents.
fn invalid(kind: &ErrorKind) -> IdentityError {
    let reason = match kind {
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::ImmatureSignature => "not valid yet (nbf)",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::InvalidAlgorithm => "algorithm not allowed",
        ErrorKind::MissingRequiredClaim(_) => "a required claim is missing",
        ErrorKind::InvalidClaimFormat(_) => "a claim has the wrong type",
        _ => "malformed token",
    };
    IdentityError::Invalid(reason.into())
}

fn load_key(
    spec: &JwtKeySpec,
    jwt: &JwtSpec,
    ctx: &BuildContext,
    key: &str,
) -> Result<Key, LookupConfigError> {
    let path = ctx.resolve_path(&spec.file);
    let bytes = std::fs::read(&path)
        .map_err(|e| LookupConfigError::new(key, format!("cannot read {}: {e}", path.display())))?;
    let bad = |e: jsonwebtoken::errors::Error| {
        LookupConfigError::new(
            key,
            format!("{} is not a {:?} key: {e}", path.display(), spec.algorithm),
        )
    };
    let decoding = match spec.algorithm {
        JwtAlgorithm::HS256 => {
            let secret = bytes
                .strip_suffix(b"\n")
                .map(|s| s.strip_suffix(b"\r").unwrap_or(s))
                .unwrap_or(&bytes);
            if secret.len() < MIN_HMAC_SECRET {
                return Err(LookupConfigError::new(
                    key,
                    format!(
                        "{}: an HS256 secret needs at least {MIN_HMAC_SECRET} bytes",
                        path.display()
                    ),
                ));
            }
            DecodingKey::from_secret(secret).map_err(bad)?
        }
        JwtAlgorithm::RS256 => DecodingKey::from_rsa_pem(&bytes).map_err(bad)?,
        JwtAlgorithm::ES256 => DecodingKey::from_ec_pem(&bytes).map_err(bad)?,
    };
    let mut validation = Validation::new(spec.algorithm.algorithm());
    validation.leeway = jwt.leeway.as_secs();
    validation.validate_exp = true;
    validation.validate_nbf = true;
    let mut required = vec!["exp"];
    if let Some(issuer) = &jwt.issuer {
        validation.set_issuer(&[issuer]);
        required.push("iss");
    }
    match &jwt.audience {
        Some(audience) => {
            validation.set_audience(&[audience]);
            required.push("aud");
        }
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&required);
    Ok(Key {
        kid: spec.kid.clone(),
        decoding,
        validation,
    })
}

#[async_trait::async_trait]
impl IdentitySource for Jwt {
    fn credential_hint(&self) -> &str {
        self.credential.hint()
    }

    async fn identify(
        &self,
        request: &pingora::http::RequestHeader,
        _peer: Option<IpAddr>,
    ) -> Result<Identity, IdentityError> {
        let result = self
            .credential
            .extract(&request.headers)
            .and_then(|credential| {
                Counters::bump(&self.counters.misses);
                self.verify(credential.token)
            });
        if let Err(err) = &result {
            Counters::bump(&self.counters.negatives);
            tracing::debug!(reason = %err, "JWT refused");
        }
        result
    }

    fn stats(&self) -> LookupStats {
        self.counters.snapshot(self.keys.len() as u64, None)
    }
}
