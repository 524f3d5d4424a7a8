use gc_core::{Gc, Trace};

#[derive(Trace)]
struct Node {
    next: Option<Gc<Node>>,
}

fn share(gc: Gc<Node>) {
    std::thread::spawn(move || drop(gc));
}

fn main() {}
