//! Chains: the shortest path between an object and one that satisfies a
//! predicate, by breadth-first search over referrers or referents
//! (objgraph's `_find_chain`).

use std::collections::HashSet;
use std::fmt::Write as _;

use super::roots::RootScope;
use super::walk::{ReverseIndex, edge_labels};
use crate::handles::{AsObject, Object, sealed::Sealed};
use crate::heap::heap;
use crate::trace::truncate;

/// The shortest chain of references from an object satisfying `predicate`
/// to `target`: `[match, ..., target]`, each element holding a strong edge
/// to the next. `[target]` when no match is found within `max_depth`
/// references (test `len() == 1`, as with objgraph), or when `target`
/// itself matches: it is tested first.
///
/// Runs [`collect()`](crate::collect) first, then searches breadth first
/// through tracked referrers (generations 0 to 2 and the permanent one),
/// expanding an object only while its distance to `target` is below
/// `max_depth` (objgraph's default is 20). The referrers are indexed in one
/// pass over the heap when the search first needs them, so the search is
/// linear in the heap rather than one heap scan per visited object; with
/// [`is_root`](super::is_root) as the predicate, the roots are likewise
/// computed once per search. The `Object` handles the search holds are never
/// reported as referrers and never make anything a root.
///
/// `predicate` runs on every visited object, in breadth-first order. The
/// index is a snapshot: if the predicate changes the heap, the search does
/// not see it.
///
/// ```
/// use gc_core::objgraph::{self, is_root};
/// use gc_core::{Gc, Trace};
/// use std::cell::RefCell;
///
/// #[derive(Trace)]
/// struct Cache {
///     entries: RefCell<Vec<Gc<Entry>>>,
/// }
///
/// #[derive(Trace)]
/// struct Entry {
///     payload: Gc<Payload>,
/// }
///
/// #[derive(Trace)]
/// struct Payload(Option<Gc<Payload>>);
///
/// let cache = Gc::new(Cache { entries: RefCell::new(Vec::new()) });
/// let payload = Gc::new(Payload(None));
/// cache.entries.borrow_mut().push(Gc::new(Entry { payload: payload.clone() }));
/// let leaked = Gc::to_object(&payload);
/// drop(payload); // the cache still holds it: who?
///
/// let chain = objgraph::find_backref_chain(&leaked, is_root, 20);
/// let types: Vec<String> = chain.iter().map(|o| o.short_type_name()).collect();
/// assert_eq!(types, ["Cache", "Entry", "Payload"]);
/// assert_eq!(chain[0], Gc::to_object(&cache));
/// ```
pub fn find_backref_chain(
    target: &impl AsObject,
    predicate: impl Fn(&Object) -> bool,
    max_depth: usize,
) -> Vec<Object> {
    find_backref_chain_ignoring(target, predicate, max_depth, &[])
}

/// [`find_backref_chain`] that never walks through the objects whose ids
/// are in `extra_ignore` (objgraph's `extra_ignore`): use it to skip a
/// container you know about, or to look for a second chain.
///
/// ```
/// use gc_core::objgraph::{self, is_root};
/// use gc_core::{Gc, Trace};
///
/// #[derive(Trace)]
/// struct Holder(Gc<Leaf>);
/// #[derive(Trace)]
/// struct Leaf(Option<Gc<Leaf>>);
///
/// let leaf = Gc::new(Leaf(None));
/// let first = Gc::new(Holder(leaf.clone()));
/// let second = Gc::new(Holder(leaf.clone()));
/// drop(leaf);
/// let leaf = objgraph::by_type("Leaf").pop().unwrap();
/// let chain = objgraph::find_backref_chain(&leaf, is_root, 5);
/// assert_eq!(chain[0], Gc::to_object(&first));
/// let other = objgraph::find_backref_chain_ignoring(&leaf, is_root, 5, &[Gc::id(&first)]);
/// assert_eq!(other[0], Gc::to_object(&second));
/// ```
pub fn find_backref_chain_ignoring(
    target: &impl AsObject,
    predicate: impl Fn(&Object) -> bool,
    max_depth: usize,
    extra_ignore: &[usize],
) -> Vec<Object> {
    let mut index: Option<ReverseIndex> = None;
    search(
        handle(target),
        &predicate,
        max_depth,
        extra_ignore,
        &mut |node| {
            let index = index.get_or_insert_with(|| ReverseIndex::build(heap()));
            index.referrers(node.id()).cloned().collect()
        },
    )
}

/// The shortest chain of references from `start` to an object satisfying
/// `predicate`: `[start, ..., match]`, each element holding a strong edge
/// to the next. `[start]` when nothing matches within `max_depth` references,
/// or when `start` itself matches: it is tested first.
///
/// Runs [`collect()`](crate::collect) first, then searches breadth first
/// through referents (tracked or not, like [`Object::referents`]), in trace
/// order.
///
/// ```
/// use gc_core::{Gc, Trace, objgraph};
///
/// #[derive(Trace)]
/// struct Node {
///     name: &'static str,
///     children: Vec<Gc<Node>>,
/// }
///
/// let leaf = Gc::new(Node { name: "leaf", children: vec![] });
/// let mid = Gc::new(Node { name: "mid", children: vec![leaf] });
/// let top = Gc::new(Node { name: "top", children: vec![mid] });
/// let chain = objgraph::find_ref_chain(
///     &top,
///     |o| o.downcast::<Node>().is_some_and(|n| n.name == "leaf"),
///     20,
/// );
/// let names: Vec<&str> = chain.iter().map(|o| o.downcast::<Node>().unwrap().name).collect();
/// assert_eq!(names, ["top", "mid", "leaf"]);
/// ```
pub fn find_ref_chain(
    start: &impl AsObject,
    predicate: impl Fn(&Object) -> bool,
    max_depth: usize,
) -> Vec<Object> {
    find_ref_chain_ignoring(start, predicate, max_depth, &[])
}

/// [`find_ref_chain`] that never walks through the objects whose ids are in
/// `extra_ignore`.
pub fn find_ref_chain_ignoring(
    start: &impl AsObject,
    predicate: impl Fn(&Object) -> bool,
    max_depth: usize,
    extra_ignore: &[usize],
) -> Vec<Object> {
    let mut chain = search(
        handle(start),
        &predicate,
        max_depth,
        extra_ignore,
        &mut |node| node.referents(),
    );
    chain.reverse();
    chain
}

/// A chain of references as text, one object per line, each after the
/// labels of the edges that lead to it from the line before: what a test or
/// a log prints about a leak.
///
/// An object is shown by its short type name and its description
/// ([`Object::describe`], cut at 40 characters) where its type has one,
/// else by its address, as Python prints an object. Consecutive objects
/// that hold no edge to each other are joined by `-->`, unlabelled.
///
/// ```
/// use gc_core::objgraph::{self, is_root};
/// use gc_core::{Describe, Gc, Trace};
/// use std::cell::RefCell;
/// use std::collections::HashMap;
/// use std::fmt;
///
/// #[derive(Trace)]
/// struct Env {
///     vars: RefCell<HashMap<String, Gc<Lambda>>>,
/// }
///
/// #[derive(Trace)]
/// #[gc(describe)]
/// struct Lambda {
///     name: String,
///     body: Gc<String>,
/// }
///
/// impl Describe for Lambda {
///     fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
///         write!(f, "(lambda {})", self.name)
///     }
/// }
///
/// let global = Gc::new(Env { vars: RefCell::new(HashMap::new()) });
/// let body = Gc::new(String::from("(* x x)"));
/// let square = Gc::new(Lambda { name: "square".into(), body: body.clone() });
/// global.vars.borrow_mut().insert("sq".into(), square);
/// let leaked = Gc::to_object(&body); // an `Object` never makes its target a root
/// drop(body);
///
/// let chain = objgraph::find_backref_chain(&leaked, is_root, 10);
/// assert_eq!(
///     objgraph::format_chain(&chain),
///     format!(
///         "Env at {:#x}\n  --vars[\"sq\"]--> Lambda (lambda square)\n  --body--> String \"(* x x)\"",
///         chain[0].id()
///     )
/// );
/// ```
pub fn format_chain(chain: &[Object]) -> String {
    let mut out = String::new();
    for (i, obj) in chain.iter().enumerate() {
        if i > 0 {
            let labels = edge_labels(Sealed::header(&chain[i - 1]), Sealed::header(obj));
            let labels: Vec<&str> = labels
                .iter()
                .map(String::as_str)
                .filter(|label| !label.is_empty())
                .collect();
            let _ = write!(out, "\n  --{}--> ", labels.join(", "));
        }
        out.push_str(&obj.short_type_name());
        match obj.describe() {
            Some(description) => {
                let _ = write!(out, " {}", truncate(description));
            }
            None => {
                let _ = write!(out, " at {:#x}", obj.id());
            }
        }
    }
    out
}

/// A handle to a borrowed object.
fn handle(obj: &impl AsObject) -> Object {
    // SAFETY: the caller's strong handle keeps the value alive.
    unsafe { Object::new_ref(Sealed::header(obj)) }
}

/// One visited object of the search.
struct Visited {
    obj: Object,
    /// Index of the object it was reached from.
    parent: Option<usize>,
    depth: usize,
}

/// objgraph's `_find_chain`: breadth-first from `start` along
/// `neighbours`, returning `[match, parent, ..., start]`, or `[start]`.
fn search(
    start: Object,
    predicate: &dyn Fn(&Object) -> bool,
    max_depth: usize,
    extra_ignore: &[usize],
    neighbours: &mut dyn FnMut(&Object) -> Vec<Object>,
) -> Vec<Object> {
    let _roots = RootScope::enter();
    crate::collect();
    let ignore: HashSet<usize> = extra_ignore.iter().copied().collect();
    let mut seen = HashSet::from([start.id()]);
    // The queue keeps every visited object (and a handle to it) so that the
    // chain can be rebuilt from the parents.
    let mut visited = vec![Visited {
        obj: start.clone(),
        parent: None,
        depth: 0,
    }];
    let mut next = 0;
    while let Some(current) = visited.get(next) {
        if predicate(&current.obj) {
            let mut chain = Vec::new();
            let mut at = Some(next);
            while let Some(i) = at {
                chain.push(visited[i].obj.clone());
                at = visited[i].parent;
            }
            return chain;
        }
        let depth = current.depth;
        if depth < max_depth {
            for obj in neighbours(&current.obj) {
                if !ignore.contains(&obj.id()) && seen.insert(obj.id()) {
                    visited.push(Visited {
                        obj,
                        parent: Some(next),
                        depth: depth + 1,
                    });
                }
            }
        }
        next += 1;
    }
    vec![start]
}
