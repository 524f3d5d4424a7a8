//! Intrusive, circular, doubly linked container lists with a sentinel head,
//! as CPython's `PyGC_Head` lists.
//!
//! Every tracked object is on exactly one list. A list head is a bare
//! [`Link`] (the sentinel) living inside the heap; every other node is the
//! first field of a [`GcHeader`], so a node pointer converts to a header
//! pointer by a cast. Heads never move: the heap is boxed.

use std::cell::Cell;
use std::ptr::{self, NonNull};

use super::{GcHeader, HeaderPtr};

/// A list node: the sentinel of a list, or the first field of a header.
/// `next` is null while the node is on no list.
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
        let link = node.cast::<Link>().as_ptr().cast_const();
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
        // SAFETY: `node` is live (caller).
        let next = unsafe { (*node.cast::<Link>().as_ptr()).next.get() };
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
    let link = node.cast::<Link>().as_ptr().cast_const();
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
pub(crate) fn forget_links(header: &GcHeader) {
    header.link.next.set(ptr::null());
    header.link.prev.set(ptr::null());
}

/// Singly linked use of the `next` field, for objects on no list (the
/// trashcan's deferred stack).
pub(crate) fn set_next_raw(header: &GcHeader, next: *const Link) {
    header.link.next.set(next);
}

pub(crate) fn next_raw(header: &GcHeader) -> *const Link {
    header.link.next.get()
}

fn as_header(link: *const Link) -> HeaderPtr {
    // SAFETY: non-sentinel nodes are never null: they were linked from live
    // headers, and `Link` is the first field of the `#[repr(C)]` header.
    unsafe { NonNull::new_unchecked(link.cast::<GcHeader>().cast_mut()) }
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
