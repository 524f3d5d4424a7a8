use gc_core::{Gc, Trace};

#[derive(Trace)]
enum Handle {
    #[gc(unsafe_no_drop)]
    Open(Gc<u32>),
    Closed,
}

fn main() {}
