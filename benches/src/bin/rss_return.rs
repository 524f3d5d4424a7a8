//! Does memory go back to the system? Builds a 10,000,000-node list (the
//! benches' node shape), frees it, and prints the resident set size (Linux
//! `/proc/self/statm`) at the start, at the peak, right after freeing and
//! after 300 ms of light work; then the same for 10,000,000 untracked
//! `Gc<u64>` in a `Vec`.
//!
//! ```sh
//! cargo run --release -p gc-benches --bin rss_return [-- N]
//! ```
//!
//! The start is measured after the program's first allocation, so that
//! it includes the heap's and the allocator's own state. Freed pools stay
//! resident for reuse until the program has gone on freeing for
//! `PURGE_DELAY` (200 ms; `gc-core/src/layout/alloc.rs`), hence the light
//! work before the last figure. CPython keeps its arenas: its resident set
//! stays at the peak.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use gc_core::{Gc, Trace};

#[derive(Trace)]
struct Node {
    next: RefCell<Option<Gc<Node>>>,
    #[allow(dead_code)]
    val: u64,
}

/// The resident set, in KiB.
fn rss_kib() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("statm's second field");
    pages * 4
}

/// A list of `n` nodes, the last one first.
fn list(n: usize) -> Option<Gc<Node>> {
    let mut head = None;
    for i in 0..n {
        head = Some(Gc::new(Node {
            next: RefCell::new(head.take()),
            val: i as u64,
        }));
    }
    head
}

/// Light work for 300 ms: a 1,000-node list built and freed every
/// millisecond.
fn go_on() {
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(300) {
        drop(list(1_000));
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn report(what: &str, start: usize, now: usize) {
    let change = (now as f64 - start as f64) / start as f64 * 100.0;
    println!("{what:<34} {now:>9} KiB  ({change:+.1}% of the start)");
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(10_000_000, |arg| arg.parse().expect("N"));
    drop(list(1));
    gc_core::collect();
    let start = rss_kib();
    println!("{:<34} {start:>9} KiB", "start");

    let head = list(n);
    let peak = rss_kib();
    report("peak, the list alive", start, peak);
    println!(
        "{:<34} {:>9.1} bytes per node",
        "",
        (peak - start) as f64 * 1024.0 / n as f64
    );
    drop(head);
    gc_core::collect();
    report("right after freeing it", start, rss_kib());
    go_on();
    report("after 300 ms of light work", start, rss_kib());

    let values: Vec<Gc<u64>> = (0..n as u64).map(Gc::new).collect();
    report("peak, untracked Gc<u64> alive", start, rss_kib());
    drop(values);
    go_on();
    report("after freeing and 300 ms of work", start, rss_kib());
}
