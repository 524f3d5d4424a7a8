//! Finalizers on reference-count death (CPython's
//! `PyObject_CallFinalizerFromDealloc`), and the bookkeeping of which
//! objects still have a finalizer to run. The collection's handling of
//! finalizers is `collector::finalizers`; the `Finalize` trait is the
//! contract's (`trace`).

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::heap::LOCAL;
use crate::layout::{GcHeader, HeaderPtr, flags, header_ref};

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
    let Some(finalize) = header.vtable().finalize else {
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

/// Whether the object still has a finalizer to run. An object whose
/// finalizer already ran (on a refcount death it survived) has none left,
/// so it no longer makes its cycle uncollectable.
pub(crate) fn has_legacy_finalizer(h: HeaderPtr) -> bool {
    // SAFETY: the collector only asks about allocated objects.
    let header = unsafe { header_ref(h) };
    header.vtable().finalize.is_some() && !header.has(flags::FINALIZED)
}

/// Whether any object with a finalizer that has not run may exist on this
/// thread (if not, the `Uncollectable` policy's walks are skipped). Counted
/// up when such an object is allocated, down when its finalizer runs.
pub(crate) fn pending_finalizers() -> bool {
    LOCAL.with(|l| l.pending_finalizers.get() != 0)
}

/// Counts a new object whose type has a finalizer.
pub(crate) fn note_finalizer_object() {
    LOCAL.with(|l| l.pending_finalizers.set(l.pending_finalizers.get() + 1));
}

/// Marks the finalizer of `header`'s object as run (or running).
pub(crate) fn mark_finalized(header: &GcHeader) {
    header.set(flags::FINALIZED);
    LOCAL.with(|l| {
        l.pending_finalizers
            .set(l.pending_finalizers.get().saturating_sub(1));
    });
}
