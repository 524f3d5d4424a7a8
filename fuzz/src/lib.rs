//! The heap-operation interpreter of the `heap_ops` fuzz target, as a
//! library so the target and the replay test share it.
pub mod program;
