//! Collection callbacks (`gc.callbacks`): the registry the heap holds and
//! its invocation. `add_callback`/`remove_callback` are in `gcmodule`.

use std::cell::RefCell;
use std::rc::Rc;

use super::Heap;

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

/// Identifies a registered callback, for [`remove_callback`](crate::remove_callback).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallbackId(u64);

pub(crate) type Callback = Rc<RefCell<dyn FnMut(Phase, &CollectionInfo)>>;

/// The registered callbacks, in registration order.
#[derive(Default)]
pub(crate) struct Callbacks {
    next_id: u64,
    list: Vec<(CallbackId, Callback)>,
}

impl CallbackId {
    /// The id handed out when the thread's heap is gone (thread exit): it
    /// names no callback.
    pub(crate) const NONE: CallbackId = CallbackId(u64::MAX);
}

impl Callbacks {
    /// Registers `callback` and returns its id.
    pub(crate) fn add(
        &mut self,
        callback: impl FnMut(Phase, &CollectionInfo) + 'static,
    ) -> CallbackId {
        let id = CallbackId(self.next_id);
        self.next_id += 1;
        self.list.push((id, Rc::new(RefCell::new(callback))));
        id
    }

    /// Unregisters `id`, handing back what was removed: the caller drops it
    /// outside its borrow of the registry, since a closure's captures may run
    /// user code.
    pub(crate) fn remove(&mut self, id: CallbackId) -> Vec<Callback> {
        let before = self.list.len();
        let removed: Vec<_> = self
            .list
            .iter()
            .filter(|(i, _)| *i == id)
            .map(|(_, cb)| cb.clone())
            .collect();
        self.list.retain(|(i, _)| *i != id);
        debug_assert!(self.list.len() + removed.len() == before);
        removed
    }
}

/// Calls every callback with `phase` and `info`. The list is snapshotted
/// first, so a callback may add or remove callbacks.
pub(crate) fn invoke_callbacks(heap: &Heap, phase: Phase, info: &CollectionInfo) {
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
