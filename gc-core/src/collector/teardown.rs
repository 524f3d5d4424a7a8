//! Teardown: what happens to the unreachable objects once they are known
//! (CPython's `handle_weakrefs`, `delete_garbage`, and the survivors'
//! `gc_list_merge` into the older generation). See the collector's module
//! docs for why dropping values in place is sound.

use crate::heap::Heap;
use crate::layout::{HeaderPtr, Link, flags, header_ref};
use crate::lifecycle::weakrefs::{
    PendingCallbacks, callbacks_exist, clear_weakrefs, weak_cells_created,
};

use crate::lifecycle::{free_box, untrack};

/// What `handle_weakrefs` prepares the unreachable objects for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Teardown {
    /// Mark them `DYING` now: they will be torn down.
    Condemn,
    /// Hold a strong count on each while finalizers run (PEP 442); they are
    /// condemned or kept afterwards.
    Hold,
    /// Neither: `SAVEALL` keeps them all.
    Keep,
}

/// Clears the `Weak`s of every unreachable object before any finalizer or
/// destructor runs, as CPython clears weakrefs before `tp_finalize` and
/// `tp_clear`, and prepares the objects for `teardown`. Returns how many
/// there are.
///
/// Callbacks then run (newest first per object), except those of `Weak`s
/// owned by the garbage itself, which die with it. They cannot reach the
/// garbage: its weak references are cleared, and a callback owning a strong
/// handle to an object would have made it reachable.
pub(super) fn handle_weakrefs(heap: &Heap, teardown: Teardown) -> usize {
    if callbacks_exist() {
        for h in heap.unreachable.iter() {
            // SAFETY: objects on a list are allocated with live values.
            unsafe { (header_ref(h).vtable().mark_trash)(h) };
        }
    }
    let mut count = 0;
    let mut callbacks = PendingCallbacks::default();
    for h in heap.unreachable.iter() {
        // SAFETY: objects on a list are allocated.
        let header = unsafe { header_ref(h) };
        header.clear(flags::COLLECTING | flags::UNREACHABLE);
        match teardown {
            Teardown::Condemn => header.set(flags::DYING),
            Teardown::Hold => header.inc_strong(),
            Teardown::Keep => {}
        }
        clear_weakrefs(header, &mut callbacks);
        count += 1;
    }
    callbacks.run(|payload| heap.note_panic(payload));
    count
}

/// Releases the holds taken for the finalizers and marks the objects that
/// are still unreachable `DYING` (PEP 442 path). A count that drops to zero
/// here is fine: `delete_garbage` frees such an object once its value is
/// dropped.
pub(super) fn condemn(unreachable: &Link) {
    for h in unreachable.iter() {
        // SAFETY: objects on a list are allocated.
        let header = unsafe { header_ref(h) };
        header.set(flags::DYING);
        header.dec_strong();
    }
}

/// Drops the values of the `DYING` objects on `heap.unreachable` and frees
/// each box as soon as its count is zero (see the module docs): one walk,
/// while the memory is still in cache.
///
/// A `DYING` object whose count reaches zero while its value is still live
/// waits for this walk; one whose value was already dropped is freed by
/// `lifecycle::dealloc::release` on the spot (the walk is past it). Objects still counted
/// when the walk ends escaped through a contract-breaking `Drop`: they are
/// unlinked and their boxes stay until those handles go.
pub(super) fn delete_garbage(heap: &Heap, weak_cells_before: u64) {
    let unreachable = &heap.unreachable;
    if weak_cells_created() != weak_cells_before {
        // A finalizer or callback made new weak references: clear them too,
        // and run their callbacks, before anything is dropped.
        let mut callbacks = PendingCallbacks::default();
        for h in unreachable.iter() {
            // SAFETY: objects on a list are allocated.
            clear_weakrefs(unsafe { header_ref(h) }, &mut callbacks);
        }
        callbacks.run(|payload| heap.note_panic(payload));
    }
    drop_values_and_free(heap);
    while let Some(h) = unreachable.first() {
        // SAFETY: `h` is on the list, allocated.
        unsafe { untrack(h, Some(heap)) };
        // SAFETY: as above; the box stays allocated for its escaped handles.
        unsafe { header_ref(h) }.set(flags::DYING);
    }
}

/// The walk of `delete_garbage`. One `catch_unwind` covers it, re-entered
/// only after a destructor panicked (the panic is kept for later and the
/// walk goes on).
fn drop_values_and_free(heap: &Heap) {
    let unreachable = &heap.unreachable;
    let cursor = std::cell::Cell::new(unreachable.first());
    let current = std::cell::Cell::new(None);
    while cursor.get().is_some() {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            while let Some(h) = cursor.get() {
                // Advance first: only objects behind the cursor (values
                // dropped) can be freed while a value is being dropped.
                // SAFETY: `h` is on the list.
                cursor.set(unsafe { unreachable.next_of(h) });
                current.set(Some(h));
                // SAFETY: objects on a list are allocated.
                let header = unsafe { header_ref(h) };
                // SAFETY: the value is live and dropped exactly once (the
                // cursor has moved past it); no reference to it exists, as no
                // safe code can reach the garbage.
                unsafe { (header.vtable().drop_value)(h) };
                // Only now: a `Gc` to itself inside the value may have
                // brought the count to zero during the drop, and `release`
                // must then leave the box to us.
                header.set(flags::VALUE_DROPPED);
                free_if_unreferenced(heap, h);
            }
        }));
        if let Err(payload) = result {
            heap.note_panic(payload);
            if let Some(h) = current.get() {
                // The panicking drop still ended the value's life.
                // SAFETY: on the list, allocated.
                unsafe { header_ref(h) }.set(flags::VALUE_DROPPED);
                free_if_unreferenced(heap, h);
            }
        }
    }
}

/// Frees a `DYING` object whose value is dropped once nothing refers to it.
fn free_if_unreferenced(heap: &Heap, h: HeaderPtr) {
    // SAFETY: the object is on the unreachable list, allocated.
    let header = unsafe { header_ref(h) };
    if header.strong() == 0 {
        // SAFETY: on the list.
        unsafe { untrack(h, Some(heap)) };
        // SAFETY: value dropped, no handle, weak cells cleared, unlinked.
        unsafe { free_box(h) };
    }
}

/// Releases the collector's holds on the objects of `list` and moves them
/// to `old` as ordinary survivors of generation `target`.
pub(super) fn release_to_old(list: &Link, old: &Link, target: u32, held: bool) {
    for h in list.iter() {
        // SAFETY: objects on a list are allocated.
        let header = unsafe { header_ref(h) };
        header.clear(flags::COLLECTING | flags::UNREACHABLE);
        header.set_generation(target);
        if held {
            // Normally cannot reach zero: the garbage list or a resurrecting
            // reference keeps the object alive. After a panic (see
            // `ScratchGuard`) it may: the object then sits on `old` with no
            // handle, and the next collection finds it unreachable and frees it.
            header.dec_strong();
        }
    }
    // SAFETY: distinct initialised heads of this heap.
    unsafe { old.merge_from(list) };
}
