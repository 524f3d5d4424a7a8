use gc_core::{Gc, Trace};

// `bound` replaces the inferred `Vec<T>: Trace`; what it adds is required of every use.
#[derive(Trace)]
#[gc(bound = "T: Trace + Clone")]
struct Tagged<T>(Vec<T>);

#[derive(Trace)]
struct Token(u32);

fn share(tagged: Tagged<Token>) -> Gc<Tagged<Token>> {
    Gc::new(tagged)
}

fn main() {}
