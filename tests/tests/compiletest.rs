//! The compile-fail suite of `#[derive(Trace)]`: one `ui/<diagnostic>.rs` per error a user can
//! get from the derive or from the trait bounds around it, with the exact compiler output
//! committed next to it as `ui/<diagnostic>.stderr`.
//!
//! After an intended change to a message, regenerate the snapshots with
//! `TRYBUILD=overwrite cargo test -p gc-tests --test compiletest` and review every changed
//! `.stderr`: each must still tell the user what to change. The snapshots pin rustc's own
//! wording too, so a new stable toolchain may need the same regeneration.

#[test]
#[cfg_attr(miri, ignore = "trybuild runs rustc; Miri cannot")]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
