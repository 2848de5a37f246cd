//! Reader for Jepsen's `history.edn`, and the EDN value parser the text
//! reader shares.
//!
//! A history is a sequence of op maps, usually one per line, or the whole
//! history wrapped in one `[...]` vector or `(...)` list. Each op is a map
//! such as `{:process 0, :type :invoke, :f :read, :value nil}`, or a record
//! written `#jepsen.history.Op{...}` (any tag followed by a map).
//!
//! The EDN subset accepted: `nil`, `true`, `false`; integers (optionally
//! signed, with an `N` suffix); floats (`1.5`, `-2e3`, with an optional `M`
//! suffix); strings with the escapes `\" \\ \n \t \r \b \f \/ \uXXXX`;
//! characters (`\a`, `\newline`, read as one-character strings);
//! keywords (`:ok`, `:jepsen.foo/bar`, stored without the colon); symbols;
//! vectors `[...]`, lists `(...)` (both read as vectors), maps `{...}`, sets
//! `#{...}`; tagged literals (`#inst "..."`); `#_` to discard the next form;
//! `;` comments to the end of the line. Commas are whitespace.
//!
//! Parsing is a single pass over the bytes with no tokenizer: strings
//! without escapes are copied once into their final box, and numbers are
//! parsed in place.

use super::error::{excerpt, Error, Position, Result};
use super::op::{Op, OpType, Process};
use super::value::{Float, Value};

/// Deepest nesting accepted, so hostile input cannot overflow the stack.
const MAX_DEPTH: u32 = 256;

/// A cursor over EDN text that knows its line and column.
pub(crate) struct Reader<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    line_start: usize,
    /// The line start, offset and column of the last position counted by
    /// [`Reader::position`], so that ops on one long line (a history
    /// written as a one-line vector) are counted from the previous op, not
    /// from the start of the line each time.
    counted: (usize, usize, u32),
}

/// Can this byte end a token (symbol, number, keyword)?
fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t' | b'\n' | b'\r' | b',' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'"' | b';'
    ) || b == 0x0c
        || b == 0x0b
}

impl<'a> Reader<'a> {
    /// A reader over `src`, whose first byte is at `line`, column 1.
    pub(crate) fn new(src: &'a str, line: u32) -> Self {
        Reader {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            line,
            line_start: 0,
            counted: (0, 0, 1),
        }
    }

    /// The byte offset of the cursor.
    pub(crate) fn offset(&self) -> usize {
        self.pos
    }

    /// Moves the cursor (within the current line).
    pub(crate) fn seek(&mut self, pos: usize) {
        self.pos = pos.min(self.bytes.len());
    }

    /// The line and column (in characters) of a byte offset at or after
    /// the start of the current line.
    pub(crate) fn position_of(&self, pos: usize) -> Position {
        let end = pos.min(self.bytes.len());
        // Counting from an earlier count on the same line gives the same
        // column as counting from the line start.
        let (from, column) = match self.counted {
            (line_start, at, column) if line_start == self.line_start && at <= end => (at, column),
            _ => (self.line_start.min(end), 1),
        };
        let column = column
            + self.bytes[from..end]
                .iter()
                .filter(|&&b| (b & 0xC0) != 0x80)
                .count() as u32;
        Position::new(self.line, column)
    }

    /// The position of the cursor, remembered so that the next count on
    /// this line starts from here.
    pub(crate) fn position(&mut self) -> Position {
        let position = self.position_of(self.pos);
        let end = self.pos.min(self.bytes.len());
        if end >= self.line_start {
            self.counted = (self.line_start, end, position.column);
        }
        position
    }

    fn error_at(&self, pos: usize, msg: impl Into<String>) -> Error {
        Error::at(self.position_of(pos), msg)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Describes what is at `pos`, for "found ..." in messages.
    fn found_at(&self, pos: usize) -> String {
        match self.src.get(pos..).and_then(|s| s.chars().next()) {
            None => "the end of the input".to_string(),
            Some('\n') => "the end of the line".to_string(),
            Some(c) => format!("{c:?}"),
        }
    }

    /// Skips whitespace, commas and `;` comments (but not `#_`).
    fn skip_blank(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    self.line_start = self.pos;
                }
                b' ' | b'\t' | b'\r' | b',' | 0x0b | 0x0c => self.pos += 1,
                b';' => {
                    while let Some(&c) = self.bytes.get(self.pos) {
                        if c == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
    }

    /// Skips whitespace, comments and `#_`-discarded forms.
    pub(crate) fn skip_ws(&mut self, depth: u32) -> Result<()> {
        loop {
            self.skip_blank();
            if self.bytes.get(self.pos) == Some(&b'#')
                && self.bytes.get(self.pos + 1) == Some(&b'_')
            {
                self.pos += 2;
                self.skip_ws(depth + 1)?;
                let start = self.pos;
                if self.pos >= self.bytes.len() {
                    return Err(self.error_at(
                        start,
                        "expected a form after #_, found the end of the input",
                    ));
                }
                self.read_value(depth + 1)?;
            } else {
                return Ok(());
            }
        }
    }

    /// Is the cursor at the end of the input (after skipping blanks)?
    pub(crate) fn at_end(&mut self) -> Result<bool> {
        self.skip_ws(0)?;
        Ok(self.pos >= self.bytes.len())
    }

    /// Reads one form, after any leading whitespace.
    pub(crate) fn read(&mut self) -> Result<Value> {
        self.skip_ws(0)?;
        self.read_value(0)
    }

    /// Reads one form at the cursor (no leading whitespace).
    fn read_value(&mut self, depth: u32) -> Result<Value> {
        if depth > MAX_DEPTH {
            return Err(self.error_at(
                self.pos,
                format!("expected at most {MAX_DEPTH} levels of nesting"),
            ));
        }
        let start = self.pos;
        let Some(b) = self.peek() else {
            return Err(self.error_at(start, "expected a value, found the end of the input"));
        };
        match b {
            b'"' => self.read_string().map(Value::Str),
            b':' => {
                self.pos += 1;
                let name = self.token();
                if name.is_empty() {
                    return Err(self.error_at(
                        start,
                        format!(
                            "expected a keyword name after ':', found {}",
                            self.found_at(self.pos)
                        ),
                    ));
                }
                Ok(Value::Keyword(name.into()))
            }
            b'[' => {
                self.pos += 1;
                self.read_seq(b']', start, depth).map(Value::Vector)
            }
            b'(' => {
                self.pos += 1;
                self.read_seq(b')', start, depth).map(Value::Vector)
            }
            b'{' => {
                self.pos += 1;
                self.read_map_body(start, depth).map(Value::Map)
            }
            b'#' => self.read_dispatch(depth),
            b'\\' => self.read_char(),
            b'0'..=b'9' => self.read_number(),
            b'+' | b'-' if matches!(self.bytes.get(self.pos + 1), Some(b'0'..=b'9')) => {
                self.read_number()
            }
            b')' | b']' | b'}' => Err(self.error_at(
                start,
                format!("expected a value, found an unmatched {:?}", b as char),
            )),
            _ => {
                let tok = self.token();
                match tok {
                    "" => Err(self.error_at(
                        start,
                        format!("expected a value, found {}", self.found_at(start)),
                    )),
                    "nil" => Ok(Value::Nil),
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    s => Ok(Value::Symbol(s.into())),
                }
            }
        }
    }

    /// Reads a token (symbol, keyword name or number text) up to a delimiter.
    fn token(&mut self) -> &'a str {
        let start = self.pos;
        while let Some(&b) = self.bytes.get(self.pos) {
            if is_delimiter(b) {
                break;
            }
            self.pos += 1;
        }
        // Delimiters are ASCII, so both ends are on character boundaries.
        &self.src[start..self.pos]
    }

    fn read_number(&mut self) -> Result<Value> {
        let start = self.pos;
        let tok = self.token();
        if let Some(digits) = tok.strip_suffix('N') {
            if let Ok(i) = digits.parse::<i64>() {
                return Ok(Value::Int(i));
            }
        } else if let Ok(i) = tok.parse::<i64>() {
            return Ok(Value::Int(i));
        }
        let is_int = tok
            .trim_end_matches('N')
            .trim_start_matches(['+', '-'])
            .bytes()
            .all(|b| b.is_ascii_digit());
        if is_int {
            return Err(self.error_at(
                start,
                format!(
                    "expected an integer that fits in 64 bits, found {}",
                    excerpt(tok)
                ),
            ));
        }
        let ftok = tok.strip_suffix('M').unwrap_or(tok);
        if ftok
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            if let Ok(x) = ftok.parse::<f64>() {
                return Ok(Value::Float(Float(x)));
            }
        }
        Err(self.error_at(
            start,
            format!("expected a number, found {}", excerpt(format!("{tok:?}"))),
        ))
    }

    fn read_string(&mut self) -> Result<Box<str>> {
        let start = self.pos;
        self.pos += 1;
        let body = self.pos;
        // Fast path: no escapes.
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'"' => {
                    let s = &self.src[body..self.pos];
                    self.pos += 1;
                    return Ok(s.into());
                }
                b'\\' => break,
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    self.line_start = self.pos;
                }
                _ => self.pos += 1,
            }
        }
        let mut out = String::from(&self.src[body..self.pos]);
        loop {
            let Some(&b) = self.bytes.get(self.pos) else {
                return Err(self.unterminated(start));
            };
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(out.into());
                }
                b'\\' => {
                    let esc_at = self.pos;
                    self.pos += 1;
                    let Some(&e) = self.bytes.get(self.pos) else {
                        return Err(self.unterminated(start));
                    };
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'n' => out.push('\n'),
                        b't' => out.push('\t'),
                        b'r' => out.push('\r'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'u' => {
                            let hex = self.src.get(self.pos..self.pos + 4);
                            let c = hex
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .and_then(char::from_u32);
                            match c {
                                Some(c) => {
                                    out.push(c);
                                    self.pos += 4;
                                }
                                None => {
                                    return Err(self.error_at(
                                        esc_at,
                                        "expected four hex digits naming a character after \\u",
                                    ))
                                }
                            }
                        }
                        _ => {
                            return Err(self.error_at(
                                esc_at,
                                format!(
                                    "expected a string escape (\\\" \\\\ \\n \\t \\r \\uXXXX), found \\{}",
                                    self.found_at(self.pos - 1).trim_matches('\'')
                                ),
                            ))
                        }
                    }
                }
                _ => {
                    let next = self.src[self.pos..].chars().next().unwrap_or('\u{fffd}');
                    if next == '\n' {
                        self.line += 1;
                        self.line_start = self.pos + 1;
                    }
                    out.push(next);
                    self.pos += next.len_utf8();
                }
            }
        }
    }

    fn unterminated(&self, start: usize) -> Error {
        // `start` may lie on an earlier line; name the line the string began on.
        let before = &self.bytes[..start];
        let newlines_after = self.bytes[start..self.pos.min(self.bytes.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u32;
        let line = self.line.saturating_sub(newlines_after);
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let column = before[line_start..]
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count() as u32
            + 1;
        Error::at(
            Position::new(line, column),
            "unterminated string: expected a closing '\"' before the end of the input",
        )
    }

    fn read_char(&mut self) -> Result<Value> {
        let start = self.pos;
        self.pos += 1;
        let first = match self.src.get(self.pos..).and_then(|s| s.chars().next()) {
            Some(c) => c,
            None => {
                return Err(self.error_at(
                    start,
                    "expected a character after '\\', found the end of the input",
                ))
            }
        };
        self.pos += first.len_utf8();
        // Named characters: \newline, \space, \tab, ...
        let rest_start = self.pos;
        let rest = self.token();
        let name = &self.src[start + 1..self.pos];
        let c = if rest.is_empty() {
            first
        } else {
            match name {
                "newline" => '\n',
                "space" => ' ',
                "tab" => '\t',
                "return" => '\r',
                "backspace" => '\u{8}',
                "formfeed" => '\u{c}',
                _ => {
                    self.pos = rest_start;
                    return Err(self.error_at(
                        start,
                        format!("expected a character literal, found \\{}", excerpt(name)),
                    ));
                }
            }
        };
        Ok(Value::Str(c.to_string().into()))
    }

    /// An error at the reader's position when the load passed its
    /// memory budget.
    fn within_budget(&self) -> Result<()> {
        match super::budget::after_event() {
            Some(why) => Err(self.error_at(self.pos, why)),
            None => Ok(()),
        }
    }

    fn read_seq(&mut self, close: u8, start: usize, depth: u32) -> Result<Vec<Value>> {
        let mut items = Vec::new();
        loop {
            self.skip_ws(depth + 1)?;
            match self.peek() {
                None => {
                    return Err(self.error_at(
                        self.pos,
                        format!(
                        "expected {:?} to close the {} opened at {}, found the end of the input",
                        close as char,
                        if close == b']' {
                            "vector"
                        } else if close == b')' {
                            "list"
                        } else {
                            "set"
                        },
                        describe(self.position_of_any(start))
                    ),
                    ))
                }
                Some(b) if b == close => {
                    self.pos += 1;
                    return Ok(items);
                }
                Some(_) => {
                    items.push(self.read_value(depth + 1)?);
                    let size = std::mem::size_of::<Value>();
                    if let Some(why) = super::budget::in_collection(items.len(), size) {
                        return Err(self.error_at(self.pos, why));
                    }
                }
            }
        }
    }

    /// Reads map entries after the `{`, up to and including the `}`.
    fn read_map_body(&mut self, start: usize, depth: u32) -> Result<Vec<(Value, Value)>> {
        let mut entries = Vec::with_capacity(6);
        loop {
            self.skip_ws(depth + 1)?;
            match self.peek() {
                None => {
                    return Err(self.error_at(
                        self.pos,
                        format!(
                        "expected '}}' to close the map opened at {}, found the end of the input",
                        describe(self.position_of_any(start))
                    ),
                    ))
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(entries);
                }
                Some(_) => {
                    let k = self.read_value(depth + 1)?;
                    self.skip_ws(depth + 1)?;
                    match self.peek() {
                        Some(b'}') | None => {
                            return Err(self.error_at(
                                self.pos,
                                format!(
                                    "expected a value for map key {k}, found {}",
                                    self.found_at(self.pos)
                                ),
                            ))
                        }
                        Some(_) => {}
                    }
                    let v = self.read_value(depth + 1)?;
                    entries.push((k, v));
                }
            }
        }
    }

    /// The position of any earlier offset, even on an earlier line.
    fn position_of_any(&self, pos: usize) -> Position {
        if pos >= self.line_start {
            return self.position_of(pos);
        }
        let before = &self.bytes[..pos];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let lines_between = self.bytes[pos..self.line_start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u32;
        let column = before[line_start..]
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count() as u32
            + 1;
        Position::new(self.line.saturating_sub(lines_between), column)
    }

    /// Reads a form starting with `#`: a set, a discard, or a tagged value.
    fn read_dispatch(&mut self, depth: u32) -> Result<Value> {
        let start = self.pos;
        match self.bytes.get(self.pos + 1) {
            Some(b'{') => {
                self.pos += 2;
                self.read_seq(b'}', start, depth).map(Value::set)
            }
            Some(b'_') => {
                self.skip_ws(depth)?;
                self.read_value(depth)
            }
            _ => {
                let tag = self.read_tag()?;
                self.skip_ws(depth + 1)?;
                if self.pos >= self.bytes.len() {
                    return Err(self.error_at(
                        self.pos,
                        format!(
                            "expected a value after the tag #{tag}, found the end of the input"
                        ),
                    ));
                }
                let v = self.read_value(depth + 1)?;
                Ok(Value::Tagged(tag.into(), Box::new(v)))
            }
        }
    }

    /// Reads `#tag` (cursor on the `#`), returning the tag without the `#`.
    fn read_tag(&mut self) -> Result<&'a str> {
        let start = self.pos;
        self.pos += 1;
        let tag = self.token();
        let ok = tag
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '.' || c == '*');
        if !ok {
            return Err(self.error_at(
                start,
                format!(
                    "expected a tag name, '{{' or '_' after '#', found {}",
                    self.found_at(start + 1)
                ),
            ));
        }
        Ok(tag)
    }

    /// Reads one top-level op: a map, or a tag followed by a map.
    pub(crate) fn read_op(&mut self, index: u64) -> Result<Op> {
        let start = self.pos;
        let position = self.position();
        let fields = match self.peek() {
            Some(b'{') => {
                let save = (self.pos, self.line, self.line_start);
                self.pos += 1;
                if let Some(op) = self.read_plain_op(position, index) {
                    return Ok(op);
                }
                // Not a plain op: read it again in full, for extra fields
                // and precise errors.
                (self.pos, self.line, self.line_start) = save;
                self.pos += 1;
                self.read_map_body(start, 0)?
            }
            Some(b'#') if !matches!(self.bytes.get(self.pos + 1), Some(b'{' | b'_')) => {
                let tag = self.read_tag()?;
                self.skip_ws(1)?;
                if self.peek() != Some(b'{') {
                    return Err(self.error_at(
                        self.pos,
                        format!(
                            "expected a map after the record tag #{tag}, found {}",
                            self.found_at(self.pos)
                        ),
                    ));
                }
                let map_start = self.pos;
                self.pos += 1;
                self.read_map_body(map_start, 1)?
            }
            _ => {
                let v = self.read_value(0)?;
                return Err(Error::at(
                    position,
                    format!(
                        "expected a map (an op) at top level, found {}: {}",
                        v.kind(),
                        excerpt(&v)
                    ),
                ));
            }
        };
        Op::from_fields(fields, position, index)
    }
}

impl Reader<'_> {
    /// Fast path for the common op map: keyword keys among Jepsen's core
    /// fields, a keyword type and f, an integer or keyword process, and an
    /// integer time and index. Builds the op without allocating key names.
    /// Returns `None` (leaving the cursor anywhere) for anything else.
    fn read_plain_op(&mut self, position: Position, index: u64) -> Option<Op> {
        let mut op = Op::new(OpType::Invoke, 0, "", Value::Nil);
        op.index = index;
        op.line = position.line;
        let (mut has_type, mut has_process, mut has_f) = (false, false, false);
        loop {
            self.skip_ws(1).ok()?;
            match self.peek()? {
                b'}' => {
                    self.pos += 1;
                    break;
                }
                b':' => {}
                _ => return None,
            }
            self.pos += 1;
            let name = self.token();
            self.skip_ws(1).ok()?;
            match name {
                "type" | "f" => {
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.pos += 1;
                    let v = self.token();
                    if name == "type" {
                        op.op_type = OpType::parse(v)?;
                        has_type = true;
                    } else {
                        if v.is_empty() {
                            return None;
                        }
                        op.f = v.into();
                        has_f = true;
                    }
                }
                "process" => {
                    op.process = match self.read_value(1).ok()? {
                        Value::Int(p) => Process::Client(p),
                        Value::Keyword(n) => Process::Named(n),
                        Value::Str(n) => Process::Str(n),
                        _ => return None,
                    };
                    has_process = true;
                }
                "time" => match self.read_value(1).ok()? {
                    Value::Int(t) => op.time = Some(t),
                    _ => return None,
                },
                "index" => match self.read_value(1).ok()? {
                    Value::Int(i) if i >= 0 => op.index = i as u64,
                    _ => return None,
                },
                "value" => op.value = self.read_value(1).ok()?,
                "key" => op.key = Some(self.read_value(1).ok()?),
                "node" => op.node = Some(self.read_value(1).ok()?),
                "error" => op.error = Some(self.read_value(1).ok()?),
                _ => return None,
            }
        }
        (has_type && has_process && has_f).then_some(op)
    }
}

/// "line L, column C".
fn describe(p: Position) -> String {
    format!("line {}, column {}", p.line, p.column)
}

/// Parses a whole history.
pub(crate) fn parse(input: &str) -> Result<Vec<Op>> {
    let mut r = Reader::new(input, 1);
    let mut ops = Vec::with_capacity(input.len() / 80 + 1);
    if r.at_end()? {
        return Ok(ops);
    }
    // A history wrapped in one vector or list.
    let wrapper = match r.peek() {
        Some(b'[') => Some(b']'),
        Some(b'(') => Some(b')'),
        _ => None,
    };
    if let Some(close) = wrapper {
        let open_at = r.position();
        r.pos += 1;
        loop {
            if r.at_end()? {
                return Err(r.error_at(
                    r.pos,
                    format!(
                        "expected {:?} to close the history opened at {}, found the end of the input",
                        close as char,
                        describe(open_at)
                    ),
                ));
            }
            if r.peek() == Some(close) {
                r.pos += 1;
                break;
            }
            let op = r.read_op(ops.len() as u64)?;
            ops.push(op);
            r.within_budget()?;
        }
        if !r.at_end()? {
            return Err(r.error_at(
                r.pos,
                format!(
                    "expected the end of the input after the closing {:?}, found {}",
                    close as char,
                    r.found_at(r.pos)
                ),
            ));
        }
        return Ok(ops);
    }
    while !r.at_end()? {
        let op = r.read_op(ops.len() as u64)?;
        ops.push(op);
        r.within_budget()?;
    }
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::op::{OpType, Process};

    fn value(s: &str) -> Value {
        Reader::new(s, 1)
            .read()
            .unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn kw(s: &str) -> Value {
        Value::Keyword(s.into())
    }

    fn err(s: &str) -> Error {
        parse(s).expect_err(s)
    }

    #[test]
    fn reads_scalars() {
        assert_eq!(value("nil"), Value::Nil);
        assert_eq!(value("true"), Value::Bool(true));
        assert_eq!(value("false"), Value::Bool(false));
        assert_eq!(value("-42"), Value::Int(-42));
        assert_eq!(value("+7"), Value::Int(7));
        assert_eq!(value("12N"), Value::Int(12));
        assert_eq!(value("1.5"), Value::Float(Float(1.5)));
        assert_eq!(value("-2e3"), Value::Float(Float(-2000.0)));
        assert_eq!(value("0.25M"), Value::Float(Float(0.25)));
        assert_eq!(value(":ok"), kw("ok"));
        assert_eq!(value(":jepsen.foo/bar"), kw("jepsen.foo/bar"));
        assert_eq!(value("foo/bar"), Value::Symbol("foo/bar".into()));
        assert_eq!(value("\\a"), Value::Str("a".into()));
        assert_eq!(value("\\newline"), Value::Str("\n".into()));
    }

    #[test]
    fn reads_strings_with_escapes() {
        assert_eq!(value(r#""plain""#), Value::Str("plain".into()));
        assert_eq!(
            value(r#""a\"b\\c\nd\te\u00e9""#),
            Value::Str("a\"b\\c\nd\teé".into())
        );
        assert_eq!(value("\"é ü\""), Value::Str("é ü".into()));
    }

    #[test]
    fn reads_collections() {
        assert_eq!(
            value("[1, 2 (3 4)]"),
            Value::Vector(vec![
                Value::Int(1),
                Value::Int(2),
                Value::Vector(vec![Value::Int(3), Value::Int(4)])
            ])
        );
        assert_eq!(
            value("#{3 1 2 1}"),
            Value::Set(vec![Value::Int(1), Value::Int(2), Value::Int(3)])
        );
        assert_eq!(
            value("{:a 1, \"b\" [nil]}"),
            Value::Map(vec![
                (kw("a"), Value::Int(1)),
                (Value::Str("b".into()), Value::Vector(vec![Value::Nil]))
            ])
        );
        assert_eq!(
            value("#inst \"2020-01-01\""),
            Value::Tagged("inst".into(), Box::new(Value::Str("2020-01-01".into())))
        );
        assert_eq!(
            value("[1 #_ 2 #_[x y] 3]"),
            Value::Vector(vec![Value::Int(1), Value::Int(3)])
        );
        assert_eq!(value("[1 ; two\n 3]").as_vector().unwrap().len(), 2);
    }

    #[test]
    fn reads_one_op_per_line_with_comments() {
        let ops = parse(
            "; a history\n\
             {:process 0, :type :invoke, :f :write, :value 3, :time 10}\n\
             \n\
             {:process 0 :type :ok :f :write :value 3 :index 7} ; done\n\
             #_{:process 9 :type :ok :f :x}\n\
             {:process :nemesis, :type :info, :f :start, :value #{\"n1\"}}\n",
        )
        .unwrap();
        assert_eq!(ops.len(), 3);
        assert_eq!(ops[0].op_type, OpType::Invoke);
        assert_eq!(ops[0].time, Some(10));
        assert_eq!((ops[0].line, ops[0].index), (2, 0));
        assert_eq!((ops[1].line, ops[1].index), (4, 7));
        assert_eq!(ops[2].process, Process::Named("nemesis".into()));
        assert_eq!(ops[2].index, 2);
        assert_eq!(ops[2].value, Value::set(vec![Value::Str("n1".into())]));
    }

    #[test]
    fn reads_wrapped_histories_and_records() {
        for (open, close) in [("[", "]"), ("(", ")")] {
            let text = format!(
                "{open}#jepsen.history.Op{{:index 0, :time 5, :type :invoke, :process 1, :f :read, :value nil}}\n \
                 {{:process 1, :type :ok, :f :read, :value 4}}{close}\n"
            );
            let ops = parse(&text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(ops.len(), 2);
            assert_eq!(ops[0].process, Process::Client(1));
            assert_eq!(ops[1].value, Value::Int(4));
            assert_eq!(ops[1].line, 2);
        }
        assert!(parse("[]").unwrap().is_empty());
        assert!(parse("  ; nothing\n").unwrap().is_empty());
    }

    #[test]
    fn reports_positions_of_errors() {
        let e = err("{:process 0, :type :invoke, :f :read}\n[1 2]\n");
        assert_eq!(e.position, Position::new(2, 1));
        assert!(
            e.message
                .contains("expected a map (an op) at top level, found a vector"),
            "{e}"
        );

        let e = err("{:process 0, :type :invoke, :f :read, :value \"abc}\n");
        assert_eq!(e.position, Position::new(1, 46));
        assert!(e.message.contains("unterminated string"), "{e}");

        let e = err("{:process 0, :type :invoke,\n :f :read, :value 99999999999999999999}");
        assert_eq!(e.position, Position::new(2, 19));
        assert!(e.message.contains("64 bits"), "{e}");

        let e = err("{:process 0, :type :done, :f :read}");
        assert!(e.message.contains("unknown op type"), "{e}");
        assert_eq!(e.position.line, 1);

        let e = err("{:process 0 :type}");
        assert_eq!(e.position, Position::new(1, 18));
        assert!(
            e.message.contains("expected a value for map key :type"),
            "{e}"
        );

        let e = err("{:process 0, :type :ok, :f :read\n");
        assert_eq!(e.position.line, 2);
        assert!(
            e.message
                .contains("close the map opened at line 1, column 1"),
            "{e}"
        );

        let e = err("[{:process 0, :type :ok, :f :read}");
        assert!(e.message.contains("close the history"), "{e}");

        let e = err("{:value \"\\q\"}");
        assert_eq!(e.position, Position::new(1, 10));
        assert!(e.message.contains("string escape"), "{e}");

        let e = err("{:process 1, :type :ok, :f :r} }");
        assert_eq!(e.position, Position::new(1, 32));
        assert!(e.message.contains("unmatched"), "{e}");

        let e = err("#jepsen.history.Op [1]");
        assert!(
            e.message.contains("expected a map after the record tag"),
            "{e}"
        );

        let e = err("{:value 1.2.3}");
        assert!(e.message.contains("expected a number"), "{e}");
    }

    /// The line and column of byte offset `at` in `text`, counted naively.
    fn naive_position(text: &str, at: usize) -> Position {
        let before = &text[..at];
        let line = before.matches('\n').count() as u32 + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Position::new(line, before[line_start..].chars().count() as u32 + 1)
    }

    #[test]
    fn counts_columns_on_a_long_line() {
        // A one-line vector of ops with multi-byte characters, some read on
        // the fast path and some (with an extra field) read again in full.
        let mut text = String::from("[");
        for i in 0..3000 {
            let extra = if i % 7 == 0 {
                r#", :extra #{"\u00e9"}"#
            } else {
                ""
            };
            text.push_str(&format!(
                "{{:process {}, :type :ok, :f :write, :value \"é{i}ü\"{extra}}} ",
                i % 5
            ));
        }
        assert_eq!(parse(&format!("{text}]")).unwrap().len(), 3000);

        // An error inside an op far along the line.
        let bad =
            format!("{text}{{:process 0, :type :ok, :f :read, :value 99999999999999999999}}]");
        let at = bad.find("99999999999999999999").unwrap();
        let e = err(&bad);
        assert_eq!(e.position, naive_position(&bad, at), "{e}");
        assert!(e.message.contains("64 bits"), "{e}");

        // A position counted at the start of an op far along the line.
        let bad = format!("{text}7]");
        let e = err(&bad);
        assert_eq!(e.position, naive_position(&bad, bad.len() - 2), "{e}");
        assert!(e.message.contains("expected a map"), "{e}");
        let bad = format!("{text}{{:process 0, :type :done, :f :read}}]");
        let e = err(&bad);
        assert_eq!(e.position, naive_position(&bad, text.len()), "{e}");
        assert!(e.message.contains("unknown op type"), "{e}");
    }

    #[test]
    fn counts_columns_again_after_a_newline() {
        // A newline inside a string starts a new line part way through an
        // op, on both the fast path and the full read.
        for extra in ["", ", :extra 1"] {
            let text = format!(
                "[{{:process 0, :type :ok, :f :write, :value \"é\nü\"{extra}}} \
                 {{:process 1, :type :ok, :f :write, :value 1}} \
                 {{:process 2, :type :ok, :f :write, :value 1.2.3}}]"
            );
            let e = err(&text);
            let at = text.find("1.2.3").unwrap();
            assert_eq!(e.position, naive_position(&text, at), "{e}");
            assert_eq!(e.position.line, 2, "{e}");
        }
    }

    #[test]
    fn refuses_deep_nesting_without_overflow() {
        let deep = format!("{{:value {}}}", "[".repeat(100_000));
        assert!(err(&deep).message.contains("nesting"));
    }
}
