//! The collection phases, one by one, on small hand-built heaps.

use std::cell::Cell;
use std::rc::Rc;

use super::util::Node;
use crate::heap::heap;
use crate::layout::list::gc_refs;
use crate::layout::{flags, header_ref};
use crate::{Gc, collect, collect_generation};

fn young_head() -> &'static crate::layout::Link {
    &heap().unwrap().generations[0].head
}

#[test]
fn update_refs_copies_strong_counts() {
    let drops = Rc::new(Cell::new(0));
    let a = Node::new(&drops);
    let b = a.clone();
    let young = young_head();
    let size = crate::collector::tests_support::update_refs(young);
    assert_eq!(size, 1);
    // SAFETY: `a` keeps the box allocated; `update_refs` stored its
    // `gc_refs`.
    assert_eq!(unsafe { gc_refs(Gc::header_ptr(&a)) }, 2);
    // SAFETY: as above.
    let h = unsafe { header_ref(Gc::header_ptr(&a)) };
    assert!(h.has(flags::COLLECTING));
    h.clear(flags::COLLECTING);
    young.repair_prevs();
    drop(b);
}

#[test]
fn subtract_refs_leaves_external_references() {
    let drops = Rc::new(Cell::new(0));
    let a = Node::new(&drops);
    let b = Node::new(&drops);
    Node::link(&a, &b);
    Node::link(&b, &a);
    // a: held by `a` and by b; b: held by `b` and by a.
    drop(b);
    let young = young_head();
    crate::collector::tests_support::phases(young, |phase, h| {
        // SAFETY: objects on a list are allocated; the phases stored
        // their `gc_refs`.
        let gc_refs = unsafe { gc_refs(h) };
        let is_a = h == Gc::header_ptr(&a);
        match phase {
            "update_refs" => assert_eq!(gc_refs, if is_a { 2 } else { 1 }),
            "subtract_refs" => assert_eq!(gc_refs, if is_a { 1 } else { 0 }),
            _ => {}
        }
    });
    drop(a);
    assert_eq!(collect(), 2);
}

#[test]
fn two_cycle_is_collected_and_dropped_once() {
    let drops = Rc::new(Cell::new(0));
    let a = Node::new(&drops);
    let b = Node::new(&drops);
    Node::link(&a, &b);
    Node::link(&b, &a);
    drop((a, b));
    assert_eq!(drops.get(), 0);
    assert_eq!(collect(), 2);
    assert_eq!(drops.get(), 2);
    assert_eq!(collect(), 0);
}

#[test]
fn reachable_cycle_survives_and_is_promoted() {
    let drops = Rc::new(Cell::new(0));
    let a = Node::new(&drops);
    let b = Node::new(&drops);
    Node::link(&a, &b);
    Node::link(&b, &a);
    drop(b);
    assert_eq!(collect_generation(0), 0);
    let obj = Gc::to_object(&a);
    assert_eq!(obj.generation(), Some(1));
    assert_eq!(collect_generation(1), 0);
    assert_eq!(obj.generation(), Some(2));
    drop(obj);
    assert_eq!(drops.get(), 0);
    drop(a);
    assert_eq!(collect(), 2);
    assert_eq!(drops.get(), 2);
}

#[test]
fn move_unreachable_brings_back_objects_reached_later() {
    // c is first on the list with gc_refs 0, but reachable from a (later,
    // external): it must be moved back.
    let drops = Rc::new(Cell::new(0));
    let c = Node::new(&drops);
    let b = Node::new(&drops);
    let a = Node::new(&drops);
    Node::link(&a, &b);
    Node::link(&b, &c);
    Node::link(&c, &b);
    drop((b, c));
    assert_eq!(collect(), 0);
    assert_eq!(drops.get(), 0);
    a.edges.borrow_mut().clear();
    assert_eq!(collect(), 2);
    assert_eq!(drops.get(), 2);
}
