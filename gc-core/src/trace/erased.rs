//! Tracing through a type-erased value: an object-safe face of [`Tracer`]
//! ([`ErasedTracer`], implemented by every tracer) and a [`Tracer`] over it
//! ([`Erased`]). A value whose type is erased behind a trait object (a
//! traced closure's captures) implements an object-safe trace method taking
//! `&mut dyn ErasedTracer`, and traces itself with `Erased` inside: one
//! dynamic call per edge, only for such values.

use super::{EphemeronTable, Segment, Tracer, sealed};
use crate::layout::{HeaderPtr, WeakCell};

/// [`Tracer`], object-safe.
#[doc(hidden)]
pub trait ErasedTracer {
    fn erased_edge(&mut self, header: HeaderPtr);
    fn erased_object(&mut self, header: HeaderPtr);
    fn erased_weak(&mut self, cell: &WeakCell);
    fn erased_push(&mut self, segment: Segment);
    fn erased_pop(&mut self);
    fn erased_wants_key_labels(&self) -> bool;
    /// Shows the tracer an ephemeron table; returns whether it wants the
    /// values traced (every tracer but the collector's).
    fn erased_ephemeron_table(&mut self, table: &EphemeronTable) -> bool;
}

impl<V: Tracer> ErasedTracer for V {
    fn erased_edge(&mut self, header: HeaderPtr) {
        self.__edge_header(header);
    }

    fn erased_object(&mut self, header: HeaderPtr) {
        self.__object_edge(header);
    }

    fn erased_weak(&mut self, cell: &WeakCell) {
        self.__weak_cell(cell);
    }

    fn erased_push(&mut self, segment: Segment) {
        self.__push_label(segment);
    }

    fn erased_pop(&mut self) {
        self.__pop_label();
    }

    fn erased_wants_key_labels(&self) -> bool {
        self.__wants_key_labels()
    }

    fn erased_ephemeron_table(&mut self, table: &EphemeronTable) -> bool {
        let mut wants_values = false;
        self.__ephemeron_table(table, |_| wants_values = true);
        wants_values
    }
}

/// A [`Tracer`] that forwards everything to an [`ErasedTracer`].
#[doc(hidden)]
pub struct Erased<'a>(pub(crate) &'a mut dyn ErasedTracer);

impl sealed::Sealed for Erased<'_> {}

impl Tracer for Erased<'_> {
    fn field<F: FnOnce(&mut Self)>(&mut self, name: &'static str, trace: F) {
        self.0.erased_push(Segment::Field(name));
        trace(self);
        self.0.erased_pop();
    }

    fn index<F: FnOnce(&mut Self)>(&mut self, index: usize, trace: F) {
        self.0.erased_push(Segment::Index(index));
        trace(self);
        self.0.erased_pop();
    }

    fn __edge_header(&mut self, header: HeaderPtr) {
        self.0.erased_edge(header);
    }

    fn __object_edge(&mut self, header: HeaderPtr) {
        self.0.erased_object(header);
    }

    fn __weak_cell(&mut self, cell: &WeakCell) {
        self.0.erased_weak(cell);
    }

    fn __push_label(&mut self, segment: Segment) {
        self.0.erased_push(segment);
    }

    fn __pop_label(&mut self) {
        self.0.erased_pop();
    }

    fn __wants_key_labels(&self) -> bool {
        self.0.erased_wants_key_labels()
    }

    fn __ephemeron_table<F: FnOnce(&mut Self)>(&mut self, table: &EphemeronTable, values: F) {
        // Forwarded, so that a collector tracer behind the erasure still
        // sees the table rather than its values.
        if self.0.erased_ephemeron_table(table) {
            values(self);
        }
    }
}
