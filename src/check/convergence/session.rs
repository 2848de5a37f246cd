//! Session guarantees (Terry et al., "Session Guarantees for Weakly
//! Consistent Replicated Data", PDIS 1994), per client process: each
//! Jepsen process is one session.
//!
//! - **Monotonic reads**: a read never observes less than an earlier read
//!   of the same process observed.
//! - **Read your writes**: a read observes every write the same process
//!   had acknowledged before the read began.
//!
//! "Observes less" is only decidable from values where states are ordered:
//!
//! - grow-only sets (no removes): a read's set must contain every element
//!   of the process's earlier reads (monotonic reads) and every element the
//!   process's acknowledged adds put in (read your writes);
//! - grow-only counters (no negative increments): a read is at least the
//!   process's earlier reads, and at least the initial value plus the
//!   process's own acknowledged increments;
//! - registers and kv, only when every `ok` read of the key carries an
//!   explicit version: a value map `{:value v, :version n}` or an extra
//!   field `version` (integer) on the completion. Versions must not go
//!   down along a process's reads; after an acknowledged write whose
//!   completion carries a version (the same two shapes), the process's
//!   reads must have at least that version. Without versions, a register
//!   that reads an older value may be reading a newer write of the same
//!   value, so registers are "not judged", with that reason.
//!
//! Only `ok` reads are judged. A violation names the offending pair.

use super::{Ctx, SessionMode};
use crate::check::evidence::OpView;
use crate::check::Verdict;
use crate::history::{Process, Value};
use serde::Serialize;

/// The guarantees judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Guarantee {
    /// Reads never go back in time, per process.
    MonotonicReads,
    /// Reads see the process's own acknowledged writes.
    ReadYourWrites,
}

/// A broken session guarantee: the two operations of one process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SessionViolation {
    /// Which guarantee.
    pub guarantee: Guarantee,
    /// The process (session), as the history wrote it.
    pub process: Process,
    /// The key.
    pub key: Option<Value>,
    /// The earlier read (monotonic reads) or the acknowledged write (read
    /// your writes).
    pub first: OpView,
    /// The later read that observed less.
    pub second: OpView,
    /// What it missed, in plain words.
    pub detail: String,
}

/// The findings for one guarantee.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct GuaranteeResult {
    /// Keys where it was judged.
    pub judged_keys: usize,
    /// Keys where it could not be judged soundly.
    pub not_judged_keys: usize,
    /// Why not (distinct reasons).
    pub not_judged_reasons: Vec<String>,
    /// Reads checked.
    pub reads_checked: usize,
    /// Violations found.
    pub violations: usize,
    /// The first few violations.
    pub examples: Vec<SessionViolation>,
}

impl GuaranteeResult {
    fn merge(&mut self, other: GuaranteeResult, max: usize) {
        self.judged_keys += other.judged_keys;
        self.not_judged_keys += other.not_judged_keys;
        for r in other.not_judged_reasons {
            if !self.not_judged_reasons.contains(&r) {
                self.not_judged_reasons.push(r);
            }
        }
        self.reads_checked += other.reads_checked;
        self.violations += other.violations;
        let room = max.saturating_sub(self.examples.len());
        self.examples.extend(other.examples.into_iter().take(room));
    }

    pub(crate) fn not_judged(&mut self, reason: &str) {
        self.not_judged_keys += 1;
        if !self.not_judged_reasons.iter().any(|r| r == reason) {
            self.not_judged_reasons.push(reason.to_string());
        }
    }

    pub(crate) fn violation(&mut self, v: SessionViolation, max: usize) {
        self.violations += 1;
        if self.examples.len() < max {
            self.examples.push(v);
        }
    }
}

/// Session guarantees over the whole history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SessionReport {
    /// Whether they were judged, and count in the verdict.
    pub mode: SessionMode,
    /// Invalid if any guarantee was broken; unknown if none could be
    /// judged; valid otherwise.
    pub valid: Verdict,
    /// Monotonic reads.
    pub monotonic_reads: GuaranteeResult,
    /// Read your writes.
    pub read_your_writes: GuaranteeResult,
}

impl SessionReport {
    /// An empty report.
    pub fn new(mode: SessionMode) -> SessionReport {
        SessionReport {
            mode,
            valid: Verdict::Unknown,
            monotonic_reads: GuaranteeResult::default(),
            read_your_writes: GuaranteeResult::default(),
        }
    }

    pub(crate) fn merge(&mut self, other: SessionReport) {
        self.monotonic_reads.merge(other.monotonic_reads, 16);
        self.read_your_writes.merge(other.read_your_writes, 16);
    }

    pub(crate) fn finish(&mut self) {
        let (m, r) = (&self.monotonic_reads, &self.read_your_writes);
        self.valid = if self.mode == SessionMode::Off {
            Verdict::Unknown
        } else if m.violations + r.violations > 0 {
            Verdict::Invalid
        } else if m.judged_keys + r.judged_keys == 0 {
            Verdict::Unknown
        } else {
            Verdict::Valid
        };
    }

    /// Marks both guarantees not judged on a key.
    pub(crate) fn not_judged(&mut self, reason: &str) {
        self.monotonic_reads.not_judged(reason);
        self.read_your_writes.not_judged(reason);
    }
}

/// Scalar session checks: each read of a process has a level (a version,
/// a counter value); levels must not go down along a process's reads, and
/// must reach what the process's own acknowledged writes require.
///
/// `events` are the key's ops in invocation order as `(id, kind)`:
/// `Read(level)` for an `ok` read, `Wrote(level)` for an acknowledged write
/// that requires later reads of its process to reach `level` (for
/// counters, the level a process's own increments add up to, plus the
/// initial value).
pub(crate) fn check_scalar(
    ctx: &Ctx<'_>,
    key: Option<&Value>,
    events: &[(usize, Level)],
    what: &str,
    out: &mut SessionReport,
) {
    let max = ctx.opts.max_examples;
    out.monotonic_reads.judged_keys += 1;
    out.read_your_writes.judged_keys += 1;
    // per process: (best level read so far, its read), (level required by
    // own writes completed, the write)
    let mut best: super::FxMap<i64, (i64, usize)> = Default::default();
    let mut owed: super::FxMap<i64, (i64, usize)> = Default::default();
    // A process is sequential: its next op is invoked after its write
    // completed, so invocation order is enough within one process.
    for &(id, level) in events {
        let p = ctx.op(id).process;
        let who = || ctx.h.process(ctx.op(id)).clone();
        match level {
            Level::Wrote(l) => {
                let e = owed.entry(p).or_insert((i64::MIN, id));
                if l >= e.0 {
                    *e = (l, id);
                }
            }
            Level::Read(l) => {
                out.monotonic_reads.reads_checked += 1;
                out.read_your_writes.reads_checked += 1;
                if let Some(&(b, prev)) = best.get(&p) {
                    if l < b {
                        out.monotonic_reads.violation(
                            SessionViolation {
                                guarantee: Guarantee::MonotonicReads,
                                process: who(),
                                key: key.cloned(),
                                first: ctx.view(prev, format!("read ({what} {b})")),
                                second: ctx.view(id, format!("read ({what} {l})")),
                                detail: format!(
                                    "process {} read {what} {l} after it had read {what} {b}",
                                    who()
                                ),
                            },
                            max,
                        );
                    }
                }
                if let Some(&(w, wid)) = owed.get(&p) {
                    if l < w {
                        out.read_your_writes.violation(
                            SessionViolation {
                                guarantee: Guarantee::ReadYourWrites,
                                process: who(),
                                key: key.cloned(),
                                first: ctx.view(wid, format!("update (requires {what} {w})")),
                                second: ctx.view(id, format!("read ({what} {l})")),
                                detail: format!(
                                    "process {} read {what} {l}, but its own acknowledged updates require at least {w}",
                                    who()
                                ),
                            },
                            max,
                        );
                    }
                }
                let e = best.entry(p).or_insert((l, id));
                if l > e.0 {
                    *e = (l, id);
                }
            }
        }
    }
}

/// A level in [`check_scalar`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    /// An `ok` read at this level.
    Read(i64),
    /// An acknowledged write requiring this level of later reads.
    Wrote(i64),
}
