//! One compiled category: a single Aho-Corasick automaton over lexicon terms and model features, the model
//! weights, the domain index and the declared-category table.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::domains::DomainSet;
use super::features::on_boundaries;
use super::lexicon::LexiconEntry;
use super::model::LinearModel;
use super::normalize::Normalized;
use super::BuildError;

/// What an automaton pattern stands for: a lexicon entry, a model feature, or both.
#[derive(Debug, Clone, Copy, Default)]
struct PatRef {
    lex: Option<u32>,
    feat: Option<u32>,
}

/// A boundary-checked match of pattern-level meaning.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit {
    pub text: usize,
    pub start: usize,
    pub end: usize,
    pub lex: Option<u32>,
    pub feat: Option<u32>,
}

/// The compiled matcher over lexicon terms and model features.
#[derive(Debug)]
pub(crate) struct Matcher {
    ac: Option<AhoCorasick>,
    pats: Vec<PatRef>,
    pub lex: Vec<LexiconEntry>,
    pub feat_names: Vec<String>,
    pub feat_weights: Vec<f64>,
}

impl Matcher {
    pub fn new(
        lex: Vec<LexiconEntry>,
        model: Option<&LinearModel>,
        category: &str,
    ) -> Result<Matcher, BuildError> {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut pats: Vec<PatRef> = Vec::new();
        let mut slot = |p: &str, patterns: &mut Vec<String>, pats: &mut Vec<PatRef>| -> usize {
            *index.entry(p.to_string()).or_insert_with(|| {
                patterns.push(p.to_string());
                pats.push(PatRef::default());
                patterns.len() - 1
            })
        };
        for (i, e) in lex.iter().enumerate() {
            let s = slot(&e.pattern, &mut patterns, &mut pats);
            // Across files the same term may appear twice: the later file wins, as in layered configs.
            pats[s].lex = Some(i as u32);
        }
        let mut feat_names = Vec::new();
        let mut feat_weights = Vec::new();
        if let Some(m) = model {
            for (i, (f, w)) in m.features.iter().enumerate() {
                let s = slot(f, &mut patterns, &mut pats);
                pats[s].feat = Some(i as u32);
                feat_names.push(f.clone());
                feat_weights.push(*w);
            }
        }
        let ac = if patterns.is_empty() {
            None
        } else {
            // A full DFA is several times faster than the NFAs for overlapping search (one table lookup per
            // byte); byte classes keep it small. Fall back to the default choice if it cannot be built.
            let dfa = AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::DFA))
                .byte_classes(true)
                .prefilter(false)
                .build(&patterns);
            let ac = match dfa {
                Ok(ac) => ac,
                Err(_) => AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(&patterns)
                    .map_err(|e| BuildError::Automaton {
                        category: category.to_string(),
                        message: e.to_string(),
                    })?,
            };
            Some(ac)
        };
        Ok(Matcher {
            ac,
            pats,
            lex,
            feat_names,
            feat_weights,
        })
    }

    /// Appends all boundary-respecting hits in `norm` (text number `text`) to `out`.
    pub fn scan(&self, text: usize, norm: &Normalized, out: &mut Vec<Hit>) {
        let Some(ac) = &self.ac else { return };
        let bytes = norm.text.as_bytes();
        for m in ac.find_overlapping_iter(&norm.text) {
            let Some(p) = self.pats.get(m.pattern().as_usize()) else {
                continue;
            };
            let (s, e) = (m.start(), m.end());
            let lex = p.lex.filter(|&l| {
                let right = !self.lex.get(l as usize).is_some_and(|x| x.prefix);
                on_boundaries(bytes, s, e, right)
            });
            let feat = p.feat.filter(|_| on_boundaries(bytes, s, e, true));
            if lex.is_some() || feat.is_some() {
                out.push(Hit {
                    text,
                    start: s,
                    end: e,
                    lex,
                    feat,
                });
            }
        }
    }
}

/// Signed, saturating transform of the lexicon score: one more term matters less the more there already are,
/// so long articles that mention "government" in passing do not swamp the model.
pub fn slog(x: f64) -> f64 {
    x.signum() * x.abs().ln_1p()
}

/// Summary of lexicon hits over a document: raw score (sum of distinct terms' weights) and the hits.
pub(crate) fn lexicon_raw(matcher: &Matcher, hits: &[Hit]) -> (f64, Vec<u32>) {
    let mut ids: Vec<u32> = hits.iter().filter_map(|h| h.lex).collect();
    ids.sort_unstable();
    ids.dedup();
    let raw = ids
        .iter()
        .filter_map(|&i| matcher.lex.get(i as usize))
        .map(|e| e.weight)
        .sum();
    (raw, ids)
}

/// Distinct model feature ids in the hits.
pub(crate) fn feature_ids(hits: &[Hit]) -> Vec<u32> {
    let mut ids: Vec<u32> = hits.iter().filter_map(|h| h.feat).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Category-level compiled state.
#[derive(Debug)]
pub(crate) struct Engine {
    pub name: String,
    pub threshold: f64,
    pub matcher: Matcher,
    pub model: Option<LinearModel>,
    pub lexicon_scale: f64,
    pub domains: DomainSet,
    /// Lower-cased declared-category value -> weight.
    pub declared: HashMap<String, f64>,
    pub max_evidence_terms: usize,
    pub top_features: usize,
}
