//! Untracking is exact and per type: a derived type is tracked iff one of its traced fields can
//! reach a `Gc` through a strong edge. Checked both on the constant (`TRACKED`) and on the
//! objects (`is_tracked`), which the runtime derives from it.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use gc_core::{Gc, Trace, Weak};

use crate::shapes::Node;
use crate::{assert_heap_clean, edges, leaf};

#[derive(Trace)]
struct Wrapper<T>(T);

#[test]
fn generic_wrapper_follows_its_argument() {
    const {
        assert!(!<Wrapper<u32> as gc_core::TraceMeta>::TRACKED);
        assert!(<Wrapper<Gc<u32>> as gc_core::TraceMeta>::TRACKED);
        assert!(!<Wrapper<Wrapper<String>> as gc_core::TraceMeta>::TRACKED);
        assert!(<Wrapper<Wrapper<Option<Gc<u32>>>> as gc_core::TraceMeta>::TRACKED);
        assert!(!<Wrapper<Vec<Wrapper<u8>>> as gc_core::TraceMeta>::TRACKED);
        assert!(<Wrapper<Vec<Wrapper<Gc<u8>>>> as gc_core::TraceMeta>::TRACKED);
    }
    let plain = Gc::new(Wrapper(1_u32));
    assert!(!gc_core::is_tracked(&plain));
    assert!(!gc_core::get_objects(None).contains(&Gc::to_object(&plain)));

    let target = leaf(2);
    let holding = Gc::new(Wrapper(target.clone()));
    assert!(gc_core::is_tracked(&holding));
    assert!(gc_core::get_objects(None).contains(&Gc::to_object(&holding)));
    assert_eq!(edges(&holding), [(".0".to_owned(), Gc::id(&target))]);
    assert_eq!(plain.0, 1);

    drop((plain, target, holding));
    assert_heap_clean();
}

/// Its only `Gc` is skipped: nothing it traces can reach a `Gc`.
#[allow(dead_code)] // `target` only keeps its node alive
#[derive(Trace)]
struct OnlySkipped {
    #[gc(skip)]
    target: Gc<Node<u32>>,
    hits: u32,
}

/// The only variants holding a `Gc` are skipped.
#[allow(dead_code)] // the fields only keep their nodes alive
#[derive(Trace)]
enum SkippedVariants {
    #[gc(skip)]
    Shared(Gc<Node<u32>>),
    Skipped(#[gc(skip)] Gc<Node<u32>>, u8),
    Plain(u32),
}

/// Weak references and shared-ownership leaves cannot close a cycle. An
/// `Rc` around a `Gc` needs `#[gc(skip)]` (without it, the derive fails:
/// `ui/gc_behind_an_rc.rs`); around Gc-free contents it is accepted.
#[derive(Trace)]
struct WeakAndShared {
    parent: Weak<Node<u32>>,
    #[gc(skip)]
    shared: Rc<Gc<Node<u32>>>,
    config: Arc<String>,
    name: Rc<str>,
    bytes: Arc<[u8]>,
    cells: Vec<RefCell<Weak<Node<u32>>>>,
    marker: PhantomData<Gc<Node<u32>>>,
}

/// An untracked recursive type: the self-mentions (`Box<Pure>`, `Vec<Self>`) reach no `Gc`.
#[derive(Trace)]
enum Pure {
    Num(i64),
    Neg(Box<Pure>),
    Sum(Vec<Self>),
}

#[test]
fn types_that_cannot_reach_a_gc_are_untracked() {
    const {
        assert!(!<OnlySkipped as gc_core::TraceMeta>::TRACKED);
        assert!(!<SkippedVariants as gc_core::TraceMeta>::TRACKED);
        assert!(!<WeakAndShared as gc_core::TraceMeta>::TRACKED);
        assert!(!<Pure as gc_core::TraceMeta>::TRACKED);
    }
    let node = Node::new(7_u32);

    let skipped = Gc::new(OnlySkipped {
        target: node.clone(),
        hits: 0,
    });
    let shared = Gc::new(SkippedVariants::Shared(node.clone()));
    let pair = Gc::new(SkippedVariants::Skipped(node.clone(), 1));
    let plain = Gc::new(SkippedVariants::Plain(2));
    let weak = Gc::new(WeakAndShared {
        parent: Gc::downgrade(&node),
        shared: Rc::new(node.clone()),
        config: Arc::new("cfg".into()),
        name: Rc::from("node"),
        bytes: Arc::from(&b"bytes"[..]),
        cells: vec![RefCell::new(Gc::downgrade(&node))],
        marker: PhantomData,
    });
    assert!(Gc::ptr_eq(&weak.shared, &node));
    let pure = Gc::new(Pure::Sum(vec![
        Pure::Num(1),
        Pure::Neg(Box::new(Pure::Num(2))),
    ]));
    assert!(!gc_core::is_tracked(&skipped));
    assert!(!gc_core::is_tracked(&shared));
    assert!(!gc_core::is_tracked(&pair));
    assert!(!gc_core::is_tracked(&plain));
    assert!(!gc_core::is_tracked(&weak));
    assert!(!gc_core::is_tracked(&pure));
    // None of them reports a strong edge either.
    assert!(edges(&skipped).is_empty());
    assert!(edges(&shared).is_empty());
    assert!(edges(&pair).is_empty());
    assert!(edges(&weak).is_empty());
    assert!(edges(&pure).is_empty());
    // The node itself is tracked (its `children` can hold `Gc`s), and the only tracked object.
    assert!(gc_core::is_tracked(&node));
    assert_eq!(gc_core::get_objects(None), [Gc::to_object(&node)]);
    assert_eq!(skipped.hits, 0);
    assert!(weak.parent.upgrade().is_some() && weak.config.len() == 3);

    drop((skipped, shared, pair, plain, weak, pure));
    assert_eq!(Gc::strong_count(&node), 1);
    drop(node);
    assert_heap_clean();
}

#[derive(Trace)]
enum Maybe<T> {
    Just(T),
    Nothing,
}

#[test]
fn tracking_is_decided_per_type_never_per_value() {
    const {
        assert!(!<Maybe<u32> as gc_core::TraceMeta>::TRACKED);
        assert!(<Maybe<Gc<u32>> as gc_core::TraceMeta>::TRACKED);
    }
    // A `Maybe<Gc<u32>>` that holds nothing is tracked all the same: it could hold one later
    // (through a `RefCell`), and the decision is made once, at compile time.
    let nothing: Gc<Maybe<Gc<u32>>> = Gc::new(Maybe::Nothing);
    assert!(gc_core::is_tracked(&nothing));
    let just = Gc::new(Maybe::Just(5_u32));
    assert!(!gc_core::is_tracked(&just));
    assert!(matches!(*just, Maybe::Just(5)));
    drop((nothing, just));
    assert_heap_clean();
}

/// A generic holder whose impls need a trait of their argument that the derive's stand-in for
/// `Held` lacks (`Display`): the stand-in's term cannot be evaluated, and `TRACKED` must then
/// err on the safe side (tracked), not silently leave `Held`'s cycles uncollectable.
#[derive(Trace)]
#[gc(bound = "T: Trace + std::fmt::Display")]
struct Labelled<T> {
    value: Vec<T>,
    link: RefCell<Option<Gc<Held>>>,
}

#[derive(Trace)]
struct Held {
    children: Vec<Labelled<Held>>,
}

impl std::fmt::Display for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("held")
    }
}

#[test]
fn a_term_the_placeholder_cannot_evaluate_counts_as_tracked() {
    const {
        assert!(<Held as gc_core::TraceMeta>::TRACKED);
    }
    let a = Gc::new(Held {
        children: vec![Labelled {
            value: Vec::new(),
            link: RefCell::new(None),
        }],
    });
    *a.children[0].link.borrow_mut() = Some(a.clone());
    assert!(gc_core::is_tracked(&a));
    drop(a);
    assert_eq!(gc_core::collect(), 1);
    assert_heap_clean();
}

/// Mentions itself both outside a `Gc` (`Vec<Tree<T>>`, evaluated with the placeholder) and
/// inside one (`Gc<Tree<T>>`, kept as written): the placeholder block must not make the
/// second mean the placeholder (which has no generic arguments), and the `Gc` makes the whole
/// type tracked whatever `T` is.
#[derive(Trace)]
enum Tree<T: 'static> {
    Leaf(T),
    Kids(Vec<Tree<T>>),
    Up(Option<Gc<Tree<T>>>),
}

#[test]
fn self_mentions_inside_and_outside_gc() {
    const {
        assert!(<Tree<u32> as gc_core::TraceMeta>::TRACKED);
    }
    let root: Gc<RefCell<Tree<u32>>> = Gc::new(RefCell::new(Tree::Kids(vec![Tree::Leaf(1)])));
    let kid = Gc::new(Tree::Up(None));
    assert!(gc_core::is_tracked(&kid) && gc_core::is_tracked(&root));
    assert!(edges(&root).is_empty());
    *root.borrow_mut() = Tree::Kids(vec![Tree::Leaf(2), Tree::Up(Some(kid))]);
    assert_eq!(edges(&root).len(), 1);
    drop(root);
    assert_heap_clean();
}
