//! Layer 2: the contract between a value and the collector. [`Trace`] (how
//! the collector sees a value's edges), [`Tracer`] (sealed; the crate's
//! tracers implement one method each), [`DropOk`], [`Finalize`], and the
//! std implementations ([`impls`]). [`label`] holds the edge labels and
//! [`trace_edges`], the type-erased walk over a value's edges that
//! introspection and the legacy-finalizer walk use.
//!
//! May call: `layout`. Names the handles `Gc` and `Weak` as types (they are
//! what `Tracer::edge` receives).

mod ephemeron;
mod erased;
mod impls;
mod label;

pub(crate) use ephemeron::EntryView;
pub use ephemeron::EphemeronTable;
pub(crate) use erased::{Erased, ErasedTracer};

pub(crate) use label::{
    Bounded, DynTracer, EdgeKind, Edges, Segment, render_label, trace_edges, trace_edges_of,
    trace_kinded_edges, trace_labelled_edges, truncate, write_label,
};

use crate::handles::{Gc, Weak};
use crate::layout::{HeaderPtr, WeakCell};
use std::fmt;
use std::marker::PhantomData;

/// A value whose strong [`Gc`] edges the collector can enumerate.
///
/// Almost every user writes `#[derive(Trace)]` instead of implementing this
/// trait by hand. Implementations for std types (primitives, `String`, `Box`,
/// `Vec`, maps, `Option`, `RefCell`, tuples, arrays, ...) live in this crate.
///
/// `Trace` is dyn-compatible, so a trait of trait objects can require it
/// (`trait Shape: Trace`, then `Gc<dyn Shape>`). What the collector must know
/// about a type at compile time (whether it is tracked) is in the companion
/// trait [`TraceMeta`], which the derive implements too; [`Gc::new`] needs
/// both.
///
/// # Safety
///
/// The collector decides what is garbage by comparing each object's strong
/// count with the number of edges that other objects report to it. A manual
/// implementation must therefore keep this contract:
///
/// 1. **Never report an edge the value does not own.** Each call to
///    [`Tracer::edge`] (or to `Trace::trace` on a `Gc` field) must correspond
///    to a `Gc` stored inside `self`, whose strong reference `self` owns.
///    Reporting a `Gc` that lives elsewhere (in a global, in another object,
///    behind an `Rc` that someone else also owns) makes the collector believe
///    the target is referenced only from the heap, so it may free an object
///    that safe code can still reach: **undefined behaviour**.
/// 2. **Never report the same owned edge twice** in one call, for the same
///    reason.
/// 3. **Report the same edges throughout a collection.** `trace` is called
///    several times per collection; the answers must agree. (A `RefCell` that
///    is mutably borrowed is skipped every time, which keeps this rule.)
/// 4. **Do not create, clone or drop a `Gc`, nor run arbitrary user code,
///    inside `trace`.** Panicking is allowed: the collector restores its state
///    and propagates the panic.
/// 5. **A type that implements `Drop` must not dereference, clone, move out,
///    downgrade or format its `Gc` fields in `drop`.** When a garbage cycle
///    is torn down the values are dropped one by one, so a `Gc` field may
///    point at an object whose value was already dropped. The derive enforces
///    this by refusing types that implement `Drop` (see `gc_derive`); use
///    `#[gc(finalize)]` for cleanup logic. A derived type that needs a `Drop`
///    impl says `#[gc(unsafe_no_drop)]` and makes this promise with
///    `unsafe impl` [`DropOk`], whose contract states the rule in full.
///
/// 6. **Leave [`TraceMeta`]'s hidden items alone.** A hand-written
///    `impl TraceMeta` sets `TRACKED` only; overriding its hidden methods
///    (`__trace`, `__finalize`, `__describe`, `__key_label`) is part of this
///    contract too. `__key_label` runs inside `trace` and must run no user
///    code either: a `RefCell`'s `Trace` reads its contents without a borrow
///    guard, relying on it.
///
/// Reporting *too few* edges is always safe: the objects behind the missing
/// edges are treated as externally referenced and simply kept alive (a leak,
/// never a use-after-free). `#[gc(skip)]` relies on this.
///
/// # Examples
///
/// A manual implementation, equivalent to what the derive generates:
///
/// ```
/// use gc_core::{Gc, Trace, TraceMeta, Tracer};
///
/// struct Pair {
///     left: Option<Gc<Pair>>,
///     weight: u32,
/// }
///
/// // SAFETY: reports `left`, the one `Gc` a `Pair` owns, once.
/// unsafe impl Trace for Pair {
///     fn trace<V: Tracer>(&self, tracer: &mut V) {
///         tracer.field("left", |t| self.left.trace(t));
///     }
/// }
///
/// // A `Pair` can reach a `Gc`: tracked (the default).
/// impl TraceMeta for Pair {}
///
/// let p = Gc::new(Pair { left: None, weight: 1 });
/// assert!(gc_core::is_tracked(&p));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `Trace`, so the collector cannot see its `Gc` edges",
    note = "add `#[derive(Trace)]` to `{Self}` or implement `Trace` by hand; a field of this type can instead be marked `#[gc(skip)]`"
)]
pub unsafe trait Trace {
    /// Reports every strong [`Gc`] edge `self` owns to `tracer`, each once.
    ///
    /// (`where Self: Sized` keeps the trait dyn-compatible: a trait object's
    /// value is traced through its box, which knows the concrete type.)
    fn trace<V: Tracer>(&self, tracer: &mut V)
    where
        Self: Sized;
}

/// What the collector knows about a [`Trace`] type at compile time: whether
/// its values can reach a [`Gc`] at all. Separate from `Trace` because a
/// trait with constants cannot be a trait object's supertrait.
///
/// `#[derive(Trace)]` implements it. A manual `Trace` impl adds
/// `impl TraceMeta for T {}` (tracked), or sets `TRACKED = false` for a type
/// that owns no `Gc`.
///
/// ```
/// use gc_core::{Gc, Trace, TraceMeta, Tracer};
///
/// struct Celsius(f64);
///
/// // SAFETY: owns no `Gc`, reports nothing.
/// unsafe impl Trace for Celsius {
///     fn trace<V: Tracer>(&self, _: &mut V) {}
/// }
///
/// impl TraceMeta for Celsius {
///     const TRACKED: bool = false;
/// }
///
/// assert!(!gc_core::is_tracked(&Gc::new(Celsius(21.5))));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `Trace` and `TraceMeta`, so the collector cannot see its `Gc` edges",
    note = "if `{Self}` is defined in your crate, add `#[derive(Trace)]` to it (that implements both)",
    note = "if it comes from another crate, wrap it in a newtype that implements `Trace`, or mark the field `#[gc(skip)]` if it holds no `Gc`",
    note = "with a hand-written `unsafe impl Trace for {Self}`, also add `impl gc_core::TraceMeta for {Self} {{}}` (or `{{ const TRACKED: bool = false; }}` if it owns no `Gc`)",
    note = "a closure (`Box<dyn Fn ..>`) that captures a `Gc` must be a `gc_core::Closure`, made with `gc_closure!`, so that the collector sees its captures"
)]
pub trait TraceMeta: Trace + TraceValue {
    /// Whether a value of this type can ever reach a [`Gc`] through a strong
    /// edge. Objects of types where this is `false` are never put on the
    /// collector's lists: they cannot be part of a cycle (CPython's
    /// untracking, decided per type at compile time).
    ///
    /// `true` is always safe; `false` for a type that can own a `Gc` only
    /// means cycles through it are never found (they leak).
    const TRACKED: bool = true;

    /// Whether the type has a finalizer (`#[gc(finalize)]`). Set by the
    /// derive; not part of the stable API.
    #[doc(hidden)]
    const __HAS_FINALIZER: bool = false;

    /// Runs the finalizer. Called by the collector only when
    /// [`Self::__HAS_FINALIZER`] is true. Not part of the stable API.
    #[doc(hidden)]
    fn __finalize(&self) {}

    /// Whether the type describes its values for the tools
    /// (`#[gc(describe)]`, or a std type). Not part of the stable API.
    #[doc(hidden)]
    const __DESCRIBES: bool = false;

    /// Writes the value's description ([`Describe::describe`]). Called only
    /// when [`Self::__DESCRIBES`] is true, never during `trace`. Not part of
    /// the stable API.
    #[doc(hidden)]
    fn __describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let _ = f;
        Ok(())
    }

    /// Writes the value as a map key in an edge label (`"x"`, `42`) and
    /// returns `true`, or returns `false` for a type without one. Runs
    /// *inside* `trace` (for introspection only), so it must run no user
    /// code: std strings and numbers, and the derive's newtypes over them,
    /// implement it. Not part of the stable API.
    #[doc(hidden)]
    #[inline(always)]
    fn __key_label(&self, out: &mut String) -> bool {
        let _ = out;
        false
    }

    /// [`Trace::trace`], reached through `TraceMeta`: the derive traces
    /// fields with it, so that a field type lacking both traits gets one
    /// error, not two. Not part of the stable API.
    #[doc(hidden)]
    #[inline(always)]
    fn __trace<V: Tracer>(&self, tracer: &mut V)
    where
        Self: Sized,
    {
        self.trace(tracer);
    }
}

/// `Probe::<T>::TRACKED` is `<T as TraceMeta>::TRACKED` where `T: TraceMeta`
/// holds and `true` where it does not (with [`ProbeFallback`] in scope): an
/// inherent associated item is preferred to a trait's only when its bounds
/// hold (the `impls` crate's trick). The derive writes `TRACKED` with it, so a
/// field type without `TraceMeta` is reported once, by the field's
/// `TraceMeta::__trace` call, not a second time by `TRACKED` (where the type
/// may also show the placeholder that stands for the type being derived).
///
/// The fallback is `true`, which is always safe: where the real field type
/// lacks `TraceMeta` the build fails anyway, and where only the derive's
/// placeholder does (a bound of the type's own, such as `Display`, that the
/// placeholder does not have), the type is tracked rather than silently
/// untracked with its cycles leaking. Not part of the API.
#[doc(hidden)]
pub struct Probe<T: ?Sized>(PhantomData<T>);

impl<T: ?Sized + TraceMeta> Probe<T> {
    pub const TRACKED: bool = T::TRACKED;
}

/// See [`Probe`].
#[doc(hidden)]
pub trait ProbeFallback {
    const TRACKED: bool = true;
}

impl<T: ?Sized> ProbeFallback for Probe<T> {}

/// Tracing a value that may be unsized, a slice or `str` (the value of a
/// box, a `Box<[T]>`): what the vtable's tracing entries call
/// (`Trace::trace` needs `Self: Sized`). Public only for the bounds of
/// `Box`'s impls; not part of the API.
///
/// # Safety
///
/// `trace_value` keeps [`Trace`]'s contract. (It is `unsafe` because a
/// trait object type such as `dyn Shape` is the user's own type: a safe
/// impl for it could otherwise report edges through `Box<dyn Shape>`.)
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `Trace` and `TraceMeta`, so the collector cannot see its `Gc` edges",
    note = "a closure (`Box<dyn Fn ..>`) that captures a `Gc` must be a `gc_core::Closure`, made with `gc_closure!`, so that the collector sees its captures; one that captures no `Gc` can be marked `#[gc(skip)]`"
)]
pub unsafe trait TraceValue {
    fn trace_value<V: Tracer>(&self, tracer: &mut V);
}

// SAFETY: forwards to `Trace::trace`, which keeps the contract.
unsafe impl<T: Trace> TraceValue for T {
    #[inline(always)]
    fn trace_value<V: Tracer>(&self, tracer: &mut V) {
        self.trace(tracer);
    }
}

// SAFETY: each element once, through its `Trace`.
unsafe impl<T: Trace> TraceValue for [T] {
    #[inline]
    fn trace_value<V: Tracer>(&self, tracer: &mut V) {
        impls::trace_elements(self, tracer);
    }
}

// SAFETY: a `str` owns no `Gc`.
unsafe impl TraceValue for str {
    #[inline(always)]
    fn trace_value<V: Tracer>(&self, _tracer: &mut V) {}
}

/// A promise that the type's `Drop` impl never uses a [`Gc`] it owns: the
/// `unsafe` half of `#[gc(unsafe_no_drop)]`.
///
/// `#[derive(Trace)]` refuses a type that implements `Drop` (rule 5 of
/// [`Trace`]'s contract). `#[gc(unsafe_no_drop)]` lifts that check, and in
/// exchange requires `unsafe impl DropOk for Type {}`: the promise is written
/// with the `unsafe` keyword, next to a `// SAFETY:` comment, and a crate
/// under `#![forbid(unsafe_code)]` cannot make it. The derive fails to
/// compile, pointing at `unsafe_no_drop`, when the impl is missing.
///
/// Most types want `#[gc(finalize)]` and [`Finalize`](crate::Finalize)
/// instead: a finalizer runs before anything in a garbage cycle is dropped,
/// so it may use every `Gc` field.
///
/// # Safety
///
/// When the collector frees a garbage cycle, it drops the values of the
/// cycle one after another. While one value's `drop` runs, the objects its
/// `Gc` fields point to may already have had their values dropped: reading
/// through such a `Gc` reads a dropped value, and a handle that escapes the
/// drop keeps pointing at one. An implementation must therefore keep this
/// contract:
///
/// 1. **`Drop::drop` never dereferences a `Gc` the value owns**, directly or
///    through its fields (`Option<Gc<T>>`, `Vec<Gc<T>>`, `RefCell<..>`, a
///    field type's own methods): no `*gc`, no `gc.field`, no method call
///    through it.
/// 2. **It never clones, moves out of or downgrades one** (`Gc::clone`,
///    `Option::take`, `mem::replace`, `Gc::downgrade`): the new handle would
///    outlive the teardown and point at a dropped value.
/// 3. **It never formats one**: `{:?}` or `{}` on a `Gc`, or on `self` or a
///    field with a derived `Debug` that reaches a `Gc`, dereferences it.
/// 4. **Code it calls keeps the same rules**: a helper or a field's own
///    `Drop` that is passed `&self` or a `Gc` counts as `drop` itself.
///
/// Fields that are not `Gc` (counters, file handles, `Rc`s, `#[gc(skip)]`
/// fields, which keep their targets alive) may be used freely, and the `Gc`
/// fields are dropped normally after `drop` returns.
///
/// # Examples
///
/// Unsound: this `drop` reads the name of the next node, which during the
/// teardown of a garbage cycle may already be dropped.
///
/// ```no_run
/// use gc_core::{DropOk, Gc, Trace};
/// use std::cell::RefCell;
///
/// #[derive(Trace)]
/// #[gc(unsafe_no_drop)]
/// struct Node {
///     name: String,
///     next: RefCell<Option<Gc<Node>>>,
/// }
///
/// impl Drop for Node {
///     fn drop(&mut self) {
///         if let Some(next) = self.next.borrow().as_ref() {
///             println!("{} -> {}", self.name, next.name); // use-after-free
///         }
///     }
/// }
///
/// // WRONG: `drop` dereferences `next`, which breaks rule 1.
/// unsafe impl DropOk for Node {}
/// ```
///
/// Sound: `drop` touches only `id` and `closed`, never `next`.
///
/// ```
/// use gc_core::{DropOk, Gc, Trace};
/// use std::cell::{Cell, RefCell};
/// use std::rc::Rc;
///
/// #[derive(Trace)]
/// #[gc(unsafe_no_drop)]
/// struct Handle {
///     id: u32,
///     next: RefCell<Option<Gc<Handle>>>,
///     #[gc(skip)]
///     closed: Rc<Cell<u32>>,
/// }
///
/// impl Drop for Handle {
///     fn drop(&mut self) {
///         self.closed.set(self.closed.get() + 1);
///     }
/// }
///
/// // SAFETY: `drop` only uses `id` and `closed`; it never touches `next`.
/// unsafe impl DropOk for Handle {}
///
/// let closed = Rc::new(Cell::new(0));
/// let new = |id| {
///     let closed = closed.clone();
///     Gc::new(Handle { id, next: RefCell::new(None), closed })
/// };
/// let (a, b) = (new(1), new(2));
/// *a.next.borrow_mut() = Some(b.clone());
/// *b.next.borrow_mut() = Some(a.clone());
/// assert_eq!(a.id + b.id, 3);
/// drop((a, b));
/// gc_core::collect();
/// assert_eq!(closed.get(), 2);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has `#[gc(unsafe_no_drop)]` but no `unsafe impl gc_core::DropOk for {Self}`",
    label = "`#[gc(unsafe_no_drop)]` requires `unsafe impl DropOk for {Self}`",
    note = "if `{Self}`'s `Drop::drop` never dereferences, clones, moves out of, downgrades or formats a `Gc` it owns, promise it with `// SAFETY: ...` and `unsafe impl gc_core::DropOk for {Self} {{}}`",
    note = "otherwise remove `#[gc(unsafe_no_drop)]` and the `Drop` impl, and do the cleanup in a finalizer: `#[gc(finalize)]` and `impl gc_core::Finalize for {Self}`"
)]
pub unsafe trait DropOk {}

mod sealed {
    pub trait Sealed {}
}

/// Receives the edges a [`Trace`] implementation reports.
///
/// The collector passes its own tracers; this trait is sealed. The label
/// methods ([`field`](Tracer::field), [`index`](Tracer::index)) name the edge
/// for introspection (`Object::edges`, objgraph graphs) and cost nothing
/// during a collection: the collector's tracers ignore them and the compiler
/// inlines them away.
pub trait Tracer: sealed::Sealed + Sized {
    /// Reports one strong edge to `gc`'s object.
    #[inline(always)]
    fn edge<T: ?Sized + 'static>(&mut self, gc: &Gc<T>) {
        self.__edge_header(gc.ptr.cast());
    }

    /// Reports a weak edge. It never keeps anything alive; the collector uses
    /// it to know which weak references die together with their owner.
    #[inline(always)]
    fn weak_edge<T: ?Sized + 'static>(&mut self, weak: &Weak<T>) {
        // SAFETY: a `Weak`'s cell pointer is dangling or a cell its handle
        // keeps allocated.
        if let Some(cell) = unsafe { WeakCell::of_handle(weak.cell) } {
            self.__weak_cell(cell);
        }
    }

    /// Traces the edges inside field `name` (`"next"`, `"0"` for a tuple
    /// field, `"Variant.field"` in an enum).
    #[inline(always)]
    fn field<F: FnOnce(&mut Self)>(&mut self, name: &'static str, trace: F) {
        let _ = name;
        trace(self);
    }

    /// Traces the edges inside element `index` of a sequence or map.
    #[inline(always)]
    fn index<F: FnOnce(&mut Self)>(&mut self, index: usize, trace: F) {
        let _ = index;
        trace(self);
    }

    /// Traces map entry `index` with key `key`: the key's edges, then the
    /// value's. Introspection labels the value's edges by the key where the
    /// key has a label (`vars["x"]`, and `vars.keys["x"]` for the key's own
    /// edges); otherwise, and always for the collector, it is
    /// `index(index, |t| { t.field("key", ..); t.field("value", ..) })`.
    #[doc(hidden)]
    #[inline(always)]
    fn __entry<K: TraceMeta + ?Sized, FK: FnOnce(&mut Self), FV: FnOnce(&mut Self)>(
        &mut self,
        index: usize,
        key: &K,
        trace_key: FK,
        trace_value: FV,
    ) {
        let mut label = String::new();
        if self.__wants_key_labels() && key.__key_label(&mut label) {
            let label = label::truncate(label);
            self.__push_label(Segment::KeyOf(label.clone()));
            trace_key(self);
            self.__pop_label();
            self.__push_label(Segment::Key(label));
            trace_value(self);
            self.__pop_label();
        } else {
            self.index(index, |t| {
                t.field("key", trace_key);
                t.field("value", trace_value);
            });
        }
    }

    /// Whether map entries should be labelled by their keys: only for an
    /// introspection walk that renders labels. Not part of the stable API.
    #[doc(hidden)]
    #[inline(always)]
    fn __wants_key_labels(&self) -> bool {
        false
    }

    /// Receives a strong edge (called by `Gc`'s `Trace` impl). Each of the
    /// crate's tracers implements this one method; `edge` is the same for
    /// all of them.
    #[doc(hidden)]
    fn __edge_header(&mut self, header: HeaderPtr);

    /// Receives a weak edge (called by `Weak`'s `Trace` impl): the cell of
    /// a non-dangling `Weak`. Only the trash marking looks at it.
    #[doc(hidden)]
    #[inline(always)]
    fn __weak_cell(&mut self, cell: &WeakCell) {
        let _ = cell;
    }

    /// Receives a strong edge held by an `Object` stored in a value (called
    /// by `Object`'s `Trace` impl). The same as a `Gc`'s for the collector;
    /// introspection tells them apart, because an `Object` is also counted
    /// as an introspection handle.
    #[doc(hidden)]
    #[inline(always)]
    fn __object_edge(&mut self, header: HeaderPtr) {
        self.__edge_header(header);
    }

    /// Enters a label segment, for tracing through a type-erased value
    /// (`field` and `index` in two halves). Only introspection records it.
    #[doc(hidden)]
    #[inline(always)]
    fn __push_label(&mut self, segment: Segment) {
        let _ = segment;
    }

    /// Leaves the segment entered last.
    #[doc(hidden)]
    #[inline(always)]
    fn __pop_label(&mut self) {}

    /// Receives an ephemeron table (a weak-key map's) and a function that
    /// traces its values. Every tracer but the collector's traces them as
    /// ordinary strong edges; the collector marks the table instead and
    /// traces the values itself, once per pass, only while the entry's key
    /// is reachable (`collector::ephemerons`).
    #[doc(hidden)]
    #[inline(always)]
    fn __ephemeron_table<F: FnOnce(&mut Self)>(&mut self, table: &EphemeronTable, values: F) {
        let _ = table;
        values(self);
    }
}

/// A finalizer, Python's `__del__`: cleanup logic that runs exactly once per
/// object, while every field is still valid.
///
/// Enable it with `#[gc(finalize)]` next to `#[derive(Trace)]`; the derive
/// refuses to compile if the type does not implement `Finalize`. Unlike a
/// `Drop` impl (which the derive forbids, because a garbage cycle's values
/// are dropped one by one), a finalizer may use its `Gc` fields: it runs
/// before anything is dropped.
///
/// On reference-count death the finalizer runs first, while the object's
/// `Weak`s still upgrade. If it stores a new strong handle to the object
/// somewhere, the object is resurrected; when it dies again it is freed
/// without a second finalizer run. A finalizer that panics counts as having
/// run; the panic propagates once the object has been destroyed.
///
/// ```
/// use gc_core::{Finalize, Gc, Trace};
/// use std::cell::Cell;
///
/// thread_local!(static CLOSED: Cell<u32> = const { Cell::new(0) });
///
/// #[derive(Trace)]
/// #[gc(finalize)]
/// struct File {
///     name: String,
/// }
///
/// impl Finalize for File {
///     fn finalize(&self) {
///         CLOSED.with(|c| c.set(c.get() + 1));
///     }
/// }
///
/// let f = Gc::new(File { name: "log.txt".into() });
/// assert!(!gc_core::is_finalized(&f));
/// drop(f);
/// assert_eq!(CLOSED.with(Cell::get), 1);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has `#[gc(finalize)]` but does not implement `Finalize`",
    label = "`#[gc(finalize)]` requires `impl Finalize for {Self}`",
    note = "add `impl gc_core::Finalize for {Self} {{ fn finalize(&self) {{ ... }} }}`, or remove `#[gc(finalize)]`"
)]
pub trait Finalize {
    /// Runs once, before the object is destroyed.
    fn finalize(&self);
}

/// A short description of a value for the leak-hunting tools, in the
/// program's own terms: an interpreter's value in its own syntax, a
/// function's name, a record's key. objgraph's graphs put it on a node's
/// second line (where Python's objgraph puts the object's `repr`), and
/// [`Object::describe`](crate::Object::describe) and
/// [`objgraph::format_chain`](crate::objgraph::format_chain) print it.
///
/// Enable it with `#[gc(describe)]` next to `#[derive(Trace)]`. Strings and
/// numbers describe themselves (`"x"`, `42`).
///
/// `describe` runs only when a tool asks, never during a collection's own
/// work and never while a value is being traced; but it may run inside a
/// destructor or finalizer that calls a tool. It gets `&self`, like `Debug`;
/// a long description is cut at 40 characters in graphs.
///
/// ```
/// use gc_core::{Describe, Gc, Trace};
/// use std::fmt;
///
/// #[derive(Trace)]
/// #[gc(describe)]
/// struct Lambda {
///     name: String,
///     params: Vec<String>,
/// }
///
/// impl Describe for Lambda {
///     fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
///         write!(f, "(lambda {} ({}))", self.name, self.params.join(" "))
///     }
/// }
///
/// let square = Gc::new(Lambda { name: "square".into(), params: vec!["x".into()] });
/// let obj = Gc::to_object(&square);
/// assert_eq!(obj.describe().as_deref(), Some("(lambda square (x))"));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has `#[gc(describe)]` but does not implement `Describe`",
    label = "`#[gc(describe)]` requires `impl Describe for {Self}`",
    note = "add `impl gc_core::Describe for {Self} {{ fn describe(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{ ... }} }}`, or remove `#[gc(describe)]`"
)]
pub trait Describe {
    /// Writes the description, as `Display::fmt` would.
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// Implements the seal for the collector's own tracers.
macro_rules! impl_collector_tracer {
    ($ty:ty, |$this:ident, $header:ident| $body:block) => {
        impl $crate::trace::sealed_impl::Sealed for $ty {}
        impl $crate::trace::Tracer for $ty {
            #[inline(always)]
            fn __edge_header(&mut self, $header: $crate::layout::HeaderPtr) {
                let $this = self;
                $body
            }
        }
    };
    // A collector tracer that marks ephemeron tables instead of tracing
    // their values (`collector::ephemerons`).
    ($ty:ty, |$this:ident, $header:ident| $body:block,
     tables: |$table:ident| $table_body:block) => {
        impl $crate::trace::sealed_impl::Sealed for $ty {}
        impl $crate::trace::Tracer for $ty {
            #[inline(always)]
            fn __edge_header(&mut self, $header: $crate::layout::HeaderPtr) {
                let $this = self;
                $body
            }

            fn __ephemeron_table<F: FnOnce(&mut Self)>(
                &mut self,
                $table: &$crate::trace::EphemeronTable,
                _values: F,
            ) {
                $table_body
            }
        }
    };
}

pub(crate) use impl_collector_tracer;

/// Re-export of the seal for [`impl_collector_tracer`].
pub(crate) mod sealed_impl {
    pub(crate) use super::sealed::Sealed;
}
