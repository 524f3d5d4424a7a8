//! Memory from the operating system, for the allocator's arenas: mapped and
//! unmapped whole, and a free pool's pages handed back without unmapping
//! them (`madvise(MADV_DONTNEED)`), so that freed memory leaves the
//! process's resident set at once, whatever the C allocator would do.
//!
//! On Linux (x86-64 and AArch64, whose constants are written here) this
//! calls `mmap`, `munmap` and `madvise`, declared here: std links the C
//! library already. Elsewhere, and under Miri, an arena comes
//! from the global allocator and nothing is handed back early; the arena
//! itself is still freed when it empties.

use std::ptr::NonNull;

/// The alignment [`map`] guarantees on the fallback path (and more than
/// `mmap`'s page alignment never hurts).
pub(crate) const FALLBACK_ALIGN: usize = super::alloc::POOL_SIZE;

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64"),
    not(miri)
))]
mod imp {
    use std::ffi::{c_int, c_long, c_void};
    use std::ptr::NonNull;

    const PROT_READ: c_int = 1;
    const PROT_WRITE: c_int = 2;
    const MAP_PRIVATE: c_int = 0x02;
    const MAP_ANONYMOUS: c_int = 0x20;
    const MADV_DONTNEED: c_int = 4;

    unsafe extern "C" {
        fn mmap(
            addr: *mut c_void,
            len: usize,
            prot: c_int,
            flags: c_int,
            fd: c_int,
            offset: c_long,
        ) -> *mut c_void;
        fn munmap(addr: *mut c_void, len: usize) -> c_int;
        fn madvise(addr: *mut c_void, len: usize, advice: c_int) -> c_int;
    }

    pub(super) fn map(size: usize) -> Option<NonNull<u8>> {
        // SAFETY: an anonymous private mapping at an address of the
        // kernel's choosing touches no existing memory.
        let ptr = unsafe {
            mmap(
                std::ptr::null_mut(),
                size,
                PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        // `MAP_FAILED` is `(void *) -1`.
        if ptr.addr() == usize::MAX {
            None
        } else {
            NonNull::new(ptr.cast())
        }
    }

    /// # Safety
    ///
    /// `ptr` and `size` are those of one [`map`], unused afterwards.
    pub(super) unsafe fn unmap(ptr: NonNull<u8>, size: usize) {
        // SAFETY: forwarded from the caller.
        let rc = unsafe { munmap(ptr.as_ptr().cast(), size) };
        debug_assert_eq!(rc, 0, "munmap failed");
    }

    /// # Safety
    ///
    /// The range lies inside one live mapping and holds nothing anyone
    /// reads again before writing it.
    pub(super) unsafe fn decommit(ptr: NonNull<u8>, size: usize) {
        // SAFETY: forwarded from the caller; `MADV_DONTNEED` on a private
        // anonymous mapping only drops its pages.
        let rc = unsafe { madvise(ptr.as_ptr().cast(), size, MADV_DONTNEED) };
        debug_assert_eq!(rc, 0, "madvise failed");
    }
}

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64"),
    not(miri)
)))]
mod imp {
    use std::alloc::{Layout, alloc, dealloc};
    use std::ptr::NonNull;

    fn layout(size: usize) -> Layout {
        Layout::from_size_align(size, super::FALLBACK_ALIGN).expect("arena layout")
    }

    pub(super) fn map(size: usize) -> Option<NonNull<u8>> {
        // SAFETY: a non-zero size.
        NonNull::new(unsafe { alloc(layout(size)) })
    }

    /// # Safety
    ///
    /// `ptr` and `size` are those of one [`map`], unused afterwards.
    pub(super) unsafe fn unmap(ptr: NonNull<u8>, size: usize) {
        // SAFETY: allocated by `map` with this layout.
        unsafe { dealloc(ptr.as_ptr(), layout(size)) }
    }

    /// Nothing to do without `madvise`.
    ///
    /// # Safety
    ///
    /// As on Linux.
    pub(super) unsafe fn decommit(_ptr: NonNull<u8>, _size: usize) {}
}

/// `size` bytes of fresh, writable memory, or `None` when the system has
/// none.
pub(crate) fn map(size: usize) -> Option<NonNull<u8>> {
    imp::map(size)
}

/// Returns a mapping to the system.
///
/// # Safety
///
/// `ptr` and `size` are those of one [`map`], unused afterwards.
pub(crate) unsafe fn unmap(ptr: NonNull<u8>, size: usize) {
    // SAFETY: forwarded from the caller.
    unsafe { imp::unmap(ptr, size) }
}

/// Hands a range's pages back to the system, keeping the addresses; the
/// range's contents are unspecified afterwards (zeros on Linux, unchanged
/// on the fallback path).
///
/// # Safety
///
/// The range lies inside one live [`map`]ping and nothing reads it again
/// before writing it.
pub(crate) unsafe fn decommit(ptr: NonNull<u8>, size: usize) {
    // SAFETY: forwarded from the caller.
    unsafe { imp::decommit(ptr, size) }
}
