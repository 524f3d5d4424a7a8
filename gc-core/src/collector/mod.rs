//! Layer 5: the cycle detector, CPython's trial deletion over intrusive
//! container lists (`Python/gc.c`). **Read `driver::collect_main` first**:
//! it is the table of contents, and each phase is a small function whose
//! comment states what holds before and after it. The files, in pipeline
//! order:
//!
//! | file | phases (CPython's names) |
//! |---|---|
//! | `schedule` | when to collect: `_PyObject_GC_Link`, `gc_collect_generations`, the 25% rule |
//! | `driver` | `gc_collect_with_callback`, `gc_collect_main`: the re-entrancy guard, the phase order, the panic guards, counts and stats |
//! | `reachability` | `deduce_unreachable`: `update_refs`, `subtract_refs` (`visit_decref`), `move_unreachable` (`visit_reachable`); and `count_internal_refs`, the same counting for the tools |
//! | `ephemerons` | weak-key maps' values (no CPython counterpart): `subtract_tables` after `subtract_refs`, `follow_tables` to the fixpoint inside `move_unreachable`, `kill_unreachable_keys` |
//! | `finalizers` | `move_legacy_finalizers`, `move_legacy_finalizer_reachable`, `handle_legacy_finalizers` (Python 2.7); `finalize_garbage`, `handle_resurrected_objects` (PEP 442) |
//! | `teardown` | `handle_weakrefs`, `delete_garbage`, and the survivors' merge into the older generation |
//! | `debug` | the `DEBUG_STATS`/`COLLECTABLE`/`UNCOLLECTABLE` lines |
//!
//! May call: `lifecycle`, `heap`, `trace`, `layout`. Per-type work (tracing
//! a value, dropping it) goes through the box's vtable, built by the
//! handles layer.
//!
//! # The algorithm
//!
//! Reference counting frees everything but cycles. To find unreachable
//! cycles among the objects of a generation (`young`), the collector asks,
//! for every object, how many of its strong references come from *outside*
//! `young`:
//!
//! 1. `update_refs`: `gc_refs = strong_count` for each object.
//! 2. `subtract_refs`: for each edge between two objects of `young`,
//!    `gc_refs -= 1` on the target. What remains are references from stack
//!    variables, globals, older generations and untracked objects.
//! 3. `move_unreachable`: objects with `gc_refs > 0` are roots; everything
//!    they reach is reachable too. The rest is garbage.
//!
//! Weak-key maps (`weakref::WeakKeyMap`) add ephemerons to steps 2 and 3:
//! their values' edges are subtracted, then followed only once the entry's
//! key is reachable, to a fixpoint; an entry whose key is still unreachable
//! then is killed (see `ephemerons`).
//!
//! A `RefCell` that is mutably borrowed while the collector runs is not
//! traced (its `Trace` skips it in every phase), so the objects it holds are
//! never subtracted: they count as externally referenced and survive.
//!
//! # Tearing garbage down soundly
//!
//! CPython breaks a garbage cycle with `tp_clear` and lets reference
//! counting do the rest. Rust cannot clear arbitrary fields, so the values
//! are dropped in place instead:
//!
//! - `handle_weakrefs` clears the `Weak`s of every garbage object (they stop
//!   upgrading, so no destructor can reach a dying object through one) and
//!   marks it `DYING`. From then on reference counting never destroys a
//!   `DYING` object: when its count reaches zero, `lifecycle::dealloc::release` frees the
//!   box only if the value is already dropped, and otherwise does nothing.
//!   (Under PEP 442 the collector first holds a count on each object while
//!   the finalizers run, then condemns what is still unreachable. When no
//!   weak reference exists on the thread and nothing is kept back, this walk
//!   is skipped: the `UNREACHABLE` flag each object still carries from
//!   `move_unreachable` condemns it just as well.)
//! - `delete_garbage` walks the list once: it drops each value (the cursor
//!   moves past the object first), marks it `VALUE_DROPPED`, and frees the
//!   box if its count is zero. A `Gc` field pointing into the garbage only
//!   decrements a count, freeing its target on the spot if the walk already
//!   dropped that target's value; one pointing at a live object may free it
//!   by ordinary reference counting, which may run any `Drop` code,
//!   allocate, or call `collect()` (a no-op: collections are not
//!   re-entrant). Boxes are thus only ever freed behind the cursor, and each
//!   is freed while it is still in cache. A panic is caught, the walk goes
//!   on, and the first panic is resumed once the heap is consistent.
//!
//! A garbage box whose count is still positive after the walk was
//! resurrected by a `Drop` impl that cloned a `Gc` out of a dying value. The
//! `Trace` contract (rule 5) and the derive's `Drop` check make that
//! impossible in safe code; should an `unsafe impl` break the rule anyway,
//! the box is leaked rather than freed, so the stray handle never points at
//! freed memory.

//!
//! # Where user code runs during a collection
//!
//! The collector's phases assume that nobody else touches the objects being
//! collected. User code that runs *inside* a collection could break that
//! assumption, so every point where it runs is listed here with what it can
//! reach, the state of the objects it could see, and what the collector
//! does about it. `collect()` from any of them is a no-op returning 0
//! (`heap.collecting`); introspection (`get_objects`, `get_referrers`,
//! `objgraph`) never traces nor hands out an object that is `CONDEMNED` or
//! `VALUE_DROPPED` (`trace::trace_edges`), and lists only generations.
//!
//! | seam | when | can reach | state of the garbage | what the collector does |
//! |---|---|---|---|---|
//! | collection callbacks (`Start`) | before phase 1 | anything | no collection state yet | nothing to protect |
//! | `Trace` impls | phases 1-3, the finalizer walks, `mark_trash`, the PEP 442 re-check | only `self` (contract rules 3-4) | `COLLECTING`, maybe `UNREACHABLE` | a panic is caught by `RestoreOnUnwind` (phases 1-3) or `ScratchGuard` (later), which put every object back on a generation with no collection state and release the holds of the policy the collection started with |
//! | a weak-key map's own callback (`ephemerons::kill_unreachable_keys`) | phase 3, at the ephemeron fixpoint | the map's live count and dead queue only: the crate's closure, no user code | `COLLECTING`, `UNREACHABLE` | the cell is cleared and unlisted first; the entry's value is then followed, so nothing it refers to is torn down while the map may lend it out |
//! | weak callbacks (`handle_weakrefs`) | after the garbage's `Weak`s are cleared | live objects only: the garbage's `Weak`s no longer upgrade, and a callback owning a strong handle would have made its object reachable | `DYING` (default), held (PEP 442) or kept (`SAVEALL`); values live | a callback whose `Weak` is owned by the garbage (in the trash: `lifecycle::weakrefs::begin_trash_epoch`) waits for the end of the collection; panics are kept for later |
//! | trash callbacks (`lifecycle::weakrefs::run_trash_callbacks`) | after the teardown | anything | none left | a callback runs only if its `Weak` survived with its owner (`SAVEALL`, resurrection); the others are cancelled |
//! | finalizers (PEP 442) | after `handle_weakrefs` | the garbage, through `self` | held: strong count + 1, values live | afterwards `handle_resurrected_objects` recomputes reachability without the holds; new `Weak`s to the garbage are cleared by `delete_garbage` before anything is dropped |
//! | destructors (`delete_garbage`) | while values are dropped | live objects; the value being dropped (through `&mut self` only) | `DYING`, or `UNREACHABLE` on the fast path; some `VALUE_DROPPED` | boxes are freed only behind the cursor and only at count zero; a handle that escapes keeps its box (leaked); panics are kept, and their payloads are dropped without unwinding (`heap::drop_payload`); an unwind here aborts (`AbortOnUnwind`) |
//! | objects freed by reference counting during teardown (their finalizers, callbacks, destructors) | inside a destructor | as destructors | as destructors | such an object is unlinked before its value is dropped, so no walk meets it |
//! | the debug writer | after the collection, before the `Stop` callbacks | anything | none left: the garbage is freed, or kept on `gc.garbage` | lines are formatted during the phases and written by `collector::debug::write_lines` once the collection is over |
//! | collection callbacks (`Stop`) | last | anything | none left | nothing to protect |
//! | dropping a panic payload | whenever a second panic is kept | anything | any of the above | `drop_payload` catches a panicking payload drop and leaks that payload |
//!
//! Settings that user code may change meanwhile (policy, debug flags,
//! thresholds) are read once at the start and apply from the next
//! collection. In debug builds, `Link::validate` (CPython's
//! `validate_list`) checks the lists and their flags at each phase
//! boundary, and that the scratch lists are empty when no collection runs.

mod debug;
mod driver;
mod ephemerons;
mod finalizers;
mod reachability;
mod schedule;
mod teardown;

pub(crate) use reachability::{count_internal_refs, subtract_refs_of, visit_reachable_of};
pub(crate) use schedule::note_allocation;

use crate::heap::heap;

/// Runs a full collection (`gc.collect()`) and returns the number of
/// unreachable objects found: those freed plus those kept as garbage.
///
/// Returns 0 without doing anything when called during a collection (from a
/// `Drop`, a finalizer or a callback). A panic raised by a destructor during
/// the collection propagates out of this call once the heap is consistent
/// again.
///
/// ```
/// use gc_core::{Gc, Trace};
/// use std::cell::RefCell;
///
/// #[derive(Trace)]
/// struct Node {
///     next: RefCell<Option<Gc<Node>>>,
/// }
///
/// gc_core::collect();
/// let a = Gc::new(Node { next: RefCell::new(None) });
/// *a.next.borrow_mut() = Some(a.clone()); // a self-cycle
/// drop(a); // reference counting cannot free it
/// assert_eq!(gc_core::collect(), 1);
/// assert_eq!(gc_core::collect(), 0);
/// ```
pub fn collect() -> usize {
    collect_generation(2)
}

/// Collects generation `generation` and every younger one
/// (`gc.collect(generation)`), returning the number of unreachable objects
/// found.
///
/// # Panics
///
/// If `generation > 2`: there are only generations 0, 1 and 2.
pub fn collect_generation(generation: usize) -> usize {
    assert!(
        generation <= 2,
        "collect_generation({generation}): generation must be 0, 1 or 2 \
         (use collect() for a full collection)"
    );
    heap().map_or(0, |heap| driver::collect_with_callbacks(heap, generation))
}

/// Phase entry points for the unit tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::reachability::subtract_refs;
    use crate::layout::{HeaderPtr, Link, flags, header_ref};

    pub(crate) use super::reachability::update_refs;

    /// Runs `update_refs` and `subtract_refs` on `young`, showing every
    /// object to `observe` after each, then clears the collection state.
    pub(crate) fn phases(young: &Link, mut observe: impl FnMut(&'static str, HeaderPtr)) {
        update_refs(young);
        young.iter().for_each(|h| observe("update_refs", h));
        subtract_refs(young);
        young.iter().for_each(|h| observe("subtract_refs", h));
        for h in young.iter() {
            // SAFETY: objects on a list are allocated.
            unsafe { header_ref(h) }.clear(flags::COLLECTING);
        }
        young.repair_prevs();
    }
}
