//! Tests of the generator: determinism, pairing, linearizability by
//! construction (checked by brute force on small histories), faults.

use super::object::{Arg, Call, Func, Micro, Obj, Res};
use super::*;
use crate::history::{History, Outcome, Process};

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
    assert!(items.len() <= 16, "brute force is for small histories");
    fn search(items: &[Item], placed: u32, obj: &Obj) -> bool {
        if items
            .iter()
            .enumerate()
            .all(|(i, it)| placed & (1 << i) != 0 || it.optional)
        {
            return true;
        }
        for (i, it) in items.iter().enumerate() {
            if placed & (1 << i) != 0 {
                continue;
            }
            let blocked = items.iter().enumerate().any(|(j, other)| {
                j != i && placed & (1 << j) == 0 && other.response < it.invoke
            });
            if blocked {
                continue;
            }
            let mut next = obj.clone();
            if spec_step(&mut next, &it.call, it.process, &it.expect)
                && search(items, placed | (1 << i), &next)
            {
                return true;
            }
        }
        false
    }
    search(&items, 0, &Obj::new(model, keys))
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
            let next = h.operations.iter().find(|o| o.invoke > end && o.process == c.process + 7);
            assert!(next.is_some() || h.ops.len() - end < 30, "{model}: no replacement");
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
    assert_eq!("0.25".parse::<FaultRate>().unwrap(), FaultRate::Probability(0.25));
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
    assert!(edn.lines().all(|l| l.starts_with("{:type :") && l.contains(":key ")));
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
