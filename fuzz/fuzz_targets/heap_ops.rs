#![no_main]

use gc_core_fuzz::program;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| program::run(data));
