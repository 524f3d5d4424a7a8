use gc_core::{Gc, Trace};

#[derive(Trace)]
struct Node<T: 'static> {
    #[gc(bound = "T: Trace")]
    value: T,
    #[gc(finalize)]
    next: Option<Gc<Node<T>>>,
}

fn main() {}
