//! Shrinking a counterexample to a 1-minimal one: a sub-history that is
//! still not sequentially consistent, from which removing any single op
//! makes it consistent (or undecidable within the budget).
//!
//! The method is Zeller & Hildebrandt's delta debugging, simplified: try
//! removing chunks of halving size, keep every removal after which the
//! search still refutes the sub-history, and finish with passes of
//! single-op removals until one pass removes nothing. Every kept removal
//! is re-verified by a full search, so the result is a true
//! counterexample; an unknown answer keeps the op.
//!
//! A read of a value that nothing writes is a counterexample on its own,
//! and removing the write it read from would produce one. Such a
//! sub-history explains nothing about ordering, so removals that leave an
//! op impossible in every state the ops can produce ("out of thin air")
//! are refused, unless the original history already had one.

use super::engine::{search, Found, Limits};
use super::hints::Hints;
use super::problem::Problem;
use crate::check::deadline::{Stop, Ticker};
use crate::model::Model;
use std::time::Instant;

/// The result of shrinking.
pub(crate) struct Shrunk<M: Model> {
    /// The smallest refuted sub-problem found.
    pub problem: Problem<M>,
    /// Whether a final pass removed nothing (1-minimal), rather than
    /// running out of time.
    pub minimal: bool,
}

/// Shrinks `pb`, which must be refuted. Each search gets `limits`; the
/// whole shrink stops at `deadline`. `first` is a guess to try before
/// anything else (the processes cut just after where the search got
/// stuck), kept if it is still refuted.
pub(crate) fn shrink<M: Model, H: Hints<M> + ?Sized>(
    pb: &Problem<M>,
    hints: &H,
    limits: &Limits<'_>,
    deadline: Instant,
    first: Option<Vec<bool>>,
) -> Shrunk<M> {
    let n = pb.ops.len();
    let mut keep = vec![true; n];
    let stop = Stop {
        at: Some(deadline),
        ..limits.stop()
    };
    let allow_thin_air = thin_air_until(pb, &stop);
    let refuted = |keep: &[bool]| -> bool {
        let sub = pb.restrict(|i, _| keep[i]);
        (allow_thin_air || !thin_air_until(&sub, &stop))
            && matches!(search(&sub, hints, limits).0, Found::Refuted(_))
    };
    if let Some(first) = first {
        if first.len() == n && refuted(&first) {
            keep = first;
        }
    }
    let mut out_of_time = false;
    let mut chunk = (keep.iter().filter(|&&k| k).count() / 2).max(1);
    loop {
        let mut changed = false;
        let kept: Vec<usize> = (0..n).filter(|&i| keep[i]).collect();
        for part in kept.chunks(chunk) {
            if stop.now() {
                out_of_time = true;
                break;
            }
            if part.len() == kept.len() {
                continue;
            }
            for &i in part {
                keep[i] = false;
            }
            if refuted(&keep) {
                changed = true;
            } else {
                for &i in part {
                    keep[i] = true;
                }
            }
        }
        if out_of_time {
            break;
        }
        if chunk > 1 {
            chunk /= 2;
        } else if !changed {
            break;
        }
    }
    Shrunk {
        problem: pb.restrict(|i, _| keep[i]),
        minimal: !out_of_time,
    }
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
