//! Layer 6: the public handles, thin in the style of std's `rc.rs`:
//! [`Gc`] (strong, typed), [`Weak`], and [`Object`] (strong, type-erased).
//! Each is a pointer plus the operations users call; what happens when a
//! count reaches zero is the lifecycle's, and [`vtable`] builds the per-type
//! table every layer below calls through.
//!
//! May call: `collector` (a tracked allocation may trigger a collection),
//! `lifecycle`, `heap`, `layout`, `trace`.

pub(crate) mod gc;
pub(crate) mod object;
mod slice;
mod unsize;
pub(crate) mod vtable;
pub(crate) mod weak;

pub use gc::{Gc, GcMut};
pub(crate) use object::sealed;
pub use object::{AsObject, Object};
pub use weak::{ReferenceError, Weak};
