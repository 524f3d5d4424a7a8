//! The child processes of the table, plot and pause runners: this binary
//! again, with `--table-child ...`, `--plot-child ...` or `--pauses-child ...`. A child
//! prints one `PEERS_RESULT index wall cpu` line per timing (nanoseconds);
//! the parent waits for it with a timeout and tells a stack overflow from
//! other failures, so that a crash costs one measurement rather than the run.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::clock::Timing;

/// glibc's malloc settings for the children: never give freed memory back
/// to the kernel (trim) and a fixed mmap threshold, so that the timed run
/// reuses the memory the warm-up run freed instead of page-faulting it in
/// again (which costs more than some of the workloads, and by amounts that
/// depend on the order of frees). Other allocators ignore it.
pub const MALLOC_TUNABLES: &str =
    "glibc.malloc.trim_threshold=1099511627776:glibc.malloc.mmap_threshold=33554432";

/// An environment variable as a number, or `default`.
pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Whether `PEERS_ONLY` (comma-separated ids), where set, names `id`.
pub fn selected(id: &str) -> bool {
    std::env::var("PEERS_ONLY")
        .ok()
        .is_none_or(|only| only.split(',').any(|o| o == id))
}

/// The median of `values` (not empty).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// In the child: reports timing number `index` to the parent.
pub fn report(index: usize, timing: Timing) {
    println!(
        "PEERS_RESULT {index} {} {}",
        timing.wall.as_nanos(),
        timing.cpu.as_nanos()
    );
}

/// In the child: reports figure number `index`, a count or a time that is
/// not a [`Timing`] (both fields of its [`Reading`] carry it; `NaN` for
/// "none").
pub fn report_value(index: usize, value: f64) {
    println!("PEERS_RESULT {index} {value} {value}");
}

/// One timing a child reported, in nanoseconds.
#[derive(Clone, Copy, Debug)]
pub struct Reading {
    /// Wall-clock.
    pub wall: f64,
    /// Thread CPU time.
    pub cpu: f64,
}

/// How a child ended.
#[derive(Clone, Debug)]
pub enum Ended {
    /// It exited successfully: its readings, in `index` order.
    Measured(Vec<Reading>),
    /// It overflowed its stack.
    Overflow,
    /// Killed after the timeout.
    Timeout,
    /// Any other failure, with the last line of its stderr.
    Crash(String),
}

/// Runs this binary with `args` and waits for it, at most `timeout`.
pub fn run(args: &[&str], timeout: Duration) -> Ended {
    let exe = std::env::current_exe().expect("current_exe");
    let mut command = Command::new(exe);
    if std::env::var_os("GLIBC_TUNABLES").is_none() {
        command.env("GLIBC_TUNABLES", MALLOC_TUNABLES);
    }
    let mut child = command
        .args(args)
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
        None => Ended::Timeout,
        Some(status) if status.success() => {
            let mut readings: Vec<(usize, Reading)> = out
                .lines()
                .filter_map(|line| {
                    let mut words = line.strip_prefix("PEERS_RESULT ")?.split(' ');
                    let index = words.next()?.parse().ok()?;
                    let wall = words.next()?.parse().ok()?;
                    let cpu = words.next()?.parse().ok()?;
                    Some((index, Reading { wall, cpu }))
                })
                .collect();
            readings.sort_by_key(|&(index, _)| index);
            Ended::Measured(readings.into_iter().map(|(_, r)| r).collect())
        }
        Some(_) if err.contains("has overflowed its stack") => Ended::Overflow,
        Some(status) => {
            let last = err.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
            Ended::Crash(format!("{status}: {last}"))
        }
    }
}
