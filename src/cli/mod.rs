//! Command-line parsing and the subcommands.

mod alloc;
mod check;
mod gen;
mod inputs;
mod merge;
mod progress;
mod stats;

use anyhow::Result;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
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
    /// Print a shell completion script: source it, or install it where your
    /// shell looks for completions.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `labrys man > labrys.1`.
    Man,
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
            memory: None,
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
        Command::Completions { shell } => completions(shell),
        Command::Man => man(),
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

/// Prints the completion script for `shell`, from the same definitions
/// that parse the command line.
fn completions(shell: clap_complete::Shell) -> Result<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "labrys", &mut script);
    print(&String::from_utf8_lossy(&script))?;
    Ok(EXIT_VALID)
}

/// Prints the man page, from the same definitions that parse the command
/// line: the top-level page, then a section per subcommand with its
/// synopsis, description and options as subsections.
fn man() -> Result<u8> {
    use clap_mangen::Man;
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let mut page = Vec::new();
    Man::new(command.clone()).render(&mut page)?;
    type Render = fn(&Man, &mut dyn Write) -> std::io::Result<()>;
    let parts: [Render; 3] = [
        Man::render_synopsis_section,
        Man::render_description_section,
        Man::render_options_section,
    ];
    for sub in command.get_subcommands() {
        let man = Man::new(sub.clone());
        writeln!(page, ".SH \"LABRYS {}\"", sub.get_name().to_uppercase())?;
        for render in parts {
            let mut section = Vec::new();
            render(&man, &mut section)?;
            // Each part has a top-level heading; here it is a subsection.
            let text = String::from_utf8_lossy(&section).replacen(".SH ", ".SS ", 1);
            page.extend_from_slice(text.as_bytes());
        }
    }
    print(&String::from_utf8_lossy(&page))?;
    Ok(EXIT_VALID)
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// How text output is styled: colour only on a terminal (`terminal`: the
/// report goes to standard output and that is a terminal), and never with
/// `NO_COLOR`; fitted to the terminal's width, or to `COLUMNS` or a fixed
/// width otherwise.
fn text_style(terminal: bool) -> labrys::report::style::Style {
    let width = console::Term::stdout()
        .size_checked()
        .map(|(_, cols)| usize::from(cols));
    labrys::report::style::Style::detect(terminal, width)
}
