//! Convergence of counters (per key), after Jepsen's `counter` checker,
//! made sound for negative increments and for real-time windows.
//!
//! Ops: `add`, `increment`, `incr`, `inc` with an integer input (`nil`
//! means 1); `decrement`, `decr`, `dec` subtract their input (`nil` means
//! 1); reads (`read`, `get`, `r`, `final-read`, `final_read`) return an
//! integer. The counter starts at [`ModelOptions::initial`]
//! (crate::model::ModelOptions) when that is an integer, else 0.
//!
//! A read `R` returns the initial value plus the sum of some set of
//! increments. Which increments may be in it, and which must?
//!
//! - **may**: those not failed and invoked before `R` completed (an
//!   increment invoked later cannot have reached the replica `R` read);
//! - **must** (Jepsen's reading, and for final reads): those acknowledged
//!   before `R` was invoked.
//!
//! With `must ⊆ may`, the sum lies in `[lower, upper]` where `lower` is
//! the positive deltas of *must* plus the negative deltas of *may*, and
//! `upper` the positive deltas of *may* plus the negative deltas of
//! *must*. The interval is a sound necessary condition: a value outside
//! it is impossible; a value inside it might still not be a subset sum
//! when deltas differ (it is never called invalid for that).
//!
//! Final reads must lie in the *must* bounds: outside is lost (below) or
//! invented (above) increments. Other reads need only lie in the bounds
//! with an empty *must* set (eventual consistency lets a replica lag); one
//! that breaks Jepsen's *must* bounds is counted as a *stale read*,
//! informationally.
//!
//! Final reads that differ are divergence only when indeterminate
//! increments cannot explain it (see [`pending`](super::pending)): from a
//! final read to a later one the counter changes by the sum of the
//! indeterminate increments that took effect between them, which lies in
//! `[neg, pos]` (the sums of their negative and of their positive
//! deltas); two overlapping reads, taken in either order, differ by at
//! most `max(pos, -neg)`. The interval is sound, not exact: a difference
//! inside it that is no subset sum leaves the key unknown, never invalid.

use super::pending::Change;
use super::session::{check_scalar, Level};
use super::skeleton::Analysis;
use super::{Anomaly, Ctx, FxMap, KeyDetail, KeyOps, KeyOutcome, Pos};
use crate::history::{Outcome, Value};
use serde::Serialize;

/// Counter findings for one key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CounterDetail {
    /// Increments (not failed).
    pub increments: usize,
    /// Of which acknowledged.
    pub acknowledged: usize,
    /// Ops whose delta or read value was not an integer (left out).
    pub malformed: usize,
    /// The least final value the increments allow.
    pub final_lower: i64,
    /// The greatest final value the increments allow.
    pub final_upper: i64,
    /// Non-final reads outside Jepsen's bounds but within eventual
    /// consistency's (a lagging replica).
    pub stale_reads: usize,
    /// Reads outside every bound.
    pub out_of_bounds: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Inc,
    Dec,
    Read,
    Other,
}

fn kind(f: &str) -> Kind {
    match f {
        "add" | "increment" | "incr" | "inc" => Kind::Inc,
        "decrement" | "decr" | "dec" => Kind::Dec,
        "read" | "get" | "r" | "final-read" | "final_read" => Kind::Read,
        _ => Kind::Other,
    }
}

struct Inc {
    invoke: usize,
    complete: usize,
    delta: i64,
    ok: bool,
}

/// Two final reads (read, value) whose difference no indeterminate
/// increments explain, given the sums `neg` and `pos` of their negative
/// and positive deltas (see the module docs).
fn unexplained(ctx: &Ctx<'_>, finals: &[(usize, i64)], neg: i64, pos: i64) -> Option<Change> {
    let precedes = |a: usize, b: usize| ctx.op(a).complete < Some(ctx.op(b).invoke);
    let change = |from: usize, to: usize| Change {
        from,
        to,
        ordered: precedes(from, to),
    };
    let lo = *finals.iter().min_by_key(|f| f.1)?;
    let hi = *finals.iter().max_by_key(|f| f.1)?;
    if hi.1.saturating_sub(lo.1) > pos.max(neg.saturating_neg()) {
        return Some(if precedes(hi.0, lo.0) {
            change(hi.0, lo.0)
        } else {
            change(lo.0, hi.0)
        });
    }
    // Reads by completion, with the least and greatest value completed so
    // far: a read's predecessors are a prefix.
    let mut done: Vec<(usize, i64, usize)> = finals
        .iter()
        .map(|&(r, x)| (ctx.op(r).complete.unwrap_or(usize::MAX), x, r))
        .collect();
    done.sort_unstable();
    let mut least = Vec::with_capacity(done.len());
    let mut most = Vec::with_capacity(done.len());
    for &(_, x, r) in &done {
        let l = least
            .last()
            .copied()
            .filter(|&(v, _)| v <= x)
            .unwrap_or((x, r));
        let m = most
            .last()
            .copied()
            .filter(|&(v, _)| v >= x)
            .unwrap_or((x, r));
        least.push(l);
        most.push(m);
    }
    for &(r, y) in finals {
        let n = done.partition_point(|d| d.0 < ctx.op(r).invoke);
        let Some(n) = n.checked_sub(1) else { continue };
        if y.saturating_sub(least[n].0) > pos {
            return Some(change(least[n].1, r));
        }
        if y.saturating_sub(most[n].0) < neg {
            return Some(change(most[n].1, r));
        }
    }
    None
}

/// Prefix sums of positive and negative deltas.
fn prefix<'a>(incs: impl Iterator<Item = &'a Inc>) -> (Vec<i64>, Vec<i64>) {
    let (mut pos, mut neg) = (vec![0i64], vec![0i64]);
    for i in incs {
        let (p, n) = (*pos.last().unwrap_or(&0), *neg.last().unwrap_or(&0));
        pos.push(p.saturating_add(i.delta.max(0)));
        neg.push(n.saturating_add(i.delta.min(0)));
    }
    (pos, neg)
}

/// A key's operations as the counter sees them.
struct Ops {
    /// Increments and decrements (not failed), in invocation order.
    incs: Vec<Inc>,
    /// `ok` reads, with the value read.
    reads: Vec<(usize, i64)>,
    /// Where the last update ended.
    last_update: Option<Pos>,
    /// Some indeterminate update's effect on the count is unknown.
    opaque_pending: bool,
    /// No increment was negative.
    grow_only: bool,
    /// The levels the session guarantees judge, in invocation order.
    session_events: Vec<(usize, Level)>,
}

/// Sorts a key's operations into reads and increments, counting them in
/// `d`; `init` is the counter's initial value.
fn classify(ctx: &Ctx<'_>, k: &KeyOps<'_>, init: i64, d: &mut CounterDetail) -> Ops {
    let mut ops = Ops {
        incs: Vec::new(),
        reads: Vec::new(),
        last_update: None,
        opaque_pending: false,
        grow_only: true,
        session_events: Vec::new(),
    };
    // Each process's own acknowledged increments, from the initial value.
    let mut own: FxMap<i64, i64> = Default::default();
    for &id in &k.ids {
        let o = ctx.op(id);
        let kd = kind(ctx.f(id));
        match kd {
            Kind::Read => match ctx.output(id).map(Value::as_int) {
                Some(Some(x)) => {
                    ops.reads.push((id, x));
                    ops.session_events.push((id, Level::Read(x)));
                }
                Some(None) => d.malformed += 1,
                None => {}
            },
            _ if o.outcome == Outcome::Fail => {}
            Kind::Other => {
                ops.last_update = ops.last_update.max(Some(ctx.ended(id)));
                ops.opaque_pending |= o.outcome != Outcome::Ok;
            }
            Kind::Inc | Kind::Dec => {
                ops.last_update = ops.last_update.max(Some(ctx.ended(id)));
                let Some(delta) = delta(ctx.input(id), kd) else {
                    d.malformed += 1;
                    ops.opaque_pending |= o.outcome != Outcome::Ok;
                    continue;
                };
                ops.grow_only &= delta >= 0;
                let ok = o.outcome == Outcome::Ok;
                ops.incs.push(Inc {
                    invoke: o.invoke,
                    complete: o.response(),
                    delta,
                    ok,
                });
                d.increments += 1;
                if ok {
                    d.acknowledged += 1;
                    let s = own.entry(o.process).or_insert(init);
                    *s = s.saturating_add(delta);
                    ops.session_events.push((id, Level::Wrote(*s)));
                }
            }
        }
    }
    ops
}

/// The change an increment or decrement with `input` makes (`nil`
/// means 1); `None` when the input is no integer.
fn delta(input: &Value, kd: Kind) -> Option<i64> {
    let magnitude = match input {
        Value::Nil => 1,
        v => v.as_int()?,
    };
    Some(if kd == Kind::Dec {
        magnitude.saturating_neg()
    } else {
        magnitude
    })
}

/// The bounds on reads (see the module docs): prefix sums of the positive
/// and negative deltas of the increments that *may* be in a read (by
/// invocation) and of those that *must* (acknowledged, by completion).
struct Bounds {
    init: i64,
    may_pos: Vec<i64>,
    may_neg: Vec<i64>,
    /// Invocation events of the increments, in order.
    may_at: Vec<usize>,
    must_pos: Vec<i64>,
    must_neg: Vec<i64>,
    /// Completion events of the acknowledged increments, in order.
    must_at: Vec<usize>,
}

impl Bounds {
    fn of(incs: &[Inc], init: i64) -> Bounds {
        // incs are in invocation order.
        let (may_pos, may_neg) = prefix(incs.iter());
        let mut acked: Vec<&Inc> = incs.iter().filter(|i| i.ok).collect();
        acked.sort_unstable_by_key(|i| i.complete);
        let (must_pos, must_neg) = prefix(acked.iter().copied());
        Bounds {
            init,
            may_pos,
            may_neg,
            may_at: incs.iter().map(|i| i.invoke).collect(),
            must_pos,
            must_neg,
            must_at: acked.iter().map(|i| i.complete).collect(),
        }
    }

    /// The bounds on read `id`: eventual consistency's (nothing must be in
    /// it), then Jepsen's.
    fn on(&self, ctx: &Ctx<'_>, id: usize) -> ((i64, i64), (i64, i64)) {
        let (init, o) = (self.init, ctx.op(id));
        let done = o.complete.unwrap_or(usize::MAX);
        let a = self.may_at.partition_point(|&inv| inv < done);
        let b = self.must_at.partition_point(|&c| c < o.invoke);
        let ec = (init + self.may_neg[a], init + self.may_pos[a]);
        let strict = (
            init.saturating_add(self.must_pos[b])
                .saturating_add(self.may_neg[a]),
            init.saturating_add(self.may_pos[a])
                .saturating_add(self.must_neg[b]),
        );
        (ec, strict)
    }

    /// The least and greatest final value the increments allow.
    fn on_final(&self) -> (i64, i64) {
        let (may, must) = (self.may_at.len(), self.must_at.len());
        (
            self.init + self.must_pos[must] + self.may_neg[may],
            self.init + self.may_pos[may] + self.must_neg[must],
        )
    }
}

/// A read as evidence.
fn describe_read(ctx: &Ctx<'_>, id: usize) -> String {
    format!("read {}", ctx.output(id).unwrap_or(&Value::Nil))
}

/// Reads outside their bounds, pushed to `anomalies` (the first
/// `max_examples` of them): final reads outside Jepsen's, others outside
/// eventual consistency's; a non-final read outside Jepsen's only is a
/// stale read.
fn out_of_bounds(
    ctx: &Ctx<'_>,
    key: Option<&Value>,
    reads: &[(usize, i64)],
    finals: &[usize],
    bounds: &Bounds,
    d: &mut CounterDetail,
    anomalies: &mut Vec<Anomaly>,
) {
    // Both in invocation order.
    let mut next_final = finals.iter().peekable();
    for &(id, x) in reads {
        let is_final = next_final.next_if(|&&f| f == id).is_some();
        let ((el, eu), (sl, su)) = bounds.on(ctx, id);
        let (lo, hi) = if is_final { (sl, su) } else { (el, eu) };
        if x < lo || x > hi {
            d.out_of_bounds += 1;
            if d.out_of_bounds <= ctx.opts.max_examples {
                anomalies.push(Anomaly::OutOfBounds {
                    key: key.cloned(),
                    read: ctx.read_view(id, describe_read(ctx, id)),
                    value: x,
                    lower: lo,
                    upper: hi,
                    is_final,
                });
            }
        } else if x < sl || x > su {
            d.stale_reads += 1;
        }
    }
}

/// What the indeterminate increments of a key may add up to.
struct Indeterminate {
    /// The sum of their negative deltas.
    neg: i64,
    /// The sum of their positive deltas.
    pos: i64,
    /// One's effect is unknown: they may add up to anything.
    opaque: bool,
}

impl Indeterminate {
    fn of(ops: &Ops) -> Self {
        let (neg, pos) = ops
            .incs
            .iter()
            .filter(|i| !i.ok)
            .fold((0i64, 0i64), |(n, p), i| {
                (
                    n.saturating_add(i.delta.min(0)),
                    p.saturating_add(i.delta.max(0)),
                )
            });
        Indeterminate {
            neg,
            pos,
            opaque: ops.opaque_pending,
        }
    }

    /// May they change the count by `c`?
    fn explain(&self, c: i64) -> bool {
        self.opaque || (self.neg <= c && c <= self.pos)
    }
}

/// Final reads that disagree: the change between two of them that no
/// indeterminate increments explain, with why; else what indeterminate
/// increments may explain every difference.
fn diverged(
    ctx: &Ctx<'_>,
    finals: &[usize],
    value_of: &FxMap<usize, i64>,
    indeterminate: &Indeterminate,
) -> Result<(Change, String), String> {
    let (neg, pos) = (indeterminate.neg, indeterminate.pos);
    let fin: Vec<(usize, i64)> = finals.iter().map(|&r| (r, value_of[&r])).collect();
    match unexplained(ctx, &fin, neg, pos).filter(|_| !indeterminate.opaque) {
        Some(c) => {
            let why = c.why(
                |r| ctx.who_read(r, value_of[&r]),
                &format!("and indeterminate increments change the count by {neg} to {pos}"),
                &format!("more apart than indeterminate increments ({neg} to {pos}) explain"),
            );
            Ok((c, why))
        }
        None => Err(format!("indeterminate increments (adding {neg} to {pos})")),
    }
}

pub(crate) fn analyse(ctx: &Ctx<'_>, k: &KeyOps<'_>) -> KeyOutcome {
    let mut a = Analysis::new(ctx, k);
    let mut d = CounterDetail::default();
    let init = ctx.model.initial.as_int().unwrap_or(0);
    let ops = classify(ctx, k, init, &mut d);
    let bounds = Bounds::of(&ops.incs, init);
    (d.final_lower, d.final_upper) = bounds.on_final();

    let read_ids: Vec<usize> = ops.reads.iter().map(|r| r.0).collect();
    let finals = a.final_reads(ops.incs.len(), &read_ids, ops.last_update);
    let describe = |id: usize| describe_read(ctx, id);
    out_of_bounds(
        ctx,
        k.key,
        &ops.reads,
        &finals,
        &bounds,
        &mut d,
        &mut a.anomalies,
    );
    let value_of: FxMap<usize, i64> = ops.reads.iter().copied().collect();
    a.result.final_values = ctx.group(&finals, |id| value_of[&id], |&x| Value::Int(x), describe);
    let indeterminate = Indeterminate::of(&ops);
    if a.result.final_values.len() > 1 {
        let found = diverged(ctx, &finals, &value_of, &indeterminate);
        // The divergence leads the reads out of bounds.
        if let Some(divergence) = a.diverged(found, describe) {
            a.anomalies.insert(0, divergence);
        }
    } else if !a.result.final_values.is_empty() {
        let v = value_of[&finals[0]];
        a.converged(
            ops.reads.iter().map(|&(id, x)| (id, x == v)),
            |agreed, diverged| {
                indeterminate.explain(value_of[&diverged].saturating_sub(value_of[&agreed]))
            },
            describe,
            |_| None,
        );
    }
    a.sessions(
        || {
            if ops.grow_only {
                Ok(&ops.session_events)
            } else {
                Err("the counter is not grow-only (negative increments)")
            }
        },
        |events, s| check_scalar(ctx, k.key, events, "value", s),
    );
    a.finish(KeyDetail::Counter(d))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::*;
    use super::CounterDetail;
    use crate::check::Verdict;
    use crate::model::ModelKind;

    fn run(h: &H, settle: u64) -> ConvergenceReport {
        check(
            &h.build(),
            ModelKind::Counter,
            &ModelOptions::default(),
            &ConvergenceOptions {
                settle,
                ..Default::default()
            },
        )
    }

    fn detail(r: &ConvergenceReport) -> &CounterDetail {
        match &r.keys[0].detail {
            KeyDetail::Counter(d) => d,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn converged_counter_is_valid() {
        let mut h = H::new();
        h.call(0, "add", int(2), int(2));
        h.invoke(1, "add", int(3));
        h.info(1, "add", nil());
        h.call(0, "read", nil(), int(5));
        h.call(2, "read", nil(), int(5));
        let r = run(&h, 0);
        assert_eq!(r.valid, Verdict::Valid, "{:?}", r.reasons);
        assert_eq!((detail(&r).final_lower, detail(&r).final_upper), (2, 5));
    }

    #[test]
    fn final_read_below_acknowledged_sum_is_invalid() {
        let mut h = H::new();
        h.call(0, "add", int(2), int(2));
        h.call(1, "add", int(3), int(3));
        h.call(0, "read", nil(), int(2));
        let r = run(&h, 0);
        assert_eq!(r.valid, Verdict::Invalid);
        assert!(matches!(
            &r.anomalies[..],
            [Anomaly::OutOfBounds {
                value: 2,
                lower: 5,
                upper: 5,
                is_final: true,
                ..
            }]
        ));
    }

    #[test]
    fn invented_increments_are_invalid() {
        let mut h = H::new();
        h.call(0, "add", int(1), int(1));
        h.call(1, "read", nil(), int(2)); // not final is still bounded above
        h.call(0, "add", int(1), int(1));
        h.call(1, "read", nil(), int(2));
        let r = run(&h, 0);
        assert_eq!(r.valid, Verdict::Invalid);
        assert!(matches!(
            &r.anomalies[..],
            [Anomaly::OutOfBounds {
                value: 2,
                upper: 1,
                is_final: false,
                ..
            }]
        ));
    }

    #[test]
    fn negative_increments_bound_soundly() {
        let mut h = H::new();
        h.call(0, "add", int(5), int(5));
        h.invoke(1, "add", int(-3));
        h.info(1, "add", nil());
        h.call(2, "read", nil(), int(2)); // -3 may have applied
        h.call(2, "read", nil(), int(5)); // or not
        h.call(2, "read", nil(), int(1)); // below any subset
        let r = run(&h, 0);
        assert_eq!(r.valid, Verdict::Invalid);
        assert_eq!(detail(&r).out_of_bounds, 1);
        assert!(r.anomalies.iter().any(|a| matches!(
            a,
            Anomaly::OutOfBounds {
                value: 1,
                lower: 2,
                upper: 5,
                ..
            }
        )));
    }

    #[test]
    fn concurrent_increment_may_be_seen() {
        let mut h = H::new();
        h.invoke(0, "add", int(1));
        h.invoke(1, "read", nil());
        h.ok(1, "read", int(1));
        h.ok(0, "add", int(1));
        h.call(1, "read", nil(), int(1));
        assert_eq!(run(&h, 0).valid, Verdict::Valid);
    }

    #[test]
    fn lagging_read_is_stale_not_invalid() {
        let mut h = H::new();
        h.call(0, "incr", nil(), nil());
        h.call(1, "read", nil(), int(0)); // lags
        h.call(1, "read", nil(), int(1));
        let r = run(&h, 2);
        assert_eq!(r.valid, Verdict::Valid, "{:?}", r.reasons);
        assert_eq!(detail(&r).stale_reads, 1);
        assert_eq!(r.keys[0].final_reads, 1);
        // another process's increment: no session guarantee covers it
        assert_eq!(r.sessions.read_your_writes.violations, 0);
        assert_eq!(r.sessions.monotonic_reads.violations, 0);
    }

    #[test]
    fn sessions_on_grow_only_counter() {
        let mut h = H::new();
        h.call(0, "add", int(1), int(1));
        h.call(0, "read", nil(), int(0)); // misses own increment
        h.call(1, "read", nil(), int(1));
        h.call(1, "read", nil(), int(0)); // goes back
        h.call(0, "read", nil(), int(1));
        h.call(1, "read", nil(), int(1));
        let r = run(&h, 7);
        assert_eq!(r.valid, Verdict::Valid, "{:?}", r.reasons);
        assert_eq!(r.sessions.read_your_writes.violations, 1);
        assert_eq!(r.sessions.monotonic_reads.violations, 1);
        assert_eq!(r.sessions.monotonic_reads.examples[0].first.id, 2);
        let mut h = H::new();
        h.call(0, "add", int(-1), int(-1));
        h.call(0, "read", nil(), int(-1));
        let r = run(&h, 0);
        assert_eq!(r.sessions.monotonic_reads.not_judged_keys, 1);
    }

    #[test]
    fn divergent_counter() {
        let mut h = H::new();
        h.invoke(0, "add", int(1));
        h.info(0, "add", nil());
        h.call(1, "read", nil(), int(1));
        h.call(2, "read", nil(), int(0));
        let r = run(&h, 0);
        assert_eq!(r.valid, Verdict::Invalid);
        assert!(matches!(&r.anomalies[0], Anomaly::Divergence { .. }));
    }

    #[test]
    fn an_indeterminate_increment_may_explain_final_reads_that_differ() {
        let mut h = H::new();
        h.call(0, "add", int(1), int(1));
        h.invoke(1, "add", int(2));
        h.info(1, "add", nil());
        h.call(2, "read", nil(), int(1));
        h.call(3, "read", nil(), int(3)); // the crashed add took effect
        let r = run(&h, 0);
        assert_eq!(r.valid, Verdict::Unknown, "{:?}", r.reasons);
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
        assert!(r.reasons[0].contains("indeterminate"), "{:?}", r.reasons);
        // Concurrent reads 2 apart: the crashed add of 2 explains them too.
        let mut h = H::new();
        h.call(0, "add", int(1), int(1));
        h.invoke(1, "add", int(2));
        h.info(1, "add", nil());
        h.invoke(2, "read", nil());
        h.invoke(3, "read", nil());
        h.ok(2, "read", int(3));
        h.ok(3, "read", int(1));
        assert_eq!(run(&h, 0).valid, Verdict::Unknown);
    }
}
