use gc_core::Trace;

#[derive(Trace)]
#[gc(crate = gc_core)]
struct Leaf(u32);

fn main() {}
