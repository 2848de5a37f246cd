//! Times the linearizability checker on a generated cas-register history.
//!
//! `cargo run --release --example lin_generated -- OPS CLIENTS INFO_PER_MILLE`

#[path = "../benches/support/gen.rs"]
mod gen;

use labrys::check::linearizable::check;
use labrys::check::CheckOptions;
use labrys::model::{CasRegister, ModelOptions};
use std::time::Instant;

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("number"))
        .collect();
    let (ops, clients, info) = (args[0] as usize, args[1] as usize, args[2]);
    let t = Instant::now();
    let h = gen::cas_history(42, ops, clients, info);
    let gen_time = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let r = check(
        &h,
        CasRegister::new(&ModelOptions::default()),
        &CheckOptions::default(),
    )
    .expect("compiles");
    println!(
        "{ops} ops, {clients} clients, {info}/1000 info: {} in {:.3}s (generation {:.3}s), depth {}",
        r.valid.word(),
        t.elapsed().as_secs_f64(),
        gen_time,
        r.partitions[0].depth
    );
}
