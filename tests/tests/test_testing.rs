//! `gc_core::testing`: leak assertions (issue 14, point 2). Each assertion
//! is checked both ways: it passes on code that leaks nothing, and it fails,
//! with the growth table and the chain, on code that does.

mod common;

use std::cell::RefCell;

use common::expect_panic;
use gc_core::testing::{LeakCheck, assert_collectable, assert_no_leaks};
use gc_core::{Gc, Trace, Tracer};

#[derive(Trace)]
struct Node {
    next: RefCell<Option<Gc<Node>>>,
}

fn node(next: Option<Gc<Node>>) -> Gc<Node> {
    Gc::new(Node {
        next: RefCell::new(next),
    })
}

#[derive(Trace)]
struct Cache {
    entries: RefCell<Vec<Gc<Node>>>,
}

fn two_cycle() {
    let a = node(None);
    let b = node(Some(a.clone()));
    *a.next.borrow_mut() = Some(b);
}

#[test]
fn garbage_cycles_are_not_leaks() {
    assert_no_leaks(two_cycle);
    assert_no_leaks(|| (0..100).for_each(|_| two_cycle()));
}

#[test]
fn a_growing_cache_fails_with_the_growth_table_and_the_chain() {
    let cache = Gc::new(Cache {
        entries: RefCell::new(Vec::new()),
    });
    let message = expect_panic(|| {
        assert_no_leaks(|| {
            cache.entries.borrow_mut().push(node(None));
            cache.entries.borrow_mut().push(node(None));
        })
    });
    assert!(message.contains("objects leaked"), "{message}");
    // objgraph's growth line: name, count, increase.
    assert!(message.contains("Node        2        +2\n"), "{message}");
    // The chain names the cache, its field and the index.
    assert!(
        message.contains("a new Node is kept alive by:\nCache at"),
        "{message}"
    );
    assert!(
        message.contains("--entries[0]--> Node") || message.contains("--entries[1]--> Node"),
        "{message}"
    );
    assert!(message.contains("held from outside the heap"), "{message}");
    drop(cache);
}

#[test]
fn leak_check_reports_without_panicking() {
    let check = LeakCheck::new();
    assert_eq!(check.report(), None);
    let kept = node(None);
    let report = check.report().expect("the node is new");
    assert!(report.starts_with("tracked objects grew"), "{report}");
    drop(kept);
    assert_eq!(check.report(), None);
    check.assert();
}

#[test]
fn a_collectable_cycle_passes() {
    let a = node(None);
    let b = node(Some(a.clone()));
    *a.next.borrow_mut() = Some(b);
    assert_collectable(a);
}

#[test]
fn an_object_still_referenced_fails_with_its_chain() {
    let cache = Gc::new(Cache {
        entries: RefCell::new(Vec::new()),
    });
    let entry = node(None);
    cache.entries.borrow_mut().push(entry.clone());
    let message = expect_panic(|| assert_collectable(entry));
    assert!(
        message
            .contains("a Node was expected to be collectable, but it is kept alive by:\nCache at"),
        "{message}"
    );
    assert!(message.contains("--entries[0]--> Node"), "{message}");
}

/// A node whose hand-written `Trace` forgets its edge: the bug
/// `assert_collectable` is for.
struct Forgetful {
    partner: RefCell<Option<Gc<Partner>>>,
}

// SAFETY: reports no edge, which is fewer than it owns: a leak, never
// unsound (the `Trace` contract forbids reporting edges a value does not
// own, not missing some).
unsafe impl Trace for Forgetful {
    fn trace<V: Tracer>(&self, _tracer: &mut V) {}
}

impl gc_core::TraceMeta for Forgetful {}

#[derive(Trace)]
struct Partner {
    back: Gc<Forgetful>,
}

#[test]
fn a_trace_impl_that_misses_an_edge_is_caught() {
    let forgetful = Gc::new(Forgetful {
        partner: RefCell::new(None),
    });
    let partner = Gc::new(Partner {
        back: forgetful.clone(),
    });
    *forgetful.partner.borrow_mut() = Some(partner);
    let weak = Gc::downgrade(&forgetful);
    let message = expect_panic(|| assert_collectable(forgetful));
    // The partner looks held from outside (the untraced edge), and keeps
    // the forgetful node through its traced `back` field.
    assert!(
        message.contains(
            "a Forgetful was expected to be collectable, but it is kept alive by:\nPartner at"
        ),
        "{message}"
    );
    assert!(message.contains("--back--> Forgetful"), "{message}");
    assert!(message.contains("without reporting the edge"), "{message}");
    // Break the cycle by hand, as a user would have to: the collector
    // cannot, since it never sees the edge.
    let forgetful = weak.upgrade().expect("kept alive by the untraced edge");
    drop(forgetful.partner.borrow_mut().take());
    drop(forgetful);
    assert!(weak.upgrade().is_none());
}
