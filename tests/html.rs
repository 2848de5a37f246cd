//! The HTML report (`labrys check --html FILE`), read as text: the page's
//! structure, what it embeds, and the escaping of untrusted values. The
//! same pages rendered in a browser are tested in `html_browser.rs`.

mod common;

use common::{history, labrys, scratch};
use serde_json::Value as Json;
use std::path::Path;

/// Runs `labrys check --html` on `args`; returns the exit status and page.
fn page(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = dir.join("report.html");
    let mut all = vec!["check", "--html", out.to_str().unwrap()];
    all.extend_from_slice(args);
    let run = labrys(&all);
    let text = std::fs::read_to_string(&out).expect("the page was written");
    (run.status.code().unwrap(), text)
}

/// The JSON views embedded in the page, one per drawn file.
fn views(page: &str) -> Vec<Json> {
    let open = "<script type=\"application/json\" class=\"view\">";
    page.split(open)
        .skip(1)
        .map(|rest| {
            let json = &rest[..rest.find("</script>").expect("closed")];
            serde_json::from_str(json).expect("the embedded view is JSON")
        })
        .collect()
}

#[test]
fn the_page_has_a_summary_row_and_a_section_per_file_and_fetches_nothing() {
    let dir = scratch("html-summary");
    let files = [
        history("register/diverged-after-heal.edn"),
        history("kv/iriw.edn"),
        history("register/concurrent-read.edn"),
    ];
    let mut args: Vec<&str> = files.iter().map(String::as_str).collect();
    let missing = dir.join("missing.edn").display().to_string();
    args.push(&missing);
    let (code, page) = page(&dir, &args);
    assert_eq!(code, 1, "an anomaly was found");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<table class=\"summary\">"));
    for f in &files {
        assert!(
            page.contains(&format!(">{f}</a></td>")),
            "summary row of {f}"
        );
    }
    assert_eq!(page.matches("<section class=\"file\"").count(), 4);
    assert!(
        page.contains("not checked: "),
        "the unreadable file is listed"
    );
    assert_eq!(views(&page).len(), 3, "every checked file is drawn");
    // Self-contained: no external stylesheet, script, image or font.
    for bad in ["<link", " src=", "@import", "url(http", "https://"] {
        assert!(!page.contains(bad), "the page contains {bad:?}");
    }
    assert!(
        page.contains("window.onerror"),
        "script errors show in the page"
    );
}

#[test]
fn an_invalid_history_s_page_draws_the_failing_op_its_concurrent_ops_and_the_counterexample() {
    let dir = scratch("html-invalid");
    let (_, page) = page(&dir, &[&history("kv/iriw.edn")]);
    let view = &views(&page)[0];
    let marks = |what: &str| -> Vec<u64> {
        view["ops"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["marks"].as_array().unwrap().iter().any(|m| m == what))
            .map(|o| o["id"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(marks("failing").len(), 1);
    assert!(!marks("concurrent").is_empty());
    assert!(!marks("prefix").is_empty());
    assert_eq!(view["keys"], serde_json::json!(["x", "y"]));
    let minimals = view["minimals"].as_array().unwrap();
    let checks: Vec<&str> = minimals
        .iter()
        .map(|m| m["check"].as_str().unwrap())
        .collect();
    assert_eq!(checks, ["linearizable", "sequential"]);
    assert_eq!(minimals[0]["failing"].as_u64(), Some(marks("failing")[0]));
    assert!(page.contains("<figure class=\"minimal\" data-minimal=\"0\">"));
    assert!(page.contains("Final paths (every reachable state)"));
    assert!(page.contains("can&#39;t read nil: value is 1"));
    // Labels say what the op did.
    let labels: Vec<&str> = view["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["label"].as_str().unwrap())
        .collect();
    assert!(
        labels.contains(&"write 1") && labels.contains(&"read → nil"),
        "{labels:?}"
    );
}

/// The ids of the ops of `view` that carry `mark`.
fn marked(view: &Json, mark: &str) -> Vec<u64> {
    view["ops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["marks"].as_array().unwrap().iter().any(|m| m == mark))
        .map(|o| o["id"].as_u64().unwrap())
        .collect()
}

#[test]
fn a_sequential_contradiction_is_drawn_as_its_cycle_of_write_orders() {
    let dir = scratch("html-cycle");
    let (_, page) = page(
        &dir,
        &[
            "--consistency",
            "sequential",
            &history("register/writes-seen-in-two-orders.edn"),
        ],
    );
    let view = &views(&page)[0];
    // Ops: 0 write 1, 1 write 2, 2 and 4 process 2's reads of 1 then 2,
    // 3 and 5 process 3's reads of 2 then 1.
    let steps = view["cycles"][0]["steps"].as_array().expect("a cycle");
    let arrows: Vec<(u64, u64)> = steps
        .iter()
        .map(|s| (s["earlier"].as_u64().unwrap(), s["later"].as_u64().unwrap()))
        .collect();
    assert_eq!(arrows, [(0, 1), (1, 0)], "{steps:?}");
    let proofs: Vec<Vec<u64>> = steps
        .iter()
        .map(|s| {
            s["ops"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o.as_u64().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(proofs, [vec![2, 4], vec![3, 5]]);
    assert_eq!(
        view["cycles"][0]["ops"],
        serde_json::json!([0, 1, 2, 3, 4, 5])
    );
    // The figure the script draws, and the steps in words with their ops.
    assert!(page.contains("<figure class=\"cycle\" data-cycle=\"0\">"));
    let list = &page[page.find("<ol class=\"cycle-steps\">").expect("the steps")..];
    let list = &list[..list.find("</ol>").unwrap()];
    assert_eq!(list.matches("<li>").count(), 2);
    assert!(list.contains("process 2 read 1 and then read 2, so 1 was written before 2"));
    assert!(list.contains("data-op=\"5\""), "{list}");
}

#[test]
fn convergence_anomalies_mark_the_lost_write_and_the_one_that_won() {
    let dir = scratch("html-convergence");
    let (_, lww) = page(
        &dir,
        &[
            "--consistency",
            "convergence",
            &history("register/lww-lost-update.edn"),
        ],
    );
    let view = &views(&lww)[0];
    assert_eq!(marked(view, "lost"), [1], "process 1's write of 2 was lost");
    assert_eq!(marked(view, "winner"), [0], "process 0's write of 1 won");
    // Each replica's reads get a lane of their own on request.
    let nodes: Vec<&str> = view["ops"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["node"].as_str())
        .collect();
    assert!(nodes.contains(&"n1") && nodes.contains(&"n2"), "{nodes:?}");

    let (_, set) = page(
        &dir,
        &[
            "--consistency",
            "convergence",
            &history("set/lost-element.edn"),
        ],
    );
    let table = &set[set
        .find("<table class=\"set-elements\">")
        .expect("a set table")..];
    let row = &table[table.find("<tbody>").unwrap()..table.find("</tbody>").unwrap()];
    assert!(row.contains("<td>2</td>"), "element 2 is lost: {row}");
    assert_eq!(marked(&views(&set)[0], "lost"), [1], "the add of 2");
}

#[test]
fn a_valid_history_s_page_and_json_carry_the_linearization_with_states() {
    let dir = scratch("html-valid");
    let out = dir.join("report.html");
    let run = labrys(&[
        "check",
        "--format",
        "json",
        "--html",
        out.to_str().unwrap(),
        &history("generated/cas-register-linearizable.jsonl"),
    ]);
    assert_eq!(run.status.code(), Some(0));
    let report: Json = serde_json::from_slice(&run.stdout).unwrap();
    let part = &report["files"][0]["checks"]["linearizable"]["evidence"]["partitions"][0];
    let steps = part["witness"]["steps"].as_array().expect("witness steps");
    assert_eq!(part["witness"]["complete"], true);
    assert_eq!(
        steps.len(),
        part["witness"]["total"].as_u64().unwrap() as usize
    );
    for (i, s) in steps.iter().enumerate() {
        assert_eq!(s["rank"].as_u64(), Some(i as u64));
        assert!(s["state"].as_str().is_some_and(|t| !t.is_empty()));
    }
    // The page numbers the same ops in the same order, with the states.
    let view = &views(&std::fs::read_to_string(&out).unwrap())[0];
    for s in steps {
        let op = view["ops"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == s["id"])
            .expect("every linearized op is drawn");
        assert_eq!(op["rank"], s["rank"]);
        assert_eq!(op["state"], s["state"]);
    }
    // Sequential consistency's witness order numbers the ops too.
    assert!(view["ops"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| !o["seq"].is_null()));
    // Without --html, the JSON report has no witness.
    let plain = labrys(&[
        "check",
        "--format",
        "json",
        &history("generated/cas-register-linearizable.jsonl"),
    ]);
    let plain: Json = serde_json::from_slice(&plain.stdout).unwrap();
    let part = &plain["files"][0]["checks"]["linearizable"]["evidence"]["partitions"][0];
    assert!(part.get("witness").is_none(), "{part}");
}

#[test]
fn untrusted_values_show_as_text_and_never_as_markup() {
    let dir = scratch("html-escape");
    let evil = "</script><img src=x onerror=alert(1)>&\u{2028}";
    let h = dir.join("evil.jsonl");
    let line = |i: u32, t: &str, f: &str, v: &str| {
        serde_json::json!({"index": i, "type": t, "process": 0, "f": f, "value": v, "node": evil})
            .to_string()
    };
    let text = [
        line(0, "invoke", "write", evil),
        line(1, "ok", "write", evil),
        line(2, "invoke", "read", evil),
        line(3, "ok", "read", "other"),
    ]
    .join("\n");
    std::fs::write(&h, text).unwrap();
    let (code, page) = page(&dir, &["--model", "register", h.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(!page.contains("<img"), "an image tag came through");
    assert!(!page.contains("</script><"), "the script element was ended");
    assert!(!page.contains('\u{2028}'));
    assert!(page.contains("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"));
    // The view keeps the value, escaped for the script element.
    assert!(page.contains("\\u003c/script\\u003e\\u003cimg src=x onerror=alert(1)\\u003e"));
    let view = &views(&page)[0];
    assert!(view["ops"][0]["label"]
        .as_str()
        .unwrap()
        .contains("</script><img"));
    assert_eq!(view["ops"][0]["node"].as_str(), Some(evil));
}

#[test]
fn a_large_history_is_drawn_in_windows_around_each_failure_under_an_overview() {
    let dir = scratch("html-large");
    let h = dir.join("big.jsonl");
    let gen = labrys(&[
        "gen",
        "--model",
        "kv",
        "--ops",
        "6000",
        "--seed",
        "5",
        "--unique-values",
        "--keys",
        "4",
        "--stale-reads",
        "3",
    ]);
    std::fs::write(&h, &gen.stdout).unwrap();
    let (code, page) = page(&dir, &["--report-all", h.to_str().unwrap()]);
    assert_eq!(code, 1);
    let view = &views(&page)[0];
    let overview = &view["overview"];
    let counted: u64 = overview["counts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c.as_array().unwrap().iter().map(|n| n.as_u64().unwrap()))
        .sum();
    assert_eq!(counted, 6000, "the overview counts every operation");
    let ops = view["ops"].as_array().unwrap();
    assert!(ops.len() < 2000, "{} ops drawn", ops.len());
    let failing: Vec<u64> = ops
        .iter()
        .filter(|o| {
            o["marks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m == "failing")
        })
        .map(|o| o["id"].as_u64().unwrap())
        .collect();
    assert!(failing.len() >= 2, "several keys fail: {failing:?}");
    for id in failing {
        let shown = view["windows"].as_array().unwrap().iter().any(|w| {
            w["ops"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| ops[i.as_u64().unwrap() as usize]["id"].as_u64() == Some(id))
        });
        assert!(shown, "failing op {id} has a window");
    }
}

#[test]
fn an_html_file_that_cannot_be_written_is_an_error() {
    let run = labrys(&[
        "check",
        "--html",
        "/nonexistent-directory/report.html",
        &history("register/stale-read.json"),
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("--html /nonexistent-directory/report.html")
    );
}
