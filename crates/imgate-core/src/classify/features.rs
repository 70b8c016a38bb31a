//! The feature space of the statistical model, shared by training and scoring.
//!
//! Features are strings over normalised text: CJK character n-grams (1..=3, inside runs of CJK characters) and
//! Latin words and word bigrams (maximal ASCII alphanumeric runs; a bigram is two words separated by exactly one
//! space). At scoring time the model's features are found with the same automaton as lexicon terms, with word
//! boundaries enforced for patterns that start or end with an ASCII alphanumeric, which yields exactly the feature
//! set enumerated here.

use super::normalize::is_cjk;

/// Longest CJK n-gram used as a feature.
pub const MAX_CJK_NGRAM: usize = 3;

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

/// Calls `f` for every feature occurrence in normalised `text` (duplicates included).
pub fn for_each_feature(text: &str, mut f: impl FnMut(&str)) {
    // CJK n-grams.
    let mut run: Vec<(usize, char)> = Vec::new();
    let flush = |run: &mut Vec<(usize, char)>, f: &mut dyn FnMut(&str)| {
        for i in 0..run.len() {
            for n in 1..=MAX_CJK_NGRAM {
                if i + n > run.len() {
                    break;
                }
                let s = run[i].0;
                let e = run[i + n - 1].0 + run[i + n - 1].1.len_utf8();
                f(&text[s..e]);
            }
        }
        run.clear();
    };
    for (i, c) in text.char_indices() {
        if is_cjk(c) {
            run.push((i, c));
        } else if !run.is_empty() {
            flush(&mut run, &mut f);
        }
    }
    flush(&mut run, &mut f);
    // Latin words and bigrams.
    let b = text.as_bytes();
    let mut prev: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_alphanumeric() {
            let s = i;
            while i < b.len() && b[i].is_ascii_alphanumeric() {
                i += 1;
            }
            f(&text[s..i]);
            if let Some((ps, pe)) = prev {
                if pe + 1 == s && b[pe] == b' ' {
                    f(&text[ps..i]);
                }
            }
            prev = Some((s, i));
        } else {
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for_each_feature("国务院 prime minister, now", |s| v.push(s.to_string()));
        assert_eq!(
            v,
            vec![
                "国",
                "国务",
                "国务院",
                "务",
                "务院",
                "院",
                "prime",
                "minister",
                "prime minister",
                "now"
            ]
        );
    }
}
