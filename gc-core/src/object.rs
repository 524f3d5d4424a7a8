//! [`Object`]: a type-erased strong handle, Python's `object`.

use std::any::TypeId;
use std::fmt;
use std::hash::{Hash, Hasher};

use crate::gc::{Gc, release};
use crate::header::{HeaderPtr, flags, header_ref};
use crate::trace::{DynTracer, render_label};

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
pub struct Object {
    ptr: HeaderPtr,
}

pub(crate) mod sealed {
    use crate::header::HeaderPtr;

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
        count_object(h);
        Object { ptr: h }
    }

    /// A new strong handle to `h`.
    ///
    /// # Safety
    ///
    /// `h` is a live box whose value has not been dropped.
    pub(crate) unsafe fn new_ref(h: HeaderPtr) -> Object {
        // SAFETY: live (caller).
        unsafe { header_ref(h) }.inc_strong();
        count_object(h);
        Object { ptr: h }
    }

    fn header(&self) -> &crate::header::GcHeader {
        // SAFETY: a strong handle keeps the box allocated.
        unsafe { header_ref(self.ptr) }
    }

    /// The full type name of the value (`std::any::type_name`).
    pub fn type_name(&self) -> &'static str {
        (self.header().vtable.type_name)()
    }

    /// The type name without module paths, generics kept:
    /// `app::Node` → `Node`, `alloc::vec::Vec<app::Node>` → `Vec<Node>`.
    pub fn short_type_name(&self) -> String {
        short_type_name(self.type_name())
    }

    /// The object's identity, the same as [`Gc::id`].
    pub fn id(&self) -> usize {
        self.ptr.as_ptr().addr()
    }

    /// A typed handle, if the value is a `T`.
    pub fn downcast<T: 'static>(&self) -> Option<Gc<T>> {
        if !self.is::<T>() {
            return None;
        }
        self.header().inc_strong();
        // SAFETY: the type matches and one strong count was added.
        Some(unsafe { Gc::from_header(self.ptr) })
    }

    /// Whether the value is a `T`.
    pub fn is<T: 'static>(&self) -> bool {
        (self.header().vtable.type_id)() == TypeId::of::<T>()
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
        unsafe { trace_edges(self.ptr, &mut |h, _| out.push(Object::new_ref(h))) };
        out
    }

    /// The same as [`referents`](Object::referents), each with the label of
    /// the edge: the field name (`next`, `.0`), the index (`items[3]`), or
    /// `Variant.field` in an enum.
    ///
    /// ```
    /// use gc_core::{Gc, Trace};
    ///
    /// #[derive(Trace)]
    /// struct Pair(Gc<u8>, Vec<Gc<u8>>);
    ///
    /// let p = Gc::new(Pair(Gc::new(1), vec![Gc::new(2), Gc::new(3)]));
    /// let labels: Vec<String> = Gc::to_object(&p).edges().into_iter().map(|(l, _)| l).collect();
    /// assert_eq!(labels, [".0", ".1[0]", ".1[1]"]);
    /// ```
    pub fn edges(&self) -> Vec<(String, Object)> {
        let mut out = Vec::new();
        // SAFETY: a strong handle keeps the value alive.
        unsafe {
            trace_edges(self.ptr, &mut |h, path| {
                out.push((render_label(path), Object::new_ref(h)));
            });
        }
        out
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
        self.header().vtable.finalize.is_some()
    }

    /// Whether the finalizer has run on this object.
    pub fn is_finalized(&self) -> bool {
        self.header().has(flags::FINALIZED)
    }
}

/// Traces `h`'s value with labels, calling `visit` for each strong edge.
/// Does nothing if the object is condemned by a running collection or its
/// value was dropped: nothing may trace a value that is being or has been
/// dropped, and a condemned object's value is dropped by the teardown walk
/// at any moment (it is being dropped while user code runs from its own
/// fields' destructors, before `VALUE_DROPPED` is set).
///
/// # Safety
///
/// `h` is allocated, and its value is not being dropped other than by a
/// collection's teardown.
pub(crate) unsafe fn trace_edges(
    h: HeaderPtr,
    visit: &mut dyn FnMut(HeaderPtr, &[crate::trace::Segment]),
) {
    // SAFETY: allocated (caller).
    let header = unsafe { header_ref(h) };
    if header.has(flags::VALUE_DROPPED | flags::CONDEMNED) {
        return;
    }
    let mut tracer = DynTracer::new(visit);
    // SAFETY: the value is live (checked above); the vtable matches.
    unsafe { (header.vtable.trace_dyn)(h, &mut tracer) };
}

/// Strips module paths from a type name, keeping generics:
/// `alloc::vec::Vec<app::Node>` → `Vec<Node>`.
pub(crate) fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    // Start, in `out`, of the path currently being written.
    let mut path_start = 0;
    let mut rest = full;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("::") {
            out.truncate(path_start);
            rest = &rest[2..];
            continue;
        }
        out.push(c);
        if !(c.is_alphanumeric() || c == '_') {
            path_start = out.len();
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Counts a new `Object` handle to `h` (see `GcHeader::objects`). The
/// header's count saturates and the excess goes to the heap's side table,
/// whose count aborts on overflow, as `Rc`'s counts do.
fn count_object(h: HeaderPtr) {
    // SAFETY: the caller holds a strong handle.
    if !unsafe { header_ref(h) }.inc_objects()
        && let Some(heap) = crate::state::heap()
    {
        let mut overflow = heap.object_overflow.borrow_mut();
        let count = overflow.entry(h.as_ptr().addr()).or_insert(0);
        *count = count
            .checked_add(1)
            .unwrap_or_else(|| std::process::abort());
    }
}

/// Uncounts an `Object` handle to `h`.
fn uncount_object(h: HeaderPtr) {
    // SAFETY: the caller still holds a strong handle.
    let header = unsafe { header_ref(h) };
    if header.objects() == u16::MAX
        && let Some(heap) = crate::state::heap()
    {
        let mut overflow = heap.object_overflow.borrow_mut();
        if let Some(n) = overflow.get_mut(&h.as_ptr().addr()) {
            *n -= 1;
            if *n == 0 {
                overflow.remove(&h.as_ptr().addr());
            }
            return;
        }
    }
    header.dec_objects();
}

/// Number of live `Object` handles to `h`.
pub(crate) fn object_handles(h: HeaderPtr) -> usize {
    // SAFETY: the caller keeps the box allocated.
    let counted = usize::from(unsafe { header_ref(h) }.objects());
    if counted < usize::from(u16::MAX) {
        return counted;
    }
    let extra = crate::state::heap().map_or(0, |heap| {
        heap.object_overflow
            .borrow()
            .get(&h.as_ptr().addr())
            .copied()
            .unwrap_or(0)
    });
    counted + extra
}

impl Clone for Object {
    fn clone(&self) -> Self {
        self.header().inc_strong();
        count_object(self.ptr);
        Object { ptr: self.ptr }
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        uncount_object(self.ptr);
        if self.header().dec_strong() == 0 {
            // SAFETY: that was the last strong handle.
            unsafe { release(self.ptr) };
        }
    }
}

impl<T: 'static> From<Gc<T>> for Object {
    fn from(gc: Gc<T>) -> Object {
        let gc = std::mem::ManuallyDrop::new(gc);
        // SAFETY: the `Gc`'s strong count moves to the `Object`.
        unsafe { Object::from_header(Gc::header_ptr(&gc)) }
    }
}

impl PartialEq for Object {
    fn eq(&self, other: &Self) -> bool {
        self.ptr == other.ptr
    }
}

impl Eq for Object {}

impl Hash for Object {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.ptr.hash(state);
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
        fmt::Pointer::fmt(&self.ptr, f)
    }
}

impl sealed::Sealed for Object {
    fn header(&self) -> HeaderPtr {
        self.ptr
    }
}

impl AsObject for Object {}

#[cfg(test)]
mod tests {
    use super::short_type_name;

    #[test]
    fn short_names_strip_paths_and_keep_generics() {
        assert_eq!(short_type_name("app::Node"), "Node");
        assert_eq!(short_type_name("Node"), "Node");
        assert_eq!(short_type_name("alloc::vec::Vec<app::Node>"), "Vec<Node>");
        assert_eq!(
            short_type_name(
                "std::collections::hash::map::HashMap<alloc::string::String, a::b::C<u8>>"
            ),
            "HashMap<String, C<u8>>"
        );
        assert_eq!(short_type_name("(a::B, [c::D; 3])"), "(B, [D; 3])");
        assert_eq!(short_type_name("&'static str"), "&'static str");
        assert_eq!(
            short_type_name("core::option::Option<&dyn a::T>"),
            "Option<&dyn T>"
        );
    }
}
