//! Compiles and runs derived impls against a mock of gc-core's `Trace`/`Tracer`/`Finalize`
//! shape, so that gc-derive is tested on its own (it must not depend on gc-core).
//!
//! `extern crate self as gc_core` makes the default paths (`::gc_core::Trace`) resolve to this
//! file's mock. The behaviour of real collections is gc-core's business (`tests/` crate); this
//! file checks what the derive decides: edge labels, `TRACKED`, bounds, finalizer hooks, and
//! that the output compiles warning-free next to hostile names.

#![deny(warnings)]
#![allow(dead_code)]

extern crate self as gc_core;

use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;

pub use gc_derive::Trace;

// ---------------------------------------------------------------------------------------------
// The mock runtime: the trait shape of gc-core/src/trace.rs.

/// A strong pointer; the mock only needs its address.
pub struct Gc<T: 'static>(Rc<T>);

impl<T> Gc<T> {
    /// Allocates.
    pub fn new(value: T) -> Self {
        Gc(Rc::new(value))
    }
    fn addr(&self) -> usize {
        Rc::as_ptr(&self.0).cast::<u8>() as usize
    }
}

impl<T> Clone for Gc<T> {
    fn clone(&self) -> Self {
        Gc(Rc::clone(&self.0))
    }
}

/// # Safety
///
/// As gc-core's `Trace`.
pub unsafe trait Trace {
    /// Whether a value can reach a `Gc`.
    const TRACKED: bool = true;
    /// Reports each owned edge once.
    fn trace<V: Tracer>(&self, tracer: &mut V);
    #[doc(hidden)]
    const __HAS_FINALIZER: bool = false;
    #[doc(hidden)]
    fn __finalize(&self) {}
}

/// Receives edges.
pub trait Tracer: Sized {
    /// One strong edge.
    fn edge<T: 'static>(&mut self, gc: &Gc<T>);
    /// Labels the edges `trace` reports.
    fn field<F: FnOnce(&mut Self)>(&mut self, name: &'static str, trace: F) {
        let _ = name;
        trace(self);
    }
    /// Labels the edges `trace` reports.
    fn index<F: FnOnce(&mut Self)>(&mut self, index: usize, trace: F) {
        let _ = index;
        trace(self);
    }
}

/// Python's `__del__`.
pub trait Finalize {
    /// Runs once.
    fn finalize(&self);
}

/// The promise behind `#[gc(unsafe_no_drop)]`.
///
/// # Safety
///
/// As gc-core's `DropOk`.
pub unsafe trait DropOk {}

/// Records each edge as `(label path, address)`.
#[derive(Default)]
struct Recorder {
    path: Vec<String>,
    edges: Vec<(String, usize)>,
}

impl Tracer for Recorder {
    fn edge<T: 'static>(&mut self, gc: &Gc<T>) {
        self.edges.push((self.path.join("/"), gc.addr()));
    }
    fn field<F: FnOnce(&mut Self)>(&mut self, name: &'static str, trace: F) {
        self.path.push(name.to_owned());
        trace(self);
        self.path.pop();
    }
    fn index<F: FnOnce(&mut Self)>(&mut self, index: usize, trace: F) {
        self.path.push(format!("[{index}]"));
        trace(self);
        self.path.pop();
    }
}

fn labels<T: Trace>(value: &T) -> Vec<String> {
    let mut recorder = Recorder::default();
    value.trace(&mut recorder);
    recorder.edges.into_iter().map(|(label, _)| label).collect()
}

fn tracked<T: Trace>(_: &T) -> bool {
    T::TRACKED
}

macro_rules! leaves {
    ($($ty:ty),*) => {$(
        // SAFETY: owns no `Gc`.
        unsafe impl Trace for $ty {
            const TRACKED: bool = false;
            fn trace<V: Tracer>(&self, _: &mut V) {}
        }
    )*};
}
leaves!((), u8, u32, bool, String, &'static str);

// SAFETY: reports its one owned edge.
unsafe impl<T: 'static> Trace for Gc<T> {
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        tracer.edge(self);
    }
}
// SAFETY: an opaque leaf, as in gc-core.
unsafe impl<T: 'static> Trace for Rc<T> {
    const TRACKED: bool = false;
    fn trace<V: Tracer>(&self, _: &mut V) {}
}
// SAFETY: owns nothing.
unsafe impl<T: ?Sized> Trace for PhantomData<T> {
    const TRACKED: bool = false;
    fn trace<V: Tracer>(&self, _: &mut V) {}
}
// SAFETY: traces the boxed value.
unsafe impl<T: Trace + ?Sized> Trace for Box<T> {
    const TRACKED: bool = T::TRACKED;
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        (**self).trace(tracer);
    }
}
// SAFETY: traces the value if any.
unsafe impl<T: Trace> Trace for Option<T> {
    const TRACKED: bool = T::TRACKED;
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        if let Some(value) = self {
            value.trace(tracer);
        }
    }
}
// SAFETY: traces each element once.
unsafe impl<T: Trace> Trace for Vec<T> {
    const TRACKED: bool = T::TRACKED;
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        for (i, value) in self.iter().enumerate() {
            tracer.index(i, |t| value.trace(t));
        }
    }
}
// SAFETY: skips a mutably borrowed cell every time.
unsafe impl<T: Trace> Trace for RefCell<T> {
    const TRACKED: bool = T::TRACKED;
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        if let Ok(value) = self.try_borrow() {
            value.trace(tracer);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Derived types

#[derive(Trace)]
struct Node {
    next: Option<Gc<Node>>,
    name: String,
}

#[derive(Trace)]
struct Pair(Gc<u8>, #[gc(skip)] Gc<u8>, u32);

#[derive(Trace)]
struct Unit;

#[derive(Trace)]
enum Expr {
    Num(u32),
    Neg(Box<Expr>),
    Add { lhs: Box<Self>, rhs: Box<Expr> },
}

#[derive(Trace)]
enum Tree<T> {
    Leaf(T),
    Node(Vec<Tree<T>>),
    Skipped(#[gc(skip)] Gc<u32>),
    #[gc(skip)]
    Whole {
        x: Gc<u32>,
    },
    Empty,
}

#[derive(Trace)]
enum Never {}

#[derive(Trace)]
struct Generic<'a, T: Clone, U, const N: usize>
where
    U: 'static,
{
    items: Vec<T>,
    marker: PhantomData<&'a U>,
    #[gc(skip)]
    skipped: Rc<U>,
    array: [u8; N],
}

// SAFETY: `[u8; N]` owns no `Gc`.
unsafe impl<const N: usize> Trace for [u8; N] {
    const TRACKED: bool = false;
    fn trace<V: Tracer>(&self, _: &mut V) {}
}

/// Mutual recursion through `Gc` is fine: `Gc`'s `TRACKED` does not look at its target.
#[derive(Trace)]
struct A {
    b: Option<Gc<B>>,
}

#[derive(Trace)]
struct B {
    a: RefCell<Option<Gc<A>>>,
    kid: Option<Box<B>>,
}

#[derive(Trace)]
#[gc(finalize)]
struct Finalized(Gc<u8>);

impl Finalize for Finalized {
    fn finalize(&self) {
        FINALIZED.with(|count| *count.borrow_mut() += 1);
    }
}

thread_local! {
    static FINALIZED: RefCell<u32> = const { RefCell::new(0) };
}

#[derive(Trace)]
#[gc(unsafe_no_drop)]
struct Dropping(u32);

impl Drop for Dropping {
    fn drop(&mut self) {}
}

// SAFETY: `drop` does nothing.
unsafe impl DropOk for Dropping {}

/// `unsafe_no_drop` on a generic type with a lifetime: the check keeps the generics, the
/// where-clause and the implied `T: 'a`.
#[derive(Trace)]
#[gc(unsafe_no_drop)]
struct DroppingRef<'a, T, const N: usize>(#[gc(skip)] &'a [T; N], u32)
where
    T: Clone;

impl<T: Clone, const N: usize> Drop for DroppingRef<'_, T, N> {
    fn drop(&mut self) {
        self.1 = 0;
    }
}

// SAFETY: `drop` only touches the `u32`.
unsafe impl<T: Clone, const N: usize> DropOk for DroppingRef<'_, T, N> {}

#[derive(Trace)]
#[gc(bound = "T: Trace")]
struct Bounded<T>(Option<Box<T>>);

mod renamed {
    pub use crate as runtime;

    #[derive(runtime::Trace)]
    #[gc(crate = "crate::renamed::runtime")]
    pub struct R<T>(pub runtime::Gc<u8>, pub T);
}

// ---------------------------------------------------------------------------------------------
// Hygiene: every name the output could trip over is taken, and there is no prelude.

#[allow(non_camel_case_types, non_upper_case_globals)]
mod hostile {
    #![no_implicit_prelude]

    pub struct Gc;
    pub struct Trace;
    pub struct Tracer;
    pub struct Finalize;
    pub struct Option;
    pub struct Some;
    pub struct None;
    pub struct Vec;
    pub struct Box;
    pub struct Sized;
    pub struct Drop;
    pub struct Self_;
    pub struct __V;
    pub struct __T;
    pub mod core {}
    pub mod std {}
    pub mod gc_core {}
    pub const next: u8 = 0;
    pub const a: u8 = 0;

    #[derive(::gc_core::Trace)]
    pub struct Node {
        pub next: ::std::option::Option<::gc_core::Gc<Node>>,
        pub a: ::std::string::String,
    }

    #[derive(::gc_core::Trace)]
    pub enum E<T: ::std::clone::Clone> {
        A { next: T, a: ::std::boxed::Box<E<T>> },
        B(T, #[gc(skip)] u8),
        C,
    }

    #[derive(::gc_core::Trace)]
    #[gc(finalize)]
    pub struct F(pub ::gc_core::Gc<u8>);

    impl ::gc_core::Finalize for F {
        fn finalize(&self) {}
    }

    #[derive(::gc_core::Trace)]
    #[gc(unsafe_no_drop)]
    pub struct D;

    impl ::std::ops::Drop for D {
        fn drop(&mut self) {}
    }

    // SAFETY: `drop` does nothing.
    unsafe impl ::gc_core::DropOk for D {}
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn node() {
    let first = Gc::new(Node {
        next: None,
        name: "a".into(),
    });
    let second = Node {
        next: Some(first.clone()),
        name: "b".into(),
    };
    assert!(tracked(&second));
    let mut recorder = Recorder::default();
    second.trace(&mut recorder);
    assert_eq!(recorder.edges, [("next".to_owned(), first.addr())]);
}

#[test]
fn tuple_struct_and_skip() {
    let pair = Pair(Gc::new(1), Gc::new(2), 3);
    assert_eq!(labels(&pair), ["0"]);
    assert!(tracked(&pair));
    assert!(!tracked(&Unit));
    assert!(labels(&Unit).is_empty());
}

#[test]
fn self_recursion_without_gc_is_untracked() {
    let expr = Expr::Add {
        lhs: Box::new(Expr::Num(1)),
        rhs: Box::new(Expr::Neg(Box::new(Expr::Num(2)))),
    };
    assert!(!tracked(&expr));
    assert!(labels(&expr).is_empty());
}

#[test]
fn generic_enum() {
    let tree: Tree<Gc<u32>> = Tree::Node(vec![
        Tree::Leaf(Gc::new(1)),
        Tree::Empty,
        Tree::Skipped(Gc::new(2)),
        Tree::Whole { x: Gc::new(3) },
        Tree::Node(vec![Tree::Leaf(Gc::new(4))]),
    ]);
    assert!(tracked(&tree));
    assert_eq!(
        labels(&tree),
        ["Node.0/[0]/Leaf.0", "Node.0/[4]/Node.0/[0]/Leaf.0"]
    );
    assert!(!tracked(&Tree::<u32>::Empty));
}

#[test]
fn generics_with_lifetimes_and_consts() {
    let generic: Generic<'_, Gc<u8>, u8, 2> = Generic {
        items: vec![Gc::new(1)],
        marker: PhantomData,
        skipped: Rc::new(1),
        array: [0; 2],
    };
    assert!(tracked(&generic));
    assert_eq!(labels(&generic), ["items/[0]"]);
    let generic: Generic<'_, u8, u8, 0> = Generic {
        items: vec![1],
        marker: PhantomData,
        skipped: Rc::new(1),
        array: [],
    };
    assert!(!tracked(&generic));
}

#[test]
fn mutual_recursion_through_gc() {
    const { assert!(<A as Trace>::TRACKED) };
    const { assert!(<B as Trace>::TRACKED) };
    let b = B {
        a: RefCell::new(Some(Gc::new(A { b: None }))),
        kid: Some(Box::new(B {
            a: RefCell::new(None),
            kid: None,
        })),
    };
    assert_eq!(labels(&b), ["a"]);
}

#[test]
fn finalizer_hooks() {
    const { assert!(<Finalized as Trace>::__HAS_FINALIZER) };
    const { assert!(!<Node as Trace>::__HAS_FINALIZER) };
    Finalized(Gc::new(1)).__finalize();
    assert_eq!(FINALIZED.with(|count| *count.borrow()), 1);
    const { assert!(<hostile::F as Trace>::__HAS_FINALIZER) };
}

#[test]
fn escape_hatches_and_renames() {
    assert!(!tracked(&Dropping(1)));
    let gcs = [Gc::new(1_u8)];
    let dropping = DroppingRef(&gcs, 2);
    assert!(!tracked(&dropping) && labels(&dropping).is_empty());
    assert!(!tracked(&Bounded::<u8>(None)));
    assert!(tracked(&Bounded::<Gc<u8>>(None)));
    let r = renamed::R(Gc::new(1u8), Gc::new(2u8));
    assert_eq!(labels(&r), ["0", "1"]);
}

#[test]
fn hostile_names() {
    let node = hostile::Node {
        next: Some(Gc::new(hostile::Node {
            next: None,
            a: String::new(),
        })),
        a: String::new(),
    };
    assert_eq!(labels(&node), ["next"]);
    let e: hostile::E<Gc<u8>> = hostile::E::A {
        next: Gc::new(1),
        a: Box::new(hostile::E::B(Gc::new(2), 0)),
    };
    assert!(tracked(&e));
    assert_eq!(labels(&e), ["A.next", "A.a/B.0"]);
    assert!(!tracked(&hostile::D));
}

#[test]
fn never() {
    const { assert!(!<Never as Trace>::TRACKED) };
}
