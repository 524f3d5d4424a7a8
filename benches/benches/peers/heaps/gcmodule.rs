//! `gcmodule`: CPython's algorithm (trial deletion over one list of all
//! tracked objects, no generations), and no automatic collection:
//! `collect_thread_cycles()` must be called. Its `mark_reachable` revives
//! reachable objects recursively, and a dropped `Cc` drops what it owns
//! recursively.
//!
//! Its derive cannot be used for a recursive type (`is_type_tracked` would
//! recurse forever), so `Trace` is written by hand, as its docs say.

use std::cell::RefCell;

use gcmodule::{Cc, Trace, Tracer};

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

    fn is_type_tracked() -> bool {
        true
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

    fn is_type_tracked() -> bool {
        true
    }
}

/// The untracked `u64`.
pub struct Word {
    val: u64,
    _drops: DropCounter,
}

impl Trace for Word {
    fn is_type_tracked() -> bool {
        false
    }
}

/// `gcmodule`.
pub struct Gcmodule;

impl Heap for Gcmodule {
    const NAME: &'static str = "gcmodule";
    const FREES_CYCLES: bool = true;
    const RECURSIVE_DROP: bool = true;
    const RECURSIVE_GARBAGE_WALK: bool = false;
    const RECURSIVE_LIVE_WALK: bool = true;
    const AUTO_COLLECTS: bool = false;

    shared_ops!();

    fn collect() {
        gcmodule::collect_thread_cycles();
    }

    fn set_auto(_on: bool) {}
}
