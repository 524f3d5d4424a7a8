//! Leak assertions for test suites: objgraph's `show_growth` and
//! `find_backref_chain` turned into assertions a test can keep forever.
//!
//! - [`assert_no_leaks`] runs a piece of code, collects, and panics when
//!   any type has more tracked objects than before, printing the growth
//!   table and, for one new object of each grown type, the chain of
//!   references that keeps it alive.
//! - [`LeakCheck`] is the same check as a value: take one before the code
//!   under test, call [`LeakCheck::assert`] after it (or
//!   [`LeakCheck::report`] for the text without panicking).
//! - [`assert_collectable`] drops a handle, collects, and panics when the
//!   object survived, with the chain that keeps it alive. It catches a
//!   manual `Trace` implementation that misses an edge: the object behind
//!   the missed edge looks referenced from outside the heap, so it is kept,
//!   and the message says so.
//!
//! # Writing a leak regression test
//!
//! ```
//! use gc_core::testing::assert_no_leaks;
//! use gc_core::{Gc, Trace};
//! use std::cell::RefCell;
//!
//! #[derive(Trace)]
//! struct Node {
//!     next: RefCell<Option<Gc<Node>>>,
//! }
//!
//! fn handle_request() {
//!     // A cycle: reference counting alone would leak it.
//!     let a = Gc::new(Node { next: RefCell::new(None) });
//!     let b = Gc::new(Node { next: RefCell::new(Some(a.clone())) });
//!     *a.next.borrow_mut() = Some(b);
//! }
//!
//! handle_request(); // warm-up: caches, lazily built statics
//! assert_no_leaks(handle_request);
//! ```
//!
//! Run the code once before the check when it fills caches on first use,
//! as objgraph users call `show_growth()` twice. The check counts tracked
//! objects (those whose type can hold a `Gc`, as `get_objects` lists
//! them); a leak of untracked values (`Gc<String>`) shows up through the
//! tracked objects that hold them.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use crate::handles::{Gc, Object};
use crate::objgraph::{find_backref_chain, format_chain, is_root, typestats};
use crate::{collect, get_objects};

/// How many references back the chains look for a root (objgraph's
/// default is 20; leak chains through containers run longer).
const MAX_DEPTH: usize = 40;

/// A snapshot of the tracked objects by type, to compare with later: the
/// value form of [`assert_no_leaks`].
///
/// ```
/// use gc_core::testing::LeakCheck;
/// use gc_core::{Gc, Trace};
///
/// #[derive(Trace)]
/// struct Job(Option<Gc<Job>>);
///
/// let check = LeakCheck::new();
/// let kept = Gc::new(Job(None));
/// let report = check.report().expect("a Job was kept");
/// assert!(report.contains("Job"), "{report}");
/// drop(kept);
/// check.assert();
/// ```
#[derive(Debug)]
pub struct LeakCheck {
    /// Tracked objects per short type name, after a collection.
    before: HashMap<String, usize>,
    /// The ids of the tracked objects that existed then, to tell a new
    /// object of a grown type from an old one.
    existing: HashSet<usize>,
}

impl LeakCheck {
    /// Collects, then records how many tracked objects of each type exist.
    pub fn new() -> LeakCheck {
        collect();
        let existing = get_objects(None).iter().map(Object::id).collect();
        LeakCheck {
            before: typestats(),
            existing,
        }
    }

    /// Collects, then describes what grew since [`LeakCheck::new`]: `None`
    /// if no type has more tracked objects, otherwise objgraph's growth
    /// table followed, for one new object of each grown type, by the chain
    /// of references from a root to it ([`format_chain`]).
    pub fn report(&self) -> Option<String> {
        collect();
        let mut grown: Vec<(String, usize, usize)> = typestats()
            .into_iter()
            .filter_map(|(name, count)| {
                let old = self.before.get(&name).copied().unwrap_or(0);
                (count > old).then(|| (name, count, count - old))
            })
            .collect();
        if grown.is_empty() {
            return None;
        }
        grown.sort_unstable_by(|(an, _, ad), (bn, _, bd)| bd.cmp(ad).then_with(|| an.cmp(bn)));
        let width = grown.iter().map(|(name, ..)| name.len()).max().unwrap_or(0);
        let mut text = String::from("tracked objects grew (type, count, increase):\n");
        for (name, count, delta) in &grown {
            let _ = writeln!(text, "{name:<width$}{count:9} {delta:+9}");
        }
        let objects = get_objects(None);
        for (name, ..) in &grown {
            let of_type = || objects.iter().filter(|o| o.short_type_name() == *name);
            let Some(new) = of_type()
                .find(|o| !self.existing.contains(&o.id()))
                .or_else(|| of_type().next_back())
            else {
                continue;
            };
            let _ = write!(text, "\na new {name} is kept alive by:\n{}", explain(new));
        }
        Some(text)
    }

    /// Panics with [`LeakCheck::report`] if anything grew.
    ///
    /// # Panics
    ///
    /// When a type has more tracked objects than at [`LeakCheck::new`].
    #[track_caller]
    pub fn assert(self) {
        if let Some(report) = self.report() {
            panic!("objects leaked:\n{report}");
        }
    }
}

impl Default for LeakCheck {
    fn default() -> Self {
        LeakCheck::new()
    }
}

/// Runs `f`, drops what it returns, collects, and panics when any type has
/// more tracked objects than before, with objgraph's growth table and the
/// chain that keeps one new object of each grown type alive.
///
/// # Panics
///
/// On growth (see [`LeakCheck::assert`]), or if `f` panics.
#[track_caller]
pub fn assert_no_leaks<R>(f: impl FnOnce() -> R) {
    let check = LeakCheck::new();
    drop(f());
    check.assert();
}

/// Drops `gc`, collects, and panics if its object is still alive, with the
/// chain of references that keeps it.
///
/// Use it on the last handle to a value that should be garbage now: the
/// root of a structure after a test is done with it, or one member of a
/// cycle. When the chain is the object alone, nothing on the heap holds it:
/// a handle outside the heap does (a local, a static, an `Rc`), or a
/// `Trace` implementation does not report its edge to the object. The
/// second is the commonest bug in interpreters built on tracing
/// collectors, and this catches it: the untraced edge makes its target
/// look referenced from outside, so the collector keeps it, and everything
/// it reaches.
///
/// ```
/// use gc_core::testing::assert_collectable;
/// use gc_core::{Gc, Trace};
/// use std::cell::RefCell;
///
/// #[derive(Trace)]
/// struct Node {
///     next: RefCell<Option<Gc<Node>>>,
/// }
///
/// let a = Gc::new(Node { next: RefCell::new(None) });
/// let b = Gc::new(Node { next: RefCell::new(Some(a.clone())) });
/// *a.next.borrow_mut() = Some(b);
/// assert_collectable(a); // a cycle, freed by the collection
/// ```
///
/// # Panics
///
/// When the object survives the collection.
#[track_caller]
pub fn assert_collectable<T: ?Sized + 'static>(gc: Gc<T>) {
    let weak = Gc::downgrade(&gc);
    drop(gc);
    collect();
    let Some(survivor) = weak.upgrade() else {
        return;
    };
    let object = Gc::to_object(&survivor);
    drop(survivor);
    panic!(
        "a {} was expected to be collectable, but it is kept alive by:\n{}",
        object.short_type_name(),
        explain(&object)
    );
}

/// The chain from a root to `target`, and what holds its first object.
fn explain(target: &Object) -> String {
    let chain = find_backref_chain(target, is_root, MAX_DEPTH);
    let first = &chain[0];
    let mut text = format_chain(&chain);
    if is_root(first) {
        let _ = write!(
            text,
            "\n(the {} at the start is held from outside the heap: a local, a static, \
             a thread-local or an `Rc`; or a `Trace` implementation holds a `Gc` to it \
             without reporting the edge)",
            first.short_type_name()
        );
    } else {
        let _ = write!(
            text,
            "\n(no root within {MAX_DEPTH} references: the chain is cut there)"
        );
    }
    text
}
