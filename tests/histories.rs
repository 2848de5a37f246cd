//! Every history in `histories/` against the verdicts that
//! `histories/expected.tsv` records for it, through the command line.
//!
//! The manifest has one row per file: the path under `histories/`, the
//! model, extra `labrys check` arguments (`-` for none), the expected
//! verdict of each checker (`valid`, `invalid` or `unknown`), then the
//! anomaly each checker names, as `linearizable/sequential/convergence`
//! kinds (`-` where the check names none).

use std::path::Path;
use std::process::Command;

struct Row {
    file: String,
    model: String,
    args: Vec<String>,
    expected: [(String, String); 3],
    anomalies: [String; 3],
}

fn manifest() -> Vec<Row> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("histories");
    let text = std::fs::read_to_string(root.join("expected.tsv")).expect("read expected.tsv");
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 || line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 7, "expected.tsv line {}: seven columns", i + 1);
        let anomalies: Vec<String> = cols[6].split('/').map(str::to_string).collect();
        assert_eq!(
            anomalies.len(),
            3,
            "expected.tsv line {}: three anomalies",
            i + 1
        );
        rows.push(Row {
            file: cols[0].to_string(),
            model: cols[1].to_string(),
            args: if cols[2] == "-" {
                Vec::new()
            } else {
                cols[2].split(' ').map(str::to_string).collect()
            },
            expected: [
                ("linearizable".to_string(), cols[3].to_string()),
                ("sequential".to_string(), cols[4].to_string()),
                ("convergence".to_string(), cols[5].to_string()),
            ],
            anomalies: [
                anomalies[0].clone(),
                anomalies[1].clone(),
                anomalies[2].clone(),
            ],
        });
    }
    rows
}

fn word(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Bool(true) => "valid",
        serde_json::Value::Bool(false) => "invalid",
        _ => "unknown",
    }
}

#[test]
fn every_history_has_its_expected_verdicts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("histories");
    let rows = manifest();
    assert!(rows.len() >= 5, "the manifest lists the teaching histories");
    let mut failures = Vec::new();
    for row in &rows {
        let path = root.join(&row.file);
        let out = Command::new(env!("CARGO_BIN_EXE_labrys"))
            .args(["check", "--format", "json", "--model", &row.model])
            .args(&row.args)
            .arg(&path)
            .output()
            .expect("run labrys");
        let text = String::from_utf8_lossy(&out.stdout);
        let report: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!(
                    "{}: no JSON report ({e}); stderr: {}",
                    row.file,
                    String::from_utf8_lossy(&out.stderr)
                ));
                continue;
            }
        };
        let file = &report["files"][0];
        for ((check, expected), kind) in row.expected.iter().zip(&row.anomalies) {
            let section = &file["checks"][check.as_str()];
            let got = word(&section["valid"]);
            if got != expected {
                failures.push(format!(
                    "{}: {check} is {got}, expected {expected}",
                    row.file
                ));
            }
            // The anomaly named, and only for a failing check.
            let anomaly = &section["anomaly"];
            let named = anomaly["kind"].as_str().unwrap_or("-");
            if named != kind {
                failures.push(format!(
                    "{}: {check} names the anomaly {named}, expected {kind}",
                    row.file
                ));
            }
            if (got == "invalid") != anomaly.is_object() {
                failures.push(format!(
                    "{}: {check} is {got} and names {anomaly}",
                    row.file
                ));
            }
            if anomaly.is_object() {
                let d = anomaly["description"].as_str().unwrap_or("");
                if !d.ends_with('.') || !d.starts_with(|c: char| c.is_uppercase()) {
                    failures.push(format!(
                        "{}: {check}'s anomaly is not one sentence: {d:?}",
                        row.file
                    ));
                }
            }
        }
        // Session guarantees are reported beside convergence.
        if row.file.contains("monotonic-reads-violation") {
            let mr = &file["checks"]["convergence"]["evidence"]["sessions"]["monotonic_reads"];
            if mr["violations"].as_u64() != Some(1) || mr["examples"][0]["process"] != 2 {
                failures.push(format!(
                    "{}: expected one monotonic-reads violation by process 2, got {mr}",
                    row.file
                ));
            }
        }
        // The exit status follows the combined verdict.
        let combined = word(&report["valid"]);
        let code = match combined {
            "valid" => 0,
            "invalid" => 1,
            _ => 3,
        };
        if out.status.code() != Some(code) {
            failures.push(format!(
                "{}: exit status {:?} for a combined verdict of {combined}",
                row.file,
                out.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
