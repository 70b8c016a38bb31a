//! Decisions, reason codes and violations shared by every rule.
//!
//! A rejection carries a *stable* reason code (`registration.id_number.checksum`,
//! `publish.not_approved`, ...) that clients and dashboards may rely on, the HTTP status
//! it maps to, a message that tells the client what to fix, and for rule violations the
//! list of every violated field. Messages never contain a full ID or phone number.

use std::borrow::Cow;

/// One violated rule on one field, reported to the client in the `violations` list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    /// The field as the client knows it (JSON pointer or form field name, as configured).
    pub field: String,
    /// Stable code, e.g. `registration.id_number.checksum`.
    pub code: String,
    /// What is wrong and how to fix it; never echoes a full ID or phone number.
    pub message: String,
}

/// A request the gateway refuses, with everything needed to render the error envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    pub code: Cow<'static, str>,
    pub message: Cow<'static, str>,
    pub violations: Vec<Violation>,
}

impl Rejection {
    pub fn new(
        status: u16,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Rejection {
            status,
            code: code.into(),
            message: message.into(),
            violations: Vec::new(),
        }
    }

    /// A 422 listing every violation; the top-level code is the first violation's.
    pub fn violations(summary: &'static str, violations: Vec<Violation>) -> Self {
        let code = violations
            .first()
            .map(|v| Cow::Owned(v.code.clone()))
            .unwrap_or(Cow::Borrowed("rule.violation"));
        Rejection {
            status: 422,
            code,
            message: Cow::Borrowed(summary),
            violations,
        }
    }
}
