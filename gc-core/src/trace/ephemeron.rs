//! An ephemeron table's face to the collector: what a weak-key map
//! (`weakref::WeakKeyMap`) shows so that an entry's value counts as reachable
//! only while the entry's key is reachable from outside the tables
//! (JavaScript's `WeakMap`, boa_gc's ephemerons; CPython's
//! `WeakKeyDictionary` has no such thing and leaks a key its value refers
//! to).
//!
//! The map owns an [`EphemeronTable`] head at a fixed address and registers
//! it with the heap the first time it is traced, which is also the first
//! moment its value type is known to be [`Trace`](super::Trace). From then
//! on the collector's own tracers never trace the values through the map's
//! `Trace` impl: the map reports the head with
//! [`Tracer::__ephemeron_table`](super::Tracer::__ephemeron_table), which
//! marks the table *owned* (when an object being subtracted reports it) or
//! *reached* (when a reachable object does), and the collector traces the
//! values itself through the head's `entries` entry, once per pass (see
//! `collector::ephemerons`). Every other tracer (introspection, trash marks)
//! sees the values as ordinary strong edges.

use std::cell::Cell;
use std::ptr::NonNull;

use super::ErasedTracer;
use crate::layout::WeakCell;

/// What the collector is shown of one entry.
pub(crate) struct EntryView<'a> {
    /// The key's weak cell; `None` for a `Weak` with no cell. An entry
    /// whose cell has no target is dead: its key died (or was killed by a
    /// collection) and the map drops the value at its next `&mut` call.
    pub(crate) key: Option<&'a WeakCell>,
    /// The pass (`Heap::table_epoch`) in which the collector last followed
    /// the value's edges.
    pub(crate) followed: &'a Cell<u64>,
    /// Traces the value's edges.
    pub(crate) trace_value: &'a dyn Fn(&mut dyn ErasedTracer),
}

/// The `entries` entry of a table: calls the visitor with every entry.
///
/// # Safety
///
/// The table is live and registered, and no `&mut` to its entries exists
/// (the map never holds one across user code).
pub(crate) type EntriesFn = unsafe fn(NonNull<EphemeronTable>, &mut dyn FnMut(EntryView<'_>));

/// The head of a weak-key map's table, at a fixed address for the table's
/// life. Every field is a `Cell`: the collector reads and marks it through
/// the registry's pointer while the map is borrowed shared.
///
/// `pub` only so that the sealed `Tracer` may name it; the module is private.
pub struct EphemeronTable {
    /// Set when the table is registered, by the map's `Trace` impl.
    pub(crate) entries: Cell<Option<EntriesFn>>,
    /// Its index in `Heap::tables`; `usize::MAX` while unregistered.
    pub(crate) slot: Cell<usize>,
    /// The last pass in which a tracked object's trace (or a value of
    /// another table) reported the table during the subtraction: the table
    /// lives inside the objects being examined, and is reachable only if
    /// its owner is. A table no object reported in a collection is a root:
    /// it lives on the stack, in a static, or in an object the collection
    /// does not examine.
    pub(crate) owned: Cell<u64>,
    /// The last pass in which a reachable object reported the table.
    pub(crate) reached: Cell<u64>,
    /// The last pass in which the collector subtracted the values' edges.
    pub(crate) subtracted: Cell<u64>,
}

impl EphemeronTable {
    /// An unregistered head.
    pub(crate) fn new() -> Self {
        EphemeronTable {
            entries: Cell::new(None),
            slot: Cell::new(usize::MAX),
            owned: Cell::new(0),
            reached: Cell::new(0),
            subtracted: Cell::new(0),
        }
    }

    /// Whether the heap's registry lists the table.
    pub(crate) fn is_registered(&self) -> bool {
        self.slot.get() != usize::MAX
    }
}
