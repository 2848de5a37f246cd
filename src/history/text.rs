//! Reader for Jepsen's text histories: `history.txt` and `jepsen.util` log
//! lines.
//!
//! An op line holds, separated by tabs or runs of spaces: the process (an
//! integer, or a name such as `:nemesis`), the type (`:invoke`, `:ok`,
//! `:fail`, `:info`), the function (`:read`), then the value as one EDN form
//! (`nil`, `4`, `[3 0]`, `#{1 2}`, `:timed-out`), and optionally an error:
//!
//! ```text
//! 3  :invoke  :read  nil
//! INFO  jepsen.util - 2  :invoke  :cas  [3 0]
//! 2017-03-19 12:00:00,123{GMT}  INFO  [jepsen worker 3] jepsen.util: 3  :ok  :read  nil
//! ```
//!
//! Which lines must be ops:
//!
//! - If the input contains `jepsen.util` anywhere, it is a **log**: op lines
//!   are those containing `jepsen.util -` or `jepsen.util:`, and the op
//!   starts after that marker. Every other line (other loggers, stack
//!   traces, blank lines) is skipped, and so is a `jepsen.util` line whose
//!   text does not begin with a process and an op type (other messages of
//!   that logger). Once a line begins with a process and a type, any error
//!   in the rest of it is reported.
//! - Otherwise it is a plain `history.txt`: every non-blank line must be an
//!   op, and anything else is an error naming its line and column.
//!
//! After the value, the rest of the line is the op's error: read as one
//! EDN form when it is exactly one, else kept as a string. The value of an
//! `:info` completion is kept as written (often an error keyword such as
//! `:timed-out`); pairing takes the op's input from its invocation.

use super::edn::Reader;
use super::error::{excerpt, Error, Position, Result};
use super::op::{Op, OpType, Process};
use super::value::Value;

/// Where a log line's op text begins: just after the `jepsen.util`
/// marker, if the line has one.
fn after_marker(line: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = line[from..].find("jepsen.util") {
        let end = from + i + "jepsen.util".len();
        let rest = &line[end..];
        if let Some(r) = rest.strip_prefix(':') {
            return Some(line.len() - r.len());
        }
        let trimmed = rest.trim_start_matches([' ', '\t']);
        if let Some(r) = trimmed.strip_prefix('-') {
            return Some(line.len() - r.len());
        }
        from = end;
    }
    None
}

/// Skips tabs and spaces from `pos`.
fn skip_space(bytes: &[u8], mut pos: usize) -> usize {
    while matches!(bytes.get(pos), Some(b' ' | b'\t')) {
        pos += 1;
    }
    pos
}

/// Reads a field up to the next tab or space.
fn field(line: &str, pos: usize) -> (&str, usize) {
    let bytes = line.as_bytes();
    let mut end = pos;
    while end < bytes.len() && !matches!(bytes[end], b' ' | b'\t') {
        end += 1;
    }
    (&line[pos..end], end)
}

/// Parses a whole history.
pub(crate) fn parse(input: &str) -> Result<Vec<Op>> {
    let is_log = input.contains("jepsen.util");
    let mut ops = Vec::with_capacity(input.len() / 40 + 1);
    for (i, raw) in input.split('\n').enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let start = if is_log {
            match after_marker(line) {
                Some(s) => s,
                None => continue,
            }
        } else {
            0
        };
        if line[start..].trim().is_empty() {
            continue;
        }
        match parse_line(line, start, line_no, ops.len() as u64, is_log)? {
            Some(op) => ops.push(op),
            None => continue,
        }
        if let Some(why) = super::budget::after_event() {
            return Err(Error::at(Position::line(line_no), why));
        }
    }
    Ok(ops)
}

/// Parses one op line whose op text starts at byte `start`. In a log,
/// returns `None` for lines that do not begin with a process and a type.
fn parse_line(
    line: &str,
    start: usize,
    line_no: u32,
    index: u64,
    is_log: bool,
) -> Result<Option<Op>> {
    let bytes = line.as_bytes();
    let mut r = Reader::new(line, line_no);
    let col = |r: &Reader, p: usize| r.position_of(p);

    // Process.
    let p_at = skip_space(bytes, start);
    let (p_text, p_end) = field(line, p_at);
    let process = if let Ok(n) = p_text.parse::<i64>() {
        Process::Client(n)
    } else if let Some(name) = p_text.strip_prefix(':').filter(|n| !n.is_empty()) {
        Process::Named(name.into())
    } else {
        if is_log {
            return Ok(None);
        }
        return Err(Error::at(
            col(&r, p_at),
            format!(
                "expected a process (an integer or a name like :nemesis) at the start of an op line, found {}",
                shown(p_text)
            ),
        ));
    };

    // Type.
    let t_at = skip_space(bytes, p_end);
    let (t_text, t_end) = field(line, t_at);
    let op_type = match OpType::parse(t_text).filter(|_| t_text.starts_with(':')) {
        Some(t) => t,
        None => {
            if is_log && !t_text.starts_with(':') {
                return Ok(None);
            }
            return Err(Error::at(
                col(&r, t_at),
                format!(
                    "expected an op type (:invoke, :ok, :fail or :info) after the process, found {}",
                    shown(t_text)
                ),
            ));
        }
    };

    // Function.
    let f_at = skip_space(bytes, t_end);
    let (f_text, f_end) = field(line, f_at);
    let f = f_text.strip_prefix(':').unwrap_or(f_text);
    if f.is_empty() || f.starts_with(['"', '[', '{', '(', '#']) {
        return Err(Error::at(
            col(&r, f_at),
            format!(
                "expected a function (a keyword like :read) after the op type, found {}",
                shown(f_text)
            ),
        ));
    }

    // Value: one EDN form, possibly containing spaces.
    let v_at = skip_space(bytes, f_end);
    let value = if v_at >= bytes.len() {
        Value::Nil
    } else {
        r.seek(v_at);
        r.read()?
    };

    // Error: the rest of the line.
    let e_at = skip_space(bytes, r.offset().max(v_at));
    let rest = line[e_at..].trim_end();
    let error = if rest.is_empty() {
        None
    } else {
        let mut er = Reader::new(rest, line_no);
        match er.read() {
            Ok(v) if er.at_end().unwrap_or(false) => Some(v),
            _ => Some(Value::Str(rest.into())),
        }
    };

    Ok(Some(Op {
        index,
        op_type,
        process,
        f: f.into(),
        value,
        key: None,
        time: None,
        node: None,
        error,
        extra: Vec::new(),
        line: line_no,
    }))
}

/// A field's text for messages.
fn shown(s: &str) -> String {
    if s.is_empty() {
        "the end of the line".to_string()
    } else {
        excerpt(format!("{s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::error::Position;

    fn kw(s: &str) -> Value {
        Value::Keyword(s.into())
    }

    #[test]
    fn reads_history_txt() {
        let ops = parse(
            "3\t:invoke\t:read\tnil\n\
             3\t:ok\t:read\t#{1 2}\n\
             \n\
             :nemesis\t:info\t:start\t{\"n1\" [\"n2\"]}\n\
             4\t:info\t:write\t:timed-out\tindeterminate: socket closed\n\
             5\t:fail\t:cas\t[3 0]\t:no-such-key\r\n",
        )
        .unwrap();
        assert_eq!(ops.len(), 5);
        assert_eq!(ops[0].process, Process::Client(3));
        assert_eq!(ops[0].op_type, OpType::Invoke);
        assert_eq!(&*ops[0].f, "read");
        assert_eq!(ops[0].value, Value::Nil);
        assert_eq!(ops[1].value, Value::set(vec![Value::Int(1), Value::Int(2)]));
        assert_eq!(ops[2].process, Process::Named("nemesis".into()));
        assert_eq!(ops[2].line, 4);
        assert_eq!(ops[3].value, kw("timed-out"));
        assert_eq!(
            ops[3].error,
            Some(Value::Str("indeterminate: socket closed".into()))
        );
        assert_eq!(
            ops[4].value,
            Value::Vector(vec![Value::Int(3), Value::Int(0)])
        );
        assert_eq!(ops[4].error, Some(kw("no-such-key")));
        assert_eq!(
            ops.iter().map(|o| o.index).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4]
        );
    }

    #[test]
    fn reads_log_lines_with_tabs_or_spaces() {
        let ops = parse(
            "INFO  jepsen.util - 2\t:invoke\t:cas\t[3 0]\n\
             INFO  jepsen.core - Worker 2 starting\n\
             INFO  jepsen.util - 2   :fail   :cas    [3 0]\n\
             2017-03-19 12:00:00,123{GMT}\tINFO\t[jepsen worker 3] jepsen.util: 3\t:invoke\t:read\tnil\n\
             INFO  jepsen.util - Running test\n\
             INFO  jepsen.util - 3  :ok  :read  4\n",
        )
        .unwrap();
        assert_eq!(ops.len(), 4);
        assert_eq!(ops[1].op_type, OpType::Fail);
        assert_eq!(
            ops[1].value,
            Value::Vector(vec![Value::Int(3), Value::Int(0)])
        );
        assert_eq!(ops[1].error, None);
        assert_eq!(ops[1].line, 3);
        assert_eq!(ops[2].process, Process::Client(3));
        assert_eq!(ops[2].line, 4);
        assert_eq!(ops[3].value, Value::Int(4));
    }

    #[test]
    fn reports_malformed_lines() {
        let e = parse("1\t:invoke\t:read\tnil\nhello world\n").unwrap_err();
        assert_eq!(e.position, Position::new(2, 1));
        assert!(e.message.contains("expected a process"), "{e}");

        let e = parse("1\t:done\t:read\tnil\n").unwrap_err();
        assert_eq!(e.position, Position::new(1, 3));
        assert!(e.message.contains("expected an op type"), "{e}");

        let e = parse("1 :ok :read [1 2\n").unwrap_err();
        assert_eq!(e.position.line, 1);
        assert!(e.message.contains("close the vector"), "{e}");

        let e = parse("1\t:ok\t\"read\"\tnil\n").unwrap_err();
        assert_eq!(e.position, Position::new(1, 7));

        let e = parse("INFO jepsen.util - 1\t:ok\t:read\t\"abc\n").unwrap_err();
        assert_eq!(e.position, Position::new(1, 32));
        assert!(e.message.contains("unterminated"), "{e}");

        let e = parse("INFO jepsen.util - 1\t:oops\t:read\tnil\n").unwrap_err();
        assert!(e.message.contains("op type"), "{e}");
    }

    #[test]
    fn missing_value_is_nil() {
        let ops = parse("0 :invoke :read\n").unwrap();
        assert_eq!(ops[0].value, Value::Nil);
    }
}
