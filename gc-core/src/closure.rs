//! Traced closures: [`Closure`] and the [`gc_closure!`](crate::gc_closure)
//! macro. A Rust closure hides what it captures, so a `Box<dyn Fn>` that
//! captures a `Gc` is an edge the collector cannot see: a cycle through it
//! (an object whose handler map holds closures bound to the object, as
//! Python's bound methods are) would leak. A `Closure` keeps its captures
//! where the collector can trace them, each labelled with its name.
//!
//! # How it stays sound
//!
//! The captures live in an `Rc` that the `Closure` owns. The callable part
//! holds only an `rc::Weak` to them and upgrades it for the duration of a
//! call, and the user's code is a non-capturing closure (the macro coerces
//! it to a `fn` pointer, so any other capture is a compile error). The
//! captures' edges are reported only while the `Closure`'s `Rc` is their
//! only strong reference: while a call is running (or if anything else
//! holds them), they are reported as nothing, which keeps their targets
//! alive (a leak for that moment, never a use-after-free).

use std::fmt;
use std::ops::Deref;
use std::rc::{self, Rc};

use crate::trace::{Erased, Trace, TraceMeta, Tracer};

/// A closure whose captures the collector sees: their `Gc` edges count,
/// cycles through them are collected, and objgraph names each edge after
/// the captured variable. Made with [`gc_closure!`](crate::gc_closure);
/// callable like the `dyn Fn` it holds.
///
/// ```
/// use gc_core::{Closure, Gc, Trace, gc_closure};
/// use std::cell::RefCell;
/// use std::collections::HashMap;
///
/// #[derive(Trace)]
/// struct Connection {
///     log: RefCell<Vec<String>>,
///     handlers: RefCell<HashMap<u8, Closure<dyn Fn(&str)>>>,
/// }
///
/// impl Connection {
///     fn handle_chat(&self, msg: &str) {
///         self.log.borrow_mut().push(format!("chat: {msg}"));
///     }
/// }
///
/// gc_core::collect();
/// let conn = Gc::new(Connection {
///     log: RefCell::new(Vec::new()),
///     handlers: RefCell::new(HashMap::new()),
/// });
/// let me = conn.clone();
/// let handler: Closure<dyn Fn(&str)> = gc_closure!([me] move |msg: &str| me.handle_chat(msg));
/// conn.handlers.borrow_mut().insert(1, handler);
/// conn.handlers.borrow()[&1]("hello");
/// assert_eq!(conn.log.borrow()[0], "chat: hello");
///
/// drop(conn); // the connection and its handler form a cycle...
/// assert_eq!(gc_core::collect(), 1); // ...which the collector finds
/// ```
pub struct Closure<F: ?Sized> {
    call: Box<F>,
    captures: Rc<dyn TraceCaptures>,
}

impl<F: ?Sized> Closure<F> {
    /// The `gc_closure!` macro's constructor. `make` builds the callable
    /// from a weak reference to the captures.
    #[doc(hidden)]
    pub fn __new<C: Captures + 'static>(
        names: &'static [&'static str],
        values: C,
        make: impl FnOnce(rc::Weak<Named<C>>) -> Box<F>,
    ) -> Closure<F> {
        assert_eq!(names.len(), C::LEN, "one name per capture");
        let captures = Rc::new(Named { names, values });
        let call = make(Rc::downgrade(&captures));
        Closure { call, captures }
    }

    /// The names of the captured variables, in order.
    pub fn capture_names(&self) -> &'static [&'static str] {
        self.captures.names()
    }
}

impl<F: ?Sized> Deref for Closure<F> {
    type Target = F;

    fn deref(&self) -> &F {
        &self.call
    }
}

impl<F: ?Sized> fmt::Debug for Closure<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Closure")
            .field("captures", &self.capture_names())
            .finish_non_exhaustive()
    }
}

// SAFETY: the captures are owned by this `Closure` alone while their `Rc`
// has one strong reference (the callable holds only a `Weak`, upgraded for a
// call's duration); only then are their edges reported, each once, under the
// capture's name. Otherwise nothing is reported, which the contract allows.
unsafe impl<F: ?Sized + 'static> Trace for Closure<F> {
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        if Rc::strong_count(&self.captures) == 1 {
            self.captures.trace_captures(&mut Erased(tracer));
        }
    }
}

impl<F: ?Sized + 'static> TraceMeta for Closure<F> {}

/// The captures with their names. Public only for the macro's expansion.
#[doc(hidden)]
pub struct Named<C> {
    names: &'static [&'static str],
    /// The captured values, as a tuple.
    pub values: C,
}

/// The captures behind a type-erased `Rc`.
trait TraceCaptures {
    fn names(&self) -> &'static [&'static str];
    fn trace_captures(&self, tracer: &mut Erased<'_>);
}

impl<C: Captures> TraceCaptures for Named<C> {
    fn names(&self) -> &'static [&'static str] {
        self.names
    }

    fn trace_captures(&self, tracer: &mut Erased<'_>) {
        self.values.trace_named(self.names, tracer);
    }
}

/// A tuple of captured values, each traced under its name. Implemented for
/// tuples of up to eight `Trace` values.
///
/// # Safety
///
/// `trace_named` keeps [`Trace`]'s contract for the values.
#[doc(hidden)]
pub unsafe trait Captures {
    /// How many values.
    const LEN: usize;

    /// Traces value `i` under `names[i]`.
    #[doc(hidden)]
    fn trace_named(&self, names: &[&'static str], tracer: &mut Erased<'_>);
}

macro_rules! captures {
    ($(($len:expr; $($name:ident $idx:tt),*))*) => {$(
        // SAFETY: each value once, through its own `Trace`.
        unsafe impl<$($name: TraceMeta),*> Captures for ($($name,)*) {
            const LEN: usize = $len;

            #[allow(unused_variables)]
            fn trace_named(&self, names: &[&'static str], tracer: &mut Erased<'_>) {
                $( tracer.field(names[$idx], |t| self.$idx.__trace(t)); )*
            }
        }
    )*};
}

captures! {
    (0;)
    (1; A 0)
    (2; A 0, B 1)
    (3; A 0, B 1, C 2)
    (4; A 0, B 1, C 2, D 3)
    (5; A 0, B 1, C 2, D 3, E 4)
    (6; A 0, B 1, C 2, D 3, E 4, F 5)
    (7; A 0, B 1, C 2, D 3, E 4, F 5, G 6)
    (8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
}

/// Makes a [`Closure`]: a closure whose captures the collector traces.
///
/// `gc_closure!([a, b] move |x: X, y: Y| body)` captures the variables `a`
/// and `b` by value (each must implement `Trace`), and gives the body `a`
/// and `b` by reference. The argument types must be written out. The result
/// is a `Closure<dyn Fn(X, Y) -> R>`; annotate the type where it is not
/// known from context.
///
/// The body may use nothing else from its surroundings: a variable that is
/// not in the list would be an edge the collector cannot see, and fails to
/// compile ("closures can only be coerced to `fn` types if they do not
/// capture any variables"). To bind a method weakly (Python's
/// `WeakMethod`), capture a [`Weak`](crate::Weak) and upgrade it in the
/// body.
///
/// ```
/// use gc_core::{Closure, Gc, gc_closure};
///
/// let base = Gc::new(10_u32);
/// let add: Closure<dyn Fn(u32) -> u32> = gc_closure!([base] move |x: u32| **base + x);
/// assert_eq!(add(5), 15);
/// assert_eq!(add.capture_names(), ["base"]);
/// ```
///
/// # Panics
///
/// The closure panics if it is called while its `Closure` is being dropped
/// (from a destructor of one of its own captures).
#[macro_export]
macro_rules! gc_closure {
    ([$($cap:ident),* $(,)?] $(move)? || $body:expr) => {
        $crate::gc_closure!([$($cap),*] | | $body)
    };
    ([$($cap:ident),* $(,)?] $(move)? |$($arg:ident : $ty:ty),* $(,)?| $body:expr) => {
        $crate::Closure::__new(
            &[$(::core::stringify!($cap)),*],
            ($($cap,)*),
            |__gc_captures| {
                // Tells the compiler the closure's signature: the captures by
                // reference, then the arguments as written (so `&str` stays
                // higher-ranked).
                fn __gc_signature<C, R, F: ::core::ops::Fn(&C, $($ty),*) -> R>(
                    _: &::std::rc::Weak<$crate::__private::Named<C>>,
                    body: F,
                ) -> F {
                    body
                }
                let __gc_body = __gc_signature(&__gc_captures, |__gc_values, $($arg),*| {
                    #[allow(unused_variables)]
                    let ($($cap,)*) = __gc_values;
                    $body
                });
                // It may capture nothing else: only a non-capturing closure
                // coerces to a `fn` pointer.
                let _: fn(&_, $($ty),*) -> _ = __gc_body;
                let __gc_call: ::std::boxed::Box<dyn ::core::ops::Fn($($ty),*) -> _> =
                    ::std::boxed::Box::new(move |$($arg: $ty),*| {
                        let __gc_captures = __gc_captures
                            .upgrade()
                            .expect("a gc_closure! was called while its Closure was dropped");
                        __gc_body(&__gc_captures.values, $($arg),*)
                    });
                __gc_call
            },
        )
    };
}
