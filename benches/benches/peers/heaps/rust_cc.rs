//! `rust-cc` (lib `rust_cc`): Bacon and Rajan's synchronous cycle collection
//! over a buffer of possible roots, with an automatic collection when the
//! allocated bytes pass an adaptive threshold (checked in `Cc::new`).

use std::cell::RefCell;

use rust_cc::{Cc, Finalize, Trace};

use crate::heap::{DropCounter, Heap, shared_ops};

type Ptr<T> = Cc<T>;
type EdgeCell<T> = RefCell<T>;

/// The list node.
#[derive(Trace, Finalize)]
pub struct Node {
    next: EdgeCell<Option<Ptr<Node>>>,
    val: u64,
    #[rust_cc(ignore)]
    _drops: DropCounter,
}

/// The graph and tree node.
#[derive(Trace, Finalize)]
pub struct Pair {
    left: EdgeCell<Option<Ptr<Pair>>>,
    right: EdgeCell<Option<Ptr<Pair>>>,
    #[rust_cc(ignore)]
    _drops: DropCounter,
}

/// The untracked `u64` (rust-cc has no untracked objects: every `Cc` can
/// be buffered as a possible root).
#[derive(Trace, Finalize)]
pub struct Word {
    val: u64,
    #[rust_cc(ignore)]
    _drops: DropCounter,
}

/// `rust-cc`.
pub struct RustCc;

impl Heap for RustCc {
    const NAME: &'static str = "rust-cc";
    const FREES_CYCLES: bool = true;
    const RECURSIVE_DROP: bool = true;
    const RECURSIVE_GARBAGE_WALK: bool = false;
    const RECURSIVE_LIVE_WALK: bool = false;

    shared_ops!();

    fn collect() {
        rust_cc::collect_cycles();
    }

    fn set_auto(on: bool) {
        rust_cc::config::config(|config| config.set_auto_collect(on)).expect("rust-cc config");
    }

    fn stats() -> String {
        let executions = rust_cc::state::executions_count().expect("rust-cc state");
        format!("{executions} collections")
    }
}
