//! [`Gc<T>`]: the strong, reference-counted pointer.

use std::alloc::Layout;
use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;

use super::object::{AsObject, Object, sealed};
use super::vtable::VTableOf;
use super::weak::Weak;
use crate::collector::note_allocation;
use crate::heap::heap;
use crate::layout::alloc::allocate;
use crate::layout::list::{init_link, unlink};
use crate::layout::{GcBox, GcHeader, HeaderPtr, flags, sized_allocation};
use crate::lifecycle::dealloc::take_value;
use crate::lifecycle::free_box;
use crate::lifecycle::weakrefs::weak_count;
use crate::lifecycle::weakrefs::{PendingCallbacks, clear_weakrefs};
use crate::lifecycle::{release_typed, track_new};
use crate::trace::{Trace, TraceMeta, Tracer};

/// A strong, reference-counted pointer to a value on this thread's heap:
/// Python's object reference.
///
/// Cloning adds one to the strong count; dropping the last strong handle
/// drops the value and frees the memory at once, as [`std::rc::Rc`] does.
/// Values that form cycles are found and freed by the cycle collector
/// ([`collect`](crate::collect), or automatically as allocations go by).
///
/// `Gc` is neither `Send` nor `Sync`: each thread has its own heap.
///
/// Like `Rc`, its operations are associated functions
/// (`Gc::strong_count(&g)`), so they never shadow methods of `T`.
///
/// # Examples
///
/// ```
/// use gc_core::{Gc, Trace};
/// use std::cell::RefCell;
///
/// #[derive(Trace)]
/// struct Node {
///     name: String,
///     next: RefCell<Option<Gc<Node>>>,
/// }
///
/// let a = Gc::new(Node { name: "a".into(), next: RefCell::new(None) });
/// let b = Gc::new(Node { name: "b".into(), next: RefCell::new(Some(a.clone())) });
/// *a.next.borrow_mut() = Some(b.clone()); // a <-> b
/// assert_eq!(Gc::strong_count(&a), 2);
/// drop((a, b));
/// assert_eq!(gc_core::collect(), 2);
/// ```
pub struct Gc<T: ?Sized + 'static> {
    pub(crate) ptr: NonNull<GcBox<T>>,
    _owns: PhantomData<T>,
}

impl<T: TraceMeta + 'static> Gc<T> {
    /// Moves `value` to the heap.
    ///
    /// If `T` can reach a `Gc` (its `TraceMeta::TRACKED` is true) the object is
    /// tracked, and this allocation may first run an automatic collection
    /// (see [`set_threshold`](crate::set_threshold)). Values that cannot form
    /// cycles (`Gc<u64>`, `Gc<String>`, plain structs) cost no collector work.
    ///
    /// # Panics
    ///
    /// Propagates a panic raised by a destructor during the automatic
    /// collection; `value` is dropped in that case.
    #[inline]
    pub fn new(value: T) -> Gc<T> {
        let heap = if T::TRACKED { note_allocation() } else { None };
        let (ptr, mut bits) = allocate_box::<T>();
        if heap.is_some() {
            bits |= flags::TRACKED;
        }
        // SAFETY: `ptr` is a fresh allocation of `GcBox<T>`'s layout.
        unsafe {
            ptr.as_ptr().write(GcBox {
                header: GcHeader::new(VTableOf::<T>::VTABLE, bits),
                value,
            });
        }
        // SAFETY: the box is live, with its value, on no list; `TRACKED`
        // was set exactly when `heap` is given.
        unsafe { track_new(ptr.cast(), heap, T::__HAS_FINALIZER) };
        Gc {
            ptr,
            _owns: PhantomData,
        }
    }
}

/// Allocates the box of a `Gc<T>`, with the container-list link in front
/// if `T` is tracked, and returns it (uninitialised) with the flags its
/// header starts with: `DEEP_DROP | HAS_LINK` for a tracked type.
#[inline(always)]
fn allocate_box<T: TraceMeta>() -> (NonNull<GcBox<T>>, u32) {
    let (layout, offset) = sized_allocation(Layout::new::<GcBox<T>>(), T::TRACKED);
    // SAFETY: the header is `offset` bytes into the fresh allocation.
    let ptr = unsafe { allocate(layout).add(offset) }.cast::<GcBox<T>>();
    if T::TRACKED {
        // SAFETY: a fresh box allocated with its link.
        unsafe { init_link(ptr.cast()) };
        (ptr, flags::DEEP_DROP | flags::HAS_LINK) // one bit: see `HAS_LINK`
    } else {
        (ptr, 0)
    }
}

impl<T: ?Sized + 'static> Gc<T> {
    /// The header. The reference covers the header only, never the value,
    /// which may be mutably borrowed (for instance while it is being dropped
    /// and drops a `Gc` to itself).
    #[inline(always)]
    fn header(&self) -> &GcHeader {
        // SAFETY: a `Gc` keeps its box allocated; the header is at offset 0
        // of the `#[repr(C)]` box.
        unsafe { self.ptr.cast::<GcHeader>().as_ref() }
    }

    #[inline(always)]
    pub(crate) fn header_ptr(this: &Self) -> HeaderPtr {
        this.ptr.cast()
    }

    /// Number of strong handles (`Gc` and [`Object`]) to this object, like
    /// `sys.getrefcount(obj) - 1`.
    pub fn strong_count(this: &Self) -> usize {
        this.header().strong()
    }

    /// Number of live [`Weak`] handles to this object.
    pub fn weak_count(this: &Self) -> usize {
        weak_count(this.header())
    }

    /// Whether both point at the same object: Python's `is`.
    pub fn ptr_eq(this: &Self, other: &Self) -> bool {
        Gc::header_ptr(this) == Gc::header_ptr(other)
    }

    /// The object's identity: its address, stable while it is alive
    /// (Python's `id()`).
    pub fn id(this: &Self) -> usize {
        this.ptr.as_ptr().addr()
    }

    /// A weak handle (`weakref.ref(obj)`): does not keep the value alive.
    pub fn downgrade(this: &Self) -> Weak<T> {
        // SAFETY: `this` keeps the object alive and its type is `T`.
        unsafe { Weak::to(this.ptr) }
    }

    /// A weak handle with a callback (`weakref.ref(obj, callback)`).
    ///
    /// The callback runs at most once, when the object's weak references
    /// are cleared: on reference-count death after its finalizer, or in a
    /// collection before any finalizer or destructor of the garbage. By then
    /// `upgrade` already returns `None`. It runs only if the `Weak` returned
    /// here is still alive then (dropping it cancels the callback), and not
    /// if that `Weak` is owned by an object dying in the same collection.
    /// Callbacks of one object run newest first. A callback may allocate,
    /// drop objects and call [`collect`](crate::collect) (a no-op during a
    /// collection).
    ///
    /// If a callback panics, the object's other callbacks still run and the
    /// object is still destroyed; then the first panic propagates, out of
    /// the `drop` that released the last handle or out of `collect()`.
    ///
    /// ```
    /// use gc_core::Gc;
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// let fired = Rc::new(Cell::new(false));
    /// let flag = fired.clone();
    /// let obj = Gc::new(42_u32);
    /// let weak = Gc::downgrade_with(&obj, move || flag.set(true));
    /// drop(obj);
    /// assert!(fired.get());
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn downgrade_with(this: &Self, callback: impl FnOnce() + 'static) -> Weak<T> {
        // SAFETY: `this` keeps the object alive and its type is `T`.
        unsafe { Weak::with_new_cell(this.ptr, Some(Box::new(callback))) }
    }

    /// A type-erased strong handle to the same object.
    pub fn to_object(this: &Self) -> Object {
        Object::from(this.clone())
    }
}

impl<T: 'static> Gc<T> {
    /// Wraps a pointer whose strong count already includes this handle.
    ///
    /// # Safety
    ///
    /// `h` is a live `GcBox<T>` and the caller transfers one strong count.
    pub(crate) unsafe fn from_header(h: HeaderPtr) -> Gc<T> {
        Gc {
            ptr: h.cast(),
            _owns: PhantomData,
        }
    }
}

impl<T: TraceMeta + 'static> Gc<T> {
    /// Builds an object that refers to itself (`Rc::new_cyclic`): `data_fn`
    /// gets a [`Weak`] to the object being made and returns its value,
    /// which may keep that `Weak` (and clones of it). Until `new_cyclic`
    /// returns, the `Weak` does not upgrade. If `data_fn` panics, nothing
    /// is made and the `Weak`s it handed out stay dead.
    ///
    /// ```
    /// use gc_core::{Gc, Trace, Weak};
    ///
    /// #[derive(Trace)]
    /// struct Window {
    ///     title: String,
    ///     me: Weak<Window>,
    /// }
    ///
    /// let window = Gc::new_cyclic(|me| Window { title: "main".into(), me: me.clone() });
    /// assert!(Gc::ptr_eq(&window.me.upgrade().unwrap(), &window));
    /// ```
    pub fn new_cyclic<F: FnOnce(&Weak<T>) -> T>(data_fn: F) -> Gc<T> {
        let heap = if T::TRACKED { note_allocation() } else { None };
        let (ptr, bits) = allocate_box::<T>();
        // SAFETY: the header's place in the fresh allocation; the value is
        // written later.
        unsafe {
            (&raw mut (*ptr.as_ptr()).header).write(GcHeader::new(VTableOf::<T>::VTABLE, bits))
        };
        // SAFETY: as above, now initialised.
        let header = unsafe { ptr.cast::<GcHeader>().as_ref() };
        // No strong handle yet: `Weak`s to it do not upgrade, and nothing
        // reads the value (the box is on no list).
        header.dec_strong();
        // SAFETY: the box is allocated with its header; a weak cell reads
        // and writes only the header.
        let weak = unsafe { Weak::to(ptr) };
        let unfinished = Unfinished(ptr.cast());
        let value = data_fn(&weak);
        std::mem::forget(unfinished);
        // SAFETY: the value's place in the box, not yet initialised.
        unsafe { (&raw mut (*ptr.as_ptr()).value).write(value) };
        header.inc_strong();
        if heap.is_some() {
            header.set(flags::TRACKED);
        }
        // SAFETY: the box is live, with its value, on no list.
        unsafe { track_new(ptr.cast(), heap, T::__HAS_FINALIZER) };
        drop(weak);
        Gc {
            ptr,
            _owns: PhantomData,
        }
    }
}

/// A box whose value `new_cyclic`'s closure has not returned yet: if the
/// closure panics, its weak references are cleared (the `Weak`s it handed
/// out stay dead) and the box is freed without a value to drop.
struct Unfinished(HeaderPtr);

impl Drop for Unfinished {
    fn drop(&mut self) {
        // SAFETY: the box is allocated with its header (see `new_cyclic`).
        let header = unsafe { self.0.as_ref() };
        let mut callbacks = PendingCallbacks::default();
        clear_weakrefs(header, &mut callbacks);
        // A cell made by `downgrade` has no callback, and no other kind can
        // exist without a `Gc`: nothing to run, but release the cells'
        // pending handles.
        callbacks.run(drop);
        // SAFETY: no strong handle, no value, no weak cell, on no list.
        unsafe { free_box(self.0) };
    }
}

impl<T: 'static> Gc<T> {
    /// The value, if this is the only strong handle (`Rc::try_unwrap`);
    /// otherwise `Err(this)`. The object dies without its value being
    /// dropped: its `Weak`s stop upgrading (their callbacks run), and its
    /// finalizer will not run (the value lives on).
    ///
    /// ```
    /// use gc_core::Gc;
    ///
    /// let x = Gc::new(3);
    /// assert_eq!(Gc::try_unwrap(x), Ok(3));
    ///
    /// let x = Gc::new(4);
    /// let _y = x.clone();
    /// assert_eq!(*Gc::try_unwrap(x).unwrap_err(), 4);
    /// ```
    pub fn try_unwrap(this: Self) -> Result<T, Self> {
        let header = this.header();
        if header.strong() != 1 || header.has(flags::CONDEMNED | flags::VALUE_DROPPED) {
            return Err(this);
        }
        let this = ManuallyDrop::new(this);
        // SAFETY: the only strong handle, given up here; the value is live.
        Ok(unsafe { take_value(this.ptr) })
    }

    /// The value if this is the only strong handle, `None` otherwise (the
    /// handle is dropped either way), as `Rc::into_inner`.
    ///
    /// ```
    /// use gc_core::Gc;
    ///
    /// let x = Gc::new(String::from("only"));
    /// let y = x.clone();
    /// assert_eq!(Gc::into_inner(y), None);
    /// assert_eq!(Gc::into_inner(x).as_deref(), Some("only"));
    /// ```
    pub fn into_inner(this: Self) -> Option<T> {
        Gc::try_unwrap(this).ok()
    }

    /// The value if this is the only strong handle, a clone of it otherwise
    /// (`Rc::unwrap_or_clone`).
    ///
    /// ```
    /// use gc_core::Gc;
    ///
    /// let x = Gc::new(vec![1, 2]);
    /// let y = x.clone();
    /// assert_eq!(Gc::unwrap_or_clone(y), [1, 2]); // cloned: `x` remains
    /// assert_eq!(Gc::unwrap_or_clone(x), [1, 2]); // moved out
    /// ```
    pub fn unwrap_or_clone(this: Self) -> T
    where
        T: Clone,
    {
        Gc::try_unwrap(this).unwrap_or_else(|gc| (*gc).clone())
    }

    /// Gives up the handle without decrementing the count, returning a
    /// pointer to the value (`Rc::into_raw`). [`Gc::from_raw`] takes it back.
    ///
    /// ```
    /// use gc_core::Gc;
    ///
    /// let x = Gc::new(5_u8);
    /// let raw = Gc::into_raw(x);
    /// // SAFETY: `raw` came from `into_raw` and is taken back once.
    /// let x = unsafe { Gc::from_raw(raw) };
    /// assert_eq!(*x, 5);
    /// ```
    pub fn into_raw(this: Self) -> *const T {
        let this = ManuallyDrop::new(this);
        Gc::as_ptr(&this)
    }

    /// Takes back a handle given up by [`Gc::into_raw`].
    ///
    /// # Safety
    ///
    /// `ptr` was returned by `Gc::<T>::into_raw` (the same `T`), on this
    /// thread, and each such pointer is taken back at most once: the handle
    /// it stands for is still counted, which keeps the object alive.
    pub unsafe fn from_raw(ptr: *const T) -> Gc<T> {
        let offset = std::mem::offset_of!(GcBox<T>, value);
        // SAFETY: `ptr` points at the value field of a live `GcBox<T>`
        // (caller); stepping back by its offset stays inside the box and
        // keeps the pointer's provenance.
        let boxed = unsafe { ptr.byte_sub(offset) }
            .cast::<GcBox<T>>()
            .cast_mut();
        // SAFETY: non-null (derived from a box), and the strong count
        // `into_raw` kept moves to the new handle.
        unsafe { Gc::from_box(NonNull::new_unchecked(boxed)) }
    }
}

impl<T: 'static> Gc<T> {
    /// A unique, mutable borrow of the value, if this is the only handle
    /// and no `Weak` exists (`Rc::get_mut`).
    ///
    /// It is a guard ([`GcMut`]) rather than a plain `&mut T`: while it
    /// lives, the object is taken off the collector's lists, so that no
    /// collection or introspection (which a `collect()` in the borrow's
    /// scope would run) reads the value through a shared reference. It is
    /// referenced only by this handle, so it cannot be garbage meanwhile.
    /// Dropping the guard puts it back. (Forgetting the guard leaves the
    /// object untracked: cycles through it are then never found.)
    ///
    /// ```
    /// use gc_core::Gc;
    ///
    /// let mut x = Gc::new(vec![1]);
    /// Gc::get_mut(&mut x).unwrap().push(2);
    /// assert_eq!(*x, [1, 2]);
    /// let y = x.clone();
    /// assert!(Gc::get_mut(&mut x).is_none());
    /// drop(y);
    /// let w = Gc::downgrade(&x);
    /// assert!(Gc::get_mut(&mut x).is_none(), "a Weak could upgrade");
    /// # drop(w);
    /// ```
    pub fn get_mut(this: &mut Self) -> Option<GcMut<'_, T>> {
        let header = this.header();
        let unique = header.strong() == 1
            && header.weakrefs().is_null()
            && !header.has(flags::CONDEMNED | flags::VALUE_DROPPED);
        if !unique {
            return None;
        }
        debug_assert!(
            !header.has(flags::COLLECTING),
            "a held object is on no scratch list"
        );
        let generation = header.generation();
        if generation.is_some() {
            // SAFETY: tracked, so on a generation (or the permanent) list.
            unsafe { unlink(Gc::header_ptr(this)) };
            header.clear(flags::TRACKED);
        }
        Some(GcMut {
            gc: this,
            generation,
        })
    }

    /// A unique, mutable borrow of the value, cloning it into a new object
    /// first if other handles (or `Weak`s) share this one (`Rc::make_mut`).
    ///
    /// ```
    /// use gc_core::Gc;
    ///
    /// let mut a = Gc::new(String::from("x"));
    /// let b = a.clone();
    /// Gc::make_mut(&mut a).push('!'); // `a` now has its own copy
    /// assert_eq!((a.as_str(), b.as_str()), ("x!", "x"));
    /// ```
    pub fn make_mut(this: &mut Self) -> GcMut<'_, T>
    where
        T: Clone + TraceMeta,
    {
        if Gc::get_mut(this).is_none() {
            *this = Gc::new((**this).clone());
        }
        Gc::get_mut(this).expect("a fresh object has one handle and no Weak")
    }
}

/// A unique, mutable borrow of a `Gc`'s value, from [`Gc::get_mut`] or
/// [`Gc::make_mut`]. The object is off the collector's lists while the
/// guard lives, and back when it is dropped.
pub struct GcMut<'a, T: 'static> {
    gc: &'a mut Gc<T>,
    /// The list the object left (its generation, 3 = permanent), if it was
    /// tracked.
    generation: Option<usize>,
}

impl<T: 'static> Deref for GcMut<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.gc
    }
}

impl<T: 'static> std::ops::DerefMut for GcMut<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the only handle is borrowed mutably by this guard, no
        // `Weak` exists, and the object is on no list, so nothing else can
        // reach the value while the borrow lives.
        unsafe { &mut (*self.gc.ptr.as_ptr()).value }
    }
}

impl<T: 'static> Drop for GcMut<'_, T> {
    fn drop(&mut self) {
        let Some(generation) = self.generation else {
            return;
        };
        let Some(heap) = heap() else {
            // The thread's heap is gone: the object stays untracked.
            return;
        };
        let h = Gc::header_ptr(self.gc);
        let list = match heap.generations.get(generation) {
            Some(g) => &g.head,
            None => &heap.permanent,
        };
        // SAFETY: the box is live and on no list; the head is initialised.
        unsafe { list.push_back(h) };
        let header = self.gc.header();
        header.set_generation(generation as u32);
        header.set(flags::TRACKED);
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for GcMut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + 'static> Gc<T> {
    /// A pointer to the value (`Rc::as_ptr`); valid while a strong handle
    /// lives. Stable for the object's life: the collector never moves
    /// objects.
    ///
    /// ```
    /// use gc_core::Gc;
    ///
    /// let x = Gc::new(1_u32);
    /// assert_eq!(Gc::as_ptr(&x), &*x as *const u32);
    /// ```
    pub fn as_ptr(this: &Self) -> *const T {
        // SAFETY: a handle keeps the box allocated; the projection makes no
        // reference.
        unsafe { &raw const (*this.ptr.as_ptr()).value }
    }

    /// Wraps a box pointer whose strong count already includes this handle.
    ///
    /// # Safety
    ///
    /// `ptr` is a live box and the caller transfers one strong count.
    pub(crate) unsafe fn from_box(ptr: NonNull<GcBox<T>>) -> Gc<T> {
        Gc {
            ptr,
            _owns: PhantomData,
        }
    }
}

impl<T: ?Sized + 'static> Gc<T> {
    /// Whether the value is a `U` (its concrete type, for a `Gc<dyn Trait>`).
    ///
    /// ```
    /// use gc_core::{Gc, unsize};
    /// use std::fmt::Debug;
    ///
    /// let value: Gc<dyn Debug> = unsize!(Gc::new(5_u8) => dyn Debug);
    /// assert!(Gc::is::<u8>(&value));
    /// assert!(!Gc::is::<u16>(&value));
    /// ```
    pub fn is<U: 'static>(this: &Self) -> bool {
        this.header().holds::<U>()
    }

    /// Converts back to the concrete type: `Ok` with the same object if the
    /// value is a `U`, `Err(this)` otherwise. Every value's concrete type is
    /// recorded when it is allocated, so no `Any` supertrait is needed
    /// (an interpreter keeping `Gc<dyn NativeObject>` gets its
    /// `Gc<Window>` back).
    ///
    /// ```
    /// use gc_core::{Gc, unsize};
    /// use std::fmt::Debug;
    ///
    /// let value: Gc<dyn Debug> = unsize!(Gc::new(String::from("hi")) => dyn Debug);
    /// let value = Gc::downcast::<u32>(value).unwrap_err();
    /// let text: Gc<String> = Gc::downcast(value).unwrap();
    /// assert_eq!(*text, "hi");
    /// ```
    pub fn downcast<U: 'static>(this: Self) -> Result<Gc<U>, Gc<T>> {
        if !Gc::is::<U>(&this) {
            return Err(this);
        }
        let this = ManuallyDrop::new(this);
        // SAFETY: the value is a `U` (checked above), so the box is a
        // `GcBox<U>`; the strong count moves from `this` to the result.
        Ok(unsafe { Gc::from_header(Gc::header_ptr(&this)) })
    }

    /// The value as a `U`, if that is its concrete type: the borrowing
    /// form of [`Gc::downcast`], as `dyn Any`'s `downcast_ref`.
    ///
    /// ```
    /// use gc_core::{Gc, unsize};
    /// use std::fmt::Debug;
    ///
    /// let value: Gc<dyn Debug> = unsize!(Gc::new(7_i64) => dyn Debug);
    /// assert_eq!(Gc::downcast_ref::<i64>(&value), Some(&7));
    /// assert_eq!(Gc::downcast_ref::<u8>(&value), None);
    /// ```
    pub fn downcast_ref<U: 'static>(this: &Self) -> Option<&U> {
        if !Gc::is::<U>(this) {
            return None;
        }
        // SAFETY: the value is a `U` (checked above), so the box is a
        // `GcBox<U>`; `this` keeps it alive for the borrow, and the
        // projection makes no reference to the header.
        Some(unsafe { &(*Gc::header_ptr(this).cast::<GcBox<U>>().as_ptr()).value })
    }

    /// The `unsize!` macro's conversion.
    ///
    /// # Safety
    ///
    /// `coerce` returns its argument, converted by an unsizing coercion.
    #[doc(hidden)]
    pub unsafe fn __unsize<U: ?Sized + 'static>(
        self,
        coerce: impl FnOnce(*mut GcBox<T>) -> *mut GcBox<U>,
    ) -> Gc<U> {
        let this = ManuallyDrop::new(self);
        let ptr = coerce(this.ptr.as_ptr());
        // SAFETY: an unsizing coercion keeps the (non-null) address, and
        // the strong count moves from `self` to the result.
        unsafe { Gc::from_box(NonNull::new_unchecked(ptr)) }
    }
}

impl<T: ?Sized + 'static> Clone for Gc<T> {
    #[inline]
    fn clone(&self) -> Self {
        self.header().inc_strong();
        Gc {
            ptr: self.ptr,
            _owns: PhantomData,
        }
    }
}

impl<T: ?Sized + 'static> Drop for Gc<T> {
    #[inline]
    fn drop(&mut self) {
        if self.header().dec_strong() == 0 {
            // SAFETY: that was the last strong handle.
            unsafe { release_typed(self.ptr) };
        }
    }
}

impl<T: ?Sized + 'static> Deref for Gc<T> {
    type Target = T;

    #[inline(always)]
    fn deref(&self) -> &T {
        debug_assert!(
            !self.header().has(flags::VALUE_DROPPED),
            "a Gc escaped the teardown of a garbage cycle (a Trace contract violation)"
        );
        // SAFETY: a strong handle keeps the value alive; the projection does
        // not create a reference to the header.
        unsafe { &(*self.ptr.as_ptr()).value }
    }
}

impl<T: ?Sized + 'static> AsRef<T> for Gc<T> {
    fn as_ref(&self) -> &T {
        self
    }
}

impl<T: ?Sized + 'static> Borrow<T> for Gc<T> {
    fn borrow(&self) -> &T {
        self
    }
}

impl<T: TraceMeta + Default + 'static> Default for Gc<T> {
    fn default() -> Self {
        Gc::new(T::default())
    }
}

impl<T: TraceMeta + 'static> From<T> for Gc<T> {
    fn from(value: T) -> Self {
        Gc::new(value)
    }
}

impl<T: ?Sized + fmt::Debug + 'static> fmt::Debug for Gc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display + 'static> fmt::Display for Gc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized + 'static> fmt::Pointer for Gc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&self.ptr, f)
    }
}

impl<T: ?Sized + PartialEq + 'static> PartialEq for Gc<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: ?Sized + Eq + 'static> Eq for Gc<T> {}

impl<T: ?Sized + PartialOrd + 'static> PartialOrd for Gc<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (**self).partial_cmp(&**other)
    }
}

impl<T: ?Sized + Ord + 'static> Ord for Gc<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (**self).cmp(&**other)
    }
}

impl<T: ?Sized + Hash + 'static> Hash for Gc<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

// SAFETY: a `Gc` field owns exactly one strong reference to its target and
// reports it once.
unsafe impl<T: ?Sized + 'static> Trace for Gc<T> {
    #[inline(always)]
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        tracer.edge(self);
    }
}

impl<T: ?Sized + 'static> TraceMeta for Gc<T> {
    // Always true, whatever `T` is: `Gc<Node>` inside `Node` must not make
    // the constant depend on itself.
    const TRACKED: bool = true;

    /// A `Gc<str>` key (an interned symbol) is labelled like a `str` key:
    /// by the target's key label, through its vtable. Nothing for a target
    /// whose value a running collection has condemned or dropped.
    fn __key_label(&self, out: &mut String) -> bool {
        let header = self.header();
        if header.has(flags::VALUE_DROPPED | flags::CONDEMNED) {
            return false;
        }
        // SAFETY: the box is live (this handle) and its value is not dropped
        // (checked above); the vtable matches the value.
        unsafe { (header.vtable().key_label)(Gc::header_ptr(self), out) }
    }
}

impl<T: ?Sized + 'static> sealed::Sealed for Gc<T> {
    fn header(&self) -> HeaderPtr {
        Gc::header_ptr(self)
    }
}

impl<T: ?Sized + 'static> AsObject for Gc<T> {}
