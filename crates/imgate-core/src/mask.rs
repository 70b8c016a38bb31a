//! Masking of identity and phone numbers for logs, audit records and error texts.
//!
//! The gateway must be able to say *which* record it saw without writing down the
//! number itself: the region and the last four characters are kept, the rest (for an ID
//! number, the birth date and most of the sequence) becomes `*`.

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

/// Masks every run of 11 or more digits (with an optional trailing check character `X`,
/// as ID numbers end) in free text: runs of 15 or more like ID numbers, shorter ones like
/// phone numbers. A run is spelled the ways clients spell numbers:
///
/// - A digit is any decimal digit, of any script (`１３８`, `١٣٨`, `۱۳۸`, `१३८`, `๑๓๘`,
///   `𝟏𝟑𝟖`; see [`DIGIT_ZEROS`]): a reader of the log reads them all as the number.
/// - Each byte of a digit (or of the check character: `X`, `x`, `Ｘ`, `ｘ`) may be
///   percent-encoded, up to three times over: `%31`, `%EF%BC%91` (what a browser sends
///   for `１`), `%2531` and `%%331` (encoded twice, as a path decoded twice by a backend
///   reads). See [`decoded_byte_at`].
/// - Digits may be separated by single spaces or hyphens (`138 0013 8000`,
///   `138-0013-8000`, as the phone validator accepts them).
/// - A number shaped like an ID number (15 or 18 characters) or a mainland mobile number
///   (11 digits from `13` to `19`, or 13 with `86` in front) is masked whatever separates
///   its digits, up to three separators at a time: any punctuation but the URL delimiters
///   `/ ? & = #`, a percent-encoded or invisible character (`440306198.50615123X`,
///   `139_1234_5679`, `139%2E1234`, `139%E2%80%8B1234`).
/// - A number split by `/` into two to four groups of at least three digits each is
///   masked when the groups together are a mainland mobile number or a plausible ID
///   number (a province code and a calendar birth date): `/x/138/0013/8000`. See
///   [`slashed_run_at`] for why the rule is that narrow.
///
/// Other runs keep the strict spelling, so dates, times, addresses and ordinary ids such
/// as `2026-12-02 10:30:00`, `192.168.100.200` or `/posts/12345/comments/67` stay
/// readable. Separators stay, and each masked digit becomes as many `*` as characters
/// spell it (`%31` three, `%EF%BC%91` nine, `١` one), so the text keeps its length in
/// characters and no masked digit survives in any encoding. Use it on any text that may
/// carry client input before it is logged or echoed. Text with fewer than ten bytes that
/// can spell a digit is returned as it is, without a copy (most paths).
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

/// One character of a number found in the text: a digit or the check character, as the
/// byte range that spells it (one byte for `7`, three for `%37` or `７`, nine for
/// `%EF%BC%97`).
#[derive(Clone, Copy, Debug)]
struct Unit {
    start: usize,
    end: usize,
    /// The digit's value; `None` for the check character.
    digit: Option<u8>,
}

/// Appends the unit of `len` bytes at `at` to `units`; returns the offset just past it.
fn push_unit(units: &mut Vec<Unit>, at: usize, len: usize, digit: Option<u8>) -> usize {
    units.push(Unit {
        start: at,
        end: at + len,
        digit,
    });
    at + len
}

/// The zero of every block of ten Unicode decimal digits (general category Nd, Unicode
/// 14), ascending; each block holds 0 to 9 in order. Rust's standard library tells whether
/// a character is numeric but not its decimal value, and the value is needed: whether a
/// run is a mobile number depends on its first digits. Nd includes the scripts a client
/// may write a number in (Arabic-Indic U+0660, Extended Arabic-Indic U+06F0, Devanagari
/// U+0966, Bengali U+09E6, Thai U+0E50, full-width U+FF10, the mathematical digits
/// U+1D7CE-1D7FF in five styles) and the rarer ones, which cost nothing more to look up.
/// Numbers that are not decimal digits (`²`, `①`, `Ⅻ`) are not in it.
const DIGIT_ZEROS: [u32; 66] = [
    0x30, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
    0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0,
    0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// The value of `c` if it is a decimal digit of any script (see [`DIGIT_ZEROS`]).
fn decimal_value(c: char) -> Option<u8> {
    let c = u32::from(c);
    let block = DIGIT_ZEROS
        .partition_point(|&zero| zero <= c)
        .checked_sub(1)?;
    let offset = c.checked_sub(*DIGIT_ZEROS.get(block)?)?;
    u8::try_from(offset).ok().filter(|&d| d < 10)
}

/// The check character an ID number may end in: `X`, or its full-width forms.
fn is_check_char(c: char) -> bool {
    matches!(c, 'X' | 'x' | 'Ｘ' | 'ｘ')
}

/// How many times over a number's bytes may be percent-encoded and still be read. Once is
/// what a browser does to a non-ASCII digit; twice is what a client does to slip a number
/// past a filter that decodes once, where a backend decodes again; a third time costs
/// nothing more to read, and a bound keeps the reading cheap ([`decoded_byte_at`]).
const MAX_DECODES: usize = 3;

/// The value of the hexadecimal digit `b`.
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The byte at `i` as it reads after percent-decoding the text `level` times, and the
/// offset just past what spells it. Each level decodes the bytes of the level below, so an
/// escape whose `%` or hex digits are escaped themselves reads too: at level 2, `%2531`,
/// `%%331` and `%3%31` all read as `1`. A `%` that starts no escape reads as itself. Only
/// a `%` is looked into: any other byte reads as itself at once, whatever the level, so
/// the cost is paid at escapes only (at most 3^`level` bytes read, and three for an
/// escape of anything but `%`, which reads the same at every level).
#[inline]
fn decoded_byte_at(bytes: &[u8], i: usize, level: usize) -> Option<(u8, usize)> {
    let raw = *bytes.get(i)?;
    if raw != b'%' || level == 0 {
        return Some((raw, i + 1));
    }
    let plain = |k: usize| bytes.get(k).copied().and_then(hex_value);
    if let (Some(high), Some(low)) = (plain(i + 1), plain(i + 2)) {
        let byte = high * 16 + low;
        if byte != b'%' {
            return Some((byte, i + 3));
        }
    }
    decoded_escape_at(bytes, i, level)
}

/// [`decoded_byte_at`] for a `%` at `i` that needs decoding more than once (or starts no
/// escape).
fn decoded_escape_at(bytes: &[u8], i: usize, level: usize) -> Option<(u8, usize)> {
    let (below, after) = decoded_byte_at(bytes, i, level - 1)?;
    if below != b'%' {
        return Some((below, after));
    }
    let hex = |at: usize| {
        let (b, next) = decoded_byte_at(bytes, at, level - 1)?;
        Some((hex_value(b)?, next))
    };
    let escape = hex(after).and_then(|(high, mid)| {
        let (low, next) = hex(mid)?;
        Some((high * 16 + low, next))
    });
    Some(escape.unwrap_or((below, after)))
}

/// The character at byte `i`, each of its UTF-8 bytes raw or percent-encoded (up to
/// [`MAX_DECODES`] times), and the offset just past it. `None` inside a character or for
/// bytes that are not well-formed UTF-8 once decoded.
fn char_at(bytes: &[u8], i: usize) -> Option<(char, usize)> {
    let (lead, mut next) = decoded_byte_at(bytes, i, MAX_DECODES)?;
    let width = match lead {
        0x00..=0x7F => return Some((char::from(lead), next)),
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return None,
    };
    let mut buf = [lead, 0, 0, 0];
    for slot in buf.iter_mut().take(width).skip(1) {
        let (b, after) = decoded_byte_at(bytes, next, MAX_DECODES)?;
        *slot = b;
        next = after;
    }
    // `from_utf8` rejects overlong forms, surrogates and bad continuation bytes.
    let c = std::str::from_utf8(buf.get(..width)?)
        .ok()?
        .chars()
        .next()?;
    Some((c, next))
}

/// One digit of a run at byte `i` (see [`mask_digits_in`] for its spellings): its value
/// and its length in bytes.
fn digit_at(bytes: &[u8], i: usize) -> Option<(u8, usize)> {
    let first = *bytes.get(i)?;
    if first.is_ascii_digit() {
        return Some((first - b'0', 1));
    }
    if first.is_ascii() && first != b'%' {
        return None; // the common case, answered without decoding
    }
    // Most escapes and characters are no digit: their first byte tells (`%E4` of `中`).
    let (lead, _) = decoded_byte_at(bytes, i, MAX_DECODES)?;
    if !DIGIT_LIKE[usize::from(lead)] {
        return None;
    }
    let (c, next) = char_at(bytes, i)?;
    Some((decimal_value(c)?, next - i))
}

/// The trailing check character of an ID number at byte `i` (`X`, `x`, `Ｘ`, `ｘ`, each
/// maybe percent-encoded: `%58`, `%EF%BC%B8`); its length in bytes.
fn check_char_at(bytes: &[u8], i: usize) -> Option<usize> {
    match *bytes.get(i)? {
        b'X' | b'x' => Some(1),
        b if b.is_ascii() && b != b'%' => None,
        _ => {
            // Only `X`, `x` and the full-width forms (lead byte 0xEF) can be one.
            let (lead, _) = decoded_byte_at(bytes, i, MAX_DECODES)?;
            if !matches!(lead, b'X' | b'x' | 0xEF) {
                return None;
            }
            let (c, next) = char_at(bytes, i)?;
            is_check_char(c).then_some(next - i)
        }
    }
}

/// Separators a loosely spelled number may have between two digits, at most this many
/// in a row.
const MAX_LOOSE_GAP: usize = 3;

/// Most characters a number [`shaped_like_id_or_mobile`] or [`shaped_like_slashed`] can
/// have: reading a loose run further cannot make it one, so reading stops there (which
/// also keeps a long run of loosely separated digits from being read again from each of
/// its digits).
const MAX_SHAPED_UNITS: usize = 18;

/// One separator of a loosely spelled number at byte `i` (see [`mask_digits_in`]): an
/// ASCII punctuation or space byte other than the URL delimiters, a percent-encoded byte
/// that is not a letter or digit (`%2D`, `%E2`), any escape encoded more than once
/// (`%252D`, `%2541`), or a character that is neither a letter nor a digit (`\u{200B}`,
/// `－`). Its length in bytes. [`digit_at`] is asked first: a percent-encoded digit is a
/// digit, not a separator.
fn separator_at(text: &str, i: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    match *bytes.get(i)? {
        b'/' | b'?' | b'&' | b'=' | b'#' => None,
        b'%' => {
            let (byte, next) = decoded_byte_at(bytes, i, MAX_DECODES)?;
            escape_separator(byte, next - i)
        }
        b if b.is_ascii_alphanumeric() => None,
        b if b.is_ascii() => Some(1),
        _ => {
            let c = text.get(i..)?.chars().next()?;
            (!c.is_alphanumeric()).then_some(c.len_utf8())
        }
    }
}

/// Whether an escape `len` bytes long that decodes to `byte` ([`decoded_byte_at`]) is a
/// separator ([`separator_at`]); its length if so. A lone percent sign reads as itself:
/// one byte, a separator.
fn escape_separator(byte: u8, len: usize) -> Option<usize> {
    (!byte.is_ascii_alphanumeric() || len > 3).then_some(len)
}

/// Where the next digit after byte `i` starts, past at most [`MAX_LOOSE_GAP`] separators,
/// and whether a `/` was among them (`/` counts as a separator only when `slashes`).
fn next_digit_after(text: &str, i: usize, slashes: bool) -> Option<(usize, bool)> {
    let bytes = text.as_bytes();
    let mut next = i;
    let mut slashed = false;
    for _ in 0..=MAX_LOOSE_GAP {
        next += match *bytes.get(next)? {
            b'%' => {
                // Decoded once for both questions (most escapes in a path are no digit).
                let (byte, after) = decoded_byte_at(bytes, next, MAX_DECODES)?;
                if DIGIT_LIKE[usize::from(byte)] && digit_at(bytes, next).is_some() {
                    return Some((next, slashed));
                }
                escape_separator(byte, after - next)?
            }
            b'/' if slashes => {
                slashed = true;
                1
            }
            _ if digit_at(bytes, next).is_some() => return Some((next, slashed)),
            _ => separator_at(text, next)?,
        };
    }
    None
}

/// Like [`run_at`], with up to [`MAX_LOOSE_GAP`] separators of any kind but the URL
/// delimiters between digits.
fn loose_run_at(text: &str, start: usize, units: &mut Vec<Unit>) -> usize {
    let bytes = text.as_bytes();
    units.clear();
    let mut i = start;
    while let Some((digit, len)) = digit_at(bytes, i) {
        i = push_unit(units, i, len, Some(digit));
        if units.len() > MAX_SHAPED_UNITS {
            return i;
        }
        match next_digit_after(text, i, false) {
            Some((next, _)) => i = next,
            None => break,
        }
    }
    if let Some(len) = check_char_at(bytes, i) {
        i = push_unit(units, i, len, None);
    }
    i
}

/// Most groups a number split by `/` is read in ([`slashed_run_at`]).
const MAX_SLASH_GROUPS: usize = 4;

/// Fewest characters each group of a number split by `/` has ([`slashed_run_at`]).
const MIN_SLASH_GROUP: usize = 3;

/// A number split by `/` into groups (`/x/138/0013/8000`, `/x/110105/19491231/002X`),
/// starting with a digit at `start`: the units of the groups and the byte offset just past
/// them, or `None` when it is not one.
///
/// Paths are made of numeric segments that must stay readable (`/posts/12345/comments/67`,
/// `/2026/12/06/`, `/a/1/2/3`), so `/` does not join digits as other separators do. It
/// joins them only when all of these hold:
/// - two to four groups follow one another, each separated from the next by at most
///   [`MAX_LOOSE_GAP`] separators among which a `/` (each group spelled loosely itself);
/// - each group has at least [`MIN_SLASH_GROUP`] characters, so dates and times written
///   with two-digit groups (`/2026/12/06/10/30`) never join;
/// - the groups together are shaped like a mainland mobile number (exactly 11 digits,
///   `1[3-9]`) or a plausible ID number ([`shaped_like_slashed`]), which an id, a size or
///   a version in a path seldom is.
///
/// The groups read are the longest such run of groups from `start` (longest first, as a
/// longer number hides more); a number that starts in a later group is found when
/// [`mask_digit_runs`] reaches that group.
fn slashed_run_at(text: &str, start: usize, units: &mut Vec<Unit>) -> Option<usize> {
    let bytes = text.as_bytes();
    units.clear();
    // Units read and the byte offset just past the group, for each group.
    let mut groups = [(0, 0); MAX_SLASH_GROUPS];
    let mut count = 0;
    let mut i = start;
    while let Some((digit, len)) = digit_at(bytes, i) {
        i = push_unit(units, i, len, Some(digit));
        if units.len() > MAX_SHAPED_UNITS {
            break;
        }
        if units.len() == 17 {
            if let Some(len) = check_char_at(bytes, i) {
                i = push_unit(units, i, len, None);
                break;
            }
        }
        let Some((next, slashed)) = next_digit_after(text, i, true) else {
            break;
        };
        if slashed {
            if count + 1 == MAX_SLASH_GROUPS {
                break; // a fifth group is not read
            }
            if let Some(group) = groups.get_mut(count) {
                *group = (units.len(), i);
            }
            count += 1;
        }
        i = next;
    }
    if let Some(group) = groups.get_mut(count) {
        *group = (units.len(), i);
        count += 1;
    }
    // The groups from the first up to the first one too short.
    let mut usable = 0;
    let mut before = 0;
    for &(after, _) in groups.iter().take(count) {
        if after - before < MIN_SLASH_GROUP {
            break;
        }
        usable += 1;
        before = after;
    }
    for &(n, end) in groups.iter().take(usable).skip(1).rev() {
        if units.get(..n).is_some_and(shaped_like_slashed) {
            units.truncate(n);
            return Some(end);
        }
    }
    None
}

/// Whether the units of a loosely spelled run are shaped like an ID number (15 or 18
/// characters) or a mainland mobile number (`1[3-9]` and 9 more digits, or `86` in front).
fn shaped_like_id_or_mobile(units: &[Unit]) -> bool {
    let digit = |k: usize| units.get(k).and_then(|u| u.digit);
    match units.len() {
        15 | 18 => true,
        11 => mobile_at(units, 0),
        13 => digit(0) == Some(8) && digit(1) == Some(6) && mobile_at(units, 2),
        _ => false,
    }
}

/// Whether a mainland mobile number (`1[3-9]`) starts at unit `k`.
fn mobile_at(units: &[Unit], k: usize) -> bool {
    let digit = |k: usize| units.get(k).and_then(|u| u.digit);
    digit(k) == Some(1) && digit(k + 1).is_some_and(|d| (3..=9).contains(&d))
}

/// Whether the units of a number split by `/` ([`slashed_run_at`]) are a mainland mobile
/// number (11 digits, `1[3-9]`) or a plausible ID number: 15 digits (`RRRRRRYYMMDDSSS`) or
/// 17 digits and a check digit or `X` (`RRRRRRYYYYMMDDSSSC`), starting with a province
/// code and carrying a calendar birth date (year 1900-2099 for the 18-character form).
/// This is stricter than [`shaped_like_id_or_mobile`] because numeric path segments
/// are common and only real numbers should join across `/`.
fn shaped_like_slashed(units: &[Unit]) -> bool {
    // The number the digits at units `from..from + len` spell.
    let number = |from: usize, len: usize| {
        (from..from + len).try_fold(0u32, |n, k| Some(n * 10 + u32::from(units.get(k)?.digit?)))
    };
    let (year_ok, month_at) = match units.len() {
        11 => return mobile_at(units, 0),
        15 => (true, 8),
        18 => (
            number(6, 4).is_some_and(|year| (1900..=2099).contains(&year)),
            10,
        ),
        _ => return false,
    };
    let province = number(0, 2).is_some_and(|p| {
        matches!(
            p,
            11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81..=83
        )
    });
    let month = number(month_at, 2).is_some_and(|m| (1..=12).contains(&m));
    let day = number(month_at + 2, 2).is_some_and(|d| (1..=31).contains(&d));
    // The first 17 characters (all of a 15-character number) are digits.
    let digits = units.iter().take(17).all(|u| u.digit.is_some());
    province && year_ok && month && day && digits
}

/// The units (digits and the check character) of the run starting at a digit at `start`,
/// and the byte offset just past it: digits joined by single spaces or hyphens only.
fn run_at(bytes: &[u8], start: usize, units: &mut Vec<Unit>) -> usize {
    units.clear();
    let mut i = start;
    while let Some((digit, len)) = digit_at(bytes, i) {
        i = push_unit(units, i, len, Some(digit));
        if matches!(bytes.get(i), Some(b' ' | b'-')) && digit_at(bytes, i + 1).is_some() {
            i += 1;
        }
    }
    if units.len() >= MIN_SENSITIVE_DIGITS - 1 {
        if let Some(len) = check_char_at(bytes, i) {
            i = push_unit(units, i, len, None);
        }
    }
    i
}

/// [`mask_digits_in`] without the shortcut for text with few digits.
///
/// From each digit the number is read three ways: strictly ([`run_at`]), loosely
/// ([`loose_run_at`], if shaped like an ID or mobile number) and split by `/`
/// ([`slashed_run_at`]). Each reading that applies is a prefix of the longer ones (each
/// joins digits across a superset of the separators the one before does), so the
/// longest is masked, and every character any of them hides is hidden: `13800138000.1234`
/// read as an ID number would keep `138001`, six digits of the phone number it also is.
fn mask_digit_runs(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let units = || Vec::with_capacity(MAX_SHAPED_UNITS + 1);
    let (mut strict, mut loose, mut slashed) = (units(), units(), units());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if digit_at(bytes, i).is_none() {
            i += 1;
            continue;
        }
        let strict_end = run_at(bytes, i, &mut strict);
        let loose_end = loose_run_at(text, i, &mut loose);
        let loose_shaped = shaped_like_id_or_mobile(&loose);
        // The first group read split by `/` is the loose run: read on only if a `/` and
        // a digit follow it (most runs end for good, and are not read twice).
        let may_go_on = (MIN_SLASH_GROUP..=MAX_SHAPED_UNITS - MIN_SLASH_GROUP)
            .contains(&loose.len())
            && loose.last().is_some_and(|unit| unit.digit.is_some())
            && next_digit_after(text, loose_end, true).is_some();
        let slashed_end = if may_go_on {
            slashed_run_at(text, i, &mut slashed)
        } else {
            None
        };
        let (units, end) = match slashed_end {
            Some(end) => (&slashed, end),
            None if loose_shaped => (&loose, loose_end),
            None => (&strict, strict_end),
        };
        let n = units.len();
        if n >= MIN_SENSITIVE_DIGITS {
            let loose_len = if loose_shaped { loose.len() } else { 0 };
            let hidden = [strict.len(), loose_len, n].map(hidden_units);
            out.push_str(&text[copied..i]);
            let mut at = i;
            for (k, unit) in units.iter().enumerate() {
                out.push_str(&text[at..unit.start]);
                let spelled = &text[unit.start..unit.end];
                if hidden.iter().any(|range| range.contains(&k)) {
                    out.extend(std::iter::repeat_n('*', spelled.chars().count()));
                } else {
                    out.push_str(spelled);
                }
                at = unit.end;
            }
            copied = end;
        }
        i = end.max(i + 1);
    }
    out.push_str(&text[copied..]);
    out
}

/// The characters a number of `n` characters hides, like [`mask_id_number`] and
/// [`mask_phone`]: all but the region (15 or more) or the prefix and the last four; none
/// when it is too short to be a number.
fn hidden_units(n: usize) -> std::ops::Range<usize> {
    if n < MIN_SENSITIVE_DIGITS {
        return 0..0;
    }
    let head = if n >= 15 { 6 } else { 3 };
    head..n - 4
}

/// The bytes that can start the spelling of a digit: the ASCII digits and the UTF-8 lead
/// bytes of the digits in [`DIGIT_ZEROS`] (0xEF for `１`, 0xD9 for `١`, 0xF0 for `𝟏`...).
/// A percent-encoded digit, once or more, always holds an ASCII digit (the hex of its
/// bytes: `%EF%BC%91`, `%D9%A1`, `%F0%9D%9F%8F`, `%2531`; a test checks every digit), so
/// counting these bytes counts at least one per digit however it is spelled.
const DIGIT_LIKE: [bool; 256] = digit_like_bytes();

/// Builds [`DIGIT_LIKE`] from [`DIGIT_ZEROS`] at compile time.
const fn digit_like_bytes() -> [bool; 256] {
    let mut table = [false; 256];
    let mut block = 0;
    while block < DIGIT_ZEROS.len() {
        let mut d = 0;
        while d < 10 {
            let c = DIGIT_ZEROS[block] + d;
            let lead = if c < 0x80 {
                c
            } else if c < 0x800 {
                0xC0 | (c >> 6)
            } else if c < 0x1_0000 {
                0xE0 | (c >> 12)
            } else {
                0xF0 | (c >> 18)
            };
            table[lead as usize] = true;
            d += 1;
        }
        block += 1;
    }
    table
}

/// Whether `bytes` has enough bytes that may spell a digit ([`DIGIT_LIKE`]) that
/// [`mask_digits_in`] may mask some: one short of the minimum, as a trailing `X`
/// completes an ID number. One table look-up a byte, so a path without digits (or with a
/// few, as most have) is let through at the cost of one pass over it; CJK text does not
/// count (its lead bytes spell no digit).
fn may_hold_a_number(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .filter(|&&b| DIGIT_LIKE[usize::from(b)])
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

    /// Every byte of `s` percent-encoded, as a browser sends a non-ASCII path.
    fn pct(s: &str) -> String {
        s.bytes().map(|b| format!("%{b:02X}")).collect()
    }

    /// `s` percent-encoded twice (`%` itself encoded as `%25`).
    fn pct2(s: &str) -> String {
        pct(s).replace('%', "%25")
    }

    fn stars(n: usize) -> String {
        "*".repeat(n)
    }

    /// The ASCII digits of `ascii` written with the digit block starting at `zero`.
    fn in_script(ascii: &str, zero: u32) -> Vec<String> {
        ascii
            .bytes()
            .map(|b| {
                let c = char::from_u32(zero + u32::from(b - b'0')).expect("a digit");
                c.to_string()
            })
            .collect()
    }

    /// How many ways [`spell`] spells a character.
    const SPELLINGS: usize = 12;

    /// `c` (an ASCII digit or `X`) spelled the `how`-th way a client may spell it.
    fn spell(c: char, how: usize) -> String {
        let Some(d) = c.to_digit(10) else {
            let x = ["X", "x", "Ｘ", "ｘ", "%58", "%78"];
            return match how % 8 {
                6 => pct("Ｘ"),
                7 => pct2("X"),
                k => x[k].to_owned(),
            };
        };
        let script = |zero: u32| char::from_u32(zero + d).expect("a digit").to_string();
        match how {
            0 => c.to_string(),
            1 => script(0xFF10),
            2 => pct(&c.to_string()),
            3 => pct(&script(0xFF10)),
            4 => pct(&script(0xFF10)).to_ascii_lowercase(),
            5 => pct2(&c.to_string()),
            6 => script(0x0660),
            7 => pct(&script(0x06F0)),
            8 => script(0x0966),
            9 => script(0x1D7CE),
            10 => format!("%%33{d}"),
            _ => pct2(&script(0xFF10)),
        }
    }

    /// The digits and check characters of `text` as ASCII, in order, however spelled.
    fn read_back(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = String::new();
        let mut i = 0;
        while i < bytes.len() {
            if let Some((d, len)) = digit_at(bytes, i) {
                out.push(char::from(b'0' + d));
                i += len;
            } else if let Some(len) = check_char_at(bytes, i) {
                out.push('X');
                i += len;
            } else {
                i += 1;
            }
        }
        out
    }

    /// Mainland mobile numbers, and plausible ID numbers of 15 and 18 characters.
    fn number_strategy() -> impl Strategy<Value = String> {
        const PROVINCES: [u32; 34] = [
            11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50,
            51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
        ];
        let region = (proptest::sample::select(&PROVINCES[..]), 0..10_000u32)
            .prop_map(|(p, area)| format!("{p}{area:04}"));
        let date = (1..=12u32, 1..=28u32).prop_map(|(m, d)| format!("{m:02}{d:02}"));
        prop_oneof![
            "1[3-9][0-9]{9}".prop_map(|s| s),
            (
                region.clone(),
                1900..2100u32,
                date.clone(),
                "[0-9]{3}[0-9X]"
            )
                .prop_map(|(r, y, md, tail)| format!("{r}{y}{md}{tail}")),
            (region, 0..100u32, date, "[0-9]{3}")
                .prop_map(|(r, y, md, tail)| format!("{r}{y:02}{md}{tail}")),
        ]
    }

    #[test]
    fn masks_percent_encoded_full_width_numbers() {
        // The red team's path: １３８００１３８０００ as a browser sends it.
        let path = "/api/v1/accounts/%EF%BC%91%EF%BC%93%EF%BC%98%EF%BC%90%EF%BC%90%EF%BC%91\
                    %EF%BC%93%EF%BC%98%EF%BC%90%EF%BC%90%EF%BC%90";
        let want = format!(
            "/api/v1/accounts/%EF%BC%91%EF%BC%93%EF%BC%98{}%EF%BC%98%EF%BC%90%EF%BC%90%EF%BC%90",
            stars(4 * 9)
        );
        assert_eq!(mask_digits_in(path), want);
        let lower = path.to_ascii_lowercase();
        assert_eq!(mask_digits_in(&lower), want.to_ascii_lowercase());

        // An ID number, its X full-width and encoded, or plain.
        let id = format!("/x/{}", pct("１１０１０５１９４９１２３１００２Ｘ"));
        let want = format!(
            "/x/{}{}{}",
            pct("１１０１０５"),
            stars(8 * 9),
            pct("００２Ｘ")
        );
        assert_eq!(mask_digits_in(&id), want);
        let id = format!("/x/{}X?a=1", pct("１１０１０５１９４９１２３１００２"));
        let want = format!(
            "/x/{}{}{}X?a=1",
            pct("１１０１０５"),
            stars(8 * 9),
            pct("００２")
        );
        assert_eq!(mask_digits_in(&id), want);
        assert_eq!(
            mask_digits_in("id=１１０１０５１９４９１２３１００２Ｘ"),
            "id=１１０１０５********００２Ｘ"
        );
        // Mixed with plain digits and separators.
        let mixed = format!("/x/138{}8000", pct("－００１３－"));
        let want = format!("/x/138{}{}{}8000", pct("－"), stars(4 * 9), pct("－"));
        assert_eq!(mask_digits_in(&mixed), want);
    }

    #[test]
    fn masks_numbers_encoded_more_than_once() {
        assert_eq!(
            mask_digits_in("/x/%2531%2533%2538%2530%2530%2531%2533%2538%2530%2530%2530"),
            format!("/x/%2531%2533%2538{}%2538%2530%2530%2530", stars(4 * 5))
        );
        // The `%` encoded (`%25`), or a hex digit (`%33` is `3`), or three times over.
        let spellings: [fn(u8) -> String; 4] = [
            |d| format!("%%33{d}"),
            |d| format!("%3%3{d}"),
            |d| format!("%25253{d}"),
            |d| {
                pct2(
                    &char::from_u32(0xFF10 + u32::from(d))
                        .expect("a digit")
                        .to_string(),
                )
            },
        ];
        for spell in spellings {
            let units: Vec<String> = b"13800138000".iter().map(|b| spell(b - b'0')).collect();
            let text = format!("/x/{}/y", units.concat());
            let hidden: usize = units[3..7].iter().map(|u| u.chars().count()).sum();
            let want = format!(
                "/x/{}{}{}/y",
                units[..3].concat(),
                stars(hidden),
                units[7..].concat()
            );
            assert_eq!(mask_digits_in(&text), want, "{text}");
        }
        // An ID number encoded twice, the X too.
        let id = format!("/x/{}", pct2("11010519491231002X"));
        let want = format!("/x/{}{}{}", pct2("110105"), stars(8 * 5), pct2("002X"));
        assert_eq!(mask_digits_in(&id), want);
        // A separator encoded three times still separates.
        assert_eq!(
            mask_digits_in("/a/139%25252D1234%25252D5679"),
            "/a/139%25252D****%25252D5679"
        );
    }

    #[test]
    fn masks_digits_of_other_scripts() {
        let cases = [
            ("/x/١٣٨٠٠١٣٨٠٠٠", "/x/١٣٨****٨٠٠٠"),
            ("/x/۱۳۸۰۰۱۳۸۰۰۰", "/x/۱۳۸****۸۰۰۰"),
            ("/x/१३८००१३८०००", "/x/१३८****८०००"),
            ("/x/১৩৮০০১৩৮০০০", "/x/১৩৮****৮০০০"),
            ("/x/๑๓๘๐๐๑๓๘๐๐๐", "/x/๑๓๘****๘๐๐๐"),
            ("/x/𝟏𝟑𝟖𝟎𝟎𝟏𝟑𝟖𝟎𝟎𝟎", "/x/𝟏𝟑𝟖****𝟖𝟎𝟎𝟎"),
            ("/x/𝟙𝟛𝟠𝟘𝟘𝟙𝟛𝟠𝟘𝟘𝟘", "/x/𝟙𝟛𝟠****𝟠𝟘𝟘𝟘"),
            ("/x/1٣८००13８٠٠٠", "/x/1٣८****８٠٠٠"),
            ("/x/١٣٨-٠٠١٣-٨٠٠٠", "/x/١٣٨-****-٨٠٠٠"),
            ("/x/١٣٨_٠٠١٣_٨٠٠٠", "/x/١٣٨_****_٨٠٠٠"),
            ("id ١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "id ١١٠١٠٥********٠٠٢X"),
            ("+٨٦١٣٨٠٠١٣٨٠٠٠", "+٨٦١******٨٠٠٠"),
            // Few digits, or none, stay.
            ("/ar/مرحبا/١٢٣/٢٠٢٦-١٢-٠٦", "/ar/مرحبا/١٢٣/٢٠٢٦-١٢-٠٦"),
            ("/x/²³¹³⁸⁰⁰¹³⁸⁰⁰⁰", "/x/²³¹³⁸⁰⁰¹³⁸⁰⁰⁰"),
        ];
        for (input, want) in cases {
            assert_eq!(mask_digits_in(input), want, "{input}");
        }
        let encoded = format!("/x/{}", pct("١٣٨٠٠١٣٨٠٠٠"));
        let want = format!("/x/{}{}{}", pct("١٣٨"), stars(4 * 6), pct("٨٠٠٠"));
        assert_eq!(mask_digits_in(&encoded), want);
    }

    /// Every decimal digit of every script in the table, raw and encoded once or twice, is
    /// read with its value, and the shortcut lets none of them through.
    #[test]
    fn every_digit_in_every_spelling_is_masked() {
        let spellings: [fn(&str) -> String; 4] =
            [str::to_owned, pct, |u| pct(u).to_ascii_lowercase(), pct2];
        for pair in DIGIT_ZEROS.windows(2) {
            assert!(pair[0] + 10 <= pair[1], "sorted, blocks apart: {pair:X?}");
        }
        for zero in DIGIT_ZEROS {
            for d in 0..10u8 {
                let c = char::from_u32(zero + u32::from(d)).expect("a digit");
                assert_eq!(decimal_value(c), Some(d), "U+{:04X}", u32::from(c));
                assert!(c.is_numeric() && c.is_alphanumeric(), "{c}");
            }
            for spell in spellings {
                let units: Vec<String> = in_script("13800138000", zero)
                    .iter()
                    .map(|u| spell(u))
                    .collect();
                let text = format!("/x/{}", units.concat());
                let hidden: usize = units[3..7].iter().map(|u| u.chars().count()).sum();
                let want = format!(
                    "/x/{}{}{}",
                    units[..3].concat(),
                    stars(hidden),
                    units[7..].concat()
                );
                assert_eq!(mask_digits_in(&text), want, "U+{zero:04X}");
            }
        }
        // Next to the blocks, no digit.
        for c in [
            '/', ':', '\u{065F}', '\u{066A}', '\u{FF0F}', '\u{FF1A}', 'a', '张',
        ] {
            assert_eq!(decimal_value(c), None, "{c}");
        }
    }

    #[test]
    fn masks_numbers_split_by_slashes() {
        let cases = [
            ("/x/138/0013/8000", "/x/138/****/8000"),
            ("/x/1380/0138/000", "/x/138*/***8/000"),
            ("/x/13800/138000?a=1", "/x/138**/**8000?a=1"),
            ("/x/555/138/0013/8000", "/x/555/138/****/8000"),
            ("/x/138/0013/8000/555", "/x/138/****/8000/555"),
            ("/x/138/0013/8000/2026/12/06", "/x/138/****/8000/2026/12/06"),
            ("/86/138/0013/8000", "/86/138/****/8000"),
            ("/x/138-0013/8000", "/x/138-****/8000"),
            ("/x/138//0013//8000", "/x/138//****//8000"),
            ("/x/138./0013/8000", "/x/138./****/8000"),
            (
                "/x/%31%33%38/%30%30%31%33/%38%30%30%30",
                "/x/%31%33%38/************/%38%30%30%30",
            ),
            ("/x/１３８/００１３/８０００", "/x/１３８/****/８０００"),
            ("/x/١٣٨/٠٠١٣/٨٠٠٠", "/x/١٣٨/****/٨٠٠٠"),
            ("/x/110105/19491231/002X", "/x/110105/********/002X"),
            ("/x/110105/1949/1231/002X", "/x/110105/****/****/002X"),
            (
                "/x/440306/19850615/123x/edit",
                "/x/440306/********/123x/edit",
            ),
            ("/x/110105/491231/002", "/x/110105/*****1/002"),
            // Read both as a phone number and as an ID number: what either hides is hidden.
            ("/x/11000019000/1010/000X", "/x/110********/***0/000X"),
            ("13800138000.1234", "138********.1234"),
        ];
        for (input, want) in cases {
            assert_eq!(mask_digits_in(input), want, "{input}");
        }
    }

    /// Numeric path segments that are not a mobile or ID number split by `/` stay.
    #[test]
    fn numeric_path_segments_stay_readable() {
        let paths = [
            "/api/v1/posts/12345/comments/67",
            "/2026/12/06/",
            "/archive/2026/12/06/10/30/45",
            "/p/2026/1206/1030",
            "/a/1/2/3",
            "/img/640/480/100",
            "/users/13800/orders/138000",
            // 11 digits, but no mobile prefix.
            "/v/123/4567/8901",
            "/v/120/0013/8000",
            // 12 digits in all, 7 in the first two groups.
            "/x/138/0013/80001",
            // 18 or 15 digits, but no province or no calendar date.
            "/x/123456/78901234/5678",
            "/x/990101/19491231/0021",
            "/x/110105/19491331/0021",
            "/x/110105/18491231/0021",
            "/x/110105/491232/002",
            // Groups shorter than three digits never join.
            "/x/13/800/138/000",
        ];
        for path in paths {
            assert_eq!(mask_digits_in(path), path);
            assert!(holds_no_number(path), "{path}");
        }
    }

    /// Paths with no digit, or a few, are let through without a copy, whatever script.
    #[test]
    fn the_shortcut_lets_ordinary_paths_through() {
        let paths = [
            "/api/v1/users/profile/settings/notifications/preferences",
            "/搜索/中文路径/文章/评论/用户/设置/通知/偏好/历史/记录",
            "/search/%E4%B8%AD%E6%96%87",
            "/검색/한국어/경로/문서/댓글/사용자/설정/알림/기록/보관",
        ];
        for path in paths {
            assert!(!may_hold_a_number(path.as_bytes()), "{path}");
            assert!(matches!(mask_digits_in(path), Cow::Borrowed(_)), "{path}");
        }
    }

    #[test]
    fn broken_escapes_read_as_text() {
        for text in [
            "100%",
            "%",
            "%2",
            "%25",
            "%%",
            "%2525",
            "%E2%80",
            "%F0%9D%9F",
            "%C0%B1",
            "%ED%A0%80",
            "13800138000%",
            "%3",
            "1%3%3",
        ] {
            let masked = mask_digits_in(text);
            assert_eq!(masked.chars().count(), text.chars().count(), "{text}");
        }
        assert_eq!(decoded_byte_at(b"%2", 0, MAX_DECODES), Some((b'%', 1)));
        assert_eq!(decoded_byte_at(b"%%331", 0, 1), Some((b'%', 1)));
        assert_eq!(decoded_byte_at(b"%%331", 0, 2), Some((b'1', 5)));
        assert_eq!(decoded_byte_at(b"%252531", 0, 2), Some((b'%', 5)));
        assert_eq!(decoded_byte_at(b"%252531", 0, 3), Some((b'1', 7)));
        // An overlong or surrogate encoding is no digit.
        assert_eq!(digit_at(b"%C0%B1", 0), None);
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

        /// Text made of digits in several spellings, escapes (broken ones too) and
        /// separators: the shortcut answers what the full masking does, nothing panics and
        /// the length in characters stays.
        #[test]
        fn spelled_text_is_masked_consistently(
            parts in proptest::collection::vec(
                "[0-9xX/ .%_-]|[a-fA-F]|１|١|۵|𝟏|Ｘ|%3[0-9]|%EF%BC%9[0-9]|%25|%2531|%D9%A[0-9]|%E2%80%8B",
                0..40,
            )
        ) {
            let s = parts.concat();
            let fast = mask_digits_in(&s);
            let full = mask_digit_runs(&s);
            prop_assert_eq!(fast.as_ref(), full.as_str());
            prop_assert_eq!(fast.chars().count(), s.chars().count());
            prop_assert_eq!(holds_no_number(&s), fast == s);
        }

        /// A mobile or ID number, each character spelled its own way and the whole maybe
        /// split by `/` into groups of three or more, keeps only its first three (an ID
        /// number six) and last four characters, in any spelling.
        #[test]
        fn numbers_are_masked_however_spelled(
            number in number_strategy(),
            hows in proptest::collection::vec(0..SPELLINGS, 18),
            cuts in proptest::sample::subsequence((3..=15).collect::<Vec<usize>>(), 0..=3),
        ) {
            let chars: Vec<char> = number.chars().collect();
            let n = chars.len();
            let mut spelled = String::new();
            let mut last_cut = 0;
            for (k, &c) in chars.iter().enumerate() {
                if cuts.contains(&k) && k >= last_cut + 3 && k + 3 <= n {
                    spelled.push('/');
                    last_cut = k;
                }
                spelled.push_str(&spell(c, hows[k]));
            }
            let text = format!("/api/users/{spelled}/profile");
            let masked = mask_digits_in(&text);
            // A shorter reading of the same digits (the first 11 or more of an ID number
            // read as a phone number) may hide more of the head.
            let head = if n >= 15 { 6 } else { 3 };
            let kept = |h: usize| chars[..h].iter().chain(&chars[n - 4..]).collect::<String>();
            let read = read_back(&masked);
            prop_assert!(read == kept(head) || read == kept(3), "{} -> {}", text, masked);
            prop_assert_eq!(masked.chars().count(), text.chars().count());
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
