//! Latin words split by inserted spaces joined back (`par liament`, `minis ter`, `gov ern ment`).
//!
//! A space typed inside a word breaks word matching for lexicon and model alike, and a reader skips it, so it is
//! as cheap an evasion as a symbol inside a word. Unlike a symbol, a space is also what separates real words, so
//! only a vocabulary can tell `minis ter` (one word) from `prime minister` (two): two neighbouring words (one space
//! between them, letters only) are joined when the joined word is in the vocabulary and at least one of them is
//! not a word: neither in the vocabulary nor a stop word. Three neighbours are joined when the joined word is in
//! the vocabulary and at least two of them are not words (`par lia ment`). The vocabulary is what the classifier
//! knows: its models' single-word features and its lexicons' words ([`super::Classifier`] supplies it), so a join
//! is only ever made into a word that carries evidence.
//!
//! Looking every word up costs about half a `classify()` of the same text, so the pass runs only on suspicion.
//! While the model scores a text it already looks each word up; it counts the words it does not know of up to
//! [`MAX_PROBED_PIECE`] letters (a word of up to twice that split anywhere leaves such a piece). Only when they are
//! [`SUSPICIOUS_PIECES_PERCENT`] of the words or more are such words tried joined with their neighbour before and
//! after ([`has_split_word`]), and only if a join is a known word does [`super::Classifier`] rejoin the texts and
//! score them again. So only categories with a model rejoin. Training does not rejoin (its vocabulary is what it
//! produces); scoring and `imgate eval` do.

use super::features::{is_stop_word, latin_word_key};
use super::normalize::Normalized;
use std::ops::Range;

/// Shortest word a join may make.
pub const MIN_JOINED_LETTERS: usize = 4;

/// Longest unknown word [`joins_a_neighbour`] tries to join.
pub const MAX_PROBED_PIECE: usize = 5;

/// Share of a text's scored Latin words, in percent, that must be short and unknown to the model before its
/// pieces are probed. Measured with the shipped model on the English corpus and probe texts (2,152): clean text
/// has a median of 26% and a 95th percentile of 45% (so about one clean text in twenty is probed, at the cost of
/// about half a `classify()`); with half of its words of five letters or more split at a random place, the 25th
/// percentile is 49%, with all of them the 1st percentile is 50%. Lighter splitting (a quarter of the words:
/// median 42%) mostly goes unprobed.
pub const SUSPICIOUS_PIECES_PERCENT: usize = 45;

/// Fewest scored Latin words for the share to mean anything.
pub const MIN_PROBED_WORDS: usize = 4;

/// Whether `pieces` short unknown words among `words` scored Latin words are enough to probe them.
pub fn pieces_suggest_splits(pieces: usize, words: usize) -> bool {
    words >= MIN_PROBED_WORDS && pieces * 100 >= words * SUSPICIOUS_PIECES_PERCENT
}

/// Whether `piece` is a word: a stop word, or one `knows` knows.
fn is_a_word(piece: &[u8], knows: &dyn Fn(u64) -> bool) -> bool {
    is_stop_word(piece) || knows(latin_word_key(&[piece]))
}

/// The letter-only words of `text`: maximal runs of ASCII alphanumerics that have no digit.
pub(crate) fn letter_words(text: &[u8]) -> Vec<Range<usize>> {
    let mut words = Vec::new();
    let mut i = 0;
    while i < text.len() {
        if !text[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        let mut letters_only = true;
        while i < text.len() && text[i].is_ascii_alphanumeric() {
            letters_only &= text[i].is_ascii_alphabetic();
            i += 1;
        }
        if letters_only {
            words.push(start..i);
        }
    }
    words
}

/// The letter-only word of `text` that ends at byte `end` (exclusive), if one does.
fn word_ending_at(text: &[u8], end: usize) -> Option<Range<usize>> {
    let start = text
        .get(..end)?
        .iter()
        .rposition(|b| !b.is_ascii_alphanumeric())
        .map_or(0, |p| p + 1);
    let word = text.get(start..end)?;
    (!word.is_empty() && word.iter().all(u8::is_ascii_alphabetic)).then_some(start..end)
}

/// The letter-only word of `text` that starts at byte `start`, if one does.
fn word_starting_at(text: &[u8], start: usize) -> Option<Range<usize>> {
    let rest = text.get(start..)?;
    let len = rest
        .iter()
        .position(|b| !b.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    let word = rest.get(..len)?;
    (!word.is_empty() && word.iter().all(u8::is_ascii_alphabetic)).then_some(start..start + len)
}

/// Whether the word at `start..end` of `text`, joined with the word one space before or after it, makes a word
/// `knows` knows: the cheap test, for a word the model did not know, that tells a text may have split words.
pub fn joins_a_neighbour(
    text: &[u8],
    start: usize,
    end: usize,
    knows: &dyn Fn(u64) -> bool,
) -> bool {
    // A word of up to twice this length split anywhere has a piece this short: the probe looks from those.
    let Some(word) = text
        .get(start..end)
        .filter(|w| w.len() <= MAX_PROBED_PIECE && w.iter().all(u8::is_ascii_alphabetic))
    else {
        return false;
    };
    let joins = |a: &[u8], b: &[u8]| {
        a.len() + b.len() >= MIN_JOINED_LETTERS && knows(latin_word_key(&[a, b]))
    };
    let before = start
        .checked_sub(1)
        .filter(|&sp| text.get(sp) == Some(&b' '))
        .and_then(|sp| word_ending_at(text, sp))
        .and_then(|r| text.get(r));
    let after = (text.get(end) == Some(&b' '))
        .then(|| word_starting_at(text, end + 1))
        .flatten()
        .and_then(|r| text.get(r));
    before.is_some_and(|b| joins(b, word)) || after.is_some_and(|a| joins(word, a))
}

/// Whether a short word of `text` that `knows` does not know joins a neighbour into a word it knows: the test
/// behind [`super::Classifier`]'s rejoining, run on texts whose counts suggest splits.
pub fn has_split_word(text: &[u8], knows: &dyn Fn(u64) -> bool) -> bool {
    letter_words(text).into_iter().any(|r| {
        let piece = text.get(r.clone()).unwrap_or_default();
        piece.len() <= MAX_PROBED_PIECE
            && !is_a_word(piece, knows)
            && joins_a_neighbour(text, r.start, r.end, knows)
    })
}

/// Joins split words of `n` (see the module doc); `knows(key)` tells whether the word with that key
/// ([`latin_word_key`]) is in the vocabulary. Returns whether anything changed.
pub fn rejoin_split_words(n: &mut Normalized, knows: impl Fn(u64) -> bool) -> bool {
    if n.latin_words < 2 {
        return false;
    }
    let text = n.text.as_bytes();
    let words = letter_words(text);
    let piece = |r: &Range<usize>| text.get(r.clone()).unwrap_or_default();
    // Whether `b` follows `a` after exactly one space.
    let adjacent =
        |a: &Range<usize>, b: &Range<usize>| b.start == a.end + 1 && text.get(a.end) == Some(&b' ');
    let known: Vec<bool> = words.iter().map(|r| is_a_word(piece(r), &knows)).collect();
    let known_at = |i: usize| known.get(i).copied().unwrap_or(true);
    let mut drop: Vec<usize> = Vec::new();
    let mut i = 0;
    while i + 1 < words.len() {
        let (a, b) = (&words[i], &words[i + 1]);
        if !adjacent(a, b) {
            i += 1;
            continue;
        }
        if let Some(c) = words.get(i + 2).filter(|c| adjacent(b, c)) {
            let unknown = [i, i + 1, i + 2].iter().filter(|&&k| !known_at(k)).count();
            if unknown >= 2 && knows(latin_word_key(&[piece(a), piece(b), piece(c)])) {
                drop.extend([a.end, b.end]);
                i += 3;
                continue;
            }
        }
        let long_enough = a.len() + b.len() >= MIN_JOINED_LETTERS;
        if long_enough
            && !(known_at(i) && known_at(i + 1))
            && knows(latin_word_key(&[piece(a), piece(b)]))
        {
            drop.push(a.end);
            i += 2;
            continue;
        }
        i += 1;
    }
    if drop.is_empty() {
        return false;
    }
    n.remove_ascii_bytes(&drop);
    true
}

/// The word keys of `words`: a vocabulary for the tests of this module and of [`super::segment`].
#[cfg(test)]
pub(crate) fn vocabulary(words: &[&str]) -> std::collections::HashSet<u64> {
    words
        .iter()
        .map(|w| latin_word_key(&[w.as_bytes()]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::normalize::Normalizer;
    use std::collections::HashSet;

    fn rejoined(s: &str, vocab: &HashSet<u64>) -> String {
        let mut n = Normalizer::new().normalize(s);
        rejoin_split_words(&mut n, |k| vocab.contains(&k));
        n.text
    }

    #[test]
    fn split_words_join_back_into_known_words() {
        let v = vocabulary(&[
            "prime",
            "minister",
            "parliament",
            "resigned",
            "vote",
            "government",
        ]);
        assert_eq!(
            rejoined("the pri me minis ter res igned", &v),
            "the prime minister resigned"
        );
        assert_eq!(
            rejoined("par lia ment and gov ern ment", &v),
            "parliament and government"
        );
        // A stop word as one piece: `me` is one, `pri` is not a word.
        assert_eq!(rejoined("vo te", &v), "vote");
    }

    #[test]
    fn real_words_side_by_side_stay() {
        let v = vocabulary(&[
            "prime",
            "minister",
            "primeminister",
            "into",
            "in",
            "to",
            "vote",
        ]);
        for s in [
            "the prime minister",
            "went in to vote",
            "vote 2024 vote",
            "x1 ote",
            "a b",
            "pri-me",
        ] {
            let n = Normalizer::new().normalize(s);
            assert_eq!(rejoined(s, &v), n.text, "{s}");
        }
    }

    #[test]
    fn a_word_that_joins_a_neighbour_is_found() {
        let v = vocabulary(&["minister", "prime"]);
        let knows = |k: u64| v.contains(&k);
        let t = b"the minis ter and pri me 20 ter";
        // `minis` joins the word after it, `ter` the word before it.
        assert!(joins_a_neighbour(t, 4, 9, &knows));
        assert!(joins_a_neighbour(t, 10, 13, &knows));
        assert!(joins_a_neighbour(t, 18, 21, &knows));
        // `the` and `and` join nothing; `ter` after a number is no split.
        assert!(!joins_a_neighbour(t, 0, 3, &knows));
        assert!(!joins_a_neighbour(t, 14, 17, &knows));
        assert!(!joins_a_neighbour(t, 28, 31, &knows));
        assert!(has_split_word(t, &knows));
        assert!(!has_split_word(b"the prime minister spoke", &knows));
    }

    #[test]
    fn the_map_still_points_at_the_original() {
        let v = vocabulary(&["minister"]);
        let orig = "the minis ter spoke";
        let mut n = Normalizer::new().normalize(orig);
        assert!(rejoin_split_words(&mut n, |k| v.contains(&k)));
        let at = n.text.find("minister").unwrap_or(0);
        assert_eq!(&orig[n.original_range(orig, at..at + 8)], "minis ter");
    }
}
