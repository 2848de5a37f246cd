//! The same history and options give the same report, timings aside, on
//! one thread as on two and while another process loads the machine:
//! every internal budget of the checkers is counted in work, never in
//! time.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A process that keeps one core busy until it is dropped.
struct Load(Child);

impl Load {
    fn start() -> Load {
        let child = Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .stdout(Stdio::null())
            .spawn()
            .expect("start a busy loop");
        Load(child)
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Removes every `elapsed_ms` field, the only ones that may differ.
fn without_timings(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.remove("elapsed_ms");
            map.values_mut().for_each(without_timings);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(without_timings),
        _ => {}
    }
}

/// The JSON report of `labrys check` on `file` with the `extra` options
/// and `threads` threads, timings removed.
fn report(file: &Path, extra: &[&str], threads: &str) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_labrys"))
        .args(["check", "--format", "json"])
        .args(extra)
        .arg(file)
        .env("RAYON_NUM_THREADS", threads)
        .env("NO_COLOR", "1")
        .output()
        .expect("run labrys");
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("a JSON report");
    without_timings(&mut v);
    serde_json::to_string_pretty(&v).expect("serializable")
}

/// Checks `file` on one thread, then two, then one again, with the
/// machine loaded by a busy loop, and asserts the same report each time.
fn same_report_under_load(file: &Path, extra: &[&str]) {
    let quiet = report(file, extra, "1");
    let _load = Load::start();
    for threads in ["2", "1"] {
        let loaded = report(file, extra, threads);
        if loaded != quiet {
            let at = quiet
                .lines()
                .zip(loaded.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            let show = |s: &str| {
                s.lines()
                    .skip(at.saturating_sub(5))
                    .take(12)
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            panic!(
                "{}: the report on {threads} thread(s) under load differs from line {at}:\n{}\n--- versus ---\n{}",
                file.display(),
                show(&quiet),
                show(&loaded)
            );
        }
    }
}

fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labrys-determinism-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// A generated invalid kv history of many keys: every failing key gets
/// its evidence and minimal counterexample within budgets of work.
#[test]
fn evidence_of_a_generated_kv_history_does_not_depend_on_threads_or_load() {
    let g = Command::new(env!("CARGO_BIN_EXE_labrys"))
        .args(["gen", "--model", "kv", "--keys", "8", "--clients", "24"])
        .args(["--ops", "6000", "--values", "3", "--crash-rate", "0.02"])
        .args(["--stale-reads", "12", "--seed", "5"])
        .output()
        .expect("run labrys gen");
    assert_eq!(g.status.code(), Some(0));
    let path = temp_file("kv.jsonl", &g.stdout);
    same_report_under_load(
        &path,
        &["--report-all", "--consistency", "linearizable,sequential"],
    );
}

/// The 50-client invalid MIT 6.824 trace of the reference corpus, when
/// `LABRYS_CORPUS` names it: its failing keys' first failures and minimal
/// counterexamples used to depend on the machine's load.
#[test]
fn evidence_of_the_corpus_kv_trace_does_not_depend_on_threads_or_load() {
    let Some(corpus) = std::env::var_os("LABRYS_CORPUS") else {
        eprintln!("skipped: LABRYS_CORPUS not set, the corpus kv trace not checked");
        return;
    };
    let file = Path::new(&corpus).join("kv/c50-bad.txt");
    same_report_under_load(
        &file,
        &[
            "--report-all",
            "--consistency",
            "linearizable",
            "--initial",
            "\"\"",
        ],
    );
}

/// Sequential consistency in gate mode (no `--report-all`) stops at a
/// failing key, checking keys in parallel: the key it reports is the
/// first failing one in key order, on one thread as on two. Every key of
/// this history fails on its own (each process reads the other's write
/// but not its own: store buffering on one key).
#[test]
fn the_failing_key_of_sequential_gate_mode_does_not_depend_on_threads() {
    let mut edn = String::new();
    let mut index = 0;
    for k in 0..12 {
        let (a, b) = (2 * k, 2 * k + 1);
        for (p, f, v) in [
            (a, "write", 1),
            (a, "ok-write", 1),
            (b, "write", 2),
            (b, "ok-write", 2),
            (a, "read", 2),
            (b, "read", 1),
        ] {
            let (ty, f) = match f.strip_prefix("ok-") {
                Some(f) => ("ok", f),
                None => ("invoke", f),
            };
            edn.push_str(&format!(
                "{{:index {index}, :type :{ty}, :process {p}, :f :{f}, :key \"x{k}\", :value {}}}\n",
                if ty == "invoke" && f == "read" { "nil".to_string() } else { v.to_string() }
            ));
            index += 1;
            if f == "read" {
                edn.push_str(&format!(
                    "{{:index {index}, :type :ok, :process {p}, :f :read, :key \"x{k}\", :value {v}}}\n"
                ));
                index += 1;
            }
        }
    }
    let path = temp_file("sb-keys.edn", edn.as_bytes());
    let extra = ["--consistency", "sequential", "--model", "kv"];
    same_report_under_load(&path, &extra);
    let v: serde_json::Value = serde_json::from_str(&report(&path, &extra, "2")).unwrap();
    let seq = &v["files"][0]["checks"]["sequential"];
    assert_eq!(seq["evidence"]["decision"]["key"], "x0", "{seq}");
}
