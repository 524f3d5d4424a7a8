//! The generations' data: each generation's list head, threshold and
//! count, and the per-generation statistics (CPython's `gc_generation` and
//! `gc_generation_stats`). The policy that reads them is the collector's
//! (`collector::schedule`); the `gc` module's setters are in `gcmodule`.
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

use crate::layout::Link;

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

/// Cumulative figures for one generation (an entry of `gc.get_stats()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GenerationStats {
    /// Collections of this generation.
    pub collections: usize,
    /// Unreachable objects found by those collections (freed, or kept as
    /// garbage without being uncollectable).
    pub collected: usize,
    /// Objects found uncollectable (kept alive because of finalizers).
    pub uncollectable: usize,
}

/// One collection's figures, with how long it stopped the program:
/// [`last_collection`](crate::last_collection). (A separate type, so that
/// [`GenerationStats`] and [`CollectionInfo`](crate::CollectionInfo), whose
/// fields are public, keep CPython's fields.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CollectionRecord {
    /// The generation collected.
    pub generation: usize,
    /// Objects examined: every tracked object of generations
    /// `0..=generation` when it started.
    pub examined: usize,
    /// Unreachable objects found that were not uncollectable.
    pub collected: usize,
    /// Objects found uncollectable.
    pub uncollectable: usize,
    /// The pause: from the end of the `Start` callbacks to the start of the
    /// `Stop` callbacks, so it includes the finalizers, destructors and
    /// weak-reference callbacks the collection ran.
    pub duration: std::time::Duration,
}

/// Cumulative pause figures for one generation:
/// [`get_pause_stats`](crate::get_pause_stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PauseStats {
    /// Collections of this generation.
    pub collections: usize,
    /// Objects they examined, in all.
    pub examined: usize,
    /// Their pauses, added up.
    pub total: std::time::Duration,
    /// The longest of them.
    pub max: std::time::Duration,
}
