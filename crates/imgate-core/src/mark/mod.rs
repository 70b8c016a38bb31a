//! Marker injection: approved publisher accounts are publicly marked wherever a marked
//! route shows them, and nobody else can look approved.
//!
//! A route's [`MarkSpec`] (from the config) compiles into a [`MarkRule`]. For each
//! upstream response body on that route, [`MarkRule::apply`] finds every account object
//! the rule's [selectors](Selector) select, asks the caller whether each distinct
//! account is approved, and sets the marker member on **every** selected object: the
//! approved value for approved accounts, `false` (or no member) for the others. The
//! gateway is authoritative, so whatever the upstream put in that member is overwritten,
//! duplicates included.
//!
//! The body is never re-serialised: `scan` validates it strictly and reports spans,
//! `walk` runs the selectors over it, and `splice` copies it with a few byte ranges
//! replaced. Untouched bytes (key order, whitespace, number spelling, escapes) reach the
//! client exactly as the upstream sent them. Anything that is not strict JSON is an
//! error, and the gateway fails closed on errors.

mod dfa;
mod error;
mod rule;
mod scan;
mod selector;
mod spec;
mod splice;
mod walk;

#[cfg(test)]
mod tests;

pub use error::MarkError;
pub use rule::{IdSource, MarkOutput, MarkRule, MarkedBody, MAX_DEPTH};
pub use selector::{Selector, SelectorError, SelectorErrorKind, Step};
pub use spec::{MarkSpec, MarkSpecError, Others, DEFAULT_MAX_BODY};
