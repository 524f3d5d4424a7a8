//! Collection callbacks (`gc.callbacks`).

use std::cell::RefCell;
use std::rc::Rc;

use crate::state::heap;

/// When a collection callback is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Before the collection starts (`"start"`).
    Start,
    /// After it finished (`"stop"`).
    Stop,
}

/// What a collection callback is told (`gc.callbacks`' `info` dict).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectionInfo {
    /// The generation being collected.
    pub generation: usize,
    /// Unreachable objects found that were not uncollectable; 0 at `Start`.
    pub collected: usize,
    /// Objects found uncollectable; 0 at `Start`.
    pub uncollectable: usize,
}

impl CollectionInfo {
    pub(crate) fn start(generation: usize) -> Self {
        CollectionInfo {
            generation,
            collected: 0,
            uncollectable: 0,
        }
    }
}

/// Identifies a registered callback, for [`remove_callback`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallbackId(u64);

type Callback = Rc<RefCell<dyn FnMut(Phase, &CollectionInfo)>>;

/// The registered callbacks, in registration order.
#[derive(Default)]
pub(crate) struct Callbacks {
    next_id: u64,
    list: Vec<(CallbackId, Callback)>,
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
    let Some(heap) = heap() else {
        return CallbackId(u64::MAX);
    };
    let mut callbacks = heap.callbacks.borrow_mut();
    let id = CallbackId(callbacks.next_id);
    callbacks.next_id += 1;
    callbacks.list.push((id, Rc::new(RefCell::new(callback))));
    id
}

/// Unregisters a callback. Returns whether it was registered.
pub fn remove_callback(id: CallbackId) -> bool {
    let Some(heap) = heap() else { return false };
    let removed = {
        let mut callbacks = heap.callbacks.borrow_mut();
        let before = callbacks.list.len();
        let removed: Vec<_> = callbacks
            .list
            .iter()
            .filter(|(i, _)| *i == id)
            .cloned()
            .collect();
        callbacks.list.retain(|(i, _)| *i != id);
        debug_assert!(callbacks.list.len() + removed.len() == before);
        removed
    };
    // Dropped outside the borrow: the closure's captures may run user code.
    !removed.is_empty()
}

/// Calls every callback with `phase` and `info`. The list is snapshotted
/// first, so a callback may add or remove callbacks.
pub(crate) fn invoke_callbacks(heap: &crate::state::Heap, phase: Phase, info: &CollectionInfo) {
    let snapshot: Vec<Callback> = {
        let callbacks = heap.callbacks.borrow();
        if callbacks.list.is_empty() {
            return;
        }
        callbacks.list.iter().map(|(_, cb)| cb.clone()).collect()
    };
    for callback in snapshot {
        // A callback is never re-entered: collections are not re-entrant.
        if let Ok(mut callback) = callback.try_borrow_mut() {
            callback(phase, info);
        }
    }
}
