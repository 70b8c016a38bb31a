//! Blanking of URL-looking tokens in normalised text, before lexicon and model see it.
//!
//! Posts often carry a reprint link ("转发 https://news.example.com/2026/11/a.html"). Tokenised as prose, its
//! host, path segments and dates become words and numbers that the model learned from articles (where they mean
//! something else), and they dilute the few real words of a short post. The link's signal belongs to the domain
//! list ([`super::domains`], fed from `Document::source_urls`), so the text signals ignore it.
//!
//! The token is overwritten with spaces of the same byte length, so byte offsets (and the map back to the
//! original text used for evidence) stay valid, and the run of spaces also stops word bigrams across the gap.

use super::normalize::Normalized;

/// Top-level domains that make a bare `label.label` token a host name. Short on purpose: a bare token such as
/// "u.s." or "mr.smith" must not be mistaken for a host; anything with a scheme or `www.` is blanked anyway.
const TLDS: &[&str] = &[
    "com", "net", "org", "gov", "edu", "mil", "int", "info", "biz", "io", "co", "cn", "uk", "us",
    "eu", "de", "fr", "jp", "kr", "ru", "hk", "tw", "sg", "au", "ca", "in", "me", "tv", "cc",
    "news", "top", "xyz",
];

/// Bytes that may occur inside a URL token (visible ASCII without quotes, brackets and angle brackets, which
/// usually delimit a link in prose).
#[inline]
fn url_byte(b: u8) -> bool {
    b.is_ascii_graphic()
        && !matches!(
            b,
            b'"' | b'\'' | b'<' | b'>' | b'(' | b')' | b'[' | b']' | b'{' | b'}'
        )
}

/// Whether `host` (lower-case) is `label(.label)+` with a known top-level domain.
fn is_host(host: &[u8]) -> bool {
    let mut labels = host.split(|&b| b == b'.');
    let mut count = 0usize;
    let mut last: &[u8] = &[];
    for l in labels.by_ref() {
        if l.is_empty() || !l.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-') {
            return false;
        }
        count += 1;
        last = l;
    }
    count >= 2 && TLDS.iter().any(|t| t.as_bytes() == last)
}

/// Whether the token (trailing sentence punctuation already removed) looks like a URL or a bare host name.
fn is_url(tok: &[u8]) -> bool {
    if tok.windows(3).any(|w| w == b"://") || tok.starts_with(b"www.") {
        return true;
    }
    // Host part: up to the first '/', '?', '#' or ':' (port).
    let end = tok
        .iter()
        .position(|b| matches!(b, b'/' | b'?' | b'#' | b':'))
        .unwrap_or(tok.len());
    let host = tok.get(..end).unwrap_or(tok);
    let host = host.rsplit(|&b| b == b'@').next().unwrap_or(host);
    is_host(host)
}

/// Position of the first '.' or ':' in `b` (SIMD search via `memchr`, since this runs over every byte of every
/// text).
fn find_dot_or_colon(b: &[u8]) -> Option<usize> {
    memchr::memchr2(b'.', b':', b)
}

/// Byte ranges of URL-looking tokens in normalised (lower-case) `text`. Every URL or host has a '.' or a ':', so
/// only the runs of URL bytes around those are inspected (most of the text is skipped by a plain byte search).
pub fn url_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    // Everything before `done` has been inspected.
    let mut done = 0;
    while let Some(p) = b.get(done..).and_then(find_dot_or_colon) {
        let p = done + p;
        let mut s = p;
        while s > done && url_byte(b[s - 1]) {
            s -= 1;
        }
        let mut i = p + 1;
        while i < b.len() && url_byte(b[i]) {
            i += 1;
        }
        done = i;
        // Leading/trailing punctuation belongs to the sentence, not the link.
        let mut e = i;
        while e > s && matches!(b[e - 1], b'.' | b',' | b';' | b':' | b'!' | b'?') {
            e -= 1;
        }
        while s < e && !b[s].is_ascii_alphanumeric() {
            s += 1;
        }
        if let Some(tok) = b.get(s..e) {
            if !tok.is_empty() && is_url(tok) {
                out.push(s..e);
            }
        }
    }
    out
}

/// Number of Latin word starts (an ASCII alphanumeric not preceded by one) at positions `from..to` of `b`.
fn word_starts(b: &[u8], from: usize, to: usize) -> u32 {
    let mut prev = from
        .checked_sub(1)
        .and_then(|p| b.get(p))
        .is_some_and(u8::is_ascii_alphanumeric);
    let mut n = 0;
    for c in b.get(from..to.min(b.len())).unwrap_or_default() {
        let a = c.is_ascii_alphanumeric();
        n += u32::from(a && !prev);
        prev = a;
    }
    n
}

/// Overwrites URL-looking tokens of `n.text` with spaces and updates `n.latin_words`. Returns whether
/// anything was blanked.
pub fn blank_urls(n: &mut Normalized) -> bool {
    /// Replacement text, used in slices: blanking allocates nothing.
    const SPACES: &str = "                                                                ";
    let ranges = url_ranges(&n.text);
    if ranges.is_empty() {
        return false;
    }
    let mut words = i64::from(n.latin_words);
    for r in ranges {
        // Only word starts inside the range, or just after it, can change: a position's status depends on its
        // own byte and the one before it.
        let (s, e) = (r.start, r.end + 1);
        words -= i64::from(word_starts(n.text.as_bytes(), s, e));
        // URL tokens are ASCII, so same-length replacement keeps char boundaries and the offset map.
        let mut at = r.start;
        while at < r.end {
            let k = (r.end - at).min(SPACES.len());
            n.text.replace_range(at..at + k, &SPACES[..k]);
            at += k;
        }
        words += i64::from(word_starts(n.text.as_bytes(), s, e));
    }
    n.latin_words = u32::try_from(words.max(0)).unwrap_or(u32::MAX);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::normalize::Normalizer;

    fn blanked(s: &str) -> String {
        let mut n = Normalizer::new().normalize(s);
        blank_urls(&mut n);
        n.text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn urls_and_hosts_are_blanked() {
        assert_eq!(
            blanked("vote https://news.example.com/2026/11/a.html today"),
            "vote today"
        );
        assert_eq!(blanked("see www.example.org/x?y=1."), "see .");
        assert_eq!(blanked("转发https://t.cn/abc 议会"), "转发 议会");
        assert_eq!(blanked("(bbc.co.uk/news)"), "( )");
        assert_eq!(blanked("mail user@gov.example.cn now"), "mail now");
    }

    #[test]
    fn finds_dots_and_colons_at_every_offset() {
        for n in 0..20 {
            let mut v = vec![b'a'; 20];
            assert_eq!(find_dot_or_colon(&v), None);
            v[n] = if n % 2 == 0 { b'.' } else { b':' };
            assert_eq!(find_dot_or_colon(&v), Some(n));
            // A byte just below '.' (borrow propagation) must not fake a hit.
            v[n] = b'-';
            assert_eq!(find_dot_or_colon(&v), None);
        }
    }

    #[test]
    fn prose_is_kept() {
        for s in [
            "the u.s. senate",
            "e.g. mr.smith said",
            "it cost 1.5bn",
            "time: 10:30",
            "end. next",
        ] {
            assert_eq!(blanked(s), s, "{s}");
        }
    }

    /// The word count after blanking equals a full recount of the blanked text.
    #[test]
    fn word_count_is_updated_exactly() {
        for s in [
            "a https://x.example.com/b c",
            "https://x.example.com/b",
            "ab.example.com/x1 www.y.org b2 see t.cn",
            "转发https://t.cn/abc 议会 vote",
            "x(bbc.co.uk/news)y",
        ] {
            let mut n = Normalizer::new().normalize(s);
            assert!(blank_urls(&mut n), "{s}");
            assert_eq!(
                n.latin_words,
                word_starts(n.text.as_bytes(), 0, n.text.len()),
                "{s}"
            );
            let full = n
                .text
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty());
            assert_eq!(n.latin_words as usize, full.count(), "{s}");
        }
    }

    #[test]
    fn offsets_and_word_count_stay_consistent() {
        let orig = "Minister https://a.example.com/x said";
        let mut n = Normalizer::new().normalize(orig);
        let before = n.text.len();
        assert!(blank_urls(&mut n));
        assert_eq!(n.text.len(), before);
        assert_eq!(n.latin_words, 2);
        let p = n.text.find("said").unwrap_or(0);
        assert_eq!(&orig[n.original_range(orig, p..p + 4)], "said");
    }
}
