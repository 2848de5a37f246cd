//! Running several checkers on one history, in parallel.
//!
//! `labrys check FILE` runs every checker that applies to the model at
//! once (rayon), each with its own time budget, and combines their verdicts
//! as Jepsen does: invalid beats unknown beats valid. Convergence does not
//! apply to the mutex and multi-register models; it is left out of a plain
//! run on those, and says unknown when asked for by name.

use super::convergence::{self, ConvergenceOptions, ConvergenceReport};
use super::linearizable::{self, LinearizableReport};
use super::sequential::{self, SequentialReport};
use super::{CheckOptions, Consistency, Verdict};
use crate::history::{Error, History};
use crate::model::{ModelKind, ModelOptions};
use crate::with_model;
use std::time::{Duration, Instant};

/// What to check, and how.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The model.
    pub model: ModelKind,
    /// The model's options (initial value, readings of nil and failed cas).
    pub model_options: ModelOptions,
    /// The checkers to run. Empty means every one that applies.
    pub checks: Vec<Consistency>,
    /// Limits and switches of the searches.
    pub options: CheckOptions,
    /// Options of the convergence checker.
    pub convergence: ConvergenceOptions,
}

/// A checker's report and the time it took.
#[derive(Clone, Debug)]
pub struct Timed<T> {
    /// The report.
    pub report: T,
    /// Wall-clock time.
    pub elapsed: Duration,
}

/// The reports of the checkers that ran.
#[derive(Clone, Debug, Default)]
pub struct Results {
    /// Linearizability, if it ran.
    pub linearizable: Option<Timed<LinearizableReport>>,
    /// Sequential consistency, if it ran.
    pub sequential: Option<Timed<SequentialReport>>,
    /// Convergence, if it ran.
    pub convergence: Option<Timed<ConvergenceReport>>,
}

impl Results {
    /// The combined verdict: invalid beats unknown beats valid.
    pub fn verdict(&self) -> Verdict {
        let mut v = Verdict::Valid;
        if let Some(l) = &self.linearizable {
            v = v.and(l.report.verdict);
        }
        if let Some(s) = &self.sequential {
            v = v.and(s.report.valid);
        }
        if let Some(c) = &self.convergence {
            v = v.and(c.report.valid);
        }
        v
    }
}

/// Does the convergence checker judge this model?
pub fn convergence_applies(model: ModelKind) -> bool {
    !matches!(model, ModelKind::Mutex | ModelKind::MultiRegister)
}

impl Plan {
    /// The checkers this plan runs, in report order.
    pub fn checks(&self) -> Vec<Consistency> {
        if self.checks.is_empty() {
            Consistency::ALL
                .into_iter()
                .filter(|c| *c != Consistency::Convergence || convergence_applies(self.model))
                .collect()
        } else {
            self.checks.clone()
        }
    }
}

fn timed<T>(f: impl FnOnce() -> T) -> Timed<T> {
    let start = Instant::now();
    let report = f();
    Timed {
        report,
        elapsed: start.elapsed(),
    }
}

/// Runs the plan's checkers on `history` in parallel.
///
/// `Err` only when an operation's value has the wrong shape for the model.
pub fn run(history: &History, plan: &Plan) -> Result<Results, Error> {
    let checks = plan.checks();
    let keyed = history.operations.iter().any(|o| history.key(o).is_some());
    let want = |c: Consistency| checks.contains(&c);
    let lin = || -> Result<Option<Timed<LinearizableReport>>, Error> {
        if !want(Consistency::Linearizable) {
            return Ok(None);
        }
        let t = timed(|| {
            linearizable::check_model(history, plan.model, &plan.model_options, &plan.options)
        });
        Ok(Some(Timed {
            report: t.report?,
            elapsed: t.elapsed,
        }))
    };
    let seq = || -> Result<Option<Timed<SequentialReport>>, Error> {
        if !want(Consistency::Sequential) {
            return Ok(None);
        }
        let t = timed(|| {
            if keyed {
                with_model!(keyed plan.model, &plan.model_options, |m| sequential::check(history, &m, &plan.options))
            } else {
                with_model!(plan.model, &plan.model_options, |m| sequential::check(
                    history,
                    &m,
                    &plan.options
                ))
            }
        });
        Ok(Some(Timed {
            report: t.report?,
            elapsed: t.elapsed,
        }))
    };
    let conv = || -> Option<Timed<ConvergenceReport>> {
        want(Consistency::Convergence).then(|| {
            timed(|| {
                convergence::check(history, plan.model, &plan.model_options, &plan.convergence)
            })
        })
    };
    let (l, (s, c)) = rayon::join(lin, || rayon::join(seq, conv));
    Ok(Results {
        linearizable: l?,
        sequential: s?,
        convergence: c,
    })
}
