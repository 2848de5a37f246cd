//! Input errors: what was wrong, and where.
//!
//! A history that fails a check is a result, not an error. An [`Error`]
//! means the input could not be read as a history at all: a malformed line,
//! an unknown op type, a completion with no pending invocation, a value of
//! the wrong shape for the model, or an I/O failure. Its message names the
//! file, the line and (where it applies) the column, then what was expected.
//!
//! A message quotes the offending input only as an [`excerpt`]: at most
//! [`EXCERPT_CHARS`] characters of it, so that a 100 KB token does not go
//! whole to standard error. As a last resort, a message longer than
//! [`MAX_MESSAGE_CHARS`] is cut there.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in an input something was found. Lines and columns count from 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    /// 1-based line number; 0 when unknown.
    pub line: u32,
    /// 1-based column (in characters); 0 when unknown or not applicable.
    pub column: u32,
}

impl Position {
    /// A position with a line and a column.
    pub fn new(line: u32, column: u32) -> Self {
        Position { line, column }
    }

    /// A position naming only a line.
    pub fn line(line: u32) -> Self {
        Position { line, column: 0 }
    }
}

/// The most characters of input an error message quotes.
pub const EXCERPT_CHARS: usize = 60;

/// The most characters of an error message.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// `text` as an error message quotes it: whole when it is short, else its
/// first [`EXCERPT_CHARS`] characters, an ellipsis and its length.
pub fn excerpt(text: impl fmt::Display) -> String {
    let text = text.to_string();
    cut(&text, EXCERPT_CHARS)
}

/// `text` cut to `max` characters, saying how long it was.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((end, _)) => format!("{}... ({} characters)", &text[..end], text.chars().count()),
    }
}

/// An input error: bad syntax, a malformed op, or trouble reading a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The file, when the input came from one.
    pub path: Option<PathBuf>,
    /// Where in the input, when known.
    pub position: Position,
    /// What was wrong, and what was expected instead.
    pub message: String,
}

impl Error {
    /// A new error at a position, without a file name yet.
    pub fn at(position: Position, message: impl Into<String>) -> Self {
        let message: String = message.into();
        Error {
            path: None,
            position,
            message: cut(&message, MAX_MESSAGE_CHARS),
        }
    }

    /// A new error with no position (for example an I/O failure).
    pub fn msg(message: impl Into<String>) -> Self {
        Error::at(Position::default(), message)
    }

    /// Names the file the error came from.
    pub fn in_file(mut self, path: &Path) -> Self {
        self.path = Some(path.to_path_buf());
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = &self.path {
            write!(f, "{}", path.display())?;
            if self.position.line > 0 {
                write!(f, ":{}", self.position.line)?;
                if self.position.column > 0 {
                    write!(f, ":{}", self.position.column)?;
                }
            }
            f.write_str(": ")?;
        } else if self.position.line > 0 {
            write!(f, "line {}", self.position.line)?;
            if self.position.column > 0 {
                write!(f, ", column {}", self.position.column)?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Shorthand for results whose error is an input [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_file_line_and_column() {
        let e = Error::at(Position::new(3, 14), "expected a map").in_file(Path::new("h.edn"));
        assert_eq!(e.to_string(), "h.edn:3:14: expected a map");
        let e = Error::at(Position::line(7), "no pending invocation");
        assert_eq!(e.to_string(), "line 7: no pending invocation");
    }

    #[test]
    fn quotes_only_an_excerpt() {
        assert_eq!(excerpt("short"), "short");
        let long = "é".repeat(100_000);
        let e = excerpt(&long);
        assert_eq!(e, format!("{}... (100000 characters)", "é".repeat(60)));
        let e = Error::at(Position::line(1), long);
        assert!(
            e.message.chars().count() < MAX_MESSAGE_CHARS + 30,
            "{}",
            e.message.len()
        );
    }
}
