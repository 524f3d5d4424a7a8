use gc_core::{Gc, Trace};

#[derive(Trace)]
union Slot {
    int: u64,
    float: f64,
}

#[derive(Trace)]
struct Holder {
    slot: Gc<Slot>,
}

fn main() {}
