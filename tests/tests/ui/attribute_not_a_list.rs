use gc_core::{Gc, Trace};

#[derive(Trace)]
struct Node {
    #[gc]
    next: Option<Gc<Node>>,
    #[gc = "skip"]
    cache: Option<Gc<Node>>,
}

fn main() {}
