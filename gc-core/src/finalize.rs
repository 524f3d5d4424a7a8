//! Finalizers: Python's `__del__`.

/// A finalizer, Python's `__del__`: cleanup logic that runs exactly once per
/// object, while every field is still valid.
///
/// Enable it with `#[gc(finalize)]` next to `#[derive(Trace)]`; the derive
/// refuses to compile if the type does not implement `Finalize`. Unlike a
/// `Drop` impl (which the derive forbids, because a garbage cycle's values
/// are dropped one by one), a finalizer may use its `Gc` fields: it runs
/// before anything is dropped.
///
/// On reference-count death the finalizer runs first, while the object's
/// `Weak`s still upgrade. If it stores a new strong handle to the object
/// somewhere, the object is resurrected; when it dies again it is freed
/// without a second finalizer run. A finalizer that panics counts as having
/// run; the panic propagates once the object has been destroyed.
///
/// ```
/// use gc_core::{Finalize, Gc, Trace};
/// use std::cell::Cell;
///
/// thread_local!(static CLOSED: Cell<u32> = const { Cell::new(0) });
///
/// #[derive(Trace)]
/// #[gc(finalize)]
/// struct File {
///     name: String,
/// }
///
/// impl Finalize for File {
///     fn finalize(&self) {
///         CLOSED.with(|c| c.set(c.get() + 1));
///     }
/// }
///
/// let f = Gc::new(File { name: "log.txt".into() });
/// assert!(!gc_core::is_finalized(&f));
/// drop(f);
/// assert_eq!(CLOSED.with(Cell::get), 1);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has `#[gc(finalize)]` but does not implement `Finalize`",
    label = "`#[gc(finalize)]` requires `impl Finalize for {Self}`",
    note = "add `impl gc_core::Finalize for {Self} {{ fn finalize(&self) {{ ... }} }}`, or remove `#[gc(finalize)]`"
)]
pub trait Finalize {
    /// Runs once, before the object is destroyed.
    fn finalize(&self);
}

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::header::{HeaderPtr, flags, header_ref};

/// What running a finalizer on reference-count death led to.
pub(crate) enum Finalized {
    /// The finalizer stored a new strong handle: the object lives on.
    Resurrected,
    /// Go on destroying the object; then resume the finalizer's panic, if any.
    Done(Option<Box<dyn std::any::Any + Send>>),
}

/// Runs the finalizer of an object whose strong count just reached zero, if
/// it has one that has not run yet. The object holds one strong count while
/// the finalizer runs, so its `Weak`s upgrade and a clone of a handle
/// resurrects it.
///
/// # Safety
///
/// `h` is allocated, its strong count is zero and its value is live.
pub(crate) unsafe fn run_on_refcount_death(h: HeaderPtr) -> Finalized {
    // SAFETY: allocated (caller).
    let header = unsafe { header_ref(h) };
    let Some(finalize) = header.vtable.finalize else {
        return Finalized::Done(None);
    };
    if header.has(flags::FINALIZED) {
        return Finalized::Done(None);
    }
    mark_finalized(header);
    header.inc_strong();
    // SAFETY: the value is live (caller) and kept so by the count above.
    let result = catch_unwind(AssertUnwindSafe(|| unsafe { finalize(h) }));
    if header.dec_strong() != 0 {
        if let Err(payload) = result {
            std::panic::resume_unwind(payload);
        }
        return Finalized::Resurrected;
    }
    Finalized::Done(result.err())
}

use crate::collector::{move_unreachable, release_to_old, subtract_refs};
use crate::list::Link;
use crate::object::trace_edges;
use crate::state::{Heap, heap};

/// What a collection does with unreachable objects that have finalizers
/// (`#[gc(finalize)]`).
///
/// ```
/// use gc_core::FinalizerPolicy;
/// assert_eq!(gc_core::get_finalizer_policy(), FinalizerPolicy::Uncollectable);
/// gc_core::set_finalizer_policy(FinalizerPolicy::Finalize);
/// assert_eq!(gc_core::get_finalizer_policy(), FinalizerPolicy::Finalize);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FinalizerPolicy {
    /// Python 2.7 (the default): a cycle holding an object with a finalizer
    /// cannot be finalized in a safe order, so it is not freed. The objects
    /// with finalizers and everything reachable from them are kept alive and
    /// counted as uncollectable; the objects with finalizers are appended to
    /// [`garbage()`](crate::garbage), where the program can break the cycle
    /// by hand. No finalizer runs in a collection.
    #[default]
    Uncollectable,
    /// PEP 442 (Python 3.4+): the finalizers of the unreachable objects run
    /// once each, in list order; then reachability is computed again, and
    /// objects a finalizer resurrected survive while the rest are freed.
    Finalize,
}

/// Sets the finalizer policy of this thread's collector.
pub fn set_finalizer_policy(policy: FinalizerPolicy) {
    if let Some(heap) = heap() {
        heap.policy.set(policy);
    }
}

/// The finalizer policy of this thread's collector.
pub fn get_finalizer_policy() -> FinalizerPolicy {
    heap().map_or_else(FinalizerPolicy::default, |h| h.policy.get())
}

/// Whether the object still has a finalizer to run. An object whose
/// finalizer already ran (on a refcount death it survived) has none left,
/// so it no longer makes its cycle uncollectable.
pub(crate) fn has_legacy_finalizer(h: crate::header::HeaderPtr) -> bool {
    // SAFETY: the collector only asks about allocated objects.
    let header = unsafe { header_ref(h) };
    header.vtable.finalize.is_some() && !header.has(flags::FINALIZED)
}

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
        let mut visit = |child: crate::header::HeaderPtr, _: &[crate::trace::Segment]| {
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
        if let Some(finalize) = header.vtable.finalize
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
    for h in unreachable.iter() {
        // SAFETY: allocated.
        let header = unsafe { header_ref(h) };
        header.init_gc_refs();
        header.subtract_gc_ref(); // the collector's hold is not a reference
        header.set(flags::COLLECTING);
    }
    subtract_refs(unreachable);
    let resurrected = move_unreachable(unreachable, still_unreachable, target);
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

/// Whether any object with a finalizer that has not run may exist on this
/// thread (if not, the `Uncollectable` policy's walks are skipped). Counted
/// up when such an object is allocated, down when its finalizer runs.
pub(crate) fn pending_finalizers() -> bool {
    crate::state::LOCAL.with(|l| l.pending_finalizers.get() != 0)
}

/// Counts a new object whose type has a finalizer.
pub(crate) fn note_finalizer_object() {
    crate::state::LOCAL.with(|l| l.pending_finalizers.set(l.pending_finalizers.get() + 1));
}

/// Marks the finalizer of `header`'s object as run (or running).
fn mark_finalized(header: &crate::header::GcHeader) {
    header.set(flags::FINALIZED);
    crate::state::LOCAL.with(|l| {
        l.pending_finalizers
            .set(l.pending_finalizers.get().saturating_sub(1));
    });
}
