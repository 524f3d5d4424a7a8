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
//!   decided at compile time ([`Trace::TRACKED`]).
//! - **Cycle detection** by trial deletion (see the [`collector`] module
//!   docs): for each tracked object, count the references from outside the
//!   generation being collected; objects not reachable from such a reference
//!   are garbage.
//! - **Generations** `(700, 10, 10)`, as CPython: new objects start in
//!   generation 0; survivors move up; older generations are examined less
//!   often ([`set_threshold`], [`get_count`]).
//!
//! Each thread has its own heap: `Gc` is neither `Send` nor `Sync`, and all
//! collector state (thresholds, counts, callbacks) belongs to the current
//! thread.
//!
//! # Where Rust differs from CPython
//!
//! - Panics raised by destructors or callbacks during a collection propagate
//!   out of `collect()` (or the `Gc::new` that triggered it) once the heap is
//!   consistent; CPython reports them as "unraisable".
//! - When a thread exits, its tracked objects are untracked; cycles still
//!   alive then leak (CPython only collects at interpreter shutdown).
//! - A garbage cycle is torn down by dropping its values in place rather
//!   than by `tp_clear`; see [`collector`] for why this is sound.
//!
//! # Module map
//!
//! | module | what |
//! |---|---|
//! | `gc`, `weak`, `object` | the handles: [`Gc`], [`Weak`], [`Object`] |
//! | `header`, `alloc`, `list` | the object layout, allocation, container lists |
//! | `trace`, `trace_impls` | [`Trace`] and its std implementations |
//! | [`collector`] | the collection phases |
//! | `generations` | thresholds, counts, automatic collection, freezing |
//! | `trashcan` | bounded-stack destruction of long chains |
//! | `introspect`, `callbacks` | the `gc` module's introspection and callbacks |
//! | `finalize`, `garbage`, `debug` | finalizers and their policies, `gc.garbage`, debug flags |
//! | [`weakref`] | weak collections and `weakref.finalize` |
//! | `state` | the per-thread heap and thread teardown |

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

mod alloc;
mod callbacks;
pub mod collector;
mod debug;
mod finalize;
mod garbage;
mod gc;
mod generations;
mod header;
mod introspect;
mod list;
mod object;
mod state;
mod trace;
mod trace_impls;
mod trashcan;
mod weak;
pub mod weakref;

pub use callbacks::{CallbackId, CollectionInfo, Phase, add_callback, remove_callback};
pub use collector::{collect, collect_generation};
pub use debug::{DebugFlags, get_debug, set_debug, set_debug_writer};
pub use finalize::{Finalize, FinalizerPolicy, get_finalizer_policy, set_finalizer_policy};
pub use garbage::{garbage, take_garbage};
pub use gc::Gc;
pub use generations::{
    disable, enable, freeze, get_count, get_freeze_count, get_threshold, is_enabled, set_threshold,
    unfreeze,
};
pub use introspect::{
    GenerationStats, get_objects, get_referents, get_referrers, get_stats, is_finalized, is_tracked,
};
pub use object::{AsObject, Object};
pub use trace::{Trace, Tracer};
pub use weak::{ReferenceError, Weak};

/// Derives [`Trace`] for a struct or enum; see the `gc_derive` crate docs.
pub use gc_derive::Trace;

/// Lets the derive's expansion name this crate as `::gc_core` from inside
/// this crate's own tests and docs.
#[allow(unused_extern_crates)]
extern crate self as gc_core;

#[cfg(test)]
mod tests;
