use gc_core::{Gc, Trace};
use std::cell::RefCell;

#[derive(Trace)]
struct Node {
    name: String,
    next: RefCell<Option<Gc<Node>>>,
}

impl Drop for Node {
    fn drop(&mut self) {
        // Would read a value that a cycle collection may already have dropped.
        if let Some(next) = self.next.borrow().as_ref() {
            println!("{} -> {}", self.name, next.name);
        }
    }
}

fn main() {}
