use gc_core::{Gc, Trace};

#[derive(Trace)]
struct Node {
    #[gc(skip = true)]
    cache: Option<Gc<Node>>,
}

fn main() {}
