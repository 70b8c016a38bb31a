//! The HTTP client lookups use to reach the introspection endpoint and the approval
//! service.
//!
//! `reqwest` works from any tokio runtime, which matters because request-path lookups
//! are awaited on pingora's runtimes while list syncs run on the lookups runtime. Every
//! request has a deadline covering connect, headers and body; bodies are read up to a
//! limit; redirects are not followed (a credential must not travel to wherever a
//! `Location` points) and proxy environment variables are ignored (lookups talk to
//! internal services, and a proxy would see the forwarded credential).

use super::LookupConfigError;
use bytes::{Bytes, BytesMut};
use reqwest::header::HeaderMap;
use reqwest::{StatusCode, Url};
use std::time::Duration;

/// Why a request to a lookup service produced no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FetchError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot reach the service: {0}")]
    Connect(String),
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    #[error("unexpected status {0}")]
    Status(u16),
    #[error("unreadable answer: {0}")]
    Malformed(String),
}

/// A client with one deadline per request.
#[derive(Debug, Clone)]
pub(crate) struct HttpClient {
    client: reqwest::Client,
    timeout: Duration,
}

impl HttpClient {
    pub fn new(timeout: Duration, key: &str) -> Result<Self, LookupConfigError> {
        if timeout.is_zero() {
            return Err(LookupConfigError::new(key, "must be more than zero"));
        }
        let client = reqwest::Client::builder()
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(concat!("imgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                LookupConfigError::new(key, format!("cannot build an HTTP client: {e}"))
            })?;
        Ok(HttpClient { client, timeout })
    }

    /// `GET url`: the status and up to `limit` bytes of body, within the deadline.
    pub async fn get(
        &self,
        url: Url,
        headers: HeaderMap,
        limit: usize,
    ) -> Result<(StatusCode, Bytes), FetchError> {
        let deadline = self.timeout;
        let work = async {
            let mut response = self
                .client
                .get(url)
                .headers(headers)
                .send()
                .await
                .map_err(|e| classify(&e, deadline))?;
            let status = response.status();
            if response
                .content_length()
                .is_some_and(|len| len > limit as u64)
            {
                return Err(FetchError::TooLarge(limit));
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e, deadline))? {
                if body.len() + chunk.len() > limit {
                    return Err(FetchError::TooLarge(limit));
                }
                body.extend_from_slice(&chunk);
            }
            Ok((status, body.freeze()))
        };
        // One deadline for the whole exchange, body included.
        tokio::time::timeout(deadline, work)
            .await
            .unwrap_or(Err(FetchError::Timeout(deadline)))
    }
}

fn classify(err: &reqwest::Error, deadline: Duration) -> FetchError {
    if err.is_timeout() {
        FetchError::Timeout(deadline)
    } else {
        // reqwest's messages name the URL, never header values.
        FetchError::Connect(error_chain(err))
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Resolves a URL from a spec: absolute `http(s)://` URLs as they are, and paths
/// starting with `/` against the upstream's base URL.
pub(crate) fn resolve_url(
    raw: &str,
    upstream_base: &str,
    key: &str,
) -> Result<Url, LookupConfigError> {
    let text = if raw.starts_with('/') {
        format!("{}{raw}", upstream_base.trim_end_matches('/'))
    } else {
        raw.to_owned()
    };
    let url = Url::parse(&text)
        .map_err(|e| LookupConfigError::new(key, format!("invalid URL `{text}`: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(LookupConfigError::new(
            key,
            format!("`{text}` must be an http:// or https:// URL, or a path starting with /"),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(LookupConfigError::new(
            key,
            "credentials in URLs would be logged; configure them elsewhere",
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_and_absolute_urls() {
        let base = "http://127.0.0.1:8081/";
        let url = resolve_url("/api/v1/session", base, "url").unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:8081/api/v1/session");
        let url = resolve_url("https://auth.example/s", base, "url").unwrap();
        assert_eq!(url.as_str(), "https://auth.example/s");
        assert!(resolve_url("ftp://x/y", base, "url").is_err());
        assert!(resolve_url("api/v1", base, "url").is_err());
        assert!(resolve_url("http://u:p@x/", base, "url").is_err());
    }

    #[tokio::test]
    async fn refused_connection_is_a_connect_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let client = HttpClient::new(Duration::from_millis(500), "timeout").unwrap();
        let url = Url::parse(&format!("http://{addr}/")).unwrap();
        let err = client.get(url, HeaderMap::new(), 1024).await.unwrap_err();
        assert!(matches!(err, FetchError::Connect(_)), "{err:?}");
    }
}
