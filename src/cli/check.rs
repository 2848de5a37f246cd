//! `labrys check`: check histories and report anomalies.

use super::{alloc, progress};
use super::{inputs, print, InputArgs, EXIT_ERROR, EXIT_INVALID, EXIT_UNKNOWN, EXIT_VALID};
use anyhow::{anyhow, Result};
use clap::{Args, ValueEnum};
use labrys::check::convergence::{ConvergenceOptions, FinalReadRule, SessionMode};
use labrys::check::run::{Plan, Results};
use labrys::check::shard::Shard;
use labrys::check::{CheckOptions, Consistency, Verdict};
use labrys::history::{Error, History, LoadOptions, Value};
use labrys::model::{ModelKind, ModelOptions};
use labrys::report::html::FileView;
use labrys::report::{
    self, CheckSection, FileFailure, FileOutcome, FileReport, ModelSource, RunReport,
};
use std::io::IsTerminal;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
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

    /// Output format: text for people, json for machines (its schema is
    /// docs/report.schema.json), github for GitHub Actions annotations on
    /// the history's lines. By default github when GITHUB_ACTIONS is true,
    /// else text. With GITHUB_STEP_SUMMARY set, a markdown summary is also
    /// appended to that file, whatever the format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<CheckFormat>,

    /// Also write the report as JUnit XML to this file: a test suite per
    /// history, a test case per checker (per key too with --report-all).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,

    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// Print nothing, on standard output or error: the exit status alone
    /// tells the verdict (files asked for are still written).
    #[arg(long, short = 'q')]
    quiet: bool,

    /// Also write the report as one self-contained HTML page to this file:
    /// a summary table, then per history a timeline and the evidence
    /// drawn. Records the linearization found for drawing, so the JSON
    /// report then carries it too.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,

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
    #[arg(long, value_name = "SIZE", value_parser = alloc::parse_size)]
    max_memory: Option<usize>,

    /// Check only shard I of N of the keys: those whose place in the key
    /// order is I modulo N (linearizability and convergence only; merge
    /// the shards' JSON reports with `labrys merge`).
    #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
    shard: Option<Shard>,

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
enum CheckFormat {
    /// For people.
    Text,
    /// For machines: a stable JSON document (docs/report.schema.json).
    Json,
    /// GitHub Actions workflow commands: an annotation per failing check.
    Github,
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
            memory: alloc::budget(self.max_memory),
            witness: self.html.is_some(),
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

/// How long a file's check may go on past the deadline (or past the
/// cancel flag) before the run stops waiting for it: the searches notice
/// the deadline within milliseconds, and this is the room left for the
/// evidence of one that just finished. The README states the slack.
const GRACE: Duration = Duration::from_millis(500);

/// How often the thread waiting for a file's check looks at the cancel
/// flag.
const POLL: Duration = Duration::from_millis(20);

/// How far the check of one file got, as its worker tells the thread
/// that waits for it.
enum Stage {
    /// The file is read; the model is being inferred.
    Read,
    /// The checkers are running with this model.
    Judging {
        model: ModelKind,
        source: ModelSource,
        operations: usize,
        /// When the checkers started.
        started: Instant,
    },
    /// The check is over.
    Done(Box<Result<Checked, Error>>),
}

/// A file's report, and what the page draws of it when `--html` asks.
type Checked = (FileReport, Option<FileView>);

/// What a worker needs to check one file on its own thread.
#[derive(Clone)]
struct Job {
    path: PathBuf,
    load: LoadOptions,
    model: Option<ModelKind>,
    clock_uncertainty: i64,
    plan: Plan,
    /// Whether the HTML page will draw the file.
    html: bool,
}

/// Loads and checks one file on a thread of its own, and waits for it no
/// later than the deadline (or the cancel flag) plus [`GRACE`]: a pass
/// over the history that does not look at the clock (reading the file,
/// inferring the model, compiling the history for a checker) may still
/// be running then. The checkers that finished keep their reports; the
/// others are unknown, and the worker is left to end with the process.
fn check_file(path: &Path, args: &CheckArgs, template: &Plan) -> Result<Checked, Error> {
    let job = Job {
        path: path.to_path_buf(),
        load: LoadOptions {
            memory: template.options.memory.clone(),
            ..args.input.load_options()
        },
        model: args.model,
        clock_uncertainty: args.clock_uncertainty,
        plan: template.clone(),
        html: args.html.is_some(),
    };
    let partial = Arc::new(Mutex::new(Results::default()));
    let (tx, rx) = mpsc::channel();
    let (worker_job, worker_partial) = (job.clone(), partial.clone());
    std::thread::spawn(move || judge(&worker_job, &worker_partial, &tx));
    let options = &template.options;
    let mut stage = None;
    let mut cancelled_at = None;
    loop {
        if cancelled_at.is_none() && options.cancelled() {
            cancelled_at = Some(Instant::now());
        }
        let limit = [options.deadline, cancelled_at]
            .into_iter()
            .flatten()
            .min()
            .map(|t| t + GRACE);
        let wait = limit.map_or(POLL, |l| {
            l.saturating_duration_since(Instant::now()).min(POLL)
        });
        match rx.recv_timeout(wait) {
            Ok(Stage::Done(r)) => return *r,
            Ok(s) => stage = Some(s),
            Err(RecvTimeoutError::Timeout) if limit.is_some_and(|l| Instant::now() >= l) => {
                let results = std::mem::take(&mut *partial.lock().expect("not poisoned"));
                let report = stopped(&job, stage, &results, cancelled_at.is_some());
                return Ok((report, None));
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                let named = PathBuf::from(display(path));
                return Err(Error::msg("the check stopped unexpectedly").in_file(&named));
            }
        }
    }
}

/// Loads a history file, or standard input for `-`.
fn load(path: &Path, options: &LoadOptions) -> Result<History, Error> {
    if path != Path::new(inputs::STDIN) {
        return History::load(path, options);
    }
    let name = Path::new(report::STDIN_NAME);
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut bytes)
        .map_err(|e| Error::msg(format!("cannot read standard input: {e}")).in_file(name))?;
    History::parse_bytes(&bytes, options).map_err(|e| e.in_file(name))
}

/// How a path is named in reports: `<stdin>` for `-`.
fn display(path: &Path) -> String {
    if path == Path::new(inputs::STDIN) {
        report::STDIN_NAME.to_string()
    } else {
        path.display().to_string()
    }
}

/// The report of a file whose check was still running when the run
/// stopped waiting for it, at `stage`: the checkers that finished keep
/// their reports, the others are unknown.
fn stopped(job: &Job, stage: Option<Stage>, results: &Results, cancelled: bool) -> FileReport {
    let cause = if cancelled {
        "interrupted"
    } else {
        "time ran out"
    };
    let path = display(&job.path);
    let options = &job.plan.options;
    let Some(Stage::Judging {
        model,
        source,
        operations,
        started,
    }) = stage
    else {
        let why = match stage {
            None => format!("not checked: {cause} while reading the file"),
            _ => format!("not checked: {cause} while inferring the model"),
        };
        let (model, source) = match job.model {
            Some(m) => (Some(m), ModelSource::Given),
            None => (None, ModelSource::None),
        };
        let checks = CheckSection::unfinished(&job.plan, &why, Duration::ZERO);
        return FileReport::new(path, model, source, 0, checks, options);
    };
    let plan = Plan {
        model,
        ..job.plan.clone()
    };
    let why = format!("undecided: {cause} before the check finished");
    let mut checks = CheckSection::unfinished(&plan, &why, started.elapsed());
    checks.extend(CheckSection::all(results, &plan));
    FileReport::new(path, Some(model), source, operations, checks, options)
}

/// The worker of [`check_file`]: loads, infers the model, runs the
/// checkers (their reports go to `partial` as each finishes), and says
/// how far it got on `tx`.
fn judge(job: &Job, partial: &Mutex<Results>, tx: &mpsc::Sender<Stage>) {
    let run = || -> Result<Checked, Error> {
        let named = PathBuf::from(display(&job.path));
        let path = named.as_path();
        match &job.plan.options.memory {
            Some(budget) if job.path != Path::new(inputs::STDIN) => alloc::fits(path, budget)?,
            _ => {}
        }
        let history = load(&job.path, &job.load).map_err(|e| e.in_file(path))?;
        let _ = tx.send(Stage::Read);
        let history = history
            .widen(job.clock_uncertainty)
            .map_err(|e| e.in_file(path))?;
        let name = path.display().to_string();
        let judging = |model, source, operations| {
            let _ = tx.send(Stage::Judging {
                model,
                source,
                operations,
                started: Instant::now(),
            });
        };
        let report = report::check_widened(
            &history,
            &name,
            job.model,
            &job.plan,
            job.clock_uncertainty,
            partial,
            judging,
        )
        .map_err(|e| e.in_file(path))?;
        let view = job.html.then(|| FileView::new(&history, &report));
        Ok((report, view))
    };
    let _ = tx.send(Stage::Done(Box::new(run())));
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

/// Prints a run's report in `format` (as `labrys merge` does) and gives
/// its exit status.
pub(super) fn print_run(run: &RunReport, format: super::OutputFormat) -> Result<u8> {
    let text = match format {
        super::OutputFormat::Json => report::json::render(run),
        super::OutputFormat::Text => {
            report::text::run(run, &super::text_style(std::io::stdout().is_terminal()))
        }
    };
    print(&text)?;
    Ok(exit_status(run))
}

pub fn run(args: CheckArgs) -> Result<u8> {
    shard_usage(&args)?;
    let start = Instant::now();
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
    let bar = (!args.quiet).then(|| {
        progress::Bar::start(template.options.progress.clone(), files.len(), done.clone())
    });
    // Files are checked a few at a time by plain threads that wait for
    // each file's worker; the workers use the rayon pool (a pool thread
    // must not block waiting for work queued behind it).
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<Checked, Error>>>> =
        files.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..rayon::current_num_threads().clamp(1, files.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(input) = files.get(i) else { break };
                let r = match input {
                    Ok(path) => check_file(path, &args, &template),
                    Err(e) => Err(e.clone()),
                };
                *slots[i].lock().expect("not poisoned") = Some(r);
                done.fetch_add(1, Ordering::Relaxed);
            });
        }
    });
    let results = slots
        .into_iter()
        .map(|s| s.into_inner().expect("not poisoned").expect("checked"));
    drop(bar);
    let mut views = Vec::with_capacity(results.len());
    let outcomes = results
        .map(|r| match r {
            Ok((f, view)) => {
                views.push(view);
                FileOutcome::Checked(f)
            }
            Err(e) => {
                if !args.quiet {
                    eprintln!("labrys: {e}");
                }
                views.push(None);
                let path = e.path.as_deref().unwrap_or(std::path::Path::new(""));
                FileOutcome::Failed(FileFailure::new(path.display().to_string(), &e))
            }
        })
        .collect();
    let run = RunReport::new(outcomes);
    if let Some(page) = &args.html {
        std::fs::write(page, report::html::page(&run, &views))
            .map_err(|e| anyhow!("--html {}: {e}", page.display()))?;
    }
    deliver(&run, &args)?;
    Ok(exit_status(&run))
}

/// The output format: as asked, else github under GitHub Actions, else
/// text.
fn format(args: &CheckArgs) -> CheckFormat {
    args.format.unwrap_or_else(|| {
        if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
            CheckFormat::Github
        } else {
            CheckFormat::Text
        }
    })
}

/// Writes the report where it was asked for: the JUnit file, the job
/// summary, then the report to `--output` or standard output (nothing
/// there with `--quiet`).
fn deliver(run: &RunReport, args: &CheckArgs) -> Result<()> {
    if let Some(path) = &args.junit {
        let xml = report::junit::render(run, args.report_all);
        std::fs::write(path, xml)
            .map_err(|e| anyhow!("cannot write the JUnit report {}: {e}", path.display()))?;
    }
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(report::github::summary(run).as_bytes()));
        if let Err(e) = appended {
            let path = Path::new(&path).display();
            return Err(anyhow!("cannot append to GITHUB_STEP_SUMMARY {path}: {e}"));
        }
    }
    if args.quiet && args.output.is_none() {
        return Ok(());
    }
    let terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let text = match format(args) {
        CheckFormat::Json => report::json::render(run),
        CheckFormat::Github => report::github::annotations(run),
        CheckFormat::Text => report::text::run(run, &super::text_style(terminal)),
    };
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| anyhow!("cannot write the report {}: {e}", path.display())),
        None => print(&text),
    }
}
