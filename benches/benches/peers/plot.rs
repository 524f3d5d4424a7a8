//! The plot runner: `cargo bench -p gc-benches --bench peers -- --plot
//! [OUTDIR]` (default `plots`, that is `benches/plots/`).
//!
//! For every crate that frees cycles, it times one collection against the
//! heap size (see [`Plot`]) and writes `OUTDIR/<plot>.csv` and
//! `OUTDIR/<plot>.svg` for each plot. Each point runs in a child process
//! (`--plot-child PLOT CRATE SIZE WARMUP ROUNDS`), as the table's cells do:
//! a fresh heap per point, and a stack overflow or crash costs that point
//! (marked in the CSV and on the plot) and the crate's larger sizes, not
//! the run. For each size the crates run in alternating order. A child
//! makes `PEERS_WARMUP` (default 1) untimed measurements, then
//! `PEERS_ROUNDS` (default 3) timed ones; a point is their median of the
//! thread's CPU time.
//!
//! Settings, by environment variable: `PEERS_PLOT_SIZES` (comma-separated
//! heap sizes of the full-collection plots; default
//! 10k,30k,100k,300k,1M,2M,4M), `PEERS_PLOT_OLD` (old-heap sizes of the
//! young-collection plot; default 0,10k,100k,1M,4M), `PEERS_ONLY`
//! (comma-separated plot ids), `PEERS_ROUNDS`, `PEERS_WARMUP` and
//! `PEERS_TIMEOUT` (seconds per child, default 300).

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::child::{self, Ended, env_or, median};
use crate::clock::{Stopwatch, Timing};
use crate::heap::{Heap, drops};
use crate::heaps::for_each_heap;
use crate::svg::{self, Chart, Marker, Series};
use crate::workloads::{cycles, live_cycles, ring};

/// Objects in the young batch of [`Plot::Young`]: 5,000 garbage 2-cycles.
pub const YOUNG_BATCH: usize = 10_000;

/// One plot: what each point times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plot {
    /// A full collection ([`Heap::collect`]) of `N / 2` garbage two-node
    /// cycles, created with automatic collection off (the table's "2-cycles,
    /// auto off: collect").
    Garbage,
    /// A full collection of a heap of `N` live objects (`N / 2` reachable
    /// two-node cycles, already collected once), with nothing to free.
    Live,
    /// A full collection of a garbage ring of `N` nodes: where a recursive
    /// walk overflows the stack.
    Ring,
    /// A young collection ([`Heap::collect_young`]) of [`YOUNG_BATCH`]
    /// objects of garbage two-node cycles, beside an old heap of `N` live
    /// objects (reachable two-node cycles, built with automatic collection
    /// off and promoted by one full collection).
    Young,
}

impl Plot {
    /// Every plot, in the order they run.
    pub const ALL: [Plot; 4] = [Plot::Garbage, Plot::Live, Plot::Ring, Plot::Young];

    /// The file name (without extension) and the id for `PEERS_ONLY`.
    pub fn id(self) -> &'static str {
        match self {
            Plot::Garbage => "full_garbage",
            Plot::Live => "full_live",
            Plot::Ring => "full_ring",
            Plot::Young => "young_vs_old",
        }
    }

    /// The plot named `id`.
    fn from_id(id: &str) -> Option<Plot> {
        Plot::ALL.into_iter().find(|p| p.id() == id)
    }

    /// The plot's title.
    fn title(self) -> String {
        match self {
            Plot::Garbage => "Full collection of N objects in garbage 2-cycles".into(),
            Plot::Live => "Full collection of N live objects (nothing to free)".into(),
            Plot::Ring => "Full collection of a garbage ring of N objects".into(),
            Plot::Young => format!(
                "Young collection of {} garbage objects beside N old ones",
                count(YOUNG_BATCH as f64)
            ),
        }
    }

    /// The x-axis label.
    fn x_label(self) -> &'static str {
        match self {
            Plot::Garbage => "N: objects freed (2-cycles, built with automatic collection off)",
            Plot::Live => "N: live objects (2-cycles, collected once before)",
            Plot::Ring => "N: objects in the ring",
            Plot::Young => {
                "N: live objects in the old heap (2-cycles, promoted by a full collection)"
            }
        }
    }

    /// What the chart's notes say about this plot.
    fn note(self) -> Option<&'static str> {
        match self {
            Plot::Live => Some(
                "About 0.6 µs is the floor: reading the thread CPU clock twice. \
                 Wall-clock times are in the CSV.",
            ),
            Plot::Young => Some(
                "gc-core: collect_generation(0). The other crates have no generations: \
                 each runs its one kind of collection.",
            ),
            Plot::Garbage | Plot::Ring => None,
        }
    }

    /// The sizes of the points: the default ones (or `PEERS_PLOT_SIZES` /
    /// `PEERS_PLOT_OLD`), or with `full` false the smoke run's.
    fn sizes(self, full: bool) -> Vec<usize> {
        let (var, default, smoke): (_, &[usize], &[usize]) = match self {
            Plot::Young => (
                "PEERS_PLOT_OLD",
                &[0, 10_000, 100_000, 1_000_000, 4_000_000],
                &[0, 3_000],
            ),
            _ => (
                "PEERS_PLOT_SIZES",
                &[
                    10_000, 30_000, 100_000, 300_000, 1_000_000, 2_000_000, 4_000_000,
                ],
                &[1_000, 3_000],
            ),
        };
        if !full {
            return smoke.to_vec();
        }
        std::env::var(var)
            .ok()
            .map(|list| {
                list.split(',')
                    .map(|n| {
                        let n = n.trim().replace('_', "");
                        n.parse()
                            .unwrap_or_else(|_| panic!("{var}: {n:?} is not a number"))
                    })
                    .collect()
            })
            .unwrap_or_else(|| default.to_vec())
    }

    /// The objects one timed collection frees or examines at size `n`.
    fn objects(self, n: usize) -> usize {
        match self {
            Plot::Young => YOUNG_BATCH,
            _ => n,
        }
    }

    /// Measures one point in this process: `warmup` untimed collections,
    /// then `rounds` timed ones. Every collection's frees are checked.
    pub fn measure<H: Heap>(self, n: usize, warmup: usize, rounds: usize) -> Vec<Timing> {
        let total = warmup + rounds;
        let mut timings: Vec<Timing> = match self {
            Plot::Garbage => (0..total)
                .map(|_| cycles::<H>(n / 2, false, H::collect)[1])
                .collect(),
            Plot::Ring => (0..total).map(|_| ring::<H>(n)).collect(),
            Plot::Live | Plot::Young => {
                H::set_auto(false);
                drops::reset();
                let heap = live_cycles::<H>(n);
                H::collect();
                drops::expect::<H>(0, "the live heap's first collection");
                let timings = (0..total)
                    .map(|_| {
                        if self == Plot::Live {
                            collect_nothing::<H>()
                        } else {
                            cycles::<H>(YOUNG_BATCH / 2, false, H::collect_young)[1]
                        }
                    })
                    .collect();
                H::set_auto(false);
                drop(heap);
                H::collect();
                drops::expect::<H>(n / 2 * 2, "the live heap, dropped");
                H::set_auto(true);
                timings
            }
        };
        timings.split_off(warmup)
    }
}

/// Times one full collection that must free nothing.
fn collect_nothing<H: Heap>() -> Timing {
    let start = Stopwatch::start();
    H::collect();
    let elapsed = start.stop();
    drops::expect::<H>(0, "a collection of the live heap");
    elapsed
}

/// `n` as the plots write sizes: `0`, `300`, `10k`, `2M`, `2.5M`.
fn count(n: f64) -> String {
    if n >= 1e6 {
        format!("{}M", n / 1e6)
    } else if n >= 1e3 {
        format!("{}k", n / 1e3)
    } else {
        format!("{n}")
    }
}

/// A duration in milliseconds as a tick label (a power of ten).
fn duration(ms: f64) -> String {
    let (value, unit) = if ms >= 1e3 {
        (ms / 1e3, "s")
    } else if ms >= 1.0 {
        (ms, "ms")
    } else if ms >= 1e-3 {
        (ms * 1e3, "µs")
    } else {
        (ms * 1e6, "ns")
    };
    format!("{} {unit}", (value * 1e3).round() / 1e3)
}

/// The crates that have a collector, in the table's order.
fn collector_names() -> Vec<&'static str> {
    let mut names = Vec::new();
    for_each_heap!(H => if H::FREES_CYCLES { names.push(H::NAME) });
    names
}

/// Each crate's colour (Okabe and Ito's palette) and whether it is drawn
/// bold (gc-core).
fn style(name: &str) -> (&'static str, bool) {
    match name {
        "gcmodule" => ("#E69F00", false),
        "rust-cc" => ("#56B4E9", false),
        "dumpster" => ("#009E73", false),
        "gc" => ("#CC79A7", false),
        "bacon_rajan_cc" => ("#D55E00", false),
        _ => ("#0072B2", true),
    }
}

/// The legend text for the crate `name` in `plot`: which call the young
/// plot times.
fn legend(plot: Plot, name: &str) -> String {
    let mut text = name.to_string();
    for_each_heap!(H => if H::NAME == name && plot == Plot::Young && H::GENERATIONAL {
        text.push_str(" (gen 0)");
    });
    text
}

/// The child: measures one point and reports each timed round.
pub fn child(args: &[String]) {
    let [plot, name, n, warmup, rounds] = args else {
        panic!("--plot-child PLOT CRATE SIZE WARMUP ROUNDS, not {args:?}");
    };
    let plot = Plot::from_id(plot).unwrap_or_else(|| panic!("no plot {plot}"));
    let number = |s: &str| -> usize { s.parse().expect("a number") };
    let (n, warmup, rounds) = (number(n), number(warmup), number(rounds));
    let mut found = false;
    for_each_heap!(H => if H::NAME == name {
        found = true;
        for (round, timing) in plot.measure::<H>(n, warmup, rounds).into_iter().enumerate() {
            child::report(round, timing);
        }
    });
    assert!(found, "no crate {name}");
}

/// One point's result.
#[derive(Clone, Debug)]
enum Point {
    /// Milliseconds of each timed round: thread CPU time, wall-clock time.
    Measured(Vec<f64>, Vec<f64>),
    /// No figure, and why.
    Missing(String),
}

impl Point {
    /// The point a child's end gives.
    fn from(ended: Ended, timeout: Duration) -> Point {
        let ms = |ns: f64| ns / 1e6;
        match ended {
            Ended::Measured(readings) => Point::Measured(
                readings.iter().map(|r| ms(r.cpu)).collect(),
                readings.iter().map(|r| ms(r.wall)).collect(),
            ),
            Ended::Overflow => Point::Missing("stack overflow".into()),
            Ended::Timeout => Point::Missing(format!("timeout after {} s", timeout.as_secs())),
            Ended::Crash(_) => Point::Missing("crash".into()),
        }
    }

    /// The median CPU time, or why there is none.
    fn summary(&self) -> String {
        match self {
            Point::Measured(cpu, _) => format!("{:.4} ms", median(&mut cpu.clone())),
            Point::Missing(why) => why.clone(),
        }
    }
}

/// One plot's results: per crate (in `names` order), one point per size.
struct Results {
    /// The plot.
    plot: Plot,
    /// The sizes.
    sizes: Vec<usize>,
    /// The crates.
    names: Vec<&'static str>,
    /// `points[crate][size]`.
    points: Vec<Vec<Point>>,
}

impl Results {
    /// The CSV file: one row per crate and size.
    fn csv(&self) -> String {
        let mut out = String::from(
            "crate,objects,status,cpu_ms_median,cpu_ms_min,cpu_ms_max,wall_ms_median,\
             cpu_ns_per_object\n",
        );
        for (name, points) in self.names.iter().zip(&self.points) {
            for (&n, point) in self.sizes.iter().zip(points) {
                let _ = match point {
                    Point::Measured(cpu, wall) => {
                        let (mut cpu, mut wall) = (cpu.clone(), wall.clone());
                        let cpu_median = median(&mut cpu);
                        writeln!(
                            out,
                            "{name},{n},ok,{cpu_median:.6},{:.6},{:.6},{:.6},{:.2}",
                            cpu[0],
                            cpu[cpu.len() - 1],
                            median(&mut wall),
                            cpu_median * 1e6 / self.plot.objects(n) as f64
                        )
                    }
                    Point::Missing(why) => writeln!(out, "{name},{n},{why},,,,,"),
                };
            }
        }
        out
    }

    /// The chart.
    fn chart(&self, rounds: usize, warmup: usize) -> Chart {
        let mut notes = vec![format!(
            "Each point: the median thread CPU time of {rounds} timed collection(s) in a \
             child process, after {warmup} untimed one(s)."
        )];
        notes.extend(self.plot.note().map(String::from));
        let series = self
            .names
            .iter()
            .zip(&self.points)
            .enumerate()
            .map(|(k, (&name, points))| {
                let (colour, bold) = style(name);
                let mut missing: Vec<String> = Vec::new();
                let points = self
                    .sizes
                    .iter()
                    .zip(points)
                    .map(|(&n, point)| match point {
                        Point::Measured(cpu, _) => (n as f64, Some(median(&mut cpu.clone()))),
                        Point::Missing(why) => {
                            missing.push(format!("{why} at {}", count(n as f64)));
                            (n as f64, None)
                        }
                    })
                    .collect();
                // After a failure the larger sizes are not run: the first
                // missing point says why.
                if let Some(first) = missing.first() {
                    let rest = if missing.len() > 1 {
                        ", larger sizes not run"
                    } else {
                        ""
                    };
                    notes.push(format!("No figure for {name}: {first}{rest}."));
                }
                Series {
                    name: legend(self.plot, name),
                    colour,
                    marker: Marker::ALL[k % Marker::ALL.len()],
                    bold,
                    points,
                }
            })
            .collect();
        Chart {
            title: self.plot.title(),
            x_label: self.plot.x_label().into(),
            y_label: "time of the collection (thread CPU, median)".into(),
            x_tick: count,
            y_tick: duration,
            series,
            notes,
        }
    }
}

/// Runs every plot and writes its CSV and SVG into `outdir`.
pub fn run(outdir: &Path) {
    let started = Instant::now();
    let rounds = env_or("PEERS_ROUNDS", 3).max(1) as usize;
    let warmup = env_or("PEERS_WARMUP", 1) as usize;
    let timeout = Duration::from_secs(env_or("PEERS_TIMEOUT", 300));
    std::fs::create_dir_all(outdir).expect("create the output directory");
    let names = collector_names();
    eprintln!("peers plots: {rounds} rounds after {warmup} warm-up, into {outdir:?}");
    for plot in Plot::ALL {
        if !child::selected(plot.id()) {
            continue;
        }
        let sizes = plot.sizes(true);
        let mut points: Vec<Vec<Point>> = vec![Vec::new(); names.len()];
        // Why a crate has no figure at a smaller size: larger ones are not run.
        let mut failed: Vec<Option<String>> = vec![None; names.len()];
        for (i, &n) in sizes.iter().enumerate() {
            for k in 0..names.len() {
                let c = (k + i) % names.len();
                let name = names[c];
                let point = if let Some(why) = &failed[c] {
                    Point::Missing(format!("not run ({why})"))
                } else {
                    let child_started = Instant::now();
                    let (n_arg, warmup_arg, rounds_arg) =
                        (n.to_string(), warmup.to_string(), rounds.to_string());
                    let args = [
                        "--plot-child",
                        plot.id(),
                        name,
                        &n_arg,
                        &warmup_arg,
                        &rounds_arg,
                    ];
                    let ended = child::run(&args, timeout);
                    if let Ended::Crash(how) = &ended {
                        eprintln!("{} {n} {name}: {how}", plot.id());
                    }
                    let point = Point::from(ended, timeout);
                    eprintln!(
                        "{:>13} {:>5} {name:>15} ({:5.1} s): {}",
                        plot.id(),
                        count(n as f64),
                        child_started.elapsed().as_secs_f64(),
                        point.summary()
                    );
                    if let Point::Missing(why) = &point {
                        failed[c] = Some(format!("{why} at {}", count(n as f64)));
                    }
                    point
                };
                points[c].push(point);
            }
        }
        let results = Results {
            plot,
            sizes,
            names: names.clone(),
            points,
        };
        let write = |ext: &str, text: String| {
            let path = outdir.join(format!("{}.{ext}", plot.id()));
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {path:?}: {e}"));
        };
        write("csv", results.csv());
        write("svg", svg::render(&results.chart(rounds, warmup)));
    }
    eprintln!("peers plots: done in {:.0?}", started.elapsed());
}

/// The smoke run of `cargo test --benches`: every plot's measurement, in
/// this process at two small sizes, one round each, and its chart.
pub fn smoke() {
    let names = collector_names();
    for plot in Plot::ALL {
        let sizes = plot.sizes(false);
        let mut points = Vec::new();
        for_each_heap!(H => if H::FREES_CYCLES {
            points.push(sizes.iter().map(|&n| {
                let timings = plot.measure::<H>(n, 0, 1);
                let ms = |d: Duration| vec![d.as_secs_f64() * 1e3];
                Point::Measured(ms(timings[0].cpu), ms(timings[0].wall))
            }).collect());
        });
        let results = Results {
            plot,
            sizes,
            names: names.clone(),
            points,
        };
        let svg = svg::render(&results.chart(1, 0));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<polyline").count(), names.len());
        assert_eq!(results.csv().lines().count(), 1 + 2 * names.len());
    }
    eprintln!(
        "plots: smoke run of {} plots for {} crates passed",
        Plot::ALL.len(),
        names.len()
    );
}
