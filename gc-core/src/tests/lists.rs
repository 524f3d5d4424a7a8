//! The intrusive container lists and the generation bits.

use std::cell::Cell;
use std::rc::Rc;

use super::util::Node;
use crate::handles::Gc;
use crate::heap::heap;
use crate::layout::Link;
use crate::layout::header_ref;
use crate::layout::list::unlink;

fn ids(list: &Link) -> Vec<usize> {
    list.iter().map(|h| h.as_ptr().addr()).collect()
}

#[test]
fn new_tracked_objects_append_to_generation_zero_in_order() {
    let drops = Rc::new(Cell::new(0));
    let a = Node::new(&drops);
    let b = Node::new(&drops);
    let gen0 = &heap().unwrap().generations[0].head;
    assert_eq!(ids(gen0), [Gc::id(&a), Gc::id(&b)]);
    assert_eq!(gen0.len(), 2);
    drop(a);
    assert_eq!(ids(gen0), [Gc::id(&b)]);
    drop(b);
    assert!(gen0.is_empty());
}

#[test]
fn merge_moves_every_node_and_empties_the_source() {
    let drops = Rc::new(Cell::new(0));
    let nodes: Vec<_> = (0..4).map(|_| Node::new(&drops)).collect();
    let heap = heap().unwrap();
    let (gen0, gen1) = (&heap.generations[0].head, &heap.generations[1].head);
    // SAFETY: distinct heads of this heap.
    unsafe { gen1.merge_from(gen0) };
    assert!(gen0.is_empty());
    assert_eq!(ids(gen1), nodes.iter().map(Gc::id).collect::<Vec<_>>());
    // Unlinking from the middle keeps both neighbours connected.
    let middle = Gc::header_ptr(&nodes[1]);
    // SAFETY: `middle` is on gen1.
    unsafe { unlink(middle) };
    assert_eq!(
        ids(gen1),
        [Gc::id(&nodes[0]), Gc::id(&nodes[2]), Gc::id(&nodes[3])]
    );
    // SAFETY: `middle` is live and on no list.
    unsafe { gen1.push_back(middle) };
    // SAFETY: live.
    assert!(unsafe { header_ref(middle) }.strong() == 1);
    // SAFETY: distinct heads.
    unsafe { gen0.merge_from(gen1) };
    drop(nodes);
    assert!(gen0.is_empty() && gen1.is_empty());
}

#[test]
fn object_handles_are_counted_beyond_the_header_capacity() {
    use crate::heap::object_handles;
    let drops = Rc::new(Cell::new(0));
    let a = Node::new(&drops);
    let h = Gc::header_ptr(&a);
    let first = Gc::to_object(&a);
    assert_eq!(object_handles(h), 1);
    let many: Vec<_> = (0..70_000).map(|_| first.clone()).collect();
    assert_eq!(object_handles(h), 70_001);
    drop(many);
    assert_eq!(object_handles(h), 1);
    drop(first);
    assert_eq!(object_handles(h), 0);
    assert_eq!(Gc::strong_count(&a), 1);
}

/// `Link::validate` (CPython's `validate_list`) accepts a well-formed list
/// and names the list and the broken state when a flag is wrong.
#[cfg(debug_assertions)]
#[test]
fn validate_list_reports_an_object_in_the_wrong_state() {
    use crate::layout::flags;
    let drops = Rc::new(Cell::new(0));
    let nodes: Vec<_> = (0..3).map(|_| Node::new(&drops)).collect();
    let gen0 = &heap().unwrap().generations[0].head;
    gen0.validate("gen0", "idle", |f| f & flags::COLLECTING == 0);
    // SAFETY: the node is alive (held by `nodes`).
    let header = unsafe { header_ref(Gc::header_ptr(&nodes[1])) };
    header.set(flags::COLLECTING);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        gen0.validate("gen0", "idle", |f| f & flags::COLLECTING == 0);
    }));
    header.clear(flags::COLLECTING);
    let message = *result.unwrap_err().downcast::<String>().unwrap();
    assert!(
        message.starts_with("validate_list(gen0): an object with flags")
            && message.ends_with("is not idle"),
        "{message}"
    );
}
