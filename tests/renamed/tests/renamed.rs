//! The derive works when gc-core is renamed in `Cargo.toml`.

use std::cell::RefCell;

use gc_renamed_test::{Node, Wrapper};
use gcx::Gc;

#[test]
fn derive_through_a_renamed_dependency() {
    let a = Gc::new(Node {
        next: RefCell::new(None),
        label: "a".into(),
    });
    *a.next.borrow_mut() = Some(a.clone());
    let labels: Vec<String> = Gc::to_object(&a)
        .edges()
        .into_iter()
        .map(|(l, _)| l)
        .collect();
    assert_eq!(labels, ["next"]);
    assert!(gcx::is_tracked(&a));
    assert_eq!(a.label, "a");
    drop(a);
    assert_eq!(gcx::collect(), 1);

    let w = Gc::new(Wrapper(Gc::new(1_u8)));
    assert!(gcx::is_tracked(&w));
    assert!(!gcx::is_tracked(&Gc::new(Wrapper(1_u8))));
    assert!(Gc::to_object(&w).has_finalizer());
}
