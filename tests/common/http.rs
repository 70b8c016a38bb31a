//! A minimal raw HTTP/1.x client for tests that must control every byte (odd paths,
//! framing, `Expect`, HTTP/1.0), which regular clients normalise away.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The error code of a gateway JSON error.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A kept-alive connection for several exchanges.
pub struct Connection {
    reader: BufReader<TcpStream>,
}

impl Connection {
    pub fn open(addr: SocketAddr) -> Connection {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        Connection {
            reader: BufReader::new(stream),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.reader
            .get_mut()
            .write_all(bytes)
            .expect("write request");
    }

    /// Whether the peer closes the connection within `wait` (with nothing more to read).
    pub fn closed_within(&mut self, wait: Duration) -> bool {
        self.reader
            .get_mut()
            .set_read_timeout(Some(wait))
            .expect("timeout");
        let mut byte = [0u8; 1];
        matches!(self.reader.read(&mut byte), Ok(0))
    }

    /// Whether an answer has started to arrive (without waiting or consuming it).
    pub fn answered(&mut self) -> bool {
        if !self.reader.buffer().is_empty() {
            return true;
        }
        let stream = self.reader.get_mut();
        stream.set_nonblocking(true).expect("nonblocking");
        let peeked = stream.peek(&mut [0u8; 1]);
        stream.set_nonblocking(false).expect("blocking");
        matches!(peeked, Ok(n) if n > 0)
    }

    /// Reads one response; `head_request` means no body follows.
    pub fn read_response(&mut self, head_request: bool) -> RawResponse {
        let mut line = String::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line).expect("status line");
            assert!(!line.is_empty(), "connection closed before a response");
            let status: u16 = line
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("bad status line {line:?}"));
            let headers = self.read_headers();
            if (100..200).contains(&status) {
                continue;
            }
            let body = self.read_body(status, &headers, head_request);
            return RawResponse {
                status,
                headers,
                body,
            };
        }
    }

    /// Reads an interim (1xx) or final status line and headers only.
    pub fn read_head(&mut self) -> (u16, Vec<(String, String)>) {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("status line");
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, self.read_headers())
    }

    fn read_headers(&mut self) -> Vec<(String, String)> {
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).expect("header line");
            let line = line.trim_end();
            if line.is_empty() {
                return headers;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
    }

    fn read_body(&mut self, status: u16, headers: &[(String, String)], head: bool) -> Vec<u8> {
        if head || status == 204 || status == 304 {
            return Vec::new();
        }
        let get = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        if let Some(te) = get("transfer-encoding") {
            assert!(te.eq_ignore_ascii_case("chunked"), "unexpected TE {te}");
            let mut body = Vec::new();
            loop {
                let mut size = String::new();
                self.reader.read_line(&mut size).expect("chunk size");
                let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                    .expect("chunk size hex");
                let mut chunk = vec![0; size + 2];
                self.reader.read_exact(&mut chunk).expect("chunk");
                chunk.truncate(size);
                body.extend_from_slice(&chunk);
                if size == 0 {
                    return body;
                }
            }
        }
        if let Some(len) = get("content-length") {
            let len: usize = len.parse().expect("content-length");
            let mut body = vec![0; len];
            self.reader.read_exact(&mut body).expect("body");
            return body;
        }
        let mut body = Vec::new();
        self.reader.read_to_end(&mut body).expect("body to close");
        body
    }
}

/// One request on a fresh connection.
pub fn exchange(addr: SocketAddr, request: &[u8]) -> RawResponse {
    let mut c = Connection::open(addr);
    c.send(request);
    let head = request.starts_with(b"HEAD ");
    c.read_response(head)
}

/// Builds an HTTP/1.1 request with a Content-Length body.
pub fn request(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\nHost: gateway.test\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Builds an HTTP/1.1 request with a chunked body split into `chunks`.
pub fn chunked_request(
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    chunks: &[&[u8]],
) -> Vec<u8> {
    let mut out = format!(
        "{method} {target} HTTP/1.1\r\nHost: gateway.test\r\nTransfer-Encoding: chunked\r\n"
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    for chunk in chunks {
        bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        bytes.extend_from_slice(chunk);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"0\r\n\r\n");
    bytes
}
