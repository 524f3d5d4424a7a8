//! A crate that depends on gc-core renamed to `gcx` in `Cargo.toml`.

use std::cell::RefCell;

use gcx::Gc;

/// A node whose derive is told where the runtime is.
#[derive(gcx::Trace)]
#[gc(crate = "gcx")]
pub struct Node {
    /// The next node.
    pub next: RefCell<Option<Gc<Node>>>,
    /// Not traced: plain data.
    pub label: String,
}

/// A generic wrapper, with a finalizer, through the renamed path too.
#[derive(gcx::Trace)]
#[gc(crate = "::gcx", finalize)]
pub struct Wrapper<T: 'static>(pub T);

impl<T: 'static> gcx::Finalize for Wrapper<T> {
    fn finalize(&self) {}
}
