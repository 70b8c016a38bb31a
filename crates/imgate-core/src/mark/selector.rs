//! The selector language that says which JSON values in a response are account objects.
//!
//! A selector is a path from the document's root, written the way people read a JSON
//! response:
//!
//! | selector | selects |
//! | --- | --- |
//! | `account` | the value of the root object's `account` member |
//! | `post.author` | `author` inside `post` |
//! | `posts[*].author` | `author` of every element of the `posts` array |
//! | `rooms.*.timeline.events[*]` | every event of every room, whatever the room's key |
//! | `[*]` / `[*].author` | the elements of a top-level array / their `author` |
//! | `["weird.key"].id` | a key that contains `.`, `[`, `]`, `*`, `"` or spaces |
//! | `$` | the root value itself (`$.account` is the same as `account`) |
//!
//! `[*]` only walks arrays and `*` only walks object members: a selector says what shape
//! it expects, so a response of an unexpected shape selects nothing rather than
//! something surprising. Quoted keys use JSON string syntax (`["a\"b"]`, `["\u00e9"]`).
//!
//! Parse errors carry the 1-based column (in characters) so the config layer can point
//! at the exact spot in the TOML string.

use std::fmt;

/// One step of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// An object member with this exact (unescaped) key.
    Key(String),
    /// Every member value of an object (`*`).
    AnyMember,
    /// Every element of an array (`[*]`).
    AnyElement,
}

/// A parsed selector: the steps from the root to the selected values.
///
/// An empty step list (written `$`) selects the root value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    steps: Vec<Step>,
}

/// Why a selector string is not valid, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {kind}")]
pub struct SelectorError {
    /// 1-based column, counted in characters, of the offending character (or one past
    /// the end when the selector stops too early).
    pub column: usize,
    /// What is wrong there.
    pub kind: SelectorErrorKind,
}

/// The kinds of selector syntax errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorErrorKind {
    #[error("the selector is empty")]
    Empty,
    #[error("expected a key, `*` or `[`")]
    ExpectedStep,
    #[error("expected a key or `*` after `.`")]
    ExpectedKeyAfterDot,
    #[error("expected `*` or a quoted key after `[`")]
    ExpectedBracketContent,
    #[error("expected `]`")]
    ExpectedCloseBracket,
    #[error("expected `.`, `[` or the end of the selector")]
    ExpectedSeparator,
    #[error("the quoted key is not terminated")]
    UnterminatedQuote,
    #[error("the quoted key is not a valid JSON string")]
    InvalidQuotedKey,
    #[error("unexpected character `{0}`; quote keys like [\"such keys\"]")]
    UnexpectedChar(char),
}

impl Selector {
    /// Parses a selector string (see the module docs for the grammar).
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        Parser::new(text).parse()
    }

    /// The steps from the root to the selected values.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }
}

impl std::str::FromStr for Selector {
    type Err = SelectorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Selector::parse(s)
    }
}

impl fmt::Display for Selector {
    /// Writes the canonical form, which parses back to the same selector.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.steps.is_empty() {
            return f.write_str("$");
        }
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                Step::Key(k) if is_plain_key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Step::Key(k) => {
                    let quoted = serde_json::to_string(k).map_err(|_| fmt::Error)?;
                    write!(f, "[{quoted}]")?;
                }
                Step::AnyMember => f.write_str(if i > 0 { ".*" } else { "*" })?,
                Step::AnyElement => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

/// Characters that may appear in an unquoted key.
fn is_plain_key_char(c: char) -> bool {
    !matches!(c, '.' | '[' | ']' | '"' | '\'' | '*' | '\\') && !c.is_whitespace() && !c.is_control()
}

fn is_plain_key(k: &str) -> bool {
    !k.is_empty() && k != "$" && k.chars().all(is_plain_key_char)
}

struct Parser<'a> {
    text: &'a str,
    /// Byte offset of the next character.
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser { text, pos: 0 }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// 1-based character column of byte offset `pos`.
    fn column_at(&self, pos: usize) -> usize {
        self.text[..pos].chars().count() + 1
    }

    fn error(&self, kind: SelectorErrorKind) -> SelectorError {
        self.error_at(self.pos, kind)
    }

    fn error_at(&self, pos: usize, kind: SelectorErrorKind) -> SelectorError {
        SelectorError {
            column: self.column_at(pos),
            kind,
        }
    }

    fn parse(mut self) -> Result<Selector, SelectorError> {
        if self.text.is_empty() {
            return Err(self.error(SelectorErrorKind::Empty));
        }
        let mut steps = Vec::new();
        // `$` alone as the first segment names the root; `$ref` is an ordinary key.
        let root_marker = self.text.starts_with('$')
            && matches!(self.text[1..].chars().next(), None | Some('.') | Some('['));
        if root_marker {
            self.pos = 1;
            if self.peek().is_none() {
                return Ok(Selector { steps });
            }
        } else {
            match self.peek() {
                Some('[') => steps.push(self.bracket()?),
                Some('*') => {
                    self.pos += 1;
                    steps.push(Step::AnyMember);
                }
                Some(c) if is_plain_key_char(c) => steps.push(Step::Key(self.plain_key())),
                Some(c) => return Err(self.unexpected(c, SelectorErrorKind::ExpectedStep)),
                None => return Err(self.error(SelectorErrorKind::ExpectedStep)),
            }
        }
        while let Some(c) = self.peek() {
            match c {
                '.' => {
                    self.pos += 1;
                    match self.peek() {
                        Some('*') => {
                            self.pos += 1;
                            steps.push(Step::AnyMember);
                        }
                        Some(c) if is_plain_key_char(c) => steps.push(Step::Key(self.plain_key())),
                        Some(c) => {
                            return Err(self.unexpected(c, SelectorErrorKind::ExpectedKeyAfterDot))
                        }
                        None => return Err(self.error(SelectorErrorKind::ExpectedKeyAfterDot)),
                    }
                }
                '[' => steps.push(self.bracket()?),
                other => return Err(self.unexpected(other, SelectorErrorKind::ExpectedSeparator)),
            }
        }
        Ok(Selector { steps })
    }

    /// Whitespace and quotes get a specific hint; anything else the generic message.
    fn unexpected(&self, c: char, generic: SelectorErrorKind) -> SelectorError {
        if c.is_whitespace() || c == '"' || c == '\'' || c == '\\' || c.is_control() {
            self.error(SelectorErrorKind::UnexpectedChar(c))
        } else {
            self.error(generic)
        }
    }

    fn plain_key(&mut self) -> String {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if !is_plain_key_char(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        self.text[start..self.pos].to_owned()
    }

    /// `[*]` or `["quoted key"]`; the cursor is on `[`.
    fn bracket(&mut self) -> Result<Step, SelectorError> {
        self.pos += 1;
        let step = match self.peek() {
            Some('*') => {
                self.pos += 1;
                Step::AnyElement
            }
            Some('"') => Step::Key(self.quoted_key()?),
            _ => return Err(self.error(SelectorErrorKind::ExpectedBracketContent)),
        };
        match self.bump() {
            Some(']') => Ok(step),
            Some(_) => Err(self.error_at(self.pos - 1, SelectorErrorKind::ExpectedCloseBracket)),
            None => Err(self.error(SelectorErrorKind::ExpectedCloseBracket)),
        }
    }

    /// A JSON string literal; the cursor is on the opening quote.
    fn quoted_key(&mut self) -> Result<String, SelectorError> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.bump() {
                None => return Err(self.error_at(start, SelectorErrorKind::UnterminatedQuote)),
                Some('\\') => {
                    if self.bump().is_none() {
                        return Err(self.error_at(start, SelectorErrorKind::UnterminatedQuote));
                    }
                }
                Some('"') => break,
                Some(_) => {}
            }
        }
        serde_json::from_str::<String>(&self.text[start..self.pos])
            .map_err(|_| self.error_at(start, SelectorErrorKind::InvalidQuotedKey))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Step {
        Step::Key(k.to_owned())
    }

    fn steps(s: &str) -> Vec<Step> {
        match Selector::parse(s) {
            Ok(sel) => sel.steps,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn err(s: &str) -> SelectorError {
        match Selector::parse(s) {
            Ok(sel) => panic!("{s} parsed as {sel:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn demo_selectors() {
        assert_eq!(steps("account"), vec![key("account")]);
        assert_eq!(steps("post.author"), vec![key("post"), key("author")]);
        assert_eq!(
            steps("posts[*].author"),
            vec![key("posts"), Step::AnyElement, key("author")]
        );
    }

    #[test]
    fn wildcards_and_top_level_arrays() {
        assert_eq!(
            steps("rooms.*.timeline.events[*]"),
            vec![
                key("rooms"),
                Step::AnyMember,
                key("timeline"),
                key("events"),
                Step::AnyElement
            ]
        );
        assert_eq!(steps("[*]"), vec![Step::AnyElement]);
        assert_eq!(steps("[*].author"), vec![Step::AnyElement, key("author")]);
        assert_eq!(steps("[*][*]"), vec![Step::AnyElement, Step::AnyElement]);
        assert_eq!(steps("*"), vec![Step::AnyMember]);
        assert_eq!(steps("*.author"), vec![Step::AnyMember, key("author")]);
    }

    #[test]
    fn root_marker() {
        assert_eq!(steps("$"), vec![]);
        assert_eq!(steps("$.account"), vec![key("account")]);
        assert_eq!(steps("$[*]"), vec![Step::AnyElement]);
        assert_eq!(steps("$ref"), vec![key("$ref")]);
        assert_eq!(steps("a.$"), vec![key("a"), key("$")]);
    }

    #[test]
    fn quoted_keys() {
        assert_eq!(steps(r#"["weird.key"]"#), vec![key("weird.key")]);
        assert_eq!(steps(r#"a["b c"].d"#), vec![key("a"), key("b c"), key("d")]);
        assert_eq!(steps(r#"["a\"]b"]"#), vec![key("a\"]b")]);
        assert_eq!(steps(r#"["\u00e9"]"#), vec![key("é")]);
        assert_eq!(steps(r#"["*"]"#), vec![key("*")]);
        assert_eq!(steps(r#"[""]"#), vec![key("")]);
        assert_eq!(
            steps("авторы[*].автор"),
            vec![key("авторы"), Step::AnyElement, key("автор")]
        );
    }

    #[test]
    fn errors_carry_columns() {
        assert_eq!(err("").kind, SelectorErrorKind::Empty);
        assert_eq!(err("posts.").column, 7);
        assert_eq!(err("posts.").kind, SelectorErrorKind::ExpectedKeyAfterDot);
        assert_eq!(err("posts[0]").column, 7);
        assert_eq!(
            err("posts[0]").kind,
            SelectorErrorKind::ExpectedBracketContent
        );
        assert_eq!(err("posts[*").column, 8);
        assert_eq!(
            err("posts[*x").kind,
            SelectorErrorKind::ExpectedCloseBracket
        );
        assert_eq!(err("posts[*x").column, 8);
        assert_eq!(err("a b").column, 2);
        assert_eq!(err("a b").kind, SelectorErrorKind::UnexpectedChar(' '));
        assert_eq!(err("a..b").column, 3);
        assert_eq!(err("a*").column, 2);
        assert_eq!(err(r#"["abc"#).kind, SelectorErrorKind::UnterminatedQuote);
        assert_eq!(err(r#"a["abc"#).column, 3);
        assert_eq!(err(r#"["\x"]"#).kind, SelectorErrorKind::InvalidQuotedKey);
        assert_eq!(err(".a").column, 1);
        // Columns count characters, not bytes.
        assert_eq!(err("автор b").column, 6);
        assert_eq!(
            err("posts.").to_string(),
            "column 7: expected a key or `*` after `.`"
        );
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "$",
            "account",
            "posts[*].author",
            "rooms.*.timeline.events[*]",
            "[*].author",
            r#"a["weird.key"].b"#,
            r#"["$"]"#,
            r#"["a\"b"]"#,
            "*",
        ] {
            let sel = Selector::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(sel.to_string(), s);
            assert_eq!(Selector::parse(&sel.to_string()), Ok(sel));
        }
    }
}
