//! The search: Wing & Gong's depth-first search over a list of call and
//! return entries (Wing & Gong 1993), with Lowe's memo of configurations
//! (Lowe 2017) keyed by an incremental fingerprint (Horn & Kroening 2015).
//!
//! # The entry list
//!
//! Every *required* operation (completed `ok`, or a `fail` the model still
//! keeps as an observation) has a call entry at its invocation and a return
//! entry at its completion; the entries form a doubly linked list in
//! real-time order. Linearizing an operation *lifts* its two entries out of
//! the list; backtracking puts them back (the removed entries keep their
//! links, so re-insertion in reverse order restores the list exactly).
//!
//! At any point, the first return entry in the list belongs to the
//! unlinearized required operation `r` that returns first. The operations
//! that may be linearized next (the *candidates*) are exactly those invoked
//! before `r` returns: everything that returned before they were invoked is
//! already linearized, and `r` itself must be linearized before anything
//! invoked after its return.
//!
//! # Indeterminate operations
//!
//! An operation that completed `info` or never completed may take effect at
//! any time after its invocation, or never: its return is at the end of
//! time. Such *optional* operations live in a second list, in invocation
//! order, and are candidates while invoked before `r` returns. The search
//! succeeds as soon as every required operation is linearized: the
//! remaining optional ones are taken never to have happened.
//!
//! # Order of candidates
//!
//! The candidates are tried by return time, earliest first, then optional
//! ones by invocation time: the first candidate tried is always `r`, so the
//! search linearizes operations "just in time", in the spirit of Lowe's JIT
//! variant, and only tries other orders when that fails. The order changes
//! how soon a linearization is found, never the verdict: every candidate is
//! eventually tried (or pruned by a rule below).
//!
//! # Pruning
//!
//! 1. **Memo** (Lowe): a configuration (set of linearized operations, model
//!    state) already explored is not explored again. The search's future
//!    from a configuration depends only on the set (which fixes the list)
//!    and the state, and the search explores a configuration completely
//!    before returning from it, failing, so a revisit would fail too. A
//!    configuration is looked up when it is entered and recorded when it
//!    is left exhausted: one still on the stack cannot be met again (each
//!    level linearizes one more operation, so a configuration with the
//!    same set is that level itself), and one on the successful path is
//!    never left, so the memo holds failures only. Where rule 7 is on, a
//!    configuration that entered none below it (every candidate illegal,
//!    pruned or refuted at once) is left to rule 7's records, which
//!    subsume an identical configuration: redoing it costs one level.
//! 2. **Symmetry** of indeterminate operations: among optional operations
//!    whose compiled operations are identical, only the earliest-invoked
//!    unlinearized one is a candidate. *Proof.* Both return at the end, so
//!    neither constrains anything else, and they step alike. Take any
//!    successful continuation and, per group, rename the k-th member it
//!    uses to the k-th unlinearized member by invocation time. That member
//!    was invoked no later than the latest-invoked of the k members the
//!    continuation had used by then, all of which were candidates, and an
//!    operation stays a candidate once it is one (the bound `r` only moves
//!    later); states are unchanged, so the renamed continuation succeeds.
//!    Every configuration the search visits uses a prefix of each group,
//!    which is the form the renaming produces, so the memo stays sound.
//! 3. **Useless indeterminate steps**: an optional operation whose step
//!    leaves the state unchanged is not linearized. *Proof.* Drop it from
//!    any successful continuation: every later step sees the same states,
//!    it constrains no one (it returns at the end), and it is not required.
//! 4. **Read-only operations** ([`Model::read_only`]): at a fresh level, a
//!    required read-only candidate `x` that is legal in the state `s` is
//!    placed at once and its level has no alternatives. *Proof.* Take any
//!    successful continuation from here and move `x` to its front: `x` is
//!    a candidate, so everything that must precede it is placed already;
//!    moving it earlier only satisfies more "returned before invoked"
//!    constraints; it leaves `s` unchanged, and removing it from its old
//!    place leaves every later state unchanged (it never changes a state).
//!    So this level succeeds iff the level after placing `x` does.
//!
//! 5. **Unreachable return** ([`Model::reachable`],
//!    [`Model::may_enable`]): at a fresh level, if a required candidate
//!    `x` is unreachable in the current state and no unlinearized
//!    operation invoked before `x` returns may enable it, the
//!    configuration fails. *Proof.* In any continuation, every operation
//!    linearized before `x` was invoked before `x` returns (real time), and
//!    is unlinearized now. None of them may enable `x`, so by the model's
//!    contract `x` stays unreachable, hence illegal, in every state before
//!    it; but `x` is required.
//!
//! 6. **Twins**: among candidates whose compiled operations are identical,
//!    only the one that returns first is tried (an optional one returns at
//!    the end of time, so any required twin goes first; optional twins are
//!    left to rule 2). The `stop` item of a final-path search is never
//!    linearized, so it is never the one tried. *Proof.* Let `x` and `y`
//!    be identical candidates, `x` returning no later than `y`, and take
//!    any successful continuation that starts with `y`. If it places `x`
//!    later, swap the two; if it never places `x` (then `x` is optional,
//!    so `y` is too), put `x` in `y`'s place and drop `y`. Identical ops
//!    step alike, so every state is unchanged. `x` is a candidate, so
//!    everything that must precede it is placed already. `y` moves later,
//!    to where `x` was, past some ops `z`; each such `z` came before `x`
//!    in the original order, so `z` was invoked before `x` returned, hence
//!    before `y` returned, and `y` need not precede it. Every other pair
//!    keeps its order. A final-path search records a configuration when
//!    `stop` becomes the first return; the swapped order reaches it with
//!    the same state: where `y` is now unplaced, `x` was unplaced before,
//!    and `y` returns no earlier than `x`. So a level loses no outcome by
//!    trying only `x`, and the memo (rule 1) stays sound, as it records
//!    only configurations whose restricted exploration failed.
//!
//! 7. **Subsumption** of indeterminate operations: a configuration fails
//!    if a failed configuration with the same required operations
//!    linearized and the same state had linearized only optional
//!    operations that are linearized here too. *Proof.* Let `A = (R, O, s)`
//!    have failed and `B = (R, O', s)` with `O ⊆ O'`. The required list,
//!    and so every real-time constraint still to meet, depends on `R`
//!    alone. Any successful continuation from `B` places required ops of
//!    `R`'s complement and optional ops outside `O'`, hence outside `O`:
//!    it is a successful continuation from `A` too, which has none. A
//!    configuration is recorded as failed only when the search leaves it
//!    exhausted, so the record is a fact about the configuration, not
//!    about the search's restrictions (every other rule keeps a success
//!    if there is one). For a final-path search the same argument shows
//!    that every state `B` could reach just before `stop` returns was
//!    recorded from `A`. Records name the older optional ops by the XOR
//!    of their words (as a prefix of the order they were linearized in)
//!    and list the last few one by one, so a check costs a table look-up
//!    and a few flag reads; records may be forgotten at any time.
//!
//! 8. **Killed operations** ([`Model::kills`]), a check before the
//!    search: if a required op `y` returned before a required op `x` was
//!    invoked, every step of `y` leaves `x` unreachable, and no other op
//!    that may take effect between them (invoked before `x` returns,
//!    returning after `y` is invoked) may enable `x`, the history is not
//!    linearizable. *Proof.* In any linearization `y` precedes `x` (real
//!    time). An op placed between them was invoked before `x` returned
//!    (else `x` would precede it) and returned after `y` was invoked
//!    (else it would precede `y`): one of those checked. After `y`, `x` is
//!    unreachable, and by the contract of [`Model::reachable`] it stays so
//!    through ops that may not enable it: `x` is illegal where it is
//!    placed. The check looks at the few latest returns before each `x`
//!    and gives up on windows it finds too wide: it may miss a refutation
//!    (the search then finds it), never invent one.
//!
//! 9. **Future returns** ([`future`]): rule 5 for every unlinearized
//!    required op, not only the candidates: a read certain to come whose
//!    value the state can no longer reach fails the configuration at
//!    once. Its proof is rule 5's, which never used candidacy; the module
//!    keeps per-op counts of possible enablers so the check costs a few
//!    `reachable` calls per level.
//!
//! 10. **Objects** ([`objects`]): for a model of independent objects
//!     ([`Model::object`]) checked as one, with two objects or more, a
//!     configuration reached by placing an op of object `k` fails if
//!     `k`'s part of it (its unplaced ops, keeping real time among
//!     themselves, from the state) cannot be completed on its own; every
//!     object is asked once at the start. *Proof.* Keep only `k`'s ops of
//!     any successful continuation: real time among them is kept, every
//!     required one is there, and ops of other objects neither change nor
//!     read `k`'s state, so each is accepted as before: a completion of
//!     `k`'s part. The question goes to an engine over `k`'s ops alone,
//!     started from [`Model::restrict`] of the state with `k`'s placed
//!     ops lifted (a prefix of each symmetry group, as rule 2 places
//!     them), and its answer is cached on (the fingerprint of `k`'s
//!     placed ops, the restricted state): a fact about that part, valid
//!     whatever the other objects do. Off in final-path searches. By
//!     locality the condition is also sufficient, so past the start the
//!     search backtracks only over the candidates it refuses (the full
//!     argument is in the module).
//!
//! 11. **Optional runs**: a *run* is the optional operations linearized
//!     one after another since the last required one (or the start), with
//!     states `s_0 … s_m`. An optional step `o` from `s_m` to `s'` is not
//!     taken if `s'` is one of `s_0 … s_m` (a cycle) or if `o` takes some
//!     earlier `s_i` (`i < m`) to `s'` too (a shortcut); a required step
//!     `x` from `s_m` to `s'` is not taken if `x` takes some earlier `s_i`
//!     to `s'` too (the run was useless to it, as before a blind write).
//!     A configuration inside a run is looked up in the memo and rule 7's
//!     records on entry, and added to them when the search leaves it only
//!     if no step the rule cut below it looked back past it. *Proof.* Deleting the optional
//!     ops after `s_i` (and `o` itself, for a cycle) from a linearization
//!     leaves every later state unchanged; they constrain nobody (they
//!     return at the end) and are not required; every other op keeps its
//!     order. So a successful continuation from a configuration that
//!     begins a run (entered by a required step, or the start) reduces to
//!     one with no cycle or shortcut in any of its runs, which all lie
//!     wholly in the continuation: the rule cuts none of its steps. The
//!     other rules' rearrangements (renaming identical optional ops,
//!     swapping twins, moving a read to the front) keep every state or
//!     only delete further optional ops, so the normal forms combine, and
//!     such a configuration is explored completely: its memo entry and
//!     failure record are facts. A configuration inside a run may lose a
//!     continuation whose reduction deletes ops placed before it, but only
//!     through a cut that looks back past it; then it is not recorded, and
//!     the configuration where its run began keeps the reduced
//!     continuation. Without such a cut, the continuations it explored
//!     reduce within themselves, and its record is a fact too.
//!
//! # The horizon pass
//!
//! Optional operations pending for a long time make the search slow to
//! refute a wrong guess: each may still take effect anywhere, in every
//! branch. In a history of 100,000 operations of 32 clients with 1%
//! crashes, a few dozen of them are enough to stall it. Most crashed
//! operations took effect soon after their invocation, if at all, so a
//! first pass ([`Engine::with_horizon`]) lets an optional operation be a
//! candidate only while the first unlinearized return is at most a given
//! number of positions after its invocation (the caller gives the longest
//! latency of a completed operation), with rule 2 off, since the members
//! of a group are no longer used in invocation order. The pass is not
//! complete, so its failure decides nothing. It is sound: any order it
//! finds places every operation after its invocation, every required one
//! before the invocation of anything invoked after it returned, and every
//! step legally, so it is a linearization of the history, in which the
//! optional operations it left out never took effect. The other rules
//! only prune, and so does one the pass adds: rule 5 does not count an
//! expired optional operation as a possible enabler, since the pass will
//! never place it (the bound only moves later). A read that only a crash
//! long past could explain then fails the pass at once, where the full
//! search would first try every order of the operations around it.
//!
//! Interned states are counted in bytes ([`Model::state_heap_bytes`]);
//! past [`Limits::state_bytes_cap`] the memo and rule 7's records are
//! cleared and the states no frame uses are dropped, so a search that
//! runs out of room redoes work (and may say "unknown" at its deadline)
//! rather than grow without bound.
//!
//! Among the remaining candidates, those after which the next return
//! becomes legal are tried before the others, and required ones before
//! optional ones (an order only).
//!
//! Each rule is checked against a brute-force oracle by property tests,
//! with the read-only, twin, subsumption, future-return, object and
//! optional-run rules both on and off.

mod future;
mod objects;

use super::memo::{Fingerprint, FxBuild, Latest, Memo, SplitMix64};
use crate::check::deadline::{Stop, Ticker};
use crate::check::Progress;
use crate::memory::{self, Budget};
use crate::model::Model;
use future::Future;
use objects::Lookahead;
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

const NONE: u32 = u32::MAX;

/// One operation to place: its position in real time and compiled form.
#[derive(Clone, Debug)]
pub(crate) struct Item<O> {
    /// Index in `History::operations`.
    pub id: usize,
    /// The client process that called it.
    pub process: i64,
    /// Real-time position of the invocation.
    pub invoke: usize,
    /// Real-time position of the return; `usize::MAX` for optional ops.
    pub ret: usize,
    /// The compiled operation.
    pub op: O,
}

impl<O> Item<O> {
    /// Is the op optional (indeterminate)?
    pub(crate) fn optional(&self) -> bool {
        self.ret == usize::MAX
    }
}

/// The longest latency (positions from invocation to return) of the
/// required items: the horizon the checker gives the horizon pass.
pub(crate) fn longest_latency<O>(items: &[Item<O>]) -> usize {
    items
        .iter()
        .filter(|it| !it.optional())
        .map(|it| it.ret - it.invoke)
        .max()
        .unwrap_or(0)
}

/// When to give up, and where to report progress.
#[derive(Clone, Copy)]
pub(crate) struct Limits<'a> {
    /// Give up at this instant.
    pub deadline: Option<Instant>,
    /// Give up after entering about this many configurations (checked
    /// every few thousand steps): a budget that, unlike a deadline, ends
    /// the search at the same point on any machine.
    pub max_configurations: Option<u64>,
    /// Give up when any of these is set.
    pub cancel: [Option<&'a AtomicBool>; 2],
    /// Give up once this budget is exceeded; the memo grows only within it.
    pub memory: Option<&'a Budget>,
    /// Progress counters to update.
    pub progress: Option<&'a Progress>,
    /// Memo entries kept: past about this many, the memo forgets its
    /// oldest entries to make room.
    pub memo_cap: usize,
    /// Bytes of interned states kept before the memo is cleared and the
    /// states no frame uses are dropped.
    pub state_bytes_cap: usize,
}

impl Default for Limits<'_> {
    fn default() -> Self {
        Limits {
            deadline: None,
            max_configurations: None,
            cancel: [None, None],
            memory: None,
            progress: None,
            memo_cap: DEFAULT_MEMO_CAP,
            state_bytes_cap: DEFAULT_STATE_BYTES_CAP,
        }
    }
}

/// The default bound on memo entries (256 MiB of 16-byte slots). Most
/// revisits are of configurations entered a moment before, but not all:
/// a 100,000-op history of 64 clients, decided in 7.4 million
/// configurations with room for all of them, was not decided in 30 s
/// with room for a million.
pub(crate) const DEFAULT_MEMO_CAP: usize = 1 << 24;

/// The default bound on the bytes of interned states (as
/// [`Model::state_heap_bytes`] and the table's own entries count them).
pub(crate) const DEFAULT_STATE_BYTES_CAP: usize = 1 << 28;

impl<'a> Limits<'a> {
    /// The deadline, the cancel flags and the memory budget.
    pub(crate) fn stop(&self) -> Stop<'a> {
        Stop {
            at: self.deadline,
            flags: [self.cancel[0], self.cancel[1], None],
            memory: self.memory,
        }
    }

    /// Has the user's time run out, the memory budget been passed, or the
    /// run been cancelled?
    pub(crate) fn expired(&self) -> bool {
        self.stop().now()
    }

    /// The same limits, with at most `n` configurations to enter: a
    /// budget of work, which ends the search at the same point on any
    /// machine and under any load (the deadline stays the user's).
    pub(crate) fn capped(&self, n: u64) -> Self {
        Limits {
            max_configurations: Some(self.max_configurations.map_or(n, |m| m.min(n))),
            ..*self
        }
    }
}

/// A budget of work shared by several searches (the trials of shrinking,
/// say), counted in configurations entered plus the items each engine was
/// built over, never in time: it runs out at the same point on any
/// machine, so evidence built within it does not depend on the load.
pub(crate) struct Work {
    left: u64,
}

impl Work {
    /// A budget of `n` units.
    pub(crate) fn new(n: u64) -> Self {
        Work { left: n }
    }

    /// Has it run out?
    pub(crate) fn spent(&self) -> bool {
        self.left == 0
    }

    /// Runs `f` within a part of the budget: at most `n` units of what is
    /// left, charged to the whole when `f` returns.
    pub(crate) fn stage<R>(&mut self, n: u64, f: impl FnOnce(&mut Work) -> R) -> R {
        let given = n.min(self.left);
        let mut part = Work::new(given);
        let r = f(&mut part);
        self.left -= given - part.left;
        r
    }

    /// Decides `items` within `limits` and at most `cap` configurations
    /// (and what is left), charging the search to the budget. `Unknown`
    /// at once when the budget has run out.
    pub(crate) fn search<M: Model>(
        &mut self,
        model: &M,
        items: &[Item<M::Op>],
        limits: &Limits<'_>,
        cap: u64,
    ) -> Found {
        let cost = items.len() as u64;
        if self.left <= cost || limits.expired() {
            self.left = 0;
            return Found::Unknown {
                stuck: None,
                depth: 0,
            };
        }
        self.left -= cost;
        let mut engine = Engine::new(model, items);
        let found = engine.search(&limits.capped(cap.min(self.left)));
        self.left = self.left.saturating_sub(engine.configurations);
        found
    }
}

/// What a search found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// Linearizable; the items in the order they took effect (optional
    /// items that never took effect are absent).
    Linearizable(Vec<u32>),
    /// Not linearizable: no order gets past the return of this item.
    NotLinearizable {
        /// The required item whose return no order could pass.
        stuck: u32,
    },
    /// Time ran out or the search was cancelled.
    Unknown {
        /// The farthest return not yet passed, if any.
        stuck: Option<u32>,
        /// The deepest search so far.
        depth: usize,
    },
}

/// A configuration reached just before the stuck item's return.
#[derive(Clone, Debug)]
pub(crate) struct FinalPath<S> {
    /// Items linearized, in order.
    pub path: Vec<u32>,
    /// The state after them.
    pub state: S,
}

struct Frame {
    item: u32,
    /// The first return entry of the configuration it was placed from.
    first_ret: u32,
    prev_state: u32,
    /// Where its level's untried candidates start in the candidate stack.
    start: u32,
    /// Whether its level's candidates have been listed (after `rmin`).
    listed: bool,
    /// Placed by the read-only rule: its level had no alternatives.
    forced: bool,
    /// Rule 11: the lowest stack depth a cut below the level it left
    /// looked back to, when it was entered (restored when it is undone).
    taint: u32,
}

/// Where the search stands: the path of placed items (Wing & Gong's
/// stack) and, for every level on it, its untried candidates.
struct Walk {
    stack: Vec<Frame>,
    /// The untried candidates of every level on the stack, each level's
    /// best last; the current level's start at `start`. A level first tries
    /// `rmin` alone, and lists the others only if that fails.
    cands: Vec<(u64, u32)>,
    start: usize,
    /// Whether the current level's candidates have been listed.
    listed: bool,
    /// Whether the current level was just entered.
    fresh: bool,
    /// The current configuration: its interned state, and the fingerprint
    /// of the items placed.
    state: u32,
    fp: Fingerprint,
    /// Required items placed.
    done: usize,
    /// The latest-returning item a level was stuck at.
    stuck: u32,
    max_depth: usize,
    /// Rule 11: the lowest depth a cut in the current level's subtree
    /// looked back to.
    taint: u32,
    /// Whether the current level entered a configuration below it.
    had_child: bool,
    /// The first return entry in the list: it changes only when the op it
    /// returns is placed (the next one is after it) or undone.
    first_ret: u32,
}

impl Walk {
    /// The items placed, in order.
    fn path(&self) -> Vec<u32> {
        self.stack.iter().map(|f| f.item).collect()
    }

    /// Out of limits: what is known so far.
    fn unknown(&self) -> Found {
        Found::Unknown {
            stuck: (self.stuck != NONE).then_some(self.stuck),
            depth: self.max_depth,
        }
    }
}

/// The final paths a search with a `stop` item records: configurations
/// just before `stop`'s return, distinct states, at most `max_paths`.
struct Finals<'f, S> {
    stop: Option<u32>,
    max_paths: usize,
    out: &'f mut Vec<FinalPath<S>>,
    /// The states recorded so far.
    seen: Vec<u32>,
}

/// A prepared search over one partition.
pub(crate) struct Engine<'a, M: Model> {
    model: &'a M,
    items: &'a [Item<M::Op>],
    n_req: usize,
    // Entry list: entry 0 is the head sentinel.
    next: Vec<u32>,
    prev: Vec<u32>,
    ent_item: Vec<u32>,
    ent_call: Vec<bool>,
    ent_time: Vec<usize>,
    call_ent: Vec<u32>,
    ret_ent: Vec<u32>,
    // Rank: required items by return time, then optional by invocation.
    rank: Vec<u32>,
    // Optional list over item indices; `osent` (= items.len()) is the
    // sentinel.
    onext: Vec<u32>,
    oprev: Vec<u32>,
    osent: u32,
    /// The optional items by invocation.
    opt_sorted: Vec<u32>,
    /// Their invocations, in the same order: the horizon pass searches
    /// this compact copy at every level.
    opt_invoke: Vec<usize>,
    // Groups of items whose compiled ops are identical (rules 2 and 6);
    // `group_pos` and `group_next` count optional members only.
    group: Vec<u32>,
    group_pos: Vec<u32>,
    group_next: Vec<u32>,
    // Per group, scratch for rule 6: the required candidate that returns
    // first, or `NONE`.
    best: Vec<u32>,
    // Rule 6 on (tests turn it off to check it against the oracle).
    twins: bool,
    words: Vec<Fingerprint>,
    read_only: Vec<bool>,
    // Interned states.
    states: Vec<M::State>,
    intern: HashMap<M::State, u32, FxBuild>,
    // Their bytes, as counted for `Limits::state_bytes_cap`.
    intern_bytes: usize,
    // Rule 9 (future returns), when the partition is small enough.
    future: Option<Future>,
    /// Configurations entered by the last run (new to the memo).
    pub(crate) configurations: u64,
    /// How many times the interned states were compacted.
    pub(crate) compactions: u64,
    /// When rule 8 refuted the items: the item that killed the stuck one.
    pub(crate) killer: Option<u32>,
    // Rule 10 (objects), when the items act on two objects or more: the
    // objects' ids, each item's object (dense), and per object the
    // fingerprint of its linearized items.
    objects: Option<(Vec<u32>, Vec<u32>)>,
    obj_fp: Vec<Fingerprint>,
    /// Configurations rule 10 refused in the last run (the first one
    /// included, when an object alone refutes the items).
    pub(crate) object_refusals: u64,
    // Rule 7 (subsumption): the optional items linearized, in the order
    // they were, the flags of every item linearized, and `opt_prefix[k]`, the XOR of the words of
    // the first `k` of them (so `opt_prefix.last()` covers them all).
    placed: Vec<bool>,
    opt_stack: Vec<u32>,
    opt_prefix: Vec<Fingerprint>,
    // Failed configurations by (required set, state): the number of the
    // latest record, which links to the one before. Record `id` lives in
    // `fails[id % fail_ring]` of a ring (a power of two long) that keeps
    // the latest records, while it is not overwritten (`Failure::id`
    // says).
    failed: Latest,
    fails: Vec<Failure>,
    fails_made: u32,
    fail_ring: usize,
    subsume: bool,
    /// Rule 11 (optional runs) is on.
    runs: bool,
    /// The horizon pass only ([`Engine::with_horizon`]): an optional item
    /// is a candidate only while the bound is within this many positions
    /// of its invocation.
    horizon: usize,
    /// Optional steps rule 11 pruned.
    pub(crate) run_pruned: u64,
    /// Every item the searches so far linearized, passed as the next
    /// return, or refuted a configuration with (rules 5 and 9): the ops
    /// the refutation looked at, a first guess for shrinking.
    touched: Vec<bool>,
}

/// A failed configuration's optional set, for rule 7: the first `k`
/// optional items linearized (named by their XOR) and the rest (the first
/// `len` of `items`), in sixty-four bytes.
#[derive(Clone, Copy)]
struct Failure {
    /// The record's number (its place in the ring is this modulo the
    /// ring's length).
    id: u32,
    k: u32,
    prefix: Fingerprint,
    len: u32,
    /// The record before it with the same required set and state, or
    /// `NONE`.
    older: u32,
    items: [u32; FAIL_TAIL],
}

/// Rule 7 lists at most this many of a failed configuration's optional
/// items one by one; the older ones are named by their XOR.
const FAIL_TAIL: usize = 8;
/// Rule 7 keeps at most this many failed configurations (16 MiB), the
/// latest: a ring, so that memory once touched is reused.
const FAIL_RING: usize = 1 << 18;
/// Rule 7 looks at most at this many failed configurations per required
/// set and state, the latest.
const FAILS_PER_KEY: usize = 8;
/// Rule 7 finds the latest record per required set and state through a
/// table of at most this many slots (6 MiB).
const FAIL_SLOTS: usize = 1 << 18;

/// Wing & Gong's list of call and return entries of the required items,
/// in real-time order (see the module docs); entry 0 is the head sentinel.
struct Entries {
    next: Vec<u32>,
    prev: Vec<u32>,
    /// Per entry: its item, its kind (call or return) and its time.
    item: Vec<u32>,
    call: Vec<bool>,
    time: Vec<usize>,
    /// Per item: its call and return entries (0 for optional items).
    call_ent: Vec<u32>,
    ret_ent: Vec<u32>,
}

impl Entries {
    fn of<O>(items: &[Item<O>]) -> Entries {
        let n = items.len();
        let mut events: Vec<(usize, bool, u32)> = Vec::new();
        for (i, it) in items.iter().enumerate() {
            if !it.optional() {
                events.push((it.invoke, true, i as u32));
                events.push((it.ret, false, i as u32));
            }
        }
        // Real-time order; at equal times (never in a paired history) a
        // return goes before a call, the stricter reading.
        events.sort_by_key(|&(t, call, i)| (t, call, i));
        let m = events.len() + 1;
        let mut list = Entries {
            next: (0..m).map(|e| ((e + 1) % m) as u32).collect(),
            prev: (0..m).map(|e| ((e + m - 1) % m) as u32).collect(),
            item: vec![NONE; m],
            call: vec![false; m],
            time: vec![usize::MAX; m],
            call_ent: vec![0u32; n],
            ret_ent: vec![0u32; n],
        };
        for (k, &(t, call, i)) in events.iter().enumerate() {
            let e = k + 1;
            list.item[e] = i;
            list.call[e] = call;
            list.time[e] = t;
            if call {
                list.call_ent[i as usize] = e as u32;
            } else {
                list.ret_ent[i as usize] = e as u32;
            }
        }
        list
    }
}

/// The order candidates are tried in: required items by return, then
/// optional ones by invocation, which also form their own list.
struct Ranks {
    /// Per item: its place in that order.
    rank: Vec<u32>,
    /// The required items, by return.
    req: Vec<u32>,
    /// The optional items, by invocation.
    opt: Vec<u32>,
    /// The list of optional items; the sentinel is `items.len()`.
    onext: Vec<u32>,
    oprev: Vec<u32>,
}

impl Ranks {
    fn of<O>(items: &[Item<O>]) -> Ranks {
        let n = items.len();
        let mut rank = vec![0u32; n];
        let mut req: Vec<u32> = (0..n as u32)
            .filter(|&i| !items[i as usize].optional())
            .collect();
        req.sort_by_key(|&i| (items[i as usize].ret, i));
        for (r, &i) in req.iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        let mut opt: Vec<u32> = (0..n as u32)
            .filter(|&i| items[i as usize].optional())
            .collect();
        opt.sort_by_key(|&i| (items[i as usize].invoke, i));
        let osent = n as u32;
        let mut onext = vec![osent; n + 1];
        let mut oprev = vec![osent; n + 1];
        let mut last = osent;
        for (r, &i) in opt.iter().enumerate() {
            rank[i as usize] = (req.len() + r) as u32;
            onext[last as usize] = i;
            oprev[i as usize] = last;
            last = i;
        }
        onext[last as usize] = osent;
        oprev[osent as usize] = last;
        Ranks {
            rank,
            req,
            opt,
            onext,
            oprev,
        }
    }
}

/// Groups of items whose compiled ops are identical (rules 2 and 6).
struct Groups {
    /// Per item: its group.
    group: Vec<u32>,
    /// Per optional item: its place among its group's optional members,
    /// by invocation.
    pos: Vec<u32>,
    /// Per group: a counter of its optional members, zero.
    next: Vec<u32>,
}

impl Groups {
    /// The groups of `items`, numbered in the order `ranked` lists the
    /// items (optional ones by invocation). Items whose compiled ops print
    /// alike share a group: derived `Debug` shows every field, so equal
    /// text means equal ops.
    fn of<O: std::fmt::Debug>(items: &[Item<O>], ranked: impl Iterator<Item = u32>) -> Groups {
        let n = items.len();
        let mut group = vec![NONE; n];
        let mut pos = vec![0u32; n];
        let mut next = Vec::new();
        let mut by_text: HashMap<String, u32, FxBuild> = HashMap::default();
        let mut text = String::new();
        for i in ranked.map(|i| i as usize) {
            use std::fmt::Write as _;
            text.clear();
            let _ = write!(text, "{:?}", items[i].op);
            let g = match by_text.get(text.as_str()) {
                Some(&g) => g,
                None => {
                    next.push(0);
                    let g = (next.len() - 1) as u32;
                    by_text.insert(text.clone(), g);
                    g
                }
            };
            group[i] = g;
            if items[i].optional() {
                pos[i] = next[g as usize];
                next[g as usize] += 1;
            }
        }
        next.fill(0);
        Groups { group, pos, next }
    }
}

/// The items' words for the fingerprints of linearized sets (Horn &
/// Kroening): pseudo-random, from a fixed seed, so runs are reproducible.
fn fingerprint_words(n: usize) -> Vec<Fingerprint> {
    let mut rng = SplitMix64(0x6C61_6272_7973_0001);
    (0..n)
        .map(|_| Fingerprint(rng.next_u64(), rng.next_u64()))
        .collect()
}

impl<'a, M: Model> Engine<'a, M> {
    /// Prepares the lists for `items`.
    pub(crate) fn new(model: &'a M, items: &'a [Item<M::Op>]) -> Self {
        let n = items.len();
        let list = Entries::of(items);
        let ranks = Ranks::of(items);
        let n_req = ranks.req.len();
        let groups = Groups::of(items, ranks.req.iter().chain(&ranks.opt).copied());
        let objects = objects::objects(model, items);
        Engine {
            opt_invoke: ranks
                .opt
                .iter()
                .map(|&i| items[i as usize].invoke)
                .collect(),
            opt_sorted: ranks.opt,
            model,
            items,
            read_only: items.iter().map(|it| model.read_only(&it.op)).collect(),
            n_req,
            next: list.next,
            prev: list.prev,
            ent_item: list.item,
            ent_call: list.call,
            ent_time: list.time,
            call_ent: list.call_ent,
            ret_ent: list.ret_ent,
            rank: ranks.rank,
            onext: ranks.onext,
            oprev: ranks.oprev,
            osent: n as u32,
            best: vec![NONE; groups.next.len()],
            group: groups.group,
            group_pos: groups.pos,
            group_next: groups.next,
            twins: true,
            words: fingerprint_words(n),
            states: Vec::new(),
            intern: HashMap::default(),
            intern_bytes: 0,
            future: Future::new(model, items),
            configurations: 0,
            compactions: 0,
            killer: None,
            obj_fp: vec![Fingerprint::default(); objects.as_ref().map_or(0, |o| o.0.len())],
            objects,
            object_refusals: 0,
            placed: vec![false; n],
            opt_stack: Vec::new(),
            opt_prefix: vec![Fingerprint::default()],
            failed: Latest::new(FAIL_SLOTS),
            fails: Vec::new(),
            fails_made: 0,
            fail_ring: 1,
            subsume: n > n_req,
            runs: n > n_req,
            horizon: usize::MAX,
            run_pruned: 0,
            touched: vec![false; n],
        }
    }

    /// Is the configuration with linearized set `fp` (after adding `extra`,
    /// if it is optional) and state `state` known to fail by rule 7: some
    /// failed configuration with the same required set and state used only
    /// optional items that are linearized here too?
    fn subsumed(&self, fp: Fingerprint, state: u32, extra: u32) -> bool {
        if self.fails.is_empty() {
            return false;
        }
        let opt_fp = *self.opt_prefix.last().expect("never empty");
        let mut req = fp;
        req.toggle(opt_fp);
        if self.items[extra as usize].optional() {
            req.toggle(self.words[extra as usize]);
        }
        let Some(latest) = self.failed.get(req, state) else {
            return false;
        };
        let mut id = latest;
        for _ in 0..FAILS_PER_KEY {
            if id == NONE {
                break;
            }
            let f = &self.fails[id as usize & (self.fail_ring - 1)];
            if f.id != id {
                // Overwritten: this record and older ones are forgotten.
                break;
            }
            if (f.k as usize) < self.opt_prefix.len()
                && self.opt_prefix[f.k as usize] == f.prefix
                && f.items[..f.len as usize]
                    .iter()
                    .all(|&x| x == extra || self.placed[x as usize])
            {
                return true;
            }
            id = f.older;
        }
        false
    }

    /// Records that the current configuration (linearized set `fp`, state
    /// `state`) failed: it was explored to exhaustion.
    fn record_failure(&mut self, fp: Fingerprint, state: u32, cap: usize) {
        if !self.subsume {
            return;
        }
        if self.fails_made == NONE {
            // Numbers run out (after four billion records): start anew.
            self.failed.clear();
            self.fails.clear();
            self.fails_made = 0;
        }
        if self.fails.is_empty() {
            self.fail_ring = cap.clamp(1, FAIL_RING).next_power_of_two();
        }
        let opt_fp = *self.opt_prefix.last().expect("never empty");
        let mut req = fp;
        req.toggle(opt_fp);
        let k = self.opt_stack.len().saturating_sub(FAIL_TAIL);
        let tail = &self.opt_stack[k..];
        let mut items = [0; FAIL_TAIL];
        items[..tail.len()].copy_from_slice(tail);
        let id = self.fails_made;
        self.fails_made += 1;
        let older = self.failed.insert(req, state, id);
        let record = Failure {
            id,
            k: k as u32,
            prefix: self.opt_prefix[k],
            len: tail.len() as u32,
            older: older.unwrap_or(NONE),
            items,
        };
        if self.fails.len() < self.fail_ring {
            self.fails.push(record);
        } else {
            self.fails[id as usize & (self.fail_ring - 1)] = record;
        }
    }

    /// Rule 11: would item `o`, stepping from the current state to `ns`,
    /// close a cycle in the current run of optional steps (if `o` is
    /// optional), or could it have been taken from an earlier state of
    /// the run with the same result? The run is the optional frames on top
    /// of the stack; each one's `prev_state` is one of its earlier states.
    /// Returns the depth of the earlier configuration it looked back to.
    fn shortcut(&self, stack: &[Frame], o: u32, ns: u32) -> Option<u32> {
        let op = &self.items[o as usize].op;
        let optional = self.items[o as usize].optional();
        let target = &self.states[ns as usize];
        for (q, f) in stack.iter().enumerate().rev() {
            if !self.items[f.item as usize].optional() {
                break;
            }
            if (optional && f.prev_state == ns)
                || self
                    .model
                    .step(&self.states[f.prev_state as usize], op)
                    .is_some_and(|t| &t == target)
            {
                return Some(q as u32);
            }
        }
        None
    }

    fn intern(&mut self, s: M::State) -> u32 {
        if let Some(&id) = self.intern.get(&s) {
            return id;
        }
        // The vector's copy, the table's copy, its id and control byte.
        self.intern_bytes +=
            2 * std::mem::size_of::<M::State>() + 8 + self.model.state_heap_bytes(&s);
        let id = self.states.len() as u32;
        self.states.push(s.clone());
        self.intern.insert(s, id);
        id
    }

    /// Forgets the interned states that neither the current state, the
    /// frames on `stack` nor `seen_final` use, renumbering those, and the
    /// failure records of rule 7, which name states by number. The caller
    /// clears the memo, which does too. Forgetting failed configurations
    /// is always safe: the search then redoes work, never decides
    /// differently.
    fn compact(&mut self, stack: &mut [Frame], state: &mut u32, seen_final: &mut [u32]) {
        let old = std::mem::take(&mut self.states);
        self.intern = HashMap::default();
        self.intern_bytes = 0;
        let mut renamed: HashMap<u32, u32, FxBuild> = HashMap::default();
        let ids = stack
            .iter_mut()
            .map(|f| &mut f.prev_state)
            .chain(std::iter::once(state))
            .chain(seen_final.iter_mut());
        for id in ids {
            *id = match renamed.get(id) {
                Some(&new) => new,
                None => {
                    let new = self.intern(old[*id as usize].clone());
                    renamed.insert(*id, new);
                    new
                }
            };
        }
        self.failed.clear();
        self.fails = Vec::new();
        self.fails_made = 0;
    }

    /// The item whose return rule 9 shows can never be passed in this
    /// state, if any.
    fn future_refutes(&mut self, state: u32, stop: Option<u32>) -> Option<u32> {
        match self.future.as_mut() {
            Some(f) => f.refutes(self.model, self.items, &self.states[state as usize], stop),
            None => None,
        }
    }

    /// The items the searches so far looked at (see `touched`), in item
    /// order.
    pub(crate) fn touched(&self) -> Vec<usize> {
        (0..self.items.len()).filter(|&i| self.touched[i]).collect()
    }

    #[inline]
    fn lift(&mut self, i: u32) {
        let iu = i as usize;
        if let Some(f) = self.future.as_mut() {
            f.lift(i);
        }
        if let Some((_, of)) = &self.objects {
            self.obj_fp[of[iu] as usize].toggle(self.words[iu]);
        }
        self.placed[iu] = true;
        self.touched[iu] = true;
        if self.items[iu].optional() {
            let (p, n) = (self.oprev[iu], self.onext[iu]);
            self.onext[p as usize] = n;
            self.oprev[n as usize] = p;
            self.group_next[self.group[iu] as usize] += 1;
            self.opt_stack.push(i);
            let mut top = *self.opt_prefix.last().expect("never empty");
            top.toggle(self.words[iu]);
            self.opt_prefix.push(top);
        } else {
            for e in [self.call_ent[iu], self.ret_ent[iu]] {
                let (p, n) = (self.prev[e as usize], self.next[e as usize]);
                self.next[p as usize] = n;
                self.prev[n as usize] = p;
            }
        }
    }

    #[inline]
    fn unlift(&mut self, i: u32) {
        let iu = i as usize;
        if let Some(f) = self.future.as_mut() {
            f.unlift(i);
        }
        if let Some((_, of)) = &self.objects {
            self.obj_fp[of[iu] as usize].toggle(self.words[iu]);
        }
        self.placed[iu] = false;
        if self.items[iu].optional() {
            let (p, n) = (self.oprev[iu], self.onext[iu]);
            self.onext[p as usize] = i;
            self.oprev[n as usize] = i;
            self.group_next[self.group[iu] as usize] -= 1;
            self.opt_stack.pop();
            self.opt_prefix.pop();
        } else {
            for e in [self.ret_ent[iu], self.call_ent[iu]] {
                let (p, n) = (self.prev[e as usize], self.next[e as usize]);
                self.next[p as usize] = e;
                self.prev[n as usize] = e;
            }
        }
    }

    /// The order in which a candidate is tried at a level where `rmin` is
    /// the next return to pass, in state `s`: `rmin` itself first, then
    /// the candidates after which `rmin` can take effect, then the rest;
    /// within each group required items by return, then optional items by
    /// invocation. `None` for an optional item whose step is useless or
    /// impossible (rule 3), which is never tried.
    #[inline]
    fn key(&self, s: &M::State, x: u32, rmin: u32) -> Option<u64> {
        let rank = self.rank[x as usize] as u64;
        if x == rmin {
            return Some(rank);
        }
        let group = match self.model.step(s, &self.items[x as usize].op) {
            Some(s1) if self.items[x as usize].optional() && s1 == *s => return None,
            Some(s1)
                if self
                    .model
                    .step(&s1, &self.items[rmin as usize].op)
                    .is_some() =>
            {
                1
            }
            Some(_) => 2,
            None if self.items[x as usize].optional() => return None,
            None => 2,
        };
        // Optional items go after every required one: each level first
        // tries orders that spend no indeterminate op, so the failures it
        // records carry the fewest optional items and subsume the most
        // configurations (rule 7).
        let group = if self.items[x as usize].optional() {
            group + 2
        } else {
            group
        };
        Some(group << 32 | rank)
    }

    /// The first return entry from entry `e` on (the head sentinel, 0,
    /// if none).
    #[inline]
    fn first_return(&self, mut e: u32) -> u32 {
        while self.ent_call[e as usize] {
            e = self.next[e as usize];
        }
        e
    }

    /// Rule 7's failure records made so far (its ring keeps the latest).
    #[cfg(test)]
    pub(crate) fn failures_recorded(&self) -> u32 {
        self.fails_made
    }

    /// Turns rule 6 off (tests compare both ways with the oracle).
    #[cfg(test)]
    pub(crate) fn without_twin_rule(mut self) -> Self {
        self.twins = false;
        self
    }

    /// Turns rule 9 off (tests compare both ways with the oracle).
    #[cfg(test)]
    pub(crate) fn without_future_rule(mut self) -> Self {
        self.future = None;
        self
    }

    /// Does this engine use rule 9?
    #[cfg(test)]
    pub(crate) fn has_future_rule(&self) -> bool {
        self.future.is_some()
    }

    /// Turns rule 10 off (tests compare both ways with the oracle).
    #[cfg(test)]
    pub(crate) fn without_object_rule(mut self) -> Self {
        self.objects = None;
        self.obj_fp.clear();
        self
    }

    /// Does this engine use rule 10?
    #[cfg(test)]
    pub(crate) fn has_object_rule(&self) -> bool {
        self.objects.is_some()
    }

    /// Makes this search the horizon pass (see the module docs): an
    /// optional item may take effect only until the first unlinearized
    /// return is more than `horizon` positions after its invocation, and
    /// symmetry (rule 2) is off. Incomplete: only an order it finds
    /// decides anything.
    pub(crate) fn with_horizon(mut self, horizon: usize) -> Self {
        self.horizon = horizon;
        self
    }

    /// Turns rule 11 off (tests compare both ways with the oracle).
    #[cfg(test)]
    pub(crate) fn without_run_rule(mut self) -> Self {
        self.runs = false;
        self
    }

    /// Turns rule 7 off (tests compare both ways with the oracle).
    #[cfg(test)]
    pub(crate) fn without_subsumption(mut self) -> Self {
        self.subsume = false;
        self
    }

    /// Pushes the candidates of a level onto `out`, best last, leaving out
    /// `rmin` (tried first, or never when it is `stop`) and the items that
    /// rule 3 or symmetry (rules 2 and 6) exclude.
    fn list_candidates(
        &mut self,
        state: u32,
        rmin: u32,
        bound: usize,
        stop: Option<u32>,
        out: &mut Vec<(u64, u32)>,
    ) {
        // Rule 6: per group, the required candidate that returns first
        // (never `stop`, which is never linearized).
        if self.twins {
            let mut e = self.next[0];
            while self.ent_call[e as usize] {
                let it = self.ent_item[e as usize];
                if stop != Some(it) {
                    let g = self.group[it as usize] as usize;
                    let b = self.best[g];
                    if b == NONE || self.items[it as usize].ret < self.items[b as usize].ret {
                        self.best[g] = it;
                    }
                }
                e = self.next[e as usize];
            }
        }
        let s = &self.states[state as usize];
        let start = out.len();
        let mut e = self.next[0];
        while self.ent_call[e as usize] {
            let it = self.ent_item[e as usize];
            let dominated = self.twins && self.best[self.group[it as usize] as usize] != it;
            if it != rmin && !dominated {
                if let Some(k) = self.key(s, it, rmin) {
                    out.push((k, it));
                }
            }
            e = self.next[e as usize];
        }
        let mut o = self.first_optional(bound);
        while o != self.osent && self.items[o as usize].invoke < bound {
            let ou = o as usize;
            let g = self.group[ou] as usize;
            let head = if self.horizon == usize::MAX {
                self.group_pos[ou] == self.group_next[g]
            } else {
                self.items[ou].invoke.saturating_add(self.horizon) >= bound
            };
            if head && self.best[g] == NONE {
                if let Some(k) = self.key(s, o, rmin) {
                    out.push((k, o));
                }
            }
            o = self.onext[ou];
        }
        out[start..].sort_unstable_by(|a, b| b.cmp(a));
        if self.twins {
            let mut e = self.next[0];
            while self.ent_call[e as usize] {
                let g = self.group[self.ent_item[e as usize] as usize] as usize;
                self.best[g] = NONE;
                e = self.next[e as usize];
            }
        }
    }

    /// The earliest-invoked unlinearized optional item that may still be
    /// placed while the first unlinearized return is at `bound`, or the
    /// sentinel: the head of the optional list, except in the horizon
    /// pass, which skips the expired ones (a prefix by invocation).
    fn first_optional(&self, bound: usize) -> u32 {
        if self.horizon == usize::MAX {
            return self.onext[self.osent as usize];
        }
        let from = bound.saturating_sub(self.horizon);
        let mut j = self.opt_invoke.partition_point(|&t| t < from);
        while j < self.opt_sorted.len() && self.placed[self.opt_sorted[j] as usize] {
            j += 1;
        }
        self.opt_sorted.get(j).copied().unwrap_or(self.osent)
    }

    /// Is some required candidate (other than `stop`) unreachable in
    /// `state` with no op invoked before its return, still unlinearized
    /// (and, in the horizon pass, not expired while the first return is
    /// at `bound`), that may enable it?
    fn some_candidate_unreachable(
        &self,
        state: u32,
        bound: usize,
        stop: Option<u32>,
    ) -> Option<u32> {
        let s = &self.states[state as usize];
        let first_optional = self.first_optional(bound);
        let mut e = self.next[0];
        while self.ent_call[e as usize] {
            let r = self.ent_item[e as usize];
            if stop != Some(r)
                && !self.model.reachable(s, &self.items[r as usize].op)
                && !self.enabler_before_return(r, first_optional)
            {
                return Some(r);
            }
            e = self.next[e as usize];
        }
        None
    }

    /// Is any unlinearized op other than `target`, invoked before `target`
    /// returns, one that may enable `target`? Optional ones are looked at
    /// from `first_optional` on (see [`Engine::first_optional`]).
    fn enabler_before_return(&self, target: u32, first_optional: u32) -> bool {
        let t = &self.items[target as usize].op;
        let end = self.ret_ent[target as usize];
        let mut e = self.next[0];
        while e != end {
            let it = self.ent_item[e as usize];
            if self.ent_call[e as usize]
                && it != target
                && self.model.may_enable(&self.items[it as usize].op, t)
            {
                return true;
            }
            e = self.next[e as usize];
        }
        let bound = self.items[target as usize].ret;
        let mut o = first_optional;
        while o != self.osent && self.items[o as usize].invoke < bound {
            if self.model.may_enable(&self.items[o as usize].op, t) {
                return true;
            }
            o = self.onext[o as usize];
        }
        false
    }

    /// Rule 8: a required item that some earlier-returning required item
    /// kills with no possible enabler in between, the earliest-returning
    /// such item, and its killer, if any.
    fn killed(&self) -> Option<(u32, u32)> {
        // Killers looked at per item, and the widest window searched.
        const LATEST: usize = 16;
        const WINDOW: usize = 4096;
        // The entries are numbered in real-time order: their calls give the
        // required items by invocation, their returns by return.
        let (mut by_inv, mut by_ret) = (Vec::with_capacity(self.n_req), Vec::new());
        for e in 1..self.ent_item.len() {
            if self.ent_call[e] {
                by_inv.push(self.ent_item[e]);
            } else {
                by_ret.push(self.ent_item[e]);
            }
        }
        let max_latency = longest_latency(self.items);
        // One optional item per group: the earliest invoked.
        let mut heads: Vec<u32> = Vec::new();
        let mut o = self.onext[self.osent as usize];
        let mut seen = vec![false; self.group_next.len()];
        while o != self.osent {
            let g = self.group[o as usize] as usize;
            if !seen[g] {
                seen[g] = true;
                heads.push(o);
                if heads.len() > 256 {
                    return None;
                }
            }
            o = self.onext[o as usize];
        }
        for &x in &by_ret {
            let xi = &self.items[x as usize];
            // The latest-invoked killer among the latest returns before x.
            let end = by_ret.partition_point(|&y| self.items[y as usize].ret < xi.invoke);
            let Some(y) = by_ret[end.saturating_sub(LATEST)..end]
                .iter()
                .copied()
                .filter(|&y| self.model.kills(&self.items[y as usize].op, &xi.op))
                .max_by_key(|&y| self.items[y as usize].invoke)
            else {
                continue;
            };
            let from = self.items[y as usize].invoke;
            let may_enable =
                |z: u32| z != x && self.model.may_enable(&self.items[z as usize].op, &xi.op);
            if heads
                .iter()
                .any(|&z| self.items[z as usize].invoke < xi.ret && may_enable(z))
            {
                continue;
            }
            let last = by_inv.partition_point(|&z| self.items[z as usize].invoke < xi.ret);
            let mut enabled = false;
            let mut scanned = 0;
            for &z in by_inv[..last].iter().rev() {
                let zi = &self.items[z as usize];
                if zi.invoke + max_latency < from {
                    break;
                }
                scanned += 1;
                if scanned > WINDOW || (zi.ret > from && may_enable(z)) {
                    enabled = true;
                    break;
                }
            }
            if !enabled {
                return Some((x, y));
            }
        }
        None
    }

    /// Runs the search. With `stop = Some(item)`, configurations where
    /// `item` is the next return to pass are recorded (distinct states, at
    /// most `max_paths`), `item` itself is never linearized (a branch that
    /// linearizes it never reaches such a configuration), and the search
    /// goes on until exhausted; the result is then in `finals`. `item` must
    /// be required, so a return entry always remains.
    fn run(
        &mut self,
        limits: &Limits<'_>,
        stop: Option<u32>,
        max_paths: usize,
        finals: &mut Vec<FinalPath<M::State>>,
    ) -> Found {
        let init = self.model.init();
        self.run_from(limits, stop, max_paths, finals, init, &[])
    }

    /// Decides whether the configuration where the items `placed` are
    /// linearized (and nothing else) and the state is `start` has a
    /// successful continuation. Rule 10 (objects) asks this of each
    /// object's own engine.
    pub(super) fn search_from(
        &mut self,
        placed: &[u32],
        start: M::State,
        limits: &Limits<'_>,
    ) -> Found {
        for &i in placed {
            self.lift(i);
        }
        let found = self.run_from(limits, None, 0, &mut Vec::new(), start, placed);
        for &i in placed.iter().rev() {
            self.unlift(i);
        }
        found
    }

    /// [`Engine::run`] from the state `start`, with the items `placed`
    /// already lifted (the caller undoes them).
    fn run_from(
        &mut self,
        limits: &Limits<'_>,
        stop: Option<u32>,
        max_paths: usize,
        finals: &mut Vec<FinalPath<M::State>>,
        start: M::State,
        placed: &[u32],
    ) -> Found {
        let state = self.intern(start);
        let done = placed
            .iter()
            .filter(|&&i| !self.items[i as usize].optional())
            .count();
        if self.n_req == done && stop.is_none() {
            return Found::Linearizable(Vec::new());
        }
        // Rule 8 is about the whole history, from the initial state.
        if stop.is_none() && placed.is_empty() {
            if let Some((x, y)) = self.killed() {
                self.killer = Some(y);
                return Found::NotLinearizable { stuck: x };
            }
        }
        // Rule 10: one engine per object, over its own items, for the
        // questions this search asks; every object is asked at the start.
        let use_objects = stop.is_none() && placed.is_empty() && self.objects.is_some();
        let parts = match (&self.objects, use_objects) {
            (Some((ids, of)), true) => objects::split(self.items, of, ids.len()),
            _ => Vec::new(),
        };
        let mut look = match (&self.objects, use_objects) {
            (Some((ids, of)), true) => Some(Lookahead::new(self.model, ids.clone(), of, &parts)),
            _ => None,
        };
        self.object_refusals = 0;
        if let Some(la) = look.as_mut() {
            if let Err(found) = self.objects_completable(la, state, limits) {
                return found;
            }
        }
        let mut fp = Fingerprint::default();
        for &i in placed {
            fp.toggle(self.words[i as usize]);
        }
        let mut walk = Walk {
            stack: Vec::new(),
            cands: Vec::new(),
            start: 0,
            listed: false,
            fresh: true,
            state,
            fp,
            done,
            stuck: NONE,
            max_depth: 0,
            taint: NONE,
            had_child: false,
            first_ret: self.first_return(self.next[0]),
        };
        let mut finals = Finals {
            stop,
            max_paths,
            out: finals,
            seen: Vec::new(),
        };
        let found = self.walk(&mut walk, &mut finals, look.as_mut(), limits);
        // Leave the lists as they were: an engine may be asked again.
        for f in walk.stack.iter().rev() {
            self.unlift(f.item);
        }
        found
    }

    /// Rule 10 at the start: every object's items can be completed alone.
    /// The search ends at once (`Err`) when one cannot, or when the limits
    /// ran out asking.
    fn objects_completable(
        &mut self,
        la: &mut Lookahead<'_, M>,
        state: u32,
        limits: &Limits<'_>,
    ) -> Result<(), Found> {
        for k in 0..la.len() as u32 {
            match la.completable(
                k,
                self.obj_fp[k as usize],
                &self.placed,
                None,
                &self.states[state as usize],
                limits,
            ) {
                Ok(()) => {}
                Err(Found::NotLinearizable { stuck }) if stuck != NONE => {
                    self.object_refusals += 1;
                    self.killer = la.killer(k);
                    return Err(Found::NotLinearizable {
                        stuck: la.member(k, stuck),
                    });
                }
                Err(_) => {
                    return Err(Found::Unknown {
                        stuck: None,
                        depth: 0,
                    })
                }
            }
        }
        Ok(())
    }

    /// The search's loop (Wing & Gong, with the pruning rules of the
    /// module's docs): one step a turn, from the configuration `w` stands
    /// at, until every required item is placed, every order is refuted, or
    /// the limits run out.
    fn walk(
        &mut self,
        w: &mut Walk,
        finals: &mut Finals<'_, M::State>,
        mut look: Option<&mut Lookahead<'_, M>>,
        limits: &Limits<'_>,
    ) -> Found {
        let stop = finals.stop;
        let mut memo = Memo::new(limits.memo_cap, limits.memory);
        let mut steps: u32 = 0;
        let halt = limits.stop();
        let mut ticker = Ticker::new();
        let mut bytes_cap = limits.state_bytes_cap;
        loop {
            if self.intern_bytes > bytes_cap {
                memo.clear();
                self.compact(&mut w.stack, &mut w.state, &mut finals.seen);
                // Never compact again before the table has doubled.
                bytes_cap = limits.state_bytes_cap.max(2 * self.intern_bytes);
                self.compactions += 1;
            }
            steps = steps.wrapping_add(1);
            // The budget of configurations is looked at every 4,096 steps,
            // so that it ends the search at the same point on any machine;
            // the deadline and the flags as often as the ticker says.
            let spent = steps & 0xFFF == 0 && {
                if let Some(p) = limits.progress {
                    p.reach(w.max_depth);
                }
                limits
                    .max_configurations
                    .is_some_and(|n| self.configurations >= n)
            };
            if spent || halt.by(&mut ticker) {
                return w.unknown();
            }
            // The first return entry bounds the candidates.
            let e = w.first_ret;
            debug_assert!(e == self.first_return(self.next[0]));
            debug_assert!(e != 0, "a required op remains");
            let rmin = self.ent_item[e as usize];
            let bound = self.ent_time[e as usize];
            let mut exhausted = false;
            if w.fresh {
                exhausted = self.enter_level(w, rmin, bound, finals);
                let forced = if exhausted {
                    NONE
                } else {
                    self.forced_read(w.state, stop)
                };
                if forced != NONE {
                    let Some(placed) =
                        self.place_forced(w, forced, rmin, &mut memo, look.as_deref_mut(), limits)
                    else {
                        return w.unknown();
                    };
                    if placed {
                        if w.done == self.n_req && stop.is_none() {
                            return self.linearized(w, limits);
                        }
                        continue;
                    }
                    // Placing it leads to a configuration known to fail,
                    // and this one succeeds only if that one does.
                    exhausted = true;
                }
            }
            let picked = if exhausted {
                None
            } else {
                self.pick(w, rmin, bound, stop)
            };
            w.fresh = false;
            let Some(cand) = picked else {
                if !self.backtrack(w, &mut memo, limits.memo_cap / 8) {
                    return Found::NotLinearizable { stuck: w.stuck };
                }
                continue;
            };
            let Some((ns, nfp)) = self.admit(w, cand, &memo) else {
                continue;
            };
            if let Some(la) = look.as_deref_mut() {
                match self.objects_refuse(la, cand, ns, limits) {
                    Some(false) => {}
                    Some(true) => continue,
                    None => return w.unknown(),
                }
            }
            self.descend(w, cand, ns, nfp, rmin, false);
            if !self.items[cand as usize].optional() {
                w.done += 1;
                if w.done == self.n_req && stop.is_none() {
                    return self.linearized(w, limits);
                }
            }
        }
    }

    /// On entering a level: its stuck op, its configuration among the
    /// final paths when they are asked for, and the rules that refute it at
    /// once (future returns, rule 9; unreachable returns, rule 5). True
    /// when it is refuted.
    #[inline(always)]
    fn enter_level(
        &mut self,
        w: &mut Walk,
        rmin: u32,
        bound: usize,
        finals: &mut Finals<'_, M::State>,
    ) -> bool {
        let stop = finals.stop;
        if w.stuck == NONE || self.rank[rmin as usize] > self.rank[w.stuck as usize] {
            w.stuck = rmin;
        }
        if stop == Some(rmin)
            && finals.out.len() < finals.max_paths
            && !finals.seen.contains(&w.state)
        {
            finals.seen.push(w.state);
            finals.out.push(FinalPath {
                path: w.path(),
                state: self.states[w.state as usize].clone(),
            });
        }
        self.touched[rmin as usize] = true;
        let refuter = self
            .future_refutes(w.state, stop)
            .or_else(|| self.some_candidate_unreachable(w.state, bound, stop));
        if let Some(x) = refuter {
            self.touched[x as usize] = true;
        }
        refuter.is_some()
    }

    /// The read-only rule: the first required read-only candidate legal in
    /// `state`, placed at once without alternatives (`NONE` if there is
    /// none).
    #[inline(always)]
    fn forced_read(&self, state: u32, stop: Option<u32>) -> u32 {
        let mut e = self.next[0];
        while self.ent_call[e as usize] {
            let it = self.ent_item[e as usize];
            if self.read_only[it as usize]
                && stop != Some(it)
                && self
                    .model
                    .step(&self.states[state as usize], &self.items[it as usize].op)
                    .is_some()
            {
                return it;
            }
            e = self.next[e as usize];
        }
        NONE
    }

    /// Places the read-only rule's `forced` item unless the memo, rule 7 or
    /// rule 10 knows the configuration it reaches to fail: whether it was
    /// placed, or `None` when the limits ran out.
    #[inline(always)]
    fn place_forced(
        &mut self,
        w: &mut Walk,
        forced: u32,
        rmin: u32,
        memo: &mut Memo,
        look: Option<&mut Lookahead<'_, M>>,
        limits: &Limits<'_>,
    ) -> Option<bool> {
        let mut nfp = w.fp;
        nfp.toggle(self.words[forced as usize]);
        let admitted = !memo.contains(nfp, w.state) && !self.subsumed(nfp, w.state, forced);
        let refused = match look {
            Some(la) if admitted => self.objects_refuse(la, forced, w.state, limits)?,
            _ => false,
        };
        if !admitted || refused {
            return Some(false);
        }
        let state = w.state;
        self.descend(w, forced, state, nfp, rmin, true);
        w.done += 1;
        Some(true)
    }

    /// The level's next candidate: `rmin` alone first, then the others
    /// (listed only when that fails), best first.
    #[inline(always)]
    fn pick(&mut self, w: &mut Walk, rmin: u32, bound: usize, stop: Option<u32>) -> Option<u32> {
        if w.fresh && stop != Some(rmin) {
            return Some(rmin);
        }
        if !w.listed {
            self.list_candidates(w.state, rmin, bound, stop, &mut w.cands);
            w.listed = true;
        }
        if w.cands.len() > w.start {
            w.cands.pop().map(|(_, x)| x)
        } else {
            None
        }
    }

    /// The configuration that placing `cand` reaches (its interned state
    /// and fingerprint), unless the step is illegal or a rule prunes it:
    /// an optional step that changes nothing, a shortcut in a run of
    /// optional steps (rule 11), or a configuration the memo (rule 1) or
    /// the failure records (rule 7) know to fail.
    #[inline(always)]
    fn admit(&mut self, w: &mut Walk, cand: u32, memo: &Memo) -> Option<(u32, Fingerprint)> {
        let ci = cand as usize;
        let next_state = self
            .model
            .step(&self.states[w.state as usize], &self.items[ci].op)?;
        let ns = self.intern(next_state);
        let optional = self.items[ci].optional();
        let mut nfp = w.fp;
        nfp.toggle(self.words[ci]);
        if optional && ns == w.state {
            return None;
        }
        if optional && self.runs {
            // Rule 11: a shortcut or cycle in the run is not taken, and a
            // configuration inside a run is looked up, not recorded.
            if let Some(q) = self.shortcut(&w.stack, cand, ns) {
                self.run_pruned += 1;
                w.taint = w.taint.min(q);
                return None;
            }
            if memo.contains(nfp, ns) || self.subsumed(nfp, ns, cand) {
                return None;
            }
        } else if let Some(q) = self
            .runs
            .then(|| self.shortcut(&w.stack, cand, ns))
            .flatten()
        {
            // Rule 11: the run before this required step was useless.
            self.run_pruned += 1;
            w.taint = w.taint.min(q);
            return None;
        } else if memo.contains(nfp, ns) || self.subsumed(nfp, ns, cand) {
            return None;
        }
        Some((ns, nfp))
    }

    /// Places `item`, reaching the interned state `ns` and the fingerprint
    /// `nfp`, and enters the level below (the caller counts required items
    /// placed).
    #[inline(always)]
    fn descend(
        &mut self,
        w: &mut Walk,
        item: u32,
        ns: u32,
        nfp: Fingerprint,
        rmin: u32,
        forced: bool,
    ) {
        self.configurations += 1;
        w.stack.push(Frame {
            item,
            first_ret: w.first_ret,
            prev_state: w.state,
            start: w.start as u32,
            listed: w.listed,
            forced,
            taint: w.taint,
        });
        w.taint = NONE;
        w.start = w.cands.len();
        w.listed = false;
        w.fresh = true;
        w.had_child = false;
        self.lift(item);
        if item == rmin {
            w.first_ret = self.first_return(self.next[w.first_ret as usize]);
        }
        w.state = ns;
        w.fp = nfp;
        w.max_depth = w.max_depth.max(w.stack.len());
    }

    /// Leaves the current level, exhausted, and every level above it whose
    /// only move was a forced one. False when there is no level left: every
    /// order is refuted.
    ///
    /// A configuration is looked up on entry and recorded when it is left
    /// exhausted (rule 1); one that entered none below it only in rule 7's
    /// records, when that rule is on. A configuration inside a run of
    /// optional steps is recorded only if no cut below it looked back past
    /// it (rule 11).
    #[inline(always)]
    fn backtrack(&mut self, w: &mut Walk, memo: &mut Memo, fails_cap: usize) -> bool {
        loop {
            w.cands.truncate(w.start);
            let Some(f) = w.stack.pop() else {
                return false;
            };
            let depth = w.stack.len() as u32 + 1;
            if !(self.runs && self.items[f.item as usize].optional()) {
                if w.had_child || !self.subsume {
                    memo.insert(w.fp, w.state);
                }
                self.record_failure(w.fp, w.state, fails_cap);
            } else if w.taint >= depth {
                memo.insert(w.fp, w.state);
                self.record_failure(w.fp, w.state, fails_cap);
            }
            w.had_child = true;
            w.taint = w.taint.min(f.taint);
            self.unlift(f.item);
            w.first_ret = f.first_ret;
            w.state = f.prev_state;
            w.fp.toggle(self.words[f.item as usize]);
            if !self.items[f.item as usize].optional() {
                w.done -= 1;
            }
            w.start = f.start as usize;
            w.listed = f.listed;
            if !f.forced {
                return true;
            }
        }
    }

    /// Every required item is placed: the path is a linearization.
    fn linearized(&self, w: &Walk, limits: &Limits<'_>) -> Found {
        if let Some(p) = limits.progress {
            p.reach(w.max_depth);
        }
        Found::Linearizable(w.path())
    }

    /// Rule 10: does the object of `cand`, once placed (reaching the
    /// state `ns`), have a part that cannot be completed? `None` when the
    /// limits ran out.
    fn objects_refuse(
        &mut self,
        la: &mut Lookahead<'_, M>,
        cand: u32,
        ns: u32,
        limits: &Limits<'_>,
    ) -> Option<bool> {
        let (_, of) = self.objects.as_ref().expect("rule 10 is on");
        let k = of[cand as usize];
        let mut kfp = self.obj_fp[k as usize];
        kfp.toggle(self.words[cand as usize]);
        match la.completable(
            k,
            kfp,
            &self.placed,
            Some(cand),
            &self.states[ns as usize],
            limits,
        ) {
            Ok(()) => Some(false),
            Err(Found::NotLinearizable { .. }) => {
                self.object_refusals += 1;
                Some(true)
            }
            Err(_) => None,
        }
    }

    /// Decides whether the items can be linearized.
    pub(crate) fn search(&mut self, limits: &Limits<'_>) -> Found {
        // Compiling the ops (interning their values) may already have
        // passed the memory budget: then the search does not begin.
        if memory::exceeded(limits.memory) {
            return Found::Unknown {
                stuck: None,
                depth: 0,
            };
        }
        self.run(limits, None, 0, &mut Vec::new())
    }

    /// The configurations (paths and states) reachable just before the
    /// return of `stuck`, at most `max_paths` of them with distinct states.
    /// Returns them and whether the enumeration finished.
    pub(crate) fn finals(
        &mut self,
        stuck: u32,
        limits: &Limits<'_>,
        max_paths: usize,
    ) -> (Vec<FinalPath<M::State>>, bool) {
        let mut finals = Vec::new();
        let found = self.run(limits, Some(stuck), max_paths, &mut finals);
        (finals, !matches!(found, Found::Unknown { .. }))
    }
}
