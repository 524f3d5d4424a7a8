//! A model test of the whole collector: random operations on a graph of
//! nodes, checked after every operation against an independent model.
//!
//! The model is plain data: a map from node id to its edge list, the set of
//! rooted ids, and for each node its generation (or "frozen"). It predicts
//!
//! - which nodes reference counting frees at once (a node dies when no root
//!   and no edge from a living node refers to it),
//! - what each collection of generation `g` finds (the nodes of generations
//!   `0..=g` not reachable from a root, an older or frozen node), and what
//!   dies with them by reference counting,
//! - when automatic collections run and which generation they pick (count0
//!   over threshold0, the oldest generation over its threshold, the
//!   long-lived 25% rule),
//! - `get_count()`, each node's generation, `get_objects` and
//!   `get_freeze_count()`.
//!
//! The real nodes record their own death in a shared set from a `Drop` of
//! one of their fields. After every operation the test checks, in this
//! order, that no node reachable from a root was freed, that exactly the
//! nodes the model expects are alive, and that the counters agree. After
//! every full `collect()` it also checks that exactly the nodes unreachable
//! from the roots (and the frozen nodes) are gone.
//!
//! Every case starts and ends with an empty heap: it unfreezes, drops its
//! roots and collects at the end, so no cycle outlives the test (Miri's leak
//! check).

mod common;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::rc::Rc;

use common::CallbackLog;
use gc_core::{Gc, Phase, Trace, Weak};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

/// Most nodes alive at once; an allocation beyond it does nothing.
#[cfg(not(miri))]
const POOL: usize = 40;
#[cfg(miri)]
const POOL: usize = 10;

#[cfg(not(miri))]
const CASES: u32 = 256;
#[cfg(miri)]
const CASES: u32 = 4;

#[cfg(not(miri))]
const MAX_OPS: usize = 3000;
#[cfg(miri)]
const MAX_OPS: usize = 60;

// ---------------------------------------------------------------------------
// The real nodes.

type AliveSet = Rc<RefCell<Alive>>;

/// Which nodes are alive, and any node dropped twice (or never registered).
#[derive(Default)]
struct Alive {
    ids: HashSet<usize>,
    bad_drops: Vec<usize>,
}

/// Removes its node's id from the alive set when dropped.
struct AliveToken {
    id: usize,
    alive: AliveSet,
}

impl Drop for AliveToken {
    fn drop(&mut self) {
        let mut alive = self.alive.borrow_mut();
        if !alive.ids.remove(&self.id) {
            alive.bad_drops.push(self.id);
        }
    }
}

// SAFETY: owns no `Gc`; reporting nothing is exact.
unsafe impl Trace for AliveToken {
    fn trace<V: gc_core::Tracer>(&self, _tracer: &mut V) {}
}

impl gc_core::TraceMeta for AliveToken {
    const TRACKED: bool = false;
}

#[derive(Trace)]
struct MNode {
    id: usize,
    edges: RefCell<Vec<Gc<MNode>>>,
    token: AliveToken,
}

// ---------------------------------------------------------------------------
// Operations.

#[derive(Clone, Debug)]
enum Op {
    /// Allocate a node and root it (may run an automatic collection first).
    Alloc,
    /// Add an edge between two living nodes (picked by index).
    AddEdge(usize, usize),
    /// Remove an edge of a living node (picked by index).
    RemoveEdge(usize, usize),
    /// Drop a root.
    DropRoot(usize),
    /// Root again a living, unrooted node, through a `Weak`.
    Reroot(usize),
    Collect,
    CollectGeneration(usize),
    Freeze,
    Unfreeze,
    SetEnabled(bool),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let index = 0..POOL * 2;
    prop_oneof![
        25 => Just(Op::Alloc),
        25 => (index.clone(), index.clone()).prop_map(|(a, b)| Op::AddEdge(a, b)),
        12 => (index.clone(), 0..8usize).prop_map(|(a, i)| Op::RemoveEdge(a, i)),
        15 => index.clone().prop_map(Op::DropRoot),
        4 => index.prop_map(Op::Reroot),
        2 => Just(Op::Collect),
        6 => (0..=2usize).prop_map(Op::CollectGeneration),
        1 => Just(Op::Freeze),
        1 => Just(Op::Unfreeze),
        1 => any::<bool>().prop_map(Op::SetEnabled),
    ]
}

fn thresholds_strategy() -> impl Strategy<Value = (usize, usize, usize)> {
    let t0 = prop_oneof![2 => Just(0usize), 12 => 1..30usize, 1 => Just(700usize)];
    (t0, 0..4usize, 0..4usize)
}

// ---------------------------------------------------------------------------
// The model.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gen {
    Young(usize),
    Frozen,
}

struct ModelNode {
    edges: Vec<usize>,
    generation: Gen,
}

struct Model {
    /// The nodes the model believes alive.
    nodes: BTreeMap<usize, ModelNode>,
    roots: BTreeSet<usize>,
    counts: [usize; 3],
    thresholds: [usize; 3],
    enabled: bool,
    long_lived_total: usize,
    long_lived_pending: isize,
}

impl Model {
    fn new(thresholds: (usize, usize, usize)) -> Model {
        Model {
            nodes: BTreeMap::new(),
            roots: BTreeSet::new(),
            counts: [0; 3],
            thresholds: [thresholds.0, thresholds.1, thresholds.2],
            enabled: true,
            long_lived_total: 0,
            long_lived_pending: 0,
        }
    }

    /// Reference counting: frees every node no root and no living node
    /// refers to, until none is left. Returns the freed ids.
    fn release_unreferenced(&mut self) -> Vec<usize> {
        let mut freed = Vec::new();
        loop {
            let mut referenced: HashSet<usize> = self.roots.iter().copied().collect();
            for node in self.nodes.values() {
                referenced.extend(node.edges.iter().copied());
            }
            let dead: Vec<usize> = self
                .nodes
                .keys()
                .copied()
                .filter(|id| !referenced.contains(id))
                .collect();
            if dead.is_empty() {
                return freed;
            }
            for id in dead {
                let node = self.nodes.remove(&id).unwrap();
                // A tracked deallocation: count0 -= 1 if positive.
                self.counts[0] = self.counts[0].saturating_sub(1);
                // gc-core's long-lived rule counts generation 2's net
                // growth: a generation-2 death by reference counting is
                // subtracted (CPython counts promotions only).
                if node.generation == Gen::Young(2) {
                    self.long_lived_pending -= 1;
                }
                freed.push(id);
            }
        }
    }

    /// Everything reachable from `start` through edges between living nodes.
    fn reachable_from(&self, start: impl IntoIterator<Item = usize>) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut queue: VecDeque<usize> = start.into_iter().collect();
        while let Some(id) = queue.pop_front() {
            if self.nodes.contains_key(&id) && seen.insert(id) {
                queue.extend(self.nodes[&id].edges.iter().copied());
            }
        }
        seen
    }

    fn frozen(&self) -> impl Iterator<Item = usize> + '_ {
        self.nodes
            .iter()
            .filter(|(_, n)| n.generation == Gen::Frozen)
            .map(|(&id, _)| id)
    }

    /// A collection of generation `g`; returns how many nodes it finds
    /// unreachable.
    fn collect(&mut self, g: usize) -> usize {
        if g < 2 {
            self.counts[g + 1] += 1;
        }
        for count in &mut self.counts[..=g] {
            *count = 0;
        }
        let young: BTreeSet<usize> = self
            .nodes
            .iter()
            .filter(|(_, n)| matches!(n.generation, Gen::Young(x) if x <= g))
            .map(|(&id, _)| id)
            .collect();
        // Referenced from outside the collected generations: a root, or an
        // edge from an older or frozen node (living, reachable or not).
        let mut external: BTreeSet<usize> = self
            .roots
            .iter()
            .copied()
            .filter(|id| young.contains(id))
            .collect();
        for (id, node) in &self.nodes {
            if !young.contains(id) {
                external.extend(node.edges.iter().copied().filter(|t| young.contains(t)));
            }
        }
        // Reachable from those, moving only through the collected nodes.
        let mut reachable = BTreeSet::new();
        let mut queue: VecDeque<usize> = external.into_iter().collect();
        while let Some(id) = queue.pop_front() {
            if young.contains(&id) && reachable.insert(id) {
                queue.extend(self.nodes[&id].edges.iter().copied());
            }
        }
        let survivors = reachable.len();
        let target = (g + 1).min(2);
        for id in &reachable {
            self.nodes.get_mut(id).unwrap().generation = Gen::Young(target);
        }
        match g {
            1 => self.long_lived_pending += survivors as isize,
            2 => {
                self.long_lived_pending = 0;
                self.long_lived_total = survivors;
            }
            _ => {}
        }
        let garbage: Vec<usize> = young.difference(&reachable).copied().collect();
        for id in &garbage {
            self.nodes.remove(id);
        }
        // Tearing the garbage down drops its edges: older nodes it alone
        // referred to die by reference counting.
        self.release_unreferenced();
        garbage.len()
    }

    /// A tracked allocation: counts it, runs the automatic collection if one
    /// is due and returns its generation and result.
    fn allocate(&mut self, id: usize) -> Option<(usize, usize)> {
        self.counts[0] += 1;
        let mut auto = None;
        if self.enabled && self.thresholds[0] != 0 && self.counts[0] > self.thresholds[0] {
            let g = (0..3)
                .rev()
                .find(|&g| {
                    self.counts[g] > self.thresholds[g]
                        && (g != 2
                            || self.long_lived_pending >= (self.long_lived_total / 4) as isize)
                })
                .expect("count0 exceeds threshold0");
            auto = Some((g, self.collect(g)));
        }
        self.nodes.insert(
            id,
            ModelNode {
                edges: Vec::new(),
                generation: Gen::Young(0),
            },
        );
        self.roots.insert(id);
        auto
    }

    fn freeze(&mut self) {
        for node in self.nodes.values_mut() {
            node.generation = Gen::Frozen;
        }
        self.counts[0] = 0;
    }

    fn unfreeze(&mut self) {
        for node in self.nodes.values_mut() {
            if node.generation == Gen::Frozen {
                node.generation = Gen::Young(2);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The harness: the real heap next to the model.

struct Harness {
    model: Model,
    alive: AliveSet,
    roots: BTreeMap<usize, Gc<MNode>>,
    /// A `Weak` to every node the model believes alive.
    weaks: BTreeMap<usize, Weak<MNode>>,
    next_id: usize,
    log: CallbackLog,
}

impl Harness {
    fn new(thresholds: (usize, usize, usize)) -> Harness {
        let harness = Harness {
            model: Model::new(thresholds),
            alive: AliveSet::default(),
            roots: BTreeMap::new(),
            weaks: BTreeMap::new(),
            next_id: 0,
            log: CallbackLog::register(),
        };
        gc_core::set_threshold(thresholds.0, thresholds.1, thresholds.2);
        gc_core::enable();
        harness
    }

    /// A strong handle to a node the model believes alive.
    fn handle(&self, id: usize) -> Gc<MNode> {
        let node = self.weaks[&id]
            .upgrade()
            .unwrap_or_else(|| panic!("node {id} should be alive but its Weak is dead"));
        assert_eq!(node.id, id);
        node
    }

    fn living(&self) -> Vec<usize> {
        self.model.nodes.keys().copied().collect()
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        self.log.clear();
        let mut expected_collection = None;
        match *op {
            Op::Alloc => {
                if self.model.nodes.len() >= POOL {
                    return Ok(());
                }
                let id = self.next_id;
                self.next_id += 1;
                self.alive.borrow_mut().ids.insert(id);
                let node = Gc::new(MNode {
                    id,
                    edges: RefCell::new(Vec::new()),
                    token: AliveToken {
                        id,
                        alive: self.alive.clone(),
                    },
                });
                self.weaks.insert(id, Gc::downgrade(&node));
                self.roots.insert(id, node);
                expected_collection = self.model.allocate(id);
            }
            Op::AddEdge(a, b) => {
                let living = self.living();
                if living.is_empty() {
                    return Ok(());
                }
                let (a, b) = (living[a % living.len()], living[b % living.len()]);
                let (from, to) = (self.handle(a), self.handle(b));
                from.edges.borrow_mut().push(to);
                drop(from);
                self.model.nodes.get_mut(&a).unwrap().edges.push(b);
            }
            Op::RemoveEdge(a, i) => {
                let living = self.living();
                if living.is_empty() {
                    return Ok(());
                }
                let a = living[a % living.len()];
                let edges = &mut self.model.nodes.get_mut(&a).unwrap().edges;
                if edges.is_empty() {
                    return Ok(());
                }
                let i = i % edges.len();
                let target = edges.remove(i);
                let from = self.handle(a);
                let removed = from.edges.borrow_mut().remove(i);
                prop_assert_eq!(removed.id, target);
                drop(removed);
                drop(from);
                self.model.release_unreferenced();
            }
            Op::DropRoot(i) => {
                if self.roots.is_empty() {
                    return Ok(());
                }
                let id = *self.roots.keys().nth(i % self.roots.len()).unwrap();
                drop(self.roots.remove(&id));
                self.model.roots.remove(&id);
                self.model.release_unreferenced();
            }
            Op::Reroot(i) => {
                let unrooted: Vec<usize> = self
                    .living()
                    .into_iter()
                    .filter(|id| !self.roots.contains_key(id))
                    .collect();
                if unrooted.is_empty() {
                    return Ok(());
                }
                let id = unrooted[i % unrooted.len()];
                let node = self.handle(id);
                self.roots.insert(id, node);
                self.model.roots.insert(id);
            }
            Op::Collect => {
                let reachable_before = self.model.reachable_from(self.model.roots.clone());
                let found = gc_core::collect();
                let expected = self.model.collect(2);
                prop_assert_eq!(found, expected, "collect() found");
                expected_collection = Some((2, expected));
                self.check_full_collection(&reachable_before)?;
            }
            Op::CollectGeneration(g) => {
                let found = gc_core::collect_generation(g);
                let expected = self.model.collect(g);
                prop_assert_eq!(found, expected, "collect_generation({}) found", g);
                expected_collection = Some((g, expected));
            }
            Op::Freeze => {
                gc_core::freeze();
                self.model.freeze();
            }
            Op::Unfreeze => {
                gc_core::unfreeze();
                self.model.unfreeze();
            }
            Op::SetEnabled(on) => {
                if on {
                    gc_core::enable();
                } else {
                    gc_core::disable();
                }
                self.model.enabled = on;
            }
        }
        self.check_collections(expected_collection)?;
        self.check()
    }

    /// The collection the operation ran, as the callbacks saw it.
    fn check_collections(&self, expected: Option<(usize, usize)>) -> Result<(), TestCaseError> {
        let seen: Vec<(Phase, usize, usize)> = self
            .log
            .events()
            .iter()
            .map(|(phase, info)| (*phase, info.generation, info.collected))
            .collect();
        let expected: Vec<(Phase, usize, usize)> = match expected {
            Some((g, n)) => vec![(Phase::Start, g, 0), (Phase::Stop, g, n)],
            None => Vec::new(),
        };
        prop_assert_eq!(
            seen,
            expected,
            "collections run (phase, generation, collected)"
        );
        Ok(())
    }

    /// After a full collection, exactly the nodes unreachable from the roots
    /// and the frozen nodes are gone, and none reachable before it is.
    fn check_full_collection(
        &self,
        reachable_before: &BTreeSet<usize>,
    ) -> Result<(), TestCaseError> {
        let alive: BTreeSet<usize> = self.alive.borrow().ids.iter().copied().collect();
        prop_assert!(
            reachable_before.is_subset(&alive),
            "collect() freed a reachable node"
        );
        // Computed on the real heap's own edges, independently of the model.
        let mut start: Vec<Gc<MNode>> = self.roots.values().cloned().collect();
        for object in gc_core::get_objects(None) {
            prop_assert!(
                object.generation() == Some(2),
                "a survivor is not in generation 2"
            );
        }
        let frozen: Vec<usize> = self.model.frozen().collect();
        start.extend(frozen.iter().map(|&id| self.handle(id)));
        let mut seen = BTreeSet::new();
        while let Some(node) = start.pop() {
            if seen.insert(node.id) {
                start.extend(node.edges.borrow().iter().cloned());
            }
        }
        prop_assert_eq!(
            &alive,
            &seen,
            "alive after collect() != reachable from roots"
        );
        Ok(())
    }

    /// The invariants that hold after every operation.
    fn check(&mut self) -> Result<(), TestCaseError> {
        let alive = self.alive.borrow();
        prop_assert!(
            alive.bad_drops.is_empty(),
            "dropped twice: {:?}",
            alive.bad_drops
        );
        // 1. No node reachable from a root was freed.
        let reachable = self.model.reachable_from(self.model.roots.clone());
        for id in &reachable {
            prop_assert!(alive.ids.contains(id), "reachable node {} was freed", id);
        }
        // 2. Exactly the nodes the model expects are alive.
        let real: BTreeSet<usize> = alive.ids.iter().copied().collect();
        let expected: BTreeSet<usize> = self.model.nodes.keys().copied().collect();
        prop_assert_eq!(&real, &expected, "alive nodes (real vs model)");
        drop(alive);
        // The Weaks of the dead are dead; forget them.
        let dead: Vec<usize> = self
            .weaks
            .keys()
            .copied()
            .filter(|id| !expected.contains(id))
            .collect();
        for id in dead {
            let weak = self.weaks.remove(&id).unwrap();
            prop_assert!(
                weak.upgrade().is_none(),
                "the Weak of freed node {} upgrades",
                id
            );
            prop_assert!(!weak.is_alive());
        }
        // 3. The counters.
        let counts = self.model.counts;
        prop_assert_eq!(
            gc_core::get_count(),
            (counts[0], counts[1], counts[2]),
            "get_count()"
        );
        prop_assert_eq!(gc_core::is_enabled(), self.model.enabled);
        // 4. Generations, get_objects and the permanent generation.
        let objects = gc_core::get_objects(None);
        let frozen = self.model.frozen().count();
        prop_assert_eq!(
            objects.len(),
            self.model.nodes.len() - frozen,
            "get_objects(None)"
        );
        prop_assert_eq!(gc_core::get_freeze_count(), frozen, "get_freeze_count()");
        let mut listed = BTreeSet::new();
        for object in &objects {
            let node = object.downcast::<MNode>().expect("only MNodes are tracked");
            prop_assert!(listed.insert(node.id), "node {} listed twice", node.id);
            let expected = match self.model.nodes[&node.id].generation {
                Gen::Young(g) => Some(g),
                Gen::Frozen => None,
            };
            prop_assert_eq!(
                object.generation(),
                expected,
                "generation of node {}",
                node.id
            );
        }
        for g in 0..3 {
            let in_model = self
                .model
                .nodes
                .values()
                .filter(|n| n.generation == Gen::Young(g))
                .count();
            prop_assert_eq!(
                gc_core::get_objects(Some(g)).len(),
                in_model,
                "generation {}",
                g
            );
        }
        Ok(())
    }

    /// Frees everything: no cycle may outlive the case.
    fn finish(mut self) -> Result<(), TestCaseError> {
        gc_core::unfreeze();
        self.roots.clear();
        gc_core::collect();
        prop_assert!(
            self.alive.borrow().ids.is_empty(),
            "nodes left after the final collect()"
        );
        prop_assert!(self.alive.borrow().bad_drops.is_empty());
        prop_assert!(gc_core::get_objects(None).is_empty());
        prop_assert_eq!(gc_core::get_freeze_count(), 0);
        Ok(())
    }
}

/// Restores the collector's settings even when a case fails.
struct Settings;

impl Drop for Settings {
    fn drop(&mut self) {
        gc_core::unfreeze();
        gc_core::set_threshold(700, 10, 10);
        gc_core::enable();
    }
}

fn run_case(thresholds: (usize, usize, usize), ops: &[Op]) -> Result<(), TestCaseError> {
    let _settings = Settings;
    // Start from an empty heap, whatever an earlier (failed) case left.
    gc_core::unfreeze();
    gc_core::collect();
    prop_assert!(gc_core::get_objects(None).is_empty());
    let mut harness = Harness::new(thresholds);
    harness.check()?;
    for (step, op) in ops.iter().enumerate() {
        harness
            .apply(op)
            .map_err(|e| TestCaseError::fail(format!("step {step}, {op:?}: {e}")))?;
    }
    harness.finish()?;
    gc_core::collect();
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn collector_agrees_with_the_reachability_model(
        thresholds in thresholds_strategy(),
        ops in prop::collection::vec(op_strategy(), 1..MAX_OPS),
    ) {
        run_case(thresholds, &ops)?;
    }
}

/// A fixed sequence through every operation, so the model itself is
/// exercised even where proptest's random cases are few (Miri).
#[test]
fn model_smoke_sequence() {
    use Op::*;
    let ops = [
        Alloc,
        Alloc,
        Alloc,
        AddEdge(0, 1),
        AddEdge(1, 0),
        AddEdge(2, 2),
        DropRoot(0),
        DropRoot(0),
        CollectGeneration(0),
        DropRoot(0),
        Alloc,
        Alloc,
        AddEdge(0, 1),
        Freeze,
        AddEdge(1, 0),
        Alloc,
        AddEdge(3, 0),
        DropRoot(0),
        DropRoot(0),
        Collect,
        Reroot(0),
        Unfreeze,
        CollectGeneration(1),
        RemoveEdge(0, 0),
        DropRoot(0),
        DropRoot(0),
        Collect,
        SetEnabled(false),
        Alloc,
        Alloc,
        Alloc,
        Alloc,
        SetEnabled(true),
        Alloc,
        Collect,
    ];
    run_case((3, 1, 1), &ops).unwrap();
}
