//! The collector's settings as data: debug flags and the finalizer policy.
//! The `gc` module's getters and setters are in `gcmodule`.

bitflags::bitflags! {
    /// What the collector reports or keeps (`gc.set_debug`), with CPython's
    /// values.
    ///
    /// ```
    /// use gc_core::DebugFlags;
    /// assert_eq!(DebugFlags::LEAK, DebugFlags::COLLECTABLE | DebugFlags::UNCOLLECTABLE | DebugFlags::SAVEALL);
    /// assert_eq!(DebugFlags::LEAK.bits(), 38);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct DebugFlags: u32 {
        /// Print statistics at the start and end of each collection
        /// (`gc: collecting generation 2...`, `gc: done, ...`).
        const STATS = 1;
        /// Print `gc: collectable <Node 0x…>` for each unreachable object
        /// that will be freed (or saved by `SAVEALL`).
        const COLLECTABLE = 2;
        /// Print `gc: uncollectable <Node 0x…>` for each object kept because
        /// of finalizers.
        const UNCOLLECTABLE = 4;
        /// Append every unreachable object to [`garbage`](crate::garbage)
        /// instead of freeing it.
        const SAVEALL = 32;
        /// `COLLECTABLE | UNCOLLECTABLE | SAVEALL`: what a leak hunt wants.
        const LEAK = Self::COLLECTABLE.bits() | Self::UNCOLLECTABLE.bits() | Self::SAVEALL.bits();
    }
}

/// What a collection does with unreachable objects that have finalizers
/// (`#[gc(finalize)]`).
///
/// ```
/// use gc_core::FinalizerPolicy;
/// assert_eq!(gc_core::get_finalizer_policy(), FinalizerPolicy::Uncollectable);
/// gc_core::set_finalizer_policy(FinalizerPolicy::Finalize);
/// assert_eq!(gc_core::get_finalizer_policy(), FinalizerPolicy::Finalize);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FinalizerPolicy {
    /// Python 2.7 (the default): a cycle holding an object with a finalizer
    /// cannot be finalized in a safe order, so it is not freed. The objects
    /// with finalizers and everything reachable from them are kept alive and
    /// counted as uncollectable; the objects with finalizers are appended to
    /// [`garbage()`](crate::garbage), where the program can break the cycle
    /// by hand. No finalizer runs in a collection.
    #[default]
    Uncollectable,
    /// PEP 442 (Python 3.4+): the finalizers of the unreachable objects run
    /// once each, in list order; then reachability is computed again, and
    /// objects a finalizer resurrected survive while the rest are freed.
    Finalize,
}
