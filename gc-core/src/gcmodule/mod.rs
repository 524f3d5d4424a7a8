//! Layer 7, tools: the `gc` module's functions (CPython's
//! `Modules/gcmodule.c`): switches, thresholds and counts, `freeze`, debug
//! flags, the finalizer policy, collection callbacks, `gc.garbage`, and
//! introspection ([`introspect`]). Each reads or writes the heap's data;
//! none runs a collection phase itself (`collect` is the collector's).

use std::io::Write;

use crate::handles::Object;
use crate::heap::{CallbackId, CollectionInfo, DebugFlags, FinalizerPolicy, Phase, heap};
use crate::layout::{Link, flags, header_ref};

pub(crate) mod introspect;

/// Enables automatic collection (`gc.enable()`).
pub fn enable() {
    if let Some(heap) = heap() {
        heap.enabled.set(true);
    }
}

/// Disables automatic collection (`gc.disable()`). [`collect`](crate::collect)
/// still works.
pub fn disable() {
    if let Some(heap) = heap() {
        heap.enabled.set(false);
    }
}

/// Whether automatic collection is enabled (`gc.isenabled()`).
pub fn is_enabled() -> bool {
    heap().is_some_and(|h| h.enabled.get())
}

/// The collection counts `(count0, count1, count2)` (`gc.get_count()`).
///
/// ```
/// gc_core::collect();
/// gc_core::collect_generation(0);
/// assert_eq!(gc_core::get_count(), (0, 1, 0));
/// ```
pub fn get_count() -> (usize, usize, usize) {
    heap().map_or((0, 0, 0), |h| {
        let g = &h.generations;
        (g[0].count.get(), g[1].count.get(), g[2].count.get())
    })
}

/// The collection thresholds, `(700, 10, 10)` by default
/// (`gc.get_threshold()`).
pub fn get_threshold() -> (usize, usize, usize) {
    heap().map_or((700, 10, 10), |h| {
        let g = &h.generations;
        (
            g[0].threshold.get(),
            g[1].threshold.get(),
            g[2].threshold.get(),
        )
    })
}

/// Sets the collection thresholds (`gc.set_threshold()`).
///
/// `threshold0` is the number of net tracked allocations that triggers a
/// collection (0 disables automatic collection); `threshold1` the number of
/// generation-0 collections before generation 1 is examined; `threshold2`
/// the number of generation-1 collections before a full collection is
/// considered. A full collection then also waits until generation 2 has
/// grown by 25% since the last one (CPython's long-lived rule, which gc-core
/// applies to the net growth: see the crate docs, "Where Rust differs from
/// CPython").
pub fn set_threshold(threshold0: usize, threshold1: usize, threshold2: usize) {
    if let Some(heap) = heap() {
        let g = &heap.generations;
        g[0].threshold.set(threshold0);
        g[1].threshold.set(threshold1);
        g[2].threshold.set(threshold2);
    }
}

/// Moves every tracked object into the permanent generation, which no
/// collection examines, and resets count0 (`gc.freeze()`).
///
/// Useful before forking or after building a large long-lived structure.
pub fn freeze() {
    let Some(heap) = heap() else { return };
    for generation in &heap.generations {
        // SAFETY: distinct initialised heads of this heap.
        unsafe { heap.permanent.merge_from(&generation.head) };
    }
    set_generation_bits(&heap.permanent, flags::GEN_PERMANENT);
    heap.generations[0].count.set(0);
}

/// Moves the permanent generation back into generation 2
/// (`gc.unfreeze()`).
pub fn unfreeze() {
    let Some(heap) = heap() else { return };
    set_generation_bits(&heap.permanent, 2);
    // SAFETY: distinct initialised heads of this heap.
    unsafe { heap.generations[2].head.merge_from(&heap.permanent) };
}

/// Number of objects in the permanent generation (`gc.get_freeze_count()`).
pub fn get_freeze_count() -> usize {
    heap().map_or(0, |h| h.permanent.len())
}

fn set_generation_bits(list: &Link, generation: u32) {
    for h in list.iter() {
        // SAFETY: objects on a list are allocated.
        unsafe { header_ref(h) }.set_generation(generation);
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

/// Sets the finalizer policy of this thread's collector.
pub fn set_finalizer_policy(policy: FinalizerPolicy) {
    if let Some(heap) = heap() {
        heap.policy.set(policy);
    }
}

/// The finalizer policy of this thread's collector.
pub fn get_finalizer_policy() -> FinalizerPolicy {
    heap().map_or_else(FinalizerPolicy::default, |h| h.policy.get())
}

/// Registers `callback` to be called at the start and the end of every
/// collection, after those registered before it (`gc.callbacks.append`).
///
/// A callback may allocate and drop objects; a `collect()` inside it is a
/// no-op (a collection is running). A panic in a callback propagates out of
/// the collection (CPython reports it as unraisable instead; Rust has no such
/// channel), after the collector's state is restored.
///
/// ```
/// use gc_core::{CollectionInfo, Phase};
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// let seen = Rc::new(RefCell::new(Vec::new()));
/// let log = seen.clone();
/// let id = gc_core::add_callback(move |phase, info: &CollectionInfo| {
///     log.borrow_mut().push((phase, info.generation));
/// });
/// gc_core::collect();
/// gc_core::remove_callback(id);
/// assert_eq!(*seen.borrow(), [(Phase::Start, 2), (Phase::Stop, 2)]);
/// ```
pub fn add_callback(callback: impl FnMut(Phase, &CollectionInfo) + 'static) -> CallbackId {
    heap().map_or(CallbackId::NONE, |heap| {
        heap.callbacks.borrow_mut().add(callback)
    })
}

/// Unregisters a callback. Returns whether it was registered.
pub fn remove_callback(id: CallbackId) -> bool {
    let Some(heap) = heap() else { return false };
    let removed = heap.callbacks.borrow_mut().remove(id);
    // Dropped outside the borrow: the closure's captures may run user code.
    !removed.is_empty()
}

/// A snapshot of the garbage list (`gc.garbage`): under
/// [`FinalizerPolicy::Uncollectable`](crate::FinalizerPolicy::Uncollectable)
/// the unreachable objects that have finalizers, and with
/// [`DebugFlags::SAVEALL`](crate::DebugFlags::SAVEALL) every unreachable
/// object. The list holds strong references: its objects stay alive until
/// [`take_garbage`] hands them over.
///
/// ```
/// use gc_core::{Finalize, Gc, Trace};
/// use std::cell::RefCell;
///
/// #[derive(Trace)]
/// #[gc(finalize)]
/// struct Resource {
///     peer: RefCell<Option<Gc<Resource>>>,
/// }
/// impl Finalize for Resource {
///     fn finalize(&self) {}
/// }
///
/// let a = Gc::new(Resource { peer: RefCell::new(None) });
/// *a.peer.borrow_mut() = Some(a.clone());
/// drop(a);
/// assert_eq!(gc_core::collect(), 1); // uncollectable: kept, not freed
/// let garbage = gc_core::take_garbage();
/// let a = garbage[0].downcast::<Resource>().unwrap();
/// drop(garbage);
/// a.peer.borrow_mut().take(); // break the cycle by hand
/// assert!(!gc_core::is_finalized(&a));
/// drop(a); // freed by reference counting: the finalizer runs now
/// ```
pub fn garbage() -> Vec<Object> {
    heap().map_or_else(Vec::new, |h| {
        let garbage = h.garbage.borrow();
        garbage.iter().map(|r| Object::from(r.clone())).collect()
    })
}

/// Empties the garbage list, handing its strong references to the caller
/// (`del gc.garbage[:]`, keeping the objects).
pub fn take_garbage() -> Vec<Object> {
    let taken = heap().map_or_else(Vec::new, |h| std::mem::take(&mut *h.garbage.borrow_mut()));
    taken.into_iter().map(Object::from).collect()
}
