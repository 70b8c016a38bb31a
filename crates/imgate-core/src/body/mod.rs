//! Strict inspection of request bodies.
//!
//! The gateway decides on exactly the bytes the upstream will receive, so parsing here is
//! stricter than any upstream parser: duplicate keys (at any depth), invalid UTF-8, lone
//! surrogates and non-object top-level values are refused instead of being interpreted
//! one way here and another way upstream.

pub mod form;
pub mod json;

pub use form::{FormError, FormFields};
pub use json::{parse_strict_object, JsonError};

/// A request body that passed strict parsing, ready for rules to read fields from.
#[derive(Debug, Clone, PartialEq)]
pub enum InspectedBody {
    /// A JSON object (the top-level value is always an object).
    Json(serde_json::Value),
    /// An `application/x-www-form-urlencoded` body.
    Form(FormFields),
}

/// Where a rule finds a field: a JSON pointer (`/agreement/version`) or a form field name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldLocator {
    JsonPointer(String),
    FormField(String),
}

/// The value found at a locator, kept typed: a JSON string `"true"` is not `true`.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    Missing,
    Json(&'a serde_json::Value),
    Form(&'a str),
}

/// A form field that a rule reads appeared more than once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("form field `{0}` appears more than once")]
pub struct RepeatedField(pub String);

impl InspectedBody {
    /// Looks a field up. A form field that appears twice is an error, never a silent pick:
    /// the gateway and the upstream could pick different copies.
    pub fn get<'a>(&'a self, locator: &FieldLocator) -> Result<FieldValue<'a>, RepeatedField> {
        match (self, locator) {
            (InspectedBody::Json(value), FieldLocator::JsonPointer(pointer)) => Ok(value
                .pointer(pointer)
                .map(FieldValue::Json)
                .unwrap_or(FieldValue::Missing)),
            (InspectedBody::Form(fields), FieldLocator::FormField(name)) => fields
                .unique(name)
                .map(|v| v.map(FieldValue::Form).unwrap_or(FieldValue::Missing)),
            _ => Ok(FieldValue::Missing),
        }
    }
}

impl<'a> FieldValue<'a> {
    /// The value as a string if it is one (a JSON string or any form value).
    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            FieldValue::Json(serde_json::Value::String(s)) => Some(s.as_str()),
            FieldValue::Form(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_missing(&self) -> bool {
        matches!(
            self,
            FieldValue::Missing | FieldValue::Json(serde_json::Value::Null)
        )
    }
}
