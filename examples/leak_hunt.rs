//! Hunting a memory leak the objgraph way, on a Rust program.
//!
//! The story is the one objgraph's documentation tells: a function leaks
//! into a global cache through an early return. `show_growth` before and
//! after calling it shows *what* leaks, `find_backref_chain(obj, is_root)`
//! shows *why* (with the field names of every reference on the way), and
//! `show_chain` draws it. Finally, the seed's two-object cycle is drawn with
//! `show_backrefs`.
//!
//! Run with `cargo run --example leak_hunt`. The graphs go to the system's
//! temporary directory (as SVG when Graphviz's `dot` is installed, as `.dot`
//! source otherwise).

use std::cell::RefCell;
use std::path::Path;

use gc_core::objgraph::{self, GraphOptions, is_root};
use gc_core::{self as gc, Describe, Gc, Trace};

// ANCHOR: program
/// A large result that should not outlive the job computing it.
#[derive(Trace)]
struct BigFatObject {
    payload: Vec<u64>,
    /// Results may refer to other results, so the type is tracked (and
    /// visible to objgraph).
    related: RefCell<Vec<Gc<BigFatObject>>>,
}

impl BigFatObject {
    fn new(seed: u64) -> Gc<BigFatObject> {
        Gc::new(BigFatObject {
            payload: vec![seed; 1024],
            related: RefCell::new(Vec::new()),
        })
    }
}

/// One unit of work, registered while it runs. It describes itself by its
/// key, which the chain and the graph print.
#[derive(Trace)]
#[gc(describe)]
struct Job {
    key: u64,
    result: Gc<BigFatObject>,
}

impl Describe for Job {
    fn describe(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "key={}", self.key)
    }
}

/// The program's registry of jobs in flight: a global cache.
#[derive(Trace)]
struct Registry {
    in_flight: RefCell<Vec<Gc<Job>>>,
}

thread_local! {
    static REGISTRY: Gc<Registry> = Gc::new(Registry {
        in_flight: RefCell::new(Vec::new()),
    });
}

/// The suspect. It registers its job, computes, and unregisters it, except
/// on the early return for keys divisible by 3, which forgets to.
fn compute_something(key: u64) -> u64 {
    let job = Gc::new(Job {
        key,
        result: BigFatObject::new(key),
    });
    REGISTRY.with(|r| r.in_flight.borrow_mut().push(job.clone()));
    let scratch = BigFatObject::new(key + 1); // a temporary: freed on return
    if key.is_multiple_of(3) {
        return 0; // the bug: `job` stays in the registry
    }
    let sum = job.result.payload.iter().chain(&scratch.payload).sum();
    REGISTRY.with(|r| r.in_flight.borrow_mut().retain(|j| !Gc::ptr_eq(j, &job)));
    sum
}

/// The fix: a guard unregisters the job on every path out.
fn compute_something_fixed(key: u64) -> u64 {
    struct Unregister(Gc<Job>);
    impl Drop for Unregister {
        fn drop(&mut self) {
            REGISTRY.with(|r| r.in_flight.borrow_mut().retain(|j| !Gc::ptr_eq(j, &self.0)));
        }
    }
    let job = Gc::new(Job {
        key,
        result: BigFatObject::new(key),
    });
    REGISTRY.with(|r| r.in_flight.borrow_mut().push(job.clone()));
    let _unregister = Unregister(job.clone());
    if key.is_multiple_of(3) {
        return 0;
    }
    job.result.payload.iter().sum()
}
// ANCHOR_END: program

/// The seed's node: `a.other = b; b.other = a` makes a two-object cycle.
#[derive(Trace)]
struct Node {
    name: String,
    other: RefCell<Option<Gc<Node>>>,
}

fn main() -> std::io::Result<()> {
    REGISTRY.with(|_| ()); // the program starts: its registry exists
    let out_dir = std::env::temp_dir();

    println!("== 1. What grows? show_growth() before and after the suspect ==\n");
    println!("$ show_growth()   # the baseline");
    objgraph::show_growth(10);
    let total: u64 = (0..6).map(compute_something).sum();
    println!("\n$ compute_something(0..6)   # total {total}");
    println!("$ show_growth()");
    objgraph::show_growth(10);
    let total: u64 = (6..12).map(compute_something).sum();
    println!("\n$ compute_something(6..12)   # total {total}");
    println!("$ show_growth()   # two more of each per six calls: a leak");
    objgraph::show_growth(10);
    println!("\n$ show_most_common_types(5)");
    objgraph::show_most_common_types(5);

    println!("\n== 2. Why is it alive? find_backref_chain(obj, is_root, 20) ==\n");
    let leaked = objgraph::by_type("BigFatObject")
        .pop()
        .expect("the leak left BigFatObjects behind");
    let chain = objgraph::find_backref_chain(&leaked, is_root, 20);
    println!("{}", objgraph::format_chain(&chain));
    let job = chain[chain.len() - 2]
        .downcast::<Job>()
        .expect("a Job holds it");
    println!(
        "\nThe chain starts at a root: the Registry is referenced from outside the heap \
         (the REGISTRY thread-local), is_root = {}.\nThe Job in between has key {}, a \
         multiple of 3: the early return.",
        is_root(&chain[0]),
        job.key
    );
    drop(job);
    println!(
        "get_leaking_objects() (tracked objects nothing on the heap refers to): {:?}",
        objgraph::get_leaking_objects()
    );

    let leak_svg = out_dir.join("leak.svg");
    let options = GraphOptions {
        refcounts: true,
        filename: Some(leak_svg.clone()),
        ..GraphOptions::default()
    };
    let _ = std::fs::remove_file(&leak_svg); // from an earlier run
    println!("\n$ show_chain(chain, filename = {})", leak_svg.display());
    objgraph::show_chain(&chain, &options)?;
    report_image(&leak_svg);
    drop((chain, leaked));

    println!("\n== 3. The fix: unregister on every path ==\n");
    let total: u64 = (12..24).map(compute_something_fixed).sum();
    println!("$ compute_something_fixed(12..24)   # total {total}");
    println!("$ show_growth()   # prints nothing: nothing grew");
    objgraph::show_growth(10);
    REGISTRY.with(|r| r.in_flight.borrow_mut().clear()); // release the old leak

    println!("\n== 4. A cycle: show_backrefs([a]) ==\n");
    let a = Gc::new(Node {
        name: "a".into(),
        other: RefCell::new(None),
    });
    let b = Gc::new(Node {
        name: "b".into(),
        other: RefCell::new(Some(a.clone())),
    });
    *a.other.borrow_mut() = Some(b.clone());
    let cycle_svg = out_dir.join("cycle.svg");
    let options = GraphOptions {
        filename: Some(cycle_svg.clone()),
        ..GraphOptions::default()
    };
    let _ = std::fs::remove_file(&cycle_svg);
    let dot = objgraph::show_backrefs(&[Gc::to_object(&a)], &options)?;
    report_image(&cycle_svg);
    println!("\nThe dot source (a and b are roots, held by this function: green):\n\n{dot}");
    println!(
        "{} -> {} -> {}: dropping both handles leaves the cycle to the collector.",
        a.name,
        a.other.borrow().as_ref().map_or("?", |n| n.name.as_str()),
        b.other.borrow().as_ref().map_or("?", |n| n.name.as_str())
    );
    drop((a, b));
    println!("collect() = {}", gc::collect());
    Ok(())
}

/// Says where the image (or, without Graphviz, its `.dot` source) is.
fn report_image(image: &Path) {
    let dot = image.with_extension("dot");
    if image.exists() {
        println!("image: {} (source: {})", image.display(), dot.display());
    } else {
        println!(
            "Graphviz is not installed: the source is {} (see the note above)",
            dot.display()
        );
    }
}
