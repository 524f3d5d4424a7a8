//! `Rc`'s API on `Gc` and `Weak` (issue 12, point 1: the part done so far),
//! and how each call meets the collector.

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use common::{DropToken, Tracker};
use gc_core::{DebugFlags, Finalize, Gc, Trace, Weak, collect, count_objects, set_debug};

#[derive(Trace)]
#[gc(finalize)]
struct Node {
    next: RefCell<Option<Gc<Node>>>,
    token: DropToken,
    #[gc(skip)]
    finalized: Rc<Cell<u32>>,
}

impl Finalize for Node {
    fn finalize(&self) {
        self.finalized.set(self.finalized.get() + 1);
    }
}

fn node(tracker: &Tracker, finalized: &Rc<Cell<u32>>) -> Gc<Node> {
    Gc::new(Node {
        next: RefCell::new(None),
        token: tracker.token(),
        finalized: finalized.clone(),
    })
}

#[test]
fn try_unwrap_takes_a_tracked_object_off_the_heap_without_finalizing_it() {
    collect();
    let tracker = Tracker::new();
    let finalized = Rc::new(Cell::new(0));
    let x = node(&tracker, &finalized);
    let fired = Rc::new(Cell::new(false));
    let f = fired.clone();
    let weak = Gc::downgrade_with(&x, move || f.set(true));
    let before = count_objects(None);
    let (count0, ..) = gc_core::get_count();
    let value = Gc::try_unwrap(x).ok().expect("the only handle");
    assert_eq!(count_objects(None), before - 1, "untracked");
    assert_eq!(
        gc_core::get_count().0,
        count0 - 1,
        "counted as a deallocation"
    );
    assert!(weak.upgrade().is_none());
    assert!(fired.get(), "the object died: its callback ran");
    assert_eq!(tracker.dropped(), 0, "the value lives on");
    drop(value);
    assert_eq!(finalized.get(), 0, "a plain value: no finalizer");
    tracker.assert_all_dropped_once();
}

#[test]
fn try_unwrap_fails_while_another_handle_exists_even_a_cycle_or_the_garbage_list() {
    collect();
    let tracker = Tracker::new();
    let finalized = Rc::new(Cell::new(0));
    let a = node(&tracker, &finalized);
    *a.next.borrow_mut() = Some(a.clone());
    let Err(a) = Gc::try_unwrap(a) else {
        panic!("the self-cycle is a second handle")
    };
    // Kept in gc.garbage under SAVEALL: the list holds a handle.
    set_debug(DebugFlags::SAVEALL);
    let weak = Gc::downgrade(&a);
    drop(a);
    assert_eq!(collect(), 1);
    set_debug(DebugFlags::empty());
    let kept = gc_core::take_garbage();
    let mut a = kept[0].downcast::<Node>().unwrap();
    assert!(
        Gc::get_mut(&mut a).is_none(),
        "in a garbage cycle kept by SAVEALL: the list and the cycle hold it"
    );
    assert!(
        weak.upgrade().is_some(),
        "kept for its finalizer, it keeps its weak references (as in CPython)"
    );
    let Err(a) = Gc::try_unwrap(a) else {
        panic!("the list and the cycle hold it")
    };
    drop(kept);
    a.next.borrow_mut().take(); // break the cycle by hand
    let value = Gc::try_unwrap(a).ok().expect("now the only handle");
    drop(value);
    tracker.assert_all_dropped_once();
}

#[test]
fn into_inner_and_unwrap_or_clone() {
    let x = Gc::new(String::from("a"));
    let y = x.clone();
    assert_eq!(Gc::into_inner(y), None);
    assert_eq!(Gc::strong_count(&x), 1);
    let z = x.clone();
    assert_eq!(Gc::unwrap_or_clone(z), "a");
    assert_eq!(Gc::unwrap_or_clone(x), "a");
}

#[test]
fn a_raw_pointer_keeps_its_object_alive_through_a_collection() {
    collect();
    let tracker = Tracker::new();
    let finalized = Rc::new(Cell::new(0));
    let x = node(&tracker, &finalized);
    *x.next.borrow_mut() = Some(x.clone());
    let raw = Gc::into_raw(x);
    // The count `into_raw` kept is external: the cycle is not garbage.
    assert_eq!(collect(), 0);
    // SAFETY: from `into_raw`, taken back once.
    let x = unsafe { Gc::from_raw(raw) };
    assert_eq!(Gc::as_ptr(&x), raw);
    x.next.borrow_mut().take();
    drop(x);
    tracker.assert_all_dropped_once();
}

#[test]
fn weak_ptr_eq_and_counts() {
    let x = Gc::new(1_u64);
    let a: Weak<u64> = Gc::downgrade(&x);
    let b = Gc::downgrade_with(&x, || {});
    assert!(a.ptr_eq(&b) && b.ptr_eq(&a));
    assert_eq!(a.weak_count(), 2);
    assert_eq!(a.strong_count(), 1);
    drop(x);
    assert_eq!(a.weak_count(), 0);
    assert!(a.ptr_eq(&a.clone()));
    // A dead `Weak` is not equal to a `Weak` of a new object, even one that
    // reuses the dead one's address.
    let y = Gc::new(2_u64);
    let c = Gc::downgrade(&y);
    assert!(!a.ptr_eq(&c));
    assert!(!a.ptr_eq(&b), "different cells of a dead object");
    assert!(Weak::<u64>::new().ptr_eq(&Weak::new()));
    assert!(!Weak::<u64>::new().ptr_eq(&c));
}

#[derive(Trace)]
struct Window {
    me: Weak<Window>,
    children: RefCell<Vec<Gc<Window>>>,
    token: DropToken,
}

#[test]
fn new_cyclic_builds_a_self_referential_object() {
    collect();
    let tracker = Tracker::new();
    let before = count_objects(None);
    let window = Gc::new_cyclic(|me| {
        assert!(me.upgrade().is_none(), "not alive until new_cyclic returns");
        assert_eq!(me.strong_count(), 0);
        // A collection while the value is being made does not see it.
        assert_eq!(collect(), 0);
        Window {
            me: me.clone(),
            children: RefCell::new(Vec::new()),
            token: tracker.token(),
        }
    });
    assert!(Gc::ptr_eq(&window.me.upgrade().unwrap(), &window));
    assert!(gc_core::is_tracked(&window));
    assert_eq!(count_objects(None), before + 1);
    assert_eq!(Gc::weak_count(&window), 1);
    // A weak self-reference is no cycle: reference counting frees it.
    let probe = window.me.clone();
    drop(window);
    assert!(probe.upgrade().is_none());
    assert_eq!(tracker.dropped(), 1);
    assert_eq!(collect(), 0);
}

#[test]
fn new_cyclic_whose_closure_panics_makes_nothing_and_its_weaks_stay_dead() {
    let smuggled: RefCell<Option<Weak<Window>>> = RefCell::new(None);
    let tracker = Tracker::new();
    let before = count_objects(None);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Gc::new_cyclic(|me: &Weak<Window>| -> Window {
            *smuggled.borrow_mut() = Some(me.clone());
            let _token = tracker.token();
            panic!("no window today");
        })
    }));
    assert!(result.is_err());
    let weak = smuggled.borrow_mut().take().unwrap();
    assert!(weak.upgrade().is_none());
    assert_eq!(weak.strong_count(), 0);
    assert_eq!(weak.weak_count(), 0, "the box is gone; the cell is cleared");
    assert_eq!(count_objects(None), before);
    tracker.assert_all_dropped_once();
}

#[test]
fn get_mut_takes_the_object_off_the_lists_for_the_borrow() {
    collect();
    let tracker = Tracker::new();
    let child = Gc::new_cyclic(|me| Window {
        me: me.clone(),
        children: RefCell::new(Vec::new()),
        token: tracker.token(),
    });
    let mut parent = Gc::new(Window {
        me: Weak::new(),
        children: RefCell::new(vec![child]),
        token: tracker.token(),
    });
    let before = count_objects(None);
    {
        let mut borrowed = Gc::get_mut(&mut parent).expect("one handle, no Weak");
        assert_eq!(
            count_objects(None),
            before - 1,
            "off the lists while borrowed"
        );
        // Collections and introspection meanwhile never read the value...
        assert_eq!(collect(), 0);
        assert!(gc_core::get_objects(None).iter().all(|o| {
            !o.is::<Window>()
                || o.downcast::<Window>()
                    .is_some_and(|w| w.children.borrow().is_empty())
        }));
        // ...which can change freely, and whose child survives: it is
        // reachable from the borrowed object (its edge was not subtracted).
        borrowed.children.get_mut().push(Gc::new(Window {
            me: Weak::new(),
            children: RefCell::new(Vec::new()),
            token: tracker.token(),
        }));
    }
    assert_eq!(
        count_objects(None),
        before + 1,
        "back on the lists, plus the new child"
    );
    assert!(gc_core::is_tracked(&parent));
    assert_eq!(parent.children.borrow().len(), 2);
    // A cycle through the object is found again once it is tracked.
    let first = parent.children.borrow()[0].clone();
    first.children.borrow_mut().push(parent.clone());
    drop((first, parent));
    assert_eq!(collect(), 3);
    tracker.assert_all_dropped_once();
}

#[test]
fn get_mut_needs_the_only_handle_and_no_weak_and_make_mut_clones_otherwise() {
    let mut a = Gc::new(vec![1_u8]);
    let b = a.clone();
    assert!(Gc::get_mut(&mut a).is_none());
    Gc::make_mut(&mut a).push(2);
    assert_eq!((&a[..], &b[..]), (&[1, 2][..], &[1][..]));
    assert!(!Gc::ptr_eq(&a, &b));
    let w = Gc::downgrade(&a);
    assert!(
        Gc::get_mut(&mut a).is_none(),
        "a Weak could upgrade meanwhile"
    );
    Gc::make_mut(&mut a).push(3); // clones again: the Weak keeps the old
    assert_eq!(w.upgrade().map(|old| old.len()), None);
    assert_eq!(&a[..], [1, 2, 3]);
    let mut c = Gc::new(7_u32);
    *Gc::make_mut(&mut c) += 1; // unique: no clone
    assert_eq!(*c, 8);
}

#[test]
fn a_forgotten_get_mut_guard_leaves_the_object_untracked() {
    let tracker = Tracker::new();
    let mut w = Gc::new(Window {
        me: Weak::new(),
        children: RefCell::new(Vec::new()),
        token: tracker.token(),
    });
    std::mem::forget(Gc::get_mut(&mut w).unwrap());
    assert!(!gc_core::is_tracked(&w));
    drop(w);
    tracker.assert_all_dropped_once();
}
