//! The search's memory: 128-bit Zobrist keys for configurations and a
//! bounded, lossy table of the configurations already explored.
//!
//! A configuration is (how far each process has got, the state of every
//! key). Its key is the XOR of one random 128-bit word per (process,
//! position) and one per (key, state id). Moving one process forward or
//! changing one key's state XORs one word out and one in, so the key is
//! kept up to date in O(1) per step, never recomputed from the whole
//! position vector (Zobrist 1970; Horn & Kroening 2015 use the same idea
//! with 64 bits for linearizability).
//!
//! Only the key is stored, not the configuration, so two configurations
//! with equal keys are confused. Two distinct configurations differ in at
//! least two of the random words, so their keys differ by the XOR of
//! independent uniform words: they collide with probability 2^-128. Over a
//! search that stores n keys the chance of any false hit is below
//! n^2 / 2^129: under 2^-80 for n = 2^24. A false hit could only make the
//! search skip a configuration it has not explored (a wrong "invalid"), so
//! 128 bits are used rather than 64.
//!
//! The table holds at most a fixed number of keys. When a bucket is full a
//! key is overwritten: forgetting that a configuration failed only costs
//! time (it may be explored again), never correctness.

use crate::memory::{self, Budget};
use std::hash::{BuildHasherDefault, Hasher};

/// splitmix64: a fast, well-mixed 64-bit permutation (Steele et al. 2014).
#[inline]
pub(crate) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A pseudo-random 128-bit word determined by `a` and `b`.
#[inline]
pub(crate) fn word(a: u64, b: u64) -> u128 {
    let x = splitmix(a.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ splitmix(b));
    let y = splitmix(x ^ 0x6a09_e667_f3bc_c909);
    ((x as u128) << 64) | y as u128
}

/// The word for key `key` being in state `state`.
#[inline]
pub(crate) fn state_word(key: u32, state: u32) -> u128 {
    word(0x5eed_0000_0000_0000 | key as u64, state as u64)
}

/// The words for every (process, position): `offsets[p] + i` indexes the
/// word for process `p` having placed `i` ops.
pub(crate) struct Zobrist {
    offsets: Vec<usize>,
    words: Vec<u128>,
}

impl Zobrist {
    /// Words for processes of the given lengths (positions `0..=len`).
    pub(crate) fn new(lens: &[usize]) -> Zobrist {
        let mut offsets = Vec::with_capacity(lens.len());
        let mut words = Vec::with_capacity(lens.iter().map(|l| l + 1).sum());
        for (p, &len) in lens.iter().enumerate() {
            offsets.push(words.len());
            for i in 0..=len {
                words.push(word(p as u64 + 1, i as u64));
            }
        }
        Zobrist { offsets, words }
    }

    /// The key of a root configuration: every process at position 0, and
    /// key `k` in state `states[k]`.
    pub(crate) fn root(&self, states: &[u32]) -> u128 {
        let mut hash = 0u128;
        for p in 0..self.offsets.len() {
            hash ^= self.at(p, 0);
        }
        for (k, &s) in states.iter().enumerate() {
            hash ^= state_word(k as u32, s);
        }
        hash
    }

    /// The word for process `p` at position `i`.
    #[inline]
    pub(crate) fn at(&self, p: usize, i: usize) -> u128 {
        self.words[self.offsets[p] + i]
    }
}

/// Slots per bucket: four 16-byte keys fill one 64-byte cache line.
const BUCKET: usize = 4;

/// A set of 128-bit keys with a size cap; key 0 marks an empty slot.
///
/// Apart from the linearizability search's memo
/// (`check::linearizable::memo::Memo`) because the two differ in what they
/// store and how: a configuration here has a state per key, all folded
/// into its one Zobrist key, where there it is one set and one interned
/// state id stored side by side (the memo is cleared when those ids are
/// renumbered); this search records a configuration on entry and must
/// [`Memo::remove`] those its real-time pass gives up, where that one
/// records only configurations left exhausted and never removes one; and
/// a full bucket here loses a slot the key picks, where that one probes
/// four buckets, then forgets its home bucket's oldest entry.
pub(crate) struct Memo {
    slots: Vec<u128>,
    mask: usize,
    len: usize,
    cap_slots: usize,
    /// The table doubles only within this budget (see [`Memo::grow`]).
    budget: Option<Budget>,
}

impl Memo {
    /// An empty table that grows up to `max_entries` keys (a power of two
    /// is used), then evicts; it doubles only while `budget` has room
    /// for the doubled table.
    pub(crate) fn new(max_entries: usize, budget: Option<&Budget>) -> Memo {
        let cap_slots = max_entries.max(1 << 10).next_power_of_two();
        let start = (1 << 12).min(cap_slots);
        Memo {
            slots: vec![0; start],
            mask: start / BUCKET - 1,
            len: 0,
            cap_slots,
            budget: budget.cloned(),
        }
    }

    #[inline]
    fn fix(key: u128) -> u128 {
        if key == 0 {
            1
        } else {
            key
        }
    }

    /// Is `key` in the table?
    #[inline]
    pub(crate) fn contains(&self, key: u128) -> bool {
        let key = Self::fix(key);
        let b = (key as usize & self.mask) * BUCKET;
        self.slots[b..b + BUCKET].contains(&key)
    }

    /// Adds `key`, evicting an older key if its bucket is full and the table
    /// has reached its cap.
    pub(crate) fn insert(&mut self, key: u128) {
        let key = Self::fix(key);
        if self.len * 2 >= self.slots.len() && self.slots.len() < self.cap_slots {
            self.grow();
        }
        let b = (key as usize & self.mask) * BUCKET;
        let bucket = &mut self.slots[b..b + BUCKET];
        for s in bucket.iter_mut() {
            if *s == key {
                return;
            }
            if *s == 0 {
                *s = key;
                self.len += 1;
                return;
            }
        }
        // Full bucket: overwrite a slot chosen by other bits of the key.
        bucket[(key >> 64) as usize % BUCKET] = key;
    }

    /// Removes `key` if present.
    pub(crate) fn remove(&mut self, key: u128) {
        let key = Self::fix(key);
        let b = (key as usize & self.mask) * BUCKET;
        for s in &mut self.slots[b..b + BUCKET] {
            if *s == key {
                *s = 0;
                self.len -= 1;
                return;
            }
        }
    }

    /// Doubles the table; when the budget has no room for the doubled
    /// one (or the system refuses it), the table stays as it is and its
    /// size becomes its cap: it only evicts more, which costs time, never
    /// a verdict.
    fn grow(&mut self) {
        let n = self.slots.len() * 2;
        let Some(doubled) = memory::try_filled(self.budget.as_ref(), n, 0) else {
            self.cap_slots = self.slots.len();
            return;
        };
        let old = std::mem::replace(&mut self.slots, doubled);
        self.mask = n / BUCKET - 1;
        self.len = 0;
        for k in old.into_iter().filter(|&k| k != 0) {
            self.insert(k);
        }
    }

    /// How many keys are stored.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// FxHash-style hasher for the search's internal maps: small integer keys
/// and model states, hashed millions of times.
#[derive(Clone, Copy, Default)]
pub(crate) struct Fx(u64);

const FX_K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for Fx {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.write_u64(u64::from_le_bytes(w) ^ (rest.len() as u64) << 56);
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.write_u64(i as u64)
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64)
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(FX_K);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64)
    }
    #[inline]
    fn finish(&self) -> u64 {
        // A final mix so that low bits (used by hash tables) depend on all.
        splitmix(self.0)
    }
}

/// A `HashMap` with the [`Fx`] hasher.
pub(crate) type FxMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<Fx>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memo_remembers_and_stays_bounded() {
        let mut m = Memo::new(1 << 10, None);
        for i in 0..200u64 {
            m.insert(word(i, 7));
        }
        for i in 0..200u64 {
            assert!(m.contains(word(i, 7)));
        }
        assert!(!m.contains(word(999, 7)));
        // Removing forgets one key and only it.
        m.remove(word(5, 7));
        m.remove(word(999, 7));
        assert!(!m.contains(word(5, 7)));
        assert_eq!(m.len(), 199);
        assert!((0..200u64)
            .filter(|&i| i != 5)
            .all(|i| m.contains(word(i, 7))));
        for i in 0..100_000u64 {
            m.insert(word(i, 8));
        }
        assert!(m.len() <= 1 << 10);
        assert!(m.contains(word(99_999, 8)), "the newest key is kept");
    }

    #[test]
    fn zobrist_words_differ() {
        let z = Zobrist::new(&[3, 2]);
        let mut all: Vec<u128> = (0..=3).map(|i| z.at(0, i)).collect();
        all.extend((0..=2).map(|i| z.at(1, i)));
        all.push(state_word(0, 0));
        all.push(state_word(1, 0));
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
    }
}
