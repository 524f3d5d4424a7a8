//! What every crate provides to the workloads: the [`Heap`] trait, the drop
//! counter the node types carry, and the sizes.
//!
//! Each crate's module (`heaps/*.rs`) defines the same three types, `Node`,
//! `Pair` and `Word`, with that crate's pointer and trace machinery, and
//! implements [`Heap`] for a unit struct. The method bodies that only touch
//! the node shape are shared through [`shared_ops!`], so the shapes cannot
//! drift apart.

use std::cell::Cell;

/// One crate's pointer, node types, and collector controls.
///
/// The node types, in every crate:
///
/// - `Node { next: Cell<Option<Ptr<Node>>>, val: u64, _drops: DropCounter }`,
///   the tracked list node of the issue;
/// - `Pair { left, right: Cell<Option<Ptr<Pair>>>, _drops: DropCounter }`, the
///   node of the random graphs and of binary trees;
/// - `Word { val: u64, _drops: DropCounter }`, an untracked `u64` (the counter
///   is zero-sized, so it is 8 bytes like a bare `u64`).
///
/// `Cell` is `RefCell` except in the `gc` crate, which needs its own
/// `GcCell` (it roots and unroots what a borrow hands out). `_drops` is never
/// traced.
pub trait Heap {
    /// The column name in the table and the criterion benchmark id.
    const NAME: &'static str;
    /// Whether the crate frees unreachable cycles (false only for `Rc`).
    const FREES_CYCLES: bool;
    /// Whether dropping the last handle of a list drops the rest of it
    /// recursively, one stack frame or more per node (the 1,000,000-node
    /// list then overflows the 8 MiB main-thread stack). The table runner
    /// checks this in a child process.
    const RECURSIVE_DROP: bool;
    /// Whether a collection follows edges between *unreachable* objects
    /// recursively, so that collecting a long garbage path (the ring)
    /// overflows the stack.
    const RECURSIVE_GARBAGE_WALK: bool;
    /// Whether a collection follows edges between *reachable* objects
    /// recursively, so that a long live path (the part of the random
    /// cyclic graph that the kept roots reach) overflows the stack.
    const RECURSIVE_LIVE_WALK: bool;
    /// Whether [`Heap::collect_young`] looks at the youngest objects only
    /// (the crate has generations).
    const GENERATIONAL: bool = false;
    /// Whether the crate's default policy ever collects cycles on its own
    /// (false where [`Heap::collect`] must be called: gcmodule,
    /// bacon_rajan_cc; and `Rc`, which has nothing to collect).
    const AUTO_COLLECTS: bool = true;

    /// A handle to a `Node`.
    type Node: Clone;
    /// A handle to a `Pair`.
    type Pair: Clone;
    /// A handle to a `Word`.
    type Word;

    /// A new node with the given `next`.
    fn node(val: u64, next: Option<Self::Node>) -> Self::Node;
    /// Replaces `node.next`.
    fn set_next(node: &Self::Node, next: Option<Self::Node>);
    /// `node.val`.
    fn node_val(node: &Self::Node) -> u64;
    /// A new pair with the given children.
    fn pair(left: Option<Self::Pair>, right: Option<Self::Pair>) -> Self::Pair;
    /// Replaces both children of `pair`.
    fn set_children(pair: &Self::Pair, left: Option<Self::Pair>, right: Option<Self::Pair>);
    /// The number of pairs reachable from `tree` through `left`/`right`,
    /// counting `tree` (the `check` of binary_trees; the tree must be
    /// acyclic).
    fn check(tree: &Self::Pair) -> u64;
    /// A new untracked `u64`.
    fn word(val: u64) -> Self::Word;
    /// The value of a `Word`.
    fn word_val(word: &Self::Word) -> u64;

    /// One full collection: everything unreachable is freed.
    fn collect();
    /// A collection of the youngest objects only, where the crate has
    /// generations; otherwise its one kind of collection, [`Heap::collect`].
    fn collect_young() {
        Self::collect();
    }
    /// `true`: the crate's default automatic collection policy; `false`:
    /// no automatic collection. A no-op for crates that never collect on
    /// their own.
    fn set_auto(on: bool);

    /// The crate's own collection statistics, where it keeps any (the
    /// table runner prints them with `PEERS_STATS=1`).
    fn stats() -> String {
        String::new()
    }

    /// Starts logging the pause the crate itself records for each
    /// collection, where it records one (gc-core). A no-op elsewhere.
    fn start_pause_log() {}

    /// Stops the log of [`Heap::start_pause_log`] and hands it over: every
    /// collection since, in order; `None` where the crate records no
    /// pauses.
    fn take_pause_log() -> Option<Vec<PauseRecord>> {
        None
    }
}

/// A collector's own record of one collection: [`Heap::take_pause_log`].
#[derive(Clone, Copy, Debug)]
pub struct PauseRecord {
    /// The generation collected.
    pub generation: usize,
    /// The pause, as the collector measured it (wall-clock time).
    pub duration: std::time::Duration,
    /// The thread's CPU time over the collection and its callbacks: the
    /// pause, less any time the thread was preempted.
    pub cpu: std::time::Duration,
    /// When the record was read, just after the collection.
    pub read: std::time::Instant,
}

/// The method bodies of [`Heap`] that only touch the node shape. Expands
/// inside `impl Heap`, in a module that defines `Ptr<T>` (with a
/// `Ptr::new`), `EdgeCell<T>` (with `new` and `borrow`/`borrow_mut`), and the
/// `Node`, `Pair` and `Word` types.
macro_rules! shared_ops {
    () => {
        type Node = Ptr<Node>;
        type Pair = Ptr<Pair>;
        type Word = Ptr<Word>;

        #[inline]
        fn node(val: u64, next: Option<Self::Node>) -> Self::Node {
            Ptr::new(Node {
                next: EdgeCell::new(next),
                val,
                _drops: $crate::heap::DropCounter,
            })
        }

        #[inline]
        fn set_next(node: &Self::Node, next: Option<Self::Node>) {
            *node.next.borrow_mut() = next;
        }

        #[inline]
        fn node_val(node: &Self::Node) -> u64 {
            node.val
        }

        #[inline]
        fn pair(left: Option<Self::Pair>, right: Option<Self::Pair>) -> Self::Pair {
            Ptr::new(Pair {
                left: EdgeCell::new(left),
                right: EdgeCell::new(right),
                _drops: $crate::heap::DropCounter,
            })
        }

        #[inline]
        fn set_children(pair: &Self::Pair, left: Option<Self::Pair>, right: Option<Self::Pair>) {
            *pair.left.borrow_mut() = left;
            *pair.right.borrow_mut() = right;
        }

        fn check(tree: &Self::Pair) -> u64 {
            let left = tree.left.borrow();
            let right = tree.right.borrow();
            1 + left.as_ref().map_or(0, Self::check) + right.as_ref().map_or(0, Self::check)
        }

        #[inline]
        fn word(val: u64) -> Self::Word {
            Ptr::new(Word {
                val,
                _drops: $crate::heap::DropCounter,
            })
        }

        #[inline]
        fn word_val(word: &Self::Word) -> u64 {
            word.val
        }
    };
}
pub(crate) use shared_ops;

thread_local! {
    /// Values dropped on this thread since the last [`drops::reset`].
    static DROPS: Cell<usize> = const { Cell::new(0) };
}

/// A zero-sized field whose `Drop` counts the value it sits in as freed.
/// Never traced: each crate's node types skip it (or trace it as a leaf).
pub struct DropCounter;

impl Drop for DropCounter {
    #[inline]
    fn drop(&mut self) {
        DROPS.with(|d| d.set(d.get() + 1));
    }
}

/// The drop counter's thread-local total.
pub mod drops {
    use super::DROPS;

    /// Sets the count to zero.
    pub fn reset() {
        DROPS.with(|d| d.set(0));
    }

    /// Values dropped since the last [`reset`].
    pub fn get() -> usize {
        DROPS.with(|d| d.get())
    }

    /// Panics unless exactly `expected` values were dropped since the last
    /// [`reset`], then resets.
    #[track_caller]
    pub fn expect<H: crate::heap::Heap>(expected: usize, what: &str) {
        let got = get();
        assert_eq!(
            got,
            expected,
            "{}: {what}: {got} values dropped, expected {expected}",
            H::NAME
        );
        reset();
    }
}

/// Marsaglia's xorshift64: the graphs' fixed-seed random numbers.
pub struct XorShift(u64);

impl XorShift {
    /// A generator with a fixed nonzero seed.
    pub fn new(seed: u64) -> Self {
        XorShift(seed.max(1))
    }

    /// The next number.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..bound` (`bound > 0`; the modulo bias is irrelevant
    /// here).
    #[inline]
    pub fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }
}

/// The workload sizes. `PEERS_N` (default 1,000,000; 10,000 in the smoke run
/// of `cargo test --benches`) scales every object count; `PEERS_DEPTH`
/// (default 18; 6 in the smoke run) is binary_trees' depth.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Objects in the collection workloads (the 1,000,000).
    pub n: usize,
    /// binary_trees' maximum depth.
    pub depth: u32,
}

impl Sizes {
    /// The sizes of a full run, or of the smoke run, overridden by the
    /// environment.
    pub fn from_env(full: bool) -> Self {
        let (n, depth) = if full { (1_000_000, 18) } else { (10_000, 6) };
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.replace('_', "").parse().ok())
        };
        Sizes {
            n: var("PEERS_N").unwrap_or(n).max(10),
            depth: var("PEERS_DEPTH").map_or(depth, |d: usize| d as u32),
        }
    }

    /// Operations in the per-operation workloads (alloc+drop, clone+drop).
    pub fn ops(self) -> usize {
        self.n
    }

    /// Nodes of the list every crate builds: 100,000.
    pub fn list(self) -> usize {
        self.n / 10
    }

    /// Nodes of the list that shows which crates overflow: 1,000,000.
    pub fn list_long(self) -> usize {
        self.n
    }

    /// Nodes of the list only gc-core builds: 10,000,000.
    pub fn list_huge(self) -> usize {
        self.n * 10
    }

    /// Two-object cycles per cycle workload: 500,000.
    pub fn cycles(self) -> usize {
        self.n / 2
    }

    /// Nodes of the ring and of the random graphs: 1,000,000.
    pub fn graph(self) -> usize {
        self.n
    }

    /// Live objects of the old heap beside the churn: 1,000,000 (as
    /// 500,000 reachable two-object cycles).
    pub fn old(self) -> usize {
        self.n
    }

    /// Objects the churn allocates and drops: 1,000,000 (as 500,000
    /// two-object cycles).
    pub fn churn(self) -> usize {
        self.n
    }
}
