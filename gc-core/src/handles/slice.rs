//! `Gc<[T]>` and `Gc<str>`: slices and strings built from a `Vec`, a boxed
//! slice, an iterator or a `&str`, in one allocation with their header. The
//! length lives in front of the header (`layout::header::slice_allocation`),
//! so the collector can trace and drop the elements through a type-erased
//! header. (A `Gc<[T; N]>` made into a `Gc<[T]>` with `unsize!` needs no
//! stored length: its box keeps the array's vtable.)

use std::alloc::Layout;
use std::ptr::{self, NonNull};

use super::gc::Gc;
use super::vtable::VTableOf;
use crate::collector::note_allocation;
use crate::layout::alloc::allocate;
use crate::layout::list::init_link;
use crate::layout::{GcHeader, HeaderPtr, Stored, flags, slice_allocation, slice_len_slot};
use crate::lifecycle::track_new;
use crate::trace::{TraceMeta, TraceValue};

/// Allocates and tracks a slice box of `len` elements of layout `element`
/// holding a `V`, with `init` writing the elements.
///
/// # Safety
///
/// `V` is a slice type whose `Stored::SHAPE` is `Shape::Slice(element)`,
/// and `init` initialises `len` elements at the pointer it is given without
/// panicking.
unsafe fn new_slice<V: ?Sized + Stored + TraceMeta + TraceValue + 'static>(
    element: Layout,
    len: usize,
    init: impl FnOnce(*mut u8),
) -> Gc<V> {
    let (layout, offset) = slice_allocation(element, len, V::TRACKED);
    let heap = if V::TRACKED { note_allocation() } else { None };
    let base = allocate(layout);
    // SAFETY: the header is `offset` bytes into the fresh allocation.
    let h: HeaderPtr = unsafe { base.add(offset) }.cast();
    // SAFETY: the length's word is in front of the link (if any) and the
    // header, inside the allocation and aligned (`slice_allocation`).
    unsafe { slice_len_slot(h, V::TRACKED).write(len) };
    let mut bits = 0;
    if V::TRACKED {
        // SAFETY: a fresh box allocated with its link.
        unsafe { init_link(h) };
        bits |= flags::DEEP_DROP | flags::HAS_LINK;
    }
    if heap.is_some() {
        bits |= flags::TRACKED;
    }
    // SAFETY: the header's place in the fresh allocation.
    unsafe { h.write(GcHeader::new(VTableOf::<V>::VTABLE, bits)) };
    // SAFETY: the box now has its header and length.
    let values = unsafe { V::value_ptr(h) }.cast::<u8>();
    init(values);
    // SAFETY: the box is live, with its values, on no list; `TRACKED` was
    // set exactly when `heap` is given.
    unsafe { track_new(h, heap, V::__HAS_FINALIZER) };
    // SAFETY: a live box holding a `V` (caller), with one strong count.
    unsafe { Gc::from_box(NonNull::new_unchecked(V::box_ptr(h))) }
}

/// A `Gc<[T]>` owning the elements of `vec`, moved without cloning.
impl<T: TraceMeta + 'static> From<Vec<T>> for Gc<[T]> {
    /// ```
    /// use gc_core::Gc;
    ///
    /// let numbers: Gc<[u32]> = Gc::from(vec![1, 2, 3]);
    /// assert_eq!(&numbers[..], [1, 2, 3]);
    /// ```
    fn from(vec: Vec<T>) -> Gc<[T]> {
        let mut vec = vec;
        let len = vec.len();
        // SAFETY: `[T]`'s shape is a slice of `T`; the copy initialises
        // `len` elements and cannot panic. The elements are moved: the
        // vector forgets them right after the copy, so it frees only its
        // buffer. (If the collection that the allocation may run panics,
        // `init` never runs and the vector drops its elements as usual.)
        let gc = unsafe {
            new_slice::<[T]>(Layout::new::<T>(), len, |dst| {
                ptr::copy_nonoverlapping(vec.as_ptr(), dst.cast::<T>(), len);
                vec.set_len(0);
            })
        };
        drop(vec);
        gc
    }
}

impl<T: TraceMeta + 'static> From<Box<[T]>> for Gc<[T]> {
    fn from(boxed: Box<[T]>) -> Gc<[T]> {
        Gc::from(boxed.into_vec())
    }
}

impl<T: TraceMeta + Clone + 'static> From<&[T]> for Gc<[T]> {
    fn from(slice: &[T]) -> Gc<[T]> {
        Gc::from(slice.to_vec())
    }
}

/// Collects into one allocation (through a `Vec` first, as `Rc<[T]>` does
/// for iterators whose length it cannot trust).
impl<T: TraceMeta + 'static> FromIterator<T> for Gc<[T]> {
    /// ```
    /// use gc_core::Gc;
    ///
    /// let squares: Gc<[u64]> = (1..=4).map(|n| n * n).collect();
    /// assert_eq!(&squares[..], [1, 4, 9, 16]);
    /// ```
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Gc<[T]> {
        Gc::from(iter.into_iter().collect::<Vec<T>>())
    }
}

impl From<&str> for Gc<str> {
    /// ```
    /// use gc_core::Gc;
    ///
    /// let name: Gc<str> = Gc::from("lambda");
    /// assert_eq!(&*name, "lambda");
    /// ```
    fn from(text: &str) -> Gc<str> {
        let len = text.len();
        // SAFETY: `str`'s shape is a slice of bytes; the copy initialises
        // `len` bytes of valid UTF-8 and cannot panic.
        unsafe {
            new_slice::<str>(Layout::new::<u8>(), len, |dst| {
                ptr::copy_nonoverlapping(text.as_ptr(), dst, len);
            })
        }
    }
}

impl From<String> for Gc<str> {
    fn from(text: String) -> Gc<str> {
        Gc::from(text.as_str())
    }
}

impl From<Box<str>> for Gc<str> {
    fn from(text: Box<str>) -> Gc<str> {
        Gc::from(&*text)
    }
}
