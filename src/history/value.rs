//! Values carried by operations.
//!
//! One value type serves every input format: EDN's nil, booleans, integers,
//! floats, strings, keywords, symbols, vectors, lists, sets, maps and tagged
//! literals, and JSON's null, booleans, numbers, strings, arrays and objects.
//! Keywords are stored without their leading colon. Lists and vectors are
//! both [`Value::Vector`]; sets are kept sorted and free of duplicates so
//! that equal sets compare equal.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// A 64-bit float with a total order (by IEEE bits), so values can be hashed.
#[derive(Clone, Copy, Debug)]
pub struct Float(pub f64);

impl PartialEq for Float {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}
impl Eq for Float {}
impl Hash for Float {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state)
    }
}
impl PartialOrd for Float {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Float {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// A value in a history: an op's `value`, `key`, `error` or any extra field.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    /// EDN `nil`, JSON `null`.
    Nil,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// A floating-point number.
    Float(Float),
    /// A string.
    Str(Box<str>),
    /// An EDN keyword, without its leading colon (`:ok` is `Keyword("ok")`).
    Keyword(Box<str>),
    /// An EDN symbol.
    Symbol(Box<str>),
    /// An EDN vector or list, or a JSON array.
    Vector(Vec<Value>),
    /// An EDN set `#{...}`: sorted, without duplicates.
    Set(Vec<Value>),
    /// An EDN map or JSON object, in source order.
    Map(Vec<(Value, Value)>),
    /// An EDN tagged literal such as `#inst "..."`.
    Tagged(Box<str>, Box<Value>),
}

impl Value {
    /// Builds a set value: sorts and removes duplicates.
    pub fn set(mut items: Vec<Value>) -> Value {
        items.sort();
        items.dedup();
        Value::Set(items)
    }

    /// Is this `nil`?
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The text of a string, keyword or symbol.
    pub fn as_name(&self) -> Option<&str> {
        match self {
            Value::Str(s) | Value::Keyword(s) | Value::Symbol(s) => Some(s),
            _ => None,
        }
    }

    /// The items of a vector (or list), if this is one.
    pub fn as_vector(&self) -> Option<&[Value]> {
        match self {
            Value::Vector(v) => Some(v),
            _ => None,
        }
    }

    /// The items of a vector, list or set.
    pub fn as_collection(&self) -> Option<&[Value]> {
        match self {
            Value::Vector(v) | Value::Set(v) => Some(v),
            _ => None,
        }
    }

    /// Looks up a key in a map value by keyword or string name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_name() == Some(name))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// A short name for the kind of value, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Str(_) => "a string",
            Value::Keyword(_) => "a keyword",
            Value::Symbol(_) => "a symbol",
            Value::Vector(_) => "a vector",
            Value::Set(_) => "a set",
            Value::Map(_) => "a map",
            Value::Tagged(..) => "a tagged value",
        }
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.into())
    }
}

/// Renders the value in EDN syntax, as Jepsen prints it.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn seq(f: &mut fmt::Formatter<'_>, items: &[Value]) -> fmt::Result {
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{v}")?;
            }
            Ok(())
        }
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{:?}", x.0),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Keyword(k) => write!(f, ":{k}"),
            Value::Symbol(s) => f.write_str(s),
            Value::Vector(v) => {
                f.write_str("[")?;
                seq(f, v)?;
                f.write_str("]")
            }
            Value::Set(v) => {
                f.write_str("#{")?;
                seq(f, v)?;
                f.write_str("}")
            }
            Value::Map(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} {v}")?;
                }
                f.write_str("}")
            }
            Value::Tagged(tag, v) => write!(f, "#{tag} {v}"),
        }
    }
}

/// Reads a value back from the JSON [`Value`]'s serialization writes:
/// strings are read as strings (keywords and symbols were written as
/// strings too), arrays as vectors, objects as maps with string keys.
impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        fn from(v: serde_json::Value) -> Value {
            match v {
                serde_json::Value::Null => Value::Nil,
                serde_json::Value::Bool(b) => Value::Bool(b),
                serde_json::Value::Number(n) => match n.as_i64() {
                    Some(i) => Value::Int(i),
                    None => Value::Float(Float(n.as_f64().unwrap_or(f64::NAN))),
                },
                serde_json::Value::String(s) => Value::Str(s.into()),
                serde_json::Value::Array(a) => Value::Vector(a.into_iter().map(from).collect()),
                serde_json::Value::Object(m) => Value::Map(
                    m.into_iter()
                        .map(|(k, v)| (Value::Str(k.into()), from(v)))
                        .collect(),
                ),
            }
        }
        serde_json::Value::deserialize(d).map(from)
    }
}

/// Serializes to JSON as Jepsen's JSON exports do: keywords and symbols
/// become plain strings, sets become sorted arrays, maps with name keys
/// become objects (other maps become arrays of `[key, value]` pairs).
impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Value::Nil => s.serialize_none(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(x) => s.serialize_f64(x.0),
            Value::Str(t) | Value::Keyword(t) | Value::Symbol(t) => s.serialize_str(t),
            Value::Vector(v) | Value::Set(v) => {
                let mut seq = s.serialize_seq(Some(v.len()))?;
                for item in v {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Map(entries) if entries.iter().all(|(k, _)| k.as_name().is_some()) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k.as_name().unwrap_or_default(), v)?;
                }
                map.end()
            }
            Value::Map(entries) => {
                let mut seq = s.serialize_seq(Some(entries.len()))?;
                for (k, v) in entries {
                    seq.serialize_element(&(k, v))?;
                }
                seq.end()
            }
            Value::Tagged(_, v) => v.serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_edn() {
        let v = Value::Vector(vec![
            Value::Int(1),
            Value::Keyword("ok".into()),
            Value::set(vec![Value::Int(3), Value::Int(2), Value::Int(3)]),
            Value::Str("a b".into()),
            Value::Nil,
        ]);
        assert_eq!(v.to_string(), r#"[1 :ok #{2 3} "a b" nil]"#);
    }

    #[test]
    fn serializes_keywords_as_strings() {
        let v = Value::Map(vec![(
            Value::Keyword("f".into()),
            Value::Keyword("read".into()),
        )]);
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"f":"read"}"#);
    }
}
