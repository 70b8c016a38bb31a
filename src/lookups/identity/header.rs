//! Identity from a header set by a trusted auth layer in front of the gateway (an SSO
//! proxy, an API gateway that already validated the session).
//!
//! The header is honoured only on connections from `trusted_sources`. From anyone else
//! it is a forgery attempt or a misroute: it is ignored (the request has no identity,
//! `identity.missing`) and [`IdentitySource::strip_headers`] names it so the proxy removes
//! it before forwarding — the upstream must never see an identity the gateway did not
//! vouch for.

use super::{valid_account_id, Identity, IdentityError, IdentitySource};
use crate::lookups::stats::Counters;
use crate::lookups::{LookupConfigError, LookupStats};
use http::HeaderName;
use ipnet::IpNet;
use serde::Deserialize;
use std::net::IpAddr;
use std::sync::Arc;

/// `[identity] kind = "header"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderSpec {
    /// The header carrying the account id, e.g. `"x-authenticated-account"`.
    pub header: String,
    /// Peers allowed to set it: addresses (`"10.0.0.7"`) or CIDR blocks
    /// (`"10.0.0.0/8"`, `"fd00::/8"`). At least one.
    pub trusted_sources: Vec<String>,
}

/// The `header` identity source.
#[derive(Debug)]
pub struct TrustedHeader {
    /// One element, so `strip_headers` can hand out a slice.
    header: [HeaderName; 1],
    trusted: Vec<IpNet>,
    counters: Arc<Counters>,
}

impl TrustedHeader {
    pub fn build(spec: &HeaderSpec) -> Result<Self, LookupConfigError> {
        let header = HeaderName::from_bytes(spec.header.as_bytes()).map_err(|_| {
            LookupConfigError::new(
                "header",
                format!("`{}` is not a valid header name", spec.header),
            )
        })?;
        if spec.trusted_sources.is_empty() {
            return Err(LookupConfigError::new(
                "trusted_sources",
                "list at least one address or CIDR block of the auth layer",
            ));
        }
        let trusted = spec
            .trusted_sources
            .iter()
            .enumerate()
            .map(|(i, text)| {
                parse_source(text).ok_or_else(|| {
                    LookupConfigError::new(
                        format!("trusted_sources[{i}]"),
                        format!("`{text}` is not an IP address or CIDR block"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedHeader {
            header: [header],
            trusted,
            counters: Arc::default(),
        })
    }

    /// Whether `peer` may set the header. IPv4-mapped IPv6 peers (`::ffff:10.0.0.7`, as
    /// dual-stack listeners report IPv4 clients) are compared as IPv4.
    pub fn is_trusted(&self, peer: Option<IpAddr>) -> bool {
        let Some(peer) = peer else { return false };
        let peer = peer.to_canonical();
        self.trusted.iter().any(|net| net.contains(&peer))
    }
}

fn parse_source(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
        .map(|net| net.trunc())
}

#[async_trait::async_trait]
impl IdentitySource for TrustedHeader {
    async fn identify(
        &self,
        request: &pingora::http::RequestHeader,
        peer: Option<IpAddr>,
    ) -> Result<Identity, IdentityError> {
        Counters::bump(&self.counters.hits);
        let result = if !self.is_trusted(peer) {
            Err(IdentityError::Missing(
                "identity header ignored: the peer is not a trusted source".into(),
            ))
        } else {
            let mut values = request.headers.get_all(&self.header[0]).iter();
            match (values.next(), values.next()) {
                (None, _) => Err(IdentityError::Missing(
                    format!("no {} header", self.header[0]).into(),
                )),
                (Some(_), Some(_)) => Err(IdentityError::Invalid(
                    format!("more than one {} header", self.header[0]).into(),
                )),
                (Some(value), None) => match value.to_str().map(str::trim) {
                    Ok(id) if valid_account_id(id) => Ok(Identity {
                        account_id: id.to_owned(),
                    }),
                    _ => Err(IdentityError::Invalid(
                        format!("{} is not an account id", self.header[0]).into(),
                    )),
                },
            }
        };
        if result.is_err() {
            Counters::bump(&self.counters.negatives);
        }
        result
    }

    fn strip_headers(&self, peer: Option<IpAddr>) -> &[HeaderName] {
        if self.is_trusted(peer) {
            &[]
        } else {
            &self.header
        }
    }

    fn stats(&self) -> LookupStats {
        self.counters.snapshot(0, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pingora::http::RequestHeader;

    fn source() -> TrustedHeader {
        TrustedHeader::build(&HeaderSpec {
            header: "X-Authenticated-Account".into(),
            trusted_sources: vec!["10.1.0.0/16".into(), "192.0.2.7".into(), "fd00::/8".into()],
        })
        .unwrap()
    }

    fn request(values: &[&str]) -> RequestHeader {
        let mut req = RequestHeader::build("POST", b"/api/v1/posts", None).unwrap();
        for v in values {
            req.append_header("x-authenticated-account", *v).unwrap();
        }
        req
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[tokio::test]
    async fn honoured_only_from_trusted_peers() {
        let s = source();
        let req = request(&["u-xinhua"]);
        for peer in ["10.1.200.3", "192.0.2.7", "fd00::1", "::ffff:10.1.0.9"] {
            let id = s.identify(&req, ip(peer)).await.unwrap();
            assert_eq!(id.account_id, "u-xinhua", "{peer}");
            assert!(s.strip_headers(ip(peer)).is_empty(), "{peer}");
        }
        for peer in [Some("10.2.0.1"), Some("192.0.2.8"), Some("::1"), None] {
            let peer = peer.and_then(ip);
            let err = s.identify(&req, peer).await.unwrap_err();
            assert_eq!(err.code(), "identity.missing", "{peer:?}");
            assert_eq!(
                s.strip_headers(peer),
                &[HeaderName::from_static("x-authenticated-account")]
            );
        }
    }

    #[tokio::test]
    async fn missing_repeated_or_bad_values() {
        let s = source();
        let peer = ip("10.1.0.1");
        assert_eq!(
            s.identify(&request(&[]), peer).await.unwrap_err().code(),
            "identity.missing"
        );
        let two = request(&["u-a", "u-b"]);
        assert_eq!(
            s.identify(&two, peer).await.unwrap_err().code(),
            "identity.invalid"
        );
        assert_eq!(
            s.identify(&request(&[""]), peer).await.unwrap_err().code(),
            "identity.invalid"
        );
        assert_eq!(s.stats().negatives, 3);
    }

    #[test]
    fn rejects_bad_sources() {
        let bad = TrustedHeader::build(&HeaderSpec {
            header: "x-a".into(),
            trusted_sources: vec!["10.0.0.0/8".into(), "intranet".into()],
        })
        .unwrap_err();
        assert_eq!(bad.key, "trusted_sources[1]");
        assert!(TrustedHeader::build(&HeaderSpec {
            header: "x-a".into(),
            trusted_sources: vec![],
        })
        .is_err());
    }
}
