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
use super::session::{check_scalar, Level, SessionReport};
use super::{empty_result, Anomaly, Ctx, FlipFlop, KeyDetail, KeyOps, KeyResult, Pos};
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

pub(crate) fn analyse(ctx: &Ctx<'_>, k: &KeyOps<'_>) -> (KeyResult, Vec<Anomaly>, SessionReport) {
    let mut d = CounterDetail::default();
    let mut result = empty_result(k.key, KeyDetail::None);
    let mut anomalies = Vec::new();
    let mut sessions = SessionReport::new(ctx.opts.sessions);
    let key = k.key;
    let max = ctx.opts.max_examples;
    let init = ctx.model.initial.as_int().unwrap_or(0);

    let mut incs: Vec<Inc> = Vec::new();
    let mut reads: Vec<(usize, i64)> = Vec::new();
    let mut last_update: Option<Pos> = None;
    // Indeterminate updates whose effect on the count is unknown.
    let mut opaque_pending = false;
    let mut grow_only = true;
    let mut session_events: Vec<(usize, Level)> = Vec::new();
    let mut own: super::FxMap<i64, i64> = Default::default();
    for &id in &k.ids {
        let o = ctx.op(id);
        let kd = kind(ctx.f(id));
        match kd {
            Kind::Read => {
                if let Some(v) = ctx.output(id) {
                    match v.as_int() {
                        Some(x) => {
                            reads.push((id, x));
                            session_events.push((id, Level::Read(x)));
                        }
                        None => d.malformed += 1,
                    }
                }
            }
            _ if o.outcome == Outcome::Fail => {}
            Kind::Other => {
                last_update = last_update.max(Some(ctx.ended(id)));
                opaque_pending |= o.outcome != Outcome::Ok;
            }
            Kind::Inc | Kind::Dec => {
                last_update = last_update.max(Some(ctx.ended(id)));
                let magnitude = match ctx.input(id) {
                    Value::Nil => Some(1),
                    v => v.as_int(),
                };
                let Some(m) = magnitude else {
                    d.malformed += 1;
                    opaque_pending |= o.outcome != Outcome::Ok;
                    continue;
                };
                let delta = if kd == Kind::Dec {
                    m.saturating_neg()
                } else {
                    m
                };
                grow_only &= delta >= 0;
                let ok = o.outcome == Outcome::Ok;
                incs.push(Inc {
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
                    session_events.push((id, Level::Wrote(*s)));
                }
            }
        }
    }
    result.updates = incs.len();
    result.reads = reads.len();
    result.last_update_at = last_update.map(|p| p.clock);

    // may: by invocation (incs are in invocation order); must: acknowledged,
    // by completion.
    let (may_pos, may_neg) = prefix(incs.iter());
    let may_at: Vec<usize> = incs.iter().map(|i| i.invoke).collect();
    let mut acked: Vec<&Inc> = incs.iter().filter(|i| i.ok).collect();
    acked.sort_unstable_by_key(|i| i.complete);
    let (must_pos, must_neg) = prefix(acked.iter().copied());
    let must_at: Vec<usize> = acked.iter().map(|i| i.complete).collect();
    let bounds = |id: usize| -> ((i64, i64), (i64, i64)) {
        let o = ctx.op(id);
        let done = o.complete.unwrap_or(usize::MAX);
        let a = may_at.partition_point(|&inv| inv < done);
        let b = must_at.partition_point(|&c| c < o.invoke);
        let ec = (init + may_neg[a], init + may_pos[a]);
        let strict = (
            init.saturating_add(must_pos[b]).saturating_add(may_neg[a]),
            init.saturating_add(may_pos[a]).saturating_add(must_neg[b]),
        );
        (ec, strict)
    };
    d.final_lower = init + must_pos[acked.len()] + may_neg[incs.len()];
    d.final_upper = init + may_pos[incs.len()] + must_neg[acked.len()];

    let read_ids: Vec<usize> = reads.iter().map(|r| r.0).collect();
    let finals = ctx.final_reads(&read_ids, last_update);
    result.final_reads = finals.len();
    let mut is_final = vec![false; reads.len()];
    {
        let mut j = 0;
        for (i, &id) in read_ids.iter().enumerate() {
            if j < finals.len() && finals[j] == id {
                is_final[i] = true;
                j += 1;
            }
        }
    }
    let describe = |id: usize| format!("read {}", ctx.output(id).unwrap_or(&Value::Nil));
    for (i, &(id, x)) in reads.iter().enumerate() {
        let ((el, eu), (sl, su)) = bounds(id);
        let (lo, hi) = if is_final[i] { (sl, su) } else { (el, eu) };
        if x < lo || x > hi {
            d.out_of_bounds += 1;
            if d.out_of_bounds <= max {
                anomalies.push(Anomaly::OutOfBounds {
                    key: key.cloned(),
                    read: ctx.read_view(id, describe(id)),
                    value: x,
                    lower: lo,
                    upper: hi,
                    is_final: is_final[i],
                });
            }
        } else if x < sl || x > su {
            d.stale_reads += 1;
        }
    }
    let value_of: super::FxMap<usize, i64> = reads.iter().copied().collect();
    result.final_values = ctx.group(&finals, |id| value_of[&id], |&x| Value::Int(x), describe);
    // What the indeterminate increments may add up to.
    let (neg, pos) = incs
        .iter()
        .filter(|i| !i.ok)
        .fold((0i64, 0i64), |(n, p), i| {
            (
                n.saturating_add(i.delta.min(0)),
                p.saturating_add(i.delta.max(0)),
            )
        });
    let within = |c: i64| opaque_pending || (neg <= c && c <= pos);
    let mut undecided = None;
    if result.final_values.len() > 1 {
        let fin: Vec<(usize, i64)> = finals.iter().map(|&r| (r, value_of[&r])).collect();
        match unexplained(ctx, &fin, neg, pos).filter(|_| !opaque_pending) {
            Some(c) => {
                let read =
                    |r: usize| format!("process {} read {}", ctx.op(r).process, value_of[&r]);
                let why = if c.ordered {
                    format!(
                        "{} before {}, and indeterminate increments change the count by {neg} to {pos}",
                        read(c.from),
                        read(c.to)
                    )
                } else {
                    format!(
                        "{} while {}, more apart than indeterminate increments ({neg} to {pos}) explain",
                        read(c.from),
                        read(c.to)
                    )
                };
                anomalies.insert(0, ctx.divergence(&result, c, why, describe));
            }
            None => {
                let what = format!("indeterminate increments (adding {neg} to {pos})");
                undecided = Some(ctx.undecided(&result, &what));
            }
        }
    } else if let Some(g) = result.final_values.first() {
        result.converged_value = Some(g.value.clone());
        let v = g.value.as_int().unwrap_or(0);
        let s = ctx.settling(
            reads.iter().map(|&(id, x)| (id, x == v)),
            last_update,
            |a, d| within(value_of[&d].saturating_sub(value_of[&a])),
        );
        result.convergence_time = Some(s.time);
        result.flip_flop = s.flip.map(|(a, d)| FlipFlop {
            element: None,
            agreed: ctx.read_view(a, describe(a)),
            diverged: ctx.read_view(d, describe(d)),
        });
    }

    ctx.settle(
        &mut result,
        &anomalies,
        !finals.is_empty(),
        reads.len(),
        undecided,
    );

    if ctx.opts.sessions != super::SessionMode::Off {
        if !grow_only {
            sessions.not_judged("the counter is not grow-only (negative increments)");
        } else if reads.is_empty() {
            sessions.not_judged("no ok reads");
        } else {
            check_scalar(ctx, key, &session_events, "value", &mut sessions);
        }
    }
    result.detail = KeyDetail::Counter(d);
    (result, anomalies, sessions)
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
