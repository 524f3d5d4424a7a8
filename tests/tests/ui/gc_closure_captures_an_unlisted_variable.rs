use gc_core::{Closure, Gc, gc_closure};

fn main() {
    let listed = Gc::new(1_u32);
    let hidden = Gc::new(2_u32);
    // `hidden` is not in the capture list: it would be an invisible edge.
    let sum: Closure<dyn Fn() -> u32> = gc_closure!([listed] move || **listed + *hidden);
    let _ = sum();
}
