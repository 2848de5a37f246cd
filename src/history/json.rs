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
//! Each op object is first read by a fast path: a small scanner that fills
//! the [`Op`]'s fields as it meets them, matching field names without
//! allocating, keeping other fields as extras, and handing only strings
//! with escapes and numbers other than short integers to serde_json, so
//! that they are decoded and rounded exactly as on the generic path. Any
//! op the fast path does not read in full (malformed JSON, a field of the
//! wrong type, a missing field, very deep nesting) is read again on the
//! generic path: its own streaming serde_json deserializer, straight into
//! a [`Value`] map (no intermediate JSON tree), then [`Op::from_fields`].
//! Both paths give the same op, and every error comes from the generic
//! path, so an error's line and column are those of the whole input.
//!
//! Large JSON Lines inputs are read in one chunk per thread, split at lines
//! that begin with `{`. Such a line may lie inside an op that spans lines,
//! so the chunks are kept only if each one's last op ended exactly where
//! the next chunk begins; otherwise, and on any error, the whole input is
//! read again on one thread.

use super::budget;
use super::error::{Error, Position, Result};
use super::op::{Op, OpType, Process};
use super::value::{Float, Value};
use rayon::prelude::*;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

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
            if let Some(why) = budget::in_collection(items.len(), std::mem::size_of::<Value>()) {
                return Err(serde::de::Error::custom(why));
            }
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

/// Deepest nesting the fast path reads; deeper values take the generic path
/// (which enforces serde_json's own limit).
const FAST_DEPTH: u32 = 64;

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
    /// The `f` names read so far, shared by the ops that use them.
    names: Vec<Arc<str>>,
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
            names: Vec::new(),
        }
    }

    /// The shared copy of an `f` name (histories use a handful).
    fn name(&mut self, f: &str) -> Arc<str> {
        if let Some(n) = self.names.iter().find(|n| ***n == *f) {
            return n.clone();
        }
        let n: Arc<str> = f.into();
        if self.names.len() < 64 {
            self.names.push(n.clone());
        }
        n
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

    /// Consumes `b` if it is next.
    fn eat(&mut self, b: u8) -> bool {
        let here = self.peek() == Some(b);
        if here {
            self.pos += 1;
        }
        here
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

/// The fast path: reads an op object straight into an [`Op`], with no
/// intermediate map and no allocation for field names. Every value it
/// builds is the one the generic path builds; whatever it does not handle
/// (an error of any kind, a field of the wrong type, nesting deeper than
/// [`FAST_DEPTH`]) makes it return `None`, and the caller reads the op
/// again on the generic path, which gives the result or the error.
impl<'a> Cursor<'a> {
    /// Reads one op object (the cursor on its `{`). Returns `None`, leaving
    /// the cursor anywhere, for anything but a well-formed op.
    fn read_plain_op(&mut self, index: u64) -> Option<Op> {
        let mut op = Op::new(OpType::Invoke, 0, "", Value::Nil);
        op.index = index;
        op.line = self.line;
        let (mut has_type, mut has_process, mut has_f) = (false, false, false);
        self.pos += 1;
        self.skip_ws();
        if !self.eat(b'}') {
            loop {
                if self.peek()? != b'"' {
                    return None;
                }
                let name = self.string()?;
                self.skip_ws();
                if !self.eat(b':') {
                    return None;
                }
                self.skip_ws();
                match name.strip_prefix(':').unwrap_or(&name) {
                    "type" => {
                        if self.peek()? != b'"' {
                            return None;
                        }
                        op.op_type = OpType::parse(&self.string()?)?;
                        has_type = true;
                    }
                    "process" => {
                        op.process = match self.value(1)? {
                            Value::Int(p) => Process::Client(p),
                            Value::Str(n) => Process::Str(n),
                            _ => return None,
                        };
                        has_process = true;
                    }
                    "f" => {
                        if self.peek()? != b'"' {
                            return None;
                        }
                        let f = self.string()?;
                        op.f = self.name(&f);
                        has_f = true;
                    }
                    "value" => op.value = self.value(1)?,
                    "key" => op.key = Some(self.value(1)?),
                    "time" => match self.value(1)? {
                        Value::Int(t) => op.time = Some(t),
                        Value::Nil => {}
                        _ => return None,
                    },
                    "index" => match self.value(1)? {
                        Value::Int(i) if i >= 0 => op.index = i as u64,
                        Value::Nil => {}
                        _ => return None,
                    },
                    "node" => op.node = Some(self.value(1)?),
                    "error" => op.error = Some(self.value(1)?),
                    _ => {
                        let v = self.value(1)?;
                        op.extra.push((name.into(), v));
                    }
                }
                self.skip_ws();
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        self.skip_ws();
                    }
                    b'}' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        (has_type && has_process && has_f).then_some(op)
    }

    /// Reads one value at the cursor, as [`JsonVisitor`] would.
    fn value(&mut self, depth: u32) -> Option<Value> {
        match self.peek()? {
            b'"' => self.string().map(|s| Value::Str(s.into())),
            b'-' | b'0'..=b'9' => self.number(),
            b'n' => self.literal("null", Value::Nil),
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'[' if depth < FAST_DEPTH => {
                self.pos += 1;
                self.skip_ws();
                let mut items = Vec::new();
                if self.eat(b']') {
                    return Some(Value::Vector(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    if budget::in_collection(items.len(), std::mem::size_of::<Value>()).is_some() {
                        return None; // the one-thread reading says why
                    }
                    self.skip_ws();
                    match self.peek()? {
                        b',' => {
                            self.pos += 1;
                            self.skip_ws();
                        }
                        b']' => {
                            self.pos += 1;
                            return Some(Value::Vector(items));
                        }
                        _ => return None,
                    }
                }
            }
            b'{' if depth < FAST_DEPTH => {
                self.pos += 1;
                self.skip_ws();
                let mut entries = Vec::with_capacity(6);
                if self.eat(b'}') {
                    return Some(Value::Map(entries));
                }
                loop {
                    if self.peek()? != b'"' {
                        return None;
                    }
                    let k = Value::Str(self.string()?.into());
                    self.skip_ws();
                    if !self.eat(b':') {
                        return None;
                    }
                    self.skip_ws();
                    entries.push((k, self.value(depth + 1)?));
                    self.skip_ws();
                    match self.peek()? {
                        b',' => {
                            self.pos += 1;
                            self.skip_ws();
                        }
                        b'}' => {
                            self.pos += 1;
                            return Some(Value::Map(entries));
                        }
                        _ => return None,
                    }
                }
            }
            _ => None,
        }
    }

    /// Reads a string (the cursor on its opening quote): borrowed when it
    /// has no escapes, else decoded by serde_json.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.pos + 1;
        let mut p = start;
        loop {
            match *self.bytes.get(p)? {
                b'"' => {
                    self.pos = p + 1;
                    // The quotes are ASCII, so both ends are on character
                    // boundaries.
                    return Some(Cow::Borrowed(&self.src[start..p]));
                }
                b'\\' | 0..=0x1f => break,
                _ => p += 1,
            }
        }
        match self.delegate()? {
            Value::Str(s) => Some(Cow::Owned(s.into_string())),
            _ => None,
        }
    }

    /// Reads a number: an integer of up to 18 digits directly, anything
    /// else (floats, longer integers, `-0`) through serde_json, so that it
    /// is rounded exactly as the generic path rounds it.
    fn number(&mut self) -> Option<Value> {
        let negative = self.peek() == Some(b'-');
        let digits = self.pos + usize::from(negative);
        let mut p = digits;
        let mut n: i64 = 0;
        while let Some(&d @ b'0'..=b'9') = self.bytes.get(p) {
            n = n.wrapping_mul(10).wrapping_add(i64::from(d - b'0'));
            p += 1;
        }
        let len = p - digits;
        let leading_zero = len > 1 && self.bytes[digits] == b'0';
        let not_integer = matches!(self.bytes.get(p), Some(b'.' | b'e' | b'E'));
        // serde_json reads `-0` as a float.
        let minus_zero = negative && n == 0;
        let plain = (1..=18).contains(&len) && !leading_zero && !not_integer && !minus_zero;
        if plain {
            self.pos = p;
            return Some(Value::Int(if negative { -n } else { n }));
        }
        self.delegate()
    }

    fn literal(&mut self, word: &str, v: Value) -> Option<Value> {
        let end = self.pos + word.len();
        if self.bytes.get(self.pos..end)? != word.as_bytes() {
            return None;
        }
        self.pos = end;
        Some(v)
    }

    /// Reads one value at the cursor with serde_json.
    fn delegate(&mut self) -> Option<Value> {
        let mut stream =
            serde_json::Deserializer::from_str(&self.src[self.pos..]).into_iter::<JsonValue>();
        let JsonValue(v) = stream.next()?.ok()?;
        let end = self.pos + stream.byte_offset();
        self.advance_to(end);
        Some(v)
    }
}

/// Reads one op object at the cursor: on the fast path when it can, else
/// on the generic one.
fn read_op(c: &mut Cursor, index: u64, fast: bool) -> Result<Op> {
    if fast && c.peek() == Some(b'{') {
        let saved = (c.pos, c.line, c.line_start);
        if let Some(op) = c.read_plain_op(index) {
            return Ok(op);
        }
        (c.pos, c.line, c.line_start) = saved;
    }
    read_op_generic(c, index)
}

/// Reads one op object at the cursor through a [`Value`] map.
fn read_op_generic(c: &mut Cursor, index: u64) -> Result<Op> {
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
    parse_with(input, true)
}

/// Parses a whole history, trying the fast path for each op when `fast`.
fn parse_with(input: &str, fast: bool) -> Result<Vec<Op>> {
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
                ops.push(read_op(&mut c, ops.len() as u64, fast)?);
                within_budget(&mut c)?;
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
    let pieces = rayon::current_num_threads().min(input.len() / (CHUNKED_MIN / 2));
    if fast && input.len() >= CHUNKED_MIN && pieces > 1 {
        if let Some(ops) = parse_lines_in_chunks(input, pieces) {
            return Ok(ops);
        }
    }
    while c.peek().is_some() {
        if c.peek() != Some(b'{') {
            return Err(Error::at(
                c.position(),
                format!("expected an object (an op) or '[', found {}", c.found()),
            ));
        }
        ops.push(read_op(&mut c, ops.len() as u64, fast)?);
        within_budget(&mut c)?;
        c.skip_ws();
    }
    Ok(ops)
}

/// An error at the cursor when the load passed its memory budget.
fn within_budget(c: &mut Cursor) -> Result<()> {
    match budget::after_event() {
        Some(why) => Err(Error::at(c.position(), why)),
        None => Ok(()),
    }
}

/// JSON Lines inputs at least this long are read in chunks, in parallel.
const CHUNKED_MIN: usize = 4 << 20;

/// Marks an op's index as its position within its chunk (explicit
/// indices are non-negative `i64`s, below this bit): rebased when the
/// chunks are joined.
const IN_CHUNK: u64 = 1 << 63;

/// Reads JSON Lines in `pieces` chunks, in parallel, split where a line
/// starts with `{`. A split may fall inside an op that spans lines; the
/// chunks are therefore joined only when each one's last op ended exactly
/// where the next chunk begins, so that every chunk began at an op
/// boundary of the sequential reading and read what it would have read.
/// `None` (the caller reads the whole input again, on one thread) when a
/// chunk met anything but well-formed ops, or ended elsewhere: errors and
/// their positions always come from the sequential reading.
fn parse_lines_in_chunks(input: &str, pieces: usize) -> Option<Vec<Op>> {
    let bytes = input.as_bytes();
    let mut starts = vec![0];
    for i in 1..pieces {
        let from = (input.len() / pieces * i).max(starts[starts.len() - 1] + 1);
        match (from..bytes.len()).find(|&j| bytes[j - 1] == b'\n' && bytes[j] == b'{') {
            Some(j) => starts.push(j),
            None => break,
        }
    }
    let ends: Vec<usize> = starts[1..].iter().copied().chain([bytes.len()]).collect();
    let memory = budget::current();
    let chunks: Vec<Option<Chunk>> = starts
        .par_iter()
        .zip(ends.par_iter())
        .map(|(&from, &to)| budget::with(memory.as_ref(), || parse_chunk(input, from, to)))
        .collect();
    let mut ops: Vec<Op> = Vec::new();
    let mut lines = 0;
    for (i, (chunk, &to)) in chunks.into_iter().zip(&ends).enumerate() {
        let chunk = chunk?;
        if chunk.end != to {
            return None;
        }
        let base = ops.len() as u64;
        if i == 0 {
            // The first chunk's ops are already in place (and unmarked):
            // only the others are moved, into the room it was given.
            ops = chunk.ops;
        } else {
            ops.extend(chunk.ops.into_iter().map(|mut op| {
                if op.index & IN_CHUNK != 0 {
                    op.index = base + (op.index & !IN_CHUNK);
                }
                op.line += lines;
                op
            }));
        }
        lines += chunk.newlines;
    }
    Some(ops)
}

/// The ops of one chunk of JSON Lines, where its reading stopped, and the
/// newlines it passed.
struct Chunk {
    ops: Vec<Op>,
    end: usize,
    newlines: u32,
}

/// Reads the ops that begin in `input[from..to]` (`from` at the start of a
/// line), with lines counted from `from`, and indices marked [`IN_CHUNK`]
/// except in the first chunk, which is given room for the whole input's
/// ops. `None` on anything but well-formed ops.
fn parse_chunk(input: &str, from: usize, to: usize) -> Option<Chunk> {
    let mut c = Cursor::new(input);
    (c.pos, c.line_start, c.counted) = (from, from, (from, 1));
    let (mark, room) = match from {
        0 => (0, input.len()),
        _ => (IN_CHUNK, to - from),
    };
    let mut ops = Vec::with_capacity(room / 80 + 1);
    c.skip_ws();
    while c.pos < to {
        if c.peek() != Some(b'{') {
            return None;
        }
        ops.push(read_op(&mut c, mark | ops.len() as u64, true).ok()?);
        if budget::after_event().is_some() {
            return None; // the one-thread reading says where
        }
        c.skip_ws();
    }
    Some(Chunk {
        ops,
        end: c.pos,
        newlines: c.line - 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// JSON Lines of `n` ops, one per line: every fourth with its own
    /// index, some lines ending in CRLF, a blank line now and then.
    fn lines(n: usize) -> String {
        let mut text = String::new();
        for i in 0..n {
            let index = if i % 4 == 0 {
                format!(r#", "index": {}"#, 1000 + i)
            } else {
                String::new()
            };
            text.push_str(&format!(
                r#"{{"type": "invoke", "process": {}, "f": "write", "value": {i}{index}}}"#,
                i % 7
            ));
            text.push_str(match i % 5 {
                0 => "\r\n",
                1 => "\n\n",
                _ => "\n",
            });
        }
        text
    }

    #[test]
    fn reading_in_chunks_gives_the_sequential_reading() {
        let text = lines(300);
        let whole = parse_with(&text, false).unwrap();
        assert_eq!(whole[1].index, 1);
        assert_eq!(whole[4].index, 1004);
        assert_eq!(whole[299].line, 1 + 299 + 60);
        for pieces in 2..9 {
            let chunked = parse_lines_in_chunks(&text, pieces);
            assert_eq!(chunked.as_ref(), Some(&whole), "{pieces} chunks");
        }
    }

    #[test]
    fn a_first_chunk_of_blank_lines_reads_no_ops() {
        // Every split falls after the blank lines: the first chunk has no
        // op, and the second's indices and lines are still rebased.
        let text = format!("{}{}", "\n".repeat(2000), lines(5));
        let whole = parse_with(&text, false).unwrap();
        assert_eq!((whole[1].index, whole[1].line), (1, 2002));
        for pieces in 2..4 {
            let chunked = parse_lines_in_chunks(&text, pieces);
            assert_eq!(chunked.as_ref(), Some(&whole), "{pieces} chunks");
        }
    }

    #[test]
    fn a_split_inside_an_op_defers_to_the_sequential_reading() {
        // The second op holds lines that start with `{`, and is most of
        // the input: every split falls inside it.
        let inner: Vec<String> = (0..40).map(|i| format!("{{\"n\": {i}}}")).collect();
        let text = format!(
            "{{\"type\": \"invoke\", \"process\": 0, \"f\": \"read\"}}\n\
             {{\"type\": \"ok\", \"process\": 0, \"f\": \"read\", \"value\": [\n{}]}}\n",
            inner.join(",\n")
        );
        for pieces in 2..5 {
            assert_eq!(
                parse_lines_in_chunks(&text, pieces),
                None,
                "{pieces} chunks"
            );
        }
        let ops = parse(&text).unwrap();
        assert_eq!(ops.len(), 2);
        assert!(matches!(&ops[1].value, Value::Vector(v) if v.len() == 40));
    }

    #[test]
    fn a_large_input_is_read_in_chunks_with_the_same_ops_and_errors() {
        let n = CHUNKED_MIN / 60;
        let text = lines(n);
        assert!(text.len() >= CHUNKED_MIN);
        assert_eq!(parse(&text), parse_with(&text, false));
        // A malformed op near the end: the error is the sequential one.
        let bad = format!("{text}{{\"type\": \"ok\", \"process\": 1,}}\n");
        let err = parse(&bad).unwrap_err();
        assert_eq!(err, parse_with(&bad, false).unwrap_err());
        assert_eq!(err.position.line as usize, text.matches('\n').count() + 1);
    }

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
        assert_eq!(ops[2].process, Process::Str("nemesis".into()));
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

    /// The op the fast path reads from `text` (one object), if it reads one.
    fn fast(text: &str) -> Option<Op> {
        let mut c = Cursor::new(text);
        let op = c.read_plain_op(0)?;
        assert_eq!(c.pos, text.len(), "the fast path stopped early in {text}");
        Some(op)
    }

    /// The op the generic path reads from `text` (one object).
    fn generic(text: &str) -> Result<Op> {
        let mut ops = parse_with(text, false)?;
        assert_eq!(ops.len(), 1);
        Ok(ops.remove(0))
    }

    #[test]
    fn fast_path_reads_what_the_generic_path_reads() {
        for text in [
            r#"{"type":"invoke","f":"cas","value":[3,1],"process":25,"time":15635,"index":0}"#,
            r#"{ ":type" : ":ok" , ":process" : "nemesis", ":f": "start", ":value": null }"#,
            "{\"type\":\"ok\",\n \"process\":1,\r\n\t\"f\":\"read\",\"value\":{\"a\":[]},\"time\":null}",
            r#"{"type":"info","process":3,"f":"write","value":-0,"error":"timed \"out\" \u00e9"}"#,
            r#"{"type":"ok","process":3,"f":"w","value":[1.5,-2e3,1E+2,0.1,-0.0,5e-324]}"#,
            r#"{"type":"ok","process":3,"f":"w","value":[9223372036854775807,9223372036854775808]}"#,
            r#"{"type":"ok","process":3,"f":"w","value":[-9223372036854775808,-9223372036854775809]}"#,
            r#"{"type":"ok","process":3,"f":"w","value":123456789012345678901234567890}"#,
            r#"{"t\u0079pe":"ok","process":-4,"f":"\u0072ead","key":{"k":{"n":[true,false]}}}"#,
            r#"{"type":"ok","process":1,"f":"r","é":"ü","":1,":":2,"::type":3,"extra":{},"node":"n1"}"#,
            r#"{"type":"ok","process":1,"f":"r","type":"fail","process":"p","time":5,"time":null,"index":7}"#,
            r#"{"type":"ok","process":1,"f":"r","x":{"a":1,"a":2}}"#,
        ] {
            let op = fast(text).unwrap_or_else(|| panic!("not on the fast path: {text}"));
            assert_eq!(Ok(op), generic(text), "{text}");
        }
    }

    #[test]
    fn fast_path_leaves_the_rest_to_the_generic_path() {
        let deep = format!(
            r#"{{"type":"ok","process":1,"f":"r","value":{}1{}}}"#,
            "[".repeat(100),
            "]".repeat(100)
        );
        let too_deep = deep.replace("[1]", &format!("{}1{}", "[".repeat(40), "]".repeat(40)));
        for text in [
            "{}",
            r#"{"type":"ok","process":1}"#,
            r#"{"type":"done","process":1,"f":"r"}"#,
            r#"{"type":1,"process":1,"f":"r"}"#,
            r#"{"type":"ok","process":1.5,"f":"r"}"#,
            r#"{"type":"ok","process":9223372036854775808,"f":"r"}"#,
            r#"{"type":"ok","process":1,"f":2}"#,
            r#"{"type":"ok","process":1,"f":"r","time":"t"}"#,
            r#"{"type":"ok","process":1,"f":"r","index":-1}"#,
            r#"{"type":"ok","process":1,"f":"r",}"#,
            r#"{"type":"ok","process":1,"f":"r","value":01}"#,
            r#"{"type":"ok","process":1,"f":"r","value":[1,]}"#,
            r#"{"type":"ok","process":1,"f":"r","value":nul}"#,
            r#"{"type":"ok","process":1,"f":"r","value":"\ud800"}"#,
            "{\"type\":\"ok\",\"process\":1,\"f\":\"r\",\"value\":\"a\tb\"}",
            r#"{"type":"ok","process":1,"f":"r" "value":1}"#,
            r#"{"type":"ok","process":1,"f":"r","value":1"#,
            &deep,
            &too_deep,
        ] {
            assert_eq!(fast(text), None, "{text}");
            assert_eq!(parse_with(text, true), parse_with(text, false), "{text}");
        }
        assert!(generic(&deep).is_ok());
        assert!(generic(&too_deep).is_err());
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

    mod agreement {
        use super::super::*;
        use proptest::prelude::*;

        fn scalar() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("null".to_string()),
                Just("true".to_string()),
                Just("false".to_string()),
                any::<i64>().prop_map(|i| i.to_string()),
                any::<u64>().prop_map(|u| u.to_string()),
                (0i64..100).prop_map(|i| i.to_string()),
                Just("-0".to_string()),
                "-?[0-9]{1,25}",
                "-?[0-9]{1,3}(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?",
                any::<f64>()
                    .prop_filter("JSON numbers are finite", |x| x.is_finite())
                    .prop_map(|x| format!("{x:?}")),
                any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
                "[a-z: ]{0,8}".prop_map(|s| format!("\"{s}\"")),
                Just(r#""nemesis""#.to_string()),
                Just(r#""\u00e9\ud83d\ude00\n\"""#.to_string()),
            ]
        }

        fn name() -> impl Strategy<Value = String> {
            prop::sample::select(vec![
                "type",
                ":type",
                "process",
                ":process",
                "f",
                ":f",
                "value",
                ":value",
                "key",
                ":key",
                "time",
                ":time",
                "index",
                ":index",
                "node",
                "error",
                ":error",
                "extra",
                "::type",
                "",
                ":",
                "é",
                "a\\\"b",
                "t\\u0079pe",
                "\\u0066",
            ])
            .prop_map(|n| format!("\"{n}\""))
        }

        fn json() -> impl Strategy<Value = String> {
            scalar().prop_recursive(4, 24, 5, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..5)
                        .prop_map(|items| format!("[{}]", items.join(","))),
                    prop::collection::vec((name(), inner), 0..5).prop_map(|entries| {
                        let entries: Vec<String> =
                            entries.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                        format!("{{{}}}", entries.join(","))
                    }),
                ]
            })
        }

        /// Any field, sometimes with a value of the wrong type.
        fn field() -> impl Strategy<Value = (String, String)> {
            prop_oneof![
                4 => (name(), json()),
                1 => (
                    prop::sample::select(vec!["\"type\"", "\":type\""]),
                    prop::sample::select(vec![
                        "\"invoke\"", "\":ok\"", "\"fail\"", "\"info\"", "\"done\"",
                        "\"in\\u0076oke\"", "1", "null",
                    ]),
                )
                    .prop_map(|(k, v)| (k.to_string(), v.to_string())),
                1 => (
                    prop::sample::select(vec!["\"time\"", "\"index\"", "\"process\""]),
                    scalar(),
                )
                    .prop_map(|(k, v)| (k.to_string(), v)),
            ]
        }

        /// An op object: the three required fields with good values, then
        /// other fields, in any order.
        fn op() -> impl Strategy<Value = String> {
            let core = (
                prop::sample::select(vec!["invoke", "ok", "fail", "info", ":ok"]),
                prop_oneof![
                    (0i64..40).prop_map(|p| p.to_string()),
                    Just("\"nemesis\"".to_string()),
                ],
                prop::sample::select(vec!["read", "write", "cas", "start"]),
            );
            let ws = prop::sample::select(vec!["", " ", "\n", "\t ", "\r\n"]);
            (core, prop::collection::vec(field(), 0..5), ws)
                .prop_flat_map(|((t, p, f), extra, ws)| {
                    let mut fields = vec![
                        ("\"type\"".to_string(), format!("\"{t}\"")),
                        ("\"process\"".to_string(), p),
                        ("\"f\"".to_string(), format!("\"{f}\"")),
                    ];
                    fields.extend(extra);
                    (Just(fields).prop_shuffle(), Just(ws))
                })
                .prop_map(|(fields, ws)| {
                    let fields: Vec<String> = fields
                        .iter()
                        .map(|(k, v)| format!("{k}{ws}:{ws}{v}"))
                        .collect();
                    format!("{{{ws}{}{ws}}}", fields.join(&format!("{ws},{ws}")))
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

            #[test]
            fn fast_and_generic_paths_agree(
                ops in prop::collection::vec(op(), 1..6),
                array in any::<bool>(),
            ) {
                for text in &ops {
                    let mut c = Cursor::new(text);
                    if let Some(op) = c.read_plain_op(0) {
                        prop_assert_eq!(c.pos, text.len());
                        prop_assert_eq!(parse_with(text, false), Ok(vec![op]));
                    }
                }
                let text = if array {
                    format!("[{}]", ops.join(",\n"))
                } else {
                    ops.join("\n")
                };
                prop_assert_eq!(parse_with(&text, true), parse_with(&text, false));
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

            /// Generated ops span lines and hold `{` at the start of a
            /// line, so splits fall inside ops: the chunked reading must
            /// then defer, never read something else.
            #[test]
            fn reading_in_chunks_agrees_or_defers(
                ops in prop::collection::vec(op(), 1..12),
                pieces in 2usize..6,
            ) {
                let text = ops.join("\n");
                if let Some(chunked) = parse_lines_in_chunks(&text, pieces) {
                    prop_assert_eq!(Ok(chunked), parse_with(&text, false));
                }
            }
        }

        #[test]
        fn most_generated_ops_take_the_fast_path() {
            use proptest::strategy::ValueTree;
            use proptest::test_runner::TestRunner;
            let mut runner = TestRunner::deterministic();
            let strategy = op();
            let fast = (0..500)
                .filter(|_| {
                    let text = strategy.new_tree(&mut runner).unwrap().current();
                    Cursor::new(&text).read_plain_op(0).is_some()
                })
                .count();
            assert!(fast > 200, "only {fast} of 500 on the fast path");
        }
    }
}
