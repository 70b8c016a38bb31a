//! Evaluation of a classifier on labelled records (`imgate eval`): confusion counts, precision, recall, F1,
//! false-positive rate and throughput, overall and per language. Timing is supplied by the caller (the core has
//! no clock).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

/// Counts and derived figures for one slice of the data.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Metrics {
    pub docs: u64,
    pub bytes: u64,
    pub seconds: f64,
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub fpr: f64,
    pub mb_per_s: f64,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

impl Metrics {
    fn add(&mut self, gold: bool, predicted: bool, bytes: u64, seconds: f64) {
        self.docs += 1;
        self.bytes += bytes;
        self.seconds += seconds;
        match (gold, predicted) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (false, false) => self.tn += 1,
            (true, false) => self.fn_ += 1,
        }
    }

    fn finish(&mut self) {
        self.precision = ratio(self.tp, self.tp + self.fp);
        self.recall = ratio(self.tp, self.tp + self.fn_);
        self.f1 = if self.precision + self.recall > 0.0 {
            2.0 * self.precision * self.recall / (self.precision + self.recall)
        } else {
            0.0
        };
        self.fpr = ratio(self.fp, self.fp + self.tn);
        self.mb_per_s = if self.seconds > 0.0 {
            self.bytes as f64 / 1e6 / self.seconds
        } else {
            0.0
        };
    }
}

/// Evaluation report: overall and per language (the record's `lang` field).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EvalReport {
    pub category: String,
    /// Free-form description of the evaluated part (e.g. "holdout 20% by FNV-1a(id)").
    pub split: String,
    pub overall: Metrics,
    pub per_lang: BTreeMap<String, Metrics>,
}

/// Accumulates per-document outcomes.
#[derive(Debug, Default)]
pub struct Evaluator {
    report: EvalReport,
}

impl Evaluator {
    pub fn new(category: &str, split: &str) -> Self {
        Evaluator {
            report: EvalReport {
                category: category.to_string(),
                split: split.to_string(),
                ..Default::default()
            },
        }
    }

    /// Records one document: gold label, prediction, its size in bytes and the time `classify()` took.
    pub fn add(&mut self, lang: &str, gold: bool, predicted: bool, bytes: u64, seconds: f64) {
        self.report.overall.add(gold, predicted, bytes, seconds);
        self.report
            .per_lang
            .entry(lang.to_string())
            .or_default()
            .add(gold, predicted, bytes, seconds);
    }

    pub fn finish(mut self) -> EvalReport {
        self.report.overall.finish();
        for m in self.report.per_lang.values_mut() {
            m.finish();
        }
        self.report
    }
}

impl EvalReport {
    /// Renders a fixed-width table.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "category {}  ({})", self.category, self.split);
        let _ = writeln!(
            s,
            "{:<8} {:>7} {:>6} {:>6} {:>7} {:>6} {:>9} {:>7} {:>7} {:>7} {:>8}",
            "lang", "docs", "tp", "fp", "tn", "fn", "precision", "recall", "f1", "fpr", "MB/s"
        );
        let mut row = |name: &str, m: &Metrics| {
            let _ = writeln!(
                s,
                "{:<8} {:>7} {:>6} {:>6} {:>7} {:>6} {:>9.4} {:>7.4} {:>7.4} {:>7.4} {:>8.1}",
                name,
                m.docs,
                m.tp,
                m.fp,
                m.tn,
                m.fn_,
                m.precision,
                m.recall,
                m.f1,
                m.fpr,
                m.mb_per_s
            );
        };
        for (lang, m) in &self.per_lang {
            row(lang, m);
        }
        row("all", &self.overall);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics() {
        let mut e = Evaluator::new("c", "all");
        e.add("en", true, true, 10, 0.0);
        e.add("en", true, false, 10, 0.0);
        e.add("zh", false, true, 10, 0.0);
        e.add("zh", false, false, 1_000_000, 1.0);
        let r = e.finish();
        assert_eq!(
            (r.overall.tp, r.overall.fp, r.overall.tn, r.overall.fn_),
            (1, 1, 1, 1)
        );
        assert!((r.overall.f1 - 0.5).abs() < 1e-9);
        assert!((r.per_lang["zh"].fpr - 0.5).abs() < 1e-9);
        assert!(r.table().contains("all"));
        assert!(serde_json::to_string(&r).unwrap().contains("\"fn\":1"));
    }
}
