//! Eventual convergence: after updates stop, do all replicas return the
//! same value, and is that value explained by the updates?
//!
//! Eventual consistency (Vogels, "Eventually Consistent", CACM 2009)
//! promises only that, in the absence of new updates, every replica
//! eventually returns the same value. Bailis & Ghodsi ("Eventual
//! Consistency Today", ACM Queue 2013) split that promise into a liveness
//! part (replicas agree, eventually) and a safety part (what they agree on
//! is explained by the writes); Burckhardt ("Principles of Eventual
//! Consistency", 2014) makes the safety part precise with visibility and
//! arbitration orders. This checker judges both parts from a black-box
//! history, per model and per key, and adds the per-client session
//! guarantees of Terry et al. ("Session Guarantees for Weakly Consistent
//! Replicated Data", PDIS 1994) where they can be judged soundly.
//! Jepsen's `set-full`, `counter` and `total-queue` checkers are the
//! anchors for the set, counter and queue analyses.
//!
//! # Final reads
//!
//! Convergence can only be judged on reads made once the store had the
//! chance to converge: *final reads*. Which reads are final is a rule
//! ([`FinalReadRule`]), chosen by the caller and stated in the report:
//!
//! - [`FinalReadRule::AfterLastUpdate`]: an `ok` read invoked strictly after
//!   the last update of its key ended, plus [`ConvergenceOptions::settle`].
//! - [`FinalReadRule::AfterHeal`]: as above, and also strictly after the
//!   last nemesis event that heals faults plus the settle time. A nemesis
//!   event heals when its `f` contains `stop`, `heal` or `resume` (Jepsen's
//!   `:stop` of a partitioner, `:heal`, `:resume` of a pauser,
//!   `:stop-partition`, ...). A `:start` is never taken as a heal: for a
//!   process killer it restarts nodes, for a partitioner it starts faults.
//!   A history with nemesis events and no heal has no final reads; one with
//!   no nemesis events at all had no faults to heal.
//! - [`FinalReadRule::Marked`]: reads explicitly marked final, by an `f` of
//!   `final-read` or `final_read`, or an extra field `final` that is `true`
//!   on the invocation or completion. A marked read that does not begin
//!   after the last update of its key ended is not used (updates still in
//!   flight may legitimately make replicas disagree); the report counts it.
//!
//! With the two time-based rules and
//! [`ConvergenceOptions::latest_per_replica`] (the default), only each
//! replica's latest such read is final: earlier reads after the last update
//! show convergence in progress (they count in the convergence time and in
//! flip-flops), not divergence. A replica whose latest read still
//! disagrees had not converged by the end of the history.
//!
//! An update *ends* at its completion (`ok` or `info`); one never completed
//! ends at its invocation (the client gave up on it). `fail`ed updates did
//! not happen and are ignored. A key without final reads is
//! [`Verdict::Unknown`], never valid.
//!
//! # Time
//!
//! As in Jepsen, the order of events in the history is their real-time
//! order; the `time` field measures how far apart they were. "After" and
//! "before" compare an event's *position* ([`Pos`]): its clock, then its
//! place in the file, so that events at one time (a coarse clock) are
//! ordered as the file orders them. The clock is the `time` field
//! (nanoseconds) when every event has one, raised to the largest time
//! before it where the file's times go back, else the event's place in
//! the file; the settle time and every time in a report are in its unit.
//!
//! # Indeterminate updates
//!
//! An indeterminate update may take effect at any time after its
//! invocation, between two final reads too. Final reads that differ are
//! divergence only when no choice of effect times explains the difference
//! ([`pending`]); otherwise the key is unknown, with that reason. Lost
//! updates and lost elements are claimed only when no indeterminate update
//! can undo them.
//!
//! # Replicas
//!
//! The replica that answered a read is its `node` field when present (on
//! the completion, else the invocation), else `process mod N` when
//! [`ConvergenceOptions::nodes`] is `Some(N)`, else the process.
//!
//! # Models
//!
//! - register, cas-register, kv ([`register`]): final reads agree; the
//!   agreed value was written, or is the initial value; it is not a value
//!   that an acknowledged write strictly followed in real time (a *lost
//!   update*).
//! - set ([`set`]): lost, unexpected, failed-but-present and recovered
//!   elements in the final state, and set-full's per-element analysis
//!   during the run.
//! - counter ([`counter`]): every read within real-time bounds.
//! - fifo-queue, unordered-queue ([`queue`]): every acknowledged enqueue
//!   dequeued exactly once.
//!
//! Mutex and multi-register have no convergence analysis: Unknown.
//!
//! Every model analyses a key in the same steps (classify its operations,
//! choose and group the final reads, judge divergence or time how the key
//! settled, find the model's anomalies, judge sessions, settle the
//! verdict); the `skeleton` module holds what those steps share, and each
//! model's file only what is its own.
//!
//! Session guarantees are in [`session`].

pub mod counter;
mod pending;
pub mod queue;
pub mod register;
pub mod session;
pub mod set;
mod skeleton;

use crate::check::evidence::OpView;
use crate::check::Verdict;
use crate::history::{History, Operation, Value};
use crate::model::{ModelKind, ModelOptions};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Which reads count as final: made once the store could have converged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FinalReadRule {
    /// Reads invoked after the last update of their key ended, plus the
    /// settle time.
    AfterLastUpdate,
    /// Reads invoked after the last update of their key ended and after the
    /// last nemesis heal event, plus the settle time.
    AfterHeal,
    /// Reads marked final (`f` `final-read`, or extra field `final true`)
    /// invoked after the last update of their key ended.
    Marked,
}

/// Whether session guarantees are judged, and whether they count in the
/// verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SessionMode {
    /// Not judged.
    Off,
    /// Judged and reported; violations do not change the verdict.
    Report,
    /// Judged; a violation makes the history invalid.
    Require,
}

/// Options of the convergence checker.
#[derive(Clone, Debug)]
pub struct ConvergenceOptions {
    /// Which reads are final.
    pub final_reads: FinalReadRule,
    /// Extra time after the last update (and heal) before reads count as
    /// final: nanoseconds of the `time` field, or event positions when the
    /// history has no times.
    pub settle: u64,
    /// Number of replicas, when reads carry no `node`: the replica is then
    /// `process mod nodes`.
    pub nodes: Option<usize>,
    /// Session guarantees.
    pub sessions: SessionMode,
    /// How many example reads a report lists per group (counts are exact).
    pub max_examples: usize,
    /// With the time-based rules, only each replica's latest qualifying
    /// read is final.
    pub latest_per_replica: bool,
    /// Analyse only this shard's keys ([`crate::check::shard`]).
    pub shard: Option<crate::check::shard::Shard>,
}

impl Default for ConvergenceOptions {
    fn default() -> Self {
        ConvergenceOptions {
            final_reads: FinalReadRule::AfterLastUpdate,
            settle: 0,
            nodes: None,
            sessions: SessionMode::Report,
            max_examples: 8,
            latest_per_replica: true,
            shard: None,
        }
    }
}

/// The unit of every time in a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeUnit {
    /// Nanoseconds, from the ops' `time` field.
    Nanoseconds,
    /// Positions of events in the history.
    Events,
}

/// The final-read rule as applied, for the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FinalReadsUsed {
    /// The rule.
    pub rule: FinalReadRule,
    /// The settle time, in `unit`.
    pub settle: u64,
    /// The unit of times in the report.
    pub unit: TimeUnit,
    /// Time of the last nemesis heal event, when the rule uses it.
    pub last_heal_at: Option<i64>,
    /// Marked reads left out because they began before the last update of
    /// their key ended.
    pub marked_but_early: usize,
    /// Where replica names come from: `node`, `process` or `process mod N`.
    pub replicas_from: String,
    /// Only each replica's latest qualifying read was final.
    pub latest_per_replica: bool,
}

/// A read as evidence: the op, the replica that answered, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ReadView {
    /// The read.
    pub op: OpView,
    /// The replica that answered it.
    pub replica: String,
    /// When it was invoked.
    pub invoked_at: i64,
    /// When it completed.
    pub completed_at: Option<i64>,
}

/// Final reads that returned one value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ReadGroup {
    /// The value they returned.
    pub value: Value,
    /// How many final reads returned it.
    pub count: usize,
    /// The replicas that returned it, sorted.
    pub replicas: Vec<String>,
    /// When the first of them was invoked.
    pub first_at: i64,
    /// When the last of them was invoked.
    pub last_at: i64,
    /// Up to `max_examples` of the reads, when final reads diverged (a
    /// converged key keeps only counts and times, so that reports of
    /// histories with millions of keys stay small).
    pub examples: Vec<ReadView>,
}

/// "Converged, then diverged again": after the last update, a read agreed
/// with the final value and a later one did not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FlipFlop {
    /// The element, for sets.
    pub element: Option<Value>,
    /// A read that agreed with the final state.
    pub agreed: ReadView,
    /// A later read (invoked after the first completed) that did not.
    pub diverged: ReadView,
}

/// The result for one key (the whole history when ops carry no key).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct KeyResult {
    /// The key, or `None` for unkeyed histories.
    pub key: Option<Value>,
    /// The verdict for this key.
    pub valid: Verdict,
    /// Why the verdict is not valid, in plain words.
    pub reasons: Vec<String>,
    /// Updates (not failed).
    pub updates: usize,
    /// `ok` reads.
    pub reads: usize,
    /// Final reads.
    pub final_reads: usize,
    /// When the last update ended.
    pub last_update_at: Option<i64>,
    /// Final reads grouped by the value they returned: more than one group
    /// is divergence.
    pub final_values: Vec<ReadGroup>,
    /// The value every final read agreed on.
    pub converged_value: Option<Value>,
    /// Time from the last update ending to the end of the last read that
    /// disagreed with the converged value (0 when none did).
    pub convergence_time: Option<i64>,
    /// The first flip-flop after the last update, if any (informational).
    pub flip_flop: Option<FlipFlop>,
    /// Model-specific findings.
    pub detail: KeyDetail,
    /// In a shard's report only: what the merge needs of this key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<Box<KeyPart>>,
}

/// What a shard's report keeps of each of its keys, so that a merge adds
/// them up as a run over the whole history does ([`assemble`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyPart {
    /// The key's place in the whole history's order of first appearance.
    pub place: usize,
    /// The key's anomalies.
    pub anomalies: Vec<Anomaly>,
    /// The key's session guarantees.
    pub sessions: session::SessionReport,
}

/// Model-specific findings for a key.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "model", rename_all = "kebab-case")]
pub enum KeyDetail {
    /// Registers and kv.
    Register(register::RegisterDetail),
    /// Sets.
    Set(set::SetDetail),
    /// Counters.
    Counter(counter::CounterDetail),
    /// Queues.
    Queue(queue::QueueDetail),
    /// Nothing to add.
    None,
}

/// An anomaly that makes a key invalid.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Anomaly {
    /// Final reads returned different values, and no effect times of the
    /// indeterminate updates explain the difference.
    Divergence {
        /// The key.
        key: Option<Value>,
        /// The values returned, with the replicas that returned each.
        values: Vec<(Value, Vec<String>)>,
        /// Two final reads that show it: the earlier first when one
        /// completed before the other began.
        reads: Vec<ReadView>,
        /// Why no indeterminate update explains them.
        why: String,
    },
    /// A read returned what an update the store reported `fail`ed would
    /// have written, and no other update explains: the store said the
    /// update did not happen, yet it took effect.
    FailedButPresent {
        /// The key.
        key: Option<Value>,
        /// What was read (an element).
        value: Value,
        /// The failed update.
        update: OpView,
        /// The read that returned it.
        read: ReadView,
    },
    /// The converged value was overwritten in real time by an acknowledged
    /// write that was then lost.
    LostUpdate {
        /// The key.
        key: Option<Value>,
        /// The value every final read returned.
        value: Value,
        /// The acknowledged write that was lost.
        lost: OpView,
        /// The write of the converged value, which it strictly followed
        /// (`None` when the value is the initial one).
        winner: Option<OpView>,
        /// How many acknowledged writes were lost this way.
        lost_count: usize,
    },
    /// A read returned something no update explains.
    Unexplained {
        /// The key.
        key: Option<Value>,
        /// What was read (a value or an element).
        value: Value,
        /// The read.
        read: ReadView,
        /// Why it is unexplained.
        why: String,
    },
    /// Something acknowledged is missing from the final state.
    Lost {
        /// The key.
        key: Option<Value>,
        /// The element, value or enqueued item.
        value: Value,
        /// The acknowledged update.
        update: OpView,
        /// A final read that misses it, if the loss was seen by one.
        missing_from: Option<ReadView>,
        /// Why it counts as lost.
        why: String,
    },
    /// An item was dequeued more often than it was enqueued.
    Duplicated {
        /// The key.
        key: Option<Value>,
        /// The item.
        value: Value,
        /// Enqueue attempts (ok or indeterminate).
        enqueued: usize,
        /// Times dequeued.
        dequeued: usize,
    },
    /// A counter read outside what the increments allow.
    OutOfBounds {
        /// The key.
        key: Option<Value>,
        /// The read.
        read: ReadView,
        /// What it returned.
        value: i64,
        /// The least value the increments allow.
        lower: i64,
        /// The greatest value the increments allow.
        upper: i64,
        /// Was the read final?
        is_final: bool,
    },
}

/// Counts over the whole history.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Stats {
    /// Client operations.
    pub operations: usize,
    /// Keys (1 for unkeyed histories).
    pub keys: usize,
    /// Final reads over all keys.
    pub final_reads: usize,
    /// Keys whose final reads agreed.
    pub converged_keys: usize,
    /// Keys with no final read.
    pub keys_without_final_reads: usize,
}

/// What the convergence checker found.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct ConvergenceReport {
    /// Invalid if any key is; unknown if any key could not be judged;
    /// valid only when every key had final reads and no anomaly.
    pub valid: Verdict,
    /// The model.
    pub model: String,
    /// Why the verdict is not valid, in plain words (the first few).
    pub reasons: Vec<String>,
    /// The final-read rule applied.
    pub final_reads: FinalReadsUsed,
    /// Per key, in order of first appearance.
    pub keys: Vec<KeyResult>,
    /// Every anomaly, key by key.
    pub anomalies: Vec<Anomaly>,
    /// Session guarantees.
    pub sessions: session::SessionReport,
    /// Counts.
    pub stats: Stats,
}

/// Checks a history for eventual convergence under model `kind`.
///
/// Pure: no I/O. Linear in the size of the history (plus a sort of each
/// key's reads), so that multi-million-op histories take seconds.
pub fn check(
    history: &History,
    kind: ModelKind,
    model_options: &ModelOptions,
    options: &ConvergenceOptions,
) -> ConvergenceReport {
    let ctx = Ctx::new(history, model_options, options);
    let keys = ctx.partition();
    let analyse: fn(&Ctx<'_>, &KeyOps) -> (KeyResult, Vec<Anomaly>, session::SessionReport) =
        match kind {
            ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv => register::analyse,
            ModelKind::Set => set::analyse,
            ModelKind::Counter => counter::analyse,
            ModelKind::FifoQueue | ModelKind::UnorderedQueue => queue::analyse,
            ModelKind::Mutex | ModelKind::MultiRegister => {
                return ctx.unsupported(kind);
            }
        };
    // Under a shard, only its keys are analysed; each keeps its place in
    // the whole history's order and its own findings, for the merge.
    let chosen = options.shard.map(|s| s.keys(history));
    let empty = keys.is_empty();
    let results: Vec<KeyOutcome> = keys
        .par_iter()
        .enumerate()
        .filter(|(_, k)| chosen.as_ref().is_none_or(|c| c.contains(&k.key)))
        .map(|(place, k)| {
            let (mut key, anomalies, sessions) = analyse(&ctx, k);
            if options.shard.is_some() {
                key.part = Some(Box::new(KeyPart {
                    place,
                    anomalies: anomalies.clone(),
                    sessions: sessions.clone(),
                }));
            }
            (key, anomalies, sessions)
        })
        .collect();
    let header = ConvergenceReport {
        valid: Verdict::Valid,
        model: kind.name().to_string(),
        reasons: Vec::new(),
        final_reads: ctx.used(),
        keys: Vec::new(),
        anomalies: Vec::new(),
        sessions: session::SessionReport::new(options.sessions),
        stats: Stats {
            operations: history.operations.len(),
            ..Stats::default()
        },
    };
    assemble(header, results, empty)
}

/// One key's result, its anomalies and its session guarantees.
pub type KeyOutcome = (KeyResult, Vec<Anomaly>, session::SessionReport);

/// Completes `header` (every field but the keys' and what they add up
/// to) with the keys' outcomes, in order of first appearance: the
/// verdict, reasons, anomalies, session guarantees and counts. `empty`
/// says the history had no client operation at all. A run over a
/// history calls it with its keys, and a merge of shards with the keys
/// of every shard, so both add up the same way.
pub fn assemble(
    mut report: ConvergenceReport,
    results: Vec<KeyOutcome>,
    empty: bool,
) -> ConvergenceReport {
    report.stats.keys = results.len();
    if empty {
        report.valid = Verdict::Unknown;
        report
            .reasons
            .push("the history has no client operations".into());
    } else if results.is_empty() {
        // A shard that more shards than keys left without any.
        report.valid = Verdict::Unknown;
        report.reasons.push("no key falls to this shard".into());
    }
    for (key, anomalies, sessions) in results {
        report.valid = report.valid.and(key.valid);
        report.stats.final_reads += key.final_reads;
        if key.final_reads == 0 {
            report.stats.keys_without_final_reads += 1;
        }
        if key.converged_value.is_some() {
            report.stats.converged_keys += 1;
        }
        if report.reasons.len() < 16 {
            for r in &key.reasons {
                let r = match &key.key {
                    Some(k) => format!("key {k}: {r}"),
                    None => r.clone(),
                };
                report.reasons.push(r);
            }
        }
        report.anomalies.extend(anomalies);
        report.sessions.merge(sessions);
        report.keys.push(key);
    }
    report.sessions.finish();
    if report.sessions.mode == SessionMode::Require && report.sessions.valid == Verdict::Invalid {
        report.valid = Verdict::Invalid;
        report
            .reasons
            .push("a session guarantee was broken".to_string());
    }
    report
}

/// A fast hasher for small keys (FxHash's multiply-rotate).
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(w));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(i as u64)
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64)
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64)
    }
    fn write_i64(&mut self, i: i64) {
        self.write_u64(i as u64)
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A hash map with [`FxHasher`].
pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// The operations of one key, in invocation order (ids into
/// [`History::operations`]).
pub(crate) struct KeyOps<'a> {
    pub key: Option<&'a Value>,
    pub ids: Vec<usize>,
}

/// A position in real time: the clock, then the event's place in the
/// file, so that events at one time are ordered as the file orders them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Pos {
    /// The clock (see the module docs).
    pub clock: i64,
    /// The event's index in [`History::ops`].
    pub event: usize,
}

impl Pos {
    /// The position `d` clock units later, at the same place in the file.
    fn plus(self, d: i64) -> Pos {
        Pos {
            clock: self.clock.saturating_add(d),
            event: self.event,
        }
    }
}

/// Shared state of one check: the history, options and clock.
pub(crate) struct Ctx<'a> {
    pub h: &'a History,
    pub model: &'a ModelOptions,
    pub opts: &'a ConvergenceOptions,
    /// Every event has a `time`.
    pub timed: bool,
    /// The clock of every event, when the file's times go back somewhere
    /// (each the largest time up to it); `None` when they never do.
    raised: Option<Vec<i64>>,
    /// The last heal, when the rule needs it: `Ok(None)` when there were no
    /// faults, `Err` when faults never healed.
    pub heal: Result<Option<Pos>, ()>,
    pub marked_but_early: std::sync::atomic::AtomicUsize,
}

/// Is this nemesis `f` a heal?
pub(crate) fn is_heal(f: &str) -> bool {
    let f = f.to_ascii_lowercase();
    f.contains("stop") || f.contains("heal") || f.contains("resume")
}

impl<'a> Ctx<'a> {
    fn new(h: &'a History, model: &'a ModelOptions, opts: &'a ConvergenceOptions) -> Ctx<'a> {
        let timed = !h.ops.is_empty() && h.ops.iter().all(|o| o.time.is_some());
        let goes_back = timed && h.ops.windows(2).any(|w| w[1].time < w[0].time);
        let raised = goes_back.then(|| {
            h.ops
                .iter()
                .scan(i64::MIN, |max, o| {
                    *max = (*max).max(o.time.unwrap_or(0));
                    Some(*max)
                })
                .collect()
        });
        let mut ctx = Ctx {
            h,
            model,
            opts,
            timed,
            raised,
            heal: Ok(None),
            marked_but_early: Default::default(),
        };
        if opts.final_reads == FinalReadRule::AfterHeal && !h.nemesis.is_empty() {
            ctx.heal = h
                .nemesis
                .iter()
                .rev()
                .find(|&&i| is_heal(&h.ops[i].f))
                .map(|&i| Some(ctx.pos(i)))
                .ok_or(());
        }
        ctx
    }

    /// The clock at event `i`.
    pub fn at(&self, i: usize) -> i64 {
        match (&self.raised, self.timed) {
            (Some(clock), _) => clock[i],
            (None, true) => self.h.ops[i].time.unwrap_or(0),
            (None, false) => i as i64,
        }
    }

    /// The position of event `i` in real time.
    pub fn pos(&self, i: usize) -> Pos {
        Pos {
            clock: self.at(i),
            event: i,
        }
    }

    /// When operation `id` was invoked.
    pub fn invoked(&self, id: usize) -> i64 {
        self.at(self.h.operations[id].invoke)
    }

    /// When operation `id` completed, if it did.
    pub fn completed(&self, id: usize) -> Option<i64> {
        self.h.operations[id].complete.map(|c| self.at(c))
    }

    /// Where an update ended: its completion, else its invocation.
    pub fn ended(&self, id: usize) -> Pos {
        let o = &self.h.operations[id];
        self.pos(o.complete.unwrap_or(o.invoke))
    }

    /// The operation.
    pub fn op(&self, id: usize) -> &'a Operation {
        &self.h.operations[id]
    }

    /// The invocation's `f`.
    pub fn f(&self, id: usize) -> &'a str {
        &self.h.ops[self.h.operations[id].invoke].f
    }

    /// The input.
    pub fn input(&self, id: usize) -> &'a Value {
        self.h.input(&self.h.operations[id])
    }

    /// The observed output of an `ok` op.
    pub fn output(&self, id: usize) -> Option<&'a Value> {
        self.h.output(&self.h.operations[id])
    }

    /// Is the op marked as a final read?
    pub fn marked(&self, id: usize) -> bool {
        let o = self.op(id);
        let is_true = |op: &crate::history::Op| {
            matches!(&*op.f, "final-read" | "final_read")
                || op
                    .extra()
                    .iter()
                    .any(|(k, v)| &**k == "final" && *v == Value::Bool(true))
        };
        is_true(&self.h.ops[o.invoke]) || o.complete.is_some_and(|c| is_true(&self.h.ops[c]))
    }

    /// The replica that answered operation `id`.
    pub fn replica(&self, id: usize) -> String {
        let o = self.op(id);
        let node = o
            .complete
            .and_then(|c| self.h.ops[c].node())
            .or(self.h.ops[o.invoke].node());
        match (node, self.opts.nodes) {
            (Some(n), _) => n.as_name().map_or_else(|| n.to_string(), str::to_string),
            (None, Some(n)) if n > 0 => {
                format!("n{}", self.h.client_number(o).rem_euclid(n as i64))
            }
            _ => format!("process {}", self.h.process(o)),
        }
    }

    /// A read as evidence.
    pub fn read_view(&self, id: usize, desc: String) -> ReadView {
        ReadView {
            op: OpView::new(self.h, id, desc),
            replica: self.replica(id),
            invoked_at: self.invoked(id),
            completed_at: self.completed(id),
        }
    }

    /// A read in words, for why final reads diverged: which process read
    /// `what`.
    pub fn who_read(&self, id: usize, what: impl std::fmt::Display) -> String {
        format!("process {} read {what}", self.op(id).process)
    }

    /// An operation as evidence.
    pub fn view(&self, id: usize, desc: String) -> OpView {
        OpView::new(self.h, id, desc)
    }

    /// The final reads among `reads` (ok reads of one key, in invocation
    /// order), given where the key's last update ended.
    pub fn final_reads(&self, reads: &[usize], last_update: Option<Pos>) -> Vec<usize> {
        let settle = self.opts.settle.min(i64::MAX as u64) as i64;
        let threshold = match self.opts.final_reads {
            FinalReadRule::AfterLastUpdate => last_update.map(|p| p.plus(settle)),
            FinalReadRule::AfterHeal => match self.heal {
                Err(()) => return Vec::new(),
                Ok(heal) => last_update.max(heal).map(|p| p.plus(settle)),
            },
            FinalReadRule::Marked => {
                let mut out = Vec::new();
                for &r in reads {
                    if self.marked(r) {
                        if Some(self.pos(self.op(r).invoke)) > last_update {
                            out.push(r);
                        } else {
                            self.marked_but_early
                                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                }
                return out;
            }
        };
        let selected = reads
            .iter()
            .copied()
            .filter(|&r| Some(self.pos(self.op(r).invoke)) > threshold);
        if !self.opts.latest_per_replica {
            return selected.collect();
        }
        let mut latest: FxMap<(Option<&Value>, i64), usize> = FxMap::default();
        for r in selected {
            latest.insert(self.replica_key(r), r);
        }
        let mut out: Vec<usize> = latest.into_values().collect();
        out.sort_unstable();
        out
    }

    /// The replica of operation `id`, cheaply: its node, else its process
    /// (mod N).
    fn replica_key(&self, id: usize) -> (Option<&'a Value>, i64) {
        let o = self.op(id);
        let node = o
            .complete
            .and_then(|c| self.h.ops[c].node())
            .or(self.h.ops[o.invoke].node());
        match (node, self.opts.nodes) {
            (Some(n), _) => (Some(n), 0),
            (None, Some(n)) if n > 0 => (None, self.h.client_number(o).rem_euclid(n as i64)),
            _ => (None, o.process),
        }
    }

    /// Why a key has no final reads.
    pub fn no_final_reason(&self, reads: usize, last_update: Option<i64>) -> String {
        if reads == 0 {
            return "no ok read: convergence cannot be judged".into();
        }
        let when = last_update.map_or("the start".to_string(), |t| t.to_string());
        match (self.opts.final_reads, self.heal) {
            (FinalReadRule::AfterHeal, Err(())) => {
                "the nemesis never healed its faults (no event whose f contains stop, heal or resume): no read is final".into()
            }
            (FinalReadRule::Marked, _) => format!(
                "no ok read marked final (f final-read, or final true) began after the last update ended (at {when})"
            ),
            _ => format!(
                "no ok read began after the last update ended (at {when}) plus the settle time {}{}",
                self.opts.settle,
                if self.opts.final_reads == FinalReadRule::AfterHeal {
                    " and after the last heal"
                } else {
                    ""
                }
            ),
        }
    }

    /// Groups final reads by the value `value_of` gives them.
    pub fn group<V: Clone + Eq + std::hash::Hash>(
        &self,
        finals: &[usize],
        value_of: impl Fn(usize) -> V,
        to_value: impl Fn(&V) -> Value,
        describe: impl Fn(usize) -> String,
    ) -> Vec<ReadGroup> {
        let mut index: FxMap<V, usize> = FxMap::default();
        let mut groups: Vec<(V, Vec<usize>)> = Vec::new();
        for &r in finals {
            let v = value_of(r);
            let g = *index.entry(v.clone()).or_insert_with(|| {
                groups.push((v, Vec::new()));
                groups.len() - 1
            });
            groups[g].1.push(r);
        }
        let diverged = groups.len() > 1;
        let mut out: Vec<ReadGroup> = groups
            .into_iter()
            .map(|(v, reads)| {
                let mut replicas: Vec<String> = reads.iter().map(|&r| self.replica(r)).collect();
                replicas.sort();
                replicas.dedup();
                ReadGroup {
                    value: to_value(&v),
                    count: reads.len(),
                    replicas,
                    first_at: reads.iter().map(|&r| self.invoked(r)).min().unwrap_or(0),
                    last_at: reads.iter().map(|&r| self.invoked(r)).max().unwrap_or(0),
                    examples: reads
                        .iter()
                        .take(if diverged { self.opts.max_examples } else { 0 })
                        .map(|&r| self.read_view(r, describe(r)))
                        .collect(),
                }
            })
            .collect();
        out.sort_by_key(|g| std::cmp::Reverse(g.count));
        out
    }

    fn used(&self) -> FinalReadsUsed {
        FinalReadsUsed {
            rule: self.opts.final_reads,
            settle: self.opts.settle,
            unit: if self.timed {
                TimeUnit::Nanoseconds
            } else {
                TimeUnit::Events
            },
            last_heal_at: self.heal.unwrap_or_default().map(|p| p.clock),
            marked_but_early: self
                .marked_but_early
                .load(std::sync::atomic::Ordering::Relaxed),
            latest_per_replica: self.opts.latest_per_replica
                && self.opts.final_reads != FinalReadRule::Marked,
            replicas_from: match self.opts.nodes {
                Some(n) => format!("node, else process mod {n}"),
                None => "node, else process".into(),
            },
        }
    }

    fn unsupported(&self, kind: ModelKind) -> ConvergenceReport {
        ConvergenceReport {
            valid: Verdict::Unknown,
            model: kind.name().to_string(),
            reasons: vec![format!(
                "convergence is not defined for the {kind} model: use register, kv, set, counter or a queue"
            )],
            final_reads: self.used(),
            keys: Vec::new(),
            anomalies: Vec::new(),
            sessions: session::SessionReport::new(SessionMode::Off),
            stats: Stats {
                operations: self.h.operations.len(),
                ..Stats::default()
            },
        }
    }

    /// Splits client operations by key, in order of first appearance.
    fn partition(&self) -> Vec<KeyOps<'a>> {
        let mut index: FxMap<Option<&'a Value>, usize> = FxMap::default();
        let mut keys: Vec<KeyOps<'a>> = Vec::new();
        for (id, o) in self.h.operations.iter().enumerate() {
            let k = self.h.key(o);
            let slot = *index.entry(k).or_insert_with(|| {
                keys.push(KeyOps {
                    key: k,
                    ids: Vec::new(),
                });
                keys.len() - 1
            });
            keys[slot].ids.push(id);
        }
        keys
    }
}

/// Renders a value for a report, eliding long collections.
pub(crate) fn short(v: &Value) -> String {
    match v.as_collection() {
        Some(items) if items.len() > 12 => {
            let head: Vec<String> = items[..8].iter().map(|x| x.to_string()).collect();
            let (open, close) = if matches!(v, Value::Set(_)) {
                ("#{", "}")
            } else {
                ("[", "]")
            };
            format!(
                "{open}{} ... (+{} more){close}",
                head.join(" "),
                items.len() - 8
            )
        }
        _ => v.to_string(),
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Building histories in tests.
    use crate::history::{History, Op, OpType, Value};

    /// A history builder: events are appended in real-time order; `time`
    /// is the event position times 10 unless set.
    #[derive(Default)]
    pub struct H {
        pub ops: Vec<Op>,
        pub timed: bool,
    }

    impl H {
        pub fn new() -> H {
            H::default()
        }
        fn push(&mut self, t: OpType, p: i64, f: &str, v: Value, key: Option<Value>) -> &mut Op {
            let mut o = Op::new(t, p, f, v);
            o.key = key;
            o.index = self.ops.len() as u64;
            self.ops.push(o);
            self.ops.last_mut().unwrap()
        }
        pub fn invoke(&mut self, p: i64, f: &str, v: Value) -> &mut Op {
            self.push(OpType::Invoke, p, f, v, None)
        }
        pub fn ok(&mut self, p: i64, f: &str, v: Value) -> &mut Op {
            self.push(OpType::Ok, p, f, v, None)
        }
        pub fn fail(&mut self, p: i64, f: &str, v: Value) -> &mut Op {
            self.push(OpType::Fail, p, f, v, None)
        }
        pub fn info(&mut self, p: i64, f: &str, v: Value) -> &mut Op {
            self.push(OpType::Info, p, f, v, None)
        }
        /// invoke + ok in one go.
        pub fn call(&mut self, p: i64, f: &str, input: Value, output: Value) {
            self.invoke(p, f, input);
            self.ok(p, f, output);
        }
        /// A keyed invoke + ok.
        pub fn kcall(&mut self, p: i64, key: i64, f: &str, input: Value, output: Value) {
            self.invoke(p, f, input).key = Some(Value::Int(key));
            self.ok(p, f, output).key = Some(Value::Int(key));
        }
        pub fn nemesis(&mut self, f: &str) {
            let mut o = Op::new(OpType::Info, 0, f, Value::Nil);
            o.process = crate::history::Process::Named("nemesis".into());
            self.ops.push(o);
        }
        /// The history with event `i` at time `time(i)`.
        pub fn build_timed(&self, time: impl Fn(usize) -> i64) -> History {
            let mut ops = self.ops.clone();
            for (i, o) in ops.iter_mut().enumerate() {
                o.time = Some(time(i));
            }
            History::from_ops(ops).unwrap()
        }
        pub fn build(&self) -> History {
            let mut ops = self.ops.clone();
            if self.timed {
                for (i, o) in ops.iter_mut().enumerate() {
                    o.time = Some(i as i64 * 10);
                }
            }
            History::from_ops(ops).unwrap()
        }
    }

    pub fn int(i: i64) -> Value {
        Value::Int(i)
    }
    pub fn set(items: &[i64]) -> Value {
        Value::set(items.iter().map(|&i| Value::Int(i)).collect())
    }
    pub fn nil() -> Value {
        Value::Nil
    }
}
