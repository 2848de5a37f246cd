//! The linearizability checker.
//!
//! A history is linearizable (Herlihy & Wing 1990) if every operation can
//! be given a point in time between its invocation and its response such
//! that, taken in that order, the operations obey the model. Here, every
//! operation that completed `ok` must take effect; one that completed `info`
//! or never completed may take effect at any time after its invocation, or
//! never; a `fail`ed one did not happen (the model may still keep it as an
//! observation, see [`ModelOptions`](crate::model::ModelOptions)).
//!
//! The search is Wing & Gong's (1993) with Lowe's (2017) memo of explored
//! configurations, an incremental 128-bit fingerprint of the linearized set
//! after Horn & Kroening (2015), and pruning rules for indeterminate
//! operations, each with its proof (in the `search` submodule). Keyed histories are split
//! by key and the keys checked in parallel: linearizability is local, so a
//! history is linearizable iff every key's sub-history is (Herlihy & Wing;
//! Horn & Kroening's P-compositionality).
//!
//! For a history that is not linearizable the report shows, per failing
//! key, the operation whose response no order could pass, what was
//! concurrent with it, the paths the search got through and why the
//! operation could not follow any of them (Knossos's "final paths"), and a
//! 1-minimal sub-history that is not linearizable on its own (the `shrink`
//! submodule).

mod memo;
mod search;
mod shrink;

use crate::check::evidence::{Blocked, OpView, Path};
use crate::check::{CheckOptions, Verdict};
use crate::history::{self, History, Outcome, Position, Value};
use crate::model::{Call, Model, ModelKind, ModelOptions};
use rayon::prelude::*;
use search::{longest_latency, Engine, Found, Item, Limits};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// At most this many final paths (distinct states) are reported.
const MAX_FINAL_PATHS: usize = 16;
// The evidence is built within budgets of work (configurations entered,
// and for shrinking the items of every engine built), never of time: the
// same history and options give the same evidence on any machine, under
// any load and with any number of threads. Only the user's `--timeout`
// (and the cancel flag) may cut it shorter, and the report then says so.
// On the keys of the MIT 6.824 traces, whose states are long strings, a
// search enters about 200,000 configurations a second.

/// Configurations allowed per failing partition to find its first
/// failure, when a rule refuted it early: the binary search's probes
/// together. Within it, the first failure of every failing etcd history
/// is found (none needs more than 500), and of every failing key of the
/// MIT 6.824 traces but three keys of the 50-client one (whose probes
/// would need about 50,000 to 80,000, or for one key more than a
/// million); past it, the minimal counterexample (found in milliseconds)
/// makes the evidence instead.
const FIRST_CONFIGURATIONS: u64 = 10_000;
/// Configurations per op allowed to the horizon pass (see the search
/// module) before the full search runs: the generated 1,000,000-op
/// cas-register history of 32 clients with 1% crashed ops needs about 15.
const HORIZON_CONFIGURATIONS_PER_OP: u64 = 20;
/// Configurations allowed per failing partition to each small search of
/// the evidence: enumerating final paths, scoping to one object, showing
/// a kill.
const FINALS_CONFIGURATIONS: u64 = 1_000_000;
/// Work allowed per failing partition to shrink its counterexample (see
/// `shrink`).
const SHRINK_WORK: u64 = 400_000;
/// Failing partitions that get the full budgets each: past this many,
/// every one gets its share of this many partitions' budgets, so that the
/// evidence of many failing keys together stays bounded. The share
/// depends only on how many partitions fail, never on which finishes
/// first.
const FULL_BUDGETS: u64 = 16;
/// Configurations each undecided partition may enter in the first round
/// of the decision; every later round allows four times more.
const FIRST_ROUND_CONFIGURATIONS: u64 = 10_000;

/// The work budgets of the evidence stages, per failing partition.
#[derive(Clone, Copy)]
struct Budgets {
    /// Configurations to find the first failure (zero: not looked for).
    first: u64,
    /// Configurations to enumerate the final paths (and other small
    /// searches).
    finals: u64,
    /// Work to shrink the counterexample.
    shrink: u64,
}

impl Budgets {
    /// The budgets of each of `failing` partitions.
    fn shared_by(failing: usize) -> Budgets {
        let share = |n: u64| n.saturating_mul(FULL_BUDGETS) / (failing as u64).max(FULL_BUDGETS);
        Budgets {
            first: share(FIRST_CONFIGURATIONS),
            finals: share(FINALS_CONFIGURATIONS),
            shrink: share(SHRINK_WORK),
        }
    }
}

/// Paths in reports show at most this many of their last operations.
const PATH_TAIL: usize = 24;

/// The result of a linearizability check.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct LinearizableReport {
    /// Valid, invalid or unknown: invalid if any partition is, else unknown
    /// if any is undecided, else valid.
    pub valid: Verdict,
    /// The model's name.
    pub model: String,
    /// Whether the history was split by key.
    pub partitioned: bool,
    /// Client operations in the history.
    pub operations: usize,
    /// One entry per partition (per key, or one for the whole history), in
    /// key order. In gate mode, partitions not decided when a failing one
    /// was found are `unknown`, and only the first failing partition (in
    /// key order) has evidence.
    pub partitions: Vec<PartitionReport>,
    /// Why there was nothing to judge (no client operation completed
    /// `ok`), when so: then there are no partitions, and the verdict is
    /// unknown, or valid when [`CheckOptions::allow_empty`] asks for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nothing_to_judge: Option<String>,
    /// Why undecided partitions were left undecided, when it was the
    /// memory budget (`memory budget of 512 MiB exceeded`); absent when
    /// time ran out or the run was cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undecided: Option<String>,
}

/// The verdict on one partition (one key, or the whole history).
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct PartitionReport {
    /// The key, when the history was split by key.
    pub key: Option<Value>,
    /// The partition's verdict.
    pub valid: Verdict,
    /// Operations the search had to place (compiled; failed and crashed
    /// reads that constrain nothing are left out).
    pub operations: usize,
    /// The deepest search reached (operations placed on one path), when
    /// known.
    pub depth: usize,
    /// Configurations (linearized set and model state) the decisive search
    /// entered: a measure of its work, as Knossos reports it.
    pub configurations: u64,
    /// Why the partition is not linearizable (in gate mode, for the first
    /// failing partition only).
    pub evidence: Option<Evidence>,
    /// When it is linearizable: the operations (indices into
    /// `History::operations`) in the order they took effect; indeterminate
    /// ones that never took effect are absent. Not part of the JSON report.
    #[serde(skip)]
    pub linearization: Option<Vec<usize>>,
    /// When it is linearizable and [`CheckOptions::witness`] asked for it:
    /// the order drawn step by step, with the model's state after each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness: Option<Witness>,
}

/// The most steps of a linearization recorded with their states, over all
/// the partitions of a check (the keys in key order take them first).
pub const WITNESS_STEPS: usize = 20_000;

/// A valid partition's linearization, step by step: what a drawing needs
/// to show each operation's linearization point and the state it left.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Witness {
    /// The first steps of the order (all of them when `complete`).
    pub steps: Vec<Step>,
    /// Steps in the whole order (operations that took effect).
    pub total: usize,
    /// Whether `steps` holds the whole order: the steps of all partitions
    /// together are bounded by [`WITNESS_STEPS`].
    pub complete: bool,
}

/// One step of a linearization.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Step {
    /// The operation (index into `History::operations`).
    pub id: usize,
    /// Its place in the order, from 0.
    pub rank: usize,
    /// The model's state after it, in plain words.
    pub state: String,
}

/// Where no order gets past the completion of [`Evidence::op`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StuckIn {
    /// In the partition: no order of its operations gets past it (the
    /// first such completion, or one search rule 8 proved can never
    /// follow its op).
    Partition,
    /// In the minimal counterexample: the partition's own first failure
    /// was not found within its budget (its search refuted every order
    /// early, by a later operation that could no longer take effect), so
    /// `op`, the prefix and the final paths are those of the minimal
    /// counterexample.
    Minimal,
    /// Neither was found within their budgets: `op` is the latest
    /// completion the refuting search reached, and every order it tried
    /// was cut before getting past it.
    Search,
}

/// Why a partition is not linearizable.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Evidence {
    /// The first operation that cannot be linearized: no order of the
    /// operations gets past its response (see `stuck_in` for which
    /// operations).
    pub op: OpView,
    /// Where no order gets past `op`'s completion.
    pub stuck_in: StuckIn,
    /// The last operation that completed `ok` before it was invoked.
    pub previous_ok: Option<OpView>,
    /// Operations whose intervals overlap it.
    pub concurrent: Vec<OpView>,
    /// How many operations the longest linearizable prefix placed.
    pub prefix_len: usize,
    /// The last operations (at most 24) of one longest linearizable prefix,
    /// in the order they took effect.
    pub prefix: Vec<OpView>,
    /// The paths the search got through just before the failing response,
    /// one per distinct model state (at most 16), each shown by its last
    /// operations (at most 24) and the state after them.
    pub final_paths: Vec<Path>,
    /// True when `final_paths` lists every reachable state.
    pub final_paths_complete: bool,
    /// Why the operation cannot take effect after each final path.
    pub blocked: Vec<Blocked>,
    /// A minimal sub-history, not linearizable on its own, in invocation
    /// order; absent when shrinking was off.
    pub minimal: Option<Vec<OpView>>,
    /// True when `minimal` was verified 1-minimal: removing any one of its
    /// operations makes it linearizable.
    pub minimal_verified: bool,
}

/// One partition: its key, its model (after compiling) and its items.
type Compiled<M> = (Option<Value>, M, Vec<Item<<M as Model>::Op>>);

/// Checks `history` for linearizability against `model`.
///
/// Errors only when an operation's value does not have the shape the
/// model expects; the error names the operation's line.
pub fn check<M: Model>(
    history: &History,
    model: M,
    options: &CheckOptions,
) -> Result<LinearizableReport, history::Error> {
    let started = Instant::now();
    let deadline = options.deadline_from(started);
    let mut parts = partitions(history, options.partition);
    let partitioned = parts.len() > 1 || parts.first().is_some_and(|(k, _)| k.is_some());
    if let Some(shard) = options.shard {
        // The partitions are in key order: keep this shard's places.
        let mut place = 0..;
        parts.retain(|_| shard.takes(place.next().unwrap_or_default()));
    }
    let compiled = compile(history, &model, parts)?;
    if let Some(reason) = crate::check::nothing_to_judge(history) {
        return Ok(LinearizableReport {
            valid: crate::check::empty_verdict(options),
            model: model.name().to_string(),
            partitioned: false,
            operations: history.operations.len(),
            partitions: Vec::new(),
            nothing_to_judge: Some(reason),
            undecided: None,
        });
    }
    if compiled.is_empty() {
        // A shard that more shards than keys left without any.
        return Ok(LinearizableReport {
            valid: Verdict::Unknown,
            model: model.name().to_string(),
            partitioned,
            operations: history.operations.len(),
            partitions: Vec::new(),
            nothing_to_judge: Some("no key falls to this shard".into()),
            undecided: None,
        });
    }
    let progress = &options.progress;
    progress
        .partitions_total
        .store(compiled.len(), Ordering::Relaxed);
    progress.ops_total.store(
        compiled.iter().map(|c| c.2.len()).max().unwrap_or(0),
        Ordering::Relaxed,
    );
    let limits = Limits {
        deadline,
        cancel: [Some(&options.cancel), None],
        memory: options.memory.as_ref(),
        progress: Some(progress),
        ..Limits::default()
    };
    let (slots, refutations) = decide(&compiled, &limits, options.report_all);
    let slots = with_evidence(history, &compiled, slots, &refutations, options, &limits);
    let mut partitions: Vec<PartitionReport> = slots
        .into_iter()
        .map(|r| r.expect("every partition ran at least once"))
        .collect();
    if options.witness {
        let mut room = WITNESS_STEPS;
        for (p, (_, m, items)) in partitions.iter_mut().zip(&compiled) {
            p.witness = p.linearization.as_ref().map(|order| {
                let w = witness(m, items, order, room);
                room -= w.steps.len();
                w
            });
        }
    }
    let verdict = verdict_of(&partitions);
    Ok(LinearizableReport {
        valid: verdict,
        model: model.name().to_string(),
        partitioned,
        operations: history.operations.len(),
        partitions,
        nothing_to_judge: None,
        undecided: options
            .memory
            .as_ref()
            .filter(|m| verdict == Verdict::Unknown && m.exceeded())
            .map(|m| m.reason()),
    })
}

/// Compiles each partition's operations with its own clone of `model`,
/// which then sees them all (`Model::prepare`) and may leave out the
/// indeterminate ones it never needs.
fn compile<M: Model>(
    history: &History,
    model: &M,
    parts: Vec<(Option<Value>, Vec<usize>)>,
) -> Result<Vec<Compiled<M>>, history::Error> {
    let mut compiled: Vec<Compiled<M>> = Vec::new();
    for (key, ids) in parts {
        let mut m = model.clone();
        let mut items = Vec::with_capacity(ids.len());
        for id in ids {
            let o = &history.operations[id];
            let inv = history.invocation(o);
            match m.compile(&Call::of(history, o)) {
                Ok(Some(op)) => items.push(Item {
                    id,
                    process: o.process,
                    invoke: o.invoke,
                    ret: o.response(),
                    op,
                }),
                Ok(None) => {}
                Err(msg) => return Err(history::Error::at(Position::line(inv.line), msg)),
            }
        }
        m.prepare(&items.iter().map(|i| &i.op).collect::<Vec<_>>());
        items.retain(|i| i.ret != usize::MAX || !m.never_needed(&i.op));
        compiled.push((key, m, items));
    }
    Ok(compiled)
}

/// Decides the partitions in rounds (below); returns each one's report
/// and, for the failing ones, what the evidence starts from.
fn decide<M: Model>(
    compiled: &[Compiled<M>],
    limits: &Limits<'_>,
    report_all: bool,
) -> (Vec<Option<PartitionReport>>, Vec<Option<Refutation>>) {
    let progress = limits.progress.expect("the check's progress");
    // Rounds with growing budgets of work: every undecided partition may
    // enter a few configurations, then four times more, and so on until
    // the deadline. A partition that fails quickly is found quickly even
    // when others are slow to decide (which matters in gate mode), at the
    // cost of redoing at most a third of the work of slow partitions.
    // Counted in work, a round ends at the same point on any machine, and
    // gate mode stops between rounds, never within one, so which
    // partitions are decided does not depend on the load either.
    let mut pending: Vec<usize> = (0..compiled.len()).collect();
    pending.sort_by_key(|&i| compiled[i].2.len());
    let mut slots: Vec<Option<PartitionReport>> = vec![None; compiled.len()];
    let mut refutations: Vec<Option<Refutation>> = (0..compiled.len()).map(|_| None).collect();
    // Per partition: has its horizon pass ended (without an order) on its
    // own, not cut by a round's budget? Then later rounds skip it.
    let mut pass_over = vec![false; compiled.len()];
    let mut budget = FIRST_ROUND_CONFIGURATIONS;
    loop {
        let single = pending.len() == 1;
        let round: Vec<(usize, PartitionReport, Option<Refutation>, bool)> = pending
            .par_iter()
            .map(|&i| {
                let (key, m, items) = &compiled[i];
                // A partition alone in its round has nothing to wait for:
                // it runs to the deadline at once.
                let round_limits = if single {
                    *limits
                } else {
                    limits.capped(budget)
                };
                let (r, refutation, over) =
                    check_partition(key.clone(), m, items, &round_limits, !pass_over[i]);
                if r.valid != Verdict::Unknown {
                    progress.partitions_done.fetch_add(1, Ordering::Relaxed);
                }
                (i, r, refutation, over)
            })
            .collect();
        pending.clear();
        let mut refuted = false;
        for (i, r, refutation, over) in round {
            pass_over[i] |= over;
            refuted |= r.valid == Verdict::Invalid;
            if r.valid == Verdict::Unknown {
                pending.push(i);
            }
            slots[i] = Some(r);
            refutations[i] = refutation;
        }
        let gate_closed = refuted && !report_all;
        if pending.is_empty() || gate_closed || limits.expired() {
            break;
        }
        pending.sort_by_key(|&i| compiled[i].2.len());
        budget = budget.saturating_mul(4);
    }
    (slots, refutations)
}

/// The slots of `check`, with the evidence of the failing partitions.
fn with_evidence<M: Model>(
    history: &History,
    compiled: &[Compiled<M>],
    mut slots: Vec<Option<PartitionReport>>,
    refutations: &[Option<Refutation>],
    options: &CheckOptions,
    limits: &Limits<'_>,
) -> Vec<Option<PartitionReport>> {
    // Evidence for every failing partition in report mode; in gate mode,
    // for the first failing one in key order only (the others are shown
    // failing, without evidence). Each gets its own budgets of work (see
    // `Budgets::shared_by`), so none depends on the order in which the
    // threads take them; only the user's cancel flag and the run's
    // deadline limit them besides (not the rounds' budgets, which only
    // pace undecided searches).
    let mut failing: Vec<usize> = (0..compiled.len())
        .filter(|&i| refutations[i].is_some())
        .collect();
    if !options.report_all {
        failing.truncate(1);
    }
    let budgets = Budgets::shared_by(failing.len());
    let ev_limits = Limits {
        cancel: [Some(&options.cancel), None],
        max_configurations: None,
        ..*limits
    };
    let evidences: Vec<(usize, Evidence)> = failing
        .par_iter()
        .map(|&i| {
            let (_, m, items) = &compiled[i];
            let r = refutations[i].as_ref().expect("failing");
            let ev = evidence(
                history,
                m,
                items,
                (r.stuck, r.killer, &r.touched),
                options,
                &ev_limits,
                &budgets,
            );
            (i, ev)
        })
        .collect();
    for (i, ev) in evidences {
        let slot = slots[i]
            .as_mut()
            .expect("every partition ran at least once");
        slot.depth = ev.prefix_len;
        slot.evidence = Some(ev);
    }
    slots
}

/// The verdict of a history from its partitions': invalid if any is,
/// else unknown if any is undecided, else valid.
pub fn verdict_of(partitions: &[PartitionReport]) -> Verdict {
    partitions
        .iter()
        .fold(Verdict::Valid, |v, p| v.and(p.valid))
}

/// Checks `history` against the model `kind` built with `model_options`.
///
/// Keyed histories use the model's keyed form (one object per key, or the
/// kv map). Errors when an operation's value does not have the shape the
/// model expects.
pub fn check_model(
    history: &History,
    kind: ModelKind,
    model_options: &ModelOptions,
    options: &CheckOptions,
) -> Result<LinearizableReport, history::Error> {
    let keyed = history.operations.iter().any(|o| history.key(o).is_some());
    // Split by key, each partition is one object: the plain model serves,
    // without the per-key map the one-object model steps through.
    if keyed && !options.partition {
        crate::with_model!(keyed kind, model_options, |m| check(history, m, options))
    } else {
        crate::with_model!(kind, model_options, |m| check(history, m, options))
    }
}

/// Groups operation indices by key, or all in one group.
fn partitions(history: &History, split: bool) -> Vec<(Option<Value>, Vec<usize>)> {
    let all = || (0..history.operations.len()).collect::<Vec<_>>();
    if !split || !history.operations.iter().any(|o| history.key(o).is_some()) {
        return vec![(None, all())];
    }
    let mut by_key: BTreeMap<Option<Value>, Vec<usize>> = BTreeMap::new();
    for (i, o) in history.operations.iter().enumerate() {
        by_key.entry(history.key(o).cloned()).or_default().push(i);
    }
    by_key.into_iter().collect()
}

fn view<M: Model>(history: &History, model: &M, item: &Item<M::Op>) -> OpView {
    OpView::new(history, item.id, model.describe_op(&item.op))
}

/// The first `room` steps of `order` (operation ids of `items`, which are
/// in id order), each with the model's state after it.
fn witness<M: Model>(model: &M, items: &[Item<M::Op>], order: &[usize], room: usize) -> Witness {
    let mut state = model.init();
    let mut steps = Vec::with_capacity(order.len().min(room));
    for (rank, &id) in order.iter().take(room).enumerate() {
        let Ok(at) = items.binary_search_by_key(&id, |it| it.id) else {
            break;
        };
        match model.step(&state, &items[at].op) {
            Some(next) => state = next,
            None => break, // cannot happen for a linearization; draw no further
        }
        steps.push(Step {
            id,
            rank,
            state: model.describe_state(&state),
        });
    }
    Witness {
        complete: steps.len() == order.len(),
        total: order.len(),
        steps,
    }
}

/// What a refuting search leaves for the evidence.
struct Refutation {
    /// The farthest return the search reached.
    stuck: usize,
    /// The item that killed it (search rule 8), if any.
    killer: Option<usize>,
    /// The items the search looked at ([`Engine::touched`]).
    touched: Vec<usize>,
}

fn check_partition<M: Model>(
    key: Option<Value>,
    model: &M,
    items: &[Item<M::Op>],
    limits: &Limits<'_>,
    horizon_pass: bool,
) -> (PartitionReport, Option<Refutation>, bool) {
    // The horizon pass first (see the search module): where it finds an
    // order, the order is valid; otherwise it decides nothing. `over`:
    // it ended without an order on its own (refuted, or out of its own
    // budget), so running it again would only redo it.
    let mut spent = 0;
    let mut passed = None;
    let mut over = false;
    if horizon_pass && items.iter().any(|it| it.optional()) && !limits.expired() {
        let mut pass = Engine::new(model, items).with_horizon(longest_latency(items));
        let budget = HORIZON_CONFIGURATIONS_PER_OP.saturating_mul(items.len() as u64) + 100_000;
        let found = pass.search(&Limits {
            max_configurations: Some(limits.max_configurations.map_or(budget, |n| n.min(budget))),
            ..*limits
        });
        spent = pass.configurations;
        over = match &found {
            Found::Linearizable(_) => false,
            Found::NotLinearizable { .. } => true,
            Found::Unknown { .. } => spent >= budget,
        };
        passed = Some(found).filter(|f| matches!(f, Found::Linearizable(_)));
    }
    let (found, engine) = match passed {
        Some(found) => (found, None),
        // Building an engine takes a while on a million ops.
        None if limits.expired() => (
            Found::Unknown {
                stuck: None,
                depth: 0,
            },
            None,
        ),
        None => {
            let mut engine = Engine::new(model, items);
            (engine.search(limits), Some(engine))
        }
    };
    let mut report = PartitionReport {
        key,
        valid: Verdict::Unknown,
        operations: items.len(),
        depth: 0,
        configurations: spent + engine.as_ref().map_or(0, |e| e.configurations),
        evidence: None,
        linearization: None,
        witness: None,
    };
    let mut refutation = None;
    match found {
        Found::Linearizable(order) => {
            report.valid = Verdict::Valid;
            report.depth = order.len();
            report.linearization = Some(order.iter().map(|&i| items[i as usize].id).collect());
        }
        Found::Unknown { depth, .. } => report.depth = depth,
        Found::NotLinearizable { stuck } => {
            // Only the full search refutes.
            let engine = engine.expect("the full search ran");
            report.valid = Verdict::Invalid;
            refutation = Some(Refutation {
                stuck: stuck as usize,
                killer: engine.killer.map(|y| y as usize),
                touched: engine.touched(),
            });
        }
    }
    (report, refutation, over)
}

/// The first failure of `items`, known not to be linearizable: the
/// required op with the earliest response that no linearizable prefix gets
/// past, as a search without early refutations would report it. `None`
/// when `limits` ran out.
///
/// A prefix that gets past the response at time `t` places only ops
/// invoked before `t`, and all those that respond by `t`. So it exists iff
/// the sub-history of the ops invoked before `t`, those responding after
/// `t` made indeterminate, is linearizable: a complete search decides it.
/// Getting past a response means getting past every earlier one, so a
/// binary search over the responses finds the first that fails.
/// `limits.max_configurations` bounds the probes of the binary search
/// together, not each one.
fn first_failure<M: Model>(model: &M, items: &[Item<M::Op>], limits: &Limits<'_>) -> Option<usize> {
    let mut rets: Vec<usize> = (0..items.len()).filter(|&i| !items[i].optional()).collect();
    rets.sort_by_key(|&i| items[i].ret);
    let mut left = limits.max_configurations;
    let mut passes = |k: usize| -> Option<bool> {
        let t = items[rets[k]].ret;
        let sub: Vec<Item<M::Op>> = items
            .iter()
            .filter(|it| it.invoke < t)
            .map(|it| Item {
                ret: if it.ret > t { usize::MAX } else { it.ret },
                ..it.clone()
            })
            .collect();
        let mut engine = Engine::new(model, &sub);
        let found = engine.search(&Limits {
            max_configurations: left,
            ..*limits
        });
        left = left.map(|n| n.saturating_sub(engine.configurations));
        match found {
            Found::Linearizable(_) => Some(true),
            Found::NotLinearizable { .. } => Some(false),
            Found::Unknown { .. } => None,
        }
    };
    // The last response is never passed: past it, every required op is
    // placed and the history would be linearizable.
    let (mut lo, mut hi) = (0, rets.len().checked_sub(1)?);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if passes(mid)? {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Some(rets[hi])
}

/// The few ops that show a kill (search rule 8), by index: the killer
/// `y`, the killed op, and the latest op before `y` that may enable the
/// killed one (what explains its read, if anything). The refutation holds
/// in every sub-history with `y` and the killed op; `None` unless the few
/// are linearizable without the killed op (the killer may itself need an
/// op left out, as a cas does).
fn killed_few<M: Model>(
    model: &M,
    items: &[Item<M::Op>],
    killed: usize,
    y: usize,
    limits: &Limits<'_>,
) -> Option<Vec<usize>> {
    let explains = items
        .iter()
        .enumerate()
        .filter(|(_, z)| z.ret < items[y].invoke && model.may_enable(&z.op, &items[killed].op))
        .max_by_key(|(_, z)| z.ret)
        .map(|(i, _)| i);
    let mut few: Vec<usize> = [y, killed].into_iter().chain(explains).collect();
    few.sort_by_key(|&i| items[i].invoke);
    let rest: Vec<Item<M::Op>> = few
        .iter()
        .filter(|&&i| i != killed)
        .map(|&i| items[i].clone())
        .collect();
    match Engine::new(model, &rest).search(limits) {
        Found::Linearizable(_) => Some(few),
        _ => None,
    }
}

/// One object's sub-history, refuted on its own.
struct Scope<O> {
    items: Vec<Item<O>>,
    /// Its first failure, by index into `items`.
    stuck: usize,
    /// The killer that refuted it (search rule 8), if any.
    killer: Option<usize>,
    /// The ops its refuting search looked at.
    touched: Vec<usize>,
}

/// The items of the object the op `stuck` acts on, when the model is a
/// set of independent objects ([`Model::object`]) and the partition holds
/// others too: that object's sub-history, with the index of its first
/// failure and its killer (search rule 8), if its own search refutes it
/// within `limits`.
///
/// It does whenever the partition's search was stuck at `stuck` without
/// rule 8: a prefix of the whole history that gets past `stuck`'s return
/// would, restricted to each object, get past it too, and the sub-history
/// of `stuck`'s object is stuck no later; the other objects' histories
/// cannot be stuck earlier (the search would have stopped there). The
/// search is run anyway, so that the evidence never rests on that
/// argument alone.
fn object_scope<M: Model>(
    model: &M,
    items: &[Item<M::Op>],
    stuck: usize,
    limits: &Limits<'_>,
) -> Option<Scope<M::Op>> {
    let object = model.object(&items[stuck].op)?;
    let scoped: Vec<Item<M::Op>> = items
        .iter()
        .filter(|it| model.object(&it.op) == Some(object))
        .cloned()
        .collect();
    if scoped.len() == items.len() {
        return None;
    }
    let mut engine = Engine::new(model, &scoped);
    let Found::NotLinearizable { stuck } = engine.search(limits) else {
        return None;
    };
    let killer = engine.killer.map(|y| y as usize);
    let touched = engine.touched();
    drop(engine);
    Some(Scope {
        items: scoped,
        stuck: stuck as usize,
        killer,
        touched,
    })
}

/// The last op to complete ok before `s` was invoked, and the ops
/// concurrent with `s` in invocation order.
fn neighbours<M: Model>(
    history: &History,
    model: &M,
    all: &[Item<M::Op>],
    s: &Item<M::Op>,
) -> (Option<OpView>, Vec<OpView>) {
    let previous_ok = all
        .iter()
        .filter(|it| {
            history.operations[it.id].outcome == Outcome::Ok && !it.optional() && it.ret < s.invoke
        })
        .max_by_key(|it| it.ret)
        .map(|it| view(history, model, it));
    let mut concurrent: Vec<&Item<M::Op>> = all
        .iter()
        .filter(|it| it.id != s.id && it.invoke < s.ret && it.ret > s.invoke)
        .collect();
    concurrent.sort_by_key(|it| it.invoke);
    let concurrent = concurrent
        .into_iter()
        .map(|it| view(history, model, it))
        .collect();
    (previous_ok, concurrent)
}

/// Where the evidence of one refuted partition looks: its ops (the failing
/// op's object alone, when a scope was found), the stuck op among them,
/// and the few ops that refute it when known.
struct Site<'a, O> {
    items: &'a [Item<O>],
    /// The stuck op, by index into `items`.
    stuck: usize,
    /// A refuting sub-history, by index into `items` (a kill by rule 8, or
    /// the minimal counterexample when the stuck op came from it).
    few: Option<Vec<usize>>,
    /// No order of the ops gets past the stuck op's completion (it is the
    /// first failure, or rule 8 showed it illegal wherever it goes).
    proven: bool,
}

impl<O: Clone> Site<'_, O> {
    /// The sub-history the final paths are drawn from, and the stuck op's
    /// place in it.
    fn sub(&self) -> (Cow<'_, [Item<O>]>, usize) {
        match &self.few {
            Some(ids) => (
                ids.iter().map(|&i| self.items[i].clone()).collect(),
                ids.iter().position(|&i| i == self.stuck).expect("kept"),
            ),
            None => (Cow::Borrowed(self.items), self.stuck),
        }
    }

    /// A sub-history index back to the site's.
    fn back(&self, i: usize) -> usize {
        self.few.as_ref().map_or(i, |ids| ids[i])
    }
}

fn evidence<M: Model>(
    history: &History,
    model: &M,
    all: &[Item<M::Op>],
    (stuck, killer, touched): (usize, Option<usize>, &[usize]),
    options: &CheckOptions,
    limits: &Limits<'_>,
    budgets: &Budgets,
) -> Evidence {
    // Evidence gets its own budgets of work per partition (within the
    // overall deadline): a verdict is never held up by its illustration.
    let first = find_first(model, all, limits, budgets);
    let scope = object_scope(
        model,
        all,
        first.unwrap_or(stuck),
        &limits.capped(budgets.finals),
    );
    // The ops the refuting search looked at, by index into `items`.
    let hint = match &scope {
        Some(sc) => &sc.touched[..],
        None => touched,
    };
    let mut site = failure_site(model, all, &scope, first, (stuck, killer), limits, budgets);
    // Not proven for the partition (the search refuted every order early
    // and its first failure was not found within its budget): shrink
    // first, and show the minimal counterexample's own first failure,
    // where no order of its ops gets past.
    let mut shrunk = None;
    let mut stuck_in = StuckIn::Partition;
    if !site.proven {
        stuck_in = StuckIn::Search;
        if options.shrink {
            let sh = shrink::shrink(model, site.items, None, hint, limits, budgets.shrink);
            let sub: Vec<Item<M::Op>> = sh.items.iter().map(|&i| site.items[i].clone()).collect();
            // Small, so found quickly.
            if let Some(f) = first_failure(model, &sub, &limits.capped(budgets.finals)) {
                site.stuck = sh.items[f];
                site.few = Some(sh.items.clone());
                stuck_in = StuckIn::Minimal;
            }
            shrunk = Some(sh);
        }
    }
    let (sub_items, sub_stuck) = site.sub();
    let mut engine = Engine::new(model, &sub_items[..]);
    let (mut finals, complete) = engine.finals(
        sub_stuck as u32,
        &limits.capped(budgets.finals),
        MAX_FINAL_PATHS,
    );
    for f in &mut finals {
        for i in &mut f.path {
            *i = site.back(*i as usize) as u32;
        }
    }
    let minimal = options.shrink.then(|| {
        // Already shrunk above, or shrunk now from the sub-history the
        // final paths came from.
        shrunk.unwrap_or_else(|| {
            let hint = if site.few.is_some() { &[][..] } else { hint };
            let sh = shrink::shrink(
                model,
                &sub_items[..],
                Some(sub_stuck),
                hint,
                limits,
                budgets.shrink,
            );
            shrink::Shrunk {
                items: sh.items.into_iter().map(|i| site.back(i)).collect(),
                one_minimal: sh.one_minimal,
            }
        })
    });
    drawn(
        history,
        model,
        all,
        &site,
        (finals, complete),
        minimal,
        stuck_in,
    )
}

/// The first response no order of `items` gets past, within the evidence's
/// budget for it (none when that budget is zero).
fn find_first<M: Model>(
    model: &M,
    items: &[Item<M::Op>],
    limits: &Limits<'_>,
    budgets: &Budgets,
) -> Option<usize> {
    if budgets.first == 0 {
        None
    } else {
        first_failure(model, items, &limits.capped(budgets.first))
    }
}

/// Where the evidence looks, given the partition's first failure if found
/// (`first`) and the op the refuting search was stuck at with the killer
/// that refuted it.
///
/// The pruning rules that refute early (rules 8 and 9) may stop the search
/// before the first response no order gets past, even on another object.
/// That first failure makes the clearer evidence.
///
/// Several independent objects checked as one (`--one-object` on a keyed
/// history): the final paths and the counterexample then come from the
/// failing op's object alone, which is what shows the bug; the other
/// objects would only multiply the paths and slow the shrinking down.
///
/// When the first failure is not found within the budget, a refutation by
/// a killed op shows the few ops of the kill.
fn failure_site<'a, M: Model>(
    model: &M,
    all: &'a [Item<M::Op>],
    scope: &'a Option<Scope<M::Op>>,
    first: Option<usize>,
    (stuck, killer): (usize, Option<usize>),
    limits: &Limits<'_>,
    budgets: &Budgets,
) -> Site<'a, M::Op> {
    let site = |items, stuck, few, proven| Site {
        items,
        stuck,
        few,
        proven,
    };
    match (scope, first) {
        (Some(sc), Some(f)) => {
            let at = sc.items.iter().position(|it| it.id == all[f].id);
            site(&sc.items[..], at.expect("the object's own op"), None, true)
        }
        (None, Some(f)) => site(all, f, None, true),
        (scope, None) => {
            let (items, stuck, killer, first) = match scope {
                Some(sc) => (
                    &sc.items[..],
                    sc.stuck,
                    sc.killer,
                    find_first(model, &sc.items, limits, budgets),
                ),
                None => (all, stuck, killer, None),
            };
            match (first, killer) {
                (Some(f), _) => site(items, f, None, true),
                (None, None) => site(items, stuck, None, false),
                (None, Some(y)) => {
                    let few = killed_few(model, items, stuck, y, &limits.capped(budgets.finals));
                    site(items, stuck, few, true)
                }
            }
        }
    }
}

/// The evidence as reports draw it: the stuck op with its neighbours, the
/// final paths (indices into the site's ops) with the states they end in
/// and why the stuck op cannot follow, the longest linearizable prefix,
/// and the minimal counterexample in invocation order.
fn drawn<M: Model>(
    history: &History,
    model: &M,
    all: &[Item<M::Op>],
    site: &Site<'_, M::Op>,
    (finals, complete): (Vec<search::FinalPath<M::State>>, bool),
    minimal: Option<shrink::Shrunk>,
    stuck_in: StuckIn,
) -> Evidence {
    let items = site.items;
    let s = &items[site.stuck];
    let tail = |path: &[u32]| -> Vec<OpView> {
        path[path.len().saturating_sub(PATH_TAIL)..]
            .iter()
            .map(|&i| view(history, model, &items[i as usize]))
            .collect()
    };
    let (previous_ok, concurrent) = neighbours(history, model, all, s);
    let final_paths = finals
        .iter()
        .map(|f| Path {
            ops: tail(&f.path),
            state: model.describe_state_for(&f.state, &s.op),
        })
        .collect();
    let op = view(history, model, s);
    let blocked = finals
        .iter()
        .map(|f| Blocked {
            op: op.clone(),
            state: model.describe_state_for(&f.state, &s.op),
            reason: model.explain(&f.state, &s.op),
        })
        .collect();
    let minimal_verified = minimal.as_ref().is_some_and(|sh| sh.one_minimal);
    let minimal = minimal.map(|sh| {
        let mut ids = sh.items;
        ids.sort_by_key(|&i| items[i].invoke);
        ids.iter()
            .map(|&i| view(history, model, &items[i]))
            .collect()
    });
    let longest = finals.iter().map(|f| f.path.len()).max().unwrap_or(0);
    let prefix = finals
        .iter()
        .find(|f| f.path.len() == longest)
        .map(|f| tail(&f.path))
        .unwrap_or_default();
    Evidence {
        op,
        stuck_in,
        previous_ok,
        concurrent,
        prefix_len: longest,
        prefix,
        final_paths,
        final_paths_complete: complete && finals.len() < MAX_FINAL_PATHS,
        blocked,
        minimal,
        minimal_verified,
    }
}

#[cfg(test)]
mod tests;
