//! The command line as users and CI scripts see it: exit statuses, JSON
//! output, error messages, and `stats` over the reference corpus.

mod common;
use common::labrys;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// `labrys check --format json` with `args`: the exit status and the report.
fn check_json(args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let o = labrys(&[&["check", "--format", "json"][..], args].concat());
    let v = serde_json::from_str(&stdout(&o))
        .unwrap_or_else(|e| panic!("no JSON report ({e}); stderr: {}", stderr(&o)));
    (o.status.code(), v)
}

const FAILED_WRITE: &str = "{\"type\":\"invoke\",\"process\":0,\"f\":\"write\",\"value\":1}\n\
                            {\"type\":\"fail\",\"process\":0,\"f\":\"write\",\"value\":1}\n";
const CRASHED_WRITES: &str = "{\"type\":\"invoke\",\"process\":0,\"f\":\"write\",\"value\":1}\n\
                              {\"type\":\"info\",\"process\":0,\"f\":\"write\",\"value\":1}\n\
                              {\"type\":\"invoke\",\"process\":1,\"f\":\"write\",\"value\":2}\n";

#[test]
fn a_history_with_nothing_to_judge_is_unknown_unless_allowed() {
    let empty = temp_file("empty.edn", "");
    let failed = temp_file("failed.jsonl", FAILED_WRITE);
    let crashed = temp_file("crashed.jsonl", CRASHED_WRITES);
    for path in [&empty, &failed, &crashed] {
        let file = path.to_str().unwrap();
        let (code, v) = check_json(&[file]);
        assert_eq!(code, Some(3), "{file}: {v}");
        assert_eq!(v["valid"], "unknown", "{file}");
        let f = &v["files"][0];
        assert_eq!(f["valid"], "unknown", "{file}");
        for c in ["linearizable", "sequential", "convergence"] {
            assert_eq!(f["checks"][c]["judged"], false, "{file} {c}: {f}");
            assert_eq!(f["checks"][c]["counts"], false, "{file} {c}");
            let summary = f["checks"][c]["summary"].as_str().unwrap();
            assert!(summary.starts_with("not judged: "), "{file}: {summary}");
        }
        // Named, each checker with nothing to judge is unknown.
        let (code, v) = check_json(&["--consistency", "linearizable,sequential", file]);
        assert_eq!(code, Some(3), "{file}");
        let lin = &v["files"][0]["checks"]["linearizable"];
        assert_eq!(
            (&lin["valid"], &lin["counts"]),
            (&"unknown".into(), &true.into())
        );
        assert!(lin["summary"]
            .as_str()
            .unwrap()
            .starts_with("nothing to judge: "));
        // The vacuous verdict only when asked for.
        for args in [
            &["--allow-empty", file][..],
            &["--allow-empty", "--consistency", "linearizable", file],
        ] {
            let (code, v) = check_json(args);
            assert_eq!(code, Some(0), "{args:?}: {v}");
            assert_eq!(v["valid"], true, "{args:?}");
        }
    }
    // An empty history has no model to infer, and none is made up.
    let (_, v) = check_json(&[empty.to_str().unwrap()]);
    assert_eq!(v["files"][0]["model"], serde_json::Value::Null);
    assert_eq!(v["files"][0]["model_source"], "none");
    let reason = &v["files"][0]["checks"]["linearizable"]["summary"];
    assert_eq!(reason, "not judged: the history has no client operations");
    let (_, v) = check_json(&[failed.to_str().unwrap()]);
    let reason = &v["files"][0]["checks"]["sequential"]["summary"];
    assert_eq!(
        reason,
        "not judged: no client operation completed ok (1 failed, 0 crashed or never completed)"
    );
    let o = labrys(&["check", crashed.to_str().unwrap()]);
    let text = stdout(&o);
    assert!(text.contains("linearizable  NOT JUDGED"), "{text}");
    assert!(
        text.contains("(0 failed, 2 crashed or never completed)"),
        "{text}"
    );
}

#[test]
fn an_empty_mutex_history_exits_unknown() {
    let empty = temp_file("empty-mutex.edn", "");
    let (code, v) = check_json(&["--model", "mutex", empty.to_str().unwrap()]);
    assert_eq!(code, Some(3), "{v}");
    let f = &v["files"][0];
    assert_eq!(
        (&f["model"], &f["model_source"]),
        (&"mutex".into(), &"given".into())
    );
    assert_eq!(f["checks"]["linearizable"]["judged"], false);
    // Convergence has no analysis for a mutex: not judged.
    assert_eq!(f["checks"]["convergence"]["counts"], false, "{f}");
    let (code, _) = check_json(&["--model", "mutex", "--allow-empty", empty.to_str().unwrap()]);
    assert_eq!(code, Some(0));
}

#[test]
fn convergence_without_final_reads_is_not_judged_unless_named() {
    let file = histories().join("generated/cas-register-linearizable.jsonl");
    let file = file.to_str().unwrap();
    let (code, v) = check_json(&[file]);
    assert_eq!(code, Some(0), "a good history passes a plain run: {v}");
    let f = &v["files"][0];
    assert_eq!(f["valid"], true);
    assert_eq!(f["checks"]["linearizable"]["judged"], true);
    let conv = &f["checks"]["convergence"];
    assert_eq!(
        (&conv["judged"], &conv["counts"]),
        (&false.into(), &false.into())
    );
    assert_eq!(conv["valid"], "unknown");
    assert!(
        conv["summary"]
            .as_str()
            .unwrap()
            .starts_with("not judged: no ok read began after the last update"),
        "{conv}"
    );
    let o = labrys(&["check", file]);
    assert!(
        stdout(&o).contains("convergence   NOT JUDGED"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("(cas-register model, inferred; 60 operations)"),
        "{}",
        stdout(&o)
    );
    // Named, it is unknown.
    let (code, v) = check_json(&["--consistency", "convergence", file]);
    assert_eq!(code, Some(3), "{v}");
    assert_eq!(v["files"][0]["checks"]["convergence"]["counts"], true);
}

#[test]
fn a_history_of_reads_alone_asks_for_the_model() {
    let path = temp_file(
        "reads.jsonl",
        "{\"type\":\"invoke\",\"process\":0,\"f\":\"read\",\"value\":null}\n\
         {\"type\":\"ok\",\"process\":0,\"f\":\"read\",\"value\":0}\n",
    );
    let file = path.to_str().unwrap();
    let o = labrys(&["check", file]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains("candidates: register, cas-register, kv, set, counter"),
        "{err}"
    );
    assert!(err.contains("--model"), "{err}");
    // Each model judges the read of 0 its own way, and says it was given.
    let (code, v) = check_json(&["--model", "counter", file]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["files"][0]["model_source"], "given");
    let (code, _) = check_json(&["--model", "register", file]);
    assert_eq!(code, Some(1));
    // A model the names decide is inferred, and says so.
    let stale = histories().join("register/stale-read.json");
    let (_, v) = check_json(&[stale.to_str().unwrap()]);
    assert_eq!(v["files"][0]["model"], "register");
    assert_eq!(v["files"][0]["model_source"], "inferred");
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("labrys-cli-{}", std::process::id()))
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_jepsen_run_directory_is_read_once() {
    let good = std::fs::read_to_string(histories().join("register/concurrent-read.edn")).unwrap();
    let store = temp_dir("store");
    let both = store.join("run-both");
    std::fs::create_dir_all(both.join("n1")).unwrap();
    std::fs::write(both.join("history.edn"), &good).unwrap();
    // The text history of the same run: never read when the EDN is there.
    std::fs::write(both.join("history.txt"), "not a history\n").unwrap();
    std::fs::write(
        both.join("results.edn"),
        "{:valid? true, :results {:x 1}}\n",
    )
    .unwrap();
    std::fs::write(both.join("jepsen.log"), "INFO jepsen.core - Run complete\n").unwrap();
    std::fs::write(both.join("n1/db.log"), "server started\n").unwrap();
    let (code, v) = check_json(&[both.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{v}");
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{v}");
    assert!(files[0]["path"]
        .as_str()
        .unwrap()
        .ends_with("run-both/history.edn"));
    let o = labrys(&["stats", "--format", "json", both.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let stats: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(stats.as_array().unwrap().len(), 1);

    // A run that crashed before writing its history: Jepsen's other files
    // are not histories, and the run is an error of its own.
    let none = store.join("run-none");
    std::fs::create_dir_all(&none).unwrap();
    std::fs::write(none.join("results.edn"), "{:valid? :unknown}\n").unwrap();
    std::fs::write(none.join("jepsen.log"), "ERROR jepsen.core - crashed\n").unwrap();
    let (code, v) = check_json(&[store.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{v}");
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{v}");
    assert!(files[0]["path"]
        .as_str()
        .unwrap()
        .ends_with("run-both/history.edn"));
    assert!(
        files[1]["path"].as_str().unwrap().ends_with("run-none"),
        "{v}"
    );
    let message = files[1]["error"]["message"].as_str().unwrap();
    assert!(message.contains("without a history file"), "{message}");
}

#[test]
fn an_input_error_quotes_a_short_excerpt() {
    let token = "9".repeat(100_000);
    let path = temp_file(
        "long-token.edn",
        &format!("{{:type :invoke, :process 0, :f :read, :value {token}}}\n"),
    );
    let o = labrys(&["check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.len() < 300, "{} bytes on stderr", err.len());
    assert!(err.contains("long-token.edn:1:"), "{err}");
    assert!(err.contains("... (100000 characters)"), "{err}");
}

#[test]
fn every_file_appears_with_its_outcome() {
    let good = histories().join("register/concurrent-read.edn");
    let bad = temp_file(
        "bad-value.edn",
        "{:type :invoke, :process 0, :f :read, :value nil}\n{:type :ok, :process 0, :f :read, :value [1 2}\n",
    );
    let (good, bad) = (good.to_str().unwrap(), bad.to_str().unwrap());
    let (code, v) = check_json(&[good, bad]);
    assert_eq!(code, Some(2));
    assert_eq!(v["valid"], "unknown", "never true when a file failed: {v}");
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(
        (&files[0]["path"], &files[0]["valid"]),
        (&good.into(), &true.into())
    );
    assert_eq!(files[1]["path"], bad);
    assert_eq!(files[1]["valid"], "unknown");
    assert_eq!(files[1]["error"]["line"], 2);
    assert!(
        files[1]["error"]["column"].as_u64().is_some(),
        "{}",
        files[1]
    );
    let o = labrys(&["check", good, bad]);
    let text = stdout(&o);
    assert!(text.contains("bad-value.edn  ERROR"), "{text}");
    assert!(
        text.contains("2 files: UNKNOWN (1 could not be checked)"),
        "{text}"
    );
    // A missing file is a file's outcome too.
    let (code, v) = check_json(&[good, "/nonexistent/history.edn"]);
    assert_eq!(code, Some(2));
    assert_eq!(v["files"][1]["path"], "/nonexistent/history.edn");
}

#[test]
fn an_anomaly_wins_the_exit_status_then_an_input_error_then_unknown() {
    let invalid = histories().join("register/stale-read.json");
    let valid = histories().join("register/concurrent-read.edn");
    let bad = temp_file(
        "bad-type.jsonl",
        "{\"type\":\"done\",\"process\":0,\"f\":\"read\"}\n",
    );
    let empty = temp_file("empty-precedence.edn", "");
    let [invalid, valid, bad, empty] =
        [&invalid, &valid, &bad, &empty].map(|p| p.to_str().unwrap().to_string());
    for (files, code, top) in [
        (vec![&bad, &invalid], 1, serde_json::json!(false)),
        (vec![&empty, &bad], 2, "unknown".into()),
        (vec![&valid, &bad], 2, "unknown".into()),
        (vec![&valid, &empty], 3, "unknown".into()),
        (vec![&invalid, &empty], 1, false.into()),
    ] {
        let args: Vec<&str> = files.iter().map(|s| s.as_str()).collect();
        let (got, v) = check_json(&args);
        assert_eq!(got, Some(code), "{files:?}");
        assert_eq!(v["valid"], top, "{files:?}");
    }
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
