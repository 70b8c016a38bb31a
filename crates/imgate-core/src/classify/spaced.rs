//! Letter-spaced Latin words joined back (`m i n i s t e r`, `m-i-n-i-s-t-e-r`, `P.R.I.M.E`).
//!
//! Inserting a space or a symbol between the letters of a word defeats word matching as easily as a symbol
//! between CJK characters defeats n-grams (which the normaliser already handles). A run of at least
//! [`MIN_LETTERS`] single letters, each separated from the next by the same single separator byte, is one
//! spelled-out word: the separators go. When the separator is a space, a wider gap in the original text (two or
//! more whitespace characters) still separates words, so `T h e   P r i m e` reads `the prime`. Normal text has no
//! such runs (single-letter words are `a` and `I`, never three in a row), and abbreviations like `U.S.A` only get
//! easier to match.

use super::normalize::Normalized;

/// Fewest single letters in a row that make a spelled-out word.
pub const MIN_LETTERS: usize = 3;

/// Separators that may be put between the letters of a word.
fn is_letter_separator(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'-'
            | b'.'
            | b'_'
            | b'*'
            | b'+'
            | b'~'
            | b'|'
            | b'/'
            | b'\''
            | b','
            | b':'
            | b'"'
            | b'='
            | b'?'
            | b'#'
    )
}

/// Whether output byte `i` is a letter standing alone: not next to another ASCII alphanumeric.
fn lone_letter(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(u8::is_ascii_alphabetic)
        && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
        && !b.get(i + 1).is_some_and(u8::is_ascii_alphanumeric)
}

/// Whether a run of at least [`MIN_LETTERS`] letters has its first two separators at `s` and `s + 2`.
#[inline]
fn run_starts_at(b: &[u8], s: usize) -> bool {
    s > 0
        && b.get(s).is_some_and(|&c| is_letter_separator(c))
        && b.get(s + 2) == b.get(s)
        && lone_letter(b, s - 1)
        && lone_letter(b, s + 1)
        && lone_letter(b, s + 3)
}

/// The next `s >= from` where [`run_starts_at`] holds. Such a run repeats a byte two positions on (the
/// separator), which ordinary text rarely does: eight positions at a time are tested for that with one word
/// operation ("has a zero byte" on `word ^ (word >> 16)`), and only a word that has one is looked at closer.
fn next_run(b: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut j = from;
    while let (Some(a), Some(c)) = (b.get(j..j + 8), b.get(j + 2..j + 10)) {
        let mut w0 = [0u8; 8];
        let mut w2 = [0u8; 8];
        w0.copy_from_slice(a);
        w2.copy_from_slice(c);
        let w = u64::from_le_bytes(w0);
        let x = w ^ u64::from_le_bytes(w2);
        // Bytes equal to the byte two on, and ASCII (separators are; UTF-8 continuation bytes repeat often).
        // Flags above the lowest may be false (borrows); each is checked in full anyway.
        let mut hits = x.wrapping_sub(ONES) & !x & !w & HIGHS;
        while hits != 0 {
            let s = j + (hits.trailing_zeros() / 8) as usize;
            if run_starts_at(b, s) {
                return Some(s);
            }
            hits &= hits - 1;
        }
        j += 8;
    }
    (j..b.len()).find(|&s| run_starts_at(b, s))
}

/// Joins letter-spaced words in `n`; `original` is the text `n` was normalised from (for the width of gaps).
/// Returns whether anything changed. Runs on every text, so finding a run costs about one operation per byte.
pub fn join_spaced_letters(n: &mut Normalized, original: &str) -> bool {
    if n.latin_words < MIN_LETTERS as u32 {
        return false;
    }
    let b = n.text.as_bytes();
    let mut drop: Vec<usize> = Vec::new();
    let mut from = 1;
    while let Some(s) = next_run(b, from) {
        // The run: letters at start, start + 2, ..., each but the last followed by `sep`.
        let (start, sep) = (s - 1, b[s]);
        let mut letters = 3;
        while b.get(start + 2 * letters - 1) == Some(&sep) && lone_letter(b, start + 2 * letters) {
            // A wide gap ends a space-spelled word: the letter after it may start the next word, spelled with
            // another separator (`d e f e n c e   s*e*c*r*e*t*a*r*y`).
            if sep == b' ' && wide_gap(n, original, start + 2 * letters - 1) {
                break;
            }
            letters += 1;
        }
        for k in 0..letters - 1 {
            let at = start + 2 * k + 1;
            if sep == b' ' && wide_gap(n, original, at) {
                continue;
            }
            drop.push(at);
        }
        from = start + 2 * letters;
    }
    if drop.is_empty() {
        return false;
    }
    n.remove_ascii_bytes(&drop);
    true
}

/// Whether the space at output byte `at` stands for two or more whitespace characters of the original (between
/// the letters before and after it).
fn wide_gap(n: &Normalized, original: &str, at: usize) -> bool {
    let (Some(before), Some(after)) = (n.source_of(at - 1), n.source_of(at + 1)) else {
        return false;
    };
    original
        .get(before + 1..after)
        .is_some_and(|gap| gap.chars().filter(|c| c.is_whitespace()).count() >= 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::normalize::Normalizer;

    fn joined(s: &str) -> (String, u32) {
        let mut n = Normalizer::new().normalize(s);
        join_spaced_letters(&mut n, s);
        (n.text.clone(), n.latin_words)
    }

    #[test]
    fn spelled_out_words_are_joined() {
        assert_eq!(joined("m i n i s t e r").0, "minister");
        assert_eq!(joined("the m-i-n-i-s-t-e-r said").0, "the minister said");
        assert_eq!(joined("P.R.I.M.E M.I.N.I.S.T.E.R").0, "prime minister");
        assert_eq!(
            joined("T h e   P r i m e   M i n i s t e r"),
            ("the prime minister".into(), 3)
        );
        assert_eq!(joined("U.S.A. and U.K.").0, "usa. and u.k.");
        assert_eq!(
            joined("the p\"r\"i\"m\"e m=i=n=i=s=t=e=r").0,
            "the prime minister"
        );
        // Full-width and look-alike letters fold first.
        assert_eq!(joined("ｅ l е c t i o n").0, "election");
        // Words spelled with different separators, side by side: a wide gap ends the first.
        assert_eq!(
            joined("d e f e n c e   s*e*c*r*e*t*a*r*y").0,
            "defence secretary"
        );
        assert_eq!(
            joined("t h e   m-i-n-i-s-t-e-r   s a i d").0,
            "the minister said"
        );
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        for s in [
            "I am a man",
            "a b",
            "vote a-b",
            "tax 5 a b",
            "the prime minister",
            "x y2 z",
            "政 治 a b",
        ] {
            let n = Normalizer::new().normalize(s);
            assert_eq!(joined(s), (n.text.clone(), n.latin_words), "{s}");
        }
    }

    #[test]
    fn runs_are_found_at_every_offset_and_length() {
        for pad in 0..20 {
            for letters in 1..12 {
                let word: String = "abcdefghijkl".chars().take(letters).collect();
                let spaced: Vec<String> = word.chars().map(String::from).collect();
                let s = format!("go {}{} end", "xy ".repeat(pad), spaced.join("-"));
                let want = if letters >= MIN_LETTERS {
                    word.clone()
                } else {
                    spaced.join("-")
                };
                assert_eq!(
                    joined(&s).0,
                    format!("go {}{want} end", "xy ".repeat(pad)),
                    "{s}"
                );
            }
        }
    }

    #[test]
    fn the_map_still_points_at_the_original() {
        let s = "say m i n i s t e r now";
        let mut n = Normalizer::new().normalize(s);
        join_spaced_letters(&mut n, s);
        let at = n.text.find("minister").unwrap_or(0);
        assert_eq!(n.original_range(s, at..at + 8), 4..19);
        assert_eq!(&s[4..19], "m i n i s t e r");
    }
}
