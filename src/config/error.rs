//! Configuration errors, always pointing at `file:line:column`.

use std::path::{Path, PathBuf};

/// A configuration problem, displayed as `file:line:column: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", file.display())]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl ConfigError {
    /// An error at byte `offset` of `source` (the text of `file`).
    pub fn at_offset(file: &Path, source: &str, offset: usize, message: impl Into<String>) -> Self {
        let (line, column) = line_column(source, offset);
        ConfigError {
            file: file.to_owned(),
            line,
            column,
            message: message.into(),
        }
    }

    /// An error about a whole file (e.g. it cannot be read): reported at 1:1.
    pub fn whole_file(file: &Path, message: impl Into<String>) -> Self {
        ConfigError {
            file: file.to_owned(),
            line: 1,
            column: 1,
            message: message.into(),
        }
    }

    /// An error at a 1-based line and column that another parser reported.
    pub fn at_line(file: &Path, line: usize, column: usize, message: impl Into<String>) -> Self {
        ConfigError {
            file: file.to_owned(),
            line,
            column,
            message: message.into(),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let mut cut = offset;
    while !source.is_char_boundary(cut) {
        cut -= 1;
    }
    let before = &source[..cut];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Why a text file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(std::io::Error),
    /// `std` only says "stream did not contain valid UTF-8"; this says where.
    #[error("the file is not UTF-8 (byte 0x{byte:02X}); save it as UTF-8")]
    NotUtf8 {
        line: usize,
        column: usize,
        byte: u8,
    },
}

impl ReadError {
    /// `path:line:column: message` for bytes that are not UTF-8, `path: message` otherwise.
    pub fn located(&self, path: &Path) -> String {
        match self {
            ReadError::NotUtf8 { line, column, .. } => {
                format!("{}:{line}:{column}: {self}", path.display())
            }
            ReadError::Io(_) => format!("{}: {self}", path.display()),
        }
    }
}

/// Reads a UTF-8 text file.
pub fn read_utf8(path: &Path) -> Result<String, ReadError> {
    let bytes = std::fs::read(path).map_err(ReadError::Io)?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let before = String::from_utf8_lossy(&bytes[..valid]);
        let (line, column) = line_column(&before, before.len());
        ReadError::NotUtf8 {
            line,
            column,
            byte: bytes[valid],
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_that_are_not_utf8_are_located() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.txt");
        std::fs::write(&path, b"ok\nal\xffso\n").unwrap();
        let err = read_utf8(&path).unwrap_err().located(Path::new("x.txt"));
        assert_eq!(
            err,
            "x.txt:2:3: the file is not UTF-8 (byte 0xFF); save it as UTF-8"
        );
        std::fs::write(&path, "好\n").unwrap();
        assert_eq!(read_utf8(&path).ok().as_deref(), Some("好\n"));
    }

    #[test]
    fn computes_line_and_column() {
        let src = "a = 1\nbé = 2\n";
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, 6), (2, 1));
        assert_eq!(line_column(src, 9), (2, 3));
        assert_eq!(line_column(src, 999), (3, 1));
    }

    #[test]
    fn displays_as_file_line_column() {
        let e = ConfigError::at_line(Path::new("conf/imgate.toml"), 3, 7, "unknown field `x`");
        assert_eq!(e.to_string(), "conf/imgate.toml:3:7: unknown field `x`");
    }
}
