//! The text report through the command line: the anomaly named first, then
//! the timeline, fitted to the width, without colour when piped.

mod common;

use std::path::PathBuf;
use std::process::Command;

fn history(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("histories")
        .join(name)
}

/// The text report of `file` with `COLUMNS` set to `columns` (none when
/// `None`), piped, colour not forbidden.
fn text(file: &str, columns: Option<&str>) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_labrys"));
    cmd.arg("check").arg(history(file)).env_remove("NO_COLOR");
    match columns {
        Some(c) => cmd.env("COLUMNS", c),
        None => cmd.env_remove("COLUMNS"),
    };
    let out = cmd.output().expect("run labrys");
    assert_eq!(out.status.code(), Some(1), "an anomaly was found");
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The lines of the `check` section of `report`, from its header to the
/// next section.
fn section<'a>(report: &'a str, check: &str) -> Vec<&'a str> {
    let mut lines = report
        .lines()
        .skip_while(|l| !l.starts_with(&format!("  {check} ")));
    let head = lines.next().expect("section");
    std::iter::once(head)
        .chain(lines.take_while(|l| l.starts_with("    ")))
        .collect()
}

#[test]
fn stale_read_is_named_before_its_timeline_and_details() {
    let report = text("register/stale-read.json", Some("100"));
    assert!(!report.contains('\x1b'), "no colour when piped:\n{report}");
    let lin = section(&report, "linearizable");
    assert!(lin[0].contains("INVALID"), "{lin:#?}");
    // The anomaly's sentence is the first line of the details.
    assert!(
        lin[1]
            .trim_start()
            .starts_with("Stale read: process 1 (line 6) read 1"),
        "{lin:#?}"
    );
    // Then the summary, then the timeline of the minimal counterexample.
    let at = lin
        .iter()
        .position(|l| l.contains("Timeline of the minimal counterexample (3 ops)"))
        .expect("a timeline");
    let details = lin
        .iter()
        .position(|l| l.contains("No order of the operations gets past"))
        .expect("details");
    assert!(at < details, "{lin:#?}");
    let rows: Vec<&str> = lin[at + 1..at + 3].to_vec();
    assert!(rows[0].trim_start().starts_with("p0 [w 1"), "{rows:#?}");
    assert!(
        rows[0].contains("!w 2"),
        "the write the anomaly names is marked: {rows:#?}"
    );
    assert!(
        rows[1].trim_start().starts_with("p1 ") && rows[1].contains("!r 1"),
        "{rows:#?}"
    );
    assert!(
        lin[at + 3].contains("[~~> no response"),
        "the legend: {lin:#?}"
    );
    // Checks that pass name nothing and draw nothing.
    let seq = section(&report, "sequential");
    assert_eq!(seq.len(), 2, "{seq:#?}");
}

#[test]
fn the_timeline_fits_the_width_columns_gives() {
    for width in [40usize, 60, 100, 160] {
        let report = text("counter/out-of-bounds.edn", Some(&width.to_string()));
        let conv = section(&report, "convergence");
        let at = conv
            .iter()
            .position(|l| l.contains("Timeline of the history (5 ops)"))
            .expect("the whole small history is drawn");
        let drawing: Vec<&str> = conv[at + 1..]
            .iter()
            .take_while(|l| l.starts_with("      "))
            .copied()
            .collect();
        assert!(
            drawing.len() >= 4,
            "three processes and a legend: {drawing:#?}"
        );
        for l in &drawing {
            assert!(l.chars().count() <= width, "{width}: {l:?}");
        }
        // Every op has a bar; the out-of-bounds read is marked (its label
        // may be cut short to fit), the crashed add runs to the end.
        let bars: usize = drawing
            .iter()
            .map(|l| l.matches('[').count() + l.matches('!').count())
            .sum();
        assert!(bars >= 5, "{width}: {drawing:#?}");
        assert!(
            drawing.iter().any(|l| l.contains("!r")),
            "{width}: {drawing:#?}"
        );
        assert!(
            drawing.iter().any(|l| l.trim_end().ends_with('>')),
            "{width}: {drawing:#?}"
        );
    }
    // Without COLUMNS, piped output is 100 columns at most.
    let report = text("counter/out-of-bounds.edn", None);
    assert!(report
        .lines()
        .filter(|l| l.contains('[') && l.trim_start().starts_with('p'))
        .all(|l| l.chars().count() <= 100));
}

#[test]
fn json_carries_the_anomaly_of_each_failing_check() {
    let out = common::labrys(&[
        "check",
        "--format",
        "json",
        history("kv/iriw.edn").to_str().unwrap(),
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let checks = &report["files"][0]["checks"];
    assert_eq!(
        checks["sequential"]["anomaly"]["kind"],
        "writes-in-two-orders"
    );
    assert_eq!(checks["linearizable"]["anomaly"]["kind"], "stale-read");
    assert!(checks["linearizable"]["anomaly"]["ops"]
        .as_array()
        .is_some_and(|o| o.len() == 2));
    // The valid check has no anomaly field at all.
    assert_eq!(checks["convergence"]["valid"], true);
    assert!(checks["convergence"].get("anomaly").is_none());
}
