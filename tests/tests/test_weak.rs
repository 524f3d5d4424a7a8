//! Weak references with callbacks, `weakref.finalize`, and the weak
//! collections, against CPython's `weakref` behaviour.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use gc_core::weakref::{self, WeakKeyMap, WeakSet, WeakValueMap};
use gc_core::{self as gc, Finalize, FinalizerPolicy, Gc, ReferenceError, Trace, Weak};

type Log = Rc<RefCell<Vec<String>>>;

fn new_log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

fn push(log: &Log, entry: impl Into<String>) -> impl FnOnce() + 'static {
    let (log, entry) = (log.clone(), entry.into());
    move || log.borrow_mut().push(entry)
}

#[derive(Trace)]
struct Node {
    name: &'static str,
    next: RefCell<Option<Gc<Node>>>,
    /// Weak references owned by the node itself.
    weaks: RefCell<Vec<Weak<Node>>>,
}

/// Logs `drop <name>` from a field's destructor (a leaf: may impl `Drop`).
struct DropLog(&'static str, Rc<RefCell<Vec<String>>>);

impl Drop for DropLog {
    fn drop(&mut self) {
        self.1.borrow_mut().push(format!("drop {}", self.0));
    }
}

// SAFETY: owns no Gc.
unsafe impl Trace for DropLog {
    fn trace<V: gc::Tracer>(&self, _tracer: &mut V) {}
}

impl gc_core::TraceMeta for DropLog {
    const TRACKED: bool = false;
}

#[derive(Trace)]
struct Logged {
    next: RefCell<Option<Gc<Logged>>>,
    log: DropLog,
}

fn node(name: &'static str) -> Gc<Node> {
    Gc::new(Node {
        name,
        next: RefCell::new(None),
        weaks: RefCell::new(Vec::new()),
    })
}

fn logged(name: &'static str, log: &Log) -> Gc<Logged> {
    Gc::new(Logged {
        next: RefCell::new(None),
        log: DropLog(name, log.clone()),
    })
}

#[test]
fn callback_runs_on_refcount_death_after_the_weak_is_cleared() {
    let log = new_log();
    let obj = node("a");
    let slot: Rc<RefCell<Option<Weak<Node>>>> = Rc::new(RefCell::new(None));
    let (l, s) = (log.clone(), slot.clone());
    let weak = Gc::downgrade_with(&obj, move || {
        let dead = s.borrow().as_ref().unwrap().upgrade().is_none();
        l.borrow_mut().push(format!("callback sees dead={dead}"));
    });
    *slot.borrow_mut() = Some(weak.clone());
    assert!(weak.is_alive());
    drop(obj);
    assert_eq!(*log.borrow(), ["callback sees dead=true"]);
    assert!(!weak.is_alive());
    assert_eq!(weak.try_upgrade().err(), Some(ReferenceError));
}

#[test]
fn callbacks_run_newest_first_including_finalize_closures() {
    let log = new_log();
    let obj = node("a");
    let _w1 = Gc::downgrade_with(&obj, push(&log, "first"));
    let _f = weakref::finalize(&obj, push(&log, "finalize"));
    let _w3 = Gc::downgrade_with(&obj, push(&log, "third"));
    drop(obj);
    assert_eq!(*log.borrow(), ["third", "finalize", "first"]);
}

#[test]
fn dropping_the_weak_cancels_its_callback_and_a_clone_shares_none() {
    let log = new_log();
    let obj = node("a");
    let weak = Gc::downgrade_with(&obj, push(&log, "cancelled"));
    let clone = weak.clone();
    drop(weak);
    assert_eq!(Gc::weak_count(&obj), 1, "only the clone is left");
    drop(obj);
    assert!(log.borrow().is_empty());
    assert!(!clone.is_alive());
}

#[test]
fn callbacks_run_before_any_destructor_of_a_collected_cycle() {
    gc::collect();
    let log = new_log();
    let a = logged("a", &log);
    let b = logged("b", &log);
    *a.next.borrow_mut() = Some(b.clone());
    *b.next.borrow_mut() = Some(a.clone());
    let (wa, wb) = (
        Gc::downgrade_with(&a, push(&log, "callback a")),
        Gc::downgrade_with(&b, push(&log, "callback b")),
    );
    drop((a, b));
    assert!(log.borrow().is_empty());
    assert_eq!(gc::collect(), 2);
    assert_eq!(
        *log.borrow(),
        ["callback a", "callback b", "drop a", "drop b"]
    );
    assert!(!wa.is_alive() && !wb.is_alive());
}

#[test]
fn a_weak_owned_by_the_dying_cycle_does_not_fire() {
    gc::collect();
    let log = new_log();
    let a = node("a");
    let b = node("b");
    *a.next.borrow_mut() = Some(b.clone());
    *b.next.borrow_mut() = Some(a.clone());
    // Stored inside the cycle: dies with it, never calls back.
    a.weaks
        .borrow_mut()
        .push(Gc::downgrade_with(&b, push(&log, "inner")));
    // Held outside: fires.
    let outer = Gc::downgrade_with(&b, push(&log, "outer"));
    drop((a, b));
    assert_eq!(gc::collect(), 2);
    assert_eq!(*log.borrow(), ["outer"]);
    assert!(!outer.is_alive());
}

#[test]
fn a_weak_in_an_untracked_object_only_the_garbage_refers_to_fires() {
    gc::collect();
    let log = new_log();
    #[derive(Trace)]
    struct Holder {
        other: RefCell<Option<Gc<Holder>>>,
        side: Gc<RefCell<Option<Weak<Holder>>>>,
    }
    let side = Gc::new(RefCell::new(None));
    assert!(!gc::is_tracked(&side));
    let a = Gc::new(Holder {
        other: RefCell::new(None),
        side: side.clone(),
    });
    *a.other.borrow_mut() = Some(a.clone());
    *side.borrow_mut() = Some(Gc::downgrade_with(&a, push(&log, "fired")));
    drop((a, side));
    assert_eq!(gc::collect(), 1);
    assert_eq!(*log.borrow(), ["fired"]);
}

#[test]
fn callbacks_may_allocate_drop_and_collect() {
    gc::collect();
    let log = new_log();
    let keep = Rc::new(RefCell::new(Vec::new()));
    let victim = node("victim");
    let (l, k, v) = (
        log.clone(),
        keep.clone(),
        RefCell::new(Some(victim.clone())),
    );
    let a = node("a");
    *a.next.borrow_mut() = Some(a.clone());
    let _w = Gc::downgrade_with(&a, move || {
        l.borrow_mut()
            .push(format!("nested collect = {}", gc::collect()));
        let fresh = node("fresh");
        *fresh.next.borrow_mut() = Some(fresh.clone());
        k.borrow_mut().push(fresh);
        drop(v.borrow_mut().take()); // drops the last handle but one
    });
    let weak_victim = Gc::downgrade(&victim);
    drop(victim);
    drop(a);
    assert_eq!(gc::collect(), 1);
    assert_eq!(*log.borrow(), ["nested collect = 0"]);
    assert!(
        !weak_victim.is_alive(),
        "the callback dropped the last handle"
    );
    keep.borrow_mut().clear();
    assert_eq!(gc::collect(), 1, "the object the callback made is a cycle");
}

#[test]
fn a_panicking_callback_on_refcount_death_runs_the_rest_and_frees_the_object() {
    let log = new_log();
    let obj = logged("obj", &log);
    let _w1 = Gc::downgrade_with(&obj, push(&log, "older"));
    let _w2 = Gc::downgrade_with(&obj, || panic!("callback panicked"));
    let weak = Gc::downgrade(&obj);
    let err = catch_unwind(AssertUnwindSafe(move || drop(obj))).unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"callback panicked"));
    assert_eq!(*log.borrow(), ["older", "drop obj"]);
    assert!(!weak.is_alive());
    assert_eq!(gc::get_count().0, 0);
}

#[test]
fn a_panicking_callback_in_a_collection_propagates_after_the_collection() {
    gc::collect();
    let log = new_log();
    let a = logged("a", &log);
    *a.next.borrow_mut() = Some(a.clone());
    let _w1 = Gc::downgrade_with(&a, push(&log, "older"));
    let _w2 = Gc::downgrade_with(&a, || panic!("callback panicked"));
    drop(a);
    let err = catch_unwind(gc::collect).unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"callback panicked"));
    assert_eq!(*log.borrow(), ["older", "drop a"]);
    assert!(gc::get_objects(None).is_empty());
    assert_eq!(gc::collect(), 0);
}

#[test]
fn a_weak_made_by_a_finalizer_to_an_object_then_freed_is_cleared_first() {
    gc::collect();
    gc::set_finalizer_policy(FinalizerPolicy::Finalize);
    thread_local!(static MADE: RefCell<Vec<Weak<Fin>>> = const { RefCell::new(Vec::new()) });
    #[derive(Trace)]
    #[gc(finalize)]
    struct Fin {
        me: RefCell<Option<Gc<Fin>>>,
        log: DropLog,
        seen: Log,
    }
    impl Finalize for Fin {
        fn finalize(&self) {
            let me = self.me.borrow().clone().unwrap();
            let seen = self.seen.clone();
            let weak =
                Gc::downgrade_with(&me, move || seen.borrow_mut().push("late callback".into()));
            MADE.with(|m| m.borrow_mut().push(weak));
        }
    }
    let log = new_log();
    let f = Gc::new(Fin {
        me: RefCell::new(None),
        log: DropLog("fin", log.clone()),
        seen: log.clone(),
    });
    *f.me.borrow_mut() = Some(f.clone());
    drop(f);
    assert_eq!(gc::collect(), 1);
    assert_eq!(*log.borrow(), ["late callback", "drop fin"]);
    MADE.with(|m| assert!(!m.borrow()[0].is_alive()));
    MADE.with(|m| m.borrow_mut().clear());
}

#[test]
fn weak_debug_matches_python() {
    let obj = node("a");
    let weak = Gc::downgrade(&obj);
    let text = format!("{weak:?}");
    assert!(text.starts_with("<weakref at 0x"), "{text}");
    assert!(
        text.ends_with(&format!("; to 'Node' at {:#x}>", Gc::id(&obj))),
        "{text}"
    );
    drop(obj);
    let text = format!("{weak:?}");
    assert!(
        text.starts_with("<weakref at 0x") && text.ends_with("; dead>"),
        "{text}"
    );
    assert_eq!(
        format!("{:?}", Weak::<Node>::new()).rsplit("; ").next(),
        Some("dead>")
    );
    assert_eq!(obj_name(&weak), None);
}

fn obj_name(weak: &Weak<Node>) -> Option<&'static str> {
    weak.upgrade().map(|n| n.name)
}

#[test]
fn finalize_handle_alive_detach_call() {
    let log = new_log();
    let obj = node("a");
    let f1 = weakref::finalize(&obj, push(&log, "f1"));
    let f2 = weakref::finalize(&obj, push(&log, "f2"));
    let f3 = weakref::finalize(&obj, push(&log, "f3"));
    assert!(f1.alive() && f2.alive() && f3.alive());
    assert!(f2.detach());
    assert!(!f2.detach() && !f2.alive());
    assert!(f3.call());
    assert!(!f3.call() && !f3.alive());
    assert_eq!(*log.borrow(), ["f3"]);
    drop(f1); // dropping the handle does not cancel it
    drop(obj);
    assert_eq!(*log.borrow(), ["f3", "f1"]);
}

#[derive(Trace)]
struct Item(u32);

/// Churn sizes: thousands of members natively, fewer under Miri.
#[cfg(not(miri))]
const CHURN: u32 = 3000;
#[cfg(miri)]
const CHURN: u32 = 150;

#[test]
fn weak_set_tracks_deaths_by_refcount_and_by_collection() {
    gc::collect();
    let mut set = WeakSet::new();
    let items: Vec<Gc<Item>> = (0..CHURN).map(|i| Gc::new(Item(i))).collect();
    for item in &items {
        assert!(set.insert(item));
        assert!(!set.insert(item));
    }
    assert_eq!(set.len(), CHURN as usize);
    let mut items = items;
    let kept = CHURN as usize * 2 / 5;
    items.truncate(kept);
    assert_eq!(set.len(), kept);
    assert_eq!(set.iter().count(), kept);
    assert!(items.iter().all(|i| set.contains(i)));
    // Members dying in a collection: cycles of nodes.
    let mut nodes = WeakSet::new();
    let cycles = CHURN as usize / 10;
    for _ in 0..cycles {
        let n = node("n");
        *n.next.borrow_mut() = Some(n.clone());
        nodes.insert(&n);
    }
    assert_eq!(nodes.len(), cycles);
    assert_eq!(gc::collect(), cycles);
    assert_eq!(nodes.len(), 0);
    assert!(nodes.is_empty() && nodes.iter().next().is_none());
    nodes.purge();
    assert!(set.remove(&items[0]));
    assert!(!set.remove(&items[0]));
    assert_eq!(set.len(), kept - 1);
    set.clear();
    assert!(set.is_empty() && !set.contains(&items[1]));
}

#[test]
fn weak_value_map_as_a_cache() {
    let mut cache: WeakValueMap<String, Item> = WeakValueMap::new();
    let mut alive = Vec::new();
    for i in 0..CHURN {
        let item = Gc::new(Item(i));
        assert!(cache.insert(format!("k{i}"), &item).is_none());
        if i % 3 == 0 {
            alive.push(item);
        }
    }
    assert_eq!(cache.len(), alive.len());
    assert_eq!(cache.iter().count(), alive.len());
    assert!(cache.contains_key(&"k3".to_string()));
    assert!(!cache.contains_key(&"k4".to_string()));
    assert_eq!(cache.get(&"k3".to_string()).map(|g| g.0), Some(3));
    assert!(cache.get(&"k4".to_string()).is_none());
    // Replacing a live value returns it; the count is unchanged.
    let replacement = Gc::new(Item(99));
    assert_eq!(
        cache.insert("k3".into(), &replacement).map(|g| g.0),
        Some(3)
    );
    assert_eq!(cache.len(), alive.len());
    assert_eq!(cache.remove(&"k3".to_string()).map(|g| g.0), Some(99));
    assert_eq!(cache.len(), alive.len() - 1);
    alive.clear();
    assert!(cache.is_empty());
    cache.purge();
    assert_eq!(cache.iter().count(), 0);
}

#[test]
fn weak_key_map_values_are_reclaimed_at_the_next_mutation() {
    let log = new_log();
    let mut map = WeakKeyMap::new();
    let k1 = Gc::new(Item(1));
    let k2 = Gc::new(Item(2));
    map.insert(&k1, DropLog("v1", log.clone()));
    assert!(map.insert(&k2, DropLog("v2", log.clone())).is_none());
    assert!(map.insert(&k2, DropLog("v2b", log.clone())).is_some());
    assert_eq!(*log.borrow(), ["drop v2"]);
    assert_eq!(map.get(&k1).map(|v| v.0), Some("v1"));
    drop(k1);
    // Gone at once from len/get/iter...
    assert_eq!(map.len(), 1);
    assert_eq!(map.iter().map(|(k, _)| k.0).collect::<Vec<_>>(), [2]);
    // ...but the value is dropped only at the next `&mut self` call.
    assert_eq!(*log.borrow(), ["drop v2"]);
    map.purge();
    assert_eq!(*log.borrow(), ["drop v2", "drop v1"]);
    assert!(map.contains_key(&k2));
    assert_eq!(map.remove(&k2).map(|v| v.0), Some("v2b"));
    assert!(map.is_empty());
}

#[test]
fn weak_collections_inside_a_collected_cycle() {
    gc::collect();
    #[derive(Trace)]
    struct Registry {
        me: RefCell<Option<Gc<Registry>>>,
        members: RefCell<WeakSet<Item>>,
        names: RefCell<WeakValueMap<String, Registry>>,
        notes: RefCell<WeakKeyMap<Item, Gc<Registry>>>,
    }
    let item = Gc::new(Item(1));
    let r = Gc::new(Registry {
        me: RefCell::new(None),
        members: RefCell::new(WeakSet::new()),
        names: RefCell::new(WeakValueMap::new()),
        notes: RefCell::new(WeakKeyMap::new()),
    });
    *r.me.borrow_mut() = Some(r.clone());
    r.members.borrow_mut().insert(&item);
    r.names.borrow_mut().insert("self".into(), &r);
    // A strong value in a WeakKeyMap is an edge: r -> r.
    r.notes.borrow_mut().insert(&item, r.clone());
    let edges: Vec<String> = Gc::to_object(&r)
        .edges()
        .into_iter()
        .map(|(l, _)| l)
        .collect();
    assert_eq!(edges, ["me", "notes[0].value"]);
    drop(r);
    assert_eq!(gc::collect(), 1);
    drop(item);
}

/// A symbol interner looks its `String` keys up by `&str`, as `HashMap`
/// does: no allocation per lookup, and `remove`/`contains_key` the same.
#[test]
fn weak_value_map_lookups_take_borrowed_keys() {
    let mut interner: WeakValueMap<String, String> = WeakValueMap::new();
    let lambda = Gc::new(String::from("lambda"));
    let define = Gc::new(String::from("define"));
    interner.insert("lambda".to_string(), &lambda);
    interner.insert("define".to_string(), &define);
    let key: &str = "lambda";
    assert!(Gc::ptr_eq(&interner.get(key).unwrap(), &lambda));
    assert!(interner.contains_key("define"));
    assert!(!interner.contains_key("if"));
    assert!(interner.get("if").is_none());
    assert_eq!(
        interner.remove("define").as_deref().map(String::as_str),
        Some("define")
    );
    assert_eq!(interner.len(), 1);
    drop(lambda);
    assert!(
        !interner.contains_key("lambda"),
        "a dead value is not found"
    );

    // Boxed-slice keys, looked up by the slice.
    let mut by_path: WeakValueMap<Box<[u8]>, u32> = WeakValueMap::new();
    let v = Gc::new(3);
    by_path.insert(vec![1, 2].into_boxed_slice(), &v);
    assert_eq!(by_path.get(&[1u8, 2][..]).as_deref(), Some(&3));
}

// ---------------------------------------------------------------------------
// Ephemerons: a `WeakKeyMap` value never keeps its own key alive.

#[derive(Trace)]
struct Registry {
    meta: RefCell<WeakKeyMap<Node, Gc<Node>>>,
}

/// The map lives in an old object that a young collection does not
/// examine: the table is a root of that collection, and the key, young and
/// held only by its own value, is still found dead.
#[test]
fn a_young_collection_kills_a_self_referring_key_of_an_old_map() {
    gc::collect();
    let registry = Gc::new(Registry {
        meta: RefCell::new(WeakKeyMap::new()),
    });
    gc::collect(); // the registry is old now, and its map registered
    assert_eq!(gc::get_count().0, 0);
    let key = node("key");
    registry.meta.borrow_mut().insert(&key, key.clone());
    let weak = Gc::downgrade(&key);
    drop(key);
    gc::collect_generation(0);
    assert!(registry.meta.borrow().is_empty(), "the entry died");
    assert!(weak.upgrade().is_some(), "the value still holds the key");
    registry.meta.borrow_mut().purge();
    assert!(weak.upgrade().is_none(), "dropping the value freed the key");
}

/// A key reachable from outside keeps its entry, and its value keeps what
/// it refers to, across any number of collections.
#[test]
fn a_key_reachable_from_outside_keeps_its_value() {
    let mut map: WeakKeyMap<Node, Gc<Node>> = WeakKeyMap::traced();
    let key = node("key");
    let payload = node("payload");
    *payload.next.borrow_mut() = Some(key.clone()); // a cycle through the key
    map.insert(&key, payload.clone());
    let weak_payload = Gc::downgrade(&payload);
    drop(payload);
    for _ in 0..3 {
        gc::collect();
    }
    assert_eq!(map.len(), 1);
    let value = map.get(&key).expect("the entry lives");
    assert_eq!(value.name, "payload");
    assert!(weak_payload.upgrade().is_some());
    drop(key);
    gc::collect(); // now the key is held only through the map's value
    assert!(map.is_empty());
    map.purge();
    gc::collect(); // the payload-key cycle is ordinary garbage now
    assert!(weak_payload.upgrade().is_none());
}

/// objgraph's roots: the values of a map inside the heap are references
/// from the heap, those of a map on the stack are held from outside it.
#[test]
fn objgraph_sees_heap_map_values_as_internal_and_stack_map_values_as_roots() {
    use gc_core::objgraph::is_root;
    let registry = Gc::new(Registry {
        meta: RefCell::new(WeakKeyMap::new()),
    });
    let key = node("key");
    let in_heap = node("in heap");
    registry.meta.borrow_mut().insert(&key, in_heap.clone());
    let mut stack: WeakKeyMap<Node, Gc<Node>> = WeakKeyMap::traced();
    let on_stack = node("on stack");
    stack.insert(&key, on_stack.clone());
    // `Object` handles are introspection's own: `is_root` does not count
    // them.
    let (in_heap_gc, on_stack_gc) = (in_heap, on_stack);
    let in_heap = Gc::to_object(&in_heap_gc);
    let on_stack = Gc::to_object(&on_stack_gc);
    drop((in_heap_gc, on_stack_gc));
    gc::collect(); // registers the registry's map
    assert!(
        !is_root(&in_heap),
        "held by the registry's map, in the heap"
    );
    assert!(is_root(&on_stack), "held by a map outside the heap");
    // `roots()` finds the same in one counting pass, which counts the
    // values of the maps the heap owns.
    let roots = gc_core::objgraph::roots();
    assert!(!roots.contains(&in_heap));
    assert!(roots.contains(&on_stack));
    drop((registry, stack, key));
}

/// Introspection (and so the graphs and heap snapshots) sees a map's keys
/// as weak edges and its values as the owner's strong edges, labelled by
/// the entry.
#[test]
fn introspection_labels_a_map_entry_key_and_value() {
    let registry = Gc::new(Registry {
        meta: RefCell::new(WeakKeyMap::new()),
    });
    let key = node("key");
    let value = node("value");
    registry.meta.borrow_mut().insert(&key, value.clone());
    let edges: Vec<(String, gc_core::Object)> = Gc::to_object(&registry).edges();
    assert_eq!(edges.len(), 1, "the key is weak: {edges:?}");
    assert_eq!(edges[0].0, "meta[0].value");
    assert_eq!(edges[0].1, Gc::to_object(&value));
}
