//! The memory the binary uses: a counting global allocator, and the
//! default memory budget drawn from the machine.
//!
//! The allocator is the system's, with a counter beside it (the bytes
//! allocated now): the probe of the library's
//! [`Budget`](labrys::memory::Budget). What the counters miss (the
//! program's code, thread stacks, the allocator's own bookkeeping and
//! fragmentation) is why the default budget is a fraction of what the
//! machine allows, not all of it.

use labrys::history::{self, Error};
use labrys::memory::{self, Budget};
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn grew(by: usize) {
    IN_USE.fetch_add(by, Ordering::Relaxed);
}

fn shrank(by: usize) {
    IN_USE.fetch_sub(by, Ordering::Relaxed);
}

// SAFETY: every call is passed to the system allocator unchanged; the
// counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}

/// Bytes allocated now (the probe of the memory budget).
pub fn in_use() -> usize {
    IN_USE.load(Ordering::Relaxed)
}

/// The default budget: the least of half the address space left under
/// its limit (`RLIMIT_AS`, `ulimit -v`, less what the process maps
/// already), three quarters of the cgroup's memory limit (`memory.max`,
/// cgroup v2) and three quarters of the memory available (`MemAvailable`
/// in `/proc/meminfo`), those that are set and readable; `None` when none
/// is.
pub fn default_budget() -> Option<usize> {
    [
        address_space_limit().map(|n| n.saturating_sub(mapped().unwrap_or(0)) / 2),
        cgroup_limit().map(|n| n / 4 * 3),
        available().map(|n| n / 4 * 3),
    ]
    .into_iter()
    .flatten()
    .min()
}

/// Under an address-space limit, keeps glibc's allocator to one arena:
/// it reserves 64 MiB of address space for each extra arena (one per
/// thread that meets contention), which counts against the limit without
/// holding any data (the run's address space would be several times the
/// bytes it allocates).
pub fn fit_address_space() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if address_space_limit().is_some() {
        extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        const M_ARENA_MAX: i32 = -8;
        // SAFETY: mallopt only sets a tunable of the C allocator, and may
        // be called at any time.
        unsafe {
            mallopt(M_ARENA_MAX, 1);
        }
    }
}

/// The address space the process maps now (`VmSize`), in bytes.
fn mapped() -> Option<usize> {
    kib_field("/proc/self/status", "VmSize:")
}

/// A field in KiB of a `/proc` file such as `/proc/meminfo`, in bytes.
fn kib_field(file: &str, name: &str) -> Option<usize> {
    let text = std::fs::read_to_string(file).ok()?;
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib: usize = line[name.len()..].split_whitespace().next()?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// `RLIMIT_AS`, when set: the second field of `/proc/self/limits`'s
/// "Max address space" line.
fn address_space_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max address space"))?;
    line["Max address space".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The cgroup v2 memory limit of this process, when set.
fn cgroup_limit() -> Option<usize> {
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = cgroup.lines().find_map(|l| l.strip_prefix("0::"))?;
    let max = std::fs::read_to_string(format!("/sys/fs/cgroup{path}/memory.max")).ok()?;
    max.trim().parse().ok()
}

/// `MemAvailable`, in bytes.
fn available() -> Option<usize> {
    kib_field("/proc/meminfo", "MemAvailable:")
}

/// The memory budget of a run: `--max-memory` if given, else the
/// [default](default_budget); the counting allocator is its probe.
pub fn budget(max_memory: Option<usize>) -> Option<Budget> {
    max_memory
        .or_else(default_budget)
        .map(|limit| Budget::new(limit, in_use))
}

/// Parses `--max-memory`.
pub fn parse_size(text: &str) -> Result<usize, String> {
    memory::parse_bytes(text).ok_or_else(|| format!("{text:?}: expected a size such as 512M or 2G"))
}

/// Refuses, before reading it, a file whose loading may take more than
/// what is left of the memory budget (see [`history::LOAD_FACTOR`]).
pub fn fits(path: &Path, budget: &Budget) -> Result<(), Error> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(()); // the loader says why it cannot read it
    };
    let need = usize::try_from(meta.len())
        .unwrap_or(usize::MAX)
        .saturating_mul(history::LOAD_FACTOR);
    if budget.room_for(need) {
        return Ok(());
    }
    Err(Error::msg(format!(
        "the file is {}, and loading it may take up to {} ({} times its size): \
         more than the memory budget of {} has room for (--max-memory)",
        memory::bytes(meta.len() as usize),
        memory::bytes(need),
        history::LOAD_FACTOR,
        memory::bytes(budget.limit()),
    ))
    .in_file(path))
}
