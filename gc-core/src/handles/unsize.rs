//! Unsizing handles on stable Rust: `Gc<Circle>` to `Gc<dyn Shape>`,
//! `Gc<[T; N]>` to `Gc<[T]>`, and the same for `Weak`, with the
//! [`unsize!`](crate::unsize) macro (gc-arena's technique). With the
//! `nightly` feature, plain coercion works too (`CoerceUnsized`).
//!
//! Nothing about the box changes: its header, its vtable (the concrete
//! type's: the collector traces and drops the concrete value) and its
//! address stay; only the handle's pointer gains the metadata of the
//! unsized type, which the compiler computes.

/// Converts a [`Gc`](crate::Gc) or [`Weak`](crate::Weak) to a handle of an
/// unsized type the value coerces to: a trait object or a slice. The
/// stable-Rust stand-in for the unsizing coercion that `Box` and `Rc` get
/// from the compiler (with the `nightly` feature, `let s: Gc<dyn Shape> =
/// circle;` works as well).
///
/// ```
/// use gc_core::{Gc, Trace, unsize};
///
/// trait Shape: Trace {
///     fn area(&self) -> f64;
/// }
///
/// #[derive(Trace)]
/// struct Circle {
///     r: f64,
/// }
///
/// impl Shape for Circle {
///     fn area(&self) -> f64 {
///         3.0 * self.r * self.r
///     }
/// }
///
/// let circle = Gc::new(Circle { r: 1.0 });
/// let shape: Gc<dyn Shape> = unsize!(circle.clone() => dyn Shape);
/// assert_eq!(shape.area(), 3.0);
/// assert!(Gc::ptr_eq(&Gc::downcast::<Circle>(shape).ok().unwrap(), &circle));
///
/// let numbers: Gc<[u32]> = unsize!(Gc::new([1, 2, 3]) => [u32]);
/// assert_eq!(numbers.len(), 3);
/// ```
///
/// A conversion the compiler does not accept as an unsizing coercion
/// (to an unrelated type, or to a trait the value does not implement) does
/// not compile.
#[macro_export]
macro_rules! unsize {
    ($handle:expr => $ty:ty) => {{
        let handle = $handle;
        // SAFETY: the closure returns its argument, so it compiles only as
        // an unsizing coercion of the box pointer: the address is kept and
        // the compiler supplies the metadata of `$ty`.
        unsafe { handle.__unsize(|p| -> *mut $crate::__private::GcBox<$ty> { p }) }
    }};
}

// With the `nightly` feature, the compiler performs the same coercions
// itself: `Gc<Circle>` coerces to `Gc<dyn Shape>` (and `Weak` likewise)
// wherever a `Box` would.

#[cfg(feature = "nightly")]
impl<T, U> std::ops::CoerceUnsized<crate::Gc<U>> for crate::Gc<T>
where
    T: ?Sized + std::marker::Unsize<U>,
    U: ?Sized,
{
}

#[cfg(feature = "nightly")]
impl<T, U> std::ops::CoerceUnsized<crate::Weak<U>> for crate::Weak<T>
where
    T: ?Sized + std::marker::Unsize<U>,
    U: ?Sized,
{
}
