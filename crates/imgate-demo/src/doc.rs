//! Pre-serialised JSON documents with their validators.
//!
//! Accounts and posts never change once created, so their JSON is rendered once and served as
//! shared `Bytes`: a read costs a reference-count increment, not a serialisation. The strong
//! validator (a hash of the identity body) is computed at the same time, and the gzip form on
//! first demand.

use std::hash::Hasher;
use std::io::Write;
use std::sync::OnceLock;
use std::time::SystemTime;

use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;

/// A JSON resource as served by the cacheable read endpoints.
#[derive(Debug)]
pub struct Doc {
    body: Bytes,
    hash: u64,
    modified: SystemTime,
    gzip: OnceLock<Option<Bytes>>,
}

impl Doc {
    /// A document whose validator is the hash of `body`.
    pub fn new(body: Bytes, modified: SystemTime) -> Self {
        let hash = hash_bytes(&body);
        Self::with_hash(body, hash, modified)
    }

    /// A document whose validator was derived by the caller from the parts the body is built
    /// from (which determine it completely), saving a pass over a large body.
    pub fn with_hash(body: Bytes, hash: u64, modified: SystemTime) -> Self {
        Doc {
            body,
            hash,
            modified,
            gzip: OnceLock::new(),
        }
    }

    pub fn body(&self) -> &Bytes {
        &self.body
    }

    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// Whole seconds, as `Last-Modified` carries them.
    pub fn modified(&self) -> SystemTime {
        self.modified
    }

    /// The gzip-encoded body, compressed once and then shared; `None` if compression failed
    /// (it cannot when writing to memory, but then the identity body is served).
    pub fn gzip(&self) -> Option<&Bytes> {
        self.gzip.get_or_init(|| gzip(&self.body).ok()).as_ref()
    }
}

/// A stable 64-bit content hash (SipHash with fixed keys, so equal bodies get equal ETags for
/// the life of the binary).
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    hasher.write(bytes);
    hasher.finish()
}

/// Combines part hashes into one, in order.
pub fn combine_hashes(parts: impl IntoIterator<Item = u64>) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    for part in parts {
        hasher.write_u64(part);
    }
    hasher.finish()
}

/// Gzip with the fastest level: old servers compress on the fly, and the demo must stay cheap.
fn gzip(body: &[u8]) -> std::io::Result<Bytes> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(body.len() / 2 + 64), Compression::fast());
    encoder.write_all(body)?;
    Ok(Bytes::from(encoder.finish()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn gzip_round_trips() {
        let doc = Doc::new(Bytes::from_static(b"{\"a\":1}"), SystemTime::UNIX_EPOCH);
        let mut out = String::new();
        flate2::read::GzDecoder::new(&doc.gzip().unwrap()[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "{\"a\":1}");
        assert_eq!(doc.hash(), hash_bytes(b"{\"a\":1}"));
    }
}
