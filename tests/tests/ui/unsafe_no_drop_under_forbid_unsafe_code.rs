// Under `#![forbid(unsafe_code)]`, `#[gc(unsafe_no_drop)]` cannot be used: the promise it needs
// is an `unsafe impl DropOk`, which the lint rejects, and without that impl the derive fails.

#![forbid(unsafe_code)]

use gc_core::{DropOk, Gc, Trace};

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

// SAFETY: `drop` never touches `next`.
unsafe impl DropOk for Handle {}

// Leaving the `unsafe impl` out does not help.
#[derive(Trace)]
#[gc(unsafe_no_drop)]
struct Unpromised {
    id: u32,
    next: Option<Gc<Unpromised>>,
}

impl Drop for Unpromised {
    fn drop(&mut self) {
        println!("closing {}", self.id);
    }
}

fn main() {}
