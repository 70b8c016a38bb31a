//! Mainland resident identity numbers (GB 11643-1999) and the residence permits for
//! residents of Hong Kong, Macau and Taiwan that share their layout.
//!
//! Layout of the 18 characters: 6-digit administrative division (GB/T 2260), 8-digit
//! birth date `YYYYMMDD`, 3-digit sequence (odd for men), and an ISO 7064 MOD 11-2 check
//! character (`0`-`9` or `X`). First-generation cards carried 15 digits (2-digit year,
//! no check character); they are accepted only when the operator enables them.

use super::date::Date;
use super::divisions::{Divisions, RESIDENCE_PERMIT_PREFIXES};

/// Weights of ISO 7064 MOD 11-2 for the 17 body digits (2^(18-i) mod 11).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each remainder of the weighted sum mod 11.
const CHECK_CHARS: [u8; 11] = *b"10X98765432";
/// Birth dates before this are treated as typing errors, not as real people.
const EARLIEST_BIRTH_YEAR: i32 = 1900;

/// Options of the `cn_resident_id` validator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResidentIdOptions {
    /// Accept first-generation 15-digit numbers (upgraded to 18 digits, then checked).
    pub allow_legacy_15: bool,
    /// Minimum age in whole years on `today`; 0 disables the check.
    pub min_age: u32,
}

/// Which kind of document the number belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Mainland,
    HongKongPermit,
    MacauPermit,
    TaiwanPermit,
}

/// A number that passed every check, in canonical 18-character form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentId {
    canonical: String,
    birth_date: Date,
    kind: IdKind,
    upgraded_from_15: bool,
}

impl ResidentId {
    /// The 18-character number, check character `X` upper-case; a 15-digit input is
    /// returned upgraded. This is what PII hashing uses, so every spelling of one number
    /// hashes alike.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    pub fn birth_date(&self) -> Date {
        self.birth_date
    }

    pub fn kind(&self) -> IdKind {
        self.kind
    }

    pub fn upgraded_from_15(&self) -> bool {
        self.upgraded_from_15
    }
}

/// Why a number was refused; `subcode()` is the stable suffix of the reason code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResidentIdError {
    #[error("must be 18 characters: 17 digits followed by a digit or X")]
    Format,
    #[error("the check character does not match: the number has a typing error")]
    Checksum,
    #[error("the birth date in the number is not a real date between 1900 and today")]
    BirthDate,
    #[error("the first six digits are not a known administrative division")]
    Region,
    #[error("the holder must be at least {min_age} years old")]
    TooYoung { min_age: u32 },
    #[error("15-digit first-generation numbers are not accepted: use the 18-digit number")]
    LegacyDisabled,
}

impl ResidentIdError {
    pub fn subcode(&self) -> &'static str {
        match self {
            ResidentIdError::Format => "format",
            ResidentIdError::Checksum => "checksum",
            ResidentIdError::BirthDate => "birth_date",
            ResidentIdError::Region => "region",
            ResidentIdError::TooYoung { .. } => "too_young",
            ResidentIdError::LegacyDisabled => "legacy_disabled",
        }
    }
}

/// The ISO 7064 MOD 11-2 check character for 17 ASCII digits, or `None` if any byte is
/// not a digit.
pub fn check_char(body: &[u8]) -> Option<u8> {
    if body.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (byte, weight) in body.iter().zip(WEIGHTS) {
        if !byte.is_ascii_digit() {
            return None;
        }
        sum += u32::from(byte - b'0') * weight;
    }
    CHECK_CHARS.get((sum % 11) as usize).copied()
}

/// Validates `input` (no surrounding whitespace is tolerated: the upstream receives the
/// very same string). Checks run in order format, legacy, checksum, region, birth date,
/// age, and the first failure is reported.
pub fn validate_resident_id(
    input: &str,
    today: Date,
    options: &ResidentIdOptions,
    divisions: &Divisions,
) -> Result<ResidentId, ResidentIdError> {
    let bytes = input.as_bytes();
    let (canonical, upgraded) = match bytes.len() {
        18 => (canonical_18(bytes)?, false),
        15 if bytes.iter().all(u8::is_ascii_digit) => {
            if !options.allow_legacy_15 {
                return Err(ResidentIdError::LegacyDisabled);
            }
            (upgrade_15(bytes)?, true)
        }
        _ => return Err(ResidentIdError::Format),
    };
    let digits = canonical.as_bytes();
    if check_char(&digits[..17]) != Some(digits[17]) {
        return Err(ResidentIdError::Checksum);
    }
    let region = digits_value(&digits[..6]);
    let kind = match region {
        810_000 => IdKind::HongKongPermit,
        820_000 => IdKind::MacauPermit,
        830_000 => IdKind::TaiwanPermit,
        // A province's own code (`110000`) heads the division list but is never issued: numbers carry a
        // county's code, or a city's where the city has no counties (`441900`, Dongguan).
        _ if region % 10_000 == 0 => return Err(ResidentIdError::Region),
        _ if divisions.contains(region) => IdKind::Mainland,
        _ => return Err(ResidentIdError::Region),
    };
    debug_assert!(kind == IdKind::Mainland || RESIDENCE_PERMIT_PREFIXES.contains(&region));
    let birth_date = birth_date(&digits[6..14]).ok_or(ResidentIdError::BirthDate)?;
    if birth_date.year() < EARLIEST_BIRTH_YEAR || birth_date > today {
        return Err(ResidentIdError::BirthDate);
    }
    if options.min_age > 0 && birth_date.years_until(today) < options.min_age {
        return Err(ResidentIdError::TooYoung {
            min_age: options.min_age,
        });
    }
    Ok(ResidentId {
        canonical,
        birth_date,
        kind,
        upgraded_from_15: upgraded,
    })
}

/// 17 digits then a digit or `X`/`x`; `X` anywhere else is a format error.
fn canonical_18(bytes: &[u8]) -> Result<String, ResidentIdError> {
    let (body, last) = bytes.split_at(17);
    if !body.iter().all(u8::is_ascii_digit) {
        return Err(ResidentIdError::Format);
    }
    let last = match last.first() {
        Some(b) if b.is_ascii_digit() => *b,
        Some(b'X' | b'x') => b'X',
        _ => return Err(ResidentIdError::Format),
    };
    let mut out = String::with_capacity(18);
    out.extend(body.iter().map(|b| char::from(*b)));
    out.push(char::from(last));
    Ok(out)
}

/// Upgrades a first-generation number: `19` is inserted before the 2-digit year (the
/// cards were issued 1984-2004 to people born in the 1900s) and the check character is
/// computed.
fn upgrade_15(bytes: &[u8]) -> Result<String, ResidentIdError> {
    let mut body = Vec::with_capacity(17);
    body.extend_from_slice(&bytes[..6]);
    body.extend_from_slice(b"19");
    body.extend_from_slice(&bytes[6..]);
    let check = check_char(&body).ok_or(ResidentIdError::Format)?;
    body.push(check);
    String::from_utf8(body).map_err(|_| ResidentIdError::Format)
}

fn birth_date(digits: &[u8]) -> Option<Date> {
    let year = i32::try_from(digits_value(digits.get(..4)?)).ok()?;
    let month = digits_value(digits.get(4..6)?);
    let day = digits_value(digits.get(6..8)?);
    Date::new(year, month, day)
}

/// Decimal value of ASCII digits already checked to be digits.
fn digits_value(digits: &[u8]) -> u32 {
    digits.iter().fold(0u32, |acc, b| {
        acc * 10 + u32::from(b.wrapping_sub(b'0') % 10)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> Date {
        Date::new(2026, 11, 29).unwrap()
    }

    fn check(input: &str, options: ResidentIdOptions) -> Result<ResidentId, ResidentIdError> {
        validate_resident_id(input, today(), &options, Divisions::embedded())
    }

    /// Appends the computed check character to 17 digits.
    fn with_check(body: &str) -> String {
        let c = check_char(body.as_bytes()).unwrap();
        format!("{body}{}", char::from(c))
    }

    #[test]
    fn published_and_computed_samples_pass() {
        let default = ResidentIdOptions::default();
        // GB 11643-1999 appendix example, and the same with a lower-case x.
        for ok in [
            "11010519491231002X",
            "11010519491231002x",
            "110101199003070011", // from the masking example; checksum-correct
            "440305200002290010", // leap day
            "810000199001010019", // Hong Kong residence permit
            "820000198506150022", // Macau residence permit
            "830000200101010015", // Taiwan residence permit
        ] {
            let id = check(ok, default).unwrap_or_else(|e| panic!("{ok}: {e:?}"));
            assert_eq!(id.canonical(), ok.to_ascii_uppercase());
        }
        assert_eq!(
            check("11010519491231002X", default).unwrap().birth_date(),
            Date::new(1949, 12, 31).unwrap()
        );
        assert_eq!(
            check("810000199001010019", default).unwrap().kind(),
            IdKind::HongKongPermit
        );
    }

    #[test]
    fn invalid_numbers_get_their_subcode() {
        use ResidentIdError::*;
        let default = ResidentIdOptions::default();
        let cases: Vec<(String, ResidentIdError)> = vec![
            ("".into(), Format),
            ("11010519491231002".into(), Format),
            ("11010519491231002XX".into(), Format),
            ("X10105194912310020".into(), Format),
            ("1101051949123100X2".into(), Format),
            (" 11010519491231002X".into(), Format),
            ("１１０１０５１９４９１２３１００２Ｘ".into(), Format),
            ("110105194912310021".into(), Checksum),
            ("11010519491231002Y".into(), Format),
            ("110105194912310020".into(), Checksum),
            (with_check("99010519491231002"), Region),
            (with_check("11019919491231002"), Region),
            (with_check("71000019491231002"), Region),
            (with_check("11000019900101001"), Region),
            (with_check("44000019900101001"), Region),
            (with_check("11010519490230002"), BirthDate),
            (with_check("11010519491301002"), BirthDate),
            (with_check("11010518991231002"), BirthDate),
            (with_check("11010520261130002"), BirthDate),
            (with_check("11010519000229002"), BirthDate),
            ("110105491231002".into(), LegacyDisabled),
        ];
        for (input, want) in cases {
            assert_eq!(check(&input, default), Err(want), "{input}");
        }
    }

    #[test]
    fn minimum_age_counts_whole_years() {
        let adult = ResidentIdOptions {
            min_age: 18,
            ..Default::default()
        };
        assert!(check(&with_check("11010520081129001"), adult).is_ok());
        assert_eq!(
            check(&with_check("11010520081130001"), adult),
            Err(ResidentIdError::TooYoung { min_age: 18 })
        );
        // Born today is allowed without a minimum age.
        assert!(check(
            &with_check("11010520261129001"),
            ResidentIdOptions::default()
        )
        .is_ok());
    }

    #[test]
    fn legacy_15_digit_numbers_are_upgraded_when_enabled() {
        let legacy = ResidentIdOptions {
            allow_legacy_15: true,
            ..Default::default()
        };
        let id = check("110105491231002", legacy).unwrap();
        assert_eq!(id.canonical(), "11010519491231002X");
        assert!(id.upgraded_from_15());
        assert_eq!(
            check("990105491231002", legacy),
            Err(ResidentIdError::Region)
        );
        assert_eq!(
            check("110105490231002", legacy),
            Err(ResidentIdError::BirthDate)
        );
        assert_eq!(
            check("11010549123100X", legacy),
            Err(ResidentIdError::Format)
        );
    }

    fn valid_body() -> impl Strategy<Value = String> {
        let regions = [
            "110101", "110105", "310104", "440305", "510107", "650102", "810000", "830000",
        ];
        (
            proptest::sample::select(regions.to_vec()),
            1900i32..=2026,
            1u32..=12,
            1u32..=28,
            0u32..1000,
        )
            .prop_filter("not after today", |(_, y, m, d, _)| {
                Date::new(*y, *m, *d).is_some_and(|date| date <= today())
            })
            .prop_map(|(r, y, m, d, seq)| format!("{r}{y:04}{m:02}{d:02}{seq:03}"))
    }

    proptest! {
        #[test]
        fn any_valid_body_with_its_check_char_passes(body in valid_body()) {
            let id = with_check(&body);
            prop_assert!(check(&id, ResidentIdOptions::default()).is_ok(), "{}", id);
        }

        #[test]
        fn any_single_digit_change_fails_the_checksum(
            body in valid_body(), pos in 0usize..17, delta in 1u8..10,
        ) {
            let mut id = with_check(&body).into_bytes();
            id[pos] = b'0' + (id[pos] - b'0' + delta) % 10;
            let id = String::from_utf8(id).unwrap();
            prop_assert_eq!(
                check(&id, ResidentIdOptions::default()),
                Err(ResidentIdError::Checksum)
            );
        }

        #[test]
        fn any_wrong_check_char_fails(body in valid_body(), wrong in 0usize..11) {
            let right = check_char(body.as_bytes()).unwrap();
            let wrong = CHECK_CHARS[wrong];
            prop_assume!(wrong != right);
            let id = format!("{body}{}", char::from(wrong));
            prop_assert_eq!(
                check(&id, ResidentIdOptions::default()),
                Err(ResidentIdError::Checksum)
            );
        }

        #[test]
        fn arbitrary_input_never_panics(s in "\\PC{0,24}") {
            let _ = check(&s, ResidentIdOptions { allow_legacy_15: true, min_age: 18 });
        }
    }
}
