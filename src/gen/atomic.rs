//! Atomic-object mode: clients operating on one simulated atomic object.
//!
//! Each operation gets an invocation time, a completion time (latency
//! uniform around [`GenOptions::latency_mean`]) and a linearization point
//! strictly between them, where it is applied to the one true state and
//! its result decided. Events are processed in time order, so if one
//! operation completes before another is invoked, its linearization point
//! comes first: **without faults the history is linearizable**, witnessed
//! by the order of linearization points.
//!
//! Crashes ([`GenOptions::crash_rate`]) complete `info` with the
//! invocation's value and an `:error :timeout`; a crashed update takes
//! effect at its linearization point with probability
//! [`GenOptions::crash_effect`]. The crashed process never runs again; its
//! client continues as process `p + clients`. Cas ops whose expected value
//! is not current, dequeues from an empty queue and contended mutex ops
//! complete `fail` and change nothing.
//!
//! Fault knobs ([`Faults`](super::Faults)): stale reads, lost writes,
//! duplicated effects and reordered effects, each recorded in
//! [`FaultRecord`]s. Faults are never injected into crashed operations.
//!
//! A stale read is only injected when it is certainly observable, whatever
//! a checker assumes about crashed operations, and its result is chosen
//! when the read completes, once every operation invoked before that is
//! known. For a register (or one key of a kv map), returning `x` is
//! certainly not linearizable when some write or cas `W` completed `ok`,
//! setting a value other than `x`, before the read began, and every
//! operation that might set `x` (writes of `x`, cas to `x` that did not
//! fail, crashed ones included; the initial value counts as set and
//! acknowledged at the start) and was invoked before the read completed
//! had completed `ok` before `W` was invoked: `W` takes effect after all of
//! them and before the read, and nothing can bring `x` back. A set read
//! misses an element whose add was acknowledged before the read began; a
//! counter read falls below the sum of the adds acknowledged before the
//! read began. The record's `related` index names `W`, the add, or the
//! last acknowledged add.

use super::object::{Arg, Call, Func, Obj, Res};
use super::rng::Rng;
use super::{
    think, ClientGen, Emitter, FaultKind, FaultRecord, GenError, GenOptions, InFlight, Injector,
    Sched,
};
use crate::history::{OpType, Value};
use crate::model::ModelKind;
use std::collections::BTreeMap;

/// How many values of each register whose setters are all over are kept
/// as stale-read candidates (the least recently set are forgotten first).
const REMEMBERED: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Invoke(usize),
    Lin(usize),
    Complete(usize),
}

/// The last version of a register applied, and who wrote it.
#[derive(Clone, Debug)]
struct Version {
    value: Option<i64>,
    /// The writer's completion time; `u64::MAX` if it crashed.
    complete: u64,
    /// The writer's invocation index (`None` for the initial value).
    index: Option<u64>,
}

/// What the history says about the operations that may set one value of
/// one register (writes of it, cas to it), in event indices.
#[derive(Clone, Copy, Debug, Default)]
struct Setters {
    /// Invoked and not completed yet.
    pending: u32,
    /// One of them crashed: it may take effect at any later time.
    crashed: bool,
    /// One past the index of the latest `ok` completion among them (0 for
    /// the initial value); `None` if none completed `ok`.
    ended: Option<u64>,
}

impl Setters {
    /// One past the index by which every one of them was certainly over,
    /// if they all are and one completed `ok`.
    fn settled(&self) -> Option<u64> {
        if self.pending > 0 || self.crashed {
            None
        } else {
            self.ended
        }
    }
}

/// An acknowledged write or successful cas: its invocation index and the
/// value it set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Overwrite {
    invoke: u64,
    value: i64,
}

/// The latest-invoked overwrite acknowledged so far, and the latest-invoked
/// one of another value.
type Latest = [Option<Overwrite>; 2];

/// One register's history, as far as stale reads need it.
#[derive(Clone, Debug)]
struct RegLog {
    /// Per value (`None` is the initial `nil`): its setters.
    setters: BTreeMap<Option<i64>, Setters>,
    latest: Latest,
}

impl RegLog {
    fn new() -> RegLog {
        let initial = Setters {
            ended: Some(0),
            ..Setters::default()
        };
        RegLog {
            setters: BTreeMap::from([(None, initial)]),
            latest: [None, None],
        }
    }

    /// A setter of `x` was invoked.
    fn invoked(&mut self, x: i64) {
        self.setters.entry(Some(x)).or_default().pending += 1;
    }

    /// A setter of `x` invoked at index `invoke` completed at index
    /// `complete` with `outcome`. With `unique` values nothing sets `x`
    /// again.
    fn completed(&mut self, x: i64, invoke: u64, complete: u64, outcome: OpType, unique: bool) {
        let s = self.setters.entry(Some(x)).or_default();
        s.pending -= 1;
        match outcome {
            OpType::Ok => s.ended = Some(complete + 1),
            OpType::Info => s.crashed = true,
            _ => {}
        }
        // A value no one set is no candidate, nor one whose crashed setter
        // keeps it possible forever; the latter must be remembered if the
        // value may be written again.
        if s.pending == 0 && ((s.ended.is_none() && !s.crashed) || (s.crashed && unique)) {
            self.setters.remove(&Some(x));
        }
        if outcome == OpType::Ok {
            self.overwritten(Overwrite { invoke, value: x });
        }
        if self.setters.len() > REMEMBERED {
            // Forgetting a settled value only loses a candidate: if it is
            // set again, its new setters are later than the old ones.
            let oldest = self
                .setters
                .iter()
                .filter_map(|(&v, s)| s.settled().map(|e| (e, v)))
                .min();
            if let Some((_, v)) = oldest {
                self.setters.remove(&v);
            }
        }
    }

    fn overwritten(&mut self, w: Overwrite) {
        let newer = |o: Option<Overwrite>| o.is_none_or(|o| w.invoke > o.invoke);
        match self.latest {
            [Some(a), b] if a.value == w.value => {
                if newer(Some(a)) {
                    self.latest = [Some(w), b];
                }
            }
            [a, _] if newer(a) => self.latest = [Some(w), a],
            [a, Some(b)] if b.value == w.value => {
                if newer(Some(b)) {
                    self.latest = [a, Some(w)];
                }
            }
            [a, b] => {
                if newer(b) {
                    self.latest = [a, Some(w)];
                }
            }
        }
    }

    /// A value that a read, invoked when the latest overwrites were
    /// `latest` and completing now, cannot return in any linearization,
    /// with the invocation index of the overwrite that proves it. Of the
    /// candidates, the one most recently set.
    fn stale(&self, latest: &Latest) -> Option<(Option<i64>, u64)> {
        let mut best: Option<(u64, Option<i64>, u64)> = None;
        for (&x, s) in &self.setters {
            let Some(ended) = s.settled() else { continue };
            let Some(w) = latest.iter().flatten().find(|w| Some(w.value) != x) else {
                continue;
            };
            if ended <= w.invoke && best.is_none_or(|(e, _, _)| ended > e) {
                best = Some((ended, x, w.invoke));
            }
        }
        best.map(|(_, x, w)| (x, w))
    }
}

/// The value a call sets on a register, whether or not it takes effect.
fn sets(call: &Call) -> Option<i64> {
    match (call.f, &call.arg) {
        (Func::Write, Arg::Int(v)) => Some(*v),
        (Func::Cas, Arg::Cas(_, new)) => Some(*new),
        _ => None,
    }
}

/// What a read may return instead of the truth, as far as is known when
/// it is invoked; decided when it completes.
#[derive(Clone, Debug)]
enum Stale {
    /// Registers: the latest overwrites acknowledged before the read.
    Register(Latest),
    /// Counter: a count below the acknowledged adds, and the last add.
    Value(Value, u64),
    /// Set: the first elements added, up to one whose add was acknowledged
    /// before the read; that add.
    SetPrefix(usize, u64),
}

#[derive(Debug)]
struct Slot {
    process: i64,
    holds_lock: bool,
    current: Option<InFlight>,
    /// What the read in flight might return instead of the truth.
    stale: Option<Stale>,
}

/// The atomic-object simulation.
pub struct AtomicSim {
    o: GenOptions,
    gen: ClientGen,
    rng: Rng,
    sched: Sched<Ev>,
    obj: Obj,
    slots: Vec<Slot>,
    issued: usize,
    faults: Vec<FaultRecord>,
    stale: Injector,
    lost: Injector,
    dup: Injector,
    reorder: Injector,
    /// The last version applied per key (register, cas-register, kv).
    last: Vec<Version>,
    /// Setters and overwrites per key (register, cas-register, kv).
    logs: Vec<RegLog>,
    /// Set elements in the order first added, with the adder's completion
    /// time (`u64::MAX` if it crashed) and invocation index.
    set_log: Vec<(i64, u64, u64)>,
    /// Sum of acknowledged counter adds so far, the last one's amount and
    /// invocation index.
    acked: (i64, i64, u64),
    /// The last enqueue applied: element, completion time, index.
    last_enqueue: Option<(i64, u64, u64)>,
}

impl AtomicSim {
    /// Sets up clients and the object.
    pub fn new(o: &GenOptions) -> Result<AtomicSim, GenError> {
        let gen = ClientGen::new(o)?;
        let keys = gen.keys();
        let mut rng = Rng::new(o.seed, 2);
        let mut sched = Sched::new();
        sched.first_invocations(&mut rng, o, Ev::Invoke);
        let slots = (0..o.clients)
            .map(|c| Slot {
                process: c as i64,
                holds_lock: false,
                current: None,
                stale: None,
            })
            .collect();
        let initial = Version {
            value: None,
            complete: 0,
            index: None,
        };
        let registers = matches!(
            o.model,
            ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv
        );
        Ok(AtomicSim {
            gen,
            rng,
            sched,
            obj: Obj::new(o.model, keys),
            slots,
            issued: 0,
            faults: Vec::new(),
            stale: Injector::new(o.faults.stale_reads, o.seed, 10),
            lost: Injector::new(o.faults.lost_writes, o.seed, 11),
            dup: Injector::new(o.faults.duplicated_effects, o.seed, 12),
            reorder: Injector::new(o.faults.reordered_effects, o.seed, 13),
            last: vec![initial; keys],
            logs: if registers {
                vec![RegLog::new(); keys]
            } else {
                Vec::new()
            },
            set_log: Vec::new(),
            acked: (0, 0, 0),
            last_enqueue: None,
            o: o.clone(),
        })
    }

    /// The faults injected so far.
    pub fn faults(&self) -> &[FaultRecord] {
        &self.faults
    }

    fn left(&self) -> u64 {
        (self.o.ops - self.issued + self.o.clients) as u64
    }

    fn record(&mut self, kind: FaultKind, c: usize, related: Option<u64>, note: String) {
        let cur = self.slots[c].current.as_ref().expect("current op");
        self.faults.push(FaultRecord {
            kind,
            index: cur.index,
            process: self.slots[c].process,
            related,
            note,
        });
    }

    /// Processes one event; `false` when the run is over.
    pub(crate) fn step(&mut self, out: &mut Emitter) -> bool {
        let Some((t, ev)) = self.sched.pop() else {
            return false;
        };
        match ev {
            Ev::Invoke(c) => self.invoke(c, t, out),
            Ev::Lin(c) => self.linearize(c),
            Ev::Complete(c) => self.complete(c, out),
        }
        true
    }

    fn invoke(&mut self, c: usize, t: u64, out: &mut Emitter) {
        if self.issued >= self.o.ops {
            return;
        }
        self.issued += 1;
        let obj = &self.obj;
        let call = self
            .gen
            .next_call(|k| obj.regs[k], self.slots[c].holds_lock);
        let process = self.slots[c].process;
        let cur = InFlight::invoke(call, process, t, &mut self.rng, &self.o, out);
        let call = &cur.call;
        if let (Some(log), Some(x)) = (self.logs.get_mut(call.slot()), sets(call)) {
            log.invoked(x);
        }
        let stale = if call.f == Func::Read && !cur.crash && self.stale.enabled() {
            self.stale_basis(call, t)
        } else {
            None
        };
        self.sched.at(cur.timing.lin, Ev::Lin(c));
        self.sched.at(cur.timing.complete, Ev::Complete(c));
        self.slots[c].current = Some(cur);
        self.slots[c].stale = stale;
    }

    /// What a read invoked at `t` might return instead of the truth.
    fn stale_basis(&self, call: &Call, t: u64) -> Option<Stale> {
        match self.o.model {
            ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv => {
                let latest = self.logs[call.slot()].latest;
                latest[0].is_some().then_some(Stale::Register(latest))
            }
            ModelKind::Set => {
                let i = self.set_log.iter().rposition(|&(_, done, _)| done < t)?;
                Some(Stale::SetPrefix(i, self.set_log[i].2))
            }
            ModelKind::Counter => {
                let (sum, last, index) = self.acked;
                (sum > 0).then(|| Stale::Value(Value::Int(sum - last), index))
            }
            _ => None,
        }
    }

    /// A certainly stale result for a read completing now, and the index
    /// of the operation that makes it stale.
    fn stale_result(&self, call: &Call, basis: &Stale) -> Option<(Value, u64)> {
        match basis {
            Stale::Register(latest) => {
                let (x, w) = self.logs[call.slot()].stale(latest)?;
                Some((x.map_or(Value::Nil, Value::Int), w))
            }
            Stale::Value(v, r) => Some((v.clone(), *r)),
            Stale::SetPrefix(n, r) => Some((
                Value::set(
                    self.set_log[..*n]
                        .iter()
                        .map(|&(x, _, _)| Value::Int(x))
                        .collect(),
                ),
                *r,
            )),
        }
    }

    fn linearize(&mut self, c: usize) {
        let process = self.slots[c].process;
        let cur = self.slots[c].current.as_ref().expect("op in flight");
        let (crash, effect) = (cur.crash, cur.effect);
        let result = if crash {
            if effect {
                let (call, index) = (cur.call.clone(), cur.index);
                let r = self.obj.apply(&call, process);
                self.track(&call, u64::MAX, index, &r);
                Some(r)
            } else {
                None
            }
        } else {
            let r = self.apply_faulty(c);
            let f = self.slots[c].current.as_ref().map(|cur| cur.call.f);
            if r == Res::Ok(Value::Nil) {
                match f {
                    Some(Func::Acquire) => self.slots[c].holds_lock = true,
                    Some(Func::Release) => self.slots[c].holds_lock = false,
                    _ => {}
                }
            }
            Some(r)
        };
        if let Some(cur) = self.slots[c].current.as_mut() {
            cur.result = result;
        }
    }

    /// Applies the current op of slot `c`, perhaps with a fault (stale
    /// reads are decided when the read completes).
    fn apply_faulty(&mut self, c: usize) -> Res {
        let cur = self.slots[c].current.as_ref().expect("op in flight");
        let call = cur.call.clone();
        let process = self.slots[c].process;
        let (invoke_t, index, done) = (cur.timing.invoke, cur.index, cur.timing.complete);
        let left = self.left();

        if call.is_read() {
            return self.obj.apply(&call, process);
        }
        // Lost writes: acknowledged, never applied.
        let would_succeed = match (&call.f, &call.arg) {
            (Func::Write | Func::Add | Func::Enqueue | Func::Txn, _) => true,
            (Func::Cas, Arg::Cas(old, _)) => self.obj.regs[call.slot()] == *old,
            _ => false,
        };
        if would_succeed && self.lost.enabled() && self.lost.roll(left) {
            self.lost.done();
            let r = match call.f {
                Func::Txn => self.obj.clone().apply(&call, process),
                Func::Cas => Res::Ok(call.invoke_value()),
                _ => match call.arg {
                    Arg::Int(v) => Res::Ok(Value::Int(v)),
                    _ => Res::Ok(Value::Nil),
                },
            };
            let what = call.invoke_value();
            self.record(
                FaultKind::LostWrite,
                c,
                None,
                format!("{} {what} acknowledged but never applied", call.f.name()),
            );
            return r;
        }

        // Duplicated effects: counter adds and enqueues applied twice.
        let dup_ok = matches!(
            (call.f, self.o.model),
            (Func::Add, ModelKind::Counter) | (Func::Enqueue, _)
        );
        if dup_ok && self.dup.enabled() && self.dup.roll(left) {
            self.dup.done();
            let r = self.obj.apply(&call, process);
            self.obj.apply(&call, process);
            let what = call.invoke_value();
            self.record(
                FaultKind::DuplicatedEffect,
                c,
                None,
                format!("{} {what} applied twice", call.f.name()),
            );
            self.track(&call, done, index, &r);
            return r;
        }

        // Reordered effects: this write lands before the previous one,
        // although that one completed before this one began.
        if self.reorder.enabled() {
            match (call.f, &call.arg, self.o.model) {
                (
                    Func::Write,
                    Arg::Int(v),
                    ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv,
                ) => {
                    let p = self.last[call.slot()].clone();
                    if p.index.is_some()
                        && p.complete < invoke_t
                        && p.value != Some(*v)
                        && self.reorder.roll(left)
                    {
                        self.reorder.done();
                        // The register ends holding the earlier value.
                        self.record(
                            FaultKind::ReorderedEffects,
                            c,
                            p.index,
                            format!(
                                "write {v} applied before the earlier write of {}",
                                p.value.map_or(Value::Nil, Value::Int)
                            ),
                        );
                        return Res::Ok(Value::Int(*v));
                    }
                }
                (Func::Enqueue, Arg::Int(v), ModelKind::FifoQueue) => {
                    if let Some((prev, done, prev_index)) = self.last_enqueue {
                        if done < invoke_t
                            && self.obj.queue.back() == Some(&prev)
                            && self.reorder.roll(left)
                        {
                            self.reorder.done();
                            let at = self.obj.queue.len() - 1;
                            self.obj.queue.insert(at, *v);
                            self.last_enqueue = Some((*v, done, index));
                            self.record(
                                FaultKind::ReorderedEffects,
                                c,
                                Some(prev_index),
                                format!("enqueue {v} placed ahead of the earlier enqueue {prev}"),
                            );
                            return Res::Ok(Value::Int(*v));
                        }
                    }
                }
                _ => {}
            }
        }

        let r = self.obj.apply(&call, process);
        self.track(&call, done, index, &r);
        if call.f == Func::Enqueue {
            if let Arg::Int(v) = call.arg {
                self.last_enqueue = Some((v, done, index));
            }
        }
        r
    }

    /// Keeps the bookkeeping that reordered effects and set stale reads
    /// need.
    fn track(&mut self, call: &Call, done: u64, index: u64, r: &Res) {
        if !matches!(r, Res::Ok(_)) {
            return;
        }
        match (self.o.model, call.f, &call.arg) {
            (
                ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv,
                Func::Write | Func::Cas,
                _,
            ) => {
                self.last[call.slot()] = Version {
                    value: self.obj.regs[call.slot()],
                    complete: done,
                    index: Some(index),
                };
            }
            (ModelKind::Set, Func::Add, Arg::Int(v)) if self.set_log.len() < self.obj.set.len() => {
                self.set_log.push((*v, done, index));
            }
            _ => {}
        }
    }

    fn complete(&mut self, c: usize, out: &mut Emitter) {
        let cur = self.slots[c].current.take().expect("op in flight");
        let process = self.slots[c].process;
        let t = cur.timing.complete;
        let mut result = cur.result.clone();
        let stale = self.slots[c].stale.take();
        if let Some(basis) = stale.as_ref().filter(|_| self.stale.enabled()) {
            if let Some((value, related)) = self.stale_result(&cur.call, basis) {
                if self.stale.roll(self.left()) {
                    self.stale.done();
                    let truth = match &result {
                        Some(Res::Ok(v)) => v.clone(),
                        _ => self.obj.read(&cur.call),
                    };
                    self.faults.push(FaultRecord {
                        kind: FaultKind::StaleRead,
                        index: cur.index,
                        process,
                        related: Some(related),
                        note: format!("read returned {value} while the object held {truth}"),
                    });
                    result = Some(Res::Ok(value));
                }
            }
        }
        let op = cur.completion(process, result);
        if let (OpType::Ok, ModelKind::Counter, Func::Add, Arg::Int(n)) =
            (op.op_type, self.o.model, cur.call.f, &cur.call.arg)
        {
            self.acked = (self.acked.0 + n, *n, cur.index);
        }
        let outcome = op.op_type;
        let at = out.emit(op, t);
        if let (Some(log), Some(x)) = (self.logs.get_mut(cur.call.slot()), sets(&cur.call)) {
            log.completed(x, cur.index, at, outcome, self.o.unique_values);
        }
        if cur.crash {
            self.slots[c].process += self.o.clients as i64;
            self.slots[c].holds_lock = false;
        }
        let next = t + think(&mut self.rng, &self.o).max(1);
        self.sched.at(next, Ev::Invoke(c));
    }
}
