//! The feature space of the statistical model, shared by training and scoring.
//!
//! Features are taken from normalised text in ONE left-to-right pass ([`scan_features`]):
//! * CJK character n-grams (1..=[`MAX_CJK_NGRAM`]) inside runs of CJK characters, via a rolling window;
//! * Latin words (maximal ASCII alphanumeric runs) and word bigrams (two words separated by exactly one space),
//!   both skipping English stop words ([`is_stop_word`]) and all-digit tokens ([`is_skipped_word`]): stop words
//!   carry no topic and would dominate the length normalisation; numbers (dates, times, amounts, URL path
//!   segments) were learned from article boilerplate and make a short post's score depend on its date.
//!
//! Each feature is identified by a 64-bit key ([`feature_key`] computes it from the feature's text, as written in
//! the model file), so scoring is one hash-table probe per feature occurrence instead of a multi-pattern search
//! over tens of thousands of strings. CJK keys are exact (code points packed 21 bits each, top bit clear); Latin
//! keys are hashes with the top bit set, so the two families never collide.

use std::sync::OnceLock;

use super::normalize::{is_cjk, ALNUM, ASCII_CLASS, DIGIT};

/// Longest CJK n-gram used as a feature.
pub const MAX_CJK_NGRAM: usize = 3;

/// Set on every Latin key; never set on a CJK key (3 x 21 bits = 63 bits).
const LATIN_TAG: u64 = 1 << 63;

/// Whether a match of `pattern` at `start..end` in `text` respects word boundaries: an ASCII alphanumeric at
/// either end of the pattern must not continue into an ASCII alphanumeric in the text (so "selection" does not
/// hit "election" and "administer" does not hit "minister"). `right` = false skips the right check (prefixes).
#[inline]
pub fn on_boundaries(text: &[u8], start: usize, end: usize, right: bool) -> bool {
    if start >= end || end > text.len() {
        return false;
    }
    if text[start].is_ascii_alphanumeric() && start > 0 && text[start - 1].is_ascii_alphanumeric() {
        return false;
    }
    if right
        && text[end - 1].is_ascii_alphanumeric()
        && end < text.len()
        && text[end].is_ascii_alphanumeric()
    {
        return false;
    }
    true
}

/// English function words: skipped as unigrams and never part of a bigram. None is longer than
/// [`STOP_WORD_MAX`] bytes, which lets the feature scan look them up packed into one integer ([`StopWords`]).
pub const STOP_WORDS: &[&[u8]] = &[
    b"a", b"an", b"the", b"and", b"or", b"but", b"of", b"to", b"in", b"on", b"at", b"by", b"for",
    b"with", b"from", b"as", b"into", b"about", b"than", b"that", b"this", b"these", b"those",
    b"it", b"its", b"is", b"are", b"was", b"were", b"be", b"been", b"being", b"has", b"have",
    b"had", b"do", b"does", b"did", b"will", b"would", b"can", b"could", b"should", b"may",
    b"might", b"must", b"shall", b"he", b"she", b"they", b"we", b"you", b"i", b"his", b"her",
    b"their", b"our", b"your", b"my", b"him", b"them", b"us", b"me", b"who", b"which", b"what",
    b"when", b"where", b"there", b"here", b"not", b"no", b"so", b"if", b"also", b"s", b"t",
    b"said", b"says",
];

/// Length of the longest [`STOP_WORDS`] entry.
const STOP_WORD_MAX: usize = 6;

/// Whether `w` is one of the [`STOP_WORDS`].
pub fn is_stop_word(w: &[u8]) -> bool {
    // Packing is exact only for non-empty words without NUL bytes (the scan's words are alphanumeric).
    !w.contains(&0) && pack_short(w).is_some_and(|p| stop_words().contains(p))
}

/// `w`'s bytes packed little-endian into an integer, if it is 1 to [`STOP_WORD_MAX`] bytes long. Exact for
/// words without NUL bytes: two different such words never pack alike, and none packs to 0.
#[inline]
fn pack_short(w: &[u8]) -> Option<u64> {
    (!w.is_empty() && w.len() <= STOP_WORD_MAX)
        .then(|| w.iter().rev().fold(0u64, |p, &b| (p << 8) | u64::from(b)))
}

/// [`pack_short`] of the `len` bytes (1 to [`STOP_WORD_MAX`]) at `start` of `text`: one unaligned load and a mask
/// where eight bytes are there to read, since the feature scan packs every short word.
#[inline]
fn pack_at(text: &[u8], start: usize, len: usize) -> u64 {
    let mask = (1u64 << (8 * len.min(STOP_WORD_MAX))) - 1;
    match text.get(start..start + 8) {
        Some(&[b0, b1, b2, b3, b4, b5, b6, b7]) => {
            u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7]) & mask
        }
        _ => text
            .get(start..start + len)
            .and_then(pack_short)
            .unwrap_or(u64::MAX),
    }
}

/// The [`STOP_WORDS`] as an open-addressing set of packed words: the feature scan asks about every Latin word of
/// every post, and a probe or two of a 1 KiB table costs a fraction of a chain of slice comparisons.
struct StopWords {
    /// Packed word per slot; 0 = empty (no word packs to 0).
    slots: [u64; STOP_SLOTS],
}

/// Slots of [`StopWords`] (a power of two, at least twice the word count).
const STOP_SLOTS: usize = 256;

impl StopWords {
    fn build() -> StopWords {
        let mut t = StopWords {
            slots: [0; STOP_SLOTS],
        };
        for w in STOP_WORDS {
            // Every entry is at most STOP_WORD_MAX bytes (a test checks it).
            let Some(p) = pack_short(w) else { continue };
            let mut s = Self::home(p);
            while t.slots[s] != 0 && t.slots[s] != p {
                s = (s + 1) % STOP_SLOTS;
            }
            t.slots[s] = p;
        }
        t
    }

    #[inline]
    fn home(p: u64) -> usize {
        (p.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize % STOP_SLOTS
    }

    #[inline]
    fn contains(&self, p: u64) -> bool {
        // 0 marks an empty slot and is no word's packing.
        if p == 0 {
            return false;
        }
        let mut s = Self::home(p);
        loop {
            match self.slots.get(s) {
                Some(&x) if x == p => return true,
                Some(&0) | None => return false,
                Some(_) => s = (s + 1) % STOP_SLOTS,
            }
        }
    }
}

fn stop_words() -> &'static StopWords {
    static TABLE: OnceLock<StopWords> = OnceLock::new();
    TABLE.get_or_init(StopWords::build)
}

/// Latin tokens that are not features and break bigrams: stop words and all-digit tokens.
#[inline]
pub fn is_skipped_word(w: &[u8]) -> bool {
    is_stop_word(w) || w.iter().all(u8::is_ascii_digit)
}

/// Whether a feature key belongs to the Latin family (words and bigrams) rather than to CJK n-grams.
#[inline]
pub fn is_latin_key(k: u64) -> bool {
    k & LATIN_TAG != 0
}

/// Final mixing step of splitmix64: spreads the bits of a hash over all 64 bits.
#[inline]
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Hash of one Latin word (its lower-case ASCII bytes), without the tag.
#[inline]
fn word_hash(w: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in w {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// Key of the Latin unigram spelled by `parts` written together (`["minis", "ter"]` is `minister`'s key): what a
/// word split by inserted spaces would be as one word.
pub fn latin_word_key(parts: &[&[u8]]) -> u64 {
    let mut h = LatinWordHasher::new();
    for part in parts {
        for &b in *part {
            h.push(b);
        }
    }
    h.key()
}

/// The key of a Latin unigram built a byte at a time, so that every prefix's key costs one step (word splitting
/// tries each length from a start).
#[derive(Clone, Copy, Debug)]
pub struct LatinWordHasher(u64);

impl LatinWordHasher {
    pub fn new() -> Self {
        LatinWordHasher(0xcbf2_9ce4_8422_2325)
    }

    #[inline]
    pub fn push(&mut self, b: u8) {
        self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }

    /// The key of the bytes pushed so far, as [`feature_key`] gives it.
    #[inline]
    pub fn key(&self) -> u64 {
        word_key(mix(self.0))
    }
}

impl Default for LatinWordHasher {
    fn default() -> Self {
        Self::new()
    }
}

/// Key of a Latin unigram from its word hash.
#[inline]
fn word_key(h: u64) -> u64 {
    h | LATIN_TAG
}

/// Key of a Latin bigram from the two word hashes (order matters).
#[inline]
fn bigram_key(h1: u64, h2: u64) -> u64 {
    mix(h1.rotate_left(29) ^ h2 ^ 0x5851_F42D_4C95_7F2D) | LATIN_TAG
}

/// Key of a CJK n-gram: code points packed 21 bits each. Unique because code points are never 0.
#[inline]
fn cjk_key(chars: &[char]) -> u64 {
    chars.iter().fold(0u64, |k, c| (k << 21) | u64::from(*c))
}

/// The key of a feature given as text (as in the model file), or `None` if the text is not a feature this module
/// can produce: 1..=3 CJK characters, or one or two ASCII alphanumeric words that are neither stop words nor
/// all digits (one space between).
pub fn feature_key(text: &str) -> Option<u64> {
    let chars: Vec<char> = text.chars().collect();
    if !chars.is_empty() && chars.iter().all(|c| is_cjk(*c)) {
        return (chars.len() <= MAX_CJK_NGRAM).then(|| cjk_key(&chars));
    }
    let is_word = |w: &str| {
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
            && !is_skipped_word(w.as_bytes())
    };
    match text.split_once(' ') {
        None if is_word(text) => Some(word_key(word_hash(text.as_bytes()))),
        Some((a, b)) if is_word(a) && is_word(b) => {
            Some(bigram_key(word_hash(a.as_bytes()), word_hash(b.as_bytes())))
        }
        _ => None,
    }
}

/// The character starting at byte `i` of `text` and its length. Three-byte sequences (all of CJK) are decoded
/// directly, as this runs on every character of every text; anything else goes through `str::chars`.
#[inline]
fn decode_at(text: &str, i: usize) -> Option<(char, usize)> {
    let b = text.as_bytes();
    if let (Some(&b0 @ 0xE0..=0xEF), Some(&b1), Some(&b2)) = (b.get(i), b.get(i + 1), b.get(i + 2))
    {
        let cp = (u32::from(b0 & 0x0F) << 12) | (u32::from(b1 & 0x3F) << 6) | u32::from(b2 & 0x3F);
        // `text` is valid UTF-8, so this is the character; `from_u32` cannot fail for it.
        return char::from_u32(cp).map(|c| (c, 3));
    }
    let c = text.get(i..)?.chars().next()?;
    Some((c, c.len_utf8()))
}

/// Calls `f(key, start, end)` for every feature occurrence in normalised `text` (duplicates included), in one
/// pass. `start..end` is the feature's byte range in `text`, whose slice is the feature's text.
#[inline]
pub fn scan_features(text: &str, mut f: impl FnMut(u64, usize, usize)) {
    let b = text.as_bytes();
    let stops = stop_words();
    // Rolling CJK window: the previous two CJK characters of the current run, with their start offsets.
    let mut w1: Option<(char, usize)> = None;
    let mut w2: Option<(char, usize)> = None;
    // Previous non-stop word (hash, start, end) for bigrams.
    let mut prev: Option<(u64, usize, usize)> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            w1 = None;
            w2 = None;
            if !c.is_ascii_alphanumeric() {
                i += 1;
                continue;
            }
            let s = i;
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            // The classes of all the word's bytes ANDed: DIGIT stays set only for an all-digit token.
            let mut all = DIGIT;
            while let Some(&x) = b.get(i) {
                let class = ASCII_CLASS[usize::from(x)];
                if class & ALNUM == 0 {
                    break;
                }
                all &= class;
                h = (h ^ u64::from(x)).wrapping_mul(0x0000_0100_0000_01b3);
                i += 1;
            }
            let len = i - s;
            let skipped =
                all & DIGIT != 0 || (len <= STOP_WORD_MAX && stops.contains(pack_at(b, s, len)));
            if skipped {
                prev = None;
                continue;
            }
            let h = mix(h);
            f(word_key(h), s, i);
            if let Some((ph, ps, pe)) = prev {
                if pe + 1 == s && b[pe] == b' ' {
                    f(bigram_key(ph, h), ps, i);
                }
            }
            prev = Some((h, s, i));
            continue;
        }
        prev = None;
        let Some((ch, len)) = decode_at(text, i) else {
            break;
        };
        if is_cjk(ch) {
            let end = i + len;
            f(u64::from(ch), i, end);
            if let Some((p1, s1)) = w1 {
                f(cjk_key(&[p1, ch]), s1, end);
                if let Some((p2, s2)) = w2 {
                    f(cjk_key(&[p2, p1, ch]), s2, end);
                }
            }
            w2 = w1;
            w1 = Some((ch, i));
        } else {
            w1 = None;
            w2 = None;
        }
        i += len;
    }
}

/// Calls `f` with the text of every feature occurrence in normalised `text` (duplicates included).
pub fn for_each_feature(text: &str, mut f: impl FnMut(&str)) {
    scan_features(text, |_, s, e| {
        if let Some(t) = text.get(s..e) {
            f(t);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy as _;

    #[test]
    fn boundaries() {
        let t = b"selection administer minister";
        assert!(!on_boundaries(t, 1, 9, true)); // "election" inside "selection"
        assert!(!on_boundaries(t, 12, 20, true)); // "minister" inside "administer"
        assert!(on_boundaries(t, 21, 29, true));
        assert!(on_boundaries("选举".as_bytes(), 0, 6, true));
        assert!(on_boundaries(b"electorate", 0, 7, false));
    }

    #[test]
    fn enumerates_ngrams_words_bigrams() {
        let mut v = Vec::new();
        for_each_feature("国务院 the prime minister, now 外长", |s| {
            v.push(s.to_string())
        });
        assert_eq!(
            v,
            vec![
                "国",
                "务",
                "国务",
                "院",
                "务院",
                "国务院",
                "prime",
                "minister",
                "prime minister",
                "now",
                "外",
                "长",
                "外长"
            ]
        );
    }

    #[test]
    fn stop_words_break_bigrams() {
        let mut v = Vec::new();
        for_each_feature("minister of defence", |s| v.push(s.to_string()));
        assert_eq!(v, vec!["minister", "defence"]);
    }

    #[test]
    fn keys_from_text_match_keys_from_scan() {
        let text = "国务院总理 prime minister 2005 talks";
        let mut n = 0;
        scan_features(text, |k, s, e| {
            n += 1;
            assert_eq!(feature_key(&text[s..e]), Some(k), "{}", &text[s..e]);
        });
        assert_eq!(n, 12 + 3 + 1); // "2005" is skipped and breaks the bigrams around it.
        assert_eq!(feature_key("2005"), None);
        assert!(feature_key("g20").is_some());
        assert_eq!(feature_key("国务院总"), None);
        assert_eq!(feature_key("the"), None);
        assert_eq!(feature_key("Prime"), None);
        assert_eq!(feature_key("a  b"), None);
        assert_ne!(feature_key("ab"), feature_key("ba"));
        assert_ne!(feature_key("prime minister"), feature_key("minister prime"));
        // A word's key from its pieces is its key as a feature.
        assert_eq!(
            Some(latin_word_key(&[b"minis", b"ter"])),
            feature_key("minister")
        );
    }

    #[test]
    fn stop_word_set_is_the_list() {
        assert!(STOP_WORDS.iter().all(|w| w.len() <= STOP_WORD_MAX));
        assert!(STOP_WORDS.iter().all(|w| is_stop_word(w)));
        for w in [
            &b"the"[..],
            b"th",
            b"thee",
            b"theirs",
            b"shoulder",
            b"x",
            b"",
            b"minister",
            b"ab\0",
            b"a\0",
            b"The",
        ] {
            assert_eq!(is_stop_word(w), STOP_WORDS.contains(&w), "{w:?}");
        }
    }

    proptest::proptest! {
        /// The scan's inline skip test (all-digit tokens, packed stop words) is [`is_skipped_word`]: the model's
        /// Latin features are exactly the words that are neither, and bigrams join only such neighbours.
        #[test]
        fn scan_skips_exactly_the_skipped_words(
            words in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(STOP_WORDS.to_vec()).prop_map(|w| w.to_vec()),
                    "[a-z0-9]{1,9}".prop_map(String::into_bytes),
                ],
                0..24,
            )
        ) {
            let text = words
                .iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect::<Vec<_>>()
                .join(" ");
            let mut got = Vec::new();
            for_each_feature(&text, |f| got.push(f.to_string()));
            let mut want = Vec::new();
            let mut prev: Option<&str> = None;
            for w in text.split(' ') {
                if is_skipped_word(w.as_bytes()) {
                    prev = None;
                    continue;
                }
                want.push(w.to_string());
                if let Some(p) = prev {
                    want.push(format!("{p} {w}"));
                }
                prev = Some(w);
            }
            proptest::prop_assert_eq!(got, want);
        }
    }
}
