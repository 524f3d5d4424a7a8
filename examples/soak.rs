//! A soak test: ten million objects under automatic collection only.
//!
//! A mixed workload runs with the default thresholds and never calls
//! `collect()` in its loop: garbage rings, trees (some with a self-loop),
//! chains (some closed into long cycles), weak references with callbacks,
//! the three weak collections used as caches, finalizer cycles under the
//! PEP 442 policy (some resurrecting), long-lived objects that age into
//! generation 2, and now and then a `SAVEALL` window drained with
//! `take_garbage`.
//!
//! It checks that memory stays bounded: peak RSS (`VmHWM`) must stay under
//! the RSS at start plus 1 KiB per object of the peak live set (an object
//! here is about 100 bytes; see `RSS_PER_LIVE_OBJECT`), so memory that is
//! not given back, or garbage the automatic collections never reach, fails
//! the run long before ten million objects. At the end every invariant is
//! checked: after a final `collect()` no tracked object remains, every
//! object was dropped exactly once, every finalizer ran exactly once, the
//! garbage list is empty and the counts are zero.
//!
//! Run with `cargo run --release --example soak` (`-- N` for N objects).

use std::cell::{Cell, RefCell};
use std::time::Instant;

use gc_core::weakref::{WeakKeyMap, WeakSet, WeakValueMap};
use gc_core::{self as gc, DebugFlags, Finalize, FinalizerPolicy, Gc, Object, Trace, Weak};

/// Objects allocated over the run, unless given on the command line.
const DEFAULT_TOTAL: u64 = 10_000_000;

/// The RSS budget per object of the peak live set, on top of the RSS at
/// start. Measured (release, x86_64, glibc malloc): a peak live set of about
/// 31,000 objects and a peak RSS 4.2 MiB above the start, so about 140 bytes
/// per live object; 1 KiB per live object is seven times that (32 MiB in all
/// against 6 MiB measured), and a leak of even 100 bytes per allocated
/// object (1 GB over ten million) exceeds it thirty times over.
const RSS_PER_LIVE_OBJECT: u64 = 1024;

/// The live set must stay small whatever happens: the long-lived
/// structures hold about 24,000 objects, the young garbage a few thousand
/// (measured peak: 31,000).
const MAX_LIVE: u64 = 200_000;

thread_local! {
    static CREATED: Cell<u64> = const { Cell::new(0) };
    static DROPPED: Cell<u64> = const { Cell::new(0) };
    static FINALIZERS: Cell<u64> = const { Cell::new(0) };
    static CALLBACKS: Cell<u64> = const { Cell::new(0) };
    static RES_CREATED: Cell<u64> = const { Cell::new(0) };
    /// Where finalizers put the objects they resurrect.
    static LAZARUS: RefCell<Vec<Gc<Res>>> = const { RefCell::new(Vec::new()) };
}

fn bump(counter: &'static std::thread::LocalKey<Cell<u64>>) {
    counter.with(|c| c.set(c.get() + 1));
}

fn get(counter: &'static std::thread::LocalKey<Cell<u64>>) -> u64 {
    counter.with(Cell::get)
}

fn live() -> u64 {
    get(&CREATED) - get(&DROPPED)
}

/// Counts one creation and one drop; a field of every object.
struct Tally;

impl Tally {
    fn new() -> Tally {
        bump(&CREATED);
        Tally
    }
}

impl Drop for Tally {
    fn drop(&mut self) {
        bump(&DROPPED);
    }
}

#[derive(Trace)]
struct Node {
    #[gc(skip)]
    _tally: Tally,
    id: u64,
    next: RefCell<Option<Gc<Node>>>,
    kids: RefCell<Vec<Gc<Node>>>,
}

impl Node {
    fn new(id: u64, next: Option<Gc<Node>>) -> Gc<Node> {
        Gc::new(Node {
            _tally: Tally::new(),
            id,
            next: RefCell::new(next),
            kids: RefCell::new(Vec::new()),
        })
    }

    fn unlink(&self) {
        drop(self.next.borrow_mut().take());
        drop(std::mem::take(&mut *self.kids.borrow_mut()));
    }
}

/// A resource with a finalizer, in cycles with its peer.
#[derive(Trace)]
#[gc(finalize)]
struct Res {
    #[gc(skip)]
    _tally: Tally,
    #[gc(skip)]
    resurrect: bool,
    peer: RefCell<Option<Gc<Res>>>,
    node: RefCell<Option<Gc<Node>>>,
}

impl Finalize for Res {
    fn finalize(&self) {
        bump(&FINALIZERS);
        if self.resurrect
            && let Some(peer) = self.peer.borrow().clone()
        {
            LAZARUS.with(|l| l.borrow_mut().push(peer));
        }
    }
}

impl Res {
    fn new(resurrect: bool, peer: Option<Gc<Res>>, node: Option<Gc<Node>>) -> Gc<Res> {
        bump(&RES_CREATED);
        Gc::new(Res {
            _tally: Tally::new(),
            resurrect,
            peer: RefCell::new(peer),
            node: RefCell::new(node),
        })
    }

    fn unlink(&self) {
        drop(self.peer.borrow_mut().take());
        drop(self.node.borrow_mut().take());
    }
}

/// A cache entry; some refer to themselves.
#[derive(Trace)]
struct Entry {
    #[gc(skip)]
    _tally: Tally,
    key: u64,
    data: Gc<Node>,
    owner: RefCell<Option<Gc<Entry>>>,
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }
}

/// Replaces a random slot of a bounded buffer (or appends while it fills).
fn replace<T>(buffer: &mut Vec<T>, cap: usize, rng: &mut Rng, value: T) {
    if buffer.len() < cap {
        buffer.push(value);
    } else {
        let i = rng.index(cap);
        buffer[i] = value;
    }
}

/// Breaks the cycles of an object handed back by `take_garbage`.
fn unlink(obj: &Object) {
    if let Some(n) = obj.downcast::<Node>() {
        n.unlink();
    } else if let Some(r) = obj.downcast::<Res>() {
        r.unlink();
    } else if let Some(e) = obj.downcast::<Entry>() {
        drop(e.owner.borrow_mut().take());
    }
}

/// The program's long-lived state.
#[derive(Default)]
struct World {
    /// Long-lived trees, replaced at random: they age into generation 2.
    kept: Vec<Gc<Node>>,
    /// Recently used cache entries (strong): what keeps the cache warm.
    recent: Vec<Gc<Entry>>,
    /// The cache proper: entries by key, weakly.
    cache: WeakValueMap<u64, Entry>,
    /// Per-entry metadata, dropped with its entry.
    meta: WeakKeyMap<Entry, Gc<Node>>,
    /// Entries that asked to be notified.
    listeners: WeakSet<Entry>,
    /// Weak references with callbacks, some outliving their referents.
    watched: Vec<Weak<Node>>,
    hits: u64,
    misses: u64,
    callbacks_registered: u64,
    saved: u64,
    resurrected: u64,
}

/// A ring of `n` nodes with no outside handle.
fn ring(n: u64, id: u64) -> Gc<Node> {
    let first = Node::new(id, None);
    let mut last = first.clone();
    for i in 1..n {
        last = Node::new(id + i, Some(last));
    }
    *first.next.borrow_mut() = Some(last);
    first
}

fn tree(rng: &mut Rng, id: u64) -> Gc<Node> {
    let root = Node::new(id, None);
    let fanout = 2 + rng.below(3);
    for i in 0..fanout {
        let kid = Node::new(id + i, None);
        for j in 0..fanout {
            kid.kids.borrow_mut().push(Node::new(id + j, None));
        }
        root.kids.borrow_mut().push(kid);
    }
    root
}

fn step(world: &mut World, rng: &mut Rng, round: u64) {
    match rng.below(100) {
        // Garbage cycles.
        0..=24 => drop(ring(2 + rng.below(15), round)),
        // Trees: freed by reference counting, or (self-loop) by the collector.
        25..=44 => {
            let t = tree(rng, round);
            if rng.below(4) == 0 {
                let me = t.clone();
                *t.next.borrow_mut() = Some(me);
            }
        }
        // Chains; one in eight closed into a long cycle.
        45..=54 => {
            let len = 10 + rng.below(490);
            let tail = Node::new(round, None);
            let mut head = tail.clone();
            for i in 1..len {
                head = Node::new(round + i, Some(head));
            }
            if rng.below(8) == 0 {
                *tail.next.borrow_mut() = Some(head);
            }
        }
        // Weak references with callbacks on cycle members.
        55..=64 => {
            let r = ring(3, round);
            let w = Gc::downgrade_with(&r, || bump(&CALLBACKS));
            world.callbacks_registered += 1;
            replace(&mut world.watched, 256, rng, w);
        }
        // The cache.
        65..=84 => {
            let key = rng.below(4096);
            if let Some(entry) = world.cache.get(&key) {
                world.hits += 1;
                assert_eq!(entry.key, key);
                assert!(world.meta.contains_key(&entry));
                replace(&mut world.recent, 512, rng, entry);
            } else {
                world.misses += 1;
                let entry = Gc::new(Entry {
                    _tally: Tally::new(),
                    key,
                    data: tree(rng, key),
                    owner: RefCell::new(None),
                });
                if rng.below(3) == 0 {
                    *entry.owner.borrow_mut() = Some(entry.clone());
                }
                world.cache.insert(key, &entry);
                world.meta.insert(&entry, Node::new(key, None));
                if rng.below(4) == 0 {
                    world.listeners.insert(&entry);
                }
                replace(&mut world.recent, 512, rng, entry);
            }
        }
        // Finalizer cycles under PEP 442; one in 64 resurrects.
        85..=94 => {
            let a = Res::new(rng.below(64) == 0, None, Some(ring(2, round)));
            let b = Res::new(false, Some(a.clone()), None);
            *a.peer.borrow_mut() = Some(b);
        }
        // Long-lived objects.
        _ => {
            let t = tree(rng, round);
            replace(&mut world.kept, 1024, rng, t);
        }
    }
}

/// Peak resident set size, in bytes (`VmHWM`).
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("a VmHWM line");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("VmHWM in kB");
    kib * 1024
}

fn main() {
    let total: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("an object count"))
        .unwrap_or(DEFAULT_TOTAL);
    gc::set_finalizer_policy(FinalizerPolicy::Finalize);
    assert!(gc::is_enabled());
    assert_eq!(gc::get_threshold(), (700, 10, 10));
    let rss_start = peak_rss();
    let start = Instant::now();
    let mut world = World::default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut peak_live = 0;
    let mut round = 0u64;

    while get(&CREATED) < total {
        round += 1;
        step(&mut world, &mut rng, round);

        // A SAVEALL window now and then, drained with take_garbage.
        if round.is_multiple_of(50_000) {
            gc::set_debug(DebugFlags::SAVEALL);
        } else if round % 50_000 == 100 {
            gc::set_debug(DebugFlags::empty());
            let garbage = gc::take_garbage();
            world.saved += garbage.len() as u64;
            garbage.iter().for_each(unlink);
        }
        // Resurrected finalizer objects are released now and then.
        if round.is_multiple_of(1_000) {
            let back = LAZARUS.with(|l| std::mem::take(&mut *l.borrow_mut()));
            world.resurrected += back.len() as u64;
            back.iter().for_each(|r| r.unlink());
        }
        if round.is_multiple_of(64) {
            peak_live = peak_live.max(live());
            assert!(peak_live < MAX_LIVE, "live set grew to {peak_live}");
        }
    }
    let elapsed = start.elapsed();
    let stats = gc::get_stats();
    assert!(stats.iter().all(|s| s.collections > 0), "{stats:?}");
    assert!(world.saved > 0 || total < 5_000_000);
    assert!(world.hits > 0 && world.misses > 0);
    let live_at_end = live();
    assert!(world.listeners.len() <= world.cache.len());

    // Tear down and check every invariant.
    drop(world);
    gc::set_debug(DebugFlags::empty());
    let found = gc::collect();
    let back = LAZARUS.with(|l| std::mem::take(&mut *l.borrow_mut()));
    back.iter().for_each(|r| r.unlink());
    drop(back);
    let found = found + gc::collect();
    assert!(gc::get_objects(None).is_empty(), "tracked objects left");
    assert!(gc::garbage().is_empty(), "garbage left");
    assert_eq!(gc::get_count(), (0, 0, 0));
    assert_eq!(get(&CREATED), get(&DROPPED), "every object dropped once");
    assert!(get(&CALLBACKS) > 0);
    assert_eq!(
        get(&FINALIZERS),
        get(&RES_CREATED),
        "every finalizer ran once"
    );

    let peak = peak_rss();
    let bound = rss_start + peak_live * RSS_PER_LIVE_OBJECT;
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "soak: {} objects in {:.2?} ({:.2} M objects/s), peak live {} objects ({} at end, {} freed by the final collect), \
         peak RSS {:.1} MiB (start {:.1} MiB, bound {:.1} MiB), {} collections {:?}, {} finalizers, {} weak callbacks",
        get(&CREATED),
        elapsed,
        get(&CREATED) as f64 / elapsed.as_secs_f64() / 1e6,
        peak_live,
        live_at_end,
        found,
        mib(peak),
        mib(rss_start),
        mib(bound),
        stats.iter().map(|s| s.collections).sum::<usize>(),
        stats.map(|s| s.collections),
        get(&FINALIZERS),
        get(&CALLBACKS),
    );
    assert!(
        peak <= bound,
        "peak RSS {peak} exceeds {bound} (start {rss_start} + {peak_live} live x {RSS_PER_LIVE_OBJECT})"
    );
}
