use gc_core::{Gc, Trace};

// A boxed closure that captures a `Gc` would be an edge the collector cannot
// see: it must be a `gc_core::Closure`, or `#[gc(skip)]` if it holds no `Gc`.
#[derive(Trace)]
struct Button {
    on_click: Box<dyn Fn()>,
    parent: Option<Gc<Button>>,
}

fn main() {}
