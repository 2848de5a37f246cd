//! Reader for JSON histories: an array of op objects, or JSON Lines (one
//! object per line; any whitespace may separate the objects).
//!
//! Field names are Jepsen's without colons (`{"type": "invoke", "process":
//! 0, "f": "write", "value": 3}`); `":type"`-style names are accepted too.
//! `process` is an integer or a name (`"nemesis"`). Values map to
//! [`Value`]: objects to maps with string keys, arrays to vectors, integers
//! that fit in 64 bits to `Int`, other numbers to `Float`, `null` to `Nil`.
//! The format is described by `docs/history.schema.json`.
//!
//! Each op is read with its own streaming deserializer, straight into
//! [`Value`] (no intermediate JSON tree), so an error's line and column are
//! those of the whole input.

use super::error::{Error, Position, Result};
use super::op::Op;
use super::value::{Float, Value};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// A [`Value`] read from JSON.
struct JsonValue(Value);

impl<'de> Deserialize<'de> for JsonValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = JsonValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> std::result::Result<JsonValue, E> {
        Ok(JsonValue(Value::Nil))
    }
    fn visit_bool<E>(self, b: bool) -> std::result::Result<JsonValue, E> {
        Ok(JsonValue(Value::Bool(b)))
    }
    fn visit_i64<E>(self, i: i64) -> std::result::Result<JsonValue, E> {
        Ok(JsonValue(Value::Int(i)))
    }
    fn visit_u64<E>(self, u: u64) -> std::result::Result<JsonValue, E> {
        Ok(JsonValue(match i64::try_from(u) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Float(Float(u as f64)),
        }))
    }
    fn visit_f64<E>(self, x: f64) -> std::result::Result<JsonValue, E> {
        Ok(JsonValue(Value::Float(Float(x))))
    }
    fn visit_str<E>(self, s: &str) -> std::result::Result<JsonValue, E> {
        Ok(JsonValue(Value::Str(s.into())))
    }
    fn visit_string<E>(self, s: String) -> std::result::Result<JsonValue, E> {
        Ok(JsonValue(Value::Str(s.into_boxed_str())))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<JsonValue, A::Error> {
        let mut items = Vec::new();
        while let Some(JsonValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(JsonValue(Value::Vector(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<JsonValue, A::Error> {
        let mut entries = Vec::with_capacity(6);
        while let Some(k) = map.next_key::<Cow<'de, str>>()? {
            let JsonValue(v) = map.next_value()?;
            entries.push((Value::Str(k.as_ref().into()), v));
        }
        Ok(JsonValue(Value::Map(entries)))
    }
}

/// Tracks line and column while skipping through the input.
struct Cursor<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    line_start: usize,
    /// The last position whose column was counted, and that column, so
    /// that ops on one long line (a one-line array) are not counted from
    /// the start of the line each time.
    counted: (usize, u32),
}

impl<'a> Cursor<'a> {
    fn new(src: &'a str) -> Self {
        Cursor {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            line: 1,
            line_start: 0,
            counted: (0, 1),
        }
    }

    /// Moves to `to`, counting the newlines passed.
    fn advance_to(&mut self, to: usize) {
        let to = to.min(self.bytes.len());
        for (i, &b) in self.bytes[self.pos..to].iter().enumerate() {
            if b == b'\n' {
                self.line += 1;
                self.line_start = self.pos + i + 1;
            }
        }
        self.pos = to;
    }

    /// Skips JSON whitespace, counting lines.
    fn skip_ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    self.line_start = self.pos;
                }
                _ => break,
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn position(&mut self) -> Position {
        let (from, column) = match self.counted {
            (at, column) if at >= self.line_start && at <= self.pos => (at, column),
            _ => (self.line_start, 1),
        };
        let column = column
            + self.bytes[from..self.pos]
                .iter()
                .filter(|&&b| (b & 0xC0) != 0x80)
                .count() as u32;
        self.counted = (self.pos, column);
        Position::new(self.line, column)
    }

    fn found(&self) -> String {
        match self.src.get(self.pos..).and_then(|s| s.chars().next()) {
            None => "the end of the input".into(),
            Some(c) => format!("{c:?}"),
        }
    }
}

/// Reads one op object at the cursor.
fn read_op(c: &mut Cursor, index: u64) -> Result<Op> {
    let at = c.position();
    let input = c.src;
    let mut stream = serde_json::Deserializer::from_str(&input[c.pos..]).into_iter::<JsonValue>();
    match stream.next() {
        Some(Ok(JsonValue(Value::Map(fields)))) => {
            let consumed = stream.byte_offset();
            c.advance_to(c.pos + consumed);
            Op::from_fields(fields, at, index)
        }
        Some(Ok(JsonValue(other))) => Err(Error::at(
            at,
            format!("expected an object (an op), found {}", other.kind()),
        )),
        Some(Err(e)) => {
            // serde_json counts from the start of the slice.
            let line = at.line + e.line() as u32 - 1;
            let column = if e.line() <= 1 {
                at.column + e.column() as u32 - 1
            } else {
                e.column() as u32
            };
            let mut msg = e.to_string();
            if let Some(i) = msg.find(" at line ") {
                msg.truncate(i);
            }
            Err(Error::at(
                Position::new(line, column.max(1)),
                format!("malformed JSON: {msg}"),
            ))
        }
        None => Err(Error::at(
            at,
            "expected an object (an op), found the end of the input",
        )),
    }
}

/// Parses a whole history.
pub(crate) fn parse(input: &str) -> Result<Vec<Op>> {
    let mut c = Cursor::new(input);
    let mut ops = Vec::with_capacity(input.len() / 80 + 1);
    c.skip_ws();
    if c.peek() == Some(b'[') {
        let open = c.position();
        c.pos += 1;
        c.skip_ws();
        if c.peek() == Some(b']') {
            c.pos += 1;
        } else {
            loop {
                c.skip_ws();
                ops.push(read_op(&mut c, ops.len() as u64)?);
                c.skip_ws();
                match c.peek() {
                    Some(b',') => c.pos += 1,
                    Some(b']') => {
                        c.pos += 1;
                        break;
                    }
                    _ => {
                        return Err(Error::at(
                            c.position(),
                            format!(
                                "expected ',' or ']' after an op in the array opened at line {}, column {}, found {}",
                                open.line,
                                open.column,
                                c.found()
                            ),
                        ))
                    }
                }
            }
        }
        c.skip_ws();
        if c.peek().is_some() {
            return Err(Error::at(
                c.position(),
                format!(
                    "expected the end of the input after the array, found {}",
                    c.found()
                ),
            ));
        }
        return Ok(ops);
    }
    // JSON Lines.
    while c.peek().is_some() {
        if c.peek() != Some(b'{') {
            return Err(Error::at(
                c.position(),
                format!("expected an object (an op) or '[', found {}", c.found()),
            ));
        }
        ops.push(read_op(&mut c, ops.len() as u64)?);
        c.skip_ws();
    }
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::op::{OpType, Process};

    #[test]
    fn reads_an_array() {
        let ops = parse(
            r#" [
  {"type": "invoke", "process": 0, "f": "write", "value": 3, "time": 12},
  {"type": "ok", "process": 0, "f": "write", "value": 3, "index": 9, "extra": {"a": [1, 2.5, true, null]}},
  {":type": "info", ":process": "nemesis", ":f": "start", ":value": -1}
] "#,
        )
        .unwrap();
        assert_eq!(ops.len(), 3);
        assert_eq!(ops[0].op_type, OpType::Invoke);
        assert_eq!(ops[0].time, Some(12));
        assert_eq!((ops[0].line, ops[0].index), (2, 0));
        assert_eq!((ops[1].line, ops[1].index), (3, 9));
        assert_eq!(
            ops[1].extra,
            vec![(
                "extra".into(),
                Value::Map(vec![(
                    Value::Str("a".into()),
                    Value::Vector(vec![
                        Value::Int(1),
                        Value::Float(Float(2.5)),
                        Value::Bool(true),
                        Value::Nil
                    ])
                )])
            )]
        );
        assert_eq!(ops[2].process, Process::Named("nemesis".into()));
        assert_eq!(ops[2].value, Value::Int(-1));
        assert!(parse("[]").unwrap().is_empty());
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn reads_json_lines() {
        let ops = parse(
            "{\"type\":\"invoke\",\"process\":1,\"f\":\"read\",\"value\":null}\n\
             \n\
             {\"type\":\"ok\",\"process\":1,\"f\":\"read\",\"value\":\"x\",\"key\":\"k\"}\n",
        )
        .unwrap();
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[1].line, 3);
        assert_eq!(ops[1].value, Value::Str("x".into()));
        assert_eq!(ops[1].key, Some(Value::Str("k".into())));
    }

    #[test]
    fn reports_line_and_column() {
        let e = parse(
            "{\"type\":\"ok\",\"process\":1,\"f\":\"r\"}\n{\"type\": \"ok\", \"process\": 1,, }\n",
        )
        .unwrap_err();
        assert_eq!(e.position, Position::new(2, 29));
        assert!(e.message.contains("malformed JSON"), "{e}");

        let e = parse("[\n  {\"type\": \"ok\",\n   \"process\": tru}]").unwrap_err();
        assert_eq!(e.position.line, 3);
        assert!(e.position.column >= 15, "{e:?}");

        let e = parse("[{\"type\":\"ok\",\"process\":1,\"f\":\"r\"} {}]").unwrap_err();
        assert_eq!(e.position, Position::new(1, 36));
        assert!(e.message.contains("expected ',' or ']'"), "{e}");

        let e = parse("[1]").unwrap_err();
        assert_eq!(e.position, Position::new(1, 2));
        assert!(e.message.contains("expected an object"), "{e}");

        let e = parse("{\"type\":\"done\",\"process\":1,\"f\":\"r\"}").unwrap_err();
        assert!(e.message.contains("unknown op type"), "{e}");

        let e = parse("{\"type\":\"ok\",\"process\":1,\"f\":\"r\",\"value\":\"abc").unwrap_err();
        assert_eq!(e.position.line, 1);
        assert!(e.position.column > 40, "{e:?}");
    }

    #[test]
    fn counts_columns_on_a_long_line() {
        let op = r#"{"type":"ok","process":1,"f":"é"}"#;
        let mut text = format!("[{op}");
        for _ in 0..1000 {
            text.push(',');
            text.push_str(op);
        }
        // A wrong type in the last op, then a missing comma.
        let bad = format!(r#"{text},{{"type":"é","process":1,"f":"r"}}]"#);
        let e = parse(&bad).unwrap_err();
        let column = text.chars().count() as u32 + 2;
        assert_eq!(e.position, Position::new(1, column));
        assert!(e.message.contains("unknown op type"), "{e}");
        let e = parse(&format!("{text} {op}]")).unwrap_err();
        assert_eq!(
            e.position,
            Position::new(1, text.chars().count() as u32 + 2)
        );
        assert!(e.message.contains("expected ',' or ']'"), "{e}");
    }
}
