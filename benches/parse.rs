//! Throughput of `History::parse` on generated register histories in each
//! input format.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use labrys::history::{Format, History, LoadOptions};
use std::fmt::Write;
use std::hint::black_box;

/// One generated event: process, type, f, value (as EDN).
type Event = (u32, &'static str, &'static str, String);

/// A deterministic register workload of about `n` events: invoke/complete
/// pairs of read, write and cas over five processes, some ending in `info`
/// (after which the process comes back under a new number).
fn workload(n: usize) -> Vec<Event> {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut procs: Vec<u32> = (0..5).collect();
    let mut pending: Vec<Option<(&'static str, String)>> = vec![None; 5];
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let slot = (next() % 5) as usize;
        let p = procs[slot];
        match pending[slot].take() {
            None => {
                let (f, v) = match next() % 3 {
                    0 => ("read", "nil".to_string()),
                    1 => ("write", (next() % 5).to_string()),
                    _ => ("cas", format!("[{} {}]", next() % 5, next() % 5)),
                };
                out.push((p, "invoke", f, v.clone()));
                pending[slot] = Some((f, v));
            }
            Some((f, v)) => match next() % 20 {
                0 => {
                    out.push((p, "info", f, ":timed-out".to_string()));
                    procs[slot] += 5;
                }
                1 => out.push((p, "fail", f, v)),
                _ if f == "read" => out.push((p, "ok", f, (next() % 5).to_string())),
                _ => out.push((p, "ok", f, v)),
            },
        }
    }
    out
}

fn edn(events: &[Event]) -> String {
    let mut s = String::new();
    for (i, (p, t, f, v)) in events.iter().enumerate() {
        let _ = writeln!(
            s,
            "{{:type :{t}, :f :{f}, :value {v}, :time {}, :process {p}, :index {i}}}",
            i * 1000
        );
    }
    s
}

/// The same maps as one EDN vector on a single line.
fn edn_vector(events: &[Event]) -> String {
    let lines = edn(events);
    let mut s = String::with_capacity(lines.len() + 2);
    s.push('[');
    for (i, op) in lines.lines().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(op);
    }
    s.push(']');
    s
}

fn text(events: &[Event]) -> String {
    let mut s = String::new();
    for (p, t, f, v) in events {
        let _ = writeln!(s, "INFO  jepsen.util - {p}\t:{t}\t:{f}\t{v}");
    }
    s
}

/// JSON Lines: one object per line.
fn jsonl(events: &[Event]) -> String {
    let mut s = String::new();
    for (i, (p, t, f, v)) in events.iter().enumerate() {
        let v = if v == "nil" {
            "null".to_string()
        } else if let Some(k) = v.strip_prefix(':') {
            format!("\"{k}\"")
        } else {
            v.replace(' ', ",")
        };
        let _ = writeln!(
            s,
            "{{\"type\":\"{t}\",\"f\":\"{f}\",\"value\":{v},\"time\":{},\"process\":{p},\"index\":{i}}}",
            i * 1000
        );
    }
    s
}

/// The same objects as one JSON array on a single line, as many JSON
/// serializers write it.
fn json_array(events: &[Event]) -> String {
    let lines = jsonl(events);
    let mut s = String::with_capacity(lines.len() + 2);
    s.push('[');
    for (i, op) in lines.lines().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(op);
    }
    s.push(']');
    s
}

fn bench(c: &mut Criterion) {
    for n in [10_000, 100_000] {
        let events = workload(n);
        let mut group = c.benchmark_group(format!("parse/{n}"));
        group.sample_size(10);
        for (name, format, input) in [
            ("edn", Format::Edn, edn(&events)),
            ("edn-vector", Format::Edn, edn_vector(&events)),
            ("text", Format::Text, text(&events)),
            ("jsonl", Format::Json, jsonl(&events)),
            ("json-array", Format::Json, json_array(&events)),
        ] {
            let options = LoadOptions::default();
            // The generated history must be valid, in the format intended.
            assert_eq!(Format::detect(&input), format);
            let h = History::parse(&input, &options).expect("generated history parses");
            assert_eq!(h.ops.len(), n);
            group.throughput(Throughput::Bytes(input.len() as u64));
            group.bench_function(name, |b| {
                b.iter(|| History::parse(black_box(&input), &options).map(|h| h.ops.len()))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
