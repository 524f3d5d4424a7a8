//! The weak cell: what a group of `Weak`s points at (CPython's weakref
//! object). Each object lists its cells, newest first, from its header's
//! `weakrefs` field. This file is the cell's shape; creating, clearing and
//! calling back are the lifecycle's (`lifecycle::weakrefs`).
//!
//! `pub` only so that the sealed `Tracer` may name it; the module is private.

use std::cell::Cell;
use std::ptr::{self, NonNull};

use super::HeaderPtr;

/// The object a group of `Weak`s refers to (CPython's weakref object).
pub struct WeakCell {
    /// The object, until its weak references are cleared.
    pub(crate) target: Cell<Option<HeaderPtr>>,
    /// `Weak` handles to this cell, plus one while its callback is pending.
    /// At zero the cell is unlisted and freed. Aborts on overflow
    /// ([`WeakCell::inc_handles`]).
    pub(crate) handles: Cell<usize>,
    /// The next (older) cell of the same object.
    pub(crate) next: Cell<*const WeakCell>,
    /// The callback of a `downgrade_with` cell, until it runs or the cell
    /// dies. A cell made with a callback is never shared by `downgrade`.
    pub(crate) callback: Cell<Option<Box<dyn FnOnce()>>>,
    /// Made by `downgrade` (no callback): the object's shared cell.
    pub(crate) canonical: bool,
    /// The trash epoch (see `lifecycle::weakrefs::begin_trash_epoch`) of the collection that
    /// found this cell's handle owned by an object of its garbage: while
    /// that collection runs, the callback must not fire (CPython: a weakref
    /// in the trash never calls back). The mark means nothing once that
    /// collection is over: a garbage object that survives it (`SAVEALL`,
    /// PEP 442 resurrection) keeps working weak references. 0: never marked.
    pub(crate) in_trash: Cell<u64>,
}

impl WeakCell {
    /// A cell for `target` with one handle; canonical (shared by plain
    /// `downgrade`s) when it has no callback.
    pub(crate) fn new(target: HeaderPtr, callback: Option<Box<dyn FnOnce()>>) -> WeakCell {
        WeakCell {
            target: Cell::new(Some(target)),
            handles: Cell::new(1),
            next: Cell::new(ptr::null()),
            canonical: callback.is_none(),
            callback: Cell::new(callback),
            in_trash: Cell::new(0),
        }
    }

    /// Counts one more handle. Aborts on overflow, as `Rc` does: wrapping to
    /// zero would let the cell be freed while handles remain, and the count
    /// cannot overflow without leaking `usize::MAX` handles (`mem::forget`).
    #[inline]
    pub(crate) fn inc_handles(&self) {
        let n = self.handles.get().wrapping_add(1);
        self.handles.set(n);
        if n == 0 {
            std::process::abort();
        }
    }

    /// The pointer a `Weak::new()` holds: no cell.
    pub(crate) const DANGLING: NonNull<WeakCell> =
        NonNull::without_provenance(std::num::NonZero::<usize>::MAX);

    /// The cell behind a `Weak`'s pointer, `None` for [`Self::DANGLING`].
    ///
    /// # Safety
    ///
    /// `ptr` is `DANGLING` or a cell the caller's handle keeps allocated,
    /// and the reference does not outlive that handle.
    #[inline]
    pub(crate) unsafe fn of_handle<'a>(ptr: NonNull<WeakCell>) -> Option<&'a WeakCell> {
        if ptr == Self::DANGLING {
            return None;
        }
        // SAFETY: not dangling, so allocated (caller).
        Some(unsafe { ptr.as_ref() })
    }
}
