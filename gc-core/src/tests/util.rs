//! Test helpers: a node type with a manual `Trace` impl (the derive is
//! tested elsewhere) and a drop counter.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::{Gc, Trace, Tracer};

/// A node with any number of strong edges and a shared drop counter.
pub(crate) struct Node {
    pub(crate) edges: RefCell<Vec<Gc<Node>>>,
    pub(crate) drops: Rc<Cell<usize>>,
}

// SAFETY: reports each owned edge once.
unsafe impl Trace for Node {
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        tracer.field("edges", |t| self.edges.trace(t));
    }
}

impl gc_core::TraceMeta for Node {}

impl Drop for Node {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
    }
}

impl Node {
    pub(crate) fn new(drops: &Rc<Cell<usize>>) -> Gc<Node> {
        Gc::new(Node {
            edges: RefCell::new(Vec::new()),
            drops: drops.clone(),
        })
    }

    pub(crate) fn link(from: &Gc<Node>, to: &Gc<Node>) {
        from.edges.borrow_mut().push(to.clone());
    }
}
