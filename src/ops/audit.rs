//! The audit log: one JSON line per enforced decision, to stdout or to a file with
//! size-based rotation. Personal numbers appear only masked (`110101********0011`).

use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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

/// Where audit lines go.
pub enum AuditLog {
    Off,
    Stdout,
    File(Mutex<RotatingFile>),
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AuditLog::Off => "AuditLog::Off",
            AuditLog::Stdout => "AuditLog::Stdout",
            AuditLog::File(_) => "AuditLog::File",
        })
    }
}

impl AuditLog {
    /// Writes one record as a JSON line. Failures are logged, never fatal to the request.
    pub fn write(&self, record: &AuditRecord<'_>) {
        let mut line = match serde_json::to_vec(record) {
            Ok(line) => line,
            Err(e) => {
                tracing::warn!(error = %e, "cannot encode an audit record");
                return;
            }
        };
        line.push(b'\n');
        let result = match self {
            AuditLog::Off => Ok(()),
            AuditLog::Stdout => io::stdout().lock().write_all(&line),
            AuditLog::File(file) => match file.lock() {
                Ok(mut file) => file.write_line(&line),
                Err(_) => Err(io::Error::other("audit log lock poisoned")),
            },
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "cannot write the audit log");
        }
    }
}

/// An append-only file that rotates to `path.1`, `path.2`, ... past `max_size` bytes.
pub struct RotatingFile {
    path: PathBuf,
    file: File,
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
            file,
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
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.size = 0;
        Ok(())
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
        let len = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        assert!(len(&path) <= 100);
        assert!(len(&dir.path().join("audit.log.1")) > 0);
        assert!(len(&dir.path().join("audit.log.2")) > 0);
        assert!(!dir.path().join("audit.log.3").exists());
    }
}
