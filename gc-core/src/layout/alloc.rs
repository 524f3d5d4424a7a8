//! The allocation seam: every box is allocated and freed here (CPython's
//! `PyObject_Malloc`/`PyObject_Free`), by a per-thread pool allocator for
//! small boxes (pymalloc, CPython's "layer 2") and the system allocator for
//! the rest.
//!
//! # Pools
//!
//! Boxes up to [`MAX_POOLED`] bytes with an alignment up to [`MAX_ALIGN`]
//! are rounded up to a *size class* (a multiple of [`GRAIN`], 8 bytes, or
//! of 16 for a box aligned to 16, whose class's blocks are then all
//! 16-aligned) and carved out of
//! *pools*: [`POOL_SIZE`]-byte blocks of memory aligned to their size, each
//! serving one class. A block's pool is found by masking its address, so
//! nothing per object records where it came from.
//!
//! Each pool keeps a free list of the blocks freed in it, a bump offset for
//! the blocks never used yet, and a count of blocks in use. As in pymalloc,
//! each class has a list of *used pools* (those with room): allocation pops
//! a free block of the first one, and a pool that fills up leaves the list;
//! a free into a full pool puts it back at the front.
//!
//! Pools are cut from *arenas*, [`ARENA_SIZE`]-byte mappings from the
//! system (64 pools; `layout::os`). Unlike pymalloc, memory goes back:
//!
//! - a pool whose last block is freed leaves its class at once, except the
//!   one pool a class keeps while it is the class's only pool (so that
//!   allocating and freeing one object in a loop does not take a pool each
//!   time);
//! - a free pool stays resident ("dirty") for reuse, and the next pool is
//!   taken from resident memory first, so freeing a large structure and
//!   building the next one costs no page faults;
//! - once more than [`DIRTY_MIN`] pools have been free for [`PURGE_DELAY`],
//!   the next pool freed hands all their pages back to the system
//!   (`madvise`), so resident memory follows the live objects pool by
//!   pool, even in an arena that still has live pools; an arena whose pools
//!   are all free is then unmapped, except one spare per thread (the delay
//!   is jemalloc's and mimalloc's answer to the same trade-off; as in them,
//!   a thread that stops freeing altogether keeps what it has until it
//!   exits).
//!
//! CPython keeps every arena that has one live object in any of its pools,
//! with all its pages, and keeps empty pools; its resident set stays at the
//! peak after a large structure is freed. Here it returns to within a few
//! percent of where it started once the program goes on allocating and
//! freeing for [`PURGE_DELAY`] (`benches/README.md`).
//!
//! # Threads
//!
//! The pools are per thread and need no atomics: `Gc` is neither `Send` nor
//! `Sync`, so a box is freed on the thread that allocated it. The state is a
//! `const`-initialised thread-local without a destructor, so the hot path is
//! a plain thread-local access, and it stays usable while other thread-local
//! destructors run at thread exit (the heap's own frees boxes then). A
//! second thread-local, registered when a thread makes its first pool, frees
//! the pools kept for reuse when the thread exits, and from then on every
//! pool is freed as soon as it is empty.
//!
//! # Invariants
//!
//! - A pool is in its class's used list exactly when it has a free or
//!   never-used block: `used < capacity`.
//! - An arena is in the thread's usable list exactly when it has a free
//!   pool and is not the spare; its `dirty` bits are a subset of its `free`
//!   bits, and the thread's `dirty` count is their total over its arenas.
//! - `used` counts the blocks handed out and not freed; a pool with
//!   `used == 0` is either freed or the kept one (the only pool of its
//!   class, and not after thread exit started).
//! - Every block on a pool's free list lies inside the pool, below `fresh`,
//!   at a multiple of the class size from the first block.

use std::alloc::{Layout, alloc, dealloc, handle_alloc_error};

use super::os;
use std::cell::Cell;
use std::ptr::{self, NonNull};
use std::time::{Duration, Instant};

/// The size classes' step. pymalloc's is 16 (since 3.8, so that every
/// block is aligned as `malloc`'s are); here each box's alignment is known,
/// so a class only needs the alignment of the boxes it serves, and a
/// tracked object of 56 bytes (the 32-byte header and a 24-byte value)
/// takes 56 bytes, not 64.
pub(crate) const GRAIN: usize = 8;

/// The largest alignment a pooled box may need. A class whose size is a
/// multiple of 16 has 16-aligned blocks (pools and their first block are
/// 16-aligned); boxes aligned to 16 only use those classes.
pub(crate) const MAX_ALIGN: usize = 16;

/// The largest box served from pools; larger ones go to the system
/// allocator (pymalloc's `SMALL_REQUEST_THRESHOLD`).
pub(crate) const MAX_POOLED: usize = 512;

/// Number of size classes: 8, 16, 24, ..., 512 bytes.
const CLASSES: usize = MAX_POOLED / GRAIN;

/// A pool's size, and its alignment (pymalloc's 3.10+ `POOL_SIZE`).
pub(crate) const POOL_SIZE: usize = 16 * 1024;

/// An arena's size: the unit mapped from the system (pymalloc's 3.10+
/// `ARENA_SIZE`), 64 pools.
const ARENA_SIZE: usize = 1024 * 1024;

/// Free pools a thread keeps resident for reuse however long they wait.
const DIRTY_MIN: usize = 4;

/// How long more free pools wait, resident, before the next free hands them
/// back to the system: long enough that freeing a large structure and
/// building the next one reuses the memory without page faults, short
/// enough that a program that goes on running gets its memory back.
const PURGE_DELAY: Duration = Duration::from_millis(200);

/// Where a pool's first block starts: after its header, on a cache line.
const FIRST_BLOCK: usize = 64;

/// A pool's header, at the start of its memory.
#[repr(C)]
struct Pool {
    /// The blocks freed in this pool, each holding the next (null: none).
    free: Cell<*mut FreeBlock>,
    /// Offset of the first block never handed out.
    fresh: Cell<usize>,
    /// Blocks handed out and not freed.
    used: Cell<usize>,
    /// The block size.
    size: usize,
    /// Neighbours in the class's used list (null at the ends).
    prev: Cell<*mut Pool>,
    next: Cell<*mut Pool>,
    /// The arena the pool lies in.
    arena: *mut Arena,
}

/// An arena: [`ARENA_SIZE`] bytes mapped from the system, cut into pools
/// aligned to [`POOL_SIZE`] (63 or 64 of them, as the mapping's start
/// falls). Its bookkeeping lives outside it, in a `Box`, so that handing a
/// free pool's pages back loses nothing.
struct Arena {
    /// The mapping.
    base: NonNull<u8>,
    /// The first pool.
    first: *mut u8,
    /// Pools that fit.
    pools: u32,
    /// Bit `i`: pool `i` is free.
    free: Cell<u64>,
    /// Bit `i`: pool `i` is free and still resident (not handed back).
    dirty: Cell<u64>,
    /// Neighbours in the thread's list of arenas with a free pool.
    prev: Cell<*mut Arena>,
    next: Cell<*mut Arena>,
}

impl Arena {
    /// The bits of every pool.
    fn all(&self) -> u64 {
        if self.pools == 64 {
            u64::MAX
        } else {
            (1 << self.pools) - 1
        }
    }
}

const _: () = assert!(size_of::<Pool>() <= FIRST_BLOCK && FIRST_BLOCK.is_multiple_of(MAX_ALIGN));

/// A free block: the link of its pool's free list.
struct FreeBlock {
    next: *mut FreeBlock,
}

/// One thread's pools.
struct Pools {
    /// Per class, the first pool with room (the used list's head).
    used: [Cell<*mut Pool>; CLASSES],
    /// Arenas with a free pool (`usable_arenas`).
    arenas: Cell<*mut Arena>,
    /// An arena with every pool free, kept for reuse with its pages handed
    /// back (null: none).
    spare: Cell<*mut Arena>,
    /// Free pools still resident, in all arenas.
    dirty: Cell<usize>,
    /// When the dirty pools first outnumbered [`DIRTY_MIN`] since the last
    /// [`purge`].
    dirty_since: Cell<Option<Instant>>,
    /// Set once the thread's exit started: empty pools are freed at once.
    exiting: Cell<bool>,
    /// Whether [`EXIT`] was registered for this thread.
    exit_registered: Cell<bool>,
}

thread_local! {
    /// The hot path's state: no destructor, so no lazy registration and no
    /// "destroyed" state; usable by every other thread-local destructor.
    static POOLS: Pools = const {
        Pools {
            used: [const { Cell::new(ptr::null_mut()) }; CLASSES],
            arenas: Cell::new(ptr::null_mut()),
            spare: Cell::new(ptr::null_mut()),
            dirty: Cell::new(0),
            dirty_since: Cell::new(None),
            exiting: Cell::new(false),
            exit_registered: Cell::new(false),
        }
    };

    /// Frees the kept pools when the thread exits (see the module docs).
    static EXIT: PoolsExit = const { PoolsExit };
}

/// The thread-exit hook of [`POOLS`].
struct PoolsExit;

impl Drop for PoolsExit {
    fn drop(&mut self) {
        // `POOLS` has no destructor, so it is still accessible here.
        let _ = POOLS.try_with(|pools| {
            pools.exiting.set(true);
            purge(pools);
            for head in &pools.used {
                let pool = head.get();
                // SAFETY: a pool in a used list is allocated (invariant).
                if !pool.is_null() && unsafe { (*pool).used.get() } == 0 {
                    // SAFETY: an empty pool holds no live block, and it is
                    // the only pool of its class (only such a pool is kept).
                    unsafe {
                        unlink(head, pool);
                        release_pool(pools, pool);
                    }
                }
            }
            let spare = pools.spare.replace(ptr::null_mut());
            if !spare.is_null() {
                // SAFETY: the spare arena has no pool in use and is in no
                // list.
                unsafe { unmap_arena(pools, spare) };
            }
        });
    }
}

/// The size class of a box of `layout`, if it is pooled.
#[inline(always)]
fn class_of(layout: Layout) -> Option<usize> {
    if layout.size() > MAX_POOLED || layout.align() > MAX_ALIGN {
        return None;
    }
    let size = if layout.align() > GRAIN {
        layout.size().next_multiple_of(MAX_ALIGN)
    } else {
        layout.size()
    };
    Some((size.max(1) - 1) / GRAIN)
}

/// This thread's pools. The closure given to `with` only takes the
/// address, so `with` inlines to a plain thread-local access; with the
/// pool work inside it, `with` stayed out of line and reached the
/// thread-local through a function pointer (a quarter of a tracked
/// allocate-and-free, measured with `perf`).
#[inline(always)]
fn pools() -> &'static Pools {
    let pools = POOLS.with(std::ptr::from_ref);
    // SAFETY: `POOLS` is `const`-initialised and has no destructor, so its
    // storage stays valid (and is never moved) for as long as the thread
    // runs; the reference is used on this thread only (`Pools` is not
    // `Sync`) and every field is a `Cell`.
    unsafe { &*pools }
}

/// Allocates memory for one box of `layout` (never zero-sized: every box has
/// a header). Aborts through `handle_alloc_error` when memory runs out.
#[inline]
pub(crate) fn allocate(layout: Layout) -> NonNull<u8> {
    debug_assert!(layout.size() > 0);
    match class_of(layout) {
        Some(class) => pool_allocate(pools(), class, layout),
        None => system_allocate(layout),
    }
}

/// Frees a box.
///
/// # Safety
///
/// `ptr` was returned by [`allocate`] on this thread with the same `layout`
/// and is not used afterwards.
#[inline]
pub(crate) unsafe fn deallocate(ptr: NonNull<u8>, layout: Layout) {
    match class_of(layout) {
        // SAFETY: forwarded from the caller; the block is a pooled one, as
        // `allocate` chose the same way for the same layout.
        Some(class) => unsafe { pool_free(pools(), class, ptr) },
        // SAFETY: forwarded from the caller.
        None => unsafe { dealloc(ptr.as_ptr(), layout) },
    }
}

#[inline]
fn system_allocate(layout: Layout) -> NonNull<u8> {
    // SAFETY: `layout` has a non-zero size (every box holds a header).
    let ptr = unsafe { alloc(layout) };
    match NonNull::new(ptr) {
        Some(p) => p,
        None => handle_alloc_error(layout),
    }
}

/// A block of `class` from the class's first pool with room, or from a new
/// pool.
#[inline(always)]
fn pool_allocate(pools: &Pools, class: usize, layout: Layout) -> NonNull<u8> {
    let head = &pools.used[class];
    let mut pool = head.get();
    if pool.is_null() {
        pool = new_pool(pools, class, layout);
    }
    // SAFETY: a pool in a used list is allocated and has room (invariant).
    let p = unsafe { &*pool };
    let block = p.free.get();
    let out = if block.is_null() {
        let offset = p.fresh.get();
        p.fresh.set(offset + p.size);
        // SAFETY: `offset + size <= POOL_SIZE`, as the pool has room and
        // its free list is empty.
        unsafe { pool.cast::<u8>().add(offset) }
    } else {
        // SAFETY: a block on the free list is a free block of this pool,
        // whose first word was written by `pool_free`.
        p.free.set(unsafe { (*block).next });
        block.cast::<u8>()
    };
    let used = p.used.get() + 1;
    p.used.set(used);
    if p.free.get().is_null() && p.fresh.get() + p.size > POOL_SIZE {
        // Full: it leaves the used list.
        // SAFETY: `pool` is the head of this class's list.
        unsafe { unlink(head, pool) };
    }
    // SAFETY: inside an allocated pool, so not null.
    unsafe { NonNull::new_unchecked(out) }
}

/// Returns `block` to its pool; frees the pool if it is now empty, unless
/// it is its class's only pool.
///
/// # Safety
///
/// `block` was handed out by [`pool_allocate`] for `class` on this thread
/// and not freed since.
#[inline(always)]
unsafe fn pool_free(pools: &Pools, class: usize, block: NonNull<u8>) {
    let pool = block
        .as_ptr()
        .map_addr(|a| a & !(POOL_SIZE - 1))
        .cast::<Pool>();
    // SAFETY: the block lies in a live pool, which starts at the block's
    // address rounded down to the pool size (pools are aligned to it).
    let p = unsafe { &*pool };
    debug_assert_eq!(p.size, (class + 1) * GRAIN);
    let head = &pools.used[class];
    let was_full = p.free.get().is_null() && p.fresh.get() + p.size > POOL_SIZE;
    let free = block.as_ptr().cast::<FreeBlock>();
    // SAFETY: the block is free from now on, at least 8 bytes long and
    // aligned to 8: room for the link.
    unsafe { free.write(FreeBlock { next: p.free.get() }) };
    p.free.set(free);
    let used = p.used.get() - 1;
    p.used.set(used);
    if was_full {
        // SAFETY: a full pool is in no list.
        unsafe { push_front(head, pool) };
    }
    if used == 0 {
        let only = head.get() == pool && p.next.get().is_null();
        if !only || pools.exiting.get() {
            // SAFETY: the pool is in the list (it has room) and holds no
            // live block.
            unsafe {
                unlink(head, pool);
                release_pool(pools, pool);
            }
        }
    }
}

/// A new, empty pool for `class`, pushed onto the class's used list.
#[cold]
#[inline(never)]
fn new_pool(pools: &Pools, class: usize, layout: Layout) -> *mut Pool {
    if !pools.exit_registered.get() {
        pools.exit_registered.set(true);
        // Registers the exit hook (a no-op once the thread is exiting).
        let _ = EXIT.try_with(|_| {});
    }
    let (memory, arena) = take_pool(pools);
    let pool = memory.cast::<Pool>();
    let size = (class + 1) * GRAIN;
    debug_assert!(layout.size() <= size);
    // SAFETY: fresh memory of `POOL_SIZE` bytes, aligned for a `Pool`.
    unsafe {
        pool.write(Pool {
            free: Cell::new(ptr::null_mut()),
            fresh: Cell::new(FIRST_BLOCK),
            used: Cell::new(0),
            size,
            prev: Cell::new(ptr::null_mut()),
            next: Cell::new(ptr::null_mut()),
            arena,
        });
        push_front(&pools.used[class], pool);
    }
    pool
}

/// A free pool's memory and its arena: a resident free pool if there is
/// one, else a free pool of the first usable arena, else one of a new arena
/// (the spare, or a new mapping).
fn take_pool(pools: &Pools) -> (*mut u8, *mut Arena) {
    let mut arena = pools.arenas.get();
    if arena.is_null() {
        arena = pools.spare.replace(ptr::null_mut());
        if arena.is_null() {
            arena = map_arena();
        }
        // SAFETY: an arena in no list.
        unsafe { push_front(&pools.arenas, arena) };
    }
    // SAFETY: an arena in the usable list is allocated.
    if unsafe { (*arena).dirty.get() } == 0 && pools.dirty.get() != 0 {
        // Resident pools first: find an arena that has some (freeing moves
        // an arena to the front, so this runs once the front one ran out).
        let mut found = arena;
        // SAFETY: arenas in the usable list are allocated; one of them has a
        // dirty pool (the count is theirs).
        unsafe {
            while (*found).dirty.get() == 0 {
                found = (*found).next.get();
            }
            unlink(&pools.arenas, found);
            push_front(&pools.arenas, found);
        }
        arena = found;
    }
    // SAFETY: an arena in the usable list is allocated and has a free pool.
    let a = unsafe { &*arena };
    let dirty = a.dirty.get();
    let i = if dirty != 0 {
        pools.dirty.set(pools.dirty.get() - 1);
        dirty.trailing_zeros()
    } else {
        a.free.get().trailing_zeros()
    };
    let bit = 1u64 << i;
    a.dirty.set(dirty & !bit);
    a.free.set(a.free.get() & !bit);
    if a.free.get() == 0 {
        // SAFETY: in the usable list.
        unsafe { unlink(&pools.arenas, arena) };
    }
    // SAFETY: pool `i < pools` lies inside the mapping.
    (unsafe { a.first.add(i as usize * POOL_SIZE) }, arena)
}

/// Returns an empty pool to its arena, resident ("dirty") for reuse; hands
/// the thread's dirty pools back once they have waited [`PURGE_DELAY`]
/// ([`purge`]), or at once when the thread is exiting.
///
/// # Safety
///
/// `pool` is allocated, in no list, and holds no live block.
unsafe fn release_pool(pools: &Pools, pool: *mut Pool) {
    // SAFETY: the pool's header is initialised (caller).
    let arena = unsafe { (*pool).arena };
    // SAFETY: the arena of a live pool is allocated.
    let a = unsafe { &*arena };
    let i = (pool.addr() - a.first.addr()) / POOL_SIZE;
    let bit = 1u64 << i;
    let was_full = a.free.get() == 0;
    a.free.set(a.free.get() | bit);
    a.dirty.set(a.dirty.get() | bit);
    pools.dirty.set(pools.dirty.get() + 1);
    // The arena goes to the front of the usable list, so that the next pool
    // is taken from resident memory.
    if !was_full {
        // SAFETY: it had a free pool, so it is in the usable list.
        unsafe { unlink(&pools.arenas, arena) };
    }
    // SAFETY: in no list now.
    unsafe { push_front(&pools.arenas, arena) };
    if pools.exiting.get() {
        purge(pools);
    } else if pools.dirty.get() > DIRTY_MIN {
        match pools.dirty_since.get() {
            None => pools.dirty_since.set(Some(Instant::now())),
            Some(since) if since.elapsed() >= PURGE_DELAY => purge(pools),
            Some(_) => {}
        }
    }
}

/// Hands the pages of every dirty pool back to the system, and unmaps each
/// arena left with every pool free, but one, kept as the spare (none once
/// the thread is exiting).
fn purge(pools: &Pools) {
    let mut arena = pools.arenas.get();
    while !arena.is_null() {
        // SAFETY: arenas in the usable list are allocated.
        let a = unsafe { &*arena };
        let next = a.next.get();
        let mut dirty = a.dirty.replace(0);
        while dirty != 0 {
            let j = dirty.trailing_zeros() as usize;
            dirty &= dirty - 1;
            // SAFETY: pool `j` of the arena is free: no live block.
            unsafe {
                os::decommit(
                    NonNull::new_unchecked(a.first.add(j * POOL_SIZE)),
                    POOL_SIZE,
                );
            }
        }
        if a.free.get() == a.all() {
            // SAFETY: in the usable list; every pool free.
            unsafe { unlink(&pools.arenas, arena) };
            if pools.spare.get().is_null() && !pools.exiting.get() {
                pools.spare.set(arena);
            } else {
                // SAFETY: every pool free, in no list, none dirty.
                unsafe { unmap_arena(pools, arena) };
            }
        }
        arena = next;
    }
    pools.dirty.set(0);
    pools.dirty_since.set(None);
}

/// A new arena, mapped from the system, every pool free and none resident.
#[cold]
fn map_arena() -> *mut Arena {
    let layout = Layout::from_size_align(ARENA_SIZE, os::FALLBACK_ALIGN).expect("arena layout");
    let Some(base) = os::map(ARENA_SIZE) else {
        handle_alloc_error(layout)
    };
    let first = base
        .as_ptr()
        .map_addr(|addr| addr.next_multiple_of(POOL_SIZE));
    let pools = ((base.as_ptr().addr() + ARENA_SIZE - first.addr()) / POOL_SIZE) as u32;
    let arena = Arena {
        base,
        first,
        pools,
        free: Cell::new(0),
        dirty: Cell::new(0),
        prev: Cell::new(ptr::null_mut()),
        next: Cell::new(ptr::null_mut()),
    };
    arena.free.set(arena.all());
    Box::into_raw(Box::new(arena))
}

/// Unmaps an arena and frees its bookkeeping; its resident free pools no
/// longer count.
///
/// # Safety
///
/// `arena` has every pool free and is in no list.
unsafe fn unmap_arena(pools: &Pools, arena: *mut Arena) {
    // SAFETY: made by `map_arena`'s `Box`, never freed before (caller).
    let a = unsafe { Box::from_raw(arena) };
    let dirty = a.dirty.get().count_ones() as usize;
    pools.dirty.set(pools.dirty.get() - dirty);
    // SAFETY: the mapping of `map_arena`, no pool in use.
    unsafe { os::unmap(a.base, ARENA_SIZE) };
}

/// A node of an intrusive doubly linked list: a pool in its class's used
/// list, an arena in the thread's usable list.
trait Node: Sized {
    fn prev(&self) -> &Cell<*mut Self>;
    fn next(&self) -> &Cell<*mut Self>;
}

impl Node for Pool {
    fn prev(&self) -> &Cell<*mut Self> {
        &self.prev
    }
    fn next(&self) -> &Cell<*mut Self> {
        &self.next
    }
}

impl Node for Arena {
    fn prev(&self) -> &Cell<*mut Self> {
        &self.prev
    }
    fn next(&self) -> &Cell<*mut Self> {
        &self.next
    }
}

/// Pushes `node` at the front of the list headed by `head`.
///
/// # Safety
///
/// `node` is allocated and in no list.
unsafe fn push_front<N: Node>(head: &Cell<*mut N>, node: *mut N) {
    let first = head.get();
    // SAFETY: `node` is allocated; `first`, if not null, is in the list.
    unsafe {
        (*node).prev().set(ptr::null_mut());
        (*node).next().set(first);
        if !first.is_null() {
            (*first).prev().set(node);
        }
    }
    head.set(node);
}

/// Takes `node` out of the list headed by `head`.
///
/// # Safety
///
/// `node` is in that list.
unsafe fn unlink<N: Node>(head: &Cell<*mut N>, node: *mut N) {
    // SAFETY: `node` and its neighbours are allocated nodes of the list.
    unsafe {
        let (prev, next) = ((*node).prev().get(), (*node).next().get());
        if prev.is_null() {
            head.set(next);
        } else {
            (*prev).next().set(next);
        }
        if !next.is_null() {
            (*next).prev().set(prev);
        }
        (*node).prev().set(ptr::null_mut());
        (*node).next().set(ptr::null_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many pools `class` has in its used list on this thread.
    fn used_pools(class: usize) -> usize {
        POOLS.with(|pools| {
            let mut n = 0;
            let mut pool = pools.used[class].get();
            while !pool.is_null() {
                n += 1;
                // SAFETY: pools in the list are allocated.
                pool = unsafe { (*pool).next.get() };
            }
            n
        })
    }

    #[test]
    fn classes_round_up_to_the_grain() {
        let class = |size, align| class_of(Layout::from_size_align(size, align).unwrap());
        assert_eq!(class(1, 1), Some(0));
        assert_eq!(class(8, 8), Some(0));
        assert_eq!(class(16, 8), Some(1));
        assert_eq!(class(17, 8), Some(2));
        assert_eq!(class(56, 8), Some(6));
        // A 16-aligned box takes a class whose blocks are all 16-aligned.
        assert_eq!(class(48, 16), Some(5));
        assert_eq!(class(56, 16), Some(7));
        assert_eq!(class(512, 16), Some(CLASSES - 1));
        assert_eq!(class(513, 8), None);
        assert_eq!(class(64, 32), None);
    }

    #[test]
    fn blocks_are_distinct_aligned_and_reused() {
        let layout = Layout::from_size_align(40, 8).unwrap();
        let class = class_of(layout).unwrap();
        let per_pool = (POOL_SIZE - FIRST_BLOCK) / ((class + 1) * GRAIN);
        // Enough to fill two pools and start a third.
        let n = 2 * per_pool + 3;
        let blocks: Vec<NonNull<u8>> = (0..n).map(|_| allocate(layout)).collect();
        let mut addrs: Vec<usize> = blocks.iter().map(|b| b.as_ptr().addr()).collect();
        assert!(addrs.iter().all(|a| a % GRAIN == 0));
        // A 16-aligned class hands out 16-aligned blocks.
        let aligned = Layout::from_size_align(48, 16).unwrap();
        let blocks16: Vec<NonNull<u8>> = (0..5).map(|_| allocate(aligned)).collect();
        assert!(blocks16.iter().all(|b| b.as_ptr().addr() % 16 == 0));
        for b in blocks16 {
            // SAFETY: allocated just above with this layout, not freed.
            unsafe { deallocate(b, aligned) };
        }
        addrs.sort_unstable();
        addrs.dedup();
        assert_eq!(addrs.len(), n, "a block was handed out twice");
        for (i, b) in blocks.iter().enumerate() {
            // SAFETY: a block of at least 40 bytes.
            unsafe { b.as_ptr().write_bytes(i as u8, 40) };
        }
        for (i, b) in blocks.iter().enumerate() {
            // SAFETY: as above; no other block overlaps it.
            assert_eq!(unsafe { *b.as_ptr().add(39) }, i as u8);
        }
        // The two full pools are out of the used list; the third is in it.
        assert_eq!(used_pools(class), 1);
        // Freeing one block of a full pool puts it back.
        let first = blocks[0];
        // SAFETY: allocated above with this layout, not used again.
        unsafe { deallocate(first, layout) };
        assert_eq!(used_pools(class), 2);
        // The freed block is reused first.
        let again = allocate(layout);
        assert_eq!(again, first);
        for b in blocks.into_iter().skip(1).chain([again]) {
            // SAFETY: each allocated above, freed once.
            unsafe { deallocate(b, layout) };
        }
        // Every pool emptied: all freed but the one kept.
        assert_eq!(used_pools(class), 1);
    }

    /// The thread's arena lists, checked: `(usable arenas, spare?, resident
    /// free pools)`.
    fn arenas() -> (usize, bool, usize) {
        POOLS.with(|pools| {
            let (mut n, mut dirty) = (0, 0);
            let mut arena = pools.arenas.get();
            while !arena.is_null() {
                // SAFETY: arenas in the list are allocated.
                let a = unsafe { &*arena };
                assert_ne!(a.free.get(), 0, "a usable arena has a free pool");
                assert_eq!(a.dirty.get() & !a.free.get(), 0, "dirty pools are free");
                assert!(a.pools == 63 || a.pools == 64);
                dirty += a.dirty.get().count_ones() as usize;
                n += 1;
                arena = a.next.get();
            }
            assert_eq!(dirty, pools.dirty.get());
            (n, !pools.spare.get().is_null(), dirty)
        })
    }

    /// Blocks of the largest class: few per pool, so that Miri gets through
    /// more than one arena's worth of pools quickly.
    fn many_pools(pools: usize) -> (Layout, Vec<NonNull<u8>>) {
        let layout = Layout::from_size_align(MAX_POOLED, 8).unwrap();
        let per_pool = (POOL_SIZE - FIRST_BLOCK) / MAX_POOLED;
        (
            layout,
            (0..pools * per_pool).map(|_| allocate(layout)).collect(),
        )
    }

    fn free_all(layout: Layout, blocks: Vec<NonNull<u8>>) {
        for b in blocks {
            // SAFETY: allocated by `many_pools` with this layout, freed once.
            unsafe { deallocate(b, layout) };
        }
    }

    /// Holds off the delayed purge for the rest of the test (under Miri the
    /// clock runs with the interpreter, and freeing takes a while).
    fn hold_off_purges() {
        POOLS.with(|pools| {
            pools
                .dirty_since
                .set(Instant::now().checked_add(Duration::from_secs(3600)));
        });
    }

    #[test]
    fn free_pools_stay_resident_for_reuse_until_purged() {
        hold_off_purges();
        // More than one arena's worth of pools.
        let (layout, blocks) = many_pools(70);
        assert!(arenas().0 <= 1, "full arenas leave the usable list");
        free_all(layout, blocks);
        // Nothing handed back yet (the delay has not passed): every freed
        // pool is resident, and both arenas are usable.
        let (usable, spare, dirty) = arenas();
        assert_eq!((usable, spare), (2, false));
        assert_eq!(dirty, 69, "all but the pool the class keeps");
        // Building again takes the resident pools: nothing is mapped.
        let (layout, again) = many_pools(70);
        assert_eq!(arenas().2, 0, "the resident pools were reused");
        free_all(layout, again);
        // A purge hands them back: the arena with the class's kept pool
        // stays usable, the other is the spare.
        POOLS.with(purge);
        assert_eq!(arenas(), (1, true, 0));
    }

    #[test]
    fn a_free_after_the_delay_purges() {
        let (layout, blocks) = many_pools(8);
        free_all(layout, blocks);
        assert!(arenas().2 > DIRTY_MIN);
        // Pretend the dirty pools have waited long enough.
        POOLS.with(|pools| {
            pools
                .dirty_since
                .set(Instant::now().checked_sub(PURGE_DELAY));
        });
        // The next pool freed (a second pool of a class) purges.
        let (layout, blocks) = many_pools(2);
        free_all(layout, blocks);
        assert_eq!(arenas().2, 0);
    }

    #[test]
    fn large_and_overaligned_boxes_use_the_system_allocator() {
        for layout in [
            Layout::from_size_align(4096, 8).unwrap(),
            Layout::from_size_align(64, 64).unwrap(),
        ] {
            let p = allocate(layout);
            assert_eq!(p.as_ptr().addr() % layout.align(), 0);
            // SAFETY: allocated above with this layout.
            unsafe { deallocate(p, layout) };
        }
    }

    #[test]
    fn a_thread_frees_its_kept_pools_when_it_exits() {
        // Miri's leak check (and LSan) would report a pool kept past the
        // thread's end.
        std::thread::spawn(|| {
            let layout = Layout::from_size_align(24, 8).unwrap();
            let p = allocate(layout);
            // SAFETY: allocated above.
            unsafe { deallocate(p, layout) };
            assert_eq!(used_pools(class_of(layout).unwrap()), 1);
        })
        .join()
        .unwrap();
    }
}
