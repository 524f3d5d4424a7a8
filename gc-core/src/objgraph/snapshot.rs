//! Heap snapshots: the whole object graph as a V8 `.heapsnapshot` file
//! (the mapping, the ids and the cost are documented in the `objgraph`
//! module's "Heap snapshots" section). The heap is read into integer arrays
//! ([`Graph::gather`]) without running user code, then written
//! ([`Graph::write`]).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use super::roots::{exceeds, for_each_root};
use crate::heap::{AddrMap, Heap, Lists, heap, snapshot_id};
use crate::layout::{HeaderPtr, allocation, flags, header_ref, short_type_name, value_ref};
use crate::trace::{EdgeKind, Segment, trace_kinded_edges, truncate, write_label};

/// What a snapshot held, as [`write_heap_snapshot`] and [`heap_snapshot_to`]
/// return it: enough to check the file against the heap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SnapshotStats {
    /// Nodes: the root, the tracked objects and the untracked leaves.
    pub nodes: usize,
    /// Edges, the root's included.
    pub edges: usize,
    /// Tracked objects: those [`get_objects`](crate::get_objects) lists plus
    /// frozen ones ([`freeze`](crate::freeze)).
    pub objects: usize,
    /// Objects reached by an edge but on no list the snapshot walks:
    /// untracked ones (`Gc<String>`), or, inside a collection, objects it
    /// is examining. They are nodes without edges.
    pub leaves: usize,
    /// Edges from the root: objects referenced from outside the heap.
    pub roots: usize,
    /// `weak` edges.
    pub weak_edges: usize,
    /// Sum of the nodes' `self_size`.
    pub total_size: u64,
    /// Bytes of JSON written.
    pub bytes: u64,
}

/// Writes a V8 heap snapshot of this thread's heap to `path` (a
/// `.heapsnapshot` file for Chrome DevTools' Memory panel or memlab); see
/// [the module docs](crate::objgraph#heap-snapshots) for the mapping.
/// Runs [`collect()`](crate::collect) first.
///
/// # Errors
///
/// Creating or writing the file.
///
/// ```no_run
/// let stats = gc_core::objgraph::write_heap_snapshot("before.heapsnapshot")?;
/// println!("{} objects, {} bytes", stats.objects, stats.bytes);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_heap_snapshot(path: impl AsRef<Path>) -> io::Result<SnapshotStats> {
    let mut file = File::create(path)?;
    heap_snapshot_to(&mut file)
}

/// [`write_heap_snapshot`], writing to `out` (buffered here: a `File` need
/// not be wrapped).
///
/// # Errors
///
/// Only from `out`.
///
/// ```
/// use gc_core::objgraph;
/// use gc_core::{Gc, Trace};
/// use std::cell::RefCell;
///
/// #[derive(Trace)]
/// struct Module {
///     _cache: RefCell<Vec<Gc<Job>>>,
/// }
///
/// #[derive(Trace)]
/// struct Job {
///     next: Option<Gc<Job>>,
///     name: Gc<String>,
/// }
///
/// let module = Gc::new(Module { _cache: RefCell::new(Vec::new()) });
/// let name = Gc::new(String::from("seed"));
/// module._cache.borrow_mut().push(Gc::new(Job { next: None, name }));
///
/// let mut out = Vec::new();
/// let stats = objgraph::heap_snapshot_to(&mut out)?;
/// let json = String::from_utf8(out).unwrap();
/// assert!(json.starts_with(r#"{"snapshot":{"meta":{"node_fields":["type","name","id","#));
/// // The root, `Module`, `Job` and the untracked `String`:
/// assert_eq!((stats.nodes, stats.objects, stats.leaves), (4, 2, 1));
/// assert!(json.contains(&format!(r#""node_count":4,"edge_count":{}"#, stats.edges)));
/// // Node names are type names, but a string's is its text; edge names are
/// // field paths.
/// let strings = &json[json.find(r#""strings":["(GC roots)""#).unwrap()..];
/// for name in ["Module", "Job", "seed", "_cache[0]", "name"] {
///     assert!(strings.contains(&format!("\"{name}\"")), "{name}");
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn heap_snapshot_to(out: &mut dyn Write) -> io::Result<SnapshotStats> {
    crate::collect();
    let graph = match heap() {
        Some(heap) => Graph::gather(heap),
        None => Graph::default(),
    };
    let mut counter = Counting {
        inner: out,
        bytes: 0,
    };
    let mut buffered = BufWriter::with_capacity(1 << 16, &mut counter);
    graph.write(&mut buffered)?;
    buffered.flush()?;
    drop(buffered);
    let mut stats = graph.stats;
    stats.bytes = counter.bytes;
    Ok(stats)
}

/// V8's node types (`node_types[0]`), in their order: a node's `type` is an
/// index into this list.
const NODE_TYPES: [&str; 15] = [
    "hidden",
    "array",
    "string",
    "object",
    "code",
    "closure",
    "regexp",
    "number",
    "native",
    "synthetic",
    "concatenated string",
    "sliced string",
    "symbol",
    "bigint",
    "object shape",
];
const STRING: u8 = 2;
const OBJECT: u8 = 3;
const CLOSURE: u8 = 5;
const NATIVE: u8 = 8;
const SYNTHETIC: u8 = 9;

/// V8's edge types (`edge_types[0]`).
const EDGE_TYPES: [&str; 7] = [
    "context", "element", "property", "internal", "hidden", "shortcut", "weak",
];
const ELEMENT: u8 = 1;
const PROPERTY: u8 = 2;
const WEAK: u8 = 6;

/// Numbers per node in `nodes` (`node_fields`): `to_node` is a node's index
/// times this.
const NODE_FIELDS: usize = 7;

/// The root's id (V8 numbers its synthetic root 1 too).
const ROOT_ID: u64 = 1;

/// The root's name, string 0.
const ROOT_NAME: &str = "(GC roots)";

/// A label for an edge whose path is empty: the value is the `Gc` itself
/// (`Gc<Option<Gc<T>>>`, a closure's lone capture).
const VALUE_LABEL: &str = "(value)";

/// One node: `type`, `name`, `id`, `self_size`, `edge_count` (the
/// `trace_node_id` and `detachedness` fields are always 0).
#[derive(Clone, Copy)]
struct Node {
    kind: u8,
    name: u32,
    id: u64,
    size: u64,
    edge_count: u32,
}

/// One edge: `type`, `name_or_index` (a string index, or an element's
/// index), and the target's node number.
#[derive(Clone, Copy)]
struct Edge {
    kind: u8,
    name_or_index: u64,
    to: u32,
}

/// Every name, each once, in order of first use.
#[derive(Default)]
struct Strings {
    list: Vec<Box<str>>,
    index: HashMap<Box<str>, u32>,
}

impl Strings {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = u32::try_from(self.list.len()).expect("more than 4G distinct names");
        self.list.push(s.into());
        self.index.insert(s.into(), i);
        i
    }
}

/// The snapshot as numbers, read from the heap without running user code.
#[derive(Default)]
struct Graph {
    nodes: Vec<Node>,
    /// The objects' edges, in node order (the root's are `root_edges`).
    edges: Vec<Edge>,
    /// Node numbers of the root's targets.
    root_edges: Vec<u32>,
    strings: Strings,
    stats: SnapshotStats,
}

/// A node number as an index.
fn index(n: u32) -> usize {
    n as usize
}

impl Graph {
    /// Reads the heap. No user code runs: tracing is the `Trace` contract's
    /// (which forbids creating or dropping handles), names come from the
    /// vtables, and ids from the heap's table.
    fn gather(heap: &Heap) -> Graph {
        let mut graph = Graph::default();
        graph.strings.intern(ROOT_NAME);
        graph.nodes.push(Node {
            kind: SYNTHETIC,
            name: 0,
            id: ROOT_ID,
            size: 0,
            edge_count: 0,
        });

        // Node numbers: the root, then the tracked objects in list order,
        // then the leaves as edges reach them.
        let mut objects = Vec::new();
        heap.for_each(Lists::Tracked, |h, _| objects.push(h));
        let mut numbers: AddrMap<u32> = AddrMap::default();
        numbers.reserve(objects.len());
        for (i, h) in objects.iter().enumerate() {
            numbers.insert(h.as_ptr().addr(), node_number(i + 1));
        }
        for_each_root(heap, Lists::Tracked, |h| {
            graph.root_edges.push(numbers[&h.as_ptr().addr()]);
        });

        let mut names = Names::default();
        let mut leaves: Vec<(HeaderPtr, usize)> = Vec::new();
        let mut label = String::new();
        for &h in &objects {
            let (kind, name) = names.of(h, false, &mut graph.strings);
            let first_edge = graph.edges.len();
            let mut visit = |child: HeaderPtr, path: &[Segment], held: EdgeKind| {
                let to = *numbers.entry(child.as_ptr().addr()).or_insert_with(|| {
                    leaves.push((child, 0));
                    node_number(objects.len() + leaves.len())
                });
                let leaf = index(to).checked_sub(objects.len() + 1);
                if let (Some(leaf), EdgeKind::Gc) = (leaf, held) {
                    leaves[leaf].1 += 1;
                }
                graph
                    .edges
                    .push(edge(held, path, to, &mut label, &mut graph.strings));
            };
            // SAFETY: `h` is on a list, so allocated; `trace_kinded_edges`
            // skips a value that is dropped or condemned; nothing has run
            // since the walk that could free it (no user code runs here).
            unsafe { trace_kinded_edges(h, &mut visit) };
            graph.push_node(heap, h, kind, name, graph.edges.len() - first_edge);
        }
        graph.stats.objects = objects.len();

        for &(h, gc_refs) in &leaves {
            let (kind, name) = names.of(h, true, &mut graph.strings);
            graph.push_node(heap, h, kind, name, 0);
            if exceeds(h, gc_refs) {
                let number = graph.nodes.len() - 1;
                graph.root_edges.push(node_number(number));
            }
        }
        graph.stats.leaves = leaves.len();

        graph.nodes[0].edge_count = count(graph.root_edges.len());
        graph.stats.nodes = graph.nodes.len();
        graph.stats.roots = graph.root_edges.len();
        graph.stats.edges = graph.edges.len() + graph.root_edges.len();
        graph.stats.weak_edges = graph.edges.iter().filter(|e| e.kind == WEAK).count();
        graph.stats.total_size = graph.nodes.iter().map(|n| n.size).sum();
        graph
    }

    /// Appends the node of the object `h`.
    fn push_node(&mut self, heap: &Heap, h: HeaderPtr, kind: u8, name: u32, edges: usize) {
        // SAFETY: `h` was found on a list or through an edge of a live
        // value, and nothing ran since that could free it.
        let (_, layout) = unsafe { allocation(h) };
        self.nodes.push(Node {
            kind,
            name,
            // SAFETY: as above.
            id: unsafe { snapshot_id(heap, h) },
            size: layout.size() as u64,
            edge_count: count(edges),
        });
    }

    /// Writes the JSON: the header with the counts, then `nodes`, `edges`
    /// and `strings`, each node's edges after the previous node's.
    fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut num = Itoa::default();
        out.write_all(br#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[["#)?;
        write_list(out, &NODE_TYPES)?;
        out.write_all(br#"],"string","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["#)?;
        write_list(out, &EDGE_TYPES)?;
        out.write_all(br#"],"string_or_number","node"],"trace_function_info_fields":[],"trace_node_fields":[],"sample_fields":[],"location_fields":[]},"node_count":"#)?;
        num.write(out, self.nodes.len() as u64)?;
        out.write_all(br#","edge_count":"#)?;
        num.write(out, self.stats.edges as u64)?;
        out.write_all(b",\"trace_function_count\":0},\n\"nodes\":[")?;
        for (i, node) in self.nodes.iter().enumerate() {
            out.write_all(if i == 0 { b"" } else { b",\n" })?;
            num.write(out, u64::from(node.kind))?;
            out.write_all(b",")?;
            num.write(out, u64::from(node.name))?;
            out.write_all(b",")?;
            num.write(out, node.id)?;
            out.write_all(b",")?;
            num.write(out, node.size)?;
            out.write_all(b",")?;
            num.write(out, u64::from(node.edge_count))?;
            out.write_all(b",0,0")?;
        }
        out.write_all(b"],\n\"edges\":[")?;
        let root_edges = self.root_edges.iter().enumerate().map(|(i, &to)| Edge {
            kind: ELEMENT,
            name_or_index: i as u64,
            to,
        });
        for (i, edge) in root_edges.chain(self.edges.iter().copied()).enumerate() {
            out.write_all(if i == 0 { b"" } else { b",\n" })?;
            num.write(out, u64::from(edge.kind))?;
            out.write_all(b",")?;
            num.write(out, edge.name_or_index)?;
            out.write_all(b",")?;
            num.write(out, u64::from(edge.to) * NODE_FIELDS as u64)?;
        }
        out.write_all(b"],\n\"trace_function_infos\":[],\"trace_tree\":[],\"samples\":[],\"locations\":[],\n\"strings\":[")?;
        for (i, s) in self.strings.list.iter().enumerate() {
            out.write_all(if i == 0 { b"" } else { b",\n" })?;
            write_json_string(out, s)?;
        }
        out.write_all(b"]}\n")
    }
}

/// The node number of the `i`th node.
fn node_number(i: usize) -> u32 {
    u32::try_from(i).expect("more than 4G objects in one snapshot")
}

/// An edge count as stored.
fn count(n: usize) -> u32 {
    u32::try_from(n).expect("more than 4G edges from one object")
}

/// The edge for a traced reference: `element` for a top-level sequence's
/// element (`[3]`), else named by the label path.
fn edge(
    held: EdgeKind,
    path: &[Segment],
    to: u32,
    label: &mut String,
    strings: &mut Strings,
) -> Edge {
    let kind = if held == EdgeKind::Weak {
        WEAK
    } else {
        PROPERTY
    };
    if let ([Segment::Index(i)], PROPERTY) = (path, kind) {
        return Edge {
            kind: ELEMENT,
            name_or_index: *i as u64,
            to,
        };
    }
    label.clear();
    write_label(path, label);
    let name = if label.is_empty() {
        VALUE_LABEL
    } else {
        label.as_str()
    };
    Edge {
        kind,
        name_or_index: u64::from(strings.intern(name)),
        to,
    }
}

/// Node types and names, computed once per value type (by vtable).
#[derive(Default)]
struct Names {
    by_vtable: HashMap<usize, (u8, u32)>,
}

impl Names {
    /// The node type and name of `h`. A leaf (`leaf`: reached by an edge,
    /// not on a walked list) that holds a `String` or a `str` is a `string`
    /// node named by its text.
    fn of(&mut self, h: HeaderPtr, leaf: bool, strings: &mut Strings) -> (u8, u32) {
        // SAFETY: allocated (the callers found `h` on a list or through an
        // edge of a live value, and nothing ran since).
        let header = unsafe { header_ref(h) };
        let vtable = header.vtable();
        if leaf
            && !header.has(flags::VALUE_DROPPED | flags::CONDEMNED)
            && let Some(text) = string_value(h, (vtable.type_id)())
        {
            return (STRING, strings.intern(&truncate(text.to_owned())));
        }
        let key = std::ptr::from_ref(vtable).addr();
        *self.by_vtable.entry(key).or_insert_with(|| {
            let name = short_type_name((vtable.type_name)());
            let kind = if name.starts_with("Closure<") {
                CLOSURE
            } else if leaf {
                NATIVE
            } else {
                OBJECT
            };
            (kind, strings.intern(&name))
        })
    }
}

/// The text of a box holding a `String` or a `str`.
fn string_value<'a>(h: HeaderPtr, type_id: std::any::TypeId) -> Option<&'a str> {
    if type_id == std::any::TypeId::of::<String>() {
        // SAFETY: the box holds a `String` (type checked) whose value is
        // live: the caller checked that it is neither dropped nor
        // condemned (a condemned value may be mid-drop), and the edge that
        // reached it holds a strong count. The reference is used before
        // anything else runs.
        Some(unsafe { value_ref::<String>(h) }.as_str())
    } else if type_id == std::any::TypeId::of::<str>() {
        // SAFETY: as above, for a `str` box.
        Some(unsafe { value_ref::<str>(h) })
    } else {
        None
    }
}

/// Writes `"a","b",...`.
fn write_list(out: &mut dyn Write, items: &[&str]) -> io::Result<()> {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_json_string(out, item)?;
    }
    Ok(())
}

/// Writes `s` as a JSON string.
fn write_json_string(out: &mut dyn Write, s: &str) -> io::Result<()> {
    out.write_all(b"\"")?;
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.write_all(&bytes[start..i])?;
        match escaped {
            Some(e) => out.write_all(e)?,
            None => write!(out, "\\u{b:04x}")?,
        }
        start = i + 1;
    }
    out.write_all(&bytes[start..])?;
    out.write_all(b"\"")
}

/// Decimal formatting without `fmt`'s machinery: the snapshot is mostly
/// numbers.
#[derive(Default)]
struct Itoa {
    buf: [u8; 20],
}

impl Itoa {
    fn write(&mut self, out: &mut dyn Write, mut n: u64) -> io::Result<()> {
        let mut at = self.buf.len();
        loop {
            at -= 1;
            self.buf[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        out.write_all(&self.buf[at..])
    }
}

/// Counts the bytes written through it.
struct Counting<'a> {
    inner: &'a mut dyn Write,
    bytes: u64,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        let mut out = Vec::new();
        write_json_string(&mut out, "a\"b\\c\nd\u{1}é").unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), r#""a\"b\\c\nd\u0001é""#);
    }

    #[test]
    fn numbers_are_decimal() {
        let mut out = Vec::new();
        let mut num = Itoa::default();
        for n in [0, 7, 10, 1234567890, u64::MAX] {
            num.write(&mut out, n).unwrap();
            out.push(b' ');
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "0 7 10 1234567890 18446744073709551615 "
        );
    }

    #[test]
    fn labels_map_to_element_and_property_edges() {
        let mut strings = Strings::default();
        let mut label = String::new();
        let element = edge(
            EdgeKind::Gc,
            &[Segment::Index(4)],
            9,
            &mut label,
            &mut strings,
        );
        assert_eq!(
            (element.kind, element.name_or_index, element.to),
            (ELEMENT, 4, 9)
        );
        let nested = [Segment::Field("_cache"), Segment::Index(2)];
        let property = edge(EdgeKind::Gc, &nested, 3, &mut label, &mut strings);
        assert_eq!(property.kind, PROPERTY);
        assert_eq!(&*strings.list[property.name_or_index as usize], "_cache[2]");
        let weak = edge(
            EdgeKind::Weak,
            &[Segment::Index(1)],
            3,
            &mut label,
            &mut strings,
        );
        assert_eq!(weak.kind, WEAK);
        assert_eq!(&*strings.list[weak.name_or_index as usize], "[1]");
        let bare = edge(EdgeKind::Object, &[], 3, &mut label, &mut strings);
        assert_eq!(&*strings.list[bare.name_or_index as usize], VALUE_LABEL);
        // Interned once.
        let again = edge(EdgeKind::Gc, &nested, 5, &mut label, &mut strings);
        assert_eq!(again.name_or_index, property.name_or_index);
    }
}
