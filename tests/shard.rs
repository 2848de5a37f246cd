//! `labrys check --shard I/N` and `labrys merge`: the shards of a keyed
//! history, merged, give the report of one run over the whole history.

mod common;

use common::labrys;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A scratch directory of this test binary's own.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labrys-shard-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Writes `labrys gen ARGS` to `path`.
fn gen(path: &Path, args: &[&str]) {
    let out = labrys(&[&["gen"], args].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(path, out.stdout).expect("write history");
}

/// The JSON report, without times (which differ from run to run).
fn without_times(mut v: Value) -> Value {
    match &mut v {
        Value::Object(m) => {
            m.remove("elapsed_ms");
            for x in m.values_mut() {
                *x = without_times(x.take());
            }
        }
        Value::Array(a) => {
            for x in a.iter_mut() {
                *x = without_times(x.take());
            }
        }
        _ => {}
    }
    v
}

/// Asserts that `report` validates against docs/report.schema.json.
fn validates(report: &Value, what: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the schema")).expect("JSON");
    let validator = jsonschema::draft202012::new(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what} does not validate: {errors:?}");
}

/// Runs `labrys ARGS`, expecting one of `statuses`, and parses its JSON.
fn json(args: &[&str], statuses: &[i32]) -> Value {
    let out = labrys(args);
    let code = out.status.code().expect("exit status");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(statuses.contains(&code), "{args:?}: exit {code}: {stderr}");
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

/// Checks `history` whole and in 1, 2 and 3 shards, and compares.
fn shards_merge_to_the_single_run(history: &Path, status: i32) -> Value {
    let h = history.to_str().expect("utf-8 path");
    let common = [
        "check",
        "--report-all",
        "--consistency",
        "linearizable,convergence",
        "--format",
        "json",
    ];
    let single = json(&[&common[..], &[h]].concat(), &[status]);
    assert!(single.get("shard").is_none());
    validates(&single, "the single run's report");
    for n in 1..=3 {
        let mut reports = Vec::new();
        for i in 0..n {
            let shard = format!("{i}/{n}");
            // A shard's own status is that of its keys alone.
            let report = json(&[&common[..], &["--shard", &shard, h]].concat(), &[0, 1, 3]);
            assert_eq!(
                report["files"][0]["shard"],
                serde_json::json!({"index": i, "count": n})
            );
            validates(&report, &format!("shard {shard}'s report"));
            let path = history.with_extension(format!("{i}of{n}.json"));
            std::fs::write(&path, report.to_string()).expect("write shard report");
            reports.push(path.to_str().expect("utf-8").to_string());
        }
        let args: Vec<&str> = ["merge", "--format", "json"]
            .into_iter()
            .chain(reports.iter().map(String::as_str))
            .collect();
        let merged = json(&args, &[status]);
        validates(&merged, &format!("the merge of {n} shards"));
        // Whole, anomalies included: each check's anomaly is that of the
        // shard holding its first failing key (linearizability) or
        // computed again from the merged keys (convergence).
        assert_eq!(
            without_times(merged),
            without_times(single.clone()),
            "{n} shards"
        );
    }
    single
}

#[test]
fn shards_of_a_valid_keyed_history_merge_to_the_single_run() {
    let dir = scratch("valid");
    let h = dir.join("valid.jsonl");
    gen(
        &h,
        &[
            "--model",
            "kv",
            "--keys",
            "25",
            "--ops",
            "1500",
            "--clients",
            "6",
            "--crash-rate",
            "0.02",
            "--seed",
            "11",
        ],
    );
    let single = shards_merge_to_the_single_run(&h, 3);
    let checks = &single["files"][0]["checks"];
    assert_eq!(checks["linearizable"]["valid"], true);
    assert_eq!(
        checks["linearizable"]["evidence"]["partitions"]
            .as_array()
            .map(Vec::len),
        Some(25)
    );
}

#[test]
fn shards_of_a_non_linearizable_history_merge_to_the_single_run() {
    let dir = scratch("stale");
    let h = dir.join("stale.jsonl");
    gen(
        &h,
        &[
            "--model",
            "kv",
            "--keys",
            "20",
            "--ops",
            "1500",
            "--clients",
            "6",
            "--stale-reads",
            "4",
            "--seed",
            "3",
        ],
    );
    let single = shards_merge_to_the_single_run(&h, 1);
    let partitions = &single["files"][0]["checks"]["linearizable"]["evidence"]["partitions"];
    let invalid = partitions
        .as_array()
        .expect("partitions")
        .iter()
        .filter(|p| p["valid"] == false)
        .count();
    assert!(invalid >= 2, "the faults fall on several keys: {invalid}");
    let anomaly = &single["files"][0]["checks"]["linearizable"]["anomaly"];
    assert!(
        anomaly["kind"].is_string(),
        "a failing check names its anomaly"
    );
}

#[test]
fn shards_of_a_divergent_history_merge_to_the_single_run() {
    let dir = scratch("dropped");
    let h = dir.join("dropped.jsonl");
    gen(
        &h,
        &[
            "--mode",
            "replicated",
            "--model",
            "kv",
            "--keys",
            "20",
            "--ops",
            "1500",
            "--dropped-writes",
            "0.05",
            "--seed",
            "4",
        ],
    );
    let single = shards_merge_to_the_single_run(&h, 1);
    let convergence = &single["files"][0]["checks"]["convergence"];
    assert_eq!(convergence["valid"], false);
    assert!(convergence["anomaly"]["kind"].is_string());
}

#[test]
fn sequential_consistency_is_refused_under_a_shard() {
    let dir = scratch("seq");
    let h = dir.join("h.jsonl");
    gen(&h, &["--model", "kv", "--ops", "50", "--seed", "1"]);
    let h = h.to_str().expect("utf-8");
    for consistency in ["sequential", "all", "linearizable,sequential"] {
        let out = labrys(&["check", "--shard", "0/2", "--consistency", consistency, h]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if consistency == "all" {
            // The default set under a shard leaves sequential consistency out.
            assert_ne!(out.status.code(), Some(2), "{stderr}");
            assert!(!String::from_utf8_lossy(&out.stdout).contains("sequential"));
        } else {
            assert_eq!(out.status.code(), Some(2), "{consistency}");
            assert!(stderr.contains("--consistency sequential"), "{stderr}");
        }
    }
}

#[test]
fn a_merge_with_a_missing_shard_or_another_history_is_refused() {
    let dir = scratch("missing");
    let (a, b) = (dir.join("a.jsonl"), dir.join("b.jsonl"));
    gen(
        &a,
        &[
            "--model", "kv", "--keys", "5", "--ops", "100", "--seed", "1",
        ],
    );
    gen(
        &b,
        &[
            "--model", "kv", "--keys", "5", "--ops", "120", "--seed", "2",
        ],
    );
    let shard = |h: &Path, s: &str, out: &str| {
        let r = json(
            &[
                "check",
                "--shard",
                s,
                "--format",
                "json",
                h.to_str().unwrap(),
            ],
            &[0, 1, 3],
        );
        let path = dir.join(out);
        std::fs::write(&path, r.to_string()).unwrap();
        path.to_str().unwrap().to_string()
    };
    let (a0, a1) = (shard(&a, "0/3", "a0.json"), shard(&a, "1/3", "a1.json"));
    let out = labrys(&["merge", &a0, &a1]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected the shards 0/3 1/3 2/3"));
    let b2 = shard(&b, "2/3", "b2.json");
    let out = labrys(&["merge", &a0, &a1, &b2]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"valid\": true,\n \"files\": 7}\n").unwrap();
    let out = labrys(&["merge", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.json:2:"), "{stderr}");
}

#[test]
fn a_shard_with_no_key_is_unknown_never_valid() {
    let dir = scratch("nokey");
    let h = dir.join("h.jsonl");
    gen(
        &h,
        &["--model", "kv", "--keys", "2", "--ops", "60", "--seed", "5"],
    );
    let r = json(
        &[
            "check",
            "--shard",
            "2/3",
            "--format",
            "json",
            h.to_str().unwrap(),
        ],
        &[3],
    );
    assert_eq!(r["valid"], "unknown");
}
