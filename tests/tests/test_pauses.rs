//! Pause figures: `last_collection()` and `get_pause_stats()` report what
//! each collection examined and how long it stopped the program.

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use common::{Node, Tracker, ring};
use gc_core::{Gc, Phase};

/// `n` two-node cycles, dropped: garbage for the next collection.
fn garbage_cycles(tracker: &Tracker, n: usize) {
    for _ in 0..n {
        drop(ring(tracker, 2));
    }
}

#[test]
fn a_collection_records_what_it_examined_and_its_pause() {
    gc_core::disable();
    gc_core::collect();
    let tracker = Tracker::new();
    let live: Vec<Gc<Node>> = (0..100).map(|_| Node::new(&tracker)).collect();
    garbage_cycles(&tracker, 10);
    let before = gc_core::get_pause_stats();
    assert_eq!(gc_core::collect(), 20);
    let last = gc_core::last_collection().expect("a collection ran");
    assert_eq!(
        (
            last.generation,
            last.examined,
            last.collected,
            last.uncollectable
        ),
        (2, 120, 20, 0)
    );
    assert!(last.duration > Duration::ZERO);
    let after = gc_core::get_pause_stats();
    assert_eq!(after[2].collections, before[2].collections + 1);
    assert_eq!(after[2].examined, before[2].examined + 120);
    assert_eq!(after[2].total, before[2].total + last.duration);
    assert!(after[2].max >= last.duration);
    assert_eq!(after[..2], before[..2]);

    // A young collection examines generation 0 only: the survivors moved up.
    garbage_cycles(&tracker, 3);
    assert_eq!(gc_core::collect_generation(0), 6);
    let young = gc_core::last_collection().unwrap();
    assert_eq!((young.generation, young.examined), (0, 6));
    assert_eq!(
        gc_core::get_pause_stats()[0].collections,
        after[0].collections + 1
    );
    drop(live);
    tracker.assert_all_dropped_once();
    gc_core::enable();
}

#[test]
fn automatic_collections_are_recorded_and_watchable_from_a_callback() {
    gc_core::enable();
    gc_core::collect();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let log = seen.clone();
    let id = gc_core::add_callback(move |phase, info| {
        if phase == Phase::Stop {
            let record = gc_core::last_collection().unwrap();
            // The record is the collection the callback reports.
            assert_eq!(
                (record.generation, record.collected, record.uncollectable),
                (info.generation, info.collected, info.uncollectable)
            );
            // A collection from a callback is refused and records nothing.
            assert_eq!(gc_core::collect(), 0);
            assert_eq!(gc_core::last_collection(), Some(record));
            log.borrow_mut().push(record);
        }
    });
    let before = gc_core::get_pause_stats()[0].collections;
    let (threshold, _, _) = gc_core::get_threshold();
    let tracker = Tracker::new();
    let live: Vec<Gc<Node>> = (0..=threshold).map(|_| Node::new(&tracker)).collect();
    gc_core::remove_callback(id);
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1, "one automatic collection of generation 0");
    // The allocation that crosses the threshold collects before its own
    // object is tracked (CPython's `_PyObject_GC_Link`).
    assert_eq!((seen[0].generation, seen[0].examined), (0, threshold));
    assert_eq!(gc_core::get_pause_stats()[0].collections, before + 1);
    drop(live);
}
