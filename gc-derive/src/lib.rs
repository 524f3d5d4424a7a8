//! `#[derive(Trace)]` for [gc-core](https://docs.rs/gc-core): the safe way to implement the
//! `unsafe trait Trace`.
//!
//! Depend on `gc-core` only: it re-exports this derive as `gc_core::Trace`, next to the trait
//! of the same name, so `use gc_core::Trace;` brings in both.
//!
//! ```rust,ignore
//! use gc_core::{Gc, Trace};
//! use std::cell::RefCell;
//!
//! #[derive(Trace)]
//! struct Node {
//!     children: RefCell<Vec<Gc<Node>>>,
//!     name: String,
//! }
//!
//! #[derive(Trace)]
//! enum Value<T> {
//!     Leaf(T),
//!     List(Vec<Value<T>>),
//!     Shared { target: Gc<Node>, #[gc(skip)] cache: Option<Gc<Node>> },
//! }
//! ```
//!
//! The derive supports structs (named, tuple, unit) and enums, generic or not. It rejects
//! unions (which field is live is unknown) and `#[repr(packed)]` types (fields cannot be
//! borrowed): implement `Trace` by hand for those.
//!
//! # Attributes
//!
//! | attribute | where | meaning |
//! |---|---|---|
//! | `#[gc(skip)]` | field or enum variant | not traced, and not counted in `TRACKED`. Safe: reporting too few edges only keeps the objects behind them alive (a leak, never a use-after-free). |
//! | `#[gc(bound = "T: Trace, U: Clone")]` | type | where-predicates that replace the inferred ones ([Bounds](#bounds)). `""` means none. |
//! | `#[gc(finalize)]` | type | the type has a finalizer, Python's `__del__`: it must `impl gc_core::Finalize`, or the derive fails to compile, pointing at `finalize`. |
//! | `#[gc(describe)]` | type | the type describes its objects to the leak-hunting tools (graph nodes, `Object::describe`, `objgraph::format_chain`): it must `impl gc_core::Describe`, or the derive fails to compile, pointing at `describe`. |
//! | `#[gc(unsafe_no_drop)]` | type | allows a `Drop` impl that never uses the type's `Gc`s; requires `unsafe impl gc_core::DropOk` for the type, or the derive fails to compile, pointing at `unsafe_no_drop`. See [Drop](#drop). |
//! | `#[gc(crate = "path")]` | type | the path of gc-core when it is not `::gc_core` (renamed dependency, re-export). A re-export must provide everything the expansion names: `pub use gc_core;` and `crate = "my_runtime::gc_core"`, or `pub use gc_core::*;` in the module the path names (a glob also brings the hidden `__private` module). |
//!
//! Keys can share one `#[gc(...)]` or be split over several. Unknown keys, duplicates, values
//! of the wrong kind (`skip = 1`, `bound = 3`) and keys in the wrong place are compile errors,
//! all reported at once, each on the tokens at fault.
//!
//! # What it generates
//!
//! For
//!
//! ```rust,ignore
//! #[derive(Trace)]
//! struct Node {
//!     next: Option<Gc<Node>>,
//!     name: String,
//! }
//! ```
//!
//! the derive emits (as `cargo expand` prints it; a unit test checks that this text is the real
//! output, character for character):
//!
//! ```rust,ignore
//! const _: () = {
//!     #[automatically_derived]
//!     unsafe impl ::gc_core::Trace for Node {
//!         #[inline]
//!         fn trace<__V: ::gc_core::Tracer>(&self, __tracer: &mut __V) {
//!             ::gc_core::Tracer::field(
//!                 __tracer,
//!                 "next",
//!                 |__t| <Option<
//!                     Gc<Node>,
//!                 > as ::gc_core::TraceMeta>::__trace(&self.next, __t),
//!             );
//!             ::gc_core::Tracer::field(
//!                 __tracer,
//!                 "name",
//!                 |__t| <String as ::gc_core::TraceMeta>::__trace(&self.name, __t),
//!             );
//!         }
//!     }
//!     #[automatically_derived]
//!     impl ::gc_core::TraceMeta for Node {
//!         const TRACKED: bool = {
//!             #[allow(unused_imports)]
//!             use ::gc_core::__private::ProbeFallback as _;
//!             ::gc_core::__private::Probe::<Option<Gc<Node>>>::TRACKED
//!                 || ::gc_core::__private::Probe::<String>::TRACKED
//!         };
//!     }
//!     #[allow(non_camel_case_types)]
//!     trait TypeDerivingTraceMustNotImplementDrop_UseGcFinalizeInstead {}
//!     #[allow(drop_bounds)]
//!     impl<
//!         __T: ::core::ops::Drop + ?::core::marker::Sized,
//!     > TypeDerivingTraceMustNotImplementDrop_UseGcFinalizeInstead for __T {}
//!     impl TypeDerivingTraceMustNotImplementDrop_UseGcFinalizeInstead for Node {}
//! };
//! ```
//!
//! - `trace` visits each traced field once, under an edge label for introspection: the field
//!   name (`next`), the index of a tuple field (`0`), or `Variant.field` / `Variant.0` inside a
//!   `match self` for enums. The labels cost nothing during a collection.
//! - `TRACKED`, in the `TraceMeta` impl (separate so that `Trace` stays dyn-compatible and
//!   `trait Shape: Trace` can be a trait object), is `true` when some traced field's type can
//!   reach a `Gc`, so that objects of types that never can (here, if `next` were skipped) stay
//!   off the collector's lists. `Probe::<F>::TRACKED` is `<F as TraceMeta>::TRACKED`; where
//!   `F` lacks `TraceMeta` it is `false` instead of a second error, so a field of a type without
//!   `Trace` is reported once, by its `__trace` call in `trace`, which fails the build.
//! - With `#[gc(finalize)]`, the `TraceMeta` impl also sets `__HAS_FINALIZER` and forwards
//!   `__finalize` to `Finalize::finalize`; with `#[gc(describe)]`, `__DESCRIBES` and
//!   `__describe` to `Describe::describe`. A newtype (a struct of one traced field) forwards
//!   `__key_label` to its field, so that it labels map entries as its field would
//!   (`vars["x"]` for `struct Symbol(Rc<str>)`).
//! - The last three items reject a `Drop` impl on `Node` ([Drop](#drop)). With
//!   `#[gc(unsafe_no_drop)]` they are replaced by a check that `Node` implements
//!   `gc_core::DropOk`.
//!
//! Every path is absolute and every local is `__`-prefixed, so the output compiles next to user
//! items named `Gc`, `Trace`, `Option`, `core`..., inside `#![no_implicit_prelude]` modules, and
//! without warnings under `-D warnings` and clippy's pedantic lints.
//!
//! # Bounds
//!
//! Both impls keep the type's generics and where-clause and add `FieldTy: TraceMeta` (which
//! implies `Trace`) for each traced field whose type mentions a type parameter:
//! `struct S<T> { items: Vec<T>, n: u32 }` gets `where Vec<T>: TraceMeta`. Fields that mention
//! no parameter, and skipped fields, add nothing, so `#[gc(skip)] cache: Rc<T>` needs no
//! `T: Trace`.
//!
//! A field whose type also mentions the type itself (`Vec<Tree<T>>` in `enum Tree<T>`) adds
//! `T: TraceMeta` for each parameter it mentions instead, because
//! `where Vec<Tree<T>>: TraceMeta` would make `Tree<T>: TraceMeta` depend on itself (rustc:
//! "overflow evaluating the requirement", E0275).
//!
//! `#[gc(bound = "...")]` replaces all inferred predicates when they are too strict or not
//! enough; the type's own where-clause is always kept. Write the bound with `Trace`: each
//! `Trace` in it stands for `TraceMeta` in the generated impls.
//!
//! # Edges the collector cannot see
//!
//! The collector finds a cycle only through edges `trace` reports. A `Gc` behind a pointer
//! that reports nothing would be invisible, and a cycle through it would leak with
//! `collect()` returning 0. So these field types are compile errors, each with a message that
//! says what to write instead:
//!
//! | field type | why | write instead |
//! |---|---|---|
//! | `Rc<..Gc..>`, `Arc<..Gc..>`, `rc::Weak<..Gc..>`, `sync::Weak<..Gc..>` | shared contents cannot be reported by each owner, so they are reported by none | `Gc<..>` (`Gc<RefCell<Env>>` for `Rc<RefCell<Env>>`) |
//! | `Cell<..Gc..>` | a `Cell` only hands out copies, and a `Gc` is not `Copy` | `RefCell<..>` |
//! | `Box<dyn Fn..>`, `Rc<dyn Fn..>`, `Arc<dyn Fn..>` | a closure's captures are invisible | `gc_core::Closure` made with `gc_closure!` |
//!
//! Where the type is written out, the derive rejects the field itself. Through a type alias,
//! a generic parameter or `Rc<Self>`, the trait impls in gc-core reject it: `Rc<T>`'s
//! `TraceMeta` fails to evaluate when `T` can reach a `Gc` ("a `Gc` inside an `Rc` is an edge
//! the collector cannot see..."), `Cell<T>` is `Trace` only for `T: Copy`, and no closure type
//! is `Trace`. Contents that cannot reach a `Gc` stay accepted (`Rc<str>`, `Rc<String>`,
//! `Arc<[u8]>`, `Cell<u64>`, `Rc<RefCell<gc_core::Weak<T>>>`), and so does any field marked
//! `#[gc(skip)]`, which is for fields that never hold a `Gc`.
//!
//! # Recursive types
//!
//! `TRACKED` is a constant computed from the fields' `TRACKED`. For a field that mentions the
//! type itself outside a `Gc` (`Box<Self>`, `Vec<Expr>` in `enum Expr`), the derive evaluates
//! the field's type with each such mention standing for a placeholder: a unit struct with the
//! type's own name (generic arguments dropped), declared in the block of `TRACKED`, whose
//! `TRACKED` is `false`; `Box<Expr>` is then `false`. Using the real type would make the
//! constant depend on itself, which rustc rejects (E0391, "cycle detected when
//! const-evaluating"). The result is exact, not a guess: a value can reach a `Gc` through
//! itself only if it can reach one without going through itself. A mention inside a `Gc`
//! (`Option<Gc<Node>>`) is left as written: a `Gc` is tracked whatever it points to, so there
//! is no cycle, and a diagnostic about the field shows the user's own type.
//!
//! A mention is seen when it is written `Self` or as the type's bare name (`Expr`,
//! `Tree<T>`); a `Gc` by its last path segment. `trace` always uses the real field types.
//!
//! ## Known limitation: recursion the derive cannot see
//!
//! Mutual recursion without a `Gc` in between, a self-reference through a path
//! (`crate::ast::Expr`) or through a type alias still makes `TRACKED` depend on itself, and
//! fails with E0391:
//!
//! ```rust,ignore
//! #[derive(Trace)]
//! struct A { b: Option<Box<B>>, name: String }
//! #[derive(Trace)]
//! struct B { a: Option<Box<A>> } // error[E0391]: cycle detected
//! ```
//!
//! (Through a `Gc` there is no cycle: `a: Option<Gc<A>>` compiles.) The fix is a manual impl
//! for one of the types, whose `TRACKED` leaves the other out (or is just `true`, which is
//! always safe):
//!
//! ```rust,ignore
//! use gc_core::{Trace, Tracer};
//!
//! struct A { b: Option<Box<B>>, name: String }
//!
//! // SAFETY: traces each field once; owns every edge it reports.
//! unsafe impl Trace for A {
//!     fn trace<V: Tracer>(&self, tracer: &mut V) {
//!         tracer.field("b", |t| self.b.trace(t));
//!         tracer.field("name", |t| self.name.trace(t));
//!     }
//! }
//!
//! impl gc_core::TraceMeta for A {
//!     // `B` reaches a `Gc` only through `A`, so leaving `b` out is exact here.
//!     const TRACKED: bool = <String as gc_core::TraceMeta>::TRACKED;
//! }
//!
//! #[derive(Trace)]
//! struct B { a: Option<Box<A>> }
//! ```
//!
//! Generic mutual recursion has the same problem with bounds (E0275); `#[gc(bound = "T:
//! Trace")]` on one of the types fixes that.
//!
//! # Drop
//!
//! By default a type deriving `Trace` must not implement `Drop`; doing so fails to compile
//! with
//!
//! ```text
//! error[E0119]: conflicting implementations of trait
//!               `TypeDerivingTraceMustNotImplementDrop_UseGcFinalizeInstead` for type `Node`
//! ```
//!
//! Why: when the collector frees a garbage cycle, it drops the values in the cycle one at a
//! time. While one value's `drop` runs, the objects its `Gc` fields point to may already have
//! been dropped, so a `Drop` impl that dereferences a `Gc` field (or clones it, and so keeps a
//! dropped value reachable) would read freed data from safe code.
//!
//! Use a finalizer for cleanup instead: it runs before anything in the cycle is dropped, while
//! every `Gc` is still valid.
//!
//! ```rust,ignore
//! use gc_core::{Finalize, Gc, Trace};
//!
//! #[derive(Trace)]
//! #[gc(finalize)]
//! struct Connection {
//!     peer: Option<Gc<Connection>>,
//!     #[gc(skip)]
//!     socket: std::net::TcpStream,
//! }
//!
//! impl Finalize for Connection {
//!     fn finalize(&self) {
//!         let _ = self.socket.shutdown(std::net::Shutdown::Both);
//!     }
//! }
//! ```
//!
//! Only a `Drop` impl on the deriving type itself is refused. Fields with drop glue of their
//! own (`String`, `TcpStream` above) are fine: a field type that holds a `Gc` must implement
//! `Trace`, by derive (so no `Drop` either) or by hand (and then its `Drop` is bound by the same
//! rule, point 5 of `Trace`'s safety contract), or be `#[gc(skip)]`, which keeps its `Gc`
//! targets alive.
//!
//! The escape hatch is `#[gc(unsafe_no_drop)]`, for a `Drop` that never dereferences, clones,
//! moves out of, downgrades or formats the `Gc`s the type owns. The compiler cannot check that,
//! so the attribute does not make the promise by itself: it requires an `unsafe impl` of the
//! marker trait `gc_core::DropOk` for the type (pin-project's `UnsafeUnpin` pattern), whose
//! safety contract spells the rule out. Without the impl the derive fails to compile:
//!
//! ```text
//! error[E0277]: `Tracked` has `#[gc(unsafe_no_drop)]` but no `unsafe impl gc_core::DropOk for Tracked`
//! ```
//!
//! and a crate under `#![forbid(unsafe_code)]` cannot write the impl at all.
//!
//! ```rust,ignore
//! use gc_core::{DropOk, Gc, Trace};
//!
//! #[derive(Trace)]
//! #[gc(unsafe_no_drop)]
//! struct Tracked {
//!     next: Option<Gc<Tracked>>,
//!     id: u64,
//! }
//!
//! impl Drop for Tracked {
//!     fn drop(&mut self) {
//!         LIVE_IDS.with(|ids| ids.borrow_mut().remove(&self.id));
//!     }
//! }
//!
//! // SAFETY: `drop` only touches `id`, never `next`.
//! unsafe impl DropOk for Tracked {}
//! ```
//!
//! A generic type needs `DropOk` wherever its own bounds hold, like its `Drop` impl: write the
//! impl with the type's generics and where-clause, no more (`unsafe impl<T> DropOk for
//! Tracked<T> {}`).
//!
//! # Module map
//!
//! The derive runs in four phases, one per file (thiserror's layout): `attr.rs` and `ast.rs`
//! parse, `valid.rs` validates, `bound.rs`, `recursive.rs` and `expand.rs` generate;
//! `errors.rs` collects every error and `fallback.rs` turns them into `compile_error!`s plus a
//! stub impl, so that one mistake does not cascade into errors elsewhere.

#![deny(missing_docs)]

mod ast;
mod attr;
mod bound;
mod errors;
mod expand;
mod fallback;
mod recursive;
mod valid;

#[cfg(test)]
mod tests;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `gc_core::Trace`: reports every `Gc` the value owns, so that the collector can find
/// cycles through it.
///
/// Attributes: `#[gc(skip)]` on a field or variant; `#[gc(bound = "...")]`,
/// `#[gc(finalize)]`, `#[gc(unsafe_no_drop)]` and `#[gc(crate = "...")]` on the type. The type
/// must not implement `Drop` unless it says `#[gc(unsafe_no_drop)]` and has an
/// `unsafe impl gc_core::DropOk`; use `#[gc(finalize)]` for cleanup. See the
/// [`gc_derive`](crate) crate docs for the expansion and the rules.
#[proc_macro_derive(Trace, attributes(gc))]
pub fn derive_trace(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input).into()
}
