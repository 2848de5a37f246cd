//! The counter (`--model counter`): a number that ops add to and read.
//!
//! # Operations
//!
//! | `f`                  | input                          | output (of `ok`) |
//! |----------------------|--------------------------------|------------------|
//! | `add`                | the amount, an integer (`nil`: 1) | ignored       |
//! | `increment`, `incr`  | the amount (`nil`: 1)          | ignored          |
//! | `read`               | ignored                        | the count        |
//!
//! Amounts may be negative. The count starts at [`ModelOptions::initial`]
//! when that is an integer, and at 0 when it is `nil`. The state is an
//! `i64`; additions wrap rather than overflow. A step never allocates.
//!
//! # Semantic choices
//!
//! - A `fail`ed add did not happen; an indeterminate (`info`) add may have
//!   (the checker decides). Failed and indeterminate reads observed nothing.
//! - An `ok` read of `nil` observes nothing under
//!   [`ModelOptions::nil_read_observes_nothing`]; otherwise it is an error,
//!   since a counter always holds a number.

use super::{Call, Model, ModelOptions};
use crate::history::{Outcome, Value};

/// A counter with add and read.
#[derive(Clone, Debug)]
pub struct Counter {
    initial: i64,
    nil_read_observes_nothing: bool,
}

/// A compiled counter operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CounterOp {
    /// Adds this amount.
    Add(i64),
    /// A read that observed this count.
    Read(i64),
}

impl Counter {
    /// A counter with these options; an initial value that is not an
    /// integer (such as the default `nil`) counts as 0.
    pub fn new(options: &ModelOptions) -> Self {
        Counter {
            initial: options.initial.as_int().unwrap_or(0),
            nil_read_observes_nothing: options.nil_read_observes_nothing,
        }
    }
}

fn amount(f: &str, input: &Value) -> Result<i64, String> {
    match input {
        Value::Nil => Ok(1),
        Value::Int(n) => Ok(*n),
        other => Err(format!(
            "expected {f}'s value to be an integer (or nil for 1), found {other}"
        )),
    }
}

impl Model for Counter {
    type State = i64;
    type Op = CounterOp;

    fn name(&self) -> &'static str {
        "counter"
    }

    fn compile(&mut self, call: &Call<'_>) -> Result<Option<CounterOp>, String> {
        match call.f {
            "add" | "increment" | "incr" => {
                let n = amount(call.f, call.input)?;
                Ok(match call.outcome {
                    Outcome::Fail => None,
                    Outcome::Ok | Outcome::Info => Some(CounterOp::Add(n)),
                })
            }
            "read" => match call.ok_output() {
                None => Ok(None),
                Some(Value::Nil) if self.nil_read_observes_nothing => Ok(None),
                Some(Value::Int(n)) => Ok(Some(CounterOp::Read(*n))),
                Some(other) => Err(format!(
                    "expected a counter read to return an integer, found {other}"
                )),
            },
            f => Err(format!(
                "the counter model has no operation :{f}: expected :add, :increment or :read"
            )),
        }
    }

    fn init(&self) -> i64 {
        self.initial
    }

    #[inline]
    fn step(&self, state: &i64, op: &CounterOp) -> Option<i64> {
        match *op {
            CounterOp::Add(n) => Some(state.wrapping_add(n)),
            CounterOp::Read(v) => (*state == v).then_some(*state),
        }
    }

    fn read_only(&self, op: &CounterOp) -> bool {
        matches!(op, CounterOp::Read(_))
    }

    fn explain(&self, state: &i64, op: &CounterOp) -> String {
        match *op {
            CounterOp::Read(v) if v != *state => format!("can't read {v}: counter is {state}"),
            _ => String::new(),
        }
    }

    fn describe_op(&self, op: &CounterOp) -> String {
        match *op {
            CounterOp::Add(n) => format!("add {n}"),
            CounterOp::Read(v) => format!("read {v}"),
        }
    }

    fn describe_state(&self, state: &i64) -> String {
        format!("counter is {state}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn compile(
        m: &mut Counter,
        f: &str,
        v: &Value,
        outcome: Outcome,
    ) -> Result<Option<CounterOp>, String> {
        m.compile(&Call::new(f, v, Some(v), outcome))
    }

    #[test]
    fn reads_see_the_sum_of_adds() {
        let mut m = Counter::new(&ModelOptions::default());
        let add = compile(&mut m, "add", &Value::Int(5), Outcome::Ok)
            .unwrap()
            .unwrap();
        let inc = compile(&mut m, "increment", &Value::Nil, Outcome::Ok)
            .unwrap()
            .unwrap();
        let dec = compile(&mut m, "add", &Value::Int(-2), Outcome::Ok)
            .unwrap()
            .unwrap();
        let r4 = compile(&mut m, "read", &Value::Nil, Outcome::Ok);
        assert_eq!(
            r4,
            Err("expected a counter read to return an integer, found nil".into())
        );
        let r4 = compile(&mut m, "read", &Value::Int(4), Outcome::Ok)
            .unwrap()
            .unwrap();
        let s = m.init();
        assert_eq!(s, 0);
        assert_eq!(m.step(&s, &r4), None);
        assert_eq!(m.explain(&s, &r4), "can't read 4: counter is 0");
        let s = m.step(&s, &add).unwrap();
        let s = m.step(&s, &inc).unwrap();
        let s = m.step(&s, &dec).unwrap();
        assert_eq!(m.step(&s, &r4), Some(4));
        assert_eq!(m.explain(&s, &r4), "");
        assert_eq!(m.describe_op(&inc), "add 1");
        assert_eq!(m.describe_op(&r4), "read 4");
        assert_eq!(m.describe_state(&s), "counter is 4");
    }

    #[test]
    fn options_and_outcomes() {
        let opts = ModelOptions {
            initial: Value::Int(10),
            nil_read_observes_nothing: true,
            ..ModelOptions::default()
        };
        let mut m = Counter::new(&opts);
        assert_eq!(m.init(), 10);
        assert_eq!(compile(&mut m, "read", &Value::Nil, Outcome::Ok), Ok(None));
        assert_eq!(
            compile(&mut m, "add", &Value::Int(1), Outcome::Fail),
            Ok(None)
        );
        assert_eq!(
            compile(&mut m, "read", &Value::Int(1), Outcome::Info),
            Ok(None)
        );
        assert_eq!(
            compile(&mut m, "add", &Value::Int(3), Outcome::Info),
            Ok(Some(CounterOp::Add(3)))
        );
        let e = compile(&mut m, "add", &Value::from("x"), Outcome::Ok).unwrap_err();
        assert_eq!(
            e,
            r#"expected add's value to be an integer (or nil for 1), found "x""#
        );
        let e = compile(&mut m, "write", &Value::Int(1), Outcome::Ok).unwrap_err();
        assert!(e.contains("no operation :write"), "{e}");
    }

    fn arb_op() -> impl Strategy<Value = CounterOp> {
        prop_oneof![
            (-3i64..3).prop_map(CounterOp::Add),
            (-3i64..3).prop_map(CounterOp::Read),
        ]
    }

    proptest! {
        #[test]
        fn step_is_deterministic_and_explained(state in -3i64..3, op in arb_op()) {
            let m = Counter::new(&ModelOptions::default());
            let next = m.step(&state, &op);
            prop_assert_eq!(next, m.step(&state, &op));
            prop_assert_eq!(next.is_none(), !m.explain(&state, &op).is_empty());
        }
    }
}
