//! The memory budget of a load, as the readers poll it.
//!
//! [`History::load`](super::History::load) and
//! [`History::parse`](super::History::parse) read under the budget of
//! [`LoadOptions::memory`](super::LoadOptions::memory), if any: the
//! readers look at it after each event and every [`EVERY`] elements of a
//! collection, and stop with an input error at the position they reached
//! when the bytes in use pass it. A collection is also refused as soon as
//! it and the copies the checkers make of it ([`COPIES`] in all) would
//! not fit: one value of fifty million elements would otherwise pass the
//! budget only after it was read, when the models compile it.
//!
//! The budget is kept per thread for the length of a load, so that the
//! readers' signatures stay those of the formats.

use crate::memory::{self, Budget};
use std::cell::RefCell;

/// A collection is measured against the budget every this many elements.
pub(crate) const EVERY: usize = 1 << 12;

/// A value and the copies of it the checkers make (each checker compiles
/// the history's values for its model): what a collection read must
/// leave room for.
pub(crate) const COPIES: usize = 4;

thread_local! {
    static BUDGET: RefCell<Option<Budget>> = const { RefCell::new(None) };
}

/// Runs `f` with `budget` as this thread's load budget.
pub(crate) fn with<T>(budget: Option<&Budget>, f: impl FnOnce() -> T) -> T {
    let before = BUDGET.with(|b| b.replace(budget.cloned()));
    let out = f();
    BUDGET.with(|b| *b.borrow_mut() = before);
    out
}

/// This thread's load budget.
pub(crate) fn current() -> Option<Budget> {
    BUDGET.with(|b| b.borrow().clone())
}

/// Why the load must stop after an event, if it must: the bytes in use
/// passed the budget.
pub(crate) fn after_event() -> Option<String> {
    BUDGET.with(|b| {
        let b = b.borrow();
        let b = b.as_ref()?;
        (b.in_use() > b.limit()).then(|| {
            format!(
                "loading the file took more than the memory budget of {} (--max-memory)",
                memory::bytes(b.limit())
            )
        })
    })
}

/// Why the load must stop in a collection of `len` elements of `size`
/// bytes each, if it must: its copies would not fit in the budget (looked
/// at every [`EVERY`] elements).
pub(crate) fn in_collection(len: usize, size: usize) -> Option<String> {
    if len == 0 || len % EVERY != 0 {
        return None;
    }
    BUDGET.with(|b| {
        let b = b.borrow();
        let b = b.as_ref()?;
        let copies = len.saturating_mul(size).saturating_mul(COPIES - 1);
        (b.in_use().saturating_add(copies) > b.limit()).then(|| {
            format!(
                "a collection of more than {len} elements: it and the checkers' copies of it \
                 ({COPIES} in all) take more than the memory budget of {} (--max-memory)",
                memory::bytes(b.limit())
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static USE: AtomicUsize = AtomicUsize::new(0);
    fn probe() -> usize {
        USE.load(Ordering::Relaxed)
    }

    #[test]
    fn a_load_stops_past_its_budget_and_only_under_it() {
        let b = Budget::new(1 << 20, probe);
        USE.store(1 << 19, Ordering::Relaxed);
        assert_eq!(after_event(), None, "no budget outside a load");
        with(Some(&b), || {
            assert_eq!(after_event(), None);
            assert_eq!(in_collection(EVERY, 8), None);
            let why = in_collection(EVERY * 8, 8).expect("three copies of 256 KiB do not fit");
            assert!(why.contains("memory budget of 1 MiB"), "{why}");
            USE.store(2 << 20, Ordering::Relaxed);
            assert!(after_event().is_some());
        });
        assert_eq!(after_event(), None, "the budget ends with the load");
        USE.store(0, Ordering::Relaxed);
        assert!(
            b.room_for(1),
            "a refused load does not stop other files' searches"
        );
    }
}
