//! Merging the reports of shards ([`crate::check::shard`]) into the
//! report of one run over the whole history.
//!
//! Each input is a run's JSON report, read back ([`RunReport`] derives
//! `Deserialize`). The runs must name the same files in the same order;
//! for each file, the reports of the shards `0/N` to `N-1/N` must all be
//! there (once each), and checkers not sharded (sequential consistency)
//! may come from one run over the whole history. The keys of every shard
//! are put back in the whole history's order, and every aggregate is
//! computed again by the functions that compute it in a run
//! ([`linearizable::verdict_of`], [`convergence::assemble`],
//! [`run::standing`], [`FileReport::new`], [`RunReport::new`]). So, in
//! report mode (`--report-all`, where every key is decided whatever the
//! others do), the merge is the report of the single run with the same
//! options, times aside: a checker's time is the longest of its shards'.
//! Every key keeps its own verdict, so a shard whose keys were left
//! unknown leaves them unknown, and the file is never valid then.

use super::{text, CheckSection, Evidence, FileFailure, FileOutcome, FileReport, RunReport};
use crate::check::anomaly::{self, NamedAnomaly};
use crate::check::convergence::{self, ConvergenceReport, KeyOutcome};
use crate::check::linearizable::{self, LinearizableReport};
use crate::check::run::{self, Standing};
use crate::check::shard::Shard;
use crate::check::{CheckOptions, Consistency, Verdict};
use crate::history::{excerpt, Error, Position};
use crate::model::ModelKind;
use std::collections::BTreeMap;

/// Why reports could not be merged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeError(pub String);

impl std::fmt::Display for MergeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MergeError {}

fn fail<T>(text: String) -> Result<T, MergeError> {
    Err(MergeError(text))
}

/// Reads a run's JSON report (`labrys check --format json`) back; the
/// error names the line and column, and quotes the line.
pub fn read(json: &str) -> Result<RunReport, Error> {
    serde_json::from_str(json).map_err(|e| {
        let text = json.lines().nth(e.line().saturating_sub(1)).unwrap_or("");
        let what = match e.classify() {
            serde_json::error::Category::Data => "not a labrys check report",
            _ => "not JSON",
        };
        let message = format!("{what} ({e}), at {:?}", excerpt(text.trim()));
        Error::at(Position::new(e.line() as u32, e.column() as u32), message)
    })
}

/// Merges runs over the same files: shards of them, and runs of other
/// checkers over the whole files.
pub fn merge(runs: &[RunReport]) -> Result<RunReport, MergeError> {
    let Some(first) = runs.first() else {
        return fail("no report to merge".into());
    };
    for (i, r) in runs.iter().enumerate() {
        if r.schema_version != super::SCHEMA_VERSION {
            return fail(format!(
                "report {} has schema_version {}, this labrys reads {}",
                i + 1,
                r.schema_version,
                super::SCHEMA_VERSION
            ));
        }
        let paths = |r: &RunReport| r.files.iter().map(|f| f.path().to_string()).collect();
        let (a, b): (Vec<String>, Vec<String>) = (paths(first), paths(r));
        if a != b {
            return fail(format!(
                "report {} checked the files {b:?}, report 1 the files {a:?}: merge reports of the same files",
                i + 1
            ));
        }
    }
    let files = (0..first.files.len())
        .map(|i| merge_file(runs.iter().map(|r| &r.files[i]).collect()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RunReport::new(files))
}

/// Merges the outcomes of one file. A file that some run could not read
/// is reported with that run's error.
fn merge_file(outcomes: Vec<&FileOutcome>) -> Result<FileOutcome, MergeError> {
    let mut reports = Vec::new();
    for o in outcomes {
        match o {
            FileOutcome::Failed(f) => return Ok(FileOutcome::Failed(FileFailure::clone(f))),
            FileOutcome::Checked(r) => reports.push(r),
        }
    }
    let first = reports[0];
    let path = &first.path;
    for r in &reports {
        let same = (&r.model, r.model_source, r.operations, r.fault_events)
            == (
                &first.model,
                first.model_source,
                first.operations,
                first.fault_events,
            )
            && r.clock_uncertainty == first.clock_uncertainty;
        if !same {
            return fail(format!(
                "{path}: the reports disagree on the model, the operations or the clock \
                 uncertainty: they are not of one history checked with the same options"
            ));
        }
    }
    let (shards, whole): (Vec<&FileReport>, Vec<&FileReport>) =
        reports.iter().partition(|r| r.shard.is_some());
    let shards = in_order(path, shards)?;
    let mut checks = BTreeMap::new();
    for c in Consistency::ALL {
        let from_shards: Vec<&CheckSection> = shards
            .iter()
            .filter_map(|r| r.checks.get(c.name()))
            .collect();
        let from_whole: Vec<&CheckSection> = whole
            .iter()
            .filter_map(|r| r.checks.get(c.name()))
            .collect();
        let section = match (from_shards.len(), from_whole.as_slice()) {
            (0, []) => continue,
            (0, [one]) => CheckSection::clone(one),
            (n, []) if n == shards.len() => merge_sections(path, c, &from_shards)?,
            (0, _) => {
                return fail(format!(
                    "{path}: {} was checked by more than one report",
                    c.name()
                ))
            }
            (_, []) => return fail(format!("{path}: {} is missing from some shards", c.name())),
            _ => {
                return fail(format!(
                    "{path}: {} was checked both by shards and over the whole history",
                    c.name()
                ))
            }
        };
        checks.insert(c.name(), section);
    }
    // The vacuous verdict of a file in which nothing was judged is the one
    // its runs gave: valid only under --allow-empty.
    let options = CheckOptions {
        allow_empty: reports
            .iter()
            .any(|r| r.checks.values().all(|s| !s.judged) && r.valid == Verdict::Valid),
        ..CheckOptions::default()
    };
    let model = first.model.as_deref().and_then(ModelKind::parse);
    let mut merged = FileReport::new(
        path.clone(),
        model,
        first.model_source,
        first.operations,
        checks,
        &options,
    );
    merged.fault_events = first.fault_events;
    merged.fault_processes = first.fault_processes.clone();
    merged.clock_uncertainty = first.clock_uncertainty;
    Ok(FileOutcome::Checked(merged))
}

/// The shards' reports in shard order, when they are exactly the shards
/// `0/N` to `N-1/N`.
fn in_order<'a>(
    path: &str,
    mut shards: Vec<&'a FileReport>,
) -> Result<Vec<&'a FileReport>, MergeError> {
    let shard = |r: &FileReport| r.shard.expect("a shard's report");
    shards.sort_by_key(|r| shard(r).index);
    let Some(count) = shards.first().map(|r| shard(r).count) else {
        return Ok(shards);
    };
    let found: Vec<String> = shards.iter().map(|r| shard(r).to_string()).collect();
    let expected: Vec<String> = (0..count)
        .map(|index| Shard { index, count }.to_string())
        .collect();
    if found != expected {
        return fail(format!(
            "{path}: expected the shards {}, found {}",
            expected.join(" "),
            found.join(" ")
        ));
    }
    Ok(shards)
}

/// Merges one checker's sections of every shard, in shard order.
fn merge_sections(
    path: &str,
    c: Consistency,
    sections: &[&CheckSection],
) -> Result<CheckSection, MergeError> {
    let elapsed_ms = sections.iter().map(|s| s.elapsed_ms).fold(0.0, f64::max);
    // A checker that had nothing to judge in the whole history (or could
    // not run) says so alike in every shard.
    let judged: Vec<&&CheckSection> = sections.iter().filter(|s| s.judged).collect();
    let Some(model_section) = judged.first() else {
        return Ok(CheckSection {
            elapsed_ms,
            ..CheckSection::clone(sections[0])
        });
    };
    let mismatch = || {
        MergeError(format!(
            "{path}: the shards' {} sections differ in kind",
            c.name()
        ))
    };
    let (verdict, empty, summary, anomaly, evidence) = match c {
        Consistency::Linearizable => {
            let reports = sections
                .iter()
                .map(|s| match &s.evidence {
                    Evidence::Linearizable(r) => Ok(r.as_ref()),
                    _ => Err(mismatch()),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let r = merge_linearizable(path, &reports)?;
            let summary = text::linearizable_summary(&r);
            let anomaly = linearizable_anomaly(&r, sections);
            (
                r.valid,
                r.nothing_to_judge.clone(),
                summary,
                anomaly,
                Evidence::Linearizable(Box::new(r)),
            )
        }
        Consistency::Convergence => {
            let reports = sections
                .iter()
                .map(|s| match &s.evidence {
                    Evidence::Convergence(r) => Ok(r.as_ref()),
                    _ => Err(mismatch()),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let r = merge_convergence(path, &reports)?;
            let summary = text::convergence_summary(&r);
            let empty = run::convergence_nothing_to_judge(&r);
            let anomaly = anomaly::convergence(&r);
            (
                r.valid,
                empty,
                summary,
                anomaly,
                Evidence::Convergence(Box::new(r)),
            )
        }
        Consistency::Sequential => {
            return fail(format!("{path}: sequential consistency is never sharded"))
        }
    };
    // Whether the user named the checker shows where a shard had nothing
    // to judge: a checker not judged counts only when named.
    let named = sections
        .iter()
        .find(|s| !s.judged)
        .map_or(model_section.counts, |s| s.counts);
    let options = CheckOptions {
        allow_empty: sections
            .iter()
            .any(|s| !s.judged && s.counts && s.valid == Verdict::Valid),
        ..CheckOptions::default()
    };
    let standing: Standing = run::standing(verdict, &empty, named, &options);
    Ok(CheckSection {
        anomaly,
        ..CheckSection::new(standing, elapsed_ms, summary, evidence)
    })
}

/// The anomaly of the merged linearizability report `r`, from the
/// shards' `sections` (in shard order): a run names the anomaly of its
/// first partition in key order that has evidence, so the merge takes the
/// anomaly of the shard holding that partition (shard `I` of `N` holds
/// the places `I`, `I + N`, ..., so it is that shard's first too). When
/// no partition has evidence, every invalid shard named the same
/// anomaly without one.
fn linearizable_anomaly(
    r: &LinearizableReport,
    sections: &[&CheckSection],
) -> Option<NamedAnomaly> {
    if r.valid != Verdict::Invalid {
        return None;
    }
    match r.partitions.iter().position(|p| p.evidence.is_some()) {
        Some(place) => sections[place % sections.len()].anomaly.clone(),
        None => sections.iter().find_map(|s| s.anomaly.clone()),
    }
}

/// The linearizability report of the whole history from its shards':
/// their partitions back in key order (shard `I` of `N` holds the places
/// `I`, `I + N`, ...).
fn merge_linearizable(
    path: &str,
    reports: &[&LinearizableReport],
) -> Result<LinearizableReport, MergeError> {
    let n = reports.len();
    let total: usize = reports.iter().map(|r| r.partitions.len()).sum();
    let mut partitions = Vec::with_capacity(total);
    for k in 0..total {
        match reports[k % n].partitions.get(k / n) {
            Some(p) => partitions.push(p.clone()),
            None => {
                return fail(format!(
                    "{path}: shard {k}/{n} lacks the key at place {k}: the shards are not of one history",
                    k = k % n
                ))
            }
        }
    }
    let first = reports[0];
    Ok(LinearizableReport {
        valid: linearizable::verdict_of(&partitions),
        model: first.model.clone(),
        partitioned: first.partitioned,
        operations: first.operations,
        partitions,
        nothing_to_judge: None,
        undecided: reports.iter().find_map(|r| r.undecided.clone()),
    })
}

/// The convergence report of the whole history from its shards': their
/// keys back in order of first appearance, added up again.
fn merge_convergence(
    path: &str,
    reports: &[&ConvergenceReport],
) -> Result<ConvergenceReport, MergeError> {
    let mut keys: Vec<(usize, KeyOutcome)> = Vec::new();
    for r in reports {
        for key in &r.keys {
            let mut key = key.clone();
            let Some(part) = key.part.take() else {
                return fail(format!(
                    "{path}: a convergence report without its shard's key parts"
                ));
            };
            keys.push((part.place, (key, part.anomalies, part.sessions)));
        }
    }
    keys.sort_by_key(|(place, _)| *place);
    if keys.windows(2).any(|w| w[0].0 == w[1].0) {
        return fail(format!("{path}: two shards checked the same key"));
    }
    let first = reports[0];
    let header = ConvergenceReport {
        valid: Verdict::Valid,
        model: first.model.clone(),
        reasons: Vec::new(),
        final_reads: first.final_reads.clone(),
        keys: Vec::new(),
        anomalies: Vec::new(),
        sessions: convergence::session::SessionReport::new(first.sessions.mode),
        stats: convergence::Stats {
            operations: first.stats.operations,
            ..Default::default()
        },
    };
    let empty = first.stats.operations == 0;
    Ok(convergence::assemble(
        header,
        keys.into_iter().map(|(_, k)| k).collect(),
        empty,
    ))
}
