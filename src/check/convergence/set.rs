//! Convergence of sets (per key), after Jepsen's `set` and `set-full`
//! checkers.
//!
//! Ops: `add` (input: the element), optionally `remove` (`delete`, `del`),
//! and reads (`read`, `get`, `r`, `final-read`, `final_read`) that return
//! the whole set as a collection (`nil` reads as empty). Elements are any
//! values; keyed histories (a `key` field, or `[key value]` tuples split
//! at load time) are judged key by key.
//!
//! **Final state.** Final reads must agree, else they diverged, unless
//! indeterminate adds and removes explain the difference (see
//! [`pending`](super::pending)): element by element, a final read that has
//! it after one that did not is explained by an indeterminate add of it,
//! one that lacks it after one that had it by an indeterminate remove;
//! when every difference is explained the key is unknown. An element
//! that must be in a final read and is missing from it is *lost*: without
//! removes, one whose add was acknowledged, or that a read which completed
//! before the final read began observed (a grow-only set never forgets);
//! with removes, one with an acknowledged add invoked after every remove
//! of it had completed. An element read but never added (or read before
//! any add of it was invoked) is *unexpected*. An element whose every add
//! `fail`ed, read after one of them began, is *failed but present*: the
//! store reported that the add did not happen, yet it took effect (an
//! anomaly, like Jepsen's unexpected elements). An element added only by
//! indeterminate adds and present in the final state is *recovered*
//! (informational). An element present in a final read although an
//! acknowledged remove was invoked after every add of it had completed is
//! *resurrected* (reported as unexplained).
//!
//! **During the run** (grow-only keys only), per element, as set-full
//! does: the element is *known* from the completion of its first
//! acknowledged add or of the first read that observed it, whichever is
//! earlier. Over the reads invoked after that:
//!
//! - *never-read*: there are none, and no read returned it (an element a
//!   read returned and no later read missed is *stable*);
//! - *lost*: the last of them misses it;
//! - *stale*: some of them miss it, but every read after the last miss has
//!   it: it became stable late;
//! - *stable*: all of them have it.
//!
//! The *stable latency* of an element is 0 when no read missed it after it
//! was known, else the time from known to the completion of the last read
//! that missed it: how long, at least, it took to become visible
//! everywhere. Quantiles and the worst elements are reported.

use super::pending::{self, Class};
use super::session::{Guarantee, SessionReport, SessionViolation};
use super::{empty_result, Anomaly, Ctx, FlipFlop, FxMap, KeyDetail, KeyOps, KeyResult, Pos};
use crate::history::{Outcome, Value};
use serde::Serialize;

/// Latency quantiles, in the report's time unit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Quantiles {
    /// How many samples.
    pub count: usize,
    /// Median.
    pub p50: i64,
    /// 90th percentile.
    pub p90: i64,
    /// 99th percentile.
    pub p99: i64,
    /// Maximum.
    pub max: i64,
}

impl Quantiles {
    /// Quantiles of `xs` (sorted in place); `None` when empty.
    pub fn of(xs: &mut [i64]) -> Option<Quantiles> {
        if xs.is_empty() {
            return None;
        }
        xs.sort_unstable();
        let q = |p: f64| xs[(((xs.len() - 1) as f64) * p).round() as usize];
        Some(Quantiles {
            count: xs.len(),
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            max: xs[xs.len() - 1],
        })
    }
}

/// Set findings for one key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SetDetail {
    /// Add attempts (not failed).
    pub adds: usize,
    /// Of which acknowledged.
    pub acknowledged_adds: usize,
    /// Remove attempts (not failed).
    pub removes: usize,
    /// Distinct elements added or read.
    pub elements: usize,
    /// Reads whose value was not a collection (left out).
    pub malformed_reads: usize,
    /// Final state: elements that must be present and are missing from a
    /// final read.
    pub lost: Vec<Value>,
    /// Elements read but never added.
    pub unexpected: Vec<Value>,
    /// Elements whose every add failed, yet a read returned them.
    pub failed_but_present: Vec<Value>,
    /// Elements of indeterminate adds present in the final state.
    pub recovered: Vec<Value>,
    /// Elements removed after every add, yet present in the final state.
    pub resurrected: Vec<Value>,
    /// During the run: elements always present once known.
    pub stable: usize,
    /// During the run: elements missed by some read after they were known,
    /// then stable.
    pub stale: Vec<Value>,
    /// During the run: elements the last read missed after they were known.
    pub lost_during_run: Vec<Value>,
    /// During the run: elements no read began after they were known.
    pub never_read: Vec<Value>,
    /// Elements not analysed during the run (removed, or neither
    /// acknowledged nor observed).
    pub not_analysed: usize,
    /// Stable latencies of stable and stale elements.
    pub stable_latency: Option<Quantiles>,
    /// The elements slowest to become stable, with their latency.
    pub worst: Vec<(Value, i64)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Add,
    Remove,
    Read,
    Other,
}

fn kind(f: &str) -> Kind {
    match f {
        "add" => Kind::Add,
        "remove" | "delete" | "del" => Kind::Remove,
        "read" | "get" | "r" | "final-read" | "final_read" => Kind::Read,
        _ => Kind::Other,
    }
}

struct Elem<'a> {
    value: &'a Value,
    /// Earliest completion event of an acknowledged add.
    ack_at: Option<usize>,
    /// The acknowledged add completing first; else any add attempt.
    add_op: Option<usize>,
    /// Any add attempt (ok or indeterminate).
    attempted: bool,
    /// The failed add invoked first.
    failed_add: Option<usize>,
    /// Earliest invocation event of an add attempt.
    first_add_invoke: usize,
    /// Latest response event of an add attempt (MAX: indeterminate).
    last_add_response: usize,
    /// Latest invocation event of an acknowledged add, and the add.
    last_ok_add: Option<(usize, usize)>,
    /// Any remove attempt.
    removed: bool,
    /// Latest response event of a remove attempt (MAX: indeterminate).
    last_remove_response: usize,
    /// Latest invocation event of an acknowledged remove, and the remove.
    last_ok_remove: Option<(usize, usize)>,
    /// Index of the first read observing it.
    first_read: Option<u32>,
    /// Final reads containing it.
    final_count: u32,
}

pub(crate) fn analyse(ctx: &Ctx<'_>, k: &KeyOps<'_>) -> (KeyResult, Vec<Anomaly>, SessionReport) {
    let mut d = SetDetail::default();
    let mut result = empty_result(k.key, KeyDetail::None);
    let mut anomalies = Vec::new();
    let mut sessions = SessionReport::new(ctx.opts.sessions);
    let key = k.key;
    let max = ctx.opts.max_examples;

    let mut index: FxMap<&Value, u32> = FxMap::default();
    let mut elems: Vec<Elem<'_>> = Vec::new();
    fn id_of<'a>(
        v: &'a Value,
        index: &mut FxMap<&'a Value, u32>,
        elems: &mut Vec<Elem<'a>>,
    ) -> u32 {
        *index.entry(v).or_insert_with(|| {
            elems.push(Elem {
                value: v,
                ack_at: None,
                add_op: None,
                attempted: false,
                failed_add: None,
                first_add_invoke: usize::MAX,
                last_add_response: 0,
                last_ok_add: None,
                removed: false,
                last_remove_response: 0,
                last_ok_remove: None,
                first_read: None,
                final_count: 0,
            });
            (elems.len() - 1) as u32
        })
    }

    // Reads as rows of sorted element ids.
    let mut read_ids: Vec<usize> = Vec::new();
    let mut rows: Vec<u32> = Vec::new();
    let mut offsets: Vec<usize> = vec![0];
    let mut last_update: Option<Pos> = None;
    for &id in &k.ids {
        let o = ctx.op(id);
        match kind(ctx.f(id)) {
            Kind::Read => {
                let Some(out) = ctx.output(id) else { continue };
                let items: &[Value] = match out {
                    Value::Nil => &[],
                    v => match v.as_collection() {
                        Some(items) => items,
                        None => {
                            d.malformed_reads += 1;
                            continue;
                        }
                    },
                };
                let start = rows.len();
                for v in items {
                    rows.push(id_of(v, &mut index, &mut elems));
                }
                rows[start..].sort_unstable();
                let mut w = start;
                for r in start..rows.len() {
                    if w == start || rows[w - 1] != rows[r] {
                        rows[w] = rows[r];
                        w += 1;
                    }
                }
                rows.truncate(w);
                let ri = read_ids.len() as u32;
                for &e in &rows[start..] {
                    elems[e as usize].first_read.get_or_insert(ri);
                }
                read_ids.push(id);
                offsets.push(rows.len());
            }
            Kind::Add if o.outcome == Outcome::Fail => {
                let e = id_of(ctx.input(id), &mut index, &mut elems) as usize;
                elems[e].failed_add.get_or_insert(id);
            }
            Kind::Add | Kind::Remove | Kind::Other if o.outcome != Outcome::Fail => {
                last_update = last_update.max(Some(ctx.ended(id)));
                let kd = kind(ctx.f(id));
                if kd == Kind::Other {
                    continue;
                }
                let e = id_of(ctx.input(id), &mut index, &mut elems) as usize;
                let el = &mut elems[e];
                let resp = o.response();
                if kd == Kind::Add {
                    d.adds += 1;
                    el.attempted = true;
                    el.first_add_invoke = el.first_add_invoke.min(o.invoke);
                    el.last_add_response = el.last_add_response.max(resp);
                    if o.outcome == Outcome::Ok {
                        d.acknowledged_adds += 1;
                        let at = resp;
                        if el.ack_at.is_none_or(|a| at < a) {
                            el.ack_at = Some(at);
                            el.add_op = Some(id);
                        }
                        el.last_ok_add = Some((o.invoke, id));
                    } else if el.add_op.is_none() {
                        el.add_op = Some(id);
                    }
                } else {
                    d.removes += 1;
                    el.removed = true;
                    el.last_remove_response = el.last_remove_response.max(resp);
                    if o.outcome == Outcome::Ok {
                        el.last_ok_remove = Some((o.invoke, id));
                    }
                }
            }
            _ => {}
        }
    }
    let n_reads = read_ids.len();
    let row = |r: usize| &rows[offsets[r]..offsets[r + 1]];
    d.elements = elems.len();
    result.updates = d.adds + d.removes;
    result.reads = n_reads;
    result.last_update_at = last_update.map(|p| p.clock);
    let describe = |id: usize| {
        format!(
            "read {}",
            super::short(ctx.output(id).unwrap_or(&Value::Nil))
        )
    };
    let read_index = |id: usize| read_ids.binary_search(&id).unwrap_or(0);

    // Final reads.
    let finals = ctx.final_reads(&read_ids, last_update);
    result.final_reads = finals.len();
    let final_rows: Vec<usize> = finals.iter().map(|&id| read_index(id)).collect();
    for &r in &final_rows {
        for &e in row(r) {
            elems[e as usize].final_count += 1;
        }
    }
    result.final_values = ctx.group(
        &finals,
        |id| row(read_index(id)),
        |ids: &&[u32]| {
            Value::set(
                ids.iter()
                    .map(|&e| elems[e as usize].value.clone())
                    .collect(),
            )
        },
        describe,
    );

    // Presence lists: the reads containing each element, in order.
    let mut pstart = vec![0usize; elems.len() + 1];
    for &e in &rows {
        pstart[e as usize + 1] += 1;
    }
    for i in 0..elems.len() {
        pstart[i + 1] += pstart[i];
    }
    let mut fill = pstart.clone();
    let mut presence = vec![0u32; rows.len()];
    for r in 0..n_reads {
        for &e in row(r) {
            presence[fill[e as usize]] = r as u32;
            fill[e as usize] += 1;
        }
    }
    let begun: Vec<usize> = read_ids.iter().map(|&id| ctx.op(id).invoke).collect();
    let n_finals = finals.len() as u32;
    let has = |e: usize, r: usize| {
        presence[pstart[e]..pstart[e + 1]]
            .binary_search(&(r as u32))
            .is_ok()
    };
    // Final reads by completion, for the first to miss an element.
    let done = |r: usize| ctx.op(read_ids[r]).complete.unwrap_or(usize::MAX);
    let mut finals_by_done = final_rows.clone();
    finals_by_done.sort_unstable_by_key(|&r| done(r));
    let first_missing_final = |e: usize| final_rows.iter().copied().find(|&r| !has(e, r));
    let last_missing_final = |e: usize| final_rows.iter().rev().copied().find(|&r| !has(e, r));
    let pending_add = |e: usize| elems[e].attempted && elems[e].last_add_response == usize::MAX;
    let pending_remove = |e: usize| elems[e].removed && elems[e].last_remove_response == usize::MAX;
    // The final reads that had element `e` and those that did not, when
    // both are some, as classes of the pairwise rule.
    let classes = |e: usize| -> Vec<Class> {
        let present = presence[pstart[e]..pstart[e + 1]]
            .iter()
            .map(|&r| r as usize)
            .filter(|&r| final_rows.binary_search(&r).is_ok())
            .map(|r| read_ids[r]);
        let present = Class::of(ctx, present, pending_add(e));
        let first = finals_by_done.iter().copied().find(|&r| !has(e, r));
        let absent = first.zip(last_missing_final(e)).map(|(f, l)| Class {
            first_done: (done(f), read_ids[f]),
            last_begun: (begun[l], read_ids[l]),
            writable: pending_remove(e),
        });
        present.into_iter().chain(absent).collect()
    };
    let mut divergence: Option<(usize, pending::Change)> = None;

    let mut latencies: Vec<i64> = Vec::new();
    let mut worst: Vec<(i64, usize)> = Vec::new();
    let mut lost_reported = 0;
    for (e, el) in elems.iter().enumerate() {
        // Final state.
        if el.final_count > 0 && el.final_count < n_finals && divergence.is_none() {
            divergence = pending::unexplained(&classes(e)).map(|c| (e, c));
        }
        if let (false, Some(r)) = (el.attempted, el.first_read) {
            let rid = read_ids[r as usize];
            let read_done = ctx.op(rid).complete.unwrap_or(usize::MAX);
            match el.failed_add.filter(|&f| ctx.op(f).invoke < read_done) {
                Some(f) => {
                    d.failed_but_present.push(el.value.clone());
                    if d.failed_but_present.len() <= max {
                        anomalies.push(Anomaly::FailedButPresent {
                            key: key.cloned(),
                            value: el.value.clone(),
                            update: ctx.view(f, format!("{} {}", ctx.f(f), el.value)),
                            read: ctx.read_view(rid, describe(rid)),
                        });
                    }
                }
                None => {
                    d.unexpected.push(el.value.clone());
                    if d.unexpected.len() <= max {
                        anomalies.push(Anomaly::Unexplained {
                            key: key.cloned(),
                            value: el.value.clone(),
                            read: ctx.read_view(rid, describe(rid)),
                            why: "read, but never added".into(),
                        });
                    }
                }
            }
            continue;
        }
        if let Some(r) = el.first_read {
            let rid = read_ids[r as usize];
            let done = ctx.op(rid).complete.unwrap_or(usize::MAX);
            if el.attempted && el.first_add_invoke > done {
                d.unexpected.push(el.value.clone());
                if d.unexpected.len() <= max {
                    anomalies.push(Anomaly::Unexplained {
                        key: key.cloned(),
                        value: el.value.clone(),
                        read: ctx.read_view(rid, describe(rid)),
                        why: "read before any add of it was invoked".into(),
                    });
                }
            }
        }
        // A final read that misses it, where it must be present.
        let (missing, why) = if el.final_count == n_finals {
            (None, "")
        } else if el.removed {
            match el.last_ok_add {
                Some((inv, _)) if inv > el.last_remove_response => (
                    first_missing_final(e),
                    "its acknowledged add was invoked after every remove of it completed",
                ),
                _ => (None, ""),
            }
        } else if el.ack_at.is_some() {
            (first_missing_final(e), "its add was acknowledged")
        } else {
            // Observed: only by a final read begun after an observation
            // ended, since an indeterminate add may take effect between.
            let seen = presence[pstart[e]..pstart[e + 1]]
                .iter()
                .map(|&r| done(r as usize))
                .min();
            (
                last_missing_final(e).filter(|&r| seen.is_some_and(|s| s < begun[r])),
                "a read that completed before a final read began observed it, and a grow-only set never forgets",
            )
        };
        if let Some(m) = missing {
            d.lost.push(el.value.clone());
            if lost_reported < max {
                lost_reported += 1;
                let update = el.last_ok_add.map(|a| a.1).or(el.add_op);
                let missing = Some(ctx.read_view(read_ids[m], describe(read_ids[m])));
                if let Some(u) = update {
                    anomalies.push(Anomaly::Lost {
                        key: key.cloned(),
                        value: el.value.clone(),
                        update: ctx.view(u, format!("{} {}", ctx.f(u), el.value)),
                        missing_from: missing,
                        why: format!(
                            "{why}, but {} of {} final reads miss it",
                            n_finals - el.final_count,
                            n_finals
                        ),
                    });
                }
            }
        }
        if el.final_count > 0 && el.attempted && el.ack_at.is_none() {
            d.recovered.push(el.value.clone());
        }
        if let Some((inv, rid)) = el.last_ok_remove {
            if el.final_count > 0
                && el.last_add_response != usize::MAX
                && inv > el.last_add_response
            {
                d.resurrected.push(el.value.clone());
                let fr = first_present_final(&presence[pstart[e]..pstart[e + 1]], &final_rows);
                if let Some(fr) = fr {
                    anomalies.push(Anomaly::Unexplained {
                        key: key.cloned(),
                        value: el.value.clone(),
                        read: ctx.read_view(read_ids[fr], describe(read_ids[fr])),
                        why: format!(
                            "an acknowledged remove (op {rid}) was invoked after every add of it completed, yet a final read has it"
                        ),
                    });
                }
            }
        }

        // During the run.
        if el.removed {
            d.not_analysed += 1;
            continue;
        }
        let seen_at = el.first_read.map(|r| done(r as usize));
        let known = match (el.ack_at, seen_at) {
            (Some(a), Some(s)) => a.min(s),
            (Some(a), None) => a,
            (None, Some(s)) => s,
            (None, None) => {
                d.not_analysed += 1;
                continue;
            }
        };
        let s = begun.partition_point(|&b| b <= known);
        if s >= n_reads {
            // No read began after it was known: never read, unless a read
            // returned it.
            if el.first_read.is_some() {
                d.stable += 1;
                latencies.push(0);
            } else {
                d.never_read.push(el.value.clone());
            }
            continue;
        }
        let pres = &presence[pstart[e]..pstart[e + 1]];
        let mut j = n_reads - 1;
        let mut p = pres.len();
        let mut all_present = false;
        loop {
            if p > 0 && pres[p - 1] as usize == j {
                p -= 1;
                if j == s {
                    all_present = true;
                    break;
                }
                j -= 1;
            } else {
                break;
            }
        }
        if all_present {
            d.stable += 1;
            latencies.push(0);
        } else if j == n_reads - 1 {
            d.lost_during_run.push(el.value.clone());
        } else {
            d.stable += 1;
            d.stale.push(el.value.clone());
            let known_at = ctx.at(known);
            let lat = (ctx.completed(read_ids[j]).unwrap_or(known_at) - known_at).max(0);
            latencies.push(lat);
            worst.push((lat, e));
        }
    }
    worst.sort_unstable_by_key(|w| std::cmp::Reverse(w.0));
    d.worst = worst
        .into_iter()
        .take(5)
        .map(|(l, e)| (elems[e].value.clone(), l))
        .collect();
    d.stable_latency = Quantiles::of(&mut latencies);

    // Divergence, unless indeterminate adds and removes explain it.
    let mut undecided = None;
    if result.final_values.len() > 1 {
        match divergence {
            Some((e, c)) => {
                let v = elems[e].value;
                let with = |r: usize| {
                    let r = read_index(r);
                    let had = if has(e, r) { "with" } else { "without" };
                    format!(
                        "process {} read a set {had} {v}",
                        ctx.op(read_ids[r]).process
                    )
                };
                let why = if c.ordered {
                    let op = if has(e, read_index(c.to)) {
                        "add"
                    } else {
                        "remove"
                    };
                    format!(
                        "{} before {}, and no {op} of {v} is indeterminate",
                        with(c.from),
                        with(c.to)
                    )
                } else {
                    format!(
                        "{} while {}, and no add or remove of {v} is indeterminate",
                        with(c.from),
                        with(c.to)
                    )
                };
                anomalies.insert(0, ctx.divergence(&result, c, why, describe));
            }
            None => {
                let what = "indeterminate adds or removes of the elements they differ in";
                undecided = Some(ctx.undecided(&result, what));
            }
        }
    }

    // Converged value, convergence time, flip-flops.
    if result.final_values.len() == 1 {
        result.converged_value = Some(result.final_values[0].value.clone());
        let target = row(final_rows[0]);
        // May indeterminate updates change the converged set into `r`'s?
        let explained = |r: usize| {
            differences(row(r), target).all(|(e, added)| {
                if added {
                    pending_add(e as usize)
                } else {
                    pending_remove(e as usize)
                }
            })
        };
        let s = ctx.settling(
            (0..n_reads).map(|r| (read_ids[r], row(r) == target)),
            last_update,
            |_, d| explained(read_index(d)),
        );
        result.convergence_time = Some(s.time);
        result.flip_flop = s.flip.map(|(a, d)| FlipFlop {
            element: differences(row(read_index(d)), target)
                .next()
                .map(|(e, _)| elems[e as usize].value.clone()),
            agreed: ctx.read_view(a, describe(a)),
            diverged: ctx.read_view(d, describe(d)),
        });
    }

    ctx.settle(
        &mut result,
        &anomalies,
        !finals.is_empty(),
        n_reads,
        undecided,
    );

    // Session guarantees on grow-only keys.
    if ctx.opts.sessions != super::SessionMode::Off {
        if d.removes > 0 {
            sessions.not_judged("elements were removed: the set is not grow-only");
        } else if n_reads == 0 {
            sessions.not_judged("no ok reads");
        } else {
            sessions_grow_only(ctx, key, k, &read_ids, &|r| row(r), &index, &mut sessions);
        }
    }

    result.detail = KeyDetail::Set(d);
    (result, anomalies, sessions)
}

fn first_present_final(pres: &[u32], final_rows: &[usize]) -> Option<usize> {
    final_rows
        .iter()
        .copied()
        .find(|&r| pres.binary_search(&(r as u32)).is_ok())
}

/// The elements in one sorted row and not the other, in order, each with
/// whether it is in `a`.
fn differences<'r>(a: &'r [u32], b: &'r [u32]) -> impl Iterator<Item = (u32, bool)> + 'r {
    let (mut i, mut j) = (0, 0);
    std::iter::from_fn(move || loop {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
            }
            (Some(&x), y) if y.is_none_or(|&y| x < y) => {
                i += 1;
                return Some((x, true));
            }
            (_, Some(&y)) => {
                j += 1;
                return Some((y, false));
            }
            _ => return None,
        }
    })
}

/// Monotonic reads and read-your-writes on a grow-only set.
fn sessions_grow_only<'r>(
    ctx: &Ctx<'_>,
    key: Option<&Value>,
    k: &KeyOps<'_>,
    read_ids: &[usize],
    row: &dyn Fn(usize) -> &'r [u32],
    index: &FxMap<&Value, u32>,
    out: &mut SessionReport,
) {
    let max = ctx.opts.max_examples;
    out.monotonic_reads.judged_keys += 1;
    out.read_your_writes.judged_keys += 1;
    // per process: element -> the op that put it in the session (an
    // earlier read, or an acknowledged add)
    let mut seen: FxMap<i64, FxMap<u32, usize>> = FxMap::default();
    let mut owed: FxMap<i64, FxMap<u32, usize>> = FxMap::default();
    let mut r = 0;
    for &id in &k.ids {
        let o = ctx.op(id);
        let p = o.process;
        if r < read_ids.len() && read_ids[r] == id {
            let items = row(r);
            r += 1;
            for (g, map, guarantee) in [
                (
                    &mut out.monotonic_reads,
                    seen.get(&p),
                    Guarantee::MonotonicReads,
                ),
                (
                    &mut out.read_your_writes,
                    owed.get(&p),
                    Guarantee::ReadYourWrites,
                ),
            ] {
                g.reads_checked += 1;
                let Some(map) = map else { continue };
                let hits = items.iter().filter(|e| map.contains_key(e)).count();
                if hits < map.len() {
                    let (&e, &prev) = map
                        .iter()
                        .filter(|(e, _)| items.binary_search(e).is_err())
                        .min_by_key(|(_, &prev)| prev)
                        .expect("a missing element");
                    let value = index
                        .iter()
                        .find(|(_, &i)| i == e)
                        .map(|(v, _)| (*v).clone())
                        .unwrap_or(Value::Nil);
                    let (first_desc, what) = match guarantee {
                        Guarantee::MonotonicReads => (
                            format!(
                                "read {}",
                                super::short(ctx.output(prev).unwrap_or(&Value::Nil))
                            ),
                            "an earlier read of the same process had it",
                        ),
                        Guarantee::ReadYourWrites => (
                            format!("add {value}"),
                            "the same process's add of it was acknowledged",
                        ),
                    };
                    g.violation(
                        SessionViolation {
                            guarantee,
                            process: ctx.h.process(o).clone(),
                            key: key.cloned(),
                            first: ctx.view(prev, first_desc),
                            second: ctx.view(
                                id,
                                format!("read {}", super::short(ctx.output(id).unwrap_or(&Value::Nil))),
                            ),
                            detail: format!(
                                "process {}'s read misses {value} ({} missing in all), though {what}",
                                ctx.h.process(o),
                                map.len() - hits
                            ),
                        },
                        max,
                    );
                }
            }
            let s = seen.entry(p).or_default();
            for &e in items {
                s.entry(e).or_insert(id);
            }
        } else if kind(ctx.f(id)) == Kind::Add && o.outcome == Outcome::Ok {
            if let Some(&e) = index.get(ctx.input(id)) {
                owed.entry(p).or_default().entry(e).or_insert(id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::*;
    use super::SetDetail;
    use crate::check::Verdict;
    use crate::model::ModelKind;

    fn run(h: &H) -> ConvergenceReport {
        check(
            &h.build(),
            ModelKind::Set,
            &ModelOptions::default(),
            &ConvergenceOptions::default(),
        )
    }

    fn detail(r: &ConvergenceReport) -> &SetDetail {
        match &r.keys[0].detail {
            KeyDetail::Set(d) => d,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn converged_set_is_valid() {
        let mut h = H::new();
        h.call(0, "add", int(1), int(1));
        h.call(1, "add", int(2), int(2));
        h.call(0, "read", nil(), set(&[1, 2]));
        h.call(1, "read", nil(), set(&[2, 1]));
        let r = run(&h);
        assert_eq!(r.valid, Verdict::Valid, "{:?}", r.reasons);
        assert_eq!(r.keys[0].converged_value, Some(set(&[1, 2])));
        assert_eq!(detail(&r).stable, 2);
    }

    #[test]
    fn lost_acknowledged_add_is_invalid() {
        let mut h = H::new();
        h.call(0, "add", int(1), int(1));
        h.call(1, "add", int(2), int(2));
        h.call(0, "read", nil(), set(&[2]));
        let r = run(&h);
        assert_eq!(r.valid, Verdict::Invalid);
        assert_eq!(detail(&r).lost, vec![int(1)]);
        assert_eq!(detail(&r).lost_during_run, vec![int(1)]);
        match &r.anomalies[..] {
            [Anomaly::Lost {
                value,
                update,
                missing_from: Some(m),
                ..
            }] => {
                assert_eq!(*value, int(1));
                assert_eq!(update.id, 0);
                assert_eq!(m.op.id, 2);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn observed_element_that_disappears_is_lost() {
        let mut h = H::new();
        h.invoke(0, "add", int(1));
        h.call(1, "read", nil(), set(&[1]));
        h.info(0, "add", nil());
        h.call(1, "read", nil(), set(&[]));
        let r = run(&h);
        assert_eq!(r.valid, Verdict::Invalid);
        assert_eq!(detail(&r).lost, vec![int(1)]);
    }

    #[test]
    fn unexpected_and_recovered() {
        let mut h = H::new();
        h.invoke(0, "add", int(1));
        h.info(0, "add", nil());
        h.call(1, "add", int(2), int(2));
        h.call(2, "read", nil(), set(&[1, 2, 3]));
        let r = run(&h);
        assert_eq!(r.valid, Verdict::Invalid);
        let d = detail(&r);
        assert_eq!(d.unexpected, vec![int(3)]);
        assert_eq!(d.recovered, vec![int(1)]);
        assert!(d.lost.is_empty());
    }

    #[test]
    fn stale_element_has_latency() {
        let mut h = H::new();
        h.timed = true;
        h.call(0, "add", int(1), int(1)); // acked at 10
        h.call(1, "read", nil(), set(&[])); // 20..30: misses it
        h.call(1, "read", nil(), set(&[1])); // 40..50
        let opts = ConvergenceOptions {
            settle: 15,
            ..Default::default()
        };
        let r = check(&h.build(), ModelKind::Set, &ModelOptions::default(), &opts);
        assert_eq!(r.valid, Verdict::Valid, "{:?}", r.reasons);
        let d = detail(&r);
        assert_eq!(d.stale, vec![int(1)]);
        assert_eq!(d.worst, vec![(int(1), 20)]);
        assert_eq!(d.stable_latency.as_ref().unwrap().max, 20);
        assert_eq!(r.keys[0].convergence_time, Some(20));
    }

    #[test]
    fn never_read_element() {
        let mut h = H::new();
        h.call(1, "read", nil(), set(&[]));
        h.invoke(1, "read", nil());
        h.call(0, "add", int(1), int(1));
        h.ok(1, "read", set(&[]));
        let r = run(&h);
        assert_eq!(detail(&r).never_read, vec![int(1)]);
        assert_eq!(r.valid, Verdict::Unknown);
    }

    #[test]
    fn divergent_final_sets() {
        let mut h = H::new();
        h.call(0, "add", int(1), int(1));
        h.invoke(0, "add", int(2));
        h.info(0, "add", nil());
        h.call(1, "read", nil(), set(&[1, 2]));
        h.call(2, "read", nil(), set(&[1]));
        let r = run(&h);
        assert_eq!(r.valid, Verdict::Invalid);
        assert!(matches!(&r.anomalies[0], Anomaly::Divergence { values, .. } if values.len() == 2));
        // 2 was observed, so the replica missing it lost it
        assert_eq!(detail(&r).lost, vec![int(2)]);
    }

    #[test]
    fn removes_are_respected() {
        let mut h = H::new();
        h.call(0, "add", int(1), int(1));
        h.call(0, "remove", int(1), int(1));
        h.call(0, "add", int(2), int(2));
        h.call(1, "read", nil(), set(&[2]));
        assert_eq!(run(&h).valid, Verdict::Valid);
        let mut h = H::new();
        h.call(0, "add", int(1), int(1));
        h.call(0, "remove", int(1), int(1));
        h.call(1, "read", nil(), set(&[1]));
        let r = run(&h);
        assert_eq!(r.valid, Verdict::Invalid);
        assert_eq!(detail(&r).resurrected, vec![int(1)]);
        let mut h = H::new();
        h.call(0, "remove", int(1), int(1));
        h.call(0, "add", int(1), int(1));
        h.call(1, "read", nil(), set(&[]));
        let r = run(&h);
        assert_eq!(detail(&r).lost, vec![int(1)]);
        assert_eq!(r.sessions.monotonic_reads.not_judged_keys, 1);
    }

    #[test]
    fn flip_flop_after_convergence() {
        let mut h = H::new();
        h.call(0, "add", int(1), int(1));
        h.call(1, "read", nil(), set(&[1]));
        h.call(2, "read", nil(), set(&[]));
        h.call(1, "read", nil(), set(&[1]));
        let opts = ConvergenceOptions {
            settle: 4,
            ..Default::default()
        };
        let r = check(&h.build(), ModelKind::Set, &ModelOptions::default(), &opts);
        assert_eq!(r.valid, Verdict::Valid, "{:?}", r.reasons);
        let ff = r.keys[0].flip_flop.as_ref().unwrap();
        assert_eq!(ff.element, Some(int(1)));
        assert_eq!((ff.agreed.op.id, ff.diverged.op.id), (1, 2));
        assert_eq!(detail(&r).stale, vec![int(1)]);
    }

    #[test]
    fn a_read_begun_when_the_add_ended_counts() {
        // A coarse clock: the add completes at 10, and the read that
        // returns its element begins at 10, after it in the file.
        let mut h = H::new();
        h.call(0, "add", int(1), int(1));
        h.call(1, "read", nil(), set(&[1]));
        let r = check(
            &h.build_timed(|i| [0, 10, 10, 20][i]),
            ModelKind::Set,
            &ModelOptions::default(),
            &ConvergenceOptions::default(),
        );
        assert_eq!(r.valid, Verdict::Valid, "{:?}", r.reasons);
        assert_eq!(r.keys[0].final_reads, 1);
        assert_eq!(detail(&r).stable, 1);
        assert!(detail(&r).never_read.is_empty());
    }

    #[test]
    fn an_indeterminate_add_that_was_read_is_recovered_not_never_read() {
        let mut h = H::new();
        h.invoke(0, "add", int(1));
        h.info(0, "add", nil());
        h.call(1, "read", nil(), set(&[1]));
        let r = run(&h);
        assert_eq!(r.valid, Verdict::Valid, "{:?}", r.reasons);
        let d = detail(&r);
        assert_eq!(d.recovered, vec![int(1)]);
        assert!(d.never_read.is_empty(), "{d:?}");
        assert_eq!(d.stable, 1);
    }

    #[test]
    fn a_failed_add_that_a_read_returned_is_named() {
        let mut h = H::new();
        h.invoke(0, "add", int(1));
        h.fail(0, "add", int(1));
        h.call(1, "read", nil(), set(&[1]));
        let r = run(&h);
        assert_eq!(r.valid, Verdict::Invalid);
        assert!(detail(&r).unexpected.is_empty(), "{:?}", detail(&r));
        let j = serde_json::to_value(&r).unwrap();
        assert_eq!(j["anomalies"][0]["type"], "failed-but-present");
        assert_eq!(j["keys"][0]["detail"]["failed_but_present"][0], 1);
        assert!(r.reasons[0].contains("failed"), "{:?}", r.reasons);
    }

    #[test]
    fn an_indeterminate_add_may_explain_final_sets_that_differ() {
        let mut h = H::new();
        h.call(0, "add", int(1), int(1));
        h.invoke(0, "add", int(2));
        h.info(0, "add", nil());
        h.call(1, "read", nil(), set(&[1]));
        h.call(2, "read", nil(), set(&[1, 2])); // the add took effect
        let r = run(&h);
        assert_eq!(r.valid, Verdict::Unknown, "{:?}", r.reasons);
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
        assert!(detail(&r).lost.is_empty());
        assert!(r.reasons[0].contains("indeterminate"), "{:?}", r.reasons);
    }

    #[test]
    fn session_guarantees_on_grow_only_sets() {
        let mut h = H::new();
        h.call(0, "add", int(1), int(1));
        h.call(0, "read", nil(), set(&[])); // misses own add
        h.call(1, "read", nil(), set(&[1]));
        h.call(1, "read", nil(), set(&[])); // monotonic reads broken
        h.call(0, "read", nil(), set(&[1]));
        h.call(1, "read", nil(), set(&[1]));
        let opts = ConvergenceOptions {
            settle: 8,
            ..Default::default()
        };
        let r = check(&h.build(), ModelKind::Set, &ModelOptions::default(), &opts);
        assert_eq!(r.valid, Verdict::Valid, "{:?}", r.reasons);
        let s = &r.sessions;
        assert_eq!(s.valid, Verdict::Invalid);
        assert_eq!(s.read_your_writes.violations, 1);
        assert_eq!(s.read_your_writes.examples[0].first.id, 0);
        assert_eq!(s.read_your_writes.examples[0].second.id, 1);
        assert_eq!(s.monotonic_reads.violations, 1);
        assert_eq!(s.monotonic_reads.examples[0].first.id, 2);
        assert_eq!(s.monotonic_reads.examples[0].second.id, 3);
    }
}
