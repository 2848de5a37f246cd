//! Shrinking a non-linearizable partition to a minimal counterexample.
//!
//! Delta debugging (Zeller & Hildebrandt's ddmin, simplified): remove
//! chunks of operations while the rest stays non-linearizable, halving the
//! chunk size down to single operations, then repeat single removals until
//! none keeps the history non-linearizable. Every verdict along the way
//! comes from a complete search, so the result is verified, not guessed.
//!
//! # Explained ops
//!
//! Removing ops freely tends to end at a lone read of a value nobody
//! wrote, which is not linearizable but says nothing about the bug (a
//! stale read shrinks to "read 1" once the write of 1 is gone; a cas to
//! "cas 1 -> 3"). So a sub-history is kept only if it *explains its ops*:
//! each required op can take effect after some of the sub-history's other
//! ops that are not read-only ([`Model::read_only`]), in some order, real
//! time ignored (a read of 1, or a cas from 1, needs a write of 1). The
//! rule is dropped when the starting history breaks it itself (the bug
//! may be a read of a value never written). The result is then
//! *1-minimal among explained sub-histories*: it is not linearizable, and
//! removing any one of its operations makes it linearizable or leaves an
//! op unexplained.

use super::search::{Engine, Found, Item, Limits};
use crate::model::Model;
use std::time::Duration;

/// Time allowed to find out whether the starting history explains its
/// reads.
const GUARD_BUDGET: Duration = Duration::from_millis(250);
/// Time allowed to prove that one read is not explained.
const READ_BUDGET: Duration = Duration::from_millis(10);

/// What shrinking produced.
pub(crate) struct Shrunk {
    /// Indices (into the partition's items) of the counterexample.
    pub items: Vec<usize>,
    /// True when every single removal was checked and made the history
    /// linearizable or left a read unexplained; false when time ran out
    /// first.
    pub one_minimal: bool,
}

fn verdict<M: Model>(model: &M, items: &[Item<M::Op>], keep: &[usize], limits: &Limits) -> Found {
    // Building an engine takes time on long histories: look at the clock
    // before each one, not only inside searches.
    if limits.expired() {
        return Found::Unknown {
            stuck: None,
            depth: 0,
        };
    }
    let sub: Vec<Item<M::Op>> = keep.iter().map(|&i| items[i].clone()).collect();
    Engine::new(model, &sub).search(limits)
}

/// Can every required op of `keep` take effect after some of the other
/// ops of `keep` that are not read-only, in some order (real time
/// ignored)? An op counts as explained unless a search proves it is not
/// within [`READ_BUDGET`] (proving that can take an exhaustive search over
/// orders of many ops, while on the small sub-histories shrinking ends
/// with it is quick). `None` when `limits` ran out.
///
/// `witness[r]` remembers, for an op `r` already explained, the ops its
/// explanation used: as long as they are all kept, `r` stays explained
/// (the same order still works), and no search is needed. Shrinking
/// removes few ops at a time, so most checks are answered from it.
fn explained<M: Model>(
    model: &M,
    items: &[Item<M::Op>],
    keep: &[usize],
    witness: &mut [Option<Vec<usize>>],
    limits: &Limits,
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
        if witness[r]
            .as_ref()
            .is_some_and(|w| w.iter().all(|&i| kept[i]))
        {
            continue;
        }
        if limits.expired() {
            return None;
        }
        // The others may take effect at any time, or never; `r` must take
        // effect, at any time.
        let ids: Vec<usize> = others.iter().copied().filter(|&i| i != r).collect();
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
        match Engine::new(model, &sub).search(&limits.within(READ_BUDGET)) {
            Found::Linearizable(order) => {
                let used = order
                    .iter()
                    .filter(|&&k| (k as usize) < ids.len())
                    .map(|&k| ids[k as usize])
                    .collect();
                witness[r] = Some(used);
            }
            Found::NotLinearizable { .. } => return Some(false),
            // Not proven unexplained within its budget: it counts as
            // explained, and is looked at again on smaller sub-histories.
            Found::Unknown { .. } if !limits.expired() => {}
            Found::Unknown { .. } => return None,
        }
    }
    Some(true)
}

/// Shrinks `items` (known not linearizable, stuck at item `stuck`).
pub(crate) fn shrink<M: Model>(
    model: &M,
    items: &[Item<M::Op>],
    stuck: usize,
    limits: &Limits,
) -> Shrunk {
    // Nothing invoked after the stuck op's return can matter: the search
    // never got past that return.
    let bound = items[stuck].ret;
    let mut keep: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].invoke < bound)
        .collect();
    let refuted = |keep: &[usize]| -> Option<bool> {
        match verdict(model, items, keep, limits) {
            Found::NotLinearizable { .. } => Some(true),
            Found::Linearizable(_) => Some(false),
            Found::Unknown { .. } => None,
        }
    };
    match refuted(&keep) {
        Some(true) => {}
        _ => {
            keep = (0..items.len()).collect();
        }
    }
    // Whether the starting history explains its reads is found out within
    // a part of the budget: proving that a read has no explanation can
    // take an exhaustive search, and shrinking without the guard beats
    // not shrinking.
    let mut witness = vec![None; items.len()];
    let guard = explained(
        model,
        items,
        &keep,
        &mut witness,
        &limits.within(GUARD_BUDGET),
    ) != Some(false);
    // A sub-history counts when it is not linearizable and, under the
    // guard, explains its reads.
    let mut invalid = |keep: &[usize]| -> Option<bool> {
        match refuted(keep)? {
            true if guard => explained(model, items, keep, &mut witness, limits),
            v => Some(v),
        }
    };
    let mut chunk = keep.len().div_ceil(2).max(1);
    loop {
        let mut start = 0;
        while start < keep.len() {
            let end = (start + chunk).min(keep.len());
            let trial: Vec<usize> = keep[..start].iter().chain(&keep[end..]).copied().collect();
            match invalid(&trial) {
                Some(true) => keep = trial,
                Some(false) => start = end,
                None => {
                    return Shrunk {
                        items: keep,
                        one_minimal: false,
                    }
                }
            }
        }
        if chunk == 1 {
            break;
        }
        chunk = chunk.div_ceil(2);
    }
    // The chunk-size-1 pass left every single removal linearizable, except
    // that a removal late in the pass may have enabled an earlier one;
    // repeat until a full pass removes nothing.
    loop {
        let mut removed = false;
        let mut i = 0;
        while i < keep.len() {
            let trial: Vec<usize> = keep
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, &x)| x)
                .collect();
            match invalid(&trial) {
                Some(true) => {
                    keep = trial;
                    removed = true;
                }
                Some(false) => i += 1,
                None => {
                    return Shrunk {
                        items: keep,
                        one_minimal: false,
                    }
                }
            }
        }
        if !removed {
            return Shrunk {
                items: keep,
                one_minimal: true,
            };
        }
    }
}
