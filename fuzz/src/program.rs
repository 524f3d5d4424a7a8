//! The `heap_ops` interpreter: a byte-coded program of heap operations over
//! gc-core, with user hooks at every seam, checked after every step against
//! an independent model.
//!
//! Depends on gc-core and std only (no unsafe code): the fuzz target calls
//! [`run`], and `tests/tests/fuzz_replay.rs` includes this file with
//! `#[path]` to replay the corpus under `cargo test` and Miri.
//!
//! # Encoding
//!
//! The input is a sequence of top-level operations, one opcode byte
//! (`byte % 24`) followed by its operand bytes; a missing operand reads as 0.
//! "slot" operands index 8 root slots (`byte % 8`). Scripts (the
//! sub-programs run by hooks) are written inline as a length byte
//! (`byte % 8`) followed by that many bytes.
//!
//! | op | operands | what |
//! |---|---|---|
//! | 0 alloc | `b` (bit 0: kind, 0 = `Plain`, 1 = `Fin` with `#[gc(finalize)]`; bits 1-3: slot; bit 4: self-edge; bit 5: no root, garbage at once), drop script, finalizer script (`Fin` only) | `Gc::new` into a root slot |
//! | 1 add edge | src slot, dst slot, `f` (f%3: vec push / map insert key (f>>2)%4 / opt set) | |
//! | 2 remove edge | src slot, `f` (f%3: vec remove (f>>2) / map remove / opt take) | |
//! | 3 drop root | slot | |
//! | 4 clone root | from, to | |
//! | 5 field to root | src slot, `f`, dst slot | navigate: a child handle into a root slot |
//! | 6 set weak field | holder, target, `c` (bit 0: `downgrade_with` + script) | |
//! | 7 upgrade weak field | holder, dst slot | |
//! | 8 upgrade any | `k` (index into every node made this run), dst slot | `Weak::upgrade`, garbage too |
//! | 9 WeakSet | holder, member, `s` (insert/remove/clear/len/contains/iter) | `WeakSet<Plain>` field |
//! | 10 WeakValueMap | holder, value, `s` (insert/get/remove/clear/len/iter, key (s>>3)%4) | `WeakValueMap<u8, Fin>` field |
//! | 11 WeakKeyMap | holder, key, `s` (insert/get/remove/clear/len/iter), `v` (v%4: no value / the key itself / root slot `v >> 2`'s node) | `WeakKeyMap<Plain, Option<Ref>>` field: ephemerons (a value that refers to its key does not keep it; the collector kills such entries and the map drops their values at its next `&mut` call) |
//! | 12 finalize | `s` (s%4: new `weakref::finalize(slot (s>>2), script)` / detach / call / alive) | |
//! | 13 collect | | `collect()` |
//! | 14 collect gen | `g` | `collect_generation(g % 3)` |
//! | 15 policy | `p` | odd = `Finalize`, even = `Uncollectable` |
//! | 16 debug | `d`, script if bit 4 | bit 0 STATS, 1 COLLECTABLE, 2 UNCOLLECTABLE, 3 SAVEALL; bit 4: also `set_debug_writer` with the script |
//! | 17 take garbage | `k` | odd: keep the handles as roots; even: drop them |
//! | 18 freeze | `f` | odd: freeze, even: unfreeze |
//! | 19 callback | `c`, script if adding | even: `add_callback`, odd: `remove_callback` |
//! | 20 writer | script | `set_debug_writer`: the script runs after each line |
//! | 21 borrow across | slot, `f` (f%3: vec/map/opt; bit 2: collect_generation(0)) | `collect()` while a field is mutably borrowed |
//! | 22 threshold | `t` | t%4: set_threshold((t>>2)%8, 1, 1) / enable / disable / default |
//! | 23 introspect | `i`, slot | get_objects, get_referrers, get_referents, objgraph roots/is_root/count/chains, labelled edges and descriptions (a node describes itself by running its `fin_script`), `show_refs` and `format_chain` |
//!
//! Hook scripts (`byte % 24`), run by a node's destructor (its `Hook`
//! field), a `Fin` finalizer, a `downgrade_with` callback, a
//! `weakref::finalize` closure, a collection callback and the debug writer.
//! They keep one temporary handle, `temp`:
//!
//! | op | operand | what |
//! |---|---|---|
//! | 0 | `k` | `temp = ` upgrade the `Weak` of node `k` (any node of this run, garbage included) |
//! | 1 | `k` | stash `temp` in global slot `k % 8` (a root the model knows) |
//! | 2 | | drop `temp` |
//! | 3 | | empty `temp`'s vec, map and opt fields |
//! | 4 | `k` | drop root slot `k` |
//! | 5 | `k` | drop global slot `k` |
//! | 6 | `k` | allocate a `Plain` into global slot `k` |
//! | 7 | | `collect()` |
//! | 8 | `i` | `get_objects`, `get_referrers(temp)`, `get_referents(temp)` |
//! | 9 | | `objgraph::roots()` |
//! | 10 | | `objgraph::is_root(temp)` |
//! | 11 | | `objgraph::count` |
//! | 12 | script | `set_debug_writer` |
//! | 13 | `p` | finalizer policy |
//! | 14 | `d` | debug flags |
//! | 15 | | `panic!` |
//! | 16 | | `panic_any(Bomb)`, a payload whose `Drop` panics |
//! | 17 | `k` | finalizer only: `temp` = a child of the finalized object (resurrection) |
//! | 18 | | finalizer only: empty the finalized object's fields |
//! | 19 | `k` | push `temp` onto root slot `k`'s vec |
//! | 20 | `k` | `take_garbage()`, kept as roots if `k` is odd |
//! | 21 | `k` | upgrade node `k`'s `Weak` and stash it in global slot `k % 8` (0 then 1, in one op) |
//! | 22 | `k` | upgrade node `k`'s `Weak`, empty its fields and drop it (0, 3, 2 in one op) |
//! | 23 | | the same for every node whose `Weak` still upgrades, in creation order |
//!
//! # The model
//!
//! Each node has a unique id; `ALIVE` holds the ids whose value was not yet
//! dropped (removed by the `Hook` field's `Drop`). The model records the
//! strong edges the program created (vec, map, opt fields, by id) and takes
//! its roots from the program's own slots (root slots, hook-held global
//! slots, kept garbage handles). After every step it checks:
//!
//! - (a) every model-reachable node is alive, found by walking the real
//!   handles from the roots, and its fields hold exactly the model's edges;
//! - (b) `Weak::upgrade` of a model-reachable node that was never
//!   unreachable in the model succeeds; upgrade of a dropped node fails;
//! - (c) `Gc::strong_count` of every reachable node equals the handles the
//!   model knows (root slots, globals, kept garbage, edges from live nodes),
//!   except for nodes on the garbage list;
//! - (d) at the end, hooks off, debug flags off, policy `Finalize`, garbage
//!   dropped and two full collections: every live node is model-reachable;
//!   then with every root dropped and two more collections, nothing is alive.
//!
//! A violation prints `MODEL VIOLATION` and aborts the process (outside any
//! `catch_unwind`).
//!
//! # Environment
//!
//! - `GC_FUZZ_VERBOSE`: print every panic, caught or not (they are silenced
//!   otherwise).
//! - `GC_FUZZ_TRACE`: print each top-level and hook operation.
//! - `GC_FUZZ_SKIP_HOOK_OPS=9,10`: hook opcodes to ignore, to aim a campaign
//!   away from a bug already found (here: `objgraph::roots`/`is_root`).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};

use gc_core::weakref::{Finalizer, WeakKeyMap, WeakSet, WeakValueMap};
use gc_core::{
    self as gc, DebugFlags, Describe, Finalize, FinalizerPolicy, Gc, Object, Trace, Weak, objgraph,
};

const MAX_OPS: usize = 300;
const MAX_NODES: usize = 40;
const SLOTS: usize = 8;
const GLOBALS: usize = 8;
const MAX_DEPTH: u32 = 3;
const HOOK_BUDGET: u32 = 600;
const MAX_FINALIZERS: usize = 8;
const MAX_CALLBACKS: usize = 4;

// ---------------------------------------------------------------- nodes

/// A strong edge to either node type.
#[derive(Trace)]
enum Ref {
    P(Gc<Plain>),
    F(Gc<Fin>),
}

impl Clone for Ref {
    fn clone(&self) -> Self {
        match self {
            Ref::P(g) => Ref::P(g.clone()),
            Ref::F(g) => Ref::F(g.clone()),
        }
    }
}

/// A weak edge to either node type.
#[derive(Trace)]
enum WRef {
    None,
    P(Weak<Plain>),
    F(Weak<Fin>),
}

impl WRef {
    fn upgrade(&self) -> Option<Ref> {
        match self {
            WRef::None => None,
            WRef::P(w) => w.upgrade().map(Ref::P),
            WRef::F(w) => w.upgrade().map(Ref::F),
        }
    }
}

/// The destructor seam: a leaf field whose `Drop` records the node's death
/// and runs the node's drop script. Declared last, so it runs once every
/// other field of the node is dropped.
struct Hook {
    id: u32,
    script: Vec<u8>,
}

impl Drop for Hook {
    fn drop(&mut self) {
        ALIVE.with(|a| match a.try_borrow_mut() {
            Ok(mut a) => {
                a.remove(&self.id);
            }
            Err(_) => fail("ALIVE registry busy in a destructor (interpreter bug)"),
        });
        run_script(&self.script, None);
    }
}

/// Fields shared by both node types.
trait Fields {
    fn id(&self) -> u32;
    fn vec(&self) -> &RefCell<Vec<Ref>>;
    fn map(&self) -> &RefCell<BTreeMap<u8, Ref>>;
    fn opt(&self) -> &RefCell<Option<Ref>>;
    fn weak(&self) -> &RefCell<WRef>;
    fn wset(&self) -> &RefCell<WeakSet<Plain>>;
    fn wvmap(&self) -> &RefCell<WeakValueMap<u8, Fin>>;
    fn wkmap(&self) -> &RefCell<WeakKeyMap<Plain, Option<Ref>>>;
}

macro_rules! node_type {
    ($(#[$m:meta])* $name:ident) => {
        #[derive(Trace)]
        #[gc(describe)]
        $(#[$m])*
        struct $name {
            id: u32,
            vec: RefCell<Vec<Ref>>,
            // A `BTreeMap`, not a `HashMap`: when a hook panics out of an
            // entry's drop (a child's finalizer panic propagates from its
            // `Gc`'s drop, as documented), std's `HashMap` stops dropping and
            // leaks the remaining entries (their `Gc`s keep counts the model
            // thinks are gone) and its table; `BTreeMap`'s drop goes on past
            // the panic. gc-core's `HashMap` `Trace` impl is exercised by the
            // weak maps below, which are `HashMap`s inside.
            map: RefCell<BTreeMap<u8, Ref>>,
            opt: RefCell<Option<Ref>>,
            weak: RefCell<WRef>,
            wset: RefCell<WeakSet<Plain>>,
            wvmap: RefCell<WeakValueMap<u8, Fin>>,
            wkmap: RefCell<WeakKeyMap<Plain, Option<Ref>>>,
            fin_script: Vec<u8>,
            #[gc(skip)]
            #[allow(dead_code)]
            hook: Hook,
        }

        impl $name {
            fn make(id: u32, drop_script: Vec<u8>, fin_script: Vec<u8>) -> Self {
                $name {
                    id,
                    vec: RefCell::new(Vec::new()),
                    map: RefCell::new(BTreeMap::new()),
                    opt: RefCell::new(None),
                    weak: RefCell::new(WRef::None),
                    wset: RefCell::new(WeakSet::new()),
                    wvmap: RefCell::new(WeakValueMap::new()),
                    wkmap: RefCell::new(WeakKeyMap::new()),
                    fin_script,
                    hook: Hook { id, script: drop_script },
                }
            }
        }

        impl Fields for $name {
            fn id(&self) -> u32 { self.id }
            fn vec(&self) -> &RefCell<Vec<Ref>> { &self.vec }
            fn map(&self) -> &RefCell<BTreeMap<u8, Ref>> { &self.map }
            fn opt(&self) -> &RefCell<Option<Ref>> { &self.opt }
            fn weak(&self) -> &RefCell<WRef> { &self.weak }
            fn wset(&self) -> &RefCell<WeakSet<Plain>> { &self.wset }
            fn wvmap(&self) -> &RefCell<WeakValueMap<u8, Fin>> { &self.wvmap }
            fn wkmap(&self) -> &RefCell<WeakKeyMap<Plain, Option<Ref>>> { &self.wkmap }
        }
    };
}

/// A node's description runs its `fin_script` as a hook: user code run by
/// the tools (`Object::describe`, graphs, `format_chain`), from a hook too.
macro_rules! describe_by_script {
    ($($name:ident),*) => {$(
        impl Describe for $name {
            fn describe(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                run_script(&self.fin_script, None);
                write!(f, "#{}", self.id)
            }
        }
    )*};
}

describe_by_script!(Plain, Fin);

node_type!(Plain);
node_type!(
    #[gc(finalize)]
    Fin
);

impl Finalize for Fin {
    fn finalize(&self) {
        run_script(&self.fin_script, Some(self));
    }
}

impl Ref {
    fn fields(&self) -> &dyn Fields {
        match self {
            Ref::P(g) => &**g,
            Ref::F(g) => &**g,
        }
    }
    fn id(&self) -> u32 {
        self.fields().id()
    }
    fn downgrade(&self) -> WRef {
        match self {
            Ref::P(g) => WRef::P(Gc::downgrade(g)),
            Ref::F(g) => WRef::F(Gc::downgrade(g)),
        }
    }
    fn strong_count(&self) -> usize {
        match self {
            Ref::P(g) => Gc::strong_count(g),
            Ref::F(g) => Gc::strong_count(g),
        }
    }
    fn object(&self) -> Object {
        match self {
            Ref::P(g) => Gc::to_object(g),
            Ref::F(g) => Gc::to_object(g),
        }
    }
    fn from_object(o: &Object) -> Option<Ref> {
        o.downcast::<Plain>()
            .map(Ref::P)
            .or_else(|| o.downcast::<Fin>().map(Ref::F))
    }
}

/// A panic payload whose own `Drop` panics (unless already unwinding, which
/// would abort the process for a reason that is not gc-core's).
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("Bomb payload dropped");
        }
    }
}

/// The debug writer: runs its script after each line.
struct ScriptWriter {
    script: Vec<u8>,
}

impl Write for ScriptWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.ends_with(b"\n") {
            run_script(&self.script, None);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// ---------------------------------------------------------------- state

/// The program's handles. Borrowed only for short moves; never while
/// gc-core code runs, and nothing is dropped while it is borrowed.
struct State {
    roots: Vec<Option<Ref>>,
    globals: Vec<Option<Ref>>,
    /// Garbage-list handles the program kept, with their node ids.
    kept: Vec<(u32, Object)>,
    /// The `Weak` of every node made this run, by creation order.
    weaks: Vec<(u32, WRef)>,
    finalizers: Vec<Finalizer>,
    callbacks: Vec<gc::CallbackId>,
}

impl State {
    const fn new() -> Self {
        State {
            roots: Vec::new(),
            globals: Vec::new(),
            kept: Vec::new(),
            weaks: Vec::new(),
            finalizers: Vec::new(),
            callbacks: Vec::new(),
        }
    }
    fn root_ids(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = Vec::new();
        for r in self.roots.iter().chain(self.globals.iter()).flatten() {
            ids.push(r.id());
        }
        ids.extend(self.kept.iter().map(|(id, _)| *id));
        ids
    }
}

/// The model's view of one node: its strong edges, by target id.
#[derive(Default, Clone)]
struct NodeModel {
    vec: Vec<u32>,
    map: BTreeMap<u8, u32>,
    opt: Option<u32>,
    /// The targets of the values in the node's `WeakKeyMap`, dead entries
    /// included (the map owns a dead entry's value until its next `&mut`
    /// call). Only op 11 changes them; it copies them from the real map.
    wk: Vec<u32>,
}

impl NodeModel {
    fn targets(&self) -> impl Iterator<Item = u32> + '_ {
        self.vec
            .iter()
            .copied()
            .chain(self.map.values().copied())
            .chain(self.opt)
            .chain(self.wk.iter().copied())
    }
}

struct Model {
    nodes: HashMap<u32, NodeModel>,
    /// Nodes that were unreachable in the model at some moment: a collection
    /// may have cleared their weak references even if they came back.
    orphaned: HashSet<u32>,
    /// Exact strong-count accounting (check c) and the end-of-run leak check
    /// (d) are off for this run.
    relaxed: bool,
}

impl Model {
    fn new() -> Self {
        Model {
            nodes: HashMap::new(),
            orphaned: HashSet::new(),
            relaxed: false,
        }
    }
    fn reach(&self, roots: &[u32]) -> HashSet<u32> {
        let mut seen = HashSet::new();
        let mut stack: Vec<u32> = roots.to_vec();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            if let Some(n) = self.nodes.get(&id) {
                stack.extend(n.targets());
            }
        }
        seen
    }
}

thread_local! {
    static STATE: RefCell<State> = const { RefCell::new(State::new()) };
    static MODEL: RefCell<Option<Model>> = const { RefCell::new(None) };
    static ALIVE: RefCell<HashSet<u32>> = RefCell::new(HashSet::new());
    static NEXT_ID: Cell<u32> = const { Cell::new(1) };
    static HOOKS_ON: Cell<bool> = const { Cell::new(false) };
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    static BUDGET: Cell<u32> = const { Cell::new(0) };
    static NODES_MADE: Cell<usize> = const { Cell::new(0) };
    /// `GC_FUZZ_TRACE`: print each operation to stderr.
    static TRACE: Cell<bool> = const { Cell::new(false) };
    /// Hook opcodes turned off by `GC_FUZZ_SKIP_HOOK_OPS` (a comma-separated
    /// list), to aim a campaign away from a bug already found.
    static SKIP_HOOK_OPS: Cell<u32> = const { Cell::new(0) };
}

fn fail(msg: &str) -> ! {
    eprintln!("MODEL VIOLATION: {msg}");
    std::process::abort();
}

fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(|s| match s.try_borrow_mut() {
        Ok(mut s) => f(&mut s),
        Err(_) => fail("program state busy (interpreter bug)"),
    })
}

fn with_model<R>(f: impl FnOnce(&mut Model) -> R) -> R {
    MODEL.with(|m| match m.try_borrow_mut() {
        Ok(mut m) => match m.as_mut() {
            Some(m) => f(m),
            None => fail("no model (interpreter bug)"),
        },
        Err(_) => fail("model busy (interpreter bug)"),
    })
}

fn alive_snapshot() -> HashSet<u32> {
    ALIVE.with(|a| match a.try_borrow() {
        Ok(a) => a.clone(),
        Err(_) => fail("ALIVE busy (interpreter bug)"),
    })
}

/// After a root or an edge went away: every node now unreachable in the
/// model may lose its weak references to a collection.
fn note_orphans() {
    let roots = with_state(|s| s.root_ids());
    with_model(|m| {
        let reach = m.reach(&roots);
        let lost: Vec<u32> = m
            .nodes
            .keys()
            .copied()
            .filter(|id| !reach.contains(id))
            .collect();
        m.orphaned.extend(lost);
    });
}

/// The nodes the values of `node`'s `WeakKeyMap` hold, dead entries
/// included, read through the labelled edges (the map's `Trace` reports
/// every entry's value).
fn wk_value_refs(node: &Ref) -> Vec<Ref> {
    let object = match node {
        Ref::P(g) => Gc::to_object(g),
        Ref::F(g) => Gc::to_object(g),
    };
    object
        .edges()
        .iter()
        .filter(|(label, _)| label.starts_with("wkmap") && label.contains("value"))
        .filter_map(|(_, o)| Ref::from_object(o))
        .collect()
}

fn wk_targets(node: &Ref) -> Vec<u32> {
    let mut ids: Vec<u32> = wk_value_refs(node).iter().map(Ref::id).collect();
    ids.sort_unstable();
    ids
}

fn root(k: u8) -> Option<Ref> {
    with_state(|s| s.roots.get(k as usize % SLOTS).cloned().flatten())
}

fn set_root(k: u8, v: Option<Ref>) {
    let old = with_state(|s| match s.roots.get_mut(k as usize % SLOTS) {
        Some(slot) => std::mem::replace(slot, v),
        None => v,
    });
    note_orphans();
    drop(old);
}

fn set_global(k: u8, v: Option<Ref>) {
    let old = with_state(|s| match s.globals.get_mut(k as usize % GLOBALS) {
        Some(slot) => std::mem::replace(slot, v),
        None => v,
    });
    note_orphans();
    drop(old);
}

fn upgrade_any(k: u8) -> Option<Ref> {
    with_state(|s| {
        if s.weaks.is_empty() {
            None
        } else {
            let n = s.weaks.len();
            s.weaks[k as usize % n].1.upgrade()
        }
    })
}

fn alloc(fin: bool, drop_script: Vec<u8>, fin_script: Vec<u8>) -> Option<Ref> {
    if NODES_MADE.get() >= MAX_NODES {
        return None;
    }
    NODES_MADE.set(NODES_MADE.get() + 1);
    let id = NEXT_ID.get();
    NEXT_ID.set(id.wrapping_add(1));
    ALIVE.with(|a| a.borrow_mut().insert(id));
    with_model(|m| {
        m.nodes.insert(id, NodeModel::default());
        // Never reachable before it is stored somewhere.
        m.orphaned.insert(id);
    });
    // `Gc::new` may run an automatic collection, whose hooks may panic.
    let r = if fin {
        Ref::F(Gc::new(Fin::make(id, drop_script, fin_script)))
    } else {
        Ref::P(Gc::new(Plain::make(id, drop_script, fin_script)))
    };
    let w = r.downgrade();
    with_state(|s| s.weaks.push((id, w)));
    Some(r)
}

/// Adds a strong edge `src -> dst` in field `f`.
fn add_edge(src: &Ref, dst: &Ref, f: u8) {
    let s = src.fields();
    let (sid, did) = (s.id(), dst.id());
    let displaced = match f % 3 {
        0 => {
            let Ok(mut v) = s.vec().try_borrow_mut() else {
                return;
            };
            if v.len() >= 8 {
                return;
            }
            v.push(dst.clone());
            drop(v);
            with_model(|m| m.nodes.entry(sid).or_default().vec.push(did));
            None
        }
        1 => {
            let key = (f >> 2) % 4;
            let Ok(mut map) = s.map().try_borrow_mut() else {
                return;
            };
            let old = map.insert(key, dst.clone());
            drop(map);
            with_model(|m| m.nodes.entry(sid).or_default().map.insert(key, did));
            old
        }
        _ => {
            let Ok(mut o) = s.opt().try_borrow_mut() else {
                return;
            };
            let old = o.replace(dst.clone());
            drop(o);
            with_model(|m| m.nodes.entry(sid).or_default().opt = Some(did));
            old
        }
    };
    if displaced.is_some() {
        note_orphans();
    }
    drop(displaced);
}

fn remove_edge(src: &Ref, f: u8) {
    let s = src.fields();
    let sid = s.id();
    let removed = match f % 3 {
        0 => {
            let Ok(mut v) = s.vec().try_borrow_mut() else {
                return;
            };
            if v.is_empty() {
                return;
            }
            let i = (f >> 2) as usize % v.len();
            let r = v.remove(i);
            drop(v);
            with_model(|m| {
                let n = m.nodes.entry(sid).or_default();
                if i < n.vec.len() {
                    n.vec.remove(i);
                } else {
                    fail("vec edge missing in model");
                }
            });
            Some(r)
        }
        1 => {
            let key = (f >> 2) % 4;
            let Ok(mut map) = s.map().try_borrow_mut() else {
                return;
            };
            let r = map.remove(&key);
            drop(map);
            with_model(|m| m.nodes.entry(sid).or_default().map.remove(&key));
            r
        }
        _ => {
            let Ok(mut o) = s.opt().try_borrow_mut() else {
                return;
            };
            let r = o.take();
            drop(o);
            with_model(|m| m.nodes.entry(sid).or_default().opt = None);
            r
        }
    };
    note_orphans();
    drop(removed);
}

/// Empties the vec, map and opt fields of a node (those not borrowed).
fn clear_fields(node: &dyn Fields) {
    let id = node.id();
    let v = node
        .vec()
        .try_borrow_mut()
        .ok()
        .map(|mut v| std::mem::take(&mut *v));
    let map = node
        .map()
        .try_borrow_mut()
        .ok()
        .map(|mut m| std::mem::take(&mut *m));
    let o = node.opt().try_borrow_mut().ok().map(|mut o| o.take());
    with_model(|m| {
        let n = m.nodes.entry(id).or_default();
        if v.is_some() {
            n.vec.clear();
        }
        if map.is_some() {
            n.map.clear();
        }
        if o.is_some() {
            n.opt = None;
        }
    });
    note_orphans();
    drop((v, map, o));
}

fn child(node: &dyn Fields, k: u8) -> Option<Ref> {
    match k % 3 {
        0 => {
            let v = node.vec().try_borrow().ok()?;
            if v.is_empty() {
                None
            } else {
                Some(v[(k >> 2) as usize % v.len()].clone())
            }
        }
        1 => node.map().try_borrow().ok()?.get(&((k >> 2) % 4)).cloned(),
        _ => node.opt().try_borrow().ok()?.clone(),
    }
}

fn debug_flags(d: u8) -> DebugFlags {
    let mut f = DebugFlags::empty();
    if d & 1 != 0 {
        f |= DebugFlags::STATS;
    }
    if d & 2 != 0 {
        f |= DebugFlags::COLLECTABLE;
    }
    if d & 4 != 0 {
        f |= DebugFlags::UNCOLLECTABLE;
    }
    if d & 8 != 0 {
        f |= DebugFlags::SAVEALL;
    }
    f
}

fn policy(p: u8) -> FinalizerPolicy {
    if p & 1 == 1 {
        FinalizerPolicy::Finalize
    } else {
        FinalizerPolicy::Uncollectable
    }
}

fn take_garbage(keep: bool) {
    let garbage = gc::take_garbage();
    if keep {
        let mut ids = Vec::new();
        for o in &garbage {
            let id = Ref::from_object(o).map(|r| r.id());
            ids.push(id);
        }
        let mut rest = Vec::new();
        with_state(|s| {
            for (o, id) in garbage.into_iter().zip(ids) {
                match id {
                    Some(id) if s.kept.len() < 16 => s.kept.push((id, o)),
                    _ => rest.push(o),
                }
            }
        });
        drop(rest);
    } else {
        drop(garbage);
    }
}

fn introspect(i: u8, target: Option<&Ref>) {
    match i % 10 {
        0 => drop(gc::get_objects(None)),
        1 => drop(gc::get_objects(Some((i >> 3) as usize % 3))),
        2 => {
            if let Some(t) = target {
                drop(gc::get_referrers(&t.object()));
            }
        }
        3 => {
            if let Some(t) = target {
                drop(gc::get_referents(&t.object()));
            }
        }
        4 => drop(objgraph::roots()),
        5 => {
            if let Some(t) = target {
                let _ = objgraph::is_root(&t.object());
            }
        }
        6 => {
            let _ = objgraph::count("Plain") + objgraph::count("Fin");
        }
        7 => {
            if let Some(t) = target {
                drop(objgraph::find_backref_chain(
                    &t.object(),
                    objgraph::is_root,
                    4,
                ));
                drop(objgraph::get_leaking_objects());
            }
        }
        8 => {
            // Labels (the `map` field's `u8` keys are rendered while
            // tracing) and the description (a hook script).
            if let Some(t) = target {
                drop(t.object().edges());
                drop(t.object().describe());
            }
        }
        _ => {
            if let Some(t) = target {
                let options = objgraph::GraphOptions {
                    max_depth: 2,
                    ..objgraph::GraphOptions::default()
                };
                let _ = objgraph::show_refs(&[t.object()], &options);
                let chain = objgraph::find_backref_chain(&t.object(), objgraph::is_root, 3);
                drop(objgraph::format_chain(&chain));
            }
        }
    }
}

// ---------------------------------------------------------------- hooks

struct DepthGuard;

impl Drop for DepthGuard {
    fn drop(&mut self) {
        DEPTH.set(DEPTH.get() - 1);
    }
}

fn panic_now(bomb: bool) {
    // A second panic while unwinding aborts the process: not gc-core's fault.
    if std::thread::panicking() {
        return;
    }
    if bomb {
        std::panic::panic_any(Bomb);
    } else {
        panic!("hook panic");
    }
}

/// Runs a hook's sub-program. `this` is the object being finalized.
fn run_script(script: &[u8], this: Option<&dyn Fields>) {
    if !HOOKS_ON.get() || DEPTH.get() >= MAX_DEPTH || script.is_empty() {
        return;
    }
    DEPTH.set(DEPTH.get() + 1);
    let _depth = DepthGuard;
    let mut temp: Option<Ref> = None;
    let mut r = Reader::new(script);
    while let Some(op) = r.next() {
        let budget = BUDGET.get();
        if budget == 0 || !HOOKS_ON.get() {
            break;
        }
        BUDGET.set(budget - 1);
        if SKIP_HOOK_OPS.get() & 1 << (op % 24) != 0 {
            continue;
        }
        if TRACE.get() {
            eprintln!(
                "{:width$}hook op {}",
                "",
                op % 24,
                width = 2 * DEPTH.get() as usize
            );
        }
        match op % 24 {
            0 => {
                let new = upgrade_any(r.byte());
                drop(std::mem::replace(&mut temp, new));
            }
            1 => {
                let k = r.byte();
                if let Some(t) = temp.take() {
                    set_global(k, Some(t));
                }
            }
            2 => drop(temp.take()),
            3 => {
                if let Some(t) = &temp {
                    clear_fields(t.fields());
                }
            }
            4 => set_root(r.byte(), None),
            5 => set_global(r.byte(), None),
            6 => {
                let k = r.byte();
                if let Some(n) = alloc(false, Vec::new(), Vec::new()) {
                    set_global(k, Some(n));
                }
            }
            7 => {
                gc::collect();
            }
            8 => introspect(r.byte() % 4, temp.as_ref()),
            9 => introspect(4, None),
            10 => introspect(5, temp.as_ref()),
            11 => introspect(6, None),
            12 => {
                let script = r.script();
                gc::set_debug_writer(ScriptWriter { script });
            }
            13 => gc::set_finalizer_policy(policy(r.byte())),
            14 => gc::set_debug(debug_flags(r.byte())),
            15 => panic_now(false),
            16 => panic_now(true),
            17 => {
                let k = r.byte();
                if let Some(this) = this {
                    let c = child(this, k);
                    drop(std::mem::replace(&mut temp, c));
                }
            }
            18 => {
                if let Some(this) = this {
                    clear_fields(this);
                }
            }
            19 => {
                let k = r.byte();
                if let (Some(t), Some(src)) = (&temp, root(k)) {
                    add_edge(&src, t, 0);
                }
            }
            20 => take_garbage(r.byte() & 1 == 1),
            21 => {
                let k = r.byte();
                if let Some(t) = upgrade_any(k) {
                    set_global(k, Some(t));
                }
            }
            22 => {
                if let Some(t) = upgrade_any(r.byte()) {
                    clear_fields(t.fields());
                    drop(t);
                }
            }
            _ => {
                // Every node a `Weak` still reaches: empty its fields and let
                // go, one after another.
                let n = with_state(|s| s.weaks.len());
                for k in 0..n {
                    let t = with_state(|s| s.weaks.get(k).and_then(|(_, w)| w.upgrade()));
                    if let Some(t) = t {
                        clear_fields(t.fields());
                        drop(t);
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------- input

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }
    fn next(&mut self) -> Option<u8> {
        let b = self.data.get(self.pos).copied();
        self.pos += 1;
        b
    }
    fn byte(&mut self) -> u8 {
        self.next().unwrap_or(0)
    }
    fn script(&mut self) -> Vec<u8> {
        let len = (self.byte() % 8) as usize;
        let start = self.pos.min(self.data.len());
        let end = (self.pos + len).min(self.data.len());
        self.pos += len;
        self.data[start..end].to_vec()
    }
}

// ---------------------------------------------------------------- top level

fn step(r: &mut Reader<'_>, op: u8) {
    if TRACE.get() {
        eprintln!("op {} at byte {}", op % 24, r.pos - 1);
    }
    match op % 24 {
        0 => {
            let b = r.byte();
            let fin = b & 1 == 1;
            let slot = b >> 1;
            let drop_script = r.script();
            let fin_script = if fin { r.script() } else { Vec::new() };
            if let Some(n) = alloc(fin, drop_script, fin_script) {
                if b & 0x10 != 0 {
                    // A self-cycle.
                    add_edge(&n, &n, 0);
                }
                if b & 0x20 != 0 {
                    // Garbage at once (a cycle if bit 4 made one).
                    drop(n);
                } else {
                    set_root(slot, Some(n));
                }
            }
        }
        1 => {
            let (a, b, f) = (r.byte(), r.byte(), r.byte());
            if let (Some(src), Some(dst)) = (root(a), root(b)) {
                add_edge(&src, &dst, f);
            }
        }
        2 => {
            let (a, f) = (r.byte(), r.byte());
            if let Some(src) = root(a) {
                remove_edge(&src, f);
            }
        }
        3 => set_root(r.byte(), None),
        4 => {
            let (a, b) = (r.byte(), r.byte());
            set_root(b, root(a));
        }
        5 => {
            let (a, f, b) = (r.byte(), r.byte(), r.byte());
            if let Some(src) = root(a) {
                let c = child(src.fields(), f);
                if c.is_some() {
                    set_root(b, c);
                }
            }
        }
        6 => {
            let (a, b, c) = (r.byte(), r.byte(), r.byte());
            let script = if c & 1 == 1 { Some(r.script()) } else { None };
            if let (Some(holder), Some(target)) = (root(a), root(b)) {
                let w = match (script, &target) {
                    (None, t) => t.downgrade(),
                    (Some(s), Ref::P(g)) => {
                        WRef::P(Gc::downgrade_with(g, move || run_script(&s, None)))
                    }
                    (Some(s), Ref::F(g)) => {
                        WRef::F(Gc::downgrade_with(g, move || run_script(&s, None)))
                    }
                };
                let old = match holder.fields().weak().try_borrow_mut() {
                    Ok(mut cell) => std::mem::replace(&mut *cell, w),
                    Err(_) => w,
                };
                drop(old);
            }
        }
        7 => {
            let (a, b) = (r.byte(), r.byte());
            if let Some(holder) = root(a) {
                let up = holder
                    .fields()
                    .weak()
                    .try_borrow()
                    .ok()
                    .and_then(|w| w.upgrade());
                if up.is_some() {
                    set_root(b, up);
                }
            }
        }
        8 => {
            let (k, b) = (r.byte(), r.byte());
            let up = upgrade_any(k);
            if up.is_some() {
                set_root(b, up);
            }
        }
        9 => {
            let (a, b, s) = (r.byte(), r.byte(), r.byte());
            let (Some(holder), Some(member)) = (root(a), root(b)) else {
                return;
            };
            let Ok(mut set) = holder.fields().wset().try_borrow_mut() else {
                return;
            };
            match (s % 6, &member) {
                (0, Ref::P(m)) => drop(set.insert(m)),
                (1, Ref::P(m)) => drop(set.remove(m)),
                (2, _) => set.clear(),
                (3, _) => drop((set.len(), set.is_empty())),
                (4, Ref::P(m)) => drop(set.contains(m)),
                (5, _) => {
                    let members: Vec<Gc<Plain>> = set.iter().collect();
                    drop(set);
                    drop(members);
                }
                _ => {}
            }
        }
        10 => {
            let (a, b, s) = (r.byte(), r.byte(), r.byte());
            let (Some(holder), Some(value)) = (root(a), root(b)) else {
                return;
            };
            let Ok(mut map) = holder.fields().wvmap().try_borrow_mut() else {
                return;
            };
            let key = (s >> 3) % 4;
            let out = match (s % 6, &value) {
                (0, Ref::F(v)) => map.insert(key, v),
                (1, _) => map.get(&key),
                (2, _) => map.remove(&key),
                (3, _) => {
                    map.clear();
                    None
                }
                (4, _) => {
                    let _ = (map.len(), map.contains_key(&key));
                    None
                }
                (5, _) => map.iter().map(|(_, v)| v).last(),
                _ => None,
            };
            drop(map);
            drop(out);
        }
        11 => {
            let (a, b, s, v) = (r.byte(), r.byte(), r.byte(), r.byte());
            let (Some(holder), Some(Ref::P(key))) = (root(a), root(b)) else {
                return;
            };
            // The value: none, the key itself (the ephemeron case), or a
            // root slot's node.
            let value = match v % 4 {
                0 => None,
                1 => Some(Ref::P(key.clone())),
                _ => root(v >> 2),
            };
            // A value's drop may run a hook that panics: the map's values
            // changed all the same, so copy them before the panic goes on.
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                let Ok(mut map) = holder.fields().wkmap().try_borrow_mut() else {
                    return;
                };
                let out = match s % 6 {
                    0 => map.insert(&key, value).flatten(),
                    1 => map.get(&key).cloned().flatten(),
                    2 => map.remove(&key).flatten(),
                    3 => {
                        map.clear();
                        None
                    }
                    4 => {
                        let _ = (map.len(), map.contains_key(&key));
                        None
                    }
                    _ => {
                        let keys: Vec<Gc<Plain>> = map.iter().map(|(k, _)| k).collect();
                        drop(map);
                        drop(keys);
                        return;
                    }
                };
                drop(map);
                drop((key, out));
            }));
            // Only this op changes what the map's values hold: copy it.
            let wk = wk_targets(&holder);
            with_model(|m| m.nodes.entry(holder.id()).or_default().wk = wk);
            note_orphans();
            if let Err(payload) = outcome {
                std::panic::resume_unwind(payload);
            }
        }
        12 => {
            let s = r.byte();
            match s % 4 {
                0 => {
                    let script = r.script();
                    let Some(target) = root(s >> 2) else { return };
                    if with_state(|st| st.finalizers.len()) >= MAX_FINALIZERS {
                        return;
                    }
                    let f = match &target {
                        Ref::P(g) => gc::weakref::finalize(g, move || run_script(&script, None)),
                        Ref::F(g) => gc::weakref::finalize(g, move || run_script(&script, None)),
                    };
                    with_state(|st| st.finalizers.push(f));
                }
                op => {
                    // Take the handle out so its closure runs with nothing borrowed.
                    let f = with_state(|st| {
                        if st.finalizers.is_empty() {
                            None
                        } else {
                            let n = st.finalizers.len();
                            Some(st.finalizers.swap_remove((s >> 2) as usize % n))
                        }
                    });
                    if let Some(f) = f {
                        match op {
                            1 => drop(f.detach()),
                            2 => drop(f.call()),
                            _ => drop(f.alive()),
                        }
                        with_state(|st| st.finalizers.push(f));
                    }
                }
            }
        }
        13 => {
            gc::collect();
        }
        14 => {
            gc::collect_generation(r.byte() as usize % 3);
        }
        15 => gc::set_finalizer_policy(policy(r.byte())),
        16 => {
            let d = r.byte();
            if d & 0x10 != 0 {
                let script = r.script();
                gc::set_debug_writer(ScriptWriter { script });
            }
            gc::set_debug(debug_flags(d));
        }
        17 => take_garbage(r.byte() & 1 == 1),
        18 => {
            if r.byte() & 1 == 1 {
                gc::freeze();
            } else {
                gc::unfreeze();
            }
        }
        19 => {
            let c = r.byte();
            if c & 1 == 0 {
                let script = r.script();
                if with_state(|s| s.callbacks.len()) < MAX_CALLBACKS {
                    let id = gc::add_callback(move |_phase, _info| run_script(&script, None));
                    with_state(|s| s.callbacks.push(id));
                }
            } else {
                let id = with_state(|s| {
                    if s.callbacks.is_empty() {
                        None
                    } else {
                        let n = s.callbacks.len();
                        Some(s.callbacks.swap_remove((c >> 1) as usize % n))
                    }
                });
                if let Some(id) = id {
                    gc::remove_callback(id);
                }
            }
        }
        20 => {
            let script = r.script();
            gc::set_debug_writer(ScriptWriter { script });
        }
        21 => {
            let (a, f) = (r.byte(), r.byte());
            let Some(node) = root(a) else { return };
            let n = node.fields();
            let young = f & 4 != 0;
            let run = || {
                if young {
                    gc::collect_generation(0)
                } else {
                    gc::collect()
                }
            };
            match f % 3 {
                0 => {
                    if let Ok(_b) = n.vec().try_borrow_mut() {
                        run();
                    }
                }
                1 => {
                    if let Ok(_b) = n.map().try_borrow_mut() {
                        run();
                    }
                }
                _ => {
                    if let Ok(_b) = n.opt().try_borrow_mut() {
                        run();
                    }
                }
            }
        }
        22 => {
            let t = r.byte();
            match t % 4 {
                0 => gc::set_threshold(((t >> 2) % 8) as usize, 1, 1),
                1 => gc::enable(),
                2 => gc::disable(),
                _ => gc::set_threshold(700, 10, 10),
            }
        }
        _ => {
            let (i, a) = (r.byte(), r.byte());
            let target = root(a);
            introspect(i, target.as_ref());
        }
    }
}

/// Checks (a), (b) and (c) with hooks off. A panic inside (gc-core's or
/// the checker's) is a failure too.
fn check(when: &str) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| check_inner(when))) {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string payload".into());
        fail(&format!("{when}: the check panicked: {msg}"));
    }
}

fn check_inner(when: &str) {
    let hooks = HOOKS_ON.replace(false);
    let alive = alive_snapshot();
    let (mut queue, root_ids) = with_state(|s| {
        let mut q: Vec<Ref> = s
            .roots
            .iter()
            .chain(s.globals.iter())
            .flatten()
            .cloned()
            .collect();
        for (_, o) in &s.kept {
            if let Some(r) = Ref::from_object(o) {
                q.push(r);
            }
        }
        (q, s.root_ids())
    });
    let (reach, nodes, orphaned, relaxed) = with_model(|m| {
        (
            m.reach(&root_ids),
            m.nodes.clone(),
            m.orphaned.clone(),
            m.relaxed,
        )
    });

    // (a): walk the real handles from the roots.
    let mut visited: HashMap<u32, Ref> = HashMap::new();
    while let Some(r) = queue.pop() {
        let id = r.id();
        if !alive.contains(&id) {
            fail(&format!(
                "{when}: node {id} is reachable from the program's roots but was dropped"
            ));
        }
        if visited.contains_key(&id) {
            continue;
        }
        let n = r.fields();
        let model = nodes.get(&id).cloned().unwrap_or_default();
        match n.vec().try_borrow() {
            Ok(v) => {
                let ids: Vec<u32> = v.iter().map(Ref::id).collect();
                if ids != model.vec {
                    fail(&format!(
                        "{when}: node {id} vec holds {ids:?}, the model says {:?}",
                        model.vec
                    ));
                }
                queue.extend(v.iter().cloned());
            }
            Err(_) => fail(&format!("{when}: node {id} vec still borrowed")),
        }
        match n.map().try_borrow() {
            Ok(map) => {
                let ids: BTreeMap<u8, u32> = map.iter().map(|(k, v)| (*k, v.id())).collect();
                if ids != model.map {
                    fail(&format!(
                        "{when}: node {id} map holds {ids:?}, the model says {:?}",
                        model.map
                    ));
                }
                queue.extend(map.values().cloned());
            }
            Err(_) => fail(&format!("{when}: node {id} map still borrowed")),
        }
        match n.opt().try_borrow() {
            Ok(o) => {
                let oid = o.as_ref().map(Ref::id);
                if oid != model.opt {
                    fail(&format!(
                        "{when}: node {id} opt holds {oid:?}, the model says {:?}",
                        model.opt
                    ));
                }
                queue.extend(o.iter().cloned());
            }
            Err(_) => fail(&format!("{when}: node {id} opt still borrowed")),
        }
        let wk = wk_value_refs(&r);
        let mut wk_ids: Vec<u32> = wk.iter().map(Ref::id).collect();
        wk_ids.sort_unstable();
        let mut model_wk = model.wk.clone();
        model_wk.sort_unstable();
        if wk_ids != model_wk {
            fail(&format!(
                "{when}: node {id} WeakKeyMap values hold {wk_ids:?}, the model says {model_wk:?}"
            ));
        }
        queue.extend(wk);
        if let Ok(w) = n.weak().try_borrow() {
            drop(w.upgrade());
        }
        if let Ok(s) = n.wset().try_borrow() {
            let _ = s.len();
        }
        visited.insert(id, r);
    }
    for id in &reach {
        if !visited.contains_key(id) {
            fail(&format!(
                "{when}: node {id} is model-reachable but the heap walk did not find it"
            ));
        }
    }

    // (b): weak references.
    let weaks: Vec<(u32, Option<Ref>)> =
        with_state(|s| s.weaks.iter().map(|(id, w)| (*id, w.upgrade())).collect());
    for (id, up) in &weaks {
        if !alive.contains(id) {
            if up.is_some() {
                fail(&format!(
                    "{when}: Weak::upgrade of dropped node {id} succeeded"
                ));
            }
        } else if reach.contains(id) && !orphaned.contains(id) && up.is_none() {
            fail(&format!(
                "{when}: Weak::upgrade of reachable node {id} failed"
            ));
        }
    }
    drop(weaks);

    // (c): strong counts.
    if !relaxed {
        let garbage: HashSet<u32> = gc::garbage()
            .iter()
            .filter_map(|o| Ref::from_object(o).map(|r| r.id()))
            .collect();
        let mut expected: HashMap<u32, usize> = HashMap::new();
        for id in &root_ids {
            *expected.entry(*id).or_default() += 1;
        }
        for (id, n) in &nodes {
            if alive.contains(id) {
                for t in n.targets() {
                    *expected.entry(t).or_default() += 1;
                }
            }
        }
        for (id, r) in &visited {
            if garbage.contains(id) {
                continue;
            }
            let actual = r.strong_count() - 1;
            let want = expected.get(id).copied().unwrap_or(0);
            if actual != want {
                fail(&format!(
                    "{when}: node {id} strong_count {actual}, the model counts {want}"
                ));
            }
        }
    }
    drop(visited);
    HOOKS_ON.set(hooks);
}

fn drop_payload(payload: Box<dyn std::any::Any + Send>) {
    // A `Bomb` panics when dropped: catch that too.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
}

fn guarded(f: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
        drop_payload(payload);
    }
}

/// Runs one program (see the module docs).
pub fn run(data: &[u8]) {
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| {
        TRACE.set(std::env::var_os("GC_FUZZ_TRACE").is_some());
        if std::env::var_os("GC_FUZZ_VERBOSE").is_some() {
            std::panic::set_hook(Box::new(|info| {
                eprintln!(
                    "panic: {info}\n{}",
                    std::backtrace::Backtrace::force_capture()
                )
            }));
        } else {
            std::panic::set_hook(Box::new(|_| {}));
        }
        if let Ok(list) = std::env::var("GC_FUZZ_SKIP_HOOK_OPS") {
            let mask = list
                .split(',')
                .filter_map(|n| n.trim().parse::<u32>().ok())
                .filter(|n| *n < 32)
                .fold(0, |m, n| m | 1 << n);
            SKIP_HOOK_OPS.set(mask);
        }
    });

    // A fresh start: defaults, empty slots, a new model.
    HOOKS_ON.set(false);
    guarded(|| {
        gc::set_debug(DebugFlags::empty());
        gc::set_finalizer_policy(FinalizerPolicy::Uncollectable);
        gc::set_threshold(700, 10, 10);
        gc::enable();
        gc::set_debug_writer(std::io::sink());
    });
    with_state(|s| {
        s.roots = (0..SLOTS).map(|_| None).collect();
        s.globals = (0..GLOBALS).map(|_| None).collect();
    });
    MODEL.with(|m| *m.borrow_mut() = Some(Model::new()));
    ALIVE.with(|a| a.borrow_mut().clear());
    NODES_MADE.set(0);
    BUDGET.set(HOOK_BUDGET);
    DEPTH.set(0);

    let mut r = Reader::new(data);
    let mut ops = 0;
    while let Some(op) = r.next() {
        if ops >= MAX_OPS {
            break;
        }
        ops += 1;
        HOOKS_ON.set(true);
        guarded(|| step(&mut r, op));
        HOOKS_ON.set(false);
        check("after step");
    }
    finish();
}

/// The end of a run: hooks off, everything released, check (d).
fn finish() {
    HOOKS_ON.set(false);
    let callbacks = with_state(|s| std::mem::take(&mut s.callbacks));
    guarded(|| {
        for id in callbacks {
            gc::remove_callback(id);
        }
        gc::set_debug(DebugFlags::empty());
        gc::set_debug_writer(std::io::sink());
        gc::unfreeze();
        gc::set_finalizer_policy(FinalizerPolicy::Finalize);
        gc::set_threshold(700, 10, 10);
        gc::enable();
        drop(gc::take_garbage());
        gc::collect();
        gc::collect();
    });
    check("after the final collections");
    let relaxed = with_model(|m| m.relaxed);
    if !relaxed {
        // (d) every live node is reachable from the program's roots.
        let roots = with_state(|s| s.root_ids());
        let reach = with_model(|m| m.reach(&roots));
        for id in alive_snapshot() {
            if !reach.contains(&id) {
                fail(&format!(
                    "node {id} is unreachable but still alive after two full collections"
                ));
            }
        }
    }
    let (roots, globals, kept, weaks, finalizers) = with_state(|s| {
        (
            std::mem::take(&mut s.roots),
            std::mem::take(&mut s.globals),
            std::mem::take(&mut s.kept),
            std::mem::take(&mut s.weaks),
            std::mem::take(&mut s.finalizers),
        )
    });
    guarded(move || {
        drop(roots);
        drop(globals);
        drop(kept);
        drop(finalizers);
        gc::collect();
        gc::collect();
        drop(weaks);
    });
    if !relaxed {
        let left = alive_snapshot();
        if !left.is_empty() {
            let mut left: Vec<u32> = left.into_iter().collect();
            left.sort_unstable();
            fail(&format!(
                "nodes {left:?} still alive after every root was dropped and two full collections"
            ));
        }
    }
    guarded(|| gc::set_finalizer_policy(FinalizerPolicy::Uncollectable));
}
