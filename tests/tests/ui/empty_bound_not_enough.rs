use gc_core::Trace;

// `bound = ""` replaces the inferred `T: Trace` with nothing, so the field cannot be traced.
#[derive(Trace)]
#[gc(bound = "")]
struct Wrapper<T>(T);

fn main() {}
