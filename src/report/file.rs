//! The check of one loaded history, from the model's choice to its
//! report: what `labrys check` does for each file once it is read, and
//! what the Python package does for a history it is given.

use super::{CheckSection, FileReport, ModelSource};
use crate::check::nothing_to_judge;
use crate::check::run::{self, Plan};
use crate::history::{Error, History};
use crate::model::ModelKind;

/// Checks `history` under `template` (every field but the model) and
/// returns its report, named `path`.
///
/// The history's intervals are first widened by `clock_uncertainty`
/// ([`History::widen`]). The model is `model` when given, else inferred
/// from the history ([`ModelKind::infer`]); a history with no client
/// operations needs none. `Err` when the model cannot be inferred, when
/// the history has no times to widen, or when an operation's value does
/// not fit the model; the error is not yet placed in a file
/// ([`Error::in_file`]).
pub fn check_history(
    history: History,
    path: &str,
    model: Option<ModelKind>,
    template: &Plan,
    clock_uncertainty: i64,
) -> Result<FileReport, Error> {
    let history = history.widen(clock_uncertainty)?;
    let (model, source) = match model {
        Some(m) => (Some(m), ModelSource::Given),
        None => match ModelKind::infer(&history) {
            Ok(m) => (Some(m), ModelSource::Inferred),
            // Under any model, nothing would be judged.
            Err(_) if nothing_to_judge(&history).is_some() => (None, ModelSource::None),
            Err(e) => return Err(Error::msg(e.to_string())),
        },
    };
    let operations = history.operations.len();
    let Some(model) = model else {
        let reason = nothing_to_judge(&history).unwrap_or_default();
        let checks = CheckSection::none_ran(template, &reason);
        return Ok(FileReport::new(
            path.to_string(),
            None,
            source,
            operations,
            checks,
            &template.options,
        )
        .with_faults(&history, clock_uncertainty));
    };
    let plan = Plan {
        model,
        ..template.clone()
    };
    let results = run::run(&history, &plan)?;
    let checks = CheckSection::all(&results, &plan);
    let report = FileReport::new(
        path.to_string(),
        Some(model),
        source,
        operations,
        checks,
        &plan.options,
    )
    .with_faults(&history, clock_uncertainty);
    // A history of millions of events takes a moment to free: free it
    // beside the rendering (the process may end before it is done).
    if history.ops.len() > 100_000 {
        std::thread::spawn(move || drop((history, results)));
    }
    Ok(report)
}
