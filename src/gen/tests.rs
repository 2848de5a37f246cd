//! Tests of the generator: determinism, pairing, linearizability by
//! construction (checked by brute force on small histories), faults.

use super::object::{Arg, Call, Func, Micro, Obj, Res};
use super::*;
use crate::history::{History, Outcome, Process};
use std::collections::{HashMap, HashSet};

pub(super) fn opts(mode: Mode, model: ModelKind, seed: u64) -> GenOptions {
    GenOptions {
        mode,
        model,
        seed,
        ..GenOptions::default()
    }
}

/// Decodes an operation of a generated history back into a call.
fn decode(model: ModelKind, h: &History, op: &crate::history::Operation) -> Call {
    let inv = h.invocation(op);
    let f = if &*inv.f == "txn" {
        Func::Txn
    } else {
        Func::parse(model, &inv.f)
            .or_else(|| Func::parse(ModelKind::CasRegister, &inv.f))
            .expect("known f")
    };
    let arg = match (f, &inv.value) {
        (Func::Write | Func::Add | Func::Enqueue, Value::Int(v)) => Arg::Int(*v),
        (Func::Cas, Value::Vector(v)) => Arg::Cas(v[0].as_int(), v[1].as_int().expect("new")),
        (Func::Txn, Value::Vector(ms)) => Arg::Txn(
            ms.iter()
                .map(|m| {
                    let m = m.as_vector().expect("micro-op");
                    Micro {
                        write: m[0].as_name() == Some("write"),
                        key: m[1].as_int().expect("key"),
                        value: m[2].as_int(),
                    }
                })
                .collect(),
        ),
        _ => Arg::None,
    };
    Call {
        f,
        key: h.key(op).and_then(Value::as_int),
        arg,
        pick: 0,
    }
}

/// Applies a call to a specification state, checking its result.
fn spec_step(obj: &mut Obj, call: &Call, process: i64, expect: &Option<Res>) -> bool {
    // An unordered queue may hand out any element.
    if obj.model == ModelKind::UnorderedQueue && call.f == Func::Dequeue {
        return match expect {
            Some(Res::Ok(Value::Int(x))) => match obj.queue.iter().position(|y| y == x) {
                Some(i) => {
                    obj.queue.remove(i);
                    true
                }
                None => false,
            },
            Some(Res::Fail) => obj.queue.is_empty(),
            _ => {
                obj.queue.pop_front();
                true
            }
        };
    }
    let r = obj.apply(call, process);
    match expect {
        None => true,
        Some(e) => &r == e,
    }
}

/// Brute-force linearizability: tries every order that respects real time;
/// crashed ops may take effect anywhere after their invocation, or never.
pub(super) fn linearizable(model: ModelKind, keys: usize, h: &History) -> bool {
    brute_force(model, keys, h, true)
}

/// Brute-force sequential consistency: like [`linearizable`], but only each
/// process's own order constrains the order.
pub(super) fn sequential(model: ModelKind, keys: usize, h: &History) -> bool {
    brute_force(model, keys, h, false)
}

fn brute_force(model: ModelKind, keys: usize, h: &History, real_time: bool) -> bool {
    struct Item {
        call: Call,
        process: i64,
        expect: Option<Res>,
        optional: bool,
        invoke: usize,
        response: usize,
    }
    let items: Vec<Item> = h
        .operations
        .iter()
        .filter(|o| !(o.outcome == Outcome::Info && h.invocation(o).f.as_ref() == "read"))
        .map(|o| Item {
            call: decode(model, h, o),
            process: o.process,
            expect: match o.outcome {
                Outcome::Ok => Some(Res::Ok(h.output(o).cloned().expect("ok value"))),
                Outcome::Fail => Some(Res::Fail),
                Outcome::Info => None,
            },
            optional: o.outcome == Outcome::Info,
            invoke: o.invoke,
            response: o.response(),
        })
        .collect();
    assert!(items.len() <= 128, "brute force is for small histories");
    // Depth-first search over orders, remembering (placed ops, state)
    // configurations that led nowhere.
    struct Search<'a> {
        items: &'a [Item],
        real_time: bool,
        dead: HashSet<(u128, Obj)>,
    }
    impl Search<'_> {
        fn run(&mut self, placed: u128, obj: &Obj) -> bool {
            let items = self.items;
            if items
                .iter()
                .enumerate()
                .all(|(i, it)| placed & (1 << i) != 0 || it.optional)
            {
                return true;
            }
            if self.dead.contains(&(placed, obj.clone())) {
                return false;
            }
            for (i, it) in items.iter().enumerate() {
                if placed & (1 << i) != 0 {
                    continue;
                }
                let blocked = items.iter().enumerate().any(|(j, other)| {
                    j != i
                        && placed & (1 << j) == 0
                        && if self.real_time {
                            other.response < it.invoke
                        } else {
                            other.process == it.process && other.invoke < it.invoke
                        }
                });
                if blocked {
                    continue;
                }
                let mut next = obj.clone();
                if spec_step(&mut next, &it.call, it.process, &it.expect)
                    && self.run(placed | (1 << i), &next)
                {
                    return true;
                }
            }
            self.dead.insert((placed, obj.clone()));
            false
        }
    }
    Search {
        items: &items,
        real_time,
        dead: HashSet::new(),
    }
    .run(0, &Obj::new(model, keys))
}

fn small(model: ModelKind, seed: u64) -> GenOptions {
    GenOptions {
        clients: 3,
        ops: 8,
        keys: 2,
        values: 3,
        crash_rate: 0.15,
        latency_spread: 900_000,
        ..opts(Mode::Atomic, model, seed)
    }
}

#[test]
fn same_seed_same_history() {
    for model in ModelKind::ALL {
        let o = GenOptions {
            ops: 300,
            crash_rate: 0.05,
            ..opts(Mode::Atomic, model, 42)
        };
        let a = generate(&o).unwrap();
        let b = generate(&o).unwrap();
        assert_eq!(a.ops, b.ops, "{model}");
        let c = generate(&GenOptions { seed: 43, ..o }).unwrap();
        assert_ne!(a.ops, c.ops, "{model}");
    }
}

#[test]
fn atomic_histories_pair_and_are_time_ordered() {
    for model in ModelKind::ALL {
        let o = GenOptions {
            ops: 500,
            clients: 7,
            crash_rate: 0.05,
            ..opts(Mode::Atomic, model, 7)
        };
        let g = generate(&o).unwrap();
        assert_eq!(g.ops.len(), 1000, "{model}");
        for (i, op) in g.ops.iter().enumerate() {
            assert_eq!(op.index, i as u64);
        }
        assert!(g.ops.windows(2).all(|w| w[0].time <= w[1].time), "{model}");
        let h = History::from_ops(g.ops).unwrap();
        assert_eq!(h.operations.len(), 500);
        assert!(h.operations.iter().all(|o| o.complete.is_some()));
        let crashed: Vec<_> = h
            .operations
            .iter()
            .filter(|o| o.outcome == Outcome::Info)
            .collect();
        assert!(!crashed.is_empty(), "{model}");
        // A crashed process never runs again; its client comes back as p + clients.
        for c in crashed {
            let end = c.complete.unwrap();
            assert!(
                !h.operations
                    .iter()
                    .any(|o| o.process == c.process && o.invoke > end),
                "{model}: process {} ran after crashing",
                c.process
            );
            let next = h
                .operations
                .iter()
                .find(|o| o.invoke > end && o.process == c.process + 7);
            assert!(
                next.is_some() || h.ops.len() - end < 30,
                "{model}: no replacement"
            );
        }
        assert!(g.faults.is_empty());
    }
}

#[test]
fn atomic_histories_are_linearizable_by_brute_force() {
    for model in ModelKind::ALL {
        let mut fails = 0;
        let mut infos = 0;
        for seed in 0..40 {
            let o = small(model, seed);
            let g = generate(&o).unwrap();
            let h = History::from_ops(g.ops).unwrap();
            fails += h
                .operations
                .iter()
                .filter(|o| o.outcome == Outcome::Fail)
                .count();
            infos += h
                .operations
                .iter()
                .filter(|o| o.outcome == Outcome::Info)
                .count();
            assert!(
                linearizable(model, 2, &h),
                "{model} seed {seed} not linearizable"
            );
        }
        assert!(infos > 0, "{model}: no crashed ops exercised");
        if matches!(
            model,
            ModelKind::CasRegister | ModelKind::FifoQueue | ModelKind::Mutex
        ) {
            assert!(fails > 0, "{model}: no failed ops exercised");
        }
    }
}

#[test]
fn brute_force_catches_a_bad_history() {
    let mut w = Op::new(OpType::Invoke, 0, "write", Value::Int(1));
    let mut wok = Op::new(OpType::Ok, 0, "write", Value::Int(1));
    let r = Op::new(OpType::Invoke, 1, "read", Value::Nil);
    let rok = Op::new(OpType::Ok, 1, "read", Value::Nil);
    w.index = 0;
    wok.index = 1;
    let h = History::from_ops(vec![w, wok, r, rok]).unwrap();
    assert!(!linearizable(ModelKind::Register, 1, &h));
}

fn faulted(model: ModelKind, faults: Faults, seed: u64, ops: usize) -> GenOptions {
    GenOptions {
        ops,
        unique_values: true,
        faults,
        cas_hit: 0.8,
        ..opts(Mode::Atomic, model, seed)
    }
}

#[test]
fn stale_reads_are_recorded_and_break_linearizability() {
    for model in [
        ModelKind::Register,
        ModelKind::CasRegister,
        ModelKind::Set,
        ModelKind::Counter,
    ] {
        let mut hits = 0;
        for seed in 0..60 {
            let f = Faults {
                stale_reads: FaultRate::Exactly(1),
                ..Faults::default()
            };
            let o = GenOptions {
                clients: 3,
                ..faulted(model, f, seed, 10)
            };
            let g = generate(&o).unwrap();
            let h = History::from_ops(g.ops.clone()).unwrap();
            assert!(g.faults.len() <= 1);
            if let Some(rec) = g.faults.first() {
                hits += 1;
                assert_eq!(rec.kind, FaultKind::StaleRead);
                let inv = &g.ops[rec.index as usize];
                assert_eq!((&*inv.f, inv.op_type), ("read", OpType::Invoke));
                assert!(
                    !linearizable(model, 1, &h),
                    "{model} seed {seed}: stale read went unnoticed: {}",
                    rec.note
                );
            } else {
                assert!(linearizable(model, 1, &h), "{model} seed {seed}");
            }
        }
        assert!(hits >= 10, "{model}: only {hits} stale reads injected");
    }
}

/// Whether the history alone proves that the ok read `r` cannot be
/// linearized, whatever crashed operations did; returns the invocation of
/// the operation that proves it. Registers: an acknowledged write or cas
/// `w` of another value completed before `r` began, and every operation
/// that might set the value read (not failed) and was invoked before `r`
/// completed had completed ok before `w` was invoked (the initial nil is
/// set at the start). Sets: an add acknowledged before `r` began is
/// missing. Counters: the count is below the adds acknowledged before `r`
/// began.
fn certainly_stale(model: ModelKind, h: &History, r: &crate::history::Operation) -> Option<usize> {
    let read = h.output(r)?;
    let before =
        |o: &crate::history::Operation| o.outcome == Outcome::Ok && o.response() < r.invoke;
    let same_key = |o: &&crate::history::Operation| h.key(o) == h.key(r);
    let adds = || {
        h.operations
            .iter()
            .filter(|o| &*h.invocation(o).f == "add" && before(o))
    };
    match model {
        ModelKind::Set => adds()
            .find(|o| {
                !read
                    .as_collection()
                    .unwrap()
                    .contains(&h.invocation(o).value)
            })
            .map(|o| o.invoke),
        ModelKind::Counter => {
            let sum: i64 = adds()
                .map(|o| h.invocation(o).value.as_int().unwrap())
                .sum();
            (read.as_int().unwrap() < sum).then(|| adds().next_back().unwrap().invoke)
        }
        _ => {
            let sets = |o: &crate::history::Operation| match &h.invocation(o).value {
                Value::Int(v) if &*h.invocation(o).f == "write" => Some(Value::Int(*v)),
                Value::Vector(v) if &*h.invocation(o).f == "cas" => Some(v[1].clone()),
                _ => None,
            };
            let setters: Vec<_> = h
                .operations
                .iter()
                .filter(same_key)
                .filter(|o| o.outcome != Outcome::Fail && o.invoke < r.response())
                .filter(|o| sets(o).as_ref() == Some(read))
                .collect();
            h.operations
                .iter()
                .filter(same_key)
                .filter(|w| before(w) && sets(w).is_some_and(|y| y != *read))
                .find(|w| {
                    setters
                        .iter()
                        .all(|s| s.outcome == Outcome::Ok && s.response() < w.invoke)
                })
                .map(|w| w.invoke)
        }
    }
}

/// Stale reads with few values and crashed operations: a crashed write may
/// take effect at any time after its invocation, and values repeat, so a
/// stale read is only certain if no setter of its value could come after
/// the overwrite. Every injected read is checked against the history
/// alone, and the histories against labrys's linearizability checker
/// (where it is quick: a single register with 24 or more clients and
/// crashed writes pending forever takes it seconds to refute).
#[test]
fn stale_reads_stay_certain_with_few_values_and_crashes() {
    use crate::check::{Consistency::Linearizable, Verdict};
    let models = [
        ModelKind::Register,
        ModelKind::CasRegister,
        ModelKind::Kv,
        ModelKind::Set,
        ModelKind::Counter,
    ];
    let seeds = 24;
    for model in models {
        let (mut hits, mut checked) = (0, 0);
        for seed in 0..seeds {
            let clients = [8, 16, 24, 32][seed as usize % 4];
            let clean = GenOptions {
                ops: 200,
                clients,
                crash_rate: [0.01, 0.02, 0.03, 0.05][seed as usize / 4 % 4],
                ..opts(Mode::Atomic, model, seed)
            };
            assert_eq!(clean.values, 5);
            let stale = GenOptions {
                faults: Faults {
                    stale_reads: FaultRate::Exactly(2),
                    ..Faults::default()
                },
                ..clean.clone()
            };
            let c = generate(&clean).unwrap();
            let g = generate(&stale).unwrap();
            assert!(c.faults.is_empty());
            let what = format!("{model} seed {seed}");
            // Only the faulted reads' completions differ.
            assert_eq!(c.ops.len(), g.ops.len(), "{what}");
            let h = History::from_ops(g.ops.clone()).unwrap();
            let mut changed = HashSet::new();
            for rec in &g.faults {
                assert_eq!(rec.kind, FaultKind::StaleRead, "{what}");
                let op = h
                    .operations
                    .iter()
                    .find(|o| o.invoke as u64 == rec.index)
                    .unwrap();
                assert_eq!((&*h.invocation(op).f, op.outcome), ("read", Outcome::Ok));
                assert_ne!(
                    h.output(op),
                    Some(&c.ops[op.response()].value),
                    "{what}: {}",
                    rec.note
                );
                changed.insert(op.response());
                // The related operation is the acknowledged overwrite (or
                // add) that completed before the read began.
                let related = rec.related.expect("related op");
                let w = h
                    .operations
                    .iter()
                    .find(|o| o.invoke as u64 == related)
                    .unwrap();
                assert_eq!(w.outcome, Outcome::Ok, "{what}: {rec:?}");
                assert!(w.response() < op.invoke, "{what}: {rec:?}");
                assert_eq!(h.key(w), h.key(op), "{what}: {rec:?}");
                assert!(
                    certainly_stale(model, &h, op).is_some(),
                    "{what}: {rec:?} is not certainly stale"
                );
            }
            for (i, (a, b)) in c.ops.iter().zip(&g.ops).enumerate() {
                assert!(a == b || changed.contains(&i), "{what}: {a} vs {b}");
            }
            let hc = History::from_ops(c.ops).unwrap();
            assert!(hc.operations.iter().any(|o| o.outcome == Outcome::Info));
            if !g.faults.is_empty() {
                hits += 1;
            }
            let quick = clients <= 16 || matches!(model, ModelKind::Kv | ModelKind::Set);
            if quick {
                checked += 1;
                assert_eq!(
                    verdict_of(&clean, &hc, Linearizable),
                    Verdict::Valid,
                    "{what}"
                );
                let expect = if g.faults.is_empty() {
                    Verdict::Valid
                } else {
                    Verdict::Invalid
                };
                let v = verdict_of(&stale, &h, Linearizable);
                assert_eq!(v, expect, "{what}: {:?}", g.faults);
            }
        }
        assert!(
            hits >= seeds * 3 / 4,
            "{model}: stale reads injected in only {hits} of {seeds} runs"
        );
        assert!(checked >= seeds / 2, "{model}");
    }
}

#[test]
fn exact_counts_are_met_on_long_runs() {
    let cases = [
        (ModelKind::CasRegister, FaultKind::StaleRead),
        (ModelKind::CasRegister, FaultKind::LostWrite),
        (ModelKind::Counter, FaultKind::DuplicatedEffect),
        (ModelKind::Register, FaultKind::ReorderedEffects),
        (ModelKind::FifoQueue, FaultKind::ReorderedEffects),
        (ModelKind::FifoQueue, FaultKind::DuplicatedEffect),
    ];
    for (model, kind) in cases {
        let rate = FaultRate::Exactly(5);
        let mut f = Faults::default();
        match kind {
            FaultKind::StaleRead => f.stale_reads = rate,
            FaultKind::LostWrite => f.lost_writes = rate,
            FaultKind::DuplicatedEffect => f.duplicated_effects = rate,
            _ => f.reordered_effects = rate,
        }
        let g = generate(&faulted(model, f, 3, 2000)).unwrap();
        assert_eq!(g.faults.len(), 5, "{model} {kind:?}");
        for rec in &g.faults {
            assert_eq!(rec.kind, kind);
            let inv = &g.ops[rec.index as usize];
            assert_eq!(inv.op_type, OpType::Invoke);
            assert_eq!(inv.process, Process::Client(rec.process));
            if let Some(r) = rec.related {
                assert!(r < rec.index, "{rec:?}");
            }
        }
        // The faulted ops are acknowledged.
        let h = History::from_ops(g.ops).unwrap();
        for rec in &g.faults {
            let op = h
                .operations
                .iter()
                .find(|o| o.invoke as u64 == rec.index)
                .unwrap();
            assert_eq!(op.outcome, Outcome::Ok, "{rec:?}");
        }
    }
}

#[test]
fn probability_knobs_inject_roughly_that_often() {
    let f = Faults {
        lost_writes: FaultRate::Probability(0.1),
        ..Faults::default()
    };
    let g = generate(&faulted(ModelKind::Register, f, 9, 4000)).unwrap();
    // About half the ops are writes.
    let n = g.faults.len();
    assert!((120..=280).contains(&n), "{n} lost writes");
}

#[test]
fn lost_and_duplicated_effects_show_in_reads() {
    // A counter with duplicated adds and no crashes: some read exceeds the
    // sum of every add invoked before it completed.
    let f = Faults {
        duplicated_effects: FaultRate::Exactly(3),
        ..Faults::default()
    };
    let g = generate(&faulted(ModelKind::Counter, f, 5, 400)).unwrap();
    assert_eq!(g.faults.len(), 3);
    let h = History::from_ops(g.ops).unwrap();
    let mut attempted = 0;
    let mut over = false;
    for (i, op) in h.ops.iter().enumerate() {
        if op.op_type == OpType::Invoke && &*op.f == "add" {
            attempted += op.value.as_int().unwrap();
        }
        if op.op_type == OpType::Ok && &*op.f == "read" && op.value.as_int().unwrap() > attempted {
            over = true;
        }
        let _ = i;
    }
    assert!(over, "no read saw a duplicated add");
}

#[test]
fn options_parse_from_strings() {
    assert_eq!("sc".parse::<Mode>().unwrap(), Mode::SequentiallyConsistent);
    assert_eq!("replicated".parse::<Mode>().unwrap(), Mode::Replicated);
    assert!("nope".parse::<Mode>().is_err());
    assert_eq!(
        "0.25".parse::<FaultRate>().unwrap(),
        FaultRate::Probability(0.25)
    );
    assert_eq!("3".parse::<FaultRate>().unwrap(), FaultRate::Exactly(3));
    assert_eq!("off".parse::<FaultRate>().unwrap(), FaultRate::Off);
    assert!("2.5".parse::<FaultRate>().is_err());
    let mix: Mix = "read=2, :write=1".parse().unwrap();
    assert_eq!(mix.0, vec![("read".into(), 2), ("write".into(), 1)]);
    let bad = GenOptions {
        mix: "dequeue=1".parse().unwrap(),
        ..GenOptions::default()
    };
    assert!(bad.validate().unwrap_err().0.contains("no op \"dequeue\""));
}

#[test]
fn op_mix_is_respected() {
    let o = GenOptions {
        ops: 1000,
        mix: "read=0,write=1".parse().unwrap(),
        ..opts(Mode::Atomic, ModelKind::CasRegister, 1)
    };
    let g = generate(&o).unwrap();
    assert!(g.ops.iter().all(|op| &*op.f == "write"));
}

#[test]
fn writers_render_generated_histories() {
    let o = GenOptions {
        ops: 50,
        crash_rate: 0.1,
        ..opts(Mode::Atomic, ModelKind::Kv, 2)
    };
    let g = generate(&o).unwrap();
    let mut edn = Vec::new();
    crate::history::write::write_edn(&g.ops, &mut edn).unwrap();
    let edn = String::from_utf8(edn).unwrap();
    assert_eq!(edn.lines().count(), 100);
    assert!(edn
        .lines()
        .all(|l| l.starts_with("{:type :") && l.contains(":key ")));
    let mut json = Vec::new();
    crate::history::write::write_jsonl(g.ops.iter(), &mut json).unwrap();
    let json = String::from_utf8(json).unwrap();
    for (line, op) in json.lines().zip(&g.ops) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["index"], serde_json::json!(op.index));
        assert_eq!(v["time"], serde_json::json!(op.time.unwrap()));
        assert_eq!(v["f"], serde_json::json!(&*op.f));
    }
}

fn sc_small(model: ModelKind, seed: u64) -> GenOptions {
    GenOptions {
        replicas: 3,
        replication_delay: 3_000_000,
        ..small(model, seed)
    }
}

#[test]
fn sc_histories_are_sequentially_consistent_by_brute_force() {
    let mut not_linearizable = 0;
    for model in ModelKind::ALL {
        for seed in 0..30 {
            let o = GenOptions {
                mode: Mode::SequentiallyConsistent,
                ..sc_small(model, seed)
            };
            let g = generate(&o).unwrap();
            assert_eq!(g.ops.len(), 16);
            assert!(g.ops.windows(2).all(|w| w[0].time <= w[1].time));
            let h = History::from_ops(g.ops).unwrap();
            assert!(sequential(model, 2, &h), "{model} seed {seed} not SC");
            if !linearizable(model, 2, &h) {
                not_linearizable += 1;
            }
        }
    }
    assert!(
        not_linearizable >= 10,
        "only {not_linearizable} SC histories were non-linearizable"
    );
}

/// The order the sc construction proves (`Generator::witness`), checked
/// op by op against the model, at a size and concurrency where the
/// sequential search may not decide (sixteen clients, repeated values):
/// the construction's claim does not rest on the checker.
#[test]
fn sc_witness_is_a_valid_order_where_the_search_may_not_decide() {
    use crate::check::sequential::check_witness;
    use crate::model::ModelOptions;
    for model in ModelKind::ALL {
        for seed in 0..3 {
            let o = GenOptions {
                clients: 16,
                ops: 1500,
                crash_rate: 0.02,
                ..opts(Mode::SequentiallyConsistent, model, seed)
            };
            let mut g = Generator::new(&o).unwrap();
            assert!(g.record_witness());
            let ops: Vec<Op> = g.by_ref().collect();
            let order = g.witness().expect("no fault was injected");
            let h = History::from_ops(ops).unwrap();
            let by_invoke: HashMap<usize, usize> = h
                .operations
                .iter()
                .enumerate()
                .map(|(i, op)| (op.invoke, i))
                .collect();
            let ids: Vec<usize> = order.iter().map(|&ix| by_invoke[&(ix as usize)]).collect();
            // Exactly the ops that took effect: every `ok` one, crashed
            // ones only when they did, never a `fail`.
            let listed: HashSet<usize> = ids.iter().copied().collect();
            assert_eq!(listed.len(), ids.len(), "{model} seed {seed}: an op twice");
            for (i, op) in h.operations.iter().enumerate() {
                match op.outcome {
                    Outcome::Ok => assert!(
                        listed.contains(&i),
                        "{model} seed {seed}: ok op {i} missing"
                    ),
                    Outcome::Fail => assert!(
                        !listed.contains(&i),
                        "{model} seed {seed}: failed op {i} listed"
                    ),
                    _ => {}
                }
            }
            let options = ModelOptions::default();
            let valid = |ids: &[usize]| {
                crate::with_model!(keyed model, &options, |m| check_witness(&h, &m, ids)
                    .unwrap()
                    .is_some())
            };
            assert!(valid(&ids), "{model} seed {seed}: the witness is not valid");
            // A control: the reversed order breaks every process's order.
            let reversed: Vec<usize> = ids.iter().rev().copied().collect();
            assert!(
                !valid(&reversed),
                "{model} seed {seed}: reversed order accepted"
            );
        }
    }
    // Only the sc mode proves an order.
    let mut g = Generator::new(&opts(Mode::Atomic, ModelKind::Register, 1)).unwrap();
    assert!(!g.record_witness());
}

#[test]
fn sc_reads_are_monotonic_and_see_own_writes() {
    let o = GenOptions {
        mode: Mode::SequentiallyConsistent,
        ops: 2000,
        clients: 6,
        unique_values: true,
        crash_rate: 0.02,
        replication_delay: 5_000_000,
        ..opts(Mode::SequentiallyConsistent, ModelKind::Set, 11)
    };
    let h = History::from_ops(generate(&o).unwrap().ops).unwrap();
    let mut last_read: HashMap<i64, Vec<Value>> = HashMap::new();
    let mut own: HashMap<i64, Vec<Value>> = HashMap::new();
    let mut stale_vs_real_time = 0;
    let mut acked: Vec<(usize, Value)> = Vec::new();
    for op in &h.operations {
        let Some(c) = h.completion(op) else { continue };
        if op.outcome != Outcome::Ok {
            continue;
        }
        let inv = h.invocation(op);
        if &*inv.f == "add" {
            own.entry(op.process).or_default().push(inv.value.clone());
            acked.push((op.complete.unwrap(), inv.value.clone()));
            continue;
        }
        let items = c.value.as_collection().unwrap().to_vec();
        let prev = last_read.entry(op.process).or_default();
        assert!(
            prev.iter().all(|x| items.contains(x)),
            "reads went backwards"
        );
        for x in own.get(&op.process).into_iter().flatten() {
            assert!(
                items.contains(x),
                "process {} missed its own add",
                op.process
            );
        }
        if acked
            .iter()
            .any(|(at, x)| *at < op.invoke && !items.contains(x))
        {
            stale_vs_real_time += 1;
        }
        *prev = items;
    }
    assert!(stale_vs_real_time > 0, "replicas never lagged");
}

/// Generates small SC histories with one read behind its reader's own
/// write requested, over `models`, and checks by brute force that every
/// injected fault breaks sequential consistency and every history without
/// one keeps it.
fn assert_sc_fault_breaks_sc(models: &[ModelKind], ops: usize, values: Option<u64>) {
    for &model in models {
        let mut hits = 0;
        for seed in 0..80 {
            let base = sc_small(model, seed);
            let o = GenOptions {
                mode: Mode::SequentiallyConsistent,
                clients: 2,
                ops,
                keys: 1,
                values: values.unwrap_or(base.values),
                crash_rate: 0.0,
                unique_values: values.is_none(),
                faults: Faults {
                    read_behind_own_write: FaultRate::Exactly(1),
                    ..Faults::default()
                },
                ..base
            };
            let g = generate(&o).unwrap();
            let h = History::from_ops(g.ops.clone()).unwrap();
            if let Some(rec) = g.faults.first() {
                hits += 1;
                assert_eq!(rec.kind, FaultKind::ReadBehindOwnWrite);
                assert_eq!(&*g.ops[rec.index as usize].f, "read");
                assert!(!sequential(model, 1, &h), "{model} seed {seed}: {rec:?}");
            } else {
                assert!(sequential(model, 1, &h), "{model} seed {seed}");
            }
        }
        assert!(hits >= 5, "{model}: only {hits} faults injected");
    }
}

#[test]
fn sc_fault_breaks_sequential_consistency() {
    assert_sc_fault_breaks_sc(
        &[ModelKind::Register, ModelKind::Set, ModelKind::Kv],
        12,
        None,
    );
}

/// With repeated values (two of them), a read behind its reader's own
/// write might be sequentially consistent (another client's write of the
/// same value may come between), so the fault reads back a marker, a
/// value written once: it is never sequentially consistent either, by
/// brute force.
#[test]
fn sc_fault_with_repeated_values_breaks_sequential_consistency() {
    assert_sc_fault_breaks_sc(
        &[ModelKind::Register, ModelKind::CasRegister, ModelKind::Kv],
        14,
        Some(2),
    );
}

fn replicated(model: ModelKind, seed: u64) -> GenOptions {
    GenOptions {
        mode: Mode::Replicated,
        ops: 400,
        clients: 6,
        replicas: 3,
        partitions: 2,
        partition_length: 15_000_000,
        clock_skew: 2_000_000,
        unique_values: true,
        ..opts(Mode::Replicated, model, seed)
    }
}

#[test]
fn replicated_runs_heal_and_converge() {
    for model in [
        ModelKind::Register,
        ModelKind::Kv,
        ModelKind::Set,
        ModelKind::Counter,
    ] {
        let o = replicated(model, 4);
        let g = generate(&o).unwrap();
        assert_eq!(
            g.ops,
            generate(&o).unwrap().ops,
            "{model}: not deterministic"
        );
        assert!(g.ops.windows(2).all(|w| w[0].time <= w[1].time));
        let named = |f: &str| {
            g.ops
                .iter()
                .filter(|op| op.process.client().is_none() && &*op.f == f)
                .count()
        };
        assert_eq!(named("start-partition"), 4, "{model}");
        assert_eq!(named("stop-partition"), 4, "{model}");
        let last_heal = g
            .ops
            .iter()
            .rposition(|op| &*op.f == "stop-partition")
            .unwrap();
        let keys = if model == ModelKind::Kv { 3 } else { 1 };
        let finals = &g.ops[g.ops.len() - 2 * 3 * keys..];
        assert!(finals
            .iter()
            .all(|op| &*op.f == "read" && op.node.is_some()));
        assert!(g.ops.len() - 2 * 3 * keys > last_heal);
        let completions: Vec<_> = finals
            .iter()
            .filter(|op| op.op_type == OpType::Ok)
            .collect();
        assert_eq!(completions.len(), 3 * keys);
        for k in 0..keys {
            let vals: Vec<_> = completions
                .iter()
                .filter(|op| keys == 1 || op.key == Some(Value::Int(k as i64)))
                .map(|op| &op.value)
                .collect();
            assert!(
                vals.windows(2).all(|w| w[0] == w[1]),
                "{model}: diverged {vals:?}"
            );
        }
        let h = History::from_ops(g.ops.clone()).unwrap();
        assert_eq!(h.nemesis.len(), 8);
        assert!(h.operations.iter().all(|o| h.invocation(o).node.is_some()));
        if model == ModelKind::Set {
            // Every acknowledged add made it.
            let all = completions[0].value.as_collection().unwrap();
            for o in &h.operations {
                let inv = h.invocation(o);
                if &*inv.f == "add" && o.outcome == Outcome::Ok {
                    assert!(all.contains(&inv.value));
                }
            }
        }
        if model == ModelKind::Counter {
            let sum: i64 = h
                .operations
                .iter()
                .filter(|o| o.outcome == Outcome::Ok && &*h.invocation(o).f == "add")
                .map(|o| h.invocation(o).value.as_int().unwrap())
                .sum();
            assert_eq!(completions[0].value, Value::Int(sum));
        }
    }
}

#[test]
fn replicated_dropped_writes_go_missing() {
    let o = GenOptions {
        faults: Faults {
            dropped_writes: FaultRate::Exactly(2),
            ..Faults::default()
        },
        ..replicated(ModelKind::Set, 8)
    };
    let g = generate(&o).unwrap();
    assert_eq!(g.faults.len(), 2);
    let last = g.ops.last().unwrap();
    let all = last.value.as_collection().unwrap();
    for rec in &g.faults {
        assert_eq!(rec.kind, FaultKind::DroppedWrite);
        let inv = &g.ops[rec.index as usize];
        assert_eq!(&*inv.f, "add");
        assert!(!all.contains(&inv.value), "{rec:?}");
    }
    assert!(generate(&GenOptions {
        model: ModelKind::FifoQueue,
        ..o
    })
    .is_err());
}

/// The example histories kept in `histories/generated/`, with the options
/// that made them (the README there lists the same recipes).
fn examples() -> Vec<(&'static str, OutputFormat, GenOptions)> {
    vec![
        (
            "cas-register-linearizable.jsonl",
            OutputFormat::Jsonl,
            GenOptions {
                clients: 4,
                ops: 60,
                crash_rate: 0.1,
                ..opts(Mode::Atomic, ModelKind::CasRegister, 1)
            },
        ),
        (
            "register-stale-read.edn",
            OutputFormat::Edn,
            GenOptions {
                clients: 3,
                ops: 40,
                unique_values: true,
                faults: Faults {
                    stale_reads: FaultRate::Exactly(1),
                    ..Faults::default()
                },
                ..opts(Mode::Atomic, ModelKind::Register, 2)
            },
        ),
        (
            "register-sc-not-linearizable.jsonl",
            OutputFormat::Jsonl,
            GenOptions {
                clients: 3,
                ops: 40,
                unique_values: true,
                replicas: 3,
                replication_delay: 3_000_000,
                ..opts(Mode::SequentiallyConsistent, ModelKind::Register, 3)
            },
        ),
        (
            "set-replicated-lost-element.edn",
            OutputFormat::Edn,
            GenOptions {
                clients: 4,
                ops: 80,
                unique_values: true,
                replicas: 3,
                partitions: 1,
                partition_length: 10_000_000,
                faults: Faults {
                    dropped_writes: FaultRate::Exactly(1),
                    ..Faults::default()
                },
                ..opts(Mode::Replicated, ModelKind::Set, 4)
            },
        ),
    ]
}

#[test]
fn generated_examples_are_reproducible() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("histories/generated");
    let bless = std::env::var_os("LABRYS_BLESS").is_some();
    for (file, format, o) in examples() {
        let mut out = Vec::new();
        let faults = write_generated(&o, format, &mut out).unwrap();
        let path = dir.join(file);
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &out).unwrap();
        } else {
            let kept = std::fs::read(&path).unwrap();
            assert!(
                kept == out,
                "{file} differs from its recipe (regenerate with LABRYS_BLESS=1)"
            );
        }
        let g = generate(&o).unwrap();
        assert_eq!(g.faults, faults);
        let h = History::from_ops(g.ops).unwrap();
        match file {
            "cas-register-linearizable.jsonl" => {
                assert!(faults.is_empty());
                assert!(linearizable(o.model, 1, &h), "{file}");
            }
            "register-stale-read.edn" => {
                assert_eq!(faults.len(), 1, "{file}");
                assert_eq!(faults[0].kind, FaultKind::StaleRead);
                assert!(!linearizable(o.model, 1, &h), "{file}");
            }
            "register-sc-not-linearizable.jsonl" => {
                assert!(sequential(o.model, 1, &h), "{file}");
                assert!(!linearizable(o.model, 1, &h), "{file}");
            }
            _ => {
                assert_eq!(faults.len(), 1, "{file}");
                let lost = &h.ops[faults[0].index as usize].value;
                let last = h.ops.last().unwrap();
                assert!(
                    !last.value.as_collection().unwrap().contains(lost),
                    "{file}"
                );
            }
        }
    }
}

/// JSON has no keywords or sets: they come back as strings and arrays.
fn json_normal(v: &Value) -> Value {
    match v {
        Value::Keyword(s) | Value::Symbol(s) => Value::Str(s.clone()),
        Value::Vector(xs) | Value::Set(xs) => Value::Vector(xs.iter().map(json_normal).collect()),
        other => other.clone(),
    }
}

#[test]
fn writers_round_trip_through_the_readers() {
    use crate::history::{Format, LoadOptions};
    let mut cases: Vec<GenOptions> = ModelKind::ALL
        .into_iter()
        .map(|m| opts(Mode::Atomic, m, 21))
        .collect();
    cases.push(opts(Mode::SequentiallyConsistent, ModelKind::Kv, 22));
    cases.push(opts(Mode::Replicated, ModelKind::Set, 23));
    cases.push(opts(Mode::Replicated, ModelKind::Kv, 24));
    for o in cases {
        let o = GenOptions {
            ops: 200,
            crash_rate: 0.1,
            ..o
        };
        let ops = generate(&o).unwrap().ops;
        for format in [OutputFormat::Edn, OutputFormat::Jsonl] {
            let mut out = Vec::new();
            write_generated(&o, format, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            let expected = if format == OutputFormat::Edn {
                Format::Edn
            } else {
                Format::Json
            };
            assert_eq!(Format::detect(&text), expected);
            let h = History::parse(&text, &LoadOptions::default())
                .unwrap_or_else(|e| panic!("{} {} {format:?}: {e}", o.mode, o.model));
            assert_eq!(h.ops.len(), ops.len());
            for (a, b) in ops.iter().zip(&h.ops) {
                let what = format!("{} {} {format:?}: {a} vs {b}", o.mode, o.model);
                assert_eq!(
                    (a.index, a.op_type, &a.f, a.time),
                    (b.index, b.op_type, &b.f, b.time),
                    "{what}"
                );
                if format == OutputFormat::Edn {
                    assert_eq!(
                        (&a.process, &a.value, &a.key, &a.node, &a.error),
                        (&b.process, &b.value, &b.key, &b.node, &b.error),
                        "{what}"
                    );
                } else {
                    assert_eq!(a.process.client(), b.process.client(), "{what}");
                    let norm = |v: &Option<Value>| v.as_ref().map(json_normal);
                    assert_eq!(json_normal(&a.value), json_normal(&b.value), "{what}");
                    assert_eq!(
                        (norm(&a.key), norm(&a.node), norm(&a.error)),
                        (norm(&b.key), norm(&b.node), norm(&b.error)),
                        "{what}"
                    );
                }
            }
        }
    }
}

/// Runs one of labrys's checkers on a generated history.
fn verdict(o: &GenOptions, check: crate::check::Consistency) -> crate::check::Verdict {
    let h = History::from_ops(generate(o).unwrap().ops).unwrap();
    verdict_of(o, &h, check)
}

/// Runs one of labrys's checkers on the history `h` generated with `o`.
fn verdict_of(
    o: &GenOptions,
    h: &History,
    check: crate::check::Consistency,
) -> crate::check::Verdict {
    use crate::check::run::{run, Plan};
    use crate::check::{convergence::ConvergenceOptions, CheckOptions, Consistency};
    let plan = Plan {
        model: o.model,
        model_options: crate::model::ModelOptions::default(),
        checks: vec![check],
        options: CheckOptions {
            timeout: Some(std::time::Duration::from_secs(15)),
            shrink: false,
            ..CheckOptions::default()
        },
        convergence: ConvergenceOptions {
            final_reads: crate::check::convergence::FinalReadRule::Marked,
            ..ConvergenceOptions::default()
        },
    };
    let r = run(h, &plan).unwrap();
    match check {
        Consistency::Linearizable => r.linearizable.unwrap().report.valid,
        Consistency::Sequential => r.sequential.unwrap().report.valid,
        Consistency::Convergence => {
            let c = r.convergence.unwrap().report;
            if c.valid != crate::check::Verdict::Valid {
                eprintln!("{} {}: {:?}", o.mode, o.model, c.reasons);
            }
            c.valid
        }
    }
}

#[test]
fn checkers_agree_with_the_construction() {
    use crate::check::{Consistency::*, Verdict};
    for model in ModelKind::ALL {
        let o = GenOptions {
            clients: 4,
            ops: 150,
            crash_rate: 0.05,
            ..opts(Mode::Atomic, model, 5)
        };
        assert_eq!(verdict(&o, Linearizable), Verdict::Valid, "atomic {model}");
        // The sequential search may run out of time on some models (it
        // then says unknown); it must never call these histories invalid.
        let sc = GenOptions {
            mode: Mode::SequentiallyConsistent,
            ops: 100,
            unique_values: true,
            ..o
        };
        let v = verdict(&sc, Sequential);
        assert_ne!(v, Verdict::Invalid, "sc {model}");
        if matches!(
            model,
            ModelKind::Register | ModelKind::CasRegister | ModelKind::Set
        ) {
            assert_eq!(v, Verdict::Valid, "sc {model}");
        }
    }
    for model in [
        ModelKind::Register,
        ModelKind::Kv,
        ModelKind::Set,
        ModelKind::Counter,
    ] {
        let o = replicated(model, 6);
        assert_eq!(
            verdict(&o, Convergence),
            Verdict::Valid,
            "replicated {model}"
        );
    }
}

#[test]
fn checkers_catch_the_injected_faults() {
    use crate::check::{Consistency::*, Verdict};
    for model in [
        ModelKind::Register,
        ModelKind::CasRegister,
        ModelKind::Set,
        ModelKind::Counter,
    ] {
        let o = GenOptions {
            clients: 4,
            ops: 150,
            ..faulted(
                model,
                Faults {
                    stale_reads: FaultRate::Exactly(2),
                    ..Faults::default()
                },
                7,
                150,
            )
        };
        assert_eq!(generate(&o).unwrap().faults.len(), 2, "{model}");
        assert_eq!(verdict(&o, Linearizable), Verdict::Invalid, "stale {model}");
    }
    for model in [ModelKind::Register, ModelKind::Set] {
        let o = GenOptions {
            mode: Mode::SequentiallyConsistent,
            clients: 3,
            ops: 150,
            unique_values: true,
            faults: Faults {
                read_behind_own_write: FaultRate::Exactly(2),
                ..Faults::default()
            },
            ..opts(Mode::SequentiallyConsistent, model, 8)
        };
        assert_eq!(generate(&o).unwrap().faults.len(), 2, "{model}");
        assert_eq!(
            verdict(&o, Sequential),
            Verdict::Invalid,
            "sc fault {model}"
        );
    }
    let o = GenOptions {
        faults: Faults {
            dropped_writes: FaultRate::Exactly(1),
            ..Faults::default()
        },
        ..replicated(ModelKind::Set, 9)
    };
    assert_eq!(generate(&o).unwrap().faults.len(), 1);
    assert_eq!(verdict(&o, Convergence), Verdict::Invalid, "dropped add");
}
