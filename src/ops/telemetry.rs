//! The shipped [`EventSink`]: Prometheus metrics for every request, an audit line for
//! every decision on an enforced route.

use super::audit::{AuditLog, AuditRecord};
use super::metrics::Metrics;
use crate::proxy::{EventSink, RequestEvent};

pub struct Telemetry {
    pub metrics: Metrics,
    pub audit: AuditLog,
}

impl EventSink for Telemetry {
    fn request_finished(&self, event: &RequestEvent<'_>) {
        self.metrics.observe_request(
            event.route_kind,
            event.status,
            event.decision,
            event.total_seconds,
            event.upstream_seconds,
        );
        if let Some(bytes) = event.body_bytes {
            self.metrics.observe_body(event.route_kind, bytes);
        }
        if let Some((approved, total)) = event.marked {
            self.metrics.marked(approved, total);
        }
        if let Some(kind) = event.upstream_error {
            self.metrics.upstream_error(kind);
        }
        // Marking alone is not a decision about the request; everything else enforced is.
        let decided = event.enforced && event.route_kind != "mark";
        if decided || (event.enforced && event.decision != "allow" && event.decision != "pass") {
            let rejected = event.decision != "allow" && event.decision != "pass";
            self.audit.write(&AuditRecord {
                time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                request_id: event.request_id,
                route: event.route,
                method: event.method,
                path: event.path.to_owned(),
                account: event.account,
                decision: if rejected { "reject" } else { "allow" },
                reason: event.decision,
                status: event.status,
                categories: event.categories,
                fields: event.masked_fields,
            });
        }
    }
}
