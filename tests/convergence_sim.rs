//! Property tests of the convergence checker against straightforward
//! oracles, on histories from a small simulated replicated store.
//!
//! The simulator: `N` replicas, clients pinned to replicas (the op's
//! `node`), updates applied at the client's replica when they complete and
//! shipped to the others after random delays; a nemesis partitions the
//! replicas for a while and heals (messages across the partition wait for
//! the heal). Registers are last-write-wins on (local clock + skew,
//! replica); sets and counters merge every update. Knobs: clock skew, a
//! bug that acknowledges a write and then drops it everywhere, a bug that
//! never ships an update to some replica, and indeterminate (`info`)
//! completions. After the run the store quiesces and every client reads
//! once more.
//!
//! The oracles decide the same properties as the checker the slow,
//! obvious way (quadratic scans, subset enumeration), from the history
//! alone.

use labrys::check::convergence::{check, Anomaly, ConvergenceOptions, FinalReadRule};
use labrys::check::Verdict;
use labrys::history::{History, Op, OpType, Outcome, Process, Value};
use labrys::model::{ModelKind, ModelOptions};
use proptest::prelude::*;
use std::collections::{BTreeSet, HashMap};

/// A tiny deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Store {
    Register,
    Set,
    Counter,
}

#[derive(Clone, Copy, Debug)]
struct Knobs {
    replicas: usize,
    clients: usize,
    ops: usize,
    skew: i64,
    drop_acked: u64,
    no_ship: u64,
    info: u64,
    partition: bool,
}

#[derive(Clone, Debug)]
enum Update {
    // value, LWW timestamp: (tick on the replica's clock, replica, the
    // write's own number), so two writes completing at one tick on one
    // replica never tie, and every replica picks the same winner whatever
    // order they arrive in
    Write(i64, (i64, usize, i64)),
    Add(i64),
    Incr(i64),
}

#[derive(Clone, Debug, Default)]
struct Replica {
    reg: (i64, (i64, usize, i64)),
    set: BTreeSet<i64>,
    count: i64,
    has_reg: bool,
}

impl Replica {
    fn apply(&mut self, u: &Update) {
        match *u {
            Update::Write(v, ts) => {
                if !self.has_reg || ts > self.reg.1 {
                    self.reg = (v, ts);
                    self.has_reg = true;
                }
            }
            Update::Add(e) => {
                self.set.insert(e);
            }
            Update::Incr(d) => self.count += d,
        }
    }
    fn read(&self, store: Store) -> Value {
        match store {
            Store::Register if self.has_reg => Value::Int(self.reg.0),
            Store::Register => Value::Nil,
            Store::Set => Value::set(self.set.iter().map(|&e| Value::Int(e)).collect()),
            Store::Counter => Value::Int(self.count),
        }
    }
}

/// Runs the simulation; returns the history's events.
fn simulate(store: Store, k: Knobs, seed: u64) -> Vec<Op> {
    let mut rng = Rng(seed | 1);
    let n = k.replicas;
    let mut replicas = vec![Replica::default(); n];
    let skews: Vec<i64> = (0..n)
        .map(|_| rng.below(2 * k.skew as u64 + 1) as i64 - k.skew)
        .collect();
    // (deliver at tick, replica, update)
    let mut inflight: Vec<(i64, usize, Update)> = Vec::new();
    // (time, seq, op)
    let mut events: Vec<(i64, u64, Op)> = Vec::new();
    let mut seq = 0u64;
    let mut push = |events: &mut Vec<(i64, u64, Op)>, t: i64, op: Op| {
        seq += 1;
        events.push((t, seq, op));
    };
    let node = |r: usize| Value::Str(format!("n{r}").into());
    let (part_start, part_end) = if k.partition {
        let s = rng.below(k.ops as u64) as i64;
        (s, s + 2 + rng.below(k.ops as u64 / 2 + 1) as i64)
    } else {
        (i64::MAX, i64::MAX)
    };
    // partition: replica 0 alone vs the rest
    let cut = |a: usize, b: usize, t: i64| t >= part_start && t < part_end && (a == 0) != (b == 0);
    if k.partition {
        let mut o = Op::new(OpType::Info, 0, "start", Value::Nil);
        o.process = Process::Named("nemesis".into());
        push(&mut events, part_start, o);
        let mut o = Op::new(OpType::Info, 0, "stop", Value::Nil);
        o.process = Process::Named("nemesis".into());
        push(&mut events, part_end, o);
    }
    let mut busy_until = vec![0i64; k.clients];
    let mut next_value = 1i64;
    let mut t = 0i64;
    let mut issued = 0;
    while issued < k.ops && busy_until.iter().any(|&b| b != i64::MAX) {
        t += 1;
        // deliver
        let mut keep = Vec::new();
        for (at, r, u) in inflight.drain(..) {
            if at <= t {
                replicas[r].apply(&u);
            } else {
                keep.push((at, r, u));
            }
        }
        inflight = keep;
        let c = rng.below(k.clients as u64) as usize;
        if busy_until[c] >= t {
            continue;
        }
        issued += 1;
        let r = c % n;
        let done = t + 1 + rng.below(3) as i64;
        busy_until[c] = done;
        let read = rng.chance(40);
        let (f, input) = match (store, read) {
            (_, true) => ("read", Value::Nil),
            (Store::Register, false) => ("write", Value::Int(next_value)),
            (Store::Set, false) => ("add", Value::Int(next_value)),
            (Store::Counter, false) => ("add", Value::Int(if rng.chance(25) { -1 } else { 1 })),
        };
        next_value += 1;
        let mut inv = Op::new(OpType::Invoke, c as i64, f, input.clone());
        inv.node = Some(node(r));
        push(&mut events, t, inv);
        // The op takes effect at its replica at once (within its
        // interval); a write's LWW timestamp is its completion tick on the
        // replica's skewed clock.
        let info = !read && rng.chance(k.info);
        let (ty, out) = if read {
            (OpType::Ok, replicas[r].read(store))
        } else {
            let u = match store {
                Store::Register => Update::Write(
                    input.as_int().unwrap_or(0),
                    (done + skews[r], r, next_value),
                ),
                Store::Set => Update::Add(input.as_int().unwrap_or(0)),
                Store::Counter => Update::Incr(input.as_int().unwrap_or(0)),
            };
            let applies = !(info && rng.chance(50));
            let dropped = !info && rng.chance(k.drop_acked);
            if applies && !dropped {
                replicas[r].apply(&u);
                for other in 0..n {
                    if other == r || rng.chance(k.no_ship) {
                        continue;
                    }
                    let mut at = done + 1 + rng.below(5) as i64;
                    if cut(r, other, at) || cut(r, other, done) {
                        at = at.max(part_end) + 1 + rng.below(3) as i64;
                    }
                    inflight.push((at, other, u.clone()));
                }
            }
            (if info { OpType::Info } else { OpType::Ok }, input.clone())
        };
        let mut comp = Op::new(ty, c as i64, f, if info { Value::Nil } else { out });
        comp.node = Some(node(r));
        push(&mut events, done, comp);
        if info {
            // Jepsen gives a crashed process's thread a new process id;
            // keep it simple: this client stays busy for good.
            busy_until[c] = i64::MAX;
        }
    }
    // quiesce: deliver everything, then final reads
    for (_, r, u) in inflight.drain(..) {
        replicas[r].apply(&u);
    }
    let t_end = events.iter().map(|e| e.0).max().unwrap_or(0) + 20;
    for c in 0..k.clients + n {
        let r = c % n;
        let mut inv = Op::new(OpType::Invoke, (k.clients + c) as i64, "read", Value::Nil);
        inv.node = Some(node(r));
        push(&mut events, t_end, inv);
        let mut ok = Op::new(
            OpType::Ok,
            (k.clients + c) as i64,
            "read",
            replicas[r].read(store),
        );
        ok.node = Some(node(r));
        push(&mut events, t_end + 1, ok);
    }
    events.sort_by_key(|e| (e.0, e.1));
    events
        .into_iter()
        .enumerate()
        .map(|(i, (t, _, mut o))| {
            o.time = Some(t * 1000);
            o.index = i as u64;
            o
        })
        .collect()
}

/// What the oracle decides.
#[derive(Debug, Default)]
struct Oracle {
    verdict: Option<Verdict>,
    /// Final reads differ in a way no indeterminate update explains.
    diverged: bool,
    /// Final reads differ, but indeterminate updates may explain it.
    undecided: bool,
    lost: bool,
    unexplained: bool,
}

/// Did final read `a` complete before final read `b` began?
fn precedes(h: &History, a: usize, b: usize) -> bool {
    h.operations[a].complete.unwrap() < h.operations[b].invoke
}

/// May indeterminate updates explain final reads `a` and `b` returning
/// different states? `to(x, y)`: may they change state `x` into `y`
/// (given in either order when neither read preceded the other).
fn explained(h: &History, a: usize, b: usize, to: &dyn Fn(usize, usize) -> bool) -> bool {
    if precedes(h, a, b) {
        to(a, b)
    } else if precedes(h, b, a) {
        to(b, a)
    } else {
        to(a, b) || to(b, a)
    }
}

fn ok_reads(h: &History) -> Vec<(usize, Value)> {
    h.operations
        .iter()
        .enumerate()
        .filter(|(_, o)| o.outcome == Outcome::Ok && &*h.ops[o.invoke].f == "read")
        .map(|(i, o)| (i, h.ops[o.complete.unwrap()].value.clone()))
        .collect()
}

fn updates(h: &History) -> Vec<usize> {
    (0..h.operations.len())
        .filter(|&i| {
            let o = &h.operations[i];
            o.outcome != Outcome::Fail && &*h.ops[o.invoke].f != "read"
        })
        .collect()
}

fn time_of(h: &History, event: usize) -> i64 {
    h.ops[event].time.unwrap()
}

/// The final-read rule the tests use: after the last update and the last
/// heal, plus a settle time longer than any replication delay.
const SETTLE: u64 = 10_000;

fn options() -> ConvergenceOptions {
    ConvergenceOptions {
        final_reads: FinalReadRule::AfterHeal,
        settle: SETTLE,
        ..ConvergenceOptions::default()
    }
}

fn finals(h: &History, opts: &ConvergenceOptions) -> Vec<(usize, Value)> {
    let heal = if opts.final_reads == FinalReadRule::AfterHeal {
        h.nemesis
            .iter()
            .filter(|&&i| &*h.ops[i].f == "stop")
            .map(|&i| (time_of(h, i), i))
            .max()
    } else {
        None
    };
    // Positions in real time: (time, event), so that ties in time fall to
    // the order of events in the file.
    let (t, e) = updates(h)
        .iter()
        .map(|&i| {
            let o = &h.operations[i];
            let end = o.complete.unwrap_or(o.invoke);
            (time_of(h, end), end)
        })
        .chain(heal)
        .max()
        .unwrap_or((i64::MIN, 0));
    let last = (t.saturating_add(opts.settle as i64), e);
    // each replica's latest qualifying read
    let mut latest: HashMap<Option<Value>, (usize, Value)> = HashMap::new();
    for (i, v) in ok_reads(h) {
        let o = &h.operations[i];
        if (time_of(h, o.invoke), o.invoke) > last {
            latest.insert(h.ops[o.invoke].node.clone(), (i, v));
        }
    }
    let mut out: Vec<(usize, Value)> = latest.into_values().collect();
    out.sort_by_key(|r| r.0);
    out
}

fn oracle(h: &History, store: Store, opts: &ConvergenceOptions) -> Oracle {
    let mut out = Oracle::default();
    let fin = finals(h, opts);
    if fin.is_empty() {
        out.verdict = Some(Verdict::Unknown);
        return out;
    }
    let distinct: BTreeSet<&Value> = fin.iter().map(|(_, v)| v).collect();
    let ups = updates(h);
    let input = |i: usize| h.ops[h.operations[i].invoke].value.clone();
    let acked = |i: usize| h.operations[i].outcome == Outcome::Ok;
    let indeterminate: Vec<Value> = ups
        .iter()
        .filter(|&&i| !acked(i))
        .map(|&i| input(i))
        .collect();
    let value_of: HashMap<usize, Value> = fin.iter().cloned().collect();
    // Per model: may indeterminate updates change what read `x` returned
    // into what read `y` returned?
    let to = |x: usize, y: usize| -> bool {
        let (vx, vy) = (&value_of[&x], &value_of[&y]);
        match store {
            Store::Register => indeterminate.contains(vy),
            // grow-only: every element gained was added indeterminately,
            // and none was lost
            Store::Set => {
                let (sx, sy) = (vx.as_collection().unwrap(), vy.as_collection().unwrap());
                sx.iter().all(|e| sy.contains(e))
                    && sy
                        .iter()
                        .all(|e| sx.contains(e) || indeterminate.contains(e))
            }
            // the difference is a sum of indeterminate increments
            Store::Counter => {
                let mut sums: BTreeSet<i64> = [0].into_iter().collect();
                for d in indeterminate.iter().map(|d| d.as_int().unwrap()) {
                    let more: Vec<i64> = sums.iter().map(|x| x + d).collect();
                    sums.extend(more);
                }
                sums.contains(&(vy.as_int().unwrap() - vx.as_int().unwrap()))
            }
        }
    };
    for (a, va) in &fin {
        for (b, vb) in &fin {
            if va != vb && !explained(h, *a, *b, &to) {
                out.diverged = true;
            }
        }
    }
    out.undecided = distinct.len() > 1 && !out.diverged;
    match store {
        Store::Register => {
            let written: Vec<(usize, Value)> = ups.iter().map(|&i| (i, input(i))).collect();
            for (_, v) in ok_reads(h) {
                if !v.is_nil() && !written.iter().any(|(_, w)| *w == v) {
                    out.unexplained = true;
                }
            }
            let v = fin[0].1.clone();
            if distinct.len() == 1 && (v.is_nil() || written.iter().any(|(_, w)| *w == v)) {
                // lost: an acked write of another value strictly after every write of v
                for &(w2, ref val2) in &written {
                    if !acked(w2) || *val2 == v {
                        continue;
                    }
                    let inv2 = h.operations[w2].invoke;
                    let shielded = written
                        .iter()
                        .any(|(w, val)| *val == v && h.operations[*w].response() > inv2);
                    if !shielded {
                        out.lost = true;
                    }
                }
            }
        }
        Store::Set => {
            let attempted: BTreeSet<Value> = ups.iter().map(|&i| input(i)).collect();
            let must: BTreeSet<Value> = ups
                .iter()
                .filter(|&&i| acked(i))
                .map(|&i| input(i))
                .collect();
            let reads = ok_reads(h);
            for (_, r) in &reads {
                for e in r.as_collection().unwrap() {
                    if !attempted.contains(e) {
                        out.unexplained = true;
                    }
                }
            }
            // An element a final read misses is lost if its add was
            // acknowledged, or if a read that completed before the final
            // read began had it (a grow-only set never forgets).
            for (f, r) in &fin {
                let items = r.as_collection().unwrap();
                let seen_before = |e: &Value| {
                    reads
                        .iter()
                        .any(|(i, s)| s.as_collection().unwrap().contains(e) && precedes(h, *i, *f))
                };
                for e in attempted.iter().filter(|e| !items.contains(e)) {
                    if must.contains(e) || seen_before(e) {
                        out.lost = true;
                    }
                }
            }
        }
        Store::Counter => {
            let is_final: BTreeSet<usize> = fin.iter().map(|f| f.0).collect();
            for (ri, v) in ok_reads(h) {
                let r = &h.operations[ri];
                let may: Vec<usize> = ups
                    .iter()
                    .copied()
                    .filter(|&i| h.operations[i].invoke < r.complete.unwrap())
                    .collect();
                let must: Vec<usize> = if is_final.contains(&ri) {
                    ups.iter()
                        .copied()
                        .filter(|&i| acked(i) && h.operations[i].response() < r.invoke)
                        .collect()
                } else {
                    Vec::new()
                };
                let optional: Vec<i64> = may
                    .iter()
                    .filter(|i| !must.contains(i))
                    .map(|&i| input(i).as_int().unwrap())
                    .collect();
                let base: i64 = must.iter().map(|&i| input(i).as_int().unwrap()).sum();
                let target = v.as_int().unwrap();
                // subset sums, by a set of reachable values (deltas are ±1)
                let mut reach: BTreeSet<i64> = [base].into_iter().collect();
                for d in optional {
                    let more: Vec<i64> = reach.iter().map(|x| x + d).collect();
                    reach.extend(more);
                }
                if !reach.contains(&target) {
                    out.unexplained = true;
                }
            }
        }
    }
    out.verdict = Some(if out.diverged || out.lost || out.unexplained {
        Verdict::Invalid
    } else if out.undecided {
        Verdict::Unknown
    } else {
        Verdict::Valid
    });
    out
}

fn kind_of(store: Store) -> ModelKind {
    match store {
        Store::Register => ModelKind::Register,
        Store::Set => ModelKind::Set,
        Store::Counter => ModelKind::Counter,
    }
}

fn knobs() -> impl Strategy<Value = Knobs> {
    (
        1usize..4,
        1usize..5,
        1usize..30,
        0i64..4,
        prop_oneof![Just(0u64), 0u64..30],
        prop_oneof![Just(0u64), 0u64..30],
        prop_oneof![Just(0u64), 0u64..20],
        any::<bool>(),
    )
        .prop_map(
            |(replicas, clients, ops, skew, drop_acked, no_ship, info, partition)| Knobs {
                replicas,
                clients,
                ops,
                skew,
                drop_acked,
                no_ship,
                info,
                partition,
            },
        )
}

fn has<F: Fn(&Anomaly) -> bool>(anomalies: &[Anomaly], f: F) -> bool {
    anomalies.iter().any(f)
}

fn agree(store: Store, k: Knobs, seed: u64) -> Result<(), TestCaseError> {
    let ops = simulate(store, k, seed);
    let h = History::from_ops(ops).expect("the simulator writes well-formed histories");
    // after the heal with a settle time, and right after the last update
    for opts in [options(), ConvergenceOptions::default()] {
        agree_with(&h, store, &opts)?;
    }
    Ok(())
}

fn agree_with(h: &History, store: Store, opts: &ConvergenceOptions) -> Result<(), TestCaseError> {
    let report = check(h, kind_of(store), &ModelOptions::default(), opts);
    let o = oracle(h, store, opts);
    prop_assert_eq!(
        Some(report.valid),
        o.verdict,
        "oracle {:?}, reasons {:?}",
        o,
        report.reasons
    );
    let a = &report.anomalies;
    prop_assert_eq!(
        o.diverged,
        has(a, |x| matches!(x, Anomaly::Divergence { .. }))
    );
    match store {
        Store::Register => {
            prop_assert_eq!(o.lost, has(a, |x| matches!(x, Anomaly::LostUpdate { .. })));
            prop_assert_eq!(
                o.unexplained,
                has(a, |x| matches!(x, Anomaly::Unexplained { .. }))
            );
        }
        Store::Set => {
            prop_assert_eq!(o.lost, has(a, |x| matches!(x, Anomaly::Lost { .. })));
            prop_assert_eq!(
                o.unexplained,
                has(a, |x| matches!(x, Anomaly::Unexplained { .. }))
            );
        }
        Store::Counter => {
            prop_assert_eq!(
                o.unexplained,
                has(a, |x| matches!(x, Anomaly::OutOfBounds { .. }))
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn register_checker_agrees_with_oracle(k in knobs(), seed in any::<u64>()) {
        agree(Store::Register, k, seed)?;
    }

    #[test]
    fn set_checker_agrees_with_oracle(k in knobs(), seed in any::<u64>()) {
        agree(Store::Set, k, seed)?;
    }

    #[test]
    fn counter_checker_agrees_with_oracle(k in knobs(), seed in any::<u64>()) {
        agree(Store::Counter, k, seed)?;
    }

    /// A correct store (no skew, no bugs) is never called invalid, and
    /// its final reads make it valid.
    #[test]
    fn correct_store_is_valid(k in knobs(), seed in any::<u64>(), s in 0usize..3) {
        let store = [Store::Register, Store::Set, Store::Counter][s];
        let k = Knobs { skew: 0, drop_acked: 0, no_ship: 0, info: 0, ..k };
        let h = History::from_ops(simulate(store, k, seed)).unwrap();
        let r = check(&h, kind_of(store), &ModelOptions::default(), &options());
        prop_assert_eq!(r.valid, Verdict::Valid, "{:?}", r.reasons);
        prop_assert!(r.stats.final_reads > 0);
    }
}

/// The bug knobs are found: across seeds, a store that drops acknowledged
/// writes or skews clocks is caught, and the finding names the lost write.
#[test]
fn bugs_are_caught() {
    let mut caught: HashMap<&str, usize> = HashMap::new();
    for seed in 1..200u64 {
        for (name, store, k) in [
            (
                "drop",
                Store::Set,
                Knobs {
                    replicas: 3,
                    clients: 4,
                    ops: 20,
                    skew: 0,
                    drop_acked: 20,
                    no_ship: 0,
                    info: 0,
                    partition: false,
                },
            ),
            (
                "skew",
                Store::Register,
                Knobs {
                    replicas: 3,
                    clients: 3,
                    ops: 20,
                    skew: 6,
                    drop_acked: 0,
                    no_ship: 0,
                    info: 0,
                    partition: true,
                },
            ),
            (
                "no-ship",
                Store::Counter,
                Knobs {
                    replicas: 3,
                    clients: 3,
                    ops: 20,
                    skew: 0,
                    drop_acked: 0,
                    no_ship: 20,
                    info: 0,
                    partition: false,
                },
            ),
        ] {
            let h = History::from_ops(simulate(store, k, seed)).unwrap();
            let r = check(&h, kind_of(store), &ModelOptions::default(), &options());
            if r.valid == Verdict::Invalid {
                *caught.entry(name).or_default() += 1;
                if name == "skew" {
                    assert!(
                        has(&r.anomalies, |a| matches!(
                            a,
                            Anomaly::LostUpdate { .. } | Anomaly::Divergence { .. }
                        )),
                        "{:?}",
                        r.anomalies
                    );
                }
            }
        }
    }
    for (name, at_least) in [("drop", 100), ("skew", 10), ("no-ship", 100)] {
        assert!(
            caught.get(name).copied().unwrap_or(0) >= at_least,
            "{name}: {caught:?}"
        );
    }
}

/// Two writes completing at one tick on one replica once tied in the
/// simulated store's last-write-wins order, so replicas that received
/// them in different orders kept different values: the "correct" store
/// diverged. The write's own number now breaks the tie.
#[test]
fn simultaneous_writes_on_one_replica_do_not_diverge() {
    let k = Knobs {
        replicas: 2,
        clients: 3,
        ops: 19,
        skew: 0,
        drop_acked: 0,
        no_ship: 0,
        info: 0,
        partition: false,
    };
    let h = History::from_ops(simulate(Store::Register, k, 12006446660571357680)).unwrap();
    let r = check(
        &h,
        kind_of(Store::Register),
        &ModelOptions::default(),
        &options(),
    );
    assert_eq!(r.valid, Verdict::Valid, "{:?}", r.reasons);
}

/// The knobs of [`simulate_atomic`].
#[derive(Clone, Copy, Debug)]
struct AtomicKnobs {
    clients: usize,
    ops: usize,
    /// Percent of updates that crash.
    crash: u64,
    /// Percent of crashed updates that never complete.
    pending: u64,
}

/// The state of one atomic object.
#[derive(Default)]
struct Atomic {
    reg: Option<i64>,
    set: BTreeSet<i64>,
    count: i64,
    queue: std::collections::VecDeque<i64>,
}

impl Atomic {
    /// Applies an op under `model`: the completion it gets if it is `ok`
    /// or `fail`.
    fn step(&mut self, model: ModelKind, f: &str, input: &Value) -> (OpType, Value) {
        let int = |v: Option<i64>| v.map_or(Value::Nil, Value::Int);
        let ok = (OpType::Ok, input.clone());
        match (model, f) {
            (ModelKind::Set, "add") => {
                self.set.insert(input.as_int().unwrap());
                ok
            }
            (ModelKind::Set, "read") => (
                OpType::Ok,
                Value::set(self.set.iter().map(|&e| Value::Int(e)).collect()),
            ),
            (ModelKind::Counter, "add") => {
                self.count += input.as_int().unwrap();
                ok
            }
            (ModelKind::Counter, "read") => (OpType::Ok, Value::Int(self.count)),
            (_, "enqueue") => {
                self.queue.push_back(input.as_int().unwrap());
                ok
            }
            (_, "dequeue") => (OpType::Ok, int(self.queue.pop_front())),
            (_, "read") => (OpType::Ok, int(self.reg)),
            (_, "write") => {
                self.reg = input.as_int();
                ok
            }
            (_, "cas") => {
                let v = input.as_vector().unwrap();
                if int(self.reg) == v[0] {
                    self.reg = v[1].as_int();
                    ok
                } else {
                    (OpType::Fail, input.clone())
                }
            }
            _ => unreachable!("{f}"),
        }
    }
}

/// A client's operation in flight.
struct Flight {
    process: i64,
    f: &'static str,
    input: Value,
    crashed: bool,
    /// The completion, once it took effect (`ok` and `fail` ops).
    result: Option<(OpType, Value)>,
}

/// One atomic object under `model` (cas-register, set, counter or
/// fifo-queue), linearizable by construction: an `ok` or `fail` op takes
/// effect at one instant between its invocation and completion; a crashed
/// update at any instant after its invocation (before or after its `info`
/// completion, or even after the last read), or never. A crashed client
/// continues as a new process; one whose op never completes stops. At the
/// end every client reads (dequeues) twice more, while crashed updates may
/// still take effect. Every event has a distinct time, in file order.
fn simulate_atomic(model: ModelKind, k: AtomicKnobs, seed: u64) -> Vec<Op> {
    let mut rng = Rng(seed | 1);
    let mut obj = Atomic::default();
    let mut events: Vec<Op> = Vec::new();
    let mut flights: Vec<Option<Flight>> = (0..k.clients).map(|_| None).collect();
    let mut process: Vec<i64> = (0..k.clients as i64).collect();
    let mut retired = vec![false; k.clients];
    let mut finals_left = vec![2usize; k.clients];
    // crashed updates that may still take effect
    let mut late: Vec<(&'static str, Value)> = Vec::new();
    let (mut issued, mut next) = (0, 1i64);
    let emit = |events: &mut Vec<Op>, ty: OpType, p: i64, f: &str, v: Value| {
        events.push(Op::new(ty, p, f, v));
    };
    loop {
        let idle: Vec<usize> = (0..k.clients)
            .filter(|&c| flights[c].is_none() && !retired[c])
            .filter(|&c| issued < k.ops || finals_left[c] > 0)
            .collect();
        let busy: Vec<usize> = (0..k.clients).filter(|&c| flights[c].is_some()).collect();
        if idle.is_empty() && busy.is_empty() {
            break;
        }
        match rng.below(4) {
            0 if !idle.is_empty() => {
                let c = idle[rng.below(idle.len() as u64) as usize];
                let update = issued < k.ops && rng.chance(60);
                let (f, input) = match (model, update) {
                    (ModelKind::FifoQueue, true) => ("enqueue", Value::Int(next)),
                    (ModelKind::FifoQueue, false) => ("dequeue", Value::Nil),
                    (_, false) => ("read", Value::Nil),
                    (ModelKind::Set, true) => ("add", Value::Int(next)),
                    (ModelKind::Counter, true) => (
                        "add",
                        Value::Int(if rng.chance(20) {
                            -1
                        } else {
                            1 + rng.below(3) as i64
                        }),
                    ),
                    (_, true) if rng.chance(40) => (
                        "cas",
                        Value::Vector(vec![
                            match rng.below(next as u64) as i64 {
                                0 => Value::Nil,
                                v => Value::Int(v),
                            },
                            Value::Int(next),
                        ]),
                    ),
                    (_, true) => ("write", Value::Int(next)),
                };
                next += 1;
                if issued < k.ops {
                    issued += 1;
                } else {
                    finals_left[c] -= 1;
                }
                let crashed = f != "read" && rng.chance(k.crash);
                emit(&mut events, OpType::Invoke, process[c], f, input.clone());
                if crashed {
                    late.push((f, input.clone()));
                }
                flights[c] = Some(Flight {
                    process: process[c],
                    f,
                    input,
                    crashed,
                    result: None,
                });
            }
            1 if !busy.is_empty() => {
                // an ok or fail op takes effect
                let c = busy[rng.below(busy.len() as u64) as usize];
                let fl = flights[c].as_mut().unwrap();
                if !fl.crashed && fl.result.is_none() {
                    fl.result = Some(obj.step(model, fl.f, &fl.input));
                }
            }
            2 if !busy.is_empty() => {
                let c = busy[rng.below(busy.len() as u64) as usize];
                let fl = flights[c].as_ref().unwrap();
                if fl.crashed {
                    if rng.chance(k.pending) {
                        retired[c] = true; // never completes
                    } else {
                        emit(
                            &mut events,
                            OpType::Info,
                            fl.process,
                            fl.f,
                            fl.input.clone(),
                        );
                        process[c] += k.clients as i64;
                    }
                    flights[c] = None;
                } else if let Some((ty, out)) = fl.result.clone() {
                    emit(&mut events, ty, fl.process, fl.f, out);
                    flights[c] = None;
                }
            }
            3 if !late.is_empty() => {
                // a crashed update takes effect, or never will
                let (f, input) = late.swap_remove(rng.below(late.len() as u64) as usize);
                if rng.chance(50) {
                    obj.step(model, f, &input);
                }
            }
            _ => {}
        }
    }
    for (i, o) in events.iter_mut().enumerate() {
        o.time = Some(i as i64 * 10);
        o.index = i as u64;
    }
    events
}

fn atomic_knobs() -> impl Strategy<Value = AtomicKnobs> {
    (1usize..5, 1usize..25, 0u64..60, 0u64..50).prop_map(|(clients, ops, crash, pending)| {
        AtomicKnobs {
            clients,
            ops,
            crash,
            pending,
        }
    })
}

const ATOMIC_MODELS: [ModelKind; 4] = [
    ModelKind::CasRegister,
    ModelKind::Set,
    ModelKind::Counter,
    ModelKind::FifoQueue,
];

/// The verdict and the kinds of anomalies, which must not depend on how
/// finely time was measured.
fn outline(r: &labrys::check::convergence::ConvergenceReport) -> String {
    let j = serde_json::to_value(r).unwrap();
    let kinds: Vec<String> = j["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["type"].to_string())
        .collect();
    let per_key: Vec<String> = j["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let d = &k["detail"];
            format!(
                "{} final {} never-read {} lost {} stale {}",
                k["valid"], k["final_reads"], d["never_read"], d["lost_during_run"], d["stale"]
            )
        })
        .collect();
    format!("{:?} {kinds:?} {per_key:?}", r.valid)
}

/// The same events with their times coarsened to multiples of `quantum`
/// (ties galore, file order kept), and with distinct times in file order.
fn coarse_and_fine(ops: &[Op], quantum: i64) -> (History, History) {
    let mut coarse = ops.to_vec();
    for o in &mut coarse {
        o.time = o.time.map(|t| t / quantum * quantum);
    }
    let mut fine = ops.to_vec();
    for (i, o) in fine.iter_mut().enumerate() {
        o.time = Some(i as i64);
    }
    (
        History::from_ops(coarse).unwrap(),
        History::from_ops(fine).unwrap(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Linearizability implies convergence: every read of a linearizable
    /// history sees the state of one order, so a history whose crashed
    /// updates took effect late (even between final reads) is never found
    /// not convergent, under either reading of which reads are final.
    #[test]
    fn linearizable_histories_are_never_found_not_convergent(
        k in atomic_knobs(),
        seed in any::<u64>(),
        m in 0usize..4,
    ) {
        let model = ATOMIC_MODELS[m];
        let h = History::from_ops(simulate_atomic(model, k, seed)).unwrap();
        let lin = labrys::check::linearizable::check_model(
            &h,
            model,
            &ModelOptions::default(),
            // A history with no op completed ok is vacuously linearizable.
            &labrys::check::CheckOptions {
                allow_empty: true,
                ..labrys::check::CheckOptions::default()
            },
        )
        .unwrap();
        prop_assert_eq!(lin.valid, Verdict::Valid, "the simulator is linearizable");
        for opts in [
            ConvergenceOptions::default(),
            ConvergenceOptions { latest_per_replica: false, ..ConvergenceOptions::default() },
        ] {
            let r = check(&h, model, &ModelOptions::default(), &opts);
            prop_assert_ne!(r.valid, Verdict::Invalid, "{:?}", r.reasons);
        }
    }

    /// Ties in time fall to the order of events in the file: a history
    /// measured with a coarse clock gets the verdicts of the same history
    /// with distinct times.
    #[test]
    fn ties_in_time_give_the_verdicts_of_file_order(
        k in knobs(),
        ak in atomic_knobs(),
        seed in any::<u64>(),
        s in 0usize..7,
        quantum in 1i64..60,
    ) {
        let (ops, kind) = if s < 3 {
            let store = [Store::Register, Store::Set, Store::Counter][s];
            (simulate(store, k, seed), kind_of(store))
        } else {
            let model = ATOMIC_MODELS[s - 3];
            (simulate_atomic(model, ak, seed), model)
        };
        let (coarse, fine) = coarse_and_fine(&ops, quantum * 1000);
        for rule in [FinalReadRule::AfterLastUpdate, FinalReadRule::AfterHeal] {
            let opts = ConvergenceOptions { final_reads: rule, ..ConvergenceOptions::default() };
            let m = ModelOptions::default();
            prop_assert_eq!(
                outline(&check(&coarse, kind, &m, &opts)),
                outline(&check(&fine, kind, &m, &opts))
            );
        }
    }
}
