//! The mutex (`--model mutex`): Knossos's lock, held or free.
//!
//! # Operations
//!
//! | `f`       | input   | output  |
//! |-----------|---------|---------|
//! | `acquire` | ignored | ignored |
//! | `release` | ignored | ignored |
//!
//! The lock starts free. Acquiring needs it free; releasing needs it held.
//! Like Knossos's model, it does not track which process holds the lock;
//! shrinking still explains a release by its own process's acquire
//! ([`Model::needs_own_process`]).
//! The state is a `bool`; a step never allocates.
//!
//! # Semantic choices
//!
//! A `fail`ed acquire or release did not happen; an indeterminate (`info`)
//! one may have (the checker decides). [`ModelOptions`] do not apply.

use super::{Call, Model, ModelOptions};
use crate::history::Outcome;

/// A lock: acquire and release.
#[derive(Clone, Debug, Default)]
pub struct Mutex;

/// A compiled mutex operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MutexOp {
    /// Takes the lock; needs it free.
    Acquire,
    /// Gives the lock back; needs it held.
    Release,
}

impl Mutex {
    /// A free lock. The options do not apply to locks.
    pub fn new(_options: &ModelOptions) -> Self {
        Mutex
    }
}

impl Model for Mutex {
    /// Is the lock held?
    type State = bool;
    type Op = MutexOp;

    fn name(&self) -> &'static str {
        "mutex"
    }

    fn compile(&mut self, call: &Call<'_>) -> Result<Option<MutexOp>, String> {
        let op = match call.f {
            "acquire" | "lock" => MutexOp::Acquire,
            "release" | "unlock" => MutexOp::Release,
            f => {
                return Err(format!(
                    "the mutex model has no operation :{f}: expected :acquire or :release"
                ))
            }
        };
        Ok((call.outcome != Outcome::Fail).then_some(op))
    }

    fn init(&self) -> bool {
        false
    }

    #[inline]
    fn step(&self, held: &bool, op: &MutexOp) -> Option<bool> {
        match op {
            MutexOp::Acquire => (!*held).then_some(true),
            MutexOp::Release => held.then_some(false),
        }
    }

    fn explain(&self, held: &bool, op: &MutexOp) -> String {
        match (op, held) {
            (MutexOp::Acquire, true) => "can't acquire: lock is held".to_string(),
            (MutexOp::Release, false) => "can't release: lock is free".to_string(),
            _ => String::new(),
        }
    }

    fn describe_op(&self, op: &MutexOp) -> String {
        match op {
            MutexOp::Acquire => "acquire".to_string(),
            MutexOp::Release => "release".to_string(),
        }
    }

    /// A release needs its caller's own acquire.
    fn needs_own_process(&self, op: &MutexOp) -> bool {
        *op == MutexOp::Release
    }

    fn describe_state(&self, held: &bool) -> String {
        if *held {
            "lock is held"
        } else {
            "lock is free"
        }
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Value;
    use proptest::prelude::*;

    #[test]
    fn acquire_needs_a_free_lock_and_release_a_held_one() {
        let mut m = Mutex::new(&ModelOptions::default());
        let nil = Value::Nil;
        let acq = m.compile(&Call::new("acquire", &nil, Some(&nil), Outcome::Ok));
        let acq = acq.unwrap().unwrap();
        let rel = m.compile(&Call::new("release", &nil, None, Outcome::Info));
        let rel = rel.unwrap().unwrap();
        let free = m.init();
        assert_eq!(m.describe_state(&free), "lock is free");
        assert_eq!(m.step(&free, &rel), None);
        assert_eq!(m.explain(&free, &rel), "can't release: lock is free");
        let held = m.step(&free, &acq).unwrap();
        assert_eq!(m.describe_state(&held), "lock is held");
        assert_eq!(m.step(&held, &acq), None);
        assert_eq!(m.explain(&held, &acq), "can't acquire: lock is held");
        assert_eq!(m.explain(&held, &rel), "");
        assert_eq!(m.step(&held, &rel), Some(false));
        assert_eq!(m.describe_op(&acq), "acquire");
        assert_eq!(
            m.compile(&Call::new("acquire", &nil, None, Outcome::Fail)),
            Ok(None)
        );
        let e = m
            .compile(&Call::new("read", &nil, None, Outcome::Ok))
            .unwrap_err();
        assert_eq!(
            e,
            "the mutex model has no operation :read: expected :acquire or :release"
        );
    }

    proptest! {
        #[test]
        fn step_is_deterministic_and_explained(held in any::<bool>(), acquire in any::<bool>()) {
            let m = Mutex;
            let op = if acquire { MutexOp::Acquire } else { MutexOp::Release };
            let next = m.step(&held, &op);
            prop_assert_eq!(next, m.step(&held, &op));
            prop_assert_eq!(next.is_none(), !m.explain(&held, &op).is_empty());
        }
    }
}
