//! Strict JSON: one value per key, valid UTF-8, no lone surrogates, an object on top.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Why a JSON body was refused. Messages carry positions, never field values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    #[error("the body is not valid UTF-8 (byte {offset})")]
    InvalidUtf8 { offset: usize },
    #[error("the body is not valid JSON: {detail}")]
    Syntax { detail: String },
    #[error("the JSON object has the key `{key}` more than once")]
    DuplicateKey { key: String },
    #[error("the top-level JSON value must be an object")]
    NotAnObject,
    #[error("the JSON body nests deeper than {limit} levels; send a flatter document")]
    TooDeep { limit: usize },
}

/// Deepest nesting of arrays and objects accepted in an inspected request body. Well
/// below the marker's limit ([`crate::mark::MAX_DEPTH`]): what a client stores comes back
/// a few levels deeper inside the responses the gateway marks (an account inside a post
/// inside a timeline), and a stored value the marker cannot walk would turn every such
/// response into an error for everyone.
pub const MAX_DEPTH: usize = 64;

impl JsonError {
    /// Stable reason code for the error envelope.
    pub fn code(&self) -> &'static str {
        match self {
            JsonError::InvalidUtf8 { .. } => "body.invalid_utf8",
            JsonError::Syntax { .. } => "body.malformed_json",
            JsonError::DuplicateKey { .. } => "body.duplicate_key",
            JsonError::NotAnObject => "body.not_an_object",
            JsonError::TooDeep { .. } => "body.too_deep",
        }
    }
}

/// Parses `bytes` as a JSON object, refusing duplicate keys at any depth.
pub fn parse_strict_object(bytes: &[u8]) -> Result<Value, JsonError> {
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(JsonError::InvalidUtf8 {
            offset: e.valid_up_to(),
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = match de.deserialize_any(StrictVisitor { depth: 0 }) {
        Ok(v) => v,
        Err(e) => return Err(classify_error(e)),
    };
    de.end().map_err(classify_error)?;
    match value {
        Value::Object(_) => Ok(value),
        _ => Err(JsonError::NotAnObject),
    }
}

const DUPLICATE_PREFIX: &str = "\u{0}duplicate key:";
const TOO_DEEP: &str = "\u{0}too deep";

fn classify_error(e: serde_json::Error) -> JsonError {
    let text = e.to_string();
    if text.starts_with(TOO_DEEP) {
        return JsonError::TooDeep { limit: MAX_DEPTH };
    }
    if let Some(rest) = text.strip_prefix(DUPLICATE_PREFIX) {
        let key = rest.split(" at line ").next().unwrap_or(rest);
        return JsonError::DuplicateKey {
            key: truncate_key(key),
        };
    }
    JsonError::Syntax {
        detail: crate::mask::mask_digits_in(&text).into_owned(),
    }
}

/// Keys are echoed in errors to help the client, but bounded so an attacker-chosen key
/// cannot blow up logs, and masked: a key can be an ID or phone number.
fn truncate_key(key: &str) -> String {
    // Masked whole, then cut: a cut first could leave a number too short to be masked.
    crate::mask::mask_digits_in(key).chars().take(64).collect()
}

/// The visitor of a value with `depth` containers open around it.
#[derive(Clone, Copy)]
struct StrictVisitor {
    depth: usize,
}

impl StrictVisitor {
    /// The visitor of a container's members or elements.
    fn inner<E: de::Error>(self) -> Result<StrictVisitor, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(TOO_DEEP));
        }
        Ok(StrictVisitor {
            depth: self.depth + 1,
        })
    }
}

impl<'de> de::DeserializeSeed<'de> for StrictVisitor {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.inner()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.inner()?;
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!("{DUPLICATE_PREFIX}{key}")));
            }
            let value = map.next_value_seed(inner)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_plain_object() {
        let v = parse_strict_object(br#"{"a":1,"b":{"c":[1,2,{"d":null}]}}"#).unwrap();
        assert_eq!(v["b"]["c"][2]["d"], Value::Null);
    }

    #[test]
    fn refuses_duplicate_keys_at_any_depth() {
        for body in [
            &br#"{"a":1,"a":2}"#[..],
            br#"{"x":{"a":1,"a":2}}"#,
            br#"{"x":[{"a":1,"a":2}]}"#,
            br#"{"a":1,"\u0061":2}"#,
        ] {
            assert!(
                matches!(parse_strict_object(body), Err(JsonError::DuplicateKey { ref key }) if key == "a"),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn nesting_is_bounded_below_the_markers_limit() {
        let nested = |levels: usize| {
            // The top-level object is the first level.
            format!(
                "{{\"a\":{}1{}}}",
                "[".repeat(levels - 1),
                "]".repeat(levels - 1)
            )
        };
        assert!(parse_strict_object(nested(MAX_DEPTH).as_bytes()).is_ok());
        assert_eq!(
            parse_strict_object(nested(MAX_DEPTH + 1).as_bytes()),
            Err(JsonError::TooDeep { limit: MAX_DEPTH })
        );
        assert_eq!(
            parse_strict_object(nested(100_000).as_bytes()),
            Err(JsonError::TooDeep { limit: MAX_DEPTH })
        );
        const { assert!(MAX_DEPTH + 8 <= crate::mark::MAX_DEPTH) };
    }

    #[test]
    fn a_duplicate_key_that_is_a_number_is_echoed_masked() {
        let err = parse_strict_object(br#"{"11010519491231002X":1,"11010519491231002X":2}"#)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("110105********002X"), "{err}");
        assert!(!err.contains("11010519491231002X"), "{err}");
        // Cut to 64 characters only after masking: the cut must not shorten a number
        // below what masking recognises.
        let key = format!("{}13912345679", "a".repeat(55));
        let err = parse_strict_object(format!(r#"{{"{key}":1,"{key}":2}}"#).as_bytes())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("aaa139****"), "{err}");
        assert!(!err.contains("1391234"), "{err}");
    }

    #[test]
    fn refuses_non_objects_invalid_utf8_and_lone_surrogates() {
        assert_eq!(parse_strict_object(b"[1]"), Err(JsonError::NotAnObject));
        assert_eq!(parse_strict_object(b"\"s\""), Err(JsonError::NotAnObject));
        assert!(matches!(
            parse_strict_object(b"{\"a\":\"\xff\"}"),
            Err(JsonError::InvalidUtf8 { offset: 6 })
        ));
        assert!(matches!(
            parse_strict_object(br#"{"a":"\ud800"}"#),
            Err(JsonError::Syntax { .. })
        ));
        assert!(matches!(
            parse_strict_object(br#"{"a":"\udc00x"}"#),
            Err(JsonError::Syntax { .. })
        ));
        assert!(parse_strict_object(br#"{"a":"\ud83d\ude00"}"#).is_ok());
    }

    #[test]
    fn refuses_trailing_data_and_truncation() {
        assert!(matches!(
            parse_strict_object(br#"{"a":1} x"#),
            Err(JsonError::Syntax { .. })
        ));
        assert!(matches!(
            parse_strict_object(br#"{"a":1"#),
            Err(JsonError::Syntax { .. })
        ));
        assert!(matches!(
            parse_strict_object(b""),
            Err(JsonError::Syntax { .. })
        ));
    }
}
