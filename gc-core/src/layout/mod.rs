//! Layer 1: the object layout and allocation. What a box looks like in
//! memory and how it is allocated, linked and freed; no policy.
//!
//! - [`header`]: `GcHeader` and `GcBox<T>` (CPython's `PyGC_Head` +
//!   `PyObject` header), the flag states, the shape of the per-type
//!   `VTable` (which names the introspection tracer's type, `DynTracer`).
//! - [`list`]: the intrusive container lists (`gc_list_*`) and their
//!   debug-build check (`validate_list`).
//! - [`alloc`]: the allocation seam (`PyObject_Malloc`/`PyObject_Free`).
//! - [`weakcell`]: the weak cell's shape (CPython's weakref object).
//!
//! Calls nothing of the crate. Called by every layer above.

pub(crate) mod alloc;
pub(crate) mod header;
pub(crate) mod list;
mod os;
pub(crate) mod weakcell;

pub(crate) use header::{
    DescribeFn, GcBox, GcHeader, HeaderPtr, Stored, VTable, allocation, allocation_of, flags,
    header_ref, short_type_name, sized_allocation, slice_allocation, slice_len_slot, value_ref,
};

pub(crate) use list::Link;
pub use weakcell::WeakCell;
