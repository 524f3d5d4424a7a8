//! A heap snapshot read by memlab, the tool that finds leaks in V8 heaps:
//! the `_cache` leak of objgraph's docs, written by
//! `objgraph::write_heap_snapshot` and checked by `tests/memlab/check.js`
//! through memlab's `getFullHeapFromFile`: node and edge counts equal those
//! counted here from the heap, and the leaked object's retainer path names
//! `_cache` and the field that holds it.
//!
//! Needs Node.js and `tests/memlab/node_modules`
//! (`PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefix tests/memlab`). Without them
//! the test prints why and passes, unless `GC_REQUIRE_MEMLAB=1` (set by
//! `.ci/run`), which makes it fail.

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use gc_core::objgraph;
use gc_core::{self as gc, Gc, Trace};

/// A module with a cache that a function fills and nobody clears.
#[derive(Trace)]
struct Module {
    _cache: RefCell<Vec<Gc<Job>>>,
}

#[derive(Trace)]
struct Job {
    key: u32,
    payload: Gc<Payload>,
}

#[derive(Trace)]
struct Payload {
    tag: Gc<String>,
    data: Vec<u8>,
}

thread_local! {
    static MODULE: Gc<Module> = Gc::new(Module { _cache: RefCell::new(Vec::new()) });
}

/// The leak: every job is cached, and the cache is never cleared.
fn handle(key: u32) {
    let payload = Gc::new(Payload {
        tag: Gc::new(format!("leak {key}")),
        data: vec![0; 64],
    });
    let job = Gc::new(Job { key, payload });
    MODULE.with(|m| m._cache.borrow_mut().push(job));
}

/// Node and edge counts as the heap's public API sees them: every tracked
/// object, the untracked objects they refer to, and the root; every
/// object's referents plus an edge from the root to each root object.
fn expected_counts() -> (usize, usize) {
    let objects = gc::get_objects(None);
    let mut leaves = HashSet::new();
    let mut edges = objgraph::roots().len();
    for obj in &objects {
        let referents = obj.referents();
        edges += referents.len();
        for r in referents {
            if !gc::is_tracked(&r) {
                leaves.insert(r.id());
            }
        }
    }
    (1 + objects.len() + leaves.len(), edges)
}

#[test]
#[cfg_attr(miri, ignore = "runs Node.js")]
fn memlab_reads_the_snapshot_and_finds_the_cache_that_leaks() {
    let memlab = Path::new(env!("CARGO_MANIFEST_DIR")).join("memlab");
    let required = std::env::var("GC_REQUIRE_MEMLAB").is_ok_and(|v| v == "1");
    let node_ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let installed = memlab.join("node_modules/@memlab/heap-analysis").is_dir();
    if !(node_ok && installed) {
        let why = if node_ok {
            "tests/memlab/node_modules is missing (PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefix tests/memlab)"
        } else {
            "Node.js (`node`) is not installed"
        };
        assert!(!required, "GC_REQUIRE_MEMLAB=1 but {why}");
        println!("skipped: {why}");
        return;
    }

    gc::collect();
    for key in 0..5 {
        handle(key);
    }
    let (nodes, edges) = expected_counts();
    let path = std::env::temp_dir().join(format!(
        "gc-core-memlab-{}.heapsnapshot",
        std::process::id()
    ));
    let stats = objgraph::write_heap_snapshot(&path).unwrap();
    assert_eq!((stats.nodes, stats.edges), (nodes, edges));
    // The module, five jobs and five payloads; five tags.
    assert_eq!((stats.objects, stats.leaves, stats.roots), (11, 5, 1));

    let expected = format!(
        r#"{{"nodes":{nodes},"edges":{edges},"leaked_tag":"leak 2","path":"(GC roots) --[0]--> Module --_cache[2]--> Job --payload--> Payload"}}"#
    );
    let output = Command::new("node")
        .arg(memlab.join("check.js"))
        .arg(&path)
        .arg(&expected)
        .output()
        .expect("node runs");
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "check.js failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("check.js: OK"));
    MODULE.with(|m| m._cache.borrow_mut().clear());
}
