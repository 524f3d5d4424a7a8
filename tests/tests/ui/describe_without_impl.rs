use gc_core::{Gc, Trace};

// `#[gc(describe)]` asks for an `impl Describe`: the error points at the
// attribute and says what to add.
#[derive(Trace)]
#[gc(describe)]
struct Lambda {
    name: String,
    env: Option<Gc<Lambda>>,
}

fn main() {}
