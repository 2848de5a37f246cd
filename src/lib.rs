//! labrys checks Jepsen-style histories for consistency anomalies:
//! linearizability, sequential consistency and eventual convergence.
//!
//! A history is what a test recorded: every operation's invocation and
//! completion, from every client, in real-time order. labrys loads it in
//! any of Jepsen's formats or JSON ([`history`]), checks it against a
//! sequential specification ([`model`]) with one or more checkers
//! ([`check`]), and renders what it found ([`report`]).
//!
//! The checking core (`history`, `model`, `check`) does no I/O beyond
//! reading the history it is given and never prints.

#![deny(missing_docs)]

pub mod check;
pub mod gen;
pub mod history;
pub mod memory;
pub mod model;
pub mod report;
