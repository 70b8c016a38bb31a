//! Human-readable durations (`"30s"`, `"250ms"`) and sizes (`"64KiB"`, `"1MiB"`) in TOML.
//!
//! Both parse during deserialisation, so a bad value is reported at its own line and
//! column by the TOML parser.

use serde::{Deserialize, Deserializer};
use std::time::Duration;

/// A duration written as a string such as `"2s"`, `"250ms"`, `"1m 30s"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text)
            .map(HumanDuration)
            .map_err(|e| {
                serde::de::Error::custom(format!(
                    "invalid duration `{text}` ({e}); write e.g. \"250ms\", \"2s\", \"1m\""
                ))
            })
    }
}

/// A byte size written as a string such as `"64KiB"`, `"1MiB"`, `"512"` (bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.trim()
            .parse::<bytesize::ByteSize>()
            .map(|b| ByteSize(b.as_u64()))
            .map_err(|e| {
                serde::de::Error::custom(format!(
                    "invalid size `{text}` ({e}); write e.g. \"64KiB\", \"1MiB\", \"4096\""
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        d: HumanDuration,
        s: ByteSize,
    }

    #[test]
    fn parses_human_units() {
        let t: T = toml::from_str("d = \"250ms\"\ns = \"64KiB\"").unwrap();
        assert_eq!(t.d.0, Duration::from_millis(250));
        assert_eq!(t.s.0, 65536);
        let t: T = toml::from_str("d = \"1m 30s\"\ns = \"1MiB\"").unwrap();
        assert_eq!(t.d.0, Duration::from_secs(90));
        assert_eq!(t.s.0, 1 << 20);
    }

    #[test]
    fn rejects_bad_units_with_the_value() {
        let e = toml::from_str::<T>("d = \"soon\"\ns = \"1KiB\"")
            .err()
            .unwrap();
        assert!(e.to_string().contains("invalid duration `soon`"), "{e}");
        let e = toml::from_str::<T>("d = \"1s\"\ns = \"lots\"")
            .err()
            .unwrap();
        assert!(e.to_string().contains("invalid size `lots`"), "{e}");
    }
}
