//! Training the linear model from labelled records (`imgate learn`).
//!
//! L2-regularised logistic regression, trained with AdaGrad over a deterministic shuffle. Features are those of
//! [`super::features`] (binary presence, scaled by `1/sqrt(tokens)`), kept only if they occur in at least
//! `min_df` documents: rare n-grams are where a model memorises its training data. The hand-written lexicon
//! enters as one more input, `slog(lexicon score)`, whose weight is learned, so the model learns what the
//! lexicon does not already say. After training, only the `max_features` strongest features are written.

use std::collections::HashMap;

use super::corpus::Record;
use super::engine::slog;
use super::features::for_each_feature;
use super::model::LinearModel;
use super::normalize::{Normalized, Normalizer};
use super::obfuscate::Rng;
use super::Classifier;

/// Training hyper-parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    pub epochs: usize,
    pub learning_rate: f64,
    /// L2 penalty per update.
    pub l2: f64,
    /// Minimum number of documents a feature must occur in.
    pub min_df: u32,
    /// Features kept in the model file (strongest by |weight|).
    pub max_features: usize,
    /// Features with |weight| below this are dropped.
    pub min_weight: f64,
    /// Weight of positive examples in the loss (> 1 favours recall).
    pub positive_weight: f64,
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            epochs: 12,
            learning_rate: 0.5,
            l2: 1e-4,
            min_df: 3,
            max_features: 40_000,
            min_weight: 0.02,
            positive_weight: 1.5,
            seed: 7,
        }
    }
}

/// Figures about a training run (also written as model comments).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrainReport {
    pub docs: usize,
    pub positives: usize,
    pub candidate_features: usize,
    pub features_kept: usize,
}

struct Example {
    feats: Vec<u32>,
    scale: f64,
    lex: f64,
    zh: bool,
    y: f64,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Trains a model. `lexicon` is a classifier whose first category holds the lexicons the model will be used
/// with (or `None` to train without a lexicon signal). `provenance` lines are written as comments.
pub fn train(
    records: &[Record],
    lexicon: Option<&Classifier>,
    opts: &TrainOptions,
    provenance: &[String],
) -> (LinearModel, TrainReport) {
    let norm = Normalizer::new();
    let mut buf = Normalized::default();
    // Pass 1: document frequencies.
    let mut df: HashMap<String, u32> = HashMap::new();
    let mut docs: Vec<(Vec<String>, u32, bool, f64, bool)> = Vec::with_capacity(records.len());
    for r in records {
        norm.normalize_into(&r.text, &mut buf);
        let mut fs: Vec<String> = Vec::new();
        for_each_feature(&buf.text, |f| fs.push(f.to_string()));
        fs.sort_unstable();
        fs.dedup();
        for f in &fs {
            *df.entry(f.clone()).or_insert(0) += 1;
        }
        let lex = lexicon.map_or(0.0, |c| c.lexicon_raw_of(&[r.text.as_str()]));
        docs.push((fs, buf.tokens(), buf.is_cjk(), lex, r.label));
    }
    let mut vocab: HashMap<String, u32> = HashMap::new();
    let mut names: Vec<String> = Vec::new();
    let mut kept: Vec<(&String, &u32)> = df.iter().filter(|(_, n)| **n >= opts.min_df).collect();
    kept.sort();
    for (f, _) in kept {
        vocab.insert(f.clone(), names.len() as u32);
        names.push(f.clone());
    }
    let examples: Vec<Example> = docs
        .into_iter()
        .map(|(fs, tokens, zh, lex, y)| Example {
            feats: fs.iter().filter_map(|f| vocab.get(f).copied()).collect(),
            scale: 1.0 / f64::from(tokens).sqrt(),
            lex: slog(lex),
            zh,
            y: if y { 1.0 } else { 0.0 },
        })
        .collect();

    // Parameters: features, then bias zh, bias en, lexicon.
    let n = names.len();
    let (bzh, ben, blex) = (n, n + 1, n + 2);
    let mut w = vec![0.0f64; n + 3];
    let mut g2 = vec![1e-8f64; n + 3];
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut rng = Rng::new(opts.seed);
    let use_lex = lexicon.is_some();
    for _ in 0..opts.epochs {
        for i in (1..order.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        for &k in &order {
            let ex = &examples[k];
            let b = if ex.zh { bzh } else { ben };
            let mut z = w[b] + if use_lex { w[blex] * ex.lex } else { 0.0 };
            z += ex.scale * ex.feats.iter().map(|&f| w[f as usize]).sum::<f64>();
            let cw = if ex.y > 0.5 {
                opts.positive_weight
            } else {
                1.0
            };
            let g = cw * (sigmoid(z) - ex.y);
            let mut step = |idx: usize, grad: f64, reg: bool| {
                let grad = grad + if reg { opts.l2 * w[idx] } else { 0.0 };
                g2[idx] += grad * grad;
                w[idx] -= opts.learning_rate * grad / g2[idx].sqrt();
            };
            step(b, g, false);
            if use_lex {
                step(blex, g * ex.lex, false);
            }
            for &f in &ex.feats {
                step(f as usize, g * ex.scale, true);
            }
        }
    }

    let mut feats: Vec<(String, f64)> = names
        .iter()
        .zip(w.iter())
        .filter(|(_, w)| w.abs() >= opts.min_weight)
        .map(|(n, w)| (n.clone(), (*w * 1e4).round() / 1e4))
        .collect();
    feats.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then_with(|| a.0.cmp(&b.0)));
    feats.truncate(opts.max_features);
    feats.sort_by(|a, b| a.0.cmp(&b.0));
    let report = TrainReport {
        docs: examples.len(),
        positives: examples.iter().filter(|e| e.y > 0.5).count(),
        candidate_features: n,
        features_kept: feats.len(),
    };
    let mut comments: Vec<String> = provenance.to_vec();
    comments.push(format!(
        "training: {} docs ({} positive), {} candidate features (min_df {}), {} kept",
        report.docs, report.positives, report.candidate_features, opts.min_df, report.features_kept
    ));
    comments.push(format!(
        "options: epochs {} learning_rate {} l2 {} positive_weight {} min_weight {} seed {}",
        opts.epochs, opts.learning_rate, opts.l2, opts.positive_weight, opts.min_weight, opts.seed
    ));
    comments.push(
        "features: CJK char 1-3-grams, Latin words and word bigrams; value 1/sqrt(tokens)".into(),
    );
    let model = LinearModel {
        bias_zh: w[bzh],
        bias_en: w[ben],
        lexicon_scale: use_lex.then_some(w[blex]),
        features: feats,
        comments,
    };
    (model, report)
}
