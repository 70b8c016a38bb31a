//! The JSON error envelope, the same for every rejection the gateway makes.
//!
//! Default shape: `{"error":{"code":"...","message":"...","request_id":"...","violations":[...]}}`.
//! Field names (and the wrapping object) are configurable, so a legacy client that
//! expects the old server's error shape (e.g. `{"ret":1,"msg":"..."}`) keeps working.

use crate::decision::Rejection;
use serde_json::{Map, Value};

/// Names of the envelope's fields; `None` leaves a field out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnvelopeSpec {
    /// Key of the wrapping object; empty puts the fields at the top level.
    pub wrap: String,
    pub code_field: String,
    pub message_field: String,
    /// Empty leaves the violations list out.
    pub violations_field: String,
    /// Empty leaves the request id out.
    pub request_id_field: String,
    /// Extra constant members added at the top level (e.g. `ret = 1` for legacy clients).
    pub constants: std::collections::BTreeMap<String, serde_json::Value>,
}

impl Default for EnvelopeSpec {
    fn default() -> Self {
        EnvelopeSpec {
            wrap: "error".into(),
            code_field: "code".into(),
            message_field: "message".into(),
            violations_field: "violations".into(),
            request_id_field: "request_id".into(),
            constants: Default::default(),
        }
    }
}

impl EnvelopeSpec {
    /// Renders a rejection as the JSON body sent to the client.
    pub fn render(&self, rejection: &Rejection, request_id: Option<&str>) -> Vec<u8> {
        let mut fields = Map::new();
        if !self.code_field.is_empty() {
            fields.insert(
                self.code_field.clone(),
                Value::from(rejection.code.as_ref()),
            );
        }
        if !self.message_field.is_empty() {
            fields.insert(
                self.message_field.clone(),
                Value::from(rejection.message.as_ref()),
            );
        }
        if let (false, Some(id)) = (self.request_id_field.is_empty(), request_id) {
            fields.insert(self.request_id_field.clone(), Value::from(id));
        }
        if !self.violations_field.is_empty() && !rejection.violations.is_empty() {
            let list = serde_json::to_value(&rejection.violations).unwrap_or(Value::Null);
            fields.insert(self.violations_field.clone(), list);
        }
        let mut top = Map::new();
        for (k, v) in &self.constants {
            top.insert(k.clone(), v.clone());
        }
        if self.wrap.is_empty() {
            top.extend(fields);
        } else {
            top.insert(self.wrap.clone(), Value::Object(fields));
        }
        let mut out = serde_json::to_vec(&Value::Object(top)).unwrap_or_default();
        out.push(b'\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::Violation;

    #[test]
    fn default_envelope() {
        let r = Rejection::violations(
            "registration rejected",
            vec![Violation {
                field: "phone".into(),
                code: "registration.phone.prefix".into(),
                message: "not a mainland mobile prefix".into(),
            }],
        );
        let body = EnvelopeSpec::default().render(&r, Some("req-1"));
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["code"], "registration.phone.prefix");
        assert_eq!(v["error"]["request_id"], "req-1");
        assert_eq!(v["error"]["violations"][0]["field"], "phone");
    }

    #[test]
    fn legacy_shape() {
        let spec = EnvelopeSpec {
            wrap: String::new(),
            code_field: "code".into(),
            message_field: "msg".into(),
            violations_field: String::new(),
            request_id_field: String::new(),
            constants: [("ret".to_owned(), Value::from(1))].into_iter().collect(),
        };
        let body = spec.render(
            &Rejection::new(403, "publish.not_approved", "no"),
            Some("x"),
        );
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "{\"ret\":1,\"code\":\"publish.not_approved\",\"msg\":\"no\"}\n"
        );
    }
}
