//! `labrys stats`: summarize histories.

use super::{alloc, inputs, print, InputArgs, OutputFormat, EXIT_ERROR, EXIT_VALID};
use anyhow::Result;
use clap::Args;
use labrys::history::stats::Stats;
use labrys::history::{History, LoadOptions};
use labrys::report;
use rayon::prelude::*;
use serde::Serialize;
use std::io::IsTerminal;

#[derive(Args, Debug)]
pub struct StatsArgs {
    #[command(flatten)]
    input: InputArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,

    /// The memory budget (bytes, or with a unit: 512M, 2G): a file too
    /// large to load within it is an input error. By default the least of
    /// half the address-space limit (ulimit -v), three quarters of the
    /// cgroup's memory.max and three quarters of MemAvailable.
    #[arg(long, value_name = "SIZE", value_parser = alloc::parse_size)]
    max_memory: Option<usize>,
}

#[derive(Serialize)]
struct FileStats {
    path: String,
    #[serde(flatten)]
    stats: Stats,
}

pub fn run(args: StatsArgs) -> Result<u8> {
    let files = inputs::expand(&args.input.files);
    alloc::fit_address_space();
    let budget = alloc::budget(args.max_memory);
    let options = LoadOptions {
        memory: budget.clone(),
        ..args.input.load_options()
    };
    let results: Vec<_> = files
        .par_iter()
        .map(|input| -> Result<_, labrys::history::Error> {
            let path = input.as_ref().map_err(Clone::clone)?;
            if let Some(budget) = &budget {
                alloc::fits(path, budget)?;
            }
            let stats = Stats::of(&History::load(path, &options)?);
            Ok((path.display().to_string(), stats))
        })
        .collect();
    let mut failed = false;
    let mut found = Vec::new();
    for result in results {
        match result {
            Ok((path, stats)) => found.push(FileStats { path, stats }),
            Err(e) => {
                eprintln!("labrys: {e}");
                failed = true;
            }
        }
    }
    let text = match args.format {
        OutputFormat::Json => report::json::render(&found),
        OutputFormat::Text => {
            let style = super::text_style(std::io::stdout().is_terminal());
            found
                .iter()
                .map(|f| report::text::stats(&f.path, &f.stats, &style))
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    print(&text)?;
    Ok(if failed { EXIT_ERROR } else { EXIT_VALID })
}
