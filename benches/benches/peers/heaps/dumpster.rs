//! `dumpster`'s `unsync` module: reference counting, and a collection of
//! every allocation whose count was decremented ("dirty") when as many
//! `Gc`s have been dropped since the last one as exist. The collection's
//! depth-first search (over hash sets of visited allocations) recurses along
//! every path from a dirty allocation.

use std::cell::RefCell;

use dumpster::unsync::{CollectInfo, Gc};
use dumpster::{Trace, TraceWith, Visitor};

use crate::heap::{DropCounter, Heap, shared_ops};

type Ptr<T> = Gc<T>;
type EdgeCell<T> = RefCell<T>;

// SAFETY: the counter owns no `Gc`, so it has nothing to visit.
unsafe impl<V: Visitor> TraceWith<V> for DropCounter {
    #[inline]
    fn accept(&self, _visitor: &mut V) -> Result<(), ()> {
        Ok(())
    }
}

/// The list node.
#[derive(Trace)]
pub struct Node {
    next: EdgeCell<Option<Ptr<Node>>>,
    val: u64,
    _drops: DropCounter,
}

/// The graph and tree node.
#[derive(Trace)]
pub struct Pair {
    left: EdgeCell<Option<Ptr<Pair>>>,
    right: EdgeCell<Option<Ptr<Pair>>>,
    _drops: DropCounter,
}

/// The untracked `u64`.
#[derive(Trace)]
pub struct Word {
    val: u64,
    _drops: DropCounter,
}

/// `dumpster`'s policy with automatic collection off.
fn never(_: &CollectInfo) -> bool {
    false
}

/// `dumpster::unsync`.
pub struct Dumpster;

impl Heap for Dumpster {
    const NAME: &'static str = "dumpster";
    const FREES_CYCLES: bool = true;
    const RECURSIVE_DROP: bool = true;
    const RECURSIVE_GARBAGE_WALK: bool = true;
    const RECURSIVE_LIVE_WALK: bool = true;

    shared_ops!();

    fn collect() {
        dumpster::unsync::collect();
    }

    fn set_auto(on: bool) {
        dumpster::unsync::set_collect_condition(if on {
            dumpster::unsync::default_collect_condition
        } else {
            never
        });
    }
}
