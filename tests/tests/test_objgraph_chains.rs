//! Leak hunting with `gc_core::objgraph`: the chain searches
//! (`find_backref_chain`, `find_ref_chain` and their `_ignoring` forms),
//! through `Vec`, `HashMap` and enum fields, with their edge labels.

mod common;

use std::cell::RefCell;
use std::collections::HashMap;

use common::graph::{GoldenHeap, Holder, Node, Registry, ids, link, names, node, obj};
use gc_core::objgraph::{self, is_root};
use gc_core::{self as gc, Gc, Object};

// ---------------------------------------------------------------------------
// Helpers

/// The labels of the edges between consecutive objects of a chain.
fn chain_labels(chain: &[Object]) -> Vec<String> {
    chain
        .windows(2)
        .map(|pair| {
            let labels: Vec<String> = pair[0]
                .edges()
                .into_iter()
                .filter(|(_, to)| to == &pair[1])
                .map(|(label, _)| label)
                .collect();
            labels.join(", ")
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Chains

#[test]
fn find_backref_chain_goes_through_vec_and_hashmap_fields() {
    gc::collect();
    let registry = Gc::new(Registry {
        list: RefCell::new(Vec::new()),
        map: RefCell::new(HashMap::new()),
    });
    let holder = |name| {
        Gc::new(Holder {
            item: RefCell::new(Some(node(name))),
        })
    };
    for _ in 0..3 {
        registry.list.borrow_mut().push(holder("filler"));
    }
    registry.list.borrow_mut().push(holder("in the list"));
    registry
        .map
        .borrow_mut()
        .insert("key".to_owned(), holder("in the map"));

    let target = |name: &str| {
        objgraph::by_type("Node")
            .into_iter()
            .find(|o| o.downcast::<Node>().unwrap().name == name)
            .unwrap()
    };
    let in_list = target("in the list");
    let chain = objgraph::find_backref_chain(&in_list, is_root, 20);
    assert_eq!(names(&chain), ["Registry", "Holder", "Node"]);
    assert_eq!(chain[0], obj(&registry));
    assert_eq!(chain[2], in_list);
    assert_eq!(chain_labels(&chain), ["list[3]", "item"]);

    let in_map = target("in the map");
    let chain = objgraph::find_backref_chain(&in_map, is_root, 20);
    assert_eq!(names(&chain), ["Registry", "Holder", "Node"]);
    assert_eq!(chain_labels(&chain), [r#"map["key"]"#, "item"]);

    // A `Gc<T>` works as the target too.
    let typed = in_map.downcast::<Node>().unwrap();
    assert_eq!(objgraph::find_backref_chain(&typed, is_root, 20).len(), 1);
    drop(typed);

    // Nothing within reach: `[target]`.
    let chain = objgraph::find_backref_chain(&in_list, is_root, 1);
    assert_eq!(chain, std::slice::from_ref(&in_list));
    let chain = objgraph::find_backref_chain(&in_list, |_| false, 20);
    assert_eq!(chain, std::slice::from_ref(&in_list));
    // max_depth 2 is exactly enough.
    assert_eq!(objgraph::find_backref_chain(&in_list, is_root, 2).len(), 3);
    // The target is tested first.
    let chain = objgraph::find_backref_chain(&in_list, |_| true, 0);
    assert_eq!(chain, std::slice::from_ref(&in_list));
}

#[test]
fn find_backref_chain_finds_the_shortest_and_honours_extra_ignore() {
    gc::collect();
    let target_gc = node("target");
    let near = node("near");
    let far = node("far");
    let middle = node("middle");
    link(&far, &middle);
    link(&middle, &target_gc);
    link(&near, &target_gc);
    let target = obj(&target_gc);
    let middle_obj = obj(&middle);
    drop((target_gc, middle));
    let is_named =
        |name: &'static str| move |o: &Object| o.downcast::<Node>().is_some_and(|n| n.name == name);
    let chain = objgraph::find_backref_chain(&target, is_root, 20);
    assert_eq!(chain, [obj(&near), target.clone()]);
    let chain = objgraph::find_backref_chain_ignoring(&target, is_root, 20, &[Gc::id(&near)]);
    assert_eq!(chain, [obj(&far), middle_obj.clone(), target.clone()]);
    let chain = objgraph::find_backref_chain(&target, is_named("far"), 20);
    assert_eq!(chain.len(), 3);
    let chain =
        objgraph::find_backref_chain_ignoring(&target, is_named("far"), 20, &[middle_obj.id()]);
    assert_eq!(chain, std::slice::from_ref(&target));
}

#[test]
fn searches_do_not_see_their_own_handles() {
    gc::collect();
    let top = node("top");
    let mut last = top.clone();
    for _ in 0..5 {
        let next = node("link");
        link(&last, &next);
        last = next;
    }
    let target = obj(&last);
    drop(last);
    // Before the search: only `top` is a root.
    let roots_before = ids(&objgraph::roots());
    assert_eq!(roots_before, [Gc::id(&top)]);
    let referrers_before: Vec<Vec<usize>> = gc::get_objects(None)
        .iter()
        .map(|o| ids(&gc::get_referrers(o)))
        .collect();
    let visited = RefCell::new(0);
    let chain = objgraph::find_backref_chain(
        &target,
        |o| {
            *visited.borrow_mut() += 1;
            // During the search (which holds handles to every visited
            // object and indexes the whole heap), roots and referrers are
            // as before.
            let root = is_root(o);
            assert_eq!(root, o.id() == Gc::id(&top));
            assert_eq!(
                gc::get_referrers(o).len(),
                usize::from(o.id() != Gc::id(&top))
            );
            root
        },
        20,
    );
    assert_eq!(chain.len(), 6);
    assert_eq!(*visited.borrow(), 6);
    assert_eq!(ids(&objgraph::roots()), roots_before);
    let referrers_after: Vec<Vec<usize>> = gc::get_objects(None)
        .iter()
        .map(|o| ids(&gc::get_referrers(o)))
        .collect();
    assert_eq!(referrers_after, referrers_before);
}

#[test]
fn find_ref_chain_walks_referents_tracked_or_not() {
    gc::collect();
    let doc = GoldenHeap::new();
    let hello = |o: &Object| {
        o.downcast::<String>()
            .is_some_and(|s| s.as_str() == "world")
    };
    let chain = objgraph::find_ref_chain(&doc.doc, hello, 20);
    assert_eq!(names(&chain), ["Doc", "Section", "Words", "String"]);
    assert_eq!(chain[0], obj(&doc.doc));
    assert_eq!(
        chain_labels(&chain),
        ["sections[0]", "body.Text.words", ".0[1]"]
    );
    // max_depth 2 stops short; the start is tested first.
    assert_eq!(
        objgraph::find_ref_chain(&doc.doc, hello, 2),
        [obj(&doc.doc)]
    );
    assert_eq!(
        objgraph::find_ref_chain(&doc.doc, |_| true, 0),
        [obj(&doc.doc)]
    );
    // Ignoring the first section finds nothing else (the second is empty).
    let first = Gc::to_object(&doc.doc.sections.borrow()[0]);
    assert_eq!(
        objgraph::find_ref_chain_ignoring(&doc.doc, hello, 20, &[first.id()]),
        [obj(&doc.doc)]
    );
    // Breadth first: the finalizer's string is two steps away.
    let author = |o: &Object| {
        o.downcast::<String>()
            .is_some_and(|s| s.as_str() == "author")
    };
    let chain = objgraph::find_ref_chain(&doc.doc, author, 20);
    assert_eq!(names(&chain), ["Doc", "Meta", "String"]);
    assert_eq!(chain_labels(&chain), ["meta", ".0"]);
}
