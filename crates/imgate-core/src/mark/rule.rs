//! A compiled mark rule and its application to one response body.

use std::borrow::Cow;
use std::collections::HashMap;

use super::dfa::{SelectorDfa, MAX_STATES};
use super::error::MarkError;
use super::selector::Selector;
use super::spec::{
    check_header_name, MarkSpec, MarkSpecError, Others, DEFAULT_MAX_BODY, MAX_MAX_BODY,
};
use super::splice::{plan_object, splice, Edit, Rendered, Target};
use super::walk::{walk, IdValue, SelectedObject, Targets};

/// Deepest container nesting a marked body may have. Real API responses stay far
/// below it; the limit bounds the scanner's recursion on hostile input.
pub const MAX_DEPTH: usize = 128;

/// Where a rule reads the account id of a selected object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdSource {
    /// This member of the selected object (string values only).
    Field(String),
    /// This parameter of the request path; the caller extracts it and passes its value
    /// to [`MarkRule::apply`].
    PathParam(String),
}

/// A validated, ready-to-run mark rule. Immutable and cheap to share between threads.
#[derive(Debug, Clone)]
pub struct MarkRule {
    selectors: Vec<Selector>,
    /// The selectors compiled for walking bodies.
    dfa: SelectorDfa,
    id_source: IdSource,
    field: String,
    others: Others,
    header: Option<String>,
    max_body: u64,
    /// Marker key and values, serialised once here rather than per response.
    rendered: Rendered,
}

/// The marked body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkedBody {
    /// Every selected object already carried exactly the right marker (or nothing was
    /// selected): send the upstream's bytes as they are.
    Unchanged,
    /// The body with the markers set; send these bytes instead (and fix the framing).
    Rewritten(Vec<u8>),
}

impl MarkedBody {
    /// The bytes to send: the rewritten body, or `original` when unchanged.
    pub fn bytes<'b>(&'b self, original: &'b [u8]) -> &'b [u8] {
        match self {
            MarkedBody::Unchanged => original,
            MarkedBody::Rewritten(bytes) => bytes,
        }
    }

    /// The owned bytes to send, copying `original` only when unchanged.
    pub fn into_bytes(self, original: &[u8]) -> Vec<u8> {
        match self {
            MarkedBody::Unchanged => original.to_vec(),
            MarkedBody::Rewritten(bytes) => bytes,
        }
    }
}

/// The outcome of marking one body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkOutput {
    /// The body to send.
    pub body: MarkedBody,
    /// How many account objects were selected (and so carry the gateway's marker).
    pub marked: usize,
    /// How many of them were marked approved.
    pub approved: usize,
    /// When the response shows exactly one account (possibly in several objects, all
    /// with the same id), whether it is approved: the value of the rule's optional
    /// header. `None` when it shows none or several. An object without a usable id
    /// counts as an account of its own.
    pub single_account: Option<bool>,
}

impl MarkOutput {
    /// The header value for [`single_account`](Self::single_account): `"true"` or
    /// `"false"`, or `None` when the header must not be sent.
    pub fn header_value(&self) -> Option<&'static str> {
        self.single_account
            .map(|approved| if approved { "true" } else { "false" })
    }
}

impl MarkRule {
    /// Validates a spec and prepares everything a response needs: parsed selectors and
    /// the marker key and values serialised once.
    pub fn compile(spec: &MarkSpec) -> Result<MarkRule, MarkSpecError> {
        if spec.select.is_empty() {
            return Err(MarkSpecError::NoSelectors);
        }
        let selectors = spec
            .select
            .iter()
            .enumerate()
            .map(|(index, text)| {
                Selector::parse(text).map_err(|source| MarkSpecError::Selector {
                    index,
                    selector: text.clone(),
                    source,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let dfa = SelectorDfa::new(&selectors)
            .map_err(|_| MarkSpecError::TooComplex { limit: MAX_STATES })?;
        let id_source = match (&spec.id_field, &spec.id_from_path) {
            (Some(field), None) if field.is_empty() => {
                return Err(MarkSpecError::Empty { key: "id_field" })
            }
            (None, Some(param)) if param.is_empty() => {
                return Err(MarkSpecError::Empty {
                    key: "id_from_path",
                })
            }
            (Some(field), None) => IdSource::Field(field.clone()),
            (None, Some(param)) => IdSource::PathParam(param.clone()),
            _ => return Err(MarkSpecError::IdSource),
        };
        if spec.field.is_empty() {
            return Err(MarkSpecError::Empty { key: "field" });
        }
        if matches!(&id_source, IdSource::Field(f) if *f == spec.field) {
            return Err(MarkSpecError::FieldIsIdField);
        }
        let false_value = serde_json::Value::Bool(false);
        if spec.others == Others::False && spec.approved_value == false_value {
            return Err(MarkSpecError::IndistinguishableValues);
        }
        if let Some(name) = &spec.header {
            check_header_name(name)?;
        }
        let max_body = spec.max_body.unwrap_or(DEFAULT_MAX_BODY);
        if max_body == 0 {
            return Err(MarkSpecError::ZeroMaxBody);
        }
        if max_body > MAX_MAX_BODY {
            return Err(MarkSpecError::MaxBodyTooLarge {
                limit: MAX_MAX_BODY,
            });
        }
        let mut key = serde_json::to_vec(&spec.field).map_err(|_| MarkSpecError::Unrenderable)?;
        key.push(b':');
        let approved =
            serde_json::to_vec(&spec.approved_value).map_err(|_| MarkSpecError::Unrenderable)?;
        Ok(MarkRule {
            selectors,
            dfa,
            id_source,
            field: spec.field.clone(),
            others: spec.others,
            header: spec.header.clone(),
            max_body,
            rendered: Rendered {
                key,
                approved,
                others: b"false".to_vec(),
            },
        })
    }

    /// Marks one response body.
    ///
    /// `path_param` is the value of the path parameter named by `id_from_path` (ignored
    /// for `id_field` rules). `approved` answers whether an account id is approved; it
    /// is called at most once per distinct id and must not block (the gateway keeps the
    /// approved set in memory for this). Objects without a usable id (missing, empty,
    /// not a string) are marked not approved without asking.
    ///
    /// Errors mean the body cannot be marked with certainty; the caller must not send
    /// it (fail closed).
    pub fn apply(
        &self,
        body: &[u8],
        path_param: Option<&str>,
        approved: &mut dyn FnMut(&str) -> bool,
    ) -> Result<MarkOutput, MarkError> {
        if u64::try_from(body.len()).map_or(true, |len| len > self.max_body) {
            return Err(MarkError::TooLarge {
                len: body.len(),
                limit: self.max_body,
            });
        }
        let (id_key, path_id) = match &self.id_source {
            IdSource::Field(key) => (Some(key.as_str()), None),
            IdSource::PathParam(_) => (None, Some(path_param.ok_or(MarkError::MissingPathParam)?)),
        };
        let targets = Targets {
            dfa: &self.dfa,
            marker: &self.field,
            id_key,
        };
        let mut memo = Memo::default();
        let mut anonymous = 0usize;
        let mut marked = 0usize;
        let mut approved_count = 0usize;
        let mut edits: Vec<Edit> = Vec::new();
        walk(body, MAX_DEPTH, &targets, |obj: SelectedObject<'_, '_>| {
            let id = match (path_id, obj.id) {
                (Some(id), _) => Some(Cow::Borrowed(id)),
                (None, IdValue::Str(id)) => Some(id),
                (None, IdValue::Missing | IdValue::NotAString) => None,
            };
            let is_approved = match id.filter(|id| !id.is_empty()) {
                Some(id) => memo.answer(id, &mut *approved),
                None => {
                    anonymous += 1;
                    false
                }
            };
            marked += 1;
            approved_count += usize::from(is_approved);
            let target = match (is_approved, self.others) {
                (true, _) => Target::Set {
                    approved: true,
                    value: &self.rendered.approved,
                },
                (false, Others::False) => Target::Set {
                    approved: false,
                    value: &self.rendered.others,
                },
                (false, Others::Remove) => Target::Remove,
            };
            plan_object(body, obj.close, obj.members, target, &mut edits);
        })?;
        let single_account = match (memo.len(), anonymous) {
            (1, 0) => memo.first(),
            (0, 1) => Some(false),
            _ => None,
        };
        let body = if edits.is_empty() {
            MarkedBody::Unchanged
        } else {
            MarkedBody::Rewritten(splice(body, &mut edits, &self.rendered)?)
        };
        Ok(MarkOutput {
            body,
            marked,
            approved: approved_count,
            single_account,
        })
    }

    /// The selectors, in the order of the spec's `select`.
    pub fn selectors(&self) -> &[Selector] {
        &self.selectors
    }

    /// Where account ids come from.
    pub fn id_source(&self) -> &IdSource {
        &self.id_source
    }

    /// The name of the path parameter `apply` needs, for `id_from_path` rules.
    pub fn path_param(&self) -> Option<&str> {
        match &self.id_source {
            IdSource::PathParam(name) => Some(name),
            IdSource::Field(_) => None,
        }
    }

    /// The marker member's key.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What accounts that are not approved get.
    pub fn others(&self) -> Others {
        self.others
    }

    /// The optional single-account response header's name.
    pub fn header(&self) -> Option<&str> {
        self.header.as_deref()
    }

    /// Largest body `apply` accepts, in bytes; the proxy should stop buffering there.
    pub fn max_body(&self) -> u64 {
        self.max_body
    }

    /// The approved value as sent to clients (compact JSON).
    pub fn approved_value_json(&self) -> &[u8] {
        &self.rendered.approved
    }
}

/// The approval answers of one body, asked once per distinct account. A body shows a few
/// distinct accounts many times (a timeline), so a linear scan over a short list beats
/// hashing every id; past [`Memo::LINEAR`] accounts it switches to a map.
#[derive(Default)]
struct Memo<'a> {
    few: Vec<(Cow<'a, str>, bool)>,
    many: HashMap<Cow<'a, str>, bool>,
}

impl<'a> Memo<'a> {
    const LINEAR: usize = 16;

    fn answer(&mut self, id: Cow<'a, str>, approved: &mut dyn FnMut(&str) -> bool) -> bool {
        if let Some((_, known)) = self.few.iter().find(|(seen, _)| *seen == id) {
            return *known;
        }
        if let Some(&known) = self.many.get(&id) {
            return known;
        }
        let answer = approved(&id);
        if self.few.len() < Self::LINEAR {
            self.few.push((id, answer));
        } else {
            self.many.insert(id, answer);
        }
        answer
    }

    fn len(&self) -> usize {
        self.few.len() + self.many.len()
    }

    /// The answer for the first account seen.
    fn first(&self) -> Option<bool> {
        self.few.first().map(|(_, known)| *known)
    }
}
