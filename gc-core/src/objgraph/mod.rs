//! Leak hunting in the style of Python's
//! [objgraph](https://mg.pov.lt/objgraph/): which types grow, what keeps an
//! object alive, and Graphviz drawings of the object graph.
//!
//! Two things make it sharper than the original. Edges know the field that
//! holds them (`next`, `.0`, `items[3]`, `Variant.field`, and a map entry's
//! key, `vars["x"]`), so chains and graphs say *where* a reference lives,
//! and a type can describe its objects in the program's own terms
//! ([`Describe`](crate::Describe): `(lambda square (x))` rather than
//! `Value`), which the graphs and [`format_chain`] print. And roots are exact:
//! [`is_root`] compares an object's strong count with its references from
//! the heap, so "referenced from outside the heap" (a local, a static, an
//! `Rc`) needs no guess like objgraph's `is_proper_module`.
//!
//! # The workflow
//!
//! ```
//! use gc_core::objgraph::{self, GraphOptions, is_root};
//! use gc_core::{Gc, Trace};
//! use std::cell::RefCell;
//!
//! #[derive(Trace)]
//! struct Registry {
//!     pending: RefCell<Vec<Gc<Request>>>,
//! }
//!
//! #[derive(Trace)]
//! struct Request {
//!     id: u32,
//!     parent: Option<Gc<Request>>,
//! }
//!
//! fn handle(registry: &Registry, id: u32) {
//!     let request = Gc::new(Request { id, parent: None });
//!     registry.pending.borrow_mut().push(request.clone());
//!     if id % 2 == 0 {
//!         return; // the bug: never unregistered
//!     }
//!     registry.pending.borrow_mut().retain(|r| !Gc::ptr_eq(r, &request));
//! }
//!
//! let registry = Gc::new(Registry { pending: RefCell::new(Vec::new()) });
//! objgraph::show_growth(10); // the baseline: prints `Registry        1        +1`
//! for id in 0..10 {
//!     handle(&registry, id);
//! }
//! let mut report = Vec::new();
//! objgraph::show_growth_to(10, &mut report)?; // `show_growth` prints the same
//! assert_eq!(String::from_utf8(report).unwrap(), "Request        5        +5\n");
//!
//! let leaked = objgraph::by_type("Request").pop().unwrap();
//! let chain = objgraph::find_backref_chain(&leaked, is_root, 20);
//! assert_eq!(chain[0], Gc::to_object(&registry)); // held by the registry...
//! let dot = objgraph::show_chain(&chain, &GraphOptions::default())?;
//! assert!(dot.contains("[label=\"pending[")); // ...in `pending[i]`
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! `cargo run --example leak_hunt` walks through the same story with
//! commentary and writes the graphs to files.
//!
//! # What is visible
//!
//! Like objgraph, which enumerates `gc.get_objects()`, every function sees
//! the *tracked* objects: those [`get_objects`](crate::get_objects) lists
//! (generations 0 to 2). Objects of types that cannot reach a `Gc`
//! (`Gc<String>`, plain structs) are untracked and invisible to the
//! counters; they appear in graphs and forward chains only as referents.
//! Type names given to [`count`] and [`by_type`] match either the full
//! `std::any::type_name` or the short name
//! ([`Object::short_type_name`](crate::Object::short_type_name)). A `limit`
//! of 0 means "no limit", as objgraph's `limit=None`.
//!
//! [`growth`], [`get_leaking_objects`], the chain searches and the graph
//! functions run [`collect()`](crate::collect) first, as objgraph does, so
//! garbage cycles waiting for a collection are not mistaken for leaks.
//!
//! # Graphs
//!
//! [`show_refs`], [`show_backrefs`] and [`show_chain`] return Graphviz dot
//! source in objgraph's format and, given [`GraphOptions::filename`], write
//! or render it. Nodes are `o<id>`; labels are the type name (with the
//! strong count if [`GraphOptions::refcounts`]) over the number of edges.
//! Colours:
//!
//! | node | colour (HSV fill) |
//! |---|---|
//! | start objects | red text |
//! | by depth | white `0,0,1` fading to grey `0,0,0.3` at `max_depth` (white text below 0.5) |
//! | roots ([`is_root`]) | green `0.3,1,v`, as objgraph's modules |
//! | [`GraphOptions::highlight`] matches | blue `0.6,0.6,0.5+v/2`, over green |
//! | finalizer (`#[gc(finalize)]`) | a red `__del__` double circle joined by a dotted edge |
//! | beyond [`GraphOptions::too_many`] | one red "K more references" box |
//!
//! The same heap gives the same source (breadth-first order; referents in
//! trace order, referrers in list order), so graphs can be snapshot-tested
//! once the addresses in node ids are normalised.
//!
//! # Heap snapshots
//!
//! [`write_heap_snapshot`] writes the whole heap as a V8 `.heapsnapshot`
//! file, which Chrome DevTools' Memory panel and memlab load: the Summary
//! view counts objects by type, the Comparison view of two snapshots shows
//! what a piece of code left behind, and each object's retainers name the
//! fields that hold it, up to `(GC roots)`, which here are exact. See
//! [`heap_snapshot_to`] for an example; `cargo run --example
//! heap_snapshot` writes the two snapshots of objgraph's `_cache` leak.
//! Take one before and one after the suspected leak, load both in DevTools
//! (Memory > Load) and pick "Comparison": the objects allocated in between
//! and still alive are listed by type, each with its retainers.
//!
//! ## What becomes what
//!
//! | gc-core | V8 snapshot |
//! |---|---|
//! | the program outside the heap (locals, statics, `Rc`s) | node 0, `synthetic` `(GC roots)`, id 1 |
//! | an object referenced from outside the heap ([`is_root`]) | an `element` edge from `(GC roots)`, numbered 0, 1, ... |
//! | a tracked object (generations 0-2 and the permanent one) | an `object` node (`closure` for a `Gc<Closure<..>>`) |
//! | an untracked object an edge reaches (`Gc<String>`, `Gc<u64>`) | a `string` node named by its text (cut at 40 characters) for `String` and `str`, else a `native` node; no edges |
//! | its type | `name`: the short type name (`Node`, `Vec<Job>`), the Summary view's grouping key |
//! | the box: link, header, value (and a slice's length) | `self_size`, in bytes |
//! | [`Gc::id`](crate::Gc::id), the address | not used: `id` is a snapshot id (below) |
//! | a `Gc` or stored `Object` field | a `property` edge named by its label path: `next`, `.0`, `_cache[2]`, `vars["x"]` (`(value)` when the value is the `Gc` itself) |
//! | an element of a top-level sequence (`Gc<Vec<Gc<T>>>`) | an `element` edge, `name_or_index` the index |
//! | a `Weak` whose object is alive | a `weak` edge, named like a property |
//! | a [`WeakKeyMap`](crate::weakref::WeakKeyMap) entry inside an object | a `weak` edge to the key (`meta[0].key`) and a `property` edge from the object to what the value holds (`meta[0].value`): an ephemeron's value is strong for as long as it lives |
//!
//! A label path is the whole way from the value to the `Gc` inside it, so a
//! `Gc` held in the fourth element of a `_cache: RefCell<Vec<Gc<Job>>>` field
//! is one `property` edge `_cache[3]`: the retainer path DevTools and memlab
//! print names the field and the index, as objgraph's chains do.
//!
//! ## Roots are exact
//!
//! V8's embedders guess roots: every handle scope, global handle and stack
//! slot is a root whether or not it matters, and DevTools shows them as
//! `(Handle scope)`, `(Global handles)` and so on. gc-core knows: an
//! object is a root exactly when its strong count exceeds its references
//! from the heap, which one pass of the collector's `gc_refs` phases
//! computes for every object at once ([`roots`]). So
//! `(GC roots)` has an edge to precisely the objects the program holds from
//! outside the heap, and a leaked object's retainer path ends at the object
//! that the program really holds.
//!
//! ## Stable ids
//!
//! DevTools' comparison view matches two snapshots' objects by `id`. An
//! object keeps its id for its whole life, and no later object gets it, even
//! one allocated at the same address after the first was freed: the heap
//! keeps a table from address to id, filled by snapshots, and a box with an
//! entry carries a header flag so that freeing it removes the entry. Ids are
//! odd (3, 5, 7, ...; the root is 1), as V8 numbers its heap objects. Ids
//! live as long as their objects: the table costs 20 to 40 bytes per
//! object that was in a snapshot and is still alive, and nothing for the
//! others.
//!
//! ## When it is safe to call
//!
//! Anywhere, as the other objgraph functions: it runs
//! [`collect()`](crate::collect) first (as DevTools collects garbage before
//! a snapshot; inside a collection, from a finalizer or a callback, that is
//! a no-op), then reads the whole graph into plain numbers without running
//! any user code (no `Describe`, no `Drop`, no `Weak` upgraded: weak edges
//! are read from the weak cells), and only then writes, so the writer may
//! do anything. A `RefCell` that is mutably borrowed while the snapshot is
//! taken cannot be traced; its edges are missing and its objects appear as
//! roots, as in [`is_root`].
//!
//! ## The cost of a snapshot
//!
//! One walk of the lists and one labelled trace of every object, plus the
//! `gc_refs` pass for the roots; the JSON is streamed through a
//! `BufWriter` from arrays of integers, every name interned once. A million
//! small objects make a file of about 35 MB, written in about a second
//! (release build; `cargo run --release --example heap_snapshot --
//! --million`). `self_size` is the box alone, as V8's is the object alone:
//! a `Vec`'s buffer or a `String`'s bytes are not in it.
//!
//! # Cost
//!
//! Every query is one pass over the heap. [`typestats`], [`count`] and
//! [`get_leaking_objects`] create no handle for objects they do not return;
//! all roots are found in one pass of the collector's `gc_refs` phases
//! ([`roots`]); back-reference searches index every referrer once per
//! search instead of scanning the heap per visited object.

mod chain;
mod count;
mod dot;
mod graphviz;
mod roots;
mod snapshot;
mod walk;

pub use chain::{
    find_backref_chain, find_backref_chain_ignoring, find_ref_chain, find_ref_chain_ignoring,
    format_chain,
};

pub use count::{
    at, by_type, count, get_leaking_objects, growth, most_common_types, show_growth,
    show_growth_to, show_most_common_types, show_most_common_types_to, typestats,
};

pub use dot::{GraphOptions, show_backrefs, show_chain, show_refs};
pub use roots::{is_root, roots};
pub use snapshot::{SnapshotStats, heap_snapshot_to, write_heap_snapshot};
