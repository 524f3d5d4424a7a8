//! The generated code stands on its own: it compiles next to user items that shadow every name
//! it could use, without the prelude, with gc-core under another name, and without a warning
//! under `#[deny(warnings)]` and clippy's pedantic lints.

use gc_core::Gc;

use crate::{assert_edges, assert_heap_clean, id, leaf, tracked};

/// No prelude, and a user item for every name the expansion might use unqualified. The
/// derives here can only resolve `::gc_core::...` and `::core::...` paths.
#[no_implicit_prelude]
#[allow(dead_code, non_camel_case_types, clippy::pedantic)]
mod hostile {
    pub struct Gc;
    pub struct Trace;
    pub struct Tracer;
    pub struct Finalize;
    pub struct Option;
    pub struct Some;
    pub struct None;
    pub struct Vec;
    pub struct Box;
    pub struct String;
    pub struct Drop;
    pub struct Sized;
    pub struct Copy;
    pub struct Result;
    pub struct Ok;
    pub struct __V;
    pub struct __T;
    pub mod core {}
    pub mod std {}
    pub mod alloc {}
    pub mod gc_core {}
    pub fn drop() {}

    #[derive(::gc_core::Trace)]
    pub struct Node {
        pub next: ::std::option::Option<::gc_core::Gc<Node>>,
        pub kids: ::std::vec::Vec<::gc_core::Gc<Node>>,
        pub name: ::std::string::String,
    }

    #[derive(::gc_core::Trace)]
    pub enum Tree<T: 'static> {
        Leaf(T),
        Branch {
            kids: ::std::vec::Vec<Tree<T>>,
            owner: ::std::option::Option<::gc_core::Gc<Node>>,
        },
        #[gc(skip)]
        Opaque(::gc_core::Gc<Node>),
        Empty,
    }

    #[derive(::gc_core::Trace)]
    pub struct Grid<T: 'static, const N: usize>
    where
        T: ::std::clone::Clone,
    {
        pub cells: [::gc_core::Gc<T>; N],
    }

    #[derive(::gc_core::Trace)]
    #[gc(bound = "T: ::gc_core::Trace")]
    pub struct Bounded<T>(pub ::std::boxed::Box<T>, #[gc(skip)] pub u8);

    #[derive(::gc_core::Trace)]
    #[gc(finalize)]
    pub struct Finalized(pub ::gc_core::Gc<u32>);

    impl ::gc_core::Finalize for Finalized {
        fn finalize(&self) {}
    }

    #[derive(::gc_core::Trace)]
    #[gc(unsafe_no_drop)]
    pub struct Dropping(pub ::std::option::Option<::gc_core::Gc<u32>>);

    impl ::core::ops::Drop for Dropping {
        fn drop(&mut self) {}
    }

    // SAFETY: `drop` does nothing.
    unsafe impl ::gc_core::DropOk for Dropping {}

    #[derive(::gc_core::Trace)]
    pub struct Unit;

    /// Generic parameters named like the ones the expansion introduces.
    #[derive(::gc_core::Trace)]
    pub struct Clash<__V, __T, const __V_: usize>(pub [__V; __V_], pub ::std::vec::Vec<__T>);
}

#[test]
fn hostile_names_and_no_prelude() {
    let child = Gc::new(hostile::Node {
        next: None,
        kids: Vec::new(),
        name: "child".into(),
    });
    let parent = Gc::new(hostile::Node {
        next: Some(child.clone()),
        kids: vec![child.clone()],
        name: "parent".into(),
    });
    assert_edges(&parent, &[("next", id(&child)), ("kids[0]", id(&child))]);
    assert_eq!(parent.name, "parent");

    let tree = Gc::new(hostile::Tree::Branch {
        kids: vec![
            hostile::Tree::Leaf(leaf(1)),
            hostile::Tree::Opaque(child.clone()),
            hostile::Tree::Empty,
        ],
        owner: Some(parent.clone()),
    });
    let hostile::Tree::Branch { kids, .. } = &*tree else {
        unreachable!()
    };
    let hostile::Tree::Leaf(one) = &kids[0] else {
        unreachable!()
    };
    assert_edges(
        &tree,
        &[
            ("Branch.kids[0].Leaf.0", id(one)),
            ("Branch.owner", id(&parent)),
        ],
    );
    // `Branch.owner` holds a `Gc` whatever `T` is.
    assert!(tracked(&hostile::Tree::<u8>::Empty) && !tracked(&hostile::Unit));

    let grid = Gc::new(hostile::Grid {
        cells: [leaf(1), leaf(2)],
    });
    assert_edges(
        &grid,
        &[
            ("cells[0]", id(&grid.cells[0])),
            ("cells[1]", id(&grid.cells[1])),
        ],
    );
    let bounded = Gc::new(hostile::Bounded(Box::new(leaf(3)), 0));
    assert_edges(&bounded, &[(".0", id(&bounded.0))]);
    assert_eq!(bounded.1, 0);
    let finalized = Gc::new(hostile::Finalized(leaf(4)));
    assert!(Gc::to_object(&finalized).has_finalizer());
    assert_edges(&finalized, &[(".0", id(&finalized.0))]);
    let clash = Gc::new(hostile::Clash([leaf(5)], vec![0_u8]));
    assert_edges(&clash, &[(".0[0]", id(&clash.0[0]))]);
    assert_eq!(clash.1, [0]);
    let dropping = Gc::new(hostile::Dropping(None));
    assert!(dropping.0.is_none() && gc_core::is_tracked(&dropping));

    drop((
        child, parent, tree, grid, bounded, finalized, clash, dropping,
    ));
    assert_heap_clean();
}

/// gc-core reached under another name: the derive must name the runtime only through the
/// `crate` attribute. (`gc_core` itself is still in this crate's extern prelude; that the
/// expansion does not mention it at all is checked on tokens in gc-derive's unit tests.)
mod renamed {
    use gc_renamed::{Finalize, Gc, Trace};

    #[derive(Trace)]
    #[gc(crate = "gc_renamed", finalize)]
    pub(super) struct Doc {
        pub(super) links: Vec<Gc<Doc>>,
        pub(super) title: String,
    }

    impl Finalize for Doc {
        fn finalize(&self) {}
    }

    #[derive(Trace)]
    #[gc(crate = "::gc_renamed")]
    pub(super) enum Either<L, R> {
        Left(L),
        Right(R),
    }

    #[derive(Trace)]
    #[gc(crate = "gc_renamed", unsafe_no_drop)]
    pub(super) struct Dropping(pub(super) Option<Gc<Dropping>>);

    impl Drop for Dropping {
        fn drop(&mut self) {}
    }

    // SAFETY: `drop` does nothing.
    unsafe impl gc_renamed::DropOk for Dropping {}
}

/// A facade that re-exports the runtime, as a framework built on gc-core would.
mod facade {
    pub(crate) mod runtime {
        pub(crate) use gc_core::*;
    }

    #[derive(runtime::Trace)]
    #[gc(crate = "crate::hygiene::facade::runtime")]
    pub(super) struct Wrapped(pub(super) runtime::Gc<u32>, pub(super) u8);
}

#[test]
fn crate_attribute_with_a_renamed_or_reexported_runtime() {
    let first = Gc::new(renamed::Doc {
        links: Vec::new(),
        title: "first".into(),
    });
    let second = Gc::new(renamed::Doc {
        links: vec![first.clone()],
        title: "second".into(),
    });
    assert_edges(&second, &[("links[0]", id(&first))]);
    assert!(Gc::to_object(&second).has_finalizer());
    assert_eq!(second.title, "second");

    let left: Gc<renamed::Either<Gc<u32>, u8>> = Gc::new(renamed::Either::Left(leaf(1)));
    let renamed::Either::Left(target) = &*left else {
        unreachable!()
    };
    assert_edges(&left, &[("Left.0", id(target))]);
    assert!(!tracked(&renamed::Either::<u8, u16>::Right(2)));
    let dropping = Gc::new(renamed::Dropping(None));
    assert!(dropping.0.is_none() && gc_core::is_tracked(&dropping));

    let wrapped = Gc::new(facade::Wrapped(leaf(2), 0));
    assert_edges(&wrapped, &[(".0", id(&wrapped.0))]);
    assert_eq!(wrapped.1, 0);

    drop((first, second, left, dropping, wrapped));
    assert_heap_clean();
}

/// Warning-free output: any lint the expansion triggered (unused variables, non-camel-case
/// names, clippy's pedantic set when run under `cargo clippy`) would fail the build.
#[deny(warnings, clippy::all, clippy::pedantic)]
mod lint_clean {
    use std::cell::RefCell;

    use gc_core::{DropOk, Finalize, Gc, Trace};

    #[derive(Trace)]
    pub(super) struct Named {
        pub(super) next: RefCell<Option<Gc<Named>>>,
        #[gc(skip)]
        pub(super) id: u64,
    }

    #[derive(Trace)]
    pub(super) struct Tuple(pub(super) Gc<u32>, #[gc(skip)] pub(super) Gc<u32>);

    #[derive(Trace)]
    pub(super) struct Unit;

    #[derive(Trace)]
    pub(super) enum Mixed<T: 'static, const N: usize> {
        Unit,
        Tuple(T, #[gc(skip)] u8),
        Struct {
            items: [Option<Gc<T>>; N],
        },
        #[gc(skip)]
        Skipped(Gc<T>),
    }

    #[derive(Trace)]
    pub(super) enum Empty {}

    #[derive(Trace)]
    #[gc(finalize, bound = "T: Trace")]
    pub(super) struct Finalized<T>(pub(super) Vec<T>);

    impl<T> Finalize for Finalized<T> {
        fn finalize(&self) {}
    }

    #[derive(Trace)]
    #[gc(unsafe_no_drop)]
    pub(super) struct Dropping<'a, T: 'static, const N: usize>(
        pub(super) [Gc<T>; N],
        #[gc(skip)] pub(super) &'a std::cell::Cell<u32>,
    );

    impl<T, const N: usize> Drop for Dropping<'_, T, N> {
        fn drop(&mut self) {
            self.1.set(self.1.get() + 1);
        }
    }

    // SAFETY: `drop` only touches the `Cell`, never the `Gc`s.
    unsafe impl<T, const N: usize> DropOk for Dropping<'_, T, N> {}
}

#[test]
fn lint_clean_derives_work() {
    let target = leaf(1);
    let named = Gc::new(lint_clean::Named {
        next: std::cell::RefCell::new(None),
        id: 1,
    });
    *named.next.borrow_mut() = Some(named.clone());
    assert_edges(&named, &[("next", id(&named))]);
    assert_eq!(named.id, 1);
    drop(named);
    assert_eq!(gc_core::collect(), 1);

    let tuple = Gc::new(lint_clean::Tuple(target.clone(), target.clone()));
    assert_edges(&tuple, &[(".0", id(&target))]);
    assert!(Gc::ptr_eq(&tuple.0, &tuple.1));
    assert!(!tracked(&lint_clean::Unit));

    for mixed in [
        lint_clean::Mixed::<u32, 1>::Unit,
        lint_clean::Mixed::Tuple(1, 2),
        lint_clean::Mixed::Struct {
            items: [Some(target.clone())],
        },
        lint_clean::Mixed::Skipped(target.clone()),
    ] {
        let mixed = Gc::new(mixed);
        let expected: &[(&str, usize)] = match &*mixed {
            lint_clean::Mixed::Struct { .. } => &[("Struct.items[0]", id(&target))],
            lint_clean::Mixed::Tuple(n, m) => {
                assert_eq!((n, m), (&1, &2));
                &[]
            }
            lint_clean::Mixed::Skipped(skipped) => {
                assert!(Gc::ptr_eq(skipped, &target));
                &[]
            }
            lint_clean::Mixed::Unit => &[],
        };
        assert_edges(&mixed, expected);
    }
    const { assert!(!<lint_clean::Empty as gc_core::TraceMeta>::TRACKED) };

    let finalized = Gc::new(lint_clean::Finalized(vec![target.clone()]));
    assert_edges(&finalized, &[(".0[0]", id(&finalized.0[0]))]);

    let drops = std::cell::Cell::new(0);
    drop(lint_clean::Dropping([target.clone()], &drops));
    assert_eq!(drops.get(), 1);

    drop((target, tuple, finalized));
    assert_heap_clean();
}
