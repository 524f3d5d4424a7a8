//! Layer 3: the per-thread heap and its state types, the data as CPython's
//! `pycore_interp_structs.h` holds it (`GCState`): the generations and
//! their statistics ([`generations`]), the settings ([`settings`]), the
//! collection callbacks ([`callbacks`]), the garbage list, the pending
//! panic, heap snapshots' object ids ([`ids`]), and what happens to all of it when the thread exits. Which lists
//! a heap walk covers is decided here, once ([`Lists`]).
//!
//! May call: `layout`, `trace`. Holds values of upper layers only as data
//! (`gc.garbage`'s [`StrongRef`]s, whose `Drop` releases them at thread
//! exit).
//!
//! Two thread-locals hold it. [`LOCAL`] has no destructor, so it can be read
//! at any time, even while other thread-locals are being destroyed; it points
//! at the boxed [`Heap`] and holds the trashcan's state. [`OWNER`] exists only
//! for its destructor, which tears the heap down at thread exit: every object
//! still tracked is unlinked (so later drops never touch the freed list
//! heads), then the heap is freed. Objects that outlive it are freed by
//! reference counting as usual, or leak if they are in cycles; allocations
//! made after it are untracked.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::io::Write;
use std::ptr::{self, NonNull};

use crate::layout::list::forget_links;
use crate::layout::{GcHeader, HeaderPtr, Link, WeakCell, flags, header_ref};
use crate::lifecycle::StrongRef;
use crate::trace::EphemeronTable;

pub(crate) mod callbacks;
pub(crate) mod generations;
pub(crate) mod ids;
pub(crate) mod settings;

pub use callbacks::{CallbackId, CollectionInfo, Phase};
pub(crate) use callbacks::{Callbacks, invoke_callbacks};
pub use generations::{CollectionRecord, GenerationStats, PauseStats};
pub(crate) use generations::{Generation, NUM_GENERATIONS};
pub(crate) use ids::{AddrMap, SnapshotIds, forget_snapshot_id, snapshot_id};
pub use settings::{DebugFlags, FinalizerPolicy};

/// Everything the collector knows about one thread's objects. Accessed only
/// through shared references: every field is a `Cell`/`RefCell`, because
/// user code (a `Drop`, a callback) may re-enter the library while a
/// collection holds a reference to the heap.
pub(crate) struct Heap {
    /// Generations 0, 1 and 2, with thresholds and counts.
    pub(crate) generations: [Generation; 3],
    /// The permanent generation (`freeze`): never examined.
    pub(crate) permanent: Link,
    /// A collection's scratch list of unreachable objects. Empty outside a
    /// collection.
    pub(crate) unreachable: Link,
    /// A collection's scratch list of objects kept because of finalizers
    /// (`Uncollectable` policy), or of objects still unreachable after
    /// finalizers ran (`Finalize` policy). Empty outside a collection.
    pub(crate) finalizers: Link,
    /// Size of generation 2 after the last full collection.
    pub(crate) long_lived_total: Cell<usize>,
    /// Net growth of generation 2 since the last full collection: objects
    /// promoted into it, minus generation-2 objects freed by reference
    /// counting since (CPython counts only the promotions; see
    /// [`Heap::note_long_lived_death`]). Negative when more old objects died
    /// than were promoted.
    pub(crate) long_lived_pending: Cell<isize>,
    /// Automatic collection on/off (`enable`/`disable`).
    pub(crate) enabled: Cell<bool>,
    /// A collection is running: another one is a no-op.
    pub(crate) collecting: Cell<bool>,
    pub(crate) stats: Cell<[GenerationStats; 3]>,
    /// Pause figures per generation (`get_pause_stats`).
    pub(crate) pauses: Cell<[PauseStats; 3]>,
    /// The last collection that ran to its end (`last_collection`).
    pub(crate) last_collection: Cell<Option<CollectionRecord>>,
    pub(crate) callbacks: RefCell<Callbacks>,
    pub(crate) debug: Cell<DebugFlags>,
    /// Where debug lines go; `None` means standard error. Taken out while
    /// it writes, so that it may call `set_debug_writer` itself.
    pub(crate) debug_writer: RefCell<Option<Box<dyn Write>>>,
    /// The running collection's debug lines. They are formatted as the
    /// phases go (no user code runs to format one) and written once the
    /// collection is over, so the writer never runs while the collector
    /// walks a list or while garbage is decided but not yet condemned.
    pub(crate) debug_lines: RefCell<Vec<String>>,
    pub(crate) policy: Cell<FinalizerPolicy>,
    /// `gc.garbage`.
    pub(crate) garbage: RefCell<Vec<StrongRef>>,
    /// The first panic raised by user code (a destructor, finalizer, weak
    /// callback or debug writer) during the running collection, resumed once
    /// the collection is over.
    pub(crate) pending_panic: RefCell<Option<Box<dyn Any + Send>>>,
    /// Weak cells cleared during the running collection whose `Weak` the
    /// garbage owns (`lifecycle::weakrefs::clear_weakrefs`), each with a handle held: their
    /// callbacks are decided when the teardown is over
    /// (`lifecycle::weakrefs::run_trash_callbacks`). Empty outside a collection.
    pub(crate) trash_callbacks: RefCell<Vec<*const WeakCell>>,
    /// `Object` handles beyond the 65,535 a header counts, by object id.
    pub(crate) object_overflow: RefCell<std::collections::HashMap<usize, usize>>,
    /// The ephemeron tables (weak-key maps) whose values the collector
    /// traces itself (`trace::EphemeronTable`). A table is listed from the
    /// first time its map is traced until the map is dropped; its `slot` is
    /// its index here.
    pub(crate) tables: RefCell<Vec<NonNull<EphemeronTable>>>,
    /// Numbers the passes over the tables (a collection, its PEP 442
    /// re-check, a tools' counting pass), so that a table's and an entry's
    /// marks need no clearing: a mark is valid for the pass it names.
    pub(crate) table_epoch: Cell<u64>,
    /// Heap snapshots' object ids, by address ([`ids`]).
    pub(crate) snapshot_ids: SnapshotIds,
}

/// Which of the heap's lists a walk covers (see [`Heap::lists`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lists {
    /// Generations 0-2: what `get_objects`, `get_referrers` and the
    /// objgraph tools show (CPython's `gc.get_objects()`).
    Generations,
    /// The generations and the permanent generation (`freeze`): every
    /// tracked object no collection is examining, so every object whose
    /// references count when deciding roots.
    Tracked,
    /// Every list an object can be on, including a running collection's
    /// scratch lists (`unreachable`, `finalizers`): for counting referrers
    /// from inside a collection, and for thread exit.
    All,
}

impl Heap {
    /// A heap whose list heads are not yet initialised: call
    /// [`Heap::init_heads`] once it has its final address.
    fn new() -> Box<Heap> {
        Box::new(Heap {
            generations: [
                Generation::new(700),
                Generation::new(10),
                Generation::new(10),
            ],
            permanent: Link::detached(),
            unreachable: Link::detached(),
            finalizers: Link::detached(),
            long_lived_total: Cell::new(0),
            long_lived_pending: Cell::new(0),
            enabled: Cell::new(true),
            collecting: Cell::new(false),
            stats: Cell::new([GenerationStats::default(); 3]),
            pauses: Cell::new([PauseStats::default(); 3]),
            last_collection: Cell::new(None),
            callbacks: RefCell::new(Callbacks::default()),
            debug: Cell::new(DebugFlags::empty()),
            debug_writer: RefCell::new(None),
            debug_lines: RefCell::new(Vec::new()),
            policy: Cell::new(FinalizerPolicy::Uncollectable),
            garbage: RefCell::new(Vec::new()),
            pending_panic: RefCell::new(None),
            trash_callbacks: RefCell::new(Vec::new()),
            object_overflow: RefCell::new(std::collections::HashMap::new()),
            tables: RefCell::new(Vec::new()),
            table_epoch: Cell::new(0),
            snapshot_ids: SnapshotIds::new(),
        })
    }

    /// Makes every list head an empty list. The heads point at themselves,
    /// so this runs after the box is turned into a raw pointer (moving the
    /// `Box` afterwards would invalidate those pointers).
    fn init_heads(&self) {
        for list in self.lists(Lists::All) {
            list.init_head();
        }
    }

    /// The lists a walk of `which` covers, in a fixed order: generations
    /// 0-2, then the permanent generation, then a collection's scratch
    /// lists. The one place that decides it.
    pub(crate) fn lists(&self, which: Lists) -> impl Iterator<Item = &Link> {
        let all = [
            &self.generations[0].head,
            &self.generations[1].head,
            &self.generations[2].head,
            &self.permanent,
            &self.unreachable,
            &self.finalizers,
        ];
        let len = match which {
            Lists::Generations => NUM_GENERATIONS,
            Lists::Tracked => NUM_GENERATIONS + 1,
            Lists::All => all.len(),
        };
        all.into_iter().take(len)
    }

    /// Calls `f` on every object of the lists `which` covers, with its
    /// header. `f` must not unlink the object it is given.
    pub(crate) fn for_each(&self, which: Lists, mut f: impl FnMut(HeaderPtr, &GcHeader)) {
        for list in self.lists(which) {
            for h in list.iter() {
                // SAFETY: objects on a list are allocated.
                f(h, unsafe { header_ref(h) });
            }
        }
    }

    /// Lists `table` in the registry, if it is not listed yet. The pointer
    /// is derived from the table's whole allocation, which the collector
    /// reads through it.
    pub(crate) fn register_table(&self, table: NonNull<EphemeronTable>) {
        // SAFETY: the caller's table is live.
        let head = unsafe { table.as_ref() };
        if head.is_registered() {
            return;
        }
        let mut tables = self.tables.borrow_mut();
        head.slot.set(tables.len());
        tables.push(table);
    }

    /// Unlists `table` (its map is being dropped).
    pub(crate) fn deregister_table(&self, table: &EphemeronTable) {
        let slot = table.slot.replace(usize::MAX);
        if slot == usize::MAX {
            return;
        }
        let mut tables = self.tables.borrow_mut();
        debug_assert!(std::ptr::eq(tables[slot].as_ptr(), table));
        tables.swap_remove(slot);
        if let Some(moved) = tables.get(slot) {
            // SAFETY: listed tables are live (a map unlists its table before
            // freeing it).
            unsafe { moved.as_ref() }.slot.set(slot);
        }
    }

    /// The table at `slot`, if any. Callers walk the registry by index,
    /// re-reading it each time, because tracing a table's values may list
    /// another table.
    pub(crate) fn table(&self, slot: usize) -> Option<NonNull<EphemeronTable>> {
        self.tables.borrow().get(slot).copied()
    }

    /// Starts a new pass over the tables and returns its number.
    pub(crate) fn begin_table_pass(&self) -> u64 {
        let epoch = self.table_epoch.get() + 1;
        self.table_epoch.set(epoch);
        epoch
    }

    /// Keeps the first panic of a collection; later ones are dropped with
    /// [`drop_payload`]. Never unwinds: the collector calls it where an
    /// unwind would leave objects half torn down.
    pub(crate) fn note_panic(&self, payload: Box<dyn Any + Send>) {
        let mut pending = self.pending_panic.borrow_mut();
        if pending.is_none() {
            *pending = Some(payload);
        } else {
            drop(pending);
            drop_payload(payload);
        }
    }

    /// Drops the panic kept by [`Heap::note_panic`], if any, without
    /// resuming it (a collection that unwinds for another reason).
    pub(crate) fn discard_panic(&self) {
        let pending = self.pending_panic.borrow_mut().take();
        if let Some(payload) = pending {
            drop_payload(payload);
        }
    }

    /// Runs `f`, catching a panic into [`Heap::note_panic`].
    pub(crate) fn catching(&self, f: impl FnOnce()) {
        if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            self.note_panic(payload);
        }
    }

    /// A tracked object was freed: CPython decrements count0 if positive.
    #[inline]
    pub(crate) fn note_deallocation(&self) {
        let count = &self.generations[0].count;
        count.set(count.get().saturating_sub(1));
    }

    /// A generation-2 object died by reference counting: generation 2 grew
    /// by one object less since the last full collection.
    ///
    /// A deliberate difference from CPython, whose `long_lived_pending`
    /// counts promotions only. There, a program that keeps promoting
    /// short-lived objects which then die by reference counting (the
    /// Benchmarks Game's `binary_trees`: each tree lives through a few
    /// young collections) reaches a quarter of the long-lived total again
    /// and again, and runs a full collection over a heap that has not
    /// grown. Counting net growth keeps what the rule is for, full
    /// collections amortised over a 25% growth of the old heap, and makes
    /// that program 10x faster.
    #[inline]
    pub(crate) fn note_long_lived_death(&self) {
        self.long_lived_pending
            .set(self.long_lived_pending.get() - 1);
    }

    /// Unlinks every object from every list, without touching list heads
    /// again. Used at thread exit only.
    fn untrack_all(&self) {
        for list in self.lists(Lists::All) {
            let mut node = list.first();
            while let Some(h) = node {
                // SAFETY: `h` is on `list`; the successor is read before the
                // links are cleared.
                node = unsafe { list.next_of(h) };
                // SAFETY: objects on a list are allocated.
                unsafe { header_ref(h) }.clear(flags::TRACKED);
                // SAFETY: as above, with a link.
                unsafe { forget_links(h) };
            }
            list.init_head();
        }
    }
}

/// Counts a new `Object` handle to `h` (see `GcHeader::objects`). The
/// header's count saturates and the excess goes to the heap's side table,
/// whose count aborts on overflow, as `Rc`'s counts do.
pub(crate) fn count_object(h: HeaderPtr) {
    // SAFETY: the caller holds a strong handle.
    if !unsafe { header_ref(h) }.inc_objects()
        && let Some(heap) = heap()
    {
        let mut overflow = heap.object_overflow.borrow_mut();
        let count = overflow.entry(h.as_ptr().addr()).or_insert(0);
        *count = count
            .checked_add(1)
            .unwrap_or_else(|| std::process::abort());
    }
}

/// Uncounts an `Object` handle to `h`.
pub(crate) fn uncount_object(h: HeaderPtr) {
    // SAFETY: the caller still holds a strong handle.
    let header = unsafe { header_ref(h) };
    if header.objects() == u16::MAX
        && let Some(heap) = heap()
    {
        let mut overflow = heap.object_overflow.borrow_mut();
        if let Some(n) = overflow.get_mut(&h.as_ptr().addr()) {
            *n -= 1;
            if *n == 0 {
                overflow.remove(&h.as_ptr().addr());
            }
            return;
        }
    }
    header.dec_objects();
}

/// Number of live `Object` handles to `h`.
pub(crate) fn object_handles(h: HeaderPtr) -> usize {
    // SAFETY: the caller keeps the box allocated.
    let counted = usize::from(unsafe { header_ref(h) }.objects());
    if counted < usize::from(u16::MAX) {
        return counted;
    }
    let extra = heap().map_or(0, |heap| {
        heap.object_overflow
            .borrow()
            .get(&h.as_ptr().addr())
            .copied()
            .unwrap_or(0)
    });
    counted + extra
}

/// Drops a panic payload without unwinding. A payload is user data: its own
/// `Drop` may panic (`panic_any(Bomb)` where `Bomb::drop` panics), and that
/// panic's payload may do the same, without end. Each such panic is caught
/// and its payload dropped in turn, up to [`PAYLOAD_DROP_ATTEMPTS`] levels;
/// past that the last payload is leaked (std's runtime likewise gives up on
/// a payload whose drop panics), which bounds the work.
pub(crate) fn drop_payload(payload: Box<dyn Any + Send>) {
    let mut payload = payload;
    for _ in 0..PAYLOAD_DROP_ATTEMPTS {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(payload))) {
            Ok(()) => return,
            Err(inner) => payload = inner,
        }
    }
    std::mem::forget(payload);
}

/// How many nested panicking payload drops [`drop_payload`] follows.
const PAYLOAD_DROP_ATTEMPTS: usize = 8;

/// State readable at any time, even during thread teardown: it has no
/// destructor.
pub(crate) struct Local {
    heap: Cell<*const Heap>,
    /// The heap was torn down (or could not be created because the thread
    /// is exiting): allocations are untracked from now on.
    torn_down: Cell<bool>,
    /// Trashcan: nesting depth of value drops.
    pub(crate) drop_depth: Cell<u32>,
    /// Trashcan: objects whose drop was deferred (all `DEEP_DROP`, so with
    /// a link), linked through their (unused) `link.next`.
    pub(crate) deferred: Cell<Option<HeaderPtr>>,
    /// Weak cells holding a callback that has not run.
    pub(crate) callback_cells: Cell<usize>,
    /// Weak cells ever created (wrapping).
    pub(crate) weak_cells_created: Cell<u64>,
    /// Weak cells currently allocated.
    pub(crate) weak_cells_live: Cell<usize>,
    /// Objects whose type has a finalizer that has not run yet.
    pub(crate) pending_finalizers: Cell<usize>,
    /// The running collection's trash epoch (`lifecycle::weakrefs::begin_trash_epoch`);
    /// 0 when no collection is running.
    pub(crate) trash_epoch: Cell<u64>,
    /// The last trash epoch begun on this thread.
    pub(crate) trash_epochs: Cell<u64>,
}

thread_local! {
    pub(crate) static LOCAL: Local = const {
        Local {
            heap: Cell::new(ptr::null()),
            torn_down: Cell::new(false),
            drop_depth: Cell::new(0),
            deferred: Cell::new(None),
            callback_cells: Cell::new(0),
            weak_cells_created: Cell::new(0),
            weak_cells_live: Cell::new(0),
            pending_finalizers: Cell::new(0),
            trash_epoch: Cell::new(0),
            trash_epochs: Cell::new(0),
        }
    };
    static OWNER: HeapOwner = const { HeapOwner };
}

/// Tears the heap down when the thread exits.
struct HeapOwner;

impl Drop for HeapOwner {
    fn drop(&mut self) {
        let heap = LOCAL.with(|l| {
            l.torn_down.set(true);
            l.heap.replace(ptr::null())
        });
        if heap.is_null() {
            return;
        }
        // SAFETY: the pointer came from `Box::into_raw` in `heap_slow` and is
        // dropped only here, once: `LOCAL.heap` no longer hands it out.
        let heap = unsafe { Box::from_raw(heap.cast_mut()) };
        heap.untrack_all();
        // Dropping the heap may run user code (callbacks' captures); it sees
        // a torn-down heap and untracked objects.
        drop(heap);
    }
}

/// This thread's heap, created on first use. `None` once the thread is
/// exiting.
///
/// The reference is valid until the thread's teardown, which cannot start
/// while any library code is on this thread's stack.
#[inline]
pub(crate) fn heap() -> Option<&'static Heap> {
    let heap = LOCAL.with(|l| l.heap.get());
    if heap.is_null() {
        return heap_slow();
    }
    // SAFETY: a non-null pointer in `LOCAL.heap` is a live boxed heap (it is
    // nulled before the box is freed).
    Some(unsafe { &*heap })
}

#[cold]
fn heap_slow() -> Option<&'static Heap> {
    if LOCAL.with(|l| l.torn_down.get()) {
        return None;
    }
    // Registering the owner's destructor fails once thread-local destruction
    // has begun; a heap created then would never be torn down.
    if OWNER.try_with(|_| ()).is_err() {
        LOCAL.with(|l| l.torn_down.set(true));
        return None;
    }
    let heap = Box::into_raw(Heap::new()).cast_const();
    // SAFETY: just created; freed only by `HeapOwner::drop`.
    let heap_ref = unsafe { &*heap };
    heap_ref.init_heads();
    LOCAL.with(|l| l.heap.set(heap));
    Some(heap_ref)
}
