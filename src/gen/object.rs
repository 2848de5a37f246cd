//! The simulated object: one sequential state machine for every model,
//! the calls clients make on it, and how calls and results are written as
//! Jepsen op values.
//!
//! Value shapes (what the generator writes, per model):
//!
//! | model | f | invocation value | ok completion value |
//! |---|---|---|---|
//! | register | `read`, `write` | `nil`, `v` | the value read, `v` |
//! | cas-register | + `cas` | `[old new]` | `[old new]` |
//! | kv | `read`, `write`, `cas` with a `key` field | as cas-register | as cas-register |
//! | set | `add`, `read` | `v`, `nil` | `v`, the whole set `#{...}` |
//! | fifo-queue, unordered-queue | `enqueue`, `dequeue` | `v`, `nil` | `v`, the element |
//! | counter | `add`, `read` | `n` (positive), `nil` | `n`, the count |
//! | mutex | `acquire`, `release` | `nil` | `nil` |
//! | multi-register | `txn` | `[[:read k nil] [:write k v] ...]` | reads filled in |
//!
//! Registers (and every key of a kv map or multi-register) start as `nil`,
//! the counter at 0, collections empty, the mutex free. Ops that cannot
//! succeed complete `fail` with their invocation's value: a cas whose
//! expected value is not current, a dequeue from an empty queue, an acquire
//! of a held lock, a release by a process that does not hold it.

use crate::history::Value;
use crate::model::ModelKind;
use std::collections::{BTreeSet, VecDeque};

/// The functions clients call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Func {
    Read,
    Write,
    Cas,
    Add,
    Enqueue,
    Dequeue,
    Acquire,
    Release,
    Txn,
}

impl Func {
    /// The Jepsen name of the function.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Func::Read => "read",
            Func::Write => "write",
            Func::Cas => "cas",
            Func::Add => "add",
            Func::Enqueue => "enqueue",
            Func::Dequeue => "dequeue",
            Func::Acquire => "acquire",
            Func::Release => "release",
            Func::Txn => "txn",
        }
    }

    /// The functions a model's op mix may name, with default weights.
    pub(crate) fn defaults(model: ModelKind) -> &'static [(Func, u32)] {
        match model {
            ModelKind::Register => &[(Func::Read, 1), (Func::Write, 1)],
            ModelKind::CasRegister | ModelKind::Kv => {
                &[(Func::Read, 1), (Func::Write, 1), (Func::Cas, 1)]
            }
            ModelKind::Set | ModelKind::Counter => &[(Func::Add, 1), (Func::Read, 1)],
            ModelKind::FifoQueue | ModelKind::UnorderedQueue => {
                &[(Func::Enqueue, 1), (Func::Dequeue, 1)]
            }
            ModelKind::Mutex => &[(Func::Acquire, 1), (Func::Release, 1)],
            // Micro-operations inside each `txn`.
            ModelKind::MultiRegister => &[(Func::Read, 1), (Func::Write, 1)],
        }
    }

    /// Looks a function up by name among a model's.
    pub(crate) fn parse(model: ModelKind, name: &str) -> Option<Func> {
        Func::defaults(model)
            .iter()
            .map(|&(f, _)| f)
            .find(|f| f.name() == name)
    }
}

/// One micro-operation of a multi-register transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Micro {
    pub(crate) write: bool,
    pub(crate) key: i64,
    pub(crate) value: Option<i64>,
}

/// A call's argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Arg {
    None,
    Int(i64),
    Cas(Option<i64>, i64),
    Txn(Vec<Micro>),
}

/// A client's call on the object.
#[derive(Clone, Debug)]
pub(crate) struct Call {
    pub(crate) f: Func,
    pub(crate) key: Option<i64>,
    pub(crate) arg: Arg,
    /// For an unordered queue's dequeue: which element to take.
    pub(crate) pick: u64,
}

fn opt(v: Option<i64>) -> Value {
    v.map_or(Value::Nil, Value::Int)
}

fn micro_value(m: &Micro) -> Value {
    Value::Vector(vec![
        Value::Keyword(if m.write { "write" } else { "read" }.into()),
        Value::Int(m.key),
        opt(m.value),
    ])
}

impl Call {
    /// The invocation's value.
    pub(crate) fn invoke_value(&self) -> Value {
        match &self.arg {
            Arg::None => Value::Nil,
            Arg::Int(v) => Value::Int(*v),
            Arg::Cas(old, new) => Value::Vector(vec![opt(*old), Value::Int(*new)]),
            Arg::Txn(ms) => Value::Vector(ms.iter().map(micro_value).collect()),
        }
    }

    /// Does this call leave the state unchanged whatever happens?
    pub(crate) fn is_read(&self) -> bool {
        match (&self.f, &self.arg) {
            (Func::Read, _) => true,
            (Func::Txn, Arg::Txn(ms)) => ms.iter().all(|m| !m.write),
            _ => false,
        }
    }

    /// The key whose state this call touches (0 for unkeyed models).
    pub(crate) fn slot(&self) -> usize {
        self.key.unwrap_or(0) as usize
    }
}

/// A call's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Res {
    /// It took effect; the value is the ok completion's.
    Ok(Value),
    /// It could not take effect.
    Fail,
}

/// The true state of the simulated object.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Obj {
    pub(crate) model: ModelKind,
    /// Registers: one per key (one in all for register and cas-register).
    pub(crate) regs: Vec<Option<i64>>,
    pub(crate) set: BTreeSet<i64>,
    pub(crate) queue: VecDeque<i64>,
    pub(crate) counter: i64,
    pub(crate) holder: Option<i64>,
}

impl Obj {
    pub(crate) fn new(model: ModelKind, keys: usize) -> Obj {
        Obj {
            model,
            regs: vec![None; keys.max(1)],
            set: BTreeSet::new(),
            queue: VecDeque::new(),
            counter: 0,
            holder: None,
        }
    }

    /// The set's contents as a value.
    pub(crate) fn set_value(&self) -> Value {
        Value::Set(self.set.iter().map(|&x| Value::Int(x)).collect())
    }

    /// What a read would return now, without changing anything.
    pub(crate) fn read(&self, call: &Call) -> Value {
        match self.model {
            ModelKind::Set => self.set_value(),
            ModelKind::Counter => Value::Int(self.counter),
            ModelKind::MultiRegister => match &call.arg {
                Arg::Txn(ms) => Value::Vector(
                    ms.iter()
                        .map(|m| {
                            micro_value(&Micro {
                                write: false,
                                key: m.key,
                                value: self.regs[m.key as usize],
                            })
                        })
                        .collect(),
                ),
                _ => Value::Nil,
            },
            _ => opt(self.regs[call.slot()]),
        }
    }

    /// Applies a call by `process` and returns its result.
    pub(crate) fn apply(&mut self, call: &Call, process: i64) -> Res {
        let slot = call.slot();
        match (call.f, &call.arg) {
            (Func::Txn, Arg::Txn(ms)) => {
                let mut out = Vec::with_capacity(ms.len());
                for m in ms {
                    let k = m.key as usize;
                    if m.write {
                        self.regs[k] = m.value;
                        out.push(micro_value(m));
                    } else {
                        out.push(micro_value(&Micro {
                            write: false,
                            key: m.key,
                            value: self.regs[k],
                        }));
                    }
                }
                Res::Ok(Value::Vector(out))
            }
            (Func::Read, _) => Res::Ok(self.read(call)),
            (Func::Write, Arg::Int(v)) => {
                self.regs[slot] = Some(*v);
                Res::Ok(Value::Int(*v))
            }
            (Func::Cas, Arg::Cas(old, new)) => {
                if self.regs[slot] == *old {
                    self.regs[slot] = Some(*new);
                    Res::Ok(call.invoke_value())
                } else {
                    Res::Fail
                }
            }
            (Func::Add, Arg::Int(v)) => {
                if self.model == ModelKind::Set {
                    self.set.insert(*v);
                } else {
                    self.counter += *v;
                }
                Res::Ok(Value::Int(*v))
            }
            (Func::Enqueue, Arg::Int(v)) => {
                self.queue.push_back(*v);
                Res::Ok(Value::Int(*v))
            }
            (Func::Dequeue, _) => {
                let item = if self.model == ModelKind::UnorderedQueue && !self.queue.is_empty() {
                    let i = (call.pick % self.queue.len() as u64) as usize;
                    self.queue.swap_remove_back(i)
                } else {
                    self.queue.pop_front()
                };
                item.map_or(Res::Fail, |x| Res::Ok(Value::Int(x)))
            }
            (Func::Acquire, _) => {
                if self.holder.is_none() {
                    self.holder = Some(process);
                    Res::Ok(Value::Nil)
                } else {
                    Res::Fail
                }
            }
            (Func::Release, _) => {
                if self.holder == Some(process) {
                    self.holder = None;
                    Res::Ok(Value::Nil)
                } else {
                    Res::Fail
                }
            }
            _ => Res::Fail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(f: Func, arg: Arg) -> Call {
        Call {
            f,
            key: None,
            arg,
            pick: 0,
        }
    }

    #[test]
    fn applies_register_and_cas() {
        let mut o = Obj::new(ModelKind::CasRegister, 1);
        assert_eq!(
            o.apply(&call(Func::Read, Arg::None), 0),
            Res::Ok(Value::Nil)
        );
        o.apply(&call(Func::Write, Arg::Int(3)), 0);
        assert_eq!(
            o.apply(&call(Func::Cas, Arg::Cas(Some(2), 4)), 0),
            Res::Fail
        );
        let ok = o.apply(&call(Func::Cas, Arg::Cas(Some(3), 4)), 0);
        assert_eq!(ok, Res::Ok(Value::Vector(vec![3.into(), 4.into()])));
        assert_eq!(o.read(&call(Func::Read, Arg::None)), Value::Int(4));
    }

    #[test]
    fn applies_queues_mutex_and_txns() {
        let mut q = Obj::new(ModelKind::FifoQueue, 1);
        assert_eq!(q.apply(&call(Func::Dequeue, Arg::None), 0), Res::Fail);
        q.apply(&call(Func::Enqueue, Arg::Int(1)), 0);
        q.apply(&call(Func::Enqueue, Arg::Int(2)), 0);
        assert_eq!(
            q.apply(&call(Func::Dequeue, Arg::None), 0),
            Res::Ok(1.into())
        );
        let mut m = Obj::new(ModelKind::Mutex, 1);
        assert_eq!(
            m.apply(&call(Func::Acquire, Arg::None), 1),
            Res::Ok(Value::Nil)
        );
        assert_eq!(m.apply(&call(Func::Acquire, Arg::None), 2), Res::Fail);
        assert_eq!(m.apply(&call(Func::Release, Arg::None), 2), Res::Fail);
        assert_eq!(
            m.apply(&call(Func::Release, Arg::None), 1),
            Res::Ok(Value::Nil)
        );
        let mut r = Obj::new(ModelKind::MultiRegister, 2);
        let txn = Arg::Txn(vec![
            Micro {
                write: true,
                key: 1,
                value: Some(5),
            },
            Micro {
                write: false,
                key: 1,
                value: None,
            },
        ]);
        let t = call(Func::Txn, txn);
        assert_eq!(t.invoke_value().to_string(), "[[:write 1 5] [:read 1 nil]]");
        assert_eq!(
            r.apply(&t, 0),
            Res::Ok(Value::Vector(vec![
                Value::Vector(vec![Value::Keyword("write".into()), 1.into(), 5.into()]),
                Value::Vector(vec![Value::Keyword("read".into()), 1.into(), 5.into()]),
            ]))
        );
    }
}
