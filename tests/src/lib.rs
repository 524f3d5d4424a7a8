//! Integration tests of gc-core live in `tests/`. This library only hosts
//! documents whose code blocks run as doctests, so the README's example
//! cannot rot.

/// The README's example, run by `cargo test --workspace`.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctest;
