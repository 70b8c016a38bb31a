//! Human-readable durations (`"250ms"`, `"5s"`, `"1m"`) in lookup specs.
//!
//! The config layer has its own wrapper type; lookups sit below it and keep their own
//! small deserializer so the dependency points one way only.

use serde::{Deserialize, Deserializer};
use std::time::Duration;

/// `#[serde(deserialize_with = "duration::parse")]`
pub(crate) fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    humantime::parse_duration(&text).map_err(|e| {
        serde::de::Error::custom(format!(
            "invalid duration `{text}` ({e}); write e.g. \"250ms\", \"2s\", \"1m\""
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        #[serde(deserialize_with = "parse")]
        d: Duration,
    }

    #[test]
    fn parses_and_rejects() {
        let t: T = toml::from_str("d = \"250ms\"").unwrap();
        assert_eq!(t.d, Duration::from_millis(250));
        let e = toml::from_str::<T>("d = \"soon\"").err().unwrap();
        assert!(e.to_string().contains("invalid duration `soon`"), "{e}");
    }
}
