//! Symbols put inside Latin words removed (`min*ister`, `gov😀ernment`, `ele|ction`, `par•liament`, `p—r—i—m—e`).
//!
//! A symbol in the middle of a word breaks word matching as easily as one between CJK characters breaks n-grams
//! (which the normaliser removes), and a reader skips it. Two kinds of symbols go:
//!
//! * **Never inside a word**: a run of them goes whenever an ASCII letter stands on both sides. `*`, `|`, `~`, `^`,
//!   `\`, `` ` ``, `;`; the Latin-1 signs (`·`, `§`, `¶`, `°`, `×`, `÷`, `«`, `»`, currency, ...); general
//!   punctuation that is no dash, quote or dot (`†`, `‡`, `•`, `‰`, `′`, `‹`, `›`, `※`, `⁂`, ...); currency signs;
//!   arrows, mathematical and technical signs, shapes and dingbats; the CJK marks `、`, `〃`, `々`, `〜`, `・`, `ー`;
//!   emoji.
//! * **Spelling marks**, which ordinary text does put between two words written without a space (`vote—held`,
//!   `said“no”`, `wait...what`): dashes, curly quotes, and runs of two or more dots or ASCII dashes (`..`, `--`).
//!   They go only between two *lone* letters, i.e. inside a word spelled out letter by letter (`p—r—i—m—e`,
//!   `p...r...i`). A single ASCII mark between lone letters (`p-r-i-m-e`, `p"r"i"m"e`) is [`super::spaced`]'s
//!   business, which also needs three letters in a row (`a+b=c` stays).
//!
//! Hyphens, dots, apostrophes, `&`, `/`, `_`, `+`, `=`, `<`, `>`, `%`, `?`, `#`, `:` and `,` stay inside words,
//! since `anti-war`, `u.s.`, `don't`, `at&t`, `and/or`, `snake_case`, `c++`, `x=y`, `a<b` and URLs are written that way;
//! so do `@`, `!` and `$`, which [`super::leet`] reads as letters (`p@rliament`).

use super::normalize::Normalized;
use super::pairs::push_pair_hits;
use std::ops::Range;

/// How a symbol between two ASCII letters is read (see the module doc).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mark {
    /// Never belongs inside a word: goes between any two letters.
    Never,
    /// A dash, quote or dot: goes only between two lone letters.
    Spelling,
}

/// How `c` reads between two ASCII letters, if it is a symbol that may go.
fn mark_of(c: char) -> Option<Mark> {
    match c {
        '*' | '|' | '~' | '^' | '\\' | '`' | ';' => return Some(Mark::Never),
        '.' | '-' | '"' | '\'' | ',' | ':' | '/' | '_' | '+' | '=' | '?' => {
            return Some(Mark::Spelling)
        }
        _ if c.is_ascii() => return None,
        _ => {}
    }
    match c as u32 {
        // Latin-1 signs; not the letters and digits among them (`ª`, `º`, `µ`, `²`, `¼`, ...).
        0x00A1..=0x00A9 | 0x00AB..=0x00B1 | 0x00B4 | 0x00B6..=0x00B8 | 0x00BB | 0x00BF | 0x00D7 | 0x00F7
        // General punctuation but dashes, quotes, dots and the fraction slash; currency; arrows to dingbats.
        | 0x2016..=0x2017 | 0x2020..=0x2023 | 0x2027 | 0x2030..=0x2043 | 0x2045..=0x205E | 0x20A0..=0x20CF
        | 0x2190..=0x2BFF
        // CJK marks that no Latin word contains.
        | 0x3001 | 0x3003 | 0x3005 | 0x301C..=0x301F | 0x30FB | 0x30FC
        | 0x1F000..=0x1FAFF => Some(Mark::Never),
        0x2010..=0x2015 | 0x2018..=0x201F | 0x2E3A..=0x2E3B | 0xFE58 => Some(Mark::Spelling),
        _ => None,
    }
}

/// The byte length and kind of the symbol starting at byte `i` of `text`, if one does.
fn mark_at(text: &str, i: usize) -> Option<(usize, Mark)> {
    let c = text.get(i..)?.chars().next()?;
    mark_of(c).map(|m| (c.len_utf8(), m))
}

/// Whether byte `i` is an ASCII letter with no ASCII letter or digit on either side.
fn lone_letter(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(u8::is_ascii_alphabetic)
        && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
        && !b.get(i + 1).is_some_and(u8::is_ascii_alphanumeric)
}

/// Removes runs of inserted symbols between two ASCII letters of `n`. Returns whether anything changed.
pub fn remove_inserted_symbols(n: &mut Normalized) -> bool {
    let text = n.text.as_str();
    let bytes = text.as_bytes();
    // Where a run may start, right after a letter: the ASCII symbols that never belong in a word and runs of two
    // dots or dashes (SIMD searches: the symbols are rare in any text, dots and dashes one a sentence or so), and
    // non-ASCII characters.
    let after_letter = |i: usize| i > 0 && bytes[i - 1].is_ascii_alphabetic();
    let mut candidates: Vec<usize> = Vec::new();
    for i in memchr::memchr3_iter(b'*', b'|', b'~', bytes)
        .chain(memchr::memchr3_iter(b'^', b'\\', b'`', bytes))
        .chain(memchr::memchr_iter(b';', bytes))
    {
        if after_letter(i) {
            candidates.push(i);
        }
    }
    for i in memchr::memchr2_iter(b'.', b'-', bytes) {
        if after_letter(i) && bytes.get(i + 1) == Some(&bytes[i]) {
            candidates.push(i);
        }
    }
    // Non-ASCII characters right after a letter: few in English prose, and Chinese text has few letters.
    push_pair_hits(
        bytes,
        |x, y| x.is_ascii_alphabetic() & (y >= 0x80),
        &mut candidates,
    );
    if candidates.is_empty() {
        return false;
    }
    // The searches report in their own order; a run is judged once, from its first symbol.
    candidates.sort_unstable();
    let mut drop: Vec<Range<usize>> = Vec::new();
    let mut judged_to = 0;
    for i in candidates {
        if i < judged_to {
            continue;
        }
        let (mut end, mut never, mut ascii) = (i, true, true);
        while let Some((len, mark)) = mark_at(text, end) {
            never &= mark == Mark::Never;
            ascii &= len == 1;
            end += len;
        }
        judged_to = end.max(i + 1);
        if end == i || !bytes.get(end).is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        let goes = never
            || (lone_letter(bytes, i - 1)
                && lone_letter(bytes, end)
                && (!ascii || (end - i >= 2 && bytes[i..end].iter().all(|&b| b == bytes[i]))));
        if goes {
            drop.push(i..end);
        }
    }
    if drop.is_empty() {
        return false;
    }
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
    fn signs_punctuation_and_cjk_marks_inside_words_go() {
        for sym in [
            "^", "\\", "`", ";", "·", "§", "¶", "°", "×", "÷", "«", "»", "£", "¥", "©", "®", "¿",
            "†", "‡", "•", "‰", "′", "‹", "›", "※", "⁂", "€", "、", "〃", "々", "〜", "・", "ー",
            "†‡",
        ] {
            let s = format!("the pr{sym}ime mi{sym}nister and the par{sym}liament");
            assert_eq!(
                removed(&s),
                ("the prime minister and the parliament".into(), 6),
                "{sym}"
            );
        }
    }

    #[test]
    fn dashes_quotes_and_dot_runs_go_only_inside_spelled_out_words() {
        for sep in ["—", "–", "―", "‐", "“", "”", "..", "...", "--"] {
            let spelled = format!("the p{sep}r{sep}i{sep}m{sep}e minister");
            assert_eq!(removed(&spelled).0, "the prime minister", "{sep}");
            // Between words (or a word and a letter) they are punctuation, as written.
            let prose = format!("the vote{sep}held today{sep}a result");
            let n = Normalizer::new().normalize(&prose);
            assert_eq!(removed(&prose).0, n.text, "{sep}");
        }
        // One ASCII mark between lone letters is the letter-spacing step's (it wants three letters).
        for s in [
            "plan a-b",
            "q.a",
            "u.s.-u.k. talks",
            "a.-b",
            "i'm",
            "p\"r\"i\"m\"e",
        ] {
            let n = Normalizer::new().normalize(s);
            assert_eq!(removed(s).0, n.text, "{s}");
        }
    }

    #[test]
    fn symbols_between_words_or_digits_and_legit_marks_stay() {
        for s in [
            "2*3 = 6, a + b",
            "well-known u.s. don't at&t and/or snake_case",
            "I ❤ it *really*",
            "x ×y, a+b=c",
            "no symbols",
            "x<y and a>b, 50% off?yes, time:now, user@example.com, ke$ha, yahoo!mail",
            "see example.com/news?topic=politics#top",
            "he said “no” and ‘yes’ — then left… wait...what",
            "25°c, 3×4, c# and f#, ¥100, #hashtag, ;-)",
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
