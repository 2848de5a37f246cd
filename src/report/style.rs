//! Terminal styling: colour only on a terminal, and never when `NO_COLOR`
//! is set (<https://no-color.org>).

use crate::check::Verdict;

/// Whether to colour text output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// Emit ANSI colour codes.
    pub color: bool,
}

impl Style {
    /// Colour if `is_terminal` and `NO_COLOR` is unset or empty.
    pub fn detect(is_terminal: bool) -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            color: is_terminal && !no_color,
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
        let s = Style { color: false };
        assert_eq!(s.verdict(Verdict::Invalid), "INVALID");
        let c = Style { color: true };
        assert_eq!(c.bad("x"), "\x1b[1;31mx\x1b[0m");
    }
}
