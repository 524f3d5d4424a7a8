use gc_core::{Gc, Trace};

#[derive(Trace)]
#[gc(skip)]
struct Cache {
    entries: Vec<Gc<u32>>,
}

fn main() {}
