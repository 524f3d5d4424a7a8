//! Realistic shapes and their edge labels: every `Gc` a value owns is reported once, under the
//! path that leads to it (`Call.1[1].Add.0.Var.value`), and nothing else is.

use std::cell::RefCell;
use std::collections::HashMap;

use gc_core::{Gc, Trace};

use crate::{assert_edges, assert_heap_clean, edges, id, leaf, tracked};

// ---------------------------------------------------------------------------------------------
// An interpreter's AST: a self-recursive enum (`Box<Expr>`, `Vec<Expr>`) with all three variant
// kinds, and `Gc`s to shared, mutable cells and functions.

/// A variable's cell: shared between every `Var` that names it.
pub(crate) type Cell = RefCell<Option<Expr>>;

#[derive(Trace)]
pub(crate) enum Expr {
    Num(i64),
    Add(Box<Expr>, Box<Expr>),
    Var { name: String, value: Gc<Cell> },
    Call(Gc<Func>, Vec<Expr>),
    Nil,
}

#[derive(Trace)]
pub(crate) struct Func {
    pub(crate) name: String,
    pub(crate) params: Vec<String>,
    pub(crate) body: RefCell<Expr>,
}

impl Expr {
    pub(crate) fn var(name: &str, value: &Gc<Cell>) -> Expr {
        Expr::Var {
            name: name.to_owned(),
            value: value.clone(),
        }
    }

    pub(crate) fn add(lhs: Expr, rhs: Expr) -> Expr {
        Expr::Add(Box::new(lhs), Box::new(rhs))
    }

    /// Evaluates, to show the values are usable as ordinary Rust data.
    fn eval(&self) -> i64 {
        match self {
            Expr::Num(n) => *n,
            Expr::Add(lhs, rhs) => lhs.eval() + rhs.eval(),
            Expr::Var { value, .. } => value.borrow().as_ref().map_or(0, Expr::eval),
            Expr::Call(func, args) => {
                assert_eq!(func.params.len(), args.len(), "arity of {}", func.name);
                func.body.borrow().eval() + args.iter().map(Expr::eval).sum::<i64>()
            }
            Expr::Nil => 0,
        }
    }
}

#[test]
fn ast_enum_labels_every_edge_once() {
    const { assert!(<Expr as gc_core::TraceMeta>::TRACKED) };
    const { assert!(<Func as gc_core::TraceMeta>::TRACKED) };

    let x: Gc<Cell> = Gc::new(RefCell::new(Some(Expr::Num(40))));
    let y: Gc<Cell> = Gc::new(RefCell::new(None));
    let f = Gc::new(Func {
        name: "f".into(),
        params: vec!["a".into(), "b".into(), "c".into()],
        body: RefCell::new(Expr::Num(1)),
    });
    let call = Gc::new(Expr::Call(
        f.clone(),
        vec![
            Expr::Num(1),
            Expr::add(
                Expr::var("x", &x),
                Expr::add(Expr::Num(2), Expr::var("y", &y)),
            ),
            Expr::var("x", &x),
        ],
    ));
    assert_eq!(call.eval(), 1 + 1 + 40 + 2 + 40);

    // `x` is named twice: two `Gc`s, two owned edges, each reported once.
    assert_edges(
        &call,
        &[
            ("Call.0", id(&f)),
            ("Call.1[1].Add.0.Var.value", id(&x)),
            ("Call.1[1].Add.1.Add.1.Var.value", id(&y)),
            ("Call.1[2].Var.value", id(&x)),
        ],
    );
    // A `Func` reaches its edges through the `RefCell` of its body.
    *f.body.borrow_mut() = Expr::var("y", &y);
    assert_edges(&f, &[("body.Var.value", id(&y))]);
    // The cell holding an `Expr` is a `RefCell<Option<Expr>>`: labels start at the variant.
    *y.borrow_mut() = Some(Expr::add(Expr::var("x", &x), Expr::Nil));
    assert_edges(&y, &[("Add.0.Var.value", id(&x))]);

    // Tracking is per type: an `Expr` that happens to hold no `Gc` is still tracked.
    let num = Gc::new(Expr::Num(7));
    assert!(gc_core::is_tracked(&num));
    assert!(edges(&num).is_empty());

    drop((x, y, f, call, num));
    assert_heap_clean();
}

// ---------------------------------------------------------------------------------------------
// A generic tree: `Vec<Gc<Node<T>>>` behind a `RefCell`, the value of any `Trace` type.

#[derive(Trace)]
pub(crate) struct Node<T: 'static> {
    pub(crate) value: T,
    pub(crate) children: RefCell<Vec<Gc<Node<T>>>>,
}

impl<T: gc_core::TraceMeta> Node<T> {
    pub(crate) fn new(value: T) -> Gc<Node<T>> {
        Gc::new(Node {
            value,
            children: RefCell::new(Vec::new()),
        })
    }

    pub(crate) fn adopt(this: &Gc<Self>, child: &Gc<Self>) {
        this.children.borrow_mut().push(child.clone());
    }
}

#[test]
fn generic_tree_labels_children_by_index() {
    let root = Node::new(Gc::new(String::from("root")));
    let left = Node::new(Gc::new(String::from("left")));
    let right = Node::new(Gc::new(String::from("right")));
    Node::adopt(&root, &left);
    Node::adopt(&root, &right);
    assert_edges(
        &root,
        &[
            ("value", id(&root.value)),
            ("children[0]", id(&left)),
            ("children[1]", id(&right)),
        ],
    );
    assert_edges(&left, &[("value", id(&left.value))]);

    // With a plain value, only the children are edges; the tree is still tracked (it holds
    // `Gc`s whatever `T` is).
    let numbers = Node::new(1_u32);
    let two = Node::new(2_u32);
    Node::adopt(&numbers, &two);
    assert_edges(&numbers, &[("children[0]", id(&two))]);
    assert!(gc_core::is_tracked(&two));
    const { assert!(<Node<u32> as gc_core::TraceMeta>::TRACKED) };

    drop((root, left, right, numbers, two));
    assert_heap_clean();
}

// ---------------------------------------------------------------------------------------------
// A scope of variables: `HashMap<String, Gc<..>>`, whose iteration order is unspecified.

#[derive(Trace)]
pub(crate) struct Scope {
    pub(crate) parent: Option<Gc<Scope>>,
    pub(crate) vars: RefCell<HashMap<String, Gc<Value>>>,
    pub(crate) depth: usize,
}

#[derive(Trace)]
pub(crate) enum Value {
    Int(i64),
    Text(String),
    /// A closure captures the scope it was defined in: the classic interpreter cycle.
    Closure {
        scope: Gc<Scope>,
        params: Vec<String>,
    },
}

#[test]
fn hash_map_values_are_labelled_by_key() {
    let global = Gc::new(Scope {
        parent: None,
        vars: RefCell::new(HashMap::new()),
        depth: 0,
    });
    let local = Gc::new(Scope {
        parent: Some(global.clone()),
        vars: RefCell::new(HashMap::new()),
        depth: 1,
    });
    let values: Vec<Gc<Value>> = vec![
        Gc::new(Value::Int(1)),
        Gc::new(Value::Text("two".into())),
        Gc::new(Value::Closure {
            scope: global.clone(),
            params: vec!["x".into()],
        }),
    ];
    for (name, value) in ["a", "b", "c"].iter().zip(&values) {
        local
            .vars
            .borrow_mut()
            .insert((*name).to_owned(), value.clone());
    }

    // Order-independent: the same labels and targets whatever the map's order.
    let mut found = edges(&local);
    let parent = found.remove(0);
    assert_eq!(parent, ("parent".to_owned(), id(&global)));
    let mut labels: Vec<&str> = found.iter().map(|(label, _)| label.as_str()).collect();
    labels.sort_unstable();
    assert_eq!(labels, [r#"vars["a"]"#, r#"vars["b"]"#, r#"vars["c"]"#]);
    let mut targets: Vec<usize> = found.iter().map(|&(_, target)| target).collect();
    targets.sort_unstable();
    let mut expected: Vec<usize> = values.iter().map(id).collect();
    expected.sort_unstable();
    assert_eq!(targets, expected);

    // And exact: each value is labelled by its own key, in the map's own order.
    let exact: Vec<(String, usize)> = local
        .vars
        .borrow()
        .iter()
        .map(|(name, value)| (format!("vars[{name:?}]"), id(value)))
        .collect();
    assert_eq!(found, exact);

    assert_edges(&values[2], &[("Closure.scope", id(&global))]);
    assert!(edges(&values[0]).is_empty());
    assert_eq!(local.depth, 1);

    drop((global, local, values));
    assert_heap_clean();
}

// ---------------------------------------------------------------------------------------------
// Tuple and unit structs.

#[derive(Trace)]
pub(crate) struct Pair(pub(crate) Gc<u32>, pub(crate) Vec<Gc<u32>>, pub(crate) u8);

#[derive(Trace)]
struct Newtype(Gc<Pair>);

#[derive(Trace)]
struct HalfSkipped(#[gc(skip)] Gc<u32>, Gc<u32>);

#[derive(Trace)]
struct Marker;

#[derive(Trace)]
struct EmptyTuple();

#[derive(Trace)]
struct EmptyBraces {}

#[derive(Trace)]
enum Fieldless {
    On,
    Off,
}

#[derive(Trace)]
enum Never {}

#[test]
fn tuple_structs_are_labelled_by_position() {
    let (a, b, c) = (leaf(1), leaf(2), leaf(3));
    let pair = Gc::new(Pair(a.clone(), vec![b.clone(), c.clone()], 0));
    assert_edges(
        &pair,
        &[(".0", id(&a)), (".1[0]", id(&b)), (".1[1]", id(&c))],
    );
    assert_eq!(pair.2, 0);
    let newtype = Gc::new(Newtype(pair.clone()));
    assert_edges(&newtype, &[(".0", id(&pair))]);
    let half = Gc::new(HalfSkipped(a.clone(), b.clone()));
    assert_edges(&half, &[(".1", id(&b))]);
    assert_eq!(*half.0, 1);
    drop((a, b, c, pair, newtype, half));
    assert_heap_clean();
}

#[test]
fn unit_structs_own_nothing_and_are_untracked() {
    const {
        assert!(!<Marker as gc_core::TraceMeta>::TRACKED);
        assert!(!<EmptyTuple as gc_core::TraceMeta>::TRACKED);
        assert!(!<EmptyBraces as gc_core::TraceMeta>::TRACKED);
        assert!(!<Fieldless as gc_core::TraceMeta>::TRACKED);
        assert!(!<Never as gc_core::TraceMeta>::TRACKED);
    }
    let marker = Gc::new(Marker);
    let tuple = Gc::new(EmptyTuple());
    let braces = Gc::new(EmptyBraces {});
    let on = Gc::new(Fieldless::On);
    assert!(!gc_core::is_tracked(&marker));
    assert!(!gc_core::is_tracked(&tuple));
    assert!(!gc_core::is_tracked(&braces));
    assert!(!gc_core::is_tracked(&on));
    assert!(edges(&marker).is_empty());
    assert!(edges(&on).is_empty());
    assert!(matches!(*Gc::new(Fieldless::Off), Fieldless::Off));
    drop((marker, tuple, braces, on));
    assert_heap_clean();
}

// ---------------------------------------------------------------------------------------------
// Nested wrappers: `Option` and `RefCell` are transparent in labels, tuples and sequences are not.

#[allow(clippy::type_complexity)] // the nesting is what is tested
#[derive(Trace)]
struct Slots {
    first: Option<RefCell<Option<Gc<u32>>>>,
    rest: RefCell<Option<Vec<Option<Gc<u32>>>>>,
    pair: Option<(Gc<u32>, RefCell<Option<Gc<u32>>>)>,
    empty: Option<RefCell<Option<Gc<u32>>>>,
}

#[test]
fn nested_options_and_cells() {
    let (one, two, three, four, five) = (leaf(1), leaf(2), leaf(3), leaf(4), leaf(5));
    let slots = Gc::new(Slots {
        first: Some(RefCell::new(Some(one.clone()))),
        rest: RefCell::new(Some(vec![Some(two.clone()), None, Some(three.clone())])),
        pair: Some((four.clone(), RefCell::new(Some(five.clone())))),
        empty: Some(RefCell::new(None)),
    });
    assert_edges(
        &slots,
        &[
            ("first", id(&one)),
            ("rest[0]", id(&two)),
            ("rest[2]", id(&three)),
            ("pair.0", id(&four)),
            ("pair.1", id(&five)),
        ],
    );
    // A mutably borrowed cell is skipped, every time (rule 3 of `Trace`'s contract): its edges
    // then count as external references, which only keeps their targets alive.
    {
        let _guard = slots.rest.borrow_mut();
        let labels: Vec<String> = edges(&slots).into_iter().map(|(label, _)| label).collect();
        assert_eq!(labels, ["first", "pair.0", "pair.1"]);
    }
    assert!(
        slots
            .empty
            .as_ref()
            .is_some_and(|cell| cell.borrow().is_none())
    );
    drop((one, two, three, four, five, slots));
    assert_heap_clean();
}

// ---------------------------------------------------------------------------------------------
// Const generics: arrays of `Gc`s, nested arrays.

#[derive(Trace)]
pub(crate) struct Ring<X: 'static, const N: usize> {
    pub(crate) slots: [Gc<X>; N],
    pub(crate) head: usize,
}

#[derive(Trace)]
struct Grid<T, const W: usize, const H: usize> {
    cells: [[Option<T>; W]; H],
}

#[test]
fn const_generic_arrays_are_labelled_by_index() {
    let [a, b, c] = [leaf(1), leaf(2), leaf(3)];
    let ring = Gc::new(Ring {
        slots: [a.clone(), b.clone(), c.clone()],
        head: 0,
    });
    assert_edges(
        &ring,
        &[
            ("slots[0]", id(&a)),
            ("slots[1]", id(&b)),
            ("slots[2]", id(&c)),
        ],
    );
    assert_eq!(ring.head, 0);
    const { assert!(<Ring<u32, 0> as gc_core::TraceMeta>::TRACKED) };

    let grid = Gc::new(Grid::<Gc<u32>, 2, 2> {
        cells: [[None, Some(a.clone())], [Some(b.clone()), None]],
    });
    assert_edges(&grid, &[("cells[0][1]", id(&a)), ("cells[1][0]", id(&b))]);
    assert!(gc_core::is_tracked(&grid));
    let plain = Gc::new(Grid::<u8, 3, 1> {
        cells: [[Some(1), None, Some(3)]],
    });
    assert!(!gc_core::is_tracked(&plain));
    assert!(!tracked(&*plain));

    drop((a, b, c, ring, grid, plain));
    assert_heap_clean();
}

// ---------------------------------------------------------------------------------------------
// `#[gc(skip)]` on fields and on enum variants.

#[derive(Trace)]
struct Cached {
    source: Gc<u32>,
    #[gc(skip)]
    memo: Option<Gc<u32>>,
    hits: u32,
}

// The tests look at the skipped fields only through `edges()`, which dead-code analysis
// does not count as a read.
#[allow(dead_code)]
#[derive(Trace)]
enum Entry {
    #[gc(skip)]
    Pinned(Gc<u32>, Gc<u32>),
    Live {
        target: Gc<u32>,
        #[gc(skip)]
        shadow: Gc<u32>,
        weight: u8,
    },
    Both(Gc<u32>, #[gc(skip)] Gc<u32>, Gc<u32>),
    Vacant,
}

#[test]
fn skipped_fields_and_variants_are_not_reported() {
    let (a, b, c) = (leaf(1), leaf(2), leaf(3));
    let cached = Gc::new(Cached {
        source: a.clone(),
        memo: Some(b.clone()),
        hits: 3,
    });
    assert_edges(&cached, &[("source", id(&a))]);
    assert_eq!(cached.hits, 3);
    // The skipped `Gc` is an ordinary strong handle: it keeps `b` alive, nothing more.
    assert_eq!(Gc::strong_count(&b), 2);
    assert!(cached.memo.is_some());

    let pinned = Gc::new(Entry::Pinned(a.clone(), b.clone()));
    assert!(edges(&pinned).is_empty());
    let live = Gc::new(Entry::Live {
        target: a.clone(),
        shadow: b.clone(),
        weight: 1,
    });
    assert_edges(&live, &[("Live.target", id(&a))]);
    let both = Gc::new(Entry::Both(a.clone(), b.clone(), c.clone()));
    assert_edges(&both, &[("Both.0", id(&a)), ("Both.2", id(&c))]);
    let vacant = Gc::new(Entry::Vacant);
    assert!(edges(&vacant).is_empty());
    if let Entry::Live { shadow, weight, .. } = &*live {
        assert_eq!((**shadow, *weight), (2, 1));
    }

    drop((a, b, c, cached, pinned, live, both, vacant));
    assert_heap_clean();
}
