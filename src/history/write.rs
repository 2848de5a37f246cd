//! Writers: render ops in Jepsen's EDN history format and as JSON Lines.
//!
//! Both writers emit one op per line, in the order given, and write only
//! the fields an op has:
//!
//! - EDN: `{:type :invoke, :f :write, :value 3, :process 0, :time 123, :index 0}`
//!   with keywords for the type and `f`, named processes as keywords
//!   (`:nemesis`), then `:key`, `:node`, `:error` and any extra fields.
//! - JSON Lines: `{"type":"invoke","f":"write","value":3,"process":0,"time":123,"index":0}`
//!   with the same field order. Keywords and symbols become strings and
//!   sets become arrays, as in Jepsen's JSON exports.
//!
//! The `index` written is the op's [`Op::index`]; the `time` is written
//! only when the op has one. Writers stream: nothing is buffered beyond
//! one op, so wrap the destination in a [`std::io::BufWriter`].

use super::op::{Op, Process};
use super::value::Value;
use std::borrow::Borrow;
use std::io::{self, Write};

/// Writes every op as one EDN map per line.
pub fn write_edn<I, W>(ops: I, out: &mut W) -> io::Result<()>
where
    I: IntoIterator,
    I::Item: Borrow<Op>,
    W: Write + ?Sized,
{
    write_lines::<Edn, _, _>(ops, out)
}

/// Writes every op as one JSON object per line (JSON Lines).
pub fn write_jsonl<I, W>(ops: I, out: &mut W) -> io::Result<()>
where
    I: IntoIterator,
    I::Item: Borrow<Op>,
    W: Write + ?Sized,
{
    write_lines::<Json, _, _>(ops, out)
}

/// Writes every op on a line of its own in syntax `S`, reusing one buffer.
fn write_lines<S, I, W>(ops: I, out: &mut W) -> io::Result<()>
where
    S: Syntax,
    I: IntoIterator,
    I::Item: Borrow<Op>,
    W: Write + ?Sized,
{
    let mut line = String::new();
    for op in ops {
        line.clear();
        write_op::<S>(op.borrow(), &mut line);
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// Renders one op as an EDN map (no trailing newline).
pub fn edn_op(op: &Op, out: &mut String) {
    write_op::<Edn>(op, out);
}

/// Renders one op as a JSON object (no trailing newline).
pub fn json_op(op: &Op, out: &mut String) {
    write_op::<Json>(op, out);
}

/// What differs between the two formats: how a field is introduced, and
/// how names, strings and values are spelled. The fields and their order
/// are [`write_op`]'s alone.
trait Syntax {
    /// What goes between two fields.
    const SEPARATOR: &'static str;
    /// Writes a field's name before its value: `:key ` or `"key":`.
    fn key(name: &str, out: &mut String);
    /// Writes the separator and the name before a field's value.
    fn field(name: &str, out: &mut String) {
        out.push_str(Self::SEPARATOR);
        Self::key(name, out);
    }
    /// Writes a name (the type, `f`, a named process): a keyword or a string.
    fn name(name: &str, out: &mut String);
    /// Writes a string.
    fn string(s: &str, out: &mut String);
    /// Writes a value.
    fn value(v: &Value, out: &mut String);
}

struct Edn;
struct Json;

impl Syntax for Edn {
    const SEPARATOR: &'static str = ", ";
    fn key(name: &str, out: &mut String) {
        edn_name(name, out);
        out.push(' ');
    }
    fn name(name: &str, out: &mut String) {
        edn_name(name, out);
    }
    fn string(s: &str, out: &mut String) {
        quoted(s, out);
    }
    fn value(v: &Value, out: &mut String) {
        edn_value(v, out);
    }
}

impl Syntax for Json {
    const SEPARATOR: &'static str = ",";
    fn key(name: &str, out: &mut String) {
        quoted(name.strip_prefix(':').unwrap_or(name), out);
        out.push(':');
    }
    fn name(name: &str, out: &mut String) {
        quoted(name, out);
    }
    fn string(s: &str, out: &mut String) {
        quoted(s, out);
    }
    fn value(v: &Value, out: &mut String) {
        json_value(v, out);
    }
}

/// Writes one op's fields, in the order the module's docs give, in
/// syntax `S`.
fn write_op<S: Syntax>(op: &Op, out: &mut String) {
    out.push('{');
    S::key("type", out);
    S::name(op.op_type.name(), out);
    S::field("f", out);
    S::name(&op.f, out);
    if let Some(k) = &op.key {
        S::field("key", out);
        S::value(k, out);
    }
    S::field("value", out);
    S::value(&op.value, out);
    S::field("process", out);
    match &op.process {
        Process::Client(p) => push_int(*p, out),
        Process::Named(n) => S::name(n, out),
        Process::Str(n) => S::string(n, out),
    }
    if let Some(t) = op.time {
        S::field("time", out);
        push_int(t, out);
    }
    S::field("index", out);
    push_int(op.index as i64, out);
    for (name, field) in [("node", op.node()), ("error", op.error())] {
        if let Some(v) = field {
            S::field(name, out);
            S::value(v, out);
        }
    }
    for (k, v) in op.extra() {
        S::field(k, out);
        S::value(v, out);
    }
    out.push('}');
}

/// Appends an integer's decimal digits (without the formatting machinery:
/// this is the writers' hottest path).
fn push_int(i: i64, out: &mut String) {
    let mut buf = [0u8; 20];
    let mut n = i.unsigned_abs();
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        out.push('-');
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&buf[at..]).unwrap_or_default());
}

fn push_float(x: f64, edn: bool, out: &mut String) {
    use std::fmt::Write as _;
    if x.is_finite() {
        let _ = write!(out, "{x:?}");
    } else if !edn {
        // JSON has no NaN or infinity.
        out.push_str("null");
    } else if x.is_nan() {
        out.push_str("##NaN");
    } else if x > 0.0 {
        out.push_str("##Inf");
    } else {
        out.push_str("##-Inf");
    }
}

/// A keyword from a name, adding the colon unless it has one.
fn edn_name(name: &str, out: &mut String) {
    if !name.starts_with(':') {
        out.push(':');
    }
    out.push_str(name);
}

fn edn_seq(items: &[Value], out: &mut String) {
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        edn_value(v, out);
    }
}

/// Renders a value in EDN syntax.
pub fn edn_value(v: &Value, out: &mut String) {
    match v {
        Value::Nil => out.push_str("nil"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => push_int(*i, out),
        Value::Float(x) => push_float(x.0, true, out),
        Value::Str(s) => quoted(s, out),
        Value::Keyword(k) => edn_name(k, out),
        Value::Symbol(s) => out.push_str(s),
        Value::Vector(items) => {
            out.push('[');
            edn_seq(items, out);
            out.push(']');
        }
        Value::Set(items) => {
            out.push_str("#{");
            edn_seq(items, out);
            out.push('}');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                edn_value(k, out);
                out.push(' ');
                edn_value(v, out);
            }
            out.push('}');
        }
        Value::Tagged(tag, inner) => {
            out.push('#');
            out.push_str(tag);
            out.push(' ');
            edn_value(inner, out);
        }
    }
}

/// Writes a string in double quotes with the escapes EDN and JSON share.
fn quoted(s: &str, out: &mut String) {
    out.push('"');
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                use std::fmt::Write as _;
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Renders a value as JSON: keywords and symbols as strings, vectors and
/// sets as arrays, maps with name keys as objects and other maps as arrays
/// of `[key, value]` pairs, tagged values as their inner value.
pub fn json_value(v: &Value, out: &mut String) {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => push_int(*i, out),
        Value::Float(x) => push_float(x.0, false, out),
        Value::Str(s) | Value::Keyword(s) | Value::Symbol(s) => quoted(s, out),
        Value::Vector(items) | Value::Set(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_value(v, out);
            }
            out.push(']');
        }
        Value::Map(entries) if entries.iter().all(|(k, _)| k.as_name().is_some()) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                quoted(k.as_name().unwrap_or_default(), out);
                out.push(':');
                json_value(v, out);
            }
            out.push('}');
        }
        Value::Map(entries) => {
            out.push('[');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('[');
                json_value(k, out);
                out.push(',');
                json_value(v, out);
                out.push(']');
            }
            out.push(']');
        }
        Value::Tagged(_, inner) => json_value(inner, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::OpType;

    fn sample() -> Vec<Op> {
        let mut a = Op::new(OpType::Invoke, 0, "write", Value::Int(3));
        a.time = Some(123);
        a.index = 0;
        let mut b = Op::new(OpType::Ok, 2, "read", Value::set(vec![1.into(), 2.into()]));
        b.key = Some(Value::Int(7));
        b.set_node(Value::Str("n1".into()));
        b.index = 1;
        b.time = Some(456);
        let mut c = Op::new(OpType::Info, 0, "start-partition", Value::Nil);
        c.process = Process::Named("nemesis".into());
        c.index = 2;
        let mut d = Op::new(
            OpType::Info,
            3,
            "cas",
            Value::Vector(vec![1.into(), 2.into()]),
        );
        d.set_error(Value::Keyword("timeout".into()));
        d.push_extra("note".into(), Value::Str("a \"b\"\n".into()));
        d.index = 3;
        vec![a, b, c, d]
    }

    #[test]
    fn writes_edn_maps() {
        let mut out = Vec::new();
        write_edn(sample(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            vec![
                "{:type :invoke, :f :write, :value 3, :process 0, :time 123, :index 0}",
                "{:type :ok, :f :read, :key 7, :value #{1 2}, :process 2, :time 456, :index 1, :node \"n1\"}",
                "{:type :info, :f :start-partition, :value nil, :process :nemesis, :index 2}",
                "{:type :info, :f :cas, :value [1 2], :process 3, :index 3, :error :timeout, :note \"a \\\"b\\\"\\n\"}",
            ]
        );
    }

    #[test]
    fn writes_json_lines_that_serde_reads() {
        let mut out = Vec::new();
        write_jsonl(sample().iter(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            r#"{"type":"invoke","f":"write","value":3,"process":0,"time":123,"index":0}"#
        );
        assert_eq!(
            lines[2],
            r#"{"type":"info","f":"start-partition","value":null,"process":"nemesis","index":2}"#
        );
        for line in &lines {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(v.get("type").is_some() && v.get("process").is_some());
        }
        let b: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(b["value"], serde_json::json!([1, 2]));
        assert_eq!(b["key"], serde_json::json!(7));
        assert_eq!(b["node"], serde_json::json!("n1"));
        let d: serde_json::Value = serde_json::from_str(lines[3]).unwrap();
        assert_eq!(d["note"], serde_json::json!("a \"b\"\n"));
        assert_eq!(d["error"], serde_json::json!("timeout"));
    }

    #[test]
    fn writes_integers_exactly() {
        for i in [0, 7, -7, 10, 1234567890, i64::MIN, i64::MAX] {
            let mut s = String::new();
            push_int(i, &mut s);
            assert_eq!(s, i.to_string());
        }
    }

    #[test]
    fn matches_value_serialization() {
        let v = Value::Map(vec![
            (
                Value::Keyword("a".into()),
                Value::Float(crate::history::Float(1.5)),
            ),
            (
                Value::Keyword("b".into()),
                Value::Vector(vec![Value::Nil, Value::Bool(true)]),
            ),
        ]);
        let mut s = String::new();
        json_value(&v, &mut s);
        assert_eq!(s, serde_json::to_string(&v).unwrap());
    }
}
