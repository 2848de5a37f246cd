//! Reports: what a run found, drawn as text for people or JSON for machines.
//!
//! Checkers return evidence; this module only draws it. Adding a format
//! never touches a checker. The JSON shape is a stable interface that CI
//! scripts parse:
//!
//! ```json
//! {"valid": false,
//!  "files": [{"path": "h.edn", "valid": false, "model": "cas-register",
//!             "operations": 12,
//!             "checks": {
//!               "linearizable": {"valid": false, "elapsed_ms": 0.2,
//!                                "summary": "...", "evidence": {...}},
//!               "sequential":   {"valid": true, ...},
//!               "convergence":  {"valid": "unknown", ...}}}]}
//! ```
//!
//! `valid` is `true`, `false` or `"unknown"` at every level.

pub mod json;
pub mod style;
pub mod text;

use crate::check::convergence::ConvergenceReport;
use crate::check::linearizable::LinearizableReport;
use crate::check::run::Results;
use crate::check::sequential::SequentialReport;
use crate::check::{Consistency, Verdict};
use crate::history::Process;
use crate::model::ModelKind;
use serde::Serialize;
use std::collections::BTreeMap;

/// The result of one checker on one file.
#[derive(Clone, Debug, Serialize)]
pub struct CheckSection {
    /// The checker's verdict.
    pub valid: Verdict,
    /// Wall-clock time the checker took, in milliseconds.
    pub elapsed_ms: f64,
    /// The outcome in one sentence.
    pub summary: String,
    /// The checker's evidence.
    pub evidence: Evidence,
}

/// A checker's evidence, by checker.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Evidence {
    /// Linearizability: per partition, the failing op, final paths and a
    /// minimal counterexample.
    Linearizable(Box<LinearizableReport>),
    /// Sequential consistency: how it was decided, and the counterexample.
    Sequential(Box<SequentialReport>),
    /// Convergence: final reads, anomalies, session guarantees.
    Convergence(Box<ConvergenceReport>),
    /// The checker does not apply to this model.
    Skipped {
        /// Why.
        skipped: String,
    },
}

impl CheckSection {
    /// The sections of every checker that ran, keyed by checker name.
    pub fn all(results: &Results, model: ModelKind) -> BTreeMap<&'static str, CheckSection> {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        let mut out = BTreeMap::new();
        if let Some(t) = &results.linearizable {
            out.insert(
                Consistency::Linearizable.name(),
                CheckSection {
                    valid: t.report.verdict,
                    elapsed_ms: ms(t.elapsed),
                    summary: text::linearizable_summary(&t.report),
                    evidence: Evidence::Linearizable(Box::new(t.report.clone())),
                },
            );
        }
        if let Some(t) = &results.sequential {
            out.insert(
                Consistency::Sequential.name(),
                CheckSection {
                    valid: t.report.valid,
                    elapsed_ms: ms(t.elapsed),
                    summary: t.report.summary.clone(),
                    evidence: Evidence::Sequential(Box::new(t.report.clone())),
                },
            );
        }
        if let Some(t) = &results.convergence {
            let applies = crate::check::run::convergence_applies(model);
            out.insert(
                Consistency::Convergence.name(),
                CheckSection {
                    valid: t.report.valid,
                    elapsed_ms: ms(t.elapsed),
                    summary: text::convergence_summary(&t.report),
                    evidence: if applies {
                        Evidence::Convergence(Box::new(t.report.clone()))
                    } else {
                        Evidence::Skipped {
                            skipped: format!(
                                "convergence is not judged for the {} model",
                                model.name()
                            ),
                        }
                    },
                },
            );
        }
        out
    }
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
    /// Events taken as fault events (not client operations).
    pub fault_events: usize,
    /// The processes whose events were taken as fault events, as written,
    /// in order of first appearance.
    pub fault_processes: Vec<Process>,
    /// The clock uncertainty every operation's interval was widened by,
    /// in the history's time unit (0: times taken as exact).
    pub clock_uncertainty: i64,
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
