//! `std::rc::Rc`: the baseline. It frees no cycles.

use std::cell::RefCell;
use std::rc::Rc;

use crate::heap::{DropCounter, Heap, shared_ops};

type Ptr<T> = Rc<T>;
type EdgeCell<T> = RefCell<T>;

/// The list node.
pub struct Node {
    next: EdgeCell<Option<Ptr<Node>>>,
    val: u64,
    _drops: DropCounter,
}

/// The graph and tree node.
pub struct Pair {
    left: EdgeCell<Option<Ptr<Pair>>>,
    right: EdgeCell<Option<Ptr<Pair>>>,
    _drops: DropCounter,
}

/// The untracked `u64`.
pub struct Word {
    val: u64,
    _drops: DropCounter,
}

/// `std::rc::Rc`.
pub struct StdRc;

impl Heap for StdRc {
    const NAME: &'static str = "Rc";
    const FREES_CYCLES: bool = false;
    const RECURSIVE_DROP: bool = true;
    const RECURSIVE_GARBAGE_WALK: bool = false;
    const RECURSIVE_LIVE_WALK: bool = false;
    const AUTO_COLLECTS: bool = false;

    shared_ops!();

    fn collect() {}

    fn set_auto(_on: bool) {}
}
