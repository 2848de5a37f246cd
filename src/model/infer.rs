//! Guessing the model from a history, for when `--model` is not given.
//!
//! The guess looks only at the client operations' `f` names, whether any
//! op has a key, and (to tell a counter from a set) the shape of what
//! `ok` reads returned. It answers only when one model fits:
//!
//! | `f` names found                       | model                         |
//! |---------------------------------------|-------------------------------|
//! | `txn` only                            | multi-register                |
//! | `acquire`, `release`                  | mutex                         |
//! | `enqueue`, `dequeue`                  | ambiguous: fifo or unordered  |
//! | `get`, `put` or `append`, or any key, within get/read/put/write/append/cas | kv |
//! | `read`, `write`                       | register                      |
//! | `read`, `write`, `cas`                | cas-register                  |
//! | `add`/`increment`, `read` of integers | counter                       |
//! | `add`, `read` of collections          | set                           |
//!
//! Otherwise the error lists the `f` names found and asks for `--model`.

use super::ModelKind;
use crate::history::{History, Outcome, Value};
use std::collections::BTreeSet;

fn all_in(fs: &BTreeSet<&str>, allowed: &[&str]) -> bool {
    fs.iter().all(|f| allowed.contains(f))
}

impl ModelKind {
    /// Guesses the model of a history from its ops' `f` names, or says why
    /// it cannot (listing the names found and suggesting `--model`).
    pub fn infer(history: &History) -> Result<ModelKind, String> {
        let mut fs = BTreeSet::new();
        let mut keyed = false;
        let (mut int_reads, mut collection_reads) = (false, false);
        for op in &history.operations {
            let f: &str = &history.invocation(op).f;
            fs.insert(f);
            keyed |= history.key(op).is_some();
            if f == "read" && op.outcome == Outcome::Ok {
                match history.output(op) {
                    Some(Value::Int(_)) => int_reads = true,
                    Some(v) if v.as_collection().is_some() => collection_reads = true,
                    _ => {}
                }
            }
        }
        let names = || {
            fs.iter()
                .map(|f| format!(":{f}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let cannot = |why: &str, suggest: &str| {
            Err(format!(
                "can't tell the model from the ops' f names ({}): {why}; pass {suggest}",
                names()
            ))
        };
        let any = "--model (one of register, cas-register, kv, set, fifo-queue, unordered-queue, counter, mutex, multi-register)";
        if fs.is_empty() {
            return Err(format!(
                "the history has no client operations to infer a model from; pass {any}"
            ));
        }
        if all_in(&fs, &["txn"]) {
            return Ok(ModelKind::MultiRegister);
        }
        if all_in(&fs, &["acquire", "release"]) {
            return Ok(ModelKind::Mutex);
        }
        if all_in(&fs, &["enqueue", "dequeue"]) {
            return cannot(
                "queue ops fit both queue models",
                "--model fifo-queue or --model unordered-queue",
            );
        }
        let kv_ops = ["get", "read", "put", "write", "append", "cas"];
        let kv_only = ["get", "put", "append"];
        if (keyed || fs.iter().any(|f| kv_only.contains(f))) && all_in(&fs, &kv_ops) {
            return Ok(ModelKind::Kv);
        }
        if all_in(&fs, &["read", "write"]) {
            return Ok(ModelKind::Register);
        }
        if all_in(&fs, &["read", "write", "cas"]) {
            return Ok(ModelKind::CasRegister);
        }
        if all_in(&fs, &["add", "increment", "incr", "read"]) {
            let increments = fs.contains("increment") || fs.contains("incr");
            return match (int_reads, collection_reads) {
                (true, true) => cannot(
                    "some reads returned integers (a counter) and some collections (a set)",
                    "--model counter or --model set",
                ),
                (_, true) if !increments => Ok(ModelKind::Set),
                (_, false) if increments || int_reads => Ok(ModelKind::Counter),
                _ => cannot(
                    "no read returned a value that tells a counter from a set",
                    "--model counter or --model set",
                ),
            };
        }
        cannot("no model has exactly these operations", any)
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

    fn infer(ops: &[(&str, Value, Value)]) -> Result<ModelKind, String> {
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
            e,
            "can't tell the model from the ops' f names (:add): no read returned a value that tells a counter from a set; pass --model counter or --model set"
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
        assert!(e.contains("(:dequeue, :enqueue)"), "{e}");
        assert!(
            e.contains("--model fifo-queue or --model unordered-queue"),
            "{e}"
        );
        let mixed = [("write", i(1), i(1)), ("enqueue", i(1), i(1))];
        let e = infer(&mixed).unwrap_err();
        assert!(e.contains("(:enqueue, :write)"), "{e}");
        assert!(e.contains("pass --model"), "{e}");
        let e = ModelKind::infer(&History::from_ops(vec![]).unwrap()).unwrap_err();
        assert!(e.contains("no client operations"), "{e}");
    }
}
