//! The demo IM server bundled with imgate: an honest, in-memory, slightly old-fashioned
//! messaging backend that plays the legacy upstream behind the gateway (`imgate demo`,
//! `imgate demo-upstream`, the integration tests and the load bench).
//!
//! It implements the fixed contract in `docs/demo-im-api.md` and does **no** compliance checks:
//! that is the gateway's job. It is fast enough (hyper HTTP/1.1 with keep-alive, pre-rendered
//! JSON, one `RwLock`) that it never limits a gateway benchmark.
//!
//! # Behaviour the contract leaves open
//! - Errors of the JSON API are `{"error": "<message>"}`: 400 malformed JSON or missing
//!   `username`/`password`/`content`, 401 (with `WWW-Authenticate: Bearer`) wrong password or
//!   unknown token, 404 unknown ids or paths, 405 (with `Allow`) a known path with another
//!   method, 409 username taken, 413 a body over 4 MiB.
//! - Usernames are `[A-Za-z0-9_.-]{1,32}` (else 400); account ids are `u-<username>`, post ids
//!   `p-<n>` from 1. There are no seed posts.
//! - Registration keeps `real_name`, `id_number`, `phone` and `agreement` privately (never
//!   shown); `display_name` defaults to the username; **any other key of the body is stored as
//!   a profile key and shown in the Account object**, as the legacy server lets users set
//!   arbitrary profile keys. The legacy form does the same with unknown form fields. Its `ret`
//!   codes: 0 created (`uid`), 1 username taken, 2 invalid input, always with status 200.
//! - `GET /api/v1/timeline`: `limit` defaults to 20 and is clamped to 200; a non-numeric or
//!   negative limit is a 400.
//! - `GET /api/v1/internal/publishers/{account_id}` answers for any id (unknown ones are simply
//!   not approved). The list `version` starts at 1.
//! - `POST /__demo/reset` answers `{"reset": true}` and also clears faults and restores the
//!   approval list from its source (bumping `version` only if that changes the list). Post ids
//!   restart at `p-1`.
//!
//! # Extensions (for the gateway's tests; the contract is only extended)
//! 1. **Cacheable reads.** `GET`/`HEAD` of `/api/v1/posts/{id}`, `/api/v1/timeline` and
//!    `/api/v1/accounts/{id}` send a strong `ETag` (a hash of the body; the gzip form has its
//!    own, suffixed `-gzip`), `Last-Modified` (creation time; for the timeline the newest
//!    post's, or the start/reset time), `Accept-Ranges: bytes` and `Vary: Accept-Encoding`.
//!    They honour `If-None-Match` (304, no body; else `If-Modified-Since`), a single
//!    `Range: bytes=a-b` / `a-` / `-n` (206 with `Content-Range`, 416 when unsatisfiable,
//!    ignored when several ranges are asked for or `If-Range` does not match), and
//!    `Accept-Encoding: gzip` (`Content-Encoding: gzip`; a range then applies to the gzip
//!    bytes).
//! 2. **Chunked responses.** A request header `X-Demo-Chunked: 1` makes any response use
//!    chunked transfer encoding (in frames of at most 4 KiB) instead of `Content-Length`.
//! 3. **Approval-service faults and edits.** `POST /__demo/faults` with
//!    `{"publishers_delay_ms": n, "publishers_status": n|null}` (omitted keys mean none; the
//!    body replaces the current faults; status 200-599) makes `/api/v1/internal/publishers*`
//!    sleep, then answer with that status and `{"error":"injected fault"}`; `GET /__demo/faults`
//!    shows them. `POST /__demo/publishers` `{"account_id", "categories": [..]}` approves (or
//!    replaces the categories of) an account and `DELETE /__demo/publishers/{account_id}`
//!    revokes one (404 if not approved); both answer with the new
//!    `{"publishers": [..], "version": n}` and bump `version` when the list changed, and
//!    `GET /__demo/publishers` shows the list without faults. With a publishers file, the
//!    file's next change replaces the list again.
//! 4. **Counters and log.** `/__demo/stats` has an extra `"internal"` counter for the approval
//!    endpoints (which are not counted as `reads`); `sessions` counts `POST /api/v1/sessions`
//!    and `GET /api/v1/session`; `reads` counts every other `GET`/`HEAD` (404s included).
//!    Every request outside `/__demo/` is counted and logged on arrival, whatever its outcome.
//!    The log keeps the last 1000 requests (`method`, `path` with query, `headers` with
//!    lower-case names and repeated values joined by `", "`, `body` as lossy UTF-8);
//!    `GET /__demo/requests?limit=N` returns the last N (default all kept), newest last.
//!
//! # Publishers file
//! [`DemoOptions::publishers_file`] names a file in the `conf/publishers.toml` format (see
//! [`parse_publishers`]). It must be valid at start; afterwards it is re-read when its
//! modification time, size or inode changes (one `stat` per request to the approval
//! endpoints), each change bumping `version`; a file that becomes invalid keeps the last good
//! list. Without a file the built-in list ([`BUILTIN_PUBLISHERS_TOML`]) is used.

mod api;
mod app;
mod approvals;
mod conditional;
mod doc;
mod hooks;
mod http;
mod internal;
mod legacy;
mod log;
mod publishers;
mod routes;
mod server;
mod stats;
mod store;
mod time;

pub use publishers::{parse_publishers, Publisher, PublishersError, BUILTIN_PUBLISHERS_TOML};
pub use server::{run_blocking, DemoOptions, DemoServer};
