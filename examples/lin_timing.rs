//! Times the linearizability checker on a corpus directory: load and check
//! every file, report per-file and total wall time.
//!
//! `cargo run --release --example lin_timing -- DIR MODEL [--no-partition]
//! [--report-all] [--no-shrink] [--initial VALUE] [--observes]`

use labrys::check::linearizable::check_model;
use labrys::check::CheckOptions;
use labrys::history::{History, LoadOptions, Value};
use labrys::model::{ModelKind, ModelOptions};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = &args[0];
    let kind = ModelKind::parse(&args[1]).expect("model");
    let flag = |f: &str| args.iter().any(|a| a == f);
    let mut model_options = ModelOptions {
        failed_cas_observes: flag("--observes"),
        ..ModelOptions::default()
    };
    if let Some(i) = args.iter().position(|a| a == "--initial") {
        model_options.initial = Value::Str(args[i + 1].clone().into());
    }
    let options = CheckOptions {
        partition: !flag("--no-partition"),
        report_all: flag("--report-all"),
        shrink: !flag("--no-shrink"),
        ..CheckOptions::default()
    };
    let path = std::path::Path::new(dir);
    let mut files: Vec<_> = if path.is_dir() {
        std::fs::read_dir(path)
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .collect()
    } else {
        vec![path.to_path_buf()]
    };
    files.sort();
    let total = Instant::now();
    let mut slowest = (0.0, String::new());
    for f in &files {
        let t = Instant::now();
        let h = History::load(f, &LoadOptions::default()).expect("load");
        let r = check_model(&h, kind, &model_options, &options).expect("check");
        let dt = t.elapsed().as_secs_f64();
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if dt > slowest.0 {
            slowest = (dt, name.clone());
        }
        let invalid_keys = r
            .partitions
            .iter()
            .filter(|p| p.valid == labrys::check::Verdict::Invalid)
            .count();
        println!(
            "{name}\t{}\t{:.4}s\tpartitions {}\tinvalid {invalid_keys}",
            r.valid.word(),
            dt,
            r.partitions.len()
        );
    }
    println!(
        "total {:.4}s over {} files; slowest {} {:.4}s",
        total.elapsed().as_secs_f64(),
        files.len(),
        slowest.1,
        slowest.0
    );
}
