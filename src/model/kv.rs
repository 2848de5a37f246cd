//! The key-value store (`--model kv`): a map of registers that also support
//! string append, as in the MIT 6.824 key-value lab and etcd-style kv
//! tests.
//!
//! [`KvRegister`] is one key's value; the kv model is
//! [`Keyed<KvRegister>`](super::Keyed) ([`Kv`]), one `KvRegister` per key.
//! A checker that splits a history by key checks each key with a plain
//! `KvRegister` (which ignores keys); one that checks the whole history as
//! one object uses [`Kv`].
//!
//! # Operations (the key is the op's `key` field)
//!
//! | `f`              | input        | output (of an `ok` completion) |
//! |------------------|--------------|--------------------------------|
//! | `get`, `read`    | ignored      | the value read                 |
//! | `put`, `write`   | the value    | ignored                        |
//! | `append`         | a string     | ignored                        |
//! | `cas`            | `[old new]`  | ignored                        |
//!
//! `append` concatenates strings; appending to `nil` gives the appended
//! string, and appending to a value that is not a string is impossible.
//!
//! # State
//!
//! A value is a [`Cell`]: strings are held as [`Text`] (a shared string
//! that carries its hash; appends make new strings, which a step cannot
//! intern: steps take `&self`), any other value as an interned `u32` id.
//! So cloning a state never allocates, hashing a state costs nothing, and
//! equal values are equal states; an append allocates its new string (its
//! hash follows from the two parts' hashes), and comparing two distinct
//! strings with equal hashes costs their length. The alternative, a
//! persistent list of appended pieces, would make reads (which compare the
//! whole concatenation) walk the list on every step.
//!
//! # Semantic choices
//!
//! - [`ModelOptions::initial`] is every key's initial value (the 6.824
//!   histories need `""`).
//! - `nil` reads, failed and indeterminate ops, and failed cas follow the
//!   same rules as [`Register`](super::Register) and
//!   [`CasRegister`](super::CasRegister).

use super::intern::{Interner, NIL};
use super::keyed::Keyed;
use super::register::cas_pair;
use super::{Call, Model, ModelOptions};
use crate::history::{Outcome, Value};
use std::sync::Arc;

/// The kv model: one [`KvRegister`] per key.
pub type Kv = Keyed<KvRegister>;

impl Kv {
    /// A kv map with these options; every key starts at the initial value.
    pub fn kv(options: &ModelOptions) -> Kv {
        Keyed::new(KvRegister::new(options))
    }
}

/// An immutable shared string that carries a polynomial hash of its
/// bytes, so that hashing it is free and two strings are compared byte by
/// byte only when they are distinct and their hashes collide.
#[derive(Clone)]
pub struct Text(Arc<TextInner>);

struct TextInner {
    /// `Σ bᵢ·Bⁿ⁻¹⁻ⁱ` over the bytes `bᵢ`, wrapping.
    hash: u64,
    /// `Bⁿ`, wrapping, for concatenation.
    pow: u64,
    text: Box<str>,
}

/// The hash's base: odd, so that multiplying by it is invertible.
const BASE: u64 = 0x100_0000_01b3;

impl Text {
    /// The string `s`.
    pub fn new(s: &str) -> Text {
        let (mut hash, mut pow) = (0u64, 1u64);
        for &b in s.as_bytes() {
            hash = hash.wrapping_mul(BASE).wrapping_add(u64::from(b));
            pow = pow.wrapping_mul(BASE);
        }
        Text(Arc::new(TextInner {
            hash,
            pow,
            text: s.into(),
        }))
    }

    /// `self` followed by `tail`.
    pub fn concat(&self, tail: &Text) -> Text {
        let mut text = String::with_capacity(self.len() + tail.len());
        text.push_str(self);
        text.push_str(tail);
        Text(Arc::new(TextInner {
            hash: self
                .0
                .hash
                .wrapping_mul(tail.0.pow)
                .wrapping_add(tail.0.hash),
            pow: self.0.pow.wrapping_mul(tail.0.pow),
            text: text.into(),
        }))
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0.text
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0.text
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::new(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::new(&s)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
            || (self.0.hash == other.0.hash && self.0.text == other.0.text)
    }
}

impl Eq for Text {}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_u64(self.0.hash);
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

/// One key's value: a string, or any other value by interned id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Cell {
    /// A string.
    Str(Text),
    /// Any other value (`nil` is [`Cell::Id`] of 0), interned.
    Id(u32),
}

/// A compiled kv operation on one key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvOp {
    /// A read that observed this value.
    Read(Cell),
    /// A write of this value.
    Write(Cell),
    /// Appends this string.
    Append(Text),
    /// If the value is `old`, it becomes `new`.
    Cas {
        /// The expected value.
        old: Cell,
        /// The value written.
        new: Cell,
    },
    /// A failed cas, observing that the value was not `old`.
    CasFailed {
        /// The value the key did not hold.
        old: Cell,
        /// The value the cas would have written.
        new: Cell,
    },
}

/// One key of a key-value store: read, write, append and cas.
#[derive(Clone, Debug)]
pub struct KvRegister {
    values: Interner,
    initial: Cell,
    nil_read_observes_nothing: bool,
    failed_cas_observes: bool,
}

impl KvRegister {
    /// One key's value, starting at the initial value.
    pub fn new(options: &ModelOptions) -> Self {
        let mut values = Interner::new();
        let initial = cell(&mut values, &options.initial);
        KvRegister {
            values,
            initial,
            nil_read_observes_nothing: options.nil_read_observes_nothing,
            failed_cas_observes: options.failed_cas_observes,
        }
    }

    fn show(&self, c: &Cell) -> Value {
        match c {
            Cell::Str(s) => Value::Str(s.as_str().into()),
            Cell::Id(id) => self.values.value(*id).clone(),
        }
    }
}

fn cell(values: &mut Interner, v: &Value) -> Cell {
    match v {
        Value::Str(s) => Cell::Str(Text::new(s)),
        other => Cell::Id(values.intern(other)),
    }
}

impl Model for KvRegister {
    type State = Cell;
    type Op = KvOp;

    fn name(&self) -> &'static str {
        "kv"
    }

    fn compile(&mut self, call: &Call<'_>) -> Result<Option<KvOp>, String> {
        let dropped = call.outcome == Outcome::Fail;
        match call.f {
            "get" | "read" => match call.ok_output() {
                None => Ok(None),
                Some(Value::Nil) if self.nil_read_observes_nothing => Ok(None),
                Some(v) => Ok(Some(KvOp::Read(cell(&mut self.values, v)))),
            },
            "put" | "write" if dropped => Ok(None),
            "put" | "write" => Ok(Some(KvOp::Write(cell(&mut self.values, call.input)))),
            "append" => match call.input {
                Value::Str(s) => Ok((!dropped).then(|| KvOp::Append(Text::new(s)))),
                other => Err(format!(
                    "expected append's value to be a string, found {other}"
                )),
            },
            "cas" => {
                let (old, new) = cas_pair(call.input)?;
                let (old, new) = (cell(&mut self.values, old), cell(&mut self.values, new));
                Ok(match call.outcome {
                    Outcome::Fail if self.failed_cas_observes => Some(KvOp::CasFailed { old, new }),
                    Outcome::Fail => None,
                    Outcome::Ok | Outcome::Info => Some(KvOp::Cas { old, new }),
                })
            }
            f => Err(format!(
                "the kv model has no operation :{f}: expected :get, :put, :append or :cas (or :read, :write)"
            )),
        }
    }

    fn init(&self) -> Cell {
        self.initial.clone()
    }

    fn step(&self, state: &Cell, op: &KvOp) -> Option<Cell> {
        match op {
            KvOp::Read(v) => (state == v).then(|| state.clone()),
            KvOp::Write(v) => Some(v.clone()),
            KvOp::Append(tail) => match state {
                Cell::Str(s) if tail.is_empty() => Some(Cell::Str(s.clone())),
                Cell::Str(s) => Some(Cell::Str(s.concat(tail))),
                Cell::Id(NIL) => Some(Cell::Str(tail.clone())),
                Cell::Id(_) => None,
            },
            KvOp::Cas { old, new } => (state == old).then(|| new.clone()),
            KvOp::CasFailed { old, .. } => (state != old).then(|| state.clone()),
        }
    }

    fn read_only(&self, op: &KvOp) -> bool {
        matches!(op, KvOp::Read(_) | KvOp::CasFailed { .. })
    }

    /// From a string, appends only make longer strings, so a read (or cas)
    /// expecting a non-string, or a string the current one is not a prefix
    /// of, is unreachable until a write or cas replaces the value with one
    /// from which it is reachable.
    fn reachable(&self, state: &Cell, target: &KvOp) -> bool {
        let Cell::Str(s) = state else {
            return true;
        };
        let expected = match target {
            KvOp::Read(v) | KvOp::Cas { old: v, .. } => v,
            _ => return true,
        };
        match expected {
            Cell::Str(v) => v.starts_with(s.as_str()),
            Cell::Id(_) => false,
        }
    }

    /// A string's bytes and its shared header.
    fn state_heap_bytes(&self, state: &Cell) -> usize {
        match state {
            Cell::Str(s) => s.len() + std::mem::size_of::<TextInner>() + 16,
            Cell::Id(_) => 0,
        }
    }

    fn may_enable(&self, op: &KvOp, target: &KvOp) -> bool {
        match op {
            KvOp::Read(_) | KvOp::CasFailed { .. } | KvOp::Append(_) => false,
            KvOp::Write(v) => self.reachable(v, target),
            // Fires only in `old`; it matters only if `old` is itself
            // unreachable and `new` is not.
            KvOp::Cas { old, new } => !self.reachable(old, target) && self.reachable(new, target),
        }
    }

    fn explain(&self, state: &Cell, op: &KvOp) -> String {
        if self.step(state, op).is_some() {
            return String::new();
        }
        let now = self.describe_state(state);
        match op {
            KvOp::Read(v) => format!("can't read {}: {now}", self.show(v)),
            KvOp::Append(tail) => format!("can't append {tail:?}: {now}, not a string"),
            KvOp::Cas { old, new } => format!(
                "can't CAS from {} to {}: {now}",
                self.show(old),
                self.show(new)
            ),
            KvOp::CasFailed { old, new } => format!(
                "cas from {} to {} can't have failed: {now}",
                self.show(old),
                self.show(new)
            ),
            KvOp::Write(_) => String::new(),
        }
    }

    fn describe_op(&self, op: &KvOp) -> String {
        match op {
            KvOp::Read(v) => format!("read {}", self.show(v)),
            KvOp::Write(v) => format!("write {}", self.show(v)),
            KvOp::Append(tail) => format!("append {tail:?}"),
            KvOp::Cas { old, new } => format!("cas {} -> {}", self.show(old), self.show(new)),
            KvOp::CasFailed { old, new } => {
                format!("failed cas {} -> {}", self.show(old), self.show(new))
            }
        }
    }

    fn describe_state(&self, state: &Cell) -> String {
        match state {
            Cell::Id(NIL) => "value is nil".to_string(),
            c => format!("value is {}", self.show(c)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kv_opts() -> ModelOptions {
        ModelOptions {
            initial: Value::from(""),
            ..ModelOptions::default()
        }
    }

    fn compile(m: &mut KvRegister, f: &str, v: &Value, outcome: Outcome) -> Option<KvOp> {
        m.compile(&Call::new(f, v, Some(v), outcome)).unwrap()
    }

    #[test]
    fn appends_concatenate_and_reads_see_the_whole_string() {
        let mut m = KvRegister::new(&kv_opts());
        let a = compile(&mut m, "append", &Value::from("x 9 0 y"), Outcome::Ok).unwrap();
        let b = compile(&mut m, "append", &Value::from("x 9 1 y"), Outcome::Info).unwrap();
        let r = compile(&mut m, "get", &Value::from("x 9 0 yx 9 1 y"), Outcome::Ok).unwrap();
        let r0 = compile(&mut m, "get", &Value::from("x 9 0 y"), Outcome::Ok).unwrap();
        let put = compile(&mut m, "put", &Value::from("z"), Outcome::Ok).unwrap();
        let s0 = m.init();
        assert_eq!(m.describe_state(&s0), r#"value is """#);
        let s1 = m.step(&s0, &a).unwrap();
        assert_eq!(m.step(&s1, &r0), Some(s1.clone()));
        let s2 = m.step(&s1, &b).unwrap();
        assert_eq!(m.step(&s2, &r), Some(s2.clone()));
        assert_eq!(m.step(&s2, &r0), None);
        assert_eq!(
            m.explain(&s2, &r0),
            r#"can't read "x 9 0 y": value is "x 9 0 yx 9 1 y""#
        );
        assert_eq!(m.explain(&s2, &r), "");
        let s3 = m.step(&s2, &put).unwrap();
        assert_eq!(m.describe_state(&s3), r#"value is "z""#);
        assert_eq!(m.describe_op(&a), r#"append "x 9 0 y""#);
        assert_eq!(m.describe_op(&r0), r#"read "x 9 0 y""#);
        assert_eq!(
            compile(&mut m, "append", &Value::from("q"), Outcome::Fail),
            None
        );
        assert_eq!(
            compile(&mut m, "get", &Value::from("q"), Outcome::Info),
            None
        );
    }

    #[test]
    fn append_to_nil_starts_a_string_and_to_a_number_is_impossible() {
        let mut m = KvRegister::new(&ModelOptions::default());
        let a = compile(&mut m, "append", &Value::from("ab"), Outcome::Ok).unwrap();
        let w = compile(&mut m, "write", &Value::Int(3), Outcome::Ok).unwrap();
        let r = compile(&mut m, "read", &Value::from("ab"), Outcome::Ok).unwrap();
        let s = m.step(&m.init(), &a).unwrap();
        assert_eq!(m.step(&s, &r), Some(s.clone()));
        let s3 = m.step(&s, &w).unwrap();
        assert_eq!(m.step(&s3, &a), None);
        assert_eq!(
            m.explain(&s3, &a),
            r#"can't append "ab": value is 3, not a string"#
        );
        let e = m
            .compile(&Call::new("append", &Value::Int(1), None, Outcome::Ok))
            .unwrap_err();
        assert_eq!(e, "expected append's value to be a string, found 1");
        let e = m
            .compile(&Call::new("incr", &Value::Int(1), None, Outcome::Ok))
            .unwrap_err();
        assert!(e.starts_with("the kv model has no operation :incr"), "{e}");
    }

    #[test]
    fn cas_and_its_failure_readings() {
        let pair = Value::Vector(vec![Value::from("a"), Value::from("b")]);
        let mut m = KvRegister::new(&kv_opts());
        assert_eq!(compile(&mut m, "cas", &pair, Outcome::Fail), None);
        let c = compile(&mut m, "cas", &pair, Outcome::Ok).unwrap();
        assert_eq!(
            m.explain(&m.init(), &c),
            r#"can't CAS from "a" to "b": value is """#
        );
        let opts = ModelOptions {
            failed_cas_observes: true,
            initial: Value::from("a"),
            ..ModelOptions::default()
        };
        let mut m = KvRegister::new(&opts);
        let f = compile(&mut m, "cas", &pair, Outcome::Fail).unwrap();
        assert_eq!(m.step(&m.init(), &f), None);
        assert_eq!(
            m.explain(&m.init(), &f),
            r#"cas from "a" to "b" can't have failed: value is "a""#
        );
        let e = m
            .compile(&Call::new("cas", &Value::from("a"), None, Outcome::Ok))
            .unwrap_err();
        assert_eq!(e, r#"expected cas's value to be [old new], found "a""#);
    }

    #[test]
    fn nil_reads_follow_the_options() {
        let mut m = KvRegister::new(&ModelOptions::default());
        let r = compile(&mut m, "get", &Value::Nil, Outcome::Ok).unwrap();
        assert_eq!(m.step(&m.init(), &r), Some(Cell::Id(NIL)));
        let opts = ModelOptions {
            nil_read_observes_nothing: true,
            ..kv_opts()
        };
        let mut m = KvRegister::new(&opts);
        assert_eq!(compile(&mut m, "get", &Value::Nil, Outcome::Ok), None);
    }

    #[test]
    fn the_kv_model_keeps_one_value_per_key() {
        let mut m = Kv::kv(&kv_opts());
        let (k1, k2) = (Value::from("1"), Value::from("2"));
        let v = Value::from("x");
        let a1 = m
            .compile(&Call::new("append", &v, None, Outcome::Ok).with_key(Some(&k1)))
            .unwrap()
            .unwrap();
        let r2 = m
            .compile(&Call::new("get", &Value::Nil, Some(&v), Outcome::Ok).with_key(Some(&k2)))
            .unwrap()
            .unwrap();
        let s = m.step(&m.init(), &a1).unwrap();
        assert_eq!(m.step(&s, &r2), None);
        assert_eq!(
            m.explain(&s, &r2),
            r#"key "2": can't read "x": value is """#
        );
        assert_eq!(m.name(), "kv");
    }

    fn arb_op() -> impl Strategy<Value = KvOp> {
        let cell = prop_oneof![
            "[ab]{0,2}".prop_map(|s| Cell::Str(s.into())),
            (0u32..3).prop_map(Cell::Id),
        ];
        prop_oneof![
            cell.clone().prop_map(KvOp::Read),
            cell.clone().prop_map(KvOp::Write),
            "[ab]{0,2}".prop_map(|s| KvOp::Append(s.into())),
            (cell.clone(), cell.clone()).prop_map(|(old, new)| KvOp::Cas { old, new }),
            (cell.clone(), cell).prop_map(|(old, new)| KvOp::CasFailed { old, new }),
        ]
    }

    proptest! {
        #[test]
        fn step_is_deterministic_and_explained(state in arb_op(), op in arb_op()) {
            let mut m = KvRegister::new(&ModelOptions::default());
            m.values.intern(&Value::Int(1));
            m.values.intern(&Value::Int(2));
            // Use a write's value as a random state.
            let (KvOp::Write(state) | KvOp::Read(state)) = state else { return Ok(()); };
            let next = m.step(&state, &op);
            prop_assert_eq!(&next, &m.step(&state, &op));
            prop_assert_eq!(next.is_none(), !m.explain(&state, &op).is_empty());
        }
    }
}
