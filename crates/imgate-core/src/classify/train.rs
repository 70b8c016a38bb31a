//! Training the linear model from labelled records (`imgate learn`).
//!
//! L2-regularised, class-weighted logistic regression over the features of [`super::features`] with sublinear,
//! length-normalised term frequencies (exactly what [`super::model`] scores for one segment), trained with
//! AdaGrad over a deterministic shuffle. A training document is the segment of its majority script (CJK or
//! Latin), as the scorer sees it. Besides each record, post-like cuts of it ([`post_like`]: title plus the
//! first sentences, at `post_lengths` characters) are trained on, because the gateway classifies posts, not
//! articles. Generalisation over memorisation:
//! * a feature must occur in at least `min_df` training documents (rare n-grams are where a model memorises);
//! * after a first fit only the `max_features` strongest features are kept and the model is refitted on them,
//!   so the document norm at scoring time (over the model's features) is the one it was trained with;
//! * the hand-written lexicon enters as one more input, `slog(lexicon score)`, whose weight (one per language) is
//!   learned after the feature weights, on top of their frozen scores ([`TrainOptions::lexicon_joint`] says why),
//!   so a feature's weight is its own evidence and not a correction of the lexicon.
//!
//! Thresholds are chosen by k-fold cross-validation inside the training part ([`cross_validate`]): per language,
//! the out-of-fold score threshold with the best F1 among those whose false-positive rate stays within
//! `max_fpr`, over records and their post-like cuts together (a cut is in the fold of its record). The chosen thresholds are folded into the per-language intercepts, so the shipped model's decision
//! threshold is 0.

use std::collections::HashMap;

use super::corpus::{bucket, post_like, post_sentences, Record};
use super::engine::slog;
use super::features::{is_latin_key, scan_features};
use super::model::{LengthNorm, LexiconScale, LinearModel};
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
    /// Features kept in the model file (strongest by |weight|). 24,000 since the corpus has the team-written
    /// supplement (more vocabulary): with 16,000 the English held-out figures of the shared corpus dropped.
    pub max_features: usize,
    /// Features with |weight| below this are dropped.
    pub min_weight: f64,
    /// Weight of positive examples in the loss (> 1 favours recall).
    pub positive_weight: f64,
    pub seed: u64,
    /// Cross-validation folds used to choose the per-language thresholds (< 2: no CV, thresholds 0).
    pub folds: u32,
    /// Largest false-positive rate a chosen threshold may have on the out-of-fold scores.
    pub max_fpr: f64,
    /// Smoothing of the naive-Bayes log-count ratios that scale the inputs (NB-LR); 0 disables the scaling.
    pub nb_alpha: f64,
    /// Lengths (characters) of the post-like cuts added per record (none: train on records only).
    pub post_lengths: Vec<usize>,
    /// Length normalisation of segment scores, written into the model.
    pub length: LengthNorm,
    /// Fit the lexicon weights jointly with the feature weights (the format-3 trainer) instead of afterwards.
    /// Jointly, the features that are also lexicon terms ("prime minister", "vote") learn a correction of the
    /// lexicon rather than their own evidence: on long articles the lexicon sum already says "politics", so the
    /// model made "prime" and "prime minister" negative, which sank short posts made of such words. The default
    /// fits the features without the lexicon, then only intercepts and lexicon weights on top of the frozen
    /// feature scores (the lexicon as residual evidence).
    pub lexicon_joint: bool,
    /// Folds of the stacked second stage (< 2: fit it in-sample). With the residual lexicon fit, the intercepts,
    /// the lexicon weights and a scale of the feature scores (one each per language) are fitted on the feature
    /// scores of documents the features were not trained on. Scored in-sample, the features look surer than they
    /// are on new text (a headline's city or one character of a name learned as proof of the topic), and the
    /// lexicon's weight came out too small to outvote them.
    pub stack_folds: u32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            epochs: 15,
            learning_rate: 0.3,
            l2: 1e-4,
            min_df: 2,
            max_features: 24_000,
            min_weight: 0.01,
            positive_weight: 1.5,
            seed: 7,
            folds: 5,
            max_fpr: 0.02,
            nb_alpha: 0.5,
            post_lengths: vec![100, 200, 300],
            // A prior of one known feature: a text with one or two known words leans towards the intercept
            // instead of scoring like an article made only of them ("lunch" alone scored as politics). Chosen
            // by cross-validation inside the training part (session 13: prior 0 / 0.5 / 1 / 1.5 / 2 / 4 gave
            // en records F1 0.914 / 0.920 / 0.918 / 0.917 / 0.916 / 0.909, en cuts 0.903 / 0.903 / 0.904 /
            // 0.904 / 0.903 / 0.892, zh 0.851 at all but 4).
            length: LengthNorm {
                power: 1.0,
                prior: 1.0,
            },
            lexicon_joint: false,
            stack_folds: 5,
        }
    }
}

/// Precision, recall, F1 and false-positive rate of one language at its chosen threshold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CvMetrics {
    pub lang: &'static str,
    pub docs: usize,
    pub threshold: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub fpr: f64,
}

/// Figures about a training run (also written as model comments).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrainReport {
    pub docs: usize,
    pub positives: usize,
    pub candidate_features: usize,
    pub features_kept: usize,
    /// Post-like cuts trained on besides the records.
    pub posts: usize,
    /// Out-of-fold metrics per language at the chosen threshold, records and cuts together (empty without CV).
    pub cv: Vec<CvMetrics>,
    /// The same thresholds, measured on the records only and on the post-like cuts only.
    pub cv_records: Vec<CvMetrics>,
    pub cv_posts: Vec<CvMetrics>,
}

/// One featurised training document: sorted distinct feature keys with their counts.
struct Doc {
    feats: Vec<(u64, u32)>,
    zh: bool,
    lex: f64,
    y: bool,
    bucket: u32,
    /// A post-like cut of a record rather than the record.
    post: bool,
}

/// The corpus after normalisation and feature extraction, plus one name per feature key (for the model file).
struct Corpus {
    docs: Vec<Doc>,
    names: HashMap<u64, String>,
}

/// The texts trained on: every record, then its post-like cuts that differ from it.
fn training_texts<'a>(
    records: &'a [Record],
    post_lengths: &[usize],
) -> Vec<(&'a Record, String, bool)> {
    let mut out: Vec<(&Record, String, bool)> =
        records.iter().map(|r| (r, r.text.clone(), false)).collect();
    for r in records {
        let k = post_sentences(&r.id);
        let mut last: Option<String> = None;
        for &n in post_lengths {
            let p = post_like(&r.text, n, k);
            if p.trim() != r.text.trim() && last.as_deref() != Some(p.as_str()) {
                last = Some(p.clone());
                out.push((r, p, true));
            }
        }
    }
    out
}

fn featurize(records: &[Record], lexicon: Option<&Classifier>, post_lengths: &[usize]) -> Corpus {
    let norm = Normalizer::new();
    let mut buf = Normalized::default();
    let mut names: HashMap<u64, String> = HashMap::new();
    let texts = training_texts(records, post_lengths);
    let mut docs = Vec::with_capacity(texts.len());
    for (r, text, post) in &texts {
        super::prepare(&norm, text, &mut buf);
        let zh = buf.is_cjk();
        let mut tf: HashMap<u64, u32> = HashMap::new();
        scan_features(&buf.text, |k, s, e| {
            // Only the majority script's segment: the one the scorer always scores for this text.
            if is_latin_key(k) == zh {
                return;
            }
            *tf.entry(k).or_insert(0) += 1;
            if let std::collections::hash_map::Entry::Vacant(v) = names.entry(k) {
                if let Some(t) = buf.text.get(s..e) {
                    v.insert(t.to_string());
                }
            }
        });
        let mut feats: Vec<(u64, u32)> = tf.into_iter().collect();
        feats.sort_unstable();
        docs.push(Doc {
            feats,
            zh,
            lex: lexicon.map_or(0.0, |c| slog(c.lexicon_raw_of(&[text.as_str()]))),
            y: r.label,
            bucket: bucket(&r.id),
            post: *post,
        });
    }
    Corpus { docs, names }
}

/// A sparse, length-normalised example over a vocabulary.
struct Example {
    feats: Vec<(u32, f64)>,
    zh: bool,
    lex: f64,
    y: f64,
}

/// `scale[j]` multiplies feature `j` after normalisation (the norm is taken before scaling, as at scoring time,
/// where the scale is folded into the stored weight).
fn examples(
    corpus: &Corpus,
    idx: &[usize],
    vocab: &HashMap<u64, u32>,
    scale: &[f64],
    length: LengthNorm,
) -> Vec<Example> {
    idx.iter()
        .filter_map(|&i| corpus.docs.get(i))
        .map(|d| {
            let mut feats: Vec<(u32, f64)> = d
                .feats
                .iter()
                .filter_map(|(k, tf)| vocab.get(k).map(|&j| (j, 1.0 + f64::from(*tf).ln())))
                .collect();
            let div = length.divisor(feats.iter().map(|f| f.1).sum::<f64>());
            for f in feats.iter_mut() {
                f.1 *= scale.get(f.0 as usize).copied().unwrap_or(1.0) / div;
            }
            Example {
                feats,
                zh: d.zh,
                lex: d.lex,
                y: if d.y { 1.0 } else { 0.0 },
            }
        })
        .collect()
}

/// Unregularised weights after the feature weights in the optimiser's vector (biases and lexicon weights).
const EXTRA: usize = 4;

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// A fitted model over a vocabulary of feature keys.
struct Fit {
    keys: Vec<u64>,
    w: Vec<f64>,
    bias_zh: f64,
    bias_en: f64,
    /// Learned weights of the lexicon signal for zh and en segments.
    lex_zh: f64,
    lex_en: f64,
    candidates: usize,
    length: LengthNorm,
}

impl Fit {
    /// The length-normalised feature part of a document's score (no intercept, no lexicon).
    fn feature_score(&self, d: &Doc, index: &HashMap<u64, u32>) -> f64 {
        let mut dot = 0.0;
        let mut sum = 0.0;
        for (k, tf) in &d.feats {
            if let Some(&j) = index.get(k) {
                let v = 1.0 + f64::from(*tf).ln();
                sum += v;
                dot += v * self.w.get(j as usize).copied().unwrap_or(0.0);
            }
        }
        dot / self.length.divisor(sum)
    }

    fn score(&self, d: &Doc, index: &HashMap<u64, u32>) -> f64 {
        let feats = self.feature_score(d, index);
        let (bias, lex) = if d.zh {
            (self.bias_zh, self.lex_zh)
        } else {
            (self.bias_en, self.lex_en)
        };
        bias + lex * d.lex + feats
    }

    fn index(&self) -> HashMap<u64, u32> {
        self.keys
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, i as u32))
            .collect()
    }
}

/// AdaGrad on the class-weighted, L2-regularised logistic loss. `w` holds the feature weights followed by
/// [`EXTRA`] unregularised weights: bias zh, bias en, lexicon weight zh, lexicon weight en. The lexicon weight is
/// per language because the two lexicon files are written independently: a sum of hand weights is not worth
/// the same in both, and one shared scale let the language with more training data set it for the other.
/// `use_lex` includes the lexicon input; `features` = false freezes the feature weights (only the extras learn).
fn sgd(ex: &[Example], w: &mut [f64], use_lex: bool, features: bool, opts: &TrainOptions) {
    let n = w.len() - EXTRA;
    let (bzh, ben) = (n, n + 1);
    let mut g2 = vec![1e-8f64; w.len()];
    let mut order: Vec<usize> = (0..ex.len()).collect();
    let mut rng = Rng::new(opts.seed);
    for _ in 0..opts.epochs {
        for i in (1..order.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        for &k in &order {
            let Some(e) = ex.get(k) else { continue };
            let (b, blex) = if e.zh { (bzh, n + 2) } else { (ben, n + 3) };
            let mut z = w[b] + if use_lex { w[blex] * e.lex } else { 0.0 };
            z += e.feats.iter().map(|&(f, v)| w[f as usize] * v).sum::<f64>();
            let cw = if e.y > 0.5 { opts.positive_weight } else { 1.0 };
            let g = cw * (sigmoid(z) - e.y);
            let mut step = |idx: usize, grad: f64, l2: f64| {
                let grad = grad + l2 * w[idx];
                g2[idx] += grad * grad;
                w[idx] -= opts.learning_rate * grad / g2[idx].sqrt();
            };
            step(b, g, 0.0);
            if use_lex {
                step(blex, g * e.lex, 0.0);
            }
            if features {
                for &(f, v) in &e.feats {
                    step(f as usize, g * v, opts.l2);
                }
            }
        }
    }
}

/// Naive-Bayes log-count ratios `|ln(p_j / q_j)|` of presence counts (smoothed by `alpha`), the NB-LR input
/// scale: it lets the L2 penalty favour features that separate the classes. All 1 when `alpha` is 0.
fn nb_ratios(corpus: &Corpus, idx: &[usize], vocab: &HashMap<u64, u32>, alpha: f64) -> Vec<f64> {
    if alpha <= 0.0 {
        return vec![1.0; vocab.len()];
    }
    let mut p = vec![alpha; vocab.len()];
    let mut q = vec![alpha; vocab.len()];
    for d in idx.iter().filter_map(|&i| corpus.docs.get(i)) {
        let v = if d.y { &mut p } else { &mut q };
        for (k, _) in &d.feats {
            if let Some(&j) = vocab.get(k) {
                v[j as usize] += 1.0;
            }
        }
    }
    let (sp, sq) = (p.iter().sum::<f64>(), q.iter().sum::<f64>());
    p.iter()
        .zip(&q)
        .map(|(a, b)| ((a / sp) / (b / sq)).ln().abs().max(1e-3))
        .collect()
}

/// Fits on the documents `idx`: vocabulary by document frequency, first fit, pruning, refit.
fn fit(corpus: &Corpus, idx: &[usize], use_lex: bool, opts: &TrainOptions) -> Fit {
    let mut df: HashMap<u64, u32> = HashMap::new();
    for &i in idx {
        if let Some(d) = corpus.docs.get(i) {
            for (k, _) in &d.feats {
                *df.entry(*k).or_insert(0) += 1;
            }
        }
    }
    let mut keys: Vec<u64> = df
        .into_iter()
        .filter(|(_, n)| *n >= opts.min_df)
        .map(|(k, _)| k)
        .collect();
    keys.sort_unstable();
    let candidates = keys.len();
    let vocab: HashMap<u64, u32> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (*k, i as u32))
        .collect();
    let scale = nb_ratios(corpus, idx, &vocab, opts.nb_alpha);
    let mut w = vec![0.0f64; keys.len() + EXTRA];
    let joint = use_lex && opts.lexicon_joint;
    sgd(
        &examples(corpus, idx, &vocab, &scale, opts.length),
        &mut w,
        joint,
        true,
        opts,
    );
    let n = keys.len();
    // From here on, weights are effective weights (input scale folded in).
    for (wi, s) in w.iter_mut().zip(&scale) {
        *wi *= s;
    }
    let extra: Vec<f64> = w[n..].to_vec();

    // Keep the strongest features, then refit so the training norm is the scoring norm.
    let mut order: Vec<usize> = (0..n).filter(|&i| w[i].abs() >= opts.min_weight).collect();
    order.sort_by(|&a, &b| w[b].abs().total_cmp(&w[a].abs()).then(a.cmp(&b)));
    order.truncate(opts.max_features);
    order.sort_unstable();
    let kept: Vec<u64> = order.iter().map(|&i| keys[i]).collect();
    let vocab: HashMap<u64, u32> = kept
        .iter()
        .enumerate()
        .map(|(i, k)| (*k, i as u32))
        .collect();
    let kept_scale: Vec<f64> = order.iter().map(|&i| scale[i]).collect();
    let mut w2: Vec<f64> = order.iter().map(|&i| w[i] / scale[i]).collect();
    w2.extend(extra);
    let ex = examples(corpus, idx, &vocab, &kept_scale, opts.length);
    sgd(&ex, &mut w2, joint, true, opts);
    let stacked = use_lex && !joint && opts.stack_folds >= 2;
    if use_lex && !joint && !stacked {
        sgd(&ex, &mut w2, true, false, opts);
    }
    let m = kept.len();
    for (wi, s) in w2.iter_mut().zip(&kept_scale) {
        *wi *= s;
    }
    if stacked {
        let second = stack(corpus, idx, [w2[m], w2[m + 1]], opts);
        for (wi, k) in w2.iter_mut().zip(&kept) {
            *wi *= if is_latin_key(*k) {
                second.feature_scale[1]
            } else {
                second.feature_scale[0]
            };
        }
        w2[m..m + EXTRA].copy_from_slice(&second.extra);
    }
    Fit {
        keys: kept,
        bias_zh: w2[m],
        bias_en: w2[m + 1],
        lex_zh: if use_lex { w2[m + 2] } else { 0.0 },
        lex_en: if use_lex { w2[m + 3] } else { 0.0 },
        w: w2[..m].to_vec(),
        candidates,
        length: opts.length,
    }
}

/// The stacked second stage of [`fit`]: per language, a scale of the feature score, the intercept and the
/// lexicon weight.
struct Stacked {
    /// Scale of the feature score for zh / en documents (multiplies the CJK / Latin feature weights).
    feature_scale: [f64; 2],
    /// Bias zh, bias en, lexicon weight zh, lexicon weight en (as the optimiser's [`EXTRA`] weights).
    extra: [f64; EXTRA],
}

/// Fits [`Stacked`] on out-of-fold feature scores of the documents `idx`: each inner fold's documents are scored
/// by a feature model (no lexicon) fitted on the other folds, then a logistic regression over (feature score,
/// lexicon signal, intercept), per language, learns how much each is worth on text the features never saw.
/// Inner folds go by `(bucket / k) % k`, so they cut across the outer cross-validation's `bucket % k`, and a
/// record's post-like cuts stay in its fold. `bias` (the in-sample intercepts) is the starting point.
fn stack(corpus: &Corpus, idx: &[usize], bias: [f64; 2], opts: &TrainOptions) -> Stacked {
    let k = opts.stack_folds.max(2);
    let inner = |i: usize| corpus.docs.get(i).map_or(0, |d| (d.bucket / k) % k);
    let mut ex: Vec<Example> = Vec::with_capacity(idx.len());
    for f in 0..k {
        let (test, train): (Vec<usize>, Vec<usize>) = idx.iter().partition(|&&i| inner(i) == f);
        if test.is_empty() || train.is_empty() {
            continue;
        }
        let m = fit(corpus, &train, false, opts);
        let index = m.index();
        for &i in &test {
            let Some(d) = corpus.docs.get(i) else {
                continue;
            };
            let s = m.feature_score(d, &index);
            ex.push(Example {
                feats: vec![(if d.zh { 0 } else { 1 }, s)],
                zh: d.zh,
                lex: d.lex,
                y: if d.y { 1.0 } else { 0.0 },
            });
        }
    }
    // Feature scales start at 1 (the features as fitted), intercepts at the in-sample ones, lexicon weights at 0.
    let mut w = vec![1.0, 1.0, bias[0], bias[1], 0.0, 0.0];
    // No penalty on the scales: they are two numbers fitted on thousands of documents.
    let second = TrainOptions {
        l2: 0.0,
        ..opts.clone()
    };
    sgd(&ex, &mut w, true, true, &second);
    Stacked {
        feature_scale: [w[0], w[1]],
        extra: [w[2], w[3], w[4], w[5]],
    }
}

/// The threshold on `scores` (score, gold, is a post-like cut) with the best F1 among those whose FPR is
/// <= `max_fpr` overall AND within each group (records, cuts): long articles and short posts share the threshold,
/// and neither may pay for the other's recall with false positives.
fn choose_threshold(
    lang: &'static str,
    scores: &mut [(f64, bool, bool)],
    max_fpr: f64,
) -> CvMetrics {
    scores.sort_by(|a, b| b.0.total_cmp(&a.0));
    let pos = scores.iter().filter(|s| s.1).count();
    let neg = scores.len() - pos;
    let neg_posts = scores.iter().filter(|s| !s.1 && s.2).count();
    let neg_records = neg - neg_posts;
    let mut fp_posts = 0usize;
    let within = |fp: usize, n: usize| n == 0 || fp as f64 / n as f64 <= max_fpr;
    let mut best = CvMetrics {
        lang,
        docs: scores.len(),
        threshold: scores.first().map_or(0.0, |s| s.0 + 1.0),
        ..Default::default()
    };
    let (mut tp, mut fp) = (0usize, 0usize);
    for i in 0..scores.len() {
        if scores[i].1 {
            tp += 1;
        } else {
            fp += 1;
            fp_posts += usize::from(scores[i].2);
        }
        // Only cut between distinct scores.
        if scores.get(i + 1).is_some_and(|n| n.0 == scores[i].0) {
            continue;
        }
        let fpr = if neg > 0 { fp as f64 / neg as f64 } else { 0.0 };
        if fpr > max_fpr || !within(fp_posts, neg_posts) || !within(fp - fp_posts, neg_records) {
            break;
        }
        let precision = tp as f64 / (tp + fp) as f64;
        let recall = if pos > 0 { tp as f64 / pos as f64 } else { 0.0 };
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        if f1 > best.f1 {
            // Midway to the next lower score, so small shifts of the final model do not flip the edge case.
            let next = scores.get(i + 1).map_or(scores[i].0 - 1.0, |n| n.0);
            best = CvMetrics {
                lang,
                docs: scores.len(),
                threshold: (scores[i].0 + next) / 2.0,
                precision,
                recall,
                f1,
                fpr,
            };
        }
    }
    best
}

/// Precision, recall, F1 and FPR of `scores` at threshold `t` (matched when score >= t).
fn metrics_at(lang: &'static str, scores: &[(f64, bool)], t: f64) -> CvMetrics {
    let (mut tp, mut fp, mut pos) = (0usize, 0usize, 0usize);
    for &(s, y) in scores {
        pos += usize::from(y);
        if s >= t {
            if y {
                tp += 1;
            } else {
                fp += 1;
            }
        }
    }
    let neg = scores.len() - pos;
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let (precision, recall) = (ratio(tp, tp + fp), ratio(tp, pos));
    CvMetrics {
        lang,
        docs: scores.len(),
        threshold: t,
        precision,
        recall,
        f1: if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        },
        fpr: ratio(fp, neg),
    }
}

/// Cross-validation outcome: chosen thresholds with their metrics on everything, on records only, on cuts only.
#[derive(Debug, Default)]
struct CvOutcome {
    all: Vec<CvMetrics>,
    records: Vec<CvMetrics>,
    posts: Vec<CvMetrics>,
}

/// k-fold cross-validation by record bucket (`bucket % folds`): out-of-fold scores per language (records and
/// their post-like cuts together) and the chosen thresholds.
pub fn cross_validate(
    records: &[Record],
    lexicon: Option<&Classifier>,
    opts: &TrainOptions,
) -> Vec<CvMetrics> {
    let corpus = featurize(records, lexicon, &opts.post_lengths);
    cv(&corpus, lexicon.is_some(), opts).all
}

fn cv(corpus: &Corpus, use_lex: bool, opts: &TrainOptions) -> CvOutcome {
    let k = opts.folds.max(2);
    // (score, gold, is a post-like cut) per language.
    let mut zh: Vec<(f64, bool, bool)> = Vec::new();
    let mut en: Vec<(f64, bool, bool)> = Vec::new();
    for f in 0..k {
        let (test, train): (Vec<usize>, Vec<usize>) =
            (0..corpus.docs.len()).partition(|&i| corpus.docs[i].bucket % k == f);
        let m = fit(corpus, &train, use_lex, opts);
        let index = m.index();
        for &i in &test {
            let d = &corpus.docs[i];
            let s = m.score(d, &index);
            if d.zh { &mut zh } else { &mut en }.push((s, d.y, d.post));
        }
    }
    let mut out = CvOutcome::default();
    for (lang, v) in [("zh", &mut zh), ("en", &mut en)] {
        let c = choose_threshold(lang, v, opts.max_fpr);
        let part = |post: bool| -> Vec<(f64, bool)> {
            v.iter()
                .filter(|x| x.2 == post)
                .map(|x| (x.0, x.1))
                .collect()
        };
        out.records
            .push(metrics_at(lang, &part(false), c.threshold));
        out.posts.push(metrics_at(lang, &part(true), c.threshold));
        out.all.push(c);
    }
    out
}

/// Trains a model. `lexicon` is a classifier whose first category holds the lexicons the model will be used
/// with (or `None` to train without a lexicon signal). `provenance` lines are written as comments. With
/// `opts.folds >= 2`, thresholds are chosen by cross-validation and folded into the intercepts.
pub fn train(
    records: &[Record],
    lexicon: Option<&Classifier>,
    opts: &TrainOptions,
    provenance: &[String],
) -> (LinearModel, TrainReport) {
    let corpus = featurize(records, lexicon, &opts.post_lengths);
    let use_lex = lexicon.is_some();
    let cvo = if opts.folds >= 2 {
        cv(&corpus, use_lex, opts)
    } else {
        CvOutcome::default()
    };
    let all: Vec<usize> = (0..corpus.docs.len()).collect();
    let m = fit(&corpus, &all, use_lex, opts);
    let threshold = |lang: &str| {
        cvo.all
            .iter()
            .find(|c| c.lang == lang)
            .map_or(0.0, |c| c.threshold)
    };
    let mut feats: Vec<(String, f64)> = m
        .keys
        .iter()
        .zip(m.w.iter())
        .filter_map(|(k, w)| corpus.names.get(k).map(|n| (n.clone(), round4(*w))))
        .collect();
    feats.sort_by(|a, b| a.0.cmp(&b.0));
    let posts = corpus.docs.iter().filter(|d| d.post).count();
    let report = TrainReport {
        docs: corpus.docs.len() - posts,
        positives: corpus.docs.iter().filter(|d| d.y && !d.post).count(),
        candidate_features: m.candidates,
        features_kept: feats.len(),
        posts,
        cv: cvo.all.clone(),
        cv_records: cvo.records.clone(),
        cv_posts: cvo.posts.clone(),
    };
    let mut comments: Vec<String> = provenance.to_vec();
    comments.push(format!(
        "training: {} records ({} positive) + {} post-like cuts, {} candidate features (min_df {}), {} kept",
        report.docs, report.positives, report.posts, report.candidate_features, opts.min_df, report.features_kept
    ));
    comments.push(format!(
        "options: epochs {} learning_rate {} l2 {} positive_weight {} max_features {} min_weight {} nb_alpha {} seed {} folds {} max_fpr {} post_lengths {:?} length {} {} lexicon_fit {}",
        opts.epochs, opts.learning_rate, opts.l2, opts.positive_weight, opts.max_features, opts.min_weight,
        opts.nb_alpha, opts.seed, opts.folds, opts.max_fpr, opts.post_lengths, opts.length.power, opts.length.prior,
        if opts.lexicon_joint {
            "joint".to_owned()
        } else if opts.stack_folds >= 2 {
            format!("stacked (features first, then per language a feature-score scale, intercept and lexicon weight fitted on {}-fold out-of-fold feature scores)", opts.stack_folds)
        } else {
            "residual (features first, then intercepts + lexicon weights per language, in-sample)".to_owned()
        }
    ));
    comments.push(
        "features: CJK char 1-3-grams, English non-stop non-numeric words and word bigrams, per script segment; value (1 + ln tf) / (S + C)^P"
            .into(),
    );
    for (what, list) in [
        ("all", &cvo.all),
        ("records", &cvo.records),
        ("posts", &cvo.posts),
    ] {
        for c in list {
            comments.push(format!(
                "cv {} {what}: {} docs, threshold {:.4}{}; precision {:.4} recall {:.4} f1 {:.4} fpr {:.4}",
                c.lang,
                c.docs,
                c.threshold,
                if what == "all" { " folded into bias" } else { "" },
                c.precision,
                c.recall,
                c.f1,
                c.fpr
            ));
        }
    }
    let model = LinearModel {
        bias_zh: round4(m.bias_zh - threshold("zh")),
        bias_en: round4(m.bias_en - threshold("en")),
        lexicon_scale: use_lex.then_some(LexiconScale {
            zh: round4(m.lex_zh),
            en: round4(m.lex_en),
        }),
        length: opts.length,
        features: feats,
        comments,
    };
    (model, report)
}

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: usize, text: &str, label: bool) -> Record {
        Record {
            id: format!("r{id}"),
            lang: "en".into(),
            text: text.into(),
            label,
        }
    }

    #[test]
    fn learns_a_separable_toy_corpus() {
        let mut rs = Vec::new();
        for i in 0..60 {
            rs.push(rec(i, "the minister told parliament about the vote", true));
            rs.push(rec(
                100 + i,
                "the striker scored a late goal in the match",
                false,
            ));
            rs.push(rec(200 + i, "国务院 外交部 发言人 会谈", true));
            rs.push(rec(300 + i, "联赛 比赛 进球 球队", false));
        }
        let opts = TrainOptions {
            min_df: 2,
            folds: 3,
            post_lengths: Vec::new(),
            ..TrainOptions::default()
        };
        let (m, r) = train(&rs, None, &opts, &["test".into()]);
        assert_eq!(r.docs, 240);
        assert!(r.cv.iter().all(|c| c.f1 > 0.99), "{:?}", r.cv);
        let parsed = LinearModel::parse("m", &m.to_text());
        assert!(parsed.is_ok(), "{parsed:?}");
        let w = |f: &str| m.features.iter().find(|x| x.0 == f).map_or(0.0, |x| x.1);
        assert!(w("parliament") > 0.0 && w("goal") < 0.0);
        assert!(w("外交") > 0.0 && w("比赛") < 0.0);
    }

    /// Features that only memorise the training documents (a token shared by exactly two documents of the same
    /// class) look decisive in-sample and are worth nothing on new text; the lexicon term (a prefix, matching
    /// words too rare to be features) is right 85% of the time either way. Fitted on out-of-fold feature scores,
    /// the lexicon weight comes out far larger than fitted in-sample.
    #[test]
    fn stacking_weighs_the_lexicon_by_what_features_know_out_of_fold() {
        let letters = |mut n: usize| {
            let mut w = String::from("zq");
            for _ in 0..3 {
                w.push((b'a' + (n % 26) as u8) as char);
                n /= 26;
            }
            w
        };
        let mut rs = Vec::new();
        for p in 0..150 {
            let positive = p % 2 == 0;
            let lexicon_hit = if positive {
                p % 10 != 0
            } else {
                p % 10 == 1 || p % 10 == 3
            };
            for copy in 0..2 {
                // The lexicon's evidence is a word seen once ("senat" + letters), which no feature can learn
                // (min_df 2) but the prefix term matches.
                let text = format!(
                    "{} report filed today {}{}",
                    letters(p),
                    if lexicon_hit { "senat" } else { "weathe" },
                    letters(1000 + 2 * p + copy)
                );
                rs.push(rec(2 * p + copy, &text, positive));
            }
        }
        let mut spec = crate::classify::CategorySpec::new();
        spec.lexicons = vec!["l.txt".into()];
        let mut read = |_: &str| Ok::<_, String>("senat* | 2\n".to_owned());
        let lexicon =
            Classifier::build(&[("p".into(), spec)], &mut read).unwrap_or_else(|e| panic!("{e}"));
        let base = TrainOptions {
            folds: 0,
            post_lengths: Vec::new(),
            ..TrainOptions::default()
        };
        let weights = |stack_folds: u32| {
            let opts = TrainOptions {
                stack_folds,
                ..base.clone()
            };
            let (m, _) = train(&rs, Some(&lexicon), &opts, &[]);
            m.lexicon_scale.map_or(0.0, |l| l.en)
        };
        let in_sample = weights(0);
        let stacked = weights(5);
        assert!(stacked > 0.5, "stacked lexicon weight {stacked}");
        assert!(
            stacked > 1.5 * in_sample.max(0.0),
            "stacked {stacked} vs in-sample {in_sample}"
        );
    }

    #[test]
    fn post_like_cuts_are_added_once_per_distinct_cut() {
        let long = format!(
            "Budget vote\n\n{}",
            "The minister spoke to parliament. ".repeat(20)
        );
        let rs = vec![rec(1, &long, true), rec(2, "short headline", false)];
        let t = training_texts(&rs, &[100, 200, 300, 5000]);
        // The record itself, then distinct cuts; the short record and the uncut length add nothing.
        assert_eq!(t.iter().filter(|x| !x.2).count(), 2);
        let cuts: Vec<&String> = t.iter().filter(|x| x.2).map(|x| &x.1).collect();
        assert!(!cuts.is_empty() && cuts.len() <= 3, "{cuts:?}");
        assert!(cuts
            .iter()
            .all(|c| c.starts_with("Budget vote") && c.chars().count() <= 300));
    }

    #[test]
    fn threshold_respects_fpr() {
        let mut s = vec![
            (3.0, true, false),
            (2.0, false, false),
            (1.0, true, false),
            (0.0, false, false),
            (-1.0, false, false),
        ];
        let c = choose_threshold("en", &mut s, 0.0);
        assert!(c.threshold > 2.0 && c.threshold < 3.0);
        assert_eq!(c.fpr, 0.0);
        let c = choose_threshold("en", &mut s, 0.5);
        assert!(c.threshold > 0.0 && c.threshold < 1.0, "{c:?}");
        assert!((c.recall - 1.0).abs() < 1e-9);
        // The same scores, but the false positive at 2.0 is a post-like cut and the cuts have only two
        // negatives: cutting below it gives the cuts FPR 0.5 > 0.4, so the threshold stays above 2.0.
        let mut g = vec![
            (3.0, true, false),
            (2.0, false, true),
            (1.0, true, false),
            (0.0, false, false),
            (-1.0, false, true),
        ];
        let c = choose_threshold("en", &mut g, 0.4);
        assert!(c.threshold > 2.0, "{c:?}");
    }
}
