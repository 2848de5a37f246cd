//! GitHub Actions: workflow-command annotations and a job summary.
//!
//! [`annotations`] draws each failing check as an `::error` command and
//! each undecided one as a `::warning`, pointing at the line of the history
//! file where the failing operation was invoked, so that the anomaly shows
//! beside that line in a pull request's diff. A file that could not be read
//! is an `::error` at the line and column of its input error. Checks that
//! passed, and checks not judged, draw nothing; a plain line per file
//! follows, for the log.
//!
//! Workflow commands are one line each: the message escapes `%`, `\r` and
//! `\n` (as `%25`, `%0D`, `%0A`), and a property's value also `:` and `,`
//! (`%3A`, `%2C`), as the Actions runner unescapes them.
//!
//! [`summary`] draws the run as a markdown table, for the job summary page
//! (`$GITHUB_STEP_SUMMARY`).

use super::{CheckSection, Evidence, FileOutcome, RunReport};
use crate::check::evidence::OpView;
use crate::check::{Consistency, Verdict};
use std::fmt::Write;

/// Renders `run` as GitHub Actions workflow commands, one per failing or
/// undecided check, then one plain line per file.
pub fn annotations(run: &RunReport) -> String {
    let mut out = String::new();
    for f in &run.files {
        match f {
            FileOutcome::Checked(f) => {
                for c in Consistency::ALL {
                    let Some(section) = f.checks.get(c.name()) else {
                        continue;
                    };
                    if !section.counts || section.valid == Verdict::Valid {
                        continue;
                    }
                    let command = match section.valid {
                        Verdict::Invalid => "error",
                        _ => "warning",
                    };
                    let title = match &section.anomaly {
                        Some(a) => format!(
                            "{} ({})",
                            title(c, section.valid),
                            a.kind.title().to_lowercase()
                        ),
                        None => title(c, section.valid).to_string(),
                    };
                    let line = failing_line(section);
                    let message = message(section);
                    annotate(&mut out, command, &f.path, line, 0, &title, &message);
                }
            }
            FileOutcome::Failed(f) => {
                let title = "history could not be checked";
                let line = f.error.line.unwrap_or(0);
                let column = f.error.column.unwrap_or(0);
                annotate(
                    &mut out,
                    "error",
                    &f.path,
                    line,
                    column,
                    title,
                    &f.error.message,
                );
            }
        }
    }
    for f in &run.files {
        let _ = writeln!(out, "{}: {}", f.path(), f.valid().word());
    }
    out
}

/// The annotation's title: what failed, or what was not decided.
fn title(c: Consistency, valid: Verdict) -> &'static str {
    match (c, valid) {
        (Consistency::Linearizable, Verdict::Invalid) => "not linearizable",
        (Consistency::Sequential, Verdict::Invalid) => "not sequentially consistent",
        (Consistency::Convergence, Verdict::Invalid) => "not convergent",
        (Consistency::Linearizable, _) => "linearizability not decided",
        (Consistency::Sequential, _) => "sequential consistency not decided",
        (Consistency::Convergence, _) => "convergence not decided",
    }
}

/// The annotation's message: the summary, then the evidence as the text
/// report draws it (minimal counterexample included).
fn message(c: &CheckSection) -> String {
    let evidence = super::text::evidence(c);
    if evidence.is_empty() {
        c.summary.clone()
    } else {
        format!("{}\n{evidence}", c.summary)
    }
}

fn annotate(
    out: &mut String,
    command: &str,
    path: &str,
    line: u32,
    column: u32,
    title: &str,
    message: &str,
) {
    let mut props = Vec::new();
    if path != super::STDIN_NAME {
        props.push(format!("file={}", escape_property(path)));
        if line > 0 {
            props.push(format!("line={line}"));
        }
        if column > 0 {
            props.push(format!("col={column}"));
        }
    }
    props.push(format!(
        "title={}",
        escape_property(&format!("labrys: {title}"))
    ));
    let _ = writeln!(
        out,
        "::{command} {}::{}",
        props.join(","),
        escape_data(message)
    );
}

/// Escapes a workflow command's message.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The line an annotation points at: where the failing operation was
/// invoked. For linearizability that is the first op no order gets past;
/// for sequential consistency the first process's blocked op, else the
/// counterexample's first; for convergence the first op the first anomaly
/// names. 0 when there is none, or the history was not read from a file.
pub fn failing_line(c: &CheckSection) -> u32 {
    let op: Option<&OpView> = match &c.evidence {
        Evidence::Linearizable(r) => r
            .partitions
            .iter()
            .filter(|p| p.valid == Verdict::Invalid)
            .find_map(|p| p.evidence.as_ref())
            .map(|e| &e.op),
        Evidence::Sequential(r) => r.counterexample.as_ref().and_then(|x| {
            x.blocked
                .first()
                .map(|b| &b.op)
                .or_else(|| x.minimal.as_ref().and_then(|m| m.first()))
        }),
        Evidence::Convergence(r) => {
            // Anomalies differ in shape; each names its ops as `OpView`s,
            // the first found stands for it.
            return r
                .anomalies
                .first()
                .and_then(|a| serde_json::to_value(a).ok())
                .and_then(|v| first_invoke_line(&v))
                .unwrap_or(0);
        }
        Evidence::Skipped { .. } => None,
    };
    op.map_or(0, |o| o.invoke_line)
}

/// The first nonzero `invoke_line` in `v`, depth first.
fn first_invoke_line(v: &serde_json::Value) -> Option<u32> {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(n) = m.get("invoke_line").and_then(|n| n.as_u64()) {
                return u32::try_from(n).ok().filter(|&n| n > 0);
            }
            m.values().find_map(first_invoke_line)
        }
        serde_json::Value::Array(a) => a.iter().find_map(first_invoke_line),
        _ => None,
    }
}

/// Renders `run` as a markdown table for the job summary page: one row per
/// file, one column per checker, then each failing check's summary.
pub fn summary(run: &RunReport) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = String::from("## labrys\n\n");
    out.push_str("| history | verdict | linearizable | sequential | convergence |\n");
    out.push_str("|---|---|---|---|---|\n");
    let mut notes = String::new();
    for f in &run.files {
        let mut row = format!("| `{}` | **{}** |", cell(f.path()), f.valid().word());
        match f {
            FileOutcome::Checked(f) => {
                for c in Consistency::ALL {
                    let word = match f.checks.get(c.name()) {
                        None => "-",
                        Some(s) if !s.counts => "not judged",
                        Some(s) => s.valid.word(),
                    };
                    row += &format!(" {word} |");
                    match f.checks.get(c.name()) {
                        Some(s) if s.counts && s.valid != Verdict::Valid => {
                            let _ = writeln!(
                                notes,
                                "- `{}` {}: {}",
                                f.path,
                                c.name(),
                                s.summary.replace('\n', " ")
                            );
                        }
                        _ => {}
                    }
                }
            }
            FileOutcome::Failed(e) => {
                row += " error | error | error |";
                let _ = writeln!(notes, "- `{}`: {}", e.path, e.error.message);
            }
        }
        out.push_str(&row);
        out.push('\n');
    }
    if !notes.is_empty() {
        out.push('\n');
        out.push_str(&notes);
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_runner_unescapes() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
