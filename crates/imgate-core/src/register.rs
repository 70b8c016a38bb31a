//! The registration rule: real-name fields that pass real validators, and an accepted,
//! current user agreement, before a registration request may reach the upstream.
//!
//! The config layer deserialises a [`RegisterSpec`] from a route's `register` table,
//! compiles it once with [`RegisterRule::compile`], and calls [`RegisterRule::check`] on
//! every request body. Every violation is reported at once (422), so a client fixes its
//! form in one round trip.
//!
//! Spec keys (TOML shown; every table refuses unknown keys):
//!
//! ```toml
//! body = "json"                 # "json" or "form": how fields are located
//! [[fields]]                    # one table per checked field, in reporting order
//! name = "id_number"            # used in reason codes: registration.id_number.<subcode>
//! at = "/id_number"             # JSON pointer (json) or field name (form); default: from name
//! validator = "cn_resident_id"  # cn_resident_id | cn_mobile | e164 | person_name | regex |
//!                               # length | one_of | required | boolean_true | equals
//! required = true               # absent or null → registration.<name>.missing (default true)
//! pii = "forward"               # forward | strip | hmac (default forward)
//! message = "..."               # optional client text replacing the validator's own
//! # validator options (only the ones that belong to the chosen validator are allowed):
//! allow_legacy_15 = false       # cn_resident_id: accept 15-digit numbers (default false)
//! min_age = 0                   # cn_resident_id: minimum age in years (default 0 = none)
//! prefixes = ["138", "139"]     # cn_mobile: replaces the default allocated-prefix table
//! min_chars = 2                 # person_name (default 2) and length (default 0)
//! max_chars = 50                # person_name (default 50) and length (required)
//! pattern = "[A-Za-z0-9_]{3,32}" # regex: must match the whole value
//! values = ["a", "b"]           # one_of: allowed strings
//! value = true                  # equals: the required value (a string for form bodies)
//! accepted_values = ["1", "on"] # boolean_true on form bodies (default ["1", "on"])
//! [agreement]                   # required: the user agreement
//! accepted_at = "/agreement/accepted"  # json: must be the boolean true;
//!                                      # form: a value in accepted_values
//! version_at = "/agreement/version"
//! current = "2014-08"
//! also_accepted = []            # older versions still accepted (default none)
//! accepted_values = ["1", "on"] # form only (default ["1", "on"])
//! ```
//!
//! Forwarding: with every field on `pii = "forward"` (the shipped configuration) the
//! gateway forwards the bytes it received, unchanged. `strip` removes the field and
//! `hmac` replaces its value with the hex HMAC-SHA-256 of the value's canonical form
//! (the 18-character ID with upper-case X, the 11-digit mobile number, ...) under a key
//! the config layer supplies; then [`RegisterOutcome::body`] carries the new bytes.

use std::collections::HashSet;
use std::sync::Arc;

use serde::Deserialize;

use crate::body::{FieldLocator, FieldValue, InspectedBody, RepeatedField};
use crate::decision::{Rejection, Violation};
use crate::mask::{mask_id_number, mask_phone};
use crate::validate::generic::{self, FullMatch, GenericError};
use crate::validate::{
    validate_cn_mobile, validate_e164, validate_person_name, validate_resident_id, Date, Divisions,
    MobilePrefixes, NameOptions, ResidentIdOptions,
};

mod hmac;
mod rewrite;

pub use hmac::hmac_sha256_hex;

/// Shortest HMAC key accepted: shorter keys make the pseudonyms guessable.
pub const MIN_HMAC_KEY_BYTES: usize = 16;
/// The reserved field name for agreement violations.
const AGREEMENT: &str = "agreement";

/// How the route's body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyKind {
    Json,
    Form,
}

/// The validator a field is checked with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValidatorKind {
    CnResidentId,
    CnMobile,
    E164,
    PersonName,
    Regex,
    Length,
    OneOf,
    Required,
    BooleanTrue,
    Equals,
}

impl ValidatorKind {
    fn name(self) -> &'static str {
        match self {
            ValidatorKind::CnResidentId => "cn_resident_id",
            ValidatorKind::CnMobile => "cn_mobile",
            ValidatorKind::E164 => "e164",
            ValidatorKind::PersonName => "person_name",
            ValidatorKind::Regex => "regex",
            ValidatorKind::Length => "length",
            ValidatorKind::OneOf => "one_of",
            ValidatorKind::Required => "required",
            ValidatorKind::BooleanTrue => "boolean_true",
            ValidatorKind::Equals => "equals",
        }
    }
}

/// What the gateway does with a field's value once the request is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PiiMode {
    /// Forward the value as received.
    #[default]
    Forward,
    /// Remove the field from the forwarded body.
    Strip,
    /// Replace the value with its hex HMAC-SHA-256 under the context's key.
    Hmac,
}

/// A route's registration rule as written in the config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterSpec {
    /// `json` or `form`.
    pub body: BodyKind,
    /// The checked fields, in the order violations are reported.
    #[serde(default)]
    pub fields: Vec<FieldSpec>,
    /// The user agreement that must be accepted.
    pub agreement: AgreementSpec,
}

/// One checked field. Validator options sit beside `validator` for readability; the
/// compiler refuses options that do not belong to the chosen validator.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Name used in reason codes (`registration.<name>.<subcode>`): `[a-z0-9_]`, unique.
    pub name: String,
    /// JSON pointer (json bodies) or form field name; defaults to `/<name>` or `<name>`.
    #[serde(default)]
    pub at: Option<String>,
    pub validator: ValidatorKind,
    /// A missing (absent or null) field is a violation; optional fields are checked only
    /// when present. Default true.
    #[serde(default = "yes")]
    pub required: bool,
    #[serde(default)]
    pub pii: PiiMode,
    /// Client-facing text for this field's validator failures (not for missing/type).
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub allow_legacy_15: Option<bool>,
    #[serde(default)]
    pub min_age: Option<u32>,
    #[serde(default)]
    pub prefixes: Option<Vec<String>>,
    #[serde(default)]
    pub min_chars: Option<usize>,
    #[serde(default)]
    pub max_chars: Option<usize>,
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default)]
    pub values: Option<Vec<String>>,
    #[serde(default)]
    pub value: Option<serde_json::Value>,
    #[serde(default)]
    pub accepted_values: Option<Vec<String>>,
}

fn yes() -> bool {
    true
}

/// The user agreement: accepted, at the current (or a still-accepted older) version.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementSpec {
    /// JSON: must hold the boolean `true`. Form: a value in `accepted_values`.
    pub accepted_at: String,
    /// Must hold `current` or one of `also_accepted` (a string).
    pub version_at: String,
    pub current: String,
    #[serde(default)]
    pub also_accepted: Vec<String>,
    /// Form bodies only; default `["1", "on"]`.
    #[serde(default)]
    pub accepted_values: Option<Vec<String>>,
}

/// What the config layer passes in besides the spec.
#[derive(Debug, Clone, Default)]
pub struct RegisterContext {
    /// Key for `pii = "hmac"` fields (at least [`MIN_HMAC_KEY_BYTES`] bytes).
    pub hmac_key: Option<Vec<u8>>,
    /// A division table replacing the embedded one (e.g. a newer file).
    pub divisions: Option<Arc<Divisions>>,
}

/// A spec that cannot be compiled; `key` names the offending spec key
/// (`fields[1].pattern`, `agreement.current`, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("register.{key}: {reason}")]
pub struct RegisterSpecError {
    pub key: String,
    pub reason: String,
}

impl RegisterSpecError {
    fn new(key: impl Into<String>, reason: impl Into<String>) -> Self {
        RegisterSpecError {
            key: key.into(),
            reason: reason.into(),
        }
    }
}

#[derive(Debug, Clone)]
enum Check {
    ResidentId(ResidentIdOptions),
    CnMobile(MobilePrefixes),
    E164,
    PersonName(NameOptions),
    Regex(FullMatch),
    Length { min: usize, max: usize },
    OneOf(Vec<String>),
    Required,
    BooleanTrue(Vec<String>),
    Equals(serde_json::Value),
}

#[derive(Debug, Clone)]
struct Field {
    name: String,
    at: String,
    locator: FieldLocator,
    check: Check,
    required: bool,
    pii: PiiMode,
    message: Option<String>,
}

#[derive(Debug, Clone)]
struct Agreement {
    accepted_at: String,
    accepted: FieldLocator,
    version_at: String,
    version: FieldLocator,
    current: String,
    also_accepted: Vec<String>,
    accepted_values: Vec<String>,
}

/// A compiled registration rule, immutable and cheap to share between requests.
#[derive(Debug, Clone)]
pub struct RegisterRule {
    body: BodyKind,
    fields: Vec<Field>,
    agreement: Agreement,
    hmac_key: Option<Vec<u8>>,
    divisions: Option<Arc<Divisions>>,
}

/// What to forward upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardBody {
    /// Forward exactly the bytes received.
    Unchanged,
    /// Forward these bytes instead (PII stripped or hashed); framing must be fixed.
    Replaced(Vec<u8>),
}

/// A checked field's value in masked form, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MaskedField {
    pub name: String,
    pub masked: String,
}

/// An accepted registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterOutcome {
    pub body: ForwardBody,
    /// Masked values of the ID-number and phone fields present in the request.
    pub masked: Vec<MaskedField>,
}

/// A field's accepted value as the rewriter and the audit log need it.
struct Accepted {
    field: usize,
    canonical: Option<String>,
}

impl RegisterRule {
    /// Compiles and checks a spec; errors name the offending key.
    pub fn compile(
        spec: &RegisterSpec,
        context: &RegisterContext,
    ) -> Result<RegisterRule, RegisterSpecError> {
        let mut names = HashSet::new();
        let mut fields = Vec::with_capacity(spec.fields.len());
        for (i, f) in spec.fields.iter().enumerate() {
            let key = format!("fields[{i}]");
            if f.name.is_empty()
                || f.name.len() > 64
                || !f
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(RegisterSpecError::new(
                    format!("{key}.name"),
                    "must be 1 to 64 characters of a-z, 0-9 and _",
                ));
            }
            if f.name == AGREEMENT || !names.insert(f.name.as_str()) {
                return Err(RegisterSpecError::new(
                    format!("{key}.name"),
                    format!("`{}` is reserved or used twice", f.name),
                ));
            }
            let at = f.at.clone().unwrap_or_else(|| match spec.body {
                BodyKind::Json => format!("/{}", f.name),
                BodyKind::Form => f.name.clone(),
            });
            let locator = locator(spec.body, &at, &format!("{key}.at"))?;
            let check = compile_check(spec.body, f, &key)?;
            if f.pii == PiiMode::Hmac {
                if !matches!(
                    check,
                    Check::ResidentId(_)
                        | Check::CnMobile(_)
                        | Check::E164
                        | Check::PersonName(_)
                        | Check::Regex(_)
                        | Check::Length { .. }
                        | Check::OneOf(_)
                ) {
                    return Err(RegisterSpecError::new(
                        format!("{key}.pii"),
                        "hmac applies only to string-valued validators",
                    ));
                }
                match &context.hmac_key {
                    None => {
                        return Err(RegisterSpecError::new(
                            format!("{key}.pii"),
                            "hmac needs a key, and none is configured",
                        ))
                    }
                    Some(k) if k.len() < MIN_HMAC_KEY_BYTES => {
                        return Err(RegisterSpecError::new(
                            format!("{key}.pii"),
                            format!("the hmac key must be at least {MIN_HMAC_KEY_BYTES} bytes"),
                        ))
                    }
                    Some(_) => {}
                }
            }
            if let Some(m) = &f.message {
                if m.trim().is_empty() {
                    return Err(RegisterSpecError::new(
                        format!("{key}.message"),
                        "must not be empty",
                    ));
                }
            }
            fields.push(Field {
                name: f.name.clone(),
                at,
                locator,
                check,
                required: f.required,
                pii: f.pii,
                message: f.message.clone(),
            });
        }
        // Two fields at one location would make the rewrite ambiguous.
        let mut seen = HashSet::new();
        for (i, f) in fields.iter().enumerate() {
            if !seen.insert(f.at.as_str()) {
                return Err(RegisterSpecError::new(
                    format!("fields[{i}].at"),
                    format!("`{}` is already checked by another field", f.at),
                ));
            }
        }
        let agreement = compile_agreement(spec.body, &spec.agreement)?;
        Ok(RegisterRule {
            body: spec.body,
            fields,
            agreement,
            hmac_key: context.hmac_key.clone(),
            divisions: context.divisions.clone(),
        })
    }

    /// The body kind this rule reads.
    /// The names of the fields this rule checks (for telling what a config change removes).
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.name.as_str())
    }

    pub fn body_kind(&self) -> BodyKind {
        self.body
    }

    /// The top-level names of the body fields this rule reads (a JSON pointer's first member, a form field's
    /// name), the agreement's included: what a same-named query parameter would shadow in a backend that merges
    /// query and body parameters (see [`crate::query`]).
    pub fn checked_roots(&self) -> Vec<String> {
        let ats = self.fields.iter().map(|f| f.at.as_str()).chain([
            self.agreement.accepted_at.as_str(),
            self.agreement.version_at.as_str(),
        ]);
        let mut roots: Vec<String> = ats
            .filter_map(|at| match self.body {
                BodyKind::Json => crate::query::pointer_root(at),
                BodyKind::Form => Some(at.to_owned()),
            })
            .collect();
        roots.sort();
        roots.dedup();
        roots
    }

    /// Checks a strictly parsed body (`raw` are the bytes it was parsed from) on `today`.
    ///
    /// Errors: 415 `body.unsupported_media_type` when the body is not of the rule's kind,
    /// 400 `body.repeated_field` when a read form field appears twice, 422 with every
    /// violation otherwise.
    pub fn check(
        &self,
        body: &InspectedBody,
        raw: &[u8],
        today: Date,
    ) -> Result<RegisterOutcome, Rejection> {
        let kind_matches = matches!(
            (self.body, body),
            (BodyKind::Json, InspectedBody::Json(_)) | (BodyKind::Form, InspectedBody::Form(_))
        );
        if !kind_matches {
            return Err(Rejection::new(
                415,
                "body.unsupported_media_type",
                "this endpoint expects a different body encoding",
            ));
        }
        let mut violations = Vec::new();
        let mut accepted = Vec::new();
        for (index, field) in self.fields.iter().enumerate() {
            let value = body.get(&field.locator).map_err(repeated)?;
            if value.is_missing() {
                if field.required {
                    violations.push(violation(
                        &field.name,
                        "missing",
                        &field.at,
                        format!("`{}` is required", field.at),
                    ));
                }
                continue;
            }
            match self.check_value(field, &value, today) {
                Ok(canonical) => accepted.push(Accepted {
                    field: index,
                    canonical,
                }),
                Err((subcode, text)) => {
                    let message = match (&field.message, subcode) {
                        (Some(custom), s) if s != "type" => custom.clone(),
                        _ => format!("`{}` {}", field.at, text),
                    };
                    violations.push(violation(&field.name, subcode, &field.at, message));
                }
            }
        }
        self.check_agreement(body, &mut violations)?;
        if !violations.is_empty() {
            return Err(Rejection::violations(
                "the registration request has fields to correct",
                violations,
            ));
        }
        let masked = accepted
            .iter()
            .filter_map(|a| {
                let field = self.fields.get(a.field)?;
                let canonical = a.canonical.as_deref()?;
                let masked = match field.check {
                    Check::ResidentId(_) => mask_id_number(canonical),
                    Check::CnMobile(_) | Check::E164 => mask_phone(canonical),
                    _ => return None,
                };
                Some(MaskedField {
                    name: field.name.clone(),
                    masked,
                })
            })
            .collect();
        let body = self.rewrite(body, raw, &accepted)?;
        Ok(RegisterOutcome { body, masked })
    }

    /// Runs a field's validator; `Ok` carries the canonical form of string values.
    fn check_value(
        &self,
        field: &Field,
        value: &FieldValue<'_>,
        today: Date,
    ) -> Result<Option<String>, (&'static str, String)> {
        let generic_err = |e: GenericError| (e.subcode(), e.to_string());
        let text = || generic::require_str(value).map_err(generic_err);
        match &field.check {
            Check::ResidentId(options) => {
                let divisions = self.divisions.as_deref().unwrap_or(Divisions::embedded());
                validate_resident_id(text()?, today, options, divisions)
                    .map(|id| Some(id.canonical().to_owned()))
                    .map_err(|e| (e.subcode(), e.to_string()))
            }
            Check::CnMobile(prefixes) => validate_cn_mobile(text()?, prefixes)
                .map(Some)
                .map_err(|e| (e.subcode(), e.to_string())),
            Check::E164 => validate_e164(text()?)
                .map(Some)
                .map_err(|e| (e.subcode(), e.to_string())),
            Check::PersonName(options) => validate_person_name(text()?, options)
                .map(Some)
                .map_err(|e| (e.subcode(), e.to_string())),
            Check::Regex(pattern) => {
                let s = text()?;
                generic::check_regex(s, pattern).map_err(generic_err)?;
                Ok(Some(s.to_owned()))
            }
            Check::Length { min, max } => {
                let s = text()?;
                generic::check_length(s, *min, *max).map_err(generic_err)?;
                Ok(Some(s.to_owned()))
            }
            Check::OneOf(values) => {
                let s = text()?;
                generic::check_one_of(s, values).map_err(generic_err)?;
                Ok(Some(s.to_owned()))
            }
            Check::Required => Ok(None),
            Check::BooleanTrue(accepted) => generic::check_boolean_true(value, accepted)
                .map(|()| None)
                .map_err(generic_err),
            Check::Equals(expected) => generic::check_equals(value, expected)
                .map(|()| None)
                .map_err(generic_err),
        }
    }

    fn check_agreement(
        &self,
        body: &InspectedBody,
        violations: &mut Vec<Violation>,
    ) -> Result<(), Rejection> {
        let a = &self.agreement;
        let accepted = body.get(&a.accepted).map_err(repeated)?;
        let is_accepted = match accepted {
            FieldValue::Json(serde_json::Value::Bool(b)) => *b,
            FieldValue::Form(s) => a.accepted_values.iter().any(|v| v == s),
            _ => false,
        };
        if !is_accepted {
            let how = match self.body {
                BodyKind::Json => "must be the JSON boolean true".to_owned(),
                BodyKind::Form => format!("must be one of {}", a.accepted_values.join(", ")),
            };
            violations.push(violation(
                AGREEMENT,
                "not_accepted",
                &a.accepted_at,
                format!(
                    "the user agreement must be accepted: `{}` {how}",
                    a.accepted_at
                ),
            ));
        }
        let version = body.get(&a.version).map_err(repeated)?;
        let current = match version.as_str() {
            Some(v) => v == a.current || a.also_accepted.iter().any(|o| o == v),
            None => false,
        };
        if !current {
            violations.push(violation(
                AGREEMENT,
                "version",
                &a.version_at,
                format!(
                    "`{}` must name the current user agreement version {}; read and accept it",
                    a.version_at, a.current
                ),
            ));
        }
        Ok(())
    }

    fn rewrite(
        &self,
        body: &InspectedBody,
        raw: &[u8],
        accepted: &[Accepted],
    ) -> Result<ForwardBody, Rejection> {
        let mut edits = Vec::new();
        for a in accepted {
            let Some(field) = self.fields.get(a.field) else {
                continue;
            };
            let edit = match field.pii {
                PiiMode::Forward => continue,
                PiiMode::Strip => rewrite::Edit::Strip,
                PiiMode::Hmac => {
                    let (Some(key), Some(value)) = (&self.hmac_key, &a.canonical) else {
                        continue;
                    };
                    rewrite::Edit::Replace(hmac_sha256_hex(key, value.as_bytes()))
                }
            };
            edits.push((&field.locator, edit));
        }
        if edits.is_empty() {
            return Ok(ForwardBody::Unchanged);
        }
        match body {
            InspectedBody::Json(value) => rewrite::json(value, &edits),
            InspectedBody::Form(_) => Ok(rewrite::form(raw, &edits)),
        }
        .map(ForwardBody::Replaced)
        .map_err(|_| {
            Rejection::new(
                500,
                "gateway.rewrite_failed",
                "the gateway could not prepare the request",
            )
        })
    }
}

fn violation(name: &str, subcode: &str, at: &str, message: String) -> Violation {
    Violation {
        field: at.to_owned(),
        code: format!("registration.{name}.{subcode}"),
        message,
    }
}

fn repeated(e: RepeatedField) -> Rejection {
    Rejection::new(
        400,
        "body.repeated_field",
        format!("the form field `{}` must appear only once", e.0),
    )
}

fn locator(kind: BodyKind, at: &str, key: &str) -> Result<FieldLocator, RegisterSpecError> {
    match kind {
        BodyKind::Json => {
            if !at.starts_with('/') || at.len() < 2 {
                return Err(RegisterSpecError::new(
                    key,
                    "must be a JSON pointer naming a member, such as `/id_number`",
                ));
            }
            if !valid_pointer_escapes(at) {
                return Err(RegisterSpecError::new(
                    key,
                    "`~` in a JSON pointer must be written `~0` or `~1`",
                ));
            }
            Ok(FieldLocator::JsonPointer(at.to_owned()))
        }
        BodyKind::Form => {
            if at.is_empty() || at.chars().any(|c| c.is_control() || c == '&' || c == '=') {
                return Err(RegisterSpecError::new(
                    key,
                    "must be a form field name without `&`, `=` or control characters",
                ));
            }
            if at.starts_with('/') {
                // A JSON pointer on a form route would name a field no form has: every sign-up would be
                // refused as missing it.
                return Err(RegisterSpecError::new(
                    key,
                    format!("`{at}` is a JSON pointer, but this route reads a form: name the form field (`{}`)", at.trim_start_matches('/')),
                ));
            }
            Ok(FieldLocator::FormField(at.to_owned()))
        }
    }
}

fn valid_pointer_escapes(pointer: &str) -> bool {
    let b = pointer.as_bytes();
    b.iter()
        .enumerate()
        .all(|(i, c)| *c != b'~' || matches!(b.get(i + 1), Some(b'0' | b'1')))
}

/// Builds a field's check, refusing options that belong to other validators.
fn compile_check(kind: BodyKind, f: &FieldSpec, key: &str) -> Result<Check, RegisterSpecError> {
    let v = f.validator;
    let given: [(&str, bool); 9] = [
        ("allow_legacy_15", f.allow_legacy_15.is_some()),
        ("min_age", f.min_age.is_some()),
        ("prefixes", f.prefixes.is_some()),
        ("min_chars", f.min_chars.is_some()),
        ("max_chars", f.max_chars.is_some()),
        ("pattern", f.pattern.is_some()),
        ("values", f.values.is_some()),
        ("value", f.value.is_some()),
        ("accepted_values", f.accepted_values.is_some()),
    ];
    let allowed: &[&str] = match v {
        ValidatorKind::CnResidentId => &["allow_legacy_15", "min_age"],
        ValidatorKind::CnMobile => &["prefixes"],
        ValidatorKind::PersonName | ValidatorKind::Length => &["min_chars", "max_chars"],
        ValidatorKind::Regex => &["pattern"],
        ValidatorKind::OneOf => &["values"],
        ValidatorKind::Equals => &["value"],
        ValidatorKind::BooleanTrue => &["accepted_values"],
        ValidatorKind::E164 | ValidatorKind::Required => &[],
    };
    for (option, present) in given {
        if present && !allowed.contains(&option) {
            return Err(RegisterSpecError::new(
                format!("{key}.{option}"),
                format!("does not apply to validator `{}`", v.name()),
            ));
        }
    }
    let missing = |option: &str| {
        RegisterSpecError::new(
            format!("{key}.{option}"),
            format!("is required by validator `{}`", v.name()),
        )
    };
    Ok(match v {
        ValidatorKind::CnResidentId => {
            let min_age = f.min_age.unwrap_or(0);
            if min_age > 150 {
                return Err(RegisterSpecError::new(
                    format!("{key}.min_age"),
                    "must be at most 150",
                ));
            }
            Check::ResidentId(ResidentIdOptions {
                allow_legacy_15: f.allow_legacy_15.unwrap_or(false),
                min_age,
            })
        }
        ValidatorKind::CnMobile => {
            match &f.prefixes {
                None => Check::CnMobile(MobilePrefixes::default()),
                Some(list) => Check::CnMobile(MobilePrefixes::new(list).map_err(|e| {
                    RegisterSpecError::new(format!("{key}.prefixes"), e.to_string())
                })?),
            }
        }
        ValidatorKind::E164 => Check::E164,
        ValidatorKind::PersonName => {
            let defaults = NameOptions::default();
            let (min, max) = char_bounds(f, key, defaults.min_chars, Some(defaults.max_chars))?;
            if min == 0 {
                return Err(RegisterSpecError::new(
                    format!("{key}.min_chars"),
                    "a name needs at least 1 character",
                ));
            }
            Check::PersonName(NameOptions {
                min_chars: min,
                max_chars: max,
            })
        }
        ValidatorKind::Length => {
            let (min, max) = char_bounds(f, key, 0, None)?;
            Check::Length { min, max }
        }
        ValidatorKind::Regex => {
            let pattern = f.pattern.as_deref().ok_or_else(|| missing("pattern"))?;
            Check::Regex(FullMatch::new(pattern).map_err(|e| {
                // regex's message draws a caret under the pattern over three lines; a log line or an
                // admin answer wants one: the last line says what is wrong.
                let text = e.to_string();
                let what = text
                    .lines()
                    .last()
                    .unwrap_or(&text)
                    .trim_start_matches("error: ");
                RegisterSpecError::new(
                    format!("{key}.pattern"),
                    format!("invalid regex `{pattern}`: {what}"),
                )
            })?)
        }
        ValidatorKind::OneOf => {
            let values = f.values.clone().ok_or_else(|| missing("values"))?;
            if values.is_empty() {
                return Err(RegisterSpecError::new(
                    format!("{key}.values"),
                    "must list at least one value",
                ));
            }
            Check::OneOf(values)
        }
        ValidatorKind::Required => Check::Required,
        ValidatorKind::BooleanTrue => {
            if kind == BodyKind::Json && f.accepted_values.is_some() {
                return Err(RegisterSpecError::new(
                    format!("{key}.accepted_values"),
                    "applies to form bodies only: JSON needs the boolean true",
                ));
            }
            Check::BooleanTrue(accepted_values(
                f.accepted_values.as_ref(),
                &format!("{key}.accepted_values"),
            )?)
        }
        ValidatorKind::Equals => {
            let value = f.value.clone().ok_or_else(|| missing("value"))?;
            if kind == BodyKind::Form && !value.is_string() {
                return Err(RegisterSpecError::new(
                    format!("{key}.value"),
                    "must be a string for form bodies",
                ));
            }
            Check::Equals(value)
        }
    })
}

fn char_bounds(
    f: &FieldSpec,
    key: &str,
    default_min: usize,
    default_max: Option<usize>,
) -> Result<(usize, usize), RegisterSpecError> {
    let min = f.min_chars.unwrap_or(default_min);
    let max = f.max_chars.or(default_max).ok_or_else(|| {
        RegisterSpecError::new(
            format!("{key}.max_chars"),
            "is required by validator `length`",
        )
    })?;
    if max == 0 || min > max || max > 10_000 {
        return Err(RegisterSpecError::new(
            format!("{key}.max_chars"),
            "must be between 1 and 10000 and not below min_chars",
        ));
    }
    Ok((min, max))
}

fn accepted_values(
    given: Option<&Vec<String>>,
    key: &str,
) -> Result<Vec<String>, RegisterSpecError> {
    match given {
        None => Ok(vec!["1".to_owned(), "on".to_owned()]),
        Some(list) if list.is_empty() || list.iter().any(String::is_empty) => Err(
            RegisterSpecError::new(key, "must list at least one non-empty value"),
        ),
        Some(list) => Ok(list.clone()),
    }
}

fn compile_agreement(kind: BodyKind, a: &AgreementSpec) -> Result<Agreement, RegisterSpecError> {
    let accepted = locator(kind, &a.accepted_at, "agreement.accepted_at")?;
    let version = locator(kind, &a.version_at, "agreement.version_at")?;
    if a.accepted_at == a.version_at {
        return Err(RegisterSpecError::new(
            "agreement.version_at",
            "must differ from accepted_at",
        ));
    }
    if a.current.trim().is_empty() {
        return Err(RegisterSpecError::new(
            "agreement.current",
            "must not be empty",
        ));
    }
    if a.also_accepted.iter().any(|v| v.trim().is_empty()) {
        return Err(RegisterSpecError::new(
            "agreement.also_accepted",
            "must not contain empty versions",
        ));
    }
    if kind == BodyKind::Json && a.accepted_values.is_some() {
        return Err(RegisterSpecError::new(
            "agreement.accepted_values",
            "applies to form bodies only: JSON needs the boolean true",
        ));
    }
    Ok(Agreement {
        accepted_at: a.accepted_at.clone(),
        accepted,
        version_at: a.version_at.clone(),
        version,
        current: a.current.clone(),
        also_accepted: a.also_accepted.clone(),
        accepted_values: accepted_values(a.accepted_values.as_ref(), "agreement.accepted_values")?,
    })
}

#[cfg(test)]
mod tests;
