//! The table runner: `cargo bench -p gc-benches --bench peers -- --table`.
//!
//! Each measurement runs in a child process (this binary again, with
//! `--table-child WORKLOAD CRATE`), so that every crate starts from a fresh
//! heap, no crate's leftovers (thresholds, buffers, freed-but-cached
//! memory) bias the next, and a stack overflow costs one cell rather than
//! the run. For each workload the crates run in alternating order: round
//! `r` starts at the `r`-th crate and wraps around. Each child runs the
//! workload `PEERS_WARMUP` times untimed (default 1; binary_trees none),
//! then once timed; a cell is the median over `PEERS_ROUNDS` rounds
//! (default 5).
//!
//! Cells are the thread's CPU time by default (see [`crate::clock`]);
//! `PEERS_CLOCK=wall` makes them wall-clock time. The children run with
//! [`child::MALLOC_TUNABLES`] unless `GLIBC_TUNABLES` is set.
//!
//! Settings, by environment variable: `PEERS_N`, `PEERS_DEPTH` (see
//! [`Sizes`]), `PEERS_ROUNDS`, `PEERS_WARMUP`, `PEERS_TIMEOUT` (seconds per
//! child, default 300), `PEERS_ONLY` (comma-separated workload ids) and
//! `PEERS_STATS` (set: each child prints its crate's collection statistics).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::child::{self, Ended, env_or, median};
use crate::heap::{Heap, Sizes};
use crate::heaps::for_each_heap;
use crate::workloads::Workload;

/// The crates' column names, in table order.
fn crate_names() -> Vec<&'static str> {
    let mut names = Vec::new();
    for_each_heap!(H => names.push(H::NAME));
    names
}

/// Whether workload `w` applies to the crate named `name`.
fn applies(w: Workload, name: &str) -> bool {
    let mut result = false;
    for_each_heap!(H => if H::NAME == name { result = w.applies::<H>() });
    result
}

/// Whether `w` is expected to overflow the stack for the crate `name`.
fn predicted_overflow(w: Workload, name: &str, sizes: Sizes) -> bool {
    let mut result = false;
    for_each_heap!(H => if H::NAME == name { result = w.overflows::<H>(sizes) });
    result
}

/// The child: runs `workload` for the crate `name` and prints the timed
/// parts, in nanoseconds, one `PEERS_RESULT part nanos` line each.
pub fn child(workload: &str, name: &str) {
    let w = Workload::from_id(workload).unwrap_or_else(|| panic!("no workload {workload}"));
    let sizes = Sizes::from_env(true);
    let warmup = env_or("PEERS_WARMUP", 1);
    let mut found = false;
    for_each_heap!(H => if H::NAME == name {
        found = true;
        run_child::<H>(w, sizes, warmup);
    });
    assert!(found, "no crate {name}");
}

/// [`child`] for one crate.
fn run_child<H: Heap>(w: Workload, sizes: Sizes, warmup: u64) {
    for _ in 0..w.warmup_runs(warmup) {
        w.run::<H>(sizes);
    }
    for (part, timing) in w.run::<H>(sizes).into_iter().enumerate() {
        child::report(part, timing);
    }
    if std::env::var_os("PEERS_STATS").is_some() {
        eprintln!("{} {}: {}", w.id(), H::NAME, H::stats());
    }
}

/// A figure with three significant digits or so.
pub fn format_ns(ns: f64) -> String {
    if ns < 10.0 {
        format!("{ns:.2}")
    } else if ns < 100.0 {
        format!("{ns:.1}")
    } else {
        format!("{ns:.0}")
    }
}

/// One table cell: the median, or why there is none.
#[derive(Clone, Debug)]
enum Cell {
    /// Not applicable.
    NotApplicable,
    /// Medians of the measured rounds.
    Value(f64),
    /// A failure, as printed.
    Failed(String),
}

impl Cell {
    /// The cell's Markdown text.
    fn text(&self) -> String {
        match self {
            Cell::NotApplicable => "-".into(),
            Cell::Value(ns) => format_ns(*ns),
            Cell::Failed(what) => what.clone(),
        }
    }
}

/// Runs every workload for every crate and prints the Markdown table.
pub fn run() {
    let started = Instant::now();
    let sizes = Sizes::from_env(true);
    let rounds = env_or("PEERS_ROUNDS", 5).max(1) as usize;
    let timeout = Duration::from_secs(env_or("PEERS_TIMEOUT", 300));
    let wall_clock = std::env::var("PEERS_CLOCK").is_ok_and(|clock| clock == "wall");
    let clock = if wall_clock {
        "wall-clock"
    } else {
        "thread CPU"
    };
    let names = crate_names();
    eprintln!(
        "peers table: {sizes:?}, {rounds} rounds, {clock} time, children time out after {timeout:?}"
    );
    // Wall-clock / CPU time of every measurement: how much the machine's
    // other work delayed the children.
    let mut delays: Vec<f64> = Vec::new();

    // (row label, one cell per crate)
    let mut rows: Vec<(String, Vec<Cell>)> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut medians: HashMap<(Workload, usize, usize), f64> = HashMap::new();
    for w in Workload::ALL {
        if !child::selected(w.id()) {
            continue;
        }
        let parts = w.parts(sizes);
        let mut samples: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); parts.len()]; names.len()];
        let mut failures: Vec<Option<String>> = vec![None; names.len()];
        for round in 0..rounds {
            for k in 0..names.len() {
                let c = (k + round) % names.len();
                let name = names[c];
                if !applies(w, name) || failures[c].is_some() {
                    continue;
                }
                let child_started = Instant::now();
                let outcome = child::run(&["--table-child", w.id(), name], timeout);
                eprintln!(
                    "{:>15} round {round} {name:>15} ({:5.1} s): {outcome:?}",
                    w.id(),
                    child_started.elapsed().as_secs_f64()
                );
                let overflowed = matches!(outcome, Ended::Overflow);
                if round == 0
                    && overflowed != predicted_overflow(w, name, sizes)
                    && !matches!(outcome, Ended::Timeout)
                {
                    notes.push(format!(
                        "{} / {name}: {} the stack, against `Heap`'s prediction",
                        w.id(),
                        if overflowed {
                            "overflowed"
                        } else {
                            "did not overflow"
                        }
                    ));
                }
                match outcome {
                    Ended::Measured(readings) => {
                        assert_eq!(readings.len(), parts.len(), "{} {name}: parts", w.id());
                        let objects = w.objects(sizes) as f64;
                        for (part, ns) in readings.into_iter().enumerate() {
                            let value = if wall_clock { ns.wall } else { ns.cpu };
                            samples[c][part].push(value / objects);
                            if ns.cpu > 0.0 {
                                delays.push(ns.wall / ns.cpu);
                            }
                        }
                    }
                    Ended::Overflow => failures[c] = Some("overflow".into()),
                    Ended::Timeout => {
                        failures[c] = Some(format!("timeout (> {} s)", timeout.as_secs()));
                    }
                    Ended::Crash(why) => {
                        notes.push(format!("{} / {name}: {why}", w.id()));
                        failures[c] = Some("crash".into());
                    }
                }
            }
        }
        for (part, (_, label)) in parts.into_iter().enumerate() {
            let cells = (0..names.len())
                .map(|c| {
                    if !applies(w, names[c]) {
                        Cell::NotApplicable
                    } else if let Some(failure) = &failures[c] {
                        Cell::Failed(failure.clone())
                    } else {
                        let value = median(&mut samples[c][part]);
                        medians.insert((w, part, c), value);
                        Cell::Value(value)
                    }
                })
                .collect();
            rows.push((label, cells));
        }
        if w == Workload::ChurnOld {
            let cells = (0..names.len())
                .map(|c| {
                    match (
                        medians.get(&(Workload::ChurnOld, 0, c)),
                        medians.get(&(Workload::ChurnEmpty, 0, c)),
                    ) {
                        (Some(old), Some(empty)) => Cell::Failed(format!("{:.2}x", old / empty)),
                        _ => Cell::NotApplicable,
                    }
                })
                .collect();
            rows.push((
                "churn: beside the old heap / on an empty heap (ratio)".into(),
                cells,
            ));
        }
    }

    println!("| workload (ns per object) | {} |", names.join(" | "));
    println!("|---|{}", "---|".repeat(names.len()));
    for (label, cells) in rows {
        let cells: Vec<String> = cells.iter().map(Cell::text).collect();
        println!("| {label} | {} |", cells.join(" | "));
    }
    if !delays.is_empty() {
        notes.push(format!(
            "Cells: median {clock} time per object over {rounds} round(s). Wall-clock / CPU time \
             of the measurements: median {:.3}, maximum {:.2}.",
            median(&mut delays),
            delays.iter().copied().fold(0.0, f64::max)
        ));
    }
    for note in notes {
        println!("\n{note}");
    }
    eprintln!("peers table: done in {:.0?}", started.elapsed());
}
