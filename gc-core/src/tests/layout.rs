//! The box layout (issue 13): a 16-byte header, the 16-byte list link in
//! front of it only for tracked types, and the weak cells kept off the
//! header.

use std::alloc::Layout;
use std::cell::{Cell, RefCell};
use std::mem::size_of;
use std::rc::Rc;

use super::util::Node;
use crate::layout::{GcBox, GcHeader, allocation, flags, header_ref, sized_allocation};
use crate::{Gc, Trace, Tracer, collect};

/// The bytes a box takes beyond its value, and how far before the header
/// the allocation starts.
fn overhead<T: ?Sized>(gc: &Gc<T>, value_size: usize) -> (usize, usize) {
    let h = Gc::header_ptr(gc);
    // SAFETY: `gc` keeps the box allocated.
    let (base, layout) = unsafe { allocation(h) };
    (
        layout.size() - value_size,
        h.as_ptr().addr() - base.as_ptr().addr(),
    )
}

#[test]
fn the_header_is_two_words() {
    assert_eq!(size_of::<GcHeader>(), 2 * size_of::<usize>());
    #[cfg(target_pointer_width = "64")]
    assert_eq!(size_of::<GcHeader>(), 16);
}

#[test]
#[cfg(target_pointer_width = "64")]
fn a_tracked_object_carries_32_bytes_and_an_untracked_one_16() {
    let drops = Rc::new(Cell::new(0));
    let node = Node::new(&drops);
    assert_eq!(overhead(&node, size_of::<Node>()), (32, 16));
    let number = Gc::new(7_u64);
    assert_eq!(overhead(&number, 8), (16, 0));
    let text = Gc::new(String::from("text"));
    assert_eq!(overhead(&text, size_of::<String>()), (16, 0));
    // The layout math agrees, for any value size.
    for size in [8, 24, 40, 200] {
        let gc_box = Layout::from_size_align(16 + size, 8).unwrap();
        assert_eq!(sized_allocation(gc_box, true).0.size(), 32 + size);
        assert_eq!(sized_allocation(gc_box, false).0.size(), 16 + size);
    }
    // The bench node of `benches/` (an edge and a number): 56 bytes, where
    // `Rc`'s box is 40.
    assert_eq!(
        sized_allocation(
            Layout::new::<GcBox<(RefCell<Option<Gc<Node>>>, u64)>>(),
            true
        )
        .0
        .size(),
        56
    );
}

/// A tracked value aligned to 64 bytes: the link sits right before the
/// header, with padding in front of it.
#[repr(align(64))]
struct Aligned {
    next: RefCell<Option<Gc<Aligned>>>,
    drops: Rc<Cell<usize>>,
}

// SAFETY: reports its one owned edge.
unsafe impl Trace for Aligned {
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        tracer.field("next", |t| self.next.trace(t));
    }
}

impl crate::TraceMeta for Aligned {}

impl Drop for Aligned {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
    }
}

#[test]
fn an_over_aligned_tracked_value_is_linked_and_collected() {
    let drops = Rc::new(Cell::new(0));
    let new = || {
        Gc::new(Aligned {
            next: RefCell::new(None),
            drops: drops.clone(),
        })
    };
    let (a, b) = (new(), new());
    assert_eq!(Gc::as_ptr(&a).addr() % 64, 0);
    // The box is 64-aligned, so its header is 64 bytes into the allocation:
    // 48 bytes of padding, then the link.
    assert_eq!(overhead(&a, size_of::<Aligned>()).1, 64);
    *a.next.borrow_mut() = Some(b.clone());
    *b.next.borrow_mut() = Some(a.clone());
    drop((a, b));
    assert_eq!(collect(), 2);
    assert_eq!(drops.get(), 2);
}

#[test]
fn weak_cells_move_the_vtable_into_a_record_and_back() {
    let drops = Rc::new(Cell::new(0));
    let node = Node::new(&drops);
    // SAFETY: `node` keeps the box allocated.
    let header = unsafe { header_ref(Gc::header_ptr(&node)) };
    let vtable = std::ptr::from_ref(header.vtable());
    assert!(!header.has(flags::HAS_WEAKREFS));
    let weak = Gc::downgrade(&node);
    assert!(header.has(flags::HAS_WEAKREFS));
    assert!(!header.weakrefs().is_null());
    assert!(std::ptr::eq(header.vtable(), vtable));
    let with_callback = Gc::downgrade_with(&node, || {});
    assert_eq!(Gc::weak_count(&node), 2);
    drop(weak);
    assert!(header.has(flags::HAS_WEAKREFS));
    drop(with_callback);
    // The last cell left: the record is freed (Miri's leak check) and the
    // header holds the vtable again.
    assert!(!header.has(flags::HAS_WEAKREFS));
    assert!(header.weakrefs().is_null());
    assert!(std::ptr::eq(header.vtable(), vtable));
    let weak = Gc::downgrade(&node);
    drop(node);
    assert!(weak.upgrade().is_none());
    assert_eq!(drops.get(), 1);
}
