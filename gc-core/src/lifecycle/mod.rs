//! Layer 4: the object lifecycle. What happens to one object outside a
//! collection: its last strong reference goes ([`dealloc`]: CPython's
//! `_Py_Dealloc`, `PyObject_GC_UnTrack`, `PyObject_GC_Del`), its finalizer
//! runs on reference-count death ([`finalize`]:
//! `PyObject_CallFinalizerFromDealloc`), its weak references are cleared
//! and call back ([`weakrefs`]: `PyObject_ClearWeakRefs`), and long chains
//! are destroyed in bounded stack space ([`trashcan`]: `Py_TRASHCAN`).
//!
//! May call: `heap`, `layout`, `trace`. The collector (above) uses these
//! same operations for the garbage it tears down.

pub(crate) mod dealloc;
pub(crate) mod finalize;
pub(crate) mod trashcan;
pub(crate) mod weakrefs;

pub(crate) use dealloc::{StrongRef, free_box, release_typed, track_new, untrack};
