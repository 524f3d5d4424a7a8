// `#[gc(unsafe_no_drop)]` alone does not allow a `Drop` impl: the promise that `drop` never
// uses a `Gc` is an `unsafe impl DropOk`.

use gc_core::{Gc, Trace};

#[derive(Trace)]
#[gc(unsafe_no_drop)]
struct Handle {
    id: u32,
    next: Option<Gc<Handle>>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        println!("closing {}", self.id);
    }
}

fn main() {}
