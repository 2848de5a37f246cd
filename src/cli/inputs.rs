//! Turning file and directory arguments into the list of histories to read.
//!
//! A file argument is read as it is. A directory argument is searched
//! recursively (without following symbolic links below it) for files named
//! `history.edn`, `history.txt`, `history.json` or `history.jsonl`, as in a
//! Jepsen store directory such as `store/<test>/latest/`. A directory that
//! holds none of those yields its files ending in `.edn`, `.json`,
//! `.jsonl`, `.log` or `.txt` instead. Paths are sorted so that output
//! order is stable.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

const HISTORY_NAMES: [&str; 4] = [
    "history.edn",
    "history.txt",
    "history.json",
    "history.jsonl",
];
const HISTORY_EXTENSIONS: [&str; 5] = ["edn", "json", "jsonl", "log", "txt"];

/// Expands the arguments into history files, in a stable order.
pub fn expand(args: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for arg in args {
        let meta =
            std::fs::metadata(arg).with_context(|| format!("{}: cannot read", arg.display()))?;
        if meta.is_dir() {
            let mut named = Vec::new();
            let mut other = Vec::new();
            walk(arg, &mut named, &mut other)
                .with_context(|| format!("{}: cannot search the directory", arg.display()))?;
            let mut found = if named.is_empty() { other } else { named };
            if found.is_empty() {
                bail!(
                    "{}: no history files found (looked for history.edn, history.txt, history.json, history.jsonl, then *.edn, *.json, *.jsonl, *.log, *.txt)",
                    arg.display()
                );
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(arg.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, named: &mut Vec<PathBuf>, other: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            walk(&path, named, other)?;
        } else if kind.is_file() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if HISTORY_NAMES.contains(&name.as_ref()) {
                named.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| HISTORY_EXTENSIONS.contains(&e))
            {
                other.push(path);
            }
        }
    }
    Ok(())
}
