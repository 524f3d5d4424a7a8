//! The seed's `Connection`: an object whose handler table holds its own
//! bound methods.
//!
//! ```python
//! class Connection:
//!     def __init__(self):
//!         self.msg_handlers = {CHAT: self.handle_chat_msg, PING: self.handle_ping}
//! ```
//!
//! Each bound method refers back to the connection, so every connection is
//! a cycle: reference counting alone never frees it, and Python's cycle
//! detector does. In Rust a `Box<dyn Fn>` capturing the connection would
//! hide that edge and leak the cycle silently; a `gc_core::Closure` made
//! with `gc_closure!` shows its captures to the collector, which then finds
//! and frees the cycle. Binding the handler weakly (`weakref.WeakMethod`)
//! avoids the cycle altogether.
//!
//! Run with `cargo run --example connection`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use gc_core::objgraph::{self, GraphOptions};
use gc_core::{Closure, Gc, Trace, Weak, gc_closure};

const CHAT: u8 = 1;
const PING: u8 = 2;

type Handler = Closure<dyn Fn(&str)>;

#[derive(Trace)]
struct Connection {
    name: String,
    messages: Cell<usize>,
    msg_handlers: RefCell<HashMap<u8, Handler>>,
}

impl Connection {
    /// Binds the handlers strongly, as `self.handle_chat_msg` does.
    fn new(name: String) -> Gc<Connection> {
        let conn = Gc::new(Connection {
            name,
            messages: Cell::new(0),
            msg_handlers: RefCell::new(HashMap::new()),
        });
        let this = conn.clone();
        let chat: Handler = gc_closure!([this] move |msg: &str| this.handle_chat_msg(msg));
        let this = conn.clone();
        let ping: Handler = gc_closure!([this] move |_msg: &str| this.handle_ping());
        let mut handlers = conn.msg_handlers.borrow_mut();
        handlers.insert(CHAT, chat);
        handlers.insert(PING, ping);
        drop(handlers);
        conn
    }

    /// Binds the handler weakly, as `weakref.WeakMethod` does.
    fn new_weakly_bound(name: String) -> Gc<Connection> {
        let conn = Gc::new(Connection {
            name,
            messages: Cell::new(0),
            msg_handlers: RefCell::new(HashMap::new()),
        });
        let this: Weak<Connection> = Gc::downgrade(&conn);
        let chat: Handler = gc_closure!([this] move |msg: &str| {
            if let Some(this) = this.upgrade() {
                this.handle_chat_msg(msg);
            }
        });
        conn.msg_handlers.borrow_mut().insert(CHAT, chat);
        conn
    }

    fn handle_chat_msg(&self, msg: &str) {
        self.messages.set(self.messages.get() + 1);
        if self.messages.get() == 1 && self.name == "conn-0" {
            println!("{} got its first chat message: {msg:?}", self.name);
        }
    }

    fn handle_ping(&self) {
        self.messages.set(self.messages.get() + 1);
    }

    fn receive(&self, kind: u8, msg: &str) {
        let handlers = self.msg_handlers.borrow();
        handlers[&kind](msg);
    }
}

fn main() {
    gc_core::collect();

    // A thousand connections, each a cycle through its handler table.
    let connections: Vec<Gc<Connection>> = (0..1000)
        .map(|i| Connection::new(format!("conn-{i}")))
        .collect();
    for conn in &connections {
        conn.receive(CHAT, "hello");
        conn.receive(PING, "");
    }
    let total: usize = connections.iter().map(|c| c.messages.get()).sum();
    println!("{} connections handled {total} messages", connections.len());

    // Why one of them stays alive: the back-references, with edge labels.
    let graph = objgraph::show_backrefs(
        &[Gc::to_object(&connections[0])],
        &GraphOptions {
            max_depth: 1,
            ..GraphOptions::default()
        },
    )
    .expect("dot source");
    let labels: Vec<&str> = graph
        .lines()
        .filter(|line| line.contains("label=\"msg_handlers"))
        .collect();
    println!("edges into conn-0 from its own handlers:");
    for line in &labels {
        println!("  {}", line.trim());
    }
    assert_eq!(labels.len(), 1, "{graph}");
    // Labelled by the handler map's keys, as objgraph labels a dict's values.
    assert!(
        labels[0].contains(&format!("msg_handlers[{CHAT}].this"))
            && labels[0].contains(&format!("msg_handlers[{PING}].this")),
        "{graph}"
    );

    drop(connections);
    let found = gc_core::collect();
    println!("dropped them all; collect() found {found} unreachable objects");
    assert_eq!(found, 1000);

    // Bound weakly, a connection is freed by reference counting alone.
    let weak_conn = Connection::new_weakly_bound("weak".into());
    weak_conn.receive(CHAT, "hi");
    let probe = Gc::downgrade(&weak_conn);
    drop(weak_conn);
    assert!(probe.upgrade().is_none());
    assert_eq!(gc_core::collect(), 0);
    println!("a weakly bound connection is freed at once, with no collection");
}

#[test]
fn runs() {
    main();
}
