//! gc-core: reference counting plus CPython's generational cycle collector,
//! automatic collection by CPython's thresholds `(700, 10, 10)`.

use std::cell::RefCell;

use gc_core::{Gc, Trace};

use crate::heap::{DropCounter, Heap, shared_ops};

type Ptr<T> = Gc<T>;
type EdgeCell<T> = RefCell<T>;

/// The list node.
#[derive(Trace)]
pub struct Node {
    next: EdgeCell<Option<Ptr<Node>>>,
    val: u64,
    #[gc(skip)]
    _drops: DropCounter,
}

/// The graph and tree node.
#[derive(Trace)]
pub struct Pair {
    left: EdgeCell<Option<Ptr<Pair>>>,
    right: EdgeCell<Option<Ptr<Pair>>>,
    #[gc(skip)]
    _drops: DropCounter,
}

/// The untracked `u64` (`TRACKED` is false: no field can reach a `Gc`).
#[derive(Trace)]
pub struct Word {
    val: u64,
    #[gc(skip)]
    _drops: DropCounter,
}

/// gc-core.
pub struct GcCore;

impl Heap for GcCore {
    const NAME: &'static str = "gc-core";
    const FREES_CYCLES: bool = true;
    const RECURSIVE_DROP: bool = false;
    const RECURSIVE_GARBAGE_WALK: bool = false;
    const RECURSIVE_LIVE_WALK: bool = false;
    const GENERATIONAL: bool = true;

    shared_ops!();

    fn collect() {
        gc_core::collect();
    }

    /// Generation 0 alone (CPython's `gc.collect(0)`).
    fn collect_young() {
        gc_core::collect_generation(0);
    }

    fn set_auto(on: bool) {
        if on {
            gc_core::enable();
        } else {
            gc_core::disable();
        }
    }

    fn stats() -> String {
        let stats = gc_core::get_stats();
        let generations: Vec<String> = stats
            .iter()
            .enumerate()
            .map(|(g, s)| {
                format!(
                    "gen {g}: {} collections, {} collected",
                    s.collections, s.collected
                )
            })
            .collect();
        generations.join("; ")
    }
}
