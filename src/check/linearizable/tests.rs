//! Tests of the search against a brute-force oracle, on a small
//! compare-and-set register model of the tests' own.

use super::search::{Engine, Found, Item, Limits};
use super::*;
use crate::history::{Op, OpType};
use crate::model::Call;
use memo::SplitMix64;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::cell::Cell;

/// A compare-and-set register over integers, starting empty (`nil`).
#[derive(Clone, Default)]
pub(super) struct TestCas {
    /// A failed cas observes that the register did not hold its expected
    /// value.
    pub failed_cas_observes: bool,
    /// Declare reads read-only, enabling the search's read-only rule.
    pub read_only: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum TestOp {
    Read(Option<i64>),
    Write(i64),
    Cas(i64, i64),
    NotCas(i64),
}

impl Model for TestCas {
    type State = Option<i64>;
    type Op = TestOp;
    fn name(&self) -> &'static str {
        "test-cas"
    }
    fn compile(&mut self, call: &Call<'_>) -> Result<Option<TestOp>, String> {
        let int = |v: &Value| {
            v.as_int()
                .ok_or_else(|| format!("expected an integer, found {v}"))
        };
        match call.f {
            "read" => match (call.outcome, call.output) {
                (Outcome::Ok, Some(Value::Nil)) => Ok(Some(TestOp::Read(None))),
                (Outcome::Ok, Some(v)) => Ok(Some(TestOp::Read(Some(int(v)?)))),
                _ => Ok(None),
            },
            "write" if call.outcome == Outcome::Fail => Ok(None),
            "write" => Ok(Some(TestOp::Write(int(call.input)?))),
            "cas" => {
                let v = call
                    .input
                    .as_vector()
                    .filter(|v| v.len() == 2)
                    .ok_or("expected [from to]")?;
                let (a, b) = (int(&v[0])?, int(&v[1])?);
                match call.outcome {
                    Outcome::Fail if self.failed_cas_observes => Ok(Some(TestOp::NotCas(a))),
                    Outcome::Fail => Ok(None),
                    _ => Ok(Some(TestOp::Cas(a, b))),
                }
            }
            f => Err(format!("unknown f {f}")),
        }
    }
    fn init(&self) -> Option<i64> {
        None
    }
    fn step(&self, s: &Option<i64>, op: &TestOp) -> Option<Option<i64>> {
        match *op {
            TestOp::Read(v) => (*s == v).then_some(*s),
            TestOp::Write(v) => Some(Some(v)),
            TestOp::Cas(a, b) => (*s == Some(a)).then_some(Some(b)),
            TestOp::NotCas(a) => (*s != Some(a)).then_some(*s),
        }
    }
    fn read_only(&self, op: &TestOp) -> bool {
        self.read_only
            && match *op {
                TestOp::Read(_) | TestOp::NotCas(_) => true,
                TestOp::Cas(a, b) => a == b,
                TestOp::Write(_) => false,
            }
    }
    fn explain(&self, s: &Option<i64>, op: &TestOp) -> String {
        format!("can't {op:?} in {s:?}")
    }
    fn describe_op(&self, op: &TestOp) -> String {
        format!("{op:?}")
    }
    fn describe_state(&self, s: &Option<i64>) -> String {
        format!("{s:?}")
    }
}

/// Brute force: tries every order consistent with real time, indeterminate
/// operations optional. Independent of the engine's lists and pruning.
pub(super) fn oracle<M: Model>(history: &History, mut model: M) -> bool {
    let mut ops = Vec::new();
    for o in &history.operations {
        let call = Call::of(history, o);
        if let Some(c) = model.compile(&call).expect("compiles") {
            ops.push((o.invoke, o.response(), c));
        }
    }
    fn go<M: Model>(m: &M, ops: &[(usize, usize, M::Op)], done: &mut [bool], s: &M::State) -> bool {
        if ops
            .iter()
            .zip(done.iter())
            .all(|(o, &d)| d || o.1 == usize::MAX)
        {
            return true;
        }
        for i in 0..ops.len() {
            if done[i] {
                continue;
            }
            // i may go next only if no pending op returned before i began.
            let blocked = (0..ops.len()).any(|j| j != i && !done[j] && ops[j].1 < ops[i].0);
            if blocked {
                continue;
            }
            if let Some(s2) = m.step(s, &ops[i].2) {
                done[i] = true;
                if go(m, ops, done, &s2) {
                    return true;
                }
                done[i] = false;
            }
        }
        false
    }
    let mut done = vec![false; ops.len()];
    let init = model.init();
    go(&model, &ops, &mut done, &init)
}

/// A random history of at most `max_ops` operations on a simulated
/// register: reads sometimes lie, some ops crash (with or without effect)
/// and some never complete.
pub(super) fn random_history(seed: u64, max_ops: usize, info: bool) -> History {
    let mut g = SplitMix64(seed);
    let mut r = |n: u64| g.next_u64() % n;
    let procs = 2 + r(3) as usize;
    let n_ops = 1 + r(max_ops as u64) as usize;
    let wild = r(4) == 0; // outputs unrelated to the simulation
    let mut reg: Option<i64> = None;
    // per process: pending (f, input, effected result)
    #[derive(Clone)]
    struct Pending {
        f: &'static str,
        input: Value,
        result: Option<(bool, Value)>,
    }
    let mut pending: Vec<Option<Pending>> = vec![None; procs];
    let mut events = Vec::new();
    let mut invoked = 0;
    let val = |v: Option<i64>| v.map_or(Value::Nil, Value::Int);
    loop {
        let busy: Vec<usize> = (0..procs).filter(|&p| pending[p].is_some()).collect();
        if invoked == n_ops && busy.is_empty() {
            break;
        }
        if invoked == n_ops && info && r(6) == 0 {
            break; // leave the rest never completed
        }
        match r(3) {
            0 if invoked < n_ops => {
                let idle: Vec<usize> = (0..procs).filter(|&p| pending[p].is_none()).collect();
                if idle.is_empty() {
                    continue;
                }
                let p = idle[r(idle.len() as u64) as usize];
                let (f, input) = match r(3) {
                    0 => ("read", Value::Nil),
                    1 => ("write", Value::Int(r(3) as i64)),
                    _ => (
                        "cas",
                        Value::Vector(vec![Value::Int(r(3) as i64), Value::Int(r(3) as i64)]),
                    ),
                };
                events.push(Op::new(OpType::Invoke, p as i64, f, input.clone()));
                pending[p] = Some(Pending {
                    f,
                    input,
                    result: None,
                });
                invoked += 1;
            }
            1 if !busy.is_empty() => {
                // take effect
                let p = busy[r(busy.len() as u64) as usize];
                let pd = pending[p].as_mut().expect("busy");
                if pd.result.is_some() {
                    continue;
                }
                pd.result = Some(match pd.f {
                    "read" => {
                        let v = if wild || r(12) == 0 {
                            if r(4) == 0 {
                                None
                            } else {
                                Some(r(3) as i64)
                            }
                        } else {
                            reg
                        };
                        (true, val(v))
                    }
                    "write" => {
                        reg = pd.input.as_int();
                        (true, pd.input.clone())
                    }
                    _ => {
                        let v = pd.input.as_vector().expect("cas").to_vec();
                        let ok = if wild {
                            r(2) == 0
                        } else {
                            reg == v[0].as_int()
                        };
                        if ok && !wild {
                            reg = v[1].as_int();
                        }
                        (ok, pd.input.clone())
                    }
                });
            }
            2 if !busy.is_empty() => {
                let p = busy[r(busy.len() as u64) as usize];
                let pd = pending[p].take().expect("busy");
                let (t, v) = match pd.result {
                    _ if info && r(5) == 0 => (OpType::Info, Value::Keyword("timeout".into())),
                    None => {
                        // never took effect: only a cas can fail
                        if pd.f == "cas" {
                            (OpType::Fail, pd.input.clone())
                        } else {
                            pending[p] = Some(pd);
                            continue;
                        }
                    }
                    Some((true, v)) => (OpType::Ok, v),
                    Some((false, v)) => (OpType::Fail, v),
                };
                events.push(Op::new(t, p as i64, pd.f, v));
            }
            _ => {}
        }
    }
    History::from_ops(events).expect("well-formed")
}

/// The options of the comparisons with the oracle, which calls a history
/// with nothing to judge valid.
fn opts(shrink: bool) -> CheckOptions {
    CheckOptions {
        shrink,
        allow_empty: true,
        ..CheckOptions::default()
    }
}

/// The history made of the given operations only (all their events, in
/// the original order).
pub(super) fn sub_history(h: &History, ids: &[usize]) -> History {
    let mut keep = vec![false; h.ops.len()];
    for &i in ids {
        let o = &h.operations[i];
        keep[o.invoke] = true;
        if let Some(c) = o.complete {
            keep[c] = true;
        }
    }
    let ops = h
        .ops
        .iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(o, _)| o.clone())
        .collect();
    History::from_ops(ops).expect("sub-history pairs")
}

fn items_of<M: Model>(h: &History, model: &mut M) -> Vec<Item<M::Op>> {
    let mut items = Vec::new();
    for (id, o) in h.operations.iter().enumerate() {
        let call = Call::of(h, o);
        if let Some(op) = model.compile(&call).expect("compiles") {
            items.push(Item {
                id,
                process: o.process,
                invoke: o.invoke,
                ret: o.response(),
                op,
            });
        }
    }
    items
}

/// Can every required op among `ids` take effect after some of the other
/// ops among `ids` that may explain it, in some order (brute force, real
/// time among them ignored)? Those invoked before its return that are not
/// read-only, and of its own process when the model says it needs them
/// (a lock's release).
fn explains_ops<M: Model>(h: &History, ids: &[usize], model: &M) -> bool {
    let mut m = model.clone();
    // (op, operation, read-only)
    let mut ops = Vec::new();
    for &id in ids {
        let o = &h.operations[id];
        if let Some(op) = m.compile(&Call::of(h, o)).expect("compiles") {
            let ro = m.read_only(&op);
            ops.push((op, o, ro));
        }
    }
    fn reach<M: Model>(m: &M, s: &M::State, others: &[&M::Op], used: u32, r: &M::Op) -> bool {
        m.step(s, r).is_some()
            || (0..others.len()).any(|i| {
                used & (1 << i) == 0
                    && m.step(s, others[i])
                        .is_some_and(|s1| reach(m, &s1, others, used | 1 << i, r))
            })
    }
    let required = |r: usize| ops[r].1.response() != usize::MAX;
    (0..ops.len()).filter(|&r| required(r)).all(|r| {
        let (op, o, _) = &ops[r];
        let own = m.needs_own_process(op);
        let others: Vec<&M::Op> = (0..ops.len())
            .filter(|&k| {
                k != r
                    && !ops[k].2
                    && ops[k].1.invoke < o.response()
                    && (!own || ops[k].1.process == o.process)
            })
            .map(|k| &ops[k].0)
            .collect();
        reach(&m, &m.init(), &others, 0, op)
    })
}

/// Checks a witness order: real time respected, every step legal, every
/// required op present.
fn witness_ok<M: Model>(model: &M, items: &[Item<M::Op>], order: &[u32]) -> bool {
    let mut pos = vec![usize::MAX; items.len()];
    for (k, &i) in order.iter().enumerate() {
        pos[i as usize] = k;
    }
    if items
        .iter()
        .enumerate()
        .any(|(i, it)| !it.optional() && pos[i] == usize::MAX)
    {
        return false;
    }
    for (a, ia) in items.iter().enumerate() {
        for (b, ib) in items.iter().enumerate() {
            // a returned before b was invoked: a must come first.
            if pos[a] != usize::MAX && pos[b] != usize::MAX && ia.ret < ib.invoke && pos[a] > pos[b]
            {
                return false;
            }
        }
    }
    let mut s = model.init();
    for &i in order {
        match model.step(&s, &items[i as usize].op) {
            Some(n) => s = n,
            None => return false,
        }
    }
    true
}

fn compare_with_oracle(cases: u32, max_ops: usize, info: bool, observes: bool, read_only: bool) {
    let valid = Cell::new(0u32);
    let invalid = Cell::new(0u32);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&any::<u64>(), |seed| {
            let h = random_history(seed, max_ops, info);
            let model = TestCas {
                failed_cas_observes: observes,
                read_only,
            };
            let expected = oracle(&h, model.clone());
            let report = check(&h, model.clone(), &opts(true)).expect("compiles");
            prop_assert_eq!(
                report.valid,
                if expected {
                    Verdict::Valid
                } else {
                    Verdict::Invalid
                },
                "seed {}",
                seed
            );
            let mut m = model.clone();
            let items = items_of(&h, &mut m);
            match Engine::new(&m, &items).search(&Limits::default()) {
                Found::Linearizable(order) => {
                    prop_assert!(witness_ok(&m, &items, &order), "bad witness, seed {}", seed);
                    valid.set(valid.get() + 1);
                }
                Found::NotLinearizable { .. } => {
                    invalid.set(invalid.get() + 1);
                    let ev = report.partitions[0].evidence.as_ref().expect("evidence");
                    prop_assert!(ev.minimal_verified);
                    let ids: Vec<usize> = ev
                        .minimal
                        .as_ref()
                        .expect("shrunk")
                        .iter()
                        .map(|v| v.id)
                        .collect();
                    prop_assert!(
                        !oracle(&sub_history(&h, &ids), model.clone()),
                        "seed {}",
                        seed
                    );
                    // No op of the counterexample is illegal on its own,
                    // unless one of the history's was.
                    let all: Vec<usize> = (0..h.operations.len()).collect();
                    prop_assert!(
                        explains_ops(&h, &ids, &model) || !explains_ops(&h, &all, &model),
                        "an op illegal on its own, seed {}",
                        seed
                    );
                    for skip in 0..ids.len() {
                        let fewer: Vec<usize> = ids
                            .iter()
                            .enumerate()
                            .filter(|&(k, _)| k != skip)
                            .map(|(_, &i)| i)
                            .collect();
                        prop_assert!(
                            oracle(&sub_history(&h, &fewer), model.clone())
                                || !explains_ops(&h, &fewer, &model),
                            "not 1-minimal, seed {}",
                            seed
                        );
                    }
                    prop_assert!(!ev.blocked.is_empty());
                }
                Found::Unknown { .. } => prop_assert!(false, "no limits, yet unknown"),
            }
            Ok(())
        })
        .unwrap();
    // Both verdicts must occur, or the comparison proves little.
    assert!(
        valid.get() > cases / 10 && invalid.get() > cases / 10,
        "valid {}, invalid {}",
        valid.get(),
        invalid.get()
    );
}

#[test]
fn agrees_with_oracle_without_info() {
    compare_with_oracle(3000, 8, false, false, true);
}

#[test]
fn agrees_with_oracle_with_info() {
    compare_with_oracle(3000, 8, true, false, true);
}

#[test]
fn agrees_with_oracle_failed_cas_observes() {
    compare_with_oracle(2000, 8, true, true, true);
}

#[test]
fn agrees_with_oracle_without_read_only_rule() {
    compare_with_oracle(2000, 8, true, false, false);
    compare_with_oracle(1000, 8, true, true, false);
}

/// One rule on and off, over 4,000 random histories (`info` says which
/// get indeterminate ops): both searches agree with the oracle, both
/// witnesses are valid, and a final-path search records the same states
/// either way. `base` sets up both engines (it may turn another rule off
/// in both); `off` turns the rule off; `seen` is shown each history's
/// items and both engines after their searches, for the caller to count
/// where the rule could act. Returns the (valid, invalid) counts.
fn rule_agrees_on_and_off(
    salt: u64,
    info: fn(u64) -> bool,
    base: for<'a> fn(Engine<'a, TestCas>) -> Engine<'a, TestCas>,
    off: for<'a> fn(Engine<'a, TestCas>) -> Engine<'a, TestCas>,
    seen: impl FnMut(&[Item<TestOp>], &Engine<'_, TestCas>, &Engine<'_, TestCas>),
) -> (usize, usize) {
    searches_agree(salt, info, base, off, &Limits::default(), seen)
}

/// [`rule_agrees_on_and_off`], with the second engine's searches (the
/// plain one and the final-path one) run within `off_limits`.
fn searches_agree(
    salt: u64,
    info: fn(u64) -> bool,
    base: for<'a> fn(Engine<'a, TestCas>) -> Engine<'a, TestCas>,
    off: for<'a> fn(Engine<'a, TestCas>) -> Engine<'a, TestCas>,
    off_limits: &Limits<'_>,
    mut seen: impl FnMut(&[Item<TestOp>], &Engine<'_, TestCas>, &Engine<'_, TestCas>),
) -> (usize, usize) {
    let (mut valid, mut invalid) = (0, 0);
    for k in 0..4000u64 {
        let seed = k.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt;
        let h = random_history(seed, 10 + (salt & 1) as usize, info(k));
        let model = TestCas {
            failed_cas_observes: k % 5 == 0,
            read_only: k % 2 == 0,
        };
        let expected = oracle(&h, model.clone());
        let mut m = model.clone();
        let items = items_of(&h, &mut m);
        let mut with = base(Engine::new(&m, &items));
        let on = with.search(&Limits::default());
        let mut without = off(base(Engine::new(&m, &items)));
        let found_off = without.search(off_limits);
        seen(&items, &with, &without);
        for found in [&on, &found_off] {
            match found {
                Found::Linearizable(order) => {
                    assert!(expected, "seed {seed}: found an order the oracle denies");
                    assert!(witness_ok(&m, &items, order), "seed {seed}: bad witness");
                }
                Found::NotLinearizable { .. } => {
                    assert!(!expected, "seed {seed}: missed an order")
                }
                Found::Unknown { .. } => panic!("seed {seed}: no limits, yet unknown"),
            }
        }
        if let Found::NotLinearizable { stuck } = on {
            invalid += 1;
            let states = |mut engine: Engine<'_, TestCas>, limits: &Limits<'_>| {
                let (finals, complete) = engine.finals(stuck, limits, usize::MAX);
                assert!(complete);
                let mut s: Vec<Option<i64>> = finals.into_iter().map(|f| f.state).collect();
                s.sort();
                s
            };
            assert_eq!(
                states(base(Engine::new(&m, &items)), &Limits::default()),
                states(off(base(Engine::new(&m, &items))), off_limits),
                "seed {seed}: final states differ"
            );
        } else {
            valid += 1;
        }
    }
    assert!(
        valid > 400 && invalid > 400,
        "valid {valid}, invalid {invalid}"
    );
    (valid, invalid)
}

/// Rule 6 (twins) on and off. The random histories use three values, so
/// overlapping identical ops are common; the test counts them to show the
/// rule is exercised.
#[test]
fn twin_rule_agrees_with_oracle_on_and_off() {
    let mut with_twins = 0;
    rule_agrees_on_and_off(
        0x7477_696E,
        |k| k % 3 != 0,
        |e| e,
        |e| e.without_twin_rule(),
        |items, _, _| {
            with_twins += usize::from(items.iter().enumerate().any(|(a, x)| {
                items[a + 1..]
                    .iter()
                    .any(|y| x.op == y.op && x.invoke < y.ret && y.invoke < x.ret && !y.optional())
            }));
        },
    );
    assert!(with_twins > 1000, "only {with_twins} histories with twins");
}

/// Rule 7 (subsumption) on and off. Every history has indeterminate ops
/// (the rule only acts on them); the test counts the histories where a
/// record pruned a configuration, so the rule is shown to act. Rule 11,
/// which cuts many of the same configurations first, is off in both.
#[test]
fn subsumption_rule_agrees_with_oracle_on_and_off() {
    let mut pruned = 0;
    rule_agrees_on_and_off(
        0x7375_6273,
        |_| true,
        |e| e.without_run_rule(),
        |e| e.without_subsumption(),
        |_, on, off| pruned += usize::from(on.configurations < off.configurations),
    );
    assert!(pruned > 30, "the rule pruned in only {pruned} histories");
}

/// The memo at its least size and rule 7's records in a ring of two: the
/// search forgets nearly every failure it recorded, which may cost work
/// but never changes a verdict or the states a final-path search records
/// (compared with the default limits over the 4,000 histories of
/// [`rule_agrees_on_and_off`]). The test counts the histories where the
/// ring wrapped.
#[test]
fn forgetting_recorded_failures_changes_no_verdict() {
    let tiny = Limits {
        memo_cap: 16,
        ..Limits::default()
    };
    let mut wrapped = 0;
    searches_agree(
        0x7269_6E67,
        |_| true,
        |e| e,
        |e| e,
        &tiny,
        |_, _, small| wrapped += usize::from(small.failures_recorded() > 2),
    );
    assert!(
        wrapped > 120,
        "the ring wrapped in only {wrapped} histories"
    );
}

/// Rule 11 (optional runs) on and off. Every history has indeterminate
/// ops; the test counts the histories where the rule pruned a step, so the
/// rule is shown to act.
#[test]
fn run_rule_agrees_with_oracle_on_and_off() {
    let mut pruned = 0;
    rule_agrees_on_and_off(
        0x7275_6E73,
        |_| true,
        |e| e,
        |e| e.without_run_rule(),
        |_, on, off| {
            assert_eq!(off.run_pruned, 0);
            pruned += usize::from(on.run_pruned > 0);
        },
    );
    assert!(pruned > 30, "the rule pruned in only {pruned} histories");
}

fn ev(t: OpType, p: i64, f: &str, v: Value) -> Op {
    Op::new(t, p, f, v)
}

fn cas(a: i64, b: i64) -> Value {
    Value::Vector(vec![Value::Int(a), Value::Int(b)])
}

#[test]
fn empty_history_is_valid() {
    let h = History::default();
    let r = check(&h, TestCas::default(), &CheckOptions::default()).unwrap();
    assert_eq!(r.valid, Verdict::Unknown, "nothing to judge");
    assert!(r.nothing_to_judge.is_some());
    let r = check(&h, TestCas::default(), &opts(true)).unwrap();
    assert_eq!(r.valid, Verdict::Valid, "allowed");
}

#[test]
fn stale_read_is_invalid_with_evidence() {
    use OpType::*;
    let h = History::from_ops(vec![
        ev(Invoke, 0, "write", Value::Int(1)),
        ev(Ok, 0, "write", Value::Int(1)),
        ev(Invoke, 1, "write", Value::Int(2)),
        ev(Ok, 1, "write", Value::Int(2)),
        ev(Invoke, 2, "read", Value::Nil),
        ev(Invoke, 0, "cas", cas(2, 3)),
        ev(Ok, 2, "read", Value::Int(1)),
        ev(Ok, 0, "cas", cas(2, 3)),
    ])
    .unwrap();
    let r = check(&h, TestCas::default(), &opts(true)).unwrap();
    assert_eq!(r.valid, Verdict::Invalid);
    let e = r.partitions[0].evidence.as_ref().unwrap();
    assert_eq!(e.op.op, "Read(Some(1))");
    assert_eq!(e.previous_ok.as_ref().unwrap().op, "Write(2)");
    assert_eq!(e.concurrent.len(), 1);
    assert_eq!(e.concurrent[0].op, "Cas(2, 3)");
    // Final states: 2 (before the cas) and 3 (after it).
    let mut states: Vec<&str> = e.blocked.iter().map(|b| b.state.as_str()).collect();
    states.sort();
    assert_eq!(states, vec!["Some(2)", "Some(3)"]);
    assert!(e.final_paths_complete);
    // Shrinking may find a smaller bug than the stale read (the cas alone
    // fails on an empty register); whatever it finds, the oracle confirms,
    // and it explains its ops.
    let ids: Vec<usize> = e.minimal.as_ref().unwrap().iter().map(|v| v.id).collect();
    assert!(!ids.is_empty() && ids.len() <= 3);
    assert!(explains_ops(&h, &ids, &TestCas::default()));
    assert!(!oracle(&sub_history(&h, &ids), TestCas::default()));
    assert!(e.minimal_verified);
    assert_eq!(e.prefix_len, 3);
}

#[test]
fn crashed_write_may_or_may_not_take_effect() {
    use OpType::*;
    let base = vec![
        ev(Invoke, 0, "write", Value::Int(1)),
        ev(Info, 0, "write", Value::Keyword("timeout".into())),
        ev(Invoke, 1, "read", Value::Nil),
    ];
    for (seen, valid) in [
        (Value::Int(1), true),
        (Value::Nil, true),
        (Value::Int(2), false),
    ] {
        let mut evs = base.clone();
        evs.push(ev(Ok, 1, "read", seen));
        let h = History::from_ops(evs).unwrap();
        let r = check(&h, TestCas::default(), &opts(false)).unwrap();
        assert_eq!(r.valid == Verdict::Valid, valid);
    }
}

/// Concurrent enqueues that no dequeue returns, invoked before the one
/// whose element the dequeue finds at the head: a search that keeps apart
/// the states differing only in the order of the unseen elements tries
/// every ordering of every subset of them (about 10^9 here) before it
/// places the seen one first, and does not finish.
#[test]
fn a_queue_decides_many_unseen_concurrent_enqueues_at_once() {
    use crate::model::{FifoQueue, ModelOptions};
    use OpType::*;
    let mut evs = Vec::new();
    for p in 1..=12 {
        evs.push(ev(Invoke, p, "enqueue", Value::Int(p)));
    }
    evs.push(ev(Invoke, 0, "enqueue", Value::Int(0)));
    for p in 0..=12 {
        evs.push(ev(Ok, p, "enqueue", Value::Int(p)));
    }
    evs.push(ev(Invoke, 0, "dequeue", Value::Nil));
    evs.push(ev(Ok, 0, "dequeue", Value::Int(0)));
    let h = History::from_ops(evs).unwrap();
    let o = CheckOptions {
        timeout: Some(std::time::Duration::from_secs(60)),
        ..opts(false)
    };
    let r = check(&h, FifoQueue::new(&ModelOptions::default()), &o).unwrap();
    assert_eq!(r.valid, Verdict::Valid);
}

#[test]
fn cancelled_search_is_unknown() {
    let h = random_history(7, 8, false);
    let o = opts(false);
    o.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
    // A cancelled search may still finish before its first check; it must
    // never contradict the oracle.
    let r = check(&h, TestCas::default(), &o).unwrap();
    let expected = oracle(&h, TestCas::default());
    assert!(r.valid == Verdict::Unknown || (r.valid == Verdict::Valid) == expected);
}

#[test]
fn compile_errors_name_the_line() {
    let mut w = ev(OpType::Invoke, 0, "write", Value::Str("x".into()));
    w.line = 7;
    let h = History::from_ops(vec![w]).unwrap();
    let e = check(&h, TestCas::default(), &opts(false)).unwrap_err();
    assert_eq!(e.position.line, 7);
}

#[test]
fn keyed_history_is_split_and_gated() {
    use OpType::*;
    let mut evs = Vec::new();
    for k in 0..4 {
        let mut a = ev(Invoke, 0, "write", Value::Int(1));
        a.key = Some(Value::Int(k));
        let mut b = ev(Ok, 0, "write", Value::Int(1));
        b.key = Some(Value::Int(k));
        let mut c = ev(Invoke, 1, "read", Value::Nil);
        c.key = Some(Value::Int(k));
        // keys 1 and 3 read a value never written
        let seen = if k % 2 == 1 { 5 } else { 1 };
        let mut d = ev(Ok, 1, "read", Value::Int(seen));
        d.key = Some(Value::Int(k));
        evs.extend([a, b, c, d]);
    }
    let h = History::from_ops(evs).unwrap();
    let report_all = CheckOptions {
        report_all: true,
        allow_empty: true,
        ..CheckOptions::default()
    };
    let r = check(&h, TestCas::default(), &report_all).unwrap();
    assert!(r.partitioned);
    let verdicts: Vec<Verdict> = r.partitions.iter().map(|p| p.valid).collect();
    use Verdict::{Invalid as I, Valid as V};
    assert_eq!(verdicts, vec![V, I, V, I]);
    // Report mode: every failing key has its evidence.
    assert!(r.partitions[1].evidence.is_some() && r.partitions[3].evidence.is_some());
    let gate = check(&h, TestCas::default(), &opts(false)).unwrap();
    assert_eq!(gate.valid, Verdict::Invalid);
    // Gate mode: the first failing key found, in key order, has evidence,
    // and no other key does.
    let failing: Vec<usize> = (0..4)
        .filter(|&k| gate.partitions[k].valid == Verdict::Invalid)
        .collect();
    assert!(!failing.is_empty());
    for (k, p) in gate.partitions.iter().enumerate() {
        assert_eq!(p.evidence.is_some(), k == failing[0], "key {k}");
    }
}

#[test]
fn stale_read_shrinks_to_the_writes_that_explain_it() {
    use OpType::*;
    // Process 1 reads 1 after the write of 2 has returned.
    let h = History::from_ops(vec![
        ev(Invoke, 0, "write", Value::Int(1)),
        ev(Ok, 0, "write", Value::Int(1)),
        ev(Invoke, 0, "write", Value::Int(2)),
        ev(Ok, 0, "write", Value::Int(2)),
        ev(Invoke, 2, "read", Value::Nil),
        ev(Ok, 2, "read", Value::Int(2)),
        ev(Invoke, 1, "read", Value::Nil),
        ev(Ok, 1, "read", Value::Int(1)),
    ])
    .unwrap();
    let model = TestCas {
        read_only: true,
        ..TestCas::default()
    };
    let r = check(&h, model, &opts(true)).unwrap();
    assert_eq!(r.valid, Verdict::Invalid);
    let e = r.partitions[0].evidence.as_ref().unwrap();
    let mut ops: Vec<&str> = e
        .minimal
        .as_ref()
        .unwrap()
        .iter()
        .map(|v| v.op.as_str())
        .collect();
    ops.sort();
    // Not the lone read of 1, which no write would explain.
    assert_eq!(ops, vec!["Read(Some(1))", "Write(1)", "Write(2)"]);
    assert!(e.minimal_verified);
}

#[test]
fn one_object_evidence_comes_from_the_failing_key() {
    use OpType::*;
    let on = |mut o: Op, k: i64| {
        o.key = Some(Value::Int(k));
        o
    };
    // Key 1: three processes write and read concurrently, linearizably.
    // Key 0: a stale read of 1 after the write of 2 returned.
    let mut evs = Vec::new();
    for p in 3..6 {
        evs.push(on(ev(Invoke, p, "write", Value::Int(p)), 1));
    }
    for p in 3..6 {
        evs.push(on(ev(Ok, p, "write", Value::Int(p)), 1));
    }
    evs.extend([
        on(ev(Invoke, 0, "write", Value::Int(1)), 0),
        on(ev(Ok, 0, "write", Value::Int(1)), 0),
        on(ev(Invoke, 3, "read", Value::Nil), 1),
        on(ev(Invoke, 0, "write", Value::Int(2)), 0),
        on(ev(Ok, 0, "write", Value::Int(2)), 0),
        on(ev(Ok, 3, "read", Value::Int(5)), 1),
        on(ev(Invoke, 1, "read", Value::Nil), 0),
        on(ev(Invoke, 4, "write", Value::Int(7)), 1),
        on(ev(Ok, 1, "read", Value::Int(1)), 0),
        on(ev(Ok, 4, "write", Value::Int(7)), 1),
    ]);
    let h = History::from_ops(evs).unwrap();
    let model = crate::model::Keyed::new(TestCas {
        read_only: true,
        ..TestCas::default()
    });
    let one_object = CheckOptions {
        partition: false,
        ..opts(true)
    };
    let r = check(&h, model, &one_object).unwrap();
    assert!(!r.partitioned);
    assert_eq!(r.valid, Verdict::Invalid);
    let e = r.partitions[0].evidence.as_ref().unwrap();
    assert_eq!(e.op.op, "key 0: Read(Some(1))");
    // The paths and the counterexample are key 0's alone; what was
    // concurrent is still taken from the whole history.
    assert!(e.final_paths_complete);
    assert_eq!(e.final_paths.len(), 1);
    assert_eq!(e.final_paths[0].state, "key 0: Some(2)");
    assert!(e.final_paths[0]
        .ops
        .iter()
        .all(|o| o.op.starts_with("key 0:")));
    assert!(e.blocked.iter().all(|b| b.state.starts_with("key 0:")));
    assert!(e.concurrent.iter().any(|o| o.op.starts_with("key 1:")));
    let mut ops: Vec<&str> = e
        .minimal
        .as_ref()
        .unwrap()
        .iter()
        .map(|v| v.op.as_str())
        .collect();
    ops.sort();
    assert_eq!(
        ops,
        vec!["key 0: Read(Some(1))", "key 0: Write(1)", "key 0: Write(2)"]
    );
    assert!(e.minimal_verified);
}

/// A random history of at most `max_ops` operations on one simulated key
/// of a string store: appends of distinct pieces, puts, and reads that
/// sometimes see an older value (a stale read, perhaps far from its
/// write); some writes crash, with or without effect.
fn random_kv_history(seed: u64, max_ops: usize) -> History {
    let mut g = SplitMix64(seed);
    let mut r = |n: u64| g.next_u64() % n;
    let procs = 2 + r(3) as usize;
    let n_ops = 1 + r(max_ops as u64) as usize;
    let info = r(3) == 0;
    let mut value = String::new();
    let mut old: Vec<String> = vec![String::new()];
    // Per process: (f, input, value seen or written once it took effect).
    let mut pending: Vec<Option<(&'static str, String, Option<String>)>> = vec![None; procs];
    let (mut events, mut invoked) = (Vec::new(), 0);
    loop {
        let busy: Vec<usize> = (0..procs).filter(|&p| pending[p].is_some()).collect();
        if invoked == n_ops && busy.is_empty() {
            break;
        }
        match r(3) {
            0 if invoked < n_ops => {
                let idle: Vec<usize> = (0..procs).filter(|&p| pending[p].is_none()).collect();
                if idle.is_empty() {
                    continue;
                }
                let p = idle[r(idle.len() as u64) as usize];
                let (f, input) = match r(5) {
                    0 | 1 => ("append", format!("{}", (b'a' + invoked as u8) as char)),
                    2 => ("put", format!("{}", (b'A' + r(3) as u8) as char)),
                    _ => ("get", String::new()),
                };
                let v = if f == "get" {
                    Value::Nil
                } else {
                    Value::from(input.as_str())
                };
                events.push(Op::new(OpType::Invoke, p as i64, f, v));
                pending[p] = Some((f, input, None));
                invoked += 1;
            }
            1 if !busy.is_empty() => {
                let p = busy[r(busy.len() as u64) as usize];
                let pd = pending[p].as_mut().expect("busy");
                if pd.2.is_some() {
                    continue;
                }
                match pd.0 {
                    "get" if r(3) == 0 => pd.2 = Some(old[r(old.len() as u64) as usize].clone()),
                    "get" => pd.2 = Some(value.clone()),
                    "append" => value.push_str(&pd.1),
                    _ => value = pd.1.clone(),
                }
                if pd.0 != "get" {
                    old.push(value.clone());
                    pd.2 = Some(value.clone());
                }
            }
            2 if !busy.is_empty() => {
                let p = busy[r(busy.len() as u64) as usize];
                let (f, input, seen) = pending[p].take().expect("busy");
                let (t, v) = match seen {
                    _ if f != "get" && info && r(4) == 0 => {
                        (OpType::Info, Value::Keyword("timeout".into()))
                    }
                    None => {
                        pending[p] = Some((f, input, None));
                        continue;
                    }
                    Some(s) if f == "get" => (OpType::Ok, Value::from(s.as_str())),
                    Some(_) => (OpType::Ok, Value::from(input.as_str())),
                };
                events.push(Op::new(t, p as i64, f, v));
            }
            _ => {}
        }
    }
    History::from_ops(events).expect("well-formed")
}

/// Searches `items` with `engine`, checks the answer against `expected`
/// (the oracle's) and any witness, and returns whether it was valid.
fn agrees<M: Model>(seed: u64, m: &M, items: &[Item<M::Op>], found: &Found, expected: bool) {
    match found {
        Found::Linearizable(order) => {
            assert!(expected, "seed {seed}: found an order the oracle denies");
            assert!(witness_ok(m, items, order), "seed {seed}: bad witness");
        }
        Found::NotLinearizable { .. } => assert!(!expected, "seed {seed}: missed an order"),
        Found::Unknown { .. } => panic!("seed {seed}: no limits, yet unknown"),
    }
}

/// The states a final-path search records, as text, sorted.
fn final_states<M: Model>(mut engine: Engine<'_, M>, stuck: u32) -> Vec<String> {
    let (finals, complete) = engine.finals(stuck, &Limits::default(), usize::MAX);
    assert!(complete);
    let mut s: Vec<String> = finals.iter().map(|f| format!("{:?}", f.state)).collect();
    s.sort();
    s
}

/// One rule on and off, on any model, over 4,000 histories from `history`
/// (seeded from `salt`): both searches agree with the oracle, witnesses
/// are valid, and a final-path search records the same states either way;
/// both verdicts occur. `off` turns the rule off; `acted` is shown each
/// history's items and both engines after their searches and says whether
/// the rule acted (it may assert more); it must have acted in more than
/// `min_acted` histories.
fn model_rule_agrees<M: Model>(
    salt: u64,
    model: M,
    history: impl Fn(u64) -> History,
    off: for<'a> fn(Engine<'a, M>) -> Engine<'a, M>,
    mut acted: impl FnMut(u64, &M, &[Item<M::Op>], &Engine<'_, M>, &Engine<'_, M>) -> bool,
    min_acted: usize,
) {
    let (mut valid, mut invalid, mut times) = (0, 0, 0);
    for k in 0..4000u64 {
        let seed = k.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt;
        let h = history(seed);
        let expected = oracle(&h, model.clone());
        let mut m = model.clone();
        let items = items_of(&h, &mut m);
        let mut on = Engine::new(&m, &items);
        let found_on = on.search(&Limits::default());
        let mut without = off(Engine::new(&m, &items));
        let found_off = without.search(&Limits::default());
        agrees(seed, &m, &items, &found_on, expected);
        agrees(seed, &m, &items, &found_off, expected);
        times += usize::from(acted(seed, &m, &items, &on, &without));
        if let Found::NotLinearizable { stuck } = found_on {
            invalid += 1;
            assert!((stuck as usize) < items.len(), "seed {seed}");
            assert_eq!(
                final_states(Engine::new(&m, &items), stuck),
                final_states(off(Engine::new(&m, &items)), stuck),
                "seed {seed}: final states differ"
            );
        } else {
            valid += 1;
        }
    }
    assert!(
        valid > 400 && invalid > 400,
        "valid {valid}, invalid {invalid}"
    );
    assert!(
        times > min_acted,
        "the rule acted in only {times} histories"
    );
}

/// Rule 9 (future returns) on and off, on a model with reachability
/// hooks; the rule must have made the search enter fewer configurations
/// in more than `min_pruned` histories.
fn future_rule_agrees<M: Model>(model: M, history: impl Fn(u64) -> History, min_pruned: usize) {
    model_rule_agrees(
        0x6675_7475,
        model,
        history,
        |e| e.without_future_rule(),
        |_, _, _, on, off| {
            assert!(on.has_future_rule() && !off.has_future_rule());
            on.configurations < off.configurations
        },
        min_pruned,
    );
}

/// The kv register with the 6.824 traces' initial value, `""`.
fn kv_strings() -> crate::model::KvRegister {
    crate::model::KvRegister::new(&crate::model::ModelOptions {
        initial: Value::from(""),
        ..Default::default()
    })
}

#[test]
fn future_rule_agrees_with_oracle_on_kv() {
    future_rule_agrees(kv_strings(), |s| random_kv_history(s, 10), 100);
}

#[test]
fn future_rule_agrees_with_oracle_on_cas_register() {
    let model = crate::model::CasRegister::new(&Default::default());
    future_rule_agrees(model, |s| random_history(s, 10, s % 3 != 0), 30);
}

/// A tiny bound on interned states forces compactions (and memo clears)
/// all through the search; verdicts and witnesses stay right.
#[test]
fn compacting_interned_states_keeps_verdicts() {
    let model = kv_strings();
    let mut compactions = 0;
    for k in 0..1500u64 {
        let seed = k.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x636F_6D70;
        let h = random_kv_history(seed, 10);
        let expected = oracle(&h, model.clone());
        let mut m = model.clone();
        let items = items_of(&h, &mut m);
        let limits = Limits {
            state_bytes_cap: 200,
            ..Limits::default()
        };
        let mut engine = Engine::new(&m, &items).without_future_rule();
        let found = engine.search(&limits);
        agrees(seed, &m, &items, &found, expected);
        compactions += engine.compactions;
        if let Found::NotLinearizable { stuck } = found {
            let (finals, complete) = Engine::new(&m, &items).finals(stuck, &limits, usize::MAX);
            assert!(complete);
            let mut s: Vec<String> = finals.iter().map(|f| format!("{:?}", f.state)).collect();
            s.sort();
            s.dedup();
            assert_eq!(
                s,
                final_states(Engine::new(&m, &items), stuck),
                "seed {seed}"
            );
        }
    }
    assert!(compactions > 1000, "only {compactions} compactions");
}

/// Can some order of ops invoked before `t`, respecting real time and
/// the model, place every op that responds by `t`?
fn passes<M: Model>(m: &M, items: &[Item<M::Op>], t: usize) -> bool {
    fn go<M: Model>(
        m: &M,
        items: &[Item<M::Op>],
        t: usize,
        done: &mut [bool],
        s: &M::State,
    ) -> bool {
        let open: Vec<usize> = (0..items.len())
            .filter(|&i| !done[i] && items[i].invoke < t)
            .collect();
        if !open.iter().any(|&i| items[i].ret <= t) {
            return true;
        }
        for &i in &open {
            // Real time: no op left to place responded before i began.
            if open.iter().any(|&j| items[j].ret < items[i].invoke) {
                continue;
            }
            if let Some(next) = m.step(s, &items[i].op) {
                done[i] = true;
                let ok = go(m, items, t, done, &next);
                done[i] = false;
                if ok {
                    return true;
                }
            }
        }
        false
    }
    go(m, items, t, &mut vec![false; items.len()], &m.init())
}

/// The first failure found by binary search over responses is the first
/// response that no order gets past, by brute force, on kv string
/// histories and cas-register histories with info ops (where rules 5, 8
/// and 9 refute early and a search stops elsewhere).
#[test]
fn first_failure_is_the_first_response_no_order_gets_past() {
    fn compare<M: Model>(model: &M, h: &History) -> bool {
        let mut m = model.clone();
        let items = items_of(h, &mut m);
        let mut rets: Vec<usize> = (0..items.len()).filter(|&i| !items[i].optional()).collect();
        rets.sort_by_key(|&i| items[i].ret);
        let expected = rets
            .iter()
            .copied()
            .find(|&i| !passes(&m, &items, items[i].ret));
        let found = first_failure(&m, &items, &Limits::default());
        if expected.is_some() {
            assert_eq!(found, expected, "{h:?}");
        }
        expected.is_some()
    }
    let kv = kv_strings();
    let cas = crate::model::CasRegister::new(&Default::default());
    let mut invalid = 0;
    for seed in 0..1500u64 {
        invalid += usize::from(compare(&kv, &random_kv_history(seed, 10)));
        invalid += usize::from(compare(&cas, &random_history(seed, 10, seed % 3 != 0)));
    }
    assert!(invalid > 400, "only {invalid} invalid histories");
}

/// Several independent histories, one per key (from `one(seed)`), their
/// processes kept apart and their events interleaved at random.
fn keyed_history(seed: u64, keys: usize, one: impl Fn(u64) -> History) -> History {
    let mut g = SplitMix64(seed ^ 0x6B65_7973);
    let mut queues: Vec<std::collections::VecDeque<Op>> = (0..keys)
        .map(|k| {
            let h = one(seed
                .wrapping_add(k as u64)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15));
            h.ops
                .into_iter()
                .map(|mut o| {
                    if let crate::history::Process::Client(p) = o.process {
                        o.process = crate::history::Process::Client(p + 100 * k as i64);
                    }
                    o.key = Some(Value::Int(k as i64));
                    o
                })
                .collect()
        })
        .collect();
    let mut events = Vec::new();
    loop {
        let live: Vec<usize> = (0..keys).filter(|&k| !queues[k].is_empty()).collect();
        if live.is_empty() {
            break;
        }
        let k = live[(g.next_u64() % live.len() as u64) as usize];
        events.extend(queues[k].pop_front());
    }
    History::from_ops(events).expect("well-formed")
}

/// Rule 10 (objects) on and off, on keyed histories of two or three keys
/// checked as one object: the rule is on exactly when the items act on
/// two objects or more (so in most histories), and it refused a
/// configuration in more than `min_refused` of them.
fn object_rule_agrees<M: Model>(model: M, history: impl Fn(u64) -> History, min_refused: usize) {
    let mut gated = 0;
    model_rule_agrees(
        0x6F62_6A73,
        model,
        history,
        |e| e.without_object_rule(),
        |seed, m, items, on, off| {
            let mut keys: Vec<u32> = items.iter().filter_map(|it| m.object(&it.op)).collect();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(on.has_object_rule(), keys.len() >= 2, "seed {seed}");
            assert!(!off.has_object_rule());
            gated += usize::from(on.has_object_rule());
            on.object_refusals > 0
        },
        min_refused,
    );
    assert!(gated > 3000, "the rule was on in only {gated} histories");
}

/// Keyed cas registers: with read-only reads and no info ops, then with
/// info ops and failed cas ops as observations.
#[test]
fn object_rule_agrees_with_oracle_on_keyed_cas_registers() {
    for (model, info) in [
        (
            TestCas {
                read_only: true,
                ..TestCas::default()
            },
            false,
        ),
        (
            TestCas {
                failed_cas_observes: true,
                ..TestCas::default()
            },
            true,
        ),
    ] {
        object_rule_agrees(
            crate::model::Keyed::new(model),
            |s| keyed_history(s, 2 + (s % 2) as usize, |t| random_history(t, 4, info)),
            300,
        );
    }
}

#[test]
fn object_rule_agrees_with_oracle_on_kv() {
    let model = crate::model::Keyed::new(kv_strings());
    object_rule_agrees(
        model,
        |s| keyed_history(s, 2, |t| random_kv_history(t, 7)),
        300,
    );
}

/// A single object never turns the rule on, and a keyed search with no
/// time left says unknown rather than asking its objects anything.
#[test]
fn object_rule_is_gated_and_respects_the_deadline() {
    let h = random_history(7, 10, false);
    let mut m = TestCas::default();
    let items = items_of(&h, &mut m);
    assert!(!Engine::new(&m, &items).has_object_rule());
    let model = crate::model::Keyed::new(TestCas::default());
    let mut checked = 0;
    for seed in 0..200u64 {
        let h = keyed_history(seed, 3, |t| random_history(t, 4, false));
        let mut m = model.clone();
        let items = items_of(&h, &mut m);
        let mut engine = Engine::new(&m, &items);
        if !engine.has_object_rule() || !oracle(&h, model.clone()) {
            continue;
        }
        let past = Limits {
            deadline: Some(std::time::Instant::now()),
            ..Limits::default()
        };
        let found = engine.search(&past);
        assert!(
            matches!(found, Found::Unknown { .. }),
            "seed {seed}: {found:?}"
        );
        // The same engine, asked again without limits, finds an order.
        let found = engine.search(&Limits::default());
        agrees(seed, &m, &items, &found, true);
        checked += 1;
    }
    assert!(checked > 10, "only {checked} valid keyed histories");
}

/// When the first failure is not looked for (its budget is zero), as when
/// it is not found within its budget on a long partition, the evidence still names
/// an op whose completion no order gets past: in the partition (rule 8)
/// or in the minimal counterexample, as `stuck_in` says, checked by brute
/// force.
#[test]
fn evidence_without_the_first_failure_says_where_its_op_is_stuck() {
    fn claim<M: Model>(model: &M, h: &History) -> Option<StuckIn> {
        let mut m = model.clone();
        let items = items_of(h, &mut m);
        let mut engine = Engine::new(&m, &items);
        let Found::NotLinearizable { stuck } = engine.search(&Limits::default()) else {
            return None;
        };
        let killer = engine.killer.map(|y| y as usize);
        let touched = engine.touched();
        drop(engine);
        let budgets = Budgets {
            first: 0,
            ..Budgets::shared_by(1)
        };
        let ev = evidence(
            h,
            &m,
            &items,
            (stuck as usize, killer, &touched),
            &opts(true),
            &Limits::default(),
            &budgets,
        );
        let minimal: Vec<usize> = ev.minimal.iter().flatten().map(|v| v.id).collect();
        let scope: Vec<Item<M::Op>> = match ev.stuck_in {
            StuckIn::Partition => items.clone(),
            StuckIn::Minimal => items
                .iter()
                .filter(|it| minimal.contains(&it.id))
                .cloned()
                .collect(),
            StuckIn::Search => panic!("small histories shrink in time: {h:?}"),
        };
        let x = scope.iter().find(|it| it.id == ev.op.id).expect("in scope");
        assert!(!passes(&m, &scope, x.ret), "{:?}: {h:?}", ev.stuck_in);
        assert!(ev.minimal_verified);
        Some(ev.stuck_in)
    }
    let kv = kv_strings();
    let cas = crate::model::CasRegister::new(&Default::default());
    let mut minimal = 0;
    for seed in 0..800u64 {
        for c in [
            claim(&kv, &random_kv_history(seed, 10)),
            claim(&cas, &random_history(seed, 10, seed % 3 != 0)),
        ] {
            minimal += usize::from(c == Some(StuckIn::Minimal));
        }
    }
    assert!(
        minimal > 150,
        "only {minimal} shown in the minimal counterexample"
    );
}

/// A configuration budget ends a search at the same point on every run,
/// unlike a deadline: `unknown`, after entering about that many
/// configurations (it is checked every few thousand steps), where the
/// unbounded search decides. The first failure's budget relies on it.
#[test]
fn a_configuration_budget_stops_the_search_at_the_same_point_every_time() {
    use crate::gen::{generate, GenOptions, Mode};
    let g = generate(&GenOptions {
        mode: Mode::Atomic,
        model: crate::model::ModelKind::CasRegister,
        seed: 1,
        clients: 32,
        ops: 2000,
        crash_rate: 0.02,
        ..GenOptions::default()
    })
    .expect("generates");
    let h = History::from_ops(g.ops).expect("well-formed");
    let mut m = crate::model::CasRegister::new(&Default::default());
    let items = items_of(&h, &mut m);
    let mut full = Engine::new(&m, &items);
    assert!(matches!(
        full.search(&Limits::default()),
        Found::Linearizable(_)
    ));
    let needed = full.configurations;
    assert!(needed > 20_000, "too easy to cut: {needed} configurations");
    let cut = |n: u64| {
        let mut e = Engine::new(&m, &items);
        let found = e.search(&Limits {
            max_configurations: Some(n),
            ..Limits::default()
        });
        (found, e.configurations)
    };
    let budget = needed / 2;
    let (found, entered) = cut(budget);
    assert!(matches!(found, Found::Unknown { .. }), "{found:?}");
    assert!(
        (budget..budget + 8192).contains(&entered),
        "entered {entered} for a budget of {budget}"
    );
    assert_eq!(cut(budget), (found, entered));
}

/// The horizon pass is sound though incomplete: every order it finds is
/// a valid witness, it finds none where the oracle says there is none,
/// and with a horizon as long as the longest latency it still finds most
/// of the orders that exist, over random histories with crashed ops.
#[test]
fn horizon_pass_finds_only_valid_orders() {
    let (mut valid, mut found_valid, mut shorter) = (0, 0, 0);
    for seed in 0..3000u64 {
        let h = random_history(seed, 8, true);
        let expected = oracle(&h, TestCas::default());
        let mut m = TestCas::default();
        let items = items_of(&h, &mut m);
        if !items.iter().any(|it| it.optional()) {
            continue;
        }
        let latency = super::search::longest_latency(&items);
        // The longest latency, as the checker uses, and shorter ones.
        let horizon = [latency, latency / 2, 0][(seed % 3) as usize];
        let found = Engine::new(&m, &items)
            .with_horizon(horizon)
            .search(&Limits::default());
        valid += usize::from(expected);
        match found {
            Found::Linearizable(order) => {
                assert!(expected, "seed {seed}: an order the oracle denies");
                assert!(witness_ok(&m, &items, &order), "seed {seed}: bad witness");
                found_valid += 1;
                shorter += usize::from(horizon < latency);
            }
            Found::NotLinearizable { .. } => {}
            Found::Unknown { .. } => panic!("seed {seed}: no limits, yet unknown"),
        }
    }
    assert!(valid > 300, "only {valid} valid histories with crashed ops");
    assert!(
        found_valid * 10 > valid * 9,
        "the pass found {found_valid} of {valid} orders"
    );
    assert!(
        shorter > 500,
        "shorter horizons found only {shorter} orders"
    );
}

/// `check_partition` says when its horizon pass ended without an order on
/// its own (so later rounds skip it): always for a history with crashed
/// ops and no linearization, never when the pass was not asked for; and
/// skipping it changes no verdict.
#[test]
fn a_horizon_pass_that_ended_is_not_run_again() {
    let mut invalid = 0;
    for seed in 0..600u64 {
        let h = random_history(seed, 8, true);
        let mut m = TestCas::default();
        let items = items_of(&h, &mut m);
        if !items.iter().any(|it| it.optional()) {
            continue;
        }
        let (with, _, over) = check_partition(None, &m, &items, &Limits::default(), true);
        let (without, _, not_run) = check_partition(None, &m, &items, &Limits::default(), false);
        assert_eq!(with.valid, without.valid, "seed {seed}");
        assert!(!not_run, "seed {seed}: a pass not asked for cannot end");
        if with.valid == Verdict::Invalid {
            invalid += 1;
            assert!(
                over,
                "seed {seed}: the pass found no order, yet may run again"
            );
            assert!(with.configurations >= without.configurations, "seed {seed}");
        }
    }
    assert!(
        invalid > 50,
        "only {invalid} invalid histories with crashed ops"
    );
}

/// In the horizon pass a crashed op that has expired enables nothing: a
/// read that only it could explain refutes the pass at once (rule 5),
/// instead of after every order of the writes concurrent with the read.
/// The full search, where the crashed op never expires, finds the order.
#[test]
fn an_expired_crashed_op_enables_nothing_in_the_horizon_pass() {
    use OpType::*;
    const WRITERS: i64 = 10;
    let mut evs = vec![
        ev(Invoke, 0, "write", Value::Int(1)),
        ev(Info, 0, "write", Value::Keyword("timeout".into())),
    ];
    for _ in 0..30 {
        evs.push(ev(Invoke, 1, "write", Value::Int(2)));
        evs.push(ev(Ok, 1, "write", Value::Int(2)));
    }
    for p in 0..WRITERS {
        evs.push(ev(Invoke, 10 + p, "write", Value::Int(3 + p)));
    }
    evs.push(ev(Invoke, 2, "read", Value::Nil));
    evs.push(ev(Ok, 2, "read", Value::Int(1)));
    for p in 0..WRITERS {
        evs.push(ev(Ok, 10 + p, "write", Value::Int(3 + p)));
    }
    let h = History::from_ops(evs).unwrap();
    let mut m = crate::model::CasRegister::new(&Default::default());
    let items = items_of(&h, &mut m);
    let latency = super::search::longest_latency(&items);
    // The crashed write was invoked long before the read.
    assert!(latency < 40, "{latency}");
    let mut pass = Engine::new(&m, &items).with_horizon(latency);
    let found = pass.search(&Limits::default());
    assert!(matches!(found, Found::NotLinearizable { .. }), "{found:?}");
    // The 30 writes of 2, and the refutation: not the 2^10 subsets of
    // the concurrent writes.
    assert!(pass.configurations < 40, "{}", pass.configurations);
    let mut full = Engine::new(&m, &items);
    let found = full.search(&Limits::default());
    let Found::Linearizable(order) = found else {
        panic!("{found:?}");
    };
    assert!(witness_ok(&m, &items, &order));
}

/// The minimal counterexample of `h`, as (process, op) pairs in
/// invocation order, checked against brute force: not linearizable, and
/// no op in it illegal on its own.
fn minimal_of<M: Model>(h: &History, model: M) -> Vec<(i64, String)> {
    let r = check(h, model.clone(), &opts(true)).unwrap();
    assert_eq!(r.valid, Verdict::Invalid);
    let e = r.partitions[0].evidence.as_ref().unwrap();
    assert!(e.minimal_verified);
    let views = e.minimal.as_ref().unwrap();
    let ids: Vec<usize> = views.iter().map(|v| v.id).collect();
    assert!(!oracle(&sub_history(h, &ids), model.clone()));
    assert!(explains_ops(h, &ids, &model), "{views:?}");
    views
        .iter()
        .map(|v| (h.operations[v.id].process, v.op.clone()))
        .collect()
}

/// Events for ops that run one after another: each `(process, f, input,
/// output)` invoked and completed `ok` before the next is invoked.
fn in_turn(ops: &[(i64, &str, Value, Value)]) -> History {
    let events = ops.iter().flat_map(|(p, f, input, output)| {
        [
            ev(OpType::Invoke, *p, f, input.clone()),
            ev(OpType::Ok, *p, f, output.clone()),
        ]
    });
    History::from_ops(events.collect()).unwrap()
}

/// Two clients held the lock at once: the counterexample is their two
/// acquires, not a release left without its caller's acquire.
#[test]
fn a_lock_held_twice_shrinks_to_the_two_acquires() {
    use crate::model::Mutex;
    let nil = || Value::Nil;
    let h = in_turn(&[
        (0, "acquire", nil(), nil()),
        (1, "acquire", nil(), nil()),
        (0, "release", nil(), nil()),
        (1, "release", nil(), nil()),
        (3, "acquire", nil(), nil()),
        (3, "release", nil(), nil()),
    ]);
    let minimal = minimal_of(&h, Mutex);
    assert_eq!(
        minimal,
        vec![(0, "acquire".to_string()), (1, "acquire".to_string())]
    );
}

/// A value dequeued twice: the counterexample is its enqueue and both
/// dequeues, not a dequeue before an enqueue invoked after it returned.
#[test]
fn a_double_dequeue_shrinks_to_the_enqueue_and_both_dequeues() {
    use crate::model::FifoQueue;
    let one = || Value::Int(1);
    let h = in_turn(&[
        (0, "enqueue", one(), one()),
        (1, "dequeue", Value::Nil, one()),
        (2, "dequeue", Value::Nil, one()),
        (0, "enqueue", one(), one()),
    ]);
    let model = FifoQueue::new(&crate::model::ModelOptions::default());
    let minimal = minimal_of(&h, model);
    let ops: Vec<(i64, &str)> = minimal.iter().map(|(p, o)| (*p, o.as_str())).collect();
    assert_eq!(ops.len(), 3, "{minimal:?}");
    assert_eq!(ops[0].0, 0);
    assert_eq!((ops[1].0, ops[2].0), (1, 2), "{minimal:?}");
}

/// Two cas ops from 1 both succeeded: the counterexample is the write of
/// 1 and both cas ops, not a cas from 1 before the later write of 1.
#[test]
fn a_cas_chain_shrinks_to_the_write_and_both_cas() {
    let h = in_turn(&[
        (0, "write", Value::Int(1), Value::Int(1)),
        (1, "cas", cas(1, 2), cas(1, 2)),
        (2, "cas", cas(1, 3), cas(1, 3)),
        (0, "write", Value::Int(1), Value::Int(1)),
    ]);
    let minimal = minimal_of(&h, TestCas::default());
    let ops: Vec<&str> = minimal.iter().map(|(_, o)| o.as_str()).collect();
    assert_eq!(ops, vec!["Write(1)", "Cas(1, 2)", "Cas(1, 3)"]);
    assert_eq!(minimal[0].0, 0);
}

/// A random lock history: clients acquire and release in turn, their
/// calls overlapping at random, some acquires granted twice.
fn random_lock_history(seed: u64) -> History {
    let mut g = SplitMix64(seed);
    let mut below = |n: u64| g.next_u64() % n;
    let clients = 2 + below(3) as i64;
    // Per client: holds the lock (its next call is a release)? Its call
    // in flight?
    let mut holds = vec![false; clients as usize];
    let mut busy = vec![false; clients as usize];
    let mut events = Vec::new();
    for _ in 0..2 * (4 + below(5)) {
        let p = below(clients as u64) as usize;
        let f = if holds[p] { "release" } else { "acquire" };
        let t = if busy[p] {
            holds[p] = !holds[p];
            OpType::Ok
        } else {
            OpType::Invoke
        };
        busy[p] = !busy[p];
        events.push(ev(t, p as i64, f, Value::Nil));
    }
    History::from_ops(events).unwrap()
}

/// Over random lock histories, every minimal counterexample is not
/// linearizable and has no op illegal on its own: no release without
/// its caller's acquire before it.
#[test]
fn lock_counterexamples_have_no_op_illegal_on_its_own() {
    use crate::model::Mutex;
    let mut invalid = 0;
    for seed in 0..400 {
        let h = random_lock_history(seed);
        let all: Vec<usize> = (0..h.operations.len()).collect();
        if oracle(&h, Mutex) || !explains_ops(&h, &all, &Mutex) {
            continue;
        }
        invalid += 1;
        minimal_of(&h, Mutex);
    }
    assert!(invalid > 40, "only {invalid} invalid histories");
}
