//! Words run together in camel case read as separate words (`#PrimeMinisterResigns`, `ThePrimeMinisterFaced`).
//!
//! Hashtags are written that way, and removing the spaces of a sentence while keeping its capitals is as easy an
//! evasion as inserting symbols. The normalised text is lower case, so the capitals are read from the original
//! text through the offset map: the original character's case, so full-width (`ＴｈｅＰｒｉｍｅ`) and look-alike
//! (Cyrillic `Т`, Greek `Ρ`) capitals count like ASCII ones. A word (a run of ASCII letters) is split before each capital that follows a small
//! letter, and before the last capital of a run of capitals that a small letter follows (`AConfidence`), when it
//! has at least [`MIN_HUMPS`] such places, or at least one and stands right after a `#`. Brand and family names
//! with one inner capital (`iPhone`, `YouTube`, `McDonald`, `BBCNews`) stay whole, and so do words in alternating
//! case (`PrImE mInIsTeR`), whose parts would average fewer than [`MIN_PART_LETTERS`] letters. A hashtag's word is
//! also split from the digits that end it (`#Election2024`, `#GE2017`, `#brexit2019`: the year or number of an
//! event), so the word matches as a word; outside hashtags `covid19` or `mp3` stay whole, and so do `#g20` and
//! `#g20summit`.

use super::normalize::Normalized;

/// Fewest small-to-capital places that split a word outside a hashtag.
pub const MIN_HUMPS: usize = 2;

/// Fewest letters per part, on average, of a word that splits: fewer is alternating case, not camel case.
pub const MIN_PART_LETTERS: usize = 3;

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

/// Whether `original` has a non-ASCII character that may be a letter with case, one of those a camel-case word
/// may be written in: Latin-1 to Cyrillic (lead bytes `C3`..`D4`, accented, Greek and Cyrillic look-alikes) or
/// full-width Latin (`EF BC A1..BA`, `EF BD 81..9A`). Full-width punctuation (`，` is `EF BC 8C`) is not.
fn has_cased_non_ascii(original: &[u8]) -> bool {
    if original.is_ascii() {
        return false;
    }
    // Without an early exit the test vectorises; Chinese text has none of these lead bytes.
    if original
        .iter()
        .fold(false, |any, &b| any | (b.wrapping_sub(0xC3) <= 0xD4 - 0xC3))
    {
        return true;
    }
    memchr::memchr_iter(0xEF, original).any(|i| {
        matches!(
            (original.get(i + 1), original.get(i + 2)),
            (Some(0xBC), Some(0xA1..=0xBA)) | (Some(0xBD), Some(0x81..=0x9A))
        )
    })
}

/// Splits camel-case words of `n` (see the module doc); `original` is the text `n` was normalised from. Returns
/// whether anything changed.
pub fn split_camel_case(n: &mut Normalized, original: &str) -> bool {
    let orig = original.as_bytes();
    // `#` in the normalised text: a full-width `＃` is one there too.
    let hashtags = memchr::memchr(b'#', n.text.as_bytes()).is_some();
    if !hashtags && !has_hump(orig) && !has_cased_non_ascii(orig) {
        return false;
    }
    // The original character behind output byte `i` (a full-width or look-alike letter keeps its case there).
    let source = |i: usize| {
        n.source_of(i)
            .and_then(|o| original.get(o..))
            .and_then(|rest| rest.chars().next())
    };
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
            let upper = |k: usize| source(k).is_some_and(char::is_uppercase);
            let lower = |k: usize| source(k).is_some_and(char::is_lowercase);
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
        // Words of camel case average three letters or more; alternating case (`PrImE mInIsTeR`) splits into
        // fragments, and is only case.
        let camel = i - start >= MIN_PART_LETTERS * (humps.len() + 1);
        if camel && (humps.len() >= MIN_HUMPS || (hashtag && !humps.is_empty())) {
            splits.extend(humps);
        }
        if hashtag && i - start >= 2 && text.get(i).is_some_and(u8::is_ascii_digit) {
            let digits_end = i + text[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            if !text.get(digits_end).is_some_and(u8::is_ascii_alphabetic) {
                splits.push(i);
            }
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
            "vote #general election 2024"
        );
    }

    #[test]
    fn alternating_case_is_only_case() {
        assert_eq!(
            split("tHe PrImE mInIsTeR rEsIgNeD iN pArLiAmEnT").0,
            "the prime minister resigned in parliament"
        );
        assert_eq!(split("#ElEcTiOn").0, "#election");
        // Camel case with short words still splits.
        assert_eq!(split("ItIsAnElection").0, "it is an election");
    }

    #[test]
    fn a_hashtag_word_splits_from_its_number() {
        assert_eq!(
            split("Voted early #Election2024").0,
            "voted early #election 2024"
        );
        assert_eq!(split("#brexit2019 #GE2017").0, "#brexit 2019 #ge 2017");
        assert_eq!(split("＃Election2024").0, "#election 2024");
        // Outside hashtags, and numbers before the word, stay.
        for s in [
            "covid19 and mp3",
            "#5g rollout",
            "election2024",
            "#g20summit",
        ] {
            let n = Normalizer::new().normalize(s);
            assert_eq!(split(s), (n.text.clone(), n.latin_words), "{s}");
        }
    }

    #[test]
    fn full_width_and_look_alike_capitals_count() {
        assert_eq!(
            split("ＴｈｅＰｒｉｍｅＭｉｎｉｓｔｅｒＲｅｓｉｇｎｓ").0,
            "the prime minister resigns"
        );
        // Cyrillic Т and М, Greek Ρ: look-alikes of T, M, P.
        assert_eq!(
            split("\u{0422}he\u{03A1}rime\u{041C}inister").0,
            "the prime minister"
        );
        assert_eq!(
            split("#ＧｅｎｅｒａｌＥｌｅｃｔｉｏｎ").0,
            "#general election"
        );
        // Full-width punctuation alone is no reason to look, and changes nothing.
        let s = "政府，总理。";
        assert!(!has_cased_non_ascii(s.as_bytes()));
        assert_eq!(split(s).0, Normalizer::new().normalize(s).text);
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
