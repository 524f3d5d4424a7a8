//! Debug flags and the lines they print, in CPython's formats.

use std::fmt;
use std::io::Write;
use std::time::Instant;

use crate::header::{HeaderPtr, header_ref};
use crate::object::short_type_name;
use crate::state::{Heap, heap};

bitflags::bitflags! {
    /// What the collector reports or keeps (`gc.set_debug`), with CPython's
    /// values.
    ///
    /// ```
    /// use gc_core::DebugFlags;
    /// assert_eq!(DebugFlags::LEAK, DebugFlags::COLLECTABLE | DebugFlags::UNCOLLECTABLE | DebugFlags::SAVEALL);
    /// assert_eq!(DebugFlags::LEAK.bits(), 38);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct DebugFlags: u32 {
        /// Print statistics at the start and end of each collection
        /// (`gc: collecting generation 2...`, `gc: done, ...`).
        const STATS = 1;
        /// Print `gc: collectable <Node 0x…>` for each unreachable object
        /// that will be freed (or saved by `SAVEALL`).
        const COLLECTABLE = 2;
        /// Print `gc: uncollectable <Node 0x…>` for each object kept because
        /// of finalizers.
        const UNCOLLECTABLE = 4;
        /// Append every unreachable object to [`garbage`](crate::garbage)
        /// instead of freeing it.
        const SAVEALL = 32;
        /// `COLLECTABLE | UNCOLLECTABLE | SAVEALL`: what a leak hunt wants.
        const LEAK = Self::COLLECTABLE.bits() | Self::UNCOLLECTABLE.bits() | Self::SAVEALL.bits();
    }
}

/// Sets the debug flags (`gc.set_debug(flags)`).
pub fn set_debug(flags: DebugFlags) {
    if let Some(heap) = heap() {
        heap.debug.set(flags);
    }
}

/// The debug flags (`gc.get_debug()`).
pub fn get_debug() -> DebugFlags {
    heap().map_or(DebugFlags::empty(), |h| h.debug.get())
}

/// Sends debug lines to `writer` instead of standard error (CPython writes
/// to `sys.stderr`, which Python code can replace the same way).
///
/// The lines of a collection are written once it is over: the writer never
/// runs while garbage is being decided or torn down, so whatever it does
/// (upgrade `Weak`s, drop handles, allocate, call this function) cannot
/// reach an object the collection frees. Called from inside the writer, it
/// takes effect from the next line on.
///
/// ```
/// use gc_core::DebugFlags;
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// #[derive(Clone, Default)]
/// struct Capture(Rc<RefCell<Vec<u8>>>);
/// impl std::io::Write for Capture {
///     fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
///         self.0.borrow_mut().extend_from_slice(buf);
///         Ok(buf.len())
///     }
///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// }
///
/// let capture = Capture::default();
/// gc_core::set_debug_writer(capture.clone());
/// gc_core::set_debug(DebugFlags::STATS);
/// gc_core::collect();
/// gc_core::set_debug(DebugFlags::empty());
/// let text = String::from_utf8(capture.0.borrow().clone()).unwrap();
/// assert!(text.starts_with("gc: collecting generation 2...\n"));
/// ```
pub fn set_debug_writer(writer: impl Write + 'static) {
    if let Some(heap) = heap() {
        let old = heap.debug_writer.replace(Some(Box::new(writer)));
        // The old writer's `Drop` is user code: run it outside the borrow.
        drop(old);
    }
}

/// Formats one line for the running collection; [`write_lines`] writes it
/// when the collection is over. Formatting runs no user code.
pub(crate) fn line(heap: &Heap, args: fmt::Arguments<'_>) {
    heap.debug_lines.borrow_mut().push(args.to_string());
}

/// Writes the lines of the collection that just ended to the debug writer
/// (or stderr). Errors are ignored, as CPython ignores failures to print
/// debug output. A panicking writer's panic is kept (see
/// [`Heap::note_panic`]) and resumed as the collection's.
///
/// Re-entrancy: the writer is taken out of its slot while it writes, so it
/// may call [`set_debug_writer`] (the new writer takes the following lines;
/// the old one is dropped once its write returns) and anything else; a
/// `collect()` it makes is a no-op, as the collection is still marked
/// running. Lines it causes (none: only collections print) would be
/// written by the next collection.
pub(crate) fn write_lines(heap: &Heap) {
    let lines = std::mem::take(&mut *heap.debug_lines.borrow_mut());
    for text in lines {
        let writer = heap.debug_writer.borrow_mut().take();
        match writer {
            Some(mut w) => {
                heap.catching(|| {
                    let _ = w
                        .write_all(text.as_bytes())
                        .and_then(|()| w.write_all(b"\n"));
                });
                let mut slot = heap.debug_writer.borrow_mut();
                if slot.is_none() {
                    *slot = Some(w);
                } else {
                    // Replaced while writing: the new writer stays.
                    drop(slot);
                    heap.catching(|| drop(w));
                }
            }
            None => {
                let mut err = std::io::stderr().lock();
                let _ = err
                    .write_all(text.as_bytes())
                    .and_then(|()| err.write_all(b"\n"));
            }
        }
    }
}

/// `gc: collectable <Node 0x55d0c2a4e2b0>` (CPython's `"gc: %s <%s %p>"`).
pub(crate) fn object_line(heap: &Heap, label: &str, h: HeaderPtr) {
    // SAFETY: the collector only reports allocated objects.
    let type_name = (unsafe { header_ref(h) }.vtable.type_name)();
    line(
        heap,
        format_args!(
            "gc: {label} <{} {:#x}>",
            short_type_name(type_name),
            h.as_ptr().addr()
        ),
    );
}

/// The `STATS` header of a collection; returns the start time for the done
/// line.
pub(crate) fn stats_start(heap: &Heap, generation: usize) -> Instant {
    line(
        heap,
        format_args!("gc: collecting generation {generation}..."),
    );
    let [g0, g1, g2] = &heap.generations;
    line(
        heap,
        format_args!(
            "gc: objects in each generation: {} {} {}",
            g0.head.len(),
            g1.head.len(),
            g2.head.len()
        ),
    );
    line(
        heap,
        format_args!(
            "gc: objects in permanent generation: {}",
            heap.permanent.len()
        ),
    );
    Instant::now()
}

/// `gc: done, 4 unreachable, 0 uncollectable, 0.0001s elapsed`.
pub(crate) fn stats_done(heap: &Heap, start: Instant, unreachable: usize, uncollectable: usize) {
    let elapsed = start.elapsed().as_secs_f64();
    line(
        heap,
        format_args!(
            "gc: done, {unreachable} unreachable, {uncollectable} uncollectable, {elapsed:.4}s elapsed"
        ),
    );
}
