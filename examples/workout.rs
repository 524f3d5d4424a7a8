//! Every feature of gc-core over a million objects, for memory checkers.
//!
//! This is the binary CI runs under valgrind
//! (`valgrind --leak-check=full --errors-for-leak-kinds=definite
//! --error-exitcode=1`): acyclic objects, cycles freed by `collect()` and by
//! automatic collection in all three generations, a 100,000-object chain
//! (the trashcan), finalizers under both policies, resurrection, `SAVEALL`,
//! weak references with callbacks, `weakref::finalize` and the three weak
//! collections, `freeze`, a `RefCell` mutably borrowed during a collection,
//! collection callbacks, a captured debug writer, panics out of
//! destructors, finalizers and callbacks, introspection and objgraph, and
//! objects still alive when a thread exits.
//!
//! Every object counts its creation and its drop; the program ends with
//! every object freed (`created == dropped`) and nothing leaked on purpose,
//! so a memory checker must report no definite leak and no invalid access.
//! Peak live memory stays small: the million objects are allocated a few
//! hundred at a time.
//!
//! Run with `cargo run --release --example workout`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io::Write;
use std::panic::{self, AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

use gc_core::objgraph::{self, GraphOptions, is_root};
use gc_core::weakref::{self, WeakKeyMap, WeakSet, WeakValueMap};
use gc_core::{
    self as gc, CollectionInfo, DebugFlags, Finalize, FinalizerPolicy, Gc, Object, Phase, Trace,
    Weak,
};

// Process-wide counters: objects of the spawned thread die during its
// thread-local destruction, where only statics can still be counted.
static CREATED: AtomicUsize = AtomicUsize::new(0);
static DROPPED: AtomicUsize = AtomicUsize::new(0);
static FINALIZED: AtomicUsize = AtomicUsize::new(0);
static WEAK_CALLBACKS: AtomicUsize = AtomicUsize::new(0);

fn created() -> usize {
    CREATED.load(Relaxed)
}

fn dropped() -> usize {
    DROPPED.load(Relaxed)
}

fn live() -> usize {
    created() - dropped()
}

fn finalized() -> usize {
    FINALIZED.load(Relaxed)
}

fn weak_callbacks() -> usize {
    WEAK_CALLBACKS.load(Relaxed)
}

/// Counts one creation when made and one drop when dropped. A field of
/// every object type below (the derive refuses `Drop` on the traced type
/// itself, not on its fields).
struct Tally;

impl Tally {
    fn new() -> Tally {
        CREATED.fetch_add(1, Relaxed);
        Tally
    }
}

impl Drop for Tally {
    fn drop(&mut self) {
        DROPPED.fetch_add(1, Relaxed);
    }
}

/// Panics when dropped while armed: a destructor that fails.
struct Boom(bool);

impl Drop for Boom {
    fn drop(&mut self) {
        if self.0 {
            panic!("Boom dropped");
        }
    }
}

/// The general-purpose object: links, children, a payload.
#[derive(Trace)]
struct Node {
    #[gc(skip)]
    _tally: Tally,
    value: u64,
    next: RefCell<Option<Gc<Node>>>,
    kids: RefCell<Vec<Gc<Node>>>,
    #[gc(skip)]
    _boom: Boom,
}

impl Node {
    fn new(value: u64) -> Gc<Node> {
        Gc::new(Node {
            _tally: Tally::new(),
            value,
            next: RefCell::new(None),
            kids: RefCell::new(Vec::new()),
            _boom: Boom(false),
        })
    }

    fn with_next(value: u64, next: Option<Gc<Node>>) -> Gc<Node> {
        Gc::new(Node {
            _tally: Tally::new(),
            value,
            next: RefCell::new(next),
            kids: RefCell::new(Vec::new()),
            _boom: Boom(false),
        })
    }

    fn bomb(value: u64) -> Gc<Node> {
        Gc::new(Node {
            _tally: Tally::new(),
            value,
            next: RefCell::new(None),
            kids: RefCell::new(Vec::new()),
            _boom: Boom(true),
        })
    }

    fn link(&self, next: &Gc<Node>) {
        *self.next.borrow_mut() = Some(next.clone());
    }
}

/// A ring of `n` nodes with no outside handle: garbage for the collector.
fn ring(n: usize, value: u64) -> Weak<Node> {
    let first = Node::new(value);
    let mut last = first.clone();
    for i in 1..n {
        let node = Node::new(value + i as u64);
        last.link(&node);
        last = node;
    }
    last.link(&first);
    Gc::downgrade(&first)
}

/// An acyclic tree of `1 + fanout + fanout^2` nodes.
fn tree(fanout: usize, value: u64) -> Gc<Node> {
    let root = Node::new(value);
    for i in 0..fanout {
        let kid = Node::new(value + i as u64);
        for j in 0..fanout {
            kid.kids.borrow_mut().push(Node::new(value + j as u64));
        }
        root.kids.borrow_mut().push(kid);
    }
    root
}

/// What a [`Fin`]'s finalizer does besides counting.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    /// Stores a strong handle to itself (through `me`): resurrection on
    /// reference-count death, where `Weak`s still upgrade.
    ResurrectSelf,
    /// Stores a strong handle to its peer: resurrection of a whole cycle in
    /// a collection, where `Weak`s are already cleared.
    ResurrectPeer,
    Panic,
}

/// An object with a finalizer (Python's `__del__`).
#[derive(Trace)]
#[gc(finalize)]
struct Fin {
    #[gc(skip)]
    _tally: Tally,
    #[gc(skip)]
    mode: Cell<Mode>,
    me: RefCell<Weak<Fin>>,
    peer: RefCell<Option<Gc<Fin>>>,
    extra: RefCell<Option<Gc<Node>>>,
}

thread_local! {
    /// Where finalizers put the objects they resurrect.
    static LAZARUS: RefCell<Vec<Gc<Fin>>> = const { RefCell::new(Vec::new()) };
}

impl Finalize for Fin {
    fn finalize(&self) {
        FINALIZED.fetch_add(1, Relaxed);
        match self.mode.get() {
            Mode::Plain => {}
            Mode::ResurrectSelf => {
                let me = self
                    .me
                    .borrow()
                    .upgrade()
                    .expect("Weaks upgrade in __del__");
                LAZARUS.with(|l| l.borrow_mut().push(me));
            }
            Mode::ResurrectPeer => {
                let peer = self.peer.borrow().clone().expect("a peer");
                LAZARUS.with(|l| l.borrow_mut().push(peer));
            }
            Mode::Panic => panic!("Fin::finalize panics"),
        }
    }
}

impl Fin {
    fn new(mode: Mode) -> Gc<Fin> {
        let fin = Gc::new(Fin {
            _tally: Tally::new(),
            mode: Cell::new(mode),
            me: RefCell::new(Weak::new()),
            peer: RefCell::new(None),
            extra: RefCell::new(None),
        });
        *fin.me.borrow_mut() = Gc::downgrade(&fin);
        fin
    }

    /// Two finalizer objects referring to each other, the first also
    /// holding a plain node; no outside handle.
    fn pair(first: Mode, second: Mode) -> (Weak<Fin>, Weak<Fin>) {
        let a = Fin::new(first);
        let b = Fin::new(second);
        *a.peer.borrow_mut() = Some(b.clone());
        *b.peer.borrow_mut() = Some(a.clone());
        *a.extra.borrow_mut() = Some(Node::new(7));
        (Gc::downgrade(&a), Gc::downgrade(&b))
    }

    fn unlink(&self) {
        drop(self.peer.borrow_mut().take());
        drop(self.extra.borrow_mut().take());
    }
}

/// A tracked object whose weak collections are its fields.
#[derive(Trace)]
struct Registry {
    #[gc(skip)]
    _tally: Tally,
    members: RefCell<WeakSet<Node>>,
    by_name: RefCell<WeakValueMap<u64, Node>>,
    notes: RefCell<WeakKeyMap<Node, Gc<Node>>>,
    me: RefCell<Option<Gc<Registry>>>,
}

/// A debug writer that keeps what it is given.
#[derive(Clone, Default)]
struct Capture(Rc<RefCell<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn take_text(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.borrow_mut())).expect("utf-8 debug lines")
    }
}

/// Runs `f`, which must panic, with the panic message silenced.
fn expect_panic<R>(what: &str, f: impl FnOnce() -> R) {
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(f));
    panic::set_hook(hook);
    assert!(result.is_err(), "{what} should have panicked");
}

/// `collect()` must find nothing: the heap holds no garbage.
fn assert_clean() {
    assert_eq!(gc::collect(), 0, "leftover garbage");
    assert!(gc::garbage().is_empty());
}

fn acyclic() {
    let before = dropped();
    for i in 0..1_000 {
        let t = tree(3, i);
        assert_eq!(t.kids.borrow().len(), 3);
        let s = Gc::new(format!("string {i}"));
        assert!(!gc::is_tracked(&s), "Gc<String> cannot form cycles");
        assert!(gc::is_tracked(&t));
        drop(t);
    }
    assert_eq!(dropped() - before, 13_000, "trees are freed by refcount");
    assert_clean();
}

fn cycles_and_generations() {
    gc::collect();
    // Switches and thresholds.
    gc::disable();
    assert!(!gc::is_enabled());
    gc::enable();
    gc::set_threshold(100, 5, 5);
    assert_eq!(gc::get_threshold(), (100, 5, 5));
    gc::set_threshold(700, 10, 10);
    // Garbage in generation 0 is freed by a generation-0 collection.
    for i in 0..100 {
        ring(5, i);
    }
    assert_eq!(gc::collect_generation(0), 500);

    // Live cycles climb the generations.
    let held: Vec<Gc<Node>> = (0..10)
        .map(|i| ring(3, i).upgrade().expect("alive"))
        .collect();
    let probe = Gc::to_object(&held[0]);
    assert_eq!(probe.generation(), Some(0));
    assert_eq!(gc::collect_generation(0), 0);
    assert_eq!(probe.generation(), Some(1));
    assert_eq!(gc::get_count().1, 2);
    assert_eq!(gc::collect_generation(1), 0);
    assert_eq!(probe.generation(), Some(2));
    assert_eq!(gc::get_count(), (0, 0, 1));
    assert!(gc::get_objects(Some(2)).len() >= 30);

    // Garbage in generation 2 is invisible to younger collections.
    let before = dropped();
    drop(held);
    drop(probe);
    assert_eq!(gc::collect_generation(0), 0);
    assert_eq!(gc::collect_generation(1), 0);
    assert_eq!(gc::collect_generation(2), 30);
    assert_eq!(dropped() - before, 30);
    assert_eq!(gc::get_count(), (0, 0, 0));
    let stats = gc::get_stats();
    assert!(stats.iter().all(|s| s.collections > 0));
}

fn long_chains() {
    const N: usize = 100_000;
    // An acyclic chain: the head's drop must not recurse N deep.
    let before = dropped();
    let mut head = None;
    for i in 0..N {
        head = Some(Node::with_next(i as u64, head));
    }
    drop(head);
    assert_eq!(dropped() - before, N);

    // The same chain closed into a ring, freed by the collector.
    let first = Node::new(0);
    let mut last = first.clone();
    for i in 1..N {
        last = Node::with_next(i as u64, Some(last));
    }
    first.link(&last);
    drop((first, last));
    assert_eq!(gc::collect(), N);
    assert_eq!(dropped() - before, 2 * N);
}

fn finalizers_uncollectable() {
    gc::set_finalizer_policy(FinalizerPolicy::Uncollectable);
    assert_clean();
    let stats_before = gc::get_stats()[2].uncollectable;
    let fin_before = finalized();
    let (a, b) = Fin::pair(Mode::Plain, Mode::Plain);
    // Two finalizer objects and the node reachable from them are kept.
    assert_eq!(gc::collect(), 3);
    assert_eq!(gc::get_stats()[2].uncollectable - stats_before, 3);
    assert_eq!(gc::garbage().len(), 2);
    assert!(a.is_alive() && b.is_alive(), "Weaks to uncollectables stay");
    assert_eq!(finalized(), fin_before, "no finalizer runs in a collection");
    // Found again by the next collection? No: gc.garbage holds them.
    assert_eq!(gc::collect(), 0);

    let garbage = gc::take_garbage();
    assert!(gc::garbage().is_empty());
    let before = dropped();
    for obj in &garbage {
        assert!(obj.has_finalizer() && !obj.is_finalized());
        obj.downcast::<Fin>().expect("a Fin").unlink();
    }
    drop(garbage);
    assert_eq!(dropped() - before, 3, "freed by refcount once broken");
    assert_eq!(finalized() - fin_before, 2, "refcount death runs __del__");
    assert!(!a.is_alive() && !b.is_alive());
    assert_clean();

    // An acyclic finalizer object still runs on refcount death.
    let f = Fin::new(Mode::Plain);
    drop(f);
    assert_eq!(finalized() - fin_before, 3);
}

fn finalizers_pep442() {
    gc::set_finalizer_policy(FinalizerPolicy::Finalize);
    assert_clean();
    let fin_before = finalized();
    let before = dropped();
    let (a, b) = Fin::pair(Mode::Plain, Mode::Plain);
    assert_eq!(gc::collect(), 3);
    assert_eq!(finalized() - fin_before, 2);
    assert_eq!(dropped() - before, 3);
    assert!(a.upgrade().is_none() && b.upgrade().is_none());

    // Resurrection in a collection: the first finalizer stores its peer,
    // which holds the first: the whole cycle survives, uncounted.
    let (a, b) = Fin::pair(Mode::ResurrectPeer, Mode::Plain);
    assert_eq!(gc::collect(), 0, "resurrected objects are not counted");
    assert_eq!(finalized() - fin_before, 4);
    assert!(!a.is_alive(), "weak refs were cleared before finalizers");
    assert!(!b.is_alive());
    let back = LAZARUS.with(|l| std::mem::take(&mut *l.borrow_mut()));
    assert_eq!(back.len(), 1);
    assert!(gc::is_finalized(&back[0]));
    let peer = back[0].peer.borrow().clone().expect("cycle intact");
    assert!(gc::is_finalized(&peer));
    // Dropping the cycle again frees it without a second finalizer run.
    drop(peer);
    drop(back);
    assert_eq!(gc::collect(), 3);
    assert_eq!(finalized() - fin_before, 4);

    // Resurrection on refcount death, through a Weak to itself.
    let phoenix = Fin::new(Mode::ResurrectSelf);
    let weak = Gc::downgrade(&phoenix);
    drop(phoenix);
    assert_eq!(finalized() - fin_before, 5);
    assert!(weak.is_alive(), "resurrected, weak refs intact");
    let back = LAZARUS.with(|l| l.borrow_mut().pop()).expect("resurrected");
    drop(back);
    assert!(!weak.is_alive());
    assert_eq!(finalized() - fin_before, 5, "no second __del__");
    assert_eq!(dropped() - before, 7);
    assert_clean();
    gc::set_finalizer_policy(FinalizerPolicy::Uncollectable);
}

fn saveall_and_debug_writer() {
    assert_clean();
    let capture = Capture::default();
    gc::set_debug_writer(capture.clone());

    gc::set_debug(DebugFlags::SAVEALL);
    let first = ring(3, 0);
    assert_eq!(gc::collect(), 3);
    assert!(
        !first.is_alive(),
        "saved objects lose their weak references"
    );
    let saved = gc::take_garbage();
    assert_eq!(saved.len(), 3);
    for obj in &saved {
        drop(
            obj.downcast::<Node>()
                .expect("a Node")
                .next
                .borrow_mut()
                .take(),
        );
    }
    drop(saved);

    gc::set_debug(DebugFlags::STATS | DebugFlags::COLLECTABLE | DebugFlags::UNCOLLECTABLE);
    ring(4, 0);
    assert_eq!(gc::collect(), 4);
    gc::set_debug(DebugFlags::empty());
    let text = capture.take_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "gc: collecting generation 2...");
    assert!(lines[1].starts_with("gc: objects in each generation: "));
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("gc: collectable <Node 0x"))
            .count(),
        4
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("gc: done, 4 unreachable, 0 uncollectable, "))
    );
    gc::set_debug_writer(std::io::sink());
    assert_clean();
}

fn weak_references() {
    assert_clean();
    let fired = Rc::new(Cell::new(0));
    // Refcount death fires the callback after clearing.
    let node = Node::new(1);
    let plain = Gc::downgrade(&node);
    let seen = fired.clone();
    let probe = plain.clone();
    let with_cb = Gc::downgrade_with(&node, move || {
        assert!(probe.upgrade().is_none(), "cleared before callbacks");
        seen.set(seen.get() + 1);
        WEAK_CALLBACKS.fetch_add(1, Relaxed);
        // Callbacks may allocate and collect.
        drop(tree(2, 0));
        gc::collect();
    });
    assert_eq!(Gc::weak_count(&node), 3);
    assert_eq!(with_cb.upgrade().map(|n| n.value), Some(1));
    drop(node);
    assert_eq!(fired.get(), 1);
    assert!(plain.upgrade().is_none());
    let Err(err) = plain.try_upgrade() else {
        panic!("upgraded a dead object")
    };
    assert_eq!(err.to_string(), "weakly-referenced object no longer exists");
    assert_eq!(plain.strong_count(), 0);

    // A callback whose Weak is dropped first never runs.
    let node = Node::new(2);
    let seen = fired.clone();
    let w = Gc::downgrade_with(&node, move || seen.set(seen.get() + 100));
    drop(w);
    drop(node);
    assert_eq!(fired.get(), 1);

    // Cycles: callbacks fire in the collection, newest first.
    let order = Rc::new(RefCell::new(Vec::new()));
    let mut weaks = Vec::new();
    for i in 0..50 {
        let w = ring(4, i).upgrade().expect("alive");
        for tag in 0..2 {
            let order = order.clone();
            weaks.push(Gc::downgrade_with(&w, move || {
                order.borrow_mut().push(tag);
                WEAK_CALLBACKS.fetch_add(1, Relaxed);
            }));
        }
    }
    assert_eq!(gc::collect(), 200);
    assert_eq!(order.borrow().len(), 100);
    assert!(order.borrow().chunks(2).all(|c| c == [1, 0]));
    assert!(weaks.iter().all(|w| !w.is_alive()));
    drop(weaks);

    // weakref.finalize: runs once, survives its handle, detach and call.
    let ran = Rc::new(Cell::new(0));
    let a = Node::new(3);
    let b = Node::new(4);
    let c = Node::new(5);
    let r = ran.clone();
    drop(weakref::finalize(&a, move || r.set(r.get() + 1)));
    let r = ran.clone();
    let fb = weakref::finalize(&b, move || r.set(r.get() + 10));
    let r = ran.clone();
    let fc = weakref::finalize(&c, move || r.set(r.get() + 100));
    assert!(fb.alive() && fb.detach() && !fb.alive());
    assert!(fc.call() && !fc.call());
    drop((a, b, c));
    assert_eq!(ran.get(), 101);
    // finalize on a cycle member, freed by the collector.
    let w = ring(3, 0);
    let r = ran.clone();
    let f = weakref::finalize(&w.upgrade().expect("alive"), move || r.set(r.get() + 1000));
    assert_eq!(gc::collect(), 3);
    assert!(!f.alive());
    assert_eq!(ran.get(), 1101);
    assert_clean();
}

fn weak_collections() {
    assert_clean();
    let mut set = WeakSet::new();
    let mut values = WeakValueMap::new();
    let mut keys = WeakKeyMap::new();
    let nodes: Vec<Gc<Node>> = (0..200).map(Node::new).collect();
    for n in &nodes {
        assert!(set.insert(n));
        assert!(values.insert(n.value, n).is_none());
        assert!(keys.insert(n, Node::new(n.value + 1000)).is_none());
    }
    assert_eq!((set.len(), values.len(), keys.len()), (200, 200, 200));
    let (keep, die): (Vec<_>, Vec<_>) = nodes.into_iter().partition(|n| n.value % 2 == 0);
    let dead = Gc::downgrade(&die[0]);
    drop(die);
    assert!(dead.upgrade().is_none());
    assert_eq!((set.len(), values.len(), keys.len()), (100, 100, 100));
    assert!(values.get(&1).is_none() && values.get(&2).is_some());
    assert!(set.contains(&keep[0]) && values.contains_key(&0) && keys.contains_key(&keep[0]));
    assert_eq!(keys.get(&keep[1]).map(|v| v.value), Some(1002));
    assert_eq!(set.iter().count(), 100);
    assert_eq!(values.iter().count(), 100);
    assert_eq!(keys.iter().count(), 100);
    // The dead keys' values are reclaimed at the next `&mut` call.
    let before = dropped();
    keys.purge();
    set.purge();
    values.purge();
    assert_eq!(dropped() - before, 100);
    assert!(set.remove(&keep[0]) && !set.remove(&keep[0]));
    assert!(values.remove(&0).is_some());
    assert!(keys.remove(&keep[0]).is_some());
    set.clear();
    values.clear();
    keys.clear();
    assert!(set.is_empty() && values.is_empty() && keys.is_empty());
    drop(keep);

    // Weak collections inside a tracked cycle, used as a cache.
    let registry = Gc::new(Registry {
        _tally: Tally::new(),
        members: RefCell::new(WeakSet::new()),
        by_name: RefCell::new(WeakValueMap::new()),
        notes: RefCell::new(WeakKeyMap::new()),
        me: RefCell::new(None),
    });
    *registry.me.borrow_mut() = Some(registry.clone());
    let members: Vec<Gc<Node>> = (0..20).map(Node::new).collect();
    for m in &members {
        registry.members.borrow_mut().insert(m);
        registry.by_name.borrow_mut().insert(m.value, m);
        registry.notes.borrow_mut().insert(m, Node::new(0));
    }
    drop(members);
    assert_eq!(registry.members.borrow().len(), 0);
    drop(registry);
    // The registry and the 20 note values still held by its WeakKeyMap.
    assert_eq!(gc::collect(), 21);
    assert_clean();
}

fn freezing() {
    assert_clean();
    let weak = ring(3, 0);
    let hold = weak.upgrade().expect("alive");
    gc::freeze();
    assert!(gc::get_freeze_count() >= 3);
    assert!(
        gc::get_objects(None).is_empty(),
        "frozen objects are hidden"
    );
    drop(hold);
    assert_eq!(gc::collect(), 0, "the permanent generation is ignored");
    assert!(weak.is_alive());
    gc::unfreeze();
    assert_eq!(gc::get_freeze_count(), 0);
    assert_eq!(gc::collect(), 3);
    assert!(!weak.is_alive());
}

fn borrowed_refcell() {
    assert_clean();
    let holder = Node::new(0);
    {
        let mut kids = holder.kids.borrow_mut();
        // A cycle reachable only through the borrowed cell: it cannot be
        // traced, so it counts as referenced from outside.
        let w = ring(3, 0);
        kids.push(w.upgrade().expect("alive"));
        // A cycle stored while the borrow is held.
        let w2 = ring(2, 0);
        kids.push(w2.upgrade().expect("alive"));
        // Garbage elsewhere is still found.
        ring(5, 0);
        assert_eq!(gc::collect(), 5);
        assert!(w.is_alive() && w2.is_alive());
    }
    assert_eq!(gc::collect(), 0);
    drop(holder);
    assert_eq!(gc::collect(), 5);
    assert_clean();
}

fn collection_callbacks() {
    assert_clean();
    let log = Rc::new(RefCell::new(Vec::new()));
    let sink = log.clone();
    let id = gc::add_callback(move |phase, info: &CollectionInfo| {
        sink.borrow_mut()
            .push((phase, info.generation, info.collected));
        // Callbacks may allocate.
        drop(Node::new(0));
    });
    ring(6, 0);
    assert_eq!(gc::collect(), 6);
    assert!(gc::remove_callback(id));
    assert_eq!(*log.borrow(), [(Phase::Start, 2, 0), (Phase::Stop, 2, 6)]);
    assert!(!gc::remove_callback(id));
}

fn panics() {
    gc::set_finalizer_policy(FinalizerPolicy::Finalize);
    assert_clean();
    let before = dropped();

    // A destructor panicking in a collection: it propagates out of
    // `collect()` once the heap is consistent; everything is still freed.
    let a = Node::bomb(0);
    let b = Node::new(1);
    a.link(&b);
    b.link(&a);
    drop((a, b));
    expect_panic("a destructor in collect()", gc::collect);
    gc::collect(); // what the interrupted collection left
    assert_eq!(dropped() - before, 2);

    // A destructor panicking on refcount death.
    let a = Node::bomb(0);
    expect_panic("a destructor on drop", move || drop(a));
    assert_eq!(dropped() - before, 3);

    // A finalizer panicking on refcount death and in a collection.
    let f = Fin::new(Mode::Panic);
    expect_panic("a finalizer on drop", move || drop(f));
    Fin::pair(Mode::Panic, Mode::Plain);
    expect_panic("a finalizer in collect()", gc::collect);
    gc::collect();
    assert_eq!(dropped() - before, 7);

    // Weak callbacks and weakref.finalize closures panicking.
    let n = Node::new(0);
    let w = Gc::downgrade_with(&n, || panic!("weak callback"));
    expect_panic("a weak callback on drop", move || drop(n));
    drop(w);
    let n = ring(3, 0).upgrade().expect("alive");
    let w = Gc::downgrade_with(&n, || panic!("weak callback"));
    drop(n);
    expect_panic("a weak callback in collect()", gc::collect);
    gc::collect();
    drop(w);
    let n = Node::new(0);
    weakref::finalize(&n, || panic!("weakref.finalize"));
    expect_panic("weakref.finalize on drop", move || drop(n));
    assert_eq!(dropped() - before, 12);

    // A collection callback panicking.
    let id = gc::add_callback(|phase, _| {
        if phase == Phase::Stop {
            panic!("collection callback");
        }
    });
    ring(2, 0);
    expect_panic("a collection callback", gc::collect);
    gc::remove_callback(id);
    assert_clean();
    assert_eq!(dropped() - before, 14);
    gc::set_finalizer_policy(FinalizerPolicy::Uncollectable);
}

fn introspection() {
    assert_clean();
    let root = Node::new(0);
    let mid = Node::new(1);
    let leaf = Node::new(2);
    root.kids.borrow_mut().push(mid.clone());
    mid.link(&leaf);
    let leaf_obj = Gc::to_object(&leaf);
    let mid_obj: Object = mid.clone().into();
    drop((mid, leaf));

    assert_eq!(gc::get_objects(None).len(), 3);
    assert_eq!(gc::get_referrers(&leaf_obj), std::slice::from_ref(&mid_obj));
    assert_eq!(gc::get_referents(&mid_obj), std::slice::from_ref(&leaf_obj));
    assert_eq!(mid_obj.edges()[0].0, "next");
    assert_eq!(mid_obj.referents(), std::slice::from_ref(&leaf_obj));
    assert_eq!(leaf_obj.short_type_name(), "Node");
    assert!(leaf_obj.type_name().ends_with("Node"));
    assert!(leaf_obj.is::<Node>() && leaf_obj.is_tracked() && !leaf_obj.has_finalizer());
    assert_eq!(leaf_obj.downcast::<Node>().map(|n| n.value), Some(2));
    assert_eq!(
        leaf_obj.id(),
        Gc::id(&leaf_obj.downcast::<Node>().expect("Node"))
    );
    assert!(format!("{leaf_obj:?}").starts_with("<Node object at 0x"));
    assert!(Gc::ptr_eq(&root, &root.clone()));
    assert_eq!(Gc::strong_count(&root), 1);
    assert!(!format!("{root:p}").is_empty());

    // objgraph.
    assert_eq!(objgraph::count("Node"), 3);
    assert_eq!(objgraph::typestats().get("Node"), Some(&3));
    assert_eq!(objgraph::most_common_types(1), [("Node".to_owned(), 3)]);
    let mut out = Vec::new();
    objgraph::show_most_common_types_to(5, &mut out).expect("write to a Vec");
    assert!(String::from_utf8_lossy(&out).starts_with("Node"));
    let mut out = Vec::new();
    objgraph::show_growth_to(5, &mut out).expect("write to a Vec");
    let mut peak = HashMap::new();
    assert_eq!(objgraph::growth(5, &mut peak), [("Node".to_owned(), 3, 3)]);
    assert_eq!(objgraph::by_type("Node").len(), 3);
    assert_eq!(objgraph::at(leaf_obj.id()), Some(leaf_obj.clone()));
    assert_eq!(objgraph::get_leaking_objects(), [Gc::to_object(&root)]);
    assert_eq!(objgraph::roots(), [Gc::to_object(&root)]);
    assert!(!is_root(&leaf_obj));
    let chain = objgraph::find_backref_chain(&leaf_obj, is_root, 10);
    assert_eq!(chain.len(), 3);
    assert_eq!(chain[0], Gc::to_object(&root));
    let target = leaf_obj.clone();
    let forward = objgraph::find_ref_chain(&Gc::to_object(&root), move |o| *o == target, 10);
    assert_eq!(forward, chain);
    let options = GraphOptions::default();
    let dot = objgraph::show_refs(&[Gc::to_object(&root)], &options).expect("dot source");
    assert!(dot.starts_with("digraph"));
    let dot =
        objgraph::show_backrefs(std::slice::from_ref(&leaf_obj), &options).expect("dot source");
    assert!(dot.contains("next"));
    objgraph::show_chain(&chain, &options).expect("dot source");
    drop((chain, forward, dot, mid_obj, leaf_obj, root));
    assert!(gc::get_objects(None).is_empty());
    // Introspection handles keep nothing alive once dropped.
    let mut out = Vec::new();
    objgraph::show_growth_to(5, &mut out).expect("write to a Vec");
    assert!(out.is_empty());
}

/// Automatic collection only: a million objects, a few hundred at a time.
fn churn(total: usize) -> usize {
    assert!(gc::is_enabled());
    assert_eq!(gc::get_threshold(), (700, 10, 10));
    let stats_before = gc::get_stats();
    let start = created();
    let mut kept: Vec<Gc<Node>> = Vec::new();
    let mut watching: Vec<Weak<Node>> = Vec::new();
    let mut round = 0u64;
    let mut peak_live = 0;
    while created() - start < total {
        round += 1;
        // Garbage cycles of several shapes.
        ring(1 + (round % 7) as usize, round);
        let t = tree(2, round);
        t.link(&t); // a self-loop in a tree
        // Some long-lived objects, replaced slowly: they reach generation 2.
        let keep = tree(3, round);
        if kept.len() < 64 {
            kept.push(keep);
        } else {
            kept[(round % 64) as usize] = keep;
        }
        // Weak references and callbacks on the way.
        let w = Gc::downgrade_with(&t, || {
            WEAK_CALLBACKS.fetch_add(1, Relaxed);
        });
        drop(t);
        if watching.len() < 64 {
            watching.push(w);
        } else {
            watching[(round % 64) as usize] = w;
        }
        if round.is_multiple_of(101) {
            // An uncollectable cycle now and then.
            Fin::pair(Mode::Plain, Mode::Plain);
        }
        peak_live = peak_live.max(live());
    }
    let stats = gc::get_stats();
    for g in 0..3 {
        assert!(
            stats[g].collections > stats_before[g].collections,
            "automatic collections of generation {g}"
        );
    }
    assert!(peak_live < 30_000, "peak live {peak_live}");
    drop(kept);
    drop(watching);
    // Break the uncollectable cycles the automatic collections kept.
    gc::collect();
    let garbage = gc::take_garbage();
    assert!(!garbage.is_empty());
    for obj in &garbage {
        obj.downcast::<Fin>().expect("a Fin").unlink();
    }
    drop(garbage);
    assert_clean();
    peak_live
}

thread_local! {
    // Destroyed at thread exit. EARLY is registered before the thread's heap
    // exists and LATE after, so on glibc (destructors in reverse order of
    // registration) EARLY's objects die after the heap's teardown and LATE's
    // before it.
    static EARLY: RefCell<Vec<Gc<Node>>> = const { RefCell::new(Vec::new()) };
    static LATE: RefCell<Vec<Gc<Node>>> = const { RefCell::new(Vec::new()) };
    static EARLY_FIN: RefCell<Option<Gc<Fin>>> = const { RefCell::new(None) };
    static WATCH: RefCell<Vec<Weak<Node>>> = const { RefCell::new(Vec::new()) };
}

fn thread_exit() {
    let before_created = created();
    std::thread::spawn(|| {
        EARLY.with(|e| e.borrow_mut().clear());
        EARLY_FIN.with(|e| e.borrow_mut().take());
        let held = tree(4, 0);
        // Automatic collection on this thread's own heap.
        for i in 0..2_000 {
            ring(3, i);
        }
        // No garbage cycle may remain at exit: it would leak (documented).
        gc::collect();
        EARLY.with(|e| e.borrow_mut().push(tree(3, 1)));
        EARLY_FIN.with(|e| *e.borrow_mut() = Some(Fin::new(Mode::Plain)));
        let late = tree(3, 2);
        let w = Gc::downgrade_with(&late, || {
            WEAK_CALLBACKS.fetch_add(1, Relaxed);
        });
        weakref::finalize(&late, || {
            WEAK_CALLBACKS.fetch_add(1, Relaxed);
        });
        LATE.with(|l| l.borrow_mut().push(late));
        WATCH.with(|l| l.borrow_mut().push(w));
        gc::freeze(); // frozen objects at exit
        let _young = tree(2, 3); // and young ones, dropped with the stack
        drop(held);
    })
    .join()
    .expect("the thread ran");
    assert!(created() - before_created > 6_000);
}

fn main() {
    let start = Instant::now();
    const TOTAL: usize = 1_000_000;

    let sections: [(&str, fn()); 14] = [
        ("acyclic", acyclic),
        ("cycles and generations", cycles_and_generations),
        ("long chains", long_chains),
        ("uncollectable finalizers", finalizers_uncollectable),
        ("PEP 442 finalizers", finalizers_pep442),
        ("SAVEALL and the debug writer", saveall_and_debug_writer),
        ("weak references", weak_references),
        ("weak collections", weak_collections),
        ("freeze", freezing),
        ("a borrowed RefCell", borrowed_refcell),
        ("collection callbacks", collection_callbacks),
        ("panics", panics),
        ("introspection", introspection),
        ("thread exit", thread_exit),
    ];
    for (name, section) in sections {
        section();
        assert_eq!(live(), 0, "objects left alive by {name}");
    }
    let so_far = created();
    let peak_live = churn(TOTAL.saturating_sub(so_far));

    gc::collect();
    assert!(gc::get_objects(None).is_empty());
    assert!(gc::garbage().is_empty());
    assert_eq!(gc::get_count(), (0, 0, 0));
    assert!(created() >= TOTAL);
    assert_eq!(created(), dropped(), "every object was freed");
    let stats = gc::get_stats();
    println!(
        "workout: {} objects created, {} dropped, peak live {}, {} collections, {} finalizers, {} weak callbacks, {:.2?}",
        created(),
        dropped(),
        peak_live,
        stats.iter().map(|s| s.collections).sum::<usize>(),
        finalized(),
        weak_callbacks(),
        start.elapsed()
    );
}
