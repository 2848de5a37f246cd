//! Each pattern on small histories: named where the history shows it, and
//! not named where it does not (a valid history, or an invalid one that
//! shows another pattern or none).

use super::*;
use crate::check::convergence::ConvergenceOptions;
use crate::check::run::{self, Plan, Results};
use crate::check::{CheckOptions, Consistency};
use crate::history::LoadOptions;

/// Runs every checker on an EDN history, one op per line as
/// `process type f value` (`_` for a nil value), times in line order.
fn check(model: ModelKind, lines: &[&str]) -> (History, Results) {
    let mut text = String::new();
    for (i, line) in lines.iter().enumerate() {
        let w: Vec<&str> = line.split_whitespace().collect();
        let value = if w[3] == "_" { "nil" } else { w[3] };
        let key = w
            .get(4)
            .map(|k| format!(", :key \"{k}\""))
            .unwrap_or_default();
        text.push_str(&format!(
            "{{:index {i}, :time {}, :process {}, :type :{}, :f :{}, :value {value}{key}}}\n",
            i * 10,
            w[0],
            w[1],
            w[2]
        ));
    }
    let h = History::parse(&text, &LoadOptions::default()).expect("parses");
    let plan = Plan {
        model,
        model_options: ModelOptions::default(),
        checks: Consistency::ALL.to_vec(),
        options: CheckOptions::default(),
        convergence: ConvergenceOptions::default(),
    };
    let r = run::run(&h, &plan).expect("runs");
    (h, r)
}

/// The kinds named by linearizability and sequential consistency.
fn kinds(model: ModelKind, lines: &[&str]) -> (Option<Kind>, Option<Kind>) {
    let (_, r) = check(model, lines);
    let kind = |a: &Option<NamedAnomaly>| a.as_ref().map(|a| a.kind);
    (
        kind(&r.linearizable.unwrap().anomaly),
        kind(&r.sequential.unwrap().anomaly),
    )
}

#[test]
fn a_valid_history_names_nothing() {
    let (l, s) = kinds(
        ModelKind::Register,
        &[
            "0 invoke write 1",
            "1 invoke read _",
            "1 ok read 1",
            "0 ok write 1",
        ],
    );
    assert_eq!((l, s), (None, None));
}

#[test]
fn stale_read_is_named_for_linearizability_only() {
    let lines = [
        "0 invoke write 1",
        "0 ok write 1",
        "0 invoke write 2",
        "0 ok write 2",
        "1 invoke read _",
        "1 ok read 1",
        "2 invoke read _",
        "2 ok read 2",
    ];
    let (h, r) = check(ModelKind::Register, &lines);
    let a = r.linearizable.unwrap().anomaly.expect("named");
    assert_eq!(a.kind, Kind::StaleRead);
    assert!(
        a.description
            .starts_with("Stale read: process 1 (line 5) read 1"),
        "{}",
        a.description
    );
    // It names the write of 2 and the read.
    let named: Vec<&str> = a
        .ops
        .iter()
        .map(|&id| &*h.invocation(&h.operations[id]).f)
        .collect();
    assert_eq!(named, ["write", "read"]);
    // Sequential consistency allows it: nothing named.
    assert_eq!(r.sequential.unwrap().anomaly, None);
}

#[test]
fn a_read_concurrent_with_the_overwrite_is_not_stale() {
    // The read of 1 overlaps the write of 2, but a later read of 1 after
    // the write of 2 completed is stale: only the later one is named.
    let lines = [
        "0 invoke write 1",
        "0 ok write 1",
        "0 invoke write 2",
        "1 invoke read _",
        "1 ok read 1",
        "0 ok write 2",
        "1 invoke read _",
        "1 ok read 2",
        "2 invoke read _",
        "2 ok read 1",
    ];
    let (_, r) = check(ModelKind::Register, &lines);
    let a = r.linearizable.unwrap().anomaly.expect("named");
    assert_eq!(a.kind, Kind::StaleRead, "{}", a.description);
    assert!(
        a.description.contains("process 2 (line 9)"),
        "{}",
        a.description
    );
}

#[test]
fn lost_write_needs_every_later_read_to_miss_it() {
    let lost = [
        "0 invoke write 1",
        "0 ok write 1",
        "1 invoke write 2",
        "1 ok write 2",
        "0 invoke read _",
        "0 ok read 1",
        "2 invoke read _",
        "2 ok read 1",
    ];
    assert_eq!(kinds(ModelKind::Register, &lost).0, Some(Kind::LostWrite));
    // One later read sees 2: not lost, only a stale read.
    let mut seen = lost.to_vec();
    seen.extend(["3 invoke read _", "3 ok read 2"]);
    assert_eq!(kinds(ModelKind::Register, &seen).0, Some(Kind::StaleRead));
}

#[test]
fn a_value_never_written() {
    let lines = [
        "0 invoke write 1",
        "0 ok write 1",
        "1 invoke read _",
        "1 ok read 7",
    ];
    assert_eq!(
        kinds(ModelKind::Register, &lines),
        (Some(Kind::NeverWritten), Some(Kind::NeverWritten))
    );
}

#[test]
fn a_read_from_the_future() {
    let lines = [
        "1 invoke read _",
        "1 ok read 1",
        "0 invoke write 1",
        "0 ok write 1",
    ];
    let (l, s) = kinds(ModelKind::Register, &lines);
    assert_eq!(l, Some(Kind::FutureRead));
    assert_eq!(s, None, "sequential consistency allows it");
}

#[test]
fn writes_seen_in_two_orders() {
    let lines = [
        "0 invoke write 1",
        "1 invoke write 2",
        "2 invoke read _",
        "2 ok read 1",
        "3 invoke read _",
        "3 ok read 2",
        "2 invoke read _",
        "2 ok read 2",
        "3 invoke read _",
        "3 ok read 1",
        "0 ok write 1",
        "1 ok write 2",
    ];
    assert_eq!(
        kinds(ModelKind::Register, &lines),
        (Some(Kind::WritesInTwoOrders), Some(Kind::WritesInTwoOrders))
    );
}

#[test]
fn two_orders_need_values_written_once() {
    // As above, but 1 is written twice: process 3's last read may see the
    // second write of 1, so the history is valid and nothing is named.
    let lines = [
        "0 invoke write 1",
        "1 invoke write 2",
        "4 invoke write 1",
        "2 invoke read _",
        "2 ok read 1",
        "3 invoke read _",
        "3 ok read 2",
        "2 invoke read _",
        "2 ok read 2",
        "3 invoke read _",
        "3 ok read 1",
        "0 ok write 1",
        "1 ok write 2",
        "4 ok write 1",
    ];
    assert_eq!(kinds(ModelKind::Register, &lines), (None, None));
}

#[test]
fn store_buffering_is_two_orders_across_keys() {
    let lines = [
        "0 invoke write 1 x",
        "1 invoke write 1 y",
        "0 ok write 1 x",
        "1 ok write 1 y",
        "0 invoke read _ y",
        "1 invoke read _ x",
        "0 ok read _ y",
        "1 ok read _ x",
    ];
    assert_eq!(
        kinds(ModelKind::Kv, &lines).1,
        Some(Kind::WritesInTwoOrders)
    );
}

#[test]
fn non_monotonic_reads_of_a_set() {
    let lines = [
        "0 invoke add 1",
        "0 ok add 1",
        "1 invoke add 2",
        "2 invoke read _",
        "2 ok read #{1,2}",
        "1 ok add 2",
        "2 invoke read _",
        "2 ok read #{1}",
    ];
    assert_eq!(
        kinds(ModelKind::Set, &lines).1,
        Some(Kind::NonMonotonicReads)
    );
    // Reads that only grow: valid, nothing named.
    let grow = [
        "0 invoke add 1",
        "2 invoke read _",
        "2 ok read #{}",
        "0 ok add 1",
        "2 invoke read _",
        "2 ok read #{1}",
    ];
    assert_eq!(kinds(ModelKind::Set, &grow), (None, None));
}

#[test]
fn non_monotonic_register_reads_under_sequential_consistency() {
    // One writer wrote 1 then 2; a reader saw 2 then 1.
    let lines = [
        "0 invoke write 1",
        "0 ok write 1",
        "0 invoke write 2",
        "0 ok write 2",
        "1 invoke read _",
        "1 ok read 2",
        "1 invoke read _",
        "1 ok read 1",
    ];
    // Linearizability names what its minimal counterexample shows (the
    // read of 1 after the write of 2 completed is stale); sequential
    // consistency, which ignores real time, the reader's reversal.
    let (l, s) = kinds(ModelKind::Register, &lines);
    assert!(
        matches!(l, Some(Kind::StaleRead | Kind::NonMonotonicReads)),
        "{l:?}"
    );
    assert_eq!(s, Some(Kind::NonMonotonicReads));
}

#[test]
fn counter_out_of_bounds_and_within() {
    let out = [
        "0 invoke add 1",
        "0 ok add 1",
        "1 invoke read _",
        "1 ok read 3",
    ];
    let (l, s) = kinds(ModelKind::Counter, &out);
    assert_eq!(
        (l, s),
        (
            Some(Kind::CounterOutOfBounds),
            Some(Kind::CounterOutOfBounds)
        )
    );
    // A read of 0 after the acknowledged add: out of bounds in real time
    // only (an order may put the read first).
    let stale = [
        "0 invoke add 1",
        "0 ok add 1",
        "1 invoke read _",
        "1 ok read 0",
    ];
    assert_eq!(
        kinds(ModelKind::Counter, &stale),
        (Some(Kind::CounterOutOfBounds), None)
    );
}

#[test]
fn lock_held_twice() {
    let lines = [
        "0 invoke acquire _",
        "0 ok acquire _",
        "1 invoke acquire _",
        "1 ok acquire _",
    ];
    assert_eq!(
        kinds(ModelKind::Mutex, &lines),
        (Some(Kind::LockHeldTwice), Some(Kind::LockHeldTwice))
    );
    // Released in between, as real time allows: valid, nothing named.
    let fine = [
        "0 invoke acquire _",
        "0 ok acquire _",
        "0 invoke release _",
        "0 ok release _",
        "1 invoke acquire _",
        "1 ok acquire _",
    ];
    assert_eq!(kinds(ModelKind::Mutex, &fine), (None, None));
    // Released only after the second acquire: held twice in real time,
    // but an order that ignores it exists.
    let late = [
        "0 invoke acquire _",
        "0 ok acquire _",
        "1 invoke acquire _",
        "1 ok acquire _",
        "0 invoke release _",
        "0 ok release _",
    ];
    assert_eq!(
        kinds(ModelKind::Mutex, &late),
        (Some(Kind::LockHeldTwice), None)
    );
    // A release by the wrong process is invalid too, but no lock was
    // held twice: the pattern is not named.
    let wrong = [
        "0 invoke acquire _",
        "0 ok acquire _",
        "1 invoke release _",
        "1 ok release _",
    ];
    let (l, _) = kinds(ModelKind::Mutex, &wrong);
    assert_ne!(l, Some(Kind::LockHeldTwice));
}

#[test]
fn duplicated_queue_element() {
    let lines = [
        "0 invoke enqueue 1",
        "0 ok enqueue 1",
        "1 invoke dequeue _",
        "1 ok dequeue 1",
        "2 invoke dequeue _",
        "2 ok dequeue 1",
    ];
    assert_eq!(
        kinds(ModelKind::FifoQueue, &lines),
        (Some(Kind::DuplicatedElement), Some(Kind::DuplicatedElement))
    );
}

#[test]
fn an_invalid_history_matching_no_pattern_is_other() {
    // A cas from a value the register never held, then a read of the cas's
    // value: invalid, but no read is stale, lost or unwritten (cas writes 2).
    let lines = [
        "0 invoke cas [5,2]",
        "0 ok cas [5,2]",
        "1 invoke read _",
        "1 ok read 2",
    ];
    let (l, s) = kinds(ModelKind::CasRegister, &lines);
    assert_eq!((l, s), (Some(Kind::Other), Some(Kind::Other)));
}

#[test]
fn convergence_names_its_first_anomaly() {
    let lines = [
        "0 invoke write 1",
        "0 ok write 1",
        "1 invoke write 2",
        "1 ok write 2",
        "2 invoke read _",
        "2 ok read 1",
    ];
    let (_, r) = check(ModelKind::Register, &lines);
    let a = r.convergence.unwrap().anomaly.expect("named");
    assert_eq!(a.kind, Kind::LostUpdate);
    assert!(a.description.contains("write 2"), "{}", a.description);
}
