//! Lexicon files: weighted terms and phrases, one per line.
//!
//! ```text
//! # comment (whole line)
//! 国务院 | 2.0          # CJK term with weight
//! prime minister | 1.5  # Latin phrase; matched on word boundaries
//! parliament            # weight defaults to 1.0
//! elector*              # trailing `*`: prefix, no word boundary required on the right
//! ```
//! Terms are normalised like the text they are matched against, so traditional characters, full-width letters or
//! upper case in a lexicon are harmless. The weight follows the last `|` of a line; a `#` starts a comment only at
//! the start of a line or after whitespace.

use super::normalize::Normalizer;
use super::BuildError;

/// One lexicon entry after parsing and normalisation.
#[derive(Debug, Clone, PartialEq)]
pub struct LexiconEntry {
    /// The term as written in the file.
    pub term: String,
    /// The normalised pattern matched against normalised text.
    pub pattern: String,
    /// Contribution of this term (counted once per document).
    pub weight: f64,
    /// `true` if the term ended with `*`: no word boundary required after it.
    pub prefix: bool,
    /// File the entry came from (as named in the config) and its 1-based line.
    pub file: String,
    pub line: usize,
}

/// Largest accepted absolute weight: keeps one typo from dominating every score.
pub const MAX_WEIGHT: f64 = 100.0;

/// Strips a trailing comment (`#` at the start or after whitespace).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

/// Parses a weight, reporting the 1-based column of the weight text on failure.
pub(crate) fn parse_weight(
    file: &str,
    line_no: usize,
    column: usize,
    raw: &str,
) -> Result<f64, BuildError> {
    let w: f64 = raw.trim().parse().map_err(|_| BuildError::Syntax {
        file: file.to_string(),
        line: line_no,
        column,
        message: format!("bad weight {:?}: expected a number", raw.trim()),
    })?;
    if !w.is_finite() || w.abs() > MAX_WEIGHT {
        return Err(BuildError::Syntax {
            file: file.to_string(),
            line: line_no,
            column,
            message: format!("weight {w} out of range (|w| <= {MAX_WEIGHT})"),
        });
    }
    Ok(w)
}

/// Parses a lexicon file. Duplicate terms (after normalisation) in one file are an error: they usually mean two
/// people disagreed on a weight.
pub fn parse_lexicon(
    file: &str,
    content: &str,
    norm: &Normalizer,
) -> Result<Vec<LexiconEntry>, BuildError> {
    let mut out: Vec<LexiconEntry> = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (idx, raw_line) in content.lines().enumerate() {
        let line_no = idx + 1;
        let line = strip_comment(raw_line);
        if line.trim().is_empty() {
            continue;
        }
        let (term_part, weight) = match line.rfind('|') {
            Some(bar) => {
                if let Some(first) = line[..bar].find('|') {
                    return Err(BuildError::Syntax {
                        file: file.to_string(),
                        line: line_no,
                        column: raw_line[..first].chars().count() + 1,
                        message: "more than one `|`: a line is `term | weight`".to_owned(),
                    });
                }
                // The column of the weight itself, past the spaces after `|`.
                let after = &line[bar + 1..];
                let pad = after.len() - after.trim_start().len();
                let col = raw_line[..bar + 1 + pad].chars().count() + 1;
                (&line[..bar], parse_weight(file, line_no, col, after)?)
            }
            None => (line, 1.0),
        };
        let term = term_part.trim();
        let (body, prefix) = match term.strip_suffix('*') {
            Some(b) => (b.trim_end(), true),
            None => (term, false),
        };
        let mut pattern = norm.normalize(body).text;
        let trimmed = pattern.trim().to_string();
        pattern = trimmed;
        if pattern.is_empty() {
            let col = raw_line
                .find(|c: char| !c.is_whitespace())
                .map_or(1, |b| raw_line[..b].chars().count() + 1);
            return Err(BuildError::Syntax {
                file: file.to_string(),
                line: line_no,
                column: col,
                message: format!("term {term:?} is empty after normalisation"),
            });
        }
        if let Some(prev) = seen.get(&pattern) {
            return Err(BuildError::Syntax {
                file: file.to_string(),
                line: line_no,
                column: 1,
                message: format!("duplicate term {term:?} (same as line {prev})"),
            });
        }
        seen.insert(pattern.clone(), line_no);
        out.push(LexiconEntry {
            term: term.to_string(),
            pattern,
            weight,
            prefix,
            file: file.to_string(),
            line: line_no,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_terms_weights_comments() {
        let src = "# header\n\n國務院 | 2.5\nPrime  Minister|1.5 # inline\nparliament\nelector* | 0.5\nC# | 1\n";
        let v = parse_lexicon("a.txt", src, &Normalizer::new()).unwrap();
        let pats: Vec<_> = v
            .iter()
            .map(|e| (e.pattern.as_str(), e.weight, e.prefix))
            .collect();
        assert_eq!(
            pats,
            vec![
                ("国务院", 2.5, false),
                ("prime minister", 1.5, false),
                ("parliament", 1.0, false),
                ("elector", 0.5, true),
                ("c#", 1.0, false)
            ]
        );
        assert_eq!(v[0].line, 3);
    }

    #[test]
    fn bad_weight_reports_line_and_column() {
        let src = "a\nb\nminister | heavy\n";
        match parse_lexicon("pol.txt", src, &Normalizer::new()) {
            Err(BuildError::Syntax {
                file, line, column, ..
            }) => {
                // The column of `heavy` itself.
                assert_eq!((file.as_str(), line, column), ("pol.txt", 3, 12));
            }
            other => panic!("unexpected {other:?}"),
        }
        // Two bars: at the first one.
        match parse_lexicon("pol.txt", "国防部 | 2 | 3\n", &Normalizer::new()) {
            Err(BuildError::Syntax {
                line,
                column,
                message,
                ..
            }) => {
                assert_eq!((line, column), (1, 5), "{message}");
                assert!(message.contains("more than one `|`"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(parse_lexicon("x", "a | 1e9\n", &Normalizer::new()).is_err());
        assert!(parse_lexicon("x", "\u{200B} | 1\n", &Normalizer::new()).is_err());
        assert!(parse_lexicon("x", "vote\nVOTE\n", &Normalizer::new()).is_err());
    }
}
