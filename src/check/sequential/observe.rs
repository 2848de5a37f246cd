//! Orders the history itself proves, for ops whose [`Hints`] say which
//! value they write and which value they read.
//!
//! When exactly one op of a key can set a value (counting indeterminate
//! ops), every op that needs that value — a read of it, a compare-and-set
//! that expects it — *reads from* that op. When no op sets the key's
//! initial value, the ops that need it read from a virtual *initial
//! write*, which comes before every write of the key. With these sources
//! known, four facts hold in every sequentially consistent order (for
//! one key, "before" means before in the order; "the key's writes" are
//! the ops that set a known value, indeterminate ones included when an op
//! reads from them, since then they took effect):
//!
//! 1. **Each process sees a key's writes in one order.** Let op `a` of a
//!    process *observe* write `X` of a key (`a` is `X`, or reads from `X`)
//!    and a later op `b` of the same process observe `Y ≠ X`. Then `X`
//!    comes before `Y`. *Proof.* `X` is at or before `a`, and `a` before
//!    `b`. If `Y` came before `X`: when `b` is `Y`, `Y` would follow `a`
//!    and so `X`, a contradiction; when `b` reads from `Y`, the write `X`
//!    would lie between `Y` and `b`, and `b` would not see `Y`'s value
//!    (no other op sets it). So `X` comes first. When `Y` is the initial
//!    write, which comes first of all, this is already a contradiction.
//! 2. **A compare-and-set comes after the write it read from.**
//! 3. **A reader comes before the writes that follow its source**
//!    (from-read): if `r` reads from `S` and `S` comes before a write
//!    `Y ≠ r`, then `r` comes before `Y` — otherwise `Y` would lie between
//!    `S` and `r` and hide `S`'s value. For a compare-and-set `r` this is
//!    its atomicity: nothing comes between it and its source.
//! 4. **A write comes before what the ops after it observe.** If write
//!    `Y` comes before op `o` of the same key by any chain of proved
//!    orders (program order, reads-from, and facts 1 to 4), and `o`
//!    observes `X ≠ Y`, then `Y` comes before `X` — by the argument of
//!    fact 1, with the chain in place of program order.
//!
//! Facts 1 and 2 give a graph of write orders per key (`co`, as in
//! axiomatic memory models), with one edge each time a process observes a
//! new write of a key: linear in the history. A cycle in it proves that
//! the history is not sequentially consistent, and names the processes
//! whose observations contradict each other. Otherwise fact 4 adds the
//! write orders that chains across processes and keys prove, in a few
//! rounds, each linear in the history times the number of processes; a
//! cycle among all the orders is again a proof (it catches store
//! buffering and IRIW, which no single key shows). The orders of facts 1
//! to 4 hold in every valid total order, so the search may refuse to
//! place an op before its predecessors (see `engine`).

use super::hints::{Effect, Hints};
use super::memo::FxMap;
use super::problem::Problem;
use crate::check::deadline::{Stop, Ticker};
use crate::model::Model;
use std::collections::HashMap;
use std::ops::ControlFlow;

/// No op: unknown, or not applicable.
pub(crate) const NO: u32 = u32::MAX;
/// The virtual initial write of a key (a source, or an end of a `co` edge).
pub(crate) const INIT: u32 = u32::MAX - 1;
/// An op's effect: leaves the state unchanged.
pub(crate) const UNCHANGED: u32 = u32::MAX - 1;
/// An op's effect: unknown.
pub(crate) const UNKNOWN: u32 = u32::MAX;

/// How the history proves that `from` comes before `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Why {
    /// Op `a` observed `from` and the later op `b` of the same process
    /// observed `to` (fact 1).
    Seen {
        /// The op that observed `from`.
        a: u32,
        /// The op that observed `to`.
        b: u32,
    },
    /// `to` is a compare-and-set that read from `from` (fact 2).
    Cas,
    /// `from` comes before op `o` of another process by a chain of the
    /// other orders, and `o` observes `to` (fact 4).
    Before {
        /// The op of the other process.
        o: u32,
    },
}

/// A proved order between two writes of one key: ops, or [`INIT`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CoEdge {
    /// The key.
    pub key: u32,
    /// The earlier write.
    pub from: u32,
    /// The later write.
    pub to: u32,
    /// The proof.
    pub why: Why,
}

/// The analysis of one problem.
pub(crate) struct Observed {
    /// Per op: the write it reads from (an op, [`INIT`]), or [`NO`].
    pub src: Vec<u32>,
    /// Per op: is it a write of the analysis (it sets a known value, and
    /// took effect if it was placed: required, or read from)?
    pub write: Vec<bool>,
    /// Per op: does it read from `src` (it has one, and took effect)?
    pub reads: Vec<bool>,
    /// The proved write orders (facts 1, 2 and 4).
    pub co: Vec<CoEdge>,
    /// A cycle among the write orders of facts 1 and 2, if any, in order:
    /// a proof that no valid order exists, in terms of what processes saw.
    pub cycle: Option<Vec<CoEdge>>,
    /// Otherwise, the ops of a cycle among all the proved orders (fact 4
    /// included), if any: also a proof.
    pub ops_cycle: Option<Vec<u32>>,
}

/// The states of one key met so far, numbered in the order they were
/// first met: equal states, equal numbers (tokens).
pub(crate) struct Interner<S> {
    map: FxMap<S, u32>,
    /// The state of each token.
    pub states: Vec<S>,
}

impl<S: Clone + Eq + std::hash::Hash> Interner<S> {
    fn new() -> Self {
        Interner {
            map: FxMap::default(),
            states: Vec::new(),
        }
    }

    /// The token of `s`, numbering it if it is new.
    pub(crate) fn intern(&mut self, s: S) -> u32 {
        if let Some(&id) = self.map.get(&s) {
            return id;
        }
        let id = self.states.len() as u32;
        self.states.push(s.clone());
        self.map.insert(s, id);
        id
    }
}

/// The ops of a problem in interned form: what state each needs and sets.
pub(crate) struct Tokens<S> {
    /// Per op: the token of the state it requires, or [`NO`].
    pub req: Vec<u32>,
    /// Per op: the token of the state it sets, [`UNCHANGED`] or [`UNKNOWN`].
    pub eff: Vec<u32>,
    /// Per key: the initial state's token.
    pub init: Vec<u32>,
    /// Per key: the states met, which the search goes on numbering.
    pub interners: Vec<Interner<S>>,
}

/// Interns what `hints` say about every op of `pb`: per key the initial
/// state first, then per op the state it requires and the one it sets.
pub(crate) fn tokens<M: Model, H: Hints<M> + ?Sized>(
    pb: &Problem<M>,
    hints: &H,
) -> Tokens<M::State> {
    let nk = pb.keys.len();
    let mut interners: Vec<Interner<M::State>> = (0..nk).map(|_| Interner::new()).collect();
    let init = (0..nk)
        .map(|k| interners[k].intern(pb.models[k].init()))
        .collect();
    let mut req = Vec::with_capacity(pb.ops.len());
    let mut eff = Vec::with_capacity(pb.ops.len());
    for c in &pb.ops {
        let k = c.key as usize;
        let m = &pb.models[k];
        req.push(
            hints
                .requires(m, &c.op)
                .map_or(NO, |s| interners[k].intern(s)),
        );
        eff.push(match hints.effect(m, &c.op) {
            Effect::Unchanged => UNCHANGED,
            Effect::Unknown => UNKNOWN,
            Effect::Sets(s) => interners[k].intern(s),
        });
    }
    Tokens {
        req,
        eff,
        init,
        interners,
    }
}

/// [`tokens`] and [`observe`] together, within `stop`.
pub(crate) fn analyse<M: Model, H: Hints<M> + ?Sized>(
    pb: &Problem<M>,
    hints: &H,
    stop: &Stop<'_>,
) -> (Observed, Tokens<M::State>) {
    let t = tokens(pb, hints);
    (observe(pb, &t.req, &t.eff, &t.init, stop), t)
}

/// A cycle of proved orders, and the ops it rests on.
#[derive(Clone, Debug)]
pub(crate) struct Proof {
    /// The cycle of write orders, in order, when it is one of facts 1 and
    /// 2 (what processes saw); empty for a cycle that needs fact 4.
    pub cycle: Vec<CoEdge>,
    /// The ops on the cycle (with, for write orders, the ops that observed
    /// them), and the writes those read from, back to blind writes: a
    /// first guess at a small sub-history that is still refuted.
    pub ops: Vec<u32>,
}

impl Observed {
    /// The proof of [`Observed::cycle`] or [`Observed::ops_cycle`], if
    /// there is one.
    pub(crate) fn proof(&self) -> Option<Proof> {
        let mut ops = Vec::new();
        let cycle = match (&self.cycle, &self.ops_cycle) {
            (Some(cycle), _) => {
                for e in cycle {
                    ops.extend([e.from, e.to]);
                    match e.why {
                        Why::Seen { a, b } => ops.extend([a, b]),
                        Why::Before { o } => ops.push(o),
                        Why::Cas => {}
                    }
                }
                cycle.clone()
            }
            (None, Some(nodes)) => {
                ops.extend(nodes.iter().copied());
                Vec::new()
            }
            (None, None) => return None,
        };
        let mut seen = std::collections::HashSet::new();
        let mut i = 0;
        while i < ops.len() {
            let v = ops[i];
            i += 1;
            if v == INIT || !seen.insert(v) {
                continue;
            }
            if self.src[v as usize] != NO {
                ops.push(self.src[v as usize]);
            }
        }
        let mut ops: Vec<u32> = seen.into_iter().collect();
        ops.sort_unstable();
        Some(Proof { cycle, ops })
    }
}

/// Analyses `pb`, given per op the state token it requires (`req`, or
/// [`NO`]) and its effect (`eff`: a state token, [`UNCHANGED`] or
/// [`UNKNOWN`]), and per key the initial state's token (`init`). Tokens
/// are interned states: equal tokens, equal states. Fact 4's rounds, the
/// costly part, end early when `stop` says so: the orders they had not
/// proved yet are left unproved, which makes no verdict wrong.
pub(crate) fn observe<M: Model>(
    pb: &Problem<M>,
    req: &[u32],
    eff: &[u32],
    init: &[u32],
    stop: &Stop<'_>,
) -> Observed {
    let n = pb.ops.len();
    let nk = pb.keys.len();
    // Keys with an op of unknown effect say nothing.
    let mut opaque = vec![false; nk];
    // (key, token) -> the only op setting it, or NO when several do.
    let mut setter: HashMap<(u32, u32), u32> = HashMap::new();
    for (i, c) in pb.ops.iter().enumerate() {
        match eff[i] {
            UNKNOWN => opaque[c.key as usize] = true,
            UNCHANGED => {}
            t => {
                setter
                    .entry((c.key, t))
                    .and_modify(|s| *s = NO)
                    .or_insert(i as u32);
            }
        }
    }
    let mut src = vec![NO; n];
    let mut read_from = vec![false; n];
    for (i, c) in pb.ops.iter().enumerate() {
        let k = c.key as usize;
        if opaque[k] || req[i] == NO {
            continue;
        }
        let s = match setter.get(&(c.key, req[i])) {
            Some(&s) if s != NO && req[i] != init[k] && s != i as u32 => s,
            None if req[i] == init[k] => INIT,
            _ => continue,
        };
        src[i] = s;
        if s != INIT && !c.optional {
            read_from[s as usize] = true;
        }
    }
    // An indeterminate op counts only if it took effect: when a required
    // op reads from it.
    let write: Vec<bool> = (0..n)
        .map(|i| {
            let c = &pb.ops[i];
            eff[i] < UNCHANGED && !opaque[c.key as usize] && (!c.optional || read_from[i])
        })
        .collect();
    let mut co = Vec::new();
    let mut last: HashMap<u32, (u32, u32)> = HashMap::new();
    for seq in &pb.procs {
        last.clear();
        for &b in seq {
            let bi = b as usize;
            let c = &pb.ops[bi];
            // What `b` observes: its source (if it took effect), then
            // itself if it is a write.
            let reads = src[bi] != NO && (!c.optional || write[bi]);
            let seen = [
                if reads { src[bi] } else { NO },
                if write[bi] { b } else { NO },
            ];
            for (j, &y) in seen.iter().enumerate() {
                if y == NO {
                    continue;
                }
                if let Some(&(x, a)) = last.get(&c.key) {
                    if x != y {
                        let why = if j == 1 && a == b {
                            Why::Cas
                        } else {
                            Why::Seen { a, b }
                        };
                        co.push(CoEdge {
                            key: c.key,
                            from: x,
                            to: y,
                            why,
                        });
                    }
                }
                last.insert(c.key, (y, b));
            }
        }
    }
    // Edges out of the initial write say nothing: it comes first anyway.
    co.retain(|e| e.from != INIT);
    let reads: Vec<bool> = (0..n)
        .map(|i| src[i] != NO && (!pb.ops[i].optional || write[i]))
        .collect();
    let cycle = find_cycle(n, &co);
    let ops_cycle = if cycle.is_none() {
        saturate(pb, &src, &write, &reads, &mut co, stop)
    } else {
        None
    };
    Observed {
        src,
        write,
        reads,
        co,
        cycle,
        ops_cycle,
    }
}

/// Rounds of fact 4 at most.
const ROUNDS: usize = 4;
/// Fact 4 is skipped when ops times processes exceeds this.
const MAX_CELLS: usize = 1 << 25;

/// Fact 4: adds the write orders that chains of the other orders prove,
/// for a few rounds; returns the ops of a cycle among all the orders, if
/// one shows up.
///
/// Each round takes the graph of every order proved so far — program
/// order, reads-from, the write orders, and from-read (fact 3) — and
/// computes, for every op and every process, the first op of that process
/// it must precede (a reverse topological sweep, one minimum per process:
/// [`Chains::first_successors`]). Then for every write `Y` and every other
/// process, the first op `o` of `Y`'s key that `Y` must precede there: `o`
/// observes `X` first (its source, or itself for a blind write), and `Y`
/// comes before `X`, by the argument of fact 1 ([`Chains::write_orders`]).
fn saturate<M: Model>(
    pb: &Problem<M>,
    src: &[u32],
    write: &[bool],
    reads: &[bool],
    co: &mut Vec<CoEdge>,
    stop: &Stop<'_>,
) -> Option<Vec<u32>> {
    let mut ticker = Ticker::new();
    let n = pb.ops.len();
    let np = pb.procs.len();
    if n == 0 || n.saturating_mul(np) > MAX_CELLS {
        return None;
    }
    let chains = Chains::new(pb, src, write, reads);
    let mut known: std::collections::HashSet<(u32, u32)> =
        co.iter().map(|e| (e.from, e.to)).collect();
    // The largest table of the analysis: without room for it in the
    // memory budget (or when the system refuses it), the orders it would
    // prove are left unproved.
    let mut reach = crate::memory::try_filled(pb.memory.as_ref(), n * np, u32::MAX)?;
    for _ in 0..ROUNDS {
        let graph = Observed::graph(pb, src, write, reads, co);
        let order = match topological(n, &graph) {
            Ok(order) => order,
            Err(cycle) => return Some(cycle),
        };
        if !chains.first_successors(&graph, &order, &mut reach, stop, &mut ticker) {
            return None;
        }
        let before = co.len();
        if let ControlFlow::Break(cycle) =
            chains.write_orders(&reach, &mut known, co, stop, &mut ticker)
        {
            return cycle;
        }
        if co.len() == before {
            break;
        }
    }
    let graph = Observed::graph(pb, src, write, reads, co);
    topological(n, &graph).err()
}

/// What a round of fact 4 reads besides the orders proved so far.
struct Chains<'a, M: Model> {
    pb: &'a Problem<M>,
    /// Per op: is it a write of the analysis?
    write: &'a [bool],
    /// Per op: its position in its process.
    pos: Vec<u32>,
    /// Per (process, key): the ops whose first observation is known, as
    /// (position, what it observes first), in program order.
    firsts: HashMap<(u32, u32), Vec<(u32, u32)>>,
}

impl<'a, M: Model> Chains<'a, M> {
    fn new(pb: &'a Problem<M>, src: &[u32], write: &'a [bool], reads: &[bool]) -> Self {
        let pos = pb.slots();
        let mut firsts: HashMap<(u32, u32), Vec<(u32, u32)>> = HashMap::new();
        for (p, seq) in pb.procs.iter().enumerate() {
            for &i in seq {
                let i = i as usize;
                let x = if reads[i] {
                    src[i]
                } else if write[i] {
                    i as u32
                } else {
                    continue;
                };
                firsts
                    .entry((p as u32, pb.ops[i].key))
                    .or_default()
                    .push((pos[i], x));
            }
        }
        Chains {
            pb,
            write,
            pos,
            firsts,
        }
    }

    /// Fills `reach[v * np + p]` with the position of the first op of
    /// process `p` that op `v` must precede by the orders of `graph`
    /// (`u32::MAX` if none): a sweep in reverse topological `order`, one
    /// minimum per process. `false` when `stop` ended it.
    fn first_successors(
        &self,
        graph: &(Vec<u32>, Vec<u32>),
        order: &[u32],
        reach: &mut [u32],
        stop: &Stop<'_>,
        ticker: &mut Ticker,
    ) -> bool {
        let (pb, pos) = (self.pb, &self.pos[..]);
        let np = pb.procs.len();
        reach.fill(u32::MAX);
        for &v in order.iter().rev() {
            if stop.by(ticker) {
                return false;
            }
            let v = v as usize;
            let (lo, hi) = (graph.0[v] as usize, graph.0[v + 1] as usize);
            for &u in &graph.1[lo..hi] {
                let u = u as usize;
                for p in 0..np {
                    let r = reach[u * np + p];
                    if r < reach[v * np + p] {
                        reach[v * np + p] = r;
                    }
                }
            }
            let p = pb.ops[v].process as usize;
            reach[v * np + p] = pos[v];
        }
        true
    }

    /// The write orders `reach` ([`Chains::first_successors`]) proves:
    /// for every write `Y` and every other process, the first op `o` of
    /// `Y`'s key that `Y` must precede there observes `X` first, so `Y`
    /// comes before `X`. Adds those not `known` yet to `co`. Breaks with
    /// a cycle when `Y` comes before a read of the initial value, and with
    /// `None` when `stop` says so.
    fn write_orders(
        &self,
        reach: &[u32],
        known: &mut std::collections::HashSet<(u32, u32)>,
        co: &mut Vec<CoEdge>,
        stop: &Stop<'_>,
        ticker: &mut Ticker,
    ) -> ControlFlow<Option<Vec<u32>>> {
        let (pb, pos) = (self.pb, &self.pos[..]);
        let np = pb.procs.len();
        for y in 0..pb.ops.len() {
            if !self.write[y] {
                continue;
            }
            if stop.by(ticker) {
                return ControlFlow::Break(None);
            }
            let key = pb.ops[y].key;
            for p in 0..np {
                let m = reach[y * np + p];
                if m == u32::MAX || p == pb.ops[y].process as usize {
                    continue;
                }
                let Some(list) = self.firsts.get(&(p as u32, key)) else {
                    continue;
                };
                let j = list.partition_point(|&(at, _)| at < m);
                let Some(&(at, x)) = list.get(j) else {
                    continue;
                };
                if x == y as u32 {
                    continue;
                }
                let o = pb.procs[p][at as usize];
                if x == INIT {
                    // `y` comes before a read of the initial value.
                    return ControlFlow::Break(Some(vec![y as u32, o]));
                }
                // Already implied: `y` comes before `x` by a chain.
                let q = pb.ops[x as usize].process as usize;
                if reach[y * np + q] <= pos[x as usize] {
                    continue;
                }
                if known.insert((y as u32, x)) {
                    co.push(CoEdge {
                        key,
                        from: y as u32,
                        to: x,
                        why: Why::Before { o },
                    });
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// A topological order of the graph (compressed adjacency), or the ops
/// of a cycle.
fn topological(n: usize, graph: &(Vec<u32>, Vec<u32>)) -> Result<Vec<u32>, Vec<u32>> {
    let (off, to) = graph;
    let mut indegree = vec![0u32; n];
    for &u in to {
        indegree[u as usize] += 1;
    }
    let mut order: Vec<u32> = (0..n as u32)
        .filter(|&v| indegree[v as usize] == 0)
        .collect();
    let mut i = 0;
    while i < order.len() {
        let v = order[i] as usize;
        i += 1;
        for &u in &to[off[v] as usize..off[v + 1] as usize] {
            indegree[u as usize] -= 1;
            if indegree[u as usize] == 0 {
                order.push(u);
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    // Every op left has an unplaced predecessor: walk back along them
    // until one repeats.
    let mut pred = vec![NO; n];
    for v in 0..n {
        if indegree[v] == 0 {
            continue;
        }
        for &u in &to[off[v] as usize..off[v + 1] as usize] {
            if indegree[u as usize] > 0 {
                pred[u as usize] = v as u32;
            }
        }
    }
    let mut seen = vec![false; n];
    let mut v = (0..n).find(|&v| indegree[v] > 0).expect("a cycle") as u32;
    while !seen[v as usize] {
        seen[v as usize] = true;
        v = pred[v as usize];
    }
    let start = v;
    let mut cycle = vec![start];
    let mut u = pred[start as usize];
    while u != start {
        cycle.push(u);
        u = pred[u as usize];
    }
    cycle.reverse();
    Err(cycle)
}

/// A shortest cycle through some node of a cycle of `co`, if there is one.
/// An edge into the initial write is a cycle on its own (the initial write
/// comes before every write).
fn find_cycle(n: usize, co: &[CoEdge]) -> Option<Vec<CoEdge>> {
    if let Some(e) = co.iter().find(|e| e.to == INIT) {
        return Some(vec![*e]);
    }
    let (offsets, edges) = csr(n, co.iter().enumerate().map(|(j, e)| (e.from, j as u32)));
    let out = |v: u32| &edges[offsets[v as usize] as usize..offsets[v as usize + 1] as usize];
    // Iterative depth-first search with three colours.
    const WHITE: u8 = 0;
    const GREY: u8 = 1;
    const BLACK: u8 = 2;
    let mut colour = vec![WHITE; n];
    let mut on_cycle = None;
    'roots: for root in 0..n as u32 {
        if colour[root as usize] != WHITE || out(root).is_empty() {
            continue;
        }
        let mut stack: Vec<(u32, usize)> = vec![(root, 0)];
        colour[root as usize] = GREY;
        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
            let list = out(v);
            if *next == list.len() {
                colour[v as usize] = BLACK;
                stack.pop();
                continue;
            }
            let e = &co[list[*next] as usize];
            *next += 1;
            match colour[e.to as usize] {
                WHITE => {
                    colour[e.to as usize] = GREY;
                    stack.push((e.to, 0));
                }
                GREY => {
                    on_cycle = Some(e.to);
                    break 'roots;
                }
                _ => {}
            }
        }
    }
    let start = on_cycle?;
    // Breadth-first from `start` back to itself: a shortest such cycle.
    let mut via = vec![NO; n];
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &j in out(v) {
            let to = co[j as usize].to;
            if via[to as usize] == NO {
                via[to as usize] = j;
                if to == start {
                    queue.clear();
                    break;
                }
                queue.push_back(to);
            }
        }
    }
    let mut cycle = Vec::new();
    let mut v = start;
    loop {
        let e = co[via[v as usize] as usize];
        cycle.push(e);
        v = e.from;
        if v == start {
            break;
        }
    }
    cycle.reverse();
    Some(cycle)
}

/// Compressed adjacency: for `(from, payload)` pairs with `from < n`,
/// offsets per node and the payloads grouped by node.
fn csr(n: usize, pairs: impl Iterator<Item = (u32, u32)> + Clone) -> (Vec<u32>, Vec<u32>) {
    let mut offsets = vec![0u32; n + 1];
    for (from, _) in pairs.clone() {
        offsets[from as usize + 1] += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let mut fill = offsets.clone();
    let mut out = vec![0u32; offsets[n] as usize];
    for (from, x) in pairs {
        out[fill[from as usize] as usize] = x;
        fill[from as usize] += 1;
    }
    (offsets, out)
}

/// The orders of facts 1 to 4 between ops, for the search: per op, the
/// ops that must come after it (compressed: `offsets`, `after`).
#[derive(Clone, Debug)]
pub(crate) struct Constraints {
    /// `after[offsets[i]..offsets[i + 1]]` must come after op `i`.
    pub offsets: Vec<u32>,
    /// The later ops.
    pub after: Vec<u32>,
}

impl Constraints {
    /// These orders and the orders `extra` (pairs `(before, after)` of
    /// ops), over `n` ops.
    pub(crate) fn with(&self, n: usize, extra: &[(u32, u32)]) -> Constraints {
        let mine = (0..n).flat_map(|i| {
            self.after[self.offsets[i] as usize..self.offsets[i + 1] as usize]
                .iter()
                .map(move |&j| (i as u32, j))
        });
        let (offsets, after) = csr(n, mine.chain(extra.iter().copied()));
        Constraints { offsets, after }
    }
}

impl Observed {
    /// Every proved order as a graph over ops (compressed adjacency):
    /// program order, reads-from, the write orders, and fact 3.
    fn graph<M: Model>(
        pb: &Problem<M>,
        src: &[u32],
        write: &[bool],
        reads: &[bool],
        co: &[CoEdge],
    ) -> (Vec<u32>, Vec<u32>) {
        let mut pairs = from_reads(pb, src, write, reads, co);
        for seq in &pb.procs {
            pairs.extend(seq.windows(2).map(|w| (w[0], w[1])));
        }
        for i in 0..pb.ops.len() {
            if reads[i] && src[i] != INIT {
                pairs.push((src[i], i as u32));
            }
        }
        csr(pb.ops.len(), pairs.iter().copied())
    }

    /// The orders the search may enforce: the write orders and fact 3.
    pub(crate) fn constraints<M: Model>(&self, pb: &Problem<M>) -> Constraints {
        let pairs = from_reads(pb, &self.src, &self.write, &self.reads, &self.co);
        let (offsets, after) = csr(pb.ops.len(), pairs.iter().copied());
        Constraints { offsets, after }
    }
}

/// The write orders, and the orders of fact 3 (from-read), as pairs. For
/// readers of the initial write, fact 3 gives an edge to every write of
/// the key that no write order enters (the rest follow through them); it
/// is left out when that would be more than about one edge per op.
fn from_reads<M: Model>(
    pb: &Problem<M>,
    src: &[u32],
    write: &[bool],
    reads: &[bool],
    co: &[CoEdge],
) -> Vec<(u32, u32)> {
    let n = pb.ops.len();
    let inner = || co.iter().filter(|e| e.from != INIT && e.to != INIT);
    let (co_off, co_to) = csr(n, inner().map(|e| (e.from, e.to)));
    let mut pairs: Vec<(u32, u32)> = inner().map(|e| (e.from, e.to)).collect();
    let nk = pb.keys.len();
    let mut entered = vec![false; n];
    for e in inner() {
        entered[e.to as usize] = true;
    }
    let mut first_writes: Vec<Vec<u32>> = vec![Vec::new(); nk];
    let mut init_readers: Vec<Vec<u32>> = vec![Vec::new(); nk];
    for (i, c) in pb.ops.iter().enumerate() {
        if write[i] && !entered[i] {
            first_writes[c.key as usize].push(i as u32);
        }
    }
    for (i, c) in pb.ops.iter().enumerate() {
        if !reads[i] {
            continue;
        }
        let s = src[i];
        if s == INIT {
            init_readers[c.key as usize].push(i as u32);
            continue;
        }
        for &y in &co_to[co_off[s as usize] as usize..co_off[s as usize + 1] as usize] {
            if y != i as u32 {
                pairs.push((i as u32, y));
            }
        }
    }
    let mut budget = n + 16;
    for k in 0..nk {
        let cost = init_readers[k].len() * first_writes[k].len();
        if cost > budget {
            continue;
        }
        budget -= cost;
        for &r in &init_readers[k] {
            for &y in &first_writes[k] {
                if y != r {
                    pairs.push((r, y));
                }
            }
        }
    }
    pairs
}
