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
//! A stale read is only injected when it is certainly observable: the
//! value returned was overwritten by a write that was invoked after the
//! value's own write completed, and that completed before the read began
//! (with unique values this makes the history non-linearizable).

use super::object::{Arg, Call, Func, Obj, Res};
use super::rng::Rng;
use super::{
    completion, invocation, think, ClientGen, Emitter, FaultKind, FaultRecord, GenError,
    GenOptions, Injector, Sched, Timing,
};
use crate::history::{OpType, Value};
use crate::model::ModelKind;
use std::collections::VecDeque;

/// How many past versions of each register are kept for stale reads.
const VERSIONS: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Invoke(usize),
    Lin(usize),
    Complete(usize),
}

/// One version of a register: its value and who wrote it.
#[derive(Clone, Debug)]
struct Version {
    value: Option<i64>,
    /// The writer's invocation time.
    invoke: u64,
    /// The writer's completion time; `u64::MAX` if it crashed.
    complete: u64,
    /// The writer's invocation index (`None` for the initial value).
    index: Option<u64>,
}

/// What a faulted read returns instead of the truth.
#[derive(Clone, Debug)]
enum Stale {
    Value(Value, Option<u64>),
    SetPrefix(usize, u64),
}

#[derive(Debug)]
struct Current {
    call: Call,
    timing: Timing,
    index: u64,
    crash: bool,
    effect: bool,
    result: Option<Res>,
    stale: Option<Stale>,
}

#[derive(Debug)]
struct Slot {
    process: i64,
    holds_lock: bool,
    current: Option<Current>,
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
    /// Register versions per key (register, cas-register, kv).
    versions: Vec<VecDeque<Version>>,
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
        let slots = (0..o.clients)
            .map(|c| {
                sched.at(think(&mut rng, o), Ev::Invoke(c));
                Slot {
                    process: c as i64,
                    holds_lock: false,
                    current: None,
                }
            })
            .collect();
        let initial = Version {
            value: None,
            invoke: 0,
            complete: 0,
            index: None,
        };
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
            versions: vec![VecDeque::from([initial]); keys],
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
        let timing = Timing::sample(&mut self.rng, &self.o, t);
        let crash = self.rng.chance(self.o.crash_rate);
        let effect = crash && self.rng.chance(self.o.crash_effect);
        let process = self.slots[c].process;
        let index = out.emit(invocation(&call, process), t);
        let stale = if call.f == Func::Read && !crash && self.stale.enabled() {
            self.stale_candidate(&call, t)
        } else {
            None
        };
        self.sched.at(timing.lin, Ev::Lin(c));
        self.sched.at(timing.complete, Ev::Complete(c));
        self.slots[c].current = Some(Current {
            call,
            timing,
            index,
            crash,
            effect,
            result: None,
            stale,
        });
    }

    /// A certainly stale result for a read invoked at `t`, if one exists.
    fn stale_candidate(&self, call: &Call, t: u64) -> Option<Stale> {
        match self.o.model {
            ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv => {
                let vs = &self.versions[call.slot()];
                // Walking from newest to oldest: the latest invocation among
                // later versions whose writers completed before `t`.
                let mut best: Option<(u64, Option<u64>)> = None;
                for (i, v) in vs.iter().enumerate().rev() {
                    if let Some((m, related)) = best {
                        let unique_after = vs.iter().skip(i + 1).all(|w| w.value != v.value);
                        if v.complete < m && unique_after {
                            return Some(Stale::Value(
                                v.value.map_or(Value::Nil, Value::Int),
                                related,
                            ));
                        }
                    }
                    if v.complete < t && best.is_none_or(|(m, _)| v.invoke > m) {
                        best = Some((v.invoke, v.index));
                    }
                }
                None
            }
            ModelKind::Set => {
                let i = self.set_log.iter().rposition(|&(_, done, _)| done < t)?;
                Some(Stale::SetPrefix(i, self.set_log[i].2))
            }
            ModelKind::Counter => {
                let (sum, last, index) = self.acked;
                (sum > 0).then(|| Stale::Value(Value::Int(sum - last), Some(index)))
            }
            _ => None,
        }
    }

    fn linearize(&mut self, c: usize) {
        let process = self.slots[c].process;
        let cur = self.slots[c].current.as_ref().expect("op in flight");
        let (crash, effect) = (cur.crash, cur.effect);
        let result = if crash {
            if effect {
                let (call, invoke, index) = (cur.call.clone(), cur.timing.invoke, cur.index);
                let r = self.obj.apply(&call, process);
                self.track(&call, invoke, u64::MAX, index, &r);
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

    /// Applies the current op of slot `c`, perhaps with a fault.
    fn apply_faulty(&mut self, c: usize) -> Res {
        let cur = self.slots[c].current.as_ref().expect("op in flight");
        let call = cur.call.clone();
        let process = self.slots[c].process;
        let (invoke_t, index, done) = (cur.timing.invoke, cur.index, cur.timing.complete);
        let left = self.left();

        if call.is_read() {
            if let Some(stale) = cur.stale.clone() {
                if self.stale.roll(left) {
                    self.stale.done();
                    let (value, related) = match stale {
                        Stale::Value(v, r) => (v, r),
                        Stale::SetPrefix(n, r) => (
                            Value::set(
                                self.set_log[..n]
                                    .iter()
                                    .map(|&(x, _, _)| Value::Int(x))
                                    .collect(),
                            ),
                            Some(r),
                        ),
                    };
                    let truth = self.obj.read(&call);
                    self.record(
                        FaultKind::StaleRead,
                        c,
                        related,
                        format!("read returned {value} while the object held {truth}"),
                    );
                    return Res::Ok(value);
                }
            }
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
            self.track(&call, invoke_t, done, index, &r);
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
                    let prev = self.versions[call.slot()].back().cloned();
                    if let Some(p) = prev {
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
        self.track(&call, invoke_t, done, index, &r);
        if call.f == Func::Enqueue {
            if let Arg::Int(v) = call.arg {
                self.last_enqueue = Some((v, done, index));
            }
        }
        r
    }

    /// Keeps the bookkeeping that stale reads need.
    fn track(&mut self, call: &Call, invoke: u64, done: u64, index: u64, r: &Res) {
        if !matches!(r, Res::Ok(_)) {
            return;
        }
        match (self.o.model, call.f, &call.arg) {
            (
                ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv,
                Func::Write | Func::Cas,
                _,
            ) => {
                let vs = &mut self.versions[call.slot()];
                vs.push_back(Version {
                    value: self.obj.regs[call.slot()],
                    invoke,
                    complete: done,
                    index: Some(index),
                });
                if vs.len() > VERSIONS {
                    vs.pop_front();
                }
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
        let op = if cur.crash {
            completion(&cur.call, process, OpType::Info, cur.call.invoke_value())
        } else {
            match cur.result.clone().expect("linearized before completing") {
                Res::Ok(v) => {
                    if let (ModelKind::Counter, Func::Add, Arg::Int(n)) =
                        (self.o.model, cur.call.f, &cur.call.arg)
                    {
                        self.acked = (self.acked.0 + n, *n, cur.index);
                    }
                    completion(&cur.call, process, OpType::Ok, v)
                }
                Res::Fail => completion(&cur.call, process, OpType::Fail, cur.call.invoke_value()),
            }
        };
        out.emit(op, t);
        if cur.crash {
            self.slots[c].process += self.o.clients as i64;
            self.slots[c].holds_lock = false;
        }
        let next = t + think(&mut self.rng, &self.o).max(1);
        self.sched.at(next, Ev::Invoke(c));
    }
}
