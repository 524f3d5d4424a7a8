//! `gc.garbage`: objects the collector found unreachable but kept.

use crate::collector::release_to_old;
use crate::finalize::has_legacy_finalizer;
use crate::list::Link;
use crate::object::Object;
use crate::state::{Heap, heap};

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
    heap().map_or_else(Vec::new, |h| h.garbage.borrow().clone())
}

/// Empties the garbage list, handing its strong references to the caller
/// (`del gc.garbage[:]`, keeping the objects).
pub fn take_garbage() -> Vec<Object> {
    heap().map_or_else(Vec::new, |h| std::mem::take(&mut *h.garbage.borrow_mut()))
}

/// Appends every object of `list` to the garbage list, then moves them to
/// `old`, releasing the collector's holds if it `held` them (`SAVEALL`).
pub(crate) fn save_garbage(heap: &Heap, list: &Link, old: &Link, target: u32, held: bool) {
    append(heap, list, |_| true);
    release_to_old(list, old, target, held);
}

/// `Uncollectable` policy, last step: appends the objects that have
/// finalizers (all of them with `SAVEALL`) to the garbage list and moves the
/// kept objects to `old` (CPython's `handle_legacy_finalizers`).
pub(crate) fn handle_legacy_finalizers(heap: &Heap, old: &Link, target: u32, save_all: bool) {
    let finalizers = &heap.finalizers;
    append(heap, finalizers, |h| save_all || has_legacy_finalizer(h));
    release_to_old(finalizers, old, target, false);
}

fn append(heap: &Heap, list: &Link, keep: impl Fn(crate::header::HeaderPtr) -> bool) {
    let mut garbage = heap.garbage.borrow_mut();
    for h in list.iter().filter(|&h| keep(h)) {
        // SAFETY: objects on a list are allocated with live values.
        garbage.push(unsafe { Object::new_ref(h) });
    }
}
