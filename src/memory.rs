//! A memory budget: a limit in bytes, and a probe that reads the bytes in
//! use.
//!
//! The library allocates through whatever global allocator the program
//! uses and does not count bytes itself: the program that knows how much
//! it has allocated (the `labrys` binary installs a counting allocator)
//! passes a probe that says so. The searches poll the budget where they
//! poll their deadline and the cancel flag, and end `unknown` with the
//! reason [`Budget::reason`] once the bytes in use pass the limit; their
//! large tables grow only into room the budget has left
//! ([`Budget::room_for`]), and stay as they are otherwise (they are
//! bounded caches: a smaller one costs time, never a verdict).
//!
//! Passing the limit is remembered: from then on every search of the run
//! that shares the budget stops, so that the run ends with what it knows
//! instead of being killed by the system.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A limit on the bytes in use, with the probe that reads them.
#[derive(Clone)]
pub struct Budget {
    limit: usize,
    in_use: fn() -> usize,
    exceeded: Arc<AtomicBool>,
}

impl fmt::Debug for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Budget")
            .field("limit", &self.limit)
            .field("in_use", &(self.in_use)())
            .field("exceeded", &self.exceeded.load(Ordering::Relaxed))
            .finish()
    }
}

impl Budget {
    /// A budget of `limit` bytes; `in_use` reads the bytes allocated now.
    pub fn new(limit: usize, in_use: fn() -> usize) -> Budget {
        Budget {
            limit,
            in_use,
            exceeded: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The limit, in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The bytes in use now, as the probe reads them.
    pub fn in_use(&self) -> usize {
        (self.in_use)()
    }

    /// Has the use passed the limit, now or at an earlier poll? Once it
    /// has, it stays exceeded.
    pub fn exceeded(&self) -> bool {
        if self.exceeded.load(Ordering::Relaxed) {
            return true;
        }
        if self.in_use() > self.limit {
            self.exceeded.store(true, Ordering::Relaxed);
            return true;
        }
        false
    }

    /// Is there room for `bytes` more within the limit?
    pub fn room_for(&self, bytes: usize) -> bool {
        !self.exceeded.load(Ordering::Relaxed) && self.in_use().saturating_add(bytes) <= self.limit
    }

    /// Can a search take `bytes` more? When it cannot, the budget counts
    /// as exceeded from now on: for growth the search cannot do without
    /// (its stack), checked before it is made rather than seen after.
    pub fn claim(&self, bytes: usize) -> bool {
        if self.room_for(bytes) {
            return true;
        }
        self.exceeded.store(true, Ordering::Relaxed);
        false
    }

    /// Why a search that stopped for it is undecided:
    /// `memory budget of 512 MiB exceeded`.
    pub fn reason(&self) -> String {
        format!("memory budget of {} exceeded", bytes(self.limit))
    }
}

/// Has `budget` (if any) been exceeded?
pub fn exceeded(budget: Option<&Budget>) -> bool {
    budget.is_some_and(Budget::exceeded)
}

/// Is there room for `bytes` more in `budget` (always, without one)?
pub fn room_for(budget: Option<&Budget>, bytes: usize) -> bool {
    budget.is_none_or(|b| b.room_for(bytes))
}

/// Can a search take `bytes` more of `budget` (always, without one)? See
/// [`Budget::claim`].
pub fn claim(budget: Option<&Budget>, bytes: usize) -> bool {
    budget.is_none_or(|b| b.claim(bytes))
}

/// A vector of `n` copies of `fill`, if the budget has room for it and the
/// system gives it; `None` otherwise (never an abort).
pub fn try_filled<T: Clone>(budget: Option<&Budget>, n: usize, fill: T) -> Option<Vec<T>> {
    if !room_for(budget, n.saturating_mul(std::mem::size_of::<T>())) {
        return None;
    }
    let mut v = Vec::new();
    v.try_reserve_exact(n).ok()?;
    v.resize(n, fill);
    Some(v)
}

/// A byte count for people, in binary units: `512 MiB`, `1.5 GiB`.
pub fn bytes(n: usize) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut x = n as f64;
    let mut unit = 0;
    while x >= 1024.0 && unit + 1 < UNITS.len() {
        x /= 1024.0;
        unit += 1;
    }
    if unit == 0 || x.fract() == 0.0 {
        format!("{x:.0} {}", UNITS[unit])
    } else {
        format!("{x:.1} {}", UNITS[unit])
    }
}

/// Parses a size: a number of bytes, optionally with a unit `K`, `M`, `G`
/// or `T` (powers of 1024; `KiB`, `MB`, `GB`... are read the same way),
/// and a fraction (`1.5G`).
pub fn parse_bytes(text: &str) -> Option<usize> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let x: f64 = num.parse().ok()?;
    let unit = unit.trim().to_ascii_lowercase();
    let shift = match unit.trim_end_matches('b').trim_end_matches('i') {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => return None,
    };
    let n = x * (1u64 << shift) as f64;
    (n.is_finite() && n >= 1.0 && n < usize::MAX as f64).then_some(n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    static USE: AtomicUsize = AtomicUsize::new(0);
    fn probe() -> usize {
        USE.load(Ordering::Relaxed)
    }

    #[test]
    fn passing_the_limit_is_remembered() {
        let b = Budget::new(1000, probe);
        USE.store(500, Ordering::Relaxed);
        assert!(!b.exceeded());
        assert!(b.room_for(500));
        assert!(!b.room_for(501));
        USE.store(1001, Ordering::Relaxed);
        assert!(b.exceeded());
        USE.store(0, Ordering::Relaxed);
        assert!(b.exceeded(), "exceeded once, exceeded for good");
        assert!(!b.room_for(1));
        assert_eq!(b.reason(), "memory budget of 1000 bytes exceeded");
    }

    #[test]
    fn a_refused_claim_exceeds_the_budget() {
        let b = Budget::new(1000, nothing);
        assert!(b.claim(1000));
        assert!(!b.exceeded());
        assert!(!b.claim(1001));
        assert!(b.exceeded(), "what the search cannot do without stops it");
        assert!(claim(None, usize::MAX));
    }

    #[test]
    fn sizes_read_and_print_in_binary_units() {
        assert_eq!(parse_bytes("512M"), Some(512 << 20));
        assert_eq!(parse_bytes("512MiB"), Some(512 << 20));
        assert_eq!(parse_bytes("1.5g"), Some(3 << 29));
        assert_eq!(parse_bytes("4096"), Some(4096));
        assert_eq!(parse_bytes("2 GB"), Some(2 << 30));
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(parse_bytes("0"), None);
        assert_eq!(parse_bytes("-1G"), None);
        assert_eq!(bytes(512 << 20), "512 MiB");
        assert_eq!(bytes(3 << 29), "1.5 GiB");
        assert_eq!(bytes(100), "100 bytes");
    }

    fn nothing() -> usize {
        0
    }

    #[test]
    fn a_table_past_the_budget_is_not_made() {
        let b = Budget::new(1 << 20, nothing);
        assert_eq!(
            try_filled(Some(&b), 1000, 0u64).map(|v| v.len()),
            Some(1000)
        );
        assert!(try_filled(Some(&b), 1 << 20, 0u64).is_none());
        assert!(
            try_filled::<u8>(None, usize::MAX, 0).is_none(),
            "the system refuses"
        );
    }
}
