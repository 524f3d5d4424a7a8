//! Tearing garbage down: holds, the DEAD flag, and the trashcan.

use std::cell::Cell;
use std::rc::Rc;

use super::util::Node;
use crate::heap::LOCAL;
use crate::layout::header_ref;
use crate::{Gc, Trace, Tracer, collect};

#[test]
fn collected_objects_lose_their_weaks_and_boxes_while_weaks_remain() {
    let drops = Rc::new(Cell::new(0));
    let a = Node::new(&drops);
    let b = Node::new(&drops);
    Node::link(&a, &b);
    Node::link(&b, &a);
    let weak = Gc::downgrade(&b);
    let weak2 = weak.clone();
    assert_eq!(Gc::weak_count(&b), 2);
    drop((a, b));
    assert!(weak.upgrade().is_some());
    assert_eq!(collect(), 2);
    assert!(weak.upgrade().is_none());
    assert!(!weak2.is_alive());
    assert_eq!(drops.get(), 2);
    // The cell outlives the box (freed by the collection: Miri checks it).
    drop(weak);
    assert_eq!(weak2.strong_count(), 0);
}

#[test]
fn plain_weaks_share_one_cell_per_object() {
    let drops = Rc::new(Cell::new(0));
    let a = Node::new(&drops);
    let w1 = Gc::downgrade(&a);
    let w2 = Gc::downgrade(&a);
    // SAFETY: `a` keeps the box allocated.
    let header = unsafe { header_ref(Gc::header_ptr(&a)) };
    let cell = header.weakrefs();
    assert!(!cell.is_null());
    assert_eq!(Gc::weak_count(&a), 2);
    drop(w1);
    assert_eq!(header.weakrefs(), cell);
    drop(w2);
    assert!(
        header.weakrefs().is_null(),
        "the last handle unlists the cell"
    );
    let w3 = Gc::downgrade(&a);
    drop(a);
    assert!(w3.upgrade().is_none());
}

/// A chain link that records the deepest nesting its drops reached.
struct Deep {
    next: Option<Gc<Deep>>,
    max_depth: Rc<Cell<u32>>,
}

// SAFETY: reports its one owned edge.
unsafe impl Trace for Deep {
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        tracer.field("next", |t| self.next.trace(t));
    }
}

impl gc_core::TraceMeta for Deep {}

impl Drop for Deep {
    fn drop(&mut self) {
        let depth = LOCAL.with(|l| l.drop_depth.get());
        self.max_depth.set(self.max_depth.get().max(depth));
    }
}

#[test]
fn trashcan_bounds_the_nesting_of_drops_and_drains_everything() {
    let max_depth = Rc::new(Cell::new(0));
    let mut head = None;
    for _ in 0..1000 {
        head = Some(Gc::new(Deep {
            next: head,
            max_depth: max_depth.clone(),
        }));
    }
    let weak_tail = {
        let mut cur = head.clone().unwrap();
        while let Some(next) = cur.next.clone() {
            cur = next;
        }
        Gc::downgrade(&cur)
    };
    drop(head);
    assert!(!weak_tail.is_alive(), "the whole chain was freed");
    assert!(max_depth.get() >= 2, "drops did nest");
    assert!(
        max_depth.get() <= 64,
        "nesting was bounded: {}",
        max_depth.get()
    );
    LOCAL.with(|l| {
        assert_eq!(l.drop_depth.get(), 0);
        assert!(l.deferred.get().is_none());
    });
}
