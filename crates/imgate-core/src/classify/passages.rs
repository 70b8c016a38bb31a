//! Passages of a long text, read on their own.
//!
//! A document's model score is a weighted mean of its features, so a political paragraph padded with a longer
//! benign one (a recipe, a match report) scores like the benign one: with as much padding as text, English
//! political posts were caught 27 times in 100 (session 14). Reading every window of a long text and taking
//! the strongest would also flag business articles for their paragraph on the budget, which is not what the
//! category means for an article (BBC held-out FPR 0.6% -> 3-7% at any window threshold). What is kept is the
//! strict form: a passage of a few sentences that alone scores far above the threshold ([`PASSAGE_MARGIN`]) is
//! political news however much else the text says. Measured on the BBC halves and held-out articles it changed
//! no verdict, and it doubled the catch rate of padded posts.
//!
//! This module only cuts texts into passages; [`super::Classifier::classify`] reads them.

/// Characters in a passage of Latin text: about two or three sentences of news.
pub const LATIN_PASSAGE_CHARS: usize = 250;
/// Characters in a passage of Chinese text (denser: a headline and a sentence).
pub const CJK_PASSAGE_CHARS: usize = 80;

/// How far above the category threshold a passage must score to decide the document on its own.
pub const PASSAGE_MARGIN: f64 = 4.0;

/// Lexicon sum the whole document needs before its passages are read: a passage that scores
/// [`PASSAGE_MARGIN`] above the threshold carries lexicon terms, and without this gate every long benign text
/// would cost a classification per passage.
pub const PASSAGE_MIN_LEXICON: f64 = 2.0;

/// Most passages read per document (a 64 KiB text has hundreds of sentences).
pub const MAX_PASSAGES: usize = 32;

/// Whether `c` ends a sentence when followed by whitespace (Latin) or anything (CJK full stops).
fn ends_sentence(c: char, next: Option<char>) -> bool {
    match c {
        '。' | '！' | '？' | '；' => true,
        '.' | '!' | '?' | ';' => next.is_none_or(char::is_whitespace),
        _ => false,
    }
}

/// Byte ranges of the sentences of `text` (line breaks end sentences too); a sentence longer than `max` characters
/// is cut at the last whitespace before `max` characters (or at `max` characters), so that text without
/// punctuation still comes in pieces.
fn sentences(text: &str, max: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = 0usize;
    let mut last_space: Option<usize> = None;
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let next = it.peek().map(|&(_, n)| n);
        let end = i + c.len_utf8();
        chars += 1;
        if c.is_whitespace() {
            last_space = Some(end);
        }
        if c == '\n' || ends_sentence(c, next) {
            push_trimmed(text, start, end, &mut out);
            start = end;
            chars = 0;
            last_space = None;
        } else if chars >= max {
            let cut = last_space.filter(|&s| s > start).unwrap_or(end);
            push_trimmed(text, start, cut, &mut out);
            chars = text.get(cut..end).map_or(0, |rest| rest.chars().count());
            start = cut;
            last_space = None;
        }
    }
    push_trimmed(text, start, text.len(), &mut out);
    out
}

fn push_trimmed(text: &str, start: usize, end: usize, out: &mut Vec<(usize, usize)>) {
    let Some(piece) = text.get(start..end) else {
        return;
    };
    let lead = piece.len() - piece.trim_start().len();
    let trail = piece.len() - piece.trim_end().len();
    if lead + trail < piece.len() {
        out.push((start + lead, end - trail));
    }
}

/// Byte ranges of the passages of `text`: runs of whole sentences of at least `LATIN_PASSAGE_CHARS` (or
/// `CJK_PASSAGE_CHARS` for a mostly Chinese text), one starting at each sentence, until one reaches the end.
/// Empty when the text is short enough to be one passage itself (at most one and a half passages long).
pub fn passages(text: &str) -> Vec<(usize, usize)> {
    let (mut cjk, mut total) = (0usize, 0usize);
    for c in text.chars() {
        total += 1;
        cjk += usize::from(super::normalize::is_cjk(c));
    }
    let size = if cjk * 2 > total {
        CJK_PASSAGE_CHARS
    } else {
        LATIN_PASSAGE_CHARS
    };
    if total <= size + size / 2 {
        return Vec::new();
    }
    let sentences = sentences(text, size);
    let mut out = Vec::new();
    for (i, &(start, _)) in sentences.iter().enumerate() {
        let mut end = start;
        let mut chars = 0;
        let mut reached_end = true;
        for &(s, e) in sentences.get(i..).unwrap_or_default() {
            chars += text.get(s..e).map_or(0, |p| p.chars().count());
            end = e;
            if chars >= size {
                reached_end = s == sentences.last().map_or(s, |l| l.0);
                break;
            }
        }
        out.push((start, end));
        if reached_end {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str, ranges: &[(usize, usize)]) -> Vec<String> {
        ranges
            .iter()
            .map(|&(s, e)| text.get(s..e).unwrap_or("?").to_owned())
            .collect()
    }

    #[test]
    fn sentences_end_at_stops_and_line_breaks() {
        let text = "The minister resigned. Markets fell!\nWhy? Nobody knows 3.5 things 。下一句";
        assert_eq!(
            pieces(text, &sentences(text, 1000)),
            [
                "The minister resigned.",
                "Markets fell!",
                "Why?",
                "Nobody knows 3.5 things 。",
                "下一句"
            ]
        );
    }

    #[test]
    fn a_sentence_without_stops_is_cut_at_spaces() {
        let text = "word ".repeat(30);
        let cut = sentences(&text, 20);
        assert!(cut.len() >= 7, "{cut:?}");
        assert!(pieces(&text, &cut)
            .iter()
            .all(|p| p.chars().count() <= 20 && !p.starts_with(' ')));
        // No spaces at all (Chinese without punctuation): cut at the character count.
        let text = "字".repeat(50);
        assert!(pieces(&text, &sentences(&text, 20))
            .iter()
            .all(|p| p.chars().count() <= 20));
    }

    #[test]
    fn short_texts_are_their_own_passage() {
        assert!(passages("The prime minister resigned today.").is_empty());
        assert!(passages(&"A sentence of some length here. ".repeat(11)).is_empty());
    }

    #[test]
    fn long_texts_come_in_overlapping_runs_of_sentences() {
        let text = (0..40)
            .map(|i| format!("Sentence number {i} says a little more here."))
            .collect::<Vec<_>>()
            .join(" ");
        let ps = passages(&text);
        assert!(ps.len() > 20, "{}", ps.len());
        for p in pieces(&text, &ps) {
            assert!(p.starts_with("Sentence number") && p.ends_with('.'), "{p}");
        }
        // Each passage but the last is at least a passage long; the last ends the text.
        assert!(ps[..ps.len() - 1]
            .iter()
            .all(|&(s, e)| text[s..e].chars().count() >= LATIN_PASSAGE_CHARS));
        assert_eq!(ps.last().map(|p| p.1), Some(text.len()));
    }

    #[test]
    fn chinese_passages_are_shorter() {
        let text = "国务院召开常务会议部署工作。".repeat(12);
        let ps = passages(&text);
        assert!(!ps.is_empty());
        assert!(pieces(&text, &ps)
            .iter()
            .all(|p| p.chars().count() <= CJK_PASSAGE_CHARS + 14));
    }
}
