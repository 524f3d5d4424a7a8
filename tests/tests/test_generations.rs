//! Generations: counts, thresholds, automatic collection, promotion, the
//! long-lived rule, `freeze`, statistics and callbacks, checked against
//! CPython's behaviour (CPYTHON.md §1.2, §1.3, §2, §3.1).

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{CallbackLog, Node, Tracker, contains, expect_panic, ring};
use gc_core::{
    CollectionInfo, Gc, Phase, collect, collect_generation, disable, enable, freeze, get_count,
    get_freeze_count, get_objects, get_stats, get_threshold, is_enabled, set_threshold, unfreeze,
};

fn generation_of(node: &Gc<Node>) -> Option<usize> {
    Gc::to_object(node).generation()
}

#[test]
fn counts_after_collections_follow_cpython() {
    collect();
    assert_eq!(get_count(), (0, 0, 0));
    collect_generation(0);
    assert_eq!(get_count(), (0, 1, 0));
    collect_generation(0);
    assert_eq!(get_count(), (0, 2, 0));
    collect_generation(1);
    assert_eq!(get_count(), (0, 0, 1));
    collect_generation(0);
    collect_generation(1);
    assert_eq!(get_count(), (0, 0, 2));
    collect();
    assert_eq!(get_count(), (0, 0, 0));
    // A collection resets count0 even when objects were allocated.
    let tracker = Tracker::new();
    let nodes: Vec<_> = (0..5).map(|_| Node::new(&tracker)).collect();
    assert_eq!(get_count(), (5, 0, 0));
    collect_generation(1);
    assert_eq!(get_count(), (0, 0, 1));
    drop(nodes);
    tracker.assert_all_dropped_once();
}

#[test]
fn count0_counts_tracked_allocations_minus_frees() {
    collect();
    let tracker = Tracker::new();
    let a = Node::new(&tracker);
    assert_eq!(get_count().0, 1);
    let b = Node::new(&tracker);
    let c = Node::new(&tracker);
    assert_eq!(get_count().0, 3);
    drop(b);
    assert_eq!(get_count().0, 2);
    // Untracked allocations and frees do not count.
    let number = Gc::new(5_u64);
    let text = Gc::new(String::from("x"));
    assert_eq!(get_count().0, 2);
    drop((number, text));
    assert_eq!(get_count().0, 2);
    // Clones are not allocations.
    let a2 = a.clone();
    assert_eq!(get_count().0, 2);
    drop(a2);
    assert_eq!(get_count().0, 2);
    // After a collection the count starts again from 0 and never goes below.
    collect_generation(0);
    assert_eq!(get_count(), (0, 1, 0));
    drop(a);
    assert_eq!(get_count(), (0, 1, 0));
    drop(c);
    assert_eq!(get_count(), (0, 1, 0));
    let d = Node::new(&tracker);
    assert_eq!(get_count(), (1, 1, 0));
    // Freeing garbage found by a collection does not make it negative.
    drop(ring(&tracker, 3));
    assert_eq!(get_count(), (4, 1, 0));
    assert_eq!(collect_generation(0), 3);
    assert_eq!(get_count(), (0, 2, 0));
    drop(d);
    tracker.assert_all_dropped_once();
}

#[test]
fn default_thresholds_and_set_threshold() {
    assert_eq!(get_threshold(), (700, 10, 10));
    assert!(is_enabled());
    set_threshold(5, 6, 7);
    assert_eq!(get_threshold(), (5, 6, 7));
    set_threshold(0, 0, 0);
    assert_eq!(get_threshold(), (0, 0, 0));
    set_threshold(700, 10, 10);
    // Settings belong to the thread: a new thread starts with the defaults.
    set_threshold(1, 2, 3);
    disable();
    let other = std::thread::spawn(|| (get_threshold(), is_enabled(), get_count()))
        .join()
        .unwrap();
    assert_eq!(other, ((700, 10, 10), true, (0, 0, 0)));
    assert_eq!(get_threshold(), (1, 2, 3));
    assert!(!is_enabled());
}

#[test]
fn automatic_collection_on_the_701st_tracked_allocation() {
    collect();
    let log = CallbackLog::register();
    let tracker = Tracker::new();
    // Untracked allocations never trigger a collection.
    let numbers: Vec<Gc<u64>> = (0..1000).map(Gc::new).collect();
    drop(numbers);
    assert!(log.events().is_empty());
    let mut nodes: Vec<Gc<Node>> = (0..700).map(|_| Node::new(&tracker)).collect();
    assert!(
        log.events().is_empty(),
        "collected before the 701st allocation"
    );
    assert_eq!(get_count(), (700, 0, 0));
    nodes.push(Node::new(&tracker));
    let zero = CollectionInfo {
        generation: 0,
        collected: 0,
        uncollectable: 0,
    };
    assert_eq!(log.events(), [(Phase::Start, zero), (Phase::Stop, zero)]);
    // The collection ran before the new object was linked: the 700 survivors
    // moved to generation 1, the new object is in generation 0, and count0
    // (which counted the new object before the collection reset it) is 0.
    assert_eq!(get_count(), (0, 1, 0));
    assert_eq!(get_objects(Some(1)).len(), 700);
    let young = get_objects(Some(0));
    assert_eq!(young.len(), 1);
    assert!(contains(&young, &nodes[700]));
    drop(young);
    drop(nodes);
    tracker.assert_all_dropped_once();
}

#[test]
fn automatic_collection_frees_garbage() {
    collect();
    set_threshold(10, 10, 10);
    let log = CallbackLog::register();
    let tracker = Tracker::new();
    for _ in 0..5 {
        drop(ring(&tracker, 2));
    }
    assert_eq!(get_count(), (10, 0, 0));
    assert_eq!(tracker.dropped(), 0);
    let survivor = Node::new(&tracker);
    assert_eq!(log.started(), [0]);
    assert_eq!(log.events()[1].1.collected, 10);
    assert_eq!(tracker.dropped(), 10);
    drop(survivor);
    tracker.assert_all_dropped_once();
}

#[test]
fn threshold0_of_zero_disables_automatic_collection() {
    collect();
    set_threshold(0, 10, 10);
    let log = CallbackLog::register();
    let tracker = Tracker::new();
    let n = if cfg!(miri) { 800 } else { 5000 };
    let nodes: Vec<_> = (0..n).map(|_| Node::new(&tracker)).collect();
    assert!(log.events().is_empty());
    // As CPython: 5,000 lists left (5015, 0, 0).
    assert_eq!(get_count(), (n, 0, 0));
    // Explicit collections still work.
    drop(ring(&tracker, 2));
    assert_eq!(collect(), 2);
    drop(nodes);
    tracker.assert_all_dropped_once();
}

#[test]
fn disable_and_enable() {
    collect();
    assert!(is_enabled());
    set_threshold(10, 10, 10);
    let log = CallbackLog::register();
    let tracker = Tracker::new();
    disable();
    assert!(!is_enabled());
    let mut nodes: Vec<_> = (0..30).map(|_| Node::new(&tracker)).collect();
    assert!(log.events().is_empty());
    assert_eq!(get_count(), (30, 0, 0));
    // collect() works while disabled.
    drop(ring(&tracker, 3));
    assert_eq!(collect(), 3);
    assert_eq!(log.started(), [2]);
    assert!(!is_enabled(), "collect() must not re-enable");
    log.clear();
    nodes.extend((0..15).map(|_| Node::new(&tracker)));
    assert!(log.events().is_empty());
    assert_eq!(get_count(), (15, 0, 0));
    enable();
    assert!(is_enabled());
    // count0 already exceeds the threshold: the next tracked allocation
    // collects, an untracked one does not.
    let _untracked = Gc::new(1_u8);
    assert!(log.events().is_empty());
    nodes.push(Node::new(&tracker));
    assert_eq!(log.started(), [0]);
    disable();
    enable();
    assert!(is_enabled());
    drop(nodes);
    tracker.assert_all_dropped_once();
}

#[test]
fn survivors_are_promoted() {
    collect();
    let tracker = Tracker::new();
    let a = Node::new(&tracker);
    assert_eq!(generation_of(&a), Some(0));
    assert!(contains(&get_objects(Some(0)), &a));
    collect_generation(0);
    assert_eq!(generation_of(&a), Some(1));
    assert!(!contains(&get_objects(Some(0)), &a));
    assert!(contains(&get_objects(Some(1)), &a));
    collect_generation(0);
    assert_eq!(
        generation_of(&a),
        Some(1),
        "a gen-0 collection left gen 1 alone"
    );
    collect_generation(1);
    assert_eq!(generation_of(&a), Some(2));
    assert!(contains(&get_objects(Some(2)), &a));
    assert!(!contains(&get_objects(Some(1)), &a));
    collect_generation(1);
    collect();
    assert_eq!(generation_of(&a), Some(2), "generation 2 is the oldest");

    // A gen-1 collection takes generation 0 with it, into generation 2.
    let b = Node::new(&tracker);
    collect_generation(1);
    assert_eq!(generation_of(&b), Some(2));
    // A full collection moves every survivor to generation 2.
    let c = Node::new(&tracker);
    let d = Node::new(&tracker);
    collect_generation(0);
    assert_eq!((generation_of(&c), generation_of(&d)), (Some(1), Some(1)));
    let e = Node::new(&tracker);
    collect();
    for node in [&a, &b, &c, &d, &e] {
        assert_eq!(generation_of(node), Some(2));
    }
    assert_eq!(get_objects(Some(2)).len(), 5);
    assert!(get_objects(Some(0)).is_empty());
    assert!(get_objects(Some(1)).is_empty());
    drop((a, b, c, d, e));
    tracker.assert_all_dropped_once();
}

#[test]
fn promotion_keeps_objects_reachable_from_a_root() {
    collect();
    let tracker = Tracker::new();
    // A chain hanging off a root: everything reachable survives and moves up.
    let root = Node::new(&tracker);
    let chain = ring(&tracker, 4);
    Node::link(&root, &chain[0]);
    drop(chain);
    collect_generation(0);
    assert_eq!(get_objects(Some(1)).len(), 5);
    assert!(
        get_objects(Some(1))
            .iter()
            .all(|o| o.generation() == Some(1))
    );
    drop(root);
    assert_eq!(collect_generation(1), 4);
    tracker.assert_all_dropped_once();
}

#[test]
fn gen2_cycle_survives_young_collections_and_dies_in_a_full_one() {
    collect();
    let tracker = Tracker::new();
    let cycle = ring(&tracker, 2);
    collect();
    assert_eq!(generation_of(&cycle[0]), Some(2));
    drop(cycle);
    assert_eq!(collect_generation(0), 0);
    assert_eq!(collect_generation(1), 0);
    assert_eq!(tracker.dropped(), 0);
    assert_eq!(get_objects(Some(2)).len(), 2);
    assert_eq!(collect(), 2);
    tracker.assert_all_dropped_once();
}

#[test]
fn gen1_cycle_survives_gen0_and_dies_in_gen1() {
    collect();
    let tracker = Tracker::new();
    let cycle = ring(&tracker, 3);
    collect_generation(0);
    assert_eq!(generation_of(&cycle[2]), Some(1));
    drop(cycle);
    assert_eq!(collect_generation(0), 0);
    assert_eq!(tracker.dropped(), 0);
    assert_eq!(collect_generation(1), 3);
    tracker.assert_all_dropped_once();
}

#[test]
fn a_young_cycle_referenced_from_an_old_object_survives_young_collections() {
    collect();
    let tracker = Tracker::new();
    let old = Node::new(&tracker);
    collect();
    let young = ring(&tracker, 2);
    Node::link(&old, &young[0]);
    drop(young);
    // The reference from generation 2 counts as external.
    assert_eq!(collect_generation(0), 0);
    assert_eq!(collect_generation(1), 0);
    assert_eq!(tracker.dropped(), 0);
    drop(old);
    assert_eq!(collect(), 2);
    tracker.assert_all_dropped_once();
}

/// The generations automatic collections chose so far.
fn started(log: &CallbackLog) -> Vec<usize> {
    log.started()
}

#[test]
fn automatic_collection_picks_the_oldest_generation_over_its_threshold() {
    collect();
    disable();
    set_threshold(3, 2, 2);
    let tracker = Tracker::new();
    // Three gen-0 collections: count1 = 3 > threshold1.
    for _ in 0..3 {
        collect_generation(0);
    }
    assert_eq!(get_count(), (0, 3, 0));
    enable();
    let log = CallbackLog::register();
    let mut nodes: Vec<_> = (0..3).map(|_| Node::new(&tracker)).collect();
    assert!(started(&log).is_empty());
    nodes.push(Node::new(&tracker));
    assert_eq!(started(&log), [1]);
    assert_eq!(get_count(), (0, 0, 1));
    // Three automatic collections later, count2 = 3 > threshold2: nothing
    // survived a full collection yet (long_lived_total = 0), so a full one
    // runs.
    log.clear();
    let mut chosen = Vec::new();
    while chosen.last() != Some(&2) {
        nodes.push(Node::new(&tracker));
        chosen = started(&log);
        assert!(chosen.len() < 20, "no full collection: {chosen:?}");
    }
    // Gen 0 until count1 exceeds 2, then gen 1 (which counts towards gen 2),
    // and gen 2 as soon as count2 exceeds 2, whatever count1 is.
    assert_eq!(chosen, [0, 0, 0, 1, 0, 0, 0, 1, 2]);
    assert_eq!(get_count(), (0, 0, 0));
    drop(nodes);
    tracker.assert_all_dropped_once();
}

#[test]
fn long_lived_rule_defers_full_collections() {
    collect();
    disable();
    let tracker = Tracker::new();
    // Eight objects survive a full collection: long_lived_total = 8.
    let old: Vec<_> = (0..8).map(|_| Node::new(&tracker)).collect();
    collect();
    assert_eq!(get_objects(Some(2)).len(), 8);
    set_threshold(3, 1, 1);
    // count2 = 2 > threshold2, count1 = 2 > threshold1, but no object was
    // promoted into generation 2 since (long_lived_pending = 0 < 8 / 4).
    collect_generation(1);
    collect_generation(1);
    collect_generation(0);
    collect_generation(0);
    assert_eq!(get_count(), (0, 2, 2));
    enable();
    let log = CallbackLog::register();
    let mut young: Vec<_> = (0..4).map(|_| Node::new(&tracker)).collect();
    assert_eq!(
        started(&log),
        [1],
        "gen 2 chosen although long_lived_pending < total / 4"
    );
    // The three young objects allocated before that gen-1 collection were
    // promoted into generation 2 (the fourth was allocated after it).
    assert_eq!(get_objects(Some(2)).len(), 11);
    assert_eq!(get_count(), (0, 0, 3));
    // Now pending = 3 >= 8 / 4, and count2 = 3 > threshold2: the next
    // automatic collection is a full one.
    disable();
    collect_generation(0);
    collect_generation(0);
    enable();
    log.clear();
    young.extend((0..4).map(|_| Node::new(&tracker)));
    assert_eq!(started(&log), [2]);
    assert_eq!(get_count(), (0, 0, 0));
    drop((old, young));
    tracker.assert_all_dropped_once();
}

/// Leaves, with automatic collection off and thresholds (3, 1, 1): eight
/// objects that survived a full collection (`long_lived_total = 8`), then
/// `promoted` more promoted into generation 2 by gen-1 collections
/// (`long_lived_pending = promoted`), and `count1 = 2 > threshold1`, `count2 =
/// 2 > threshold2`, so that only the long-lived rule decides between gen 1 and
/// gen 2. Returns the long-lived objects and the promoted ones.
fn long_lived_with_promoted(tracker: &Tracker, promoted: usize) -> (Vec<Gc<Node>>, Vec<Gc<Node>>) {
    collect();
    disable();
    let old: Vec<_> = (0..8).map(|_| Node::new(tracker)).collect();
    collect();
    assert_eq!(get_objects(Some(2)).len(), 8);
    set_threshold(3, 1, 1);
    let survivors: Vec<_> = (0..promoted).map(|_| Node::new(tracker)).collect();
    collect_generation(1);
    collect_generation(1);
    collect_generation(0);
    collect_generation(0);
    assert_eq!(get_objects(Some(2)).len(), 8 + promoted);
    assert_eq!(get_count(), (0, 2, 2));
    (old, survivors)
}

#[test]
fn long_lived_rule_needs_a_quarter_of_the_long_lived_total_pending() {
    // Eight objects survived a full collection (long_lived_total = 8); then
    // one or two are promoted into generation 2 by gen-1 collections, which
    // count as pending. CPython skips gen 2 only while pending < total / 4:
    // one survivor is not enough, two (= 8 / 4) are.
    for (promoted, expected) in [(1, 1), (2, 2)] {
        let tracker = Tracker::new();
        let (old, survivors) = long_lived_with_promoted(&tracker, promoted);
        enable();
        let log = CallbackLog::register();
        let young: Vec<_> = (0..4).map(|_| Node::new(&tracker)).collect();
        assert_eq!(
            started(&log),
            [expected],
            "{promoted} of 8 long-lived objects pending"
        );
        drop((log, old, survivors, young));
        tracker.assert_all_dropped_once();
    }
}

#[test]
fn long_lived_rule_subtracts_generation_2_deaths() {
    // A difference from CPython: two objects promoted into generation 2
    // (pending = 2 = 8 / 4) would make the next automatic collection a full
    // one there, as in the test above. Once reference counting has freed
    // them, generation 2 has not grown since the last full collection, so
    // gc-core runs a gen-1 collection instead.
    let tracker = Tracker::new();
    let (old, promoted) = long_lived_with_promoted(&tracker, 2);
    disable();
    drop(promoted);
    assert_eq!(get_objects(Some(2)).len(), 8);
    enable();
    let log = CallbackLog::register();
    let young: Vec<_> = (0..4).map(|_| Node::new(&tracker)).collect();
    assert_eq!(
        started(&log),
        [1],
        "a full collection although generation 2 did not grow"
    );
    drop((log, old, young));
    tracker.assert_all_dropped_once();
}

#[test]
fn collect_generation_above_2_panics() {
    collect();
    let log = CallbackLog::register();
    let message = expect_panic(|| collect_generation(3));
    assert!(
        message.contains("generation must be 0, 1 or 2"),
        "message: {message}"
    );
    let message = expect_panic(|| collect_generation(usize::MAX));
    assert!(
        message.contains("generation must be 0, 1 or 2"),
        "message: {message}"
    );
    // Nothing happened, and the collector still works.
    assert!(log.events().is_empty());
    assert_eq!(get_count(), (0, 0, 0));
    let tracker = Tracker::new();
    drop(ring(&tracker, 2));
    assert_eq!(collect(), 2);
    tracker.assert_all_dropped_once();
}

#[test]
fn get_objects_of_generation_3_panics_clearly() {
    collect();
    let message = expect_panic(|| get_objects(Some(3)));
    assert!(message.contains("generation"), "message: {message}");
    assert!(message.contains("0, 1 or 2"), "message: {message}");
    assert!(get_objects(Some(2)).is_empty());
}

#[test]
fn freeze_and_unfreeze() {
    collect();
    let tracker = Tracker::new();
    let live = Node::new(&tracker);
    let cycle = ring(&tracker, 2);
    let young = Node::new(&tracker);
    collect_generation(0);
    assert_eq!(get_count(), (0, 1, 0));
    let later = Node::new(&tracker);
    assert_eq!(get_count(), (1, 1, 0));
    assert_eq!(get_freeze_count(), 0);
    freeze();
    // Every tracked object, whatever its generation, is frozen; count0 is reset.
    assert_eq!(get_freeze_count(), 5);
    assert_eq!(get_count(), (0, 1, 0));
    assert!(get_objects(None).is_empty());
    for g in 0..3 {
        assert!(get_objects(Some(g)).is_empty());
    }
    assert_eq!(generation_of(&live), None);
    assert!(gc_core::is_tracked(&live));
    // Frozen garbage is not collected.
    drop(cycle);
    assert_eq!(collect(), 0);
    assert_eq!(collect_generation(0), 0);
    assert_eq!(tracker.dropped(), 0);
    // Reference counting still frees frozen objects.
    drop(young);
    assert_eq!(tracker.dropped(), 1);
    assert_eq!(get_freeze_count(), 4);
    // Objects allocated after freeze() are collected as usual.
    drop(ring(&tracker, 3));
    assert_eq!(collect(), 3);
    assert_eq!(get_freeze_count(), 4);
    unfreeze();
    assert_eq!(get_freeze_count(), 0);
    assert_eq!(generation_of(&live), Some(2));
    assert_eq!(generation_of(&later), Some(2));
    assert_eq!(get_objects(Some(2)).len(), 4);
    // Unfrozen garbage is now found, by a full collection only.
    assert_eq!(collect_generation(1), 0);
    assert_eq!(collect(), 2);
    drop((live, later));
    tracker.assert_all_dropped_once();
    assert_eq!(collect(), 0);
}

#[test]
fn frozen_objects_count_as_external_references() {
    collect();
    let tracker = Tracker::new();
    let frozen = Node::new(&tracker);
    freeze();
    let cycle = ring(&tracker, 2);
    Node::link(&frozen, &cycle[0]);
    drop(cycle);
    assert_eq!(collect(), 0);
    assert_eq!(tracker.dropped(), 0);
    // The frozen object dies by reference counting; the pair becomes garbage.
    drop(frozen);
    assert_eq!(get_freeze_count(), 0);
    assert_eq!(collect(), 2);
    tracker.assert_all_dropped_once();
}

#[test]
fn stats_count_collections_and_collected_per_generation() {
    collect();
    let base = get_stats();
    let tracker = Tracker::new();
    drop(ring(&tracker, 2));
    assert_eq!(collect_generation(0), 2);
    drop(ring(&tracker, 3));
    assert_eq!(collect_generation(1), 3);
    drop(ring(&tracker, 4));
    assert_eq!(collect(), 4);
    assert_eq!(collect(), 0);
    let stats = get_stats();
    let delta: Vec<_> = (0..3)
        .map(|g| {
            (
                stats[g].collections - base[g].collections,
                stats[g].collected - base[g].collected,
                stats[g].uncollectable - base[g].uncollectable,
            )
        })
        .collect();
    assert_eq!(delta, [(1, 2, 0), (1, 3, 0), (2, 4, 0)]);
    // Automatic collections count too.
    set_threshold(2, 10, 10);
    let a = Node::new(&tracker);
    let b = Node::new(&tracker);
    let c = Node::new(&tracker);
    assert_eq!(get_stats()[0].collections, stats[0].collections + 1);
    drop((a, b, c));
    tracker.assert_all_dropped_once();
    // A new thread starts from zero.
    let fresh = std::thread::spawn(get_stats).join().unwrap();
    assert_eq!(fresh, [gc_core::GenerationStats::default(); 3]);
    assert_eq!(
        fresh[0],
        gc_core::GenerationStats {
            collections: 0,
            collected: 0,
            uncollectable: 0
        }
    );
}

#[test]
fn callbacks_see_start_and_stop_in_registration_order() {
    collect();
    type Log = Rc<RefCell<Vec<(&'static str, Phase, CollectionInfo)>>>;
    let seen: Log = Rc::default();
    let first = {
        let seen = seen.clone();
        gc_core::add_callback(move |phase, info| seen.borrow_mut().push(("first", phase, *info)))
    };
    let second = {
        let seen = seen.clone();
        gc_core::add_callback(move |phase, info| seen.borrow_mut().push(("second", phase, *info)))
    };
    assert_ne!(first, second);
    let tracker = Tracker::new();
    drop(ring(&tracker, 3));
    assert_eq!(collect_generation(1), 3);
    let start = CollectionInfo {
        generation: 1,
        collected: 0,
        uncollectable: 0,
    };
    let stop = CollectionInfo {
        generation: 1,
        collected: 3,
        uncollectable: 0,
    };
    assert_eq!(
        *seen.borrow(),
        [
            ("first", Phase::Start, start),
            ("second", Phase::Start, start),
            ("first", Phase::Stop, stop),
            ("second", Phase::Stop, stop),
        ]
    );
    seen.borrow_mut().clear();
    assert!(gc_core::remove_callback(first));
    assert!(!gc_core::remove_callback(first), "removed twice");
    assert_eq!(collect(), 0);
    let zero = CollectionInfo {
        generation: 2,
        collected: 0,
        uncollectable: 0,
    };
    assert_eq!(
        *seen.borrow(),
        [
            ("second", Phase::Start, zero),
            ("second", Phase::Stop, zero)
        ]
    );
    assert!(gc_core::remove_callback(second));
    seen.borrow_mut().clear();
    collect();
    assert!(seen.borrow().is_empty());
    tracker.assert_all_dropped_once();
}

#[test]
fn a_callback_calling_collect_gets_zero() {
    collect();
    let tracker = Rc::new(Tracker::new());
    let results: Rc<RefCell<Vec<(Phase, usize, usize)>>> = Rc::default();
    let id = {
        let results = results.clone();
        let tracker = tracker.clone();
        gc_core::add_callback(move |phase, _| {
            if phase == Phase::Stop {
                // Garbage made after the collection is left for the next.
                drop(ring(&tracker, 2));
            }
            let full = collect();
            let young = collect_generation(0);
            results.borrow_mut().push((phase, full, young));
        })
    };
    drop(ring(&tracker, 2));
    assert_eq!(collect(), 2);
    // Called once per phase: the nested collections did not run callbacks.
    assert_eq!(
        *results.borrow(),
        [(Phase::Start, 0, 0), (Phase::Stop, 0, 0)]
    );
    assert!(gc_core::remove_callback(id));
    // The ring made by the callback was left alone.
    assert_eq!(tracker.dropped(), 2);
    assert_eq!(collect(), 2);
    tracker.assert_all_dropped_once();
}

#[test]
fn callback_sees_the_generation_of_automatic_collections() {
    collect();
    set_threshold(4, 1, 100);
    let log = CallbackLog::register();
    let tracker = Tracker::new();
    let nodes: Vec<_> = (0..15).map(|_| Node::new(&tracker)).collect();
    // Every fifth tracked allocation collects; each second one is gen 1.
    assert_eq!(log.started(), [0, 0, 1]);
    assert!(
        log.events()
            .iter()
            .all(|(_, info)| info.collected == 0 && info.uncollectable == 0)
    );
    drop(nodes);
    tracker.assert_all_dropped_once();
}
