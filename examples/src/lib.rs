//! Examples live in this crate's `[[example]]` targets; see `quickstart.rs`.

/// objgraph's `_cache` leak, the program that `heap_snapshot` writes
/// snapshots of and `book_figures` draws: `computate_something` stores two
/// `MyBigFatObject`s in a module-level `_cache` on every call and never
/// clears it. The module is a thread-local `Gc<Module>`.
pub mod cache_leak {
    use std::cell::RefCell;
    use std::fmt;

    use gc_core::{Describe, Gc, Trace};

    /// objgraph's `MyBigFatObject`: big, and able to refer to others, so
    /// it is tracked (an object of its own to objgraph and in snapshots).
    /// Graphs describe it by its size.
    #[derive(Trace)]
    #[gc(describe)]
    pub struct MyBigFatObject {
        /// The bulk: 512 words.
        pub payload: Vec<u64>,
        /// What makes the type tracked: it may refer to another.
        pub related: Option<Gc<MyBigFatObject>>,
    }

    impl Describe for MyBigFatObject {
        fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{} x u64", self.payload.len())
        }
    }

    impl MyBigFatObject {
        /// A new object whose payload is `seed` repeated.
        pub fn new(seed: u64) -> Gc<MyBigFatObject> {
            Gc::new(MyBigFatObject {
                payload: vec![seed; 512],
                related: None,
            })
        }
    }

    /// `dict(foo=MyBigFatObject(), bar=MyBigFatObject())`.
    #[derive(Trace)]
    pub struct Entry {
        /// The first object.
        pub foo: Gc<MyBigFatObject>,
        /// The second object.
        pub bar: Gc<MyBigFatObject>,
    }

    /// The module whose `_cache` leaks.
    #[derive(Trace)]
    pub struct Module {
        /// Every entry `computate_something` made: the leak.
        pub _cache: RefCell<Vec<Gc<Entry>>>,
    }

    thread_local! {
        static MODULE: Gc<Module> = Gc::new(Module { _cache: RefCell::new(Vec::new()) });
    }

    /// The module (created on first use, as a Python module on import).
    pub fn module() -> Gc<Module> {
        MODULE.with(Gc::clone)
    }

    /// objgraph's `computate_something`: the cache entry leaks, `x` does
    /// not.
    pub fn computate_something(seed: u64) {
        module()._cache.borrow_mut().push(Gc::new(Entry {
            foo: MyBigFatObject::new(seed),
            bar: MyBigFatObject::new(seed + 1),
        }));
        let x = MyBigFatObject::new(seed + 2); // this one doesn't leak
        drop(x);
    }
}

/// The book's chapters (`book/src`), compiled as doctests: every Rust code
/// block in the book compiles and runs under `cargo test --workspace`, so a
/// book example that stops compiling fails CI. Blocks that are not Rust are
/// tagged (`text`, `sh`, `python`, `console`); hidden setup lines start with
/// `# `, which mdBook hides too. `tests/tests/book.rs` checks that every
/// chapter in `SUMMARY.md` is listed here.
#[cfg(doctest)]
pub mod book {
    macro_rules! chapters {
        ($($name:ident => $path:literal,)*) => {
            $(
                #[doc = include_str!(concat!("../../book/src/", $path))]
                pub struct $name;
            )*
        };
    }

    chapters! {
    Introduction => "introduction.md",
    GuideGettingStarted => "guide/getting-started.md",
    GuideReferenceCounting => "guide/reference-counting.md",
    GuideCycles => "guide/cycles.md",
    GuideGenerations => "guide/generations.md",
    GuideFinalizers => "guide/finalizers.md",
    GuideWeakReferences => "guide/weak-references.md",
    GuideTraitObjects => "guide/trait-objects.md",
    GuideHuntingLeaks => "guide/hunting-leaks.md",
    GuideTuning => "guide/tuning.md",
    GuideMigrating => "guide/migrating.md",
    InternalsArchitecture => "internals/architecture.md",
    InternalsLayout => "internals/layout.md",
    InternalsAllocator => "internals/allocator.md",
    InternalsAlgorithm => "internals/algorithm.md",
    InternalsTeardown => "internals/teardown.md",
    InternalsTraceContract => "internals/trace-contract.md",
    ReferencePythonNames => "reference/python-names.md",
    ReferenceDifferences => "reference/differences.md",
    ReferencePerformance => "reference/performance.md",
    }
}
