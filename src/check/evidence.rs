//! Evidence shared by the checkers: operations as reports show them, the
//! paths a search got through, and why the next operation could not follow.
//!
//! Checkers fill these in (with the model's plain-words descriptions);
//! renderers only draw them.

use crate::history::{History, Operation, Outcome, Process, Value};
use serde::Serialize;

/// An operation as a report shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct OpView {
    /// Index of the operation in [`History::operations`].
    pub id: usize,
    /// The client process, as the history wrote it.
    pub process: Process,
    /// The op in the model's words, e.g. `write 3` or `read 2`.
    pub op: String,
    /// What became of it: ok, fail or info.
    pub outcome: Outcome,
    /// Index of the invocation in the history's events.
    pub invoke_index: usize,
    /// Index of the completion, if there is one.
    pub complete_index: Option<usize>,
    /// Source line of the invocation (0 when not from a file).
    pub invoke_line: u32,
    /// Source line of the completion.
    pub complete_line: Option<u32>,
}

impl OpView {
    /// Describes operation `id` of `history`, with the model's wording `op`.
    pub fn new(history: &History, id: usize, op: String) -> OpView {
        let o: &Operation = &history.operations[id];
        OpView {
            id,
            process: history.process(o).clone(),
            op,
            outcome: o.outcome,
            invoke_index: o.invoke,
            complete_index: o.complete,
            invoke_line: history.ops[o.invoke].line,
            complete_line: o.complete.map(|c| history.ops[c].line),
        }
    }
}

impl OpView {
    /// Describes operation `id` of `history` in the history's own words:
    /// its `f` and value (a read's output, a cas's `old -> new`), and its
    /// key, when it has one.
    pub fn plain(history: &History, id: usize) -> OpView {
        let o = &history.operations[id];
        let f: &str = &history.invocation(o).f;
        let value = match (history.output(o), history.input(o)) {
            (Some(out), _) if f == "read" => out.to_string(),
            (_, Value::Nil) if f == "read" => String::new(),
            (_, Value::Vector(p)) if f == "cas" && p.len() == 2 => format!("{} -> {}", p[0], p[1]),
            (_, Value::Nil) => String::new(),
            (_, v) => v.to_string(),
        };
        let words = match (history.key(o), value.is_empty()) {
            (Some(k), true) => format!("{f} {k}"),
            (Some(k), false) => format!("{f} {k}={value}"),
            (None, true) => f.to_string(),
            (None, false) => format!("{f} {value}"),
        };
        OpView::new(history, id, words)
    }
}

/// An operation that could not come next, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Blocked {
    /// The operation.
    pub op: OpView,
    /// The state it was tried in, in plain words.
    pub state: String,
    /// Why it cannot happen there, in plain words.
    pub reason: String,
}

/// A path a search reached: operations placed in order, and the state after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Path {
    /// The operations, in the order they took effect.
    pub ops: Vec<OpView>,
    /// The model state after them, in plain words.
    pub state: String,
}
