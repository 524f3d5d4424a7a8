//! The pause runner: `cargo bench -p gc-benches --bench peers -- --pauses`
//! (issue 13, "pauses").
//!
//! Each crate runs in a child process of its own (this binary again, with
//! `--pauses-child CRATE`), one after the other, and [`measure`]s:
//!
//! 1. a live heap of `PEERS_N` objects (default 1,000,000): trees of
//!    [`TREE_SIZE`] pairs held by a `Vec` of roots, built under the crate's
//!    default policy, then one full collection (which leaves gc-core's in
//!    its oldest generation);
//! 2. `PEERS_PAUSE_OPS` operations (default 2,000,000) of a fixed random mix
//!    (see [`step`]) under the crate's default automatic policy;
//! 3. the time of every operation: one that takes more than [`PAUSE`] of the
//!    thread's CPU time is a pause;
//! 4. after every operation, the unreachable objects left waiting: those
//!    the workload has orphaned (dropped its last handle to) that the drop
//!    counter has not seen freed;
//! 5. a final explicit collection, after which the drop counter must have
//!    seen every orphaned object freed and no live one; then the live heap
//!    is dropped and collected, and must be freed too.
//!
//! gc-core also logs its own record of every automatic collection
//! ([`Heap::start_pause_log`]: `last_collection()` read from a `Stop`
//! callback), so that the operation timing can be checked against the exact
//! pauses. `Rc` runs the same operations, but its 2-cycle is built without
//! the back edge (a 2-pair chain, freed at once): its column is the
//! harness's floor, what a crate with nothing to collect shows.
//!
//! Settings, by environment variable: `PEERS_N`, `PEERS_PAUSE_OPS`,
//! `PEERS_TIMEOUT` (seconds per child, default 300). The children run with
//! [`child::MALLOC_TUNABLES`] unless `GLIBC_TUNABLES` is set.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::child::{self, Ended, env_or, median};
use crate::clock::{Stopwatch, thread_cpu_time};
use crate::heap::{Heap, PauseRecord, Sizes, XorShift, drops};
use crate::heaps::for_each_heap;
use crate::table::format_ns;
use crate::workloads::{bottom_up_tree, tree_size};

/// An operation that takes longer than this on the thread's CPU clock is a
/// pause. The mix's operations take about 75 ns with their timing (the
/// longest kind, a tree replacement, allocates and frees 15 pairs); in
/// `Rc`, which collects nothing, fewer than 250 of 2,000,000 go over 10 µs.
/// gc-core's generation-0 collections (700 objects) take a median of about
/// 20 µs, so every one of them counts: a 20 µs line would cut through the
/// middle of them.
pub const PAUSE: Duration = Duration::from_micros(10);

/// Depth of the live trees.
const TREE_DEPTH: u32 = 3;

/// Pairs in a live tree: 15.
const TREE_SIZE: usize = (1 << (TREE_DEPTH + 1)) - 1;

/// Operations between two readings of the thread's CPU clock (a system
/// call, about 0.6 µs here, against 23 ns for `Instant::now`).
const BATCH: usize = 64;

/// The mix, in thousandths: below `NODE`, a tracked node allocated and
/// dropped; below `WORD`, an untracked `u64`; below `CYCLE`, a garbage
/// 2-cycle of pairs; the rest, one live tree replaced by a fresh one.
const NODE: usize = 600;
/// See [`NODE`].
const WORD: usize = 850;
/// See [`NODE`].
const CYCLE: usize = 990;

/// The mix's fixed seed.
const SEED: u64 = 0x2545_F491_4F6C_DD1D;

/// The figures of one run, in the order the child reports them.
#[derive(Clone, Copy, Debug)]
enum Fig {
    /// Operations run.
    Ops,
    /// Their thread CPU time, in nanoseconds (timing included).
    Cpu,
    /// Operations over [`PAUSE`] on the CPU clock.
    Pauses,
    /// Their median, in nanoseconds.
    PauseMedian,
    /// Their 99th percentile (nearest rank).
    PauseP99,
    /// The longest.
    PauseMax,
    /// Their sum.
    PauseTotal,
    /// Operations over [`PAUSE`] on the wall clock only: preempted.
    Preempted,
    /// The largest number of unreachable objects waiting.
    MaxWaiting,
    /// Objects orphaned by the operations.
    Orphaned,
    /// The final explicit collection's thread CPU time.
    FinalCollect,
    /// gc-core's records: automatic collections (NaN where none are kept).
    Exact,
    /// Of which generation 0.
    ExactGen0,
    /// Generation 1.
    ExactGen1,
    /// Generation 2.
    ExactGen2,
    /// Their median pause, in nanoseconds.
    ExactMedian,
    /// Their 99th percentile.
    ExactP99,
    /// The longest.
    ExactMax,
    /// The generation of the longest.
    ExactMaxGeneration,
    /// Collections over [`PAUSE`].
    ExactOver,
    /// The median of their CPU time.
    ExactCpuMedian,
    /// Its 99th percentile.
    ExactCpuP99,
    /// The longest.
    ExactCpuMax,
    /// Pauses (operation timing) during which a collection ran.
    WithCollection,
    /// Pauses during which none did.
    WithoutCollection,
    /// Median, over the pauses with a collection, of the pause less the
    /// collections' own records (their CPU time).
    ExcessMedian,
    /// The smallest such difference.
    ExcessMin,
    /// The largest.
    ExcessMax,
}

/// The number of figures.
const FIGS: usize = Fig::ExcessMax as usize + 1;

/// One run's figures, indexed by [`Fig`].
type Figures = [f64; FIGS];

/// Count, median, 99th percentile (nearest rank) and maximum of `ns`; the
/// last three NaN where `ns` is empty.
fn summary(mut ns: Vec<f64>) -> [f64; 4] {
    if ns.is_empty() {
        return [0.0, f64::NAN, f64::NAN, f64::NAN];
    }
    let mid = median(&mut ns);
    let rank = (0.99 * ns.len() as f64).ceil() as usize;
    [ns.len() as f64, mid, ns[rank.max(1) - 1], ns[ns.len() - 1]]
}

/// An operation that took longer than [`PAUSE`].
#[derive(Clone, Copy, Debug)]
struct Pause {
    /// When it ended.
    end: Instant,
    /// Its wall-clock time.
    took: Duration,
    /// The part of it the thread spent running.
    ran: Duration,
}

/// One operation of the mix (operation number `i`): returns the number of
/// objects it orphaned.
#[inline]
fn step<H: Heap>(rng: &mut XorShift, roots: &mut [H::Pair], i: u64) -> usize {
    match rng.below(1000) {
        k if k < NODE => {
            drop(black_box(H::node(i, None)));
            1
        }
        k if k < WORD => {
            drop(black_box(H::word(i)));
            1
        }
        k if k < CYCLE => {
            let a = H::pair(None, None);
            let b = H::pair(Some(a.clone()), None);
            if H::FREES_CYCLES {
                H::set_children(&a, Some(b), None);
            }
            2
        }
        _ => {
            let r = rng.below(roots.len());
            roots[r] = bottom_up_tree::<H>(TREE_DEPTH);
            TREE_SIZE
        }
    }
}

/// Runs the pause workload for `H` in this process: a live heap of `live`
/// objects (rounded down to whole trees), then `ops` operations.
///
/// Every operation is timed with `Instant` (chained: one reading ends an
/// operation and starts the next). The thread's CPU clock is read every
/// [`BATCH`] operations; the batch's wall-clock time beyond its CPU time was
/// spent off the CPU (preempted), and is taken off its longest operations
/// first, so that an operation counts as a pause only for the time the
/// thread ran.
fn measure<H: Heap>(live: usize, ops: usize) -> Figures {
    let mut f = [f64::NAN; FIGS];
    H::set_auto(true);
    drops::reset();
    let trees = (live / TREE_SIZE).max(1);
    assert_eq!(tree_size(TREE_DEPTH), TREE_SIZE as u64);
    let mut roots: Vec<H::Pair> = (0..trees)
        .map(|_| bottom_up_tree::<H>(TREE_DEPTH))
        .collect();
    H::collect();
    drops::expect::<H>(0, "pauses: the live heap, built");
    H::start_pause_log();

    let mut rng = XorShift::new(SEED);
    let mut orphaned = 0;
    let mut max_waiting = 0;
    let mut pauses: Vec<Pause> = Vec::new();
    let mut long: Vec<(Instant, Duration)> = Vec::with_capacity(BATCH);
    let mut preempted = 0;
    let mut cpu_total = Duration::ZERO;
    let mut done = 0;
    while done < ops {
        let batch = BATCH.min(ops - done);
        let cpu_start = thread_cpu_time();
        let start = Instant::now();
        let mut last = start;
        for i in done..done + batch {
            orphaned += step::<H>(&mut rng, &mut roots, i as u64);
            let now = Instant::now();
            let took = now.duration_since(last);
            last = now;
            if took > PAUSE {
                long.push((now, took));
            }
            let dropped = drops::get();
            assert!(
                dropped <= orphaned,
                "{}: {dropped} objects freed, only {orphaned} orphaned",
                H::NAME
            );
            max_waiting = max_waiting.max(orphaned - dropped);
        }
        let wall = last.duration_since(start);
        let cpu = match (cpu_start, thread_cpu_time()) {
            (Some(begin), Some(end)) => end.saturating_sub(begin),
            _ => wall,
        };
        cpu_total += cpu;
        let mut off_cpu = wall.saturating_sub(cpu);
        long.sort_unstable_by_key(|&(_, took)| std::cmp::Reverse(took));
        for (end, took) in long.drain(..) {
            let ran = took.saturating_sub(off_cpu);
            off_cpu = off_cpu.saturating_sub(took);
            if ran > PAUSE {
                pauses.push(Pause { end, took, ran });
            } else {
                preempted += 1;
            }
        }
        done += batch;
    }
    let records = H::take_pause_log();

    let start = Stopwatch::start();
    H::collect();
    let final_collect = start.stop();
    drops::expect::<H>(
        orphaned,
        "pauses: every orphaned object, after a collection",
    );
    drop(roots);
    H::collect();
    drops::expect::<H>(trees * TREE_SIZE, "pauses: the live heap, dropped");

    f[Fig::Ops as usize] = ops as f64;
    f[Fig::Cpu as usize] = cpu_total.as_nanos() as f64;
    if let Some(records) = &records {
        exact(&mut f, records, &pauses);
    }
    let ran: Vec<f64> = pauses.iter().map(|p| p.ran.as_nanos() as f64).collect();
    f[Fig::PauseTotal as usize] = ran.iter().sum();
    let [count, mid, p99, max] = summary(ran);
    f[Fig::Pauses as usize] = count;
    f[Fig::PauseMedian as usize] = mid;
    f[Fig::PauseP99 as usize] = p99;
    f[Fig::PauseMax as usize] = max;
    f[Fig::Preempted as usize] = preempted as f64;
    f[Fig::MaxWaiting as usize] = max_waiting as f64;
    f[Fig::Orphaned as usize] = orphaned as f64;
    f[Fig::FinalCollect as usize] = final_collect.cpu.as_nanos() as f64;
    f
}

/// The figures of the crate's own `records` (in time order), and how they
/// match the `pauses` found by timing operations: each pause contains the
/// collections whose record was read while it ran.
fn exact(f: &mut Figures, records: &[PauseRecord], pauses: &[Pause]) {
    let of = |g: usize| records.iter().filter(|r| r.generation == g).count() as f64;
    f[Fig::ExactGen0 as usize] = of(0);
    f[Fig::ExactGen1 as usize] = of(1);
    f[Fig::ExactGen2 as usize] = of(2);
    f[Fig::ExactOver as usize] = records.iter().filter(|r| r.duration > PAUSE).count() as f64;
    f[Fig::ExactMaxGeneration as usize] = records
        .iter()
        .max_by_key(|r| r.duration)
        .map_or(f64::NAN, |r| r.generation as f64);
    let [count, mid, p99, max] = summary(
        records
            .iter()
            .map(|r| r.duration.as_nanos() as f64)
            .collect(),
    );
    f[Fig::Exact as usize] = count;
    f[Fig::ExactMedian as usize] = mid;
    f[Fig::ExactP99 as usize] = p99;
    f[Fig::ExactMax as usize] = max;
    let [_, mid, p99, max] = summary(records.iter().map(|r| r.cpu.as_nanos() as f64).collect());
    f[Fig::ExactCpuMedian as usize] = mid;
    f[Fig::ExactCpuP99 as usize] = p99;
    f[Fig::ExactCpuMax as usize] = max;

    let mut excess = Vec::new();
    for pause in pauses {
        let from = records.partition_point(|r| r.read < pause.end - pause.took);
        let inside = records[from..].iter().take_while(|r| r.read <= pause.end);
        let (n, recorded) = inside.fold((0, 0.0), |(n, sum), r| {
            (n + 1, sum + r.cpu.as_nanos() as f64)
        });
        if n > 0 {
            excess.push(pause.ran.as_nanos() as f64 - recorded);
        }
    }
    f[Fig::WithCollection as usize] = excess.len() as f64;
    f[Fig::WithoutCollection as usize] = (pauses.len() - excess.len()) as f64;
    f[Fig::ExcessMin as usize] = excess.iter().copied().fold(f64::NAN, f64::min);
    let [_, mid, _, max] = summary(excess);
    f[Fig::ExcessMedian as usize] = mid;
    f[Fig::ExcessMax as usize] = max;
}

/// The live objects and operations of a full run: `PEERS_N` and
/// `PEERS_PAUSE_OPS`.
fn settings() -> (usize, usize) {
    let live = Sizes::from_env(true).n;
    let ops = env_or("PEERS_PAUSE_OPS", 2_000_000).max(1) as usize;
    (live, ops)
}

/// The child: runs the workload for the crate `name` and reports its
/// figures, one `PEERS_RESULT` line each.
pub fn child(name: &str) {
    let (live, ops) = settings();
    let mut found = false;
    for_each_heap!(H => if H::NAME == name {
        found = true;
        for (index, value) in measure::<H>(live, ops).into_iter().enumerate() {
            child::report_value(index, value);
        }
    });
    assert!(found, "no crate {name}");
}

/// One crate's column.
struct Column {
    /// The crate.
    name: &'static str,
    /// [`Heap::FREES_CYCLES`].
    frees_cycles: bool,
    /// [`Heap::AUTO_COLLECTS`].
    auto_collects: bool,
    /// Its figures, or why there are none.
    figures: Result<Figures, String>,
}

/// Every crate's column, in table order, not measured yet.
fn columns() -> Vec<Column> {
    let mut columns = Vec::new();
    for_each_heap!(H => columns.push(Column {
        name: H::NAME,
        frees_cycles: H::FREES_CYCLES,
        auto_collects: H::AUTO_COLLECTS,
        figures: Err("not run".into()),
    }));
    columns
}

/// A time in nanoseconds, with its unit; `-` for NaN.
fn time(ns: f64) -> String {
    if ns.is_nan() {
        return "-".into();
    }
    if ns < 0.0 {
        return format!("-{}", time(-ns));
    }
    let (value, unit) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    format!("{} {unit}", format_ns(value))
}

/// A count with thousands separators; `-` for NaN.
fn count(n: f64) -> String {
    if n.is_nan() {
        return "-".into();
    }
    let digits = (n as u64).to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The figures `figs` of the crate's own records, each formatted by
/// `unit`, joined by slashes; `-` where the crate keeps no records.
fn records(f: &Figures, unit: fn(f64) -> String, figs: &[Fig]) -> String {
    if f[Fig::Exact as usize].is_nan() {
        return "-".into();
    }
    let cells: Vec<String> = figs.iter().map(|&fig| unit(f[fig as usize])).collect();
    cells.join(" / ")
}

/// A row: its label and its cell for a measured column.
type Row = (String, fn(&Column, &Figures) -> String);

/// The table's rows.
fn rows(ops: usize) -> Vec<Row> {
    let us = PAUSE.as_micros();
    vec![
        (
            format!("{} operations: time (thread CPU)", count(ops as f64)),
            |_, f| time(f[Fig::Cpu as usize]),
        ),
        ("operations per second".into(), |_, f| {
            format!("{:.2} M", f[Fig::Ops as usize] / f[Fig::Cpu as usize] * 1e3)
        }),
        (format!("pauses: operations over {us} µs"), |_, f| {
            count(f[Fig::Pauses as usize])
        }),
        ("pause median".into(), |_, f| {
            time(f[Fig::PauseMedian as usize])
        }),
        ("pause 99th percentile".into(), |_, f| {
            time(f[Fig::PauseP99 as usize])
        }),
        ("pause maximum".into(), |_, f| {
            time(f[Fig::PauseMax as usize])
        }),
        ("time in pauses".into(), |_, f| {
            format!(
                "{:.1}%",
                100.0 * f[Fig::PauseTotal as usize] / f[Fig::Cpu as usize]
            )
        }),
        (
            format!("operations over {us} µs on the wall clock only (preempted; not pauses)"),
            |_, f| count(f[Fig::Preempted as usize]),
        ),
        (
            "largest number of unreachable objects waiting".into(),
            |c, f| {
                let waiting = count(f[Fig::MaxWaiting as usize]);
                if !c.frees_cycles {
                    "n/a (no cycles)".into()
                } else if !c.auto_collects {
                    format!("{waiting} (no automatic collection)")
                } else {
                    waiting
                }
            },
        ),
        (
            "objects orphaned, all freed by the end (drop counter)".into(),
            |_, f| count(f[Fig::Orphaned as usize]),
        ),
        ("final explicit collection (thread CPU)".into(), |_, f| {
            time(f[Fig::FinalCollect as usize])
        }),
        (
            "own records: automatic collections (gen 0 / 1 / 2)".into(),
            |_, f| records(f, count, &[Fig::ExactGen0, Fig::ExactGen1, Fig::ExactGen2]),
        ),
        ("own records: median pause".into(), |_, f| {
            records(f, time, &[Fig::ExactMedian])
        }),
        ("own records: pause 99th percentile".into(), |_, f| {
            records(f, time, &[Fig::ExactP99])
        }),
        ("own records: pause maximum (generation)".into(), |_, f| {
            let max = records(f, time, &[Fig::ExactMax]);
            let generation = f[Fig::ExactMaxGeneration as usize];
            if generation.is_nan() {
                max
            } else {
                format!("{max} (gen {generation})")
            }
        }),
        (format!("own records: collections over {us} µs"), |_, f| {
            records(f, count, &[Fig::ExactOver])
        }),
        (
            "own records, thread CPU time: median / p99 / max".into(),
            |_, f| {
                let figs = [Fig::ExactCpuMedian, Fig::ExactCpuP99, Fig::ExactCpuMax];
                records(f, time, &figs)
            },
        ),
        ("pauses with a collection / without".into(), |_, f| {
            records(f, count, &[Fig::WithCollection, Fig::WithoutCollection])
        }),
        (
            "pause less own records' CPU time: median / min / max".into(),
            |_, f| {
                records(
                    f,
                    time,
                    &[Fig::ExcessMedian, Fig::ExcessMin, Fig::ExcessMax],
                )
            },
        ),
    ]
}

/// The Markdown table of `columns`.
fn render(live: usize, ops: usize, columns: &[Column]) -> String {
    let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
    let mut out = format!(
        "| {} live objects, default policies | {} |\n|---|{}\n",
        count((live / TREE_SIZE * TREE_SIZE) as f64),
        names.join(" | "),
        "---|".repeat(names.len())
    );
    for (label, cell) in rows(ops) {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match &c.figures {
                Ok(f) => cell(c, f),
                Err(why) => why.clone(),
            })
            .collect();
        out += &format!("| {label} | {} |\n", cells.join(" | "));
    }
    out
}

/// Runs every crate's child and prints the table.
pub fn run() {
    let started = Instant::now();
    let (live, ops) = settings();
    let timeout = Duration::from_secs(env_or("PEERS_TIMEOUT", 300));
    eprintln!(
        "peers pauses: {live} live objects, {ops} operations, pause > {PAUSE:?}, \
         children time out after {timeout:?}"
    );
    let mut columns = columns();
    for column in &mut columns {
        let child_started = Instant::now();
        let outcome = child::run(&["--pauses-child", column.name], timeout);
        column.figures = match outcome {
            Ended::Measured(readings) => {
                assert_eq!(readings.len(), FIGS, "{}: figures", column.name);
                let mut figures = [f64::NAN; FIGS];
                for (figure, reading) in figures.iter_mut().zip(readings) {
                    *figure = reading.wall;
                }
                Ok(figures)
            }
            Ended::Overflow => Err("overflow".into()),
            Ended::Timeout => Err(format!("timeout (> {} s)", timeout.as_secs())),
            Ended::Crash(why) => {
                eprintln!("{}: {why}", column.name);
                Err("crash".into())
            }
        };
        eprintln!(
            "{:>15} ({:5.1} s): {}",
            column.name,
            child_started.elapsed().as_secs_f64(),
            if column.figures.is_ok() {
                "measured"
            } else {
                "failed"
            }
        );
    }
    print!("{}", render(live, ops, &columns));
    eprintln!("peers pauses: done in {:.0?}", started.elapsed());
}

/// The smoke run of `cargo test --benches`: every crate's workload in this
/// process at a small size, and the table.
pub fn smoke() {
    let (live, ops) = (3_000, 20_000);
    let mut columns = columns();
    for_each_heap!(H => {
        let figures = measure::<H>(live, ops);
        let column = columns.iter_mut().find(|c| c.name == H::NAME).expect("column");
        column.figures = Ok(figures);
    });
    let gc_core = columns
        .iter()
        .find(|c| c.name == "gc-core")
        .expect("gc-core");
    let exact = gc_core.figures.as_ref().expect("measured")[Fig::Exact as usize];
    assert!(exact > 0.0, "gc-core collected automatically ({exact})");
    let table = render(live, ops, &columns);
    assert_eq!(table.lines().count(), 2 + rows(ops).len());
    eprintln!("pauses: smoke run of {} crates passed", columns.len());
}
