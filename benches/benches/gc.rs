//! Criterion benchmarks of `gc-core` against `std::rc::Rc` (issue 2, point 12).
//!
//! Run with `cargo bench -p gc-benches --bench gc`; see `benches/README.md` for
//! what each benchmark measures and the figures measured so far.
//!
//! The node types implement `Trace` by hand, exactly as `#[derive(Trace)]`
//! expands: every field through `tracer.field(name, ..)`. The `labels` group
//! compares them with otherwise identical types whose `trace` reports the same
//! edges without any label wrapper.

use std::cell::RefCell;
use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use gc_core::{Gc, Trace, Tracer};

/// Two-object cycles per collection benchmark.
const CYCLES: usize = 500_000;
/// Objects per collection benchmark.
const OBJECTS: usize = 2 * CYCLES;
/// Objects allocated (and then dropped together) per batched allocation run.
const BATCH: usize = 1_000;

// ---------------------------------------------------------------------------
// Node types
// ---------------------------------------------------------------------------

/// The tracked node of the issue, with a derive-style labelled `Trace`.
struct Node {
    next: RefCell<Option<Gc<Node>>>,
    val: u64,
}

// SAFETY: reports the one `Gc` the node owns, once (what the derive emits).
unsafe impl Trace for Node {
    #[inline]
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        tracer.field("next", |t| self.next.trace(t));
        tracer.field("val", |t| self.val.trace(t));
    }
}

impl gc_core::TraceMeta for Node {
    const TRACKED: bool = true;
}

/// [`Node`] with an unlabelled `Trace`: the same edges, no `field` wrapper.
struct PlainNode {
    next: RefCell<Option<Gc<PlainNode>>>,
    val: u64,
}

// SAFETY: reports the one `Gc` the node owns, once.
unsafe impl Trace for PlainNode {
    #[inline]
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        self.next.trace(tracer);
        self.val.trace(tracer);
    }
}

impl gc_core::TraceMeta for PlainNode {
    const TRACKED: bool = true;
}

/// A node whose edges live in a `Vec`: `Vec`'s own `Trace` labels each
/// element with `tracer.index(i, ..)`, and the field with `tracer.field`.
struct ListNode {
    edges: RefCell<Vec<Gc<ListNode>>>,
    val: u64,
}

// SAFETY: reports each owned `Gc` once, through `Vec`'s `Trace`.
unsafe impl Trace for ListNode {
    #[inline]
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        tracer.field("edges", |t| self.edges.trace(t));
        tracer.field("val", |t| self.val.trace(t));
    }
}

impl gc_core::TraceMeta for ListNode {
    const TRACKED: bool = true;
}

/// [`ListNode`] whose `Trace` walks the `Vec` itself: neither `field` nor
/// `index` wrappers. The cell is read as gc-core's `RefCell` impl reads it
/// (an unguarded borrow), so that labels are the only difference.
struct PlainListNode {
    edges: RefCell<Vec<Gc<PlainListNode>>>,
    val: u64,
}

// SAFETY: reports each owned `Gc` once; a mutably borrowed cell is skipped,
// as `RefCell`'s own `Trace` does.
unsafe impl Trace for PlainListNode {
    #[inline]
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        // SAFETY: the reference lives only for this call, during which no
        // code runs that could borrow the cell mutably (tracers run no user
        // code), exactly as in gc-core's `Trace for RefCell`.
        if let Ok(edges) = unsafe { self.edges.try_borrow_unguarded() } {
            for edge in edges {
                tracer.edge(edge);
            }
        }
        self.val.trace(tracer);
    }
}

impl gc_core::TraceMeta for PlainListNode {
    const TRACKED: bool = true;
}

/// The [`Node`] shape with `Rc`, for the alloc+drop comparison.
struct RcNode {
    next: RefCell<Option<Rc<RcNode>>>,
    val: u64,
}

/// The node types the collection benchmarks are generic over.
trait BenchNode: Trace + Sized + 'static {
    /// A fresh node with no edges.
    fn make(val: u64) -> Gc<Self>;
    /// Adds the edge `from -> to`.
    fn link(from: &Gc<Self>, to: &Gc<Self>);
}

impl BenchNode for Node {
    fn make(val: u64) -> Gc<Self> {
        Gc::new(Node {
            next: RefCell::new(None),
            val,
        })
    }

    fn link(from: &Gc<Self>, to: &Gc<Self>) {
        *from.next.borrow_mut() = Some(to.clone());
    }
}

impl BenchNode for PlainNode {
    fn make(val: u64) -> Gc<Self> {
        Gc::new(PlainNode {
            next: RefCell::new(None),
            val,
        })
    }

    fn link(from: &Gc<Self>, to: &Gc<Self>) {
        *from.next.borrow_mut() = Some(to.clone());
    }
}

impl BenchNode for ListNode {
    fn make(val: u64) -> Gc<Self> {
        Gc::new(ListNode {
            edges: RefCell::new(Vec::new()),
            val,
        })
    }

    fn link(from: &Gc<Self>, to: &Gc<Self>) {
        from.edges.borrow_mut().push(to.clone());
    }
}

impl BenchNode for PlainListNode {
    fn make(val: u64) -> Gc<Self> {
        Gc::new(PlainListNode {
            edges: RefCell::new(Vec::new()),
            val,
        })
    }

    fn link(from: &Gc<Self>, to: &Gc<Self>) {
        from.edges.borrow_mut().push(to.clone());
    }
}

/// Builds `CYCLES` two-object cycles `a <-> b` (`a` allocated first) and
/// returns the `a` of each, so that dropping the result leaves them all as
/// garbage. Automatic collection must be off.
fn build_cycles<N: BenchNode>() -> Vec<Gc<N>> {
    assert!(
        !gc_core::is_enabled(),
        "build with automatic collection off"
    );
    let mut roots = Vec::with_capacity(CYCLES);
    for i in 0..CYCLES as u64 {
        let a = N::make(2 * i);
        let b = N::make(2 * i + 1);
        N::link(&a, &b);
        N::link(&b, &a);
        roots.push(a);
    }
    roots
}

/// Starts a collection benchmark from an empty heap with automatic
/// collection off.
fn quiet_heap() {
    gc_core::disable();
    gc_core::collect();
}

// ---------------------------------------------------------------------------
// Benchmarks
// ---------------------------------------------------------------------------

/// Settings for the nanosecond-scale benchmarks.
fn micro<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    group
}

/// Settings for the 1,000,000-object collection benchmarks.
fn large<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(OBJECTS as u64));
    group
}

/// `Gc::new` + drop against `Rc::new` + drop.
fn alloc_drop(c: &mut Criterion) {
    gc_core::enable();
    let mut group = micro(c, "alloc_drop");

    group.bench_function("u64/Rc", |b| {
        b.iter(|| drop(black_box(Rc::new(black_box(7u64)))));
    });
    group.bench_function("u64/Gc", |b| {
        b.iter(|| drop(black_box(Gc::new(black_box(7u64)))));
    });

    let rc_node = || RcNode {
        next: RefCell::new(None),
        val: black_box(7),
    };
    let gc_node = || Node {
        next: RefCell::new(None),
        val: black_box(7),
    };
    group.bench_function("node/Rc", |b| {
        b.iter(|| drop(black_box(Rc::new(rc_node()))));
    });
    // A tracked allocation adds one to count0 and its drop takes one away,
    // so this loop never reaches the threshold: enabled and disabled differ
    // only by the flag. The batched runs below do trigger collections.
    group.bench_function("node/Gc", |b| {
        b.iter(|| drop(black_box(Gc::new(gc_node()))));
    });
    gc_core::disable();
    group.bench_function("node/Gc-disabled", |b| {
        b.iter(|| drop(black_box(Gc::new(gc_node()))));
    });
    gc_core::enable();

    // BATCH live allocations, then all dropped: with automatic collection on,
    // the 701st allocation runs a generation-0 collection of 700 live objects.
    group.throughput(Throughput::Elements(BATCH as u64));
    let mut rcs = Vec::with_capacity(BATCH);
    group.bench_function("node-batch1000/Rc", |b| {
        b.iter(|| {
            rcs.extend((0..BATCH).map(|_| Rc::new(rc_node())));
            black_box(&mut rcs).clear();
        });
    });
    let mut gcs = Vec::with_capacity(BATCH);
    group.bench_function("node-batch1000/Gc", |b| {
        b.iter(|| {
            gcs.extend((0..BATCH).map(|_| Gc::new(gc_node())));
            black_box(&mut gcs).clear();
        });
    });
    gc_core::disable();
    group.bench_function("node-batch1000/Gc-disabled", |b| {
        b.iter(|| {
            gcs.extend((0..BATCH).map(|_| Gc::new(gc_node())));
            black_box(&mut gcs).clear();
        });
    });
    gc_core::enable();
    group.finish();

    // Read the fields so the types are not dead code.
    let n = rc_node();
    black_box((n.next.borrow().is_none(), n.val));
}

/// Clone + drop of an existing handle.
fn clone_drop(c: &mut Criterion) {
    gc_core::enable();
    let mut group = micro(c, "clone_drop");
    let rc = Rc::new(RcNode {
        next: RefCell::new(None),
        val: 7,
    });
    let gc = Node::make(7);
    group.bench_function("Rc", |b| {
        b.iter(|| drop(black_box(Rc::clone(black_box(&rc)))));
    });
    group.bench_function("Gc", |b| {
        b.iter(|| drop(black_box(Gc::clone(black_box(&gc)))));
    });
    group.finish();
}

/// `collect()` of `CYCLES` unreachable two-object cycles, built untimed.
fn time_garbage_collection<N: BenchNode>(iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        drop(build_cycles::<N>());
        let start = Instant::now();
        let freed = gc_core::collect();
        total += start.elapsed();
        assert_eq!(freed, OBJECTS);
    }
    total
}

/// `collect()` of 1,000,000 objects in unreachable two-object cycles.
fn collect_garbage(c: &mut Criterion) {
    quiet_heap();
    let mut group = large(c, "collect_garbage");
    group.bench_function("Gc", |b| b.iter_custom(time_garbage_collection::<Node>));
    // The floor: freeing as many `Rc` objects (500,000 acyclic pairs) by
    // reference counting alone.
    group.bench_function("Rc-drop-baseline", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for i in 0..iters {
                let pairs: Vec<Rc<RcNode>> = (0..CYCLES as u64)
                    .map(|j| {
                        let b = Rc::new(RcNode {
                            next: RefCell::new(None),
                            val: i + j,
                        });
                        Rc::new(RcNode {
                            next: RefCell::new(Some(b)),
                            val: i,
                        })
                    })
                    .collect();
                let start = Instant::now();
                drop(black_box(pairs));
                total += start.elapsed();
            }
            total
        });
    });
    group.finish();
    gc_core::enable();
}

/// Registers a benchmark of `collect()` over `CYCLES` reachable two-object
/// cycles of `N`, all in generation 2 and nothing to free.
fn bench_live_scan<N: BenchNode>(group: &mut BenchmarkGroup<'_, WallTime>, name: &str) {
    // Built on first use, so that a filtered-out benchmark builds nothing.
    let mut roots: Option<Vec<Gc<N>>> = None;
    group.bench_function(name, |b| {
        roots.get_or_insert_with(|| {
            quiet_heap();
            let roots = build_cycles::<N>();
            // Promote everything to generation 2, as CPython's measurement
            // does.
            assert_eq!(gc_core::collect(), 0);
            assert_eq!(gc_core::get_objects(Some(2)).len(), OBJECTS);
            roots
        });
        b.iter(|| assert_eq!(gc_core::collect(), 0));
    });
    if let Some(roots) = roots {
        drop(roots);
        assert_eq!(gc_core::collect(), OBJECTS);
        gc_core::enable();
    }
}

/// `collect()` with 1,000,000 live objects and nothing to free.
fn collect_live(c: &mut Criterion) {
    let mut group = large(c, "collect_live");
    bench_live_scan::<Node>(&mut group, "Gc");
    group.finish();
}

/// The live scan of `collect_live`, with and without edge labels.
fn labels(c: &mut Criterion) {
    let mut group = large(c, "labels");
    bench_live_scan::<Node>(&mut group, "field/labelled");
    bench_live_scan::<PlainNode>(&mut group, "field/plain");
    bench_live_scan::<ListNode>(&mut group, "index/labelled");
    bench_live_scan::<PlainListNode>(&mut group, "index/plain");
    group.finish();
}

criterion_group!(
    benches,
    alloc_drop,
    clone_drop,
    collect_garbage,
    collect_live,
    labels
);
criterion_main!(benches);
