//! The `gc` module's introspection: objects, referrers, referents, stats.

use crate::handles::{AsObject, Object, sealed::Sealed};
use crate::heap::{CollectionRecord, GenerationStats, Lists, PauseStats, heap};
use crate::layout::{HeaderPtr, flags, header_ref};
use crate::trace::trace_edges;

/// Per-generation statistics since the thread started (`gc.get_stats()`).
pub fn get_stats() -> [GenerationStats; 3] {
    heap().map_or([GenerationStats::default(); 3], |h| h.stats.get())
}

/// How long collections of each generation stopped the program since the
/// thread started: how many, the objects they examined, the total and the
/// longest pause (not in CPython, whose 3.14 incremental collector was
/// reverted in 3.14.5 because it left far more garbage waiting: read the
/// pauses beside [`CollectionRecord::collected`](crate::CollectionRecord)
/// and the objects examined, not alone).
///
/// ```
/// use gc_core::{Gc, Trace};
/// use std::cell::RefCell;
///
/// #[derive(Trace)]
/// struct Node(RefCell<Option<Gc<Node>>>);
///
/// let a = Gc::new(Node(RefCell::new(None)));
/// *a.0.borrow_mut() = Some(a.clone());
/// drop(a);
/// let before = gc_core::get_pause_stats()[2];
/// assert_eq!(gc_core::collect(), 1);
/// let after = gc_core::get_pause_stats()[2];
/// assert_eq!(after.collections, before.collections + 1);
/// assert!(after.max >= gc_core::last_collection().unwrap().duration);
/// ```
pub fn get_pause_stats() -> [PauseStats; 3] {
    heap().map_or([PauseStats::default(); 3], |h| h.pauses.get())
}

/// The figures of the last collection that ran to its end on this thread,
/// with its pause; `None` before the first. Called from a `Stop` callback
/// ([`add_callback`](crate::add_callback)), it describes the collection
/// that just ended, which is how to watch every pause.
///
/// ```
/// use gc_core::Phase;
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// let pauses = Rc::new(RefCell::new(Vec::new()));
/// let log = pauses.clone();
/// let id = gc_core::add_callback(move |phase, _| {
///     if phase == Phase::Stop {
///         log.borrow_mut().push(gc_core::last_collection().unwrap());
///     }
/// });
/// gc_core::collect();
/// gc_core::collect_generation(0);
/// gc_core::remove_callback(id);
/// let generations: Vec<usize> = pauses.borrow().iter().map(|r| r.generation).collect();
/// assert_eq!(generations, [2, 0]);
/// ```
pub fn last_collection() -> Option<CollectionRecord> {
    heap().and_then(|h| h.last_collection.get())
}

/// Every tracked object in generations 0 to 2, or in one generation
/// (`gc.get_objects(generation)`). Frozen objects are not listed; untracked
/// ones (whose types cannot form cycles, such as `Gc<String>`) never are.
///
/// # Panics
///
/// If `generation` is `Some(g)` with `g > 2`.
///
/// ```
/// use gc_core::{Gc, Trace};
///
/// #[derive(Trace)]
/// struct Node(Option<Gc<Node>>);
///
/// let n = Gc::new(Node(None));
/// let s = Gc::new(String::from("untracked"));
/// let objects = gc_core::get_objects(None);
/// assert!(objects.contains(&Gc::to_object(&n)));
/// assert!(!objects.contains(&Gc::to_object(&s)));
/// ```
///
/// The list holds strong handles, as CPython's does: while it lives, every
/// object in it is reachable and no collection frees it. A statement like
/// `println!("{} {}", get_objects(None).len(), collect())` keeps the
/// temporary list alive through the `collect()`, which then finds nothing.
/// To count, use [`count_objects`], which holds no handle.
pub fn get_objects(generation: Option<usize>) -> Vec<Object> {
    if let Some(g) = generation {
        assert!(
            g <= 2,
            "get_objects(Some({g})): generation must be 0, 1 or 2 (None lists all of them)"
        );
    }
    let Some(heap) = heap() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut push = |h| {
        // SAFETY: objects on a generation list are allocated with live
        // values (garbage being torn down is on another list).
        out.push(unsafe { Object::new_ref(h) });
    };
    match generation {
        Some(g) => heap.generations[g].head.iter().for_each(&mut push),
        None => heap.for_each(Lists::Generations, |h, _| push(h)),
    }
    out
}

/// The number of tracked objects in generations 0 to 2, or in one
/// generation: `get_objects(generation).len()` without creating a handle
/// to each (so it keeps nothing alive), in one walk of the lists.
///
/// # Panics
///
/// If `generation` is `Some(g)` with `g > 2`.
///
/// ```
/// use gc_core::{Gc, Trace};
/// use std::cell::RefCell;
///
/// #[derive(Trace)]
/// struct Node(RefCell<Option<Gc<Node>>>);
///
/// gc_core::collect();
/// let before = gc_core::count_objects(None);
/// let a = Gc::new(Node(RefCell::new(None)));
/// *a.0.borrow_mut() = Some(a.clone());
/// drop(a);
/// assert_eq!(gc_core::count_objects(None), before + 1);
/// // Unlike `get_objects(None).len()`, counting holds nothing alive:
/// println!("{} tracked, {} collected", gc_core::count_objects(None), gc_core::collect());
/// assert_eq!(gc_core::count_objects(None), before);
/// ```
pub fn count_objects(generation: Option<usize>) -> usize {
    if let Some(g) = generation {
        assert!(
            g <= 2,
            "count_objects(Some({g})): generation must be 0, 1 or 2 (None counts all of them)"
        );
    }
    let Some(heap) = heap() else {
        return 0;
    };
    match generation {
        Some(g) => heap.generations[g].head.len(),
        None => heap.lists(Lists::Generations).map(|list| list.len()).sum(),
    }
}

/// The tracked objects (generations 0 to 2) that hold a strong edge to
/// `target`, each listed once (`gc.get_referrers(obj)`). O(heap).
pub fn get_referrers(target: &impl AsObject) -> Vec<Object> {
    let target = Sealed::header(target);
    let Some(heap) = heap() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    heap.for_each(Lists::Generations, |h, _| {
        let mut found = false;
        // SAFETY: objects on a generation list are allocated with live
        // values that nobody is dropping.
        unsafe { trace_edges(h, &mut |child, _| found |= child == target) };
        if found {
            // SAFETY: as above.
            out.push(unsafe { Object::new_ref(h) });
        }
    });
    out
}

/// The objects `obj` holds strong edges to (`gc.get_referents(obj)`).
pub fn get_referents(obj: &impl AsObject) -> Vec<Object> {
    handle(obj).referents()
}

/// Whether the object is on the collector's lists (`gc.is_tracked(obj)`):
/// false for types that cannot form cycles, and for objects created while
/// the thread was exiting.
pub fn is_tracked(obj: &impl AsObject) -> bool {
    header_flag(Sealed::header(obj), flags::TRACKED)
}

/// Whether the object's finalizer has run (`gc.is_finalized(obj)`).
pub fn is_finalized(obj: &impl AsObject) -> bool {
    header_flag(Sealed::header(obj), flags::FINALIZED)
}

fn header_flag(h: HeaderPtr, flag: u32) -> bool {
    // SAFETY: the handle the caller borrows keeps the box allocated.
    unsafe { header_ref(h) }.has(flag)
}

/// A temporary `Object` for a borrowed handle.
fn handle(obj: &impl AsObject) -> Object {
    // SAFETY: the borrowed strong handle keeps the value alive.
    unsafe { Object::new_ref(Sealed::header(obj)) }
}
