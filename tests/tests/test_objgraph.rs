//! Leak hunting: `gc_core::objgraph`'s counters, growth tables, exact
//! roots, chain searches and Graphviz output (golden files
//! `tests/golden/*.gv`, the node ids normalised to `o1`, `o2`, ...;
//! regenerate them with `UPDATE_GOLDEN=1`).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use gc_core::objgraph::{self, GraphOptions, is_root};
use gc_core::{self as gc, Finalize, Gc, Object, Trace};

// ---------------------------------------------------------------------------
// Types

/// A graph node with any number of strong edges.
#[derive(Trace)]
struct Node {
    name: &'static str,
    edges: RefCell<Vec<Gc<Node>>>,
}

fn node(name: &'static str) -> Gc<Node> {
    Gc::new(Node {
        name,
        edges: RefCell::new(Vec::new()),
    })
}

fn link(from: &Gc<Node>, to: &Gc<Node>) {
    from.edges.borrow_mut().push(to.clone());
}

/// Empties every node's edges: breaks all cycles among `nodes`.
fn unlink_all(nodes: &[Gc<Node>]) {
    for n in nodes {
        n.edges.borrow_mut().clear();
    }
}

mod other {
    /// Same short name as `super::Node`, another type.
    #[derive(gc_core::Trace)]
    pub struct Node(pub Option<gc_core::Gc<Node>>);
}

/// A registry with its entries in a `Vec` and in a `HashMap`.
#[derive(Trace)]
struct Registry {
    list: RefCell<Vec<Gc<Holder>>>,
    map: RefCell<HashMap<String, Gc<Holder>>>,
}

#[derive(Trace)]
struct Holder {
    item: RefCell<Option<Gc<Node>>>,
}

/// Untracked (its only `Gc` is skipped), yet it holds a node.
#[derive(Trace)]
struct Opaque {
    #[gc(skip)]
    inner: Gc<Node>,
}

/// A node whose type has a finalizer (Python's `__del__`).
#[derive(Trace)]
#[gc(finalize)]
struct Closing {
    next: RefCell<Option<Gc<Closing>>>,
}

impl Finalize for Closing {
    fn finalize(&self) {}
}

// The golden heap: a document, its sections (which point back at it), an
// enum field, untracked strings and a finalizer.

#[derive(Trace)]
struct Doc {
    title: &'static str,
    sections: RefCell<Vec<Gc<Section>>>,
    meta: Option<Gc<Meta>>,
}

#[derive(Trace)]
struct Section {
    doc: RefCell<Option<Gc<Doc>>>,
    body: Body,
}

#[derive(Trace)]
enum Body {
    Empty,
    Text { words: Gc<Words> },
}

#[derive(Trace)]
struct Words(Vec<Gc<String>>);

#[derive(Trace)]
#[gc(finalize)]
struct Meta(Gc<String>);

impl Finalize for Meta {
    fn finalize(&self) {}
}

/// Only the document is held by the test (a root); everything else hangs
/// from it.
struct GoldenHeap {
    doc: Gc<Doc>,
}

impl GoldenHeap {
    fn new() -> GoldenHeap {
        gc::collect();
        let words = Gc::new(Words(vec![
            Gc::new(String::from("hello")),
            Gc::new(String::from("world")),
        ]));
        let doc = Gc::new(Doc {
            title: "golden",
            sections: RefCell::new(Vec::new()),
            meta: Some(Gc::new(Meta(Gc::new(String::from("author"))))),
        });
        for body in [Body::Text { words }, Body::Empty] {
            let section = Gc::new(Section {
                doc: RefCell::new(Some(doc.clone())),
                body,
            });
            doc.sections.borrow_mut().push(section);
        }
        GoldenHeap { doc }
    }

    /// The string "hello": `doc.sections[0].body.Text.words.0[0]`.
    fn hello(&self) -> Object {
        let sections = self.doc.sections.borrow();
        let Body::Text { words } = &sections[0].body else {
            unreachable!("the first section has text")
        };
        Gc::to_object(&words.0[0])
    }
}

impl Drop for GoldenHeap {
    fn drop(&mut self) {
        // Break the doc <-> section cycles, so reference counting frees
        // everything (the `Uncollectable` policy would otherwise keep the
        // finalizer object `Meta` in `gc.garbage`).
        for section in self.doc.sections.borrow().iter() {
            *section.doc.borrow_mut() = None;
        }
    }
}

// ---------------------------------------------------------------------------
// Helpers

fn obj<T: 'static>(gc: &Gc<T>) -> Object {
    Gc::to_object(gc)
}

fn ids(objects: &[Object]) -> Vec<usize> {
    objects.iter().map(Object::id).collect()
}

fn names(chain: &[Object]) -> Vec<String> {
    chain.iter().map(Object::short_type_name).collect()
}

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

/// Replaces each distinct `o<digits>` node id (an address) by `o1`, `o2`,
/// ... in order of first appearance, so graphs compare across runs.
fn normalise(dot: &str) -> String {
    let mut out = String::with_capacity(dot.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    let bytes = dot.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let starts_id = bytes[i] == b'o'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric());
        if starts_id {
            let end = (i + 1..bytes.len())
                .find(|&j| !bytes[j].is_ascii_digit())
                .unwrap_or(bytes.len());
            let next = seen.len() + 1;
            let n = *seen.entry(dot[i + 1..end].to_owned()).or_insert(next);
            out.push_str(&format!("o{n}"));
            i = end;
        } else {
            out.push(bytes[i] as char);
            i += 1;
        }
    }
    out
}

/// Compares a graph with `tests/golden/<name>` after normalising its ids;
/// `UPDATE_GOLDEN=1` rewrites the file instead.
fn assert_golden(name: &str, expected: &str, actual: &str) {
    let actual = normalise(actual);
    #[cfg(not(miri))]
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(name);
        std::fs::write(path, &actual).unwrap();
        return;
    }
    assert_eq!(
        actual, expected,
        "{name} differs; if the change is intended, rerun with UPDATE_GOLDEN=1"
    );
}

fn lines_with<'a>(dot: &'a str, needle: &str) -> Vec<&'a str> {
    dot.lines().filter(|l| l.contains(needle)).collect()
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
    assert_eq!(chain_labels(&chain), ["map[0].value", "item"]);

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

// ---------------------------------------------------------------------------
// Graphs

const GOLDEN_REFS: &str = include_str!("golden/objgraph_refs.gv");
const GOLDEN_BACKREFS: &str = include_str!("golden/objgraph_backrefs.gv");
const GOLDEN_CHAIN: &str = include_str!("golden/objgraph_chain.gv");
const GOLDEN_CYCLE: &str = include_str!("golden/objgraph_cycle.gv");

#[test]
fn show_refs_golden() {
    let heap = GoldenHeap::new();
    let options = GraphOptions {
        refcounts: true,
        highlight: Some(Box::new(|o| o.is::<Words>())),
        ..GraphOptions::default()
    };
    let dot = objgraph::show_refs(&[obj(&heap.doc)], &options).unwrap();
    assert_golden("objgraph_refs.gv", GOLDEN_REFS, &dot);
    // Deterministic for the same heap.
    assert_eq!(
        objgraph::show_refs(&[obj(&heap.doc)], &options).unwrap(),
        dot
    );
}

#[test]
fn show_backrefs_golden() {
    let heap = GoldenHeap::new();
    let hello = heap.hello();
    let options = GraphOptions {
        max_depth: 4, // up to the doc's other section
        ..GraphOptions::default()
    };
    let dot = objgraph::show_backrefs(&[hello], &options).unwrap();
    assert_golden("objgraph_backrefs.gv", GOLDEN_BACKREFS, &dot);
}

#[test]
fn show_chain_golden() {
    let heap = GoldenHeap::new();
    let hello = heap.hello();
    let chain = objgraph::find_backref_chain(&hello, is_root, 20);
    assert_eq!(names(&chain), ["Doc", "Section", "Words", "String"]);
    let options = GraphOptions {
        max_depth: 1, // ignored: the chain sets the depth
        ..GraphOptions::default()
    };
    let dot = objgraph::show_chain(&chain, &options).unwrap();
    assert_golden("objgraph_chain.gv", GOLDEN_CHAIN, &dot);
    // The second section, also a referrer of the doc, is not drawn.
    let second = Gc::to_object(&heap.doc.sections.borrow()[1]);
    assert!(!dot.contains(&format!("o{}", second.id())));
    // An empty chain: an empty graph.
    assert_eq!(
        objgraph::show_chain(&[], &GraphOptions::default()).unwrap(),
        "digraph ObjectGraph {\n  node[shape=box, style=filled, fillcolor=white];\n}\n"
    );
}

mod seed {
    use std::cell::RefCell;

    use gc_core::{Gc, Trace};

    /// The seed's (and the README's) node: `a.other = b; b.other = a`.
    #[derive(Trace)]
    pub struct Node {
        pub name: String,
        pub other: RefCell<Option<Gc<Node>>>,
    }

    pub fn node(name: &str) -> Gc<Node> {
        Gc::new(Node {
            name: name.to_owned(),
            other: RefCell::new(None),
        })
    }
}

/// The seed's two-object cycle, as `show_backrefs([a])` draws it while
/// the program still holds `a` and `b` (both roots, so green).
#[test]
fn show_backrefs_of_the_seed_cycle_golden() {
    gc::collect();
    let a = seed::node("a");
    let b = seed::node("b");
    *a.other.borrow_mut() = Some(b.clone());
    *b.other.borrow_mut() = Some(a.clone());
    let dot = objgraph::show_backrefs(&[obj(&a)], &GraphOptions::default()).unwrap();
    let (a_id, b_id) = (Gc::id(&a), Gc::id(&b));
    assert!(dot.contains(&format!("  o{b_id} -> o{a_id} [label=\"other\"];\n")));
    assert!(dot.contains(&format!("  o{a_id} -> o{b_id} [label=\"other\"];\n")));
    assert_golden("objgraph_cycle.gv", GOLDEN_CYCLE, &dot);
    assert_eq!(b.name, "b");
    drop((a, b));
    assert_eq!(gc::collect(), 2);
}

#[test]
fn too_many_summarises_the_extra_neighbours() {
    gc::collect();
    let hub = node("hub");
    let children: Vec<Gc<Node>> = (0..15).map(|_| node("child")).collect();
    for child in &children {
        link(&hub, child);
        link(child, &hub);
    }
    let options = GraphOptions {
        max_depth: 1,
        ..GraphOptions::default()
    };
    let hub_id = format!("o{}", Gc::id(&hub));

    let dot = objgraph::show_refs(&[obj(&hub)], &options).unwrap();
    assert_eq!(lines_with(&dot, &format!("  {hub_id} -> ")).len(), 10);
    assert_eq!(
        lines_with(&dot, "too_many_"),
        [
            format!("  {hub_id}->too_many_{hub_id}[color=red,style=dotted,len=0.25,weight=10];")
                .as_str(),
            format!(
                "  too_many_{hub_id}[label=\"5 more references\",shape=box,height=0.25,\
                 color=red,fillcolor=\"0,1,0.3\",fontsize=6];"
            )
            .as_str(),
            format!("  too_many_{hub_id}[fontcolor=white];").as_str(),
        ]
    );
    // Edges to the first ten children, in trace order.
    for (i, child) in children.iter().take(10).enumerate() {
        let line = format!("  {hub_id} -> o{} [label=\"edges[{i}]\"];", Gc::id(child));
        assert!(dot.contains(&line), "missing {line}");
    }

    let options = GraphOptions {
        max_depth: 2,
        too_many: 4,
        ..GraphOptions::default()
    };
    let dot = objgraph::show_backrefs(&[obj(&hub)], &options).unwrap();
    assert!(dot.contains(&format!(
        "  too_many_{hub_id}->{hub_id}[color=red,style=dotted,len=0.25,weight=10];"
    )));
    assert!(dot.contains("[label=\"11 more backreferences\",shape=box,height=0.25,color=red,fillcolor=\"0,1,0.65\",fontsize=6];"));
    unlink_all(&[hub]);
}

#[test]
fn max_depth_stops_the_expansion() {
    gc::collect();
    // head -> n1 -> ... -> n5; only `head` is held by the program.
    let head = node("head");
    let mut ids = vec![Gc::id(&head)];
    let mut last = head.clone();
    for _ in 0..5 {
        let next = node("link");
        link(&last, &next);
        ids.push(Gc::id(&next));
        last = next;
    }
    let tail = obj(&last);
    drop(last);
    let count_nodes = |dot: &str| lines_with(dot, "[label=\"Node\\n").len();
    for max_depth in 0..=6 {
        let options = GraphOptions {
            max_depth,
            ..GraphOptions::default()
        };
        let dot = objgraph::show_refs(&[obj(&head)], &options).unwrap();
        assert_eq!(
            count_nodes(&dot),
            (max_depth + 1).min(6),
            "max_depth {max_depth}"
        );
        let dot = objgraph::show_backrefs(std::slice::from_ref(&tail), &options).unwrap();
        assert_eq!(
            count_nodes(&dot),
            (max_depth + 1).min(6),
            "max_depth {max_depth}"
        );
    }
    // Shading by depth: white, then grey down to `0,0,0.3` (white text) at
    // max_depth; the root `head` is green.
    let options = GraphOptions {
        max_depth: 2,
        ..GraphOptions::default()
    };
    let dot = objgraph::show_refs(&[obj(&head)], &options).unwrap();
    let fill = |id: usize| {
        let mut lines = lines_with(&dot, &format!("  o{id}[fillcolor"));
        lines.extend(lines_with(&dot, &format!("  o{id}[fontcolor=white")));
        lines.join("\n")
    };
    assert_eq!(
        fill(ids[0]),
        format!("  o{}[fillcolor=\"0.3,1,1\"];", ids[0])
    );
    assert_eq!(
        fill(ids[1]),
        format!("  o{}[fillcolor=\"0,0,0.65\"];", ids[1])
    );
    assert_eq!(
        fill(ids[2]),
        format!(
            "  o{0}[fillcolor=\"0,0,0.3\"];\n  o{0}[fontcolor=white];",
            ids[2]
        )
    );
    assert_eq!(fill(ids[3]), "", "beyond max_depth");
}

#[test]
fn finalizers_get_the_del_marker() {
    gc::collect();
    let a = Gc::new(Closing {
        next: RefCell::new(None),
    });
    let b = Gc::new(Closing {
        next: RefCell::new(Some(a.clone())),
    });
    *a.next.borrow_mut() = Some(b.clone());
    let plain = node("plain");
    let dot = objgraph::show_refs(&[obj(&a), obj(&plain)], &GraphOptions::default()).unwrap();
    for id in [Gc::id(&a), Gc::id(&b)] {
        assert!(dot.contains(&format!(
            "  o{id}->o{id}_has_a_del[color=red,style=dotted,len=0.25,weight=10];\n  \
             o{id}_has_a_del[label=\"__del__\",shape=doublecircle,height=0.25,color=red,\
             fillcolor=\"0,.5,1\",fontsize=6];\n"
        )));
    }
    assert!(!dot.contains(&format!("o{}_has_a_del", Gc::id(&plain))));
    assert_eq!(lines_with(&dot, "_has_a_del[label").len(), 2);
    // Break the cycle: under the default `Uncollectable` policy a garbage
    // cycle with finalizers would stay in `gc.garbage`.
    a.next.borrow_mut().take();
    drop((a, b));
    assert_eq!(gc::collect(), 0);
    assert!(gc::take_garbage().is_empty());
}

#[test]
fn filter_extra_ignore_highlight_refcounts_and_shortnames() {
    gc::collect();
    let hub = node("hub");
    let keep = node("keep");
    let skip = node("skip");
    let ignored = node("ignored");
    for n in [&keep, &skip, &ignored] {
        link(&hub, n);
    }
    let keep_id = Gc::id(&keep);
    let options = GraphOptions {
        filter: Some(Box::new(|o| {
            o.downcast::<Node>().is_some_and(|n| n.name != "skip")
        })),
        extra_ignore: vec![Gc::id(&ignored)],
        highlight: Some(Box::new(move |o| o.id() == keep_id)),
        refcounts: true,
        shortnames: false,
        ..GraphOptions::default()
    };
    let dot = objgraph::show_refs(&[obj(&hub)], &options).unwrap();
    let full = std::any::type_name::<Node>();
    let hub_id = Gc::id(&hub);
    // hub: the local `hub`, so [1] and a root; keep: the local and hub's edge.
    assert!(dot.contains(&format!("  o{hub_id}[label=\"{full} [1]\\n3 edges\"];\n")));
    assert!(dot.contains(&format!("  o{hub_id}[fillcolor=\"0.3,1,1\"];\n")));
    assert!(dot.contains(&format!("  o{keep_id}[label=\"{full} [2]\\n0 edges\"];\n")));
    // Highlighted (blue) wins over root (green); v = 0.5 + 0.766667 / 2.
    assert!(dot.contains(&format!("  o{keep_id}[fillcolor=\"0.6,0.6,0.883333\"];\n")));
    assert!(!dot.contains(&format!("o{}", Gc::id(&skip))));
    assert!(!dot.contains(&format!("o{}", Gc::id(&ignored))));
    // Filtered neighbours do not count towards too_many either.
    let options = GraphOptions {
        too_many: 1,
        filter: Some(Box::new(|o| {
            o.downcast::<Node>().is_some_and(|n| n.name != "skip")
        })),
        ..GraphOptions::default()
    };
    let dot = objgraph::show_refs(&[obj(&hub)], &options).unwrap();
    assert!(dot.contains("[label=\"1 more references\""));
    // Start objects are never filtered; each gets red text.
    let options = GraphOptions {
        filter: Some(Box::new(|_| false)),
        ..GraphOptions::default()
    };
    let dot = objgraph::show_refs(&[obj(&hub), obj(&skip)], &options).unwrap();
    assert_eq!(lines_with(&dot, "[fontcolor=red]").len(), 2);
    assert_eq!(lines_with(&dot, " -> ").len(), 0);
}

#[test]
fn several_edges_between_two_objects_are_drawn_once_with_all_labels() {
    gc::collect();
    let a = node("a");
    let b = node("b");
    link(&a, &b);
    link(&a, &b);
    let dot = objgraph::show_refs(&[obj(&a)], &GraphOptions::default()).unwrap();
    let edges = lines_with(&dot, " -> ");
    assert_eq!(
        edges,
        [format!(
            "  o{} -> o{} [label=\"edges[0], edges[1]\"];",
            Gc::id(&a),
            Gc::id(&b)
        )
        .as_str()]
    );
    let dot = objgraph::show_backrefs(&[obj(&b)], &GraphOptions::default()).unwrap();
    assert_eq!(lines_with(&dot, " -> "), edges);
}

#[test]
#[cfg_attr(miri, ignore = "Miri's isolation forbids files")]
fn a_dot_filename_gets_the_source() {
    gc::collect();
    let a = node("a");
    let dir = std::env::temp_dir().join(format!("gc-objgraph-dot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("graph.dot");
    let options = GraphOptions {
        filename: Some(path.clone()),
        ..GraphOptions::default()
    };
    let dot = objgraph::show_refs(&[obj(&a)], &options).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), dot);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot run Graphviz")]
fn renders_svg_with_graphviz_when_installed() {
    let installed = std::process::Command::new("dot")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        eprintln!("note: Graphviz `dot` is not installed; skipping the SVG rendering test");
        return;
    }
    let heap = GoldenHeap::new();
    let dir = std::env::temp_dir().join(format!("gc-objgraph-svg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("refs.svg");
    let options = GraphOptions {
        filename: Some(svg.clone()),
        refcounts: true,
        ..GraphOptions::default()
    };
    let dot = objgraph::show_refs(&[obj(&heap.doc)], &options).unwrap();
    let image = std::fs::read_to_string(&svg).unwrap();
    assert!(image.contains("<svg"), "not an SVG: {image:.200}");
    assert!(
        image.contains("body.Text.words"),
        "edge labels are rendered"
    );
    assert!(image.contains("__del__"));
    assert_eq!(std::fs::read_to_string(dir.join("refs.dot")).unwrap(), dot);
    std::fs::remove_dir_all(&dir).unwrap();
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
/// `cargo test --release -p gc-tests --test test_objgraph -- --ignored --nocapture`.
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
