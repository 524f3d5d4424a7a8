//! Edge labels: where inside its owner an edge was found, the tracer that
//! reports them to introspection, and [`trace_edges`], the type-erased walk
//! over a value's edges (CPython's `tp_traverse` call) that every tool uses
//! ([`trace_kinded_edges`] also reports weak edges, for heap snapshots).

use super::{Tracer, sealed};
use crate::layout::{HeaderPtr, WeakCell, flags, header_ref};

/// A segment of an edge label: where inside its owner an edge was found.
#[derive(Clone, Debug)]
#[doc(hidden)]
pub enum Segment {
    Field(&'static str),
    Index(usize),
    /// The value of the map entry with this key label: `["x"]`.
    Key(Box<str>),
    /// The key of the map entry with this key label: `.keys["x"]`.
    KeyOf(Box<str>),
}

/// The longest key label or description the tools print, in characters,
/// as objgraph cuts a `repr` at 40.
pub(crate) const MAX_LABEL: usize = 40;

/// A writer that keeps the first [`MAX_LABEL`]` + 1` characters and then
/// fails, ending the formatting: enough for [`truncate`] to see that the
/// text was longer.
pub(crate) struct Bounded<'a> {
    out: &'a mut String,
    left: usize,
}

impl<'a> Bounded<'a> {
    pub(crate) fn new(out: &'a mut String) -> Self {
        Bounded {
            out,
            left: MAX_LABEL + 1,
        }
    }
}

impl std::fmt::Write for Bounded<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for c in s.chars() {
            if self.left == 0 {
                return Err(std::fmt::Error);
            }
            self.out.push(c);
            self.left -= 1;
        }
        Ok(())
    }
}

/// `text` cut to [`MAX_LABEL`] characters, with `…` where it was cut.
pub(crate) fn truncate(mut text: String) -> Box<str> {
    if let Some((at, _)) = text.char_indices().nth(MAX_LABEL - 1)
        && text[at..].chars().nth(1).is_some()
    {
        text.truncate(at);
        text.push('…');
    }
    text.into_boxed_str()
}

/// Renders a label path as Rust-like syntax: `next`, `.0`, `items[3]`,
/// `Variant.field`, `a.b[2].0`.
pub(crate) fn render_label(path: &[Segment]) -> String {
    let mut out = String::new();
    write_label(path, &mut out);
    out
}

/// [`render_label`], appending to `out` (a walk over many edges reuses one
/// buffer).
pub(crate) fn write_label(path: &[Segment], out: &mut String) {
    use std::fmt::Write;
    for (i, seg) in path.iter().enumerate() {
        match seg {
            Segment::Field(name) => {
                let numeric = name.starts_with(|c: char| c.is_ascii_digit());
                if i > 0 || numeric {
                    out.push('.');
                }
                out.push_str(name);
            }
            Segment::Index(n) => {
                let _ = write!(out, "[{n}]");
            }
            Segment::Key(key) => {
                let _ = write!(out, "[{key}]");
            }
            Segment::KeyOf(key) => {
                if i > 0 {
                    out.push('.');
                }
                let _ = write!(out, "keys[{key}]");
            }
        }
    }
}

/// The tracer behind introspection: calls `visit` for each strong edge with
/// the label path that leads to it. Not used by collections.
pub(crate) struct DynTracer<'a> {
    path: Vec<Segment>,
    visit: Visit<'a>,
    /// Whether map entries are labelled by their keys (which costs a string
    /// per entry): only for walks that render labels.
    key_labels: bool,
}

/// Where a [`DynTracer`] reports edges.
enum Visit<'a> {
    /// The strong edges `Edges` selects.
    Strong(&'a mut dyn FnMut(HeaderPtr, &[Segment]), Edges),
    /// Every edge, strong and weak, with what holds it
    /// ([`trace_kinded_edges`]).
    Kinded(&'a mut dyn FnMut(HeaderPtr, &[Segment], EdgeKind)),
}

/// Which strong edges a [`trace_edges_of`] walk reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Edges {
    /// Every strong edge.
    All,
    /// Only the edges held by `Gc`s (not by stored `Object`s).
    Gc,
    /// Only the edges held by `Object`s stored in a value.
    Objects,
}

/// What holds an edge that [`trace_kinded_edges`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EdgeKind {
    /// A `Gc`: a strong edge.
    Gc,
    /// An `Object` stored in the value: a strong edge, also counted as an
    /// introspection handle.
    Object,
    /// A `Weak` whose object is alive: keeps nothing alive.
    Weak,
}

impl<'a> DynTracer<'a> {
    fn new(visit: Visit<'a>, key_labels: bool) -> Self {
        DynTracer {
            path: Vec::new(),
            visit,
            key_labels,
        }
    }
}

impl sealed::Sealed for DynTracer<'_> {}

impl Tracer for DynTracer<'_> {
    fn field<F: FnOnce(&mut Self)>(&mut self, name: &'static str, trace: F) {
        self.path.push(Segment::Field(name));
        trace(self);
        self.path.pop();
    }

    fn index<F: FnOnce(&mut Self)>(&mut self, index: usize, trace: F) {
        self.path.push(Segment::Index(index));
        trace(self);
        self.path.pop();
    }

    fn __push_label(&mut self, segment: Segment) {
        self.path.push(segment);
    }

    fn __wants_key_labels(&self) -> bool {
        self.key_labels
    }

    fn __pop_label(&mut self) {
        self.path.pop();
    }

    fn __edge_header(&mut self, header: HeaderPtr) {
        match &mut self.visit {
            Visit::Strong(visit, edges) => {
                if *edges != Edges::Objects {
                    visit(header, &self.path);
                }
            }
            Visit::Kinded(visit) => visit(header, &self.path, EdgeKind::Gc),
        }
    }

    fn __object_edge(&mut self, header: HeaderPtr) {
        match &mut self.visit {
            Visit::Strong(visit, edges) => {
                if *edges != Edges::Gc {
                    visit(header, &self.path);
                }
            }
            Visit::Kinded(visit) => visit(header, &self.path, EdgeKind::Object),
        }
    }

    fn __weak_cell(&mut self, cell: &WeakCell) {
        if let (Visit::Kinded(visit), Some(target)) = (&mut self.visit, cell.target.get()) {
            visit(target, &self.path, EdgeKind::Weak);
        }
    }
}

/// Traces `h`'s value with labels, calling `visit` for each strong edge.
/// Does nothing if the object is condemned by a running collection or its
/// value was dropped: nothing may trace a value that is being or has been
/// dropped, and a condemned object's value is dropped by the teardown walk
/// at any moment (it is being dropped while user code runs from its own
/// fields' destructors, before `VALUE_DROPPED` is set).
///
/// # Safety
///
/// `h` is allocated, and its value is not being dropped other than by a
/// collection's teardown.
pub(crate) unsafe fn trace_edges(h: HeaderPtr, visit: &mut dyn FnMut(HeaderPtr, &[Segment])) {
    // SAFETY: forwarded from the caller.
    unsafe { trace_edges_of(h, Edges::All, visit) }
}

/// [`trace_edges`], with map entries labelled by their keys where the keys
/// have labels (`vars["x"]`): for the walks that render labels.
///
/// # Safety
///
/// As [`trace_edges`].
pub(crate) unsafe fn trace_labelled_edges(
    h: HeaderPtr,
    visit: &mut dyn FnMut(HeaderPtr, &[Segment]),
) {
    // SAFETY: forwarded from the caller.
    unsafe { walk(h, Visit::Strong(visit, Edges::All), true) }
}

/// Every edge of `h`'s value, strong and weak (to objects still alive),
/// labelled as [`trace_labelled_edges`] labels them, with what holds each
/// ([`EdgeKind`]): the walk behind heap snapshots.
///
/// # Safety
///
/// As [`trace_edges`].
pub(crate) unsafe fn trace_kinded_edges(
    h: HeaderPtr,
    visit: &mut dyn FnMut(HeaderPtr, &[Segment], EdgeKind),
) {
    // SAFETY: forwarded from the caller.
    unsafe { walk(h, Visit::Kinded(visit), true) }
}

/// [`trace_edges`], reporting only the edges `edges` selects.
///
/// # Safety
///
/// As [`trace_edges`].
pub(crate) unsafe fn trace_edges_of(
    h: HeaderPtr,
    edges: Edges,
    visit: &mut dyn FnMut(HeaderPtr, &[Segment]),
) {
    // SAFETY: forwarded from the caller.
    unsafe { walk(h, Visit::Strong(visit, edges), false) }
}

/// The walk behind [`trace_edges_of`], [`trace_labelled_edges`] and
/// [`trace_kinded_edges`].
///
/// # Safety
///
/// As [`trace_edges`].
unsafe fn walk(h: HeaderPtr, visit: Visit<'_>, key_labels: bool) {
    // SAFETY: allocated (caller).
    let header = unsafe { header_ref(h) };
    if header.has(flags::VALUE_DROPPED | flags::CONDEMNED) {
        return;
    }
    let mut tracer = DynTracer::new(visit, key_labels);
    // SAFETY: the value is live (checked above); the vtable matches.
    unsafe { (header.vtable().trace_dyn)(h, &mut tracer) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_render_like_rust_paths() {
        use Segment::*;
        assert_eq!(render_label(&[Field("next")]), "next");
        assert_eq!(render_label(&[Field("0")]), ".0");
        assert_eq!(render_label(&[Field("items"), Index(3)]), "items[3]");
        assert_eq!(render_label(&[Field("Variant.field")]), "Variant.field");
        assert_eq!(
            render_label(&[Field("a"), Field("b"), Index(2), Field("0")]),
            "a.b[2].0"
        );
        assert_eq!(render_label(&[Index(1)]), "[1]");
        assert_eq!(render_label(&[]), "");
        let key = || Box::<str>::from("\"x\"");
        assert_eq!(render_label(&[Field("vars"), Key(key())]), r#"vars["x"]"#);
        assert_eq!(
            render_label(&[Field("vars"), KeyOf(key())]),
            r#"vars.keys["x"]"#
        );
        assert_eq!(render_label(&[Key(key()), Field("0")]), r#"["x"].0"#);
        assert_eq!(render_label(&[KeyOf(key())]), r#"keys["x"]"#);
    }

    #[test]
    fn long_labels_are_cut_at_forty_characters() {
        assert_eq!(&*truncate("short".into()), "short");
        let forty = "x".repeat(MAX_LABEL);
        assert_eq!(&*truncate(forty.clone()), forty);
        let cut = truncate(format!("{forty}y"));
        assert_eq!(cut.chars().count(), MAX_LABEL);
        assert!(cut.ends_with("x…"));
        // By characters, not bytes.
        let wide = "λ".repeat(MAX_LABEL + 5);
        assert_eq!(truncate(wide).chars().count(), MAX_LABEL);
    }

    #[test]
    fn the_bounded_writer_stops_after_one_character_more_than_printed() {
        use std::fmt::Write as _;
        let mut out = String::new();
        let long = "y".repeat(10_000);
        assert!(write!(Bounded::new(&mut out), "{long:?}").is_err());
        assert_eq!(out.chars().count(), MAX_LABEL + 1);
        assert_eq!(truncate(out).chars().count(), MAX_LABEL);
        let mut out = String::new();
        assert!(write!(Bounded::new(&mut out), "{:?}", "short").is_ok());
        assert_eq!(out, "\"short\"");
    }
}
