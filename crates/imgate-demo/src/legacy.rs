//! `POST /legacy/register.do`: the form endpoint of the old web front end.
//!
//! Like the servers it imitates, it always answers 200 and reports the outcome in a `ret` code:
//! 0 success (with `uid`), 1 username taken, 2 invalid input.

use http::StatusCode;
use serde_json::{json, Map, Value};

use crate::app::App;
use crate::http::{json_value, Resp};
use crate::store::{is_profile_key, NewAccount, PrivateData, RegisterError};

const RET_OK: u8 = 0;
const RET_TAKEN: u8 = 1;
const RET_INVALID: u8 = 2;

pub fn register(app: &App, body: &[u8]) -> Resp {
    // Later duplicates win, as in most old form parsers.
    let mut fields: Map<String, Value> = Map::new();
    for (key, value) in form_urlencoded::parse(body) {
        fields.insert(key.into_owned(), Value::String(value.into_owned()));
    }
    let mut text = |key: &str| match fields.remove(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    };
    let (Some(username), Some(password)) = (text("username"), text("password")) else {
        return reply(RET_INVALID, "username and password are required");
    };
    let display_name = text("display_name");
    let accepted = text("agree").is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("on"));
    let version = text("agreement_version");
    let private = PrivateData {
        real_name: text("real_name"),
        id_number: text("id_number"),
        phone: text("phone"),
        agreement: Some(json!({ "accepted": accepted, "version": version })),
    };
    // Every known field was taken out above; what is left becomes profile keys.
    let profile = fields
        .into_iter()
        .filter(|(key, _)| is_profile_key(key))
        .collect();
    let new = NewAccount {
        username,
        password,
        display_name,
        private,
        profile,
    };
    match app.store.register(new) {
        Ok(account) => json_value(
            StatusCode::OK,
            &json!({ "ret": RET_OK, "uid": account.id() }),
        ),
        Err(err @ RegisterError::UsernameTaken) => reply(RET_TAKEN, &err.to_string()),
        Err(err) => reply(RET_INVALID, &err.to_string()),
    }
}

fn reply(ret: u8, msg: &str) -> Resp {
    json_value(StatusCode::OK, &json!({ "ret": ret, "msg": msg }))
}
