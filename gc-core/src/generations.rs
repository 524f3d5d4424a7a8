//! Generations: thresholds, counts, automatic collection, `freeze`.
//!
//! As in CPython, `count[0]` is tracked allocations minus deallocations since
//! the last generation-0 collection, and `count[g]` for `g > 0` is the number
//! of collections of generation `g - 1` since generation `g` was last
//! collected. A tracked allocation that makes `count[0]` exceed
//! `threshold[0]` collects the oldest generation whose count exceeds its
//! threshold; a full collection additionally waits until the objects
//! promoted into generation 2 since the last full collection exceed 25% of
//! those that survived it, which keeps full collections amortised linear.

use std::cell::Cell;

use crate::collector::collect_with_callbacks;
use crate::header::{flags, header_ref};
use crate::list::Link;
use crate::state::{Heap, heap};

/// Number of generations, not counting the permanent one.
pub(crate) const NUM_GENERATIONS: usize = 3;

/// One generation: its container list, threshold and count.
pub(crate) struct Generation {
    pub(crate) head: Link,
    pub(crate) threshold: Cell<usize>,
    pub(crate) count: Cell<usize>,
}

impl Generation {
    pub(crate) fn new(threshold: usize) -> Self {
        Generation {
            head: Link::detached(),
            threshold: Cell::new(threshold),
            count: Cell::new(0),
        }
    }
}

/// Counts a new tracked allocation and runs an automatic collection when it
/// is due. Returns the heap the object is to be linked into, or `None` once
/// the thread is exiting (the object is then untracked).
#[inline]
pub(crate) fn note_allocation() -> Option<&'static Heap> {
    let heap = heap()?;
    let gen0 = &heap.generations[0];
    let count = gen0.count.get() + 1;
    gen0.count.set(count);
    if count > gen0.threshold.get() {
        maybe_collect(heap);
    }
    Some(heap)
}

/// CPython's allocation-time check (`_PyObject_GC_Alloc`) and
/// `gc_collect_generations`.
#[cold]
#[inline(never)]
fn maybe_collect(heap: &Heap) {
    if !heap.enabled.get() || heap.generations[0].threshold.get() == 0 || heap.collecting.get() {
        return;
    }
    if let Some(generation) = generation_to_collect(heap) {
        collect_with_callbacks(heap, generation);
    }
}

/// The oldest generation whose count exceeds its threshold, subject to the
/// long-lived rule for generation 2.
fn generation_to_collect(heap: &Heap) -> Option<usize> {
    (0..NUM_GENERATIONS).rev().find(|&i| {
        let generation = &heap.generations[i];
        if generation.count.get() <= generation.threshold.get() {
            return false;
        }
        // Full collections are expensive: wait until enough long-lived
        // objects are pending (CPython issue #4074).
        i != 2 || heap.long_lived_pending.get() >= heap.long_lived_total.get() / 4
    })
}

/// Enables automatic collection (`gc.enable()`).
pub fn enable() {
    if let Some(heap) = heap() {
        heap.enabled.set(true);
    }
}

/// Disables automatic collection (`gc.disable()`). [`collect`](crate::collect)
/// still works.
pub fn disable() {
    if let Some(heap) = heap() {
        heap.enabled.set(false);
    }
}

/// Whether automatic collection is enabled (`gc.isenabled()`).
pub fn is_enabled() -> bool {
    heap().is_some_and(|h| h.enabled.get())
}

/// The collection counts `(count0, count1, count2)` (`gc.get_count()`).
///
/// ```
/// gc_core::collect();
/// gc_core::collect_generation(0);
/// assert_eq!(gc_core::get_count(), (0, 1, 0));
/// ```
pub fn get_count() -> (usize, usize, usize) {
    heap().map_or((0, 0, 0), |h| {
        let g = &h.generations;
        (g[0].count.get(), g[1].count.get(), g[2].count.get())
    })
}

/// The collection thresholds, `(700, 10, 10)` by default
/// (`gc.get_threshold()`).
pub fn get_threshold() -> (usize, usize, usize) {
    heap().map_or((700, 10, 10), |h| {
        let g = &h.generations;
        (
            g[0].threshold.get(),
            g[1].threshold.get(),
            g[2].threshold.get(),
        )
    })
}

/// Sets the collection thresholds (`gc.set_threshold()`).
///
/// `threshold0` is the number of net tracked allocations that triggers a
/// collection (0 disables automatic collection); `threshold1` the number of
/// generation-0 collections before generation 1 is examined; `threshold2`
/// the number of generation-1 collections before a full collection is
/// considered.
pub fn set_threshold(threshold0: usize, threshold1: usize, threshold2: usize) {
    if let Some(heap) = heap() {
        let g = &heap.generations;
        g[0].threshold.set(threshold0);
        g[1].threshold.set(threshold1);
        g[2].threshold.set(threshold2);
    }
}

/// Moves every tracked object into the permanent generation, which no
/// collection examines, and resets count0 (`gc.freeze()`).
///
/// Useful before forking or after building a large long-lived structure.
pub fn freeze() {
    let Some(heap) = heap() else { return };
    for generation in &heap.generations {
        // SAFETY: distinct initialised heads of this heap.
        unsafe { heap.permanent.merge_from(&generation.head) };
    }
    set_generation_bits(&heap.permanent, flags::GEN_PERMANENT);
    heap.generations[0].count.set(0);
}

/// Moves the permanent generation back into generation 2
/// (`gc.unfreeze()`).
pub fn unfreeze() {
    let Some(heap) = heap() else { return };
    set_generation_bits(&heap.permanent, 2);
    // SAFETY: distinct initialised heads of this heap.
    unsafe { heap.generations[2].head.merge_from(&heap.permanent) };
}

/// Number of objects in the permanent generation (`gc.get_freeze_count()`).
pub fn get_freeze_count() -> usize {
    heap().map_or(0, |h| h.permanent.len())
}

fn set_generation_bits(list: &Link, generation: u32) {
    for h in list.iter() {
        // SAFETY: objects on a list are allocated.
        unsafe { header_ref(h) }.set_generation(generation);
    }
}
