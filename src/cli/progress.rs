//! Progress on long runs, and Ctrl-C (or SIGTERM).
//!
//! The checkers only bump atomic counters ([`Progress`]); this module draws
//! them with indicatif on standard error, only when standard error is a
//! terminal, and only once a run has lasted longer than a moment, so quick
//! runs and CI logs stay clean.
//!
//! The first Ctrl-C sets the cancel flag: every search stops, says
//! *unknown* for what it had not decided, and the report of what is known
//! so far is printed. A second Ctrl-C exits at once. SIGTERM (what
//! `timeout` and CI runners send) and SIGHUP are handled the same way, so
//! a run stopped from outside still reports what it knows.

use labrys::check::Progress;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a run goes before a bar appears.
const DELAY: Duration = Duration::from_millis(700);

/// Installs the handler of Ctrl-C, SIGTERM and SIGHUP that sets `cancel`
/// (a second signal of any of them: exit).
pub fn on_interrupt(cancel: Arc<AtomicBool>) {
    // Failing to install the handler (one is already set) only loses the
    // early report on Ctrl-C; it is not worth failing the run for.
    let _ = ctrlc::set_handler(move || {
        if cancel.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!(
            "\ninterrupted: finishing with what is known so far (Ctrl-C or SIGTERM again to quit)"
        );
    });
}

/// A progress bar drawn from a background thread while a run lasts.
pub struct Bar {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Bar {
    /// Starts drawing `progress` for a run over `files` files, of which
    /// `files_done` are finished. Draws nothing unless stderr is a terminal.
    pub fn start(progress: Arc<Progress>, files: usize, files_done: Arc<AtomicUsize>) -> Bar {
        let stop = Arc::new(AtomicBool::new(false));
        if !std::io::stderr().is_terminal() {
            return Bar { stop, thread: None };
        }
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut bar: Option<indicatif::ProgressBar> = None;
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if started.elapsed() < DELAY {
                    continue;
                }
                let b = bar.get_or_insert_with(|| {
                    let b = indicatif::ProgressBar::new_spinner();
                    b.enable_steady_tick(Duration::from_millis(120));
                    b
                });
                let parts_total = progress.partitions_total.load(Ordering::Relaxed);
                let parts_done = progress.partitions_done.load(Ordering::Relaxed);
                let depth = progress.depth.load(Ordering::Relaxed);
                let ops = progress.ops_total.load(Ordering::Relaxed);
                let mut msg = format!(
                    "checking: files {}/{}",
                    files_done.load(Ordering::Relaxed),
                    files
                );
                if parts_total > 0 {
                    msg.push_str(&format!(", partitions {parts_done}/{parts_total}"));
                }
                if depth > 0 {
                    msg.push_str(&format!(", search depth {depth}"));
                    if ops > 0 {
                        msg.push_str(&format!(" of {ops} ops"));
                    }
                }
                msg.push_str(&format!(", {:.0?}", started.elapsed()));
                b.set_message(msg);
            }
            if let Some(b) = bar {
                b.finish_and_clear();
            }
        });
        Bar {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
