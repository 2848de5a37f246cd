//! Sequential-consistency checks on histories from the library's own
//! generator in its sequentially consistent mode (`labrys gen --mode sc`):
//! a leader orders every update, replicas apply that order with lag, each
//! client reads from its replica and sees its own writes. Such histories
//! are sequentially consistent but not linearizable; with the
//! `read_behind_own_write` knob (one faulty read) they are not
//! sequentially consistent either. Written values are unique.
//!
//! Groups: `sequential/targets` (register and kv, valid and broken, at 8
//! processes x 1,250 ops and 16 x 10,000), `sequential/processes` (2 to 64
//! processes, 10,000 ops in all), `sequential/length` (8 processes,
//! 1,250 to 20,000 ops in all) and `sequential/repeated` (five values per
//! key instead of unique ones, valid and broken, 8 processes x 1,250 ops;
//! and valid register and kv, 16 x 10,000).
//!
//! `cargo bench --bench sequential`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use labrys::check::sequential::check;
use labrys::check::{CheckOptions, Verdict};
use labrys::gen::{generate, FaultRate, Faults, GenOptions, Mode};
use labrys::history::History;
use labrys::model::{Kv, ModelKind, ModelOptions, Register};
use std::hint::black_box;
use std::time::Duration;

/// A `labrys gen --mode sc --unique-values` history of `ops` ops in all
/// over `clients` clients; `broken` adds one read behind its reader's own
/// write.
fn sc_history(model: ModelKind, seed: u64, clients: usize, ops: usize, broken: bool) -> History {
    sc_history_values(model, seed, clients, ops, broken, true)
}

/// [`sc_history`], with unique values or five values per key.
fn sc_history_values(
    model: ModelKind,
    seed: u64,
    clients: usize,
    ops: usize,
    broken: bool,
    unique_values: bool,
) -> History {
    let g = generate(&GenOptions {
        mode: Mode::SequentiallyConsistent,
        model,
        seed,
        clients,
        ops,
        unique_values,
        faults: Faults {
            read_behind_own_write: if broken {
                FaultRate::Exactly(1)
            } else {
                FaultRate::Off
            },
            ..Faults::default()
        },
        ..GenOptions::default()
    })
    .expect("valid options");
    assert_eq!(g.faults.len(), broken as usize);
    History::from_ops(g.ops).expect("well-formed")
}

fn decide(model: ModelKind, h: &History, expect: Verdict) {
    let options = ModelOptions::default();
    let r = match model {
        ModelKind::Kv => check(h, &Kv::kv(&options), &CheckOptions::default()),
        _ => check(h, &Register::new(&options), &CheckOptions::default()),
    }
    .expect("compiles");
    assert_eq!(r.valid, expect, "{}", r.summary);
    black_box(r);
}

const MODELS: [(ModelKind, &str); 2] = [(ModelKind::Register, "register"), (ModelKind::Kv, "kv")];

fn targets(c: &mut Criterion) {
    let mut g = c.benchmark_group("sequential/targets");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for (clients, per_client) in [(8, 1_250), (16, 10_000)] {
        for (model, name) in MODELS {
            for broken in [false, true] {
                let h = sc_history(model, 1, clients, clients * per_client, broken);
                let expect = if broken {
                    Verdict::Invalid
                } else {
                    Verdict::Valid
                };
                let id = format!("{name}-{}", if broken { "broken" } else { "valid" });
                g.bench_with_input(
                    BenchmarkId::new(id, format!("{clients}x{per_client}")),
                    &h,
                    |b, h| b.iter(|| decide(model, h, expect)),
                );
            }
        }
    }
    g.finish();
}

fn curves(c: &mut Criterion) {
    let mut g = c.benchmark_group("sequential/processes");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    for (model, name) in MODELS {
        for clients in [2, 4, 8, 16, 32, 64] {
            let h = sc_history(model, 2, clients, 10_000, false);
            g.bench_with_input(
                BenchmarkId::new(format!("{name}-10k-ops"), clients),
                &h,
                |b, h| b.iter(|| decide(model, h, Verdict::Valid)),
            );
        }
    }
    g.finish();
    let mut g = c.benchmark_group("sequential/length");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    for (model, name) in MODELS {
        for ops in [1_250, 2_500, 5_000, 10_000, 20_000] {
            let h = sc_history(model, 3, 8, ops, false);
            g.bench_with_input(
                BenchmarkId::new(format!("{name}-8-processes"), ops),
                &h,
                |b, h| b.iter(|| decide(model, h, Verdict::Valid)),
            );
        }
    }
    g.finish();
}

fn repeated(c: &mut Criterion) {
    let mut g = c.benchmark_group("sequential/repeated");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for (model, name) in MODELS {
        for broken in [false, true] {
            let h = sc_history_values(model, 1, 8, 8 * 1_250, broken, false);
            let expect = if broken {
                Verdict::Invalid
            } else {
                Verdict::Valid
            };
            let id = format!("{name}-{}", if broken { "broken" } else { "valid" });
            g.bench_with_input(BenchmarkId::new(id, "8x1250"), &h, |b, h| {
                b.iter(|| decide(model, h, expect))
            });
        }
    }
    for (model, name) in MODELS {
        let h = sc_history_values(model, 1, 16, 16 * 10_000, false, false);
        g.bench_with_input(
            BenchmarkId::new(format!("{name}-valid"), "16x10000"),
            &h,
            |b, h| b.iter(|| decide(model, h, Verdict::Valid)),
        );
    }
    g.finish();
}

criterion_group!(benches, targets, curves, repeated);
criterion_main!(benches);
