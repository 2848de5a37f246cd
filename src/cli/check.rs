//! `labrys check`: check histories and report anomalies.

use super::{
    inputs, print, InputArgs, OutputFormat, EXIT_ERROR, EXIT_INVALID, EXIT_UNKNOWN, EXIT_VALID,
};
use anyhow::{anyhow, Result};
use clap::{Args, ValueEnum};
use labrys::check::{Consistency, Verdict};
use labrys::history::{History, Value};
use labrys::model::{ModelKind, ModelOptions};
use labrys::report::{self, style::Style, CheckSection, Detail, FileReport, RunReport};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::IsTerminal;

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

    /// Give up after this many seconds (verdict unknown), per checker.
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
    fn consistencies(&self) -> Vec<Consistency> {
        if self.consistency.contains(&ConsistencyArg::All) {
            return Consistency::ALL.to_vec();
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
}

pub fn run(args: CheckArgs) -> Result<u8> {
    let files = inputs::expand(&args.input.files)?;
    let load = args.input.load_options();
    let _model_options = args.model_options()?;
    let wanted = args.consistencies();
    let results: Vec<Result<FileReport, String>> = files
        .par_iter()
        .map(|path| {
            let history = History::load(path, &load).map_err(|e| e.to_string())?;
            let model = args
                .model
                .ok_or_else(|| format!("{}: give the model with --model", path.display()))?;
            let mut checks = BTreeMap::new();
            for c in &wanted {
                checks.insert(
                    c.name(),
                    CheckSection {
                        valid: Verdict::Unknown,
                        elapsed_ms: 0.0,
                        detail: Detail::Skipped {
                            skipped: format!("the {} checker is not built yet", c.name()),
                        },
                    },
                );
            }
            let valid = checks
                .values()
                .fold(Verdict::Valid, |acc, c| acc.and(c.valid));
            Ok(FileReport {
                path: path.display().to_string(),
                valid,
                model: model.name().to_string(),
                operations: history.operations.len(),
                checks,
            })
        })
        .collect();
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
