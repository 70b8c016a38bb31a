//! Text normalisation for classification.
//!
//! Evasion of keyword filters is cheap (`政-治`, `政\u{200B}治`, `ｍｉｎｉｓｔｅｒ`, Cyrillic `а` for Latin `a`,
//! traditional characters), so every text is folded to one canonical form before any signal looks at it. The
//! per-character part of the pipeline is precomputed once per process into a table covering the Basic
//! Multilingual Plane, so the hot loop is a table lookup per character with an ASCII fast path, and no allocation
//! per character. Each output byte remembers where its source character started in the original, so evidence
//! can quote what the user actually wrote.
//!
//! Per-character steps, in order (each also exposed as its own function for testing):
//! 1. [`is_default_ignorable`] characters are dropped (zero-width, bidi controls, variation selectors, ...);
//! 2. Unicode NFKC ([`nfkc`]), which also folds full-width and half-width forms;
//! 3. combining marks are dropped and Latin letters lose their accents ([`strip_accents`]);
//! 4. case folding ([`fold_case`]);
//! 5. traditional to simplified Chinese ([`to_simplified`]);
//! 6. non-ASCII look-alikes of Latin letters fold to their ASCII skeleton ([`fold_confusable`]).
//!
//! Markup, done in the scan before the per-character steps: HTML character references (`&#22806;`, `&#x5916;`,
//! `&amp;`, ...) are read as the character they stand for, and short HTML tags (`<b>`, `</span>`, `<br/>`) are
//! dropped like zero-width characters, since a client that renders HTML shows the plain text ([`markup_at`]).
//! Percent-encoded UTF-8 (`%E5%A4%96`, as in the path of a link to a Chinese article, which browsers show
//! decoded) is read as the non-ASCII character it encodes; `%` with anything else (`50%`, `%41`) is text.
//!
//! Sequence steps, done in the scan: whitespace runs collapse to one space, separators (spaces, punctuation,
//! symbols) between two CJK characters are removed ([`is_separator`]), and so is a lone Latin letter or digit
//! directly between two CJK characters (`外x交x部`, `外0交1部`: a letter or digit is as easy to insert as a
//! symbol; a real word next to Chinese text has two letters or more, and the rare lone one, as in `A股`, carries
//! no topic; a lone digit, as in `3月5日` or `第1次`, is a number the classifier does not read anyway).

use std::ops::Range;
use std::sync::OnceLock;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The normalised form of one text, with a byte map back to the original.
#[derive(Debug, Default, Clone)]
pub struct Normalized {
    /// Canonical text: lower-case, NFKC, simplified Chinese, single spaces.
    pub text: String,
    /// For each byte of `text`, the byte offset in the original text of the character it came from.
    map: Vec<u32>,
    /// Number of CJK characters in `text` (used for length normalisation of the model).
    pub cjk_chars: u32,
    /// Number of ASCII alphanumeric words in `text`.
    pub latin_words: u32,
}

impl Normalized {
    /// Empties the buffers, keeping their capacity.
    pub fn clear(&mut self) {
        self.text.clear();
        self.map.clear();
        self.cjk_chars = 0;
        self.latin_words = 0;
    }

    /// The byte offset in the original text of the character output byte `i` came from.
    pub(crate) fn source_of(&self, i: usize) -> Option<usize> {
        self.map.get(i).map(|&o| o as usize)
    }

    /// Removes the output bytes at `positions` (ascending, ASCII bytes only, so character boundaries hold) from
    /// the text and the map, and recounts the Latin words.
    pub(crate) fn remove_ascii_bytes(&mut self, positions: &[usize]) {
        if positions.is_empty() {
            return;
        }
        let mut next = positions.iter().copied().peekable();
        let mut bytes = std::mem::take(&mut self.text).into_bytes();
        let mut kept = 0;
        for i in 0..bytes.len() {
            if next.peek() == Some(&i) && bytes[i].is_ascii() {
                next.next();
                continue;
            }
            bytes[kept] = bytes[i];
            self.map[kept] = self.map[i];
            kept += 1;
        }
        bytes.truncate(kept);
        self.map.truncate(kept);
        // Only ASCII bytes were removed, so the rest is still UTF-8; stay total anyway.
        self.text = String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        self.recount_words();
    }

    /// Removes the output byte `ranges` (ascending, disjoint, on character boundaries) from the text and the
    /// map, and recounts the Latin words.
    pub(crate) fn remove_ranges(&mut self, ranges: &[Range<usize>]) {
        if ranges.is_empty() {
            return;
        }
        let old = std::mem::take(&mut self.text);
        let old_map = std::mem::take(&mut self.map);
        self.text.reserve(old.len());
        self.map.reserve(old_map.len());
        let mut from = 0;
        for r in ranges
            .iter()
            .chain(std::iter::once(&(old.len()..old.len())))
        {
            if let (Some(part), Some(part_map)) =
                (old.get(from..r.start), old_map.get(from..r.start))
            {
                self.text.push_str(part);
                self.map.extend_from_slice(part_map);
            }
            from = r.end.max(from);
        }
        self.recount_words();
    }

    /// Sets `latin_words` from the text.
    fn recount_words(&mut self) {
        let b = self.text.as_bytes();
        self.latin_words = (0..b.len())
            .filter(|&i| {
                b[i].is_ascii_alphanumeric() && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            })
            .count() as u32;
    }

    /// Inserts a space before each output byte at `positions` (ascending, character boundaries), mapped to the
    /// source of the byte it precedes, and recounts the Latin words.
    pub(crate) fn insert_spaces_before(&mut self, positions: &[usize]) {
        if positions.is_empty() {
            return;
        }
        let old = std::mem::take(&mut self.text);
        let old_map = std::mem::take(&mut self.map);
        self.text.reserve(old.len() + positions.len());
        self.map.reserve(old_map.len() + positions.len());
        let mut from = 0;
        for &p in positions.iter().chain(std::iter::once(&old.len())) {
            let (Some(part), Some(part_map)) = (old.get(from..p), old_map.get(from..p)) else {
                continue;
            };
            self.text.push_str(part);
            self.map.extend_from_slice(part_map);
            if let Some(&src) = old_map.get(p) {
                self.text.push(' ');
                self.map.push(src);
            }
            from = p;
        }
        self.recount_words();
    }

    /// Heap bytes held by the buffers (for callers that keep a `Normalized` around as scratch).
    pub fn capacity_bytes(&self) -> usize {
        self.text.capacity() + self.map.capacity() * std::mem::size_of::<u32>()
    }

    /// Maps a byte range of the normalised text back to the byte range of the original text it came from.
    pub fn original_range(&self, original: &str, range: Range<usize>) -> Range<usize> {
        if range.start >= range.end || range.end > self.map.len() {
            return 0..0;
        }
        let start = self.map[range.start] as usize;
        let last = self.map[range.end - 1] as usize;
        let end = match markup_at(original, last) {
            Some(Markup::Char(_, len)) => last + len,
            _ => original
                .get(last..)
                .and_then(|s| s.chars().next())
                .map_or(original.len(), |c| last + c.len_utf8()),
        };
        start..end.max(start)
    }

    /// Token count used to length-normalise model features: CJK characters plus Latin words, at least 1.
    pub fn tokens(&self) -> u32 {
        (self.cjk_chars + self.latin_words).max(1)
    }

    /// Whether the text is mainly Chinese (more CJK characters than Latin words).
    pub fn is_cjk(&self) -> bool {
        self.cjk_chars > 0 && self.cjk_chars >= self.latin_words
    }
}

/// Unicode default-ignorable code points and other invisible format characters that evaders insert.
pub fn is_default_ignorable(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F..=0x1160 | 0x17B4..=0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F | 0xFEFF
        | 0xFFA0 | 0xFFF0..=0xFFF8 | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
}

/// CJK ideographs, kana and Hangul: scripts written without spaces between words.
#[inline]
pub fn is_cjk(c: char) -> bool {
    // The unified ideographs first: nearly every character of a Chinese text.
    if ('\u{4E00}'..='\u{9FFF}').contains(&c) {
        return true;
    }
    matches!(c as u32,
        0x3005 | 0x3007 | 0x3040..=0x309F | 0x30A0..=0x30FA | 0x30FC..=0x30FF | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// Characters that may be inserted between CJK characters to break up a term: whitespace, punctuation and
/// symbols (ASCII, Latin-1, general punctuation, arrows/math/shapes/dingbats, CJK punctuation, emoji), and the
/// dash- and dot-like characters of other blocks that no Chinese text puts between two characters: spacing
/// modifier letters (`ˇ`), Hebrew, Tibetan, Runic and Mongolian punctuation, the Hangul middle dot `ㆍ` (`ᆞ` after NFKC), modifier
/// tone letters and colons, CJK radicals, strokes and ideographic description characters (`⺀`, `㇀`, `⿰`),
/// and the four one-stroke ideographs used as bars and dots (`丨`, `丶`, `丿`, `亅`).
pub fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation() || c.is_ascii_whitespace();
    }
    matches!(c as u32,
        0x00A0..=0x00BF | 0x00D7 | 0x00F7 | 0x02B0..=0x02FF | 0x05BE | 0x0F0B..=0x0F14 | 0x16EB..=0x16ED
        | 0x119E | 0x1800..=0x180A | 0x2000..=0x206F | 0x20A0..=0x20CF | 0x2100..=0x214F | 0x2190..=0x2BFF
        | 0x2E00..=0x2EFF | 0x2FF0..=0x2FFF | 0x3000..=0x3004 | 0x3008..=0x303F | 0x30FB | 0x318D
        | 0x31C0..=0x31EF | 0x4E28 | 0x4E36 | 0x4E3F | 0x4E85 | 0xA700..=0xA71F | 0xA789..=0xA78A
        | 0xFE10..=0xFE6F | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF40 | 0xFF5B..=0xFF65
        | 0x1F000..=0x1FAFF)
}

/// The one-stroke ideographs [`is_separator`] names: CJK code points, but read as separators.
fn is_stroke_ideograph(c: char) -> bool {
    matches!(c, '\u{4E28}' | '\u{4E36}' | '\u{4E3F}' | '\u{4E85}')
}

/// NFKC of one character (full-width and half-width forms fold to their ordinary forms).
pub fn nfkc(c: char, out: &mut Vec<char>) {
    out.extend(std::iter::once(c).nfkc());
}

/// Drops combining marks and decomposes accented Latin letters to their base letter.
pub fn strip_accents(c: char, out: &mut Vec<char>) {
    if is_combining_mark(c) {
        return;
    }
    let cp = c as u32;
    if (0xC0..=0x24F).contains(&cp) || (0x1E00..=0x1EFF).contains(&cp) {
        out.extend(std::iter::once(c).nfd().filter(|d| !is_combining_mark(*d)));
    } else {
        out.push(c);
    }
}

/// Case folding (full lower-casing).
pub fn fold_case(c: char, out: &mut Vec<char>) {
    out.extend(c.to_lowercase());
}

/// Traditional to simplified Chinese, character by character (via the `fast2s` table).
pub fn to_simplified(c: char) -> char {
    if c.len_utf8() != 3 || !is_cjk(c) {
        return c;
    }
    let mut buf = [0u8; 4];
    fast2s::convert(c.encode_utf8(&mut buf))
        .chars()
        .next()
        .unwrap_or(c)
}

/// Folds a non-ASCII, non-CJK look-alike of Latin letters (Cyrillic `а`, Greek `ο`, ...) to its ASCII
/// skeleton (Unicode TR39 confusables). ASCII itself is never folded, so `0` and `1` stay digits.
pub fn fold_confusable(c: char, out: &mut Vec<char>) {
    if c.is_ascii() || is_cjk(c) || !c.is_alphabetic() {
        out.push(c);
        return;
    }
    if let Some(latin) = greek_look_alike(c) {
        out.push(latin);
        return;
    }
    let mut buf = [0u8; 4];
    let skel: Vec<char> = unicode_security::skeleton(c.encode_utf8(&mut buf)).collect();
    if !skel.is_empty() && skel.len() <= 3 && skel.iter().all(|s| s.is_ascii_alphanumeric()) {
        out.extend(skel.iter().map(|s| s.to_ascii_lowercase()));
    } else {
        out.push(c);
    }
}

/// The Latin letter a lower-case Greek letter passes for inside Latin words (`ε` in `thε`, `η` in `miηister`,
/// `τ` in `vοτe`), where TR39's skeletons keep a Greek letter (only `ο` and a few others are listed there).
/// Upper-case Greek is folded to lower case before this. Greek text itself is not a language the shipped
/// categories read, so folding it whole costs nothing.
fn greek_look_alike(c: char) -> Option<char> {
    Some(match c {
        'α' => 'a',
        'β' => 'b',
        'γ' => 'y',
        'ε' => 'e',
        'η' => 'n',
        'ι' => 'i',
        'κ' => 'k',
        'μ' => 'u',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'σ' => 'o',
        'τ' => 't',
        'υ' => 'u',
        'χ' => 'x',
        'ω' => 'w',
        _ => return None,
    })
}

/// The Latin letter a letter-like symbol shows, for the ones neither NFKC nor the confusables table reads as
/// letters: small capitals (`ᴍɪɴɪꜱᴛᴇʀ`), negative circled and squared capitals (`🅼🅸🅽`) and regional indicator
/// symbols (`🇲🇮🇳`; a flag pair reads as its country code, `🇨🇳` as `cn`).
pub fn letter_shown_by(c: char) -> Option<char> {
    const SMALL_CAPITALS: [(char, char); 25] = [
        ('\u{1D00}', 'a'),
        ('\u{0299}', 'b'),
        ('\u{1D04}', 'c'),
        ('\u{1D05}', 'd'),
        ('\u{1D07}', 'e'),
        ('\u{A730}', 'f'),
        ('\u{0262}', 'g'),
        ('\u{029C}', 'h'),
        ('\u{026A}', 'i'),
        ('\u{1D0A}', 'j'),
        ('\u{1D0B}', 'k'),
        ('\u{029F}', 'l'),
        ('\u{1D0D}', 'm'),
        ('\u{0274}', 'n'),
        ('\u{1D0F}', 'o'),
        ('\u{1D18}', 'p'),
        ('\u{A7AF}', 'q'),
        ('\u{0280}', 'r'),
        ('\u{A731}', 's'),
        ('\u{1D1B}', 't'),
        ('\u{1D1C}', 'u'),
        ('\u{1D20}', 'v'),
        ('\u{1D21}', 'w'),
        ('\u{028F}', 'y'),
        ('\u{1D22}', 'z'),
    ];
    let cp = c as u32;
    let from = |first: u32| char::from_u32(u32::from(b'a') + cp - first);
    match cp {
        0x1F150..=0x1F169 => from(0x1F150),
        0x1F170..=0x1F189 => from(0x1F170),
        0x1F1E6..=0x1F1FF => from(0x1F1E6),
        _ => SMALL_CAPITALS
            .iter()
            .find(|(small, _)| *small == c)
            .map(|&(_, letter)| letter),
    }
}

/// Full per-character pipeline (slow path; used to fill the table and for characters outside the BMP).
fn fold_char(c: char, out: &mut String) {
    if is_default_ignorable(c) {
        return;
    }
    if let Some(letter) = letter_shown_by(c) {
        out.push(letter);
        return;
    }
    let mut a = Vec::with_capacity(4);
    let mut b = Vec::with_capacity(4);
    nfkc(c, &mut a);
    for d in a.drain(..) {
        if is_default_ignorable(d) {
            continue;
        }
        if d.is_whitespace() {
            b.push(' ');
        } else if !d.is_control() {
            strip_accents(d, &mut b);
        }
    }
    // Look-alikes are folded both before and after lower-casing: Cyrillic `М` looks like `M`, but its lower
    // case `м` no longer looks like `m`.
    for d in b.drain(..) {
        let mut skel = Vec::with_capacity(2);
        fold_confusable(d, &mut skel);
        for s in skel {
            fold_case(s, &mut a);
        }
    }
    for d in a.drain(..) {
        let d = to_simplified(d);
        fold_confusable(d, &mut b);
    }
    for d in b {
        // Case folding may re-expose accents (e.g. `İ` -> `i̇`); confusable folding may yield upper case.
        if !is_combining_mark(d) {
            out.extend(d.to_lowercase());
        }
    }
}

/// Markup at a position of a text: a character reference or percent-encoded character, or a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Markup {
    /// A character reference (`&#22806;`, `&#x5916;`, `&amp;`) or a percent-encoded non-ASCII character
    /// (`%E5%A4%96`) for this character, this many bytes long.
    Char(char, usize),
    /// A short tag (`<b>`, `</span>`, `<br/>`, `<a href="...">`), this many bytes long.
    Tag(usize),
}

/// Longest tag [`markup_at`] reads as a tag: markup inserted to break up a term is short, and a bound keeps
/// stray `<` in ordinary text from swallowing it.
const MAX_TAG: usize = 64;

/// Longest HTML comment (`<!-- ... -->`) [`markup_at`] reads as markup.
const MAX_COMMENT: usize = 256;

/// The value of one `%XX` triplet at `at` of `b`.
pub(crate) fn percent_byte(b: &[u8], at: usize) -> Option<u8> {
    match b.get(at..at + 3)? {
        [b'%', hi, lo] => {
            let digit = |c: u8| char::from(c).to_digit(16);
            Some((digit(*hi)? * 16 + digit(*lo)?) as u8)
        }
        _ => None,
    }
}

/// A percent-encoded non-ASCII character at `i` of `b`: two to four `%XX` triplets that are one well-formed UTF-8
/// sequence; or an encoded space (`%20`), which reads as the space between the words it joins
/// (`The%20prime%20minister`). Other ASCII is left encoded (`%41`, `%25`): decoding it would change ordinary text
/// such as `100%25`, and a reader sees an encoded ASCII letter as noise, not as the letter.
fn percent_char_at(b: &[u8], i: usize) -> Option<Markup> {
    let lead = percent_byte(b, i)?;
    if lead == b' ' {
        return Some(Markup::Char(' ', 3));
    }
    let len = match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return None,
    };
    let mut buf = [lead, 0, 0, 0];
    for (k, slot) in buf.iter_mut().enumerate().take(len).skip(1) {
        *slot = percent_byte(b, i + 3 * k)?;
    }
    // `from_utf8` rejects overlong forms, surrogates and bad continuation bytes.
    let c = std::str::from_utf8(buf.get(..len)?).ok()?.chars().next()?;
    Some(Markup::Char(c, 3 * len))
}

/// The markup starting at byte `i` of `text`, if any. Only well-formed references, percent-encoded characters
/// and tags count: `a < b`, `&` alone, `&#;`, `50%` or `%E5%A4` are text.
pub(crate) fn markup_at(text: &str, i: usize) -> Option<Markup> {
    let b = text.as_bytes();
    match b.get(i)? {
        b'%' => percent_char_at(b, i),
        b'&' => {
            let rest = b.get(i + 1..)?;
            let semi = rest.iter().take(9).position(|&c| c == b';')?;
            let body = &rest[..semi];
            let c = match body {
                [b'#', b'x' | b'X', hex @ ..]
                    if !hex.is_empty() && hex.iter().all(u8::is_ascii_hexdigit) =>
                {
                    u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
                }
                [b'#', dec @ ..] if !dec.is_empty() && dec.iter().all(u8::is_ascii_digit) => {
                    std::str::from_utf8(dec).ok()?.parse::<u32>().ok()
                }
                b"amp" => Some(u32::from(b'&')),
                b"lt" => Some(u32::from(b'<')),
                b"gt" => Some(u32::from(b'>')),
                b"quot" => Some(u32::from(b'"')),
                b"apos" => Some(u32::from(b'\'')),
                b"nbsp" => Some(0xA0),
                _ => None,
            }?;
            let c = char::from_u32(c).filter(|&c| c != '\0')?;
            Some(Markup::Char(c, semi + 2))
        }
        b'<' if b.get(i + 1..i + 4) == Some(b"!--") => {
            // An HTML comment, whatever it holds, shows nothing.
            let body = b.get(i + 4..(i + MAX_COMMENT).min(b.len()))?;
            let end = memchr::memmem::find(body, b"-->")?;
            Some(Markup::Tag(4 + end + 3))
        }
        b'<' => {
            let mut j = i + 1;
            if b.get(j) == Some(&b'/') {
                j += 1;
            }
            if !b.get(j).is_some_and(u8::is_ascii_alphabetic) {
                return None;
            }
            while b.get(j).is_some_and(u8::is_ascii_alphanumeric) {
                j += 1;
            }
            let close = b
                .get(j..(i + MAX_TAG).min(b.len()))?
                .iter()
                .position(|&c| c == b'>' || c == b'<')?;
            match (b.get(j), b.get(j + close)) {
                // Right after the name: `>`, `/>`, or attributes after a space.
                (Some(b'>' | b'/' | b' '), Some(b'>')) => Some(Markup::Tag(j + close + 1 - i)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// [`ASCII_CLASS`] bit: ASCII letter or digit.
pub(crate) const ALNUM: u8 = 1;
/// [`ASCII_CLASS`] bit: visible ASCII (`!`..=`~`) that bulk copying may take: all but `&`, `<` and `%`, which
/// may start markup ([`MARKUP`]) and go through [`markup_at`].
pub(crate) const GRAPHIC: u8 = 2;
/// [`ASCII_CLASS`] bit: a byte that may start markup (`&`, `<`, `%`).
pub(crate) const MARKUP: u8 = 4;
/// [`ASCII_CLASS`] bit: ASCII digit.
pub(crate) const DIGIT: u8 = 8;

/// Per byte value, its [`ALNUM`] / [`GRAPHIC`] bits (0 for non-ASCII bytes): one load instead of a chain of range
/// comparisons in the loops that run over every ASCII byte (normalisation, feature scan).
pub(crate) static ASCII_CLASS: [u8; 256] = ascii_classes();

/// Whether byte `b` may start markup that [`markup_at`] reads.
#[inline(always)]
const fn is_markup_start(b: u8) -> bool {
    matches!(b, b'&' | b'<' | b'%')
}

const fn ascii_classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        if b.is_ascii_digit() {
            t[i] = ALNUM | GRAPHIC | DIGIT;
        } else if b.is_ascii_alphanumeric() {
            t[i] = ALNUM | GRAPHIC;
        } else if is_markup_start(b) {
            t[i] = MARKUP;
        } else if b.is_ascii_graphic() {
            t[i] = GRAPHIC;
        }
        i += 1;
    }
    t
}

const DELETE: u32 = 0x7FFF_FFFF;
const MULTI: u32 = 0x8000_0000;
/// Single-char entries: the output char in the low 21 bits, its [`Class`] in bits 24..26.
const CHAR_MASK: u32 = 0x001F_FFFF;
const CLASS_SHIFT: u32 = 24;

/// What the sequence steps need to know about an output character, precomputed so the hot loop does no range
/// matching.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Other = 0,
    Cjk = 1,
    Separator = 2,
    Ascii = 3,
}

fn class_of(c: char) -> Class {
    if c.is_ascii() {
        Class::Ascii
    } else if is_cjk(c) && !is_stroke_ideograph(c) {
        Class::Cjk
    } else if is_separator(c) {
        Class::Separator
    } else {
        Class::Other
    }
}

/// Precomputed per-character folding for the BMP.
struct Table {
    /// Either a single output char with its class, [`DELETE`], or [`MULTI`] | len << 24 | offset into `pool`.
    entries: Vec<u32>,
    pool: String,
    /// Bit per BMP code point: a CJK character that folds to itself (most of any Chinese text). 8 KiB, so the
    /// bulk path stays in L1 instead of touching the 256 KiB `entries` per character.
    identity_cjk: Vec<u64>,
}

impl Table {
    #[inline]
    fn is_identity_cjk(&self, cp: u32) -> bool {
        self.identity_cjk
            .get((cp >> 6) as usize)
            .is_some_and(|w| w >> (cp & 63) & 1 != 0)
    }
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut entries = Vec::with_capacity(0x10000);
        let mut pool = String::new();
        let mut tmp = String::new();
        for cp in 0u32..0x10000 {
            let Some(c) = char::from_u32(cp) else {
                entries.push(DELETE);
                continue;
            };
            tmp.clear();
            fold_char(c, &mut tmp);
            let mut it = tmp.chars();
            let entry = match (it.next(), it.next()) {
                (None, _) => DELETE,
                (Some(one), None) => one as u32 | (class_of(one) as u32) << CLASS_SHIFT,
                _ => {
                    let off = pool.len() as u32;
                    pool.push_str(&tmp);
                    // Expansions are short (NFKC of one BMP char is at most 18 chars / 54 bytes).
                    MULTI | ((tmp.len() as u32 & 0x7F) << 24) | (off & 0x00FF_FFFF)
                }
            };
            entries.push(entry);
        }
        let mut identity_cjk = vec![0u64; 0x10000 / 64];
        for (cp, &e) in entries.iter().enumerate() {
            if e == cp as u32 | (Class::Cjk as u32) << CLASS_SHIFT {
                identity_cjk[cp >> 6] |= 1 << (cp & 63);
            }
        }
        Table {
            entries,
            pool,
            identity_cjk,
        }
    })
}

/// The normaliser. Cheap to create; the tables are shared process-wide and built on first use.
#[derive(Clone, Copy)]
pub struct Normalizer {
    table: &'static Table,
}

impl Default for Normalizer {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Normalizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Normalizer")
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    Start,
    Cjk,
    Other,
}

/// Scan state for the sequence steps (space collapsing, CJK separator removal).
struct Emitter<'a> {
    out: &'a mut Normalized,
    /// Kind of the last non-separator character emitted.
    last: Last,
    /// Output length before a separator run (or a lone letter or digit) that directly follows a CJK character.
    pending: Option<usize>,
    /// The pending run is one ASCII letter or digit right after a CJK character: removed if a CJK character
    /// follows at once, kept (as a word) if anything else does.
    lone_letter: bool,
    /// Whether the last output byte is an ASCII alphanumeric / a space (or the output is empty).
    prev_alnum: bool,
    prev_space: bool,
}

impl Emitter<'_> {
    #[inline]
    fn push_str(&mut self, s: &str, src: u32) {
        self.out.text.push_str(s);
        self.out.map.extend(std::iter::repeat_n(src, s.len()));
        self.prev_alnum = false;
        self.prev_space = false;
    }

    /// Something other than a CJK character ends the pending run: its characters stay.
    #[inline]
    fn keep_pending(&mut self) {
        self.pending = None;
        self.lone_letter = false;
    }

    /// A CJK character follows the pending run: the run is removed (and a lone letter's word uncounted).
    #[inline]
    fn drop_pending(&mut self) {
        if let Some(p) = self.pending.take() {
            self.out.text.truncate(p);
            self.out.map.truncate(p);
            if self.lone_letter {
                self.out.latin_words -= 1;
            }
        }
        self.lone_letter = false;
    }

    /// A separator follows: if it directly follows a CJK character, remember where the run started.
    #[inline]
    fn separator(&mut self) {
        if self.lone_letter {
            // `外x-`: the letter was not inserted between two CJK characters; it stays, and so does the run.
            self.keep_pending();
            self.last = Last::Other;
        }
        if self.last == Last::Cjk && self.pending.is_none() {
            self.pending = Some(self.out.text.len());
        }
    }

    #[inline]
    fn emit(&mut self, c: char, class: Class, src: u32) {
        match class {
            Class::Ascii => self.emit_ascii(c as u8, src),
            Class::Cjk => {
                self.drop_pending();
                self.last = Last::Cjk;
                self.out.cjk_chars += 1;
                let mut buf = [0u8; 4];
                self.push_str(c.encode_utf8(&mut buf), src);
            }
            Class::Separator => {
                self.separator();
                let mut buf = [0u8; 4];
                self.push_str(c.encode_utf8(&mut buf), src);
            }
            Class::Other => {
                self.keep_pending();
                self.last = Last::Other;
                let mut buf = [0u8; 4];
                self.push_str(c.encode_utf8(&mut buf), src);
            }
        }
    }

    #[inline]
    fn emit_ascii(&mut self, b: u8, src: u32) {
        if b.is_ascii_alphanumeric() {
            let starts_word = !self.prev_alnum;
            if starts_word {
                self.out.latin_words += 1;
            }
            if starts_word && self.last == Last::Cjk && self.pending.is_none() {
                // Maybe a letter or digit inserted between two CJK characters: decided by what follows.
                self.pending = Some(self.out.text.len());
                self.lone_letter = true;
            } else {
                self.keep_pending();
                self.last = Last::Other;
            }
            self.out.text.push(b.to_ascii_lowercase() as char);
            self.out.map.push(src);
            self.prev_alnum = true;
            self.prev_space = false;
        } else if b.is_ascii_whitespace() {
            if !self.prev_space && !self.out.text.is_empty() {
                self.separator();
                self.out.text.push(' ');
                self.out.map.push(src);
                self.prev_alnum = false;
                self.prev_space = true;
            }
        } else if b.is_ascii_control() {
            // Other C0 controls carry nothing: drop.
        } else {
            self.separator();
            self.out.text.push(b as char);
            self.out.map.push(src);
            self.prev_alnum = false;
            self.prev_space = false;
        }
    }

    /// Copies the run of printable ASCII (`' '..='~'`) starting at `start` in bulk and returns where it ends:
    /// before the first other byte, or before a space that the collapsing rule drops (a space after a space, or at
    /// the start of the output), which [`Emitter::emit_ascii`] then handles. Only valid when no CJK separator run
    /// can be pending (`last != Cjk`): then punctuation and single spaces change no state, letters only need
    /// lower-casing, and words are counted on the way. Most of an English text is one such run per line.
    #[inline]
    fn ascii_run(&mut self, input: &str, start: usize) -> usize {
        let bytes = input.as_bytes();
        // One pass finds the end and counts the words (a word starts where an alphanumeric
        // byte follows a non-alphanumeric one), without branches for the counting.
        let mut prev_space = self.prev_space || self.out.text.is_empty();
        let mut prev_alnum = self.prev_alnum;
        let mut words = 0u32;
        let mut any = false;
        let mut i = start;
        // Bytes left to take one at a time before the next eight-byte step is tried (after a step that found a
        // byte needing the byte rules, so a mixed stretch is not re-tested at every byte).
        let mut single = 0usize;
        loop {
            if single == 0 {
                if let Some(step) = ascii_step(bytes, i, prev_space, prev_alnum) {
                    words += step.words;
                    any |= step.any;
                    prev_space = step.last_space;
                    prev_alnum = step.last_alnum;
                    i += 8;
                    continue;
                }
                single = 8;
            }
            single -= 1;
            let Some(&b) = bytes.get(i) else { break };
            let class = ASCII_CLASS[usize::from(b)];
            if class & GRAPHIC != 0 {
                prev_space = false;
            } else if b == b' ' && !prev_space {
                prev_space = true;
            } else {
                break;
            }
            let a = class & ALNUM != 0;
            words += u32::from(a & !prev_alnum);
            any |= a;
            prev_alnum = a;
            i += 1;
        }
        let Some(run) = input.get(start..i).filter(|r| !r.is_empty()) else {
            return start;
        };
        let from = self.out.text.len();
        self.out.text.push_str(run);
        if let Some(t) = self.out.text.get_mut(from..) {
            t.make_ascii_lowercase();
        }
        self.out.map.extend(start as u32..i as u32);
        self.out.latin_words += words;
        if any {
            self.pending = None;
            self.last = Last::Other;
        }
        self.prev_alnum = prev_alnum;
        self.prev_space = prev_space;
        i
    }
}

/// What eight bytes of plain printable ASCII add to an [`Emitter::ascii_run`].
struct AsciiStep {
    /// Latin words starting in the eight bytes.
    words: u32,
    /// Whether any of them is alphanumeric.
    any: bool,
    /// Whether the eighth byte is a space / alphanumeric.
    last_space: bool,
    last_alnum: bool,
}

/// Ones in every byte lane of a word.
const LANES: u64 = 0x0101_0101_0101_0101;
/// The high bit of every byte lane.
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// High bit of each lane whose byte is at least `n` (`n <= 0x80`); exact for bytes below 0x80, since
/// `byte | 0x80` minus `n` never borrows from the next lane.
#[inline(always)]
fn lanes_at_least(word: u64, n: u8) -> u64 {
    ((word | HIGHS).wrapping_sub(LANES * u64::from(n))) & HIGHS
}

/// High bit of each lane whose byte is `c`; exact for any bytes.
#[inline(always)]
fn lanes_equal(word: u64, c: u8) -> u64 {
    let y = word ^ (LANES * u64::from(c));
    !(((y & !HIGHS).wrapping_add(!HIGHS)) | y | !HIGHS)
}

/// The bulk step of [`Emitter::ascii_run`]: if the eight bytes at `i` are all taken by its byte rules without
/// stopping (printable ASCII other than `&`, `<` and `%`, and no space after a space), what they add; `None` if
/// fewer than eight bytes are left or any byte needs the byte rules. A word at a time instead of a class lookup
/// and three branches per byte, for the English text most posts are.
#[inline(always)]
fn ascii_step(bytes: &[u8], i: usize, prev_space: bool, prev_alnum: bool) -> Option<AsciiStep> {
    let Some(&[b0, b1, b2, b3, b4, b5, b6, b7]) = bytes.get(i..i + 8) else {
        return None;
    };
    let word = u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7]);
    if word & HIGHS != 0 {
        return None;
    }
    let spaces = lanes_equal(word, b' ');
    // A space right after a space (or after the run's start state) is collapsed: the byte rules decide.
    let doubled = spaces & ((spaces << 8) | (u64::from(prev_space) << 7));
    let stops = (!lanes_at_least(word, 0x20) & HIGHS)
        | lanes_equal(word, 0x7F)
        | lanes_equal(word, b'&')
        | lanes_equal(word, b'<')
        | lanes_equal(word, b'%')
        | doubled;
    if stops != 0 {
        return None;
    }
    let alnum = (lanes_at_least(word, b'0') & !lanes_at_least(word, b':'))
        | (lanes_at_least(word, b'A') & !lanes_at_least(word, b'['))
        | (lanes_at_least(word, b'a') & !lanes_at_least(word, b'{'));
    let starts = alnum & !((alnum << 8) | (u64::from(prev_alnum) << 7));
    Some(AsciiStep {
        words: starts.count_ones(),
        any: alnum != 0,
        last_space: spaces >> 63 != 0,
        last_alnum: alnum >> 63 != 0,
    })
}

impl Normalizer {
    /// Returns the normaliser, building the process-wide tables on first use (tens of milliseconds).
    pub fn new() -> Self {
        Normalizer { table: table() }
    }

    /// Normalises `input` into `out` (cleared first; its buffers are reused).
    pub fn normalize_into(&self, input: &str, out: &mut Normalized) {
        out.clear();
        out.text.reserve(input.len());
        out.map.reserve(input.len());
        let mut em = Emitter {
            out,
            last: Last::Start,
            pending: None,
            lone_letter: false,
            prev_alnum: false,
            prev_space: false,
        };
        let bytes = input.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if is_markup_start(b) {
                match markup_at(input, i) {
                    Some(Markup::Char(c, len)) => {
                        self.emit_folded(c, i as u32, &mut em);
                        i += len;
                        continue;
                    }
                    Some(Markup::Tag(len)) => {
                        i += len;
                        continue;
                    }
                    None => {}
                }
            }
            if b < 0x80 {
                if em.last != Last::Cjk && (0x20..0x7F).contains(&b) {
                    let end = em.ascii_run(input, i);
                    if end > i {
                        i = end;
                        continue;
                    }
                }
                em.emit_ascii(b, i as u32);
                i += 1;
                continue;
            }
            if (0xE0..0xF0).contains(&b) {
                // Three-byte UTF-8 (all CJK): copy a run of characters that fold to themselves in bulk.
                let n = self.cjk_identity_run(input, i, &mut em);
                if n > 0 {
                    i += n;
                    continue;
                }
            }
            let Some(c) = input.get(i..).and_then(|s| s.chars().next()) else {
                break;
            };
            self.emit_folded(c, i as u32, &mut em);
            let len = c.len_utf8();
            i += len;
        }
    }

    /// Emits character `c`, whose source starts at `src` (as written, or as a character reference), through the
    /// per-character steps: one table lookup in the Basic Multilingual Plane, [`fold_char`] beyond it.
    fn emit_folded(&self, c: char, src: u32, em: &mut Emitter<'_>) {
        if c.is_ascii() {
            em.emit_ascii(c as u8, src);
            return;
        }
        match self.table.entries.get(c as usize) {
            Some(&e) if e == DELETE => {}
            Some(&e) if e & MULTI == 0 => {
                let class = match (e >> CLASS_SHIFT) & 3 {
                    1 => Class::Cjk,
                    2 => Class::Separator,
                    3 => Class::Ascii,
                    _ => Class::Other,
                };
                if let Some(o) = char::from_u32(e & CHAR_MASK) {
                    em.emit(o, class, src);
                }
            }
            Some(&e) => {
                let off = (e & 0x00FF_FFFF) as usize;
                let n = ((e >> 24) & 0x7F) as usize;
                if let Some(s) = self.table.pool.get(off..off + n) {
                    for o in s.chars() {
                        em.emit(o, class_of(o), src);
                    }
                }
            }
            None => {
                let mut tmp = String::new();
                fold_char(c, &mut tmp);
                for o in tmp.chars() {
                    em.emit(o, class_of(o), src);
                }
            }
        }
    }

    /// Copies the run of three-byte characters starting at `start` that are CJK and fold to themselves (plain
    /// simplified Chinese), returning its length in bytes (0 if the first character is not such a character, which
    /// the general path handles). A pending separator run before it is removed, as [`Emitter::emit`] would.
    #[inline]
    fn cjk_identity_run(&self, input: &str, start: usize, em: &mut Emitter<'_>) -> usize {
        let bytes = input.as_bytes();
        let mut i = start;
        while let (Some(&b0), Some(&b1), Some(&b2)) =
            (bytes.get(i), bytes.get(i + 1), bytes.get(i + 2))
        {
            if !(0xE0..0xF0).contains(&b0) {
                break;
            }
            let cp =
                (u32::from(b0 & 0x0F) << 12) | (u32::from(b1 & 0x3F) << 6) | u32::from(b2 & 0x3F);
            if !self.table.is_identity_cjk(cp) {
                break;
            }
            i += 3;
        }
        // `start..i` starts and ends at three-byte sequence starts, so `get` cannot fail; stay consistent anyway.
        let Some(run) = input.get(start..i).filter(|r| !r.is_empty()) else {
            return 0;
        };
        em.drop_pending();
        em.out.text.push_str(run);
        for src in (start as u32..i as u32).step_by(3) {
            em.out.map.extend_from_slice(&[src, src, src]);
        }
        em.out.cjk_chars += (run.len() / 3) as u32;
        em.last = Last::Cjk;
        em.prev_alnum = false;
        em.prev_space = false;
        run.len()
    }

    /// Convenience: normalises into a fresh buffer.
    pub fn normalize(&self, input: &str) -> Normalized {
        let mut n = Normalized::default();
        self.normalize_into(input, &mut n);
        n
    }

    /// Simplified -> traditional pairs known to the folding table (used to generate obfuscated test text).
    pub fn traditional_variants(&self) -> Vec<(char, char)> {
        let mut v = Vec::new();
        for cp in 0x4E00u32..0xA000 {
            if let Some(c) = char::from_u32(cp) {
                let s = to_simplified(c);
                if s != c {
                    v.push((s, c));
                }
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The straightforward normaliser the fast paths must agree with: every character through [`fold_char`]
    /// (the definition the table is built from) and [`Emitter::emit`], no bulk runs, no table.
    fn reference(input: &str) -> Normalized {
        let mut out = Normalized::default();
        let mut em = Emitter {
            out: &mut out,
            last: Last::Start,
            pending: None,
            lone_letter: false,
            prev_alnum: false,
            prev_space: false,
        };
        let mut tmp = String::new();
        let mut i = 0;
        while let Some(c) = input.get(i..).and_then(|s| s.chars().next()) {
            let (c, len) = match markup_at(input, i) {
                Some(Markup::Tag(len)) => {
                    i += len;
                    continue;
                }
                Some(Markup::Char(c, len)) => (c, len),
                None => (c, c.len_utf8()),
            };
            if c.is_ascii() {
                em.emit_ascii(c as u8, i as u32);
            } else {
                tmp.clear();
                fold_char(c, &mut tmp);
                for o in tmp.chars() {
                    em.emit(o, class_of(o), i as u32);
                }
            }
            i += len;
        }
        out
    }

    /// Characters that exercise every path: ASCII runs, whitespace and controls, plain and traditional CJK,
    /// full-width forms, default-ignorables, look-alikes, accents, separators, multi-character expansions and
    /// characters outside the BMP; plus any character at all.
    fn mixed_char() -> impl Strategy<Value = char> {
        const POOL: &[char] = &[
            'a',
            'Z',
            'm',
            '0',
            '7',
            ' ',
            ' ',
            '-',
            '*',
            '.',
            ',',
            '!',
            '~',
            '\t',
            '\n',
            '\r',
            '\u{1}',
            '\u{7F}',
            '国',
            '务',
            '院',
            '政',
            '治',
            '國',
            '務',
            '選',
            'か',
            'ア',
            '한',
            'Ａ',
            'ｍ',
            '１',
            '，',
            '\u{3000}',
            '。',
            '\u{200B}',
            '\u{200D}',
            '\u{00AD}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{FE0F}',
            '\u{202E}',
            '\u{E0041}',
            'а',
            'е',
            'о',
            'М',
            'ο',
            'Σ',
            'É',
            'ß',
            'İ',
            '\u{301}',
            '★',
            '·',
            '—',
            '㍿',
            'ﬁ',
            '⑴',
            '½',
            '\u{20000}',
            '😀',
            'ｶ',
            'ﾞ',
            '\u{00A0}',
            '&',
            '#',
            ';',
            '<',
            '>',
            '/',
            'x',
            'b',
        ];
        prop_oneof![
            8 => proptest::sample::select(POOL),
            1 => any::<char>(),
        ]
    }

    /// Latin word starts in `text`, counted from scratch.
    fn recount_words(text: &str) -> u32 {
        let b = text.as_bytes();
        (0..b.len())
            .filter(|&i| {
                b[i].is_ascii_alphanumeric() && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            })
            .count() as u32
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// The bulk paths (ASCII runs, plain CJK runs, the table) change nothing: same text, same map back to
        /// the original, same counts as the reference; and the word count is the one a recount gives (which
        /// URL blanking relies on when it updates it).
        #[test]
        fn fast_paths_match_the_reference(chars in proptest::collection::vec(mixed_char(), 0..48)) {
            let input: String = chars.into_iter().collect();
            let fast = Normalizer::new().normalize(&input);
            let slow = reference(&input);
            prop_assert_eq!(&fast.text, &slow.text);
            prop_assert_eq!(&fast.map, &slow.map);
            prop_assert_eq!(fast.cjk_chars, slow.cjk_chars);
            prop_assert_eq!(fast.latin_words, slow.latin_words);
            prop_assert_eq!(fast.latin_words, recount_words(&fast.text));
            prop_assert_eq!(fast.map.len(), fast.text.len());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// Long stretches of ASCII (where the eight-byte steps of an ASCII run apply) with the bytes that stop
        /// a step sprinkled in: the same result as the reference.
        #[test]
        fn ascii_steps_match_the_reference(
            input in "([a-zA-Z0-9 .,'&<>;#%-]{0,24}|  |\t|\n|\u{7f}|国务|&amp;|<b>|%E6%94%BF|%e5%a4|é){0,12}"
        ) {
            let fast = Normalizer::new().normalize(&input);
            let slow = reference(&input);
            prop_assert_eq!(&fast.text, &slow.text);
            prop_assert_eq!(&fast.map, &slow.map);
            prop_assert_eq!(fast.latin_words, slow.latin_words);
            prop_assert_eq!(fast.latin_words, recount_words(&fast.text));
        }
    }

    #[test]
    fn lane_masks_are_exact() {
        for a in 0..0x80u8 {
            for b in [
                0u8, 0x1F, 0x20, b' ', b'0', b'9', b':', b'A', b'Z', b'[', b'a', b'z', b'{', 0x7F,
            ] {
                let word = u64::from_le_bytes([a, b, a, b, b, a, 0x7F, a]);
                let lanes = word.to_le_bytes();
                for n in [0x20u8, b'0', b':', b'A', b'[', b'a', b'{', 0x80] {
                    let got = lanes_at_least(word, n);
                    for (k, &x) in lanes.iter().enumerate() {
                        assert_eq!(got >> (8 * k + 7) & 1 == 1, x >= n, "{x} >= {n}");
                    }
                }
                for c in [b' ', b'&', b'<', b'%', 0x7F, 0] {
                    let got = lanes_equal(word, c);
                    for (k, &x) in lanes.iter().enumerate() {
                        assert_eq!(got >> (8 * k + 7) & 1 == 1, x == c, "{x} == {c}");
                    }
                }
            }
        }
    }

    fn n(s: &str) -> String {
        Normalizer::new().normalize(s).text
    }

    /// The part of `text` that the first `word` of its normalised form came from (what evidence quotes).
    fn quoted<'a>(text: &'a str, word: &str) -> &'a str {
        let norm = Normalizer::new().normalize(text);
        let at = norm.text.find(word).unwrap_or(0);
        &text[norm.original_range(text, at..at + word.len())]
    }

    #[test]
    fn ascii_class_table_matches_std() {
        for b in 0..=255u8 {
            let c = ASCII_CLASS[usize::from(b)];
            assert_eq!(c & ALNUM != 0, b.is_ascii_alphanumeric(), "{b}");
            let markup = b == b'&' || b == b'<' || b == b'%';
            assert_eq!(c & GRAPHIC != 0, b.is_ascii_graphic() && !markup, "{b}");
            assert_eq!(c & MARKUP != 0, markup, "{b}");
            assert_eq!(c & DIGIT != 0, b.is_ascii_digit(), "{b}");
        }
    }

    #[test]
    fn nfkc_folds_full_and_half_width() {
        assert_eq!(n("ＭＩＮＩＳＴＥＲ １２"), "minister 12");
        assert_eq!(n("ｶﾀｶﾅ"), "カタカナ");
        let mut v = Vec::new();
        nfkc('Ａ', &mut v);
        assert_eq!(v, vec!['A']);
    }

    #[test]
    fn default_ignorables_are_removed() {
        for c in [
            '\u{200B}',
            '\u{200D}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{FE0F}',
            '\u{202E}',
            '\u{E0041}',
        ] {
            assert!(is_default_ignorable(c), "{c:?}");
            assert_eq!(n(&format!("elec{c}tion")), "election");
        }
    }

    #[test]
    fn case_folding() {
        assert_eq!(n("PARLIAMENT Élection"), "parliament election");
        let mut v = Vec::new();
        fold_case('Σ', &mut v);
        assert_eq!(v, vec!['σ']);
    }

    #[test]
    fn traditional_to_simplified() {
        assert_eq!(to_simplified('國'), '国');
        assert_eq!(n("國務院 選舉 總理"), "国务院选举总理");
    }

    #[test]
    fn confusables_fold_to_latin() {
        // Cyrillic а, е, о, р, с and Greek ο.
        assert_eq!(n("\u{0435}l\u{0435}ctі\u{043E}n"), "election");
        assert_eq!(n("g\u{03BF}vernment"), "government");
        // Greek letters that pass for Latin ones: ε, η, τ, ι, κ, ρ; upper case too.
        assert_eq!(n("Thε priμε miηisτer"), "the priue minister");
        assert_eq!(n("ΤΗΕ ΡΑRΤΥ κing"), "the party king");
        assert_eq!(n("0 1"), "0 1");
    }

    #[test]
    fn letter_like_symbols_read_as_letters() {
        assert_eq!(n("ᴛʜᴇ ᴘʀɪᴍᴇ ᴍɪɴɪꜱᴛᴇʀ"), "the prime minister");
        assert_eq!(
            n("\u{1F17C}\u{1F178}\u{1F17D} \u{1F15C}\u{1F158}"),
            "min mi"
        );
        assert_eq!(n("\u{1F1F2}\u{1F1EE}\u{1F1F3}"), "min");
        assert_eq!(n("\u{1F1E8}\u{1F1F3} 外交部"), "cn 外交部");
        // Other emoji and symbols are no letters.
        assert_eq!(n("vote 😀 ★"), "vote 😀 ★");
    }

    #[test]
    fn separators_between_cjk_are_removed() {
        assert_eq!(n("政-治"), "政治");
        assert_eq!(n("政 治"), "政治");
        assert_eq!(n("政*治"), "政治");
        assert_eq!(n("政\u{3000}治"), "政治");
        assert_eq!(n("政 ★ 治"), "政治");
        // Dash- and dot-like characters of other blocks, radicals, strokes and the one-stroke ideographs.
        for sep in [
            '\u{02C7}', '\u{05BE}', '\u{0F0B}', '\u{16EB}', '\u{1806}', '\u{2E80}', '\u{2FF0}',
            '\u{318D}', '\u{31C0}', '\u{4E28}', '\u{4E36}', '\u{4E3F}', '\u{4E85}', '\u{A789}',
        ] {
            assert_eq!(
                n(&format!("外{sep}交{sep}部")),
                "外交部",
                "U+{:04X}",
                u32::from(sep)
            );
        }
        // Alone, a one-stroke ideograph is still text.
        assert_eq!(n("丨"), "丨");
        // Not between two CJK characters: kept.
        assert_eq!(n("政- abc"), "政- abc");
        // Bulk paths (ASCII runs, plain CJK runs) keep the same rules.
        assert_eq!(n("国务院--总理 A-B 国-a 国 a"), "国务院总理 a-b 国-a 国 a");
        assert_eq!(n("国·務\u{200B}院 PM"), "国务院 pm");
        assert_eq!(n("a - b"), "a - b");
    }

    #[test]
    fn html_markup_reads_as_the_text_it_shows() {
        assert_eq!(n("&#22806;&#20132;&#37096;"), "外交部");
        assert_eq!(n("&#x5916;&#X4EA4;部 &amp; co"), "外交部 & co");
        assert_eq!(
            n("外<b></b>交<span class=\"x\">部</span>长<br/>"),
            "外交部长"
        );
        assert_eq!(n("Prime <i>Minister</i>"), "prime minister");
        // Comments show nothing, whatever they hold.
        assert_eq!(n("pr<!-- x -->ime min<!---->ister"), "prime minister");
        assert_eq!(n("a <!-- unclosed"), "a <!-- unclosed");
        // Not markup: kept as text.
        for (plain, kept) in [
            ("a < b and c > d", "a < b and c > d"),
            ("AT&T", "at&t"),
            ("&#;", "&#;"),
            ("&bogus;", "&bogus;"),
            ("x<3", "x<3"),
            ("&#0;", "&#0;"),
            ("<>", "<>"),
        ] {
            assert_eq!(n(plain), kept, "{plain}");
        }
        // Decoded once: a reference that spells a reference stays text.
        assert_eq!(n("&amp;#22806;"), "&#22806;");
        // Evidence quotes the references as written.
        assert_eq!(
            quoted("说 &#22806;&#20132;&#37096; 好", "外交部"),
            "&#22806;&#20132;&#37096;"
        );
    }

    #[test]
    fn percent_encoded_characters_read_as_the_text_they_encode() {
        // "外交部" and "政治", as in the path of a link to a Chinese article.
        assert_eq!(n("%E5%A4%96%E4%BA%A4%E9%83%A8"), "外交部");
        assert_eq!(n("news/%e6%94%bf%e6%b2%bb-2026"), "news/政治-2026");
        // Two- and four-byte sequences; traditional characters fold like typed ones.
        assert_eq!(n("caf%C3%A9 %F0%9F%98%80"), "cafe 😀");
        // An encoded space separates words.
        assert_eq!(n("The%20prime%20minister"), "the prime minister");
        assert_eq!(n("%E6%94%BF%E5%BA%9C%E5%A0%B1%E5%91%8A"), "政府报告");
        // Not a non-ASCII character: kept as text.
        for (plain, kept) in [
            ("50% off", "50% off"),
            ("100%25", "100%25"),
            ("%41%42", "%41%42"),
            ("%E5%A4", "%e5%a4"),
            ("%E5%A4%", "%e5%a4%"),
            ("%E5%41%96", "%e5%41%96"),
            ("%C0%80", "%c0%80"),
            ("%ED%A0%80", "%ed%a0%80"),
            ("%zz%E5", "%zz%e5"),
            ("%", "%"),
        ] {
            assert_eq!(n(plain), kept, "{plain}");
        }
        // Decoded once: an encoded percent sign stays as written.
        assert_eq!(n("%25E5%25A4%2596"), "%25e5%25a4%2596");
        // Evidence quotes the encoded form as written.
        assert_eq!(
            quoted("see %E5%A4%96%E4%BA%A4%E9%83%A8 now", "外交部"),
            "%E5%A4%96%E4%BA%A4%E9%83%A8"
        );
    }

    #[test]
    fn markup_and_the_reference_agree() {
        for input in [
            "&#22806;&#x4EA4;<b>部</b>&amp;&lt;b&gt;",
            "国<b>务</b>院 &nbsp; <a href=\"/x\">link</a> a<b",
            "&#12288;政&#x2D;治 &#8203;x &#65313;",
            "<<b>>&&#38;#59;",
            "https://example.com/%E6%94%BF%E6%B2%BB-news 50% %41 %E5%A4",
            "aaaaaaa%E6%94%BFbbbbbbbbb%cccccccc",
        ] {
            let fast = Normalizer::new().normalize(input);
            let slow = reference(input);
            assert_eq!(fast.text, slow.text, "{input}");
            assert_eq!(fast.map, slow.map, "{input}");
            assert_eq!(
                (fast.cjk_chars, fast.latin_words),
                (slow.cjk_chars, slow.latin_words),
                "{input}"
            );
        }
    }

    #[test]
    fn lone_letters_between_cjk_are_removed() {
        assert_eq!(n("外x交x部x发x言x人"), "外交部发言人");
        assert_eq!(n("外X交ｂ部Ｒ长"), "外交部长");
        // Digits too (full-width ones are ASCII after NFKC); a lone one in real text is a number.
        assert_eq!(n("外0交1部9发４言7人"), "外交部发言人");
        assert_eq!(n("3月5日"), "3月日");
        assert_eq!(n("3月15日"), "3月15日");
        // Cyrillic look-alikes fold to Latin letters first.
        assert_eq!(n("国\u{0430}务\u{043E}院"), "国务院");
        let counted = Normalizer::new().normalize("外x交 ok");
        assert_eq!((counted.text.as_str(), counted.latin_words), ("外交 ok", 1));
        // Words, numbers, letters not between two CJK characters: kept.
        assert_eq!(n("同步ab股"), "同步ab股");
        assert_eq!(n("2026年"), "2026年");
        assert_eq!(n("外1-交"), "外1-交");
        assert_eq!(n("外x-交"), "外x-交");
        assert_eq!(n("外x"), "外x");
        assert_eq!(n("x交"), "x交");
        assert_eq!(n("交 x 部"), "交 x 部");
    }

    #[test]
    fn whitespace_collapses() {
        assert_eq!(n("  prime \n\t minister "), "prime minister ");
    }

    #[test]
    fn map_points_back_to_original() {
        let orig = "Ｐrime\u{200B} МINISTER 國務院";
        let norm = Normalizer::new().normalize(orig);
        let pos = norm.text.find("minister").unwrap_or(0);
        let r = norm.original_range(orig, pos..pos + "minister".len());
        assert_eq!(&orig[r], "МINISTER");
        let pos = norm.text.find("国务院").unwrap_or(0);
        let r = norm.original_range(orig, pos..pos + "国务院".len());
        assert_eq!(&orig[r], "國務院");
    }

    #[test]
    fn counts_tokens() {
        let x = Normalizer::new().normalize("The prime minister 访问 中国");
        assert_eq!(x.latin_words, 3);
        assert_eq!(x.cjk_chars, 4);
    }
}
