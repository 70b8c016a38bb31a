//! Runs the `imgate learn` / `imgate eval` logic without the root crate:
//! `cargo run -p imgate-core --release --example classify_cli -- eval --input ../shared/data/bbc-news-train.jsonl ...`
//! It compiles the root crate's CLI module as-is, so both stay in sync.

#[path = "../../../src/ops/classify_cli.rs"]
mod classify_cli;

use clap::Parser;

#[derive(Parser)]
enum Cmd {
    /// Train a model.
    Learn(classify_cli::LearnArgs),
    /// Evaluate a classifier.
    Eval(classify_cli::EvalArgs),
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    match Cmd::parse() {
        Cmd::Learn(a) => classify_cli::run_learn(&a),
        Cmd::Eval(a) => classify_cli::run_eval(&a),
    }
}
