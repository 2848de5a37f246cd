//! Text rendering: reports a person reads in a terminal.

use super::style::Style;
use super::{CheckSection, Detail, FileReport, RunReport};
use crate::history::stats::Stats;
use std::fmt::Write;

/// Renders one file's statistics.
pub fn stats(path: &str, s: &Stats, style: &Style) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", style.bold(path));
    let _ = writeln!(
        out,
        "  events      {} ({} invocations: {} ok, {} fail, {} info)",
        s.events, s.client.invoke, s.client.ok, s.client.fail, s.client.info
    );
    let _ = writeln!(
        out,
        "  operations  {} ({} crashed with info, {} never completed)",
        s.operations, s.crashed, s.pending
    );
    let _ = writeln!(out, "  processes   {}", s.processes);
    if s.keys > 0 {
        let _ = writeln!(out, "  keys        {}", s.keys);
    }
    if !s.by_f.is_empty() {
        let _ = writeln!(out, "  by f        invoke      ok    fail    info");
        for (f, c) in &s.by_f {
            let _ = writeln!(
                out,
                "    {:<10}{:>6}  {:>6}  {:>6}  {:>6}",
                f, c.invoke, c.ok, c.fail, c.info
            );
        }
    }
    if s.nemesis_events > 0 {
        let by: Vec<String> = s
            .nemesis_by_f
            .iter()
            .map(|(f, n)| format!("{f} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "  nemesis     {} events ({})",
            s.nemesis_events,
            by.join(", ")
        );
    }
    if let Some(t) = &s.time {
        let _ = writeln!(
            out,
            "  time        {:.3} s ({} to {} ns)",
            t.span_ns as f64 / 1e9,
            t.first_ns,
            t.last_ns
        );
    }
    out
}

/// Renders a whole run: one block per file, then a summary table when
/// several files were checked.
pub fn run(report: &RunReport, style: &Style) -> String {
    let mut out = String::new();
    for f in &report.files {
        out.push_str(&file(f, style));
        out.push('\n');
    }
    if report.files.len() > 1 {
        out.push_str(&summary(report, style));
    }
    out
}

/// Renders one file's checks.
pub fn file(f: &FileReport, style: &Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  {}  ({} model, {} operations)",
        style.bold(&f.path),
        style.verdict(f.valid),
        f.model,
        f.operations
    );
    for (name, section) in &f.checks {
        out.push_str(&check(name, section, style));
    }
    out
}

fn check(name: &str, c: &CheckSection, style: &Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {:<13} {}  {}",
        name,
        style.verdict(c.valid),
        style.dim(&format!("{:.1} ms", c.elapsed_ms))
    );
    match &c.detail {
        Detail::Skipped { skipped } => {
            let _ = writeln!(out, "    {}", style.dim(skipped));
        }
    }
    out
}

/// A table of every file's verdicts, one row per file.
pub fn summary(report: &RunReport, style: &Style) -> String {
    let mut out = String::new();
    let width = report
        .files
        .iter()
        .map(|f| f.path.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        out,
        "{:<width$}  {:<9} {:<13} {:<13} {:<13}",
        "file", "verdict", "linearizable", "sequential", "convergence"
    );
    for f in &report.files {
        let cell = |name: &str| {
            f.checks
                .get(name)
                .map_or("-".to_string(), |c| c.valid.word().to_string())
        };
        let _ = writeln!(
            out,
            "{:<width$}  {:<9} {:<13} {:<13} {:<13}",
            f.path,
            f.valid.word(),
            cell("linearizable"),
            cell("sequential"),
            cell("convergence")
        );
    }
    let _ = writeln!(
        out,
        "{} files: {}",
        report.files.len(),
        style.verdict(report.valid)
    );
    out
}
