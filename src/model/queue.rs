//! Queues: `--model fifo-queue` ([`FifoQueue`]) and `--model
//! unordered-queue` ([`UnorderedQueue`]), after Knossos's.
//!
//! # Operations
//!
//! | `f`       | input       | output (of an `ok` completion)       |
//! |-----------|-------------|--------------------------------------|
//! | `enqueue` | the element | ignored                              |
//! | `dequeue` | ignored     | the element dequeued, or `nil`       |
//!
//! Elements are interned to `u32` ids. A fifo queue's state is its
//! elements in order; an unordered queue's is the sorted multiset of its
//! elements (plus a count, below). Both are shared behind an [`Arc`], so
//! cloning a state never allocates; an enqueue or dequeue allocates one
//! new sequence.
//!
//! # Semantic choices
//!
//! - An `ok` dequeue that returned `nil` observed an **empty queue**: it
//!   is legal only when the queue is empty, and changes nothing. (Jepsen's
//!   queue clients usually report an empty dequeue as `fail`, which
//!   constrains nothing.)
//! - A `fail`ed enqueue or dequeue did not happen. An indeterminate
//!   (`info`) enqueue may have (the checker decides).
//! - An indeterminate dequeue may have removed an element we never saw. In
//!   a fifo queue that element can only be the head, so it compiles to
//!   "dequeue the head, whatever it is" (legal only when the queue is not
//!   empty). In an unordered queue it could be any element present at the
//!   time, and a step must give one state, so the choice is deferred: the
//!   state counts such *anonymous* dequeues alongside the multiset of
//!   elements that were enqueued and not dequeued by name. An anonymous
//!   dequeue needs more elements than there are anonymous dequeues
//!   already; a named dequeue of `v` needs `v` present and leaves at least
//!   as many elements as anonymous dequeues; an empty-queue observation
//!   needs exactly as many elements as anonymous dequeues (each took one)
//!   and resets both. This accepts every history the exact model accepts
//!   (it never reports a false violation), but it may miss one that would
//!   need an anonymous dequeue to have taken an element enqueued after it.
//! - An element that no dequeue of the history returns is, to every op,
//!   the same as any other such element: only dequeues by name tell
//!   elements apart. Once [prepared](Model::prepare), a queue stores every
//!   such element as one placeholder, shown as `_`, so states that differ
//!   only in which unseen elements they hold, or in their order, are one
//!   state. Without this, a few enqueues that nobody dequeues, concurrent
//!   with each other or indeterminate, multiply the states by every order
//!   they could take, and a history of twenty operations can take minutes.
//!   In a fifo queue, an indeterminate enqueue of such an element is
//!   never needed and is left out (see [`Model::never_needed`]); an
//!   unordered queue's deferred anonymous dequeues make that argument
//!   fail there, so it keeps them.
//! - [`ModelOptions::initial`], when a collection, gives the initial
//!   elements (front first); otherwise the queue starts empty.

use super::intern::Interner;
use super::{Call, Model, ModelOptions};
use crate::history::{Outcome, Value};
use std::sync::Arc;

/// A compiled queue operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QueueOp {
    /// Adds this element.
    Enqueue(u32),
    /// Removes this element (the head, in a fifo queue).
    Dequeue(u32),
    /// An `ok` dequeue that found the queue empty.
    DequeueEmpty,
    /// An indeterminate dequeue: removes an element nobody saw.
    DequeueAny,
}

/// The elements of a queue, in order, shared.
pub type Elements = Arc<[u32]>;

/// The placeholder a prepared queue stores for an element no dequeue
/// returns (see the module docs).
const UNSEEN: u32 = u32::MAX;

/// What the queue models share: the element table and the options.
#[derive(Clone, Debug)]
struct Common {
    elements: Interner,
    initial: Vec<u32>,
    /// Once prepared: by element id, does some dequeue return it by name?
    dequeued: Option<Vec<bool>>,
    /// How [`UNSEEN`] is shown.
    unseen: Value,
}

impl Common {
    fn new(options: &ModelOptions) -> Self {
        let mut elements = Interner::new();
        let initial = options
            .initial
            .as_collection()
            .unwrap_or_default()
            .iter()
            .map(|v| elements.intern(v))
            .collect();
        Common {
            elements,
            initial,
            dequeued: None,
            unseen: Value::Symbol("_".into()),
        }
    }

    fn prepare(&mut self, ops: &[&QueueOp]) {
        let mut dequeued = vec![false; self.elements.len()];
        for op in ops {
            if let QueueOp::Dequeue(v) = **op {
                dequeued[v as usize] = true;
            }
        }
        self.dequeued = Some(dequeued);
    }

    /// What the state holds for element `v`: `v` itself, or [`UNSEEN`]
    /// when the queue is prepared and no dequeue returns `v`.
    fn stored(&self, v: u32) -> u32 {
        match &self.dequeued {
            Some(d) if d.get(v as usize) == Some(&false) => UNSEEN,
            _ => v,
        }
    }

    fn initial(&self) -> impl Iterator<Item = u32> + '_ {
        self.initial.iter().map(|&v| self.stored(v))
    }

    fn compile(&mut self, name: &str, call: &Call<'_>) -> Result<Option<QueueOp>, String> {
        match (call.f, call.outcome) {
            ("enqueue", Outcome::Fail) | ("dequeue", Outcome::Fail) => Ok(None),
            ("enqueue", _) => Ok(Some(QueueOp::Enqueue(self.elements.intern(call.input)))),
            ("dequeue", Outcome::Info) => Ok(Some(QueueOp::DequeueAny)),
            ("dequeue", Outcome::Ok) => Ok(Some(match call.ok_output() {
                Some(Value::Nil) | None => QueueOp::DequeueEmpty,
                Some(v) => QueueOp::Dequeue(self.elements.intern(v)),
            })),
            (f, _) => Err(format!(
                "the {name} model has no operation :{f}: expected :enqueue or :dequeue"
            )),
        }
    }

    fn show(&self, id: u32) -> &Value {
        if id == UNSEEN {
            &self.unseen
        } else {
            self.elements.value(id)
        }
    }

    fn describe_op(&self, op: &QueueOp) -> String {
        match *op {
            QueueOp::Enqueue(v) => format!("enqueue {}", self.show(v)),
            QueueOp::Dequeue(v) => format!("dequeue {}", self.show(v)),
            QueueOp::DequeueEmpty => "dequeue nil".to_string(),
            QueueOp::DequeueAny => "dequeue (unknown element)".to_string(),
        }
    }

    fn show_all(&self, ids: &[u32]) -> String {
        let items: Vec<Value> = ids.iter().map(|&id| self.show(id).clone()).collect();
        let mut s = Value::Vector(items).to_string();
        if ids.contains(&UNSEEN) {
            s.push_str(" (_ is an element no dequeue returned)");
        }
        s
    }
}

fn without(items: &[u32], i: usize) -> Elements {
    items[..i].iter().chain(&items[i + 1..]).copied().collect()
}

/// A first-in first-out queue.
#[derive(Clone, Debug)]
pub struct FifoQueue(Common);

impl FifoQueue {
    /// An empty queue (or one holding a collection given as the initial
    /// value).
    pub fn new(options: &ModelOptions) -> Self {
        FifoQueue(Common::new(options))
    }
}

impl Model for FifoQueue {
    type State = Elements;
    type Op = QueueOp;

    fn name(&self) -> &'static str {
        "fifo-queue"
    }

    fn compile(&mut self, call: &Call<'_>) -> Result<Option<QueueOp>, String> {
        self.0.compile("fifo-queue", call)
    }

    fn prepare(&mut self, ops: &[&QueueOp]) {
        self.0.prepare(ops);
    }

    /// An indeterminate enqueue of an element no dequeue returns adds
    /// only an element that can block a named dequeue or feed an
    /// indeterminate dequeue. Take any order that places it: drop it, and
    /// drop the indeterminate dequeue that took it if one did; every other
    /// op meets the same head (or the same empty queue) as before.
    fn never_needed(&self, op: &QueueOp) -> bool {
        matches!(*op, QueueOp::Enqueue(v) if self.0.stored(v) == UNSEEN)
    }

    fn init(&self) -> Elements {
        self.0.initial().collect()
    }

    fn step(&self, state: &Elements, op: &QueueOp) -> Option<Elements> {
        match *op {
            QueueOp::Enqueue(v) => Some(state.iter().copied().chain([self.0.stored(v)]).collect()),
            QueueOp::Dequeue(v) => (state.first() == Some(&v)).then(|| without(state, 0)),
            QueueOp::DequeueEmpty => state.is_empty().then(|| state.clone()),
            QueueOp::DequeueAny => (!state.is_empty()).then(|| without(state, 0)),
        }
    }

    fn explain(&self, state: &Elements, op: &QueueOp) -> String {
        if self.step(state, op).is_some() {
            return String::new();
        }
        let now = self.describe_state(state);
        match *op {
            QueueOp::Dequeue(v) => format!("can't dequeue {}: {now}", self.0.show(v)),
            QueueOp::DequeueEmpty => format!("can't find the queue empty: {now}"),
            QueueOp::DequeueAny => format!("can't dequeue anything: {now}"),
            QueueOp::Enqueue(_) => String::new(),
        }
    }

    fn describe_op(&self, op: &QueueOp) -> String {
        self.0.describe_op(op)
    }

    fn describe_state(&self, state: &Elements) -> String {
        match state.first() {
            None => "queue is empty".to_string(),
            Some(&head) => format!(
                "queue holds {} (head {})",
                self.0.show_all(state),
                self.0.show(head)
            ),
        }
    }
}

/// A queue whose dequeues may return any element enqueued and not yet
/// dequeued.
#[derive(Clone, Debug)]
pub struct UnorderedQueue(Common);

/// An unordered queue's state: the sorted multiset of elements enqueued and
/// not dequeued by name, and how many of them indeterminate dequeues took.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pool {
    /// Element ids, sorted, with repeats.
    pub elements: Elements,
    /// Indeterminate dequeues that took some of `elements`.
    pub anonymous: u32,
}

impl Pool {
    fn len(&self) -> usize {
        self.elements.len()
    }
}

impl UnorderedQueue {
    /// An empty queue (or one holding a collection given as the initial
    /// value).
    pub fn new(options: &ModelOptions) -> Self {
        UnorderedQueue(Common::new(options))
    }
}

impl Model for UnorderedQueue {
    type State = Pool;
    type Op = QueueOp;

    fn name(&self) -> &'static str {
        "unordered-queue"
    }

    fn compile(&mut self, call: &Call<'_>) -> Result<Option<QueueOp>, String> {
        self.0.compile("unordered-queue", call)
    }

    fn prepare(&mut self, ops: &[&QueueOp]) {
        self.0.prepare(ops);
    }

    fn init(&self) -> Pool {
        let mut elements: Vec<u32> = self.0.initial().collect();
        elements.sort_unstable();
        Pool {
            elements: elements.into(),
            anonymous: 0,
        }
    }

    fn step(&self, state: &Pool, op: &QueueOp) -> Option<Pool> {
        let anonymous = state.anonymous as usize;
        match *op {
            QueueOp::Enqueue(v) => {
                let v = self.0.stored(v);
                let at = state.elements.partition_point(|&e| e < v);
                let items = &state.elements;
                Some(Pool {
                    elements: items[..at]
                        .iter()
                        .chain([&v])
                        .chain(&items[at..])
                        .copied()
                        .collect(),
                    anonymous: state.anonymous,
                })
            }
            QueueOp::Dequeue(v) => {
                let at = state.elements.binary_search(&v).ok()?;
                (state.len() > anonymous).then(|| Pool {
                    elements: without(&state.elements, at),
                    anonymous: state.anonymous,
                })
            }
            QueueOp::DequeueEmpty => (state.len() == anonymous).then(|| Pool {
                elements: Arc::from([]),
                anonymous: 0,
            }),
            QueueOp::DequeueAny => (state.len() > anonymous).then(|| Pool {
                elements: state.elements.clone(),
                anonymous: state.anonymous + 1,
            }),
        }
    }

    fn explain(&self, state: &Pool, op: &QueueOp) -> String {
        if self.step(state, op).is_some() {
            return String::new();
        }
        let now = self.describe_state(state);
        match *op {
            QueueOp::Dequeue(v) if state.elements.binary_search(&v).is_err() => {
                format!("can't dequeue {}: {now}", self.0.show(v))
            }
            QueueOp::Dequeue(v) => format!(
                "can't dequeue {}: indeterminate dequeues took every element ({now})",
                self.0.show(v)
            ),
            QueueOp::DequeueEmpty => format!("can't find the queue empty: {now}"),
            QueueOp::DequeueAny => format!("can't dequeue anything: {now}"),
            QueueOp::Enqueue(_) => String::new(),
        }
    }

    fn describe_op(&self, op: &QueueOp) -> String {
        self.0.describe_op(op)
    }

    fn describe_state(&self, state: &Pool) -> String {
        let mut s = if state.elements.is_empty() {
            "queue is empty".to_string()
        } else {
            format!(
                "queue holds {} in some order",
                self.0.show_all(&state.elements)
            )
        };
        if state.anonymous > 0 {
            s.push_str(&format!(
                ", of which {} taken by indeterminate dequeues",
                state.anonymous
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn enq<M: Model<Op = QueueOp>>(m: &mut M, x: i64, outcome: Outcome) -> Option<QueueOp> {
        let v = Value::Int(x);
        m.compile(&Call::new("enqueue", &v, Some(&v), outcome))
            .unwrap()
    }

    fn deq<M: Model<Op = QueueOp>>(m: &mut M, out: Value, outcome: Outcome) -> Option<QueueOp> {
        m.compile(&Call::new("dequeue", &Value::Nil, Some(&out), outcome))
            .unwrap()
    }

    #[test]
    fn elements_no_dequeue_returns_are_one_placeholder_once_prepared() {
        for prepared in [false, true] {
            let mut m = FifoQueue::new(&ModelOptions::default());
            let e6 = enq(&mut m, 6, Outcome::Info).unwrap();
            let e8 = enq(&mut m, 8, Outcome::Ok).unwrap();
            let e1 = enq(&mut m, 1, Outcome::Ok).unwrap();
            let d1 = deq(&mut m, Value::Int(1), Outcome::Ok).unwrap();
            let any = deq(&mut m, Value::Nil, Outcome::Info).unwrap();
            if prepared {
                m.prepare(&[&e6, &e8, &e1, &d1, &any]);
            }
            let s0 = m.init();
            let run = |ops: &[QueueOp]| ops.iter().try_fold(s0.clone(), |s, o| m.step(&s, o));
            let (a, b) = (run(&[e6, e8, e1]).unwrap(), run(&[e8, e6, e1]).unwrap());
            assert_eq!(a == b, prepared, "orders of unseen elements merge");
            assert_eq!(m.never_needed(&e6), prepared);
            assert!(!m.never_needed(&e1), "1 is dequeued");
            // Only the element some dequeue returns is told apart: 1 is
            // still behind the others, and an indeterminate dequeue still
            // takes the head.
            assert_eq!(run(&[e6, e1, d1]), None);
            assert!(run(&[e1, e6, d1, any]).is_some());
            if prepared {
                assert_eq!(
                    m.describe_state(&a),
                    "queue holds [_ _ 1] (_ is an element no dequeue returned) (head _)"
                );
            }
            let mut u = UnorderedQueue::new(&ModelOptions::default());
            let (u6, u8) = (
                enq(&mut u, 6, Outcome::Ok).unwrap(),
                enq(&mut u, 8, Outcome::Ok).unwrap(),
            );
            let d8 = deq(&mut u, Value::Int(8), Outcome::Ok).unwrap();
            if prepared {
                u.prepare(&[&u6, &u8, &d8]);
            }
            let (p6, p8) = (
                u.step(&u.init(), &u6).unwrap(),
                u.step(&u.init(), &u8).unwrap(),
            );
            assert_ne!(p6, p8, "8 is dequeued by name, so never merged");
            assert!(!u.never_needed(&u6), "unordered queues keep every enqueue");
            assert!(u.step(&p8, &d8).is_some() && u.step(&p6, &d8).is_none());
        }
    }

    #[test]
    fn fifo_dequeues_in_order() {
        let mut m = FifoQueue::new(&ModelOptions::default());
        let e1 = enq(&mut m, 1, Outcome::Ok).unwrap();
        let e2 = enq(&mut m, 2, Outcome::Info).unwrap();
        let d1 = deq(&mut m, Value::Int(1), Outcome::Ok).unwrap();
        let d2 = deq(&mut m, Value::Int(2), Outcome::Ok).unwrap();
        let empty = deq(&mut m, Value::Nil, Outcome::Ok).unwrap();
        let any = deq(&mut m, Value::Nil, Outcome::Info).unwrap();
        assert_eq!(deq(&mut m, Value::Nil, Outcome::Fail), None);
        assert_eq!(enq(&mut m, 3, Outcome::Fail), None);
        let s0 = m.init();
        assert_eq!(m.describe_state(&s0), "queue is empty");
        assert_eq!(m.step(&s0, &empty), Some(s0.clone()));
        assert_eq!(m.step(&s0, &any), None);
        assert_eq!(
            m.explain(&s0, &any),
            "can't dequeue anything: queue is empty"
        );
        let s = m.step(&m.step(&s0, &e1).unwrap(), &e2).unwrap();
        assert_eq!(m.describe_state(&s), "queue holds [1 2] (head 1)");
        assert_eq!(m.step(&s, &d2), None);
        assert_eq!(
            m.explain(&s, &d2),
            "can't dequeue 2: queue holds [1 2] (head 1)"
        );
        assert_eq!(m.step(&s, &empty), None);
        assert_eq!(
            m.explain(&s, &empty),
            "can't find the queue empty: queue holds [1 2] (head 1)"
        );
        let s2 = m.step(&s, &d1).unwrap();
        assert_eq!(m.step(&s, &any), Some(s2.clone()));
        assert_eq!(m.explain(&s2, &d2), "");
        assert!(m.step(&s2, &d2).unwrap().is_empty());
        assert_eq!(m.describe_op(&e1), "enqueue 1");
        assert_eq!(m.describe_op(&d2), "dequeue 2");
        assert_eq!(m.describe_op(&empty), "dequeue nil");
    }

    #[test]
    fn unordered_dequeues_any_present_element() {
        let mut m = UnorderedQueue::new(&ModelOptions::default());
        let e1 = enq(&mut m, 1, Outcome::Ok).unwrap();
        let e2 = enq(&mut m, 2, Outcome::Ok).unwrap();
        let d1 = deq(&mut m, Value::Int(1), Outcome::Ok).unwrap();
        let d2 = deq(&mut m, Value::Int(2), Outcome::Ok).unwrap();
        let empty = deq(&mut m, Value::Nil, Outcome::Ok).unwrap();
        let any = deq(&mut m, Value::Nil, Outcome::Info).unwrap();
        let s = m.step(&m.step(&m.init(), &e2).unwrap(), &e1).unwrap();
        assert_eq!(m.describe_state(&s), "queue holds [1 2] in some order");
        let s1 = m.step(&s, &d2).unwrap();
        assert_eq!(m.step(&s1, &d2), None);
        assert_eq!(
            m.explain(&s1, &d2),
            "can't dequeue 2: queue holds [1] in some order"
        );
        // An indeterminate dequeue took 1 or 2; either way one is left.
        let sa = m.step(&s, &any).unwrap();
        assert_eq!(
            m.describe_state(&sa),
            "queue holds [1 2] in some order, of which 1 taken by indeterminate dequeues"
        );
        assert_eq!(m.step(&sa, &empty), None);
        let sa1 = m.step(&sa, &d1).unwrap();
        assert_eq!(m.step(&sa1, &d2), None);
        assert_eq!(
            m.explain(&sa1, &d2),
            "can't dequeue 2: indeterminate dequeues took every element (queue holds [2] in some order, of which 1 taken by indeterminate dequeues)"
        );
        assert_eq!(m.step(&sa1, &any), None);
        let s_empty = m.step(&sa1, &empty).unwrap();
        assert_eq!(s_empty, m.init());
        assert_eq!(m.name(), "unordered-queue");
    }

    #[test]
    fn initial_elements_and_unknown_ops() {
        let opts = ModelOptions {
            initial: Value::Vector(vec![Value::Int(5), Value::Int(4)]),
            ..ModelOptions::default()
        };
        let mut f = FifoQueue::new(&opts);
        assert_eq!(f.describe_state(&f.init()), "queue holds [5 4] (head 5)");
        let mut u = UnorderedQueue::new(&opts);
        assert_eq!(
            u.describe_state(&u.init()),
            "queue holds [5 4] in some order"
        );
        let e = f
            .compile(&Call::new("pop", &Value::Nil, None, Outcome::Ok))
            .unwrap_err();
        assert_eq!(
            e,
            "the fifo-queue model has no operation :pop: expected :enqueue or :dequeue"
        );
        assert!(u
            .compile(&Call::new("pop", &Value::Nil, None, Outcome::Ok))
            .is_err());
    }

    fn arb_op() -> impl Strategy<Value = QueueOp> {
        prop_oneof![
            (1u32..4).prop_map(QueueOp::Enqueue),
            (1u32..4).prop_map(QueueOp::Dequeue),
            Just(QueueOp::DequeueEmpty),
            Just(QueueOp::DequeueAny),
        ]
    }

    proptest! {
        #[test]
        fn step_is_deterministic_and_explained(
            items in proptest::collection::vec(1u32..4, 0..4),
            anonymous in 0u32..3,
            op in arb_op(),
        ) {
            let opts = ModelOptions {
                initial: Value::Vector((1..4).map(Value::Int).collect()),
                ..ModelOptions::default()
            };
            let f = FifoQueue::new(&opts);
            let state: Elements = items.iter().copied().collect();
            let next = f.step(&state, &op);
            prop_assert_eq!(&next, &f.step(&state, &op));
            prop_assert_eq!(next.is_none(), !f.explain(&state, &op).is_empty());

            let u = UnorderedQueue::new(&opts);
            let mut sorted = items.clone();
            sorted.sort_unstable();
            let anonymous = anonymous.min(sorted.len() as u32);
            let state = Pool { elements: sorted.into(), anonymous };
            let next = u.step(&state, &op);
            prop_assert_eq!(&next, &u.step(&state, &op));
            prop_assert_eq!(next.is_none(), !u.explain(&state, &op).is_empty());
        }
    }
}
