//! Traced closures (`Closure`, `gc_closure!`): the seed's `Connection`,
//! whose handler map holds closures bound to the connection, is collected;
//! the edges are named after the captures; a `Weak` capture (Python's
//! `WeakMethod`) needs no collection; and a closure running while a
//! collection happens keeps what it captured alive.

mod common;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use common::{DropToken, Tracker};
use gc_core::objgraph::{self, GraphOptions};
use gc_core::{Closure, Gc, Trace, Weak, collect, gc_closure};

/// A message handler, as the seed's `handle_chat_msg` bound to its connection.
type Handler = Closure<dyn Fn(&str) -> usize>;
type Handlers = RefCell<HashMap<u8, Handler>>;

const CHAT: u8 = 1;
const PING: u8 = 2;

/// The seed's `Connection`: `self.msg_handlers = {CHAT: self.handle_chat_msg, ...}`.
#[derive(Trace)]
struct Connection {
    id: usize,
    received: Cell<usize>,
    msg_handlers: Handlers,
    token: DropToken,
}

impl Connection {
    fn new(id: usize, tracker: &Tracker) -> Gc<Connection> {
        let conn = Gc::new(Connection {
            id,
            received: Cell::new(0),
            msg_handlers: RefCell::new(HashMap::new()),
            token: tracker.token(),
        });
        let me = conn.clone();
        let chat = gc_closure!([me] move |msg: &str| me.handle_chat_msg(msg));
        let me = conn.clone();
        let ping = gc_closure!([me] move |_msg: &str| me.handle_ping());
        conn.msg_handlers.borrow_mut().insert(CHAT, chat);
        conn.msg_handlers.borrow_mut().insert(PING, ping);
        conn
    }

    fn handle_chat_msg(&self, msg: &str) -> usize {
        self.received.set(self.received.get() + 1);
        msg.len() + self.id
    }

    fn handle_ping(&self) -> usize {
        self.received.set(self.received.get() + 1);
        0
    }

    fn dispatch(&self, kind: u8, msg: &str) -> usize {
        self.msg_handlers.borrow()[&kind](msg)
    }
}

#[test]
fn a_thousand_connections_bound_to_their_handlers_are_collected() {
    collect();
    let tracker = Tracker::new();
    let connections: Vec<Gc<Connection>> =
        (0..1000).map(|i| Connection::new(i, &tracker)).collect();
    assert_eq!(connections[7].dispatch(CHAT, "hello"), 12);
    assert_eq!(connections[7].dispatch(PING, ""), 0);
    assert_eq!(connections[7].received.get(), 2);
    // Each connection is referenced by the variable and by its two handlers.
    assert_eq!(Gc::strong_count(&connections[0]), 3);
    drop(connections);
    assert_eq!(
        tracker.dropped(),
        0,
        "every connection is in a cycle with its handlers"
    );
    assert_eq!(
        collect(),
        1000,
        "exactly the connections (their handlers are inside them)"
    );
    tracker.assert_all_dropped_once();
    assert_eq!(collect(), 0);
}

#[test]
fn the_edges_are_named_after_the_captures() {
    let tracker = Tracker::new();
    let conn = Connection::new(1, &tracker);
    let mut labels: Vec<String> = Gc::to_object(&conn)
        .edges()
        .into_iter()
        .map(|(label, target)| {
            assert_eq!(target, Gc::to_object(&conn));
            label
        })
        .collect();
    labels.sort();
    assert_eq!(labels.len(), 2);
    for label in &labels {
        assert!(
            label.starts_with("msg_handlers[") && label.ends_with("].me"),
            "{label}"
        );
    }
    let graph = objgraph::show_backrefs(&[Gc::to_object(&conn)], &GraphOptions::default()).unwrap();
    assert!(graph.contains("].me"), "{graph}");
    let handlers = conn.msg_handlers.borrow();
    assert_eq!(handlers[&CHAT].capture_names(), ["me"]);
    assert!(format!("{:?}", handlers[&CHAT]).contains("me"));
    drop(handlers);
    conn.msg_handlers.borrow_mut().clear();
}

/// Python's `WeakMethod`: the handler holds the connection weakly, so there
/// is no cycle and reference counting frees the connection.
#[derive(Trace)]
struct WeakConnection {
    handlers: RefCell<Vec<Closure<dyn Fn() -> bool>>>,
    token: DropToken,
}

#[test]
fn weak_captures_are_freed_by_reference_counting_alone() {
    collect();
    let tracker = Tracker::new();
    let conn = Gc::new(WeakConnection {
        handlers: RefCell::new(Vec::new()),
        token: tracker.token(),
    });
    let me: Weak<WeakConnection> = Gc::downgrade(&conn);
    conn.handlers
        .borrow_mut()
        .push(gc_closure!([me] move || me.upgrade().is_some()));
    assert!(conn.handlers.borrow()[0]());
    let edges = Gc::to_object(&conn).edges();
    assert!(
        edges.is_empty(),
        "a weak capture is not a strong edge: {edges:?}"
    );
    drop(conn);
    assert_eq!(tracker.dropped(), 1, "freed at once, with no collection");
    assert_eq!(collect(), 0);
}

type Callback = Closure<dyn Fn(u32) -> u32>;

#[derive(Trace)]
struct Holder {
    callback: RefCell<Option<Callback>>,
    token: DropToken,
}

#[test]
fn a_closure_running_during_a_collection_keeps_its_captures() {
    collect();
    let tracker = Tracker::new();
    let holder = Gc::new(Holder {
        callback: RefCell::new(None),
        token: tracker.token(),
    });
    let me = holder.clone();
    let offset = Gc::new(40_u32);
    let callback = gc_closure!([me, offset] move |x: u32| {
        // The captured holder is only referenced by this closure, and it
        // is running: a collection now must not free it.
        assert_eq!(gc_core::collect(), 0);
        me.token.id() as u32 + **offset + x
    });
    *holder.callback.borrow_mut() = Some(callback);
    let weak = Gc::downgrade(&holder);
    drop(holder);
    let result = {
        let holder = weak.upgrade().unwrap();
        let callback = holder.callback.borrow();
        callback.as_ref().unwrap()(2)
    };
    assert_eq!(result, 42);
    assert_eq!(tracker.dropped(), 0);
    assert_eq!(collect(), 1);
    tracker.assert_all_dropped_once();
}

#[test]
fn several_captures_and_arguments() {
    let a = Gc::new(String::from("a"));
    let b = Gc::new(vec![1_u8, 2]);
    let n = 3_usize;
    type Join = Closure<dyn Fn(&str, usize) -> String>;
    let join: Join = gc_closure!([a, b, n] move |sep: &str, times: usize| {
        format!("{}{sep}{}{sep}{}", a, b.len(), n * times)
    });
    assert_eq!(join("-", 2), "a-2-6");
    assert_eq!(join.capture_names(), ["a", "b", "n"]);
    let nothing: Closure<dyn Fn() -> u8> = gc_closure!([] || 7);
    assert_eq!(nothing(), 7);
    assert!(nothing.capture_names().is_empty());
}

/// The captures' edges are reported only while the `Closure` is their sole
/// owner: a strong reference to them held elsewhere (here, smuggled out
/// through the hidden constructor; normally, a running call) hides them, so
/// the collector keeps their targets alive instead of trusting edges that
/// someone else also owns.
#[test]
fn captures_shared_with_anyone_else_report_no_edges() {
    let target = Gc::new(RefCell::new(None::<Gc<u8>>));
    let smuggled = RefCell::new(None);
    let closure: Closure<dyn Fn() -> usize> =
        Closure::__new(&["target"], (target.clone(),), |weak| {
            *smuggled.borrow_mut() = Some(weak.clone());
            let call: Box<dyn Fn() -> usize> =
                Box::new(move || weak.upgrade().map_or(0, |c| Gc::strong_count(&c.values.0)));
            call
        });
    let holder = Gc::new(RefCell::new(Some(closure)));
    let labels = || -> Vec<String> {
        Gc::to_object(&holder)
            .edges()
            .into_iter()
            .map(|(label, _)| label)
            .collect()
    };
    assert_eq!(labels(), ["target"]);
    let shared = smuggled.borrow().as_ref().unwrap().upgrade().unwrap();
    assert!(labels().is_empty(), "shared captures must not be traced");
    drop(shared);
    assert_eq!(labels(), ["target"]);
    assert_eq!(holder.borrow().as_ref().unwrap()(), 2);
}

fn sum(values: &[u32]) -> u32 {
    values.iter().sum()
}

fn double(x: u32) -> u32 {
    x * 2
}

fn concat(a: &str, b: &str) -> String {
    format!("{a}{b}")
}

/// A builtin table needs no `#[gc(skip)]`: function pointers are leaves.
#[derive(Trace)]
struct Builtins {
    variadic: HashMap<&'static str, fn(&[u32]) -> u32>,
    unary: Vec<fn(u32) -> u32>,
    binary: Option<fn(&str, &str) -> String>,
}

#[test]
fn function_pointers_are_untracked_leaves() {
    let mut variadic: HashMap<&'static str, fn(&[u32]) -> u32> = HashMap::new();
    variadic.insert("+", sum);
    let builtins = Gc::new(Builtins {
        variadic,
        unary: vec![double],
        binary: Some(concat),
    });
    assert!(!gc_core::is_tracked(&builtins));
    assert_eq!(builtins.variadic["+"](&[1, 2, 3]), 6);
    assert_eq!(builtins.unary[0](4), 8);
    assert_eq!(builtins.binary.unwrap()("a", "b"), "ab");
}
