//! `objgraph::heap_snapshot_to` / `write_heap_snapshot`: the V8
//! `.heapsnapshot` format (counts, edge order, `to_node` multiples of 7),
//! the mapping of gc-core's edges (property, element, weak, the root's),
//! untracked leaves, and ids stable across snapshots and never reused
//! after an address is.

use std::cell::RefCell;
use std::collections::HashSet;

use gc_core::objgraph::{self, SnapshotStats};
use gc_core::{self as gc, Finalize, Gc, Trace, Weak};
use serde_json::Value;

/// A snapshot, parsed.
struct Snap {
    json: Value,
    nodes: Vec<[u64; 7]>,
    edges: Vec<[u64; 3]>,
    strings: Vec<String>,
    /// Index in `edges` of each node's first edge.
    first_edge: Vec<usize>,
}

const TYPE: usize = 0;
const NAME: usize = 1;
const ID: usize = 2;
const SIZE: usize = 3;
const EDGE_COUNT: usize = 4;

const STRING: u64 = 2;
const OBJECT: u64 = 3;
const NATIVE: u64 = 8;
const SYNTHETIC: u64 = 9;
const ELEMENT: u64 = 1;
const PROPERTY: u64 = 2;
const WEAK: u64 = 6;

fn numbers(json: &Value, key: &str) -> Vec<u64> {
    json[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect()
}

fn take() -> (SnapshotStats, Snap) {
    let mut out = Vec::new();
    let stats = objgraph::heap_snapshot_to(&mut out).unwrap();
    assert_eq!(stats.bytes, out.len() as u64);
    let json: Value = serde_json::from_slice(&out).expect("the snapshot is JSON");
    let nodes: Vec<[u64; 7]> = numbers(&json, "nodes")
        .chunks(7)
        .map(|c| c.try_into().unwrap())
        .collect();
    let edges: Vec<[u64; 3]> = numbers(&json, "edges")
        .chunks(3)
        .map(|c| c.try_into().unwrap())
        .collect();
    let strings = json["strings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    let mut first_edge = Vec::new();
    let mut at = 0;
    for node in &nodes {
        first_edge.push(at);
        at += node[EDGE_COUNT] as usize;
    }
    let snap = Snap {
        json,
        nodes,
        edges,
        strings,
        first_edge,
    };
    (stats, snap)
}

impl Snap {
    fn name(&self, node: usize) -> &str {
        &self.strings[self.nodes[node][NAME] as usize]
    }

    /// The nodes named `name`.
    fn named(&self, name: &str) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.name(i) == name)
            .collect()
    }

    /// The one node named `name`.
    fn only(&self, name: &str) -> usize {
        let found = self.named(name);
        assert_eq!(found.len(), 1, "nodes named {name}: {found:?}");
        found[0]
    }

    /// `(type, name or index as text, target node)` of each edge of `node`.
    fn edges_of(&self, node: usize) -> Vec<(u64, String, usize)> {
        let start = self.first_edge[node];
        let n = self.nodes[node][EDGE_COUNT] as usize;
        self.edges[start..start + n]
            .iter()
            .map(|&[kind, name, to]| {
                let name = if kind == ELEMENT {
                    name.to_string()
                } else {
                    self.strings[name as usize].clone()
                };
                (kind, name, (to / 7) as usize)
            })
            .collect()
    }
}

#[derive(Trace)]
struct Module {
    _cache: RefCell<Vec<Gc<Job>>>,
    #[gc(skip)]
    _pad: u8,
}

#[derive(Trace)]
struct Job {
    key: u32,
    label: Gc<String>,
    parent: RefCell<Option<Weak<Module>>>,
}

/// A module whose `_cache` holds `n` jobs, each with a label string and a
/// weak reference back to the module.
fn cache_module(n: u32) -> Gc<Module> {
    let module = Gc::new(Module {
        _cache: RefCell::new(Vec::new()),
        _pad: 0,
    });
    for key in 0..n {
        let job = Gc::new(Job {
            key,
            label: Gc::new(format!("job {key}")),
            parent: RefCell::new(Some(Gc::downgrade(&module))),
        });
        module._cache.borrow_mut().push(job);
    }
    module
}

#[test]
fn the_header_names_v8s_fields_and_the_counts_match_the_arrays() {
    gc::collect();
    let module = cache_module(3);
    let (stats, snap) = take();
    let meta = &snap.json["snapshot"]["meta"];
    assert_eq!(
        meta["node_fields"],
        serde_json::json!([
            "type",
            "name",
            "id",
            "self_size",
            "edge_count",
            "trace_node_id",
            "detachedness"
        ])
    );
    assert_eq!(
        meta["node_types"][0],
        serde_json::json!([
            "hidden",
            "array",
            "string",
            "object",
            "code",
            "closure",
            "regexp",
            "number",
            "native",
            "synthetic",
            "concatenated string",
            "sliced string",
            "symbol",
            "bigint",
            "object shape"
        ])
    );
    assert_eq!(
        meta["edge_fields"],
        serde_json::json!(["type", "name_or_index", "to_node"])
    );
    assert_eq!(
        meta["edge_types"][0],
        serde_json::json!([
            "context", "element", "property", "internal", "hidden", "shortcut", "weak"
        ])
    );
    assert_eq!(snap.json["snapshot"]["node_count"], stats.nodes);
    assert_eq!(snap.json["snapshot"]["edge_count"], stats.edges);

    // The module, three jobs and three strings, plus the root.
    assert_eq!(gc::count_objects(None), 4);
    assert_eq!((stats.objects, stats.leaves, stats.nodes), (4, 3, 8));
    assert_eq!(snap.nodes.len(), stats.nodes);
    // Root -> module; module -> 3 jobs; each job -> its string, and weakly
    // to the module.
    assert_eq!(
        (stats.roots, stats.weak_edges, stats.edges),
        (1, 3, 1 + 3 + 6)
    );
    assert_eq!(snap.edges.len(), stats.edges);
    let sum: u64 = snap.nodes.iter().map(|n| n[EDGE_COUNT]).sum();
    assert_eq!(sum as usize, snap.edges.len());
    for edge in &snap.edges {
        assert_eq!(edge[2] % 7, 0, "to_node is a node number times 7");
        assert!((edge[2] / 7) < snap.nodes.len() as u64);
    }
    let total: u64 = snap.nodes.iter().map(|n| n[SIZE]).sum();
    assert_eq!(total, stats.total_size);
    drop(module);
}

#[test]
fn node_zero_is_the_root_and_reaches_exactly_the_objects_held_from_outside() {
    gc::collect();
    let module = cache_module(2);
    let outside = Gc::clone(&module._cache.borrow()[1]);
    let (_, snap) = take();
    assert_eq!(snap.nodes[0][TYPE], SYNTHETIC);
    assert_eq!(snap.name(0), "(GC roots)");
    assert_eq!(snap.nodes[0][ID], 1);
    let roots: Vec<usize> = snap.edges_of(0).iter().map(|e| e.2).collect();
    assert_eq!(roots.len(), 2);
    assert_eq!(snap.name(roots[0]), "Module");
    // The second job, by its `key`... which the snapshot does not show:
    // find it as the module's `_cache[1]`.
    let module_node = snap.only("Module");
    let cached = snap.edges_of(module_node);
    let second = cached.iter().find(|e| e.1 == "_cache[1]").unwrap().2;
    assert_eq!(roots[1], second);
    for (i, edge) in snap.edges_of(0).iter().enumerate() {
        assert_eq!((edge.0, edge.1.as_str()), (ELEMENT, i.to_string().as_str()));
    }
    drop((module, outside));
}

#[test]
fn fields_are_property_edges_named_by_their_path_and_weaks_are_weak_edges() {
    gc::collect();
    let module = cache_module(2);
    let (_, snap) = take();
    let m = snap.only("Module");
    let edges = snap.edges_of(m);
    let names: Vec<(u64, &str)> = edges.iter().map(|e| (e.0, e.1.as_str())).collect();
    assert_eq!(names, [(PROPERTY, "_cache[0]"), (PROPERTY, "_cache[1]")]);
    for &(_, _, job) in &edges {
        assert_eq!(snap.name(job), "Job");
        assert_eq!(snap.nodes[job][TYPE], OBJECT);
        let job_edges = snap.edges_of(job);
        assert_eq!(job_edges.len(), 2);
        assert_eq!(
            (job_edges[0].0, job_edges[0].1.as_str()),
            (PROPERTY, "label")
        );
        assert_eq!(snap.nodes[job_edges[0].2][TYPE], STRING);
        assert_eq!((job_edges[1].0, job_edges[1].1.as_str()), (WEAK, "parent"));
        assert_eq!(job_edges[1].2, m);
    }
    drop(module);
}

#[test]
fn elements_of_a_top_level_sequence_are_element_edges() {
    gc::collect();
    #[derive(Trace)]
    struct Item(Option<Gc<Item>>);
    let list = Gc::new(vec![Gc::new(Item(None)), Gc::new(Item(None))]);
    let (_, snap) = take();
    let vec_node = snap.only("Vec<Gc<Item>>");
    let edges = snap.edges_of(vec_node);
    let kinds: Vec<(u64, &str)> = edges.iter().map(|e| (e.0, e.1.as_str())).collect();
    assert_eq!(kinds, [(ELEMENT, "0"), (ELEMENT, "1")]);
    assert!(edges.iter().all(|e| snap.name(e.2) == "Item"));
    // The item's `.0` is a tuple field: a property.
    let chained = Gc::new(Item(Some(Gc::new(Item(None)))));
    let (_, snap) = take();
    let edges = snap.edges_of(
        snap.nodes
            .iter()
            .position(|n| n[EDGE_COUNT] == 1 && snap.strings[n[NAME] as usize] == "Item")
            .unwrap(),
    );
    assert_eq!((edges[0].0, edges[0].1.as_str()), (PROPERTY, ".0"));
    drop((list, chained));
}

#[test]
fn untracked_objects_reached_by_edges_are_leaf_nodes() {
    gc::collect();
    #[derive(Trace)]
    struct Holder {
        text: Gc<String>,
        slice: Gc<str>,
        number: Gc<u64>,
    }
    let holder = Gc::new(Holder {
        text: Gc::new("a \"quoted\" text".to_owned()),
        slice: Gc::from("sliced"),
        number: Gc::new(7),
    });
    let lonely = Gc::new(String::from("held by a local only"));
    let (stats, snap) = take();
    assert_eq!((stats.objects, stats.leaves), (1, 3));
    let text = snap.only("a \"quoted\" text");
    let slice = snap.only("sliced");
    let number = snap.only("u64");
    assert_eq!(snap.nodes[text][TYPE], STRING);
    assert_eq!(snap.nodes[slice][TYPE], STRING);
    assert_eq!(snap.nodes[number][TYPE], NATIVE);
    for leaf in [text, slice, number] {
        assert_eq!(snap.nodes[leaf][EDGE_COUNT], 0);
        assert_eq!(snap.nodes[leaf][ID] % 2, 1);
    }
    // An untracked box is a header and the value: 16 + 24 bytes for a
    // `String`.
    assert_eq!(
        snap.nodes[text][SIZE],
        16 + std::mem::size_of::<String>() as u64
    );
    // The holder: link + header + three pointers (one fat).
    assert_eq!(snap.nodes[snap.only("Holder")][SIZE], 32 + 8 + 16 + 8);
    // Not reached by any edge: not in the snapshot, as `get_objects` would
    // not list it either.
    assert!(snap.named("held by a local only").is_empty());
    // A leaf that the program also holds directly is a root too.
    let extra = Gc::clone(&holder.text);
    let (_, snap) = take();
    let roots: Vec<usize> = snap.edges_of(0).iter().map(|e| e.2).collect();
    assert_eq!(roots, [snap.only("Holder"), snap.only("a \"quoted\" text")]);
    drop((holder, lonely, extra));
}

#[test]
fn ids_are_odd_distinct_and_the_same_in_two_snapshots() {
    gc::collect();
    let module = cache_module(3);
    let (_, first) = take();
    let ids: Vec<u64> = first.nodes.iter().map(|n| n[ID]).collect();
    assert!(ids.iter().all(|id| id % 2 == 1));
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
    // More objects, then the same ones again.
    let more = cache_module(2);
    let (_, second) = take();
    for name in ["Module", "job 0", "job 1", "job 2"] {
        let before: Vec<u64> = first
            .named(name)
            .iter()
            .map(|&i| first.nodes[i][ID])
            .collect();
        let after: Vec<u64> = second
            .named(name)
            .iter()
            .map(|&i| second.nodes[i][ID])
            .collect();
        assert!(
            before.iter().all(|id| after.contains(id)),
            "{name}: {before:?} {after:?}"
        );
    }
    let jobs =
        |s: &Snap| -> HashSet<u64> { s.named("Job").iter().map(|&i| s.nodes[i][ID]).collect() };
    let (old, new) = (jobs(&first), jobs(&second));
    assert_eq!(old.len(), 3);
    assert_eq!(new.len(), 5);
    assert!(old.is_subset(&new));
    drop((module, more));
}

#[derive(Trace)]
struct Probe {
    next: Option<Gc<Probe>>,
}

#[derive(Trace)]
struct Tagged {
    label: Gc<String>,
    /// Puts the box in another size class than the string's.
    _pad: [u64; 8],
}

#[test]
fn an_address_reused_after_a_free_gets_a_new_id() {
    gc::collect();
    let tagged = || {
        let label = Gc::new(String::from("reused"));
        Gc::new(Tagged {
            label,
            _pad: [0; 8],
        })
    };
    let ids = |s: &Snap| [s.nodes[s.only("Tagged")][ID], s.nodes[s.only("reused")][ID]];
    let first = tagged();
    let old_addresses = HashSet::from([Gc::id(&first), Gc::id(&first.label)]);
    let (_, snap) = take();
    let old = ids(&snap);
    drop(first);
    // The pools hand the freed slots out again, last freed first.
    let second = tagged();
    let new_addresses = HashSet::from([Gc::id(&second), Gc::id(&second.label)]);
    assert_eq!(
        new_addresses, old_addresses,
        "the allocator reused both addresses"
    );
    let (_, snap) = take();
    let new = ids(&snap);
    assert!(
        !new.contains(&old[0]) && !new.contains(&old[1]),
        "{old:?} {new:?}"
    );
    assert!(new.iter().all(|id| id % 2 == 1 && *id > old[0].max(old[1])));
    drop(second);
}

#[test]
fn ids_are_forgotten_on_every_way_a_box_is_freed() {
    // Each way an object dies: reference counting (the type-erased path a
    // box with an id takes), a collection's teardown, `try_unwrap`, and a
    // chain long enough for the trashcan to defer its drops.
    gc::collect();
    #[derive(Trace)]
    struct Cyclic(RefCell<Option<Gc<Cyclic>>>);
    let plain = Gc::new(Probe { next: None });
    let cycle = Gc::new(Cyclic(RefCell::new(None)));
    *cycle.0.borrow_mut() = Some(cycle.clone());
    let unwrapped = Gc::new(Probe { next: None });
    let mut chain = Gc::new(Probe { next: None });
    for _ in 0..500 {
        chain = Gc::new(Probe { next: Some(chain) });
    }
    let addresses = [
        Gc::id(&plain),
        Gc::id(&cycle),
        Gc::id(&unwrapped),
        Gc::id(&chain),
    ];
    let (_, first) = take();
    let old: HashSet<u64> = first.nodes.iter().map(|n| n[ID]).collect();
    drop(plain);
    drop(cycle);
    assert_eq!(gc::collect(), 1);
    assert!(Gc::try_unwrap(unwrapped).is_ok());
    drop(chain);
    // Whatever is allocated now, at the old addresses or elsewhere, is new.
    let fresh: Vec<Gc<Probe>> = (0..600).map(|_| Gc::new(Probe { next: None })).collect();
    let reused = fresh
        .iter()
        .filter(|p| addresses.contains(&Gc::id(p)))
        .count();
    assert!(reused > 0, "some address was reused");
    let (_, second) = take();
    for node in &second.nodes[1..] {
        assert!(!old.contains(&node[ID]), "id {} given twice", node[ID]);
    }
    drop(fresh);
}

#[test]
fn a_snapshot_taken_inside_a_finalizer_during_a_collection_is_well_formed() {
    gc::collect();
    thread_local! {
        static TAKEN: RefCell<Option<SnapshotStats>> = const { RefCell::new(None) };
    }
    #[derive(Trace)]
    #[gc(finalize)]
    struct Snapshotter {
        me: RefCell<Option<Gc<Snapshotter>>>,
        other: Gc<Probe>,
    }
    impl Finalize for Snapshotter {
        fn finalize(&self) {
            let mut out = Vec::new();
            let stats = objgraph::heap_snapshot_to(&mut out).unwrap();
            serde_json::from_slice::<Value>(&out).expect("valid JSON");
            TAKEN.with(|t| *t.borrow_mut() = Some(stats));
        }
    }
    gc::set_finalizer_policy(gc::FinalizerPolicy::Finalize);
    let keep = cache_module(2);
    let s = Gc::new(Snapshotter {
        me: RefCell::new(None),
        other: Gc::new(Probe { next: None }),
    });
    *s.me.borrow_mut() = Some(s.clone());
    drop(s);
    gc::collect();
    let stats = TAKEN
        .with(|t| t.borrow_mut().take())
        .expect("the finalizer ran");
    // The module and its two jobs at least; the dying cycle is being
    // examined, so it is not among the tracked objects walked.
    assert!(stats.objects >= 3);
    assert_eq!(stats.nodes, 1 + stats.objects + stats.leaves);
    drop(keep);
}
