//! Polling the user's deadline cheaply from every long loop.
//!
//! `--timeout` bounds a whole run: every search, pass and evidence stage
//! must notice soon after the deadline that it has passed. Reading the
//! clock costs tens of nanoseconds, a step of a search from a few
//! nanoseconds to milliseconds (a node of the sequential search on a
//! million ops and 64 processes costs about a millisecond), so no fixed
//! number of steps between reads suits every loop. A [`Ticker`] counts
//! work units down to its next read and retunes the count at every read,
//! doubling it while reads come less than [`GAP`] apart and cutting it in
//! proportion when they come more than twice `GAP` apart, so that reads
//! come about every `GAP` whatever a unit costs: a loop notices the
//! deadline within about two `GAP`s, or one unit when one unit costs more.
//! When the cost of a unit jumps (a search moving from cheap memo hits to
//! costly steps), the read after the jump can be late by at most [`MOST`]
//! units of the new cost, and the count is cut to fit at once: retuning
//! by halves instead would leave a cancelled search running for seconds.
//!
//! The ticker decides only *when* to look at the clock and the cancel
//! flags, never a result: budgets that must end a search at the same point
//! on every machine count units, not ticks.

use crate::memory::{self, Budget};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The time aimed at between two reads of the clock.
pub const GAP: Duration = Duration::from_millis(1);

/// The most units between two reads of the clock: a few microseconds of
/// the cheapest units, so the reads cost nothing that shows, and a bound
/// on how late a read can be when units turn costly.
pub const MOST: u32 = 1 << 12;

/// A countdown of work units between reads of the clock (see the module
/// docs).
#[derive(Clone, Debug)]
pub struct Ticker {
    left: u32,
    every: u32,
    last: Instant,
}

impl Default for Ticker {
    fn default() -> Self {
        Ticker::new()
    }
}

impl Ticker {
    /// A ticker that reads the clock at the first unit.
    pub fn new() -> Self {
        Ticker {
            left: 1,
            every: 1,
            last: Instant::now(),
        }
    }

    /// Counts one unit of work. True when the clock was just read (see
    /// [`Ticker::now`]): time for the caller to look at its limits.
    #[inline]
    pub fn due(&mut self) -> bool {
        self.left -= 1;
        self.left == 0 && self.read()
    }

    /// The clock's reading at the last [`Ticker::due`] that returned true.
    pub fn now(&self) -> Instant {
        self.last
    }

    #[cold]
    fn read(&mut self) -> bool {
        let now = Instant::now();
        let gap = now.saturating_duration_since(self.last);
        if gap < GAP && self.every < MOST {
            self.every *= 2;
        } else if gap > 2 * GAP && self.every > 1 {
            let fit = u128::from(self.every) * GAP.as_nanos() / gap.as_nanos().max(1);
            self.every = fit.clamp(1, u128::from(self.every / 2)) as u32;
        }
        self.left = self.every;
        self.last = now;
        true
    }
}

/// When work must stop: an instant, flags any of which stops it (the
/// user's cancel flag, a sibling's "refuted, stop"), and the memory
/// budget, once passed.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stop<'a> {
    /// Stop at this instant.
    pub at: Option<Instant>,
    /// Stop when any of these is set.
    pub flags: [Option<&'a AtomicBool>; 3],
    /// Stop once this budget has been passed.
    pub memory: Option<&'a Budget>,
}

impl Stop<'_> {
    /// Is it time to stop? Reads the clock (only if there is a deadline).
    pub fn now(&self) -> bool {
        self.flagged() || self.at.is_some_and(|d| Instant::now() >= d)
    }

    /// Is it time to stop, by `ticker`? Reads the clock only when the
    /// ticker says so; call it once per unit of work.
    #[inline]
    pub fn by(&self, ticker: &mut Ticker) -> bool {
        ticker.due() && (self.flagged() || self.at.is_some_and(|d| ticker.now() >= d))
    }

    fn flagged(&self) -> bool {
        self.flags
            .iter()
            .flatten()
            .any(|f| f.load(Ordering::Relaxed))
            || memory::exceeded(self.memory)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_come_often_when_units_are_costly() {
        let mut t = Ticker::new();
        let mut reads = 0;
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(3));
            reads += usize::from(t.due());
        }
        assert_eq!(
            reads, 20,
            "a unit longer than the gap is followed by a read"
        );
    }

    #[test]
    fn a_jump_in_the_cost_of_units_cuts_the_count_at_once() {
        let mut t = Ticker::new();
        t.every = MOST;
        // The last read was 200 gaps ago: units now cost 200 times what
        // the count was tuned for, so the count falls 200-fold, not by
        // half.
        t.last = Instant::now() - 200 * GAP;
        t.read();
        assert!(t.every <= MOST / 100, "{}", t.every);
        t.last = Instant::now() - 100_000 * GAP;
        t.read();
        assert_eq!(t.every, 1);
    }

    #[test]
    fn reads_grow_rare_when_units_are_cheap() {
        let mut t = Ticker::new();
        let mut reads = 0u64;
        let n = 10_000_000u64;
        for _ in 0..n {
            reads += u64::from(t.due());
        }
        assert!(reads < n / 100, "{reads} reads in {n} cheap units");
    }

    #[test]
    fn a_passed_deadline_stops_at_the_next_read() {
        let past = Instant::now();
        let s = Stop {
            at: Some(past),
            ..Stop::default()
        };
        let mut t = Ticker::new();
        assert!(s.by(&mut t), "the first unit reads the clock");
        assert!(s.now());
        let flag = AtomicBool::new(true);
        let f = Stop {
            flags: [None, Some(&flag), None],
            ..Stop::default()
        };
        assert!(f.now());
        assert!(!Stop::default().now());
    }
}
