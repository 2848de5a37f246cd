//! The convergence checker on generated keyed histories of growing size,
//! so that the cost curve shows (it should be linear).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use labrys::check::convergence::{check, ConvergenceOptions};
use labrys::history::{History, Op, OpType, Value};
use labrys::model::{ModelKind, ModelOptions};
use std::hint::black_box;

/// Per key: ten updates, each followed by a read of the current state,
/// then a final read; 64 processes take keys round-robin.
fn generate(kind: ModelKind, events: usize) -> History {
    let per_key = 10i64;
    let keys = (events / (2 * (2 * per_key as usize + 1))).max(1) as i64;
    let mut ops = Vec::with_capacity(events + 64);
    let mut t = 0i64;
    let mut push = |ops: &mut Vec<Op>, ty, p: i64, f: &str, v: Value, k: i64| {
        let mut o = Op::new(ty, p, f, v);
        o.key = Some(Value::Int(k));
        o.time = Some(t);
        t += 1000;
        ops.push(o);
    };
    for k in 0..keys {
        let p = k % 64;
        let mut state = Vec::new();
        for i in 0..per_key {
            let (f, read) = if kind == ModelKind::Set {
                state.push(Value::Int(i));
                ("add", Value::set(state.clone()))
            } else {
                ("write", Value::Int(i))
            };
            push(&mut ops, OpType::Invoke, p, f, Value::Int(i), k);
            push(&mut ops, OpType::Ok, p, f, Value::Int(i), k);
            push(&mut ops, OpType::Invoke, p, "read", Value::Nil, k);
            push(&mut ops, OpType::Ok, p, "read", read, k);
        }
        let last = if kind == ModelKind::Set {
            Value::set(state)
        } else {
            Value::Int(per_key - 1)
        };
        push(&mut ops, OpType::Invoke, p + 64, "read", Value::Nil, k);
        push(&mut ops, OpType::Ok, p + 64, "read", last, k);
    }
    History::from_ops(ops).expect("a well-formed history")
}

fn bench(c: &mut Criterion) {
    for kind in [ModelKind::Register, ModelKind::Set] {
        let mut group = c.benchmark_group(format!("convergence/{kind}"));
        group.sample_size(10);
        for events in [10_000usize, 100_000, 1_000_000] {
            let h = generate(kind, events);
            group.throughput(Throughput::Elements(h.ops.len() as u64));
            group.bench_with_input(BenchmarkId::from_parameter(events), &h, |b, h| {
                b.iter(|| {
                    let r = check(
                        black_box(h),
                        kind,
                        &ModelOptions::default(),
                        &ConvergenceOptions::default(),
                    );
                    assert_eq!(r.valid, labrys::check::Verdict::Valid);
                    r
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
