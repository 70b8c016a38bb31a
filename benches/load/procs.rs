//! The measured servers as child processes: started pinned with `taskset`, awaited until their
//! port accepts, and killed when the bench ends, panics or is interrupted.
//!
//! Child processes (rather than in-process servers) keep the generator's CPU apart from the
//! servers' and let the bench read each server's CPU time from `/proc`.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// PIDs of live children, for the Ctrl-C handler (which cannot reach the guards).
static LIVE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// How long a server may take to accept connections after start.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A started server; killed on drop.
pub struct Server {
    pub name: &'static str,
    pub addr: SocketAddr,
    child: Child,
    log: PathBuf,
}

impl Server {
    /// Starts `exe args...` (pinned to `cpus` when given, behind the command `wrapper` when
    /// there is one), logging to `log_dir/NAME.log`, and waits until `addr` accepts
    /// connections.
    pub fn start(
        name: &'static str,
        exe: &Path,
        args: &[String],
        cpus: Option<&str>,
        wrapper: &[String],
        addr: SocketAddr,
        log_dir: &Path,
    ) -> Result<Server, String> {
        let log = log_dir.join(format!("{name}.log"));
        let out = File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let mut line: Vec<std::ffi::OsString> = Vec::new();
        if let Some(cpus) = cpus {
            line.extend(["taskset".into(), "-c".into(), cpus.into()]);
        }
        line.extend(wrapper.iter().map(Into::into));
        line.push(exe.into());
        let mut command = Command::new(&line[0]);
        command
            .args(&line[1..])
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {name} ({}): {e}", exe.display()))?;
        if let Ok(mut live) = LIVE.lock() {
            live.push(child.id());
        }
        let mut server = Server {
            name,
            addr,
            child,
            log,
        };
        let timeout = if wrapper.is_empty() {
            READY_TIMEOUT
        } else {
            crate::callgrind::READY_TIMEOUT
        };
        server.wait_ready(timeout)?;
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited during start ({status}); its log:\n{}",
                    self.name,
                    self.log_tail()
                ));
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} did not accept connections on {} within {timeout:?}; its log:\n{}",
                    self.name,
                    self.addr,
                    self.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The last lines of the server's log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// CPU time (user + system) the process has used so far.
    pub fn cpu(&self) -> Option<Duration> {
        cpu_time(&format!("/proc/{}/stat", self.pid()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGKILL: the bench needs no graceful shutdown, and pingora's SIGTERM grace is long.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Ok(mut live) = LIVE.lock() {
            live.retain(|&pid| pid != self.child.id());
        }
    }
}

/// Kills the children and exits on Ctrl-C or SIGTERM, so no server outlives the bench.
pub fn kill_children_on_signal() {
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .spawn(|| {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                let Ok(mut term) =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                else {
                    return;
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                let pids = LIVE.lock().map(|l| l.clone()).unwrap_or_default();
                for pid in pids {
                    let _ = Command::new("kill")
                        .arg("-KILL")
                        .arg(pid.to_string())
                        .status();
                }
                eprintln!("load bench interrupted: servers stopped");
                std::process::exit(130);
            });
        });
    if let Err(e) = spawned {
        eprintln!("warning: no signal handler ({e}); kill the servers by hand if interrupted");
    }
}

/// A free loopback port (bound then released; the tiny race is acceptable for a bench).
pub fn free_addr() -> Result<SocketAddr, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    listener
        .local_addr()
        .map_err(|e| format!("local_addr: {e}"))
}

/// User + system CPU time from a `/proc/PID/stat` file. The kernel reports it in clock ticks of
/// `USER_HZ`, which is 100 on every Linux ABI.
pub fn cpu_time(stat_path: &str) -> Option<Duration> {
    let text = std::fs::read_to_string(stat_path).ok()?;
    // The command name (field 2) may hold spaces: fields after its closing ')' are fixed.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Whether `taskset` can be run (util-linux); without it nothing is pinned.
pub fn have_taskset() -> bool {
    Command::new("taskset")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
