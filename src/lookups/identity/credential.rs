//! Where the client's credential is: a header, optionally with an auth scheme
//! (`Authorization: Bearer <token>`).

use super::IdentityError;
use http::{HeaderName, HeaderValue};
use serde::Deserialize;

/// Where to find the credential. Defaults to `Authorization: Bearer <token>`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialSpec {
    /// Header carrying the credential (case-insensitive). Default `"authorization"`.
    #[serde(default = "default_header")]
    pub header: String,
    /// Auth scheme before the credential (case-insensitive), e.g. `"Bearer"`; `""` takes
    /// the whole header value. Default `"Bearer"`.
    #[serde(default = "default_scheme")]
    pub scheme: String,
}

impl Default for CredentialSpec {
    fn default() -> Self {
        CredentialSpec {
            header: default_header(),
            scheme: default_scheme(),
        }
    }
}

fn default_header() -> String {
    "authorization".to_owned()
}

fn default_scheme() -> String {
    "Bearer".to_owned()
}

/// A header name as people write it (`authorization` → `Authorization`, `x-auth-token` →
/// `X-Auth-Token`), for messages.
fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut start = true;
    for c in name.chars() {
        out.push(if start { c.to_ascii_uppercase() } else { c });
        start = c == '-';
    }
    out
}

/// Longest credential accepted; longer ones are refused before hashing or forwarding.
const MAX_CREDENTIAL: usize = 8 * 1024;

/// The compiled form of a [`CredentialSpec`].
#[derive(Debug, Clone)]
pub(crate) struct CredentialLocation {
    pub header: HeaderName,
    scheme: Option<String>,
    /// How a client sends it, for error messages: `` `Authorization: Bearer <token>` ``.
    hint: String,
}

/// A credential found in a request: the token, and the header value it came in (to
/// forward to an introspection endpoint as received).
pub(crate) struct Credential<'a> {
    pub token: &'a str,
    pub header_value: &'a HeaderValue,
}

impl CredentialLocation {
    /// How a client sends the credential (`` `Authorization: Bearer <token>` ``), for error messages.
    pub fn hint(&self) -> &str {
        &self.hint
    }

    pub fn compile(spec: &CredentialSpec, key: &str) -> Result<Self, super::LookupConfigError> {
        let header = HeaderName::from_bytes(spec.header.as_bytes()).map_err(|_| {
            super::LookupConfigError::new(
                format!("{key}.header"),
                format!("`{}` is not a valid header name", spec.header),
            )
        })?;
        let scheme = spec.scheme.trim();
        if scheme.contains(char::is_whitespace) {
            return Err(super::LookupConfigError::new(
                format!("{key}.scheme"),
                "an auth scheme is one word, e.g. \"Bearer\"",
            ));
        }
        let shown = title_case(spec.header.trim());
        let hint = if scheme.is_empty() {
            format!("`{shown}: <token>`")
        } else {
            format!("`{shown}: {scheme} <token>`")
        };
        Ok(CredentialLocation {
            header,
            scheme: (!scheme.is_empty()).then(|| scheme.to_owned()),
            hint,
        })
    }

    /// The credential in `headers`. Absent → Missing; repeated header (which one would
    /// the upstream read?), wrong scheme, empty, over-long or non-token characters →
    /// Malformed (reported as `identity.invalid`).
    pub fn extract<'a>(
        &self,
        headers: &'a http::HeaderMap,
    ) -> Result<Credential<'a>, IdentityError> {
        let mut values = headers.get_all(&self.header).iter();
        let Some(value) = values.next() else {
            return Err(IdentityError::Missing(
                format!("no {} header", self.header).into(),
            ));
        };
        if values.next().is_some() {
            return Err(IdentityError::Malformed(
                format!("more than one {} header", self.header).into(),
            ));
        }
        if value.len() > MAX_CREDENTIAL {
            return Err(IdentityError::Malformed("credential too long".into()));
        }
        let text = value
            .to_str()
            .map_err(|_| IdentityError::Malformed("credential is not visible ASCII".into()))?
            .trim();
        let token = match &self.scheme {
            None => text,
            Some(scheme) => {
                let (given, rest) = text.split_once(' ').unwrap_or((text, ""));
                if !given.eq_ignore_ascii_case(scheme) {
                    return Err(IdentityError::Malformed(
                        format!("expected the {scheme} scheme").into(),
                    ));
                }
                rest.trim()
            }
        };
        if token.is_empty() {
            return Err(IdentityError::Malformed("empty credential".into()));
        }
        if token
            .chars()
            .any(|c| c.is_ascii_whitespace() || c.is_ascii_control())
        {
            return Err(IdentityError::Malformed(
                "credential contains spaces".into(),
            ));
        }
        Ok(Credential {
            token,
            header_value: value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer() -> CredentialLocation {
        CredentialLocation::compile(&CredentialSpec::default(), "credential").unwrap()
    }

    fn headers(values: &[&str]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for v in values {
            map.append("authorization", HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn extracts_bearer_tokens() {
        let map = headers(&["Bearer abc.def"]);
        assert_eq!(
            bearer().extract(&map).ok().map(|c| c.token),
            Some("abc.def")
        );
        let map = headers(&["bearer   abc"]);
        assert_eq!(bearer().extract(&map).ok().map(|c| c.token), Some("abc"));
    }

    #[test]
    fn hints_say_how_to_send_the_credential() {
        assert_eq!(bearer().hint(), "`Authorization: Bearer <token>`");
        let spec = CredentialSpec {
            header: "x-auth-token".into(),
            scheme: String::new(),
        };
        let location = CredentialLocation::compile(&spec, "credential").unwrap();
        assert_eq!(location.hint(), "`X-Auth-Token: <token>`");
    }

    #[test]
    fn classifies_failures() {
        let kind = |v: &[&str]| bearer().extract(&headers(v)).err().map(|e| e.code());
        assert_eq!(kind(&[]), Some("identity.missing"));
        assert_eq!(kind(&["Basic dXNlcg=="]), Some("identity.invalid"));
        assert_eq!(kind(&["Bearer"]), Some("identity.invalid"));
        assert_eq!(kind(&["Bearer a b"]), Some("identity.invalid"));
        assert_eq!(kind(&["Bearer a", "Bearer b"]), Some("identity.invalid"));
        assert_eq!(
            kind(&[&format!("Bearer {}", "x".repeat(9000))]),
            Some("identity.invalid")
        );
    }

    #[test]
    fn raw_header_without_scheme() {
        let spec = CredentialSpec {
            header: "x-api-token".into(),
            scheme: String::new(),
        };
        let loc = CredentialLocation::compile(&spec, "credential").unwrap();
        let mut map = http::HeaderMap::new();
        map.insert("x-api-token", HeaderValue::from_static("t0k"));
        assert_eq!(loc.extract(&map).ok().map(|c| c.token), Some("t0k"));
        assert!(CredentialLocation::compile(
            &CredentialSpec {
                header: "bad header".into(),
                scheme: String::new()
            },
            "credential"
        )
        .is_err());
    }
}
