use gc_core::Trace;

#[derive(Trace)]
#[gc(crate = "gc-core")]
struct Leaf(u32);

fn main() {}
