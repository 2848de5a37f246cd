//! `--timeout` bounds a whole run of `labrys check`, reading included, on
//! a large generated history; sequential consistency in report mode stops
//! once a key refutes the history.
//!
//! The bound checked here is the README's slack plus 2 s, since the
//! machines tests run on are often loaded.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The slack the README states for `--timeout`, in seconds.
const SLACK: f64 = 1.5;

/// The margin for a loaded test machine, in seconds.
const MARGIN: f64 = 2.0;

fn labrys(args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_labrys"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run labrys");
    (out, start.elapsed())
}

/// A million-op cas-register history of 64 clients with 5% crashed ops:
/// neither search decides it in a few seconds, and each step of the
/// sequential search costs about a millisecond.
fn large() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| generated("cas-register", 1_000_000))
}

/// Checks `file` with `--timeout timeout` and the other `args`; asserts
/// the run ended within the timeout plus the slack, unknown (exit 3), and
/// returns the JSON report.
fn bounded(file: &Path, timeout: f64, args: &[&str]) -> serde_json::Value {
    let t = timeout.to_string();
    let mut all = vec!["check", "--format", "json", "--timeout", &t];
    all.extend_from_slice(args);
    all.push(file.to_str().unwrap());
    let (o, took) = labrys(&all);
    let bound = timeout + SLACK + MARGIN;
    assert!(
        took.as_secs_f64() <= bound,
        "{args:?}: {:.2} s, more than {bound} s",
        took.as_secs_f64()
    );
    assert_eq!(o.status.code(), Some(3), "{args:?}: unknown");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["valid"], "unknown", "{v}");
    v
}

/// A check cut while it ran reports the time it ran, not zero. (On a
/// loaded machine, reading may take most of the timeout: then the check
/// never started, and says so.)
fn ran_for_a_while(s: &serde_json::Value) {
    let summary = s["summary"].as_str().unwrap();
    if !summary.contains("time ran out while") {
        assert!(s["elapsed_ms"].as_f64().unwrap() > 0.0, "{s}");
    }
}

#[test]
fn a_timeout_bounds_the_sequential_check_of_a_million_ops() {
    let v = bounded(large(), 5.0, &["--consistency", "sequential"]);
    let s = &v["files"][0]["checks"]["sequential"];
    assert_eq!(s["valid"], "unknown", "{s}");
    ran_for_a_while(s);
}

#[test]
fn a_timeout_bounds_the_linearizability_check_of_a_million_ops() {
    let v = bounded(large(), 5.0, &["--consistency", "linearizable"]);
    let s = &v["files"][0]["checks"]["linearizable"];
    assert_eq!(s["valid"], "unknown", "{s}");
    ran_for_a_while(s);
}

#[test]
fn a_timeout_shorter_than_reading_says_unknown_without_waiting() {
    let v = bounded(large(), 0.2, &[]);
    let f = &v["files"][0];
    assert_eq!(f["valid"], "unknown", "{f}");
    let checks = f["checks"].as_object().unwrap();
    assert!(!checks.is_empty(), "{f}");
    for (name, c) in checks {
        assert_eq!(c["valid"], "unknown", "{name}: {c}");
        let summary = c["summary"].as_str().unwrap();
        assert!(summary.contains("time ran out while reading"), "{summary}");
    }
}

/// The 50-client invalid kv trace of the reference corpus: a few keys
/// refute it at once, others take the sequential search minutes. Report
/// mode gives every key the same budgets, round by round, and stops
/// after the round in which one failed.
#[test]
fn sequential_report_mode_stops_once_a_key_refutes_the_history() {
    let Some(root) = std::env::var_os("LABRYS_CORPUS") else {
        eprintln!("skipped: LABRYS_CORPUS is not set");
        return;
    };
    let file = Path::new(&root).join("kv/c50-bad.txt");
    let args = [
        "check",
        "--format",
        "json",
        "--consistency",
        "sequential",
        "--initial",
        "\"\"",
        "--report-all",
        // A guard for the test's own run time: not reached when the
        // search stops by itself.
        "--timeout",
        "60",
        file.to_str().unwrap(),
    ];
    let runs: Vec<serde_json::Value> = (0..2)
        .map(|_| {
            let (o, took) = labrys(&args);
            assert!(took.as_secs_f64() < 20.0, "{:.1} s", took.as_secs_f64());
            assert_eq!(o.status.code(), Some(1), "invalid");
            serde_json::from_slice(&o.stdout).unwrap()
        })
        .collect();
    let keys =
        |v: &serde_json::Value| v["files"][0]["checks"]["sequential"]["evidence"]["keys"].clone();
    let k = keys(&runs[0]);
    let verdicts: Vec<&serde_json::Value> =
        k.as_array().unwrap().iter().map(|k| &k["valid"]).collect();
    assert!(verdicts.iter().any(|v| **v == false), "{k}");
    assert_eq!(k, keys(&runs[1]), "the same keys decided in both runs");
}

/// A generated history of `ops` ops of `model` by 64 clients with 5%
/// crashed ops, written once per model.
fn generated(model: &str, ops: u32) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labrys-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{model}-{ops}.jsonl"));
    if !path.exists() {
        let n = ops.to_string();
        let (o, _) = labrys(&[
            "gen",
            "--model",
            model,
            "--ops",
            &n,
            "--clients",
            "64",
            "--seed",
            "1",
            "--crash-rate",
            "0.05",
        ]);
        assert_eq!(o.status.code(), Some(0));
        std::fs::write(&path, &o.stdout).unwrap();
    }
    path
}

/// Every checker returns within the timeout plus the slack whatever it
/// was doing at the deadline: reading, inferring the model, compiling
/// the history, searching or analysing. Run alone, each checker of each
/// of these models meets a deadline of one second on a history of
/// 300,000 ops; what it did not finish is unknown, never invalid.
#[test]
fn every_checker_of_every_model_returns_within_the_timeout_and_the_slack() {
    let runs = [
        ("cas-register", "linearizable"),
        ("kv", "sequential"),
        ("set", "convergence"),
        ("fifo-queue", "linearizable,sequential,convergence"),
        ("mutex", "sequential"),
    ];
    for (model, checks) in runs {
        let file = generated(model, 300_000);
        let args = [
            "check",
            "--model",
            model,
            "--format",
            "json",
            "--timeout",
            "1",
            "--consistency",
            checks,
        ];
        let mut all = args.to_vec();
        all.push(file.to_str().unwrap());
        let (o, took) = labrys(&all);
        let bound = 1.0 + SLACK + MARGIN;
        assert!(
            took.as_secs_f64() <= bound,
            "{model} {checks}: {:.2} s, more than {bound} s",
            took.as_secs_f64()
        );
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(
            matches!(o.status.code(), Some(0 | 3)),
            "{model} {checks}: {v}"
        );
        for (name, c) in v["files"][0]["checks"].as_object().unwrap() {
            assert_ne!(c["valid"], "invalid", "{model} {name}: {c}");
            if c["valid"] == "unknown" {
                let summary = c["summary"].as_str().unwrap();
                assert!(!summary.is_empty(), "{model} {name}: an unknown says why");
            }
        }
    }
}

/// A library caller's cancel flag (what Ctrl-C sets) stops every checker
/// soon, whatever it was doing: the run returns, not only the command
/// line, which stops waiting on its own. The sequential search of a
/// keyed history meets cheap and costly steps in turns, which once left
/// it seconds between two looks at the flag.
#[test]
fn a_cancelled_library_check_returns_soon() {
    use labrys::check::convergence::ConvergenceOptions;
    use labrys::check::run::{run, Plan};
    use labrys::check::{CheckOptions, Consistency, Verdict};
    use labrys::history::{History, LoadOptions};
    use labrys::model::{ModelKind, ModelOptions};
    use std::sync::atomic::Ordering;

    let (o, _) = labrys(&[
        "gen",
        "--model",
        "kv",
        "--keys",
        "2000",
        "--ops",
        "200000",
        "--clients",
        "10",
        "--crash-rate",
        "0.01",
        "--seed",
        "3",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let history = History::parse_bytes(&o.stdout, &LoadOptions::default()).unwrap();
    let plan = Plan {
        model: ModelKind::Kv,
        model_options: ModelOptions::default(),
        checks: vec![Consistency::Sequential],
        options: CheckOptions::default(),
        convergence: ConvergenceOptions::default(),
    };
    let cancel = plan.options.cancel.clone();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        cancel.store(true, Ordering::Relaxed);
        Instant::now()
    });
    let results = run(&history, &plan).unwrap();
    let returned = Instant::now();
    let cancelled = stopper.join().unwrap();
    let late = returned.saturating_duration_since(cancelled).as_secs_f64();
    assert!(
        late <= SLACK + MARGIN,
        "returned {late:.2} s after the cancel"
    );
    let seq = results.sequential.expect("sequential ran");
    assert_ne!(
        seq.report.valid,
        Verdict::Valid,
        "a cancelled check is not valid"
    );
}
