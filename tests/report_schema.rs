//! The JSON report against its published schema, `docs/report.schema.json`:
//! real outputs of every checker and every model, valid, invalid and
//! unknown, in gate and report mode, with unreadable files, must validate.

mod common;
use common::labrys;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const MODELS: [&str; 9] = [
    "register",
    "cas-register",
    "kv",
    "set",
    "fifo-queue",
    "unordered-queue",
    "counter",
    "mutex",
    "multi-register",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn schema() -> Value {
    let text = std::fs::read_to_string(root().join("docs/report.schema.json")).unwrap();
    serde_json::from_str(&text).expect("the schema is JSON")
}

/// Writes a generated history and returns its path.
fn generate(dir: &Path, name: &str, args: &[&str]) -> String {
    let o = labrys(&[&["gen"], args].concat());
    assert!(
        o.status.success(),
        "gen {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let path = dir.join(name);
    std::fs::write(&path, &o.stdout).unwrap();
    path.display().to_string()
}

/// Every key named `verdict`, anywhere: the report spells it `valid`.
fn verdict_keys(v: &Value, at: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "verdict" {
                    out.push(format!("{at}/{k}"));
                }
                verdict_keys(x, &format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                verdict_keys(x, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_schema_is_a_2020_12_schema() {
    let s = schema();
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert!(jsonschema::meta::is_valid(&s));
    assert_eq!(
        s["properties"]["schema_version"]["const"],
        labrys::report::SCHEMA_VERSION
    );
}

#[test]
fn every_kind_of_report_validates_against_the_schema() {
    let validator = jsonschema::draft202012::new(&schema()).expect("the schema compiles");
    let dir = std::env::temp_dir().join(format!("labrys-schema-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir_s = |name: &str| dir.join(name).display().to_string();

    let mut runs: Vec<Vec<String>> = Vec::new();
    let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let histories = root().join("histories").display().to_string();
    runs.push(own(&[&histories]));
    runs.push(own(&["--report-all", &histories]));
    for model in MODELS {
        let common = [
            "--model",
            model,
            "--ops",
            "60",
            "--clients",
            "3",
            "--seed",
            "3",
        ];
        let good = generate(
            &dir,
            &format!("{model}.jsonl"),
            &[&common[..], &["--crash-rate", "0.05"]].concat(),
        );
        let bad = generate(
            &dir,
            &format!("{model}-stale.jsonl"),
            &[&common[..], &["--stale-reads", "1"]].concat(),
        );
        runs.push(own(&["--model", model, &good, &bad]));
        runs.push(own(&["--model", model, "--report-all", &good, &bad]));
    }
    let keyed = generate(
        &dir,
        "replicated.jsonl",
        &[
            "--mode",
            "replicated",
            "--model",
            "kv",
            "--ops",
            "300",
            "--dropped-writes",
            "2",
        ],
    );
    runs.push(own(&["--report-all", "--no-shrink", &keyed]));
    runs.push(own(&["--sessions", "require", &keyed]));
    // Nothing to judge, every checker named: unknown everywhere.
    let nothing = dir_s("nothing.jsonl");
    std::fs::write(
        &nothing,
        "{\"type\":\"invoke\",\"process\":0,\"f\":\"write\",\"value\":1}\n\
         {\"type\":\"fail\",\"process\":0,\"f\":\"write\",\"value\":1}\n",
    )
    .unwrap();
    runs.push(own(&[
        "--model",
        "register",
        "--consistency",
        "linearizable,sequential,convergence",
        &nothing,
    ]));
    runs.push(own(&[&nothing]));
    runs.push(own(&["--allow-empty", &nothing]));
    // Unreadable: bad syntax, a missing file, an ambiguous model.
    let broken = dir_s("broken.edn");
    std::fs::write(&broken, "{:type :invoke, :process 0, :f :read}\n]\n").unwrap();
    let reads = dir_s("reads.jsonl");
    std::fs::write(
        &reads,
        "{\"type\":\"invoke\",\"process\":0,\"f\":\"read\",\"value\":null}\n\
         {\"type\":\"ok\",\"process\":0,\"f\":\"read\",\"value\":0}\n",
    )
    .unwrap();
    runs.push(own(&[&broken, &dir_s("missing.edn"), &reads]));
    // Time running out: a budget too small to finish.
    let big = generate(
        &dir,
        "big.jsonl",
        &["--ops", "20000", "--clients", "16", "--crash-rate", "0.05"],
    );
    runs.push(own(&["--timeout", "0.001", &big]));

    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut models: BTreeSet<String> = BTreeSet::new();
    let mut failures = 0;
    for args in &runs {
        let argv: Vec<&str> = [
            &["check", "--format", "json"][..],
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        ]
        .concat();
        let o = Command::new(env!("CARGO_BIN_EXE_labrys"))
            .args(&argv)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        let report: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{argv:?}: not JSON ({e}): {text}"));
        let errors: Vec<String> = validator
            .iter_errors(&report)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if !errors.is_empty() {
            failures += 1;
            eprintln!("{argv:?} does not validate:\n  {}", errors.join("\n  "));
        }
        let mut verdicts = Vec::new();
        verdict_keys(&report, "", &mut verdicts);
        assert!(verdicts.is_empty(), "{argv:?}: {verdicts:?}");
        for f in report["files"].as_array().unwrap() {
            if let Some(m) = f["model"].as_str() {
                models.insert(m.to_string());
            }
            if f.get("error").is_some() {
                seen.entry("error".into())
                    .or_default()
                    .insert("unknown".into());
            }
            for (name, c) in f["checks"].as_object().into_iter().flatten() {
                seen.entry(name.clone())
                    .or_default()
                    .insert(c["valid"].to_string());
            }
        }
    }
    assert_eq!(failures, 0, "reports that do not validate (above)");
    // The runs cover what they claim to.
    for checker in ["linearizable", "sequential", "convergence"] {
        let got = seen.get(checker).cloned().unwrap_or_default();
        for want in ["true", "false", "\"unknown\""] {
            assert!(got.contains(want), "{checker} never {want}: {got:?}");
        }
    }
    assert!(seen.contains_key("error"));
    let want: BTreeSet<String> = MODELS.iter().map(|m| m.to_string()).collect();
    assert_eq!(models, want);
}
