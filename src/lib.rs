//! imgate: a compliance gateway for instant-messaging HTTP APIs, on pingora.
//!
//! Layers (dependencies point down only):
//! - [`config`]: the TOML schema, validated and compiled into an immutable [`config::Policy`];
//! - [`core`] (the `imgate-core` crate): the pure policy core — validators, body
//!   inspection, classification, decisions, marker injection;
//! - [`lookups`]: identity and approval sources (cached, fail closed);
//! - [`proxy`]: the pingora adapter, including [`proxy::Imgate`], the middleware other
//!   pingora proxies can embed;
//! - [`ops`]: command line, logging, server assembly.
//!
//! The bundled demo IM server lives in the `imgate-demo` crate; nothing here depends on it
//! except the `imgate demo` commands.

pub use imgate_core as core;

pub mod config;
pub mod lookups;
pub mod ops;
pub mod proxy;
pub mod runtime;
