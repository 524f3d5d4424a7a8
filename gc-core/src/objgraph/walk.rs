//! Walking the heap without creating handles: which lists the tools look
//! at, type-name matching, edge counting, and the reverse-edge index behind
//! back-reference searches.

use std::collections::HashMap;

use crate::header::{GcHeader, HeaderPtr, VTable, header_ref};
use crate::list::Link;
use crate::object::{Object, short_type_name, trace_edges};
use crate::state::Heap;

/// The lists whose objects [`get_objects(None)`](crate::get_objects) lists,
/// and so every objgraph query sees: generations 0, 1 and 2.
pub(super) fn visible_lists(heap: &Heap) -> [&Link; 3] {
    [
        &heap.generations[0].head,
        &heap.generations[1].head,
        &heap.generations[2].head,
    ]
}

/// Every list a tracked object can be on outside a collection: the
/// generations and the permanent one. Frozen objects are not listed by the
/// queries, but their edges count: a frozen object referring to `x` is a
/// tracked referrer of `x`.
pub(super) fn tracked_lists(heap: &Heap) -> [&Link; 4] {
    [
        &heap.generations[0].head,
        &heap.generations[1].head,
        &heap.generations[2].head,
        &heap.permanent,
    ]
}

/// Calls `f` on every object of `lists`, in list order.
///
/// `f` must not change any list: it may read headers and create `Object`
/// handles (which neither allocate tracked objects nor free any), but it
/// must not drop the last handle of an object, allocate a tracked object,
/// or run user code. Every caller passes a closure of this module tree.
pub(super) fn for_each(lists: &[&Link], mut f: impl FnMut(HeaderPtr, &GcHeader)) {
    for list in lists {
        for h in list.iter() {
            // SAFETY: objects on a list are allocated.
            f(h, unsafe { header_ref(h) });
        }
    }
}

/// A new handle to an object found on one of the heap's lists.
///
/// # Safety
///
/// `h` was found on a generation or permanent list, with nothing run since
/// that could free it. Such objects are allocated and their values live:
/// garbage being torn down sits on a scratch list, and a value dropped by
/// reference counting is unlinked first.
pub(super) unsafe fn handle(h: HeaderPtr) -> Object {
    // SAFETY: forwarded from the caller.
    unsafe { Object::new_ref(h) }
}

/// Identity of a header's vtable, one per value type.
pub(super) fn vtable_key(header: &GcHeader) -> usize {
    std::ptr::from_ref::<VTable>(header.vtable).addr()
}

/// Whether objects match a type name given by the user: the full
/// `std::any::type_name` or the short name ([`Object::short_type_name`]).
/// The answer is cached per value type.
pub(super) struct TypeMatcher<'a> {
    name: &'a str,
    cache: HashMap<usize, bool>,
}

impl<'a> TypeMatcher<'a> {
    pub(super) fn new(name: &'a str) -> Self {
        TypeMatcher {
            name,
            cache: HashMap::new(),
        }
    }

    pub(super) fn matches(&mut self, header: &GcHeader) -> bool {
        let name = self.name;
        *self.cache.entry(vtable_key(header)).or_insert_with(|| {
            let full = (header.vtable.type_name)();
            full == name || short_type_name(full) == name
        })
    }
}

/// Number of strong edges (tracked targets or not) of `h`'s value.
pub(super) fn edge_count(h: HeaderPtr) -> usize {
    let mut n = 0;
    // SAFETY: callers hold a handle to `h`, whose value is live.
    unsafe { trace_edges(h, &mut |_, _| n += 1) };
    n
}

/// The labels of every edge `from -> to`, in trace order.
pub(super) fn edge_labels(from: HeaderPtr, to: HeaderPtr) -> Vec<String> {
    let mut labels = Vec::new();
    // SAFETY: callers hold a handle to `from`, whose value is live.
    unsafe {
        trace_edges(from, &mut |child, path| {
            if child == to {
                labels.push(crate::trace::render_label(path));
            }
        });
    }
    labels
}

/// Who refers to whom, built in one pass over every tracked object (the
/// generations and the permanent one), so that a back-reference search
/// costs O(heap + edges log edges) instead of one heap scan per node, as
/// `gc.get_referrers` in a loop would.
///
/// The index holds an `Object` handle to every tracked object, so the
/// pointers it stores stay valid whatever the caller's predicates do; those
/// handles never make anything a root (see [`is_root`](super::is_root)). It
/// is a snapshot: edges made or removed after it was built are not seen.
pub(super) struct ReverseIndex {
    /// Every tracked object, in list order.
    objects: Vec<Object>,
    /// `(target address, index in objects of a referrer)`, sorted, each pair
    /// once: referrers of one target come in list order.
    edges: Vec<(usize, usize)>,
}

impl ReverseIndex {
    pub(super) fn build(heap: Option<&Heap>) -> ReverseIndex {
        let mut index = ReverseIndex {
            objects: Vec::new(),
            edges: Vec::new(),
        };
        let Some(heap) = heap else {
            return index;
        };
        let mut handles = Vec::new();
        for_each(&tracked_lists(heap), |h, _| handles.push(h));
        for (i, &h) in handles.iter().enumerate() {
            // SAFETY: found on a list just now; nothing ran since.
            unsafe {
                trace_edges(h, &mut |child, _| {
                    index.edges.push((child.as_ptr().addr(), i))
                })
            };
        }
        index.objects = handles
            .into_iter()
            // SAFETY: found on a list; tracing ran no user code since.
            .map(|h| unsafe { handle(h) })
            .collect();
        index.edges.sort_unstable();
        index.edges.dedup();
        index
    }

    /// The tracked objects holding a strong edge to the object at
    /// `target`, each once, in list order.
    pub(super) fn referrers(&self, target: usize) -> impl Iterator<Item = &Object> {
        let start = self.edges.partition_point(|&(t, _)| t < target);
        self.edges[start..]
            .iter()
            .take_while(move |&&(t, _)| t == target)
            .map(|&(_, i)| &self.objects[i])
    }
}
