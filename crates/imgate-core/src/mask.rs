//! Masking of identity and phone numbers for logs, audit records and error texts.
//!
//! The gateway must be able to say *which* record it saw without writing down the
//! number itself: the region and the last four characters are kept, the rest (for an ID
//! number, the birth date and most of the sequence) becomes `*`.

use crate::classify::normalize::percent_byte;
use std::borrow::Cow;

/// Runs of at least this many digits are treated as an ID or phone number in free text.
const MIN_SENSITIVE_DIGITS: usize = 11;

/// `110101199003070011` → `110101********0011`: the 6-digit region and the last 4 kept.
/// Inputs shorter than 11 characters are masked whole.
pub fn mask_id_number(id: &str) -> String {
    mask_keep(id, 6, 4)
}

/// `13812345678` → `138****5678`: the 3-digit prefix and the last 4 kept (also for
/// `+`-prefixed international numbers). Inputs shorter than 11 characters are masked whole.
pub fn mask_phone(phone: &str) -> String {
    mask_keep(phone, 3, 4)
}

/// Masks every run of 11 or more digits (with an optional trailing `X`/`x`, as ID
/// numbers end) in free text: runs of 15 or more like ID numbers, shorter ones like
/// phone numbers. A run is spelled the ways clients spell numbers: digits may be
/// separated by single spaces or hyphens (`138 0013 8000`, `138-0013-8000`, as the phone
/// validator accepts them), percent-encoded (`%31%33%38...`, as paths carry them) or
/// full-width (`１３８...`). A number shaped like an ID number (15 or 18 characters) or a
/// mainland mobile number (11 digits from `13` to `19`, or 13 with `86` in front) is
/// masked whatever separates its digits, up to three separators at a time: any
/// punctuation but the URL delimiters `/ ? & = #`, a percent-encoded or invisible
/// character (`440306198.50615123X`, `139_1234_5679`, `139%2E1234`, `139%E2%80%8B1234`).
/// Other runs keep the strict spelling, so dates and times such as `2026-12-02 10:30:00`
/// stay readable. Separators stay, the masked digits become `*` (a percent-encoded one
/// `***`), so the text keeps its length in characters. Use it on any text that may carry
/// client input before it is logged or echoed. Text with fewer than ten digits is returned
/// as it is, without a copy (most paths).
pub fn mask_digits_in(text: &str) -> Cow<'_, str> {
    if !may_hold_a_number(text.as_bytes()) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(mask_digit_runs(text))
}

/// Whether [`mask_digits_in`] says `text` carries nothing it would mask.
pub fn holds_no_number(text: &str) -> bool {
    !may_hold_a_number(text.as_bytes()) || mask_digit_runs(text) == text
}

/// One digit of a run at byte `i`: a digit, or a percent-encoded one (`%3N`); its
/// length in bytes.
fn digit_at(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i)? {
        b'0'..=b'9' => Some(1),
        b'%' if bytes.get(i + 1) == Some(&b'3')
            && bytes.get(i + 2).is_some_and(u8::is_ascii_digit) =>
        {
            Some(3)
        }
        0xEF if is_full_width_digit(bytes, i) => Some(3),
        _ => None,
    }
}

/// `０`-`９` (U+FF10-FF19) at byte `i`.
fn is_full_width_digit(bytes: &[u8], i: usize) -> bool {
    matches!(bytes.get(i..i + 3), Some([0xEF, 0xBC, 0x90..=0x99]))
}

/// The value of the digit unit `bytes[s..e]` (see [`digit_at`]): its last byte holds it
/// (`7`, `%37`, or `７`, which ends in 0x97).
fn digit_value(bytes: &[u8], (_, e): (usize, usize)) -> u8 {
    bytes[e - 1] & 0x0F
}

/// Separators a loosely spelled number may have between two digits, at most this many
/// in a row.
const MAX_LOOSE_GAP: usize = 3;

/// One separator of a loosely spelled number at byte `i` (see [`mask_digits_in`]): an
/// ASCII punctuation or space byte other than the URL delimiters, a percent-encoded byte
/// that is not a letter or digit (`%2D`, `%E2`; `%252D` encoded twice), or a character
/// that is neither a letter nor a digit (`\u{200B}`, `－`). Its length in bytes.
fn separator_at(text: &str, i: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    match *bytes.get(i)? {
        b'/' | b'?' | b'&' | b'=' | b'#' => None,
        b'%' => {
            let Some(byte) = percent_byte(bytes, i) else {
                return Some(1); // a lone percent sign
            };
            // `%25` followed by two hex digits: an escape encoded twice.
            let hex = |k: usize| bytes.get(k).is_some_and(u8::is_ascii_hexdigit);
            if byte == b'%' && hex(i + 3) && hex(i + 4) {
                return Some(5);
            }
            (!byte.is_ascii_alphanumeric()).then_some(3)
        }
        b if b.is_ascii_alphanumeric() => None,
        b if b.is_ascii() => Some(1),
        _ if is_full_width_digit(bytes, i) => None,
        _ => {
            let c = text.get(i..)?.chars().next()?;
            (!c.is_alphanumeric()).then_some(c.len_utf8())
        }
    }
}

/// Like [`run_at`], with up to [`MAX_LOOSE_GAP`] separators of any kind between digits.
fn loose_run_at(text: &str, start: usize, units: &mut Vec<(usize, usize)>) -> usize {
    let bytes = text.as_bytes();
    units.clear();
    let mut i = start;
    while let Some(len) = digit_at(bytes, i) {
        units.push((i, i + len));
        i += len;
        let mut next = i;
        for _ in 0..MAX_LOOSE_GAP {
            if digit_at(bytes, next).is_some() {
                break;
            }
            match separator_at(text, next) {
                Some(len) => next += len,
                None => break,
            }
        }
        if digit_at(bytes, next).is_none() {
            break;
        }
        i = next;
    }
    if let Some(len) = check_char_at(bytes, i) {
        units.push((i, i + len));
        i += len;
    }
    i
}

/// Whether the units of a loosely spelled run are shaped like an ID number (15 or 18
/// characters) or a mainland mobile number (`1[3-9]` and 9 more digits, or `86` in front).
fn shaped_like_id_or_mobile(bytes: &[u8], units: &[(usize, usize)]) -> bool {
    let digit = |k: usize| units.get(k).map(|&u| digit_value(bytes, u));
    let mobile_at =
        |k: usize| digit(k) == Some(1) && digit(k + 1).is_some_and(|d| (3..=9).contains(&d));
    match units.len() {
        15 | 18 => true,
        11 => mobile_at(0),
        13 => digit(0) == Some(8) && digit(1) == Some(6) && mobile_at(2),
        _ => false,
    }
}

/// The trailing check character of an ID number at byte `i` (`X`, `x`, `%58`, `%78`).
fn check_char_at(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i)? {
        b'X' | b'x' => Some(1),
        b'%' if matches!(bytes.get(i + 1..i + 3), Some(b"58" | b"78")) => Some(3),
        _ => None,
    }
}

/// The units (byte ranges of digits and the check character) of the run starting at a
/// digit at `start`, and the byte offset just past it.
fn run_at(bytes: &[u8], start: usize, units: &mut Vec<(usize, usize)>) -> usize {
    units.clear();
    let mut i = start;
    while let Some(len) = digit_at(bytes, i) {
        units.push((i, i + len));
        i += len;
        if matches!(bytes.get(i), Some(b' ' | b'-')) && digit_at(bytes, i + 1).is_some() {
            i += 1;
        }
    }
    if units.len() >= MIN_SENSITIVE_DIGITS - 1 {
        if let Some(len) = check_char_at(bytes, i) {
            units.push((i, i + len));
            i += len;
        }
    }
    i
}

/// [`mask_digits_in`] without the shortcut for text with few digits.
fn mask_digit_runs(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut units = Vec::new();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if digit_at(bytes, i).is_none() {
            i += 1;
            continue;
        }
        let mut end = loose_run_at(text, i, &mut units);
        if !shaped_like_id_or_mobile(bytes, &units) {
            end = run_at(bytes, i, &mut units);
        }
        let n = units.len();
        if n >= MIN_SENSITIVE_DIGITS {
            // Like mask_id_number / mask_phone: region or prefix and the last four kept.
            let head = if n >= 15 { 6 } else { 3 };
            out.push_str(&text[copied..i]);
            let mut at = i;
            for (k, &(s, e)) in units.iter().enumerate() {
                out.push_str(&text[at..s]);
                if k < head || k >= n - 4 {
                    out.push_str(&text[s..e]);
                } else {
                    out.extend(std::iter::repeat_n('*', text[s..e].chars().count()));
                }
                at = e;
            }
            copied = end;
        }
        i = end.max(i + 1);
    }
    out.push_str(&text[copied..]);
    out
}

/// Whether `bytes` has enough digits (plain or percent-encoded) that
/// [`mask_digits_in`] may mask some: one short of the minimum, as a trailing `X`
/// completes an ID number.
fn may_hold_a_number(bytes: &[u8]) -> bool {
    // A full-width digit's last byte (0x90-0x99) is counted through its lead byte 0xEF.
    bytes
        .iter()
        .filter(|&&b| b.is_ascii_digit() || b == 0xEF)
        .count()
        >= MIN_SENSITIVE_DIGITS - 1
}

/// Keeps the first `head` and last `tail` characters of a value of at least 11
/// characters and stars the rest; shorter values are starred whole.
fn mask_keep(value: &str, head: usize, tail: usize) -> String {
    let n = value.chars().count();
    if n < MIN_SENSITIVE_DIGITS || n < head + tail + 1 {
        return "*".repeat(n);
    }
    value
        .chars()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - tail { c } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fixed_examples() {
        assert_eq!(mask_id_number("110101199003070011"), "110101********0011");
        assert_eq!(mask_id_number("11010519491231002X"), "110105********002X");
        assert_eq!(mask_id_number("110105491231002"), "110105*****1002");
        assert_eq!(mask_id_number("12345"), "*****");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("+447911123456"), "+44******3456");
        assert_eq!(mask_phone("110"), "***");
    }

    #[test]
    fn masks_numbers_in_text() {
        let cases = [
            ("id 11010519491231002X ok", "id 110105********002X ok"),
            ("id 11010519491231002x.", "id 110105********002x."),
            ("call 13812345678!", "call 138****5678!"),
            ("+8613812345678", "+861******5678"),
            ("order 1234567890 and 2026", "order 1234567890 and 2026"),
            (
                "a13812345678b110101199003070011c",
                "a138****5678b110101********0011c",
            ),
            ("12345678901X", "123*****901X"),
            ("张三13812345678", "张三138****5678"),
            ("X13812345678", "X138****5678"),
            // Spelled with separators or percent-encoded, as clients and paths do.
            ("tel 138 0013 8000.", "tel 138 **** 8000."),
            ("/x/138-0013-8000", "/x/138-****-8000"),
            ("+86-138-0013-8000", "+86-1**-****-8000"),
            (
                "/x/%31%33%38%30%30%31%33%38%30%30%30",
                "/x/%31%33%38************%38%30%30%30",
            ),
            (
                "id-11010519491231002X-13800138000",
                "id-110105********002X-138****8000",
            ),
            ("1101051949123100%58", "110105*******100%58"),
            // Shaped like an ID or a mobile number: masked whatever separates the digits.
            ("/a/440306198.50615123X", "/a/440306***.*****123X"),
            ("/a/139_1234_5679", "/a/139_****_5679"),
            ("/a/139:12345679", "/a/139:****5679"),
            ("/a/139%2E1234%2E5679", "/a/139%2E****%2E5679"),
            ("/a/440306198%252D50615123X", "/a/440306***%252D*****123X"),
            (
                "/a/139%E2%80%8B1234%E2%80%8B5679",
                "/a/139%E2%80%8B****%E2%80%8B5679",
            ),
            (
                "/a/139\u{200B}1234\u{00A0}5679",
                "/a/139\u{200B}****\u{00A0}5679",
            ),
            ("/a/440306198--50615123X", "/a/440306***--*****123X"),
            ("+86.139.1234.5679", "+86.1**.****.5679"),
            ("/a/１３９１２３４５６７９", "/a/１３９****５６７９"),
            // Dates, times, addresses and short numbers stay.
            ("2026-12-02 10:30 #42", "2026-12-02 10:30 #42"),
            ("at 2026-12-02 10:30:00", "at 2026-12-02 10:30:00"),
            ("ip 192.168.100.200", "ip 192.168.100.200"),
            ("/p/2024/01/01/12345", "/p/2024/01/01/12345"),
            ("v1.2.3 build 20261202", "v1.2.3 build 20261202"),
        ];
        for (input, want) in cases {
            assert_eq!(mask_digits_in(input), want, "{input}");
        }
    }

    proptest! {
        /// The shortcut for text without long digit runs answers what the full masking does.
        #[test]
        fn the_shortcut_agrees_with_the_full_masking(s in "[0-9xX a-z张]{0,40}") {
            let fast = mask_digits_in(&s);
            let full = mask_digit_runs(&s);
            prop_assert_eq!(fast.as_ref(), full.as_str());
            if matches!(fast, Cow::Borrowed(_)) {
                prop_assert_eq!(fast.as_ref(), s.as_str());
            }
        }

        #[test]
        fn no_run_of_eleven_digits_survives(s in "[0-9a-zX -]{0,60}") {
            let masked = mask_digits_in(&s);
            // At most 3 + 4 (or 6 + 4) digits of any run, separators included, stay.
            let mut run = 0;
            let bytes = masked.as_bytes();
            for (i, b) in bytes.iter().enumerate() {
                let joins = matches!(b, b' ' | b'-')
                    && i > 0
                    && bytes[i - 1].is_ascii_digit()
                    && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
                run = if b.is_ascii_digit() { run + 1 } else if joins { run } else { 0 };
                prop_assert!(run < 11, "{} -> {}", s, masked);
            }
            prop_assert_eq!(masked.chars().count(), s.chars().count());
            prop_assert_eq!(holds_no_number(&s), masked == s);
        }

        #[test]
        fn id_masks_hide_the_birth_date(body in "[0-9]{17}", last in "[0-9X]") {
            let id = format!("{body}{last}");
            let masked = mask_id_number(&id);
            prop_assert_eq!(&masked[..6], &id[..6]);
            prop_assert_eq!(&masked[6..14], "********");
            prop_assert_eq!(&masked[14..], &id[14..]);
        }
    }
}
