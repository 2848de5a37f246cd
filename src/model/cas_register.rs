//! The compare-and-set register (`--model cas-register`), Knossos's
//! `cas-register` and the model of Jepsen's etcd tests.
//!
//! # Operations
//!
//! | `f`     | input        | output (of an `ok` completion) |
//! |---------|--------------|--------------------------------|
//! | `read`  | ignored      | the value read                 |
//! | `write` | the value    | ignored                        |
//! | `cas`   | `[old new]`  | ignored                        |
//!
//! A cas succeeds only if the register holds `old`, and then writes `new`.
//! It shares its engine with [`Register`]: values are interned to `u32`
//! ids, the state is one `u32`, and a step never allocates.
//!
//! # Semantic choices
//!
//! - A `fail`ed cas did not happen and constrains nothing (Jepsen's
//!   reading), unless [`ModelOptions::failed_cas_observes`] is set
//!   (Porcupine's reading): then it is an observation, made while it was
//!   pending, that the register did *not* hold `old`. On the etcd histories
//!   both readings give the same verdicts.
//! - An indeterminate (`info`) cas may have taken effect: it compiles as a
//!   cas, and the checker decides whether it happened.
//! - `nil` reads and the initial value follow [`ModelOptions`], as for
//!   [`Register`].

use super::register::{Register, RegisterOp};
use super::{Call, Model, ModelOptions};

/// A register with read, write and compare-and-set.
#[derive(Clone, Debug)]
pub struct CasRegister(Register);

impl CasRegister {
    /// A cas register with these options.
    pub fn new(options: &ModelOptions) -> Self {
        CasRegister(Register::with_cas(options, true))
    }
}

impl Model for CasRegister {
    type State = u32;
    type Op = RegisterOp;

    fn name(&self) -> &'static str {
        "cas-register"
    }

    fn compile(&mut self, call: &Call<'_>) -> Result<Option<RegisterOp>, String> {
        self.0.compile(call)
    }

    fn init(&self) -> u32 {
        self.0.init()
    }

    #[inline]
    fn step(&self, state: &u32, op: &RegisterOp) -> Option<u32> {
        self.0.step(state, op)
    }

    fn read_only(&self, op: &RegisterOp) -> bool {
        self.0.read_only(op)
    }

    fn reachable(&self, state: &u32, target: &RegisterOp) -> bool {
        self.0.reachable(state, target)
    }

    fn may_enable(&self, op: &RegisterOp, target: &RegisterOp) -> bool {
        self.0.may_enable(op, target)
    }

    fn explain(&self, state: &u32, op: &RegisterOp) -> String {
        self.0.explain(state, op)
    }

    fn describe_op(&self, op: &RegisterOp) -> String {
        self.0.describe_op(op)
    }

    fn describe_state(&self, state: &u32) -> String {
        self.0.describe_state(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Outcome, Value};
    use proptest::prelude::*;

    fn pair(a: Value, b: Value) -> Value {
        Value::Vector(vec![a, b])
    }

    fn op(m: &mut CasRegister, f: &str, input: &Value, outcome: Outcome) -> Option<RegisterOp> {
        m.compile(&Call::new(f, input, Some(input), outcome))
            .unwrap()
    }

    #[test]
    fn cas_succeeds_only_from_the_expected_value() {
        let mut m = CasRegister::new(&ModelOptions::default());
        let w2 = op(&mut m, "write", &Value::Int(2), Outcome::Ok).unwrap();
        let cas13 = pair(Value::Int(1), Value::Int(3));
        let cas23 = pair(Value::Int(2), Value::Int(3));
        let c13 = op(&mut m, "cas", &cas13, Outcome::Ok).unwrap();
        let c23 = op(&mut m, "cas", &cas23, Outcome::Ok).unwrap();
        let s2 = m.step(&m.init(), &w2).unwrap();
        assert_eq!(m.step(&s2, &c13), None);
        assert_eq!(
            m.explain(&s2, &c13),
            "can't CAS from 1 to 3: register holds 2"
        );
        let s3 = m.step(&s2, &c23).unwrap();
        assert_eq!(m.describe_state(&s3), "register holds 3");
        assert_eq!(m.explain(&s2, &c23), "");
        assert_eq!(m.describe_op(&c13), "cas 1 -> 3");
        assert_eq!(
            m.explain(&m.init(), &c23),
            "can't CAS from 2 to 3: register is nil"
        );
        assert_eq!(m.name(), "cas-register");
    }

    #[test]
    fn a_cas_to_the_value_it_expects_is_read_only() {
        let mut m = CasRegister::new(&ModelOptions::default());
        let same = op(
            &mut m,
            "cas",
            &pair(Value::Int(1), Value::Int(1)),
            Outcome::Ok,
        )
        .unwrap();
        let other = op(
            &mut m,
            "cas",
            &pair(Value::Int(1), Value::Int(2)),
            Outcome::Ok,
        )
        .unwrap();
        let w1 = op(&mut m, "write", &Value::Int(1), Outcome::Ok).unwrap();
        assert!(m.read_only(&same));
        assert!(!m.read_only(&other));
        let s1 = m.step(&m.init(), &w1).unwrap();
        assert_eq!(m.step(&s1, &same), Some(s1));
    }

    #[test]
    fn cas_from_nil_matches_an_absent_register() {
        let mut m = CasRegister::new(&ModelOptions::default());
        let c = op(&mut m, "cas", &pair(Value::Nil, Value::Int(1)), Outcome::Ok).unwrap();
        assert_eq!(
            m.step(&m.init(), &c).map(|s| m.describe_state(&s)),
            Some("register holds 1".into())
        );
    }

    #[test]
    fn failed_cas_constrains_nothing_by_default() {
        let mut m = CasRegister::new(&ModelOptions::default());
        let c = pair(Value::Int(1), Value::Int(3));
        assert_eq!(op(&mut m, "cas", &c, Outcome::Fail), None);
    }

    #[test]
    fn failed_cas_observes_a_different_value_in_porcupine_reading() {
        let opts = ModelOptions {
            initial: Value::Int(1),
            failed_cas_observes: true,
            ..ModelOptions::default()
        };
        let mut m = CasRegister::new(&opts);
        let f13 = op(
            &mut m,
            "cas",
            &pair(Value::Int(1), Value::Int(3)),
            Outcome::Fail,
        )
        .unwrap();
        let f23 = op(
            &mut m,
            "cas",
            &pair(Value::Int(2), Value::Int(3)),
            Outcome::Fail,
        )
        .unwrap();
        let s1 = m.init();
        assert_eq!(m.step(&s1, &f13), None);
        assert_eq!(
            m.explain(&s1, &f13),
            "cas from 1 to 3 can't have failed: register holds 1"
        );
        assert_eq!(m.step(&s1, &f23), Some(s1));
        assert_eq!(m.describe_op(&f23), "failed cas 2 -> 3");
    }

    #[test]
    fn indeterminate_cas_may_take_effect() {
        let mut m = CasRegister::new(&ModelOptions::default());
        let input = pair(Value::Nil, Value::Int(5));
        let err = Value::Keyword("timed-out".into());
        let c = m
            .compile(&Call::new("cas", &input, Some(&err), Outcome::Info))
            .unwrap()
            .unwrap();
        assert_eq!(m.describe_op(&c), "cas nil -> 5");
        let s = m.step(&m.init(), &c).unwrap();
        assert_eq!(m.describe_state(&s), "register holds 5");
    }

    #[test]
    fn rejects_misshapen_cas_values() {
        let mut m = CasRegister::new(&ModelOptions::default());
        let e = m
            .compile(&Call::new("cas", &Value::Int(3), None, Outcome::Ok))
            .unwrap_err();
        assert_eq!(e, "expected cas's value to be [old new], found 3");
        let three = Value::Vector(vec![Value::Int(1), Value::Int(2), Value::Int(3)]);
        let e = m
            .compile(&Call::new("cas", &three, None, Outcome::Info))
            .unwrap_err();
        assert_eq!(e, "expected cas's value to be [old new], found [1 2 3]");
        let e = m
            .compile(&Call::new("append", &three, None, Outcome::Info))
            .unwrap_err();
        assert!(e.contains(":read, :write or :cas"), "{e}");
    }

    fn arb_call() -> impl Strategy<Value = (u8, i64, i64, u8)> {
        (0u8..3, 0i64..3, 0i64..3, 0u8..3)
    }

    proptest! {
        #[test]
        fn step_is_deterministic_and_explained(
            calls in proptest::collection::vec(arb_call(), 1..8),
            porcupine in any::<bool>(),
        ) {
            let opts = ModelOptions { failed_cas_observes: porcupine, ..ModelOptions::default() };
            let mut m = CasRegister::new(&opts);
            let mut ops = Vec::new();
            for (f, a, b, outcome) in calls {
                let outcome = [Outcome::Ok, Outcome::Fail, Outcome::Info][outcome as usize];
                let (f, input) = match f {
                    0 => ("read", Value::Int(a)),
                    1 => ("write", Value::Int(a)),
                    _ => ("cas", pair(Value::Int(a), Value::Int(b))),
                };
                let call = Call::new(f, &input, Some(&input), outcome);
                if let Some(op) = m.compile(&call).unwrap() {
                    ops.push(op);
                }
            }
            let mut state = m.init();
            for op in &ops {
                let next = m.step(&state, op);
                prop_assert_eq!(next, m.step(&state, op));
                prop_assert_eq!(next.is_none(), !m.explain(&state, op).is_empty());
                if let Some(s) = next {
                    state = s;
                }
            }
        }
    }
}
