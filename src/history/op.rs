//! One history event: an invocation or a completion, in Jepsen's terms.

use super::error::{excerpt, Error, Position, Result};
use super::value::Value;
use std::fmt;
use std::sync::Arc;

/// The four event types of a Jepsen history.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum OpType {
    /// A client began an operation.
    Invoke,
    /// The operation took effect.
    Ok,
    /// The operation certainly did not take effect.
    Fail,
    /// The outcome is unknown: it may take effect at any time after its
    /// invocation, or never.
    Info,
}

impl OpType {
    /// Parses `invoke`, `ok`, `fail` or `info` (with or without a colon).
    pub fn parse(name: &str) -> Option<OpType> {
        match name.strip_prefix(':').unwrap_or(name) {
            "invoke" => Some(OpType::Invoke),
            "ok" => Some(OpType::Ok),
            "fail" => Some(OpType::Fail),
            "info" => Some(OpType::Info),
            _ => None,
        }
    }

    /// The Jepsen name of this type.
    pub fn name(self) -> &'static str {
        match self {
            OpType::Invoke => "invoke",
            OpType::Ok => "ok",
            OpType::Fail => "fail",
            OpType::Info => "info",
        }
    }

    /// Is this a completion (ok, fail or info)?
    pub fn is_completion(self) -> bool {
        self != OpType::Invoke
    }
}

impl fmt::Display for OpType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Who performed an op, as the history wrote it: an integer, a keyword or
/// a string. Whether a process is a client or a fault injector is not told
/// by its id's type: [`History`](super::History) decides it from what the
/// process did (see its docs).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Process {
    /// An integer id, as Jepsen numbers its clients.
    Client(i64),
    /// A keyword (or symbol) id, such as Jepsen's `:nemesis`.
    Named(Box<str>),
    /// A string id, such as `"c1"` or `"worker-3"` (JSON histories name
    /// every non-integer process this way).
    Str(Box<str>),
}

impl Process {
    /// The integer id, if the process has one.
    pub fn client(&self) -> Option<i64> {
        match self {
            Process::Client(p) => Some(*p),
            Process::Named(_) | Process::Str(_) => None,
        }
    }

    /// The name of a keyword or string id.
    pub fn name(&self) -> Option<&str> {
        match self {
            Process::Client(_) => None,
            Process::Named(n) | Process::Str(n) => Some(n),
        }
    }

    /// Is this the id `text` names? An integer matches its decimal form; a
    /// keyword or string matches its name, with or without a leading colon.
    pub fn is_named(&self, text: &str) -> bool {
        match self {
            Process::Client(p) => text.parse::<i64>() == Ok(*p),
            Process::Named(n) | Process::Str(n) => {
                **n == *text || text.strip_prefix(':') == Some(&**n)
            }
        }
    }
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Process::Client(p) => write!(f, "{p}"),
            Process::Named(n) => write!(f, ":{n}"),
            Process::Str(n) => write!(f, "{n:?}"),
        }
    }
}

impl serde::Serialize for Process {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Process::Client(p) => s.serialize_i64(*p),
            Process::Named(n) | Process::Str(n) => s.serialize_str(n),
        }
    }
}

/// Reads a process id back from JSON: an integer, else a string.
impl<'de> serde::Deserialize<'de> for Process {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Id {
            Int(i64),
            Name(String),
        }
        Ok(match Id::deserialize(d)? {
            Id::Int(p) => Process::Client(p),
            Id::Name(n) => Process::Str(n.into()),
        })
    }
}

/// One event of a history, as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    /// Jepsen's `:index` when present, else the op's position in the file.
    pub index: u64,
    /// invoke, ok, fail or info.
    pub op_type: OpType,
    /// The process that performed it.
    pub process: Process,
    /// The function, without a colon: `read`, `write`, `cas`, ... (shared:
    /// a reader makes one per distinct name, not one per op).
    pub f: Arc<str>,
    /// The op's value (`nil` when absent).
    pub value: Value,
    /// The key, for keyed workloads (a `key` field, or the first half of a
    /// `jepsen.independent` tuple when that reading is on).
    pub key: Option<Value>,
    /// Jepsen's `:time`: nanoseconds since the test began.
    pub time: Option<i64>,
    /// The 1-based line of the file where the op begins.
    pub line: u32,
    /// The fields most ops lack, apart, so that an op without them takes
    /// 8 bytes for them rather than 88 (see [`Op::node`], [`Op::error`],
    /// [`Op::extra`]).
    rare: Option<Box<Rare>>,
}

/// The fields of an op that most histories leave out.
#[derive(Clone, Debug, Default, PartialEq)]
struct Rare {
    node: Option<Value>,
    error: Option<Value>,
    extra: Vec<(Box<str>, Value)>,
}

impl Op {
    /// A bare op, for tests and generators.
    pub fn new(op_type: OpType, process: i64, f: &str, value: Value) -> Op {
        Op {
            index: 0,
            op_type,
            process: Process::Client(process),
            f: f.into(),
            value,
            key: None,
            time: None,
            line: 0,
            rare: None,
        }
    }

    /// The node (replica) that served the op, when recorded.
    pub fn node(&self) -> Option<&Value> {
        self.rare.as_ref().and_then(|r| r.node.as_ref())
    }

    /// An error, when recorded (a text history's fifth column, or
    /// `:error`).
    pub fn error(&self) -> Option<&Value> {
        self.rare.as_ref().and_then(|r| r.error.as_ref())
    }

    /// Any other fields, in source order.
    pub fn extra(&self) -> &[(Box<str>, Value)] {
        self.rare.as_ref().map_or(&[], |r| &r.extra)
    }

    /// Records the node that served the op.
    pub fn set_node(&mut self, node: Value) {
        self.rare_mut().node = Some(node);
    }

    /// Records the op's error.
    pub fn set_error(&mut self, error: Value) {
        self.rare_mut().error = Some(error);
    }

    /// Keeps another field, after those kept already.
    pub fn push_extra(&mut self, name: Box<str>, value: Value) {
        self.rare_mut().extra.push((name, value));
    }

    fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    /// Builds an op from the fields of an EDN map or JSON object (names
    /// with or without a leading colon). `position` is where the map
    /// begins; `index` is the op's position in the file, used when the map
    /// has no `index` of its own.
    pub fn from_fields(fields: Vec<(Value, Value)>, position: Position, index: u64) -> Result<Op> {
        let mut op_type = None;
        let mut process = None;
        let mut f = None;
        let mut op = Op::new(OpType::Invoke, 0, "", Value::Nil);
        op.index = index;
        op.line = position.line;
        for (k, v) in fields {
            let name = match &k {
                Value::Keyword(s) | Value::Str(s) | Value::Symbol(s) => s.clone(),
                other => {
                    return Err(Error::at(
                        position,
                        format!(
                            "expected op field names to be keywords or strings, found {}",
                            excerpt(other)
                        ),
                    ))
                }
            };
            match name.strip_prefix(':').unwrap_or(&name) {
                "type" => {
                    let t = v.as_name().and_then(OpType::parse).ok_or_else(|| {
                        Error::at(
                            position,
                            format!(
                                "unknown op type {}: expected invoke, ok, fail or info",
                                excerpt(&v)
                            ),
                        )
                    })?;
                    op_type = Some(t);
                }
                "process" => {
                    process = Some(match &v {
                        Value::Int(p) => Process::Client(*p),
                        Value::Keyword(n) | Value::Symbol(n) => Process::Named(n.clone()),
                        Value::Str(n) => Process::Str(n.clone()),
                        other => {
                            return Err(Error::at(
                                position,
                                format!(
                                    "expected process to be an integer or a name, found {}",
                                    excerpt(other)
                                ),
                            ))
                        }
                    })
                }
                "f" => {
                    f = Some(match &v {
                        Value::Keyword(n) | Value::Str(n) | Value::Symbol(n) => n.clone(),
                        other => {
                            return Err(Error::at(
                                position,
                                format!(
                                    "expected f to be a keyword or string, found {}",
                                    excerpt(other)
                                ),
                            ))
                        }
                    })
                }
                "value" => op.value = v,
                "key" => op.key = Some(v),
                "time" => match v {
                    Value::Int(t) => op.time = Some(t),
                    Value::Nil => {}
                    other => {
                        return Err(Error::at(
                            position,
                            format!("expected time to be an integer, found {}", excerpt(other)),
                        ))
                    }
                },
                "index" => match v {
                    Value::Int(i) if i >= 0 => op.index = i as u64,
                    Value::Nil => {}
                    other => {
                        return Err(Error::at(
                            position,
                            format!(
                                "expected index to be a non-negative integer, found {}",
                                excerpt(other)
                            ),
                        ))
                    }
                },
                "node" => op.set_node(v),
                "error" => op.set_error(v),
                _ => op.push_extra(name, v),
            }
        }
        op.op_type = op_type.ok_or_else(|| {
            Error::at(
                position,
                "op has no type: expected a :type field (invoke, ok, fail or info)",
            )
        })?;
        op.process = process
            .ok_or_else(|| Error::at(position, "op has no process: expected a :process field"))?;
        op.f = f
            .ok_or_else(|| Error::at(position, "op has no f: expected an :f field"))?
            .into();
        Ok(op)
    }
}

/// Renders the op as a Jepsen op map.
impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{{:process {}, :type :{}, :f :{}",
            self.process, self.op_type, self.f
        )?;
        if let Some(k) = &self.key {
            write!(f, ", :key {k}")?;
        }
        write!(f, ", :value {}", self.value)?;
        if let Some(e) = self.error() {
            write!(f, ", :error {e}")?;
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(s: &str) -> Value {
        Value::Keyword(s.into())
    }

    /// A history holds two ops per operation: their size is most of what
    /// loading takes (see `LOAD_FACTOR`).
    #[test]
    fn an_op_takes_at_most_144_bytes_and_its_rare_fields_only_when_set() {
        assert!(
            std::mem::size_of::<Op>() <= 144,
            "{}",
            std::mem::size_of::<Op>()
        );
        let mut op = Op::new(OpType::Ok, 1, "read", Value::Int(1));
        assert_eq!((op.node(), op.error(), op.extra()), (None, None, &[][..]));
        assert!(op.rare.is_none());
        op.set_node(kw("n1"));
        op.push_extra("final".into(), Value::Bool(true));
        assert_eq!(op.node(), Some(&kw("n1")));
        assert_eq!(op.extra(), [("final".into(), Value::Bool(true))]);
        assert_eq!(op.error(), None);
    }

    #[test]
    fn builds_from_fields_and_keeps_extras() {
        let op = Op::from_fields(
            vec![
                (kw("type"), kw("ok")),
                (kw("process"), Value::Int(3)),
                (kw("f"), kw("read")),
                (kw("value"), Value::Int(2)),
                (kw("time"), Value::Int(77)),
                (kw("weird"), Value::Str("kept".into())),
            ],
            Position::line(4),
            9,
        )
        .unwrap();
        assert_eq!(op.op_type, OpType::Ok);
        assert_eq!(op.process, Process::Client(3));
        assert_eq!(&*op.f, "read");
        assert_eq!(op.value, Value::Int(2));
        assert_eq!(op.time, Some(77));
        assert_eq!(op.index, 9);
        assert_eq!(op.line, 4);
        assert_eq!(op.extra(), [("weird".into(), Value::Str("kept".into()))]);
    }

    #[test]
    fn rejects_unknown_type() {
        let err = Op::from_fields(
            vec![
                (kw("type"), kw("done")),
                (kw("process"), Value::Int(1)),
                (kw("f"), kw("read")),
            ],
            Position::new(2, 1),
            0,
        )
        .unwrap_err();
        assert!(err.message.contains("unknown op type :done"), "{err}");
        assert_eq!(err.position.line, 2);
    }
}
