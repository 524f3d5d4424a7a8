//! Helpers shared by the integration tests: a graph node type, a drop
//! tracker that checks every value is dropped exactly once, and small
//! utilities (panic messages, callback logs).
//!
//! Each test file includes this module with `mod common;` and uses only part
//! of it, hence the `dead_code` allowance. The `graph` submodule holds the
//! types the `objgraph` tests (`test_objgraph_*.rs`) share.
#![allow(dead_code)]

pub mod graph;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gc_core::{CallbackId, CollectionInfo, Gc, Phase, Trace};

/// Records which values were dropped. Every [`DropToken`] it hands out has
/// a distinct number; dropping a token records that number.
#[derive(Default)]
pub struct Tracker {
    inner: Rc<TrackerInner>,
}

#[derive(Default)]
struct TrackerInner {
    issued: Cell<usize>,
    drops: RefCell<Vec<usize>>,
}

impl Tracker {
    pub fn new() -> Tracker {
        Tracker::default()
    }

    /// A fresh token; its drop is recorded here.
    pub fn token(&self) -> DropToken {
        let id = self.inner.issued.get();
        self.inner.issued.set(id + 1);
        DropToken {
            id,
            tracker: self.inner.clone(),
        }
    }

    /// Number of tokens handed out.
    pub fn issued(&self) -> usize {
        self.inner.issued.get()
    }

    /// Number of drops recorded (a token dropped twice counts twice).
    pub fn dropped(&self) -> usize {
        self.inner.drops.borrow().len()
    }

    /// Number of tokens not yet dropped. Panics if a token was dropped twice.
    pub fn alive(&self) -> usize {
        self.assert_no_double_drop();
        self.issued() - self.dropped()
    }

    /// Whether the token numbered `id` was dropped.
    pub fn is_dropped(&self, id: usize) -> bool {
        self.inner.drops.borrow().contains(&id)
    }

    /// Panics if any token was dropped more than once.
    pub fn assert_no_double_drop(&self) {
        let mut drops = self.inner.drops.borrow().clone();
        drops.sort_unstable();
        for pair in drops.windows(2) {
            assert_ne!(pair[0], pair[1], "value #{} was dropped twice", pair[0]);
        }
    }

    /// Panics unless every token handed out was dropped exactly once.
    pub fn assert_all_dropped_once(&self) {
        self.assert_no_double_drop();
        assert_eq!(
            self.dropped(),
            self.issued(),
            "{} of {} values were never dropped",
            self.issued() - self.dropped(),
            self.issued()
        );
    }
}

/// A field whose drop is recorded by a [`Tracker`].
pub struct DropToken {
    id: usize,
    tracker: Rc<TrackerInner>,
}

impl DropToken {
    pub fn id(&self) -> usize {
        self.id
    }
}

impl Drop for DropToken {
    fn drop(&mut self) {
        self.tracker.drops.borrow_mut().push(self.id);
    }
}

// SAFETY: a token owns no `Gc`; reporting nothing is exact.
unsafe impl Trace for DropToken {
    fn trace<V: gc_core::Tracer>(&self, _tracer: &mut V) {}
}

impl gc_core::TraceMeta for DropToken {
    const TRACKED: bool = false;
}

/// A graph node with any number of strong edges, tracked by the collector.
#[derive(Trace)]
pub struct Node {
    pub edges: RefCell<Vec<Gc<Node>>>,
    pub token: DropToken,
}

impl Node {
    /// A new node with no edges, whose drop `tracker` records.
    pub fn new(tracker: &Tracker) -> Gc<Node> {
        Gc::new(Node {
            edges: RefCell::new(Vec::new()),
            token: tracker.token(),
        })
    }

    /// Adds the edge `from -> to`.
    pub fn link(from: &Gc<Node>, to: &Gc<Node>) {
        from.edges.borrow_mut().push(to.clone());
    }

    /// The number of the node's drop token.
    pub fn token_id(this: &Gc<Node>) -> usize {
        this.token.id()
    }
}

/// `n` nodes linked in a ring (`ring[i] -> ring[i + 1]`, the last to the
/// first). A ring of one is a self-loop.
pub fn ring(tracker: &Tracker, n: usize) -> Vec<Gc<Node>> {
    let nodes: Vec<Gc<Node>> = (0..n).map(|_| Node::new(tracker)).collect();
    for (i, node) in nodes.iter().enumerate() {
        Node::link(node, &nodes[(i + 1) % n]);
    }
    nodes
}

/// The message of a panic payload caught by `catch_unwind`.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::from("<non-string panic payload>")
    }
}

/// Runs `f`, expecting it to panic, and returns the panic message.
pub fn expect_panic<R>(f: impl FnOnce() -> R) -> String {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic"),
        Err(payload) => panic_message(&*payload),
    }
}

/// Every collection callback event seen while it is registered; the
/// callback is removed when this is dropped (also when a test panics).
pub struct CallbackLog {
    id: Option<CallbackId>,
    events: Rc<RefCell<Vec<(Phase, CollectionInfo)>>>,
}

impl CallbackLog {
    pub fn register() -> CallbackLog {
        let events = Rc::new(RefCell::new(Vec::new()));
        let sink = events.clone();
        let id = gc_core::add_callback(move |phase, info| sink.borrow_mut().push((phase, *info)));
        CallbackLog {
            id: Some(id),
            events,
        }
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<(Phase, CollectionInfo)> {
        self.events.borrow().clone()
    }

    /// The generations of the collections that started so far.
    pub fn started(&self) -> Vec<usize> {
        self.events
            .borrow()
            .iter()
            .filter(|(phase, _)| *phase == Phase::Start)
            .map(|(_, info)| info.generation)
            .collect()
    }

    /// Forgets the events so far.
    pub fn clear(&self) {
        self.events.borrow_mut().clear();
    }
}

impl Drop for CallbackLog {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            gc_core::remove_callback(id);
        }
    }
}

/// Whether `objects` holds `gc`'s object.
pub fn contains<T: 'static>(objects: &[gc_core::Object], gc: &Gc<T>) -> bool {
    let id = Gc::id(gc);
    objects.iter().any(|o| o.id() == id)
}
