//! Sequential consistency (Lamport 1979): is there one total order of the
//! history's operations that obeys the model and keeps each process's own
//! order? Real time between processes is ignored.
//!
//! ```text
//!   linearizable:     p1 |--w1--|                        the read must see w1:
//!                     p2           |--r nil--|           invalid
//!   sequentially      same history: order  r nil, w1     keeps p1's and p2's
//!   consistent:                                          orders: valid
//! ```
//!
//! # Semantics
//!
//! - `ok` ops must all be placed; `fail` ops are dropped, unless the model
//!   compiles them into an observation (which must then be placed).
//! - An indeterminate op (`info`, or never completed) may take effect
//!   anywhere after its process's earlier ops, or never. Jepsen retires a
//!   process after a crash, so it is normally the process's last op; if a
//!   process does go on after one, the op keeps its place in the process's
//!   order and is still optional (placed there, or left out).
//! - Ops with a `key` act on independent objects, one model state per key.
//!   Sequential consistency is not local: every key can pass alone while
//!   the whole history fails (store buffering, IRIW). So the checker first
//!   checks each key alone, in parallel — a key that fails refutes the whole
//!   history. If every key passes, the orders found for each key are merged
//!   with every process's order (a topological sort, checked step by step
//!   afterwards); when they fit, that order decides. Otherwise it searches
//!   for one order of all the ops. The report's [`Decision`] says which
//!   happened.
//!
//! # Algorithm
//!
//! Deciding sequential consistency is NP-complete (Gibbons & Korach,
//! "Testing Shared Memories", SIAM J. Comput. 1997), and stays so even
//! once each location is known to be coherent (Cantin, Lipasti & Smith,
//! "The complexity of verifying memory coherence and consistency", IEEE
//! TPDS 2005). The search (`engine`) walks configurations — how far each
//! process's sequence has been placed, plus every key's state — depth
//! first, memoized as in Lowe's linearizability checker (2017) but
//! without real time; its cost is polynomial for a fixed number of
//! processes. Keys are incremental 128-bit Zobrist words (`memo`). Models
//! may give [`Hints`] that allow proved prunings (see [`Hints`]).
//!
//! When the hints name the value each op writes and reads (the register
//! family and kv), and a value is written once, the reads say which write
//! they read from; the history then proves some orders of the writes (a
//! process that saw 1 and then 2 proves that 1 was written first) and of
//! reads before later writes. The `observe` submodule finds them in linear
//! time, before any search: a cycle among them refutes the history (or the
//! key) at once, and otherwise the search never places an op before one
//! the history proves comes first.
//!
//! A candidate order from elsewhere — a linearization found by the
//! linearizability checker is one — is checked in linear time by
//! [`check_witness`]; `labrys check` does so when both checkers run (see
//! [`run`](crate::check::run)), and stops this search with
//! [`check_stoppable`] once the linearization has decided.
//!
//! # Evidence
//!
//! An invalid history comes with the deepest prefix the search reached,
//! the ops that block every continuation from there and why, and, when
//! [`CheckOptions::shrink`] is set, a 1-minimal sub-history that is still
//! not sequentially consistent. [`Counterexample::why`] says in one
//! sentence which processes read and wrote what, and which orders of the
//! writes that forces ("process 2 read 1 and then 2, so 1 was written
//! before 2; ..."), for the register family and kv (the `explain`
//! submodule); [`Counterexample::explanation`] lists each process's ops.

mod engine;
mod explain;
mod hints;
mod memo;
mod observe;
mod problem;
mod shrink;
#[cfg(test)]
mod tests;

pub use hints::{Effect, Hints, KvHints, NoHints, RegisterHints};

use crate::check::deadline::Stop;
use crate::check::evidence::{Blocked, OpView, Path};
use crate::check::{CheckOptions, Verdict};
use crate::history::{Error, History, Process, Value};
use crate::model::{CasRegister, Keyed, Kv, KvRegister, Model, Register};
use engine::{search, Found, Frontier, Limits};
use explain::Told;
use observe::{analyse, Proof};
use problem::Problem;
use rayon::prelude::*;
use serde::Serialize;
use std::any::Any;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// How the verdict was reached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Decision {
    /// The candidate order passed in was valid.
    Witness,
    /// The search found an order. `keys_alone` says whether every key was
    /// first checked (and passed) on its own.
    Ordered {
        /// Each key was checked alone first.
        keys_alone: bool,
    },
    /// A key is not sequentially consistent on its own, which refutes the
    /// whole history.
    KeyRefuted {
        /// The key.
        key: Value,
    },
    /// Every key passes alone, and the orders found for each key merge,
    /// with every process's order, into one order of all the ops: no
    /// global search was needed.
    Merged,
    /// Every key passes alone, but no single order of all the ops exists.
    GlobalRefuted,
    /// No order exists (a single object, or keys not checked alone).
    Refuted,
    /// No client operation completed `ok`: nothing to judge (see
    /// [Nothing to judge](crate::check#nothing-to-judge)). The verdict is
    /// unknown, or valid when [`CheckOptions::allow_empty`] asks for it.
    NothingToJudge {
        /// Why.
        reason: String,
    },
    /// The search gave up.
    Unknown {
        /// Why: time ran out, the run was cancelled, or the search was
        /// stopped (see [`check_stoppable`]).
        reason: String,
    },
}

/// The verdict for one key checked alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct KeyReport {
    /// The key (`null` for ops without one).
    pub key: Option<Value>,
    /// Its verdict alone.
    pub valid: Verdict,
    /// Ops of this key that took part in the search.
    pub ops: usize,
}

/// How far one process got in the deepest prefix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Prefix {
    /// The process, as the history wrote it.
    pub process: Process,
    /// Ops of this process placed (or left out, if indeterminate).
    pub placed: usize,
    /// Ops of this process in the search.
    pub total: usize,
}

/// One step of the cycle of write orders that refutes a history: two
/// writes every valid order must keep in this order, and what proves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CycleStep {
    /// The step in words, a clause of [`Counterexample::why`].
    pub because: String,
    /// The write that must come first; `None` for the initial value.
    pub earlier: Option<OpView>,
    /// The write that must come after it; `None` for the initial value.
    pub later: Option<OpView>,
    /// The operations that prove it, in the order the clause names them.
    pub ops: Vec<OpView>,
}

/// Why a history is not sequentially consistent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Counterexample {
    /// The key refuted on its own, or `None` for the history as a whole.
    pub key: Option<Value>,
    /// The deepest prefix the search reached, and the state after it.
    /// When proved write orders refuted the history, the search that finds
    /// it is bounded (100,000 configurations), so an order may get further.
    pub frontier: Path,
    /// False when the time limit (or Ctrl-C) cut the search for the
    /// deepest prefix short: `frontier` is then a shallower one, possibly
    /// empty. The verdict does not depend on it.
    pub frontier_complete: bool,
    /// Indeterminate ops the frontier's prefix leaves out.
    pub left_out: Vec<OpView>,
    /// How far each process got in that prefix.
    pub prefixes: Vec<Prefix>,
    /// Every process's next op there, and why none can lead to an order.
    pub blocked: Vec<Blocked>,
    /// A sub-history that is still not sequentially consistent, in
    /// operation order; `None` if shrinking was off, or the time limit
    /// cut it short before it removed any op.
    pub minimal: Option<Vec<OpView>>,
    /// Whether `minimal` is 1-minimal — removing any one op makes it
    /// consistent, or leaves an op that no state allows (a read of a value
    /// nothing writes) — rather than cut short by the time limit. In JSON
    /// `minimal_verified`, as in the linearizability evidence.
    #[serde(rename = "minimal_verified")]
    pub one_minimal: bool,
    /// The contradiction in one sentence: for the register family and kv,
    /// which processes read and wrote what, and which orders of the writes
    /// that forces (see the `explain` submodule); for other models, where
    /// the best order of the ops gets stuck.
    pub why: String,
    /// The cycle `why` tells, one step per clause, for the renderers to
    /// draw; empty when `why` is not a cycle of write orders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cycle: Vec<CycleStep>,
    /// The contradiction in more words: each process's ops in the
    /// counterexample, and where every order gets stuck.
    pub explanation: String,
}

/// The sequential-consistency verdict and its evidence.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct SequentialReport {
    /// `true`, `false` or `"unknown"`.
    pub valid: Verdict,
    /// How the verdict was reached.
    pub decision: Decision,
    /// The outcome in one sentence.
    pub summary: String,
    /// A valid order (indices into `History::operations`), when found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<Vec<usize>>,
    /// Per-key verdicts when keys were checked alone.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<KeyReport>,
    /// Why the history is invalid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<Counterexample>,
    /// Configurations the searches entered.
    pub configurations: u64,
}

/// Checks `history` for sequential consistency against `model`.
///
/// The crate's own models get their [`Hints`] (see [`check_with_hints`]);
/// any other model is searched without.
///
/// `Err` only for input the model cannot compile; an inconsistent history
/// is an `Ok` report with verdict [`Verdict::Invalid`].
pub fn check<M: Model + 'static>(
    history: &History,
    model: &M,
    options: &CheckOptions,
) -> Result<SequentialReport, Error> {
    dispatch(history, model, options, None)
}

/// [`check`], but the search also gives up (verdict unknown, reason
/// "stopped") as soon as `stop` is set. `labrys check` sets it when the
/// linearizability checker has found a linearization that is already a
/// sequentially consistent order (see [`check_witness`]).
pub fn check_stoppable<M: Model + 'static>(
    history: &History,
    model: &M,
    options: &CheckOptions,
    stop: &AtomicBool,
) -> Result<SequentialReport, Error> {
    dispatch(history, model, options, Some(stop))
}

fn dispatch<M: Model + 'static>(
    history: &History,
    model: &M,
    options: &CheckOptions,
    stop: Option<&AtomicBool>,
) -> Result<SequentialReport, Error> {
    let any = model as &dyn Any;
    if let Some(m) = any.downcast_ref::<Register>() {
        return hinted(history, m, &RegisterHints, options, stop);
    }
    if let Some(m) = any.downcast_ref::<CasRegister>() {
        return hinted(history, m, &RegisterHints, options, stop);
    }
    // Keys are separated here (one model state per key), so a keyed
    // wrapper adds nothing: search with the model of one key.
    if let Some(m) = any.downcast_ref::<Keyed<Register>>() {
        return hinted(history, m.inner(), &RegisterHints, options, stop);
    }
    if let Some(m) = any.downcast_ref::<Keyed<CasRegister>>() {
        return hinted(history, m.inner(), &RegisterHints, options, stop);
    }
    if let Some(m) = any.downcast_ref::<KvRegister>() {
        return check_with_hints(history, m, &KvHints, options);
    }
    if let Some(m) = any.downcast_ref::<Kv>() {
        return hinted(history, m.inner(), &KvHints, options, stop);
    }
    hinted(history, model, &NoHints, options, stop)
}

/// The report for a valid `witness`: a candidate total order of
/// operations (indices into `History::operations`), such as a
/// linearization found by the linearizability checker. It is valid if it
/// keeps every process's order, places every `ok` op (indeterminate ops
/// may be left out; ops the model drops are ignored) and the model accepts
/// every step; then the report's decision is [`Decision::Witness`].
/// `Ok(None)` if it is not valid; `Err` only for input the model cannot
/// compile.
pub fn check_witness<M: Model>(
    history: &History,
    model: &M,
    witness: &[usize],
) -> Result<Option<SequentialReport>, Error> {
    let pb = Problem::compile(history, model)?;
    Ok(validate(&pb, history.operations.len(), witness)
        .is_ok()
        .then(|| SequentialReport {
            valid: Verdict::Valid,
            decision: Decision::Witness,
            summary: "the given order keeps every process's order and obeys the model".into(),
            order: Some(witness.to_vec()),
            keys: Vec::new(),
            counterexample: None,
            configurations: 0,
        }))
}

/// [`check`], first trying `witness` with [`check_witness`]: if it is
/// valid, the history is valid at once; otherwise the search runs as
/// usual.
pub fn check_with_witness<M: Model + 'static>(
    history: &History,
    model: &M,
    options: &CheckOptions,
    witness: &[usize],
) -> Result<SequentialReport, Error> {
    match check_witness(history, model, witness)? {
        Some(report) => Ok(report),
        None => check(history, model, options),
    }
}

/// Checks whether `order` (indices into `History::operations`) is a
/// sequentially consistent order of `history`: `Err` says why not.
pub fn validate_order<M: Model>(
    history: &History,
    model: &M,
    order: &[usize],
) -> Result<(), String> {
    let pb = Problem::compile(history, model).map_err(|e| e.to_string())?;
    validate(&pb, history.operations.len(), order)
}

/// [`check`] with [`Hints`] about the model's operations, which let the
/// search prune (see [`Hints`] for what each promise allows).
pub fn check_with_hints<M: Model, H: Hints<M>>(
    history: &History,
    model: &M,
    hints: &H,
    options: &CheckOptions,
) -> Result<SequentialReport, Error> {
    hinted(history, model, hints, options, None)
}

fn hinted<M: Model, H: Hints<M>>(
    history: &History,
    model: &M,
    hints: &H,
    options: &CheckOptions,
    stop: Option<&AtomicBool>,
) -> Result<SequentialReport, Error> {
    let pb = Problem {
        memory: options.memory.clone(),
        ..Problem::compile(history, model)?
    };
    if let Some(reason) = crate::check::nothing_to_judge(history) {
        return Ok(SequentialReport {
            valid: crate::check::empty_verdict(options),
            summary: format!("nothing to judge: {reason}"),
            decision: Decision::NothingToJudge { reason },
            order: None,
            keys: Vec::new(),
            counterexample: None,
            configurations: 0,
        });
    }
    run(history, pb, hints, options, stop)
}

fn validate<M: Model>(pb: &Problem<M>, n_operations: usize, order: &[usize]) -> Result<(), String> {
    const NO: u32 = u32::MAX;
    let mut index = vec![NO; n_operations];
    let mut slot = vec![0u32; pb.ops.len()];
    for seq in &pb.procs {
        for (j, &i) in seq.iter().enumerate() {
            index[pb.ops[i as usize].id] = i;
            slot[i as usize] = j as u32;
        }
    }
    let mut pos = vec![0u32; pb.procs.len()];
    let mut states: Vec<M::State> = pb.models.iter().map(|m| m.init()).collect();
    for &id in order {
        let Some(&i) = index.get(id) else {
            return Err(format!("operation {id} is not in the history"));
        };
        if i == NO {
            continue; // dropped by the model (a failed write, a crashed read)
        }
        let c = &pb.ops[i as usize];
        let p = c.process as usize;
        let j = slot[i as usize];
        if j < pos[p] {
            return Err(format!(
                "operation {id} comes after a later op of process {}, or twice",
                pb.process_ids[p]
            ));
        }
        for &skipped in &pb.procs[p][pos[p] as usize..j as usize] {
            let s = &pb.ops[skipped as usize];
            if !s.optional {
                return Err(format!(
                    "operation {} of process {} is missing before operation {id}",
                    s.id, pb.process_ids[p]
                ));
            }
        }
        pos[p] = j + 1;
        let k = c.key as usize;
        match pb.models[k].step(&states[k], &c.op) {
            Some(s) => states[k] = s,
            None => {
                return Err(format!(
                    "operation {id} cannot happen there: {}",
                    pb.models[k].explain(&states[k], &c.op)
                ))
            }
        }
    }
    for (p, seq) in pb.procs.iter().enumerate() {
        if let Some(&i) = seq[pos[p] as usize..]
            .iter()
            .find(|&&i| !pb.ops[i as usize].optional)
        {
            return Err(format!("operation {} is missing", pb.ops[i as usize].id));
        }
    }
    Ok(())
}

/// Decides `pb`: each key alone first (when partitioning and there are
/// several), then their orders merged, and otherwise one search of all
/// the ops.
fn run<M: Model, H: Hints<M>>(
    history: &History,
    pb: Problem<M>,
    hints: &H,
    options: &CheckOptions,
    stop: Option<&AtomicBool>,
) -> Result<SequentialReport, Error> {
    let start = Instant::now();
    let deadline = options.deadline_from(start);
    let progress = &*options.progress;
    let live = pb.live_keys();
    let alone = options.partition && live.len() > 1;
    progress
        .partitions_total
        .fetch_add(if alone { live.len() + 1 } else { 1 }, Ordering::Relaxed);
    progress
        .ops_total
        .fetch_max(pb.ops.len(), Ordering::Relaxed);
    let limits = Limits {
        deadline,
        cancel: [Some(&*options.cancel), None, stop],
        memory: options.memory.as_ref(),
        progress: Some(progress),
        ..Limits::default()
    };
    let mut each = KeysAlone::default();
    if alone {
        match each_key_alone(history, &pb, hints, &live, &limits, options, deadline) {
            Ok(found) => each = found,
            Err(refuted) => return Ok(*refuted),
        }
        if let Some(order) = merged(&pb, history.operations.len(), &each) {
            return Ok(SequentialReport {
                order: Some(order),
                keys: each.keys,
                configurations: each.configurations,
                ..SequentialReport::new(
                    Verdict::Valid,
                    Decision::Merged,
                    "every key alone passes, and the orders of the keys merge with every \
                     process's order into one order of all the ops",
                )
            });
        }
    }
    // The global search tries the ops of each key in the order the key
    // found alone first (only the order of the moves changes).
    let guide = (alone && !each.orders.is_empty())
        .then(|| guide(&pb, history.operations.len(), &each.orders));
    let limits = Limits {
        guide: guide.as_deref(),
        ..limits
    };
    let (found, nodes, proof) = decide(&pb, hints, &limits);
    progress.partitions_done.fetch_add(1, Ordering::Relaxed);
    let report = match found {
        Found::Order(order) => SequentialReport {
            order: Some(order.iter().map(|&i| pb.ops[i as usize].id).collect()),
            ..SequentialReport::ordered(alone)
        },
        Found::Refuted(frontier) => SequentialReport {
            counterexample: Some(counterexample(
                history,
                &pb,
                hints,
                frontier,
                proof.as_ref(),
                None,
                options,
                deadline,
            )),
            ..SequentialReport::refuted(alone)
        },
        Found::GaveUp => SequentialReport::undecided(gave_up(options, stop, start)),
    };
    Ok(SequentialReport {
        keys: each.keys,
        configurations: each.configurations + nodes,
        ..report
    })
}

impl SequentialReport {
    /// A report of `valid` reached by `decision`, with no order, key
    /// verdicts or counterexample (yet).
    fn new(valid: Verdict, decision: Decision, summary: impl Into<String>) -> Self {
        SequentialReport {
            valid,
            decision,
            summary: summary.into(),
            order: None,
            keys: Vec::new(),
            counterexample: None,
            configurations: 0,
        }
    }

    /// The search gave up, for `reason`.
    fn undecided(reason: String) -> Self {
        let summary = format!("undecided: {reason}");
        SequentialReport::new(Verdict::Unknown, Decision::Unknown { reason }, summary)
    }

    /// The search found an order (after every key passed `alone`, or not).
    fn ordered(alone: bool) -> Self {
        let summary = if alone {
            "every key alone passes; the global search found an order of all the ops"
        } else {
            "the search found an order that keeps every process's order"
        };
        SequentialReport::new(
            Verdict::Valid,
            Decision::Ordered { keys_alone: alone },
            summary,
        )
    }

    /// The search found no order (after every key passed `alone`, or not).
    fn refuted(alone: bool) -> Self {
        if alone {
            SequentialReport::new(
                Verdict::Invalid,
                Decision::GlobalRefuted,
                "every key alone passes, but the global search found no order of all the ops",
            )
        } else {
            SequentialReport::new(
                Verdict::Invalid,
                Decision::Refuted,
                "no order of the ops keeps every process's order and obeys the model",
            )
        }
    }
}

/// When every key passed alone, one order of all the ops of `pb` (of the
/// history's `n` operations) that keeps the order each key found and
/// every process's order ([`merge`]), checked valid; `None` otherwise.
fn merged<M: Model>(pb: &Problem<M>, n: usize, each: &KeysAlone) -> Option<Vec<usize>> {
    if !each.keys.iter().all(|k| k.valid == Verdict::Valid) {
        return None;
    }
    merge(pb, n, &each.orders).filter(|order| validate(pb, n, order).is_ok())
}

/// Why a search that began at `start` gave up: the user's cancel, the
/// memory budget, the caller's `stop`, or else the deadline.
fn gave_up(options: &CheckOptions, stop: Option<&AtomicBool>, start: Instant) -> String {
    if options.cancelled() {
        "cancelled".to_string()
    } else if let Some(m) = options.memory.as_ref().filter(|m| m.exceeded()) {
        m.reason()
    } else if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
        "stopped".to_string()
    } else {
        format!(
            "time ran out after {:.1} s of this check",
            start.elapsed().as_secs_f64()
        )
    }
}

/// What checking each key alone found, when no key was refuted.
#[derive(Default)]
struct KeysAlone {
    configurations: u64,
    keys: Vec<KeyReport>,
    /// The order each key found alone, as indices into the history's
    /// operations.
    orders: Vec<Vec<usize>>,
}

/// Checks each key of `pb` alone (`keys_alone`); `Err` is the report of
/// the history when a key is refuted, with the first refuted key's
/// counterexample.
fn each_key_alone<M: Model, H: Hints<M>>(
    history: &History,
    pb: &Problem<M>,
    hints: &H,
    live: &[u32],
    limits: &Limits<'_>,
    options: &CheckOptions,
    deadline: Option<Instant>,
) -> Result<KeysAlone, Box<SequentialReport>> {
    let mut configurations = 0;
    let mut keys = Vec::new();
    let mut key_orders: Vec<Vec<usize>> = Vec::new();
    let results = keys_alone(pb, hints, live, limits, options.report_all);
    // Counted here: a key stopped before it was looked at has no
    // sub-problem.
    let mut ops_of_key = vec![0; pb.keys.len()];
    for c in &pb.ops {
        ops_of_key[c.key as usize] += 1;
    }
    let mut refuted = None;
    for (k, sub, found, nodes, proof) in results {
        configurations += nodes;
        if let Found::Order(o) = &found {
            key_orders.push(o.iter().map(|&i| sub.ops[i as usize].id).collect());
        }
        let valid = match &found {
            Found::Order(_) => Verdict::Valid,
            Found::Refuted(_) => Verdict::Invalid,
            Found::GaveUp => Verdict::Unknown,
        };
        keys.push(KeyReport {
            key: pb.keys[k as usize].clone(),
            valid,
            ops: ops_of_key[k as usize],
        });
        if let (None, Found::Refuted(f)) = (&refuted, found) {
            refuted = Some((k, sub, f, proof));
        }
    }
    if let Some((k, sub, frontier, proof)) = refuted {
        let key = pb.keys[k as usize].clone().unwrap_or(Value::Nil);
        let cx = counterexample(
            history,
            &sub,
            hints,
            frontier,
            proof.as_ref(),
            Some(key.clone()),
            options,
            deadline,
        );
        return Err(Box::new(SequentialReport {
            valid: Verdict::Invalid,
            summary: format!(
                "key {key} is not sequentially consistent on its own, so neither is the history"
            ),
            decision: Decision::KeyRefuted { key },
            order: None,
            keys,
            counterexample: Some(cx),
            configurations,
        }));
    }
    Ok(KeysAlone {
        configurations,
        keys,
        orders: key_orders,
    })
}

/// One order of all the ops of `pb` that keeps each key's order in
/// `orders` (one per key, indices into the history's `n` operations) and
/// every process's order: a topological sort of both. `None` if they
/// conflict. Sequential consistency is not local, so they may; when they do
/// not, the merged order keeps every key's steps legal and every process's
/// order, and the caller still checks it with `validate`. Indeterminate
/// ops a key's order leaves out stay out.
fn merge<M: Model>(pb: &Problem<M>, n: usize, orders: &[Vec<usize>]) -> Option<Vec<usize>> {
    const NONE: u32 = u32::MAX;
    let mut at = vec![NONE; n];
    for (i, c) in pb.ops.iter().enumerate() {
        at[c.id] = i as u32;
    }
    let m = pb.ops.len();
    let mut placed = vec![false; m];
    let mut next_in_key = vec![NONE; m];
    let mut indegree = vec![0u32; m];
    let mut total = 0;
    for order in orders {
        for &id in order {
            let i = *at.get(id)?;
            if i == NONE || placed[i as usize] {
                return None;
            }
            placed[i as usize] = true;
            total += 1;
        }
        for w in order.windows(2) {
            let (a, b) = (at[w[0]], at[w[1]]);
            next_in_key[a as usize] = b;
            indegree[b as usize] += 1;
        }
    }
    let mut next_in_process = vec![NONE; m];
    for seq in &pb.procs {
        let mut prev = NONE;
        for &i in seq.iter().filter(|&&i| placed[i as usize]) {
            if prev != NONE {
                next_in_process[prev as usize] = i;
                indegree[i as usize] += 1;
            }
            prev = i;
        }
    }
    let mut ready: Vec<u32> = (0..m as u32)
        .filter(|&i| placed[i as usize] && indegree[i as usize] == 0)
        .collect();
    let mut out = Vec::with_capacity(total);
    while let Some(i) = ready.pop() {
        out.push(pb.ops[i as usize].id);
        for j in [next_in_key[i as usize], next_in_process[i as usize]] {
            if j != NONE {
                indegree[j as usize] -= 1;
                if indegree[j as usize] == 0 {
                    ready.push(j);
                }
            }
        }
    }
    (out.len() == total).then_some(out)
}

/// Ranks for the moves of the global search (see `Limits::guide`) that
/// follow each key's own order in `orders` (indices into the history's
/// `n` operations): the ops of a key get the key's history indices, in
/// increasing order, along the key's order. So ops of one key are tried in
/// the order found for the key, and ops of different keys still roughly
/// in the order they were invoked. Ops in no order keep their index.
fn guide<M: Model>(pb: &Problem<M>, n: usize, orders: &[Vec<usize>]) -> Vec<u64> {
    const NONE: u32 = u32::MAX;
    let mut at = vec![NONE; n];
    for (i, c) in pb.ops.iter().enumerate() {
        at[c.id] = i as u32;
    }
    let mut rank: Vec<u64> = pb.ops.iter().map(|c| c.id as u64).collect();
    for order in orders {
        let mut ids: Vec<usize> = order.clone();
        ids.sort_unstable();
        for (&id, &r) in order.iter().zip(&ids) {
            if let Some(&i) = at.get(id).filter(|&&i| i != NONE) {
                rank[i as usize] = r as u64;
            }
        }
    }
    rank
}

/// Makes the first guess `keep` of a counterexample self-contained: for
/// every kept op that needs a state ([`Hints::requires`]) other than its
/// key's initial one, which no kept op sets, adds an op that sets it (the
/// latest one before it in the history, else the first), until every
/// such need is met. Without them the guess holds ops that cannot happen
/// at all, which shrinking refuses (see `shrink::thin_air`): with values
/// written more than once, the orders that refuted a history do not say
/// which write a compare-and-set read from. Adding ops only widens the
/// guess; shrinking removes what is not needed.
fn close_sources<M: Model, H: Hints<M>>(pb: &Problem<M>, hints: &H, keep: &mut [bool]) {
    let t = observe::tokens(pb, hints);
    let mut setters: std::collections::HashMap<(u32, u32), Vec<u32>> =
        std::collections::HashMap::new();
    let mut met: std::collections::HashSet<(u32, u32)> = std::collections::HashSet::new();
    for (i, c) in pb.ops.iter().enumerate() {
        if t.eff[i] < observe::UNCHANGED {
            setters.entry((c.key, t.eff[i])).or_default().push(i as u32);
            if keep[i] {
                met.insert((c.key, t.eff[i]));
            }
        }
    }
    for list in setters.values_mut() {
        list.sort_unstable_by_key(|&s| pb.ops[s as usize].id);
    }
    let mut work: Vec<u32> = (0..pb.ops.len() as u32)
        .filter(|&i| keep[i as usize])
        .collect();
    while let Some(i) = work.pop() {
        let c = &pb.ops[i as usize];
        let need = t.req[i as usize];
        if need == observe::NO || need == t.init[c.key as usize] || met.contains(&(c.key, need)) {
            continue;
        }
        let Some(list) = setters.get(&(c.key, need)) else {
            continue;
        };
        let j = list.partition_point(|&s| pb.ops[s as usize].id < c.id);
        let s = if j > 0 { list[j - 1] } else { list[0] };
        keep[s as usize] = true;
        met.insert((c.key, need));
        work.push(s);
    }
}

/// The first budget of configurations per key in report mode (see
/// [`keys_alone`]).
const FIRST_KEY_BUDGET: u64 = 1 << 16;

/// Checks each key of `live` alone, in parallel, and returns the runs in
/// the order of `live`.
///
/// In gate mode, a key that fails stops the searches of the keys after it
/// (in the order of `live`) at once; those before it go on, so that the
/// key reported is the first in that order that fails, whatever the
/// timing, and the keys after it are reported undecided even when their
/// search ended first. In report mode, the searches run in rounds: every undecided key gets a
/// budget of configurations ([`FIRST_KEY_BUDGET`], then four times more
/// each round), until every key is decided or a round has refuted one.
/// The keys still undecided then stay unknown: no search after a
/// refutation can change the verdict, and which keys were decided does
/// not depend on the machine, as it would if the first refutation stopped
/// the others. A round redoes at most a third of a search's work.
fn keys_alone<M: Model, H: Hints<M>>(
    pb: &Problem<M>,
    hints: &H,
    live: &[u32],
    limits: &Limits<'_>,
    report_all: bool,
) -> Vec<KeyRun<M>> {
    // Set for the keys after one that failed (gate mode).
    let stops: Vec<AtomicBool> = live.iter().map(|_| AtomicBool::new(false)).collect();
    let first_refuted = AtomicUsize::new(usize::MAX);
    let mut runs: Vec<Option<KeyRun<M>>> = live.iter().map(|_| None).collect();
    let mut pending: Vec<usize> = (0..live.len()).collect();
    let mut budget = report_all.then_some(FIRST_KEY_BUDGET);
    // What a key left undecided by a cancel or the deadline keeps: no
    // ops, so that stopping costs no pass over the history per key.
    let nothing = Arc::new(pb.restrict(|_, _| false));
    loop {
        let round: Vec<(usize, KeyRun<M>)> = pending
            .par_iter()
            .map(|&j| {
                let k = live[j];
                if limits.stop().now() {
                    return (j, (k, nothing.clone(), Found::GaveUp, 0, None));
                }
                let sub = Arc::new(pb.restrict(|_, c| c.key == k));
                let limits = Limits {
                    cancel: [limits.cancel[0], Some(&stops[j]), limits.cancel[2]],
                    max_nodes: budget,
                    memo_entries: 1 << 20,
                    // A key's order that keeps real time between updates
                    // also guides the global search better.
                    rules: engine::Rules {
                        realtime_always: true,
                        ..limits.rules
                    },
                    ..*limits
                };
                let (found, nodes, proof) = decide(&sub, hints, &limits);
                if matches!(found, Found::Refuted(_)) && !report_all {
                    first_refuted.fetch_min(j, Ordering::Relaxed);
                    stops[j + 1..]
                        .iter()
                        .for_each(|s| s.store(true, Ordering::Relaxed));
                }
                if let Some(p) = limits.progress.filter(|_| !matches!(found, Found::GaveUp)) {
                    p.partitions_done.fetch_add(1, Ordering::Relaxed);
                }
                (j, (k, sub, found, nodes, proof))
            })
            .collect();
        pending.clear();
        let first = first_refuted.load(Ordering::Relaxed);
        for (j, (k, sub, mut found, mut nodes, mut proof)) in round {
            if j > first {
                // Stopped, or not, by a key before it: undecided either way.
                (found, nodes, proof) = (Found::GaveUp, 0, None);
            }
            if matches!(found, Found::GaveUp) {
                pending.push(j);
            }
            let (before, sub) = match runs[j].take() {
                // Stopped before this round looked at it: it keeps its
                // sub-problem from the last.
                Some(r) if Arc::ptr_eq(&sub, &nothing) => (r.3, r.1),
                Some(r) => (r.3, sub),
                None => (0, sub),
            };
            runs[j] = Some((k, sub, found, before + nodes, proof));
        }
        let any_refuted = runs
            .iter()
            .flatten()
            .any(|r| matches!(r.2, Found::Refuted(_)));
        match budget {
            Some(b) if !pending.is_empty() && !any_refuted && !limits.stop().now() => {
                budget = Some(b.saturating_mul(4));
            }
            _ => break,
        }
    }
    runs.into_iter().flatten().collect()
}

/// One key checked alone: the key, its sub-problem, what the search found,
/// how many configurations it entered, and the proof when the write
/// orders refuted it.
type KeyRun<M> = (
    u32,
    Arc<Problem<M>>,
    Found<<M as Model>::State>,
    u64,
    Option<Proof>,
);

/// Decides `pb`. First the write orders the values read prove (the
/// `observe` submodule, linear time): a cycle among them refutes `pb` at
/// once, and a search bounded to 100,000 configurations then only finds
/// the evidence (the deepest prefix it reaches). Otherwise the search
/// decides. Returns what was found, the configurations entered, and the
/// cycle when one refuted `pb`.
fn decide<M: Model, H: Hints<M>>(
    pb: &Problem<M>,
    hints: &H,
    limits: &Limits<'_>,
) -> (Found<M::State>, u64, Option<Proof>) {
    // Compiling the ops may already have passed the memory budget.
    if crate::memory::exceeded(limits.memory) {
        return (Found::GaveUp, 0, None);
    }
    let (observed, _) = analyse(pb, hints, &limits.stop());
    let proved = observed.constraints(pb);
    if let Some(proof) = observed.proof() {
        let bounded = Limits {
            max_nodes: Some(100_000),
            ..*limits
        };
        if let (Some(f), nodes) = engine::frontier(pb, hints, &bounded, &proved) {
            return (Found::Refuted(f), nodes, Some(proof));
        }
        debug_assert!(false, "a cycle of proved orders, yet an order");
    }
    if limits.stop().now() {
        return (Found::GaveUp, 0, None);
    }
    let (found, stats) = engine::search_with(pb, hints, limits, &proved);
    (found, stats.nodes, None)
}

fn view<M: Model>(history: &History, pb: &Problem<M>, i: u32) -> OpView {
    let c = &pb.ops[i as usize];
    OpView::new(history, c.id, pb.models[c.key as usize].describe_op(&c.op))
}

/// Operation `id` of `history` in `pb`'s model's words, or in the
/// history's own when `pb` left it out.
fn view_of<M: Model>(history: &History, pb: &Problem<M>, id: usize) -> OpView {
    match pb.ops.binary_search_by_key(&id, |c| c.id) {
        Ok(i) => view(history, pb, i as u32),
        Err(_) => OpView::plain(history, id),
    }
}

fn describe_states<M: Model>(pb: &Problem<M>, states: &[M::State]) -> String {
    let live = pb.live_keys();
    if live.len() == 1 && pb.keys[live[0] as usize].is_none() {
        let k = live[0] as usize;
        return pb.models[k].describe_state(&states[k]);
    }
    live.iter()
        .map(|&k| {
            let k = k as usize;
            let name = pb.keys[k]
                .as_ref()
                .map_or("nil".to_string(), |v| v.to_string());
            format!("key {name}: {}", pb.models[k].describe_state(&states[k]))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Where the search got stuck: the deepest prefix and every process's
/// next op there.
struct Stuck {
    frontier: Path,
    left_out: Vec<OpView>,
    prefixes: Vec<Prefix>,
    blocked: Vec<Blocked>,
}

fn stuck<M: Model>(history: &History, pb: &Problem<M>, f: &Frontier<M::State>) -> Stuck {
    let placed: Vec<OpView> = f
        .steps
        .iter()
        .filter(|s| !s.1)
        .map(|&(i, _)| view(history, pb, i))
        .collect();
    let left_out = f
        .steps
        .iter()
        .filter(|s| s.1)
        .map(|&(i, _)| view(history, pb, i))
        .collect();
    let prefixes = pb
        .procs
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.is_empty())
        .map(|(p, s)| Prefix {
            process: pb.process_ids[p].clone(),
            placed: f.pos[p] as usize,
            total: s.len(),
        })
        .collect();
    let mut blocked = Vec::new();
    for (p, seq) in pb.procs.iter().enumerate() {
        let Some(&i) = seq.get(f.pos[p] as usize) else {
            continue;
        };
        let c = &pb.ops[i as usize];
        let k = c.key as usize;
        let m = &pb.models[k];
        let state = &f.states[k];
        let mut reason = match m.step(state, &c.op) {
            None => m.explain(state, &c.op),
            Some(_) => "it can happen here, but no order of the remaining ops can follow it".into(),
        };
        if c.optional {
            reason.push_str(" (it is indeterminate, and leaving it out does not help either)");
        }
        blocked.push(Blocked {
            op: view(history, pb, i),
            state: m.describe_state(state),
            reason,
        });
    }
    Stuck {
        frontier: Path {
            ops: placed,
            state: describe_states(pb, &f.states),
        },
        left_out,
        prefixes,
        blocked,
    }
}

/// Work allowed to shrink a counterexample: configurations entered by
/// the trials' searches, plus each trial's ops (see `shrink`). A count,
/// never a time, so that the counterexample is the same on any machine;
/// it is about ten seconds of searching.
const SHRINK_WORK: u64 = 20_000_000;

#[allow(clippy::too_many_arguments)]
fn counterexample<M: Model, H: Hints<M>>(
    history: &History,
    pb: &Problem<M>,
    hints: &H,
    frontier: Frontier<M::State>,
    proof: Option<&Proof>,
    key: Option<Value>,
    options: &CheckOptions,
    deadline: Option<Instant>,
) -> Counterexample {
    // The sentences' analyses stop with the check.
    let stop = Stop {
        at: deadline,
        flags: [Some(&*options.cancel), None, None],
        memory: options.memory.as_ref(),
    };
    let st = stuck(history, pb, &frontier);
    let mut explanation = explain_stuck(pb, &st, history);
    let mut why = None;
    let mut minimal = None;
    let mut one_minimal = false;
    if let Some(small) = options
        .shrink
        .then(|| shrunk(pb, hints, &frontier, proof, options, deadline))
        .flatten()
    {
        let (small, verified, limits) = small;
        one_minimal = verified;
        let mut ids: Vec<u32> = (0..small.ops.len() as u32).collect();
        ids.sort_by_key(|&i| small.ops[i as usize].id);
        minimal = Some(ids.iter().map(|&i| view(history, &small, i)).collect());
        if let (Found::Refuted(f), _) = search(&small, hints, &limits) {
            explanation = explain_minimal(history, &small, &f);
            why = own_sentence(pb, hints, proof, &stop)
                .or_else(|| explain::sentence(&small, hints, &stop))
                .or_else(|| Some(generic_why(&small, &stuck(history, &small, &f))));
        }
    } else if let Some(proof) = proof.filter(|p| !p.cycle.is_empty()) {
        let tokens = observe::tokens(pb, hints);
        why = explain::co_sentence(pb, hints, &tokens, &proof.cycle);
    } else {
        why = proof
            .and_then(|p| fact4_sentence(pb, hints, p, &stop))
            .or_else(|| explain::sentence(pb, hints, &stop));
    }
    let why = why.unwrap_or_else(|| generic_why(pb, &st));
    let op = |id: usize| view_of(history, pb, id);
    let cycle = why
        .links
        .into_iter()
        .map(|l| CycleStep {
            earlier: l.earlier.map(op),
            later: l.later.map(op),
            ops: l.ops.into_iter().map(op).collect(),
            because: l.because,
        })
        .collect();
    Counterexample {
        key,
        frontier: st.frontier,
        frontier_complete: !frontier.cut_short,
        left_out: st.left_out,
        prefixes: st.prefixes,
        blocked: st.blocked,
        minimal,
        one_minimal,
        why: why.sentence,
        cycle,
        explanation,
    }
}

/// A smaller refuted sub-problem of `pb`, whether it is 1-minimal, and
/// the limits of the searches that refuted it. Shrinking gets a budget
/// of work ([`SHRINK_WORK`]) within what is left of the time limit; `None`
/// when it was cut short
/// before it removed anything (the whole history is no counterexample
/// worth showing).
fn shrunk<'o, M: Model, H: Hints<M>>(
    pb: &Problem<M>,
    hints: &H,
    frontier: &Frontier<M::State>,
    proof: Option<&Proof>,
    options: &'o CheckOptions,
    deadline: Option<Instant>,
) -> Option<(Problem<M>, bool, Limits<'o>)> {
    let limits = Limits {
        deadline,
        cancel: [Some(&*options.cancel), None, None],
        memory: options.memory.as_ref(),
        max_nodes: Some(200_000),
        memo_entries: 1 << 20,
        // The histories shrinking tries are mostly refuted: a first
        // pass that only looks for an order would be wasted.
        rules: engine::Rules {
            realtime: false,
            ..engine::Rules::default()
        },
        ..Limits::default()
    };
    // First guess: the ops of the proof, if write orders refuted the
    // history; else every process cut just after its op that blocked.
    let mut first = vec![false; pb.ops.len()];
    if let Some(proof) = proof {
        for &i in &proof.ops {
            first[i as usize] = true;
        }
    } else {
        for (p, seq) in pb.procs.iter().enumerate() {
            for &i in seq.iter().take(frontier.pos[p] as usize + 1) {
                first[i as usize] = true;
            }
        }
    }
    close_sources(pb, hints, &mut first);
    let shrunk = shrink::shrink(pb, hints, &limits, SHRINK_WORK, Some(first));
    let small = shrunk.problem;
    (shrunk.minimal || small.ops.len() < pb.ops.len()).then_some((small, shrunk.minimal, limits))
}

/// The sentence of the history's own proof, when write orders refuted it:
/// its cycle of facts 1 and 2, or a cycle that needs fact 4 when
/// [`fact4_sentence`] can tell it. With shrinking on, it is told rather
/// than the sentence of the minimal counterexample: shrinking keeps a
/// sub-history that is refuted, not one refuted for the same reason, and
/// a write it removes can make a read's value come from another write,
/// so the small history's write orders may be ones the whole history
/// does not prove.
fn own_sentence<M: Model, H: Hints<M>>(
    pb: &Problem<M>,
    hints: &H,
    proof: Option<&Proof>,
    stop: &Stop<'_>,
) -> Option<Told> {
    let proof = proof?;
    if proof.cycle.is_empty() {
        return fact4_sentence(pb, hints, proof, stop);
    }
    let tokens = observe::tokens(pb, hints);
    explain::co_sentence(pb, hints, &tokens, &proof.cycle)
}

/// The sentence for a cycle of proved orders that needs fact 4 (see
/// `observe`), without shrinking: the sentence of the sub-history of the
/// ops the proof rests on. It is told only when every op there reads from
/// the same write as in the whole history: then every order the
/// sub-history proves, the whole history proves too (the facts rest on
/// program order, which the sub-history keeps, and on sources written
/// once, which are the same), so the sentence is true of the history.
fn fact4_sentence<M: Model, H: Hints<M>>(
    pb: &Problem<M>,
    hints: &H,
    proof: &Proof,
    stop: &Stop<'_>,
) -> Option<Told> {
    let mut kept = Vec::new();
    let sub = pb.restrict(|i, _| {
        let keep = proof.ops.binary_search(&(i as u32)).is_ok();
        if keep {
            kept.push(i as u32);
        }
        keep
    });
    let (whole, _) = analyse(pb, hints, stop);
    let (part, _) = analyse(&sub, hints, stop);
    let same = (0..sub.ops.len()).all(|j| {
        let s = part.src[j];
        let t = whole.src[kept[j] as usize];
        match s {
            observe::NO | observe::INIT => s == t,
            s => kept[s as usize] == t,
        }
    });
    if !same {
        return None;
    }
    explain::sentence(&sub, hints, stop)
}

/// The sentence for models whose values have no names, or contradictions
/// too long for one: where the deepest order gets stuck.
fn generic_why<M: Model>(pb: &Problem<M>, st: &Stuck) -> Told {
    Told {
        sentence: generic_sentence(pb, st),
        links: Vec::new(),
    }
}

fn generic_sentence<M: Model>(pb: &Problem<M>, st: &Stuck) -> String {
    let reasons: Vec<String> = st
        .blocked
        .iter()
        .map(|b| format!("process {}'s {} ({})", b.op.process, b.op.op, b.reason))
        .collect();
    let placed = match st.frontier.ops.len() {
        0 => "before any op is placed".to_string(),
        1 => format!("after {}", st.frontier.ops[0].op),
        n => format!("after {n} ops"),
    };
    let ops = match pb.ops.len() {
        1 => "this op".to_string(),
        n => format!("these {n} ops"),
    };
    format!(
        "no order of {ops} keeps every process's order and obeys the model: {placed}, no process can go on: {}",
        if reasons.is_empty() {
            "nothing is left to try".to_string()
        } else {
            reasons.join("; ")
        }
    )
}

fn explain_stuck<M: Model>(pb: &Problem<M>, st: &Stuck, _history: &History) -> String {
    let n = pb.ops.len();
    let mut s = format!(
        "No order of the {n} ops keeps every process's order and obeys the model. The deepest order the search reached places {} ops ({}); from there ",
        st.frontier.ops.len(),
        st.frontier.state
    );
    let reasons: Vec<String> = st
        .blocked
        .iter()
        .map(|b| format!("process {}'s {} fails: {}", b.op.process, b.op.op, b.reason))
        .collect();
    if reasons.is_empty() {
        s.push_str("no op is left to try.");
    } else {
        s.push_str(&reasons.join("; "));
        s.push('.');
    }
    s
}

/// Plain words for a small refuted sub-history: each process's ops, then
/// where the best order gets stuck.
fn explain_minimal<M: Model>(history: &History, pb: &Problem<M>, f: &Frontier<M::State>) -> String {
    let mut s = format!("These {} ops alone cannot be ordered: ", pb.ops.len());
    let mut parts = Vec::new();
    for (p, seq) in pb.procs.iter().enumerate() {
        if seq.is_empty() {
            continue;
        }
        let ops: Vec<String> = seq
            .iter()
            .map(|&i| {
                let c = &pb.ops[i as usize];
                let mut d = pb.models[c.key as usize].describe_op(&c.op);
                if let Some(k) = &pb.keys[c.key as usize] {
                    d = format!("{d} on key {k}");
                }
                if c.optional {
                    d.push_str(" (indeterminate)");
                }
                d
            })
            .collect();
        parts.push(format!(
            "process {} does {}",
            pb.process_ids[p],
            ops.join(", then ")
        ));
    }
    s.push_str(&parts.join("; "));
    s.push_str(". ");
    let st = stuck(history, pb, f);
    let placed: Vec<String> = st.frontier.ops.iter().map(|o| o.op.clone()).collect();
    if placed.is_empty() {
        s.push_str("No op can even go first");
    } else {
        s.push_str(&format!(
            "Keeping each process's order, the furthest any order gets is {} ({})",
            placed.join(", "),
            st.frontier.state
        ));
    }
    let reasons: Vec<String> = st
        .blocked
        .iter()
        .map(|b| format!("process {}'s {} fails: {}", b.op.process, b.op.op, b.reason))
        .collect();
    if !reasons.is_empty() {
        s.push_str("; then ");
        s.push_str(&reasons.join("; "));
    }
    s.push('.');
    let _ = history;
    s
}
