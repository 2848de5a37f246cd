//! Both search checkers against brute-force oracles, for every model.
//!
//! For each of the nine models, thousands of small random histories
//! (2–4 processes, 1–7 operations, overlapping in real time, with
//! indeterminate ops: `info` completions and ops that never complete) are
//! judged three ways: by the linearizability checker, by the sequential
//! consistency checker, and by two exhaustive searches written here
//! independently of the engines. The oracles compile each operation with
//! the model and try every order of the compiled operations that respects
//! real time (linearizability) or each process's order (sequential
//! consistency); every `ok` op must be placed, indeterminate ops may be
//! left out, and the model must accept every step. The checkers' verdicts
//! must equal the oracles' answers, and each model's generator must
//! produce both valid and invalid histories for each checker.

use labrys::check::{linearizable, sequential, CheckOptions, Verdict};
use labrys::history::{History, Op, OpType, Value};
use labrys::model::{Call, Kv, Model, ModelKind, ModelOptions};
use labrys::with_model;
use std::collections::HashSet;
use std::time::Duration;

/// splitmix64: small, seeded, good enough for test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent`%.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// One generated operation: `f`, the invocation's value, the value an `ok`
/// completion carries, and the key.
struct Gen {
    f: &'static str,
    input: Value,
    output: Value,
    key: Option<Value>,
}

fn int(n: usize) -> Value {
    Value::Int(n as i64)
}

fn kw(s: &str) -> Value {
    Value::Keyword(s.into())
}

/// A value in `0..3`, or sometimes `nil`.
fn int_or_nil(rng: &mut Rng) -> Value {
    if rng.chance(20) {
        Value::Nil
    } else {
        int(rng.below(3))
    }
}

fn gen_op(kind: ModelKind, rng: &mut Rng) -> Gen {
    let plain = |f, input: Value, output: Value| Gen {
        f,
        input,
        output,
        key: None,
    };
    match kind {
        ModelKind::Register | ModelKind::CasRegister => {
            let choices = if kind == ModelKind::CasRegister { 3 } else { 2 };
            match rng.below(choices) {
                0 => plain("read", Value::Nil, int_or_nil(rng)),
                1 => {
                    let v = int(rng.below(3));
                    plain("write", v.clone(), v)
                }
                _ => {
                    let v = Value::Vector(vec![int(rng.below(3)), int(rng.below(3))]);
                    plain("cas", v.clone(), v)
                }
            }
        }
        ModelKind::Kv => {
            let key = Some(kw(["x", "y"][rng.below(2)]));
            let s = |rng: &mut Rng| Value::Str(["a", "b"][rng.below(2)].into());
            let (f, input, output) = match rng.below(4) {
                0 => {
                    let out = match rng.below(5) {
                        0 => Value::Nil,
                        1 => Value::Str("ab".into()),
                        2 => Value::Str("ba".into()),
                        _ => s(rng),
                    };
                    ("read", Value::Nil, out)
                }
                1 => {
                    let v = s(rng);
                    ("write", v.clone(), v)
                }
                2 => {
                    let v = s(rng);
                    ("append", v.clone(), v)
                }
                _ => {
                    let v = Value::Vector(vec![s(rng), s(rng)]);
                    ("cas", v.clone(), v)
                }
            };
            Gen {
                f,
                input,
                output,
                key,
            }
        }
        ModelKind::Set => {
            if rng.chance(50) {
                let v = int(rng.below(3));
                plain("add", v.clone(), v)
            } else {
                let items = (0..3).filter(|_| rng.chance(40)).map(int).collect();
                plain("read", Value::Nil, Value::set(items))
            }
        }
        ModelKind::FifoQueue | ModelKind::UnorderedQueue => {
            if rng.chance(50) {
                let v = int(rng.below(3));
                plain("enqueue", v.clone(), v)
            } else {
                plain("dequeue", Value::Nil, int_or_nil(rng))
            }
        }
        ModelKind::Counter => {
            if rng.chance(50) {
                let v = int(1 + rng.below(2));
                plain("add", v.clone(), v)
            } else {
                plain("read", Value::Nil, int(rng.below(5)))
            }
        }
        ModelKind::Mutex => {
            let f = if rng.chance(50) { "acquire" } else { "release" };
            plain(f, Value::Nil, Value::Nil)
        }
        ModelKind::MultiRegister => {
            let n = 1 + rng.below(2);
            let mut input = Vec::new();
            let mut output = Vec::new();
            for _ in 0..n {
                let k = kw(["x", "y"][rng.below(2)]);
                if rng.chance(50) {
                    let read = if rng.chance(30) {
                        Value::Nil
                    } else {
                        int(rng.below(2))
                    };
                    input.push(Value::Vector(vec![kw("r"), k.clone(), Value::Nil]));
                    output.push(Value::Vector(vec![kw("r"), k, read]));
                } else {
                    let w = Value::Vector(vec![kw("w"), k, int(rng.below(2))]);
                    input.push(w.clone());
                    output.push(w);
                }
            }
            plain("txn", Value::Vector(input), Value::Vector(output))
        }
    }
}

/// A random history: ops invoked on idle processes and completed later,
/// interleaved at random; some complete `info` (or `fail`), and some never
/// complete.
fn gen_history(kind: ModelKind, rng: &mut Rng) -> History {
    let processes = 2 + rng.below(3);
    let mut remaining = 1 + rng.below(7);
    let mut pending: Vec<Option<Gen>> = (0..processes).map(|_| None).collect();
    let mut events = Vec::new();
    let complete = |rng: &mut Rng, p: usize, g: Gen, events: &mut Vec<Op>| {
        let roll = rng.below(100);
        let (t, value) = if roll < 15 {
            (OpType::Info, kw("timeout"))
        } else if roll < 20 {
            (OpType::Fail, g.input.clone())
        } else {
            (OpType::Ok, g.output)
        };
        let mut op = Op::new(t, p as i64, g.f, value);
        op.key = g.key;
        events.push(op);
    };
    loop {
        let idle: Vec<usize> = (0..processes).filter(|&p| pending[p].is_none()).collect();
        let busy: Vec<usize> = (0..processes).filter(|&p| pending[p].is_some()).collect();
        if remaining == 0 && busy.is_empty() {
            break;
        }
        let invoke = remaining > 0 && !idle.is_empty() && (busy.is_empty() || rng.chance(55));
        if invoke {
            let p = idle[rng.below(idle.len())];
            let g = gen_op(kind, rng);
            let mut op = Op::new(OpType::Invoke, p as i64, g.f, g.input.clone());
            op.key = g.key.clone();
            events.push(op);
            pending[p] = Some(g);
            remaining -= 1;
        } else {
            let p = busy[rng.below(busy.len())];
            let g = pending[p].take().unwrap();
            // Near the end, sometimes leave the op pending for good.
            if remaining == 0 && rng.chance(15) {
                continue;
            }
            complete(rng, p, g, &mut events);
        }
    }
    History::from_ops(events).expect("generated history is well formed")
}

/// A compiled operation, as both oracles see it.
struct Item<O> {
    op: O,
    process: i64,
    invoke: usize,
    response: usize,
    /// Must be placed (it completed); otherwise it may be left out.
    required: bool,
}

fn compile<M: Model>(history: &History, model: &mut M) -> Vec<Item<M::Op>> {
    let mut items = Vec::new();
    for o in &history.operations {
        let compiled = model
            .compile(&Call::of(history, o))
            .unwrap_or_else(|e| panic!("cannot compile {}: {e}", history.invocation(o)));
        if let Some(op) = compiled {
            items.push(Item {
                op,
                process: o.process,
                invoke: o.invoke,
                response: o.response(),
                required: o.response() != usize::MAX,
            });
        }
    }
    items
}

/// Whether op `i` may come next, given the ops already done.
type MayPlace<O> = dyn Fn(&[Item<O>], u32, usize) -> bool;

/// Exhaustive search: can the ops marked in `done` be extended to place
/// every required op? `done` holds ops placed or left out.
/// `may_place(items, done, i)` says whether op `i` may come next.
fn search<M: Model>(
    model: &M,
    items: &[Item<M::Op>],
    done: u32,
    state: &M::State,
    may_place: &MayPlace<M::Op>,
    failed: &mut HashSet<(u32, M::State)>,
) -> bool {
    if (0..items.len()).all(|i| done & (1 << i) != 0 || !items[i].required) {
        return true;
    }
    if failed.contains(&(done, state.clone())) {
        return false;
    }
    for i in 0..items.len() {
        if done & (1 << i) != 0 || !may_place(items, done, i) {
            continue;
        }
        if let Some(next) = model.step(state, &items[i].op) {
            if search(model, items, done | (1 << i), &next, may_place, failed) {
                return true;
            }
        }
        if !items[i].required && search(model, items, done | (1 << i), state, may_place, failed) {
            return true;
        }
    }
    failed.insert((done, state.clone()));
    false
}

/// Linearizable: op `i` may come next unless some op not yet placed
/// returned before `i` was invoked.
fn oracle_linearizable<M: Model>(history: &History, mut model: M) -> bool {
    let items = compile(history, &mut model);
    let may_place = |items: &[Item<M::Op>], done: u32, i: usize| {
        (0..items.len())
            .all(|j| j == i || done & (1 << j) != 0 || items[j].response >= items[i].invoke)
    };
    let init = model.init();
    search(&model, &items, 0, &init, &may_place, &mut HashSet::new())
}

/// Sequentially consistent: op `i` may come next once every earlier op of
/// its process is placed or left out.
fn oracle_sequential<M: Model>(history: &History, mut model: M) -> bool {
    let items = compile(history, &mut model);
    let may_place = |items: &[Item<M::Op>], done: u32, i: usize| {
        (0..i).all(|j| items[j].process != items[i].process || done & (1 << j) != 0)
    };
    let init = model.init();
    search(&model, &items, 0, &init, &may_place, &mut HashSet::new())
}

fn as_bool(v: Verdict) -> Option<bool> {
    match v {
        Verdict::Valid => Some(true),
        Verdict::Invalid => Some(false),
        Verdict::Unknown => None,
    }
}

fn show(history: &History) -> String {
    history.ops.iter().map(|op| format!("  {op}\n")).collect()
}

/// Checks `histories` random histories of `kind` with both checkers and
/// both oracles; returns how many were valid (linearizable, sequential).
fn run<M: Model + 'static>(kind: ModelKind, model: M, histories: usize) -> (usize, usize) {
    let options = CheckOptions {
        shrink: false,
        timeout: Some(Duration::from_secs(5)),
        // The oracles call a history with nothing to judge valid.
        allow_empty: true,
        ..CheckOptions::default()
    };
    let mut rng = Rng(0x1ab5_0000 + kind as u64);
    let (mut lin_valid, mut sc_valid) = (0, 0);
    for n in 0..histories {
        let h = gen_history(kind, &mut rng);
        let expected = oracle_linearizable(&h, model.clone());
        // Split by key (when the history has keys), and as one object.
        for partition in [true, false] {
            let options = CheckOptions {
                partition,
                ..options.clone()
            };
            let report = linearizable::check(&h, model.clone(), &options)
                .unwrap_or_else(|e| panic!("{kind} #{n}: {e}\n{}", show(&h)));
            assert_eq!(
                as_bool(report.valid),
                Some(expected),
                "{kind} #{n} (partition {partition}): linearizability checker says {:?}, the oracle {expected}\n{}",
                report.valid,
                show(&h)
            );
        }
        lin_valid += expected as usize;

        let expected = oracle_sequential(&h, model.clone());
        let report = sequential::check(&h, &model, &options)
            .unwrap_or_else(|e| panic!("{kind} #{n}: {e}\n{}", show(&h)));
        assert_eq!(
            as_bool(report.valid),
            Some(expected),
            "{kind} #{n}: sequential consistency checker says {:?}, the oracle {expected}\n{}",
            report.valid,
            show(&h)
        );
        sc_valid += expected as usize;
    }
    (lin_valid, sc_valid)
}

const HISTORIES: usize = 10_000;

fn check_model(kind: ModelKind) {
    let options = ModelOptions::default();
    // The kv histories have keys: the whole map is the model.
    let (lin, sc) = if kind == ModelKind::Kv {
        run(kind, Kv::kv(&options), HISTORIES)
    } else {
        with_model!(kind, &options, |m| run(kind, m, HISTORIES))
    };
    eprintln!("{kind}: {HISTORIES} histories, {lin} linearizable, {sc} sequentially consistent");
    let few = HISTORIES / 50;
    for (what, valid) in [("linearizable", lin), ("sequentially consistent", sc)] {
        assert!(
            valid >= few && HISTORIES - valid >= few,
            "{kind}: {valid} of {HISTORIES} histories {what}: the generator needs both verdicts"
        );
    }
}

#[test]
fn register() {
    check_model(ModelKind::Register);
}

#[test]
fn cas_register() {
    check_model(ModelKind::CasRegister);
}

#[test]
fn kv() {
    check_model(ModelKind::Kv);
}

#[test]
fn set() {
    check_model(ModelKind::Set);
}

#[test]
fn fifo_queue() {
    check_model(ModelKind::FifoQueue);
}

#[test]
fn unordered_queue() {
    check_model(ModelKind::UnorderedQueue);
}

#[test]
fn counter() {
    check_model(ModelKind::Counter);
}

#[test]
fn mutex() {
    check_model(ModelKind::Mutex);
}

#[test]
fn multi_register() {
    check_model(ModelKind::MultiRegister);
}
