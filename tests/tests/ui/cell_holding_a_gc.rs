use gc_core::{Gc, Trace};
use std::cell::Cell;

// A `Cell` holds only `Copy` values, and a `Gc` is not `Copy`: the error
// names the user's type (`Gc<Node>`), not the derive's placeholder.
#[derive(Trace)]
struct Node {
    next: Cell<Option<Gc<Node>>>,
}

fn main() {}
