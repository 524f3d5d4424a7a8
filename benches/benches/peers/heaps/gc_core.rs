//! gc-core: reference counting plus CPython's generational cycle collector,
//! automatic collection by CPython's thresholds `(700, 10, 10)`.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use gc_core::{CallbackId, Gc, Phase, Trace};

use crate::clock::thread_cpu_time;
use crate::heap::{DropCounter, Heap, PauseRecord, shared_ops};

type Ptr<T> = Gc<T>;
type EdgeCell<T> = RefCell<T>;

/// The list node.
#[derive(Trace)]
pub struct Node {
    next: EdgeCell<Option<Ptr<Node>>>,
    val: u64,
    #[gc(skip)]
    _drops: DropCounter,
}

/// The graph and tree node.
#[derive(Trace)]
pub struct Pair {
    left: EdgeCell<Option<Ptr<Pair>>>,
    right: EdgeCell<Option<Ptr<Pair>>>,
    #[gc(skip)]
    _drops: DropCounter,
}

/// The untracked `u64` (`TRACKED` is false: no field can reach a `Gc`).
#[derive(Trace)]
pub struct Word {
    val: u64,
    #[gc(skip)]
    _drops: DropCounter,
}

/// The pause log of [`Heap::start_pause_log`].
#[derive(Default)]
struct PauseLog {
    /// The callback that fills it, while logging.
    callback: Option<CallbackId>,
    /// The thread's CPU time at the running collection's `Start` callback.
    cpu_at_start: Option<Duration>,
    /// One record per collection, from `last_collection()`.
    records: Vec<PauseRecord>,
}

thread_local! {
    /// This thread's pause log.
    static PAUSE_LOG: RefCell<PauseLog> = const {
        RefCell::new(PauseLog { callback: None, cpu_at_start: None, records: Vec::new() })
    };
}

/// gc-core.
pub struct GcCore;

impl Heap for GcCore {
    const NAME: &'static str = "gc-core";
    const FREES_CYCLES: bool = true;
    const RECURSIVE_DROP: bool = false;
    const RECURSIVE_GARBAGE_WALK: bool = false;
    const RECURSIVE_LIVE_WALK: bool = false;
    const GENERATIONAL: bool = true;

    shared_ops!();

    fn collect() {
        gc_core::collect();
    }

    /// Generation 0 alone (CPython's `gc.collect(0)`).
    fn collect_young() {
        gc_core::collect_generation(0);
    }

    fn set_auto(on: bool) {
        if on {
            gc_core::enable();
        } else {
            gc_core::disable();
        }
    }

    fn stats() -> String {
        let stats = gc_core::get_stats();
        let generations: Vec<String> = stats
            .iter()
            .enumerate()
            .map(|(g, s)| {
                format!(
                    "gen {g}: {} collections, {} collected",
                    s.collections, s.collected
                )
            })
            .collect();
        generations.join("; ")
    }

    /// A `Stop` callback reads `last_collection()`: the exact pause of
    /// every collection, automatic ones included. The thread's CPU clock,
    /// read by the `Start` and `Stop` callbacks, gives the collection's
    /// CPU time besides.
    fn start_pause_log() {
        let callback = gc_core::add_callback(|phase, _| match phase {
            Phase::Start => {
                let cpu = thread_cpu_time();
                PAUSE_LOG.with_borrow_mut(|log| log.cpu_at_start = cpu);
            }
            Phase::Stop => {
                let Some(record) = gc_core::last_collection() else {
                    return;
                };
                let read = Instant::now();
                let cpu_now = thread_cpu_time();
                PAUSE_LOG.with_borrow_mut(|log| {
                    let cpu = match (log.cpu_at_start.take(), cpu_now) {
                        (Some(start), Some(end)) => end.saturating_sub(start),
                        _ => record.duration,
                    };
                    log.records.push(PauseRecord {
                        generation: record.generation,
                        duration: record.duration,
                        cpu,
                        read,
                    });
                });
            }
        });
        PAUSE_LOG.with_borrow_mut(|log| {
            *log = PauseLog {
                callback: Some(callback),
                cpu_at_start: None,
                // Room for every collection of a run, so that the
                // callback's push does not reallocate inside a timed
                // operation.
                records: Vec::with_capacity(1 << 16),
            };
        });
    }

    fn take_pause_log() -> Option<Vec<PauseRecord>> {
        let log = PAUSE_LOG.with_borrow_mut(std::mem::take);
        if let Some(callback) = log.callback {
            gc_core::remove_callback(callback);
        }
        Some(log.records)
    }
}
