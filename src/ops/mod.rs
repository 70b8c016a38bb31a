//! Operations: the command line, logging, and running the server.

pub mod baseline;
pub mod cli;
pub mod demo;
pub mod logging;
pub mod serve;
