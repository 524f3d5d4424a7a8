//! Finalizers in a collection, both policies: Python 2.7's legacy
//! handling (`move_legacy_finalizers`, `move_legacy_finalizer_reachable`,
//! `handle_legacy_finalizers`: cycles with finalizers are kept in
//! `gc.garbage`) and PEP 442's (`finalize_garbage`,
//! `handle_resurrected_objects`), plus `SAVEALL`'s `save_garbage`.

use super::ephemerons::{Follow, Roots, subtract_tables};
use super::reachability::{SubtractRefs, Tables, move_unreachable, subtract_refs};
use super::teardown::release_to_old;
use crate::heap::Heap;
use crate::layout::list::{RepairOnUnwind, init_gc_refs, subtract_gc_ref};
use crate::layout::{HeaderPtr, Link, flags, header_ref};
use crate::lifecycle::StrongRef;
use crate::lifecycle::finalize::{has_legacy_finalizer, mark_finalized};
use crate::trace::Segment;
use crate::trace::trace_edges;

/// `Uncollectable` policy, step 1: moves the unreachable objects that have
/// finalizers to `finalizers`.
pub(crate) fn move_legacy_finalizers(unreachable: &Link, finalizers: &Link) {
    let mut cursor = unreachable.first();
    while let Some(h) = cursor {
        // SAFETY: `h` is on `unreachable`; the successor is read first.
        cursor = unsafe { unreachable.next_of(h) };
        if has_legacy_finalizer(h) {
            // SAFETY: allocated and on a list.
            unsafe { header_ref(h) }.clear(flags::UNREACHABLE);
            // SAFETY: `h` is live and on a list.
            unsafe { finalizers.move_back(h) };
        }
    }
}

/// `Uncollectable` policy, step 2: moves everything reachable from the
/// finalizer objects to `finalizers` too.
///
/// These objects are not held by the collector. As in CPython ("it may also
/// cause some objects in finalizers to be freed"), one that only the rest of
/// the garbage refers to dies by reference counting when that garbage is
/// torn down: it is not on a cycle, so its finalizer runs safely then, with
/// everything it can reach still alive on this list.
pub(crate) fn move_legacy_finalizer_reachable(finalizers: &Link) {
    let mut cursor = finalizers.first();
    while let Some(h) = cursor {
        let mut visit = |child: HeaderPtr, _: &[Segment]| {
            // SAFETY: traced edges point at allocated boxes.
            let header = unsafe { header_ref(child) };
            if header.has(flags::UNREACHABLE) {
                header.clear(flags::UNREACHABLE);
                // SAFETY: `child` is on the unreachable list.
                unsafe { finalizers.move_back(child) };
            }
        };
        // SAFETY: `h` is allocated with a live value.
        unsafe { trace_edges(h, &mut visit) };
        // Read after visiting: the visit may have appended.
        // SAFETY: `h` is still on `finalizers`.
        cursor = unsafe { finalizers.next_of(h) };
    }
}

/// `Finalize` policy: runs the finalizer of every unreachable object that
/// has one not yet run, in list order (CPython's `finalize_garbage`). Every
/// object is held by the collector, so no finalizer can free another; a
/// panicking finalizer counts as run and its panic is kept for later.
pub(crate) fn finalize_garbage(heap: &Heap) {
    let mut cursor = heap.unreachable.first();
    while let Some(h) = cursor {
        // SAFETY: `h` is on the list, which only the collector changes.
        cursor = unsafe { heap.unreachable.next_of(h) };
        // SAFETY: allocated.
        let header = unsafe { header_ref(h) };
        if let Some(finalize) = header.vtable().finalize
            && !header.has(flags::FINALIZED)
        {
            mark_finalized(header);
            // SAFETY: the value is live (held, not dropped).
            heap.catching(|| unsafe { finalize(h) });
        }
    }
}

/// `Finalize` policy: computes reachability again over the unreachable set,
/// ignoring the collector's own holds (CPython 3.9+'s
/// `handle_resurrected_objects`). Objects a finalizer made reachable from
/// outside, and everything they reach, move to `old`; the rest stay on
/// `heap.unreachable`, still held. Returns how many were resurrected.
pub(crate) fn handle_resurrected_objects(heap: &Heap, old: &Link, target: u32) -> usize {
    let unreachable = &heap.unreachable;
    let still_unreachable = &heap.finalizers;
    // From here until `move_unreachable` ends, `unreachable` holds
    // `gc_refs` in its `prev` words; a panicking `Trace` impl leaves it to
    // the driver's guard, well linked again.
    let repair = RepairOnUnwind(unreachable);
    let epoch = heap.begin_table_pass();
    for h in unreachable.iter() {
        // SAFETY: on a list: allocated, with a link.
        unsafe {
            init_gc_refs(h);
            subtract_gc_ref(h); // the collector's hold is not a reference
            header_ref(h).set(flags::COLLECTING);
        }
    }
    subtract_refs(unreachable);
    // A map owned by the garbage counts its values' references too; they
    // are strong again here: the ephemeron decision was the collection's.
    subtract_tables(heap, epoch, Roots::None, SubtractRefs::COLLECTING_ONLY);
    let tables = Tables {
        epoch,
        roots: Roots::None,
        follow: Follow::All,
    };
    let resurrected = move_unreachable(heap, unreachable, still_unreachable, target, tables);
    std::mem::forget(repair);
    // What is left on `unreachable` was resurrected.
    release_to_old(unreachable, old, target, true);
    // SAFETY: distinct initialised heads of this heap.
    unsafe { unreachable.merge_from(still_unreachable) };
    for h in unreachable.iter() {
        // SAFETY: allocated.
        unsafe { header_ref(h) }.clear(flags::COLLECTING | flags::UNREACHABLE);
    }
    resurrected
}

/// Appends every object of `list` to the garbage list, then moves them to
/// `old`, releasing the collector's holds if it `held` them (`SAVEALL`).
pub(crate) fn save_garbage(heap: &Heap, list: &Link, old: &Link, target: u32, held: bool) {
    append(heap, list, |_| true);
    release_to_old(list, old, target, held);
}

/// `Uncollectable` policy, last step: appends the objects that have
/// finalizers (all of them with `SAVEALL`) to the garbage list and moves the
/// kept objects to `old` (CPython's `handle_legacy_finalizers`).
pub(crate) fn handle_legacy_finalizers(heap: &Heap, old: &Link, target: u32, save_all: bool) {
    let finalizers = &heap.finalizers;
    append(heap, finalizers, |h| save_all || has_legacy_finalizer(h));
    release_to_old(finalizers, old, target, false);
}

fn append(heap: &Heap, list: &Link, keep: impl Fn(HeaderPtr) -> bool) {
    let mut garbage = heap.garbage.borrow_mut();
    for h in list.iter().filter(|&h| keep(h)) {
        // SAFETY: objects on a list are allocated with live values.
        garbage.push(unsafe { StrongRef::new(h) });
    }
}
