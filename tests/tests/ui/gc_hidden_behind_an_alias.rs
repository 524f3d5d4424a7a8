use gc_core::{Gc, Trace};
use std::cell::RefCell;

// Through an alias the derive cannot see the `Rc`; the trait impls still
// reject the field, in the user's type.
type Shared<T> = std::rc::Rc<T>;

#[derive(Trace)]
struct Env {
    parent: Option<Shared<RefCell<Gc<Env>>>>,
}

fn main() {}
