//! Sharding a keyed history by key, so that its keys can be checked by
//! several processes or machines and the reports merged.
//!
//! Linearizability is local (Herlihy & Wing 1990): a history is
//! linearizable exactly when each object's sub-history is, and so a
//! keyed history can be decided key by key (P-compositionality, Horn &
//! Kroening 2015). The convergence analysis is per key too. Sequential
//! consistency is not local, and is never sharded.
//!
//! Shard `I/N` takes the keys whose place `k` in the history's *key
//! order* (the keys of its client operations, sorted; an unkeyed history
//! has one key, none) satisfies `k mod N == I`. Every shard loads the
//! whole history, so the operation ids and lines in its evidence are the
//! whole file's, and a checker's view of each of its keys is the one a
//! run over the whole history has.

use crate::history::{History, Value};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashSet};

/// One shard of `count`: the keys at places `index`, `index + count`, ...
/// of the key order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// Which shard, from 0.
    pub index: usize,
    /// How many shards.
    pub count: usize,
}

impl Shard {
    /// Parses `I/N` (`0/4`), with `I < N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("{text:?}: expected a shard I/N with 0 <= I < N, such as 0/4");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Does this shard take the key at place `k` of the key order?
    pub fn takes(&self, k: usize) -> bool {
        k % self.count == self.index
    }

    /// The keys of `history` this shard checks.
    pub fn keys<'h>(&self, history: &'h History) -> HashSet<Option<&'h Value>> {
        let order: BTreeSet<Option<&Value>> =
            history.operations.iter().map(|o| history.key(o)).collect();
        order
            .into_iter()
            .enumerate()
            .filter(|&(k, _)| self.takes(k))
            .map(|(_, key)| key)
            .collect()
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_shards_that_exist() {
        assert_eq!(Shard::parse("1/3"), Ok(Shard { index: 1, count: 3 }));
        for bad in ["3/3", "0/0", "1", "a/2", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_place_falls_to_exactly_one_shard() {
        for k in 0..20 {
            let takers = (0..3)
                .filter(|&i| Shard { index: i, count: 3 }.takes(k))
                .count();
            assert_eq!(takers, 1);
        }
    }
}
