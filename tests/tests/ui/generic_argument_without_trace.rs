use gc_core::{Gc, Trace};

struct Socket;

#[derive(Trace)]
struct Wrapper<T> {
    items: Vec<T>,
}

fn share(sockets: Vec<Socket>) -> Gc<Wrapper<Socket>> {
    Gc::new(Wrapper { items: sockets })
}

fn main() {}
