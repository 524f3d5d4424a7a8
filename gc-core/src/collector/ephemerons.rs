//! Ephemerons: the values of weak-key maps (`weakref::WeakKeyMap`) are
//! reachable only while their key is reachable from outside the maps
//! (JavaScript's `WeakMap`; boa_gc's ephemerons). CPython has no such
//! thing: a `WeakKeyDictionary` value that refers to its own key keeps the
//! key alive forever.
//!
//! The collector's tracers never trace a map's values through the map's
//! `Trace` impl; they only mark the map's table (`trace::EphemeronTable`):
//! *owned* when an object being subtracted reports it, *reached* when a
//! reachable object does. The values are traced here, through the heap's
//! registry of tables, in two steps that slot into the trial deletion:
//!
//! 1. [`subtract_tables`], after `subtract_refs`: the values' edges are
//!    subtracted like any internal reference, once per table per pass. In a
//!    collection every table counts, roots included (a map on the stack, in
//!    a static, or in an object the collection does not examine); in the
//!    tools' counting pass and the PEP 442 re-check, only the tables the
//!    examined objects own.
//! 2. [`follow_tables`], whenever `move_unreachable`'s scan runs out: a
//!    value is followed (its targets marked reachable, the scan resumed
//!    over them) once its table is reachable (a root, or reached) and its
//!    key is reachable. The loop ends at the fixpoint, as in every
//!    ephemeron collector: nothing left to follow.
//!
//! At the fixpoint, every unfollowed entry of a reachable table has an
//! unreachable key: the key is garbage, whatever its value holds.
//! [`kill_unreachable_keys`] clears those entries' key cells (the map's own
//! callback then counts the entry dead, and the map drops it at its next
//! `&mut` call). The values are then followed anyway ([`Follow::All`]):
//! a value stays owned by the map until that call, and may be borrowed
//! (`get` hands out `&V`), so nothing it refers to may be torn down now.
//! The key lives on until the map drops the value, then dies by reference
//! counting (or in the next collection, if it is on a cycle of its own).
//!
//! Soundness rests on one rule: every value whose edges were subtracted in
//! a pass is followed before the pass ends, if its table is reachable. An
//! unreachable table belongs to a garbage object, torn down with it.
//! Following more than was subtracted only keeps objects longer.

use std::ptr::NonNull;

use super::reachability::{SubtractRefs, VisitReachable};
use crate::heap::Heap;
use crate::layout::{Link, WeakCell, flags, header_ref};
use crate::lifecycle::weakrefs::kill_cell;
use crate::trace::{EntryView, EphemeronTable};

/// Which values [`follow_tables`] follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Follow {
    /// Those whose key is reachable: ephemeron semantics, until the
    /// fixpoint.
    ReachableKeys,
    /// All of them, as strong references: after the dead keys were
    /// killed, and in the PEP 442 re-check.
    All,
}

/// Which tables a pass treats as reachable without an object reaching them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Roots {
    /// A collection: tables no examined object owns are roots.
    Unowned,
    /// A re-check over the garbage: only tables a reachable object reached.
    None,
}

/// Calls `visit` with every entry of the table at `ptr`.
fn for_each_entry(ptr: NonNull<EphemeronTable>, visit: &mut dyn FnMut(EntryView<'_>)) {
    // SAFETY: listed tables are live (a map unlists its table before freeing
    // it).
    let table = unsafe { ptr.as_ref() };
    if let Some(entries) = table.entries.get() {
        // SAFETY: live and registered; a map never holds a `&mut` to its
        // entries across code that could start a collection.
        unsafe { entries(ptr, visit) };
    }
}

/// Whether `key`'s object is still alive and not tentatively unreachable.
/// Valid when `move_unreachable`'s scan has run out: every object of the
/// collected generations is then scanned (reachable), unreachable, or
/// moved back by a follow (reachable, scanned next).
fn key_reachable(key: Option<&WeakCell>) -> bool {
    let Some(h) = key.and_then(|cell| cell.target.get()) else {
        return false;
    };
    // SAFETY: a cell's target is allocated until the cell is cleared.
    let bits = unsafe { header_ref(h) }.flags();
    bits & (flags::COLLECTING | flags::UNREACHABLE) != flags::COLLECTING | flags::UNREACHABLE
}

/// Phase 2b. Subtracts the edges of the values of every entry (a dead
/// entry's too: its value is the map's until the map drops it) of the
/// tables this pass covers: all of them when
/// `roots` is [`Roots::Unowned`], else those an examined object owns.
/// Tracing a value may mark more tables owned (a map inside a value), so
/// the registry is walked until no table is left; each table is subtracted
/// at most once per pass (`subtracted`).
pub(super) fn subtract_tables(heap: &Heap, epoch: u64, roots: Roots, young_limit: u32) {
    if heap.tables.borrow().is_empty() {
        return;
    }
    loop {
        let mut progress = false;
        let mut slot = 0;
        while let Some(ptr) = heap.table(slot) {
            slot += 1;
            // SAFETY: listed tables are live.
            let table = unsafe { ptr.as_ref() };
            let covered = roots == Roots::Unowned || table.owned.get() == epoch;
            if !covered || table.subtracted.get() == epoch {
                continue;
            }
            table.subtracted.set(epoch);
            progress = true;
            for_each_entry(ptr, &mut |entry| {
                (entry.trace_value)(&mut SubtractRefs { young_limit });
            });
        }
        if !progress {
            return;
        }
    }
}

/// Whether an entry's key is alive (its cell still has a target).
fn key_alive(key: Option<&WeakCell>) -> bool {
    key.is_some_and(|cell| cell.target.get().is_some())
}

/// Whether a pass treats `table` as reachable.
fn table_reachable(table: &EphemeronTable, epoch: u64, roots: Roots) -> bool {
    table.reached.get() == epoch || (roots == Roots::Unowned && table.owned.get() != epoch)
}

/// Calls `visit` with every entry of every table the pass treats as
/// reachable, walking the registry by index (a visit may list a table).
fn for_each_reachable_entry(
    heap: &Heap,
    epoch: u64,
    roots: Roots,
    visit: &mut dyn FnMut(EntryView<'_>),
) {
    let mut slot = 0;
    while let Some(ptr) = heap.table(slot) {
        slot += 1;
        // SAFETY: listed tables are live.
        if table_reachable(unsafe { ptr.as_ref() }, epoch, roots) {
            for_each_entry(ptr, visit);
        }
    }
}

/// Phase 3b. Follows the values of the reachable tables that `follow`
/// selects and this pass has not followed yet, marking their targets
/// reachable (moved back to `young`'s tail for the scan to resume).
/// Returns whether it followed any.
///
/// Precondition: `move_unreachable`'s scan over `young` has run out.
pub(super) fn follow_tables(
    heap: &Heap,
    epoch: u64,
    roots: Roots,
    follow: Follow,
    young: NonNull<Link>,
) -> bool {
    let mut followed = false;
    for_each_reachable_entry(heap, epoch, roots, &mut |entry| {
        if entry.followed.get() == epoch {
            return;
        }
        // A dead entry's value is the map's until its next `&mut` call: a
        // strong reference, followed like any.
        if follow == Follow::ReachableKeys && key_alive(entry.key) && !key_reachable(entry.key) {
            return;
        }
        entry.followed.set(epoch);
        followed = true;
        (entry.trace_value)(&mut VisitReachable::new(young));
    });
    followed
}

/// At the ephemeron fixpoint: clears the key cell of every live entry of a
/// reachable table that was not followed (its key is unreachable), running
/// the map's own callback, which counts the entry dead. All cells are
/// collected before any is cleared. Returns how many were killed.
pub(super) fn kill_unreachable_keys(heap: &Heap, epoch: u64, roots: Roots) -> usize {
    let mut doomed: Vec<*const WeakCell> = Vec::new();
    for_each_reachable_entry(heap, epoch, roots, &mut |entry| {
        if entry.followed.get() != epoch && key_alive(entry.key) {
            debug_assert!(!key_reachable(entry.key), "fixpoint not reached");
            doomed.extend(entry.key.map(std::ptr::from_ref));
        }
    });
    for &cell in &doomed {
        // SAFETY: the entries own their cells and no entry was removed since
        // the walk (no user code ran); the callback is the map's own.
        unsafe { kill_cell(&*cell) };
    }
    doomed.len()
}
