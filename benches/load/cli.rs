//! Command-line flags of the load bench (`cargo bench --bench load -- FLAGS`).

use crate::scenario::{MixWeights, ScenarioId};
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

/// Load bench for imgate: the demo IM server directly, a plain pingora proxy (the overhead
/// baseline) and imgate with the shipped config, on the same requests, one after the other.
#[derive(Debug, Parser)]
#[command(name = "load", about, long_about = None)]
pub struct Args {
    /// Measured time per scenario and target (after the warm-up), e.g. "5s", "500ms".
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub duration: Duration,

    /// Warm-up per scenario and target, not measured.
    #[arg(long, value_parser = parse_duration, default_value = "1s")]
    pub warmup: Duration,

    /// Concurrent keep-alive connections (one request in flight on each).
    #[arg(long, default_value_t = 32)]
    pub connections: usize,

    /// Scenarios to run, comma-separated: passthrough, register, publish, marked, mix.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "passthrough,register,publish,marked,mix"
    )]
    pub scenario: Vec<ScenarioId>,

    /// Weights of the mix scenario.
    #[arg(long, default_value = "passthrough=70,marked=20,publish=8,register=2")]
    pub mix: MixWeights,

    /// Open loop: send this many requests per second in total, on a fixed schedule, and measure
    /// each latency from its scheduled send time (coordinated omission corrected). Without it
    /// the bench is closed-loop: each connection sends its next request when the last one is
    /// answered.
    #[arg(long)]
    pub rate: Option<f64>,

    /// Measure an existing deployment (an imgate in front of the demo IM server) instead of
    /// starting the three targets, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub target: Option<String>,

    /// Worker threads of each server (demo server, pingora baseline, imgate).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,

    /// CPUs the servers are pinned to (taskset list, e.g. "0" or "0-1").
    #[arg(long, default_value = "0")]
    pub server_cpus: String,

    /// CPU the load generator is pinned to.
    #[arg(long, default_value_t = 1)]
    pub client_cpu: usize,

    /// Do not pin anything (e.g. on a one-core machine; pinning is skipped there anyway).
    #[arg(long)]
    pub no_pin: bool,

    /// The imgate configuration to copy (its whole folder is copied, then the listen and
    /// upstream addresses, threads and logging are rewritten for the bench).
    #[arg(long)]
    pub config: Option<PathBuf>,

    /// Write the JSON report here.
    #[arg(long)]
    pub json: Option<PathBuf>,

    /// Write the SVG chart (throughput and latency percentiles) here.
    #[arg(long)]
    pub svg: Option<PathBuf>,

    /// Also run wrk (if installed) on the passthrough request of each target with the same
    /// connections, duration and pinning, to show the generator is not the bottleneck.
    #[arg(long)]
    pub wrk: bool,

    /// CI mode: a few seconds in all; checks every scenario's statuses and bodies and fails on
    /// a mismatch, never on a timing.
    #[arg(long)]
    pub quick: bool,

    /// Measure each scenario this many times, the targets in alternating order (direct,
    /// pingora, imgate, then the reverse), and report the round with the median
    /// imgate/pingora ratio, with every round's ratio beside it. On a shared machine the
    /// speed of the whole VM drifts by tens of percent within a minute; interleaved rounds
    /// keep that drift from landing on one target only.
    #[arg(long, default_value_t = 1)]
    pub rounds: usize,

    /// Count instructions: run the three servers under valgrind's callgrind and report, per
    /// measurement, the instructions each process executed per request, and the ratios they
    /// predict. Deterministic where timings are noisy; leaves out the kernel. The servers run
    /// tens of times slower: use few connections and a longer warm-up (BENCHMARKS.md).
    #[arg(long, conflicts_with = "target")]
    pub instructions: bool,

    /// Per-request timeout (a request that takes longer counts as a transport error).
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub timeout: Duration,

    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    pub bench: bool,

    /// Benchmark-name filters passed by `cargo bench NAME`; ignored.
    #[arg(hide = true)]
    pub filters: Vec<String>,
}

impl Args {
    /// Applies `--quick`: short phases and few connections, enough to exercise every path.
    pub fn effective(mut self) -> Args {
        if self.quick {
            self.duration = self.duration.min(Duration::from_millis(300));
            self.warmup = self.warmup.min(Duration::from_millis(100));
            self.connections = self.connections.min(4);
            self.timeout = self.timeout.min(Duration::from_secs(3));
            self.rounds = 1;
        }
        self.rounds = self.rounds.max(1);
        self.connections = self.connections.max(1);
        self.threads = self.threads.max(1);
        self
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("{s:?} is not a duration like 5s or 500ms: {e}"))
}
