//! Request counters behind `GET /__demo/stats`.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

/// What a received request counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// `POST /api/v1/accounts`
    Register,
    /// `POST /legacy/register.do`
    LegacyRegister,
    /// `POST /api/v1/posts`
    Posts,
    /// `POST /api/v1/sessions` and `GET /api/v1/session`
    Sessions,
    /// Any other `GET` (or `HEAD`) outside `/__demo/` and the approval service.
    Reads,
    /// The approval service, `/api/v1/internal/publishers*` (an extension).
    Internal,
}

impl Counter {
    const ALL: [Counter; 6] = [
        Counter::Register,
        Counter::LegacyRegister,
        Counter::Posts,
        Counter::Sessions,
        Counter::Reads,
        Counter::Internal,
    ];

    fn name(self) -> &'static str {
        match self {
            Counter::Register => "register",
            Counter::LegacyRegister => "legacy_register",
            Counter::Posts => "posts",
            Counter::Sessions => "sessions",
            Counter::Reads => "reads",
            Counter::Internal => "internal",
        }
    }
}

#[derive(Default)]
pub struct Stats {
    counts: [AtomicU64; Counter::ALL.len()],
}

impl Stats {
    pub fn count(&self, counter: Counter) {
        self.counts[counter as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn reset(&self) {
        for count in &self.counts {
            count.store(0, Ordering::Relaxed);
        }
    }

    /// `{"requests": {"register": n, ...}}`
    pub fn to_json(&self) -> Bytes {
        let mut requests = serde_json::Map::new();
        for counter in Counter::ALL {
            let n = self.counts[counter as usize].load(Ordering::Relaxed);
            requests.insert(counter.name().into(), n.into());
        }
        let body = serde_json::json!({ "requests": requests });
        Bytes::from(body.to_string())
    }
}
