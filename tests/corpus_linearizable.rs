//! The reference corpus, checked for linearizability: every verdict must
//! match `EXPECTED.tsv`, except that the empty `etcd_095.log`, which it
//! calls trivially linearizable, is unknown here: a history with no client
//! operation gives the checker nothing to judge, and labrys does not pass
//! a run that recorded nothing (`CheckOptions::allow_empty` makes it
//! valid). The corpus is found through `LABRYS_CORPUS`; when
//! it is unset the tests say so and pass.

mod common;
use common::corpus;

use labrys::check::linearizable::check_model;
use labrys::check::{CheckOptions, Verdict};
use labrys::history::{History, LoadOptions};
use labrys::model::{ModelKind, ModelOptions};

/// (file, expected linearizable) for every etcd entry of EXPECTED.tsv.
fn expected(root: &std::path::Path, dir: &str) -> Vec<(String, bool)> {
    let tsv = std::fs::read_to_string(root.join("EXPECTED.tsv")).expect("EXPECTED.tsv");
    tsv.lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.len() >= 4 && cols[0].starts_with(dir))
                .then(|| (cols[0].to_string(), cols[3] == "valid"))
        })
        .collect()
}

#[test]
fn etcd_verdicts_match_under_both_failed_cas_readings() {
    let Some(root) = corpus() else { return };
    let files = expected(&root, "etcd/");
    assert_eq!(files.len(), 103);
    let (mut valid, mut invalid, mut empty) = (0, 0, 0);
    for observes in [false, true] {
        let model_options = ModelOptions {
            failed_cas_observes: observes,
            ..ModelOptions::default()
        };
        for (file, linearizable) in &files {
            let h = History::load(&root.join(file), &LoadOptions::default()).expect(file);
            let check = |options: &CheckOptions| {
                check_model(&h, ModelKind::CasRegister, &model_options, options).expect(file)
            };
            let r = check(&CheckOptions::default());
            if h.operations.is_empty() {
                assert!(file.ends_with("etcd_095.log"), "{file}");
                assert!(*linearizable, "{file}");
                // Nothing to judge: unknown, and valid only when allowed.
                assert_eq!(r.valid, Verdict::Unknown, "{file}");
                assert!(r.nothing_to_judge.is_some(), "{file}");
                let allowed = CheckOptions {
                    allow_empty: true,
                    ..CheckOptions::default()
                };
                assert_eq!(check(&allowed).valid, Verdict::Valid, "{file}");
                empty += 1;
                continue;
            }
            let want = if *linearizable {
                Verdict::Valid
            } else {
                Verdict::Invalid
            };
            assert_eq!(r.valid, want, "{file} (failed cas observes: {observes})");
            if *linearizable {
                valid += 1;
            } else {
                invalid += 1;
                let e = r.partitions[0].evidence.as_ref().expect("evidence");
                assert!(e.minimal_verified, "{file}");
                assert!(!e.blocked.is_empty(), "{file}");
            }
        }
    }
    assert_eq!((valid, invalid, empty), (2 * 23, 2 * 79, 2));
}

fn kv_options() -> ModelOptions {
    ModelOptions {
        initial: labrys::history::Value::Str("".into()),
        ..ModelOptions::default()
    }
}

#[test]
fn kv_partitioned_verdicts_match() {
    let Some(root) = corpus() else { return };
    let files = expected(&root, "kv/");
    assert_eq!(files.len(), 6);
    for (file, linearizable) in &files {
        let h = History::load(&root.join(file), &LoadOptions::default()).expect(file);
        let r =
            check_model(&h, ModelKind::Kv, &kv_options(), &CheckOptions::default()).expect(file);
        assert!(r.partitioned, "{file}");
        let want = if *linearizable {
            Verdict::Valid
        } else {
            Verdict::Invalid
        };
        assert_eq!(r.valid, want, "{file}");
        // Gate mode: the first failing key, and only it, has evidence.
        let with: Vec<bool> = r
            .partitions
            .iter()
            .filter(|p| p.valid == Verdict::Invalid)
            .map(|p| p.evidence.is_some())
            .collect();
        if !linearizable {
            assert!(with[0] && !with[1..].contains(&true), "{file}");
        }
    }
}

#[test]
fn kv_report_mode_refutes_every_key_with_evidence() {
    let Some(root) = corpus() else { return };
    let h = History::load(&root.join("kv/c50-bad.txt"), &LoadOptions::default()).expect("c50-bad");
    let options = CheckOptions {
        report_all: true,
        ..CheckOptions::default()
    };
    let r = check_model(&h, ModelKind::Kv, &kv_options(), &options).expect("checks");
    assert_eq!(r.partitions.len(), 10);
    for p in &r.partitions {
        assert_eq!(p.valid, Verdict::Invalid, "key {:?}", p.key);
        let e = p.evidence.as_ref().expect("evidence for every key");
        assert!(!e.minimal.as_ref().expect("shrunk").is_empty());
    }
}

#[test]
fn kv_as_one_object_matches_for_small_files() {
    let Some(root) = corpus() else { return };
    let options = CheckOptions {
        partition: false,
        shrink: false,
        ..CheckOptions::default()
    };
    for (file, linearizable) in expected(&root, "kv/") {
        if file.contains("c50") {
            continue; // see kv_as_one_object_c50_never_contradicts
        }
        let h = History::load(&root.join(&file), &LoadOptions::default()).expect(&file);
        let r = check_model(&h, ModelKind::Kv, &kv_options(), &options).expect(&file);
        assert!(!r.partitioned);
        assert_eq!(r.valid == Verdict::Valid, linearizable, "{file}");
        assert_ne!(r.valid, Verdict::Unknown, "{file}");
    }
}

#[test]
fn kv_as_one_object_c50_never_contradicts() {
    let Some(root) = corpus() else { return };
    // Gated on time: a verdict within the budget must be right; unknown is
    // allowed.
    let options = CheckOptions {
        partition: false,
        shrink: false,
        timeout: Some(std::time::Duration::from_secs(10)),
        ..CheckOptions::default()
    };
    for (file, linearizable) in expected(&root, "kv/") {
        if !file.contains("c50") {
            continue;
        }
        let h = History::load(&root.join(&file), &LoadOptions::default()).expect(&file);
        let r = check_model(&h, ModelKind::Kv, &kv_options(), &options).expect(&file);
        if r.valid == Verdict::Unknown {
            eprintln!("{file}: unknown within the time budget");
        } else {
            assert_eq!(r.valid == Verdict::Valid, linearizable, "{file}");
        }
    }
}
