//! The README's sample outputs are what the commands beside them print,
//! so that they cannot drift from the program (timings aside).

mod common;

use common::labrys;
use std::path::Path;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("the README")
}

/// The first fenced block after the line that contains `marker`.
fn block_after(readme: &str, marker: &str) -> String {
    let at = readme
        .find(marker)
        .unwrap_or_else(|| panic!("the README says {marker:?}"));
    let rest = &readme[at..];
    let open = rest.find("\n```").expect("a block") + 1;
    let body = &rest[open..];
    let body = &body[body.find('\n').expect("the fence's line") + 1..];
    body[..body.find("```").expect("a closed block")].to_string()
}

/// `text` with every time in milliseconds written as `_ ms`, and trailing
/// blanks dropped.
fn without_times(text: &str) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let words: Vec<&str> = line.split(' ').collect();
            let words: Vec<&str> = (0..words.len())
                .map(|i| {
                    let ms = words.get(i + 1).is_some_and(|w| w.starts_with("ms"));
                    if ms && words[i].parse::<f64>().is_ok() {
                        "_"
                    } else {
                        words[i]
                    }
                })
                .collect();
            words.join(" ").trim_end().to_string()
        })
        .collect();
    lines.join("\n").trim_end().to_string()
}

/// Runs `labrys ARGS` in the project's directory (the README's paths are
/// relative to it); returns the exit status and standard output.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let root = env!("CARGO_MANIFEST_DIR");
    let args: Vec<String> = args
        .iter()
        .map(|a| {
            if a.starts_with("histories/") {
                format!("{root}/{a}")
            } else {
                a.to_string()
            }
        })
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = labrys(&args);
    let out = String::from_utf8(o.stdout).expect("UTF-8");
    (o.status.code(), out.replace(&format!("{root}/"), ""))
}

#[test]
fn the_quick_start_report_is_what_the_command_prints() {
    let readme = readme();
    let file = "histories/register/sequential-not-linearizable.edn";
    assert!(readme.contains(&format!("cargo run --release -- check {file}")));
    let shown = block_after(&readme, "The first command prints a report like this");
    let (code, printed) = run(&["check", file]);
    assert_eq!(code, Some(1), "the README says it exits with status 1");
    assert_eq!(
        without_times(&shown),
        without_times(&printed),
        "the README's quick start differs from what the command prints"
    );
}

#[test]
fn the_timeline_sample_is_what_the_command_draws() {
    let readme = readme();
    let file = "histories/register/converges-not-linearizable.jsonl";
    let shown = block_after(&readme, &format!("`{file}`"));
    let (_, printed) = run(&["check", "--consistency", "linearizable", file]);
    assert!(
        printed.contains(&shown),
        "the README's timeline is not drawn by the command:\n{shown}\n---\n{printed}"
    );
}

#[test]
fn times_are_left_out_of_the_comparison() {
    assert_eq!(
        without_times("  linearizable  INVALID  2.5 ms\n  x 10 ms, 3 ops  \n"),
        "  linearizable  INVALID  _ ms\n  x _ ms, 3 ops"
    );
}
