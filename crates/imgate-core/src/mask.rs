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

/// Masks every run of 11 or more ASCII digits (with an optional trailing `X`/`x`, as ID
/// numbers end) in free text: runs of 15 or more like ID numbers, shorter ones like
/// phone numbers. Use it on any text that may carry client input before it is logged.
/// Text with nothing to mask is returned as it is, without a copy (most paths).
pub fn mask_digits_in(text: &str) -> Cow<'_, str> {
    if !has_long_digit_run(text.as_bytes()) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(mask_digit_runs(text))
}

/// [`mask_digits_in`] without the shortcut for text without long digit runs.
fn mask_digit_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        out.push_str(&rest[..start]);
        let run = &rest[start..];
        let digits = run.bytes().take_while(u8::is_ascii_digit).count();
        let mut end = digits;
        if digits >= MIN_SENSITIVE_DIGITS - 1
            && matches!(run.as_bytes().get(digits), Some(b'X' | b'x'))
        {
            end += 1;
        }
        let token = &run[..end];
        if end < MIN_SENSITIVE_DIGITS {
            out.push_str(&run[..digits]);
            rest = &run[digits..];
            continue;
        }
        if end >= 15 {
            out.push_str(&mask_id_number(token));
        } else {
            out.push_str(&mask_phone(token));
        }
        rest = &run[end..];
    }
    out.push_str(rest);
    out
}

/// Whether `bytes` holds a run of digits long enough that [`mask_digits_in`] may mask
/// it (one short of the minimum: a trailing `X` completes an ID number).
fn has_long_digit_run(bytes: &[u8]) -> bool {
    let mut run = 0;
    for b in bytes {
        if b.is_ascii_digit() {
            run += 1;
            if run >= MIN_SENSITIVE_DIGITS - 1 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
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
        fn no_run_of_eleven_digits_survives(s in "[0-9a-zX ]{0,60}") {
            let masked = mask_digits_in(&s);
            let mut run = 0;
            for b in masked.bytes() {
                run = if b.is_ascii_digit() { run + 1 } else { 0 };
                prop_assert!(run < 11, "{} -> {}", s, masked);
            }
            prop_assert_eq!(masked.chars().count(), s.chars().count());
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
