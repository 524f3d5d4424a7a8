//! Heap snapshots' id table (`heap::ids`): an entry per snapshotted box,
//! removed by every path that frees a box, so that the table never names a
//! freed address and does not grow with dead objects.

use std::cell::Cell;
use std::rc::Rc;

use super::util::Node;
use crate::heap::heap;
use crate::layout::{flags, header_ref};
use crate::{Gc, collect, objgraph};

/// Objects with an id.
fn ids() -> usize {
    heap().unwrap().snapshot_ids.len()
}

fn snapshot() {
    objgraph::heap_snapshot_to(&mut std::io::sink()).unwrap();
}

fn has_id<T: ?Sized>(gc: &Gc<T>) -> bool {
    let h = Gc::to_object(gc);
    // SAFETY: the handle keeps the box allocated.
    unsafe { header_ref(crate::handles::sealed::Sealed::header(&h)) }.has(flags::HAS_SNAPSHOT_ID)
}

#[test]
fn every_way_of_freeing_a_box_removes_its_id() {
    let drops = Rc::new(Cell::new(0));
    collect();
    assert_eq!(ids(), 0);

    // Reference counting, a tracked object and an untracked leaf.
    let node = Node::new(&drops);
    let text = Gc::new(String::from("leaf"));
    let holder = Gc::new(vec![text.clone()]);
    drop(text);
    snapshot();
    assert_eq!(ids(), 3);
    assert!(has_id(&node) && has_id(&holder));
    drop(node);
    assert_eq!(ids(), 2);
    drop(holder);
    assert_eq!(ids(), 0);

    // A collection's teardown.
    let (a, b) = (Node::new(&drops), Node::new(&drops));
    Node::link(&a, &b);
    Node::link(&b, &a);
    snapshot();
    assert_eq!(ids(), 2);
    drop((a, b));
    assert_eq!(ids(), 2);
    assert_eq!(collect(), 2);
    assert_eq!(ids(), 0);

    // `try_unwrap`: the value leaves, the box is freed.
    let node = Node::new(&drops);
    snapshot();
    assert_eq!(ids(), 1);
    assert!(Gc::try_unwrap(node).is_ok());
    assert_eq!(ids(), 0);

    // A chain deep enough for the trashcan to defer drops.
    let head = Node::new(&drops);
    let mut tail = head.clone();
    for _ in 0..300 {
        let next = Node::new(&drops);
        Node::link(&tail, &next);
        tail = next;
    }
    drop(tail);
    snapshot();
    assert_eq!(ids(), 301);
    drop(head);
    assert_eq!(ids(), 0);
}

#[test]
fn a_snapshot_gives_ids_once() {
    let drops = Rc::new(Cell::new(0));
    let node = Node::new(&drops);
    snapshot();
    snapshot();
    assert_eq!(ids(), 1);
    drop(node);
    assert_eq!(ids(), 0);
}
