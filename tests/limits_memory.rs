//! The memory budget: searches past it end unknown with the reason, a
//! file too large to load within it is an input error, and under a real
//! address-space limit (`ulimit -v`) a run ends with a report, never an
//! abort.

mod common;
use common::labrys;

use labrys::check::run::{self, Plan};
use labrys::check::{CheckOptions, Consistency, Verdict};
use labrys::history::{History, LoadOptions};
use labrys::memory::Budget;
use labrys::model::{ModelKind, ModelOptions};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const BIN: &str = env!("CARGO_BIN_EXE_labrys");

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A cas-register history of 20,000 ops by 32 clients with 5% crashed
/// ops (3.2 MiB of JSON Lines), written once: loading it takes about 15
/// MiB, deciding its sequential consistency about 85 MiB.
fn history() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("labrys-memory-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cas-20000.jsonl");
        let o = labrys(&[
            "gen",
            "--model",
            "cas-register",
            "--ops",
            "20000",
            "--clients",
            "32",
            "--seed",
            "1",
            "--crash-rate",
            "0.05",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        std::fs::write(&path, &o.stdout).unwrap();
        path
    })
}

/// A probe that always reads more than any budget.
fn everything() -> usize {
    usize::MAX
}

#[test]
fn every_search_past_the_budget_ends_unknown_with_the_reason() {
    let h = History::load(history(), &LoadOptions::default()).unwrap();
    let plan = Plan {
        model: ModelKind::CasRegister,
        model_options: ModelOptions::default(),
        checks: vec![Consistency::Linearizable, Consistency::Sequential],
        options: CheckOptions {
            memory: Some(Budget::new(64 << 20, everything)),
            ..CheckOptions::default()
        },
        convergence: Default::default(),
    };
    let r = run::run(&h, &plan).unwrap();
    let lin = r.linearizable.unwrap().report;
    assert_eq!(lin.valid, Verdict::Unknown);
    assert_eq!(
        lin.undecided.as_deref(),
        Some("memory budget of 64 MiB exceeded")
    );
    let seq = r.sequential.unwrap().report;
    assert_eq!(seq.valid, Verdict::Unknown);
    let json = serde_json::to_value(&seq).unwrap();
    assert_eq!(
        json["decision"]["reason"], "memory budget of 64 MiB exceeded",
        "{json}"
    );
}

#[test]
fn a_search_that_needs_more_than_max_memory_is_unknown() {
    let file = history().to_str().unwrap();
    let o = labrys(&[
        "check",
        "--consistency",
        "sequential",
        "--max-memory",
        "40M",
        "--format",
        "json",
        file,
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let seq = &v["files"][0]["checks"]["sequential"];
    assert_eq!(seq["valid"], "unknown", "{seq}");
    assert_eq!(
        seq["summary"],
        "undecided: memory budget of 40 MiB exceeded"
    );
}

#[test]
fn a_file_too_large_for_the_budget_is_an_input_error_before_it_is_read() {
    let file = history().to_str().unwrap();
    let o = labrys(&["check", "--max-memory", "2M", file]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains(file) && err.contains("memory budget of 2 MiB") && err.contains("3.2 MiB"),
        "{err}"
    );
    // The report lists the file as not checked, like any input error.
    let out = text(&o.stdout);
    assert!(out.contains(file) && out.contains("not checked"), "{out}");
    let o = labrys(&["check", "--max-memory", "lots", file]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("expected a size such as 512M"));
}

/// Runs `labrys ARGS FILE` under `ulimit -v KIB`; asserts no allocation
/// failed (an abort), and returns the output, stdout and stderr.
fn under_ulimit(kib: u32, args: &str, file: &Path) -> (std::process::Output, String, String) {
    let script = format!(
        "ulimit -v {kib} && exec '{BIN}' {args} '{}'",
        file.display()
    );
    let o = Command::new("sh")
        .args(["-c", &script])
        .env("NO_COLOR", "1")
        .output()
        .expect("run sh");
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert!(!err.contains("memory allocation"), "{err}");
    (o, out, err)
}

/// Under `ulimit -v` (100,000 KiB: the binary maps about 30 MiB before
/// it reads anything, and the default budget is half of what is left,
/// about 40 MiB), the sequential search, which needs about 85 MiB, ends
/// unknown at the default budget instead of being aborted by a failed
/// allocation (exit 134).
#[test]
fn under_an_address_space_limit_the_run_ends_with_a_report() {
    let (o, out, err) = under_ulimit(100_000, "check --consistency sequential", history());
    assert_eq!(o.status.code(), Some(3), "{out}{err}");
    assert!(
        out.contains("undecided: memory budget of") && out.contains("MiB exceeded"),
        "{out}"
    );
}

/// A register history of one write whose value is a vector of `n`
/// one-digit numbers (2 bytes each in the file, 32 once read), as JSON
/// Lines, or EDN when `edn`.
fn long_value(n: usize, edn: bool) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labrys-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("long-{n}.{}", if edn { "edn" } else { "jsonl" }));
    let items = vec!["7"; n];
    let text = if edn {
        let v = items.join(" ");
        format!(
            "{{:type :invoke, :process 0, :f :write, :value [{v}]}}\n\
             {{:type :ok, :process 0, :f :write, :value [{v}]}}\n"
        )
    } else {
        let v = items.join(",");
        format!(
            "{{\"type\":\"invoke\",\"process\":0,\"f\":\"write\",\"value\":[{v}]}}\n\
             {{\"type\":\"ok\",\"process\":0,\"f\":\"write\",\"value\":[{v}]}}\n"
        )
    };
    std::fs::write(&path, text).unwrap();
    path
}

/// A value whose copies (the value read, and the checkers' compiled
/// copies) cannot fit is refused while it is read, with its position:
/// the file is small enough for the check made before reading, so this
/// used to pass the budget once the models copied the value.
#[test]
fn a_value_too_long_for_the_budget_is_an_input_error_while_it_is_read() {
    for edn in [false, true] {
        let path = long_value(2_000_000, edn);
        let file = path.to_str().unwrap();
        for command in ["check", "stats"] {
            let o = labrys(&[command, "--max-memory", "128M", file]);
            let err = text(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{command} {file}: {err}");
            assert!(
                err.contains(&format!("{file}:1:"))
                    && err.contains("a collection of more than")
                    && err.contains("memory budget of 128 MiB"),
                "{command}: {err}"
            );
        }
        // With room for it, the same file is read and checked.
        let o = labrys(&[
            "check",
            "--max-memory",
            "1G",
            "--consistency",
            "linearizable",
            file,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    }
}

/// `labrys stats` keeps the budget too: a file too large for it is an
/// input error before it is read.
#[test]
fn stats_refuses_a_file_too_large_for_the_budget() {
    let file = history().to_str().unwrap();
    let o = labrys(&["stats", "--max-memory", "2M", file]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains(file) && err.contains("memory budget of 2 MiB"),
        "{err}"
    );
    let o = labrys(&["stats", "--max-memory", "64M", file]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

/// Under a real address-space limit (`ulimit -v` of 200,000 KiB: a
/// default budget of about 90 MiB), a value of 2 million elements (a
/// 7.6 MiB file, which the check before reading lets through) is refused
/// while it is read, where the models' copies of it used to take the
/// run past the limit.
#[test]
fn under_an_address_space_limit_a_long_value_is_refused_not_aborted() {
    let path = long_value(2_000_000, false);
    let (o, out, err) = under_ulimit(200_000, "check", &path);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(err.contains("a collection of more than"), "{err}");
}
