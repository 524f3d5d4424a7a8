//! Heap snapshots for Chrome DevTools: objgraph's leak, seen in the Memory
//! panel.
//!
//! objgraph's documentation hunts a leak in `computate_something`, which
//! stores two `MyBigFatObject`s in a module-level `_cache` on every call
//! and never clears it. Here the module is a thread-local `Gc<Module>` with
//! a `_cache` field. The program writes a snapshot before and one after
//! calling the function, and prints how to compare them: DevTools'
//! Comparison view lists the `Entry`s and `MyBigFatObject`s that appeared in
//! between, and their retainers name `_cache[i]` and the field.
//!
//! ```text
//! cargo run --example heap_snapshot [-- <directory>]
//! cargo run --release --example heap_snapshot -- --million [<directory>]
//! ```
//!
//! `--million` builds a million tracked objects instead and reports the
//! snapshot's size and how long writing it took.

use std::path::{Path, PathBuf};
use std::time::Instant;

use gc_core::objgraph::{self, SnapshotStats};
use gc_core::{self as gc, Gc, Trace};

// The program: `gc_examples::cache_leak` (examples/src/lib.rs), objgraph's
// `computate_something` and the module whose `_cache` it fills.
use gc_examples::cache_leak::{computate_something, module};

fn main() -> std::io::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let million = args.iter().any(|a| a == "--million");
    args.retain(|a| a != "--million");
    let dir = args.pop().map_or_else(std::env::temp_dir, PathBuf::from);
    if million {
        return measure_a_million(&dir);
    }

    // ANCHOR: snapshots
    drop(module()); // the module exists before the first snapshot
    let before = dir.join("gc-core-before.heapsnapshot");
    let stats = objgraph::write_heap_snapshot(&before)?;
    report(&before, &stats);

    for seed in 0..10 {
        computate_something(seed * 10);
    }

    let after = dir.join("gc-core-after.heapsnapshot");
    let stats = objgraph::write_heap_snapshot(&after)?;
    report(&after, &stats);
    // ANCHOR_END: snapshots

    println!(
        "\nTo look at them in Chrome (or Chromium): open DevTools (F12) on any page, \
         Memory tab, \"Load profile...\" (the upload button), and load both files. \
         Select the second and switch the view from Summary to Comparison, compared \
         with the first: 10 new Entry and 20 new MyBigFatObject objects, none freed \
         (the Module has the same id in both, so it is not new). Click a \
         MyBigFatObject: its Retainers read `foo in Entry @5`, then \
         `_cache[0] in Module @3`, the module the thread-local holds, one step from \
         (GC roots). book/src/images/heap-snapshot-comparison.png shows it."
    );
    println!(
        "memlab reads them too: `node tests/memlab/check.js` does, through \
         require('@memlab/heap-analysis').getFullHeapFromFile(path)."
    );
    Ok(())
}

fn report(path: &Path, stats: &SnapshotStats) {
    println!(
        "wrote {}: {} nodes ({} objects, {} untracked leaves), {} edges, {} bytes",
        path.display(),
        stats.nodes,
        stats.objects,
        stats.leaves,
        stats.edges,
        stats.bytes,
    );
}

/// A tree node: a million of these.
#[derive(Trace)]
struct Node {
    value: u64,
    name: Option<Gc<String>>,
    children: Vec<Gc<Node>>,
}

/// Builds a million tracked objects (a tree of fan-out 10 over 900,000
/// leaves, one leaf in 100 naming itself with a `Gc<String>`), writes a
/// snapshot, and reports its size and write time.
fn measure_a_million(dir: &Path) -> std::io::Result<()> {
    let mut layer: Vec<Gc<Node>> = (0..900_000u64)
        .map(|value| {
            let name = value
                .is_multiple_of(100)
                .then(|| Gc::new(format!("leaf {value}")));
            Gc::new(Node {
                value,
                name,
                children: Vec::new(),
            })
        })
        .collect();
    while layer.len() > 1 {
        let mut chunks = layer.into_iter().peekable();
        let mut parents = Vec::new();
        while chunks.peek().is_some() {
            let children: Vec<Gc<Node>> = chunks.by_ref().take(10).collect();
            let value = children.iter().map(|c| c.value).sum();
            parents.push(Gc::new(Node {
                value,
                name: None,
                children,
            }));
        }
        layer = parents;
    }
    let tracked = gc::count_objects(None);
    let path = dir.join("gc-core-million.heapsnapshot");
    gc::collect();
    let start = Instant::now();
    let stats = objgraph::write_heap_snapshot(&path)?;
    let first = start.elapsed();
    let start = Instant::now();
    let second = objgraph::write_heap_snapshot(&path)?;
    let again = start.elapsed();
    println!(
        "{tracked} tracked objects: {} nodes, {} edges, {:.1} MB ({} bytes), written in {:.2} s \
         (a second snapshot, the ids known: {:.2} s, {} bytes)",
        stats.nodes,
        stats.edges,
        stats.bytes as f64 / 1e6,
        stats.bytes,
        first.as_secs_f64(),
        again.as_secs_f64(),
        second.bytes,
    );
    println!("file: {}", path.display());
    drop(layer);
    Ok(())
}
