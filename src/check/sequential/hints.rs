//! What the search may assume about a model's operations beyond
//! [`Model::step`].
//!
//! The search is correct with no hints at all ([`NoHints`]). Hints make
//! these safe prunings possible:
//!
//! - **Observations go first.** If the next op of a process only observes
//!   the state ([`Effect::Unchanged`]) and can happen now, placing it now is
//!   never worse than placing it later, so no other move is tried. Proof:
//!   take any valid completion from here in which the op `o` of process `p`
//!   comes after a sequence `a` of other processes' ops. `o` can happen now
//!   and leaves the state unchanged, so `a` sees the same states when run
//!   after `o`; where `o` used to be, it did not change the state either, so
//!   everything after sees the same states too. Program order is kept
//!   because `a` holds no op of `p` (`o` is `p`'s next op). If the completion
//!   left an indeterminate `o` out, placing it changes no state, so the
//!   completion with `o` placed first is valid as well.
//! - **Starved requirements.** If a required op needs the key to be in
//!   state `x` ([`Hints::requires`]), the key is not in `x` now, and no op
//!   still unplaced can set the key to `x` (every remaining op of that key
//!   either leaves the state unchanged or sets a known state other than
//!   `x`), the op can never happen: nothing below this configuration
//!   succeeds. This is "a read of a value that no remaining write produces
//!   cannot be placed" — for example a process that read 2 and must next
//!   read 1, after the only write of 1 was placed before the write of 2.
//! - **Useless indeterminate writes.** An indeterminate op that sets its
//!   key to `v` need never be placed if no unplaced op needs `v` and every
//!   other unplaced op of that key either needs some state or is a blind
//!   write (always enabled, sets a known state). Proof: in a valid order
//!   that places it, the next op of the same key after it would need `v`
//!   (there is none) or is a blind write, which can happen in the state
//!   before the indeterminate op too and leaves the same state; ops of
//!   other keys do not see it. So the order without it is valid, and
//!   leaving an indeterminate op out is allowed.
//! - **Proved orders.** When [`Hints::effect`] and [`Hints::requires`] name
//!   the value an op writes and the value it reads, and a value is written
//!   by one op only, reads say which write they saw; the orders that
//!   proves (the `observe` module, with its proofs) hold in every valid
//!   order, so the search never breaks one, and a cycle among them
//!   refutes the history without a search.
//!
//! - **Unreachable requirements.** On a key with ops of unknown effect
//!   (appends), which the starved rule cannot see through: if a required
//!   op `t` that needs a state ([`Hints::requires`]) is not yet placed,
//!   [`Model::reachable`] says `t` is unreachable from the key's state,
//!   and no unplaced op `x` of the key has [`Model::may_enable`]`(x, t)`,
//!   nothing below this configuration succeeds. Proof: by the contract of
//!   `reachable`, `t` cannot happen in the current state, and a step of
//!   any op `x` with `!may_enable(x, t)` from a state where `t` is
//!   unreachable leads to one where it is unreachable too; every op still
//!   to be placed on the key is such an `x` (ops of other keys leave the
//!   key's state alone), so by induction `t` stays unreachable, hence
//!   illegal, in every later state of the key; but `t` is required and
//!   must be placed. For kv this is "a read of `ab` after the key holds
//!   `ac`, with no write or cas left that could reset it".
//!
//! [`Hints::describe_value`] names values for the one-sentence explanation
//! of an invalid history.

use crate::model::{CasRegister, Cell, KvOp, KvRegister, Model, Register, RegisterOp};

/// What an operation does to the state of its object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect<S> {
    /// Wherever it can happen, it leaves the state as it was (a read).
    Unchanged,
    /// Wherever it can happen, the state after it is this one (a write).
    Sets(S),
    /// Nothing is promised.
    Unknown,
}

/// Knowledge about a model's compiled operations that the sequential
/// search uses to prune. Every answer is a promise about [`Model::step`]
/// for *every* state; a wrong promise makes verdicts wrong, so when in
/// doubt answer [`Effect::Unknown`] / `None`.
pub trait Hints<M: Model>: Sync {
    /// The op's effect on the state (see [`Effect`]).
    fn effect(&self, model: &M, op: &M::Op) -> Effect<M::State> {
        let _ = (model, op);
        Effect::Unknown
    }

    /// `Some(x)` if the op can happen only in state `x` (a read of `x`, a
    /// compare-and-set from `x`): `step(t, op)` is `None` for every `t != x`.
    fn requires(&self, model: &M, op: &M::Op) -> Option<M::State> {
        let _ = (model, op);
        None
    }

    /// `true` if the op can happen in every state (a blind write).
    fn always_enabled(&self, model: &M, op: &M::Op) -> bool {
        let _ = (model, op);
        false
    }

    /// The value a state holds, in words (`1`, `nil`), for explanations
    /// that name the values ops read and write; `None` if the model's
    /// states are not single values.
    fn describe_value(&self, model: &M, state: &M::State) -> Option<String> {
        let _ = (model, state);
        None
    }
}

/// No hints: every op may do anything.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoHints;

impl<M: Model> Hints<M> for NoHints {}

/// Exact hints for the register models: a read observes, a write sets, a
/// cas requires its old value and sets its new one, a failed cas (read as
/// an observation) changes nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct RegisterHints;

fn register_effect(op: &RegisterOp) -> Effect<u32> {
    match *op {
        RegisterOp::Read(_) | RegisterOp::CasFailed { .. } => Effect::Unchanged,
        RegisterOp::Write(v) | RegisterOp::Cas { new: v, .. } => Effect::Sets(v),
    }
}

fn register_requires(op: &RegisterOp) -> Option<u32> {
    match *op {
        RegisterOp::Read(v) | RegisterOp::Cas { old: v, .. } => Some(v),
        RegisterOp::Write(_) | RegisterOp::CasFailed { .. } => None,
    }
}

/// A register state's value, as the model prints it in a write.
fn register_value<M: Model<Op = RegisterOp>>(model: &M, state: u32) -> Option<String> {
    model
        .describe_op(&RegisterOp::Write(state))
        .strip_prefix("write ")
        .map(str::to_string)
}

impl Hints<Register> for RegisterHints {
    fn describe_value(&self, m: &Register, state: &u32) -> Option<String> {
        register_value(m, *state)
    }
    fn effect(&self, _: &Register, op: &RegisterOp) -> Effect<u32> {
        register_effect(op)
    }
    fn always_enabled(&self, _: &Register, op: &RegisterOp) -> bool {
        matches!(op, RegisterOp::Write(_))
    }
    fn requires(&self, _: &Register, op: &RegisterOp) -> Option<u32> {
        register_requires(op)
    }
}

impl Hints<CasRegister> for RegisterHints {
    fn describe_value(&self, m: &CasRegister, state: &u32) -> Option<String> {
        register_value(m, *state)
    }
    fn effect(&self, _: &CasRegister, op: &RegisterOp) -> Effect<u32> {
        register_effect(op)
    }
    fn always_enabled(&self, _: &CasRegister, op: &RegisterOp) -> bool {
        matches!(op, RegisterOp::Write(_))
    }
    fn requires(&self, _: &CasRegister, op: &RegisterOp) -> Option<u32> {
        register_requires(op)
    }
}

/// Exact hints for one key of the kv model: reads observe, writes set,
/// a cas requires its old value and sets its new one, a failed cas
/// observes; an append's result depends on the value, so nothing is
/// promised for it.
#[derive(Clone, Copy, Debug, Default)]
pub struct KvHints;

impl Hints<KvRegister> for KvHints {
    fn describe_value(&self, m: &KvRegister, state: &Cell) -> Option<String> {
        m.describe_op(&KvOp::Write(state.clone()))
            .strip_prefix("write ")
            .map(str::to_string)
    }
    fn effect(&self, _: &KvRegister, op: &KvOp) -> Effect<Cell> {
        match op {
            KvOp::Read(_) | KvOp::CasFailed { .. } => Effect::Unchanged,
            KvOp::Write(v) | KvOp::Cas { new: v, .. } => Effect::Sets(v.clone()),
            KvOp::Append(_) => Effect::Unknown,
        }
    }
    fn requires(&self, _: &KvRegister, op: &KvOp) -> Option<Cell> {
        match op {
            KvOp::Read(v) | KvOp::Cas { old: v, .. } => Some(v.clone()),
            _ => None,
        }
    }
    fn always_enabled(&self, _: &KvRegister, op: &KvOp) -> bool {
        matches!(op, KvOp::Write(_))
    }
}
