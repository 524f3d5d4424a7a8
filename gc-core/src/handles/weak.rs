//! [`Weak<T>`]: a reference that does not keep its object alive.
//!
//! A `Weak` points at a weak cell (`layout::weakcell`), not at the object;
//! `lifecycle::weakrefs` explains how cells are shared, cleared and call
//! back. Plain `Weak`s to one object share one canonical cell (CPython's
//! shared `ref(obj)`), so `downgrade` allocates only the first time.

use std::error::Error;
use std::fmt;
use std::marker::PhantomData;
use std::ptr::NonNull;

use crate::handles::Gc;
use crate::layout::{GcBox, GcHeader, WeakCell, header_ref, short_type_name};
use crate::lifecycle::weakrefs::{canonical_cell, new_cell, weak_count};
use crate::trace::{Trace, TraceMeta, Tracer};

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
pub struct Weak<T: ?Sized + 'static> {
    /// Dangling (address `usize::MAX`) for [`Weak::new`]; otherwise a cell
    /// whose `handles` count includes this handle.
    pub(crate) cell: NonNull<WeakCell>,
    /// The box, with the pointer metadata of `T` (a `dyn` vtable, a slice
    /// length): `upgrade` hands it to the new `Gc`. Dereferenced only while
    /// the cell's target is set, i.e. while the box is allocated; dangling
    /// for [`Weak::new`].
    ptr: NonNull<GcBox<T>>,
    _marker: PhantomData<Gc<T>>,
}

#[cfg(test)]
impl<T: ?Sized + 'static> Weak<T> {
    /// Overwrites the handle count of this `Weak`'s cell, so that tests can
    /// reach an overflow without leaking `usize::MAX` handles.
    pub(crate) fn forge_handles(&self, handles: usize) {
        self.cell().expect("not `Weak::new()`").handles.set(handles);
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
            cell: WeakCell::DANGLING,
            ptr: NonNull::dangling(),
            _marker: PhantomData,
        }
    }
}

impl<T: ?Sized + 'static> Weak<T> {
    /// A new handle to `h`'s canonical cell, creating it if needed.
    ///
    /// # Safety
    ///
    /// `ptr` is a live box whose value is not dropped.
    pub(crate) unsafe fn to(ptr: NonNull<GcBox<T>>) -> Weak<T> {
        // SAFETY: forwarded from the caller; the returned cell carries a
        // handle counted for this `Weak`.
        unsafe { Weak::from_cell(canonical_cell(ptr.cast()), ptr) }
    }

    /// A new handle to a new cell listed first on `h`.
    ///
    /// # Safety
    ///
    /// `h` is a live `GcBox<T>`.
    pub(crate) unsafe fn with_new_cell(
        ptr: NonNull<GcBox<T>>,
        callback: Option<Box<dyn FnOnce()>>,
    ) -> Weak<T> {
        // SAFETY: forwarded from the caller; the new cell has one handle,
        // this one.
        unsafe { Weak::from_cell(new_cell(ptr.cast(), callback), ptr) }
    }

    /// # Safety
    ///
    /// `cell` is live and a handle was counted for the new `Weak`.
    unsafe fn from_cell(cell: *const WeakCell, ptr: NonNull<GcBox<T>>) -> Weak<T> {
        Weak {
            // SAFETY: cells are never null.
            cell: unsafe { NonNull::new_unchecked(cell.cast_mut()) },
            ptr,
            _marker: PhantomData,
        }
    }

    fn cell(&self) -> Option<&WeakCell> {
        // SAFETY: a non-dangling `Weak` counts in its cell's `handles`, which
        // keeps the cell allocated while `self` lives.
        unsafe { WeakCell::of_handle(self.cell) }
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
        // SAFETY: one strong count was added for the new handle; `ptr` is
        // the box the cell's target points at, allocated while it is set.
        Some(unsafe { Gc::from_box(self.ptr) })
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

    /// Number of `Weak`s to the object, 0 once it is dead
    /// (`rc::Weak::weak_count`).
    ///
    /// ```
    /// use gc_core::Gc;
    ///
    /// let x = Gc::new(1);
    /// let w = Gc::downgrade(&x);
    /// let _w2 = w.clone();
    /// assert_eq!(w.weak_count(), 2);
    /// drop(x);
    /// assert_eq!(w.weak_count(), 0);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.target().map_or(0, weak_count)
    }

    /// Whether both refer to the same object, or are both
    /// [`Weak::new`]s (`rc::Weak::ptr_eq`). `Weak`s of dead objects are
    /// equal only to clones of themselves: the dead object's address may
    /// hold another object by now.
    ///
    /// ```
    /// use gc_core::{Gc, Weak};
    ///
    /// let x = Gc::new(1);
    /// let (a, b) = (Gc::downgrade(&x), Gc::downgrade_with(&x, || {}));
    /// assert!(a.ptr_eq(&b));
    /// assert!(!a.ptr_eq(&Gc::downgrade(&Gc::new(1))));
    /// assert!(Weak::<u8>::new().ptr_eq(&Weak::new()));
    /// ```
    pub fn ptr_eq(&self, other: &Self) -> bool {
        match (self.cell(), other.cell()) {
            (None, None) => true,
            (Some(a), Some(b)) => {
                std::ptr::eq(a, b)
                    || matches!((a.target.get(), b.target.get()), (Some(x), Some(y)) if x == y)
            }
            _ => false,
        }
    }

    /// Whether the object is still alive.
    pub fn is_alive(&self) -> bool {
        self.strong_count() != 0
    }
}

impl<T: 'static> Default for Weak<T> {
    fn default() -> Self {
        Weak::new()
    }
}

impl<T: ?Sized + 'static> Weak<T> {
    /// The `unsize!` macro's conversion.
    ///
    /// # Safety
    ///
    /// `coerce` returns its argument, converted by an unsizing coercion.
    #[doc(hidden)]
    pub unsafe fn __unsize<U: ?Sized + 'static>(
        self,
        coerce: impl FnOnce(*mut GcBox<T>) -> *mut GcBox<U>,
    ) -> Weak<U> {
        let this = std::mem::ManuallyDrop::new(self);
        let ptr = coerce(this.ptr.as_ptr());
        Weak {
            cell: this.cell,
            // SAFETY: an unsizing coercion keeps the (non-null) address.
            ptr: unsafe { NonNull::new_unchecked(ptr) },
            _marker: PhantomData,
        }
    }
}

impl<T: ?Sized + 'static> Clone for Weak<T> {
    /// A clone shares no callback: cloning a `downgrade_with` handle gives a
    /// plain `Weak` to the same object.
    fn clone(&self) -> Self {
        let copy = Weak {
            cell: self.cell,
            ptr: self.ptr,
            _marker: PhantomData,
        };
        let Some(cell) = self.cell() else {
            // Dangling: nothing to count.
            return copy;
        };
        if let (false, Some(_)) = (cell.canonical, cell.target.get()) {
            std::mem::forget(copy);
            // SAFETY: the target is live (not cleared), and `ptr` is its box.
            return unsafe { Weak::to(self.ptr) };
        }
        cell.inc_handles();
        copy
    }
}

impl<T: ?Sized + 'static> Drop for Weak<T> {
    fn drop(&mut self) {
        if self.cell().is_some() {
            // SAFETY: this handle is one of the cell's.
            unsafe { WeakCell::release(self.cell.as_ptr()) };
        }
    }
}

impl<T: ?Sized + 'static> fmt::Debug for Weak<T> {
    /// `<weakref at 0x…; to 'Node' at 0x…>` or `<weakref at 0x…; dead>`, as
    /// Python prints weak references (the weakref's address is its cell's).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addr = self.cell.as_ptr().addr();
        let alive = self.target().filter(|h| h.strong() != 0);
        match (alive, self.cell().and_then(|c| c.target.get())) {
            (Some(header), Some(h)) => write!(
                f,
                "<weakref at {addr:#x}; to '{}' at {:#x}>",
                short_type_name((header.vtable().type_name)()),
                h.as_ptr().addr()
            ),
            _ => write!(f, "<weakref at {addr:#x}; dead>"),
        }
    }
}

// SAFETY: a `Weak` owns no strong reference; it reports only a weak edge,
// which never affects reachability.
unsafe impl<T: ?Sized + 'static> Trace for Weak<T> {
    #[inline(always)]
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        tracer.weak_edge(self);
    }
}

impl<T: ?Sized + 'static> TraceMeta for Weak<T> {
    const TRACKED: bool = false;
}
