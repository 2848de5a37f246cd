//! Reads the reference corpus (when `LABRYS_CORPUS` names it) and checks
//! that the three formats agree on the same history.

mod common;
use common::corpus;

use labrys::history::{Format, History, LoadOptions, OpType, Process, Value};
use std::path::PathBuf;

/// The files of one corpus folder with a given extension, sorted.
fn files(dir: PathBuf, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

#[test]
fn etcd_corpus_loads_with_expected_invocation_count() {
    let Some(root) = corpus() else { return };
    let paths = files(root.join("etcd"), "log");
    assert_eq!(paths.len(), 103, "expected 103 etcd histories");
    let mut invocations = 0;
    let mut non_empty = 0;
    for path in &paths {
        let h = History::load(path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        if h.ops.is_empty() {
            continue;
        }
        non_empty += 1;
        let inv = h.ops.iter().filter(|o| o.op_type == OpType::Invoke).count();
        // Every op is paired; the history is a single register.
        assert_eq!(h.operations.len(), inv, "{}", path.display());
        assert!(
            h.ops
                .iter()
                .all(|o| matches!(&*o.f, "read" | "write" | "cas")),
            "{}",
            path.display()
        );
        invocations += inv;
    }
    assert_eq!(non_empty, 102);
    assert_eq!(invocations, 8_523);
}

#[test]
fn etcd_space_separated_files_match_shape() {
    let Some(root) = corpus() else { return };
    let h = History::load(&root.join("etcd/etcd_100.log"), &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let cas = h.ops.iter().find(|o| &*o.f == "cas").expect("a cas op");
    assert!(matches!(&cas.value, Value::Vector(v) if v.len() == 2));
    assert!(h.ops.iter().all(|o| o.error().is_none()));
}

#[test]
fn kv_corpus_loads_with_keys_on_every_client_op() {
    let Some(root) = corpus() else { return };
    let paths = files(root.join("kv"), "txt");
    assert_eq!(paths.len(), 6);
    for path in &paths {
        let h = History::load(path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        assert!(!h.ops.is_empty(), "{}", path.display());
        for op in &h.ops {
            if matches!(op.process, Process::Client(_)) {
                assert!(
                    matches!(&op.key, Some(Value::Str(_))),
                    "{}:{}: no key",
                    path.display(),
                    op.line
                );
                assert!(matches!(&*op.f, "get" | "put" | "append"));
            }
        }
    }
}

const EDN: &str = r#"{:process 0, :type :invoke, :f :write, :value 3}
{:process 1, :type :invoke, :f :read, :value nil}
{:process 0, :type :ok, :f :write, :value 3}
{:process 1, :type :ok, :f :read, :value [3 0]}
{:process :nemesis, :type :info, :f :start, :value nil}
{:process 2, :type :invoke, :f :cas, :value [3 4]}
{:process 2, :type :info, :f :cas, :value :timed-out}
"#;

const TEXT: &str = "0\t:invoke\t:write\t3
1\t:invoke\t:read\tnil
0\t:ok\t:write\t3
1\t:ok\t:read\t[3 0]
:nemesis\t:info\t:start\tnil
2\t:invoke\t:cas\t[3 4]
2\t:info\t:cas\t:timed-out
";

const JSON: &str = r#"[
{"process": 0, "type": "invoke", "f": "write", "value": 3},
{"process": 1, "type": "invoke", "f": "read", "value": null},
{"process": 0, "type": "ok", "f": "write", "value": 3},
{"process": 1, "type": "ok", "f": "read", "value": [3, 0]},
{"process": "nemesis", "type": "info", "f": "start", "value": null},
{"process": 2, "type": "invoke", "f": "cas", "value": [3, 4]},
{"process": 2, "type": "info", "f": "cas", "value": "timed-out"}
]"#;

/// The ops as (process, type, f, value) with keywords and strings alike.
fn summary(h: &History) -> Vec<(String, OpType, String, String)> {
    fn norm(v: &Value) -> String {
        match v {
            Value::Keyword(s) | Value::Str(s) | Value::Symbol(s) => format!("name:{s}"),
            Value::Vector(items) => {
                let inner: Vec<String> = items.iter().map(norm).collect();
                format!("[{}]", inner.join(" "))
            }
            other => other.to_string(),
        }
    }
    h.ops
        .iter()
        .map(|o| {
            let p = match &o.process {
                Process::Client(p) => p.to_string(),
                Process::Named(n) | Process::Str(n) => n.to_string(),
            };
            (p, o.op_type, o.f.to_string(), norm(&o.value))
        })
        .collect()
}

#[test]
fn same_history_in_three_formats_reads_the_same() {
    let mut seen = Vec::new();
    for (text, format) in [
        (EDN, Format::Edn),
        (TEXT, Format::Text),
        (JSON, Format::Json),
    ] {
        assert_eq!(Format::detect(text), format);
        let h = History::parse(text, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(h.ops.len(), 7);
        assert_eq!(h.operations.len(), 3);
        assert_eq!(h.nemesis, vec![4]);
        seen.push(summary(&h));
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0], seen[2]);
    // EDN and text agree exactly, keywords included.
    let e = History::parse(EDN, &LoadOptions::default()).unwrap();
    let t = History::parse(TEXT, &LoadOptions::default()).unwrap();
    for (a, b) in e.ops.iter().zip(&t.ops) {
        assert_eq!(
            (&a.process, a.op_type, &a.f, &a.value),
            (&b.process, b.op_type, &b.f, &b.value)
        );
        assert_eq!(a.index, b.index);
    }
}
