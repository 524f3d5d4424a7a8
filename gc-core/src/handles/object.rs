//! [`Object`]: a type-erased strong handle, Python's `object`.

use std::fmt;
use std::hash::{Hash, Hasher};

use crate::handles::Gc;
use crate::layout::{DescribeFn, GcHeader, HeaderPtr, flags, short_type_name};
use crate::lifecycle::StrongRef;
use crate::trace::{Trace, TraceMeta, Tracer, render_label, trace_edges, trace_labelled_edges};

/// A strong handle to an object of any type, as Python code sees every
/// value: what [`get_objects`](crate::get_objects),
/// [`get_referrers`](crate::get_referrers) and the objgraph tools return.
///
/// Equality and hashing are by identity (Python's `is`), not by value.
///
/// ```
/// use gc_core::{Gc, Object};
///
/// let s = Gc::new(String::from("hi"));
/// let o: Object = Gc::to_object(&s);
/// assert!(o.is::<String>());
/// assert_eq!(o.short_type_name(), "String");
/// assert_eq!(o.downcast::<String>().as_deref().map(String::as_str), Some("hi"));
/// assert_eq!(o.strong_count(), 2);
/// ```
pub struct Object(StrongRef);

pub(crate) mod sealed {
    use crate::layout::HeaderPtr;

    /// The header behind a handle.
    pub trait Sealed {
        fn header(&self) -> HeaderPtr;
    }
}

/// A strong handle the introspection functions accept: [`Gc<T>`] or
/// [`Object`].
pub trait AsObject: sealed::Sealed {}

impl Object {
    /// Wraps a header whose strong count already includes this handle.
    ///
    /// # Safety
    ///
    /// `h` is a live box and the caller transfers one strong count.
    pub(crate) unsafe fn from_header(h: HeaderPtr) -> Object {
        // SAFETY: forwarded from the caller.
        Object(unsafe { StrongRef::adopt(h) })
    }

    /// A new strong handle to `h`.
    ///
    /// # Safety
    ///
    /// `h` is a live box whose value has not been dropped.
    pub(crate) unsafe fn new_ref(h: HeaderPtr) -> Object {
        // SAFETY: forwarded from the caller.
        Object(unsafe { StrongRef::new(h) })
    }

    #[inline]
    fn ptr(&self) -> HeaderPtr {
        self.0.ptr()
    }

    #[inline]
    fn header(&self) -> &GcHeader {
        self.0.header()
    }

    /// The full type name of the value (`std::any::type_name`).
    pub fn type_name(&self) -> &'static str {
        (self.header().vtable().type_name)()
    }

    /// The type name without module paths, generics kept:
    /// `app::Node` → `Node`, `alloc::vec::Vec<app::Node>` → `Vec<Node>`.
    pub fn short_type_name(&self) -> String {
        short_type_name(self.type_name())
    }

    /// The object's identity, the same as [`Gc::id`].
    pub fn id(&self) -> usize {
        self.ptr().as_ptr().addr()
    }

    /// A typed handle, if the value is a `T`.
    pub fn downcast<T: 'static>(&self) -> Option<Gc<T>> {
        if !self.is::<T>() {
            return None;
        }
        self.header().inc_strong();
        // SAFETY: the type matches and one strong count was added.
        Some(unsafe { Gc::from_header(self.ptr()) })
    }

    /// Whether the value is a `T`.
    pub fn is<T: 'static>(&self) -> bool {
        self.header().holds::<T>()
    }

    /// Number of strong handles (`Gc` and `Object`) to the object.
    pub fn strong_count(&self) -> usize {
        self.header().strong()
    }

    /// The objects this one holds strong edges to, tracked or not, in trace
    /// order (`gc.get_referents(obj)`).
    pub fn referents(&self) -> Vec<Object> {
        let mut out = Vec::new();
        // SAFETY: a strong handle keeps the value alive.
        unsafe { trace_edges(self.ptr(), &mut |h, _| out.push(Object::new_ref(h))) };
        out
    }

    /// The same as [`referents`](Object::referents), each with the label of
    /// the edge: the field name (`next`, `.0`), the index (`items[3]`),
    /// `Variant.field` in an enum, or a map entry's key (`vars["x"]` for the
    /// value, `vars.keys["x"]` for the key's own edges) where the key is a
    /// string, a number, a `Gc` of one or a derived newtype over one, cut at
    /// 40 characters; other map entries are `vars[2].value` by position.
    ///
    /// ```
    /// use gc_core::{Gc, Trace};
    /// use std::collections::BTreeMap;
    ///
    /// #[derive(Trace)]
    /// struct Pair(Gc<u8>, Vec<Gc<u8>>);
    ///
    /// let p = Gc::new(Pair(Gc::new(1), vec![Gc::new(2), Gc::new(3)]));
    /// let labels: Vec<String> = Gc::to_object(&p).edges().into_iter().map(|(l, _)| l).collect();
    /// assert_eq!(labels, [".0", ".1[0]", ".1[1]"]);
    ///
    /// #[derive(Trace)]
    /// struct Env {
    ///     vars: BTreeMap<String, Gc<u8>>,
    /// }
    ///
    /// let env = Gc::new(Env { vars: BTreeMap::from([("x".to_string(), Gc::new(7))]) });
    /// let labels: Vec<String> = Gc::to_object(&env).edges().into_iter().map(|(l, _)| l).collect();
    /// assert_eq!(labels, [r#"vars["x"]"#]);
    /// ```
    pub fn edges(&self) -> Vec<(String, Object)> {
        let mut out = Vec::new();
        // SAFETY: a strong handle keeps the value alive.
        unsafe {
            trace_labelled_edges(self.ptr(), &mut |h, path| {
                out.push((render_label(path), Object::new_ref(h)));
            });
        }
        out
    }

    /// The object's description ([`Describe`](crate::Describe), or a std
    /// value's `Debug` form: `"x"`, `42`), or `None` for a type without one
    /// or an object a running collection is tearing down. Runs the type's
    /// `describe`, user code.
    ///
    /// ```
    /// use gc_core::{Gc, Trace};
    ///
    /// #[derive(Trace)]
    /// struct Opaque(u8);
    ///
    /// assert_eq!(Gc::to_object(&Gc::new(String::from("hi"))).describe().as_deref(), Some("\"hi\""));
    /// assert_eq!(Gc::to_object(&Gc::new(Opaque(1))).describe(), None);
    /// ```
    pub fn describe(&self) -> Option<String> {
        let header = self.header();
        let describe = header.vtable().describe?;
        if header.has(flags::VALUE_DROPPED | flags::CONDEMNED) {
            return None;
        }
        /// `Display` through the vtable's entry.
        struct Description(HeaderPtr, DescribeFn);
        impl fmt::Display for Description {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // SAFETY: the `Object` this was made from keeps the box
                // alive, and its value was not dropped (checked before).
                unsafe { (self.1)(self.0, f) }
            }
        }
        let mut out = String::new();
        // An error from the user's `describe` keeps what it wrote.
        let _ = fmt::write(
            &mut out,
            format_args!("{}", Description(self.ptr(), describe)),
        );
        Some(out)
    }

    /// Whether the object is on the collector's lists (see
    /// [`is_tracked`](crate::is_tracked)).
    pub fn is_tracked(&self) -> bool {
        self.header().has(flags::TRACKED)
    }

    /// The generation (0, 1 or 2) holding the object; `None` if it is
    /// untracked or frozen (see [`freeze`](crate::freeze)).
    pub fn generation(&self) -> Option<usize> {
        self.header().generation().filter(|&g| g <= 2)
    }

    /// Whether the type has a finalizer (`#[gc(finalize)]`).
    pub fn has_finalizer(&self) -> bool {
        self.header().vtable().finalize.is_some()
    }

    /// Whether the finalizer has run on this object.
    pub fn is_finalized(&self) -> bool {
        self.header().has(flags::FINALIZED)
    }
}

// SAFETY: an `Object` owns one strong reference to its object and reports
// it once. (Introspection subtracts such stored handles from the `Object`
// handles it counts, so they are not counted twice when deciding roots.)
unsafe impl Trace for Object {
    #[inline(always)]
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        tracer.__object_edge(self.ptr());
    }
}

impl TraceMeta for Object {}

impl Clone for Object {
    fn clone(&self) -> Self {
        Object(self.0.clone())
    }
}

impl From<StrongRef> for Object {
    fn from(strong: StrongRef) -> Object {
        Object(strong)
    }
}

impl<T: ?Sized + 'static> From<Gc<T>> for Object {
    fn from(gc: Gc<T>) -> Object {
        let gc = std::mem::ManuallyDrop::new(gc);
        // SAFETY: the `Gc`'s strong count moves to the `Object`.
        unsafe { Object::from_header(Gc::header_ptr(&gc)) }
    }
}

impl PartialEq for Object {
    fn eq(&self, other: &Self) -> bool {
        self.ptr() == other.ptr()
    }
}

impl Eq for Object {}

impl Hash for Object {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.ptr().hash(state);
    }
}

impl fmt::Debug for Object {
    /// `<Node object at 0x55d0c2a4e2b0>`, as Python prints objects.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} object at {:#x}>", self.short_type_name(), self.id())
    }
}

impl fmt::Pointer for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&self.ptr(), f)
    }
}

impl sealed::Sealed for Object {
    fn header(&self) -> HeaderPtr {
        self.ptr()
    }
}

impl AsObject for Object {}
