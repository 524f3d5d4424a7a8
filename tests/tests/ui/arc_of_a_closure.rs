use gc_core::Trace;
use std::sync::Arc;

// A closure behind an `Arc` or `Rc` is as opaque as one in a `Box`.
#[derive(Trace)]
struct Builtin {
    name: String,
    call: Arc<dyn Fn(i64) -> i64>,
}

fn main() {}
