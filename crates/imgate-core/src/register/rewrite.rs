//! Rewriting an accepted body when PII must not reach the upstream as received.
//!
//! JSON: only the affected values change; `serde_json`'s `preserve_order` keeps the
//! members in their original order (insignificant whitespace is not kept). Form: the
//! untouched `name=value` segments are copied byte for byte, only affected ones change.

use crate::body::FieldLocator;
use percent_encoding::{percent_decode, utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::Value;

/// What happens to one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Edit {
    Strip,
    Replace(String),
}

/// The JSON document could not be re-serialised (never expected for parsed input).
#[derive(Debug, thiserror::Error)]
#[error("could not re-serialise the JSON body")]
pub(super) struct RewriteError;

/// Applies the edits to a copy of `document` and serialises it. A stripped array
/// element becomes `null` so later indexes keep their meaning.
pub(super) fn json(
    document: &Value,
    edits: &[(&FieldLocator, Edit)],
) -> Result<Vec<u8>, RewriteError> {
    let mut doc = document.clone();
    for (locator, edit) in edits {
        let FieldLocator::JsonPointer(pointer) = locator else {
            continue;
        };
        match edit {
            Edit::Replace(new) => {
                if let Some(slot) = doc.pointer_mut(pointer) {
                    *slot = Value::String(new.clone());
                }
            }
            Edit::Strip => strip_json(&mut doc, pointer),
        }
    }
    serde_json::to_vec(&doc).map_err(|_| RewriteError)
}

fn strip_json(doc: &mut Value, pointer: &str) {
    let Some(split) = pointer.rfind('/') else {
        return;
    };
    let (parent, last) = pointer.split_at(split);
    let token = last[1..].replace("~1", "/").replace("~0", "~");
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.shift_remove(&token);
        }
        Some(Value::Array(items)) => {
            if let Some(slot) = token.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                *slot = Value::Null;
            }
        }
        _ => {}
    }
}

/// Rebuilds a form body from `raw`, dropping stripped fields and replacing hashed ones.
pub(super) fn form(raw: &[u8], edits: &[(&FieldLocator, Edit)]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(raw.len());
    let mut first = true;
    for segment in raw.split(|b| *b == b'&') {
        let name_raw = match segment.iter().position(|b| *b == b'=') {
            Some(i) => &segment[..i],
            None => segment,
        };
        let name = decode(name_raw);
        let edit = edits.iter().find_map(|(locator, edit)| match locator {
            FieldLocator::FormField(f) if Some(f.as_str()) == name.as_deref() => Some(edit),
            _ => None,
        });
        let replacement: Option<Vec<u8>> = match edit {
            Some(Edit::Strip) => continue,
            Some(Edit::Replace(value)) => {
                let mut s = name_raw.to_vec();
                s.push(b'=');
                s.extend(
                    utf8_percent_encode(value, NON_ALPHANUMERIC)
                        .to_string()
                        .into_bytes(),
                );
                Some(s)
            }
            None => None,
        };
        if !first {
            out.push(b'&');
        }
        first = false;
        out.extend_from_slice(replacement.as_deref().unwrap_or(segment));
    }
    out
}

/// Decodes a form name the way `body::form` does (`+` is a space).
fn decode(raw: &[u8]) -> Option<String> {
    let replaced: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    String::from_utf8(percent_decode(&replaced).collect()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_edits_keep_member_order() {
        let doc = json!({"a": 1, "id": "x", "b": {"phone": "p", "c": [1, 2]}, "z": true});
        let id = FieldLocator::JsonPointer("/id".into());
        let phone = FieldLocator::JsonPointer("/b/phone".into());
        let c1 = FieldLocator::JsonPointer("/b/c/1".into());
        let out = json(
            &doc,
            &[
                (&id, Edit::Strip),
                (&phone, Edit::Replace("h".into())),
                (&c1, Edit::Strip),
            ],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":1,"b":{"phone":"h","c":[1,null]},"z":true}"#
        );
    }

    #[test]
    fn json_pointer_escapes() {
        let doc = json!({"a/b": 1, "c~d": 2, "e": 3});
        let ab = FieldLocator::JsonPointer("/a~1b".into());
        let cd = FieldLocator::JsonPointer("/c~0d".into());
        let out = json(&doc, &[(&ab, Edit::Strip), (&cd, Edit::Strip)]).unwrap();
        assert_eq!(out, br#"{"e":3}"#);
    }

    #[test]
    fn form_segments_are_kept_verbatim() {
        let raw = b"username=al%69ce&id_number=1101&phone=138&real+name=%E5%BC%A0&agree=on";
        let id = FieldLocator::FormField("id_number".into());
        let phone = FieldLocator::FormField("phone".into());
        let name = FieldLocator::FormField("real name".into());
        let out = form(
            raw,
            &[
                (&id, Edit::Strip),
                (&phone, Edit::Replace("ab/c".into())),
                (&name, Edit::Replace("z".into())),
            ],
        );
        assert_eq!(
            out,
            b"username=al%69ce&phone=ab%2Fc&real+name=z&agree=on".to_vec()
        );
    }
}
