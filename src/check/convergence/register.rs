//! Convergence of registers, cas-registers and kv maps (per key).
//!
//! Ops: reads (`read`, `get`, `r`, `final-read`, `final_read`) return the
//! value; writes (`write`, `put`, `w`, `set`) write their input; `cas`
//! (`compare-and-set`) with input `[old new]` writes `new`. Any other `f`
//! (`append`, `incr`, ...) is an update whose resulting value is unknown:
//! the key is then judged on agreement only. A value map with `value` and
//! `version` entries stands for its `value` (its version feeds the session
//! checks). With [`ModelOptions::nil_read_observes_nothing`]
//! (crate::model::ModelOptions), `nil` reads are left out.
//!
//! Findings, per key:
//!
//! - **divergence**: final reads returned different values, and no
//!   effect times of the indeterminate updates explain it (see
//!   [`pending`](super::pending)): a value read after another is
//!   explained by an indeterminate write or cas of it, which may have
//!   taken effect between the two reads; when every difference is
//!   explained the key is unknown;
//! - **unexplained**: a read returned a value no write (ok or
//!   indeterminate) wrote and that is not the initial value, or a value
//!   whose every write was invoked only after the read had completed;
//! - **lost update**: the converged value `v` was written, and an
//!   acknowledged write of another value was invoked after every write of
//!   `v` had completed (or `v` is the initial value and was never written,
//!   while some write was acknowledged). In real time the other write
//!   came last, so a store that converges on `v` lost it: the
//!   last-write-wins-with-skewed-clocks failure. Indeterminate writes of
//!   `v` may have taken effect at any later time, so they shield `v`.

use super::pending::{self, Change, Class};
use super::session::{check_scalar, Level};
use super::skeleton::Analysis;
use super::{Anomaly, Ctx, FxMap, KeyDetail, KeyOps, KeyOutcome, Pos};
use crate::history::{Outcome, Value};
use crate::model::ModelOptions;
use serde::Serialize;

/// Register findings for one key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RegisterDetail {
    /// Writes and cas (not failed).
    pub writes: usize,
    /// Of which acknowledged.
    pub acknowledged: usize,
    /// Updates whose resulting value is unknown (`append`, ...).
    pub opaque_updates: usize,
    /// Reads after the last update that disagreed with the converged value.
    pub disagreeing_reads_after_last_update: usize,
    /// Acknowledged writes lost (see the module docs).
    pub lost_writes: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
    Cas,
    Opaque,
}

fn kind(f: &str) -> Kind {
    match f {
        "read" | "get" | "r" | "final-read" | "final_read" => Kind::Read,
        "write" | "put" | "w" | "set" => Kind::Write,
        "cas" | "compare-and-set" => Kind::Cas,
        _ => Kind::Opaque,
    }
}

/// The register value a value stands for: a `{value, version}` map's
/// value, else itself.
pub(crate) fn unwrap(v: &Value) -> &Value {
    match (v.get("value"), v.get("version")) {
        (Some(x), Some(_)) => x,
        _ => v,
    }
}

/// The version an op's completion carries, if any.
fn version(ctx: &Ctx<'_>, id: usize) -> Option<i64> {
    let o = ctx.op(id);
    let c = &ctx.h.ops[o.complete?];
    c.extra()
        .iter()
        .find(|(k, _)| &**k == "version")
        .and_then(|(_, v)| v.as_int())
        .or_else(|| c.value.get("version").and_then(Value::as_int))
}

/// The value a write or cas writes.
fn written<'a>(ctx: &Ctx<'a>, id: usize, k: Kind) -> Option<&'a Value> {
    let input = ctx.input(id);
    match k {
        Kind::Write => Some(unwrap(input)),
        Kind::Cas => input.as_vector().filter(|v| v.len() == 2).map(|v| &v[1]),
        _ => None,
    }
}

fn reads_nothing(model: &ModelOptions, v: &Value) -> bool {
    model.nil_read_observes_nothing && v.is_nil()
}

/// A key's operations as the register sees them.
struct Ops<'a> {
    /// `ok` reads, with the value read.
    reads: Vec<(usize, &'a Value)>,
    /// Writes, cas and opaque updates (not failed), with the value
    /// written: `None` when it is unknown.
    writes: Vec<(usize, Option<&'a Value>)>,
    /// Where the last update ended.
    last_update: Option<Pos>,
}

/// Sorts a key's operations into reads and updates, counting the updates
/// in `detail`.
fn classify<'a>(ctx: &Ctx<'a>, k: &KeyOps<'_>, detail: &mut RegisterDetail) -> Ops<'a> {
    let mut ops = Ops {
        reads: Vec::new(),
        writes: Vec::new(),
        last_update: None,
    };
    for &id in &k.ids {
        let o = ctx.op(id);
        let kd = kind(ctx.f(id));
        match kd {
            Kind::Read => {
                if let Some(v) = ctx.output(id) {
                    if !reads_nothing(ctx.model, v) {
                        ops.reads.push((id, unwrap(v)));
                    }
                }
            }
            _ if o.outcome == Outcome::Fail => {}
            _ => {
                ops.last_update = ops.last_update.max(Some(ctx.ended(id)));
                if o.outcome == Outcome::Ok {
                    detail.acknowledged += 1;
                }
                // An update whose written value is unknown (another f, or a
                // cas of the wrong shape) makes the key opaque.
                let w = written(ctx, id, kd);
                if w.is_none() {
                    detail.opaque_updates += 1;
                } else {
                    detail.writes += 1;
                }
                ops.writes.push((id, w));
            }
        }
    }
    ops
}

/// What the indeterminate updates of a key may still write.
struct Indeterminate<'a> {
    /// One's effect is unknown: it may write any value.
    opaque: bool,
    /// The values the others write.
    values: FxMap<&'a Value, ()>,
}

impl<'a> Indeterminate<'a> {
    fn of(ctx: &Ctx<'_>, writes: &[(usize, Option<&'a Value>)]) -> Self {
        let indeterminate = |id: usize| ctx.op(id).outcome != Outcome::Ok;
        Indeterminate {
            opaque: writes
                .iter()
                .any(|&(id, w)| w.is_none() && indeterminate(id)),
            values: writes
                .iter()
                .filter(|&&(id, _)| indeterminate(id))
                .filter_map(|&(_, w)| w.map(|w| (w, ())))
                .collect(),
        }
    }

    /// May an indeterminate update write `v`?
    fn writes(&self, v: &Value) -> bool {
        self.opaque || self.values.contains_key(v)
    }
}

pub(crate) fn analyse(ctx: &Ctx<'_>, k: &KeyOps<'_>) -> KeyOutcome {
    let mut a = Analysis::new(ctx, k);
    let mut detail = RegisterDetail::default();
    let Ops {
        reads,
        writes,
        last_update,
    } = classify(ctx, k, &mut detail);
    let key = k.key;
    let describe = |id: usize| {
        format!(
            "{} {}",
            ctx.f(id),
            super::short(ctx.output(id).map_or(&Value::Nil, unwrap))
        )
    };
    // With an update of unknown effect, the key is judged on agreement
    // only.
    let explainable = detail.opaque_updates == 0;
    let by_value = spans(ctx, &writes);
    if explainable {
        unexplained(ctx, key, &reads, &by_value, &describe, &mut a.anomalies);
    }

    let read_ids: Vec<usize> = reads.iter().map(|r| r.0).collect();
    let value_of: FxMap<usize, &Value> = reads.iter().copied().collect();
    let finals = a.final_reads(writes.len(), &read_ids, last_update);
    a.result.final_values = ctx.group(&finals, |r| value_of[&r], |v| (*v).clone(), describe);
    let indeterminate = Indeterminate::of(ctx, &writes);
    if a.result.final_values.len() > 1 {
        let found = diverged(ctx, &finals, &value_of, &indeterminate);
        // The divergence follows the reads no write explains.
        let divergence = a.diverged(found, describe);
        a.anomalies.extend(divergence);
    } else if a.result.final_values.len() == 1 {
        let v = value_of[&finals[0]];
        if explainable {
            detail.lost_writes = lost_updates(ctx, key, v, &writes, &by_value, &mut a.anomalies);
        }
        detail.disagreeing_reads_after_last_update = a.converged(
            reads.iter().map(|&(id, rv)| (id, rv == v)),
            |_, d| indeterminate.writes(value_of[&d]),
            describe,
            |_| None,
        );
    }
    a.sessions(
        || versions(ctx, k),
        |events, s| check_scalar(ctx, key, &events, "version", s),
    );
    a.finish(KeyDetail::Register(detail))
}

/// Values written: the earliest invocation and latest response of their
/// writes (response: the completion event for ok, MAX for indeterminate).
fn spans<'a>(ctx: &Ctx<'_>, writes: &[(usize, Option<&'a Value>)]) -> FxMap<&'a Value, WriteSpan> {
    let mut by_value: FxMap<&Value, WriteSpan> = Default::default();
    for &(id, v) in writes {
        let Some(v) = v else { continue };
        let o = ctx.op(id);
        let resp = o.response();
        let e = by_value.entry(v).or_insert(WriteSpan {
            first_invoke: o.invoke,
            last_response: resp,
            last_writer: id,
        });
        e.first_invoke = e.first_invoke.min(o.invoke);
        if resp >= e.last_response {
            e.last_response = resp;
            e.last_writer = id;
        }
    }

    by_value
}

/// Final reads that disagree: the change between two of them that no
/// indeterminate update explains, with why; else what indeterminate
/// updates may explain every difference.
fn diverged(
    ctx: &Ctx<'_>,
    finals: &[usize],
    value_of: &FxMap<usize, &Value>,
    indeterminate: &Indeterminate<'_>,
) -> Result<(Change, String), String> {
    let value = |r: usize| value_of[&r];
    let classes = Class::group(ctx, finals, value, |v: &&Value| indeterminate.writes(v));
    let just: Vec<Class> = classes.iter().map(|c| c.1).collect();
    match pending::unexplained(&just) {
        Some(c) => {
            let read = |r: usize| ctx.who_read(r, super::short(value(r)));
            let why = c.why(
                read,
                &format!(
                    "and no indeterminate update writes {}",
                    super::short(value(c.to))
                ),
                "and no indeterminate update writes either value",
            );
            Ok((c, why))
        }
        None if indeterminate.opaque => Err("indeterminate updates of unknown effect".to_string()),
        None => {
            let values: Vec<String> = classes
                .iter()
                .filter(|c| c.1.writable)
                .map(|c| super::short(c.0))
                .collect();
            Err(format!(
                "indeterminate updates writing {}",
                values.join(", ")
            ))
        }
    }
}

/// Reads of a value no write explains (see the module docs), pushed to
/// `anomalies` (the first `max_examples` of them).
fn unexplained<'a>(
    ctx: &Ctx<'a>,
    key: Option<&Value>,
    reads: &[(usize, &'a Value)],
    by_value: &FxMap<&Value, WriteSpan>,
    describe: &dyn Fn(usize) -> String,
    anomalies: &mut Vec<Anomaly>,
) {
    let mut reported = 0;
    for &(id, v) in reads {
        let why = match by_value.get(v) {
            None if *v == ctx.model.initial => continue,
            None => "no write wrote this value and it is not the initial value".to_string(),
            Some(span) => {
                let done = ctx.op(id).complete.unwrap_or(usize::MAX);
                if span.first_invoke > done && *v != ctx.model.initial {
                    "every write of this value was invoked after the read completed".to_string()
                } else {
                    continue;
                }
            }
        };
        if reported < ctx.opts.max_examples {
            anomalies.push(Anomaly::Unexplained {
                key: key.cloned(),
                value: v.clone(),
                read: ctx.read_view(id, describe(id)),
                why,
            });
        }
        reported += 1;
    }
}

/// The acknowledged writes lost under the converged value `v` (see the
/// module docs): how many, with the latest pushed to `anomalies`.
fn lost_updates(
    ctx: &Ctx<'_>,
    key: Option<&Value>,
    v: &Value,
    writes: &[(usize, Option<&Value>)],
    by_value: &FxMap<&Value, WriteSpan>,
    anomalies: &mut Vec<Anomaly>,
) -> usize {
    let describe_write = |id: usize| format!("{} {}", ctx.f(id), super::short(ctx.input(id)));
    // Acknowledged writes invoked after event `after` are lost; -1 when
    // the value is the initial one, never written.
    let (after, winner) = match by_value.get(v) {
        Some(span) if span.last_response == usize::MAX => return 0,
        Some(span) => (span.last_response as i64, Some(span.last_writer)),
        None if *v == ctx.model.initial => (-1, None),
        None => return 0,
    };
    let mut lost = 0;
    let mut latest: Option<usize> = None;
    for &(id, w) in writes {
        let o = ctx.op(id);
        if o.outcome == Outcome::Ok && w.is_some_and(|w| w != v) && o.invoke as i64 > after {
            lost += 1;
            latest = Some(id);
        }
    }
    if let Some(l) = latest {
        anomalies.push(Anomaly::LostUpdate {
            key: key.cloned(),
            value: v.clone(),
            lost: ctx.view(l, describe_write(l)),
            winner: winner.map(|w| ctx.view(w, describe_write(w))),
            lost_count: lost,
        });
    }
    lost
}

/// The versions the key's `ok` reads and writes carry, for the session
/// guarantees; why they cannot be judged when a read carries none.
fn versions(ctx: &Ctx<'_>, k: &KeyOps<'_>) -> Result<Vec<(usize, Level)>, &'static str> {
    k.ids
        .iter()
        .filter_map(|&id| {
            let o = ctx.op(id);
            match kind(ctx.f(id)) {
                Kind::Read if o.outcome == Outcome::Ok => {
                    Some(version(ctx, id).map(|v| (id, Level::Read(v))))
                }
                Kind::Write | Kind::Cas if o.outcome == Outcome::Ok => {
                    version(ctx, id).map(|v| Some((id, Level::Wrote(v))))
                }
                _ => None,
            }
        })
        .collect::<Option<Vec<_>>>()
        .ok_or(
            "register reads carry no version ({value, version} map or extra version field): a read of an older value may be of a newer write of the same value",
        )
}

struct WriteSpan {
    first_invoke: usize,
    last_response: usize,
    last_writer: usize,
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::*;
    use crate::check::Verdict;
    use crate::model::ModelKind;

    fn run(h: &H, opts: &ConvergenceOptions) -> ConvergenceReport {
        check(
            &h.build(),
            ModelKind::Register,
            &ModelOptions::default(),
            opts,
        )
    }

    #[test]
    fn converged_register_is_valid() {
        let mut h = H::new();
        h.call(0, "write", int(1), int(1));
        h.call(1, "write", int(2), int(2));
        h.call(0, "read", nil(), int(2));
        h.call(1, "read", nil(), int(2));
        let r = run(&h, &ConvergenceOptions::default());
        assert_eq!(r.valid, Verdict::Valid, "{:?}", r.reasons);
        assert_eq!(r.keys[0].converged_value, Some(int(2)));
        assert_eq!(r.keys[0].final_reads, 2);
        assert_eq!(r.keys[0].convergence_time, Some(0));
    }

    #[test]
    fn only_each_replicas_latest_read_is_final() {
        let mut h = H::new();
        h.call(0, "write", int(1), int(1));
        h.call(0, "write", int(2), int(2));
        h.call(1, "read", nil(), int(1)); // stale, then caught up
        h.call(1, "read", nil(), int(2));
        let r = run(&h, &ConvergenceOptions::default());
        assert_eq!(r.valid, Verdict::Valid, "{:?}", r.reasons);
        assert_eq!(r.keys[0].final_reads, 1);
        assert_eq!(r.keys[0].convergence_time, Some(2));
        assert!(r.final_reads.latest_per_replica);
        let all = ConvergenceOptions {
            latest_per_replica: false,
            ..Default::default()
        };
        assert_eq!(run(&h, &all).valid, Verdict::Invalid);
    }

    #[test]
    fn no_final_reads_is_unknown() {
        let mut h = H::new();
        h.call(0, "read", nil(), nil());
        h.call(0, "write", int(1), int(1));
        let r = run(&h, &ConvergenceOptions::default());
        assert_eq!(r.valid, Verdict::Unknown);
        assert!(
            r.reasons[0].contains("no ok read began after"),
            "{:?}",
            r.reasons
        );
        assert_eq!(r.stats.keys_without_final_reads, 1);
    }

    #[test]
    fn divergent_final_reads_are_invalid_with_replicas() {
        let mut h = H::new();
        h.call(0, "write", int(1), int(1));
        h.invoke(1, "read", nil());
        h.ok(1, "read", int(1)).set_node(Value::Str("n1".into()));
        h.invoke(2, "read", nil());
        h.ok(2, "read", nil()).set_node(Value::Str("n2".into()));
        let r = run(&h, &ConvergenceOptions::default());
        assert_eq!(r.valid, Verdict::Invalid);
        match &r.anomalies[..] {
            [Anomaly::Divergence { values, .. }] => {
                assert_eq!(values.len(), 2);
                assert!(values.contains(&(int(1), vec!["n1".to_string()])));
                assert!(values.contains(&(nil(), vec!["n2".to_string()])));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lost_update_names_lost_write_and_winner() {
        let mut h = H::new();
        h.call(0, "write", int(1), int(1));
        h.call(1, "write", int(2), int(2)); // strictly after write 1
        h.call(0, "read", nil(), int(1));
        h.call(1, "read", nil(), int(1));
        let r = run(&h, &ConvergenceOptions::default());
        assert_eq!(r.valid, Verdict::Invalid);
        match &r.anomalies[..] {
            [Anomaly::LostUpdate {
                lost,
                winner: Some(w),
                lost_count: 1,
                ..
            }] => {
                assert_eq!(lost.op, "write 2");
                assert_eq!(w.op, "write 1");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn failed_writes_are_ignored() {
        let mut h = H::new();
        h.call(0, "write", int(1), int(1));
        h.invoke(1, "write", int(2));
        h.fail(1, "write", int(2));
        h.call(0, "read", nil(), int(1));
        let r = run(&h, &ConvergenceOptions::default());
        assert_eq!(r.valid, Verdict::Valid, "{:?}", r.reasons);
        assert_eq!(r.keys[0].updates, 1);
        h.call(0, "read", nil(), int(2));
        let r = run(&h, &ConvergenceOptions::default());
        assert_eq!(r.valid, Verdict::Invalid);
    }

    #[test]
    fn concurrent_writes_may_converge_either_way() {
        let mut h = H::new();
        h.invoke(0, "write", int(1));
        h.invoke(1, "write", int(2));
        h.ok(0, "write", int(1));
        h.ok(1, "write", int(2));
        h.call(0, "read", nil(), int(1));
        h.call(1, "read", nil(), int(1));
        assert_eq!(
            run(&h, &ConvergenceOptions::default()).valid,
            Verdict::Valid
        );
    }

    #[test]
    fn indeterminate_write_of_the_winner_shields_it() {
        let mut h = H::new();
        h.invoke(0, "write", int(1));
        h.info(0, "write", nil());
        h.call(1, "write", int(2), int(2));
        h.call(2, "read", nil(), int(1));
        assert_eq!(
            run(&h, &ConvergenceOptions::default()).valid,
            Verdict::Valid
        );
    }

    #[test]
    fn initial_value_after_acknowledged_write_is_a_lost_update() {
        let mut h = H::new();
        h.call(0, "write", int(1), int(1));
        h.call(1, "read", nil(), nil());
        let r = run(&h, &ConvergenceOptions::default());
        assert_eq!(r.valid, Verdict::Invalid);
        assert!(matches!(
            &r.anomalies[..],
            [Anomaly::LostUpdate { winner: None, .. }]
        ));
    }

    #[test]
    fn invented_value_is_unexplained() {
        let mut h = H::new();
        h.call(0, "write", int(1), int(1));
        h.call(1, "read", nil(), int(9));
        let r = run(&h, &ConvergenceOptions::default());
        assert_eq!(r.valid, Verdict::Invalid);
        assert!(r
            .anomalies
            .iter()
            .any(|a| matches!(a, Anomaly::Unexplained { value, .. } if *value == int(9))));
    }

    #[test]
    fn reading_from_the_future_is_unexplained() {
        let mut h = H::new();
        h.call(1, "read", nil(), int(1));
        h.call(0, "write", int(1), int(1));
        h.call(1, "read", nil(), int(1));
        let r = run(&h, &ConvergenceOptions::default());
        assert!(r.anomalies.iter().any(|a| matches!(a, Anomaly::Unexplained { why, .. } if why.contains("after the read completed"))));
    }

    #[test]
    fn convergence_time_and_flip_flop() {
        let mut h = H::new();
        h.timed = true;
        h.call(0, "write", int(1), int(1)); // events 0,1: ends at 10
        h.call(1, "read", nil(), int(1)); // 2,3
        h.call(2, "read", nil(), nil()); // 4,5: diverged again, completes at 50
        h.call(1, "read", nil(), int(1)); // 6,7
        let opts = ConvergenceOptions {
            settle: 45,
            ..Default::default()
        };
        let r = run(&h, &opts);
        assert_eq!(r.valid, Verdict::Valid, "{:?}", r.reasons);
        let k = &r.keys[0];
        assert_eq!(k.final_reads, 1);
        assert_eq!(k.convergence_time, Some(40));
        let ff = k.flip_flop.as_ref().unwrap();
        assert_eq!(ff.agreed.op.id, 1);
        assert_eq!(ff.diverged.op.id, 2);
        assert_eq!(r.final_reads.unit, TimeUnit::Nanoseconds);
    }

    #[test]
    fn kv_keys_are_judged_separately() {
        let mut h = H::new();
        h.kcall(0, 1, "put", int(5), int(5));
        h.kcall(1, 2, "put", int(6), int(6));
        h.kcall(0, 1, "get", nil(), int(5));
        h.kcall(1, 2, "get", nil(), int(7));
        let r = check(
            &h.build(),
            ModelKind::Kv,
            &ModelOptions::default(),
            &ConvergenceOptions::default(),
        );
        assert_eq!(r.valid, Verdict::Invalid);
        assert_eq!(r.keys.len(), 2);
        assert_eq!(r.keys[0].valid, Verdict::Valid);
        assert_eq!(r.keys[1].valid, Verdict::Invalid);
        assert_eq!(r.keys[1].key, Some(int(2)));
    }

    #[test]
    fn cas_writes_its_new_value() {
        let mut h = H::new();
        h.call(0, "write", int(1), int(1));
        h.call(
            0,
            "cas",
            Value::Vector(vec![int(1), int(3)]),
            Value::Vector(vec![int(1), int(3)]),
        );
        h.call(1, "read", nil(), int(3));
        let r = check(
            &h.build(),
            ModelKind::CasRegister,
            &ModelOptions::default(),
            &ConvergenceOptions::default(),
        );
        assert_eq!(r.valid, Verdict::Valid, "{:?}", r.reasons);
    }

    #[test]
    fn heal_rule_needs_a_heal() {
        let mut h = H::new();
        h.call(0, "write", int(1), int(1));
        h.nemesis("start");
        h.call(1, "read", nil(), int(1));
        let opts = ConvergenceOptions {
            final_reads: FinalReadRule::AfterHeal,
            ..Default::default()
        };
        let r = run(&h, &opts);
        assert_eq!(r.valid, Verdict::Unknown);
        assert!(r.reasons[0].contains("never healed"), "{:?}", r.reasons);
        h.nemesis("stop");
        let r = run(&h, &opts);
        assert_eq!(r.valid, Verdict::Unknown, "the read came before the heal");
        h.call(1, "read", nil(), int(1));
        let r = run(&h, &opts);
        assert_eq!(r.valid, Verdict::Valid);
        assert_eq!(r.keys[0].final_reads, 1);
        assert_eq!(r.final_reads.last_heal_at, Some(5));
    }

    #[test]
    fn marked_rule_uses_only_marked_reads() {
        let mut h = H::new();
        h.call(0, "write", int(1), int(1));
        h.call(1, "read", nil(), int(2));
        h.call(1, "final-read", nil(), int(1));
        h.invoke(2, "read", nil());
        h.ok(2, "read", int(1))
            .push_extra("final".into(), Value::Bool(true));
        let opts = ConvergenceOptions {
            final_reads: FinalReadRule::Marked,
            ..Default::default()
        };
        let r = run(&h, &opts);
        assert_eq!(r.keys[0].final_reads, 2);
        // the unmarked read of 2 is still unexplained
        assert_eq!(r.valid, Verdict::Invalid);
        assert_eq!(r.keys[0].converged_value, Some(int(1)));
    }

    #[test]
    fn replicas_from_process_mod_nodes() {
        let mut h = H::new();
        h.call(0, "write", int(1), int(1));
        h.call(3, "read", nil(), int(1));
        h.call(4, "read", nil(), int(2));
        let opts = ConvergenceOptions {
            nodes: Some(3),
            ..Default::default()
        };
        let r = run(&h, &opts);
        let reps: Vec<_> = r.keys[0]
            .final_values
            .iter()
            .flat_map(|g| g.replicas.clone())
            .collect();
        assert!(reps.contains(&"n0".to_string()) && reps.contains(&"n1".to_string()));
    }

    #[test]
    fn versioned_reads_judge_sessions() {
        let ver = |v: i64, n: i64| {
            Value::Map(vec![
                (Value::Keyword("value".into()), int(v)),
                (Value::Keyword("version".into()), int(n)),
            ])
        };
        let mut h = H::new();
        h.call(2, "write", int(0), int(0));
        h.invoke(0, "write", int(1));
        h.ok(0, "write", int(1))
            .push_extra("version".into(), int(2));
        h.call(0, "read", nil(), ver(0, 1)); // read-your-writes broken
        h.call(1, "read", nil(), ver(1, 2));
        h.call(1, "read", nil(), ver(0, 1)); // monotonic reads broken
        h.call(1, "read", nil(), ver(1, 2));
        h.call(0, "read", nil(), ver(1, 2));
        let opts = ConvergenceOptions {
            settle: 6,
            ..Default::default()
        };
        let r = run(&h, &opts);
        let s = &r.sessions;
        assert_eq!(s.valid, Verdict::Invalid);
        assert_eq!(s.read_your_writes.violations, 1);
        assert_eq!(
            s.read_your_writes.examples[0].process,
            crate::history::Process::Client(0)
        );
        assert_eq!(s.monotonic_reads.violations, 1);
        assert_eq!(s.monotonic_reads.examples[0].first.id, 3);
        assert_eq!(s.monotonic_reads.examples[0].second.id, 4);
        // sessions are reported, not required, by default
        assert_eq!(r.valid, Verdict::Valid, "{:?}", r.reasons);
        assert_eq!(r.keys[0].final_reads, 2);
        let r = run(
            &h,
            &ConvergenceOptions {
                sessions: SessionMode::Require,
                ..opts
            },
        );
        assert_eq!(r.valid, Verdict::Invalid);
    }

    #[test]
    fn unversioned_registers_are_not_judged_for_sessions() {
        let mut h = H::new();
        h.call(0, "write", int(1), int(1));
        h.call(0, "read", nil(), int(1));
        let r = run(&h, &ConvergenceOptions::default());
        assert_eq!(r.sessions.valid, Verdict::Unknown);
        assert_eq!(r.sessions.monotonic_reads.not_judged_keys, 1);
        assert!(r.sessions.monotonic_reads.not_judged_reasons[0].contains("no version"));
    }

    #[test]
    fn a_read_begun_when_the_last_update_ended_is_final() {
        // A coarse clock: the write completes at 10, and the read begins
        // at 10, after it in the file.
        let mut h = H::new();
        h.call(0, "write", int(1), int(1));
        h.call(1, "read", nil(), int(1));
        let r = check(
            &h.build_timed(|i| [0, 10, 10, 20][i]),
            ModelKind::Register,
            &ModelOptions::default(),
            &ConvergenceOptions::default(),
        );
        assert_eq!(r.valid, Verdict::Valid, "{:?}", r.reasons);
        assert_eq!(r.keys[0].final_reads, 1);
    }

    #[test]
    fn a_crashed_write_may_explain_final_reads_that_differ() {
        // etcd's shape: 3 is read, then 4, and a crashed write of 4 may
        // have taken effect between the two reads.
        let mut h = H::new();
        h.call(0, "write", int(3), int(3));
        h.invoke(1, "write", int(4));
        h.info(1, "write", nil());
        h.call(2, "read", nil(), int(3));
        h.call(3, "read", nil(), int(4));
        let r = run(&h, &ConvergenceOptions::default());
        assert_eq!(r.valid, Verdict::Unknown, "{:?}", r.reasons);
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
        assert!(r.reasons[0].contains("indeterminate"), "{:?}", r.reasons);
        assert_eq!(r.keys[0].final_values.len(), 2);
    }

    #[test]
    fn final_reads_no_indeterminate_update_explains_diverged() {
        // 4 is read before 3, and nothing left indeterminate writes 3.
        let mut h = H::new();
        h.call(0, "write", int(3), int(3));
        h.invoke(1, "write", int(4));
        h.info(1, "write", nil());
        h.call(3, "read", nil(), int(4));
        h.call(2, "read", nil(), int(3));
        let r = run(&h, &ConvergenceOptions::default());
        assert_eq!(r.valid, Verdict::Invalid, "{:?}", r.reasons);
        assert!(matches!(&r.anomalies[..], [Anomaly::Divergence { .. }]));
        // Two values no indeterminate update writes, read concurrently.
        let mut h = H::new();
        h.call(0, "write", int(3), int(3));
        h.invoke(1, "write", int(4));
        h.info(1, "write", nil());
        h.invoke(2, "read", nil());
        h.invoke(3, "read", nil());
        h.ok(2, "read", int(3));
        h.ok(3, "read", int(5));
        assert_eq!(
            run(&h, &ConvergenceOptions::default()).valid,
            Verdict::Invalid
        );
    }

    #[test]
    fn a_flip_flop_a_crashed_write_explains_is_not_reported() {
        let mut h = H::new();
        h.call(0, "write", int(2), int(2));
        h.invoke(1, "write", int(1));
        h.info(1, "write", nil());
        h.call(2, "read", nil(), int(2));
        h.call(3, "read", nil(), int(1)); // the crashed write took effect
        h.call(3, "read", nil(), int(2));
        let r = run(&h, &ConvergenceOptions::default());
        assert_eq!(r.keys[0].converged_value, Some(int(2)));
        assert_eq!(r.keys[0].flip_flop, None);
    }

    #[test]
    fn report_serializes() {
        let mut h = H::new();
        h.call(0, "write", int(1), int(1));
        h.call(0, "read", nil(), int(1));
        let r = run(&h, &ConvergenceOptions::default());
        let j = serde_json::to_value(&r).unwrap();
        assert_eq!(j["valid"], serde_json::json!(true));
        assert_eq!(j["final_reads"]["rule"], "after-last-update");
        assert_eq!(j["keys"][0]["detail"]["model"], "register");
    }
}
