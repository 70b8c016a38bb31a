//! Mainland China mobile numbers and international E.164 numbers.
//!
//! Clients type numbers in many spellings (`138 1234 5678`, `+86-138-1234-5678`,
//! `008613812345678`), so separators and the country prefix are stripped before the
//! check; the canonical 11-digit form is what hashing and masking use. Only spaces and
//! ASCII hyphens are separators: anything else (brackets, dots, full-width digits) is a
//! format error rather than a guess.

/// Mainland mobile prefixes allocated by MIIT for 11-digit subscriber numbers.
///
/// Checked against libphonenumber's CN `mobile` pattern (see `data/PROVENANCE.md`),
/// plus the data-SIM segments 146, 148 and 149. Prefixes may be 3 to 5 digits long:
/// 174 is only partly allocated (1740x satellite service), 1610 is a new segment.
pub const DEFAULT_MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", // 13x
    "145", "146", "147", "148", "149", // 14[5-9]
    "150", "151", "152", "153", "155", "156", "157", "158", "159", // 15[0-35-9]
    "1610", "162", "165", "166", "167", // 16[2567] (+1610)
    "170", "171", "172", "173", "17400", "17401", "17402", "17403", "17404", "17405", "175", "176",
    "177", "178", // 17[0-35-8] (+1740[0-5])
    "180", "181", "182", "183", "184", "185", "186", "187", "188", "189", // 18x
    "190", "191", "192", "193", "195", "196", "197", "198", "199", // 19[0-35-9]
];

/// Why a configured prefix list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixListError {
    #[error("the prefix list is empty")]
    Empty,
    #[error("prefix #{index} must be 2 to 10 ASCII digits starting with 1")]
    Invalid { index: usize },
}

/// The prefixes a mainland mobile number must start with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobilePrefixes {
    prefixes: Vec<String>,
}

impl Default for MobilePrefixes {
    fn default() -> Self {
        MobilePrefixes {
            prefixes: DEFAULT_MOBILE_PREFIXES
                .iter()
                .map(|p| p.to_string())
                .collect(),
        }
    }
}

impl MobilePrefixes {
    /// An operator's list (e.g. from config), replacing the default table.
    pub fn new<I, S>(prefixes: I) -> Result<MobilePrefixes, PrefixListError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out = Vec::new();
        for (index, p) in prefixes.into_iter().enumerate() {
            let p = p.as_ref();
            let ok = (2..=10).contains(&p.len())
                && p.starts_with('1')
                && p.bytes().all(|b| b.is_ascii_digit());
            if !ok {
                return Err(PrefixListError::Invalid { index });
            }
            out.push(p.to_owned());
        }
        if out.is_empty() {
            return Err(PrefixListError::Empty);
        }
        Ok(MobilePrefixes { prefixes: out })
    }

    pub fn allows(&self, digits: &str) -> bool {
        self.prefixes.iter().any(|p| digits.starts_with(p.as_str()))
    }
}

/// Why a mobile number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MobileError {
    #[error("must be an 11-digit mainland mobile number, optionally with +86")]
    Format,
    #[error("the number does not start with an allocated mainland mobile prefix")]
    Prefix,
}

impl MobileError {
    pub fn subcode(&self) -> &'static str {
        match self {
            MobileError::Format => "format",
            MobileError::Prefix => "prefix",
        }
    }
}

/// Validates a mainland mobile number and returns its canonical 11 digits.
pub fn validate_cn_mobile(input: &str, prefixes: &MobilePrefixes) -> Result<String, MobileError> {
    let compact = strip_separators(input).ok_or(MobileError::Format)?;
    let national = if let Some(rest) = compact.strip_prefix("+86") {
        rest
    } else if let Some(rest) = compact.strip_prefix("0086") {
        rest
    } else if compact.len() == 13 {
        compact.strip_prefix("86").unwrap_or(&compact)
    } else {
        &compact
    };
    if national.len() != 11 || !national.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MobileError::Format);
    }
    if !national.starts_with('1') {
        return Err(MobileError::Format);
    }
    if !prefixes.allows(national) {
        return Err(MobileError::Prefix);
    }
    Ok(national.to_owned())
}

/// Why an international number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum E164Error {
    #[error("must be an international number: + then 8 to 15 digits, country code first")]
    Format,
}

impl E164Error {
    pub fn subcode(&self) -> &'static str {
        "format"
    }
}

/// Validates an E.164 number (`+`, a country code not starting with 0, 8 to 15 digits
/// in all) and returns it without separators.
pub fn validate_e164(input: &str) -> Result<String, E164Error> {
    let compact = strip_separators(input).ok_or(E164Error::Format)?;
    let digits = compact.strip_prefix('+').ok_or(E164Error::Format)?;
    let ok = (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(compact)
    } else {
        Err(E164Error::Format)
    }
}

/// Removes spaces and hyphens; `None` for an input that is blank or absurdly long
/// (nothing valid is longer than 32 characters even with separators).
fn strip_separators(input: &str) -> Option<String> {
    if input.len() > 32 {
        return None;
    }
    let out: String = input.chars().filter(|c| *c != ' ' && *c != '-').collect();
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn mainland_table() {
        let p = MobilePrefixes::default();
        let ok = [
            ("13812345678", "13812345678"),
            ("138 1234 5678", "13812345678"),
            ("138-1234-5678", "13812345678"),
            ("+8613812345678", "13812345678"),
            ("+86 138 1234 5678", "13812345678"),
            ("008613812345678", "13812345678"),
            ("8613812345678", "13812345678"),
            ("14512345678", "14512345678"),
            ("16612345678", "16612345678"),
            ("16101234567", "16101234567"),
            ("17400123456", "17400123456"),
            ("19912345678", "19912345678"),
            ("19212345678", "19212345678"),
        ];
        for (input, want) in ok {
            assert_eq!(
                validate_cn_mobile(input, &p).as_deref(),
                Ok(want),
                "{input}"
            );
        }
        let bad = [
            ("", MobileError::Format),
            ("1381234567", MobileError::Format),
            ("138123456789", MobileError::Format),
            ("1381234567a", MobileError::Format),
            ("(138)12345678", MobileError::Format),
            ("+85213812345678", MobileError::Format),
            ("+1 4155552671", MobileError::Format),
            ("２３８１２３４５６７８", MobileError::Format),
            ("23812345678", MobileError::Format),
            ("12012345678", MobileError::Prefix),
            ("14012345678", MobileError::Prefix),
            ("15412345678", MobileError::Prefix),
            ("16012345678", MobileError::Prefix),
            ("16312345678", MobileError::Prefix),
            ("17412345678", MobileError::Prefix),
            ("17912345678", MobileError::Prefix),
            ("19412345678", MobileError::Prefix),
            ("11012345678", MobileError::Prefix),
        ];
        for (input, want) in bad {
            assert_eq!(validate_cn_mobile(input, &p), Err(want), "{input}");
        }
    }

    #[test]
    fn configured_prefixes_replace_the_default() {
        let only_138 = MobilePrefixes::new(["138"]).unwrap();
        assert!(validate_cn_mobile("13812345678", &only_138).is_ok());
        assert_eq!(
            validate_cn_mobile("13912345678", &only_138),
            Err(MobileError::Prefix)
        );
        assert_eq!(
            MobilePrefixes::new(Vec::<String>::new()),
            Err(PrefixListError::Empty)
        );
        assert_eq!(
            MobilePrefixes::new(["138", "2"]),
            Err(PrefixListError::Invalid { index: 1 })
        );
        assert_eq!(
            MobilePrefixes::new(["13a"]),
            Err(PrefixListError::Invalid { index: 0 })
        );
    }

    #[test]
    fn e164_table() {
        for ok in [
            "+14155552671",
            "+44 7911 123456",
            "+8613812345678",
            "+85291234567",
        ] {
            assert!(validate_e164(ok).is_ok(), "{ok}");
        }
        assert_eq!(validate_e164("+44 7911 123456").unwrap(), "+447911123456");
        for bad in [
            "14155552671",
            "+0123456789",
            "+1234567",
            "+1234567890123456",
            "+1415555267a",
            "+",
            "",
        ] {
            assert_eq!(validate_e164(bad), Err(E164Error::Format), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_allocated_prefix_with_digits_passes(
            prefix in proptest::sample::select(DEFAULT_MOBILE_PREFIXES.to_vec()),
            rest in "[0-9]{8}",
        ) {
            let number: String = format!("{prefix}{rest}").chars().take(11).collect();
            let p = MobilePrefixes::default();
            prop_assert_eq!(validate_cn_mobile(&number, &p), Ok(number.clone()));
            prop_assert_eq!(validate_cn_mobile(&format!("+86 {number}"), &p), Ok(number));
        }

        #[test]
        fn wrong_lengths_are_format_errors(n in "1[0-9]{0,9}|1[0-9]{11,14}") {
            prop_assume!(n.len() != 13 || !n.starts_with("86"));
            prop_assert_eq!(
                validate_cn_mobile(&n, &MobilePrefixes::default()),
                Err(MobileError::Format)
            );
        }

        #[test]
        fn e164_accepts_its_whole_range(cc in "[1-9]", rest in "[0-9]{7,14}") {
            let n = format!("+{cc}{rest}");
            prop_assert_eq!(validate_e164(&n), Ok(n.clone()));
        }
    }
}
