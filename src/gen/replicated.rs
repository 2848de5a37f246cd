//! Replicated mode: eventually consistent replicas, for convergence
//! checking.
//!
//! `replicas` nodes, named `n1`, `n2`, ... Client `c` talks to node
//! `c % replicas` (kept across crashes), and every client op records that
//! node in its `node` field. An update is applied at the client's node at
//! a point inside the op, acknowledged, and sent to every other node,
//! arriving after a random delay (uniform in `[0, 2 * replication_delay]`).
//! Reads return the local node's state.
//!
//! - register and kv: last-write-wins. An update is stamped with its
//!   node's clock (real time plus a fixed per-node skew, uniform in
//!   `[-clock_skew, clock_skew]`) and the node's number; the highest stamp
//!   wins everywhere, so a later write can lose to an earlier one from a
//!   node whose clock runs ahead: allowed by eventual consistency.
//! - set: adds are unioned; a read returns the whole local set.
//! - counter: adds are applied once on every node; a read returns the
//!   local count.
//!
//! Partitions: `partitions` windows of `partition_length`, spread over
//! the run, each splitting the nodes in two at random. Messages sent
//! across the split while it lasts are held (merged per link) and sent when
//! it heals. Each window is a pair of nemesis ops, each an `info`/`info`
//! pair as Jepsen records them: `{:process :nemesis, :type :info, :f
//! :start-partition}` (the second one's value lists the two sides, as
//! vectors of node names) and `:stop-partition` (value `:network-healed`).
//! Windows that would start after the clients are done are skipped.
//!
//! Final reads: after the clients are done, every partition has healed and
//! every message has arrived, and a further `settle` gap, each node is read
//! once (per key, for kv) by a fresh process: ordinary `read` ops with
//! `node` set and an extra `final true` field, all concurrent, the last
//! ops of the history. (Client reads made shortly after a key's last
//! update may still see replication in flight; a checker that takes every
//! read after the last update as final needs a settle time of about the
//! replication delay, or should go by the `final` marker.) Without faults
//! they agree (**convergence by construction**), and every acknowledged
//! update is reflected in them (for LWW, possibly overwritten).
//!
//! Fault knob: [`Faults::dropped_writes`](super::Faults): an acknowledged
//! write or add is never applied anywhere.

use super::object::{Arg, Call, Func};
use super::rng::Rng;
use super::{
    completion, invocation, think, ClientGen, Emitter, FaultKind, FaultRecord, GenError,
    GenOptions, Injector, Sched, Timing,
};
use crate::history::{Op, OpType, Process, Value};
use crate::model::ModelKind;
use std::collections::{BTreeSet, HashMap};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Invoke(usize),
    Lin(usize),
    Complete(usize),
    Deliver(usize),
    Start(usize),
    Stop(usize),
}

/// A last-write-wins stamp: clock, then node.
type Stamp = (i64, u32);

/// A replication message.
#[derive(Clone, Debug)]
enum Msg {
    Reg {
        key: usize,
        stamp: Stamp,
        value: i64,
    },
    Add(i64),
}

/// One node's state.
#[derive(Clone, Debug)]
struct Node {
    regs: Vec<(Stamp, Option<i64>)>,
    set: BTreeSet<i64>,
    counter: i64,
}

impl Node {
    fn merge(&mut self, model: ModelKind, msg: &Msg) {
        match msg {
            Msg::Reg { key, stamp, value } => {
                let slot = &mut self.regs[*key];
                if *stamp > slot.0 {
                    *slot = (*stamp, Some(*value));
                }
            }
            Msg::Add(x) => {
                if model == ModelKind::Set {
                    self.set.insert(*x);
                } else {
                    self.counter += x;
                }
            }
        }
    }

    fn read(&self, model: ModelKind, key: usize) -> Value {
        match model {
            ModelKind::Set => Value::Set(self.set.iter().map(|&x| Value::Int(x)).collect()),
            ModelKind::Counter => Value::Int(self.counter),
            _ => self.regs[key].1.map_or(Value::Nil, Value::Int),
        }
    }
}

/// Messages held on one link while a partition lasts, merged.
#[derive(Default, Debug)]
struct Held {
    regs: HashMap<usize, (Stamp, i64)>,
    adds: Vec<i64>,
    sum: i64,
}

struct Window {
    /// `side[n]` is node n's side of the split.
    side: Vec<bool>,
    started: bool,
}

struct Current {
    call: Call,
    index: u64,
    crash: bool,
    effect: bool,
    result: Option<Value>,
}

struct Slot {
    process: i64,
    node: usize,
    current: Option<Current>,
}

/// The replicated simulation.
pub struct ReplicatedSim {
    o: GenOptions,
    gen: ClientGen,
    rng: Rng,
    sched: Sched<Ev>,
    nodes: Vec<Node>,
    skew: Vec<i64>,
    slots: Vec<Slot>,
    issued: usize,
    busy: usize,
    faults: Vec<FaultRecord>,
    dropped: Injector,
    /// In-flight messages: destination and content; freed slots reused.
    msgs: Vec<Option<(usize, Msg)>>,
    free: Vec<usize>,
    held: Vec<Held>,
    windows: Vec<Window>,
    active: Option<usize>,
    last_time: u64,
    finished: bool,
}

fn node_name(n: usize) -> Value {
    Value::Str(format!("n{}", n + 1).into())
}

impl ReplicatedSim {
    /// Sets up nodes, clients and the partition schedule.
    pub fn new(o: &GenOptions) -> Result<ReplicatedSim, GenError> {
        let gen = ClientGen::new(o)?;
        let keys = gen.keys();
        let n = o.replicas;
        let mut rng = Rng::new(o.seed, 4);
        let mut sched = Sched::new();
        sched.first_invocations(&mut rng, o, Ev::Invoke);
        let slots = (0..o.clients)
            .map(|c| Slot {
                process: c as i64,
                node: c % n,
                current: None,
            })
            .collect();
        let skew = (0..n)
            .map(|_| rng.below(2 * o.clock_skew + 1) as i64 - o.clock_skew as i64)
            .collect();
        // Spread the windows over the run's expected length.
        let per_client = o.ops.div_ceil(o.clients) as u64;
        let expected = per_client * (o.latency_mean + o.think);
        let mut windows = Vec::new();
        if n >= 2 {
            let mut earliest = 0;
            for w in 0..o.partitions as u64 {
                let mid = expected * (w + 1) / (o.partitions as u64 + 1);
                let start = mid.saturating_sub(o.partition_length / 2).max(earliest);
                let stop = start + o.partition_length.max(1);
                earliest = stop + 2;
                let mut side = vec![false; n];
                let mut order: Vec<usize> = (0..n).collect();
                for i in (1..n).rev() {
                    order.swap(i, rng.below(i as u64 + 1) as usize);
                }
                let cut = 1 + rng.below(n as u64 - 1) as usize;
                for &m in &order[..cut] {
                    side[m] = true;
                }
                sched.at(start, Ev::Start(windows.len()));
                sched.at(stop, Ev::Stop(windows.len()));
                windows.push(Window {
                    side,
                    started: false,
                });
            }
        }
        let node = Node {
            regs: vec![((i64::MIN, 0), None); keys],
            set: BTreeSet::new(),
            counter: 0,
        };
        Ok(ReplicatedSim {
            gen,
            rng,
            sched,
            nodes: vec![node; n],
            skew,
            slots,
            issued: 0,
            busy: 0,
            faults: Vec::new(),
            dropped: Injector::new(o.faults.dropped_writes, o.seed, 30),
            msgs: Vec::new(),
            free: Vec::new(),
            held: (0..n * n).map(|_| Held::default()).collect(),
            windows,
            active: None,
            last_time: 0,
            finished: false,
            o: o.clone(),
        })
    }

    /// The faults injected so far.
    pub fn faults(&self) -> &[FaultRecord] {
        &self.faults
    }

    /// Processes one event; `false` when the run is over.
    pub(crate) fn step(&mut self, out: &mut Emitter) -> bool {
        let Some((t, ev)) = self.sched.pop() else {
            if self.finished {
                return false;
            }
            self.final_reads(out);
            self.finished = true;
            return true;
        };
        self.last_time = self.last_time.max(t);
        match ev {
            Ev::Invoke(c) => self.invoke(c, t, out),
            Ev::Lin(c) => self.linearize(c, t),
            Ev::Complete(c) => self.complete(c, t, out),
            Ev::Deliver(m) => {
                if let Some((to, msg)) = self.msgs[m].take() {
                    self.nodes[to].merge(self.o.model, &msg);
                    self.free.push(m);
                }
            }
            Ev::Start(w) => self.start(w, t, out),
            Ev::Stop(w) => self.stop(w, t, out),
        }
        true
    }

    fn clients_done(&self) -> bool {
        self.issued >= self.o.ops && self.busy == 0
    }

    fn nemesis(&self, f: &str, value: Value) -> Op {
        let mut op = Op::new(OpType::Info, 0, f, value);
        op.process = Process::Named("nemesis".into());
        op
    }

    fn start(&mut self, w: usize, t: u64, out: &mut Emitter) {
        if self.clients_done() {
            return;
        }
        self.windows[w].started = true;
        self.active = Some(w);
        let sides = |want: bool| {
            Value::Vector(
                (0..self.nodes.len())
                    .filter(|&n| self.windows[w].side[n] == want)
                    .map(node_name)
                    .collect(),
            )
        };
        let value = Value::Vector(vec![sides(true), sides(false)]);
        out.emit(self.nemesis("start-partition", Value::Nil), t);
        out.emit(self.nemesis("start-partition", value), t);
    }

    fn stop(&mut self, w: usize, t: u64, out: &mut Emitter) {
        if !self.windows[w].started {
            return;
        }
        self.active = None;
        out.emit(self.nemesis("stop-partition", Value::Nil), t);
        out.emit(
            self.nemesis("stop-partition", Value::Keyword("network-healed".into())),
            t,
        );
        // Release what the partition held back.
        let n = self.nodes.len();
        for link in 0..n * n {
            let held = std::mem::take(&mut self.held[link]);
            let to = link % n;
            let mut keys: Vec<_> = held.regs.into_iter().collect();
            keys.sort_unstable_by_key(|&(k, _)| k);
            for (key, (stamp, value)) in keys {
                self.send_now(to, Msg::Reg { key, stamp, value }, t);
            }
            for x in held.adds {
                self.send_now(to, Msg::Add(x), t);
            }
            if held.sum != 0 {
                self.send_now(to, Msg::Add(held.sum), t);
            }
        }
    }

    fn blocked(&self, from: usize, to: usize) -> bool {
        self.active.is_some_and(|w| {
            let s = &self.windows[w].side;
            s[from] != s[to]
        })
    }

    fn send_now(&mut self, to: usize, msg: Msg, t: u64) {
        let delay = self.rng.below(2 * self.o.replication_delay + 1);
        let id = match self.free.pop() {
            Some(id) => {
                self.msgs[id] = Some((to, msg));
                id
            }
            None => {
                self.msgs.push(Some((to, msg)));
                self.msgs.len() - 1
            }
        };
        self.sched.at(t + delay, Ev::Deliver(id));
    }

    fn broadcast(&mut self, from: usize, msg: Msg, t: u64) {
        let n = self.nodes.len();
        for to in 0..n {
            if to == from {
                continue;
            }
            if self.blocked(from, to) {
                let held = &mut self.held[from * n + to];
                match &msg {
                    Msg::Reg { key, stamp, value } => {
                        let e = held.regs.entry(*key).or_insert((*stamp, *value));
                        if *stamp > e.0 {
                            *e = (*stamp, *value);
                        }
                    }
                    Msg::Add(x) if self.o.model == ModelKind::Set => held.adds.push(*x),
                    Msg::Add(x) => held.sum += x,
                }
            } else {
                self.send_now(to, msg.clone(), t);
            }
        }
    }

    fn invoke(&mut self, c: usize, t: u64, out: &mut Emitter) {
        if self.issued >= self.o.ops {
            return;
        }
        self.issued += 1;
        self.busy += 1;
        let call = self.gen.next_call(|_| None, false);
        let timing = Timing::sample(&mut self.rng, &self.o, t);
        let crash = self.rng.chance(self.o.crash_rate);
        let effect = crash && self.rng.chance(self.o.crash_effect);
        let mut op = invocation(&call, self.slots[c].process);
        op.set_node(node_name(self.slots[c].node));
        let index = out.emit(op, t);
        self.sched.at(timing.lin, Ev::Lin(c));
        self.sched.at(timing.complete, Ev::Complete(c));
        self.slots[c].current = Some(Current {
            call,
            index,
            crash,
            effect,
            result: None,
        });
    }

    fn linearize(&mut self, c: usize, t: u64) {
        let node = self.slots[c].node;
        let cur = self.slots[c].current.take().expect("op in flight");
        let key = cur.call.slot();
        let result = if cur.call.is_read() {
            Some(self.nodes[node].read(self.o.model, key))
        } else {
            let msg = match (cur.call.f, &cur.call.arg) {
                (Func::Write, Arg::Int(v)) => Some(Msg::Reg {
                    key,
                    stamp: (t as i64 + self.skew[node], node as u32),
                    value: *v,
                }),
                (Func::Add, Arg::Int(v)) => Some(Msg::Add(*v)),
                _ => None,
            };
            let left = (self.o.ops - self.issued + self.o.clients) as u64;
            let apply = if cur.crash {
                cur.effect
            } else if self.dropped.enabled() && self.dropped.roll(left) {
                self.dropped.done();
                self.faults.push(FaultRecord {
                    kind: FaultKind::DroppedWrite,
                    index: cur.index,
                    process: self.slots[c].process,
                    related: None,
                    note: format!(
                        "{} {} acknowledged by {} but never applied",
                        cur.call.f.name(),
                        cur.call.invoke_value(),
                        node_name(node)
                    ),
                });
                false
            } else {
                true
            };
            if let (true, Some(msg)) = (apply, msg) {
                self.nodes[node].merge(self.o.model, &msg);
                self.broadcast(node, msg, t);
            }
            Some(cur.call.invoke_value())
        };
        self.slots[c].current = Some(Current { result, ..cur });
    }

    fn complete(&mut self, c: usize, t: u64, out: &mut Emitter) {
        let cur = self.slots[c].current.take().expect("op in flight");
        let process = self.slots[c].process;
        let mut op = if cur.crash {
            completion(&cur.call, process, OpType::Info, cur.call.invoke_value())
        } else {
            let v = cur.result.clone().expect("applied before completing");
            completion(&cur.call, process, OpType::Ok, v)
        };
        op.set_node(node_name(self.slots[c].node));
        out.emit(op, t);
        self.busy -= 1;
        if cur.crash {
            self.slots[c].process += self.o.clients as i64;
        }
        let next = t + think(&mut self.rng, &self.o).max(1);
        self.sched.at(next, Ev::Invoke(c));
    }

    /// Reads every node (every key of every node, for kv) once, after
    /// quiescence.
    fn final_reads(&mut self, out: &mut Emitter) {
        let t = self.last_time + self.o.settle.max(1);
        let keys = if self.o.model == ModelKind::Kv {
            self.gen.keys()
        } else {
            1
        };
        let mut process = self.slots.iter().map(|s| s.process).max().unwrap_or(0) + 1;
        let mut reads = Vec::new();
        for n in 0..self.nodes.len() {
            for k in 0..keys {
                let call = Call {
                    f: Func::Read,
                    key: (self.o.model == ModelKind::Kv).then_some(k as i64),
                    arg: Arg::None,
                    pick: 0,
                };
                let mut op = invocation(&call, process);
                op.set_node(node_name(n));
                op.push_extra("final".into(), Value::Bool(true));
                out.emit(op, t);
                reads.push((call, process, n, k));
                process += 1;
            }
        }
        let done = t + self.o.latency_mean.max(1);
        for (call, process, n, k) in reads {
            let v = self.nodes[n].read(self.o.model, k);
            let mut op = completion(&call, process, OpType::Ok, v);
            op.set_node(node_name(n));
            op.push_extra("final".into(), Value::Bool(true));
            out.emit(op, done);
        }
    }
}
