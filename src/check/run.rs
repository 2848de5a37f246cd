//! Running several checkers on one history, in parallel.
//!
//! `labrys check FILE` runs every checker at once (rayon), all within one
//! deadline (`CheckOptions::timeout` counts from the start of the run, and
//! `CheckOptions::deadline` bounds it whenever it started), and combines their verdicts as Jepsen does: invalid
//! beats unknown beats valid, under the contract below.
//!
//! # The verdict contract
//!
//! A checker may have nothing to judge: linearizability and sequential
//! consistency when no client operation completed `ok` (see
//! [Nothing to judge](super#nothing-to-judge)), convergence when no read
//! was final (none followed the last update, say) or the model has no
//! convergence analysis (mutex, multi-register). How that counts depends
//! on whether the user named the checker ([`Plan::checks`]):
//!
//! - a checker that judged something counts with its verdict;
//! - a checker the user named, with nothing to judge, is unknown (valid
//!   with [`CheckOptions::allow_empty`]);
//! - a checker not named, with nothing to judge, is *not judged*: reported
//!   with its reason, and left out of the file's verdict, so that a plain
//!   run over a good history whose reads all precede its last write still
//!   passes;
//! - a file in which no checker judged anything is unknown (valid with
//!   [`CheckOptions::allow_empty`]): a harness that recorded nothing never
//!   passes for a correct database.
//!
//! [`Results::standings`] applies the contract; [`file_verdict`] combines
//! the standings.
//!
//! # A linearization is a witness
//!
//! A linearization keeps real time, so it keeps every process's order: it
//! is a sequentially consistent order too. When both checkers run, they
//! still start together, so a slow linearizability search never delays
//! the sequential one. When the linearizability checker ends valid, it
//! merges its orders (one per key) into one order of the whole history
//! and checks it with [`sequential::check_witness`] (linear time); if that
//! passes, the order decides sequential consistency (decision `witness`)
//! and the sequential search, if still running, is told to stop. Either
//! way the verdict is the same; which decision is reported does not depend
//! on which checker finished first: it is `witness` exactly when the
//! history is linearizable and the merged order passes.

use super::anomaly::{self, NamedAnomaly};
use super::convergence::{self, ConvergenceOptions, ConvergenceReport};
use super::linearizable::{self, LinearizableReport};
use super::sequential::{self, SequentialReport};
use super::{empty_verdict, CheckOptions, Consistency, Verdict};
use crate::history::{Error, History};
use crate::model::{ModelKind, ModelOptions};
use crate::with_model;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
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
    /// The anomaly the report shows, when it is invalid (see
    /// [`anomaly`](crate::check::anomaly)).
    pub anomaly: Option<NamedAnomaly>,
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

/// How one checker's result stands in its file's verdict (see
/// [the verdict contract](self#the-verdict-contract)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Standing {
    /// The checker's verdict, as reported.
    pub verdict: Verdict,
    /// Whether it had anything to judge.
    pub judged: bool,
    /// Whether its verdict is part of the file's verdict: false for a
    /// checker not named that had nothing to judge ("not judged").
    pub counts: bool,
    /// Why it had nothing to judge, when so.
    pub reason: Option<String>,
}

impl Results {
    /// The standing of every checker that ran, in report order.
    pub fn standings(&self, plan: &Plan) -> Vec<(Consistency, Standing)> {
        let mut out = Vec::new();
        if let Some(l) = &self.linearizable {
            let r = &l.report;
            let s = plan.standing(Consistency::Linearizable, r.valid, &r.nothing_to_judge);
            out.push((Consistency::Linearizable, s));
        }
        if let Some(t) = &self.sequential {
            let empty = match &t.report.decision {
                sequential::Decision::NothingToJudge { reason } => Some(reason.clone()),
                _ => None,
            };
            let s = plan.standing(Consistency::Sequential, t.report.valid, &empty);
            out.push((Consistency::Sequential, s));
        }
        if let Some(c) = &self.convergence {
            let s = plan.standing(
                Consistency::Convergence,
                c.report.valid,
                &convergence_nothing_to_judge(&c.report),
            );
            out.push((Consistency::Convergence, s));
        }
        out
    }

    /// The file's verdict under the contract: see [`file_verdict`].
    pub fn verdict(&self, plan: &Plan) -> Verdict {
        let standings = self.standings(plan);
        file_verdict(standings.iter().map(|(_, s)| s), &plan.options)
    }
}

/// Why the convergence checker had nothing to judge: it found no final
/// read at all (nor, for a queue, the queue drained), so no key was judged.
/// A history some of whose keys had final reads was judged, and a key
/// without them makes it unknown.
pub(crate) fn convergence_nothing_to_judge(r: &ConvergenceReport) -> Option<String> {
    (r.valid == Verdict::Unknown && r.stats.final_reads == 0).then(|| {
        r.reasons
            .first()
            .cloned()
            .unwrap_or_else(|| "no final read".into())
    })
}

/// Combines the standings of one file's checkers: invalid beats unknown
/// beats valid among those that count; when none judged anything, the
/// file is unknown, or valid with [`CheckOptions::allow_empty`].
pub fn file_verdict<'a>(
    standings: impl IntoIterator<Item = &'a Standing>,
    options: &CheckOptions,
) -> Verdict {
    let mut verdict = Verdict::Valid;
    let mut judged = false;
    for s in standings {
        if s.counts {
            verdict = verdict.and(s.verdict);
        }
        judged |= s.judged;
    }
    if judged {
        verdict
    } else {
        verdict.and(empty_verdict(options))
    }
}

/// Does the convergence checker judge this model?
pub fn convergence_applies(model: ModelKind) -> bool {
    !matches!(model, ModelKind::Mutex | ModelKind::MultiRegister)
}

impl Plan {
    /// The checkers this plan runs, in report order: the ones named, or
    /// all three (all but sequential consistency, which is not local to a
    /// key, under a shard).
    pub fn checks(&self) -> Vec<Consistency> {
        if !self.checks.is_empty() {
            self.checks.clone()
        } else if self.options.shard.is_some() {
            vec![Consistency::Linearizable, Consistency::Convergence]
        } else {
            Consistency::ALL.to_vec()
        }
    }

    /// Did the user name checker `c`?
    pub fn named(&self, c: Consistency) -> bool {
        self.checks.contains(&c)
    }

    /// The standing of checker `c`, whose verdict is `verdict`, and which
    /// had nothing to judge for the reason `empty`, if given.
    pub fn standing(&self, c: Consistency, verdict: Verdict, empty: &Option<String>) -> Standing {
        standing(verdict, empty, self.named(c), &self.options)
    }
}

/// The standing of a checker whose verdict is `verdict`, which had
/// nothing to judge for the reason `empty`, if given, and which the user
/// `named` or not (see [the verdict contract](self#the-verdict-contract)).
pub fn standing(
    verdict: Verdict,
    empty: &Option<String>,
    named: bool,
    options: &CheckOptions,
) -> Standing {
    let Some(reason) = empty else {
        return Standing {
            verdict,
            judged: true,
            counts: true,
            reason: None,
        };
    };
    Standing {
        verdict: if named {
            empty_verdict(options)
        } else {
            Verdict::Unknown
        },
        judged: false,
        counts: named,
        reason: Some(reason.clone()),
    }
}

fn timed<T>(f: impl FnOnce() -> T) -> Timed<T> {
    let start = Instant::now();
    let report = f();
    Timed {
        report,
        elapsed: start.elapsed(),
        anomaly: None,
    }
}

/// Runs the plan's checkers on `history` in parallel.
///
/// `Err` only when an operation's value has the wrong shape for the model.
pub fn run(history: &History, plan: &Plan) -> Result<Results, Error> {
    let done = Mutex::new(Results::default());
    run_into(history, plan, &done)?;
    Ok(done.into_inner().expect("not poisoned"))
}

/// Runs the plan's checkers on `history` in parallel, like [`run`], and
/// puts each checker's report in `done` as soon as that checker has
/// finished: a caller that stops waiting (at its deadline) keeps the
/// reports of the checkers that finished, and counts the others unknown.
///
/// `Err` only when an operation's value has the wrong shape for the model.
pub fn run_into(history: &History, plan: &Plan, done: &Mutex<Results>) -> Result<(), Error> {
    let checks = plan.checks();
    let keyed = history.operations.iter().any(|o| history.key(o).is_some());
    let want = |c: Consistency| checks.contains(&c);
    let start = Instant::now();
    // One deadline for every checker of the run.
    let options = plan.options.fixed_from(start);
    let options = &options;
    let store = |f: &mut dyn FnMut(&mut Results)| f(&mut done.lock().expect("not poisoned"));
    // Each failing report's anomaly is named from its evidence.
    let (kind, opts) = (plan.model, &plan.model_options);
    // The flag that stops the sequential search once a linearization
    // decided it.
    let stop = AtomicBool::new(false);
    let lin = || -> Result<(), Error> {
        if !want(Consistency::Linearizable) {
            return Ok(());
        }
        let t =
            timed(|| linearizable::check_model(history, plan.model, &plan.model_options, options));
        let report = t.report?;
        if want(Consistency::Sequential) {
            if let Some(order) = linearization(history, &report) {
                if let Some(mut r) = witness(history, plan, keyed, &order)? {
                    r.summary = "the linearization the linearizability checker found keeps every \
                                 process's order and obeys the model"
                        .into();
                    let mut w = Some(Timed {
                        report: r,
                        elapsed: start.elapsed(),
                        anomaly: None,
                    });
                    // The witness decides, whichever checker finished first.
                    store(&mut |d| d.sequential = w.take());
                    stop.store(true, Ordering::Relaxed);
                }
            }
        }
        let named = anomaly::linearizable(history, kind, opts, &report);
        let mut l = Some(Timed {
            report,
            elapsed: t.elapsed,
            anomaly: named,
        });
        store(&mut |d| d.linearizable = l.take());
        Ok(())
    };
    let seq = || -> Result<(), Error> {
        if !want(Consistency::Sequential) {
            return Ok(());
        }
        let t = timed(|| {
            if keyed {
                with_model!(keyed plan.model, &plan.model_options, |m| {
                    sequential::check_stoppable(history, &m, options, &stop)
                })
            } else {
                with_model!(plan.model, &plan.model_options, |m| {
                    sequential::check_stoppable(history, &m, options, &stop)
                })
            }
        });
        let report = t.report?;
        let named = anomaly::sequential(history, kind, opts, &report);
        let mut s = Some(Timed {
            report,
            elapsed: t.elapsed,
            anomaly: named,
        });
        store(&mut |d| {
            if d.sequential.is_none() {
                d.sequential = s.take();
            }
        });
        Ok(())
    };
    let conv = || {
        if want(Consistency::Convergence) {
            let mut t = timed(|| {
                let conv = ConvergenceOptions {
                    shard: options.shard,
                    ..plan.convergence.clone()
                };
                convergence::check(history, plan.model, &plan.model_options, &conv)
            });
            t.anomaly = anomaly::convergence(&t.report);
            let mut c = Some(t);
            store(&mut |d| d.convergence = c.take());
        }
    };
    let (l, (s, ())) = rayon::join(lin, || rayon::join(seq, conv));
    l?;
    s
}

/// The sequential report for `order` if it is a valid witness.
fn witness(
    history: &History,
    plan: &Plan,
    keyed: bool,
    order: &[usize],
) -> Result<Option<SequentialReport>, Error> {
    if keyed {
        with_model!(keyed plan.model, &plan.model_options, |m| {
            sequential::check_witness(history, &m, order)
        })
    } else {
        with_model!(plan.model, &plan.model_options, |m| {
            sequential::check_witness(history, &m, order)
        })
    }
}

/// One linearization of the whole history from a valid report: the
/// partition's own when there is one; for a history checked key by key,
/// the per-key orders merged with program order (a topological sort of
/// both: each key's order, and each process's operations in invocation
/// order). `None` if the report is not valid or the two orders conflict
/// (an indeterminate operation that took effect after a later operation of
/// its process); the merged order is checked by the caller anyway.
///
/// Linearizability is local (Herlihy & Wing 1990): the per-key
/// linearizations together with real time have no cycle, so without
/// indeterminate operations the merge always succeeds, and any merge keeps
/// each key's order (so every step is legal) and each process's order.
fn linearization(history: &History, report: &LinearizableReport) -> Option<Vec<usize>> {
    if report.valid != Verdict::Valid || report.nothing_to_judge.is_some() {
        return None;
    }
    let orders: Vec<&Vec<usize>> = report
        .partitions
        .iter()
        .map(|p| p.linearization.as_ref())
        .collect::<Option<_>>()?;
    if let [one] = orders[..] {
        return Some(one.clone());
    }
    let n = history.operations.len();
    const NONE: usize = usize::MAX;
    let mut next_in_key = vec![NONE; n];
    let mut placed = vec![false; n];
    let mut indegree = vec![0u32; n];
    let mut total = 0;
    for order in &orders {
        for w in order.windows(2) {
            next_in_key[w[0]] = w[1];
            indegree[w[1]] += 1;
        }
        for &i in order.iter() {
            placed[i] = true;
            total += 1;
        }
    }
    // Program order among the placed operations.
    let mut next_in_process = vec![NONE; n];
    let mut last: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    for (i, o) in history.operations.iter().enumerate() {
        if !placed[i] {
            continue;
        }
        if let Some(prev) = last.insert(o.process, i) {
            next_in_process[prev] = i;
            indegree[i] += 1;
        }
    }
    let mut ready: VecDeque<usize> = (0..n).filter(|&i| placed[i] && indegree[i] == 0).collect();
    let mut out = Vec::with_capacity(total);
    while let Some(i) = ready.pop_front() {
        out.push(i);
        for j in [next_in_key[i], next_in_process[i]] {
            if j != NONE {
                indegree[j] -= 1;
                if indegree[j] == 0 {
                    ready.push_back(j);
                }
            }
        }
    }
    (out.len() == total).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::{generate, GenOptions, Mode};

    fn plan(model: ModelKind, checks: &[Consistency]) -> Plan {
        Plan {
            model,
            model_options: ModelOptions::default(),
            checks: checks.to_vec(),
            options: CheckOptions::default(),
            convergence: ConvergenceOptions::default(),
        }
    }

    /// A linearizable kv history over several keys, with crashed ops at
    /// this rate.
    fn atomic_kv(seed: u64, crash_rate: f64) -> History {
        let g = generate(&GenOptions {
            mode: Mode::Atomic,
            model: ModelKind::Kv,
            seed,
            clients: 5,
            ops: 300,
            keys: 3,
            crash_rate,
            ..GenOptions::default()
        })
        .unwrap();
        History::from_ops(g.ops).unwrap()
    }

    fn kind(r: &SequentialReport) -> String {
        serde_json::to_value(r).unwrap()["decision"]["kind"]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn a_linearization_decides_sequential_consistency() {
        for seed in 0..5 {
            let h = atomic_kv(seed, 0.05);
            let r = run(&h, &plan(ModelKind::Kv, &[])).unwrap();
            let lin = r.linearizable.unwrap().report;
            assert_eq!(lin.valid, Verdict::Valid);
            assert!(lin.partitions.len() > 1, "checked key by key");
            let seq = r.sequential.unwrap().report;
            assert_eq!(seq.valid, Verdict::Valid);
            assert_eq!(seq.decision, sequential::Decision::Witness);
            assert_eq!(kind(&seq), "witness");
            assert!(seq.summary.contains("linearization"), "{}", seq.summary);
            let order = seq.order.as_ref().unwrap();
            let kv = crate::model::Kv::kv(&ModelOptions::default());
            assert_eq!(sequential::validate_order(&h, &kv, order), Ok(()));
            // Asked alone, the sequential checker searches, and its report
            // keeps its shape. (Without crashed ops: with them, its search
            // may not decide these histories in reasonable time.)
            let h = atomic_kv(seed, 0.0);
            let alone = run(&h, &plan(ModelKind::Kv, &[Consistency::Sequential])).unwrap();
            let alone = alone.sequential.unwrap().report;
            assert_eq!(alone.valid, Verdict::Valid);
            assert_eq!(kind(&alone), "ordered");
        }
    }

    /// A write that failed, then a crashed one: no op completed ok.
    fn nothing_ok() -> History {
        use crate::history::{Op, OpType::*, Value};
        let ev = |t, p, v: i64| Op::new(t, p, "write", Value::Int(v));
        History::from_ops(vec![
            ev(Invoke, 0, 1),
            ev(Fail, 0, 1),
            ev(Invoke, 1, 2),
            ev(Info, 1, 2),
        ])
        .unwrap()
    }

    #[test]
    fn a_checker_with_nothing_to_judge_counts_only_when_named() {
        let h = nothing_ok();
        let all = plan(ModelKind::Register, &[]);
        let r = run(&h, &all).unwrap();
        assert_eq!(
            r.linearizable.as_ref().unwrap().report.valid,
            Verdict::Unknown
        );
        let standings = r.standings(&all);
        assert_eq!(standings.len(), 3);
        for (c, s) in &standings {
            assert!(!s.judged && !s.counts, "{c:?}: {s:?}");
            assert!(s.reason.is_some(), "{c:?}");
        }
        assert_eq!(r.verdict(&all), Verdict::Unknown, "nothing judged");
        let named = plan(ModelKind::Register, &[Consistency::Sequential]);
        let r = run(&h, &named).unwrap();
        let [(_, s)] = &r.standings(&named)[..] else {
            panic!("one checker")
        };
        assert_eq!((s.verdict, s.counts), (Verdict::Unknown, true));
        // Allowed, the empty verdict is valid, and no empty linearization
        // stands in for a sequential order.
        let mut allowed = plan(ModelKind::Register, &[]);
        allowed.options.allow_empty = true;
        let r = run(&h, &allowed).unwrap();
        assert_eq!(r.verdict(&allowed), Verdict::Valid);
        let seq = r.sequential.unwrap().report;
        assert!(matches!(
            seq.decision,
            sequential::Decision::NothingToJudge { .. }
        ));
    }

    #[test]
    fn a_checker_not_named_with_nothing_to_judge_leaves_the_verdict_alone() {
        use crate::history::{Op, OpType::*, Value};
        // A write, then a read that began before it ended: no final read.
        let h = History::from_ops(vec![
            Op::new(Invoke, 0, "write", Value::Int(1)),
            Op::new(Invoke, 1, "read", Value::Nil),
            Op::new(Ok, 0, "write", Value::Int(1)),
            Op::new(Ok, 1, "read", Value::Int(1)),
        ])
        .unwrap();
        let all = plan(ModelKind::Register, &[]);
        let r = run(&h, &all).unwrap();
        assert_eq!(
            r.convergence.as_ref().unwrap().report.valid,
            Verdict::Unknown
        );
        assert_eq!(r.verdict(&all), Verdict::Valid);
        let named = plan(ModelKind::Register, &[Consistency::Convergence]);
        let r = run(&h, &named).unwrap();
        assert_eq!(r.verdict(&named), Verdict::Unknown);
    }

    #[test]
    fn no_witness_without_a_linearization() {
        let h = History::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("histories/register/sequential-not-linearizable.edn"),
            &crate::history::LoadOptions::default(),
        )
        .unwrap();
        let r = run(&h, &plan(ModelKind::Register, &[])).unwrap();
        assert_eq!(r.linearizable.unwrap().report.valid, Verdict::Invalid);
        let seq = r.sequential.unwrap().report;
        assert_eq!(seq.valid, Verdict::Valid);
        assert_eq!(kind(&seq), "ordered");
    }

    #[test]
    fn per_key_linearizations_merge_into_one_order() {
        for seed in 0..5 {
            let h = atomic_kv(seed, 0.05);
            let lin = linearizable::check_model(
                &h,
                ModelKind::Kv,
                &ModelOptions::default(),
                &CheckOptions::default(),
            )
            .unwrap();
            let order = linearization(&h, &lin).expect("a merged order");
            let placed: usize = lin
                .partitions
                .iter()
                .map(|p| p.linearization.as_ref().unwrap().len())
                .sum();
            assert_eq!(order.len(), placed);
            // Each key's order is kept.
            let mut at = vec![usize::MAX; h.operations.len()];
            for (i, &op) in order.iter().enumerate() {
                at[op] = i;
            }
            for p in &lin.partitions {
                let l = p.linearization.as_ref().unwrap();
                assert!(l.windows(2).all(|w| at[w[0]] < at[w[1]]));
            }
        }
    }
}
