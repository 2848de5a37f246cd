//! `labrys check`: check histories and report anomalies.

use super::progress;
use super::{
    inputs, print, InputArgs, OutputFormat, EXIT_ERROR, EXIT_INVALID, EXIT_UNKNOWN, EXIT_VALID,
};
use anyhow::{anyhow, Result};
use clap::{Args, ValueEnum};
use labrys::check::convergence::{ConvergenceOptions, FinalReadRule, SessionMode};
use labrys::check::run::{self as runner, Plan};
use labrys::check::{CheckOptions, Consistency, Verdict};
use labrys::history::{History, LoadOptions, Value};
use labrys::model::{ModelKind, ModelOptions};
use labrys::report::{self, style::Style, CheckSection, Evidence, FileReport, RunReport};
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

    /// Which consistency models to check (repeat or comma-separate).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    consistency: Vec<ConsistencyArg>,

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

/// Loads `path`, but waits no later than `deadline`: `Ok(None)` when
/// time ran out first. The reading then goes on in the background, and
/// ends with the process.
fn load_until(
    path: &Path,
    options: &LoadOptions,
    deadline: Option<Instant>,
) -> Result<Option<History>, String> {
    let Some(deadline) = deadline else {
        return History::load(path, options)
            .map(Some)
            .map_err(|e| e.to_string());
    };
    let (tx, rx) = mpsc::channel();
    let (owned, options) = (path.to_path_buf(), options.clone());
    std::thread::spawn(move || tx.send(History::load(&owned, &options)));
    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(r) => r.map(Some).map_err(|e| e.to_string()),
        Err(RecvTimeoutError::Timeout) => Ok(None),
        Err(RecvTimeoutError::Disconnected) => Err(format!(
            "{}: the reader stopped unexpectedly",
            path.display()
        )),
    }
}

/// The report of a file that time ran out on before it was read: every
/// checker the run asked for says unknown.
fn unread(path: &Path, args: &CheckArgs, template: &Plan) -> FileReport {
    let why = "not checked: time ran out while reading the file";
    let plan = Plan {
        model: args.model.unwrap_or(ModelKind::Register),
        ..template.clone()
    };
    let checks = plan
        .checks()
        .into_iter()
        .map(|c| {
            let section = CheckSection {
                valid: Verdict::Unknown,
                elapsed_ms: 0.0,
                summary: why.to_string(),
                evidence: Evidence::Skipped {
                    skipped: why.to_string(),
                },
            };
            (c.name(), section)
        })
        .collect();
    FileReport {
        path: path.display().to_string(),
        valid: Verdict::Unknown,
        model: args.model.map_or("unknown", |m| m.name()).to_string(),
        operations: 0,
        checks,
    }
}

/// Loads and checks one file.
fn check_file(path: &Path, args: &CheckArgs, template: &Plan) -> Result<FileReport, String> {
    let loaded = load_until(path, &args.input.load_options(), template.options.deadline)?;
    let Some(history) = loaded else {
        return Ok(unread(path, args, template));
    };
    let model = match args.model {
        Some(m) => m,
        // An empty history is trivially valid under any model.
        None if history.operations.is_empty() => ModelKind::Register,
        None => ModelKind::infer(&history).map_err(|e| format!("{}: {e}", path.display()))?,
    };
    let plan = Plan {
        model,
        ..template.clone()
    };
    let results = runner::run(&history, &plan).map_err(|e| e.in_file(path).to_string())?;
    let report = FileReport {
        path: path.display().to_string(),
        valid: results.verdict(),
        model: model.name().to_string(),
        operations: history.operations.len(),
        checks: CheckSection::all(&results, model),
    };
    // A history of millions of events takes a moment to free: free it
    // beside the rendering (the process may end before it is done).
    if history.ops.len() > 100_000 {
        std::thread::spawn(move || drop((history, results)));
    }
    Ok(report)
}

pub fn run(args: CheckArgs) -> Result<u8> {
    let start = Instant::now();
    let files = inputs::expand(&args.input.files)?;
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
    let results: Vec<Result<FileReport, String>> = files
        .par_iter()
        .map(|path| {
            let r = check_file(path, &args, &template);
            done.fetch_add(1, Ordering::Relaxed);
            r
        })
        .collect();
    drop(bar);
    let mut reports = Vec::new();
    let mut input_error = false;
    for r in results {
        match r {
            Ok(f) => reports.push(f),
            Err(e) => {
                eprintln!("labrys: {e}");
                input_error = true;
            }
        }
    }
    let run = RunReport::new(reports);
    let text = match args.format {
        OutputFormat::Json => report::json::render(&run),
        OutputFormat::Text => {
            report::text::run(&run, &Style::detect(std::io::stdout().is_terminal()))
        }
    };
    print(&text)?;
    Ok(if input_error {
        EXIT_ERROR
    } else {
        match run.valid {
            Verdict::Valid => EXIT_VALID,
            Verdict::Invalid => EXIT_INVALID,
            Verdict::Unknown => EXIT_UNKNOWN,
        }
    })
}
