//! Digits and symbols written for letters inside Latin words read as the letters (`pr1m3 m1n1st3r`,
//! `3lect10n`, `p@rliament`, `m!n!ster`; the symbols: [`fold_leet_symbols`]).
//!
//! A digit in the middle of a word is as easy to type as a look-alike letter, and a reader sees the word through
//! it. A word here is a run of ASCII letters and digits in the normalised (lower-case) text; its digits fold to
//! the letters they resemble (`0`→`o`, `1`→`i`, `3`→`e`, `4`→`a`, `5`→`s`, `7`→`t`) when
//!
//! * every digit of the run is one of those six (`covid19`, `b52`, `a380` keep theirs: `9`, `2`, `8` stand for no
//!   letter), and the run has at least [`MIN_LETTERS`] letters (`g20`, `mp3`, `h1n1`, `5g` stay as written), and
//! * the run starts with a letter, or at least [`MIN_TAIL`] letters follow its leading digits: `3lection` folds,
//!   while numbers with a short suffix (`1st`, `4th`, `10bn`, `5km`, `3pm`, `4x100m`) are quantities and stay.
//!
//! `1` reads as `i` (`m1n1ster`); a `1` meant as `l` (`e1ection`) stays a misspelling, as the word has no
//! single reading without a dictionary.
//!
//! The replacement has the same byte length (ASCII for ASCII), so the map back to the original text and the word
//! count stay valid, and evidence still quotes what the user wrote.

use super::normalize::Normalized;

/// Fewest letters in a run whose digits may fold.
pub const MIN_LETTERS: usize = 3;

/// Fewest letters after a run's leading digits for the run to fold (shorter tails are units and ordinals).
pub const MIN_TAIL: usize = 4;

/// The letter a digit stands for, if any.
fn letter_for(digit: u8) -> Option<u8> {
    match digit {
        b'0' => Some(b'o'),
        b'1' => Some(b'i'),
        b'3' => Some(b'e'),
        b'4' => Some(b'a'),
        b'5' => Some(b's'),
        b'7' => Some(b't'),
        _ => None,
    }
}

/// Whether the alphanumeric run `run` folds (see the module doc).
fn folds(run: &[u8]) -> bool {
    let letters = run.iter().filter(|b| b.is_ascii_alphabetic()).count();
    if letters < MIN_LETTERS {
        return false;
    }
    if !run
        .iter()
        .filter(|b| b.is_ascii_digit())
        .all(|&d| letter_for(d).is_some())
    {
        return false;
    }
    let leading_digits = run.iter().take_while(|b| b.is_ascii_digit()).count();
    let tail_letters = run
        .get(leading_digits..)
        .unwrap_or_default()
        .iter()
        .filter(|b| b.is_ascii_alphabetic())
        .count();
    leading_digits == 0 || tail_letters >= MIN_TAIL
}

/// The position of the first ASCII digit next to an ASCII letter. This runs over every text, so blocks of 32 bytes
/// are first tested for any digit without an early exit inside (the test vectorises); only blocks with a digit
/// are looked at byte by byte.
fn first_digit_by_a_letter(b: &[u8]) -> Option<usize> {
    let letter_at = |i: usize| b.get(i).is_some_and(u8::is_ascii_alphabetic);
    let mut base = 0;
    for block in b.chunks(32) {
        if block.iter().fold(false, |any, c| any | c.is_ascii_digit()) {
            for (k, c) in block.iter().enumerate() {
                let i = base + k;
                if c.is_ascii_digit() && ((i > 0 && letter_at(i - 1)) || letter_at(i + 1)) {
                    return Some(i);
                }
            }
        }
        base += block.len();
    }
    None
}

/// The letter a symbol stands for inside a word (`st@te`, `m!n!ster`, `mini$ter`), if any.
fn letter_for_symbol(symbol: u8) -> Option<u8> {
    match symbol {
        b'@' => Some(b'a'),
        b'!' => Some(b'i'),
        b'$' => Some(b's'),
        _ => None,
    }
}

/// Symbols written for letters inside Latin words read as the letters: `@` as `a`, `!` as `i`, `$` as `s`, each
/// when an ASCII letter stands right before and right after it (`st@te`, `m!n!ster`, `Micro$oft`). A `@` in a
/// token with a `.` after it is an e-mail address and stays (`press@gov.uk`); `Yahoo!`, `$5`, `@user` and `!!`
/// have no letter on both sides. Runs before [`fold_leet_digits`], so `m!n1st3r` reads as one word. Each symbol
/// read joins two words into one, so the word count drops by one per symbol.
pub fn fold_leet_symbols(n: &mut Normalized) -> bool {
    let bytes = n.text.as_bytes();
    let letter = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_alphabetic);
    let mut at: Vec<usize> = Vec::new();
    for i in memchr::memchr3_iter(b'@', b'!', b'$', bytes) {
        if i == 0 || !letter(i - 1) || !letter(i + 1) {
            continue;
        }
        if bytes[i] == b'@' {
            let token_end = bytes[i..]
                .iter()
                .position(|b| b.is_ascii_whitespace())
                .map_or(bytes.len(), |p| i + p);
            if bytes[i..token_end].contains(&b'.') {
                continue;
            }
        }
        at.push(i);
    }
    if at.is_empty() {
        return false;
    }
    rewrite_ascii(n, |text| {
        for &i in &at {
            if let Some(b) = text.get_mut(i) {
                *b = letter_for_symbol(*b).unwrap_or(*b);
            }
        }
    });
    n.latin_words = n.latin_words.saturating_sub(at.len() as u32);
    true
}

/// Lets `edit` replace ASCII bytes of `n.text` with ASCII bytes in place (same length, so the map back to the
/// original text stays valid, and the bytes stay UTF-8).
fn rewrite_ascii(n: &mut Normalized, edit: impl FnOnce(&mut [u8])) {
    let mut text = std::mem::take(&mut n.text).into_bytes();
    edit(&mut text);
    n.text = String::from_utf8(text)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
}

/// Folds the digits of leetspeak words in `n.text` to letters. Returns whether anything changed.
pub fn fold_leet_digits(n: &mut Normalized) -> bool {
    // Most texts have no digit next to a letter: find one before touching anything.
    let Some(first) = first_digit_by_a_letter(n.text.as_bytes()) else {
        return false;
    };
    let mut changed = false;
    rewrite_ascii(n, |text| {
        // Start at the beginning of the run holding the first letter-digit pair.
        let mut i = first;
        while i > 0 && text[i - 1].is_ascii_alphanumeric() {
            i -= 1;
        }
        while i < text.len() {
            if !text[i].is_ascii_alphanumeric() {
                i += 1;
                continue;
            }
            let start = i;
            while i < text.len() && text[i].is_ascii_alphanumeric() {
                i += 1;
            }
            if let Some(run) = text.get_mut(start..i) {
                if folds(run) {
                    for b in run.iter_mut() {
                        if let Some(l) = letter_for(*b) {
                            *b = l;
                        }
                    }
                    changed = true;
                }
            }
        }
    });
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::normalize::Normalizer;

    fn folded(s: &str) -> String {
        let mut n = Normalizer::new().normalize(s);
        fold_leet_digits(&mut n);
        n.text
    }

    #[test]
    fn digits_inside_words_read_as_letters() {
        assert_eq!(folded("Pr1m3 M1n1st3r"), "prime minister");
        assert_eq!(folded("3lect10n r3sults"), "election results");
        assert_eq!(
            folded("the 5enate and g0vernment"),
            "the senate and government"
        );
        // `1` reads as `i`: a `1` meant as `l` stays a misspelling.
        assert_eq!(folded("e1ection"), "eiection");
        assert_eq!(folded("1ranian pre5ident"), "iranian president");
        assert_eq!(folded("m1n15t3r"), "minister");
    }

    #[test]
    fn numbers_units_and_names_with_digits_stay() {
        for s in [
            "on the 1st and 4th of may",
            "a 10bn deal, 5km away at 3pm",
            "g20 summit in 2026",
            "covid19 and b52 and a380",
            "f1 race, 5g phones",
            "mp3 players, h1n1 flu, the 4x100m relay",
            "no digits at all",
        ] {
            assert_eq!(folded(s), Normalizer::new().normalize(s).text, "{s}");
        }
    }

    #[test]
    fn finds_a_digit_by_a_letter_at_every_offset() {
        for n in 0..70 {
            let mut v = vec![b' '; 70];
            v[n] = b'7';
            assert_eq!(first_digit_by_a_letter(&v), None);
            if n > 0 {
                v[n - 1] = b'x';
                assert_eq!(first_digit_by_a_letter(&v), Some(n));
                v[n - 1] = b' ';
            }
            if n + 1 < v.len() {
                v[n + 1] = b'x';
                assert_eq!(first_digit_by_a_letter(&v), Some(n));
            }
        }
    }

    #[test]
    fn offsets_and_word_count_are_kept() {
        let orig = "Th3 M1n1st3r said";
        let mut n = Normalizer::new().normalize(orig);
        let words = n.latin_words;
        assert!(fold_leet_digits(&mut n));
        assert_eq!(n.latin_words, words);
        let at = n.text.find("minister").unwrap_or(0);
        assert_eq!(&orig[n.original_range(orig, at..at + 8)], "M1n1st3r");
    }

    fn symbols_folded(s: &str) -> (String, u32) {
        let mut n = Normalizer::new().normalize(s);
        fold_leet_symbols(&mut n);
        fold_leet_digits(&mut n);
        (n.text.clone(), n.latin_words)
    }

    #[test]
    fn symbols_inside_words_read_as_letters() {
        assert_eq!(
            symbols_folded("the pr!me m!n!ster lost the p@rliament v0te, Micro$oft said"),
            (
                "the prime minister lost the parliament vote, microsoft said".into(),
                9
            )
        );
        assert_eq!(symbols_folded("m!n1st3r").0, "minister");
        // E-mail addresses, prices, handles, exclamations: no letter on both sides, or a domain.
        for s in [
            "write to press@gov.uk now",
            "costs $5 or 5$",
            "ask @parliament",
            "Yahoo! great!! wow!",
            "a@b",
        ] {
            let n = Normalizer::new().normalize(s);
            let expected = if s == "a@b" {
                "aab".to_string()
            } else {
                n.text.clone()
            };
            assert_eq!(symbols_folded(s).0, expected, "{s}");
        }
    }

    #[test]
    fn cjk_and_mixed_text_is_untouched_but_latin_words_fold() {
        assert_eq!(folded("3月15日 外交部 m1n1ster"), "3月15日外交部 minister");
    }
}
