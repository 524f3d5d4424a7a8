use gc_core::{Gc, Trace};

#[derive(Trace)]
#[gc(skip, finalise, bound = 1)]
enum Shape {
    Circle {
        #[gc(skipp)]
        center: Gc<(f64, f64)>,
        #[gc(skip = "yes", crate = "gc_core")]
        radius: f64,
    },
    #[gc(finalize)]
    Point(Gc<(f64, f64)>),
}

fn main() {}
