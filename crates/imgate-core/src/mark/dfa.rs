//! The selectors of a rule compiled into one deterministic automaton over document paths.
//!
//! Every selector step consumes exactly one level of the document (a member or an
//! element), so all selectors advance in lockstep and a set of "selector `s` has matched
//! its first `d` steps" states is a plain subset construction. It is built once, when
//! the rule compiles; walking a body then costs one table lookup per member or element
//! instead of a pass over every live selector state, and a subtree that no selector can
//! reach is recognised at its first byte and skipped by the validating scanner.

use std::collections::HashMap;

use super::selector::{Selector, Step};

/// A state of the automaton (an index into its table).
pub(crate) type StateId = u32;

/// Largest automaton a rule may compile to. Real rules have a handful of states; the
/// bound only stops a pathological list of selectors from costing unbounded memory.
pub const MAX_STATES: usize = 4096;

/// The selectors cannot be compiled within [`MAX_STATES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyStates;

#[derive(Debug, Clone)]
struct State {
    /// A selector ends here: the value at this path is selected.
    selected: bool,
    /// Where an array element leads.
    element: Option<StateId>,
    /// Where a member whose key is not in `keys` leads (the `*` steps alone).
    other_member: Option<StateId>,
    /// Keys named by a step here, with where each leads (`*` steps included).
    keys: Vec<(Box<[u8]>, StateId)>,
}

/// The compiled selectors of one rule.
#[derive(Debug, Clone)]
pub(crate) struct SelectorDfa {
    states: Vec<State>,
}

/// The selector states of one automaton state: `(selector, steps matched)`, sorted.
type Set = Vec<(usize, usize)>;

impl SelectorDfa {
    /// Compiles `selectors`; the start state is state 0 (absent when there are none).
    pub fn new(selectors: &[Selector]) -> Result<SelectorDfa, TooManyStates> {
        let mut dfa = SelectorDfa { states: Vec::new() };
        let start: Set = (0..selectors.len()).map(|s| (s, 0)).collect();
        if start.is_empty() {
            return Ok(dfa);
        }
        let mut ids: HashMap<Set, StateId> = HashMap::new();
        let mut pending: Vec<Set> = Vec::new();
        let mut intern = |set: Set,
                          states: &mut Vec<State>,
                          pending: &mut Vec<Set>|
         -> Result<Option<StateId>, TooManyStates> {
            if set.is_empty() {
                return Ok(None);
            }
            if let Some(&id) = ids.get(&set) {
                return Ok(Some(id));
            }
            if states.len() >= MAX_STATES {
                return Err(TooManyStates);
            }
            let id = StateId::try_from(states.len()).map_err(|_| TooManyStates)?;
            states.push(State {
                selected: false,
                element: None,
                other_member: None,
                keys: Vec::new(),
            });
            ids.insert(set.clone(), id);
            pending.push(set);
            Ok(Some(id))
        };
        intern(start, &mut dfa.states, &mut pending)?;
        let step = |&(sel, at): &(usize, usize)| selectors.get(sel).and_then(|s| s.steps().get(at));
        let mut next = 0usize;
        while let Some(set) = pending.get(next).cloned() {
            let advance = |accepts: &dyn Fn(&Step) -> bool| -> Set {
                set.iter()
                    .filter(|s| step(s).is_some_and(accepts))
                    .map(|&(sel, at)| (sel, at + 1))
                    .collect()
            };
            let selected = set
                .iter()
                .any(|&(sel, at)| selectors.get(sel).is_some_and(|s| s.steps().len() == at));
            let element = advance(&|s| *s == Step::AnyElement);
            let other = advance(&|s| *s == Step::AnyMember);
            let mut named: Vec<&str> = set
                .iter()
                .filter_map(|s| match step(s) {
                    Some(Step::Key(k)) => Some(k.as_str()),
                    _ => None,
                })
                .collect();
            named.sort_unstable();
            named.dedup();
            let element = intern(element, &mut dfa.states, &mut pending)?;
            let other_member = intern(other, &mut dfa.states, &mut pending)?;
            let mut keys = Vec::with_capacity(named.len());
            for key in named {
                let to = advance(&|s| match s {
                    Step::Key(k) => k == key,
                    Step::AnyMember => true,
                    Step::AnyElement => false,
                });
                if let Some(id) = intern(to, &mut dfa.states, &mut pending)? {
                    keys.push((Box::from(key.as_bytes()), id));
                }
            }
            if let Some(state) = dfa.states.get_mut(next) {
                *state = State {
                    selected,
                    element,
                    other_member,
                    keys,
                };
            }
            next += 1;
        }
        Ok(dfa)
    }

    /// The state at the document's root, if there is any selector.
    pub fn start(&self) -> Option<StateId> {
        (!self.states.is_empty()).then_some(0)
    }

    fn state(&self, id: StateId) -> Option<&State> {
        self.states.get(id as usize)
    }

    /// Whether the value at this state's path is selected.
    #[inline]
    pub fn selected(&self, id: StateId) -> bool {
        self.state(id).is_some_and(|s| s.selected)
    }

    /// The state of an array element's path.
    #[inline]
    pub fn element(&self, id: StateId) -> Option<StateId> {
        self.state(id).and_then(|s| s.element)
    }

    /// Whether any member of an object at this path can lead anywhere.
    #[inline]
    pub fn has_members(&self, id: StateId) -> bool {
        self.state(id)
            .is_some_and(|s| s.other_member.is_some() || !s.keys.is_empty())
    }

    /// The state of the path through member `key` (unescaped, as UTF-8 bytes). Runs for
    /// every member on a selected path, so it is inlined and compares lengths before
    /// bytes (most keys differ in length from the one or two a state names).
    #[inline(always)]
    pub fn member(&self, id: StateId, key: &[u8]) -> Option<StateId> {
        let s = self.state(id)?;
        for (k, to) in s.keys.iter() {
            if k.len() == key.len() && **k == *key {
                return Some(*to);
            }
        }
        s.other_member
    }

    /// How many states the selectors compiled to.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.states.len()
    }
}

/// `n` selectors of length `n`, selector `i` naming key `k{i}` at level `i` and `*` elsewhere: after `j` levels
/// every subset of the first `j` selectors is reachable, so they compile to about `2^n` states.
#[cfg(test)]
pub(crate) fn exponential_selectors(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            (0..n)
                .map(|l| {
                    if l == i {
                        format!("k{i}")
                    } else {
                        "*".to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join(".")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dfa(selectors: &[&str]) -> SelectorDfa {
        let parsed: Vec<Selector> = selectors
            .iter()
            .map(|s| Selector::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")))
            .collect();
        SelectorDfa::new(&parsed).unwrap_or_else(|_| panic!("too many states"))
    }

    /// Follows a path written as `key` / `[]` segments from the start.
    fn follow(d: &SelectorDfa, path: &[&str]) -> Option<StateId> {
        let mut at = d.start()?;
        for seg in path {
            at = if *seg == "[]" {
                d.element(at)?
            } else {
                d.member(at, seg.as_bytes())?
            };
        }
        Some(at)
    }

    fn selects(d: &SelectorDfa, path: &[&str]) -> bool {
        follow(d, path).is_some_and(|s| d.selected(s))
    }

    #[test]
    fn timeline_selector() {
        let d = dfa(&["posts[*].author"]);
        assert_eq!(d.len(), 3 + 1);
        assert!(selects(&d, &["posts", "[]", "author"]));
        assert!(!selects(&d, &["posts", "[]"]));
        assert!(follow(&d, &["posts", "[]", "title"]).is_none());
        assert!(follow(&d, &["posts", "x"]).is_none());
        assert!(follow(&d, &["other"]).is_none());
        let s = follow(&d, &["posts", "[]", "author"]).unwrap_or(0);
        assert!(!d.has_members(s));
        assert!(d.element(s).is_none());
    }

    #[test]
    fn wildcards_keys_and_root_combine() {
        let d = dfa(&["$", "a.*", "*.b", "a.b.c", "[*]"]);
        assert!(selects(&d, &[]));
        assert!(selects(&d, &["a", "x"]));
        assert!(selects(&d, &["a", "b"]));
        assert!(selects(&d, &["z", "b"]));
        assert!(!selects(&d, &["z", "x"]));
        assert!(selects(&d, &["a", "b", "c"]));
        assert!(!selects(&d, &["z", "b", "c"]));
        assert!(selects(&d, &["[]"]));
        assert!(follow(&d, &["[]", "x"]).is_none());
    }

    #[test]
    fn no_selectors_no_states() {
        let d = SelectorDfa::new(&[]).unwrap_or_else(|_| panic!("too many states"));
        assert_eq!(d.start(), None);
    }

    fn exponential(n: usize) -> Vec<Selector> {
        exponential_selectors(n)
            .iter()
            .map(|text| Selector::parse(text).unwrap_or_else(|e| panic!("{text}: {e}")))
            .collect()
    }

    #[test]
    fn state_count_is_bounded() {
        let fits = SelectorDfa::new(&exponential(8)).map(|d| d.len());
        assert!(
            matches!(fits, Ok(n) if n > 256 && n <= MAX_STATES),
            "{fits:?}"
        );
        assert_eq!(
            SelectorDfa::new(&exponential(13)).err(),
            Some(TooManyStates)
        );
    }
}
