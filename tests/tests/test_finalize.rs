//! Finalizers, the garbage list, SAVEALL and the debug lines: Python 2.7's
//! uncollectable cycles and PEP 442's safe finalization.

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use gc_core::{self as gc, DebugFlags, Finalize, FinalizerPolicy, Gc, Object, Trace};

thread_local! {
    /// What the finalizers of this thread did, in order.
    static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// Where a resurrecting finalizer parks what it saves.
    static SAVED: RefCell<Vec<Object>> = const { RefCell::new(Vec::new()) };
}

fn log(entry: impl Into<String>) {
    LOG.with(|l| l.borrow_mut().push(entry.into()));
}

fn take_log() -> Vec<String> {
    LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

/// The seed's classes: `A` and `B` have `__del__`, `C` does not;
/// `a.cc = c; c.bb = b; b.aa = a` makes a three-object cycle.
#[derive(Trace)]
#[gc(finalize)]
struct A {
    cc: RefCell<Option<Gc<C>>>,
}

#[derive(Trace)]
#[gc(finalize)]
struct B {
    aa: RefCell<Option<Gc<A>>>,
}

#[derive(Trace)]
struct C {
    bb: RefCell<Option<Gc<B>>>,
}

impl Finalize for A {
    fn finalize(&self) {
        log("A.__del__");
    }
}

impl Finalize for B {
    fn finalize(&self) {
        log("B.__del__");
    }
}

/// Builds the seed's cycle and returns weak handles to its three objects.
fn seed_cycle() -> (gc::Weak<A>, gc::Weak<B>, gc::Weak<C>) {
    let a = Gc::new(A {
        cc: RefCell::new(None),
    });
    let b = Gc::new(B {
        aa: RefCell::new(None),
    });
    let c = Gc::new(C {
        bb: RefCell::new(None),
    });
    *a.cc.borrow_mut() = Some(c.clone());
    *c.bb.borrow_mut() = Some(b.clone());
    *b.aa.borrow_mut() = Some(a.clone());
    (Gc::downgrade(&a), Gc::downgrade(&b), Gc::downgrade(&c))
}

#[test]
fn seed_cycle_is_uncollectable_under_python_2_semantics() {
    gc::collect();
    assert_eq!(gc::get_finalizer_policy(), FinalizerPolicy::Uncollectable);
    let (wa, wb, wc) = seed_cycle();
    let stats_before = gc::get_stats()[2];

    // All three are kept: A and B have finalizers, C is reachable from A.
    assert_eq!(gc::collect(), 3);
    assert!(take_log().is_empty(), "no finalizer runs in the collection");
    let stats = gc::get_stats()[2];
    assert_eq!(stats.uncollectable - stats_before.uncollectable, 3);
    assert_eq!(stats.collected, stats_before.collected);
    // gc.garbage holds the objects that have finalizers, in list order.
    let garbage = gc::garbage();
    assert_eq!(garbage.len(), 2);
    assert!(garbage[0].is::<A>() && garbage[1].is::<B>());
    assert!(garbage.iter().all(Object::has_finalizer));
    drop(garbage);
    // Weak references to uncollectable objects stay valid.
    assert!(wa.is_alive() && wb.is_alive() && wc.is_alive());
    // gc.garbage refers to them, so the next collection finds nothing.
    assert_eq!(gc::collect(), 0);
    assert_eq!(gc::garbage().len(), 2);

    // Break the cycle by hand: `del gc.garbage[0].cc; del gc.garbage[:]`.
    let garbage = gc::take_garbage();
    let a = garbage[0].downcast::<A>().unwrap();
    a.cc.borrow_mut().take();
    drop(a);
    assert!(!wc.is_alive(), "C died with the edge");
    drop(garbage);
    // Reference counting freed the rest, B's finalizer before A's.
    assert_eq!(take_log(), ["B.__del__", "A.__del__"]);
    assert!(!wa.is_alive() && !wb.is_alive());
    assert_eq!(gc::collect(), 0);
}

#[test]
fn seed_cycle_is_finalized_under_pep_442() {
    gc::collect();
    gc::set_finalizer_policy(FinalizerPolicy::Finalize);
    let (wa, wb, wc) = seed_cycle();
    let stats_before = gc::get_stats()[2];
    assert_eq!(gc::collect(), 3);
    // In list order: A, then B (CPython 3.4+: CleanupA(two), CleanupB(three)).
    assert_eq!(take_log(), ["A.__del__", "B.__del__"]);
    assert!(gc::garbage().is_empty());
    assert!(!wa.is_alive() && !wb.is_alive() && !wc.is_alive());
    let stats = gc::get_stats()[2];
    assert_eq!(stats.collected - stats_before.collected, 3);
    assert_eq!(stats.uncollectable, stats_before.uncollectable);
    assert_eq!(gc::collect(), 0);
}

#[test]
fn acyclic_finalizer_runs_on_refcount_death_under_both_policies() {
    for policy in [FinalizerPolicy::Uncollectable, FinalizerPolicy::Finalize] {
        gc::set_finalizer_policy(policy);
        let b = Gc::new(B {
            aa: RefCell::new(None),
        });
        assert!(!gc::is_finalized(&b));
        drop(b);
        assert_eq!(take_log(), ["B.__del__"]);
    }
}

/// A finalizer that checks its own weak reference and can resurrect.
#[derive(Trace)]
#[gc(finalize)]
struct Phoenix {
    me: RefCell<gc::Weak<Phoenix>>,
    peer: RefCell<Option<Gc<Phoenix>>>,
    resurrect: Cell<bool>,
}

impl Finalize for Phoenix {
    fn finalize(&self) {
        let me = self.me.borrow().upgrade();
        log(format!("finalize upgrade={}", me.is_some()));
        if self.resurrect.get() {
            if let Some(me) = me {
                SAVED.with(|s| s.borrow_mut().push(Gc::to_object(&me)));
            } else if let Some(peer) = self.peer.borrow().as_ref() {
                SAVED.with(|s| s.borrow_mut().push(Gc::to_object(peer)));
            }
        }
    }
}

fn phoenix(resurrect: bool) -> Gc<Phoenix> {
    let p = Gc::new(Phoenix {
        me: RefCell::new(gc::Weak::new()),
        peer: RefCell::new(None),
        resurrect: Cell::new(resurrect),
    });
    *p.me.borrow_mut() = Gc::downgrade(&p);
    p
}

#[test]
fn refcount_death_runs_the_finalizer_first_and_allows_resurrection() {
    let p = phoenix(true);
    let weak = Gc::downgrade(&p);
    drop(p);
    // The finalizer saw its weak reference alive and saved a strong handle.
    assert_eq!(take_log(), ["finalize upgrade=true"]);
    assert!(weak.is_alive(), "resurrected");
    let saved = SAVED.with(|s| s.borrow_mut().pop()).unwrap();
    assert!(saved.is_finalized());
    drop(saved);
    // Freed without a second finalizer run.
    assert!(take_log().is_empty());
    assert!(!weak.is_alive());
}

#[test]
fn pep_442_resurrected_objects_survive_and_are_counted_nowhere() {
    gc::collect();
    gc::set_finalizer_policy(FinalizerPolicy::Finalize);
    // x <-> y; x's finalizer saves y (its peer), which reaches x again.
    let x = phoenix(false);
    let y = phoenix(false);
    *x.peer.borrow_mut() = Some(y.clone());
    *y.peer.borrow_mut() = Some(x.clone());
    *x.me.borrow_mut() = gc::Weak::new();
    x.resurrect.set(true);
    let (wx, wy) = (Gc::downgrade(&x), Gc::downgrade(&y));
    // A separate garbage cycle that is really freed.
    let z = phoenix(false);
    *z.peer.borrow_mut() = Some(z.clone());
    let wz = Gc::downgrade(&z);
    drop((x, y, z));
    let before = gc::get_stats()[2];

    assert_eq!(
        gc::collect(),
        1,
        "only z is freed; x and y were resurrected"
    );
    let mut log = take_log();
    log.sort();
    // Weak references are cleared before finalizers run.
    assert_eq!(log, ["finalize upgrade=false"; 3]);
    assert!(!wz.is_alive());
    // The resurrected objects come back without their old weak references.
    assert!(!wx.is_alive() && !wy.is_alive());
    let after = gc::get_stats()[2];
    assert_eq!(after.collected - before.collected, 1);
    assert_eq!(after.uncollectable, before.uncollectable);

    let y = SAVED
        .with(|s| s.borrow_mut().pop())
        .unwrap()
        .downcast::<Phoenix>()
        .unwrap();
    assert!(gc::is_finalized(&y));
    // New weak references to a resurrected object work.
    let fresh = Gc::downgrade(&y);
    assert!(fresh.is_alive());
    let x = y.peer.borrow().clone().unwrap();
    assert!(gc::is_finalized(&x));
    drop(x);
    drop(y);
    // Dead again: freed without running the finalizers a second time.
    assert_eq!(gc::collect(), 2);
    assert!(take_log().is_empty());
    assert!(!fresh.is_alive());
}

#[test]
fn garbage_pointing_at_an_uncollectable_cycle_is_freed_while_the_cycle_stays() {
    gc::collect();
    gc::set_finalizer_policy(FinalizerPolicy::Uncollectable);
    let (wa, _wb, _wc) = seed_cycle();
    // d -> a, and d is a cycle of its own without a finalizer.
    #[derive(Trace)]
    struct D {
        me: RefCell<Option<Gc<D>>>,
        a: Option<Gc<A>>,
    }
    let d = Gc::new(D {
        me: RefCell::new(None),
        a: wa.upgrade(),
    });
    *d.me.borrow_mut() = Some(d.clone());
    let wd = Gc::downgrade(&d);
    drop(d);
    assert_eq!(gc::collect(), 4, "d collected, a/b/c uncollectable");
    assert!(!wd.is_alive());
    assert!(wa.is_alive());
    assert_eq!(gc::get_stats()[2].uncollectable, 3);
    // Clean up: break the seed cycle.
    let garbage = gc::take_garbage();
    garbage[0].downcast::<A>().unwrap().cc.borrow_mut().take();
    drop(garbage);
    assert_eq!(take_log(), ["B.__del__", "A.__del__"]);
}

#[test]
fn saveall_keeps_every_unreachable_object_in_garbage() {
    gc::collect();
    #[derive(Trace)]
    struct Node {
        other: RefCell<Option<Gc<Node>>>,
    }
    let a = Gc::new(Node {
        other: RefCell::new(None),
    });
    let b = Gc::new(Node {
        other: RefCell::new(Some(a.clone())),
    });
    *a.other.borrow_mut() = Some(b.clone());
    let wa = Gc::downgrade(&a);
    let (ida, idb) = (Gc::id(&a), Gc::id(&b));
    drop((a, b));
    gc::set_debug(DebugFlags::SAVEALL);
    assert_eq!(gc::collect(), 2);
    gc::set_debug(DebugFlags::empty());
    let garbage = gc::take_garbage();
    assert_eq!(
        garbage.iter().map(Object::id).collect::<Vec<_>>(),
        [ida, idb]
    );
    // Saved objects come back without their weak references, alive.
    assert!(!wa.is_alive());
    let a = garbage[0].downcast::<Node>().unwrap();
    assert!(a.other.borrow().is_some());
    assert_eq!(
        gc::get_stats()[2].collected,
        2,
        "SAVEALL counts as collected"
    );
    drop(a);
    drop(garbage);
    assert_eq!(gc::collect(), 2);
}

/// A `Write` that appends to a shared buffer.
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
    fn lines(&self) -> Vec<String> {
        let text = String::from_utf8(self.0.borrow().clone()).unwrap();
        text.lines().map(str::to_owned).collect()
    }
}

#[test]
fn debug_lines_use_cpythons_formats() {
    gc::collect();
    let capture = Capture::default();
    gc::set_debug_writer(capture.clone());
    let (wa, wb, wc) = seed_cycle();
    #[derive(Trace)]
    struct Node {
        other: RefCell<Option<Gc<Node>>>,
    }
    let n = Gc::new(Node {
        other: RefCell::new(None),
    });
    *n.other.borrow_mut() = Some(n.clone());
    let id_n = Gc::id(&n);
    drop(n);
    let keep = Gc::new(Node {
        other: RefCell::new(None),
    });
    gc::set_debug(DebugFlags::STATS | DebugFlags::COLLECTABLE | DebugFlags::UNCOLLECTABLE);
    assert_eq!(gc::collect(), 4);
    gc::set_debug(DebugFlags::empty());
    let lines = capture.lines();
    assert_eq!(lines[0], "gc: collecting generation 2...");
    assert_eq!(lines[1], "gc: objects in each generation: 5 0 0");
    assert_eq!(lines[2], "gc: objects in permanent generation: 0");
    assert_eq!(lines[3], format!("gc: collectable <Node {id_n:#x}>"));
    // The objects with finalizers first (list order), then what they reach.
    let ids = [
        wa.upgrade().map(|g| Gc::id(&g)).unwrap(),
        wb.upgrade().map(|g| Gc::id(&g)).unwrap(),
        wc.upgrade().map(|g| Gc::id(&g)).unwrap(),
    ];
    assert_eq!(lines[4], format!("gc: uncollectable <A {:#x}>", ids[0]));
    assert_eq!(lines[5], format!("gc: uncollectable <B {:#x}>", ids[1]));
    assert_eq!(lines[6], format!("gc: uncollectable <C {:#x}>", ids[2]));
    let done = &lines[7];
    assert!(
        done.starts_with("gc: done, 4 unreachable, 3 uncollectable, ")
            && done.ends_with("s elapsed"),
        "{done}"
    );
    let secs =
        &done["gc: done, 4 unreachable, 3 uncollectable, ".len()..done.len() - "s elapsed".len()];
    assert!(
        secs.parse::<f64>().is_ok() && secs.split('.').nth(1).unwrap().len() == 4,
        "{secs}"
    );
    assert_eq!(lines.len(), 8);
    // Nothing is printed without flags.
    gc::collect();
    assert_eq!(capture.lines().len(), 8);
    drop(keep);
    let garbage = gc::take_garbage();
    garbage[0].downcast::<A>().unwrap().cc.borrow_mut().take();
    drop(garbage);
    take_log();
}

#[test]
fn finalizer_that_allocates_and_collects_during_a_collection() {
    gc::collect();
    gc::set_finalizer_policy(FinalizerPolicy::Finalize);
    #[derive(Trace)]
    #[gc(finalize)]
    struct Busy {
        me: RefCell<Option<Gc<Busy>>>,
    }
    #[derive(Trace)]
    struct Fresh {
        me: RefCell<Option<Gc<Fresh>>>,
    }
    impl Finalize for Busy {
        fn finalize(&self) {
            log(format!("nested collect = {}", gc::collect()));
            let fresh = Gc::new(Fresh {
                me: RefCell::new(None),
            });
            *fresh.me.borrow_mut() = Some(fresh.clone());
            SAVED.with(|s| s.borrow_mut().push(Gc::to_object(&fresh)));
        }
    }
    let b = Gc::new(Busy {
        me: RefCell::new(None),
    });
    *b.me.borrow_mut() = Some(b.clone());
    drop(b);
    assert_eq!(gc::collect(), 1);
    assert_eq!(take_log(), ["nested collect = 0"]);
    let fresh = SAVED.with(|s| s.borrow_mut().pop()).unwrap();
    assert!(fresh.is::<Fresh>() && fresh.is_tracked());
    drop(fresh);
    // The object allocated during the collection is an ordinary cycle.
    assert_eq!(gc::collect(), 1);
}

#[derive(Trace)]
#[gc(finalize)]
struct Grenade {
    other: RefCell<Option<Gc<Grenade>>>,
    armed: bool,
}

impl Finalize for Grenade {
    fn finalize(&self) {
        log("grenade");
        assert!(!self.armed, "finalizer panicked");
    }
}

#[test]
fn panicking_finalizer_in_a_collection_counts_as_run() {
    gc::collect();
    gc::set_finalizer_policy(FinalizerPolicy::Finalize);
    let a = Gc::new(Grenade {
        other: RefCell::new(None),
        armed: true,
    });
    let b = Gc::new(Grenade {
        other: RefCell::new(Some(a.clone())),
        armed: false,
    });
    *a.other.borrow_mut() = Some(b.clone());
    let (wa, wb) = (Gc::downgrade(&a), Gc::downgrade(&b));
    drop((a, b));
    let err = catch_unwind(gc::collect).unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"finalizer panicked"));
    // Both finalizers ran (the panic did not stop the other one) and both
    // objects were freed: the heap is consistent.
    assert_eq!(take_log(), ["grenade", "grenade"]);
    assert!(!wa.is_alive() && !wb.is_alive());
    assert_eq!(gc::collect(), 0);
    assert!(gc::get_objects(None).is_empty());
}

#[test]
fn panicking_finalizer_on_refcount_death_propagates_after_the_object_is_freed() {
    let g = Gc::new(Grenade {
        other: RefCell::new(None),
        armed: true,
    });
    let weak = Gc::downgrade(&g);
    let result = catch_unwind(AssertUnwindSafe(move || drop(g)));
    assert!(result.is_err());
    assert_eq!(take_log(), ["grenade"]);
    assert!(!weak.is_alive());
    assert_eq!(gc::get_count().0, 0);
}

#[test]
fn an_acyclic_finalizer_object_only_garbage_refers_to_dies_during_teardown() {
    // CPython (2.7's collect(), 3.x's legacy finalizers): "tearing down the
    // garbage may also cause some objects in finalizers to be freed". An
    // object with a finalizer that is not on a cycle, referred to only by a
    // collectable cycle, dies by reference counting during the teardown; its
    // finalizer runs then, and it is counted neither collected nor kept.
    gc::collect();
    gc::set_finalizer_policy(FinalizerPolicy::Uncollectable);
    #[derive(Trace)]
    struct Holder {
        me: RefCell<Option<Gc<Holder>>>,
        b: Gc<B>,
    }
    let b = Gc::new(B {
        aa: RefCell::new(None),
    });
    let wb = Gc::downgrade(&b);
    let h = Gc::new(Holder {
        me: RefCell::new(None),
        b,
    });
    *h.me.borrow_mut() = Some(h.clone());
    drop(h);
    let before = gc::get_stats()[2];
    assert_eq!(gc::collect(), 1, "the holder; b died by reference counting");
    assert_eq!(take_log(), ["B.__del__"]);
    assert!(!wb.is_alive());
    assert!(gc::garbage().is_empty());
    let after = gc::get_stats()[2];
    assert_eq!(after.collected - before.collected, 1);
    assert_eq!(after.uncollectable, before.uncollectable);
}
