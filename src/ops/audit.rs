//! The audit log: one JSON line per enforced decision, to stdout or to a file with
//! size-based rotation. Personal numbers appear only masked (`110101********0011`).

use prometheus::{IntCounter, IntGauge};
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::Mutex;
use std::thread::JoinHandle;

/// One enforced decision.
#[derive(Debug, Serialize)]
pub struct AuditRecord<'a> {
    pub time: String,
    pub request_id: &'a str,
    pub route: &'a str,
    pub method: &'a str,
    /// The request path with long digit runs masked.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<&'a str>,
    /// `allow` or `reject`.
    pub decision: &'a str,
    /// `allow` or the rejection's reason code.
    pub reason: &'a str,
    pub status: u16,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub categories: &'a [crate::proxy::CategoryScore],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub fields: &'a [imgate_core::register::MaskedField],
}

/// How many encoded lines may wait for the writer thread. When they are all taken (the
/// output is slower than the traffic), requests wait for room, as they waited for the
/// write itself before: audit lines are never dropped.
const QUEUE_LINES: usize = 4096;

/// How long the writer lets lines gather after the first of a batch: about the most an
/// audit line waits before it is written.
const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(5);

/// Where audit lines go. Lines are encoded on the request's thread and written by a
/// thread of their own, in batches (see [`write_batches`]): a slow stdout reader or disk
/// then delays no request until the queue is full, and the lines of a busy few
/// milliseconds cost one write, not one per request.
pub struct AuditLog {
    writer: Option<Writer>,
}

/// The writer thread and the way to it.
struct Writer {
    lines: SyncSender<Message>,
    thread: Mutex<Option<JoinHandle<()>>>,
    gauges: QueueGauges,
}

/// How the audit queue is doing, as metrics: a slow output shows here before it slows
/// requests.
#[derive(Clone)]
pub struct QueueGauges {
    /// Lines queued and not yet written.
    pub queued: IntGauge,
    /// Records that found the queue full and waited for room.
    pub waited: IntCounter,
}

impl QueueGauges {
    /// Gauges registered nowhere (tests, embedders without metrics).
    pub fn unregistered() -> QueueGauges {
        QueueGauges {
            queued: IntGauge::new("audit_queued", "unregistered").expect("a valid metric name"),
            waited: IntCounter::new("audit_waited", "unregistered").expect("a valid metric name"),
        }
    }
}

enum Message {
    Line(Vec<u8>),
    /// Write what came before, flush, and stop.
    Close,
}

/// Initial capacity of an audit line's buffer.
const AUDIT_LINE_CAPACITY: usize = 1024;

/// An output the writer thread writes lines to.
pub trait AuditSink: Send + 'static {
    fn write_line(&mut self, line: &[u8]) -> io::Result<()>;
    fn flush(&mut self) -> io::Result<()>;
}

/// Standard output, buffered: a batch of lines leaves in one write.
struct StdoutSink(io::BufWriter<io::Stdout>);

impl AuditSink for StdoutSink {
    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        self.0.write_all(line)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.writer {
            None => "AuditLog::Off",
            Some(_) => "AuditLog::On",
        })
    }
}

impl AuditLog {
    /// No audit log.
    pub fn off() -> AuditLog {
        AuditLog { writer: None }
    }

    /// Audit lines on standard output.
    pub fn stdout(gauges: QueueGauges) -> io::Result<AuditLog> {
        let sink = StdoutSink(io::BufWriter::with_capacity(64 * 1024, io::stdout()));
        Self::to_sink(sink, gauges)
    }

    /// Audit lines in a size-rotated file.
    pub fn file(file: RotatingFile, gauges: QueueGauges) -> io::Result<AuditLog> {
        Self::to_sink(file, gauges)
    }

    /// Audit lines written to `sink` by a thread of their own.
    pub fn to_sink(sink: impl AuditSink, gauges: QueueGauges) -> io::Result<AuditLog> {
        Self::with_queue(sink, gauges, QUEUE_LINES)
    }

    fn with_queue(
        mut sink: impl AuditSink,
        gauges: QueueGauges,
        capacity: usize,
    ) -> io::Result<AuditLog> {
        let (lines, queue) = mpsc::sync_channel::<Message>(capacity);
        let queued = gauges.queued.clone();
        let thread = std::thread::Builder::new()
            .name("imgate-audit".into())
            .spawn(move || {
                write_batches(&queue, &mut sink, &queued);
            })?;
        Ok(AuditLog {
            writer: Some(Writer {
                lines,
                thread: Mutex::new(Some(thread)),
                gauges,
            }),
        })
    }

    /// Queues one record as a JSON line. Failures are logged, never fatal to the request.
    pub fn write(&self, record: &AuditRecord<'_>) {
        let Some(writer) = &self.writer else {
            return;
        };
        // Sized for a typical line (a publish decision with its terms is 400-700 bytes), so
        // encoding does not regrow the buffer from empty, a copy at every doubling.
        let mut line = Vec::with_capacity(AUDIT_LINE_CAPACITY);
        if let Err(e) = serde_json::to_writer(&mut line, record) {
            tracing::warn!(error = %e, "cannot encode an audit record");
            return;
        }
        line.push(b'\n');
        writer.gauges.queued.inc();
        let sent = match writer.lines.try_send(Message::Line(line)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(message)) => {
                writer.gauges.waited.inc();
                writer.lines.send(message).map_err(|_| ())
            }
            Err(TrySendError::Disconnected(_)) => Err(()),
        };
        if sent.is_err() {
            writer.gauges.queued.dec();
            tracing::warn!("the audit log is closed: a record was not written");
        }
    }

    /// Writes every queued line, flushes and stops the writer. Called when the server has
    /// stopped (and on drop); later records are not written.
    pub fn close(&self) {
        let Some(writer) = &self.writer else {
            return;
        };
        let Some(thread) = writer.thread.lock().ok().and_then(|mut t| t.take()) else {
            return;
        };
        // Fails only when the thread is gone already.
        let _ = writer.lines.send(Message::Close);
        if thread.join().is_err() {
            tracing::warn!("the audit writer stopped with a panic");
        }
    }
}

/// The writer thread's loop. Idle, it waits for a line; then it lets the lines of the next
/// [`BATCH_WINDOW`] gather and writes them with one flush. Under load that is one wake-up
/// and one write per batch, not per request: senders do not wake a sleeping thread.
fn write_batches(queue: &Receiver<Message>, sink: &mut impl AuditSink, queued: &IntGauge) {
    let report = |e: io::Error| tracing::warn!(error = %e, "cannot write the audit log");
    loop {
        let Ok(mut message) = queue.recv() else {
            return;
        };
        let mut waited = false;
        loop {
            match message {
                Message::Line(line) => {
                    sink.write_line(&line).unwrap_or_else(report);
                    queued.dec();
                }
                Message::Close => {
                    sink.flush().unwrap_or_else(report);
                    return;
                }
            }
            message = match queue.try_recv() {
                Ok(next) => next,
                Err(TryRecvError::Empty) if !waited => {
                    waited = true;
                    std::thread::sleep(BATCH_WINDOW);
                    match queue.try_recv() {
                        Ok(next) => next,
                        Err(_) => break,
                    }
                }
                Err(_) => break,
            };
        }
        sink.flush().unwrap_or_else(report);
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        self.close();
    }
}

/// An append-only file that rotates to `path.1`, `path.2`, ... past `max_size` bytes.
pub struct RotatingFile {
    path: PathBuf,
    file: io::BufWriter<File>,
    size: u64,
    max_size: u64,
    keep: usize,
}

impl RotatingFile {
    pub fn open(path: &Path, max_size: u64, keep: usize) -> io::Result<RotatingFile> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(RotatingFile {
            path: path.to_owned(),
            file: io::BufWriter::with_capacity(64 * 1024, file),
            size,
            max_size: max_size.max(1),
            keep,
        })
    }

    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        if self.size > 0 && self.size + line.len() as u64 > self.max_size {
            self.rotate()?;
        }
        self.file.write_all(line)?;
        self.size += line.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        // Everything written so far belongs to the file being rotated away.
        self.file.flush()?;
        let numbered = |n: usize| {
            let mut name = self.path.clone().into_os_string();
            name.push(format!(".{n}"));
            PathBuf::from(name)
        };
        if self.keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            for n in (1..self.keep).rev() {
                let from = numbered(n);
                if from.exists() {
                    std::fs::rename(&from, numbered(n + 1))?;
                }
            }
            std::fs::rename(&self.path, numbered(1))?;
        }
        self.file = io::BufWriter::with_capacity(
            64 * 1024,
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?,
        );
        self.size = 0;
        Ok(())
    }
}

impl AuditSink for RotatingFile {
    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        RotatingFile::write_line(self, line)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_by_size_and_keeps_n_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let mut file = RotatingFile::open(&path, 100, 2).unwrap();
        for _ in 0..10 {
            file.write_line(&[b'x'; 40]).unwrap();
        }
        AuditSink::flush(&mut file).unwrap();
        let len = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        assert!(len(&path) <= 100);
        assert!(len(&dir.path().join("audit.log.1")) > 0);
        assert!(len(&dir.path().join("audit.log.2")) > 0);
        assert!(!dir.path().join("audit.log.3").exists());
    }

    /// A sink that keeps what it is given, optionally slowly.
    #[derive(Clone, Default)]
    struct Kept {
        bytes: std::sync::Arc<Mutex<Vec<u8>>>,
        delay: std::time::Duration,
    }

    impl AuditSink for Kept {
        fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
            std::thread::sleep(self.delay);
            self.bytes.lock().unwrap().extend_from_slice(line);
            Ok(())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn record(request_id: &str) -> AuditRecord<'_> {
        AuditRecord {
            time: "2026-12-02T00:00:00.000Z".into(),
            request_id,
            route: "register",
            method: "POST",
            path: "/api/v1/accounts".into(),
            account: None,
            decision: "allow",
            reason: "allow",
            status: 201,
            categories: &[],
            fields: &[],
        }
    }

    fn request_ids(bytes: &[u8]) -> Vec<String> {
        std::str::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["request_id"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    #[test]
    fn every_line_from_every_thread_arrives_in_its_order() {
        let kept = Kept::default();
        let log = std::sync::Arc::new(
            AuditLog::to_sink(kept.clone(), QueueGauges::unregistered()).unwrap(),
        );
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for n in 0..500 {
                        log.write(&record(&format!("t{t}-{n}")));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        log.close();
        let ids = request_ids(&kept.bytes.lock().unwrap());
        assert_eq!(ids.len(), 2000);
        for t in 0..4 {
            let mine: Vec<&String> = ids
                .iter()
                .filter(|i| i.starts_with(&format!("t{t}-")))
                .collect();
            let want: Vec<String> = (0..500).map(|n| format!("t{t}-{n}")).collect();
            assert_eq!(mine, want.iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn closing_writes_what_is_still_queued() {
        let kept = Kept {
            delay: std::time::Duration::from_millis(2),
            ..Kept::default()
        };
        let log = AuditLog::to_sink(kept.clone(), QueueGauges::unregistered()).unwrap();
        // Queued much faster than the sink takes them.
        for n in 0..100 {
            log.write(&record(&n.to_string()));
        }
        log.close();
        let ids = request_ids(&kept.bytes.lock().unwrap());
        assert_eq!(ids, (0..100).map(|n| n.to_string()).collect::<Vec<_>>());
        // Closed: a late record is dropped with a warning, without blocking.
        log.write(&record("late"));
        log.close();
        assert_eq!(request_ids(&kept.bytes.lock().unwrap()).len(), 100);
    }

    /// A sink whose first write waits until the test lets it go, counting flushes.
    struct Gate {
        release: Option<mpsc::Receiver<()>>,
        lines: std::sync::Arc<Mutex<usize>>,
        flushes: std::sync::Arc<Mutex<usize>>,
    }

    impl AuditSink for Gate {
        fn write_line(&mut self, _line: &[u8]) -> io::Result<()> {
            if let Some(release) = self.release.take() {
                let _ = release.recv();
            }
            *self.lines.lock().unwrap() += 1;
            Ok(())
        }
        fn flush(&mut self) -> io::Result<()> {
            *self.flushes.lock().unwrap() += 1;
            Ok(())
        }
    }

    #[test]
    fn lines_queued_while_the_writer_is_busy_leave_in_one_batch() {
        let (release, gate) = mpsc::channel();
        let lines = std::sync::Arc::new(Mutex::new(0));
        let flushes = std::sync::Arc::new(Mutex::new(0));
        let log = AuditLog::to_sink(
            Gate {
                release: Some(gate),
                lines: lines.clone(),
                flushes: flushes.clone(),
            },
            QueueGauges::unregistered(),
        )
        .unwrap();
        // The writer holds the first line until all 200 are queued.
        for n in 0..200 {
            log.write(&record(&n.to_string()));
        }
        release.send(()).unwrap();
        log.close();
        assert_eq!(*lines.lock().unwrap(), 200);
        // One flush for the batch (and one when closing, unless the close joined it).
        assert!(*flushes.lock().unwrap() <= 2, "{}", flushes.lock().unwrap());
    }

    #[test]
    fn a_full_queue_makes_records_wait_and_shows_in_the_gauges() {
        let (release, gate) = mpsc::channel();
        let lines = std::sync::Arc::new(Mutex::new(0));
        let gauges = QueueGauges::unregistered();
        let log = std::sync::Arc::new(
            AuditLog::with_queue(
                Gate {
                    release: Some(gate),
                    lines: lines.clone(),
                    flushes: std::sync::Arc::default(),
                },
                gauges.clone(),
                8,
            )
            .unwrap(),
        );
        // The writer holds the first line; 8 more fill the queue; the rest wait.
        let writer = {
            let log = log.clone();
            std::thread::spawn(move || {
                for n in 0..20 {
                    log.write(&record(&n.to_string()));
                }
            })
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while gauges.waited.get() == 0 {
            assert!(std::time::Instant::now() < deadline, "no record waited");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(gauges.queued.get() >= 9, "{}", gauges.queued.get());
        release.send(()).unwrap();
        writer.join().unwrap();
        log.close();
        assert_eq!(*lines.lock().unwrap(), 20);
        assert_eq!(gauges.queued.get(), 0);
        assert!(gauges.waited.get() >= 1);
    }

    #[test]
    fn a_file_log_holds_every_line_once_closed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let log = AuditLog::file(
            RotatingFile::open(&path, 1 << 20, 2).unwrap(),
            QueueGauges::unregistered(),
        )
        .unwrap();
        for n in 0..300 {
            log.write(&record(&n.to_string()));
        }
        drop(log);
        let ids = request_ids(&std::fs::read(&path).unwrap());
        assert_eq!(ids, (0..300).map(|n| n.to_string()).collect::<Vec<_>>());
    }
}
