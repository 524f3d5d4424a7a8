//! `#[derive(Trace)]` compiled against the real gc-core (a dev-dependency: the derive itself
//! never depends on the runtime) for the few shapes no other test builds. Behaviour is observed
//! through the public API only: `TraceMeta::TRACKED`, `gc_core::is_tracked` and the labelled edges
//! of `Object::edges`. Several of the properties are checked by compiling at all: a wrong
//! expansion of these types is a build error of this file.
//!
//! Where everything else about the derive is tested:
//!
//! | what | where |
//! |---|---|
//! | the expansion's tokens, the inferred bounds, every error message | `gc-derive/src/tests.rs` (unit tests) |
//! | labels of structs, tuple structs, enums, nested `Option`/`RefCell`/`Vec`/`HashMap`/arrays; `#[gc(skip)]` on fields and variants | `tests/tests/derive/shapes.rs` |
//! | inferred bounds, `#[gc(bound)]`, kept `where` clauses, defaults, `?Sized`, projections | `tests/tests/derive/generics.rs` |
//! | `TRACKED` and `is_tracked` per type; self-recursion without a `Gc` (`Box<Self>`, `Vec<Self>`) | `tests/tests/derive/untracking.rs` |
//! | mutual recursion through a `Gc` (`Expr` and `Func`, `Scope` and `Value`) | `tests/tests/derive/shapes.rs`, `collect.rs` |
//! | `#[gc(finalize)]`; `#[gc(unsafe_no_drop)]` with `unsafe impl DropOk` | `tests/tests/derive/finalize_and_drop.rs` |
//! | the collector uses the derived `trace` (cycles of derived types are freed) | `tests/tests/derive/collect.rs` |
//! | hostile names, no prelude, `#[gc(crate = "...")]`, warning-free output | `tests/tests/derive/hygiene.rs`, `tests/renamed/` |
//! | what must not compile (unions, `Drop` without opt-in, recursion without a `Gc`, ...) | `tests/tests/ui/`, run by `tests/tests/compiletest.rs` |
//!
//! What is left, and tested here:
//!
//! - a generic type that mentions itself (`Vec<Tree<T>>`) and is tracked only when its argument
//!   is;
//! - lifetime parameters under the default `Drop` check;
//! - `#[gc(unsafe_no_drop)]` on a type with a `where` clause and an implied bound;
//! - user constants named like the fields of an enum variant.

#![deny(warnings)]

use std::marker::PhantomData;
use std::rc::Rc;

use gc_core::{DropOk, Gc, Trace};

/// The edges of `gc`'s object as `(label, target id)`, in trace order.
fn edges<T: 'static>(gc: &Gc<T>) -> Vec<(String, usize)> {
    Gc::to_object(gc)
        .edges()
        .into_iter()
        .map(|(label, target)| (label, target.id()))
        .collect()
}

/// `(label, Gc::id(target))`, to compare with [`edges`].
fn edge<T: 'static>(label: &str, target: &Gc<T>) -> (String, usize) {
    (label.to_owned(), Gc::id(target))
}

/// Asserts that nothing was left on this thread's heap: no garbage, no tracked object.
#[track_caller]
fn assert_heap_clean() {
    assert_eq!(gc_core::collect(), 0, "garbage cycles were left behind");
    let alive = gc_core::get_objects(None);
    assert!(alive.is_empty(), "tracked objects still alive: {alive:?}");
}

// ---------------------------------------------------------------------------------------------
// A generic type that mentions itself.

/// Holds no `Gc` of its own: whether it can reach one depends on `T` only. Its `TRACKED` is
/// computed with the mention `Tree<T>` replaced by `()`; left as it is, the constant would
/// depend on itself (E0391), and a stand-in that is tracked would make every `Tree` tracked.
#[derive(Trace)]
enum Tree<T> {
    Leaf(T),
    Branch(Vec<Tree<T>>),
    Empty,
}

#[test]
fn generic_self_recursive_type_is_tracked_iff_its_argument_is() {
    const {
        assert!(!<Tree<u32> as gc_core::TraceMeta>::TRACKED);
        assert!(<Tree<Gc<u32>> as gc_core::TraceMeta>::TRACKED);
        assert!(!<Tree<Tree<u8>> as gc_core::TraceMeta>::TRACKED);
        assert!(<Tree<Tree<Gc<u8>>> as gc_core::TraceMeta>::TRACKED);
    }
    let plain = Gc::new(Tree::Branch(vec![Tree::Leaf(1_u32), Tree::Empty]));
    assert!(!gc_core::is_tracked(&plain));

    let (a, b) = (Gc::new(1_u32), Gc::new(2_u32));
    let tree = Gc::new(Tree::Branch(vec![
        Tree::Leaf(a.clone()),
        Tree::Empty,
        Tree::Branch(vec![Tree::Leaf(b.clone())]),
    ]));
    assert!(gc_core::is_tracked(&tree));
    // `trace` uses the real field types: it walks down the nested branches.
    assert_eq!(
        edges(&tree),
        [
            edge("Branch.0[0].Leaf.0", &a),
            edge("Branch.0[2].Branch.0[0].Leaf.0", &b),
        ]
    );

    drop((plain, a, b, tree));
    assert_heap_clean();
}

// ---------------------------------------------------------------------------------------------
// Lifetime parameters under the default `Drop` check.

/// A lifetime next to type and const parameters, without `unsafe_no_drop`: the `Trace` impl and
/// the impl that forbids `Drop` must both declare `'a`. (The only other derived type with a
/// lifetime, in `tests/tests/derive/hygiene.rs`, has `unsafe_no_drop`, whose check is another
/// impl.)
#[allow(dead_code)] // the skipped field is never read: only the edges are looked at
#[derive(Trace)]
struct Borrowing<'a, T: Clone, U, const N: usize> {
    items: Vec<T>,
    marker: PhantomData<&'a U>,
    #[gc(skip)]
    shared: Rc<U>,
    sizes: [u8; N],
}

#[test]
fn lifetime_parameters_in_the_impls() {
    const {
        assert!(<Borrowing<'static, Gc<u32>, u8, 2> as gc_core::TraceMeta>::TRACKED);
        assert!(!<Borrowing<'static, u32, u8, 0> as gc_core::TraceMeta>::TRACKED);
    }
    let (a, b) = (Gc::new(1_u32), Gc::new(2_u32));
    let borrowing: Gc<Borrowing<'static, Gc<u32>, u8, 2>> = Gc::new(Borrowing {
        items: vec![a.clone(), b.clone()],
        marker: PhantomData,
        shared: Rc::new(3),
        sizes: [4, 5],
    });
    assert!(gc_core::is_tracked(&borrowing));
    assert_eq!(
        edges(&borrowing),
        [edge("items[0]", &a), edge("items[1]", &b)]
    );

    drop((a, b, borrowing));
    assert_heap_clean();
}

// ---------------------------------------------------------------------------------------------
// `#[gc(unsafe_no_drop)]` with a `where` clause and an implied bound.

/// The `DropOk` check must be an impl with the type's generics and `where` clause: without
/// `T: Clone` the type is not well-formed, and only an impl header (not a function body) brings
/// in the bound `T: 'a` implied by the `&'a [T; N]` field.
#[allow(dead_code)] // the skipped field is never read: only the edges are looked at
#[derive(Trace)]
#[gc(unsafe_no_drop)]
struct Guarded<'a, T, const N: usize>(#[gc(skip)] &'a [T; N], Option<Gc<u32>>)
where
    T: Clone;

impl<T: Clone, const N: usize> Drop for Guarded<'_, T, N> {
    fn drop(&mut self) {}
}

// SAFETY: `drop` touches neither field.
unsafe impl<T: Clone, const N: usize> DropOk for Guarded<'_, T, N> {}

#[test]
fn unsafe_no_drop_keeps_the_where_clause_and_implied_bounds() {
    const { assert!(<Guarded<'static, u8, 2> as gc_core::TraceMeta>::TRACKED) };
    let target = Gc::new(1_u32);
    let guarded = Gc::new(Guarded(&[1_u8, 2], Some(target.clone())));
    assert!(gc_core::is_tracked(&guarded));
    assert_eq!(edges(&guarded), [edge(".1", &target)]);
    drop((guarded, target));
    assert_heap_clean();
}

// ---------------------------------------------------------------------------------------------
// Constants named like fields.

/// Lowercase constants with the names of `Link`'s fields. The derive's `match` arms bind each
/// field to a fresh name (`next: __field0`); a shorthand pattern (`Self::Both { next, back }`)
/// would read `next` as a constant pattern here, a type error.
#[allow(non_upper_case_globals)]
mod shadowed {
    use gc_core::Gc;

    // Never read: only their names matter.
    #[allow(dead_code)]
    pub(crate) const next: u8 = 0;
    #[allow(dead_code)]
    pub(crate) const back: u8 = 0;
    #[allow(dead_code)]
    pub(crate) const shadow: u8 = 0;

    #[allow(dead_code)] // the skipped fields are never read: only the edges are looked at
    #[derive(gc_core::Trace)]
    pub(crate) enum Link<T> {
        Both {
            next: T,
            back: Option<Box<Link<T>>>,
            #[gc(skip)]
            shadow: Gc<u32>,
        },
        One(T, #[gc(skip)] u8),
        Nothing,
    }
}

#[test]
fn constants_named_like_fields_are_not_patterns() {
    use shadowed::Link;

    let (a, b, c) = (Gc::new(1_u32), Gc::new(2_u32), Gc::new(3_u32));
    let link = Gc::new(Link::Both {
        next: a.clone(),
        back: Some(Box::new(Link::One(b.clone(), 0))),
        shadow: c.clone(),
    });
    assert_eq!(
        edges(&link),
        [edge("Both.next", &a), edge("Both.back.One.0", &b)]
    );
    assert!(edges(&Gc::new(Link::<Gc<u32>>::Nothing)).is_empty());

    drop((a, b, c, link));
    assert_heap_clean();
}
