use gc_core::{Gc, Trace};

#[derive(Trace)]
#[gc(finalise)]
struct Node {
    next: Option<Gc<Node>>,
}

fn main() {}
