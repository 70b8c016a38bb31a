//! The publish rule: which parts of a post are text, which are reprint sources, who the
//! post claims as author, and which categories need approval.
//!
//! The proxy establishes the poster's identity, then calls [`PublishRule::extract`] on the
//! strictly parsed body, classifies the extracted [`Document`], and asks
//! [`PublishRule::restricted_matches`] which restricted categories the post falls in; only
//! for those does it look up the poster's approval.
//!
//! Spec keys (`[route.publish]`, every table refuses unknown keys):
//!
//! ```toml
//! text = ["/title", "/content", "/reprint/title", "/reprint/source"]  # JSON pointers; `*` walks arrays/objects
//! sources = ["/reprint/url", "/reprint/source"]   # reprint URLs / source names: domain lists, and text too
//! category_field = "/category"                     # the API's own category field, if any
//! author_field = "/author_id"                      # optional: must equal the authenticated account
//! restricted = ["political_news"]                  # categories that need approval
//! scan_unlisted = true                             # also classify every other string in the body (and keys that read as text)
//! ```

use crate::classify::{Classification, Classifier, Document};
use crate::decision::Rejection;
use serde::Deserialize;
use serde_json::Value;
use std::fmt::Write as _;

/// The operator's publish spec.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PublishSpec {
    /// Pointers to the post's text (title, content, reprinted title, ...).
    #[serde(default = "default_text")]
    pub text: Vec<String>,
    /// Pointers to reprint source URLs or names. They are checked against the domain
    /// lists and classified as text as well (URL tokens are blanked before the lexicon
    /// and the model see them), so news written into a URL field is still read.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Pointer to an explicit category field.
    #[serde(default)]
    pub category_field: Option<String>,
    /// Pointer to an author id that must match the authenticated account.
    #[serde(default)]
    pub author_field: Option<String>,
    /// Categories that only approved accounts may publish.
    pub restricted: Vec<String>,
    /// Classify every string in the body, not only the listed pointers, so text an API
    /// adds later (a summary, a caption) cannot slip past unexamined.
    #[serde(default = "default_true")]
    pub scan_unlisted: bool,
}

fn default_text() -> Vec<String> {
    vec!["/title".into(), "/content".into()]
}

fn default_true() -> bool {
    true
}

/// A spec that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("publish.{key}: {reason}")]
pub struct PublishSpecError {
    pub key: String,
    pub reason: String,
}

/// A pointer split into unescaped segments; `*` matches every element or member.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pointer {
    text: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Any,
}

impl Pointer {
    fn parse(key: &str, text: &str) -> Result<Pointer, PublishSpecError> {
        if !text.starts_with('/') {
            return Err(PublishSpecError {
                key: key.to_owned(),
                reason: format!("`{text}` is not a JSON pointer (it must start with `/`)"),
            });
        }
        let segments = text[1..]
            .split('/')
            .map(|raw| match raw {
                "*" => Segment::Any,
                _ => Segment::Key(raw.replace("~1", "/").replace("~0", "~")),
            })
            .collect();
        Ok(Pointer {
            text: text.to_owned(),
            segments,
        })
    }

    /// Every value the pointer reaches, with its concrete path.
    fn resolve<'a>(&self, root: &'a Value, out: &mut Vec<(String, &'a Value)>) {
        fn walk<'a>(
            value: &'a Value,
            rest: &[Segment],
            path: &mut String,
            out: &mut Vec<(String, &'a Value)>,
        ) {
            let Some((first, rest)) = rest.split_first() else {
                out.push((path.clone(), value));
                return;
            };
            let len = path.len();
            match (first, value) {
                // Concrete paths are spelled as `collect_unlisted` spells them (keys
                // escaped, indexes as plain numbers), so a listed value is never also
                // scanned as an unlisted one.
                (Segment::Key(k), Value::Object(map)) => {
                    if let Some(v) = map.get(k) {
                        push_key_segment(path, k);
                        walk(v, rest, path, out);
                    }
                }
                (Segment::Key(k), Value::Array(items)) => {
                    if let Some((i, v)) = k
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| items.get(i).map(|v| (i, v)))
                    {
                        push_index_segment(path, i);
                        walk(v, rest, path, out);
                    }
                }
                (Segment::Any, Value::Array(items)) => {
                    for (i, v) in items.iter().enumerate() {
                        push_index_segment(path, i);
                        walk(v, rest, path, out);
                        path.truncate(len);
                    }
                }
                (Segment::Any, Value::Object(map)) => {
                    for (k, v) in map {
                        push_key_segment(path, k);
                        walk(v, rest, path, out);
                        path.truncate(len);
                    }
                }
                _ => {}
            }
            path.truncate(len);
        }
        let mut path = String::new();
        walk(root, &self.segments, &mut path, out);
    }
}

/// The compiled publish rule.
#[derive(Debug, Clone)]
pub struct PublishRule {
    text: Vec<Pointer>,
    sources: Vec<Pointer>,
    category_field: Option<Pointer>,
    author_field: Option<Pointer>,
    restricted: Vec<String>,
    scan_unlisted: bool,
}

/// What a post says, borrowed from its parsed body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted<'a> {
    /// The listed texts and source fields: what the post shows.
    pub texts: Vec<&'a str>,
    /// Every other string of the body, and keys that read as text (`scan_unlisted`).
    pub unlisted: Vec<&'a str>,
    pub sources: Vec<&'a str>,
    pub declared_category: Option<&'a str>,
    pub author: Option<&'a str>,
}

impl Extracted<'_> {
    /// The post as its listed fields show it, with its sources and declared category.
    pub fn document(&self) -> Document<'_> {
        Document {
            texts: self.texts.clone(),
            source_urls: self.sources.clone(),
            declared_category: self.declared_category,
        }
    }

    /// Classifies the post. With unlisted strings in the body it is read more than once:
    /// - the listed texts as shown, so that padding in fields the client does not show
    ///   cannot dilute the post (the model's score is a weighted mean of its features);
    /// - everything together, so that evidence split between a shown and a hidden field
    ///   still counts;
    /// - the unlisted strings alone, when they hold at least [`UNLISTED_ALONE_MIN_BYTES`]:
    ///   news hidden behind a long shown text. Shorter ones are field values (tags, enum
    ///   values, ids) whose single words would decide alone ("vote", "party").
    ///
    /// A category matches when any reading does; the verdict kept is the one furthest above
    /// (or least below) its threshold.
    pub fn classify(&self, classifier: &Classifier) -> Classification {
        let shown = classifier.classify(&self.document());
        if self.unlisted.is_empty() {
            return shown;
        }
        let mut everything = self.document();
        everything.texts.extend(&self.unlisted);
        let together = classifier.classify(&everything);
        let unlisted_bytes: usize = self.unlisted.iter().map(|t| t.len()).sum();
        let alone = (unlisted_bytes >= UNLISTED_ALONE_MIN_BYTES).then(|| {
            classifier.classify(&Document {
                texts: self.unlisted.clone(),
                ..Document::default()
            })
        });
        strongest(shown, std::iter::once(together).chain(alone))
    }
}

/// Unlisted strings are classified on their own from this many bytes together: a short
/// headline (20 CJK characters, or about ten English words).
pub const UNLISTED_ALONE_MIN_BYTES: usize = 60;

/// Per category, the verdict with the largest margin over its threshold.
fn strongest(
    mut kept: Classification,
    others: impl IntoIterator<Item = Classification>,
) -> Classification {
    for other in others {
        for (verdict, candidate) in kept.verdicts.iter_mut().zip(other.verdicts) {
            if candidate.category == verdict.category
                && candidate.score - candidate.threshold > verdict.score - verdict.threshold
            {
                *verdict = candidate;
            }
        }
    }
    kept
}

impl PublishRule {
    /// The top-level members the listed text, source, category and author pointers read: what a same-named
    /// query parameter would shadow in a backend that merges query and body parameters (see [`crate::query`]).
    pub fn checked_roots(&self) -> Vec<String> {
        let mut roots: Vec<String> = self
            .text
            .iter()
            .chain(&self.sources)
            .chain(&self.category_field)
            .chain(&self.author_field)
            .filter_map(|p| crate::query::pointer_root(&p.text))
            .collect();
        roots.sort();
        roots.dedup();
        roots
    }

    /// Compiles `spec`; `known_categories` are the categories the classifier defines.
    pub fn compile(
        spec: &PublishSpec,
        known_categories: &[&str],
    ) -> Result<PublishRule, PublishSpecError> {
        let pointers = |key: &str, list: &[String]| -> Result<Vec<Pointer>, PublishSpecError> {
            list.iter()
                .enumerate()
                .map(|(i, p)| Pointer::parse(&format!("{key}[{i}]"), p))
                .collect()
        };
        if spec.restricted.is_empty() {
            return Err(PublishSpecError {
                key: "restricted".into(),
                reason: "list at least one restricted category".into(),
            });
        }
        for category in &spec.restricted {
            if !known_categories.contains(&category.as_str()) {
                return Err(PublishSpecError {
                    key: "restricted".into(),
                    reason: format!(
                        "category `{category}` is not defined; define it under [categories.{category}]"
                    ),
                });
            }
        }
        if spec.text.is_empty() && !spec.scan_unlisted {
            return Err(PublishSpecError {
                key: "text".into(),
                reason: "list at least one text pointer (or set scan_unlisted = true)".into(),
            });
        }
        Ok(PublishRule {
            text: pointers("text", &spec.text)?,
            sources: pointers("sources", &spec.sources)?,
            category_field: spec
                .category_field
                .as_deref()
                .map(|p| Pointer::parse("category_field", p))
                .transpose()?,
            author_field: spec
                .author_field
                .as_deref()
                .map(|p| Pointer::parse("author_field", p))
                .transpose()?,
            restricted: spec.restricted.clone(),
            scan_unlisted: spec.scan_unlisted,
        })
    }

    pub fn restricted(&self) -> &[String] {
        &self.restricted
    }

    /// Reads the post's text, sources, declared category and author. A configured field
    /// holding something other than a string (or null) is refused: the upstream might
    /// render it, and the gateway would not have classified it.
    pub fn extract<'a>(&self, body: &'a Value) -> Result<Extracted<'a>, Rejection> {
        let mut found = Vec::new();
        let mut extracted = Extracted::default();
        let mut listed: Vec<String> = Vec::new();
        for pointer in &self.text {
            found.clear();
            pointer.resolve(body, &mut found);
            for (path, value) in found.drain(..) {
                collect_strings(value, &mut extracted.texts, &pointer.text)?;
                listed.push(path);
            }
        }
        for pointer in &self.sources {
            found.clear();
            pointer.resolve(body, &mut found);
            for (path, value) in found.drain(..) {
                match value {
                    Value::String(s) => {
                        extracted.sources.push(s);
                        // A source field is text too: the upstream stores and shows it
                        // whatever it holds. Once per field when it is also a text pointer.
                        if !listed.contains(&path) {
                            extracted.texts.push(s);
                        }
                    }
                    Value::Null => {}
                    _ => return Err(wrong_type(&pointer.text)),
                }
                listed.push(path);
            }
        }
        if let Some(pointer) = &self.category_field {
            extracted.declared_category = single_string(body, pointer)?;
        }
        if let Some(pointer) = &self.author_field {
            extracted.author = single_string(body, pointer)?;
        }
        if self.scan_unlisted {
            let mut path = String::new();
            collect_unlisted(body, &mut path, &listed, &mut extracted.unlisted);
        }
        Ok(extracted)
    }

    /// Rejects a post whose author field names someone other than the poster.
    pub fn check_author(
        &self,
        extracted: &Extracted<'_>,
        account_id: &str,
    ) -> Result<(), Rejection> {
        match extracted.author {
            Some(author) if author != account_id => Err(Rejection::new(
                403,
                "publish.author_mismatch",
                "the post's author field does not match the authenticated account",
            )),
            _ => Ok(()),
        }
    }

    /// The restricted categories the classification matched.
    pub fn restricted_matches<'c>(&self, classification: &'c Classification) -> Vec<&'c str> {
        classification
            .matched()
            .filter(|c| self.restricted.iter().any(|r| r == c))
            .collect()
    }
}

/// The 403 for a post in a restricted category by an account without approval.
pub fn not_approved(category: &str) -> Rejection {
    Rejection::new(
        403,
        "publish.not_approved",
        format!(
            "this post is classified as `{category}`, which only accounts approved by the provider may publish or reprint; apply for approval or change the post"
        ),
    )
}

fn wrong_type(pointer: &str) -> Rejection {
    Rejection::new(
        422,
        "publish.field_type",
        format!("the post field `{pointer}` must be a string"),
    )
}

fn single_string<'a>(body: &'a Value, pointer: &Pointer) -> Result<Option<&'a str>, Rejection> {
    let mut found = Vec::new();
    pointer.resolve(body, &mut found);
    match found.as_slice() {
        [] => Ok(None),
        [(_, Value::Null)] => Ok(None),
        [(_, Value::String(s))] => Ok(Some(s)),
        _ => Err(wrong_type(&pointer.text)),
    }
}

/// Strings at a text pointer: a string, or arrays/objects of strings (e.g. paragraphs).
fn collect_strings<'a>(
    value: &'a Value,
    out: &mut Vec<&'a str>,
    pointer: &str,
) -> Result<(), Rejection> {
    match value {
        Value::String(s) => out.push(s),
        Value::Null => {}
        Value::Array(items) => {
            for item in items {
                collect_strings(item, out, pointer)?;
            }
        }
        Value::Object(map) => {
            for v in map.values() {
                collect_strings(v, out, pointer)?;
            }
        }
        Value::Bool(_) | Value::Number(_) => return Err(wrong_type(pointer)),
    }
    Ok(())
}

/// Appends `/key` as a JSON pointer segment (`~` as `~0`, `/` as `~1`), copying the key
/// as is when it has neither (nearly always). With [`push_index_segment`], the one
/// spelling of concrete paths that `resolve` and `collect_unlisted` share.
fn push_key_segment(path: &mut String, key: &str) {
    path.push('/');
    if key.contains(['~', '/']) {
        path.push_str(&key.replace('~', "~0").replace('/', "~1"));
    } else {
        path.push_str(key);
    }
}

/// Appends `/index`, written into the path itself (no temporary string per element).
fn push_index_segment(path: &mut String, index: usize) {
    let _ = write!(path, "/{index}");
}

/// Keys of at most this many bytes that look like identifiers are field names, not text.
const FIELD_NAME_MAX: usize = 32;

/// Whether an object key reads as text a client may show (and so is classified), rather
/// than as a field name: field names such as `content`, `created_at` or `authorId` are the
/// API's vocabulary, in every body, and classifying them would shift every post's score
/// (the words "content" and "title" are model features). A key with spaces, CJK or
/// other non-identifier characters, or a long one, is text.
fn key_is_text(key: &str) -> bool {
    key.len() > FIELD_NAME_MAX
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'$' | b'@'))
}

/// Every string not under a listed path, and every object key that reads as text
/// ([`key_is_text`]) and does not name a listed member.
fn collect_unlisted<'a>(
    value: &'a Value,
    path: &mut String,
    listed: &[String],
    out: &mut Vec<&'a str>,
) {
    if listed.iter().any(|l| l == path) {
        return;
    }
    let len = path.len();
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                push_index_segment(path, i);
                collect_unlisted(v, path, listed, out);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                push_key_segment(path, k);
                // A listed member (key and value) was read already; the check is made here
                // once rather than again at the top of the call for its value.
                if !listed.iter().any(|l| l == path) {
                    if key_is_text(k) {
                        out.push(k);
                    }
                    collect_unlisted(v, path, listed, out);
                }
                path.truncate(len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> PublishSpec {
        PublishSpec {
            text: vec![
                "/title".into(),
                "/content".into(),
                "/reprint/title".into(),
                "/reprint/source".into(),
            ],
            sources: vec!["/reprint/url".into(), "/reprint/source".into()],
            category_field: Some("/category".into()),
            author_field: None,
            restricted: vec!["political_news".into()],
            scan_unlisted: false,
        }
    }

    fn rule(spec: &PublishSpec) -> PublishRule {
        PublishRule::compile(spec, &["political_news"]).unwrap()
    }

    #[test]
    fn extracts_text_sources_and_category() {
        let body = json!({
            "title": "T", "content": "C", "category": "political_news",
            "reprint": {"url": "https://news.example.cn/a", "title": "RT", "source": "Example News"}
        });
        let e = rule(&spec()).extract(&body).unwrap();
        // The URL is classified too (its URL tokens are blanked later); the source name,
        // listed as text and as a source, once.
        assert_eq!(
            e.texts,
            ["T", "C", "RT", "Example News", "https://news.example.cn/a"]
        );
        assert_eq!(e.sources, ["https://news.example.cn/a", "Example News"]);
        assert_eq!(e.declared_category, Some("political_news"));
    }

    #[test]
    fn missing_and_null_fields_are_fine_but_wrong_types_are_refused() {
        let r = rule(&spec());
        assert_eq!(
            r.extract(&json!({"content": "x", "title": null, "reprint": null}))
                .unwrap()
                .texts,
            ["x"]
        );
        let e = r.extract(&json!({"content": 5})).unwrap_err();
        assert_eq!((e.status, e.code.as_ref()), (422, "publish.field_type"));
        assert!(r.extract(&json!({"reprint": {"url": ["a"]}})).is_err());
        // Arrays of paragraphs are text too.
        assert_eq!(
            r.extract(&json!({"content": ["a", "b"]})).unwrap().texts,
            ["a", "b"]
        );
    }

    #[test]
    fn wildcards_and_unlisted_strings() {
        let mut s = spec();
        s.text = vec!["/attachments/*/caption".into()];
        s.scan_unlisted = true;
        let body =
            json!({"attachments": [{"caption": "c1"}, {"caption": "c2"}], "summary": "sneaky"});
        let e = rule(&s).extract(&body).unwrap();
        assert_eq!(e.texts, ["c1", "c2"]);
        assert!(e.unlisted.contains(&"sneaky"));
        assert_eq!(
            e.texts.iter().filter(|t| **t == "c1").count(),
            1,
            "listed text is not scanned twice"
        );
    }

    /// A lexicon-only classifier: "election" counts for, "football" against (score =
    /// sign(x) ln(1 + |x|) of the sum of the distinct terms' weights, threshold 1).
    fn lexicon_classifier() -> crate::classify::Classifier {
        let mut spec = crate::classify::CategorySpec::new();
        spec.threshold = 1.0;
        spec.lexicons = vec!["lex.txt".into()];
        let mut read = |_: &str| Ok::<_, String>("election | 3\nfootball | -6\n".to_owned());
        crate::classify::Classifier::build(&[("political_news".into(), spec)], &mut read)
            .expect("classifier")
    }

    /// With unlisted strings a post is read as shown, all together, and (from 60 bytes)
    /// unlisted alone; the strongest reading decides.
    #[test]
    fn unlisted_strings_neither_dilute_nor_hide_the_post() {
        let c = lexicon_classifier();
        let mut s = spec();
        s.scan_unlisted = true;
        let r = rule(&s);
        let matched = |body: &Value| {
            let e = r.extract(body).expect("extract");
            e.classify(&c).verdicts[0].matched
        };
        // Shown: matched. Hidden "football" would sink the pooled reading, not the shown one.
        assert!(matched(&json!({"content": "election"})));
        assert!(matched(&json!({"content": "election", "meta": "football"})));
        // Shown football, hidden election news of 60 bytes or more: read alone, matched.
        let hidden = "election day: the results of the general vote come in tonight";
        assert!(hidden.len() >= UNLISTED_ALONE_MIN_BYTES);
        assert!(matched(&json!({"content": "football", "meta": hidden})));
        // A short hidden value is only read with the shown text: not matched here.
        assert!(!matched(&json!({"content": "football", "tag": "election"})));
        // Nothing political anywhere.
        assert!(!matched(&json!({"content": "football", "meta": "weather"})));
    }

    /// Field names are not text: a post is classified on what it says, whatever the
    /// API calls its fields. Keys that read as text (spaces, CJK, long) still are.
    #[test]
    fn field_names_are_not_classified_but_text_in_keys_is() {
        let mut s = spec();
        s.scan_unlisted = true;
        let body = json!({
            "title": "t", "content": "c", "category": "sports",
            "reprint": {"url": "https://example.com/a", "source": "s"},
            "meta": {"created_at": "2026", "clientVersion": "1.2"},
            "外交部发言人答记者问": 1,
            "the prime minister resigned": true,
            "a_very_long_identifier_shaped_key_of_41_bytes": 0,
        });
        let e = rule(&s).extract(&body).unwrap();
        let read: Vec<&str> = e.texts.iter().chain(&e.unlisted).copied().collect();
        for name in [
            "title",
            "content",
            "category",
            "reprint",
            "url",
            "source",
            "meta",
            "created_at",
            "clientVersion",
        ] {
            assert!(!read.contains(&name), "{name} in {read:?}");
        }
        for text in [
            "t",
            "c",
            "sports",
            "s",
            "2026",
            "1.2",
            "外交部发言人答记者问",
            "the prime minister resigned",
            "a_very_long_identifier_shaped_key_of_41_bytes",
        ] {
            assert!(read.contains(&text), "{text} not in {read:?}");
        }
        // A body of listed fields only is exactly its texts.
        let listed_only = json!({"title": "t", "content": "c"});
        let e = rule(&s).extract(&listed_only).unwrap();
        assert_eq!(e.texts, ["t", "c"]);
        assert!(e.unlisted.is_empty());
    }

    #[test]
    fn escaped_keys_are_listed_paths_too() {
        // `/a~1b/~0x` names the key `a/b`, then `~x`: its text is listed, so it is
        // extracted once, not again as an unlisted string.
        let mut s = spec();
        s.text = vec!["/a~1b/~0x".into(), "/items/*".into(), "/list/01".into()];
        s.scan_unlisted = true;
        let body = json!({"a/b": {"~x": "listed", "other": "extra"}, "items": ["i0", "i1"], "list": ["l0", "l1"]});
        let e = rule(&s).extract(&body).unwrap();
        assert_eq!(e.texts.iter().filter(|t| **t == "listed").count(), 1);
        assert_eq!(e.texts.iter().filter(|t| **t == "i1").count(), 1);
        assert_eq!(e.texts.iter().filter(|t| **t == "l1").count(), 1);
        assert!(e.unlisted.contains(&"extra"));
    }

    #[test]
    fn author_must_match() {
        let mut s = spec();
        s.author_field = Some("/author_id".into());
        let r = rule(&s);
        let body = json!({"content": "x", "author_id": "u-xinhua"});
        let e = r.extract(&body).unwrap();
        assert!(r.check_author(&e, "u-xinhua").is_ok());
        assert_eq!(
            r.check_author(&e, "u-alice").unwrap_err().code,
            "publish.author_mismatch"
        );
    }

    #[test]
    fn compile_errors_name_the_key() {
        let mut s = spec();
        s.restricted = vec!["sports".into()];
        assert_eq!(
            PublishRule::compile(&s, &["political_news"])
                .unwrap_err()
                .key,
            "restricted"
        );
        let mut s = spec();
        s.text = vec!["title".into()];
        assert_eq!(
            PublishRule::compile(&s, &["political_news"])
                .unwrap_err()
                .key,
            "text[0]"
        );
    }
}
