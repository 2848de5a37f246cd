//! Checkers: linearizability, sequential consistency and eventual
//! convergence.
//!
//! Every checker takes a loaded [`History`](crate::history::History) and a
//! model, does no I/O, and returns a verdict with its evidence. A history
//! that fails a check is a result, never an error. Renderers in
//! [`report`](crate::report) draw the evidence.
//!
//! Verdicts are three-valued, as in Knossos and Porcupine: a search that
//! runs out of time or memory says [`Verdict::Unknown`], never a guess.
//!
//! # Nothing to judge
//!
//! A history in which no client operation completed `ok` (an empty one,
//! or one of only failed, crashed or never-completed operations) gives
//! linearizability and sequential consistency nothing to judge: every
//! order of it is trivially legal, and a harness that recorded nothing
//! must not pass for a correct database. As Jepsen's `stats` checker fails
//! a history with no `ok` operation, those checkers then say
//! [`Verdict::Unknown`] with the reason [`nothing_to_judge`] gives, or
//! valid when [`CheckOptions::allow_empty`] asks for the vacuous verdict.
//! Their reports keep the reason either way, so that a caller can tell a
//! check that judged nothing from one that ran out of time.

pub mod anomaly;
pub mod convergence;
pub(crate) mod ddmin;
pub mod deadline;
pub mod evidence;
pub mod linearizable;
pub mod run;
pub mod sequential;
pub mod shard;

use crate::history::{History, Outcome};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The outcome of a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The history satisfies the consistency model.
    Valid,
    /// The history violates it; the evidence says how.
    Invalid,
    /// The checker could not decide (time or memory ran out, or nothing to
    /// judge); no anomaly was found.
    Unknown,
}

impl Verdict {
    /// Combines verdicts as Jepsen does: invalid beats unknown beats valid.
    pub fn and(self, other: Verdict) -> Verdict {
        use Verdict::*;
        match (self, other) {
            (Invalid, _) | (_, Invalid) => Invalid,
            (Unknown, _) | (_, Unknown) => Unknown,
            _ => Valid,
        }
    }

    /// The verdict's word: `valid`, `invalid` or `unknown`.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Invalid => "invalid",
            Verdict::Unknown => "unknown",
        }
    }
}

/// Serializes as JSON `true`, `false` or `"unknown"`, like Jepsen's `:valid?`.
impl serde::Serialize for Verdict {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Verdict::Valid => s.serialize_bool(true),
            Verdict::Invalid => s.serialize_bool(false),
            Verdict::Unknown => s.serialize_str("unknown"),
        }
    }
}

/// Reads JSON `true`, `false` or `"unknown"`, as written.
impl<'de> serde::Deserialize<'de> for Verdict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Bool(true) => Ok(Verdict::Valid),
            serde_json::Value::Bool(false) => Ok(Verdict::Invalid),
            serde_json::Value::String(s) if s == "unknown" => Ok(Verdict::Unknown),
            other => Err(serde::de::Error::custom(format!(
                "expected a verdict (true, false or \"unknown\"), found {other}"
            ))),
        }
    }
}

/// Why `history` gives linearizability and sequential consistency nothing
/// to judge, or `None` when some client operation completed `ok`.
pub fn nothing_to_judge(history: &History) -> Option<String> {
    let ops = &history.operations;
    if ops.iter().any(|o| o.outcome == Outcome::Ok) {
        return None;
    }
    if ops.is_empty() {
        return Some("the history has no client operations".into());
    }
    let failed = ops.iter().filter(|o| o.outcome == Outcome::Fail).count();
    Some(format!(
        "no client operation completed ok ({failed} failed, {} crashed or never completed)",
        ops.len() - failed
    ))
}

/// The verdict of a checker that had nothing to judge.
pub fn empty_verdict(options: &CheckOptions) -> Verdict {
    if options.allow_empty {
        Verdict::Valid
    } else {
        Verdict::Unknown
    }
}

/// The consistency models labrys checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Consistency {
    /// Linearizability (Herlihy & Wing 1990).
    Linearizable,
    /// Sequential consistency (Lamport 1979).
    Sequential,
    /// Eventual convergence.
    Convergence,
}

impl Consistency {
    /// All three, in report order.
    pub const ALL: [Consistency; 3] = [
        Consistency::Linearizable,
        Consistency::Sequential,
        Consistency::Convergence,
    ];

    /// The name used in JSON and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Consistency::Linearizable => "linearizable",
            Consistency::Sequential => "sequential",
            Consistency::Convergence => "convergence",
        }
    }
}

/// Limits and switches shared by the checkers.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Give up (verdict unknown) this long after the check starts.
    pub timeout: Option<Duration>,
    /// Give up (verdict unknown) at this instant, whenever the check
    /// started: `labrys check --timeout` sets it to bound the whole run,
    /// reading included. With `timeout` too, the earlier one holds.
    pub deadline: Option<Instant>,
    /// Split keyed histories into one partition per key (P-compositionality).
    pub partition: bool,
    /// Decide every partition (report mode) rather than stopping at the
    /// first invalid one (gate mode).
    pub report_all: bool,
    /// Search for a minimal counterexample when a history is invalid.
    pub shrink: bool,
    /// A checker with nothing to judge says valid instead of unknown (see
    /// [Nothing to judge](self#nothing-to-judge)).
    pub allow_empty: bool,
    /// Set to stop every search early (Ctrl-C); unfinished work is unknown.
    pub cancel: Arc<AtomicBool>,
    /// Counters the command line reads to draw a progress bar.
    pub progress: Arc<Progress>,
    /// Give up (verdict unknown) once the bytes in use pass this budget;
    /// the searches' tables grow only within it.
    pub memory: Option<crate::memory::Budget>,
    /// Check only this shard's keys (see [`shard`]); `None` checks every
    /// key. Only linearizability and convergence take it.
    pub shard: Option<shard::Shard>,
    /// Record, for drawing, each valid linearizability partition's order
    /// with the model's state after each step (bounded: see
    /// [`linearizable::WITNESS_STEPS`]). Off by default: the order of a
    /// large history is large; `labrys check --html` turns it on.
    pub witness: bool,
}

/// Live counters of a running check, written by the checkers with relaxed
/// atomics and read by whoever draws progress. The core never prints.
#[derive(Debug, Default)]
pub struct Progress {
    /// Partitions (keys) to decide.
    pub partitions_total: AtomicUsize,
    /// Partitions decided so far.
    pub partitions_done: AtomicUsize,
    /// The deepest search so far: operations placed on the longest path.
    pub depth: AtomicUsize,
    /// Operations to place in the largest partition.
    pub ops_total: AtomicUsize,
}

impl Progress {
    /// Records a search depth, keeping the maximum.
    pub fn reach(&self, depth: usize) {
        self.depth.fetch_max(depth, Ordering::Relaxed);
    }
}

impl CheckOptions {
    /// Has the run been cancelled?
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Has the run passed its memory budget?
    pub fn out_of_memory(&self) -> bool {
        crate::memory::exceeded(self.memory.as_ref())
    }

    /// When a check that starts at `start` must be over: the earlier of
    /// [`CheckOptions::deadline`] and `start` plus the timeout.
    pub fn deadline_from(&self, start: Instant) -> Option<Instant> {
        let own = self.timeout.map(|t| start + t);
        match (self.deadline, own) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// These options with the deadline of a run that starts at `start`
    /// fixed, so that every checker it runs shares one deadline.
    pub fn fixed_from(&self, start: Instant) -> CheckOptions {
        CheckOptions {
            deadline: self.deadline_from(start),
            ..self.clone()
        }
    }
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            timeout: None,
            deadline: None,
            partition: true,
            report_all: false,
            shrink: true,
            allow_empty: false,
            cancel: Arc::new(AtomicBool::new(false)),
            progress: Arc::new(Progress::default()),
            memory: None,
            shard: None,
            witness: false,
        }
    }
}
