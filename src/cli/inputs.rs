//! Turning file and directory arguments into the list of histories to read.
//!
//! A file argument is read as it is. A directory argument is searched
//! recursively, without following symbolic links below it:
//!
//! - A Jepsen *run directory* (one holding `history.edn`, `history.json`,
//!   `history.jsonl`, `history.txt`, `results.edn`, `jepsen.log`,
//!   `test.jepsen` or `test.fressian`, such as `store/<test>/latest/`)
//!   gives its history once: the first of `history.edn`, `history.json`,
//!   `history.jsonl`, `history.txt` it holds. Jepsen's other files and the
//!   run's subdirectories (node logs) are never read. A run directory
//!   without a history file is an error of that directory.
//! - When no run directory is found below the argument, every file ending
//!   in `.edn`, `.json`, `.jsonl`, `.log` or `.txt` is a history.
//!
//! `-` stands for standard input, which can be read once: a second `-` is
//! an error of that argument.
//!
//! A directory with nothing to read is an error of that argument. An error
//! takes the place of the files it stands for, so that every argument has
//! an outcome in the report; paths are sorted so that output order is
//! stable.

use labrys::history::Error;
use std::path::{Path, PathBuf};

/// A run directory's history files, in order of preference.
const HISTORY_NAMES: [&str; 4] = [
    "history.edn",
    "history.json",
    "history.jsonl",
    "history.txt",
];
/// Files that mark a Jepsen run directory even without a history.
const RUN_MARKERS: [&str; 4] = ["results.edn", "jepsen.log", "test.jepsen", "test.fressian"];
const HISTORY_EXTENSIONS: [&str; 5] = ["edn", "json", "jsonl", "log", "txt"];

/// The argument that stands for standard input.
pub const STDIN: &str = "-";

/// One history to read, or why an argument (or a run directory in it)
/// gives none.
pub type Input = Result<PathBuf, Error>;

/// Expands the arguments into histories, in argument order (each
/// directory's in sorted order).
pub fn expand(args: &[PathBuf]) -> Vec<Input> {
    let mut out = Vec::new();
    let mut stdin_taken = false;
    for arg in args {
        if arg == Path::new(STDIN) {
            if std::mem::replace(&mut stdin_taken, true) {
                let e = Error::msg("standard input (-) is named twice: it can be read only once");
                out.push(Err(e.in_file(Path::new(labrys::report::STDIN_NAME))));
            } else {
                out.push(Ok(arg.clone()));
            }
            continue;
        }
        if !arg.is_dir() {
            out.push(Ok(arg.clone()));
            continue;
        }
        let mut found = Found::default();
        if let Err(e) = found.walk(arg) {
            let e = Error::msg(format!("cannot search the directory: {e}"));
            out.push(Err(e.in_file(arg)));
            continue;
        }
        let mut inputs = if found.runs.is_empty() {
            found.other.into_iter().map(Ok).collect()
        } else {
            found.runs
        };
        if inputs.is_empty() {
            let e = Error::msg(format!(
                "no history files found (looked for Jepsen run directories with {}, then *.{})",
                HISTORY_NAMES.join(", "),
                HISTORY_EXTENSIONS.join(", *.")
            ));
            out.push(Err(e.in_file(arg)));
            continue;
        }
        inputs.sort_by(|a, b| path_of(a).cmp(path_of(b)));
        out.extend(inputs);
    }
    out
}

fn path_of(input: &Input) -> &Path {
    match input {
        Ok(p) => p,
        Err(e) => e.path.as_deref().unwrap_or(Path::new("")),
    }
}

/// What a search of one argument found.
#[derive(Default)]
struct Found {
    /// Run directories' histories (or their errors).
    runs: Vec<Input>,
    /// Other files with a history's extension.
    other: Vec<PathBuf>,
}

impl Found {
    fn walk(&mut self, dir: &Path) -> std::io::Result<()> {
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                dirs.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        let has = |name: &str| files.iter().any(|f| f == name);
        if let Some(name) = HISTORY_NAMES.into_iter().find(|n| has(n)) {
            self.runs.push(Ok(dir.join(name)));
            return Ok(());
        }
        if RUN_MARKERS.into_iter().any(has) {
            let e = Error::msg(format!(
                "a Jepsen run directory without a history file ({})",
                HISTORY_NAMES.join(", ")
            ));
            self.runs.push(Err(e.in_file(dir)));
            return Ok(());
        }
        for name in files {
            let path = dir.join(name);
            let ext = path.extension().and_then(|e| e.to_str());
            if ext.is_some_and(|e| HISTORY_EXTENSIONS.contains(&e)) {
                self.other.push(path);
            }
        }
        for d in dirs {
            self.walk(&d)?;
        }
        Ok(())
    }
}
