//! One compiled category: an Aho-Corasick automaton over the (few hundred) lexicon terms, a hash table over the
//! model's feature keys, the domain index and the declared-category table.
//!
//! Lexicon terms need exact positions for the evidence and word-boundary checks, so they keep the automaton.
//! Model features are looked up by key while [`super::features::scan_features`] walks the text once: one probe
//! per n-gram, independent of how many features the model has.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use aho_corasick::{AhoCorasick, MatchKind};
use daachorse::DoubleArrayAhoCorasick;

use super::domains::DomainSet;
use super::features::{feature_key, is_latin_key, on_boundaries, scan_features};
use super::lexicon::LexiconEntry;
use super::model::{LexiconScale, LinearModel};
use super::normalize::Normalized;
use super::rejoin;
use super::segment;
use super::BuildError;

/// A boundary-checked lexicon term occurrence in normalised text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit {
    pub text: usize,
    pub start: usize,
    pub end: usize,
    pub lex: u32,
}

/// The automaton over the lexicon patterns (overlapping search: 外交部 inside 外交部长).
///
/// A compact double-array automaton (`daachorse`, 12-16 bytes per state: 182 KiB for the shipped lexicons)
/// rather than a full DFA (one 4-byte entry per state and byte class: 4.3 MiB for the same patterns). Between
/// two posts, everything else a gateway does (sockets, the upstream, other processes on the core) evicts the
/// classifier's tables, and each byte of a walk over a table that size is a cache miss: with 4 MiB of other
/// writes between two 1 KiB posts the DFA walk took 22-25 us and the double array 5-7 us. Warm, the double
/// array walks in about the time of the two interleaved DFA chains it replaced, with more instructions (its
/// failure links); see BENCHMARKS.md, session 10.
enum Automaton {
    /// The usual case.
    DoubleArray(DoubleArrayAhoCorasick<u32>),
    /// Fallback when the double array cannot be built (it limits the number of patterns and states): the
    /// `aho-corasick` crate's automaton, same matches.
    General(AhoCorasick),
}

/// The double array has no `Debug`; its size says what matters when a `Matcher` is printed.
impl std::fmt::Debug for Automaton {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Automaton::DoubleArray(da) => f
                .debug_struct("DoubleArray")
                .field("states", &da.num_states())
                .field("heap_bytes", &da.heap_bytes())
                .finish(),
            Automaton::General(ac) => f.debug_tuple("General").field(ac).finish(),
        }
    }
}

/// The compiled matcher over lexicon terms.
#[derive(Debug)]
pub(crate) struct Matcher {
    ac: Option<Automaton>,
    /// Automaton pattern -> lexicon entry (the later file wins when two files share a term, as in layered configs).
    pats: Vec<u32>,
    pub lex: Vec<LexiconEntry>,
    /// Per lexicon entry, its term and its `file:line` for the evidence, made once here so a hit's evidence
    /// shares them (a reference count) instead of allocating two strings per hit.
    terms: Vec<Arc<str>>,
    sources: Vec<Arc<str>>,
}

impl Matcher {
    pub fn new(lex: Vec<LexiconEntry>, category: &str) -> Result<Matcher, BuildError> {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut pats: Vec<u32> = Vec::new();
        for (i, e) in lex.iter().enumerate() {
            match index.get(&e.pattern) {
                Some(&s) => pats[s] = i as u32,
                None => {
                    index.insert(e.pattern.clone(), patterns.len());
                    patterns.push(e.pattern.clone());
                    pats.push(i as u32);
                }
            }
        }
        // Lexicon parsing rejects empty terms, so every pattern is non-empty, as both automata need.
        let ac = if patterns.is_empty() {
            None
        } else {
            Some(match DoubleArrayAhoCorasick::<u32>::new(&patterns) {
                Ok(da) => Automaton::DoubleArray(da),
                Err(_) => Automaton::General(
                    AhoCorasick::builder()
                        .match_kind(MatchKind::Standard)
                        .build(&patterns)
                        .map_err(|e| BuildError::Automaton {
                            category: category.to_string(),
                            message: e.to_string(),
                        })?,
                ),
            })
        };
        let terms = lex.iter().map(|e| Arc::from(e.term.as_str())).collect();
        let sources = lex
            .iter()
            .map(|e| Arc::from(format!("{}:{}", e.file, e.line)))
            .collect();
        Ok(Matcher {
            ac,
            pats,
            lex,
            terms,
            sources,
        })
    }

    /// `file:line` of lexicon entry `lex` (`None` for an unknown index).
    pub fn source(&self, lex: u32) -> Option<&Arc<str>> {
        self.sources.get(lex as usize)
    }

    /// The term of lexicon entry `lex` as written in its file (`None` for an unknown index).
    pub fn term(&self, lex: u32) -> Option<&Arc<str>> {
        self.terms.get(lex as usize)
    }

    /// Appends all boundary-respecting lexicon hits in `norm` (text number `text`) to `out`, ordered by end
    /// offset.
    pub fn scan(&self, text: usize, norm: &Normalized, out: &mut Vec<Hit>) {
        let bytes = norm.text.as_bytes();
        let hit = |pattern: usize, s: usize, e: usize| {
            let l = *self.pats.get(pattern)?;
            let right = !self.lex.get(l as usize).is_some_and(|x| x.prefix);
            on_boundaries(bytes, s, e, right).then_some(Hit {
                text,
                start: s,
                end: e,
                lex: l,
            })
        };
        match &self.ac {
            None => {}
            Some(Automaton::DoubleArray(da)) => out.extend(
                da.find_overlapping_iter(bytes)
                    .filter_map(|m| hit(m.value() as usize, m.start(), m.end())),
            ),
            Some(Automaton::General(ac)) => out.extend(
                ac.find_overlapping_iter(&norm.text)
                    .filter_map(|m| hit(m.pattern().as_usize(), m.start(), m.end())),
            ),
        }
    }
}

/// Signed, saturating transform of the lexicon score: one more term matters less the more there already are,
/// so long articles that mention "government" in passing do not swamp the model.
pub fn slog(x: f64) -> f64 {
    x.signum() * x.abs().ln_1p()
}

/// Sum of the weights of the distinct lexicon terms hit, added in the order of their entry numbers. `seen` is
/// scratch (a bit per lexicon entry, left all zero), so a caller that keeps it allocates nothing: marking the hits
/// and reading the words back in order costs less than sorting and deduplicating the entry numbers.
pub(crate) fn lexicon_raw(matcher: &Matcher, hits: &[Hit], seen: &mut Vec<u64>) -> f64 {
    let words = matcher.lex.len().div_ceil(64);
    if seen.len() < words {
        seen.resize(words, 0);
    }
    let (mut lowest, mut highest) = (usize::MAX, 0);
    for h in hits {
        let w = h.lex as usize / 64;
        if let Some(word) = seen.get_mut(w) {
            *word |= 1 << (h.lex % 64);
            lowest = lowest.min(w);
            highest = highest.max(w);
        }
    }
    let mut sum = 0.0;
    for (w, word) in seen.iter_mut().enumerate().take(highest + 1).skip(lowest) {
        let mut bits = std::mem::take(word);
        while bits != 0 {
            let i = w * 64 + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if let Some(e) = matcher.lex.get(i) {
                sum += e.weight;
            }
        }
    }
    sum
}

/// One slot of [`FeatureTable`]: 8 bytes, eight to a cache line, so the table of the shipped model (24,000
/// features) is 256 KiB and a probe touches one line.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// Fingerprint of the feature key (see [`FeatureTable::fingerprint`]); 0 marks an empty slot.
    fp: u32,
    /// The feature weight.
    weight: f32,
}

/// Open-addressing (linear probing) table from feature key to weight, at most 3/4 full.
///
/// Why so compact: in a loaded gateway everything else a request does (sockets, the upstream, other processes
/// on the core) evicts the classifier's tables between two posts, and each probe into a table that has left
/// the caches is a miss. A table of 16-byte slots (full 64-bit key, weight, feature index) at half load was
/// 1 MiB for the shipped model.
///
/// Slots hold a 31-bit fingerprint instead of the key. Model features are found exactly: a table in which one
/// feature's probe sequence would pass another slot with the same fingerprint is rebuilt with another
/// fingerprint seed. A text n-gram that is *not* a feature is taken for one only if its fingerprint equals
/// that of a slot its probe passes (odds about 2^-31 per such slot, after the filter below): the usual
/// approximation of a hashed-feature model, far below anything that moves a verdict.
///
/// Most n-grams of a text are not model features, so a miss is the common case; a one-hash Bloom filter of about
/// 8 bits per feature (32 KiB for the shipped model, L1/L2-resident) answers most misses before the table is
/// touched at all (about 12% false positives, which then probe as before).
#[derive(Debug)]
pub(crate) struct FeatureTable {
    slots: Vec<Slot>,
    /// Per slot, the index into the model's feature list: read only for the few strongest features of a text.
    features: Vec<u32>,
    shift: u32,
    /// Seed of [`FeatureTable::fingerprint`].
    seed: u64,
    /// Bit `filter_bit(k)` is set for every feature key `k`.
    filter: Vec<u64>,
    filter_shift: u32,
}

impl FeatureTable {
    pub fn new(model: &LinearModel) -> FeatureTable {
        // The parser has validated every feature text; skip defensively rather than panic.
        let keyed: Vec<(u64, f32, u32)> = model
            .features
            .iter()
            .enumerate()
            .filter_map(|(i, (name, w))| Some((feature_key(name)?, *w as f32, i as u32)))
            .collect();
        let n = (keyed.len() * 4 / 3 + 1).next_power_of_two().max(16);
        let bits = (keyed.len() * 8)
            .next_power_of_two()
            .clamp(1 << 10, 1 << 20);
        let mut filter = vec![0u64; bits / 64];
        let filter_shift = 64 - bits.trailing_zeros();
        for &(k, _, _) in &keyed {
            let b = Self::filter_bit_of(k, filter_shift);
            filter[b >> 6] |= 1 << (b & 63);
        }
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        loop {
            if let Some((slots, features)) = Self::fill(&keyed, n, seed) {
                return FeatureTable {
                    slots,
                    features,
                    shift: 64 - n.trailing_zeros(),
                    seed,
                    filter,
                    filter_shift,
                };
            }
            // A fingerprint clash on one probe path (about one model in ten thousand): another seed.
            seed = seed.wrapping_add(0x6A09_E667_F3BC_C909);
        }
    }

    /// Places every feature; `None` when a feature's probe passes a slot with its own fingerprint, which would
    /// make one of the two unreachable or ambiguous. A key listed twice keeps its last weight.
    fn fill(keyed: &[(u64, f32, u32)], n: usize, seed: u64) -> Option<(Vec<Slot>, Vec<u32>)> {
        let mut slots = vec![Slot::default(); n];
        let mut features = vec![0u32; n];
        let mut keys = vec![0u64; n];
        let shift = 64 - n.trailing_zeros();
        for &(k, weight, feature) in keyed {
            let fp = Self::fingerprint(k, seed);
            let mut s = Self::home_of(k, shift);
            loop {
                let slot = slots.get(s)?;
                if slot.fp == 0 {
                    break;
                }
                if slot.fp == fp {
                    if keys.get(s) == Some(&k) {
                        break;
                    }
                    return None;
                }
                s = (s + 1) & (n - 1);
            }
            *slots.get_mut(s)? = Slot { fp, weight };
            *features.get_mut(s)? = feature;
            *keys.get_mut(s)? = k;
        }
        Some((slots, features))
    }

    /// A 31-bit fingerprint of `k` (never 0), from bits that [`Self::home_of`] and the filter do not use.
    #[inline]
    fn fingerprint(k: u64, seed: u64) -> u32 {
        let h = (k ^ (k >> 29)).wrapping_mul(seed | 1);
        ((h >> 33) as u32) | 1
    }

    /// Filter bit of key `k`: top bits of a multiplicative hash with a different constant than [`Self::home_of`].
    #[inline]
    fn filter_bit_of(k: u64, filter_shift: u32) -> usize {
        (k.wrapping_mul(0xD6E8_FEB8_6659_FD93) >> filter_shift) as usize
    }

    /// False if `k` is certainly not a feature key.
    #[inline]
    fn may_contain(&self, k: u64) -> bool {
        let b = Self::filter_bit_of(k, self.filter_shift);
        self.filter
            .get(b >> 6)
            .is_some_and(|w| w >> (b & 63) & 1 != 0)
    }

    #[inline]
    fn home_of(k: u64, shift: u32) -> usize {
        (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize
    }

    /// The slot holding `k`, if the model has that feature (see the type's doc for the fingerprint's odds).
    #[inline]
    pub fn find(&self, k: u64) -> Option<usize> {
        if !self.may_contain(k) {
            return None;
        }
        let fp = Self::fingerprint(k, self.seed);
        let mask = self.slots.len() - 1;
        let mut s = Self::home_of(k, self.shift);
        loop {
            let x = self.slots.get(s)?.fp;
            if x == fp {
                return Some(s);
            }
            if x == 0 {
                return None;
            }
            s = (s + 1) & mask;
        }
    }

    /// The weight in a slot returned by [`FeatureTable::find`] (0 for any other index).
    #[inline]
    fn weight(&self, s: usize) -> f32 {
        self.slots.get(s).map_or(0.0, |x| x.weight)
    }

    /// The model's feature index of a slot returned by [`FeatureTable::find`].
    fn feature(&self, s: usize) -> u32 {
        self.features.get(s).copied().unwrap_or(u32::MAX)
    }

    /// Slots of the table (a bound on the distinct features a text can hit).
    pub fn slots(&self) -> usize {
        self.slots.len()
    }
}

/// Per-thread scratch for counting the term frequencies of one call: a small open-addressing table from slot
/// to count, sized for the call's text (a 1 KiB post needs 16 KiB, which stays in L1), so counting never
/// touches memory the size of the model. All entries are zero between calls (the touched ones are reset).
#[derive(Debug, Default)]
struct Scratch {
    /// `(tagged slot, count)`; the tag is `slot + 1`, with [`LATIN_BIT`] set for a Latin feature; 0 = empty.
    entries: Vec<(u32, u32)>,
    /// `entries.len()` in use this call is `1 << bits`.
    bits: u32,
    /// Positions in `entries` filled this call, in first-seen order.
    touched: Vec<u32>,
    /// `(slot, contribution)` of every touched feature, for picking the strongest.
    strongest: Vec<(u32, f64)>,
    /// Set between `begin` and `end`: still set at the next `begin` means a call did not finish (a panic
    /// unwound through it), and the entries are cleared in full.
    in_use: bool,
}

/// Marks a Latin feature's entry in [`Scratch::entries`] (slots are far below 2^31).
const LATIN_BIT: u32 = 1 << 31;

impl Scratch {
    /// Prepares for at most `distinct` different features.
    fn begin(&mut self, distinct: usize) {
        if self.in_use {
            self.entries.iter_mut().for_each(|e| *e = (0, 0));
        }
        self.in_use = true;
        let size = (distinct.saturating_mul(2)).next_power_of_two().max(64);
        if self.entries.len() < size {
            self.entries.resize(size, (0, 0));
        }
        self.bits = size.trailing_zeros();
        self.touched.clear();
    }

    #[inline]
    fn add(&mut self, slot: usize, latin: bool) {
        let tag = (slot as u32 + 1) | if latin { LATIN_BIT } else { 0 };
        let mask = (1usize << self.bits) - 1;
        let mut i =
            (u64::from(tag).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - self.bits)) as usize;
        loop {
            let Some(e) = self.entries.get_mut(i) else {
                return;
            };
            if e.0 == tag {
                e.1 += 1;
                return;
            }
            if e.0 == 0 {
                *e = (tag, 1);
                self.touched.push(i as u32);
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Resets the touched entries (the all-zero invariant between calls).
    fn end(&mut self) {
        for &i in &self.touched {
            if let Some(e) = self.entries.get_mut(i as usize) {
                *e = (0, 0);
            }
        }
        self.touched.clear();
        self.in_use = false;
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// A script of a text is scored when it is the text's majority script, or when it has at least this many tokens
/// (CJK characters / Latin words): a stray "NBA" in a Chinese headline, or "转发" in front of an English headline,
/// is no evidence about the topic.
pub(crate) const MIN_SEGMENT_TOKENS: u32 = 4;

/// The model's share of a document's score.
#[derive(Debug, Default)]
pub(crate) struct ModelScore {
    /// Whether the Chinese segments carry most of the evidence (their intercept dominates).
    pub zh: bool,
    /// Evidence-weighted intercept + length-normalised feature sum.
    pub score: f64,
    /// Distinct model features present (in scored segments).
    pub present: usize,
    /// `(feature index, contribution)` of the strongest features (by |contribution|), at most `top` of them.
    pub top: Vec<(u32, f64)>,
    /// A Latin word the model does not know makes a known word with a neighbour (see [`super::rejoin`]).
    pub split_suspected: bool,
    /// A Latin word the model does not know is long enough to be words run together (see [`super::segment`]).
    pub run_together_suspected: bool,
}

/// Which scripts of `n` are scored: (CJK, Latin).
fn eligible(n: &Normalized) -> (bool, bool) {
    let zh_major = n.is_cjk();
    (
        n.cjk_chars > 0 && (zh_major || n.cjk_chars >= MIN_SEGMENT_TOKENS),
        n.latin_words > 0 && (!zh_major || n.latin_words >= MIN_SEGMENT_TOKENS),
    )
}

/// `1 + ln tf`, the sublinear term-frequency value; most features occur a few times, so those come from a table
/// (identical values, as the table holds the same `ln`).
#[inline]
fn tf_value(tf: u32) -> f64 {
    const SMALL: usize = 16;
    static TABLE: OnceLock<[f64; SMALL]> = OnceLock::new();
    let table = TABLE
        .get_or_init(|| std::array::from_fn(|i| if i == 0 { 0.0 } else { 1.0 + (i as f64).ln() }));
    match usize::try_from(tf) {
        Ok(i) if i < SMALL => table[i],
        _ => 1.0 + f64::from(tf).ln(),
    }
}

/// Order of [`ModelScore::top`]: strongest |contribution| first, ties by `rank` of the ids (the feature index:
/// a total order, so the selection below is deterministic). `rank` is asked only on ties, which are rare, so
/// ids can be table slots whose feature index is looked up only then.
fn by_strength(a: &(u32, f64), b: &(u32, f64), rank: &impl Fn(u32) -> u32) -> std::cmp::Ordering {
    b.1.abs()
        .total_cmp(&a.1.abs())
        .then_with(|| rank(a.0).cmp(&rank(b.0)))
}

/// The `top` first of `all` in [`by_strength`] order, sorted. Small `top` (the evidence default is 8) keeps a
/// sorted short list, one comparison for most candidates; a large one selects with `select_nth_unstable_by`.
/// Both give the same list, since the order is total.
fn strongest_of(all: &mut [(u32, f64)], top: usize, rank: impl Fn(u32) -> u32) -> Vec<(u32, f64)> {
    let order = |a: &(u32, f64), b: &(u32, f64)| by_strength(a, b, &rank);
    if top == 0 {
        return Vec::new();
    }
    if top > 32 || all.len() <= top {
        if all.len() > top {
            all.select_nth_unstable_by(top - 1, order);
        }
        let mut v = all[..all.len().min(top)].to_vec();
        v.sort_by(order);
        return v;
    }
    let mut best: Vec<(u32, f64)> = Vec::with_capacity(top + 1);
    for c in all.iter() {
        if best.len() == top
            && best
                .last()
                .is_some_and(|l| order(c, l) != std::cmp::Ordering::Less)
        {
            continue;
        }
        let at = best.partition_point(|b| order(b, c) == std::cmp::Ordering::Less);
        best.insert(at, *c);
        best.truncate(top);
    }
    best
}

/// Scores the normalised texts: features of the scored segments (script x text, see [`eligible`]) are pooled,
/// and the intercept is the mean of the language intercepts weighted by each script's share of the evidence
/// `S` (sum of `(1 + ln tf)` of known features):
///
/// `score = (S_zh * bias_zh + S_en * bias_en) / S + sum(weight * (1 + ln tf)) / (S + C)^P`
///
/// For a one-language text this is exactly the segment score the model was trained on; in a mixed post each
/// language weighs as much as it says, so a two-character Chinese comment cannot drag an English headline's
/// score to the Chinese intercept (nor the other way round). Without any known feature the model has no
/// evidence and votes its more sceptical intercept, so the other signals must carry the verdict on their own.
#[cfg(test)]
pub(crate) fn score_model(
    table: &FeatureTable,
    model: &LinearModel,
    texts: &[Normalized],
    top: usize,
) -> ModelScore {
    score_model_probing(table, model, texts, top, None)
}

/// [`score_model`], and with `split_probe` (the classifier's vocabulary) also whether the texts look like words
/// split by inserted spaces ([`ModelScore::split_suspected`]): many of the Latin words are short and unknown to
/// the model ([`rejoin::pieces_suggest_splits`]), and one of those joins a neighbour into a known word; or like
/// words run together ([`ModelScore::run_together_suspected`]: an unknown word of [`segment::MIN_RUN_LETTERS`] or
/// more). The scan looks every word up anyway, so clean text pays two counters.
pub(crate) fn score_model_probing(
    table: &FeatureTable,
    model: &LinearModel,
    texts: &[Normalized],
    top: usize,
    split_probe: Option<&dyn Fn(u64) -> bool>,
) -> ModelScore {
    let probing = split_probe.is_some();
    // Latin words scored, and the short ones the model does not know (text index, range): the pieces a split
    // leaves. Only texts with many such pieces are probed further.
    let mut latin_words = 0usize;
    let mut unknown_short = 0usize;
    let mut unknown_long = 0usize;
    let mut run = |s: &mut Scratch| {
        // Distinct features are bounded by the model and by the text (each needs at least one byte).
        let text_bytes: usize = texts.iter().map(|n| n.text.len()).sum();
        s.begin(table.slots().min(text_bytes + 1));
        for n in texts {
            let (zh_ok, en_ok) = eligible(n);
            if !zh_ok && !en_ok {
                continue;
            }
            // A Latin bigram is reported right after its second word, with the same end.
            let mut last_word_end = usize::MAX;
            scan_features(&n.text, |k, start, end| {
                let latin = is_latin_key(k);
                let word = latin && end != last_word_end;
                if latin {
                    last_word_end = end;
                }
                if if latin { en_ok } else { zh_ok } {
                    latin_words += usize::from(word);
                    match table.find(k) {
                        Some(slot) => s.add(slot, latin),
                        None if word && probing && end - start <= rejoin::MAX_PROBED_PIECE => {
                            unknown_short += 1;
                        }
                        None if word && probing && end - start >= segment::MIN_RUN_LETTERS => {
                            unknown_long += 1;
                        }
                        None => {}
                    }
                }
            });
        }
        // Evidence per script (index 1 = Latin) and the weighted feature sum, in first-seen order.
        let mut evidence = [0.0f64; 2];
        let mut dot = 0.0f64;
        s.strongest.clear();
        for &at in &s.touched {
            let (tag, count) = s.entries.get(at as usize).copied().unwrap_or_default();
            // Touched entries are never empty; skip defensively rather than underflow.
            let Some(slot) = (tag & !LATIN_BIT).checked_sub(1) else {
                continue;
            };
            let slot = slot as usize;
            let v = tf_value(count);
            evidence[usize::from(tag & LATIN_BIT != 0)] += v;
            dot += v * f64::from(table.weight(slot));
            // Divided by the length divisor once it is known (below).
            s.strongest.push((slot as u32, v));
        }
        let present = s.touched.len();
        s.end();
        let total = evidence[0] + evidence[1];
        if present == 0 || total <= 0.0 {
            return ModelScore {
                zh: texts.iter().any(Normalized::is_cjk),
                score: model.bias_zh.min(model.bias_en),
                ..Default::default()
            };
        }
        let div = model.length.divisor(total);
        let bias = (evidence[0] * model.bias_zh + evidence[1] * model.bias_en) / total;
        let mut strongest = Vec::new();
        if top > 0 {
            for c in s.strongest.iter_mut() {
                c.1 = f64::from(table.weight(c.0 as usize)) * c.1 / div;
            }
            strongest = strongest_of(&mut s.strongest, top, |slot| table.feature(slot as usize));
            for c in &mut strongest {
                c.0 = table.feature(c.0 as usize);
            }
        }
        ModelScore {
            zh: evidence[0] >= evidence[1],
            score: bias + dot / div,
            present,
            top: strongest,
            split_suspected: false,
            run_together_suspected: false,
        }
    };
    let mut score = SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut s) => run(&mut s),
        // Only reachable through re-entrancy, which classify() never does; stay correct anyway.
        Err(_) => run(&mut Scratch::default()),
    });
    if let Some(knows) = split_probe {
        score.split_suspected = rejoin::pieces_suggest_splits(unknown_short, latin_words)
            && texts
                .iter()
                .any(|n| rejoin::has_split_word(n.text.as_bytes(), knows));
        score.run_together_suspected = unknown_long > 0;
    }
    score
}

/// Category-level compiled state.
#[derive(Debug)]
pub(crate) struct Engine {
    pub name: String,
    pub threshold: f64,
    pub matcher: Matcher,
    pub model: Option<LinearModel>,
    pub table: Option<FeatureTable>,
    /// Weight of the lexicon signal per document language (configured `lexicon_weight`, else the model's).
    pub lexicon_scale: LexiconScale,
    pub domains: DomainSet,
    /// Lower-cased declared-category value -> weight.
    pub declared: HashMap<String, f64>,
    pub max_evidence_terms: usize,
    pub top_features: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::normalize::Normalizer;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// The double array reports exactly the `aho-corasick` crate's overlapping matches, in end order:
        /// patterns short and long, nested and overlapping, Latin and CJK.
        #[test]
        fn the_double_array_finds_what_aho_corasick_finds(
            patterns in proptest::collection::hash_set(proptest::collection::vec(proptest::sample::select(vec!['a', 'b', '政', '治', ' ']), 1..12), 1..20),
            text in proptest::collection::vec(proptest::sample::select(vec!['a', 'b', 'c', '政', '治', '新', ' ']), 0..700),
        ) {
            let patterns: Vec<String> = patterns.iter().map(|p| p.iter().collect()).collect();
            let text: String = text.iter().collect();
            let ac = AhoCorasick::builder().match_kind(MatchKind::Standard).build(&patterns).expect("ac");
            let da = DoubleArrayAhoCorasick::<u32>::new(&patterns).expect("double array");
            let mut expected: Vec<(usize, usize, usize)> = ac
                .find_overlapping_iter(&text)
                .map(|m| (m.end(), m.start(), m.pattern().as_usize()))
                .collect();
            let got: Vec<(usize, usize, usize)> = da
                .find_overlapping_iter(text.as_bytes())
                .map(|m| (m.end(), m.start(), m.value() as usize))
                .collect();
            prop_assert!(got.windows(2).all(|w| w[0].0 <= w[1].0));
            let mut sorted = got.clone();
            sorted.sort_unstable();
            expected.sort_unstable();
            prop_assert_eq!(sorted, expected);
        }
    }

    /// A matcher over `n` terms `t0, t1, ...` with weight `i + 0.1` each (the weights' sum depends on the order
    /// they are added in, so the test also pins that order).
    fn numbered_matcher(n: usize) -> Matcher {
        let lex = (0..n)
            .map(|i| LexiconEntry {
                term: format!("t{i}"),
                pattern: format!("t{i}"),
                weight: i as f64 + 0.1,
                prefix: false,
                file: "test.txt".into(),
                line: i + 1,
            })
            .collect();
        Matcher::new(lex, "test").expect("matcher")
    }

    proptest! {
        /// Each distinct entry counts once, summed in entry order (what sorting and deduplicating the entry
        /// numbers gave); the scratch is left all zero for the next call, whatever the entries' words.
        #[test]
        fn lexicon_raw_counts_each_entry_once_in_entry_order(
            lexes in proptest::collection::vec(0u32..300, 0..80),
        ) {
            let matcher = numbered_matcher(300);
            let hits: Vec<Hit> = lexes.iter().map(|&lex| Hit { text: 0, start: 0, end: 1, lex }).collect();
            let mut ids = lexes.clone();
            ids.sort_unstable();
            ids.dedup();
            let expected: f64 = ids.iter().fold(0.0, |sum, &i| sum + matcher.lex[i as usize].weight);
            let mut seen = Vec::new();
            for _ in 0..2 {
                let got = lexicon_raw(&matcher, &hits, &mut seen);
                prop_assert_eq!(got.to_bits(), expected.to_bits());
                prop_assert!(seen.iter().all(|&w| w == 0));
            }
        }
    }

    fn model(features: &[(&str, f64)]) -> LinearModel {
        LinearModel {
            features: features.iter().map(|(f, w)| (f.to_string(), *w)).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn table_finds_every_feature_and_nothing_else() {
        // Enough features for long probe runs at the table's 3/4 load.
        let names: Vec<String> = (0..24_000).map(|i| format!("w{i}")).collect();
        let m = LinearModel {
            features: names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i as f64 / 8.0))
                .collect(),
            ..Default::default()
        };
        let t = FeatureTable::new(&m);
        assert!(t.slots() * 3 / 4 >= names.len() && t.slots() / 2 < names.len());
        for (i, n) in names.iter().enumerate() {
            let slot = t.find(feature_key(n).unwrap_or(0));
            assert!(slot.is_some(), "{n}");
            let slot = slot.unwrap_or_default();
            assert_eq!(t.feature(slot), i as u32, "{n}");
            assert_eq!(t.weight(slot), (i as f64 / 8.0) as f32, "{n}");
        }
        for i in 0..30_000 {
            let n = format!("x{i}");
            assert!(t.find(feature_key(&n).unwrap_or(0)).is_none(), "{n}");
        }
    }

    #[test]
    fn a_key_listed_twice_keeps_its_last_weight() {
        let m = LinearModel {
            features: vec![("w".into(), 1.0), ("v".into(), 2.0), ("w".into(), 3.0)],
            ..Default::default()
        };
        let t = FeatureTable::new(&m);
        let slot = t.find(feature_key("w").unwrap_or(0)).unwrap_or(usize::MAX);
        assert_eq!((t.weight(slot), t.feature(slot)), (3.0, 2));
    }

    /// Term frequencies are counted per slot whatever the table size, and the scratch is left all zero.
    #[test]
    fn scratch_counts_and_resets() {
        let mut s = Scratch::default();
        for round in 0..3 {
            s.begin(10 + round * 100);
            for slot in [5usize, 7, 5, 1 << 20, 5] {
                s.add(slot, slot == 7);
            }
            let counts: Vec<(u32, u32)> =
                s.touched.iter().map(|&i| s.entries[i as usize]).collect();
            assert_eq!(counts, vec![(6, 3), (8 | LATIN_BIT, 1), ((1 << 20) + 1, 1)]);
            s.end();
            assert!(s.entries.iter().all(|&e| e == (0, 0)));
        }
        // A call that never reached `end` (unwound): the next one starts clean.
        s.begin(10);
        s.add(5, false);
        s.begin(10);
        assert!(s.entries.iter().all(|&e| e == (0, 0)));
        s.add(5, false);
        assert_eq!(s.entries[s.touched[0] as usize], (6, 1));
    }

    /// The short-list selection gives exactly what a full sort gives, ties (equal |contribution|) included and
    /// ordered by the rank, not by the id.
    #[test]
    fn strongest_of_matches_a_full_sort() {
        let rank = |id: u32| 1000 - id;
        let mut rng = crate::classify::obfuscate::Rng::new(7);
        for n in 0..60usize {
            let all: Vec<(u32, f64)> = (0..n)
                .map(|i| {
                    let w = (rng.below(9) as f64 - 4.0) / 2.0;
                    (i as u32 * 7 % 61, w)
                })
                .collect();
            let mut sorted = all.clone();
            sorted.sort_by(|a, b| {
                b.1.abs()
                    .total_cmp(&a.1.abs())
                    .then(rank(a.0).cmp(&rank(b.0)))
            });
            for top in [0, 1, 3, 8, 33, 100] {
                let want: Vec<_> = sorted.iter().take(top).copied().collect();
                assert_eq!(
                    strongest_of(&mut all.clone(), top, rank),
                    want,
                    "n={n} top={top}"
                );
            }
        }
    }

    #[test]
    fn tf_value_matches_the_formula() {
        for tf in 1..40u32 {
            assert_eq!(tf_value(tf), 1.0 + f64::from(tf).ln(), "{tf}");
        }
    }

    #[test]
    fn segments_are_length_normalised_and_weighted_by_evidence() {
        let mut m = model(&[("vote", 2.0), ("poll", 1.0), ("政治", 3.0), ("转", -1.0)]);
        m.bias_en = -1.0;
        m.bias_zh = 0.5;
        m.length.prior = 2.0;
        let t = FeatureTable::new(&m);
        let n = Normalizer::new();
        let s = score_model(&t, &m, &[n.normalize("vote vote poll unknown")], 8);
        let v = 1.0 + 2f64.ln();
        let want = -1.0 + (2.0 * v + 1.0) / m.length.divisor(v + 1.0);
        assert!((s.score - want).abs() < 1e-6, "{} vs {want}", s.score);
        assert!(!s.zh);
        assert_eq!(s.present, 2);
        assert_eq!(s.top[0].0, 0); // "vote", the first feature of the list.
                                   // The same proportions, ten times longer, score about the same (weighted mean, prior aside).
        let long = score_model(&t, &m, &[n.normalize(&"vote vote poll ".repeat(10))], 0);
        assert!(
            (long.score - s.score).abs() < 0.6,
            "{} vs {}",
            long.score,
            s.score
        );
        // A two-character Chinese comment in the same text is not a scored segment.
        let mixed = score_model(&t, &m, &[n.normalize("转发 vote vote poll unknown")], 8);
        assert!((mixed.score - s.score).abs() < 1e-9);
        // As a text of its own it is, but it weighs by its evidence: one feature against two.
        let two = score_model(&t, &m, &[n.normalize("转发"), n.normalize("vote poll")], 8);
        let want = (0.5 - 2.0) / 3.0 + (2.0 - 1.0 + 1.0) / m.length.divisor(3.0);
        assert!(
            !two.zh && (two.score - want).abs() < 1e-9,
            "{} vs {want}",
            two.score
        );
        let zh = score_model(&t, &m, &[n.normalize("政治 nothing")], 8);
        assert!(zh.zh && (zh.score - (0.5 + 3.0 / 3.0)).abs() < 1e-9);
        // No known feature: the more sceptical intercept, whatever the language.
        assert_eq!(score_model(&t, &m, &[n.normalize("")], 3).score, -1.0);
        assert_eq!(score_model(&t, &m, &[n.normalize("无关")], 3).score, -1.0);
    }
}
