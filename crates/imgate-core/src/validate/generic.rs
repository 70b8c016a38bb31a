//! Validators for operator-defined fields.
//!
//! Types are strict because the upstream parses types: a JSON string `"true"` is not the
//! boolean `true`, and a JSON number is not a string. Form values are always strings.

use crate::body::FieldValue;
use regex::{Regex, RegexBuilder};

/// Upper bound on a compiled operator pattern, so one config line cannot eat memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Why a value failed a generic validator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenericError {
    #[error("must be a JSON {expected}")]
    Type { expected: &'static str },
    #[error("does not have the required format")]
    Pattern,
    #[error("must be {min} to {max} characters long")]
    Length { min: usize, max: usize },
    #[error("is not one of the allowed values")]
    OneOf,
    #[error("must be true")]
    NotTrue,
    #[error("does not have the required value")]
    NotEqual,
}

impl GenericError {
    pub fn subcode(&self) -> &'static str {
        match self {
            GenericError::Type { .. } => "type",
            GenericError::Pattern => "pattern",
            GenericError::Length { .. } => "length",
            GenericError::OneOf => "one_of",
            GenericError::NotTrue => "not_true",
            GenericError::NotEqual => "not_equal",
        }
    }
}

/// The value as a string: any form value, or a JSON string; other JSON types are a
/// `type` error, never coerced.
pub fn require_str<'a>(value: &FieldValue<'a>) -> Result<&'a str, GenericError> {
    value
        .as_str()
        .ok_or(GenericError::Type { expected: "string" })
}

/// An operator's regular expression, matched against the WHOLE value.
#[derive(Debug, Clone)]
pub struct FullMatch {
    regex: Regex,
    source: String,
}

impl FullMatch {
    /// Compiles `pattern` anchored as `\A(?:pattern)\z`, so `[0-9]+` cannot be satisfied
    /// by a value that merely contains a digit.
    pub fn new(pattern: &str) -> Result<FullMatch, regex::Error> {
        let regex = RegexBuilder::new(&format!(r"\A(?:{pattern})\z"))
            .size_limit(REGEX_SIZE_LIMIT)
            .build()?;
        Ok(FullMatch {
            regex,
            source: pattern.to_owned(),
        })
    }

    pub fn is_match(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }

    /// The pattern as configured (unanchored).
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl PartialEq for FullMatch {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

pub fn check_regex(value: &str, pattern: &FullMatch) -> Result<(), GenericError> {
    if pattern.is_match(value) {
        Ok(())
    } else {
        Err(GenericError::Pattern)
    }
}

/// Length in Unicode scalar values (what a person counts as characters for CJK text).
pub fn check_length(value: &str, min: usize, max: usize) -> Result<(), GenericError> {
    let n = value.chars().count();
    if (min..=max).contains(&n) {
        Ok(())
    } else {
        Err(GenericError::Length { min, max })
    }
}

pub fn check_one_of(value: &str, allowed: &[String]) -> Result<(), GenericError> {
    if allowed.iter().any(|a| a == value) {
        Ok(())
    } else {
        Err(GenericError::OneOf)
    }
}

/// JSON: exactly the boolean `true`. Form: one of `accepted_values` (e.g. `1`, `on`).
pub fn check_boolean_true(
    value: &FieldValue<'_>,
    accepted_values: &[String],
) -> Result<(), GenericError> {
    match value {
        FieldValue::Json(serde_json::Value::Bool(true)) => Ok(()),
        FieldValue::Json(serde_json::Value::Bool(false)) => Err(GenericError::NotTrue),
        FieldValue::Json(_) => Err(GenericError::Type {
            expected: "boolean",
        }),
        FieldValue::Form(s) if accepted_values.iter().any(|a| a == s) => Ok(()),
        FieldValue::Form(_) | FieldValue::Missing => Err(GenericError::NotTrue),
    }
}

/// JSON: equal in type and value to `expected`. Form: equal to `expected`, which must be
/// a string (the rule compiler refuses anything else for form bodies).
pub fn check_equals(
    value: &FieldValue<'_>,
    expected: &serde_json::Value,
) -> Result<(), GenericError> {
    match value {
        FieldValue::Json(v) if *v == expected => Ok(()),
        FieldValue::Json(v) if json_type(v) != json_type(expected) => Err(GenericError::Type {
            expected: json_type(expected),
        }),
        FieldValue::Form(s) if expected.as_str() == Some(*s) => Ok(()),
        _ => Err(GenericError::NotEqual),
    }
}

/// The JSON type name used in `type` errors.
pub fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn regex_is_a_full_match() {
        let p = FullMatch::new("[a-z]{3,8}").unwrap();
        for (v, ok) in [
            ("abc", true),
            ("abcdefgh", true),
            ("ab", false),
            ("abc1", false),
            ("1abc", false),
            ("abc\n", false),
        ] {
            assert_eq!(check_regex(v, &p).is_ok(), ok, "{v:?}");
        }
        // Alternation is grouped, so anchoring covers every branch.
        let alt = FullMatch::new("a|b").unwrap();
        assert!(
            alt.is_match("a") && alt.is_match("b") && !alt.is_match("ab") && !alt.is_match("xa")
        );
        assert!(FullMatch::new("(").is_err());
        assert!(FullMatch::new("a{1000}{1000}").is_err());
    }

    #[test]
    fn strict_types() {
        let s = json!("true");
        let t = json!(true);
        let f = json!(false);
        let n = json!(5);
        let accepted = vec!["1".to_string(), "on".to_string()];
        assert_eq!(check_boolean_true(&FieldValue::Json(&t), &accepted), Ok(()));
        assert_eq!(
            check_boolean_true(&FieldValue::Json(&f), &accepted),
            Err(GenericError::NotTrue)
        );
        assert_eq!(
            check_boolean_true(&FieldValue::Json(&s), &accepted),
            Err(GenericError::Type {
                expected: "boolean"
            })
        );
        assert_eq!(
            check_boolean_true(&FieldValue::Form("on"), &accepted),
            Ok(())
        );
        assert_eq!(
            check_boolean_true(&FieldValue::Form("true"), &accepted),
            Err(GenericError::NotTrue)
        );
        assert_eq!(
            require_str(&FieldValue::Json(&n)),
            Err(GenericError::Type { expected: "string" })
        );
        assert_eq!(require_str(&FieldValue::Form("5")), Ok("5"));
        assert_eq!(check_equals(&FieldValue::Json(&t), &json!(true)), Ok(()));
        assert_eq!(
            check_equals(&FieldValue::Json(&s), &json!(true)),
            Err(GenericError::Type {
                expected: "boolean"
            })
        );
        assert_eq!(
            check_equals(&FieldValue::Json(&f), &json!(true)),
            Err(GenericError::NotEqual)
        );
        assert_eq!(check_equals(&FieldValue::Form("x"), &json!("x")), Ok(()));
        assert_eq!(
            check_equals(&FieldValue::Form("1"), &json!(1)),
            Err(GenericError::NotEqual)
        );
    }

    #[test]
    fn length_and_one_of() {
        assert_eq!(check_length("张三", 2, 2), Ok(()));
        assert_eq!(
            check_length("abc", 1, 2),
            Err(GenericError::Length { min: 1, max: 2 })
        );
        let allowed = vec!["a".to_string(), "b".to_string()];
        assert_eq!(check_one_of("a", &allowed), Ok(()));
        assert_eq!(check_one_of("A", &allowed), Err(GenericError::OneOf));
    }

    proptest! {
        #[test]
        fn length_counts_chars(s in "\\PC{0,20}", min in 0usize..10, extra in 0usize..10) {
            let n = s.chars().count();
            let max = min + extra;
            prop_assert_eq!(check_length(&s, min, max).is_ok(), n >= min && n <= max);
        }

        #[test]
        fn digits_pattern_matches_only_digits(s in "\\PC{0,12}") {
            let p = FullMatch::new("[0-9]+").unwrap();
            prop_assert_eq!(p.is_match(&s), !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
