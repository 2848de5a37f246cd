//! The analysis of one key, as every model runs it.
//!
//! Each model's `analyse` takes the same steps on a key:
//!
//! - classify the key's operations into reads and updates, noting where
//!   the last update ended (the model's own: which `f` reads or updates,
//!   what a read returned);
//! - choose the final reads ([`Analysis::final_reads`]) and group them by
//!   the state they returned ([`Ctx::group`]);
//! - final reads in several groups: judge the divergence
//!   ([`Analysis::diverged`]), once the model has said, by the pairwise
//!   rule of [`pending`](super::pending), whether its indeterminate
//!   updates explain it; final reads in one group: the key converged, and
//!   [`Analysis::converged`] times how it settled after its last update
//!   (convergence time, the first flip-flop);
//! - find the model's own anomalies (lost updates, lost or unexpected
//!   elements, reads out of bounds, ...), before or after the above as
//!   they need;
//! - judge the session guarantees the model can judge soundly
//!   ([`Analysis::sessions`]);
//! - settle the verdict ([`Analysis::finish`]).
//!
//! [`Analysis`] holds what these steps fill in alike for every model: the
//! key's result, its anomalies and its session guarantees. A queue's final
//! reads are observations of an empty queue, with no state to group: it
//! has no divergence to judge, and settles its verdict with its own
//! reasons ([`Analysis::conclude`]).

use super::pending::Change;
use super::session::SessionReport;
use super::{
    short, Anomaly, Ctx, FlipFlop, KeyDetail, KeyOps, KeyOutcome, KeyResult, Pos, SessionMode,
};
use crate::check::Verdict;
use crate::history::Value;

/// One key's analysis under way.
pub(crate) struct Analysis<'c, 'a> {
    ctx: &'c Ctx<'a>,
    /// The key's result, filled in step by step.
    pub result: KeyResult,
    /// The key's anomalies, in the order the report lists them.
    pub anomalies: Vec<Anomaly>,
    sessions: SessionReport,
    /// Where the key's last update ended.
    last_update: Option<Pos>,
    /// Why final reads in several groups cannot be judged, when they
    /// cannot.
    undecided: Option<String>,
}

impl<'c, 'a> Analysis<'c, 'a> {
    /// A key with nothing found yet.
    pub fn new(ctx: &'c Ctx<'a>, k: &KeyOps<'_>) -> Self {
        Analysis {
            ctx,
            result: KeyResult {
                key: k.key.cloned(),
                valid: Verdict::Valid,
                reasons: Vec::new(),
                updates: 0,
                reads: 0,
                final_reads: 0,
                last_update_at: None,
                final_values: Vec::new(),
                converged_value: None,
                convergence_time: None,
                flip_flop: None,
                detail: KeyDetail::None,
                part: None,
            },
            anomalies: Vec::new(),
            sessions: SessionReport::new(ctx.opts.sessions),
            last_update: None,
            undecided: None,
        }
    }

    /// Records what the model's classification found (how many updates
    /// were not failed, the `ok` reads in invocation order, where the last
    /// update ended) and returns the final reads among those reads.
    pub fn final_reads(
        &mut self,
        updates: usize,
        reads: &[usize],
        last_update: Option<Pos>,
    ) -> Vec<usize> {
        self.result.updates = updates;
        self.result.reads = reads.len();
        self.result.last_update_at = last_update.map(|p| p.clock);
        self.last_update = last_update;
        let finals = self.ctx.final_reads(reads, last_update);
        self.result.final_reads = finals.len();
        finals
    }

    /// Final reads in several groups. `found` is `Ok` with a change
    /// between two of them that no indeterminate update explains, and why
    /// (see [`Change::why`]): the divergence is returned, for the model to
    /// list among its anomalies. It is `Err` with what indeterminate
    /// updates may have taken effect between them: the key is then
    /// undecided.
    pub fn diverged(
        &mut self,
        found: Result<(Change, String), String>,
        describe: impl Fn(usize) -> String,
    ) -> Option<Anomaly> {
        match found {
            Ok((change, why)) => Some(self.divergence(change, why, describe)),
            Err(what) => {
                self.undecided = Some(self.undecided(&what));
                None
            }
        }
    }

    /// The divergence shown by `change`.
    fn divergence(
        &self,
        change: Change,
        why: String,
        describe: impl Fn(usize) -> String,
    ) -> Anomaly {
        Anomaly::Divergence {
            key: self.result.key.clone(),
            values: self
                .result
                .final_values
                .iter()
                .map(|g| (g.value.clone(), g.replicas.clone()))
                .collect(),
            reads: [change.from, change.to]
                .into_iter()
                .map(|r| self.ctx.read_view(r, describe(r)))
                .collect(),
            why,
        }
    }

    /// Why final reads that differ are not judged: indeterminate updates,
    /// `what`, may have taken effect between them.
    fn undecided(&self, what: &str) -> String {
        format!(
            "final reads differ ({}), but {what} may have taken effect between them: whether the replicas disagreed cannot be judged",
            self.result
                .final_values
                .iter()
                .map(|g| format!("{} from {}", short(&g.value), g.replicas.join(", ")))
                .collect::<Vec<_>>()
                .join("; ")
        )
    }

    /// Final reads in one group: the key converged on its value. `reads`
    /// are the key's `ok` reads in invocation order, each with whether it
    /// agreed with that value; from them, the time the key took to settle
    /// after its last update, and its first flip-flop that
    /// `explained(agreed, diverged)` does not excuse (see [`settling`]).
    /// `element` names what a flip-flop's diverging read differs in, for
    /// models with elements. Returns how many reads after the last update
    /// disagreed.
    pub fn converged(
        &mut self,
        reads: impl Iterator<Item = (usize, bool)>,
        explained: impl Fn(usize, usize) -> bool,
        describe: impl Fn(usize) -> String,
        element: impl FnOnce(usize) -> Option<Value>,
    ) -> usize {
        self.result.converged_value = Some(self.result.final_values[0].value.clone());
        let s = settling(self.ctx, reads, self.last_update, explained);
        self.result.convergence_time = Some(s.time);
        self.result.flip_flop = s.flip.map(|(a, d)| FlipFlop {
            element: element(d),
            agreed: self.ctx.read_view(a, describe(a)),
            diverged: self.ctx.read_view(d, describe(d)),
        });
        s.disagreeing
    }

    /// Judges the session guarantees, when they are asked for, on what
    /// `events` gives; `Err` says why the model cannot judge them soundly
    /// on this key. A key without `ok` reads has nothing to judge.
    pub fn sessions<T>(
        &mut self,
        events: impl FnOnce() -> Result<T, &'static str>,
        judge: impl FnOnce(T, &mut SessionReport),
    ) {
        if self.ctx.opts.sessions == SessionMode::Off {
            return;
        }
        match events() {
            Err(why) => self.sessions.not_judged(why),
            Ok(_) if self.result.reads == 0 => self.sessions.not_judged("no ok reads"),
            Ok(events) => judge(events, &mut self.sessions),
        }
    }

    /// Settles the verdict, with the model's `detail`: invalid with the
    /// first anomalies as reasons, else unknown when no read was final
    /// (never valid without final reads) or when the final reads were
    /// undecided, else valid.
    pub fn finish(mut self, detail: KeyDetail) -> KeyOutcome {
        let unknown = if self.result.final_reads == 0 {
            Some(
                self.ctx
                    .no_final_reason(self.result.reads, self.result.last_update_at),
            )
        } else {
            self.undecided.take()
        };
        self.conclude(detail, unknown)
    }

    /// Settles the verdict, with the model's `detail`: invalid with the
    /// first anomalies as reasons, else unknown when `unknown` says why,
    /// else valid.
    pub fn conclude(mut self, detail: KeyDetail, unknown: Option<String>) -> KeyOutcome {
        if !self.anomalies.is_empty() {
            self.result.valid = Verdict::Invalid;
            for a in self.anomalies.iter().take(self.ctx.opts.max_examples) {
                self.result.reasons.push(reason(a));
            }
        } else if let Some(why) = unknown {
            self.result.valid = Verdict::Unknown;
            self.result.reasons.push(why);
        }
        self.result.detail = detail;
        (self.result, self.anomalies, self.sessions)
    }
}

/// After the last update of a key: how long it took to converge, and the
/// first flip-flop.
struct Settling {
    /// From the last update ending to the completion of the last read that
    /// disagreed with the converged value (0 when none did).
    time: i64,
    /// Reads after the last update that disagreed.
    disagreeing: usize,
    /// The first (agreeing, later disagreeing) pair of reads that no
    /// indeterminate update explains.
    flip: Option<(usize, usize)>,
}

/// How a key settled after its last update, from its `ok` reads in
/// invocation order, each with whether it agreed with the converged
/// value. A flip-flop counts only when `explained(agreed, diverged)` is
/// false: no indeterminate update may have changed the one's state into
/// the other's.
fn settling(
    ctx: &Ctx<'_>,
    reads: impl Iterator<Item = (usize, bool)>,
    last_update: Option<Pos>,
    explained: impl Fn(usize, usize) -> bool,
) -> Settling {
    let start = last_update.map_or_else(|| ctx.at(0), |p| p.clock);
    let mut out = Settling {
        time: 0,
        disagreeing: 0,
        flip: None,
    };
    let mut agreed: Option<usize> = None;
    for (id, agrees) in reads {
        let o = ctx.op(id);
        if Some(ctx.pos(o.invoke)) <= last_update {
            continue;
        }
        if agrees {
            agreed.get_or_insert(id);
            continue;
        }
        out.disagreeing += 1;
        let end = ctx.completed(id).unwrap_or(start);
        out.time = out.time.max(end - start);
        if let (Some(a), None) = (agreed, out.flip) {
            if o.invoke > ctx.op(a).response() && !explained(a, id) {
                out.flip = Some((a, id));
            }
        }
    }
    out
}

/// An anomaly in a sentence, for a key's reasons.
pub(crate) fn reason(a: &Anomaly) -> String {
    match a {
        Anomaly::Divergence { values, why, .. } => format!(
            "final reads diverged: {} ({why})",
            values
                .iter()
                .map(|(v, r)| format!("{} from {}", short(v), r.join(", ")))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        Anomaly::FailedButPresent { value, read, .. } => format!(
            "{} was read by process {}, though every add of it failed",
            short(value),
            read.op.process
        ),
        Anomaly::LostUpdate {
            value,
            lost,
            lost_count,
            ..
        } => format!(
            "replicas converged on {value}, losing {lost_count} acknowledged write(s) that came after it in real time, such as `{}` by process {}",
            lost.op, lost.process
        ),
        Anomaly::Unexplained { value, why, read, .. } => {
            format!("read of {} by process {}: {why}", short(value), read.op.process)
        }
        Anomaly::Lost { value, why, .. } => format!("{} lost: {why}", short(value)),
        Anomaly::Duplicated {
            value,
            enqueued,
            dequeued,
            ..
        } => format!("{value} dequeued {dequeued} times but enqueued {enqueued}"),
        Anomaly::OutOfBounds {
            read,
            value,
            lower,
            upper,
            is_final,
            ..
        } => format!(
            "{}read of {value} by process {} outside [{lower}, {upper}]",
            if *is_final { "final " } else { "" },
            read.op.process
        ),
    }
}
