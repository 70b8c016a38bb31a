//! The load generator: N keep-alive connections on one current-thread tokio runtime (pinned to
//! one CPU), each with one request in flight, recording latencies in HDR histograms.
//!
//! * Closed loop (default): each connection sends its next request as soon as the previous
//!   answer is read, like `wrk`. Latency = send to last body byte.
//! * Open loop (`--rate R`): request `k` is *scheduled* at `start + k / R`; a free connection
//!   takes the next slot and waits for its time. When every connection is busy the slot is
//!   late, and its latency is measured from the scheduled time, not from when it could finally
//!   be sent: the queueing delay a real client would see is counted (coordinated omission
//!   corrected, as in wrk2). When a connection was idle and merely woke up late (tokio's timer
//!   has 1 ms granularity), latency is measured from the actual send, so timer slack is not
//!   charged to the server.
//!
//! Only requests *started* inside the measured window are recorded; those in flight at its end
//! are awaited (bounded by the per-request timeout) and recorded too. Throughput is recorded
//! requests divided by the window.

use crate::conn::{error_code, Conn};
use crate::scenario::{Expect, Workload};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How long and how hard to drive one target.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub connections: usize,
    pub warmup: Duration,
    pub measure: Duration,
    /// Total requests per second in open-loop mode.
    pub rate: Option<f64>,
    pub timeout: Duration,
}

/// Error responses whose bodies are parsed for a reason code: at most this many per connection
/// and measurement, so a flood of rejections does not make the generator the bottleneck.
const CODE_SAMPLES_PER_CONN: u64 = 2_000;
/// Examples of unexpected answers kept for the report.
const SAMPLES_KEPT: usize = 3;

/// What one measurement saw.
#[derive(Debug, Clone)]
pub struct Tally {
    /// Latency in nanoseconds.
    pub latency: Histogram<u64>,
    /// Requests recorded (started in the window and answered).
    pub requests: u64,
    /// Connect/send/read failures and timeouts.
    pub transport_errors: u64,
    /// Answers whose status is not the variant's expected one.
    pub unexpected: u64,
    /// Status counts by variant index.
    pub statuses: Vec<BTreeMap<u16, u64>>,
    /// Reason codes of error envelopes (sampled, see `code_sampled`).
    pub codes: BTreeMap<String, u64>,
    /// Error responses whose code was parsed, and all error responses.
    pub code_sampled: u64,
    pub code_total: u64,
    /// A few unexpected answers or transport errors, for the report.
    pub samples: Vec<String>,
}

impl Tally {
    fn new(variants: usize) -> Result<Tally, String> {
        Ok(Tally {
            latency: Histogram::new_with_bounds(1_000, 120_000_000_000, 3)
                .map_err(|e| format!("histogram: {e}"))?,
            requests: 0,
            transport_errors: 0,
            unexpected: 0,
            statuses: vec![BTreeMap::new(); variants],
            codes: BTreeMap::new(),
            code_sampled: 0,
            code_total: 0,
            samples: Vec::new(),
        })
    }

    fn merge(&mut self, other: Tally) {
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        self.requests += other.requests;
        self.transport_errors += other.transport_errors;
        self.unexpected += other.unexpected;
        for (mine, theirs) in self.statuses.iter_mut().zip(other.statuses) {
            for (status, n) in theirs {
                *mine.entry(status).or_default() += n;
            }
        }
        for (code, n) in other.codes {
            *self.codes.entry(code).or_default() += n;
        }
        self.code_sampled += other.code_sampled;
        self.code_total += other.code_total;
        for s in other.samples {
            if self.samples.len() < SAMPLES_KEPT {
                self.samples.push(s);
            }
        }
    }

    fn sample(&mut self, text: String) {
        if self.samples.len() < SAMPLES_KEPT {
            self.samples.push(text);
        }
    }

    pub fn errors(&self) -> u64 {
        self.transport_errors + self.unexpected
    }
}

/// The state all connections of one measurement share.
struct Shared {
    workload: Arc<Workload>,
    /// Expected answer per variant on this target.
    expect: Vec<Expect>,
    next: AtomicU64,
    start: Instant,
    measure_from: Instant,
    end: Instant,
    /// Scheduled gap between requests in open-loop mode.
    interval: Option<Duration>,
    timeout: Duration,
}

/// Drives `addr` with `workload` according to `plan`. Must run on the generator's runtime.
pub async fn run(
    addr: SocketAddr,
    workload: Arc<Workload>,
    expect: Vec<Expect>,
    plan: Plan,
) -> Result<Tally, String> {
    let variants = workload.variants.len();
    // Connect everything before the clock starts, so connection setup is not measured.
    let mut conns = Vec::with_capacity(plan.connections);
    for _ in 0..plan.connections {
        conns.push(Conn::connect(addr).await?);
    }
    let start = Instant::now();
    let measure_from = start + plan.warmup;
    let interval = match plan.rate {
        Some(rate) if rate.is_finite() && rate > 0.0 => Some(Duration::from_secs_f64(1.0 / rate)),
        Some(rate) => return Err(format!("--rate must be positive, got {rate}")),
        None => None,
    };
    let shared = Arc::new(Shared {
        workload,
        expect,
        next: AtomicU64::new(0),
        start,
        measure_from,
        end: measure_from + plan.measure,
        interval,
        timeout: plan.timeout,
    });
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|conn| tokio::spawn(drive(conn, Arc::clone(&shared))))
        .collect();
    let mut total = Tally::new(variants)?;
    for task in tasks {
        let tally = task.await.map_err(|e| format!("generator task: {e}"))??;
        total.merge(tally);
    }
    Ok(total)
}

/// One connection's loop.
async fn drive(mut conn: Conn, shared: Arc<Shared>) -> Result<Tally, String> {
    let mut tally = Tally::new(shared.workload.variants.len())?;
    loop {
        let seq = shared.next.fetch_add(1, Ordering::Relaxed);
        let (latency_from, in_window) = match shared.interval {
            None => {
                let now = Instant::now();
                if now >= shared.end {
                    break;
                }
                (now, now >= shared.measure_from)
            }
            Some(interval) => {
                let scheduled = shared.start + interval.mul_f64(seq as f64);
                if scheduled >= shared.end {
                    break;
                }
                let from = if scheduled > Instant::now() {
                    tokio::time::sleep_until(scheduled).await;
                    Instant::now()
                } else {
                    // Late: every connection was busy. Charge the wait to the latency.
                    scheduled
                };
                (from, scheduled >= shared.measure_from)
            }
        };
        let (variant, request) = shared.workload.request(seq);
        let result = tokio::time::timeout(shared.timeout, conn.send(request)).await;
        let elapsed = latency_from.elapsed();
        let answer = match result {
            Ok(Ok(answer)) => answer,
            failure => {
                if in_window {
                    tally.transport_errors += 1;
                    let why = match failure {
                        Ok(Err(e)) => e,
                        _ => format!("timeout after {:?}", shared.timeout),
                    };
                    tally.sample(format!(
                        "{}: {why}",
                        shared.workload.variants[variant].kind.name()
                    ));
                }
                // Start afresh: the old connection may hold a half-read response.
                match reconnect(&conn, &shared).await {
                    Some(fresh) => conn = fresh,
                    None => break,
                }
                continue;
            }
        };
        if !in_window {
            continue;
        }
        tally.requests += 1;
        tally
            .latency
            .saturating_record(elapsed.as_nanos().try_into().unwrap_or(u64::MAX));
        let status = answer.status.as_u16();
        *tally.statuses[variant].entry(status).or_default() += 1;
        if status >= 400 {
            tally.code_total += 1;
            if tally.code_sampled < CODE_SAMPLES_PER_CONN {
                tally.code_sampled += 1;
                if let Some(code) = error_code(&answer.body) {
                    *tally.codes.entry(code).or_default() += 1;
                }
            }
        }
        if status != shared.expect[variant].status {
            tally.unexpected += 1;
            let body =
                String::from_utf8_lossy(&answer.body[..answer.body.len().min(160)]).into_owned();
            tally.sample(format!(
                "{}: status {status} (expected {}): {body}",
                shared.workload.variants[variant].kind.name(),
                shared.expect[variant].status
            ));
        }
    }
    Ok(tally)
}

/// A new connection to the same address, retried until the measurement ends (then `None`:
/// the failures are already counted as transport errors).
async fn reconnect(old: &Conn, shared: &Shared) -> Option<Conn> {
    loop {
        match Conn::connect(old.addr()).await {
            Ok(conn) => return Some(conn),
            Err(_) if Instant::now() >= shared.end => return None,
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}
