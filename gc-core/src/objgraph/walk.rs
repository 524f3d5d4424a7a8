//! Walking the heap without creating handles: which lists the tools look
//! at, type-name matching, edge counting, and the reverse-edge index behind
//! back-reference searches.

use std::collections::HashMap;

use crate::handles::Object;
use crate::heap::{Heap, Lists};
use crate::layout::{GcHeader, HeaderPtr, VTable, short_type_name};
use crate::trace::{trace_edges, trace_labelled_edges};

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
    std::ptr::from_ref::<VTable>(header.vtable()).addr()
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
            let full = (header.vtable().type_name)();
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
        trace_labelled_edges(from, &mut |child, path| {
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
        heap.for_each(Lists::Tracked, |h, _| handles.push(h));
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
