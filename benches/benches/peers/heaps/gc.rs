//! Manishearth's `gc`: a mark-and-sweep tracing collector. A `Gc` counts
//! only *roots* (handles outside the heap); nothing is freed before a
//! collection, which runs when the allocated bytes pass a threshold (grown
//! when a collection frees too little). Marking recurses along reachable
//! paths; the sweep frees each box without recursion. Interior mutability needs its
//! `GcCell` (a borrow roots and unroots what it hands out), so the nodes
//! hold `GcCell` where the others hold `RefCell`.

// gc_derive 0.5 wraps each impl in a named `const` (old synstructure).
#![expect(non_local_definitions, reason = "gc_derive's expansion, not ours")]

use gc::{Finalize, Gc, GcCell, Trace};

use crate::heap::{DropCounter, Heap, shared_ops};

type Ptr<T> = Gc<T>;
type EdgeCell<T> = GcCell<T>;

/// The list node.
#[derive(Trace, Finalize)]
pub struct Node {
    next: EdgeCell<Option<Ptr<Node>>>,
    val: u64,
    #[unsafe_ignore_trace]
    _drops: DropCounter,
}

/// The graph and tree node.
#[derive(Trace, Finalize)]
pub struct Pair {
    left: EdgeCell<Option<Ptr<Pair>>>,
    right: EdgeCell<Option<Ptr<Pair>>>,
    #[unsafe_ignore_trace]
    _drops: DropCounter,
}

/// The untracked `u64` (every `gc` allocation is on the swept list).
#[derive(Trace, Finalize)]
pub struct Word {
    val: u64,
    #[unsafe_ignore_trace]
    _drops: DropCounter,
}

/// `gc`'s default threshold, in bytes (`GcConfig::default()`).
const DEFAULT_THRESHOLD: usize = 100;

/// Manishearth's `gc`.
pub struct GcCrate;

impl Heap for GcCrate {
    const NAME: &'static str = "gc";
    const FREES_CYCLES: bool = true;
    const RECURSIVE_DROP: bool = false;
    const RECURSIVE_GARBAGE_WALK: bool = false;
    const RECURSIVE_LIVE_WALK: bool = true;

    shared_ops!();

    fn collect() {
        gc::force_collect();
    }

    fn set_auto(on: bool) {
        gc::configure(|config| {
            config.threshold = if on { DEFAULT_THRESHOLD } else { usize::MAX };
        });
    }
}
