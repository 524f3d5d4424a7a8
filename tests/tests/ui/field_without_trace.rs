use gc_core::{Gc, Trace};

struct Socket {
    fd: i32,
}

#[derive(Trace)]
struct Connection {
    peer: Option<Gc<Connection>>,
    socket: Socket,
}

fn main() {}
