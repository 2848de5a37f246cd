//! The read/write register (`--model register`), and the engine shared with
//! the compare-and-set register ([`CasRegister`](super::CasRegister)).
//!
//! # Operations
//!
//! | `f`     | input        | output (of an `ok` completion) |
//! |---------|--------------|--------------------------------|
//! | `read`  | ignored      | the value read                 |
//! | `write` | the value    | ignored                        |
//! | `cas`   | `[old new]`  | ignored (cas-register only)    |
//!
//! Values may be anything (integers, strings, keywords, collections); they
//! are interned to `u32` ids when ops are compiled, so the state is one
//! `u32` and a step is an integer compare that never allocates. `nil` is a
//! value like any other: the register starts as `nil` unless
//! [`ModelOptions::initial`] says otherwise, and (by default) a read of
//! `nil` observes that the register is `nil`.
//!
//! # Semantic choices
//!
//! - A `fail`ed op did not happen and compiles to nothing, except a failed
//!   cas under [`ModelOptions::failed_cas_observes`] (Porcupine's reading),
//!   which compiles to an observation that the register did not hold `old`
//!   and changes nothing.
//! - Under [`ModelOptions::nil_read_observes_nothing`] (Knossos's reading)
//!   a read of `nil` is legal in any state and compiles to nothing.
//! - An indeterminate (`info`) write or cas compiles as if it succeeded
//!   (the checker decides whether it took effect); an indeterminate read
//!   observed nothing and compiles to nothing.

use super::intern::{Interner, NIL};
use super::{Call, Model, ModelOptions};
use crate::history::{Outcome, Value};

/// A read/write register, optionally with compare-and-set.
#[derive(Clone, Debug)]
pub struct Register {
    values: Interner,
    initial: u32,
    nil_read_observes_nothing: bool,
    failed_cas_observes: bool,
    cas: bool,
}

/// A compiled register operation; values are interned ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegisterOp {
    /// A read that observed this value.
    Read(u32),
    /// A write of this value.
    Write(u32),
    /// A compare-and-set: if the register holds `old`, it now holds `new`.
    Cas {
        /// The expected value.
        old: u32,
        /// The value written.
        new: u32,
    },
    /// A failed cas, read as an observation that the register did not hold
    /// `old` (Porcupine's reading); it changes nothing.
    CasFailed {
        /// The expected value, which the register did not hold.
        old: u32,
        /// The value the cas would have written.
        new: u32,
    },
}

/// Splits a cas input `[old new]`, or says what was expected.
pub(crate) fn cas_pair(input: &Value) -> Result<(&Value, &Value), String> {
    match input.as_vector() {
        Some([old, new]) => Ok((old, new)),
        _ => Err(format!(
            "expected cas's value to be [old new], found {input}"
        )),
    }
}

impl Register {
    /// A read/write register with these options.
    pub fn new(options: &ModelOptions) -> Self {
        Register::with_cas(options, false)
    }

    /// A register that accepts `cas` ops iff `cas`.
    pub(crate) fn with_cas(options: &ModelOptions, cas: bool) -> Self {
        let mut values = Interner::new();
        let initial = values.intern(&options.initial);
        Register {
            values,
            initial,
            nil_read_observes_nothing: options.nil_read_observes_nothing,
            failed_cas_observes: options.failed_cas_observes,
            cas,
        }
    }

    fn show(&self, id: u32) -> &Value {
        self.values.value(id)
    }
}

impl Model for Register {
    type State = u32;
    type Op = RegisterOp;

    fn name(&self) -> &'static str {
        if self.cas {
            "cas-register"
        } else {
            "register"
        }
    }

    fn compile(&mut self, call: &Call<'_>) -> Result<Option<RegisterOp>, String> {
        match call.f {
            "read" => {
                let Some(v) = call.ok_output() else {
                    return Ok(None);
                };
                if v.is_nil() && self.nil_read_observes_nothing {
                    return Ok(None);
                }
                Ok(Some(RegisterOp::Read(self.values.intern(v))))
            }
            "write" => {
                if call.outcome == Outcome::Fail {
                    return Ok(None);
                }
                Ok(Some(RegisterOp::Write(self.values.intern(call.input))))
            }
            "cas" if self.cas => {
                let (old, new) = cas_pair(call.input)?;
                let (old, new) = (self.values.intern(old), self.values.intern(new));
                Ok(match call.outcome {
                    Outcome::Fail if self.failed_cas_observes => {
                        Some(RegisterOp::CasFailed { old, new })
                    }
                    Outcome::Fail => None,
                    Outcome::Ok | Outcome::Info => Some(RegisterOp::Cas { old, new }),
                })
            }
            "cas" => Err("the register model has no cas: use --model cas-register".to_string()),
            f => Err(format!(
                "the {} model has no operation :{f}: expected {}",
                self.name(),
                if self.cas {
                    ":read, :write or :cas"
                } else {
                    ":read or :write"
                }
            )),
        }
    }

    fn init(&self) -> u32 {
        self.initial
    }

    #[inline]
    fn step(&self, state: &u32, op: &RegisterOp) -> Option<u32> {
        let s = *state;
        match *op {
            RegisterOp::Read(v) => (s == v).then_some(s),
            RegisterOp::Write(v) => Some(v),
            RegisterOp::Cas { old, new } => (s == old).then_some(new),
            RegisterOp::CasFailed { old, .. } => (s != old).then_some(s),
        }
    }

    fn read_only(&self, op: &RegisterOp) -> bool {
        // A cas that writes back the value it expects changes nothing.
        match *op {
            RegisterOp::Read(_) | RegisterOp::CasFailed { .. } => true,
            RegisterOp::Cas { old, new } => old == new,
            RegisterOp::Write(_) => false,
        }
    }

    /// A read of `v` or a cas from `v` needs the register to hold `v`;
    /// from any other value only an op that sets `v` (a write of `v`, a cas
    /// to `v`) brings it back: every other step leaves the register unequal
    /// to `v` (a write or cas of another value sets that value; a read and
    /// a failed cas change nothing). A failed cas needs the register *not*
    /// to hold `old`, which any write of another value provides, so it is
    /// left to the default.
    fn reachable(&self, state: &u32, target: &RegisterOp) -> bool {
        match *target {
            RegisterOp::Read(v) | RegisterOp::Cas { old: v, .. } => *state == v,
            RegisterOp::Write(_) | RegisterOp::CasFailed { .. } => true,
        }
    }

    fn may_enable(&self, op: &RegisterOp, target: &RegisterOp) -> bool {
        match *target {
            RegisterOp::Read(v) | RegisterOp::Cas { old: v, .. } => match *op {
                RegisterOp::Write(w) | RegisterOp::Cas { new: w, .. } => w == v,
                RegisterOp::Read(_) | RegisterOp::CasFailed { .. } => false,
            },
            RegisterOp::Write(_) | RegisterOp::CasFailed { .. } => true,
        }
    }

    fn explain(&self, state: &u32, op: &RegisterOp) -> String {
        if self.step(state, op).is_some() {
            return String::new();
        }
        let holds = self.describe_state(state);
        match *op {
            RegisterOp::Read(v) => format!("can't read {}: {holds}", self.show(v)),
            RegisterOp::Cas { old, new } => {
                format!(
                    "can't CAS from {} to {}: {holds}",
                    self.show(old),
                    self.show(new)
                )
            }
            RegisterOp::CasFailed { old, new } => format!(
                "cas from {} to {} can't have failed: {holds}",
                self.show(old),
                self.show(new)
            ),
            RegisterOp::Write(_) => String::new(),
        }
    }

    fn describe_op(&self, op: &RegisterOp) -> String {
        match *op {
            RegisterOp::Read(v) => format!("read {}", self.show(v)),
            RegisterOp::Write(v) => format!("write {}", self.show(v)),
            RegisterOp::Cas { old, new } => format!("cas {} -> {}", self.show(old), self.show(new)),
            RegisterOp::CasFailed { old, new } => {
                format!("failed cas {} -> {}", self.show(old), self.show(new))
            }
        }
    }

    fn describe_state(&self, state: &u32) -> String {
        if *state == NIL {
            "register is nil".to_string()
        } else {
            format!("register holds {}", self.show(*state))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok<'a>(f: &'a str, input: &'a Value, output: &'a Value) -> Call<'a> {
        Call::new(f, input, Some(output), Outcome::Ok)
    }

    fn compiled(m: &mut Register, call: Call<'_>) -> RegisterOp {
        m.compile(&call).unwrap().expect("an op")
    }

    #[test]
    fn reads_see_the_last_write() {
        let mut m = Register::new(&ModelOptions::default());
        let w = compiled(&mut m, ok("write", &Value::Int(2), &Value::Int(2)));
        let r2 = compiled(&mut m, ok("read", &Value::Nil, &Value::Int(2)));
        let r3 = compiled(&mut m, ok("read", &Value::Nil, &Value::Int(3)));
        let rnil = compiled(&mut m, ok("read", &Value::Nil, &Value::Nil));
        let s0 = m.init();
        assert_eq!(m.describe_state(&s0), "register is nil");
        assert_eq!(m.step(&s0, &rnil), Some(s0));
        assert_eq!(m.step(&s0, &r2), None);
        assert_eq!(m.explain(&s0, &r2), "can't read 2: register is nil");
        let s1 = m.step(&s0, &w).unwrap();
        assert_eq!(m.describe_state(&s1), "register holds 2");
        assert_eq!(m.step(&s1, &r2), Some(s1));
        assert_eq!(m.explain(&s1, &r2), "");
        assert_eq!(m.step(&s1, &r3), None);
        assert_eq!(m.explain(&s1, &r3), "can't read 3: register holds 2");
        assert_eq!(m.explain(&s1, &rnil), "can't read nil: register holds 2");
        assert_eq!(m.describe_op(&w), "write 2");
        assert_eq!(m.describe_op(&r3), "read 3");
        assert_eq!(m.name(), "register");
    }

    /// The contract of `reachable` and `may_enable`, checked exhaustively
    /// over three values: an unreachable target is illegal, and every op
    /// that may not enable it keeps it unreachable.
    #[test]
    fn reachability_hooks_keep_their_contract() {
        let m = Register::new(&ModelOptions::default());
        let mut ops = Vec::new();
        for v in 0..3 {
            ops.push(RegisterOp::Read(v));
            ops.push(RegisterOp::Write(v));
            for w in 0..3 {
                ops.push(RegisterOp::Cas { old: v, new: w });
                ops.push(RegisterOp::CasFailed { old: v, new: w });
            }
        }
        let mut pruned = 0;
        for s in 0..3u32 {
            for t in &ops {
                if m.reachable(&s, t) {
                    continue;
                }
                pruned += 1;
                assert_eq!(m.step(&s, t), None, "{t:?} unreachable yet legal in {s}");
                for x in ops.iter().filter(|x| !m.may_enable(x, t)) {
                    if let Some(s1) = m.step(&s, x) {
                        assert!(!m.reachable(&s1, t), "{x:?} enables {t:?} from {s}");
                    }
                }
            }
        }
        assert!(pruned > 0);
    }

    #[test]
    fn initial_value_is_an_option() {
        let opts = ModelOptions {
            initial: Value::Int(0),
            ..ModelOptions::default()
        };
        let mut m = Register::new(&opts);
        let r0 = compiled(&mut m, ok("read", &Value::Nil, &Value::Int(0)));
        let rnil = compiled(&mut m, ok("read", &Value::Nil, &Value::Nil));
        assert_eq!(m.describe_state(&m.init()), "register holds 0");
        assert!(m.step(&m.init(), &r0).is_some());
        assert!(m.step(&m.init(), &rnil).is_none());
    }

    #[test]
    fn nil_reads_observe_nothing_in_knossos_reading() {
        let opts = ModelOptions {
            initial: Value::Int(0),
            nil_read_observes_nothing: true,
            ..ModelOptions::default()
        };
        let mut m = Register::new(&opts);
        assert_eq!(m.compile(&ok("read", &Value::Nil, &Value::Nil)), Ok(None));
        let r1 = compiled(&mut m, ok("read", &Value::Nil, &Value::Int(1)));
        assert!(m.step(&m.init(), &r1).is_none());
    }

    #[test]
    fn failed_and_indeterminate_ops() {
        let mut m = Register::new(&ModelOptions::default());
        let v = Value::Int(4);
        let err = Value::Keyword("timed-out".into());
        assert_eq!(
            m.compile(&Call::new("write", &v, None, Outcome::Fail)),
            Ok(None)
        );
        assert_eq!(
            m.compile(&Call::new("read", &Value::Nil, None, Outcome::Fail)),
            Ok(None)
        );
        assert_eq!(
            m.compile(&Call::new("read", &Value::Nil, None, Outcome::Info)),
            Ok(None)
        );
        let w = m.compile(&Call::new("write", &v, Some(&err), Outcome::Info));
        let w = w.unwrap().unwrap();
        assert_eq!(m.describe_op(&w), "write 4");
    }

    #[test]
    fn plain_register_rejects_cas_and_unknown_ops() {
        let mut m = Register::new(&ModelOptions::default());
        let pair = Value::Vector(vec![Value::Int(1), Value::Int(2)]);
        let e = m.compile(&ok("cas", &pair, &pair)).unwrap_err();
        assert!(e.contains("--model cas-register"), "{e}");
        let e = m.compile(&ok("add", &pair, &pair)).unwrap_err();
        assert_eq!(
            e,
            "the register model has no operation :add: expected :read or :write"
        );
    }

    #[test]
    fn keys_are_ignored() {
        let mut m = Register::new(&ModelOptions::default());
        let k = Value::Int(9);
        let v = Value::Int(1);
        let call = ok("write", &v, &v).with_key(Some(&k));
        assert_eq!(m.compile(&call), Ok(Some(RegisterOp::Write(1))));
    }

    fn arb_op() -> impl Strategy<Value = RegisterOp> {
        prop_oneof![
            (0u32..4).prop_map(RegisterOp::Read),
            (0u32..4).prop_map(RegisterOp::Write),
            (0u32..4, 0u32..4).prop_map(|(old, new)| RegisterOp::Cas { old, new }),
            (0u32..4, 0u32..4).prop_map(|(old, new)| RegisterOp::CasFailed { old, new }),
        ]
    }

    proptest! {
        #[test]
        fn step_is_deterministic_and_explained(state in 0u32..4, op in arb_op()) {
            let mut m = Register::with_cas(&ModelOptions::default(), true);
            for i in 1..4 {
                m.values.intern(&Value::Int(i));
            }
            let next = m.step(&state, &op);
            prop_assert_eq!(next, m.step(&state, &op));
            prop_assert_eq!(next.is_none(), !m.explain(&state, &op).is_empty());
        }
    }
}
