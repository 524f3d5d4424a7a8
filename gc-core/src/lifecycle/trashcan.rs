//! Destroying objects whose last strong handle went away, without
//! overflowing the stack (CPython's "trashcan").
//!
//! Dropping the head of a long chain drops its `next` field, which drops the
//! next object, and so on: one stack frame group per link. Past
//! [`MAX_DEPTH`] nested destructions the object is pushed on a deferred
//! stack instead (linked through its unused list link), and the outermost
//! destruction drains that stack before it returns. A chain of any length is
//! then dropped in bounded stack space.

use crate::heap::{LOCAL, forget_snapshot_id};
use crate::layout::alloc::deallocate;
use crate::layout::list::{next_raw, set_next_raw};
use std::alloc::Layout;
use std::ptr::NonNull;

use crate::layout::{GcBox, HeaderPtr, allocation, allocation_of, flags, header_ref};

/// Nested destructions allowed before deferring. Each level costs a few
/// hundred bytes of stack, so this fits in a 256 KiB thread stack with room
/// to spare for user `Drop` code.
const MAX_DEPTH: u32 = 64;

/// Drops the value of an object with no strong handle left and frees its box
/// when no `Weak` remains.
///
/// # Safety
///
/// `h` is allocated, its strong count is zero, it is on no list, and its value
/// is live and reachable by nobody else.
pub(crate) unsafe fn destroy(h: HeaderPtr) {
    // SAFETY: `h` is allocated (caller).
    let header = unsafe { header_ref(h) };
    if !header.has(flags::DEEP_DROP) {
        // Cannot recurse into other objects' destruction.
        // SAFETY: forwarded from the caller.
        unsafe { drop_and_free(h) };
        return;
    }
    let depth = LOCAL.with(|l| l.drop_depth.get());
    if depth >= MAX_DEPTH {
        defer(h);
        return;
    }
    let _depth = DepthGuard::enter(depth);
    // SAFETY: forwarded from the caller.
    unsafe { drop_and_free(h) };
    if depth == 0 {
        drain_deferred();
    }
}

/// [`destroy`] for a statically known value type (the hot path of
/// `Drop for Gc<T>`); deferred objects are drained through their vtables.
///
/// # Safety
///
/// As [`destroy`], for the box `ptr` points at.
#[inline]
pub(crate) unsafe fn destroy_typed<T: ?Sized>(ptr: NonNull<GcBox<T>>) {
    let depth = LOCAL.with(|l| l.drop_depth.get());
    if depth >= MAX_DEPTH {
        defer(ptr.cast());
        return;
    }
    let _depth = DepthGuard::enter(depth);
    // SAFETY: forwarded from the caller; a `DEEP_DROP` type is a tracked
    // one, whose boxes have the link.
    unsafe { drop_and_free_typed(ptr, true) };
    if depth == 0 && LOCAL.with(|l| l.deferred.get().is_some()) {
        drain_deferred();
    }
}

/// Pushes `h` on the deferred stack.
fn defer(h: HeaderPtr) {
    LOCAL.with(|l| {
        // SAFETY: allocated, on no list, and `DEEP_DROP`, so its type is
        // tracked and the box has a link.
        unsafe { set_next_raw(h, l.deferred.get()) };
        l.deferred.set(Some(h));
    });
}

/// [`drop_and_free`] for a statically known value type; `linked` is the
/// box's `HAS_LINK` flag (the `DEEP_DROP` bit, a property of the type).
///
/// # Safety
///
/// As [`destroy`], for the box `ptr` points at.
#[inline]
pub(crate) unsafe fn drop_and_free_typed<T: ?Sized>(ptr: NonNull<GcBox<T>>, linked: bool) {
    // Read before the value is dropped.
    // SAFETY: live, value not dropped (caller); `linked` (caller).
    let (base, layout) = unsafe { allocation_of(ptr, linked) };
    // SAFETY: allocated (caller).
    let header = unsafe { header_ref(ptr.cast()) };
    // `release_typed` sends boxes with a snapshot id to `drop_and_free`.
    debug_assert!(!header.has(flags::HAS_SNAPSHOT_ID));
    header.set(flags::VALUE_DROPPED);
    let free = Free(base, layout);
    // SAFETY: the value is live and dropped exactly once (flag set above).
    unsafe { std::ptr::drop_in_place(&raw mut (*ptr.as_ptr()).value) };
    // The guard frees the box only if the drop unwinds. Freeing here with
    // the layout in hand lets a sized type's constant layout pick its size
    // class at compile time; through the guard's out-of-line drop it was
    // computed on every free.
    std::mem::forget(free);
    // SAFETY: the value is dropped, no handle exists and there are no weak
    // cells; this is where and how the box was allocated.
    unsafe { deallocate(base, layout) };
}

/// Frees an allocation when dropped, also if the value's drop unwinds.
struct Free(NonNull<u8>, Layout);

impl Drop for Free {
    // Inlined into each `Gc<T>`'s drop (in the user's crate): otherwise the
    // hot path pays a call through the GOT per freed object (1-2 ns).
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the value is dropped (or its drop unwound), no handle
        // exists and there are no weak cells; this is where and how the box
        // was allocated (`allocation_of`, `allocation`).
        unsafe { deallocate(self.0, self.1) };
    }
}

/// Destroys the deferred objects. Runs only at depth 0 (inside the
/// outermost `destroy`'s guard, so at depth 1).
fn drain_deferred() {
    loop {
        let next = LOCAL.with(|l| {
            let top = l.deferred.get();
            if let Some(h) = top {
                // SAFETY: deferred objects are allocated (only
                // `drop_and_free` frees them) and have a link (`defer`).
                unsafe {
                    l.deferred.set(next_raw(h));
                    set_next_raw(h, None);
                }
            }
            top
        });
        let Some(h) = next else {
            return;
        };
        // SAFETY: the object was deferred by `destroy`, whose caller
        // guaranteed the preconditions; nothing touched it since.
        unsafe { drop_and_free(h) };
    }
}

/// Restores the depth on exit, including by panic.
struct DepthGuard(u32);

impl DepthGuard {
    #[inline(always)]
    fn enter(depth: u32) -> Self {
        LOCAL.with(|l| l.drop_depth.set(depth + 1));
        DepthGuard(depth)
    }
}

impl Drop for DepthGuard {
    #[inline(always)]
    fn drop(&mut self) {
        LOCAL.with(|l| l.drop_depth.set(self.0));
    }
}

/// Drops the value, then frees the box. If the value's destructor panics
/// the box is still freed, as `Rc` does, and the panic propagates.
///
/// # Safety
///
/// As [`destroy`].
unsafe fn drop_and_free(h: HeaderPtr) {
    // SAFETY: allocated (caller).
    let header = unsafe { header_ref(h) };
    debug_assert!(header.weakrefs().is_null());
    // Before the value's drop, which may unwind into the guard that frees
    // the box: the address must not keep its id once freed.
    // SAFETY: allocated (caller).
    unsafe { forget_snapshot_id(h) };
    // Read before the value is dropped.
    // SAFETY: allocated (caller).
    let (base, layout) = unsafe { allocation(h) };
    header.set(flags::VALUE_DROPPED);
    let free = Free(base, layout);
    // SAFETY: the value is live and dropped exactly once (flag set above).
    unsafe { (header.vtable().drop_value)(h) };
    drop(free);
}
