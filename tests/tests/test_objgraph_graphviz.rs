//! Leak hunting with `gc_core::objgraph`: the Graphviz output of
//! `show_refs`, `show_backrefs` and `show_chain` (golden files
//! `tests/golden/*.gv`, the node ids normalised to `o1`, `o2`, ...;
//! regenerate them with `UPDATE_GOLDEN=1`), its options, and rendering with
//! Graphviz when it is installed.

mod common;

use std::cell::RefCell;

use common::graph::{
    Closing, GoldenHeap, Node, Words, assert_golden, link, names, node, obj, unlink_all,
};
use gc_core::objgraph::{self, GraphOptions, is_root};
use gc_core::{self as gc, Gc};

// ---------------------------------------------------------------------------
// Helpers

fn lines_with<'a>(dot: &'a str, needle: &str) -> Vec<&'a str> {
    dot.lines().filter(|l| l.contains(needle)).collect()
}

// ---------------------------------------------------------------------------
// Graphs

const GOLDEN_REFS: &str = include_str!("golden/objgraph_refs.gv");
const GOLDEN_BACKREFS: &str = include_str!("golden/objgraph_backrefs.gv");
const GOLDEN_CHAIN: &str = include_str!("golden/objgraph_chain.gv");
const GOLDEN_CYCLE: &str = include_str!("golden/objgraph_cycle.gv");

#[test]
fn show_refs_golden() {
    let heap = GoldenHeap::new();
    let options = GraphOptions {
        refcounts: true,
        highlight: Some(Box::new(|o| o.is::<Words>())),
        ..GraphOptions::default()
    };
    let dot = objgraph::show_refs(&[obj(&heap.doc)], &options).unwrap();
    assert_golden("objgraph_refs.gv", GOLDEN_REFS, &dot);
    // Deterministic for the same heap.
    assert_eq!(
        objgraph::show_refs(&[obj(&heap.doc)], &options).unwrap(),
        dot
    );
}

#[test]
fn show_backrefs_golden() {
    let heap = GoldenHeap::new();
    let hello = heap.hello();
    let options = GraphOptions {
        max_depth: 4, // up to the doc's other section
        ..GraphOptions::default()
    };
    let dot = objgraph::show_backrefs(&[hello], &options).unwrap();
    assert_golden("objgraph_backrefs.gv", GOLDEN_BACKREFS, &dot);
}

#[test]
fn show_chain_golden() {
    let heap = GoldenHeap::new();
    let hello = heap.hello();
    let chain = objgraph::find_backref_chain(&hello, is_root, 20);
    assert_eq!(names(&chain), ["Doc", "Section", "Words", "String"]);
    let options = GraphOptions {
        max_depth: 1, // ignored: the chain sets the depth
        ..GraphOptions::default()
    };
    let dot = objgraph::show_chain(&chain, &options).unwrap();
    assert_golden("objgraph_chain.gv", GOLDEN_CHAIN, &dot);
    // The second section, also a referrer of the doc, is not drawn.
    let second = Gc::to_object(&heap.doc.sections.borrow()[1]);
    assert!(!dot.contains(&format!("o{}", second.id())));
    // An empty chain: an empty graph.
    assert_eq!(
        objgraph::show_chain(&[], &GraphOptions::default()).unwrap(),
        "digraph ObjectGraph {\n  node[shape=box, style=filled, fillcolor=white];\n}\n"
    );
}

mod seed {
    use std::cell::RefCell;

    use gc_core::{Gc, Trace};

    /// The seed's (and the README's) node: `a.other = b; b.other = a`.
    #[derive(Trace)]
    pub struct Node {
        pub name: String,
        pub other: RefCell<Option<Gc<Node>>>,
    }

    pub fn node(name: &str) -> Gc<Node> {
        Gc::new(Node {
            name: name.to_owned(),
            other: RefCell::new(None),
        })
    }
}

/// The seed's two-object cycle, as `show_backrefs([a])` draws it while
/// the program still holds `a` and `b` (both roots, so green).
#[test]
fn show_backrefs_of_the_seed_cycle_golden() {
    gc::collect();
    let a = seed::node("a");
    let b = seed::node("b");
    *a.other.borrow_mut() = Some(b.clone());
    *b.other.borrow_mut() = Some(a.clone());
    let dot = objgraph::show_backrefs(&[obj(&a)], &GraphOptions::default()).unwrap();
    let (a_id, b_id) = (Gc::id(&a), Gc::id(&b));
    assert!(dot.contains(&format!("  o{b_id} -> o{a_id} [label=\"other\"];\n")));
    assert!(dot.contains(&format!("  o{a_id} -> o{b_id} [label=\"other\"];\n")));
    assert_golden("objgraph_cycle.gv", GOLDEN_CYCLE, &dot);
    assert_eq!(b.name, "b");
    drop((a, b));
    assert_eq!(gc::collect(), 2);
}

#[test]
fn too_many_summarises_the_extra_neighbours() {
    gc::collect();
    let hub = node("hub");
    let children: Vec<Gc<Node>> = (0..15).map(|_| node("child")).collect();
    for child in &children {
        link(&hub, child);
        link(child, &hub);
    }
    let options = GraphOptions {
        max_depth: 1,
        ..GraphOptions::default()
    };
    let hub_id = format!("o{}", Gc::id(&hub));

    let dot = objgraph::show_refs(&[obj(&hub)], &options).unwrap();
    assert_eq!(lines_with(&dot, &format!("  {hub_id} -> ")).len(), 10);
    assert_eq!(
        lines_with(&dot, "too_many_"),
        [
            format!("  {hub_id}->too_many_{hub_id}[color=red,style=dotted,len=0.25,weight=10];")
                .as_str(),
            format!(
                "  too_many_{hub_id}[label=\"5 more references\",shape=box,height=0.25,\
                 color=red,fillcolor=\"0,1,0.3\",fontsize=6];"
            )
            .as_str(),
            format!("  too_many_{hub_id}[fontcolor=white];").as_str(),
        ]
    );
    // Edges to the first ten children, in trace order.
    for (i, child) in children.iter().take(10).enumerate() {
        let line = format!("  {hub_id} -> o{} [label=\"edges[{i}]\"];", Gc::id(child));
        assert!(dot.contains(&line), "missing {line}");
    }

    let options = GraphOptions {
        max_depth: 2,
        too_many: 4,
        ..GraphOptions::default()
    };
    let dot = objgraph::show_backrefs(&[obj(&hub)], &options).unwrap();
    assert!(dot.contains(&format!(
        "  too_many_{hub_id}->{hub_id}[color=red,style=dotted,len=0.25,weight=10];"
    )));
    assert!(dot.contains("[label=\"11 more backreferences\",shape=box,height=0.25,color=red,fillcolor=\"0,1,0.65\",fontsize=6];"));
    unlink_all(&[hub]);
}

#[test]
fn max_depth_stops_the_expansion() {
    gc::collect();
    // head -> n1 -> ... -> n5; only `head` is held by the program.
    let head = node("head");
    let mut ids = vec![Gc::id(&head)];
    let mut last = head.clone();
    for _ in 0..5 {
        let next = node("link");
        link(&last, &next);
        ids.push(Gc::id(&next));
        last = next;
    }
    let tail = obj(&last);
    drop(last);
    let count_nodes = |dot: &str| lines_with(dot, "[label=\"Node\\n").len();
    for max_depth in 0..=6 {
        let options = GraphOptions {
            max_depth,
            ..GraphOptions::default()
        };
        let dot = objgraph::show_refs(&[obj(&head)], &options).unwrap();
        assert_eq!(
            count_nodes(&dot),
            (max_depth + 1).min(6),
            "max_depth {max_depth}"
        );
        let dot = objgraph::show_backrefs(std::slice::from_ref(&tail), &options).unwrap();
        assert_eq!(
            count_nodes(&dot),
            (max_depth + 1).min(6),
            "max_depth {max_depth}"
        );
    }
    // Shading by depth: white, then grey down to `0,0,0.3` (white text) at
    // max_depth; the root `head` is green.
    let options = GraphOptions {
        max_depth: 2,
        ..GraphOptions::default()
    };
    let dot = objgraph::show_refs(&[obj(&head)], &options).unwrap();
    let fill = |id: usize| {
        let mut lines = lines_with(&dot, &format!("  o{id}[fillcolor"));
        lines.extend(lines_with(&dot, &format!("  o{id}[fontcolor=white")));
        lines.join("\n")
    };
    assert_eq!(
        fill(ids[0]),
        format!("  o{}[fillcolor=\"0.3,1,1\"];", ids[0])
    );
    assert_eq!(
        fill(ids[1]),
        format!("  o{}[fillcolor=\"0,0,0.65\"];", ids[1])
    );
    assert_eq!(
        fill(ids[2]),
        format!(
            "  o{0}[fillcolor=\"0,0,0.3\"];\n  o{0}[fontcolor=white];",
            ids[2]
        )
    );
    assert_eq!(fill(ids[3]), "", "beyond max_depth");
}

#[test]
fn finalizers_get_the_del_marker() {
    gc::collect();
    let a = Gc::new(Closing {
        next: RefCell::new(None),
    });
    let b = Gc::new(Closing {
        next: RefCell::new(Some(a.clone())),
    });
    *a.next.borrow_mut() = Some(b.clone());
    let plain = node("plain");
    let dot = objgraph::show_refs(&[obj(&a), obj(&plain)], &GraphOptions::default()).unwrap();
    for id in [Gc::id(&a), Gc::id(&b)] {
        assert!(dot.contains(&format!(
            "  o{id}->o{id}_has_a_del[color=red,style=dotted,len=0.25,weight=10];\n  \
             o{id}_has_a_del[label=\"__del__\",shape=doublecircle,height=0.25,color=red,\
             fillcolor=\"0,.5,1\",fontsize=6];\n"
        )));
    }
    assert!(!dot.contains(&format!("o{}_has_a_del", Gc::id(&plain))));
    assert_eq!(lines_with(&dot, "_has_a_del[label").len(), 2);
    // Break the cycle: under the default `Uncollectable` policy a garbage
    // cycle with finalizers would stay in `gc.garbage`.
    a.next.borrow_mut().take();
    drop((a, b));
    assert_eq!(gc::collect(), 0);
    assert!(gc::take_garbage().is_empty());
}

#[test]
fn filter_extra_ignore_highlight_refcounts_and_shortnames() {
    gc::collect();
    let hub = node("hub");
    let keep = node("keep");
    let skip = node("skip");
    let ignored = node("ignored");
    for n in [&keep, &skip, &ignored] {
        link(&hub, n);
    }
    let keep_id = Gc::id(&keep);
    let options = GraphOptions {
        filter: Some(Box::new(|o| {
            o.downcast::<Node>().is_some_and(|n| n.name != "skip")
        })),
        extra_ignore: vec![Gc::id(&ignored)],
        highlight: Some(Box::new(move |o| o.id() == keep_id)),
        refcounts: true,
        shortnames: false,
        ..GraphOptions::default()
    };
    let dot = objgraph::show_refs(&[obj(&hub)], &options).unwrap();
    let full = std::any::type_name::<Node>();
    let hub_id = Gc::id(&hub);
    // hub: the local `hub`, so [1] and a root; keep: the local and hub's edge.
    assert!(dot.contains(&format!("  o{hub_id}[label=\"{full} [1]\\n3 edges\"];\n")));
    assert!(dot.contains(&format!("  o{hub_id}[fillcolor=\"0.3,1,1\"];\n")));
    assert!(dot.contains(&format!("  o{keep_id}[label=\"{full} [2]\\n0 edges\"];\n")));
    // Highlighted (blue) wins over root (green); v = 0.5 + 0.766667 / 2.
    assert!(dot.contains(&format!("  o{keep_id}[fillcolor=\"0.6,0.6,0.883333\"];\n")));
    assert!(!dot.contains(&format!("o{}", Gc::id(&skip))));
    assert!(!dot.contains(&format!("o{}", Gc::id(&ignored))));
    // Filtered neighbours do not count towards too_many either.
    let options = GraphOptions {
        too_many: 1,
        filter: Some(Box::new(|o| {
            o.downcast::<Node>().is_some_and(|n| n.name != "skip")
        })),
        ..GraphOptions::default()
    };
    let dot = objgraph::show_refs(&[obj(&hub)], &options).unwrap();
    assert!(dot.contains("[label=\"1 more references\""));
    // Start objects are never filtered; each gets red text.
    let options = GraphOptions {
        filter: Some(Box::new(|_| false)),
        ..GraphOptions::default()
    };
    let dot = objgraph::show_refs(&[obj(&hub), obj(&skip)], &options).unwrap();
    assert_eq!(lines_with(&dot, "[fontcolor=red]").len(), 2);
    assert_eq!(lines_with(&dot, " -> ").len(), 0);
}

#[test]
fn several_edges_between_two_objects_are_drawn_once_with_all_labels() {
    gc::collect();
    let a = node("a");
    let b = node("b");
    link(&a, &b);
    link(&a, &b);
    let dot = objgraph::show_refs(&[obj(&a)], &GraphOptions::default()).unwrap();
    let edges = lines_with(&dot, " -> ");
    assert_eq!(
        edges,
        [format!(
            "  o{} -> o{} [label=\"edges[0], edges[1]\"];",
            Gc::id(&a),
            Gc::id(&b)
        )
        .as_str()]
    );
    let dot = objgraph::show_backrefs(&[obj(&b)], &GraphOptions::default()).unwrap();
    assert_eq!(lines_with(&dot, " -> "), edges);
}

#[test]
#[cfg_attr(miri, ignore = "Miri's isolation forbids files")]
fn a_dot_filename_gets_the_source() {
    gc::collect();
    let a = node("a");
    let dir = std::env::temp_dir().join(format!("gc-objgraph-dot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("graph.dot");
    let options = GraphOptions {
        filename: Some(path.clone()),
        ..GraphOptions::default()
    };
    let dot = objgraph::show_refs(&[obj(&a)], &options).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), dot);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot run Graphviz")]
fn renders_svg_with_graphviz_when_installed() {
    let installed = std::process::Command::new("dot")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        eprintln!("note: Graphviz `dot` is not installed; skipping the SVG rendering test");
        return;
    }
    let heap = GoldenHeap::new();
    let dir = std::env::temp_dir().join(format!("gc-objgraph-svg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("refs.svg");
    let options = GraphOptions {
        filename: Some(svg.clone()),
        refcounts: true,
        ..GraphOptions::default()
    };
    let dot = objgraph::show_refs(&[obj(&heap.doc)], &options).unwrap();
    let image = std::fs::read_to_string(&svg).unwrap();
    assert!(image.contains("<svg"), "not an SVG: {image:.200}");
    assert!(
        image.contains("body.Text.words"),
        "edge labels are rendered"
    );
    assert!(image.contains("__del__"));
    assert_eq!(std::fs::read_to_string(dir.join("refs.dot")).unwrap(), dot);
    std::fs::remove_dir_all(&dir).unwrap();
}
