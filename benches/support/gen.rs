//! A seeded generator of compare-and-set register histories, for
//! benchmarks: `clients` clients run against a simulated atomic register;
//! every op takes effect at one random instant inside its interval, so the
//! history is linearizable. A fraction of ops crash (`info`): each took
//! effect or not at random, and its process is replaced by a new one, as
//! in Jepsen.

use labrys::history::{History, Op, OpType, Value};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Generates a linearizable cas-register history of `ops` operations.
/// `info_per_mille` of them crash.
pub fn cas_history(seed: u64, ops: usize, clients: usize, info_per_mille: u64) -> History {
    let mut rng = Rng(seed);
    // (start, effect, end, client slot, kind, crashed, took effect)
    struct Planned {
        start: u64,
        effect: u64,
        end: u64,
        slot: usize,
        kind: u8,
        crashed: bool,
        applied: bool,
    }
    let mut clock = vec![0u64; clients];
    let mut plan = Vec::with_capacity(ops);
    for i in 0..ops {
        let slot = i % clients;
        let start = clock[slot] + 1 + rng.below(20);
        let len = 1 + rng.below(100);
        let end = start + len;
        clock[slot] = end;
        let crashed = rng.below(1000) < info_per_mille;
        plan.push(Planned {
            start,
            effect: start + rng.below(len),
            end,
            slot,
            kind: match rng.below(4) {
                0 | 1 => 0, // read
                2 => 1,     // write
                _ => 2,     // cas
            },
            crashed,
            applied: !crashed || rng.below(2) == 0,
        });
    }
    // Apply effects in atomic order.
    let mut by_effect: Vec<usize> = (0..ops).collect();
    by_effect.sort_by_key(|&i| (plan[i].effect, i));
    let mut reg: i64 = -1; // -1 stands for nil
    let mut next_value = 0i64;
    let mut recent: Vec<i64> = vec![-1];
    // (input, output, ok)
    let mut results: Vec<(Value, Value, bool)> = vec![(Value::Nil, Value::Nil, true); ops];
    let val = |v: i64| if v < 0 { Value::Nil } else { Value::Int(v) };
    for &i in &by_effect {
        let p = &plan[i];
        results[i] = match p.kind {
            0 => (Value::Nil, val(reg), true),
            1 => {
                next_value += 1;
                if p.applied {
                    reg = next_value;
                    recent.push(reg);
                }
                (Value::Int(next_value), Value::Int(next_value), true)
            }
            _ => {
                next_value += 1;
                let old = if rng.below(2) == 0 {
                    reg
                } else {
                    recent[rng.below(recent.len() as u64) as usize]
                };
                let ok = old == reg;
                if ok && p.applied {
                    reg = next_value;
                    recent.push(reg);
                }
                if old < 0 {
                    // cas from nil is not expressible; make it a cas from 0.
                    let v = Value::Vector(vec![Value::Int(0), Value::Int(next_value)]);
                    (v, Value::Nil, false)
                } else {
                    let v = Value::Vector(vec![Value::Int(old), Value::Int(next_value)]);
                    (v, Value::Nil, ok)
                }
            }
        };
        if recent.len() > 8 {
            recent.remove(0);
        }
    }
    // Events in real time; crashed clients come back as new processes.
    let mut proc_of_slot: Vec<i64> = (0..clients as i64).collect();
    let mut events: Vec<(u64, u8, usize)> = Vec::with_capacity(2 * ops);
    for (i, p) in plan.iter().enumerate() {
        events.push((p.start, 1, i));
        events.push((p.end, 0, i));
    }
    events.sort();
    let mut process = vec![0i64; ops];
    let mut out = Vec::with_capacity(2 * ops);
    for (_, is_invoke, i) in events {
        let p = &plan[i];
        let f = ["read", "write", "cas"][p.kind as usize];
        let (input, output, ok) = &results[i];
        if is_invoke == 1 {
            process[i] = proc_of_slot[p.slot];
            out.push(Op::new(OpType::Invoke, process[i], f, input.clone()));
        } else if p.crashed {
            out.push(Op::new(
                OpType::Info,
                process[i],
                f,
                Value::Keyword("timeout".into()),
            ));
            proc_of_slot[p.slot] += clients as i64;
        } else if *ok {
            let v = if p.kind == 0 {
                output.clone()
            } else {
                input.clone()
            };
            out.push(Op::new(OpType::Ok, process[i], f, v));
        } else {
            out.push(Op::new(OpType::Fail, process[i], f, input.clone()));
        }
    }
    History::from_ops(out).expect("generated history pairs")
}
