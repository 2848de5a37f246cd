//! The native half of the `labrys` Python package: loading, checking,
//! merging and generating histories with the library, under the names
//! and options of the command line. `labrys/__init__.py` is the Python
//! half: it turns what a harness has (a path, a list of op dicts, a
//! recorder) into what these functions take, and the JSON they return
//! into Python data.

use labrys::check::convergence::{ConvergenceOptions, FinalReadRule, SessionMode};
use labrys::check::run::Plan;
use labrys::check::shard::Shard;
use labrys::check::{CheckOptions, Consistency};
use labrys::gen::{self, GenOptions};
use labrys::history::{Error, Format, History, LoadOptions, Value};
use labrys::memory::{self, Budget};
use labrys::model::{ModelKind, ModelOptions};
use labrys::report::{self, merge, FileOutcome, RunReport};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How often the waiting thread looks for Ctrl-C.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// The option `key` of `options`, when given and not `None`.
fn opt<'py, T: FromPyObject<'py>>(options: &Bound<'py, PyDict>, key: &str) -> PyResult<Option<T>> {
    match options.get_item(key)? {
        Some(v) if !v.is_none() => v
            .extract()
            .map(Some)
            .map_err(|e| PyValueError::new_err(format!("{key}: {e}"))),
        _ => Ok(None),
    }
}

fn bad(key: &str, value: &str, expected: &str) -> PyErr {
    PyValueError::new_err(format!("{key}={value:?}: expected {expected}"))
}

/// The loader's options, from `input_format`, `independent`, `nemesis`.
fn load_options(o: &Bound<'_, PyDict>) -> PyResult<LoadOptions> {
    let format = match opt::<String>(o, "input_format")?.as_deref() {
        None => None,
        Some("edn") => Some(Format::Edn),
        Some("text") => Some(Format::Text),
        Some("json") => Some(Format::Json),
        Some(f) => return Err(bad("input_format", f, "edn, text or json")),
    };
    Ok(LoadOptions {
        format,
        independent: opt(o, "independent")?.unwrap_or(false),
        nemesis: opt::<Vec<String>>(o, "nemesis")?.unwrap_or_default(),
        ..LoadOptions::default()
    })
}

/// The checkers named; empty for every one.
fn consistencies(o: &Bound<'_, PyDict>) -> PyResult<Vec<Consistency>> {
    let mut out = Vec::new();
    for name in opt::<Vec<String>>(o, "consistency")?.unwrap_or_default() {
        match name.as_str() {
            "all" => return Ok(Vec::new()),
            n => out.push(
                Consistency::ALL
                    .into_iter()
                    .find(|c| c.name() == n)
                    .ok_or_else(|| {
                        bad("consistency", n, "linearizable, sequential or convergence")
                    })?,
            ),
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The resident memory of this process, the probe of `max_memory`.
fn resident() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// The plan of a check, from the command line's options by name.
fn plan(o: &Bound<'_, PyDict>, start: Instant) -> PyResult<Plan> {
    let initial = match opt::<String>(o, "initial")? {
        Some(t) => Value::parse_edn(&t).map_err(|e| bad("initial", &t, &e.to_string()))?,
        None => Value::Nil,
    };
    let word = |key: &str, default: &str| -> PyResult<String> {
        Ok(opt::<String>(o, key)?.unwrap_or_else(|| default.to_string()))
    };
    let timeout = match opt::<f64>(o, "timeout")? {
        Some(t) if !(t.is_finite() && t > 0.0) => {
            return Err(bad(
                "timeout",
                &t.to_string(),
                "a positive number of seconds",
            ))
        }
        t => t.map(Duration::from_secs_f64),
    };
    let memory = match o.get_item("max_memory")? {
        Some(v) if !v.is_none() => {
            let text: String = v.str()?.extract()?;
            let limit = memory::parse_bytes(&text)
                .ok_or_else(|| bad("max_memory", &text, "a size such as 512M or 2G"))?;
            Some(Budget::new(limit, resident))
        }
        _ => None,
    };
    let shard = match opt::<String>(o, "shard")? {
        Some(s) => Some(Shard::parse(&s).map_err(PyValueError::new_err)?),
        None => None,
    };
    let final_reads = match word("final_reads", "after-last-update")?.as_str() {
        "after-last-update" => FinalReadRule::AfterLastUpdate,
        "after-heal" => FinalReadRule::AfterHeal,
        "marked" => FinalReadRule::Marked,
        w => {
            return Err(bad(
                "final_reads",
                w,
                "after-last-update, after-heal or marked",
            ))
        }
    };
    let sessions = match word("sessions", "report")?.as_str() {
        "off" => SessionMode::Off,
        "report" => SessionMode::Report,
        "require" => SessionMode::Require,
        w => return Err(bad("sessions", w, "off, report or require")),
    };
    Ok(Plan {
        model: ModelKind::Register,
        model_options: ModelOptions {
            initial,
            nil_read_observes_nothing: word("nil_read", "absent")? == "anything",
            failed_cas_observes: word("failed_cas", "ignore")? == "observe",
        },
        checks: consistencies(o)?,
        options: CheckOptions {
            deadline: timeout.map(|t| start + t),
            partition: !opt(o, "one_object")?.unwrap_or(false),
            report_all: opt(o, "report_all")?.unwrap_or(false),
            shrink: !opt(o, "no_shrink")?.unwrap_or(false),
            allow_empty: opt(o, "allow_empty")?.unwrap_or(false),
            memory,
            shard,
            ..CheckOptions::default()
        },
        convergence: ConvergenceOptions {
            final_reads,
            settle: opt(o, "settle")?.unwrap_or(0),
            nodes: opt(o, "nodes")?,
            sessions,
            ..ConvergenceOptions::default()
        },
    })
}

/// Raises `labrys.HistoryError` for an input error.
fn history_error(py: Python<'_>, e: &Error, name: &str) -> PyErr {
    let path = e
        .path
        .as_ref()
        .map_or_else(|| name.to_string(), |p| p.display().to_string());
    let known = |n: u32| (n > 0).then_some(n);
    let raised = py
        .import("labrys")
        .and_then(|m| m.getattr("HistoryError"))
        .and_then(|cls| {
            cls.call1((
                e.message.clone(),
                path,
                known(e.position.line),
                known(e.position.column),
            ))
        });
    match raised {
        Ok(err) => PyErr::from_value(err),
        Err(err) => err,
    }
}

/// Checks one history and returns the report as `labrys check --format
/// json` prints it. `source` is a path (`kind` `"path"`) or the history's
/// text (`kind` `"text"`, named `name` in reports); `options` are the
/// command line's, by name, and `html`, a path the HTML report is written
/// to. The check runs on its own thread with the GIL released; Ctrl-C
/// stops it, and its report then says unknown for what was not decided.
#[pyfunction]
#[pyo3(signature = (kind, source, name, options))]
fn check(
    py: Python<'_>,
    kind: &str,
    source: String,
    name: String,
    options: &Bound<'_, PyDict>,
) -> PyResult<String> {
    let start = Instant::now();
    let mut template = plan(options, start)?;
    // The HTML page draws a valid partition's linearization, which the
    // checker records only when asked.
    let html: Option<String> = opt(options, "html")?;
    template.options.witness = html.is_some();
    if template.options.shard.is_some() {
        if template.checks.contains(&Consistency::Sequential) {
            return Err(PyValueError::new_err(
                "shard: sequential consistency is not local to a key, so it cannot be checked \
                 shard by shard; check it on the whole history (consistency=[\"sequential\"])",
            ));
        }
        if !template.options.partition {
            return Err(PyValueError::new_err(
                "shard splits a history by key; one_object checks it as one object",
            ));
        }
    }
    // Read within the check's memory budget, as the command line does.
    let load = LoadOptions {
        memory: template.options.memory.clone(),
        ..load_options(options)?
    };
    let model = match opt::<String>(options, "model")? {
        Some(m) => Some(ModelKind::parse(&m).ok_or_else(|| {
            let names: Vec<_> = ModelKind::ALL.iter().map(|k| k.name()).collect();
            bad("model", &m, &names.join(", "))
        })?),
        None => None,
    };
    let clock: i64 = opt(options, "clock_uncertainty")?.unwrap_or(0);
    let from_file = kind == "path";
    let cancel = template.options.cancel.clone();
    let draw = html.is_some();
    let (tx, rx) = mpsc::channel();
    let (worker_name, plan) = (name.clone(), template);
    std::thread::spawn(move || {
        let loaded = if from_file {
            let path = Path::new(&source);
            History::load(path, &load).map_err(|e| e.in_file(path))
        } else {
            History::parse(&source, &load)
        };
        let report = loaded
            .and_then(|h| report::check_history_drawn(h, &worker_name, model, &plan, clock, draw));
        let _ = tx.send(report);
    });
    let mut rx = rx;
    let result = loop {
        // The receiver goes into the GIL-free wait and comes back out.
        let (got, back) = py.allow_threads(move || (rx.recv_timeout(SIGNAL_POLL), rx));
        rx = back;
        match got {
            Ok(r) => break r,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if py.check_signals().is_err() {
                    // Ctrl-C: stop the searches; what is undecided is unknown.
                    cancel.store(true, Ordering::Relaxed);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(PyValueError::new_err("the check stopped unexpectedly"))
            }
        }
    };
    let (file, view) = result.map_err(|e| history_error(py, &e, &name))?;
    let run = RunReport::new(vec![FileOutcome::Checked(file)]);
    if let Some(page) = html {
        std::fs::write(&page, report::html::page(&run, &[view]))
            .map_err(|e| PyOSError::new_err(format!("html {page}: {e}")))?;
    }
    Ok(report::json::render(&run))
}

/// Merges JSON reports (of shards, and of other checkers over the whole
/// history) into the report of one run, as `labrys merge` does.
#[pyfunction]
fn merge_reports(reports: Vec<String>) -> PyResult<String> {
    let runs = reports
        .iter()
        .enumerate()
        .map(|(i, text)| {
            merge::read(text).map_err(|e| PyValueError::new_err(format!("report {}: {e}", i + 1)))
        })
        .collect::<PyResult<Vec<_>>>()?;
    let run = merge::merge(&runs).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(report::json::render(&run))
}

/// Generates a history as `labrys gen` does and returns it as JSON Lines
/// (or EDN with `format="edn"`); `options` are the command line's, by
/// name (numbers, or strings for fault knobs such as `"0.01"` or `"3"`).
#[pyfunction]
fn generate(options: &Bound<'_, PyDict>) -> PyResult<String> {
    let text = |key: &str| -> PyResult<Option<String>> {
        match options.get_item(key)? {
            Some(v) if !v.is_none() => Ok(Some(v.str()?.extract()?)),
            _ => Ok(None),
        }
    };
    fn from<T: std::str::FromStr<Err = gen::GenError>>(
        key: &str,
        v: Option<String>,
    ) -> PyResult<Option<T>> {
        v.map(|s| {
            s.parse::<T>()
                .map_err(|e| PyValueError::new_err(format!("{key}: {e}")))
        })
        .transpose()
    }
    let d = GenOptions::default();
    let mut o = GenOptions {
        mode: from("mode", text("mode")?)?.unwrap_or(d.mode),
        mix: from("mix", text("mix")?)?.unwrap_or_default(),
        seed: opt(options, "seed")?.unwrap_or(d.seed),
        clients: opt(options, "clients")?.unwrap_or(d.clients),
        ops: opt(options, "ops")?.unwrap_or(d.ops),
        values: opt(options, "values")?.unwrap_or(d.values),
        unique_values: opt(options, "unique_values")?.unwrap_or(false),
        keys: opt(options, "keys")?.unwrap_or(d.keys),
        latency_mean: opt(options, "latency")?.unwrap_or(d.latency_mean),
        latency_spread: opt(options, "latency_spread")?.unwrap_or(d.latency_spread),
        crash_rate: opt(options, "crash_rate")?.unwrap_or(d.crash_rate),
        replicas: opt(options, "replicas")?.unwrap_or(d.replicas),
        replication_delay: opt(options, "replication_delay")?.unwrap_or(d.replication_delay),
        partitions: opt(options, "partitions")?.unwrap_or(d.partitions),
        clock_skew: opt(options, "clock_skew")?.unwrap_or(d.clock_skew),
        ..d
    };
    if let Some(m) = text("model")? {
        o.model = ModelKind::parse(&m).ok_or_else(|| bad("model", &m, "a model name"))?;
    }
    let f = &mut o.faults;
    for (key, slot) in [
        ("stale_reads", &mut f.stale_reads),
        ("lost_writes", &mut f.lost_writes),
        ("duplicated_effects", &mut f.duplicated_effects),
        ("reordered_effects", &mut f.reordered_effects),
        ("read_behind_own_write", &mut f.read_behind_own_write),
        ("dropped_writes", &mut f.dropped_writes),
    ] {
        if let Some(rate) = from(key, text(key)?)? {
            *slot = rate;
        }
    }
    o.validate()
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    let format: gen::OutputFormat = from("format", text("format")?)?.unwrap_or_default();
    let mut out = Vec::new();
    gen::write_generated(&o, format, &mut out).map_err(|e| PyValueError::new_err(e.to_string()))?;
    String::from_utf8(out).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(merge_reports, m)?)?;
    m.add_function(wrap_pyfunction!(generate, m)?)?;
    Ok(())
}
