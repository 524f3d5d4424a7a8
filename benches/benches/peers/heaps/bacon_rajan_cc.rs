//! `bacon_rajan_cc`: Bacon and Rajan's synchronous cycle collection over a
//! buffer of possible roots (every decrement that leaves a count above
//! zero), and no automatic collection: `collect_cycles()` must be called.
//! `mark_gray`, `scan` and `collect_white` recurse along every path from a
//! buffered root.

use std::cell::RefCell;

use bacon_rajan_cc::{Cc, Trace, Tracer};

use crate::heap::{DropCounter, Heap, shared_ops};

type Ptr<T> = Cc<T>;
type EdgeCell<T> = RefCell<T>;

/// The list node.
pub struct Node {
    next: EdgeCell<Option<Ptr<Node>>>,
    val: u64,
    _drops: DropCounter,
}

impl Trace for Node {
    fn trace(&self, tracer: &mut Tracer<'_>) {
        self.next.trace(tracer);
    }
}

/// The graph and tree node.
pub struct Pair {
    left: EdgeCell<Option<Ptr<Pair>>>,
    right: EdgeCell<Option<Ptr<Pair>>>,
    _drops: DropCounter,
}

impl Trace for Pair {
    fn trace(&self, tracer: &mut Tracer<'_>) {
        self.left.trace(tracer);
        self.right.trace(tracer);
    }
}

/// The untracked `u64` (bacon_rajan_cc has no untracked objects).
pub struct Word {
    val: u64,
    _drops: DropCounter,
}

impl Trace for Word {
    fn trace(&self, _tracer: &mut Tracer<'_>) {}
}

/// `bacon_rajan_cc`.
pub struct BaconRajan;

impl Heap for BaconRajan {
    const NAME: &'static str = "bacon_rajan_cc";
    const FREES_CYCLES: bool = true;
    const RECURSIVE_DROP: bool = true;
    const RECURSIVE_GARBAGE_WALK: bool = true;
    const RECURSIVE_LIVE_WALK: bool = true;
    const AUTO_COLLECTS: bool = false;

    shared_ops!();

    fn collect() {
        bacon_rajan_cc::collect_cycles();
    }

    fn set_auto(_on: bool) {}
}
