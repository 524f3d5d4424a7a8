//! One module per crate: the same `Node`, `Pair` and `Word` types with
//! that crate's pointer, and its [`Heap`](crate::heap::Heap) implementation.

pub mod bacon_rajan_cc;
pub mod dumpster;
pub mod gc;
pub mod gc_core;
pub mod gcmodule;
pub mod rc;
pub mod rust_cc;

/// Expands `$body` once per crate with `$heap` naming its `Heap` type, in
/// the table's column order.
macro_rules! for_each_heap {
    ($heap:ident => $body:expr) => {{
        {
            type $heap = $crate::heaps::rc::StdRc;
            $body
        }
        {
            type $heap = $crate::heaps::gcmodule::Gcmodule;
            $body
        }
        {
            type $heap = $crate::heaps::rust_cc::RustCc;
            $body
        }
        {
            type $heap = $crate::heaps::dumpster::Dumpster;
            $body
        }
        {
            type $heap = $crate::heaps::gc::GcCrate;
            $body
        }
        {
            type $heap = $crate::heaps::bacon_rajan_cc::BaconRajan;
            $body
        }
        {
            type $heap = $crate::heaps::gc_core::GcCore;
            $body
        }
    }};
}
pub(crate) use for_each_heap;
