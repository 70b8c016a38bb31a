//! The approved-publisher list format (`conf/publishers.toml`).
//!
//! The demo's approval service and imgate's `file` approval source read the same file, so the
//! format is parsed strictly: unknown keys, empty ids, duplicate ids and empty category lists are
//! errors that point at the offending line and column, rather than silently approving nobody (or
//! somebody) by accident.

use std::collections::HashSet;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// One approved account and the restricted categories it may publish in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Publisher {
    /// The upstream's account id, e.g. `u-xinhua`.
    pub account_id: String,
    /// Restricted category names, e.g. `political_news`.
    pub categories: Vec<String>,
}

/// Why a publisher list could not be used. Positions are 1-based and count characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishersError {
    /// The text is not valid TOML or does not have the expected shape.
    #[error("{line}:{column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// A `[[publisher]]` table has an empty `account_id`.
    #[error("{line}:{column}: account_id must not be empty")]
    EmptyAccountId { line: usize, column: usize },
    /// The same account is listed twice, so its categories would be ambiguous.
    #[error("{line}:{column}: duplicate account_id {account_id:?}")]
    DuplicateAccountId {
        account_id: String,
        line: usize,
        column: usize,
    },
    /// An approval without categories approves nothing and is almost certainly a mistake.
    #[error(
        "{line}:{column}: categories of {account_id:?} must be a non-empty list of non-empty names"
    )]
    EmptyCategories {
        account_id: String,
        line: usize,
        column: usize,
    },
}

/// The list the demo uses when no file is configured; identical to the shipped
/// `conf/publishers.toml` (a test keeps the two in step).
pub const BUILTIN_PUBLISHERS_TOML: &str = r#"[[publisher]]
account_id = "u-xinhua"
categories = ["political_news"]
"#;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    publisher: Vec<Spanned<PublisherDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublisherDoc {
    account_id: Spanned<String>,
    categories: Spanned<Vec<String>>,
}

/// Parses a publisher list, validating it as a whole.
pub fn parse_publishers(text: &str) -> Result<Vec<Publisher>, PublishersError> {
    let doc: FileDoc = toml::from_str(text).map_err(|err| {
        let (line, column) = err
            .span()
            .map_or((1, 1), |span| line_column(text, span.start));
        PublishersError::Syntax {
            line,
            column,
            message: err.message().to_owned(),
        }
    })?;

    let mut seen = HashSet::with_capacity(doc.publisher.len());
    let mut out = Vec::with_capacity(doc.publisher.len());
    for entry in doc.publisher {
        let entry = entry.into_inner();
        let id_span = entry.account_id.span();
        let account_id = entry.account_id.into_inner();
        let at = |span: Range<usize>| line_column(text, span.start);
        if account_id.is_empty() {
            let (line, column) = at(id_span);
            return Err(PublishersError::EmptyAccountId { line, column });
        }
        if !seen.insert(account_id.clone()) {
            let (line, column) = at(id_span);
            return Err(PublishersError::DuplicateAccountId {
                account_id,
                line,
                column,
            });
        }
        let categories_span = entry.categories.span();
        let categories = entry.categories.into_inner();
        if categories.is_empty() || categories.iter().any(String::is_empty) {
            let (line, column) = at(categories_span);
            return Err(PublishersError::EmptyCategories {
                account_id,
                line,
                column,
            });
        }
        out.push(Publisher {
            account_id,
            categories,
        });
    }
    Ok(out)
}

/// The built-in list, parsed.
pub(crate) fn builtin_publishers() -> Vec<Publisher> {
    // The constant is covered by a unit test, so this cannot fail at run time; fall back to an
    // empty list rather than panic all the same.
    parse_publishers(BUILTIN_PUBLISHERS_TOML).unwrap_or_default()
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_matches_the_shipped_file() {
        let shipped = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conf/publishers.toml"),
        );
        // The crate may be built outside the workspace; only compare when the file is there.
        if let Ok(shipped) = shipped {
            assert_eq!(parse_publishers(&shipped), Ok(builtin_publishers()));
        }
        assert_eq!(
            builtin_publishers(),
            vec![Publisher {
                account_id: "u-xinhua".into(),
                categories: vec!["political_news".into()],
            }]
        );
    }

    #[test]
    fn empty_file_is_an_empty_list() {
        assert_eq!(parse_publishers("# nobody\n"), Ok(vec![]));
    }

    #[test]
    fn syntax_error_has_position() {
        let err = parse_publishers("[[publisher]]\naccount_id = \"u-a\"\ncategories = [\"x\"\n")
            .unwrap_err();
        match err {
            PublishersError::Syntax { line, .. } => assert!(line >= 3, "{err}"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_key_is_rejected_with_position() {
        let err = parse_publishers(
            "[[publisher]]\naccount_id = \"u-a\"\ncategories = [\"x\"]\nextra = 1\n",
        )
        .unwrap_err();
        assert!(matches!(err, PublishersError::Syntax { .. }), "{err}");
        assert!(err.to_string().contains("extra"), "{err}");
    }

    #[test]
    fn duplicates_point_at_the_second_entry() {
        let text = "[[publisher]]\naccount_id = \"u-a\"\ncategories = [\"x\"]\n\n[[publisher]]\naccount_id = \"u-a\"\ncategories = [\"y\"]\n";
        assert_eq!(
            parse_publishers(text),
            Err(PublishersError::DuplicateAccountId {
                account_id: "u-a".into(),
                line: 6,
                column: 14,
            })
        );
    }

    #[test]
    fn empty_values_are_rejected() {
        assert_eq!(
            parse_publishers("[[publisher]]\naccount_id = \"\"\ncategories = [\"x\"]\n"),
            Err(PublishersError::EmptyAccountId {
                line: 2,
                column: 14
            })
        );
        assert!(matches!(
            parse_publishers("[[publisher]]\naccount_id = \"u-a\"\ncategories = []\n"),
            Err(PublishersError::EmptyCategories { line: 3, .. })
        ));
        assert!(matches!(
            parse_publishers("[[publisher]]\naccount_id = \"u-a\"\n"),
            Err(PublishersError::Syntax { .. })
        ));
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncdé f", 8), (2, 5));
        assert_eq!(line_column("", 3), (1, 1));
    }
}
