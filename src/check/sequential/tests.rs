//! Tests: classic cases, a brute-force oracle and property tests.

use super::engine::{search, Found, Limits, Rules};
use super::problem::Problem;
use super::*;
use crate::history::{Op, OpType, Outcome};
use crate::model::Call;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::cell::Cell;

/// A register (with compare-and-set) for tests, independent of the
/// crate's models.
#[derive(Clone, Debug)]
pub(crate) struct Reg;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ROp {
    Read(Option<i64>),
    Write(i64),
    Cas(Option<i64>, i64),
}

impl Model for Reg {
    type State = Option<i64>;
    type Op = ROp;
    fn name(&self) -> &'static str {
        "test-register"
    }
    fn compile(&mut self, call: &Call<'_>) -> Result<Option<ROp>, String> {
        if call.outcome == Outcome::Fail {
            return Ok(None);
        }
        Ok(match call.f {
            "read" => call.output.map(|v| ROp::Read(v.as_int())),
            "write" => Some(ROp::Write(
                call.input.as_int().ok_or("expected an integer")?,
            )),
            "cas" => {
                let v = call.input.as_vector().ok_or("expected [from to]")?;
                Some(ROp::Cas(v[0].as_int(), v[1].as_int().ok_or("expected to")?))
            }
            f => return Err(format!("unknown f {f}")),
        })
    }
    fn init(&self) -> Option<i64> {
        None
    }
    fn step(&self, s: &Option<i64>, op: &ROp) -> Option<Option<i64>> {
        match op {
            ROp::Read(v) => (v == s).then_some(*s),
            ROp::Write(v) => Some(Some(*v)),
            ROp::Cas(from, to) => (from == s).then_some(Some(*to)),
        }
    }
    fn explain(&self, s: &Option<i64>, op: &ROp) -> String {
        format!(
            "can't {} when the {}",
            self.describe_op(op),
            self.describe_state(s)
        )
    }
    fn describe_op(&self, op: &ROp) -> String {
        let v = |x: &Option<i64>| x.map_or("nil".to_string(), |x| x.to_string());
        match op {
            ROp::Read(x) => format!("read {}", v(x)),
            ROp::Write(x) => format!("write {x}"),
            ROp::Cas(f, t) => format!("cas {} -> {t}", v(f)),
        }
    }
    fn describe_state(&self, s: &Option<i64>) -> String {
        format!(
            "register holds {}",
            s.map_or("nil".to_string(), |x| x.to_string())
        )
    }
}

/// Exact hints for [`Reg`].
pub(crate) struct RegHints;

impl Hints<Reg> for RegHints {
    fn describe_value(&self, _: &Reg, s: &Option<i64>) -> Option<String> {
        Some(s.map_or("nil".to_string(), |x| x.to_string()))
    }
    fn effect(&self, _: &Reg, op: &ROp) -> Effect<Option<i64>> {
        match op {
            ROp::Read(_) => Effect::Unchanged,
            ROp::Write(v) | ROp::Cas(_, v) => Effect::Sets(Some(*v)),
        }
    }
    fn always_enabled(&self, _: &Reg, op: &ROp) -> bool {
        matches!(op, ROp::Write(_))
    }
    fn requires(&self, _: &Reg, op: &ROp) -> Option<Option<i64>> {
        match op {
            ROp::Read(v) | ROp::Cas(v, _) => Some(*v),
            ROp::Write(_) => None,
        }
    }
}

/// One op for [`history`]: process, f, value (input, or a read's output),
/// outcome ('o' ok, 'f' fail, 'i' info), key.
type Spec<'a> = (i64, &'a str, Value, char, Option<i64>);

/// Builds a history in which each op completes before the next begins.
pub(crate) fn history(specs: &[Spec<'_>]) -> History {
    let mut ops = Vec::new();
    for (p, f, v, o, k) in specs {
        let read = *f == "read";
        let mut inv = Op::new(
            OpType::Invoke,
            *p,
            f,
            if read { Value::Nil } else { v.clone() },
        );
        let t = match o {
            'o' => OpType::Ok,
            'f' => OpType::Fail,
            _ => OpType::Info,
        };
        let mut done = Op::new(t, *p, f, v.clone());
        inv.key = k.map(Value::Int);
        done.key = k.map(Value::Int);
        ops.push(inv);
        ops.push(done);
    }
    History::from_ops(ops).expect("well-formed history")
}

fn w(p: i64, v: i64) -> Spec<'static> {
    (p, "write", Value::Int(v), 'o', None)
}
fn r(p: i64, v: Option<i64>) -> Spec<'static> {
    (p, "read", v.map_or(Value::Nil, Value::Int), 'o', None)
}
fn cas(p: i64, from: i64, to: i64) -> Spec<'static> {
    let v = Value::Vector(vec![Value::Int(from), Value::Int(to)]);
    (p, "cas", v, 'o', None)
}
fn on(mut s: Spec<'static>, k: i64) -> Spec<'static> {
    s.4 = Some(k);
    s
}

/// The options of the comparisons with brute force, which calls a history
/// with nothing to judge valid.
fn quiet() -> CheckOptions {
    CheckOptions {
        allow_empty: true,
        ..CheckOptions::default()
    }
}

fn both(h: &History) -> (SequentialReport, SequentialReport) {
    let a = check(h, &Reg, &quiet()).unwrap();
    let b = check_with_hints(h, &Reg, &RegHints, &quiet()).unwrap();
    assert_eq!(a.valid, b.valid, "hints must not change the verdict");
    (a, b)
}

/// Every order that keeps program order, each indeterminate op placed or
/// left out: does one obey the model?
fn brute<M: Model>(pb: &Problem<M>) -> bool {
    brute_with(pb, &[])
}

#[test]
fn accepts_stale_read_that_linearizability_rejects() {
    // p1's write completes before p2's read begins, yet p2 reads nil:
    // not linearizable, but the order read, write keeps both processes'
    // orders.
    let h = history(&[w(1, 1), r(2, None)]);
    let (a, b) = both(&h);
    assert_eq!(a.valid, Verdict::Valid);
    assert_eq!(a.decision, Decision::Ordered { keys_alone: false });
    assert_eq!(b.order, Some(vec![1, 0]));
}

#[test]
fn accepts_two_readers_agreeing_on_reversed_write_order() {
    // A writes 1, then (in real time) B writes 2; C and D both read 2 then
    // 1. Linearizability needs 1 before 2; the order w2 r2 r2 w1 r1 r1 is
    // sequentially consistent.
    let h = history(&[
        w(1, 1),
        w(2, 2),
        r(3, Some(2)),
        r(4, Some(2)),
        r(3, Some(1)),
        r(4, Some(1)),
    ]);
    let (a, _) = both(&h);
    assert_eq!(a.valid, Verdict::Valid);
    assert_eq!(validate_order(&h, &Reg, a.order.as_ref().unwrap()), Ok(()));
}

#[test]
fn rejects_readers_disagreeing_on_write_order() {
    let h = history(&[
        w(1, 1),
        w(2, 2),
        r(3, Some(2)),
        r(3, Some(1)),
        r(4, Some(1)),
        r(4, Some(2)),
    ]);
    let (a, b) = both(&h);
    assert_eq!(a.valid, Verdict::Invalid);
    assert_eq!(a.decision, Decision::Refuted);
    let cx = b.counterexample.unwrap();
    assert!(cx.one_minimal);
    assert!(!cx.blocked.is_empty());
    assert!(cx.explanation.contains("process 3"), "{}", cx.explanation);
}

#[test]
fn rejects_iriw_over_two_keys() {
    // Independent reads of independent writes: C sees x's write before
    // y's, D sees y's before x's. Each key alone is fine.
    let h = history(&[
        on(w(1, 1), 0),
        on(w(2, 1), 1),
        on(r(3, Some(1)), 0),
        on(r(3, None), 1),
        on(r(4, Some(1)), 1),
        on(r(4, None), 0),
    ]);
    let (a, b) = both(&h);
    assert_eq!(a.valid, Verdict::Invalid);
    assert_eq!(a.decision, Decision::GlobalRefuted);
    assert_eq!(a.keys.len(), 2);
    assert!(a.keys.iter().all(|k| k.valid == Verdict::Valid));
    assert_eq!(b.decision, Decision::GlobalRefuted);
    assert_eq!(b.counterexample.unwrap().minimal.unwrap().len(), 6);
}

#[test]
fn rejects_store_buffering_over_two_keys() {
    // Dekker: each process writes its key, then reads the other's initial
    // value.
    let h = history(&[
        on(w(1, 1), 0),
        on(r(1, None), 1),
        on(w(2, 1), 1),
        on(r(2, None), 0),
    ]);
    let (a, _) = both(&h);
    assert_eq!(a.valid, Verdict::Invalid);
    assert_eq!(a.decision, Decision::GlobalRefuted);
    let s = serde_json::to_value(&a).unwrap();
    assert_eq!(s["valid"], false);
    assert_eq!(s["decision"]["kind"], "global-refuted");
}

#[test]
fn a_key_failing_alone_refutes_the_history() {
    let h = history(&[
        on(w(1, 1), 0),
        on(r(2, Some(2)), 0),
        on(w(1, 5), 1),
        on(r(2, Some(5)), 1),
    ]);
    let (a, _) = both(&h);
    assert_eq!(a.valid, Verdict::Invalid);
    assert_eq!(a.decision, Decision::KeyRefuted { key: Value::Int(0) });
    assert!(a.summary.contains("key 0"));
    let cx = a.counterexample.unwrap();
    assert_eq!(cx.key, Some(Value::Int(0)));
    assert_eq!(
        cx.minimal.unwrap().len(),
        1,
        "reading 2 alone is impossible"
    );
}

#[test]
fn keyed_history_that_is_consistent() {
    let h = history(&[
        on(w(1, 1), 0),
        on(r(1, Some(1)), 1),
        on(w(2, 1), 1),
        on(r(2, Some(1)), 0),
    ]);
    let (a, _) = both(&h);
    assert_eq!(a.valid, Verdict::Valid);
    assert_eq!(a.decision, Decision::Merged);
}

#[test]
fn indeterminate_ops_may_or_may_not_happen() {
    let info = |p, v| (p, "write", Value::Int(v), 'i', None);
    // Took effect.
    assert_eq!(
        both(&history(&[info(1, 1), r(2, Some(1))])).0.valid,
        Verdict::Valid
    );
    // Never took effect.
    assert_eq!(
        both(&history(&[info(1, 1), r(2, None)])).0.valid,
        Verdict::Valid
    );
    // A failed write never took effect.
    let fail = (1, "write", Value::Int(1), 'f', None);
    let (a, _) = both(&history(&[fail, r(2, Some(1))]));
    assert_eq!(a.valid, Verdict::Invalid);
    // A process that goes on after an info op: the op stays in its order.
    let h = history(&[info(1, 1), w(1, 2), r(2, Some(1)), r(2, Some(2))]);
    assert_eq!(both(&h).0.valid, Verdict::Valid);
    let h = history(&[info(1, 1), w(1, 2), r(2, Some(2)), r(2, Some(1))]);
    assert_eq!(both(&h).0.valid, Verdict::Invalid);
    // ... or is left out.
    let h = history(&[info(1, 1), w(1, 2), r(2, None), r(2, Some(2))]);
    assert_eq!(both(&h).0.valid, Verdict::Valid);
}

#[test]
fn accepts_a_valid_witness_and_falls_back_on_a_bad_one() {
    let h = history(&[w(1, 1), r(2, None)]);
    let a = check_with_witness(&h, &Reg, &quiet(), &[1, 0]).unwrap();
    assert_eq!(a.decision, Decision::Witness);
    assert_eq!(a.configurations, 0);
    let b = check_with_witness(&h, &Reg, &quiet(), &[0, 1]).unwrap();
    assert_eq!(b.valid, Verdict::Valid);
    assert_eq!(b.decision, Decision::Ordered { keys_alone: false });
    assert!(validate_order(&h, &Reg, &[0, 1])
        .unwrap_err()
        .contains("cannot happen"));
    assert!(validate_order(&h, &Reg, &[1])
        .unwrap_err()
        .contains("missing"));
    assert!(validate_order(&h, &Reg, &[1, 0, 7])
        .unwrap_err()
        .contains("not in the history"));
}

#[test]
fn evidence_names_the_frontier_and_blocked_ops() {
    let h = history(&[w(1, 1), w(1, 2), r(2, Some(2)), r(2, Some(1))]);
    let a = check(&h, &Reg, &quiet()).unwrap();
    assert_eq!(a.valid, Verdict::Invalid);
    let cx = a.counterexample.unwrap();
    assert_eq!(cx.minimal.as_ref().unwrap().len(), 4);
    assert!(cx.one_minimal);
    let total: usize = cx.prefixes.iter().map(|p| p.total).sum();
    assert_eq!(total, 4);
    assert_eq!(cx.frontier.ops.len(), 3, "w1 w2 r2 is the furthest");
    assert_eq!(cx.blocked.len(), 1);
    assert_eq!(cx.blocked[0].op.op, "read 1");
    assert!(cx.blocked[0].reason.contains("register holds 2"));
    assert!(
        cx.explanation
            .contains("process 1 does write 1, then write 2"),
        "{}",
        cx.explanation
    );
}

#[test]
fn shrinks_to_a_one_minimal_core() {
    // Noise around a contradiction.
    let mut specs = vec![];
    for i in 0..6 {
        specs.push(w(5, 100 + i));
        specs.push(r(6, Some(100 + i)));
    }
    specs.extend([w(1, 1), w(1, 2), r(2, Some(2)), r(2, Some(1))]);
    for i in 0..4 {
        specs.push(r(7, Some(2)));
        specs.push(w(7, 200 + i));
    }
    let h = history(&specs);
    let a = check_with_hints(&h, &Reg, &RegHints, &quiet()).unwrap();
    assert_eq!(a.valid, Verdict::Invalid);
    let cx = a.counterexample.unwrap();
    assert!(cx.one_minimal);
    let ids: Vec<usize> = cx.minimal.unwrap().iter().map(|o| o.id).collect();
    // Removing any one op of the core makes it consistent, or leaves a
    // read of a value nothing writes.
    let pb = Problem::compile(&h, &Reg).unwrap();
    let core = pb.restrict(|_, c| ids.contains(&c.id));
    assert!(!brute(&core));
    assert_eq!(ids.len(), 4, "w1 w2 by one process, r2 r1 by another");
    for &drop in &ids {
        let sub = pb.restrict(|_, c| ids.contains(&c.id) && c.id != drop);
        assert!(
            brute(&sub) || super::shrink::thin_air(&sub),
            "dropping {drop} should make it consistent"
        );
    }
}

#[test]
fn cancelled_search_is_unknown() {
    let mut specs = vec![];
    for p in 0..8 {
        for i in 0..30 {
            specs.push(w(p, p * 100 + i));
        }
    }
    specs.push(r(99, Some(-1)));
    let h = history(&specs);
    let opts = quiet();
    opts.cancel
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let a = check(&h, &Reg, &opts).unwrap();
    assert_eq!(a.valid, Verdict::Unknown);
    assert_eq!(
        a.decision,
        Decision::Unknown {
            reason: "cancelled".into()
        }
    );
}

#[test]
fn empty_history_is_consistent() {
    let h = History::default();
    let a = check(&h, &Reg, &CheckOptions::default()).unwrap();
    assert_eq!(a.valid, Verdict::Unknown, "nothing to judge");
    assert!(matches!(a.decision, Decision::NothingToJudge { .. }));
    let a = check(&h, &Reg, &quiet()).unwrap();
    assert_eq!(a.valid, Verdict::Valid, "allowed");
}

/// A random small register history: `(process, kind, value, outcome, key)`.
fn arb_history(keys: i64, cas: bool) -> impl Strategy<Value = History> {
    let kinds = if cas { 3u8 } else { 2 };
    let op = (0..4i64, 0..kinds, 0..4i64, 0..10u8, 0..keys);
    prop::collection::vec(op, 0..9).prop_map(move |ops| {
        let mut specs: Vec<(i64, &str, Value, char, Option<i64>)> = Vec::new();
        for (p, kind, v, o, k) in ops {
            let outcome = match o {
                0 => 'f',
                1 | 2 => 'i',
                _ => 'o',
            };
            let key = (keys > 1).then_some(k);
            let spec = match kind {
                0 => (
                    p,
                    "read",
                    if v == 0 { Value::Nil } else { Value::Int(v) },
                    outcome,
                    key,
                ),
                1 => (p, "write", Value::Int(v), outcome, key),
                _ => (
                    p,
                    "cas",
                    Value::Vector(vec![Value::Int(v % 3), Value::Int((v + 1) % 4)]),
                    outcome,
                    key,
                ),
            };
            specs.push(spec);
        }
        history(&specs)
    })
}

fn agree_with_brute_force(keys: i64, cas: bool) {
    let mut runner = TestRunner::new(Config {
        cases: 2000,
        ..Config::default()
    });
    let valid = Cell::new(0);
    let invalid = Cell::new(0);
    runner
        .run(&arb_history(keys, cas), |h| {
            let pb = Problem::compile(&h, &Reg).unwrap();
            let expect = brute(&pb);
            for hinted in [false, true] {
                let opts = CheckOptions {
                    shrink: false,
                    allow_empty: true,
                    ..CheckOptions::default()
                };
                let rep = if hinted {
                    check_with_hints(&h, &Reg, &RegHints, &opts).unwrap()
                } else {
                    check(&h, &Reg, &opts).unwrap()
                };
                let want = if expect {
                    Verdict::Valid
                } else {
                    Verdict::Invalid
                };
                prop_assert_eq!(rep.valid, want, "hinted {}", hinted);
                if let Some(order) = &rep.order {
                    prop_assert_eq!(validate_order(&h, &Reg, order), Ok(()));
                }
            }
            if expect {
                valid.set(valid.get() + 1);
            } else {
                invalid.set(invalid.get() + 1);
                // Shrinking keeps a counterexample.
                let rep = check_with_hints(&h, &Reg, &RegHints, &quiet()).unwrap();
                let ids: Vec<usize> = rep
                    .counterexample
                    .unwrap()
                    .minimal
                    .unwrap()
                    .iter()
                    .map(|o| o.id)
                    .collect();
                prop_assert!(!brute(&pb.restrict(|_, c| ids.contains(&c.id))));
            }
            Ok(())
        })
        .unwrap();
    assert!(valid.get() > 100, "valid cases: {}", valid.get());
    assert!(invalid.get() > 100, "invalid cases: {}", invalid.get());
}

#[test]
fn agrees_with_brute_force_on_registers() {
    agree_with_brute_force(1, false);
}

#[test]
fn agrees_with_brute_force_on_cas_registers() {
    agree_with_brute_force(1, true);
}

#[test]
fn agrees_with_brute_force_on_two_keys() {
    agree_with_brute_force(2, true);
}

#[test]
fn search_reports_the_deepest_prefix() {
    let h = history(&[w(1, 1), r(2, Some(3))]);
    let pb = Problem::compile(&h, &Reg).unwrap();
    match search(&pb, &NoHints, &Limits::default()).0 {
        Found::Refuted(f) => {
            assert_eq!(f.steps.len(), 1);
            assert_eq!(f.pos, vec![1, 0]);
        }
        other => panic!("expected a refutation, got {other:?}"),
    }
}

/// The crate's register models, against the brute-force oracle.
fn agree_on_crate_model<M: Model + 'static>(make: fn() -> M, keys: i64, cas: bool) {
    let mut runner = TestRunner::new(Config {
        cases: 1500,
        ..Config::default()
    });
    let valid = Cell::new(0);
    let invalid = Cell::new(0);
    runner
        .run(&arb_history(keys, cas), |h| {
            let model = make();
            let pb = Problem::compile(&h, &model).unwrap();
            let expect = brute(&pb);
            let opts = CheckOptions {
                shrink: !expect,
                allow_empty: true,
                ..CheckOptions::default()
            };
            let hinted = check(&h, &model, &opts).unwrap();
            let plain = check_with_hints(&h, &model, &NoHints, &opts).unwrap();
            let want = if expect {
                Verdict::Valid
            } else {
                Verdict::Invalid
            };
            prop_assert_eq!(hinted.valid, want);
            prop_assert_eq!(plain.valid, want);
            if let Some(order) = &hinted.order {
                prop_assert_eq!(validate_order(&h, &model, order), Ok(()));
            }
            if expect {
                valid.set(valid.get() + 1);
            } else {
                invalid.set(invalid.get() + 1);
                let cx = hinted.counterexample.unwrap();
                prop_assert!(cx.one_minimal);
                let ids: Vec<usize> = cx.minimal.unwrap().iter().map(|o| o.id).collect();
                prop_assert!(!brute(&pb.restrict(|_, c| ids.contains(&c.id))));
            }
            Ok(())
        })
        .unwrap();
    assert!(valid.get() > 100, "valid cases: {}", valid.get());
    assert!(invalid.get() > 100, "invalid cases: {}", invalid.get());
}

#[test]
fn register_model_agrees_with_brute_force() {
    use crate::model::{ModelOptions, Register};
    agree_on_crate_model(|| Register::new(&ModelOptions::default()), 1, false);
    agree_on_crate_model(|| Register::new(&ModelOptions::default()), 2, false);
}

#[test]
fn cas_register_model_agrees_with_brute_force() {
    use crate::model::{CasRegister, ModelOptions};
    agree_on_crate_model(|| CasRegister::new(&ModelOptions::default()), 1, true);
    agree_on_crate_model(|| CasRegister::new(&porcupine_options()), 2, true);
}

fn porcupine_options() -> crate::model::ModelOptions {
    crate::model::ModelOptions {
        failed_cas_observes: true,
        nil_read_observes_nothing: true,
        ..crate::model::ModelOptions::default()
    }
}

/// The register hints keep their promises in every state.
#[test]
fn register_hints_keep_their_promises() {
    use crate::model::{CasRegister, RegisterOp};
    let m = CasRegister::new(&porcupine_options());
    let ops = (0..4u32).flat_map(|a| {
        (0..4u32).flat_map(move |b| {
            [
                RegisterOp::Read(a),
                RegisterOp::Write(a),
                RegisterOp::Cas { old: a, new: b },
                RegisterOp::CasFailed { old: a, new: b },
            ]
        })
    });
    for op in ops {
        for s in 0..4u32 {
            let next = m.step(&s, &op);
            match RegisterHints.effect(&m, &op) {
                Effect::Unchanged => assert!(next.is_none() || next == Some(s), "{op:?}"),
                Effect::Sets(x) => assert!(next.is_none() || next == Some(x), "{op:?}"),
                Effect::Unknown => {}
            }
            if RegisterHints.always_enabled(&m, &op) {
                assert!(next.is_some(), "{op:?}");
            }
            if let Some(x) = RegisterHints.requires(&m, &op) {
                assert!(s == x || next.is_none(), "{op:?}");
            }
        }
    }
}

/// A replicated store: one global order of writes, clients reading from
/// lagging replicas and seeing their own writes. Sequentially consistent
/// by construction.
pub(crate) fn replicated(seed: u64, procs: i64, ops: usize, keys: i64) -> History {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut rnd = move |n: u64| {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    };
    let mut log: Vec<(i64, i64)> = Vec::new();
    let mut replica = vec![0usize; procs as usize];
    let mut specs: Vec<Spec<'_>> = Vec::new();
    for _ in 0..ops * procs as usize {
        let p = rnd(procs as u64) as usize;
        if rnd(4) == 0 && replica[p] < log.len() {
            replica[p] += rnd((log.len() - replica[p]) as u64 + 1) as usize;
        }
        let k = rnd(keys as u64) as i64;
        let key = (keys > 1).then_some(k);
        if rnd(3) == 0 {
            let v = log.len() as i64 + 1;
            log.push((k, v));
            replica[p] = log.len();
            specs.push((p as i64, "write", Value::Int(v), 'o', key));
        } else {
            let seen = log[..replica[p]].iter().rev().find(|e| e.0 == k);
            let v = seen.map_or(Value::Nil, |e| Value::Int(e.1));
            specs.push((p as i64, "read", v, 'o', key));
        }
    }
    history(&specs)
}

#[test]
fn replicated_store_histories_are_consistent() {
    use crate::model::{ModelOptions, Register};
    let m = Register::new(&ModelOptions::default());
    for seed in 0..20 {
        for (procs, keys) in [(3, 1), (8, 1), (8, 4)] {
            let h = replicated(seed, procs, 150, keys);
            let r = check(&h, &m, &quiet()).unwrap();
            assert_eq!(r.valid, Verdict::Valid, "seed {seed}: {}", r.summary);
            assert_eq!(validate_order(&h, &m, r.order.as_ref().unwrap()), Ok(()));
        }
    }
}

#[test]
fn a_stale_read_in_a_replicated_history_is_found() {
    use crate::model::{ModelOptions, Register};
    let m = Register::new(&ModelOptions::default());
    let mut invalid = 0;
    for seed in 0..10 {
        let mut h = replicated(seed, 4, 40, 1);
        // Make the last read of some process go back in time.
        let last_read = h
            .operations
            .iter()
            .rposition(|o| {
                &*h.invocation(o).f == "read"
                    && h.output(o)
                        .is_some_and(|v| v.as_int().is_some_and(|v| v > 3))
            })
            .expect("a read");
        let c = h.operations[last_read].complete.unwrap();
        h.ops[c].value = Value::Int(1);
        let r = check(&h, &m, &quiet()).unwrap();
        // Reading 1 that late may still fit some order; when it does not,
        // the evidence must be a small true counterexample.
        assert_ne!(r.valid, Verdict::Unknown);
        if r.valid == Verdict::Invalid {
            invalid += 1;
            let cx = r.counterexample.unwrap();
            assert!(cx.one_minimal);
            let ids: Vec<usize> = cx.minimal.unwrap().iter().map(|o| o.id).collect();
            let pb = Problem::compile(&h, &m).unwrap();
            assert!(ids.len() <= 10, "{ids:?}");
            assert!(!brute(&pb.restrict(|_, c| ids.contains(&c.id))));
        }
    }
    assert!(invalid > 0);
}

/// The kv hints keep their promises in every state.
#[test]
fn kv_hints_keep_their_promises() {
    use crate::model::{Cell as KvCell, KvOp, KvRegister, ModelOptions};
    let m = KvRegister::new(&ModelOptions::default());
    let cells = [
        KvCell::Id(0),
        KvCell::Id(1),
        KvCell::Str("a".into()),
        KvCell::Str("ab".into()),
    ];
    let mut ops = vec![KvOp::Append("b".into())];
    for a in &cells {
        ops.push(KvOp::Read(a.clone()));
        ops.push(KvOp::Write(a.clone()));
        for b in &cells {
            ops.push(KvOp::Cas {
                old: a.clone(),
                new: b.clone(),
            });
            ops.push(KvOp::CasFailed {
                old: a.clone(),
                new: b.clone(),
            });
        }
    }
    for op in &ops {
        for s in &cells {
            let next = m.step(s, op);
            match KvHints.effect(&m, op) {
                Effect::Unchanged => assert!(next.is_none() || next.as_ref() == Some(s)),
                Effect::Sets(x) => assert!(next.is_none() || next == Some(x)),
                Effect::Unknown => {}
            }
            if let Some(x) = KvHints.requires(&m, op) {
                assert!(*s == x || next.is_none(), "{op:?}");
            }
            if KvHints.always_enabled(&m, op) {
                assert!(next.is_some(), "{op:?}");
            }
        }
    }
}

/// The checker gives the same verdicts through the keyed wrappers the
/// command line uses as with one plain model per key.
#[test]
fn keyed_wrappers_agree_with_plain_models() {
    use crate::model::{Keyed, Kv, ModelOptions, Register};
    let opts = ModelOptions::default();
    for seed in 0..30 {
        let h = replicated(seed, 3, 12, 2);
        let plain = check_with_hints(&h, &Register::new(&opts), &NoHints, &quiet()).unwrap();
        let keyed = check(&h, &Keyed::new(Register::new(&opts)), &quiet()).unwrap();
        let kv = check(&h, &Kv::kv(&opts), &quiet()).unwrap();
        assert_eq!(plain.valid, Verdict::Valid);
        assert_eq!(keyed.valid, plain.valid);
        assert_eq!(kv.valid, plain.valid);
    }
    let h = history(&[
        on(w(1, 1), 0),
        on(r(1, None), 1),
        on(w(2, 1), 1),
        on(r(2, None), 0),
    ]);
    let kv = check(&h, &Kv::kv(&opts), &quiet()).unwrap();
    assert_eq!(kv.decision, Decision::GlobalRefuted);
}

/// `observe` on a history of [`Reg`] ops.
fn observed(h: &History) -> (Problem<Reg>, super::observe::Observed) {
    let pb = Problem::compile(h, &Reg).unwrap();
    let (obs, _) = super::observe::analyse(&pb, &RegHints, &Stop::default());
    (pb, obs)
}

#[test]
fn observed_write_orders_refute_readers_disagreeing_on_order() {
    let h = history(&[
        w(0, 1),
        w(1, 2),
        r(2, Some(1)),
        r(2, Some(2)),
        r(3, Some(2)),
        r(3, Some(1)),
    ]);
    let (pb, obs) = observed(&h);
    let proof = obs.proof().expect("a cycle");
    assert_eq!(proof.cycle.len(), 2);
    // Both writes, and the four reads that saw them in opposite orders.
    assert_eq!(proof.ops.len(), 6);
    assert!(!brute(&pb.restrict(|i, _| proof.ops.contains(&(i as u32)))));
}

#[test]
fn observed_write_orders_refute_a_read_behind_its_own_write() {
    let h = history(&[w(0, 1), w(1, 5), w(0, 2), r(0, Some(1))]);
    let (pb, obs) = observed(&h);
    let proof = obs.proof().expect("a cycle");
    let procs: Vec<i64> = proof
        .ops
        .iter()
        .filter_map(|&i| pb.process_ids[pb.ops[i as usize].process as usize].client())
        .collect();
    // Process 0's three ops prove it; process 1's write plays no part.
    assert_eq!(procs, vec![0, 0, 0]);
    // A read of the initial value after a write is refuted alone.
    let (_, obs) = observed(&history(&[w(0, 1), r(0, None)]));
    let proof = obs.proof().expect("a cycle");
    assert_eq!(proof.cycle.len(), 1);
}

/// A read behind its own compare-and-set, whose old value is written
/// twice: the proof's ops leave out the cas's source (two writes could
/// be it), so alone they hold a cas that cannot happen at all, which
/// shrinking refuses as a first guess. `close_sources` adds a write of
/// the cas's old value, and the guess is then a refuted sub-history that
/// shrinking keeps (and the counterexample is those four ops).
#[test]
fn first_guess_of_a_shrink_gets_the_writes_its_ops_need() {
    let h = history(&[
        w(1, 3),
        w(2, 4),
        w(0, 1),
        w(1, 7),
        w(2, 3),
        cas(0, 3, 2),
        r(1, Some(2)),
        r(0, Some(1)),
    ]);
    let (pb, obs) = observed(&h);
    let proof = obs.proof().expect("a cycle");
    let mut first = vec![false; pb.ops.len()];
    for &i in &proof.ops {
        first[i as usize] = true;
    }
    let guess = |keep: &[bool]| pb.restrict(|i, _| keep[i]);
    assert!(
        shrink::thin_air(&guess(&first)),
        "the proof alone has a cas nothing enables"
    );
    close_sources(&pb, &RegHints, &mut first);
    let closed = guess(&first);
    assert!(!shrink::thin_air(&closed));
    assert!(!brute(&closed), "the closed guess is still refuted");
    // The write of 3 just before the cas in the history, not the first.
    let mut ids: Vec<usize> = closed.ops.iter().map(|c| c.id).collect();
    ids.sort_unstable();
    assert_eq!(ids, vec![2, 4, 5, 7]);
    let rep = check_with_hints(&h, &Reg, &RegHints, &quiet()).unwrap();
    let cx = rep.counterexample.expect("invalid");
    assert!(cx.one_minimal);
    let ids: Vec<usize> = cx.minimal.unwrap().iter().map(|o| o.id).collect();
    assert_eq!(ids, vec![2, 4, 5, 7]);
}

#[test]
fn observed_write_orders_follow_a_cas_chain() {
    // 1 -> 2 -> 3 by cas; process 2 then reads 3 and 2 (going back).
    let bad = history(&[
        w(0, 1),
        cas(1, 1, 2),
        cas(0, 2, 3),
        r(2, Some(3)),
        r(2, Some(2)),
    ]);
    let (pb, obs) = observed(&bad);
    let proof = obs.proof().expect("a cycle");
    // The proof keeps what the cas ops read from, down to the blind write.
    assert!(proof
        .ops
        .iter()
        .any(|&i| matches!(pb.ops[i as usize].op, ROp::Write(1))));
    assert!(!brute(&pb.restrict(|i, _| proof.ops.contains(&(i as u32)))));
    let good = history(&[
        w(0, 1),
        cas(1, 1, 2),
        cas(0, 2, 3),
        r(2, Some(2)),
        r(2, Some(3)),
    ]);
    assert!(observed(&good).1.cycle.is_none());
}

/// A random small history with unique written values: every read returns
/// nil or a value some op writes, so `observe` knows every source.
fn arb_unique_history(keys: i64) -> impl Strategy<Value = History> {
    let op = (0..4i64, 0..3u8, 0..8usize, 0..10u8, 0..keys);
    prop::collection::vec(op, 0..10).prop_map(move |ops| {
        let mut written: Vec<Vec<i64>> = vec![Vec::new(); keys as usize];
        let mut next = 1;
        let mut specs: Vec<Spec<'static>> = Vec::new();
        for (p, kind, pick, o, k) in ops {
            let outcome = match o {
                0 => 'f',
                1 => 'i',
                _ => 'o',
            };
            let seen = &written[k as usize];
            let old = match pick % (seen.len() + 1) {
                0 => Value::Nil,
                j => Value::Int(seen[j - 1]),
            };
            let key = (keys > 1).then_some(k);
            let spec = match kind {
                0 => (p, "read", old, 'o', key),
                1 => {
                    written[k as usize].push(next);
                    next += 1;
                    (p, "write", Value::Int(next - 1), outcome, key)
                }
                _ => {
                    written[k as usize].push(next);
                    next += 1;
                    let v = Value::Vector(vec![old, Value::Int(next - 1)]);
                    (p, "cas", v, outcome, key)
                }
            };
            specs.push(spec);
        }
        history(&specs)
    })
}

/// When write orders refute a history, its one-sentence explanation is the
/// history's own proof, with shrinking on or off, not the reason the
/// minimal sub-history is refuted for (which may be another).
#[test]
fn why_tells_the_histories_own_proof_with_or_without_shrinking() {
    let mut runner = TestRunner::new(Config {
        cases: 2000,
        ..Config::default()
    });
    let (told, differed) = (Cell::new(0), Cell::new(0));
    runner
        .run(&arb_unique_history(1), |h| {
            let pb = Problem::compile(&h, &Reg).unwrap();
            let (obs, _) = super::observe::analyse(&pb, &RegHints, &Stop::default());
            let Some(own) = own_sentence(&pb, &RegHints, obs.proof().as_ref(), &Stop::default())
            else {
                return Ok(());
            };
            told.set(told.get() + 1);
            for shrink in [false, true] {
                let opts = CheckOptions {
                    shrink,
                    allow_empty: true,
                    ..CheckOptions::default()
                };
                let rep = check_with_hints(&h, &Reg, &RegHints, &opts).unwrap();
                prop_assert_eq!(rep.valid, Verdict::Invalid);
                let cx = rep.counterexample.unwrap();
                prop_assert_eq!(&cx.why, &own.sentence, "shrink {}", shrink);
                // The cycle drawn is the one told, clause by clause.
                prop_assert_eq!(cx.cycle.len(), own.links.len());
                for (step, link) in cx.cycle.iter().zip(&own.links) {
                    prop_assert!(cx.why.contains(&step.because));
                    prop_assert_eq!(step.earlier.as_ref().map(|o| o.id), link.earlier);
                    prop_assert_eq!(step.later.as_ref().map(|o| o.id), link.later);
                    let ids: Vec<usize> = step.ops.iter().map(|o| o.id).collect();
                    prop_assert_eq!(&ids, &link.ops);
                    prop_assert!(!ids.is_empty());
                }
                if shrink {
                    let ids: Vec<usize> = cx.minimal.unwrap().iter().map(|o| o.id).collect();
                    let small = pb.restrict(|_, c| ids.contains(&c.id));
                    if explain::sentence(&small, &RegHints, &Stop::default())
                        .is_some_and(|s| s.sentence != own.sentence)
                    {
                        differed.set(differed.get() + 1);
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    assert!(told.get() > 100, "histories with a proof: {}", told.get());
    // The minimal sub-history's own sentence is sometimes another one.
    assert!(differed.get() > 0, "differed: {}", differed.get());
}

/// With unique values `observe` proves orders and prunes the search: a
/// cycle it finds is a true refutation, and the pruned search agrees with
/// brute force.
#[test]
fn observed_write_orders_agree_with_brute_force() {
    for keys in [1, 2] {
        let mut runner = TestRunner::new(Config {
            cases: 3000,
            ..Config::default()
        });
        let (cycles, invalid) = (Cell::new(0), Cell::new(0));
        runner
            .run(&arb_unique_history(keys), |h| {
                let (pb, obs) = observed(&h);
                let expect = brute(&pb);
                if obs.cycle.is_some() || obs.ops_cycle.is_some() {
                    cycles.set(cycles.get() + 1);
                    prop_assert!(!expect, "a proved cycle in a valid history");
                }
                if !expect {
                    invalid.set(invalid.get() + 1);
                }
                let opts = CheckOptions {
                    shrink: false,
                    allow_empty: true,
                    ..CheckOptions::default()
                };
                let rep = check_with_hints(&h, &Reg, &RegHints, &opts).unwrap();
                let want = if expect {
                    Verdict::Valid
                } else {
                    Verdict::Invalid
                };
                prop_assert_eq!(rep.valid, want);
                Ok(())
            })
            .unwrap();
        assert!(cycles.get() > 100, "{keys} keys: {} cycles", cycles.get());
        assert!(
            invalid.get() > cycles.get(),
            "some refutations need the search"
        );
    }
}

/// The one-sentence explanation names who saw what.
#[test]
fn why_names_the_processes_and_values() {
    let rep = check_with_hints(
        &history(&[w(1, 1), w(1, 2), r(2, Some(2)), r(2, Some(1))]),
        &Reg,
        &RegHints,
        &quiet(),
    )
    .unwrap();
    let cx = rep.counterexample.unwrap();
    assert_eq!(
        cx.why,
        "process 1 wrote 1 and then wrote 2, so 1 was written before 2; \
         process 2 read 2 and then read 1, so 2 was written before 1: \
         no single order of the writes allows both"
    );
    // Each clause is a step of the cycle: the writes it orders and the ops
    // that prove it.
    let steps: Vec<(Option<usize>, Option<usize>, Vec<usize>)> = cx
        .cycle
        .iter()
        .map(|s| {
            let id = |o: &Option<OpView>| o.as_ref().map(|o| o.id);
            (
                id(&s.earlier),
                id(&s.later),
                s.ops.iter().map(|o| o.id).collect(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        vec![
            (Some(0), Some(1), vec![0, 1]),
            (Some(1), Some(0), vec![2, 3])
        ]
    );
    assert!(cx.cycle[1].because.starts_with("process 2 read 2"));
    // Without names for values, the sentence says where every order stops,
    // and there is no cycle to draw.
    let rep = check(&history(&[w(1, 1), r(2, Some(3))]), &Reg, &quiet()).unwrap();
    let cx = rep.counterexample.unwrap();
    let why = cx.why;
    assert!(why.starts_with("no order of this op"), "{why}");
    assert!(why.contains("process 2's read 3"), "{why}");
    assert!(cx.cycle.is_empty());
}

/// Every valid order of `pb` (each indeterminate op placed or left out),
/// as the ops placed, in order; at most `cap` of them.
fn all_orders<M: Model>(pb: &Problem<M>, cap: usize) -> Vec<Vec<u32>> {
    fn go<M: Model>(
        pb: &Problem<M>,
        pos: &mut Vec<usize>,
        st: &mut Vec<M::State>,
        path: &mut Vec<u32>,
        out: &mut Vec<Vec<u32>>,
        cap: usize,
    ) {
        if out.len() >= cap {
            return;
        }
        if pos.iter().zip(&pb.procs).all(|(&i, s)| i == s.len()) {
            out.push(path.clone());
            return;
        }
        for p in 0..pos.len() {
            let Some(&oi) = pb.procs[p].get(pos[p]) else {
                continue;
            };
            let c = &pb.ops[oi as usize];
            let k = c.key as usize;
            if let Some(next) = pb.models[k].step(&st[k], &c.op) {
                let old = std::mem::replace(&mut st[k], next);
                pos[p] += 1;
                path.push(oi);
                go(pb, pos, st, path, out, cap);
                path.pop();
                pos[p] -= 1;
                st[k] = old;
            }
            if c.optional {
                pos[p] += 1;
                go(pb, pos, st, path, out, cap);
                pos[p] -= 1;
            }
        }
    }
    let mut out = Vec::new();
    let mut pos = vec![0; pb.procs.len()];
    let mut st = pb.models.iter().map(|m| m.init()).collect();
    go(pb, &mut pos, &mut st, &mut Vec::new(), &mut out, cap);
    out
}

/// A random small history that one order of its ops produced: a
/// sequentially consistent (indeed linearizable) history with unique
/// written values, reads that return what the order gives, compare-and-
/// sets that fail when they expect something else, and indeterminate
/// writes that took effect or not. Its reads say which write they saw, so
/// `observe` proves many orders in it, fact 4 included.
fn arb_executed_history(keys: i64) -> impl Strategy<Value = History> {
    let op = (0..4i64, 0..4u8, 0..keys, 0..4u8);
    prop::collection::vec(op, 0..10).prop_map(move |ops| {
        let mut state: Vec<Option<i64>> = vec![None; keys as usize];
        let mut next = 1;
        let mut specs: Vec<Spec<'static>> = Vec::new();
        let nil = |v: Option<i64>| v.map_or(Value::Nil, Value::Int);
        for (p, kind, k, coin) in ops {
            let key = (keys > 1).then_some(k);
            let cur = state[k as usize];
            let spec = match kind {
                0 | 1 => (p, "read", nil(cur), 'o', key),
                2 => {
                    let v = next;
                    next += 1;
                    // An indeterminate write takes effect or not.
                    let outcome = if coin == 0 { 'i' } else { 'o' };
                    if coin != 0 || p % 2 == 0 {
                        state[k as usize] = Some(v);
                    }
                    (p, "write", Value::Int(v), outcome, key)
                }
                _ => {
                    let v = next;
                    next += 1;
                    let expect = if coin == 0 { Some(-1) } else { cur };
                    let outcome = if expect == cur {
                        state[k as usize] = Some(v);
                        'o'
                    } else {
                        'f'
                    };
                    let arg = Value::Vector(vec![nil(expect), Value::Int(v)]);
                    (p, "cas", arg, outcome, key)
                }
            };
            specs.push(spec);
        }
        history(&specs)
    })
}

/// Each order `observe` proves — facts 1 to 4, as the search enforces
/// them, and every write order with its reason — holds in every valid
/// order: both ops are placed, the earlier one first. This checks each
/// pruning fact on its own, not only the verdicts it leads to, on random
/// histories (mostly invalid) and on histories one order produced (all
/// valid). The counts make sure fact 4 (chains across processes and keys)
/// is exercised, both by orders it adds to valid histories and by cycles
/// it finds.
#[test]
fn every_proved_order_holds_in_every_valid_order() {
    let (before_edges, ops_cycles, checked) = (Cell::new(0), Cell::new(0), Cell::new(0));
    // Valid histories with at least one order of fact 4.
    let fact4_valid = Cell::new(0);
    for keys in [1, 2, 3] {
        let histories = prop_oneof![arb_unique_history(keys), arb_executed_history(keys)];
        // A fixed seed: the counts below are the same on every run.
        let mut runner = TestRunner::new_with_rng(
            Config {
                cases: 10_000,
                ..Config::default()
            },
            TestRng::deterministic_rng(RngAlgorithm::ChaCha),
        );
        runner
            .run(&histories, |h| {
                let (pb, obs) = observed(&h);
                let orders = all_orders(&pb, 20_000);
                if obs.ops_cycle.is_some() {
                    ops_cycles.set(ops_cycles.get() + 1);
                    prop_assert!(orders.is_empty(), "a cycle of fact 4 in a valid history");
                }
                if obs.cycle.is_some() {
                    prop_assert!(orders.is_empty(), "a cycle of facts 1 and 2 in a valid history");
                }
                let proved = obs.constraints(&pb);
                let mut pairs: Vec<(u32, u32, bool)> = Vec::new();
                for x in 0..pb.ops.len() {
                    let (lo, hi) = (proved.offsets[x] as usize, proved.offsets[x + 1] as usize);
                    pairs.extend(proved.after[lo..hi].iter().map(|&y| (x as u32, y, false)));
                }
                for e in &obs.co {
                    let before = matches!(e.why, super::observe::Why::Before { .. });
                    if e.from != super::observe::INIT && e.to != super::observe::INIT {
                        pairs.push((e.from, e.to, before));
                    }
                }
                if !orders.is_empty() && pairs.iter().any(|p| p.2) {
                    fact4_valid.set(fact4_valid.get() + 1);
                }
                for order in &orders {
                    let mut at = vec![usize::MAX; pb.ops.len()];
                    for (j, &i) in order.iter().enumerate() {
                        at[i as usize] = j;
                    }
                    for &(x, y, before) in &pairs {
                        checked.set(checked.get() + 1);
                        before_edges.set(before_edges.get() + before as usize);
                        prop_assert!(
                            at[x as usize] != usize::MAX && at[y as usize] != usize::MAX,
                            "a proved order between ops a valid order leaves out: {:?} {:?}",
                            pb.ops[x as usize].op,
                            pb.ops[y as usize].op
                        );
                        prop_assert!(
                            at[x as usize] < at[y as usize],
                            "{:?} must come before {:?} (fact 4: {before}), yet a valid order has it after",
                            pb.ops[x as usize].op,
                            pb.ops[y as usize].op
                        );
                    }
                }
                Ok(())
            })
            .unwrap();
    }
    let (checked, before_edges, ops_cycles) = (checked.get(), before_edges.get(), ops_cycles.get());
    let fact4_valid = fact4_valid.get();
    eprintln!(
        "{checked} proved orders checked against valid orders, {before_edges} of them of fact 4, \
         in {fact4_valid} valid histories; {ops_cycles} cycles of fact 4"
    );
    assert!(checked > 10_000, "{checked} orders checked");
    assert!(
        fact4_valid > 50,
        "valid histories with orders of fact 4: {fact4_valid}"
    );
    assert!(before_edges > 200, "fact 4 orders checked: {before_edges}");
    assert!(ops_cycles > 500, "cycles found by fact 4: {ops_cycles}");
}

/// When every key passes alone and the keys' orders fit every process's
/// order, they decide the history without a global search; when they do
/// not fit, the global search decides.
#[test]
fn orders_of_the_keys_merge_or_the_global_search_decides() {
    // Each process touches its keys in an order the keys' own orders keep.
    let h = history(&[
        on(w(1, 1), 0),
        on(w(1, 2), 1),
        on(r(2, Some(1)), 0),
        on(r(2, Some(2)), 1),
    ]);
    let rep = check_with_hints(&h, &Reg, &RegHints, &quiet()).unwrap();
    assert_eq!(rep.decision, Decision::Merged);
    let order = rep.order.unwrap();
    assert_eq!(order.len(), 4);
    assert_eq!(validate_order(&h, &Reg, &order), Ok(()));
    // Message passing: process 2 sees key 1's write, then key 0's initial
    // value, though key 0 was written first. Each key passes alone.
    let h = history(&[
        on(w(1, 1), 0),
        on(w(1, 1), 1),
        on(r(2, Some(1)), 1),
        on(r(2, None), 0),
    ]);
    let rep = check_with_hints(&h, &Reg, &RegHints, &quiet()).unwrap();
    assert_eq!(rep.valid, Verdict::Invalid);
    assert_eq!(rep.decision, Decision::GlobalRefuted);
    assert!(rep.keys.iter().all(|k| k.valid == Verdict::Valid));
}

/// The history whose events are the processes' `queues` (each in its
/// own order), interleaved as `picks` says: the `j`-th event comes from
/// the `picks[j]`-th (cyclically) process that has events left. So ops of
/// different processes overlap in time.
fn interleave(mut queues: Vec<std::collections::VecDeque<Op>>, picks: &[usize]) -> History {
    let mut events = Vec::new();
    let mut j = 0;
    while queues.iter().any(|q| !q.is_empty()) {
        let live: Vec<usize> = (0..queues.len())
            .filter(|&p| !queues[p].is_empty())
            .collect();
        let p = live[picks[j % picks.len()] % live.len()];
        j += 1;
        events.push(queues[p].pop_front().expect("an event"));
    }
    History::from_ops(events).expect("well-formed history")
}

/// A kv history of appends, puts and reads of whole strings over `keys`
/// keys, in which ops overlap in time (the events of three processes
/// interleaved as `picks` says), some failed or indeterminate.
fn arb_kv_history(keys: i64) -> impl Strategy<Value = History> {
    let op = (0..3i64, 0..3u8, 0..8usize, 0..10u8, 0..keys);
    (
        prop::collection::vec(op, 0..8),
        prop::collection::vec(0..3usize, 16),
    )
        .prop_map(|(ops, picks)| {
            const STR: [&str; 7] = ["", "a", "b", "ab", "ba", "abb", "aba"];
            let mut queues: Vec<std::collections::VecDeque<Op>> = vec![Default::default(); 3];
            for (p, kind, v, o, k) in ops {
                let (f, input, output) = match kind {
                    0 => ("append", Value::Str(["a", "b"][v % 2].into()), None),
                    1 => ("put", Value::Str(STR[v % 3].into()), None),
                    _ => (
                        "get",
                        Value::Nil,
                        Some(if v == 7 {
                            Value::Nil
                        } else {
                            Value::Str(STR[v].into())
                        }),
                    ),
                };
                let t = match o {
                    0 => OpType::Fail,
                    1 | 2 => OpType::Info,
                    _ => OpType::Ok,
                };
                let mut inv = Op::new(OpType::Invoke, p, f, input.clone());
                let mut done = Op::new(t, p, f, output.unwrap_or(input));
                inv.key = Some(Value::Int(k));
                done.key = Some(Value::Int(k));
                queues[p as usize].push_back(inv);
                queues[p as usize].push_back(done);
            }
            interleave(queues, &picks)
        })
}

/// The unreachable-requirements rule (`Model::reachable`, for keys whose
/// appends the starved rule cannot see through) and the real-time first
/// pass, each on and off, agree with brute force on kv histories with
/// appends and overlapping ops; every order found is valid; and the rule
/// does prune.
#[test]
fn unreachable_rule_and_realtime_pass_agree_with_brute_force() {
    use crate::model::{KvRegister, ModelOptions};
    let m = KvRegister::new(&ModelOptions::default());
    for keys in [1, 2] {
        let mut runner = TestRunner::new(Config {
            cases: 1500,
            ..Config::default()
        });
        let (valid, invalid, pruned) = (Cell::new(0), Cell::new(0), Cell::new(0));
        runner
            .run(&arb_kv_history(keys), |h| {
                let pb = Problem::compile(&h, &m).unwrap();
                let expect = brute(&pb);
                let mut nodes = [0u64; 2];
                for (j, unreachable) in [false, true].into_iter().enumerate() {
                    for realtime in [false, true] {
                        let limits = Limits {
                            rules: Rules {
                                unreachable,
                                realtime,
                                realtime_always: true,
                                escape: true,
                                matching: false,
                            },
                            ..Limits::default()
                        };
                        let (found, stats) = search(&pb, &KvHints, &limits);
                        match found {
                            Found::Order(order) => {
                                prop_assert!(expect, "an order of an inconsistent history");
                                let ids: Vec<usize> =
                                    order.iter().map(|&i| pb.ops[i as usize].id).collect();
                                prop_assert_eq!(validate(&pb, h.operations.len(), &ids), Ok(()));
                            }
                            Found::Refuted(_) => {
                                prop_assert!(!expect, "a consistent history refuted")
                            }
                            Found::GaveUp => prop_assert!(false, "gave up"),
                        }
                        if !realtime {
                            nodes[j] = stats.nodes;
                        }
                    }
                }
                if nodes[1] < nodes[0] {
                    pruned.set(pruned.get() + 1);
                }
                if expect {
                    valid.set(valid.get() + 1);
                } else {
                    invalid.set(invalid.get() + 1);
                }
                Ok(())
            })
            .unwrap();
        assert!(valid.get() > 50, "{keys} keys: valid {}", valid.get());
        assert!(invalid.get() > 50, "{keys} keys: invalid {}", invalid.get());
        assert!(pruned.get() > 10, "{keys} keys: pruned {}", pruned.get());
    }
}

/// Register histories over `keys` keys whose ops overlap in time (the
/// events of four processes interleaved as `picks` says), with values
/// written more than once; some ops fail or are indeterminate.
fn arb_overlapping_history(keys: i64) -> impl Strategy<Value = History> {
    let op = (0..4i64, 0..3u8, 0..3i64, 0..10u8, 0..keys);
    (
        prop::collection::vec(op, 0..9),
        prop::collection::vec(0..4usize, 18),
    )
        .prop_map(move |(ops, picks)| {
            let mut queues: Vec<std::collections::VecDeque<Op>> = vec![Default::default(); 4];
            for (p, kind, v, o, k) in ops {
                let done_type = match o {
                    0 => OpType::Fail,
                    1 => OpType::Info,
                    _ => OpType::Ok,
                };
                let nil = |v: i64| if v == 0 { Value::Nil } else { Value::Int(v) };
                let (f, input, output) = match kind {
                    0 => ("read", Value::Nil, nil(v)),
                    1 => ("write", Value::Int(v), Value::Int(v)),
                    _ => {
                        let arg = Value::Vector(vec![nil(v), Value::Int((v + 1) % 3)]);
                        ("cas", arg.clone(), arg)
                    }
                };
                let mut inv = Op::new(OpType::Invoke, p, f, input);
                let mut done = Op::new(done_type, p, f, output);
                if keys > 1 {
                    inv.key = Some(Value::Int(k));
                    done.key = Some(Value::Int(k));
                }
                queues[p as usize].push_back(inv);
                queues[p as usize].push_back(done);
            }
            interleave(queues, &picks)
        })
}

/// Brute force under extra orders: is there an order that keeps every
/// process's order and every `(a, b)` of `extra` (`b` is placed only once
/// `a` is placed or left out), and that the model accepts?
fn brute_with<M: Model>(pb: &Problem<M>, extra: &[(u32, u32)]) -> bool {
    let mut before: Vec<Vec<u32>> = vec![Vec::new(); pb.ops.len()];
    for &(a, b) in extra {
        before[b as usize].push(a);
    }
    fn go<M: Model>(
        pb: &Problem<M>,
        before: &[Vec<u32>],
        pos: &mut Vec<usize>,
        done: &mut Vec<bool>,
        st: &mut Vec<M::State>,
    ) -> bool {
        if pos.iter().zip(&pb.procs).all(|(&i, s)| i == s.len()) {
            return true;
        }
        for p in 0..pos.len() {
            let Some(&oi) = pb.procs[p].get(pos[p]) else {
                continue;
            };
            let c = &pb.ops[oi as usize];
            let k = c.key as usize;
            let ready = before[oi as usize].iter().all(|&a| done[a as usize]);
            let next = if ready {
                pb.models[k].step(&st[k], &c.op)
            } else {
                None
            };
            for placed in [true, false] {
                let new = match (placed, &next) {
                    (true, Some(n)) => n.clone(),
                    (false, _) if c.optional => st[k].clone(),
                    _ => continue,
                };
                let old = std::mem::replace(&mut st[k], new);
                pos[p] += 1;
                done[oi as usize] = true;
                let ok = go(pb, before, pos, done, st);
                done[oi as usize] = false;
                pos[p] -= 1;
                st[k] = old;
                if ok {
                    return true;
                }
            }
        }
        false
    }
    let mut pos = vec![0; pb.procs.len()];
    let mut done = vec![false; pb.ops.len()];
    let mut st = pb.models.iter().map(|m| m.init()).collect();
    go(pb, &before, &mut pos, &mut done, &mut st)
}

/// The real-time pass, when it does not give up stalled branches, is
/// exact for what it looks for: it finds an order exactly when one keeps
/// every process's order and the real-time orders it adds
/// (`realtime_orders`), by brute force over such orders. This
/// checks its prunings (late ops, and moves that doom an op that needs
/// the state they leave) on their own, on histories whose ops overlap
/// and whose values repeat. The counts make sure the pass finds orders,
/// refutes histories that are consistent all the same (it is not
/// complete), and refutes inconsistent ones.
#[test]
fn realtime_pass_finds_an_order_exactly_when_one_keeps_its_orders() {
    use super::engine::{realtime_constraints, realtime_orders, realtime_pass};
    let (found, stricter, refuted) = (Cell::new(0), Cell::new(0), Cell::new(0));
    for (keys, matching) in [(1, false), (2, false), (1, true), (2, true)] {
        let mut runner = TestRunner::new(Config {
            cases: 5000,
            ..Config::default()
        });
        runner
            .run(&arb_overlapping_history(keys), |h| {
                let pb = Problem::compile(&h, &Reg).unwrap();
                let extra = realtime_orders(&pb, &RegHints);
                let proved = super::observe::analyse(&pb, &RegHints, &Stop::default())
                    .0
                    .constraints(&pb);
                // Without giving up stalled branches, the pass is exact.
                let limits = Limits {
                    rules: Rules {
                        escape: false,
                        matching,
                        ..Rules::default()
                    },
                    ..Limits::default()
                };
                let Some(rt) = realtime_constraints(&pb, &RegHints, &proved) else {
                    prop_assert!(extra.is_empty());
                    return Ok(());
                };
                let (result, _) = realtime_pass(&pb, &RegHints, &limits, &rt);
                let expect = brute_with(&pb, &extra);
                match result {
                    Found::Order(order) => {
                        prop_assert!(expect, "an order that breaks the pass's orders");
                        let ids: Vec<usize> =
                            order.iter().map(|&i| pb.ops[i as usize].id).collect();
                        prop_assert_eq!(validate(&pb, h.operations.len(), &ids), Ok(()));
                        found.set(found.get() + 1);
                    }
                    Found::Refuted(_) => {
                        prop_assert!(!expect, "the pass missed an order that keeps its orders");
                        if brute(&pb) {
                            stricter.set(stricter.get() + 1);
                        } else {
                            refuted.set(refuted.get() + 1);
                        }
                    }
                    Found::GaveUp => prop_assert!(false, "gave up"),
                }
                Ok(())
            })
            .unwrap();
    }
    let (found, stricter, refuted) = (found.get(), stricter.get(), refuted.get());
    assert!(found > 600, "orders found: {found}");
    assert!(
        stricter > 60,
        "consistent, but not keeping real time: {stricter}"
    );
    assert!(refuted > 600, "inconsistent: {refuted}");
}

/// The order the sc generator's construction proves breaks none of the
/// real-time pass's orders or prunings: guided by it, the pass walks
/// straight to an order, entering one configuration per op, on histories
/// of sixteen clients with repeated values (where the pass matters most).
#[test]
fn the_generators_witness_breaks_no_rule_of_the_realtime_pass() {
    use super::engine::{realtime_constraints, realtime_pass};
    use crate::gen::{GenOptions, Generator, Mode};
    use crate::model::{CasRegister, KvRegister, ModelKind, ModelOptions};
    fn walk<M: Model, H: Hints<M>>(h: &History, m: &M, hints: &H, witness: &[u64]) {
        let pb = Problem::compile(h, m).unwrap();
        let by_invoke: std::collections::HashMap<usize, usize> = h
            .operations
            .iter()
            .enumerate()
            .map(|(i, op)| (op.invoke, i))
            .collect();
        let mut rank = vec![u64::MAX >> 2; h.operations.len()];
        for (r, &ix) in witness.iter().enumerate() {
            rank[by_invoke[&(ix as usize)]] = r as u64;
        }
        let guide: Vec<u64> = pb.ops.iter().map(|c| rank[c.id]).collect();
        let proved = super::observe::analyse(&pb, hints, &Stop::default())
            .0
            .constraints(&pb);
        for matching in [false, true] {
            let limits = Limits {
                guide: Some(&guide),
                rules: Rules {
                    matching,
                    ..Rules::default()
                },
                ..Limits::default()
            };
            let rt = realtime_constraints(&pb, hints, &proved).expect("real-time orders");
            let (found, stats) = realtime_pass(&pb, hints, &limits, &rt);
            assert!(matches!(found, Found::Order(_)), "no order");
            let required = pb.ops.iter().filter(|c| !c.optional).count() as u64;
            assert_eq!(stats.nodes, required, "the pass backtracked");
        }
    }
    for model in [ModelKind::Kv, ModelKind::CasRegister] {
        for seed in 0..3 {
            let o = GenOptions {
                mode: Mode::SequentiallyConsistent,
                model,
                seed,
                clients: 16,
                ops: 4000,
                ..GenOptions::default()
            };
            let mut g = Generator::new(&o).unwrap();
            assert!(g.record_witness());
            let ops: Vec<Op> = g.by_ref().collect();
            let witness = g.witness().expect("no fault was injected");
            let h = History::from_ops(ops).unwrap();
            let opts = ModelOptions::default();
            match model {
                ModelKind::Kv => walk(&h, &KvRegister::new(&opts), &KvHints, &witness),
                _ => walk(&h, &CasRegister::new(&opts), &RegisterHints, &witness),
            }
        }
    }
}

/// A lock's release without an earlier acquire by its own process is
/// illegal on its own, even where another process's acquire makes the
/// step legal: shrinking refuses sub-histories with one, so a lock held
/// twice does not shrink to a release whose acquire was removed.
#[test]
fn a_release_without_its_own_acquire_is_an_orphan() {
    use crate::model::{ModelOptions, Mutex};
    let lock = |p: i64, f: &'static str| -> Spec<'static> { (p, f, Value::Nil, 'o', None) };
    let orphan = |specs: &[Spec<'static>]| {
        let m = Mutex::new(&ModelOptions::default());
        let pb = Problem::compile(&history(specs), &m).unwrap();
        super::shrink::orphan(&pb)
    };
    assert!(!orphan(&[lock(0, "acquire"), lock(0, "release")]));
    assert!(orphan(&[lock(1, "acquire"), lock(0, "release")]));
    assert!(orphan(&[lock(0, "release"), lock(0, "acquire")]));
    assert!(!orphan(&[
        lock(0, "acquire"),
        lock(1, "acquire"),
        lock(0, "release"),
        lock(1, "release"),
    ]));
}
