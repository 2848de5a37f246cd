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
//! - ops of named processes (`:nemesis`) are fault events, kept for reports
//!   and ignored by checkers.
//!
//! Formats are detected from content ([`Format::detect`]): Jepsen's
//! `history.edn`, Jepsen's text logs (`history.txt` and `jepsen.util` log
//! lines), and JSON (an array of ops, or JSON Lines).

mod edn;
mod error;
mod json;
mod op;
pub mod stats;
mod text;
mod value;
pub mod write;

pub use error::{Error, Position, Result};
pub use op::{Op, OpType, Process};
pub use value::{Float, Value};

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
/// history (a cas register, 64 clients) peaks at 8 times its size while
/// it is read, and holds 3.3 times once read. A value that is one long
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
}

/// What became of a client operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
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
    /// The client process.
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
    /// Indices in [`History::ops`] of the nemesis (named-process) events.
    pub nemesis: Vec<usize>,
}

impl History {
    /// Parses a history from text, detecting its format unless forced.
    pub fn parse(input: &str, options: &LoadOptions) -> Result<History> {
        let format = options.format.unwrap_or_else(|| Format::detect(input));
        let mut ops = match format {
            Format::Edn => edn::parse(input)?,
            Format::Text => text::parse(input)?,
            Format::Json => json::parse(input)?,
        };
        if options.independent {
            split_independent(&mut ops)?;
        }
        History::from_ops(ops)
    }

    /// Reads and parses a history file. Errors name the file.
    pub fn load(path: &Path, options: &LoadOptions) -> Result<History> {
        let bytes = std::fs::read(path)
            .map_err(|e| Error::msg(format!("cannot read the file: {e}")).in_file(path))?;
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            let before = &bytes[..e.valid_up_to()];
            let line = before.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
            let column = before.iter().rev().take_while(|&&b| b != b'\n').count() as u32 + 1;
            Error::at(
                Position::new(line, column),
                "expected UTF-8 text, found an invalid byte",
            )
            .in_file(path)
        })?;
        History::parse(text, options).map_err(|e| e.in_file(path))
    }

    /// Builds a history from events, pairing invocations with completions.
    ///
    /// Errors: a completion whose process has no pending invocation, or a
    /// second invocation while the process still has one pending.
    pub fn from_ops(ops: Vec<Op>) -> Result<History> {
        let mut operations = Vec::new();
        let mut nemesis = Vec::new();
        // process -> index into `operations` of its pending invocation
        let mut pending: HashMap<i64, usize> = HashMap::new();
        for (i, op) in ops.iter().enumerate() {
            let p = match op.process {
                Process::Client(p) => p,
                Process::Named(_) => {
                    nemesis.push(i);
                    continue;
                }
            };
            match op.op_type {
                OpType::Invoke => {
                    if let Some(&prev) = pending.get(&p) {
                        let first: &Operation = &operations[prev];
                        return Err(Error::at(
                            Position::line(op.line),
                            format!(
                                "process {p} invoked :{} while its :{} invoked on line {} is still pending: expected a completion (ok, fail or info) first",
                                op.f, ops[first.invoke].f, ops[first.invoke].line
                            ),
                        ));
                    }
                    pending.insert(p, operations.len());
                    operations.push(Operation {
                        process: p,
                        invoke: i,
                        complete: None,
                        outcome: Outcome::Info,
                    });
                }
                t => {
                    let Some(slot) = pending.remove(&p) else {
                        return Err(Error::at(
                            Position::line(op.line),
                            format!(
                                "process {p} completed :{} ({t}) with no pending invocation: expected an :invoke by process {p} first",
                                op.f
                            ),
                        ));
                    };
                    let o = &mut operations[slot];
                    o.complete = Some(i);
                    o.outcome = match t {
                        OpType::Ok => Outcome::Ok,
                        OpType::Fail => Outcome::Fail,
                        _ => Outcome::Info,
                    };
                }
            }
        }
        Ok(History {
            ops,
            operations,
            nemesis,
        })
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

/// Rewrites `[key value]` tuples (Jepsen `independent`) into `key` + `value`.
fn split_independent(ops: &mut [Op]) -> Result<()> {
    for op in ops.iter_mut() {
        if !op.is_client() {
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
                        "expected an independent [key value] tuple as the value, found {other}"
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
        split_independent(&mut ops).unwrap();
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
                    independent: false,
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
