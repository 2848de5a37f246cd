//! Command-line parsing and the subcommands.

mod alloc;
mod check;
mod gen;
mod inputs;
mod merge;
mod progress;
mod stats;

use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};
use labrys::history::{Format, LoadOptions};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status: every check valid.
pub const EXIT_VALID: u8 = 0;
/// Exit status: an anomaly was found.
pub const EXIT_INVALID: u8 = 1;
/// Exit status: bad usage or bad input.
pub const EXIT_ERROR: u8 = 2;
/// Exit status: inconclusive (no anomaly found, some check undecided).
pub const EXIT_UNKNOWN: u8 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "labrys",
    version,
    about = "Checks Jepsen-style histories for linearizability, sequential consistency and eventual convergence",
    after_help = "Exit status: 0 valid, 1 anomaly found, 2 usage or input error, 3 inconclusive."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check histories for consistency anomalies.
    Check(check::CheckArgs),
    /// Summarize histories: ops by type and f, processes, crashes, keys,
    /// nemesis events, time span.
    Stats(stats::StatsArgs),
    /// Generate a history from a seeded simulation (JSON Lines or EDN on
    /// standard output): an atomic object, a sequentially consistent
    /// replicated store, or an eventually consistent one, with fault knobs.
    Gen(gen::GenArgs),
    /// Merge the JSON reports of `labrys check --shard I/N` (and of other
    /// checkers run over the whole history) into the report of one run.
    Merge(merge::MergeArgs),
}

/// How to read the input files; shared by every subcommand that reads them.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// History files, or directories to search for them (a Jepsen store
    /// directory holds history.edn).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Read every file in this format instead of detecting it.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormat>,

    /// Read values as Jepsen `independent` tuples [key value].
    #[arg(long)]
    pub independent: bool,

    /// Take this process's events as fault events, not client operations
    /// (repeatable): an integer id, or a name with or without its colon.
    /// Processes named nemesis, and those that log only info events, are
    /// always fault processes.
    #[arg(long, value_name = "PROCESS")]
    pub nemesis: Vec<String>,
}

impl InputArgs {
    /// The loader's options.
    pub fn load_options(&self) -> LoadOptions {
        LoadOptions {
            format: self.input_format.map(|f| match f {
                InputFormat::Edn => Format::Edn,
                InputFormat::Text => Format::Text,
                InputFormat::Json => Format::Json,
            }),
            independent: self.independent,
            nemesis: self.nemesis.clone(),
        }
    }
}

/// Input formats, as `--input-format` spells them.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// Jepsen history.edn.
    Edn,
    /// Jepsen history.txt or jepsen.util log lines.
    Text,
    /// A JSON array of ops, or JSON Lines.
    Json,
}

/// Output formats, as `--format` spells them.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// For people.
    #[default]
    Text,
    /// For machines: a stable JSON document.
    Json,
}

/// Runs the command line and returns the exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_ERROR } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Stats(args) => stats::run(args),
        Command::Gen(args) => gen::run(args),
        Command::Merge(args) => merge::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::from(EXIT_VALID);
            }
            eprintln!("labrys: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Writes to standard output; a closed pipe (`labrys ... | head`) is not an
/// error and surfaces as one that [`main`] treats as success.
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
