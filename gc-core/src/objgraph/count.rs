//! Counting: objects by type, growth between two points of a program,
//! lookups by type and id, and objects nothing on the heap refers to.
//!
//! Every function here sees what [`get_objects(None)`](crate::get_objects)
//! lists: tracked objects of generations 0 to 2. Untracked objects (types
//! that cannot reach a `Gc`, such as `Gc<String>`) are invisible, as they
//! are to objgraph.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, Write};

use super::roots::{internal_refs, referrer_counts};
use super::walk::{TypeMatcher, handle, vtable_key};
use crate::handles::Object;
use crate::heap::{Lists, heap};
use crate::layout::short_type_name;
use crate::trace::Edges;

/// Number of tracked objects whose type is `type_name`, full
/// (`app::Node`) or short (`Node`).
///
/// ```
/// use gc_core::{Gc, Trace, objgraph};
///
/// #[derive(Trace)]
/// struct Node(Option<Gc<Node>>);
///
/// let _a = Gc::new(Node(None));
/// let _b = Gc::new(Node(None));
/// assert_eq!(objgraph::count("Node"), 2);
/// assert_eq!(objgraph::count(std::any::type_name::<Node>()), 2);
/// assert_eq!(objgraph::count("String"), 0); // untracked: invisible
/// ```
pub fn count(type_name: &str) -> usize {
    let Some(heap) = heap() else { return 0 };
    let mut matcher = TypeMatcher::new(type_name);
    let mut n = 0;
    heap.for_each(Lists::Generations, |_, header| {
        n += usize::from(matcher.matches(header));
    });
    n
}

/// Number of tracked objects per short type name (`Node`, `Vec<Node>`).
/// Types whose short names coincide (`a::Node`, `b::Node`) are counted
/// together, as objgraph does with `shortnames=True`. One pass over the
/// heap, creating no handles.
///
/// ```
/// use gc_core::{Gc, Trace, objgraph};
///
/// #[derive(Trace)]
/// struct Node(Option<Gc<Node>>);
///
/// let _a = Gc::new(Node(None));
/// assert_eq!(objgraph::typestats()["Node"], 1);
/// ```
pub fn typestats() -> HashMap<String, usize> {
    let Some(heap) = heap() else {
        return HashMap::new();
    };
    // Count per value type first (one vtable per type): no string work per
    // object. Consecutive objects are often of one type.
    let mut by_type: HashMap<usize, (&'static str, usize)> = HashMap::new();
    let mut last: Option<(usize, &'static str, usize)> = None;
    heap.for_each(Lists::Generations, |_, header| {
        let key = vtable_key(header);
        match &mut last {
            Some((k, _, n)) if *k == key => *n += 1,
            _ => {
                if let Some((k, name, n)) = last.take() {
                    by_type.entry(k).or_insert((name, 0)).1 += n;
                }
                last = Some((key, (header.vtable().type_name)(), 1));
            }
        }
    });
    if let Some((k, name, n)) = last {
        by_type.entry(k).or_insert((name, 0)).1 += n;
    }
    let mut stats = HashMap::new();
    for (name, n) in by_type.into_values() {
        *stats.entry(short_type_name(name)).or_insert(0) += n;
    }
    stats
}

/// The `limit` most common types as `(short name, count)`, most numerous
/// first (ties by name). `limit == 0` means all of them, like objgraph's
/// `limit=None`.
///
/// ```
/// use gc_core::{Gc, Trace, objgraph};
///
/// #[derive(Trace)]
/// struct Node(Option<Gc<Node>>);
/// #[derive(Trace)]
/// struct Edge(Gc<Node>, Gc<Node>);
///
/// let a = Gc::new(Node(None));
/// let b = Gc::new(Node(None));
/// let _e = Gc::new(Edge(a, b));
/// assert_eq!(
///     objgraph::most_common_types(0),
///     [("Node".to_owned(), 2), ("Edge".to_owned(), 1)]
/// );
/// ```
pub fn most_common_types(limit: usize) -> Vec<(String, usize)> {
    let mut stats: Vec<(String, usize)> = typestats().into_iter().collect();
    stats.sort_unstable_by(|(an, ac), (bn, bc)| bc.cmp(ac).then_with(|| an.cmp(bn)));
    if limit != 0 {
        stats.truncate(limit);
    }
    stats
}

/// Prints [`most_common_types(limit)`](most_common_types) to standard
/// output, one `Node    100` line per type (objgraph's `'%-*s %i'`: names
/// padded to the longest).
pub fn show_most_common_types(limit: usize) {
    print!("{}", format_most_common_types(&most_common_types(limit)));
}

/// [`show_most_common_types`], writing to `out`.
///
/// ```
/// use gc_core::{Gc, Trace, objgraph};
///
/// #[derive(Trace)]
/// struct Node(Option<Gc<Node>>);
/// #[derive(Trace)]
/// struct LongerName(Option<Gc<Node>>);
///
/// let _a = Gc::new(Node(None));
/// let _b = Gc::new(Node(None));
/// let _c = Gc::new(LongerName(None));
/// let mut out = Vec::new();
/// objgraph::show_most_common_types_to(10, &mut out)?;
/// assert_eq!(String::from_utf8(out).unwrap(), "Node       2\nLongerName 1\n");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn show_most_common_types_to(limit: usize, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(format_most_common_types(&most_common_types(limit)).as_bytes())
}

fn format_most_common_types(stats: &[(String, usize)]) -> String {
    let width = stats
        .iter()
        .map(|(name, _)| name.chars().count())
        .max()
        .unwrap_or(0);
    stats
        .iter()
        .map(|(name, count)| format!("{name:<width$} {count}\n"))
        .collect()
}

/// Types whose number of tracked objects reached a new peak since the
/// last call with the same `peak` map, as `(short name, count, increase)`,
/// largest increase first (ties by name), at most `limit` of them
/// (`0`: all).
///
/// Runs [`collect()`](crate::collect) first, so unreachable cycles do not
/// count. For every type that grew, `peak` is raised to the new count (also
/// for types beyond `limit`); a type that shrank and grew back to its old
/// peak is not reported. This is objgraph's `growth`, whose mutable default
/// `peak_stats={}` makes only *new peaks* visible; [`show_growth`] keeps
/// such a map per thread.
///
/// ```
/// use gc_core::{Gc, Trace, objgraph};
/// use std::collections::HashMap;
///
/// #[derive(Trace)]
/// struct Node(Option<Gc<Node>>);
///
/// let mut peak = HashMap::new();
/// let mut nodes = vec![Gc::new(Node(None)), Gc::new(Node(None))];
/// assert_eq!(objgraph::growth(10, &mut peak), [("Node".to_owned(), 2, 2)]);
/// nodes.pop();
/// assert!(objgraph::growth(10, &mut peak).is_empty()); // 1 < peak 2
/// nodes.push(Gc::new(Node(None)));
/// nodes.push(Gc::new(Node(None)));
/// assert_eq!(objgraph::growth(10, &mut peak), [("Node".to_owned(), 3, 1)]);
/// ```
pub fn growth(limit: usize, peak: &mut HashMap<String, usize>) -> Vec<(String, usize, usize)> {
    crate::collect();
    let mut deltas = Vec::new();
    for (name, count) in typestats() {
        let old = peak.get(&name).copied().unwrap_or(0);
        if count > old {
            peak.insert(name.clone(), count);
            deltas.push((name, count, count - old));
        }
    }
    deltas.sort_unstable_by(|(an, _, ad), (bn, _, bd)| bd.cmp(ad).then_with(|| an.cmp(bn)));
    if limit != 0 {
        deltas.truncate(limit);
    }
    deltas
}

thread_local! {
    /// The peak counts behind [`show_growth`], per thread (each thread has
    /// its own heap).
    static PEAK: RefCell<HashMap<String, usize>> = RefCell::new(HashMap::new());
}

/// Prints the types that reached a new peak since the previous call on
/// this thread, with their count and increase, in objgraph's
/// `'%-*s%9d %+9d'` format:
///
/// ```text
/// BigFatObject        2        +2
/// Job                 2        +2
/// ```
///
/// Prints nothing when nothing grew. The first call reports every type
/// (all are new). See [`growth`].
pub fn show_growth(limit: usize) {
    let text = growth_text(limit);
    print!("{text}");
}

/// [`show_growth`], writing to `out`. It shares [`show_growth`]'s per-thread
/// peak counts.
///
/// ```
/// use gc_core::{Gc, Trace, objgraph};
///
/// #[derive(Trace)]
/// struct Node(Option<Gc<Node>>);
///
/// let mut out = Vec::new();
/// objgraph::show_growth_to(10, &mut out)?; // the baseline
/// let _nodes: Vec<_> = (0..3).map(|_| Gc::new(Node(None))).collect();
/// out.clear();
/// objgraph::show_growth_to(10, &mut out)?;
/// assert_eq!(String::from_utf8(out).unwrap(), "Node        3        +3\n");
/// let mut out = Vec::new();
/// objgraph::show_growth_to(10, &mut out)?;
/// assert!(out.is_empty()); // nothing grew
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn show_growth_to(limit: usize, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(growth_text(limit).as_bytes())
}

fn growth_text(limit: usize) -> String {
    // Taken out while `growth` runs: the collection it starts may run a
    // finalizer that calls `show_growth` again.
    let mut peak = PEAK
        .try_with(|p| std::mem::take(&mut *p.borrow_mut()))
        .unwrap_or_default();
    let result = growth(limit, &mut peak);
    let _ = PEAK.try_with(|p| *p.borrow_mut() = peak);
    let width = result
        .iter()
        .map(|(name, ..)| name.chars().count())
        .max()
        .unwrap_or(0);
    result
        .iter()
        .map(|(name, count, delta)| format!("{name:<width$}{count:9} {delta:+9}\n"))
        .collect()
}

/// Every tracked object whose type is `type_name` (full or short), in list
/// order.
///
/// ```
/// use gc_core::{Gc, Trace, objgraph};
///
/// #[derive(Trace)]
/// struct Node(Option<Gc<Node>>);
///
/// let a = Gc::new(Node(None));
/// assert_eq!(objgraph::by_type("Node"), [Gc::to_object(&a)]);
/// ```
pub fn by_type(type_name: &str) -> Vec<Object> {
    let Some(heap) = heap() else {
        return Vec::new();
    };
    let mut matcher = TypeMatcher::new(type_name);
    let mut found = Vec::new();
    heap.for_each(Lists::Generations, |h, header| {
        if matcher.matches(header) {
            // SAFETY: `h` is on a list; creating handles runs no user code.
            found.push(unsafe { handle(h) });
        }
    });
    found
}

/// The tracked object whose [`id`](Object::id) is `id`, if any (objgraph's
/// `at`, which only finds objects `gc.get_objects()` lists). O(heap).
///
/// ```
/// use gc_core::{Gc, Trace, objgraph};
///
/// #[derive(Trace)]
/// struct Node(Option<Gc<Node>>);
///
/// let a = Gc::new(Node(None));
/// assert_eq!(objgraph::at(Gc::id(&a)), Some(Gc::to_object(&a)));
/// assert_eq!(objgraph::at(0), None);
/// ```
pub fn at(id: usize) -> Option<Object> {
    let heap = heap()?;
    let mut found = None;
    heap.for_each(Lists::Generations, |h, _| {
        if found.is_none() && h.as_ptr().addr() == id {
            // SAFETY: `h` is on a list; creating a handle runs no user code.
            found = Some(unsafe { handle(h) });
        }
    });
    found
}

/// The tracked objects that no tracked object refers to, in list order,
/// after a [`collect()`](crate::collect): the tops of the object graph,
/// where leaked structures hang from something outside the heap (a
/// `static`, a forgotten local, an `Rc`).
///
/// "Tracked object" means one of generations 0 to 2, as
/// [`get_objects`](crate::get_objects) lists them. One pass of the
/// collector's `gc_refs` machinery: linear in the heap.
///
/// ```
/// use gc_core::{Gc, Trace, objgraph};
///
/// #[derive(Trace)]
/// struct Node(Option<Gc<Node>>);
///
/// let child = Gc::new(Node(None));
/// let parent = Gc::new(Node(Some(child.clone())));
/// assert_eq!(objgraph::get_leaking_objects(), [Gc::to_object(&parent)]);
/// ```
pub fn get_leaking_objects() -> Vec<Object> {
    crate::collect();
    let Some(heap) = heap() else {
        return Vec::new();
    };
    let lists = Lists::Generations;
    let mut found = Vec::new();
    let ran = internal_refs(heap, lists, |h, _, refs| {
        if refs == 0 {
            // SAFETY: `h` is on a list; the pass runs no user code.
            found.push(unsafe { handle(h) });
        }
    });
    if !ran {
        // Called during a collection (from a finalizer or callback).
        let counts = referrer_counts(heap, lists, Edges::All);
        heap.for_each(lists, |h, _| {
            if !counts.contains_key(&h.as_ptr().addr()) {
                // SAFETY: `h` is on a list; counting ran no user code.
                found.push(unsafe { handle(h) });
            }
        });
    }
    found
}
