//! Figures of a run: per-scenario tables on stdout, ratios, and the JSON report.

use crate::check::{Check, Outcome};
use crate::generator::Tally;
use crate::scenario::{Rules, ScenarioId, Variant};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// The targets the issue asks the gateway to hold, against plain pingora on the same request.
pub const GOALS: [(ScenarioId, f64); 3] = [
    (ScenarioId::Passthrough, 0.95),
    (ScenarioId::Publish, 0.85),
    (ScenarioId::Marked, 0.75),
];

/// One target driven with one scenario.
pub struct Measurement {
    pub target: &'static str,
    pub tally: Tally,
    pub window: Duration,
    /// Server CPU time (proxy and demo server together) and the proxy's alone, over the window
    /// plus warm-up, divided by all requests answered then.
    pub server_cpu_us_per_req: Option<f64>,
    pub proxy_cpu_us_per_req: Option<f64>,
    /// The generator's CPU use over the run, as a fraction of one core (near 1.0 means the
    /// generator may be the bottleneck).
    pub client_cpu_share: Option<f64>,
    /// With `--instructions`: instructions the proxy and the demo server executed per request
    /// answered in the measured window (callgrind; user space only).
    pub proxy_instructions_per_req: Option<f64>,
    pub upstream_instructions_per_req: Option<f64>,
}

impl Measurement {
    /// Server CPU per request in units of the demo server's own CPU per request in the same
    /// measurement. The demo server does the same work per request behind every target (when
    /// every request reaches it), so a change of the machine's speed between measurements,
    /// which moves both, cancels out.
    pub fn cost_in_demo_units(&self) -> Option<f64> {
        let server = self.server_cpu_us_per_req?;
        let demo = match self.proxy_cpu_us_per_req {
            Some(proxy) => server - proxy,
            None => server,
        };
        (demo > 0.0).then(|| server / demo)
    }

    pub fn rps(&self) -> f64 {
        self.tally.requests as f64 / self.window.as_secs_f64().max(1e-9)
    }

    fn percentile_us(&self, q: f64) -> f64 {
        self.tally.latency.value_at_quantile(q) as f64 / 1_000.0
    }

    fn json(&self, variants: &[Variant]) -> Value {
        let t = &self.tally;
        let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
        let mut by_variant = Map::new();
        for (variant, counts) in variants.iter().zip(&t.statuses) {
            for (status, n) in counts {
                *statuses.entry(*status).or_default() += n;
            }
            let counts: Map<String, Value> = counts
                .iter()
                .map(|(s, n)| (s.to_string(), json!(n)))
                .collect();
            by_variant.insert(variant.kind.name(), Value::Object(counts));
        }
        json!({
            "requests": t.requests,
            "rps": round(self.rps(), 1),
            "latency_us": {
                "p50": round(self.percentile_us(0.5), 1),
                "p90": round(self.percentile_us(0.9), 1),
                "p99": round(self.percentile_us(0.99), 1),
                "p99_9": round(self.percentile_us(0.999), 1),
                "max": round(t.latency.max() as f64 / 1_000.0, 1),
                "mean": round(t.latency.mean() / 1_000.0, 1),
            },
            "errors": t.errors(),
            "transport_errors": t.transport_errors,
            "unexpected_status": t.unexpected,
            "statuses": statuses.iter().map(|(s, n)| (s.to_string(), json!(n))).collect::<Map<_, _>>(),
            "statuses_by_request": by_variant,
            "reasons": t.codes,
            "reasons_sampled": { "parsed": t.code_sampled, "error_responses": t.code_total },
            "server_cpu_us_per_req": self.server_cpu_us_per_req.map(|v| round(v, 1)),
            "proxy_cpu_us_per_req": self.proxy_cpu_us_per_req.map(|v| round(v, 1)),
            "client_cpu_share": self.client_cpu_share.map(|v| round(v, 2)),
            "instructions_per_req": {
                "proxy": self.proxy_instructions_per_req.map(|v| round(v, 0)),
                "upstream": self.upstream_instructions_per_req.map(|v| round(v, 0)),
            },
            "samples": t.samples,
        })
    }
}

/// All measurements of one scenario, in target order.
pub struct ScenarioResult {
    pub id: ScenarioId,
    pub variants: Vec<Variant>,
    pub measurements: Vec<Measurement>,
    /// imgate/pingora of every round, in round order, when `--rounds` is above 1 (the
    /// measurements above are those of the median round).
    pub round_ratios: Vec<f64>,
}

impl ScenarioResult {
    fn get(&self, target: &str) -> Option<&Measurement> {
        self.measurements.iter().find(|m| m.target == target)
    }

    /// imgate's throughput over `baseline`'s, on the same requests.
    pub fn ratio(&self, baseline: &str) -> Option<f64> {
        let gateway = self.get("imgate")?.rps();
        let base = self.get(baseline)?.rps();
        (base > 0.0).then(|| gateway / base)
    }

    /// Server CPU per request of `baseline` over imgate's (proxy plus demo server): the same
    /// ratio measured by cost instead of throughput, steadier on a shared, noisy machine.
    pub fn cpu_ratio(&self, baseline: &str) -> Option<f64> {
        let gateway = self.get("imgate")?.server_cpu_us_per_req?;
        let base = self.get(baseline)?.server_cpu_us_per_req?;
        (gateway > 0.0).then(|| base / gateway)
    }

    /// With `--instructions`: `baseline`'s instructions per request over imgate's, the proxy
    /// alone (how much more work imgate's own process does per request).
    pub fn proxy_instruction_ratio(&self, baseline: &str) -> Option<f64> {
        let gateway = self.get("imgate")?.proxy_instructions_per_req?;
        let base = self.get(baseline)?.proxy_instructions_per_req?;
        (gateway > 0.0).then(|| base / gateway)
    }

    /// With `--instructions`: the throughput ratio the instruction counts predict when the
    /// servers share one core, i.e. `baseline`'s instructions per request (proxy plus demo
    /// server) over imgate's. Leaves out the kernel's share of each request.
    pub fn instruction_ratio(&self, baseline: &str) -> Option<f64> {
        let total = |m: &Measurement| {
            Some(m.upstream_instructions_per_req? + m.proxy_instructions_per_req.unwrap_or(0.0))
        };
        let gateway = total(self.get("imgate")?)?;
        let base = total(self.get(baseline)?)?;
        (gateway > 0.0).then(|| base / gateway)
    }

    /// Of several rounds of one scenario, the one with the median imgate/pingora ratio, carrying
    /// every round's ratio (rounds without that ratio, e.g. `--target` runs, keep the first).
    pub fn median_of(mut rounds: Vec<ScenarioResult>) -> Option<ScenarioResult> {
        let ratios: Vec<f64> = rounds.iter().filter_map(|r| r.ratio("pingora")).collect();
        let pick = if ratios.len() == rounds.len() && rounds.len() > 1 {
            let mut order: Vec<usize> = (0..rounds.len()).collect();
            order.sort_by(|&a, &b| ratios[a].total_cmp(&ratios[b]));
            order[(order.len() - 1) / 2]
        } else {
            0
        };
        if pick >= rounds.len() {
            return None;
        }
        let mut chosen = rounds.swap_remove(pick);
        if ratios.len() > 1 {
            chosen.round_ratios = ratios;
        }
        Some(chosen)
    }

    /// [`ScenarioResult::cpu_ratio`] with each target's cost in units of the demo server's
    /// CPU per request in the same measurement ([`Measurement::cost_in_demo_units`]): steady
    /// when the machine's speed drifts between measurements. Exact where imgate forwards every
    /// request (passthrough, marked); where it rejects some (publish, register, mix) the demo
    /// server does less per request behind imgate, and the figure leans optimistic.
    pub fn normalized_cpu_ratio(&self, baseline: &str) -> Option<f64> {
        let gateway = self.get("imgate")?.cost_in_demo_units()?;
        let base = self.get(baseline)?.cost_in_demo_units()?;
        (gateway > 0.0).then(|| base / gateway)
    }

    /// The table of this scenario, as printed after it ran.
    pub fn print(&self) {
        println!(
            "\n{:<8} {:>9} {:>8} {:>8} {:>8} {:>9} {:>7} {:>10}  statuses",
            "target", "req/s", "p50 µs", "p90 µs", "p99 µs", "p99.9 µs", "errors", "CPU µs/req"
        );
        for m in &self.measurements {
            let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
            for counts in &m.tally.statuses {
                for (s, n) in counts {
                    *statuses.entry(*s).or_default() += n;
                }
            }
            let statuses: Vec<String> = statuses.iter().map(|(s, n)| format!("{s}×{n}")).collect();
            println!(
                "{:<8} {:>9.0} {:>8.0} {:>8.0} {:>8.0} {:>9.0} {:>7} {:>10}  {}",
                m.target,
                m.rps(),
                m.percentile_us(0.5),
                m.percentile_us(0.9),
                m.percentile_us(0.99),
                m.percentile_us(0.999),
                m.tally.errors(),
                m.server_cpu_us_per_req
                    .map_or("-".into(), |v| format!("{v:.1}")),
                statuses.join(" ")
            );
        }
        for m in &self.measurements {
            if !m.tally.codes.is_empty() {
                let codes: Vec<String> = m
                    .tally
                    .codes
                    .iter()
                    .map(|(c, n)| format!("{c}×{n}"))
                    .collect();
                let sampled = if m.tally.code_sampled < m.tally.code_total {
                    format!(
                        " (parsed {} of {} error answers)",
                        m.tally.code_sampled, m.tally.code_total
                    )
                } else {
                    String::new()
                };
                println!("  {} decisions: {}{sampled}", m.target, codes.join(", "));
            }
            for sample in &m.tally.samples {
                println!("  {} error: {sample}", m.target);
            }
        }
        if self.variants.len() > 1 {
            for m in self.measurements.iter().filter(|m| m.target == "imgate") {
                let parts: Vec<String> = self
                    .variants
                    .iter()
                    .zip(&m.tally.statuses)
                    .map(|(v, counts)| {
                        let c: Vec<String> =
                            counts.iter().map(|(s, n)| format!("{s}×{n}")).collect();
                        format!("{} → {}", v.kind.name(), c.join(" "))
                    })
                    .collect();
                println!("  imgate by request: {}", parts.join("; "));
            }
        }
        let fmt = |r: Option<f64>| r.map_or("-".into(), |r| format!("{r:.3}"));
        println!(
            "  ratios: imgate/pingora {}  imgate/direct {}  (by server CPU per request: {} / {}; in demo-server units: {} / {})",
            fmt(self.ratio("pingora")),
            fmt(self.ratio("direct")),
            fmt(self.cpu_ratio("pingora")),
            fmt(self.cpu_ratio("direct")),
            fmt(self.normalized_cpu_ratio("pingora")),
            fmt(self.normalized_cpu_ratio("direct"))
        );
        if self
            .measurements
            .iter()
            .any(|m| m.upstream_instructions_per_req.is_some())
        {
            let k = |v: Option<f64>| v.map_or("-".into(), |v| format!("{:.1}k", v / 1e3));
            let per_target: Vec<String> = self
                .measurements
                .iter()
                .map(|m| {
                    format!(
                        "{} proxy {} + demo {}",
                        m.target,
                        k(m.proxy_instructions_per_req),
                        k(m.upstream_instructions_per_req)
                    )
                })
                .collect();
            println!("  instructions per request: {}", per_target.join("; "));
            println!(
                "  by instructions: imgate/pingora {} (proxy alone {}), imgate/direct {}",
                fmt(self.instruction_ratio("pingora")),
                fmt(self.proxy_instruction_ratio("pingora")),
                fmt(self.instruction_ratio("direct"))
            );
        }
        if !self.round_ratios.is_empty() {
            let rounds: Vec<String> = self
                .round_ratios
                .iter()
                .map(|r| format!("{r:.3}"))
                .collect();
            println!(
                "  rounds: imgate/pingora {} (the table is the median round)",
                rounds.join(", ")
            );
        }
    }
}

/// Settings echoed in the report, so a figure can be traced to how it was made.
pub struct RunInfo {
    pub command: String,
    pub mode: String,
    pub connections: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub threads: usize,
    pub pinning: String,
    pub rules: Rules,
    pub quick: bool,
    pub rounds: usize,
}

/// The JSON report: `ratios` at the top level (the three the issue names, plus the other
/// scenarios and the ratios against the demo server), then every figure.
pub fn json_report(
    info: &RunInfo,
    results: &[ScenarioResult],
    checks: &[Check],
    wrk: &[Value],
) -> Value {
    let mut ratios = Map::new();
    for id in [
        ScenarioId::Passthrough,
        ScenarioId::Publish,
        ScenarioId::Marked,
    ] {
        ratios.insert(format!("{id}_vs_pingora"), Value::Null);
    }
    for r in results {
        ratios.insert(format!("{}_vs_pingora", r.id), opt(r.ratio("pingora")));
    }
    for r in results {
        ratios.insert(format!("{}_vs_direct", r.id), opt(r.ratio("direct")));
    }
    let cpu_ratios: Map<String, Value> = results
        .iter()
        .flat_map(|r| {
            [
                (format!("{}_vs_pingora", r.id), opt(r.cpu_ratio("pingora"))),
                (format!("{}_vs_direct", r.id), opt(r.cpu_ratio("direct"))),
            ]
        })
        .collect();
    let normalized_cpu_ratios: Map<String, Value> = results
        .iter()
        .flat_map(|r| {
            [
                (
                    format!("{}_vs_pingora", r.id),
                    opt(r.normalized_cpu_ratio("pingora")),
                ),
                (
                    format!("{}_vs_direct", r.id),
                    opt(r.normalized_cpu_ratio("direct")),
                ),
            ]
        })
        .collect();
    let instruction_ratios: Map<String, Value> = results
        .iter()
        .filter(|r| r.instruction_ratio("pingora").is_some())
        .flat_map(|r| {
            [
                (
                    format!("{}_vs_pingora", r.id),
                    opt(r.instruction_ratio("pingora")),
                ),
                (
                    format!("{}_proxy_vs_pingora", r.id),
                    opt(r.proxy_instruction_ratio("pingora")),
                ),
            ]
        })
        .collect();
    let goals: Map<String, Value> = GOALS
        .iter()
        .map(|(id, goal)| {
            let measured = results.iter().find(|r| r.id == *id).and_then(|r| r.ratio("pingora"));
            (
                format!("{id}_vs_pingora"),
                json!({ "goal": goal, "measured": opt(measured), "met": measured.map(|m| m >= *goal) }),
            )
        })
        .collect();
    let scenarios: Map<String, Value> = results
        .iter()
        .map(|r| {
            let mut entry = Map::new();
            for m in &r.measurements {
                entry.insert(m.target.to_string(), m.json(&r.variants));
            }
            entry.insert("ratio_vs_pingora".into(), opt(r.ratio("pingora")));
            entry.insert("ratio_vs_direct".into(), opt(r.ratio("direct")));
            entry.insert("cpu_ratio_vs_pingora".into(), opt(r.cpu_ratio("pingora")));
            entry.insert("cpu_ratio_vs_direct".into(), opt(r.cpu_ratio("direct")));
            entry.insert(
                "normalized_cpu_ratio_vs_pingora".into(),
                opt(r.normalized_cpu_ratio("pingora")),
            );
            if !r.round_ratios.is_empty() {
                entry.insert("round_ratios_vs_pingora".into(), json!(r.round_ratios));
            }
            (r.id.to_string(), Value::Object(entry))
        })
        .collect();
    json!({
        "ratios": ratios,
        "cpu_ratios": cpu_ratios,
        "normalized_cpu_ratios": normalized_cpu_ratios,
        "instruction_ratios": instruction_ratios,
        "goals": goals,
        "scenarios": scenarios,
        "settings": {
            "command": info.command,
            "mode": info.mode,
            "connections": info.connections,
            "duration_s": info.duration.as_secs_f64(),
            "warmup_s": info.warmup.as_secs_f64(),
            "server_threads": info.threads,
            "pinning": info.pinning,
            "quick": info.quick,
            "rounds": info.rounds,
        },
        "rules_in_config": info.rules,
        "machine": machine(),
        "checks": checks,
        "wrk": wrk,
    })
}

/// Prints the correctness checks; returns how many failed.
pub fn print_checks(checks: &[Check]) -> usize {
    let mut failed = 0;
    let mut pending = 0;
    for c in checks {
        match &c.outcome {
            Outcome::Pass => {}
            Outcome::Pending(why) => {
                pending += 1;
                println!("  pending rule  {:<8} {}: {why}", c.target, c.request);
            }
            Outcome::Fail(why) => {
                failed += 1;
                println!("  FAIL          {:<8} {}: {why}", c.target, c.request);
            }
        }
    }
    println!(
        "correctness: {} checks, {} passed, {pending} pending rule, {failed} failed",
        checks.len(),
        checks.len() - pending - failed
    );
    failed
}

fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|k| k.trim().to_string());
    json!({
        // Not available_parallelism(): the bench pins itself, which makes that 1.
        "cpus": cpuinfo.lines().filter(|l| l.starts_with("processor")).count(),
        "cpu_model": model,
        "kernel": kernel,
    })
}

fn opt(v: Option<f64>) -> Value {
    v.map_or(Value::Null, |v| json!(round(v, 4)))
}

fn round(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}
