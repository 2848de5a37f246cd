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
//! The table holds at most `cap` entries. When it is full it is cleared:
//! forgetting configurations is safe, because the memo only prunes
//! configurations already known to fail; a cleared memo makes the search
//! redo work, never reach a different verdict.

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
#[derive(Clone, Copy)]
struct Slot {
    a: u64,
    b: u32,
    state: u32,
}

const EMPTY: u32 = u32::MAX;

/// An open-addressing set of (fingerprint, state) with linear probing.
pub(crate) struct Memo {
    slots: Vec<Slot>,
    len: usize,
    cap: usize,
    /// How many times the table was cleared for being full.
    pub(crate) clears: usize,
}

impl Memo {
    /// A memo that holds at most `cap` entries before clearing itself.
    pub(crate) fn new(cap: usize) -> Memo {
        Memo {
            slots: vec![
                Slot {
                    a: 0,
                    b: 0,
                    state: EMPTY
                };
                1024
            ],
            len: 0,
            cap: cap.max(1024),
            clears: 0,
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
        if self.len >= self.cap {
            self.clear();
        } else if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        // The fingerprint's words are already uniformly mixed; fold the
        // state id in so equal sets with different states spread out.
        let mut i = ((fp.0 ^ (state as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) as usize) & mask;
        loop {
            let s = &mut self.slots[i];
            if s.state == EMPTY {
                *s = Slot {
                    a: fp.0,
                    b: fp.1 as u32,
                    state,
                };
                self.len += 1;
                return true;
            }
            if s.a == fp.0 && s.b == fp.1 as u32 && s.state == state {
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    /// Is the configuration there? (A look-up that records nothing.)
    #[inline]
    pub(crate) fn contains(&self, fp: Fingerprint, state: u32) -> bool {
        let mask = self.slots.len() - 1;
        let mut i = ((fp.0 ^ (state as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) as usize) & mask;
        loop {
            let s = &self.slots[i];
            if s.state == EMPTY {
                return false;
            }
            if s.a == fp.0 && s.b == fp.1 as u32 && s.state == state {
                return true;
            }
            i = (i + 1) & mask;
        }
    }

    /// Forgets every entry.
    pub(crate) fn clear(&mut self) {
        for s in &mut self.slots {
            s.state = EMPTY;
        }
        self.len = 0;
        self.clears += 1;
    }

    fn grow(&mut self) {
        let old = std::mem::take(&mut self.slots);
        self.slots = vec![
            Slot {
                a: 0,
                b: 0,
                state: EMPTY
            };
            old.len() * 2
        ];
        self.len = 0;
        for s in old {
            if s.state != EMPTY {
                self.insert(Fingerprint(s.a, u64::from(s.b)), s.state);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_once_and_grows() {
        let mut m = Memo::new(1 << 20);
        let mut g = SplitMix64(1);
        let keys: Vec<_> = (0..10_000)
            .map(|i| (Fingerprint(g.next_u64(), g.next_u64()), i % 7))
            .collect();
        for &(f, s) in &keys {
            assert!(m.insert(f, s));
        }
        for &(f, s) in &keys {
            assert!(!m.insert(f, s));
        }
        // Same set, other state: a different configuration.
        assert!(m.insert(keys[0].0, 99));
        assert_eq!(m.len(), 10_001);
    }

    #[test]
    fn clears_when_full() {
        let mut m = Memo::new(1024);
        let mut g = SplitMix64(2);
        for _ in 0..5000 {
            m.insert(Fingerprint(g.next_u64(), g.next_u64()), 0);
        }
        assert!(m.clears > 0);
        assert!(m.len() <= 1024);
    }
}
