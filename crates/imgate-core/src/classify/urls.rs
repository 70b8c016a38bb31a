//! Blanking of URL-looking tokens in normalised text, before lexicon and model see it.
//!
//! Posts often carry a reprint link ("转发 https://news.example.com/2026/11/a.html"). Tokenised as prose, its
//! scheme, host, query, dates and ids become words and numbers that the model learned from articles (where they
//! mean something else), and they dilute the few real words of a short post. The host's signal belongs to the
//! domain list ([`super::domains`], fed from `Document::source_urls`), so the text signals ignore it.
//!
//! The words of the link's path are kept, though: many sites put the headline there as a slug
//! (`/news/uk-politics-prime-minister-resigns`, or percent-encoded Chinese, which the normaliser has already
//! decoded), and a reader who sees the link reads them. A kept word is a run of three or more letters with no
//! digit attached (`a8f3k` is an id) that does not follow a `.` (`.html`, `.php`) and is not a site-structure
//! word (`news`, `article`, `index`, ...); an escaped ASCII byte (`%20`) separates words like a `-`.
//!
//! Everything else of the token is overwritten with spaces of the same byte length, so byte offsets (and the map
//! back to the original text used for evidence) stay valid, and the runs of spaces also stop word bigrams across
//! the gaps.

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

/// Shortest path word [`path_words`] keeps: shorter runs are ids, file names and abbreviations more often than
/// headline words.
const MIN_PATH_WORD: usize = 3;

/// Path words that name a page's place in a site, not its story: they say nothing about the topic.
const STRUCTURAL_WORDS: &[&[u8]] = &[
    b"amp",
    b"archive",
    b"archives",
    b"article",
    b"articles",
    b"blog",
    b"category",
    b"channel",
    b"content",
    b"contents",
    b"default",
    b"detail",
    b"details",
    b"doc",
    b"docs",
    b"home",
    b"html",
    b"index",
    b"info",
    b"item",
    b"items",
    b"list",
    b"news",
    b"node",
    b"page",
    b"pages",
    b"post",
    b"posts",
    b"read",
    b"static",
    b"stories",
    b"story",
    b"tag",
    b"tags",
    b"view",
    b"web",
    b"www",
];

/// Byte ranges, relative to `tok`, of the words of a URL token that stay readable (see the module doc): the words
/// of its path, and of any host label, query value or fragment written as a slug of [`MIN_SLUG_WORDS`] words or
/// more (`prime-minister-resigns.example.com`, `?headline=prime-minister-resigns-after-vote`,
/// `#the-prime-minister-resigned`). A word is an alphabetic run of at least [`MIN_PATH_WORD`] letters, not part of
/// an alphanumeric run with digits, not right after a `.`, not one of the [`STRUCTURAL_WORDS`]. A lone query
/// word (`?q=election`) or host name (`gov.example.com`) is not a headline.
fn path_words(tok: &[u8]) -> Vec<std::ops::Range<usize>> {
    let host_start = tok
        .windows(3)
        .position(|w| w == b"://")
        .map_or(0, |p| p + 3);
    let rest = tok.get(host_start..).unwrap_or_default();
    let host_end = host_start
        + rest
            .iter()
            .position(|b| matches!(b, b'/' | b'?' | b'#'))
            .unwrap_or(rest.len());
    let path = match tok.get(host_end) {
        Some(b'/') => host_end,
        _ => tok.len().min(host_end),
    };
    let end = tok
        .get(path..)
        .and_then(|p| p.iter().position(|b| matches!(b, b'?' | b'#')))
        .map_or(tok.len(), |q| path + q);
    let mut out = Vec::new();
    // Host labels (and userinfo) that are slugs.
    // A label follows a `.` by definition, so that rule (for `.html`) does not apply there.
    for part in pieces(tok, host_start, host_end, |b| {
        matches!(b, b'.' | b'@' | b':')
    }) {
        slug_words(tok, part, Dots::Allowed, &mut out);
    }
    words_in(tok, path..end, Dots::Excluded, &mut out);
    // Query values and the fragment that are slugs.
    for part in pieces(tok, end, tok.len(), |b| {
        matches!(b, b'?' | b'&' | b'=' | b'#' | b';')
    }) {
        slug_words(tok, part, Dots::Excluded, &mut out);
    }
    out
}

/// Whether a word right after a `.` is a word (host labels) or a file extension (paths, queries).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dots {
    Allowed,
    Excluded,
}

/// Fewest words that make a host label, query value or fragment a headline slug.
const MIN_SLUG_WORDS: usize = 3;

/// The pieces of `tok[from..to]` between delimiter bytes.
fn pieces(
    tok: &[u8],
    from: usize,
    to: usize,
    delimiter: fn(u8) -> bool,
) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut at = from;
    std::iter::from_fn(move || {
        while at < to {
            let s = at;
            while at < to && !delimiter(tok[at]) {
                at += 1;
            }
            let piece = s..at;
            at += 1;
            if !piece.is_empty() {
                return Some(piece);
            }
        }
        None
    })
}

/// Adds the words of `tok[range]` to `out` when it has at least [`MIN_SLUG_WORDS`] of them.
fn slug_words(
    tok: &[u8],
    range: std::ops::Range<usize>,
    dots: Dots,
    out: &mut Vec<std::ops::Range<usize>>,
) {
    let before = out.len();
    words_in(tok, range, dots, out);
    if out.len() - before < MIN_SLUG_WORDS {
        out.truncate(before);
    }
}

/// Adds the readable words of `tok[range]` to `out` (see [`path_words`]).
fn words_in(
    tok: &[u8],
    range: std::ops::Range<usize>,
    dots: Dots,
    out: &mut Vec<std::ops::Range<usize>>,
) {
    let (mut i, end) = (range.start, range.end.min(tok.len()));
    while i < end {
        if is_escape_at(tok, i) {
            i += 3;
            continue;
        }
        let s = i;
        while i < end && tok[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if i == s {
            i += 1;
            continue;
        }
        let run = &tok[s..i];
        let after_dot = dots == Dots::Excluded && s > 0 && tok[s - 1] == b'.';
        if run.len() >= MIN_PATH_WORD
            && !after_dot
            && run.iter().all(u8::is_ascii_alphabetic)
            && !STRUCTURAL_WORDS.contains(&run)
        {
            out.push(s..i);
        }
    }
}

/// Whether a `%XX` escape starts at `i` of `tok` (an escaped space or slash between slug words).
fn is_escape_at(tok: &[u8], i: usize) -> bool {
    matches!(tok.get(i..i + 3), Some([b'%', h, l]) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit())
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

/// Overwrites URL-looking tokens of `n.text` with spaces, all but their path words ([`path_words`]), and
/// updates `n.latin_words`. Returns whether anything was blanked.
/// `original` is the text `n` was normalised from: the normaliser decodes `%20` to a space, which inside a
/// link must not end the link, so such spaces count as URL bytes here.
pub fn blank_urls(n: &mut Normalized, original: &str) -> bool {
    let escaped = escaped_spaces(n, original);
    set_bytes(n, &escaped, b'+');
    let ranges = url_ranges(&n.text);
    let blanked = !ranges.is_empty();
    blank_ranges(n, ranges);
    // Outside links (and between kept path words, which are blanked anyway) they are spaces again.
    set_bytes(n, &escaped, b' ');
    blanked
}

/// Positions of the spaces of `n.text` that the normaliser decoded from `%20` in `original`.
fn escaped_spaces(n: &Normalized, original: &str) -> Vec<usize> {
    // Built once: every classified text is asked.
    static ESCAPED_SPACE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new("%20"));
    if ESCAPED_SPACE.find(original.as_bytes()).is_none() {
        return Vec::new();
    }
    memchr::memchr_iter(b' ', n.text.as_bytes())
        .filter(|&i| {
            n.source_of(i)
                .and_then(|s| original.as_bytes().get(s..s + 3))
                .is_some_and(|escape| escape == b"%20")
        })
        .collect()
}

/// Sets the ASCII bytes of `n.text` at `positions` (spaces or `+`) to `byte`; same length, same word starts.
fn set_bytes(n: &mut Normalized, positions: &[usize], byte: u8) {
    if positions.is_empty() {
        return;
    }
    let mut text = std::mem::take(&mut n.text).into_bytes();
    for &i in positions {
        if let Some(b) = text.get_mut(i).filter(|b| matches!(b, b' ' | b'+')) {
            *b = byte;
        }
    }
    n.text = String::from_utf8(text)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
}

/// Blanks `ranges` (URL tokens of `n.text`), all but their readable words.
fn blank_ranges(n: &mut Normalized, ranges: Vec<std::ops::Range<usize>>) {
    if ranges.is_empty() {
        return;
    }
    let mut words = i64::from(n.latin_words);
    for r in ranges {
        // Only word starts inside the range, or just after it, can change: a position's status depends on its
        // own byte and the one before it.
        let (s, e) = (r.start, r.end + 1);
        words -= i64::from(word_starts(n.text.as_bytes(), s, e));
        let kept: Vec<std::ops::Range<usize>> = n
            .text
            .as_bytes()
            .get(r.clone())
            .map(path_words)
            .unwrap_or_default();
        let mut at = r.start;
        for k in kept.iter().map(|k| r.start + k.start..r.start + k.end) {
            blank(&mut n.text, at..k.start);
            at = k.end;
        }
        blank(&mut n.text, at..r.end);
        words += i64::from(word_starts(n.text.as_bytes(), s, e));
    }
    n.latin_words = u32::try_from(words.max(0)).unwrap_or(u32::MAX);
}

/// Overwrites `range` of `text` (ASCII: URL tokens are) with spaces. Same-length replacement keeps char
/// boundaries and the offset map.
fn blank(text: &mut String, range: std::ops::Range<usize>) {
    /// Replacement text, used in slices: blanking allocates nothing.
    const SPACES: &str = "                                                                ";
    let mut at = range.start;
    while at < range.end {
        let k = (range.end - at).min(SPACES.len());
        text.replace_range(at..at + k, &SPACES[..k]);
        at += k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::normalize::Normalizer;

    fn blanked(s: &str) -> String {
        let mut n = Normalizer::new().normalize(s);
        blank_urls(&mut n, s);
        n.text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn urls_and_hosts_are_blanked() {
        assert_eq!(
            blanked("vote https://news.example.com/2026/11/a.html today"),
            "vote today"
        );
        assert_eq!(blanked("see www.example.org/x?y=1."), "see .");
        assert_eq!(blanked("转发https://t.cn/ab 议会"), "转发 议会");
        assert_eq!(blanked("(bbc.co.uk/go)"), "( )");
        assert_eq!(blanked("mail user@gov.example.cn now"), "mail now");
        assert_eq!(blanked("https://www.election-news.com"), "");
    }

    #[test]
    fn path_words_stay_readable() {
        assert_eq!(
            blanked("转发 https://news.example.com/world/2026/prime-minister-resigns-after-vote-a8f3k2.html?utm_source=feed#top"),
            "转发 world prime minister resigns after vote"
        );
        assert_eq!(blanked("bbc.co.uk/news/uk-politics-12345678"), "politics");
        // Percent-encoded Chinese is decoded by the normaliser; the host and the ids around it are blanked.
        assert_eq!(
            blanked(
                "https://example.cn/2026/%E5%A4%96%E4%BA%A4%E9%83%A8%E5%8F%91%E8%A8%80-01.shtml"
            ),
            "外交部发言-01.shtml"
        );
        // Escaped spaces separate words.
        assert_eq!(
            blanked("example.com/prime%20minister%2Dresigns%2"),
            "prime minister resigns"
        );
        // Spaces sent as `%20` inside a link do not end it.
        assert_eq!(
            blanked("see example.com/a/x1%20y2?id=3%204 The%20prime%20minister"),
            "see the prime minister"
        );
        // A headline slug in a query value, a fragment or a host label is read; a lone word is not.
        assert_eq!(
            blanked("example.com/a?headline=prime-minister-resigns&utm=feed"),
            "prime minister resigns"
        );
        assert_eq!(
            blanked("https://x.co/#The-prime-minister-resigned"),
            "the prime minister resigned"
        );
        assert_eq!(
            blanked("https://prime-minister-resigns-after-vote.example.com/"),
            "prime minister resigns after vote"
        );
        assert_eq!(blanked("https://gov-uk.example.com/a?q=election-day"), "");
        // Query words and file extensions are not headline words.
        assert_eq!(blanked("example.com/index.php?q=election"), "");
        assert_eq!(blanked("example.com/News/Article/2026"), "");
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
            assert!(blank_urls(&mut n, s), "{s}");
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
        assert!(blank_urls(&mut n, orig));
        assert_eq!(n.text.len(), before);
        assert_eq!(n.latin_words, 2);
        let p = n.text.find("said").unwrap_or(0);
        assert_eq!(&orig[n.original_range(orig, p..p + 4)], "said");
    }
}
