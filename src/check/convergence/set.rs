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

use super::pending::{self, Change, Class};
use super::session::{Guarantee, SessionReport, SessionViolation};
use super::skeleton::Analysis;
use super::{Anomaly, Ctx, FxMap, KeyDetail, KeyOps, KeyOutcome, Pos};
use crate::history::{Operation, Outcome, Value};
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

impl<'a> Elem<'a> {
    fn new(value: &'a Value) -> Self {
        Elem {
            value,
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
        }
    }

    /// An add of it (ok or indeterminate), operation `id`.
    fn add(&mut self, o: &Operation, id: usize) {
        let resp = o.response();
        self.attempted = true;
        self.first_add_invoke = self.first_add_invoke.min(o.invoke);
        self.last_add_response = self.last_add_response.max(resp);
        if o.outcome == Outcome::Ok {
            if self.ack_at.is_none_or(|a| resp < a) {
                self.ack_at = Some(resp);
                self.add_op = Some(id);
            }
            self.last_ok_add = Some((o.invoke, id));
        } else if self.add_op.is_none() {
            self.add_op = Some(id);
        }
    }

    /// A remove of it (ok or indeterminate), operation `id`.
    fn remove(&mut self, o: &Operation, id: usize) {
        self.removed = true;
        self.last_remove_response = self.last_remove_response.max(o.response());
        if o.outcome == Outcome::Ok {
            self.last_ok_remove = Some((o.invoke, id));
        }
    }

    /// Read, but never added: judged in the final state only.
    fn never_added(&self) -> bool {
        !self.attempted && self.first_read.is_some()
    }
}

/// The elements of a key, numbered in order of first appearance.
#[derive(Default)]
struct Elements<'a> {
    index: FxMap<&'a Value, u32>,
    all: Vec<Elem<'a>>,
}

impl<'a> Elements<'a> {
    /// The number of element `v`, new if it was not seen before.
    fn id(&mut self, v: &'a Value) -> u32 {
        *self.index.entry(v).or_insert_with(|| {
            self.all.push(Elem::new(v));
            (self.all.len() - 1) as u32
        })
    }
}

/// A key's `ok` reads, in invocation order, each as a row of sorted
/// element numbers.
struct Rows {
    /// The reads.
    ids: Vec<usize>,
    /// The rows, one after the other.
    elems: Vec<u32>,
    /// Where each row starts in `elems`, and where the last ends.
    offsets: Vec<usize>,
}

impl Rows {
    fn len(&self) -> usize {
        self.ids.len()
    }

    /// The elements of read `r` (a row number).
    fn row(&self, r: usize) -> &[u32] {
        &self.elems[self.offsets[r]..self.offsets[r + 1]]
    }

    /// The row of read `id` (an operation).
    fn index(&self, id: usize) -> usize {
        self.ids.binary_search(&id).unwrap_or(0)
    }

    /// Adds read `id` of `items`, noting it as the first read of elements
    /// not read before.
    fn push<'a>(&mut self, id: usize, items: &'a [Value], elements: &mut Elements<'a>) {
        let start = self.elems.len();
        for v in items {
            self.elems.push(elements.id(v));
        }
        self.elems[start..].sort_unstable();
        let elems = &mut self.elems;
        let mut w = start;
        for r in start..elems.len() {
            if w == start || elems[w - 1] != elems[r] {
                elems[w] = elems[r];
                w += 1;
            }
        }
        elems.truncate(w);
        let ri = self.ids.len() as u32;
        for &e in &self.elems[start..] {
            elements.all[e as usize].first_read.get_or_insert(ri);
        }
        self.ids.push(id);
        self.offsets.push(self.elems.len());
    }
}

/// Sorts a key's operations into reads, adds and removes, counting them
/// in `d`; returns the elements, the reads, and where the last update
/// ended.
fn classify<'a>(
    ctx: &Ctx<'a>,
    k: &KeyOps<'_>,
    d: &mut SetDetail,
) -> (Elements<'a>, Rows, Option<Pos>) {
    let mut elements = Elements::default();
    let mut reads = Rows {
        ids: Vec::new(),
        elems: Vec::new(),
        offsets: vec![0],
    };
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
                reads.push(id, items, &mut elements);
            }
            Kind::Add if o.outcome == Outcome::Fail => {
                let e = elements.id(ctx.input(id)) as usize;
                elements.all[e].failed_add.get_or_insert(id);
            }
            _ if o.outcome == Outcome::Fail => {}
            kd => {
                last_update = last_update.max(Some(ctx.ended(id)));
                if kd == Kind::Other {
                    continue;
                }
                let e = elements.id(ctx.input(id)) as usize;
                if kd == Kind::Add {
                    d.adds += 1;
                    d.acknowledged_adds += usize::from(o.outcome == Outcome::Ok);
                    elements.all[e].add(o, id);
                } else {
                    d.removes += 1;
                    elements.all[e].remove(o, id);
                }
            }
        }
    }
    (elements, reads, last_update)
}

/// For each element, the reads that have it, in order (rows).
struct Presence {
    /// Where each element's reads start in `rows`, and where the last end.
    start: Vec<usize>,
    rows: Vec<u32>,
}

impl Presence {
    fn of(reads: &Rows, elements: usize) -> Presence {
        let mut start = vec![0usize; elements + 1];
        for &e in &reads.elems {
            start[e as usize + 1] += 1;
        }
        for i in 0..elements {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut rows = vec![0u32; reads.elems.len()];
        for r in 0..reads.len() {
            for &e in reads.row(r) {
                rows[fill[e as usize]] = r as u32;
                fill[e as usize] += 1;
            }
        }
        Presence { start, rows }
    }

    /// The reads that have element `e`.
    fn of_elem(&self, e: usize) -> &[u32] {
        &self.rows[self.start[e]..self.start[e + 1]]
    }
}

/// What set-full says of an element during the run (see the module
/// docs).
enum Run {
    /// Removed, or neither acknowledged nor observed.
    NotAnalysed,
    NeverRead,
    Stable,
    Lost,
    /// Stable, after reads missed it: with its stable latency.
    Stale(i64),
}

/// A key's elements and reads, with what the analysis asks of them.
struct SetKey<'c, 'a> {
    ctx: &'c Ctx<'a>,
    elements: Elements<'a>,
    reads: Rows,
    presence: Presence,
    /// The final reads (rows), in invocation order.
    final_rows: Vec<usize>,
    /// The same, by completion.
    finals_by_done: Vec<usize>,
    /// The invocation event of each read.
    begun: Vec<usize>,
}

impl<'c, 'a> SetKey<'c, 'a> {
    fn new(ctx: &'c Ctx<'a>, mut elements: Elements<'a>, reads: Rows, finals: &[usize]) -> Self {
        let final_rows: Vec<usize> = finals.iter().map(|&id| reads.index(id)).collect();
        for &r in &final_rows {
            for &e in reads.row(r) {
                elements.all[e as usize].final_count += 1;
            }
        }
        let presence = Presence::of(&reads, elements.all.len());
        let begun = reads.ids.iter().map(|&id| ctx.op(id).invoke).collect();
        let done = |r: usize| ctx.op(reads.ids[r]).complete.unwrap_or(usize::MAX);
        let mut finals_by_done = final_rows.clone();
        finals_by_done.sort_unstable_by_key(|&r| done(r));
        SetKey {
            ctx,
            elements,
            reads,
            presence,
            final_rows,
            finals_by_done,
            begun,
        }
    }

    /// The elements, by number.
    fn elems(&self) -> &[Elem<'a>] {
        &self.elements.all
    }

    /// How many reads are final.
    fn n_finals(&self) -> u32 {
        self.final_rows.len() as u32
    }

    /// Does read `r` have element `e`?
    fn has(&self, e: usize, r: usize) -> bool {
        self.presence.of_elem(e).binary_search(&(r as u32)).is_ok()
    }

    /// The completion event of read `r`.
    fn done(&self, r: usize) -> usize {
        self.ctx
            .op(self.reads.ids[r])
            .complete
            .unwrap_or(usize::MAX)
    }

    /// The first final read that misses element `e`.
    fn first_missing_final(&self, e: usize) -> Option<usize> {
        self.final_rows.iter().copied().find(|&r| !self.has(e, r))
    }

    /// The last final read that misses element `e`.
    fn last_missing_final(&self, e: usize) -> Option<usize> {
        self.final_rows
            .iter()
            .rev()
            .copied()
            .find(|&r| !self.has(e, r))
    }

    /// May an indeterminate add of element `e` still take effect?
    fn pending_add(&self, e: usize) -> bool {
        let el = &self.elems()[e];
        el.attempted && el.last_add_response == usize::MAX
    }

    /// May an indeterminate remove of element `e` still take effect?
    fn pending_remove(&self, e: usize) -> bool {
        let el = &self.elems()[e];
        el.removed && el.last_remove_response == usize::MAX
    }

    /// The final reads that had element `e` and those that did not, when
    /// both are some, as classes of the pairwise rule.
    fn classes(&self, e: usize) -> Vec<Class> {
        let present = self
            .presence
            .of_elem(e)
            .iter()
            .map(|&r| r as usize)
            .filter(|&r| self.final_rows.binary_search(&r).is_ok())
            .map(|r| self.reads.ids[r]);
        let present = Class::of(self.ctx, present, self.pending_add(e));
        let first = self
            .finals_by_done
            .iter()
            .copied()
            .find(|&r| !self.has(e, r));
        let absent = first.zip(self.last_missing_final(e)).map(|(f, l)| Class {
            first_done: (self.done(f), self.reads.ids[f]),
            last_begun: (self.begun[l], self.reads.ids[l]),
            writable: self.pending_remove(e),
        });
        present.into_iter().chain(absent).collect()
    }

    /// Final reads that disagree: the first element some have and others
    /// lack for which no indeterminate add or remove explains the change,
    /// with why; else what may explain every difference.
    fn diverged(&self) -> Result<(Change, String), String> {
        let n_finals = self.n_finals();
        let partial = |e: &usize| {
            let count = self.elems()[*e].final_count;
            count > 0 && count < n_finals
        };
        let Some((e, c)) = (0..self.elems().len())
            .filter(partial)
            .find_map(|e| pending::unexplained(&self.classes(e)).map(|c| (e, c)))
        else {
            return Err("indeterminate adds or removes of the elements they differ in".into());
        };
        let v = self.elems()[e].value;
        let has = |r: usize| self.has(e, self.reads.index(r));
        let with = |r: usize| {
            let had = if has(r) { "with" } else { "without" };
            self.ctx.who_read(r, format_args!("a set {had} {v}"))
        };
        let op = if has(c.to) { "add" } else { "remove" };
        let why = c.why(
            with,
            &format!("and no {op} of {v} is indeterminate"),
            &format!("and no add or remove of {v} is indeterminate"),
        );
        Ok((c, why))
    }

    /// May indeterminate updates change the set `target` into read `r`'s?
    fn explained(&self, r: usize, target: &[u32]) -> bool {
        differences(self.reads.row(r), target).all(|(e, added)| {
            if added {
                self.pending_add(e as usize)
            } else {
                self.pending_remove(e as usize)
            }
        })
    }

    /// The final state (see the module docs), element by element: lost,
    /// unexpected, failed but present, recovered and resurrected elements
    /// in `d`, and their anomalies (the first `max_examples` of the lost,
    /// unexpected and failed-but-present ones).
    fn final_state(&self, key: Option<&Value>, d: &mut SetDetail, anomalies: &mut Vec<Anomaly>) {
        for (e, el) in self.elems().iter().enumerate() {
            self.unexpected(e, key, d, anomalies);
            if el.never_added() {
                continue;
            }
            self.lost(e, key, d, anomalies);
            if el.final_count > 0 && el.attempted && el.ack_at.is_none() {
                d.recovered.push(el.value.clone());
            }
            self.resurrected(e, key, d, anomalies);
        }
    }

    /// Element `e` read but never added (failed but present when a failed
    /// add of it began before the read ended, else unexpected), or read
    /// before any add of it was invoked (unexpected).
    fn unexpected(
        &self,
        e: usize,
        key: Option<&Value>,
        d: &mut SetDetail,
        anomalies: &mut Vec<Anomaly>,
    ) {
        let (ctx, el, max) = (self.ctx, &self.elems()[e], self.ctx.opts.max_examples);
        let Some(r) = el.first_read else { return };
        let rid = self.reads.ids[r as usize];
        let read_done = ctx.op(rid).complete.unwrap_or(usize::MAX);
        let read = || ctx.read_view(rid, describe_read(ctx, rid));
        let unexplained = |why: &str| Anomaly::Unexplained {
            key: key.cloned(),
            value: el.value.clone(),
            read: read(),
            why: why.into(),
        };
        if el.attempted {
            if el.first_add_invoke > read_done {
                d.unexpected.push(el.value.clone());
                if d.unexpected.len() <= max {
                    anomalies.push(unexplained("read before any add of it was invoked"));
                }
            }
            return;
        }
        match el.failed_add.filter(|&f| ctx.op(f).invoke < read_done) {
            Some(f) => {
                d.failed_but_present.push(el.value.clone());
                if d.failed_but_present.len() <= max {
                    anomalies.push(Anomaly::FailedButPresent {
                        key: key.cloned(),
                        value: el.value.clone(),
                        update: ctx.view(f, format!("{} {}", ctx.f(f), el.value)),
                        read: read(),
                    });
                }
            }
            None => {
                d.unexpected.push(el.value.clone());
                if d.unexpected.len() <= max {
                    anomalies.push(unexplained("read, but never added"));
                }
            }
        }
    }

    /// The final read that misses element `e` where it must be present,
    /// and why it must.
    fn missing(&self, e: usize) -> Option<(usize, &'static str)> {
        let el = &self.elems()[e];
        if el.final_count == self.n_finals() {
            None
        } else if el.removed {
            match el.last_ok_add {
                Some((inv, _)) if inv > el.last_remove_response => {
                    self.first_missing_final(e).map(|m| {
                        (
                            m,
                            "its acknowledged add was invoked after every remove of it completed",
                        )
                    })
                }
                _ => None,
            }
        } else if el.ack_at.is_some() {
            self.first_missing_final(e)
                .map(|m| (m, "its add was acknowledged"))
        } else {
            // Observed: only by a final read begun after an observation
            // ended, since an indeterminate add may take effect between.
            let seen = self
                .presence
                .of_elem(e)
                .iter()
                .map(|&r| self.done(r as usize))
                .min();
            self.last_missing_final(e)
                .filter(|&r| seen.is_some_and(|s| s < self.begun[r]))
                .map(|m| (m, "a read that completed before a final read began observed it, and a grow-only set never forgets"))
        }
    }

    /// Element `e`, lost from the final state.
    fn lost(&self, e: usize, key: Option<&Value>, d: &mut SetDetail, anomalies: &mut Vec<Anomaly>) {
        let (ctx, el) = (self.ctx, &self.elems()[e]);
        let Some((m, why)) = self.missing(e) else {
            return;
        };
        d.lost.push(el.value.clone());
        if d.lost.len() > ctx.opts.max_examples {
            return;
        }
        let n_finals = self.n_finals();
        let read = self.reads.ids[m];
        if let Some(u) = el.last_ok_add.map(|a| a.1).or(el.add_op) {
            anomalies.push(Anomaly::Lost {
                key: key.cloned(),
                value: el.value.clone(),
                update: ctx.view(u, format!("{} {}", ctx.f(u), el.value)),
                missing_from: Some(ctx.read_view(read, describe_read(ctx, read))),
                why: format!(
                    "{why}, but {} of {} final reads miss it",
                    n_finals - el.final_count,
                    n_finals
                ),
            });
        }
    }

    /// Element `e`, present in a final read although an acknowledged
    /// remove was invoked after every add of it had completed.
    fn resurrected(
        &self,
        e: usize,
        key: Option<&Value>,
        d: &mut SetDetail,
        anomalies: &mut Vec<Anomaly>,
    ) {
        let (ctx, el) = (self.ctx, &self.elems()[e]);
        let Some((inv, rid)) = el.last_ok_remove else {
            return;
        };
        if el.final_count == 0 || el.last_add_response == usize::MAX || inv <= el.last_add_response
        {
            return;
        }
        d.resurrected.push(el.value.clone());
        if let Some(fr) = first_present_final(self.presence.of_elem(e), &self.final_rows) {
            let read = self.reads.ids[fr];
            anomalies.push(Anomaly::Unexplained {
                key: key.cloned(),
                value: el.value.clone(),
                read: ctx.read_view(read, describe_read(ctx, read)),
                why: format!(
                    "an acknowledged remove (op {rid}) was invoked after every add of it completed, yet a final read has it"
                ),
            });
        }
    }

    /// During the run (see the module docs), element by element: stable,
    /// stale, lost, never-read and unanalysed elements in `d`, with the
    /// stable latencies and the slowest elements.
    fn during_run(&self, d: &mut SetDetail) {
        let mut latencies: Vec<i64> = Vec::new();
        let mut worst: Vec<(i64, usize)> = Vec::new();
        for (e, el) in self.elems().iter().enumerate() {
            if el.never_added() {
                continue;
            }
            match self.run(e) {
                Run::NotAnalysed => d.not_analysed += 1,
                Run::NeverRead => d.never_read.push(el.value.clone()),
                Run::Lost => d.lost_during_run.push(el.value.clone()),
                Run::Stable => {
                    d.stable += 1;
                    latencies.push(0);
                }
                Run::Stale(latency) => {
                    d.stable += 1;
                    d.stale.push(el.value.clone());
                    latencies.push(latency);
                    worst.push((latency, e));
                }
            }
        }
        worst.sort_unstable_by_key(|w| std::cmp::Reverse(w.0));
        d.worst = worst
            .into_iter()
            .take(5)
            .map(|(l, e)| (self.elems()[e].value.clone(), l))
            .collect();
        d.stable_latency = Quantiles::of(&mut latencies);
    }

    /// Element `e` during the run: known from its first acknowledged add
    /// or first observation, whichever ended first, and judged on the
    /// reads begun after that.
    fn run(&self, e: usize) -> Run {
        let el = &self.elems()[e];
        if el.removed {
            return Run::NotAnalysed;
        }
        let seen_at = el.first_read.map(|r| self.done(r as usize));
        let Some(known) = [el.ack_at, seen_at].into_iter().flatten().min() else {
            return Run::NotAnalysed;
        };
        let n_reads = self.reads.len();
        let s = self.begun.partition_point(|&b| b <= known);
        if s >= n_reads {
            // No read began after it was known: never read, unless a read
            // returned it.
            return if el.first_read.is_some() {
                Run::Stable
            } else {
                Run::NeverRead
            };
        }
        // Walk back from the last read while they have it.
        let pres = self.presence.of_elem(e);
        let mut j = n_reads - 1;
        let mut p = pres.len();
        while p > 0 && pres[p - 1] as usize == j {
            p -= 1;
            if j == s {
                return Run::Stable;
            }
            j -= 1;
        }
        if j == n_reads - 1 {
            return Run::Lost;
        }
        let known_at = self.ctx.at(known);
        let read = self.reads.ids[j];
        Run::Stale((self.ctx.completed(read).unwrap_or(known_at) - known_at).max(0))
    }
}

/// A read as evidence.
fn describe_read(ctx: &Ctx<'_>, id: usize) -> String {
    format!(
        "read {}",
        super::short(ctx.output(id).unwrap_or(&Value::Nil))
    )
}

pub(crate) fn analyse(ctx: &Ctx<'_>, k: &KeyOps<'_>) -> KeyOutcome {
    let mut a = Analysis::new(ctx, k);
    let mut d = SetDetail::default();
    let (elements, reads, last_update) = classify(ctx, k, &mut d);
    d.elements = elements.all.len();
    let finals = a.final_reads(d.adds + d.removes, &reads.ids, last_update);
    let s = SetKey::new(ctx, elements, reads, &finals);
    let describe = |id: usize| describe_read(ctx, id);
    let row_of = |id: usize| s.reads.row(s.reads.index(id));
    let set_of = |row: &&[u32]| {
        Value::set(
            row.iter()
                .map(|&e| s.elems()[e as usize].value.clone())
                .collect(),
        )
    };
    a.result.final_values = ctx.group(&finals, row_of, set_of, describe);
    s.final_state(k.key, &mut d, &mut a.anomalies);
    s.during_run(&mut d);

    if a.result.final_values.len() > 1 {
        // The divergence leads the elements' anomalies.
        if let Some(divergence) = a.diverged(s.diverged(), describe) {
            a.anomalies.insert(0, divergence);
        }
    } else if a.result.final_values.len() == 1 {
        let target = s.reads.row(s.final_rows[0]);
        a.converged(
            (0..s.reads.len()).map(|r| (s.reads.ids[r], s.reads.row(r) == target)),
            |_, diverged| s.explained(s.reads.index(diverged), target),
            describe,
            |diverged| {
                differences(row_of(diverged), target)
                    .next()
                    .map(|(e, _)| s.elems()[e as usize].value.clone())
            },
        );
    }
    a.sessions(
        || {
            if d.removes == 0 {
                Ok(())
            } else {
                Err("elements were removed: the set is not grow-only")
            }
        },
        |(), out| s.sessions(k, out),
    );
    a.finish(KeyDetail::Set(d))
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

impl SetKey<'_, '_> {
    /// Monotonic reads and read-your-writes on a grow-only set.
    fn sessions(&self, k: &KeyOps<'_>, out: &mut SessionReport) {
        let (ctx, max) = (self.ctx, self.ctx.opts.max_examples);
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
            if r < self.reads.len() && self.reads.ids[r] == id {
                let items = self.reads.row(r);
                r += 1;
                for (g, had, guarantee) in [
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
                    let Some(had) = had else { continue };
                    if let Some(v) = self.misses(k.key, id, items, had, guarantee) {
                        g.violation(v, max);
                    }
                }
                let s = seen.entry(p).or_default();
                for &e in items {
                    s.entry(e).or_insert(id);
                }
            } else if kind(ctx.f(id)) == Kind::Add && o.outcome == Outcome::Ok {
                if let Some(&e) = self.elements.index.get(ctx.input(id)) {
                    owed.entry(p).or_default().entry(e).or_insert(id);
                }
            }
        }
    }

    /// The violation of `guarantee` by read `id` of `items`, when it misses
    /// an element of `had` (each element with the op that put it in the
    /// process's session): named by the one put there first.
    fn misses(
        &self,
        key: Option<&Value>,
        id: usize,
        items: &[u32],
        had: &FxMap<u32, usize>,
        guarantee: Guarantee,
    ) -> Option<SessionViolation> {
        let ctx = self.ctx;
        let hits = items.iter().filter(|e| had.contains_key(e)).count();
        if hits == had.len() {
            return None;
        }
        let (&e, &prev) = had
            .iter()
            .filter(|(e, _)| items.binary_search(e).is_err())
            .min_by_key(|(_, &prev)| prev)
            .expect("a missing element");
        let value = self.elems()[e as usize].value;
        let (first_desc, what) = match guarantee {
            Guarantee::MonotonicReads => (
                describe_read(ctx, prev),
                "an earlier read of the same process had it",
            ),
            Guarantee::ReadYourWrites => (
                format!("add {value}"),
                "the same process's add of it was acknowledged",
            ),
        };
        let process = ctx.h.process(ctx.op(id));
        Some(SessionViolation {
            guarantee,
            process: process.clone(),
            key: key.cloned(),
            first: ctx.view(prev, first_desc),
            second: ctx.view(id, describe_read(ctx, id)),
            detail: format!(
                "process {process}'s read misses {value} ({} missing in all), though {what}",
                had.len() - hits
            ),
        })
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
