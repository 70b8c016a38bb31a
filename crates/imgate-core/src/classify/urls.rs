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
    "com", "net", "org", "gov", "edu", "mil", "int", "info", "biz", "io", "co", "cn", "uk", "us", "eu", "de",
    "fr", "jp", "kr", "ru", "hk", "tw", "sg", "au", "ca", "in", "me", "tv", "cc", "news", "top", "xyz",
];

/// Bytes that may occur inside a URL token (visible ASCII without quotes, brackets and angle brackets, which
/// usually delimit a link in prose).
#[inline]
fn url_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'<' | b'>' | b'(' | b')' | b'[' | b']' | b'{' | b'}')
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

/// Byte ranges of URL-looking tokens in normalised (lower-case) `text`.
pub fn url_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !url_byte(b[i]) {
            i += 1;
            continue;
        }
        let s = i;
        let mut interesting = false;
        while i < b.len() && url_byte(b[i]) {
            interesting |= matches!(b[i], b'.' | b':');
            i += 1;
        }
        if !interesting {
            continue;
        }
        // Leading/trailing punctuation belongs to the sentence, not the link.
        let mut e = i;
        while e > s && matches!(b[e - 1], b'.' | b',' | b';' | b':' | b'!' | b'?') {
            e -= 1;
        }
        let mut st = s;
        while st < e && !b[st].is_ascii_alphanumeric() {
            st += 1;
        }
        if let Some(tok) = b.get(st..e) {
            if !tok.is_empty() && is_url(tok) {
                out.push(st..e);
            }
        }
    }
    out
}

/// Overwrites URL-looking tokens of `n.text` with spaces and recounts `n.latin_words`. Returns whether
/// anything was blanked.
pub fn blank_urls(n: &mut Normalized) -> bool {
    let ranges = url_ranges(&n.text);
    if ranges.is_empty() {
        return false;
    }
    for r in ranges {
        // URL tokens are ASCII, so same-length replacement keeps char boundaries and the offset map.
        let len = r.len();
        n.text.replace_range(r, &" ".repeat(len));
    }
    let b = n.text.as_bytes();
    n.latin_words = b
        .iter()
        .enumerate()
        .filter(|&(i, c)| c.is_ascii_alphanumeric() && (i == 0 || !b[i - 1].is_ascii_alphanumeric()))
        .count() as u32;
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
        assert_eq!(blanked("vote https://news.example.com/2026/11/a.html today"), "vote today");
        assert_eq!(blanked("see www.example.org/x?y=1."), "see .");
        assert_eq!(blanked("转发https://t.cn/abc 议会"), "转发 议会");
        assert_eq!(blanked("(bbc.co.uk/news)"), "( )");
        assert_eq!(blanked("mail user@gov.example.cn now"), "mail now");
    }

    #[test]
    fn prose_is_kept() {
        for s in ["the u.s. senate", "e.g. mr.smith said", "it cost 1.5bn", "time: 10:30", "end. next"] {
            assert_eq!(blanked(s), s, "{s}");
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
