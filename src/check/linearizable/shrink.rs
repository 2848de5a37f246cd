//! Shrinking a non-linearizable partition to a minimal counterexample.
//!
//! Delta debugging (Zeller & Hildebrandt's ddmin, simplified): remove
//! chunks of operations while the rest stays non-linearizable, halving the
//! chunk size down to single operations, then repeat single removals until
//! none keeps the history non-linearizable. The result is *1-minimal*: it is
//! not linearizable, and removing any one of its operations makes it
//! linearizable. Every verdict along the way comes from a complete search,
//! so the result is verified, not guessed.

use super::search::{Engine, Found, Item, Limits};
use crate::model::Model;

/// What shrinking produced.
pub(crate) struct Shrunk {
    /// Indices (into the partition's items) of the counterexample.
    pub items: Vec<usize>,
    /// True when every single removal was checked and made the history
    /// linearizable; false when time ran out first.
    pub one_minimal: bool,
}

fn verdict<M: Model>(model: &M, items: &[Item<M::Op>], keep: &[usize], limits: &Limits) -> Found {
    let sub: Vec<Item<M::Op>> = keep.iter().map(|&i| items[i].clone()).collect();
    Engine::new(model, &sub).search(limits)
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
    let invalid = |keep: &[usize]| -> Option<bool> {
        match verdict(model, items, keep, limits) {
            Found::NotLinearizable { .. } => Some(true),
            Found::Linearizable(_) => Some(false),
            Found::Unknown { .. } => None,
        }
    };
    match invalid(&keep) {
        Some(true) => {}
        _ => {
            keep = (0..items.len()).collect();
        }
    }
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
