use gc_core::Trace;

#[derive(Trace)]
#[gc(bound)]
struct Wrapper<T>(T);

fn main() {}
