//! Text classification into restricted categories (e.g. `political_news`), with evidence.
//!
//! A [`Classifier`] is compiled once per config snapshot from `[categories.NAME]` specs ([`CategorySpec`]) and
//! is immutable, `Send + Sync`. [`Classifier::classify`] normalises each text of a [`Document`]
//! ([`normalize`]), blanks URL-looking tokens ([`urls`]; links are the domain signal's business), runs one
//! Aho-Corasick pass per category over the lexicon terms and one hashed pass per text over the model features
//! ([`features`]), and adds up the signals into a score per category:
//!
//! ```text
//! score = lexicon_scale[lang] * slog(sum of weights of distinct lexicon terms) (lexicon, whole document)
//!       + bias[lang mix] + sum(weight * (1 + ln tf)) / (S + C)^P             (model, see [`model`])
//!       + weight of the best source-domain hit                                (domains)
//!       + weight of the declared category value                               (declared)
//! matched = score >= threshold
//! ```
//! A long text the whole-document score does not match, but whose lexicon found something, is also read in
//! passages ([`passages`]): one that alone scores far above the threshold decides it, so padding cannot hide a
//! political paragraph. Each contribution is reported separately in the [`Evidence`], which is meant for the audit log only: it names
//! lexicon terms and model features, so it must not be sent to clients ([`Verdict::public`] is what may be).
//!
//! File contents are passed in by the caller through `read`, so this module does no I/O. Training
//! ([`train`]), evaluation ([`eval`]) and generation of obfuscated test text ([`obfuscate`]) are pure functions
//! used by the `imgate learn` / `imgate eval` commands.

pub mod bidi;
pub mod camel;
pub mod cjkgap;
pub mod corpus;
pub mod domains;
mod engine;
pub mod eval;
pub mod features;
pub mod inword;
pub mod leet;
pub mod lexicon;
pub mod model;
pub mod normalize;
pub mod obfuscate;
mod pairs;
pub mod passages;
pub mod rejoin;
pub mod segment;
pub mod spaced;
pub mod train;
pub mod urls;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use domains::DomainHit;
use engine::{lexicon_raw, score_model_probing, slog, Engine, FeatureTable, Hit, Matcher};
pub use model::{LexiconScale, LinearModel};
pub use normalize::{Normalized, Normalizer};

fn default_domain_weight() -> f64 {
    2.0
}
fn default_max_evidence_terms() -> usize {
    32
}
fn default_top_features() -> usize {
    8
}

/// Configuration of one category (`[categories.NAME]` in `imgate.toml`).
///
/// ```toml
/// [categories.political_news]
/// threshold = 0.0                      # matched when score >= threshold
/// lexicons = ["lexicons/political_news.zh.txt", "lexicons/political_news.en.txt"]
/// model = "models/political_news.model"  # optional linear model
/// lexicon_weight = 1.0                 # optional; overrides the model's learned per-language scales (default 1 without model)
/// domains = ["lexicons/political_news.domains.txt"]
/// domain_weight = 2.0                  # weight of a domain entry without explicit weight
/// declared = { politics = 5.0, "时政" = 5.0, sports = -2.0 }  # explicit category field values
/// max_evidence_terms = 32              # term occurrences kept in the evidence
/// top_features = 8                     # model features kept in the evidence
/// ```
/// Paths are as written; the caller resolves them (relative to the config file).
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CategorySpec {
    /// Score at or above which the text is in the category.
    #[serde(default)]
    pub threshold: f64,
    /// Lexicon files (weighted terms, see [`lexicon`]).
    #[serde(default)]
    pub lexicons: Vec<String>,
    /// Scale of the lexicon signal; default: the model's learned scale, or 1.0 without a model.
    #[serde(default)]
    pub lexicon_weight: Option<f64>,
    /// Linear model file (see [`model`]).
    #[serde(default)]
    pub model: Option<String>,
    /// Source-domain lists (see [`domains`]).
    #[serde(default)]
    pub domains: Vec<String>,
    /// Weight of a domain entry that has no weight of its own.
    #[serde(default = "default_domain_weight")]
    pub domain_weight: f64,
    /// Values of an explicit category field (compared case-insensitively, trimmed) and their weights.
    #[serde(default)]
    pub declared: BTreeMap<String, f64>,
    /// Maximum number of term occurrences recorded in the evidence.
    #[serde(default = "default_max_evidence_terms")]
    pub max_evidence_terms: usize,
    /// Number of strongest model features recorded in the evidence.
    #[serde(default = "default_top_features")]
    pub top_features: usize,
}

impl CategorySpec {
    /// A spec with the documented defaults and no files.
    pub fn new() -> Self {
        CategorySpec {
            domain_weight: default_domain_weight(),
            max_evidence_terms: default_max_evidence_terms(),
            top_features: default_top_features(),
            ..Default::default()
        }
    }
}

/// Why a classifier could not be built. Parse errors name the file, line and column (1-based).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BuildError {
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("category {category:?}: cannot read {file:?}: {message}")]
    Read {
        category: String,
        file: String,
        message: String,
    },
    #[error("category {category:?}: {message}")]
    Invalid { category: String, message: String },
    #[error("category {category:?}: cannot build the term automaton: {message}")]
    Automaton { category: String, message: String },
}

/// The text of one request to classify.
#[derive(Debug, Clone, Default)]
pub struct Document<'a> {
    /// Texts to inspect, e.g. title, content, reprint title. Evidence refers to them by index.
    pub texts: Vec<&'a str>,
    /// Source / reprint URLs.
    pub source_urls: Vec<&'a str>,
    /// An explicit category field, when the API has one.
    pub declared_category: Option<&'a str>,
}

/// Serialises a shared string as a plain string (serde's `rc` feature would do the same for every `Arc`).
fn serialize_shared_str<S: serde::Serializer>(
    value: &Arc<str>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value)
}

/// One lexicon term occurrence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TermHit {
    /// Index into `Document::texts`.
    pub text: usize,
    /// Byte range in the ORIGINAL text (what the user wrote, obfuscation included).
    pub start: usize,
    pub end: usize,
    /// The lexicon term as written in the lexicon (shared with the classifier: no allocation per hit).
    #[serde(serialize_with = "serialize_shared_str")]
    pub term: Arc<str>,
    pub weight: f64,
    /// Lexicon file and line (shared, like `term`).
    #[serde(serialize_with = "serialize_shared_str")]
    pub source: Arc<str>,
}

/// The model's share of the score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelEvidence {
    /// Script that carries most of the model evidence (`zh` or `en`); the intercept is the evidence-weighted mix
    /// of both languages' intercepts.
    pub lang: &'static str,
    /// bias + length-normalised feature sum (the lexicon term is reported separately).
    pub score: f64,
    /// Strongest features present, with their contribution.
    pub top_features: Vec<(String, f64)>,
    /// Number of distinct model features present (in the scored segments).
    pub features_present: usize,
}

/// The declared category value that matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeclaredHit {
    pub value: String,
    pub weight: f64,
}

/// A passage of a long text that decided the verdict on its own ([`passages`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PassageHit {
    /// Index into `Document::texts`.
    pub text: usize,
    /// Byte range in the text as the classifier read it (display order).
    pub start: usize,
    pub end: usize,
    /// The passage's own score.
    pub score: f64,
}

/// Why a verdict came out as it did; for the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Evidence {
    /// Term occurrences (at most `max_evidence_terms`).
    pub terms: Vec<TermHit>,
    /// Sum of the weights of distinct matched terms (before scaling).
    pub lexicon_raw: f64,
    /// Contribution of the lexicon to the score.
    pub lexicon_score: f64,
    pub model: Option<ModelEvidence>,
    pub domain: Option<DomainHit>,
    pub declared: Option<DeclaredHit>,
    /// The passage that matched when the whole document did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passage: Option<PassageHit>,
}

/// The decision for one category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub category: String,
    pub score: f64,
    pub threshold: f64,
    pub matched: bool,
    pub evidence: Evidence,
}

/// What may be shown to a client: the category and whether it matched, nothing that reveals the lexicon.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicVerdict<'a> {
    pub category: &'a str,
    pub matched: bool,
}

impl Verdict {
    pub fn public(&self) -> PublicVerdict<'_> {
        PublicVerdict {
            category: &self.category,
            matched: self.matched,
        }
    }
}

/// One verdict per configured category, in configuration order.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Classification {
    pub verdicts: Vec<Verdict>,
}

impl Classification {
    /// The verdict for `category`, if configured.
    pub fn get(&self, category: &str) -> Option<&Verdict> {
        self.verdicts.iter().find(|v| v.category == category)
    }

    /// Categories whose verdict matched.
    pub fn matched(&self) -> impl Iterator<Item = &str> {
        self.verdicts
            .iter()
            .filter(|v| v.matched)
            .map(|v| v.category.as_str())
    }
}

/// Per-thread buffers of [`Classifier::classify`], reused from call to call.
#[derive(Default)]
struct ClassifyScratch {
    /// One normalised text per document text (only the first `texts.len()` are current).
    normalized: Vec<Normalized>,
    lexicon: LexiconScratch,
}

/// Buffers of the lexicon signal, kept between calls.
#[derive(Debug, Default)]
struct LexiconScratch {
    hits: Vec<Hit>,
    /// A bit per lexicon entry, for counting each entry hit once (see [`lexicon_raw`]).
    seen: Vec<u64>,
}

impl ClassifyScratch {
    /// Buffers above this many bytes are dropped after a call, so one huge document does not pin its memory
    /// in every worker thread for good.
    const KEEP_BYTES: usize = 1 << 20;

    fn trim(&mut self) {
        if self
            .normalized
            .iter()
            .map(Normalized::capacity_bytes)
            .sum::<usize>()
            + self.lexicon.hits.capacity() * std::mem::size_of::<Hit>()
            + self.lexicon.seen.capacity() * std::mem::size_of::<u64>()
            > Self::KEEP_BYTES
        {
            *self = ClassifyScratch::default();
        }
    }
}

/// Every step that turns a text into what the signals read, in order: [`Normalizer::normalize_into`], camel-case
/// words split ([`camel`]), symbols inside words removed ([`inword`]), Latin runs inserted between CJK characters
/// removed ([`cjkgap`]), letter-spaced words joined ([`spaced`]), URL tokens blanked but for their path words
/// ([`urls`]), leetspeak digits folded ([`leet`], after the URLs so that ids in links stay ids). Scoring and
/// training both go through here, so a model learns from exactly what it will score.
pub(crate) fn prepare(norm: &Normalizer, text: &str, n: &mut Normalized) {
    norm.normalize_into(text, n);
    camel::split_camel_case(n, text);
    inword::remove_inserted_symbols(n);
    cjkgap::remove_inserted_runs(n);
    spaced::join_spaced_letters(n, text);
    urls::blank_urls(n, text);
    leet::fold_leet_symbols(n);
    leet::fold_leet_digits(n);
}

/// Fewest distinct known model features that let the model vote on a text (see [`Classifier::verdict`]).
const MIN_EVIDENCE_FEATURES: usize = 2;

/// Raw lexicon sum (distinct terms' hand weights) at which the lexicon alone decides a text the model knows
/// fewer than [`MIN_EVIDENCE_FEATURES`] words of: one named politician or office (weight 1.5-2) or two weaker
/// terms.
const LEXICON_ALONE_AT: f64 = 1.5;

/// A declared category value as it is compared: normalised like text (width, case, traditional characters,
/// look-alikes), its words joined by single spaces, so `Political-News`, `political_news`, `political news` and
/// `時政` meet `political_news` and `时政` in the config.
fn declared_key(norm: &Normalizer, value: &str) -> String {
    let normalized = norm.normalize(value);
    let words: Vec<&str> = normalized
        .text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.join(" ")
}

/// What a category's model scan suspects of a document's Latin words (see [`rejoin`] and [`segment`]).
#[derive(Debug, Default, Clone, Copy)]
struct WordSuspicion {
    split_suspected: bool,
    run_together_suspected: bool,
}

/// The bit of the vocabulary filter (of `bits`, a power of two) for word key `k`.
fn vocabulary_bit(k: u64, bits: usize) -> usize {
    (k.wrapping_mul(0xA076_1D64_78BD_642F) >> (64 - bits.trailing_zeros())) as usize
}

/// The compiled classifier. Immutable and `Send + Sync`: share it behind an `Arc` in a config snapshot.
#[derive(Debug)]
pub struct Classifier {
    norm: Normalizer,
    engines: Vec<Engine>,
    /// Sorted keys of the single Latin words of every lexicon term: with the models' word features, the
    /// vocabulary that split words are joined back into ([`rejoin`]).
    lexicon_words: Vec<u64>,
    /// A one-hash Bloom filter of that whole vocabulary (8 bits per word), so that most words it does not hold
    /// cost one bit test ([`Classifier::knows`]).
    vocabulary_filter: Vec<u64>,
}

fn read_file(
    category: &str,
    file: &str,
    read: &mut dyn FnMut(&str) -> Result<String, String>,
) -> Result<String, BuildError> {
    read(file).map_err(|message| BuildError::Read {
        category: category.to_string(),
        file: file.to_string(),
        message,
    })
}

impl Classifier {
    /// Compiles the categories. `read` loads a file named in a spec (relative path as written).
    pub fn build(
        specs: &[(String, CategorySpec)],
        read: &mut dyn FnMut(&str) -> Result<String, String>,
    ) -> Result<Classifier, BuildError> {
        let norm = Normalizer::new();
        let mut engines = Vec::with_capacity(specs.len());
        let mut names = std::collections::HashSet::new();
        for (name, spec) in specs {
            let invalid = |message: String| BuildError::Invalid {
                category: name.clone(),
                message,
            };
            if !names.insert(name.as_str()) {
                return Err(invalid("defined twice".into()));
            }
            if !spec.threshold.is_finite() || !spec.domain_weight.is_finite() {
                return Err(invalid(
                    "threshold and domain_weight must be finite numbers".into(),
                ));
            }
            if spec.lexicon_weight.is_some_and(|w| !w.is_finite()) {
                return Err(invalid("lexicon_weight must be a finite number".into()));
            }
            if spec.lexicons.is_empty()
                && spec.model.is_none()
                && spec.domains.is_empty()
                && spec.declared.is_empty()
            {
                return Err(invalid(
                    "no signal: give at least one of lexicons, model, domains, declared".into(),
                ));
            }
            let mut lex = Vec::new();
            for f in &spec.lexicons {
                lex.extend(lexicon::parse_lexicon(
                    f,
                    &read_file(name, f, read)?,
                    &norm,
                )?);
            }
            let model = match &spec.model {
                Some(f) => Some(LinearModel::parse(f, &read_file(name, f, read)?)?),
                None => None,
            };
            let mut dom = Vec::new();
            for f in &spec.domains {
                dom.extend(domains::parse_domains(f, &read_file(name, f, read)?)?);
            }
            let mut declared = HashMap::new();
            for (k, w) in &spec.declared {
                if !w.is_finite() {
                    return Err(invalid(format!("declared weight for {k:?} must be finite")));
                }
                declared.insert(declared_key(&norm, k), *w);
            }
            let lexicon_scale = spec
                .lexicon_weight
                .map(LexiconScale::both)
                .or(model.as_ref().and_then(|m| m.lexicon_scale))
                .unwrap_or(LexiconScale::both(1.0));
            let matcher = Matcher::new(lex, name)?;
            let table = model.as_ref().map(FeatureTable::new);
            engines.push(Engine {
                name: name.clone(),
                threshold: spec.threshold,
                matcher,
                model,
                table,
                lexicon_scale,
                domains: domains::DomainSet::new(dom, spec.domain_weight),
                declared,
                max_evidence_terms: spec.max_evidence_terms,
                top_features: spec.top_features,
            });
        }
        let mut lexicon_words: Vec<u64> = engines
            .iter()
            .flat_map(|e| e.matcher.lex.iter())
            .flat_map(|entry| entry.pattern.split(|c: char| !c.is_ascii_alphanumeric()))
            .filter(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphabetic()))
            .map(|w| features::latin_word_key(&[w.as_bytes()]))
            .collect();
        lexicon_words.sort_unstable();
        lexicon_words.dedup();
        let model_words = engines
            .iter()
            .filter_map(|e| e.model.as_ref())
            .flat_map(|m| m.features.iter())
            .filter(|(name, _)| name.bytes().all(|b| b.is_ascii_alphabetic()))
            .map(|(name, _)| features::latin_word_key(&[name.as_bytes()]));
        let keys: Vec<u64> = lexicon_words.iter().copied().chain(model_words).collect();
        let bits = (keys.len() * 8).next_power_of_two().max(64);
        let mut vocabulary_filter = vec![0u64; bits / 64];
        for k in keys {
            let b = vocabulary_bit(k, bits);
            if let Some(w) = vocabulary_filter.get_mut(b / 64) {
                *w |= 1 << (b % 64);
            }
        }
        Ok(Classifier {
            norm,
            engines,
            lexicon_words,
            vocabulary_filter,
        })
    }

    /// Whether the Latin word with key `k` ([`features::latin_word_key`]) is in the vocabulary: a word feature
    /// of a model, or a word of a lexicon term.
    fn knows(&self, k: u64) -> bool {
        let b = vocabulary_bit(k, self.vocabulary_filter.len() * 64);
        if self
            .vocabulary_filter
            .get(b / 64)
            .is_none_or(|w| w >> (b % 64) & 1 == 0)
        {
            return false;
        }
        self.engines
            .iter()
            .any(|e| e.table.as_ref().is_some_and(|t| t.find(k).is_some()))
            || self.lexicon_words.binary_search(&k).is_ok()
    }

    /// Category names in configuration order.
    pub fn categories(&self) -> impl Iterator<Item = &str> {
        self.engines.iter().map(|e| e.name.as_str())
    }

    /// Classifies a document into every configured category.
    ///
    /// The normalised texts and the hit list live in per-thread scratch buffers, so a call allocates only what it
    /// returns (the verdicts and their evidence): the gateway classifies one small post per request, where buffer
    /// allocation would cost as much as the scan itself.
    pub fn classify(&self, doc: &Document<'_>) -> Classification {
        if doc.texts.iter().any(|t| bidi::has_override(t)) {
            // Read as displayed (see [`bidi`]); evidence offsets then refer to the display-order texts.
            let shown: Vec<String> = doc.texts.iter().map(|t| bidi::display_order(t)).collect();
            let doc = Document {
                texts: shown.iter().map(String::as_str).collect(),
                source_urls: doc.source_urls.clone(),
                declared_category: doc.declared_category,
            };
            return self.classify_in_order(&doc);
        }
        self.classify_in_order(doc)
    }

    /// [`Classifier::classify`] of texts in display order: the whole document, then, for categories it did not
    /// match, its passages ([`passages`]).
    fn classify_in_order(&self, doc: &Document<'_>) -> Classification {
        let mut c = self.classify_whole(doc);
        self.read_passages(doc, &mut c);
        c
    }

    /// A category the whole document did not match, but whose lexicon found enough in it, matches when one of
    /// the long texts' passages scores [`passages::PASSAGE_MARGIN`] above the threshold on its own; the
    /// verdict then records that passage, and its score is the passage's minus the margin.
    fn read_passages(&self, doc: &Document<'_>, c: &mut Classification) {
        let open =
            |v: &Verdict| !v.matched && v.evidence.lexicon_raw >= passages::PASSAGE_MIN_LEXICON;
        if !c.verdicts.iter().any(open) {
            return;
        }
        let mut read = 0;
        for (t, text) in doc.texts.iter().enumerate() {
            for (start, end) in passages::passages(text) {
                if read == passages::MAX_PASSAGES || !c.verdicts.iter().any(open) {
                    return;
                }
                let Some(passage) = text.get(start..end) else {
                    continue;
                };
                read += 1;
                let alone = self.classify_whole(&Document {
                    texts: vec![passage],
                    ..Default::default()
                });
                for (v, p) in c.verdicts.iter_mut().zip(&alone.verdicts) {
                    if open(v) && p.score >= p.threshold + passages::PASSAGE_MARGIN {
                        v.matched = true;
                        v.score = p.score - passages::PASSAGE_MARGIN;
                        v.evidence.passage = Some(PassageHit {
                            text: t,
                            start,
                            end,
                            score: p.score,
                        });
                    }
                }
            }
        }
    }

    /// [`Classifier::classify_in_order`] of the whole document only.
    fn classify_whole(&self, doc: &Document<'_>) -> Classification {
        thread_local! {
            static SCRATCH: RefCell<ClassifyScratch> = RefCell::new(ClassifyScratch::default());
        }
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut s) => {
                let c = self.classify_with(doc, &mut s);
                s.trim();
                c
            }
            // Only reachable through re-entrancy, which classify() never does; stay correct anyway.
            Err(_) => self.classify_with(doc, &mut ClassifyScratch::default()),
        })
    }

    /// [`Classifier::classify`] with explicit scratch buffers.
    fn classify_with(&self, doc: &Document<'_>, s: &mut ClassifyScratch) -> Classification {
        let ClassifyScratch {
            normalized,
            lexicon,
        } = s;
        if normalized.len() < doc.texts.len() {
            normalized.resize_with(doc.texts.len(), Normalized::default);
        }
        let normalized = &mut normalized[..doc.texts.len()];
        for (n, t) in normalized.iter_mut().zip(&doc.texts) {
            self.normalize_into(t, n);
        }
        let probe = |k: u64| self.knows(k);
        let (mut split, mut run_together) = (false, false);
        let mut verdicts: Vec<Verdict> = self
            .engines
            .iter()
            .map(|e| {
                let (v, s) = self.verdict(e, doc, normalized, lexicon, Some(&probe));
                split |= s.split_suspected;
                run_together |= s.run_together_suspected;
                v
            })
            .collect();
        if split || run_together {
            // Words split by inserted spaces or run together without any: put the words back and read the texts
            // again (see [`rejoin`] and [`segment`]).
            let mut changed = false;
            for n in normalized.iter_mut() {
                if run_together {
                    changed |= segment::split_run_together(n, |k| self.knows(k));
                }
                if split {
                    changed |= rejoin::rejoin_split_words(n, |k| self.knows(k));
                }
            }
            if changed {
                verdicts = self
                    .engines
                    .iter()
                    .map(|e| self.verdict(e, doc, normalized, lexicon, None).0)
                    .collect();
            }
        }
        Classification { verdicts }
    }

    /// The verdict of one category, and what its model suspects of the words (with a `split_probe`).
    fn verdict(
        &self,
        e: &Engine,
        doc: &Document<'_>,
        normalized: &[Normalized],
        scratch: &mut LexiconScratch,
        split_probe: Option<&dyn Fn(u64) -> bool>,
    ) -> (Verdict, WordSuspicion) {
        let LexiconScratch { hits, seen } = scratch;
        hits.clear();
        for (i, n) in normalized.iter().enumerate() {
            e.matcher.scan(i, n, hits);
        }
        let mut ev = Evidence::default();
        let raw = lexicon_raw(&e.matcher, hits, seen);
        ev.lexicon_raw = raw;
        ev.terms.reserve_exact(hits.len().min(e.max_evidence_terms));
        for h in hits.iter().take(e.max_evidence_terms) {
            let (Some(entry), Some(term), Some(source), Some(orig), Some(norm)) = (
                e.matcher.lex.get(h.lex as usize),
                e.matcher.term(h.lex),
                e.matcher.source(h.lex),
                doc.texts.get(h.text),
                normalized.get(h.text),
            ) else {
                continue;
            };
            let r = norm.original_range(orig, h.start..h.end);
            ev.terms.push(TermHit {
                text: h.text,
                start: r.start,
                end: r.end,
                term: term.clone(),
                weight: entry.weight,
                source: source.clone(),
            });
        }
        let model = match (&e.model, &e.table) {
            (Some(m), Some(table)) => Some((
                m,
                score_model_probing(table, m, normalized, e.top_features, split_probe),
            )),
            _ => None,
        };
        // The lexicon weight of the document's language: the model's scored language (as in training), else
        // the majority script of the texts.
        let zh = model
            .as_ref()
            .map_or_else(|| normalized.iter().any(Normalized::is_cjk), |(_, s)| s.zh);
        ev.lexicon_score = e.lexicon_scale.of(zh) * slog(raw);
        let mut score = ev.lexicon_score;
        let suspicion = model
            .as_ref()
            .map_or_else(WordSuspicion::default, |(_, s)| WordSuspicion {
                split_suspected: s.split_suspected,
                run_together_suspected: s.run_together_suspected,
            });
        if let Some((m, mut s)) = model {
            if s.present < MIN_EVIDENCE_FEATURES {
                s.score = if raw <= 0.0 {
                    // One known word, and the lexicon does not call it political: no evidence of a topic.
                    // `lunch`, `speaker` or `law` alone scored as politics (each weighs 7-15, from articles where
                    // it came up only in politics). The model votes its more sceptical intercept, as with no
                    // known feature.
                    m.bias_zh.min(m.bias_en)
                } else {
                    // The model knows at most one word of the text, so its vote would be its intercept: the
                    // prior of a text it knows nothing about, which no lexicon sum outweighs ("Kishida resigns",
                    // "Putin and Xi meet in Moscow" and "Wang Yi met Blinken in Munich" passed on the names
                    // alone, which the training texts never taught the model), and one known word decided
                    // the rest ("cabinet" alone weighs 10). It abstains instead: its vote sets the lexicon's own
                    // bar, so the text is matched when the lexicon sum reaches [`LEXICON_ALONE_AT`] (a hair
                    // below it, so that rounding cannot turn "reaches" into "misses").
                    let bar = e.lexicon_scale.of(zh) * slog(LEXICON_ALONE_AT);
                    e.threshold - bar + 1e-9
                };
            }
            let mut top = Vec::with_capacity(s.top.len());
            top.extend(
                s.top
                    .iter()
                    .filter_map(|(i, c)| m.features.get(*i as usize).map(|f| (f.0.clone(), *c))),
            );
            ev.model = Some(ModelEvidence {
                lang: if s.zh { "zh" } else { "en" },
                score: s.score,
                top_features: top,
                features_present: s.present,
            });
            score += s.score;
        }
        if !e.domains.is_empty() {
            ev.domain = e.domains.best_hit(&doc.source_urls);
            score += ev.domain.as_ref().map_or(0.0, |d| d.weight);
        }
        if let Some(d) = doc.declared_category {
            // The whole value, or failing that a level of a hierarchical one (`news/politics`).
            let weight = std::iter::once(d)
                .chain(d.split('/'))
                .find_map(|value| e.declared.get(&declared_key(&self.norm, value)));
            if let Some(w) = weight {
                ev.declared = Some(DeclaredHit {
                    value: d.to_string(),
                    weight: *w,
                });
                score += *w;
            }
        }
        let verdict = Verdict {
            category: e.name.clone(),
            score,
            threshold: e.threshold,
            matched: score >= e.threshold,
            evidence: ev,
        };
        (verdict, suspicion)
    }

    /// Normalises one text as `classify` first reads it: the steps of [`prepare`] (`classify` then also joins
    /// split words back when its models suspect them, see [`rejoin`]).
    pub fn normalize(&self, text: &str) -> Normalized {
        let mut n = Normalized::default();
        self.normalize_into(text, &mut n);
        n
    }

    /// [`Classifier::normalize`] into a reused buffer.
    fn normalize_into(&self, text: &str, n: &mut Normalized) {
        prepare(&self.norm, text, n);
    }

    /// Raw lexicon score of texts under the first category (for training the lexicon scale).
    pub(crate) fn lexicon_raw_of(&self, texts: &[&str]) -> f64 {
        let Some(e) = self.engines.first() else {
            return 0.0;
        };
        let mut s = LexiconScratch::default();
        let mut n = Normalized::default();
        for (i, t) in texts.iter().enumerate() {
            prepare(&self.norm, t, &mut n);
            e.matcher.scan(i, &n, &mut s.hits);
        }
        lexicon_raw(&e.matcher, &s.hits, &mut s.seen)
    }
}

#[cfg(test)]
mod tests;
