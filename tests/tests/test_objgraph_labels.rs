//! Leak hunting in the program's own terms: map entries labelled by their
//! keys (`vars["x"]`), nodes described by their types (`#[gc(describe)]`),
//! in `Object::edges`, `Object::describe`, `objgraph::format_chain` and the
//! Graphviz output (golden file `tests/golden/objgraph_interpreter.gv`;
//! regenerate with `UPDATE_GOLDEN=1`).

mod common;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::rc::Rc;

use common::graph::{assert_golden, obj};
use gc_core::objgraph::{self, GraphOptions, is_root};
use gc_core::{Describe, Gc, Object, Trace};

/// Frees what a test built: its cycles too, so that nothing outlives it (Miri
/// reports a leak otherwise). Call it once every handle is dropped.
#[track_caller]
fn free_all() {
    gc_core::collect();
    let alive = gc_core::get_objects(None);
    assert!(alive.is_empty(), "tracked objects still alive: {alive:?}");
}

fn labels(o: &Object) -> Vec<String> {
    o.edges().into_iter().map(|(label, _)| label).collect()
}

// ---------------------------------------------------------------------------
// Map keys

#[derive(Trace)]
struct Maps {
    by_name: BTreeMap<String, Gc<u8>>,
    by_static: BTreeMap<&'static str, Gc<u8>>,
    by_number: BTreeMap<i64, Gc<u8>>,
    by_char: BTreeMap<char, Gc<u8>>,
    by_symbol: BTreeMap<Symbol, Gc<u8>>,
    by_interned: HashMap<Gc<str>, Gc<u8>>,
    by_pair: BTreeMap<(u8, u8), Gc<u8>>,
    keyed_by_gc: BTreeMap<Gc<Atom>, u8>,
}

/// A derived newtype: labelled like the `Rc<str>` it wraps.
#[derive(Trace, PartialEq, Eq, PartialOrd, Ord)]
struct Symbol(Rc<str>);

/// A key held through a `Gc`: labelled by the number it wraps.
#[derive(Trace, PartialEq, Eq, PartialOrd, Ord)]
struct Atom(u8);

#[test]
fn map_edges_are_labelled_by_their_keys() {
    let long = "a key much longer than forty characters, cut with an ellipsis";
    let interned: Gc<str> = Gc::from("sym");
    let atom = Gc::new(Atom(1));
    let maps = Gc::new(Maps {
        by_name: BTreeMap::from([
            ("x".to_string(), Gc::new(1)),
            (long.to_string(), Gc::new(2)),
        ]),
        by_static: BTreeMap::from([("quote \" and \n", Gc::new(3))]),
        by_number: BTreeMap::from([(-7, Gc::new(4))]),
        by_char: BTreeMap::from([('λ', Gc::new(5))]),
        by_symbol: BTreeMap::from([(Symbol(Rc::from("define")), Gc::new(6))]),
        by_interned: HashMap::from([(interned.clone(), Gc::new(7))]),
        by_pair: BTreeMap::from([((1, 2), Gc::new(8))]),
        keyed_by_gc: BTreeMap::from([(atom.clone(), 9)]),
    });
    assert_eq!(
        labels(&obj(&maps)),
        [
            r#"by_name["a key much longer than forty character…]"#,
            r#"by_name["x"]"#,
            r#"by_static["quote \" and \n"]"#,
            "by_number[-7]",
            "by_char['λ']",
            r#"by_symbol["define"]"#,
            // A `Gc<str>` key: the edge to the key itself, then the value's.
            r#"by_interned.keys["sym"]"#,
            r#"by_interned["sym"]"#,
            // Keys without a label: by position, as before.
            "by_pair[0].value",
            // A `Gc` key: labelled by its target, a derived newtype over a number.
            "keyed_by_gc.keys[1]",
        ]
    );
    // The cut label is 40 characters, the ellipsis included.
    let cut = &labels(&obj(&maps))[0];
    assert_eq!(cut["by_name[".len()..cut.len() - 1].chars().count(), 40);
    // The collector sees the same edges, whatever their labels: a cycle
    // through a labelled entry is collected.
    drop((maps, interned, atom));
    assert_eq!(gc_core::collect(), 0);
    assert!(gc_core::get_objects(None).is_empty());
}

/// A `Cow` key borrowed from a static of the user's type: turning it into
/// the owned type for a label would run the user's `Clone` inside `trace`,
/// which could clear the very map being walked. It is labelled by position.
#[derive(Trace, PartialEq, Eq, PartialOrd, Ord)]
struct Key(u8);

thread_local! {
    static CLONES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl Clone for Key {
    fn clone(&self) -> Self {
        CLONES.with(|c| c.set(c.get() + 1));
        Key(self.0)
    }
}

static KEYS: [Key; 2] = [Key(1), Key(2)];

#[derive(Trace)]
struct CowKeyed {
    map: RefCell<BTreeMap<std::borrow::Cow<'static, Key>, Gc<u8>>>,
    named: BTreeMap<std::borrow::Cow<'static, str>, Gc<u8>>,
}

#[test]
fn borrowed_cow_keys_run_no_user_code_while_traced() {
    let owner = Gc::new(CowKeyed {
        map: RefCell::new(BTreeMap::from([
            (std::borrow::Cow::Borrowed(&KEYS[0]), Gc::new(1)),
            (std::borrow::Cow::Owned(Key(3)), Gc::new(3)),
        ])),
        named: BTreeMap::from([
            (std::borrow::Cow::Borrowed("static"), Gc::new(4)),
            (std::borrow::Cow::Owned("owned".to_string()), Gc::new(5)),
        ]),
    });
    let clones = CLONES.with(std::cell::Cell::get);
    let labels = labels(&obj(&owner));
    assert_eq!(CLONES.with(std::cell::Cell::get), clones, "no Clone ran");
    // The owned halves are labelled (`Key(3)` is a derived newtype over a
    // number); the borrowed ones by position, in key order.
    assert_eq!(
        labels,
        [
            "map[0].value",
            "map[3]",
            r#"named["owned"]"#,
            "named[1].value"
        ]
    );
    drop(owner);
    free_all();
}

#[derive(Trace)]
struct Frame {
    vars: RefCell<BTreeMap<String, Gc<Frame>>>,
}

#[test]
fn a_cycle_through_labelled_entries_is_collected_and_drawn_with_its_keys() {
    let a = Gc::new(Frame {
        vars: RefCell::new(BTreeMap::new()),
    });
    let b = Gc::new(Frame {
        vars: RefCell::new(BTreeMap::new()),
    });
    a.vars.borrow_mut().insert("next".into(), b.clone());
    b.vars.borrow_mut().insert("prev".into(), a.clone());
    let dot = objgraph::show_backrefs(&[obj(&a)], &GraphOptions::default()).unwrap();
    assert!(dot.contains(&format!(
        "  o{} -> o{} [label=\"vars[\\\"prev\\\"]\"];\n",
        Gc::id(&b),
        Gc::id(&a)
    )));
    // A mutably borrowed map is skipped, as by the collector.
    let guard = a.vars.borrow_mut();
    assert!(labels(&obj(&a)).is_empty());
    drop(guard);
    drop((a, b));
    assert_eq!(gc_core::collect(), 2);
}

// ---------------------------------------------------------------------------
// Descriptions

#[derive(Trace)]
#[gc(describe)]
enum Value {
    Int(i64),
    Sym(Symbol),
    Lambda {
        name: String,
        params: Vec<String>,
        env: Gc<Env>,
    },
}

impl Describe for Value {
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(n) => write!(f, "{n}"),
            Value::Sym(s) => write!(f, "'{}", s.0),
            Value::Lambda { name, params, .. } => {
                write!(f, "(lambda {name} ({}))", params.join(" "))
            }
        }
    }
}

#[derive(Trace)]
#[gc(describe)]
struct Env {
    name: &'static str,
    vars: RefCell<BTreeMap<String, Gc<Value>>>,
    parent: Option<Gc<Env>>,
}

impl Describe for Env {
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<env {}>", self.name)
    }
}

fn env(name: &'static str, parent: Option<&Gc<Env>>) -> Gc<Env> {
    Gc::new(Env {
        name,
        vars: RefCell::new(BTreeMap::new()),
        parent: parent.cloned(),
    })
}

#[derive(Trace)]
struct Opaque(u8);

#[test]
fn objects_describe_themselves() {
    let global = env("global", None);
    let square = Gc::new(Value::Lambda {
        name: "square".into(),
        params: vec!["x".into()],
        env: global.clone(),
    });
    assert_eq!(
        obj(&square).describe().as_deref(),
        Some("(lambda square (x))")
    );
    assert_eq!(obj(&global).describe().as_deref(), Some("<env global>"));
    assert_eq!(
        obj(&Gc::new(Value::Int(-3))).describe().as_deref(),
        Some("-3")
    );
    // std values by their `Debug` form; a type without `describe` has none.
    assert_eq!(obj(&Gc::new(2.5_f64)).describe().as_deref(), Some("2.5"));
    assert_eq!(
        obj(&Gc::new(Box::<str>::from("hi"))).describe().as_deref(),
        Some("\"hi\"")
    );
    assert_eq!(obj(&Gc::new(Opaque(1))).describe(), None);
    // Through a `RefCell`, unless it is mutably borrowed.
    let cell = Gc::new(RefCell::new(String::from("x")));
    assert_eq!(obj(&cell).describe().as_deref(), Some("\"x\""));
    let guard = cell.borrow_mut();
    assert_eq!(obj(&cell).describe().as_deref(), Some("<borrowed>"));
    drop(guard);
    drop((square, global, cell));
    free_all();
}

/// The interpreter's leak: a closure stored in the global environment keeps
/// its defining environment, and everything in it, alive.
struct Interpreter {
    global: Gc<Env>,
    /// An introspection handle: it never makes the object a root.
    leaked: Object,
}

fn interpreter() -> Interpreter {
    let global = env("global", None);
    let local = env("make-counter", Some(&global));
    let leaked = Gc::new(Value::Sym(Symbol(Rc::from("big-table"))));
    local
        .vars
        .borrow_mut()
        .insert("table".into(), leaked.clone());
    let counter = Gc::new(Value::Lambda {
        name: "counter".into(),
        params: vec![],
        env: local.clone(),
    });
    global.vars.borrow_mut().insert("count!".into(), counter);
    global
        .vars
        .borrow_mut()
        .insert("answer".into(), Gc::new(Value::Int(42)));
    Interpreter {
        global,
        leaked: obj(&leaked),
    }
}

const GOLDEN_INTERPRETER: &str = include_str!("golden/objgraph_interpreter.gv");

#[test]
fn chains_and_graphs_speak_the_programs_language() {
    let heap = interpreter();
    let chain = objgraph::find_backref_chain(&heap.leaked, is_root, 20);
    assert_eq!(
        objgraph::format_chain(&chain),
        [
            "Env <env global>",
            r#"  --vars["count!"]--> Value (lambda counter ())"#,
            "  --Lambda.env--> Env <env make-counter>",
            r#"  --vars["table"]--> Value 'big-table"#,
        ]
        .join("\n")
    );
    let dot = objgraph::show_chain(&chain, &GraphOptions::default()).unwrap();
    assert_golden("objgraph_interpreter.gv", GOLDEN_INTERPRETER, &dot);
    // The same labels in show_refs, from the other end.
    let refs = objgraph::show_refs(&[obj(&heap.global)], &GraphOptions::default()).unwrap();
    assert!(refs.contains("label=\"vars[\\\"answer\\\"]\""));
    assert!(refs.contains("label=\"Value\\n42\""));
    // An object without a description prints its address.
    let opaque = Gc::new(Opaque(0));
    assert_eq!(
        objgraph::format_chain(&[obj(&opaque)]),
        format!("Opaque at {:#x}", Gc::id(&opaque))
    );
    // An unlinked pair: `-->` without a label.
    assert_eq!(
        objgraph::format_chain(&[heap.leaked.clone(), obj(&heap.global)]),
        "Value 'big-table\n  ----> Env <env global>"
    );
    drop((heap, chain, opaque));
    // The global frame and the closure's frame form a cycle.
    assert!(gc_core::collect() > 0);
    free_all();
}

/// Describing runs user code; a description that calls back into the tools
/// (and collects) while a graph is being drawn is fine.
#[derive(Trace)]
#[gc(describe)]
struct Nosy(Option<Gc<Nosy>>);

impl Describe for Nosy {
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let collected = gc_core::collect();
        let chain = self.0.as_ref().map_or(0, |next| {
            objgraph::find_backref_chain(next, is_root, 5).len()
        });
        write!(f, "collected {collected}, chain {chain}")
    }
}

#[test]
fn a_description_may_use_the_tools() {
    let tail = Gc::new(Nosy(None));
    let head = Gc::new(Nosy(Some(tail.clone())));
    let dot = objgraph::show_refs(&[obj(&head)], &GraphOptions::default()).unwrap();
    // The tail is held by this test: a root, so its chain is itself.
    assert!(dot.contains("collected 0, chain 1"), "{dot}");
    assert!(objgraph::format_chain(&[obj(&head), obj(&tail)]).contains("--.0--> Nosy collected 0"));
    drop((head, tail));
    free_all();
}

// ---------------------------------------------------------------------------
// Descriptions run by a finalizer, inside a collection

thread_local! {
    static SEEN: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// A node in a garbage cycle whose finalizer draws the cycle; its
/// description calls back into the library: it allocates, upgrades a weak
/// reference to its partner, collects (refused: a collection is running),
/// lists the heap and walks its own edges.
#[derive(Trace)]
#[gc(describe, finalize)]
struct Chatty {
    name: &'static str,
    partner: RefCell<Option<Gc<Chatty>>>,
    weak: RefCell<gc_core::Weak<Chatty>>,
}

impl Describe for Chatty {
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scratch = Gc::new(String::from("scratch"));
        let partner = self.weak.borrow().upgrade().map(|p| p.name);
        let collected = gc_core::collect();
        let objects = gc_core::get_objects(None).len();
        drop(scratch);
        write!(
            f,
            "{} (partner {partner:?}, collected {collected}, {objects} objects)",
            self.name
        )
    }
}

impl gc_core::Finalize for Chatty {
    fn finalize(&self) {
        let me = self.partner.borrow().as_ref().map(|p| {
            let dot = objgraph::show_refs(&[obj(p)], &GraphOptions::default()).unwrap();
            let chain = objgraph::format_chain(&[obj(p)]);
            (dot, chain, obj(p).describe())
        });
        if let Some((dot, chain, description)) = me {
            SEEN.with(|seen| {
                let mut seen = seen.borrow_mut();
                seen.push(dot);
                seen.push(chain);
                seen.extend(description);
            });
        }
    }
}

#[test]
fn a_finalizer_may_draw_and_describe_the_garbage_it_belongs_to() {
    gc_core::set_finalizer_policy(gc_core::FinalizerPolicy::Finalize);
    let a = Gc::new(Chatty {
        name: "a",
        partner: RefCell::new(None),
        weak: RefCell::new(gc_core::Weak::new()),
    });
    let b = Gc::new(Chatty {
        name: "b",
        partner: RefCell::new(Some(a.clone())),
        weak: RefCell::new(Gc::downgrade(&a)),
    });
    *a.partner.borrow_mut() = Some(b.clone());
    *a.weak.borrow_mut() = Gc::downgrade(&b);
    drop((a, b));
    assert_eq!(gc_core::collect(), 2);
    let seen = SEEN.with(|seen| seen.take());
    // Each finalizer drew its partner. The descriptions ran inside the
    // collection: the weak references to the garbage were already cleared,
    // the re-entrant `collect()` was refused (0), and the garbage is on no
    // generation list (0 objects).
    assert_eq!(seen.len(), 6, "{seen:#?}");
    for name in ["a", "b"] {
        let described = format!("{name} (partner None, collected 0, 0 objects)");
        assert!(seen.contains(&described), "{seen:#?}");
        assert!(seen.contains(&format!("Chatty {described}")), "{seen:#?}");
    }
    assert!(seen.iter().filter(|s| s.starts_with("digraph")).count() == 2);
    gc_core::set_finalizer_policy(gc_core::FinalizerPolicy::Uncollectable);
    free_all();
}
