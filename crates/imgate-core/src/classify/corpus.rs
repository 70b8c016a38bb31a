//! Labelled corpora (JSONL: `{"id","lang","text","category","political_news":bool}`) and the deterministic
//! train/held-out split used by `imgate learn` and `imgate eval`.

use serde_json::Value;

/// How a record's label is read.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelRule {
    /// A boolean field, e.g. `political_news`.
    Field(String),
    /// Positive when the `category` field is one of these (case-insensitive).
    Categories(Vec<String>),
}

/// One labelled record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: String,
    pub lang: String,
    pub text: String,
    pub label: bool,
}

/// A malformed corpus line.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CorpusError {
    #[error("line {line}: not JSON: {message}")]
    Json { line: usize, message: String },
    #[error("line {line}: missing or non-{kind} field {field:?}")]
    Field {
        line: usize,
        field: String,
        kind: &'static str,
    },
}

fn str_field(v: &Value, field: &str, line: usize) -> Result<String, CorpusError> {
    v.get(field)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or(CorpusError::Field {
            line,
            field: field.to_string(),
            kind: "string",
        })
}

/// Parses one JSONL line (1-based `line` for messages).
pub fn parse_record(json: &str, rule: &LabelRule, line: usize) -> Result<Record, CorpusError> {
    let v: Value = serde_json::from_str(json).map_err(|e| CorpusError::Json {
        line,
        message: e.to_string(),
    })?;
    let label = match rule {
        LabelRule::Field(f) => v
            .get(f)
            .and_then(Value::as_bool)
            .ok_or(CorpusError::Field {
                line,
                field: f.clone(),
                kind: "boolean",
            })?,
        LabelRule::Categories(cats) => {
            let c = str_field(&v, "category", line)?;
            cats.iter().any(|x| x.eq_ignore_ascii_case(&c))
        }
    };
    Ok(Record {
        id: str_field(&v, "id", line)?,
        lang: v
            .get("lang")
            .and_then(Value::as_str)
            .unwrap_or("und")
            .to_string(),
        text: str_field(&v, "text", line)?,
        label,
    })
}

/// Bucket 0..100 of a record id: FNV-1a 64 of the id bytes, modulo 100. Stable across runs and platforms.
pub fn bucket(id: &str) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % 100) as u32
}

/// Number of body sentences (1..=3) of the post-like version of record `id`: varied per record, but
/// deterministic, so training and evaluation runs are reproducible.
pub fn post_sentences(id: &str) -> usize {
    let mut h: u64 = 0x84222325_cbf29ce4;
    for b in id.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    1 + ((h >> 40) % 3) as usize
}

/// Whether `c` ends a sentence (when followed by whitespace or the end of the text).
fn sentence_end(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '。' | '！' | '？')
}

/// A post-like version of an article, as users post news: the title line, then the first `sentences`
/// sentences of the body, cut to at most `max_chars` characters (at a word boundary when one is near). A text
/// of one line (a headline) is only cut. The gateway sees such posts, not whole articles, so the model is
/// trained and evaluated on them too.
pub fn post_like(text: &str, max_chars: usize, sentences: usize) -> String {
    let text = text.trim();
    let (title, body) = match text.split_once('\n') {
        Some((t, b)) => (t.trim(), b.trim()),
        None => (text, ""),
    };
    let mut out = title.to_string();
    let mut taken = 0;
    let mut chars = body.char_indices().peekable();
    let mut start = 0;
    while taken < sentences {
        let Some((i, c)) = chars.next() else {
            if start < body.len() {
                push_sentence(&mut out, body.get(start..).unwrap_or(""));
            }
            break;
        };
        let next_ws = chars.peek().is_none_or(|(_, n)| n.is_whitespace());
        if sentence_end(c) && next_ws {
            let end = i + c.len_utf8();
            push_sentence(&mut out, body.get(start..end).unwrap_or(""));
            taken += 1;
            start = end;
        }
    }
    truncate_chars(&out, max_chars)
}

fn push_sentence(out: &mut String, s: &str) {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.is_empty() {
        return;
    }
    out.push(if out.contains('\n') { ' ' } else { '\n' });
    out.push_str(&s);
}

/// `s` cut to at most `max` characters, preferring the last whitespace in the final fifth.
fn truncate_chars(s: &str, max: usize) -> String {
    let Some((cut, _)) = s.char_indices().nth(max) else {
        return s.to_string();
    };
    let head = s.get(..cut).unwrap_or(s);
    let min = head.char_indices().nth(max * 4 / 5).map_or(0, |(i, _)| i);
    match head.rfind(char::is_whitespace) {
        Some(ws) if ws >= min => head.get(..ws).unwrap_or(head).trim_end().to_string(),
        _ => head.to_string(),
    }
}

/// Which part of a corpus to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Buckets `>= holdout_percent`.
    Train,
    /// Buckets `< holdout_percent` (the held-out part).
    Holdout,
    All,
    /// Buckets in `lo..hi` (for tuning on a part of the training data).
    Buckets(u32, u32),
}

impl Split {
    pub fn contains(self, id: &str, holdout_percent: u32) -> bool {
        match self {
            Split::All => true,
            Split::Buckets(lo, hi) => (lo..hi).contains(&bucket(id)),
            Split::Holdout => bucket(id) < holdout_percent,
            Split::Train => bucket(id) >= holdout_percent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_labels() {
        let l = r#"{"id":"a","lang":"zh","text":"t","category":"politics","political_news":true}"#;
        assert!(
            parse_record(l, &LabelRule::Field("political_news".into()), 1)
                .unwrap()
                .label
        );
        assert!(
            parse_record(l, &LabelRule::Categories(vec!["Politics".into()]), 1)
                .unwrap()
                .label
        );
        assert!(parse_record(l, &LabelRule::Field("nope".into()), 3).is_err());
        assert!(parse_record("{", &LabelRule::Field("x".into()), 1).is_err());
    }

    #[test]
    fn post_like_takes_title_and_first_sentences() {
        let art = "Vote delayed\n\nThe vote was delayed. MPs objected! Then more.\n\nLater text.";
        assert_eq!(
            post_like(art, 300, 1),
            "Vote delayed\nThe vote was delayed."
        );
        assert_eq!(
            post_like(art, 300, 2),
            "Vote delayed\nThe vote was delayed. MPs objected!"
        );
        assert_eq!(post_like(art, 24, 3), "Vote delayed\nThe vote");
        assert_eq!(post_like("短标题", 300, 2), "短标题");
        assert_eq!(post_like("国务院总理会见外国代表团", 5, 2), "国务院总理");
        assert_eq!(
            post_like("Only title\n\nno stop", 300, 3),
            "Only title\nno stop"
        );
        assert!((1..=3).contains(&post_sentences("bbc-politics-001")));
    }

    #[test]
    fn split_is_deterministic_and_partitions() {
        assert_eq!(bucket("thuc-dev-1"), bucket("thuc-dev-1"));
        let ids: Vec<String> = (0..1000).map(|i| format!("id-{i}")).collect();
        let held = ids
            .iter()
            .filter(|i| Split::Holdout.contains(i, 20))
            .count();
        let train = ids.iter().filter(|i| Split::Train.contains(i, 20)).count();
        assert_eq!(held + train, 1000);
        assert!((150..250).contains(&held), "{held}");
    }
}
