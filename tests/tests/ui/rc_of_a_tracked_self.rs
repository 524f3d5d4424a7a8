use gc_core::{Gc, Trace};
use std::rc::Rc;

// `Rc<Node>` where `Node` holds a `Gc`: the `Gc` in `next` is hidden behind
// the `Rc` in `alias`. Caught when `Node` is traced.
#[derive(Trace)]
struct Node {
    next: Option<Gc<Node>>,
    alias: Option<Rc<Node>>,
}

fn main() {
    let _ = Gc::new(Node { next: None, alias: None });
}
