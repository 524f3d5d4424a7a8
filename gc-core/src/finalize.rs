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
    header.set(flags::FINALIZED);
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
