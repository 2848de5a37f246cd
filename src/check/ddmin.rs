//! Delta debugging: the one loop both counterexample shrinkers run.
//!
//! Zeller & Hildebrandt's *ddmin*, simplified ("Simplifying and isolating
//! failure-inducing input", IEEE TSE 28(2), 2002): remove chunks of the
//! operations while what is left still fails, halving the chunk size down
//! to single operations, then repeat passes of single removals until one
//! pass removes nothing. The result is *1-minimal*: removing any one of its
//! operations makes the failure go away.
//!
//! What "still fails" means is the caller's: the linearizability shrinker
//! asks that a sub-history be refuted by a complete search and explain its
//! reads (`linearizable/shrink.rs`), the sequential one that it be refuted
//! and have no op out of thin air (`sequential/shrink.rs`). Both count
//! their budgets in work, so the loop ends at the same point on any
//! machine.

/// What a trial sub-history showed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Trial {
    /// It still fails: the removal is kept.
    Fails,
    /// It passes: the ops are kept.
    Passes,
    /// It could not be decided within its own budget: the ops are kept, and
    /// if this happens in the last pass the result is not called 1-minimal.
    Undecided,
    /// The budget or the user's time ran out: shrinking stops here.
    Stop,
}

/// Shrinks `keep` (indices of operations, which fail together) to a
/// subsequence for which `fails` still says [`Trial::Fails`]. Returns the
/// subsequence and whether it is 1-minimal: the last pass of single
/// removals ran to its end with every trial decided (false when `fails`
/// said [`Trial::Stop`], or [`Trial::Undecided`] in that pass).
pub(crate) fn ddmin(
    mut keep: Vec<usize>,
    mut fails: impl FnMut(&[usize]) -> Trial,
) -> (Vec<usize>, bool) {
    let mut chunk = keep.len().div_ceil(2).max(1);
    loop {
        let mut start = 0;
        while start < keep.len() {
            let end = (start + chunk).min(keep.len());
            if end - start == keep.len() {
                break;
            }
            let trial: Vec<usize> = keep[..start].iter().chain(&keep[end..]).copied().collect();
            match fails(&trial) {
                Trial::Fails => keep = trial,
                Trial::Passes | Trial::Undecided => start = end,
                Trial::Stop => return (keep, false),
            }
        }
        if chunk == 1 {
            break;
        }
        chunk = chunk.div_ceil(2);
    }
    // The chunk-size-1 pass left every single removal passing, except that
    // a removal late in the pass may have enabled an earlier one: repeat
    // until a full pass removes nothing.
    loop {
        let (mut removed, mut undecided) = (false, false);
        let mut i = 0;
        while i < keep.len() {
            let trial: Vec<usize> = (0..keep.len())
                .filter(|&j| j != i)
                .map(|j| keep[j])
                .collect();
            match fails(&trial) {
                Trial::Fails => {
                    keep = trial;
                    removed = true;
                }
                Trial::Passes => i += 1,
                Trial::Undecided => {
                    undecided = true;
                    i += 1;
                }
                Trial::Stop => return (keep, false),
            }
        }
        if !removed {
            return (keep, !undecided);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails when the set holds both 3 and 7: the minimum is exactly them.
    #[test]
    fn finds_the_failing_pair() {
        let (kept, done) = ddmin((0..20).collect(), |s| {
            if s.contains(&3) && s.contains(&7) {
                Trial::Fails
            } else {
                Trial::Passes
            }
        });
        assert_eq!((kept, done), (vec![3, 7], true));
    }

    /// Every result is 1-minimal: removing any one element passes.
    #[test]
    fn result_is_one_minimal() {
        // Fails when it holds at least three even numbers.
        let fails = |s: &[usize]| {
            if s.iter().filter(|&&x| x % 2 == 0).count() >= 3 {
                Trial::Fails
            } else {
                Trial::Passes
            }
        };
        let (kept, done) = ddmin((0..33).collect(), fails);
        assert!(done);
        assert_eq!(fails(&kept), Trial::Fails);
        for i in 0..kept.len() {
            let mut less = kept.clone();
            less.remove(i);
            assert_eq!(fails(&less), Trial::Passes, "{kept:?} less {i}");
        }
    }

    /// An undecided trial in the last pass keeps its op, and the result is
    /// not called 1-minimal.
    #[test]
    fn undecided_is_not_minimal() {
        let (kept, minimal) = ddmin((0..8).collect(), |s| {
            match (s.contains(&2), s.contains(&5)) {
                (true, true) => Trial::Fails,
                (true, false) => Trial::Undecided,
                _ => Trial::Passes,
            }
        });
        assert_eq!((kept, minimal), (vec![2, 5], false));
    }

    /// A stop ends shrinking at once, with what was kept so far.
    #[test]
    fn stops_when_told() {
        let mut calls = 0;
        let (kept, done) = ddmin((0..16).collect(), |s| {
            calls += 1;
            if calls > 3 {
                Trial::Stop
            } else if s.contains(&0) {
                Trial::Fails
            } else {
                Trial::Passes
            }
        });
        assert!(!done);
        assert!(kept.contains(&0) && kept.len() < 16);
    }
}
