//! Weak references at the object level (CPython's `Objects/weakrefobject.c`):
//! creating and releasing weak cells, clearing an object's weak references
//! when it dies or is condemned (`PyObject_ClearWeakRefs`), running their
//! callbacks, and a collection's trash marks. The handle is
//! `handles::weak::Weak`.
//!
//! A `Weak` points at a `WeakCell`, not at the object. Each object lists
//! its cells (newest first) in its header, as CPython lists an object's
//! weakref objects. Clearing an object's weak references, when it dies or
//! when a collection condemns it, nulls the `target` of every cell and
//! empties the list; a cleared cell lives on, owned by its `Weak` handles,
//! until the last of them goes. So:
//!
//! - the object's box is freed as soon as its value is dropped, whatever
//!   `Weak`s remain;
//! - an object that survives a collection after its weak references were
//!   cleared (resurrected, or saved by `SAVEALL`) keeps working with new
//!   `Weak`s, while the old ones stay dead, as in CPython; the `Weak`s it
//!   owns call back again once that collection is over (a collection's
//!   "in the trash" mark is valid for that collection only).
//!
//! Plain `Weak`s to one object share one canonical cell (CPython's shared
//! `ref(obj)`), so `downgrade` allocates only the first time.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;

use crate::heap::{Heap, LOCAL, heap};
use crate::layout::{GcHeader, HeaderPtr, WeakCell, header_ref};
use crate::trace::Tracer;

impl WeakCell {
    /// Allocates a cell for `target` with one handle, counting it (not yet
    /// on the object's list).
    fn allocate(target: HeaderPtr, callback: Option<Box<dyn FnOnce()>>) -> *const WeakCell {
        LOCAL.with(|l| {
            l.weak_cells_created.set(l.weak_cells_created.get() + 1);
            l.weak_cells_live.set(l.weak_cells_live.get() + 1);
        });
        if callback.is_some() {
            LOCAL.with(|l| l.callback_cells.set(l.callback_cells.get() + 1));
        }
        Box::into_raw(Box::new(WeakCell::new(target, callback)))
    }

    /// Whether the collection running now marked this cell in its trash.
    pub(crate) fn in_trash_now(&self) -> bool {
        let epoch = LOCAL.with(|l| l.trash_epoch.get());
        epoch != 0 && self.in_trash.get() == epoch
    }

    pub(crate) fn take_callback(&self) -> Option<Box<dyn FnOnce()>> {
        let callback = self.callback.take();
        if callback.is_some() {
            LOCAL.with(|l| l.callback_cells.set(l.callback_cells.get() - 1));
        }
        callback
    }

    /// Drops one handle, freeing the cell (and an unrun callback) at zero.
    ///
    /// # Safety
    ///
    /// `cell` is live and the caller owns one of its handles.
    pub(crate) unsafe fn release(cell: *const WeakCell) {
        // SAFETY: live (caller).
        let this = unsafe { &*cell };
        let handles = this.handles.get() - 1;
        this.handles.set(handles);
        if handles != 0 {
            return;
        }
        if let Some(h) = this.target.get() {
            // SAFETY: a cell's target is live until the cell is cleared.
            unlist(unsafe { header_ref(h) }, cell);
        }
        let callback = this.take_callback();
        // SAFETY: the cell came from `Box::into_raw`; it has no handle left
        // and is on no list, so nothing refers to it.
        drop(unsafe { Box::from_raw(cell.cast_mut()) });
        LOCAL.with(|l| l.weak_cells_live.set(l.weak_cells_live.get() - 1));
        // The callback's captures may run user code: drop them last.
        drop(callback);
    }
}

/// A handle to `h`'s canonical cell (CPython's shared `ref(obj)`), made and
/// listed if the object has none yet.
///
/// # Safety
///
/// `h` is allocated and its value is live.
pub(crate) unsafe fn canonical_cell(h: HeaderPtr) -> *const WeakCell {
    // SAFETY: live (caller).
    let header = unsafe { header_ref(h) };
    let mut cur = header.weakrefs();
    while !cur.is_null() {
        // SAFETY: listed cells are live.
        let cell = unsafe { &*cur };
        if cell.canonical {
            cell.inc_handles();
            return cur;
        }
        cur = cell.next.get();
    }
    // SAFETY: forwarded from the caller.
    unsafe { new_cell(h, None) }
}

/// A new cell for `h` with one handle, listed first on the object.
///
/// # Safety
///
/// `h` is allocated and its value is live.
pub(crate) unsafe fn new_cell(
    h: HeaderPtr,
    callback: Option<Box<dyn FnOnce()>>,
) -> *const WeakCell {
    // SAFETY: live (caller).
    let header = unsafe { header_ref(h) };
    let cell = WeakCell::allocate(h, callback);
    // SAFETY: just allocated.
    unsafe { &*cell }.next.set(header.weakrefs());
    header.set_weakrefs(cell);
    cell
}

/// Callbacks due after an object's weak references were cleared, in order
/// (newest first per object). Each cell carries a handle held for it, which
/// keeps the cell (not the callback) alive until its turn.
#[derive(Default)]
pub(crate) struct PendingCallbacks(Vec<*const WeakCell>);

impl PendingCallbacks {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Runs every callback, handing each panic to `on_panic`; every callback
    /// runs even if an earlier one panicked.
    ///
    /// A callback runs only if a `Weak` to its cell is still alive when its
    /// turn comes: an earlier callback may have dropped the last one (a weak
    /// collection's `clear`, say), which cancels it as dropping it before
    /// the object died would have. A cancelled callback is dropped instead,
    /// and a panic from dropping its captures is handled like a panic from
    /// running it. Either way the callback is first taken out of its cell,
    /// so its user code runs outside any borrow of the library's state.
    pub(crate) fn run(self, mut on_panic: impl FnMut(Box<dyn std::any::Any + Send>)) {
        for cell in self.0 {
            // SAFETY: the pending list holds a handle of each cell, so the
            // cell is still allocated.
            let this = unsafe { &*cell };
            let callback = this.take_callback();
            // Only the pending list's own handle is left: no user `Weak`.
            let cancelled = this.handles.get() == 1;
            if let Some(callback) = callback {
                let outcome = if cancelled {
                    catch_unwind(AssertUnwindSafe(move || drop(callback)))
                } else {
                    catch_unwind(AssertUnwindSafe(callback))
                };
                if let Err(payload) = outcome {
                    on_panic(payload);
                }
            }
            // SAFETY: releases the handle the pending list held (the cell's
            // callback is already taken: this frees no user data).
            unsafe { WeakCell::release(cell) };
        }
    }
}

/// Clears every weak reference to `header`'s object: each cell stops
/// upgrading and leaves the object's list. Callbacks are queued on `pending`
/// (newest first), each with a handle held so the cell outlives the wait;
/// those of cells the running collection marked in its trash (their `Weak`
/// is owned by its garbage) wait instead until the collection is over (see
/// [`run_trash_callbacks`]).
pub(crate) fn clear_weakrefs(header: &GcHeader, pending: &mut PendingCallbacks) {
    let mut cur = header.take_weakrefs();
    while !cur.is_null() {
        // SAFETY: listed cells are live; a listed cell has handles > 0 (a
        // cell whose last handle goes is unlisted at once).
        let cell = unsafe { &*cur };
        let this = cur;
        cur = cell.next.replace(ptr::null());
        cell.target.set(None);
        if cell.canonical {
            continue;
        }
        cell.inc_handles();
        // A trash epoch runs only inside a collection, so the heap exists.
        match heap().filter(|_| cell.in_trash_now()) {
            Some(heap) => heap.trash_callbacks.borrow_mut().push(this),
            None => pending.0.push(this),
        }
    }
}

/// Clears one cell ahead of its object's death and runs its callback at
/// once: the key cell of a weak-key map's entry that a collection found
/// reachable only through the maps' own values (`collector::ephemerons`).
/// The cell stops upgrading and leaves the object's list; the object itself
/// lives on until the map drops the entry's value.
///
/// # Safety
///
/// `cell` is live, and its callback, if any, is a weak collection's own
/// bookkeeping (`weakref::Deaths::watch`), which runs no user code: it is
/// called in the middle of a collection's reachability phase.
pub(crate) unsafe fn kill_cell(cell: &WeakCell) {
    if let Some(h) = cell.target.take() {
        // SAFETY: a cell's target is live until the cell is cleared.
        unlist(unsafe { header_ref(h) }, cell);
    }
    if let Some(callback) = cell.take_callback() {
        callback();
    }
}

/// Decides the callbacks held back by [`clear_weakrefs`] because their
/// `Weak` was owned by the garbage: once the teardown is over, a `Weak`
/// whose owner died with the garbage is gone, which cancels its callback
/// (CPython: a weakref in the trash never calls back); one whose owner
/// survived (`SAVEALL`, PEP 442 resurrection) is alive, and its callback runs
/// now, so a weak collection owned by a survivor still learns of every
/// death. Panics go to `on_panic`, as in [`PendingCallbacks::run`].
pub(crate) fn run_trash_callbacks(
    heap: &Heap,
    on_panic: impl FnMut(Box<dyn std::any::Any + Send>),
) {
    let waiting = std::mem::take(&mut *heap.trash_callbacks.borrow_mut());
    if !waiting.is_empty() {
        PendingCallbacks(waiting).run(on_panic);
    }
}

/// Starts the trash epoch of a collection: until [`end_trash_epoch`], the
/// cells that [`MarkTrash`] marks (their `Weak` is owned by the garbage) do
/// not call back when their object dies; [`run_trash_callbacks`] decides
/// them once the collection is over. Called by the collector once per collection, after its
/// re-entrancy check and before `handle_weakrefs` (collections do not nest,
/// so neither do epochs); each call starts a new epoch, so the marks of
/// earlier collections never match again.
pub(crate) fn begin_trash_epoch() {
    LOCAL.with(|l| {
        // 2^64 collections cannot happen: no wrap back to a used epoch.
        let epoch = l.trash_epochs.get() + 1;
        l.trash_epochs.set(epoch);
        l.trash_epoch.set(epoch);
    });
}

/// Ends the running collection's trash epoch: from now on its marks mean
/// nothing, and every cell calls back when its object dies. The collector
/// calls it when the collection is over, also when it unwinds.
pub(crate) fn end_trash_epoch() {
    LOCAL.with(|l| l.trash_epoch.set(0));
}

/// Weak cells created on this thread so far: the collector compares two
/// readings to know whether user code made weak references meanwhile.
pub(crate) fn weak_cells_created() -> u64 {
    LOCAL.with(|l| l.weak_cells_created.get())
}

/// Whether any weak cell exists on this thread (if not, no object has a
/// weak reference to clear).
pub(crate) fn weak_cells_exist() -> bool {
    LOCAL.with(|l| l.weak_cells_live.get() != 0)
}

/// Whether any cell with a callback exists on this thread (if not, the
/// collector skips looking for weak references owned by the garbage).
pub(crate) fn callbacks_exist() -> bool {
    LOCAL.with(|l| l.callback_cells.get() != 0)
}

/// Marks the cells whose handles a garbage object owns (reported through
/// `Tracer::weak_edge`) with the running collection's trash epoch: their
/// callbacks must not fire during that collection. Outside an epoch (never
/// in a well-formed collection) it marks nothing.
pub(crate) struct MarkTrash;

impl crate::trace::sealed_impl::Sealed for MarkTrash {}

impl Tracer for MarkTrash {
    #[inline(always)]
    fn __edge_header(&mut self, _header: HeaderPtr) {}

    #[inline(always)]
    fn __weak_cell(&mut self, cell: &WeakCell) {
        cell.in_trash.set(LOCAL.with(|l| l.trash_epoch.get()));
    }
}

/// Total `Weak` handles to `header`'s object.
pub(crate) fn weak_count(header: &GcHeader) -> usize {
    let mut count: usize = 0;
    let mut cur = header.weakrefs();
    while !cur.is_null() {
        // SAFETY: listed cells are live.
        let cell = unsafe { &*cur };
        count = count.saturating_add(cell.handles.get());
        cur = cell.next.get();
    }
    count
}

/// Removes `cell` from its object's list.
fn unlist(header: &GcHeader, cell: *const WeakCell) {
    let head = header.weakrefs();
    if ptr::eq(head, cell) {
        // SAFETY: listed cells are live.
        header.set_weakrefs(unsafe { &*cell }.next.replace(ptr::null()));
        return;
    }
    if head.is_null() {
        return;
    }
    // SAFETY: listed cells are live.
    let mut link = unsafe { &(*head).next };
    loop {
        let cur = link.get();
        if cur.is_null() {
            return;
        }
        // SAFETY: listed cells are live.
        let listed = unsafe { &*cur };
        if ptr::eq(cur, cell) {
            link.set(listed.next.replace(ptr::null()));
            return;
        }
        link = &listed.next;
    }
}
