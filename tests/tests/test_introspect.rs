//! Introspection and the handles: `get_objects`, `get_referrers`,
//! `get_referents`, `is_tracked`, `Object`, `Weak`, `ReferenceError`, and
//! `Gc`'s counts, identity and delegating trait impls.

mod common;

use std::cell::RefCell;
use std::collections::HashSet;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use common::{DropToken, Node, Tracker, contains, ring};
use gc_core::{
    AsObject, Gc, Object, ReferenceError, Trace, Weak, collect, get_objects, get_referents,
    get_referrers, is_tracked,
};

fn hash_of<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

fn ids(objects: &[Object]) -> Vec<usize> {
    objects.iter().map(Object::id).collect()
}

#[test]
fn get_objects_lists_exactly_the_tracked_objects() {
    collect();
    assert!(get_objects(None).is_empty());
    let tracker = Tracker::new();
    let a = Node::new(&tracker);
    let b = Node::new(&tracker);
    let _untracked = Gc::new(String::from("not listed"));
    let objects = get_objects(None);
    let mut listed = ids(&objects);
    listed.sort_unstable();
    let mut expected = vec![Gc::id(&a), Gc::id(&b)];
    expected.sort_unstable();
    assert_eq!(listed, expected);
    // The returned handles are strong.
    assert_eq!(Gc::strong_count(&a), 2);
    drop(objects);
    assert_eq!(Gc::strong_count(&a), 1);
    // A freed object is no longer listed.
    drop(b);
    assert_eq!(ids(&get_objects(None)), [Gc::id(&a)]);
    drop(a);
    assert!(get_objects(None).is_empty());
    tracker.assert_all_dropped_once();
}

#[test]
fn get_objects_handles_keep_garbage_alive_until_dropped() {
    collect();
    let tracker = Tracker::new();
    drop(ring(&tracker, 2));
    let objects = get_objects(None);
    assert_eq!(objects.len(), 2);
    // Held by the handles: reachable, so nothing to collect.
    assert_eq!(collect(), 0);
    assert_eq!(tracker.dropped(), 0);
    drop(objects);
    assert_eq!(collect(), 2);
    tracker.assert_all_dropped_once();
}

#[test]
fn get_referrers_lists_each_referrer_once() {
    collect();
    let tracker = Tracker::new();
    let target = Node::new(&tracker);
    let twice = Node::new(&tracker);
    let once = Node::new(&tracker);
    let unrelated = Node::new(&tracker);
    Node::link(&twice, &target);
    Node::link(&twice, &unrelated);
    Node::link(&twice, &target);
    Node::link(&once, &target);
    let referrers = get_referrers(&target);
    let mut found = ids(&referrers);
    found.sort_unstable();
    let mut expected = vec![Gc::id(&twice), Gc::id(&once)];
    expected.sort_unstable();
    assert_eq!(found, expected);
    // An `Object` works as the argument too.
    assert_eq!(get_referrers(&Gc::to_object(&target)).len(), 2);
    assert_eq!(ids(&get_referrers(&unrelated)), [Gc::id(&twice)]);
    assert!(get_referrers(&once).is_empty());
    // A self-loop makes an object its own referrer.
    Node::link(&once, &once);
    assert_eq!(ids(&get_referrers(&once)), [Gc::id(&once)]);
    once.edges.borrow_mut().clear();
    drop(referrers);
    drop((target, twice, once, unrelated));
    tracker.assert_all_dropped_once();
}

#[test]
fn get_referrers_of_an_untracked_object() {
    collect();
    let tracker = Tracker::new();
    let text = Gc::new(String::from("shared"));
    let holder = Gc::new(Labelled {
        text: text.clone(),
        nodes: RefCell::new(Vec::new()),
        token: tracker.token(),
    });
    assert_eq!(ids(&get_referrers(&text)), [Gc::id(&holder)]);
    // Untracked objects are never referrers: a skipped field is invisible,
    // so an `Opaque` is untracked although it holds `holder` strongly.
    let untracked_holder = Gc::new(Opaque {
        inner: holder.clone(),
    });
    assert!(!is_tracked(&untracked_holder));
    assert!(Gc::ptr_eq(&untracked_holder.inner, &holder));
    assert_eq!(Gc::strong_count(&holder), 2);
    assert!(get_referrers(&holder).is_empty());
    drop(untracked_holder);
    drop(holder);
    assert!(get_referrers(&text).is_empty());
    tracker.assert_all_dropped_once();
}

/// An untracked holder: its one `Gc` is skipped.
#[derive(Trace)]
struct Opaque {
    #[gc(skip)]
    inner: Gc<Labelled>,
}

/// A tracked struct with an untracked referent and a list of nodes.
#[derive(Trace)]
struct Labelled {
    text: Gc<String>,
    nodes: RefCell<Vec<Gc<Node>>>,
    token: DropToken,
}

/// A tuple struct: its edge is labelled `.0`.
#[derive(Trace)]
struct Pair(Gc<Node>, u32);

#[test]
fn referents_and_edges_in_trace_order_tracked_or_not() {
    collect();
    let tracker = Tracker::new();
    let n0 = Node::new(&tracker);
    let n1 = Node::new(&tracker);
    let text = Gc::new(String::from("leaf"));
    let holder = Gc::new(Labelled {
        text: text.clone(),
        nodes: RefCell::new(vec![n0.clone(), n1.clone(), n0.clone()]),
        token: tracker.token(),
    });
    let obj = Gc::to_object(&holder);
    let expected = [Gc::id(&text), Gc::id(&n0), Gc::id(&n1), Gc::id(&n0)];
    assert_eq!(ids(&obj.referents()), expected);
    assert_eq!(ids(&get_referents(&holder)), expected);
    assert_eq!(ids(&get_referents(&obj)), expected);
    let edges = obj.edges();
    let labels: Vec<&str> = edges.iter().map(|(label, _)| label.as_str()).collect();
    assert_eq!(labels, ["text", "nodes[0]", "nodes[1]", "nodes[2]"]);
    let targets: Vec<usize> = edges.iter().map(|(_, o)| o.id()).collect();
    assert_eq!(targets, expected);
    // The untracked referent is there, and has no referents of its own.
    assert!(!edges[0].1.is_tracked());
    assert!(get_referents(&text).is_empty());
    assert!(get_referents(&n1).is_empty());
    // A node's own edges.
    Node::link(&n1, &n0);
    let n1_edges = Gc::to_object(&n1).edges();
    assert_eq!(n1_edges.len(), 1);
    assert_eq!(n1_edges[0].0, "edges[0]");
    assert_eq!(n1_edges[0].1.id(), Gc::id(&n0));
    // A tuple struct's field.
    let pair = Gc::new(Pair(n0.clone(), 9));
    assert_eq!(pair.1, 9);
    let pair_edges = Gc::to_object(&pair).edges();
    assert_eq!(pair_edges.len(), 1);
    assert_eq!(pair_edges[0].0, ".0");
    drop((edges, n1_edges, pair_edges, obj, pair));
    drop((holder, n0, n1));
    tracker.assert_all_dropped_once();
}

#[test]
fn is_tracked_for_gc_and_object() {
    let tracker = Tracker::new();
    let node = Node::new(&tracker);
    let number = Gc::new(3_u64);
    assert!(is_tracked(&node));
    assert!(is_tracked(&Gc::to_object(&node)));
    assert!(Gc::to_object(&node).is_tracked());
    assert!(!is_tracked(&number));
    assert!(!is_tracked(&Gc::to_object(&number)));
    assert!(!Gc::to_object(&number).is_tracked());
    assert_eq!(Gc::to_object(&number).generation(), None);
    assert_eq!(Gc::to_object(&node).generation(), Some(0));
    drop(node);
    tracker.assert_all_dropped_once();
}

#[test]
fn object_type_names_downcast_and_identity() {
    let tracker = Tracker::new();
    let node = Node::new(&tracker);
    let obj = Gc::to_object(&node);
    assert_eq!(obj.type_name(), std::any::type_name::<Node>());
    assert!(obj.type_name().ends_with("::Node"));
    assert_eq!(obj.short_type_name(), "Node");
    let list = Gc::new(vec![node.clone()]);
    let list_obj = Gc::to_object(&list);
    assert_eq!(list_obj.type_name(), std::any::type_name::<Vec<Gc<Node>>>());
    assert_eq!(list_obj.short_type_name(), "Vec<Gc<Node>>");
    assert_eq!(Gc::to_object(&Gc::new(7_u8)).short_type_name(), "u8");

    assert!(obj.is::<Node>());
    assert!(!obj.is::<String>());
    assert!(!obj.is::<Vec<Gc<Node>>>());
    let back: Gc<Node> = obj.downcast::<Node>().expect("a Node");
    assert!(Gc::ptr_eq(&back, &node));
    assert!(obj.downcast::<String>().is_none());
    assert!(list_obj.downcast::<Node>().is_none());

    assert_eq!(obj.id(), Gc::id(&node));
    assert_ne!(obj.id(), list_obj.id());
    // node, obj, back, and the list's element.
    assert_eq!(obj.strong_count(), 4);
    assert_eq!(Gc::strong_count(&node), 4);
    drop(back);
    assert_eq!(obj.strong_count(), 3);
    let by_value: Object = node.clone().into();
    assert_eq!(by_value, obj);
    assert_eq!(obj.strong_count(), 4);
    drop((by_value, obj, list_obj, list));
    assert_eq!(Gc::strong_count(&node), 1);
    drop(node);
    tracker.assert_all_dropped_once();
}

#[test]
fn an_object_handle_keeps_its_object_alive() {
    let tracker = Tracker::new();
    let node = Node::new(&tracker);
    let weak = Gc::downgrade(&node);
    let obj: Object = node.into();
    assert!(weak.is_alive());
    assert_eq!(tracker.dropped(), 0);
    let clone = obj.clone();
    drop(obj);
    assert!(weak.is_alive());
    drop(clone);
    assert!(!weak.is_alive());
    tracker.assert_all_dropped_once();
}

#[test]
fn object_debug_looks_like_python() {
    let tracker = Tracker::new();
    let node = Node::new(&tracker);
    let text = format!("{:?}", Gc::to_object(&node));
    assert!(text.starts_with("<Node object at 0x"), "{text}");
    assert!(text.ends_with('>'), "{text}");
    let hex = &text["<Node object at 0x".len()..text.len() - 1];
    assert_eq!(usize::from_str_radix(hex, 16), Ok(Gc::id(&node)), "{text}");
    let list = Gc::new(vec![1_u32]);
    let text = format!("{:?}", Gc::to_object(&list));
    assert!(text.starts_with("<Vec<u32> object at 0x"), "{text}");
    drop(node);
    tracker.assert_all_dropped_once();
}

#[test]
fn object_equality_and_hash_are_by_identity() {
    let a = Gc::new(String::from("same"));
    let b = Gc::new(String::from("same"));
    // The values are equal...
    assert_eq!(a, b);
    assert_eq!(hash_of(&a), hash_of(&b));
    // ...but the objects are not.
    let (oa, ob) = (Gc::to_object(&a), Gc::to_object(&b));
    assert_ne!(oa, ob);
    assert_eq!(oa, Gc::to_object(&a));
    assert_eq!(oa.clone(), oa);
    let set: HashSet<Object> = [oa.clone(), ob.clone(), Gc::to_object(&a), oa.clone()]
        .into_iter()
        .collect();
    assert_eq!(set.len(), 2);
    assert!(set.contains(&Gc::to_object(&b)));
    assert!(!Gc::ptr_eq(&a, &b));
    assert!(Gc::ptr_eq(&a, &a.clone()));
    assert_ne!(Gc::id(&a), Gc::id(&b));
    assert_eq!(Gc::id(&a), Gc::id(&a.clone()));
}

#[test]
fn gc_traits_delegate_to_the_value() {
    let one = Gc::new(1_u32);
    let two = Gc::new(2_u32);
    let other_one = Gc::new(1_u32);
    assert_eq!(one, other_one);
    assert_ne!(one, two);
    assert!(one < two);
    assert_eq!(one.cmp(&two), std::cmp::Ordering::Less);
    assert_eq!(two.partial_cmp(&one), Some(std::cmp::Ordering::Greater));
    assert_eq!(one.cmp(&other_one), std::cmp::Ordering::Equal);
    assert_eq!(hash_of(&one), hash_of(&1_u32));
    assert_eq!(hash_of(&two), hash_of(&2_u32));
    let mut sorted = [two.clone(), one.clone(), Gc::new(0_u32)];
    sorted.sort();
    let values: Vec<u32> = sorted.iter().map(|g| **g).collect();
    assert_eq!(values, [0, 1, 2]);
    let text = Gc::new(String::from("hello"));
    assert_eq!(text.to_string(), "hello");
    assert_eq!(format!("{text:>7}"), "  hello");
    assert_eq!(format!("{text:?}"), "\"hello\"");
    assert_eq!(format!("{one}"), "1");
    assert_eq!(text.len(), 5);
    // `{:p}` is the object's address, the same as its id.
    let pointer = format!("{text:p}");
    let hex = pointer.strip_prefix("0x").expect("a hex address");
    assert_eq!(usize::from_str_radix(hex, 16), Ok(Gc::id(&text)));
    let set: HashSet<Gc<u32>> = [one.clone(), other_one.clone(), two.clone()].into();
    assert_eq!(set.len(), 2);
}

#[test]
fn gc_counts() {
    let tracker = Tracker::new();
    let node = Node::new(&tracker);
    assert_eq!(Gc::strong_count(&node), 1);
    assert_eq!(Gc::weak_count(&node), 0);
    let clone = node.clone();
    assert_eq!(Gc::strong_count(&node), 2);
    let w1 = Gc::downgrade(&node);
    let w2 = w1.clone();
    assert_eq!(Gc::weak_count(&node), 2);
    assert_eq!(w1.strong_count(), 2);
    // An edge is a strong reference.
    Node::link(&clone, &node);
    assert_eq!(Gc::strong_count(&node), 3);
    clone.edges.borrow_mut().clear();
    drop(clone);
    assert_eq!(Gc::strong_count(&node), 1);
    drop(w2);
    assert_eq!(Gc::weak_count(&node), 1);
    drop(w1);
    assert_eq!(Gc::weak_count(&node), 0);
    drop(node);
    tracker.assert_all_dropped_once();
}

#[test]
fn weak_upgrade_and_death() {
    let tracker = Tracker::new();
    let node = Node::new(&tracker);
    let weak = Gc::downgrade(&node);
    assert!(weak.is_alive());
    assert_eq!(weak.strong_count(), 1);
    let up = weak.upgrade().expect("alive");
    assert!(Gc::ptr_eq(&up, &node));
    assert_eq!(weak.strong_count(), 2);
    drop(up);
    let up = weak.try_upgrade().expect("alive");
    assert!(Gc::ptr_eq(&up, &node));
    drop(up);
    // A Weak does not keep the object alive.
    drop(node);
    tracker.assert_all_dropped_once();
    assert!(!weak.is_alive());
    assert_eq!(weak.strong_count(), 0);
    assert!(weak.upgrade().is_none());
    assert_eq!(weak.try_upgrade().err(), Some(ReferenceError));
    // A clone of a dead Weak is dead too.
    assert!(weak.clone().upgrade().is_none());
}

#[test]
fn weak_to_a_collected_cycle_dies() {
    collect();
    let tracker = Tracker::new();
    let cycle = ring(&tracker, 2);
    let weak = Gc::downgrade(&cycle[0]);
    drop(cycle);
    assert!(weak.is_alive());
    assert_eq!(weak.strong_count(), 1, "the edge from the other node");
    assert_eq!(collect(), 2);
    assert!(!weak.is_alive());
    assert_eq!(weak.strong_count(), 0);
    assert!(weak.upgrade().is_none());
    tracker.assert_all_dropped_once();
}

#[test]
fn weak_new_refers_to_nothing() {
    let weak: Weak<Node> = Weak::new();
    assert!(!weak.is_alive());
    assert_eq!(weak.strong_count(), 0);
    assert!(weak.upgrade().is_none());
    assert!(weak.try_upgrade().is_err());
    let default: Weak<String> = Weak::default();
    assert!(default.upgrade().is_none());
    assert!(!weak.clone().is_alive());
}

#[test]
fn reference_error_display_and_error() {
    let weak: Weak<u32> = Weak::new();
    let error = weak.try_upgrade().unwrap_err();
    assert_eq!(
        error.to_string(),
        "weakly-referenced object no longer exists"
    );
    let boxed: Box<dyn std::error::Error> = Box::new(error);
    assert_eq!(
        boxed.to_string(),
        "weakly-referenced object no longer exists"
    );
    assert!(boxed.source().is_none());
}

#[test]
fn as_object_accepts_both_handles() {
    fn tracked(obj: &impl AsObject) -> bool {
        is_tracked(obj)
    }
    let tracker = Tracker::new();
    let node = Node::new(&tracker);
    assert!(tracked(&node));
    assert!(tracked(&Gc::to_object(&node)));
    assert!(contains(&get_objects(None), &node));
    drop(node);
    tracker.assert_all_dropped_once();
}

/// An enum: its edges are labelled `Variant.field` and `Variant.0`.
#[derive(Trace)]
enum Shape {
    Empty,
    Branch {
        left: Gc<Node>,
        right: Option<Gc<Node>>,
    },
    Single(Gc<Node>, u8),
}

#[test]
fn edge_labels_of_an_enum() {
    let tracker = Tracker::new();
    let a = Node::new(&tracker);
    let b = Node::new(&tracker);
    let labels = |shape: &Gc<Shape>| -> Vec<(String, usize)> {
        Gc::to_object(shape)
            .edges()
            .into_iter()
            .map(|(label, o)| (label, o.id()))
            .collect()
    };
    let branch = Gc::new(Shape::Branch {
        left: a.clone(),
        right: Some(b.clone()),
    });
    assert_eq!(
        labels(&branch),
        [
            ("Branch.left".to_owned(), Gc::id(&a)),
            ("Branch.right".to_owned(), Gc::id(&b))
        ]
    );
    let single = Gc::new(Shape::Single(b.clone(), 1));
    assert_eq!(labels(&single), [("Single.0".to_owned(), Gc::id(&b))]);
    let empty = Gc::new(Shape::Empty);
    assert!(labels(&empty).is_empty());
    // The type can hold a `Gc`, so every value is tracked, even `Empty`.
    assert!(is_tracked(&empty));
    drop((branch, single, empty, a, b));
    tracker.assert_all_dropped_once();
}

#[test]
fn count_objects_counts_what_get_objects_lists_without_holding_it() {
    gc_core::collect();
    let tracker = Tracker::new();
    let nodes: Vec<Gc<Node>> = (0..5).map(|_| Node::new(&tracker)).collect();
    gc_core::collect_generation(0); // into generation 1
    let young: Vec<Gc<Node>> = (0..3).map(|_| Node::new(&tracker)).collect();
    for g in 0..=2 {
        assert_eq!(
            gc_core::count_objects(Some(g)),
            gc_core::get_objects(Some(g)).len(),
            "generation {g}"
        );
    }
    assert_eq!(
        gc_core::count_objects(None),
        gc_core::get_objects(None).len()
    );
    assert!(gc_core::count_objects(None) >= 8);
    // A cycle is freed by a collect() in the same statement as a count,
    // which a get_objects(None) temporary would prevent.
    let cycle = Node::new(&tracker);
    Node::link(&cycle, &cycle);
    drop(cycle);
    let (before, found) = (gc_core::count_objects(None), gc_core::collect());
    assert_eq!(found, 1);
    assert_eq!(gc_core::count_objects(None), before - 1);
    drop((nodes, young));
    tracker.assert_all_dropped_once();
}

#[test]
#[should_panic(expected = "count_objects(Some(3)): generation must be 0, 1 or 2")]
fn count_objects_rejects_a_fourth_generation() {
    gc_core::count_objects(Some(3));
}
