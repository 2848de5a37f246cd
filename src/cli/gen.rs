//! `labrys gen`: write a generated history to standard output.

use super::EXIT_VALID;
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use labrys::gen::{self, FaultRate, GenOptions, Mix, Mode, OutputFormat};
use labrys::model::ModelKind;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct GenArgs {
    /// The simulated system: atomic (one atomic object: linearizable),
    /// sc (lagging replicas of one ordered log: sequentially consistent,
    /// not linearizable) or replicated (eventually consistent replicas
    /// with partitions).
    #[arg(long, default_value = "atomic", value_parser = parse::<Mode>)]
    mode: Mode,

    /// The object's model.
    #[arg(long, default_value = "cas-register", value_parser = parse_model)]
    model: ModelKind,

    /// Output format: jsonl or edn.
    #[arg(long, default_value = "jsonl", value_parser = parse::<OutputFormat>)]
    format: OutputFormat,

    /// Seed of the pseudo-random choices: the same seed gives the same
    /// history.
    #[arg(long, default_value_t = 0)]
    seed: u64,

    /// Client processes.
    #[arg(long, default_value_t = 5)]
    clients: usize,

    /// Operations (invocations) to generate.
    #[arg(long, default_value_t = 100)]
    ops: usize,

    /// Relative weights per f, such as read=2,write=1,cas=1.
    #[arg(long, default_value = "", value_parser = parse::<Mix>)]
    mix: Mix,

    /// Distinct values written (ignored with --unique-values).
    #[arg(long, default_value_t = 5)]
    values: u64,

    /// Every write writes a value never written before.
    #[arg(long)]
    unique_values: bool,

    /// Keys, for keyed models.
    #[arg(long, default_value_t = 3)]
    keys: usize,

    /// Mean latency of an operation, in ns.
    #[arg(long, default_value_t = 1_000_000)]
    latency: u64,

    /// Spread of latencies around the mean, in ns.
    #[arg(long, default_value_t = 800_000)]
    latency_spread: u64,

    /// Fraction of operations that crash (complete with info).
    #[arg(long, default_value_t = 0.0)]
    crash_rate: f64,

    /// Fault: stale reads (atomic mode). off, a probability (0.01) or a count (3).
    #[arg(long, default_value = "off", value_parser = parse::<FaultRate>)]
    stale_reads: FaultRate,

    /// Fault: acknowledged writes never applied (atomic mode).
    #[arg(long, default_value = "off", value_parser = parse::<FaultRate>)]
    lost_writes: FaultRate,

    /// Fault: adds or enqueues applied twice (atomic mode).
    #[arg(long, default_value = "off", value_parser = parse::<FaultRate>)]
    duplicated_effects: FaultRate,

    /// Fault: writes applied in the opposite of their real-time order (atomic mode).
    #[arg(long, default_value = "off", value_parser = parse::<FaultRate>)]
    reordered_effects: FaultRate,

    /// Fault: a client reads from a replica behind its own writes (sc mode).
    #[arg(long, default_value = "off", value_parser = parse::<FaultRate>)]
    read_behind_own_write: FaultRate,

    /// Fault: acknowledged writes dropped on every replica (replicated mode).
    #[arg(long, default_value = "off", value_parser = parse::<FaultRate>)]
    dropped_writes: FaultRate,

    /// Replicas (sc and replicated modes).
    #[arg(long, default_value_t = 3)]
    replicas: usize,

    /// Replication delay, in ns (sc and replicated modes).
    #[arg(long, default_value_t = 2_000_000)]
    replication_delay: u64,

    /// Partitions to inject (replicated mode).
    #[arg(long, default_value_t = 1)]
    partitions: usize,

    /// Clock skew between replicas, in ns (replicated mode, last write wins).
    #[arg(long, default_value_t = 0)]
    clock_skew: u64,

    /// Print the injected faults to standard error.
    #[arg(long)]
    show_faults: bool,

    /// Sc mode: also write to this file the order that makes the history
    /// sequentially consistent by construction, as a JSON array of the
    /// ops' invocation indices (the `index` of each invoke event)
    #[arg(long, value_name = "FILE")]
    witness: Option<PathBuf>,
}

fn parse<T: std::str::FromStr<Err = gen::GenError>>(s: &str) -> Result<T, String> {
    s.parse::<T>().map_err(|e| e.to_string())
}

fn parse_model(name: &str) -> Result<ModelKind, String> {
    ModelKind::parse(name).ok_or_else(|| format!("unknown model {name:?}"))
}

pub fn run(args: GenArgs) -> Result<u8> {
    let options = GenOptions {
        mode: args.mode,
        model: args.model,
        seed: args.seed,
        clients: args.clients,
        ops: args.ops,
        mix: args.mix,
        values: args.values,
        unique_values: args.unique_values,
        keys: args.keys,
        latency_mean: args.latency,
        latency_spread: args.latency_spread,
        crash_rate: args.crash_rate,
        faults: gen::Faults {
            stale_reads: args.stale_reads,
            lost_writes: args.lost_writes,
            duplicated_effects: args.duplicated_effects,
            reordered_effects: args.reordered_effects,
            read_behind_own_write: args.read_behind_own_write,
            dropped_writes: args.dropped_writes,
        },
        replicas: args.replicas,
        replication_delay: args.replication_delay,
        partitions: args.partitions,
        clock_skew: args.clock_skew,
        ..GenOptions::default()
    };
    options.validate().map_err(|e| anyhow!("{e}"))?;
    if args.witness.is_some() {
        if options.mode != Mode::SequentiallyConsistent {
            bail!("--witness needs --mode sc: only that mode's construction proves an order");
        }
        if options.faults.read_behind_own_write != FaultRate::Off {
            bail!("--witness: with --read-behind-own-write the history is not sequentially consistent");
        }
    }
    let stdout = std::io::stdout().lock();
    let mut out = BufWriter::with_capacity(1 << 20, stdout);
    let mut g = gen::Generator::new(&options).map_err(|e| anyhow!("{e}"))?;
    if args.witness.is_some() {
        g.record_witness();
    }
    gen::write_stream(&mut g, args.format, &mut out)?;
    out.flush()?;
    if let Some(path) = &args.witness {
        let order = g
            .witness()
            .ok_or_else(|| anyhow!("no witness: a fault was injected"))?;
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot write the witness to {}", path.display()))?;
        let mut w = BufWriter::new(file);
        serde_json::to_writer(&mut w, &order)?;
        writeln!(w)?;
        w.flush()?;
    }
    let faults = g.into_faults();
    if args.show_faults {
        for f in &faults {
            eprintln!(
                "fault: {:?} at index {} (process {}): {}",
                f.kind, f.index, f.process, f.note
            );
        }
    }
    Ok(EXIT_VALID)
}
