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
//! [`MALLOC_TUNABLES`] unless `GLIBC_TUNABLES` is set.
//!
//! Settings, by environment variable: `PEERS_N`, `PEERS_DEPTH` (see
//! [`Sizes`]), `PEERS_ROUNDS`, `PEERS_WARMUP`, `PEERS_TIMEOUT` (seconds per
//! child, default 300), `PEERS_ONLY` (comma-separated workload ids) and
//! `PEERS_STATS` (set: each child prints its crate's collection statistics).

use std::collections::HashMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::heap::{Heap, Sizes};
use crate::heaps::for_each_heap;
use crate::workloads::Workload;

/// How one child's measurement ended.
#[derive(Clone, Debug)]
enum Outcome {
    /// Nanoseconds per object, one per part, on the wall clock and on the
    /// thread's CPU clock.
    Measured(Vec<PerObject>),
    /// The child overflowed its stack.
    Overflow,
    /// Killed after the timeout.
    Timeout,
    /// Any other failure, with the last line of its stderr.
    Crash(String),
}

/// One part's nanoseconds per object.
#[derive(Clone, Copy, Debug)]
struct PerObject {
    /// Wall-clock.
    wall: f64,
    /// Thread CPU time.
    cpu: f64,
}

/// glibc's malloc settings for the children: never give freed memory back
/// to the kernel (trim) and a fixed mmap threshold, so that the timed run
/// reuses the memory the warm-up run freed instead of page-faulting it in
/// again (which costs more than some of the workloads, and by amounts that
/// depend on the order of frees). Other allocators ignore it.
const MALLOC_TUNABLES: &str =
    "glibc.malloc.trim_threshold=1099511627776:glibc.malloc.mmap_threshold=33554432";

/// An environment variable as a number, or `default`.
fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

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
        println!(
            "PEERS_RESULT {part} {} {}",
            timing.wall.as_nanos(),
            timing.cpu.as_nanos()
        );
    }
    if std::env::var_os("PEERS_STATS").is_some() {
        eprintln!("{} {}: {}", w.id(), H::NAME, H::stats());
    }
}

/// Runs one child and waits for it, at most `timeout`.
fn measure(w: Workload, name: &str, sizes: Sizes, timeout: Duration) -> Outcome {
    let exe = std::env::current_exe().expect("current_exe");
    let mut command = Command::new(exe);
    if std::env::var_os("GLIBC_TUNABLES").is_none() {
        command.env("GLIBC_TUNABLES", MALLOC_TUNABLES);
    }
    let mut child = command
        .args(["--table-child", w.id(), name])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the child");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    match status {
        None => Outcome::Timeout,
        Some(status) if status.success() => {
            let objects = w.objects(sizes) as f64;
            let mut parts: Vec<(usize, PerObject)> = out
                .lines()
                .filter_map(|line| {
                    let mut words = line.strip_prefix("PEERS_RESULT ")?.split(' ');
                    let part = words.next()?.parse().ok()?;
                    let wall: f64 = words.next()?.parse().ok()?;
                    let cpu: f64 = words.next()?.parse().ok()?;
                    Some((
                        part,
                        PerObject {
                            wall: wall / objects,
                            cpu: cpu / objects,
                        },
                    ))
                })
                .collect();
            parts.sort_by_key(|&(part, _)| part);
            Outcome::Measured(parts.into_iter().map(|(_, ns)| ns).collect())
        }
        Some(status) if err.contains("has overflowed its stack") => {
            let _ = status;
            Outcome::Overflow
        }
        Some(status) => {
            let last = err.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
            Outcome::Crash(format!("{status}: {last}"))
        }
    }
}

/// The median of `values` (not empty).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// A figure with three significant digits or so.
fn format_ns(ns: f64) -> String {
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
    let only = std::env::var("PEERS_ONLY").ok();
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
        if only
            .as_ref()
            .is_some_and(|only| !only.split(',').any(|id| id == w.id()))
        {
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
                let outcome = measure(w, name, sizes, timeout);
                eprintln!(
                    "{:>15} round {round} {name:>15} ({:5.1} s): {outcome:?}",
                    w.id(),
                    child_started.elapsed().as_secs_f64()
                );
                let overflowed = matches!(outcome, Outcome::Overflow);
                if round == 0
                    && overflowed != predicted_overflow(w, name, sizes)
                    && !matches!(outcome, Outcome::Timeout)
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
                    Outcome::Measured(ns) => {
                        assert_eq!(ns.len(), parts.len(), "{} {name}: parts", w.id());
                        for (part, ns) in ns.into_iter().enumerate() {
                            samples[c][part].push(if wall_clock { ns.wall } else { ns.cpu });
                            if ns.cpu > 0.0 {
                                delays.push(ns.wall / ns.cpu);
                            }
                        }
                    }
                    Outcome::Overflow => failures[c] = Some("overflow".into()),
                    Outcome::Timeout => {
                        failures[c] = Some(format!("timeout (> {} s)", timeout.as_secs()));
                    }
                    Outcome::Crash(why) => {
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
