//! Automatic collection: when an allocation triggers a collection, and of
//! which generation (CPython's `_PyObject_GC_Link` and
//! `gc_collect_generations`).
//!
//! As in CPython, `count[0]` is tracked allocations minus deallocations since
//! the last generation-0 collection, and `count[g]` for `g > 0` is the number
//! of collections of generation `g - 1` since generation `g` was last
//! collected. A tracked allocation that makes `count[0]` exceed
//! `threshold[0]` collects the oldest generation whose count exceeds its
//! threshold; a full collection additionally waits until generation 2 has
//! grown by 25% of what survived the last full collection, which keeps full
//! collections amortised linear. CPython counts the promotions into
//! generation 2; gc-core subtracts the generation-2 objects that reference
//! counting freed since (`Heap::note_long_lived_death`).

use super::driver::collect_with_callbacks;
use crate::heap::{Heap, NUM_GENERATIONS, heap};

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
        // Full collections are expensive: wait until generation 2 has grown
        // by a quarter since the last one (CPython issue #4074; gc-core
        // counts net growth, see `Heap::note_long_lived_death`).
        let quarter = isize::try_from(heap.long_lived_total.get() / 4).unwrap_or(isize::MAX);
        i != 2 || heap.long_lived_pending.get() >= quarter
    })
}
