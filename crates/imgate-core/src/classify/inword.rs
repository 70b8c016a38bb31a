//! Symbols put inside Latin words removed (`min*ister`, `gov😀ernment`, `ele|ction`).
//!
//! A symbol in the middle of a word breaks word matching as easily as one between CJK characters breaks n-grams
//! (which the normaliser removes), and a reader skips it. Only symbols that never belong inside a word go: `*`,
//! `|`, `~`, and non-ASCII symbols (arrows, mathematical and technical signs, shapes, dingbats, emoji). Hyphens,
//! dots, apostrophes, `&`, `/`, `_`, `+` and `=` stay, since `anti-war`, `u.s.`, `don't`, `at&t`, `and/or`,
//! `snake_case`, `c++` and `x=y` are written that way. A run of such symbols goes when an ASCII letter stands on both
//! sides of it.

use super::normalize::Normalized;
use std::ops::Range;

/// Whether `c` is a symbol that never belongs inside a word.
pub fn is_inserted_symbol(c: char) -> bool {
    matches!(c, '*' | '|' | '~') || matches!(c as u32, 0x2190..=0x2BFF | 0x1F000..=0x1FAFF)
}

/// The byte length of the inserted symbol starting at byte `i` of `text`, if one does.
fn symbol_len_at(text: &str, i: usize) -> Option<usize> {
    let c = text.get(i..)?.chars().next()?;
    is_inserted_symbol(c).then(|| c.len_utf8())
}

/// Removes runs of inserted symbols between two ASCII letters of `n`. Returns whether anything changed. This runs
/// over every text, so the candidates are found with SIMD byte searches (`memchr`): the three ASCII symbols, and
/// the lead bytes of the non-ASCII ones (`0xE2` for U+2000..U+2FFF, which curly quotes and dashes share, and
/// `0xF0` for emoji); only those positions are looked at.
pub fn remove_inserted_symbols(n: &mut Normalized) -> bool {
    let text = n.text.as_str();
    let bytes = text.as_bytes();
    let candidates = memchr::memchr3_iter(b'*', b'|', b'~', bytes)
        .chain(memchr::memchr2_iter(0xE2, 0xF0, bytes));
    let mut drop: Vec<Range<usize>> = Vec::new();
    for i in candidates {
        let Some(len) = symbol_len_at(text, i) else {
            continue;
        };
        // Only a run's first symbol decides; a later one of the same run has a symbol before it.
        let before = i > 0 && bytes.get(i - 1).is_some_and(u8::is_ascii_alphabetic);
        if !before {
            continue;
        }
        let mut end = i + len;
        while let Some(l) = symbol_len_at(text, end) {
            end += l;
        }
        if bytes.get(end).is_some_and(u8::is_ascii_alphabetic) {
            drop.push(i..end);
        }
    }
    if drop.is_empty() {
        return false;
    }
    // The two searches report in their own order.
    drop.sort_by_key(|r| r.start);
    n.remove_ranges(&drop);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::normalize::Normalizer;

    fn removed(s: &str) -> (String, u32) {
        let mut n = Normalizer::new().normalize(s);
        remove_inserted_symbols(&mut n);
        (n.text.clone(), n.latin_words)
    }

    #[test]
    fn symbols_inside_words_go() {
        assert_eq!(
            removed("the min*ister and the gov😀ernment"),
            ("the minister and the government".into(), 5)
        );
        assert_eq!(
            removed("ele|ction par~~liament vo→te").0,
            "election parliament vote"
        );
    }

    #[test]
    fn symbols_between_words_or_digits_and_legit_marks_stay() {
        for s in [
            "2*3 = 6, a + b",
            "well-known u.s. don't at&t and/or snake_case",
            "I ❤ it *really*",
            "x ×y, a+b=c",
            "no symbols",
        ] {
            let n = Normalizer::new().normalize(s);
            assert_eq!(removed(s), (n.text.clone(), n.latin_words), "{s}");
        }
    }

    #[test]
    fn runs_are_found_at_every_offset_and_across_blocks() {
        for pad in 0..70 {
            let s = format!("{}mi😀★nister and ’quoted’ vo*te", "x ".repeat(pad));
            let want = format!("{}minister and ’quoted’ vote", "x ".repeat(pad));
            assert_eq!(removed(&s).0, want, "{s}");
        }
    }

    #[test]
    fn offsets_still_point_into_the_original() {
        let orig = "ok min😀ister said";
        let mut n = Normalizer::new().normalize(orig);
        assert!(remove_inserted_symbols(&mut n));
        let at = n.text.find("minister").unwrap_or(0);
        assert_eq!(&orig[n.original_range(orig, at..at + 8)], "min😀ister");
    }
}
