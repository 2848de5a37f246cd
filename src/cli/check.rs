//! `labrys check`: check histories and report anomalies.

use super::{alloc, progress};
use super::{
    inputs, print, InputArgs, OutputFormat, EXIT_ERROR, EXIT_INVALID, EXIT_UNKNOWN, EXIT_VALID,
};
use anyhow::{anyhow, Result};
use clap::{Args, ValueEnum};
use labrys::check::convergence::{ConvergenceOptions, FinalReadRule, SessionMode};
use labrys::check::run::Plan;
use labrys::check::shard::Shard;
use labrys::check::{CheckOptions, Consistency, Verdict};
use labrys::history::{self, Error, History, LoadOptions, Value};
use labrys::memory::{self, Budget};
use labrys::model::{ModelKind, ModelOptions};
use labrys::report::{
    self, style::Style, CheckSection, FileFailure, FileOutcome, FileReport, ModelSource, RunReport,
};
use rayon::prelude::*;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    input: InputArgs,

    /// The model (sequential specification); inferred from the ops' f
    /// names when unambiguous.
    #[arg(long, value_parser = parse_model, value_name = "MODEL")]
    model: Option<ModelKind>,

    /// Which consistency models to check (repeat or comma-separate). A
    /// checker named here that has nothing to judge is unknown; one not
    /// named is then reported as not judged.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    consistency: Vec<ConsistencyArg>,

    /// A checker with nothing to judge (no client operation completed ok;
    /// no final read), and a file in which nothing was judged, are valid
    /// instead of unknown.
    #[arg(long)]
    allow_empty: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,

    /// The initial value of the register (or of every key), in EDN:
    /// nil, 0, "" ...
    #[arg(long, value_name = "VALUE", default_value = "nil")]
    initial: String,

    /// What a read of nil means: the register is nil (absent), or, as in
    /// Knossos, that the read observed nothing.
    #[arg(long, value_enum, default_value_t = NilRead::Absent)]
    nil_read: NilRead,

    /// What a failed cas means: nothing (Jepsen), or also an observation
    /// that the register did not hold the expected value (Porcupine).
    #[arg(long, value_enum, default_value_t = FailedCas::Ignore)]
    failed_cas: FailedCas,

    /// Give up after this many seconds (what is undecided is unknown): a
    /// bound on the whole run, reading the files included.
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,

    /// How far the clocks that stamped the events may be off, in the
    /// history's time unit (ns) or with a suffix (ns, us, ms, s): each op's
    /// interval widens by it on both sides, so an op precedes another only
    /// when it certainly completed before the other began.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "0")]
    clock_uncertainty: i64,

    /// The memory budget (bytes, or with a unit: 512M, 2G): a search past
    /// it ends unknown, and a file too large to load within it is an input
    /// error. By default the least of half the address-space limit
    /// (ulimit -v), three quarters of the cgroup's memory.max and three
    /// quarters of MemAvailable.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_memory: Option<usize>,

    /// Check keyed histories as one object instead of key by key.
    #[arg(long)]
    one_object: bool,

    /// Decide every key (report mode) instead of stopping at the first
    /// invalid one (gate mode).
    #[arg(long)]
    report_all: bool,

    /// Do not search for a minimal counterexample.
    #[arg(long)]
    no_shrink: bool,

    /// Check only shard I of N of the keys: those whose place in the key
    /// order is I modulo N (linearizability and convergence only; merge
    /// the shards' JSON reports with `labrys merge`).
    #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
    shard: Option<Shard>,

    /// Convergence: which reads count as final.
    #[arg(long, value_enum, default_value_t = FinalReads::AfterLastUpdate)]
    final_reads: FinalReads,

    /// Convergence: extra time after the last update (and heal) before a
    /// read counts as final, in the history's time unit (ns), or in events
    /// when ops carry no time.
    #[arg(long, value_name = "TIME", default_value_t = 0)]
    settle: u64,

    /// Convergence: the number of replicas, when reads carry no node: the
    /// replica is then process mod N, as Jepsen assigns them.
    #[arg(long, value_name = "N")]
    nodes: Option<usize>,

    /// Convergence: whether broken session guarantees (monotonic reads,
    /// read-your-writes) make the history invalid, are only reported, or
    /// are not judged.
    #[arg(long, value_enum, default_value_t = Sessions::Report)]
    sessions: Sessions,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum FinalReads {
    /// Reads invoked after the last update of their key completed.
    AfterLastUpdate,
    /// ... and after the last nemesis event that heals faults.
    AfterHeal,
    /// Reads marked final (f final-read, or a final field).
    Marked,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Sessions {
    /// Not judged.
    Off,
    /// Judged and reported; the verdict ignores them.
    Report,
    /// Judged; a violation makes the history invalid.
    Require,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ConsistencyArg {
    Linearizable,
    Sequential,
    Convergence,
    All,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum NilRead {
    /// nil means the register holds nil.
    Absent,
    /// A nil read observes nothing and is legal in any state.
    Anything,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum FailedCas {
    /// A failed cas did not happen and constrains nothing.
    Ignore,
    /// A failed cas observed that the register did not hold its old value.
    Observe,
}

fn parse_model(name: &str) -> Result<ModelKind, String> {
    ModelKind::parse(name).ok_or_else(|| {
        let names: Vec<_> = ModelKind::ALL.iter().map(|k| k.name()).collect();
        format!(
            "unknown model {name:?}: expected one of {}",
            names.join(", ")
        )
    })
}

/// Parses a duration in nanoseconds: a non-negative number with an optional
/// unit (ns, us, ms, s).
fn parse_duration(text: &str) -> Result<i64, String> {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == 'µ');
    let scale = match &text[digits.len()..] {
        "" | "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        unit => return Err(format!("unknown unit {unit:?}: expected ns, us, ms or s")),
    };
    match digits.parse::<f64>() {
        Ok(n) if n >= 0.0 && (n * scale) < i64::MAX as f64 => Ok((n * scale).round() as i64),
        _ => Err(format!(
            "expected a non-negative duration such as 500, 2ms or 0.5s, found {text:?}"
        )),
    }
}

fn parse_size(text: &str) -> Result<usize, String> {
    labrys::memory::parse_bytes(text)
        .ok_or_else(|| format!("{text:?}: expected a size such as 512M or 2G"))
}

/// Parses `--initial`, an EDN value.
fn parse_initial(text: &str) -> Result<Value> {
    Value::parse_edn(text).map_err(|e| anyhow!("--initial {text:?}: {e}"))
}

impl CheckArgs {
    /// The checkers asked for; empty means every one that applies.
    fn consistencies(&self) -> Vec<Consistency> {
        if self.consistency.contains(&ConsistencyArg::All) {
            return Vec::new();
        }
        let mut v: Vec<Consistency> = self
            .consistency
            .iter()
            .map(|c| match c {
                ConsistencyArg::Linearizable => Consistency::Linearizable,
                ConsistencyArg::Sequential => Consistency::Sequential,
                _ => Consistency::Convergence,
            })
            .collect();
        v.sort();
        v.dedup();
        v
    }

    fn model_options(&self) -> Result<ModelOptions> {
        Ok(ModelOptions {
            initial: parse_initial(&self.initial)?,
            nil_read_observes_nothing: self.nil_read == NilRead::Anything,
            failed_cas_observes: self.failed_cas == FailedCas::Observe,
        })
    }

    /// The checkers' options; the timeout counts from `start`.
    fn options(&self, start: Instant) -> Result<CheckOptions> {
        let timeout = match self.timeout {
            Some(t) if !(t.is_finite() && t > 0.0) => {
                return Err(anyhow!(
                    "--timeout {t}: expected a positive number of seconds"
                ))
            }
            Some(t) => Some(Duration::from_secs_f64(t)),
            None => None,
        };
        Ok(CheckOptions {
            deadline: timeout.map(|t| start + t),
            partition: !self.one_object,
            report_all: self.report_all,
            shrink: !self.no_shrink,
            allow_empty: self.allow_empty,
            memory: self
                .max_memory
                .or_else(alloc::default_budget)
                .map(|limit| Budget::new(limit, alloc::in_use)),
            shard: self.shard,
            ..CheckOptions::default()
        })
    }

    fn convergence(&self) -> ConvergenceOptions {
        ConvergenceOptions {
            final_reads: match self.final_reads {
                FinalReads::AfterLastUpdate => FinalReadRule::AfterLastUpdate,
                FinalReads::AfterHeal => FinalReadRule::AfterHeal,
                FinalReads::Marked => FinalReadRule::Marked,
            },
            settle: self.settle,
            nodes: self.nodes,
            sessions: match self.sessions {
                Sessions::Off => SessionMode::Off,
                Sessions::Report => SessionMode::Report,
                Sessions::Require => SessionMode::Require,
            },
            ..ConvergenceOptions::default()
        }
    }
}

/// Refuses the options a shard cannot be checked with: sequential
/// consistency is not local to a key, and one object has no keys.
fn shard_usage(args: &CheckArgs) -> Result<()> {
    if args.shard.is_none() {
        return Ok(());
    }
    if args.consistencies().contains(&Consistency::Sequential) {
        return Err(anyhow!(
            "--shard: sequential consistency is not local to a key, so it cannot be checked \
             shard by shard; check it on the whole history (--consistency sequential) and \
             merge that report with the shards'"
        ));
    }
    if args.one_object {
        return Err(anyhow!(
            "--shard splits a history by key; --one-object checks it as one object"
        ));
    }
    Ok(())
}

/// Refuses, before reading it, a file whose loading may take more than
/// what is left of the memory budget (see [`history::LOAD_FACTOR`]).
fn fits(path: &std::path::Path, budget: &Budget) -> Result<(), Error> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(()); // the loader says why it cannot read it
    };
    let need = usize::try_from(meta.len())
        .unwrap_or(usize::MAX)
        .saturating_mul(history::LOAD_FACTOR);
    if budget.room_for(need) {
        return Ok(());
    }
    Err(Error::msg(format!(
        "the file is {}, and loading it may take up to {} ({} times its size): \
         more than the memory budget of {} has room for (--max-memory)",
        memory::bytes(meta.len() as usize),
        memory::bytes(need),
        history::LOAD_FACTOR,
        memory::bytes(budget.limit()),
    ))
    .in_file(path))
}

/// Loads `path`, but waits no later than `deadline`: `Ok(None)` when
/// time ran out first. The reading then goes on in the background, and
/// ends with the process.
fn load_until(
    path: &Path,
    options: &LoadOptions,
    deadline: Option<Instant>,
) -> Result<Option<History>, Error> {
    let Some(deadline) = deadline else {
        return History::load(path, options).map(Some);
    };
    let (tx, rx) = mpsc::channel();
    let (owned, options) = (path.to_path_buf(), options.clone());
    std::thread::spawn(move || tx.send(History::load(&owned, &options)));
    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(r) => r.map(Some),
        Err(RecvTimeoutError::Timeout) => Ok(None),
        Err(RecvTimeoutError::Disconnected) => {
            Err(Error::msg("the reader stopped unexpectedly").in_file(path))
        }
    }
}

/// The report of a file that time ran out on before it was read: every
/// checker the run asked for says unknown.
fn unread(path: &Path, args: &CheckArgs, template: &Plan) -> FileReport {
    let why = "not checked: time ran out while reading the file";
    let (model, source) = match args.model {
        Some(m) => (Some(m), ModelSource::Given),
        None => (None, ModelSource::None),
    };
    let checks = CheckSection::unfinished(template, why);
    let path = path.display().to_string();
    FileReport::new(path, model, source, 0, checks, &template.options)
}

/// Loads and checks one file.
fn check_file(path: &Path, args: &CheckArgs, template: &Plan) -> Result<FileReport, Error> {
    if let Some(budget) = &template.options.memory {
        fits(path, budget)?;
    }
    let loaded = load_until(path, &args.input.load_options(), template.options.deadline)
        .map_err(|e| e.in_file(path))?;
    let Some(history) = loaded else {
        return Ok(unread(path, args, template));
    };
    let name = path.display().to_string();
    report::check_history(history, &name, args.model, template, args.clock_uncertainty)
        .map_err(|e| e.in_file(path))
}

/// Prints a run's report in `format` and gives its exit status.
pub(super) fn print_run(run: &RunReport, format: OutputFormat) -> Result<u8> {
    let text = match format {
        OutputFormat::Json => report::json::render(run),
        OutputFormat::Text => {
            report::text::run(run, &Style::detect(std::io::stdout().is_terminal()))
        }
    };
    print(&text)?;
    Ok(exit_status(run))
}

/// The exit status of a run. An anomaly found wins over everything
/// (1), so that a file that could not be read never hides one; then a
/// file that could not be checked (2); then an inconclusive file (3).
fn exit_status(run: &RunReport) -> u8 {
    if run.valid == Verdict::Invalid {
        EXIT_INVALID
    } else if run.failed() > 0 {
        EXIT_ERROR
    } else if run.valid == Verdict::Unknown {
        EXIT_UNKNOWN
    } else {
        EXIT_VALID
    }
}

pub fn run(args: CheckArgs) -> Result<u8> {
    let start = Instant::now();
    shard_usage(&args)?;
    let files = inputs::expand(&args.input.files);
    alloc::fit_address_space();
    let options = args.options(start)?;
    let template = Plan {
        model: ModelKind::Register,
        model_options: args.model_options()?,
        checks: args.consistencies(),
        options,
        convergence: args.convergence(),
    };
    progress::on_interrupt(template.options.cancel.clone());
    let done = Arc::new(AtomicUsize::new(0));
    let bar = progress::Bar::start(template.options.progress.clone(), files.len(), done.clone());
    let results: Vec<Result<FileReport, Error>> = files
        .par_iter()
        .map(|input| {
            let r = match input {
                Ok(path) => check_file(path, &args, &template),
                Err(e) => Err(e.clone()),
            };
            done.fetch_add(1, Ordering::Relaxed);
            r
        })
        .collect();
    drop(bar);
    let outcomes = results
        .into_iter()
        .map(|r| match r {
            Ok(f) => FileOutcome::Checked(f),
            Err(e) => {
                eprintln!("labrys: {e}");
                let path = e.path.as_deref().unwrap_or(std::path::Path::new(""));
                FileOutcome::Failed(FileFailure::new(path.display().to_string(), &e))
            }
        })
        .collect();
    let run = RunReport::new(outcomes);
    print_run(&run, args.format)
}
