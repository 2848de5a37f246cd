//! What each client operation did, in the terms the anomaly patterns
//! reason in: which value it wrote or read, and when it certainly took
//! effect.
//!
//! Jepsen's conventions hold: an `ok` op took effect between its
//! invocation and its completion; a `fail`ed one did not happen; an `info`
//! (or never completed) one may have taken effect at any time after its
//! invocation, or never. Real-time order is the order of events in the
//! history: `a` precedes `b` when `a` completed `ok` before `b` was
//! invoked.

use crate::history::{History, Outcome, Value};
use crate::model::{ModelKind, ModelOptions};
use std::collections::BTreeMap;

/// What one operation did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Act<'a> {
    /// A register write (or the new value of a cas).
    Write(&'a Value),
    /// A register read that observed a value.
    Read(&'a Value),
    /// A set add.
    Add(&'a Value),
    /// A set read that observed these elements.
    SetRead(&'a [Value]),
    /// A counter increment.
    Incr(i64),
    /// A counter read.
    CountRead(i64),
    /// A lock acquire.
    Acquire,
    /// A lock release.
    Release,
    /// A queue enqueue.
    Enqueue(&'a Value),
    /// A queue dequeue that returned this item.
    Dequeue(&'a Value),
    /// Observes nothing and changes nothing (a failed read, a nil read in
    /// Knossos's reading).
    Nothing,
    /// An op the patterns do not understand: a key holding one is left
    /// alone.
    Unknown,
}

/// One client operation.
#[derive(Clone, Copy, Debug)]
pub(super) struct Fact<'a> {
    /// Index into [`History::operations`].
    pub id: usize,
    /// The client's number.
    pub process: i64,
    /// What it did.
    pub act: Act<'a>,
    /// What became of it.
    pub outcome: Outcome,
    /// Index of its invocation event.
    pub invoke: usize,
    /// Index of its completion event, when it completed `ok`.
    pub done: Option<usize>,
}

impl Fact<'_> {
    /// Did this op certainly take effect before `other` began?
    pub fn precedes(&self, other: &Fact<'_>) -> bool {
        self.done.is_some_and(|d| d < other.invoke)
    }

    /// Did it happen, or may it have? (Everything but `fail`.)
    pub fn may_happen(&self) -> bool {
        self.outcome != Outcome::Fail
    }
}

/// The ops of one key (or of the whole history, when it has no keys), in
/// invocation order.
pub(super) struct Key<'a> {
    /// The key.
    pub key: Option<&'a Value>,
    /// Its ops.
    pub ops: Vec<Fact<'a>>,
    /// Whether every op was understood.
    pub understood: bool,
}

/// The history's ops grouped by key, keys in order of first appearance.
pub(super) fn keys<'a>(h: &'a History, kind: ModelKind, opts: &ModelOptions) -> Vec<Key<'a>> {
    let mut order: Vec<Key<'a>> = Vec::new();
    let mut index: BTreeMap<Option<&Value>, usize> = BTreeMap::new();
    for (id, o) in h.operations.iter().enumerate() {
        let key = h.key(o);
        let i = *index.entry(key).or_insert_with(|| {
            order.push(Key {
                key,
                ops: Vec::new(),
                understood: true,
            });
            order.len() - 1
        });
        let act = act(h, id, kind, opts);
        let k = &mut order[i];
        k.understood &= act != Act::Unknown;
        k.ops.push(Fact {
            id,
            process: o.process,
            act,
            outcome: o.outcome,
            invoke: o.invoke,
            done: (o.outcome == Outcome::Ok).then_some(o.complete).flatten(),
        });
    }
    order
}

/// What operation `id` of `h` did, under model `kind`.
fn act<'a>(h: &'a History, id: usize, kind: ModelKind, opts: &ModelOptions) -> Act<'a> {
    let o = &h.operations[id];
    let f: &str = &h.invocation(o).f;
    let input = h.input(o);
    let output = h.output(o);
    let ok = o.outcome == Outcome::Ok;
    if o.outcome == Outcome::Fail {
        return Act::Nothing;
    }
    use ModelKind::*;
    match (kind, f) {
        (Register | CasRegister | Kv, "write") => Act::Write(input),
        (CasRegister | Kv, "cas") => match input {
            Value::Vector(p) if p.len() == 2 => Act::Write(&p[1]),
            _ => Act::Unknown,
        },
        (Register | CasRegister | Kv, "read") => match output {
            None => Act::Nothing,
            Some(Value::Nil) if opts.nil_read_observes_nothing => Act::Nothing,
            Some(v) if ok => Act::Read(v),
            Some(_) => Act::Nothing,
        },
        (Set, "add") => Act::Add(input),
        (Set, "read") => match output {
            None => Act::Nothing,
            Some(Value::Set(items) | Value::Vector(items)) => Act::SetRead(items),
            Some(_) => Act::Unknown,
        },
        (Counter, "add" | "increment" | "incr") => match input {
            Value::Int(n) => Act::Incr(*n),
            Value::Nil if f != "add" => Act::Incr(1),
            _ => Act::Unknown,
        },
        (Counter, "read") => match output {
            None => Act::Nothing,
            Some(Value::Int(n)) => Act::CountRead(*n),
            Some(Value::Nil) if opts.nil_read_observes_nothing => Act::Nothing,
            Some(_) => Act::Unknown,
        },
        (Mutex, "acquire" | "lock") => Act::Acquire,
        (Mutex, "release" | "unlock") => Act::Release,
        (FifoQueue | UnorderedQueue, "enqueue") => Act::Enqueue(input),
        (FifoQueue | UnorderedQueue, "dequeue") => match output {
            None | Some(Value::Nil) => Act::Nothing,
            Some(v) => Act::Dequeue(v),
        },
        _ => Act::Unknown,
    }
}

/// The writes of one value on a key.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Writes {
    /// Writes that may have happened (not `fail`ed).
    pub count: usize,
    /// The earliest invocation among them.
    pub first_invoke: usize,
    /// The latest completion among them; `usize::MAX` when one of them is
    /// indeterminate (it may take effect at any later time).
    pub last_done: usize,
    /// The first such write, as an index into the key's ops.
    pub first: usize,
}

/// Every value written on a key (register writes, set adds, enqueues),
/// with its writes.
pub(super) fn writes<'a>(ops: &[Fact<'a>]) -> BTreeMap<&'a Value, Writes> {
    let mut out: BTreeMap<&Value, Writes> = BTreeMap::new();
    for (i, f) in ops.iter().enumerate() {
        let (Act::Write(v) | Act::Add(v) | Act::Enqueue(v)) = f.act else {
            continue;
        };
        if !f.may_happen() {
            continue;
        }
        let w = out.entry(v).or_insert(Writes {
            count: 0,
            first_invoke: usize::MAX,
            last_done: 0,
            first: i,
        });
        w.count += 1;
        w.first_invoke = w.first_invoke.min(f.invoke);
        w.last_done = w.last_done.max(f.done.unwrap_or(usize::MAX));
    }
    out
}
