//! The request log behind `GET /__demo/requests`: what the upstream actually received.
//!
//! A bounded ring of the last [`LOG_CAPACITY`] requests. Recording copies the request line,
//! headers and body into three compact buffers (headers already joined the way the hook shows
//! them) rather than keeping `Bytes` slices, which would pin hyper's whole read buffers alive;
//! JSON is only produced when a test asks for it.

use std::collections::VecDeque;

use bytes::Bytes;
use http::request::Parts;
use http::Method;
use parking_lot::Mutex;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// How many requests the log keeps.
pub const LOG_CAPACITY: usize = 1000;

struct Entry {
    method: Method,
    /// Path and query, as sent.
    target: Box<str>,
    /// `name:value\n` per header name, repeated values joined with `", "`. Names cannot contain
    /// `:` and values cannot contain `\n`, so the encoding is unambiguous.
    headers: Box<str>,
    body: Box<[u8]>,
}

impl Entry {
    fn new(parts: &Parts, body: &[u8]) -> Self {
        let target = parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path(), |pq| pq.as_str());
        let mut headers = String::with_capacity(parts.headers.len() * 32);
        // One pass in the map's order, which yields every value of a name right after its
        // first one: no second lookup of each name (a hash per header on every request).
        let mut previous: Option<&http::HeaderName> = None;
        for (name, value) in &parts.headers {
            if previous == Some(name) {
                headers.push_str(", ");
            } else {
                if previous.is_some() {
                    headers.push('\n');
                }
                headers.push_str(name.as_str());
                headers.push(':');
                previous = Some(name);
            }
            headers.push_str(&String::from_utf8_lossy(value.as_bytes()));
        }
        if previous.is_some() {
            headers.push('\n');
        }
        Entry {
            method: parts.method.clone(),
            target: target.into(),
            headers: headers.into_boxed_str(),
            body: body.into(),
        }
    }
}

struct Headers<'a>(&'a str);

impl Serialize for Headers<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for line in self.0.lines() {
            if let Some((name, value)) = line.split_once(':') {
                map.serialize_entry(name, value)?;
            }
        }
        map.end()
    }
}

impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("method", self.method.as_str())?;
        map.serialize_entry("path", &*self.target)?;
        map.serialize_entry("headers", &Headers(&self.headers))?;
        map.serialize_entry("body", &String::from_utf8_lossy(&self.body))?;
        map.end()
    }
}

/// The last requests received, oldest first.
pub struct RequestLog {
    entries: Mutex<VecDeque<Entry>>,
}

impl Default for RequestLog {
    fn default() -> Self {
        RequestLog {
            entries: Mutex::new(VecDeque::with_capacity(LOG_CAPACITY)),
        }
    }
}

impl RequestLog {
    pub fn record(&self, parts: &Parts, body: &[u8]) {
        let entry = Entry::new(parts, body);
        let evicted = {
            let mut entries = self.entries.lock();
            let evicted = if entries.len() >= LOG_CAPACITY {
                entries.pop_front()
            } else {
                None
            };
            entries.push_back(entry);
            evicted
        };
        // Freed outside the lock.
        drop(evicted);
    }

    pub fn clear(&self) {
        let old = std::mem::take(&mut *self.entries.lock());
        drop(old);
    }

    /// The newest `limit` entries as a JSON array, newest last.
    pub fn to_json(&self, limit: usize) -> Bytes {
        struct Last<'a>(&'a VecDeque<Entry>, usize);
        impl Serialize for Last<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let skip = self.0.len().saturating_sub(self.1);
                let mut seq = serializer.serialize_seq(Some(self.0.len() - skip))?;
                for entry in self.0.iter().skip(skip) {
                    seq.serialize_element(entry)?;
                }
                seq.end()
            }
        }
        let entries = self.entries.lock();
        // Serialising strings into memory cannot fail.
        serde_json::to_vec(&Last(&entries, limit))
            .map_or_else(|_| Bytes::from_static(b"[]"), Bytes::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut builder = http::Request::builder().method("POST").uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[test]
    fn joins_repeated_headers_and_keeps_newest_last() {
        let log = RequestLog::default();
        log.record(
            &parts(
                "/a?x=1",
                &[("x-a", "1"), ("host", "h"), ("x-a", "2"), ("x-b", "3")],
            ),
            b"one",
        );
        log.record(&parts("/b", &[]), &[0xff, b'!']);
        let all: serde_json::Value = serde_json::from_slice(&log.to_json(10)).unwrap();
        assert_eq!(all[0]["path"], "/a?x=1");
        assert_eq!(all[0]["headers"]["x-a"], "1, 2");
        assert_eq!(all[0]["headers"]["host"], "h");
        assert_eq!(all[0]["headers"]["x-b"], "3");
        assert_eq!(all[0]["headers"].as_object().unwrap().len(), 3);
        assert_eq!(all[0]["body"], "one");
        assert_eq!(all[1]["body"], "\u{fffd}!");
        let last: serde_json::Value = serde_json::from_slice(&log.to_json(1)).unwrap();
        assert_eq!(last.as_array().unwrap().len(), 1);
        assert_eq!(last[0]["path"], "/b");
    }

    #[test]
    fn is_bounded() {
        let log = RequestLog::default();
        for i in 0..LOG_CAPACITY + 5 {
            log.record(&parts(&format!("/{i}"), &[]), b"");
        }
        let all: serde_json::Value = serde_json::from_slice(&log.to_json(usize::MAX)).unwrap();
        let all = all.as_array().unwrap();
        assert_eq!(all.len(), LOG_CAPACITY);
        assert_eq!(all[0]["path"], "/5");
        log.clear();
        assert_eq!(&log.to_json(10)[..], b"[]");
    }
}
