//! Leak hunting with `gc_core::objgraph`, the counting half: `count`,
//! `typestats`, `most_common_types`, the growth tables (`growth`,
//! `show_growth`) and `by_type`/`at`. Roots and leaking objects are in
//! `test_objgraph_roots.rs`, chain searches in `test_objgraph_chains.rs`,
//! Graphviz output in `test_objgraph_graphviz.rs`.

mod common;

use std::cell::RefCell;
use std::collections::HashMap;

use common::graph::{Closing, Holder, Node, Registry, ids, link, node, obj};
use gc_core::objgraph;
use gc_core::{self as gc, Gc};

mod other {
    /// Same short name as `common::graph::Node`, another type.
    #[derive(gc_core::Trace)]
    pub struct Node(pub Option<gc_core::Gc<Node>>);
}

// ---------------------------------------------------------------------------
// Counting

#[test]
fn count_matches_full_and_short_names_of_tracked_objects() {
    gc::collect();
    let a = node("a");
    let b = node("b");
    let _other = Gc::new(other::Node(None));
    let _untracked = Gc::new(String::from("invisible"));
    assert_eq!(objgraph::count("Node"), 3); // both `Node` types
    assert_eq!(objgraph::count(std::any::type_name::<Node>()), 2);
    assert_eq!(objgraph::count(std::any::type_name::<other::Node>()), 1);
    assert_eq!(objgraph::count("String"), 0);
    assert_eq!(objgraph::count("Nod"), 0);
    drop((a, b));
    assert_eq!(objgraph::count("Node"), 1);
}

#[test]
fn typestats_counts_by_short_name() {
    gc::collect();
    let _nodes: Vec<Gc<Node>> = (0..3).map(|_| node("n")).collect();
    let _holder = Gc::new(Holder {
        item: RefCell::new(None),
    });
    let _list = Gc::new(vec![node("in a vec")]);
    let _other = Gc::new(other::Node(None));
    let _untracked = Gc::new(42_u64);
    let stats = objgraph::typestats();
    let expected: HashMap<String, usize> = [
        ("Node".to_owned(), 5),
        ("Holder".to_owned(), 1),
        ("Vec<Gc<Node>>".to_owned(), 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(stats, expected);
}

#[test]
fn most_common_types_sorts_by_count_then_name_and_limits() {
    gc::collect();
    let _n: Vec<Gc<Node>> = (0..3).map(|_| node("n")).collect();
    let _h: Vec<Gc<Holder>> = (0..2)
        .map(|_| {
            Gc::new(Holder {
                item: RefCell::new(None),
            })
        })
        .collect();
    let _c = Gc::new(Closing {
        next: RefCell::new(None),
    });
    let _r = Gc::new(Registry {
        list: RefCell::new(Vec::new()),
        map: RefCell::new(HashMap::new()),
    });
    let all = vec![
        ("Node".to_owned(), 3),
        ("Holder".to_owned(), 2),
        ("Closing".to_owned(), 1),
        ("Registry".to_owned(), 1),
    ];
    assert_eq!(objgraph::most_common_types(0), all);
    assert_eq!(objgraph::most_common_types(2), all[..2]);
    assert_eq!(objgraph::most_common_types(100), all);

    let mut out = Vec::new();
    objgraph::show_most_common_types_to(3, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "Node    3\nHolder  2\nClosing 1\n"
    );
    objgraph::show_most_common_types(3); // the same, on stdout
}

#[test]
fn growth_reports_only_new_peaks_and_raises_them() {
    gc::collect();
    let mut peak = HashMap::new();
    assert!(objgraph::growth(10, &mut peak).is_empty());

    let mut nodes: Vec<Gc<Node>> = (0..3).map(|_| node("n")).collect();
    let holder = Gc::new(Holder {
        item: RefCell::new(None),
    });
    assert_eq!(
        objgraph::growth(10, &mut peak),
        [("Node".to_owned(), 3, 3), ("Holder".to_owned(), 1, 1)]
    );
    assert_eq!(peak["Node"], 3);

    // Below the peak: nothing, and the peak stays.
    nodes.pop();
    assert!(objgraph::growth(10, &mut peak).is_empty());
    assert_eq!(peak["Node"], 3);
    // Back to the peak: still nothing new.
    nodes.push(node("n"));
    assert!(objgraph::growth(10, &mut peak).is_empty());
    // Past it: only the increase over the peak.
    nodes.push(node("n"));
    nodes.push(node("n"));
    assert_eq!(objgraph::growth(10, &mut peak), [("Node".to_owned(), 5, 2)]);

    // The limit cuts the report, not the peak update.
    nodes.push(node("n"));
    let _h2 = Gc::new(Holder {
        item: RefCell::new(None),
    });
    let _h3 = Gc::new(Holder {
        item: RefCell::new(None),
    });
    assert_eq!(
        objgraph::growth(1, &mut peak),
        [("Holder".to_owned(), 3, 2)]
    );
    assert_eq!(peak["Node"], 6);
    assert!(objgraph::growth(0, &mut peak).is_empty());
    drop(holder);
}

#[test]
fn growth_collects_first() {
    gc::collect();
    let mut peak = HashMap::new();
    let a = node("a");
    let b = node("b");
    link(&a, &b);
    link(&b, &a);
    drop((a, b)); // a garbage cycle: not growth
    assert!(objgraph::growth(10, &mut peak).is_empty());
    assert_eq!(gc::collect(), 0);
}

#[test]
fn show_growth_prints_aligned_rows_and_nothing_when_nothing_grew() {
    gc::collect();
    let mut out = Vec::new();
    objgraph::show_growth_to(10, &mut out).unwrap();
    assert!(out.is_empty(), "an empty heap has no growth");

    let _nodes: Vec<Gc<Node>> = (0..12).map(|_| node("n")).collect();
    let _holder = Gc::new(Holder {
        item: RefCell::new(None),
    });
    objgraph::show_growth_to(10, &mut out).unwrap();
    // objgraph's '%-*s%9d %+9d', names padded to the longest.
    assert_eq!(
        String::from_utf8(std::mem::take(&mut out)).unwrap(),
        "Node         12       +12\nHolder        1        +1\n"
    );
    objgraph::show_growth_to(10, &mut out).unwrap();
    assert!(out.is_empty(), "nothing grew: nothing printed");

    // `show_growth` shares the per-thread peaks: nothing to print either.
    objgraph::show_growth(10);
    let _more = node("n");
    objgraph::show_growth(10); // prints the Node row to stdout
    objgraph::show_growth_to(10, &mut out).unwrap();
    assert!(out.is_empty());
}

#[test]
fn show_growth_keeps_its_peaks_per_thread() {
    gc::collect();
    let _nodes: Vec<Gc<Node>> = (0..2).map(|_| node("n")).collect();
    let mut out = Vec::new();
    objgraph::show_growth_to(10, &mut out).unwrap();
    assert!(!out.is_empty());
    // A new thread has its own heap and its own peaks.
    let other = std::thread::spawn(|| {
        let _n = node("n");
        let mut out = Vec::new();
        objgraph::show_growth_to(10, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(other, "Node        1        +1\n");
}

#[test]
fn by_type_and_at_find_tracked_objects() {
    gc::collect();
    let a = node("a");
    let b = node("b");
    let s = Gc::new(String::from("untracked"));
    assert_eq!(ids(&objgraph::by_type("Node")), [Gc::id(&a), Gc::id(&b)]);
    assert_eq!(
        ids(&objgraph::by_type(std::any::type_name::<Node>())),
        [Gc::id(&a), Gc::id(&b)]
    );
    assert!(objgraph::by_type("String").is_empty());
    assert_eq!(objgraph::at(Gc::id(&b)), Some(obj(&b)));
    assert_eq!(
        objgraph::at(Gc::id(&s)),
        None,
        "untracked objects are invisible"
    );
    let id = Gc::id(&a);
    drop(a);
    assert_eq!(objgraph::at(id), None);
}
