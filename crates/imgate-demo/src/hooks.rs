//! Test hooks under `/__demo/`: counters, the request log, reset, and the extensions for the
//! approval service (faults, approve, revoke). Requests to them are neither counted nor logged.

use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::app::App;
use crate::approvals::Faults;
use crate::http::{error, json, json_value, query_param, Resp};
use crate::log::LOG_CAPACITY;
use crate::publishers::Publisher;

/// `GET /__demo/stats`
pub fn stats(app: &App) -> Resp {
    json(StatusCode::OK, app.stats.to_json())
}

/// `GET /__demo/requests?limit=N` (default: everything kept).
pub fn requests(app: &App, query: Option<&str>) -> Resp {
    let limit = match query_param(query, "limit") {
        None => LOG_CAPACITY,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) => n,
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "limit must be a non-negative integer",
                )
            }
        },
    };
    json(StatusCode::OK, app.log.to_json(limit))
}

/// `POST /__demo/reset`
pub fn reset(app: &App) -> Resp {
    app.reset();
    json_value(StatusCode::OK, &json!({ "reset": true }))
}

/// `GET /__demo/faults`
pub fn faults(app: &App) -> Resp {
    json_value(StatusCode::OK, &json!({ "faults": app.approvals.faults() }))
}

/// `POST /__demo/faults`: the body replaces the current faults (omitted keys mean "none").
pub fn set_faults(app: &App, body: &[u8]) -> Resp {
    let faults: Faults = match serde_json::from_slice(body) {
        Ok(faults) => faults,
        Err(err) => return error(StatusCode::BAD_REQUEST, &format!("malformed faults: {err}")),
    };
    // 1xx cannot be a final status, and hyper rejects codes outside 100-999.
    if faults
        .publishers_status
        .is_some_and(|s| !(200..=599).contains(&s))
    {
        return error(
            StatusCode::BAD_REQUEST,
            "publishers_status must be between 200 and 599",
        );
    }
    app.approvals.set_faults(faults);
    json_value(StatusCode::OK, &json!({ "faults": faults }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Approval {
    account_id: String,
    categories: Vec<String>,
}

/// `GET /__demo/publishers`: the list as the approval service would serve it, without faults.
pub fn publishers(app: &App) -> Resp {
    app.approvals.refresh();
    json_value(StatusCode::OK, &app.approvals.snapshot())
}

/// `POST /__demo/publishers`: approve an account in memory.
pub fn approve(app: &App, body: &[u8]) -> Resp {
    let approval: Approval = match serde_json::from_slice(body) {
        Ok(approval) => approval,
        Err(err) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("malformed approval: {err}"),
            )
        }
    };
    if approval.account_id.is_empty()
        || approval.categories.is_empty()
        || approval.categories.iter().any(String::is_empty)
    {
        return error(
            StatusCode::BAD_REQUEST,
            "account_id and a non-empty list of categories are required",
        );
    }
    // Pick up a pending file change first, so this edit is not lost to it right away.
    app.approvals.refresh();
    let snapshot = app.approvals.approve(Publisher {
        account_id: approval.account_id,
        categories: approval.categories,
    });
    json_value(StatusCode::OK, &snapshot)
}

/// `DELETE /__demo/publishers/{account_id}`: revoke an approval in memory.
pub fn revoke(app: &App, account_id: &str) -> Resp {
    app.approvals.refresh();
    match app.approvals.revoke(account_id) {
        Some(snapshot) => json_value(StatusCode::OK, &snapshot),
        None => error(StatusCode::NOT_FOUND, "not an approved publisher"),
    }
}
