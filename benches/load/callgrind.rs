//! `--instructions`: the servers run under valgrind's callgrind, and each measurement reports
//! the instructions every process executed per request instead of relying on time alone.
//!
//! On a shared VM the machine's speed drifts by tens of percent within a minute, so
//! throughput ratios move by 0.15-0.2 from round to round; instruction counts do not. They
//! leave out the kernel (socket calls, wake-ups) and count a `rep movsb` copy byte by byte,
//! so they complement the timed figures rather than replace them (BENCHMARKS.md).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Where the counters of the instrumented servers are written.
pub struct Callgrind {
    dir: PathBuf,
}

/// A server under callgrind starts and answers tens of times slower.
pub const READY_TIMEOUT: Duration = Duration::from_secs(180);

impl Callgrind {
    /// Checks that valgrind and `callgrind_control` can be run.
    pub fn new(dir: &Path) -> Result<Callgrind, String> {
        for tool in ["valgrind", "callgrind_control"] {
            let ok = Command::new(tool)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success());
            if !ok {
                return Err(format!(
                    "--instructions needs `{tool}` (Debian: apt-get install valgrind)"
                ));
            }
        }
        Ok(Callgrind {
            dir: dir.to_path_buf(),
        })
    }

    /// The command prefix that runs server `name` under callgrind.
    pub fn prefix(&self, name: &str) -> Vec<String> {
        vec![
            "valgrind".into(),
            "--tool=callgrind".into(),
            "--quiet".into(),
            format!("--callgrind-out-file={}", self.out_file(name).display()),
        ]
    }

    fn out_file(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.callgrind"))
    }

    /// Sets the counters of process `pid` to zero.
    pub fn zero(&self, pid: u32) -> Result<(), String> {
        control(pid, "-z")
    }

    /// Writes the counters of server `name` (process `pid`) since the last zeroing and returns
    /// how many instructions it executed.
    pub fn dump(&self, name: &str, pid: u32) -> Result<u64, String> {
        control(pid, "-d")?;
        // callgrind numbers its dumps: NAME.callgrind.1, .2, ...; the highest is this one.
        let base = self.out_file(name);
        let prefix = format!(
            "{}.",
            base.file_name().and_then(|n| n.to_str()).unwrap_or("")
        );
        let latest = std::fs::read_dir(&self.dir)
            .map_err(|e| format!("{}: {e}", self.dir.display()))?
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().into_string().ok()?;
                let n: u64 = name.strip_prefix(&prefix)?.parse().ok()?;
                Some((n, name))
            })
            .max()
            .ok_or_else(|| format!("no callgrind dump of {name} in {}", self.dir.display()))?;
        let path = self.dir.join(latest.1);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        summary(&text).ok_or_else(|| format!("{}: no `summary:` line", path.display()))
    }
}

fn control(pid: u32, what: &str) -> Result<(), String> {
    let out = Command::new("callgrind_control")
        .arg(what)
        .arg(pid.to_string())
        .output()
        .map_err(|e| format!("callgrind_control: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "callgrind_control {what} {pid}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The instruction count of a callgrind dump (its `summary:` line; `totals:` in some versions).
pub fn summary(dump: &str) -> Option<u64> {
    dump.lines().find_map(|line| {
        let value = line
            .strip_prefix("summary:")
            .or_else(|| line.strip_prefix("totals:"))?;
        value.split_whitespace().next()?.parse().ok()
    })
}
