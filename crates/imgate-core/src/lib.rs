//! imgate's policy core.
//!
//! Everything here is pure and synchronous: no pingora, no tokio, no network, no file
//! system. Inputs are bytes and small views, outputs are decisions with stable reason
//! codes. File contents a component needs (lexicons, models, division tables) are passed
//! in by the caller, so the core can be unit-tested, fuzzed, benchmarked and embedded
//! in any proxy.

pub mod body;
pub mod classify;
pub mod decision;
pub mod envelope;
pub mod mark;
pub mod mask;
pub mod path;
pub mod publish;
pub mod query;
pub mod register;
pub mod route;
pub mod validate;
