//! The object layout: one `#[repr(C)]` allocation holding a [`GcHeader`] and
//! the value, with the container-list link in front of the header for
//! tracked types. All layout math lives here.
//!
//! ```text
//!  a box of a tracked type                          word
//! +-----------------------------------------------+
//! | link.next  *const Link   (null: on no list)    | -2  container list (PyGC_Head);
//! | link.prev  *const Link   | gc_refs, collecting  | -1  the prev word holds gc_refs
//! +-----------------------------------------------+      during a collection
//! | strong: u32 | flags: 2 x u8 | objects: u16      |  0  <- the header (HeaderPtr, Gc)
//! | vtable  &'static VTable  | *WeakRecord          |  1  type-erased operations
//! +-----------------------------------------------+
//! | value  T                                      |
//! +-----------------------------------------------+
//! ```
//!
//! Four words, 32 bytes, for a tracked object (CPython's `PyGC_Head`,
//! refcount and type pointer are the same four words); two, 16 bytes, for
//! an untracked one (`Gc<u64>`, `Gc<String>`), which carries no link at
//! all. Whether a box has the link is a property of its type
//! ([`flags::HAS_LINK`], set at allocation), so the link is always the 16
//! bytes just before the header; a value aligned to more than 16 bytes
//! puts padding in front of the link. A slice box keeps its length in front
//! of all that ([`slice_allocation`]).
//!
//! Packing follows CPython 3.12:
//!
//! - the strong count is 32 bits (overflow aborts, as `Rc`'s does: four
//!   billion handles are 32 GiB of `Gc`s), beside the flags and the count
//!   of `Object` handles, in one word;
//! - a collection's scratch count, `gc_refs`, lives in the link's `prev`
//!   word while the collection needs it (`list::gc_refs`), and
//!   `move_unreachable` rebuilds the `prev` pointers as it scans;
//! - the weak references are not a header word: an object that has some
//!   ([`flags::HAS_WEAKREFS`]) has its vtable word point at a small
//!   [`WeakRecord`] holding the vtable and the head of its weak cells,
//!   freed when the last cell goes. Objects without weak references, almost
//!   all of them, pay nothing for the feature.
//!
//! `Weak`s do not point at the box but at a small [`WeakCell`] that the box
//! lists (CPython's weakref list): clearing an object's weak references
//! nulls its cells, so the box is freed the moment its value is dropped,
//! and an object that survives (resurrected, or saved by `SAVEALL`) loses
//! the weak references it had while new ones work.
//!
//! `#[repr(C)]` keeps the header at offset 0 of `GcBox<T>`, so a pointer to
//! the box and to its header are the same address; the list link is at a
//! fixed distance before it ([`LINK_SIZE`]), and a type-erased
//! [`HeaderPtr`] finds the value through the vtable's shape.

use std::alloc::Layout;
use std::any::TypeId;
use std::cell::Cell;
use std::mem::{align_of, size_of};
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
    /// The box has the container-list link in front of its header: its
    /// type can reach a `Gc` (`TraceMeta::TRACKED`). Set at allocation,
    /// never changed: an object of such a type that is not on a list (made
    /// while its thread exits, or held by a `GcMut`) still has the link.
    /// The same bit as `DEEP_DROP`: both are the type's `TRACKED`, so one
    /// bit cannot disagree with the other.
    pub(crate) const HAS_LINK: u32 = DEEP_DROP;
    /// The header's vtable word points at a [`WeakRecord`](super::WeakRecord)
    /// (the object has weak cells). Set when the first cell is listed;
    /// cleared, and the record freed, when the last one leaves the list.
    pub(crate) const HAS_WEAKREFS: u32 = 1 << 11;
    /// The heap's snapshot-id table (`heap::ids`) holds an id for this
    /// box: a heap snapshot (`objgraph::write_heap_snapshot`) named it. Set
    /// together with the table entry; never cleared: whatever frees the box
    /// (`lifecycle`'s `free_box` and the trashcan's `drop_and_free`) removes
    /// the entry first, so an address reused by a new box never inherits
    /// the old box's id. Reference counting's fast path (`release_typed`)
    /// leaves boxes with this bit to the type-erased path, which does that.
    pub(crate) const HAS_SNAPSHOT_ID: u32 = 1 << 12;
    // Flags are stored in 16 bits (two bytes): bits 5, 10 and 13-15 are free.
    // The generation and `COLLECTING` live in the low byte, which
    // `mark_scanned` and `set_generation` rewrite alone.
    const _: () = assert!((GEN_MASK | COLLECTING) & !0xff == 0);
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
/// may mention it; the module is private): two words. Every field is a
/// `Cell` (or written once before the box is shared), so shared references
/// to headers may coexist with the collector's raw-pointer writes.
#[repr(C)]
pub struct GcHeader {
    /// Number of strong handles (`Gc`, `Object`), plus one while a collection
    /// holds the object during teardown or while a finalizer runs. The value
    /// is dropped and the box freed when it reaches zero. Overflow aborts.
    strong: Cell<u32>,
    /// The [`flags`] as two bytes, bits 0-7 and 8-15. Every access is a
    /// byte wide: a 16-bit read right after a one-byte write of the same
    /// word (what the compiler makes of `set`/`clear` with a constant) stalls
    /// on store forwarding, and did so on the hot paths of `Drop for Gc` and
    /// of the teardown.
    flags_lo: Cell<u8>,
    flags_hi: Cell<u8>,
    /// Live `Object` handles among the strong handles (saturating; the
    /// excess is counted in the heap's side table). Introspection handles
    /// never make an object a root (`objgraph::is_root`).
    objects: Cell<u16>,
    /// The type's `&'static VTable`, or, while [`flags::HAS_WEAKREFS`], a
    /// `*mut WeakRecord` (owned by the header) that holds it.
    vtable: Cell<NonNull<()>>,
}

/// Where an object's vtable and weak cells are while it has weak cells: the
/// header's vtable word points here (CPython reserves a weakref-list slot in
/// the objects of types that support weak references; this costs the
/// objects that have none nothing).
pub(crate) struct WeakRecord {
    vtable: &'static VTable,
    /// Head of the object's weak cells, newest first; never null while
    /// the record exists.
    head: Cell<*const WeakCell>,
}

/// The size of the container-list link in front of the header of a tracked
/// type's box.
pub(crate) const LINK_SIZE: usize = size_of::<Link>();

const _: () = assert!(LINK_SIZE.is_power_of_two());

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
    /// `flags` must include [`flags::HAS_LINK`] exactly when the box was
    /// allocated with the link ([`sized_allocation`], [`slice_allocation`]).
    pub(crate) fn new(vtable: &'static VTable, flags: u32) -> Self {
        GcHeader {
            strong: Cell::new(1),
            flags_lo: Cell::new(flags as u8),
            flags_hi: Cell::new((flags >> 8) as u8),
            objects: Cell::new(0),
            vtable: Cell::new(NonNull::from(vtable).cast()),
        }
    }

    #[inline(always)]
    pub(crate) fn strong(&self) -> usize {
        self.strong.get() as usize
    }

    /// Adds a strong reference. Aborts on overflow, as `Rc` does: the count
    /// cannot overflow without leaking `u32::MAX` handles (32 GiB of them).
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
        n as usize
    }

    /// The type's operations.
    #[inline(always)]
    pub(crate) fn vtable(&self) -> &'static VTable {
        let slot = self.vtable.get();
        if self.has(flags::HAS_WEAKREFS) {
            // SAFETY: while `HAS_WEAKREFS` the word points at the header's
            // live record.
            unsafe { slot.cast::<WeakRecord>().as_ref() }.vtable
        } else {
            // SAFETY: otherwise it is the `&'static VTable` it was made from.
            unsafe { slot.cast::<VTable>().as_ref() }
        }
    }

    /// The record, while the object has weak cells.
    #[inline]
    fn weak_record(&self) -> Option<&WeakRecord> {
        // SAFETY: while `HAS_WEAKREFS` the vtable word points at the
        // header's live record, freed only by `set_weakrefs` (which takes
        // `&self`, so not while this borrow is used: callers copy out).
        self.has(flags::HAS_WEAKREFS)
            .then(|| unsafe { self.vtable.get().cast::<WeakRecord>().as_ref() })
    }

    /// Head of the object's weak cells, newest first (null: none).
    #[inline]
    pub(crate) fn weakrefs(&self) -> *const WeakCell {
        self.weak_record()
            .map_or(std::ptr::null(), |record| record.head.get())
    }

    /// Sets the head of the object's weak cells: makes the record for the
    /// first cell, frees it when the head becomes null.
    pub(crate) fn set_weakrefs(&self, head: *const WeakCell) {
        match (self.weak_record(), head.is_null()) {
            (Some(record), false) => record.head.set(head),
            (Some(record), true) => {
                let vtable = record.vtable;
                let record = self.vtable.get().cast::<WeakRecord>();
                self.vtable.set(NonNull::from(vtable).cast());
                self.clear(flags::HAS_WEAKREFS);
                // SAFETY: the record was made by `Box::into_raw` below and
                // is no longer reachable from the header.
                drop(unsafe { Box::from_raw(record.as_ptr()) });
            }
            (None, false) => {
                let record = Box::new(WeakRecord {
                    vtable: self.vtable(),
                    head: Cell::new(head),
                });
                self.vtable.set(NonNull::from(Box::leak(record)).cast());
                self.set(flags::HAS_WEAKREFS);
            }
            (None, true) => {}
        }
    }

    /// Takes the object's weak cells off it: returns the head and leaves
    /// none.
    pub(crate) fn take_weakrefs(&self) -> *const WeakCell {
        let head = self.weakrefs();
        self.set_weakrefs(std::ptr::null());
        head
    }

    #[inline(always)]
    pub(crate) fn flags(&self) -> u32 {
        u32::from(self.flags_lo.get()) | u32::from(self.flags_hi.get()) << 8
    }

    /// Whether any of the bits of `flag` is set. With a constant `flag`,
    /// reads only the byte(s) it names.
    #[inline(always)]
    pub(crate) fn has(&self, flag: u32) -> bool {
        let (lo, hi) = (flag as u8, (flag >> 8) as u8);
        (lo != 0 && self.flags_lo.get() & lo != 0) || (hi != 0 && self.flags_hi.get() & hi != 0)
    }

    #[inline(always)]
    pub(crate) fn set(&self, flag: u32) {
        let (lo, hi) = (flag as u8, (flag >> 8) as u8);
        if lo != 0 {
            self.flags_lo.set(self.flags_lo.get() | lo);
        }
        if hi != 0 {
            self.flags_hi.set(self.flags_hi.get() | hi);
        }
    }

    #[inline(always)]
    pub(crate) fn clear(&self, flag: u32) {
        let (lo, hi) = (flag as u8, (flag >> 8) as u8);
        if lo != 0 {
            self.flags_lo.set(self.flags_lo.get() & !lo);
        }
        if hi != 0 {
            self.flags_hi.set(self.flags_hi.get() & !hi);
        }
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
    /// can reach an overflow without leaking `u32::MAX` handles.
    #[cfg(test)]
    pub(crate) fn forge_counts(&self, strong: u32, objects: u16) {
        self.strong.set(strong);
        self.objects.set(objects);
    }

    /// Whether the box's value is a `U` (its concrete type, recorded in the
    /// vtable when the box was made).
    #[inline]
    pub(crate) fn holds<U: 'static>(&self) -> bool {
        (self.vtable().type_id)() == TypeId::of::<U>()
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
        // Both fields are in the low byte (asserted where they are defined).
        let f = u32::from(self.flags_lo.get()) & !(flags::GEN_MASK | flags::COLLECTING);
        self.flags_lo
            .set((f | (generation << flags::GEN_SHIFT)) as u8);
    }

    #[inline(always)]
    pub(crate) fn set_generation(&self, generation: u32) {
        let f = u32::from(self.flags_lo.get()) & !flags::GEN_MASK;
        self.flags_lo
            .set((f | (generation << flags::GEN_SHIFT)) as u8);
    }
}

/// Where `ptr`'s box was allocated, and with which layout, given whether
/// it has the list link (its `HAS_LINK` flag, which the caller knows: on
/// the hot path of `Drop for Gc`, reading the flags again right after
/// untracking rewrote one byte of them would stall on store forwarding).
///
/// # Safety
///
/// `ptr` points at a live box whose value has not been dropped, and
/// `linked` is its `HAS_LINK` flag.
#[inline(always)]
pub(crate) unsafe fn allocation_of<T: ?Sized>(
    ptr: NonNull<GcBox<T>>,
    linked: bool,
) -> (NonNull<u8>, Layout) {
    if size_of::<*const GcBox<T>>() == size_of::<*const u8>() {
        // A thin pointer: a sized value, whose box's layout is a constant.
        // SAFETY: live (caller); a shared reference to the box is valid
        // while no `&mut` to the value exists, and none is ever made while
        // the box is referenced.
        let gc_box = Layout::for_value(unsafe { ptr.as_ref() });
        let (layout, offset) = sized_allocation(gc_box, linked);
        // SAFETY: the header is `offset` bytes into the allocation, and
        // `ptr` was derived from the allocator's pointer.
        (unsafe { ptr.cast::<u8>().sub(offset) }, layout)
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
    let header = unsafe { header_ref(h) };
    let linked = header.has(flags::HAS_LINK);
    let (layout, offset) = match header.vtable().shape {
        Shape::Sized(gc_box) => sized_allocation(gc_box, linked),
        Shape::Slice(element) => {
            // SAFETY: a slice box has its length in front of its header.
            let len = unsafe { slice_len(h) };
            slice_allocation(element, len, linked)
        }
    };
    // SAFETY: the header is `offset` bytes into the allocation, and `h` was
    // derived from the allocator's pointer.
    (unsafe { h.cast::<u8>().sub(offset) }, layout)
}

/// How big a box is.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Shape {
    /// A sized value: the layout of its `GcBox` ([`sized_allocation`]).
    Sized(Layout),
    /// A slice of elements of this layout (`GcBox<[T]>`, `GcBox<str>`),
    /// whose length is stored in front of the header
    /// ([`slice_allocation`]).
    Slice(Layout),
}

/// The allocation of a sized box whose `GcBox<T>` has the layout `gc_box`,
/// with the container-list link in front if `linked`: the layout of the
/// whole allocation and the offset of the header in it.
///
/// ```text
/// | padding (align > 16 only) | Link | GcHeader | value |
///                                    ^ the box (`GcBox<T>`) starts here
/// ```
#[inline(always)]
pub(crate) fn sized_allocation(gc_box: Layout, linked: bool) -> (Layout, usize) {
    if !linked {
        return (gc_box, 0);
    }
    // Both are powers of two, so the first multiple of the alignment that
    // leaves room for the link is the larger of the two (and no division
    // is needed: this runs on every free of a type-erased box).
    let offset = LINK_SIZE.max(gc_box.align());
    let size = offset + gc_box.size();
    // `size` is a multiple of the alignment; only a value near `isize::MAX`
    // bytes can overflow.
    let layout = Layout::from_size_align(size, gc_box.align())
        .unwrap_or_else(|_| panic!("capacity overflow: a box of {size} bytes is too large"));
    (layout, offset)
}

/// The allocation of a slice box of `len` elements, with the container-list
/// link if `linked`: the layout of the whole allocation and the offset of
/// the header in it. The length is stored in the `usize` in front of the
/// link, or of the header if there is none:
///
/// ```text
/// | padding | len: usize | Link (if linked) | GcHeader | element 0 | element 1 | ... |
///                                           ^ the box (`GcBox<[T]>`) starts here
/// ```
///
/// # Panics
///
/// If the size overflows `isize`, as `Vec` does.
pub(crate) fn slice_allocation(element: Layout, len: usize, linked: bool) -> (Layout, usize) {
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
    let prefix_size = size_of::<usize>() + if linked { LINK_SIZE } else { 0 };
    let prefix =
        Layout::from_size_align(prefix_size, align_of::<usize>()).unwrap_or_else(|_| overflow());
    let (whole, offset) = prefix
        .extend(gc_box.pad_to_align())
        .unwrap_or_else(|_| overflow());
    (whole.pad_to_align(), offset)
}

/// Where a slice box's length is stored: the word in front of its link, or
/// of its header if it has none.
#[inline]
pub(crate) fn slice_len_slot(h: HeaderPtr, linked: bool) -> *mut usize {
    let before = if linked { LINK_SIZE } else { 0 } + size_of::<usize>();
    h.as_ptr().cast::<u8>().wrapping_sub(before).cast()
}

/// The length of a slice box.
///
/// # Safety
///
/// `h` is a live box whose vtable's shape is [`Shape::Slice`].
#[inline]
pub(crate) unsafe fn slice_len(h: HeaderPtr) -> usize {
    // SAFETY: live (caller).
    let linked = unsafe { header_ref(h) }.has(flags::HAS_LINK);
    // SAFETY: the length is the aligned word in front of the link or the
    // header, inside the same allocation (`slice_allocation`); `h`'s
    // provenance covers the whole allocation (it was derived from the
    // allocator's pointer).
    unsafe { slice_len_slot(h, linked).read() }
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
