//! The command line as users and CI scripts see it: exit statuses, JSON
//! output, error messages, and `stats` over the reference corpus.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn labrys(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_labrys"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run labrys")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn histories() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("histories")
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labrys-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn stats_counts_a_history() {
    let file = histories().join("register/sequential-not-linearizable.edn");
    let o = labrys(&["stats", "--format", "json", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let s = &v[0];
    assert_eq!(s["events"], 12);
    assert_eq!(s["client"]["invoke"], 6);
    assert_eq!(s["by_f"]["read"]["ok"], 4);
    assert_eq!(s["processes"], 4);
    assert_eq!(s["time"]["span_ns"], 71);

    let o = labrys(&["stats", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(text.contains("6 invocations"), "{text}");
    assert!(text.contains("processes   4"), "{text}");
}

#[test]
fn malformed_input_names_file_line_and_column_and_exits_2() {
    let path = temp_file(
        "bad.edn",
        "{:type :invoke, :process 0, :f :read, :value nil}\n{:type :ok, :process 0, :f :read, :value [1 2}\n",
    );
    let o = labrys(&["stats", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("bad.edn:2:"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn unknown_op_type_is_an_input_error() {
    let path = temp_file(
        "badtype.jsonl",
        "{\"type\":\"invoke\",\"process\":0,\"f\":\"read\",\"value\":null}\n{\"type\":\"done\",\"process\":0,\"f\":\"read\",\"value\":1}\n",
    );
    let o = labrys(&["stats", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("badtype.jsonl:2"), "{err}");
    assert!(err.contains("unknown op type"), "{err}");
}

#[test]
fn completion_without_invocation_is_an_input_error() {
    let path = temp_file(
        "orphan.edn",
        "{:type :invoke, :process 0, :f :read, :value nil}\n{:type :ok, :process 1, :f :read, :value 1}\n",
    );
    let o = labrys(&["stats", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("orphan.edn:2"), "{err}");
    assert!(err.contains("no pending invocation"), "{err}");
}

#[test]
fn missing_file_and_bad_usage_exit_2() {
    let o = labrys(&["stats", "/nonexistent/history.edn"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/history.edn"));
    let o = labrys(&["check", "--consistency", "bogus", "x.edn"]);
    assert_eq!(o.status.code(), Some(2));
    let o = labrys(&["check", "--model", "bogus", "x.edn"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cas-register"), "{}", stderr(&o));
}

#[test]
fn directory_argument_finds_histories_in_stable_order() {
    let o = labrys(&[
        "stats",
        "--format",
        "json",
        histories().join("register").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let paths: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert!(paths.len() >= 5, "{paths:?}");
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
}

/// `stats` over the whole reference corpus, when `LABRYS_CORPUS` names it.
#[test]
fn stats_over_the_corpus() {
    let Some(corpus) = std::env::var_os("LABRYS_CORPUS") else {
        eprintln!("skipped: LABRYS_CORPUS not set, corpus stats not checked");
        return;
    };
    let corpus = PathBuf::from(corpus);
    let o = labrys(&[
        "stats",
        "--format",
        "json",
        corpus.join("etcd").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let files = v.as_array().unwrap();
    assert_eq!(files.len(), 103);
    let non_empty = files
        .iter()
        .filter(|f| f["events"].as_u64() > Some(0))
        .count();
    assert_eq!(non_empty, 102);
    let invocations: u64 = files
        .iter()
        .map(|f| f["client"]["invoke"].as_u64().unwrap())
        .sum();
    assert_eq!(invocations, 8523);

    let o = labrys(&[
        "stats",
        "--format",
        "json",
        corpus.join("kv").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let files = v.as_array().unwrap();
    assert_eq!(files.len(), 6);
    for f in files {
        assert!(f["keys"].as_u64().unwrap() > 0, "{f}");
        assert_eq!(f["crashed"], 0, "{f}");
        assert_eq!(f["client"]["invoke"], f["client"]["ok"], "{f}");
    }
}

#[test]
fn an_empty_history_is_trivially_linearizable() {
    let path = temp_file("empty.edn", "");
    let o = labrys(&[
        "check",
        "--consistency",
        "linearizable,sequential",
        "--format",
        "json",
        path.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["files"][0]["operations"], 0);
}

#[test]
fn check_reports_verdicts_in_json_and_exit_status() {
    let file = histories().join("register/stale-read.json");
    let o = labrys(&["check", "--format", "json", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["valid"], false);
    let f = &v["files"][0];
    assert_eq!(f["model"], "register");
    assert_eq!(f["checks"]["linearizable"]["valid"], false);
    assert_eq!(f["checks"]["sequential"]["valid"], true);
    let lin = &f["checks"]["linearizable"]["evidence"]["partitions"][0]["evidence"];
    assert_eq!(lin["op"]["op"], "read 1");
    assert_eq!(lin["op"]["process"], 1);

    let o = labrys(&["check", file.to_str().unwrap()]);
    let text = stdout(&o);
    assert!(text.contains("INVALID"), "{text}");
    assert!(text.contains("can't read 1: register holds 2"), "{text}");
    assert!(
        !text.contains("\x1b["),
        "no colour codes with NO_COLOR or off a terminal"
    );

    let valid = histories().join("register/concurrent-read.edn");
    let o = labrys(&["check", valid.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn a_zero_timeout_is_a_usage_error() {
    // A search cancelled before it starts could decide nothing.
    let file = histories().join("register/concurrent-read.edn");
    let o = labrys(&["check", "--timeout", "0", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "a zero timeout is a usage error");
    assert!(stderr(&o).contains("--timeout"), "{}", stderr(&o));
}

#[test]
fn gen_is_deterministic_and_checkable() {
    let a = labrys(&["gen", "--ops", "200", "--clients", "4", "--seed", "9"]);
    let b = labrys(&["gen", "--ops", "200", "--clients", "4", "--seed", "9"]);
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    assert_eq!(a.stdout, b.stdout);
    let path = temp_file("gen.jsonl", &stdout(&a));
    let o = labrys(&[
        "check",
        "--consistency",
        "linearizable,sequential",
        path.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn gen_writes_the_sc_witness_only_where_the_construction_proves_one() {
    let path = temp_file("witness.json", "");
    let w = path.to_str().unwrap();
    let args = [
        "gen",
        "--mode",
        "sc",
        "--model",
        "kv",
        "--ops",
        "300",
        "--clients",
        "6",
    ];
    let a = labrys(&[&args[..], &["--witness", w]].concat());
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    // The history is the one written without the witness.
    assert_eq!(a.stdout, labrys(&args).stdout);
    let order: Vec<u64> = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // Each entry is the index of an invoke event, once.
    let invokes: std::collections::HashSet<u64> = stdout(&a)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "invoke")
        .map(|v| v["index"].as_u64().unwrap())
        .collect();
    let distinct: std::collections::HashSet<u64> = order.iter().copied().collect();
    assert_eq!(distinct.len(), order.len());
    assert!(order.len() > 200 && order.iter().all(|i| invokes.contains(i)));
    for bad in [
        &["gen", "--witness", w][..],
        &[
            "gen",
            "--mode",
            "sc",
            "--read-behind-own-write",
            "1",
            "--witness",
            w,
        ][..],
    ] {
        let o = labrys(bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        assert!(stderr(&o).contains("--witness"), "{}", stderr(&o));
    }
}

/// Runs `check --consistency convergence --format json` with `args` and
/// returns the exit status and the convergence section.
fn convergence(args: &[&str], file: &str) -> (Option<i32>, serde_json::Value) {
    let path = histories().join(file);
    let mut all = vec!["check", "--consistency", "convergence", "--format", "json"];
    all.extend_from_slice(args);
    all.push(path.to_str().unwrap());
    let o = labrys(&all);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON report");
    (
        o.status.code(),
        v["files"][0]["checks"]["convergence"].clone(),
    )
}

#[test]
fn convergence_options_choose_final_reads_replicas_and_sessions() {
    let (code, c) = convergence(
        &["--final-reads", "after-heal"],
        "register/diverged-after-heal.edn",
    );
    assert_eq!(code, Some(1));
    assert_eq!(c["evidence"]["final_reads"]["rule"], "after-heal");
    assert!(c["summary"].as_str().unwrap().contains("diverged"), "{c}");

    // No read is marked final: unknown with the reason, never valid.
    let (code, c) = convergence(
        &["--final-reads", "marked"],
        "register/diverged-after-heal.edn",
    );
    assert_eq!(code, Some(3));
    assert_eq!(c["valid"], "unknown");
    assert!(
        c["summary"].as_str().unwrap().contains("marked final"),
        "{c}"
    );

    let (_, c) = convergence(&["--nodes", "2"], "register/lost-write.jsonl");
    assert_eq!(
        c["evidence"]["final_reads"]["replicas_from"],
        "node, else process mod 2"
    );

    // Session guarantees count in the verdict only when required.
    let (code, _) = convergence(&[], "set/monotonic-reads-violation.edn");
    assert_eq!(code, Some(0));
    let (code, c) = convergence(
        &["--sessions", "require"],
        "set/monotonic-reads-violation.edn",
    );
    assert_eq!(code, Some(1));
    assert_eq!(c["valid"], false);
}

/// Ctrl-C during a long search prints the report of what is known, with
/// the search's verdict unknown, and exits 3: it does not kill the run.
#[cfg(unix)]
#[test]
fn ctrl_c_prints_what_is_known_and_exits_unknown() {
    interrupted_run_reports("INT", "ctrl-c.jsonl");
}

/// SIGTERM (what `timeout` and CI runners send) gets what Ctrl-C gets:
/// the report of what is known, exit 3.
#[cfg(unix)]
#[test]
fn sigterm_prints_what_is_known_and_exits_unknown() {
    interrupted_run_reports("TERM", "sigterm.jsonl");
}

/// Sends `signal` to a long linearizability search and checks that the
/// JSON report of what is known comes out, with exit status 3.
#[cfg(unix)]
fn interrupted_run_reports(signal: &str, file: &str) {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    // 64 clients: a search of minutes (24 million configurations at
    // 100,000 ops), far from done when interrupted.
    let g = labrys(&[
        "gen",
        "--model",
        "cas-register",
        "--clients",
        "64",
        "--ops",
        "100000",
        "--seed",
        "1",
    ]);
    assert_eq!(g.status.code(), Some(0), "{}", stderr(&g));
    let path = temp_file(file, &stdout(&g));
    let child = Command::new(env!("CARGO_BIN_EXE_labrys"))
        .args(["check", "--consistency", "linearizable", "--format", "json"])
        .arg(&path)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run labrys");
    std::thread::sleep(Duration::from_millis(1500));
    let sent = Instant::now();
    let kill = Command::new("sh")
        .args(["-c", &format!("kill -{signal} {}", child.id())])
        .status()
        .expect("run sh");
    assert!(kill.success());
    let o = child.wait_with_output().expect("wait for labrys");
    assert!(
        sent.elapsed() < Duration::from_secs(20),
        "the run ended {:?} after SIG{signal}",
        sent.elapsed()
    );
    assert_eq!(o.status.code(), Some(3), "{}\n{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("interrupted"), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("a JSON report");
    let lin = &v["files"][0]["checks"]["linearizable"];
    assert_eq!(lin["valid"], "unknown", "{lin}");
    assert_eq!(lin["evidence"]["operations"], 100000, "{lin}");
}
