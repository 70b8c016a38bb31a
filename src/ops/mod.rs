//! Operations: the command line, logging, and running the server.

pub mod admin;
pub mod audit;
pub mod baseline;
pub mod classify_cli;
pub mod cli;
pub mod demo;
pub mod logging;
pub mod metrics;
pub mod reload;
pub mod serve;
pub mod telemetry;
