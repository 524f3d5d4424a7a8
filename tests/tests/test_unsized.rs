//! Unsized values: `Gc<dyn Trait>` and `Weak<dyn Trait>` made with
//! `unsize!`, downcasting back, `Gc<[T]>` and `Gc<str>`. Each test checks
//! both the value seen through the handle and what the collector does with
//! it (cycles found, values dropped exactly once, labels through `dyn`).

mod common;

/// Long enough to go through the trashcan's deferral many times over.
const CHAIN: usize = if cfg!(miri) { 300 } else { 200_000 };

use std::cell::{Cell, RefCell};
use std::fmt::Debug;
use std::rc::Rc;

use common::{DropToken, Tracker};
use gc_core::{Gc, Object, Trace, Weak, collect, get_referrers, unsize};

trait Shape: Trace {
    fn area(&self) -> f64;
    fn name(&self) -> String;
}

#[derive(Trace)]
struct Circle {
    r: f64,
    token: DropToken,
}

impl Shape for Circle {
    fn area(&self) -> f64 {
        3.0 * self.r * self.r
    }
    fn name(&self) -> String {
        format!("circle {}", self.r)
    }
}

/// A shape that holds other shapes: cycles go through `dyn Shape`.
#[derive(Trace)]
struct Group {
    members: RefCell<Vec<Gc<dyn Shape>>>,
    token: DropToken,
}

impl Shape for Group {
    fn area(&self) -> f64 {
        self.members.borrow().iter().map(|m| m.area()).sum()
    }
    fn name(&self) -> String {
        "group".into()
    }
}

fn circle(tracker: &Tracker, r: f64) -> Gc<dyn Shape> {
    unsize!(Gc::new(Circle { r, token: tracker.token() }) => dyn Shape)
}

fn group(tracker: &Tracker) -> Gc<Group> {
    Gc::new(Group {
        members: RefCell::new(Vec::new()),
        token: tracker.token(),
    })
}

#[test]
fn trait_objects_call_the_concrete_methods_and_drop_by_refcount() {
    let tracker = Tracker::new();
    let shapes: Vec<Gc<dyn Shape>> = vec![circle(&tracker, 1.0), circle(&tracker, 2.0)];
    let total: f64 = shapes.iter().map(|s| s.area()).sum();
    assert_eq!(total, 15.0);
    assert_eq!(shapes[1].name(), "circle 2");
    let copy = shapes[0].clone();
    assert_eq!(Gc::strong_count(&copy), 2);
    assert!(Gc::ptr_eq(&copy, &shapes[0]));
    assert!(!Gc::ptr_eq(&copy, &shapes[1]));
    drop(shapes);
    assert_eq!(tracker.dropped(), 1, "the cloned circle is still alive");
    drop(copy);
    tracker.assert_all_dropped_once();
}

#[test]
fn cycles_through_trait_objects_are_collected() {
    collect();
    let tracker = Tracker::new();
    for _ in 0..10 {
        let a = group(&tracker);
        let b = group(&tracker);
        let a_dyn: Gc<dyn Shape> = unsize!(a.clone() => dyn Shape);
        let b_dyn: Gc<dyn Shape> = unsize!(b.clone() => dyn Shape);
        a.members.borrow_mut().push(b_dyn);
        b.members.borrow_mut().push(a_dyn);
        a.members.borrow_mut().push(circle(&tracker, 1.0));
    }
    assert_eq!(tracker.dropped(), 0, "cycles keep each other alive");
    // The groups; the circles own no `Gc`, are untracked, and die by
    // reference counting when their group is torn down.
    assert_eq!(collect(), 20);
    tracker.assert_all_dropped_once();
}

#[test]
fn a_long_chain_of_trait_objects_drops_without_overflowing_the_stack() {
    let tracker = Tracker::new();
    let mut head = group(&tracker);
    for _ in 0..CHAIN {
        let next = group(&tracker);
        next.members.borrow_mut().push(unsize!(head => dyn Shape));
        head = next;
    }
    let head: Gc<dyn Shape> = unsize!(head => dyn Shape);
    drop(head);
    tracker.assert_all_dropped_once();
}

#[test]
fn labels_and_referrers_come_through_dyn() {
    let tracker = Tracker::new();
    let g = group(&tracker);
    let c = circle(&tracker, 1.0);
    g.members.borrow_mut().push(c.clone());
    let g_dyn: Gc<dyn Shape> = unsize!(g.clone() => dyn Shape);
    let edges = Gc::to_object(&g_dyn).edges();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0].0, "members[0]");
    assert_eq!(edges[0].1, Gc::to_object(&c));
    assert_eq!(Gc::to_object(&g_dyn).short_type_name(), "Group");
    let referrers = get_referrers(&c);
    assert_eq!(referrers, [Gc::to_object(&g)]);
    assert!(gc_core::is_tracked(&g_dyn));
    let object: Object = Gc::to_object(&c);
    assert!(object.is::<Circle>());
    assert_eq!(object.downcast::<Circle>().map(|c| c.r), Some(1.0));
}

#[test]
fn downcast_returns_the_same_object_or_the_handle_unchanged() {
    let tracker = Tracker::new();
    let shape = circle(&tracker, 2.0);
    assert!(Gc::is::<Circle>(&shape));
    assert!(!Gc::is::<Group>(&shape));
    let shape = match Gc::downcast::<Group>(shape) {
        Ok(_) => panic!("a circle is not a group"),
        Err(shape) => shape,
    };
    assert_eq!(Gc::strong_count(&shape), 1);
    let keep = shape.clone();
    assert_eq!(Gc::downcast_ref::<Circle>(&shape).map(|c| c.r), Some(2.0));
    assert!(Gc::downcast_ref::<Group>(&shape).is_none());
    let concrete: Gc<Circle> = Gc::downcast(shape).ok().unwrap();
    assert_eq!(concrete.r, 2.0);
    assert_eq!(Gc::strong_count(&concrete), 2);
    assert_eq!(Gc::id(&concrete), Gc::id(&keep));
    drop((concrete, keep));
    tracker.assert_all_dropped_once();
}

#[test]
fn weak_trait_objects_upgrade_until_the_object_dies() {
    let tracker = Tracker::new();
    let concrete = Gc::new(Circle {
        r: 1.0,
        token: tracker.token(),
    });
    let weak: Weak<dyn Shape> = unsize!(Gc::downgrade(&concrete) => dyn Shape);
    let shape: Gc<dyn Shape> = unsize!(concrete.clone() => dyn Shape);
    let weak2: Weak<dyn Shape> = Gc::downgrade(&shape);
    let fired = Rc::new(Cell::new(false));
    let f = fired.clone();
    let with_callback = Gc::downgrade_with(&shape, move || f.set(true));
    assert_eq!(weak.upgrade().map(|s| s.area()), Some(3.0));
    assert_eq!(
        weak2.clone().upgrade().map(|s| s.name()),
        Some("circle 1".into())
    );
    assert_eq!(Gc::weak_count(&concrete), 3);
    drop((concrete, shape));
    assert!(weak.upgrade().is_none());
    assert!(weak2.upgrade().is_none());
    assert!(with_callback.upgrade().is_none());
    assert!(fired.get());
    assert!(format!("{weak:?}").ends_with("dead>"));
    tracker.assert_all_dropped_once();
}

#[test]
fn weak_trait_objects_die_with_their_cycle() {
    collect();
    let tracker = Tracker::new();
    let a = group(&tracker);
    let a_dyn: Gc<dyn Shape> = unsize!(a.clone() => dyn Shape);
    a.members.borrow_mut().push(a_dyn.clone());
    let weak = Gc::downgrade(&a_dyn);
    drop((a, a_dyn));
    assert!(weak.upgrade().is_some());
    assert_eq!(collect(), 1);
    assert!(weak.upgrade().is_none());
    tracker.assert_all_dropped_once();
}

#[test]
fn other_traits_work_as_well() {
    let value: Gc<dyn Debug> = unsize!(Gc::new(vec![1, 2]) => dyn Debug);
    assert_eq!(format!("{value:?}"), "[1, 2]");
    let id = Gc::id(&value);
    let back: Gc<Vec<i32>> = Gc::downcast(value).unwrap();
    assert_eq!(Gc::id(&back), id);
}

#[derive(Trace)]
struct Cell2 {
    token: DropToken,
    out: RefCell<Option<Gc<[Gc<Cell2>]>>>,
}

#[test]
fn slices_from_vectors_and_iterators() {
    let tracker = Tracker::new();
    let tokens: Gc<[DropToken]> = Gc::from(vec![tracker.token(), tracker.token()]);
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[1].id(), 1);
    assert!(!gc_core::is_tracked(&tokens));
    let empty: Gc<[DropToken]> = Gc::from(Vec::new());
    assert!(empty.is_empty());
    let units: Gc<[()]> = std::iter::repeat_n((), 5).collect();
    assert_eq!(units.len(), 5);
    let squares: Gc<[u64]> = (1..=4u64).map(|n| n * n).collect();
    assert_eq!(&squares[..], [1, 4, 9, 16]);
    let boxed: Gc<[u8]> = Gc::from(vec![7u8; 3].into_boxed_slice());
    assert_eq!(&boxed[..], [7, 7, 7]);
    let cloned: Gc<[String]> = Gc::from(&["a".to_string(), "b".to_string()][..]);
    assert_eq!(cloned.join(""), "ab");
    let weak = Gc::downgrade(&tokens);
    assert_eq!(weak.upgrade().map(|t| t.len()), Some(2));
    drop(tokens);
    assert!(weak.upgrade().is_none());
    tracker.assert_all_dropped_once();
}

#[test]
fn strings() {
    let a: Gc<str> = Gc::from("lambda");
    let b: Gc<str> = Gc::from(String::from("lambda"));
    let c: Gc<str> = Gc::from(Box::<str>::from("λ"));
    assert_eq!(&*a, "lambda");
    assert_eq!(a, b);
    assert!(!Gc::ptr_eq(&a, &b));
    assert_eq!(c.len(), 2);
    assert_eq!(format!("{a} {c:?}"), "lambda \"λ\"");
    let empty: Gc<str> = Gc::from("");
    assert!(empty.is_empty());
    assert_eq!(Gc::to_object(&a).type_name(), "str");
}

#[test]
fn cycles_through_slices_are_collected_and_labelled() {
    collect();
    let tracker = Tracker::new();
    let new = || {
        Gc::new(Cell2 {
            token: tracker.token(),
            out: RefCell::new(None),
        })
    };
    let (a, b) = (new(), new());
    let edges: Gc<[Gc<Cell2>]> = Gc::from(vec![a.clone(), b.clone()]);
    assert!(gc_core::is_tracked(&edges));
    let labels: Vec<String> = Gc::to_object(&edges)
        .edges()
        .into_iter()
        .map(|(label, _)| label)
        .collect();
    assert_eq!(labels, ["[0]", "[1]"]);
    *a.out.borrow_mut() = Some(edges.clone());
    *b.out.borrow_mut() = Some(edges);
    drop((a, b));
    assert_eq!(tracker.dropped(), 0);
    assert_eq!(collect(), 3, "two cells and the slice");
    tracker.assert_all_dropped_once();
}

#[test]
fn a_long_chain_through_slices_drops_without_overflowing_the_stack() {
    let tracker = Tracker::new();
    let mut head = Gc::new(Cell2 {
        token: tracker.token(),
        out: RefCell::new(None),
    });
    for _ in 0..CHAIN {
        let next = Gc::new(Cell2 {
            token: tracker.token(),
            out: RefCell::new(Some(Gc::from(vec![head]))),
        });
        head = next;
    }
    drop(head);
    tracker.assert_all_dropped_once();
}

#[test]
fn arrays_unsize_to_slices() {
    collect();
    let tracker = Tracker::new();
    let array = Gc::new([tracker.token(), tracker.token(), tracker.token()]);
    let slice: Gc<[DropToken]> = unsize!(array.clone() => [DropToken]);
    assert_eq!(slice.len(), 3);
    assert_eq!(slice[2].id(), 2);
    let weak: Weak<[DropToken]> = unsize!(Gc::downgrade(&array) => [DropToken]);
    drop(array);
    assert_eq!(weak.upgrade().map(|s| s.len()), Some(3));
    drop(slice);
    assert!(weak.upgrade().is_none());
    tracker.assert_all_dropped_once();
}

#[test]
fn unsized_garbage_is_freed_by_the_collector_after_its_finalizers() {
    use gc_core::{Finalize, FinalizerPolicy, set_finalizer_policy};

    thread_local!(static FINALIZED: Cell<usize> = const { Cell::new(0) });

    #[derive(Trace)]
    #[gc(finalize)]
    struct Noisy {
        peers: RefCell<Vec<Gc<dyn Shape>>>,
        token: DropToken,
    }
    impl Finalize for Noisy {
        fn finalize(&self) {
            FINALIZED.with(|f| f.set(f.get() + 1));
            assert!(self.peers.borrow().iter().all(|p| p.area() >= 0.0));
        }
    }
    impl Shape for Noisy {
        fn area(&self) -> f64 {
            0.0
        }
        fn name(&self) -> String {
            "noisy".into()
        }
    }

    collect();
    set_finalizer_policy(FinalizerPolicy::Finalize);
    let tracker = Tracker::new();
    let a = Gc::new(Noisy {
        peers: RefCell::new(Vec::new()),
        token: tracker.token(),
    });
    let a_dyn: Gc<dyn Shape> = unsize!(a.clone() => dyn Shape);
    a.peers.borrow_mut().push(a_dyn);
    a.peers.borrow_mut().push(circle(&tracker, 1.0));
    drop(a);
    assert_eq!(collect(), 1);
    assert_eq!(FINALIZED.with(Cell::get), 1);
    tracker.assert_all_dropped_once();
}

/// The `nightly` feature's plain coercions (`cargo +nightly test -p gc-tests
/// --features nightly --test test_unsized`).
#[cfg(feature = "nightly")]
mod nightly {
    use super::*;

    #[test]
    fn handles_coerce_like_box() {
        collect();
        let tracker = Tracker::new();
        let shape: Gc<dyn Shape> = Gc::new(Circle {
            r: 1.0,
            token: tracker.token(),
        });
        assert_eq!(shape.area(), 3.0);
        let concrete: Gc<Circle> = Gc::downcast(shape.clone()).ok().unwrap();
        let weak_circle: Weak<Circle> = Gc::downgrade(&concrete);
        let weak: Weak<dyn Shape> = weak_circle;
        drop(concrete);
        assert_eq!(weak.upgrade().map(|s| s.name()), Some("circle 1".into()));
        let slice: Gc<[u8]> = Gc::new([1, 2, 3]);
        assert_eq!(slice.len(), 3);
        let g = group(&tracker);
        g.members.borrow_mut().push(g.clone());
        drop((shape, g));
        assert!(weak.upgrade().is_none());
        assert_eq!(collect(), 1);
        tracker.assert_all_dropped_once();
    }
}
