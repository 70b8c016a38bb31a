//! Strict `application/x-www-form-urlencoded` parsing: valid UTF-8 after decoding,
//! repeated fields kept so rules can refuse them.

use percent_encoding::percent_decode;

/// Why a form body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("the form body is not valid UTF-8 after percent-decoding")]
    InvalidUtf8,
}

impl FormError {
    pub fn code(&self) -> &'static str {
        "body.invalid_utf8"
    }
}

/// Decoded form fields in their original order, duplicates included.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormFields {
    pairs: Vec<(String, String)>,
}

impl FormFields {
    /// Parses a form body; `+` is a space, `%XX` a byte, and the decoded bytes must be UTF-8.
    pub fn parse(bytes: &[u8]) -> Result<Self, FormError> {
        let mut pairs = Vec::new();
        for part in bytes.split(|b| *b == b'&') {
            if part.is_empty() {
                continue;
            }
            let (name, value) = match part.iter().position(|b| *b == b'=') {
                Some(i) => (&part[..i], &part[i + 1..]),
                None => (part, &b""[..]),
            };
            pairs.push((decode(name)?, decode(value)?));
        }
        Ok(FormFields { pairs })
    }

    /// The field's value if it appears exactly once, `None` if absent.
    pub fn unique(&self, name: &str) -> Result<Option<&str>, super::RepeatedField> {
        let mut found = None;
        for (k, v) in &self.pairs {
            if k == name {
                if found.is_some() {
                    return Err(super::RepeatedField(name.chars().take(64).collect()));
                }
                found = Some(v.as_str());
            }
        }
        Ok(found)
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

fn decode(raw: &[u8]) -> Result<String, FormError> {
    let replaced: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    let decoded: Vec<u8> = percent_decode(&replaced).collect();
    String::from_utf8(decoded).map_err(|_| FormError::InvalidUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent() {
        let f =
            FormFields::parse(b"real_name=%E5%BC%A0%E4%B8%89&agree=on&x=a+b&empty=&flag").unwrap();
        assert_eq!(f.unique("real_name").unwrap(), Some("张三"));
        assert_eq!(f.unique("x").unwrap(), Some("a b"));
        assert_eq!(f.unique("empty").unwrap(), Some(""));
        assert_eq!(f.unique("flag").unwrap(), Some(""));
        assert_eq!(f.unique("absent").unwrap(), None);
    }

    #[test]
    fn repeated_fields_are_reported() {
        let f = FormFields::parse(b"a=1&a=2&b=3").unwrap();
        assert!(f.unique("a").is_err());
        assert_eq!(f.unique("b").unwrap(), Some("3"));
    }

    #[test]
    fn invalid_utf8_is_refused() {
        assert_eq!(FormFields::parse(b"a=%FF"), Err(FormError::InvalidUtf8));
        assert_eq!(FormFields::parse(b"a=\xff"), Err(FormError::InvalidUtf8));
    }
}
