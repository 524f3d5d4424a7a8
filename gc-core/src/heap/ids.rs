//! Snapshot ids: a number per object that heap snapshots give it, stable
//! for the object's whole life and never given to another object, even one
//! allocated later at the same address (V8's `HeapObjectsMap`, which DevTools'
//! comparison view needs).
//!
//! An address alone is not such a name: a freed box's address is reused by
//! the next box of its size class at once. So the heap keeps a side table,
//! address to id, filled only by snapshots (objects never snapshotted cost
//! nothing), and each box with an entry carries
//! [`flags::HAS_SNAPSHOT_ID`]. Whatever frees a box with that flag calls
//! [`forget_snapshot_id`] first (`lifecycle`'s `free_box` and the trashcan's
//! `drop_and_free`; reference counting's typed fast path leaves such boxes
//! to them), so the table never holds the address of a freed box, and a box
//! allocated there later gets a fresh id.
//!
//! Ids are odd and increase (3, 5, 7, ...): V8 gives its heap objects odd
//! ids and the synthetic root id 1, and DevTools relies on neither being
//! reused. A 64-bit counter stepping by two cannot wrap in practice.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::{Heap, heap};
use crate::layout::{HeaderPtr, flags, header_ref};

/// The first id given to an object (1 is the snapshot's root).
pub(crate) const FIRST_OBJECT_ID: u64 = 3;

/// A map keyed by box address, with a hash cheaper than std's SipHash
/// (addresses are not chosen by an adversary): a snapshot of a million
/// objects makes millions of lookups.
pub(crate) type AddrMap<V> = HashMap<usize, V, BuildHasherDefault<AddrHasher>>;

/// [`AddrMap`]'s hash: a multiply, then the high bits folded into the low
/// ones (addresses are 16-byte aligned, and the table indexes buckets by
/// the low bits).
#[derive(Default)]
pub(crate) struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
}

/// The heap's table of snapshot ids.
pub(crate) struct SnapshotIds {
    /// Id by box address, for every allocated box with
    /// [`flags::HAS_SNAPSHOT_ID`].
    ids: RefCell<AddrMap<u64>>,
    /// The next id to give (odd).
    next: Cell<u64>,
}

impl SnapshotIds {
    pub(crate) fn new() -> Self {
        SnapshotIds {
            ids: RefCell::new(AddrMap::default()),
            next: Cell::new(FIRST_OBJECT_ID),
        }
    }

    /// How many objects have an id.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.ids.borrow().len()
    }
}

/// The snapshot id of `h`, given now if it has none. The table is
/// borrowed only inside this call.
///
/// # Safety
///
/// `h` is allocated.
pub(crate) unsafe fn snapshot_id(heap: &Heap, h: HeaderPtr) -> u64 {
    // SAFETY: allocated (caller).
    let header = unsafe { header_ref(h) };
    let table = &heap.snapshot_ids;
    let mut ids = table.ids.borrow_mut();
    if header.has(flags::HAS_SNAPSHOT_ID)
        && let Some(&id) = ids.get(&h.as_ptr().addr())
    {
        return id;
    }
    let id = table.next.get();
    table.next.set(id + 2);
    ids.insert(h.as_ptr().addr(), id);
    header.set(flags::HAS_SNAPSHOT_ID);
    id
}

/// Removes `h`'s snapshot id: its box is about to be freed. Cheap when the
/// box has none (one flag test).
///
/// # Safety
///
/// `h` is allocated.
#[inline]
pub(crate) unsafe fn forget_snapshot_id(h: HeaderPtr) {
    // SAFETY: allocated (caller).
    if !unsafe { header_ref(h) }.has(flags::HAS_SNAPSHOT_ID) {
        return;
    }
    forget_slow(h);
}

#[cold]
fn forget_slow(h: HeaderPtr) {
    // After thread exit the table is gone with the heap, and so is every id.
    if let Some(heap) = heap() {
        heap.snapshot_ids
            .ids
            .borrow_mut()
            .remove(&h.as_ptr().addr());
    }
}
