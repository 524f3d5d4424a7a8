//! The five-minute tour: build some cycles, watch the counts, collect them,
//! and look at what the heap holds, as `import gc` would in Python.
//!
//! Run with `cargo run --example quickstart`.

use std::cell::RefCell;
use std::collections::BTreeMap;

use gc_core::{self as gc, Gc, Trace};

/// A doubly linked list node: `prev`/`next` make every list a cycle, which
/// `Rc` would leak.
#[derive(Trace)]
struct Node {
    value: u32,
    prev: RefCell<Option<Gc<Node>>>,
    next: RefCell<Option<Gc<Node>>>,
}

/// A graph of named cities, each road a strong edge.
#[derive(Trace)]
struct City {
    name: String,
    roads: RefCell<Vec<Gc<City>>>,
}

/// Builds a doubly linked list of `len` nodes and returns its head.
fn list(len: u32) -> Gc<Node> {
    let head = Gc::new(Node {
        value: 0,
        prev: RefCell::new(None),
        next: RefCell::new(None),
    });
    let mut tail = head.clone();
    for value in 1..len {
        let node = Gc::new(Node {
            value,
            prev: RefCell::new(Some(tail.clone())),
            next: RefCell::new(None),
        });
        *tail.next.borrow_mut() = Some(node.clone());
        tail = node;
    }
    head
}

fn city(name: &str) -> Gc<City> {
    Gc::new(City {
        name: name.to_owned(),
        roads: RefCell::new(Vec::new()),
    })
}

/// `get_objects()` grouped by type, as `objgraph.show_most_common_types()`.
fn print_objects_by_type() {
    let mut by_type = BTreeMap::new();
    for object in gc::get_objects(None) {
        *by_type.entry(object.short_type_name()).or_insert(0) += 1;
    }
    for (name, count) in by_type {
        println!("    {name:<8} {count}");
    }
}

fn main() {
    println!("thresholds: {:?}", gc::get_threshold());

    // Ten lists of 5 nodes: 50 tracked objects in generation 0.
    let lists: Vec<Gc<Node>> = (0..10).map(|_| list(5)).collect();
    // A triangle of roads.
    let (a, b, c) = (city("Avalon"), city("Brigadoon"), city("Camelot"));
    a.roads.borrow_mut().push(b.clone());
    b.roads.borrow_mut().push(c.clone());
    c.roads.borrow_mut().push(a.clone());
    // Untracked: a String cannot hold a Gc, so it costs the collector nothing.
    let label = Gc::new(String::from("not tracked"));

    println!("after building: get_count() = {:?}", gc::get_count());
    println!("tracked objects by type:");
    print_objects_by_type();
    println!(
        "is_tracked(city) = {}, is_tracked(label) = {}",
        gc::is_tracked(&a),
        gc::is_tracked(&label)
    );
    println!(
        "edges of {:?}: {:?}",
        Gc::to_object(&lists[0]),
        Gc::to_object(&lists[0]).edges()
    );

    // Dropping our handles leaves every list and the triangle as cycles.
    println!("first value of list 0: {}", lists[0].value);
    println!("road from {} to {}", a.name, a.roads.borrow()[0].name);
    drop(lists);
    drop((a, b, c));
    println!(
        "after dropping the handles: {} objects still tracked",
        gc::get_objects(None).len()
    );

    let found = gc::collect();
    println!("collect() found {found} unreachable objects");
    println!("after collect(): get_count() = {:?}", gc::get_count());
    println!("tracked objects left: {}", gc::get_objects(None).len());
    println!("stats: {:?}", gc::get_stats()[2]);
    println!("label is still alive: {}", label);
}
