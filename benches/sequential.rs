//! Sequential-consistency search on generated histories that are
//! sequentially consistent but not linearizable: a replicated store
//! applies one global order of writes; each client reads from its own
//! replica, which lags behind, and always sees its own writes.
//!
//! `cargo bench --bench sequential`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use labrys::check::sequential::check;
use labrys::check::{CheckOptions, Verdict};
use labrys::history::{History, Op, OpType, Value};
use labrys::model::{ModelOptions, Register};
use std::hint::black_box;
use std::time::Duration;

/// xorshift64*: a small seeded generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `procs` clients doing `ops` ops each over `keys` keys (no key field
/// when `keys` is 1), about a third of them writes of unique values.
fn replicated(seed: u64, procs: usize, ops: usize, keys: u64) -> History {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut log: Vec<(u64, i64)> = Vec::new();
    let mut replica = vec![0usize; procs];
    let mut left = vec![ops; procs];
    let mut pending: Vec<Option<Op>> = vec![None; procs];
    let mut events = Vec::with_capacity(procs * ops * 2);
    let mut live: Vec<usize> = (0..procs).collect();
    let key_of = |k: u64| (keys > 1).then_some(Value::Int(k as i64));
    while !live.is_empty() {
        let j = rng.below(live.len() as u64) as usize;
        let p = live[j];
        if let Some(done) = pending[p].take() {
            events.push(done);
            if left[p] == 0 {
                live.swap_remove(j);
            }
            continue;
        }
        // The replica catches up part of the way, now and then.
        if rng.below(4) == 0 && replica[p] < log.len() {
            replica[p] += rng.below((log.len() - replica[p]) as u64 + 1) as usize;
        }
        let k = rng.below(keys);
        let (f, input, output) = if rng.below(3) == 0 {
            let v = log.len() as i64 + 1;
            log.push((k, v));
            replica[p] = log.len();
            ("write", Value::Int(v), Value::Int(v))
        } else {
            let seen = log[..replica[p]]
                .iter()
                .rev()
                .find(|(key, _)| *key == k)
                .map_or(Value::Nil, |&(_, v)| Value::Int(v));
            ("read", Value::Nil, seen)
        };
        let mut inv = Op::new(OpType::Invoke, p as i64, f, input);
        let mut ok = Op::new(OpType::Ok, p as i64, f, output);
        inv.key = key_of(k);
        ok.key = key_of(k);
        events.push(inv);
        pending[p] = Some(ok);
        left[p] -= 1;
    }
    History::from_ops(events).expect("well-formed")
}

fn decide(h: &History) {
    let model = Register::new(&ModelOptions::default());
    let r = check(h, &model, &CheckOptions::default()).expect("compiles");
    assert_eq!(r.valid, Verdict::Valid, "{}", r.summary);
    black_box(r);
}

fn targets(c: &mut Criterion) {
    let mut g = c.benchmark_group("sequential/targets");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    for (procs, ops, keys) in [
        (8, 1_250, 1),
        (8, 1_250, 8),
        (16, 10_000, 1),
        (16, 10_000, 8),
    ] {
        let h = replicated(7, procs, ops, keys);
        let name = if keys == 1 { "register" } else { "kv" };
        g.bench_with_input(
            BenchmarkId::new(name, format!("{procs}x{ops}")),
            &h,
            |b, h| b.iter(|| decide(h)),
        );
    }
    g.finish();
}

fn curves(c: &mut Criterion) {
    let mut g = c.benchmark_group("sequential/processes");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    for procs in [2, 4, 8, 16, 32] {
        let h = replicated(11, procs, 10_000 / procs, 1);
        g.bench_with_input(BenchmarkId::new("register-10k-ops", procs), &h, |b, h| {
            b.iter(|| decide(h))
        });
    }
    g.finish();
    let mut g = c.benchmark_group("sequential/length");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    for ops in [500, 1_000, 2_000, 4_000, 8_000] {
        let h = replicated(13, 8, ops, 1);
        g.bench_with_input(BenchmarkId::new("register-8-procs", ops), &h, |b, h| {
            b.iter(|| decide(h))
        });
    }
    g.finish();
}

criterion_group!(benches, targets, curves);
criterion_main!(benches);
