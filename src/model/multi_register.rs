//! The multi-register (`--model multi-register`): Knossos's several
//! registers, read and written by atomic transactions.
//!
//! # Operations
//!
//! | `f`   | input                         | output (of an `ok` completion)    |
//! |-------|-------------------------------|-----------------------------------|
//! | `txn` | micro-ops `[[:r k nil] [:w k v] ...]` | the micro-ops, reads filled in |
//!
//! A micro-op is a vector `[f key value]`, with `f` one of `:r`/`:read`
//! (the value is what was read) or `:w`/`:write` (the value is written).
//! The micro-ops of a txn apply in order and atomically: a read after a
//! write in the same txn sees that write. Read values come from the `ok`
//! completion when it carries as many micro-ops as the invocation, and
//! from the invocation otherwise. Keys and values are interned to `u32`
//! ids; the state is one value id per key, in a shared slice (cloning a
//! state never allocates; a txn that writes copies it once).
//!
//! # Semantic choices
//!
//! - Every register starts at [`ModelOptions::initial`]; a read of `nil`
//!   observes `nil` unless [`ModelOptions::nil_read_observes_nothing`].
//! - A `fail`ed txn did not happen. An indeterminate (`info`) txn may have:
//!   its reads observed nothing and are dropped, its writes are kept (the
//!   checker decides whether they took effect); with no writes it compiles
//!   to nothing.

use super::intern::Interner;
use super::{Call, Model, ModelOptions};
use crate::history::{Outcome, Value};
use std::sync::Arc;

/// One read or write inside a txn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Micro {
    /// Register `key` held `value`.
    Read {
        /// Key id.
        key: u32,
        /// Value id.
        value: u32,
    },
    /// Register `key` now holds `value`.
    Write {
        /// Key id.
        key: u32,
        /// Value id.
        value: u32,
    },
}

/// A compiled txn: its micro-ops in order.
pub type Txn = Arc<[Micro]>;

/// Registers by key, updated by atomic txns.
#[derive(Clone, Debug)]
pub struct MultiRegister {
    keys: Interner,
    values: Interner,
    initial: u32,
    nil_read_observes_nothing: bool,
}

impl MultiRegister {
    /// Registers that all start at the initial value.
    pub fn new(options: &ModelOptions) -> Self {
        let mut values = Interner::new();
        let initial = values.intern(&options.initial);
        MultiRegister {
            keys: Interner::new(),
            values,
            initial,
            nil_read_observes_nothing: options.nil_read_observes_nothing,
        }
    }

    fn show_micro(&self, m: &Micro) -> String {
        match *m {
            Micro::Read { key, value } => {
                format!("[:r {} {}]", self.keys.value(key), self.values.value(value))
            }
            Micro::Write { key, value } => {
                format!("[:w {} {}]", self.keys.value(key), self.values.value(value))
            }
        }
    }

    /// The index of the first micro-op that cannot happen, if any.
    fn blocked(&self, state: &[u32], txn: &[Micro]) -> Option<(usize, u32)> {
        let mut written: Vec<(u32, u32)> = Vec::new();
        for (i, m) in txn.iter().enumerate() {
            match *m {
                Micro::Write { key, value } => written.push((key, value)),
                Micro::Read { key, value } => {
                    let now = written
                        .iter()
                        .rev()
                        .find(|(k, _)| *k == key)
                        .map_or(state[key as usize], |&(_, v)| v);
                    if now != value {
                        return Some((i, now));
                    }
                }
            }
        }
        None
    }
}

fn micro_parts(m: &Value) -> Option<(&str, &Value, &Value)> {
    match m.as_vector()? {
        [f, k, v] => Some((f.as_name()?, k, v)),
        _ => None,
    }
}

impl Model for MultiRegister {
    type State = Arc<[u32]>;
    type Op = Txn;

    fn name(&self) -> &'static str {
        "multi-register"
    }

    fn compile(&mut self, call: &Call<'_>) -> Result<Option<Txn>, String> {
        if call.f != "txn" {
            return Err(format!(
                "the multi-register model has no operation :{}: expected :txn",
                call.f
            ));
        }
        let shape = || {
            format!(
                "expected txn's value to be a list of [f key value] micro-ops with f :r or :w, found {}",
                call.input
            )
        };
        let input = call.input.as_vector().ok_or_else(shape)?;
        let micros = match call.ok_output().and_then(Value::as_vector) {
            Some(out) if out.len() == input.len() => out,
            _ => input,
        };
        let mut txn = Vec::with_capacity(micros.len());
        for m in micros {
            let (f, k, v) = micro_parts(m).ok_or_else(shape)?;
            let key = self.keys.intern(k);
            match f {
                "r" | "read" => {
                    if call.outcome != Outcome::Ok || (v.is_nil() && self.nil_read_observes_nothing)
                    {
                        continue;
                    }
                    txn.push(Micro::Read {
                        key,
                        value: self.values.intern(v),
                    });
                }
                "w" | "write" => txn.push(Micro::Write {
                    key,
                    value: self.values.intern(v),
                }),
                _ => return Err(shape()),
            }
        }
        let keep = match call.outcome {
            Outcome::Fail => false,
            Outcome::Ok => true,
            Outcome::Info => txn.iter().any(|m| matches!(m, Micro::Write { .. })),
        };
        Ok(keep.then(|| txn.into()))
    }

    fn init(&self) -> Arc<[u32]> {
        vec![self.initial; self.keys.len()].into()
    }

    fn step(&self, state: &Arc<[u32]>, txn: &Txn) -> Option<Arc<[u32]>> {
        if !txn.iter().any(|m| matches!(m, Micro::Write { .. })) {
            return txn
                .iter()
                .all(|m| match *m {
                    Micro::Read { key, value } => state[key as usize] == value,
                    Micro::Write { .. } => true,
                })
                .then(|| state.clone());
        }
        let mut next = state.to_vec();
        for m in txn.iter() {
            match *m {
                Micro::Read { key, value } => {
                    if next[key as usize] != value {
                        return None;
                    }
                }
                Micro::Write { key, value } => next[key as usize] = value,
            }
        }
        Some(next.into())
    }

    fn explain(&self, state: &Arc<[u32]>, txn: &Txn) -> String {
        match self.blocked(state, txn) {
            None => String::new(),
            Some((i, now)) => {
                let Micro::Read { key, value } = txn[i] else {
                    return String::new();
                };
                let earlier = if txn[..i]
                    .iter()
                    .any(|m| matches!(m, Micro::Write { key: k, .. } if *k == key))
                {
                    " (written earlier in this txn)"
                } else {
                    ""
                };
                format!(
                    "can't read {} from key {}: key {} holds {}{earlier}",
                    self.values.value(value),
                    self.keys.value(key),
                    self.keys.value(key),
                    self.values.value(now)
                )
            }
        }
    }

    fn describe_op(&self, txn: &Txn) -> String {
        let parts: Vec<String> = txn.iter().map(|m| self.show_micro(m)).collect();
        format!("txn [{}]", parts.join(" "))
    }

    fn describe_state(&self, state: &Arc<[u32]>) -> String {
        let parts: Vec<String> = state
            .iter()
            .enumerate()
            .skip(1) // id 0 is the nil key, which no micro-op uses unless written so
            .map(|(k, &v)| format!("{} {}", self.keys.value(k as u32), self.values.value(v)))
            .collect();
        format!("registers hold {{{}}}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kw(s: &str) -> Value {
        Value::Keyword(s.into())
    }

    fn micro(f: &str, k: &str, v: Value) -> Value {
        Value::Vector(vec![kw(f), kw(k), v])
    }

    fn txn(ms: Vec<Value>) -> Value {
        Value::Vector(ms)
    }

    #[test]
    fn txns_apply_atomically_and_in_order() {
        let mut m = MultiRegister::new(&ModelOptions::default());
        let w = txn(vec![
            micro("w", "x", Value::Int(1)),
            micro("w", "y", Value::Int(2)),
        ]);
        let w = m
            .compile(&Call::new("txn", &w, Some(&w), Outcome::Ok))
            .unwrap()
            .unwrap();
        let inv = txn(vec![
            micro("r", "x", Value::Nil),
            micro("r", "y", Value::Nil),
        ]);
        let out = txn(vec![
            micro("r", "x", Value::Int(1)),
            micro("r", "y", Value::Int(2)),
        ]);
        let r = m
            .compile(&Call::new("txn", &inv, Some(&out), Outcome::Ok))
            .unwrap()
            .unwrap();
        let rw = txn(vec![
            micro("w", "x", Value::Int(5)),
            micro("r", "x", Value::Int(1)),
        ]);
        let rw = m
            .compile(&Call::new("txn", &rw, Some(&rw), Outcome::Ok))
            .unwrap()
            .unwrap();
        let s0 = m.init();
        assert_eq!(m.describe_state(&s0), "registers hold {:x nil, :y nil}");
        assert_eq!(m.step(&s0, &r), None);
        assert_eq!(
            m.explain(&s0, &r),
            "can't read 1 from key :x: key :x holds nil"
        );
        let s1 = m.step(&s0, &w).unwrap();
        assert_eq!(m.describe_state(&s1), "registers hold {:x 1, :y 2}");
        assert_eq!(m.step(&s1, &r), Some(s1.clone()));
        assert_eq!(m.explain(&s1, &r), "");
        assert_eq!(m.step(&s1, &rw), None);
        assert_eq!(
            m.explain(&s1, &rw),
            "can't read 1 from key :x: key :x holds 5 (written earlier in this txn)"
        );
        assert_eq!(m.describe_op(&w), "txn [[:w :x 1] [:w :y 2]]");
    }

    #[test]
    fn indeterminate_txns_keep_only_their_writes() {
        let mut m = MultiRegister::new(&ModelOptions::default());
        let t = txn(vec![
            micro("r", "x", Value::Nil),
            micro("w", "x", Value::Int(3)),
        ]);
        let c = m
            .compile(&Call::new("txn", &t, None, Outcome::Info))
            .unwrap()
            .unwrap();
        assert_eq!(m.describe_op(&c), "txn [[:w :x 3]]");
        let ro = txn(vec![micro("r", "x", Value::Nil)]);
        assert_eq!(
            m.compile(&Call::new("txn", &ro, None, Outcome::Info)),
            Ok(None)
        );
        assert_eq!(
            m.compile(&Call::new("txn", &t, None, Outcome::Fail)),
            Ok(None)
        );
    }

    #[test]
    fn options_and_shapes() {
        let opts = ModelOptions {
            initial: Value::Int(0),
            nil_read_observes_nothing: true,
            ..ModelOptions::default()
        };
        let mut m = MultiRegister::new(&opts);
        let t = txn(vec![
            micro("r", "x", Value::Nil),
            micro("r", "y", Value::Int(0)),
        ]);
        let c = m
            .compile(&Call::new("txn", &t, Some(&t), Outcome::Ok))
            .unwrap()
            .unwrap();
        assert_eq!(m.describe_op(&c), "txn [[:r :y 0]]");
        assert!(m.step(&m.init(), &c).is_some());
        let e = m
            .compile(&Call::new("txn", &Value::Int(3), None, Outcome::Ok))
            .unwrap_err();
        assert_eq!(
            e,
            "expected txn's value to be a list of [f key value] micro-ops with f :r or :w, found 3"
        );
        let bad = txn(vec![micro("cas", "x", Value::Nil)]);
        assert!(m
            .compile(&Call::new("txn", &bad, None, Outcome::Ok))
            .is_err());
        let e = m
            .compile(&Call::new("read", &t, None, Outcome::Ok))
            .unwrap_err();
        assert_eq!(
            e,
            "the multi-register model has no operation :read: expected :txn"
        );
    }

    proptest! {
        #[test]
        fn step_is_deterministic_and_explained(
            state in proptest::collection::vec(0u32..3, 3),
            micros in proptest::collection::vec((any::<bool>(), 0u32..3, 0u32..3), 0..4),
        ) {
            let mut m = MultiRegister::new(&ModelOptions::default());
            for i in 0..3 {
                m.keys.intern(&Value::Int(i));
                m.values.intern(&Value::Int(i));
            }
            let txn: Txn = micros
                .into_iter()
                .map(|(w, key, value)| if w { Micro::Write { key, value } } else { Micro::Read { key, value } })
                .collect();
            let state: Arc<[u32]> = state.into();
            let next = m.step(&state, &txn);
            prop_assert_eq!(&next, &m.step(&state, &txn));
            prop_assert_eq!(next.is_none(), !m.explain(&state, &txn).is_empty());
        }
    }
}
