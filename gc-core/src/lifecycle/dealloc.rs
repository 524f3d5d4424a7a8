//! What happens when the last strong reference goes (CPython's
//! `_Py_Dealloc`, `PyObject_GC_UnTrack` and `PyObject_GC_Del`): the object
//! is untracked, its finalizer runs if it has one, its weak references are
//! cleared and their callbacks run, its value is dropped through the
//! trashcan, and its box is freed.
//!
//! [`release_typed`] is the hot path, with the value's type known (an
//! object with no weak reference and no finalizer, as `Rc`'s `drop_slow`);
//! [`release`] is the type-erased path every other case takes.
//! [`StrongRef`] is a type-erased owned reference, the one that
//! `gc.garbage`, introspection and `Object` hold.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use super::finalize::{Finalized, run_on_refcount_death};
use super::trashcan;
use super::weakrefs::{PendingCallbacks, clear_weakrefs};
use crate::heap::{Heap, count_object, drop_payload, forget_snapshot_id, heap, uncount_object};
use crate::layout::alloc::deallocate;
use crate::layout::list::unlink;
use std::ptr::NonNull;

use crate::layout::{GcBox, GcHeader, HeaderPtr, allocation, flags, header_ref};

/// The last strong handle is gone. The common case, an object with no
/// weak references and no finalizer, is handled here with the type known
/// statically (as `Rc` does); everything else goes through [`release`].
///
/// # Safety
///
/// `ptr` is a live box whose strong count just reached zero.
#[inline(never)]
pub(crate) unsafe fn release_typed<T: ?Sized>(ptr: NonNull<GcBox<T>>) {
    let h: HeaderPtr = ptr.cast();
    // SAFETY: allocated (caller).
    let header = unsafe { header_ref(h) };
    let bits = header.flags();
    // A box with a snapshot id takes the type-erased path, which forgets
    // the id before freeing (`heap::ids`); one mask, so no cost here.
    let slow = flags::HAS_WEAKREFS | flags::VALUE_DROPPED | flags::CONDEMNED;
    let plain = bits & (slow | flags::HAS_SNAPSHOT_ID) == 0 && header.vtable().finalize.is_none();
    if !plain {
        // SAFETY: forwarded from the caller.
        unsafe { release(h) };
        return;
    }
    if bits & flags::TRACKED != 0 {
        // SAFETY: tracked, and its value is about to die.
        unsafe { untrack_dead(h) };
    }
    if bits & flags::DEEP_DROP != 0 {
        // SAFETY: count zero, unlinked, value live, no weak cells.
        unsafe { trashcan::destroy_typed(ptr) };
    } else {
        // SAFETY: as above; a value that cannot reach a `Gc` cannot
        // recurse into another object's destruction; its type is untracked,
        // so the box has no link (`HAS_LINK` is the `DEEP_DROP` bit, the
        // type's `TRACKED`).
        unsafe { trashcan::drop_and_free_typed(ptr, false) };
    }
}

/// The last strong handle of `h` is gone: untrack the object and destroy it
/// (the cold half of `Drop for Gc`, shared by every type through the vtable).
///
/// # Safety
///
/// `h` is allocated and its strong count just dropped to zero.
#[inline(never)]
pub(crate) unsafe fn release(h: HeaderPtr) {
    // SAFETY: allocated (caller).
    let header = unsafe { header_ref(h) };
    if header.has(flags::CONDEMNED) {
        // A collection is tearing the object down. If its value is already
        // dropped (this was the last reference from the rest of the garbage,
        // or a handle that escaped the teardown), free the box now;
        // otherwise the collector frees it after dropping the value.
        if header.has(flags::VALUE_DROPPED) {
            if header.has(flags::TRACKED) {
                // SAFETY: still on the collection's list; its value is gone.
                unsafe { untrack(h, heap()) };
            }
            // SAFETY: no handle is left, the value is dropped and the weak
            // cells were cleared when the object was condemned.
            unsafe { free_box(h) };
        }
        return;
    }
    // SAFETY: the value is live and nobody is dropping it.
    let finalized = unsafe { run_on_refcount_death(h) };
    let panic = match finalized {
        Finalized::Resurrected => return,
        Finalized::Done(panic) => panic,
    };
    // The first panic (the finalizer's, then a callback's, then the
    // destructor's) propagates once the object is destroyed; later ones are
    // dropped by `drop_payload`. No payload is ever held in a local while
    // user code may unwind past it: dropped by the unwinding, a payload
    // whose `Drop` panics would abort the process.
    let mut panic = panic;
    let mut keep = |payload| {
        if panic.is_none() {
            panic = Some(payload);
        } else {
            drop_payload(payload);
        }
    };
    let mut callbacks = PendingCallbacks::default();
    clear_weakrefs(header, &mut callbacks);
    // Untrack before any callback runs: a collection it triggers must not
    // see an object whose count is zero.
    if header.has(flags::TRACKED) {
        // SAFETY: tracked, and its value is about to die.
        unsafe { untrack_dead(h) };
    }
    if !callbacks.is_empty() {
        callbacks.run(&mut keep);
    }
    // SAFETY: strong count zero, unlinked, value live (not VALUE_DROPPED).
    // A panicking destructor still frees the box (`trashcan`'s guard).
    let destroyed = catch_unwind(AssertUnwindSafe(|| unsafe { trashcan::destroy(h) }));
    if let Err(payload) = destroyed {
        keep(payload);
    }
    if let Some(payload) = panic {
        resume_unwind(payload);
    }
}

/// A new object, its header and value written, enters generation 0 (when
/// `heap` is given: its type is tracked and the thread has a heap, and the
/// caller set `TRACKED` in its header then), and is counted if its type has
/// a finalizer. The one place a new object enters the lists, as [`untrack`]
/// is where it leaves (CPython's `_PyObject_GC_TRACK`).
///
/// # Safety
///
/// `h` is a live box with its value, on no list.
#[inline(always)]
pub(crate) unsafe fn track_new(h: HeaderPtr, heap: Option<&Heap>, has_finalizer: bool) {
    if let Some(heap) = heap {
        // SAFETY: live and on no list (caller); generation 0's head is
        // initialised.
        unsafe { heap.generations[0].head.push_back(h) };
    }
    if has_finalizer {
        super::finalize::note_finalizer_object();
    }
}

/// Takes a tracked object whose value is dying (or dead) off its list for
/// good, clears its collection state, and counts the deallocation towards
/// count0 (`heap`: this thread's, if it still exists), as
/// `PyObject_GC_Del` does. The one place an object is untracked and counted
/// as deallocated.
///
/// # Safety
///
/// `h` is allocated and on a list of this thread's heap (`TRACKED`).
#[inline]
pub(crate) unsafe fn untrack(h: HeaderPtr, heap: Option<&Heap>) {
    // SAFETY: on a list (caller).
    unsafe { unlink(h) };
    // SAFETY: allocated (caller).
    unsafe { header_ref(h) }.clear(flags::TRACKED | flags::COLLECTING | flags::UNREACHABLE);
    if let Some(heap) = heap {
        heap.note_deallocation();
    }
}

/// [`untrack`] for an object that reference counting is destroying (not a
/// collection): a generation-2 object's death also counts against the
/// long-lived growth (`Heap::note_long_lived_death`).
///
/// # Safety
///
/// As [`untrack`].
#[inline]
unsafe fn untrack_dead(h: HeaderPtr) {
    // SAFETY: allocated (caller).
    let old = unsafe { header_ref(h) }.generation() == Some(2);
    let heap = heap();
    // SAFETY: forwarded from the caller.
    unsafe { untrack(h, heap) };
    if let (true, Some(heap)) = (old, heap) {
        heap.note_long_lived_death();
    }
}

/// Frees a box.
///
/// # Safety
///
/// The value is dropped, no strong handle remains, and the weak cells were
/// cleared (so nothing points at the box any more).
pub(crate) unsafe fn free_box(h: HeaderPtr) {
    // SAFETY: allocated (caller).
    let header = unsafe { header_ref(h) };
    debug_assert!(header.weakrefs().is_null());
    // SAFETY: allocated (caller).
    unsafe { forget_snapshot_id(h) };
    // SAFETY: allocated (caller).
    let (base, layout) = unsafe { allocation(h) };
    // SAFETY: nothing refers to the box; this is where and how it was
    // allocated.
    unsafe { deallocate(base, layout) };
}

/// The last strong handle takes the value out of its box (`Gc::try_unwrap`):
/// the object dies without its value being dropped. Its weak references
/// are cleared (their callbacks run once the box is freed), it is
/// untracked, its finalizer is marked as run (the value lives on as a plain
/// `T`, as `Rc::try_unwrap` runs no `Drop`), and the box is freed.
///
/// A panic from a callback propagates after the object is gone; the value
/// is dropped by the unwinding.
///
/// # Safety
///
/// `ptr` is a live box whose strong count is 1, held by the caller, whose
/// value is not condemned nor dropped; the caller gives up that handle.
pub(crate) unsafe fn take_value<T>(ptr: NonNull<GcBox<T>>) -> T {
    let h: HeaderPtr = ptr.cast();
    // SAFETY: live (caller).
    let header = unsafe { header_ref(h) };
    debug_assert!(header.strong() == 1 && !header.has(flags::CONDEMNED | flags::VALUE_DROPPED));
    header.dec_strong();
    let mut callbacks = PendingCallbacks::default();
    clear_weakrefs(header, &mut callbacks);
    if header.has(flags::TRACKED) {
        // SAFETY: tracked, and its value is leaving the box.
        unsafe { untrack_dead(h) };
    }
    if header.vtable().finalize.is_some() && !header.has(flags::FINALIZED) {
        super::finalize::mark_finalized(header);
    }
    header.set(flags::VALUE_DROPPED);
    // SAFETY: the value is live and read exactly once; `VALUE_DROPPED` (set
    // above) keeps anything from touching it again.
    let value = unsafe { std::ptr::read(&raw const (*ptr.as_ptr()).value) };
    // SAFETY: no handle is left, the value was moved out, the weak cells
    // are cleared and the object is unlinked.
    unsafe { free_box(h) };
    let mut panic = None;
    callbacks.run(|payload| {
        if panic.is_none() {
            panic = Some(payload);
        } else {
            drop_payload(payload);
        }
    });
    if let Some(payload) = panic {
        resume_unwind(payload);
    }
    value
}

/// An owned strong reference to a type-erased object, counted as an
/// introspection handle (`GcHeader::objects`): the reference `gc.garbage`,
/// the tools' search queues and `Object` hold. Introspection handles never
/// make an object a root (`objgraph::is_root`). Dropping the last strong
/// reference releases the object ([`release`]).
pub(crate) struct StrongRef(HeaderPtr);

impl StrongRef {
    /// Adopts a strong count the caller already owns (from a `Gc`).
    ///
    /// # Safety
    ///
    /// `h` is allocated and the caller hands over one strong count.
    pub(crate) unsafe fn adopt(h: HeaderPtr) -> StrongRef {
        count_object(h);
        StrongRef(h)
    }

    /// Takes a new strong count on `h`.
    ///
    /// # Safety
    ///
    /// `h` is allocated and its value is live.
    pub(crate) unsafe fn new(h: HeaderPtr) -> StrongRef {
        // SAFETY: live (caller).
        unsafe { header_ref(h) }.inc_strong();
        count_object(h);
        StrongRef(h)
    }

    #[inline]
    pub(crate) fn ptr(&self) -> HeaderPtr {
        self.0
    }

    #[inline]
    pub(crate) fn header(&self) -> &GcHeader {
        // SAFETY: a strong reference keeps the box allocated.
        unsafe { header_ref(self.0) }
    }
}

impl Clone for StrongRef {
    fn clone(&self) -> Self {
        self.header().inc_strong();
        count_object(self.0);
        StrongRef(self.0)
    }
}

impl Drop for StrongRef {
    fn drop(&mut self) {
        uncount_object(self.0);
        if self.header().dec_strong() == 0 {
            // SAFETY: that was the last strong reference.
            unsafe { release(self.0) };
        }
    }
}
