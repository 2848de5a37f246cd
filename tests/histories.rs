//! Every history in `histories/` against the verdicts that
//! `histories/expected.tsv` records for it, through the command line.
//!
//! The manifest has one row per file: the path under `histories/`, the
//! model, extra `labrys check` arguments (`-` for none), then the expected
//! verdict of each checker (`valid`, `invalid` or `unknown`).

use std::path::Path;
use std::process::Command;

struct Row {
    file: String,
    model: String,
    args: Vec<String>,
    expected: [(String, String); 3],
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
        assert_eq!(cols.len(), 6, "expected.tsv line {}: six columns", i + 1);
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
        for (check, expected) in &row.expected {
            let got = word(&file["checks"][check.as_str()]["valid"]);
            if got != expected {
                failures.push(format!(
                    "{}: {check} is {got}, expected {expected}",
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
