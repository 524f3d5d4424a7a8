//! Regression tests of the weak-reference bugs of issue 9, through the
//! public API; each test's doc comment names the bug it guards. The count
//! overflows (bug 9) are unit tests of gc-core (`src/tests/counts.rs`).

mod common;

use std::cell::RefCell;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use common::expect_panic;
use gc_core::weakref::{WeakKeyMap, WeakSet, WeakValueMap};
use gc_core::{self as gc, Gc, Trace};

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
