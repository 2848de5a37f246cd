//! Deterministic history generation: simulated systems whose recorded
//! histories have a known consistency, with knobs that inject anomalies.
//!
//! A seed and a [`GenOptions`] always give the same history. Clients are
//! simulated in virtual time: each issues one operation at a time, waits
//! for its completion, thinks, and issues the next. Events are emitted in
//! time order with a `time` (nanoseconds) and a sequential `index`.
//! Histories stream out of a [`Generator`] (an iterator of [`Op`]s) whose
//! memory does not grow with the number of operations, so millions of ops
//! can be written straight to a file; [`generate`] collects them.
//!
//! Three simulated systems ([`Mode`]):
//!
//! - [`Mode::Atomic`]: one atomic object. Every operation takes effect at a
//!   linearization point strictly between its invocation and completion,
//!   so the history is **linearizable by construction** (with no faults).
//! - [`Mode::SequentiallyConsistent`]: a leader orders every update;
//!   replicas apply that one order with lag; clients read from their own
//!   replica and are acknowledged only once it has applied their update.
//!   The history is **sequentially consistent by construction**, and
//!   usually not linearizable (reads are stale in real time).
//! - [`Mode::Replicated`]: eventually consistent replicas with asynchronous
//!   replication, partitions that heal (nemesis ops), last-write-wins with
//!   clock skew, and final reads on every replica after quiescence. The
//!   history **converges by construction**.
//!
//! Fault knobs ([`Faults`]) break the guarantee on purpose, and every
//! injected fault is recorded ([`FaultRecord`]) so tests know what to
//! expect. See each mode's module for the details: [`atomic`], [`sc`],
//! [`replicated`]; value shapes per model are listed in the `object`
//! module's docs and in [`GenOptions::model`].

pub mod atomic;
mod object;
pub mod replicated;
mod rng;
pub mod sc;

use crate::history::{Op, OpType, Value};
use crate::model::ModelKind;
use object::{Arg, Call, Func, Micro, Res};
use rng::Rng;
use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;

/// Which simulated system produces the history.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// One atomic object: linearizable by construction.
    #[default]
    Atomic,
    /// Lagging replicas of one ordered log: sequentially consistent by
    /// construction, not linearizable.
    SequentiallyConsistent,
    /// Eventually consistent replicas with partitions: converges by
    /// construction.
    Replicated,
}

impl Mode {
    /// The mode's name, as a flag would spell it.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Atomic => "atomic",
            Mode::SequentiallyConsistent => "sc",
            Mode::Replicated => "replicated",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses `atomic` (or `linearizable`), `sc` (or `sequential`) and
/// `replicated` (or `eventual`).
impl FromStr for Mode {
    type Err = GenError;
    fn from_str(s: &str) -> Result<Mode, GenError> {
        match s {
            "atomic" | "linearizable" => Ok(Mode::Atomic),
            "sc" | "sequential" | "sequentially-consistent" => Ok(Mode::SequentiallyConsistent),
            "replicated" | "eventual" | "convergent" => Ok(Mode::Replicated),
            _ => Err(GenError(format!(
                "unknown generator mode {s:?}: expected atomic, sc or replicated"
            ))),
        }
    }
}

/// How often a fault is injected.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum FaultRate {
    /// Never.
    #[default]
    Off,
    /// At each opportunity, with this probability.
    Probability(f64),
    /// Exactly this many times, spread over the run (fewer only if the run
    /// offers fewer opportunities).
    Exactly(u64),
}

/// Parses `off`, a probability with a decimal point (`0.01`), or a count
/// (`3`: inject exactly three).
impl FromStr for FaultRate {
    type Err = GenError;
    fn from_str(s: &str) -> Result<FaultRate, GenError> {
        let s = s.trim();
        if s == "off" || s == "0" || s.is_empty() {
            return Ok(FaultRate::Off);
        }
        if let Ok(n) = s.parse::<u64>() {
            return Ok(FaultRate::Exactly(n));
        }
        match s.parse::<f64>() {
            Ok(p) if (0.0..=1.0).contains(&p) => Ok(FaultRate::Probability(p)),
            _ => Err(GenError(format!(
                "bad fault rate {s:?}: expected off, a probability such as 0.01, or a count such as 3"
            ))),
        }
    }
}

impl fmt::Display for FaultRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultRate::Off => f.write_str("off"),
            FaultRate::Probability(p) => write!(f, "{p:?}"),
            FaultRate::Exactly(n) => write!(f, "{n}"),
        }
    }
}

/// The fault knobs. Each applies where its mode and model give it a
/// meaning, and is ignored elsewhere (see each field).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Atomic mode: a read returns a value that was already overwritten by
    /// a write acknowledged before the read began (registers, kv, cas),
    /// a set missing an element whose add was acknowledged before the read
    /// began, or a count below the acknowledged adds. Each one is a certain
    /// linearizability violation, whatever crashed operations did: a
    /// register's stale value is only chosen if nothing that might set it
    /// (crashed writes included) could take effect after the overwrite, so
    /// with few values and crashes it is often the initial `nil`, which is
    /// a violation only where a read of `nil` means the register is empty
    /// (labrys's default, not Knossos's). Runs with no such opportunity
    /// inject fewer.
    pub stale_reads: FaultRate,
    /// Atomic mode: an acknowledged write (write, successful cas, add,
    /// enqueue, txn) is never applied.
    pub lost_writes: FaultRate,
    /// Atomic mode: an add (counter) or enqueue (queues) is applied twice.
    pub duplicated_effects: FaultRate,
    /// Atomic mode: a write (registers, kv) or enqueue (fifo queue) is
    /// applied before the previous one although that one completed before
    /// it began: the older value wins, or the older element is dequeued
    /// later.
    pub reordered_effects: FaultRate,
    /// Sequentially consistent mode: a client reads from a replica that is
    /// behind its own acknowledged writes (registers, kv, cas: it sees its
    /// own overwritten value; set: it misses its own add). With unique
    /// values each one is a certain sequential-consistency violation.
    pub read_behind_own_write: FaultRate,
    /// Replicated mode: an acknowledged write or add is dropped: never
    /// applied on any replica.
    pub dropped_writes: FaultRate,
}

/// What kind of fault was injected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// See [`Faults::stale_reads`].
    StaleRead,
    /// See [`Faults::lost_writes`].
    LostWrite,
    /// See [`Faults::duplicated_effects`].
    DuplicatedEffect,
    /// See [`Faults::reordered_effects`].
    ReorderedEffects,
    /// See [`Faults::read_behind_own_write`].
    ReadBehindOwnWrite,
    /// See [`Faults::dropped_writes`].
    DroppedWrite,
}

/// One injected fault.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultRecord {
    /// What was done.
    pub kind: FaultKind,
    /// The `index` of the faulted operation's invocation.
    pub index: u64,
    /// Its process.
    pub process: i64,
    /// The invocation index of the other operation involved, if any: the
    /// overwriting write of a stale read, the earlier write of a reorder,
    /// the own write a read fell behind.
    pub related: Option<u64>,
    /// In plain words.
    pub note: String,
}

/// An op mix: relative weights per `f`. Empty means the model's default
/// (equal weights over its functions).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mix(pub Vec<(String, u32)>);

/// Parses `read=2,write=1,cas=1`.
impl FromStr for Mix {
    type Err = GenError;
    fn from_str(s: &str) -> Result<Mix, GenError> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (f, w) = part
                .split_once('=')
                .ok_or_else(|| GenError(format!("bad op mix entry {part:?}: expected f=weight")))?;
            let w = w.trim().parse::<u32>().map_err(|_| {
                GenError(format!(
                    "bad weight in op mix entry {part:?}: expected a whole number"
                ))
            })?;
            out.push((f.trim().trim_start_matches(':').to_string(), w));
        }
        Ok(Mix(out))
    }
}

/// Everything that shapes a generated history. All durations are in
/// nanoseconds of simulated time.
#[derive(Clone, Debug, PartialEq)]
pub struct GenOptions {
    /// The simulated system.
    pub mode: Mode,
    /// The object's model, which sets the op names and value shapes:
    /// register (`read`, `write`), cas-register (+ `cas [old new]`), kv
    /// (read/write/cas with a `key` field), set (`add`, `read` of the
    /// whole set), fifo-queue and unordered-queue (`enqueue`, `dequeue`),
    /// counter (`add n`, `read`), mutex (`acquire`, `release`),
    /// multi-register (`txn` of `[:read k v]`/`[:write k v]`). The
    /// replicated mode supports register, kv, set and counter.
    pub model: ModelKind,
    /// The seed: the same seed and options give the same history.
    pub seed: u64,
    /// Concurrent client processes.
    pub clients: usize,
    /// Client operations to issue (each is an invocation and a completion).
    pub ops: usize,
    /// Weights per `f`; empty for the model's default. For multi-register
    /// the weights of `read` and `write` pick each micro-operation.
    pub mix: Mix,
    /// Written values are drawn from `0..values` (adds from `1..=values`).
    pub values: u64,
    /// Write each value at most once (0, 1, 2, ...), ignoring `values`.
    /// Several fault guarantees rely on it.
    pub unique_values: bool,
    /// Keys, for kv and multi-register.
    pub keys: usize,
    /// Largest number of micro-operations in a multi-register txn.
    pub txn_len: usize,
    /// Mean time from invocation to completion.
    pub latency_mean: u64,
    /// Latencies are uniform in `[mean - spread, mean + spread]`.
    pub latency_spread: u64,
    /// Mean pause between a completion and the process's next invocation
    /// (uniform in `[0, 2 * think]`).
    pub think: u64,
    /// Probability that an operation crashes (completes `info`). Its
    /// process is retired and replaced by `process + clients`.
    pub crash_rate: f64,
    /// Probability that a crashed update took effect anyway.
    pub crash_effect: f64,
    /// Probability that a cas expects the value current when it is
    /// invoked (otherwise a random one, which usually fails).
    pub cas_hit: f64,
    /// The fault knobs.
    pub faults: Faults,
    /// Replicas (sequentially consistent and replicated modes).
    pub replicas: usize,
    /// Mean replication delay; delays are uniform in `[0, 2 * mean]`.
    pub replication_delay: u64,
    /// Replicated mode: how many network partitions to run (each splits the
    /// replicas in two, then heals).
    pub partitions: usize,
    /// Replicated mode: how long each partition lasts.
    pub partition_length: u64,
    /// Replicated mode: each replica's clock is off by up to this much
    /// (either way), which skews last-write-wins timestamps.
    pub clock_skew: u64,
    /// Replicated mode: quiet time after the last heal and the last
    /// replication before the final reads.
    pub settle: u64,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            mode: Mode::Atomic,
            model: ModelKind::CasRegister,
            seed: 0,
            clients: 5,
            ops: 100,
            mix: Mix::default(),
            values: 5,
            unique_values: false,
            keys: 3,
            txn_len: 3,
            latency_mean: 1_000_000,
            latency_spread: 800_000,
            think: 200_000,
            crash_rate: 0.0,
            crash_effect: 0.5,
            cas_hit: 0.5,
            faults: Faults::default(),
            replicas: 3,
            replication_delay: 2_000_000,
            partitions: 1,
            partition_length: 20_000_000,
            clock_skew: 0,
            settle: 10_000_000,
        }
    }
}

/// Invalid generator options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenError(pub String);

impl fmt::Display for GenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GenError {}

impl GenOptions {
    /// Checks the options, saying what is wrong.
    pub fn validate(&self) -> Result<(), GenError> {
        let err = |m: String| Err(GenError(m));
        if self.clients == 0 {
            return err("clients must be at least 1".into());
        }
        if !self.unique_values && self.values == 0 {
            return err("values must be at least 1 (or use unique values)".into());
        }
        if matches!(self.model, ModelKind::Kv | ModelKind::MultiRegister) && self.keys == 0 {
            return err("keys must be at least 1".into());
        }
        if self.model == ModelKind::MultiRegister && self.txn_len == 0 {
            return err("txn length must be at least 1".into());
        }
        for (name, p) in [
            ("crash rate", self.crash_rate),
            ("crash effect", self.crash_effect),
            ("cas hit", self.cas_hit),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return err(format!("{name} must be a probability in [0, 1], got {p}"));
            }
        }
        if self.mode != Mode::Atomic && self.replicas == 0 {
            return err("replicas must be at least 1".into());
        }
        if self.mode == Mode::Replicated
            && !matches!(
                self.model,
                ModelKind::Register | ModelKind::Kv | ModelKind::Set | ModelKind::Counter
            )
        {
            return err(format!(
                "the replicated mode supports register, kv, set and counter, not {}",
                self.model
            ));
        }
        self.weights()?;
        Ok(())
    }

    /// The op mix resolved to functions and weights.
    pub(crate) fn weights(&self) -> Result<Vec<(Func, u32)>, GenError> {
        let defaults = Func::defaults(self.model);
        if self.mix.0.is_empty() {
            return Ok(defaults
                .iter()
                .copied()
                .filter(|&(f, _)| !(self.mode == Mode::Replicated && f == Func::Cas))
                .collect());
        }
        let mut out = Vec::new();
        for (name, w) in &self.mix.0 {
            let f = Func::parse(self.model, name).ok_or_else(|| {
                let names: Vec<&str> = defaults.iter().map(|(f, _)| f.name()).collect();
                GenError(format!(
                    "the {} model has no op {name:?}: expected one of {}",
                    self.model,
                    names.join(", ")
                ))
            })?;
            if self.mode == Mode::Replicated && matches!(f, Func::Cas) {
                return Err(GenError("the replicated mode has no cas".into()));
            }
            out.push((f, *w));
        }
        if out.iter().all(|&(_, w)| w == 0) {
            return Err(GenError("the op mix has no positive weight".into()));
        }
        Ok(out)
    }
}

/// A generated history and the faults injected into it.
#[derive(Clone, Debug, Default)]
pub struct Generated {
    /// Every event, in time order, indexed from 0.
    pub ops: Vec<Op>,
    /// The injected faults.
    pub faults: Vec<FaultRecord>,
}

/// Generates a whole history in memory.
pub fn generate(options: &GenOptions) -> Result<Generated, GenError> {
    let mut g = Generator::new(options)?;
    let ops: Vec<Op> = g.by_ref().collect();
    Ok(Generated {
        ops,
        faults: g.into_faults(),
    })
}

/// The formats a generated history can be written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    /// JSON Lines: one JSON object per line.
    #[default]
    Jsonl,
    /// Jepsen's EDN: one op map per line.
    Edn,
}

/// Parses `jsonl` (or `json`) and `edn`.
impl FromStr for OutputFormat {
    type Err = GenError;
    fn from_str(s: &str) -> Result<OutputFormat, GenError> {
        match s {
            "jsonl" | "json" | "json-lines" => Ok(OutputFormat::Jsonl),
            "edn" => Ok(OutputFormat::Edn),
            _ => Err(GenError(format!(
                "unknown output format {s:?}: expected jsonl or edn"
            ))),
        }
    }
}

/// Generates a history straight into `out`, one op per line, without
/// holding it in memory; returns the faults injected. Invalid options are
/// reported as an [`std::io::ErrorKind::InvalidInput`] error. Wrap `out`
/// in a [`std::io::BufWriter`].
pub fn write_generated<W: std::io::Write + ?Sized>(
    options: &GenOptions,
    format: OutputFormat,
    out: &mut W,
) -> std::io::Result<Vec<FaultRecord>> {
    let mut g = Generator::new(options)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    write_stream(&mut g, format, out)?;
    Ok(g.into_faults())
}

/// Writes the rest of the history `g` generates into `out`, one op per
/// line; the generator stays, for its faults and witness.
pub fn write_stream<W: std::io::Write + ?Sized>(
    g: &mut Generator,
    format: OutputFormat,
    out: &mut W,
) -> std::io::Result<()> {
    match format {
        OutputFormat::Jsonl => crate::history::write::write_jsonl(g.by_ref(), out),
        OutputFormat::Edn => crate::history::write::write_edn(g.by_ref(), out),
    }
}

/// A streaming history: an iterator of events in time order. Memory stays
/// bounded by the clients, replicas and in-flight messages, not the
/// history's length (except for set models, whose state is the set).
pub struct Generator {
    sim: Sim,
    out: Emitter,
}

enum Sim {
    Atomic(Box<atomic::AtomicSim>),
    Sc(Box<sc::ScSim>),
    Replicated(Box<replicated::ReplicatedSim>),
}

impl Generator {
    /// Starts a simulation.
    pub fn new(options: &GenOptions) -> Result<Generator, GenError> {
        options.validate()?;
        let sim = match options.mode {
            Mode::Atomic => Sim::Atomic(Box::new(atomic::AtomicSim::new(options)?)),
            Mode::SequentiallyConsistent => Sim::Sc(Box::new(sc::ScSim::new(options)?)),
            Mode::Replicated => Sim::Replicated(Box::new(replicated::ReplicatedSim::new(options)?)),
        };
        Ok(Generator {
            sim,
            out: Emitter::default(),
        })
    }

    /// The faults injected so far.
    pub fn faults(&self) -> &[FaultRecord] {
        match &self.sim {
            Sim::Atomic(s) => s.faults(),
            Sim::Sc(s) => s.faults(),
            Sim::Replicated(s) => s.faults(),
        }
    }

    /// The faults injected, once the history has been consumed.
    pub fn into_faults(self) -> Vec<FaultRecord> {
        self.faults().to_vec()
    }

    /// Records, in the sequentially consistent mode, the order that makes
    /// the history sequentially consistent by construction (see
    /// [`Generator::witness`]). Call before taking any op: the record grows
    /// with the history. `false` in the other modes.
    pub fn record_witness(&mut self) -> bool {
        match &mut self.sim {
            Sim::Sc(s) => {
                s.record_witness();
                true
            }
            _ => false,
        }
    }

    /// Once the history has been consumed, when recorded and no fault was
    /// injected: the invocation indices (the `index` of each op's invoke
    /// event) of the ops that took effect, in an order that keeps every
    /// process's order and gives every op its result. A witness of
    /// sequential consistency that `labrys check` does not need, for tests
    /// and for teaching.
    pub fn witness(&self) -> Option<Vec<u64>> {
        match &self.sim {
            Sim::Sc(s) => s.witness(),
            _ => None,
        }
    }
}

impl Iterator for Generator {
    type Item = Op;
    fn next(&mut self) -> Option<Op> {
        loop {
            if let Some(op) = self.out.queue.pop_front() {
                return Some(op);
            }
            let more = match &mut self.sim {
                Sim::Atomic(s) => s.step(&mut self.out),
                Sim::Sc(s) => s.step(&mut self.out),
                Sim::Replicated(s) => s.step(&mut self.out),
            };
            if !more && self.out.queue.is_empty() {
                return None;
            }
        }
    }
}

/// Assigns indices and holds events until the iterator hands them out.
#[derive(Default)]
pub(crate) struct Emitter {
    queue: VecDeque<Op>,
    next_index: u64,
}

impl Emitter {
    /// Emits an event at `time`; returns its index.
    pub(crate) fn emit(&mut self, mut op: Op, time: u64) -> u64 {
        op.index = self.next_index;
        op.time = Some(time as i64);
        self.next_index += 1;
        self.queue.push_back(op);
        self.next_index - 1
    }
}

/// A time-ordered event queue; ties are broken by scheduling order, so
/// runs are deterministic.
pub(crate) struct Sched<E: Ord> {
    heap: std::collections::BinaryHeap<std::cmp::Reverse<(u64, u64, E)>>,
    seq: u64,
}

impl<E: Ord> Sched<E> {
    pub(crate) fn new() -> Sched<E> {
        Sched {
            heap: std::collections::BinaryHeap::new(),
            seq: 0,
        }
    }

    /// Schedules `event` at time `t`.
    pub(crate) fn at(&mut self, t: u64, event: E) {
        self.seq += 1;
        self.heap.push(std::cmp::Reverse((t, self.seq, event)));
    }

    /// Schedules every client's first invocation (`invoke(client)`) after
    /// a pause of its own, client 0 first.
    pub(crate) fn first_invocations(
        &mut self,
        rng: &mut Rng,
        o: &GenOptions,
        invoke: impl Fn(usize) -> E,
    ) {
        for c in 0..o.clients {
            self.at(think(rng, o), invoke(c));
        }
    }

    /// The earliest event.
    pub(crate) fn pop(&mut self) -> Option<(u64, E)> {
        self.heap.pop().map(|std::cmp::Reverse((t, _, e))| (t, e))
    }
}

/// Timing of one operation: invocation, linearization point strictly
/// inside, completion.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timing {
    pub(crate) invoke: u64,
    pub(crate) lin: u64,
    pub(crate) complete: u64,
}

impl Timing {
    pub(crate) fn sample(rng: &mut Rng, o: &GenOptions, invoke: u64) -> Timing {
        let latency = rng.around(o.latency_mean, o.latency_spread, 2);
        Timing {
            invoke,
            lin: invoke + 1 + rng.below(latency - 1),
            complete: invoke + latency,
        }
    }
}

/// A client's operation in flight, from invocation to completion: what the
/// client loops of the atomic and the sequentially consistent simulations
/// share.
#[derive(Clone, Debug)]
pub(crate) struct InFlight {
    pub(crate) call: Call,
    pub(crate) timing: Timing,
    /// The invocation's index in the history.
    pub(crate) index: u64,
    /// Whether the client crashes before hearing back (an `info`
    /// completion).
    pub(crate) crash: bool,
    /// Whether a crashed op takes effect all the same.
    pub(crate) effect: bool,
    /// What the op returned when it took effect (set at its linearization).
    pub(crate) result: Option<Res>,
}

impl InFlight {
    /// Invokes `call` for `process` at `t`: draws its timing and whether it
    /// crashes, and emits the invocation.
    pub(crate) fn invoke(
        call: Call,
        process: i64,
        t: u64,
        rng: &mut Rng,
        o: &GenOptions,
        out: &mut Emitter,
    ) -> InFlight {
        let timing = Timing::sample(rng, o, t);
        let crash = rng.chance(o.crash_rate);
        let effect = crash && rng.chance(o.crash_effect);
        let index = out.emit(invocation(&call, process), t);
        InFlight {
            call,
            timing,
            index,
            crash,
            effect,
            result: None,
        }
    }

    /// The completion event, given what the op returned: `info` if the
    /// client crashed, else `ok` with the result, or `fail`.
    pub(crate) fn completion(&self, process: i64, result: Option<Res>) -> Op {
        let call = &self.call;
        if self.crash {
            return completion(call, process, OpType::Info, call.invoke_value());
        }
        match result.expect("linearized before completing") {
            Res::Ok(v) => completion(call, process, OpType::Ok, v),
            Res::Fail => completion(call, process, OpType::Fail, call.invoke_value()),
        }
    }
}

/// A pause before a process's next invocation.
pub(crate) fn think(rng: &mut Rng, o: &GenOptions) -> u64 {
    rng.below(2 * o.think + 1)
}

/// Decides, for one fault knob, whether to inject at an opportunity.
#[derive(Clone, Debug)]
pub(crate) struct Injector {
    rate: FaultRate,
    done: u64,
    rng: Rng,
}

impl Injector {
    pub(crate) fn new(rate: FaultRate, seed: u64, stream: u64) -> Injector {
        Injector {
            rate,
            done: 0,
            rng: Rng::new(seed, stream),
        }
    }

    /// Is this knob on at all?
    pub(crate) fn enabled(&self) -> bool {
        match self.rate {
            FaultRate::Off => false,
            FaultRate::Probability(p) => p > 0.0,
            FaultRate::Exactly(n) => self.done < n,
        }
    }

    /// Should this opportunity be faulted? `left` estimates the
    /// opportunities still to come (for spreading exact counts). The
    /// caller must call [`Injector::done`] if it actually injects.
    pub(crate) fn roll(&mut self, left: u64) -> bool {
        match self.rate {
            FaultRate::Off => false,
            FaultRate::Probability(p) => self.rng.chance(p),
            FaultRate::Exactly(n) => {
                if self.done >= n {
                    return false;
                }
                let remaining = n - self.done;
                let p = (8 * remaining) as f64 / left.max(1) as f64;
                self.rng.chance(p)
            }
        }
    }

    /// Records an injection.
    pub(crate) fn done(&mut self) {
        self.done += 1;
    }
}

/// The state every simulated client process shares across modes.
#[derive(Clone, Debug)]
pub(crate) struct ClientGen {
    weights: Vec<(Func, u32)>,
    ws: Vec<u32>,
    model: ModelKind,
    values: u64,
    unique: bool,
    next_unique: i64,
    keys: usize,
    txn_len: usize,
    cas_hit: f64,
    pub(crate) rng: Rng,
}

impl ClientGen {
    pub(crate) fn new(o: &GenOptions) -> Result<ClientGen, GenError> {
        let weights = o.weights()?;
        let ws = weights.iter().map(|&(_, w)| w).collect();
        Ok(ClientGen {
            weights,
            ws,
            model: o.model,
            values: o.values.max(1),
            unique: o.unique_values,
            next_unique: 0,
            keys: if matches!(o.model, ModelKind::Kv | ModelKind::MultiRegister) {
                o.keys.max(1)
            } else {
                1
            },
            txn_len: o.txn_len.max(1),
            cas_hit: o.cas_hit,
            rng: Rng::new(o.seed, 1),
        })
    }

    /// The number of registers (keys) of the object.
    pub(crate) fn keys(&self) -> usize {
        self.keys
    }

    fn value(&mut self) -> i64 {
        if self.unique {
            self.next_unique += 1;
            self.next_unique - 1
        } else {
            self.rng.below(self.values) as i64
        }
    }

    fn amount(&mut self) -> i64 {
        if self.unique {
            // Unique values mean distinct elements for sets and queues;
            // counter adds stay small.
            match self.model {
                ModelKind::Counter => 1 + self.rng.below(self.values.max(1)) as i64,
                _ => self.value(),
            }
        } else {
            match self.model {
                ModelKind::Counter => 1 + self.rng.below(self.values) as i64,
                _ => self.value(),
            }
        }
    }

    /// Chooses a process's next call. `current` reads the object's state
    /// for a cas's expected value; `holds_lock` steers mutex clients.
    pub(crate) fn next_call(
        &mut self,
        current: impl Fn(usize) -> Option<i64>,
        holds_lock: bool,
    ) -> Call {
        let key = if matches!(self.model, ModelKind::Kv) {
            Some(self.rng.below(self.keys as u64) as i64)
        } else {
            None
        };
        let pick = self.rng.next_u64();
        if self.model == ModelKind::Mutex {
            let f = if holds_lock {
                Func::Release
            } else {
                Func::Acquire
            };
            return Call {
                f,
                key,
                arg: Arg::None,
                pick,
            };
        }
        if self.model == ModelKind::MultiRegister {
            let n = 1 + self.rng.below(self.txn_len as u64) as usize;
            let mut ms = Vec::with_capacity(n);
            for _ in 0..n {
                let f = self.weights[self.rng.weighted(&self.ws)].0;
                let k = self.rng.below(self.keys as u64) as i64;
                let write = f == Func::Write;
                let value = if write { Some(self.value()) } else { None };
                ms.push(Micro {
                    write,
                    key: k,
                    value,
                });
            }
            return Call {
                f: Func::Txn,
                key,
                arg: Arg::Txn(ms),
                pick,
            };
        }
        let f = self.weights[self.rng.weighted(&self.ws)].0;
        let arg = match f {
            Func::Write | Func::Enqueue => Arg::Int(self.value()),
            Func::Add => Arg::Int(self.amount()),
            Func::Cas => {
                let slot = key.unwrap_or(0) as usize;
                let old = if self.rng.chance(self.cas_hit) {
                    current(slot)
                } else if self.unique {
                    let hi = self.next_unique.max(1) as u64;
                    Some(self.rng.below(hi) as i64)
                } else {
                    Some(self.rng.below(self.values) as i64)
                };
                Arg::Cas(old, self.value())
            }
            _ => Arg::None,
        };
        Call { f, key, arg, pick }
    }
}

/// Builds the invocation event of a call.
pub(crate) fn invocation(call: &Call, process: i64) -> Op {
    let mut op = Op::new(OpType::Invoke, process, call.f.name(), call.invoke_value());
    op.key = call.key.map(Value::Int);
    op
}

/// Builds a completion event of a call.
pub(crate) fn completion(call: &Call, process: i64, t: OpType, value: Value) -> Op {
    let mut op = Op::new(t, process, call.f.name(), value);
    op.key = call.key.map(Value::Int);
    if t == OpType::Info {
        op.set_error(Value::Keyword("timeout".into()));
    }
    op
}

#[cfg(test)]
mod tests;
