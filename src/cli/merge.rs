//! `labrys merge`: the report of one run from the reports of its shards.

use super::check::print_run;
use super::{OutputFormat, EXIT_ERROR};
use anyhow::Result;
use clap::Args;
use labrys::report::merge;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// JSON reports of `labrys check --format json`: every shard of a run
    /// (`--shard I/N`), and reports of other checkers over the whole
    /// history (`--consistency sequential`).
    #[arg(required = true, value_name = "REPORT")]
    reports: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
}

pub fn run(args: MergeArgs) -> Result<u8> {
    let mut runs = Vec::with_capacity(args.reports.len());
    for path in &args.reports {
        let read = std::fs::read_to_string(path)
            .map_err(|e| labrys::history::Error::msg(e.to_string()))
            .and_then(|text| merge::read(&text));
        match read {
            Ok(run) => runs.push(run),
            Err(e) => {
                eprintln!("labrys: {}", e.in_file(path));
                return Ok(EXIT_ERROR);
            }
        }
    }
    let run = match merge::merge(&runs) {
        Ok(run) => run,
        Err(e) => {
            eprintln!("labrys: merge: {e}");
            return Ok(EXIT_ERROR);
        }
    };
    print_run(&run, args.format)
}
