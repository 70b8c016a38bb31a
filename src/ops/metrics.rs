//! Prometheus metrics, all prefixed `imgate_`.
//!
//! Request-path metrics live in a `prometheus` registry; lookup counters are read from
//! the live policy's sources at scrape time (they belong to the sources, which a reload
//! replaces, so they may reset — Prometheus' `rate()` handles counter resets).

use crate::config::Policy;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
};
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

/// A lookup counter: metric name, help text, and how to read it from the stats.
type LookupCounter = (
    &'static str,
    &'static str,
    fn(&crate::lookups::LookupStats) -> u64,
);

/// The gateway's metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    decisions: IntCounterVec,
    duration: HistogramVec,
    upstream_duration: HistogramVec,
    body_bytes: HistogramVec,
    upstream_errors: IntCounterVec,
    marked_accounts: IntCounterVec,
    reloads: IntCounterVec,
    last_reload_success: IntGauge,
    last_reload_time: IntGauge,
    /// Series of the request path, resolved once per label set (see [`Hot`]).
    hot: Arc<Hot>,
    audit_queued: IntGauge,
    audit_waited: IntCounter,
}

/// Route kinds the gateway reports (`RouteAction::kind`, and `default` for no route).
const ROUTE_KINDS: [&str; 8] = [
    "default",
    "pass",
    "deny",
    "register",
    "register+mark",
    "publish",
    "publish+mark",
    "mark",
];

/// Statuses whose per-kind request counters are kept resolved.
const HOT_STATUSES: [u16; 10] = [200, 201, 204, 304, 400, 401, 403, 404, 413, 422];

/// The request path's series for the common label values, each resolved on first use:
/// `with_label_values` hashes its labels and takes a lock on every call. Lazily, so a
/// series appears in the exposition only once it has been observed, as before.
#[derive(Default)]
struct Hot {
    duration: [OnceLock<Histogram>; ROUTE_KINDS.len()],
    upstream_duration: [OnceLock<Histogram>; ROUTE_KINDS.len()],
    body_bytes: [OnceLock<Histogram>; ROUTE_KINDS.len()],
    requests: [[OnceLock<IntCounter>; HOT_STATUSES.len()]; ROUTE_KINDS.len()],
    /// `pass` and `allow`.
    decisions: [OnceLock<IntCounter>; 2],
}

fn kind_index(kind: &str) -> Option<usize> {
    ROUTE_KINDS.iter().position(|k| *k == kind)
}

fn slot<T>(series: &[OnceLock<T>], kind: Option<usize>) -> Option<&OnceLock<T>> {
    series.get(kind?)
}

/// The series of `vec` for `labels`, through `slot` when there is one.
fn resolved<'s, T: prometheus::core::MetricVecBuilder>(
    slot: Option<&'s OnceLock<T::M>>,
    vec: &prometheus::core::MetricVec<T>,
    labels: &[&str],
) -> std::borrow::Cow<'s, T::M>
where
    T::M: Clone,
{
    match slot {
        Some(slot) => {
            std::borrow::Cow::Borrowed(slot.get_or_init(|| vec.with_label_values(labels)))
        }
        None => std::borrow::Cow::Owned(vec.with_label_values(labels)),
    }
}

const LATENCY_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];
const SIZE_BUCKETS: [f64; 8] = [
    64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0,
];

impl Metrics {
    /// Creates and registers every metric. Fails only on a programming error (a
    /// duplicate or malformed metric name).
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "imgate_requests_total",
                "Requests by route kind and response status",
            ),
            &["route_kind", "status"],
        )?;
        let decisions = IntCounterVec::new(
            Opts::new("imgate_decisions_total", "Gateway decisions by reason code"),
            &["reason"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "imgate_request_duration_seconds",
                "Total request time in the gateway",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route_kind"],
        )?;
        let upstream_duration = HistogramVec::new(
            HistogramOpts::new(
                "imgate_upstream_duration_seconds",
                "Time from forwarding to the upstream's response header",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route_kind"],
        )?;
        let body_bytes = HistogramVec::new(
            HistogramOpts::new(
                "imgate_request_body_bytes",
                "Sizes of request bodies inspected on enforced routes",
            )
            .buckets(SIZE_BUCKETS.to_vec()),
            &["route_kind"],
        )?;
        let upstream_errors = IntCounterVec::new(
            Opts::new("imgate_upstream_errors_total", "Upstream failures by kind"),
            &["kind"],
        )?;
        let marked_accounts = IntCounterVec::new(
            Opts::new(
                "imgate_marked_accounts_total",
                "Account objects marked in responses",
            ),
            &["approved"],
        )?;
        let reloads = IntCounterVec::new(
            Opts::new("imgate_reloads_total", "Configuration reloads by result"),
            &["result"],
        )?;
        let last_reload_success = IntGauge::new(
            "imgate_last_reload_success",
            "1 when the last reload succeeded, 0 when it was refused",
        )?;
        let last_reload_time = IntGauge::new(
            "imgate_last_reload_timestamp_seconds",
            "Unix time of the last reload attempt",
        )?;
        let audit_queued = IntGauge::new(
            "imgate_audit_queue_lines",
            "Audit lines queued for the audit writer and not yet written",
        )?;
        let audit_waited = IntCounter::new(
            "imgate_audit_queue_full_total",
            "Audit records that found the queue full and waited for room (a slow audit output)",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(decisions.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(upstream_duration.clone()))?;
        registry.register(Box::new(body_bytes.clone()))?;
        registry.register(Box::new(upstream_errors.clone()))?;
        registry.register(Box::new(marked_accounts.clone()))?;
        registry.register(Box::new(reloads.clone()))?;
        registry.register(Box::new(last_reload_success.clone()))?;
        registry.register(Box::new(last_reload_time.clone()))?;
        registry.register(Box::new(audit_queued.clone()))?;
        registry.register(Box::new(audit_waited.clone()))?;
        last_reload_success.set(1);
        Ok(Metrics {
            registry,
            requests,
            decisions,
            duration,
            upstream_duration,
            body_bytes,
            upstream_errors,
            marked_accounts,
            reloads,
            last_reload_success,
            last_reload_time,
            hot: Arc::default(),
            audit_queued,
            audit_waited,
        })
    }

    /// Records one finished request.
    pub fn observe_request(
        &self,
        route_kind: &str,
        status: u16,
        decision: &str,
        total_seconds: f64,
        upstream_seconds: Option<f64>,
    ) {
        let kind = kind_index(route_kind);
        let mut buf = itoa::Buffer::new();
        let status_slot = kind.and_then(|k| {
            let i = HOT_STATUSES.iter().position(|s| *s == status)?;
            Some(&self.hot.requests[k][i])
        });
        resolved(
            status_slot,
            &self.requests,
            &[route_kind, buf.format(status)],
        )
        .inc();
        let decision_slot = match decision {
            "pass" => Some(&self.hot.decisions[0]),
            "allow" => Some(&self.hot.decisions[1]),
            _ => None,
        };
        resolved(decision_slot, &self.decisions, &[decision]).inc();
        resolved(
            slot(&self.hot.duration, kind),
            &self.duration,
            &[route_kind],
        )
        .observe(total_seconds);
        if let Some(upstream) = upstream_seconds {
            resolved(
                slot(&self.hot.upstream_duration, kind),
                &self.upstream_duration,
                &[route_kind],
            )
            .observe(upstream);
        }
    }

    pub fn observe_body(&self, route_kind: &str, bytes: usize) {
        let slot = slot(&self.hot.body_bytes, kind_index(route_kind));
        resolved(slot, &self.body_bytes, &[route_kind]).observe(bytes as f64);
    }

    /// The audit queue's gauges, for [`crate::ops::audit::AuditLog`].
    pub fn audit_queue(&self) -> crate::ops::audit::QueueGauges {
        crate::ops::audit::QueueGauges {
            queued: self.audit_queued.clone(),
            waited: self.audit_waited.clone(),
        }
    }

    pub fn upstream_error(&self, kind: &str) {
        self.upstream_errors.with_label_values(&[kind]).inc();
    }

    pub fn marked(&self, approved: usize, total: usize) {
        self.marked_accounts
            .with_label_values(&["true"])
            .inc_by(approved as u64);
        self.marked_accounts
            .with_label_values(&["false"])
            .inc_by(total.saturating_sub(approved) as u64);
    }

    pub fn reload(&self, ok: bool) {
        self.reloads
            .with_label_values(&[if ok { "ok" } else { "refused" }])
            .inc();
        self.last_reload_success.set(i64::from(ok));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        self.last_reload_time.set(now);
    }

    /// The Prometheus text exposition of everything, lookups of `policy` included.
    pub fn render(&self, policy: &Policy) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::warn!(error = %e, "cannot encode metrics");
        }
        let mut text = String::from_utf8_lossy(&out).into_owned();
        let mut sources = Vec::new();
        if let Some(identity) = &policy.identity {
            sources.push(("identity", identity.stats()));
        }
        if let Some(approval) = &policy.approval {
            sources.push(("approval", approval.stats()));
        }
        let counters: [LookupCounter; 8] = [
            (
                "imgate_lookup_hits_total",
                "Lookup answers served from memory",
                |s| s.hits,
            ),
            (
                "imgate_lookup_misses_total",
                "Lookup answers that needed the source",
                |s| s.misses,
            ),
            (
                "imgate_lookup_coalesced_total",
                "Lookups that waited for an identical in-flight request",
                |s| s.coalesced,
            ),
            (
                "imgate_lookup_errors_total",
                "Lookup source failures",
                |s| s.errors,
            ),
            (
                "imgate_lookup_negatives_total",
                "Negative lookup answers",
                |s| s.negatives,
            ),
            (
                "imgate_lookup_stale_serves_total",
                "Stale answers served because the source failed",
                |s| s.stale_serves,
            ),
            (
                "imgate_lookup_reloads_total",
                "Successful reloads of a lookup's whole set",
                |s| s.reloads,
            ),
            (
                "imgate_lookup_reload_errors_total",
                "Refused reloads of a lookup's whole set",
                |s| s.reload_errors,
            ),
        ];
        for (name, help, get) in counters {
            let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} counter");
            for (lookup, stats) in &sources {
                let _ = writeln!(text, "{name}{{lookup=\"{lookup}\"}} {}", get(stats));
            }
        }
        let _ = writeln!(
            text,
            "# HELP imgate_lookup_entries Entries held in memory by a lookup\n# TYPE imgate_lookup_entries gauge"
        );
        for (lookup, stats) in &sources {
            let _ = writeln!(
                text,
                "imgate_lookup_entries{{lookup=\"{lookup}\"}} {}",
                stats.entries
            );
        }
        let _ = writeln!(
            text,
            "# HELP imgate_lookup_snapshot_age_seconds Age of a lookup's in-memory set\n# TYPE imgate_lookup_snapshot_age_seconds gauge"
        );
        for (lookup, stats) in &sources {
            if let Some(age) = stats.snapshot_age {
                let _ = writeln!(
                    text,
                    "imgate_lookup_snapshot_age_seconds{{lookup=\"{lookup}\"}} {}",
                    age.as_secs_f64()
                );
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exposition(m: &Metrics) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&m.registry.gather(), &mut out)
            .expect("encodes");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn resolved_and_looked_up_series_count_alike() {
        let m = Metrics::new().expect("metrics");
        // Hot label values (kept resolved) and cold ones (looked up each time), twice each.
        for _ in 0..2 {
            m.observe_request("pass", 200, "pass", 0.001, Some(0.0005));
            m.observe_request("pass", 599, "upstream.odd", 0.002, None);
            m.observe_request("embedder-kind", 200, "allow", 0.003, None);
            m.observe_body("publish", 100);
            m.observe_body("embedder-kind", 100);
        }
        let text = exposition(&m);
        for line in [
            r#"imgate_requests_total{route_kind="pass",status="200"} 2"#,
            r#"imgate_requests_total{route_kind="pass",status="599"} 2"#,
            r#"imgate_requests_total{route_kind="embedder-kind",status="200"} 2"#,
            r#"imgate_decisions_total{reason="pass"} 2"#,
            r#"imgate_decisions_total{reason="allow"} 2"#,
            r#"imgate_decisions_total{reason="upstream.odd"} 2"#,
            r#"imgate_request_duration_seconds_count{route_kind="pass"} 4"#,
            r#"imgate_request_duration_seconds_count{route_kind="embedder-kind"} 2"#,
            r#"imgate_upstream_duration_seconds_count{route_kind="pass"} 2"#,
            r#"imgate_request_body_bytes_count{route_kind="publish"} 2"#,
            r#"imgate_request_body_bytes_count{route_kind="embedder-kind"} 2"#,
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in\n{text}"
            );
        }
        // Series appear only once observed.
        assert!(!text.contains(r#"route_kind="register""#), "{text}");
    }
}
