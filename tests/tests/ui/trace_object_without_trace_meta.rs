use gc_core::{Gc, Trace, Tracer};

struct Pair {
    left: Option<Gc<Pair>>,
}

// SAFETY: reports `left`, once.
unsafe impl Trace for Pair {
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        tracer.field("left", |t| self.left.trace(t));
    }
}

fn main() {
    // A hand-written `Trace` impl needs `TraceMeta` too.
    let _ = Gc::new(Pair { left: None });
}
