//! `Trace` for the rest of std (issue 12, point 5): each new implementation
//! is tracked exactly when its contents can reach a `Gc`, and its edges
//! carry the labels of `trace/impls.rs`'s table.

use std::borrow::Cow;
use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr};
use std::num::{NonZeroI8, NonZeroU128, Saturating, Wrapping};
use std::ops::{Range, RangeFrom, RangeInclusive, RangeTo};
use std::pin::Pin;

use gc_core::{Gc, Trace, TraceMeta, collect};

#[derive(Trace)]
struct Node {
    next: RefCell<Option<Gc<Node>>>,
}

fn node() -> Gc<Node> {
    Gc::new(Node {
        next: RefCell::new(None),
    })
}

/// Only leaves: untracked.
#[derive(Trace)]
struct Leaves {
    name: Cow<'static, str>,
    table: &'static [u8],
    small: NonZeroI8,
    big: NonZeroU128,
    addr: IpAddr,
    wrapped: Wrapping<u32>,
    saturated: Saturating<i16>,
    span: Range<usize>,
    all: std::ops::RangeFull,
}

/// Every wrapper around a `Gc`: tracked, with labelled edges.
#[derive(Trace)]
struct Holders {
    span: Range<Gc<Node>>,
    inclusive: RangeInclusive<Gc<Node>>,
    from: RangeFrom<Gc<Node>>,
    to: RangeTo<Gc<Node>>,
    pinned: Pin<Box<Node>>,
    wrapped: Wrapping<Gc<Node>>,
    owned: Cow<'static, [Gc<Node>]>,
}

#[test]
fn leaves_are_untracked_and_wrappers_follow_their_contents() {
    const {
        assert!(!<Leaves as TraceMeta>::TRACKED);
        assert!(<Holders as TraceMeta>::TRACKED);
        assert!(!<Cow<'static, str> as TraceMeta>::TRACKED);
        assert!(<Cow<'static, [Gc<u8>]> as TraceMeta>::TRACKED);
        assert!(!<&'static [Gc<u8>] as TraceMeta>::TRACKED);
        assert!(!<Range<u32> as TraceMeta>::TRACKED);
    }
    let leaves = Gc::new(Leaves {
        name: Cow::Borrowed("static"),
        table: b"abc",
        small: NonZeroI8::new(-1).unwrap(),
        big: NonZeroU128::new(1).unwrap(),
        addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
        wrapped: Wrapping(1),
        saturated: Saturating(2),
        span: 0..3,
        all: ..,
    });
    assert!(!gc_core::is_tracked(&leaves));
    assert_eq!(leaves.table.len() + leaves.name.len(), 9);
}

#[test]
fn wrappers_report_their_edges_with_labels() {
    collect();
    let targets: Vec<Gc<Node>> = (0..9).map(|_| node()).collect();
    let holders = Gc::new(Holders {
        span: targets[0].clone()..targets[1].clone(),
        inclusive: targets[2].clone()..=targets[3].clone(),
        from: targets[4].clone()..,
        to: ..targets[5].clone(),
        pinned: Box::pin(Node {
            next: RefCell::new(Some(targets[6].clone())),
        }),
        wrapped: Wrapping(targets[7].clone()),
        owned: Cow::Owned(vec![targets[8].clone()]),
    });
    let labels: Vec<String> = Gc::to_object(&holders)
        .edges()
        .into_iter()
        .map(|(label, _)| label)
        .collect();
    assert_eq!(
        labels,
        [
            "span.start",
            "span.end",
            "inclusive.start",
            "inclusive.end",
            "from.start",
            "to.end",
            "pinned.next",
            "wrapped",
            "owned[0]",
        ]
    );
    // A cycle through the pinned box is found.
    *targets[6].next.borrow_mut() = Some(targets[6].clone());
    drop(targets);
    drop(holders);
    assert_eq!(collect(), 1, "the self-cycle behind the pinned box");
}
