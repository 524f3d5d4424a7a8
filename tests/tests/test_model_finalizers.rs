//! A model test of finalizers, the garbage list and weak references: random
//! graphs of plain nodes and nodes with a finalizer, random edge changes,
//! root drops, collections and garbage-list handling, under both finalizer
//! policies, checked after every operation against an independent model.
//!
//! The model predicts, with plain sets and breadth-first searches:
//!
//! - reference counting frees at once every node not reachable from a root,
//!   from the garbage list, or from a node on a cycle;
//! - a full collection finds `U`, the nodes not reachable from a root or the
//!   garbage list. Under `Uncollectable`, the nodes of `U` with a pending
//!   finalizer and everything in `U` they reach are kept (and the ones with
//!   a finalizer join the garbage list); the rest of `U` is freed. Under
//!   `Finalize`, all of `U` is freed. `collect()` returns `|U|`;
//! - a finalizer runs at most once, and exactly once for every node with a
//!   finalizer that was freed;
//! - a `Weak` upgrades exactly while its node is alive, and a callback
//!   registered with `downgrade_with` fires exactly once, when its node dies.
//!
//! Every case ends with an empty heap (the garbage list is emptied, roots
//! dropped, cycles collected), so nothing leaks under Miri.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use gc_core::{self as gc, Finalize, FinalizerPolicy, Gc, Object, Trace, Weak};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

#[cfg(not(miri))]
const POOL: usize = 24;
#[cfg(miri)]
const POOL: usize = 8;
#[cfg(not(miri))]
const CASES: u32 = 256;
#[cfg(miri)]
const CASES: u32 = 3;
#[cfg(not(miri))]
const MAX_OPS: usize = 1500;
#[cfg(miri)]
const MAX_OPS: usize = 50;

thread_local! {
    /// Ids of the nodes whose value was dropped.
    static DROPPED: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
    /// Ids of the nodes whose finalizer ran, once per run.
    static FINALIZED: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
    /// Ids of the nodes whose weak callback fired, once per firing.
    static FIRED: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// Records its node's death from `Drop` (a leaf field may implement it).
struct Token(u32);

impl Drop for Token {
    fn drop(&mut self) {
        DROPPED.with(|d| d.borrow_mut().push(self.0));
    }
}

// SAFETY: owns no Gc.
unsafe impl Trace for Token {
    fn trace<V: gc::Tracer>(&self, _tracer: &mut V) {}
}

impl gc_core::TraceMeta for Token {
    const TRACKED: bool = false;
}

#[derive(Trace)]
struct Plain {
    token: Token,
    edges: RefCell<Vec<Edge>>,
}

#[derive(Trace)]
#[gc(finalize)]
struct Fin {
    token: Token,
    edges: RefCell<Vec<Edge>>,
}

impl Finalize for Fin {
    fn finalize(&self) {
        FINALIZED.with(|f| f.borrow_mut().push(self.token.0));
    }
}

/// A strong handle to either kind of node.
#[derive(Trace, Clone)]
enum Edge {
    Plain(Gc<Plain>),
    Fin(Gc<Fin>),
}

impl Edge {
    fn edges(&self) -> &RefCell<Vec<Edge>> {
        match self {
            Edge::Plain(p) => &p.edges,
            Edge::Fin(f) => &f.edges,
        }
    }

    fn id(&self) -> u32 {
        match self {
            Edge::Plain(p) => p.token.0,
            Edge::Fin(f) => f.token.0,
        }
    }

    fn from_object(o: &Object) -> Edge {
        o.downcast::<Plain>()
            .map(Edge::Plain)
            .or_else(|| o.downcast::<Fin>().map(Edge::Fin))
            .expect("only model nodes are on the heap")
    }
}

/// Either kind of weak handle.
enum WeakEdge {
    Plain(Weak<Plain>),
    Fin(Weak<Fin>),
}

impl WeakEdge {
    fn is_alive(&self) -> bool {
        match self {
            WeakEdge::Plain(w) => w.is_alive(),
            WeakEdge::Fin(w) => w.is_alive(),
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    New { fin: bool, callback: bool },
    AddEdge(usize, usize),
    RemoveEdge(usize, usize),
    DropRoot(usize),
    Collect,
    CollectGeneration(usize),
    TakeGarbage { keep: bool },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<bool>(), any::<bool>()).prop_map(|(fin, callback)| Op::New { fin, callback }),
        6 => (0..POOL, 0..POOL).prop_map(|(a, b)| Op::AddEdge(a, b)),
        2 => (0..POOL, 0..4usize).prop_map(|(a, i)| Op::RemoveEdge(a, i)),
        3 => (0..POOL).prop_map(Op::DropRoot),
        1 => Just(Op::Collect),
        1 => (0..3usize).prop_map(Op::CollectGeneration),
        1 => any::<bool>().prop_map(|keep| Op::TakeGarbage { keep }),
    ]
}

/// The independent model.
#[derive(Default)]
struct Model {
    /// Alive nodes and their edges (by id), in edge order.
    edges: BTreeMap<u32, Vec<u32>>,
    /// Nodes with a finalizer.
    fin: BTreeSet<u32>,
    /// Nodes whose finalizer has run.
    finalized: BTreeSet<u32>,
    /// Roots held by the test (with multiplicity).
    roots: Vec<u32>,
    /// Nodes held by the garbage list.
    garbage: Vec<u32>,
    /// Nodes with a callback weak.
    callbacks: BTreeSet<u32>,
}

impl Model {
    fn reach(&self, from: impl IntoIterator<Item = u32>, within: &BTreeSet<u32>) -> BTreeSet<u32> {
        let mut seen = BTreeSet::new();
        let mut queue: VecDeque<u32> = from.into_iter().filter(|n| within.contains(n)).collect();
        while let Some(n) = queue.pop_front() {
            if !seen.insert(n) {
                continue;
            }
            for &m in &self.edges[&n] {
                if within.contains(&m) && !seen.contains(&m) {
                    queue.push_back(m);
                }
            }
        }
        seen
    }

    fn alive(&self) -> BTreeSet<u32> {
        self.edges.keys().copied().collect()
    }

    /// Nodes on a cycle (each reaches itself through at least one edge).
    fn on_cycles(&self) -> BTreeSet<u32> {
        let all = self.alive();
        all.iter()
            .copied()
            .filter(|&n| {
                self.reach(self.edges[&n].iter().copied(), &all)
                    .contains(&n)
            })
            .collect()
    }

    fn held(&self) -> Vec<u32> {
        self.roots.iter().chain(&self.garbage).copied().collect()
    }

    /// What reference counting frees now.
    fn refcount_deaths(&self) -> BTreeSet<u32> {
        let all = self.alive();
        let kept = self.reach(self.held().into_iter().chain(self.on_cycles()), &all);
        all.difference(&kept).copied().collect()
    }

    fn kill(&mut self, dead: &BTreeSet<u32>) {
        for n in dead {
            self.edges.remove(n);
            if self.fin.contains(n) {
                self.finalized.insert(*n);
            }
        }
    }
}

/// The test's side: real handles, by id.
struct World {
    policy: FinalizerPolicy,
    next_id: u32,
    roots: Vec<Edge>,
    weaks: BTreeMap<u32, WeakEdge>,
    callback_weaks: Vec<WeakEdge>,
    model: Model,
}

fn drain(cell: &'static std::thread::LocalKey<RefCell<Vec<u32>>>) -> Vec<u32> {
    cell.with(|c| std::mem::take(&mut *c.borrow_mut()))
}

impl World {
    fn new(policy: FinalizerPolicy) -> World {
        World {
            policy,
            next_id: 0,
            roots: Vec::new(),
            weaks: BTreeMap::new(),
            callback_weaks: Vec::new(),
            model: Model::default(),
        }
    }

    fn node_by_id(&self, id: u32) -> Option<Edge> {
        let weak = self.weaks.get(&id)?;
        match weak {
            WeakEdge::Plain(w) => w.upgrade().map(Edge::Plain),
            WeakEdge::Fin(w) => w.upgrade().map(Edge::Fin),
        }
    }

    /// Applies the refcount deaths the model predicts after an operation
    /// that may free objects, and checks them.
    fn settle(&mut self) -> Result<(), TestCaseError> {
        let dead = self.model.refcount_deaths();
        self.model.kill(&dead);
        self.check_alive()
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let alive: Vec<u32> = self.model.edges.keys().copied().collect();
        match *op {
            Op::New { fin, callback } => {
                if alive.len() >= POOL {
                    return Ok(());
                }
                let id = self.next_id;
                self.next_id += 1;
                let edges = RefCell::new(Vec::new());
                let node = if fin {
                    Edge::Fin(Gc::new(Fin {
                        token: Token(id),
                        edges,
                    }))
                } else {
                    Edge::Plain(Gc::new(Plain {
                        token: Token(id),
                        edges,
                    }))
                };
                let weak = match &node {
                    Edge::Plain(p) => WeakEdge::Plain(Gc::downgrade(p)),
                    Edge::Fin(f) => WeakEdge::Fin(Gc::downgrade(f)),
                };
                self.weaks.insert(id, weak);
                if callback {
                    let fire = move || FIRED.with(|f| f.borrow_mut().push(id));
                    self.callback_weaks.push(match &node {
                        Edge::Plain(p) => WeakEdge::Plain(Gc::downgrade_with(p, fire)),
                        Edge::Fin(f) => WeakEdge::Fin(Gc::downgrade_with(f, fire)),
                    });
                    self.model.callbacks.insert(id);
                }
                self.roots.push(node);
                self.model.edges.insert(id, Vec::new());
                self.model.roots.push(id);
                if fin {
                    self.model.fin.insert(id);
                }
                Ok(())
            }
            Op::AddEdge(a, b) => {
                if alive.is_empty() {
                    return Ok(());
                }
                let (a, b) = (alive[a % alive.len()], alive[b % alive.len()]);
                let (na, nb) = (self.node_by_id(a).unwrap(), self.node_by_id(b).unwrap());
                na.edges().borrow_mut().push(nb);
                self.model.edges.get_mut(&a).unwrap().push(b);
                Ok(())
            }
            Op::RemoveEdge(a, i) => {
                if alive.is_empty() {
                    return Ok(());
                }
                let a = alive[a % alive.len()];
                let len = self.model.edges[&a].len();
                if len == 0 {
                    return Ok(());
                }
                let node = self.node_by_id(a).unwrap();
                let removed = node.edges().borrow_mut().remove(i % len);
                drop(node);
                self.model.edges.get_mut(&a).unwrap().remove(i % len);
                drop(removed);
                self.settle()
            }
            Op::DropRoot(i) => {
                if self.roots.is_empty() {
                    return Ok(());
                }
                let i = i % self.roots.len();
                let root = self.roots.remove(i);
                let id = self.model.roots.remove(i);
                prop_assert_eq!(root.id(), id);
                drop(root);
                self.settle()
            }
            Op::Collect => self.collect_full(),
            Op::CollectGeneration(g) => self.collect_partial(g),
            Op::TakeGarbage { keep } => {
                let taken: Vec<Edge> = gc::take_garbage().iter().map(Edge::from_object).collect();
                let ids: Vec<u32> = taken.iter().map(Edge::id).collect();
                let mut model_garbage = std::mem::take(&mut self.model.garbage);
                model_garbage.sort_unstable();
                let mut sorted = ids.clone();
                sorted.sort_unstable();
                prop_assert_eq!(&sorted, &model_garbage, "garbage list contents");
                if keep {
                    self.roots.extend(taken);
                    self.model.roots.extend(ids);
                } else {
                    drop(taken);
                }
                self.settle()
            }
        }
    }

    fn collect_full(&mut self) -> Result<(), TestCaseError> {
        let all = self.model.alive();
        let reachable = self.model.reach(self.model.held(), &all);
        let unreachable: BTreeSet<u32> = all.difference(&reachable).copied().collect();
        let (kept, pending) = match self.policy {
            FinalizerPolicy::Uncollectable => {
                let pending: BTreeSet<u32> = unreachable
                    .iter()
                    .copied()
                    .filter(|n| self.model.fin.contains(n) && !self.model.finalized.contains(n))
                    .collect();
                (
                    self.model.reach(pending.iter().copied(), &unreachable),
                    pending,
                )
            }
            FinalizerPolicy::Finalize => (BTreeSet::new(), BTreeSet::new()),
        };
        // The collectable part is freed; tearing it down may free kept nodes
        // that only it referred to (CPython: "it may also cause some objects
        // in finalizers to be freed"): only kept nodes reachable from a
        // cycle among the kept nodes survive.
        let collectable: BTreeSet<u32> = unreachable.difference(&kept).copied().collect();
        let mut kept_graph = Model::default();
        for n in &kept {
            let targets = self.model.edges[n]
                .iter()
                .copied()
                .filter(|m| kept.contains(m));
            kept_graph.edges.insert(*n, targets.collect());
        }
        let survivors = kept_graph.reach(kept_graph.on_cycles(), &kept);
        let found = gc::collect();
        prop_assert_eq!(
            found,
            collectable.len() + survivors.len(),
            "collect() = collected + uncollectable"
        );
        let mut freed = collectable;
        freed.extend(kept.difference(&survivors));
        self.model.garbage.extend(pending.intersection(&survivors));
        self.model.kill(&freed);
        self.check_alive()
    }

    /// A partial collection: the model cannot say exactly what it finds
    /// without modelling generations, so check the safety half and then
    /// adopt what happened.
    fn collect_partial(&mut self, generation: usize) -> Result<(), TestCaseError> {
        let all = self.model.alive();
        let reachable = self.model.reach(self.model.held(), &all);
        gc::collect_generation(generation);
        let garbage_now: Vec<u32> = gc::garbage()
            .iter()
            .map(|o| Edge::from_object(o).id())
            .collect();
        let mut freed = BTreeSet::new();
        for &n in &all {
            if !self.weaks[&n].is_alive() {
                prop_assert!(!reachable.contains(&n), "node {} freed while reachable", n);
                freed.insert(n);
            }
        }
        // The list only grows (in list order, which the model does not
        // predict): compare as multisets.
        let mut added = garbage_now.clone();
        for old in &self.model.garbage {
            let at = added.iter().position(|n| n == old);
            prop_assert!(at.is_some(), "node {} left the garbage list", old);
            added.remove(at.unwrap());
        }
        for n in &added {
            prop_assert!(
                !reachable.contains(n),
                "reachable node {} joined the garbage",
                n
            );
            prop_assert!(
                self.model.fin.contains(n),
                "node {} without finalizer in garbage",
                n
            );
        }
        self.model.garbage = garbage_now;
        self.model.kill(&freed);
        self.check_alive()
    }

    /// Every model-alive node is alive for real and every other one is dead;
    /// finalizers and callbacks ran exactly when and as often as they must.
    fn check_alive(&mut self) -> Result<(), TestCaseError> {
        for (&id, weak) in &self.weaks {
            let expected = self.model.edges.contains_key(&id);
            prop_assert_eq!(weak.is_alive(), expected, "node {} alive", id);
        }
        let mut dropped = drain(&DROPPED);
        dropped.sort_unstable();
        let mut finalized = drain(&FINALIZED);
        finalized.sort_unstable();
        let mut fired = drain(&FIRED);
        fired.sort_unstable();
        let newly_dead: Vec<u32> = self
            .weaks
            .keys()
            .copied()
            .filter(|id| !self.model.edges.contains_key(id))
            .collect();
        prop_assert_eq!(
            &dropped,
            &newly_dead,
            "values dropped exactly once, at death"
        );
        let expected_fired: Vec<u32> = newly_dead
            .iter()
            .copied()
            .filter(|id| self.model.callbacks.contains(id))
            .collect();
        prop_assert_eq!(&fired, &expected_fired, "callbacks fire once, at death");
        for id in &finalized {
            prop_assert!(self.model.fin.contains(id), "finalizer of {} ran", id);
        }
        // A finalizer runs once; every dead node with one has run it.
        let mut seen = BTreeSet::new();
        for id in &finalized {
            prop_assert!(seen.insert(*id), "finalizer of {} ran twice", id);
        }
        self.weaks.retain(|id, _| !newly_dead.contains(id));
        self.callback_weaks.retain(WeakEdge::is_alive);
        Ok(())
    }

    /// Empties the heap: takes the garbage, breaks every edge, drops roots.
    fn finish(mut self) -> Result<(), TestCaseError> {
        drop(gc::take_garbage());
        self.model.garbage.clear();
        for root in &self.roots {
            root.edges().borrow_mut().clear();
        }
        for id in self.model.alive() {
            if let Some(node) = self.node_by_id(id) {
                node.edges().borrow_mut().clear();
            }
        }
        self.roots.clear();
        gc::collect();
        prop_assert!(gc::get_objects(None).is_empty(), "heap empty at the end");
        prop_assert!(gc::garbage().is_empty());
        drain(&DROPPED);
        drain(&FINALIZED);
        drain(&FIRED);
        Ok(())
    }
}

fn run(policy: FinalizerPolicy, ops: &[Op]) -> Result<(), TestCaseError> {
    gc::collect();
    gc::set_finalizer_policy(policy);
    // Automatic collections would run at unpredictable points.
    gc::disable();
    let mut world = World::new(policy);
    let mut result = ops.iter().enumerate().try_for_each(|(i, op)| {
        world
            .apply(op)
            .map_err(|e| TestCaseError::fail(format!("op #{i} {op:?}: {e}")))
    });
    if result.is_ok() {
        result = world.collect_full();
    }
    // Always empty the heap, even after a failure, so the next case (and
    // the shrinking runs) start clean.
    let finished = world.finish();
    gc::enable();
    result.and(finished)
}

/// `CASES` cases; failing seeds are kept in the regressions file beside
/// this test, except under Miri, whose isolation forbids the file access.
fn config() -> ProptestConfig {
    let mut config = ProptestConfig {
        cases: CASES,
        ..ProptestConfig::default()
    };
    if cfg!(miri) {
        config.failure_persistence = None;
    }
    config
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn model_uncollectable_policy(ops in prop::collection::vec(op(), 1..MAX_OPS)) {
        run(FinalizerPolicy::Uncollectable, &ops)?;
    }

    #[test]
    fn model_finalize_policy(ops in prop::collection::vec(op(), 1..MAX_OPS)) {
        run(FinalizerPolicy::Finalize, &ops)?;
    }
}
