//! One pass over the document that finds the objects the selectors select.
//!
//! The selectors run as their compiled automaton ([`SelectorDfa`]): descending into a
//! member or an element is one transition, and a value whose state ends a selector is
//! selected. Subtrees no selector can reach are skipped by the validating scanner
//! without decoding anything, so the cost of a body is one validation pass plus a key
//! comparison per member on the selected paths.
//!
//! For every selected *object* the walker reports its members' spans, which of them
//! carry the marker key (all of them, duplicates included) and its id. Selected values
//! that are not objects (`"author": null` for a deleted account) carry no marker and
//! are not reported. The value of a marker member is never searched for selected
//! objects: the gateway replaces it wholesale, so nothing inside it reaches the client.

use std::borrow::Cow;

use super::dfa::{SelectorDfa, StateId};
use super::error::MarkError;
use super::scan::Scanner;

/// One member of a selected object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Member {
    /// Byte offset of the key's opening quote.
    pub key_start: usize,
    /// Byte offset of the value's first byte.
    pub value_start: usize,
    /// Byte offset just past the value.
    pub value_end: usize,
    /// Whether the key is the marker field.
    pub is_marker: bool,
}

/// What a selected object says about its account id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IdValue<'a> {
    /// No id member (or the rule takes ids from the path).
    Missing,
    /// The id member is a number, object, `null`, ...: not usable as an id.
    NotAString,
    /// The id, unescaped.
    Str(Cow<'a, str>),
}

/// A selected object, as reported to the visitor.
#[derive(Debug)]
pub(crate) struct SelectedObject<'a, 'm> {
    /// Byte offset of the closing `}`.
    pub close: usize,
    /// Members in document order.
    pub members: &'m [Member],
    pub id: IdValue<'a>,
}

/// What the walker looks for.
pub(crate) struct Targets<'r> {
    pub dfa: &'r SelectorDfa,
    /// The marker key, unescaped.
    pub marker: &'r str,
    /// The id key, unescaped, when ids come from the body.
    pub id_key: Option<&'r str>,
}

struct Walker<'a, 'r, F> {
    scan: Scanner<'a>,
    targets: &'r Targets<'r>,
    /// Members of all open selected objects, as a stack.
    members: Vec<Member>,
    visit: F,
}

/// Validates the whole document and calls `visit` for each selected object, innermost
/// objects first.
pub(crate) fn walk<'a, F>(
    body: &'a [u8],
    max_depth: usize,
    targets: &Targets<'_>,
    visit: F,
) -> Result<(), MarkError>
where
    F: FnMut(SelectedObject<'a, '_>),
{
    let mut walker = Walker {
        scan: Scanner::new(body, max_depth)?,
        targets,
        members: Vec::with_capacity(16),
        visit,
    };
    walker.scan.skip_ws();
    walker.value(targets.dfa.start(), 0)?;
    walker.scan.finish()
}

impl<'a, F> Walker<'a, '_, F>
where
    F: FnMut(SelectedObject<'a, '_>),
{
    /// Walks one value at the path of `state` (`None`: no selector reaches it); `depth`
    /// containers are open around it. Inlined: most values on a selected path are
    /// scalars or unreachable, which the scanner skips without a call.
    #[inline(always)]
    fn value(&mut self, state: Option<StateId>, depth: usize) -> Result<(), MarkError> {
        match (state, self.scan.peek()) {
            (Some(state), Some(b'{')) => self.object(state, depth),
            (Some(state), Some(b'[')) => self.array(state, depth),
            _ => self.scan.skip_value(depth),
        }
    }

    #[inline(never)]
    fn array(&mut self, state: StateId, depth: usize) -> Result<(), MarkError> {
        let Some(inner) = self.targets.dfa.element(state) else {
            return self.scan.skip_value(depth);
        };
        if depth >= self.scan.max_depth() {
            return Err(self.scan.too_deep());
        }
        self.scan.expect(b'[', "expected `[`")?;
        self.scan.skip_ws();
        if self.scan.peek() == Some(b']') {
            return self.scan.expect(b']', "expected `]`");
        }
        loop {
            self.value(Some(inner), depth + 1)?;
            self.scan.skip_ws();
            match self.scan.peek() {
                Some(b',') => {
                    self.scan.expect(b',', "expected `,`")?;
                    self.scan.skip_ws();
                }
                Some(b']') => return self.scan.expect(b']', "expected `]`"),
                _ => return Err(self.scan.syntax("expected `,` or `]` in an array")),
            }
        }
    }

    #[inline(never)]
    fn object(&mut self, state: StateId, depth: usize) -> Result<(), MarkError> {
        let dfa = self.targets.dfa;
        let selected = dfa.selected(state);
        if !selected && !dfa.has_members(state) {
            return self.scan.skip_value(depth);
        }
        if depth >= self.scan.max_depth() {
            return Err(self.scan.too_deep());
        }
        let member_base = self.members.len();
        let mut id = IdValue::Missing;
        let mut id_seen = false;
        self.scan.expect(b'{', "expected `{`")?;
        self.scan.skip_ws();
        if self.scan.peek() != Some(b'}') {
            loop {
                let key_span = self.scan.string()?;
                // Keys are compared as UTF-8 bytes: as written when nothing is escaped
                // (the usual case, no copy), else unescaped.
                let unescaped;
                let key: &[u8] = if key_span.escaped {
                    unescaped = self.scan.decode(key_span)?;
                    unescaped.as_bytes()
                } else {
                    self.scan.raw(key_span)
                };
                self.scan.skip_ws();
                self.scan.expect(b':', "expected `:` after an object key")?;
                self.scan.skip_ws();
                let value_start = self.scan.pos();
                let is_marker = selected && key == self.targets.marker.as_bytes();
                if is_marker {
                    // Replaced wholesale: nothing inside can reach the client.
                    self.scan.skip_value(depth + 1)?;
                } else {
                    let inner = dfa.member(state, key);
                    let is_id =
                        selected && self.targets.id_key.is_some_and(|k| k.as_bytes() == key);
                    if is_id {
                        if id_seen {
                            return Err(MarkError::DuplicateId {
                                offset: key_span.start,
                            });
                        }
                        id_seen = true;
                        if self.scan.peek() == Some(b'"') {
                            let span = self.scan.string()?;
                            id = IdValue::Str(self.scan.decode(span)?);
                        } else {
                            id = IdValue::NotAString;
                            self.value(inner, depth + 1)?;
                        }
                    } else {
                        self.value(inner, depth + 1)?;
                    }
                }
                if selected {
                    self.members.push(Member {
                        key_start: key_span.start,
                        value_start,
                        value_end: self.scan.pos(),
                        is_marker,
                    });
                }
                self.scan.skip_ws();
                match self.scan.peek() {
                    Some(b',') => {
                        self.scan.expect(b',', "expected `,`")?;
                        self.scan.skip_ws();
                    }
                    Some(b'}') => break,
                    _ => return Err(self.scan.syntax("expected `,` or `}` in an object")),
                }
            }
        }
        let close = self.scan.pos();
        self.scan.expect(b'}', "expected `}`")?;
        if selected {
            (self.visit)(SelectedObject {
                close,
                members: &self.members[member_base..],
                id,
            });
            self.members.truncate(member_base);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mark::selector::Selector;

    #[derive(Debug, PartialEq)]
    struct Seen {
        close: usize,
        keys: Vec<String>,
        markers: usize,
        id: IdValue<'static>,
    }

    fn seen(doc: &str, selectors: &[&str]) -> Result<Vec<Seen>, MarkError> {
        let selectors: Vec<Selector> = selectors
            .iter()
            .map(|s| Selector::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")))
            .collect();
        let dfa = SelectorDfa::new(&selectors).unwrap_or_else(|_| panic!("too many states"));
        let targets = Targets {
            dfa: &dfa,
            marker: "verified_publisher",
            id_key: Some("id"),
        };
        let mut out = Vec::new();
        walk(doc.as_bytes(), 128, &targets, |obj| {
            out.push(Seen {
                close: obj.close,
                keys: obj
                    .members
                    .iter()
                    .map(|m| doc[m.key_start..m.value_start].to_owned())
                    .collect(),
                markers: obj.members.iter().filter(|m| m.is_marker).count(),
                id: match obj.id {
                    IdValue::Missing => IdValue::Missing,
                    IdValue::NotAString => IdValue::NotAString,
                    IdValue::Str(s) => IdValue::Str(Cow::Owned(s.into_owned())),
                },
            })
        })?;
        Ok(out)
    }

    fn ids(doc: &str, selectors: &[&str]) -> Vec<Option<String>> {
        seen(doc, selectors)
            .unwrap_or_else(|e| panic!("{doc}: {e}"))
            .into_iter()
            .map(|s| match s.id {
                IdValue::Str(s) => Some(s.into_owned()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn finds_timeline_authors() {
        let doc = r#"{"posts":[{"id":"p-1","author":{"id":"u-a","username":"a"}},{"id":"p-2","author":{"id":"u-b"}}]}"#;
        assert_eq!(
            ids(doc, &["posts[*].author"]),
            vec![Some("u-a".into()), Some("u-b".into())]
        );
    }

    #[test]
    fn shape_mismatch_selects_nothing() {
        assert!(ids(r#"{"posts":{"a":{"id":"x"}}}"#, &["posts[*]"]).is_empty());
        assert!(ids(r#"{"posts":[{"id":"x"}]}"#, &["posts.*"]).is_empty());
        assert!(ids(r#"{"error":{"code":"x"}}"#, &["post.author"]).is_empty());
        assert!(ids(r#"{"post":{"author":null}}"#, &["post.author"]).is_empty());
        assert!(ids(r#"[{"id":"x"}]"#, &["account"]).is_empty());
    }

    #[test]
    fn nested_wildcards_and_root() {
        let doc = r#"{"rooms":{"r1":{"timeline":{"events":[{"id":"e1"},{"id":"e2"}]}},"r2":{"timeline":{"events":[{"id":"e3"}]}}}}"#;
        assert_eq!(
            ids(doc, &["rooms.*.timeline.events[*]"]),
            vec![Some("e1".into()), Some("e2".into()), Some("e3".into())]
        );
        assert_eq!(ids(r#"[{"id":"a"},{"id":"b"}]"#, &["[*]"]).len(), 2);
        assert_eq!(ids(r#"{"id":"root"}"#, &["$"]), vec![Some("root".into())]);
    }

    #[test]
    fn keys_are_compared_unescaped() {
        let doc = r#"{"p\u006fst":{"auth\u006fr":{"\u0069d":"u-\u0078","verified\u005fpublisher":true}}}"#;
        let found = seen(doc, &["post.author"]).unwrap_or_default();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, IdValue::Str(Cow::Borrowed("u-x")));
        assert_eq!(found[0].markers, 1);
        assert_eq!(
            ids(r#"{"weird.key":{"id":"w"}}"#, &[r#"["weird.key"]"#]),
            vec![Some("w".into())]
        );
    }

    #[test]
    fn ids_and_markers() {
        let doc = r#"{"account":{"verified_publisher":true,"id":7,"verified_publisher":false}}"#;
        let found = seen(doc, &["account"]).unwrap_or_default();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, IdValue::NotAString);
        assert_eq!(found[0].markers, 2);
        assert_eq!(found[0].close, doc.len() - 2);
        assert_eq!(
            seen(r#"{"account":{"id":"a","id":"b"}}"#, &["account"]).err(),
            Some(MarkError::DuplicateId { offset: 21 })
        );
        // Duplicate ids outside selected objects are not the marker's business.
        assert_eq!(ids(r#"{"x":{"id":"a","id":"b"}}"#, &["account"]).len(), 0);
    }

    #[test]
    fn nested_selected_objects_are_reported_inner_first() {
        let doc = r#"{"a":{"id":"outer","b":{"id":"inner"}}}"#;
        assert_eq!(
            ids(doc, &["a", "a.b"]),
            vec![Some("inner".into()), Some("outer".into())]
        );
        // A selected object inside a marker value is never reported.
        let doc = r#"{"a":{"id":"outer","verified_publisher":{"id":"inner"}}}"#;
        assert_eq!(
            ids(doc, &["a", "a.verified_publisher"]),
            vec![Some("outer".into())]
        );
    }

    #[test]
    fn whole_document_is_validated() {
        assert!(matches!(
            seen(r#"{"posts":[]} trailing"#, &["posts[*]"]),
            Err(MarkError::TrailingData { .. })
        ));
        assert!(matches!(
            seen(r#"{"other":[1,,2],"posts":[]}"#, &["posts[*]"]),
            Err(MarkError::Syntax { .. })
        ));
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(200), "]".repeat(200));
        assert!(matches!(
            seen(&deep, &["a[*]"]),
            Err(MarkError::TooDeep { .. })
        ));
    }
}
