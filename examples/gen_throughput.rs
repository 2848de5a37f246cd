//! Measures history generation: generates a history and writes it as JSON
//! Lines to a sink, then prints how long that took.
//!
//! `cargo run --release --example gen_throughput -- [ops] [clients] [crash-rate] [mode] [model] [file]`
//! (defaults: 1000000 32 0.01 atomic cas-register, and no file: the output
//! is discarded without a system call).

use labrys::gen::{write_generated, GenOptions, OutputFormat};
use labrys::model::ModelKind;
use std::io::{BufWriter, Write};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let options = GenOptions {
        ops: arg(0, "1000000").parse()?,
        clients: arg(1, "32").parse()?,
        crash_rate: arg(2, "0.01").parse()?,
        mode: arg(3, "atomic").parse()?,
        model: ModelKind::parse(&arg(4, "cas-register")).ok_or("unknown model")?,
        seed: 1,
        ..GenOptions::default()
    };
    let sink: Box<dyn Write> = match args.get(5) {
        Some(path) => Box::new(std::fs::File::create(path)?),
        None => Box::new(std::io::sink()),
    };
    let mut out = BufWriter::with_capacity(1 << 16, sink);
    let started = Instant::now();
    let faults = write_generated(&options, OutputFormat::Jsonl, &mut out)?;
    out.flush()?;
    let elapsed = started.elapsed();
    println!(
        "{} ops ({} events), {} clients, {} mode, {}: {:.2} s, {:.0} events/s, {} faults",
        options.ops,
        2 * options.ops,
        options.clients,
        options.mode,
        options.model,
        elapsed.as_secs_f64(),
        (2 * options.ops) as f64 / elapsed.as_secs_f64(),
        faults.len()
    );
    Ok(())
}
