//! Words run together in camel case read as separate words (`#PrimeMinisterResigns`, `ThePrimeMinisterFaced`).
//!
//! Hashtags are written that way, and removing the spaces of a sentence while keeping its capitals is as easy an
//! evasion as inserting symbols. The normalised text is lower case, so the capitals are read from the original
//! text through the offset map. A word (a run of ASCII letters) is split before each capital that follows a small
//! letter, and before the last capital of a run of capitals that a small letter follows (`AConfidence`), when it
//! has at least [`MIN_HUMPS`] such places, or at least one and stands right after a `#`. Brand and family names
//! with one inner capital (`iPhone`, `YouTube`, `McDonald`, `BBCNews`) stay whole.

use super::normalize::Normalized;

/// Fewest small-to-capital places that split a word outside a hashtag.
pub const MIN_HUMPS: usize = 2;

/// Whether `original` has a small ASCII letter directly followed by a capital anywhere. This runs over every text,
/// so blocks of 32 bytes are tested without an early exit inside (the test vectorises); texts without such a pair,
/// nearly all prose, cost no more than that.
fn has_hump(original: &[u8]) -> bool {
    let mut start = 0;
    while start + 1 < original.len() {
        let end = (start + 33).min(original.len());
        let (Some(a), Some(b)) = (original.get(start..end - 1), original.get(start + 1..end))
        else {
            return false;
        };
        if a.iter().zip(b).fold(false, |any, (x, y)| {
            any | (x.is_ascii_lowercase() & y.is_ascii_uppercase())
        }) {
            return true;
        }
        start = end - 1;
    }
    false
}

/// Splits camel-case words of `n` (see the module doc); `original` is the text `n` was normalised from. Returns
/// whether anything changed.
pub fn split_camel_case(n: &mut Normalized, original: &str) -> bool {
    let orig = original.as_bytes();
    if !has_hump(orig) {
        return false;
    }
    // The original byte behind output byte `i`, when it is ASCII (full-width and look-alike letters have no case
    // to read here).
    let source = |i: usize| n.source_of(i).and_then(|o| orig.get(o)).copied();
    let text = n.text.as_bytes();
    let mut splits: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < text.len() {
        if !text[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let start = i;
        let mut humps: Vec<usize> = Vec::new();
        while i < text.len() && text[i].is_ascii_alphabetic() {
            let upper = |k: usize| source(k).is_some_and(|c| c.is_ascii_uppercase());
            let lower = |k: usize| source(k).is_some_and(|c| c.is_ascii_lowercase());
            // A capital after a small letter (`primeMinister`), or the last capital of a run of them when a small
            // letter follows (`AConfidence`, `BBCNews`).
            let in_word = |k: usize| k < text.len() && text[k].is_ascii_alphabetic();
            if i > start
                && upper(i)
                && (lower(i - 1) || (upper(i - 1) && in_word(i + 1) && lower(i + 1)))
            {
                humps.push(i);
            }
            i += 1;
        }
        let hashtag = start > 0 && text[start - 1] == b'#';
        if humps.len() >= MIN_HUMPS || (hashtag && !humps.is_empty()) {
            splits.extend(humps);
        }
    }
    if splits.is_empty() {
        return false;
    }
    n.insert_spaces_before(&splits);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::normalize::Normalizer;

    fn split(s: &str) -> (String, u32) {
        let mut n = Normalizer::new().normalize(s);
        split_camel_case(&mut n, s);
        (n.text.clone(), n.latin_words)
    }

    #[test]
    fn camel_case_sentences_and_hashtags_split() {
        assert_eq!(
            split("ThePrimeMinisterFacedAConfidenceVote"),
            ("the prime minister faced a confidence vote".into(), 7)
        );
        assert_eq!(split("#PrimeMinister resigns").0, "#prime minister resigns");
        assert_eq!(
            split("vote #GeneralElection2024").0,
            "vote #general election2024"
        );
    }

    #[test]
    fn names_with_one_inner_capital_and_plain_text_stay() {
        for s in [
            "my iPhone and YouTube at McDonald's",
            "the BBC and UKPolitics",
            "Prime Minister",
            "政治 PowerPoint",
            "",
        ] {
            let n = Normalizer::new().normalize(s);
            assert_eq!(split(s), (n.text.clone(), n.latin_words), "{s}");
        }
    }

    #[test]
    fn offsets_still_point_into_the_original() {
        let orig = "ok ThePrimeMinister said";
        let mut n = Normalizer::new().normalize(orig);
        assert!(split_camel_case(&mut n, orig));
        let at = n.text.find("minister").unwrap_or(0);
        assert_eq!(&orig[n.original_range(orig, at..at + 8)], "Minister");
    }

    #[test]
    fn finds_a_hump_at_every_offset() {
        for k in 0..80 {
            let mut v = vec![b'a'; 80];
            assert!(!has_hump(&v));
            if k > 0 {
                v[k] = b'Q';
                assert!(has_hump(&v), "{k}");
                v[k - 1] = b'Q';
                assert_eq!(has_hump(&v), k > 1, "{k}");
            }
        }
    }
}
