//! Source-domain lists: a reprint from a listed news source counts as evidence for the category.
//!
//! ```text
//! # one host per line; matches the host and all its subdomains
//! gov.cn
//! news.example.com/politics/ | 3.0   # optional path prefix hint and weight
//! ```
//! Without a weight an entry contributes the category's `domain_weight`.

use std::collections::HashMap;

use serde::Serialize;

use super::lexicon::parse_weight;
use super::BuildError;

/// One parsed list entry.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainEntry {
    pub host: String,
    /// Lower-case path prefix the URL must start with, if any.
    pub path_prefix: Option<String>,
    /// Explicit weight, or `None` for the category default.
    pub weight: Option<f64>,
    pub file: String,
    pub line: usize,
}

/// Evidence of a domain hit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainHit {
    /// Index of the URL in `Document::source_urls`.
    pub url_index: usize,
    /// The list entry that matched (`host` or `host/path`).
    pub entry: String,
    pub weight: f64,
}

/// Parses a domain list file.
pub fn parse_domains(file: &str, content: &str) -> Result<Vec<DomainEntry>, BuildError> {
    let mut out = Vec::new();
    for (idx, raw) in content.lines().enumerate() {
        let line_no = idx + 1;
        let line = match raw.find('#') {
            Some(p) => &raw[..p],
            None => raw,
        };
        if line.trim().is_empty() {
            continue;
        }
        let (spec, weight) = match line.rfind('|') {
            Some(bar) => {
                let col = raw[..bar + 1].chars().count() + 1;
                (
                    &line[..bar],
                    Some(parse_weight(file, line_no, col, &line[bar + 1..])?),
                )
            }
            None => (line, None),
        };
        let spec = spec.trim().to_ascii_lowercase();
        let spec = spec.split_once("://").map_or(spec.as_str(), |(_, r)| r);
        let (host, path) = match spec.find('/') {
            Some(p) => (&spec[..p], Some(spec[p..].to_string())),
            None => (spec, None),
        };
        let host = host
            .trim_end_matches('.')
            .trim_start_matches("*.")
            .trim_start_matches('.');
        let valid = !host.is_empty()
            && host.split('.').all(|l| {
                !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !valid {
            let col = raw.find(|c: char| !c.is_whitespace()).map_or(1, |b| b + 1);
            return Err(BuildError::Syntax {
                file: file.to_string(),
                line: line_no,
                column: col,
                message: format!("not a host name: {:?}", spec),
            });
        }
        out.push(DomainEntry {
            host: host.to_string(),
            path_prefix: path.filter(|p| p != "/"),
            weight,
            file: file.to_string(),
            line: line_no,
        });
    }
    Ok(out)
}

/// Splits a URL (or bare `host/path`) into lower-case host and path. Tolerant: returns `None` for no host.
pub fn split_url(url: &str) -> Option<(String, String)> {
    let url = url.trim();
    let rest = match url.find("://") {
        Some(p) => &url[p + 3..],
        None => url.strip_prefix("//").unwrap_or(url),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let path = &rest[end..];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        host_port
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    let path = path
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    Some((
        host,
        if path.is_empty() {
            "/".to_string()
        } else {
            path
        },
    ))
}

/// Host-suffix index over all entries of a category.
#[derive(Debug, Default)]
pub struct DomainSet {
    by_host: HashMap<String, Vec<DomainEntry>>,
    default_weight: f64,
}

impl DomainSet {
    pub fn new(entries: Vec<DomainEntry>, default_weight: f64) -> Self {
        let mut by_host: HashMap<String, Vec<DomainEntry>> = HashMap::new();
        for e in entries {
            by_host.entry(e.host.clone()).or_default().push(e);
        }
        DomainSet {
            by_host,
            default_weight,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_host.is_empty()
    }

    /// The strongest hit among the URLs: the host or any parent domain is listed and the path hint (if any) is a
    /// prefix of the URL path.
    pub fn best_hit(&self, urls: &[&str]) -> Option<DomainHit> {
        let mut best: Option<DomainHit> = None;
        for (url_index, url) in urls.iter().enumerate() {
            let Some((host, path)) = split_url(url) else {
                continue;
            };
            let mut suffix = host.as_str();
            loop {
                if let Some(entries) = self.by_host.get(suffix) {
                    for e in entries {
                        if e.path_prefix
                            .as_ref()
                            .is_some_and(|p| !path.starts_with(p.as_str()))
                        {
                            continue;
                        }
                        let weight = e.weight.unwrap_or(self.default_weight);
                        if best.as_ref().is_none_or(|b| weight > b.weight) {
                            let entry = match &e.path_prefix {
                                Some(p) => format!("{}{}", e.host, p),
                                None => e.host.clone(),
                            };
                            best = Some(DomainHit {
                                url_index,
                                entry,
                                weight,
                            });
                        }
                    }
                }
                match suffix.find('.') {
                    Some(p) => suffix = &suffix[p + 1..],
                    None => break,
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> DomainSet {
        let src =
            "# news\ngov.example\nnews.example.com/politics/ | 3\nhttps://Wire.Example.org/\n";
        DomainSet::new(parse_domains("d.txt", src).unwrap(), 2.0)
    }

    #[test]
    fn subdomain_aware() {
        let s = set();
        assert_eq!(
            s.best_hit(&["http://www.gov.example/a"]).map(|h| h.weight),
            Some(2.0)
        );
        assert_eq!(
            s.best_hit(&["https://user@GOV.example.:8443/x?y"])
                .map(|h| h.entry),
            Some("gov.example".into())
        );
        assert!(s.best_hit(&["https://notgov.example/"]).is_none());
        assert!(s.best_hit(&["https://gov.example.evil.com/"]).is_none());
        assert!(s.best_hit(&["wire.example.org"]).is_some());
    }

    #[test]
    fn path_hints() {
        let s = set();
        assert_eq!(
            s.best_hit(&["x", "https://news.example.com/politics/2024/a.html"])
                .map(|h| (h.url_index, h.weight)),
            Some((1, 3.0))
        );
        assert!(s
            .best_hit(&["https://news.example.com/sport/a.html"])
            .is_none());
    }

    #[test]
    fn bad_lines_are_located() {
        match parse_domains("d.txt", "ok.com\nbad host\n") {
            Err(BuildError::Syntax { line, .. }) => assert_eq!(line, 2),
            other => panic!("{other:?}"),
        }
        match parse_domains("d.txt", "ok.com | x\n") {
            Err(BuildError::Syntax { line, column, .. }) => assert_eq!((line, column), (1, 9)),
            other => panic!("{other:?}"),
        }
    }
}
