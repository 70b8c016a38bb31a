//! Short Latin runs inserted between Chinese characters removed when a text has several (`外ab交ok部xy发`,
//! `外 x 交 x 部`).
//!
//! The normaliser already drops separators between CJK characters, and a lone letter or digit written right
//! between two (`外x交`). Two letters, or a letter with a space on either side, stay, since `湖人vs火箭`, `沪深A股`
//! or `A 股` are written that way. Inserted between character after character, they break every n-gram as a
//! symbol would. So a text where at least [`MIN_GAPS`] such runs sit between two CJK characters loses them all;
//! one or two stay as written. A run is one or two ASCII letters or digits with at least one letter (digits alone
//! are dates and counts: `月15日`), with at most one space on either side.

use super::normalize::{is_cjk, Normalized};
use super::pairs::push_pair_hits;
use std::ops::Range;

/// Fewest runs between CJK characters that make a text's runs inserted ones.
pub const MIN_GAPS: usize = 3;

/// Longest run taken for an inserted one.
pub const MAX_GAP_LETTERS: usize = 2;

/// Whether the character ending at byte `end` of `text` is CJK.
fn cjk_before(text: &str, end: usize) -> bool {
    text.get(..end)
        .and_then(|s| s.chars().next_back())
        .is_some_and(is_cjk)
}

/// Whether the character starting at byte `start` of `text` is CJK.
fn cjk_after(text: &str, start: usize) -> bool {
    text.get(start..)
        .and_then(|s| s.chars().next())
        .is_some_and(is_cjk)
}

/// Removes inserted Latin runs between CJK characters of `n` (see the module doc). Returns whether anything
/// changed.
pub fn remove_inserted_runs(n: &mut Normalized) -> bool {
    if (n.cjk_chars as usize) <= MIN_GAPS {
        return false;
    }
    let text = n.text.as_str();
    let bytes = text.as_bytes();
    let mut gaps: Vec<Range<usize>> = Vec::new();
    // Where an ASCII letter, digit or space follows a non-ASCII byte: few places in Chinese text.
    let mut lefts = Vec::new();
    push_pair_hits(
        bytes,
        |x, y| (x >= 0x80) & (y.is_ascii_alphanumeric() | (y == b' ')),
        &mut lefts,
    );
    for left in lefts {
        if !cjk_before(text, left) {
            continue;
        }
        let start = if bytes.get(left) == Some(&b' ') {
            left + 1
        } else {
            left
        };
        let len = bytes
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let run = bytes.get(start..start + len).unwrap_or_default();
        if len == 0 || len > MAX_GAP_LETTERS || !run.iter().any(u8::is_ascii_alphabetic) {
            continue;
        }
        let end = start + len;
        let right = if bytes.get(end) == Some(&b' ') {
            end + 1
        } else {
            end
        };
        if cjk_after(text, right) {
            gaps.push(left..right);
        }
    }
    if gaps.len() < MIN_GAPS {
        return false;
    }
    n.remove_ranges(&gaps);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::normalize::Normalizer;

    fn removed(s: &str) -> String {
        let mut n = Normalizer::new().normalize(s);
        remove_inserted_runs(&mut n);
        n.text
    }

    #[test]
    fn letters_inserted_between_characters_go() {
        assert_eq!(removed("外ab交ok部xy发QQ言人"), "外交部发言人");
        assert_eq!(removed("外 x 交 x 部 x 发言人"), "外交部发言人");
        assert_eq!(removed("外a1交x9部q0发言人"), "外交部发言人");
    }

    #[test]
    fn a_few_runs_dates_and_words_stay() {
        for s in [
            "湖人vs火箭，沪深A股上涨",
            "10月12日至10月15日在京举行",
            "苹果iPhone发布 新品 AI 功能",
            "中国 A 股 B 股",
            "no chinese here at all",
        ] {
            let n = Normalizer::new().normalize(s);
            assert_eq!(removed(s), n.text, "{s}");
        }
    }

    #[test]
    fn the_map_still_points_at_the_original() {
        let orig = "外ab交ok部xy发";
        let mut n = Normalizer::new().normalize(orig);
        assert!(remove_inserted_runs(&mut n));
        let at = n.text.find("部").unwrap_or(0);
        assert_eq!(&orig[n.original_range(orig, at..at + 3)], "部");
    }
}
