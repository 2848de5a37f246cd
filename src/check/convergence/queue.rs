//! Queues (per key), after Jepsen's `total-queue` checker: every
//! acknowledged enqueue is dequeued exactly once.
//!
//! Ops: `enqueue` (`enq`, `offer`, `push`) with the item as input;
//! `dequeue` (`deq`, `poll`, `pop`) returning an item, or `nil` (or an
//! empty collection) when the queue was empty; `drain` returning a
//! collection of items. Order is not judged here (that is
//! linearizability's job); counts are:
//!
//! - **unexpected**: an item dequeued that no enqueue attempted;
//! - **duplicated**: an item dequeued more often than it was attempted
//!   (acknowledged plus indeterminate enqueues);
//! - **lost**: acknowledged enqueues never dequeued. Judged only when the
//!   queue was seen empty at the end: an `ok` drain, or an `ok` dequeue
//!   that found it empty, final under the final-read rule. An
//!   indeterminate dequeue may have consumed one item, so losses are
//!   definite only when they outnumber the indeterminate dequeues (and
//!   there is no indeterminate drain); otherwise they are reported as
//!   possible and the key is unknown;
//! - **recovered**: items of indeterminate enqueues that were dequeued
//!   (informational).

use super::skeleton::Analysis;
use super::{Anomaly, Ctx, FxMap, KeyDetail, KeyOps, KeyOutcome, Pos};
use crate::history::{Outcome, Value};
use serde::Serialize;

/// Queue findings for one key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct QueueDetail {
    /// Enqueue attempts (not failed).
    pub enqueues: usize,
    /// Of which acknowledged.
    pub acknowledged: usize,
    /// Items dequeued (by dequeues and drains).
    pub dequeued: usize,
    /// Dequeues and drains of unknown outcome.
    pub indeterminate_dequeues: usize,
    /// Was the queue seen empty by a final dequeue or drain?
    pub drained: bool,
    /// Acknowledged enqueues never dequeued.
    pub lost: Vec<Value>,
    /// Items dequeued more often than enqueued.
    pub duplicated: Vec<Value>,
    /// Items dequeued but never enqueued.
    pub unexpected: Vec<Value>,
    /// Items of indeterminate enqueues that were dequeued.
    pub recovered: Vec<Value>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Enqueue,
    Dequeue,
    Drain,
    Other,
}

fn kind(f: &str) -> Kind {
    match f {
        "enqueue" | "enq" | "offer" | "push" => Kind::Enqueue,
        "dequeue" | "deq" | "poll" | "pop" => Kind::Dequeue,
        "drain" => Kind::Drain,
        _ => Kind::Other,
    }
}

#[derive(Default)]
struct Item {
    ok: usize,
    info: usize,
    dequeued: usize,
    enqueue: Option<usize>,
    dequeue: Option<usize>,
}

/// A key's operations as the queue sees them.
struct Ops<'a> {
    /// What happened to each item.
    items: FxMap<&'a Value, Item>,
    /// The items, in order of first appearance.
    order: Vec<&'a Value>,
    /// The queue's reads: `ok` drains, and `ok` dequeues that found it
    /// empty.
    empties: Vec<usize>,
    /// A drain's outcome is unknown.
    indeterminate_drain: bool,
    /// Where the last enqueue ended.
    last_update: Option<Pos>,
}

impl<'a> Ops<'a> {
    /// The item `v`, first seen now if it is new.
    fn item(&mut self, v: &'a Value) -> &mut Item {
        self.items.entry(v).or_insert_with(|| {
            self.order.push(v);
            Item::default()
        })
    }
}

/// Sorts a key's operations into enqueues and dequeues, counting them in
/// `d`.
fn classify<'a>(ctx: &Ctx<'a>, k: &KeyOps<'_>, d: &mut QueueDetail) -> Ops<'a> {
    let mut ops = Ops {
        items: FxMap::default(),
        order: Vec::new(),
        empties: Vec::new(),
        indeterminate_drain: false,
        last_update: None,
    };
    for &id in &k.ids {
        let o = ctx.op(id);
        match kind(ctx.f(id)) {
            Kind::Enqueue if o.outcome != Outcome::Fail => {
                ops.last_update = ops.last_update.max(Some(ctx.ended(id)));
                let it = ops.item(ctx.input(id));
                d.enqueues += 1;
                if o.outcome == Outcome::Ok {
                    d.acknowledged += 1;
                    it.ok += 1;
                    it.enqueue = Some(id);
                } else {
                    it.info += 1;
                    it.enqueue.get_or_insert(id);
                }
            }
            kd @ (Kind::Dequeue | Kind::Drain) => match o.outcome {
                Outcome::Fail => {}
                Outcome::Info => {
                    d.indeterminate_dequeues += 1;
                    ops.indeterminate_drain |= kd == Kind::Drain;
                }
                Outcome::Ok => {
                    let got = dequeued(ctx, id, kd);
                    if got.is_empty() || kd == Kind::Drain {
                        ops.empties.push(id);
                    }
                    for v in got {
                        let it = ops.item(v);
                        it.dequeued += 1;
                        it.dequeue.get_or_insert(id);
                        d.dequeued += 1;
                    }
                }
            },
            _ => {}
        }
    }
    ops
}

/// The items an `ok` dequeue or drain took: none when it returned `nil`
/// or (a dequeue) an empty collection.
fn dequeued<'a>(ctx: &Ctx<'a>, id: usize, kd: Kind) -> &'a [Value] {
    match (kd, ctx.output(id).unwrap_or(&Value::Nil)) {
        (_, Value::Nil) => &[],
        (Kind::Drain, v) => v.as_collection().unwrap_or(std::slice::from_ref(v)),
        (_, v) => match v.as_collection() {
            Some([]) => &[],
            _ => std::slice::from_ref(v),
        },
    }
}

/// Tallies each item (unexpected, duplicated, recovered, lost) in `d`,
/// with the first `max_examples` unexpected and duplicated items pushed
/// to `anomalies`; returns the lost items, each with its acknowledged
/// enqueue.
fn tally<'a>(
    ctx: &Ctx<'_>,
    key: Option<&Value>,
    ops: &Ops<'a>,
    d: &mut QueueDetail,
    anomalies: &mut Vec<Anomaly>,
) -> Vec<(&'a Value, usize)> {
    let max = ctx.opts.max_examples;
    let mut lost = Vec::new();
    for &v in &ops.order {
        let it = &ops.items[v];
        let attempted = it.ok + it.info;
        if attempted == 0 {
            d.unexpected.push(v.clone());
            if d.unexpected.len() <= max {
                if let Some(q) = it.dequeue {
                    anomalies.push(Anomaly::Unexplained {
                        key: key.cloned(),
                        value: v.clone(),
                        read: ctx.read_view(
                            q,
                            format!(
                                "{} {}",
                                ctx.f(q),
                                super::short(ctx.output(q).unwrap_or(&Value::Nil))
                            ),
                        ),
                        why: "dequeued, but never enqueued".into(),
                    });
                }
            }
            continue;
        }
        if it.dequeued > attempted {
            d.duplicated.push(v.clone());
            if d.duplicated.len() <= max {
                anomalies.push(Anomaly::Duplicated {
                    key: key.cloned(),
                    value: v.clone(),
                    enqueued: attempted,
                    dequeued: it.dequeued,
                });
            }
        }
        if it.info > 0 && it.dequeued > 0 {
            d.recovered.push(v.clone());
        }
        if it.ok > it.dequeued {
            d.lost.push(v.clone());
            if let Some(e) = it.enqueue {
                lost.push((v, e));
            }
        }
    }
    lost
}

/// Judges the `lost` items (see the module docs): pushed to `anomalies`
/// when the queue was drained and the indeterminate dequeues cannot have
/// taken them, else why the losses cannot be judged.
fn losses(
    ctx: &Ctx<'_>,
    key: Option<&Value>,
    lost: &[(&Value, usize)],
    indeterminate_drain: bool,
    d: &QueueDetail,
    anomalies: &mut Vec<Anomaly>,
) -> Option<String> {
    if d.lost.is_empty() {
        return None;
    }
    if !d.drained {
        return Some(format!(
            "{} acknowledged enqueue(s) never dequeued, but the queue was never seen empty after the last enqueue: losses cannot be judged",
            d.lost.len()
        ));
    }
    if indeterminate_drain || d.lost.len() <= d.indeterminate_dequeues {
        return Some(format!(
            "{} acknowledged enqueue(s) never dequeued, but {} indeterminate dequeue(s) or drain(s) may have consumed them",
            d.lost.len(),
            d.indeterminate_dequeues
        ));
    }
    let why = if d.indeterminate_dequeues > 0 {
        format!(
            "acknowledged, never dequeued, and the queue was drained ({} losses outnumber {} indeterminate dequeues)",
            d.lost.len(),
            d.indeterminate_dequeues
        )
    } else {
        "acknowledged, never dequeued, and the queue was drained".to_string()
    };
    for &(v, e) in lost.iter().take(ctx.opts.max_examples) {
        anomalies.push(Anomaly::Lost {
            key: key.cloned(),
            value: v.clone(),
            update: ctx.view(e, format!("enqueue {v}")),
            missing_from: None,
            why: why.clone(),
        });
    }
    None
}

pub(crate) fn analyse(ctx: &Ctx<'_>, k: &KeyOps<'_>) -> KeyOutcome {
    let mut a = Analysis::new(ctx, k);
    let mut d = QueueDetail::default();
    let ops = classify(ctx, k, &mut d);
    // The queue's final reads are those that saw it empty; they have no
    // state to group, so there is no divergence to judge.
    let finals = a.final_reads(d.enqueues, &ops.empties, ops.last_update);
    d.drained = !finals.is_empty();
    let lost = tally(ctx, k.key, &ops, &mut d, &mut a.anomalies);
    let unknown = losses(
        ctx,
        k.key,
        &lost,
        ops.indeterminate_drain,
        &d,
        &mut a.anomalies,
    );
    let unknown = unknown.or_else(|| {
        (!d.drained).then(|| {
            "the queue was never seen empty (drain, or a dequeue of nothing) after the last enqueue"
                .to_string()
        })
    });
    a.sessions(
        || Err::<(), _>("session guarantees are not defined for queues"),
        |_, _| {},
    );
    a.conclude(KeyDetail::Queue(d), unknown)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::*;
    use super::QueueDetail;
    use crate::check::Verdict;
    use crate::model::ModelKind;

    fn run(h: &H) -> ConvergenceReport {
        check(
            &h.build(),
            ModelKind::UnorderedQueue,
            &ModelOptions::default(),
            &ConvergenceOptions::default(),
        )
    }

    fn detail(r: &ConvergenceReport) -> &QueueDetail {
        match &r.keys[0].detail {
            KeyDetail::Queue(d) => d,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn drained_queue_is_valid() {
        let mut h = H::new();
        h.call(0, "enqueue", int(1), int(1));
        h.call(0, "enqueue", int(2), int(2));
        h.call(1, "dequeue", nil(), int(1));
        h.call(1, "drain", nil(), Value::Vector(vec![int(2)]));
        let r = run(&h);
        assert_eq!(r.valid, Verdict::Valid, "{:?}", r.reasons);
        assert!(detail(&r).drained);
    }

    #[test]
    fn lost_duplicated_unexpected() {
        let mut h = H::new();
        h.call(0, "enqueue", int(1), int(1));
        h.call(0, "enqueue", int(2), int(2));
        h.call(1, "dequeue", nil(), int(2));
        h.call(1, "dequeue", nil(), int(2));
        h.call(1, "dequeue", nil(), int(7));
        h.call(1, "dequeue", nil(), nil());
        let r = run(&h);
        assert_eq!(r.valid, Verdict::Invalid);
        let d = detail(&r);
        assert_eq!(d.lost, vec![int(1)]);
        assert_eq!(d.duplicated, vec![int(2)]);
        assert_eq!(d.unexpected, vec![int(7)]);
        assert_eq!(r.anomalies.len(), 3);
    }

    #[test]
    fn undrained_or_indeterminate_losses_are_unknown() {
        let mut h = H::new();
        h.call(0, "enqueue", int(1), int(1));
        let r = run(&h);
        assert_eq!(r.valid, Verdict::Unknown);
        h.invoke(1, "dequeue", nil());
        h.info(1, "dequeue", nil());
        h.call(1, "drain", nil(), Value::Vector(vec![]));
        let r = run(&h);
        assert_eq!(r.valid, Verdict::Unknown, "{:?}", r.reasons);
        assert_eq!(detail(&r).lost, vec![int(1)]);
    }

    #[test]
    fn mutex_has_no_convergence() {
        let mut h = H::new();
        h.call(0, "acquire", nil(), nil());
        let r = check(
            &h.build(),
            ModelKind::Mutex,
            &ModelOptions::default(),
            &ConvergenceOptions::default(),
        );
        assert_eq!(r.valid, Verdict::Unknown);
        assert!(r.reasons[0].contains("not defined"), "{:?}", r.reasons);
    }

    #[test]
    fn empty_dequeue_after_last_enqueue_drains_a_fifo_queue() {
        let mut h = H::new();
        h.call(0, "enqueue", int(1), int(1));
        h.call(1, "dequeue", nil(), int(1));
        h.call(1, "dequeue", nil(), nil());
        let r = check(
            &h.build(),
            ModelKind::FifoQueue,
            &ModelOptions::default(),
            &ConvergenceOptions::default(),
        );
        assert_eq!(r.valid, Verdict::Valid, "{:?}", r.reasons);
        assert!(detail(&r).drained);
    }

    #[test]
    fn recovered_items() {
        let mut h = H::new();
        h.invoke(0, "enqueue", int(1));
        h.info(0, "enqueue", nil());
        h.call(1, "drain", nil(), Value::Vector(vec![int(1)]));
        let r = run(&h);
        assert_eq!(r.valid, Verdict::Valid);
        assert_eq!(detail(&r).recovered, vec![int(1)]);
    }
}
