//! Graphs: objgraph's `show_refs`, `show_backrefs` and `show_chain`, as
//! Graphviz dot source.
//!
//! The output follows objgraph's `_show_graph` line by line (header, one
//! `[fontcolor=red]` line per start object, then per visited node its label,
//! fill colour, `__del__` marker and edges, and a "K more references" node
//! beyond `too_many`), with three differences that come from Rust:
//!
//! - edges carry the field that holds them (`next`, `.0`, `items[3]`,
//!   `Variant.field`), and a map entry's key where the key is a string, a
//!   number, a `Gc` of one or a newtype over one (`vars["x"]`, cut at 40
//!   characters; `vars[2].value` otherwise), where objgraph only knows dict
//!   keys; several edges between the same two objects are drawn once, their
//!   labels joined by `, `;
//! - the second line of a label is the object's description where its type
//!   has one (`#[gc(describe)]`, or a std value's `Debug` form, cut at 40
//!   characters, as objgraph cuts a `repr()`), and otherwise the number of
//!   strong edges it has (`3 edges`): values need not implement `Debug`;
//! - roots (see [`is_root`](super::is_root)) are green, as objgraph paints
//!   modules.

use std::collections::HashSet;
use std::fmt::{self, Write as _};
use std::io;
use std::path::PathBuf;

use super::roots::{RootScope, is_root};
use super::walk::{ReverseIndex, edge_count, edge_labels};
use crate::handles::{Object, sealed::Sealed};
use crate::heap::{heap, object_handles};

/// How [`show_refs`], [`show_backrefs`] and [`show_chain`] draw a graph:
/// objgraph's keyword arguments.
///
/// ```
/// use gc_core::objgraph::GraphOptions;
///
/// let options = GraphOptions {
///     max_depth: 5,
///     refcounts: true,
///     highlight: Some(Box::new(|o| o.short_type_name() == "Node")),
///     ..GraphOptions::default()
/// };
/// assert_eq!(options.too_many, 10);
/// ```
// The closure fields are spelled out, as in the API contract, rather than
// hidden behind an alias.
#[allow(clippy::type_complexity)]
pub struct GraphOptions {
    /// Objects this many references away from a start object are drawn
    /// but not expanded. Default 3.
    pub max_depth: usize,
    /// At most this many neighbours are drawn per object; the rest are
    /// summarised by one red "K more references" (or "backreferences")
    /// node. Default 10.
    pub too_many: usize,
    /// Neighbours for which this returns `false` are neither drawn nor
    /// expanded (start objects always are). Default: none.
    pub filter: Option<Box<dyn Fn(&Object) -> bool>>,
    /// Ids of objects never drawn as neighbours. Default: empty.
    pub extra_ignore: Vec<usize>,
    /// Objects for which this returns `true` are painted blue
    /// (`0.6,0.6,v`), over any other colour. Default: none.
    pub highlight: Option<Box<dyn Fn(&Object) -> bool>>,
    /// Adds `[N]` to each label: the strong count minus the `Object`
    /// handles (introspection, including the graph's own), that is the
    /// `Gc`s held by other objects and by the program, as objgraph shows
    /// `sys.getrefcount(obj) - 4`. Default `false`.
    pub refcounts: bool,
    /// Labels use the short type name (`Vec<Node>`) rather than the full
    /// one (`alloc::vec::Vec<app::Node>`). Default `true`.
    pub shortnames: bool,
    /// Where to write the graph besides returning its source: a `.dot` file
    /// gets the source; any other extension (`.svg`, `.png`, `.pdf`) is
    /// rendered by Graphviz's `dot -T<ext>` from a `.dot` file written beside
    /// it, and when `dot` is not installed the `.dot` file is all there is,
    /// which a line on standard error says. The `Graph written to X.dot
    /// (N nodes)` line goes to standard error too. Default: none (only the
    /// returned source).
    pub filename: Option<PathBuf>,
}

impl Default for GraphOptions {
    fn default() -> Self {
        GraphOptions {
            max_depth: 3,
            too_many: 10,
            filter: None,
            extra_ignore: Vec::new(),
            highlight: None,
            refcounts: false,
            shortnames: true,
            filename: None,
        }
    }
}

impl fmt::Debug for GraphOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let closure = |set: bool| if set { "Some(..)" } else { "None" };
        f.debug_struct("GraphOptions")
            .field("max_depth", &self.max_depth)
            .field("too_many", &self.too_many)
            .field(
                "filter",
                &format_args!("{}", closure(self.filter.is_some())),
            )
            .field("extra_ignore", &self.extra_ignore)
            .field(
                "highlight",
                &format_args!("{}", closure(self.highlight.is_some())),
            )
            .field("refcounts", &self.refcounts)
            .field("shortnames", &self.shortnames)
            .field("filename", &self.filename)
            .finish()
    }
}

/// The graph of what `objs` refer to, `options.max_depth` references deep,
/// as Graphviz dot source (objgraph's `show_refs`).
///
/// Runs [`collect()`](crate::collect) first, then walks breadth first from
/// the start objects through their referents (tracked or not) in trace
/// order, so the same heap always gives the same graph. Every node is
/// `o<id>`; start objects have red text; fill colours fade from white at
/// depth 0 to grey at `max_depth`; roots are green, `highlight` matches
/// blue; objects with a finalizer get a red `__del__` marker.
///
/// # Errors
///
/// Only from writing `options.filename` or running Graphviz on it.
///
/// ```
/// use gc_core::objgraph::{self, GraphOptions};
/// use gc_core::{Gc, Trace};
///
/// #[derive(Trace)]
/// struct Pair(Gc<Leaf>, Gc<Leaf>);
/// #[derive(Trace)]
/// struct Leaf(Option<Gc<Leaf>>);
///
/// let pair = Gc::new(Pair(Gc::new(Leaf(None)), Gc::new(Leaf(None))));
/// let dot = objgraph::show_refs(&[Gc::to_object(&pair)], &GraphOptions::default())?;
/// assert!(dot.starts_with("digraph ObjectGraph {\n"));
/// let (a, b) = (Gc::id(&pair), Gc::id(&pair.0));
/// assert!(dot.contains(&format!("  o{a}[label=\"Pair\\n2 edges\"];\n")));
/// assert!(dot.contains(&format!("  o{a} -> o{b} [label=\".0\"];\n")));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn show_refs(objs: &[Object], options: &GraphOptions) -> io::Result<String> {
    show_graph(objs, Direction::Refs, options, options.max_depth, None)
}

/// The graph of what refers to `objs`, `options.max_depth` references
/// back, as Graphviz dot source (objgraph's `show_backrefs`): the tool to
/// see why an object is still alive.
///
/// Like [`show_refs`], but walks through tracked referrers (generations 0
/// to 2 and the permanent one, indexed once per graph), in list order.
///
/// # Errors
///
/// Only from writing `options.filename` or running Graphviz on it.
///
/// ```
/// use gc_core::objgraph::{self, GraphOptions};
/// use gc_core::{Gc, Trace};
/// use std::cell::RefCell;
///
/// #[derive(Trace)]
/// struct Node {
///     other: RefCell<Option<Gc<Node>>>,
/// }
///
/// let a = Gc::new(Node { other: RefCell::new(None) });
/// let b = Gc::new(Node { other: RefCell::new(Some(a.clone())) });
/// *a.other.borrow_mut() = Some(b.clone());
/// let dot = objgraph::show_backrefs(&[Gc::to_object(&a)], &GraphOptions::default())?;
/// let (a_id, b_id) = (Gc::id(&a), Gc::id(&b));
/// assert!(dot.contains(&format!("  o{b_id} -> o{a_id} [label=\"other\"];\n")));
/// assert!(dot.contains(&format!("  o{a_id} -> o{b_id} [label=\"other\"];\n")));
/// *a.other.borrow_mut() = None; // break the cycle
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn show_backrefs(objs: &[Object], options: &GraphOptions) -> io::Result<String> {
    show_graph(objs, Direction::Backrefs, options, options.max_depth, None)
}

/// The graph of one chain, such as [`find_backref_chain`] returns, as
/// Graphviz dot source (objgraph's `show_chain`): [`show_backrefs`] from
/// the chain's last object, `chain.len() - 1` deep, drawing only the
/// chain's objects (those of them `options.filter`, if set, accepts).
/// `options.max_depth` is ignored. An empty chain gives an empty graph.
/// A chain from [`find_ref_chain`](super::find_ref_chain) works too: its
/// edges are the same, walked backwards.
///
/// # Errors
///
/// Only from writing `options.filename` or running Graphviz on it.
///
/// [`find_backref_chain`]: super::find_backref_chain
///
/// ```
/// use gc_core::objgraph::{self, GraphOptions, is_root};
/// use gc_core::{Gc, Trace};
///
/// #[derive(Trace)]
/// struct Holder {
///     items: Vec<Gc<Item>>,
/// }
/// #[derive(Trace)]
/// struct Item(Option<Gc<Item>>);
///
/// let holder = Gc::new(Holder { items: vec![Gc::new(Item(None)), Gc::new(Item(None))] });
/// let item = Gc::to_object(&holder.items[1]);
/// let chain = objgraph::find_backref_chain(&item, is_root, 10);
/// let dot = objgraph::show_chain(&chain, &GraphOptions::default())?;
/// let (h, i) = (Gc::id(&holder), item.id());
/// assert!(dot.contains(&format!("  o{h} -> o{i} [label=\"items[1]\"];\n")));
/// assert!(!dot.contains(&format!("o{}", Gc::id(&holder.items[0]))));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn show_chain(chain: &[Object], options: &GraphOptions) -> io::Result<String> {
    let Some(last) = chain.last() else {
        return show_graph(&[], Direction::Backrefs, options, 0, None);
    };
    let members: HashSet<usize> = chain.iter().map(Object::id).collect();
    show_graph(
        std::slice::from_ref(last),
        Direction::Backrefs,
        options,
        chain.len() - 1,
        Some(&members),
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Along referents: `show_refs`.
    Refs,
    /// Along referrers: `show_backrefs`.
    Backrefs,
}

fn show_graph(
    objs: &[Object],
    direction: Direction,
    options: &GraphOptions,
    max_depth: usize,
    members: Option<&HashSet<usize>>,
) -> io::Result<String> {
    let (source, nodes) = {
        let _roots = RootScope::enter();
        crate::collect();
        let mut builder = Builder {
            options,
            direction,
            max_depth,
            members,
            ignore: options.extra_ignore.iter().copied().collect(),
            index: None,
            out: String::new(),
        };
        let nodes = builder.run(objs);
        (builder.out, nodes)
    };
    if let Some(path) = &options.filename {
        super::graphviz::write(path, &source, nodes)?;
    }
    Ok(source)
}

/// One graph being written.
struct Builder<'a> {
    options: &'a GraphOptions,
    direction: Direction,
    max_depth: usize,
    /// `show_chain`: only these objects are drawn as neighbours.
    members: Option<&'a HashSet<usize>>,
    ignore: HashSet<usize>,
    /// Built at the first back-reference expansion.
    index: Option<ReverseIndex>,
    out: String,
}

impl Builder<'_> {
    /// Writes the whole graph; returns the number of nodes drawn (objects,
    /// not counting markers).
    fn run(&mut self, objs: &[Object]) -> usize {
        self.out
            .push_str("digraph ObjectGraph {\n  node[shape=box, style=filled, fillcolor=white];\n");
        let mut queue: Vec<(Object, usize)> = Vec::new();
        let mut seen = HashSet::new();
        for obj in objs {
            let _ = writeln!(self.out, "  {}[fontcolor=red];", node_id(obj));
            if seen.insert(obj.id()) {
                queue.push((obj.clone(), 0));
            }
        }
        let mut next = 0;
        while let Some((target, depth)) = queue.get(next).cloned() {
            next += 1;
            self.node(&target, depth);
            if depth >= self.max_depth {
                continue;
            }
            let mut drawn = 0;
            let mut skipped = 0;
            for neighbour in self.neighbours(&target) {
                if self.ignore.contains(&neighbour.id()) || !self.accepts(&neighbour) {
                    continue;
                }
                if drawn >= self.options.too_many {
                    skipped += 1;
                    continue;
                }
                let (src, dst) = match self.direction {
                    Direction::Refs => (&target, &neighbour),
                    Direction::Backrefs => (&neighbour, &target),
                };
                self.edge(src, dst);
                if seen.insert(neighbour.id()) {
                    queue.push((neighbour, depth + 1));
                }
                drawn += 1;
            }
            if skipped > 0 {
                self.too_many(&target, depth, skipped);
            }
        }
        self.out.push_str("}\n");
        next
    }

    /// The node's label, fill colour and `__del__` marker.
    fn node(&mut self, obj: &Object, depth: usize) {
        let id = node_id(obj);
        let mut label = if self.options.shortnames {
            obj.short_type_name()
        } else {
            obj.type_name().to_owned()
        };
        let h = Sealed::header(obj);
        if self.options.refcounts {
            let count = obj.strong_count().saturating_sub(object_handles(h));
            let _ = write!(label, " [{count}]");
        }
        // objgraph's second line is the object's short `repr`: here its
        // description where the type has one, else how many edges it holds.
        match obj.describe() {
            Some(description) => {
                let _ = write!(label, "\n{}", crate::trace::truncate(description));
            }
            None => {
                let edges = edge_count(h);
                let _ = write!(label, "\n{edges} edge{}", if edges == 1 { "" } else { "s" });
            }
        }
        let _ = writeln!(self.out, "  {id}[label=\"{}\"];", quote(&label));

        let (mut hue, mut sat, mut val) =
            gradient((0.0, 0.0, 1.0), (0.0, 0.0, 0.3), depth, self.max_depth);
        if is_root(obj) {
            (hue, sat) = (0.3, 1.0);
        }
        if self.options.highlight.as_ref().is_some_and(|f| f(obj)) {
            (hue, sat, val) = (0.6, 0.6, 0.5 + val * 0.5);
        }
        let _ = writeln!(
            self.out,
            "  {id}[fillcolor=\"{},{},{}\"];",
            g(hue),
            g(sat),
            g(val)
        );
        if val < 0.5 {
            let _ = writeln!(self.out, "  {id}[fontcolor=white];");
        }
        if obj.has_finalizer() {
            let _ = writeln!(
                self.out,
                "  {id}->{id}_has_a_del[color=red,style=dotted,len=0.25,weight=10];"
            );
            let _ = writeln!(
                self.out,
                "  {id}_has_a_del[label=\"__del__\",shape=doublecircle,height=0.25,\
                 color=red,fillcolor=\"0,.5,1\",fontsize=6];"
            );
        }
    }

    /// `src -> dst`, labelled with the fields that hold the edge.
    fn edge(&mut self, src: &Object, dst: &Object) {
        let labels = edge_labels(Sealed::header(src), Sealed::header(dst));
        let labels: Vec<&str> = labels
            .iter()
            .map(String::as_str)
            .filter(|l| !l.is_empty())
            .collect();
        let attrs = if labels.is_empty() {
            String::new()
        } else {
            format!(" [label=\"{}\"]", quote(&labels.join(", ")))
        };
        let _ = writeln!(self.out, "  {} -> {}{attrs};", node_id(src), node_id(dst));
    }

    /// The red "K more references" node.
    fn too_many(&mut self, obj: &Object, depth: usize, skipped: usize) {
        let id = node_id(obj);
        let (hue, sat, val) = gradient((0.0, 1.0, 1.0), (0.0, 1.0, 0.3), depth + 1, self.max_depth);
        let (label, edge) = match self.direction {
            Direction::Refs => (
                format!("{skipped} more references"),
                format!("{id}->too_many_{id}"),
            ),
            Direction::Backrefs => (
                format!("{skipped} more backreferences"),
                format!("too_many_{id}->{id}"),
            ),
        };
        let _ = writeln!(
            self.out,
            "  {edge}[color=red,style=dotted,len=0.25,weight=10];"
        );
        let _ = writeln!(
            self.out,
            "  too_many_{id}[label=\"{label}\",shape=box,height=0.25,color=red,\
             fillcolor=\"{},{},{}\",fontsize=6];",
            g(hue),
            g(sat),
            g(val)
        );
        let _ = writeln!(self.out, "  too_many_{id}[fontcolor=white];");
    }

    /// Distinct referents in trace order, or referrers in list order.
    fn neighbours(&mut self, obj: &Object) -> Vec<Object> {
        match self.direction {
            Direction::Refs => {
                let mut seen = HashSet::new();
                let mut referents = obj.referents();
                referents.retain(|o| seen.insert(o.id()));
                referents
            }
            Direction::Backrefs => self
                .index
                .get_or_insert_with(|| ReverseIndex::build(heap()))
                .referrers(obj.id())
                .cloned()
                .collect(),
        }
    }

    fn accepts(&self, obj: &Object) -> bool {
        self.members.is_none_or(|m| m.contains(&obj.id()))
            && self.options.filter.as_ref().is_none_or(|f| f(obj))
    }
}

/// objgraph's `_obj_node_id`: `o<id>`.
fn node_id(obj: &Object) -> String {
    format!("o{}", obj.id())
}

/// objgraph's `_quote`: escapes `\`, `"`, newlines and NULs for a
/// double-quoted dot string.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\0' => out.push_str("\\\\0"),
            c => out.push(c),
        }
    }
    out
}

/// objgraph's `_gradient`: the colour `depth / max_depth` of the way from
/// `start` to `end` (HSV), computed as Python does.
fn gradient(
    start: (f64, f64, f64),
    end: (f64, f64, f64),
    depth: usize,
    max_depth: usize,
) -> (f64, f64, f64) {
    if max_depth == 0 {
        return start;
    }
    let f = depth as f64 / max_depth as f64;
    (
        start.0 * (1.0 - f) + end.0 * f,
        start.1 * (1.0 - f) + end.1 * f,
        start.2 * (1.0 - f) + end.2 * f,
    )
}

/// C's `%g`: six significant digits, trailing zeros removed, exponent form
/// below 1e-4 or from 1e6.
fn g(x: f64) -> String {
    if x == 0.0 {
        return "0".to_owned();
    }
    let sci = format!("{x:.5e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-4..6).contains(&exponent) {
        let decimals = usize::try_from(5 - exponent).unwrap_or(0);
        strip_zeros(&format!("{x:.decimals$}")).to_owned()
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", strip_zeros(mantissa), exponent.abs())
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_formats_like_python() {
        assert_eq!(g(0.0), "0");
        assert_eq!(g(1.0), "1");
        assert_eq!(g(0.3), "0.3");
        assert_eq!(g(0.5), "0.5");
        assert_eq!(g(1.0 * (1.0 - 1.0 / 3.0) + 0.3 * (1.0 / 3.0)), "0.766667");
        assert_eq!(g(1.0 * (1.0 - 2.0 / 3.0) + 0.3 * (2.0 / 3.0)), "0.533333");
        assert_eq!(g(0.5 + 0.3 * 0.5), "0.65");
        assert_eq!(g(123_456.7), "123457");
        assert_eq!(g(1_234_567.0), "1.23457e+06");
        assert_eq!(g(0.000_012_5), "1.25e-05");
        assert_eq!(g(0.999_999_7), "1");
    }

    #[test]
    fn quote_escapes_like_objgraph() {
        assert_eq!(quote("a\"b\\c\nd\0"), "a\\\"b\\\\c\\nd\\\\0");
    }

    #[test]
    fn gradient_matches_objgraph() {
        assert_eq!(
            gradient((0.0, 0.0, 1.0), (0.0, 0.0, 0.3), 0, 0),
            (0.0, 0.0, 1.0)
        );
        assert_eq!(gradient((0.0, 0.0, 1.0), (0.0, 0.0, 0.3), 3, 3).2, 0.3);
    }
}
