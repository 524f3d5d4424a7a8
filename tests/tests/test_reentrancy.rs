//! User code that runs *inside* a collection: the debug writer, destructors
//! of garbage, finalizers and panic payloads. Each test attacks one seam of
//! the re-entrancy contract (see the `collector` module docs) the way the
//! issue-9 attack did; each failed on the code before the fix, by assertion
//! or under Miri. Run under Miri (Stacked and Tree Borrows) in CI.

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use gc_core::{self as gc, DebugFlags, Finalize, FinalizerPolicy, Gc, Trace, Tracer};

/// A debug writer that runs `on_line` for every line it is given.
struct HookWriter {
    lines: Rc<RefCell<Vec<String>>>,
    on_line: Box<dyn FnMut(&str)>,
    partial: String,
}

impl HookWriter {
    fn install(on_line: impl FnMut(&str) + 'static) -> Rc<RefCell<Vec<String>>> {
        let lines = Rc::new(RefCell::new(Vec::new()));
        gc::set_debug_writer(HookWriter::new(lines.clone(), on_line));
        lines
    }
}

impl HookWriter {
    fn new(lines: Rc<RefCell<Vec<String>>>, on_line: impl FnMut(&str) + 'static) -> Self {
        HookWriter {
            lines,
            on_line: Box::new(on_line),
            partial: String::new(),
        }
    }
}

impl Write for HookWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.partial.push_str(&String::from_utf8_lossy(buf));
        while let Some(end) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=end).collect();
            let line = line.trim_end().to_owned();
            (self.on_line)(&line);
            self.lines.borrow_mut().push(line);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A plain node with a heap-allocated payload (so a use after free reads
/// freed memory that Miri and ASan see).
#[derive(Trace)]
struct Node {
    next: RefCell<Option<Gc<Node>>>,
    payload: Vec<u64>,
}

fn self_cycle() -> Gc<Node> {
    let n = Gc::new(Node {
        next: RefCell::new(None),
        payload: vec![7; 4],
    });
    *n.next.borrow_mut() = Some(n.clone());
    n
}

/// Issue 9, bug 1: the `COLLECTABLE` writer ran after the garbage was
/// decided and before it was condemned, so a writer could upgrade a `Weak`
/// to an object the collection then freed.
#[test]
fn collectable_writer_cannot_reach_the_garbage() {
    gc::collect();
    let stolen: Rc<RefCell<Vec<Gc<Node>>>> = Rc::default();
    let node = self_cycle();
    let weak = Gc::downgrade(&node);
    let keep = stolen.clone();
    let lines = HookWriter::install(move |_| {
        if let Some(g) = weak.upgrade() {
            keep.borrow_mut().push(g);
        }
    });
    gc::set_debug(DebugFlags::COLLECTABLE);
    drop(node);
    assert_eq!(gc::collect(), 1);
    gc::set_debug(DebugFlags::empty());
    assert_eq!(lines.borrow().len(), 1, "one collectable line");
    assert!(lines.borrow()[0].starts_with("gc: collectable <Node 0x"));
    // Before the fix the writer got a handle to freed memory here.
    for g in stolen.borrow().iter() {
        assert_eq!(g.payload, [7; 4]);
    }
    assert!(
        stolen.borrow().is_empty(),
        "the writer upgraded a weak reference to garbage"
    );
}

thread_local! {
    static FINALIZED: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

#[derive(Trace)]
#[gc(finalize)]
struct Res {
    id: u32,
    other: RefCell<Option<Gc<Res>>>,
    payload: Vec<u64>,
}

impl Finalize for Res {
    fn finalize(&self) {
        FINALIZED.with(|f| f.borrow_mut().push(self.id));
    }
}

fn res_cycle(id: u32) -> Gc<Res> {
    let r = Gc::new(Res {
        id,
        other: RefCell::new(None),
        payload: vec![1; 4],
    });
    *r.other.borrow_mut() = Some(r.clone());
    r
}

/// Issue 9, bug 2: the `UNCOLLECTABLE` writer ran while the finalizers list
/// was being iterated; a writer that freed the next object on that list
/// (breaking its self-cycle and dropping the last handle) made the iterator
/// read freed memory.
#[test]
fn uncollectable_writer_cannot_free_the_next_kept_object() {
    gc::collect();
    gc::take_garbage();
    FINALIZED.with(|f| f.borrow_mut().clear());
    let first = res_cycle(1);
    let second = res_cycle(2);
    let weak_second = Gc::downgrade(&second);
    let lines = HookWriter::install(move |line| {
        if line.starts_with("gc: uncollectable")
            && let Some(s) = weak_second.upgrade()
        {
            // Break the cycle and drop the handle: before the fix this
            // freed `second` while the collector's cursor pointed at it.
            drop(s.other.borrow_mut().take());
            drop(s);
        }
    });
    gc::set_debug(DebugFlags::UNCOLLECTABLE);
    drop((first, second));
    assert_eq!(gc::collect(), 2);
    gc::set_debug(DebugFlags::empty());
    let uncollectable = lines
        .borrow()
        .iter()
        .filter(|l| l.starts_with("gc: uncollectable"))
        .count();
    assert_eq!(uncollectable, 2);
    // Both objects are on the garbage list, alive; `second`'s cycle was
    // broken by the writer, so it is freed (and finalized) once the list
    // lets it go.
    let garbage = gc::take_garbage();
    assert_eq!(garbage.len(), 2);
    for obj in &garbage {
        assert_eq!(obj.downcast::<Res>().unwrap().payload, [1; 4]);
    }
    assert_eq!(FINALIZED.with(|f| f.borrow().clone()), Vec::<u32>::new());
    let first = garbage[0].downcast::<Res>().unwrap();
    drop(first.other.borrow_mut().take());
    drop((garbage, first));
    let mut finalized = FINALIZED.with(|f| f.borrow().clone());
    finalized.sort_unstable();
    assert_eq!(finalized, [1, 2]);
}

/// A field whose `Drop` runs arbitrary code (it owns no `Gc`, so the type
/// holding it may derive `Trace`).
struct OnDrop(Option<Box<dyn FnOnce()>>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

// SAFETY: owns no `Gc`.
unsafe impl Trace for OnDrop {
    fn trace<V: Tracer>(&self, _: &mut V) {}
}

impl gc_core::TraceMeta for OnDrop {
    const TRACKED: bool = false;
}

/// A node whose `children` are dropped before its `hook` runs: a tracer
/// that reached this value from the hook would read a freed `Vec`.
#[derive(Trace)]
struct Parent {
    children: RefCell<Vec<Gc<Parent>>>,
    hook: OnDrop,
}

/// Issue 9, bug 3: `objgraph::roots()`/`is_root()` called from a `Drop`
/// during teardown traced every list, including the garbage being torn
/// down, and so read a value that was half dropped. Fails under Miri on the
/// old code.
#[test]
fn introspection_from_a_destructor_skips_the_garbage() {
    gc::collect();
    let live = Gc::new(Parent {
        children: RefCell::new(Vec::new()),
        hook: OnDrop(None),
    });
    let seen = Rc::new(Cell::new(0));
    let make = |seen: &Rc<Cell<usize>>, live: &Gc<Parent>| {
        let seen = seen.clone();
        let live = Gc::to_object(live);
        Gc::new(Parent {
            children: RefCell::new(Vec::new()),
            hook: OnDrop(Some(Box::new(move || {
                let roots = gc::objgraph::roots();
                assert!(roots.contains(&live));
                assert!(gc::objgraph::is_root(&live));
                let _ = gc::get_referrers(&live);
                let _ = gc::get_objects(None);
                let _ = gc::objgraph::typestats();
                seen.set(seen.get() + 1);
            }))),
        })
    };
    let a = make(&seen, &live);
    let b = make(&seen, &live);
    a.children.borrow_mut().extend([b.clone(), live.clone()]);
    b.children.borrow_mut().extend([a.clone(), live.clone()]);
    drop((a, b));
    assert_eq!(gc::collect(), 2);
    assert_eq!(seen.get(), 2);
    assert_eq!(Gc::strong_count(&live), 1);
}

/// A panic payload whose own `Drop` panics.
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            std::panic::panic_any(String::from("bomb payload dropped"));
        }
    }
}

/// Issue 9, bug 4: a destructor panicking during teardown with a payload
/// whose own `Drop` panics made `Heap::note_panic` unwind after the
/// collector's guard was gone, leaving a value-dropped object on a list for
/// the next collection to drop again.
#[test]
fn a_panic_payload_that_panics_on_drop_does_not_corrupt_the_heap() {
    gc::collect();
    let drops = Rc::new(Cell::new(0));
    let make = |first_panic: bool| {
        let drops = drops.clone();
        Gc::new(Parent {
            children: RefCell::new(Vec::new()),
            hook: OnDrop(Some(Box::new(move || {
                drops.set(drops.get() + 1);
                if first_panic {
                    std::panic::panic_any(String::from("first"));
                } else {
                    std::panic::panic_any(Bomb);
                }
            }))),
        })
    };
    let nodes: Vec<Gc<Parent>> = (0..4).map(|i| make(i == 0)).collect();
    for (i, n) in nodes.iter().enumerate() {
        n.children
            .borrow_mut()
            .push(nodes[(i + 1) % nodes.len()].clone());
    }
    drop(nodes);
    let silenced = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(gc::collect);
    std::panic::set_hook(silenced);
    let payload = result.expect_err("the first destructor panic propagates");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("first")
    );
    assert_eq!(drops.get(), 4, "every value dropped once");
    // Before the fix the next collection dropped a value a second time.
    assert_eq!(gc::collect(), 0);
    assert_eq!(drops.get(), 4);
    assert!(gc::get_objects(None).is_empty());
}

/// Issue 9, bug 10: `set_debug_writer` called from inside the writer
/// panicked (the writer's `RefCell` was borrowed); now the new writer takes
/// over from the next line.
#[test]
fn set_debug_writer_from_inside_the_writer() {
    gc::collect();
    let second: Rc<RefCell<Vec<String>>> = Rc::default();
    let sink = second.clone();
    let first = HookWriter::install(move |_| {
        let sink = sink.clone();
        gc::set_debug_writer(HookWriter::new(sink, |_| {}));
    });
    gc::set_debug(DebugFlags::STATS);
    let result = catch_unwind(gc::collect);
    gc::set_debug(DebugFlags::empty());
    assert!(
        result.is_ok(),
        "set_debug_writer inside the writer panicked"
    );
    assert_eq!(first.borrow().len(), 1);
    assert!(first.borrow()[0].starts_with("gc: collecting generation 2"));
    assert_eq!(second.borrow().len(), 3);
    assert!(second.borrow()[2].starts_with("gc: done"));
}

thread_local! {
    static PANIC_AFTER: Cell<Option<u32>> = const { Cell::new(None) };
}

/// A node with a manual `Trace` that panics once armed with `Some(n)`, on
/// the `n + 1`-th call after arming.
struct Fragile {
    next: RefCell<Option<Gc<Fragile>>>,
    drops: Rc<Cell<usize>>,
}

impl Drop for Fragile {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
    }
}

// SAFETY: reports the one `Gc` it owns; panicking is allowed.
unsafe impl Trace for Fragile {
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        if let Some(n) = PANIC_AFTER.get() {
            if n == 0 {
                PANIC_AFTER.set(None);
                panic!("fragile trace");
            }
            PANIC_AFTER.set(Some(n - 1));
        }
        tracer.field("next", |t| self.next.trace(t));
    }
}

impl gc_core::TraceMeta for Fragile {}

thread_local! {
    static RESURRECTED: RefCell<Option<Gc<Fragile>>> = const { RefCell::new(None) };
}

/// Resurrects `target` and switches the policy back to `Uncollectable`.
#[derive(Trace)]
#[gc(finalize)]
struct Switcher {
    target: RefCell<Option<Gc<Fragile>>>,
    me: RefCell<Option<Gc<Switcher>>>,
}

impl Finalize for Switcher {
    fn finalize(&self) {
        gc::set_finalizer_policy(FinalizerPolicy::Uncollectable);
        RESURRECTED.with(|r| *r.borrow_mut() = self.target.borrow().clone());
        // The re-check after the finalizers traces `lost` and `kept` in
        // `subtract_refs`, then `kept` again once it is found resurrected,
        // after `lost` was moved to the still-unreachable list: panic then.
        PANIC_AFTER.set(Some(2));
    }
}

/// Issue 9, bug 10: a finalizer that changed the policy, followed by a
/// panicking manual `Trace`, left objects counted as held by the collector:
/// they leaked.
#[test]
fn a_policy_change_by_a_finalizer_does_not_leak_on_a_trace_panic() {
    gc::collect();
    gc::set_finalizer_policy(FinalizerPolicy::Finalize);
    let drops = Rc::new(Cell::new(0));
    // `lost` is garbage that stays unreachable after the finalizer runs; the
    // switcher resurrects `kept`, whose trace then panics.
    let lost = Gc::new(Fragile {
        next: RefCell::new(None),
        drops: drops.clone(),
    });
    *lost.next.borrow_mut() = Some(lost.clone());
    let kept = Gc::new(Fragile {
        next: RefCell::new(None),
        drops: drops.clone(),
    });
    let switcher = Gc::new(Switcher {
        target: RefCell::new(Some(kept.clone())),
        me: RefCell::new(None),
    });
    *switcher.me.borrow_mut() = Some(switcher.clone());
    *kept.next.borrow_mut() = Some(kept.clone());
    drop((lost, kept, switcher));
    let silenced = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(gc::collect));
    std::panic::set_hook(silenced);
    assert!(result.is_err(), "the trace panic propagates");
    PANIC_AFTER.set(None);
    RESURRECTED.with(|r| r.borrow_mut().take());
    gc::set_finalizer_policy(FinalizerPolicy::Finalize);
    gc::collect();
    gc::collect();
    assert_eq!(drops.get(), 2, "both Fragile values are freed in the end");
    assert!(gc::get_objects(None).is_empty());
    gc::set_finalizer_policy(FinalizerPolicy::Uncollectable);
}

/// A payload whose `Drop` always panics, even while unwinding: dropped by
/// an unwind, it aborts the process.
struct Grenade;

impl Drop for Grenade {
    fn drop(&mut self) {
        panic!("grenade payload dropped");
    }
}

/// A value whose destructor panics.
struct Boom;

impl Drop for Boom {
    fn drop(&mut self) {
        panic!("value drop");
    }
}

#[derive(Trace)]
#[gc(finalize)]
struct Doomed {
    #[gc(skip)]
    _boom: Boom,
}

impl Finalize for Doomed {
    fn finalize(&self) {
        std::panic::panic_any(Grenade);
    }
}

#[derive(Trace)]
struct Holder {
    me: RefCell<Option<Gc<Holder>>>,
    doomed: Gc<Doomed>,
}

/// Found by review after the issue-9 fixes: on refcount death, a finalizer's
/// panic payload was held in a local while the value's destructor ran; when
/// that destructor panicked too, the unwind dropped the payload, whose own
/// `Drop` panicked: the process aborted (natively and inside a collection's
/// teardown). Now the destructor's panic is caught, the finalizer's panic
/// propagates as documented, and no payload is dropped by an unwind.
#[test]
fn a_finalizer_payload_survives_a_panicking_destructor() {
    let silenced = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    // Reference-count death.
    let doomed = Gc::new(Doomed { _boom: Boom });
    let result = catch_unwind(AssertUnwindSafe(|| drop(doomed)));
    let payload = result.expect_err("the finalizer's panic propagates");
    assert!(payload.is::<Grenade>(), "the finalizer's panic wins");
    std::mem::forget(payload);
    // The same object dying by reference counting during a teardown.
    gc::collect();
    let holder = Gc::new(Holder {
        me: RefCell::new(None),
        doomed: Gc::new(Doomed { _boom: Boom }),
    });
    *holder.me.borrow_mut() = Some(holder.clone());
    drop(holder);
    let result = catch_unwind(gc::collect);
    std::panic::set_hook(silenced);
    let payload = result.expect_err("the finalizer's panic propagates out of collect()");
    assert!(payload.is::<Grenade>());
    std::mem::forget(payload);
    assert!(gc::get_objects(None).is_empty());
}
