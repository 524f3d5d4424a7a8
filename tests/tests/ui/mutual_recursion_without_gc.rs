use gc_core::Trace;

// A known limitation of `TRACKED`'s computation: the derive only sees a type's own name, so
// `A` and `B` each ask for the other's `TRACKED`. The crate docs show the manual impl to use.
#[derive(Trace)]
struct A {
    b: Option<Box<B>>,
    name: String,
}

#[derive(Trace)]
struct B {
    a: Option<Box<A>>,
}

fn main() {}
