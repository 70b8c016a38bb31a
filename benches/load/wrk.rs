//! `--wrk`: the same passthrough request measured with wrk (a well-known C load generator), on
//! the same CPU as this generator, so the report shows whether ours keeps up.

use serde_json::{json, Value};
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

/// Runs `wrk -t1 -cN -dD` on `GET /api/v1/session` with `token`; returns its req/s, or why not.
/// wrk inherits this process's CPU affinity (the generator's CPU).
pub fn passthrough(
    addr: SocketAddr,
    token: &str,
    connections: usize,
    duration: Duration,
) -> Result<f64, String> {
    let seconds = duration.as_secs().max(1);
    let output = Command::new("wrk")
        .args(["-t1", &format!("-c{connections}"), &format!("-d{seconds}s")])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .arg(format!("http://{addr}/api/v1/session"))
        .output()
        .map_err(|e| format!("cannot run wrk (apt-get install -y wrk): {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if text.contains("Non-2xx") {
        return Err(format!("wrk saw non-2xx answers:\n{text}"));
    }
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("no Requests/sec in wrk output:\n{text}"))
}

/// One comparison row for the report.
pub fn row(target: &str, ours: f64, wrk: Result<f64, String>) -> Value {
    match wrk {
        Ok(w) => {
            println!(
                "  wrk check {target:<8} ours {ours:>9.0} req/s   wrk {w:>9.0} req/s   ours/wrk {:.3}",
                ours / w.max(1e-9)
            );
            json!({ "target": target, "ours_rps": ours.round(), "wrk_rps": w.round(), "ours_vs_wrk": ours / w.max(1e-9) })
        }
        Err(e) => {
            println!("  wrk check {target}: {e}");
            json!({ "target": target, "error": e })
        }
    }
}
