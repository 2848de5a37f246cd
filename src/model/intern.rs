//! Interning: values replaced by small integer ids at compile time, so that
//! model steps compare integers instead of values.
//!
//! Id [`NIL`] is reserved for `nil`; every other value gets the next id the
//! first time it is seen. Ids are dense, so models may index tables by them.

use crate::history::Value;
use std::collections::HashMap;

/// The id of `nil`, in every interner.
pub(crate) const NIL: u32 = 0;

/// A two-way table between values and dense `u32` ids.
#[derive(Clone, Debug)]
pub(crate) struct Interner {
    values: Vec<Value>,
    ids: HashMap<Value, u32>,
}

impl Default for Interner {
    fn default() -> Self {
        Interner::new()
    }
}

impl Interner {
    /// An interner that knows only `nil` (as [`NIL`]).
    pub(crate) fn new() -> Self {
        let mut ids = HashMap::new();
        ids.insert(Value::Nil, NIL);
        Interner {
            values: vec![Value::Nil],
            ids,
        }
    }

    /// The id of `v`, assigning the next one if `v` is new.
    pub(crate) fn intern(&mut self, v: &Value) -> u32 {
        if let Some(&id) = self.ids.get(v) {
            return id;
        }
        let id = u32::try_from(self.values.len()).expect("fewer than 2^32 distinct values");
        self.values.push(v.clone());
        self.ids.insert(v.clone(), id);
        id
    }

    /// The value of an id this interner gave out.
    pub(crate) fn value(&self, id: u32) -> &Value {
        &self.values[id as usize]
    }

    /// How many ids have been given out (including [`NIL`]).
    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_values_to_dense_ids_with_nil_first() {
        let mut i = Interner::new();
        assert_eq!(i.intern(&Value::Nil), NIL);
        let a = i.intern(&Value::Int(7));
        let b = i.intern(&Value::from("x"));
        assert_eq!((a, b), (1, 2));
        assert_eq!(i.intern(&Value::Int(7)), a);
        assert_eq!(i.value(b), &Value::from("x"));
        assert_eq!(i.len(), 3);
    }
}
