//! [`Weak<T>`]: a reference that does not keep its object alive.
//!
//! A `Weak` points at a [`WeakCell`], not at the object. Each object lists
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

use std::cell::Cell;
use std::error::Error;
use std::fmt;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::{self, NonNull};

use crate::gc::Gc;
use crate::header::{GcHeader, HeaderPtr, header_ref};
use crate::state::LOCAL;
use crate::trace::{Trace, Tracer};

/// A weak reference (`weakref.ref(obj)`): it does not keep the object alive,
/// and [`upgrade`](Weak::upgrade) returns `None` once the object is dead.
///
/// A `Weak` to an object that a collection finds unreachable is cleared
/// before any value of that garbage is dropped, so no destructor can reach a
/// dying object through it.
///
/// ```
/// use gc_core::{Gc, Weak};
///
/// let strong = Gc::new(5_u32);
/// let weak: Weak<u32> = Gc::downgrade(&strong);
/// assert_eq!(weak.upgrade().as_deref(), Some(&5));
/// drop(strong);
/// assert!(weak.upgrade().is_none());
/// ```
pub struct Weak<T: 'static> {
    /// Dangling (address `usize::MAX`) for [`Weak::new`]; otherwise a cell
    /// whose `handles` count includes this handle.
    cell: NonNull<WeakCell>,
    _marker: PhantomData<Gc<T>>,
}

/// The object a group of `Weak`s refers to (CPython's weakref object).
pub(crate) struct WeakCell {
    /// The object, until its weak references are cleared.
    target: Cell<Option<HeaderPtr>>,
    /// `Weak` handles to this cell, plus one while its callback is pending.
    /// At zero the cell is unlisted and freed. Aborts on overflow
    /// ([`WeakCell::inc_handles`]).
    handles: Cell<usize>,
    /// The next (older) cell of the same object.
    next: Cell<*const WeakCell>,
    /// The callback of a `downgrade_with` cell, until it runs or the cell
    /// dies. A cell made with a callback is never shared by `downgrade`.
    callback: Cell<Option<Box<dyn FnOnce()>>>,
    /// Made by `downgrade` (no callback): the object's shared cell.
    canonical: bool,
    /// The trash epoch (see [`begin_trash_epoch`]) of the collection that
    /// found this cell's handle owned by an object of its garbage: while
    /// that collection runs, the callback must not fire (CPython: a weakref
    /// in the trash never calls back). The mark means nothing once that
    /// collection is over: a garbage object that survives it (`SAVEALL`,
    /// PEP 442 resurrection) keeps working weak references. 0: never marked.
    in_trash: Cell<u64>,
}

impl WeakCell {
    fn new(target: HeaderPtr, callback: Option<Box<dyn FnOnce()>>) -> *const WeakCell {
        LOCAL.with(|l| {
            l.weak_cells_created.set(l.weak_cells_created.get() + 1);
            l.weak_cells_live.set(l.weak_cells_live.get() + 1);
        });
        let canonical = callback.is_none();
        if !canonical {
            LOCAL.with(|l| l.callback_cells.set(l.callback_cells.get() + 1));
        }
        Box::into_raw(Box::new(WeakCell {
            target: Cell::new(Some(target)),
            handles: Cell::new(1),
            next: Cell::new(ptr::null()),
            callback: Cell::new(callback),
            canonical,
            in_trash: Cell::new(0),
        }))
    }

    /// Counts one more handle. Aborts on overflow, as `Rc` does: wrapping to
    /// zero would let the cell be freed while handles remain, and the count
    /// cannot overflow without leaking `usize::MAX` handles (`mem::forget`).
    #[inline]
    fn inc_handles(&self) {
        let n = self.handles.get().wrapping_add(1);
        self.handles.set(n);
        if n == 0 {
            std::process::abort();
        }
    }

    /// Whether the collection running now marked this cell in its trash.
    fn in_trash_now(&self) -> bool {
        let epoch = LOCAL.with(|l| l.trash_epoch.get());
        epoch != 0 && self.in_trash.get() == epoch
    }

    fn take_callback(&self) -> Option<Box<dyn FnOnce()>> {
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
    unsafe fn release(cell: *const WeakCell) {
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

#[cfg(test)]
impl<T: 'static> Weak<T> {
    /// Overwrites the handle count of this `Weak`'s cell, so that tests can
    /// reach an overflow without leaking `usize::MAX` handles.
    pub(crate) fn forge_handles(&self, handles: usize) {
        self.cell().expect("not `Weak::new()`").handles.set(handles);
    }
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

/// Returned by [`Weak::try_upgrade`] once the referent is gone: the error of
/// a Python `weakref.proxy` whose object died.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReferenceError;

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("weakly-referenced object no longer exists")
    }
}

impl Error for ReferenceError {}

impl<T: 'static> Weak<T> {
    /// A `Weak` that refers to nothing: it never upgrades.
    pub const fn new() -> Weak<T> {
        Weak {
            cell: NonNull::without_provenance(std::num::NonZero::<usize>::MAX),
            _marker: PhantomData,
        }
    }

    /// A new handle to `h`'s canonical cell, creating it if needed.
    ///
    /// # Safety
    ///
    /// `h` is a live `GcBox<T>`.
    pub(crate) unsafe fn to(h: HeaderPtr) -> Weak<T> {
        // SAFETY: live (caller).
        let header = unsafe { header_ref(h) };
        let mut cur = header.weakrefs.get();
        while !cur.is_null() {
            // SAFETY: listed cells are live.
            let cell = unsafe { &*cur };
            if cell.canonical {
                cell.inc_handles();
                // SAFETY: listed, so live; a handle was counted above.
                return unsafe { Weak::from_cell(cur) };
            }
            cur = cell.next.get();
        }
        // SAFETY: `h` is a live `GcBox<T>` (caller).
        unsafe { Weak::with_new_cell(h, None) }
    }

    /// A new handle to a new cell listed first on `h`.
    ///
    /// # Safety
    ///
    /// `h` is a live `GcBox<T>`.
    pub(crate) unsafe fn with_new_cell(
        h: HeaderPtr,
        callback: Option<Box<dyn FnOnce()>>,
    ) -> Weak<T> {
        // SAFETY: live (caller).
        let header = unsafe { header_ref(h) };
        let cell = WeakCell::new(h, callback);
        // SAFETY: just allocated.
        unsafe { &*cell }.next.set(header.weakrefs.get());
        header.weakrefs.set(cell);
        // SAFETY: the new cell has one handle, this one.
        unsafe { Weak::from_cell(cell) }
    }

    /// # Safety
    ///
    /// `cell` is live and a handle was counted for the new `Weak`.
    unsafe fn from_cell(cell: *const WeakCell) -> Weak<T> {
        Weak {
            // SAFETY: cells are never null.
            cell: unsafe { NonNull::new_unchecked(cell.cast_mut()) },
            _marker: PhantomData,
        }
    }

    fn cell(&self) -> Option<&WeakCell> {
        if self.cell.as_ptr().addr() == usize::MAX {
            return None;
        }
        // SAFETY: a non-dangling `Weak` counts in its cell's `handles`, which
        // keeps the cell allocated.
        Some(unsafe { self.cell.as_ref() })
    }

    /// The object's header, while its weak references are not cleared.
    fn target(&self) -> Option<&GcHeader> {
        let h = self.cell()?.target.get()?;
        // SAFETY: a cell's target is cleared before its box is freed.
        Some(unsafe { header_ref(h) })
    }

    /// The object, if it is still alive (calling a Python `weakref`).
    pub fn upgrade(&self) -> Option<Gc<T>> {
        let header = self.target()?;
        if header.strong() == 0 {
            return None;
        }
        header.inc_strong();
        let h = self.cell()?.target.get()?;
        // SAFETY: one strong count was added for the new handle; the cell was
        // made for a `GcBox<T>`.
        Some(unsafe { Gc::from_header(h) })
    }

    /// The object, or [`ReferenceError`] if it is dead: the behaviour of a
    /// Python `weakref.proxy`.
    ///
    /// ```
    /// let weak = gc_core::Gc::downgrade(&gc_core::Gc::new(1_u8));
    /// let err = weak.try_upgrade().unwrap_err();
    /// assert_eq!(err.to_string(), "weakly-referenced object no longer exists");
    /// ```
    pub fn try_upgrade(&self) -> Result<Gc<T>, ReferenceError> {
        self.upgrade().ok_or(ReferenceError)
    }

    /// Number of strong handles to the object; 0 once it is dead.
    pub fn strong_count(&self) -> usize {
        self.target().map_or(0, GcHeader::strong)
    }

    /// Whether the object is still alive.
    pub fn is_alive(&self) -> bool {
        self.strong_count() != 0
    }
}

/// Clears every weak reference to `header`'s object: each cell stops
/// upgrading and leaves the object's list. Callbacks are queued on `pending`
/// (newest first), each with a handle held so the cell outlives the wait;
/// those of cells the running collection marked in its trash (their `Weak`
/// is owned by its garbage) wait instead until the collection is over (see
/// [`run_trash_callbacks`]).
pub(crate) fn clear_weakrefs(header: &GcHeader, pending: &mut PendingCallbacks) {
    let mut cur = header.weakrefs.replace(ptr::null());
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
        match crate::state::heap().filter(|_| cell.in_trash_now()) {
            Some(heap) => heap.trash_callbacks.borrow_mut().push(this),
            None => pending.0.push(this),
        }
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
    heap: &crate::state::Heap,
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
    fn edge<U: 'static>(&mut self, _gc: &Gc<U>) {}

    #[inline(always)]
    fn weak_edge<U: 'static>(&mut self, weak: &Weak<U>) {
        if let Some(cell) = weak.cell() {
            cell.in_trash.set(LOCAL.with(|l| l.trash_epoch.get()));
        }
    }

    #[inline(always)]
    fn __edge_header(&mut self, _header: HeaderPtr) {}
}

/// Total `Weak` handles to `header`'s object.
pub(crate) fn weak_count(header: &GcHeader) -> usize {
    let mut count: usize = 0;
    let mut cur = header.weakrefs.get();
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
    let mut link = &header.weakrefs;
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

impl<T: 'static> Default for Weak<T> {
    fn default() -> Self {
        Weak::new()
    }
}

impl<T: 'static> Clone for Weak<T> {
    /// A clone shares no callback: cloning a `downgrade_with` handle gives a
    /// plain `Weak` to the same object.
    fn clone(&self) -> Self {
        let Some(cell) = self.cell() else {
            return Weak::new();
        };
        if let (false, Some(h)) = (cell.canonical, cell.target.get()) {
            // SAFETY: the target is live (not cleared) and a `GcBox<T>`.
            return unsafe { Weak::to(h) };
        }
        cell.inc_handles();
        Weak {
            cell: self.cell,
            _marker: PhantomData,
        }
    }
}

impl<T: 'static> Drop for Weak<T> {
    fn drop(&mut self) {
        if self.cell().is_some() {
            // SAFETY: this handle is one of the cell's.
            unsafe { WeakCell::release(self.cell.as_ptr()) };
        }
    }
}

impl<T: 'static> fmt::Debug for Weak<T> {
    /// `<weakref at 0x…; to 'Node' at 0x…>` or `<weakref at 0x…; dead>`, as
    /// Python prints weak references (the weakref's address is its cell's).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addr = self.cell.as_ptr().addr();
        let alive = self.target().filter(|h| h.strong() != 0);
        match (alive, self.cell().and_then(|c| c.target.get())) {
            (Some(header), Some(h)) => write!(
                f,
                "<weakref at {addr:#x}; to '{}' at {:#x}>",
                crate::object::short_type_name((header.vtable.type_name)()),
                h.as_ptr().addr()
            ),
            _ => write!(f, "<weakref at {addr:#x}; dead>"),
        }
    }
}

// SAFETY: a `Weak` owns no strong reference; it reports only a weak edge,
// which never affects reachability.
unsafe impl<T: 'static> Trace for Weak<T> {
    const TRACKED: bool = false;

    #[inline(always)]
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        tracer.weak_edge(self);
    }
}
