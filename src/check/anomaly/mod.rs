//! Anomalies named: the known pattern a failing check's evidence shows, in
//! one plain sentence ("stale read: process 1 read 1, though the write of
//! 2 by process 0 had completed before it began").
//!
//! Classification happens here, in the checking layer, from the history
//! and each checker's evidence; renderers only draw the result. Each
//! pattern is a proof on its own (see the `patterns` submodule): it is
//! named only when the history shows it, never because it would fit, and
//! a failing check whose evidence matches none is named [`Kind::Other`].
//! A check that is valid or unknown names none.
//!
//! Which ops are looked at: for linearizability, the ops of the first
//! failing key with evidence, its minimal counterexample and failing op
//! first; for sequential consistency, the minimal counterexample (or the
//! whole history when it is small); convergence names the first anomaly
//! its analysis found. The patterns of real time (stale read, lost write,
//! read from the future) are named only for linearizability, since
//! sequential consistency allows them.

mod facts;
mod patterns;
#[cfg(test)]
mod tests;

use crate::check::convergence::{Anomaly, ConvergenceReport};
use crate::check::linearizable::LinearizableReport;
use crate::check::sequential::SequentialReport;
use crate::check::Verdict;
use crate::history::{History, Value};
use crate::model::{ModelKind, ModelOptions};
use patterns::{writes_in_two_orders, Scope, MAX_CANDIDATES};
use serde::Serialize;
use std::collections::BTreeSet;

/// The kinds of anomaly labrys names. The JSON spelling (kebab-case) is
/// stable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A read returned a value older than one an earlier, completed op
    /// proved was already there.
    StaleRead,
    /// An acknowledged write (or set add) that no later read saw.
    LostWrite,
    /// A read of a value no operation wrote.
    NeverWritten,
    /// A read of a value whose writes all began after the read returned.
    FutureRead,
    /// Two processes saw two writes in opposite orders.
    WritesInTwoOrders,
    /// One process's reads went back in time.
    NonMonotonicReads,
    /// Replicas converged on a value that an acknowledged write had
    /// overwritten (last write wins).
    LostUpdate,
    /// An acknowledged set element or queue item missing at the end.
    LostElement,
    /// A queue item dequeued more often than it was enqueued.
    DuplicatedElement,
    /// Two processes held one lock at once.
    LockHeldTwice,
    /// A counter read outside what the increments allow.
    CounterOutOfBounds,
    /// Final reads that never agreed.
    Divergence,
    /// An update the store reported failed took effect.
    FailedButPresent,
    /// A read no update explains.
    UnexplainedRead,
    /// The check failed, but its evidence matches no named pattern.
    Other,
}

impl Kind {
    /// The kind's stable name, e.g. `stale-read`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::StaleRead => "stale-read",
            Kind::LostWrite => "lost-write",
            Kind::NeverWritten => "never-written",
            Kind::FutureRead => "future-read",
            Kind::WritesInTwoOrders => "writes-in-two-orders",
            Kind::NonMonotonicReads => "non-monotonic-reads",
            Kind::LostUpdate => "lost-update",
            Kind::LostElement => "lost-element",
            Kind::DuplicatedElement => "duplicated-element",
            Kind::LockHeldTwice => "lock-held-twice",
            Kind::CounterOutOfBounds => "counter-out-of-bounds",
            Kind::Divergence => "divergence",
            Kind::FailedButPresent => "failed-but-present",
            Kind::UnexplainedRead => "unexplained-read",
            Kind::Other => "other",
        }
    }

    /// The kind in a few words, to open its sentence.
    pub fn title(self) -> &'static str {
        match self {
            Kind::StaleRead => "Stale read",
            Kind::LostWrite => "Lost write",
            Kind::NeverWritten => "Read of a value never written",
            Kind::FutureRead => "Read from the future",
            Kind::WritesInTwoOrders => "Writes seen in two orders",
            Kind::NonMonotonicReads => "Non-monotonic reads",
            Kind::LostUpdate => "Lost update (last write wins)",
            Kind::LostElement => "Lost element",
            Kind::DuplicatedElement => "Duplicated element",
            Kind::LockHeldTwice => "Lock held twice",
            Kind::CounterOutOfBounds => "Counter out of bounds",
            Kind::Divergence => "Divergence",
            Kind::FailedButPresent => "Failed write present",
            Kind::UnexplainedRead => "Unexplained read",
            Kind::Other => "No named pattern",
        }
    }
}

/// A failing check's anomaly: its kind and one sentence naming the ops
/// and values involved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct NamedAnomaly {
    /// The pattern.
    pub kind: Kind,
    /// What happened, in one sentence of plain words.
    pub description: String,
    /// The operations the sentence names (indices into
    /// [`History::operations`]), in the order it names them.
    pub ops: Vec<usize>,
}

impl NamedAnomaly {
    /// An anomaly of `kind`: its sentence is the kind's title, then what
    /// happened.
    fn new(kind: Kind, what: String, ops: Vec<usize>) -> NamedAnomaly {
        NamedAnomaly {
            kind,
            description: format!("{}: {what}", kind.title()),
            ops,
        }
    }

    /// The anomaly of a failing check that matches no pattern.
    fn other(what: &str, ops: Vec<usize>) -> NamedAnomaly {
        NamedAnomaly::new(
            Kind::Other,
            format!("{what}, and the evidence matches none of the named patterns."),
            ops,
        )
    }
}

/// The model's facts and its initial value, shared by both searches'
/// classifiers.
struct Object<'a> {
    h: &'a History,
    kind: ModelKind,
    keys: Vec<facts::Key<'a>>,
    initial: &'a Value,
    counter_initial: i64,
}

impl<'a> Object<'a> {
    fn new(h: &'a History, kind: ModelKind, opts: &'a ModelOptions) -> Object<'a> {
        Object {
            h,
            kind,
            keys: facts::keys(h, kind, opts),
            initial: &opts.initial,
            counter_initial: opts.initial.as_int().unwrap_or(0),
        }
    }

    /// The patterns of one key, in order of precedence; `real_time` for
    /// linearizability.
    fn key(&self, s: &Scope<'_>, real_time: bool) -> Option<NamedAnomaly> {
        use ModelKind::*;
        match self.kind {
            Register | CasRegister | Kv | Set => s
                .never_written()
                .or_else(|| real_time.then(|| s.future_read()).flatten())
                .or_else(|| writes_in_two_orders(std::slice::from_ref(s)))
                .or_else(|| s.non_monotonic(real_time))
                .or_else(|| real_time.then(|| s.lost_write()).flatten())
                .or_else(|| real_time.then(|| s.stale_read()).flatten()),
            Counter => s.counter_out_of_bounds(real_time, self.counter_initial),
            Mutex => s.lock_held_twice(real_time),
            FifoQueue | UnorderedQueue => s.never_written().or_else(|| s.duplicated()),
            MultiRegister => None,
        }
    }

    /// The scopes of every understood key, looking at `wanted` ops.
    fn scopes(&'a self, wanted: Option<&BTreeSet<usize>>) -> Vec<Scope<'a>> {
        self.keys
            .iter()
            .filter(|k| k.understood)
            .map(|k| Scope::new(self.h, k, self.initial, wanted))
            .collect()
    }
}

/// The anomaly a linearizability report shows, or `None` unless it is
/// invalid.
pub fn linearizable(
    h: &History,
    kind: ModelKind,
    opts: &ModelOptions,
    r: &LinearizableReport,
) -> Option<NamedAnomaly> {
    if r.valid != Verdict::Invalid {
        return None;
    }
    let Some((key, e)) = r
        .partitions
        .iter()
        .find_map(|p| p.evidence.as_ref().map(|e| (&p.key, e)))
    else {
        return Some(NamedAnomaly::other(
            "no order of the operations keeps real time",
            Vec::new(),
        ));
    };
    let other = || {
        let what = format!(
            "no order of the operations gets past the completion of process {}'s {} (line {})",
            e.op.process, e.op.op, e.op.invoke_line
        );
        NamedAnomaly::other(&what, vec![e.op.id])
    };
    let obj = Object::new(h, kind, opts);
    let Some(k) = obj
        .keys
        .iter()
        .find(|k| k.understood && (!r.partitioned || k.key == key.as_ref()))
    else {
        return Some(other());
    };
    // The minimal counterexample and the failing op first, then the rest.
    let mut wanted: BTreeSet<usize> = e.minimal.iter().flatten().map(|o| o.id).collect();
    wanted.insert(e.op.id);
    let first = Scope::new(h, k, obj.initial, Some(&wanted));
    let found = obj.key(&first, true).or_else(|| {
        (k.ops.len() <= MAX_CANDIDATES)
            .then(|| obj.key(&Scope::new(h, k, obj.initial, None), true))
            .flatten()
    });
    Some(found.unwrap_or_else(other))
}

/// The anomaly a sequential-consistency report shows, or `None` unless it
/// is invalid.
pub fn sequential(
    h: &History,
    kind: ModelKind,
    opts: &ModelOptions,
    r: &SequentialReport,
) -> Option<NamedAnomaly> {
    if r.valid != Verdict::Invalid {
        return None;
    }
    let other = || {
        NamedAnomaly::other(
            "no order of the operations keeps every process's order",
            Vec::new(),
        )
    };
    let minimal: Option<BTreeSet<usize>> = r
        .counterexample
        .as_ref()
        .and_then(|c| c.minimal.as_ref())
        .map(|m| m.iter().map(|o| o.id).collect());
    if minimal.is_none() && h.operations.len() > MAX_CANDIDATES {
        return Some(other());
    }
    let obj = Object::new(h, kind, opts);
    let scopes = obj.scopes(minimal.as_ref());
    let found = scopes
        .iter()
        .filter(|s| !s.candidates.is_empty())
        .find_map(|s| obj.key(s, false))
        .or_else(|| {
            matches!(
                kind,
                ModelKind::Kv | ModelKind::Register | ModelKind::CasRegister
            )
            .then(|| writes_in_two_orders(&scopes))
            .flatten()
        });
    Some(found.unwrap_or_else(other))
}

/// The anomaly a convergence report shows (its first), or `None` unless
/// it is invalid.
pub fn convergence(r: &ConvergenceReport) -> Option<NamedAnomaly> {
    if r.valid != Verdict::Invalid {
        return None;
    }
    let Some(a) = r.anomalies.first() else {
        return Some(NamedAnomaly::other(
            "the replicas did not converge",
            Vec::new(),
        ));
    };
    let on = |key: &Option<Value>| match key {
        Some(k) => format!(" of key {k}"),
        None => String::new(),
    };
    let (kind, description, ops) = match a {
        Anomaly::Divergence { key, values, reads, .. } => {
            let groups: Vec<String> = values
                .iter()
                .map(|(v, replicas)| format!("{v} on {}", replicas.join(", ")))
                .collect();
            let shown: Vec<String> = reads
                .iter()
                .map(|r| format!("process {} {} (line {})", r.op.process, r.op.op, r.op.invoke_line))
                .collect();
            (
                Kind::Divergence,
                format!(
                    "the final reads{} never agreed: {} ({}).",
                    on(key),
                    groups.join("; "),
                    shown.join(", ")
                ),
                reads.iter().map(|r| r.op.id).collect(),
            )
        }
        Anomaly::FailedButPresent { key, value, update, read } => (
            Kind::FailedButPresent,
            format!(
                "process {}'s {} failed, yet process {} read {value}{} (line {}).",
                update.process, update.op, read.op.process, on(key), read.op.invoke_line
            ),
            vec![update.id, read.op.id],
        ),
        Anomaly::LostUpdate { key, value, lost, winner, lost_count } => (
            Kind::LostUpdate,
            format!(
                "the replicas settled on {value}{}, losing process {}'s acknowledged {} (line {}), which came later in real time ({lost_count} lost in all).",
                on(key), lost.process, lost.op, lost.invoke_line
            ),
            winner.iter().map(|w| w.id).chain([lost.id]).collect(),
        ),
        Anomaly::Unexplained { key, value, read, why } => (
            Kind::UnexplainedRead,
            format!("process {} read {value}{} (line {}): {why}.", read.op.process, on(key), read.op.invoke_line),
            vec![read.op.id],
        ),
        Anomaly::Lost { key, value, update, why, missing_from } => (
            Kind::LostElement,
            format!("{value}{}, from process {}'s acknowledged {} (line {}), is lost: {why}.", on(key), update.process, update.op, update.invoke_line),
            std::iter::once(update.id).chain(missing_from.iter().map(|r| r.op.id)).collect(),
        ),
        Anomaly::Duplicated { key, value, enqueued, dequeued } => (
            Kind::DuplicatedElement,
            format!("{value}{} was dequeued {dequeued} times but enqueued {enqueued} time(s).", on(key)),
            Vec::new(),
        ),
        Anomaly::OutOfBounds { key, read, value, lower, upper, .. } => (
            Kind::CounterOutOfBounds,
            format!(
                "process {} read {value}{} (line {}), but the increments allow only {lower} to {upper}.",
                read.op.process, on(key), read.op.invoke_line
            ),
            vec![read.op.id],
        ),
    };
    Some(NamedAnomaly::new(kind, description, ops))
}
