//! The allocation seam: every box is allocated and freed here, so a pooled
//! allocator can replace the global one without touching anything else.

use std::alloc::{Layout, alloc, dealloc, handle_alloc_error};
use std::ptr::NonNull;

/// Allocates memory for one box of `layout` (never zero-sized: every box has
/// a header). Aborts through `handle_alloc_error` when memory runs out.
#[inline]
pub(crate) fn allocate(layout: Layout) -> NonNull<u8> {
    debug_assert!(layout.size() > 0);
    // SAFETY: `layout` has a non-zero size (every box holds a header).
    let ptr = unsafe { alloc(layout) };
    match NonNull::new(ptr) {
        Some(p) => p,
        None => handle_alloc_error(layout),
    }
}

/// Frees a box.
///
/// # Safety
///
/// `ptr` was returned by [`allocate`] with the same `layout` and is not used
/// afterwards.
#[inline]
pub(crate) unsafe fn deallocate(ptr: NonNull<u8>, layout: Layout) {
    // SAFETY: forwarded from the caller.
    unsafe { dealloc(ptr.as_ptr(), layout) }
}
