//! The book's object-graph figures, drawn by objgraph from real heaps.
//!
//! Each figure is a scenario built with gc-core and drawn with
//! `gc_core::objgraph`; the dot source is rendered to SVG by Graphviz's
//! `dot`:
//!
//! - `cache-leak-chain.svg`: objgraph's `_cache` leak (a thread-local
//!   `Gc<Module>` whose `_cache` keeps every `Entry` and its
//!   `MyBigFatObject`s), the chain `find_backref_chain(leaked, is_root, ..)`
//!   drawn with `show_chain`;
//! - `ab-cycle-backrefs.svg`: the two-object cycle `a.other = b;
//!   b.other = a`, drawn with `show_backrefs` from `a`;
//! - `gc-refs-example.svg`: the worked example of the algorithm chapter
//!   (A..E; A→B, B→C, C→B, D→E, E→D, E→C), drawn with `show_refs` from A
//!   and D before collecting.
//!
//! Node ids in objgraph's dot source are `o<address>`; they are renumbered
//! `n1, n2, ...` in order of first appearance before rendering, so the same
//! heap gives the same dot source and the same SVG (for one Graphviz
//! version).
//!
//! Regenerate the committed figures (and the benchmark plots they sit
//! beside) from the repository root:
//!
//! ```sh
//! cargo run -p gc-examples --example book_figures            # writes book/src/images/*.svg
//! cargo run -p gc-examples --example book_figures -- /tmp/x  # or into another directory
//! cp benches/plots/{full_garbage,full_live,full_ring,young_vs_old}.svg book/src/images/
//! ```
//!
//! `cargo test` runs it too (its `#[test] fn runs`), writing into a
//! temporary directory. Without Graphviz the `.dot` source is written
//! instead of each `.svg`.

use std::cell::RefCell;
use std::fmt;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use gc_core::objgraph::{self, GraphOptions, is_root};
use gc_core::{Describe, Gc, Trace};

// ---------------------------------------------------------------------------
// objgraph's `_cache` leak.

use gc_examples::cache_leak::{computate_something, module};

fn cache_leak_chain() -> io::Result<String> {
    for seed in 0..3 {
        computate_something(seed * 10);
    }
    // The leaked object: the last call's `foo`.
    let leaked = {
        let module = module();
        let cache = module._cache.borrow();
        Gc::to_object(&cache.last().expect("three entries").foo)
    };
    let chain = objgraph::find_backref_chain(&leaked, is_root, 20);
    let names: Vec<String> = chain.iter().map(|o| o.short_type_name()).collect();
    assert_eq!(names, ["Module", "Entry", "MyBigFatObject"]);
    let dot = objgraph::show_chain(&chain, &GraphOptions::default())?;
    assert!(dot.contains("[label=\"_cache[2]\"]"), "{dot}");
    assert!(dot.contains("[label=\"foo\"]"), "{dot}");
    Ok(dot)
}

// ---------------------------------------------------------------------------
// The seed's two-object cycle.

#[derive(Trace)]
#[gc(describe)]
struct Node {
    name: &'static str,
    other: RefCell<Option<Gc<Node>>>,
}

impl Describe for Node {
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

fn ab_cycle_backrefs() -> io::Result<String> {
    let a = Gc::new(Node {
        name: "a",
        other: RefCell::new(None),
    });
    let b = Gc::new(Node {
        name: "b",
        other: RefCell::new(None),
    });
    *a.other.borrow_mut() = Some(b.clone());
    *b.other.borrow_mut() = Some(a.clone());
    drop(b);
    let dot = objgraph::show_backrefs(&[Gc::to_object(&a)], &GraphOptions::default())?;
    assert!(dot.contains("[label=\"Node\\na\"]"), "{dot}");
    assert!(dot.contains("[label=\"Node\\nb\"]"), "{dot}");
    assert_eq!(dot.matches("[label=\"other\"]").count(), 2, "{dot}");
    drop(a);
    assert_eq!(gc_core::collect(), 2);
    Ok(dot)
}

// ---------------------------------------------------------------------------
// The algorithm chapter's worked example.

#[derive(Trace)]
#[gc(describe)]
struct Obj {
    name: &'static str,
    refs: RefCell<Vec<Gc<Obj>>>,
}

impl Describe for Obj {
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

fn gc_refs_example() -> io::Result<String> {
    gc_core::collect();
    let obj = |name| {
        Gc::new(Obj {
            name,
            refs: RefCell::new(Vec::new()),
        })
    };
    let (a, b, c, d, e) = (obj("A"), obj("B"), obj("C"), obj("D"), obj("E"));
    for (from, to) in [(&a, &b), (&b, &c), (&c, &b), (&d, &e), (&e, &d), (&e, &c)] {
        from.refs.borrow_mut().push(to.clone());
    }
    // The strong counts of the worked example.
    let counts = [&b, &c, &d, &e].map(|o| Gc::strong_count(o) - 1);
    assert_eq!((Gc::strong_count(&a), counts), (1, [2, 2, 1, 1]));
    // Only A is held by the program; D is drawn through an `Object` handle,
    // which keeps it alive across the graph's own collect() without making
    // it a root.
    let d_object = Gc::to_object(&d);
    drop((b, c, d, e));
    let dot = objgraph::show_refs(
        &[Gc::to_object(&a), d_object.clone()],
        &GraphOptions::default(),
    )?;
    for name in ["A", "B", "C", "D", "E"] {
        assert!(dot.contains(&format!("[label=\"Obj\\n{name}\"]")), "{dot}");
    }
    // A->B, B->C, C->B, D->E, E->D each `refs[0]`; E->C `refs[1]`.
    assert_eq!(dot.matches("[label=\"refs[0]\"]").count(), 5, "{dot}");
    assert_eq!(dot.matches("[label=\"refs[1]\"]").count(), 1, "{dot}");
    drop(d_object);
    assert_eq!(gc_core::collect(), 2); // D and E
    drop(a);
    assert_eq!(gc_core::collect(), 2); // B and C, a cycle once A is gone
    Ok(dot)
}

// ---------------------------------------------------------------------------
// Writing.

/// Renames objgraph's node ids `o<address>` (also inside `too_many_o<address>`
/// and `o<address>_has_a_del`) to `n1, n2, ...` in order of first
/// appearance.
fn normalise(dot: &str) -> String {
    let mut names: Vec<&str> = Vec::new();
    let mut out = String::with_capacity(dot.len());
    let bytes = dot.as_bytes();
    let mut i = 0;
    while i < dot.len() {
        let starts_id = bytes[i] == b'o'
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        if starts_id {
            let end = i
                + 1
                + bytes[i + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
            if !bytes.get(end).is_some_and(u8::is_ascii_alphanumeric) {
                let id = &dot[i..end];
                let n = match names.iter().position(|&known| known == id) {
                    Some(n) => n,
                    None => {
                        names.push(id);
                        names.len() - 1
                    }
                };
                out.push_str(&format!("n{}", n + 1));
                i = end;
                continue;
            }
        }
        let c = dot[i..].chars().next().expect("in bounds");
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// Writes `dot` (normalised) to `dir/name.svg`, rendered by `dot -Tsvg`, or
/// to `dir/name.dot` when Graphviz is not installed. Returns the path.
fn write(dir: &Path, name: &str, dot: &str) -> io::Result<PathBuf> {
    let source = normalise(dot);
    let svg = dir.join(format!("{name}.svg"));
    let child = Command::new("dot")
        .arg("-Tsvg")
        .arg("-o")
        .arg(&svg)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            let path = dir.join(format!("{name}.dot"));
            std::fs::write(&path, source)?;
            eprintln!("Graphviz's `dot` not found: wrote the source instead");
            return Ok(path);
        }
        Err(err) => return Err(err),
    };
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(source.as_bytes())?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "dot failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(svg)
}

fn run(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let figures = [
        ("cache-leak-chain", cache_leak_chain()?),
        ("ab-cycle-backrefs", ab_cycle_backrefs()?),
        ("gc-refs-example", gc_refs_example()?),
    ];
    for (name, dot) in &figures {
        let path = write(dir, name, dot)?;
        let bytes = std::fs::metadata(&path)?.len();
        println!("wrote {} ({bytes} bytes)", path.display());
    }
    Ok(())
}

fn main() -> io::Result<()> {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("book/src/images"), PathBuf::from);
    run(&dir)
}

#[test]
fn runs() {
    let dir = std::env::temp_dir().join(format!("gc-core-book-figures-{}", std::process::id()));
    run(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn normalise_renames_ids_in_order() {
    let dot = "  o140[fontcolor=red];\n  o9 -> o140 [label=\"refs[0]\"];\n  \
               too_many_o9[label=\"Obj\\no1\"];\n  o140->o140_has_a_del;\n";
    assert_eq!(
        normalise(dot),
        "  n1[fontcolor=red];\n  n2 -> n1 [label=\"refs[0]\"];\n  \
         too_many_n2[label=\"Obj\\no1\"];\n  n1->n1_has_a_del;\n"
    );
}
