use gc_core::{Gc, Trace};

#[derive(Trace)]
#[repr(C, packed)]
struct Packed {
    tag: u8,
    target: Gc<u64>,
}

fn main() {}
