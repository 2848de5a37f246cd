//! Rule 10, **objects**: a configuration fails when one object's part of
//! it cannot be completed on its own.
//!
//! For a model of independent objects ([`Model::object`]) checked as one
//! (a keyed history with `--one-object`), when the search places an op
//! of object `k`, reaching the configuration `C = (L, s)`, it asks
//! whether `k`'s part of `C` can be completed alone: the ops of `k` not
//! in `L`, in an order that keeps real time among them, from `s`, every
//! required one placed and the indeterminate ones optional. If not, `C`
//! fails. At the start of the search every object is asked once, from the
//! initial state with nothing placed.
//!
//! *Proof (necessary).* Take any successful continuation of `C` and keep
//! only its ops of object `k`. Real time among them is kept (a
//! sub-sequence of an order that keeps it); every required op of `k`
//! outside `L` is in it. Ops of other objects neither change `k`'s state
//! nor depend on it ([`Model::object`]'s contract), so each op of `k`
//! sees the same state of `k` as in the whole continuation, and is
//! accepted. So the restricted sequence completes `k`'s part: if `k`'s
//! part cannot be completed, neither can `C`. The answer is asked of a
//! search over `k`'s ops from [`Model::restrict`]`(s, k)`, which accepts
//! the same sequences of `k`'s ops as `s` (the hook's contract); that
//! search is complete, and runs with every rule but this one (its items
//! are one object), all of which keep a success when there is one.
//!
//! So the rule removes only configurations without a successful
//! continuation. The memo (rule 1) and rule 7 record a configuration as
//! failed only when its exploration is exhausted, which, as for every
//! other rule, happens only when it has no successful continuation. A
//! final-path search (with `stop`) is not about completions, so the rule
//! is off there: the recorded states never change.
//!
//! *Sufficient too.* By locality (Herlihy & Wing 1990), if every
//! object's part of `C` can be completed, so can `C`: the remaining ops
//! are intervals (an indeterminate one ends at the end of time), their
//! real-time order is an interval order, and the union of the objects'
//! completion orders with it is acyclic, so one order extends them all;
//! with the ops of `L` first it keeps real time (the search placed them
//! only while no remaining op had returned before their invocation), and
//! each object's ops see the states of its own completion. Placing an op
//! of `k` leaves the other objects' parts unchanged, so once the root has
//! passed, every configuration the search enters can be completed: the
//! search only backtracks over the candidates this rule refuses.
//!
//! # Cost and sharing
//!
//! The answer for `k` depends only on the ops of `k` in `L` and on
//! `restrict(s, k)`: it is cached under the fingerprint of `L`'s ops of
//! `k` (kept per object as ops are placed and undone) and the interned
//! restricted state. A failure or a success is a fact about that part,
//! valid for the rest of the search, whatever the other objects do; so
//! one object's dead ends are found once, not once per interleaving of
//! the other objects' ops. Each object has its own engine over its own
//! ops, reused from one question to the next (its rule 7 records are
//! facts too). The cache is dropped when it outgrows its bound; the
//! questions count against the search's deadline and cancel flags.

use super::{Engine, Found, Item, Limits};
use crate::check::linearizable::memo::{Fingerprint, FxBuild};
use crate::model::Model;
use std::collections::HashMap;

/// The cache and its interned states are dropped past this many bytes.
const CACHE_BYTES_CAP: usize = 1 << 27;

/// The dense object of each item, when the rule applies to `items`: every
/// item has an object and there are at least two. Returns the objects'
/// ids (as [`Model::object`] gives them) and each item's index among
/// them.
pub(super) fn objects<M: Model>(model: &M, items: &[Item<M::Op>]) -> Option<(Vec<u32>, Vec<u32>)> {
    let mut ids: Vec<u32> = Vec::new();
    let mut dense: HashMap<u32, u32, FxBuild> = HashMap::default();
    let mut of = Vec::with_capacity(items.len());
    for it in items {
        let o = model.object(&it.op)?;
        let d = *dense.entry(o).or_insert_with(|| {
            ids.push(o);
            (ids.len() - 1) as u32
        });
        of.push(d);
    }
    (ids.len() >= 2).then_some((ids, of))
}

/// Each object's items, in the partition's order, by dense object.
pub(super) fn split<O: Clone>(items: &[Item<O>], of: &[u32], n: usize) -> Vec<Vec<Item<O>>> {
    let mut parts = vec![Vec::new(); n];
    for (it, &k) in items.iter().zip(of) {
        parts[k as usize].push(it.clone());
    }
    parts
}

/// The per-object engines and the cache of their answers, for one search.
pub(super) struct Lookahead<'b, M: Model> {
    model: &'b M,
    /// The objects' ids, by dense index.
    ids: Vec<u32>,
    /// Per object: the partition's indices of its items.
    members: Vec<Vec<u32>>,
    engines: Vec<Engine<'b, M>>,
    /// (object, fingerprint of its placed ops, restricted state) → can it
    /// be completed?
    cache: HashMap<(u32, u64, u64, u32), bool, FxBuild>,
    states: HashMap<M::State, u32, FxBuild>,
    bytes: usize,
    scratch: Vec<u32>,
    /// Questions asked, and those the cache did not answer.
    pub(super) asked: u64,
    pub(super) searched: u64,
}

impl<'b, M: Model> Lookahead<'b, M> {
    /// Engines over `parts` (from [`split`]).
    pub(super) fn new(
        model: &'b M,
        ids: Vec<u32>,
        of: &[u32],
        parts: &'b [Vec<Item<M::Op>>],
    ) -> Self {
        let mut members = vec![Vec::new(); parts.len()];
        for (i, &k) in of.iter().enumerate() {
            members[k as usize].push(i as u32);
        }
        Lookahead {
            model,
            ids,
            members,
            engines: parts.iter().map(|p| Engine::new(model, p)).collect(),
            cache: HashMap::default(),
            states: HashMap::default(),
            bytes: 0,
            scratch: Vec::new(),
            asked: 0,
            searched: 0,
        }
    }

    /// The number of objects.
    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    /// Can object `k`'s part be completed, where its placed ops are those
    /// `placed` says (plus `extra`, if it is one of `k`'s), their
    /// fingerprint is `fp` (with `extra`) and the state is `state`?
    /// `Err` carries the object's search result when it was not a
    /// success: `NotLinearizable` (with the object's own item index) or
    /// `Unknown` (the limits ran out).
    pub(super) fn completable(
        &mut self,
        k: u32,
        fp: Fingerprint,
        placed: &[bool],
        extra: Option<u32>,
        state: &M::State,
        limits: &Limits<'_>,
    ) -> Result<(), Found> {
        self.asked += 1;
        let ku = k as usize;
        let rs = self.model.restrict(state, self.ids[ku]);
        let rid = match self.states.get(&rs) {
            Some(&id) => id,
            None => {
                if self.bytes > CACHE_BYTES_CAP {
                    self.cache.clear();
                    self.states.clear();
                    self.bytes = 0;
                }
                self.bytes +=
                    2 * std::mem::size_of::<M::State>() + self.model.state_heap_bytes(&rs);
                let id = self.states.len() as u32;
                self.states.insert(rs.clone(), id);
                id
            }
        };
        let key = (k, fp.0, fp.1, rid);
        if let Some(&ok) = self.cache.get(&key) {
            return if ok {
                Ok(())
            } else {
                Err(Found::NotLinearizable { stuck: super::NONE })
            };
        }
        // A question may take a while, and the caller polls the limits
        // only every few thousand steps.
        if limits.expired() {
            return Err(Found::Unknown {
                stuck: None,
                depth: 0,
            });
        }
        self.searched += 1;
        self.scratch.clear();
        for (j, &i) in self.members[ku].iter().enumerate() {
            if placed[i as usize] || extra == Some(i) {
                self.scratch.push(j as u32);
            }
        }
        let inner = Limits {
            progress: None,
            ..*limits
        };
        let found = self.engines[ku].search_from(&self.scratch, rs, &inner);
        match found {
            Found::Linearizable(_) => {
                self.bytes += 48;
                self.cache.insert(key, true);
                Ok(())
            }
            Found::NotLinearizable { .. } => {
                self.bytes += 48;
                self.cache.insert(key, false);
                Err(found)
            }
            Found::Unknown { .. } => Err(found),
        }
    }

    /// The partition's index of object `k`'s item `j`.
    pub(super) fn member(&self, k: u32, j: u32) -> u32 {
        self.members[k as usize][j as usize]
    }

    /// The killer (rule 8) that refuted object `k` on its own, if any, by
    /// the partition's index.
    pub(super) fn killer(&self, k: u32) -> Option<u32> {
        self.engines[k as usize].killer.map(|y| self.member(k, y))
    }
}
