//! The approved-publisher list formats, parsed strictly with `line:column` errors.
//!
//! - TOML (`conf/publishers.toml`): `[[publisher]]` tables with `account_id` and
//!   `categories`; unknown keys are errors.
//! - CSV, one account per line: `account_id,category[;category...]`. Blank lines and
//!   lines starting with `#` are skipped, as is a first line `account_id,categories`.
//!   Fields are trimmed; quoting is not supported (ids and category names need none).
//!
//! Duplicate accounts, empty ids and empty category lists are errors rather than
//! silently approving nobody — or somebody — by accident.

use super::set::{PublisherSet, PublisherSetBuilder, SetError};
use serde::Deserialize;
use toml::Spanned;

/// A problem in a list, at a 1-based line and column (in characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl ParseError {
    fn at(text: &str, offset: usize, message: impl Into<String>) -> Self {
        let (line, column) = line_column(text, offset);
        ParseError {
            line,
            column,
            message: message.into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlDoc {
    #[serde(default)]
    publisher: Vec<TomlPublisher>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlPublisher {
    account_id: Spanned<String>,
    categories: Spanned<Vec<String>>,
}

/// Parses the TOML format.
pub fn parse_toml(text: &str) -> Result<PublisherSet, ParseError> {
    let doc: TomlDoc = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        ParseError::at(text, offset, e.message().trim_end())
    })?;
    let mut builder = PublisherSetBuilder::with_capacity(doc.publisher.len());
    for entry in &doc.publisher {
        let categories = entry.categories.get_ref().iter().map(String::as_str);
        builder
            .insert(entry.account_id.get_ref(), categories)
            .map_err(|err| {
                let span = match err {
                    SetError::EmptyCategories(_) | SetError::TooManyCategories => {
                        entry.categories.span()
                    }
                    _ => entry.account_id.span(),
                };
                ParseError::at(text, span.start, err.to_string())
            })?;
    }
    Ok(builder.build())
}

/// Parses the CSV format.
pub fn parse_csv(text: &str) -> Result<PublisherSet, ParseError> {
    let mut builder = PublisherSetBuilder::with_capacity(text.len() / 32);
    let mut first_data_line = true;
    for (index, raw_line) in text.split('\n').enumerate() {
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let is_header = first_data_line && trimmed.eq_ignore_ascii_case("account_id,categories");
        first_data_line = false;
        if is_header {
            continue;
        }
        let err = |column_offset: usize, message: String| ParseError {
            line: index + 1,
            column: line[..column_offset].chars().count() + 1,
            message,
        };
        if let Some(quote) = line.find('"') {
            return Err(err(quote, "quoted fields are not supported".into()));
        }
        let Some(comma) = line.find(',') else {
            return Err(err(
                line.len(),
                "expected `account_id,category[;category]`".into(),
            ));
        };
        let (id_field, rest) = (&line[..comma], &line[comma + 1..]);
        if let Some(extra) = rest.find(',') {
            return Err(err(
                comma + 1 + extra,
                "one comma per line: separate categories with `;`".into(),
            ));
        }
        let id_at = comma_free_start(line, 0);
        let categories = rest.split(';').map(str::trim);
        builder
            .insert(id_field.trim(), categories)
            .map_err(|e| match e {
                SetError::EmptyCategories(_) | SetError::TooManyCategories => {
                    err(comma + 1, e.to_string())
                }
                _ => err(id_at, e.to_string()),
            })?;
    }
    Ok(builder.build())
}

/// Byte offset of the first non-space character at or after `from`.
fn comma_free_start(line: &str, from: usize) -> usize {
    from + (line[from..].len() - line[from..].trim_start().len())
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut cut = offset.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let before = &text[..cut];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shipped_toml() {
        let shipped = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/publishers.toml"),
        )
        .unwrap();
        let set = parse_toml(&shipped).unwrap();
        assert_eq!(set.len(), 1);
        assert!(set.allows("u-xinhua", "political_news"));
    }

    #[test]
    fn toml_errors_have_positions() {
        let dup = "[[publisher]]\naccount_id = \"u-a\"\ncategories = [\"x\"]\n\n[[publisher]]\naccount_id = \"u-a\"\ncategories = [\"y\"]\n";
        let e = parse_toml(dup).unwrap_err();
        assert_eq!((e.line, e.column), (6, 14), "{e}");
        assert!(e.message.contains("duplicate"), "{e}");
        let e = parse_toml("[[publisher]]\naccount_id = \"u-a\"\ncategories = []\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        let e =
            parse_toml("[[publisher]]\naccount_id = \"u-a\"\ncategories = [\"x\"]\nextra = 1\n")
                .unwrap_err();
        assert!(e.message.contains("extra") && e.line == 4, "{e}");
        let e =
            parse_toml("[[publisher]]\naccount_id = \"u-a\"\ncategories = [\"x\"\n").unwrap_err();
        assert!(e.line >= 3, "{e}");
        assert!(parse_toml("# nobody\n").unwrap().is_empty());
    }

    #[test]
    fn parses_csv() {
        let text = "# approved\naccount_id,categories\nu-xinhua,political_news\r\n\n u-multi , finance ; political_news\n";
        let set = parse_csv(text).unwrap();
        assert_eq!(set.len(), 2);
        assert!(set.allows("u-multi", "finance") && set.allows("u-multi", "political_news"));
    }

    #[test]
    fn csv_errors_have_positions() {
        let e = parse_csv("u-a,x\nu-b\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 4), "{e}");
        let e = parse_csv("u-a,x\nu-a,y\n").unwrap_err();
        assert_eq!(
            (e.line, e.column, e.message.contains("duplicate")),
            (2, 1, true),
            "{e}"
        );
        let e = parse_csv("u-a,x,y\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 6), "{e}");
        let e = parse_csv("u-a,  \n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 5), "{e}");
        let e = parse_csv("\"u-a\",x\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 1), "{e}");
        // A header is only skipped on the first line; later it is data like any other.
        assert_eq!(
            parse_csv("u-a,x\naccount_id,categories\n").unwrap().len(),
            2
        );
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncdé f", 8), (2, 5));
        assert_eq!(line_column("", 3), (1, 1));
    }
}
