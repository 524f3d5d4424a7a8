use gc_core::{Gc, Trace};

#[derive(Trace)]
#[gc(finalize)]
struct File {
    name: String,
    parent: Option<Gc<File>>,
}

fn main() {}
