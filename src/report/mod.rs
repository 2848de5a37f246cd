//! Reports: what a run found, drawn as text for people or JSON for machines.
//!
//! Checkers return evidence; this module only draws it. Adding a format
//! never touches a checker. The JSON shape is a stable interface that CI
//! scripts parse:
//!
//! ```json
//! {"valid": false,
//!  "files": [{"path": "h.edn", "valid": false, "model": "cas-register",
//!             "checks": {"linearizable": {"valid": false, ...},
//!                        "sequential":   {"valid": true, ...},
//!                        "convergence":  {"valid": "unknown", ...}}}]}
//! ```
//!
//! `valid` is `true`, `false` or `"unknown"` at every level.

pub mod json;
pub mod style;
pub mod text;

use crate::check::Verdict;
use serde::Serialize;
use std::collections::BTreeMap;

/// The result of one checker on one file.
#[derive(Clone, Debug, Serialize)]
pub struct CheckSection {
    /// The checker's verdict.
    pub valid: Verdict,
    /// Wall-clock time the checker took, in milliseconds.
    pub elapsed_ms: f64,
    /// The checker's evidence.
    #[serde(flatten)]
    pub detail: Detail,
}

/// A checker's evidence, by checker.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Detail {
    /// The checker does not apply to this model, or was not run.
    Skipped {
        /// Why.
        skipped: String,
    },
}

/// Everything found in one file.
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    /// The file, as given (or as found under a directory argument).
    pub path: String,
    /// The combined verdict of this file's checks.
    pub valid: Verdict,
    /// The model checked against.
    pub model: String,
    /// Client operations in the history.
    pub operations: usize,
    /// One section per checker that ran, keyed `linearizable`,
    /// `sequential`, `convergence`.
    pub checks: BTreeMap<&'static str, CheckSection>,
}

/// Everything found in one run.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// The combined verdict of every file.
    pub valid: Verdict,
    /// One report per file, in the order the files were named.
    pub files: Vec<FileReport>,
}

impl RunReport {
    /// Combines file reports: invalid beats unknown beats valid.
    pub fn new(files: Vec<FileReport>) -> RunReport {
        let valid = files.iter().fold(Verdict::Valid, |acc, f| acc.and(f.valid));
        RunReport { valid, files }
    }
}
