//! One sentence on why a history is not sequentially consistent, in terms
//! of who read and wrote what, for models whose [`Hints`] name the values
//! ops read and write (the register family and kv).
//!
//! The sentence is a cycle of write orders, each one proved by what one
//! process did: "process 2 read 1 and then 2, so 1 was written before 2;
//! process 3 read 2 and then 1, so 2 was written before 1: no single order
//! of the writes allows both". The cycle is a shortest one in a graph of
//! orders every valid total order keeps (see `observe`, whose facts these
//! are; with unique values, this is the *happens-before* graph of axiomatic
//! memory models): program order, reads-from, the write orders processes
//! observe, and from-read — a read comes before the writes that follow its
//! source. Cut at its writes, such a cycle falls into pieces that each
//! stay inside one process, and each piece is one clause.
//!
//! Beside the sentence, each clause is given as a [`Link`]: the two writes
//! it orders and the ops that prove it, for the renderers to draw the
//! cycle.
//!
//! When no such cycle exists (the contradiction needs a longer argument,
//! or the model's ops do not name values), the caller falls back to a
//! generic sentence.

use super::hints::Hints;
use super::observe::{analyse, CoEdge, Observed, Tokens, Why, INIT, NO, UNCHANGED};
use super::problem::Problem;
use crate::check::deadline::Stop;
use crate::history::Process;
use crate::model::Model;
use std::collections::VecDeque;

/// Sub-histories up to this many ops get the search for a cycle; larger
/// ones only the write-order cycle `observe` finds.
const MAX_OPS: usize = 200;

/// The sentence, and its clauses as links of the cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Told {
    /// The whole sentence.
    pub sentence: String,
    /// Its clauses, in the order it tells them.
    pub links: Vec<Link>,
}

/// One clause: a write order and what proves it, with operations as
/// indices into [`History::operations`](crate::history::History).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Link {
    /// The clause.
    pub because: String,
    /// The write that comes first; `None` for the initial value.
    pub earlier: Option<usize>,
    /// The write that comes after it; `None` for the initial value.
    pub later: Option<usize>,
    /// The operations the clause names as its proof, in its order.
    pub ops: Vec<usize>,
}

/// A clause as the words build it: ops as indices into the problem's ops,
/// [`INIT`] for the initial value.
struct Clause {
    words: String,
    earlier: u32,
    later: u32,
    ops: Vec<u32>,
}

impl Told {
    /// The sentence of `clauses` closed by `ending`, with their links.
    fn of<M: Model>(pb: &Problem<M>, clauses: Vec<Clause>, ending: &str) -> Told {
        let id = |i: u32| (i != INIT).then(|| pb.ops[i as usize].id);
        let words: Vec<&str> = clauses.iter().map(|c| c.words.as_str()).collect();
        let sentence = format!("{}{ending}", words.join("; "));
        let links = clauses
            .into_iter()
            .map(|c| Link {
                earlier: id(c.earlier),
                later: id(c.later),
                ops: c.ops.into_iter().filter_map(id).collect(),
                because: c.words,
            })
            .collect();
        Told { sentence, links }
    }
}

/// One sentence on why `pb` (refuted) has no valid order, or `None`.
pub(crate) fn sentence<M: Model, H: Hints<M> + ?Sized>(
    pb: &Problem<M>,
    hints: &H,
    stop: &Stop<'_>,
) -> Option<Told> {
    let (obs, tokens) = analyse(pb, hints, stop);
    let words = Words {
        pb,
        hints,
        tokens: &tokens,
    };
    // Every value must have a name.
    for (k, interner) in tokens.interners.iter().enumerate() {
        for s in &interner.states {
            hints.describe_value(&pb.models[k], s)?;
        }
    }
    if let Some(cycle) = &obs.cycle {
        return Some(words.co_cycle(cycle));
    }
    if pb.ops.len() > MAX_OPS {
        return None;
    }
    let graph = Graph::new(pb, &obs);
    let cycle = graph.shortest_cycle()?;
    words.cycle(&graph, &obs, &cycle)
}

/// The sentence for a cycle of write orders `observe` found in `pb`.
pub(crate) fn co_sentence<M: Model, H: Hints<M> + ?Sized>(
    pb: &Problem<M>,
    hints: &H,
    tokens: &Tokens<M::State>,
    cycle: &[CoEdge],
) -> Option<Told> {
    let words = Words { pb, hints, tokens };
    for v in cycle.iter().flat_map(|e| [e.from, e.to]) {
        if v != INIT {
            words.value_of(v)?;
        }
    }
    Some(words.co_cycle(cycle))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Edge {
    /// Program order: the next op of the same process.
    Po,
    /// The target reads from the source.
    Rf,
    /// A write order `observe` proved (index into `Observed::co`).
    Co(u32),
    /// From-read: the source reads a value the target overwrote later;
    /// the index is the write order that says so (`Observed::co`), or
    /// `NO` when the source read the initial value.
    Fr(u32),
}

/// The orders every valid total order of a small problem keeps.
struct Graph {
    /// Per op: outgoing edges.
    out: Vec<Vec<(u32, Edge)>>,
    /// Per op: is it a write (a node at which the cycle is cut)?
    write: Vec<bool>,
}

impl Graph {
    fn new<M: Model>(pb: &Problem<M>, obs: &Observed) -> Graph {
        let n = pb.ops.len();
        let mut out: Vec<Vec<(u32, Edge)>> = vec![Vec::new(); n];
        for seq in &pb.procs {
            for w in seq.windows(2) {
                out[w[0] as usize].push((w[1], Edge::Po));
            }
        }
        let reads = |i: usize| obs.src[i] != NO && (!pb.ops[i].optional || obs.write[i]);
        for i in 0..n {
            let s = obs.src[i];
            if reads(i) && s != INIT && !obs.write[i] {
                out[s as usize].push((i as u32, Edge::Rf));
            }
        }
        // Write orders that chains of other orders prove (fact 4 of
        // `observe`) have no one-clause reason; the cycle avoids them.
        let plain = |e: &CoEdge| !matches!(e.why, Why::Before { .. });
        for (j, e) in obs.co.iter().enumerate() {
            if e.from != INIT && e.to != INIT && plain(e) {
                out[e.from as usize].push((e.to, Edge::Co(j as u32)));
            }
        }
        for (i, edges) in out.iter_mut().enumerate() {
            if !reads(i) {
                continue;
            }
            let k = pb.ops[i].key;
            let s = obs.src[i];
            if s == INIT {
                for y in 0..n {
                    if y != i && obs.write[y] && pb.ops[y].key == k {
                        edges.push((y as u32, Edge::Fr(NO)));
                    }
                }
            } else {
                for (j, e) in obs.co.iter().enumerate() {
                    if e.from == s && e.to != INIT && e.to != i as u32 && plain(e) {
                        edges.push((e.to, Edge::Fr(j as u32)));
                    }
                }
            }
        }
        Graph {
            out,
            write: obs.write.clone(),
        }
    }

    /// A shortest cycle through a write, as (node, edge into the next
    /// node) pairs starting at a write.
    fn shortest_cycle(&self) -> Option<Vec<(u32, Edge)>> {
        let n = self.out.len();
        let mut best: Option<Vec<(u32, Edge)>> = None;
        for start in (0..n).filter(|&v| self.write[v]) {
            // Breadth-first from `start` back to itself.
            let mut via: Vec<Option<(u32, Edge)>> = vec![None; n];
            let mut queue = VecDeque::from([start as u32]);
            'bfs: while let Some(v) = queue.pop_front() {
                for &(to, e) in &self.out[v as usize] {
                    if via[to as usize].is_none() {
                        via[to as usize] = Some((v, e));
                        if to as usize == start {
                            break 'bfs;
                        }
                        queue.push_back(to);
                    }
                }
            }
            if via[start].is_none() {
                continue;
            }
            let mut cycle = Vec::new();
            let mut v = start as u32;
            loop {
                let (from, e) = via[v as usize].expect("on the path");
                cycle.push((from, e));
                v = from;
                if v as usize == start {
                    break;
                }
            }
            cycle.reverse();
            if best.as_ref().is_none_or(|b| cycle.len() < b.len()) {
                best = Some(cycle);
            }
        }
        best
    }
}

/// Names of ops and values.
struct Words<'a, M: Model, H: ?Sized> {
    pb: &'a Problem<M>,
    hints: &'a H,
    tokens: &'a Tokens<M::State>,
}

impl<M: Model, H: Hints<M> + ?Sized> Words<'_, M, H> {
    fn name(&self, k: usize, token: u32) -> Option<String> {
        self.hints.describe_value(
            &self.pb.models[k],
            &self.tokens.interners[k].states[token as usize],
        )
    }

    /// The value op `i` writes.
    fn value_of(&self, i: u32) -> Option<String> {
        let i = i as usize;
        let t = self.tokens.eff[i];
        (t < UNCHANGED)
            .then(|| self.name(self.pb.ops[i].key as usize, t))
            .flatten()
    }

    fn key(&self, k: usize) -> Option<String> {
        self.pb.keys[k].as_ref().map(|v| format!("key {v}"))
    }

    fn process(&self, i: u32) -> &Process {
        &self.pb.process_ids[self.pb.ops[i as usize].process as usize]
    }

    /// What op `i` did, in the past tense: `read 1 from key x`.
    fn did(&self, i: u32) -> String {
        let i = i as usize;
        let c = &self.pb.ops[i];
        let k = c.key as usize;
        let key = self.key(k);
        let (req, eff) = (self.tokens.req[i], self.tokens.eff[i]);
        let v = |t: u32| self.name(k, t).unwrap_or_else(|| "?".into());
        let s = match (req != NO, eff) {
            (true, UNCHANGED) => format!(
                "read {}{}",
                v(req),
                key.map_or(String::new(), |k| format!(" from {k}"))
            ),
            (false, t) if t < UNCHANGED => format!(
                "wrote {}{}",
                v(t),
                key.map_or(String::new(), |k| format!(" to {k}"))
            ),
            (true, t) if t < UNCHANGED => format!(
                "replaced {} with {}{}",
                v(req),
                v(t),
                key.map_or(String::new(), |k| format!(" in {k}"))
            ),
            _ => {
                let d = self.pb.models[k].describe_op(&c.op);
                key.map_or(d.clone(), |k| format!("did {d} on {k}"))
            }
        };
        if c.optional {
            format!("{s} (indeterminate, so it took effect)")
        } else {
            s
        }
    }

    /// The value op `i` writes, with its key: `1`, `1 in key x`.
    fn written(&self, i: u32) -> String {
        let v = self.value_of(i).unwrap_or_else(|| "?".into());
        match self.key(self.pb.ops[i as usize].key as usize) {
            Some(k) => format!("{v} in {k}"),
            None => v,
        }
    }

    /// `1 was written before 2`, or with keys `the write of 1 to key x
    /// came before the write of 2 to key y`.
    fn before(&self, x: u32, y: u32) -> String {
        let vx = self.value_of(x).unwrap_or_else(|| "?".into());
        let vy = self.value_of(y).unwrap_or_else(|| "?".into());
        let (kx, ky) = (
            self.pb.ops[x as usize].key as usize,
            self.pb.ops[y as usize].key as usize,
        );
        match (self.key(kx), self.key(ky)) {
            (None, None) => format!("{vx} was written before {vy}"),
            (a, b) => format!(
                "the write of {vx}{} came before the write of {vy}{}",
                a.map_or(String::new(), |k| format!(" to {k}")),
                b.map_or(String::new(), |k| format!(" to {k}"))
            ),
        }
    }

    /// The clause for a write order `observe` proved.
    fn co_clause(&self, e: &CoEdge) -> Clause {
        let (words, ops) = match e.why {
            Why::Seen { a, b } => (
                format!(
                    "process {} {} and then {}, so {}",
                    self.process(b),
                    self.did(a),
                    self.did(b),
                    self.before(e.from, e.to)
                ),
                vec![a, b],
            ),
            Why::Cas => (
                format!(
                    "process {} {}, so {}",
                    self.process(e.to),
                    self.did(e.to),
                    self.before(e.from, e.to)
                ),
                vec![e.to],
            ),
            Why::Before { o } => (
                format!(
                    "{} must come before process {}'s op that {}, so {}",
                    self.written(e.from),
                    self.process(o),
                    self.did(o),
                    self.before(e.from, e.to)
                ),
                vec![o],
            ),
        };
        Clause {
            words,
            earlier: e.from,
            later: e.to,
            ops,
        }
    }

    fn ending(clauses: usize) -> &'static str {
        if clauses == 2 {
            ": no single order of the writes allows both"
        } else {
            ": no single order of the writes allows all of these"
        }
    }

    /// The sentence for a cycle of write orders.
    fn co_cycle(&self, cycle: &[CoEdge]) -> Told {
        if let [e] = cycle {
            if let (Why::Seen { a, b }, INIT) = (e.why, e.to) {
                let k = e.key as usize;
                let init = self
                    .name(k, self.tokens.init[k])
                    .unwrap_or_else(|| "?".into());
                let words = format!(
                    "process {} {} and then {}, but {init} is the initial value{} and no op writes it after {}",
                    self.process(b),
                    self.did(a),
                    self.did(b),
                    self.key(k).map_or(String::new(), |k| format!(" of {k}")),
                    self.value_of(e.from).unwrap_or_else(|| "?".into())
                );
                let clause = Clause {
                    words,
                    earlier: e.from,
                    later: INIT,
                    ops: vec![a, b],
                };
                return Told::of(self.pb, vec![clause], "");
            }
        }
        let clauses: Vec<Clause> = cycle.iter().map(|e| self.co_clause(e)).collect();
        let ending = Self::ending(clauses.len());
        Told::of(self.pb, clauses, ending)
    }

    /// The sentence for a cycle of the graph, cut at its writes.
    fn cycle(&self, g: &Graph, obs: &Observed, cycle: &[(u32, Edge)]) -> Option<Told> {
        let mut clauses = Vec::new();
        let mut i = 0;
        while i < cycle.len() {
            // One piece: from the write cycle[i].0 to the next write.
            let x = cycle[i].0;
            let mut j = i;
            while !g.write[cycle[(j + 1) % cycle.len()].0 as usize] {
                j += 1;
            }
            let y = cycle[(j + 1) % cycle.len()].0;
            let piece = &cycle[i..=j];
            clauses.push(self.piece(obs, x, y, piece)?);
            i = j + 1;
        }
        let ending = Self::ending(clauses.len());
        Some(Told::of(self.pb, clauses, ending))
    }

    /// One clause: the ops of one process that order write `x` before
    /// write `y`.
    fn piece(&self, obs: &Observed, x: u32, y: u32, piece: &[(u32, Edge)]) -> Option<Clause> {
        let first = piece[0];
        let last = piece[piece.len() - 1];
        let clause = |words: String, mut ops: Vec<u32>, tail: Option<Clause>| {
            ops.extend(tail.into_iter().flat_map(|t| t.ops));
            Clause {
                words,
                earlier: x,
                later: y,
                ops,
            }
        };
        if piece.len() == 1 {
            return Some(match first.1 {
                Edge::Co(j) => self.co_clause(&obs.co[j as usize]),
                Edge::Po => clause(
                    format!(
                        "process {} {} and then {}, so {}",
                        self.process(x),
                        self.did(x),
                        self.did(y),
                        self.before(x, y)
                    ),
                    vec![x, y],
                    None,
                ),
                Edge::Fr(j) => {
                    let (tail, why) = self.overwritten(obs, j);
                    clause(
                        format!(
                            "process {} {}{tail}, so {}",
                            self.process(x),
                            self.did(x),
                            self.before(x, y)
                        ),
                        vec![x],
                        why,
                    )
                }
                Edge::Rf => return None,
            });
        }
        // The piece runs inside one process: it enters by program order
        // (from its own write) or by reading `x`, and leaves by program
        // order (to its own write) or by a read of a value `y` overwrote.
        let a = match first.1 {
            Edge::Po => x,
            Edge::Rf => piece[1].0,
            _ => return None,
        };
        let (b, (tail, why)) = match last.1 {
            Edge::Po => (y, (String::new(), None)),
            Edge::Fr(j) => (last.0, self.overwritten(obs, j)),
            _ => return None,
        };
        Some(clause(
            format!(
                "process {} {} and then {}{tail}, so {}",
                self.process(a),
                self.did(a),
                self.did(b),
                self.before(x, y)
            ),
            vec![a, b],
            why,
        ))
    }

    /// Why a from-read edge holds: `""` for a read of the initial value,
    /// else the write order that put the overwriting write after the
    /// source, in parentheses, with its clause.
    fn overwritten(&self, obs: &Observed, j: u32) -> (String, Option<Clause>) {
        if j == NO {
            return (String::new(), None);
        }
        let e = &obs.co[j as usize];
        let why = self.co_clause(e);
        let words = format!(
            ", and {} was overwritten by {} ({})",
            self.written(e.from),
            self.value_of(e.to).unwrap_or_else(|| "?".into()),
            why.words
        );
        (words, Some(why))
    }
}
