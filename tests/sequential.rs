//! Sequential consistency: the project's own example histories, classic
//! cases written as JSON, and the reference corpus (when `LABRYS_CORPUS`
//! names it).

mod common;
use common::corpus;

use labrys::check::sequential::{check, validate_order, Decision, SequentialReport};
use labrys::check::{CheckOptions, Verdict};
use labrys::gen::{generate, FaultRate, Faults, GenOptions, Mode};
use labrys::history::{History, LoadOptions};
use labrys::model::{CasRegister, Kv, ModelKind, ModelOptions, Register};
use std::path::Path;
use std::time::Instant;

fn register(h: &History) -> SequentialReport {
    check(
        h,
        &Register::new(&ModelOptions::default()),
        &CheckOptions::default(),
    )
    .unwrap()
}

fn load(path: &Path) -> History {
    History::load(path, &LoadOptions::default()).unwrap()
}

fn example(name: &str) -> History {
    load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("histories/register")
            .join(name),
    )
}

#[test]
fn sequential_but_not_linearizable_example_is_valid() {
    let r = register(&example("sequential-not-linearizable.edn"));
    assert_eq!(r.valid, Verdict::Valid, "{}", r.summary);
    assert_eq!(r.order.unwrap().len(), 6);
}

#[test]
fn writes_seen_in_two_orders_example_is_invalid() {
    let r = register(&example("writes-seen-in-two-orders.edn"));
    assert_eq!(r.valid, Verdict::Invalid);
    let cx = r.counterexample.unwrap();
    assert!(cx.one_minimal);
    // The JSON names the evidence as the linearizability checker does.
    let json = serde_json::to_value(&cx).unwrap();
    assert_eq!(json["minimal_verified"], true);
    assert!(json["blocked"][0]["reason"].is_string(), "{json}");
    assert!(json["frontier"]["ops"].is_array(), "{json}");
    assert_eq!(cx.minimal.unwrap().len(), 6);
    assert!(
        cx.explanation
            .contains("process 2 does read 1, then read 2"),
        "{}",
        cx.explanation
    );
}

fn kv(h: &History) -> SequentialReport {
    check(
        h,
        &Kv::kv(&ModelOptions::default()),
        &CheckOptions::default(),
    )
    .unwrap()
}

fn why(r: SequentialReport) -> String {
    r.counterexample.expect("a counterexample").why
}

#[test]
fn writes_seen_in_two_orders_explained_by_the_two_readers() {
    let why = why(register(&example("writes-seen-in-two-orders.edn")));
    assert_eq!(
        why,
        "process 2 read 1 and then read 2, so 1 was written before 2; \
         process 3 read 2 and then read 1, so 2 was written before 1: \
         no single order of the writes allows both"
    );
}

#[test]
fn iriw_explained_by_the_two_readers() {
    let h = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("histories/kv/iriw.edn"));
    let why = why(kv(&h));
    assert_eq!(
        why,
        "process 2 read 1 from key \"x\" and then read nil from key \"y\", \
         so the write of 1 to key \"x\" came before the write of 1 to key \"y\"; \
         process 3 read 1 from key \"y\" and then read nil from key \"x\", \
         so the write of 1 to key \"y\" came before the write of 1 to key \"x\": \
         no single order of the writes allows both"
    );
}

#[test]
fn store_buffering_explained_by_both_writers() {
    let h = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("histories/kv/store-buffering.edn"));
    let why = why(kv(&h));
    assert!(
        why.contains(
            "process 0 wrote 1 to key \"x\" and then read nil from key \"y\", \
             so the write of 1 to key \"x\" came before the write of 1 to key \"y\""
        ),
        "{why}"
    );
    assert!(
        why.contains(
            "process 1 wrote 1 to key \"y\" and then read nil from key \"x\", \
             so the write of 1 to key \"y\" came before the write of 1 to key \"x\""
        ),
        "{why}"
    );
}

/// Histories from `labrys gen --mode sc` (8 processes x 1,250 ops, with
/// unique or repeated values): sequentially consistent by construction,
/// and broken by one read behind the reader's own write. Every one is
/// decided, a valid one with an order that checks, and the sentence names
/// the faulty read. The sentence is taken without shrinking: a minimal
/// sub-history may be refuted for another reason, and its sentence is
/// about that.
fn generated_sc_histories_are_decided(unique_values: bool) {
    for (model, name) in [(ModelKind::Register, "register"), (ModelKind::Kv, "kv")] {
        for seed in 0..3 {
            let options = |faults| GenOptions {
                mode: Mode::SequentiallyConsistent,
                model,
                seed,
                clients: 8,
                ops: 10_000,
                unique_values,
                faults,
                ..GenOptions::default()
            };
            let mo = ModelOptions::default();
            let check_it = |h: &History, options: &CheckOptions| {
                match model {
                    ModelKind::Kv => check(h, &Kv::kv(&mo), options),
                    _ => check(h, &Register::new(&mo), options),
                }
                .unwrap()
            };
            let good = generate(&options(Faults::default())).unwrap();
            let h = History::from_ops(good.ops).unwrap();
            let r = check_it(&h, &CheckOptions::default());
            assert_eq!(r.valid, Verdict::Valid, "{name} seed {seed}: {}", r.summary);
            let order = r.order.expect("an order");
            let checked = match model {
                ModelKind::Kv => validate_order(&h, &Kv::kv(&mo), &order),
                _ => validate_order(&h, &Register::new(&mo), &order),
            };
            assert_eq!(checked, Ok(()), "{name} seed {seed}");

            let bad = generate(&options(Faults {
                read_behind_own_write: FaultRate::Exactly(1),
                ..Faults::default()
            }))
            .unwrap();
            assert_eq!(bad.faults.len(), 1, "{name} seed {seed}");
            let fault = bad.faults[0].clone();
            let h = History::from_ops(bad.ops).unwrap();
            let read = h
                .operations
                .iter()
                .find(|o| h.ops[o.invoke].index == fault.index)
                .expect("the faulty read");
            let value = h.output(read).expect("a value").to_string();
            let r = check_it(&h, &CheckOptions::default());
            assert_eq!(r.valid, Verdict::Invalid, "{name} seed {seed}");
            let unshrunk = CheckOptions {
                shrink: false,
                ..CheckOptions::default()
            };
            let r = check_it(&h, &unshrunk);
            assert_eq!(r.valid, Verdict::Invalid, "{name} seed {seed}");
            let why = why(r);
            assert!(
                why.contains(&format!("process {}", fault.process))
                    && why.contains(&format!("read {value}")),
                "{name} seed {seed}: {fault:?}: {why}"
            );
        }
    }
}

#[test]
fn generated_sc_histories_are_decided_and_the_fault_explained() {
    generated_sc_histories_are_decided(true);
}

/// With repeated values (five per key), reads do not say which write
/// they saw; the fault reads back a value its reader wrote once.
#[test]
fn generated_sc_histories_with_repeated_values_are_decided() {
    generated_sc_histories_are_decided(false);
}

/// Sixteen processes with repeated values, the case the real-time pass
/// exists for: a search without it, or without its deadlines, does not
/// decide such kv histories (each key passes alone, and the global search
/// stalls on a wrong order of two updates of one key). Each is decided
/// valid, with an order that checks.
#[test]
fn generated_sc_histories_of_sixteen_processes_are_decided() {
    for (model, name) in [(ModelKind::Register, "register"), (ModelKind::Kv, "kv")] {
        for seed in 0..3 {
            let good = generate(&GenOptions {
                mode: Mode::SequentiallyConsistent,
                model,
                seed,
                clients: 16,
                ops: 10_000,
                ..GenOptions::default()
            })
            .unwrap();
            let h = History::from_ops(good.ops).unwrap();
            let mo = ModelOptions::default();
            let options = CheckOptions {
                timeout: Some(std::time::Duration::from_secs(120)),
                ..CheckOptions::default()
            };
            let (r, checked) = match model {
                ModelKind::Kv => {
                    let r = check(&h, &Kv::kv(&mo), &options).unwrap();
                    let order = r.order.clone().expect("an order");
                    (r, validate_order(&h, &Kv::kv(&mo), &order))
                }
                _ => {
                    let r = check(&h, &Register::new(&mo), &options).unwrap();
                    let order = r.order.clone().expect("an order");
                    (r, validate_order(&h, &Register::new(&mo), &order))
                }
            };
            assert_eq!(r.valid, Verdict::Valid, "{name} seed {seed}: {}", r.summary);
            assert_eq!(checked, Ok(()), "{name} seed {seed}");
        }
    }
}

/// Without shrinking, a refutation by a cycle that needs fact 4 (store
/// buffering) still gets the sentence in plain words, even when the
/// history is too long for the search for a cycle in the whole of it.
#[test]
fn a_fact_4_cycle_is_explained_without_shrinking() {
    let mut lines = vec![
        r#"{"process": 0, "type": "invoke", "f": "write", "key": "x", "value": 1}"#.to_string(),
        r#"{"process": 1, "type": "invoke", "f": "write", "key": "y", "value": 1}"#.to_string(),
        r#"{"process": 0, "type": "ok", "f": "write", "key": "x", "value": 1}"#.to_string(),
        r#"{"process": 1, "type": "ok", "f": "write", "key": "y", "value": 1}"#.to_string(),
        r#"{"process": 0, "type": "invoke", "f": "read", "key": "y", "value": null}"#.to_string(),
        r#"{"process": 1, "type": "invoke", "f": "read", "key": "x", "value": null}"#.to_string(),
        r#"{"process": 0, "type": "ok", "f": "read", "key": "y", "value": null}"#.to_string(),
        r#"{"process": 1, "type": "ok", "f": "read", "key": "x", "value": null}"#.to_string(),
    ];
    // Padding: 300 more ops, of a third process on a third key.
    for v in 0..150 {
        for (t, f, value) in [
            ("invoke", "write", v.to_string()),
            ("ok", "write", v.to_string()),
            ("invoke", "read", "null".to_string()),
            ("ok", "read", v.to_string()),
        ] {
            lines.push(format!(
                r#"{{"process": 2, "type": "{t}", "f": "{f}", "key": "z", "value": {value}}}"#
            ));
        }
    }
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let h = json(&lines);
    let options = CheckOptions {
        shrink: false,
        ..CheckOptions::default()
    };
    let r = check(&h, &Kv::kv(&ModelOptions::default()), &options).unwrap();
    assert_eq!(r.valid, Verdict::Invalid);
    assert_eq!(r.decision, Decision::GlobalRefuted);
    let why = why(r);
    assert!(!why.starts_with("no order"), "{why}");
    assert!(
        why.contains("process 0 wrote 1 to key \"x\" and then read nil from key \"y\""),
        "{why}"
    );
    assert!(
        why.contains("process 1 wrote 1 to key \"y\" and then read nil from key \"x\""),
        "{why}"
    );
}

fn json(lines: &[&str]) -> History {
    History::parse(&lines.join("\n"), &LoadOptions::default()).unwrap()
}

#[test]
fn iriw_is_refuted_globally_though_each_key_passes() {
    let h = json(&[
        r#"{"process": 0, "type": "invoke", "f": "write", "key": "x", "value": 1}"#,
        r#"{"process": 1, "type": "invoke", "f": "write", "key": "y", "value": 1}"#,
        r#"{"process": 0, "type": "ok", "f": "write", "key": "x", "value": 1}"#,
        r#"{"process": 1, "type": "ok", "f": "write", "key": "y", "value": 1}"#,
        r#"{"process": 2, "type": "invoke", "f": "read", "key": "x", "value": null}"#,
        r#"{"process": 3, "type": "invoke", "f": "read", "key": "y", "value": null}"#,
        r#"{"process": 2, "type": "ok", "f": "read", "key": "x", "value": 1}"#,
        r#"{"process": 3, "type": "ok", "f": "read", "key": "y", "value": 1}"#,
        r#"{"process": 2, "type": "invoke", "f": "read", "key": "y", "value": null}"#,
        r#"{"process": 3, "type": "invoke", "f": "read", "key": "x", "value": null}"#,
        r#"{"process": 2, "type": "ok", "f": "read", "key": "y", "value": null}"#,
        r#"{"process": 3, "type": "ok", "f": "read", "key": "x", "value": null}"#,
    ]);
    let r = register(&h);
    assert_eq!(r.valid, Verdict::Invalid);
    assert_eq!(r.decision, Decision::GlobalRefuted);
    assert!(r.keys.iter().all(|k| k.valid == Verdict::Valid));
    let text = serde_json::to_string(&r).unwrap();
    assert!(text.contains("\"kind\":\"global-refuted\""), "{text}");
}

#[test]
fn store_buffering_is_refuted_globally() {
    let h = json(&[
        r#"{"process": 0, "type": "invoke", "f": "write", "key": "x", "value": 1}"#,
        r#"{"process": 1, "type": "invoke", "f": "write", "key": "y", "value": 1}"#,
        r#"{"process": 0, "type": "ok", "f": "write", "key": "x", "value": 1}"#,
        r#"{"process": 1, "type": "ok", "f": "write", "key": "y", "value": 1}"#,
        r#"{"process": 0, "type": "invoke", "f": "read", "key": "y", "value": null}"#,
        r#"{"process": 1, "type": "invoke", "f": "read", "key": "x", "value": null}"#,
        r#"{"process": 0, "type": "ok", "f": "read", "key": "y", "value": null}"#,
        r#"{"process": 1, "type": "ok", "f": "read", "key": "x", "value": null}"#,
    ]);
    let r = register(&h);
    assert_eq!(r.valid, Verdict::Invalid);
    assert_eq!(r.decision, Decision::GlobalRefuted);
    assert_eq!(r.keys.len(), 2);
}

/// Every etcd history is decided (no unknown), and every history known to
/// be linearizable is also sequentially consistent; the empty one gives
/// nothing to judge, and is unknown.
#[test]
fn etcd_corpus_is_decided_and_linearizable_implies_sequential() {
    let Some(dir) = corpus() else { return };
    let expected = std::fs::read_to_string(dir.join("EXPECTED.tsv")).unwrap();
    let model = CasRegister::new(&ModelOptions::default());
    let (mut sc, mut files) = (0, 0);
    let start = Instant::now();
    for line in expected.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if !cols[0].starts_with("etcd/") {
            continue;
        }
        let h = load(&dir.join(cols[0]));
        let t = Instant::now();
        let r = check(&h, &model, &CheckOptions::default()).unwrap();
        eprintln!(
            "{}: {} ({} configurations, {:.1} ms)",
            cols[0],
            r.valid.word(),
            r.configurations,
            t.elapsed().as_secs_f64() * 1e3
        );
        files += 1;
        if h.operations.is_empty() {
            assert!(
                matches!(r.decision, Decision::NothingToJudge { .. }),
                "{}",
                cols[0]
            );
            assert_eq!(r.valid, Verdict::Unknown, "{}", cols[0]);
            continue;
        }
        assert_ne!(r.valid, Verdict::Unknown, "{}", cols[0]);
        if cols[3] == "valid" {
            assert_eq!(r.valid, Verdict::Valid, "{} is linearizable", cols[0]);
        }
        sc += (r.valid == Verdict::Valid) as usize;
    }
    eprintln!(
        "etcd: {sc} of {files} histories sequentially consistent, {:.2} s",
        start.elapsed().as_secs_f64()
    );
    assert_eq!(files, 103);
    // Measured: every etcd history is sequentially consistent (their
    // anomalies are stale reads, which sequential consistency allows),
    // but the empty one, which has nothing to judge.
    assert_eq!(sc, files - 1);
}

/// Linearizable implies sequentially consistent, over the whole reference
/// corpus (etcd and kv): for every history `EXPECTED.tsv` calls
/// linearizable, the sequential checker says valid when it runs beside the
/// linearizability checker (the linearization is a witness), and never
/// says invalid on its own (its own search, within a time limit: the kv
/// traces, with appends and up to 50 clients, may stay unknown alone).
#[test]
fn linearizable_implies_sequential_over_the_whole_corpus() {
    use labrys::check::run::{run, Plan};
    use labrys::check::Consistency;
    let Some(dir) = corpus() else { return };
    let expected = std::fs::read_to_string(dir.join("EXPECTED.tsv")).unwrap();
    let (mut files, mut linearizable, mut witnessed, mut alone_valid) = (0, 0, 0, 0);
    for line in expected.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (model, model_options) = if cols[0].starts_with("kv/") {
            let o = ModelOptions {
                initial: labrys::history::Value::Str("".into()),
                ..ModelOptions::default()
            };
            (ModelKind::Kv, o)
        } else {
            (ModelKind::CasRegister, ModelOptions::default())
        };
        let options = CheckOptions {
            timeout: Some(std::time::Duration::from_secs(2)),
            shrink: false,
            ..CheckOptions::default()
        };
        let h = load(&dir.join(cols[0]));
        let r = run(
            &h,
            &Plan {
                model,
                model_options: model_options.clone(),
                checks: vec![Consistency::Linearizable, Consistency::Sequential],
                options: options.clone(),
                convergence: Default::default(),
            },
        )
        .unwrap();
        let lin = r.linearizable.unwrap().report.valid;
        let seq = r.sequential.unwrap().report;
        files += 1;
        if h.operations.is_empty() {
            // Nothing to judge: both unknown, whatever EXPECTED.tsv says.
            assert_eq!(
                (lin, seq.valid),
                (Verdict::Unknown, Verdict::Unknown),
                "{}",
                cols[0]
            );
            continue;
        }
        assert_eq!(lin == Verdict::Valid, cols[3] == "valid", "{}", cols[0]);
        if lin != Verdict::Valid {
            continue;
        }
        linearizable += 1;
        assert_eq!(seq.valid, Verdict::Valid, "{} is linearizable", cols[0]);
        witnessed += (seq.decision == Decision::Witness) as usize;
        let alone = match model {
            ModelKind::Kv => check(&h, &Kv::kv(&model_options), &options),
            _ => check(&h, &CasRegister::new(&model_options), &options),
        }
        .unwrap();
        assert_ne!(alone.valid, Verdict::Invalid, "{} is linearizable", cols[0]);
        alone_valid += (alone.valid == Verdict::Valid) as usize;
    }
    eprintln!(
        "{files} files, {linearizable} linearizable: all sequentially consistent \
         ({witnessed} by the linearization); {alone_valid} decided valid by the search alone"
    );
    assert_eq!(files, 109);
    assert_eq!(linearizable, 23 + 3);
    assert!(witnessed > 0);
}

/// The kv traces of the corpus are decided by the sequential checker on
/// its own, with no linearization to lean on: the linearizable ones are
/// sequentially consistent, and each of the others has a key that is not
/// sequentially consistent even on its own (its reads see appends in
/// orders no single order of that key's ops gives), checked here against
/// the minimal counterexample, which is re-verified by a search.
#[test]
fn kv_corpus_is_decided_by_the_sequential_checker_alone() {
    let Some(dir) = corpus() else { return };
    let o = ModelOptions {
        initial: labrys::history::Value::Str("".into()),
        ..ModelOptions::default()
    };
    for name in ["c01", "c10", "c50"] {
        for (kind, want) in [("ok", Verdict::Valid), ("bad", Verdict::Invalid)] {
            let file = format!("kv/{name}-{kind}.txt");
            let h = load(&dir.join(&file));
            let options = CheckOptions {
                timeout: Some(std::time::Duration::from_secs(20)),
                ..CheckOptions::default()
            };
            let t = Instant::now();
            let r = check(&h, &Kv::kv(&o), &options).unwrap();
            eprintln!(
                "{file}: {} ({:?}, {:.2} s)",
                r.valid.word(),
                r.decision,
                t.elapsed().as_secs_f64()
            );
            assert_eq!(r.valid, want, "{file}: {}", r.summary);
            if want == Verdict::Invalid {
                assert!(matches!(r.decision, Decision::KeyRefuted { .. }), "{file}");
                let cx = r.counterexample.unwrap();
                assert!(cx.minimal.is_some_and(|m| !m.is_empty()), "{file}");
            }
        }
    }
}

/// A search that runs out of time says unknown, promptly, never valid or
/// invalid. The history is one the search cannot decide within the
/// limit: a generated kv store with few distinct values (so reads do not
/// say which write they read from), 16 clients and 160,000 ops, given
/// 20 ms.
#[test]
fn a_search_out_of_time_says_unknown() {
    let g = generate(&GenOptions {
        mode: Mode::SequentiallyConsistent,
        model: ModelKind::Kv,
        seed: 1,
        clients: 16,
        ops: 160_000,
        ..GenOptions::default()
    })
    .unwrap();
    let h = History::from_ops(g.ops).unwrap();
    let options = CheckOptions {
        timeout: Some(std::time::Duration::from_millis(20)),
        ..CheckOptions::default()
    };
    let start = Instant::now();
    let r = check(&h, &Kv::kv(&ModelOptions::default()), &options).unwrap();
    assert!(start.elapsed().as_secs_f64() < 3.0, "{:?}", start.elapsed());
    assert_eq!(r.valid, Verdict::Unknown, "{}", r.summary);
    match r.decision {
        Decision::Unknown { reason } => assert!(reason.starts_with("time ran out"), "{reason}"),
        d => panic!("{d:?}"),
    }
    assert!(r.counterexample.is_none());
}
