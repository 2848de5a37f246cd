//! Histories: loading them in every format users have, and pairing each
//! invocation with its completion.
//!
//! A history is the list of events a test recorded, in real-time order:
//! each client operation appears as an *invocation* followed later by a
//! *completion* from the same process. Jepsen's conventions apply:
//!
//! - an invocation is completed by the next completion of the same process;
//! - `ok` took effect, `fail` did not, and `info` (or an invocation never
//!   completed) is *indeterminate*: it may take effect at any time after its
//!   invocation, or never;
//! - for an `info` completion the op's input comes from the invocation (the
//!   completion's value often holds an error, as in `:info :write
//!   :timed-out`); a read's result comes from its `ok` completion;
//! - a process is a *client* when it invokes operations, whatever its id:
//!   an integer, a keyword (`:c1`) or a string (`"worker-3"`); *fault
//!   events* (kept for reports, ignored by checkers) are the events of
//!   Jepsen's nemesis (a process named `nemesis`), of the processes
//!   [`LoadOptions::nemesis`] names, and of a process that never invokes
//!   and logs only `info` events (the way Jepsen's nemesis logs its ops).
//!
//! Formats are detected from content ([`Format::detect`]): Jepsen's
//! `history.edn`, Jepsen's text logs (`history.txt` and `jepsen.util` log
//! lines), and JSON (an array of ops, or JSON Lines).

mod budget;
mod clock;
mod edn;
mod error;
mod json;
mod op;
pub mod stats;
mod text;
mod value;
pub mod write;

pub use error::{excerpt, Error, Position, Result};
pub use op::{Op, OpType, Process};
pub use value::{Float, Value};

use crate::memory::Budget;
use std::collections::HashMap;
use std::path::Path;

/// The input formats labrys reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Jepsen's `history.edn`: op maps, one per line or wrapped in `[...]`
    /// or `(...)`, possibly written as `#jepsen.history.Op{...}` records.
    Edn,
    /// Jepsen's text histories: `history.txt` (tab-separated process, type,
    /// f, value, optional error) and `jepsen.util` log lines.
    Text,
    /// A JSON array of op objects, or JSON Lines (one object per line).
    Json,
}

impl Format {
    /// Guesses the format from the first meaningful characters of the input:
    /// a map whose first key is a JSON string is JSON (also inside a
    /// top-level array); any other map, list, record or vector is EDN; a
    /// line that starts otherwise is Jepsen text.
    pub fn detect(input: &str) -> Format {
        let mut rest = input;
        // The first significant character, skipping white space and `;`
        // comments (EDN's; a JSON or text history has neither before its
        // first op).
        let next = |rest: &mut &str| -> Option<char> {
            loop {
                let t = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
                if let Some(comment) = t.strip_prefix(';') {
                    *rest = comment.find('\n').map_or("", |i| &comment[i..]);
                    continue;
                }
                let c = t.chars().next()?;
                *rest = &t[c.len_utf8()..];
                return Some(c);
            }
        };
        match next(&mut rest) {
            None => Format::Json,
            Some('{') => match next(&mut rest) {
                Some('"') | Some('}') | None => Format::Json,
                _ => Format::Edn,
            },
            Some('[') => match next(&mut rest) {
                Some('{') => match next(&mut rest) {
                    Some('"') | Some('}') => Format::Json,
                    _ => Format::Edn,
                },
                Some(']') | None => Format::Json,
                _ => Format::Edn,
            },
            Some('(') | Some('#') => Format::Edn,
            Some(_) => Format::Text,
        }
    }

    /// The format's name, as the `--input-format` flag spells it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Edn => "edn",
            Format::Text => "text",
            Format::Json => "json",
        }
    }
}

/// Loading a file takes at most this many times its size in allocated
/// bytes (the file's bytes, the events and their values, and the room
/// reserved for them), for histories whose values are scalars and short
/// collections, as Jepsen's are: the generated million-op JSON Lines
/// history (a cas register, 64 clients, 172 MB) peaks at 686 MB resident
/// while it is read (4 times its size; 3.9 times for the same history in
/// EDN), each event taking 144 bytes besides its values (see
/// [`Op`]). The factor leaves room for what is reserved but not yet
/// touched, which the budget counts too. A value that is one long
/// collection of small elements takes more per byte of the file (32
/// bytes per element, and room reserved as the collection grows: a
/// 50-million-element vector of one-digit numbers, a 100 MB file, peaks
/// at 28 times).
pub const LOAD_FACTOR: usize = 10;

/// How to read a history.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Force a format instead of detecting it.
    pub format: Option<Format>,
    /// Read `value`s as Jepsen `independent` tuples `[key value]`.
    pub independent: bool,
    /// Processes whose events are fault events, not client operations, as
    /// [`Process::is_named`] matches them (`nemesis`, `7`, `chaos`).
    pub nemesis: Vec<String>,
    /// The memory budget of the load: reading stops with an input error
    /// (at the position reached) when the bytes in use pass it, or when a
    /// collection and the checkers' copies of it would not fit.
    pub memory: Option<Budget>,
}

/// What became of a client operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Completed `ok`: it took effect.
    Ok,
    /// Completed `fail`: it did not take effect.
    Fail,
    /// Completed `info`, or never completed: it may or may not have taken
    /// effect, at any time after its invocation.
    Info,
}

/// A client operation: an invocation paired with its completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operation {
    /// The client's number: its id for an integer client; a named client
    /// gets one of the smallest non-negative numbers no integer client
    /// uses, in order of first appearance (so the numbers never collide).
    /// Reports show the id as written ([`History::process`]).
    pub process: i64,
    /// Index of the invocation in [`History::ops`].
    pub invoke: usize,
    /// Index of the completion in [`History::ops`]; `None` if the history
    /// ended first.
    pub complete: Option<usize>,
    /// What became of it.
    pub outcome: Outcome,
}

impl Operation {
    /// The position of the op's response in real time: the completion's
    /// index for `ok` and `fail`, and `usize::MAX` (after everything) for
    /// indeterminate ops, which may take effect at any later time.
    pub fn response(&self) -> usize {
        match (self.outcome, self.complete) {
            (Outcome::Ok | Outcome::Fail, Some(c)) => c,
            _ => usize::MAX,
        }
    }
}

/// A loaded history: every event in file order, and the client operations
/// paired from them.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Every event, in the order recorded (real time).
    pub ops: Vec<Op>,
    /// Client operations, in invocation order.
    pub operations: Vec<Operation>,
    /// Indices in [`History::ops`] of the fault events (the nemesis's).
    pub nemesis: Vec<usize>,
    /// The processes whose events are fault events, in order of first
    /// appearance.
    pub fault_processes: Vec<Process>,
}

impl History {
    /// Parses a history from text, detecting its format unless forced.
    pub fn parse(input: &str, options: &LoadOptions) -> Result<History> {
        let format = options.format.unwrap_or_else(|| Format::detect(input));
        let ops = budget::with(options.memory.as_ref(), || match format {
            Format::Edn => edn::parse(input),
            Format::Text => text::parse(input),
            Format::Json => json::parse(input),
        })?;
        History::build(ops, options)
    }

    /// Reads and parses a history file. Errors name the file.
    pub fn load(path: &Path, options: &LoadOptions) -> Result<History> {
        let bytes = std::fs::read(path)
            .map_err(|e| Error::msg(format!("cannot read the file: {e}")).in_file(path))?;
        History::parse_bytes(&bytes, options).map_err(|e| e.in_file(path))
    }

    /// Parses a history from bytes that must be UTF-8 text (a file's, or
    /// standard input's), detecting its format unless forced.
    pub fn parse_bytes(bytes: &[u8], options: &LoadOptions) -> Result<History> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let before = &bytes[..e.valid_up_to()];
            let line = before.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
            let column = before.iter().rev().take_while(|&&b| b != b'\n').count() as u32 + 1;
            Error::at(
                Position::new(line, column),
                "expected UTF-8 text, found an invalid byte",
            )
        })?;
        History::parse(text, options)
    }

    /// Builds a history from events, pairing invocations with completions
    /// (every process but `nemesis` and those that only log `info` events
    /// is a client).
    ///
    /// Errors: a completion whose process has no pending invocation, or a
    /// second invocation while the process still has one pending.
    pub fn from_ops(ops: Vec<Op>) -> Result<History> {
        History::build(ops, &LoadOptions::default())
    }

    /// Builds a history from events as `options` say (the format is
    /// ignored): classifies processes, splits `independent` tuples, pairs.
    pub fn build(mut ops: Vec<Op>, options: &LoadOptions) -> Result<History> {
        let roles = Roles::of(&ops, &options.nemesis);
        if options.independent {
            split_independent(&mut ops, &roles)?;
        }
        let mut operations = Vec::new();
        let mut nemesis = Vec::new();
        // per process slot: index into `operations` of its pending invocation
        let mut pending = vec![usize::MAX; roles.slots.len()];
        for (i, op) in ops.iter().enumerate() {
            let slot = roles.slot_of[i] as usize;
            let Some(p) = roles.slots[slot].client else {
                nemesis.push(i);
                continue;
            };
            let who = &op.process;
            match op.op_type {
                OpType::Invoke => {
                    if let Some(first) = operations.get(pending[slot]) {
                        let first: &Operation = first;
                        return Err(Error::at(
                            Position::line(op.line),
                            format!(
                                "process {who} invoked :{} while its :{} invoked on line {} is still pending: expected a completion (ok, fail or info) first",
                                excerpt(&op.f), excerpt(&ops[first.invoke].f), ops[first.invoke].line
                            ),
                        ));
                    }
                    pending[slot] = operations.len();
                    operations.push(Operation {
                        process: p,
                        invoke: i,
                        complete: None,
                        outcome: Outcome::Info,
                    });
                }
                t => {
                    let Some(o) = operations.get_mut(pending[slot]) else {
                        return Err(Error::at(
                            Position::line(op.line),
                            format!(
                                "process {who} completed :{} ({t}) with no pending invocation: expected an :invoke by process {who} first",
                                excerpt(&op.f)
                            ),
                        ));
                    };
                    pending[slot] = usize::MAX;
                    o.complete = Some(i);
                    o.outcome = match t {
                        OpType::Ok => Outcome::Ok,
                        OpType::Fail => Outcome::Fail,
                        _ => Outcome::Info,
                    };
                }
            }
        }
        let fault_processes = roles
            .slots
            .into_iter()
            .filter(|s| s.client.is_none())
            .map(|s| ops[s.first].process.clone())
            .collect();
        Ok(History {
            ops,
            operations,
            nemesis,
            fault_processes,
        })
    }

    /// The process of a client operation, as the history wrote it.
    pub fn process(&self, op: &Operation) -> &Process {
        &self.ops[op.invoke].process
    }

    /// The number of the operation's client that Jepsen's `process mod N`
    /// assigns replicas by: an integer id itself; for a named client, the
    /// number its name ends with (`worker-3`: 3), else its
    /// [`Operation::process`] number.
    pub fn client_number(&self, op: &Operation) -> i64 {
        let Some(name) = self.process(op).name() else {
            return op.process;
        };
        let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        name[name.len() - digits..].parse().unwrap_or(op.process)
    }

    /// The invocation of a client operation.
    pub fn invocation(&self, op: &Operation) -> &Op {
        &self.ops[op.invoke]
    }

    /// The completion of a client operation, if it has one.
    pub fn completion(&self, op: &Operation) -> Option<&Op> {
        op.complete.map(|c| &self.ops[c])
    }

    /// The key of a client operation: the invocation's, else the completion's.
    pub fn key(&self, op: &Operation) -> Option<&Value> {
        self.invocation(op)
            .key
            .as_ref()
            .or_else(|| self.completion(op).and_then(|c| c.key.as_ref()))
    }

    /// The operation's input: the invocation's value, or the completion's
    /// when the invocation carried none (some clients log it only there).
    pub fn input(&self, op: &Operation) -> &Value {
        let inv = self.invocation(op);
        match (&inv.value, op.outcome, self.completion(op)) {
            (Value::Nil, Outcome::Ok, Some(c)) => &c.value,
            (v, _, _) => v,
        }
    }

    /// The operation's observed result: the `ok` completion's value.
    pub fn output(&self, op: &Operation) -> Option<&Value> {
        match op.outcome {
            Outcome::Ok => self.completion(op).map(|c| &c.value),
            _ => None,
        }
    }
}

/// Who each process is: a client (with its number) or a fault injector.
struct Roles {
    /// One per distinct process, in order of first appearance.
    slots: Vec<Role>,
    /// The slot of each event's process.
    slot_of: Vec<u32>,
}

/// One process's role.
struct Role {
    /// Index of its first event.
    first: usize,
    /// Its number ([`Operation::process`]) if it is a client, `None` if its
    /// events are fault events.
    client: Option<i64>,
}

impl Roles {
    /// Classifies the processes of `ops`: a process is a fault injector
    /// when it is named `nemesis`, is named in `nemesis`, or never invokes
    /// and logs only `info` events; every other process is a client.
    fn of(ops: &[Op], nemesis: &[String]) -> Roles {
        let mut index: HashMap<&Process, u32> = HashMap::new();
        // per slot: (first event, does it invoke, does it log only info)
        let mut seen: Vec<(usize, bool, bool)> = Vec::new();
        let mut slot_of = Vec::with_capacity(ops.len());
        for (i, op) in ops.iter().enumerate() {
            let slot = *index.entry(&op.process).or_insert_with(|| {
                seen.push((i, false, true));
                (seen.len() - 1) as u32
            });
            let s = &mut seen[slot as usize];
            s.1 |= op.op_type == OpType::Invoke;
            s.2 &= op.op_type == OpType::Info;
            slot_of.push(slot);
        }
        let is_fault = |&(first, invokes, only_info): &(usize, bool, bool)| {
            let p = &ops[first].process;
            p.name() == Some("nemesis")
                || nemesis.iter().any(|n| p.is_named(n))
                || (!invokes && only_info)
        };
        let used: std::collections::HashSet<i64> = seen
            .iter()
            .filter(|s| !is_fault(s))
            .filter_map(|s| ops[s.0].process.client())
            .collect();
        let mut free = (0..).filter(|n| !used.contains(n));
        let slots = seen
            .iter()
            .map(|s| Role {
                first: s.0,
                client: (!is_fault(s)).then(|| {
                    ops[s.0]
                        .process
                        .client()
                        .unwrap_or_else(|| free.next().unwrap_or(i64::MAX))
                }),
            })
            .collect();
        Roles { slots, slot_of }
    }

    /// Is event `i` a client's?
    fn is_client(&self, i: usize) -> bool {
        self.slots[self.slot_of[i] as usize].client.is_some()
    }
}

/// Rewrites `[key value]` tuples (Jepsen `independent`) into `key` + `value`.
fn split_independent(ops: &mut [Op], roles: &Roles) -> Result<()> {
    for (i, op) in ops.iter_mut().enumerate() {
        if !roles.is_client(i) {
            continue;
        }
        match std::mem::replace(&mut op.value, Value::Nil) {
            Value::Vector(mut kv) if kv.len() == 2 => {
                let v = kv.pop().unwrap_or(Value::Nil);
                op.key = Some(kv.pop().unwrap_or(Value::Nil));
                op.value = v;
            }
            // A crashed op's completion may carry only an error.
            other if op.op_type == OpType::Info || other.is_nil() => op.value = other,
            other => {
                return Err(Error::at(
                    Position::line(op.line),
                    format!(
                        "expected an independent [key value] tuple as the value, found {}",
                        excerpt(other)
                    ),
                ))
            }
        }
    }
    Ok(())
}

impl Value {
    /// Parses one EDN value, such as a command-line `--initial` argument:
    /// `nil`, `0`, `""`, `:absent`, `[1 2]`, `#{}`.
    pub fn parse_edn(text: &str) -> Result<Value> {
        let mut reader = edn::Reader::new(text, 1);
        let value = reader.read()?;
        if !reader.at_end()? {
            return Err(Error::at(
                reader.position(),
                "expected one EDN value, found more after it",
            ));
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(t: OpType, p: i64, f: &str, v: Value, line: u32) -> Op {
        let mut o = Op::new(t, p, f, v);
        o.line = line;
        o
    }

    #[test]
    fn pairs_invocations_with_completions() {
        let h = History::from_ops(vec![
            op(OpType::Invoke, 0, "write", Value::Int(1), 1),
            op(OpType::Invoke, 1, "read", Value::Nil, 2),
            op(OpType::Ok, 1, "read", Value::Int(1), 3),
            op(
                OpType::Info,
                0,
                "write",
                Value::Keyword("timeout".into()),
                4,
            ),
            op(OpType::Invoke, 2, "read", Value::Nil, 5),
        ])
        .unwrap();
        assert_eq!(h.operations.len(), 3);
        let w = h.operations[0];
        assert_eq!(
            (w.outcome, w.complete, w.response()),
            (Outcome::Info, Some(3), usize::MAX)
        );
        assert_eq!(h.input(&w), &Value::Int(1));
        let r = h.operations[1];
        assert_eq!((r.outcome, r.response()), (Outcome::Ok, 2));
        assert_eq!(h.output(&r), Some(&Value::Int(1)));
        assert_eq!(h.operations[2].complete, None);
    }

    #[test]
    fn rejects_completion_without_invocation() {
        let e = History::from_ops(vec![op(OpType::Ok, 4, "read", Value::Nil, 12)]).unwrap_err();
        assert_eq!(e.position.line, 12);
        assert!(e.message.contains("no pending invocation"), "{e}");
    }

    #[test]
    fn rejects_second_invocation_on_busy_process() {
        let e = History::from_ops(vec![
            op(OpType::Invoke, 4, "read", Value::Nil, 1),
            op(OpType::Invoke, 4, "write", Value::Int(1), 2),
        ])
        .unwrap_err();
        assert_eq!(e.position.line, 2);
        assert!(e.message.contains("still pending"), "{e}");
    }

    fn named(t: OpType, p: Process, f: &str, v: Value) -> Op {
        let mut o = Op::new(t, 0, f, v);
        o.process = p;
        o
    }

    fn s(name: &str) -> Process {
        Process::Str(name.into())
    }

    #[test]
    fn clients_named_by_strings_are_paired_not_dropped() {
        let h = History::from_ops(vec![
            named(OpType::Invoke, s("c1"), "write", Value::Int(1)),
            named(OpType::Ok, s("c1"), "write", Value::Int(1)),
            named(
                OpType::Invoke,
                Process::Named("c2".into()),
                "read",
                Value::Nil,
            ),
            named(
                OpType::Ok,
                Process::Named("c2".into()),
                "read",
                Value::Int(7),
            ),
        ])
        .unwrap();
        assert_eq!(h.operations.len(), 2);
        assert!(h.nemesis.is_empty() && h.fault_processes.is_empty());
        assert_eq!(h.process(&h.operations[1]), &Process::Named("c2".into()));
        assert_ne!(h.operations[0].process, h.operations[1].process);
    }

    #[test]
    fn named_clients_are_numbered_apart_from_integer_ones() {
        let h = History::from_ops(vec![
            named(OpType::Invoke, s("a"), "read", Value::Nil),
            op(OpType::Invoke, 0, "read", Value::Nil, 2),
            op(OpType::Invoke, 2, "read", Value::Nil, 3),
            named(OpType::Invoke, s("worker-7"), "read", Value::Nil),
            named(OpType::Invoke, s("b"), "read", Value::Nil),
        ])
        .unwrap();
        let numbers: Vec<i64> = h.operations.iter().map(|o| o.process).collect();
        assert_eq!(numbers, vec![1, 0, 2, 3, 4]);
        // Replicas: an integer id, else the number a name ends with, else
        // the client's number.
        let replicas: Vec<i64> = h.operations.iter().map(|o| h.client_number(o)).collect();
        assert_eq!(replicas, vec![1, 0, 2, 7, 4]);
    }

    #[test]
    fn fault_processes_are_the_nemesis_the_named_and_those_that_only_log_info() {
        let ops = vec![
            op(OpType::Invoke, 0, "write", Value::Int(1), 1),
            named(
                OpType::Info,
                Process::Named("nemesis".into()),
                "start",
                Value::Nil,
            ),
            named(OpType::Info, s("chaos"), "kill", Value::Nil),
            op(OpType::Ok, 0, "write", Value::Int(1), 4),
            named(OpType::Invoke, s("killer"), "pause", Value::Nil),
            named(OpType::Info, s("killer"), "pause", Value::Nil),
            op(OpType::Invoke, 7, "pause", Value::Nil, 7),
            op(OpType::Ok, 7, "pause", Value::Nil, 8),
        ];
        let h = History::from_ops(ops.clone()).unwrap();
        assert_eq!(h.nemesis, vec![1, 2]);
        assert_eq!(
            h.fault_processes,
            vec![Process::Named("nemesis".into()), s("chaos")]
        );
        assert_eq!(h.operations.len(), 3);
        let options = LoadOptions {
            nemesis: vec!["killer".into(), "7".into()],
            ..LoadOptions::default()
        };
        let h = History::build(ops, &options).unwrap();
        assert_eq!(h.nemesis, vec![1, 2, 4, 5, 6, 7]);
        assert_eq!(h.operations.len(), 1);
        assert_eq!(h.fault_processes.len(), 4);
    }

    #[test]
    fn jepsen_nemesis_beside_integer_clients_is_as_it_was() {
        let nemesis = |f: &str| {
            named(
                OpType::Info,
                Process::Named("nemesis".into()),
                f,
                Value::Nil,
            )
        };
        let h = History::from_ops(vec![
            op(OpType::Invoke, 0, "write", Value::Int(1), 1),
            nemesis("start"),
            op(OpType::Invoke, 1, "read", Value::Nil, 3),
            nemesis("start"),
            op(OpType::Info, 0, "write", Value::Nil, 5),
            op(OpType::Ok, 1, "read", Value::Int(1), 6),
            nemesis("stop"),
            nemesis("stop"),
            op(OpType::Invoke, 5, "read", Value::Nil, 9),
        ])
        .unwrap();
        assert_eq!(h.nemesis, vec![1, 3, 6, 7]);
        let ops: Vec<(i64, usize, Option<usize>)> = h
            .operations
            .iter()
            .map(|o| (o.process, o.invoke, o.complete))
            .collect();
        assert_eq!(ops, vec![(0, 0, Some(4)), (1, 2, Some(5)), (5, 8, None)]);
    }

    #[test]
    fn pairing_errors_name_the_process_as_written() {
        let e =
            History::from_ops(vec![named(OpType::Ok, s("c1"), "read", Value::Nil)]).unwrap_err();
        assert!(e.message.contains(r#"process "c1" completed"#), "{e}");
        let e = History::from_ops(vec![
            named(
                OpType::Invoke,
                Process::Named("w".into()),
                "read",
                Value::Nil,
            ),
            named(
                OpType::Invoke,
                Process::Named("w".into()),
                "read",
                Value::Nil,
            ),
        ])
        .unwrap_err();
        assert!(e.message.contains("process :w invoked"), "{e}");
    }

    #[test]
    fn detects_formats_from_content() {
        assert_eq!(Format::detect("{\"type\": \"invoke\"}"), Format::Json);
        assert_eq!(
            Format::detect("[\n  {\"type\": \"invoke\"}\n]"),
            Format::Json
        );
        assert_eq!(Format::detect("[]"), Format::Json);
        assert_eq!(Format::detect(""), Format::Json);
        assert_eq!(Format::detect("{:type :invoke}"), Format::Edn);
        assert_eq!(
            Format::detect("; a comment\n{\n  :type :invoke}"),
            Format::Edn
        );
        assert_eq!(Format::detect("[{:type :invoke}]"), Format::Edn);
        assert_eq!(Format::detect("(\n{:type :ok})"), Format::Edn);
        assert_eq!(Format::detect("#jepsen.history.Op{:type :ok}"), Format::Edn);
        assert_eq!(
            Format::detect("INFO  jepsen.util - 3\t:ok\t:read\tnil"),
            Format::Text
        );
        assert_eq!(Format::detect("3\t:invoke\t:read\tnil"), Format::Text);
    }

    #[test]
    fn splits_independent_tuples() {
        let mut ops = vec![op(
            OpType::Invoke,
            0,
            "write",
            Value::Vector(vec![Value::Int(7), Value::Int(3)]),
            1,
        )];
        let roles = Roles::of(&ops, &[]);
        split_independent(&mut ops, &roles).unwrap();
        assert_eq!(ops[0].key, Some(Value::Int(7)));
        assert_eq!(ops[0].value, Value::Int(3));
    }

    mod robustness {
        use super::super::*;
        use proptest::prelude::*;

        const VALID: [&str; 4] = [
            "{:process 0, :type :invoke, :f :cas, :value [1 2], :key \"k\"}\n#jepsen.history.Op{:process 0 :type :ok :f :cas :value #{1 2} :time 3}\n",
            "[{:process :nemesis, :type :info, :f :start, :value #inst \"2020\"} ; c\n #_ {:x 1}]",
            "INFO  jepsen.util - 2\t:invoke\t:cas\t[3 0]\nINFO  jepsen.util - 2  :fail  :cas  [3 0]  :err\n0\t:invoke\t:read\tnil\n",
            "[{\"type\":\"invoke\",\"process\":0,\"f\":\"write\",\"value\":[1,2.5]},\n{\"type\":\"ok\",\"process\":0,\"f\":\"write\",\"value\":{\"a\":null}}]\n",
        ];

        /// Parses with detection and with every forced format; any result
        /// but a panic is fine.
        fn parse_all(text: &str) {
            let _ = History::parse(text, &LoadOptions::default());
            for format in [Format::Edn, Format::Text, Format::Json] {
                let options = LoadOptions {
                    format: Some(format),
                    ..LoadOptions::default()
                };
                if let Err(e) = History::parse(text, &options) {
                    assert!(!e.message.is_empty());
                }
            }
        }

        #[derive(Clone, Debug)]
        enum Edit {
            Insert(usize, u8),
            Delete(usize),
            Replace(usize, u8),
        }

        fn edit() -> impl Strategy<Value = Edit> {
            let byte =
                prop::sample::select(b"{}[]()#_;:\"\\ \t\n,-0123456789.eNx{\xc3\xa9".to_vec());
            prop_oneof![
                (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Insert(i, b)),
                any::<usize>().prop_map(Edit::Delete),
                (any::<usize>(), byte).prop_map(|(i, b)| Edit::Replace(i, b)),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

            #[test]
            fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
                parse_all(&String::from_utf8_lossy(&bytes));
            }

            #[test]
            fn mutated_histories_never_panic(
                which in 0..VALID.len(),
                edits in prop::collection::vec(edit(), 1..6),
            ) {
                let mut bytes = VALID[which].as_bytes().to_vec();
                for e in edits {
                    let n = bytes.len();
                    match e {
                        Edit::Insert(i, b) => bytes.insert(i % (n + 1), b),
                        Edit::Delete(i) if n > 0 => { bytes.remove(i % n); }
                        Edit::Replace(i, b) if n > 0 => bytes[i % n] = b,
                        _ => {}
                    }
                }
                parse_all(&String::from_utf8_lossy(&bytes));
            }
        }

        #[test]
        fn valid_samples_parse() {
            for text in VALID {
                let h = History::parse(text, &LoadOptions::default());
                assert!(h.is_ok(), "{text}: {h:?}");
            }
        }
    }
}
