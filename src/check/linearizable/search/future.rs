//! Rule 9, **future returns**: rule 5 for every unlinearized required
//! operation, not only the candidates.
//!
//! At a configuration with state `s`, if some unlinearized required item
//! `x` is unreachable in `s` ([`Model::reachable`]) and no unlinearized
//! item other than `x`, invoked before `x` returns, may enable it
//! ([`Model::may_enable`]), the configuration fails.
//!
//! *Proof.* Rule 5's proof never used that `x` is a candidate. `x` is
//! required, so every successful continuation places it. Every item the
//! continuation places before `x` is unlinearized now, and was invoked
//! before `x` returned (else `x`, which returned first, would have to
//! precede it). None of them may enable `x`, so by the contract of
//! [`Model::reachable`] `x` stays unreachable, hence illegal, in every
//! state up to its place: a contradiction. In a final-path search (where
//! `stop` is never linearized) only items returning before `stop` are
//! checked: each must be placed before `stop` becomes the first return,
//! so a configuration the rule fails reaches no configuration the
//! final-path search records, and the recorded set is unchanged.
//!
//! Rule 5 looks only at the candidates, so a read that is certain to come
//! but not yet invoked (a stale read far in the future, say) refuted a
//! configuration only once the search had placed every operation that
//! returns before it, in every order the other rules allow: on histories
//! with many long concurrent appends that is exponential. This rule
//! refutes as soon as the state leaves the read's reach.
//!
//! # Cost
//!
//! Each required item keeps the number of its possible enablers still
//! unlinearized (the static list of pairs is built once, by asking
//! [`Model::may_enable`] of every pair, so only for partitions up to
//! [`PAIRS_CAP`] pairs; an item with more than [`ENABLERS_CAP`] possible
//! enablers is left out: checking fewer items is always sound). Placing
//! or undoing an item updates the counts of the items it may enable, and
//! the set `zero` of unlinearized required items whose count is zero.
//! Each fresh level checks `reachable` on the members of `zero`, the last
//! one that refuted first.

use super::{Item, NONE};
use crate::model::Model;

/// The rule is built only for partitions with at most this many (item,
/// required item) pairs to ask [`Model::may_enable`] about.
pub(super) const PAIRS_CAP: usize = 1 << 23;

/// An item with more possible enablers than this is never checked.
pub(super) const ENABLERS_CAP: u32 = 64;

/// A count that never reaches zero: the item is never checked.
const NEVER: u32 = u32::MAX / 2;

/// The enabler counts and the set of items the rule checks.
pub(super) struct Future {
    /// `targets[start[z]..start[z + 1]]`: the items `z` may enable.
    start: Vec<u32>,
    targets: Vec<u32>,
    /// Per item: its possible enablers still unlinearized.
    count: Vec<u32>,
    required: Vec<bool>,
    done: Vec<bool>,
    /// The unlinearized required items with a zero count.
    zero: Vec<u32>,
    /// Position of each item in `zero`, or `NONE`.
    pos: Vec<u32>,
}

impl Future {
    /// Counts the possible enablers of every required item; `None` when
    /// the partition is too large for the quadratic set-up.
    pub(super) fn new<M: Model>(model: &M, items: &[Item<M::Op>]) -> Option<Future> {
        let n = items.len();
        let req: Vec<usize> = (0..n).filter(|&x| !items[x].optional()).collect();
        if n.saturating_mul(req.len()) > PAIRS_CAP {
            return None;
        }
        let mut count = vec![0u32; n];
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        let mut mine: Vec<(u32, u32)> = Vec::new();
        for &x in &req {
            mine.clear();
            for (z, it) in items.iter().enumerate() {
                if z != x && it.invoke < items[x].ret && model.may_enable(&it.op, &items[x].op) {
                    mine.push((z as u32, x as u32));
                    if mine.len() as u32 > ENABLERS_CAP {
                        break;
                    }
                }
            }
            if mine.len() as u32 > ENABLERS_CAP {
                count[x] = NEVER;
            } else {
                count[x] = mine.len() as u32;
                pairs.extend_from_slice(&mine);
            }
        }
        pairs.sort_unstable();
        let mut start = vec![0u32; n + 1];
        for &(z, _) in &pairs {
            start[z as usize + 1] += 1;
        }
        for z in 0..n {
            start[z + 1] += start[z];
        }
        let targets = pairs.iter().map(|&(_, x)| x).collect();
        let required = items.iter().map(|it| !it.optional()).collect();
        let mut f = Future {
            start,
            targets,
            count,
            required,
            done: vec![false; n],
            zero: Vec::new(),
            pos: vec![NONE; n],
        };
        for &x in &req {
            if f.count[x] == 0 {
                f.insert(x as u32);
            }
        }
        Some(f)
    }

    fn insert(&mut self, x: u32) {
        debug_assert_eq!(self.pos[x as usize], NONE);
        self.pos[x as usize] = self.zero.len() as u32;
        self.zero.push(x);
    }

    fn remove(&mut self, x: u32) {
        let p = self.pos[x as usize];
        if p == NONE {
            return;
        }
        let last = *self.zero.last().expect("x is in it");
        self.zero.swap_remove(p as usize);
        if last != x {
            self.pos[last as usize] = p;
        }
        self.pos[x as usize] = NONE;
    }

    /// Item `i` was linearized.
    pub(super) fn lift(&mut self, i: u32) {
        let iu = i as usize;
        if self.required[iu] {
            self.done[iu] = true;
            self.remove(i);
        }
        for k in self.start[iu]..self.start[iu + 1] {
            let t = self.targets[k as usize];
            self.count[t as usize] -= 1;
            if self.count[t as usize] == 0 && !self.done[t as usize] {
                self.insert(t);
            }
        }
    }

    /// Item `i`'s linearization was undone.
    pub(super) fn unlift(&mut self, i: u32) {
        let iu = i as usize;
        for k in self.start[iu]..self.start[iu + 1] {
            let t = self.targets[k as usize];
            if self.count[t as usize] == 0 {
                self.remove(t);
            }
            self.count[t as usize] += 1;
        }
        if self.required[iu] {
            self.done[iu] = false;
            if self.count[iu] == 0 {
                self.insert(i);
            }
        }
    }

    /// The item for which rule 9 fails the configuration with state
    /// `state`, if any. With `stop`, only items returning before it are
    /// checked.
    pub(super) fn refutes<M: Model>(
        &mut self,
        model: &M,
        items: &[Item<M::Op>],
        state: &M::State,
        stop: Option<u32>,
    ) -> Option<u32> {
        let limit = stop.map_or(usize::MAX, |s| items[s as usize].ret);
        for p in 0..self.zero.len() {
            let x = self.zero[p];
            let it = &items[x as usize];
            if it.ret < limit && !model.reachable(state, &it.op) {
                // The last item that refuted is checked first next time.
                if p > 0 {
                    let first = self.zero[0];
                    self.zero.swap(0, p);
                    self.pos[first as usize] = p as u32;
                    self.pos[x as usize] = 0;
                }
                return Some(x);
            }
        }
        None
    }
}
