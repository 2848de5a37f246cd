//! Guessing the model from a history, for when `--model` is not given.
//!
//! The guess looks only at the client operations' `f` names, whether any
//! op has a key, and (to tell a counter from a set) the shape of what
//! `ok` reads returned. The *candidates* are the models whose operations
//! include every `f` name found. Among them, register, cas-register and kv
//! are one family that judges the ops they share alike: the family stands
//! for one candidate, kv when an op has a key or a kv-only name (`get`,
//! `put`, `append`), else cas-register when there is a `cas`, else
//! register. A set and a counter are told apart by `increment` or by what
//! reads returned. The guess answers only when one candidate is left:
//!
//! | `f` names found                       | model                         |
//! |---------------------------------------|-------------------------------|
//! | `txn` only                            | multi-register                |
//! | `acquire`, `release`                  | mutex                         |
//! | `write` or `cas`, within get/read/put/write/append/cas | the register family |
//! | `get`, `put` or `append` (any key)    | kv                            |
//! | `add`/`increment`, `read` of integers | counter                       |
//! | `add`, `read` of collections          | set                           |
//! | `enqueue`, `dequeue`                  | ambiguous: fifo or unordered  |
//! | `read` only                           | ambiguous: a register, a set or a counter |
//!
//! Otherwise the error ([`Ambiguous`]) lists the `f` names found and the
//! candidates, and asks for `--model`.

use super::ModelKind;
use crate::history::{excerpt, History, Outcome, Value};
use std::collections::BTreeSet;
use std::fmt;

/// Why the model cannot be inferred: the names found and the models that
/// fit them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ambiguous {
    /// The `f` names of the client operations, sorted.
    pub names: Vec<String>,
    /// The models whose operations include every name found; every model
    /// when none does.
    pub candidates: Vec<ModelKind>,
    /// Why no single model was chosen.
    pub why: String,
}

impl fmt::Display for Ambiguous {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self
            .names
            .iter()
            .map(|n| format!(":{}", excerpt(n)))
            .collect();
        let candidates: Vec<&str> = self.candidates.iter().map(|k| k.name()).collect();
        write!(
            f,
            "can't tell the model from the ops' f names ({}): {}; candidates: {}; pass --model with one of them",
            names.join(", "),
            self.why,
            candidates.join(", ")
        )
    }
}

impl std::error::Error for Ambiguous {}

/// The `f` names a model's operations answer to.
fn vocabulary(kind: ModelKind) -> &'static [&'static str] {
    match kind {
        ModelKind::Register => &["read", "write"],
        ModelKind::CasRegister => &["read", "write", "cas"],
        ModelKind::Kv => &["get", "read", "put", "write", "append", "cas"],
        ModelKind::Set => &["add", "read"],
        ModelKind::Counter => &["add", "increment", "incr", "read"],
        ModelKind::FifoQueue | ModelKind::UnorderedQueue => &["enqueue", "dequeue"],
        ModelKind::Mutex => &["acquire", "release"],
        ModelKind::MultiRegister => &["txn"],
    }
}

/// What the guess looks at in a history.
#[derive(Default)]
struct Clues<'a> {
    names: BTreeSet<&'a str>,
    keyed: bool,
    int_reads: bool,
    collection_reads: bool,
}

impl<'a> Clues<'a> {
    fn of(history: &'a History) -> Self {
        let mut c = Clues::default();
        for op in &history.operations {
            let f: &str = &history.invocation(op).f;
            c.names.insert(f);
            c.keyed |= history.key(op).is_some();
            if f == "read" && op.outcome == Outcome::Ok {
                match history.output(op) {
                    Some(Value::Int(_)) => c.int_reads = true,
                    Some(v) if v.as_collection().is_some() => c.collection_reads = true,
                    _ => {}
                }
            }
        }
        c
    }

    fn has(&self, f: &str) -> bool {
        self.names.contains(f)
    }

    /// The one member of the register family that stands for it.
    fn register_family(&self) -> ModelKind {
        if self.keyed || ["get", "put", "append"].iter().any(|f| self.has(f)) {
            ModelKind::Kv
        } else if self.has("cas") {
            ModelKind::CasRegister
        } else {
            ModelKind::Register
        }
    }

    /// Is `kind` ruled out by the shapes of reads or by `increment`?
    fn ruled_out(&self, kind: ModelKind) -> bool {
        let increments = self.has("increment") || self.has("incr");
        match kind {
            ModelKind::Set => increments || (self.int_reads && !self.collection_reads),
            ModelKind::Counter => self.collection_reads && !self.int_reads && !increments,
            _ => false,
        }
    }
}

impl ModelKind {
    /// Infers the model of a history from its ops' `f` names, or says why
    /// it cannot, with the candidates.
    pub fn infer(history: &History) -> Result<ModelKind, Ambiguous> {
        let clues = Clues::of(history);
        let candidates: Vec<ModelKind> = ModelKind::ALL
            .into_iter()
            .filter(|&k| clues.names.iter().all(|f| vocabulary(k).contains(f)))
            .collect();
        let family = clues.register_family();
        let mut left: Vec<ModelKind> = candidates
            .iter()
            .copied()
            .map(|k| match k {
                ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv => family,
                k => k,
            })
            .filter(|&k| !clues.ruled_out(k))
            .collect();
        left.dedup();
        if let [one] = left[..] {
            return Ok(one);
        }
        let why = if clues.names.is_empty() {
            "the history has no client operations"
        } else if candidates.is_empty() {
            "no model has all of these operations"
        } else if clues.names.len() == 1 && clues.has("read") {
            "a history of reads alone fits a register, a set and a counter"
        } else if clues.has("enqueue") || clues.has("dequeue") {
            "queue ops fit both queue models"
        } else if clues.int_reads && clues.collection_reads {
            "some reads returned integers (a counter) and some collections (a set)"
        } else {
            "no read returned a value that tells a counter from a set"
        };
        Err(Ambiguous {
            names: clues.names.iter().map(|f| f.to_string()).collect(),
            candidates: if candidates.is_empty() {
                ModelKind::ALL.to_vec()
            } else {
                candidates
            },
            why: why.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Op, OpType};

    fn history(ops: &[(&str, Value, Value)]) -> History {
        let mut events = Vec::new();
        for (p, (f, input, output)) in ops.iter().enumerate() {
            events.push(Op::new(OpType::Invoke, p as i64, f, input.clone()));
            events.push(Op::new(OpType::Ok, p as i64, f, output.clone()));
        }
        History::from_ops(events).unwrap()
    }

    fn infer(ops: &[(&str, Value, Value)]) -> Result<ModelKind, Ambiguous> {
        ModelKind::infer(&history(ops))
    }

    fn i(n: i64) -> Value {
        Value::Int(n)
    }

    #[test]
    fn infers_registers_and_cas_registers() {
        let rw = [("write", i(1), i(1)), ("read", Value::Nil, i(1))];
        assert_eq!(infer(&rw), Ok(ModelKind::Register));
        let cas = Value::Vector(vec![i(1), i(2)]);
        let rwc = [("write", i(1), i(1)), ("cas", cas.clone(), cas)];
        assert_eq!(infer(&rwc), Ok(ModelKind::CasRegister));
    }

    #[test]
    fn infers_kv_from_names_or_keys() {
        let kv = [
            ("append", "a".into(), "a".into()),
            ("get", Value::Nil, "a".into()),
        ];
        assert_eq!(infer(&kv), Ok(ModelKind::Kv));
        let mut h = history(&[("write", i(1), i(1)), ("read", Value::Nil, i(1))]);
        h.ops[0].key = Some(Value::from("k"));
        assert_eq!(ModelKind::infer(&h), Ok(ModelKind::Kv));
    }

    #[test]
    fn tells_counters_from_sets_by_read_shape() {
        let counter = [("add", i(2), i(2)), ("read", Value::Nil, i(2))];
        assert_eq!(infer(&counter), Ok(ModelKind::Counter));
        let incr = [("increment", Value::Nil, Value::Nil)];
        assert_eq!(infer(&incr), Ok(ModelKind::Counter));
        let set = [
            ("add", i(2), i(2)),
            ("read", Value::Nil, Value::set(vec![i(2)])),
        ];
        assert_eq!(infer(&set), Ok(ModelKind::Set));
        let e = infer(&[("add", i(2), i(2))]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "can't tell the model from the ops' f names (:add): no read returned a value that tells a counter from a set; candidates: set, counter; pass --model with one of them"
        );
    }

    #[test]
    fn infers_mutexes_and_multi_registers() {
        let lock = [
            ("acquire", Value::Nil, Value::Nil),
            ("release", Value::Nil, Value::Nil),
        ];
        assert_eq!(infer(&lock), Ok(ModelKind::Mutex));
        let txn = [("txn", Value::Vector(vec![]), Value::Vector(vec![]))];
        assert_eq!(infer(&txn), Ok(ModelKind::MultiRegister));
    }

    #[test]
    fn refuses_to_guess_a_queue_or_a_mixture() {
        let q = [("enqueue", i(1), i(1)), ("dequeue", Value::Nil, i(1))];
        let e = infer(&q).unwrap_err();
        assert_eq!(
            e.candidates,
            [ModelKind::FifoQueue, ModelKind::UnorderedQueue]
        );
        let e = e.to_string();
        assert!(e.contains("(:dequeue, :enqueue)"), "{e}");
        assert!(e.contains("candidates: fifo-queue, unordered-queue"), "{e}");
        let mixed = [("write", i(1), i(1)), ("enqueue", i(1), i(1))];
        let e = infer(&mixed).unwrap_err();
        assert_eq!(e.candidates, ModelKind::ALL);
        let e = e.to_string();
        assert!(e.contains("(:enqueue, :write)"), "{e}");
        assert!(e.contains("pass --model"), "{e}");
        let e = ModelKind::infer(&History::from_ops(vec![]).unwrap()).unwrap_err();
        assert!(e.to_string().contains("no client operations"), "{e}");
    }

    #[test]
    fn reads_alone_are_ambiguous() {
        use ModelKind::*;
        // A read of 0 is invalid for a register (nil at first) and valid
        // for a counter: the names must not decide it.
        for value in [i(0), Value::Nil, Value::set(vec![i(1)])] {
            let e = infer(&[("read", Value::Nil, value)]).unwrap_err();
            assert_eq!(e.candidates, [Register, CasRegister, Kv, Set, Counter]);
            assert!(
                e.to_string()
                    .contains("candidates: register, cas-register, kv, set, counter"),
                "{e}"
            );
        }
        // With a key too: a kv, or a set or counter per key.
        let mut h = history(&[("read", Value::Nil, i(1))]);
        h.ops[0].key = Some(Value::from("k"));
        assert!(ModelKind::infer(&h).is_err());
        // A write says which.
        let rw = [("read", Value::Nil, i(0)), ("write", i(0), i(0))];
        assert_eq!(infer(&rw), Ok(Register));
    }
}
