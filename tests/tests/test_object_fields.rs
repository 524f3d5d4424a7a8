//! `Object` as a field: a heterogeneous container (`Vec<Object>`) holds
//! strong, traced edges, so it can form cycles and the collector breaks
//! them; objgraph's roots stay exact, because a stored `Object` is counted
//! once, not as both an edge and an introspection handle.

mod common;

use std::cell::RefCell;

use common::{DropToken, Tracker};
use gc_core::objgraph::{is_root, roots};
use gc_core::{Gc, Object, Trace, collect, get_referrers};

#[derive(Trace)]
struct Bag {
    items: RefCell<Vec<Object>>,
    token: DropToken,
}

fn bag(tracker: &Tracker) -> Gc<Bag> {
    Gc::new(Bag {
        items: RefCell::new(Vec::new()),
        token: tracker.token(),
    })
}

#[test]
fn cycles_through_stored_objects_are_collected() {
    collect();
    let tracker = Tracker::new();
    let a = bag(&tracker);
    let b = bag(&tracker);
    a.items.borrow_mut().push(Gc::to_object(&b));
    b.items.borrow_mut().push(Gc::to_object(&a));
    a.items
        .borrow_mut()
        .push(Gc::to_object(&Gc::new(String::from("leaf"))));
    let edges = Gc::to_object(&a).edges();
    assert_eq!(edges.len(), 2);
    assert_eq!(edges[0].0, "items[0]");
    assert_eq!(get_referrers(&b), [Gc::to_object(&a)]);
    drop(edges);
    drop((a, b));
    assert_eq!(tracker.dropped(), 0);
    assert_eq!(collect(), 2);
    tracker.assert_all_dropped_once();
}

#[test]
fn a_stored_object_is_not_counted_twice_when_deciding_roots() {
    collect();
    let tracker = Tracker::new();
    let holder = bag(&tracker);
    let held = bag(&tracker);
    holder.items.borrow_mut().push(Gc::to_object(&held));
    // `held` has a stored `Object` (inside `holder`) and the local `held`.
    assert!(is_root(&Gc::to_object(&held)));
    assert!(roots().contains(&Gc::to_object(&held)));
    let probe = Gc::to_object(&held);
    drop(held);
    // Now only the stored `Object` and the probe (an introspection handle).
    assert!(!is_root(&probe));
    assert!(!roots().contains(&probe));
    assert!(roots().contains(&Gc::to_object(&holder)));
    drop(probe);
    drop(holder);
    tracker.assert_all_dropped_once();
}
