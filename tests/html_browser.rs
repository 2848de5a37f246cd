//! The HTML report rendered in a real browser: headless Chromium opens the
//! page of every teaching history in `histories/` with its script run, and
//! the rendered DOM must hold the lanes, the highlighted failing operation
//! and the minimal counterexample's timeline, with no script error.
//!
//! Chromium is looked for as `$CHROMIUM`, then `chromium`,
//! `chromium-browser`, `google-chrome` on the PATH; without it the tests
//! say "skipped: chromium not found" (CI installs it first).

mod common;

use common::{labrys, scratch};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> Option<PathBuf> {
    let names = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(["chromium", "chromium-browser", "google-chrome"].map(PathBuf::from));
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in names {
        if name.is_absolute() && name.is_file() {
            return Some(name);
        }
        for dir in std::env::split_paths(&path) {
            if dir.join(&name).is_file() {
                return Some(dir.join(&name));
            }
        }
    }
    eprintln!("skipped: chromium not found");
    None
}

/// Opens `page` in headless Chromium and returns the DOM after its script
/// ran (within a minute).
fn rendered(chromium: &Path, page: &Path, dir: &Path) -> String {
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let out = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || std::io::read_to_string(out));
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("chromium did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().expect("reader").expect("the DOM")
}

/// A teaching history as `expected.tsv` lists it.
struct Teaching {
    path: String,
    model: String,
    /// Linearizability fails.
    invalid: bool,
    /// Sequential consistency fails for writes seen in two orders: its
    /// cycle is drawn.
    cycle: bool,
}

/// The teaching histories.
fn teaching() -> Vec<Teaching> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("histories");
    let manifest = std::fs::read_to_string(root.join("expected.tsv")).unwrap();
    manifest
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            let sequential_anomaly = cols[6].split('/').nth(1).unwrap_or_default();
            Teaching {
                path: root.join(cols[0]).display().to_string(),
                model: cols[1].to_string(),
                invalid: cols[3] == "invalid",
                cycle: sequential_anomaly == "writes-in-two-orders",
            }
        })
        .collect()
}

/// The rendered section of the file at `path`.
fn section<'a>(dom: &'a str, path: &str) -> &'a str {
    dom.split("<section class=\"file\"")
        .find(|s| s.contains(&format!("{path}</h2>")))
        .unwrap_or_else(|| panic!("no section for {path}"))
}

fn assert_rendered(dom: &str) {
    assert!(
        dom.contains("data-rendered=\"ok\""),
        "the script did not finish"
    );
    assert!(
        !dom.contains("class=\"script-error\""),
        "a script error was logged"
    );
}

#[test]
fn every_teaching_history_renders_lanes_failing_op_and_counterexample() {
    let Some(chromium) = chromium() else { return };
    let dir = scratch("browser-teaching");
    let histories = teaching();
    // One page per model: a queue history's model cannot be inferred.
    let mut models: Vec<&str> = histories.iter().map(|h| h.model.as_str()).collect();
    models.sort();
    models.dedup();
    for model in models {
        let page = dir.join(format!("teaching-{model}.html"));
        let mut args = vec![
            "check".to_string(),
            "--model".into(),
            model.into(),
            "--html".into(),
            page.display().to_string(),
        ];
        let ours: Vec<&Teaching> = histories.iter().filter(|h| h.model == model).collect();
        args.extend(ours.iter().map(|h| h.path.clone()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        labrys(&args);
        let dom = rendered(&chromium, &page, &dir);
        assert_rendered(&dom);
        for h in ours {
            assert_section(&dom, h);
        }
    }
}

/// A teaching history's section draws its lanes and, when it is invalid,
/// the failing op and the minimal counterexample, and the cycle of write
/// orders with an arrow per step when there is one.
fn assert_section(dom: &str, h: &Teaching) {
    let (path, invalid) = (h.path.as_str(), h.invalid);
    let s = section(dom, path);
    if h.cycle {
        let cycle = s
            .split("<figure class=\"cycle\"")
            .nth(1)
            .unwrap_or_else(|| panic!("{path}: no cycle"));
        let figure = &cycle[..cycle.find("</figure>").unwrap()];
        assert!(
            figure.matches("class=\"cycle-arrow\"").count() >= 2,
            "{path}: the cycle's arrows are not drawn"
        );
        assert!(
            figure.contains("class=\"bar ok proof"),
            "{path}: no proof marked"
        );
    }
    assert!(s.contains("<svg"), "{path}: no timeline drawn");
    assert!(
        s.contains("class=\"lane-label\">process "),
        "{path}: no lanes"
    );
    if invalid {
        assert!(
            s.contains("class=\"bar ok failing"),
            "{path}: no failing op highlighted"
        );
        let minimal = s
            .split("<figure class=\"minimal\"")
            .nth(1)
            .unwrap_or_else(|| panic!("{path}: no counterexample"));
        let figure = &minimal[..minimal.find("</figure>").unwrap()];
        assert!(
            figure.contains("<svg") && figure.contains("class=\"bar "),
            "{path}: counterexample not drawn"
        );
    }
}

#[test]
fn a_hostile_value_renders_as_text_and_runs_nothing() {
    let Some(chromium) = chromium() else { return };
    let dir = scratch("browser-hostile");
    let evil = "</script><img src=x onerror=alert(1)>";
    let h = dir.join("evil.jsonl");
    let ops = [
        ("invoke", "write", evil),
        ("ok", "write", evil),
        ("invoke", "read", "x"),
        ("ok", "read", "y"),
    ];
    let lines: Vec<String> = ops
        .iter()
        .enumerate()
        .map(|(i, (t, f, v))| {
            serde_json::json!({"index": i, "type": t, "process": 0, "f": f, "value": v}).to_string()
        })
        .collect();
    std::fs::write(&h, lines.join("\n")).unwrap();
    let page = dir.join("evil.html");
    labrys(&[
        "check",
        "--model",
        "register",
        "--html",
        page.to_str().unwrap(),
        h.to_str().unwrap(),
    ]);
    let dom = rendered(&chromium, &page, &dir);
    assert_rendered(&dom);
    assert!(!dom.contains("<img"), "the value became an element");
    assert!(
        dom.contains(
            "class=\"op-label\">#1 write \"&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;\"</text>"
        ),
        "the value is not shown as text on its bar"
    );
}

#[test]
fn a_large_history_renders_its_overview_and_windows() {
    let Some(chromium) = chromium() else { return };
    let dir = scratch("browser-large");
    let h = dir.join("big.jsonl");
    let gen = labrys(&[
        "gen",
        "--model",
        "register",
        "--ops",
        "5000",
        "--seed",
        "2",
        "--unique-values",
        "--stale-reads",
        "2",
    ]);
    std::fs::write(&h, &gen.stdout).unwrap();
    let page = dir.join("big.html");
    labrys(&[
        "check",
        "--html",
        page.to_str().unwrap(),
        h.to_str().unwrap(),
    ]);
    let dom = rendered(&chromium, &page, &dir);
    assert_rendered(&dom);
    assert!(dom.contains("class=\"overview\""), "no overview");
    assert!(
        dom.contains("class=\"window-range\""),
        "no window drawn on the overview"
    );
    assert!(
        dom.contains("class=\"bar ok failing"),
        "the failing op is not in its window"
    );
}
