//! The cycle detector: CPython's trial deletion over intrusive container
//! lists. **Read `collect_main` first**; each phase below is a small
//! function whose comment states what holds before and after it.
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
//!   `DYING` object: when its count reaches zero, `gc::release` frees the
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
//! `VALUE_DROPPED` (`object::trace_edges`), and lists only generations.
//!
//! | seam | when | can reach | state of the garbage | what the collector does |
//! |---|---|---|---|---|
//! | collection callbacks (`Start`) | before phase 1 | anything | no collection state yet | nothing to protect |
//! | `Trace` impls | phases 1-3, the finalizer walks, `mark_trash`, the PEP 442 re-check | only `self` (contract rules 3-4) | `COLLECTING`, maybe `UNREACHABLE` | a panic is caught by `RestoreOnUnwind` (phases 1-3) or `ScratchGuard` (later), which put every object back on a generation with no collection state and release the holds of the policy the collection started with |
//! | weak callbacks (`handle_weakrefs`) | after the garbage's `Weak`s are cleared | live objects only: the garbage's `Weak`s no longer upgrade, and a callback owning a strong handle would have made its object reachable | `DYING` (default), held (PEP 442) or kept (`SAVEALL`); values live | a callback whose `Weak` is owned by the garbage (in the trash: `weak::begin_trash_epoch`) waits for the end of the collection; panics are kept for later |
//! | trash callbacks (`weak::run_trash_callbacks`) | after the teardown | anything | none left | a callback runs only if its `Weak` survived with its owner (`SAVEALL`, resurrection); the others are cancelled |
//! | finalizers (PEP 442) | after `handle_weakrefs` | the garbage, through `self` | held: strong count + 1, values live | afterwards `handle_resurrected_objects` recomputes reachability without the holds; new `Weak`s to the garbage are cleared by `delete_garbage` before anything is dropped |
//! | destructors (`delete_garbage`) | while values are dropped | live objects; the value being dropped (through `&mut self` only) | `DYING`, or `UNREACHABLE` on the fast path; some `VALUE_DROPPED` | boxes are freed only behind the cursor and only at count zero; a handle that escapes keeps its box (leaked); panics are kept, and their payloads are dropped without unwinding (`state::drop_payload`); an unwind here aborts (`AbortOnUnwind`) |
//! | objects freed by reference counting during teardown (their finalizers, callbacks, destructors) | inside a destructor | as destructors | as destructors | such an object is unlinked before its value is dropped, so no walk meets it |
//! | the debug writer | after the collection, before the `Stop` callbacks | anything | none left: the garbage is freed, or kept on `gc.garbage` | lines are formatted during the phases and written by `debug::write_lines` once the collection is over |
//! | collection callbacks (`Stop`) | last | anything | none left | nothing to protect |
//! | dropping a panic payload | whenever a second panic is kept | anything | any of the above | `drop_payload` catches a panicking payload drop and leaks that payload |
//!
//! Settings that user code may change meanwhile (policy, debug flags,
//! thresholds) are read once at the start and apply from the next
//! collection. In debug builds, `Link::validate` (CPython's
//! `validate_list`) checks the lists and their flags at each phase
//! boundary, and that the scratch lists are empty when no collection runs.

use std::panic::resume_unwind;
use std::ptr::NonNull;

use crate::callbacks::{CollectionInfo, Phase, invoke_callbacks};
use crate::debug::DebugFlags;
use crate::finalize::{
    FinalizerPolicy, finalize_garbage, handle_resurrected_objects, move_legacy_finalizer_reachable,
    move_legacy_finalizers,
};
use crate::garbage::{handle_legacy_finalizers, save_garbage};
use crate::gc::free_box;
use crate::header::{HeaderPtr, flags, header_ref, value_ref};
use crate::introspect::GenerationStats;
use crate::list::{Link, unlink};
use crate::state::{Heap, heap};
use crate::trace::{Trace, impl_collector_tracer};
use crate::weak::{PendingCallbacks, clear_weakrefs};

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
    heap().map_or(0, |heap| collect_with_callbacks(heap, generation))
}

/// CPython's `gc_collect_with_callback`, plus the re-entrancy guard: the
/// callbacks see `Start`, the collection runs, the debug lines are written,
/// the callbacks see `Stop`.
pub(crate) fn collect_with_callbacks(heap: &Heap, generation: usize) -> usize {
    if heap.collecting.get() {
        return 0;
    }
    let _scope = CollectionScope::enter(heap);

    invoke_callbacks(heap, Phase::Start, &CollectionInfo::start(generation));
    let outcome = collect_main(heap, generation);
    run_held_back_user_code(heap);
    let info = CollectionInfo {
        generation,
        collected: outcome.collected,
        uncollectable: outcome.uncollectable,
    };
    // A panic of user code during the collection wins over the callbacks:
    // resume it now that the heap is consistent.
    let pending = heap.pending_panic.borrow_mut().take();
    if let Some(payload) = pending {
        resume_unwind(payload);
    }
    invoke_callbacks(heap, Phase::Stop, &info);
    outcome.collected + outcome.uncollectable
}

/// Once the garbage is gone or kept and every list is consistent, runs the
/// user code the collection held back (see "Where user code runs"): the
/// callbacks of `Weak`s that were in the trash, then the debug writer.
fn run_held_back_user_code(heap: &Heap) {
    crate::weak::end_trash_epoch();
    crate::weak::run_trash_callbacks(heap, |payload| heap.note_panic(payload));
    crate::debug::write_lines(heap);
}

/// Debug builds: no collection state is left outside a collection.
#[cfg(debug_assertions)]
fn validate_idle(heap: &Heap) {
    heap.unreachable
        .validate("unreachable", "absent", |_| false);
    heap.finalizers.validate("finalizers", "absent", |_| false);
    assert!(heap.trash_callbacks.borrow().is_empty());
}

/// Marks a collection as running for as long as it lives. If the collection
/// unwinds (a `Trace` impl or a `Start` callback panicked; the phases' own
/// guards have already put every object back on a generation), it runs the
/// user code held back so far ([`run_held_back_user_code`]) and drops any
/// panic kept from user code (the unwinding panic wins).
struct CollectionScope<'a>(&'a Heap);

impl<'a> CollectionScope<'a> {
    fn enter(heap: &'a Heap) -> Self {
        #[cfg(debug_assertions)]
        validate_idle(heap);
        heap.collecting.set(true);
        CollectionScope(heap)
    }
}

impl Drop for CollectionScope<'_> {
    fn drop(&mut self) {
        let heap = self.0;
        if std::thread::panicking() {
            run_held_back_user_code(heap);
            heap.discard_panic();
        }
        #[cfg(debug_assertions)]
        validate_idle(heap);
        heap.collecting.set(false);
    }
}

/// Aborts the process if dropped during unwinding. Held over the teardown,
/// where no panic can escape (every piece of user code there runs under
/// `catch_unwind`, and payloads are dropped by `drop_payload`): should one
/// escape anyway, objects would be left half torn down, and a clean abort
/// beats a double free.
struct AbortOnUnwind;

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("gc-core: a panic escaped the teardown of garbage; aborting");
            std::process::abort();
        }
    }
}

/// What one collection found.
pub(crate) struct Outcome {
    /// Unreachable objects freed, or saved by `SAVEALL` (CPython's `m`).
    pub(crate) collected: usize,
    /// Objects kept because of finalizers (CPython's `n`).
    pub(crate) uncollectable: usize,
}

/// One collection of `generation` (CPython's `gc_collect_main`). Read this
/// first: it is the table of contents of the phases.
fn collect_main(heap: &Heap, generation: usize) -> Outcome {
    // Read once: user code during the collection (a finalizer, a callback)
    // may change the settings, which then apply from the next collection.
    let debug = heap.debug.get();
    let policy = heap.policy.get();
    let started = debug
        .contains(DebugFlags::STATS)
        .then(|| crate::debug::stats_start(heap, generation));
    let young = &heap.generations[generation].head;
    let target = (generation + 1).min(2);
    let old = &heap.generations[target].head;
    update_counts(heap, generation);
    merge_younger(heap, generation);
    #[cfg(debug_assertions)]
    young.validate("young", "an idle object of a collected generation", |f| {
        f & (flags::COLLECTING | flags::CONDEMNED | flags::VALUE_DROPPED) == 0
            && (f & flags::GEN_MASK) >> flags::GEN_SHIFT <= generation as u32
    });

    // Which objects are unreachable?
    let (examined, survivors) =
        deduce_unreachable(young, &heap.unreachable, generation, target as u32);
    promote_survivors(heap, generation, survivors);
    #[cfg(debug_assertions)]
    {
        young.validate("young", "a scanned survivor", |f| {
            f & (flags::COLLECTING | flags::CONDEMNED) == 0
                && (f & flags::GEN_MASK) >> flags::GEN_SHIFT == target as u32
        });
        heap.unreachable
            .validate("unreachable", "tentatively unreachable", |f| {
                f & (flags::COLLECTING | flags::UNREACHABLE)
                    == flags::COLLECTING | flags::UNREACHABLE
            });
    }
    if !std::ptr::eq(young, old) {
        // SAFETY: distinct initialised heads of this heap.
        unsafe { old.merge_from(young) };
    }

    // From here on the scratch lists hold objects: if a `Trace` impl panics,
    // hand them back to `old` intact.
    let guard = ScratchGuard {
        heap,
        old,
        target: target as u32,
        policy,
        held: std::cell::Cell::new(false),
    };
    // Python 2.7: cycles with finalizers are kept, with all they reach.
    if policy == FinalizerPolicy::Uncollectable && crate::finalize::pending_finalizers() {
        move_legacy_finalizers(&heap.unreachable, &heap.finalizers);
        move_legacy_finalizer_reachable(&heap.finalizers);
    }
    if debug.contains(DebugFlags::COLLECTABLE) {
        for h in heap.unreachable.iter() {
            crate::debug::object_line(heap, "collectable", h);
        }
    }

    let save_all = debug.contains(DebugFlags::SAVEALL);
    // Under PEP 442 the collector holds the garbage while finalizers run;
    // otherwise what is not saved is condemned at once.
    let teardown = match policy {
        FinalizerPolicy::Finalize => Teardown::Hold,
        FinalizerPolicy::Uncollectable if save_all => Teardown::Keep,
        FinalizerPolicy::Uncollectable => Teardown::Condemn,
    };
    let weak_cells_before = crate::weak::weak_cells_created();
    // With no weak reference on this thread and nothing kept back, there is
    // nothing for `handle_weakrefs` to do but condemn the garbage, which the
    // `UNREACHABLE` flag left by `move_unreachable` already does: skip its
    // walk.
    let skip_weakrefs = teardown == Teardown::Condemn
        && !crate::weak::weak_cells_exist()
        && heap.finalizers.is_empty();
    crate::weak::begin_trash_epoch();
    let mut collected = if skip_weakrefs {
        examined - survivors
    } else {
        handle_weakrefs(heap, teardown)
    };
    #[cfg(debug_assertions)]
    heap.unreachable
        .validate("unreachable", "prepared for its teardown", |f| {
            let condemned = f & flags::CONDEMNED != 0;
            f & flags::VALUE_DROPPED == 0 && condemned == (teardown == Teardown::Condemn)
        });
    guard.held.set(teardown == Teardown::Hold);
    if policy == FinalizerPolicy::Finalize {
        // PEP 442: run the finalizers, then keep whatever they resurrected.
        finalize_garbage(heap);
        collected -= handle_resurrected_objects(heap, old, target as u32);
    }
    std::mem::forget(guard);

    // Teardown. No `Trace` impl runs from here on, and every piece of user
    // code runs under `catch_unwind`: nothing can unwind.
    let no_unwind = AbortOnUnwind;
    let held = teardown == Teardown::Hold;
    if save_all {
        save_garbage(heap, &heap.unreachable, old, target as u32, held);
    } else {
        if held {
            condemn(&heap.unreachable);
        }
        delete_garbage(heap, weak_cells_before);
    }
    // Counted only now, as CPython does: tearing the garbage down may have
    // freed a kept object that only the garbage referred to (an acyclic
    // finalizer object dies by reference counting, running its finalizer).
    let uncollectable = heap.finalizers.len();

    if debug.contains(DebugFlags::UNCOLLECTABLE) {
        for h in heap.finalizers.iter() {
            crate::debug::object_line(heap, "uncollectable", h);
        }
    }
    if let Some(started) = started {
        crate::debug::stats_done(heap, started, collected + uncollectable, uncollectable);
    }
    handle_legacy_finalizers(heap, old, target as u32, save_all);
    std::mem::forget(no_unwind);

    let outcome = Outcome {
        collected,
        uncollectable,
    };
    record_stats(heap, generation, &outcome);
    outcome
}

/// `collect(g)` resets the counts of generations `0..=g` and counts one more
/// collection of `g` towards generation `g + 1`.
fn update_counts(heap: &Heap, generation: usize) {
    if let Some(next) = heap.generations.get(generation + 1) {
        next.count.set(next.count.get() + 1);
    }
    for younger in &heap.generations[..=generation] {
        younger.count.set(0);
    }
}

/// Merges the generations younger than `generation` into it: a collection
/// of `g` examines every generation up to `g`.
fn merge_younger(heap: &Heap, generation: usize) {
    let young = &heap.generations[generation].head;
    for younger in &heap.generations[..generation] {
        // SAFETY: distinct initialised heads of this heap.
        unsafe { young.merge_from(&younger.head) };
    }
}

/// Phases 1-3 with their panic guard: splits `young` into survivors (left
/// on it) and the unreachable objects (moved to `unreachable`). Returns the
/// number of objects examined and the number of survivors.
fn deduce_unreachable(
    young: &Link,
    unreachable: &Link,
    generation: usize,
    target: u32,
) -> (usize, usize) {
    let restore = RestoreOnUnwind { young, unreachable };
    let examined = update_and_subtract_refs(young, generation as u32);
    let survivors = move_unreachable(young, unreachable, target);
    std::mem::forget(restore);
    (examined, survivors)
}

/// Phase 1. Before: no object of `young` is `COLLECTING`. After: each is
/// `COLLECTING` with `gc_refs == strong count`. Returns the size of `young`.
pub(crate) fn update_refs(young: &Link) -> usize {
    let mut size = 0;
    for h in young.iter() {
        // SAFETY: objects on a list are allocated.
        let header = unsafe { header_ref(h) };
        header.init_gc_refs();
        header.set(flags::COLLECTING);
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
        unsafe { (header.vtable.subtract_refs)(h, SubtractRefs::COLLECTING_ONLY) };
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
            header.init_gc_refs();
            header.set(flags::COLLECTING);
        }
        // SAFETY: as above; the vtable matches the box's type.
        unsafe { (header.vtable.subtract_refs)(h, generation + 1) };
    }
    size
}

/// `gc_refs -= 1` on every target that is being collected.
pub(crate) struct SubtractRefs {
    /// Targets that are tracked and whose generation bits are below this are
    /// members of the collected generation, initialised on first touch.
    /// [`SubtractRefs::COLLECTING_ONLY`] disables that: only targets already
    /// `COLLECTING` count.
    young_limit: u32,
}

impl SubtractRefs {
    /// No lazy initialisation: membership is the `COLLECTING` flag alone.
    pub(crate) const COLLECTING_ONLY: u32 = 0;
}

impl_collector_tracer!(SubtractRefs, |this, child| {
    // SAFETY: an edge reported by a value points at a box its `Gc` keeps
    // allocated (Trace contract, rule 1).
    let child = unsafe { header_ref(child) };
    let bits = child.flags();
    if bits & flags::COLLECTING == 0 {
        let generation = (bits & flags::GEN_MASK) >> flags::GEN_SHIFT;
        if bits & flags::TRACKED == 0 || generation >= this.young_limit {
            return;
        }
        child.init_gc_refs();
        child.set(flags::COLLECTING);
    }
    child.subtract_gc_ref();
});

/// The `subtract_refs` entry of `GcBox<T>`'s vtable.
///
/// # Safety
///
/// `h` is a live `GcBox<T>` whose value is not dropped.
pub(crate) unsafe fn subtract_refs_of<T: Trace>(h: HeaderPtr, young_limit: u32) {
    // SAFETY: forwarded from the caller.
    unsafe { value_ref::<T>(h) }.trace(&mut SubtractRefs { young_limit });
}

/// Phase 3. Splits `young` into reachable objects (left on `young`, with
/// `COLLECTING` cleared and their generation bits set to `target`) and
/// unreachable ones (moved to `unreachable`, still `COLLECTING`).
///
/// Walks `young` front to back. An object with `gc_refs > 0` is reachable
/// from outside; its edges are visited with [`VisitReachable`], which marks
/// the targets reachable and moves back any target already moved to
/// `unreachable` (to the tail of `young`, so it is scanned in turn). An
/// object with `gc_refs == 0` is *tentatively* unreachable: a later object
/// may still reach it. When the walk ends, whatever is on `unreachable` is
/// reachable from nothing outside `young`.
///
/// Returns the number of reachable objects.
pub(crate) fn move_unreachable(young: &Link, unreachable: &Link, target: u32) -> usize {
    let young_ptr = NonNull::from(young);
    let mut survivors = 0;
    let mut cursor = young.first();
    while let Some(h) = cursor {
        // SAFETY: objects on a list are allocated.
        let header = unsafe { header_ref(h) };
        if header.gc_refs.get() > 0 {
            // SAFETY: `h` is live with a live value; the vtable matches.
            unsafe { (header.vtable.visit_reachable)(h, young_ptr) };
            header.mark_scanned(target);
            survivors += 1;
            // Read the successor only now: the visit may have appended.
            // SAFETY: `h` is still on `young`.
            cursor = unsafe { young.next_of(h) };
        } else {
            // SAFETY: `h` is on `young`.
            cursor = unsafe { young.next_of(h) };
            // SAFETY: `h` is live and on a list; `unreachable` is a head.
            unsafe { unreachable.move_back(h) };
            header.set(flags::UNREACHABLE);
        }
    }
    survivors
}

/// Marks the targets of a reachable object reachable.
struct VisitReachable {
    young: NonNull<Link>,
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
        header.gc_refs.set(1);
        // SAFETY: `child` is on the unreachable list; `young` is the head of
        // the list being walked, alive for the whole phase.
        unsafe { this.young.as_ref().move_back(child) };
    } else if header.gc_refs.get() == 0 {
        // Not scanned yet: scanning will treat it as reachable.
        header.gc_refs.set(1);
    }
});

/// The `visit_reachable` entry of `GcBox<T>`'s vtable.
///
/// # Safety
///
/// `h` is a live `GcBox<T>` whose value is not dropped; `young` heads the
/// list being walked by `move_unreachable`.
pub(crate) unsafe fn visit_reachable_of<T: Trace>(h: HeaderPtr, young: NonNull<Link>) {
    // SAFETY: forwarded from the caller.
    unsafe { value_ref::<T>(h) }.trace(&mut VisitReachable { young });
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
        // SAFETY: distinct initialised heads of this heap.
        unsafe { self.young.merge_from(self.unreachable) };
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

/// Returns the objects of a collection's scratch lists to `old` when a
/// `Trace` impl panics after phase 3: they stay valid, tracked objects and
/// are examined again by the next collection.
struct ScratchGuard<'a> {
    heap: &'a Heap,
    old: &'a Link,
    target: u32,
    /// The policy the collection runs under (a finalizer may have changed
    /// the heap's setting since).
    policy: FinalizerPolicy,
    /// The objects on `unreachable` (and, under the `Finalize` policy, on
    /// `finalizers`) carry the collector's holds.
    held: std::cell::Cell<bool>,
}

impl Drop for ScratchGuard<'_> {
    fn drop(&mut self) {
        let held = self.held.get();
        let finalizers_held = held && self.policy == FinalizerPolicy::Finalize;
        release_to_old(
            &self.heap.finalizers,
            self.old,
            self.target,
            finalizers_held,
        );
        release_to_old(&self.heap.unreachable, self.old, self.target, held);
    }
}

/// Updates the long-lived bookkeeping behind the 25% rule.
fn promote_survivors(heap: &Heap, generation: usize, survivors: usize) {
    match generation {
        1 => heap
            .long_lived_pending
            .set(heap.long_lived_pending.get() + survivors),
        2 => {
            heap.long_lived_pending.set(0);
            heap.long_lived_total.set(survivors);
        }
        _ => {}
    }
}

/// What `handle_weakrefs` prepares the unreachable objects for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Teardown {
    /// Mark them `DYING` now: they will be torn down.
    Condemn,
    /// Hold a strong count on each while finalizers run (PEP 442); they are
    /// condemned or kept afterwards.
    Hold,
    /// Neither: `SAVEALL` keeps them all.
    Keep,
}

/// Clears the `Weak`s of every unreachable object before any finalizer or
/// destructor runs, as CPython clears weakrefs before `tp_finalize` and
/// `tp_clear`, and prepares the objects for `teardown`. Returns how many
/// there are.
///
/// Callbacks then run (newest first per object), except those of `Weak`s
/// owned by the garbage itself, which die with it. They cannot reach the
/// garbage: its weak references are cleared, and a callback owning a strong
/// handle to an object would have made it reachable.
fn handle_weakrefs(heap: &Heap, teardown: Teardown) -> usize {
    if crate::weak::callbacks_exist() {
        for h in heap.unreachable.iter() {
            // SAFETY: objects on a list are allocated with live values.
            unsafe { (header_ref(h).vtable.mark_trash)(h) };
        }
    }
    let mut count = 0;
    let mut callbacks = PendingCallbacks::default();
    for h in heap.unreachable.iter() {
        // SAFETY: objects on a list are allocated.
        let header = unsafe { header_ref(h) };
        header.clear(flags::COLLECTING | flags::UNREACHABLE);
        match teardown {
            Teardown::Condemn => header.set(flags::DYING),
            Teardown::Hold => header.inc_strong(),
            Teardown::Keep => {}
        }
        clear_weakrefs(header, &mut callbacks);
        count += 1;
    }
    callbacks.run(|payload| heap.note_panic(payload));
    count
}

/// Releases the holds taken for the finalizers and marks the objects that
/// are still unreachable `DYING` (PEP 442 path). A count that drops to zero
/// here is fine: `delete_garbage` frees such an object once its value is
/// dropped.
fn condemn(unreachable: &Link) {
    for h in unreachable.iter() {
        // SAFETY: objects on a list are allocated.
        let header = unsafe { header_ref(h) };
        header.set(flags::DYING);
        header.dec_strong();
    }
}

/// Drops the values of the `DYING` objects on `heap.unreachable` and frees
/// each box as soon as its count is zero (see the module docs): one walk,
/// while the memory is still in cache.
///
/// A `DYING` object whose count reaches zero while its value is still live
/// waits for this walk; one whose value was already dropped is freed by
/// `gc::release` on the spot (the walk is past it). Objects still counted
/// when the walk ends escaped through a contract-breaking `Drop`: they are
/// unlinked and their boxes stay until those handles go.
fn delete_garbage(heap: &Heap, weak_cells_before: u64) {
    let unreachable = &heap.unreachable;
    if crate::weak::weak_cells_created() != weak_cells_before {
        // A finalizer or callback made new weak references: clear them too,
        // and run their callbacks, before anything is dropped.
        let mut callbacks = PendingCallbacks::default();
        for h in unreachable.iter() {
            // SAFETY: objects on a list are allocated.
            clear_weakrefs(unsafe { header_ref(h) }, &mut callbacks);
        }
        callbacks.run(|payload| heap.note_panic(payload));
    }
    drop_values_and_free(heap);
    while let Some(h) = unreachable.first() {
        // SAFETY: `h` is on the list, allocated.
        unsafe { unlink(h) };
        // SAFETY: as above.
        let header = unsafe { header_ref(h) };
        header.clear(flags::TRACKED | flags::COLLECTING | flags::UNREACHABLE);
        header.set(flags::DYING);
        heap.note_deallocation();
    }
}

/// The walk of `delete_garbage`. One `catch_unwind` covers it, re-entered
/// only after a destructor panicked (the panic is kept for later and the
/// walk goes on).
fn drop_values_and_free(heap: &Heap) {
    let unreachable = &heap.unreachable;
    let cursor = std::cell::Cell::new(unreachable.first());
    let current = std::cell::Cell::new(None);
    while cursor.get().is_some() {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            while let Some(h) = cursor.get() {
                // Advance first: only objects behind the cursor (values
                // dropped) can be freed while a value is being dropped.
                // SAFETY: `h` is on the list.
                cursor.set(unsafe { unreachable.next_of(h) });
                current.set(Some(h));
                // SAFETY: objects on a list are allocated.
                let header = unsafe { header_ref(h) };
                // SAFETY: the value is live and dropped exactly once (the
                // cursor has moved past it); no reference to it exists, as no
                // safe code can reach the garbage.
                unsafe { (header.vtable.drop_value)(h) };
                // Only now: a `Gc` to itself inside the value may have
                // brought the count to zero during the drop, and `release`
                // must then leave the box to us.
                header.set(flags::VALUE_DROPPED);
                free_if_unreferenced(heap, h);
            }
        }));
        if let Err(payload) = result {
            heap.note_panic(payload);
            if let Some(h) = current.get() {
                // The panicking drop still ended the value's life.
                // SAFETY: on the list, allocated.
                unsafe { header_ref(h) }.set(flags::VALUE_DROPPED);
                free_if_unreferenced(heap, h);
            }
        }
    }
}

/// Frees a `DYING` object whose value is dropped once nothing refers to it.
fn free_if_unreferenced(heap: &Heap, h: HeaderPtr) {
    // SAFETY: the object is on the unreachable list, allocated.
    let header = unsafe { header_ref(h) };
    if header.strong() == 0 {
        // SAFETY: on the list.
        unsafe { unlink(h) };
        heap.note_deallocation();
        // SAFETY: value dropped, no handle, weak cells cleared, unlinked.
        unsafe { free_box(h) };
    }
}

/// Releases the collector's holds on the objects of `list` and moves them
/// to `old` as ordinary survivors of generation `target`.
pub(crate) fn release_to_old(list: &Link, old: &Link, target: u32, held: bool) {
    for h in list.iter() {
        // SAFETY: objects on a list are allocated.
        let header = unsafe { header_ref(h) };
        header.clear(flags::COLLECTING | flags::UNREACHABLE);
        header.set_generation(target);
        if held {
            // Normally cannot reach zero: the garbage list or a resurrecting
            // reference keeps the object alive. After a panic (see
            // `ScratchGuard`) it may: the object then sits on `old` with no
            // handle, and the next collection finds it unreachable and frees it.
            header.dec_strong();
        }
    }
    // SAFETY: distinct initialised heads of this heap.
    unsafe { old.merge_from(list) };
}

/// Adds one collection's figures to `get_stats()`.
fn record_stats(heap: &Heap, generation: usize, outcome: &Outcome) {
    let mut stats = heap.stats.get();
    let entry: &mut GenerationStats = &mut stats[generation];
    entry.collections += 1;
    entry.collected += outcome.collected;
    entry.uncollectable += outcome.uncollectable;
    heap.stats.set(stats);
}

/// Phase entry points for the unit tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub(crate) use super::update_refs;

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
    }
}
