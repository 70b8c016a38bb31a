//! A small, strict JSON tokenizer that reports byte spans instead of building values.
//!
//! Marking must leave every byte it does not edit exactly as the upstream sent it, so
//! the document is never decoded into a tree and re-serialised: this scanner walks the
//! bytes once, validates them against RFC 8259 (no trailing commas, no comments, no
//! leading zeros, no unescaped control characters, no lone surrogates, valid UTF-8) and
//! hands out spans. Strings are only unescaped on request, for the few keys and ids
//! the marker needs to read.

use std::borrow::Cow;

use super::error::MarkError;

/// A JSON string literal in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StrSpan {
    /// Byte offset of the opening quote.
    pub start: usize,
    /// Byte offset just past the closing quote.
    pub end: usize,
    /// Whether the literal contains a backslash escape (and so needs decoding).
    pub escaped: bool,
}

/// Cursor over a document already known to be valid UTF-8.
pub(crate) struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    max_depth: usize,
}

impl<'a> Scanner<'a> {
    /// Checks that `body` is UTF-8 and positions the cursor at its start.
    pub fn new(body: &'a [u8], max_depth: usize) -> Result<Self, MarkError> {
        // SIMD validation (`simdutf8`): std's validator was an eighth of the marking time.
        let text = simdutf8::compat::from_utf8(body).map_err(|e| MarkError::InvalidUtf8 {
            offset: e.valid_up_to(),
        })?;
        Ok(Scanner {
            text,
            bytes: body,
            pos: 0,
            max_depth,
        })
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn max_depth(&self) -> usize {
        self.max_depth
    }

    pub fn syntax(&self, what: &'static str) -> MarkError {
        MarkError::Syntax {
            offset: self.pos,
            what,
        }
    }

    pub fn too_deep(&self) -> MarkError {
        MarkError::TooDeep {
            offset: self.pos,
            limit: self.max_depth,
        }
    }

    #[inline(always)]
    pub fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips insignificant whitespace (space, tab, LF, CR only).
    #[inline(always)]
    pub fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Consumes `byte` or fails with `what`.
    #[inline(always)]
    pub fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), MarkError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.syntax(what))
        }
    }

    /// After the top-level value: only whitespace may follow.
    pub fn finish(&mut self) -> Result<(), MarkError> {
        self.skip_ws();
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            Err(MarkError::TrailingData { offset: self.pos })
        }
    }

    /// Scans a string literal; the cursor must be on its opening quote. Inlined: most
    /// tokens of a body are strings, and returning the `Result` through memory (the
    /// error type is large) stalled on store forwarding at every key.
    #[inline(always)]
    pub fn string(&mut self) -> Result<StrSpan, MarkError> {
        let start = self.pos;
        self.expect(b'"', "expected a string")?;
        let mut escaped = false;
        loop {
            self.skip_plain();
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(StrSpan {
                        start,
                        end: self.pos,
                        escaped,
                    });
                }
                Some(b'\\') => {
                    escaped = true;
                    self.escape()?;
                }
                Some(_) => return Err(self.syntax("unescaped control character in a string")),
                None => return Err(self.syntax("unterminated string")),
            }
        }
    }

    /// Skips plain string content: everything up to the next quote, backslash or
    /// control byte. Keys and ids end within a word or two, so the first sixteen bytes
    /// are looked at eight at a time (SWAR), the stop's position taken from the word's
    /// mask; longer text (post content, most of a typical body) is searched with
    /// `memchr2` for the quote or backslash, and the span before it checked for control
    /// bytes in blocks the compiler vectorises.
    #[inline(always)]
    fn skip_plain(&mut self) {
        let bytes = self.bytes;
        let mut pos = self.pos;
        for _ in 0..SWAR_WORDS {
            let Some(chunk) = bytes.get(pos..pos + 8) else {
                break;
            };
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let mask = special_mask(u64::from_le_bytes(word));
            if mask != 0 {
                self.pos = pos + (mask.trailing_zeros() / 8) as usize;
                return;
            }
            pos += 8;
        }
        let rest = bytes.get(pos..).unwrap_or_default();
        let stop = memchr::memchr2(b'"', b'\\', rest).unwrap_or(rest.len());
        let span = rest.get(..stop).unwrap_or_default();
        self.pos = pos + first_control(span).unwrap_or(stop);
    }

    /// Validates one escape sequence; the cursor is on the backslash.
    fn escape(&mut self) -> Result<(), MarkError> {
        let at = self.pos;
        self.pos += 1;
        match self.peek() {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                self.pos += 1;
                Ok(())
            }
            Some(b'u') => {
                self.pos += 1;
                let unit = self.hex4()?;
                match unit {
                    0xD800..=0xDBFF => {
                        // A high surrogate must be followed by an escaped low surrogate.
                        if self.bytes.get(self.pos) == Some(&b'\\')
                            && self.bytes.get(self.pos + 1) == Some(&b'u')
                        {
                            self.pos += 2;
                            let low = self.hex4()?;
                            if (0xDC00..=0xDFFF).contains(&low) {
                                return Ok(());
                            }
                        }
                        Err(MarkError::LoneSurrogate { offset: at })
                    }
                    0xDC00..=0xDFFF => Err(MarkError::LoneSurrogate { offset: at }),
                    _ => Ok(()),
                }
            }
            _ => Err(self.syntax("invalid escape sequence")),
        }
    }

    fn hex4(&mut self) -> Result<u32, MarkError> {
        let mut value = 0u32;
        for _ in 0..4 {
            let digit = match self.peek() {
                Some(b @ b'0'..=b'9') => b - b'0',
                Some(b @ b'a'..=b'f') => b - b'a' + 10,
                Some(b @ b'A'..=b'F') => b - b'A' + 10,
                _ => return Err(self.syntax("expected four hex digits in a \\u escape")),
            };
            value = value * 16 + u32::from(digit);
            self.pos += 1;
        }
        Ok(value)
    }

    /// The content of a scanned string as it is written (escapes not decoded): the key
    /// itself for the usual key without escapes, compared as bytes without a UTF-8
    /// boundary check (the quotes are ASCII, so the span is whole characters).
    #[inline(always)]
    pub fn raw(&self, span: StrSpan) -> &'a [u8] {
        self.bytes
            .get(span.start + 1..span.end.saturating_sub(1))
            .unwrap_or_default()
    }

    /// The content of a scanned string, unescaped. Borrows when there is nothing to
    /// unescape, which is the common case for ids and keys. Inlined for the same reason
    /// as [`Scanner::string`].
    #[inline(always)]
    pub fn decode(&self, span: StrSpan) -> Result<Cow<'a, str>, MarkError> {
        let inner = self
            .text
            .get(span.start + 1..span.end - 1)
            .ok_or(MarkError::Syntax {
                offset: span.start,
                what: "string span is not on character boundaries",
            })?;
        if !span.escaped {
            return Ok(Cow::Borrowed(inner));
        }
        unescape(inner, span.start + 1).map(Cow::Owned)
    }

    #[inline(always)]
    fn number(&mut self) -> Result<(), MarkError> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.syntax("expected a digit")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.syntax("expected a digit after the decimal point"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.syntax("expected a digit in the exponent"));
            }
            self.digits();
        }
        Ok(())
    }

    #[inline(always)]
    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    #[inline(always)]
    fn literal(&mut self, word: &'static [u8]) -> Result<(), MarkError> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.syntax("expected a JSON value"))
        }
    }

    /// Scans a scalar (string, number, `true`, `false`, `null`); the cursor is on its
    /// first byte.
    #[inline(always)]
    pub fn scalar(&mut self) -> Result<(), MarkError> {
        match self.peek() {
            Some(b'"') => self.string().map(|_| ()),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(_) => Err(self.syntax("expected a JSON value")),
            None => Err(self.syntax("unexpected end of input, expected a JSON value")),
        }
    }

    /// Validates and skips any value; `depth` is the number of containers already
    /// open around it. The cursor is on the value's first byte. Scalars are skipped
    /// inline; only containers cost a call (most values of a body are scalars).
    #[inline(always)]
    pub fn skip_value(&mut self, depth: usize) -> Result<(), MarkError> {
        match self.peek() {
            Some(b'{' | b'[') => self.skip_container(depth),
            _ => self.scalar(),
        }
    }

    /// [`Scanner::skip_value`] for an object or array; the cursor is on its `{` or `[`.
    #[inline(never)]
    fn skip_container(&mut self, depth: usize) -> Result<(), MarkError> {
        if depth >= self.max_depth {
            return Err(self.too_deep());
        }
        let is_object = self.peek() == Some(b'{');
        let close = if is_object { b'}' } else { b']' };
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(());
        }
        loop {
            if is_object {
                self.string()?;
                self.skip_ws();
                self.expect(b':', "expected `:` after an object key")?;
                self.skip_ws();
            }
            self.skip_value(depth + 1)?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                Some(b) if b == close => {
                    self.pos += 1;
                    return Ok(());
                }
                _ if is_object => return Err(self.syntax("expected `,` or `}` in an object")),
                _ => return Err(self.syntax("expected `,` or `]` in an array")),
            }
        }
    }
}

/// How many 8-byte words of a string's content [`Scanner::skip_plain`] tests itself
/// before handing the rest to `memchr2`: most keys, ids, names and timestamps end
/// within 32 bytes, where `memchr2`'s setup costs more than the words.
const SWAR_WORDS: usize = 4;

/// The offset of the first byte below 0x20 in `bytes`, if any. Blocks of 32 bytes are
/// tested without an early exit inside (so the test vectorises); only a block that has
/// one is searched byte by byte.
#[inline]
fn first_control(bytes: &[u8]) -> Option<usize> {
    let mut blocks = bytes.chunks_exact(32);
    let mut base = 0;
    for block in &mut blocks {
        if block.iter().fold(false, |any, &b| any | (b < 0x20)) {
            return block.iter().position(|&b| b < 0x20).map(|i| base + i);
        }
        base += 32;
    }
    blocks
        .remainder()
        .iter()
        .position(|&b| b < 0x20)
        .map(|i| base + i)
}

/// The high bit of each byte of `word` (little-endian) that may be a quote, a backslash
/// or below 0x20 (the classic "has zero byte" / "has byte less than" bit tricks). Bytes
/// above the first true one may be flagged falsely (borrows carry upwards), but the
/// lowest flagged byte is always exact, and the mask is zero exactly when no byte is
/// special. Flipping bit 1 maps the quote (0x22) to 0x20 and keeps every control byte
/// below 0x20, so one "less than 0x21" test finds both.
#[inline(always)]
fn special_mask(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let flipped = word ^ (ONES * 0x02);
    let quote_or_control = flipped.wrapping_sub(ONES * 0x21) & !flipped & HIGHS;
    let backslash = word ^ (ONES * u64::from(b'\\'));
    quote_or_control | (backslash.wrapping_sub(ONES) & !backslash & HIGHS)
}

/// Unescapes the content of a string literal already validated by [`Scanner::string`].
/// `base` is the content's offset in the document, for error positions.
fn unescape(inner: &str, base: usize) -> Result<String, MarkError> {
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let offset = base + (inner.len() - rest.len()) + i;
        let bad = MarkError::Syntax {
            offset,
            what: "invalid escape sequence",
        };
        let esc = rest.as_bytes().get(i + 1).copied().ok_or(bad.clone())?;
        let mut consumed = 2;
        match esc {
            b'"' => out.push('"'),
            b'\\' => out.push('\\'),
            b'/' => out.push('/'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                let unit = hex_at(rest, i + 2).ok_or(bad.clone())?;
                consumed = 6;
                let c = if (0xD800..=0xDBFF).contains(&unit) {
                    let low = rest
                        .get(i + 6..i + 8)
                        .filter(|s| *s == "\\u")
                        .and_then(|_| hex_at(rest, i + 8))
                        .filter(|low| (0xDC00..=0xDFFF).contains(low))
                        .ok_or(MarkError::LoneSurrogate { offset })?;
                    consumed = 12;
                    0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    unit
                };
                out.push(char::from_u32(c).ok_or(MarkError::LoneSurrogate { offset })?);
            }
            _ => return Err(bad),
        }
        rest = rest.get(i + consumed..).ok_or(bad)?;
    }
    out.push_str(rest);
    Ok(out)
}

fn hex_at(s: &str, at: usize) -> Option<u32> {
    let digits = s.get(at..at + 4)?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A byte that ends plain string content.
    fn is_special_byte(b: u8) -> bool {
        b == b'"' || b == b'\\' || b < 0x20
    }

    fn skip_all(doc: &str) -> Result<(), MarkError> {
        let mut s = Scanner::new(doc.as_bytes(), 128)?;
        s.skip_ws();
        s.skip_value(0)?;
        s.finish()
    }

    fn decoded(lit: &str) -> Result<String, MarkError> {
        let mut s = Scanner::new(lit.as_bytes(), 128)?;
        let span = s.string()?;
        s.finish()?;
        s.decode(span).map(Cow::into_owned)
    }

    #[test]
    fn accepts_valid_json() {
        for doc in [
            "{}",
            "[]",
            " { \"a\" : [1, -0.5e+3, 0, 1E9, true, false, null, \"x\"] }\n",
            "\"just a string\"",
            "0",
            "-12.25",
            "{\"a\":{\"b\":{}},\"c\":[[],[{}]]}",
            "\"\\u00e9\\ud83d\\ude00\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
        ] {
            assert_eq!(skip_all(doc), Ok(()), "{doc}");
        }
    }

    #[test]
    fn rejects_invalid_json() {
        for doc in [
            "",
            "   ",
            "{",
            "{\"a\"}",
            "{\"a\":1,}",
            "[1,]",
            "[1 2]",
            "{a:1}",
            "01",
            "1.",
            "1e",
            "-",
            "+1",
            ".5",
            "tru",
            "nul",
            "NaN",
            "'x'",
            "\"tab\tinside\"",
            "\"bad \\x escape\"",
            "\"\\u12\"",
            "\"unterminated",
            "/* c */ {}",
            "\u{feff}{}",
        ] {
            assert!(skip_all(doc).is_err(), "{doc:?} should be rejected");
        }
    }

    #[test]
    fn rejects_trailing_data() {
        assert_eq!(skip_all("{} x"), Err(MarkError::TrailingData { offset: 3 }));
        assert_eq!(skip_all("{}{}"), Err(MarkError::TrailingData { offset: 2 }));
    }

    #[test]
    fn rejects_lone_surrogates() {
        assert_eq!(
            skip_all("\"\\ud800\""),
            Err(MarkError::LoneSurrogate { offset: 1 })
        );
        assert_eq!(
            skip_all("\"a\\udc00\""),
            Err(MarkError::LoneSurrogate { offset: 2 })
        );
        assert!(matches!(
            skip_all("\"\\ud800\\u0041\""),
            Err(MarkError::LoneSurrogate { .. })
        ));
        assert!(matches!(
            skip_all("\"\\ud800x\""),
            Err(MarkError::LoneSurrogate { .. })
        ));
    }

    #[test]
    fn rejects_invalid_utf8() {
        assert_eq!(
            Scanner::new(b"{\"a\":\"\xff\"}", 128).err(),
            Some(MarkError::InvalidUtf8 { offset: 6 })
        );
    }

    #[test]
    fn depth_limit() {
        let ok = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert_eq!(skip_all(&ok), Ok(()));
        let deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
        assert!(matches!(skip_all(&deep), Err(MarkError::TooDeep { .. })));
        // Far deeper than the stack could take without the limit.
        let abyss = "[".repeat(1_000_000);
        assert!(matches!(skip_all(&abyss), Err(MarkError::TooDeep { .. })));
    }

    #[test]
    fn word_test_matches_byte_test() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut word = *b"abcdefgh";
                word[at] = b;
                let mask = special_mask(u64::from_le_bytes(word));
                assert_eq!(mask != 0, is_special_byte(b), "byte {b:#x} at {at}");
                if mask != 0 {
                    assert_eq!(mask.trailing_zeros() / 8, at as u32, "byte {b:#x} at {at}");
                }
            }
        }
        // The lowest flagged byte is the first special one, whatever follows it.
        for first in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
            for at in 0..8 {
                for after in [b'"', b'\\', 0x00, 0x01, 0x1f, 0x20, 0x21, 0x5c, 0x80, 0xff] {
                    let mut word = *b"abcdefgh";
                    word[at] = first;
                    for later in word.iter_mut().skip(at + 1) {
                        *later = after;
                    }
                    let mask = special_mask(u64::from_le_bytes(word));
                    assert_eq!(
                        mask.trailing_zeros() / 8,
                        at as u32,
                        "{first:#x} at {at}, then {after:#x}"
                    );
                }
            }
        }
        // Neighbours of the special bytes, high bytes of UTF-8 sequences.
        for word in [
            *b"!#[]^_ ~",
            [0xe6, 0x96, 0xb0, 0xe5, 0x8d, 0x8e, 0x21, 0x7f],
        ] {
            assert_eq!(special_mask(u64::from_le_bytes(word)), 0);
        }
    }

    #[test]
    fn long_strings_stop_where_short_ones_do() {
        // Content long enough for the memchr path: the stop is found at every offset,
        // whichever special byte it is, and control bytes are refused there too.
        for len in [0usize, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 200] {
            let plain = "é".repeat(len / 2) + &"x".repeat(len % 2);
            assert_eq!(skip_all(&format!("\"{plain}\"")), Ok(()), "{len}");
            assert_eq!(
                decoded(&format!("\"{plain}\\n{plain}\"")),
                Ok(format!("{plain}\n{plain}"))
            );
            for ctl in ['\u{0}', '\u{1f}', '\n', '\t'] {
                let doc = format!("\"{plain}{ctl}{plain}\"");
                assert_eq!(
                    skip_all(&doc),
                    Err(MarkError::Syntax {
                        offset: 1 + plain.len(),
                        what: "unescaped control character in a string"
                    }),
                    "{len} {ctl:?}"
                );
            }
        }
        assert_eq!(first_control(&[b'a'; 100]), None);
        for at in 0..100 {
            let mut bytes = [b'a'; 100];
            bytes[at] = 0x1f;
            bytes[99] = 0;
            assert_eq!(first_control(&bytes), Some(at));
        }
    }

    #[test]
    fn decodes_escapes() {
        assert_eq!(decoded(r#""u-\u0078inhua""#), Ok("u-xinhua".to_owned()));
        assert_eq!(decoded(r#""plain""#), Ok("plain".to_owned()));
        assert_eq!(decoded(r#""a\"b\\c\/d\n""#), Ok("a\"b\\c/d\n".to_owned()));
        assert_eq!(decoded(r#""\ud83d\ude00!""#), Ok("😀!".to_owned()));
        assert_eq!(decoded(r#""新华\u793e""#), Ok("新华社".to_owned()));
    }

    #[test]
    fn decode_matches_serde_json() {
        for lit in [
            r#""\u0000\u001f\u007f\u0080\u07ff\u0800\uffff""#,
            r#""\ud800\udc00\udbff\udfff""#,
            r#""x\ty\u00e9z""#,
        ] {
            let expected: String = serde_json::from_str(lit).unwrap_or_default();
            assert_eq!(decoded(lit), Ok(expected), "{lit}");
        }
    }
}
