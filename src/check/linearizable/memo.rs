//! The memo of configurations already explored, and the hashing it needs.
//!
//! A configuration is (set of linearized operations, model state). The set
//! is named by a 128-bit fingerprint kept incrementally (Horn & Kroening
//! 2015): every operation gets two independent pseudo-random 64-bit words,
//! and the fingerprint of a set is the XOR of its members' words, updated
//! in O(1) when an operation is linearized or undone. The state is named by
//! its interned id. The table takes the precomputed fingerprint as its hash:
//! nothing is rehashed and nothing is allocated per lookup.
//!
//! # False hits
//!
//! Two different sets share a fingerprint only if the XOR of the words of
//! their symmetric difference is zero. The table stores 96 of the 128 bits
//! (the first word and the low half of the second), to keep its slots at
//! 16 bytes. For words drawn uniformly and independently, two given distinct
//! sets then look alike with probability 2^-96. A search that performs L
//! lookups against at most E stored entries compares at most L * E pairs, so
//! the chance of any false hit is at most L * E / 2^96: below 2^-49 for 10^7
//! lookups against 10^7 entries (a million-op search), and below 2^-36 even
//! for 10^9 against 10^9. A false hit could only prune a branch (never accept a
//! history), so the bound is on a wrong "not linearizable", which is then
//! far less likely than a hardware fault. The words come from SplitMix64
//! with a fixed seed, so runs are reproducible.
//!
//! # Memory
//!
//! The table holds at most about `cap` entries. It doubles when three
//! quarters full, or when a look-up finds every bucket it reads full past
//! half full; at its bound, or for such a cluster below half full, a new
//! entry takes the place of an old one (the oldest of its bucket):
//! forgetting configurations is safe, because the memo only prunes
//! configurations already known to fail; a forgotten one makes the search
//! redo work, never reach a different verdict. Memory touched for the
//! first time is dear on virtual machines (a page fault each 4 KiB), so
//! the table is kept small: the search records only the configurations
//! it left exhausted, not every one it entered.

use crate::memory::{self, Budget};

/// SplitMix64: a small, well-mixed generator for the per-operation words.
pub(crate) struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64-bit word.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A fast non-cryptographic hasher for interning model states (FxHash's
/// multiply-rotate scheme).
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn finish(&self) -> u64 {
        // A final avalanche so the low bits hashbrown uses are well mixed.
        let mut z = self.0;
        z = (z ^ (z >> 33)).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
        z ^ (z >> 33)
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        for &b in chunks.remainder() {
            self.add(b as u64);
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64)
    }
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64)
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i)
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64)
    }
    fn write_i64(&mut self, i: i64) {
        self.add(i as u64)
    }
}

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x517C_C1B7_2722_0A95);
    }
}

/// Builds [`FxHasher`]s.
pub(crate) type FxBuild = std::hash::BuildHasherDefault<FxHasher>;

/// A 128-bit fingerprint of a set of operations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Fingerprint(pub u64, pub u64);

impl Fingerprint {
    /// Toggles one member in or out.
    #[inline]
    pub(crate) fn toggle(&mut self, word: Fingerprint) {
        self.0 ^= word.0;
        self.1 ^= word.1;
    }
}

/// One slot: the set's fingerprint (its first word and the low half of
/// its second: 96 bits, so two of a search's few million sets collide with
/// odds below 10^-15) and the interned state id; `EMPTY` in `state` marks
/// a free slot. Sixteen bytes: four slots to a cache line, and half the
/// memory traffic of the full fingerprint, which matters because nearly
/// every look-up of a long search misses the cache.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Slot {
    a: u64,
    b: u32,
    state: u32,
}

const EMPTY: u32 = u32::MAX;

impl Slot {
    fn of(fp: Fingerprint, state: u32) -> Slot {
        Slot {
            a: fp.0,
            b: fp.1 as u32,
            state,
        }
    }
}

/// Where a configuration's entry goes in a table of `len` (a power of
/// two) places. The fingerprint's words are already uniformly mixed; the
/// state id is folded in so equal sets with different states spread out.
#[inline]
fn home(fp: Fingerprint, state: u32, len: usize) -> usize {
    ((fp.0 ^ (state as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) as usize) & (len - 1)
}

const FREE: Slot = Slot {
    a: 0,
    b: 0,
    state: EMPTY,
};

/// Four slots in one cache line, oldest first: a look-up reads one line.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Bucket([Slot; WAYS]);

const WAYS: usize = 4;

/// Buckets looked at per look-up: an entry whose bucket is full goes to
/// the next one, up to this many (below the bound, the table grows
/// rather than fill them all).
const PROBES: usize = 4;

/// A set of (fingerprint, state) in buckets of four slots, probed
/// linearly. It doubles when three quarters full (or when a look-up finds
/// its buckets full past half full), up to a bound; below the bound it
/// forgets only an entry of a rare full cluster. At the bound, an entry
/// that finds its buckets full takes the place of the oldest entry of its
/// own bucket, so the table keeps the configurations recorded most
/// recently. That suits the search, whose revisits are mostly of
/// configurations left a moment before (other orders of the same few
/// concurrent operations).
///
/// Apart from the sequential search's memo
/// (`check::sequential::memo::Memo`) because the two differ in what they
/// store and how: a configuration here is one set and one interned state,
/// kept side by side so that [`Latest`] shares the key and a renumbering
/// of the states can [`Memo::clear`] it, where there a state per key is
/// folded into one Zobrist key; and this memo records only configurations
/// left exhausted and never removes one, where that one records each on
/// entry and removes those its real-time pass gives up. Both double only
/// within the memory budget ([`memory::try_filled`]).
pub(crate) struct Memo {
    buckets: Vec<Bucket>,
    len: usize,
    max_buckets: usize,
    /// How many entries were forgotten to make room.
    pub(crate) evictions: usize,
    /// The table doubles only within this budget (see [`Memo::grow`]).
    budget: Option<Budget>,
}

impl Memo {
    /// A memo that holds about `cap` entries at most (its slots are the
    /// next power of two of `cap`, at least 1024) before it starts to
    /// forget the oldest entry of a full bucket; it doubles only while
    /// `budget` has room for the doubled table.
    pub(crate) fn new(cap: usize, budget: Option<&Budget>) -> Memo {
        let max_buckets = (cap.max(1024).next_power_of_two() / WAYS).max(1);
        Memo {
            buckets: vec![Bucket([FREE; WAYS]); 256.min(max_buckets)],
            len: 0,
            max_buckets,
            evictions: 0,
            budget: budget.cloned(),
        }
    }

    /// Entries stored.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Inserts the configuration; `true` if it was not there yet.
    #[inline]
    pub(crate) fn insert(&mut self, fp: Fingerprint, state: u32) -> bool {
        debug_assert!(state != EMPTY);
        if (self.len + 1) * 4 > self.buckets.len() * WAYS * 3
            && self.buckets.len() < self.max_buckets
        {
            self.grow();
        }
        let new = Slot::of(fp, state);
        loop {
            let home = home(fp, state, self.buckets.len());
            let mask = self.buckets.len() - 1;
            for k in 0..PROBES {
                for s in self.buckets[(home + k) & mask].0.iter_mut() {
                    if s.state == EMPTY {
                        *s = new;
                        self.len += 1;
                        return true;
                    }
                    if *s == new {
                        return false;
                    }
                }
            }
            // Every bucket looked at is full. Past half full, the table
            // doubles; below that (a rare cluster, where doubling would
            // double the memory for one entry) or at the bound, the home
            // bucket forgets its oldest entry.
            if self.len * 2 >= self.buckets.len() * WAYS && self.buckets.len() < self.max_buckets {
                self.grow();
                continue;
            }
            let bucket = &mut self.buckets[home].0;
            bucket.copy_within(1.., 0);
            bucket[WAYS - 1] = new;
            self.evictions += 1;
            return true;
        }
    }

    /// Is the configuration there? (A look-up that records nothing.)
    #[inline]
    pub(crate) fn contains(&self, fp: Fingerprint, state: u32) -> bool {
        let key = Slot::of(fp, state);
        let home = home(fp, state, self.buckets.len());
        let mask = self.buckets.len() - 1;
        for k in 0..PROBES {
            for s in &self.buckets[(home + k) & mask].0 {
                if s.state == EMPTY {
                    return false;
                }
                if *s == key {
                    return true;
                }
            }
        }
        false
    }

    /// Forgets every entry.
    pub(crate) fn clear(&mut self) {
        for b in &mut self.buckets {
            *b = Bucket([FREE; WAYS]);
        }
        self.len = 0;
    }

    /// Doubles the table; when the budget has no room for the doubled
    /// one (or the system refuses it), the table stays as it is and its
    /// size becomes its bound: the memo only forgets more, which costs
    /// time, never a verdict.
    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let n = self.buckets.len() * 2;
        let Some(doubled) = memory::try_filled(self.budget.as_ref(), n, Bucket([FREE; WAYS]))
        else {
            self.max_buckets = self.buckets.len();
            return;
        };
        let old = std::mem::replace(&mut self.buckets, doubled);
        self.len = 0;
        // Each bucket's entries in order, so their order of age is kept.
        for s in old.iter().flat_map(|b| b.0) {
            if s.state != EMPTY {
                self.insert(Fingerprint(s.a, u64::from(s.b)), s.state);
            }
        }
    }
}

/// The latest of some records per configuration (set fingerprint, state),
/// by record number: a direct-mapped table, where a configuration takes
/// the slot of any other that hashes alike, so an entry may be forgotten
/// at any time. It doubles when half full, up to a bound.
pub(crate) struct Latest {
    slots: Vec<Entry>,
    len: usize,
    max_slots: usize,
}

#[derive(Clone, Copy)]
struct Entry {
    key: Slot,
    id: u32,
}

const NO_ENTRY: Entry = Entry { key: FREE, id: 0 };

impl Latest {
    /// A table of at most `max` slots (a power of two, at least 1024),
    /// which allocates nothing before its first entry.
    pub(crate) fn new(max: usize) -> Latest {
        Latest {
            slots: Vec::new(),
            len: 0,
            max_slots: max.max(1024).next_power_of_two(),
        }
    }

    /// The record kept for the configuration, if any.
    #[inline]
    pub(crate) fn get(&self, fp: Fingerprint, state: u32) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let e = self.slots[home(fp, state, self.slots.len())];
        (e.key == Slot::of(fp, state)).then_some(e.id)
    }

    /// Keeps `id` as the configuration's latest record; returns the one
    /// it replaces, if it was still kept.
    pub(crate) fn insert(&mut self, fp: Fingerprint, state: u32, id: u32) -> Option<u32> {
        debug_assert!(state != EMPTY);
        if self.slots.is_empty() {
            self.slots = vec![NO_ENTRY; 1024];
        }
        if (self.len + 1) * 2 > self.slots.len() && self.slots.len() < self.max_slots {
            let doubled = vec![NO_ENTRY; self.slots.len() * 2];
            let old = std::mem::replace(&mut self.slots, doubled);
            self.len = 0;
            for e in old.into_iter().filter(|e| e.key.state != EMPTY) {
                self.insert(Fingerprint(e.key.a, u64::from(e.key.b)), e.key.state, e.id);
            }
        }
        let key = Slot::of(fp, state);
        let i = home(fp, state, self.slots.len());
        let e = &mut self.slots[i];
        let before = (e.key == key).then_some(e.id);
        if e.key.state == EMPTY {
            self.len += 1;
        }
        *e = Entry { key, id };
        before
    }

    /// Forgets every entry.
    pub(crate) fn clear(&mut self) {
        self.slots.fill(NO_ENTRY);
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_once_and_grows() {
        let mut m = Memo::new(1 << 20, None);
        let mut g = SplitMix64(1);
        let keys: Vec<_> = (0..10_000)
            .map(|i| (Fingerprint(g.next_u64(), g.next_u64()), i % 7))
            .collect();
        for &(f, s) in &keys {
            assert!(m.insert(f, s));
        }
        // Below the bound the table grows as it fills: an entry is
        // forgotten only when a cluster fills every bucket a look-up reads,
        // which is rare.
        assert_eq!(m.len() + m.evictions, 10_000);
        assert!(m.evictions <= 100, "{} forgotten", m.evictions);
        let kept: Vec<_> = keys.iter().filter(|&&(f, s)| m.contains(f, s)).collect();
        assert_eq!(kept.len(), m.len());
        for &&(f, s) in &kept {
            assert!(!m.insert(f, s));
        }
        // Same set, other state: a different configuration.
        assert!(m.insert(keys[0].0, 99));
        assert!(m.contains(keys[0].0, 99));
    }

    #[test]
    fn forgets_the_oldest_when_full() {
        let mut m = Memo::new(1024, None);
        let mut g = SplitMix64(2);
        let keys: Vec<_> = (0..5000)
            .map(|_| Fingerprint(g.next_u64(), g.next_u64()))
            .collect();
        for &k in &keys {
            assert!(m.insert(k, 0));
            // The entry just made is always there.
            assert!(m.contains(k, 0));
        }
        // At most 1024 slots: the rest were forgotten, oldest first, so
        // the latest entries are nearly all kept and the first mostly not.
        assert!(m.len() <= 1024);
        assert_eq!(m.len() + m.evictions, 5000);
        let kept = |ks: &[Fingerprint]| ks.iter().filter(|&&k| m.contains(k, 0)).count();
        assert!(kept(&keys[4900..]) >= 95, "{}", kept(&keys[4900..]));
        assert!(kept(&keys[..100]) <= 5, "{}", kept(&keys[..100]));
    }

    #[test]
    fn latest_keeps_one_record_per_configuration() {
        let mut t = Latest::new(1 << 12);
        let mut g = SplitMix64(3);
        let keys: Vec<_> = (0..1000)
            .map(|_| Fingerprint(g.next_u64(), g.next_u64()))
            .collect();
        for (i, &k) in keys.iter().enumerate() {
            assert_eq!(t.insert(k, 1, i as u32), None);
        }
        // Below its bound the table grew and forgot few (a slot is shared
        // only by keys that hash alike).
        let kept = keys.iter().filter(|&&k| t.get(k, 1).is_some()).count();
        assert!(kept >= 700, "{kept}");
        for (i, &k) in keys.iter().enumerate() {
            if let Some(id) = t.get(k, 1) {
                assert_eq!(id, i as u32);
                assert_eq!(t.insert(k, 1, 5000 + i as u32), Some(i as u32));
                assert_eq!(t.get(k, 1), Some(5000 + i as u32));
            }
            // Same set, other state: another configuration.
            assert_eq!(t.get(k, 2), None);
        }
        t.clear();
        assert!(keys.iter().all(|&k| t.get(k, 1).is_none()));
    }
}
