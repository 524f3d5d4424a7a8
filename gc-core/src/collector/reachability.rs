//! Reachability: which objects of a generation are unreachable (CPython's
//! `deduce_unreachable`: `update_refs`, `subtract_refs`,
//! `move_unreachable`), with the tracers the vtable calls for them
//! (`visit_decref`, `visit_reachable`), and the same counting pass run over
//! the whole heap for the tools ([`count_internal_refs`]).

use std::ptr::NonNull;

use super::ephemerons::{Follow, Roots, follow_tables, kill_unreachable_keys, subtract_tables};
use crate::heap::{Heap, Lists, heap};
use crate::layout::list::{
    GC_REFS_PINNED, Scan, gc_refs, init_gc_refs, set_gc_refs, subtract_gc_ref,
};
use crate::layout::{GcHeader, HeaderPtr, Link, Stored, flags, header_ref, value_ref};
use crate::trace::{TraceValue, impl_collector_tracer};

/// Phases 1-3 with their panic guard: splits `young` into survivors (left
/// on it) and the unreachable objects (moved to `unreachable`). Returns the
/// number of objects examined and the number of survivors.
pub(super) fn deduce_unreachable(
    heap: &Heap,
    young: &Link,
    unreachable: &Link,
    generation: usize,
    target: u32,
) -> (usize, usize) {
    let restore = RestoreOnUnwind { young, unreachable };
    let epoch = heap.begin_table_pass();
    let examined = update_and_subtract_refs(young, generation as u32);
    subtract_tables(heap, epoch, Roots::Unowned, generation as u32 + 1);
    let tables = Tables {
        epoch,
        roots: Roots::Unowned,
        follow: Follow::ReachableKeys,
    };
    let survivors = move_unreachable(heap, young, unreachable, target, tables);
    std::mem::forget(restore);
    (examined, survivors)
}

/// How [`move_unreachable`] treats the ephemeron tables' values
/// (`collector::ephemerons`).
#[derive(Clone, Copy, Debug)]
pub(super) struct Tables {
    /// The pass, as begun by `Heap::begin_table_pass` before the
    /// subtraction.
    pub(super) epoch: u64,
    /// Which tables are reachable without an object reaching them.
    pub(super) roots: Roots,
    /// `ReachableKeys` for a collection (ephemerons, then the dead keys are
    /// killed and every value followed); `All` for the PEP 442 re-check.
    pub(super) follow: Follow,
}

/// Phase 1. Before: no object of `young` is `COLLECTING`. After: each is
/// `COLLECTING` with `gc_refs == strong count`, kept in its `prev` word, so
/// `young` is singly linked until `move_unreachable` (or
/// [`Link::repair_prevs`]). Returns the size of `young`.
pub(crate) fn update_refs(young: &Link) -> usize {
    let mut size = 0;
    for h in young.iter() {
        // SAFETY: objects on a list are allocated and have a link.
        unsafe { init_gc_refs(h) };
        // SAFETY: as above.
        unsafe { header_ref(h) }.set(flags::COLLECTING);
        size += 1;
    }
    size
}

/// Phase 2. After: each object's `gc_refs` counts only the strong references
/// from outside `young` (every traced edge between two `COLLECTING` objects
/// was subtracted). By the `Trace` contract (never an edge the value does not
/// own), `gc_refs >= 0`.
pub(crate) fn subtract_refs(young: &Link) {
    for h in young.iter() {
        // SAFETY: objects on a list are allocated and hold a live value.
        let header = unsafe { header_ref(h) };
        // SAFETY: as above; the vtable matches the box's type.
        unsafe { (header.vtable().subtract_refs)(h, SubtractRefs::COLLECTING_ONLY) };
    }
}

/// Phases 1 and 2 in one walk of `young`, with the same result as
/// `update_refs` followed by `subtract_refs` (each walk of a long list is a
/// chain of dependent loads, so one walk fewer is a large saving).
///
/// An object's `gc_refs` is initialised the first time it is touched, as a
/// member of the walk or as the target of an edge. Membership of `young`
/// needs no flag: after `merge_younger`, `young` holds exactly the tracked
/// objects whose generation bits are `<= generation` (older generations
/// have larger bits, frozen objects 3, and the scratch lists are empty), and
/// `COLLECTING` then marks "initialised".
///
/// Returns the size of `young`.
fn update_and_subtract_refs(young: &Link, generation: u32) -> usize {
    let mut size = 0;
    for h in young.iter() {
        size += 1;
        // SAFETY: objects on a list are allocated and hold a live value.
        let header = unsafe { header_ref(h) };
        if !header.has(flags::COLLECTING) {
            // SAFETY: on a list, so it has a link.
            unsafe { init_gc_refs(h) };
            header.set(flags::COLLECTING);
        }
        // SAFETY: as above; the vtable matches the box's type.
        unsafe { (header.vtable().subtract_refs)(h, generation + 1) };
    }
    size
}

/// `gc_refs -= 1` on every target that is being collected.
pub(crate) struct SubtractRefs {
    /// Targets that are tracked and whose generation bits are below this are
    /// members of the collected generation, initialised on first touch.
    /// [`SubtractRefs::COLLECTING_ONLY`] disables that: only targets already
    /// `COLLECTING` count.
    pub(super) young_limit: u32,
}

impl SubtractRefs {
    /// No lazy initialisation: membership is the `COLLECTING` flag alone.
    pub(crate) const COLLECTING_ONLY: u32 = 0;
}

impl_collector_tracer!(SubtractRefs, |this, child| {
    // SAFETY: an edge reported by a value points at a box its `Gc` keeps
    // allocated (Trace contract, rule 1).
    let header = unsafe { header_ref(child) };
    let bits = header.flags();
    if bits & flags::COLLECTING == 0 {
        let generation = (bits & flags::GEN_MASK) >> flags::GEN_SHIFT;
        if bits & flags::TRACKED == 0 || generation >= this.young_limit {
            return;
        }
        // SAFETY: tracked, so it has a link; a member of `young`, not yet
        // walked, so nothing reads its `prev` as a pointer.
        unsafe { init_gc_refs(child) };
        header.set(flags::COLLECTING);
    }
    // SAFETY: `COLLECTING`: tracked, with `gc_refs` in its `prev`.
    unsafe { subtract_gc_ref(child) };
}, tables: |table| {
    // Its values are subtracted by `subtract_tables`; an object being
    // examined owns it, so it is reachable only if that object is.
    if let Some(heap) = heap() {
        table.owned.set(heap.table_epoch.get());
    }
});

/// The `subtract_refs` entry of `GcBox<T>`'s vtable.
///
/// # Safety
///
/// `h` is a live `GcBox<T>` whose value is not dropped.
pub(crate) unsafe fn subtract_refs_of<T: ?Sized + Stored + TraceValue>(
    h: HeaderPtr,
    young_limit: u32,
) {
    // SAFETY: forwarded from the caller.
    unsafe { value_ref::<T>(h) }.trace_value(&mut SubtractRefs { young_limit });
}

/// Phase 3. Splits `young` into reachable objects (left on `young`, with
/// `COLLECTING` cleared, their generation bits set to `target` and their
/// `prev` pointers written back) and unreachable ones (moved to
/// `unreachable`, still `COLLECTING`, now `UNREACHABLE`).
///
/// Walks `young` front to back. An object with `gc_refs > 0` is reachable
/// from outside; its edges are visited with [`VisitReachable`], which marks
/// the targets reachable and moves back any target already moved to
/// `unreachable` (to the tail of `young`, so it is scanned in turn). An
/// object with `gc_refs == 0` is *tentatively* unreachable: a later object
/// may still reach it. When the walk ends, whatever is on `unreachable` is
/// reachable from nothing outside `young`.
///
/// When the walk runs out, the ephemeron tables' values are followed
/// (`ephemerons::follow_tables`) and the walk resumes over what they
/// reached, until the fixpoint; then the entries whose key is unreachable
/// are killed and their values followed too (`tables.follow`).
///
/// Precondition: every object of `young` holds `gc_refs` in its `prev`
/// (phases 1 and 2, and `subtract_tables` for the pass `tables.epoch`);
/// `unreachable` is well linked. Postcondition: both lists are well linked.
///
/// Returns the number of reachable objects.
pub(super) fn move_unreachable(
    heap: &Heap,
    young: &Link,
    unreachable: &Link,
    target: u32,
    tables: Tables,
) -> usize {
    let young_ptr = NonNull::from(young);
    let mut survivors = 0;
    let mut scan = Scan::new(young);
    let mut follow = tables.follow;
    loop {
        while let Some(h) = scan.current() {
            // SAFETY: objects on a list are allocated.
            let header = unsafe { header_ref(h) };
            // SAFETY: not yet scanned, so `gc_refs` is in its `prev`.
            if unsafe { gc_refs(h) } > 0 {
                // SAFETY: `h` is live with a live value; the vtable matches.
                unsafe { (header.vtable().visit_reachable)(h, young_ptr) };
                header.mark_scanned(target);
                survivors += 1;
                // SAFETY: `h` is the current object.
                unsafe { scan.keep() };
            } else {
                header.set(flags::UNREACHABLE);
                // SAFETY: `h` is the current object; `unreachable` is another
                // well-linked list.
                unsafe { scan.take_to(unreachable) };
            }
        }
        if heap.tables.borrow().is_empty() {
            break;
        }
        if follow_tables(heap, tables.epoch, tables.roots, follow, young_ptr) {
            // SAFETY: the scan has run out; the follow appended to `young`.
            unsafe { scan.resume() };
            continue;
        }
        if follow == Follow::All {
            break;
        }
        // The ephemeron fixpoint: what was not followed has a dead key.
        kill_unreachable_keys(heap, tables.epoch, tables.roots);
        follow = Follow::All;
    }
    survivors
}

/// Marks the targets of a reachable object reachable.
pub(super) struct VisitReachable {
    young: NonNull<Link>,
}

impl VisitReachable {
    /// A visitor for the walk over `young` (see [`move_unreachable`]).
    pub(super) fn new(young: NonNull<Link>) -> Self {
        VisitReachable { young }
    }
}

impl_collector_tracer!(VisitReachable, |this, child| {
    // SAFETY: edges point at allocated boxes (Trace contract, rule 1).
    let header = unsafe { header_ref(child) };
    if !header.has(flags::COLLECTING) {
        // Outside `young`, or already scanned.
        return;
    }
    if header.has(flags::UNREACHABLE) {
        // Moved too early: bring it back; it will be scanned at the tail.
        header.clear(flags::UNREACHABLE);
        // SAFETY: `child` is on the unreachable list, which is well linked;
        // `young` is the head of the list being walked, alive for the whole
        // phase, whose head's `prev` is its tail (`Scan`).
        unsafe { this.young.as_ref().move_back(child) };
        // SAFETY: tracked, so it has a link; now after the scan's cursor.
        unsafe { set_gc_refs(child, 1) };
    // SAFETY: `COLLECTING` and not `UNREACHABLE`: on `young`, not yet
    // scanned, so `gc_refs` is in its `prev`.
    } else if unsafe { gc_refs(child) } == 0 {
        // Not scanned yet: scanning will treat it as reachable.
        // SAFETY: as above.
        unsafe { set_gc_refs(child, 1) };
    }
}, tables: |table| {
    // Reachable now: `follow_tables` follows its values.
    if let Some(heap) = heap() {
        table.reached.set(heap.table_epoch.get());
    }
});

/// The `visit_reachable` entry of `GcBox<T>`'s vtable.
///
/// # Safety
///
/// `h` is a live `GcBox<T>` whose value is not dropped; `young` heads the
/// list being walked by `move_unreachable`.
pub(crate) unsafe fn visit_reachable_of<T: ?Sized + Stored + TraceValue>(
    h: HeaderPtr,
    young: NonNull<Link>,
) {
    // SAFETY: forwarded from the caller.
    unsafe { value_ref::<T>(h) }.trace_value(&mut VisitReachable { young });
}

/// If a `Trace` implementation panics during phases 1-3, puts every object
/// back on `young` with no collection state, so the heap stays usable and the
/// objects are examined again by the next collection.
struct RestoreOnUnwind<'a> {
    young: &'a Link,
    unreachable: &'a Link,
}

impl Drop for RestoreOnUnwind<'_> {
    fn drop(&mut self) {
        // Both heads' `prev` are their tails (`Scan`), and `unreachable` is
        // well linked: only `young`'s unscanned objects hold `gc_refs`.
        // SAFETY: distinct initialised heads of this heap.
        unsafe { self.young.merge_from(self.unreachable) };
        self.young.repair_prevs();
        let generation = heap().and_then(|heap| {
            heap.generations
                .iter()
                .position(|g| std::ptr::eq(&g.head, self.young))
        });
        for h in self.young.iter() {
            // SAFETY: objects on a list are allocated.
            let header = unsafe { header_ref(h) };
            header.clear(flags::COLLECTING | flags::UNREACHABLE);
            header.set_generation(generation.unwrap_or(2) as u32);
        }
    }
}

/// Phases 1 and 2 over the whole heap, outside any collection, for the
/// tools: calls `read` with every object of the lists `which` covers and
/// the number of references to it from tracked objects on those lists
/// (`None` when the strong count does not fit `gc_refs`: the caller counts
/// that one object's referrers directly). One O(heap) pass, the collector's
/// own `update_refs` + `subtract_refs`; `objgraph`'s roots are the objects
/// whose strong count exceeds it.
///
/// Marks the heap as collecting while it runs (the tracing may panic; a
/// guard then clears the collection state), so it returns `false` without
/// doing anything when a collection is running: the objects' `gc_refs` are
/// the collection's then.
pub(crate) fn count_internal_refs(
    heap: &Heap,
    which: Lists,
    mut read: impl FnMut(HeaderPtr, &GcHeader, Option<usize>),
) -> bool {
    if heap.collecting.get() {
        return false;
    }
    heap.collecting.set(true);
    let guard = PassGuard { heap, which };
    let epoch = heap.begin_table_pass();
    for list in heap.lists(which) {
        update_refs(list);
    }
    for list in heap.lists(which) {
        subtract_refs(list);
    }
    // The maps inside the heap count their values' references; a map
    // outside it (a local, a static) holds them from outside.
    subtract_tables(heap, epoch, Roots::None, SubtractRefs::COLLECTING_ONLY);
    // Read and clear in one walk; the guard only runs on a panic.
    heap.for_each(which, |h, header| {
        // SAFETY: on a list, with `gc_refs` in its `prev` (`update_refs`).
        let gc_refs = unsafe { gc_refs(h) };
        let refs = (gc_refs != GC_REFS_PINNED).then(|| {
            // `gc_refs >= 0` by the `Trace` contract; clamp regardless.
            header
                .strong()
                .saturating_sub(usize::try_from(gc_refs).unwrap_or(0))
        });
        header.clear(flags::COLLECTING);
        read(h, header, refs);
    });
    for list in heap.lists(which) {
        list.repair_prevs();
    }
    std::mem::forget(guard);
    heap.collecting.set(false);
    true
}

/// Clears the collection state [`count_internal_refs`] left if a `Trace`
/// impl panicked, and the heap's collecting mark.
struct PassGuard<'a> {
    heap: &'a Heap,
    which: Lists,
}

impl Drop for PassGuard<'_> {
    fn drop(&mut self) {
        self.heap
            .for_each(self.which, |_, header| header.clear(flags::COLLECTING));
        for list in self.heap.lists(self.which) {
            list.repair_prevs();
        }
        self.heap.collecting.set(false);
    }
}
