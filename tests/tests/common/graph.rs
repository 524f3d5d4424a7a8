//! Types and helpers shared by the `gc_core::objgraph` tests
//! (`test_objgraph_*.rs`): a named graph node, a registry with entries in a
//! `Vec` and a `HashMap`, a finalizable node, and the golden heap the chain
//! searches and the Graphviz golden files are built from.

use std::cell::RefCell;
use std::collections::HashMap;

use gc_core::{Finalize, Gc, Object, Trace};

/// A graph node with any number of strong edges.
#[derive(Trace)]
pub struct Node {
    pub name: &'static str,
    pub edges: RefCell<Vec<Gc<Node>>>,
}

/// A new node with no edges.
pub fn node(name: &'static str) -> Gc<Node> {
    Gc::new(Node {
        name,
        edges: RefCell::new(Vec::new()),
    })
}

/// Adds the edge `from -> to`.
pub fn link(from: &Gc<Node>, to: &Gc<Node>) {
    from.edges.borrow_mut().push(to.clone());
}

/// Empties every node's edges: breaks all cycles among `nodes`.
pub fn unlink_all(nodes: &[Gc<Node>]) {
    for n in nodes {
        n.edges.borrow_mut().clear();
    }
}

/// A registry with its entries in a `Vec` and in a `HashMap`.
#[derive(Trace)]
pub struct Registry {
    pub list: RefCell<Vec<Gc<Holder>>>,
    pub map: RefCell<HashMap<String, Gc<Holder>>>,
}

/// Holds one node: the entries of a [`Registry`], or alone.
#[derive(Trace)]
pub struct Holder {
    pub item: RefCell<Option<Gc<Node>>>,
}

/// A node whose type has a finalizer (Python's `__del__`).
#[derive(Trace)]
#[gc(finalize)]
pub struct Closing {
    pub next: RefCell<Option<Gc<Closing>>>,
}

impl Finalize for Closing {
    fn finalize(&self) {}
}

// The golden heap: a document, its sections (which point back at it), an
// enum field, untracked strings and a finalizer.

#[derive(Trace)]
pub struct Doc {
    pub title: &'static str,
    pub sections: RefCell<Vec<Gc<Section>>>,
    pub meta: Option<Gc<Meta>>,
}

#[derive(Trace)]
pub struct Section {
    pub doc: RefCell<Option<Gc<Doc>>>,
    pub body: Body,
}

#[derive(Trace)]
pub enum Body {
    Empty,
    Text { words: Gc<Words> },
}

#[derive(Trace)]
pub struct Words(pub Vec<Gc<String>>);

#[derive(Trace)]
#[gc(finalize)]
pub struct Meta(pub Gc<String>);

impl Finalize for Meta {
    fn finalize(&self) {}
}

/// Only the document is held by the test (a root); everything else hangs
/// from it.
pub struct GoldenHeap {
    pub doc: Gc<Doc>,
}

impl GoldenHeap {
    pub fn new() -> GoldenHeap {
        gc_core::collect();
        let words = Gc::new(Words(vec![
            Gc::new(String::from("hello")),
            Gc::new(String::from("world")),
        ]));
        let doc = Gc::new(Doc {
            title: "golden",
            sections: RefCell::new(Vec::new()),
            meta: Some(Gc::new(Meta(Gc::new(String::from("author"))))),
        });
        for body in [Body::Text { words }, Body::Empty] {
            let section = Gc::new(Section {
                doc: RefCell::new(Some(doc.clone())),
                body,
            });
            doc.sections.borrow_mut().push(section);
        }
        GoldenHeap { doc }
    }

    /// The string "hello": `doc.sections[0].body.Text.words.0[0]`.
    pub fn hello(&self) -> Object {
        let sections = self.doc.sections.borrow();
        let Body::Text { words } = &sections[0].body else {
            unreachable!("the first section has text")
        };
        Gc::to_object(&words.0[0])
    }
}

impl Drop for GoldenHeap {
    fn drop(&mut self) {
        // Break the doc <-> section cycles, so reference counting frees
        // everything (the `Uncollectable` policy would otherwise keep the
        // finalizer object `Meta` in `gc.garbage`).
        for section in self.doc.sections.borrow().iter() {
            *section.doc.borrow_mut() = None;
        }
    }
}

// ---------------------------------------------------------------------------
// Helpers

/// `gc`'s object.
pub fn obj<T: 'static>(gc: &Gc<T>) -> Object {
    Gc::to_object(gc)
}

/// The identities of `objects`, in order.
pub fn ids(objects: &[Object]) -> Vec<usize> {
    objects.iter().map(Object::id).collect()
}

/// The short type names of the objects of a chain, in order.
pub fn names(chain: &[Object]) -> Vec<String> {
    chain.iter().map(Object::short_type_name).collect()
}

/// Replaces each distinct `o<digits>` node id (an address) by `o1`, `o2`,
/// ... in order of first appearance, so graphs compare across runs.
pub fn normalise(dot: &str) -> String {
    let mut out = String::with_capacity(dot.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    let bytes = dot.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let starts_id = bytes[i] == b'o'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric());
        if starts_id {
            let end = (i + 1..bytes.len())
                .find(|&j| !bytes[j].is_ascii_digit())
                .unwrap_or(bytes.len());
            let next = seen.len() + 1;
            let n = *seen.entry(dot[i + 1..end].to_owned()).or_insert(next);
            out.push_str(&format!("o{n}"));
            i = end;
        } else {
            out.push(bytes[i] as char);
            i += 1;
        }
    }
    out
}

/// Compares a graph with `tests/golden/<name>` after normalising its ids;
/// `UPDATE_GOLDEN=1` rewrites the file instead.
pub fn assert_golden(name: &str, expected: &str, actual: &str) {
    let actual = normalise(actual);
    #[cfg(not(miri))]
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(name);
        std::fs::write(path, &actual).unwrap();
        return;
    }
    assert_eq!(
        actual, expected,
        "{name} differs; if the change is intended, rerun with UPDATE_GOLDEN=1"
    );
}
