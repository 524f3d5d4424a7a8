use gc_core::Trace;

#[derive(Trace)]
#[gc(bound = "Trace")]
struct Wrapper<T>(T);

fn main() {}
