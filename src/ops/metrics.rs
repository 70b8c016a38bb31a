//! Prometheus metrics, all prefixed `imgate_`.
//!
//! Request-path metrics live in a `prometheus` registry; lookup counters are read from
//! the live policy's sources at scrape time (they belong to the sources, which a reload
//! replaces, so they may reset — Prometheus' `rate()` handles counter resets).

use crate::config::Policy;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use std::fmt::Write as _;

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
        let mut buf = itoa::Buffer::new();
        self.requests
            .with_label_values(&[route_kind, buf.format(status)])
            .inc();
        self.decisions.with_label_values(&[decision]).inc();
        self.duration
            .with_label_values(&[route_kind])
            .observe(total_seconds);
        if let Some(upstream) = upstream_seconds {
            self.upstream_duration
                .with_label_values(&[route_kind])
                .observe(upstream);
        }
    }

    pub fn observe_body(&self, route_kind: &str, bytes: usize) {
        self.body_bytes
            .with_label_values(&[route_kind])
            .observe(bytes as f64);
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
