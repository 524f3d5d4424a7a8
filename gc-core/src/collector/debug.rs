//! The lines the debug flags print, in CPython's formats (`gc: collecting
//! generation 2...`, `gc: collectable <Node 0x...>`). Formatted during the
//! phases, written by [`write_lines`] once the collection is over (see the
//! collector's "Where user code runs").

use std::fmt;
use std::io::Write;
use std::time::Instant;

use crate::heap::Heap;
use crate::layout::{HeaderPtr, header_ref, short_type_name};

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
/// may call [`set_debug_writer`](crate::set_debug_writer) (the new writer takes the following lines;
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
    let type_name = (unsafe { header_ref(h) }.vtable().type_name)();
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
