//! `#[gc(finalize)]`: the derive wires `Finalize::finalize` into the runtime, which runs it
//! once, at refcount death or in a collection, while every field (and every `Gc` in a garbage
//! cycle) is still valid. `#[gc(unsafe_no_drop)]` with `unsafe impl DropOk`: a `Drop` impl that
//! never touches the `Gc` fields compiles and runs exactly once per value.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gc_core::{DropOk, Finalize, FinalizerPolicy, Gc, Trace};

use crate::assert_heap_clean;

/// What happened, in order.
type Log = Rc<RefCell<Vec<String>>>;

#[derive(Trace)]
#[gc(finalize)]
struct Resource {
    name: String,
    peer: RefCell<Option<Gc<Resource>>>,
    #[gc(skip)]
    log: Log,
}

impl Finalize for Resource {
    fn finalize(&self) {
        // Dereferencing a `Gc` field is fine here: in a garbage cycle every finalizer runs
        // before any value is dropped.
        let peer = self
            .peer
            .borrow()
            .as_ref()
            .map_or_else(|| "-".to_owned(), |peer| peer.name.clone());
        self.log
            .borrow_mut()
            .push(format!("finalize {} (peer {peer})", self.name));
    }
}

impl Resource {
    fn new(name: &str, log: &Log) -> Gc<Resource> {
        Gc::new(Resource {
            name: name.to_owned(),
            peer: RefCell::new(None),
            log: log.clone(),
        })
    }
}

#[test]
fn finalizer_runs_once_at_refcount_death() {
    let log = Log::default();
    let file = Resource::new("file", &log);
    assert!(Gc::to_object(&file).has_finalizer());
    assert!(!gc_core::is_finalized(&file));
    let alias = file.clone();
    drop(file);
    assert!(log.borrow().is_empty(), "ran while a handle was alive");
    drop(alias);
    assert_eq!(*log.borrow(), ["finalize file (peer -)"]);
    assert_heap_clean();
    assert_eq!(log.borrow().len(), 1);
}

/// Sets this thread's finalizer policy until dropped.
struct Policy(FinalizerPolicy);

impl Policy {
    fn set(policy: FinalizerPolicy) -> Policy {
        let previous = gc_core::get_finalizer_policy();
        gc_core::set_finalizer_policy(policy);
        Policy(previous)
    }
}

impl Drop for Policy {
    fn drop(&mut self) {
        gc_core::set_finalizer_policy(self.0);
    }
}

/// Two finalizable objects in a cycle: `a <-> b`.
fn finalizable_pair(log: &Log) {
    let a = Resource::new("a", log);
    let b = Resource::new("b", log);
    *a.peer.borrow_mut() = Some(b.clone());
    *b.peer.borrow_mut() = Some(a.clone());
}

#[test]
fn finalizers_of_a_garbage_cycle_see_their_peers() {
    let _policy = Policy::set(FinalizerPolicy::Finalize);
    let log = Log::default();
    finalizable_pair(&log);
    assert!(log.borrow().is_empty());
    assert_eq!(gc_core::collect(), 2);
    let mut entries = log.borrow().clone();
    entries.sort();
    assert_eq!(entries, ["finalize a (peer b)", "finalize b (peer a)"]);
    assert_heap_clean();
}

#[test]
fn uncollectable_policy_keeps_finalizable_cycles() {
    // The collector sees the derived `__HAS_FINALIZER`: under this policy such a cycle is
    // found (counted) but kept, in `garbage()`, and no finalizer runs.
    let _policy = Policy::set(FinalizerPolicy::Uncollectable);
    let log = Log::default();
    finalizable_pair(&log);
    assert_eq!(gc_core::collect(), 2);
    assert!(log.borrow().is_empty());
    let garbage = gc_core::take_garbage();
    assert_eq!(garbage.len(), 2);
    // Break the cycle by hand: reference counting then finalizes and frees both.
    for object in &garbage {
        let resource = object.downcast::<Resource>().expect("a Resource");
        resource.peer.borrow_mut().take();
    }
    drop(garbage);
    let mut entries = log.borrow().clone();
    entries.sort();
    assert_eq!(entries, ["finalize a (peer -)", "finalize b (peer -)"]);
    assert_heap_clean();
}

/// Types without the attribute have no finalizer, derived or not.
#[derive(Trace)]
struct Plain(Option<Gc<Plain>>);

#[test]
fn only_opted_in_types_have_a_finalizer() {
    const {
        assert!(<Resource as gc_core::TraceMeta>::__HAS_FINALIZER);
        assert!(!<Plain as gc_core::TraceMeta>::__HAS_FINALIZER);
    }
    let plain = Gc::new(Plain(None));
    assert!(!Gc::to_object(&plain).has_finalizer());
    assert!(plain.0.is_none());
    drop(plain);
    assert_heap_clean();
}

// ---------------------------------------------------------------------------------------------
// `#[gc(unsafe_no_drop)]`

/// A `Drop` impl that only counts: it never dereferences, clones, moves, downgrades or formats
/// the `Gc` field, which is what the `unsafe impl DropOk` promises.
#[derive(Trace)]
#[gc(unsafe_no_drop)]
struct Counted {
    next: RefCell<Option<Gc<Counted>>>,
    #[gc(skip)]
    drops: Rc<Cell<usize>>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
    }
}

// SAFETY: `drop` only touches `drops`, never `next`.
unsafe impl DropOk for Counted {}

#[test]
fn unsafe_no_drop_allows_a_drop_impl() {
    let drops = Rc::new(Cell::new(0));
    let make = || {
        Gc::new(Counted {
            next: RefCell::new(None),
            drops: drops.clone(),
        })
    };
    // Refcount death.
    drop(make());
    assert_eq!(drops.get(), 1);
    // A garbage cycle: each value dropped once, by the collector.
    let (a, b) = (make(), make());
    *a.next.borrow_mut() = Some(b.clone());
    *b.next.borrow_mut() = Some(a.clone());
    drop((a, b));
    assert_eq!(drops.get(), 1);
    assert_eq!(gc_core::collect(), 2);
    assert_eq!(drops.get(), 3);
    assert_heap_clean();
}

/// Both attributes in one list, on a generic type: the finalizer runs first, then `drop`.
#[derive(Trace)]
#[gc(finalize, unsafe_no_drop)]
struct Guard<T: 'static> {
    held: Option<Gc<T>>,
    #[gc(skip)]
    log: Log,
}

impl<T> Finalize for Guard<T> {
    fn finalize(&self) {
        self.log.borrow_mut().push("finalize".into());
    }
}

impl<T> Drop for Guard<T> {
    fn drop(&mut self) {
        self.log.borrow_mut().push("drop".into());
    }
}

// SAFETY: `drop` only touches `log`, never `held`.
unsafe impl<T> DropOk for Guard<T> {}

#[test]
fn finalize_then_drop() {
    let log = Log::default();
    let guard = Gc::new(Guard {
        held: Some(Gc::new(1_u8)),
        log: log.clone(),
    });
    assert!(guard.held.is_some());
    drop(guard);
    assert_eq!(*log.borrow(), ["finalize", "drop"]);
    assert_heap_clean();
}
