//! Destroying objects whose last strong handle went away, without
//! overflowing the stack (CPython's "trashcan").
//!
//! Dropping the head of a long chain drops its `next` field, which drops the
//! next object, and so on: one stack frame group per link. Past
//! [`MAX_DEPTH`] nested destructions the object is pushed on a deferred
//! stack instead (linked through its unused list link), and the outermost
//! destruction drains that stack before it returns. A chain of any length is
//! then dropped in bounded stack space.

use crate::gc::free_box;
use crate::header::{HeaderPtr, flags, header_ref};
use crate::list::{Link, next_raw, set_next_raw};
use crate::state::LOCAL;

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
        LOCAL.with(|l| {
            set_next_raw(header, l.deferred.get());
            l.deferred.set(h.cast::<Link>().as_ptr().cast_const());
        });
        return;
    }
    let _depth = DepthGuard::enter(depth);
    // SAFETY: forwarded from the caller.
    unsafe { drop_and_free(h) };
    if depth == 0 {
        drain_deferred();
    }
}

/// Destroys the deferred objects. Runs only at depth 0 (inside the
/// outermost `destroy`'s guard, so at depth 1).
fn drain_deferred() {
    loop {
        let next = LOCAL.with(|l| {
            let top = l.deferred.get();
            if !top.is_null() {
                // SAFETY: deferred objects are allocated: only
                // `drop_and_free` frees them.
                let header = unsafe { &*top.cast::<crate::header::GcHeader>() };
                l.deferred.set(next_raw(header));
                set_next_raw(header, std::ptr::null());
            }
            top
        });
        let Some(h) = std::ptr::NonNull::new(next.cast::<crate::header::GcHeader>().cast_mut())
        else {
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
    fn enter(depth: u32) -> Self {
        LOCAL.with(|l| l.drop_depth.set(depth + 1));
        DepthGuard(depth)
    }
}

impl Drop for DepthGuard {
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
    struct Release(HeaderPtr);
    impl Drop for Release {
        fn drop(&mut self) {
            // SAFETY: the value is dropped (or its drop unwound, which also
            // ends its life), no handle exists and the weak cells are cleared.
            unsafe { free_box(self.0) };
        }
    }
    // SAFETY: allocated (caller).
    let header = unsafe { header_ref(h) };
    header.set(flags::VALUE_DROPPED);
    let release = Release(h);
    // SAFETY: the value is live and dropped exactly once (flag set above).
    unsafe { (header.vtable.drop_value)(h) };
    drop(release);
}
