//! What indeterminate updates may explain.
//!
//! An update that completed `info`, or never completed, may take effect at
//! any time after its invocation, or never: after its `info` completion
//! too, and so between two final reads. Every final read began after every
//! update ended, so every acknowledged update took effect before them all:
//! of the updates, only the indeterminate ones may still change what the
//! final reads see. A divergence (or flip-flop) claim must hold for every
//! effect time of the indeterminate updates, and for their having taken
//! effect or not.
//!
//! # The pairwise rule
//!
//! Two final reads `a` and `b` returned different states. If `a` completed
//! before `b` began, the state changed between them, and only an
//! indeterminate update can have changed it, into what `b` returned. If
//! neither preceded the other, either may have come first. The model says
//! which changes its indeterminate updates can make: a register's into a
//! value an indeterminate write or cas writes (into any value when an
//! indeterminate update's effect is unknown); a set element's into present
//! by an indeterminate add of it, into absent by an indeterminate remove;
//! a counter's by a sum of indeterminate increments (see
//! [`counter`](super::counter)). "Precedes" is the order of the events in
//! the file, which a history's times only measure.
//!
//! A pair that no change explains refutes every choice of effect times: the
//! replicas disagreed. When every pair is explained, convergence is
//! unknown, with that reason. The rule is necessary, not sufficient (a
//! sequence of changes may need one update to take effect twice), so it
//! never calls divergent a history that some order of effects explains; in
//! particular none that is linearizable, since a linearization is one
//! order in which every read sees the state.
//!
//! # Classes
//!
//! For a register the final reads fall into classes by the value they
//! returned; for a set element, into the reads that had it and those that
//! did not. A class is *writable* when an indeterminate update may change
//! the state into it. Over classes the rule takes linear time: two classes
//! that are not writable refute (any pair of their reads, in either order);
//! one, `b`, refutes when a read of another class completed before a read
//! of `b` began; when every class is writable, every pair is explained.

use super::{Ctx, FxMap};

/// The final reads that returned one state, as the pairwise rule needs
/// them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Class {
    /// The earliest completion among its reads: (event, read).
    pub first_done: (usize, usize),
    /// The latest invocation among its reads: (event, read).
    pub last_begun: (usize, usize),
    /// May an indeterminate update change the state into this one?
    pub writable: bool,
}

impl Class {
    /// The class of `reads` (`ok` reads, so completed); `None` when there
    /// are none.
    pub fn of(
        ctx: &Ctx<'_>,
        reads: impl IntoIterator<Item = usize>,
        writable: bool,
    ) -> Option<Class> {
        let mut class: Option<Class> = None;
        for r in reads {
            let o = ctx.op(r);
            let done = (o.complete.unwrap_or(usize::MAX), r);
            let begun = (o.invoke, r);
            let c = class.get_or_insert(Class {
                first_done: done,
                last_begun: begun,
                writable,
            });
            c.first_done = c.first_done.min(done);
            c.last_begun = c.last_begun.max(begun);
        }
        class
    }

    /// The classes of `reads` grouped by the state `state` gives each, in
    /// order of first appearance, with whether `writable` says an
    /// indeterminate update may produce that state.
    pub fn group<K: Clone + Eq + std::hash::Hash>(
        ctx: &Ctx<'_>,
        reads: &[usize],
        state: impl Fn(usize) -> K,
        writable: impl Fn(&K) -> bool,
    ) -> Vec<(K, Class)> {
        let mut index: FxMap<K, usize> = FxMap::default();
        let mut members: Vec<(K, Vec<usize>)> = Vec::new();
        for &r in reads {
            let k = state(r);
            let i = *index.entry(k.clone()).or_insert_with(|| {
                members.push((k, Vec::new()));
                members.len() - 1
            });
            members[i].1.push(r);
        }
        members
            .into_iter()
            .filter_map(|(k, rs)| {
                let w = writable(&k);
                Class::of(ctx, rs, w).map(|c| (k, c))
            })
            .collect()
    }

    /// Did a read of this class complete before a read of `other` began?
    fn precedes(&self, other: &Class) -> bool {
        self.first_done.0 < other.last_begun.0
    }
}

/// Two final reads whose difference no indeterminate update explains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Change {
    /// The read whose state changed.
    pub from: usize,
    /// The read that saw the changed state.
    pub to: usize,
    /// `from` completed before `to` began (otherwise they overlapped, and
    /// neither state can follow the other).
    pub ordered: bool,
}

impl Change {
    /// Why no indeterminate update explains this change, in words: its two
    /// reads as `read` tells them, one `before` the other when it
    /// completed first, then `ordered`; else one `while` the other, then
    /// `overlapping`.
    pub fn why(&self, read: impl Fn(usize) -> String, ordered: &str, overlapping: &str) -> String {
        if self.ordered {
            format!("{} before {}, {ordered}", read(self.from), read(self.to))
        } else {
            format!("{} while {}, {overlapping}", read(self.from), read(self.to))
        }
    }
}

/// A pair of final reads, one from each class, that no change an
/// indeterminate update can make explains; `None` when every pair is
/// explained.
pub(crate) fn unexplained(classes: &[Class]) -> Option<Change> {
    let mut fixed = classes.iter().filter(|c| !c.writable);
    match (fixed.next(), fixed.next()) {
        (Some(a), Some(b)) => Some(if a.precedes(b) {
            ordered(a, b)
        } else if b.precedes(a) {
            ordered(b, a)
        } else {
            Change {
                from: a.first_done.1,
                to: b.last_begun.1,
                ordered: false,
            }
        }),
        (Some(b), None) => classes
            .iter()
            .filter(|c| c.writable)
            .min_by_key(|c| c.first_done)
            .filter(|a| a.precedes(b))
            .map(|a| ordered(a, b)),
        _ => None,
    }
}

/// The change from a read of `a` to a later read of `b`.
fn ordered(a: &Class, b: &Class) -> Change {
    Change {
        from: a.first_done.1,
        to: b.last_begun.1,
        ordered: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(done: usize, begun: usize, writable: bool) -> Class {
        Class {
            first_done: (done, done),
            last_begun: (begun, begun),
            writable,
        }
    }

    #[test]
    fn a_change_into_a_writable_state_is_explained() {
        // read a: events 0-1, read b: events 2-3
        let (a, b) = (class(1, 0, false), class(3, 2, true));
        assert_eq!(unexplained(&[a, b]), None);
        // into a state nothing writes: refuted, in order
        let (a, b) = (class(1, 0, true), class(3, 2, false));
        assert_eq!(
            unexplained(&[a, b]),
            Some(Change {
                from: 1,
                to: 2,
                ordered: true
            })
        );
    }

    #[test]
    fn overlapping_reads_need_one_writable_state() {
        let (a, b) = (class(3, 0, true), class(2, 1, false));
        assert_eq!(unexplained(&[a, b]), None);
        let (a, b) = (class(3, 0, false), class(2, 1, false));
        assert_eq!(
            unexplained(&[a, b]),
            Some(Change {
                from: 3,
                to: 1,
                ordered: false
            })
        );
    }
}
