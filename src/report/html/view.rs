//! What the page draws of one history, gathered from the history and the
//! checkers' evidence: the operations to draw (as bars in lanes), the
//! windows they are drawn in, the fault bands and, for a large history, an
//! overview of the whole of it.
//!
//! Nothing here judges anything: the marks (the failing operation, the ops
//! concurrent with it, the longest linearizable prefix, the linearization
//! and sequential orders, the minimal counterexamples) are read from the
//! evidence. A history of at most [`WHOLE_LIMIT`] operations is drawn
//! whole; a larger one in windows of [`WINDOW_RADIUS`] events either side
//! of each failing operation (at most [`MAX_WINDOWS`]; each failure gets
//! its own window, so a cap on a window never cuts a failure off), or of
//! its beginning when nothing failed, under a density strip of the whole.

use crate::check::convergence::{Anomaly, ConvergenceReport, TimeUnit};
use crate::check::evidence::OpView;
use crate::check::linearizable::LinearizableReport;
use crate::check::sequential::SequentialReport;
use crate::history::{History, Operation, Outcome, Value};
use crate::report::{Evidence, FileReport};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Histories of at most this many operations are drawn whole.
pub const WHOLE_LIMIT: usize = 1_000;
/// A window spans this many events either side of its operation.
pub const WINDOW_RADIUS: usize = 150;
/// At most this many windows per history.
pub const MAX_WINDOWS: usize = 32;
/// A window also draws at most this many indeterminate operations invoked
/// before it and still open (the latest).
const OPEN_BEFORE: usize = 32;
/// How many operations invoked before a window are looked at for ones
/// that are still running in it.
const LOOK_BACK: usize = 5_000;
/// Buckets of the overview's density strip.
const BUCKETS: usize = 600;
/// At most this many fault bands are drawn.
const MAX_FAULTS: usize = 2_000;
/// Labels and states are cut to this many characters.
const LABEL_CHARS: usize = 48;

/// One history, as the page draws it.
#[derive(Clone, Debug, Serialize)]
pub struct FileView {
    /// Every event carries a time: the timeline can run by time.
    pub timed: bool,
    /// Events in the history.
    pub events: usize,
    /// Client operations in the history.
    pub operations: usize,
    /// The processes, as written, one lane each (by client number).
    pub lanes: Vec<String>,
    /// The keys of the drawn operations, as written.
    pub keys: Vec<String>,
    /// The drawn operations, in invocation order.
    pub ops: Vec<OpRec>,
    /// Where they are drawn.
    pub windows: Vec<Window>,
    /// Failing operations beyond [`MAX_WINDOWS`] without a window.
    pub windows_left_out: usize,
    /// Fault events (nemesis) as bands across the lanes.
    pub faults: Vec<Fault>,
    /// The density of the whole history, when it is drawn in windows.
    pub overview: Option<Overview>,
    /// The minimal counterexamples, each drawn as its own timeline.
    pub minimals: Vec<Minimal>,
    /// The cycles of write orders that refute sequential consistency,
    /// each drawn as its own timeline with an arrow per step.
    pub cycles: Vec<Cycle>,
    /// Per key the convergence checker judged: when its replicas agreed.
    pub agreements: Vec<Agreement>,
}

/// When a key's final reads agreed (or that they never did), from the
/// convergence evidence.
#[derive(Clone, Debug, Serialize)]
pub struct Agreement {
    /// The key, as [`FileView::keys`] writes it.
    pub key: Option<String>,
    /// The moment from which every read agreed: a time, or an event index
    /// when ops carry no time; `None` when they never agreed.
    pub at: Option<i64>,
    /// Whether `at` is an event index.
    pub events: bool,
    /// What the line says: the value agreed on, or the groups of final
    /// reads that never agreed.
    pub label: String,
}

/// One operation, as a bar.
#[derive(Clone, Debug, Serialize)]
pub struct OpRec {
    /// Index in the history's operations.
    pub id: usize,
    /// Its lane (index into [`FileView::lanes`]).
    pub lane: usize,
    /// Its key (index into [`FileView::keys`]).
    pub key: Option<usize>,
    /// Event index of the invocation.
    pub inv: usize,
    /// Event index of the completion.
    pub cmp: Option<usize>,
    /// Time of the invocation.
    pub t0: Option<i64>,
    /// Time of the completion.
    pub t1: Option<i64>,
    /// ok, fail or info.
    pub outcome: Outcome,
    /// `write 1`, `read → 2`, `cas 1→3`.
    pub label: String,
    /// The node that answered, where the op names one.
    pub node: Option<String>,
    /// Its place in the linearization (a valid partition's) or in the
    /// longest linearizable prefix (an invalid one's), per key.
    pub rank: Option<usize>,
    /// The model's state after it in that linearization.
    pub state: Option<String>,
    /// Its place in the sequential witness order.
    pub seq: Option<usize>,
    /// What the evidence says of it: `failing`, `concurrent`,
    /// `previous-ok`, `prefix` (linearizability); `lost`, `winner`,
    /// `divergent`, `unexplained`, `missing`, `failed-present`,
    /// `out-of-bounds` (convergence).
    pub marks: Vec<&'static str>,
}

/// A stretch of the history drawn in detail.
#[derive(Clone, Debug, Serialize)]
pub struct Window {
    /// What it shows.
    pub title: String,
    /// The operation it is centred on.
    pub focus: Option<usize>,
    /// First event index shown.
    pub from: usize,
    /// Last event index shown.
    pub to: usize,
    /// The time of event `from`, when events carry times.
    pub t_from: Option<i64>,
    /// The time of event `to`.
    pub t_to: Option<i64>,
    /// Its operations (indices into [`FileView::ops`]).
    pub ops: Vec<usize>,
    /// Indeterminate operations from before the window, still open in it,
    /// that are not drawn.
    pub open_left_out: usize,
}

/// A fault, from the event that started it to the one that healed it.
#[derive(Clone, Debug, Serialize)]
pub struct Fault {
    /// Event index where it began.
    pub from: usize,
    /// Event index where it was healed; `None`: never.
    pub to: Option<usize>,
    /// Time it began.
    pub t0: Option<i64>,
    /// Time it was healed.
    pub t1: Option<i64>,
    /// `start-partition [:n1 :n2]`.
    pub label: String,
}

/// The whole history at a glance: operations invoked per bucket of events.
#[derive(Clone, Debug, Serialize)]
pub struct Overview {
    /// Events per bucket.
    pub bucket_events: usize,
    /// Per bucket: operations that ended ok, fail, info.
    pub counts: Vec<[u32; 3]>,
}

/// A minimal counterexample, drawn as its own timeline.
#[derive(Clone, Debug, Serialize)]
pub struct Minimal {
    /// Which check it refutes.
    pub check: &'static str,
    /// The key, when the check was split by key.
    pub key: Option<String>,
    /// Its operations (ids).
    pub ops: Vec<usize>,
    /// The operation no order gets past, when the evidence names one.
    pub failing: Option<usize>,
    /// Whether it was verified 1-minimal.
    pub verified: bool,
}

/// A cycle of write orders (the sequential counterexample's `cycle`).
#[derive(Clone, Debug, Serialize)]
pub struct Cycle {
    /// The key, when the check was split by key.
    pub key: Option<String>,
    /// Every operation a step names (ids), in operation order.
    pub ops: Vec<usize>,
    /// The steps, in the order the sentence tells them.
    pub steps: Vec<CycleStep>,
}

/// One step of a [`Cycle`]: an arrow from the write that comes first to
/// the one that comes after it.
#[derive(Clone, Debug, Serialize)]
pub struct CycleStep {
    /// The write that comes first (id); `None` for the initial value.
    pub earlier: Option<usize>,
    /// The write that comes after it (id); `None` for the initial value.
    pub later: Option<usize>,
    /// The operations that prove it (ids).
    pub ops: Vec<usize>,
}

/// The marks the evidence puts on operations, by id.
#[derive(Default)]
struct Marks {
    marks: BTreeMap<usize, Vec<&'static str>>,
    rank: BTreeMap<usize, (usize, Option<String>)>,
    focus: Vec<(usize, String)>,
    minimals: Vec<Minimal>,
    cycles: Vec<Cycle>,
}

impl Marks {
    fn mark(&mut self, id: usize, what: &'static str) {
        let v = self.marks.entry(id).or_default();
        if !v.contains(&what) {
            v.push(what);
        }
    }

    fn linearizable(&mut self, r: &LinearizableReport) {
        for p in &r.partitions {
            let key = p.key.as_ref().map(Value::to_string);
            if let Some(w) = &p.witness {
                for s in &w.steps {
                    self.rank.insert(s.id, (s.rank, Some(cut(&s.state))));
                }
            }
            let Some(ev) = &p.evidence else { continue };
            self.mark(ev.op.id, "failing");
            let at = key
                .as_ref()
                .map_or(String::new(), |k| format!(" (key {k})"));
            self.focus
                .push((ev.op.id, format!("linearizability: {}{at}", ev.op.op)));
            for c in &ev.concurrent {
                self.mark(c.id, "concurrent");
            }
            if let Some(prev) = &ev.previous_ok {
                self.mark(prev.id, "previous-ok");
            }
            let first = ev.prefix_len.saturating_sub(ev.prefix.len());
            for (i, o) in ev.prefix.iter().enumerate() {
                self.mark(o.id, "prefix");
                self.rank.insert(o.id, (first + i, None));
            }
            if let Some(m) = &ev.minimal {
                self.minimals.push(Minimal {
                    check: "linearizable",
                    key,
                    ops: ids(m),
                    failing: m.iter().any(|o| o.id == ev.op.id).then_some(ev.op.id),
                    verified: ev.minimal_verified,
                });
            }
        }
    }

    fn sequential(&mut self, r: &SequentialReport) {
        let Some(c) = &r.counterexample else { return };
        if !c.cycle.is_empty() {
            let id = |o: &Option<OpView>| o.as_ref().map(|o| o.id);
            let steps: Vec<CycleStep> = c
                .cycle
                .iter()
                .map(|s| CycleStep {
                    earlier: id(&s.earlier),
                    later: id(&s.later),
                    ops: ids(&s.ops),
                })
                .collect();
            let ops: BTreeSet<usize> = steps
                .iter()
                .flat_map(|s| s.ops.iter().copied().chain(s.earlier).chain(s.later))
                .collect();
            self.cycles.push(Cycle {
                key: c.key.as_ref().map(Value::to_string),
                ops: ops.into_iter().collect(),
                steps,
            });
        }
        if let Some(m) = &c.minimal {
            if let Some(first) = m.first() {
                self.focus.push((
                    first.id,
                    "sequential consistency: the counterexample".into(),
                ));
            }
            self.minimals.push(Minimal {
                check: "sequential",
                key: c.key.as_ref().map(Value::to_string),
                ops: ids(m),
                failing: None,
                verified: c.one_minimal,
            });
        }
    }
}

/// At most this many convergence anomalies get a window of their own.
const CONVERGENCE_FOCI: usize = 8;

impl Marks {
    /// The ops each convergence anomaly names: the lost write and the one
    /// that won, diverging final reads, reads nothing explains.
    fn convergence(&mut self, r: &ConvergenceReport) {
        for (n, a) in r.anomalies.iter().enumerate() {
            let (title, marked): (&str, Vec<(&OpView, &'static str)>) = match a {
                Anomaly::LostUpdate { lost, winner, .. } => (
                    "lost write",
                    std::iter::once((lost, "lost"))
                        .chain(winner.iter().map(|w| (w, "winner")))
                        .collect(),
                ),
                Anomaly::Lost {
                    update,
                    missing_from,
                    ..
                } => (
                    "lost update",
                    std::iter::once((update, "lost"))
                        .chain(missing_from.iter().map(|r| (&r.op, "missing")))
                        .collect(),
                ),
                Anomaly::Divergence { reads, .. } => (
                    "divergent final reads",
                    reads.iter().map(|r| (&r.op, "divergent")).collect(),
                ),
                Anomaly::FailedButPresent { update, read, .. } => (
                    "failed update present",
                    vec![(update, "failed-present"), (&read.op, "unexplained")],
                ),
                Anomaly::Unexplained { read, .. } => {
                    ("unexplained read", vec![(&read.op, "unexplained")])
                }
                Anomaly::OutOfBounds { read, .. } => {
                    ("counter out of bounds", vec![(&read.op, "out-of-bounds")])
                }
                Anomaly::Duplicated { .. } => continue,
            };
            for (op, what) in &marked {
                self.mark(op.id, what);
            }
            if let Some((first, _)) = marked.first().filter(|_| n < CONVERGENCE_FOCI) {
                self.focus.push((first.id, format!("convergence: {title}")));
            }
        }
    }
}

fn ids(ops: &[OpView]) -> Vec<usize> {
    ops.iter().map(|o| o.id).collect()
}

/// `text` cut to [`LABEL_CHARS`] characters.
fn cut(text: &str) -> String {
    match text.char_indices().nth(LABEL_CHARS) {
        None => text.to_string(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

/// A value as a label shows it: strings and keywords without their quotes
/// or colon.
fn plain(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        Value::Keyword(k) => k.to_string(),
        v => v.to_string(),
    }
}

/// The op in a few words: `write 1`, `read → 2`, `cas 1→3`, `add 3`.
pub fn label(h: &History, o: &Operation) -> String {
    let inv = h.invocation(o);
    let f = inv.f.trim_start_matches(':').to_string();
    let input = &inv.value;
    let output = h.output(o);
    if let (true, Some([from, to])) = (f.contains("cas"), input.as_vector()) {
        return cut(&format!("{f} {from}→{to}"));
    }
    let text = match (input.is_nil(), output) {
        (true, Some(out)) => format!("{f} → {out}"),
        (true, None) => f,
        (false, Some(out)) if out != input && !out.is_nil() => format!("{f} {input} → {out}"),
        (false, _) => format!("{f} {input}"),
    };
    cut(&text)
}

impl FileView {
    /// What the page draws of `history`, checked as `report` says.
    pub fn new(history: &History, report: &FileReport) -> FileView {
        let mut marks = Marks::default();
        let mut seq_order: Option<&[usize]> = None;
        let mut agreements = Vec::new();
        for section in report.checks.values() {
            match &section.evidence {
                Evidence::Linearizable(r) => marks.linearizable(r),
                Evidence::Sequential(r) => {
                    marks.sequential(r);
                    seq_order = r.order.as_deref();
                }
                Evidence::Convergence(r) => {
                    marks.convergence(r);
                    agreements = self::agreements(r);
                }
                Evidence::Skipped { .. } => {}
            }
        }
        let n = history.operations.len();
        let (mut windows, left_out) = if n <= WHOLE_LIMIT {
            let all = Window {
                title: "the whole history".into(),
                focus: marks.focus.first().map(|f| f.0),
                from: 0,
                to: history.ops.len().saturating_sub(1),
                t_from: None,
                t_to: None,
                ops: (0..n).collect(),
                open_left_out: 0,
            };
            (vec![all], 0)
        } else {
            windows(history, &marks.focus)
        };
        // Every operation drawn: in windows, and in the evidence.
        let mut drawn: BTreeSet<usize> = windows.iter().flat_map(|w| w.ops.clone()).collect();
        drawn.extend(marks.marks.keys());
        drawn.extend(marks.minimals.iter().flat_map(|m| m.ops.clone()));
        drawn.extend(marks.cycles.iter().flat_map(|c| c.ops.clone()));
        let mut view = FileView {
            timed: !history.ops.is_empty() && history.ops.iter().all(|e| e.time.is_some()),
            events: history.ops.len(),
            operations: n,
            lanes: Vec::new(),
            keys: Vec::new(),
            ops: Vec::new(),
            windows: Vec::new(),
            windows_left_out: left_out,
            faults: faults(history),
            overview: (n > WHOLE_LIMIT).then(|| overview(history)),
            minimals: std::mem::take(&mut marks.minimals),
            cycles: std::mem::take(&mut marks.cycles),
            agreements,
        };
        let at = view.records(history, &drawn, &mut marks);
        if let Some(order) = seq_order {
            for (rank, id) in order.iter().enumerate() {
                if let Some(&i) = at.get(id) {
                    view.ops[i].seq = Some(rank);
                }
            }
        }
        for w in &mut windows {
            w.ops = w.ops.iter().filter_map(|id| at.get(id).copied()).collect();
        }
        view.windows = windows;
        view
    }

    /// Fills [`FileView::ops`], lanes and keys with the operations `drawn`;
    /// returns where each id went.
    fn records(
        &mut self,
        h: &History,
        drawn: &BTreeSet<usize>,
        marks: &mut Marks,
    ) -> BTreeMap<usize, usize> {
        let mut lanes: BTreeMap<i64, String> = BTreeMap::new();
        let mut keys: BTreeMap<Value, usize> = BTreeMap::new();
        for &id in drawn {
            let o = &h.operations[id];
            lanes
                .entry(o.process)
                .or_insert_with(|| h.process(o).to_string());
            if let Some(k) = h.key(o) {
                let next = keys.len();
                keys.entry(k.clone()).or_insert(next);
            }
        }
        let lane_of: BTreeMap<i64, usize> =
            lanes.keys().enumerate().map(|(i, &p)| (p, i)).collect();
        self.lanes = lanes.into_values().collect();
        // Keys in their own order, numbered in that order.
        let key_of: BTreeMap<Value, usize> =
            keys.into_keys().enumerate().map(|(i, k)| (k, i)).collect();
        self.keys = key_of.keys().map(plain).collect();
        let mut at = BTreeMap::new();
        for &id in drawn {
            let o = &h.operations[id];
            let (inv, cmp) = (h.invocation(o), h.completion(o));
            let node = inv
                .node
                .as_ref()
                .or_else(|| cmp.and_then(|c| c.node.as_ref()));
            let (rank, state) = marks.rank.remove(&id).unzip();
            at.insert(id, self.ops.len());
            self.ops.push(OpRec {
                id,
                lane: lane_of[&o.process],
                key: h.key(o).map(|k| key_of[k]),
                inv: o.invoke,
                cmp: o.complete,
                t0: inv.time,
                t1: cmp.and_then(|c| c.time),
                outcome: o.outcome,
                label: label(h, o),
                node: node.map(plain),
                rank,
                state: state.flatten(),
                seq: None,
                marks: marks.marks.remove(&id).unwrap_or_default(),
            });
        }
        at
    }
}

/// Windows around each focus (operation ids), or around the beginning;
/// their `ops` are operation ids. Also returns how many foci were left
/// without a window.
fn windows(h: &History, focus: &[(usize, String)]) -> (Vec<Window>, usize) {
    let mut out: Vec<Window> = Vec::new();
    let mut left_out = 0;
    for (id, title) in focus {
        let o = &h.operations[*id];
        let end = o.complete.unwrap_or(o.invoke);
        if out.iter().any(|w| w.from <= o.invoke && end <= w.to) {
            continue; // already in a window
        }
        if out.len() == MAX_WINDOWS {
            left_out += 1;
            continue;
        }
        let from = o.invoke.saturating_sub(WINDOW_RADIUS);
        let to = (end + WINDOW_RADIUS).min(h.ops.len().saturating_sub(1));
        out.push(window(h, title.clone(), Some(*id), from, to));
    }
    if out.is_empty() {
        let to = (2 * WINDOW_RADIUS).min(h.ops.len().saturating_sub(1));
        out.push(window(h, "the beginning".into(), None, 0, to));
    }
    (out, left_out)
}

/// The window of events `from..=to`: the operations invoked in it, those
/// invoked before it that complete in it, and the latest indeterminate ones
/// still open.
fn window(h: &History, title: String, focus: Option<usize>, from: usize, to: usize) -> Window {
    let ops = &h.operations;
    let start = ops.partition_point(|o| o.invoke < from);
    let mut ids: Vec<usize> = Vec::new();
    let mut open = Vec::new();
    for id in (start.saturating_sub(LOOK_BACK)..start).rev() {
        match ops[id].complete {
            Some(c) if ops[id].outcome != Outcome::Info => {
                if c >= from {
                    ids.push(id);
                }
            }
            _ => open.push(id),
        }
    }
    let open_left_out = open.len().saturating_sub(OPEN_BEFORE);
    ids.extend(open.into_iter().take(OPEN_BEFORE));
    ids.extend((start..ops.len()).take_while(|&i| ops[i].invoke <= to));
    ids.sort_unstable();
    Window {
        title,
        focus,
        from,
        to,
        t_from: h.ops.get(from).and_then(|e| e.time),
        t_to: h.ops.get(to).and_then(|e| e.time),
        ops: ids,
        open_left_out,
    }
}

/// The fault bands: from each fault event to the next heal (stop, heal,
/// resume), or to the end.
fn faults(h: &History) -> Vec<Fault> {
    let mut out: Vec<Fault> = Vec::new();
    let mut open: Option<Fault> = None;
    for &e in &h.nemesis {
        let ev = &h.ops[e];
        let f = ev.f.trim_start_matches(':').to_string();
        if crate::check::convergence::is_heal(&f) {
            if let Some(mut band) = open.take() {
                band.to = Some(e);
                band.t1 = ev.time;
                out.push(band);
            }
        } else if open.is_none() {
            let label = match &ev.value {
                Value::Nil => f,
                v => format!("{f} {v}"),
            };
            open = Some(Fault {
                from: e,
                to: None,
                t0: ev.time,
                t1: None,
                label: cut(&label),
            });
        }
        if out.len() == MAX_FAULTS {
            return out;
        }
    }
    out.extend(open);
    out
}

/// At most this many keys get an agreement line.
const MAX_AGREEMENTS: usize = 200;

/// When each key's replicas agreed, or the groups that never did.
fn agreements(r: &ConvergenceReport) -> Vec<Agreement> {
    let events = r.final_reads.unit == TimeUnit::Events;
    r.keys
        .iter()
        .filter(|k| !k.final_values.is_empty())
        .take(MAX_AGREEMENTS)
        .map(|k| {
            let at = match (&k.converged_value, k.last_update_at, k.convergence_time) {
                (Some(_), Some(last), Some(t)) => Some(last.saturating_add(t)),
                _ => None,
            };
            let label = match &k.converged_value {
                Some(v) if at.is_some() => {
                    format!("replicas agree on {} from here", cut(&plain(v)))
                }
                _ => {
                    let groups: Vec<String> = k
                        .final_values
                        .iter()
                        .map(|g| format!("{} ({})", cut(&plain(&g.value)), g.replicas.join(", ")))
                        .collect();
                    format!("final reads never agreed: {}", groups.join(" vs "))
                }
            };
            Agreement {
                key: k.key.as_ref().map(plain),
                at,
                events,
                label,
            }
        })
        .collect()
}

/// Operations invoked per bucket of events, by outcome.
fn overview(h: &History) -> Overview {
    let bucket_events = h.ops.len().div_ceil(BUCKETS).max(1);
    let mut counts = vec![[0u32; 3]; h.ops.len().div_ceil(bucket_events)];
    for o in &h.operations {
        let slot = match o.outcome {
            Outcome::Ok => 0,
            Outcome::Fail => 1,
            Outcome::Info => 2,
        };
        counts[o.invoke / bucket_events][slot] += 1;
    }
    Overview {
        bucket_events,
        counts,
    }
}
