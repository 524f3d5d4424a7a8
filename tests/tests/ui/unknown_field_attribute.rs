use gc_core::{Gc, Trace};

#[derive(Trace)]
struct Node {
    #[gc(ignore)]
    cache: Option<Gc<Node>>,
}

fn main() {}
