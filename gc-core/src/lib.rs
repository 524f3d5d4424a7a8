//! CPython's memory management for Rust.
//!
//! [`Gc<T>`] is a reference-counted pointer that frees its object the moment
//! the last handle goes, like [`std::rc::Rc`]. Unlike `Rc`, cycles do not
//! leak: a cycle detector modelled on CPython's (`Modules/gcmodule.c`) finds
//! groups of objects that only refer to each other and frees them. Types opt
//! in with `#[derive(Trace)]`, which tells the collector where their `Gc`
//! fields are.
//!
//! ```
//! use gc_core::{self as gc, Gc, Trace};
//! use std::cell::RefCell;
//!
//! #[derive(Trace)]
//! struct Node {
//!     name: String,
//!     other: RefCell<Option<Gc<Node>>>,
//! }
//!
//! gc::collect();
//! let a = Gc::new(Node { name: "a".into(), other: RefCell::new(None) });
//! let b = Gc::new(Node { name: "b".into(), other: RefCell::new(Some(a.clone())) });
//! *a.other.borrow_mut() = Some(b.clone());
//! drop((a, b)); // the cycle keeps both alive...
//! assert_eq!(gc::collect(), 2); // ...until the collector finds it
//! ```
//!
//! # The model
//!
//! - **Reference counting** does almost all the work. Cloning a `Gc` adds
//!   one; dropping the last one drops the value and frees the memory at
//!   once, with no collector involved.
//! - **Tracking.** Objects whose type can reach a `Gc` are *tracked*: they
//!   sit on intrusive container lists, one per generation. Types that cannot
//!   form cycles (`Gc<String>`, a struct of plain fields) are never tracked,
//!   decided at compile time ([`TraceMeta::TRACKED`]).
//! - **Cycle detection** by trial deletion (see the [`collector`] module
//!   docs): for each tracked object, count the references from outside the
//!   generation being collected; objects not reachable from such a reference
//!   are garbage.
//! - **Generations** `(700, 10, 10)`, as CPython: new objects start in
//!   generation 0; survivors move up; older generations are examined less
//!   often ([`set_threshold`], [`get_count`]).
//!
//! - **Finalizers** (`#[gc(finalize)]` + [`Finalize`], Python's `__del__`)
//!   run once. A cycle holding one is kept in [`garbage()`] under the
//!   default [`FinalizerPolicy::Uncollectable`] (Python 2.7), or finalized
//!   and freed under [`FinalizerPolicy::Finalize`] (PEP 442).
//! - **Weak references** ([`Weak`], [`Gc::downgrade_with`] callbacks,
//!   [`weakref`]'s collections and `finalize`) are cleared before anything of
//!   a dying object runs, so no destructor can reach it through them.
//! - **Leak hunting** ([`objgraph`]) in the program's own terms: edges are
//!   labelled by the field, index or map key that holds them (`vars["x"]`),
//!   and a type can describe its objects (`#[gc(describe)]` + [`Describe`],
//!   Python's `__repr__` as objgraph prints it).
//!
//! Each thread has its own heap: `Gc` is neither `Send` nor `Sync`, and all
//! collector state (thresholds, counts, callbacks, garbage list, debug flags)
//! belongs to the current thread.
//!
//! # Trait objects, slices and closures
//!
//! A trait that requires [`Trace`] makes trait objects the collector sees
//! into: [`unsize!`] turns a `Gc<Circle>` into a `Gc<dyn Shape>` (with the
//! `nightly` feature, plain coercion does), the collector traces the
//! concrete value and finds cycles through `dyn`, and [`Gc::downcast`]
//! gives the concrete handle back. `Gc<[T]>` and `Gc<str>` hold slices and
//! strings in one allocation. A [`Closure`], made with [`gc_closure!`], is a
//! closure whose captures are traced edges: Python's bound methods in a
//! handler table.
//!
//! ```
//! use gc_core::{Closure, Gc, Trace, gc_closure, unsize};
//! use std::cell::RefCell;
//!
//! trait Shape: Trace {
//!     fn area(&self) -> f64;
//! }
//!
//! #[derive(Trace)]
//! struct Group {
//!     members: RefCell<Vec<Gc<dyn Shape>>>,
//!     on_change: RefCell<Option<Closure<dyn Fn() -> usize>>>,
//! }
//!
//! impl Shape for Group {
//!     fn area(&self) -> f64 {
//!         self.members.borrow().iter().map(|m| m.area()).sum()
//!     }
//! }
//!
//! gc_core::collect();
//! let group = Gc::new(Group {
//!     members: RefCell::new(Vec::new()),
//!     on_change: RefCell::new(None),
//! });
//! let shape: Gc<dyn Shape> = unsize!(group.clone() => dyn Shape);
//! group.members.borrow_mut().push(shape); // a cycle through `dyn Shape`
//! let me = group.clone();
//! let count = gc_closure!([me] move || me.members.borrow().len());
//! *group.on_change.borrow_mut() = Some(count); // and one through a closure
//! assert_eq!(group.on_change.borrow().as_ref().unwrap()(), 1);
//!
//! let names: Gc<[Gc<str>]> = vec![Gc::from("circle"), Gc::from("square")].into();
//! assert_eq!(&*names[1], "square");
//!
//! drop(group);
//! assert_eq!(gc_core::collect(), 1);
//! ```
//!
//! # No invisible edges
//!
//! A `Gc` the collector cannot see is a cycle it can never free, so the
//! places one could hide are compile errors rather than silent leaks:
//!
//! - `Rc<T>`, `Arc<T>` and their `Weak`s are accepted only around contents
//!   that cannot reach a `Gc` (`Rc<str>`, `Rc<String>`, `Arc<[u8]>`).
//!   `Rc<RefCell<Gc<Env>>>` fails with a message saying to hold it in a
//!   `Gc` instead (shared ownership cannot report its edges: each owner
//!   would report them again).
//! - A `Box<dyn Fn ..>` does not implement [`Trace`]: a closure that
//!   captures a `Gc` is a [`Closure`].
//! - `#[gc(skip)]` opts a field out explicitly, for contents that hold no
//!   `Gc` (or whose `Gc`s should count as roots).
//!
//! # Types that implement `Drop`
//!
//! The derive refuses a type that also implements `Drop`: a garbage cycle's
//! values are dropped one after another, so a `drop` that used a `Gc` field
//! could see an object whose value is already gone. Put cleanup logic in a
//! finalizer, which runs while everything is still valid, or in a field type
//! that owns no `Gc`. For a `Drop` that never touches its `Gc` fields,
//! `#[gc(unsafe_no_drop)]` lifts the check and requires an
//! `unsafe impl` [`DropOk`] instead, so the promise is made with the
//! `unsafe` keyword (and `#![forbid(unsafe_code)]` rejects it).
//!
//! # Where Rust differs from CPython
//!
//! - Panics raised by destructors, finalizers, weak callbacks or the debug
//!   writer during a collection propagate out of `collect()` (or the
//!   `Gc::new` that triggered it) once the collection is complete and the
//!   heap consistent; CPython reports them as "unraisable". Collection
//!   callbacks' panics propagate too.
//! - When a thread exits, its tracked objects are untracked; cycles still
//!   alive then leak (CPython only collects at interpreter shutdown).
//! - A garbage cycle is torn down by dropping its values in place rather
//!   than by `tp_clear`; see [`collector`] for why this is sound.
//! - There are no `__dict__` objects, so `collect()` counts one object per
//!   value (CPython 3.11+ counts the same; 2.7 counted the dicts too).
//! - Weak collections reclaim a dead entry's storage at the next `&mut`
//!   call rather than at once; see [`weakref`].
//! - A [`WeakKeyMap`](weakref::WeakKeyMap) value that refers to its own key
//!   does not keep it alive: values are ephemerons, as in JavaScript's
//!   `WeakMap`, where CPython's `WeakKeyDictionary` leaks both. This needs a
//!   tracked key type, and a map inside the heap or made with
//!   [`WeakKeyMap::traced`](weakref::WeakKeyMap::traced).
//! - The debug writer receives a collection's lines (same text, same
//!   order) once that collection is over, not while it runs: CPython's
//!   `sys.stderr` could reach the garbage through a weak reference and keep
//!   it alive; here that would be a use-after-free. The
//!   [`collector`] docs list every point where user code runs during a
//!   collection and what it can reach.
//! - A panic payload whose own `Drop` panics is dropped without unwinding
//!   (a payload that keeps doing so is leaked after a few levels).
//! - A full collection waits until generation 2 has grown by a quarter
//!   since the last one, counting objects promoted into it minus
//!   generation-2 objects that reference counting freed since; CPython
//!   counts only the promotions, so short-lived objects that were promoted
//!   and then died trigger full collections of an old heap that did not
//!   grow (the Benchmarks Game's `binary_trees` ran 5x slower that way).
//!
//! # Module map
//!
//! The crate is built in layers, bottom-up; each calls only the layers
//! below it (`ARCHITECTURE.md` in the repository has the rules and where
//! each CPython function lives; a unit test checks the rule on the source).
//!
//! | layer | module | what (CPython) |
//! |---|---|---|
//! | 1 | `layout` | the box: header, flags, vtable shape, container lists, allocation, weak cell shape (`PyGC_Head`, `gc_list_*`, `PyObject_Malloc`) |
//! | 2 | `trace` | the contract: [`Trace`], [`Tracer`], [`DropOk`], [`Finalize`], [`Describe`], std impls, edge labels, a weak-key map's ephemeron table (`tp_traverse`) |
//! | 3 | `heap` | the per-thread heap's data: generations, stats, settings, callbacks, `gc.garbage`, the registry of ephemeron tables, heap snapshots' ids, thread exit (`GCState`) |
//! | 4 | `lifecycle` | one object's life outside collections: dealloc, finalizer on refcount death, weak references, trashcan (`_Py_Dealloc`, `PyObject_ClearWeakRefs`, `Py_TRASHCAN`) |
//! | 5 | [`collector`] | collections, in pipeline order: schedule, driver, reachability (with ephemerons), finalizers, teardown, debug lines (`Python/gc.c`) |
//! | 6 | `handles` | [`Gc`], [`Weak`], [`Object`], and the one place a type's vtable is built |
//! | 7 | `gcmodule`, `closure`, [`weakref`], [`objgraph`], [`testing`] | tools: the `gc` module's functions and introspection, traced closures ([`Closure`]), weak collections, leak hunting and V8 heap snapshots, leak assertions for tests |

#![cfg_attr(feature = "nightly", feature(coerce_unsized, unsize))]

// Layers, bottom-up: each calls only the ones listed before it.
mod closure;
pub mod collector;
mod gcmodule;
mod handles;
mod heap;
mod layout;
mod lifecycle;
pub mod objgraph;
pub mod testing;
mod trace;
pub mod weakref;

#[doc(hidden)]
pub use closure::Captures;
pub use closure::Closure;
pub use collector::{collect, collect_generation};
pub use gcmodule::introspect::{
    count_objects, get_objects, get_pause_stats, get_referents, get_referrers, get_stats,
    is_finalized, is_tracked, last_collection,
};

pub use gcmodule::{
    add_callback, disable, enable, freeze, garbage, get_count, get_debug, get_finalizer_policy,
    get_freeze_count, get_threshold, is_enabled, remove_callback, set_debug, set_debug_writer,
    set_finalizer_policy, set_threshold, take_garbage, unfreeze,
};

pub use handles::{AsObject, Gc, GcMut, Object, ReferenceError, Weak};
pub use heap::{
    CallbackId, CollectionInfo, CollectionRecord, DebugFlags, FinalizerPolicy, GenerationStats,
    PauseStats, Phase,
};
pub use trace::{Describe, DropOk, Finalize, Trace, TraceMeta, Tracer};

/// Names the macros' expansions use. Not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::closure::Named;
    pub use crate::layout::header::GcBox;
    pub use crate::trace::{Probe, ProbeFallback};
}

/// Derives [`Trace`] for a struct or enum; see the `gc_derive` crate docs.
pub use gc_derive::Trace;

/// Lets the derive's expansion name this crate as `::gc_core` from inside
/// this crate's own tests and docs.
#[allow(unused_extern_crates)]
extern crate self as gc_core;

#[cfg(test)]
mod tests;
