//! Keyed objects: any model, one independent copy per key, checked as one
//! object.
//!
//! [`Keyed<M>`] turns a single-object model `M` into a map from keys to
//! `M` objects. Its compiled op is the key's id plus `M`'s op; its state
//! is one `M` state per key, in a shared slice indexed by key id, so that
//! cloning a state never allocates and a step copies the slice once.
//!
//! Linearizability and sequential consistency of a keyed history can be
//! checked key by key (linearizability is compositional: Herlihy & Wing
//! 1990), and the checkers do that when partitioning is on, with the plain
//! model. `Keyed` is for checking the whole history as one object, and for
//! the kv model, which is `Keyed<KvRegister>`.
//!
//! The key of each op comes from [`Call::key`]; ops without a key share the
//! `nil` key. Every key starts in `M`'s initial state.
//! Call [`Model::init`] after compiling every op, since compiling is what
//! discovers the keys; a key first compiled later still steps correctly
//! (from the initial state), at the cost of growing the state then.

use super::intern::{Interner, NIL};
use super::{Call, Model};
use crate::history::Value;
use std::sync::Arc;

/// One `M` object per key.
#[derive(Clone, Debug)]
pub struct Keyed<M> {
    inner: M,
    keys: Interner,
    nil_key_used: bool,
}

/// A compiled op of a keyed model: the key's id, and the op on that key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyedOp<O> {
    /// The key's id.
    pub key: u32,
    /// The op on that key's object.
    pub op: O,
}

impl<M: Model> Keyed<M> {
    /// One copy of `inner` per key.
    pub fn new(inner: M) -> Self {
        Keyed {
            inner,
            keys: Interner::new(),
            nil_key_used: false,
        }
    }

    /// The single-object model.
    pub fn inner(&self) -> &M {
        &self.inner
    }

    /// The key with this id.
    pub fn key(&self, id: u32) -> &Value {
        self.keys.value(id)
    }
}

impl<M: Model> Model for Keyed<M> {
    type State = Arc<[M::State]>;
    type Op = KeyedOp<M::Op>;

    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn compile(&mut self, call: &Call<'_>) -> Result<Option<Self::Op>, String> {
        let Some(op) = self.inner.compile(call)? else {
            return Ok(None);
        };
        let key = self.keys.intern(call.key.unwrap_or(&Value::Nil));
        self.nil_key_used |= key == NIL;
        Ok(Some(KeyedOp { key, op }))
    }

    fn prepare(&mut self, ops: &[&Self::Op]) {
        let inner: Vec<&M::Op> = ops.iter().map(|o| &o.op).collect();
        self.inner.prepare(&inner);
    }

    fn init(&self) -> Self::State {
        let init = self.inner.init();
        (0..self.keys.len()).map(|_| init.clone()).collect()
    }

    fn step(&self, state: &Self::State, op: &Self::Op) -> Option<Self::State> {
        let k = op.key as usize;
        let Some(current) = state.get(k) else {
            // A key compiled after `init`: it is still in its initial state.
            let next = self.inner.step(&self.inner.init(), &op.op)?;
            let mut states = state.to_vec();
            states.resize(k + 1, self.inner.init());
            states[k] = next;
            return Some(states.into());
        };
        let next = self.inner.step(current, &op.op)?;
        if next == *current {
            return Some(state.clone());
        }
        let mut states = state.to_vec();
        states[k] = next;
        Some(states.into())
    }

    fn read_only(&self, op: &Self::Op) -> bool {
        self.inner.read_only(&op.op)
    }

    fn never_needed(&self, op: &Self::Op) -> bool {
        self.inner.never_needed(&op.op)
    }

    fn needs_own_process(&self, op: &Self::Op) -> bool {
        self.inner.needs_own_process(&op.op)
    }

    /// Only `target`'s key matters; ops on other keys leave it unchanged.
    fn reachable(&self, state: &Self::State, target: &Self::Op) -> bool {
        match state.get(target.key as usize) {
            Some(s) => self.inner.reachable(s, &target.op),
            None => self.inner.reachable(&self.inner.init(), &target.op),
        }
    }

    /// The slice of per-key states, and the largest key's own bytes: a
    /// step changes one key and shares the others with the state it came
    /// from.
    fn state_heap_bytes(&self, state: &Self::State) -> usize {
        16 + std::mem::size_of_val(&state[..])
            + state
                .iter()
                .map(|s| self.inner.state_heap_bytes(s))
                .max()
                .unwrap_or(0)
    }

    fn may_enable(&self, op: &Self::Op, target: &Self::Op) -> bool {
        op.key == target.key && self.inner.may_enable(&op.op, &target.op)
    }

    fn kills(&self, op: &Self::Op, target: &Self::Op) -> bool {
        op.key == target.key && self.inner.kills(&op.op, &target.op)
    }

    fn object(&self, op: &Self::Op) -> Option<u32> {
        Some(op.key)
    }

    /// The key's own state, every other key in the initial state: ops on
    /// the key step on its own state alone.
    fn restrict(&self, state: &Self::State, object: u32) -> Self::State {
        let init = self.inner.init();
        (0..state.len())
            .map(|k| {
                if k == object as usize {
                    state[k].clone()
                } else {
                    init.clone()
                }
            })
            .collect()
    }

    fn describe_state_for(&self, state: &Self::State, op: &Self::Op) -> String {
        let now = match state.get(op.key as usize) {
            Some(s) => self.inner.describe_state(s),
            None => self.inner.describe_state(&self.inner.init()),
        };
        format!("key {}: {now}", self.key(op.key))
    }

    fn explain(&self, state: &Self::State, op: &Self::Op) -> String {
        let why = match state.get(op.key as usize) {
            Some(s) => self.inner.explain(s, &op.op),
            None => self.inner.explain(&self.inner.init(), &op.op),
        };
        if why.is_empty() {
            return why;
        }
        format!("key {}: {why}", self.key(op.key))
    }

    fn describe_op(&self, op: &Self::Op) -> String {
        format!(
            "key {}: {}",
            self.key(op.key),
            self.inner.describe_op(&op.op)
        )
    }

    fn describe_state(&self, state: &Self::State) -> String {
        let mut parts = Vec::new();
        for (id, s) in state.iter().enumerate() {
            if id as u32 == NIL && !self.nil_key_used {
                continue;
            }
            parts.push(format!(
                "key {}: {}",
                self.key(id as u32),
                self.inner.describe_state(s)
            ));
        }
        if parts.is_empty() {
            return "no keys".to_string();
        }
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Outcome;
    use crate::model::{CasRegister, ModelOptions};
    use proptest::prelude::*;

    #[test]
    fn keys_are_independent_registers() {
        let mut m = Keyed::new(CasRegister::new(&ModelOptions::default()));
        let (x, y) = (Value::from("x"), Value::from("y"));
        let (one, two) = (Value::Int(1), Value::Int(2));
        let mut compile = |f: &str, v: &Value, key: &Value| {
            m.compile(&Call::new(f, v, Some(v), Outcome::Ok).with_key(Some(key)))
                .unwrap()
                .unwrap()
        };
        let wx1 = compile("write", &one, &x);
        let ry1 = compile("read", &one, &y);
        let rx1 = compile("read", &one, &x);
        let wy2 = compile("write", &two, &y);
        let s0 = m.init();
        assert_eq!(s0.len(), 3, "the nil key and two others");
        assert_eq!(
            m.describe_state(&s0),
            r#"key "x": register is nil; key "y": register is nil"#
        );
        let s1 = m.step(&s0, &wx1).unwrap();
        assert_eq!(m.step(&s1, &rx1), Some(s1.clone()));
        assert_eq!(m.step(&s1, &ry1), None);
        assert_eq!(
            m.explain(&s1, &ry1),
            r#"key "y": can't read 1: register is nil"#
        );
        assert_eq!(m.explain(&s1, &rx1), "");
        let s2 = m.step(&s1, &wy2).unwrap();
        assert_eq!(
            m.describe_state(&s2),
            r#"key "x": register holds 1; key "y": register holds 2"#
        );
        assert_eq!(m.describe_op(&wy2), r#"key "y": write 2"#);
        assert_eq!(
            m.describe_state_for(&s2, &ry1),
            r#"key "y": register holds 2"#
        );
        assert_eq!((m.object(&wx1), m.object(&rx1)), (Some(1), Some(1)));
        assert_eq!(m.object(&wy2), Some(2));
        assert_eq!(m.name(), "cas-register");
        // A key compiled after init starts in the initial state.
        let z = Value::from("z");
        let rz = m
            .compile(&Call::new("read", &one, Some(&one), Outcome::Ok).with_key(Some(&z)))
            .unwrap()
            .unwrap();
        assert_eq!(m.step(&s2, &rz), None);
        assert_eq!(
            m.explain(&s2, &rz),
            r#"key "z": can't read 1: register is nil"#
        );
        let wz = m
            .compile(&Call::new("write", &one, Some(&one), Outcome::Ok).with_key(Some(&z)))
            .unwrap()
            .unwrap();
        let s3 = m.step(&s2, &wz).unwrap();
        assert_eq!(m.step(&s3, &rz), Some(s3.clone()));
        // Compiling keeps the inner model's shape errors and dropped ops.
        let e = m
            .compile(&Call::new("cas", &one, None, Outcome::Ok))
            .unwrap_err();
        assert!(e.contains("[old new]"), "{e}");
        assert_eq!(
            m.compile(&Call::new("read", &one, None, Outcome::Info)),
            Ok(None)
        );
    }

    proptest! {
        #[test]
        fn step_is_deterministic_and_explained(
            calls in proptest::collection::vec((0i64..3, any::<bool>(), 0i64..3), 1..8),
        ) {
            let mut m = Keyed::new(CasRegister::new(&ModelOptions::default()));
            let mut ops = Vec::new();
            for (key, write, v) in calls {
                let (key, v) = (Value::Int(key), Value::Int(v));
                let f = if write { "write" } else { "read" };
                let call = Call::new(f, &v, Some(&v), Outcome::Ok).with_key(Some(&key));
                ops.extend(m.compile(&call).unwrap());
            }
            let mut state = m.init();
            for op in &ops {
                let next = m.step(&state, op);
                prop_assert_eq!(&next, &m.step(&state, op));
                prop_assert_eq!(next.is_none(), !m.explain(&state, op).is_empty());
                if let Some(s) = next {
                    state = s;
                }
            }
        }
    }
}
