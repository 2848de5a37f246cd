//! JUnit XML: the report as the test results CI servers (Jenkins, GitLab,
//! GitHub's test reporters) collect and draw.
//!
//! The mapping:
//!
//! - the run is a `<testsuites>` named `labrys`;
//! - each history is a `<testsuite>` named by its path, in the report's
//!   order;
//! - each checker is a `<testcase>` named by the checker (`linearizable`,
//!   `sequential`, `convergence`), its `classname` the history's path; in
//!   report mode (`--report-all`) a keyed history has one test case per key
//!   for the checkers that decide keys on their own (linearizability, by
//!   P-compositionality, and convergence), named `linearizable key K`;
//!   sequential consistency is not local, so it stays one test case;
//! - an invalid check is a `<failure>` whose message is the checker's
//!   summary and whose text is its evidence as the text report draws it,
//!   minimal counterexample included;
//! - an unknown check, or one not judged, is `<skipped>` with the reason as
//!   its message: it did not pass;
//! - a history that could not be read or checked is a test case `load`
//!   with an `<error>`: its message, line and column.
//!
//! Times are the checkers' own; nothing else (no timestamp, no host name)
//! depends on the run, so the same history gives the same file.

use super::style::Style;
use super::text;
use super::{CheckSection, Evidence, FileFailure, FileOutcome, FileReport, RunReport};
use crate::check::{Consistency, Verdict};
use crate::history::Value;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;

/// Renders `run` as a JUnit XML document; `per_key` gives a keyed
/// history's linearizability and convergence one test case per key.
pub fn render(run: &RunReport, per_key: bool) -> String {
    let mut report = Report::new("labrys");
    for f in &run.files {
        report.add_test_suite(match f {
            FileOutcome::Checked(f) => suite(f, per_key),
            FileOutcome::Failed(f) => failed_suite(f),
        });
    }
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- cannot render the JUnit report: {e} -->\n"))
}

fn suite(f: &FileReport, per_key: bool) -> TestSuite {
    let mut suite = TestSuite::new(f.path.as_str());
    for c in Consistency::ALL {
        let Some(section) = f.checks.get(c.name()) else {
            continue;
        };
        let keys = if per_key && section.counts {
            key_cases(c.name(), section)
        } else {
            Vec::new()
        };
        let cases = if keys.is_empty() {
            vec![case(c.name(), status(section), section.elapsed_ms)]
        } else {
            keys
        };
        for mut case in cases {
            case.set_classname(f.path.as_str());
            suite.add_test_case(case);
        }
    }
    suite
}

fn failed_suite(f: &FileFailure) -> TestSuite {
    let mut suite = TestSuite::new(f.path.as_str());
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    let place = match (f.error.line, f.error.column) {
        (Some(l), Some(c)) => format!("{}:{l}:{c}: ", f.path),
        (Some(l), None) => format!("{}:{l}: ", f.path),
        _ => format!("{}: ", f.path),
    };
    status
        .set_type("input error")
        .set_message(format!("{place}{}", f.error.message));
    let mut case = TestCase::new("load", status);
    case.set_classname(f.path.as_str());
    suite.add_test_case(case);
    suite
}

/// A test case named `name` with `status`, taking `elapsed_ms`.
fn case(name: &str, status: TestCaseStatus, elapsed_ms: f64) -> TestCase {
    let mut case = TestCase::new(name, status);
    case.set_time(Duration::from_secs_f64(elapsed_ms.max(0.0) / 1e3));
    case
}

/// A section's status: passed, failed with its evidence, or skipped with
/// why it was not decided.
fn status(c: &CheckSection) -> TestCaseStatus {
    verdict_status(c.valid, c.counts, &c.summary, || text::evidence(c))
}

fn verdict_status(
    valid: Verdict,
    counts: bool,
    summary: &str,
    evidence: impl FnOnce() -> String,
) -> TestCaseStatus {
    if !counts {
        let mut s = TestCaseStatus::skipped();
        s.set_message(summary);
        return s;
    }
    match valid {
        Verdict::Valid => TestCaseStatus::success(),
        Verdict::Invalid => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_type("anomaly").set_message(summary);
            let text = evidence();
            if !text.trim().is_empty() {
                s.set_description(text);
            }
            s
        }
        Verdict::Unknown => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(summary);
            s
        }
    }
}

/// One test case per key, for a checker that decides keys on their own;
/// none when the history was not split by key.
fn key_cases(name: &str, c: &CheckSection) -> Vec<TestCase> {
    let label = |key: &Option<Value>| match key {
        Some(k) => format!("{name} key {k}"),
        None => name.to_string(),
    };
    match &c.evidence {
        Evidence::Linearizable(r) if r.partitioned => r
            .partitions
            .iter()
            .map(|p| {
                let summary = match p.valid {
                    Verdict::Valid => "linearizable".to_string(),
                    Verdict::Invalid => format!("{} is not linearizable", label(&p.key)),
                    Verdict::Unknown => "not decided".to_string(),
                };
                let evidence = || {
                    let mut out = String::new();
                    if let Some(e) = &p.evidence {
                        text::partition(&mut out, p, e, &Style::default());
                    }
                    let lines: Vec<&str> = out
                        .lines()
                        .map(|l| l.strip_prefix("    ").unwrap_or(l))
                        .collect();
                    lines.join("\n")
                };
                let status = verdict_status(p.valid, true, &summary, evidence);
                case(&label(&p.key), status, 0.0)
            })
            .collect(),
        Evidence::Convergence(r) if r.keys.iter().any(|k| k.key.is_some()) => r
            .keys
            .iter()
            .map(|k| {
                let summary = if k.reasons.is_empty() {
                    format!("{} {}", label(&k.key), k.valid.word())
                } else {
                    k.reasons.join("; ")
                };
                let status = verdict_status(k.valid, true, &summary, String::new);
                case(&label(&k.key), status, 0.0)
            })
            .collect(),
        _ => Vec::new(),
    }
}
