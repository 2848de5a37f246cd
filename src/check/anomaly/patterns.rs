//! The patterns, each a proof: when one matches, no order of the
//! operations (that keeps real time, for the linearizability patterns, or
//! only each process's order, for the sequential ones) explains the
//! history. Each function looks at the ops of one key and returns the
//! first match in invocation order, so the same history always names the
//! same ops.
//!
//! "Written before" is always proved from the history itself: every write
//! of one value completed before any write of the other began (real time),
//! or both were written once, by one process, in that order (program
//! order). A value written more than once, or by an op that may still be
//! running, proves nothing, and the pattern does not match.

use super::facts::{writes, Act, Fact, Key, Writes};
use super::{Kind, NamedAnomaly};
use crate::history::{History, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Candidate observers are looked for among at most this many ops (the
/// pairwise patterns are quadratic in them).
pub(super) const MAX_CANDIDATES: usize = 200;

/// One key's ops, with what the patterns need to name them.
pub(super) struct Scope<'a> {
    /// The history, to name processes and lines.
    pub h: &'a History,
    /// The key's ops.
    pub key: &'a Key<'a>,
    /// The model's initial value.
    pub initial: &'a Value,
    /// Every value written on the key.
    pub writes: BTreeMap<&'a Value, Writes>,
    /// Indices (into the key's ops) of the ops to look at as observers.
    pub candidates: Vec<usize>,
}

impl<'a> Scope<'a> {
    /// The scope of `key`, looking at the ops whose ids are in `wanted`
    /// (every op when `None`).
    pub fn new(
        h: &'a History,
        key: &'a Key<'a>,
        initial: &'a Value,
        wanted: Option<&BTreeSet<usize>>,
    ) -> Scope<'a> {
        let candidates: Vec<usize> = (0..key.ops.len())
            .filter(|&i| wanted.is_none_or(|w| w.contains(&key.ops[i].id)))
            .take(MAX_CANDIDATES)
            .collect();
        Scope {
            h,
            key,
            initial,
            writes: writes(&key.ops),
            candidates,
        }
    }

    fn op(&self, i: usize) -> &Fact<'a> {
        &self.key.ops[i]
    }

    fn cands(&self) -> impl Iterator<Item = (usize, &Fact<'a>)> + '_ {
        self.candidates.iter().map(|&i| (i, self.op(i)))
    }

    /// `process 2 (line 7)`.
    pub fn who(&self, f: &Fact<'_>) -> String {
        format!("{} ({})", self.process_name(f), self.place(f))
    }

    /// `process 2`.
    fn process_name(&self, f: &Fact<'_>) -> String {
        format!("process {}", self.h.process(&self.h.operations[f.id]))
    }

    /// `line 7`, or `event 7` for an op not read from a file.
    fn place(&self, f: &Fact<'_>) -> String {
        match self.line(f) {
            0 => format!("event {}", f.invoke),
            l => format!("line {l}"),
        }
    }

    /// ` at key "x"`, or nothing for an unkeyed history.
    pub fn on(&self) -> String {
        match self.key.key {
            Some(k) => format!(" at key {k}"),
            None => String::new(),
        }
    }

    fn named(&self, kind: Kind, description: String, ops: &[&Fact<'_>]) -> Option<NamedAnomaly> {
        Some(NamedAnomaly::new(
            kind,
            description,
            ops.iter().map(|f| f.id).collect(),
        ))
    }

    /// Were all writes of `a` (or the initial value, never written) over
    /// before any write of `b` began?
    fn older(&self, a: &Value, b: &Value) -> bool {
        let Some(wb) = self.writes.get(b) else {
            return false;
        };
        match self.writes.get(a) {
            None => a == self.initial,
            Some(wa) => wa.last_done < wb.first_invoke,
        }
    }

    /// A read of a value no op writes (and not the initial value), or a
    /// dequeue of an item never enqueued.
    pub fn never_written(&self) -> Option<NamedAnomaly> {
        for (_, f) in self.cands() {
            let (read, noun) = match f.act {
                Act::Read(v) if v != self.initial => (v, "read"),
                Act::Dequeue(v) => (v, "dequeued"),
                Act::SetRead(items) => match items.iter().find(|e| !self.writes.contains_key(e)) {
                    Some(e) => (e, "read an element"),
                    None => continue,
                },
                _ => continue,
            };
            if !self.writes.contains_key(read) {
                let d = format!(
                    "{} {noun} {read}{}, a value no operation ever wrote.",
                    self.who(f),
                    self.on()
                );
                return self.named(Kind::NeverWritten, d, &[f]);
            }
        }
        None
    }

    /// A read of a value whose every write began only after the read had
    /// returned.
    pub fn future_read(&self) -> Option<NamedAnomaly> {
        for (_, f) in self.cands() {
            let Act::Read(v) = f.act else { continue };
            let (Some(done), Some(w)) = (f.done, self.writes.get(v)) else {
                continue;
            };
            if v != self.initial && w.first_invoke > done {
                let d = format!(
                    "{} read {v}{} before any write of {v} began (the first: {}).",
                    self.who(f),
                    self.on(),
                    self.who(self.op(w.first))
                );
                return self.named(Kind::FutureRead, d, &[f, self.op(w.first)]);
            }
        }
        None
    }

    /// One process read `b` and later `a`, though `a` was written before
    /// `b` (in real time when `real_time`, else by one writer's order); for
    /// sets, an element seen and later missing (sets only grow).
    pub fn non_monotonic(&self, real_time: bool) -> Option<NamedAnomaly> {
        for (x, first) in self.cands() {
            for (_, later) in self.cands().filter(|(y, _)| *y > x) {
                if later.process != first.process || !first.precedes(later) {
                    continue;
                }
                let gone = match (first.act, later.act) {
                    (Act::Read(b), Act::Read(a)) if a != b => {
                        let before = if real_time {
                            self.older(a, b)
                        } else {
                            self.written_in_order(a, b)
                        };
                        before.then(|| format!("{b} and later {a}{}, though {a} was written before {b}", self.on()))
                    }
                    (Act::SetRead(s1), Act::SetRead(s2)) => s1
                        .iter()
                        .find(|e| !s2.contains(e))
                        .map(|e| format!("a set holding {e}{} and later one without it, though elements are never removed", self.on())),
                    _ => None,
                };
                if let Some(what) = gone {
                    let d = format!(
                        "{} read {what} (the later read: {}).",
                        self.who(first),
                        self.place(later)
                    );
                    return self.named(Kind::NonMonotonicReads, d, &[first, later]);
                }
            }
        }
        None
    }

    fn line(&self, f: &Fact<'_>) -> u32 {
        self.h.ops[self.h.operations[f.id].invoke].line
    }

    /// Was `a` written before `b` in every order that keeps each process's
    /// order: both written once, by one process, `a` first; or `a` the
    /// initial value, never written?
    fn written_in_order(&self, a: &Value, b: &Value) -> bool {
        let Some(wb) = self.writes.get(b).filter(|w| w.count == 1) else {
            return false;
        };
        match self.writes.get(a) {
            None => a == self.initial,
            Some(wa) => {
                let (fa, fb) = (self.op(wa.first), self.op(wb.first));
                wa.count == 1 && fa.process == fb.process && fa.invoke < fb.invoke
            }
        }
    }

    /// An acknowledged write that every later read missed: each read that
    /// began after it completed returned a value written before it began
    /// (there is at least one such read).
    pub fn lost_write(&self) -> Option<NamedAnomaly> {
        for (_, w) in self.cands() {
            let (Act::Write(b) | Act::Add(b)) = w.act else {
                continue;
            };
            if w.done.is_none() {
                continue;
            }
            let mut later = self
                .key
                .ops
                .iter()
                .filter(|r| w.precedes(r))
                .filter(|r| matches!(r.act, Act::Read(_) | Act::SetRead(_)));
            let Some(first) = later.clone().next() else {
                continue;
            };
            let all_missed = later.all(|r| match r.act {
                Act::Read(v) => v != b && self.older_than_write(v, w),
                Act::SetRead(items) => !items.contains(b),
                _ => true,
            });
            if all_missed {
                let reads = self
                    .key
                    .ops
                    .iter()
                    .filter(|r| w.precedes(r) && matches!(r.act, Act::Read(_) | Act::SetRead(_)))
                    .count();
                let d = format!(
                    "the acknowledged write of {b}{} by {} was never seen: {} that began after it completed missed it (the first: {}).",
                    self.on(),
                    self.who(w),
                    if reads == 1 { "the one read".to_string() } else { format!("all {reads} reads") },
                    self.who(first)
                );
                return self.named(Kind::LostWrite, d, &[w, first]);
            }
        }
        None
    }

    /// `every write of 1`, or `the initial nil` when nothing writes it.
    fn old(&self, v: &Value) -> String {
        if self.writes.contains_key(v) {
            format!("every write of {v}")
        } else {
            format!("the initial {v}")
        }
    }

    /// Were all writes of `v` (or the initial value) over before `w` began?
    fn older_than_write(&self, v: &Value, w: &Fact<'_>) -> bool {
        match self.writes.get(v) {
            None => v == self.initial,
            Some(wv) => wv.last_done < w.invoke,
        }
    }

    /// A read that returned `v` though, before it began, an acknowledged
    /// write of a newer value completed or another read had returned one.
    pub fn stale_read(&self) -> Option<NamedAnomaly> {
        for (_, r) in self.cands() {
            for o in self.key.ops.iter().filter(|o| o.precedes(r)) {
                let why = match (r.act, o.act) {
                    (Act::Read(v), Act::Write(b)) if self.older(v, b) => {
                        format!("{v}{}, though the write of {b} by {} had completed before it began, after {}", self.on(), self.who(o), self.old(v))
                    }
                    (Act::Read(v), Act::Read(b)) if b != self.initial && self.older(v, b) => {
                        format!(
                            "{v}{}, though {} had already read {b}, written after {}",
                            self.on(),
                            self.who(o),
                            self.old(v)
                        )
                    }
                    (Act::SetRead(items), Act::Add(e)) if !items.contains(e) => {
                        format!("a set without {e}{}, though the add of {e} by {} had completed before it began", self.on(), self.who(o))
                    }
                    (Act::SetRead(items), Act::SetRead(seen)) => {
                        match seen.iter().find(|e| !items.contains(e)) {
                            Some(e) => format!(
                                "a set without {e}{}, though {} had already read it",
                                self.on(),
                                self.who(o)
                            ),
                            None => continue,
                        }
                    }
                    _ => continue,
                };
                let d = format!("{} read {why}.", self.who(r));
                return self.named(Kind::StaleRead, d, &[o, r]);
            }
        }
        None
    }

    /// A counter read outside what the increments allow: those certainly
    /// before it, plus any subset of those that may have run concurrently
    /// (real time); or any subset of all of them (program order only).
    pub fn counter_out_of_bounds(&self, real_time: bool, initial: i64) -> Option<NamedAnomaly> {
        for (_, r) in self.cands() {
            let Act::CountRead(n) = r.act else { continue };
            let (mut lower, mut upper) = (initial, initial);
            for o in &self.key.ops {
                let Act::Incr(d) = o.act else { continue };
                if !o.may_happen() {
                    continue;
                }
                if real_time && o.precedes(r) {
                    lower += d;
                    upper += d;
                } else if !real_time || r.done.is_none_or(|c| o.invoke < c) {
                    lower += d.min(0);
                    upper += d.max(0);
                }
            }
            if n < lower || n > upper {
                let d = format!(
                    "{} read {n}{}, but the increments allow only {lower} to {upper} there.",
                    self.who(r),
                    self.on()
                );
                return self.named(Kind::CounterOutOfBounds, d, &[r]);
            }
        }
        None
    }

    /// More acquires succeeded than releases could separate; or (real
    /// time) an acquire that completed before another began, with no
    /// release that could take effect between them.
    pub fn lock_held_twice(&self, real_time: bool) -> Option<NamedAnomaly> {
        let acquired: Vec<&Fact<'_>> = self
            .key
            .ops
            .iter()
            .filter(|f| f.act == Act::Acquire && f.done.is_some())
            .collect();
        let releases: Vec<&Fact<'_>> = self
            .key
            .ops
            .iter()
            .filter(|f| f.act == Act::Release && f.may_happen())
            .collect();
        if real_time {
            // A release between a and b begins before b completes and
            // does not complete before a begins.
            let between = |a: &Fact<'_>, b: &Fact<'_>| {
                releases.iter().any(|r| {
                    b.done.is_some_and(|d| r.invoke < d) && r.done.is_none_or(|d| d > a.invoke)
                })
            };
            for (i, a) in acquired.iter().enumerate() {
                if let Some(b) = acquired[i + 1..]
                    .iter()
                    .find(|b| a.precedes(b) && !between(a, b))
                {
                    let d = format!(
                        "{} acquired the lock{}, and {} acquired it too with no release between them.",
                        self.who(a),
                        self.on(),
                        self.who(b)
                    );
                    return self.named(Kind::LockHeldTwice, d, &[a, b]);
                }
            }
        }
        let releases = releases.len();
        if acquired.len() < releases + 2 {
            return None;
        }
        let d = format!(
            "{} acquires of the lock{} succeeded (the first two by {} and {}), but only {releases} release(s) were attempted, so two held it at once.",
            acquired.len(),
            self.on(),
            self.who(acquired[0]),
            self.who(acquired[1])
        );
        self.named(Kind::LockHeldTwice, d, &acquired[..2])
    }

    /// An item dequeued more often than it was enqueued.
    pub fn duplicated(&self) -> Option<NamedAnomaly> {
        let mut dequeued: BTreeMap<&Value, (usize, usize)> = BTreeMap::new();
        for (i, f) in self.key.ops.iter().enumerate() {
            if let Act::Dequeue(v) = f.act {
                dequeued.entry(v).or_insert((0, i)).0 += 1;
            }
        }
        let (v, (n, first)) = dequeued
            .into_iter()
            .filter(|(v, (n, _))| *n > self.writes.get(v).map_or(0, |w| w.count))
            .min_by_key(|(_, (_, first))| *first)?;
        let enq = self.writes.get(v).map_or(0, |w| w.count);
        let d = format!(
            "{v} was dequeued {n} times{} (first by {}) but enqueued {enq} time(s).",
            self.on(),
            self.who(self.op(first))
        );
        self.named(Kind::DuplicatedElement, d, &[self.op(first)])
    }
}

/// One order of two writes a process observed: `first` before `second`
/// (each a key index and a value written once there), shown by ops `a`
/// then `b` of that process.
struct Seen<'a> {
    process: i64,
    first: (usize, &'a Value),
    second: (usize, &'a Value),
    a: Fact<'a>,
    b: Fact<'a>,
}

/// Two processes that saw two writes in opposite orders, over the keys in
/// `scopes` (one for a single object).
pub(super) fn writes_in_two_orders(scopes: &[Scope<'_>]) -> Option<NamedAnomaly> {
    let mut by_process: BTreeMap<i64, Vec<(usize, Fact<'_>)>> = BTreeMap::new();
    for (k, s) in scopes.iter().enumerate() {
        for (_, f) in s.cands() {
            by_process.entry(f.process).or_default().push((k, *f));
        }
    }
    let mut seen: Vec<Seen<'_>> = Vec::new();
    for (p, ops) in &mut by_process {
        ops.sort_by_key(|(_, f)| f.invoke);
        for (x, (k1, a)) in ops.iter().enumerate() {
            let Some(v1) = once(&scopes[*k1], a) else {
                continue;
            };
            for (k2, b) in &ops[x + 1..] {
                let s2 = &scopes[*k2];
                let Act::Read(v2) = b.act else { continue };
                let seconds: Vec<&Value> = if k2 == k1 {
                    once(s2, b).filter(|v2| *v2 != v1).into_iter().collect()
                } else if v2 == s2.initial && !s2.writes.contains_key(v2) {
                    s2.writes
                        .iter()
                        .filter(|(_, w)| w.count == 1)
                        .map(|(v, _)| *v)
                        .collect()
                } else {
                    Vec::new()
                };
                for v2 in seconds {
                    seen.push(Seen {
                        process: *p,
                        first: (*k1, v1),
                        second: (*k2, v2),
                        a: *a,
                        b: *b,
                    });
                }
            }
        }
    }
    let s = scopes.first()?;
    for x in &seen {
        if let Some(y) = seen
            .iter()
            .find(|y| y.process != x.process && y.first == x.second && y.second == x.first)
        {
            let write = |(k, v): (usize, &Value)| format!("{v}{}", scopes[k].on());
            let d = format!(
                "{} saw the write of {} before that of {} ({} then {}), while {} saw the opposite order ({} then {}): one copy has one order of writes.",
                s.process_name(&x.a),
                write(x.first),
                write(x.second),
                s.place(&x.a),
                s.place(&x.b),
                s.process_name(&y.a),
                s.place(&y.a),
                s.place(&y.b),
            );
            let ops = vec![x.a.id, x.b.id, y.a.id, y.b.id];
            return Some(NamedAnomaly::new(Kind::WritesInTwoOrders, d, ops));
        }
    }
    None
}

/// The value `f` wrote, or read, when that value is written exactly once
/// on its key (and is not the initial value): the one write it shows.
fn once<'a>(s: &Scope<'a>, f: &Fact<'a>) -> Option<&'a Value> {
    match f.act {
        Act::Write(v) | Act::Read(v) if v != s.initial => {
            (s.writes.get(v).map(|w| w.count) == Some(1)).then_some(v)
        }
        _ => None,
    }
}
