//! A history compiled for the search: per key a model, per process its ops
//! in program order.

use crate::history::{Error, History, Outcome, Position, Process, Value};
use crate::memory::Budget;
use crate::model::{Call, Model};
use std::collections::HashMap;

/// One compiled operation.
#[derive(Clone, Debug)]
pub(crate) struct Cop<O> {
    /// Index in [`History::operations`].
    pub id: usize,
    /// Index of its key in [`Problem::keys`].
    pub key: u32,
    /// Dense index of its process in [`Problem::procs`].
    pub process: u32,
    /// Indeterminate (`info`): it may be left out.
    pub optional: bool,
    /// Index of its invocation in [`History::ops`] (real time).
    pub invoke: usize,
    /// Index of its completion in [`History::ops`], `usize::MAX` for an
    /// indeterminate op (see [`crate::history::Operation::response`]).
    pub response: usize,
    /// The model's compiled op.
    pub op: O,
}

/// The ops to order: which key and process each belongs to, and for every
/// key the model (clone) that compiled its ops.
#[derive(Clone, Debug)]
pub(crate) struct Problem<M: Model> {
    /// One model per key; `models[k]` steps the ops of key `k`.
    pub models: Vec<M>,
    /// The keys, `None` for ops without a key.
    pub keys: Vec<Option<Value>>,
    /// Every op that takes part in the search.
    pub ops: Vec<Cop<M::Op>>,
    /// Per process, indices into `ops` in program order.
    pub procs: Vec<Vec<u32>>,
    /// The process of each dense process index, as the history wrote it.
    pub process_ids: Vec<Process>,
    /// The memory budget the analysis's tables are made within.
    pub memory: Option<Budget>,
}

impl<M: Model> Problem<M> {
    /// Compiles every client operation of `history`, one model clone per
    /// key. `fail`ed ops and crashed reads compile to nothing and drop out;
    /// `info` ops become optional.
    pub(crate) fn compile(history: &History, model: &M) -> Result<Problem<M>, Error> {
        let mut models: Vec<M> = Vec::new();
        let mut keys: Vec<Option<Value>> = Vec::new();
        let mut key_index: HashMap<Option<&Value>, u32> = HashMap::new();
        // First every op is compiled, then each key's model is prepared
        // with its ops, and only then can it say which ops it never needs.
        let mut compiled: Vec<(usize, u32, M::Op)> = Vec::new();
        for (id, o) in history.operations.iter().enumerate() {
            let inv = history.invocation(o);
            let key = history.key(o);
            let k = *key_index.entry(key).or_insert_with(|| {
                keys.push(key.cloned());
                models.push(model.clone());
                (keys.len() - 1) as u32
            });
            let call = Call::of(history, o);
            let op = models[k as usize].compile(&call).map_err(|m| {
                Error::at(
                    Position::line(inv.line),
                    format!("process {} :{}: {m}", inv.process, inv.f),
                )
            })?;
            compiled.extend(op.map(|op| (id, k, op)));
        }
        let mut by_key: Vec<Vec<&M::Op>> = vec![Vec::new(); models.len()];
        for (_, k, op) in &compiled {
            by_key[*k as usize].push(op);
        }
        for (m, key_ops) in models.iter_mut().zip(by_key) {
            m.prepare(&key_ops);
        }
        let mut proc_index: HashMap<i64, u32> = HashMap::new();
        let mut procs: Vec<Vec<u32>> = Vec::new();
        let mut process_ids = Vec::new();
        let mut ops = Vec::new();
        for (id, key, op) in compiled {
            let o = &history.operations[id];
            let optional = o.outcome == Outcome::Info;
            if optional && models[key as usize].never_needed(&op) {
                continue;
            }
            let p = *proc_index.entry(o.process).or_insert_with(|| {
                procs.push(Vec::new());
                process_ids.push(history.invocation(o).process.clone());
                (procs.len() - 1) as u32
            });
            procs[p as usize].push(ops.len() as u32);
            ops.push(Cop {
                id,
                key,
                process: p,
                optional,
                invoke: o.invoke,
                response: o.response(),
                op,
            });
        }
        Ok(Problem {
            models,
            keys,
            ops,
            procs,
            process_ids,
            memory: None,
        })
    }

    /// The sub-problem of the ops for which `keep` holds, with the same keys
    /// and processes (some may be left empty).
    pub(crate) fn restrict(&self, mut keep: impl FnMut(usize, &Cop<M::Op>) -> bool) -> Problem<M> {
        let mut ops = Vec::new();
        let mut procs = vec![Vec::new(); self.procs.len()];
        for seq in &self.procs {
            for &i in seq {
                let c = &self.ops[i as usize];
                if keep(i as usize, c) {
                    procs[c.process as usize].push(ops.len() as u32);
                    ops.push(c.clone());
                }
            }
        }
        Problem {
            models: self.models.clone(),
            keys: self.keys.clone(),
            ops,
            procs,
            process_ids: self.process_ids.clone(),
            memory: self.memory.clone(),
        }
    }

    /// Per op: its position in its process's order.
    pub(crate) fn slots(&self) -> Vec<u32> {
        let mut slot = vec![0u32; self.ops.len()];
        for seq in &self.procs {
            for (j, &i) in seq.iter().enumerate() {
                slot[i as usize] = j as u32;
            }
        }
        slot
    }

    /// Number of keys that have at least one op.
    pub(crate) fn live_keys(&self) -> Vec<u32> {
        let mut seen = vec![false; self.keys.len()];
        for c in &self.ops {
            seen[c.key as usize] = true;
        }
        (0..self.keys.len() as u32)
            .filter(|&k| seen[k as usize])
            .collect()
    }
}
