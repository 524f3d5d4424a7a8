//! Cycle detection: the seed scenarios of issue 2, garbage hanging off live
//! objects and the reverse, drop counts, and untracked types.
//!
//! Every test checks with a [`Tracker`] that each value is dropped exactly
//! once, and ends with nothing alive.

mod common;

use std::cell::RefCell;
use std::collections::HashMap;

use common::{DropToken, Node, Tracker, contains, ring};
use gc_core::{Gc, Trace, Weak, collect, collect_generation, get_objects, is_tracked};

/// Ring sizes for the longer-ring test: large enough to span many list
/// operations, small enough for Miri.
#[cfg(not(miri))]
const RING_SIZES: &[usize] = &[3, 4, 10, 100, 1000, 10_000];
#[cfg(miri)]
const RING_SIZES: &[usize] = &[3, 4, 10, 50];

#[test]
fn ten_self_referencing_lists_then_nothing() {
    collect();
    let tracker = Tracker::new();
    for _ in 0..10 {
        let node = Node::new(&tracker);
        Node::link(&node, &node);
        assert_eq!(Gc::strong_count(&node), 2);
    }
    // Reference counting alone cannot free a self-loop.
    assert_eq!(tracker.dropped(), 0);
    assert_eq!(get_objects(None).len(), 10);
    assert_eq!(collect(), 10);
    tracker.assert_all_dropped_once();
    assert_eq!(collect(), 0);
    assert!(get_objects(None).is_empty());
}

#[test]
fn two_object_cycle() {
    collect();
    let tracker = Tracker::new();
    let a = Node::new(&tracker);
    let b = Node::new(&tracker);
    Node::link(&a, &b);
    Node::link(&b, &a);
    let weak_a = Gc::downgrade(&a);
    drop((a, b));
    assert_eq!(tracker.dropped(), 0);
    assert!(weak_a.is_alive());
    assert_eq!(collect(), 2);
    tracker.assert_all_dropped_once();
    assert!(!weak_a.is_alive());
    assert_eq!(collect(), 0);
}

#[test]
fn rings_of_many_lengths_are_collected_whole() {
    collect();
    for &n in RING_SIZES {
        let tracker = Tracker::new();
        let nodes = ring(&tracker, n);
        drop(nodes);
        assert_eq!(tracker.dropped(), 0, "ring of {n}: freed before collect()");
        assert_eq!(collect(), n, "ring of {n}");
        tracker.assert_all_dropped_once();
        assert_eq!(collect(), 0);
    }
}

#[test]
fn several_garbage_cycles_in_one_collection() {
    collect();
    let tracker = Tracker::new();
    let mut expected = 0;
    for n in 1..=6 {
        drop(ring(&tracker, n));
        expected += n;
    }
    // A ring with a chord and a doubly linked pair, too.
    let chord = ring(&tracker, 5);
    Node::link(&chord[0], &chord[3]);
    Node::link(&chord[2], &chord[2]);
    drop(chord);
    let a = Node::new(&tracker);
    let b = Node::new(&tracker);
    Node::link(&a, &b);
    Node::link(&a, &b);
    Node::link(&b, &a);
    drop((a, b));
    expected += 7;
    assert_eq!(tracker.dropped(), 0);
    assert_eq!(collect(), expected);
    tracker.assert_all_dropped_once();
}

#[test]
fn cycle_hanging_off_a_live_object_survives() {
    collect();
    let tracker = Tracker::new();
    let root = Node::new(&tracker);
    let cycle = ring(&tracker, 3);
    Node::link(&root, &cycle[1]);
    drop(cycle);
    assert_eq!(collect(), 0);
    assert_eq!(collect_generation(0), 0);
    assert_eq!(collect_generation(1), 0);
    assert_eq!(tracker.dropped(), 0);
    // Still intact: walk the ring from the root.
    let start = root.edges.borrow()[0].clone();
    let mut node = start.clone();
    for _ in 0..3 {
        let next = node.edges.borrow()[0].clone();
        node = next;
    }
    assert!(Gc::ptr_eq(&node, &start));
    drop((node, start));
    // The root is acyclic: reference counting frees it at once, and the ring
    // becomes garbage.
    let root_token = Node::token_id(&root);
    drop(root);
    assert!(tracker.is_dropped(root_token));
    assert_eq!(tracker.dropped(), 1);
    assert_eq!(collect(), 3);
    tracker.assert_all_dropped_once();
}

#[test]
fn cycle_reachable_through_a_chain_from_a_root_survives() {
    collect();
    let tracker = Tracker::new();
    // root -> x -> y -> (p <-> q), and the cycle points back at y.
    let root = Node::new(&tracker);
    let x = Node::new(&tracker);
    let y = Node::new(&tracker);
    let cycle = ring(&tracker, 2);
    Node::link(&root, &x);
    Node::link(&x, &y);
    Node::link(&y, &cycle[0]);
    Node::link(&cycle[1], &y);
    drop((x, y, cycle));
    assert_eq!(collect(), 0);
    assert_eq!(tracker.dropped(), 0);
    assert_eq!(get_objects(None).len(), 5);
    drop(root);
    // root and x are freed by reference counting; y and the pair form a cycle.
    assert_eq!(tracker.dropped(), 2);
    assert_eq!(collect(), 3);
    tracker.assert_all_dropped_once();
}

#[test]
fn objects_reachable_only_from_garbage_are_freed() {
    collect();
    let tracker = Tracker::new();
    let make = |text: &str| {
        Gc::new(Holder {
            next: RefCell::new(None),
            tail: RefCell::new(None),
            text: Gc::new(String::from(text)),
            token: tracker.token(),
        })
    };
    // h1 <-> h2, h1 -> c -> d (acyclic, tracked), and each holds an
    // untracked string that only it refers to.
    let h1 = make("one");
    let h2 = make("two");
    *h1.next.borrow_mut() = Some(h2.clone());
    *h2.next.borrow_mut() = Some(h1.clone());
    let c = Node::new(&tracker);
    let d = Node::new(&tracker);
    Node::link(&c, &d);
    *h1.tail.borrow_mut() = Some(c.clone());
    let texts = [Gc::downgrade(&h1.text), Gc::downgrade(&h2.text)];
    assert!(!is_tracked(&h1.text));
    drop((c, d));
    assert_eq!(collect(), 0);
    drop((h1, h2));
    assert_eq!(tracker.dropped(), 0);
    // Every tracked object the garbage reaches is unreachable too and
    // counted: h1, h2, c, d. The strings are freed but not counted.
    assert_eq!(collect(), 4);
    assert!(texts.iter().all(|w| w.upgrade().is_none()));
    tracker.assert_all_dropped_once();
    assert_eq!(collect(), 0);
}

/// A tracked struct with a strong edge to its own type, a tail of nodes and
/// an untracked `Gc<String>`.
#[derive(Trace)]
struct Holder {
    next: RefCell<Option<Gc<Holder>>>,
    tail: RefCell<Option<Gc<Node>>>,
    text: Gc<String>,
    token: DropToken,
}

#[test]
fn tracked_objects_in_an_older_generation_die_with_young_garbage() {
    collect();
    let tracker = Tracker::new();
    // `old` sits in generation 2; only a young cycle will refer to it.
    let old = Node::new(&tracker);
    let old_tail = Node::new(&tracker);
    Node::link(&old, &old_tail);
    drop(old_tail);
    collect();
    assert_eq!(Gc::to_object(&old).generation(), Some(2));
    let cycle = ring(&tracker, 2);
    assert_eq!(Gc::to_object(&cycle[0]).generation(), Some(0));
    Node::link(&cycle[0], &old);
    let old_token = Node::token_id(&old);
    drop(old);
    drop(cycle);
    assert_eq!(tracker.dropped(), 0);
    // A generation-0 collection finds the pair; tearing it down drops the
    // last reference to `old` (and through it `old_tail`), which reference
    // counting frees. They were not part of the collected generation, so
    // they are not counted.
    assert_eq!(collect_generation(0), 2);
    assert!(tracker.is_dropped(old_token));
    tracker.assert_all_dropped_once();
    assert!(get_objects(None).is_empty());
}

#[test]
fn garbage_cycle_holding_a_live_objects_other_reference_leaves_it_alive() {
    collect();
    let tracker = Tracker::new();
    let live = Node::new(&tracker);
    let cycle = ring(&tracker, 2);
    Node::link(&cycle[0], &live);
    // Give the live object a child, to check it stays whole.
    let child = Node::new(&tracker);
    Node::link(&live, &child);
    drop(child);
    drop(cycle);
    assert_eq!(Gc::strong_count(&live), 2);
    assert_eq!(collect(), 2);
    assert_eq!(tracker.dropped(), 2);
    assert_eq!(Gc::strong_count(&live), 1);
    assert!(!tracker.is_dropped(Node::token_id(&live)));
    let objects = get_objects(None);
    assert_eq!(objects.len(), 2);
    assert!(contains(&objects, &live));
    assert_eq!(live.edges.borrow().len(), 1);
    drop(objects);
    drop(live);
    tracker.assert_all_dropped_once();
    assert_eq!(collect(), 0);
}

#[test]
fn acyclic_garbage_is_freed_without_the_collector() {
    collect();
    let tracker = Tracker::new();
    let head = Node::new(&tracker);
    let mut tail = head.clone();
    for _ in 0..20 {
        let next = Node::new(&tracker);
        Node::link(&tail, &next);
        tail = next;
    }
    drop(tail);
    // A diamond: two paths to the same node.
    let shared = Node::new(&tracker);
    Node::link(&head, &shared);
    Node::link(&head.edges.borrow()[0], &shared);
    drop(shared);
    assert_eq!(tracker.dropped(), 0);
    drop(head);
    tracker.assert_all_dropped_once();
    assert!(get_objects(None).is_empty());
    assert_eq!(collect(), 0);
}

#[test]
fn cycles_through_std_containers_are_collected() {
    collect();
    let tracker = Tracker::new();
    let make = || {
        Gc::new(Multi {
            opt: RefCell::new(None),
            boxed: RefCell::new(None),
            map: RefCell::new(HashMap::new()),
            pair: RefCell::new((0, None)),
            token: tracker.token(),
        })
    };
    // Four two-object cycles, each closed through a different container.
    let mut expected = 0;
    for kind in 0..4 {
        let a = make();
        let b = make();
        match kind {
            0 => *a.opt.borrow_mut() = Some(b.clone()),
            1 => *a.boxed.borrow_mut() = Some(Box::new(b.clone())),
            2 => {
                a.map.borrow_mut().insert(7, b.clone());
            }
            _ => *a.pair.borrow_mut() = (1, Some(b.clone())),
        }
        b.map.borrow_mut().insert(kind, a.clone());
        drop((a, b));
        expected += 2;
    }
    assert_eq!(tracker.dropped(), 0);
    assert_eq!(collect(), expected);
    tracker.assert_all_dropped_once();
}

/// A node whose edges sit in several std containers.
#[derive(Trace)]
struct Multi {
    opt: RefCell<Option<Gc<Multi>>>,
    boxed: RefCell<Option<Box<Gc<Multi>>>>,
    map: RefCell<HashMap<u32, Gc<Multi>>>,
    pair: RefCell<(u32, Option<Gc<Multi>>)>,
    token: DropToken,
}

#[test]
fn collecting_while_a_refcell_is_mutably_borrowed_keeps_its_targets() {
    collect();
    let tracker = Tracker::new();
    let root = Node::new(&tracker);
    let pair = ring(&tracker, 2);
    Node::link(&root, &pair[0]);
    drop(pair);
    {
        let mut edges = root.edges.borrow_mut();
        // An unrelated garbage cycle is still found while the cell is borrowed.
        drop(ring(&tracker, 2));
        assert_eq!(collect(), 2);
        // The borrowed cell cannot be traced: the pair it holds counts as
        // externally referenced and survives.
        assert_eq!(tracker.dropped(), 2);
        // Allocating inside the borrow (which may collect) is fine too.
        edges.push(Node::new(&tracker));
        assert_eq!(collect(), 0);
    }
    assert_eq!(tracker.dropped(), 2);
    drop(root);
    // root and the node pushed into it are acyclic; the pair is a cycle.
    assert_eq!(tracker.dropped(), 4);
    assert_eq!(collect(), 2);
    tracker.assert_all_dropped_once();
}

/// A struct of plain fields: it can never reach a `Gc`.
#[derive(Debug, Trace)]
struct Plain {
    number: u64,
    name: String,
    list: Vec<(u8, char)>,
}

/// A generic wrapper: tracked exactly when its parameter can reach a `Gc`.
#[derive(Trace)]
struct Wrapper<T>(T);

#[test]
fn untracked_types_are_not_tracked() {
    collect();
    let before = gc_core::get_count();
    let number = Gc::new(42_u64);
    let text = Gc::new(String::from("text"));
    let plain = Gc::new(Plain {
        number: 1,
        name: "plain".into(),
        list: vec![(1, 'a')],
    });
    let wrapped_u32 = Gc::new(Wrapper(7_u32));
    let weak_only = Gc::new(Wrapper(Weak::<Node>::new()));
    // None of these allocations counts towards an automatic collection.
    assert_eq!(gc_core::get_count(), before);
    assert!(!is_tracked(&number));
    assert!(!is_tracked(&text));
    assert!(!is_tracked(&plain));
    assert!(!is_tracked(&wrapped_u32));
    assert!(!is_tracked(&weak_only));
    assert_eq!(Gc::to_object(&plain).generation(), None);
    assert!(get_objects(None).is_empty());

    let tracker = Tracker::new();
    let node = Node::new(&tracker);
    let wrapped_gc = Gc::new(Wrapper(node.clone()));
    assert!(is_tracked(&wrapped_gc));
    assert!(is_tracked(&node));
    let objects = get_objects(None);
    assert_eq!(objects.len(), 2);
    assert!(contains(&objects, &wrapped_gc));
    assert!(contains(&objects, &node));
    for untracked in [
        Gc::id(&number),
        Gc::id(&text),
        Gc::id(&plain),
        Gc::id(&wrapped_u32),
    ] {
        assert!(objects.iter().all(|o| o.id() != untracked));
    }
    drop(objects);
    assert_eq!(plain.number + u64::from(plain.list[0].0), 2);
    assert_eq!(plain.name, "plain");
    assert_eq!(wrapped_u32.0, 7);
    drop((wrapped_gc, node));
    tracker.assert_all_dropped_once();
    assert_eq!(collect(), 0);
}
