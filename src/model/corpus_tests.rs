//! Checks the models against the reference corpus, when `LABRYS_CORPUS`
//! names it: every op compiles, the model is inferred, and a small
//! exhaustive search (test-only, memoized on linearized set and state)
//! reproduces the known linearizability verdicts under each reading of
//! failed cas.

use super::{Call, CasRegister, KvRegister, Model, ModelKind, ModelOptions};
use crate::history::{History, LoadOptions, Value};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("LABRYS_CORPUS").map(PathBuf::from);
    if dir.is_none() {
        eprintln!("skipped: LABRYS_CORPUS not set");
    }
    dir
}

/// The expected verdicts: file -> linearizable?
fn expected(root: &std::path::Path) -> BTreeMap<String, bool> {
    let text = std::fs::read_to_string(root.join("EXPECTED.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Some((cols.first()?.to_string(), *cols.get(3)? == "valid"))
        })
        .collect()
}

/// Is this subset of the history's operations linearizable under `m`?
/// Wing & Gong's search with Lowe's memo of (linearized ops, state).
fn linearizable<M: Model>(m: &mut M, h: &History, ids: &[usize]) -> bool {
    let mut ops = Vec::new();
    for &id in ids {
        let o = &h.operations[id];
        if let Some(op) = m.compile(&Call::of(h, o)).unwrap() {
            ops.push((o.invoke, o.response(), op));
        }
    }
    let n = ops.len();
    let mut seen = HashSet::new();
    let mut done = vec![0u64; n.div_ceil(64)];
    fn go<M: Model>(
        m: &M,
        ops: &[(usize, usize, M::Op)],
        done: &mut Vec<u64>,
        state: &M::State,
        seen: &mut HashSet<(Vec<u64>, M::State)>,
    ) -> bool {
        let is_done = |d: &[u64], i: usize| d[i / 64] & (1 << (i % 64)) != 0;
        let first_return = (0..ops.len())
            .filter(|&i| !is_done(done, i))
            .map(|i| ops[i].1)
            .min();
        let Some(first_return) = first_return else {
            return true;
        };
        if first_return == usize::MAX {
            return true; // only indeterminate ops are left; they may never happen
        }
        for i in 0..ops.len() {
            if is_done(done, i) || ops[i].0 > first_return {
                continue;
            }
            if let Some(next) = m.step(state, &ops[i].2) {
                done[i / 64] |= 1 << (i % 64);
                if seen.insert((done.clone(), next.clone())) && go(m, ops, done, &next, seen) {
                    return true;
                }
                done[i / 64] &= !(1 << (i % 64));
            }
        }
        false
    }
    let init = m.init();
    go(m, &ops, &mut done, &init, &mut seen)
}

#[test]
fn etcd_verdicts_are_reproduced_with_both_cas_readings() {
    let Some(root) = corpus() else { return };
    let verdicts = expected(&root);
    let mut checked = 0;
    for (file, valid) in verdicts.iter().filter(|(f, _)| f.starts_with("etcd/")) {
        let h = History::load(&root.join(file), &LoadOptions::default()).unwrap();
        if h.operations.is_empty() {
            continue;
        }
        assert_eq!(ModelKind::infer(&h), Ok(ModelKind::CasRegister), "{file}");
        let ids: Vec<usize> = (0..h.operations.len()).collect();
        for porcupine in [false, true] {
            let opts = ModelOptions {
                failed_cas_observes: porcupine,
                ..ModelOptions::default()
            };
            let got = linearizable(&mut CasRegister::new(&opts), &h, &ids);
            assert_eq!(got, *valid, "{file} (failed cas observes: {porcupine})");
        }
        checked += 1;
    }
    assert_eq!(checked, 102);
}

#[test]
fn kv_verdicts_are_reproduced_key_by_key_on_small_files() {
    let Some(root) = corpus() else { return };
    let verdicts = expected(&root);
    let opts = ModelOptions {
        initial: Value::from(""),
        ..ModelOptions::default()
    };
    let mut checked = 0;
    // The 50-client files need a real checker, not this naive search.
    let small = |f: &str| f.starts_with("kv/c01") || f.starts_with("kv/c10");
    for (file, valid) in verdicts.iter().filter(|(f, _)| small(f)) {
        let h = History::load(&root.join(file), &LoadOptions::default()).unwrap();
        assert_eq!(ModelKind::infer(&h), Ok(ModelKind::Kv), "{file}");
        let mut by_key: BTreeMap<Option<&Value>, Vec<usize>> = BTreeMap::new();
        for (id, o) in h.operations.iter().enumerate() {
            by_key.entry(h.key(o)).or_default().push(id);
        }
        let got = by_key
            .values()
            .all(|ids| linearizable(&mut KvRegister::new(&opts), &h, ids));
        assert_eq!(got, *valid, "{file}");
        checked += 1;
    }
    assert_eq!(checked, 4);
}
