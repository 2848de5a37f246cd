//! Measures the convergence checker on a large generated history.
//!
//! `cargo run --release --example convergence_scale -- set 10000000`
//! generates a keyed set (or `register`, `counter`) history of about that
//! many events in memory, checks it, and prints the time taken and the
//! peak resident memory of the process (history included).

use labrys::check::convergence::{check, ConvergenceOptions};
use labrys::history::{History, Op, OpType, Value};
use labrys::model::{ModelKind, ModelOptions};
use std::time::Instant;

/// Peak resident set size in MiB, from the kernel's accounting.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU time (user + system, all threads) of the process so far, in
/// seconds: on a shared machine, wall time also counts waiting.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(0.0)
}

/// A keyed history: per key, `per_key` updates interleaved with reads of
/// the current state, then one final read per key. Processes take keys
/// round-robin; events are in order with increasing times.
fn generate(model: &str, events: usize) -> Vec<Op> {
    let per_key = 10usize;
    // each key: per_key updates + per_key reads + 1 final read, 2 events each
    let keys = (events / (2 * (2 * per_key + 1))).max(1);
    let mut ops = Vec::with_capacity(events + 64);
    let mut t = 0i64;
    let mut push = |ops: &mut Vec<Op>, ty, p: i64, f: &str, v: Value, k: i64| {
        let mut o = Op::new(ty, p, f, v);
        o.key = Some(Value::Int(k));
        o.time = Some(t);
        o.index = ops.len() as u64;
        t += 1000;
        ops.push(o);
    };
    for k in 0..keys as i64 {
        let p = k % 64;
        let mut state: Vec<Value> = Vec::new();
        let mut count = 0i64;
        for i in 0..per_key as i64 {
            let (f, input, read) = match model {
                "set" => {
                    state.push(Value::Int(i));
                    ("add", Value::Int(i), Value::set(state.clone()))
                }
                "counter" => {
                    count += 1;
                    ("add", Value::Int(1), Value::Int(count))
                }
                _ => ("write", Value::Int(i), Value::Int(i)),
            };
            push(&mut ops, OpType::Invoke, p, f, input.clone(), k);
            push(&mut ops, OpType::Ok, p, f, input, k);
            push(&mut ops, OpType::Invoke, p, "read", Value::Nil, k);
            push(&mut ops, OpType::Ok, p, "read", read, k);
        }
        let last = match model {
            "set" => Value::set(state),
            "counter" => Value::Int(count),
            _ => Value::Int(per_key as i64 - 1),
        };
        push(&mut ops, OpType::Invoke, p + 64, "read", Value::Nil, k);
        push(&mut ops, OpType::Ok, p + 64, "read", last, k);
    }
    ops
}

fn main() {
    let mut args = std::env::args().skip(1);
    let model = args.next().unwrap_or_else(|| "set".into());
    let events: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let kind = match model.as_str() {
        "set" => ModelKind::Set,
        "counter" => ModelKind::Counter,
        _ => ModelKind::Register,
    };
    let t0 = Instant::now();
    let history = History::from_ops(generate(&model, events)).expect("a well-formed history");
    let generated = t0.elapsed();
    let rss_history = peak_rss_mib();
    let cpu0 = cpu_seconds();
    let t1 = Instant::now();
    let report = check(
        &history,
        kind,
        &ModelOptions::default(),
        &ConvergenceOptions::default(),
    );
    let checked = t1.elapsed();
    let cpu = cpu_seconds() - cpu0;
    println!(
        "model={model} events={} operations={} keys={} verdict={} final_reads={}",
        history.ops.len(),
        history.operations.len(),
        report.stats.keys,
        report.valid.word(),
        report.stats.final_reads
    );
    println!(
        "generate+pair: {:.2} s, peak RSS after: {:.0} MiB; check: {:.2} s wall, {:.2} s CPU, peak RSS after: {:.0} MiB",
        generated.as_secs_f64(),
        rss_history,
        checked.as_secs_f64(),
        cpu,
        peak_rss_mib()
    );
}
