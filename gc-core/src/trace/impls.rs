//! [`Trace`] and [`TraceMeta`] for std types. "Tracked" below is
//! `TraceMeta::TRACKED`: whether values of the type can reach a `Gc`, so
//! that an object holding one goes on the collector's lists.
//!
//! | types | tracked | edges |
//! |---|---|---|
//! | `()`, `bool`, `char`, integers, floats, `NonZero*`, `Wrapping<T>`/`Saturating<T>` of those, `String`, `str`, `&'static str`, `&'static [T]`, `Duration`, `Instant`, `SystemTime`, `PathBuf`, `OsString`, `CString`, `TypeId`, `Ordering`, IP and socket addresses, `PhantomData<T>`, `Cell<T: Copy>`, function pointers | no | none |
//! | `Rc<T>`, `Arc<T>`, `rc::Weak<T>`, `sync::Weak<T>` | no | none; accepted only if `T` cannot reach a `Gc` (a compile error otherwise) |
//! | `Box<T>`, `Box<[T]>`, `Box<str>`, `Pin<Box<T>>`, `Option<T>`, `Result<T, E>`, `RefCell<T>`, `OnceCell<T>`, `Reverse<T>`, `Wrapping<T>`, `Saturating<T>`, `Cow<'static, B>` (its owned half) | as `T` | `T`'s, unlabelled |
//! | `Vec<T>`, `VecDeque<T>`, `LinkedList<T>`, `BinaryHeap<T>`, `BTreeSet<T>`, `HashSet<T>`, `[T; N]`, `[T]` | as `T` | each element, labelled `[i]` |
//! | `HashMap<K, V>`, `BTreeMap<K, V>` | as `K` or `V` | `["x"]` for the value and `keys["x"]` for the key where the key has a label (strings, numbers, `char`, `bool`, a `Gc` or `Box`/`Rc`/`Arc` of one, a derived newtype over one); `[i].value`, `[i].key` otherwise |
//! | tuples (up to 12) | as any element | `.0`, `.1`, ... |
//! | `Range<T>`, `RangeInclusive<T>`, `RangeFrom<T>`, `RangeTo<T>`, `RangeToInclusive<T>` | as `T` | `start`, `end` |
//! | `Gc<T>` | yes | one strong edge |
//! | `Weak<T>` | no | a weak edge (never keeps anything alive) |
//! | `Object` | yes | one strong edge |
//! | `Closure<F>` | yes | its captures, by name |
//!
//! A `RefCell` that is mutably borrowed while the collector runs is skipped
//! (its contents count as referenced from outside, and survive).
//!
//! Leaves, strings and numbers describe themselves to the tools by their
//! `Debug` form (`"x"`, `42`), and `Box`, `Rc`, `Arc`, `RefCell`, `Reverse`
//! and `Cow` by their contents' description.

use std::borrow::Cow;
use std::cell::{Cell, OnceCell, RefCell};
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList, VecDeque};
use std::fmt::{self, Write as _};
use std::marker::PhantomData;

use crate::trace::{Trace, TraceMeta, Tracer};

/// The description and map-key label of a std value: its `Debug` form
/// (`"x"`, `42`), std code only (`__key_label` runs inside `trace`).
macro_rules! debug_described {
    () => {
        const __DESCRIBES: bool = true;

        fn __describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Debug::fmt(self, f)
        }

        fn __key_label(&self, out: &mut String) -> bool {
            // Stops formatting once the label is longer than the tools
            // print: a 10 KB key costs no more than a short one.
            let _ = write!(crate::trace::Bounded::new(out), "{self:?}");
            true
        }
    };
}

/// The description and map-key label of a value that forwards to the one
/// value it holds (`Box`, `Rc`, `Reverse`, ...).
macro_rules! forward_described {
    ($inner:ty, |$this:ident| $value:expr) => {
        const __DESCRIBES: bool = <$inner as TraceMeta>::__DESCRIBES;

        fn __describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let $this = self;
            <$inner as TraceMeta>::__describe($value, f)
        }

        #[inline(always)]
        fn __key_label(&self, out: &mut String) -> bool {
            let $this = self;
            <$inner as TraceMeta>::__key_label($value, out)
        }
    };
}

macro_rules! leaf {
    ($($ty:ty),* $(,)?) => {$(
        // SAFETY: the type owns no `Gc`; reporting nothing is exact.
        unsafe impl Trace for $ty {
            #[inline(always)]
            fn trace<V: Tracer>(&self, _tracer: &mut V) {}
        }
        impl TraceMeta for $ty {
            const TRACKED: bool = false;

            debug_described!();
        }
    )*};
}

leaf!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    String,
    &'static str,
    std::num::NonZeroU8,
    std::num::NonZeroU16,
    std::num::NonZeroU32,
    std::num::NonZeroU64,
    std::num::NonZeroU128,
    std::num::NonZeroUsize,
    std::num::NonZeroI8,
    std::num::NonZeroI16,
    std::num::NonZeroI32,
    std::num::NonZeroI64,
    std::num::NonZeroI128,
    std::num::NonZeroIsize,
    std::net::IpAddr,
    std::net::Ipv4Addr,
    std::net::Ipv6Addr,
    std::net::SocketAddr,
    std::net::SocketAddrV4,
    std::net::SocketAddrV6,
    std::time::Duration,
    std::time::Instant,
    std::time::SystemTime,
    std::path::PathBuf,
    std::ffi::OsString,
    std::ffi::CString,
    std::any::TypeId,
    std::cmp::Ordering,
);

/// Shared-ownership pointers: leaves. Their contents are shared, so their
/// edges cannot be reported (rule 1: each would be reported once per
/// owner), and a `Gc` inside would be an edge the collector never sees: a
/// cycle through it would leak silently. So they are accepted only around
/// contents that cannot reach a `Gc` (`Rc<str>`, `Rc<String>`,
/// `Arc<[u8]>`); `Rc<RefCell<Gc<Env>>>` is a compile error that says to use
/// `Gc` (or `#[gc(skip)]` when the field holds no `Gc` after all).
macro_rules! shared {
    ($name:literal, $($ty:ident)::+ $(, { $($extra:tt)* })?) => {
        // SAFETY: reporting nothing is always allowed; the contents count as
        // externally referenced.
        unsafe impl<T: ?Sized + TraceMeta + 'static> Trace for $($ty)::+<T> {
            #[inline(always)]
            fn trace<V: Tracer>(&self, _tracer: &mut V) {
                // Evaluated when the type holding this field is traced, so the check also
                // catches `Rc<Self>`, whose `TRACKED` the derive computes with a placeholder
                // for `Self` (and so as `false`).
                let _checked: bool = const { <Self as TraceMeta>::TRACKED };
            }
        }
        impl<T: ?Sized + TraceMeta + 'static> TraceMeta for $($ty)::+<T> {
            const TRACKED: bool = {
                assert!(
                    !T::TRACKED,
                    concat!(
                        "a `Gc` inside an `", $name, "` is an edge the collector cannot see, so ",
                        "a cycle through it would never be freed: hold it in a `Gc` instead of an `",
                        $name, "` (or mark the field `#[gc(skip)]` if it never holds a `Gc`)"
                    )
                );
                false
            };

            $($($extra)*)?
        }
    };
}

shared!("Rc", std::rc::Rc, {
    forward_described!(T, |this| &**this);
});
shared!("Arc", std::sync::Arc, {
    forward_described!(T, |this| &**this);
});
shared!("rc::Weak", std::rc::Weak);
shared!("sync::Weak", std::sync::Weak);

// SAFETY: owns nothing.
unsafe impl<T: ?Sized> Trace for PhantomData<T> {
    #[inline(always)]
    fn trace<V: Tracer>(&self, _tracer: &mut V) {}
}

impl<T: ?Sized> TraceMeta for PhantomData<T> {
    const TRACKED: bool = false;
}

// SAFETY: `T: Copy` cannot hold a `Gc` (which is not `Copy`).
unsafe impl<T: Copy> Trace for Cell<T> {
    #[inline(always)]
    fn trace<V: Tracer>(&self, _tracer: &mut V) {}
}

impl<T: Copy> TraceMeta for Cell<T> {
    const TRACKED: bool = false;
}

// SAFETY: forwards to the one value the box owns: a sized value, or each
// element of a slice.
unsafe impl<T: ?Sized + TraceMeta> Trace for Box<T> {
    #[inline]
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        (**self).trace_value(tracer);
    }
}

impl<T: ?Sized + TraceMeta> TraceMeta for Box<T> {
    const TRACKED: bool = T::TRACKED;

    forward_described!(T, |this| &**this);
}

/// Each element of a slice once, labelled by its index.
#[inline]
pub(crate) fn trace_elements<T: Trace, V: Tracer>(items: &[T], tracer: &mut V) {
    for (i, item) in items.iter().enumerate() {
        tracer.index(i, |t| item.trace(t));
    }
}

// SAFETY: reports nothing; never called (`Trace::trace` needs
// `Self: Sized`). A `Gc<[T]>`'s value is traced by its vtable through
// `TraceValue`, element by element.
unsafe impl<T: Trace> Trace for [T] {
    #[allow(dead_code)]
    fn trace<V: Tracer>(&self, _tracer: &mut V) {}
}

// SAFETY: owns no `Gc`; never called, as for `[T]`.
unsafe impl Trace for str {
    #[allow(dead_code)]
    fn trace<V: Tracer>(&self, _tracer: &mut V) {}
}

impl TraceMeta for str {
    const TRACKED: bool = false;

    debug_described!();
}

impl<T: TraceMeta> TraceMeta for [T] {
    const TRACKED: bool = T::TRACKED;
}

// SAFETY: forwards to each element once.
unsafe impl<T: Trace, const N: usize> Trace for [T; N] {
    #[inline]
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        trace_elements(self, tracer);
    }
}

impl<T: TraceMeta, const N: usize> TraceMeta for [T; N] {
    const TRACKED: bool = T::TRACKED;
}

/// Sequences: each element once, labelled by position.
macro_rules! sequence {
    ($($ty:ident),*) => {$(
        impl<T: TraceMeta> TraceMeta for $ty<T> {
            const TRACKED: bool = T::TRACKED;
        }
        // SAFETY: forwards to each element the collection owns, once.
        unsafe impl<T: Trace> Trace for $ty<T> {
            #[inline]
            fn trace<V: Tracer>(&self, tracer: &mut V) {
                for (i, item) in self.iter().enumerate() {
                    tracer.index(i, |t| item.trace(t));
                }
            }
        }
    )*};
}

sequence!(Vec, VecDeque, LinkedList, BTreeSet, BinaryHeap);

// SAFETY: forwards to each element once.
unsafe impl<T: Trace, S> Trace for HashSet<T, S> {
    #[inline]
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        for (i, item) in self.iter().enumerate() {
            tracer.index(i, |t| item.trace(t));
        }
    }
}

impl<T: TraceMeta, S> TraceMeta for HashSet<T, S> {
    const TRACKED: bool = T::TRACKED;
}

/// Maps: entry `i` traces its key as `[i].key` and its value as `[i].value`.
fn trace_entry<K: TraceMeta, W: Trace, V: Tracer>(tracer: &mut V, i: usize, key: &K, value: &W) {
    tracer.__entry(i, key, |t| key.trace(t), |t| value.trace(t));
}

// SAFETY: forwards to each key and value once; the key label that
// introspection renders for an entry runs std code only (`__key_label`).
unsafe impl<K: TraceMeta, W: Trace, S> Trace for HashMap<K, W, S> {
    #[inline]
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        for (i, (k, v)) in self.iter().enumerate() {
            trace_entry(tracer, i, k, v);
        }
    }
}

impl<K: TraceMeta, W: TraceMeta, S> TraceMeta for HashMap<K, W, S> {
    const TRACKED: bool = K::TRACKED || W::TRACKED;
}

// SAFETY: forwards to each key and value once; the key label that
// introspection renders for an entry runs std code only (`__key_label`).
unsafe impl<K: TraceMeta, W: Trace> Trace for BTreeMap<K, W> {
    #[inline]
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        for (i, (k, v)) in self.iter().enumerate() {
            trace_entry(tracer, i, k, v);
        }
    }
}

impl<K: TraceMeta, W: TraceMeta> TraceMeta for BTreeMap<K, W> {
    const TRACKED: bool = K::TRACKED || W::TRACKED;
}

// SAFETY: forwards to the value, if any (unlabelled: `Option` is
// transparent in edge labels).
unsafe impl<T: Trace> Trace for Option<T> {
    #[inline(always)]
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        if let Some(value) = self {
            value.trace(tracer);
        }
    }
}

impl<T: TraceMeta> TraceMeta for Option<T> {
    const TRACKED: bool = T::TRACKED;
}

// SAFETY: forwards to whichever value is present.
unsafe impl<T: Trace, E: Trace> Trace for Result<T, E> {
    #[inline]
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        match self {
            Ok(value) => value.trace(tracer),
            Err(error) => error.trace(tracer),
        }
    }
}

impl<T: TraceMeta, E: TraceMeta> TraceMeta for Result<T, E> {
    const TRACKED: bool = T::TRACKED || E::TRACKED;
}

// SAFETY: forwards to the value when it can be borrowed. A cell that is
// mutably borrowed is skipped: its edges are then not subtracted, so its
// targets count as externally referenced and survive. Every phase of a
// collection sees the same borrow state, because no user code runs between
// them, so the answers agree (rule 3).
unsafe impl<T: Trace> Trace for RefCell<T> {
    #[inline]
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        // An unguarded borrow only reads the borrow flag: tracing does not
        // write to (and dirty) every traced object's memory.
        // SAFETY: the reference lives only for this call, during which no
        // code runs that could borrow the cell mutably: tracers run no user
        // code (introspection's renders map-key labels with std code only,
        // `TraceMeta::__key_label`), and nested `Trace` impls may not either
        // (contract, rules 4 and 6).
        if let Ok(value) = unsafe { self.try_borrow_unguarded() } {
            value.trace(tracer);
        }
    }
}

impl<T: TraceMeta> TraceMeta for RefCell<T> {
    const TRACKED: bool = T::TRACKED;

    const __DESCRIBES: bool = T::__DESCRIBES;

    /// The contents' description, or `<borrowed>` while they are mutably
    /// borrowed. (No key label: a key is never in a `RefCell` for long.)
    fn __describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.try_borrow() {
            Ok(value) => value.__describe(f),
            Err(_) => f.write_str("<borrowed>"),
        }
    }
}

// SAFETY: forwards to the value once it is set.
unsafe impl<T: Trace> Trace for OnceCell<T> {
    #[inline]
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        if let Some(value) = self.get() {
            value.trace(tracer);
        }
    }
}

impl<T: TraceMeta> TraceMeta for OnceCell<T> {
    const TRACKED: bool = T::TRACKED;
}

// SAFETY: forwards to the wrapped value.
unsafe impl<T: Trace> Trace for std::cmp::Reverse<T> {
    #[inline]
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        self.0.trace(tracer);
    }
}

impl<T: TraceMeta> TraceMeta for std::cmp::Reverse<T> {
    const TRACKED: bool = T::TRACKED;

    forward_described!(T, |this| &this.0);
}

macro_rules! tuple {
    ($(($($name:ident $idx:tt),+))*) => {$(
        impl<$($name: TraceMeta),+> TraceMeta for ($($name,)+) {
            const TRACKED: bool = false $(|| $name::TRACKED)+;
        }
        // SAFETY: forwards to each element once.
        unsafe impl<$($name: Trace),+> Trace for ($($name,)+) {
            #[inline]
            fn trace<V: Tracer>(&self, tracer: &mut V) {
                $( tracer.field(stringify!($idx), |t| self.$idx.trace(t)); )+
            }
        }
    )*};
}

tuple! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11)
}

/// Function pointers own nothing: untracked leaves, so a table of builtins
/// (`HashMap<&str, fn(&[Value]) -> Value>`) needs no `#[gc(skip)]`. Stable
/// Rust cannot implement a trait for every function pointer type at once:
/// these cover up to eight arguments, and the higher-ranked forms whose
/// arguments are references (`for<'a> fn(&'a [Value]) -> Value`), up to
/// three.
macro_rules! fn_pointers {
    ($(($($arg:ident),*))*) => {$(
        // SAFETY: a function pointer owns no `Gc`.
        unsafe impl<R, $($arg),*> Trace for fn($($arg),*) -> R {
            #[inline(always)]
            fn trace<V: Tracer>(&self, _tracer: &mut V) {}
        }
        impl<R, $($arg),*> TraceMeta for fn($($arg),*) -> R {
            const TRACKED: bool = false;
        }
    )*};
}

fn_pointers! {
    ()
    (A)
    (A, B)
    (A, B, C)
    (A, B, C, D)
    (A, B, C, D, E)
    (A, B, C, D, E, F)
    (A, B, C, D, E, F, G)
    (A, B, C, D, E, F, G, H)
}

/// The higher-ranked forms: `for<'a> fn(&'a A, ..) -> R`. rustc's
/// `coherence_leak_check` notes that they overlap the forms above for
/// one choice of lifetime; they are distinct types, and the lint is allowed
/// (the Rust project has decided to keep accepting such impls).
macro_rules! ref_fn_pointers {
    ($(($($arg:ident $lt:lifetime),*))*) => {$(
        // SAFETY: a function pointer owns no `Gc`.
        #[allow(coherence_leak_check)]
        unsafe impl<R, $($arg: ?Sized),*> Trace for for<$($lt),*> fn($(&$lt $arg),*) -> R {
            #[inline(always)]
            fn trace<V: Tracer>(&self, _tracer: &mut V) {}
        }
        #[allow(coherence_leak_check)]
        impl<R, $($arg: ?Sized),*> TraceMeta for for<$($lt),*> fn($(&$lt $arg),*) -> R {
            const TRACKED: bool = false;
        }
    )*};
}

ref_fn_pointers! {
    (A 'a)
    (A 'a, B 'b)
    (A 'a, B 'b, C 'c)
}

// SAFETY: a `&'static [T]` is shared, not owned: it reports nothing
// (rule 1). (Only `str` and slices: a blanket `&'static T` would make rustc
// answer every missing impl with "consider borrowing here" instead of the
// messages above.)
unsafe impl<T: 'static> Trace for &'static [T] {
    #[inline(always)]
    fn trace<V: Tracer>(&self, _tracer: &mut V) {}
}

impl<T: 'static> TraceMeta for &'static [T] {
    const TRACKED: bool = false;
}

// SAFETY: the owned half forwards to the value it owns; the borrowed half
// is a `&'static` that owns nothing.
unsafe impl<B> Trace for Cow<'static, B>
where
    B: ?Sized + ToOwned + 'static,
    B::Owned: Trace,
{
    #[inline]
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        if let Cow::Owned(owned) = self {
            owned.trace(tracer);
        }
    }
}

impl<B> TraceMeta for Cow<'static, B>
where
    B: ?Sized + ToOwned + 'static,
    B::Owned: TraceMeta,
{
    const TRACKED: bool = <B::Owned as TraceMeta>::TRACKED;

    const __DESCRIBES: bool = <B::Owned as TraceMeta>::__DESCRIBES;

    /// The owned half's description, and the borrowed half's as the owned
    /// type would describe it (`Cow<'static, str>` is `"x"` either way).
    fn __describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cow::Owned(owned) => owned.__describe(f),
            Cow::Borrowed(borrowed) => (*borrowed).to_owned().__describe(f),
        }
    }

    /// The owned half's label; none for the borrowed half, which only the
    /// user's `ToOwned` (a `Clone`) could turn into the owned type, and no
    /// user code may run inside `trace`.
    fn __key_label(&self, out: &mut String) -> bool {
        match self {
            Cow::Owned(owned) => owned.__key_label(out),
            Cow::Borrowed(_) => false,
        }
    }
}

/// Single-value wrappers: forward, unlabelled.
macro_rules! wrapper {
    ($($ty:ident)::+) => {
        // SAFETY: forwards to the one value the wrapper owns.
        unsafe impl<T: Trace> Trace for $($ty)::+<T> {
            #[inline(always)]
            fn trace<V: Tracer>(&self, tracer: &mut V) {
                self.0.trace(tracer);
            }
        }

        impl<T: TraceMeta> TraceMeta for $($ty)::+<T> {
            const TRACKED: bool = T::TRACKED;
        }
    };
}

wrapper!(std::num::Wrapping);
wrapper!(std::num::Saturating);

// SAFETY: forwards to the one value the box owns (pinning changes nothing
// for reading it).
unsafe impl<T: ?Sized + TraceMeta> Trace for std::pin::Pin<Box<T>> {
    #[inline]
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        (**self).trace_value(tracer);
    }
}

impl<T: ?Sized + TraceMeta> TraceMeta for std::pin::Pin<Box<T>> {
    const TRACKED: bool = T::TRACKED;
}

/// Ranges: their bounds, labelled `start` and `end`.
macro_rules! range {
    ($ty:ident { $($field:ident),* }) => {
        // SAFETY: forwards to each bound the range owns, once.
        unsafe impl<T: Trace> Trace for std::ops::$ty<T> {
            #[inline]
            fn trace<V: Tracer>(&self, tracer: &mut V) {
                $( tracer.field(stringify!($field), |t| self.$field.trace(t)); )*
            }
        }

        impl<T: TraceMeta> TraceMeta for std::ops::$ty<T> {
            const TRACKED: bool = T::TRACKED;
        }
    };
}

range!(Range { start, end });
range!(RangeFrom { start });
range!(RangeTo { end });
range!(RangeToInclusive { end });

// SAFETY: forwards to both bounds, once each.
unsafe impl<T: Trace> Trace for std::ops::RangeInclusive<T> {
    #[inline]
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        tracer.field("start", |t| self.start().trace(t));
        tracer.field("end", |t| self.end().trace(t));
    }
}

impl<T: TraceMeta> TraceMeta for std::ops::RangeInclusive<T> {
    const TRACKED: bool = T::TRACKED;
}

// SAFETY: owns nothing.
unsafe impl Trace for std::ops::RangeFull {
    #[inline(always)]
    fn trace<V: Tracer>(&self, _tracer: &mut V) {}
}

impl TraceMeta for std::ops::RangeFull {
    const TRACKED: bool = false;
}
