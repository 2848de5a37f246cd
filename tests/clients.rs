//! Clients named by strings and keywords, and clocks that disagree.
//!
//! Generated histories (atomic, sequentially consistent and replicated
//! stores, with crashes and nemesis partitions) are checked as generated,
//! with every client renamed to a string, a keyword or another integer,
//! and with the integer ids renumbered: every checker's verdict must be
//! the same. The same histories are then widened by growing clock
//! uncertainties: 0 must leave every verdict as it is, and widening must
//! never turn a valid verdict into an invalid one.

mod common;

use labrys::check::run::{self, Plan};
use labrys::check::{CheckOptions, Verdict};
use labrys::gen::{generate, FaultRate, Faults, GenOptions, Mode};
use labrys::history::{History, Op, Process};
use labrys::model::{ModelKind, ModelOptions};

/// splitmix64, for the choice of names.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The histories of the properties: every mode, several models, with
/// crashed ops and faults, `seeds` of each.
fn histories(seeds: u64) -> Vec<(String, ModelKind, Vec<Op>)> {
    let shapes = [
        (Mode::Atomic, ModelKind::CasRegister),
        (Mode::Atomic, ModelKind::Kv),
        (Mode::Atomic, ModelKind::Set),
        (Mode::Atomic, ModelKind::FifoQueue),
        (Mode::SequentiallyConsistent, ModelKind::Register),
        (Mode::SequentiallyConsistent, ModelKind::Kv),
        (Mode::Replicated, ModelKind::Register),
        (Mode::Replicated, ModelKind::Set),
    ];
    let mut out = Vec::new();
    for (mode, model) in shapes {
        for seed in 0..seeds {
            let g = generate(&GenOptions {
                mode,
                model,
                seed,
                clients: 4,
                ops: 30,
                keys: 2,
                values: 3,
                crash_rate: 0.1,
                faults: Faults {
                    stale_reads: FaultRate::Probability(0.05),
                    read_behind_own_write: FaultRate::Probability(0.05),
                    ..Faults::default()
                },
                ..GenOptions::default()
            })
            .unwrap();
            out.push((format!("{mode:?} {model} seed {seed}"), model, g.ops));
        }
    }
    out
}

/// Every checker's verdict, in the order linearizable, sequential,
/// convergence.
fn verdicts(h: &History, model: ModelKind) -> Vec<Option<Verdict>> {
    let plan = Plan {
        model,
        model_options: ModelOptions::default(),
        checks: Vec::new(),
        options: CheckOptions::default(),
        convergence: Default::default(),
    };
    let r = run::run(h, &plan).unwrap();
    vec![
        r.linearizable.map(|t| t.report.valid),
        r.sequential.map(|t| t.report.valid),
        r.convergence.map(|t| t.report.valid),
    ]
}

/// The ops with each integer process `p` given the id `name(p)`.
fn renamed(ops: &[Op], name: impl Fn(i64) -> Process) -> Vec<Op> {
    let mut ops = ops.to_vec();
    for op in &mut ops {
        if let Process::Client(p) = op.process {
            op.process = name(p);
        }
    }
    ops
}

#[test]
fn named_clients_get_the_verdicts_of_renumbered_ones() {
    let mut invalid = 0;
    for (what, model, ops) in histories(6) {
        let seed = mix(ops.len() as u64 ^ what.len() as u64);
        let original = History::from_ops(ops.clone()).unwrap();
        let expected = verdicts(&original, model);
        invalid += expected.contains(&Some(Verdict::Invalid)) as usize;
        let variants = [
            // Integer ids renumbered.
            renamed(&ops, |p| Process::Client(1_000 - 7 * p)),
            // Strings, keywords and integers, mixed.
            renamed(&ops, |p| match mix(seed ^ p as u64) % 3 {
                0 => Process::Str(format!("client-{p}").into()),
                1 => Process::Named(format!("c{p}").into()),
                _ => Process::Client(3 * p + 1),
            }),
            // Strings only.
            renamed(&ops, |p| Process::Str(format!("w{p}").into())),
        ];
        for ops in variants {
            let h = History::from_ops(ops).unwrap();
            assert_eq!(h.operations.len(), original.operations.len(), "{what}");
            assert_eq!(h.nemesis, original.nemesis, "{what}");
            assert_eq!(verdicts(&h, model), expected, "{what}");
        }
    }
    assert!(invalid > 5, "only {invalid} invalid histories");
}

#[test]
fn widening_never_turns_valid_into_invalid() {
    let uncertainties = [0, 50_000, 400_000, 1_000_000, 5_000_000, i64::MAX / 4];
    let mut fixed = 0;
    for (what, model, ops) in histories(4) {
        let h = History::from_ops(ops).unwrap();
        let exact = verdicts(&h, model);
        let mut last = exact.clone();
        for u in uncertainties {
            let now = verdicts(&h.clone().widen(u).unwrap(), model);
            if u == 0 {
                assert_eq!(now, exact, "{what}");
            }
            for (before, after) in last.iter().zip(&now) {
                if *before == Some(Verdict::Valid) {
                    assert_ne!(*after, Some(Verdict::Invalid), "{what} at {u}");
                }
            }
            fixed += (last[0] == Some(Verdict::Invalid) && now[0] == Some(Verdict::Valid)) as usize;
            last = now;
        }
    }
    // Some histories are invalid only for orders closer than the clocks.
    assert!(fixed > 0, "no linearizability verdict changed");
}

mod cli {
    use std::path::PathBuf;
    use std::process::Output;

    use super::common::labrys;

    fn file(name: &str, contents: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("labrys-clients-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn json(o: &Output) -> serde_json::Value {
        serde_json::from_slice(&o.stdout).unwrap()
    }

    fn text(o: &Output) -> String {
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Two clients named by strings; a read of 7 nobody wrote; a nemesis
    /// event and a process that only logs `info`.
    const NAMED: &str = r#"{"type":"invoke","process":"c1","f":"write","value":1,"time":1}
{"type":"ok","process":"c1","f":"write","value":1,"time":2}
{"type":"info","process":"nemesis","f":"start","value":null,"time":3}
{"type":"invoke","process":"c2","f":"read","value":null,"time":4}
{"type":"ok","process":"c2","f":"read","value":7,"time":5}
{"type":"info","process":"chaos","f":"kill","value":null,"time":6}
"#;

    #[test]
    fn clients_named_by_strings_are_checked_and_faults_counted() {
        let path = file("named.jsonl", NAMED);
        let path = path.to_str().unwrap();
        let o = labrys(&["check", "--format", "json", path]);
        assert_eq!(o.status.code(), Some(1));
        let v = json(&o);
        let f = &v["files"][0];
        assert_eq!(f["operations"], 2);
        assert_eq!(f["fault_events"], 2);
        assert_eq!(
            f["fault_processes"],
            serde_json::json!(["nemesis", "chaos"])
        );
        let lin = &f["checks"]["linearizable"];
        assert_eq!(lin["valid"], false);
        let shown = lin["evidence"].to_string();
        assert!(shown.contains(r#""process":"c2""#), "{shown}");

        let o = labrys(&["check", path]);
        let t = text(&o);
        assert!(
            t.contains(r#"2 fault events from "nemesis", "chaos""#),
            "{t}"
        );
        assert!(t.contains(r#"process "c2" read 7"#), "{t}");

        let o = labrys(&["stats", "--format", "json", path]);
        assert_eq!(o.status.code(), Some(0));
        let s = &json(&o)[0];
        assert_eq!(
            (s["operations"].clone(), s["processes"].clone()),
            (2.into(), 2.into())
        );
        assert_eq!(s["fault_events"], 2);
        assert_eq!(
            s["fault_processes"],
            serde_json::json!(["nemesis", "chaos"])
        );
        let t = text(&labrys(&["stats", path]));
        assert!(
            t.contains(r#"faults      2 fault events from "nemesis", "chaos""#),
            "{t}"
        );

        // --nemesis names a client as a fault process.
        let o = labrys(&["check", "--format", "json", "--nemesis", "c2", path]);
        let f = &json(&o)["files"][0];
        assert_eq!(f["operations"], 1);
        assert_eq!(
            f["fault_processes"],
            serde_json::json!(["nemesis", "c2", "chaos"])
        );
    }

    /// c1 writes 1 in [1, 10]; c2 reads nil in [12, 20]: stale by 2 ns.
    const CLOSE: &str = r#"{"type":"invoke","process":"c1","f":"write","value":1,"time":1}
{"type":"ok","process":"c1","f":"write","value":1,"time":10}
{"type":"invoke","process":"c2","f":"read","value":null,"time":12}
{"type":"ok","process":"c2","f":"read","value":null,"time":20}
"#;

    #[test]
    fn an_order_closer_than_the_clock_uncertainty_refutes_nothing() {
        let path = file("close.jsonl", CLOSE);
        let path = path.to_str().unwrap();
        let lin = ["check", "--consistency", "linearizable", "--format", "json"];
        let o = labrys(&[&lin[..], &[path]].concat());
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(json(&o)["files"][0]["clock_uncertainty"], 0);
        // At 1 ns the intervals [0, 11] and [11, 21] touch: concurrent.
        for u in ["1", "1ns", "0.001us"] {
            let o = labrys(&[&lin[..], &["--clock-uncertainty", u, path]].concat());
            assert_eq!(o.status.code(), Some(0), "{u}");
            let f = &json(&o)["files"][0];
            assert_eq!(f["clock_uncertainty"], 1);
            assert_eq!(f["checks"]["linearizable"]["valid"], true);
        }
        let o = labrys(&[
            "check",
            "--consistency",
            "linearizable",
            "--clock-uncertainty",
            "2ms",
            path,
        ]);
        assert!(
            text(&o).contains("clock uncertainty 2.00 ms"),
            "{}",
            text(&o)
        );
    }

    #[test]
    fn clock_uncertainty_needs_every_time_and_a_duration() {
        let untimed = CLOSE.replace(r#","time":12"#, "");
        let path = file("untimed.jsonl", &untimed);
        let path = path.to_str().unwrap();
        let o = labrys(&["check", "--clock-uncertainty", "5", path]);
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(&format!("{path}:3")), "{err}");
        assert!(err.contains("has no time"), "{err}");
        assert_eq!(labrys(&["check", path]).status.code(), Some(1));
        for bad in ["-1", "2 hours", "ms", "1e40s"] {
            let o = labrys(&["check", "--clock-uncertainty", bad, path]);
            assert_eq!(o.status.code(), Some(2), "{bad}");
        }
    }
}

#[test]
fn named_clients_are_assigned_replicas_by_their_trailing_number() {
    use labrys::check::convergence::ConvergenceOptions;
    use labrys::check::Consistency;
    let text = r#"{"type":"invoke","process":"w-0","f":"write","value":1,"time":1}
{"type":"ok","process":"w-0","f":"write","value":1,"time":2}
{"type":"invoke","process":"reader-4","f":"read","value":null,"time":3}
{"type":"ok","process":"reader-4","f":"read","value":1,"time":4}
{"type":"invoke","process":"x","f":"read","value":null,"time":5}
{"type":"ok","process":"x","f":"read","value":1,"time":6}
"#;
    let h = History::parse(text, &Default::default()).unwrap();
    let plan = Plan {
        model: ModelKind::Register,
        model_options: ModelOptions::default(),
        checks: vec![Consistency::Convergence],
        options: CheckOptions::default(),
        convergence: ConvergenceOptions {
            nodes: Some(3),
            ..ConvergenceOptions::default()
        },
    };
    let report = run::run(&h, &plan).unwrap().convergence.unwrap().report;
    let json = serde_json::to_value(&report).unwrap();
    // reader-4 ends with 4 (replica 1); x is the third named client
    // (number 2, replica 2).
    assert_eq!(
        json["keys"][0]["final_values"][0]["replicas"],
        serde_json::json!(["n1", "n2"])
    );
}
