//! One compiled category: an Aho-Corasick automaton over the (few hundred) lexicon terms, a hash table over the
//! model's feature keys, the domain index and the declared-category table.
//!
//! Lexicon terms need exact positions for the evidence and word-boundary checks, so they keep the automaton.
//! Model features are looked up by key while [`super::features::scan_features`] walks the text once: one probe
//! per n-gram, independent of how many features the model has.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use aho_corasick::automaton::Automaton as _;
use aho_corasick::automaton::StateID;
use aho_corasick::dfa::DFA;
use aho_corasick::{AhoCorasick, Anchored, MatchKind, PatternID};

use super::domains::DomainSet;
use super::features::{feature_key, is_latin_key, on_boundaries, scan_features};
use super::lexicon::LexiconEntry;
use super::model::{LexiconScale, LinearModel};
use super::normalize::Normalized;
use super::BuildError;

/// A boundary-checked lexicon term occurrence in normalised text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit {
    pub text: usize,
    pub start: usize,
    pub end: usize,
    pub lex: u32,
}

/// The automaton over the lexicon patterns.
#[derive(Debug)]
enum Automaton {
    /// The usual case: a full DFA driven by [`for_each_overlapping`], one table lookup per byte. Boxed: the
    /// DFA's inline state is much larger than the fallback's `Arc`.
    Dfa(Box<DFA>),
    /// Fallback when the DFA cannot be built (or a pattern is empty): the library's own overlapping search.
    General(AhoCorasick),
}

/// Calls `f(pattern, start, end)` for every occurrence of every pattern of `dfa` in `hay`, in the order of
/// `AhoCorasick::find_overlapping_iter` (by end offset, then by the automaton's match order). A hand-written loop
/// over the [`aho_corasick::automaton::Automaton`] primitives: the iterator re-enters the search once per match and
/// checks its state per byte, which costs twice the scan itself on match-dense text. Patterns must be non-empty
/// (a match of the empty pattern would sit in the start state, which this loop does not report).
///
/// Kept out of line: inlined into `classify`, its loop state spills to the stack (callgrind: +10k instructions per
/// 1 KiB post).
#[inline(never)]
fn for_each_overlapping(dfa: &DFA, hay: &[u8], mut f: impl FnMut(PatternID, usize, usize)) {
    let Ok(mut sid) = dfa.start_state(Anchored::No) else {
        return;
    };
    for (at, &b) in hay.iter().enumerate() {
        sid = dfa.next_state(Anchored::No, sid, b);
        if dfa.is_special(sid) {
            if dfa.is_dead(sid) {
                return;
            }
            if dfa.is_match(sid) {
                report(dfa, sid, at + 1, &mut f);
            }
        }
    }
}

/// Reports every pattern matching in state `sid`, each ending at `end`.
#[inline(always)]
fn report(dfa: &DFA, sid: StateID, end: usize, f: &mut impl FnMut(PatternID, usize, usize)) {
    for i in 0..dfa.match_len(sid) {
        let pid = dfa.match_pattern(sid, i);
        f(pid, end.saturating_sub(dfa.pattern_len(pid)), end);
    }
}

/// Below this many bytes per half a text is walked in one chain (the split costs more than it saves).
const SPLIT_WALK_MIN: usize = 256;

/// [`for_each_overlapping`] as two interleaved walks over the two halves of `hay`: the same matches, each
/// reported with the half that found it (`true` = the second). Every match of the first half ends at or before
/// the middle and every match of the second half after it, and each half reports in order, so the first half's
/// matches followed by the second half's are exactly [`for_each_overlapping`]'s sequence (callers keep the two
/// apart and concatenate them, which is cheaper than sorting the interleaved stream).
///
/// Why: a DFA walk is one chain of dependent table loads, and the table of a full lexicon (megabytes) is mostly
/// outside L1, so each byte waits for the previous byte's load. Two independent chains overlap those waits
/// (about 1.6x the bytes per second on a 1 KiB post). The second walk starts `max_pattern_len - 1` bytes before
/// the middle and reports only matches ending after it, so every match is found exactly once.
#[inline(never)]
fn for_each_overlapping_split(
    dfa: &DFA,
    hay: &[u8],
    mut f: impl FnMut(bool, PatternID, usize, usize),
) {
    let longest = dfa.max_pattern_len().max(1);
    let mid = hay.len() / 2;
    if mid < SPLIT_WALK_MIN.max(2 * longest) {
        return for_each_overlapping(dfa, hay, |p, s, e| f(false, p, s, e));
    }
    let Ok(start) = dfa.start_state(Anchored::No) else {
        return;
    };
    // First half: matches ending at or before `mid`. Second half: from `from`, matches ending after `mid`.
    let from = mid + 1 - longest;
    let (first, second) = (&hay[..mid], &hay[from..]);
    let (mut a, mut b) = (start, start);
    let (mut a_live, mut b_live) = (true, true);
    for (i, (&x, &y)) in first.iter().zip(second).enumerate() {
        if a_live {
            a = dfa.next_state(Anchored::No, a, x);
            if dfa.is_special(a) {
                if dfa.is_dead(a) {
                    a_live = false;
                } else if dfa.is_match(a) {
                    report(dfa, a, i + 1, &mut |p, s, e| f(false, p, s, e));
                }
            }
        }
        if b_live {
            b = dfa.next_state(Anchored::No, b, y);
            if dfa.is_special(b) {
                if dfa.is_dead(b) {
                    b_live = false;
                } else if dfa.is_match(b) && from + i + 1 > mid {
                    report(dfa, b, from + i + 1, &mut |p, s, e| f(true, p, s, e));
                }
            }
        }
    }
    // The second part is the longer one (it overlaps the first by `longest - 1` bytes): finish it alone.
    if b_live {
        for (i, &y) in second.iter().enumerate().skip(first.len()) {
            b = dfa.next_state(Anchored::No, b, y);
            if dfa.is_special(b) {
                if dfa.is_dead(b) {
                    return;
                }
                if dfa.is_match(b) && from + i + 1 > mid {
                    report(dfa, b, from + i + 1, &mut |p, s, e| f(true, p, s, e));
                }
            }
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
        let ac = if patterns.is_empty() {
            None
        } else {
            // Overlapping search is needed (外交部 inside 外交部长); a full DFA makes it one table lookup per
            // byte, and with a few hundred terms it stays small. Fall back to the default if it cannot be built.
            let dfa = if patterns.iter().any(String::is_empty) {
                None
            } else {
                DFA::builder()
                    .match_kind(MatchKind::Standard)
                    .byte_classes(true)
                    .prefilter(false)
                    .build(&patterns)
                    .ok()
            };
            Some(match dfa {
                Some(dfa) => Automaton::Dfa(Box::new(dfa)),
                None => Automaton::General(
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
    /// offset. `tail` is scratch (left empty), so a caller that keeps it allocates nothing.
    pub fn scan(&self, text: usize, norm: &Normalized, out: &mut Vec<Hit>, tail: &mut Vec<Hit>) {
        let bytes = norm.text.as_bytes();
        let hit = |pid: PatternID, s: usize, e: usize| {
            let l = *self.pats.get(pid.as_usize())?;
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
            Some(Automaton::Dfa(dfa)) => {
                tail.clear();
                for_each_overlapping_split(dfa, bytes, |second, pid, s, e| {
                    if let Some(h) = hit(pid, s, e) {
                        if second {
                            tail.push(h)
                        } else {
                            out.push(h)
                        }
                    }
                });
                // The second half's hits all end after the first half's.
                out.append(tail);
            }
            Some(Automaton::General(ac)) => {
                out.extend(
                    ac.find_overlapping_iter(&norm.text)
                        .filter_map(|m| hit(m.pattern(), m.start(), m.end())),
                );
            }
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

/// One slot of [`FeatureTable`]: everything scoring needs about a feature, in one 16-byte entry, so a probe and the
/// later read of the weight touch the same cache line (the table is larger than L2 for a full model).
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// Feature key; 0 marks an empty slot.
    key: u64,
    /// The feature weight (0 for empty slots).
    weight: f32,
    /// Index into the model's feature list (for names in the evidence).
    feature: u32,
}

/// Open-addressing (linear probing) table from feature key to slot. Key 0 marks an empty slot; no feature key
/// is 0 (CJK code points are non-zero, Latin keys have the top bit set).
///
/// Most n-grams of a text are not model features, so a miss is the common case; a one-hash Bloom filter of about
/// 8 bits per feature (16 KiB for the shipped model, L1-resident) answers most misses before the table, which
/// is far larger than L1, is touched at all (about 12% false positives, which then probe as before).
#[derive(Debug)]
pub(crate) struct FeatureTable {
    slots: Vec<Slot>,
    shift: u32,
    /// Bit `filter_bit(k)` is set for every feature key `k`.
    filter: Vec<u64>,
    filter_shift: u32,
}

impl FeatureTable {
    pub fn new(model: &LinearModel) -> FeatureTable {
        // Load factor <= 0.5 keeps probe sequences short for the many keys that miss.
        let n = (model.features.len() * 2).next_power_of_two().max(16);
        let bits = (model.features.len() * 8)
            .next_power_of_two()
            .clamp(1 << 10, 1 << 20);
        let mut t = FeatureTable {
            slots: vec![Slot::default(); n],
            shift: 64 - n.trailing_zeros(),
            filter: vec![0; bits / 64],
            filter_shift: 64 - bits.trailing_zeros(),
        };
        for (i, (name, w)) in model.features.iter().enumerate() {
            // The parser has validated every feature text; skip defensively rather than panic.
            let Some(k) = feature_key(name) else { continue };
            let mut s = t.home(k);
            while t.slots[s].key != 0 && t.slots[s].key != k {
                s = (s + 1) & (n - 1);
            }
            t.slots[s] = Slot {
                key: k,
                weight: *w as f32,
                feature: i as u32,
            };
            let b = t.filter_bit(k);
            t.filter[b >> 6] |= 1 << (b & 63);
        }
        t
    }

    /// Filter bit of key `k`: top bits of a multiplicative hash with a different constant than [`Self::home`].
    #[inline]
    fn filter_bit(&self, k: u64) -> usize {
        (k.wrapping_mul(0xD6E8_FEB8_6659_FD93) >> self.filter_shift) as usize
    }

    /// False if `k` is certainly not a feature key.
    #[inline]
    fn may_contain(&self, k: u64) -> bool {
        let b = self.filter_bit(k);
        self.filter
            .get(b >> 6)
            .is_some_and(|w| w >> (b & 63) & 1 != 0)
    }

    #[inline]
    fn home(&self, k: u64) -> usize {
        (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// The slot holding `k`, if the model has that feature.
    #[inline]
    pub fn find(&self, k: u64) -> Option<usize> {
        if !self.may_contain(k) {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut s = self.home(k);
        loop {
            let x = self.slots.get(s)?.key;
            if x == k {
                return Some(s);
            }
            if x == 0 {
                return None;
            }
            s = (s + 1) & mask;
        }
    }

    pub fn slots(&self) -> usize {
        self.slots.len()
    }

    /// The entry of a slot returned by [`FeatureTable::find`] (an empty entry for any other index).
    #[inline]
    fn slot(&self, s: usize) -> Slot {
        self.slots.get(s).copied().unwrap_or_default()
    }
}

/// Per-thread scratch for counting term frequencies without clearing or sorting: a slot's count is valid only
/// if its stamp equals the current generation. Stamp and count share an entry, so a hit touches one cache line.
#[derive(Debug, Default)]
struct Scratch {
    generation: u32,
    /// Per slot: (stamp, count).
    entries: Vec<(u32, u32)>,
    touched: Vec<u32>,
    /// `(feature index, contribution)` of every touched feature, for picking the strongest.
    strongest: Vec<(u32, f64)>,
}

impl Scratch {
    fn begin(&mut self, slots: usize) {
        if self.entries.len() < slots {
            self.entries.resize(slots, (0, 0));
        }
        self.touched.clear();
        if self.generation == u32::MAX {
            self.entries.iter_mut().for_each(|e| e.0 = 0);
            self.generation = 0;
        }
        self.generation += 1;
    }

    #[inline]
    fn add(&mut self, slot: usize) {
        let g = self.generation;
        if let Some(e) = self.entries.get_mut(slot) {
            if e.0 == g {
                e.1 += 1;
            } else {
                *e = (g, 1);
                self.touched.push(slot as u32);
            }
        }
    }

    /// Occurrences of `slot` in the current generation.
    #[inline]
    fn count(&self, slot: usize) -> u32 {
        self.entries.get(slot).map_or(0, |e| e.1)
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

/// Order of [`ModelScore::top`]: strongest |contribution| first, ties by feature index (a total order, so the
/// selection below is deterministic).
fn by_strength(a: &(u32, f64), b: &(u32, f64)) -> std::cmp::Ordering {
    b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0))
}

/// The `top` first of `all` in [`by_strength`] order, sorted. Small `top` (the evidence default is 8) keeps a
/// sorted short list, one comparison for most candidates; a large one selects with `select_nth_unstable_by`.
/// Both give the same list, since the order is total.
fn strongest_of(all: &mut [(u32, f64)], top: usize) -> Vec<(u32, f64)> {
    if top == 0 {
        return Vec::new();
    }
    if top > 32 || all.len() <= top {
        if all.len() > top {
            all.select_nth_unstable_by(top - 1, by_strength);
        }
        let mut v = all[..all.len().min(top)].to_vec();
        v.sort_by(by_strength);
        return v;
    }
    let mut best: Vec<(u32, f64)> = Vec::with_capacity(top + 1);
    for c in all.iter() {
        if best.len() == top
            && best
                .last()
                .is_some_and(|l| by_strength(c, l) != std::cmp::Ordering::Less)
        {
            continue;
        }
        let at = best.partition_point(|b| by_strength(b, c) == std::cmp::Ordering::Less);
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
pub(crate) fn score_model(
    table: &FeatureTable,
    model: &LinearModel,
    texts: &[Normalized],
    top: usize,
) -> ModelScore {
    let run = |s: &mut Scratch| {
        s.begin(table.slots());
        for n in texts {
            let (zh_ok, en_ok) = eligible(n);
            if !zh_ok && !en_ok {
                continue;
            }
            scan_features(&n.text, |k, _, _| {
                let ok = if is_latin_key(k) { en_ok } else { zh_ok };
                if ok {
                    if let Some(slot) = table.find(k) {
                        s.add(slot);
                    }
                }
            });
        }
        // Evidence per script (index 1 = Latin) and the weighted feature sum.
        let mut evidence = [0.0f64; 2];
        let mut dot = 0.0f64;
        s.strongest.clear();
        for &slot in &s.touched {
            let slot = slot as usize;
            let e = table.slot(slot);
            let v = tf_value(s.count(slot));
            evidence[usize::from(is_latin_key(e.key))] += v;
            dot += v * f64::from(e.weight);
            // Divided by the length divisor once it is known (below).
            s.strongest.push((e.feature, v));
        }
        let total = evidence[0] + evidence[1];
        if s.touched.is_empty() || total <= 0.0 {
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
            for (c, &slot) in s.strongest.iter_mut().zip(&s.touched) {
                c.1 = f64::from(table.slot(slot as usize).weight) * c.1 / div;
            }
            strongest = strongest_of(&mut s.strongest, top);
        }
        ModelScore {
            zh: evidence[0] >= evidence[1],
            score: bias + dot / div,
            present: s.touched.len(),
            top: strongest,
        }
    };
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut s) => run(&mut s),
        // Only reachable through re-entrancy, which classify() never does; stay correct anyway.
        Err(_) => run(&mut Scratch::default()),
    })
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

    /// A walk under test: calls its callback with (pattern, start, end) per match.
    type Walk = fn(&DFA, &[u8], &mut dyn FnMut(PatternID, usize, usize));

    fn all_hits(walk: Walk, dfa: &DFA, hay: &[u8]) -> Vec<(usize, u32, usize)> {
        let mut hits = Vec::new();
        walk(dfa, hay, &mut |p, s, e| hits.push((e, p.as_u32(), s)));
        hits
    }

    fn single(dfa: &DFA, hay: &[u8], f: &mut dyn FnMut(PatternID, usize, usize)) {
        for_each_overlapping(dfa, hay, f)
    }

    /// The split walk as `scan` uses it: the first half's matches, then the second half's.
    fn split(dfa: &DFA, hay: &[u8], f: &mut dyn FnMut(PatternID, usize, usize)) {
        let mut second = Vec::new();
        for_each_overlapping_split(dfa, hay, |in_second, p, s, e| {
            if in_second {
                second.push((p, s, e));
            } else {
                f(p, s, e);
            }
        });
        for (p, s, e) in second {
            f(p, s, e);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// The two-chain walk reports exactly the single walk's matches, in its order once the second half's
        /// follow the first half's (nothing is sorted); texts
        /// long enough to be split, patterns short and long, overlapping and straddling the middle.
        #[test]
        fn the_split_walk_finds_what_the_single_walk_finds(
            patterns in proptest::collection::vec(proptest::collection::vec(proptest::sample::select(vec!['a', 'b', '政', '治', ' ']), 1..12), 1..20),
            text in proptest::collection::vec(proptest::sample::select(vec!['a', 'b', 'c', '政', '治', '新', ' ']), 0..700),
        ) {
            let patterns: Vec<String> = patterns.iter().map(|p| p.iter().collect()).collect();
            let text: String = text.iter().collect();
            let dfa = DFA::builder()
                .match_kind(MatchKind::Standard)
                .byte_classes(true)
                .prefilter(false)
                .build(&patterns)
                .expect("dfa");
            let expected = all_hits(single, &dfa, text.as_bytes());
            // The single walk is in end order, as the library's overlapping iterator reports.
            prop_assert!(expected.windows(2).all(|w| w[0].0 <= w[1].0));
            prop_assert_eq!(all_hits(split, &dfa, text.as_bytes()), expected);
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
        let names: Vec<String> = (0..500).map(|i| format!("w{i}")).collect();
        let m = LinearModel {
            features: names.iter().map(|n| (n.clone(), 1.0)).collect(),
            ..Default::default()
        };
        let t = FeatureTable::new(&m);
        for n in &names {
            assert!(t.find(feature_key(n).unwrap_or(0)).is_some(), "{n}");
        }
        assert!(t.find(feature_key("x1").unwrap_or(0)).is_none());
    }

    /// The short-list selection gives exactly what a full sort gives, ties (equal |contribution|) included.
    #[test]
    fn strongest_of_matches_a_full_sort() {
        let mut rng = crate::classify::obfuscate::Rng::new(7);
        for n in 0..60usize {
            let all: Vec<(u32, f64)> = (0..n)
                .map(|i| {
                    let w = (rng.below(9) as f64 - 4.0) / 2.0;
                    (i as u32 * 7 % 61, w)
                })
                .collect();
            let mut sorted = all.clone();
            sorted.sort_by(by_strength);
            for top in [0, 1, 3, 8, 33, 100] {
                let want: Vec<_> = sorted.iter().take(top).copied().collect();
                assert_eq!(strongest_of(&mut all.clone(), top), want, "n={n} top={top}");
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
