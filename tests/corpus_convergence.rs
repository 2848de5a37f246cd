//! The reference corpus, checked for convergence. Linearizability implies
//! convergence (every read sees the state of one order), so a history the
//! linearizability checker finds linearizable must never be found not
//! convergent. The corpus is found through `LABRYS_CORPUS`; when it is
//! unset the tests say so and pass.

mod common;
use common::corpus;

use labrys::check::convergence::{self, ConvergenceOptions, FinalReadRule};
use labrys::check::linearizable::check_model;
use labrys::check::{CheckOptions, Verdict};
use labrys::history::{History, LoadOptions, Value};
use labrys::model::{ModelKind, ModelOptions};

/// The files of one folder of `EXPECTED.tsv`.
fn files(root: &std::path::Path, dir: &str) -> Vec<String> {
    let tsv = std::fs::read_to_string(root.join("EXPECTED.tsv")).expect("EXPECTED.tsv");
    tsv.lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .filter(|f| f.starts_with(dir))
        .map(str::to_string)
        .collect()
}

/// Every linearizable history of `dir` is not found non-convergent, under
/// each final-read rule and with every read after the last update final;
/// returns how many were linearizable.
fn linearizable_never_diverges(root: &std::path::Path, dir: &str, kind: ModelKind) -> usize {
    let model = ModelOptions {
        initial: if kind == ModelKind::Kv {
            Value::Str("".into())
        } else {
            Value::Nil
        },
        ..ModelOptions::default()
    };
    let mut linearizable = 0;
    for file in files(root, dir) {
        let h = History::load(&root.join(&file), &LoadOptions::default()).expect(&file);
        let lin = check_model(&h, kind, &model, &CheckOptions::default()).expect(&file);
        if lin.valid != Verdict::Valid || h.operations.is_empty() {
            continue;
        }
        linearizable += 1;
        for (rule, latest_per_replica) in [
            (FinalReadRule::AfterLastUpdate, true),
            (FinalReadRule::AfterLastUpdate, false),
            (FinalReadRule::AfterHeal, true),
        ] {
            let options = ConvergenceOptions {
                final_reads: rule,
                latest_per_replica,
                ..ConvergenceOptions::default()
            };
            let r = convergence::check(&h, kind, &model, &options);
            assert_ne!(
                r.valid,
                Verdict::Invalid,
                "{file} is linearizable, yet ({rule:?}, latest per replica {latest_per_replica}): {:?}",
                r.reasons
            );
        }
    }
    linearizable
}

#[test]
fn linearizable_etcd_histories_are_never_found_not_convergent() {
    let Some(root) = corpus() else { return };
    assert_eq!(
        linearizable_never_diverges(&root, "etcd/", ModelKind::CasRegister),
        23
    );
}

#[test]
fn linearizable_kv_histories_are_never_found_not_convergent() {
    let Some(root) = corpus() else { return };
    assert_eq!(linearizable_never_diverges(&root, "kv/", ModelKind::Kv), 3);
}

/// etcd_007 and etcd_048 read one value and then another while crashed
/// writes and cas ops were still pending: one of them may have taken
/// effect between the reads, so convergence cannot be judged.
#[test]
fn pending_crashed_writes_leave_diverging_etcd_reads_unknown() {
    let Some(root) = corpus() else { return };
    for file in ["etcd/etcd_007.log", "etcd/etcd_048.log"] {
        let h = History::load(&root.join(file), &LoadOptions::default()).expect(file);
        let r = convergence::check(
            &h,
            ModelKind::CasRegister,
            &ModelOptions::default(),
            &ConvergenceOptions::default(),
        );
        assert_eq!(r.valid, Verdict::Unknown, "{file}: {:?}", r.reasons);
        assert!(r.keys[0].final_values.len() > 1, "{file}");
        assert!(
            r.reasons[0].contains("indeterminate"),
            "{file}: {:?}",
            r.reasons
        );
    }
}
