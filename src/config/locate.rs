//! Where a key of the configuration file is written.
//!
//! Most checks run after deserialisation, on values whose spans serde kept only for whole tables: without this, a
//! bad regex in a route's third field was reported at the route's `[[route]]` header. The rule compilers name the
//! offending key in their messages (`register.fields[2].pattern: ...`, `identity.url: ...`); this module finds
//! that key in the document, so the error points at its line and column.

use std::ops::Range;
use toml::de::{DeTable, DeValue};

/// One step of a path into the document: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// The span of the key at the end of `path` (of the array element, when the path ends in an index).
pub fn key_span(text: &str, path: &[Step]) -> Option<Range<usize>> {
    let doc = DeTable::parse(text).ok()?;
    let mut table: &DeTable<'_> = doc.get_ref();
    let mut value: Option<&toml::Spanned<DeValue<'_>>> = None;
    let mut span = None;
    for step in path {
        match step {
            Step::Key(key) => {
                let current = match value.map(|v| v.get_ref()) {
                    None => table,
                    Some(DeValue::Table(t)) => t,
                    Some(_) => return None,
                };
                let (k, v) = current.iter().find(|(k, _)| k.get_ref().as_ref() == key)?;
                span = Some(k.span());
                value = Some(v);
                if let DeValue::Table(t) = v.get_ref() {
                    table = t;
                }
            }
            Step::Index(i) => {
                let DeValue::Array(items) = value?.get_ref() else {
                    return None;
                };
                let item = items.get(*i)?;
                span = Some(item.span());
                value = Some(item);
            }
        }
    }
    span
}

/// The span of the first string equal to `needle` among the values (and array elements) of the table at
/// `path`: where a file name that cannot be read is written.
pub fn string_span(text: &str, path: &[Step], needle: &str) -> Option<Range<usize>> {
    let doc = DeTable::parse(text).ok()?;
    let mut table: &DeTable<'_> = doc.get_ref();
    for step in path {
        let Step::Key(key) = step else {
            return None;
        };
        let (_, v) = table.iter().find(|(k, _)| k.get_ref().as_ref() == key)?;
        let DeValue::Table(t) = v.get_ref() else {
            return None;
        };
        table = t;
    }
    let is_needle = |v: &toml::Spanned<DeValue<'_>>| {
        matches!(v.get_ref(), DeValue::String(s) if s.as_ref() == needle).then(|| v.span())
    };
    table.iter().find_map(|(_, v)| match v.get_ref() {
        DeValue::Array(items) => items.iter().find_map(is_needle),
        _ => is_needle(v),
    })
}

/// The key path a rule compiler's message starts with (`fields[2].pattern` in
/// `register.fields[2].pattern: ...` after `prefix` `register.`), as steps.
pub fn leading_key_path(message: &str, prefix: &str) -> Vec<Step> {
    let Some(rest) = message.strip_prefix(prefix) else {
        return Vec::new();
    };
    // Or quoted: "`field` must not be empty".
    let rest = rest.strip_prefix('`').unwrap_or(rest);
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']')))
        .unwrap_or(rest.len());
    let mut steps = Vec::new();
    for part in rest[..end].split('.').filter(|p| !p.is_empty()) {
        let (key, indexes) = part.split_once('[').unwrap_or((part, ""));
        if !key.is_empty() {
            steps.push(Step::Key(key.to_owned()));
        }
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            match index.trim_end_matches(']').parse() {
                Ok(i) => steps.push(Step::Index(i)),
                Err(_) => return steps,
            }
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "[identity]\nkind = \"http\"\nurl = \"x\"\n\n[[route]]\nname = \"a\"\n\n[[route]]\nname = \"b\"\n[route.register]\nbody = \"json\"\n[[route.register.fields]]\nname = \"n\"\n[[route.register.fields]]\nname = \"m\"\npattern = \"(\"\n";

    fn line_of(offset: usize) -> usize {
        DOC[..offset].matches('\n').count() + 1
    }

    #[test]
    fn finds_keys_under_arrays_of_tables() {
        let path = [
            Step::Key("route".into()),
            Step::Index(1),
            Step::Key("register".into()),
            Step::Key("fields".into()),
            Step::Index(1),
            Step::Key("pattern".into()),
        ];
        let span = key_span(DOC, &path).expect("found");
        assert_eq!(line_of(span.start), 16);
        let url = key_span(
            DOC,
            &[Step::Key("identity".into()), Step::Key("url".into())],
        );
        assert_eq!(url.map(|s| line_of(s.start)), Some(3));
        assert_eq!(key_span(DOC, &[Step::Key("nope".into())]), None);
    }

    #[test]
    fn reads_the_key_path_a_message_starts_with() {
        assert_eq!(
            leading_key_path("register.fields[2].pattern: bad regex", "register."),
            vec![
                Step::Key("fields".into()),
                Step::Index(2),
                Step::Key("pattern".into())
            ]
        );
        assert_eq!(
            leading_key_path("identity.url: not a URL", "identity."),
            vec![Step::Key("url".into())]
        );
        assert!(leading_key_path("mark: x", "register.").is_empty());
        assert_eq!(
            leading_key_path("mark: `field` must not be empty", "mark: "),
            vec![Step::Key("field".into())]
        );
    }
}
