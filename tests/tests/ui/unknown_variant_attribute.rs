use gc_core::{Gc, Trace};

#[derive(Trace)]
enum Value {
    #[gc(skip_all)]
    Cached(Gc<u32>),
    Plain(u32),
}

fn main() {}
