//! Terminal styling: colour only on a terminal, and never when `NO_COLOR`
//! is set (<https://no-color.org>).

use crate::check::Verdict;

/// Whether to colour text output, and how wide drawings may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    /// Emit ANSI colour codes.
    pub color: bool,
    /// Columns a line may take (timelines are fitted to it).
    pub width: usize,
}

/// The width when output is not a terminal and `COLUMNS` says nothing.
pub const DEFAULT_WIDTH: usize = 100;

impl Default for Style {
    fn default() -> Self {
        Style {
            color: false,
            width: DEFAULT_WIDTH,
        }
    }
}

impl Style {
    /// Colour if `is_terminal` and `NO_COLOR` is unset or empty. The width
    /// is `COLUMNS` when set to a number, else the terminal's own when
    /// `terminal_width` is known, else [`DEFAULT_WIDTH`].
    pub fn detect(is_terminal: bool, terminal_width: Option<usize>) -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let columns = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse::<usize>().ok())
            .filter(|&c| c > 0);
        Style {
            color: is_terminal && !no_color,
            width: columns
                .or(terminal_width.filter(|_| is_terminal))
                .unwrap_or(DEFAULT_WIDTH),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Bold text.
    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    /// Dim text, for details.
    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    /// Red text, for anomalies.
    pub fn bad(&self, text: &str) -> String {
        self.paint("1;31", text)
    }

    /// A verdict word, coloured by its meaning.
    pub fn verdict(&self, v: Verdict) -> String {
        let word = v.word().to_uppercase();
        match v {
            Verdict::Valid => self.paint("1;32", &word),
            Verdict::Invalid => self.paint("1;31", &word),
            Verdict::Unknown => self.paint("1;33", &word),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_without_color() {
        let s = Style::default();
        assert_eq!(s.verdict(Verdict::Invalid), "INVALID");
        let c = Style {
            color: true,
            ..Style::default()
        };
        assert_eq!(c.bad("x"), "\x1b[1;31mx\x1b[0m");
    }
}
