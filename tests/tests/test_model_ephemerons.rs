//! A model test of `WeakKeyMap`'s ephemeron semantics: random graphs of
//! nodes, each node with a weak-key map of its own, plus a traced map and an
//! untraced map on the stack, checked after every operation against an
//! independent, ephemeron-aware reachability model.
//!
//! The model is plain data: nodes with edge lists, the rooted ids, and for
//! every map its entries (key id → the ids its value refers to), each live
//! or dead (its key died or a collection killed it; the map drops a dead
//! entry's value at its next `&mut` call). It predicts
//!
//! - reference counting: a node dies when no root, no edge of a living
//!   node and no value of an existing map (live or dead entry) refers to
//!   it; a dying node's own map dies with it, and the entries keyed by it
//!   in other maps die;
//! - what a full collection does: an entry's value is reachable only while
//!   its map is reachable (the stack maps always, a node's map when the
//!   node is) and its key is reachable (or the entry is dead: the map still
//!   owns the value), iterated to a fixpoint; the live
//!   entries of reachable maps whose key is unreachable are killed; their
//!   values (and everything the maps reached through them hold) survive
//!   until the map drops them; everything else unreachable is freed. The
//!   untraced stack map is a root like any local: its values are strong.
//!
//! After every operation the test checks that exactly the nodes the model
//! expects are alive and that every map's `len` and `get` agree. Automatic
//! collection is off: only the test's `collect()` calls run the collector.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::rc::Rc;

use gc_core::weakref::WeakKeyMap;
use gc_core::{FinalizerPolicy, Gc, Trace, Weak};
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
const MAX_OPS: usize = 400;
#[cfg(miri)]
const MAX_OPS: usize = 50;

// ---------------------------------------------------------------------------
// The real nodes.

type AliveSet = Rc<RefCell<HashSet<usize>>>;

/// Removes its node's id from the alive set when dropped.
struct AliveToken {
    id: usize,
    alive: AliveSet,
}

impl Drop for AliveToken {
    fn drop(&mut self) {
        assert!(
            self.alive.borrow_mut().remove(&self.id),
            "node {} dropped twice",
            self.id
        );
    }
}

// SAFETY: owns no `Gc`.
unsafe impl Trace for AliveToken {
    fn trace<V: gc_core::Tracer>(&self, _tracer: &mut V) {}
}

impl gc_core::TraceMeta for AliveToken {
    const TRACKED: bool = false;
}

#[derive(Trace)]
struct Value {
    refs: Vec<Gc<ENode>>,
}

#[derive(Trace)]
struct ENode {
    id: usize,
    edges: RefCell<Vec<Gc<ENode>>>,
    map: RefCell<WeakKeyMap<ENode, Value>>,
    token: AliveToken,
}

// ---------------------------------------------------------------------------
// Operations.

/// Which map: a node's own (by index), the traced stack map, the untraced
/// one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum MapId {
    Node(usize),
    Traced,
    Untraced,
}

#[derive(Clone, Debug)]
enum Op {
    Alloc,
    AddEdge(usize, usize),
    RemoveEdge(usize, usize),
    DropRoot(usize),
    /// Into map `.0` (a node picked by index, or a stack map), key picked by
    /// index, a value referring to the nodes picked by index.
    Insert(MapSel, usize, Vec<usize>),
    Remove(MapSel, usize),
    Purge(MapSel),
    Collect,
}

#[derive(Clone, Copy, Debug)]
enum MapSel {
    Node(usize),
    Traced,
    Untraced,
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let index = 0..POOL * 2;
    let map = prop_oneof![
        4 => index.clone().prop_map(MapSel::Node),
        2 => Just(MapSel::Traced),
        1 => Just(MapSel::Untraced),
    ];
    prop_oneof![
        20 => Just(Op::Alloc),
        15 => (index.clone(), index.clone()).prop_map(|(a, b)| Op::AddEdge(a, b)),
        6 => (index.clone(), 0..4usize).prop_map(|(a, i)| Op::RemoveEdge(a, i)),
        15 => index.clone().prop_map(Op::DropRoot),
        20 => (map.clone(), index.clone(), prop::collection::vec(index.clone(), 0..3))
            .prop_map(|(m, k, v)| Op::Insert(m, k, v)),
        4 => (map.clone(), index).prop_map(|(m, k)| Op::Remove(m, k)),
        3 => map.prop_map(Op::Purge),
        8 => Just(Op::Collect),
    ]
}

// ---------------------------------------------------------------------------
// The model.

#[derive(Clone, Debug)]
struct MEntry {
    refs: Vec<usize>,
    live: bool,
}

#[derive(Default)]
struct Model {
    /// Living node id → its edges.
    nodes: BTreeMap<usize, Vec<usize>>,
    roots: BTreeSet<usize>,
    /// Every existing map: a node's exists while the node lives.
    maps: BTreeMap<MapId, BTreeMap<usize, MEntry>>,
}

impl Model {
    fn new() -> Model {
        let mut model = Model::default();
        model.maps.insert(MapId::Traced, BTreeMap::new());
        model.maps.insert(MapId::Untraced, BTreeMap::new());
        model
    }

    /// Every node a map's value refers to, live or dead entry.
    fn value_refs(&self) -> impl Iterator<Item = usize> + '_ {
        self.maps
            .values()
            .flat_map(|m| m.values())
            .flat_map(|e| e.refs.iter().copied())
    }

    /// Frees the nodes nothing refers to, until none is left; their maps
    /// go with them, and entries keyed by them die.
    fn release_unreferenced(&mut self) {
        loop {
            let mut referenced: HashSet<usize> = self.roots.iter().copied().collect();
            referenced.extend(self.nodes.values().flatten().copied());
            referenced.extend(self.value_refs());
            let dead: Vec<usize> = self
                .nodes
                .keys()
                .copied()
                .filter(|id| !referenced.contains(id))
                .collect();
            if dead.is_empty() {
                return;
            }
            self.free(&dead);
        }
    }

    fn free(&mut self, ids: &[usize]) {
        for &id in ids {
            self.nodes.remove(&id);
            self.maps.remove(&MapId::Node(id));
        }
        for map in self.maps.values_mut() {
            for &id in ids {
                if let Some(entry) = map.get_mut(&id) {
                    entry.live = false;
                }
            }
        }
    }

    /// A full collection, with ephemerons.
    fn collect(&mut self) {
        // Roots: rooted nodes and the untraced map's values.
        let mut reachable: BTreeSet<usize> = self.roots.clone();
        for entry in self.maps[&MapId::Untraced].values() {
            reachable.extend(entry.refs.iter().copied());
        }
        let map_reachable = |id: &MapId, reachable: &BTreeSet<usize>| match id {
            MapId::Node(n) => reachable.contains(n),
            MapId::Traced | MapId::Untraced => true,
        };
        // The ephemeron fixpoint.
        let mut followed: BTreeSet<(MapId, usize)> = BTreeSet::new();
        loop {
            self.close(&mut reachable);
            let mut progress = false;
            for (id, map) in &self.maps {
                if *id == MapId::Untraced || !map_reachable(id, &reachable) {
                    continue;
                }
                for (key, entry) in map {
                    // A dead entry's value is a strong reference of its map.
                    if (!entry.live || reachable.contains(key)) && followed.insert((*id, *key)) {
                        reachable.extend(entry.refs.iter().copied());
                        progress = true;
                    }
                }
            }
            if !progress {
                break;
            }
        }
        // Kill the live entries of reachable maps whose key is unreachable.
        let mut killed = Vec::new();
        for (id, map) in &self.maps {
            if *id == MapId::Untraced || !map_reachable(id, &reachable) {
                continue;
            }
            for (key, entry) in map {
                if entry.live && !reachable.contains(key) {
                    killed.push((*id, *key));
                }
            }
        }
        for (id, key) in &killed {
            let entry = self.maps.get_mut(id).unwrap().get_mut(key).unwrap();
            entry.live = false;
            reachable.extend(entry.refs.iter().copied());
        }
        // Then every value of a reachable map is strong.
        loop {
            self.close(&mut reachable);
            let before = reachable.len();
            for (id, map) in &self.maps {
                if map_reachable(id, &reachable) {
                    for entry in map.values() {
                        reachable.extend(entry.refs.iter().copied());
                    }
                }
            }
            if reachable.len() == before {
                break;
            }
        }
        let garbage: Vec<usize> = self
            .nodes
            .keys()
            .copied()
            .filter(|id| !reachable.contains(id))
            .collect();
        self.free(&garbage);
        // Tearing the garbage down releases what its maps held.
        self.release_unreferenced();
    }

    /// Adds everything the nodes in `set` reach through their edges.
    fn close(&self, set: &mut BTreeSet<usize>) {
        let mut stack: Vec<usize> = set.iter().copied().collect();
        while let Some(id) = stack.pop() {
            if let Some(edges) = self.nodes.get(&id) {
                for &e in edges {
                    if set.insert(e) {
                        stack.push(e);
                    }
                }
            }
        }
    }

    /// A `&mut` call on a map drops its dead entries.
    fn purge(&mut self, map: MapId) {
        if let Some(m) = self.maps.get_mut(&map) {
            m.retain(|_, e| e.live);
        }
    }
}

// ---------------------------------------------------------------------------
// The run.

struct Real {
    alive: AliveSet,
    roots: BTreeMap<usize, Gc<ENode>>,
    weaks: BTreeMap<usize, Weak<ENode>>,
    traced: WeakKeyMap<ENode, Value>,
    untraced: WeakKeyMap<ENode, Value>,
    next_id: usize,
}

impl Real {
    /// A living node, by its id.
    fn node(&self, id: usize) -> Option<Gc<ENode>> {
        self.weaks.get(&id)?.upgrade()
    }

    fn with_map<R>(&mut self, map: MapId, f: impl FnOnce(&mut WeakKeyMap<ENode, Value>) -> R) -> R {
        match map {
            MapId::Traced => f(&mut self.traced),
            MapId::Untraced => f(&mut self.untraced),
            MapId::Node(id) => {
                let node = self.node(id).expect("map of a living node");
                let mut map = node.map.borrow_mut();
                f(&mut map)
            }
        }
    }
}

fn pick(model: &Model, index: usize) -> Option<usize> {
    let ids: Vec<usize> = model.nodes.keys().copied().collect();
    (!ids.is_empty()).then(|| ids[index % ids.len()])
}

fn map_of(model: &Model, sel: MapSel) -> Option<MapId> {
    match sel {
        MapSel::Traced => Some(MapId::Traced),
        MapSel::Untraced => Some(MapId::Untraced),
        MapSel::Node(i) => pick(model, i).map(MapId::Node),
    }
}

fn check(model: &Model, real: &mut Real, step: usize, op: &Op) {
    let alive: BTreeSet<usize> = real.alive.borrow().iter().copied().collect();
    let expected: BTreeSet<usize> = model.nodes.keys().copied().collect();
    assert_eq!(alive, expected, "alive nodes after step {step} ({op:?})");
    let maps: Vec<(MapId, BTreeMap<usize, MEntry>)> =
        model.maps.iter().map(|(k, v)| (*k, v.clone())).collect();
    for (id, entries) in maps {
        let live = entries.values().filter(|e| e.live).count();
        let keys: Vec<Option<Gc<ENode>>> = entries
            .iter()
            .filter(|(_, e)| e.live)
            .map(|(k, _)| real.node(*k))
            .collect();
        let refs: Vec<Vec<usize>> = entries
            .values()
            .filter(|e| e.live)
            .map(|e| e.refs.clone())
            .collect();
        let len = real.with_map(id, |map| {
            for (key, refs) in keys.iter().zip(&refs) {
                let key = key.as_ref().expect("a live entry's key is alive");
                let value = map.get(key).expect("a live entry is found");
                let ids: Vec<usize> = value.refs.iter().map(|n| n.id).collect();
                assert_eq!(&ids, refs);
            }
            map.len()
        });
        assert_eq!(len, live, "{id:?}'s len after step {step} ({op:?})");
    }
}

/// Turns automatic collection back on, and the default policy, however the
/// case ends.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        gc_core::enable();
        gc_core::set_finalizer_policy(FinalizerPolicy::Uncollectable);
    }
}

/// Runs `ops` under `policy`: under PEP 442's, every collection also runs
/// the re-check over the garbage, which must count the maps the garbage
/// owns.
fn run_with(ops: Vec<Op>, policy: FinalizerPolicy) {
    gc_core::collect();
    gc_core::disable();
    let _restore = Restore;
    gc_core::set_finalizer_policy(policy);
    let alive: AliveSet = Rc::default();
    let mut real = Real {
        alive: alive.clone(),
        roots: BTreeMap::new(),
        weaks: BTreeMap::new(),
        traced: WeakKeyMap::traced(),
        untraced: WeakKeyMap::new(),
        next_id: 0,
    };
    let mut model = Model::new();
    for (step, op) in ops.iter().enumerate() {
        match *op {
            Op::Alloc => {
                if model.nodes.len() < POOL {
                    let id = real.next_id;
                    real.next_id += 1;
                    alive.borrow_mut().insert(id);
                    let node = Gc::new(ENode {
                        id,
                        edges: RefCell::new(Vec::new()),
                        map: RefCell::new(WeakKeyMap::new()),
                        token: AliveToken {
                            id,
                            alive: alive.clone(),
                        },
                    });
                    real.weaks.insert(id, Gc::downgrade(&node));
                    real.roots.insert(id, node);
                    model.nodes.insert(id, Vec::new());
                    model.roots.insert(id);
                    model.maps.insert(MapId::Node(id), BTreeMap::new());
                }
            }
            Op::AddEdge(a, b) => {
                if let (Some(a), Some(b)) = (pick(&model, a), pick(&model, b)) {
                    let target = real.node(b).unwrap();
                    real.node(a).unwrap().edges.borrow_mut().push(target);
                    model.nodes.get_mut(&a).unwrap().push(b);
                }
            }
            Op::RemoveEdge(a, i) => {
                if let Some(a) = pick(&model, a) {
                    let edges = model.nodes.get_mut(&a).unwrap();
                    if !edges.is_empty() {
                        let i = i % edges.len();
                        edges.remove(i);
                        let node = real.node(a).unwrap();
                        let removed = node.edges.borrow_mut().remove(i);
                        drop(node);
                        drop(removed);
                        model.release_unreferenced();
                    }
                }
            }
            Op::DropRoot(i) => {
                let roots: Vec<usize> = model.roots.iter().copied().collect();
                if !roots.is_empty() {
                    let id = roots[i % roots.len()];
                    model.roots.remove(&id);
                    drop(real.roots.remove(&id));
                    model.release_unreferenced();
                }
            }
            Op::Insert(sel, key, ref refs) => {
                if let (Some(map), Some(key)) = (map_of(&model, sel), pick(&model, key)) {
                    let refs: Vec<usize> = refs.iter().filter_map(|&r| pick(&model, r)).collect();
                    let value = Value {
                        refs: refs.iter().map(|&r| real.node(r).unwrap()).collect(),
                    };
                    let key_gc = real.node(key).unwrap();
                    let old = real.with_map(map, |m| m.insert(&key_gc, value));
                    drop(key_gc);
                    drop(old);
                    model.purge(map);
                    model
                        .maps
                        .get_mut(&map)
                        .unwrap()
                        .insert(key, MEntry { refs, live: true });
                    model.release_unreferenced();
                }
            }
            Op::Remove(sel, key) => {
                if let (Some(map), Some(key)) = (map_of(&model, sel), pick(&model, key)) {
                    let key_gc = real.node(key).unwrap();
                    let old = real.with_map(map, |m| m.remove(&key_gc));
                    drop(key_gc);
                    model.purge(map);
                    let expected = model.maps.get_mut(&map).unwrap().remove(&key);
                    assert_eq!(old.is_some(), expected.is_some(), "remove at step {step}");
                    drop(old);
                    model.release_unreferenced();
                }
            }
            Op::Purge(sel) => {
                if let Some(map) = map_of(&model, sel) {
                    real.with_map(map, |m| m.purge());
                    model.purge(map);
                    model.release_unreferenced();
                }
            }
            Op::Collect => {
                gc_core::collect();
                model.collect();
            }
        }
        check(&model, &mut real, step, op);
    }
    // Tear down: everything goes.
    real.roots.clear();
    real.traced.clear();
    real.untraced.clear();
    gc_core::collect();
    assert!(
        alive.borrow().is_empty(),
        "nodes left: {:?}",
        alive.borrow()
    );
}

fn run(ops: Vec<Op>) {
    run_with(ops, FinalizerPolicy::Uncollectable);
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn weak_key_maps_follow_the_ephemeron_model(
        ops in prop::collection::vec(op_strategy(), 1..MAX_OPS),
        pep442 in any::<bool>(),
    ) {
        let policy = if pep442 {
            FinalizerPolicy::Finalize
        } else {
            FinalizerPolicy::Uncollectable
        };
        run_with(ops, policy);
    }
}

/// The cases the model is about, spelled out: a value that refers to its
/// own key, a chain of entries, a map inside the garbage.
#[test]
fn the_ephemeron_cases_by_hand() {
    use Op::*;
    // A key kept only by its own value, in a node's map and in the traced
    // stack map; the untraced stack map keeps its key.
    run(vec![
        Alloc,
        Alloc,
        Insert(MapSel::Node(0), 1, vec![1]),
        Insert(MapSel::Traced, 1, vec![1]),
        Insert(MapSel::Untraced, 0, vec![0]),
        DropRoot(1),
        Collect,
        Purge(MapSel::Node(0)),
        Purge(MapSel::Traced),
        DropRoot(0),
        Collect,
    ]);
    // A chain: key 1's value holds key 2, whose value holds key 1.
    run(vec![
        Alloc,
        Alloc,
        Alloc,
        Insert(MapSel::Traced, 1, vec![2]),
        Insert(MapSel::Traced, 2, vec![1]),
        DropRoot(1),
        DropRoot(1),
        Collect,
        Purge(MapSel::Traced),
        Collect,
    ]);
}
