use gc_core::{Gc, Trace};

// `File` is another crate's type: the note says to wrap it in a newtype or
// skip the field, since `#[derive(Trace)]` cannot be added to it.
#[derive(Trace)]
struct Log {
    file: std::fs::File,
    next: Option<Gc<Log>>,
}

fn main() {}
