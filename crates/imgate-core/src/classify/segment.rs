//! Latin words run together without spaces split back into words (`theprimeministerresigned`), and so sentences
//! spelled out letter by letter with single spaces (`T h e p r i m e m i n i s t e r`), which the letter-spacing
//! step joins into one such run.
//!
//! Removing the spaces of a sentence leaves it readable and defeats word matching entirely. A letter-only word of
//! at least [`MIN_RUN_LETTERS`] letters that the vocabulary does not know is split by dynamic programming into
//! pieces that are stop words of two letters or more or vocabulary words of three or more: fewest letters left in
//! unknown pieces first, then fewest pieces. The split is kept when the unknown letters are at most half of the
//! word and vocabulary words (not stop words) make at least half of it, so a long name or a rare long word stays
//! whole rather than being cut into fragments (the vocabulary is a few thousand words: a stricter share left most
//! run-together sentences whole, see `conf/lexicons/README.md`). The vocabulary
//! is the classifier's, as for [`super::rejoin`]; like rejoining, this runs only when a model's scan meets an
//! unknown word that long (English words of 16 letters or more are rare: `telecommunications`,
//! `counterproductive`).

use super::features::{is_stop_word, latin_word_key, LatinWordHasher};
use super::normalize::Normalized;
use super::rejoin::letter_words;

/// Shortest unknown word that is tried as words run together.
pub const MIN_RUN_LETTERS: usize = 16;

/// Longest piece a split may have.
pub const MAX_PIECE_LETTERS: usize = 24;

/// Splits run-together words of `n` (see the module doc); `knows(key)` tells whether the word with that key is
/// in the vocabulary. Returns whether anything changed.
pub fn split_run_together(n: &mut Normalized, knows: impl Fn(u64) -> bool) -> bool {
    let text = n.text.as_bytes();
    let mut splits: Vec<usize> = Vec::new();
    for r in letter_words(text) {
        let Some(word) = text.get(r.clone()).filter(|w| w.len() >= MIN_RUN_LETTERS) else {
            continue;
        };
        let mut h = LatinWordHasher::new();
        word.iter().for_each(|&b| h.push(b));
        if knows(h.key()) {
            continue;
        }
        if let Some(cuts) = pieces(word, &knows) {
            splits.extend(cuts.into_iter().map(|c| r.start + c));
        }
    }
    if splits.is_empty() {
        return false;
    }
    n.insert_spaces_before(&splits);
    true
}

/// The cut positions (inside `word`) of its best split, if it leaves at most half of its letters unknown and
/// vocabulary words make at least half of them.
fn pieces(word: &[u8], knows: &dyn Fn(u64) -> bool) -> Option<Vec<usize>> {
    let n = word.len();
    // Per prefix length: (unknown letters, pieces) of its best split, and where its last piece starts.
    let mut best: Vec<Option<((usize, usize), usize)>> = vec![None; n + 1];
    best[0] = Some(((0, 0), 0));
    for start in 0..n {
        let Some(((unknown, count), _)) = best[start] else {
            continue;
        };
        let mut h = LatinWordHasher::new();
        for end in start + 1..=n.min(start + MAX_PIECE_LETTERS) {
            h.push(word[end - 1]);
            let piece = &word[start..end];
            // A one-letter piece counts as unknown (`a` costs a letter), or any unknown stretch would end in
            // `a` or `i` to save one; a two-letter piece is known only as a stop word (`of`, `in`), since the
            // vocabulary's two-letter words (`fa`, `mp`, `ai`) would otherwise cut unknown stretches into
            // features.
            let known = match piece.len() {
                1 => false,
                2 => is_stop_word(piece),
                _ => is_stop_word(piece) || knows(h.key()),
            };
            let cost = (unknown + if known { 0 } else { piece.len() }, count + 1);
            if best[end].is_none_or(|(c, _)| cost < c) {
                best[end] = Some((cost, start));
            }
        }
    }
    let ((unknown, _), _) = best[n]?;
    let mut cuts = Vec::new();
    let mut vocabulary_letters = 0;
    let mut end = n;
    while end > 0 {
        let (_, start) = best[end]?;
        let piece = &word[start..end];
        if piece.len() >= 3 && !is_stop_word(piece) && knows(latin_word_key(&[piece])) {
            vocabulary_letters += piece.len();
        }
        if start > 0 {
            cuts.push(start);
        }
        end = start;
    }
    // Stop words alone cut anything into pieces (`in tern at i on al`): vocabulary words must carry half the word.
    if unknown * 2 > n || vocabulary_letters * 2 < n {
        return None;
    }
    cuts.reverse();
    Some(cuts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::normalize::Normalizer;
    use crate::classify::rejoin::vocabulary;
    use std::collections::HashSet;

    fn split(s: &str, v: &HashSet<u64>) -> String {
        let mut n = Normalizer::new().normalize(s);
        split_run_together(&mut n, |k| v.contains(&k));
        n.text
    }

    #[test]
    fn run_together_words_split_back() {
        let v = vocabulary(&[
            "prime",
            "minister",
            "resigned",
            "after",
            "losing",
            "confidence",
            "vote",
            "parliament",
            "today",
        ]);
        assert_eq!(
            split(
                "theprimeministerresignedafterlosingaconfidencevoteinparliament",
                &v
            ),
            "the prime minister resigned after losing a confidence vote in parliament"
        );
        // An unknown stretch is kept as one piece.
        assert_eq!(
            split("ThePrimeMinisterXiresignedtoday", &v),
            "the prime minister xi resigned today"
        );
    }

    #[test]
    fn known_short_or_mostly_unknown_words_stay() {
        let v = vocabulary(&["prime", "minister", "telecommunications"]);
        for s in [
            "telecommunications",
            "primeminister",
            "internationalisation of trade",
            "supercalifragilisticexpialidocious",
        ] {
            let n = Normalizer::new().normalize(s);
            assert_eq!(split(s, &v), n.text, "{s}");
        }
    }

    #[test]
    fn the_map_still_points_at_the_original() {
        let v = vocabulary(&["prime", "minister", "resigned"]);
        let orig = "news: theprimeministerresigned";
        let mut n = Normalizer::new().normalize(orig);
        assert!(split_run_together(&mut n, |k| v.contains(&k)));
        let at = n.text.find("minister").unwrap_or(0);
        assert_eq!(&orig[n.original_range(orig, at..at + 8)], "minister");
    }
}
