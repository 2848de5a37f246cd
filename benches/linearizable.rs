//! Benchmarks of the linearizability checker: the etcd corpus (when
//! `LABRYS_CORPUS` is set) and generated cas-register histories of growing
//! size and concurrency.

#[path = "support/gen.rs"]
mod gen;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use labrys::check::linearizable::{check, check_model};
use labrys::check::CheckOptions;
use labrys::history::{History, LoadOptions};
use labrys::model::{CasRegister, ModelKind, ModelOptions};
use std::hint::black_box;

fn etcd(c: &mut Criterion) {
    let Some(root) = std::env::var_os("LABRYS_CORPUS") else {
        eprintln!("etcd benchmark skipped: LABRYS_CORPUS is not set");
        return;
    };
    let dir = std::path::Path::new(&root).join("etcd");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("etcd directory")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let histories: Vec<History> = files
        .iter()
        .map(|f| History::load(f, &LoadOptions::default()).expect("loads"))
        .collect();
    let options = CheckOptions {
        shrink: false,
        ..CheckOptions::default()
    };
    c.bench_function("etcd/all-103-check-only", |b| {
        b.iter(|| {
            for h in &histories {
                black_box(
                    check_model(
                        h,
                        ModelKind::CasRegister,
                        &ModelOptions::default(),
                        &options,
                    )
                    .expect("checks"),
                );
            }
        })
    });
}

fn generated(c: &mut Criterion) {
    let mut group = c.benchmark_group("generated-cas");
    group.sample_size(10);
    // The cost curves: size at 8 clients with 1% info ops; size at 32
    // clients without crashes, up to a million ops; concurrency (2 to 64
    // clients) at 1,000 ops without crashes.
    let cases = [
        (1_000, 8, 10),
        (10_000, 8, 10),
        (100_000, 8, 10),
        (10_000, 32, 0),
        (100_000, 32, 0),
        (1_000_000, 32, 0),
        (1_000, 2, 0),
        (1_000, 8, 0),
        (1_000, 32, 0),
        (1_000, 64, 0),
    ];
    for &(ops, clients, info) in &cases {
        let h = gen::cas_history(7, ops, clients, info);
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{ops}ops-{clients}clients-{info}info-per-mille")),
            &h,
            |b, h| {
                b.iter(|| {
                    black_box(
                        check(
                            h,
                            CasRegister::new(&ModelOptions::default()),
                            &CheckOptions::default(),
                        )
                        .expect("checks"),
                    )
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, etcd, generated);
criterion_main!(benches);
