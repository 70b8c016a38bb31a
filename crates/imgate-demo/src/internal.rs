//! The provider's approval service (`/api/v1/internal/publishers[/{account_id}]`), which
//! imgate's HTTP approval source queries.

use http::StatusCode;
use serde_json::json;

use crate::app::App;
use crate::http::{error, json_value, Resp};

/// `GET /api/v1/internal/publishers`: the whole list and its version.
pub async fn list(app: &App) -> Resp {
    if let Some(resp) = injected_fault(app).await {
        return resp;
    }
    app.approvals.refresh();
    json_value(StatusCode::OK, &app.approvals.snapshot())
}

/// `GET /api/v1/internal/publishers/{account_id}`: one account's approval. Unknown accounts
/// are simply not approved, as an approval service knows nothing of the account store.
pub async fn one(app: &App, account_id: &str) -> Resp {
    if let Some(resp) = injected_fault(app).await {
        return resp;
    }
    app.approvals.refresh();
    let categories = app.approvals.lookup(account_id);
    json_value(
        StatusCode::OK,
        &json!({
            "account_id": account_id,
            "approved": categories.is_some(),
            "categories": categories.unwrap_or_default(),
        }),
    )
}

/// Applies the configured delay, then the forced status if any.
async fn injected_fault(app: &App) -> Option<Resp> {
    let faults = app.approvals.faults();
    if let Some(delay) = faults.delay() {
        tokio::time::sleep(delay).await;
    }
    let status = StatusCode::from_u16(faults.publishers_status?).ok()?;
    Some(error(status, "injected fault"))
}
