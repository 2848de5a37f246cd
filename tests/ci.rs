//! `labrys check` in a CI pipeline: JUnit XML read by real consumers,
//! GitHub Actions annotations and job summary, standard input, `--output`,
//! `--quiet`, shell completions and the man page.

mod common;
use common::{history, labrys, scratch};

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(dir: &Path, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.display().to_string()
}

/// Runs labrys with `args`, extra environment `env` (GitHub's variables
/// removed unless given) and `input` on standard input.
fn labrys_with(args: &[&str], env: &[(&str, &str)], input: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_labrys"));
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run labrys");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(input.unwrap_or("").as_bytes())
        .expect("write stdin");
    drop(stdin);
    child.wait_with_output().expect("wait for labrys")
}

/// A history with no operation completed ok: nothing to judge.
const NOTHING_OK: &str = "{\"type\":\"invoke\",\"process\":0,\"f\":\"write\",\"value\":1}\n\
                          {\"type\":\"fail\",\"process\":0,\"f\":\"write\",\"value\":1}\n";

/// A register history that is linearizable.
const VALID: &str = "{\"type\":\"invoke\",\"process\":0,\"f\":\"write\",\"value\":1}\n\
                     {\"type\":\"ok\",\"process\":0,\"f\":\"write\",\"value\":1}\n\
                     {\"type\":\"invoke\",\"process\":1,\"f\":\"read\",\"value\":null}\n\
                     {\"type\":\"ok\",\"process\":1,\"f\":\"read\",\"value\":1}\n";

/// A file that is not a history: its error is on line 2, column 1.
const BROKEN: &str = "{:type :invoke, :process 0, :f :read, :value nil}\n]\n";

/// Python that parses a JUnit file with the standard library and prints its
/// shape as JSON: suites with their counts, cases with their outcome.
const ETREE: &str = r#"
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
out = {"tests": int(root.get("tests")), "failures": int(root.get("failures")),
       "errors": int(root.get("errors")), "suites": []}
for s in root.findall("testsuite"):
    suite = {"name": s.get("name"), "tests": int(s.get("tests")),
             "failures": int(s.get("failures")), "errors": int(s.get("errors")),
             "skipped": int(s.get("skipped") or 0), "cases": []}
    for c in s.findall("testcase"):
        case = {"name": c.get("name"), "classname": c.get("classname"), "outcome": "passed"}
        for kind in ("failure", "error", "skipped"):
            e = c.find(kind)
            if e is not None:
                case.update(outcome=kind, message=e.get("message"), text=e.text or "")
        suite["cases"].append(case)
    out["suites"].append(suite)
print(json.dumps(out))
"#;

fn python(script: &str, args: &[&str]) -> Output {
    Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs")
}

fn etree(junit: &str) -> serde_json::Value {
    let o = python(ETREE, &[junit]);
    assert!(o.status.success(), "xml.etree: {}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

fn case<'a>(suite: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    suite["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no test case {name} in {suite}"))
}

#[test]
fn junit_has_a_suite_per_history_and_a_case_per_checker() {
    let dir = scratch("junit");
    let valid = write(&dir, "valid.jsonl", VALID);
    let broken = write(&dir, "broken.edn", BROKEN);
    let invalid = history("register/sequential-not-linearizable.edn");
    let junit = dir.join("labrys.xml").display().to_string();
    let o = labrys(&[
        "check", "--format", "json", "--junit", &junit, &invalid, &valid, &broken,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // --junit comes alongside the format asked for.
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["files"].as_array().unwrap().len(), 3);

    let x = etree(&junit);
    let names: Vec<&str> = x["suites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [&invalid, &valid, &broken], "argument order");

    let bad = &x["suites"][0];
    assert_eq!(bad["tests"], 3);
    let lin = case(bad, "linearizable");
    assert_eq!(lin["outcome"], "failure");
    assert_eq!(lin["classname"], invalid.as_str());
    let message = lin["message"].as_str().unwrap();
    assert!(message.contains("is not linearizable"), "{message}");
    let text = lin["text"].as_str().unwrap();
    assert!(text.contains("Minimal counterexample: 3 ops"), "{text}");
    assert!(
        text.contains("process 3 read 1 (ok, lines 15-17)"),
        "{text}"
    );
    assert_eq!(case(bad, "sequential")["outcome"], "passed");
    assert_eq!(case(bad, "convergence")["outcome"], "failure");

    let good = &x["suites"][1];
    assert_eq!(good["failures"], 0);
    assert_eq!(case(good, "linearizable")["outcome"], "passed");

    let unreadable = &x["suites"][2];
    let load = case(unreadable, "load");
    assert_eq!(load["outcome"], "error");
    let message = load["message"].as_str().unwrap();
    assert!(message.contains("broken.edn:2:1"), "{message}");
    assert_eq!(x["errors"], 1);
    assert_eq!(x["failures"], 2);
}

#[test]
fn junit_shows_undecided_checks_as_skipped_with_the_reason() {
    let dir = scratch("junit-skipped");
    let empty = write(&dir, "nothing-ok.jsonl", NOTHING_OK);
    let junit = dir.join("labrys.xml").display().to_string();
    let o = labrys(&[
        "check",
        "--model",
        "register",
        "--consistency",
        "linearizable",
        "--junit",
        &junit,
        &empty,
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let x = etree(&junit);
    let lin = case(&x["suites"][0], "linearizable");
    assert_eq!(lin["outcome"], "skipped");
    let message = lin["message"].as_str().unwrap();
    assert!(message.contains("nothing to judge"), "{message}");
    assert_eq!(x["failures"], 0);
    assert_eq!(x["errors"], 0);
}

#[test]
fn junit_in_report_mode_has_a_case_per_key() {
    let dir = scratch("junit-keys");
    let junit = dir.join("labrys.xml").display().to_string();
    let kv = history("kv/store-buffering.edn");
    let o = labrys(&["check", "--report-all", "--junit", &junit, &kv]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let x = etree(&junit);
    let suite = &x["suites"][0];
    let keyed: Vec<&serde_json::Value> = suite["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"].as_str().unwrap().starts_with("linearizable key "))
        .collect();
    assert!(keyed.len() >= 2, "{suite}");
    let failing: Vec<_> = keyed.iter().filter(|c| c["outcome"] == "failure").collect();
    assert!(!failing.is_empty(), "{suite}");
    for c in failing {
        let text = c["text"].as_str().unwrap();
        assert!(text.contains("Minimal counterexample"), "{text}");
    }
    // Sequential consistency is not local: one case for the history.
    assert_eq!(case(suite, "sequential")["outcome"], "failure");

    // Without --report-all, one case per checker.
    let o = labrys(&["check", "--junit", &junit, &kv]);
    assert_eq!(o.status.code(), Some(1));
    let x = etree(&junit);
    assert_eq!(x["suites"][0]["tests"], 3, "{x}");
}

#[test]
fn junitparser_reads_the_junit_file() {
    let probe = python("import junitparser", &[]);
    if !probe.status.success() {
        eprintln!("skipped: the Python package junitparser is not installed (pip install junitparser); xml.etree tests still ran");
        return;
    }
    let dir = scratch("junitparser");
    let junit = dir.join("labrys.xml").display().to_string();
    let broken = write(&dir, "broken.edn", BROKEN);
    let invalid = history("register/stale-read.json");
    let o = labrys(&["check", "--junit", &junit, &invalid, &broken]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let script = r#"
import sys
from junitparser import JUnitXml, Failure, Error, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
for suite in xml:
    for case in suite:
        kinds = [type(r).__name__ for r in case.result]
        print(suite.name, case.name, ",".join(kinds) or "passed",
              " | ".join((r.message or "") for r in case.result), sep="\t")
"#;
    let o = python(script, &[&junit]);
    assert!(o.status.success(), "junitparser: {}", stderr(&o));
    let out = stdout(&o);
    let rows: Vec<Vec<&str>> = out.lines().map(|l| l.split('\t').collect()).collect();
    let lin = rows
        .iter()
        .find(|r| r[0] == invalid && r[1] == "linearizable")
        .expect("the linearizable case");
    assert_eq!(lin[2], "Failure", "{out}");
    assert!(lin[3].contains("not linearizable"), "{out}");
    let load = rows.iter().find(|r| r[0] == broken).expect("the load case");
    assert_eq!(load[2], "Error", "{out}");
}

#[test]
fn github_annotations_point_at_the_failing_operation() {
    let invalid = history("register/sequential-not-linearizable.edn");
    let dir = scratch("github");
    let empty = write(&dir, "nothing-ok.jsonl", NOTHING_OK);
    let broken = write(&dir, "broken.edn", BROKEN);
    let args: [&str; 5] = ["check", "--format", "github", &invalid, &broken];
    let o = labrys_with(&args, &[], None);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    // One command per failing check: linearizability and convergence,
    // then the unreadable file; every command is one line.
    let commands: Vec<&&str> = lines.iter().filter(|l| l.starts_with("::")).collect();
    assert_eq!(commands.len(), 3, "{out}");
    let file = invalid.replace(':', "%3A").replace(',', "%2C");
    // The linearizability anomaly: process 2's read 1, invoked on line 14.
    assert!(
        commands[0].starts_with(&format!("::error file={file},line=14,title=labrys%3A ")),
        "{out}"
    );
    // The title names the anomaly; the message gives the summary once, then
    // the anomaly's sentence and the evidence.
    let (props, message) = commands[0][2..].split_once("::").expect("a message");
    assert!(props.contains("not linearizable ("), "{out}");
    assert_eq!(message.matches("is not linearizable").count(), 1, "{out}");
    let anomaly_line = message.split("%0A").nth(1).unwrap_or_default();
    assert!(
        !anomaly_line.is_empty() && anomaly_line.contains(": "),
        "{out}"
    );
    assert!(commands[0].contains("%0A"), "evidence on more lines: {out}");
    assert!(
        commands[0].contains("Minimal counterexample: 3 ops"),
        "{out}"
    );
    assert!(commands[1].starts_with("::error file="), "{out}");
    assert!(commands[1].contains("not convergent"), "{out}");
    // The convergence anomaly's lost write, process 1 on line 8.
    assert!(commands[1].contains(",line=8,"), "{out}");
    let broken_file = broken.replace(':', "%3A").replace(',', "%2C");
    assert!(
        commands[2].starts_with(&format!("::error file={broken_file},line=2,col=1,")),
        "{out}"
    );

    // Undecided is a warning; the default under GitHub Actions is this format.
    let args: [&str; 6] = [
        "check",
        "--model",
        "register",
        "--consistency",
        "linearizable",
        &empty,
    ];
    let o = labrys_with(&args, &[("GITHUB_ACTIONS", "true")], None);
    assert_eq!(o.status.code(), Some(3));
    let out = stdout(&o);
    assert!(out.starts_with("::warning file="), "{out}");
    assert!(out.contains("nothing to judge"), "{out}");
    // Outside GitHub Actions, the default stays text.
    let o = labrys_with(&args, &[("GITHUB_ACTIONS", "false")], None);
    assert!(!stdout(&o).contains("::warning"), "{}", stdout(&o));
}

#[test]
fn github_step_summary_gets_a_table_whatever_the_format() {
    let dir = scratch("summary");
    let summary = write(&dir, "summary.md", "earlier step\n");
    let valid = write(&dir, "valid.jsonl", VALID);
    let invalid = history("register/stale-read.json");
    let o = labrys_with(
        &["check", "--format", "json", &valid, &invalid],
        &[("GITHUB_STEP_SUMMARY", &summary)],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("earlier step\n"), "appended: {md}");
    assert!(
        md.contains("| history | verdict | linearizable | sequential | convergence |"),
        "{md}"
    );
    assert!(
        md.contains(&format!("| `{valid}` | **valid** | valid | valid |")),
        "{md}"
    );
    assert!(
        md.contains(&format!("| `{invalid}` | **invalid** | invalid | valid |")),
        "{md}"
    );
    assert!(
        md.contains("linearizable: the history is not linearizable"),
        "{md}"
    );
    // The report itself is unchanged.
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["valid"], false);
}

#[test]
fn a_dash_reads_the_history_from_standard_input() {
    let o = labrys_with(&["check", "--format", "json", "-"], &[], Some(VALID));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["files"][0]["path"], "<stdin>");
    assert_eq!(v["files"][0]["operations"], 2);

    // The format is detected from the content, or forced.
    let edn = std::fs::read_to_string(history("register/stale-read.json")).unwrap();
    let o = labrys_with(&["check", "-"], &[], Some(&edn));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = labrys_with(&["check", "--input-format", "edn", "-"], &[], Some(VALID));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("<stdin>:1:"), "{}", stderr(&o));

    // Bad input names standard input, with line and column.
    let o = labrys_with(&["check", "-"], &[], Some(BROKEN));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("<stdin>:2:1:"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));

    // Beside files, in argument order; standard input is read once.
    let file = history("register/concurrent-read.edn");
    let o = labrys_with(
        &["check", "--format", "json", &file, "-", "-"],
        &[],
        Some(VALID),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let files = v["files"].as_array().unwrap();
    assert_eq!(files[0]["path"], file.as_str());
    assert_eq!(files[1]["path"], "<stdin>");
    assert_eq!(files[1]["valid"], true);
    let twice = files[2]["error"]["message"].as_str().unwrap();
    assert!(twice.contains("named twice"), "{twice}");
}

#[test]
fn output_writes_the_report_to_a_file_and_quiet_prints_nothing() {
    let dir = scratch("output");
    let out = dir.join("report.json").display().to_string();
    let invalid = history("register/stale-read.json");
    let o = labrys(&["check", "--format", "json", "--output", &out, &invalid]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty(), "{}", stdout(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["files"][0]["path"], invalid.as_str());
    assert_eq!(v["valid"], false);

    // Text to a file is never coloured.
    let text = dir.join("report.txt").display().to_string();
    let o = labrys_with(&["check", "-o", &text, &invalid], &[("NO_COLOR", "")], None);
    assert_eq!(o.status.code(), Some(1));
    let t = std::fs::read_to_string(&text).unwrap();
    assert!(t.contains("INVALID") && !t.contains('\x1b'), "{t}");

    let broken = write(&dir, "broken.edn", BROKEN);
    let junit = dir.join("labrys.xml").display().to_string();
    for (file, status) in [(&invalid, 1), (&broken, 2)] {
        let o = labrys(&["check", "--quiet", "--junit", &junit, file]);
        assert_eq!(o.status.code(), Some(status), "{file}");
        assert!(o.stdout.is_empty(), "{}", stdout(&o));
        assert!(o.stderr.is_empty(), "{}", stderr(&o));
        assert!(std::fs::read_to_string(&junit)
            .unwrap()
            .contains("<testsuites"));
    }
    let valid = write(&dir, "valid.jsonl", VALID);
    let o = labrys(&["check", "-q", &valid]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty() && o.stderr.is_empty());

    // An output file that cannot be written is an error, not a silent pass.
    let nowhere = dir.join("missing/report.json").display().to_string();
    let o = labrys(&["check", "--output", &nowhere, &valid]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot write the report"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn completions_and_the_man_page_are_produced() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = labrys(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        for word in ["labrys", "check", "stats", "gen", "junit"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    let o = labrys(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));

    let o = labrys(&["man"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let page = stdout(&o);
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH labrys"),
        "{page}"
    );
    for word in [
        ".SH NAME",
        "LABRYS CHECK",
        "LABRYS STATS",
        "LABRYS GEN",
        "junit",
    ] {
        assert!(page.contains(word), "the man page lacks {word}");
    }
}
