use gc_core::{Gc, Trace};

#[derive(Trace)]
struct Node {
    #[gc(skip)]
    #[gc(skip)]
    cache: Option<Gc<Node>>,
}

#[derive(Trace)]
#[gc(bound = "T: Trace", bound = "T: Clone")]
struct Wrapper<T>(T);

fn main() {}
