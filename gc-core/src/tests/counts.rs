//! Issue 9, bug 9: every handle count aborts on overflow, as `Rc`'s counts
//! do. A count can only overflow if `usize::MAX` handles were leaked
//! (`mem::forget` of clones, quick on 32-bit targets); wrapping would let
//! the object or cell be freed while handles to it remain.
//!
//! Each test forges a count to its maximum, then adds a handle. The abort
//! happens in a child process: the test re-runs its own binary on itself
//! alone, with [`CHILD`] set, and checks that the child died of `SIGABRT`
//! (not a panic, which would exit with status 101, nor a normal exit).

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use crate::heap::heap;
use crate::{Gc, Object};

/// The signal `std::process::abort` raises on Unix.
const SIGABRT: i32 = 6;

/// Set in the child process to the name of the test that must overflow.
const CHILD: &str = "GC_CORE_COUNT_OVERFLOW_CHILD";

/// In the parent, runs test `test` of this module alone in a child process
/// and asserts that it aborted; in that child, runs `overflow`, which must
/// not return.
fn assert_aborts(test: &str, overflow: impl FnOnce()) {
    let module = module_path!();
    let module = module.strip_prefix("gc_core::").unwrap_or(module);
    let name = format!("{module}::{test}");
    if std::env::var_os(CHILD).is_some_and(|child| child == *name) {
        overflow();
        return; // no abort: the parent sees a normal exit and fails
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = Command::new(exe)
        .args(["--exact", &name, "--nocapture", "--test-threads=1"])
        .env(CHILD, &name)
        .output()
        .expect("spawning the test binary");
    assert_eq!(
        out.status.signal(),
        Some(SIGABRT),
        "{name} should abort, but the child process ended with {}; its output:\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
}

/// The reference behaviour the other counts now share: a `Gc` clone past
/// `u32::MAX` strong handles aborts.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn the child process")]
fn gc_clone_aborts_when_the_strong_count_overflows() {
    assert_aborts("gc_clone_aborts_when_the_strong_count_overflows", || {
        let obj = Gc::new(0_u8);
        // SAFETY: `obj` keeps the box allocated.
        unsafe { crate::layout::header_ref(Gc::header_ptr(&obj)) }.forge_counts(u32::MAX, 0);
        std::mem::forget((obj.clone(), obj));
    });
}

/// Issue 9, bug 9: cloning a `Weak` whose cell already counts `usize::MAX`
/// handles aborts instead of wrapping the count to zero.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn the child process")]
fn weak_clone_aborts_when_the_cell_handle_count_overflows() {
    assert_aborts(
        "weak_clone_aborts_when_the_cell_handle_count_overflows",
        || {
            let obj = Gc::new(0_u8);
            let weak = Gc::downgrade(&obj);
            weak.forge_handles(usize::MAX);
            std::mem::forget((weak.clone(), weak, obj));
        },
    );
}

/// Issue 9, bug 9: `Gc::downgrade` adds a handle to the object's shared
/// cell; past `usize::MAX` it aborts.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn the child process")]
fn downgrade_aborts_when_the_shared_cell_handle_count_overflows() {
    assert_aborts(
        "downgrade_aborts_when_the_shared_cell_handle_count_overflows",
        || {
            let obj = Gc::new(0_u8);
            let weak = Gc::downgrade(&obj);
            weak.forge_handles(usize::MAX);
            std::mem::forget((Gc::downgrade(&obj), weak, obj));
        },
    );
}

/// Issue 9, bug 9: clearing an object's weak references takes a handle of
/// each cell whose callback is due; past `usize::MAX` it aborts.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn the child process")]
fn clearing_aborts_when_a_callback_cell_handle_count_overflows() {
    assert_aborts(
        "clearing_aborts_when_a_callback_cell_handle_count_overflows",
        || {
            let obj = Gc::new(0_u8);
            let weak = Gc::downgrade_with(&obj, || {});
            weak.forge_handles(usize::MAX);
            drop(obj);
            std::mem::forget(weak);
        },
    );
}

/// Issue 9, bug 9: `Object` handles beyond the 65,535 a header counts go to
/// the heap's side table, whose count aborts past `usize::MAX`.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn the child process")]
fn object_clone_aborts_when_the_side_table_count_overflows() {
    assert_aborts(
        "object_clone_aborts_when_the_side_table_count_overflows",
        || {
            let obj = Gc::new(0_u8);
            let object: Object = Gc::to_object(&obj);
            // SAFETY: `obj` keeps the box allocated.
            let header = unsafe { crate::layout::header_ref(Gc::header_ptr(&obj)) };
            header.forge_counts(header.strong() as u32, u16::MAX);
            heap()
                .expect("this thread's heap")
                .object_overflow
                .borrow_mut()
                .insert(Gc::id(&obj), usize::MAX);
            std::mem::forget((object.clone(), object, obj));
        },
    );
}
