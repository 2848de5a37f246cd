//! Models: the sequential specifications that histories are checked against.
//!
//! A model is a pure state machine: [`Model::init`] gives the initial state
//! and [`Model::step`] applies one operation, or says it is impossible. The
//! checkers search for an order of operations that every step accepts.
//! Steps are on the hot path of every search, so models work on *compiled*
//! operations ([`Model::Op`]): values interned to small integers, inputs and
//! observed outputs decoded once, before the search begins. The reason a
//! step is impossible is computed only when a report needs it
//! ([`Model::explain`]), in plain words, in the manner of Knossos's
//! `inconsistent` results ("can't CAS 1 from 2 to 3: register holds 2").
//!
//! The models are Knossos's, plus a key-value map and a counter:
//! register, cas-register, kv, set, fifo-queue, unordered-queue, counter,
//! mutex and multi-register, one file each. [`Keyed`] turns any of them
//! into one object per key, for checking a keyed history whole; the kv
//! model is `Keyed<KvRegister>`.
//!
//! Checkers are generic over [`Model`]; [`with_model!`](crate::with_model)
//! runs a generic body with the concrete model a [`ModelKind`] names, and
//! [`ModelKind::infer`] guesses the kind from a history's `f` names.
//!
//! # Semantic choices
//!
//! - **Initial value**: `nil` by default ([`ModelOptions::initial`]).
//! - **nil reads**: by default a read of `nil` means "the register is
//!   absent/nil" (etcd-style histories). With
//!   [`ModelOptions::nil_read_observes_nothing`], a `nil` read observes
//!   nothing and is legal in any state, as in Knossos, whose histories
//!   judged with an initial value of 0 rely on it.
//! - **Failed cas**: by default a `fail`ed cas did not happen and
//!   constrains nothing (Jepsen's reading). With
//!   [`ModelOptions::failed_cas_observes`], it is also an observation, made
//!   between its invocation and completion, that the register did not hold
//!   the expected value (Porcupine's reading).
//! - **Indeterminate ops** compile with no output: a read with unknown
//!   output constrains nothing and is dropped; a write or cas with unknown
//!   outcome may take effect (the checker decides whether it did).

mod cas_register;
#[cfg(test)]
mod corpus_tests;
mod counter;
mod infer;
pub use infer::Ambiguous;
mod intern;
mod keyed;
mod kv;
mod multi_register;
mod mutex;
mod queue;
mod register;
mod set;

pub use cas_register::CasRegister;
pub use counter::{Counter, CounterOp};
pub use keyed::{Keyed, KeyedOp};
pub use kv::{Cell, Kv, KvOp, KvRegister, Text};
pub use multi_register::{Micro, MultiRegister, Txn};
pub use mutex::{Mutex, MutexOp};
pub use queue::{Elements, FifoQueue, Pool, QueueOp, UnorderedQueue};
pub use register::{Register, RegisterOp};
pub use set::{Bits, Set, SetOp};

use crate::history::{History, Operation, Outcome, Value};
use std::fmt::Debug;
use std::hash::Hash;

/// The options every model takes.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelOptions {
    /// The initial value of a register (or of every key of a kv map).
    pub initial: Value,
    /// Knossos's reading: a read of `nil` is legal in any state.
    pub nil_read_observes_nothing: bool,
    /// Porcupine's reading: a failed cas observes that the register did not
    /// hold the expected value.
    pub failed_cas_observes: bool,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions {
            initial: Value::Nil,
            nil_read_observes_nothing: false,
            failed_cas_observes: false,
        }
    }
}

/// One operation as a model sees it before compiling: the invocation's `f`
/// and input, the `ok` completion's output, the outcome, and the key.
///
/// Build it with [`Call::of`] (from a history) or [`Call::new`] (in tests).
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    /// The function name, without a colon.
    pub f: &'a str,
    /// The invocation's value.
    pub input: &'a Value,
    /// The `ok` completion's value; `None` unless the outcome is `Ok`.
    pub output: Option<&'a Value>,
    /// What became of the op.
    pub outcome: Outcome,
    /// The op's key, for keyed workloads. Single-object models ignore it;
    /// [`Keyed`] models use it to pick the object.
    pub key: Option<&'a Value>,
}

impl<'a> Call<'a> {
    /// A call without a key.
    pub fn new(f: &'a str, input: &'a Value, output: Option<&'a Value>, outcome: Outcome) -> Self {
        Call {
            f,
            input,
            output,
            outcome,
            key: None,
        }
    }

    /// The same call with a key.
    pub fn with_key(mut self, key: Option<&'a Value>) -> Self {
        self.key = key;
        self
    }

    /// The call for one client operation of a history: its `f`, input,
    /// output, outcome and key, as [`History`] reads them.
    pub fn of(history: &'a History, op: &Operation) -> Self {
        Call {
            f: &history.invocation(op).f,
            input: history.input(op),
            output: history.output(op),
            outcome: op.outcome,
            key: history.key(op),
        }
    }

    /// The observed output of an `ok` call (`nil` if the completion carried
    /// none), or `None` when the outcome is not `ok`.
    pub(crate) fn ok_output(&self) -> Option<&'a Value> {
        match self.outcome {
            Outcome::Ok => Some(self.output.unwrap_or(&Value::Nil)),
            _ => None,
        }
    }
}

/// A sequential specification.
///
/// Implementations are cheap to clone: a checker clones a compiled model
/// per partition (per key) and searches partitions in parallel.
pub trait Model: Clone + Send + Sync {
    /// The state. Hashable, and small: the searches memoize on it.
    type State: Clone + Eq + Hash + Debug + Send + Sync;
    /// A compiled operation: its input and observed output, decoded.
    type Op: Clone + Debug + Send + Sync;

    /// The model's name, as `--model` spells it.
    fn name(&self) -> &'static str;

    /// Compiles one operation. `Ok(None)` means the op can neither change
    /// the state nor constrain it (a `fail`ed write, a crashed read) and is
    /// left out of the search. `Err` says what shape of value was expected.
    fn compile(&mut self, call: &Call<'_>) -> Result<Option<Self::Op>, String>;

    /// Called once the ops a search will be given are compiled, with every
    /// one of them, before [`Model::init`] and any step. A model may use
    /// what the whole history does to merge states that no op of it can
    /// tell apart: a queue element that no dequeue returns is, to every
    /// op, the same as any other such element, so states that differ only
    /// in which of them they hold are one state. Searches may then be
    /// given any subset of these ops, never an op not among them (a subset
    /// only has fewer ops that could tell states apart). The default does
    /// nothing, and a model never prepared keeps every state apart.
    fn prepare(&mut self, ops: &[&Self::Op]) {
        let _ = ops;
    }

    /// Pruning, once [prepared](Model::prepare): may an indeterminate
    /// `op` be left out of every search? True only if any order that
    /// places it still works with it left out, perhaps with other
    /// indeterminate ops left out too (which the search tries anyway). An
    /// enqueue of an element no dequeue returns never lets a later op
    /// happen that could not happen without it. The default, `false`, is
    /// always safe.
    fn never_needed(&self, op: &Self::Op) -> bool {
        let _ = op;
        false
    }

    /// The initial state.
    fn init(&self) -> Self::State;

    /// Applies `op` to `state`: the next state, or `None` if `op` cannot
    /// happen in `state`. Pure; called millions of times.
    fn step(&self, state: &Self::State, op: &Self::Op) -> Option<Self::State>;

    /// Why `op` cannot happen in `state`, in plain words; empty exactly
    /// when [`Model::step`] accepts `op` in `state`.
    fn explain(&self, state: &Self::State, op: &Self::Op) -> String;

    /// The op in Jepsen's words, for reports (`cas 1 -> 3`, `read 2`).
    fn describe_op(&self, op: &Self::Op) -> String;

    /// The state in plain words, for reports (`register holds 2`).
    fn describe_state(&self, state: &Self::State) -> String;

    /// Does `op` never change the state? True only if, in every state where
    /// [`Model::step`] accepts `op`, it returns that same state (a read, an
    /// observation). Checkers may then place `op` as soon as it is legal
    /// without trying alternatives, which cuts the search exponentially on
    /// read-heavy histories. The default, `false`, is always safe.
    fn read_only(&self, op: &Self::Op) -> bool {
        let _ = op;
        false
    }

    /// Does `op` need a state that only its own process's ops may set?
    /// A lock's release does: its caller must hold the lock. The model
    /// need not track which process that is (Knossos's mutex does not),
    /// but a minimal counterexample must not show a release legal only
    /// after another process's acquire: removing its caller's acquire
    /// made it illegal, not the bug. Shrinkers explain such an op by its
    /// own process's ops alone. The default, `false`, lets any process's
    /// ops explain it.
    fn needs_own_process(&self, op: &Self::Op) -> bool {
        let _ = op;
        false
    }

    /// Pruning support, with [`Model::may_enable`]: can `target` still
    /// become legal from `state`? `false` claims two things:
    /// 1. `target` is illegal in `state`;
    /// 2. every op `x` with `!may_enable(x, target)` keeps it so: a step
    ///    of `x` from a state where `reachable` is false leads to a state
    ///    where it is false too.
    ///
    /// A search that must place `target` before any op that may enable it
    /// can therefore give up at once. For a string that grows by appends,
    /// a read of `"ab"` is unreachable from `"ac"`: no append helps, and a
    /// write helps only if it writes a prefix of `"ab"`. The default,
    /// `true`, is always safe.
    fn reachable(&self, state: &Self::State, target: &Self::Op) -> bool {
        let _ = (state, target);
        true
    }

    /// Pruning support, with [`Model::reachable`]: may a step of `op` take
    /// a state where `target` is unreachable to one where it is reachable?
    /// The default, `true`, is always safe.
    fn may_enable(&self, op: &Self::Op, target: &Self::Op) -> bool {
        let _ = (op, target);
        true
    }

    /// Independent objects: the object `op` acts on, when the model is a
    /// set of objects that never constrain each other (a step of an op
    /// changes and depends on its own object's state only, as with one
    /// register per key). `None`, the default, says the model is one
    /// object. Linearizability being local (Herlihy & Wing 1990), a
    /// history is linearizable iff each object's sub-history is; checkers
    /// use this to draw evidence from the failing op's object alone.
    fn object(&self, op: &Self::Op) -> Option<u32> {
        let _ = op;
        None
    }

    /// With [`Model::object`]: a state that stands for `state` as far as
    /// `object` goes, the same for every state that agrees with `state`
    /// on it (every other object in its initial state, say). The contract:
    /// a sequence of ops on `object` is accepted from `state` iff it is
    /// accepted from `restrict(state, object)`. Searches use it to share
    /// what they learn about one object across the states of the others.
    /// The default, the state itself, always meets the contract.
    fn restrict(&self, state: &Self::State, object: u32) -> Self::State {
        let _ = object;
        state.clone()
    }

    /// The part of `state` that `op` depends on, in plain words, for
    /// reports: the whole state by default, the op's own object for a
    /// model of independent objects.
    fn describe_state_for(&self, state: &Self::State, op: &Self::Op) -> String {
        let _ = op;
        self.describe_state(state)
    }

    /// Roughly the heap bytes a new state like `state` adds, beyond its
    /// own size, when a search keeps it (a string's bytes, say; data
    /// shared with the state it was stepped from need not count). Searches
    /// use it to bound the memory of the states they keep. The default,
    /// 0, suits states that own no heap data.
    fn state_heap_bytes(&self, state: &Self::State) -> usize {
        let _ = state;
        0
    }

    /// Refutation support, with [`Model::reachable`]: does every step of
    /// `op` lead to a state where `target` is unreachable? A write of 2
    /// kills a read of 1. A checker may then refute a history where `op`
    /// completed before `target` began and nothing that may run between
    /// them may enable `target`. The default, `false`, is always safe.
    fn kills(&self, op: &Self::Op, target: &Self::Op) -> bool {
        let _ = (op, target);
        false
    }
}

/// The models labrys knows, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModelKind {
    /// A read/write register.
    Register,
    /// A register with compare-and-set.
    CasRegister,
    /// A map of registers: get/read, put/write, append and cas per key.
    Kv,
    /// A set: add, and read returning the whole set.
    Set,
    /// A first-in first-out queue: enqueue, dequeue.
    FifoQueue,
    /// A queue whose dequeues may return any enqueued element.
    UnorderedQueue,
    /// A counter: add (or increment) and read.
    Counter,
    /// A lock: acquire, release.
    Mutex,
    /// Several registers updated by atomic `txn`s of reads and writes.
    MultiRegister,
}

impl ModelKind {
    /// Every model, in the order the docs list them.
    pub const ALL: [ModelKind; 9] = [
        ModelKind::Register,
        ModelKind::CasRegister,
        ModelKind::Kv,
        ModelKind::Set,
        ModelKind::FifoQueue,
        ModelKind::UnorderedQueue,
        ModelKind::Counter,
        ModelKind::Mutex,
        ModelKind::MultiRegister,
    ];

    /// The model's name, as `--model` spells it.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Register => "register",
            ModelKind::CasRegister => "cas-register",
            ModelKind::Kv => "kv",
            ModelKind::Set => "set",
            ModelKind::FifoQueue => "fifo-queue",
            ModelKind::UnorderedQueue => "unordered-queue",
            ModelKind::Counter => "counter",
            ModelKind::Mutex => "mutex",
            ModelKind::MultiRegister => "multi-register",
        }
    }

    /// Looks a model up by name.
    pub fn parse(name: &str) -> Option<ModelKind> {
        ModelKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Runs a generic body with the concrete model a [`ModelKind`] names.
///
/// `with_model!(kind, &options, |m| body)` builds the model for `kind`
/// with `options` (a `&ModelOptions`), binds it (mutably) to `m`, and
/// evaluates `body`, which is compiled once per model type, so it can call
/// generic code such as `check::<M: Model>(m, ...)`. Every arm must give
/// `body` the same type.
///
/// Two forms:
///
/// - `with_model!(kind, options, |m| body)`: one object, ignoring keys,
///   for an unkeyed history or one key's partition of a keyed history
///   (`kv` is then one [`KvRegister`], which ignores keys).
/// - `with_model!(keyed kind, options, |m| body)`: the whole keyed
///   history as one object: every model wrapped in [`Keyed`] (one object
///   per key), and `kv` as [`Kv`].
///
/// ```
/// use labrys::model::{Model, ModelKind, ModelOptions};
/// use labrys::with_model;
///
/// fn name_of<M: Model>(m: &M) -> &'static str {
///     m.name()
/// }
/// let options = ModelOptions::default();
/// for kind in ModelKind::ALL {
///     let name = with_model!(kind, &options, |m| name_of(&m));
///     assert_eq!(name, kind.name());
///     let keyed = with_model!(keyed kind, &options, |m| name_of(&m));
///     assert_eq!(keyed, kind.name());
/// }
/// ```
#[macro_export]
macro_rules! with_model {
    (keyed $kind:expr, $options:expr, |$m:ident| $body:expr) => {{
        use $crate::model as __m;
        let __options: &__m::ModelOptions = $options;
        match $kind {
            __m::ModelKind::Register => {
                #[allow(unused_mut)]
                let mut $m = __m::Keyed::new(__m::Register::new(__options));
                $body
            }
            __m::ModelKind::CasRegister => {
                #[allow(unused_mut)]
                let mut $m = __m::Keyed::new(__m::CasRegister::new(__options));
                $body
            }
            __m::ModelKind::Kv => {
                #[allow(unused_mut)]
                let mut $m = __m::Kv::kv(__options);
                $body
            }
            __m::ModelKind::Set => {
                #[allow(unused_mut)]
                let mut $m = __m::Keyed::new(__m::Set::new(__options));
                $body
            }
            __m::ModelKind::FifoQueue => {
                #[allow(unused_mut)]
                let mut $m = __m::Keyed::new(__m::FifoQueue::new(__options));
                $body
            }
            __m::ModelKind::UnorderedQueue => {
                #[allow(unused_mut)]
                let mut $m = __m::Keyed::new(__m::UnorderedQueue::new(__options));
                $body
            }
            __m::ModelKind::Counter => {
                #[allow(unused_mut)]
                let mut $m = __m::Keyed::new(__m::Counter::new(__options));
                $body
            }
            __m::ModelKind::Mutex => {
                #[allow(unused_mut)]
                let mut $m = __m::Keyed::new(__m::Mutex::new(__options));
                $body
            }
            __m::ModelKind::MultiRegister => {
                #[allow(unused_mut)]
                let mut $m = __m::Keyed::new(__m::MultiRegister::new(__options));
                $body
            }
        }
    }};
    ($kind:expr, $options:expr, |$m:ident| $body:expr) => {{
        use $crate::model as __m;
        let __options: &__m::ModelOptions = $options;
        match $kind {
            __m::ModelKind::Register => {
                #[allow(unused_mut)]
                let mut $m = __m::Register::new(__options);
                $body
            }
            __m::ModelKind::CasRegister => {
                #[allow(unused_mut)]
                let mut $m = __m::CasRegister::new(__options);
                $body
            }
            __m::ModelKind::Kv => {
                #[allow(unused_mut)]
                let mut $m = __m::KvRegister::new(__options);
                $body
            }
            __m::ModelKind::Set => {
                #[allow(unused_mut)]
                let mut $m = __m::Set::new(__options);
                $body
            }
            __m::ModelKind::FifoQueue => {
                #[allow(unused_mut)]
                let mut $m = __m::FifoQueue::new(__options);
                $body
            }
            __m::ModelKind::UnorderedQueue => {
                #[allow(unused_mut)]
                let mut $m = __m::UnorderedQueue::new(__options);
                $body
            }
            __m::ModelKind::Counter => {
                #[allow(unused_mut)]
                let mut $m = __m::Counter::new(__options);
                $body
            }
            __m::ModelKind::Mutex => {
                #[allow(unused_mut)]
                let mut $m = __m::Mutex::new(__options);
                $body
            }
            __m::ModelKind::MultiRegister => {
                #[allow(unused_mut)]
                let mut $m = __m::MultiRegister::new(__options);
                $body
            }
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Op, OpType};

    #[test]
    fn calls_of_a_history_carry_input_output_outcome_and_key() {
        let mut w = Op::new(OpType::Invoke, 0, "write", Value::Int(3));
        w.key = Some(Value::from("k"));
        let h = History::from_ops(vec![
            w,
            Op::new(OpType::Invoke, 1, "read", Value::Nil),
            Op::new(OpType::Ok, 1, "read", Value::Int(3)),
            Op::new(OpType::Info, 0, "write", Value::Keyword("timeout".into())),
        ])
        .unwrap();
        let c = Call::of(&h, &h.operations[0]);
        assert_eq!(
            (c.f, c.input, c.output, c.outcome),
            ("write", &Value::Int(3), None, Outcome::Info)
        );
        assert_eq!(c.key, Some(&Value::from("k")));
        let r = Call::of(&h, &h.operations[1]);
        assert_eq!(
            (r.f, r.output, r.outcome, r.key),
            ("read", Some(&Value::Int(3)), Outcome::Ok, None)
        );
        assert_eq!(r.ok_output(), Some(&Value::Int(3)));
        assert_eq!(c.ok_output(), None);
    }

    #[test]
    fn the_dispatch_builds_the_named_model_plain_or_keyed() {
        let options = ModelOptions::default();
        for kind in ModelKind::ALL {
            assert_eq!(with_model!(kind, &options, |m| m.name()), kind.name());
            assert_eq!(with_model!(keyed kind, &options, |m| m.name()), kind.name());
            assert_eq!(ModelKind::parse(kind.name()), Some(kind));
        }
    }
}
