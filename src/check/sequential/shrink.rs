//! Shrinking a counterexample to a 1-minimal one: a sub-history that is
//! still not sequentially consistent, from which removing any single op
//! makes it consistent (or undecidable within the budget).
//!
//! The method is delta debugging ([`ddmin`](crate::check::ddmin), shared
//! with the linearizability shrinker): a removal is kept when the search
//! still refutes the sub-history. What differs from that shrinker is what
//! a trial must satisfy (below) and how it is decided. Every kept removal
//! is re-verified by a full search, so the result is a true
//! counterexample; an unknown answer keeps the op. The whole shrink runs
//! within a budget of work (configurations entered, plus the ops of each
//! trial), never of time, so that it ends at the same point, with the same
//! counterexample, on any machine and under any load.
//!
//! A read of a value that nothing writes is a counterexample on its own,
//! and removing the write it read from would produce one. Such a
//! sub-history explains nothing about ordering, so removals that leave an
//! op impossible in every state the ops can produce ("out of thin air")
//! are refused, unless the original history already had one. Likewise a
//! lock's release needs its own process's acquire before it
//! ([`Model::needs_own_process`]): removals that leave a release without
//! one are refused (two processes that held the lock at once shrink to
//! their acquires, not to a release nobody could have made).

use super::engine::{search, Found, Limits};
use super::hints::Hints;
use super::problem::Problem;
use crate::check::ddmin::{ddmin, Trial};
use crate::check::deadline::{Stop, Ticker};
use crate::model::Model;
use std::cell::Cell;

/// The result of shrinking.
pub(crate) struct Shrunk<M: Model> {
    /// The smallest refuted sub-problem found.
    pub problem: Problem<M>,
    /// Whether a final pass removed nothing (1-minimal), rather than
    /// running out of its budget or of the user's time.
    pub minimal: bool,
}

/// Shrinks `pb`, which must be refuted. Each search gets `limits`; the
/// whole shrink stops when it has done `budget` units of work (the
/// configurations its searches entered, plus the ops of each trial), or
/// when `limits` expire. `first` is a guess to try before anything else
/// (the processes cut just after where the search got stuck), kept if it
/// is still refuted.
pub(crate) fn shrink<M: Model, H: Hints<M> + ?Sized>(
    pb: &Problem<M>,
    hints: &H,
    limits: &Limits<'_>,
    budget: u64,
    first: Option<Vec<bool>>,
) -> Shrunk<M> {
    let n = pb.ops.len();
    let mut keep = vec![true; n];
    let stop = limits.stop();
    let allow_thin_air = illegal_alone(pb, &stop);
    let left = Cell::new(budget);
    let refuted = |keep: &[bool]| -> bool {
        let sub = pb.restrict(|i, _| keep[i]);
        if allow_thin_air || !illegal_alone(&sub, &stop) {
            let (found, stats) = search(&sub, hints, limits);
            let cost = stats.nodes + sub.ops.len() as u64;
            left.set(left.get().saturating_sub(cost));
            matches!(found, Found::Refuted(_))
        } else {
            false
        }
    };
    if let Some(first) = first {
        if first.len() == n && refuted(&first) {
            keep = first;
        }
    }
    let start: Vec<usize> = (0..n).filter(|&i| keep[i]).collect();
    let (kept, minimal) = ddmin(start, |trial| {
        if left.get() == 0 || stop.now() {
            return Trial::Stop;
        }
        let mut mask = vec![false; n];
        for &i in trial {
            mask[i] = true;
        }
        if refuted(&mask) {
            Trial::Fails
        } else {
            Trial::Passes
        }
    });
    let mut keep = vec![false; n];
    for i in kept {
        keep[i] = true;
    }
    Shrunk {
        problem: pb.restrict(|i, _| keep[i]),
        minimal,
    }
}

/// Is some required op illegal on its own: out of thin air ([`thin_air`]),
/// or one that needs its own process's ops and is impossible in every
/// state they produce before it ([`orphan`])?
fn illegal_alone<M: Model>(pb: &Problem<M>, stop: &Stop<'_>) -> bool {
    thin_air_until(pb, stop) || orphan(pb)
}

/// The states some ops can produce from the initial state, in any order,
/// and those ops.
type Closure<'a, M> = (Vec<<M as Model>::State>, Vec<&'a <M as Model>::Op>);

/// Is some required op that needs a state only its own process sets
/// ([`Model::needs_own_process`]: a lock's release) impossible in every
/// state its process's earlier ops on its key can produce, in any order?
/// Past a bound on those states the answer is "no".
pub(crate) fn orphan<M: Model>(pb: &Problem<M>) -> bool {
    const MAX_STATES: usize = 256;
    let needs_own =
        |c: &super::problem::Cop<M::Op>| pb.models[c.key as usize].needs_own_process(&c.op);
    if !pb.ops.iter().any(needs_own) {
        return false;
    }
    for seq in &pb.procs {
        // Per key: the states the process's ops so far can produce, and
        // those ops.
        let mut closures: Vec<Option<Closure<'_, M>>> = vec![None; pb.keys.len()];
        for &i in seq {
            let c = &pb.ops[i as usize];
            let m = &pb.models[c.key as usize];
            let slot = &mut closures[c.key as usize];
            let (states, ops) = slot.get_or_insert_with(|| (vec![m.init()], Vec::new()));
            let bounded = states.len() <= MAX_STATES;
            if bounded
                && !c.optional
                && needs_own(c)
                && states.iter().all(|t| m.step(t, &c.op).is_none())
            {
                return true;
            }
            ops.push(&c.op);
            // Close the states under the ops, the new one first.
            let mut fresh: Vec<usize> = Vec::new();
            for t in 0..states.len() {
                if let Some(n) = m.step(&states[t], &c.op) {
                    if !states.contains(&n) {
                        states.push(n);
                        fresh.push(states.len() - 1);
                    }
                }
            }
            while let Some(t) = fresh.pop() {
                if states.len() > MAX_STATES {
                    break;
                }
                for op in ops.iter() {
                    if let Some(n) = m.step(&states[t], op) {
                        if !states.contains(&n) {
                            states.push(n);
                            fresh.push(states.len() - 1);
                        }
                    }
                }
            }
        }
    }
    false
}

/// [`thin_air_until`] without a deadline.
#[cfg(test)]
pub(crate) fn thin_air<M: Model>(pb: &Problem<M>) -> bool {
    thin_air_until(pb, &Stop::default())
}

/// Is some required op impossible in every state the ops could produce?
/// The states are approximated from above, per key: the initial state,
/// then every state one op makes from a known state, for a few rounds;
/// when that set grows past a bound the answer is "no".
/// It gives up, saying no, when `stop` says so: on a million ops it may
/// take seconds.
fn thin_air_until<M: Model>(pb: &Problem<M>, stop: &Stop<'_>) -> bool {
    const MAX_STATES: usize = 256;
    const ROUNDS: usize = 4;
    let mut ticker = Ticker::new();
    for k in pb.live_keys() {
        let m = &pb.models[k as usize];
        let ops: Vec<&M::Op> = pb
            .ops
            .iter()
            .filter(|c| c.key == k)
            .map(|c| &c.op)
            .collect();
        let mut known = vec![m.init()];
        let mut fresh = 0;
        let mut bounded = true;
        for _ in 0..ROUNDS {
            let end = known.len();
            for t in fresh..end {
                if stop.by(&mut ticker) {
                    return false;
                }
                for op in &ops {
                    if let Some(n) = m.step(&known[t], op) {
                        if !known.contains(&n) {
                            known.push(n);
                        }
                    }
                }
                if known.len() > MAX_STATES {
                    bounded = false;
                    break;
                }
            }
            if !bounded || known.len() == end {
                break;
            }
            fresh = end;
        }
        if !bounded {
            continue;
        }
        for c in pb.ops.iter().filter(|c| c.key == k && !c.optional) {
            if stop.by(&mut ticker) {
                return false;
            }
            if known.iter().all(|t| m.step(t, &c.op).is_none()) {
                return true;
            }
        }
    }
    false
}
