//! Intrusive, circular, doubly linked container lists with a sentinel head,
//! as CPython's `PyGC_Head` lists.
//!
//! Every tracked object is on exactly one list. A list head is a bare
//! [`Link`] (the sentinel) living inside the heap; every other node is the
//! link in front of a tracked type's [`GcHeader`], [`LINK_SIZE`] bytes
//! before it, so a node pointer and a header pointer convert into each
//! other by an offset. Heads never move: the heap is boxed.
//!
//! # `gc_refs` in the `prev` word
//!
//! As in CPython 3.12, a collection keeps each object's scratch count,
//! `gc_refs`, in its link's `prev` word ([`gc_refs`], [`set_gc_refs`]).
//! From `update_refs` until `move_unreachable` has scanned it, an object's
//! `prev` is a number, not a pointer, and its list is singly linked; the
//! walks of those phases follow `next` only. `move_unreachable` walks with
//! a [`Scan`], which writes each scanned object's `prev` pointer back; every
//! other pass that stores `gc_refs` repairs the list afterwards
//! ([`Link::repair_prevs`]). The list's head keeps a valid `prev` (its tail)
//! throughout, so appending works during a scan.

use std::cell::Cell;
use std::ptr::{self, NonNull};

use super::header::LINK_SIZE;
use super::{GcHeader, HeaderPtr, header_ref};

/// A list node: the sentinel of a list, or the link in front of a tracked
/// type's header. `next` is null while the node is on no list; `prev` holds
/// `gc_refs` during the phases of a collection that need it (see the module
/// docs).
#[repr(C)]
pub(crate) struct Link {
    next: Cell<*const Link>,
    prev: Cell<*const Link>,
}

impl Link {
    /// A node on no list.
    pub(crate) const fn detached() -> Self {
        Link {
            next: Cell::new(ptr::null()),
            prev: Cell::new(ptr::null()),
        }
    }

    /// Makes `self` an empty list: the sentinel points at itself. Must be
    /// called once the head has its final address.
    pub(crate) fn init_head(&self) {
        self.next.set(self);
        self.prev.set(self);
    }

    pub(crate) fn is_empty(&self) -> bool {
        ptr::eq(self.next.get(), self)
    }

    /// The first object of the list, if any.
    pub(crate) fn first(&self) -> Option<HeaderPtr> {
        let next = self.next.get();
        (!ptr::eq(next, self)).then(|| as_header(next))
    }

    /// Appends `node` at the tail.
    ///
    /// # Safety
    ///
    /// `self` is an initialised head; `node` is a live header on no list.
    #[inline(always)]
    pub(crate) unsafe fn push_back(&self, node: HeaderPtr) {
        let link = link_of(node);
        let tail = self.prev.get();
        // SAFETY: `tail` is the head or a live node of this list (list
        // invariant); `link` is live (caller).
        unsafe {
            (*link).prev.set(tail);
            (*link).next.set(self);
            (*tail).next.set(link);
        }
        self.prev.set(link);
    }

    /// Moves `node` from whatever list it is on to the tail of `self`.
    ///
    /// # Safety
    ///
    /// `node` is a live header on some list; `self` is an initialised head.
    #[inline(always)]
    pub(crate) unsafe fn move_back(&self, node: HeaderPtr) {
        // SAFETY: forwarded from the caller.
        unsafe {
            unlink(node);
            self.push_back(node);
        }
    }

    /// Appends every node of `from` to `self`, leaving `from` empty. O(1).
    ///
    /// # Safety
    ///
    /// Both heads are initialised and distinct.
    pub(crate) unsafe fn merge_from(&self, from: &Link) {
        if from.is_empty() {
            return;
        }
        let first = from.next.get();
        let last = from.prev.get();
        let tail = self.prev.get();
        // SAFETY: `first`, `last` and `tail` are nodes (or the head) of
        // initialised lists, all live by the list invariant.
        unsafe {
            (*tail).next.set(first);
            (*first).prev.set(tail);
            (*last).next.set(self);
        }
        self.prev.set(last);
        from.init_head();
    }

    /// CPython's `validate_list`, for debug builds: checks that the list is
    /// well linked (every node's neighbours point back at it) and that every
    /// node's flags satisfy `state`, whose name `what` the panic message
    /// gives. The collector calls it at phase boundaries, so a broken
    /// invariant fails loudly where it is broken instead of corrupting the
    /// heap later. Compiled out of release builds.
    #[cfg(debug_assertions)]
    pub(crate) fn validate(&self, list: &str, what: &str, state: impl Fn(u32) -> bool) {
        let mut prev: *const Link = self;
        let mut cur = self.next.get();
        while !ptr::eq(cur, self) {
            assert!(!cur.is_null(), "validate_list({list}): a null link");
            // SAFETY: `cur` is a node of this list (list invariant, which
            // this walk checks as it goes).
            let node = unsafe { &*cur };
            assert!(
                ptr::eq(node.prev.get(), prev),
                "validate_list({list}): a node's prev does not point at its predecessor"
            );
            // SAFETY: non-sentinel nodes are headers of live boxes.
            let header = unsafe { as_header(cur).as_ref() };
            let bits = header.flags();
            assert!(
                bits & super::flags::TRACKED != 0 && state(bits),
                "validate_list({list}): an object with flags {bits:#06x} is not {what}"
            );
            prev = cur;
            cur = node.next.get();
        }
        assert!(
            ptr::eq(self.prev.get(), prev),
            "validate_list({list}): the head's prev is not the last node"
        );
    }

    /// Counts the nodes. O(n).
    pub(crate) fn len(&self) -> usize {
        self.iter().count()
    }

    /// Iterates the nodes. The list must not change while the iterator is
    /// used, except that the node last returned may be moved elsewhere if the
    /// caller fetched its successor first (see [`Link::next_of`]).
    pub(crate) fn iter(&self) -> Iter<'_> {
        Iter {
            head: self,
            cur: self.next.get(),
        }
    }

    /// The successor of `node` on this list (`None` at the tail).
    ///
    /// # Safety
    ///
    /// `node` is a live header on the list headed by `self`.
    #[inline(always)]
    pub(crate) unsafe fn next_of(&self, node: HeaderPtr) -> Option<HeaderPtr> {
        // SAFETY: `node` is live and has a link (caller).
        let next = unsafe { (*link_of(node)).next.get() };
        (!ptr::eq(next, self)).then(|| as_header(next))
    }
}

/// Removes `node` from its list and marks it detached.
///
/// # Safety
///
/// `node` is a live header on an initialised list.
#[inline(always)]
pub(crate) unsafe fn unlink(node: HeaderPtr) {
    let link = link_of(node);
    // SAFETY: `node` and its neighbours are live by the list invariant.
    unsafe {
        let next = (*link).next.get();
        let prev = (*link).prev.get();
        (*prev).next.set(next);
        (*next).prev.set(prev);
        (*link).next.set(ptr::null());
    }
}

/// Detaches `node` without touching its neighbours. Only for thread teardown,
/// where whole lists are abandoned at once.
///
/// # Safety
///
/// `node` is allocated and has a link.
pub(crate) unsafe fn forget_links(node: HeaderPtr) {
    // SAFETY: forwarded from the caller.
    let link = unsafe { &*link_of(node) };
    link.next.set(ptr::null());
    link.prev.set(ptr::null());
}

/// Singly linked use of the `next` field, for objects on no list (the
/// trashcan's deferred stack): `node`'s successor becomes `next`.
///
/// # Safety
///
/// `node` is allocated, has a link, and is on no list.
pub(crate) unsafe fn set_next_raw(node: HeaderPtr, next: Option<HeaderPtr>) {
    let next = next.map_or(ptr::null(), link_of);
    // SAFETY: forwarded from the caller.
    unsafe { &*link_of(node) }.next.set(next);
}

/// The successor [`set_next_raw`] gave `node`.
///
/// # Safety
///
/// As [`set_next_raw`].
pub(crate) unsafe fn next_raw(node: HeaderPtr) -> Option<HeaderPtr> {
    // SAFETY: forwarded from the caller.
    let next = unsafe { &*link_of(node) }.next.get();
    (!next.is_null()).then(|| as_header(next))
}

/// Writes a detached link in front of a fresh box's header.
///
/// # Safety
///
/// `node` is a fresh allocation of a box with a link (`sized_allocation`
/// or `slice_allocation` with `linked`), with `node`'s provenance.
#[inline(always)]
pub(crate) unsafe fn init_link(node: HeaderPtr) {
    // SAFETY: the link's place, inside the allocation and aligned (caller).
    unsafe { link_of(node).cast_mut().write(Link::detached()) };
}

/// The link of a box with one (`HAS_LINK`): [`LINK_SIZE`] bytes before its
/// header, with the header pointer's provenance (the whole allocation).
#[inline(always)]
pub(crate) fn link_of(node: HeaderPtr) -> *const Link {
    node.as_ptr()
        .cast::<u8>()
        .wrapping_sub(LINK_SIZE)
        .cast::<Link>()
        .cast_const()
}

#[inline(always)]
fn as_header(link: *const Link) -> HeaderPtr {
    // SAFETY: non-sentinel nodes are never null: they were linked from live
    // headers, which sit `LINK_SIZE` bytes after their link in the same
    // allocation.
    unsafe {
        NonNull::new_unchecked(
            link.cast::<u8>()
                .wrapping_add(LINK_SIZE)
                .cast::<GcHeader>()
                .cast_mut(),
        )
    }
}

/// A `gc_refs` value that subtraction leaves alone: the strong count does
/// not fit an `isize` (only possible on 32-bit targets), so the object is
/// treated as externally referenced.
pub(crate) const GC_REFS_PINNED: isize = isize::MAX;

/// The collection's scratch count of a tracked object, kept in its link's
/// `prev` word (see the module docs).
///
/// # Safety
///
/// `node` is allocated and has a link, and its `prev` holds `gc_refs` (it
/// was set by [`set_gc_refs`] or [`init_gc_refs`] in this pass).
#[inline(always)]
pub(crate) unsafe fn gc_refs(node: HeaderPtr) -> isize {
    // SAFETY: forwarded from the caller.
    unsafe { &*link_of(node) }.prev.get().addr() as isize
}

/// Stores `gc_refs` in `node`'s `prev` word; the list is singly linked at
/// `node` until its `prev` is written back.
///
/// # Safety
///
/// `node` is allocated and has a link.
#[inline(always)]
pub(crate) unsafe fn set_gc_refs(node: HeaderPtr, refs: isize) {
    // SAFETY: forwarded from the caller.
    unsafe { &*link_of(node) }
        .prev
        .set(ptr::without_provenance(refs as usize));
}

/// `gc_refs = strong count` (`update_refs`), pinned if it does not fit.
///
/// # Safety
///
/// As [`set_gc_refs`].
#[inline(always)]
pub(crate) unsafe fn init_gc_refs(node: HeaderPtr) {
    // SAFETY: allocated (caller).
    let strong = unsafe { header_ref(node) }.strong();
    // SAFETY: forwarded from the caller.
    unsafe { set_gc_refs(node, isize::try_from(strong).unwrap_or(GC_REFS_PINNED)) };
}

/// One internal reference less (unless pinned).
///
/// # Safety
///
/// As [`gc_refs`].
#[inline(always)]
pub(crate) unsafe fn subtract_gc_ref(node: HeaderPtr) {
    // SAFETY: forwarded from the caller.
    unsafe {
        let refs = gc_refs(node);
        if refs != GC_REFS_PINNED {
            set_gc_refs(node, refs - 1);
        }
    }
}

/// `move_unreachable`'s walk of a list whose objects hold `gc_refs` in
/// their `prev` words: each object is either kept ([`Scan::keep`], its
/// `prev` pointer written back) or taken to another list
/// ([`Scan::take_to`]). Objects appended to the list during the walk are
/// walked in turn. Scanned objects form a well-linked prefix; the head's
/// `prev` is always the list's true tail.
pub(crate) struct Scan<'a> {
    head: &'a Link,
    /// The last kept object's link, or the head.
    prev: *const Link,
    cur: *const Link,
}

impl<'a> Scan<'a> {
    pub(crate) fn new(head: &'a Link) -> Self {
        Scan {
            head,
            prev: head,
            cur: head.next.get(),
        }
    }

    /// The object to decide on next, if any.
    #[inline(always)]
    pub(crate) fn current(&self) -> Option<HeaderPtr> {
        (!ptr::eq(self.cur, self.head)).then(|| as_header(self.cur))
    }

    /// Keeps the current object: restores its `prev` and moves on. Reads
    /// its successor only now, so objects appended meanwhile are walked.
    ///
    /// # Safety
    ///
    /// [`Scan::current`] is `Some`.
    #[inline(always)]
    pub(crate) unsafe fn keep(&mut self) {
        // SAFETY: the current node is live (list invariant, caller).
        let node = unsafe { &*self.cur };
        node.prev.set(self.prev);
        self.prev = self.cur;
        self.cur = node.next.get();
    }

    /// Resumes a scan that has run out ([`Scan::current`] is `None`) over
    /// the objects appended to the list since.
    ///
    /// # Safety
    ///
    /// The last kept object (or the head) is still on the list.
    #[inline]
    pub(crate) unsafe fn resume(&mut self) {
        // SAFETY: the last kept node is live (caller); its `next` is the
        // first object appended after the scan ran out, or the head.
        self.cur = unsafe { (*self.prev).next.get() };
    }

    /// Moves the current object to the tail of `to` and moves on.
    ///
    /// # Safety
    ///
    /// [`Scan::current`] is `Some`; `to` is an initialised head whose
    /// objects have valid `prev` pointers, other than the scanned list.
    #[inline(always)]
    pub(crate) unsafe fn take_to(&mut self, to: &Link) {
        let node = as_header(self.cur);
        // SAFETY: the current node and the last kept one (or the head) are
        // live (list invariant, caller).
        let next = unsafe {
            let next = (*self.cur).next.get();
            (*self.prev).next.set(next);
            next
        };
        if ptr::eq(next, self.head) {
            // The tail left: the last kept object is the tail now.
            self.head.prev.set(self.prev);
        }
        // SAFETY: `node` is live and now on no list; `to` is a head (caller).
        unsafe { to.push_back(node) };
        self.cur = next;
    }
}

/// Repairs a list's `prev` pointers if dropped: held over a pass that
/// stores `gc_refs` and calls `Trace` code, which may panic, and forgotten
/// when the pass ends well.
pub(crate) struct RepairOnUnwind<'a>(pub(crate) &'a Link);

impl Drop for RepairOnUnwind<'_> {
    fn drop(&mut self) {
        self.0.repair_prevs();
    }
}

impl Link {
    /// Writes every node's `prev` pointer back from the `next` chain: after
    /// a pass that stored `gc_refs` in them ([`count_internal_refs`], or a
    /// `Trace` panic in the middle of a collection's phases).
    ///
    /// [`count_internal_refs`]: crate::collector
    pub(crate) fn repair_prevs(&self) {
        let mut prev: *const Link = self;
        let mut cur = self.next.get();
        while !ptr::eq(cur, self) {
            // SAFETY: nodes of the list are live (list invariant: `next` is
            // always a valid chain).
            let node = unsafe { &*cur };
            node.prev.set(prev);
            prev = cur;
            cur = node.next.get();
        }
        self.prev.set(prev);
    }
}

/// Iterator over a list's nodes, head to tail.
pub(crate) struct Iter<'a> {
    head: &'a Link,
    cur: *const Link,
}

impl Iterator for Iter<'_> {
    type Item = HeaderPtr;

    #[inline]
    fn next(&mut self) -> Option<HeaderPtr> {
        if ptr::eq(self.cur, self.head) {
            return None;
        }
        let node = as_header(self.cur);
        // SAFETY: `cur` is a live node of the list (list invariant).
        self.cur = unsafe { (*self.cur).next.get() };
        Some(node)
    }
}
