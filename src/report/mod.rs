//! Reports: what a run found, drawn as text for people or JSON for machines.
//!
//! Checkers return evidence; this module only draws it. Adding a format
//! never touches a checker. The JSON shape is a stable interface that CI
//! scripts parse:
//!
//! ```json
//! {"valid": false,
//!  "files": [{"path": "h.edn", "valid": false, "model": "cas-register",
//!             "model_source": "inferred", "operations": 12,
//!             "checks": {
//!               "linearizable": {"valid": false, "judged": true, "counts": true,
//!                                "elapsed_ms": 0.2, "summary": "...",
//!                                "evidence": {...}},
//!               "sequential":   {"valid": true, ...},
//!               "convergence":  {"valid": "unknown", "judged": false,
//!                                "counts": false, ...}}},
//!            {"path": "bad.edn", "valid": "unknown",
//!             "error": {"message": "...", "line": 3, "column": 14}}]}
//! ```
//!
//! `valid` is `true`, `false` or `"unknown"` at every level. A section's
//! `judged` says whether the checker had anything to judge, and `counts`
//! whether its verdict is part of the file's (see
//! [the verdict contract](crate::check::run#the-verdict-contract)). Every
//! file named appears, in order: one that could not be checked carries an
//! `error` instead of checks, and the run's `valid` is then never `true`.

mod file;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod merge;
pub mod style;
pub mod text;
pub mod timeline;

pub use file::{check_history, check_history_drawn, check_widened};

use crate::check::anomaly::NamedAnomaly;
use crate::check::convergence::ConvergenceReport;
use crate::check::evidence::OpView;
use crate::check::linearizable::LinearizableReport;
use crate::check::run::{self, Plan, Results, Standing};
use crate::check::sequential::SequentialReport;
use crate::check::shard::Shard;
use crate::check::{CheckOptions, Consistency, Verdict};
use crate::history::{Error, History, Process};
use crate::model::ModelKind;
use serde::Serialize;
use std::collections::BTreeMap;

/// The result of one checker on one file.
#[derive(Clone, Debug, Serialize)]
pub struct CheckSection {
    /// The checker's verdict.
    pub valid: Verdict,
    /// Whether the checker had anything to judge.
    pub judged: bool,
    /// Whether its verdict is part of the file's verdict: false when it is
    /// *not judged* (nothing to judge, and not named by the user).
    pub counts: bool,
    /// Wall-clock time the checker took, in milliseconds.
    pub elapsed_ms: f64,
    /// The outcome in one sentence.
    pub summary: String,
    /// The known pattern the evidence shows, when the check failed (see
    /// [`anomaly`](crate::check::anomaly)); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anomaly: Option<NamedAnomaly>,
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
    pub fn all(results: &Results, plan: &Plan) -> BTreeMap<&'static str, CheckSection> {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        let model = plan.model;
        let mut out = BTreeMap::new();
        for (c, standing) in results.standings(plan) {
            let (elapsed, summary, evidence, anomaly) = match c {
                Consistency::Linearizable => {
                    let t = results.linearizable.as_ref().expect("ran");
                    let summary = text::linearizable_summary(&t.report);
                    (
                        t.elapsed,
                        summary,
                        Evidence::Linearizable(Box::new(t.report.clone())),
                        t.anomaly.clone(),
                    )
                }
                Consistency::Sequential => {
                    let t = results.sequential.as_ref().expect("ran");
                    let summary = t.report.summary.clone();
                    (
                        t.elapsed,
                        summary,
                        Evidence::Sequential(Box::new(t.report.clone())),
                        t.anomaly.clone(),
                    )
                }
                Consistency::Convergence => {
                    let t = results.convergence.as_ref().expect("ran");
                    let evidence = if run::convergence_applies(model) {
                        Evidence::Convergence(Box::new(t.report.clone()))
                    } else {
                        Evidence::Skipped {
                            skipped: format!(
                                "convergence is not judged for the {} model",
                                model.name()
                            ),
                        }
                    };
                    let summary = text::convergence_summary(&t.report);
                    (t.elapsed, summary, evidence, t.anomaly.clone())
                }
            };
            let mut section = CheckSection::new(standing, ms(elapsed), summary, evidence);
            if section.valid == Verdict::Invalid {
                section.anomaly = anomaly;
            }
            out.insert(c.name(), section);
        }
        out
    }

    /// The sections of `plan`'s checkers when none could run: the history
    /// has no client operations and no model was given or inferred.
    pub fn none_ran(plan: &Plan, reason: &str) -> BTreeMap<&'static str, CheckSection> {
        plan.checks()
            .into_iter()
            .map(|c| {
                let standing = plan.standing(c, Verdict::Unknown, &Some(reason.to_string()));
                let evidence = Evidence::Skipped {
                    skipped: reason.to_string(),
                };
                (
                    c.name(),
                    CheckSection::new(standing, 0.0, String::new(), evidence),
                )
            })
            .collect()
    }

    /// The sections of `plan`'s checkers that had not finished when time
    /// ran out (or the run was interrupted) after running for `elapsed`:
    /// each unknown, and part of the file's verdict.
    pub fn unfinished(
        plan: &Plan,
        why: &str,
        elapsed: std::time::Duration,
    ) -> BTreeMap<&'static str, CheckSection> {
        plan.checks()
            .into_iter()
            .map(|c| {
                let standing = Standing {
                    verdict: Verdict::Unknown,
                    judged: true,
                    counts: true,
                    reason: None,
                };
                let evidence = Evidence::Skipped {
                    skipped: why.to_string(),
                };
                (
                    c.name(),
                    CheckSection::new(
                        standing,
                        elapsed.as_secs_f64() * 1e3,
                        why.to_string(),
                        evidence,
                    ),
                )
            })
            .collect()
    }

    /// A section from a checker's standing; when it had nothing to judge,
    /// the summary says so and why.
    fn new(standing: Standing, elapsed_ms: f64, summary: String, evidence: Evidence) -> Self {
        let summary = match (&standing.reason, standing.counts, standing.verdict) {
            (None, ..) => summary,
            (Some(why), false, _) => format!("not judged: {why}"),
            (Some(why), true, Verdict::Valid) => {
                format!("nothing to judge: {why}; valid as asked (--allow-empty)")
            }
            (Some(why), true, _) => format!("nothing to judge: {why}"),
        };
        CheckSection {
            valid: standing.verdict,
            judged: standing.judged,
            counts: standing.counts,
            elapsed_ms,
            summary,
            anomaly: None,
            evidence,
        }
    }

    /// This section's standing, back from its fields.
    fn standing(&self) -> Standing {
        Standing {
            verdict: self.valid,
            judged: self.judged,
            counts: self.counts,
            reason: None,
        }
    }
}

/// Reads a file's sections back from its JSON: the section's name says
/// which checker's evidence it holds.
fn sections_from_json<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<&'static str, CheckSection>, D::Error> {
    use serde::de::Error as _;
    use serde::Deserialize as _;
    let raw = BTreeMap::<String, serde_json::Value>::deserialize(d)?;
    raw.into_iter()
        .map(|(name, json)| {
            let c = Consistency::ALL
                .into_iter()
                .find(|c| c.name() == name)
                .ok_or_else(|| D::Error::custom(format!("unknown check {name:?}")))?;
            let section = CheckSection::from_json(c, json)
                .map_err(|e| D::Error::custom(format!("checks.{name}: {e}")))?;
            Ok((c.name(), section))
        })
        .collect()
}

impl CheckSection {
    /// Reads back the section of checker `c` from its JSON.
    fn from_json(c: Consistency, mut json: serde_json::Value) -> serde_json::Result<CheckSection> {
        #[derive(serde::Deserialize)]
        struct Fields {
            valid: Verdict,
            judged: bool,
            counts: bool,
            elapsed_ms: f64,
            summary: String,
            #[serde(default)]
            anomaly: Option<NamedAnomaly>,
        }
        let evidence = json
            .get_mut("evidence")
            .map(serde_json::Value::take)
            .unwrap_or_default();
        let f: Fields = serde_json::from_value(json)?;
        let evidence = if let Some(why) = evidence.get("skipped").and_then(|s| s.as_str()) {
            Evidence::Skipped {
                skipped: why.to_string(),
            }
        } else {
            match c {
                Consistency::Linearizable => {
                    Evidence::Linearizable(Box::new(serde_json::from_value(evidence)?))
                }
                Consistency::Sequential => {
                    Evidence::Sequential(Box::new(serde_json::from_value(evidence)?))
                }
                Consistency::Convergence => {
                    Evidence::Convergence(Box::new(serde_json::from_value(evidence)?))
                }
            }
        };
        Ok(CheckSection {
            valid: f.valid,
            judged: f.judged,
            counts: f.counts,
            elapsed_ms: f.elapsed_ms,
            summary: f.summary,
            anomaly: f.anomaly,
            evidence,
        })
    }
}

/// Where the model came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelSource {
    /// Given with `--model`.
    Given,
    /// Inferred from the ops' `f` names (and the shapes of reads).
    Inferred,
    /// None: the history has no client operations, and none was given.
    None,
}

impl ModelSource {
    /// The word used in reports.
    pub fn word(self) -> &'static str {
        match self {
            ModelSource::Given => "given",
            ModelSource::Inferred => "inferred",
            ModelSource::None => "none",
        }
    }
}

/// Everything found in one file.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct FileReport {
    /// The file, as given (or as found under a directory argument).
    pub path: String,
    /// The combined verdict of this file's checks (see
    /// [`run::file_verdict`]).
    pub valid: Verdict,
    /// The model checked against; `None` when there was none to use (no
    /// client operations, and no `--model`).
    pub model: Option<String>,
    /// Whether the model was given or inferred.
    pub model_source: ModelSource,
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
    #[serde(deserialize_with = "sections_from_json")]
    pub checks: BTreeMap<&'static str, CheckSection>,
    /// The shard of the keys checked, when only a shard was
    /// ([`crate::check::shard`]); absent when every key was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// Every operation, in the history's own words, when there are at
    /// most [`TIMELINE_OPS`] (the text report draws them); empty
    /// otherwise. Not part of the JSON report.
    #[serde(skip)]
    pub timeline: Vec<OpView>,
}

/// Histories of at most this many operations are drawn whole in the text
/// report.
pub const TIMELINE_OPS: usize = 40;

impl FileReport {
    /// The report of a file whose checks ran, with its sections.
    pub fn new(
        path: String,
        model: Option<ModelKind>,
        model_source: ModelSource,
        operations: usize,
        checks: BTreeMap<&'static str, CheckSection>,
        options: &CheckOptions,
    ) -> FileReport {
        let standings: Vec<Standing> = checks.values().map(CheckSection::standing).collect();
        FileReport {
            path,
            valid: run::file_verdict(&standings, options),
            model: model.map(|m| m.name().to_string()),
            model_source,
            operations,
            fault_events: 0,
            fault_processes: Vec::new(),
            clock_uncertainty: 0,
            shard: options.shard,
            checks,
            timeline: Vec::new(),
        }
    }

    /// Adds the history's operations for the timeline, when it has at
    /// most [`TIMELINE_OPS`].
    pub fn with_timeline(mut self, history: &History) -> FileReport {
        let n = history.operations.len();
        if n <= TIMELINE_OPS {
            self.timeline = (0..n).map(|id| OpView::plain(history, id)).collect();
        }
        self
    }

    /// Adds what the history says of its fault events, and the clock
    /// uncertainty its intervals were widened by.
    pub fn with_faults(mut self, history: &History, clock_uncertainty: i64) -> FileReport {
        self.fault_events = history.nemesis.len();
        self.fault_processes = history.fault_processes.clone();
        self.clock_uncertainty = clock_uncertainty;
        self
    }
}

/// A file that could not be checked: its input error.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct FileFailure {
    /// The file, as given (or as found under a directory argument).
    pub path: String,
    /// Always unknown: nothing was checked.
    pub valid: Verdict,
    /// What was wrong, and where.
    pub error: InputError,
}

/// An input error, for the report.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct InputError {
    /// What was wrong, and what was expected.
    pub message: String,
    /// The 1-based line, when known.
    pub line: Option<u32>,
    /// The 1-based column, when known.
    pub column: Option<u32>,
}

impl FileFailure {
    /// The failure of the file at `path` with error `e`.
    pub fn new(path: String, e: &Error) -> FileFailure {
        let known = |n: u32| (n > 0).then_some(n);
        FileFailure {
            path,
            valid: Verdict::Unknown,
            error: InputError {
                message: e.message.clone(),
                line: known(e.position.line),
                column: known(e.position.column),
            },
        }
    }
}

/// One file's outcome: checked, or not readable as a history.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum FileOutcome {
    /// The file was checked.
    Checked(FileReport),
    /// The file could not be checked.
    Failed(FileFailure),
}

impl FileOutcome {
    /// The file's verdict; unknown for a file that could not be checked.
    pub fn valid(&self) -> Verdict {
        match self {
            FileOutcome::Checked(f) => f.valid,
            FileOutcome::Failed(f) => f.valid,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &str {
        match self {
            FileOutcome::Checked(f) => &f.path,
            FileOutcome::Failed(f) => &f.path,
        }
    }
}

/// The version of the JSON report's shape, `schema_version` in it
/// (`docs/report.schema.json`). Fields may be added without changing it;
/// removing a field, or changing its meaning or type, increments it.
pub const SCHEMA_VERSION: u32 = 1;

/// How reports name a history read from standard input.
pub const STDIN_NAME: &str = "<stdin>";

/// Everything found in one run.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct RunReport {
    /// The shape's version: [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The combined verdict of every file.
    pub valid: Verdict,
    /// One outcome per file, in the order the files were named.
    pub files: Vec<FileOutcome>,
}

impl RunReport {
    /// Combines file outcomes: invalid beats unknown beats valid, and a
    /// file that could not be checked is unknown, so the run is never
    /// valid then.
    pub fn new(files: Vec<FileOutcome>) -> RunReport {
        let valid = files
            .iter()
            .fold(Verdict::Valid, |acc, f| acc.and(f.valid()));
        RunReport {
            schema_version: SCHEMA_VERSION,
            valid,
            files,
        }
    }

    /// How many files could not be checked.
    pub fn failed(&self) -> usize {
        self.files
            .iter()
            .filter(|f| matches!(f, FileOutcome::Failed(_)))
            .count()
    }
}
