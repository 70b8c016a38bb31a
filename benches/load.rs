//! The load bench: `cargo bench --bench load -- [--duration 5s] [--quick] [--json PATH] ...`
//!
//! Starts the demo IM server, a plain pingora passthrough proxy (the overhead baseline, same
//! pingora build) and imgate with the shipped config, as child processes pinned to the server
//! CPU(s), and drives each in turn with the same requests from a generator pinned to another
//! CPU. With `--target URL` it measures an existing deployment instead. See BENCHMARKS.md.
//!
//! A bench crate root looks for modules beside it, hence the `#[path]`s into `benches/load/`.

#[path = "load/callgrind.rs"]
mod callgrind;
#[path = "load/chart.rs"]
mod chart;
#[path = "load/check.rs"]
mod check;
#[path = "load/cli.rs"]
mod cli;
#[path = "load/conn.rs"]
mod conn;
#[path = "load/fixture.rs"]
mod fixture;
#[path = "load/generator.rs"]
mod generator;
#[path = "load/idcard.rs"]
mod idcard;
#[path = "load/procs.rs"]
mod procs;
#[path = "load/report.rs"]
mod report;
#[path = "load/scenario.rs"]
mod scenario;
#[path = "load/setup.rs"]
mod setup;
#[path = "load/texts.rs"]
mod texts;
#[path = "load/wrk.rs"]
mod wrk;

use clap::Parser;
use generator::Plan;
use procs::Server;
use report::{Measurement, RunInfo, ScenarioResult};
use scenario::{Rules, ScenarioId, TargetKind, Workload};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

fn main() -> ExitCode {
    let args = cli::Args::parse().effective();
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("load bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One thing to measure, and the processes whose CPU time it costs.
struct Target<'a> {
    kind: TargetKind,
    addr: SocketAddr,
    host: String,
    proxy: Option<&'a Server>,
    upstream: Option<&'a Server>,
}

impl<'a> Target<'a> {
    /// `server` itself, or a proxy in front of `upstream`.
    fn managed(kind: TargetKind, server: &'a Server, upstream: Option<&'a Server>) -> Target<'a> {
        Target {
            kind,
            addr: server.addr,
            host: server.addr.to_string(),
            proxy: upstream.is_some().then_some(server),
            upstream: upstream.or(Some(server)),
        }
    }
}

/// The started servers (killed when dropped) and what the measurements need from them.
struct Lab {
    _dir: tempfile::TempDir,
    demo: Server,
    pingora: Server,
    imgate: Server,
    rules: Rules,
    /// With `--instructions`: the servers run under callgrind.
    callgrind: Option<callgrind::Callgrind>,
}

fn run(args: cli::Args) -> Result<ExitCode, String> {
    idcard::self_check()?;
    procs::kill_children_on_signal();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pin = !args.no_pin && cpus >= 2 && procs::have_taskset();
    let pinning = if pin {
        setup::pin_self(args.client_cpu)?;
        format!(
            "servers on CPU {}, generator on CPU {}",
            args.server_cpus, args.client_cpu
        )
    } else {
        "none".to_string()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let config = args
        .config
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/imgate.toml"));

    let lab;
    let (targets, demo, rules, counter) = match &args.target {
        Some(url) => {
            let text = std::fs::read_to_string(&config)
                .map_err(|e| format!("{}: {e}", config.display()))?;
            let (addr, host) = parse_target(url)?;
            let target = Target {
                kind: TargetKind::Imgate,
                addr,
                host,
                proxy: None,
                upstream: None,
            };
            (vec![target], None, Rules::from_config(&text)?, None)
        }
        None => {
            lab = start_lab(
                &config,
                args.threads,
                pin.then_some(args.server_cpus.as_str()),
                args.instructions,
            )?;
            let targets = vec![
                Target::managed(TargetKind::Direct, &lab.demo, None),
                Target::managed(TargetKind::Pingora, &lab.pingora, Some(&lab.demo)),
                Target::managed(TargetKind::Imgate, &lab.imgate, Some(&lab.demo)),
            ];
            (
                targets,
                Some(lab.demo.addr),
                lab.rules,
                lab.callgrind.as_ref(),
            )
        }
    };
    println!(
        "imgate load bench: {} connections, {} per measurement after {} warm-up, {}; pinning: {pinning}",
        args.connections,
        humantime::format_duration(args.duration),
        humantime::format_duration(args.warmup),
        match args.rate {
            Some(r) => format!("open loop at {r} req/s"),
            None => "closed loop".into(),
        }
    );
    println!("rules in the measured config: {rules:?}");
    if counter.is_some() {
        println!("counting instructions: servers under valgrind's callgrind");
    }

    let run_tag = run_tag();
    let usernames = Arc::new(AtomicU64::new(0));
    let bench = Bench {
        args: &args,
        demo,
        rules,
        run_tag,
        usernames,
        counter,
    };
    runtime.block_on(bench.all(&targets, &pinning))
}

/// Starts the demo server, the pingora baseline and imgate (in that order, each awaited).
/// With `instructions`, each runs under callgrind.
fn start_lab(
    config: &Path,
    threads: usize,
    cpus: Option<&str>,
    instructions: bool,
) -> Result<Lab, String> {
    let dir = tempfile::Builder::new()
        .prefix("imgate-load-")
        .tempdir()
        .map_err(|e| format!("temp dir: {e}"))?;
    let callgrind = match instructions {
        true => Some(callgrind::Callgrind::new(dir.path())?),
        false => None,
    };
    let wrapper = |name: &str| callgrind.as_ref().map_or(Vec::new(), |c| c.prefix(name));
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_imgate"));
    let demo_addr = procs::free_addr()?;
    let pingora_addr = procs::free_addr()?;
    let imgate_addr = procs::free_addr()?;
    let conf_dir = dir.path().join("conf");
    let (config_path, text) = setup::prepare_config(
        config,
        &conf_dir,
        &imgate_addr.to_string(),
        &demo_addr.to_string(),
        threads,
    )?;
    let rules = Rules::from_config(&text)?;
    let checked = std::process::Command::new(&exe)
        .arg("check")
        .arg("--config")
        .arg(&config_path)
        .output()
        .map_err(|e| format!("{}: {e}", exe.display()))?;
    if !checked.status.success() {
        return Err(format!(
            "imgate check rejects the bench's copy of the config:\n{}{}",
            String::from_utf8_lossy(&checked.stdout),
            String::from_utf8_lossy(&checked.stderr)
        ));
    }
    // The baseline sends with the same client write buffer as imgate, so the ratio shows
    // the policy's cost, not a buffer setting.
    let write_buffer = imgate::config::load(&config_path)
        .map_err(|e| format!("loading the bench's copy of the config: {e}"))?
        .server
        .write_buffer;
    let threads = threads.to_string();
    let mut demo_args = vec![
        "demo-upstream".to_string(),
        "--listen".into(),
        demo_addr.to_string(),
        "--threads".into(),
        threads.clone(),
    ];
    let publishers = conf_dir.join("publishers.toml");
    if publishers.is_file() {
        demo_args.extend(["--publishers".into(), publishers.display().to_string()]);
    }
    let demo = Server::start(
        "demo",
        &exe,
        &demo_args,
        cpus,
        &wrapper("demo"),
        demo_addr,
        dir.path(),
    )?;
    let pingora = Server::start(
        "pingora",
        &exe,
        &[
            "baseline-proxy".into(),
            "--listen".into(),
            pingora_addr.to_string(),
            "--upstream".into(),
            demo_addr.to_string(),
            "--threads".into(),
            threads,
            "--write-buffer".into(),
            write_buffer.to_string(),
        ],
        cpus,
        &wrapper("pingora"),
        pingora_addr,
        dir.path(),
    )?;
    let imgate = Server::start(
        "imgate",
        &exe,
        &[
            "run".into(),
            "--config".into(),
            config_path.display().to_string(),
        ],
        cpus,
        &wrapper("imgate"),
        imgate_addr,
        dir.path(),
    )?;
    Ok(Lab {
        _dir: dir,
        demo,
        pingora,
        imgate,
        rules,
        callgrind,
    })
}

struct Bench<'a> {
    args: &'a cli::Args,
    /// The demo server's own address, to reset it between measurements (None with --target).
    demo: Option<SocketAddr>,
    rules: Rules,
    run_tag: String,
    usernames: Arc<AtomicU64>,
    /// Counts the servers' instructions (`--instructions`).
    counter: Option<&'a callgrind::Callgrind>,
}

impl Bench<'_> {
    async fn all(&self, targets: &[Target<'_>], pinning: &str) -> Result<ExitCode, String> {
        let args = self.args;
        println!("\n== correctness (one request of each kind per target)");
        let mut checks = Vec::new();
        for target in targets {
            let workload = self.workload(target, ScenarioId::Marked).await?;
            checks.extend(check::probe(target.addr, &workload, target.kind, self.rules).await);
        }
        let failed_checks = report::print_checks(&checks);

        let plan = Plan {
            connections: args.connections,
            warmup: args.warmup,
            measure: args.duration,
            rate: args.rate,
            timeout: args.timeout,
        };
        let mut results = Vec::new();
        let mut load_errors = 0;
        let mut scenarios = args.scenario.clone();
        scenarios.dedup();
        for id in scenarios {
            println!("\n== {id}");
            let mut rounds = Vec::with_capacity(args.rounds);
            for round in 0..args.rounds {
                // Alternate the order, so a drift of the machine's speed during the rounds
                // is shared by the targets instead of landing on the last one.
                let mut order: Vec<usize> = (0..targets.len()).collect();
                if round % 2 == 1 {
                    order.reverse();
                }
                let mut measured: Vec<Option<Measurement>> = targets.iter().map(|_| None).collect();
                for i in order {
                    let target = &targets[i];
                    let workload = Arc::new(self.workload(target, id).await?);
                    let m = self.measure(target, workload, plan).await?;
                    load_errors += m.tally.errors();
                    measured[i] = Some(m);
                }
                rounds.push(ScenarioResult {
                    id,
                    variants: scenario::variants(id, &args.mix),
                    measurements: measured.into_iter().flatten().collect(),
                    round_ratios: Vec::new(),
                });
            }
            let Some(result) = ScenarioResult::median_of(rounds) else {
                continue;
            };
            result.print();
            results.push(result);
        }

        let wrk_rows = if args.wrk {
            self.wrk(targets, &results).await?
        } else {
            Vec::new()
        };
        print_summary(&results);

        let info = RunInfo {
            command: std::env::args().collect::<Vec<_>>().join(" "),
            mode: match args.rate {
                Some(r) => format!("open loop, {r} req/s, coordinated omission corrected"),
                None => "closed loop".into(),
            },
            connections: args.connections,
            duration: args.duration,
            warmup: args.warmup,
            threads: args.threads,
            pinning: pinning.to_string(),
            rules: self.rules,
            quick: args.quick,
            rounds: args.rounds,
        };
        if let Some(path) = &args.json {
            let report = report::json_report(&info, &results, &checks, &wrk_rows);
            let text = serde_json::to_string_pretty(&report).map_err(|e| format!("JSON: {e}"))?;
            std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
            println!("JSON report: {}", path.display());
        }
        if let Some(path) = &args.svg {
            let title = format!(
                "imgate load bench: {}, {} connections, {} per target",
                info.mode,
                args.connections,
                humantime::format_duration(args.duration)
            );
            std::fs::write(path, chart::svg(&results, &title))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            println!("SVG chart: {}", path.display());
        }
        // Never a timing: only wrong answers fail the run (and, in quick mode, any error).
        if failed_checks > 0 {
            eprintln!("load bench: {failed_checks} correctness check(s) failed");
            return Ok(ExitCode::FAILURE);
        }
        if args.quick && load_errors > 0 {
            eprintln!(
                "load bench: {load_errors} unexpected answers or transport errors under load"
            );
            return Ok(ExitCode::FAILURE);
        }
        Ok(ExitCode::SUCCESS)
    }

    /// Puts the demo server in the state `scenario` needs and builds its requests for `target`.
    async fn workload(
        &self,
        target: &Target<'_>,
        scenario: ScenarioId,
    ) -> Result<Workload, String> {
        let tokens = match self.demo {
            Some(demo) => {
                fixture::reset(demo).await?;
                fixture::prepare(demo, &demo.to_string(), scenario.needs_seed()).await?
            }
            None => fixture::prepare(target.addr, &target.host, scenario.needs_seed()).await?,
        };
        Workload::new(
            scenario::variants(scenario, &self.args.mix),
            &target.host,
            &tokens,
            &self.run_tag,
            Arc::clone(&self.usernames),
        )
    }

    /// Drives one target, sampling CPU times at the start and end of the measured window.
    async fn measure(
        &self,
        target: &Target<'_>,
        workload: Arc<Workload>,
        plan: Plan,
    ) -> Result<Measurement, String> {
        let expect = workload
            .variants
            .iter()
            .map(|v| v.kind.expect(target.kind, self.rules))
            .collect();
        let sampler = async {
            tokio::time::sleep(plan.warmup).await;
            let zeroed = self.zero_counters(target);
            let before = CpuSample::take(target);
            tokio::time::sleep(plan.measure).await;
            let after = CpuSample::take(target);
            let counted = zeroed.and_then(|()| self.read_counters(target));
            (before, after, counted)
        };
        let (tally, (before, after, counted)) =
            tokio::join!(generator::run(target.addr, workload, expect, plan), sampler);
        let tally = tally?;
        let (proxy_instructions, upstream_instructions) = counted?;
        let instructions_per_req = |n: Option<u64>| {
            n.filter(|_| tally.requests > 0)
                .map(|n| n as f64 / tally.requests as f64)
        };
        let per_req = |a: Option<Duration>, b: Option<Duration>| {
            let used = b?.checked_sub(a?)?;
            (tally.requests > 0).then(|| used.as_secs_f64() * 1e6 / tally.requests as f64)
        };
        let server_before = before
            .proxy
            .zip(before.upstream)
            .map(|(p, u)| p + u)
            .or(before.upstream);
        let server_after = after
            .proxy
            .zip(after.upstream)
            .map(|(p, u)| p + u)
            .or(after.upstream);
        Ok(Measurement {
            target: target.kind.as_str(),
            server_cpu_us_per_req: per_req(server_before, server_after),
            proxy_cpu_us_per_req: per_req(before.proxy, after.proxy),
            client_cpu_share: after
                .client
                .zip(before.client)
                .and_then(|(a, b)| a.checked_sub(b))
                .map(|d| d.as_secs_f64() / plan.measure.as_secs_f64().max(1e-9)),
            proxy_instructions_per_req: instructions_per_req(proxy_instructions),
            upstream_instructions_per_req: instructions_per_req(upstream_instructions),
            tally,
            window: plan.measure,
        })
    }

    /// With `--instructions`: zeroes the counters of the target's processes.
    fn zero_counters(&self, target: &Target<'_>) -> Result<(), String> {
        let Some(counter) = self.counter else {
            return Ok(());
        };
        for server in [target.proxy, target.upstream].into_iter().flatten() {
            counter.zero(server.pid())?;
        }
        Ok(())
    }

    /// With `--instructions`: the instructions the target's proxy and upstream executed since
    /// [`Bench::zero_counters`] (proxy first; `None` without a counter or without a proxy).
    fn read_counters(&self, target: &Target<'_>) -> Result<(Option<u64>, Option<u64>), String> {
        let Some(counter) = self.counter else {
            return Ok((None, None));
        };
        let read =
            |server: Option<&Server>| server.map(|s| counter.dump(s.name, s.pid())).transpose();
        Ok((read(target.proxy)?, read(target.upstream)?))
    }

    /// Measures the passthrough request with wrk too, for the generator's validation.
    async fn wrk(
        &self,
        targets: &[Target<'_>],
        results: &[ScenarioResult],
    ) -> Result<Vec<serde_json::Value>, String> {
        let Some(pass) = results.iter().find(|r| r.id == ScenarioId::Passthrough) else {
            println!("--wrk needs the passthrough scenario; skipped");
            return Ok(Vec::new());
        };
        println!("\n== generator check against wrk (GET /api/v1/session)");
        let mut rows = Vec::new();
        for (target, m) in targets.iter().zip(&pass.measurements) {
            let tokens = match self.demo {
                Some(demo) => {
                    fixture::reset(demo).await?;
                    fixture::prepare(demo, &demo.to_string(), false).await?
                }
                None => fixture::prepare(target.addr, &target.host, false).await?,
            };
            let measured = wrk::passthrough(
                target.addr,
                &tokens.alice,
                self.args.connections,
                self.args.duration,
            );
            rows.push(wrk::row(target.kind.as_str(), m.rps(), measured));
        }
        Ok(rows)
    }
}

/// CPU times at one instant.
struct CpuSample {
    proxy: Option<Duration>,
    upstream: Option<Duration>,
    client: Option<Duration>,
}

impl CpuSample {
    fn take(target: &Target<'_>) -> CpuSample {
        CpuSample {
            proxy: target.proxy.and_then(Server::cpu),
            upstream: target.upstream.and_then(Server::cpu),
            client: procs::cpu_time("/proc/self/stat"),
        }
    }
}

fn print_summary(results: &[ScenarioResult]) {
    println!("\n== ratios of throughput (same requests; goals from the issue)");
    println!(
        "{:<12} {:>14} {:>14} {:>6}   {:>16} {:>15}   {:>17}",
        "scenario",
        "imgate/pingora",
        "imgate/direct",
        "goal",
        "CPU: vs pingora",
        "CPU: vs direct",
        "demo units: vs pg"
    );
    for r in results {
        let goal = report::GOALS
            .iter()
            .find(|(id, _)| *id == r.id)
            .map_or(String::new(), |(_, g)| format!("≥{g}"));
        let fmt = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.3}"));
        println!(
            "{:<12} {:>14} {:>14} {:>6}   {:>16} {:>15}   {:>17}",
            r.id.as_str(),
            fmt(r.ratio("pingora")),
            fmt(r.ratio("direct")),
            goal,
            fmt(r.cpu_ratio("pingora")),
            fmt(r.cpu_ratio("direct")),
            fmt(r.normalized_cpu_ratio("pingora"))
        );
    }
    for r in results.iter().filter(|r| !r.round_ratios.is_empty()) {
        let low = r.round_ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let high = r
            .round_ratios
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        println!(
            "{:<12} imgate/pingora over {} rounds: {low:.3} to {high:.3} (median reported)",
            r.id.as_str(),
            r.round_ratios.len()
        );
    }
}

/// `http://HOST:PORT[/...]` → its socket address and Host header.
fn parse_target(url: &str) -> Result<(SocketAddr, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("--target {url:?}: only http:// URLs are supported"))?;
    let authority = rest.split('/').next().unwrap_or(rest);
    let with_port = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let addr = with_port
        .to_socket_addrs()
        .map_err(|e| format!("--target {url:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("--target {url:?}: no address"))?;
    Ok((addr, authority.to_string()))
}

/// A short tag unique to this run, so usernames never collide with an earlier run's.
fn run_tag() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("{:x}{:x}", now % 0x10_0000, std::process::id() % 0x1000)
}
