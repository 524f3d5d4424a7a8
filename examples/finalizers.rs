//! Finalizers and the garbage list: a cycle whose objects have `__del__`.
//!
//! Python 2.7 cannot decide in which order to run the finalizers of a
//! cycle, so it refuses to free it: the objects land in `gc.garbage`, where
//! the programmer breaks the cycle by hand. Python 3.4+ (PEP 442) runs the
//! finalizers and frees the cycle. gc-core offers both; the first is the
//! default.
//!
//! Run with `cargo run --example finalizers`.

use std::cell::RefCell;

use gc_core::{self as gc, DebugFlags, Finalize, FinalizerPolicy, Gc, Trace};

/// `class A: def __del__(self): print("A.__del__")`
#[derive(Trace)]
#[gc(finalize)]
struct A {
    cc: RefCell<Option<Gc<C>>>,
}

/// `class B: def __del__(self): print("B.__del__")`
#[derive(Trace)]
#[gc(finalize)]
struct B {
    aa: RefCell<Option<Gc<A>>>,
}

/// `class C: pass`
#[derive(Trace)]
struct C {
    bb: RefCell<Option<Gc<B>>>,
}

impl Finalize for A {
    fn finalize(&self) {
        println!("A.__del__");
    }
}

impl Finalize for B {
    fn finalize(&self) {
        println!("B.__del__");
    }
}

/// `a.cc = c; c.bb = b; b.aa = a`, then `del a, b, c`.
fn make_cycle() {
    let a = Gc::new(A {
        cc: RefCell::new(None),
    });
    let b = Gc::new(B {
        aa: RefCell::new(None),
    });
    let c = Gc::new(C {
        bb: RefCell::new(None),
    });
    *a.cc.borrow_mut() = Some(c.clone());
    *c.bb.borrow_mut() = Some(b.clone());
    *b.aa.borrow_mut() = Some(a);
}

fn main() {
    // The default debug writer is stderr; print to stdout for the tour.
    gc::set_debug_writer(std::io::stdout());

    println!("# Python 2.7: FinalizerPolicy::Uncollectable (the default)");
    make_cycle();
    gc::set_debug(DebugFlags::STATS | DebugFlags::UNCOLLECTABLE);
    println!(">>> gc.collect()");
    let found = gc::collect();
    gc::set_debug(DebugFlags::empty());
    println!("{found}");
    println!(">>> gc.garbage");
    println!("{:?}", gc::garbage());
    println!(">>> del gc.garbage[0].cc; del gc.garbage[:]");
    let garbage = gc::take_garbage();
    let a = garbage[0].downcast::<A>().expect("garbage[0] is the A");
    a.cc.borrow_mut().take();
    drop(a);
    drop(garbage); // reference counting frees B, then A, running __del__
    println!(">>> gc.collect()");
    println!("{}", gc::collect());

    println!();
    println!("# Python 3.4+: FinalizerPolicy::Finalize (PEP 442)");
    gc::set_finalizer_policy(FinalizerPolicy::Finalize);
    make_cycle();
    println!(">>> gc.collect()");
    let found = gc::collect();
    println!("{found}");
    println!(">>> gc.garbage");
    println!("{:?}", gc::garbage());
}
