//! The vtable of a value type: the one place it is built.
//!
//! A box's `VTable` (its shape is `layout::header`) holds the per-type
//! operations every layer needs without knowing the type: the collector's
//! tracers (`subtract_refs`, `visit_reachable`), the lifecycle's
//! (`mark_trash`, `drop_value`, `finalize`), introspection's (`trace_dyn`),
//! and the box's layout and type name. Each entry is a function generic
//! over the value type, defined by the layer that uses it; this file, in
//! the handles layer where values get their types, instantiates them for
//! `T`. Lower layers call the entries through the table, as CPython's
//! collector calls a type's `tp_traverse`.

use std::any::TypeId;

use crate::collector::{subtract_refs_of, visit_reachable_of};
use crate::layout::{HeaderPtr, Stored, VTable, value_ref};
use crate::lifecycle::weakrefs::MarkTrash;
use crate::trace::{DynTracer, TraceMeta, TraceValue};

/// The vtable of `GcBox<T>`, one static per type.
pub(crate) struct VTableOf<T: ?Sized>(std::marker::PhantomData<T>);

impl<T: ?Sized + Stored + TraceMeta + TraceValue + 'static> VTableOf<T> {
    /// The table itself.
    pub(crate) const VTABLE: &'static VTable = &VTable {
        subtract_refs: subtract_refs_of::<T>,
        visit_reachable: visit_reachable_of::<T>,
        trace_dyn: trace_dyn_of::<T>,
        mark_trash: mark_trash_of::<T>,
        drop_value: drop_value_of::<T>,
        finalize: if T::__HAS_FINALIZER {
            Some(finalize_of::<T>)
        } else {
            None
        },
        describe: if T::__DESCRIBES {
            Some(describe_of::<T>)
        } else {
            None
        },
        key_label: key_label_of::<T>,
        shape: T::SHAPE,
        type_name: std::any::type_name::<T>,
        type_id: TypeId::of::<T>,
    };
}

/// # Safety
///
/// `header` must be a live box holding a `T` with an undropped value.
unsafe fn trace_dyn_of<T: ?Sized + Stored + TraceValue>(
    header: HeaderPtr,
    tracer: &mut DynTracer<'_>,
) {
    // SAFETY: forwarded from the caller.
    unsafe { value_ref::<T>(header) }.trace_value(tracer);
}

/// # Safety
///
/// `header` must be a live box holding a `T` with an undropped value.
unsafe fn mark_trash_of<T: ?Sized + Stored + TraceValue>(header: HeaderPtr) {
    // SAFETY: forwarded from the caller.
    unsafe { value_ref::<T>(header) }.trace_value(&mut MarkTrash);
}

/// # Safety
///
/// `header` must be a live box holding a `T` whose value has not been dropped; the
/// value must not be used afterwards (the caller sets `VALUE_DROPPED` first).
unsafe fn drop_value_of<T: ?Sized + Stored>(header: HeaderPtr) {
    // SAFETY: the value is initialised and, by the caller's contract, dropped
    // exactly once; the pointer comes from the allocation, so it may write.
    unsafe { std::ptr::drop_in_place(T::value_ptr(header)) }
}

/// # Safety
///
/// `header` must be a live box holding a `T` whose value has not been dropped.
unsafe fn finalize_of<T: ?Sized + Stored + TraceMeta>(header: HeaderPtr) {
    // SAFETY: forwarded from the caller.
    unsafe { value_ref::<T>(header) }.__finalize();
}

/// # Safety
///
/// `header` must be a live box holding a `T` whose value has not been dropped.
unsafe fn describe_of<T: ?Sized + Stored + TraceMeta>(
    header: HeaderPtr,
    f: &mut std::fmt::Formatter<'_>,
) -> std::fmt::Result {
    // SAFETY: forwarded from the caller.
    unsafe { value_ref::<T>(header) }.__describe(f)
}

/// # Safety
///
/// `header` must be a live box holding a `T` whose value has not been dropped.
unsafe fn key_label_of<T: ?Sized + Stored + TraceMeta>(
    header: HeaderPtr,
    out: &mut String,
) -> bool {
    // SAFETY: forwarded from the caller.
    unsafe { value_ref::<T>(header) }.__key_label(out)
}
