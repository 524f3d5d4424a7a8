//! The object layout: one `#[repr(C)]` allocation holding a [`GcHeader`] and
//! the value. All layout math lives here.
//!
//! ```text
//!  GcBox<T> (#[repr(C)])                      word
//! +----------------------------------------+
//! | link.next   *const Link  (null: untracked) 0   container list (PyGC_Head)
//! | link.prev   *const Link                 | 1
//! | strong      usize                       | 2   Gc + Object handles
//! | flags: u16, objects: u16 | gc_refs: i32   | 3   state bits, `Object` handles | scratch
//! | weakrefs    *const WeakCell             | 4   this object's weak cells
//! | vtable      &'static VTable             | 5   type-erased operations
//! +----------------------------------------+
//! | value       T                           |
//! +----------------------------------------+
//! ```
//!
//! Six words, 48 bytes on 64-bit targets. `Weak`s do not point at the box
//! but at a small [`WeakCell`] that the box lists (CPython's weakref list):
//! clearing an object's weak references nulls its cells, so the box is freed
//! the moment its value is dropped, and an object that survives (resurrected,
//! or saved by `SAVEALL`) loses the weak references it had while new ones
//! work.
//!
//! `#[repr(C)]` keeps the header at offset 0, so a pointer to the box, to
//! its header and to its list link are the same address: the container lists
//! link headers, and a type-erased [`HeaderPtr`] finds the value through the
//! vtable's offset.

use std::alloc::Layout;
use std::any::TypeId;
use std::cell::Cell;
use std::mem::size_of;
use std::ptr::NonNull;

use super::{Link, WeakCell};
use crate::trace::DynTracer;

/// A pointer to the header of a live allocation. Always derived from the
/// pointer the allocator returned (never from a reference to the header), so
/// its provenance covers the whole box.
pub(crate) type HeaderPtr = NonNull<GcHeader>;

/// Flag bits of [`GcHeader::flags`]. Each state says when it is entered and
/// left.
pub(crate) mod flags {
    /// Set while the object is on one of the heap's container lists (a
    /// generation, the permanent generation, or a collection's scratch list).
    /// Cleared when it is unlinked: refcount death, a collection freeing it,
    /// or thread teardown untracking every object.
    pub(crate) const TRACKED: u32 = 1 << 0;
    /// Which generation list holds the object (0, 1, 2, or 3 = permanent),
    /// meaningful only while `TRACKED`. Written at allocation, by
    /// `move_unreachable` for survivors, and by `freeze`/`unfreeze`.
    pub(crate) const GEN_SHIFT: u32 = 1;
    pub(crate) const GEN_MASK: u32 = 0b11 << GEN_SHIFT;
    /// The permanent generation (`freeze`).
    pub(crate) const GEN_PERMANENT: u32 = 3;
    /// Set by `update_refs` on every object of the generation being collected
    /// ("this object's gc_refs is meaningful"); cleared when the object is
    /// found reachable in `move_unreachable`, or when its teardown starts.
    pub(crate) const COLLECTING: u32 = 1 << 3;
    /// Set while the object sits on the tentatively-unreachable list inside
    /// `move_unreachable`; cleared if it is found reachable after all, or
    /// when the collection condemns it.
    pub(crate) const UNREACHABLE: u32 = 1 << 4;
    /// The value has been dropped (or is being dropped). The box may live on
    /// for `Weak`s, but nothing may touch the value again. Never cleared.
    pub(crate) const VALUE_DROPPED: u32 = 1 << 6;
    /// The type's `Trace` may reach a `Gc`, so dropping the value can recurse
    /// into other objects' destruction: such drops go through the trashcan.
    pub(crate) const DEEP_DROP: u32 = 1 << 7;
    /// The finalizer has run (or is running). Never cleared.
    pub(crate) const FINALIZED: u32 = 1 << 8;
    /// Condemned by a collection, which will drop the value and free the box
    /// (its weak references are cleared). Reference counting must not destroy
    /// it: when its count reaches zero, `release` frees the box only if the
    /// value is already dropped, and otherwise leaves it to the collector.
    /// Never cleared.
    pub(crate) const DYING: u32 = 1 << 9;
    /// Either mark of a condemned object: `DYING`, or `UNREACHABLE` on an
    /// object left on a collection's unreachable list (the collector skips
    /// the walk that would set `DYING` when no weak reference exists, see
    /// `collect_main`; no user code can reach the object either way).
    pub(crate) const CONDEMNED: u32 = DYING | UNREACHABLE;
    // Flags are stored in 16 bits: bits 10-15 are free.
}

/// Type-erased operations on a box, one static table per value type: the
/// shape only. The table of a type is built in one place,
/// `handles::vtable`, the only code that names a value's type and every
/// layer's per-type function; the layers below call through it, as
/// CPython's collector calls `tp_traverse` and `tp_dealloc`.
pub(crate) struct VTable {
    /// `gc_refs -= 1` for every strong edge to an object being collected
    /// (`collector::reachability::SubtractRefs`).
    pub(crate) subtract_refs: unsafe fn(HeaderPtr, u32),
    /// `visit_reachable` over every strong edge
    /// (`collector::reachability::VisitReachable`).
    pub(crate) visit_reachable: unsafe fn(HeaderPtr, NonNull<Link>),
    /// Traces the value with labels, for introspection.
    pub(crate) trace_dyn: unsafe fn(HeaderPtr, &mut DynTracer<'_>),
    /// Marks the weak cells the value owns as in the trash
    /// (`lifecycle::weakrefs::MarkTrash`).
    pub(crate) mark_trash: unsafe fn(HeaderPtr),
    /// Drops the value in place.
    pub(crate) drop_value: unsafe fn(HeaderPtr),
    /// Runs the finalizer, if the type has one.
    pub(crate) finalize: Option<unsafe fn(HeaderPtr)>,
    /// Writes the value's description (`Describe`), if the type has one.
    /// User code: only the tools call it, never while tracing.
    pub(crate) describe: Option<DescribeFn>,
    /// Writes the value's map-key label and returns `true`, or returns
    /// `false` (`TraceMeta::__key_label`: std code only, called while
    /// tracing the map that holds a `Gc` key).
    pub(crate) key_label: unsafe fn(HeaderPtr, &mut String) -> bool,
    /// How big the box is, for deallocation.
    pub(crate) shape: Shape,
    pub(crate) type_name: fn() -> &'static str,
    pub(crate) type_id: fn() -> TypeId,
}

/// A vtable's `describe` entry: writes the value of a live box, like
/// `Display::fmt`.
pub(crate) type DescribeFn = unsafe fn(HeaderPtr, &mut std::fmt::Formatter<'_>) -> std::fmt::Result;

/// The header in front of every value (`pub` only so that sealed traits
/// may mention it; the module is private). Every field is a `Cell` (or written
/// once before the box is shared), so shared references to headers may
/// coexist with the collector's raw-pointer writes.
#[repr(C)]
pub struct GcHeader {
    /// The container-list link. Must stay the first field: a `*const Link` to
    /// a non-sentinel node is a pointer to its header.
    pub(crate) link: Link,
    /// Number of strong handles (`Gc`, `Object`), plus one while a collection
    /// holds the object during teardown or while a finalizer runs. The value
    /// is dropped and the box freed when it reaches zero.
    strong: Cell<usize>,
    flags: Cell<u16>,
    /// Live `Object` handles among the strong handles (saturating; the
    /// excess is counted in the heap's side table). Introspection handles
    /// never make an object a root (`objgraph::is_root`).
    objects: Cell<u16>,
    /// A collection's scratch count: the strong references from outside the
    /// generation being collected. Meaningful only while `COLLECTING`. Kept
    /// in 32 bits; a count that does not fit is pinned at [`GC_REFS_PINNED`],
    /// which no subtraction changes, so such an object is always reachable.
    pub(crate) gc_refs: Cell<i32>,
    /// Head of this object's weak cells, newest first (null: none).
    pub(crate) weakrefs: Cell<*const WeakCell>,
    pub(crate) vtable: &'static VTable,
}

/// A `gc_refs` value that subtraction leaves alone: the strong count was
/// too large for 32 bits, so the object is treated as externally referenced.
pub(crate) const GC_REFS_PINNED: i32 = i32::MAX;

/// The allocation: header, then value. The value may be unsized
/// (`GcBox<dyn Trait>`, `GcBox<[T]>`): a pointer to the box is then fat, and
/// its thin part still points at the header.
///
/// `pub` only so that the `unsize!` macro's expansion may name it; the
/// module is private and the type hidden.
#[doc(hidden)]
#[repr(C)]
pub struct GcBox<T: ?Sized> {
    pub(crate) header: GcHeader,
    pub(crate) value: T,
}

impl GcHeader {
    /// A header for a fresh box: one strong handle, no weak cells.
    pub(crate) fn new(vtable: &'static VTable, flags: u32) -> Self {
        GcHeader {
            link: Link::detached(),
            strong: Cell::new(1),
            flags: Cell::new(flags as u16),
            objects: Cell::new(0),
            gc_refs: Cell::new(0),
            weakrefs: Cell::new(std::ptr::null()),
            vtable,
        }
    }

    /// `gc_refs = strong count`, pinned if it does not fit in 32 bits.
    #[inline(always)]
    pub(crate) fn init_gc_refs(&self) {
        self.gc_refs
            .set(i32::try_from(self.strong.get()).unwrap_or(GC_REFS_PINNED));
    }

    /// One internal reference less (unless pinned).
    #[inline(always)]
    pub(crate) fn subtract_gc_ref(&self) {
        let refs = self.gc_refs.get();
        if refs != GC_REFS_PINNED {
            self.gc_refs.set(refs - 1);
        }
    }

    #[inline(always)]
    pub(crate) fn strong(&self) -> usize {
        self.strong.get()
    }

    /// Adds a strong reference. Aborts on overflow, as `Rc` does: the count
    /// cannot overflow without leaking `usize::MAX` handles.
    #[inline(always)]
    pub(crate) fn inc_strong(&self) {
        let n = self.strong.get().wrapping_add(1);
        self.strong.set(n);
        if n == 0 {
            std::process::abort();
        }
    }

    /// Removes a strong reference and returns the new count.
    #[inline(always)]
    pub(crate) fn dec_strong(&self) -> usize {
        let n = self.strong.get() - 1;
        self.strong.set(n);
        n
    }

    #[inline(always)]
    pub(crate) fn flags(&self) -> u32 {
        u32::from(self.flags.get())
    }

    #[inline(always)]
    pub(crate) fn has(&self, flag: u32) -> bool {
        self.flags() & flag != 0
    }

    #[inline(always)]
    pub(crate) fn set(&self, flag: u32) {
        self.flags.set((self.flags() | flag) as u16);
    }

    #[inline(always)]
    pub(crate) fn clear(&self, flag: u32) {
        self.flags.set((self.flags() & !flag) as u16);
    }

    /// One more `Object` handle; `false` if the in-header count is full
    /// and the caller must count it elsewhere (so this count never
    /// overflows; the side table's aborts on overflow).
    #[inline]
    pub(crate) fn inc_objects(&self) -> bool {
        let n = self.objects.get();
        if n == u16::MAX {
            return false;
        }
        self.objects.set(n + 1);
        true
    }

    /// One `Object` handle less, from the in-header count.
    #[inline]
    pub(crate) fn dec_objects(&self) {
        self.objects.set(self.objects.get().saturating_sub(1));
    }

    /// `Object` handles counted in the header.
    pub(crate) fn objects(&self) -> u16 {
        self.objects.get()
    }

    /// Overwrites the strong and in-header `Object` counts, so that tests
    /// can reach an overflow without leaking `usize::MAX` handles.
    #[cfg(test)]
    pub(crate) fn forge_counts(&self, strong: usize, objects: u16) {
        self.strong.set(strong);
        self.objects.set(objects);
    }

    /// Whether the box's value is a `U` (its concrete type, recorded in the
    /// vtable when the box was made).
    #[inline]
    pub(crate) fn holds<U: 'static>(&self) -> bool {
        (self.vtable.type_id)() == TypeId::of::<U>()
    }

    /// The generation list the object is on, if tracked (3 = permanent).
    pub(crate) fn generation(&self) -> Option<usize> {
        self.has(flags::TRACKED)
            .then(|| ((self.flags() & flags::GEN_MASK) >> flags::GEN_SHIFT) as usize)
    }

    /// Found reachable by `move_unreachable`: no longer `COLLECTING`, and now
    /// in generation `generation` (one write).
    #[inline(always)]
    pub(crate) fn mark_scanned(&self, generation: u32) {
        let f = self.flags() & !(flags::GEN_MASK | flags::COLLECTING);
        self.flags
            .set((f | (generation << flags::GEN_SHIFT)) as u16);
    }

    #[inline(always)]
    pub(crate) fn set_generation(&self, generation: u32) {
        let f = self.flags() & !flags::GEN_MASK;
        self.flags
            .set((f | (generation << flags::GEN_SHIFT)) as u16);
    }
}

/// Where `ptr`'s box was allocated, and with which layout.
///
/// # Safety
///
/// `ptr` points at a live box whose value has not been dropped.
#[inline(always)]
pub(crate) unsafe fn allocation_of<T: ?Sized>(ptr: NonNull<GcBox<T>>) -> (NonNull<u8>, Layout) {
    if size_of::<*const GcBox<T>>() == size_of::<*const u8>() {
        // A thin pointer: a sized value, allocated at its header with its
        // box's layout, a constant.
        // SAFETY: live (caller); a shared reference to the box is valid
        // while no `&mut` to the value exists, and none is ever made while
        // the box is referenced.
        (ptr.cast(), Layout::for_value(unsafe { ptr.as_ref() }))
    } else {
        // SAFETY: forwarded from the caller.
        unsafe { allocation(ptr.cast()) }
    }
}

/// Where the box of `h` was allocated, and with which layout, from its
/// vtable.
///
/// # Safety
///
/// `h` points at a box that has not been freed.
#[inline]
pub(crate) unsafe fn allocation(h: HeaderPtr) -> (NonNull<u8>, Layout) {
    // SAFETY: allocated (caller).
    match unsafe { header_ref(h) }.vtable.shape {
        Shape::Sized(layout) => (h.cast(), layout),
        Shape::Slice(element) => {
            // SAFETY: a slice box has its length in front of its header.
            let len = unsafe { slice_len(h) };
            let (layout, offset) = slice_allocation(element, len);
            // SAFETY: the header is `offset` bytes into the allocation.
            (unsafe { h.cast::<u8>().sub(offset) }, layout)
        }
    }
}

/// How big a box is.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Shape {
    /// A sized value: the box's layout, allocated at its header.
    Sized(Layout),
    /// A slice of elements of this layout (`GcBox<[T]>`, `GcBox<str>`),
    /// whose length is stored in the word in front of the header
    /// ([`slice_allocation`]).
    Slice(Layout),
}

/// The allocation of a slice box of `len` elements: the layout of the
/// whole allocation and the offset of the header in it. The length is
/// stored in the `usize` just before the header:
///
/// ```text
/// | padding | len: usize | GcHeader | element 0 | element 1 | ... |
///                        ^ the box (`GcBox<[T]>`) starts here
/// ```
///
/// # Panics
///
/// If the size overflows `isize`, as `Vec` does.
pub(crate) fn slice_allocation(element: Layout, len: usize) -> (Layout, usize) {
    let overflow = || -> ! { panic!("capacity overflow: a slice of {len} elements is too large") };
    let array = Layout::from_size_align(
        element
            .size()
            .checked_mul(len)
            .unwrap_or_else(|| overflow()),
        element.align(),
    )
    .unwrap_or_else(|_| overflow());
    let (gc_box, _) = Layout::new::<GcHeader>()
        .extend(array)
        .unwrap_or_else(|_| overflow());
    let (whole, offset) = Layout::new::<usize>()
        .extend(gc_box.pad_to_align())
        .unwrap_or_else(|_| overflow());
    (whole.pad_to_align(), offset)
}

/// The length of a slice box.
///
/// # Safety
///
/// `h` is a live box whose vtable's shape is [`Shape::Slice`].
#[inline]
pub(crate) unsafe fn slice_len(h: HeaderPtr) -> usize {
    // SAFETY: the length is the aligned word just before the header, inside
    // the same allocation; `h`'s provenance covers the whole allocation
    // (it was derived from the allocator's pointer).
    unsafe { h.cast::<usize>().sub(1).read() }
}

/// A value type a box can hold, and where its value is, given only the
/// header: sized types, slices and `str`. Implemented here only.
///
/// # Safety
///
/// `value_ptr` returns a pointer to the value of a box of this type, with
/// the provenance of `h`; `SHAPE` describes the box's allocation.
pub(crate) unsafe trait Stored {
    /// The box's shape.
    const SHAPE: Shape;

    /// The box at `h`, with the pointer metadata of `Self`.
    ///
    /// # Safety
    ///
    /// `h` is a live box holding a `Self`.
    unsafe fn box_ptr(h: HeaderPtr) -> *mut GcBox<Self>;

    /// The value of the box at `h`.
    ///
    /// # Safety
    ///
    /// `h` is a live box holding a `Self`.
    #[inline(always)]
    unsafe fn value_ptr(h: HeaderPtr) -> *mut Self {
        // SAFETY: forwarded from the caller; no reference is made.
        unsafe { &raw mut (*Self::box_ptr(h)).value }
    }
}

// SAFETY: a sized value sits at its field of `GcBox<T>`, allocated at the
// header with `GcBox<T>`'s layout.
unsafe impl<T> Stored for T {
    const SHAPE: Shape = Shape::Sized(Layout::new::<GcBox<T>>());

    #[inline(always)]
    unsafe fn box_ptr(h: HeaderPtr) -> *mut GcBox<T> {
        h.cast::<GcBox<T>>().as_ptr()
    }
}

// SAFETY: a slice box is a `GcBox<[T]>` at the header, its length stored in
// front of it (`slice_allocation`).
unsafe impl<T> Stored for [T] {
    const SHAPE: Shape = Shape::Slice(Layout::new::<T>());

    #[inline]
    unsafe fn box_ptr(h: HeaderPtr) -> *mut GcBox<[T]> {
        // SAFETY: a slice box (caller).
        let len = unsafe { slice_len(h) };
        std::ptr::slice_from_raw_parts_mut(h.as_ptr().cast::<T>(), len) as *mut GcBox<[T]>
    }
}

// SAFETY: a `str` box is a `[u8]` box holding UTF-8.
unsafe impl Stored for str {
    const SHAPE: Shape = Shape::Slice(Layout::new::<u8>());

    #[inline]
    unsafe fn box_ptr(h: HeaderPtr) -> *mut GcBox<str> {
        // SAFETY: forwarded from the caller.
        unsafe { <[u8] as Stored>::box_ptr(h) as *mut GcBox<str> }
    }
}

/// The value of a box whose type is statically known.
///
/// # Safety
///
/// `header` must point at a live box holding a `T` whose value is not
/// dropped, and the returned reference must not outlive that.
#[inline(always)]
pub(crate) unsafe fn value_ref<'a, T: ?Sized + Stored>(header: HeaderPtr) -> &'a T {
    // SAFETY: the caller guarantees a live `T`; the pointer's provenance
    // covers the whole box.
    unsafe { &*T::value_ptr(header) }
}

/// The header behind a pointer.
///
/// # Safety
///
/// `header` must point at a box that has not been deallocated.
#[inline(always)]
pub(crate) unsafe fn header_ref<'a>(header: HeaderPtr) -> &'a GcHeader {
    // SAFETY: the box is allocated (caller); headers are only mutated
    // through `Cell`s, so a shared reference is always valid.
    unsafe { header.as_ref() }
}

/// Strips module paths from a type name, keeping generics:
/// `alloc::vec::Vec<app::Node>` → `Vec<Node>`.
pub(crate) fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    // Start, in `out`, of the path currently being written.
    let mut path_start = 0;
    let mut rest = full;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("::") {
            out.truncate(path_start);
            rest = &rest[2..];
            continue;
        }
        out.push(c);
        if !(c.is_alphanumeric() || c == '_') {
            path_start = out.len();
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::short_type_name;

    #[test]
    fn short_names_strip_paths_and_keep_generics() {
        assert_eq!(short_type_name("app::Node"), "Node");
        assert_eq!(short_type_name("Node"), "Node");
        assert_eq!(short_type_name("alloc::vec::Vec<app::Node>"), "Vec<Node>");
        assert_eq!(
            short_type_name(
                "std::collections::hash::map::HashMap<alloc::string::String, a::b::C<u8>>"
            ),
            "HashMap<String, C<u8>>"
        );
        assert_eq!(short_type_name("(a::B, [c::D; 3])"), "(B, [D; 3])");
        assert_eq!(short_type_name("&'static str"), "&'static str");
        assert_eq!(
            short_type_name("core::option::Option<&dyn a::T>"),
            "Option<&dyn T>"
        );
    }
}
