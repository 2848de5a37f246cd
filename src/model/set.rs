//! The set (`--model set`): Knossos's set, with add and whole-set reads.
//!
//! # Operations
//!
//! | `f`    | input       | output (of an `ok` completion)            |
//! |--------|-------------|-------------------------------------------|
//! | `add`  | the element | ignored                                   |
//! | `read` | ignored     | every element: a set `#{...}` or a vector |
//!
//! Elements may be any values; they are interned to dense `u32` ids. The
//! state is a bitset over those ids, kept canonical (no trailing zero
//! words) so that equal sets are equal states, shared behind an [`Arc`] so
//! that cloning it never allocates. Adding an element already present
//! returns the same state without allocating; adding a new one allocates
//! one new bitset.
//!
//! # Semantic choices
//!
//! - A read must return exactly the set: every element added, and nothing
//!   else. Duplicates in a vector read are ignored.
//! - A `fail`ed add did not happen; an indeterminate (`info`) add may have
//!   (the checker decides). Failed and indeterminate reads observed nothing.
//! - The set starts with the elements of [`ModelOptions::initial`] when it
//!   is a collection, and empty otherwise. An `ok` read of `nil` observes
//!   nothing under [`ModelOptions::nil_read_observes_nothing`] and is an
//!   error otherwise.

use super::intern::Interner;
use super::{Call, Model, ModelOptions};
use crate::history::{Outcome, Value};
use std::sync::Arc;

/// A grow-only set with whole-set reads.
#[derive(Clone, Debug)]
pub struct Set {
    elements: Interner,
    initial: Vec<u32>,
    nil_read_observes_nothing: bool,
}

/// A set of interned element ids: a canonical bitset (no trailing zero
/// words), cheap to clone and hash.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Bits(Arc<[u64]>);

impl Bits {
    fn from_ids(ids: impl IntoIterator<Item = u32>) -> Bits {
        let mut words: Vec<u64> = Vec::new();
        for id in ids {
            let w = (id / 64) as usize;
            if words.len() <= w {
                words.resize(w + 1, 0);
            }
            words[w] |= 1 << (id % 64);
        }
        Bits(words.into())
    }

    /// Is every element of `self` in `other`?
    fn subset_of(&self, other: &Bits) -> bool {
        self.0
            .iter()
            .enumerate()
            .all(|(i, &w)| w & !other.0.get(i).copied().unwrap_or(0) == 0)
    }

    fn contains(&self, id: u32) -> bool {
        self.0
            .get((id / 64) as usize)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    fn with(&self, id: u32) -> Bits {
        if self.contains(id) {
            return self.clone();
        }
        let w = (id / 64) as usize;
        let mut words = self.0.to_vec();
        if words.len() <= w {
            words.resize(w + 1, 0);
        }
        words[w] |= 1 << (id % 64);
        Bits(words.into())
    }

    fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &word)| {
            (0..64u32)
                .filter(move |b| word & (1 << b) != 0)
                .map(move |b| w as u32 * 64 + b)
        })
    }
}

/// A compiled set operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SetOp {
    /// Adds this element id.
    Add(u32),
    /// A read that observed exactly these elements.
    Read(Bits),
}

impl Set {
    /// An empty set (or the elements of a collection given as the initial
    /// value).
    pub fn new(options: &ModelOptions) -> Self {
        let mut elements = Interner::new();
        let initial = options
            .initial
            .as_collection()
            .unwrap_or_default()
            .iter()
            .map(|v| elements.intern(v))
            .collect();
        Set {
            elements,
            initial,
            nil_read_observes_nothing: options.nil_read_observes_nothing,
        }
    }

    fn show(&self, bits: &Bits) -> Value {
        Value::set(
            bits.ids()
                .map(|id| self.elements.value(id).clone())
                .collect(),
        )
    }
}

impl Model for Set {
    type State = Bits;
    type Op = SetOp;

    fn name(&self) -> &'static str {
        "set"
    }

    fn compile(&mut self, call: &Call<'_>) -> Result<Option<SetOp>, String> {
        match call.f {
            "add" => Ok(match call.outcome {
                Outcome::Fail => None,
                Outcome::Ok | Outcome::Info => Some(SetOp::Add(self.elements.intern(call.input))),
            }),
            "read" => match call.ok_output() {
                None => Ok(None),
                Some(Value::Nil) if self.nil_read_observes_nothing => Ok(None),
                Some(v) => match v.as_collection() {
                    Some(items) => {
                        let ids: Vec<u32> = items.iter().map(|e| self.elements.intern(e)).collect();
                        Ok(Some(SetOp::Read(Bits::from_ids(ids))))
                    }
                    None => Err(format!(
                        "expected a set read to return a set or vector of elements, found {v}"
                    )),
                },
            },
            f => Err(format!(
                "the set model has no operation :{f}: expected :add or :read"
            )),
        }
    }

    fn init(&self) -> Bits {
        Bits::from_ids(self.initial.iter().copied())
    }

    fn step(&self, state: &Bits, op: &SetOp) -> Option<Bits> {
        match op {
            SetOp::Add(id) => Some(state.with(*id)),
            SetOp::Read(seen) => (seen == state).then(|| state.clone()),
        }
    }

    fn read_only(&self, op: &SetOp) -> bool {
        matches!(op, SetOp::Read(_))
    }

    /// Adds only grow a set, so a read of a set that lacks an element
    /// already present is unreachable, and nothing enables it.
    fn reachable(&self, state: &Bits, target: &SetOp) -> bool {
        match target {
            SetOp::Read(seen) => state.subset_of(seen),
            SetOp::Add(_) => true,
        }
    }

    fn may_enable(&self, _op: &SetOp, _target: &SetOp) -> bool {
        false
    }

    fn explain(&self, state: &Bits, op: &SetOp) -> String {
        let SetOp::Read(seen) = op else {
            return String::new();
        };
        if seen == state {
            return String::new();
        }
        let missing = Bits::from_ids(state.ids().filter(|&id| !seen.contains(id)));
        let extra = Bits::from_ids(seen.ids().filter(|&id| !state.contains(id)));
        let mut why = format!(
            "can't read {}: {}",
            self.show(seen),
            self.describe_state(state)
        );
        if missing.ids().next().is_some() {
            why.push_str(&format!("; the read misses {}", self.show(&missing)));
        }
        if extra.ids().next().is_some() {
            why.push_str(&format!("; {} not added", self.show(&extra)));
        }
        why
    }

    fn describe_op(&self, op: &SetOp) -> String {
        match op {
            SetOp::Add(id) => format!("add {}", self.elements.value(*id)),
            SetOp::Read(seen) => format!("read {}", self.show(seen)),
        }
    }

    fn describe_state(&self, state: &Bits) -> String {
        format!("set is {}", self.show(state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ints(xs: &[i64]) -> Value {
        Value::set(xs.iter().map(|&x| Value::Int(x)).collect())
    }

    #[test]
    fn reads_return_exactly_what_was_added() {
        let mut m = Set::new(&ModelOptions::default());
        let nil = Value::Nil;
        let add = |m: &mut Set, x: i64| {
            let v = Value::Int(x);
            m.compile(&Call::new("add", &v, Some(&v), Outcome::Ok))
                .unwrap()
                .unwrap()
        };
        let a1 = add(&mut m, 1);
        let a2 = add(&mut m, 2);
        let r12 = ints(&[1, 2]);
        let r12 = m
            .compile(&Call::new("read", &nil, Some(&r12), Outcome::Ok))
            .unwrap()
            .unwrap();
        let r13 = Value::Vector(vec![Value::Int(3), Value::Int(1), Value::Int(1)]);
        let r13 = m
            .compile(&Call::new("read", &nil, Some(&r13), Outcome::Ok))
            .unwrap()
            .unwrap();
        let s0 = m.init();
        assert_eq!(m.describe_state(&s0), "set is #{}");
        let s1 = m.step(&s0, &a1).unwrap();
        assert_eq!(m.step(&s1, &a1), Some(s1.clone()));
        let s12 = m.step(&s1, &a2).unwrap();
        assert_eq!(m.describe_state(&s12), "set is #{1 2}");
        assert_eq!(m.step(&s12, &r12), Some(s12.clone()));
        assert_eq!(m.explain(&s12, &r12), "");
        assert_eq!(m.step(&s1, &r12), None);
        assert_eq!(
            m.explain(&s1, &r12),
            "can't read #{1 2}: set is #{1}; #{2} not added"
        );
        assert_eq!(
            m.explain(&s12, &r13),
            "can't read #{1 3}: set is #{1 2}; the read misses #{2}; #{3} not added"
        );
        assert_eq!(m.describe_op(&a2), "add 2");
        assert_eq!(m.describe_op(&r13), "read #{1 3}");
    }

    #[test]
    fn options_outcomes_and_shapes() {
        let opts = ModelOptions {
            initial: ints(&[7]),
            nil_read_observes_nothing: true,
            ..ModelOptions::default()
        };
        let mut m = Set::new(&opts);
        let nil = Value::Nil;
        assert_eq!(m.describe_state(&m.init()), "set is #{7}");
        assert_eq!(
            m.compile(&Call::new("read", &nil, Some(&nil), Outcome::Ok)),
            Ok(None)
        );
        assert_eq!(
            m.compile(&Call::new("read", &nil, None, Outcome::Info)),
            Ok(None)
        );
        let one = Value::Int(1);
        assert_eq!(
            m.compile(&Call::new("add", &one, None, Outcome::Fail)),
            Ok(None)
        );
        assert!(matches!(
            m.compile(&Call::new("add", &one, None, Outcome::Info)),
            Ok(Some(SetOp::Add(_)))
        ));
        let e = m
            .compile(&Call::new("read", &nil, Some(&one), Outcome::Ok))
            .unwrap_err();
        assert_eq!(
            e,
            "expected a set read to return a set or vector of elements, found 1"
        );
        let mut strict = Set::new(&ModelOptions::default());
        assert!(strict
            .compile(&Call::new("read", &nil, Some(&nil), Outcome::Ok))
            .is_err());
    }

    #[test]
    fn large_element_ids_stay_canonical() {
        let a = Bits::from_ids([3, 130]);
        let b = Bits::from_ids([130]).with(3);
        assert_eq!(a, b);
        assert_eq!(a.ids().collect::<Vec<_>>(), vec![3, 130]);
        assert!(Bits::from_ids([1]) != a);
    }

    fn arb_op() -> impl Strategy<Value = SetOp> {
        prop_oneof![
            (0u32..70).prop_map(SetOp::Add),
            proptest::collection::vec(0u32..70, 0..4)
                .prop_map(|ids| SetOp::Read(Bits::from_ids(ids))),
        ]
    }

    proptest! {
        #[test]
        fn step_is_deterministic_and_explained(
            ids in proptest::collection::vec(0u32..70, 0..4),
            op in arb_op(),
        ) {
            let mut m = Set::new(&ModelOptions::default());
            for i in 0..70 {
                m.elements.intern(&Value::Int(i));
            }
            let state = Bits::from_ids(ids);
            let next = m.step(&state, &op);
            prop_assert_eq!(&next, &m.step(&state, &op));
            prop_assert_eq!(next.is_none(), !m.explain(&state, &op).is_empty());
        }
    }
}
