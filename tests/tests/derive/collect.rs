//! The collector uses the derived `trace`: cycles made of derived types are found and freed by
//! `gc_core::collect()`, which returns how many objects were unreachable. A trace that missed
//! an edge would leave the cycle alive (count 0); one that reported an edge twice would free
//! objects still in use (a count too high, or a Miri error).

use std::cell::RefCell;
use std::collections::HashMap;

use gc_core::Gc;

use crate::assert_heap_clean;
use crate::shapes::{Cell, Expr, Func, Node, Pair, Ring, Scope, Value};

#[test]
fn recursive_function_in_the_ast() {
    assert_eq!(gc_core::collect(), 0);
    // f(n) = n + f(n): the body calls the function that owns it.
    let f = Gc::new(Func {
        name: "f".into(),
        params: vec!["n".into()],
        body: RefCell::new(Expr::Nil),
    });
    let n: Gc<Cell> = Gc::new(RefCell::new(None));
    *f.body.borrow_mut() = Expr::add(
        Expr::var("n", &n),
        Expr::Call(f.clone(), vec![Expr::var("n", &n)]),
    );
    let weak = Gc::downgrade(&f);
    drop((f, n));
    assert!(weak.upgrade().is_some(), "the cycle keeps itself alive");
    // `f` and the cell `n` (tracked: a `RefCell<Option<Expr>>` can hold a `Gc`), which only
    // `f`'s body refers to.
    assert_eq!(gc_core::collect(), 2);
    assert!(weak.upgrade().is_none());
    assert_heap_clean();
}

#[test]
fn variable_bound_to_itself() {
    let x: Gc<Cell> = Gc::new(RefCell::new(None));
    // x = [x + 1]: the cell holds an expression that names the cell.
    *x.borrow_mut() = Some(Expr::add(Expr::var("x", &x), Expr::Num(1)));
    drop(x);
    assert_eq!(gc_core::collect(), 1);
    assert_heap_clean();
}

#[test]
fn tree_with_back_edges() {
    // root -> {a, b}, a -> {root}, b -> {a, b}: every node reachable from every other.
    let root = Node::new(String::from("root"));
    let a = Node::new(String::from("a"));
    let b = Node::new(String::from("b"));
    Node::adopt(&root, &a);
    Node::adopt(&root, &b);
    Node::adopt(&a, &root);
    Node::adopt(&b, &a);
    Node::adopt(&b, &b);
    drop((a, b));
    assert_eq!(gc_core::collect(), 0, "reachable from `root`");
    drop(root);
    assert_eq!(gc_core::collect(), 3);
    assert_heap_clean();
}

#[test]
fn closures_capturing_their_scope() {
    let global = Gc::new(Scope {
        parent: None,
        vars: RefCell::new(HashMap::new()),
        depth: 0,
    });
    let local = Gc::new(Scope {
        parent: Some(global.clone()),
        vars: RefCell::new(HashMap::new()),
        depth: 1,
    });
    for (scope, name) in [(&global, "g"), (&local, "l")] {
        let closure = Gc::new(Value::Closure {
            scope: scope.clone(),
            params: Vec::new(),
        });
        scope.vars.borrow_mut().insert(name.into(), closure);
        scope
            .vars
            .borrow_mut()
            .insert(format!("{name}_n"), Gc::new(Value::Int(1)));
    }
    drop(global);
    drop(local);
    // Two scopes, their closures and the `Int` values (tracked: `Value` can hold a `Gc`).
    assert_eq!(gc_core::collect(), 6);
    assert_heap_clean();
}

#[test]
fn const_generic_ring() {
    // Three nodes in a ring, held through `[Gc<Node<u32>>; 1]` arrays and a tuple struct.
    let nodes = [Node::new(0_u32), Node::new(1), Node::new(2)];
    for (i, node) in nodes.iter().enumerate() {
        Node::adopt(node, &nodes[(i + 1) % 3]);
    }
    let ring = Gc::new(Ring {
        slots: [nodes[0].clone()],
        head: 0,
    });
    let holder = Node::new(0_u32);
    Node::adopt(&holder, &holder);
    let pair = Gc::new(Pair(Gc::new(9), Vec::new(), 0));
    drop((nodes, holder));
    assert_eq!(
        gc_core::collect(),
        1,
        "only `holder` is garbage: `ring` holds the ring"
    );
    drop((ring, pair));
    assert_eq!(gc_core::collect(), 3);
    assert_heap_clean();
}

/// A cycle through a `#[gc(skip)]` field is never found: the skipped edge counts as an
/// external reference. Safe (a leak), and broken by hand here.
#[derive(gc_core::Trace)]
struct Link {
    #[gc(skip)]
    hidden: RefCell<Option<Gc<Link>>>,
    visible: RefCell<Option<Gc<Link>>>,
}

#[test]
fn cycles_through_skipped_fields_are_kept() {
    let new = || {
        Gc::new(Link {
            hidden: RefCell::new(None),
            visible: RefCell::new(None),
        })
    };
    let (a, b) = (new(), new());
    *a.visible.borrow_mut() = Some(b.clone());
    *b.hidden.borrow_mut() = Some(a.clone());
    let weak = Gc::downgrade(&a);
    drop((a, b));
    assert_eq!(gc_core::collect(), 0);
    let a = weak.upgrade().expect("kept alive by the skipped edge");
    // Break the cycle; refcounting frees both.
    let b = a.visible.borrow_mut().take().expect("a -> b");
    b.hidden.borrow_mut().take();
    drop((a, b));
    assert!(weak.upgrade().is_none());

    // The same shape through visible edges only is collected.
    let (a, b) = (new(), new());
    *a.visible.borrow_mut() = Some(b.clone());
    *b.visible.borrow_mut() = Some(a.clone());
    drop((a, b));
    assert_eq!(gc_core::collect(), 2);
    assert_heap_clean();
}
