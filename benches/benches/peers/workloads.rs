//! The workloads of issue 13 (point 3), written once over [`Heap`].
//!
//! Every run ends by checking the drop counter: a workload that frees `n`
//! objects asserts that exactly `n` values were dropped, after the timed part
//! and before the next run. Each run also leaves the heap as it found it: no
//! objects of its own alive, the crate's default collection policy on.

use crate::clock::{Stopwatch, Timing};
use crate::heap::{Heap, Sizes, XorShift, drops};
use std::hint::black_box;

/// From this many objects on, a recursive walk is expected to overflow the
/// main thread's 8 MiB stack. Measured here: each recursive case overflows
/// at 1,000,000 objects and none at 100,000.
pub const OVERFLOW_SIZE: usize = 1_000_000;

/// One workload: what it times, and how many objects it is divided by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Workload {
    /// `new` + drop of a tracked `Node`, default policy.
    AllocNode,
    /// `new` + drop of an untracked `Word`, default policy.
    AllocWord,
    /// `clone` + drop of an existing `Node` handle.
    Clone,
    /// Dropping the head of a `Sizes::list()`-node list (built untimed),
    /// then a collection.
    List,
    /// The same with `Sizes::list_long()` nodes: where recursive drops
    /// overflow the stack (table only).
    ListLong,
    /// The same with `Sizes::list_huge()` nodes, gc-core only.
    ListHuge,
    /// Creating `Sizes::cycles()` garbage two-node cycles with automatic
    /// collection off, then one collection (two timings).
    Cycles,
    /// The same under the default automatic policy: creation includes the
    /// automatic collections; then one final collection.
    CyclesAuto,
    /// Collecting one garbage ring of `Sizes::graph()` nodes (built
    /// untimed).
    Ring,
    /// Dropping 90% of the root handles of a random graph whose edges go
    /// from higher to lower index, then a collection.
    GraphAcyclic,
    /// The same with edges anywhere (cycles).
    GraphCyclic,
    /// Churn of short-lived two-node cycles on an empty heap, default
    /// policy; then one collection (two timings).
    ChurnEmpty,
    /// The same churn beside `Sizes::old()` live old objects.
    ChurnOld,
    /// The Benchmarks Game's binary_trees at `Sizes::depth`.
    BinaryTrees,
}

impl Workload {
    /// Every workload, in table order.
    pub const ALL: [Workload; 14] = [
        Workload::AllocNode,
        Workload::AllocWord,
        Workload::Clone,
        Workload::List,
        Workload::ListLong,
        Workload::ListHuge,
        Workload::Cycles,
        Workload::CyclesAuto,
        Workload::Ring,
        Workload::GraphAcyclic,
        Workload::GraphCyclic,
        Workload::ChurnEmpty,
        Workload::ChurnOld,
        Workload::BinaryTrees,
    ];

    /// The criterion group and the table runner's name for it.
    pub fn id(self) -> &'static str {
        match self {
            Workload::AllocNode => "alloc_drop_node",
            Workload::AllocWord => "alloc_drop_u64",
            Workload::Clone => "clone_drop",
            Workload::List => "list_drop",
            Workload::ListLong => "list_drop_long",
            Workload::ListHuge => "list_drop_huge",
            Workload::Cycles => "cycles",
            Workload::CyclesAuto => "cycles_auto",
            Workload::Ring => "ring",
            Workload::GraphAcyclic => "graph_acyclic",
            Workload::GraphCyclic => "graph_cyclic",
            Workload::ChurnEmpty => "churn_empty",
            Workload::ChurnOld => "churn_old",
            Workload::BinaryTrees => "binary_trees",
        }
    }

    /// The workload named `id`.
    pub fn from_id(id: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.id() == id)
    }

    /// The timed parts, one table row each: (criterion id suffix, row
    /// label). A one-part workload has the suffix `""`.
    pub fn parts(self, sizes: Sizes) -> Vec<(&'static str, String)> {
        let k = |n: usize| {
            if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
                format!("{}M", n / 1_000_000)
            } else if n >= 1_000 && n.is_multiple_of(1_000) {
                format!("{}k", n / 1_000)
            } else {
                n.to_string()
            }
        };
        let one = |label: String| vec![("", label)];
        match self {
            Workload::AllocNode => one("alloc+drop, tracked node".into()),
            Workload::AllocWord => one("alloc+drop, untracked `u64`".into()),
            Workload::Clone => one("clone+drop of a handle".into()),
            Workload::List => list_parts(k(sizes.list())),
            Workload::ListLong => list_parts(k(sizes.list_long())),
            Workload::ListHuge => list_parts(k(sizes.list_huge())),
            Workload::Cycles => vec![
                (
                    "create",
                    format!("{} 2-cycles, auto off: create", k(sizes.cycles())),
                ),
                (
                    "collect",
                    format!("{} 2-cycles, auto off: collect", k(sizes.cycles())),
                ),
            ],
            Workload::CyclesAuto => vec![
                (
                    "create",
                    format!("{} 2-cycles, default policy: create", k(sizes.cycles())),
                ),
                (
                    "collect",
                    format!(
                        "{} 2-cycles, default policy: final collect",
                        k(sizes.cycles())
                    ),
                ),
            ],
            Workload::Ring => one(format!("ring of {}: collect", k(sizes.graph()))),
            Workload::GraphAcyclic => one(format!(
                "random DAG of {}: drop 90% of roots + collect",
                k(sizes.graph())
            )),
            Workload::GraphCyclic => one(format!(
                "random cyclic graph of {}: drop 90% of roots + collect",
                k(sizes.graph())
            )),
            Workload::ChurnEmpty => vec![
                (
                    "churn",
                    format!("churn of {} in 2-cycles, empty heap", k(sizes.churn())),
                ),
                ("collect", "churn, empty heap: final collect".into()),
            ],
            Workload::ChurnOld => vec![
                (
                    "churn",
                    format!(
                        "churn of {} in 2-cycles, beside {} old objects",
                        k(sizes.churn()),
                        k(sizes.old())
                    ),
                ),
                ("collect", "churn beside the old heap: final collect".into()),
            ],
            Workload::BinaryTrees => one(format!("binary_trees, depth {}", sizes.depth)),
        }
    }

    /// The number of objects each timing is divided by.
    pub fn objects(self, sizes: Sizes) -> usize {
        match self {
            Workload::AllocNode | Workload::AllocWord | Workload::Clone => sizes.ops(),
            Workload::List => sizes.list(),
            Workload::ListLong => sizes.list_long(),
            Workload::ListHuge => sizes.list_huge(),
            Workload::Cycles | Workload::CyclesAuto => 2 * sizes.cycles(),
            Workload::Ring | Workload::GraphAcyclic | Workload::GraphCyclic => sizes.graph(),
            Workload::ChurnEmpty | Workload::ChurnOld => sizes.churn() / 2 * 2,
            Workload::BinaryTrees => binary_trees_allocations(sizes.depth),
        }
    }

    /// Whether `H` can express the workload at all: `Rc` cannot free
    /// cycles, and only gc-core builds the 10,000,000-node list.
    pub fn applies<H: Heap>(self) -> bool {
        match self {
            Workload::Cycles
            | Workload::CyclesAuto
            | Workload::Ring
            | Workload::GraphCyclic
            | Workload::ChurnEmpty
            | Workload::ChurnOld => H::FREES_CYCLES,
            Workload::ListHuge => H::NAME == "gc-core",
            _ => true,
        }
    }

    /// Whether the workload is expected to overflow the 8 MiB main-thread
    /// stack for `H` at these sizes: where `H` recurses along the paths the
    /// workload builds, from [`OVERFLOW_SIZE`] objects on. The criterion
    /// suite leaves these out; the table runner finds out in a child
    /// process, and notes where this prediction was wrong.
    pub fn overflows<H: Heap>(self, sizes: Sizes) -> bool {
        let recursive = match self {
            Workload::ListLong | Workload::ListHuge => H::RECURSIVE_DROP,
            Workload::Ring => H::RECURSIVE_GARBAGE_WALK,
            Workload::GraphCyclic => H::RECURSIVE_GARBAGE_WALK || H::RECURSIVE_LIVE_WALK,
            _ => false,
        };
        recursive && self.objects(sizes) >= OVERFLOW_SIZE
    }

    /// Untimed runs worth making before the timed one in a fresh process:
    /// none for binary_trees, a whole program that warms up by itself.
    pub fn warmup_runs(self, requested: u64) -> u64 {
        if self == Workload::BinaryTrees {
            0
        } else {
            requested
        }
    }

    /// Runs the workload once for `H`: one duration per part.
    pub fn run<H: Heap>(self, sizes: Sizes) -> Vec<Timing> {
        match self {
            Workload::AllocNode => vec![alloc_drop_node::<H>(sizes.ops())],
            Workload::AllocWord => vec![alloc_drop_word::<H>(sizes.ops())],
            Workload::Clone => vec![clone_drop::<H>(sizes.ops())],
            Workload::List => list_drop::<H>(sizes.list()).to_vec(),
            Workload::ListLong => list_drop::<H>(sizes.list_long()).to_vec(),
            Workload::ListHuge => list_drop::<H>(sizes.list_huge()).to_vec(),
            Workload::Cycles => cycles::<H>(sizes.cycles(), false, H::collect).to_vec(),
            Workload::CyclesAuto => cycles::<H>(sizes.cycles(), true, H::collect).to_vec(),
            Workload::Ring => vec![ring::<H>(sizes.graph())],
            Workload::GraphAcyclic => vec![random_graph::<H>(sizes.graph(), false)],
            Workload::GraphCyclic => vec![random_graph::<H>(sizes.graph(), true)],
            Workload::ChurnEmpty => churn::<H>(0, sizes.churn()).to_vec(),
            Workload::ChurnOld => churn::<H>(sizes.old(), sizes.churn()).to_vec(),
            Workload::BinaryTrees => vec![binary_trees::<H>(sizes.depth)],
        }
    }
}

/// `n` allocations of a tracked node, each dropped at once.
fn alloc_drop_node<H: Heap>(n: usize) -> Timing {
    H::set_auto(true);
    drops::reset();
    let start = Stopwatch::start();
    for i in 0..n as u64 {
        drop(black_box(H::node(black_box(i), None)));
    }
    let elapsed = start.stop();
    // The `gc` crate frees only in collections; the last few are still
    // waiting for one.
    H::collect();
    drops::expect::<H>(n, "alloc+drop node");
    elapsed
}

/// `n` allocations of an untracked `u64`, each dropped at once.
fn alloc_drop_word<H: Heap>(n: usize) -> Timing {
    H::set_auto(true);
    drops::reset();
    let start = Stopwatch::start();
    for i in 0..n as u64 {
        drop(black_box(H::word(black_box(i))));
    }
    let elapsed = start.stop();
    let word = H::word(7);
    assert_eq!(H::word_val(&word), 7);
    drop(word);
    H::collect();
    drops::expect::<H>(n + 1, "alloc+drop u64");
    elapsed
}

/// `n` clones of one handle, each dropped at once.
fn clone_drop<H: Heap>(n: usize) -> Timing {
    H::set_auto(true);
    drops::reset();
    let handle = H::node(7, None);
    let start = Stopwatch::start();
    for _ in 0..n {
        drop(black_box(black_box(&handle).clone()));
    }
    let elapsed = start.stop();
    H::collect();
    drops::expect::<H>(0, "clone+drop: the node is still alive");
    assert_eq!(H::node_val(&handle), 7);
    drop(handle);
    H::collect();
    drops::expect::<H>(1, "clone+drop: the node");
    elapsed
}

/// The rows of a list workload: building it, and dropping it.
fn list_parts(len: String) -> Vec<(&'static str, String)> {
    vec![
        ("build", format!("list of {len}: build")),
        ("drop", format!("list of {len}: drop")),
    ]
}

/// Builds a `len`-node list with the crate's default collection policy,
/// then drops its head and runs one collection: `[build, drop]`, both
/// timed (the "build a list of N + drop it" is their sum).
fn list_drop<H: Heap>(len: usize) -> [Timing; 2] {
    drops::reset();
    let start = Stopwatch::start();
    let mut head = None;
    for i in 0..len as u64 {
        head = Some(H::node(i, head));
    }
    let build = start.stop();
    drops::expect::<H>(0, "list: nothing freed while building");
    let start = Stopwatch::start();
    drop(head);
    H::collect();
    let dropped = start.stop();
    drops::expect::<H>(len, "list");
    [build, dropped]
}

/// Creates `count` garbage two-node cycles (each pair is dropped as soon as
/// it is linked), then collects with `collect` ([`Heap::collect`] or
/// [`Heap::collect_young`]): `[creation, collection]`. With `auto` the
/// crate's default policy runs during creation; without, nothing is freed
/// before the collection. Objects that were alive before are left alone.
pub fn cycles<H: Heap>(count: usize, auto: bool, collect: fn()) -> [Timing; 2] {
    H::set_auto(auto);
    drops::reset();
    let start = Stopwatch::start();
    for i in 0..count as u64 {
        let a = H::node(2 * i, None);
        let b = H::node(2 * i + 1, Some(a.clone()));
        H::set_next(&a, Some(b));
    }
    let created = start.stop();
    if !auto {
        drops::expect::<H>(0, "2-cycles before the collection");
    }
    let freed_during_creation = drops::get();
    let start = Stopwatch::start();
    collect();
    let collected = start.stop();
    let total = drops::get();
    drops::expect::<H>(
        2 * count,
        &format!("2-cycles ({freed_during_creation} freed during creation, {total} in all)"),
    );
    H::set_auto(true);
    [created, collected]
}

/// Builds a ring of `n` nodes (untimed, automatic collection off), drops
/// its last handle, and times one collection.
pub fn ring<H: Heap>(n: usize) -> Timing {
    H::set_auto(false);
    let first = H::node(0, None);
    let mut head = first.clone();
    for i in 1..n as u64 {
        head = H::node(i, Some(head));
    }
    H::set_next(&first, Some(head));
    drop(first);
    drops::reset();
    let start = Stopwatch::start();
    H::collect();
    let elapsed = start.stop();
    drops::expect::<H>(n, "ring");
    H::set_auto(true);
    elapsed
}

/// No edge.
const NONE: u32 = u32::MAX;

/// A random graph of `n` pairs, two edges each (to a lower index, or with
/// `cyclic` to any index, itself included), built untimed with automatic
/// collection off. A fixed random 10% of the root handles are kept; the
/// timed part drops the other 90% and collects. The expected number of
/// frees is computed from the edge list.
fn random_graph<H: Heap>(n: usize, cyclic: bool) -> Timing {
    H::set_auto(false);
    let mut rng = XorShift::new(0x9E37_79B9_7F4A_7C15);
    let nodes: Vec<H::Pair> = (0..n).map(|_| H::pair(None, None)).collect();
    let mut edges = Vec::with_capacity(n);
    for (i, node) in nodes.iter().enumerate() {
        let mut pick = || match (cyclic, i) {
            (true, _) => rng.below(n) as u32,
            (false, 0) => NONE,
            (false, _) => rng.below(i) as u32,
        };
        let targets = [pick(), pick()];
        let child = |t: u32| (t != NONE).then(|| nodes[t as usize].clone());
        H::set_children(node, child(targets[0]), child(targets[1]));
        edges.push(targets);
    }
    let keep: Vec<bool> = (0..n).map(|_| rng.below(10) == 0).collect();
    let survivors = reachable(&edges, &keep);
    let mut kept = Vec::with_capacity(n / 8);
    let mut dropped = Vec::with_capacity(n);
    for (node, keep) in nodes.into_iter().zip(&keep) {
        if *keep { &mut kept } else { &mut dropped }.push(node);
    }
    drops::reset();
    let start = Stopwatch::start();
    drop(dropped);
    H::collect();
    let elapsed = start.stop();
    drops::expect::<H>(n - survivors, "random graph: the unreachable part");
    drop(kept);
    H::collect();
    drops::expect::<H>(survivors, "random graph: the rest");
    H::set_auto(true);
    elapsed
}

/// The number of nodes reachable from the nodes marked in `roots`.
fn reachable(edges: &[[u32; 2]], roots: &[bool]) -> usize {
    let mut seen = roots.to_vec();
    let mut stack: Vec<u32> = (0..roots.len() as u32)
        .filter(|&i| roots[i as usize])
        .collect();
    let mut count = stack.len();
    while let Some(i) = stack.pop() {
        for &t in &edges[i as usize] {
            if t != NONE && !seen[t as usize] {
                seen[t as usize] = true;
                count += 1;
                stack.push(t);
            }
        }
    }
    count
}

/// Under the default policy: builds `old` live objects (reachable
/// two-node cycles) and collects them into the oldest generation, untimed;
/// then creates and drops `churn / 2` garbage two-node cycles, and collects
/// once: `[churn, final collection]`. The churn's time includes whatever
/// the crate's automatic collections do; the final collection frees what
/// they left.
fn churn<H: Heap>(old: usize, churn: usize) -> [Timing; 2] {
    H::set_auto(true);
    let live = live_cycles::<H>(old);
    H::collect();
    drops::expect::<H>(0, "churn: the old heap before the churn");
    let cycles = churn as u64 / 2;
    let start = Stopwatch::start();
    for i in 0..cycles {
        let a = H::node(2 * i, None);
        let b = H::node(2 * i + 1, Some(a.clone()));
        H::set_next(&a, Some(b));
    }
    let churned = start.stop();
    let start = Stopwatch::start();
    H::collect();
    let collected = start.stop();
    drops::expect::<H>(2 * cycles as usize, "churn");
    drop(live);
    H::collect();
    drops::expect::<H>(old / 2 * 2, "churn: the old heap");
    [churned, collected]
}

/// `objects / 2` live two-node cycles (`objects`, rounded down to even):
/// one handle to each cycle.
pub fn live_cycles<H: Heap>(objects: usize) -> Vec<H::Node> {
    (0..objects as u64 / 2)
        .map(|i| {
            let a = H::node(2 * i, None);
            let b = H::node(2 * i + 1, Some(a.clone()));
            H::set_next(&a, Some(b));
            a
        })
        .collect()
}

/// A perfect binary tree of depth `depth` (children allocated first).
pub fn bottom_up_tree<H: Heap>(depth: u32) -> H::Pair {
    if depth == 0 {
        H::pair(None, None)
    } else {
        let left = bottom_up_tree::<H>(depth - 1);
        let right = bottom_up_tree::<H>(depth - 1);
        H::pair(Some(left), Some(right))
    }
}

/// Nodes in a perfect binary tree of depth `depth`.
pub fn tree_size(depth: u32) -> u64 {
    (1 << (depth + 1)) - 1
}

/// binary_trees' shallowest depth (4 in the original; less if the maximum
/// is below it).
fn min_depth(max_depth: u32) -> u32 {
    4.min(max_depth)
}

/// The nodes binary_trees allocates at `max_depth`.
fn binary_trees_allocations(max_depth: u32) -> usize {
    let min = min_depth(max_depth);
    let mut total = tree_size(max_depth + 1) + tree_size(max_depth);
    for depth in (min..=max_depth).step_by(2) {
        total += (1 << (max_depth - depth + min)) * tree_size(depth);
    }
    total as usize
}

/// The Benchmarks Game's binary_trees (single-threaded, no output; each
/// `check` is asserted instead), under the default policy.
fn binary_trees<H: Heap>(max_depth: u32) -> Timing {
    H::set_auto(true);
    drops::reset();
    let min = min_depth(max_depth);
    let start = Stopwatch::start();
    let stretch = bottom_up_tree::<H>(max_depth + 1);
    assert_eq!(H::check(&stretch), tree_size(max_depth + 1));
    drop(stretch);
    let long_lived = bottom_up_tree::<H>(max_depth);
    for depth in (min..=max_depth).step_by(2) {
        let iterations = 1u64 << (max_depth - depth + min);
        let mut check = 0;
        for _ in 0..iterations {
            let tree = bottom_up_tree::<H>(depth);
            check += H::check(&tree);
        }
        assert_eq!(check, iterations * tree_size(depth));
    }
    assert_eq!(H::check(&long_lived), tree_size(max_depth));
    drop(long_lived);
    let elapsed = start.stop();
    H::collect();
    drops::expect::<H>(binary_trees_allocations(max_depth), "binary_trees");
    elapsed
}
