//! A terminal timeline of a few operations: one row per process, a bar per
//! operation from its invocation to its completion.
//!
//! Time runs across in event order: one column per event of the drawn
//! ops, or, when the width is too small for that, compressed: a run of
//! consecutive invocations (or of consecutive completions) shares one
//! column. Both keep exactly the real-time order the checkers reason with
//! (an op precedes another when it completed before the other was
//! invoked).
//! Outcomes differ by glyph, not only by colour:
//!
//! ```text
//!  p0 [w 1---]   [w 2---]
//!  p1                      !r 1--]
//! ```
//!
//! `[..]` is an op that completed ok, `[..x` one that failed, and `[~~>`
//! one with no response (info, or never completed), running to the end;
//! the ops the anomaly names open with `!` instead of `[`. The drawing is
//! fitted to a width; colour only adds to the glyphs.

use super::style::Style;
use crate::check::evidence::OpView;
use crate::history::{Outcome, Process};
use std::collections::BTreeSet;

/// The legend under every timeline (the last item only when an op is
/// marked).
const LEGEND: [&str; 4] = [
    "[--] ok",
    "[..x fail",
    "[~~> no response",
    "!--] the anomaly's op",
];

/// Draws `ops` as a timeline at most `width` columns wide (colour aside),
/// marking the ops whose ids are in `marked`. Returns its lines, legend
/// last; a single line saying so when `width` is too narrow for them.
pub fn draw(ops: &[OpView], marked: &BTreeSet<usize>, width: usize, style: &Style) -> Vec<String> {
    if ops.is_empty() {
        return Vec::new();
    }
    let rows = Rows::new(ops);
    let label = rows.label_width();
    // One cell per column, and the end column: two cells at least per
    // event when every event has its own column.
    let cells = |c: &Columns| (width.saturating_sub(label + 1) / (c.count + 1)).min(12);
    let mut columns = Columns::new(ops, false);
    if cells(&columns) < 2 {
        columns = Columns::new(ops, true);
    }
    let cell = cells(&columns);
    if cell == 0 {
        return vec![format!(
            "(a timeline of these {} ops needs {} columns; {width} are available)",
            ops.len(),
            label + 2 + columns.count
        )];
    }
    let end = columns.count * cell;
    let mut out = Vec::new();
    for (process, lanes) in &rows.lanes {
        for (n, lane) in lanes.iter().enumerate() {
            let name = if n == 0 {
                row_name(process)
            } else {
                String::new()
            };
            let mut line = format!("{name:>label$} ");
            let mut at = 0;
            for &i in lane {
                let o = &ops[i];
                let from = columns.of(o.invoke_index) * cell;
                let to = match (o.outcome, o.complete_index) {
                    (Outcome::Ok | Outcome::Fail, Some(c)) => columns.of(c) * cell,
                    _ => end,
                };
                line.push_str(&" ".repeat(from - at));
                line.push_str(&bar(o, to - from + 1, marked.contains(&o.id), style));
                at = to + 1;
            }
            out.push(line.trim_end().to_string());
        }
    }
    let any_marked = marked.iter().any(|id| ops.iter().any(|o| o.id == *id));
    let items = &LEGEND[..LEGEND.len() - usize::from(!any_marked)];
    for line in wrap(items, width - label - 1) {
        out.push(format!("{:>label$} {}", "", style.dim(&line)));
    }
    out
}

/// The legend's items, as many to a line as fit in `width`.
fn wrap(items: &[&str], width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for item in items {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 2 + item.chars().count() <= width => {
                l.push_str("  ");
                l.push_str(item);
            }
            _ => lines.push(item.chars().take(width).collect()),
        }
    }
    lines
}

/// One bar `len` columns wide, with its label cut to fit.
fn bar(o: &OpView, len: usize, marked: bool, style: &Style) -> String {
    let (fill, close) = match (o.outcome, o.complete_index) {
        (Outcome::Ok, Some(_)) => ('-', ']'),
        (Outcome::Fail, Some(_)) => ('.', 'x'),
        _ => ('~', '>'),
    };
    let inner = len.saturating_sub(2);
    let text: String = short(&o.op).chars().take(inner).collect();
    let pad = inner - text.chars().count();
    let mut s = String::from(if marked { "!" } else { "[" });
    s.push_str(&text);
    s.extend(std::iter::repeat_n(fill, pad));
    if len >= 2 {
        s.push(close);
    }
    match (o.outcome, o.complete_index) {
        _ if marked => style.bad(&s),
        (Outcome::Ok, Some(_)) => s,
        _ => style.dim(&s),
    }
}

/// An op's words, shortened: `w 1`, `r 2`, `cas 1→3`.
fn short(op: &str) -> String {
    let op = op.strip_prefix("failed ").unwrap_or(op);
    let op = op.replace(" -> ", "→");
    if let Some(rest) = op.strip_prefix("write ") {
        format!("w {rest}")
    } else if let Some(rest) = op.strip_prefix("read ") {
        format!("r {rest}")
    } else {
        op
    }
}

/// A row's name: `p3` for a numbered client, the id as written otherwise.
fn row_name(p: &Process) -> String {
    match p {
        Process::Client(n) => format!("p{n}"),
        other => other.to_string(),
    }
}

/// The columns: one per event of the drawn ops, or when `merge`, one per
/// run of consecutive invocations or of consecutive completions.
struct Columns {
    /// Each event index drawn, with its column, in event order.
    events: Vec<(usize, usize)>,
    /// How many columns.
    count: usize,
}

impl Columns {
    fn new(ops: &[OpView], merge: bool) -> Columns {
        let mut events: Vec<(usize, bool)> = Vec::new();
        for o in ops {
            events.push((o.invoke_index, true));
            if let (Outcome::Ok | Outcome::Fail, Some(c)) = (o.outcome, o.complete_index) {
                events.push((c, false));
            }
        }
        events.sort_unstable();
        events.dedup();
        let mut out = Vec::with_capacity(events.len());
        let mut column = 0;
        for (n, &(e, invoke)) in events.iter().enumerate() {
            if n > 0 && (!merge || events[n - 1].1 != invoke) {
                column += 1;
            }
            out.push((e, column));
        }
        Columns {
            count: column + 1,
            events: out,
        }
    }

    /// The column of event `e` (one of the drawn ops' events).
    fn of(&self, e: usize) -> usize {
        let i = self.events.partition_point(|&(x, _)| x < e);
        self.events.get(i).map_or(self.count, |&(_, c)| c)
    }
}

/// The rows: per process (in order of first invocation), lanes of ops
/// that do not overlap; a process whose ops overlap (widened clocks) gets
/// more than one.
struct Rows<'a> {
    lanes: Vec<(&'a Process, Vec<Vec<usize>>)>,
}

impl<'a> Rows<'a> {
    fn new(ops: &'a [OpView]) -> Rows<'a> {
        let mut order: Vec<usize> = (0..ops.len()).collect();
        order.sort_by_key(|&i| ops[i].invoke_index);
        let mut lanes: Vec<(&Process, Vec<Vec<usize>>)> = Vec::new();
        let ends = |o: &OpView| match (o.outcome, o.complete_index) {
            (Outcome::Ok | Outcome::Fail, Some(c)) => c,
            _ => usize::MAX,
        };
        for i in order {
            let o = &ops[i];
            let row = match lanes.iter().position(|(p, _)| **p == o.process) {
                Some(r) => r,
                None => {
                    lanes.push((&o.process, Vec::new()));
                    lanes.len() - 1
                }
            };
            let rows = &mut lanes[row].1;
            match rows
                .iter_mut()
                .find(|lane| lane.last().is_none_or(|&j| ends(&ops[j]) < o.invoke_index))
            {
                Some(lane) => lane.push(i),
                None => rows.push(vec![i]),
            }
        }
        Rows { lanes }
    }

    fn label_width(&self) -> usize {
        self.lanes
            .iter()
            .map(|(p, _)| row_name(p).chars().count())
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(
        id: usize,
        process: i64,
        op: &str,
        outcome: Outcome,
        inv: usize,
        done: Option<usize>,
    ) -> OpView {
        OpView {
            id,
            process: Process::Client(process),
            op: op.to_string(),
            outcome,
            invoke_index: inv,
            complete_index: done,
            invoke_line: inv as u32 + 1,
            complete_line: done.map(|d| d as u32 + 1),
        }
    }

    /// A stale read: two writes, then a read of the first value; a failed
    /// cas and a crashed write beside them.
    fn sample() -> Vec<OpView> {
        vec![
            op(0, 0, "write 1", Outcome::Ok, 0, Some(1)),
            op(1, 0, "write 2", Outcome::Ok, 2, Some(3)),
            op(2, 1, "read 1", Outcome::Ok, 4, Some(6)),
            op(3, 2, "failed cas 1 -> 3", Outcome::Fail, 5, Some(7)),
            op(4, 3, "write 4", Outcome::Info, 8, Some(9)),
        ]
    }

    fn plain() -> Style {
        Style {
            color: false,
            width: 100,
        }
    }

    #[test]
    fn fits_every_width_and_shows_every_op() {
        let ops = sample();
        let marked: BTreeSet<usize> = [2].into();
        for width in [24, 30, 40, 60, 80, 100, 200] {
            let lines = draw(&ops, &marked, width, &plain());
            for l in &lines {
                assert!(l.chars().count() <= width, "{width}: {l:?} is too wide");
            }
            let body: Vec<&String> = lines
                .iter()
                .filter(|l| l.trim_start().starts_with('p'))
                .collect();
            // One row per process, in order of first invocation.
            assert!(!lines[0].contains("needs"), "{width}: {lines:#?}");
            assert_eq!(body.len(), 4, "{width}: {lines:#?}");
            for (row, p) in body.iter().zip(["p0", "p1", "p2", "p3"]) {
                assert!(row.trim_start().starts_with(p), "{row}");
            }
            // Every op has its bar: five openings, one of them marked.
            let opens = |c: char| body.iter().map(|l| l.matches(c).count()).sum::<usize>();
            assert_eq!((opens('['), opens('!')), (4, 1), "{width}: {lines:#?}");
            // The marked op, the failed one and the crashed one.
            assert!(
                body[1].trim_start()[2..].trim_start().starts_with('!'),
                "{width}: {lines:#?}"
            );
            assert!(body[2].ends_with('x'), "{width}: {lines:#?}");
            assert!(body[3].ends_with('>'), "{width}: {lines:#?}");
            assert!(
                lines.iter().any(|l| l.contains("no response")),
                "{width}: {lines:#?}"
            );
            assert!(
                lines.iter().any(|l| l.contains("anomaly's op")),
                "{width}: {lines:#?}"
            );
        }
    }

    #[test]
    fn labels_are_short_and_whole_when_there_is_room() {
        let lines = draw(&sample(), &BTreeSet::new(), 100, &plain());
        let all = lines.join("\n");
        for label in ["[w 1", "[w 2", "[r 1", "[cas 1→3", "[w 4"] {
            assert!(all.contains(label), "{label} missing from\n{all}");
        }
        assert!(
            !all.contains('!'),
            "nothing marked, not even in the legend:\n{all}"
        );
    }

    #[test]
    fn real_time_order_is_kept_by_the_columns() {
        // write 2 completed before read 1 began: its bar ends left of the
        // read's start.
        let lines = draw(&sample(), &BTreeSet::new(), 100, &plain());
        let end_w2 = lines[0].rfind(']').unwrap();
        let start_r1 = lines[1].find('[').unwrap();
        assert!(end_w2 < start_r1, "{lines:#?}");
        // The read and the cas overlap: the cas starts before the read ends.
        let end_r1 = lines[1].rfind(']').unwrap();
        let start_cas = lines[2].find('[').unwrap();
        assert!(start_cas < end_r1, "{lines:#?}");
    }

    #[test]
    fn too_narrow_says_so() {
        let lines = draw(&sample(), &BTreeSet::new(), 8, &plain());
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains("needs"), "{lines:?}");
    }

    #[test]
    fn colour_only_when_asked() {
        let marked: BTreeSet<usize> = [2].into();
        let plain_lines = draw(&sample(), &marked, 100, &plain());
        assert!(!plain_lines.join("").contains('\x1b'));
        let c = Style {
            color: true,
            width: 100,
        };
        let coloured = draw(&sample(), &marked, 100, &c);
        assert!(coloured.join("").contains("\x1b[1;31m"));
    }
}
