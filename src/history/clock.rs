//! Clocks that disagree: widening every operation by a clock uncertainty.
//!
//! Real-time order is only as good as the clocks that stamped the events.
//! When a history's times come from several machines whose clocks may be
//! off by up to `u` from true time, an operation certainly completed
//! before another began only when its completion time plus `u` is below
//! the other's invocation time minus `u`. [`History::widen`] turns that
//! rule into a history: each client operation's invocation moves to
//! `time - u` and its completion to `time + u` (as Spanner's TrueTime
//! intervals), the events are put in order of these times (at equal times
//! invocations first, so touching intervals are concurrent; otherwise in
//! file order), and the times are rewritten to the widened ones, so every
//! checker (those that read the order of events and those that read times)
//! sees only the orders no skew within the bound can undo.
//!
//! Widening only removes real-time orders, never adds one: a history
//! valid under `u` is valid under any larger bound, and an invalid verdict
//! under `u` rests only on orders wider than any skew within it. Two ops
//! of one process closer than `2u` overlap after widening, so their
//! real-time order is dropped too (an event order cannot keep every
//! process's own order and no other, in general); their order in the list
//! of operations, which checkers read as program order, is kept.

use super::error::{Error, Position, Result};
use super::History;

impl History {
    /// The history as clocks off by up to `uncertainty` (in the history's
    /// time unit) from true time allow it to be ordered; see the
    /// [module docs](self). An uncertainty of 0 leaves it as it is.
    ///
    /// Errors: under a positive uncertainty every event needs a `time`;
    /// the error names the first that has none.
    pub fn widen(self, uncertainty: i64) -> Result<History> {
        if uncertainty <= 0 {
            return Ok(self);
        }
        if let Some(op) = self.ops.iter().find(|o| o.time.is_none()) {
            return Err(Error::at(
                Position::line(op.line),
                format!(
                    "{} event of process {} has no time: a clock uncertainty needs every event's time",
                    op.op_type, op.process
                ),
            ));
        }
        let u = uncertainty;
        // Per event: (widened time, 0 for an invocation, 1 otherwise).
        let mut at: Vec<(i64, u8)> = self.ops.iter().map(|o| (o.time.unwrap_or(0), 1)).collect();
        for o in &self.operations {
            let invoked = at[o.invoke].0;
            at[o.invoke] = (invoked.saturating_sub(u), 0);
            if let Some(c) = o.complete {
                // A completion stamped before its invocation is read as
                // immediate.
                at[c].0 = at[c].0.max(invoked).saturating_add(u);
            }
        }
        let mut order: Vec<usize> = (0..self.ops.len()).collect();
        order.sort_by_key(|&i| (at[i], i));
        let mut place = vec![0; order.len()];
        for (new, &old) in order.iter().enumerate() {
            place[old] = new;
        }
        let mut slots: Vec<_> = self.ops.into_iter().map(Some).collect();
        let ops = order
            .iter()
            .map(|&i| {
                let mut op = slots[i].take().expect("each event is moved once");
                op.time = Some(at[i].0);
                op
            })
            .collect();
        let mut operations = self.operations;
        for o in &mut operations {
            o.invoke = place[o.invoke];
            o.complete = o.complete.map(|c| place[c]);
        }
        // Invocation order; one process's invocations keep their order.
        operations.sort_by_key(|o| o.invoke);
        let mut nemesis: Vec<usize> = self.nemesis.iter().map(|&i| place[i]).collect();
        nemesis.sort_unstable();
        Ok(History {
            ops,
            operations,
            nemesis,
            fault_processes: self.fault_processes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{History, Op, OpType, Value};

    fn timed(t: OpType, p: i64, f: &str, v: i64, time: i64) -> Op {
        let mut o = Op::new(t, p, f, Value::Int(v));
        o.time = Some(time);
        o
    }

    #[test]
    fn widening_reorders_events_closer_than_the_uncertainty() {
        // p0 writes in [0, 10]; p1 reads in [12, 20].
        let h = History::from_ops(vec![
            timed(OpType::Invoke, 0, "write", 1, 0),
            timed(OpType::Ok, 0, "write", 1, 10),
            timed(OpType::Invoke, 1, "read", 0, 12),
            timed(OpType::Ok, 1, "read", 0, 20),
        ])
        .unwrap();
        let events = |h: &History| -> Vec<(i64, OpType, i64)> {
            h.ops
                .iter()
                .map(|o| (o.process.client().unwrap(), o.op_type, o.time.unwrap()))
                .collect()
        };
        let w = h.clone().widen(2).unwrap();
        assert_eq!(
            events(&w),
            vec![
                (0, OpType::Invoke, -2),
                (1, OpType::Invoke, 10),
                (0, OpType::Ok, 12),
                (1, OpType::Ok, 22)
            ]
        );
        assert_eq!(
            (w.operations[0].invoke, w.operations[0].complete),
            (0, Some(2))
        );
        assert_eq!(
            (w.operations[1].invoke, w.operations[1].complete),
            (1, Some(3))
        );
        // Touching intervals ([-1, 11] and [11, 21]) are concurrent.
        let touching = h.clone().widen(1).unwrap();
        assert_eq!(events(&touching)[1], (1, OpType::Invoke, 11));
        assert_eq!(events(&h.widen(0).unwrap())[1], (0, OpType::Ok, 10));
    }

    #[test]
    fn an_event_without_time_is_an_error_under_uncertainty() {
        let mut ops = vec![
            timed(OpType::Invoke, 0, "write", 1, 0),
            timed(OpType::Ok, 0, "write", 1, 10),
        ];
        ops[1].time = None;
        ops[1].line = 7;
        let h = History::from_ops(ops).unwrap();
        assert!(h.clone().widen(0).is_ok());
        let e = h.widen(5).unwrap_err();
        assert_eq!(e.position.line, 7);
        assert!(e.message.contains("has no time"), "{e}");
    }
}
