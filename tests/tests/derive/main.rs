//! Pass tests of `#[derive(Trace)]`: realistic shapes compiled against the real gc-core and
//! run. Each checks, through `Object::edges()`, that every `Gc` a value owns is reported
//! exactly once under the right label, that `TRACKED` (and so `is_tracked`) is exact, and that
//! the collector really uses the derived `trace` (cycles of derived types are collected).
//!
//! Every test ends with [`assert_heap_clean`]: no tracked object, and so no cycle, is left on
//! the test thread's heap (under Miri a leaked cycle would also be reported as a leak).
//!
//! | module | what |
//! |---|---|
//! | `shapes` | an AST enum, a generic tree, a `HashMap` scope, tuple and unit structs, nested `Option<RefCell<..>>`, const generics, `#[gc(skip)]` |
//! | `generics` | inferred bounds, `#[gc(bound = "..")]`, kept `where` clauses, defaults, projections |
//! | `untracking` | `TRACKED` and `is_tracked` per type: `Wrapper<u32>` vs `Wrapper<Gc<X>>`, skipped, `Weak`/`Rc` only |
//! | `finalize_and_drop` | `#[gc(finalize)]`, and `#[gc(unsafe_no_drop)]` with `unsafe impl DropOk`, at refcount death and in collections |
//! | `collect` | cycles built from each derived shape, collected by `gc_core::collect()` |
//! | `hygiene` | hostile names, `#[no_implicit_prelude]`, a renamed crate, `#[deny(warnings)]` |

mod collect;
mod finalize_and_drop;
mod generics;
mod hygiene;
mod shapes;
mod untracking;

// gc-core under a second name, as a user who renamed it in `Cargo.toml` sees it (Cargo refuses
// to list one package twice under two names in one manifest, so the rename is made here: at the
// crate root, `extern crate` adds the name to the extern prelude, exactly like a renamed
// dependency). Used by `hygiene::renamed` with `#[gc(crate = "gc_renamed")]`.
extern crate gc_core as gc_renamed;

use gc_core::{Gc, Object};

/// The edges of `gc`'s object as `(label, target id)`, in trace order.
fn edges<T: 'static>(gc: &Gc<T>) -> Vec<(String, usize)> {
    Gc::to_object(gc)
        .edges()
        .into_iter()
        .map(|(label, target)| (label, target.id()))
        .collect()
}

/// Asserts that `gc`'s object reports exactly `expected`, in this order: each edge once, with
/// its label. `(label, target)` pairs are compared by the target's identity.
#[track_caller]
fn assert_edges<T: 'static>(gc: &Gc<T>, expected: &[(&str, usize)]) {
    let expected: Vec<(String, usize)> = expected
        .iter()
        .map(|&(label, id)| (label.to_owned(), id))
        .collect();
    assert_eq!(edges(gc), expected);
    // `referents` is the unlabelled view of the same trace.
    let referents: Vec<usize> = gc_core::get_referents(gc).iter().map(Object::id).collect();
    let targets: Vec<usize> = expected.iter().map(|&(_, id)| id).collect();
    assert_eq!(referents, targets);
}

/// The identity of `gc`'s object, for [`assert_edges`].
fn id<T: 'static>(gc: &Gc<T>) -> usize {
    Gc::id(gc)
}

/// A fresh untracked target: `Gc<u32>` owns no `Gc`, so it can never be part of a cycle.
fn leaf(value: u32) -> Gc<u32> {
    Gc::new(value)
}

/// `T::TRACKED`, for types named by a value.
fn tracked<T: gc_core::TraceMeta>(_: &T) -> bool {
    T::TRACKED
}

/// Asserts that the test left nothing behind on this thread's heap: a full collection finds
/// no garbage and no tracked object is alive. Call it once every handle is dropped.
#[track_caller]
fn assert_heap_clean() {
    assert_eq!(gc_core::collect(), 0, "garbage cycles were left behind");
    let alive = gc_core::get_objects(None);
    assert!(alive.is_empty(), "tracked objects still alive: {alive:?}");
}
