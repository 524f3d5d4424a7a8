//! Regression tests of the weak-reference bugs of issue 9, through the
//! public API; each test's doc comment names the bug it guards. The count
//! overflows (bug 9) are unit tests of gc-core (`src/tests/counts.rs`).

mod common;

use std::cell::RefCell;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use common::expect_panic;
use gc_core::weakref::{WeakKeyMap, WeakSet, WeakValueMap};
use gc_core::{self as gc, DebugFlags, Finalize, FinalizerPolicy, Gc, Trace, Weak};

type Log = Rc<RefCell<Vec<&'static str>>>;

fn new_log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

fn push(log: &Log, entry: &'static str) -> impl FnOnce() + 'static {
    let log = log.clone();
    move || log.borrow_mut().push(entry)
}

/// A self-cycle (collected) or a plain object (freed by its count).
#[derive(Trace)]
struct Obj {
    me: RefCell<Option<Gc<Obj>>>,
}

fn obj(cycle: bool) -> Gc<Obj> {
    let o = Gc::new(Obj {
        me: RefCell::new(None),
    });
    if cycle {
        *o.me.borrow_mut() = Some(o.clone());
    }
    o
}

/// Drops the last outside handle of `o`, which dies by reference counting,
/// or in the collection that follows if it is a cycle.
fn kill(o: Gc<Obj>) {
    drop(o);
    gc::collect();
}

/// Issue 9, bug 8: "dropping the `Weak` cancels the callback" also holds
/// when a newer callback of the same object drops it, after the object's
/// weak references were cleared and before the older callback's turn.
#[test]
fn a_weak_dropped_by_a_newer_callback_does_not_call_back() {
    for cycle in [false, true] {
        gc::collect();
        let log = new_log();
        let o = obj(cycle);
        let older = Rc::new(RefCell::new(Some(Gc::downgrade_with(
            &o,
            push(&log, "older"),
        ))));
        let (l, slot) = (log.clone(), older.clone());
        let _newer = Gc::downgrade_with(&o, move || {
            l.borrow_mut().push("newer");
            let weak = slot.borrow_mut().take();
            drop(weak);
        });
        kill(o);
        assert_eq!(*log.borrow(), ["newer"], "cycle: {cycle}");
    }
}

/// Issue 9, bug 8: a newer callback that clears weak collections holding
/// the same object leaves their lengths at 0; their own callbacks, whose
/// `Weak`s the clearing dropped, must not decrement them below zero.
#[test]
fn clearing_weak_collections_from_a_newer_callback_keeps_len_exact() {
    for cycle in [false, true] {
        gc::collect();
        let o = obj(cycle);
        let set = Rc::new(RefCell::new(WeakSet::new()));
        let values = Rc::new(RefCell::new(WeakValueMap::new()));
        let keys = Rc::new(RefCell::new(WeakKeyMap::new()));
        set.borrow_mut().insert(&o);
        values.borrow_mut().insert("o", &o);
        keys.borrow_mut().insert(&o, "note");
        let (s, v, k) = (set.clone(), values.clone(), keys.clone());
        let _clear = Gc::downgrade_with(&o, move || {
            s.borrow_mut().clear();
            v.borrow_mut().clear();
            k.borrow_mut().clear();
        });
        kill(o);
        assert_eq!(set.borrow().len(), 0, "cycle: {cycle}");
        assert_eq!(values.borrow().len(), 0, "cycle: {cycle}");
        assert_eq!(keys.borrow().len(), 0, "cycle: {cycle}");
        assert!(set.borrow().is_empty() && values.borrow().is_empty());
    }
}

/// Panics when dropped.
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("captures panicked on drop");
    }
}

/// Issue 9, bug 8: a callback cancelled while pending is dropped, not run;
/// a panic from dropping its captures is handled like a panicking callback:
/// the object's other callbacks still run, the object is destroyed, then
/// the panic propagates.
#[test]
fn a_cancelled_callback_whose_captures_panic_is_handled_like_a_panicking_one() {
    for cycle in [false, true] {
        gc::collect();
        let log = new_log();
        let o = obj(cycle);
        let weak = Gc::downgrade(&o);
        let _oldest = Gc::downgrade_with(&o, push(&log, "oldest"));
        let bomb = Bomb;
        let l = log.clone();
        let older = Rc::new(RefCell::new(Some(Gc::downgrade_with(&o, move || {
            let _bomb = &bomb;
            l.borrow_mut().push("older");
        }))));
        let (l, slot) = (log.clone(), older.clone());
        let _newer = Gc::downgrade_with(&o, move || {
            l.borrow_mut().push("newer");
            let weak = slot.borrow_mut().take();
            drop(weak);
        });
        let message = expect_panic(move || kill(o));
        assert_eq!(message, "captures panicked on drop", "cycle: {cycle}");
        assert_eq!(*log.borrow(), ["newer", "oldest"], "cycle: {cycle}");
        assert!(!weak.is_alive());
        assert_eq!(gc::collect(), 0, "cycle: {cycle}");
    }
}

/// An untracked object: it dies by reference counting only.
#[derive(Trace)]
struct Item(u32);

/// A `WeakValueMap` key that holds a strong edge to the map's owner.
#[derive(Trace)]
struct Key {
    tag: u32,
    owner: Gc<Registry>,
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.tag == other.tag
    }
}

impl Eq for Key {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.tag.hash(state);
    }
}

#[derive(Trace)]
struct Registry {
    map: RefCell<WeakValueMap<Key, Item>>,
}

/// Issue 9, bug 7: the map owns its keys, so their strong edges are traced,
/// each once: a registry -> map key -> registry cycle is collected, while an
/// outside handle keeps it alive even with a dead entry waiting for a purge.
#[test]
fn weak_value_map_keys_are_traced_once_and_their_cycles_collected() {
    gc::collect();
    let value = Gc::new(Item(1));
    let short_lived = Gc::new(Item(2));
    let r = Gc::new(Registry {
        map: RefCell::new(WeakValueMap::new()),
    });
    let weak = Gc::downgrade(&r);
    {
        let mut map = r.map.borrow_mut();
        let owner = r.clone();
        map.insert(Key { tag: 1, owner }, &value);
        let owner = r.clone();
        map.insert(Key { tag: 2, owner }, &short_lived);
    }
    drop(short_lived);
    assert_eq!(r.map.borrow().len(), 1);
    assert_eq!(Gc::strong_count(&r), 3);
    // Two keys refer to `r` and its own handle is outside: reachable.
    assert_eq!(gc::collect(), 0);
    assert!(weak.is_alive());

    r.map.borrow_mut().purge();
    let labels: Vec<String> = Gc::to_object(&r)
        .edges()
        .into_iter()
        .map(|(label, _)| label)
        .collect();
    assert_eq!(labels, ["map[0].key.owner"]);

    drop(r);
    assert_eq!(gc::collect(), 1, "registry -> key -> registry is garbage");
    assert!(!weak.is_alive());
    assert_eq!(Gc::weak_count(&value), 0, "the map's entry died with it");
}

/// An object that owns weak references, a self-cycle once `me` is set.
#[derive(Trace)]
struct Holder {
    me: RefCell<Option<Gc<Holder>>>,
    weaks: RefCell<Vec<Weak<Item>>>,
    set: RefCell<WeakSet<Item>>,
}

fn holder() -> Gc<Holder> {
    let h = Gc::new(Holder {
        me: RefCell::new(None),
        weaks: RefCell::new(Vec::new()),
        set: RefCell::new(WeakSet::new()),
    });
    *h.me.borrow_mut() = Some(h.clone());
    h
}

/// Issue 9, bug 6: a garbage object saved by `SAVEALL` keeps the weak
/// references it owns to live objects working. The "in the trash" mark its
/// collection put on them must not outlive that collection: the callback
/// fires when the target dies later, and a `WeakSet` it owns sees its
/// member die.
#[test]
fn weak_owned_by_saved_garbage_calls_back_after_its_collection() {
    gc::collect();
    let log = new_log();
    let target = Gc::new(Item(1));
    let member = Gc::new(Item(2));
    let h = holder();
    h.weaks
        .borrow_mut()
        .push(Gc::downgrade_with(&target, push(&log, "target died")));
    h.set.borrow_mut().insert(&member);
    drop(h);

    gc::set_debug(DebugFlags::SAVEALL);
    assert_eq!(gc::collect(), 1);
    gc::set_debug(DebugFlags::empty());
    let saved = gc::take_garbage();
    assert_eq!(saved.len(), 1);
    let h = saved[0].downcast::<Holder>().expect("the saved holder");
    drop(saved);
    assert!(log.borrow().is_empty(), "the target is alive");
    assert_eq!(h.set.borrow().len(), 1);

    drop(target);
    assert_eq!(*log.borrow(), ["target died"]);
    drop(member);
    assert_eq!(h.set.borrow().len(), 0);
    assert!(h.set.borrow().iter().next().is_none());

    h.me.borrow_mut().take();
    drop(h);
    assert_eq!(gc::collect(), 0);
}

thread_local! {
    static RESURRECTED: RefCell<Vec<Gc<Phoenix>>> = const { RefCell::new(Vec::new()) };
}

/// Resurrects itself from its finalizer, after dropping `doomed`.
#[derive(Trace)]
#[gc(finalize)]
struct Phoenix {
    me: RefCell<Option<Gc<Phoenix>>>,
    doomed: RefCell<Option<Gc<Item>>>,
    weaks: RefCell<Vec<Weak<Item>>>,
}

impl Finalize for Phoenix {
    fn finalize(&self) {
        let doomed = self.doomed.borrow_mut().take();
        drop(doomed);
        let me = self.me.borrow().clone();
        RESURRECTED.with(|r| r.borrow_mut().extend(me));
    }
}

/// Issue 9, bug 6, under PEP 442: a `Weak` owned by the garbage does not
/// call back while its collection tears the garbage down; its owner is
/// resurrected, so once the teardown is over it calls back (CPython would
/// lose this callback; a weak collection owned by the survivor would then
/// miss a death), and the weak references of the resurrected object keep
/// calling back afterwards.
#[test]
fn weak_owned_by_resurrected_garbage_calls_back_after_its_collection() {
    gc::collect();
    gc::set_finalizer_policy(FinalizerPolicy::Finalize);
    let log = new_log();
    let doomed = Gc::new(Item(1));
    let later = Gc::new(Item(2));
    let p = Gc::new(Phoenix {
        me: RefCell::new(None),
        doomed: RefCell::new(Some(doomed.clone())),
        weaks: RefCell::new(Vec::new()),
    });
    *p.me.borrow_mut() = Some(p.clone());
    p.weaks.borrow_mut().extend([
        Gc::downgrade_with(&doomed, push(&log, "doomed died")),
        Gc::downgrade_with(&later, push(&log, "later died")),
    ]);
    let doomed_weak = Gc::downgrade(&doomed);
    drop((doomed, p));

    gc::collect();
    assert_eq!(RESURRECTED.with(|r| r.borrow().len()), 1);
    assert!(!doomed_weak.is_alive(), "the finalizer dropped it");
    assert_eq!(
        *log.borrow(),
        ["doomed died"],
        "a Weak owned by resurrected garbage calls back once the collection is over"
    );

    drop(later);
    assert_eq!(*log.borrow(), ["doomed died", "later died"]);

    let p = RESURRECTED.with(|r| r.borrow_mut().pop()).unwrap();
    p.me.borrow_mut().take();
    drop(p);
    gc::set_finalizer_policy(FinalizerPolicy::Uncollectable);
}

#[derive(Trace)]
struct SelfKey(RefCell<Option<Gc<SelfKey>>>);

#[derive(Trace)]
#[gc(finalize)]
struct MapOwner {
    me: RefCell<Option<Gc<MapOwner>>>,
    map: RefCell<WeakKeyMap<SelfKey, String>>,
}

thread_local! {
    static SAVED_OWNERS: RefCell<Vec<Gc<MapOwner>>> = const { RefCell::new(Vec::new()) };
}

impl Finalize for MapOwner {
    fn finalize(&self) {
        let me = self.me.borrow().clone();
        SAVED_OWNERS.with(|s| s.borrow_mut().extend(me));
    }
}

/// Issue 9 (found by review after bug 6): a weak map owned by garbage that
/// survives its collection, whose key dies in that same collection, never
/// heard of the death (the key's callback was in the trash, so it was
/// dropped): `len()` stayed 1 and the dead entry and its value were never
/// reclaimed. The callback now waits for the end of the collection and
/// runs because its owner survived.
#[test]
fn weak_map_of_resurrected_garbage_learns_of_a_key_dying_in_the_same_collection() {
    gc::collect();
    gc::set_finalizer_policy(FinalizerPolicy::Finalize);
    let owner = Gc::new(MapOwner {
        me: RefCell::new(None),
        map: RefCell::new(WeakKeyMap::new()),
    });
    *owner.me.borrow_mut() = Some(owner.clone());
    let key = Gc::new(SelfKey(RefCell::new(None)));
    *key.0.borrow_mut() = Some(key.clone());
    owner
        .map
        .borrow_mut()
        .insert(&key, "value of the dead key".to_owned());
    let key_alive = Gc::downgrade(&key);
    drop((owner, key));
    gc::collect();
    assert!(!key_alive.is_alive(), "the key cycle was freed");
    let owner = SAVED_OWNERS
        .with(|s| s.borrow_mut().pop())
        .expect("resurrected");
    {
        let mut map = owner.map.borrow_mut();
        assert_eq!(map.len(), 0, "the map counted the dead key");
        assert_eq!(map.iter().count(), 0);
        map.purge();
        let fresh = Gc::new(SelfKey(RefCell::new(None)));
        assert_eq!(map.insert(&fresh, "new".to_owned()), None);
        assert_eq!(map.len(), 1);
    }
    owner.me.borrow_mut().take();
    drop(owner);
    gc::set_finalizer_policy(FinalizerPolicy::Uncollectable);
}
