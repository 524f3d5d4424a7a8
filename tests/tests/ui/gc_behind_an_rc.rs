use gc_core::{Gc, Trace};
use std::cell::RefCell;
use std::rc::Rc;

// A `Gc` behind an `Rc` is an edge the collector cannot see: the cycle
// `Env -> Rc -> RefCell -> Gc<Env>` would leak with `collect()` returning 0.
#[derive(Trace)]
struct Env {
    parent: Option<Rc<RefCell<Gc<Env>>>>,
    // Gc-free contents are fine.
    name: Rc<str>,
}

fn main() {
    let _ = Gc::new(Env { parent: None, name: Rc::from("global") });
}
