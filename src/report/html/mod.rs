//! HTML rendering: one self-contained page for a run (`labrys check
//! --html FILE`).
//!
//! The page has a summary table of every file, then one section per file:
//! each check's verdict and evidence written out as HTML (readable without
//! JavaScript, and printed), and a timeline drawn as SVG by the page's own
//! script from the data of a [`FileView`] embedded as JSON. Its CSS and
//! JavaScript are inline and it fetches nothing, so it opens from disk.
//!
//! History values are untrusted: every text goes through [`escape::html`],
//! every embedded JSON through [`escape::script_json`], and the script
//! puts text into the page only as text nodes, never as markup.
//!
//! Like every renderer, this one only draws: what it shows comes from the
//! history and the checkers' evidence (see [`view`]).

pub mod escape;
pub mod view;

use super::text;
use super::{CheckSection, Evidence, FileOutcome, FileReport, RunReport};
use crate::check::convergence::set::SetDetail;
use crate::check::convergence::{ConvergenceReport, KeyDetail, KeyResult, TimeUnit};
use crate::check::evidence::{Blocked, OpView};
use crate::check::linearizable::{LinearizableReport, PartitionReport};
use crate::check::sequential::SequentialReport;
use crate::check::Verdict;
use crate::history::Value;
use escape::html;
use std::fmt::Write;
pub use view::FileView;

const CSS: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// Check names as headings say them.
fn title(check: &str) -> &'static str {
    match check {
        "linearizable" => "Linearizability",
        "sequential" => "Sequential consistency",
        _ => "Convergence",
    }
}

fn verdict(v: Verdict) -> String {
    let word = match v {
        Verdict::Valid => "valid",
        Verdict::Invalid => "invalid",
        Verdict::Unknown => "unknown",
    };
    format!(r#"<span class="verdict v-{word}">{word}</span>"#)
}

/// The page for `run`; `views[i]` draws file `i` (`None`: not drawn).
pub fn page(run: &RunReport, views: &[Option<FileView>]) -> String {
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>labrys report</title>\n<style>\n");
    out.push_str(CSS);
    out.push_str("</style>\n</head>\n<body>\n");
    // Script errors are written into the page, where a reader (and the
    // browser tests) see them.
    out.push_str(
        "<script>window.onerror=function(m,s,l,c){var d=document.createElement('div');\
         d.className='script-error';d.textContent='script error: '+m+' (line '+l+')';\
         (document.body||document.documentElement).appendChild(d);};</script>\n",
    );
    let _ = writeln!(
        out,
        "<header><h1>labrys report</h1><p>{} {} checked</p></header>",
        verdict(run.valid),
        plural(run.files.len(), "file")
    );
    summary(&mut out, run);
    for (i, f) in run.files.iter().enumerate() {
        match f {
            FileOutcome::Checked(r) => file(&mut out, i, r, views.get(i).and_then(Option::as_ref)),
            FileOutcome::Failed(e) => {
                let at = match (e.error.line, e.error.column) {
                    (Some(l), Some(c)) => format!(" (line {l}, column {c})"),
                    (Some(l), None) => format!(" (line {l})"),
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "<section class=\"file\" id=\"file-{i}\"><h2>{} {}</h2>\
                     <p class=\"error\">not checked: {}{at}</p></section>",
                    verdict(e.valid),
                    html(&e.path),
                    html(&e.error.message)
                );
            }
        }
    }
    out.push_str(
        "<noscript><p>The timelines are drawn by the page's script; \
                  everything else above reads without it.</p></noscript>\n<script>\n",
    );
    out.push_str(SCRIPT);
    out.push_str("</script>\n</body>\n</html>\n");
    out
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The table of every file, with a link to its section.
fn summary(out: &mut String, run: &RunReport) {
    out.push_str(
        "<table class=\"summary\"><thead><tr><th>file</th><th>verdict</th><th>model</th>\
         <th>operations</th><th>linearizable</th><th>sequential</th><th>convergence</th>\
         </tr></thead><tbody>\n",
    );
    for (i, f) in run.files.iter().enumerate() {
        let _ = write!(
            out,
            "<tr><td><a href=\"#file-{i}\">{}</a></td><td>{}</td>",
            html(f.path()),
            verdict(f.valid())
        );
        match f {
            FileOutcome::Checked(r) => {
                let _ = write!(
                    out,
                    "<td>{}</td><td>{}</td>",
                    html(r.model.as_deref().unwrap_or("none")),
                    r.operations
                );
                for c in ["linearizable", "sequential", "convergence"] {
                    match r.checks.get(c) {
                        Some(s) if !s.counts => out.push_str("<td>not judged</td>"),
                        Some(s) => {
                            let _ = write!(out, "<td>{}</td>", verdict(s.valid));
                        }
                        None => out.push_str("<td>not asked</td>"),
                    }
                }
            }
            FileOutcome::Failed(_) => out.push_str("<td colspan=\"5\">input error</td>"),
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

/// One file's section.
fn file(out: &mut String, i: usize, r: &FileReport, view: Option<&FileView>) {
    let _ = writeln!(
        out,
        "<section class=\"file\" id=\"file-{i}\">\n<h2>{} {}</h2>\n\
         <p class=\"meta\">model {} ({}), {}, {}</p>",
        verdict(r.valid),
        html(&r.path),
        html(r.model.as_deref().unwrap_or("none")),
        r.model_source.word(),
        plural(r.operations, "operation"),
        plural(r.fault_events, "fault event"),
    );
    for (name, section) in ordered(r) {
        if let Some(sentence) = anomaly(section) {
            let _ = writeln!(
                out,
                "<p class=\"anomaly\"><strong>{}:</strong> {}</p>",
                title(name),
                html(&sentence)
            );
        }
    }
    if view.is_some() {
        out.push_str("<div class=\"timeline\"></div>\n");
    }
    for (name, section) in ordered(r) {
        check(out, name, section);
    }
    if let Some(v) = view {
        cycles(out, v);
        minimals(out, v);
    }
    let _ = writeln!(
        out,
        "<details class=\"text-report\"><summary>The text report</summary><pre>{}</pre></details>",
        html(&text::file(r, &super::style::Style::default()))
    );
    if let Some(v) = view {
        let _ = writeln!(
            out,
            "<script type=\"application/json\" class=\"view\">{}</script>",
            escape::script_json(v)
        );
    }
    out.push_str("</section>\n");
}

/// The file's check sections in the order the page shows them.
fn ordered(r: &FileReport) -> impl Iterator<Item = (&'static str, &CheckSection)> {
    ["linearizable", "sequential", "convergence"]
        .into_iter()
        .filter_map(|c| r.checks.get(c).map(|s| (c, s)))
}

/// The section's named anomaly, where the evidence carries one (an
/// `anomaly` field with a `description`, or a sentence), in the section or
/// in its evidence.
fn anomaly(section: &CheckSection) -> Option<String> {
    let json = serde_json::to_value(section).ok()?;
    let found = json
        .get("anomaly")
        .or_else(|| json.get("evidence").and_then(|e| e.get("anomaly")))?;
    match found {
        serde_json::Value::String(s) => Some(s.clone()),
        v => v
            .get("description")
            .and_then(|d| d.as_str())
            .map(str::to_string),
    }
}

/// A check's verdict, summary and evidence.
fn check(out: &mut String, name: &str, s: &CheckSection) {
    let standing = if s.counts { "" } else { " (not judged)" };
    let _ = writeln!(
        out,
        "<div class=\"check\" data-check=\"{name}\"><h3>{} {}{standing}</h3>\n<p>{}</p>",
        title(name),
        verdict(s.valid),
        html(&s.summary)
    );
    match &s.evidence {
        Evidence::Linearizable(r) => linearizable(out, r),
        Evidence::Sequential(r) => sequential(out, r),
        Evidence::Convergence(r) => convergence(out, r),
        Evidence::Skipped { skipped } => {
            let _ = writeln!(out, "<p>{}</p>", html(skipped));
        }
    }
    out.push_str("</div>\n");
}

fn list(out: &mut String, class: &str, items: impl Iterator<Item = String>) {
    let _ = write!(out, "<ul class=\"{class}\">");
    for item in items {
        let _ = write!(out, "<li>{item}</li>");
    }
    out.push_str("</ul>\n");
}

/// An operation in words, with a link to its bar.
fn op(v: &OpView) -> String {
    format!(
        "<a class=\"op-ref\" data-op=\"{}\" href=\"#\">{}</a>",
        v.id,
        html(&text::op(v))
    )
}

fn linearizable(out: &mut String, r: &LinearizableReport) {
    for p in &r.partitions {
        let key = p
            .key
            .as_ref()
            .map_or(String::new(), |k| format!("key {}: ", html(&k.to_string())));
        partition_evidence(out, p, &key);
    }
    let witnesses: Vec<_> = r
        .partitions
        .iter()
        .filter_map(|p| p.witness.as_ref())
        .collect();
    if witnesses.is_empty() {
        return;
    }
    let total: usize = witnesses.iter().map(|w| w.total).sum();
    let recorded: usize = witnesses.iter().map(|w| w.steps.len()).sum();
    let which = if recorded == total {
        "every step".to_string()
    } else {
        format!("the first {recorded} steps")
    };
    let _ = writeln!(
        out,
        "<p class=\"witness\">The linearization found: {} took effect; the timeline numbers \
         each operation in the order (per key), marks its linearization point, and shows the \
         state it left on hover or focus ({which}).</p>",
        plural(total, "operation")
    );
}

fn partition_evidence(out: &mut String, p: &PartitionReport, key: &str) {
    let Some(ev) = &p.evidence else { return };
    let _ = writeln!(
        out,
        "<div class=\"evidence\"><p class=\"failing\">{key}no order of the operations gets past \
         {} (highlighted in the timeline).</p>",
        op(&ev.op)
    );
    if let Some(prev) = &ev.previous_ok {
        let _ = writeln!(
            out,
            "<p>The last operation to complete ok before it was invoked: {}.</p>",
            op(prev)
        );
    }
    if !ev.concurrent.is_empty() {
        out.push_str("<p>Concurrent with it (outlined):</p>");
        list(out, "concurrent", ev.concurrent.iter().map(op));
    }
    let _ = writeln!(
        out,
        "<p>The longest linearizable prefix places {} (numbered in the timeline); its last:</p>",
        plural(ev.prefix_len, "operation")
    );
    let first = ev.prefix_len.saturating_sub(ev.prefix.len());
    let _ = write!(out, "<ol class=\"prefix\" start=\"{}\">", first + 1);
    for o in &ev.prefix {
        let _ = write!(out, "<li>{}</li>", op(o));
    }
    out.push_str("</ol>\n");
    let complete = if ev.final_paths_complete {
        "every reachable state"
    } else {
        "some of the reachable states"
    };
    let _ = writeln!(
        out,
        "<p>Final paths ({complete}): where each leaves the model, and why the operation cannot follow.</p>\
         <table class=\"paths\"><thead><tr><th>path (last operations)</th><th>state</th></tr></thead><tbody>"
    );
    for path in &ev.final_paths {
        let ops: Vec<String> = path.ops.iter().map(|o| html(&o.op)).collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td></tr>",
            ops.join(", "),
            html(&path.state)
        );
    }
    out.push_str("</tbody></table>\n");
    blocked(out, &ev.blocked);
    out.push_str("</div>\n");
}

fn blocked(out: &mut String, blocked: &[Blocked]) {
    if blocked.is_empty() {
        return;
    }
    out.push_str(
        "<table class=\"blocked\"><thead><tr><th>operation</th><th>in state</th><th>why it fails</th>\
         </tr></thead><tbody>\n",
    );
    for b in blocked {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            op(&b.op),
            html(&b.state),
            html(&b.reason)
        );
    }
    out.push_str("</tbody></table>\n");
}

fn sequential(out: &mut String, r: &SequentialReport) {
    if let Some(order) = &r.order {
        let _ = writeln!(
            out,
            "<p class=\"witness\">A witness order of {} is drawn in the timeline as a path \
             through the lanes (its place in the order on hover or focus).</p>",
            plural(order.len(), "operation")
        );
    }
    let Some(c) = &r.counterexample else { return };
    let _ = writeln!(
        out,
        "<div class=\"evidence\"><p class=\"why\">{}</p><pre class=\"explanation\">{}</pre>",
        html(&c.why),
        html(&c.explanation)
    );
    if !c.cycle.is_empty() {
        out.push_str("<ol class=\"cycle-steps\">");
        for step in &c.cycle {
            let proof: Vec<String> = step.ops.iter().map(op).collect();
            let _ = write!(
                out,
                "<li>{} <span class=\"proof\">({})</span></li>",
                html(&step.because),
                proof.join(", ")
            );
        }
        out.push_str("</ol>\n");
    }
    blocked(out, &c.blocked);
    out.push_str("</div>\n");
}

/// At most this many keys are listed in the convergence table.
const CONVERGENCE_ROWS: usize = 50;

fn convergence(out: &mut String, r: &ConvergenceReport) {
    let keys: Vec<_> = r
        .keys
        .iter()
        .filter(|k| !k.final_values.is_empty())
        .collect();
    if keys.is_empty() {
        return;
    }
    out.push_str(
        "<table class=\"convergence\"><thead><tr><th>key</th><th>verdict</th>\
         <th>final reads: value (replicas)</th><th>agreed on</th><th>after the last update</th>\
         <th>why</th></tr></thead><tbody>\n",
    );
    for k in keys.iter().take(CONVERGENCE_ROWS) {
        let groups: Vec<String> = k
            .final_values
            .iter()
            .map(|g| format!("{} ({}; {} reads)", g.value, g.replicas.join(", "), g.count))
            .collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            html(&k.key.as_ref().map_or("-".to_string(), |v| v.to_string())),
            verdict(k.valid),
            html(&groups.join("; ")),
            html(
                &k.converged_value
                    .as_ref()
                    .map_or("never".to_string(), |v| v.to_string())
            ),
            k.convergence_time
                .map_or("-".to_string(), |t| t.to_string()),
            html(&k.reasons.join("; ")),
        );
    }
    out.push_str("</tbody></table>\n");
    if keys.len() > CONVERGENCE_ROWS {
        let _ = writeln!(
            out,
            "<p>{} more keys: see the text report below.</p>",
            keys.len() - CONVERGENCE_ROWS
        );
    }
    set_elements(out, r);
}

/// Per set key: the elements lost or stale, and how long elements took to
/// be seen by every read (their stable latency).
fn set_elements(out: &mut String, r: &ConvergenceReport) {
    let unit = match r.final_reads.unit {
        TimeUnit::Nanoseconds => "ns",
        TimeUnit::Events => "events",
    };
    let sets: Vec<(&KeyResult, &SetDetail)> = r
        .keys
        .iter()
        .filter_map(|k| match &k.detail {
            KeyDetail::Set(d) => Some((k, d)),
            _ => None,
        })
        .take(CONVERGENCE_ROWS)
        .collect();
    if sets.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<table class=\"set-elements\"><thead><tr><th>key</th><th>lost</th>\
         <th>stale, then stable</th><th>stable latency ({unit}): p50 / p90 / p99 / max</th>\
         <th>slowest to be stable</th></tr></thead><tbody>"
    );
    let values = |vs: &[Value]| {
        let shown: Vec<String> = vs.iter().take(20).map(Value::to_string).collect();
        let more = vs.len().saturating_sub(20);
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        html(&format!(
            "{}{tail}",
            if shown.is_empty() {
                "none".into()
            } else {
                shown.join(", ")
            }
        ))
    };
    for (k, d) in sets {
        let lost: std::collections::BTreeSet<&Value> =
            d.lost.iter().chain(&d.lost_during_run).collect();
        let lost: Vec<Value> = lost.into_iter().cloned().collect();
        let latency = d.stable_latency.as_ref().map_or("-".to_string(), |q| {
            format!("{} / {} / {} / {}", q.p50, q.p90, q.p99, q.max)
        });
        let worst: Vec<String> = d.worst.iter().map(|(v, t)| format!("{v} ({t})")).collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{latency}</td><td>{}</td></tr>",
            html(&k.key.as_ref().map_or("-".to_string(), |v| v.to_string())),
            values(&lost),
            values(&d.stale),
            html(&worst.join(", "))
        );
    }
    out.push_str("</tbody></table>\n");
}

/// A figure for each cycle of write orders; the script draws it.
fn cycles(out: &mut String, v: &FileView) {
    for (k, c) in v.cycles.iter().enumerate() {
        let key = c
            .key
            .as_ref()
            .map_or(String::new(), |k| format!(" (key {})", html(k)));
        let _ = writeln!(
            out,
            "<figure class=\"cycle\" data-cycle=\"{k}\"><figcaption>The cycle{key}: each \
             numbered arrow is a step of the sentence above, from the write that must come \
             first to the one that must come after it; no order of the writes follows them \
             all.</figcaption></figure>"
        );
    }
}

/// A figure for each minimal counterexample; the script draws it.
fn minimals(out: &mut String, v: &FileView) {
    for (k, m) in v.minimals.iter().enumerate() {
        let key = m
            .key
            .as_ref()
            .map_or(String::new(), |k| format!(", key {}", html(k)));
        let verified = if m.verified {
            ", verified 1-minimal"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<figure class=\"minimal\" data-minimal=\"{k}\"><figcaption>Minimal counterexample \
             ({}{key}): {}{verified}</figcaption></figure>",
            title(m.check),
            plural(m.ops.len(), "operation")
        );
    }
}
