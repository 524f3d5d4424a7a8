//! Generic types: which bounds the derive infers (only `FieldTy: Trace` for traced fields that
//! mention a parameter), `#[gc(bound = "...")]` replacing them, and the type's own `where`
//! clause kept. Most of these are proved by compiling: an impl with the wrong bounds would
//! not build, or would not apply to the types the tests use.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::marker::PhantomData;

use gc_core::{Gc, Trace};

use crate::{assert_edges, assert_heap_clean, edges, id, leaf};

/// Implements no `Trace`: usable only where the derive adds no `T: Trace`.
#[derive(Debug, Default)]
struct NotTrace;

/// `T` appears only under `PhantomData` and in a skipped field: the impl needs nothing of it.
#[derive(Trace)]
struct Typed<T> {
    id: u32,
    marker: PhantomData<fn() -> T>,
    #[gc(skip)]
    scratch: Vec<T>,
}

#[test]
fn no_bound_on_parameters_of_untraced_fields() {
    // `Typed<NotTrace>: Trace` holds: with a blanket `T: Trace` this would not compile.
    let typed = Gc::new(Typed::<NotTrace> {
        id: 1,
        marker: PhantomData,
        scratch: vec![NotTrace],
    });
    assert!(!gc_core::is_tracked(&typed));
    assert_eq!((typed.id, typed.scratch.len()), (1, 1));
    drop(typed);
    assert_heap_clean();
}

/// `#[gc(bound)]` replaces the inferred `Option<Box<T>>: Trace, Vec<(String, T)>: Trace` with
/// one predicate, and adds a requirement the fields do not need.
#[derive(Trace)]
#[gc(bound = "T: Trace + Debug")]
struct Tagged<T> {
    value: Option<Box<T>>,
    history: Vec<(String, T)>,
}

/// `bound = ""`: no predicate at all, for a type whose fields are `Trace` whatever `T` is.
#[derive(Trace)]
#[gc(bound = "")]
struct Handle<T: 'static> {
    target: Option<Gc<T>>,
    name: &'static str,
}

fn describe<T: Trace + Debug>(tagged: &Tagged<T>) -> String {
    format!("{:?}", tagged.value)
}

#[test]
fn bound_attribute_replaces_the_inferred_bounds() {
    const {
        assert!(!<Tagged<u8> as gc_core::TraceMeta>::TRACKED);
        assert!(<Tagged<Gc<u8>> as gc_core::TraceMeta>::TRACKED);
    }
    let (a, b) = (leaf(1), leaf(2));
    let tagged = Gc::new(Tagged {
        value: Some(Box::new(a.clone())),
        history: vec![("old".into(), b.clone())],
    });
    assert_edges(&tagged, &[("value", id(&a)), ("history[0].1", id(&b))]);
    assert_eq!(describe(&tagged), "Some(1)");

    // `Gc<NotTrace>` cannot be built, but a `Handle<NotTrace>` with no target can: `Handle` is
    // `Trace` for every `T` (the inferred `Option<Gc<T>>: Trace` would say the same, spelled
    // differently).
    let handle = Gc::new(Handle::<NotTrace> {
        target: None,
        name: "none",
    });
    assert!(gc_core::is_tracked(&handle));
    let pointing = Gc::new(Handle {
        target: Some(a.clone()),
        name: "a",
    });
    assert_edges(&pointing, &[("target", id(&a))]);
    assert_eq!((handle.name, pointing.name), ("none", "a"));

    drop((a, b, tagged, handle, pointing));
    assert_heap_clean();
}

/// The `where` clause (and the inline bounds) must be repeated on the impl, or it would not
/// be well-formed: `BTreeMap<K, _>` is only used with `K: Ord` here, `V: 'static` is needed by
/// `Gc<V>`.
#[derive(Trace)]
struct Index<K, V>
where
    K: Ord + Clone,
    V: 'static,
{
    by_key: BTreeMap<K, Gc<V>>,
    first: Option<K>,
}

impl<K: Ord + Clone, V> Index<K, V> {
    fn insert(&mut self, key: K, value: Gc<V>) {
        if self.first.is_none() {
            self.first = Some(key.clone());
        }
        self.by_key.insert(key, value);
    }
}

#[test]
fn where_clauses_are_kept() {
    let (a, b) = (leaf(1), leaf(2));
    let mut index = Index {
        by_key: BTreeMap::new(),
        first: None,
    };
    index.insert("b", b.clone());
    index.insert("a", a.clone());
    let index = Gc::new(index);
    // BTreeMap entries in key order, each labelled by its key.
    assert_edges(
        &index,
        &[(r#"by_key["a"]"#, id(&a)), (r#"by_key["b"]"#, id(&b))],
    );
    assert_eq!(index.first, Some("b"));
    drop((a, b, index));
    assert_heap_clean();
}

/// Default type parameters, `?Sized` parameters and projections.
#[derive(Trace)]
struct Defaulted<T = Gc<u32>, const N: usize = 2> {
    items: [Option<T>; N],
}

#[derive(Trace)]
struct Unsized<T: ?Sized + 'static> {
    boxed: Box<T>,
}

#[derive(Trace)]
struct Projected<I: Iterator> {
    next: Option<I::Item>,
    rest: I,
}

/// A minimal owning iterator that implements `Trace`.
struct Owned<T>(std::vec::IntoIter<T>);

impl<T> Iterator for Owned<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.0.next()
    }
}

// SAFETY: reports each element the iterator still owns, once (the slice impl visits each
// element once); an owning iterator owns exactly those.
unsafe impl<T: Trace> Trace for Owned<T> {
    fn trace<V: gc_core::Tracer>(&self, tracer: &mut V) {
        for (i, item) in self.0.as_slice().iter().enumerate() {
            tracer.index(i, |t| item.trace(t));
        }
    }
}

impl<T: gc_core::TraceMeta> gc_core::TraceMeta for Owned<T> {
    const TRACKED: bool = T::TRACKED;
}

#[test]
fn defaults_unsized_parameters_and_projections() {
    let (a, b, c) = (leaf(1), leaf(2), leaf(3));
    let defaulted: Gc<Defaulted> = Gc::new(Defaulted {
        items: [None, Some(a.clone())],
    });
    assert_edges(&defaulted, &[("items[1]", id(&a))]);

    let slice: Gc<Unsized<[Gc<u32>]>> = Gc::new(Unsized {
        boxed: Box::new([a.clone(), b.clone()]),
    });
    assert_edges(&slice, &[("boxed[0]", id(&a)), ("boxed[1]", id(&b))]);

    let mut rest = Owned(vec![a.clone(), b.clone(), c.clone()].into_iter());
    let first = rest.next();
    let projected = Gc::new(Projected { next: first, rest });
    assert_edges(
        &projected,
        &[("next", id(&a)), ("rest[0]", id(&b)), ("rest[1]", id(&c))],
    );

    let once: OnceCell<Gc<u32>> = OnceCell::new();
    let _ = once.set(c.clone());
    let lazy = Gc::new(Unsized {
        boxed: Box::new(once),
    });
    assert_eq!(edges(&lazy), [("boxed".to_owned(), id(&c))]);

    drop((a, b, c, defaulted, slice, projected, lazy));
    assert_heap_clean();
}
