//! Canonical request paths.
//!
//! Routes are matched on the most aggressive reading of a path that any upstream might
//! apply: percent-escapes decoded (including `%2F` as a separator), backslashes as
//! slashes, `;` parameters cut off, empty and dot segments resolved, a trailing slash
//! ignored. So no spelling can reach an enforced upstream handler without matching its
//! route. The gateway then *rejects* any such variant on enforced routes (it never
//! rewrites the path), so what it checked is exactly what the upstream receives.

use std::borrow::Cow;

/// A path spelling that differs from its canonical form, named for the error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    EncodedSeparator,
    EncodedUnreserved,
    Backslash,
    DotSegment,
    EmptySegment,
    TrailingSlash,
    MatrixParameter,
}

impl Variant {
    pub fn describe(self) -> &'static str {
        match self {
            Variant::EncodedSeparator => "an encoded slash, backslash or dot",
            Variant::EncodedUnreserved => "a percent-encoded letter, digit or -._~",
            Variant::Backslash => "a backslash",
            Variant::DotSegment => "a `.` or `..` segment",
            Variant::EmptySegment => "an empty segment (`//`)",
            Variant::TrailingSlash => "a trailing slash",
            Variant::MatrixParameter => "a `;` parameter",
        }
    }
}

/// Paths that are refused on every route, enforced or not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the request path contains a NUL byte")]
    Nul,
    #[error("the request path must start with `/`")]
    NotAbsolute,
}

/// The canonical reading of a request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalPath {
    /// Decoded, dot-resolved path, `/`-joined, no trailing slash (except the root).
    pub path: String,
    /// The first way the original spelling differs from `path`, if any.
    pub variant: Option<Variant>,
}

impl CanonicalPath {
    pub fn is_exact(&self) -> bool {
        self.variant.is_none()
    }
}

/// Computes the canonical reading of `raw` (the path part of the request target, without
/// the query string).
pub fn canonicalize(raw: &str) -> Result<CanonicalPath, PathError> {
    if !raw.starts_with('/') {
        return Err(PathError::NotAbsolute);
    }
    if is_plainly_canonical(raw) {
        // Nearly every request: no segment list, no decoding, one copy.
        return Ok(CanonicalPath {
            path: raw.to_owned(),
            variant: None,
        });
    }
    canonicalize_general(raw)
}

/// Whether `raw` (starting with `/`) is its own canonical reading: no byte the general
/// reading would decode, split or cut (`%`, `\`, `;`, NUL), no empty segment, no trailing
/// slash except the root's, no `.` or `..` segment.
fn is_plainly_canonical(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    if bytes
        .iter()
        .any(|b| matches!(b, b'%' | b'\\' | b';' | b'\0'))
    {
        return false;
    }
    if raw == "/" {
        return true;
    }
    raw[1..]
        .split('/')
        .all(|segment| !matches!(segment, "" | "." | ".."))
}

/// The full reading, for paths that are not [plainly canonical](is_plainly_canonical).
fn canonicalize_general(raw: &str) -> Result<CanonicalPath, PathError> {
    let mut variant: Option<Variant> = None;
    let mut note = |v: Variant| {
        if variant.is_none() {
            variant = Some(v);
        }
    };

    if raw.contains('\\') {
        note(Variant::Backslash);
    }
    let mut segments: Vec<String> = Vec::new();
    let raw_segments: Vec<&str> = raw[1..].split(['/', '\\']).collect();
    let last = raw_segments.len().saturating_sub(1);
    for (i, raw_segment) in raw_segments.iter().enumerate() {
        if raw_segment.is_empty() {
            if i < last {
                note(Variant::EmptySegment);
            } else if i > 0 {
                note(Variant::TrailingSlash);
            }
            continue;
        }
        let without_params = match raw_segment.find(';') {
            Some(at) => {
                note(Variant::MatrixParameter);
                &raw_segment[..at]
            }
            None => raw_segment,
        };
        let decoded = percent_decode(without_params, &mut note)?;
        // An encoded `;` may still start parameters for an upstream that decodes first.
        let decoded = match decoded.find(';') {
            Some(at) => Cow::Owned(decoded[..at].to_owned()),
            None => decoded,
        };
        // A decoded separator splits the segment: read it as an upstream that decodes
        // before routing would.
        for piece in decoded.split(['/', '\\']) {
            match piece {
                "" => {}
                "." => note(Variant::DotSegment),
                ".." => {
                    note(Variant::DotSegment);
                    segments.pop();
                }
                other => segments.push(other.to_owned()),
            }
        }
    }
    let mut path = String::with_capacity(raw.len());
    for segment in &segments {
        path.push('/');
        path.push_str(segment);
    }
    if path.is_empty() {
        path.push('/');
    }
    Ok(CanonicalPath { path, variant })
}

/// Decodes `%XX` escapes, noting escapes that have no business being escaped. Invalid
/// escapes are kept literally (as most servers do). NUL, raw or encoded, is refused.
fn percent_decode<'a>(
    segment: &'a str,
    note: &mut impl FnMut(Variant),
) -> Result<Cow<'a, str>, PathError> {
    if segment.contains('\0') {
        return Err(PathError::Nul);
    }
    if !segment.contains('%') {
        return Ok(Cow::Borrowed(segment));
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                let byte = h << 4 | l;
                match byte {
                    0 => return Err(PathError::Nul),
                    b'/' | b'\\' | b'.' => note(Variant::EncodedSeparator),
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'~' => {
                        note(Variant::EncodedUnreserved)
                    }
                    b';' => note(Variant::MatrixParameter),
                    _ => {}
                }
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    Ok(Cow::Owned(String::from_utf8_lossy(&out).into_owned()))
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The fast path answers exactly what the general reading answers, on paths made
        /// of the bytes that matter (separators, dots, escapes, parameters).
        #[test]
        fn the_fast_path_agrees_with_the_general_reading(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "/", "a", "b", ".", "..", "%2F", "%41", "%", ";", "\\", "x.y", "~", "\0",
            ]), 0..12)
        ) {
            let raw = format!("/{}", parts.concat());
            proptest::prop_assert_eq!(canonicalize(&raw), canonicalize_general(&raw));
        }
    }

    fn canon(raw: &str) -> (String, Option<Variant>) {
        let c = canonicalize(raw).unwrap();
        (c.path, c.variant)
    }

    #[test]
    fn ordinary_paths_are_exact() {
        for p in [
            "/",
            "/api/v1/accounts",
            "/api/v1/posts/p-1",
            "/legacy/register.do",
            "/a/%E4%B8%AD",
        ] {
            assert_eq!(canonicalize(p).unwrap().variant, None, "{p}");
        }
        assert_eq!(canon("/a/%E4%B8%AD").0, "/a/中");
    }

    #[test]
    fn variants_resolve_to_the_same_path() {
        let cases = [
            ("/api/v1/accounts/", Variant::TrailingSlash),
            ("/api//v1/accounts", Variant::EmptySegment),
            ("//api/v1/accounts", Variant::EmptySegment),
            ("/api/v1/./accounts", Variant::DotSegment),
            ("/api/v1/x/../accounts", Variant::DotSegment),
            ("/api/v1/%2E%2E/v1/accounts", Variant::EncodedSeparator),
            ("/api%2Fv1%2Faccounts", Variant::EncodedSeparator),
            ("/api%2fv1/accounts", Variant::EncodedSeparator),
            ("/api\\v1\\accounts", Variant::Backslash),
            ("/api/v1/accounts;jsessionid=1", Variant::MatrixParameter),
            ("/api/v1/%61ccounts", Variant::EncodedUnreserved),
            ("/api/v1/accounts%3Bx", Variant::MatrixParameter),
        ];
        for (raw, variant) in cases {
            let (path, found) = canon(raw);
            assert_eq!(path, "/api/v1/accounts", "{raw}");
            assert_eq!(found, Some(variant), "{raw}");
        }
    }

    #[test]
    fn dot_segments_cannot_climb_above_root() {
        assert_eq!(canon("/../../api/v1/accounts").0, "/api/v1/accounts");
    }

    #[test]
    fn nul_and_relative_paths_are_refused() {
        assert_eq!(canonicalize("/a\0b"), Err(PathError::Nul));
        assert_eq!(canonicalize("/a%00b"), Err(PathError::Nul));
        assert_eq!(canonicalize("a/b"), Err(PathError::NotAbsolute));
        assert_eq!(canonicalize("*"), Err(PathError::NotAbsolute));
    }

    #[test]
    fn invalid_escapes_stay_literal() {
        assert_eq!(canon("/a/%zz/%4"), ("/a/%zz/%4".to_owned(), None));
    }
}
