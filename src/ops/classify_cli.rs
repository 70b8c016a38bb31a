//! `imgate learn` and `imgate eval`: build a category's model from a labelled JSONL corpus, and measure a
//! classifier on one. File I/O, timing and printing live here; the logic is in `imgate_core::classify`.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use imgate_core::classify::corpus::{self, LabelRule, Record, Split};
use imgate_core::classify::eval::{EvalReport, Evaluator};
use imgate_core::classify::model::LengthNorm;
use imgate_core::classify::obfuscate::Obfuscator;
use imgate_core::classify::train::{self, TrainOptions};
use imgate_core::classify::{CategorySpec, Classifier, Document, Normalizer};

/// Which part of the corpus to use, by a deterministic hash of the record id (FNV-1a 64, modulo 100).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitArg {
    /// Records whose bucket is >= the holdout percentage.
    Train,
    /// Records whose bucket is < the holdout percentage.
    Holdout,
    /// Every record.
    All,
}

impl From<SplitArg> for Split {
    fn from(s: SplitArg) -> Split {
        match s {
            SplitArg::Train => Split::Train,
            SplitArg::Holdout => Split::Holdout,
            SplitArg::All => Split::All,
        }
    }
}

/// Options shared by learn and eval: the corpus, its label and the split.
#[derive(clap::Args, Debug, Clone)]
pub struct CorpusArgs {
    /// Labelled JSONL file(s): {"id","lang","text","category","<label>":bool}.
    #[arg(long = "input", short = 'i', required = true)]
    pub input: Vec<PathBuf>,
    /// Boolean field holding the label.
    #[arg(long, default_value = "political_news")]
    pub label: String,
    /// Instead of --label: records whose `category` is one of these are positive (repeatable).
    #[arg(long = "positive-category")]
    pub positive_category: Vec<String>,
    /// Percentage of ids (by hash bucket) held out from training.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub holdout: u32,
    /// Use only records whose bucket is in LO..HI (overrides --split; for tuning inside the training part,
    /// e.g. train on 40..100 and tune on 20..40 while 0..20 stays held out).
    #[arg(long, value_parser = parse_buckets)]
    pub buckets: Option<(u32, u32)>,
}

fn parse_buckets(s: &str) -> Result<(u32, u32), String> {
    let (a, b) = s.split_once("..").ok_or("expected LO..HI")?;
    let lo: u32 = a.trim().parse().map_err(|_| "bad LO")?;
    let hi: u32 = b.trim().parse().map_err(|_| "bad HI")?;
    if lo >= hi || hi > 100 {
        return Err("need LO < HI <= 100".into());
    }
    Ok((lo, hi))
}

/// `imgate learn`: train a category's linear model.
#[derive(clap::Args, Debug, Clone)]
pub struct LearnArgs {
    #[command(flatten)]
    pub corpus: CorpusArgs,
    /// Part to train on (default: everything except the held-out part).
    #[arg(long, value_enum, default_value = "train")]
    pub split: SplitArg,
    /// Lexicon file(s) the model will be used with; the model learns how much to trust them (repeatable).
    #[arg(long = "lexicon")]
    pub lexicon: Vec<PathBuf>,
    /// Output model file (human-readable, sorted, diffable).
    #[arg(long, short = 'o')]
    pub out: PathBuf,
    #[arg(long, default_value_t = TrainOptions::default().epochs)]
    pub epochs: usize,
    #[arg(long, default_value_t = TrainOptions::default().l2)]
    pub l2: f64,
    #[arg(long = "min-df", default_value_t = TrainOptions::default().min_df)]
    pub min_df: u32,
    #[arg(long = "max-features", default_value_t = TrainOptions::default().max_features)]
    pub max_features: usize,
    #[arg(long = "positive-weight", default_value_t = TrainOptions::default().positive_weight)]
    pub positive_weight: f64,
    #[arg(long = "learning-rate", default_value_t = TrainOptions::default().learning_rate)]
    pub learning_rate: f64,
    #[arg(long = "min-weight", default_value_t = TrainOptions::default().min_weight)]
    pub min_weight: f64,
    #[arg(long, default_value_t = TrainOptions::default().seed)]
    pub seed: u64,
    /// Cross-validation folds (by id bucket, inside the training part) used to choose the per-language
    /// thresholds, which are folded into the intercepts; 0 or 1: no CV.
    #[arg(long, default_value_t = TrainOptions::default().folds)]
    pub folds: u32,
    /// Largest out-of-fold false-positive rate a chosen threshold may have.
    #[arg(long = "max-fpr", default_value_t = TrainOptions::default().max_fpr)]
    pub max_fpr: f64,
    /// Smoothing of the naive-Bayes log-count-ratio input scaling (NB-LR); 0 disables it.
    #[arg(long = "nb-alpha", default_value_t = TrainOptions::default().nb_alpha)]
    pub nb_alpha: f64,
    /// Lengths (characters) of the post-like cuts (title + first sentences) trained on besides each record,
    /// comma-separated; "none" trains on the records only.
    #[arg(long = "post-lengths", default_value = "100,200,300", value_parser = parse_lengths)]
    pub post_lengths: PostLengths,
    /// Length normalisation power P of segment scores (divide by (S + C)^P; 1 = weighted mean).
    #[arg(long = "length-power", default_value_t = TrainOptions::default().length.power)]
    pub length_power: f64,
    /// Length normalisation prior C (shrinks segments with few known features towards the intercept).
    #[arg(long = "length-prior", default_value_t = TrainOptions::default().length.prior)]
    pub length_prior: f64,
    /// Fit the lexicon weight jointly with the feature weights (the earlier trainer) instead of after them.
    #[arg(long = "lexicon-joint")]
    pub lexicon_joint: bool,
    /// Folds of the stacked second stage: intercepts, lexicon weights and feature-score scales fitted on
    /// out-of-fold feature scores (0 or 1: fitted in-sample, the earlier trainer).
    #[arg(long = "stack-folds", default_value_t = TrainOptions::default().stack_folds)]
    pub stack_folds: u32,
}

/// Parsed `--post-lengths`.
#[derive(Debug, Clone, PartialEq)]
pub struct PostLengths(pub Vec<usize>);

fn parse_lengths(s: &str) -> Result<PostLengths, String> {
    if s.trim() == "none" {
        return Ok(PostLengths(Vec::new()));
    }
    s.split(',')
        .map(|x| match x.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!(
                "bad length {x:?}: expected positive integers or \"none\""
            )),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(PostLengths)
}

/// `imgate eval`: precision, recall, F1, false-positive rate and throughput on a labelled corpus.
#[derive(clap::Args, Debug, Clone)]
pub struct EvalArgs {
    #[command(flatten)]
    pub corpus: CorpusArgs,
    /// Part to evaluate (default: the held-out part).
    #[arg(long, value_enum, default_value = "holdout")]
    pub split: SplitArg,
    /// Model file.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Lexicon file(s) (repeatable).
    #[arg(long = "lexicon")]
    pub lexicon: Vec<PathBuf>,
    /// Domain list file(s) (repeatable; only used for documents with source URLs).
    #[arg(long = "domains")]
    pub domains: Vec<PathBuf>,
    /// Score threshold.
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub threshold: f64,
    /// Category name shown in the report.
    #[arg(long, default_value = "political_news")]
    pub category: String,
    /// Also evaluate obfuscated variants of every record (generated now, never stored) and report the catch rate.
    #[arg(long)]
    pub obfuscate: bool,
    /// Seed of the obfuscation.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Evaluate post-like cuts instead of whole records: the title line plus the first 1-3 sentences (varied
    /// per record), cut to at most N characters. Headline records are used as they are.
    #[arg(long = "as-posts", value_name = "N")]
    pub as_posts: Option<usize>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also write one JSON line per evaluated record (`id`, `lang`, `label`, `matched`, `score`, and `obfuscated`)
    /// to this file: for finding the errors behind a figure and for threshold sweeps. No text is written.
    #[arg(long, value_name = "PATH")]
    pub scores: Option<PathBuf>,
}

fn load(args: &CorpusArgs, split: Split) -> Result<Vec<Record>, Box<dyn Error>> {
    let split = args
        .buckets
        .map_or(split, |(lo, hi)| Split::Buckets(lo, hi));
    let rule = if args.positive_category.is_empty() {
        LabelRule::Field(args.label.clone())
    } else {
        LabelRule::Categories(args.positive_category.clone())
    };
    let mut out = Vec::new();
    for path in &args.input {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let r = corpus::parse_record(line, &rule, i + 1)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            if split.contains(&r.id, args.holdout) {
                out.push(r);
            }
        }
    }
    Ok(out)
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn read_path(p: &str) -> Result<String, String> {
    std::fs::read_to_string(p).map_err(|e| e.to_string())
}

fn split_label(split: SplitArg, holdout: u32) -> String {
    match split {
        SplitArg::Train => format!("train part: FNV-1a(id) % 100 >= {holdout}"),
        SplitArg::Holdout => format!("held-out part: FNV-1a(id) % 100 < {holdout}"),
        SplitArg::All => "all records".to_string(),
    }
}

/// Runs `imgate learn`.
pub fn run_learn(args: &LearnArgs) -> Result<(), Box<dyn Error>> {
    let records = load(&args.corpus, args.split.into())?;
    if records.is_empty() {
        return Err("no records in the selected split".into());
    }
    let lexicon = if args.lexicon.is_empty() {
        None
    } else {
        let mut spec = CategorySpec::new();
        spec.lexicons = args.lexicon.iter().map(|p| path_str(p)).collect();
        Some(Classifier::build(
            &[("lexicon".into(), spec)],
            &mut read_path,
        )?)
    };
    let opts = TrainOptions {
        epochs: args.epochs,
        l2: args.l2,
        min_df: args.min_df,
        max_features: args.max_features,
        positive_weight: args.positive_weight,
        learning_rate: args.learning_rate,
        min_weight: args.min_weight,
        seed: args.seed,
        folds: args.folds,
        max_fpr: args.max_fpr,
        nb_alpha: args.nb_alpha,
        post_lengths: args.post_lengths.0.clone(),
        length: LengthNorm {
            power: args.length_power,
            prior: args.length_prior,
        },
        lexicon_joint: args.lexicon_joint,
        stack_folds: args.stack_folds,
    };
    if !(0.0..=2.0).contains(&opts.length.power)
        || !opts.length.prior.is_finite()
        || opts.length.prior < 0.0
    {
        return Err("--length-power must be in 0..=2 and --length-prior >= 0".into());
    }
    let inputs: Vec<String> = args
        .corpus
        .input
        .iter()
        .map(|p| {
            p.file_name()
                .map_or_else(|| path_str(p), |n| n.to_string_lossy().into_owned())
        })
        .collect();
    let label = if args.corpus.positive_category.is_empty() {
        format!("label field {:?}", args.corpus.label)
    } else {
        format!("positive categories {:?}", args.corpus.positive_category)
    };
    let lex_names: Vec<String> = args
        .lexicon
        .iter()
        .map(|p| {
            p.file_name()
                .map_or_else(|| path_str(p), |n| n.to_string_lossy().into_owned())
        })
        .collect();
    let provenance = vec![
        "imgate linear model, written by `imgate learn`".to_string(),
        format!(
            "corpus: {} ({label}; {})",
            inputs.join(", "),
            split_label(args.split, args.corpus.holdout)
        ),
        format!(
            "lexicons: {}",
            if lex_names.is_empty() {
                "none".into()
            } else {
                lex_names.join(", ")
            }
        ),
    ];
    let (model, report) = train::train(&records, lexicon.as_ref(), &opts, &provenance);
    std::fs::write(&args.out, model.to_text())
        .map_err(|e| format!("{}: {e}", args.out.display()))?;
    println!(
        "trained on {} records ({} positive): {} candidate features, {} kept -> {}",
        report.docs,
        report.positives,
        report.candidate_features,
        report.features_kept,
        args.out.display()
    );
    for c in &report.cv {
        println!(
            "cv {}: {} docs, threshold {:.4}: precision {:.4} recall {:.4} f1 {:.4} fpr {:.4}",
            c.lang, c.docs, c.threshold, c.precision, c.recall, c.f1, c.fpr
        );
    }
    for (what, list) in [("records", &report.cv_records), ("posts", &report.cv_posts)] {
        for c in list {
            println!(
                "  cv {} {what}: {} docs: precision {:.4} recall {:.4} f1 {:.4} fpr {:.4}",
                c.lang, c.docs, c.precision, c.recall, c.f1, c.fpr
            );
        }
    }
    Ok(())
}

fn evaluate(
    c: &Classifier,
    records: &[Record],
    category: &str,
    split: &str,
    ob: Option<(&Obfuscator, u64)>,
    mut scores: Option<&mut Vec<serde_json::Value>>,
) -> EvalReport {
    let mut ev = Evaluator::new(category, split);
    for r in records {
        let text = match ob {
            Some((o, seed)) => o.obfuscate(
                &r.text,
                seed ^ u64::from(corpus::bucket(&r.id)) ^ r.id.len() as u64,
            ),
            None => r.text.clone(),
        };
        let doc = Document {
            texts: vec![text.as_str()],
            ..Default::default()
        };
        let t0 = Instant::now();
        let v = c.classify(&doc);
        let secs = t0.elapsed().as_secs_f64();
        let verdict = v.get(category);
        let matched = verdict.is_some_and(|v| v.matched);
        if let Some(out) = scores.as_deref_mut() {
            out.push(serde_json::json!({
                "id": r.id, "lang": r.lang, "label": r.label, "matched": matched,
                "score": verdict.map(|v| v.score), "obfuscated": ob.is_some(),
            }));
        }
        ev.add(&r.lang, r.label, matched, text.len() as u64, secs);
    }
    ev.finish()
}

/// Runs `imgate eval`.
pub fn run_eval(args: &EvalArgs) -> Result<(), Box<dyn Error>> {
    let mut records = load(&args.corpus, args.split.into())?;
    if let Some(n) = args.as_posts {
        for r in records.iter_mut() {
            r.text = corpus::post_like(&r.text, n, corpus::post_sentences(&r.id));
        }
    }
    let mut spec = CategorySpec::new();
    spec.threshold = args.threshold;
    spec.model = args.model.as_deref().map(path_str);
    spec.lexicons = args.lexicon.iter().map(|p| path_str(p)).collect();
    spec.domains = args.domains.iter().map(|p| path_str(p)).collect();
    let c = Classifier::build(&[(args.category.clone(), spec)], &mut read_path)?;
    let mut split = split_label(args.split, args.corpus.holdout);
    if let Some(n) = args.as_posts {
        split.push_str(&format!(", as posts of <= {n} chars"));
    }
    let mut scores = args.scores.as_ref().map(|_| Vec::new());
    let plain = evaluate(&c, &records, &args.category, &split, None, scores.as_mut());
    let obf = if args.obfuscate {
        let o = Obfuscator::new(&Normalizer::new());
        Some(evaluate(
            &c,
            &records,
            &args.category,
            &format!("{split}, obfuscated"),
            Some((&o, args.seed)),
            scores.as_mut(),
        ))
    } else {
        None
    };
    if let (Some(path), Some(lines)) = (&args.scores, &scores) {
        let mut text = String::new();
        for l in lines {
            text.push_str(&l.to_string());
            text.push('\n');
        }
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let catch = obf.as_ref().map(|o| {
        let p = plain.overall.recall;
        if p > 0.0 {
            o.overall.recall / p
        } else {
            0.0
        }
    });
    if args.json {
        let v = serde_json::json!({ "plain": plain, "obfuscated": obf, "obfuscated_catch_rate_vs_plain": catch });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", plain.table());
        if let (Some(o), Some(c)) = (&obf, catch) {
            println!();
            print!("{}", o.table());
            println!(
                "obfuscated catch rate: recall {:.4} vs plain {:.4} (ratio {:.4}); FPR {:.4} vs {:.4}",
                o.overall.recall, plain.overall.recall, c, o.overall.fpr, plain.overall.fpr
            );
        }
    }
    Ok(())
}
