//! Unit tests of private invariants. Each test runs on its own thread (the
//! test harness's default), so each starts with a fresh heap.

mod util;

#[cfg(unix)]
mod counts;
mod layers;
mod layout;
mod lists;
mod phases;
mod snapshot_ids;
mod teardown;
