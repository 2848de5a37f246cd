//! A summary of a history: what `labrys stats` prints.
//!
//! Counts events by type and by `f`, client processes, crashed (`info`) and
//! never-completed operations, keys, fault (nemesis) events and the
//! processes that logged them, and the span of recorded time. Pure: the renderers in [`report`](crate::report) draw it.

use super::{History, OpType, Outcome, Process, Value};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Counts of events by type.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TypeCounts {
    /// Invocations.
    pub invoke: usize,
    /// `ok` completions.
    pub ok: usize,
    /// `fail` completions.
    pub fail: usize,
    /// `info` completions.
    pub info: usize,
}

impl TypeCounts {
    fn add(&mut self, t: OpType) {
        match t {
            OpType::Invoke => self.invoke += 1,
            OpType::Ok => self.ok += 1,
            OpType::Fail => self.fail += 1,
            OpType::Info => self.info += 1,
        }
    }
}

/// The span of the `time` field over all events, in nanoseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimeSpan {
    /// The earliest time recorded.
    pub first_ns: i64,
    /// The latest time recorded.
    pub last_ns: i64,
    /// `last_ns - first_ns` (saturating).
    pub span_ns: i64,
}

/// A history's summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Every event (invocations and completions, fault events included).
    pub events: usize,
    /// Client events by type.
    pub client: TypeCounts,
    /// Client events by `f`, then by type.
    pub by_f: BTreeMap<String, TypeCounts>,
    /// Client operations (invocations paired with their completions).
    pub operations: usize,
    /// Client operations completed `info` (crashed: outcome unknown).
    pub crashed: usize,
    /// Client operations never completed before the history ended.
    pub pending: usize,
    /// Distinct client process ids.
    pub processes: usize,
    /// Distinct keys (0 for histories without keys).
    pub keys: usize,
    /// Fault events: the events of the processes that are not clients.
    pub fault_events: usize,
    /// Fault events by `f`.
    pub fault_by_f: BTreeMap<String, usize>,
    /// The processes whose events were taken as fault events, as written,
    /// in order of first appearance.
    pub fault_processes: Vec<Process>,
    /// The span of recorded time, when events carry `time`.
    pub time: Option<TimeSpan>,
}

impl Stats {
    /// Summarizes a history.
    pub fn of(history: &History) -> Stats {
        let mut client = TypeCounts::default();
        let mut by_f: BTreeMap<String, TypeCounts> = BTreeMap::new();
        let mut processes = BTreeSet::new();
        let mut keys: BTreeSet<&Value> = BTreeSet::new();
        let mut fault_by_f: BTreeMap<String, usize> = BTreeMap::new();
        let mut first = i64::MAX;
        let mut last = i64::MIN;
        let mut faults = history.nemesis.iter().peekable();
        for (i, op) in history.ops.iter().enumerate() {
            if let Some(t) = op.time {
                first = first.min(t);
                last = last.max(t);
            }
            if faults.next_if_eq(&&i).is_some() {
                *fault_by_f.entry(op.f.to_string()).or_default() += 1;
                continue;
            }
            processes.insert(&op.process);
            client.add(op.op_type);
            by_f.entry(op.f.to_string()).or_default().add(op.op_type);
            if let Some(k) = &op.key {
                keys.insert(k);
            }
        }
        let crashed = history
            .operations
            .iter()
            .filter(|o| o.outcome == Outcome::Info && o.complete.is_some())
            .count();
        let pending = history
            .operations
            .iter()
            .filter(|o| o.complete.is_none())
            .count();
        Stats {
            events: history.ops.len(),
            client,
            by_f,
            operations: history.operations.len(),
            crashed,
            pending,
            processes: processes.len(),
            keys: keys.len(),
            fault_events: history.nemesis.len(),
            fault_by_f,
            fault_processes: history.fault_processes.clone(),
            time: (first <= last).then(|| TimeSpan {
                first_ns: first,
                last_ns: last,
                span_ns: last.saturating_sub(first),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Op;

    #[test]
    fn counts_a_small_history() {
        let mut ops = vec![
            Op::new(OpType::Invoke, 0, "write", Value::Int(1)),
            Op::new(OpType::Invoke, 1, "read", Value::Nil),
            Op::new(OpType::Ok, 1, "read", Value::Nil),
            Op::new(OpType::Info, 0, "write", Value::Keyword("timeout".into())),
            Op::new(OpType::Invoke, 5, "cas", Value::Nil),
        ];
        let mut n = Op::new(OpType::Info, 0, "start-partition", Value::Nil);
        n.process = Process::Named("nemesis".into());
        ops.push(n);
        for (i, op) in ops.iter_mut().enumerate() {
            op.time = Some(100 * i as i64);
            op.key = Some(Value::Int(i as i64 % 2));
        }
        let s = Stats::of(&History::from_ops(ops).unwrap());
        assert_eq!(s.events, 6);
        assert_eq!(s.client.invoke, 3);
        assert_eq!(s.client.ok, 1);
        assert_eq!(s.client.info, 1);
        assert_eq!(s.by_f["write"].invoke, 1);
        assert_eq!(s.by_f["write"].info, 1);
        assert_eq!(s.operations, 3);
        assert_eq!(s.crashed, 1);
        assert_eq!(s.pending, 1);
        assert_eq!(s.processes, 3);
        assert_eq!(s.keys, 2);
        assert_eq!(s.fault_events, 1);
        assert_eq!(s.fault_by_f["start-partition"], 1);
        assert_eq!(s.fault_processes, vec![Process::Named("nemesis".into())]);
        assert_eq!(s.time.unwrap().span_ns, 500);
    }
}
