//! Byte edits on the original document: planning them for one object, then splicing.
//!
//! The output is the input with a few byte ranges replaced, so key order, number
//! formatting, escapes and whitespace of everything the gateway does not own survive
//! exactly. Per selected object the plan is:
//!
//! * marker wanted, none present: insert `,"field":value` right after the last member's
//!   value (or `"field":value` inside an empty object);
//! * marker wanted, present: overwrite the first occurrence's value (only if its bytes
//!   differ) and delete every further occurrence, so exactly one remains;
//! * marker unwanted: delete every occurrence.
//!
//! Deleting members must keep the commas right. Consecutive deleted members are removed
//! as one run: with a kept member before the run, from the end of that member's value to
//! the end of the run's last value (taking the comma before the run); at the start of the
//! object, from the run's first key to the next kept member's key (taking the comma after
//! it); when everything goes, from the first key to the last value.

use super::error::MarkError;
use super::walk::Member;

/// What to put in place of an edited range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Insert {
    /// Nothing: a deletion.
    Nothing,
    /// The marker value (approved or not).
    Value { approved: bool },
    /// A whole marker member, with or without a leading comma.
    Member { approved: bool, comma: bool },
}

/// Replace `start..end` of the input with `insert`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Edit {
    pub start: usize,
    pub end: usize,
    pub insert: Insert,
}

/// What the marker of one object must end up as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target<'v> {
    /// Exactly one marker member whose value is `value` (rendered bytes).
    Set { approved: bool, value: &'v [u8] },
    /// No marker member.
    Remove,
}

/// The rendered bytes edits insert, prepared once per rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rendered {
    /// The marker key as a JSON string literal, with the colon: `"field":`.
    pub key: Vec<u8>,
    /// Value for approved accounts.
    pub approved: Vec<u8>,
    /// Value for the others, when they get one.
    pub others: Vec<u8>,
}

impl Rendered {
    fn value(&self, approved: bool) -> &[u8] {
        if approved {
            &self.approved
        } else {
            &self.others
        }
    }

    fn len(&self, insert: Insert) -> usize {
        match insert {
            Insert::Nothing => 0,
            Insert::Value { approved } => self.value(approved).len(),
            Insert::Member { approved, comma } => {
                usize::from(comma) + self.key.len() + self.value(approved).len()
            }
        }
    }

    fn write(&self, insert: Insert, out: &mut Vec<u8>) {
        match insert {
            Insert::Nothing => {}
            Insert::Value { approved } => out.extend_from_slice(self.value(approved)),
            Insert::Member { approved, comma } => {
                if comma {
                    out.push(b',');
                }
                out.extend_from_slice(&self.key);
                out.extend_from_slice(self.value(approved));
            }
        }
    }
}

/// Plans the edits that give one selected object the `target` marker state.
///
/// `doc` is the whole input, `close` the offset of the object's `}` and `members` its
/// members in document order.
pub(crate) fn plan_object(
    doc: &[u8],
    close: usize,
    members: &[Member],
    target: Target<'_>,
    edits: &mut Vec<Edit>,
) {
    let first_marker = members.iter().position(|m| m.is_marker);
    let keep = match (target, first_marker) {
        (Target::Set { approved, .. }, None) => {
            let (at, comma) = match members.last() {
                Some(last) => (last.value_end, true),
                None => (close, false),
            };
            edits.push(Edit {
                start: at,
                end: at,
                insert: Insert::Member { approved, comma },
            });
            return;
        }
        (Target::Set { approved, value }, Some(i)) => {
            let m = members[i];
            if doc.get(m.value_start..m.value_end) != Some(value) {
                edits.push(Edit {
                    start: m.value_start,
                    end: m.value_end,
                    insert: Insert::Value { approved },
                });
            }
            Some(i)
        }
        (Target::Remove, None) => return,
        (Target::Remove, Some(_)) => None,
    };
    let doomed = |i: usize| members[i].is_marker && Some(i) != keep;
    let mut i = 0;
    while i < members.len() {
        if !doomed(i) {
            i += 1;
            continue;
        }
        let run_start = i;
        while i < members.len() && doomed(i) {
            i += 1;
        }
        let run_last = members[i - 1];
        let (start, end) = if run_start > 0 {
            (members[run_start - 1].value_end, run_last.value_end)
        } else if let Some(next) = members.get(i) {
            (members[run_start].key_start, next.key_start)
        } else {
            (members[run_start].key_start, run_last.value_end)
        };
        edits.push(Edit {
            start,
            end,
            insert: Insert::Nothing,
        });
    }
}

/// Applies `edits` to a copy of `doc`. Edits may come in any order but must not
/// overlap (the planner guarantees it; a violation is reported, not papered over).
pub(crate) fn splice(
    doc: &[u8],
    edits: &mut [Edit],
    rendered: &Rendered,
) -> Result<Vec<u8>, MarkError> {
    // Stable, and nearly sorted already: inner objects are planned before outer ones.
    edits.sort_by_key(|e| (e.start, e.end));
    let grow: usize = edits.iter().map(|e| rendered.len(e.insert)).sum();
    let mut out = Vec::with_capacity(doc.len() + grow);
    let mut cursor = 0;
    for edit in edits.iter() {
        if edit.start < cursor || edit.end < edit.start {
            return Err(MarkError::OverlappingEdits { offset: edit.start });
        }
        let kept = doc
            .get(cursor..edit.start)
            .ok_or(MarkError::OverlappingEdits { offset: edit.start })?;
        out.extend_from_slice(kept);
        rendered.write(edit.insert, &mut out);
        cursor = edit.end;
    }
    let rest = doc
        .get(cursor..)
        .ok_or(MarkError::OverlappingEdits { offset: cursor })?;
    out.extend_from_slice(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered() -> Rendered {
        Rendered {
            key: b"\"m\":".to_vec(),
            approved: b"true".to_vec(),
            others: b"false".to_vec(),
        }
    }

    /// Spans of a flat object whose members are all `"k":v` with single-char keys and
    /// values, e.g. `{"a":1, "m":0}`; members keyed `m` are markers.
    fn members_of(doc: &str) -> (usize, Vec<Member>) {
        let bytes = doc.as_bytes();
        let mut members = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'"' {
                members.push(Member {
                    key_start: i,
                    value_start: i + 4,
                    value_end: i + 5,
                    is_marker: bytes[i + 1] == b'm',
                });
                i += 5;
            } else {
                i += 1;
            }
        }
        (doc.len() - 1, members)
    }

    fn run(doc: &str, target: Target<'_>) -> String {
        let (close, members) = members_of(doc);
        let mut edits = Vec::new();
        plan_object(doc.as_bytes(), close, &members, target, &mut edits);
        let out = splice(doc.as_bytes(), &mut edits, &rendered()).unwrap_or_default();
        String::from_utf8(out).unwrap_or_default()
    }

    const APPROVED: Target<'static> = Target::Set {
        approved: true,
        value: b"true",
    };
    const OTHERS: Target<'static> = Target::Set {
        approved: false,
        value: b"false",
    };

    #[test]
    fn inserts() {
        assert_eq!(run("{}", APPROVED), r#"{"m":true}"#);
        assert_eq!(run("{ }", OTHERS), r#"{ "m":false}"#);
        assert_eq!(run(r#"{"a":1}"#, APPROVED), r#"{"a":1,"m":true}"#);
        assert_eq!(run("{\"a\":1 \n}", APPROVED), "{\"a\":1,\"m\":true \n}");
    }

    #[test]
    fn overwrites_the_first_and_drops_the_rest() {
        assert_eq!(run(r#"{"m":1}"#, OTHERS), r#"{"m":false}"#);
        assert_eq!(
            run(r#"{"a":1,"m":1,"b":2,"m":2}"#, APPROVED),
            r#"{"a":1,"m":true,"b":2}"#
        );
        assert_eq!(run(r#"{"m":1,"m":2,"m":3}"#, APPROVED), r#"{"m":true}"#);
    }

    #[test]
    fn removes_every_occurrence() {
        assert_eq!(run(r#"{"m":1}"#, Target::Remove), "{}");
        assert_eq!(run(r#"{ "m":1 }"#, Target::Remove), "{  }");
        assert_eq!(run(r#"{"m":1,"a":2}"#, Target::Remove), r#"{"a":2}"#);
        assert_eq!(run(r#"{"a":2,"m":1}"#, Target::Remove), r#"{"a":2}"#);
        assert_eq!(
            run(
                r#"{"m":1,"m":2,"a":2,"m":3,"m":4,"b":3,"m":5}"#,
                Target::Remove
            ),
            r#"{"a":2,"b":3}"#
        );
        assert_eq!(run(r#"{"m":1, "m":2}"#, Target::Remove), "{}");
        assert_eq!(
            run("{\n  \"a\":1,\n  \"m\":1\n}", Target::Remove),
            "{\n  \"a\":1\n}"
        );
        assert_eq!(
            run("{\n  \"m\":1,\n  \"a\":1\n}", Target::Remove),
            "{\n  \"a\":1\n}"
        );
        assert_eq!(run(r#"{"a":1}"#, Target::Remove), r#"{"a":1}"#);
    }

    #[test]
    fn no_edit_when_already_right() {
        let doc = r#"{"a":1,"m":1}"#;
        let (close, members) = members_of(doc);
        let mut edits = Vec::new();
        let target = Target::Set {
            approved: true,
            value: b"1",
        };
        plan_object(doc.as_bytes(), close, &members, target, &mut edits);
        assert!(edits.is_empty());
    }

    #[test]
    fn overlapping_edits_are_an_error() {
        let mut edits = vec![
            Edit {
                start: 1,
                end: 3,
                insert: Insert::Nothing,
            },
            Edit {
                start: 2,
                end: 4,
                insert: Insert::Nothing,
            },
        ];
        assert_eq!(
            splice(b"0123456", &mut edits, &rendered()),
            Err(MarkError::OverlappingEdits { offset: 2 })
        );
    }
}
