//! The driver: one collection from start to end (CPython's
//! `gc_collect_main` and `gc_collect_with_callback`), its guards, and its
//! bookkeeping. [`collect_main`] is the table of contents of the phases.

use std::panic::resume_unwind;
use std::time::{Duration, Instant};

use super::debug;
use super::finalizers::{
    finalize_garbage, handle_legacy_finalizers, handle_resurrected_objects,
    move_legacy_finalizer_reachable, move_legacy_finalizers, save_garbage,
};

use super::reachability::deduce_unreachable;
use super::teardown::{Teardown, condemn, delete_garbage, handle_weakrefs, release_to_old};
use crate::heap::{
    CollectionInfo, CollectionRecord, DebugFlags, FinalizerPolicy, GenerationStats, Heap,
    PauseStats, Phase, invoke_callbacks,
};

use crate::layout::Link;
#[cfg(debug_assertions)]
use crate::layout::flags;
use crate::lifecycle::finalize::pending_finalizers;
use crate::lifecycle::weakrefs;

/// CPython's `gc_collect_with_callback`, plus the re-entrancy guard: the
/// callbacks see `Start`, the collection runs, the debug lines are written,
/// the callbacks see `Stop`.
pub(crate) fn collect_with_callbacks(heap: &Heap, generation: usize) -> usize {
    if heap.collecting.get() {
        return 0;
    }
    let _scope = CollectionScope::enter(heap);

    invoke_callbacks(heap, Phase::Start, &CollectionInfo::start(generation));
    let started = Instant::now();
    let outcome = collect_main(heap, generation);
    run_held_back_user_code(heap);
    record_pause(heap, generation, &outcome, started.elapsed());
    let info = CollectionInfo {
        generation,
        collected: outcome.collected,
        uncollectable: outcome.uncollectable,
    };
    // A panic of user code during the collection wins over the callbacks:
    // resume it now that the heap is consistent.
    let pending = heap.pending_panic.borrow_mut().take();
    if let Some(payload) = pending {
        resume_unwind(payload);
    }
    invoke_callbacks(heap, Phase::Stop, &info);
    outcome.collected + outcome.uncollectable
}

/// Once the garbage is gone or kept and every list is consistent, runs the
/// user code the collection held back (see "Where user code runs"): the
/// callbacks of `Weak`s that were in the trash, then the debug writer.
fn run_held_back_user_code(heap: &Heap) {
    weakrefs::end_trash_epoch();
    weakrefs::run_trash_callbacks(heap, |payload| heap.note_panic(payload));
    debug::write_lines(heap);
}

/// Debug builds: no collection state is left outside a collection.
#[cfg(debug_assertions)]
fn validate_idle(heap: &Heap) {
    heap.unreachable
        .validate("unreachable", "absent", |_| false);
    heap.finalizers.validate("finalizers", "absent", |_| false);
    assert!(heap.trash_callbacks.borrow().is_empty());
}

/// Marks a collection as running for as long as it lives. If the collection
/// unwinds (a `Trace` impl or a `Start` callback panicked; the phases' own
/// guards have already put every object back on a generation), it runs the
/// user code held back so far ([`run_held_back_user_code`]) and drops any
/// panic kept from user code (the unwinding panic wins).
struct CollectionScope<'a>(&'a Heap);

impl<'a> CollectionScope<'a> {
    fn enter(heap: &'a Heap) -> Self {
        #[cfg(debug_assertions)]
        validate_idle(heap);
        heap.collecting.set(true);
        CollectionScope(heap)
    }
}

impl Drop for CollectionScope<'_> {
    fn drop(&mut self) {
        let heap = self.0;
        if std::thread::panicking() {
            run_held_back_user_code(heap);
            heap.discard_panic();
        }
        #[cfg(debug_assertions)]
        validate_idle(heap);
        heap.collecting.set(false);
    }
}

/// Aborts the process if dropped during unwinding. Held over the teardown,
/// where no panic can escape (every piece of user code there runs under
/// `catch_unwind`, and payloads are dropped by `drop_payload`): should one
/// escape anyway, objects would be left half torn down, and a clean abort
/// beats a double free.
struct AbortOnUnwind;

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("gc-core: a panic escaped the teardown of garbage; aborting");
            std::process::abort();
        }
    }
}

/// What one collection found.
struct Outcome {
    /// Objects examined (the collected generations' size at the start).
    examined: usize,
    /// Unreachable objects freed, or saved by `SAVEALL` (CPython's `m`).
    collected: usize,
    /// Objects kept because of finalizers (CPython's `n`).
    uncollectable: usize,
}

/// One collection of `generation` (CPython's `gc_collect_main`). Read this
/// first: it is the table of contents of the phases.
fn collect_main(heap: &Heap, generation: usize) -> Outcome {
    // Read once: user code during the collection (a finalizer, a callback)
    // may change the settings, which then apply from the next collection.
    let debug = heap.debug.get();
    let policy = heap.policy.get();
    let started = debug
        .contains(DebugFlags::STATS)
        .then(|| debug::stats_start(heap, generation));
    let young = &heap.generations[generation].head;
    let target = (generation + 1).min(2);
    let old = &heap.generations[target].head;
    update_counts(heap, generation);
    merge_younger(heap, generation);
    #[cfg(debug_assertions)]
    young.validate("young", "an idle object of a collected generation", |f| {
        f & (flags::COLLECTING | flags::CONDEMNED | flags::VALUE_DROPPED) == 0
            && (f & flags::GEN_MASK) >> flags::GEN_SHIFT <= generation as u32
    });

    // Which objects are unreachable?
    let (examined, survivors) =
        deduce_unreachable(heap, young, &heap.unreachable, generation, target as u32);
    promote_survivors(heap, generation, survivors);
    #[cfg(debug_assertions)]
    {
        young.validate("young", "a scanned survivor", |f| {
            f & (flags::COLLECTING | flags::CONDEMNED) == 0
                && (f & flags::GEN_MASK) >> flags::GEN_SHIFT == target as u32
        });
        heap.unreachable
            .validate("unreachable", "tentatively unreachable", |f| {
                f & (flags::COLLECTING | flags::UNREACHABLE)
                    == flags::COLLECTING | flags::UNREACHABLE
            });
    }
    if !std::ptr::eq(young, old) {
        // SAFETY: distinct initialised heads of this heap.
        unsafe { old.merge_from(young) };
    }

    // From here on the scratch lists hold objects: if a `Trace` impl panics,
    // hand them back to `old` intact.
    let guard = ScratchGuard {
        heap,
        old,
        target: target as u32,
        policy,
        held: std::cell::Cell::new(false),
    };
    // Python 2.7: cycles with finalizers are kept, with all they reach.
    if policy == FinalizerPolicy::Uncollectable && pending_finalizers() {
        move_legacy_finalizers(&heap.unreachable, &heap.finalizers);
        move_legacy_finalizer_reachable(&heap.finalizers);
    }
    #[cfg(debug_assertions)]
    {
        heap.unreachable
            .validate("unreachable", "tentatively unreachable", |f| {
                f & (flags::COLLECTING | flags::UNREACHABLE)
                    == flags::COLLECTING | flags::UNREACHABLE
            });
        heap.finalizers
            .validate("finalizers", "kept for a finalizer", |f| {
                f & (flags::COLLECTING | flags::UNREACHABLE) == flags::COLLECTING
            });
    }
    if debug.contains(DebugFlags::COLLECTABLE) {
        for h in heap.unreachable.iter() {
            debug::object_line(heap, "collectable", h);
        }
    }

    let save_all = debug.contains(DebugFlags::SAVEALL);
    // Under PEP 442 the collector holds the garbage while finalizers run;
    // otherwise what is not saved is condemned at once.
    let teardown = match policy {
        FinalizerPolicy::Finalize => Teardown::Hold,
        FinalizerPolicy::Uncollectable if save_all => Teardown::Keep,
        FinalizerPolicy::Uncollectable => Teardown::Condemn,
    };
    let weak_cells_before = weakrefs::weak_cells_created();
    // With no weak reference on this thread and nothing kept back, there is
    // nothing for `handle_weakrefs` to do but condemn the garbage, which the
    // `UNREACHABLE` flag left by `move_unreachable` already does: skip its
    // walk.
    let skip_weakrefs = teardown == Teardown::Condemn
        && !weakrefs::weak_cells_exist()
        && heap.finalizers.is_empty();
    weakrefs::begin_trash_epoch();
    let mut collected = if skip_weakrefs {
        examined - survivors
    } else {
        handle_weakrefs(heap, teardown)
    };
    #[cfg(debug_assertions)]
    heap.unreachable
        .validate("unreachable", "prepared for its teardown", |f| {
            let condemned = f & flags::CONDEMNED != 0;
            f & flags::VALUE_DROPPED == 0 && condemned == (teardown == Teardown::Condemn)
        });
    guard.held.set(teardown == Teardown::Hold);
    if policy == FinalizerPolicy::Finalize {
        // PEP 442: run the finalizers, then keep whatever they resurrected.
        finalize_garbage(heap);
        collected -= handle_resurrected_objects(heap, old, target as u32);
        #[cfg(debug_assertions)]
        {
            heap.unreachable
                .validate("unreachable", "held after the finalizers", |f| {
                    f & (flags::COLLECTING
                        | flags::UNREACHABLE
                        | flags::CONDEMNED
                        | flags::VALUE_DROPPED)
                        == 0
                });
            heap.finalizers.validate("finalizers", "absent", |_| false);
        }
    }
    std::mem::forget(guard);

    // Teardown. No `Trace` impl runs from here on, and every piece of user
    // code runs under `catch_unwind`: nothing can unwind.
    let no_unwind = AbortOnUnwind;
    let held = teardown == Teardown::Hold;
    if save_all {
        save_garbage(heap, &heap.unreachable, old, target as u32, held);
    } else {
        if held {
            condemn(&heap.unreachable);
        }
        delete_garbage(heap, weak_cells_before);
    }
    #[cfg(debug_assertions)]
    {
        heap.unreachable
            .validate("unreachable", "absent after the teardown", |_| false);
        heap.finalizers
            .validate("finalizers", "kept, untouched by the teardown", |f| {
                f & (flags::UNREACHABLE | flags::CONDEMNED | flags::VALUE_DROPPED) == 0
            });
    }
    // Counted only now, as CPython does: tearing the garbage down may have
    // freed a kept object that only the garbage referred to (an acyclic
    // finalizer object dies by reference counting, running its finalizer).
    let uncollectable = heap.finalizers.len();

    if debug.contains(DebugFlags::UNCOLLECTABLE) {
        for h in heap.finalizers.iter() {
            debug::object_line(heap, "uncollectable", h);
        }
    }
    if let Some(started) = started {
        debug::stats_done(heap, started, collected + uncollectable, uncollectable);
    }
    handle_legacy_finalizers(heap, old, target as u32, save_all);
    std::mem::forget(no_unwind);
    #[cfg(debug_assertions)]
    heap.finalizers.validate(
        "finalizers",
        "absent after handle_legacy_finalizers",
        |_| false,
    );

    let outcome = Outcome {
        examined,
        collected,
        uncollectable,
    };
    record_stats(heap, generation, &outcome);
    outcome
}

/// `collect(g)` resets the counts of generations `0..=g` and counts one more
/// collection of `g` towards generation `g + 1`.
fn update_counts(heap: &Heap, generation: usize) {
    if let Some(next) = heap.generations.get(generation + 1) {
        next.count.set(next.count.get() + 1);
    }
    for younger in &heap.generations[..=generation] {
        younger.count.set(0);
    }
}

/// Merges the generations younger than `generation` into it: a collection
/// of `g` examines every generation up to `g`.
fn merge_younger(heap: &Heap, generation: usize) {
    let young = &heap.generations[generation].head;
    for younger in &heap.generations[..generation] {
        // SAFETY: distinct initialised heads of this heap.
        unsafe { young.merge_from(&younger.head) };
    }
}

/// Returns the objects of a collection's scratch lists to `old` when a
/// `Trace` impl panics after phase 3: they stay valid, tracked objects and
/// are examined again by the next collection.
struct ScratchGuard<'a> {
    heap: &'a Heap,
    old: &'a Link,
    target: u32,
    /// The policy the collection runs under (a finalizer may have changed
    /// the heap's setting since).
    policy: FinalizerPolicy,
    /// The objects on `unreachable` (and, under the `Finalize` policy, on
    /// `finalizers`) carry the collector's holds.
    held: std::cell::Cell<bool>,
}

impl Drop for ScratchGuard<'_> {
    fn drop(&mut self) {
        let held = self.held.get();
        let finalizers_held = held && self.policy == FinalizerPolicy::Finalize;
        release_to_old(
            &self.heap.finalizers,
            self.old,
            self.target,
            finalizers_held,
        );
        release_to_old(&self.heap.unreachable, self.old, self.target, held);
    }
}

/// Updates the long-lived bookkeeping behind the 25% rule.
fn promote_survivors(heap: &Heap, generation: usize, survivors: usize) {
    match generation {
        1 => heap.long_lived_pending.set(
            heap.long_lived_pending
                .get()
                .saturating_add_unsigned(survivors),
        ),
        2 => {
            heap.long_lived_pending.set(0);
            heap.long_lived_total.set(survivors);
        }
        _ => {}
    }
}

/// Records one collection's pause for `last_collection()` and
/// `get_pause_stats()`.
fn record_pause(heap: &Heap, generation: usize, outcome: &Outcome, duration: Duration) {
    let mut pauses = heap.pauses.get();
    let entry: &mut PauseStats = &mut pauses[generation];
    entry.collections += 1;
    entry.examined += outcome.examined;
    entry.total += duration;
    entry.max = entry.max.max(duration);
    heap.pauses.set(pauses);
    heap.last_collection.set(Some(CollectionRecord {
        generation,
        examined: outcome.examined,
        collected: outcome.collected,
        uncollectable: outcome.uncollectable,
        duration,
    }));
}

/// Adds one collection's figures to `get_stats()`.
fn record_stats(heap: &Heap, generation: usize, outcome: &Outcome) {
    let mut stats = heap.stats.get();
    let entry: &mut GenerationStats = &mut stats[generation];
    entry.collections += 1;
    entry.collected += outcome.collected;
    entry.uncollectable += outcome.uncollectable;
    heap.stats.set(stats);
}
