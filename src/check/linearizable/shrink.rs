//! Shrinking a non-linearizable partition to a minimal counterexample.
//!
//! Delta debugging ([`ddmin`](crate::check::ddmin), shared with the
//! sequential shrinker): a removal is kept while the rest stays
//! non-linearizable and explains its ops (below). Every verdict along the way
//! comes from a complete search, so the result is verified, not guessed.
//!
//! # Explained ops
//!
//! Removing ops freely tends to end at a lone read of a value nobody
//! wrote, which is not linearizable but says nothing about the bug (a
//! stale read shrinks to "read 1" once the write of 1 is gone; a cas to
//! "cas 1 -> 3"; two overlapping acquires of a lock to "release" once the
//! releaser's acquire is gone). A minimal counterexample must fail for the
//! reason the history does, not for one that removing ops created. So a
//! sub-history is kept only if it *explains its ops*: no op in it is
//! illegal on its own. Each required op can take effect after some of the
//! sub-history's ops that may precede it in real time (invoked before its
//! return) and are not read-only ([`Model::read_only`]), in some order,
//! real time among them ignored: a read of 1, or a cas from 1, needs a
//! write of 1 invoked before the read returned; a dequeue of 1 an enqueue
//! of 1. An op that needs a state only its own process sets
//! ([`Model::needs_own_process`]: a lock's release) is explained by its
//! own process's ops alone. The rule is dropped when the starting history
//! breaks it itself (the bug may be a read of a value never written). The
//! result is then *1-minimal among explained sub-histories*: it is not
//! linearizable, and removing any one of its operations makes it
//! linearizable or leaves an op unexplained.

use super::search::{Found, Item, Limits, Work};
use crate::check::ddmin::{ddmin, Trial};
use crate::model::Model;

// Budgets of work (configurations entered, plus the items of every engine
// built), never of time, so that the counterexample is the same on any
// machine and under any load. On the keys of the MIT 6.824 traces, whose
// states are long strings, a search enters about 200,000 configurations a
// second.

/// Work allowed to find out whether the starting history explains its
/// reads.
const GUARD_WORK: u64 = 50_000;
/// Work allowed to decide whether the ops invoked before the stuck op's
/// return are linearizable.
const GUESS_WORK: u64 = 50_000;
/// Configurations allowed to decide one trial sub-history: past them, the
/// trial's ops are kept (and the result is not called 1-minimal), so that
/// one hard sub-history does not stop the shrinking.
const TRIAL_CONFIGURATIONS: u64 = 10_000;
/// Configurations allowed to prove that one read is not explained.
const READ_CONFIGURATIONS: u64 = 2_000;

/// What shrinking produced.
pub(crate) struct Shrunk {
    /// Indices (into the partition's items) of the counterexample.
    pub items: Vec<usize>,
    /// True when every single removal was checked and made the history
    /// linearizable or left a read unexplained; false when the budget (or
    /// the user's time limit) ran out first.
    pub one_minimal: bool,
}

/// What [`explained`] learnt about each op.
struct Known {
    /// For an op already explained, the ops its explanation used: as long
    /// as they are all kept, it stays explained (the same order still
    /// works). Shrinking removes few ops at a time, so most checks are
    /// answered from it.
    witness: Vec<Option<Vec<usize>>>,
    /// For an op whose search ran out of its budget, how many other ops
    /// it had: the op counts as explained, without a search, until they
    /// are at most half as many (a search over orders of many ops can be
    /// exponential, and repeating it on every trial would spend the whole
    /// budget on one read).
    unknown_at: Vec<usize>,
}

impl Known {
    fn new(n: usize) -> Self {
        Known {
            witness: vec![None; n],
            unknown_at: vec![usize::MAX; n],
        }
    }
}

fn verdict<M: Model>(
    model: &M,
    items: &[Item<M::Op>],
    keep: &[usize],
    limits: &Limits,
    work: &mut Work,
    cap: u64,
) -> Found {
    let sub: Vec<Item<M::Op>> = keep.iter().map(|&i| items[i].clone()).collect();
    work.search(model, &sub, limits, cap)
}

/// Can every required op of `keep` take effect after some of the other
/// ops of `keep` that may explain it (see the module docs), in some order
/// (real time among them ignored)? An op counts as explained unless a search proves it is not
/// within [`READ_CONFIGURATIONS`] (proving that can take an exhaustive
/// search over orders of many ops, while on the small sub-histories
/// shrinking ends with it is quick). `None` when `limits` or `work` ran
/// out.
///
/// `known` remembers what earlier calls found (see [`Known`]), so that
/// most checks need no search.
fn explained<M: Model>(
    model: &M,
    items: &[Item<M::Op>],
    keep: &[usize],
    known: &mut Known,
    limits: &Limits,
    work: &mut Work,
) -> Option<bool> {
    let mut kept = vec![false; items.len()];
    for &i in keep {
        kept[i] = true;
    }
    let others: Vec<usize> = keep
        .iter()
        .copied()
        .filter(|&i| !model.read_only(&items[i].op))
        .collect();
    for &r in keep.iter().filter(|&&r| !items[r].optional()) {
        // The ops that may explain `r`.
        let own = model.needs_own_process(&items[r].op);
        let ids: Vec<usize> = others
            .iter()
            .copied()
            .filter(|&i| {
                i != r
                    && items[i].invoke < items[r].ret
                    && (!own || items[i].process == items[r].process)
            })
            .collect();
        if known.witness[r]
            .as_ref()
            .is_some_and(|w| w.iter().all(|&i| kept[i]))
            || ids.len() > known.unknown_at[r] / 2
        {
            continue;
        }
        if limits.expired() || work.spent() {
            return None;
        }
        // The others may take effect at any time, or never; `r` must take
        // effect, at any time.
        let mut sub: Vec<Item<M::Op>> = ids
            .iter()
            .map(|&i| Item {
                invoke: 0,
                ret: usize::MAX,
                ..items[i].clone()
            })
            .collect();
        sub.push(Item {
            invoke: 0,
            ret: 1,
            ..items[r].clone()
        });
        match work.search(model, &sub, limits, READ_CONFIGURATIONS) {
            Found::Linearizable(order) => {
                let used = order
                    .iter()
                    .filter(|&&k| (k as usize) < ids.len())
                    .map(|&k| ids[k as usize])
                    .collect();
                known.witness[r] = Some(used);
            }
            Found::NotLinearizable { .. } => return Some(false),
            // Not proven unexplained within its budget: it counts as
            // explained, and is looked at again on sub-histories half as
            // large.
            Found::Unknown { .. } if !limits.expired() && !work.spent() => {
                known.unknown_at[r] = ids.len()
            }
            Found::Unknown { .. } => return None,
        }
    }
    Some(true)
}

/// Shrinks `items` (known not linearizable). `first` is its first
/// failure, when known: no order gets past that item's return. `hint`
/// lists ops a refuting search looked at (or nothing): when they alone
/// are not linearizable, shrinking starts from them. Shrinking does at
/// most `budget` units of work (see [`Work`]).
pub(crate) fn shrink<M: Model>(
    model: &M,
    items: &[Item<M::Op>],
    first: Option<usize>,
    hint: &[usize],
    limits: &Limits,
    budget: u64,
) -> Shrunk {
    let mut work = Work::new(budget);
    // A trial whose search runs out of its own budget (not the whole
    // budget) is undecided: its ops are kept.
    let refuted = |keep: &[usize], work: &mut Work| -> Trial {
        match verdict(model, items, keep, limits, work, TRIAL_CONFIGURATIONS) {
            Found::NotLinearizable { .. } => Trial::Fails,
            Found::Linearizable(_) => Trial::Passes,
            Found::Unknown { .. } if limits.expired() || work.spent() => Trial::Stop,
            Found::Unknown { .. } => Trial::Undecided,
        }
    };
    // Nothing invoked after the first failure's return can matter (no
    // order got past that return): start from the ops invoked before it,
    // if they are not linearizable by themselves.
    let all: Vec<usize> = (0..items.len()).collect();
    let mut keep = match first {
        Some(first) => {
            let bound = items[first].ret;
            let prefix: Vec<usize> = (0..items.len())
                .filter(|&i| items[i].invoke < bound)
                .collect();
            let found = work.stage(GUESS_WORK, |w| {
                verdict(model, items, &prefix, limits, w, u64::MAX)
            });
            match found {
                Found::NotLinearizable { .. } => prefix,
                _ => all,
            }
        }
        None => all,
    };
    // The ops the refuting search looked at, among those, are often a
    // small counterexample already: when they are not linearizable and
    // explain their reads, shrinking starts from them, under the rule
    // that every op stays explained.
    let mut kept = vec![false; items.len()];
    for &i in &keep {
        kept[i] = true;
    }
    let hint: Vec<usize> = hint.iter().copied().filter(|&i| kept[i]).collect();
    let mut known = Known::new(items.len());
    let hint_refuted =
        !hint.is_empty() && hint.len() < keep.len() && refuted(&hint, &mut work) == Trial::Fails;
    let guard = if hint_refuted
        && work.stage(GUARD_WORK, |w| {
            explained(model, items, &hint, &mut known, limits, w)
        }) == Some(true)
    {
        keep = hint;
        true
    } else {
        // Whether the starting history explains its reads is found out
        // within a part of the budget: proving that a read has no
        // explanation can take an exhaustive search, and shrinking
        // without the guard beats not shrinking. Without it, the ops
        // the search looked at are a start if they are not linearizable.
        let guard = work.stage(GUARD_WORK, |w| {
            explained(model, items, &keep, &mut known, limits, w)
        }) != Some(false);
        if !guard && hint_refuted {
            keep = hint;
        }
        guard
    };
    // The failing op is the last one tried for removal, so that the
    // counterexample keeps the op the report names when another op would
    // do as well (two stale reads of one write, say).
    if let Some(at) = first.and_then(|f| keep.iter().position(|&i| i == f)) {
        let f = keep.remove(at);
        keep.push(f);
    }
    // A sub-history counts when it is not linearizable and, under the
    // guard, explains its reads.
    let (mut items, one_minimal) = ddmin(keep, |trial| match refuted(trial, &mut work) {
        Trial::Fails if guard => {
            match explained(model, items, trial, &mut known, limits, &mut work) {
                Some(true) => Trial::Fails,
                Some(false) => Trial::Passes,
                None => Trial::Stop,
            }
        }
        t => t,
    });
    items.sort_unstable();
    Shrunk { items, one_minimal }
}
