//! Helpers shared by the integration tests: running the binary, and
//! finding the reference corpus.

#![allow(dead_code)] // each test binary uses only some of them

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs the `labrys` binary with `args`, without colour.
pub fn labrys(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_labrys"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run labrys")
}

/// The reference corpus, from `LABRYS_CORPUS`; when it is unset, says the
/// test was skipped and gives `None`.
pub fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("LABRYS_CORPUS").map(PathBuf::from);
    if dir.is_none() {
        eprintln!("skipped: LABRYS_CORPUS is not set, the reference corpus was not checked");
    }
    dir
}

/// The path of a teaching history under `histories/`.
pub fn history(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("histories")
        .join(name)
        .display()
        .to_string()
}

/// A fresh, empty scratch directory for one test, under the system's
/// temporary directory.
pub fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labrys-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}
