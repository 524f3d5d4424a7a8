//! gc-core against `std::rc::Rc` and the peer crates (issue 13, point 3):
//! gcmodule, rust-cc, dumpster (`unsync`), gc, bacon_rajan_cc.
//!
//! ```sh
//! cargo bench -p gc-benches --bench peers                    # criterion, every workload
//! cargo bench -p gc-benches --bench peers -- ring            # criterion, one group
//! cargo bench -p gc-benches --bench peers -- --table         # the README's table
//! cargo bench -p gc-benches --bench peers -- --plot plots    # the README's plots
//! cargo bench -p gc-benches --bench peers -- --pauses        # the README's pause table
//! PEERS_N=100000 PEERS_DEPTH=12 cargo bench -p gc-benches --bench peers -- --table
//! cargo test  -p gc-benches --benches                        # smoke run, small sizes
//! ```
//!
//! Layout: `clock.rs` (wall-clock and thread CPU time), `heap.rs` (the [`heap::Heap`] trait each crate implements, the
//! drop counter, the sizes), `heaps/` (one module per crate, the same node
//! types in each), `workloads.rs` (every workload, written once over
//! `Heap`), `table.rs` (the alternating-order table runner), `plot.rs` and
//! `svg.rs` (collection time against heap size, as CSV and SVG), `pauses.rs`
//! (pauses and waiting garbage under a steady workload), `child.rs` (the
//! child processes of the three runners).
//!
//! Criterion reports each timed part as its own benchmark,
//! `<workload>/<part>/<crate>`, with a throughput in objects; setup is
//! untimed (`iter_custom`). Workloads that overflow the main thread's stack
//! for a crate at full size are left out here (see
//! [`workloads::Workload::overflows`]); the table shows them as
//! "overflow".

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};

mod child;
mod clock;
mod heap;
mod heaps;
mod pauses;
mod plot;
mod svg;
mod table;
mod workloads;

use heap::{Heap, Sizes};
use heaps::for_each_heap;
use workloads::Workload;

/// Registers `w`'s parts for `H` in `group`.
fn bench<H: Heap>(group: &mut BenchmarkGroup<'_, WallTime>, w: Workload, sizes: Sizes) {
    if !w.applies::<H>() || w.overflows::<H>(sizes) {
        return;
    }
    for (part, (suffix, _)) in w.parts(sizes).into_iter().enumerate() {
        let id = if suffix.is_empty() {
            H::NAME.to_string()
        } else {
            format!("{suffix}/{}", H::NAME)
        };
        group.bench_function(id, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| w.run::<H>(sizes)[part].wall).sum());
        });
    }
}

/// Every workload but the overflow probe, one group each.
fn peers(c: &mut Criterion, sizes: Sizes) {
    for w in Workload::ALL {
        if w == Workload::ListLong {
            continue;
        }
        let mut group = c.benchmark_group(w.id());
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_millis(1))
            .measurement_time(Duration::from_secs(1))
            .throughput(Throughput::Elements(w.objects(sizes) as u64));
        for_each_heap!(H => bench::<H>(&mut group, w, sizes));
        group.finish();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--table-child") {
        table::child(&args[at + 1], &args[at + 2]);
        return;
    }
    if args.iter().any(|a| a == "--table") {
        table::run();
        return;
    }
    if let Some(at) = args.iter().position(|a| a == "--pauses-child") {
        pauses::child(&args[at + 1]);
        return;
    }
    if args.iter().any(|a| a == "--pauses") {
        pauses::run();
        return;
    }
    if let Some(at) = args.iter().position(|a| a == "--plot-child") {
        plot::child(&args[at + 1..]);
        return;
    }
    if let Some(at) = args.iter().position(|a| a == "--plot") {
        // `cargo bench` appends `--bench` after the arguments given.
        let outdir = args
            .get(at + 1)
            .filter(|dir| !dir.starts_with("--"))
            .map_or("plots", String::as_str);
        plot::run(std::path::Path::new(outdir));
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and
    // gets the smoke sizes.
    let full = args.iter().any(|a| a == "--bench");
    let sizes = Sizes::from_env(full);
    let mut c = Criterion::default().configure_from_args();
    peers(&mut c, sizes);
    c.final_summary();
    if !full {
        plot::smoke();
        pauses::smoke();
    }
}
