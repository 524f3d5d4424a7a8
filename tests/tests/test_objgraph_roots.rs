//! Leak hunting with `gc_core::objgraph`: `is_root`, `roots` and
//! `get_leaking_objects` (exact, frozen referrers, during a collection,
//! after a panicking `trace`), and how their cost grows with the heap.

mod common;

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use common::graph::{Node, ids, link, node, obj, unlink_all};
use gc_core::objgraph::{self, is_root};
use gc_core::{self as gc, Gc, Object, Trace};

/// Untracked (its only `Gc` is skipped), yet it holds a node.
#[derive(Trace)]
struct Opaque {
    #[gc(skip)]
    inner: Gc<Node>,
}

// ---------------------------------------------------------------------------
// Leaking objects

#[test]
fn get_leaking_objects_lists_what_no_tracked_object_refers_to() {
    gc::collect();
    let top = node("top");
    let mid = node("mid");
    let leaf = node("leaf");
    link(&top, &mid);
    link(&mid, &leaf);
    let _lonely = node("lonely");
    let selfish = node("selfish");
    link(&selfish, &selfish);
    // Referenced only by an untracked object: still "leaking".
    let opaque = Gc::new(Opaque {
        inner: node("opaque"),
    });
    // A garbage cycle is collected first, not reported.
    let (x, y) = (node("x"), node("y"));
    link(&x, &y);
    link(&y, &x);
    drop((x, y));

    let leaking = objgraph::get_leaking_objects();
    let names: Vec<&str> = leaking
        .iter()
        .map(|o| o.downcast::<Node>().unwrap().name)
        .collect();
    assert_eq!(names, ["top", "lonely", "opaque"]);
    unlink_all(&[selfish]);
    drop(opaque);
}

// ---------------------------------------------------------------------------
// Roots

thread_local! {
    static GLOBAL: RefCell<Option<Gc<Node>>> = const { RefCell::new(None) };
}

#[test]
fn is_root_is_exact() {
    gc::collect();
    // A local `Gc`: a root.
    let local = node("local");
    assert!(is_root(&obj(&local)));

    // Held only by a tracked object: not a root.
    let holder = node("holder");
    link(&holder, &node("held"));
    let held = Gc::to_object(&holder.edges.borrow()[0]);
    assert!(!is_root(&held));
    // ...until the program holds it too.
    let extra = held.downcast::<Node>().unwrap();
    assert!(is_root(&held));
    drop(extra);
    assert!(!is_root(&held));

    // `Rc` is opaque (untracked): an `Rc<Gc<..>>` makes a root, even when
    // the `Rc` sits inside a tracked object's untraced field.
    let rc = Rc::new(node("in an rc"));
    assert!(is_root(&obj(&*rc)));
    // An untracked object's `Gc` field is memory the collector cannot see.
    let opaque = Gc::new(Opaque {
        inner: node("in an untracked object"),
    });
    assert!(!gc::is_tracked(&opaque));
    assert!(is_root(&obj(&opaque.inner)));
    // A thread-local: a root.
    GLOBAL.with(|g| *g.borrow_mut() = Some(node("global")));
    let global = GLOBAL.with(|g| Gc::to_object(g.borrow().as_ref().unwrap()));
    assert!(is_root(&global));
    GLOBAL.with(|g| g.borrow_mut().take());
    assert!(!is_root(&global), "only an Object is left");

    // Held only by `Object`s (introspection): not a root.
    let (a, b) = (node("a"), node("b"));
    link(&a, &b);
    link(&b, &a);
    let b_id = Gc::id(&b);
    drop(b);
    let objects = gc::get_objects(None);
    let b = objects.iter().find(|o| o.id() == b_id).unwrap();
    assert!(!is_root(b));
    assert!(is_root(&obj(&a)));
    let more_handles: Vec<Object> = (0..5).map(|_| b.clone()).collect();
    assert!(!is_root(b), "any number of Object handles");
    drop(more_handles);
    unlink_all(&[a]);
    drop(objects);

    // Self-references count as references from a tracked object.
    let selfish = node("selfish");
    link(&selfish, &selfish);
    assert!(is_root(&obj(&selfish)));
    let selfish_obj = obj(&selfish);
    drop(selfish);
    assert!(!is_root(&selfish_obj));
    selfish_obj
        .downcast::<Node>()
        .unwrap()
        .edges
        .borrow_mut()
        .clear();
    drop((local, holder, rc, opaque, global));
    assert_eq!(gc::collect(), 0);
}

#[test]
fn roots_agrees_with_is_root_on_every_object() {
    gc::collect();
    let n = if cfg!(miri) { 12 } else { 200 };
    let nodes: Vec<Gc<Node>> = (0..n).map(|_| node("n")).collect();
    for (i, from) in nodes.iter().enumerate() {
        link(from, &nodes[(i * 7 + 3) % n]);
        if i % 3 == 0 {
            link(from, &nodes[(i * 5 + 1) % n]);
        }
    }
    // Keep every fourth node as a root; hand the rest to `Object`s.
    let kept: Vec<Gc<Node>> = nodes.iter().step_by(4).cloned().collect();
    drop(nodes);
    let all = gc::get_objects(None);
    let roots: HashSet<usize> = ids(&objgraph::roots()).into_iter().collect();
    let expected: HashSet<usize> = all.iter().filter(|o| is_root(o)).map(Object::id).collect();
    assert_eq!(roots, expected);
    let kept_ids: HashSet<usize> = kept.iter().map(Gc::id).collect();
    assert_eq!(roots, kept_ids);
    drop(all);
    unlink_all(&kept);
    drop(kept);
    gc::collect();
    assert!(gc::get_objects(None).is_empty());
}

#[test]
fn frozen_referrers_count_and_the_pass_leaves_no_trace() {
    gc::collect();
    let frozen = node("frozen");
    link(&frozen, &node("child of frozen"));
    gc::freeze();
    let child = Gc::to_object(&frozen.edges.borrow()[0]);
    assert!(!is_root(&child), "a frozen object is a tracked referrer");
    assert!(
        objgraph::roots().is_empty(),
        "frozen objects are not listed"
    );
    gc::unfreeze();
    assert_eq!(ids(&objgraph::roots()), [Gc::id(&frozen)]);
    // The pass leaves no collection state behind: collections still work.
    let (a, b) = (node("a"), node("b"));
    link(&a, &b);
    link(&b, &a);
    drop((a, b));
    assert_eq!(gc::collect(), 2);
}

#[test]
fn roots_work_during_a_collection() {
    gc::collect();
    let top = node("top");
    link(&top, &node("child"));
    let outside_roots = ids(&objgraph::roots());
    let outside_leaking = ids(&objgraph::get_leaking_objects());
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = seen.clone();
    let id = gc::add_callback(move |phase, _| {
        if phase == gc::Phase::Start {
            // `collect()` inside `get_leaking_objects` is a no-op here, and
            // the gc_refs belong to the collector: the fallback counts.
            sink.borrow_mut().push((
                ids(&objgraph::roots()),
                ids(&objgraph::get_leaking_objects()),
                objgraph::roots().iter().all(is_root),
            ));
        }
    });
    gc::collect();
    gc::remove_callback(id);
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0], (outside_roots, outside_leaking, true));
}

/// A node whose `Trace` panics while armed.
struct Bomb {
    armed: std::cell::Cell<bool>,
    next: Option<Gc<Node>>,
}

// SAFETY: reports its one `Gc` field, or panics (allowed by the contract);
// it is only armed and disarmed between collections.
unsafe impl Trace for Bomb {
    fn trace<V: gc::Tracer>(&self, tracer: &mut V) {
        assert!(!self.armed.get(), "boom");
        tracer.field("next", |t| self.next.trace(t));
    }
}

impl gc_core::TraceMeta for Bomb {}

#[test]
fn a_panicking_trace_leaves_the_heap_usable() {
    gc::collect();
    let bomb = Gc::new(Bomb {
        armed: std::cell::Cell::new(false),
        next: Some(node("child")),
    });
    let child = obj(bomb.next.as_ref().unwrap());
    assert!(!is_root(&child));
    bomb.armed.set(true);
    let payload = std::panic::catch_unwind(objgraph::roots).unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    let payload = std::panic::catch_unwind(objgraph::get_leaking_objects).unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    bomb.armed.set(false);
    // No collection state is left behind: the answers and collections are
    // right.
    assert!(!is_root(&child));
    assert_eq!(ids(&objgraph::roots()), [Gc::id(&bomb)]);
    let (a, b) = (node("a"), node("b"));
    link(&a, &b);
    link(&b, &a);
    drop((a, b));
    assert_eq!(gc::collect(), 2);
    assert_eq!(ids(&objgraph::get_leaking_objects()), [Gc::id(&bomb)]);
}

// ---------------------------------------------------------------------------
// Cost

/// Builds `n` tracked objects: `n / 2` roots, each holding one child.
fn big_heap(n: usize) -> Vec<Gc<Node>> {
    let parents: Vec<Gc<Node>> = (0..n / 2).map(|_| node("parent")).collect();
    for parent in &parents {
        link(parent, &node("child"));
    }
    parents
}

/// Measures `get_leaking_objects`, `typestats` and `roots` on 250,000,
/// 1,000,000 and 2,000,000 tracked objects (half of them roots, each with
/// one child): time per object should stay flat. Run with
/// `cargo test --release -p gc-tests --test test_objgraph_roots -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check: run in release mode with --ignored --nocapture"]
fn cost_is_linear_in_the_heap() {
    use std::time::Instant;
    fn median(mut samples: Vec<f64>) -> f64 {
        samples.sort_by(f64::total_cmp);
        samples[samples.len() / 2]
    }
    fn time<R>(samples: &mut Vec<f64>, f: impl FnOnce() -> R) -> R {
        let t = Instant::now();
        let r = f();
        samples.push(t.elapsed().as_secs_f64() * 1e3);
        r
    }
    gc::disable();
    println!(
        "{:>9} | {:>17} | {:>29} | {:>17} | {:>17}",
        "objects", "collect()", "get_leaking_objects()", "typestats()", "roots()"
    );
    for n in [250_000, 1_000_000, 2_000_000] {
        let heap = big_heap(n);
        gc::collect();
        let (mut collect, mut leaking, mut stats, mut roots) = (vec![], vec![], vec![], vec![]);
        for _ in 0..5 {
            time(&mut collect, gc::collect);
            let found = time(&mut leaking, objgraph::get_leaking_objects);
            assert_eq!(found.len(), n / 2);
            drop(found);
            let s = time(&mut stats, objgraph::typestats);
            assert_eq!(s["Node"], n);
            let r = time(&mut roots, objgraph::roots);
            assert_eq!(r.len(), n / 2);
        }
        let per = |ms: f64| ms * 1e6 / n as f64;
        let (c, l, s, r) = (
            median(collect),
            median(leaking),
            median(stats),
            median(roots),
        );
        println!(
            "{n:>9} | {c:6.1} ms {:4.0} ns | {l:6.1} ms {:4.0} ns ({:4.0} ns \
             after collect) | {s:6.1} ms {:4.0} ns | {r:6.1} ms {:4.0} ns",
            per(c),
            per(l),
            per(l - c),
            per(s),
            per(r)
        );
        drop(heap);
    }
    gc::enable();
}
