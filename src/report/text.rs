//! Text rendering: reports a person reads in a terminal.

use super::style::Style;
use super::timeline;
use super::{CheckSection, Evidence, FileFailure, FileOutcome, FileReport, RunReport};
use crate::check::convergence::session::SessionReport;
use crate::check::convergence::{Anomaly, ConvergenceReport, ReadView};
use crate::check::evidence::OpView;
use crate::check::linearizable::{LinearizableReport, PartitionReport, StuckIn};
use crate::check::sequential::SequentialReport;
use crate::check::Verdict;
use crate::history::stats::Stats;
use crate::history::{Process, Value};
use std::collections::BTreeSet;
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
    if s.fault_events > 0 {
        let by: Vec<String> = s
            .fault_by_f
            .iter()
            .map(|(f, n)| format!("{f} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "  faults      {} ({})",
            faults(s.fault_events, &s.fault_processes),
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

/// `4 fault events from :nemesis`: how many events were taken as fault
/// events, and whose.
fn faults(events: usize, processes: &[Process]) -> String {
    let from: Vec<String> = processes.iter().map(Process::to_string).collect();
    let s = if events == 1 { "" } else { "s" };
    format!("{events} fault event{s} from {}", from.join(", "))
}

/// Renders a whole run: one block per file, then a summary table when
/// several files were checked.
pub fn run(report: &RunReport, style: &Style) -> String {
    let mut out = String::new();
    for f in &report.files {
        match f {
            FileOutcome::Checked(f) => out.push_str(&file(f, style)),
            FileOutcome::Failed(f) => out.push_str(&failure(f, style)),
        }
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
    let model = match &f.model {
        Some(m) => format!("{m} model, {}", f.model_source.word()),
        None => "no model".to_string(),
    };
    let mut about = format!("{model}; {} operations", f.operations);
    if f.fault_events > 0 {
        about += &format!(", {}", faults(f.fault_events, &f.fault_processes));
    }
    if f.clock_uncertainty > 0 {
        let u = duration(
            f.clock_uncertainty,
            crate::check::convergence::TimeUnit::Nanoseconds,
        );
        about += &format!(", clock uncertainty {u}");
    }
    let _ = writeln!(
        out,
        "{}  {}  ({about})",
        style.bold(&f.path),
        style.verdict(f.valid),
    );
    if !f.checks.values().any(|c| c.judged) {
        let _ = writeln!(
            out,
            "  nothing was judged: {}",
            if f.valid == Verdict::Valid {
                "valid as asked (--allow-empty)"
            } else {
                "a run that recorded nothing to judge is not passed (--allow-empty passes it)"
            }
        );
    }
    if !f.timeline.is_empty() && !f.checks.values().any(|c| c.anomaly.is_some()) {
        let _ = writeln!(out, "  Timeline ({} ops):", f.timeline.len());
        draw(&mut out, &f.timeline, &BTreeSet::new(), style);
    }
    for c in crate::check::Consistency::ALL {
        if let Some(section) = f.checks.get(c.name()) {
            out.push_str(&check(c.name(), section, &f.timeline, style));
        }
    }
    out
}

/// Draws a timeline of `ops`, indented under a check, marking `marked`.
fn draw(out: &mut String, ops: &[OpView], marked: &BTreeSet<usize>, style: &Style) {
    const INDENT: &str = "      ";
    let width = style.width.saturating_sub(INDENT.len());
    for line in timeline::draw(ops, marked, width, style) {
        let _ = writeln!(out, "{INDENT}{line}");
    }
}

/// The ops a failing check's timeline shows, and what it calls them: its
/// minimal counterexample, else the whole history when it is small.
fn drawn<'a>(c: &'a CheckSection, whole: &'a [OpView]) -> Option<(&'static str, &'a [OpView])> {
    let minimal = match &c.evidence {
        Evidence::Linearizable(r) => r
            .partitions
            .iter()
            .find_map(|p| p.evidence.as_ref())
            .and_then(|e| e.minimal.as_deref()),
        Evidence::Sequential(r) => r.counterexample.as_ref().and_then(|c| c.minimal.as_deref()),
        _ => None,
    };
    match minimal {
        Some(m) if !m.is_empty() => Some(("the minimal counterexample", m)),
        _ if !whole.is_empty() => Some(("the history", whole)),
        _ => None,
    }
}

/// The ops a failing check's timeline marks: those its anomaly names,
/// else the op no order gets past.
fn marked(c: &CheckSection, ops: &[OpView]) -> BTreeSet<usize> {
    let drawn: BTreeSet<usize> = ops.iter().map(|o| o.id).collect();
    let mut out: BTreeSet<usize> = c
        .anomaly
        .iter()
        .flat_map(|a| a.ops.iter().copied())
        .filter(|id| drawn.contains(id))
        .collect();
    if out.is_empty() {
        if let Evidence::Linearizable(r) = &c.evidence {
            if let Some(e) = r.partitions.iter().find_map(|p| p.evidence.as_ref()) {
                out.extend(drawn.get(&e.op.id));
            }
        }
    }
    out
}

/// Renders a file that could not be checked.
pub fn failure(f: &FileFailure, style: &Style) -> String {
    let mut place = String::new();
    if let Some(line) = f.error.line {
        let _ = write!(place, ":{line}");
        if let Some(column) = f.error.column {
            let _ = write!(place, ":{column}");
        }
    }
    format!(
        "{}  {}  (not checked)\n  {}{place}: {}\n",
        style.bold(&f.path),
        style.bad("ERROR"),
        f.path,
        f.error.message
    )
}

/// A section's verdict word: its verdict, or NOT JUDGED when it does not
/// count.
fn standing(c: &CheckSection, style: &Style) -> String {
    if c.counts {
        style.verdict(c.valid)
    } else {
        style.dim("NOT JUDGED")
    }
}

/// A section's body as [`check`] draws it below the verdict, without the
/// summary (which a JUnit failure and a GitHub annotation carry apart),
/// without colour and with the section's indent removed: the named
/// anomaly, its timeline and the evidence.
pub fn evidence(c: &CheckSection) -> String {
    let full = check("", c, &[], &Style::default());
    let anomaly = usize::from(c.anomaly.is_some());
    let summary = c.summary.lines().count().max(1);
    let lines: Vec<&str> = full
        .lines()
        .skip(1)
        .enumerate()
        .filter(|(i, _)| *i < anomaly || *i >= anomaly + summary)
        .map(|(_, l)| l.strip_prefix("    ").unwrap_or(l).trim_end())
        .collect();
    lines.join("\n")
}

/// Renders one checker's section: its verdict, summary and evidence.
fn check(name: &str, c: &CheckSection, whole: &[OpView], style: &Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {:<13} {}  {}",
        name,
        standing(c, style),
        style.dim(&format!("{:.1} ms", c.elapsed_ms))
    );
    if let Some(a) = &c.anomaly {
        let _ = writeln!(out, "    {}", style.bold(&a.description));
    }
    let _ = writeln!(out, "    {}", c.summary);
    if c.anomaly.is_some() {
        if let Some((what, ops)) = drawn(c, whole) {
            let _ = writeln!(out, "    Timeline of {what} ({} ops):", ops.len());
            draw(&mut out, ops, &marked(c, ops), style);
        }
    }
    match &c.evidence {
        Evidence::Skipped { .. } => {}
        Evidence::Linearizable(r) => linearizable(&mut out, r, style),
        Evidence::Sequential(r) => sequential(&mut out, r, style),
        Evidence::Convergence(r) => convergence(&mut out, r, style),
    }
    out
}

/// An operation in one line: `process 3 read 2 (ok, lines 14-15)`.
pub fn op(v: &OpView) -> String {
    let outcome = match v.outcome {
        crate::history::Outcome::Ok => "ok",
        crate::history::Outcome::Fail => "fail",
        crate::history::Outcome::Info if v.complete_index.is_some() => "info",
        crate::history::Outcome::Info => "never completed",
    };
    let place = match (v.invoke_line, v.complete_line) {
        (0, _) => match v.complete_index {
            Some(c) => format!("events {}-{}", v.invoke_index, c),
            None => format!("event {}", v.invoke_index),
        },
        (i, Some(c)) if c != i => format!("lines {i}-{c}"),
        (i, _) => format!("line {i}"),
    };
    format!("process {} {} ({outcome}, {place})", v.process, v.op)
}

fn key_name(key: &Option<Value>) -> String {
    match key {
        Some(k) => format!("key {k}"),
        None => "the history".to_string(),
    }
}

/// One sentence on a linearizability report.
pub fn linearizable_summary(r: &LinearizableReport) -> String {
    let bad: Vec<&PartitionReport> = r
        .partitions
        .iter()
        .filter(|p| p.valid == Verdict::Invalid)
        .collect();
    let unknown = r
        .partitions
        .iter()
        .filter(|p| p.valid == Verdict::Unknown)
        .count();
    if let Some(why) = &r.nothing_to_judge {
        return format!("nothing to judge: {why}");
    }
    let keys = if r.partitioned {
        format!(" ({} keys checked one by one)", r.partitions.len())
    } else {
        String::new()
    };
    match r.valid {
        Verdict::Valid => {
            format!("every operation can take effect at one instant within its call{keys}")
        }
        Verdict::Invalid => {
            let first = bad[0];
            let what = match &first.evidence {
                Some(e) => format!(": {} cannot take effect", op(&e.op)),
                None => String::new(),
            };
            let more = if bad.len() > 1 {
                format!(" ({} keys are not linearizable)", bad.len())
            } else {
                String::new()
            };
            format!("{} is not linearizable{what}{more}", key_name(&first.key))
        }
        Verdict::Unknown => format!(
            "no anomaly found, but {unknown} of {} partitions were not decided {}",
            r.partitions.len(),
            r.undecided
                .as_ref()
                .map_or("in time".to_string(), |why| format!("({why})"))
        ),
    }
}

fn linearizable(out: &mut String, r: &LinearizableReport, style: &Style) {
    for p in r.partitions.iter().filter(|p| p.valid == Verdict::Invalid) {
        if let Some(e) = &p.evidence {
            partition(out, p, e, style);
        }
    }
    let without = r
        .partitions
        .iter()
        .filter(|p| p.valid == Verdict::Invalid && p.evidence.is_none())
        .count();
    if without > 0 {
        let _ = writeln!(
            out,
            "    {without} more {} not linearizable; gate mode shows the first one's evidence only (--report-all shows each one's)",
            if without == 1 { "key is" } else { "keys are" }
        );
    }
    if r.partitioned {
        let count = |v: Verdict| r.partitions.iter().filter(|p| p.valid == v).count();
        let _ = writeln!(
            out,
            "    keys: {} valid, {} invalid, {} unknown",
            count(Verdict::Valid),
            count(Verdict::Invalid),
            count(Verdict::Unknown)
        );
    }
}

/// Renders the evidence of one failing partition (a key, or the whole
/// history): the op no order gets past, the final paths and the minimal
/// counterexample.
pub fn partition(
    out: &mut String,
    p: &PartitionReport,
    e: &crate::check::linearizable::Evidence,
    style: &Style,
) {
    let _ = writeln!(out, "    {}:", style.bold(&key_name(&p.key)));
    let stuck = style.bad(&op(&e.op));
    let _ = match e.stuck_in {
            StuckIn::Partition => writeln!(
                out,
                "      No order of the operations gets past the completion of {stuck}."
            ),
            StuckIn::Minimal => writeln!(
                out,
                "      Every order of the operations fails; the first completion that none gets past was not found within its search budget. In the minimal counterexample below, no order gets past the completion of {stuck}."
            ),
            StuckIn::Search => writeln!(
                out,
                "      Every order of the operations fails; the search cut each one before it got past the completion of {stuck} (the first completion that no order gets past was not found within its search budget)."
            ),
        };
    if let Some(prev) = &e.previous_ok {
        let _ = writeln!(
            out,
            "      The last op to complete before it began: {}.",
            op(prev)
        );
    }
    if !e.concurrent.is_empty() {
        let _ = writeln!(out, "      Concurrent with it:");
        for c in e.concurrent.iter().take(8) {
            let _ = writeln!(out, "        {}", op(c));
        }
        if e.concurrent.len() > 8 {
            let _ = writeln!(out, "        ... and {} more", e.concurrent.len() - 8);
        }
    }
    if e.final_paths.is_empty() {
        let _ = writeln!(
                out,
                "      The final paths (the orders that get furthest) were not enumerated: their time budget ran out."
            );
    } else {
        let _ = writeln!(
                out,
                "      {} longest linearizable prefix places {} ops; from there the model can be in {}{} state(s):",
                if e.stuck_in == StuckIn::Minimal {
                    "Its"
                } else {
                    "The"
                },
                e.prefix_len,
                if e.final_paths_complete { "" } else { "at least " },
                e.final_paths.len()
            );
    }
    for path in &e.final_paths {
        let tail: Vec<&str> = path
            .ops
            .iter()
            .rev()
            .take(3)
            .rev()
            .map(|o| o.op.as_str())
            .collect();
        let _ = writeln!(
            out,
            "        {} {}",
            path.state,
            style.dim(&format!("(after ... {})", tail.join(", ")))
        );
        for b in e
            .blocked
            .iter()
            .filter(|b| b.state == path.state && !b.reason.is_empty())
        {
            let _ = writeln!(out, "          {}: {}", b.op.op, b.reason);
        }
    }
    if let Some(min) = &e.minimal {
        let _ = writeln!(
            out,
            "      Minimal counterexample: {} ops{}:",
            min.len(),
            if e.minimal_verified {
                ", each one needed"
            } else {
                ""
            }
        );
        for m in min {
            let _ = writeln!(out, "        {}", op(m));
        }
    }
}

fn sequential(out: &mut String, r: &SequentialReport, style: &Style) {
    let Some(c) = &r.counterexample else { return };
    let _ = writeln!(out, "    {}", c.why);
    let _ = writeln!(out, "    {}", c.explanation);
    let placed: Vec<String> = c
        .prefixes
        .iter()
        .map(|p| format!("process {} {}/{}", p.process, p.placed, p.total))
        .collect();
    let _ = writeln!(
        out,
        "    The deepest order{} places {} ops ({}), leaving the model at: {}.",
        if c.frontier_complete {
            ""
        } else {
            " found before time ran out"
        },
        c.frontier.ops.len(),
        placed.join(", "),
        c.frontier.state
    );
    if !c.blocked.is_empty() {
        let _ = writeln!(out, "    Every process's next op is blocked:");
        for b in &c.blocked {
            let _ = writeln!(out, "      {}: {}", op(&b.op), b.reason);
        }
    }
    if let Some(min) = &c.minimal {
        let _ = writeln!(
            out,
            "    Minimal counterexample: {} ops{}:",
            min.len(),
            if c.one_minimal {
                ", each one needed"
            } else {
                ""
            }
        );
        for m in min {
            let _ = writeln!(out, "      {}", style.bad(&op(m)));
        }
    }
}

/// One sentence on a convergence report.
pub fn convergence_summary(r: &ConvergenceReport) -> String {
    match r.valid {
        Verdict::Valid => format!(
            "final reads agree on every key ({} keys, {} final reads), and the writes explain them",
            r.stats.keys, r.stats.final_reads
        ),
        _ => r
            .reasons
            .first()
            .cloned()
            .unwrap_or_else(|| "no verdict".to_string()),
    }
}

/// A span of time in the report's unit, for people.
fn duration(t: i64, unit: crate::check::convergence::TimeUnit) -> String {
    use crate::check::convergence::TimeUnit;
    match unit {
        TimeUnit::Events => format!("{t} events"),
        TimeUnit::Nanoseconds if t >= 1_000_000_000 => format!("{:.2} s", t as f64 / 1e9),
        TimeUnit::Nanoseconds if t >= 1_000_000 => format!("{:.2} ms", t as f64 / 1e6),
        TimeUnit::Nanoseconds if t >= 1_000 => format!("{:.2} us", t as f64 / 1e3),
        TimeUnit::Nanoseconds => format!("{t} ns"),
    }
}

fn read(r: &ReadView) -> String {
    format!("{} on replica {}", op(&r.op), r.replica)
}

fn convergence(out: &mut String, r: &ConvergenceReport, style: &Style) {
    final_read_rule(out, r, style);
    for reason in r.reasons.iter().skip(1).take(4) {
        let _ = writeln!(out, "    {reason}");
    }
    for a in r.anomalies.iter().take(6) {
        convergence_anomaly(out, a, style);
    }
    if r.anomalies.len() > 6 {
        let _ = writeln!(out, "    ... and {} more anomalies", r.anomalies.len() - 6);
    }
    for k in r
        .keys
        .iter()
        .filter(|k| k.convergence_time.unwrap_or(0) > 0)
        .take(4)
    {
        let _ = writeln!(
            out,
            "    {} converged {} after its last update",
            key_name(&k.key),
            style.dim(&duration(
                k.convergence_time.unwrap_or(0),
                r.final_reads.unit
            ))
        );
    }
    sessions(out, &r.sessions, style);
}

/// The final-read rule the convergence checker applied.
fn final_read_rule(out: &mut String, r: &ConvergenceReport, style: &Style) {
    let _ = writeln!(
        out,
        "    {}",
        style.dim(&format!(
            "final reads: {}{}, replicas from {}",
            match r.final_reads.rule {
                crate::check::convergence::FinalReadRule::AfterLastUpdate =>
                    "each replica's last read after the last update",
                crate::check::convergence::FinalReadRule::AfterHeal =>
                    "each replica's last read after the last update and heal",
                crate::check::convergence::FinalReadRule::Marked => "reads marked final",
            },
            if r.final_reads.settle > 0 {
                format!(
                    " (settle {})",
                    duration(r.final_reads.settle as i64, r.final_reads.unit)
                )
            } else {
                String::new()
            },
            r.final_reads.replicas_from
        ))
    );
}

/// One convergence anomaly, in a line or a few.
fn convergence_anomaly(out: &mut String, a: &Anomaly, style: &Style) {
    match a {
        Anomaly::Divergence {
            key, values, why, ..
        } => {
            let _ = writeln!(out, "    {} diverged:", key_name(key));
            for (v, replicas) in values {
                let _ = writeln!(out, "      {v} from {}", replicas.join(", "));
            }
            let _ = writeln!(out, "      {why}");
        }
        Anomaly::FailedButPresent {
            key,
            value,
            update,
            read: rd,
        } => {
            let _ = writeln!(
                out,
                "    {}: {value} read by {}, though {} failed",
                key_name(key),
                read(rd),
                style.bad(&op(update))
            );
        }
        Anomaly::LostUpdate {
            key,
            value,
            lost,
            winner,
            lost_count,
        } => {
            let _ = writeln!(
                out,
                "    {}: every final read returned {value}, but {} completed after {} began and was lost ({lost_count} lost)",
                key_name(key),
                style.bad(&op(lost)),
                winner.as_ref().map_or("the initial value".to_string(), op)
            );
        }
        Anomaly::Unexplained {
            key,
            value,
            read: rd,
            why,
        } => {
            let _ = writeln!(
                out,
                "    {}: {value} read by {}: {why}",
                key_name(key),
                read(rd)
            );
        }
        Anomaly::Lost {
            key,
            value,
            update,
            why,
            ..
        } => {
            let _ = writeln!(
                out,
                "    {}: lost {value} ({}): {why}",
                key_name(key),
                op(update)
            );
        }
        Anomaly::Duplicated {
            key,
            value,
            enqueued,
            dequeued,
        } => {
            let _ = writeln!(
                out,
                "    {}: {value} enqueued {enqueued} time(s), dequeued {dequeued} times",
                key_name(key)
            );
        }
        Anomaly::OutOfBounds {
            key,
            read: rd,
            value,
            lower,
            upper,
            ..
        } => {
            let _ = writeln!(
                out,
                "    {}: {} read {value}, outside [{lower}, {upper}]",
                key_name(key),
                read(rd)
            );
        }
    }
}

/// The session guarantees, when they were judged.
fn sessions(out: &mut String, s: &SessionReport, style: &Style) {
    if s.mode != crate::check::convergence::SessionMode::Off {
        for (name, g) in [
            ("monotonic reads", &s.monotonic_reads),
            ("read your writes", &s.read_your_writes),
        ] {
            if g.violations > 0 {
                let _ = writeln!(
                    out,
                    "    session guarantee {}: {} violation(s)",
                    style.bad(&format!("{name} broken")),
                    g.violations
                );
                for v in g.examples.iter().take(3) {
                    let _ = writeln!(out, "      {}, then {}", op(&v.first), op(&v.second));
                    let _ = writeln!(out, "      {}", v.detail);
                }
            } else if g.judged_keys > 0 {
                let _ = writeln!(
                    out,
                    "    session guarantee {name}: held ({} reads checked)",
                    g.reads_checked
                );
            } else if let Some(why) = g.not_judged_reasons.first() {
                let _ = writeln!(out, "    session guarantee {name}: not judged ({why})");
            }
        }
    }
}

/// A table of every file's verdicts, one row per file.
pub fn summary(report: &RunReport, style: &Style) -> String {
    let mut out = String::new();
    let width = report
        .files
        .iter()
        .map(|f| f.path().len())
        .max()
        .unwrap_or(4)
        .max(4);
    let row = |out: &mut String, cells: [&str; 5]| {
        let _ = writeln!(
            out,
            "{:<width$}  {:<9} {:<13} {:<13} {:<13}",
            cells[0], cells[1], cells[2], cells[3], cells[4]
        );
    };
    row(
        &mut out,
        [
            "file",
            "verdict",
            "linearizable",
            "sequential",
            "convergence",
        ],
    );
    for f in &report.files {
        let FileOutcome::Checked(f) = f else {
            row(&mut out, [f.path(), "error", "-", "-", "-"]);
            continue;
        };
        let cell = |name: &str| match f.checks.get(name) {
            None => "-",
            Some(c) if !c.counts => "not judged",
            Some(c) => c.valid.word(),
        };
        row(
            &mut out,
            [
                &f.path,
                f.valid.word(),
                cell("linearizable"),
                cell("sequential"),
                cell("convergence"),
            ],
        );
    }
    let failed = report.failed();
    let _ = writeln!(
        out,
        "{} files: {}{}",
        report.files.len(),
        style.verdict(report.valid),
        if failed > 0 {
            format!(" ({failed} could not be checked)")
        } else {
            String::new()
        }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::CheckOptions;
    use crate::history::{History, Op, OpType, Value};
    use crate::model::{ModelOptions, Register};

    #[test]
    fn evidence_without_final_paths_says_their_budget_ran_out() {
        use OpType::*;
        let ev = |t, p, f, v: i64| Op::new(t, p, f, Value::Int(v));
        // A stale read: 1 after the write of 2 returned.
        let h = History::from_ops(vec![
            ev(Invoke, 0, "write", 1),
            ev(Ok, 0, "write", 1),
            ev(Invoke, 0, "write", 2),
            ev(Ok, 0, "write", 2),
            ev(Invoke, 1, "read", 0),
            ev(Ok, 1, "read", 1),
        ])
        .unwrap();
        let model = Register::new(&ModelOptions::default());
        let mut r = crate::check::linearizable::check(&h, model, &CheckOptions::default()).unwrap();
        let style = Style::detect(false, None);
        let mut full = String::new();
        linearizable(&mut full, &r, &style);
        assert!(
            full.contains("from there the model can be in 1 state(s)"),
            "{full}"
        );
        let e = r.partitions[0].evidence.as_mut().unwrap();
        e.final_paths.clear();
        e.blocked.clear();
        e.final_paths_complete = false;
        let mut cut = String::new();
        linearizable(&mut cut, &r, &style);
        assert!(
            cut.contains("were not enumerated: their time budget ran out"),
            "{cut}"
        );
        assert!(!cut.contains("0 state(s)"), "{cut}");
    }
}
