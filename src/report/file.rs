//! The check of one loaded history, from the model's choice to its
//! report: what `labrys check` does for each file once it is read, and
//! what the Python package does for a history it is given.

use super::html::FileView;
use super::{CheckSection, FileReport, ModelSource};
use crate::check::nothing_to_judge;
use crate::check::run::{self, Plan, Results};
use crate::history::{Error, History};
use crate::model::ModelKind;
use std::sync::Mutex;

/// Checks `history` under `template` (every field but the model) and
/// returns its report, named `path`.
///
/// The history's intervals are first widened by `clock_uncertainty`
/// ([`History::widen`]); the rest is [`check_widened`]. `Err` when the
/// model cannot be inferred, when the history has no times to widen, or
/// when an operation's value does not fit the model; the error is not yet
/// placed in a file ([`Error::in_file`]).
pub fn check_history(
    history: History,
    path: &str,
    model: Option<ModelKind>,
    template: &Plan,
    clock_uncertainty: i64,
) -> Result<FileReport, Error> {
    check_history_drawn(history, path, model, template, clock_uncertainty, false).map(|r| r.0)
}

/// [`check_history`], and with `draw` what the HTML page draws of the
/// history ([`FileView`]), gathered while the history is still loaded.
/// A valid partition's linearization is drawn only when `template` asks
/// for it (`CheckOptions::witness`).
pub fn check_history_drawn(
    history: History,
    path: &str,
    model: Option<ModelKind>,
    template: &Plan,
    clock_uncertainty: i64,
    draw: bool,
) -> Result<(FileReport, Option<FileView>), Error> {
    let history = history.widen(clock_uncertainty)?;
    let results = Mutex::new(Results::default());
    let report = check_widened(
        &history,
        path,
        model,
        template,
        clock_uncertainty,
        &results,
        |_, _, _| {},
    )?;
    let view = draw.then(|| FileView::new(&history, &report));
    // A history of millions of events takes a moment to free: free it
    // beside the rendering (the process may end before it is done).
    if history.ops.len() > 100_000 {
        std::thread::spawn(move || drop((history, results)));
    }
    Ok((report, view))
}

/// Checks `history`, already widened by `clock_uncertainty`, under
/// `template` (every field but the model), and returns its report named
/// `path`, with its timeline.
///
/// The model is `model` when given, else inferred from the history
/// ([`ModelKind::infer`]); a history with no client operations needs
/// none. Once the model is known, `judging` is told it, how it was
/// chosen and the number of operations, and each checker's report is
/// put in `partial` as soon as that checker finishes
/// ([`run::run_into`]): a caller that stops waiting keeps those. `Err`
/// as for [`check_history`].
pub fn check_widened(
    history: &History,
    path: &str,
    model: Option<ModelKind>,
    template: &Plan,
    clock_uncertainty: i64,
    partial: &Mutex<Results>,
    judging: impl FnOnce(ModelKind, ModelSource, usize),
) -> Result<FileReport, Error> {
    let (model, source) = match model {
        Some(m) => (Some(m), ModelSource::Given),
        None => match ModelKind::infer(history) {
            Ok(m) => (Some(m), ModelSource::Inferred),
            // Under any model, nothing would be judged.
            Err(_) if nothing_to_judge(history).is_some() => (None, ModelSource::None),
            Err(e) => return Err(Error::msg(e.to_string())),
        },
    };
    let operations = history.operations.len();
    let plan = Plan {
        model: model.unwrap_or(template.model),
        ..template.clone()
    };
    let checks = match model {
        None => {
            let reason = nothing_to_judge(history).unwrap_or_default();
            CheckSection::none_ran(&plan, &reason)
        }
        Some(model) => {
            judging(model, source, operations);
            run::run_into(history, &plan, partial)?;
            CheckSection::all(&partial.lock().expect("not poisoned"), &plan)
        }
    };
    Ok(FileReport::new(
        path.to_string(),
        model,
        source,
        operations,
        checks,
        &plan.options,
    )
    .with_faults(history, clock_uncertainty)
    .with_timeline(history))
}
