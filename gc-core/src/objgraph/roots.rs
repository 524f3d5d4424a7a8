//! Roots: objects referenced from outside the heap.
//!
//! An object's strong count is the sum of three kinds of handles:
//!
//! - `Gc`s owned by tracked objects (traced edges: what the collector sees);
//! - [`Object`] handles: introspection (`get_objects`, the search queues of
//!   this module, `gc.garbage`), counted in the header;
//! - everything else: `Gc`s in local variables, statics, thread-locals,
//!   `Rc`s, untracked objects and any other memory the collector cannot see.
//!
//! An object is a *root* when the third kind is non-zero:
//! `strong > references from tracked objects + Object handles`. This is
//! exact, unlike objgraph's `is_proper_module`, and introspection never
//! changes the answer: a search holding `Object`s to half the heap sees the
//! same roots as before it started.
//!
//! Counting the references from tracked objects for *every* object at once
//! is the collector's `update_refs` + `subtract_refs` (see
//! [`collector`](crate::collector)) run over every tracked object:
//! one pass, O(heap): `collector::count_internal_refs`, the collector's own
//! phases, which this module calls and never reimplements.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::walk::handle;
use crate::collector::count_internal_refs;
use crate::handles::{Object, sealed::Sealed};
use crate::heap::{Heap, Lists, heap, object_handles};
use crate::layout::{GcHeader, HeaderPtr, header_ref};
use crate::trace::{Edges, trace_edges_of};

/// Whether `obj` is referenced from outside the heap: its strong count
/// exceeds its references from tracked objects plus the [`Object`] handles
/// alive to it.
///
/// A `Gc` in a local variable, a static or thread-local, an `Rc<Gc<T>>`, or a
/// field of an untracked object makes an object a root; a `Gc` field of a
/// tracked object does not, and no introspection handle ever does (so the
/// handles a search holds never disturb the answer). This is the Rust
/// counterpart of objgraph's `is_proper_module`, the usual predicate of
/// [`find_backref_chain`](super::find_backref_chain).
///
/// A `RefCell` that is mutably borrowed while this runs cannot be traced, so
/// the objects it holds count as referenced from outside, as in a
/// collection.
///
/// Cost: one scan of the heap. Inside [`find_backref_chain`],
/// [`find_ref_chain`](super::find_ref_chain) and the graph functions, the
/// first call computes every object's answer in one pass of the
/// collector's `gc_refs` machinery and later calls look it up, so
/// `find_backref_chain(obj, is_root, ..)` stays linear in the heap.
///
/// [`find_backref_chain`]: super::find_backref_chain
///
/// ```
/// use gc_core::objgraph::is_root;
/// use gc_core::{Gc, Trace, get_objects};
/// use std::cell::RefCell;
///
/// #[derive(Trace)]
/// struct Node {
///     next: RefCell<Option<Gc<Node>>>,
/// }
///
/// let head = Gc::new(Node { next: RefCell::new(None) });
/// let tail = Gc::new(Node { next: RefCell::new(None) });
/// *head.next.borrow_mut() = Some(tail.clone());
/// assert!(is_root(&Gc::to_object(&tail))); // the local `tail`
/// drop(tail);
/// let objects = get_objects(None); // handles to both nodes
/// let tail = objects.iter().find(|o| o.id() != Gc::id(&head)).unwrap();
/// assert!(!is_root(tail)); // only `head.next` and introspection handles
/// assert!(is_root(&Gc::to_object(&head)));
/// ```
pub fn is_root(obj: &Object) -> bool {
    let h = Sealed::header(obj);
    let refs = RootScope::lookup(h)
        .unwrap_or_else(|| heap().map_or(0, |heap| referrers_of(heap, h, Edges::Gc)));
    exceeds(h, refs)
}

/// Every tracked object (generations 0 to 2, as
/// [`get_objects`](crate::get_objects) lists them) that [`is_root`], in list
/// order. One pass over the heap.
///
/// ```
/// use gc_core::{Gc, Trace, objgraph};
/// use std::cell::RefCell;
///
/// #[derive(Trace)]
/// struct Node {
///     next: RefCell<Option<Gc<Node>>>,
/// }
///
/// let head = Gc::new(Node { next: RefCell::new(None) });
/// *head.next.borrow_mut() = Some(Gc::new(Node { next: RefCell::new(None) }));
/// let roots = objgraph::roots();
/// assert!(roots.contains(&Gc::to_object(&head)));
/// assert_eq!(roots.len(), 1);
/// ```
pub fn roots() -> Vec<Object> {
    let Some(heap) = heap() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for_each_root(heap, Lists::Generations, |h| {
        // SAFETY: `h` is on a list; finding roots ran no user code.
        found.push(unsafe { handle(h) });
    });
    found
}

/// Calls `found` on every object of `which` ([`Lists::Generations`] or
/// [`Lists::Tracked`]) that [`is_root`], in list order: one pass of the
/// collector's `gc_refs` phases (or, during a collection, a count of
/// referrers). Runs no user code, and `found` must not either.
pub(super) fn for_each_root(heap: &Heap, which: Lists, mut found: impl FnMut(HeaderPtr)) {
    let stored = referrer_counts(heap, Lists::Tracked, Edges::Objects);
    let ran = internal_refs(heap, Lists::Tracked, |h, header, refs| {
        let refs = refs.saturating_sub(lookup(&stored, h));
        let listed = which != Lists::Generations || header.generation().is_some_and(|g| g <= 2);
        if listed && exceeds(h, refs) {
            found(h);
        }
    });
    if !ran {
        let counts = referrer_counts(heap, Lists::All, Edges::Gc);
        heap.for_each(which, |h, _| {
            if exceeds(h, lookup(&counts, h)) {
                found(h);
            }
        });
    }
}

/// `strong > refs + Object handles`, where `refs` counts the references
/// from tracked objects other than the `Object`s stored in them (those are
/// counted among the `Object` handles already).
pub(super) fn exceeds(h: HeaderPtr, refs: usize) -> bool {
    // SAFETY: callers hold a handle to `h` or found it on a list.
    let strong = unsafe { header_ref(h) }.strong();
    strong > refs.saturating_add(object_handles(h))
}

/// The count for `h` in a table by address (0 if absent).
fn lookup(counts: &HashMap<usize, usize>, h: HeaderPtr) -> usize {
    counts.get(&h.as_ptr().addr()).copied().unwrap_or(0)
}

/// [`count_internal_refs`] with the direct count for an object whose strong
/// count did not fit the collector's `gc_refs` (over 2^31 handles).
pub(super) fn internal_refs(
    heap: &Heap,
    which: Lists,
    mut read: impl FnMut(HeaderPtr, &GcHeader, usize),
) -> bool {
    count_internal_refs(heap, which, |h, header, refs| {
        let refs = refs.unwrap_or_else(|| referrers_of(heap, h, Edges::All));
        read(h, header, refs);
    })
}

/// How many strong references each object has from the objects of
/// `lists`, by address: the fallback of [`internal_refs`] while a
/// collection runs. Objects the collection condemned are skipped: their
/// values are being torn down, and they are no one's referrers any more.
pub(super) fn referrer_counts(heap: &Heap, which: Lists, edges: Edges) -> HashMap<usize, usize> {
    let mut counts: HashMap<usize, usize> = HashMap::new();
    heap.for_each(which, |h, _| {
        // SAFETY: `h` is on a list, so allocated; `trace_edges` skips an
        // object whose value is dropped or condemned (being dropped, or
        // about to be, by the running collection's teardown), and any other
        // object on a list has a live value that nobody is dropping.
        unsafe {
            trace_edges_of(h, edges, &mut |child, _| {
                *counts.entry(child.as_ptr().addr()).or_insert(0) += 1
            })
        };
    });
    counts
}

/// How many strong references `target` has from objects on the heap's
/// lists. One scan of the heap.
fn referrers_of(heap: &Heap, target: HeaderPtr, edges: Edges) -> usize {
    let mut n = 0;
    heap.for_each(Lists::All, |h, _| {
        // SAFETY: as in `referrer_counts`.
        unsafe { trace_edges_of(h, edges, &mut |child, _| n += usize::from(child == target)) };
    });
    n
}

/// References from tracked objects, by address, for every tracked object
/// (or, when computed during a collection, for every target: `complete`).
struct RefTable {
    /// References from tracked objects, not counting `Object`s stored in
    /// them (see [`exceeds`]), by address.
    refs: HashMap<usize, usize>,
    /// Every object with a tracked referrer is in `refs`, so a miss means
    /// zero.
    complete: bool,
}

impl RefTable {
    fn compute() -> Option<RefTable> {
        let heap = heap()?;
        let mut refs = HashMap::new();
        let stored = referrer_counts(heap, Lists::Tracked, Edges::Objects);
        let ran = internal_refs(heap, Lists::Tracked, |h, _, n| {
            refs.insert(h.as_ptr().addr(), n.saturating_sub(lookup(&stored, h)));
        });
        Some(if ran {
            RefTable {
                refs,
                complete: false,
            }
        } else {
            RefTable {
                refs: referrer_counts(heap, Lists::All, Edges::Gc),
                complete: true,
            }
        })
    }

    fn get(&self, h: HeaderPtr) -> Option<usize> {
        let n = self.refs.get(&h.as_ptr().addr()).copied();
        n.or(self.complete.then_some(0))
    }
}

/// The root cache of the running search, if any.
enum Cache {
    Off,
    /// A search is running; the table is computed on first use.
    Pending,
    Ready(Rc<RefTable>),
}

thread_local! {
    static CACHE: RefCell<Cache> = const { RefCell::new(Cache::Off) };
}

/// While alive, [`is_root`] answers from a table computed once (at its
/// first call) instead of scanning the heap per call. The chain searches
/// and graph functions hold one, so a predicate like `is_root` costs one
/// pass per search. Scopes nest; each starts with a fresh table.
///
/// The table is a snapshot of the references from tracked objects; strong
/// counts and `Object` handles are read live. Objects it does not know
/// (untracked, or allocated since) are counted by a scan.
pub(super) struct RootScope {
    previous: Option<Cache>,
}

impl RootScope {
    pub(super) fn enter() -> RootScope {
        RootScope {
            previous: CACHE.try_with(|c| c.replace(Cache::Pending)).ok(),
        }
    }

    /// The cached reference count of `h`, if a scope is active and knows it.
    fn lookup(h: HeaderPtr) -> Option<usize> {
        let table = CACHE
            .try_with(|c| match &*c.borrow() {
                Cache::Off => Err(false),
                Cache::Pending => Err(true),
                Cache::Ready(table) => Ok(table.clone()),
            })
            .ok()?;
        let table = match table {
            Ok(table) => table,
            Err(false) => return None,
            Err(true) => {
                // Computed without holding the borrow: a panicking `Trace`
                // leaves the scope pending.
                let table = Rc::new(RefTable::compute()?);
                let _ = CACHE.try_with(|c| *c.borrow_mut() = Cache::Ready(table.clone()));
                table
            }
        };
        table.get(h)
    }
}

impl Drop for RootScope {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            let _ = CACHE.try_with(|c| *c.borrow_mut() = previous);
        }
    }
}
