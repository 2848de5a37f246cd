//! The `labrys` command: a thin layer over the library.
//!
//! Exit status: 0 every check valid, 1 an anomaly found, 2 usage or input
//! error, 3 inconclusive (no anomaly found, but some check ran out of time
//! or memory, or had nothing to judge).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
