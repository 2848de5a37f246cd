//! The search: depth-first over configurations (how many ops of each
//! process are placed, and the state of every key), memoized on both.
//!
//! This is Lowe's memoized search (2017) with real time removed: a
//! configuration's successors are the next op of any process, not the ops
//! whose invocation precedes every pending response. The number of
//! configurations is at most the product of (process length + 1) times the
//! number of states, which is polynomial for a fixed number of processes
//! and exponential in the process count, as the problem's NP-completeness
//! (Gibbons & Korach 1997) demands.
//!
//! Hot-path costs: a move updates one position, at most one key state, a
//! few counters, and the 128-bit Zobrist key ([`super::memo`]) by XOR; a
//! model step is looked up in a transition cache keyed by (op, state id),
//! so `Model::step` and state hashing run once per distinct pair. Moves
//! live in one arena shared by all frames; nothing is allocated per move
//! once the arena and tables have grown.
//!
//! Move order (a heuristic; every move is still tried): required ops,
//! earliest invoked first, or in the order a [`Limits::guide`] gives (the global search of
//! a keyed history follows each key's own order) (indeterminate ops whose
//! new state a blocked process is waiting for join them); then the other
//! indeterminate ops; skipping an indeterminate op last. The prunings
//! (observations first, starved requirements, useless indeterminate
//! writes, unreachable requirements) need [`Hints`] or the model's
//! reachability hooks and are proved in [`super::hints`]; so does the
//! last one: an op that the history proves comes after another
//! (`super::observe`) is not placed while that one is unplaced. Every
//! valid order keeps those orders, so this prunes only orders that fail.
//!
//! On a problem of several keys, a first bounded pass keeps the real-time
//! order of updates, and of reads before the updates invoked after they
//! returned ([`realtime_orders`]): it only looks for an order (it is not
//! complete, so its failure decides nothing), and any order it finds is
//! valid. It prunes with the deadlines those orders give
//! ([`Engine::keep_real_time`]).

use super::hints::{Effect, Hints};
use super::memo::{state_word, FxMap, Memo, Zobrist};
use super::observe::{analyse, tokens, Constraints, Interner, Tokens, UNCHANGED, UNKNOWN};
use super::problem::Problem;
use crate::check::deadline::{Stop, Ticker};
use crate::check::Progress;
use crate::memory::{self, Budget};
use crate::model::Model;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

const NONE: u32 = u32::MAX;
const SKIP: u32 = u32::MAX;

/// When to give up.
#[derive(Clone, Copy)]
pub(crate) struct Limits<'a> {
    /// Stop with `Unknown` at this instant.
    pub deadline: Option<Instant>,
    /// Stop with `Unknown` when any of these is set.
    pub cancel: [Option<&'a AtomicBool>; 3],
    /// Stop with `Unknown` once this budget is exceeded; the memo grows
    /// only within it.
    pub memory: Option<&'a Budget>,
    /// Counters to update.
    pub progress: Option<&'a Progress>,
    /// Stop with `Unknown` after this many configurations.
    pub max_nodes: Option<u64>,
    /// Memo capacity, in configurations.
    pub memo_entries: usize,
    /// Which optional rules run.
    pub rules: Rules,
    /// Per op of the problem: its rank among moves of the same class
    /// (smaller first), instead of its index in the history. Only the
    /// order in which moves are tried changes.
    pub guide: Option<&'a [u64]>,
}

/// The rules of the search that may be switched off, to test each one
/// against brute force; all on by default.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rules {
    /// Unreachable requirements (`Model::reachable`; proof in `hints`).
    pub unreachable: bool,
    /// The first pass that keeps the real-time order of updates (see
    /// [`search_with`]).
    pub realtime: bool,
    /// That pass on problems of one key too (the keys of a keyed
    /// history checked alone, and tests).
    pub realtime_always: bool,
    /// That pass gives up branches that stall ([`Engine::escape`]).
    pub escape: bool,
    /// That pass refuses moves that leave too few periods of a state for
    /// the ops that consume it ([`Engine::exhausts`]). [`search_with`]
    /// sets it for a second pass, when the first one finds no order.
    pub matching: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            unreachable: true,
            realtime: true,
            realtime_always: false,
            escape: true,
            matching: false,
        }
    }
}

impl<'a> Limits<'a> {
    /// The deadline, the cancel flags and the memory budget.
    pub fn stop(&self) -> Stop<'a> {
        Stop {
            at: self.deadline,
            flags: self.cancel,
            memory: self.memory,
        }
    }
}

impl Default for Limits<'_> {
    fn default() -> Self {
        Limits {
            deadline: None,
            cancel: [None, None, None],
            memory: None,
            progress: None,
            max_nodes: None,
            memo_entries: 1 << 22,
            rules: Rules::default(),
            guide: None,
        }
    }
}

/// The deepest configuration a search reached: the ops placed (or skipped,
/// for indeterminate ops) on the way, each process's position and each
/// key's state there.
#[derive(Clone, Debug)]
pub(crate) struct Frontier<S> {
    /// Indices into the problem's ops, in order; `true` marks an
    /// indeterminate op left out.
    pub steps: Vec<(u32, bool)>,
    /// Ops consumed per process.
    pub pos: Vec<u32>,
    /// The state of every key.
    pub states: Vec<S>,
    /// The deadline or the user's cancel flag stopped the search before
    /// it found the deepest configuration: this one is shallower.
    pub cut_short: bool,
}

/// What a search found.
#[derive(Clone, Debug)]
pub(crate) enum Found<S> {
    /// A valid order: indices into the problem's ops.
    Order(Vec<u32>),
    /// No order exists; the deepest configuration reached.
    Refuted(Frontier<S>),
    /// Gave up: time ran out or the search was cancelled.
    GaveUp,
}

/// Search statistics.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Stats {
    /// Configurations entered.
    pub nodes: u64,
}

#[derive(Clone, Copy)]
struct Move {
    p: u32,
    /// The key's next state id, or `SKIP`.
    next: u32,
    rank: u64,
}

struct Frame {
    lo: u32,
    hi: u32,
    cur: u32,
    /// The move that entered this configuration and the key state before it.
    entry: Option<(Move, u32)>,
    /// A branch below was given up ([`Engine::escape`]), so this
    /// configuration is not known to fail when its moves run out.
    cut: bool,
}

/// Decides `pb`.
///
/// When there are indeterminate ops, a first bounded pass looks for an
/// order that leaves them all out: most histories that pass need few of
/// them (compare Ozkan et al. 2019: most witnesses are shallow), and
/// without them the search has far fewer choices. Any order that pass finds
/// is valid for `pb`; if it finds none, or runs out of its budget, the
/// full search decides.
pub(crate) fn search<M: Model, H: Hints<M> + ?Sized>(
    pb: &Problem<M>,
    hints: &H,
    limits: &Limits<'_>,
) -> (Found<M::State>, Stats) {
    let proved = analyse(pb, hints, &limits.stop()).0.constraints(pb);
    search_with(pb, hints, limits, &proved)
}

/// [`search`] with the orders the history proves already worked out.
pub(crate) fn search_with<M: Model, H: Hints<M> + ?Sized>(
    pb: &Problem<M>,
    hints: &H,
    limits: &Limits<'_>,
    proved: &Constraints,
) -> (Found<M::State>, Stats) {
    let mut nodes = 0;
    // Every pass below begins with linear work that takes a while on a
    // million ops: none begins after the deadline.
    if limits.stop().now() {
        return (Found::GaveUp, Stats { nodes });
    }
    if pb.ops.iter().any(|c| c.optional) {
        let mut kept = Vec::new();
        let sub = pb.restrict(|i, c| {
            let keep = !c.optional;
            if keep {
                kept.push(i as u32);
            }
            keep
        });
        let budget = Limits {
            max_nodes: Some(limits.max_nodes.unwrap_or(u64::MAX).min(200_000)),
            ..*limits
        };
        let sub_proved = analyse(&sub, hints, &limits.stop()).0.constraints(&sub);
        let mut e = Engine::new(&sub, hints, &budget, sub_proved);
        let found = e.run(&budget);
        nodes += e.nodes;
        if let Found::Order(order) = found {
            let order = order.iter().map(|&i| kept[i as usize]).collect();
            return (Found::Order(order), Stats { nodes });
        }
    }
    // The real-time pass runs on problems of several keys (the global
    // search of a keyed history), where the full search without it finds
    // its wrong guesses too late; on one object the full search does as
    // well alone.
    let wanted =
        limits.rules.realtime && (pb.live_keys().len() > 1 || limits.rules.realtime_always);
    if limits.stop().now() {
        return (Found::GaveUp, Stats { nodes });
    }
    if let Some(rt) = wanted
        .then(|| realtime_constraints(pb, hints, proved))
        .flatten()
    {
        let n = pb.ops.len() as u64;
        let budget = Limits {
            max_nodes: Some(limits.max_nodes.unwrap_or(u64::MAX).min(100_000 + 50 * n)),
            ..*limits
        };
        // The matching rule halves the pass's speed, so it is kept for
        // a second pass, when the first finds no order.
        for matching in [false, true] {
            if limits.stop().now() {
                return (Found::GaveUp, Stats { nodes });
            }
            let budget = Limits {
                rules: Rules {
                    matching,
                    ..limits.rules
                },
                ..budget
            };
            let (found, stats) = realtime_pass(pb, hints, &budget, &rt);
            nodes += stats.nodes;
            if let Found::Order(order) = found {
                return (Found::Order(order), Stats { nodes });
            }
        }
    }
    if limits.stop().now() {
        return (Found::GaveUp, Stats { nodes });
    }
    let mut e = Engine::new(pb, hints, limits, proved.clone());
    let found = e.run(limits);
    nodes += e.nodes;
    if let Found::Refuted(_) = found {
        let (f, more) = replay(pb, hints, limits, proved, e.best, None);
        nodes += more;
        // The same search refutes again; were it to find an order,
        // undecided is never wrong.
        let found = f.map_or(Found::GaveUp, Found::Refuted);
        return (found, Stats { nodes });
    }
    (found, Stats { nodes })
}

/// How many configurations the real-time pass enters without getting
/// deeper before it gives up the branch it is in ([`Engine::escape`]).
const STALL_BUDGET: u64 = 4096;

/// The orders the real-time pass keeps: those `proved`, and
/// [`realtime_orders`]; `None` when the latter add nothing to program
/// order.
pub(super) fn realtime_constraints<M: Model, H: Hints<M> + ?Sized>(
    pb: &Problem<M>,
    hints: &H,
    proved: &Constraints,
) -> Option<Constraints> {
    let extra = realtime_orders(pb, hints);
    (!extra.is_empty()).then(|| proved.with(pb.ops.len(), &extra))
}

/// The search that keeps the orders `rt` ([`realtime_constraints`]; see
/// [`search_with`]), within `limits`. It gives up branches that stall
/// ([`Engine::escape`]), so its failure decides nothing, even without a
/// bound.
pub(super) fn realtime_pass<M: Model, H: Hints<M> + ?Sized>(
    pb: &Problem<M>,
    hints: &H,
    limits: &Limits<'_>,
    rt: &Constraints,
) -> (Found<M::State>, Stats) {
    let mut e = Engine::new(pb, hints, limits, rt.clone());
    e.keep_real_time(hints);
    e.hall = limits.rules.matching;
    e.stall_budget = limits.rules.escape.then_some(STALL_BUDGET);
    let found = e.run(limits);
    (found, Stats { nodes: e.nodes })
}

/// The real-time order of updates, and of reads before later updates, as
/// extra orders for a first pass of the search:
///
/// - an update (an op whose [`Hints::effect`] is not
///   [`Effect::Unchanged`]) comes after every update of another process
///   that completed before it was invoked;
/// - a completed required op that changes nothing (a read) comes before
///   every update of another process invoked after it completed: it
///   cannot have seen an update that had not begun.
///
/// For each other process one edge is enough (from its last such update,
/// to its first such required update, and to the indeterminate ones
/// before it, which may be left out): program order gives the rest.
///
/// Sequential consistency does not ask for this, so the pass that keeps
/// these orders is not complete: it only *looks* for a valid order, and
/// when it finds none the full search decides. It is often quick to
/// succeed: in a store that orders its updates at one place (a leader,
/// a log) and lets reads lag, the updates are linearizable and the reads
/// alone break real time; keeping real time between updates removes most
/// of the wrong guesses a search without it makes, and the wrong ones it
/// still makes are found within a few ops (an update of a blocked
/// process soon holds back every later update). A read in such a store
/// returns a prefix of the log its replica had applied when it ran, so
/// it never sees an update invoked after it returned: the second kind of
/// edge holds there too, and it stops the pass from running far ahead
/// of a read it has not placed. Every order the pass finds keeps each
/// process's order and obeys the model, so it is valid.
pub(super) fn realtime_orders<M: Model, H: Hints<M> + ?Sized>(
    pb: &Problem<M>,
    hints: &H,
) -> Vec<(u32, u32)> {
    let update: Vec<bool> = pb
        .ops
        .iter()
        .map(|c| {
            !matches!(
                hints.effect(&pb.models[c.key as usize], &c.op),
                Effect::Unchanged
            )
        })
        .collect();
    // Per process, in program order, (time, op) for the ops `time` picks:
    // times grow along a process; keep the lists sorted even if a history
    // says otherwise.
    let timeline = |time: &dyn Fn(u32) -> Option<usize>| -> Vec<Vec<(usize, u32)>> {
        pb.procs
            .iter()
            .map(|seq| {
                let mut list: Vec<(usize, u32)> = Vec::new();
                for &i in seq {
                    if let Some(t) = time(i) {
                        if list.last().is_none_or(|&(last, _)| last <= t) {
                            list.push((t, i));
                        }
                    }
                }
                list
            })
            .collect()
    };
    // Completed required updates, by response; updates, by invocation.
    let done = timeline(&|i| {
        let c = &pb.ops[i as usize];
        (update[i as usize] && !c.optional && c.response != usize::MAX).then_some(c.response)
    });
    let issued = timeline(&|i| update[i as usize].then_some(pb.ops[i as usize].invoke));
    let mut out = Vec::new();
    for (b, c) in pb.ops.iter().enumerate() {
        if !update[b] {
            if !c.optional && c.response != usize::MAX {
                for (q, list) in issued.iter().enumerate() {
                    if q == c.process as usize {
                        continue;
                    }
                    // Up to the first required one: an indeterminate
                    // update may be left out, and then program order
                    // does not carry the edge past it.
                    let j = list.partition_point(|&(v, _)| v < c.response);
                    for &(_, u) in &list[j..] {
                        out.push((b as u32, u));
                        if !pb.ops[u as usize].optional {
                            break;
                        }
                    }
                }
            }
            continue;
        }
        for (q, list) in done.iter().enumerate() {
            if q == c.process as usize {
                continue;
            }
            let j = list.partition_point(|&(r, _)| r < c.invoke);
            if j > 0 {
                out.push((list[j - 1].1, b as u32));
            }
        }
    }
    out
}

/// The deepest configuration a search reaches within `limits` (which
/// should bound it), for a problem already known to have no valid order:
/// the evidence of a refutation found another way. `None` if the search
/// finds an order after all. Also returns the configurations entered.
pub(crate) fn frontier<M: Model, H: Hints<M> + ?Sized>(
    pb: &Problem<M>,
    hints: &H,
    limits: &Limits<'_>,
    proved: &Constraints,
) -> (Option<Frontier<M::State>>, u64) {
    let mut e = Engine::new(pb, hints, limits, proved.clone());
    let found = e.run(limits);
    match found {
        Found::Order(_) => (None, e.nodes),
        Found::Refuted(_) | Found::GaveUp => {
            let max_nodes = limits.max_nodes.map(|n| n.saturating_mul(2));
            let (f, nodes) = replay(pb, hints, limits, proved, e.best, max_nodes);
            (f, e.nodes + nodes)
        }
    }
}

/// The deepest configuration of a search that reached depth `best`:
/// replays the same (deterministic) search up to the first configuration
/// that deep, which is cheaper than copying the path at every new depth.
/// The replay stops at the deadline and the user's cancel flag too; then
/// the frontier is the root's, marked [`Frontier::cut_short`]. `None` if
/// the replay finds an order (a search cut short before the refutation).
fn replay<M: Model, H: Hints<M> + ?Sized>(
    pb: &Problem<M>,
    hints: &H,
    limits: &Limits<'_>,
    proved: &Constraints,
    best: usize,
    max_nodes: Option<u64>,
) -> (Option<Frontier<M::State>>, u64) {
    let mut again = Engine::new(pb, hints, limits, proved.clone());
    again.stop_at = Some(best);
    let found = again.run(&Limits {
        deadline: limits.deadline,
        cancel: [limits.cancel[0], None, None],
        max_nodes,
        memo_entries: limits.memo_entries,
        ..Limits::default()
    });
    let f = match found {
        Found::Refuted(f) => Some(f),
        Found::GaveUp => again.frontier.take().map(|f| Frontier {
            cut_short: true,
            ..f
        }),
        Found::Order(_) => None,
    };
    (f, again.nodes)
}

struct Engine<'p, M: Model> {
    pb: &'p Problem<M>,
    lens: Vec<u32>,
    /// Per op: the token state it requires, or `NONE`.
    req_tok: Vec<u32>,
    /// Per op: `UNCHANGED`, `UNKNOWN`, or the state id it sets.
    eff: Vec<u32>,
    zob: Zobrist,
    interners: Vec<Interner<M::State>>,
    trans: FxMap<u64, u32>,
    /// The budget the transition cache grows within.
    memory: Option<Budget>,
    pos: Vec<u32>,
    cur: Vec<u32>,
    hash: u128,
    required_left: usize,
    consumed: usize,
    /// Per key, per token state: unplaced ops that set it.
    producers: Vec<Vec<u32>>,
    /// Per key, per token state: unplaced required ops that need it.
    waiters: Vec<Vec<u32>>,
    /// Per key: tokens with waiters and no producers.
    starved: Vec<u32>,
    /// Per key: unplaced ops with unknown effect.
    unknown: Vec<u32>,
    /// Per op: a blind write (always enabled, sets a known state).
    blind: Vec<bool>,
    /// Per key, per token state: unplaced ops (optional too) that need it.
    requirers: Vec<Vec<u32>>,
    /// Per key: unplaced ops that neither need a known state nor are blind.
    others: Vec<u32>,
    /// Orders the history proves (`observe`): ops that must come later.
    proved: Constraints,
    /// Per op: ops that must come before it and are not placed yet.
    waiting: Vec<u32>,
    /// Per op: its position in its process.
    slot: Vec<u32>,
    /// Real-time pass only (else empty): per op, its deadline (see
    /// [`Engine::keep_real_time`]).
    deadline: Vec<usize>,
    /// Real-time pass only: per key, per state token, per process, the
    /// positions in the process of the ops that set it.
    setters: Vec<Vec<Vec<Vec<u32>>>>,
    /// Real-time pass only: per key, per state token, per process, the
    /// positions in the process of the required ops that need it.
    needers: Vec<Vec<Vec<Vec<u32>>>>,
    /// Real-time pass only: the same for the required ops that need the
    /// state and leave another one (they *consume* it).
    consumers: Vec<Vec<Vec<Vec<u32>>>>,
    /// Real-time pass only: whether [`Engine::exhausts`] prunes.
    hall: bool,
    /// Scratch space for [`Engine::exhausts`].
    due: Vec<usize>,
    /// Per op: its rank among moves of its class (see [`Limits::guide`]).
    guide: Option<Vec<u64>>,
    /// Per key: does the unreachable-requirements rule run on it (it has
    /// ops of unknown effect, which the starved rule cannot see through)?
    reach: Vec<bool>,
    /// Per key: required ops that need some state (reads, cas).
    targets: Vec<Vec<u32>>,
    /// Per key: ops that may make some target of the key reachable again.
    enablers: Vec<Vec<u32>>,
    memo: Memo,
    moves: Vec<Move>,
    frames: Vec<Frame>,
    blocked: Vec<(u32, u32)>,
    best: usize,
    /// Replay mode: stop at the first configuration this deep.
    stop_at: Option<usize>,
    frontier: Option<Frontier<M::State>>,
    nodes: u64,
    /// Real-time pass only: give up a branch after this many
    /// configurations without a deeper one (see [`Engine::escape`]).
    stall_budget: Option<u64>,
    /// Configurations entered since the deepest one was last beaten.
    since_best: u64,
    /// The fewest frames on the stack since then.
    stall_lo: usize,
    /// When to look at the deadline.
    ticker: Ticker,
}

/// The counts behind the starved-requirements and useless-write
/// prunings (`hints`), over the unplaced ops; the search keeps them up to
/// date as it places ops and takes them back.
struct Tallies {
    /// Per key, per token state: unplaced ops that set it.
    producers: Vec<Vec<u32>>,
    /// Per key, per token state: unplaced required ops that need it.
    waiters: Vec<Vec<u32>>,
    /// Per key, per token state: unplaced ops (optional too) that need it.
    requirers: Vec<Vec<u32>>,
    /// Per key: unplaced ops with unknown effect.
    unknown: Vec<u32>,
    /// Per key: unplaced ops that neither need a known state nor are blind.
    others: Vec<u32>,
    /// Per key: tokens with waiters and no producers.
    starved: Vec<u32>,
    /// Required ops unplaced.
    required_left: usize,
}

impl Tallies {
    /// The counts at the root, where every op is unplaced; `states` is
    /// the number of token states of each key.
    fn at_root<M: Model>(
        pb: &Problem<M>,
        states: impl Iterator<Item = usize>,
        req_tok: &[u32],
        eff: &[u32],
        blind: &[bool],
    ) -> Tallies {
        let nk = pb.keys.len();
        let mut producers: Vec<Vec<u32>> = states.map(|n| vec![0; n]).collect();
        let mut waiters = producers.clone();
        let mut requirers = producers.clone();
        let mut unknown = vec![0u32; nk];
        let mut others = vec![0u32; nk];
        let mut required_left = 0;
        for (i, c) in pb.ops.iter().enumerate() {
            let k = c.key as usize;
            if req_tok[i] != NONE {
                requirers[k][req_tok[i] as usize] += 1;
            }
            if !(blind[i] && eff[i] < UNCHANGED) && req_tok[i] == NONE {
                others[k] += 1;
            }
            match eff[i] {
                UNCHANGED => {}
                UNKNOWN => unknown[k] += 1,
                s => producers[k][s as usize] += 1,
            }
            if !c.optional {
                required_left += 1;
                if req_tok[i] != NONE {
                    waiters[k][req_tok[i] as usize] += 1;
                }
            }
        }
        let starved = (0..nk)
            .map(|k| {
                (0..waiters[k].len())
                    .filter(|&x| waiters[k][x] > 0 && producers[k][x] == 0)
                    .count() as u32
            })
            .collect();
        Tallies {
            producers,
            waiters,
            requirers,
            unknown,
            others,
            starved,
            required_left,
        }
    }
}

/// What the unreachable-requirements rule (`hints`) looks at, per key.
struct Reach {
    /// Does the rule run on the key (it has ops of unknown effect, which
    /// the starved rule cannot see through)?
    on: Vec<bool>,
    /// Required ops that need some state (reads, cas).
    targets: Vec<Vec<u32>>,
    /// Ops that may make some target of the key reachable again.
    enablers: Vec<Vec<u32>>,
}

impl Reach {
    /// The targets and enablers of every key with ops of unknown effect
    /// (`unknown`), or none at all when the rule is off.
    fn of<M: Model>(pb: &Problem<M>, req_tok: &[u32], unknown: &[u32], rule: bool) -> Reach {
        let nk = pb.keys.len();
        let mut targets: Vec<Vec<u32>> = vec![Vec::new(); nk];
        let mut enablers: Vec<Vec<u32>> = vec![Vec::new(); nk];
        if rule {
            for (i, c) in pb.ops.iter().enumerate() {
                let k = c.key as usize;
                if !c.optional && req_tok[i] != NONE && unknown[k] > 0 {
                    targets[k].push(i as u32);
                }
            }
            for (i, c) in pb.ops.iter().enumerate() {
                let k = c.key as usize;
                if targets[k].is_empty() {
                    continue;
                }
                // Checking every target is quadratic; past a budget, an op
                // counts as an enabler (which only weakens the rule).
                let m = &pb.models[k];
                let may = targets[k].len() > 4096
                    || targets[k]
                        .iter()
                        .any(|&t| m.may_enable(&c.op, &pb.ops[t as usize].op));
                if may {
                    enablers[k].push(i as u32);
                }
            }
        }
        Reach {
            on: targets.iter().map(|t| !t.is_empty()).collect(),
            targets,
            enablers,
        }
    }
}

impl<'p, M: Model> Engine<'p, M> {
    /// The search's root configuration: no op placed, every key in its
    /// initial state, the orders `order` kept.
    fn new<H: Hints<M> + ?Sized>(
        pb: &'p Problem<M>,
        hints: &H,
        limits: &Limits<'_>,
        order: Constraints,
    ) -> Self {
        let Tokens {
            req: req_tok,
            eff,
            init: cur,
            interners,
        } = tokens(pb, hints);
        let blind: Vec<bool> = pb
            .ops
            .iter()
            .map(|c| hints.always_enabled(&pb.models[c.key as usize], &c.op))
            .collect();
        let states = interners.iter().map(|i| i.states.len());
        let t = Tallies::at_root(pb, states, &req_tok, &eff, &blind);
        let reach = Reach::of(pb, &req_tok, &t.unknown, limits.rules.unreachable);
        let mut waiting = vec![0u32; pb.ops.len()];
        for &y in &order.after {
            waiting[y as usize] += 1;
        }
        let lens: Vec<u32> = pb.procs.iter().map(|s| s.len() as u32).collect();
        let zob = Zobrist::new(&pb.procs.iter().map(|s| s.len()).collect::<Vec<_>>());
        Engine {
            pb,
            pos: vec![0; lens.len()],
            lens,
            req_tok,
            eff,
            hash: zob.root(&cur),
            zob,
            interners,
            trans: FxMap::default(),
            memory: limits.memory.cloned(),
            cur,
            required_left: t.required_left,
            consumed: 0,
            producers: t.producers,
            waiters: t.waiters,
            starved: t.starved,
            unknown: t.unknown,
            blind,
            requirers: t.requirers,
            others: t.others,
            proved: order,
            waiting,
            slot: pb.slots(),
            deadline: Vec::new(),
            setters: Vec::new(),
            needers: Vec::new(),
            consumers: Vec::new(),
            hall: false,
            due: Vec::new(),
            guide: limits
                .guide
                .filter(|g| g.len() == pb.ops.len())
                .map(<[u64]>::to_vec),
            reach: reach.on,
            targets: reach.targets,
            enablers: reach.enablers,
            memo: Memo::new(limits.memo_entries, limits.memory),
            moves: Vec::new(),
            frames: Vec::new(),
            blocked: Vec::new(),
            best: 0,
            stop_at: None,
            frontier: None,
            nodes: 0,
            stall_budget: None,
            since_best: 0,
            stall_lo: 0,
            ticker: Ticker::new(),
        }
    }

    /// The state id after op `oi` in state `s`, or `NONE`.
    #[inline]
    fn step(&mut self, oi: u32, s: u32) -> u32 {
        let key = (oi as u64) << 32 | s as u64;
        if let Some(&n) = self.trans.get(&key) {
            return n;
        }
        let c = &self.pb.ops[oi as usize];
        let k = c.key as usize;
        let it = &mut self.interners[k];
        let n = match self.pb.models[k].step(&it.states[s as usize], &c.op) {
            Some(next) => it.intern(next),
            None => NONE,
        };
        // A cache: cleared at its bound, or when doubling it (a table of
        // about 16 bytes an entry) would pass the memory budget.
        let full = self.trans.len() == self.trans.capacity();
        if self.trans.len() >= 1 << 23
            || full && !memory::room_for(self.memory.as_ref(), 32 * self.trans.capacity())
        {
            self.trans.clear();
        }
        self.trans.insert(key, n);
        n
    }

    /// Is key `k` starved: some required op needs a state other than the
    /// current one that nothing remaining can produce?
    #[inline]
    fn dead(&self, k: usize) -> bool {
        if self.unknown[k] > 0 || self.starved[k] == 0 {
            return false;
        }
        let s = self.cur[k] as usize;
        let here = s < self.waiters[k].len() && self.waiters[k][s] > 0 && self.producers[k][s] == 0;
        self.starved[k] > here as u32
    }

    /// Turns this engine into the real-time pass's (see
    /// [`realtime_orders`], whose orders it must be given). A required op
    /// that needs a state has a *deadline*: its own response, or the
    /// response of its process's next completed update if that is
    /// earlier. Every update of another process invoked after the
    /// deadline comes after the op (a read's edge, or an update's edge
    /// after the op itself or after that next update of its process), and
    /// so does every later op of its own process. So the state the op
    /// needs must be set by an op placed before it: one invoked before
    /// the deadline, or an earlier op of its own process. Two prunings
    /// follow, both of configurations that have no completion keeping
    /// those orders (they prune only this pass, whose failures the full
    /// search takes over):
    ///
    /// - *late*: a process's next op needs a state the key is not in, and
    ///   no unplaced op that could come before it sets that state
    ///   ([`Engine::late`]);
    /// - *doomed*: a move takes a key out of a state that some unplaced
    ///   required op still needs, and no unplaced op that could come
    ///   before that op sets the state again ([`Engine::dooms`]). The op
    ///   is not placed yet, so it comes after the move;
    /// - *exhausted* (second pass only, [`Rules::matching`]): a move
    ///   leaves too few periods of a state for the unplaced ops that
    ///   consume it ([`Engine::exhausts`]).
    fn keep_real_time<H: Hints<M> + ?Sized>(&mut self, hints: &H) {
        let pb = self.pb;
        let mut deadline = vec![usize::MAX; pb.ops.len()];
        for seq in &pb.procs {
            let mut next = usize::MAX;
            for &i in seq.iter().rev() {
                let c = &pb.ops[i as usize];
                deadline[i as usize] = next.min(c.response);
                let update = !matches!(
                    hints.effect(&pb.models[c.key as usize], &c.op),
                    Effect::Unchanged
                );
                if update && !c.optional && c.response != usize::MAX {
                    next = next.min(c.response);
                }
            }
        }
        let np = pb.procs.len();
        let empty: Vec<Vec<Vec<Vec<u32>>>> = self
            .interners
            .iter()
            .map(|it| vec![vec![Vec::new(); np]; it.states.len()])
            .collect();
        let (mut setters, mut needers, mut consumers) = (empty.clone(), empty.clone(), empty);
        // Ops are visited in program order, so every list is sorted.
        for seq in &pb.procs {
            for &i in seq {
                let (c, i) = (&pb.ops[i as usize], i as usize);
                let (k, p, at) = (c.key as usize, c.process as usize, self.slot[i]);
                if self.eff[i] < UNCHANGED {
                    setters[k][self.eff[i] as usize][p].push(at);
                }
                if self.req_tok[i] != NONE && !c.optional {
                    needers[k][self.req_tok[i] as usize][p].push(at);
                    if self.eff[i] < UNCHANGED && self.eff[i] != self.req_tok[i] {
                        consumers[k][self.req_tok[i] as usize][p].push(at);
                    }
                }
            }
        }
        self.deadline = deadline;
        self.setters = setters;
        self.needers = needers;
        self.consumers = consumers;
    }

    /// Real-time pass only: is required op `oi` late — it needs a state
    /// its key is not in, and no unplaced op can set it in time? (See
    /// [`Engine::keep_real_time`].)
    #[inline]
    fn late(&self, oi: u32) -> bool {
        let c = &self.pb.ops[oi as usize];
        !self.deadline.is_empty()
            && self.cur[c.key as usize] != self.req_tok[oi as usize]
            && self.starves(oi)
    }

    /// Real-time pass only: with its key out of the state required op
    /// `oi` needs, could no unplaced op set that state before `oi`'s
    /// deadline (an op of another process invoked before it, or an
    /// earlier op of `oi`'s own)? In each process the first unplaced op
    /// that sets the state is its earliest invoked, so it alone is looked
    /// at. `false` when unsure (ops of unknown effect on the key).
    fn starves(&self, oi: u32) -> bool {
        let i = oi as usize;
        let c = &self.pb.ops[i];
        let k = c.key as usize;
        let x = self.req_tok[i];
        let d = self.deadline[i];
        if c.optional || x == NONE || self.unknown[k] > 0 || d == usize::MAX {
            return false;
        }
        let Some(per) = self.setters[k].get(x as usize) else {
            return false;
        };
        for (q, slots) in per.iter().enumerate() {
            let j = slots.partition_point(|&s| s < self.pos[q]);
            let Some(&s) = slots.get(j) else {
                continue;
            };
            if q == c.process as usize && s > self.slot[i] {
                continue;
            }
            if self.pb.ops[self.pb.procs[q][s as usize] as usize].invoke < d {
                return false;
            }
        }
        true
    }

    /// Real-time pass only: would moving key `k` out of state `s`, by the
    /// op at position `at` of process `p`, leave an unplaced required op
    /// that needs `s` starving (see [`Engine::keep_real_time`])? Looks,
    /// in each process, at the first unplaced op that needs `s` (other
    /// than the moving op), whose deadline is that process's earliest.
    fn dooms(&self, k: usize, s: u32, p: usize, at: u32) -> bool {
        let Some(per) = self.needers.get(k).and_then(|t| t.get(s as usize)) else {
            return false;
        };
        for (q, slots) in per.iter().enumerate() {
            let mut j = slots.partition_point(|&x| x < self.pos[q]);
            if q == p && slots.get(j) == Some(&at) {
                j += 1;
            }
            if let Some(&x) = slots.get(j) {
                if self.starves(self.pb.procs[q][x as usize]) {
                    return true;
                }
            }
        }
        false
    }

    /// Real-time pass only: after process `p`'s next op is placed, could
    /// the unplaced ops that consume state `s` of key `k` (need it, and
    /// leave another) no longer each get a period of `s` of their own?
    /// `now` is whether the key is in `s` after the move.
    ///
    /// A period of `s` ends when a consumer is placed, so every consumer
    /// needs its own period: the current one, or one begun by an unplaced
    /// op that sets `s`, placed before the consumer and so invoked before
    /// its deadline (see [`Engine::keep_real_time`]). Hall's condition
    /// for matching consumers to distinct periods follows: for every
    /// deadline `d`, the consumers due by `d` are at most the current
    /// period plus the setters invoked before `d`. Checked on a subset of
    /// the consumers (each process's first), which is still necessary.
    /// `due` is scratch space, to spare an allocation per move.
    fn exhausts(&self, k: usize, s: u32, now: bool, p: usize, due: &mut Vec<usize>) -> bool {
        if self.unknown[k] > 0 {
            return false;
        }
        let Some(per) = self.consumers.get(k).and_then(|t| t.get(s as usize)) else {
            return false;
        };
        let pos = |q: usize| self.pos[q] + (q == p) as u32;
        due.clear();
        for (q, slots) in per.iter().enumerate() {
            let j = slots.partition_point(|&x| x < pos(q));
            if let Some(&x) = slots.get(j) {
                let d = self.deadline[self.pb.procs[q][x as usize] as usize];
                if d != usize::MAX {
                    due.push(d);
                }
            }
        }
        if due.len() <= now as usize {
            return false;
        }
        due.sort_unstable();
        let setters = &self.setters[k][s as usize];
        for (j, &d) in due.iter().enumerate() {
            let mut have = now as usize;
            if j < have {
                continue;
            }
            for (q, slots) in setters.iter().enumerate() {
                let from = slots.partition_point(|&x| x < pos(q));
                let rest = &slots[from..];
                have += rest.partition_point(|&x| {
                    self.pb.ops[self.pb.procs[q][x as usize] as usize].invoke < d
                });
                if have > j {
                    break;
                }
            }
            if have <= j {
                return true;
            }
        }
        false
    }

    /// Is op `i` placed (or left out)?
    #[inline]
    fn placed(&self, i: u32) -> bool {
        let p = self.pb.ops[i as usize].process as usize;
        self.slot[i as usize] < self.pos[p]
    }

    /// Does key `k` hold a required op that can never happen: the model
    /// says it is unreachable from the key's state, and no unplaced op
    /// may enable it? (The unreachable-requirements rule in `hints`.)
    fn unreachable(&self, k: usize) -> bool {
        if !self.reach[k] {
            return false;
        }
        let m = &self.pb.models[k];
        let state = &self.interners[k].states[self.cur[k] as usize];
        for &t in &self.targets[k] {
            if self.placed(t) {
                continue;
            }
            let op = &self.pb.ops[t as usize].op;
            if m.reachable(state, op) {
                continue;
            }
            let helped = self.enablers[k]
                .iter()
                .any(|&x| !self.placed(x) && m.may_enable(&self.pb.ops[x as usize].op, op));
            if !helped {
                return true;
            }
        }
        false
    }

    #[inline]
    fn take_waiter(&mut self, k: usize, x: usize) {
        self.waiters[k][x] -= 1;
        if self.waiters[k][x] == 0 && self.producers[k][x] == 0 {
            self.starved[k] -= 1;
        }
    }
    #[inline]
    fn put_waiter(&mut self, k: usize, x: usize) {
        if self.waiters[k][x] == 0 && self.producers[k][x] == 0 {
            self.starved[k] += 1;
        }
        self.waiters[k][x] += 1;
    }
    #[inline]
    fn take_effect(&mut self, k: usize, e: u32) {
        match e {
            UNCHANGED => {}
            UNKNOWN => self.unknown[k] -= 1,
            y => {
                let y = y as usize;
                self.producers[k][y] -= 1;
                if self.producers[k][y] == 0 && self.waiters[k][y] > 0 {
                    self.starved[k] += 1;
                }
            }
        }
    }
    #[inline]
    fn put_effect(&mut self, k: usize, e: u32) {
        match e {
            UNCHANGED => {}
            UNKNOWN => self.unknown[k] += 1,
            y => {
                let y = y as usize;
                if self.producers[k][y] == 0 && self.waiters[k][y] > 0 {
                    self.starved[k] -= 1;
                }
                self.producers[k][y] += 1;
            }
        }
    }

    /// Counts op `oi` of key `k` out of (or back into) `requirers` and
    /// `others`.
    #[inline]
    fn count(&mut self, oi: usize, k: usize, back: bool) {
        let r = self.req_tok[oi];
        if r != NONE {
            let c = &mut self.requirers[k][r as usize];
            *c = if back { *c + 1 } else { *c - 1 };
        } else if !(self.blind[oi] && self.eff[oi] < UNCHANGED) {
            let c = &mut self.others[k];
            *c = if back { *c + 1 } else { *c - 1 };
        }
    }

    /// May optional op `oi` of key `k`, which would set state `v`, be left
    /// unplaced here? (The useless-indeterminate-write pruning in `hints`.)
    #[inline]
    fn useless(&self, oi: usize, k: usize) -> bool {
        let v = self.eff[oi];
        if v >= UNCHANGED || self.others[k] > 0 {
            return false;
        }
        let own = (self.req_tok[oi] == v) as u32;
        self.requirers[k][v as usize] == own
    }

    /// The Zobrist key after move `m`, without making it.
    #[inline]
    fn child_hash(&self, m: Move) -> u128 {
        let p = m.p as usize;
        let i = self.pos[p] as usize;
        let mut h = self.hash ^ self.zob.at(p, i) ^ self.zob.at(p, i + 1);
        if m.next != SKIP {
            let k = self.pb.ops[self.pb.procs[p][i] as usize].key;
            let prev = self.cur[k as usize];
            if prev != m.next {
                h ^= state_word(k, prev) ^ state_word(k, m.next);
            }
        }
        h
    }

    /// Makes move `m`; returns the key state before it and the key.
    #[inline]
    fn apply(&mut self, m: Move) -> (u32, usize) {
        let p = m.p as usize;
        let i = self.pos[p] as usize;
        let oi = self.pb.procs[p][i] as usize;
        let c = &self.pb.ops[oi];
        let k = c.key as usize;
        let optional = c.optional;
        self.hash ^= self.zob.at(p, i) ^ self.zob.at(p, i + 1);
        self.pos[p] += 1;
        self.consumed += 1;
        let prev = self.cur[k];
        if m.next != SKIP {
            if prev != m.next {
                self.hash ^= state_word(k as u32, prev) ^ state_word(k as u32, m.next);
                self.cur[k] = m.next;
            }
            if !optional {
                self.required_left -= 1;
                if self.req_tok[oi] != NONE {
                    self.take_waiter(k, self.req_tok[oi] as usize);
                }
            }
        }
        self.take_effect(k, self.eff[oi]);
        self.count(oi, k, false);
        let (lo, hi) = (self.proved.offsets[oi], self.proved.offsets[oi + 1]);
        for j in lo..hi {
            self.waiting[self.proved.after[j as usize] as usize] -= 1;
        }
        (prev, k)
    }

    /// Undoes move `m`, made when the key's state was `prev`.
    #[inline]
    fn undo(&mut self, m: Move, prev: u32) {
        let p = m.p as usize;
        self.pos[p] -= 1;
        self.consumed -= 1;
        let i = self.pos[p] as usize;
        let oi = self.pb.procs[p][i] as usize;
        let c = &self.pb.ops[oi];
        let k = c.key as usize;
        let optional = c.optional;
        self.hash ^= self.zob.at(p, i) ^ self.zob.at(p, i + 1);
        self.put_effect(k, self.eff[oi]);
        self.count(oi, k, true);
        let (lo, hi) = (self.proved.offsets[oi], self.proved.offsets[oi + 1]);
        for j in lo..hi {
            self.waiting[self.proved.after[j as usize] as usize] += 1;
        }
        if m.next != SKIP {
            if prev != m.next {
                self.hash ^= state_word(k as u32, prev) ^ state_word(k as u32, m.next);
                self.cur[k] = prev;
            }
            if !optional {
                self.required_left += 1;
                if self.req_tok[oi] != NONE {
                    self.put_waiter(k, self.req_tok[oi] as usize);
                }
            }
        }
    }

    /// Pushes the moves out of the current configuration onto the arena,
    /// best first; returns the range.
    fn generate(&mut self) -> (u32, u32) {
        let lo = self.moves.len();
        self.blocked.clear();
        let mut forced = None;
        let mut late = false;
        let mut due = std::mem::take(&mut self.due);
        for p in 0..self.pos.len() {
            let i = self.pos[p];
            if i >= self.lens[p] {
                continue;
            }
            let oi = self.pb.procs[p][i as usize];
            let c = &self.pb.ops[oi as usize];
            let id = match &self.guide {
                Some(g) => g[oi as usize],
                None => c.id as u64,
            };
            let (k, optional) = (c.key, c.optional);
            let s = self.cur[k as usize];
            // An op that the history proves comes after an unplaced one
            // cannot be placed yet (`observe`).
            let n = if self.waiting[oi as usize] > 0 {
                NONE
            } else {
                self.step(oi, s)
            };
            if n != NONE {
                if self.eff[oi as usize] == UNCHANGED {
                    // Observations go first (proof in `hints`).
                    forced = Some(Move {
                        p: p as u32,
                        next: n,
                        rank: 0,
                    });
                    break;
                }
                // A move that leaves `s`, or that sets `s` again while the
                // key holds it (spending a setter), may exhaust `s`.
                let spends = n != s || self.eff[oi as usize] == s;
                let refused = (n != s && self.dooms(k as usize, s, p, i))
                    || (self.hall && spends && self.exhausts(k as usize, s, n == s, p, &mut due));
                let class = if refused {
                    u64::MAX
                } else if !optional {
                    1
                } else if self.useless(oi as usize, k as usize) {
                    u64::MAX
                } else {
                    2
                };
                if class != u64::MAX {
                    self.moves.push(Move {
                        p: p as u32,
                        next: n,
                        rank: class << 62 | id,
                    });
                }
            } else if self.req_tok[oi as usize] != NONE {
                self.blocked.push((k, self.req_tok[oi as usize]));
                if self.late(oi) {
                    late = true;
                    break;
                }
            }
            if optional && i + 1 < self.lens[p] {
                self.moves.push(Move {
                    p: p as u32,
                    next: SKIP,
                    rank: 3 << 62 | id,
                });
            }
        }
        self.due = due;
        if late {
            self.moves.truncate(lo);
            return (lo as u32, lo as u32);
        }
        if let Some(m) = forced {
            self.moves.truncate(lo);
            self.moves.push(m);
            return (lo as u32, lo as u32 + 1);
        }
        if !self.blocked.is_empty() {
            for j in lo..self.moves.len() {
                let m = self.moves[j];
                let class = m.rank >> 62;
                if m.next == SKIP || class != 2 {
                    continue;
                }
                let p = m.p as usize;
                let k = self.pb.ops[self.pb.procs[p][self.pos[p] as usize] as usize].key;
                let wanted = self
                    .blocked
                    .iter()
                    .filter(|&&(bk, bt)| bk == k && bt == m.next)
                    .count() as u64;
                // A wanted indeterminate op joins the required ones.
                let class = if wanted > 0 { 1 } else { class };
                let field = if wanted > 0 { 0 } else { 0x3fff };
                self.moves[j].rank = class << 62 | field << 48 | (m.rank & ((1 << 48) - 1));
            }
        }
        self.moves[lo..].sort_unstable_by_key(|m| m.rank);
        (lo as u32, self.moves.len() as u32)
    }

    fn snapshot(&mut self) {
        let mut steps = Vec::with_capacity(self.consumed);
        for f in &self.frames {
            if let Some((m, _)) = f.entry {
                // The position before the move is the current one minus
                // the moves of that process made later; recover it by
                // replaying below.
                steps.push((m.p, m.next == SKIP));
            }
        }
        let mut at = vec![0u32; self.pos.len()];
        let steps = steps
            .into_iter()
            .map(|(p, skipped)| {
                let oi = self.pb.procs[p as usize][at[p as usize] as usize];
                at[p as usize] += 1;
                (oi, skipped)
            })
            .collect();
        let states = self
            .cur
            .iter()
            .enumerate()
            .map(|(k, &s)| self.interners[k].states[s as usize].clone())
            .collect();
        self.frontier = Some(Frontier {
            steps,
            pos: self.pos.clone(),
            states,
            cut_short: false,
        });
    }

    fn order(&self, last: Move) -> Vec<u32> {
        let mut at = vec![0u32; self.pos.len()];
        let mut out = Vec::with_capacity(self.consumed);
        let entries = self.frames.iter().filter_map(|f| f.entry).map(|(m, _)| m);
        for m in entries.chain(std::iter::once(last)) {
            let p = m.p as usize;
            let oi = self.pb.procs[p][at[p] as usize];
            at[p] += 1;
            if m.next != SKIP {
                out.push(oi);
            }
        }
        out
    }

    /// Is there room for the moves of one more level? The stack of moves
    /// is the search's own memory: before it doubles, the memory budget
    /// is asked ([`memory::claim`]), since its polls would see the doubled
    /// stack only after it was made.
    fn room_to_grow(&self) -> bool {
        let (len, cap) = (self.moves.len(), self.moves.capacity());
        cap - len >= self.pb.procs.len()
            || memory::claim(self.memory.as_ref(), 2 * cap.max(64) * size_of::<Move>())
    }

    /// Has the search spent its budget of configurations (looked at
    /// every 1,024, so that it ends at the same point on any machine), or
    /// has its deadline passed or a flag been set (looked at as often as
    /// the ticker says: a configuration may cost a millisecond)?
    fn stopped(&mut self, limits: &Limits<'_>) -> bool {
        if self.nodes & 1023 == 0 {
            if let Some(p) = limits.progress {
                p.reach(self.best);
            }
            if limits.max_nodes.is_some_and(|n| self.nodes >= n) {
                return true;
            }
        }
        limits.stop().by(&mut self.ticker)
    }

    /// Real-time pass only: gives up the branch being explored when it
    /// has gone `stall_budget` configurations without getting deeper:
    /// pops the frames above the lowest one the stall reached, so the
    /// choice made one level below is replaced by its next one, and
    /// forgets their configurations, which are not known to fail.
    ///
    /// A wrong order of two concurrent updates of one key often shows
    /// only some ops later, when an op that needs the state it lost
    /// starves; between the two, every interleaving of the other
    /// processes' ops is a distinct configuration, and exploring them all
    /// before undoing the wrong choice costs up to millions of
    /// configurations (16 processes). Giving up a stalled branch level by
    /// level reaches the wrong choice sooner. The pass is incomplete
    /// anyway: its failure decides nothing.
    fn escape(&mut self) {
        let target = self.stall_lo.saturating_sub(1).max(1);
        while self.frames.len() > target {
            let f = self.frames.pop().expect("frame");
            self.moves.truncate(f.lo as usize);
            if let Some((m, prev)) = f.entry {
                self.memo.remove(self.hash);
                self.undo(m, prev);
            }
        }
        if let Some(top) = self.frames.last_mut() {
            top.cut = true;
        }
        self.since_best = 0;
        self.stall_lo = self.frames.len();
    }

    fn run(&mut self, limits: &Limits<'_>) -> Found<M::State> {
        if (0..self.cur.len()).any(|k| self.dead(k) || self.unreachable(k)) {
            self.snapshot();
            return Found::Refuted(self.frontier.take().expect("snapshot"));
        }
        if self.required_left == 0 {
            return Found::Order(Vec::new());
        }
        // The root is the deepest configuration until a deeper one is kept.
        self.snapshot();
        if self.stop_at == Some(0) {
            return Found::Refuted(self.frontier.take().expect("snapshot"));
        }
        self.memo.insert(self.hash);
        let (lo, hi) = self.generate();
        self.frames.push(Frame {
            lo,
            hi,
            cur: lo,
            entry: None,
            cut: false,
        });
        loop {
            self.nodes += 1;
            if self.stopped(limits) {
                return Found::GaveUp;
            }
            if let Some(b) = self.stall_budget {
                self.since_best += 1;
                if self.since_best > b {
                    self.escape();
                }
            }
            let top = self.frames.len() - 1;
            let f = &mut self.frames[top];
            if f.cur == f.hi {
                let f = self.frames.pop().expect("frame");
                self.stall_lo = self.stall_lo.min(self.frames.len());
                self.moves.truncate(f.lo as usize);
                match f.entry {
                    None => return Found::Refuted(self.frontier.take().expect("snapshot")),
                    Some((m, prev)) => {
                        if f.cut {
                            // Not known to fail: forget it, and so is
                            // every configuration below it on the stack.
                            self.memo.remove(self.hash);
                            if let Some(top) = self.frames.last_mut() {
                                top.cut = true;
                            }
                        }
                        self.undo(m, prev)
                    }
                }
                continue;
            }
            let m = self.moves[f.cur as usize];
            f.cur += 1;
            let h = self.child_hash(m);
            if self.memo.contains(h) {
                continue;
            }
            let (prev, k) = self.apply(m);
            debug_assert_eq!(h, self.hash);
            self.memo.insert(h);
            if self.dead(k) || self.unreachable(k) {
                self.undo(m, prev);
                continue;
            }
            if self.required_left == 0 {
                return Found::Order(self.order(m));
            }
            if self.consumed > self.best {
                self.best = self.consumed;
                self.since_best = 0;
                self.stall_lo = self.frames.len() + 1;
            }
            if !self.room_to_grow() {
                return Found::GaveUp;
            }
            let (lo, hi) = self.generate();
            self.frames.push(Frame {
                lo,
                hi,
                cur: lo,
                entry: Some((m, prev)),
                cut: false,
            });
            if self.stop_at == Some(self.consumed) {
                self.snapshot();
                return Found::Refuted(self.frontier.take().expect("snapshot"));
            }
        }
    }
}
