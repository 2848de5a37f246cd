//! Sequentially consistent mode: a leader and lagging replicas.
//!
//! Every update (any op that may change the state: write, cas, add,
//! enqueue, dequeue, acquire, release, a txn with a write) goes to a leader,
//! which applies it to the one true state at a point inside the op and
//! appends it to a log: this fixes one global order of updates and their
//! results. Each replica applies the log in that order, every entry after
//! its own random delay (uniform in `[0, 2 * replication_delay]`), so
//! replicas lag. Each client is attached to one replica (client `c` to
//! replica `c % replicas`, kept across crashes); its reads (`read`, and a
//! txn of reads only) return that replica's state at a point inside the
//! read; its updates are acknowledged only once its own replica has
//! applied them.
//!
//! Why this is **sequentially consistent by construction**: place every
//! update at its log position and every read right after the log prefix
//! its replica had applied. A client's reads see growing prefixes (its
//! replica only moves forward); its acknowledged updates are in the prefix
//! of its later reads (the ack waits for the replica); an update issued
//! after a read gets a log position beyond that read's prefix (the leader
//! is never behind a replica). So each process's program order is kept,
//! and every result is the one the log order gives. Real time is not
//! respected: a read may miss an update that completed long before it
//! began on another replica, which is what makes these histories
//! non-linearizable.
//!
//! Fault knob: [`Faults::read_behind_own_write`](super::Faults) makes a
//! read return a state from before the client's own acknowledged update:
//! for registers (register, cas-register, kv) the value of the client's
//! previous write to that key, which its latest write overwrote; for sets,
//! the set without the client's latest added element. With unique values
//! this is never sequentially consistent. With repeated values it might
//! be (another client's write of the same value may come between), so
//! then a register fault is planned ahead: one write of the client gets a
//! *marker*, a value no other op writes, and once the client has written
//! the key again, its next read of the key returns the marker. The
//! marker's only write comes before the client's later write, which comes
//! before the read, in the client's own order: no order lets the read see
//! it, so the fault is never sequentially consistent either.

use super::object::{Arg, Call, Func, Obj, Res};
use super::rng::Rng;
use super::{
    think, ClientGen, Emitter, FaultKind, FaultRecord, GenError, GenOptions, InFlight, Injector,
    Sched,
};
use crate::history::{OpType, Value};
use crate::model::ModelKind;
use std::collections::{HashMap, VecDeque};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Invoke(usize),
    Lin(usize),
    Complete(usize),
}

/// A replica: its state, and the log entries it will apply, with when.
struct Replica {
    obj: Obj,
    pending: VecDeque<(u64, u64)>,
    applied: u64,
    last: u64,
}

/// An acknowledged update by a client: key, value written (registers) or
/// element added (sets), log position, invocation index.
#[derive(Clone, Copy, Debug)]
struct Own {
    key: usize,
    value: i64,
    seq: u64,
    index: u64,
}

struct Slot {
    process: i64,
    replica: usize,
    holds_lock: bool,
    current: Option<InFlight>,
    /// Its latest acknowledged updates, newest last.
    own: VecDeque<Own>,
    /// Log position of its latest update in flight.
    pending_seq: u64,
    /// Its planned fault, with repeated values.
    marker: Option<Marker>,
}

/// A value written once, by one client, to be read back by it after its
/// next write of the key (the fault with repeated values).
#[derive(Clone, Copy, Debug)]
struct Marker {
    key: usize,
    value: i64,
    /// Its write was acknowledged.
    acked: bool,
    /// The invocation index of the client's acknowledged write of the key
    /// after it.
    overwritten: Option<u64>,
}

/// The sequentially consistent simulation.
pub struct ScSim {
    o: GenOptions,
    gen: ClientGen,
    rng: Rng,
    sched: Sched<Ev>,
    leader: Obj,
    /// Log entries not yet applied everywhere; `base` is the first one's
    /// position (positions count from 1).
    log: VecDeque<(Call, i64)>,
    base: u64,
    replicas: Vec<Replica>,
    slots: Vec<Slot>,
    issued: usize,
    faults: Vec<FaultRecord>,
    behind: Injector,
    /// Set elements: the log position that first added each.
    first_added: HashMap<i64, u64>,
    /// Markers handed out so far; one may be planned at a time.
    markers: i64,
    planned: bool,
    /// When recording the witness: per op that took effect, where the
    /// construction places it (log position, 0 for an update or 1 for a
    /// read, time) and its invocation's index.
    witness: Option<Vec<(u64, u8, u64, u64)>>,
}

impl ScSim {
    /// Sets up the leader, replicas and clients.
    pub fn new(o: &GenOptions) -> Result<ScSim, GenError> {
        let gen = ClientGen::new(o)?;
        let keys = gen.keys();
        let mut rng = Rng::new(o.seed, 3);
        let mut sched = Sched::new();
        sched.first_invocations(&mut rng, o, Ev::Invoke);
        let slots = (0..o.clients)
            .map(|c| Slot {
                process: c as i64,
                replica: c % o.replicas,
                holds_lock: false,
                current: None,
                own: VecDeque::new(),
                pending_seq: 0,
                marker: None,
            })
            .collect();
        let replicas = (0..o.replicas)
            .map(|_| Replica {
                obj: Obj::new(o.model, keys),
                pending: VecDeque::new(),
                applied: 0,
                last: 0,
            })
            .collect();
        Ok(ScSim {
            gen,
            rng,
            sched,
            leader: Obj::new(o.model, keys),
            log: VecDeque::new(),
            base: 1,
            replicas,
            slots,
            issued: 0,
            faults: Vec::new(),
            behind: Injector::new(o.faults.read_behind_own_write, o.seed, 20),
            first_added: HashMap::new(),
            markers: 0,
            planned: false,
            witness: None,
            o: o.clone(),
        })
    }

    /// Are register faults planned with markers (repeated values)?
    fn plans_markers(&self) -> bool {
        self.behind.enabled()
            && !self.o.unique_values
            && matches!(
                self.o.model,
                ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv
            )
    }

    /// The faults injected so far.
    pub fn faults(&self) -> &[FaultRecord] {
        &self.faults
    }

    /// Records the witness from now on (see [`ScSim::witness`]).
    pub fn record_witness(&mut self) {
        self.witness.get_or_insert_with(Vec::new);
    }

    /// The order the construction proves sequentially consistent (see the
    /// module docs), as the invocation indices of the ops that took
    /// effect: every update at its log position, every read right after
    /// the log prefix its replica had applied (reads of one prefix in
    /// time order, which keeps each process's order). Crashed ops that
    /// took effect are in it, failed ones are not. `None` unless recorded
    /// from the start, or once a fault was injected.
    pub fn witness(&self) -> Option<Vec<u64>> {
        if !self.faults.is_empty() {
            return None;
        }
        let mut w = self.witness.clone()?;
        w.sort_unstable();
        Some(w.into_iter().map(|(_, _, _, index)| index).collect())
    }

    /// Processes one event; `false` when the run is over.
    pub(crate) fn step(&mut self, out: &mut Emitter) -> bool {
        let Some((t, ev)) = self.sched.pop() else {
            return false;
        };
        match ev {
            Ev::Invoke(c) => self.invoke(c, t, out),
            Ev::Lin(c) => self.linearize(c, t),
            Ev::Complete(c) => self.complete(c, t, out),
        }
        true
    }

    fn invoke(&mut self, c: usize, t: u64, out: &mut Emitter) {
        if self.issued >= self.o.ops {
            return;
        }
        self.issued += 1;
        let r = self.slots[c].replica;
        self.advance(r, t);
        // A client's cas expects what its own replica shows.
        let view = &self.replicas[r].obj;
        let mut call = self
            .gen
            .next_call(|k| view.regs[k], self.slots[c].holds_lock);
        if self.plans_markers()
            && !self.planned
            && call.f == Func::Write
            && matches!(call.arg, Arg::Int(_))
        {
            let left = (self.o.ops - self.issued + self.o.clients) as u64;
            if self.behind.roll(left) {
                // Regular values are 0..values: the marker is none of them.
                let value = self.o.values as i64 + self.markers;
                self.markers += 1;
                self.planned = true;
                call.arg = Arg::Int(value);
                self.slots[c].marker = Some(Marker {
                    key: call.slot(),
                    value,
                    acked: false,
                    overwritten: None,
                });
            }
        }
        let process = self.slots[c].process;
        let cur = InFlight::invoke(call, process, t, &mut self.rng, &self.o, out);
        self.sched.at(cur.timing.lin, Ev::Lin(c));
        self.slots[c].current = Some(cur);
    }

    /// Applies every log entry replica `r` receives by time `t`.
    fn advance(&mut self, r: usize, t: u64) {
        let rep = &mut self.replicas[r];
        while let Some(&(at, seq)) = rep.pending.front() {
            if at > t {
                break;
            }
            rep.pending.pop_front();
            let (call, process) = &self.log[(seq - self.base) as usize];
            rep.obj.apply(call, *process);
            rep.applied = seq;
        }
    }

    /// Appends an update to the log; returns its position and when the
    /// replica `r` applies it.
    fn append(&mut self, call: Call, process: i64, t: u64, r: usize) -> (u64, u64) {
        let seq = self.base + self.log.len() as u64;
        self.log.push_back((call, process));
        let mut own_at = t;
        for (i, rep) in self.replicas.iter_mut().enumerate() {
            let delay = self.rng.below(2 * self.o.replication_delay + 1);
            let at = (t + delay).max(rep.last);
            rep.last = at;
            rep.pending.push_back((at, seq));
            if i == r {
                own_at = at;
            }
        }
        if self.log.len() % 1024 == 0 {
            self.trim(t);
        }
        (seq, own_at)
    }

    /// Drops log entries every replica has applied.
    fn trim(&mut self, t: u64) {
        for r in 0..self.replicas.len() {
            self.advance(r, t);
        }
        let done = self.replicas.iter().map(|r| r.applied).min().unwrap_or(0);
        while self.base <= done {
            self.log.pop_front();
            self.base += 1;
        }
    }

    fn linearize(&mut self, c: usize, t: u64) {
        let process = self.slots[c].process;
        let r = self.slots[c].replica;
        let cur = self.slots[c].current.take().expect("op in flight");
        let mut complete_at = cur.timing.complete;
        let result = if cur.call.is_read() {
            self.advance(r, t);
            if cur.crash {
                None
            } else {
                if let Some(w) = &mut self.witness {
                    w.push((self.replicas[r].applied, 1, t, cur.index));
                }
                Some(self.read(c, &cur))
            }
        } else if cur.crash && !cur.effect {
            None
        } else {
            let r_leader = self.leader.apply(&cur.call, process);
            if let Res::Ok(_) = r_leader {
                let (seq, own_at) = self.append(cur.call.clone(), process, t, r);
                if let Some(w) = &mut self.witness {
                    w.push((seq, 0, t, cur.index));
                }
                if let (ModelKind::Set, Arg::Int(x)) = (self.o.model, &cur.call.arg) {
                    self.first_added.entry(*x).or_insert(seq);
                }
                self.slots[c].pending_seq = seq;
                if !cur.crash {
                    // The ack waits for the client's own replica.
                    complete_at = complete_at.max(own_at + 1);
                }
            }
            if r_leader == Res::Fail && !cur.crash {
                // A failure observes the leader's state: the ack waits
                // until the client's replica has caught up with it, so
                // the client's next reads come after it.
                complete_at = complete_at.max(self.replicas[r].last + 1);
            }
            if !cur.crash && r_leader == Res::Ok(Value::Nil) {
                match cur.call.f {
                    Func::Acquire => self.slots[c].holds_lock = true,
                    Func::Release => self.slots[c].holds_lock = false,
                    _ => {}
                }
            }
            Some(r_leader)
        };
        self.sched.at(complete_at, Ev::Complete(c));
        self.slots[c].current = Some(InFlight { result, ..cur });
    }

    /// A read on the client's replica, perhaps served from behind its own
    /// writes.
    fn read(&mut self, c: usize, cur: &InFlight) -> Res {
        let r = self.slots[c].replica;
        let truth = self.replicas[r].obj.apply(&cur.call, self.slots[c].process);
        if !self.behind.enabled() {
            return truth;
        }
        if self.plans_markers() {
            let slot = &self.slots[c];
            let Some(m) = slot.marker.filter(|m| m.key == cur.call.slot()) else {
                return truth;
            };
            let Some(over) = m.overwritten else {
                return truth;
            };
            self.behind.done();
            self.planned = false;
            self.slots[c].marker = None;
            self.faults.push(FaultRecord {
                kind: FaultKind::ReadBehindOwnWrite,
                index: cur.index,
                process: self.slots[c].process,
                related: Some(over),
                note: format!(
                    "read {} from a replica behind the client's own write",
                    m.value
                ),
            });
            return Res::Ok(Value::Int(m.value));
        }
        let left = (self.o.ops - self.issued + self.o.clients) as u64;
        let slot = &self.slots[c];
        let candidate = match self.o.model {
            ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv => {
                let key = cur.call.slot();
                let mut mine = slot.own.iter().rev().filter(|w| w.key == key);
                match (mine.next(), mine.next()) {
                    (Some(b), Some(a)) if a.value != b.value => {
                        Some((Value::Int(a.value), b.index, a.value.to_string()))
                    }
                    _ => None,
                }
            }
            ModelKind::Set => slot.own.back().and_then(|e| {
                (self.first_added.get(&e.value) == Some(&e.seq)).then(|| {
                    let items = self.replicas[r]
                        .obj
                        .set
                        .iter()
                        .filter(|x| self.first_added.get(x).is_some_and(|&s| s < e.seq))
                        .map(|&x| Value::Int(x))
                        .collect();
                    (Value::Set(items), e.index, format!("without {}", e.value))
                })
            }),
            _ => None,
        };
        let Some((value, related, what)) = candidate else {
            return truth;
        };
        if !self.behind.roll(left) {
            return truth;
        }
        self.behind.done();
        self.faults.push(FaultRecord {
            kind: FaultKind::ReadBehindOwnWrite,
            index: cur.index,
            process: self.slots[c].process,
            related: Some(related),
            note: format!("read {what} from a replica behind the client's own write"),
        });
        Res::Ok(value)
    }

    /// Remembers an acknowledged update of client `c`'s, for the reads
    /// that must see it, and follows its planned marker.
    fn remember_own(&mut self, c: usize, cur: &InFlight) {
        let own = match (self.o.model, cur.call.f, &cur.call.arg) {
            (_, Func::Write, Arg::Int(x)) => Some((cur.call.slot(), *x)),
            (_, Func::Cas, Arg::Cas(_, x)) => Some((cur.call.slot(), *x)),
            (ModelKind::Set, Func::Add, Arg::Int(x)) => Some((0, *x)),
            _ => None,
        };
        let Some((key, value)) = own else {
            return;
        };
        let s = &mut self.slots[c];
        if let Some(m) = s.marker.as_mut().filter(|m| m.key == key) {
            if !m.acked && value == m.value {
                m.acked = true;
            } else if m.acked && m.overwritten.is_none() {
                m.overwritten = Some(cur.index);
            }
        }
        s.own.push_back(Own {
            key,
            value,
            seq: s.pending_seq,
            index: cur.index,
        });
        if s.own.len() > 16 {
            s.own.pop_front();
        }
    }

    fn complete(&mut self, c: usize, t: u64, out: &mut Emitter) {
        let cur = self.slots[c].current.take().expect("op in flight");
        let process = self.slots[c].process;
        let op = cur.completion(process, cur.result.clone());
        if op.op_type == OpType::Ok {
            self.remember_own(c, &cur);
        }
        out.emit(op, t);
        if cur.crash {
            let s = &mut self.slots[c];
            s.process += self.o.clients as i64;
            s.holds_lock = false;
            s.own.clear();
            if s.marker.take().is_some() {
                self.planned = false;
            }
        }
        let next = t + think(&mut self.rng, &self.o).max(1);
        self.sched.at(next, Ev::Invoke(c));
    }
}
